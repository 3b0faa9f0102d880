//! [`CopyError`]: what failed (which URL, file or object) and whether retrying can help.

use migrate_core::{ErrorClass, Retry};

/// Everything that can go wrong in a copy. Each variant names the location it is about.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// A source or destination URL that can't be used.
    #[error("invalid {what} {url:?}: {reason}")]
    InvalidUrl {
        what: &'static str,
        url: String,
        reason: String,
    },

    /// An option or input file that can't be used (bad regex, unreadable manifest, ...).
    #[error("{0}")]
    Invalid(String),

    /// Another run of the same copy holds the journal (two runs would send the same files and
    /// write the same journal). Definite: it lasts as long as that run.
    #[error("journal {journal} is in use by another run of this copy (it holds {lock}): wait for that run to end, or stop it, then run again")]
    JournalLocked { journal: String, lock: String },

    /// The source and the destination are the same directory or S3 prefix: the copy would read
    /// what it writes, and `--delete` could delete what it is about to read.
    #[error("source {source_url} and destination {destination} are the same place: there is nothing to copy, and --delete could delete what it reads; give another destination")]
    SamePlace {
        source_url: String,
        destination: String,
    },

    /// The source root does not exist.
    #[error("source {0} does not exist")]
    MissingSource(String),

    /// Reading or listing the source failed.
    #[error("reading {path}: {reason}")]
    Read {
        path: String,
        reason: String,
        transient: bool,
    },

    /// The destination refused or failed an operation. The message shortens an S3 error
    /// document (see [`migrate_stage::readable_store_error`]); `error` is not the `source()`, so
    /// that printing the chain doesn't repeat the raw text.
    #[error("{op} {path}: {}", migrate_stage::readable_store_error(error))]
    Store {
        op: &'static str,
        path: String,
        error: object_store::Error,
    },

    /// A local file operation failed (destination directory, journal, manifest, report).
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// The journal, its directory or its lock file can't be made or read where they go (by
    /// default `.migrate-copy` in the current directory); `advice` names the option that moves
    /// them. Definite.
    #[error("{op} {path}: {source}; {advice}")]
    Journal {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
        advice: String,
    },

    /// What the destination stored differs from what was read: never accepted.
    #[error("{path}: checksum mismatch: read {expected}, destination has {actual}")]
    Mismatch {
        path: String,
        expected: String,
        actual: String,
    },

    /// The S3 destination refused a write of the copy's checksum client (HTTP status and S3 error
    /// code). 5xx, throttling and timeouts are transient; other 4xx are definite.
    #[error("{op} {path}: HTTP {status} {code}: {message}")]
    S3 {
        op: &'static str,
        path: String,
        status: u16,
        code: String,
        message: String,
    },

    /// The S3 destination could not be reached (connection refused or reset, timeout).
    #[error("{op} {path}: {message}")]
    S3Unreachable {
        op: &'static str,
        path: String,
        message: String,
    },

    /// The S3 destination refused the bytes because they do not match the CRC32C computed while
    /// reading them (`BadDigest`): a verification failure, retried from a fresh read.
    #[error("{path}: the destination rejected the data: it does not match the CRC32C {expected} computed while reading ({message})")]
    ChecksumRejected {
        path: String,
        expected: String,
        message: String,
    },

    /// The bytes read from HDFS do not give HDFS's own file checksum: never sent.
    #[error(
        "{path}: HDFS file checksum mismatch: HDFS has {expected}, the bytes read give {actual}"
    )]
    HdfsChecksum {
        path: String,
        expected: String,
        actual: String,
    },

    /// An HDFS file open for write: what it holds is not final, and the NameNode does not know
    /// how much of its last block the writer has written.
    #[error("{path} is open for write (being written): {detail}; copy it again once the writer has closed it")]
    BeingWritten { path: String, detail: String },

    /// The file changed while it was being copied: its size or modification time (S3: its
    /// ETag) is not the listing's.
    #[error("{path}: changed during the copy (listed as {listed}, now {now}); copy it again once it is no longer written to")]
    Changed {
        path: String,
        listed: String,
        now: String,
    },
}

impl CopyError {
    pub(crate) fn io(
        op: &'static str,
        path: impl std::fmt::Display,
        source: std::io::Error,
    ) -> Self {
        CopyError::Io {
            op,
            path: path.to_string(),
            source,
        }
    }

    pub(crate) fn store(
        op: &'static str,
        path: impl std::fmt::Display,
        error: object_store::Error,
    ) -> Self {
        CopyError::Store {
            op,
            path: path.to_string(),
            error,
        }
    }
}

/// Runs blocking file I/O `f` on tokio's blocking pool. A task that panicked or was cancelled is
/// an error naming the `what` thread ("reader", "writer").
pub(crate) async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, CopyError> + Send + 'static,
) -> Result<T, CopyError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CopyError::Invalid(format!("{what} thread failed: {e}")))?
}

impl ErrorClass for CopyError {
    fn retry(&self) -> Retry {
        match self {
            // A mismatch may be a network or server fault: sending again can fix it.
            CopyError::Mismatch { .. } | CopyError::ChecksumRejected { .. } => Retry::Transient,
            CopyError::S3Unreachable { .. } => Retry::Transient,
            CopyError::S3 { status, code, .. } => {
                let transient_code = matches!(
                    code.as_str(),
                    "SlowDown"
                        | "RequestTimeout"
                        | "InternalError"
                        | "ServiceUnavailable"
                        | "ExpiredToken"
                );
                if *status >= 500 || *status == 408 || *status == 429 || transient_code {
                    Retry::Transient
                } else {
                    Retry::Definite
                }
            }
            // A bad read (or a replica that changed under us): reading again can fix it.
            CopyError::HdfsChecksum { .. } => Retry::Transient,
            CopyError::Read { transient, .. } if *transient => Retry::Transient,
            CopyError::Store { error, .. } => match error {
                object_store::Error::NotFound { .. }
                | object_store::Error::InvalidPath { .. }
                | object_store::Error::NotSupported { .. }
                | object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. }
                | object_store::Error::NotImplemented { .. } => Retry::Definite,
                _ => Retry::Transient,
            },
            CopyError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::Interrupted | std::io::ErrorKind::TimedOut => Retry::Transient,
                _ => Retry::Definite,
            },
            _ => Retry::Definite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_errors_say_whether_a_retry_helps() {
        let s3 = |status: u16, code: &str| CopyError::S3 {
            op: "put",
            path: "s3://b/k".into(),
            status,
            code: code.into(),
            message: String::new(),
        };
        assert_eq!(s3(503, "ServiceUnavailable").retry(), Retry::Transient);
        assert_eq!(s3(500, "").retry(), Retry::Transient);
        assert_eq!(s3(429, "").retry(), Retry::Transient);
        assert_eq!(s3(503, "SlowDown").retry(), Retry::Transient);
        assert_eq!(s3(400, "RequestTimeout").retry(), Retry::Transient);
        assert_eq!(s3(403, "AccessDenied").retry(), Retry::Definite);
        assert_eq!(s3(404, "NoSuchBucket").retry(), Retry::Definite);
        let rejected = CopyError::ChecksumRejected {
            path: "s3://b/k".into(),
            expected: "AAAAAA==".into(),
            message: "BadDigest".into(),
        };
        assert_eq!(rejected.retry(), Retry::Transient);
        assert!(rejected.to_string().contains("CRC32C AAAAAA=="));
    }
}
