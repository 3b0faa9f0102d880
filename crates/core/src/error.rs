/// Whether retrying an operation that failed can help.
///
/// Every error type in the workspace answers this, so that the pipeline can retry transient
/// failures (a dropped connection, a restarting server) and stop with a clear report on definite
/// ones (a type the target can't hold, a missing privilege).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The same operation may succeed later: retry with backoff.
    Transient,
    /// Retrying cannot help: stop and report.
    Definite,
}

/// Implemented by every error enum of the workspace.
pub trait ErrorClass {
    fn retry(&self) -> Retry;
}

/// An error with its causes, `outer: cause: cause…` (HTTP and database clients often keep the
/// useful part, "connection refused" or the server's message, in a source).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
