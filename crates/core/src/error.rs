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
