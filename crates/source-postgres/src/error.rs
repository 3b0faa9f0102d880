//! What can go wrong reading PostgreSQL, and whether retrying can help.

use migrate_core::{ErrorClass, Retry};

/// An error of the PostgreSQL source. Messages name the object concerned (table, column, row key)
/// and what to do; they never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The connection URL can't be parsed. Definite.
    #[error("invalid PostgreSQL URL: {message}")]
    InvalidUrl { message: String },
    /// The server can't be reached or refused the login. Transient, except for authentication
    /// and authorization failures.
    #[error(
        "cannot connect to PostgreSQL at {endpoint}: {source}{}",
        advice(source)
    )]
    Connect {
        /// `host:port/database` as user@: never the password.
        endpoint: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// A statement failed; `context` says what was being done (`reading chunk 3 of public.t`).
    #[error("{context}: {}", migrate_pgconn::describe(source))]
    Query {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// A value has no exact representation in the batch convention (a timestamp after 294247 AD,
    /// a NaN in a `numeric(p,s)` column, text that is not UTF-8). Definite: the data must change.
    #[error("{table}.{column}, row {row}: {reason}; {action}")]
    Unrepresentable {
        table: String,
        column: String,
        /// The row's key (`id=42`) or its position in the chunk when the table has no key.
        row: String,
        reason: String,
        action: String,
    },
    /// A column type this source can't extract exactly. Definite.
    #[error("{table}.{column}: {message}")]
    Unsupported {
        table: String,
        column: String,
        message: String,
    },
    /// The replication session (change capture) failed; `context` says what it was doing.
    /// Transient when the connection broke or the server restarted; definite when the server
    /// refused (no slot, no privilege, wal_level not logical).
    #[error("{context}: {source}")]
    Replication {
        context: String,
        #[source]
        source: pgwire_replication::PgWireError,
    },
    /// Change capture can't go on for a reason the user must fix (a slot that is gone, a table
    /// without a key, a column type not captured). Definite.
    #[error("{message}; {action}")]
    Capture { message: String, action: String },
    /// The server sent something that does not follow the protocol (a truncated COPY stream).
    #[error("{context}: malformed data from the server: {message}")]
    Protocol { context: String, message: String },
}

impl SourceError {
    pub(crate) fn replication(
        context: impl Into<String>,
    ) -> impl FnOnce(pgwire_replication::PgWireError) -> Self {
        let context = context.into();
        move |source| SourceError::Replication { context, source }
    }

    pub(crate) fn query(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Self {
        let context = context.into();
        move |source| SourceError::Query { context, source }
    }

    /// The SQLSTATE of a failed statement or login, when the server sent one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            SourceError::Connect { source, .. } | SourceError::Query { source, .. } => {
                source.code().map(|code| code.code())
            }
            _ => None,
        }
    }
}

/// SQLSTATE classes and codes after which the same statement may succeed.
fn transient_sqlstate(code: &str) -> bool {
    matches!(
        code,
        "40001" // serialization_failure
            | "40P01" // deadlock_detected
            | "55P03" // lock_not_available
            | "57P01" // admin_shutdown
            | "57P02" // crash_shutdown
            | "57P03" // cannot_connect_now
            | "57014" // query_canceled (statement_timeout)
    ) || code.starts_with("08") // connection exceptions
        || code.starts_with("53") // insufficient resources
}

/// `; ` and what to do, for a connection the URL or the server must fix (a failed TLS handshake, a
/// server of another kind at that port).
fn advice(error: &tokio_postgres::Error) -> String {
    migrate_pgconn::connect_advice(error).map_or(String::new(), |advice| format!("; {advice}"))
}

fn classify(error: &tokio_postgres::Error) -> Retry {
    match error.code() {
        Some(code) if transient_sqlstate(code.code()) => Retry::Transient,
        Some(_) => Retry::Definite,
        // A certificate that is not trusted (or not for this host) stays so.
        None if migrate_pgconn::is_tls_failure(error) => Retry::Definite,
        // No SQLSTATE: I/O error, closed connection, timeout.
        None => Retry::Transient,
    }
}

impl ErrorClass for SourceError {
    fn retry(&self) -> Retry {
        match self {
            SourceError::Connect { source, .. } | SourceError::Query { source, .. } => {
                classify(source)
            }
            SourceError::Protocol { .. } => Retry::Transient,
            SourceError::Replication { source, .. } => match source {
                pgwire_replication::PgWireError::Io(_)
                | pgwire_replication::PgWireError::Task(_) => Retry::Transient,
                // A server that shuts down or is restarted ends the session with an error
                // (57P01 admin shutdown, 57P03 cannot connect now): worth another session.
                pgwire_replication::PgWireError::Server(message)
                    if message.contains("57P0") || message.contains("terminating connection") =>
                {
                    Retry::Transient
                }
                _ => Retry::Definite,
            },
            SourceError::Capture { .. } => Retry::Definite,
            SourceError::InvalidUrl { .. }
            | SourceError::Unrepresentable { .. }
            | SourceError::Unsupported { .. } => Retry::Definite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_classified() {
        assert!(transient_sqlstate("40001"));
        assert!(transient_sqlstate("08006"));
        assert!(transient_sqlstate("53300"));
        assert!(!transient_sqlstate("42501"));
        assert!(!transient_sqlstate("28P01"));
        assert!(!transient_sqlstate("22008"));
    }

    #[test]
    fn unrepresentable_values_are_definite() {
        let error = SourceError::Unrepresentable {
            table: "public.t".into(),
            column: "d".into(),
            row: "id=1".into(),
            reason: "numeric value `NaN` has no decimal(10,2) value".into(),
            action: "replace it".into(),
        };
        assert_eq!(error.retry(), Retry::Definite);
        assert!(error.to_string().contains("public.t.d, row id=1"));
    }
}
