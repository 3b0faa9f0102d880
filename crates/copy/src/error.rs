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

    /// The destination refused or failed an operation.
    #[error("{op} {path}: {source}")]
    Store {
        op: &'static str,
        path: String,
        #[source]
        source: object_store::Error,
    },

    /// A local file operation failed (destination directory, journal, manifest, report).
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// What the destination stored differs from what was read: never accepted.
    #[error("{path}: checksum mismatch: read {expected}, destination has {actual}")]
    Mismatch {
        path: String,
        expected: String,
        actual: String,
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

    /// The file changed while it was being copied (size differs from the listing).
    #[error("{path}: changed during the copy (listed {listed} bytes, now {now})")]
    Changed { path: String, listed: u64, now: u64 },
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
        source: object_store::Error,
    ) -> Self {
        CopyError::Store {
            op,
            path: path.to_string(),
            source,
        }
    }
}

impl ErrorClass for CopyError {
    fn retry(&self) -> Retry {
        match self {
            // A mismatch may be a network or server fault: sending again can fix it.
            CopyError::Mismatch { .. } => Retry::Transient,
            // A bad read (or a replica that changed under us): reading again can fix it.
            CopyError::HdfsChecksum { .. } => Retry::Transient,
            CopyError::Read { transient, .. } if *transient => Retry::Transient,
            CopyError::Store { source, .. } => match source {
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
