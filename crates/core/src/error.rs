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

/// Whether an error of type `T` is `e` or one of its causes. The error an `io::Error` wraps
/// counts too (its own `source()` skips it): TLS layers report handshake failures that way.
pub fn caused_by<T: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(error) = cause {
        let wrapped = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref);
        if error.is::<T>() || wrapped.is_some_and(|inner| inner.is::<T>()) {
            return true;
        }
        cause = error.source();
    }
    false
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
