//! What can go wrong reading MySQL or MariaDB, and whether retrying can help.

use migrate_core::{ErrorClass, Retry};

/// An error of the MySQL/MariaDB source. Messages name the object concerned (table, column, row
/// key) and what to do; they never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The connection URL can't be used. Definite.
    #[error("invalid MySQL URL: {message}; {action}")]
    InvalidUrl { message: String, action: String },
    /// The server can't be reached or refused the login. Transient, except for authentication
    /// and authorization failures.
    #[error(
        "cannot connect to MySQL at {endpoint}: {}{}",
        describe(source),
        advice(source)
    )]
    Connect {
        /// `user@host:port/database`: never the password.
        endpoint: String,
        #[source]
        source: mysql_async::Error,
    },
    /// A statement failed; `context` says what was being done (`reading chunk 3 of shop.orders`).
    #[error("{context}: {}", describe(source))]
    Query {
        context: String,
        #[source]
        source: mysql_async::Error,
    },
    /// The server's catalog answered something this crate does not understand (a column of an
    /// unexpected type in `information_schema`, a missing status row). Definite.
    #[error("{context}: {message}; report this as a bug in migrate, with the server version")]
    Catalog { context: String, message: String },
    /// A value has no exact representation in the batch convention (a zero date, a TIME outside
    /// a day, text that is not UTF-8). Definite: the data or the mapping must change.
    #[error("{table}.{column}, row {row}: {reason}; {action}")]
    Unrepresentable {
        table: String,
        column: String,
        /// The row's key (`id=42`) or its position in the chunk when the table has no key.
        row: String,
        reason: String,
        action: String,
    },
    /// A column, type or chunk this source can't read as asked. Definite.
    #[error("{table}.{column}: {message}")]
    Unsupported {
        table: String,
        column: String,
        message: String,
    },
    /// The server reported warnings while producing a chunk's values (a `Cast` that truncated,
    /// a character that could not be converted): some value is not what the source holds.
    /// Definite.
    #[error("reading chunk {chunk} of {table}: the server reported {count} warning(s) producing the values: {messages}; fix the data or the column's cast/expression")]
    Warnings {
        table: String,
        chunk: u32,
        count: u16,
        /// The first warnings, as `SHOW WARNINGS` gives them.
        messages: String,
    },
    /// Every connection of the snapshot was lost, so no read can see the snapshot's view any
    /// more. Definite for this snapshot: open a new one (and reload what it covers).
    #[error("the snapshot on {endpoint} has no usable connection left ({message}); start the load again from a new snapshot")]
    SnapshotLost { endpoint: String, message: String },
    /// A reader task ended without finishing its chunk (it panicked: a bug, or a column type the
    /// driver can't decode). Definite: the same read would stop again.
    #[error("reading chunk {chunk} of {table}: the reader stopped before the end of the chunk; report this as a bug in migrate, with the table's definition")]
    ReaderStopped { table: String, chunk: u32 },
    /// A change-stream position that is not `file:pos[;gtid=...]`. Definite.
    #[error("invalid binlog position `{position}`: {message}; write it as binlog.000003:4567, optionally followed by ;gtid=0-1-42")]
    InvalidPosition { position: String, message: String },
    /// Change capture can't go on from here: a server setting it can't work with (statement or
    /// mixed logging, a partial row image, compressed binlog events), a position the server no
    /// longer has, an event it can't decode. `at` is the server and binlog position. Definite:
    /// `action` says what to change.
    #[error("change capture on {at}: {message}; {action}")]
    ChangeCapture {
        at: String,
        message: String,
        action: String,
    },
    /// Reading the binlog failed (`at`: the server and binlog position). Transient when the
    /// connection broke (reopen the stream from the last committed position).
    #[error("reading the binlog on {at}: {}", describe(source))]
    Binlog {
        at: String,
        #[source]
        source: mysql_async::Error,
    },
}

impl SourceError {
    pub(crate) fn query(context: impl Into<String>) -> impl FnOnce(mysql_async::Error) -> Self {
        let context = context.into();
        move |source| SourceError::Query { context, source }
    }

    /// The server's error code of a failed statement or login (`1146`: no such table).
    pub fn server_code(&self) -> Option<u16> {
        match self {
            SourceError::Connect { source, .. } | SourceError::Query { source, .. } => match source
            {
                mysql_async::Error::Server(e) => Some(e.code),
                _ => None,
            },
            _ => None,
        }
    }
}

/// The server's message with its code and SQLSTATE, or the driver's text.
fn describe(error: &mysql_async::Error) -> String {
    match error {
        mysql_async::Error::Server(e) => {
            format!("{} (error {}, SQLSTATE {})", e.message, e.code, e.state)
        }
        other => other.to_string(),
    }
}

/// Server error codes after which the same statement may succeed.
fn transient_code(code: u16) -> bool {
    matches!(
        code,
        1040 // too many connections
            | 1053 // server shutdown in progress
            | 1077 // normal shutdown
            | 1152 // aborted connection
            | 1158
            ..=1161 // network read/write errors and timeouts
            | 1203 // user has too many connections
            | 1205 // lock wait timeout
            | 1213 // deadlock
            | 1317 // query interrupted
            | 1969 // MariaDB max_statement_time exceeded
            | 3024 // MySQL max_execution_time exceeded
    )
}

/// `; ` and what to do, for a connection the URL or the server must fix (a failed TLS handshake, a
/// server of another kind at that port).
fn advice(error: &mysql_async::Error) -> String {
    migrate_mysqlconn::connect_advice(error).map_or(String::new(), |advice| format!("; {advice}"))
}

fn classify(error: &mysql_async::Error) -> Retry {
    match error {
        mysql_async::Error::Server(e) if transient_code(e.code) => Retry::Transient,
        mysql_async::Error::Server(_) => Retry::Definite,
        // The URL was accepted by this crate, so the driver's objections are definite.
        mysql_async::Error::Url(_) => Retry::Definite,
        // A certificate that is not trusted (or not for this host) stays so.
        error if migrate_mysqlconn::is_tls_failure(error) => Retry::Definite,
        // I/O: the network or the server went away. Driver errors after a lost connection
        // (`ConnectionClosed`, unexpected packets) are of the same kind.
        mysql_async::Error::Io(_)
        | mysql_async::Error::Driver(_)
        | mysql_async::Error::Other(_) => Retry::Transient,
    }
}

impl ErrorClass for SourceError {
    fn retry(&self) -> Retry {
        match self {
            SourceError::Connect { source, .. }
            | SourceError::Query { source, .. }
            | SourceError::Binlog { source, .. } => classify(source),
            SourceError::InvalidUrl { .. }
            | SourceError::Catalog { .. }
            | SourceError::Unrepresentable { .. }
            | SourceError::Unsupported { .. }
            | SourceError::Warnings { .. }
            | SourceError::SnapshotLost { .. }
            | SourceError::ReaderStopped { .. }
            | SourceError::InvalidPosition { .. }
            | SourceError::ChangeCapture { .. } => Retry::Definite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_codes_are_classified() {
        assert!(transient_code(1213));
        assert!(transient_code(1160));
        assert!(!transient_code(1045)); // access denied
        assert!(!transient_code(1146)); // no such table
        assert!(!transient_code(1064)); // syntax
    }

    #[test]
    fn unrepresentable_values_are_definite() {
        let error = SourceError::Unrepresentable {
            table: "shop.t".into(),
            column: "d".into(),
            row: "id=1".into(),
            reason: "zero date".into(),
            action: "replace it".into(),
        };
        assert_eq!(error.retry(), Retry::Definite);
        assert!(error.to_string().contains("shop.t.d, row id=1"));
    }
}
