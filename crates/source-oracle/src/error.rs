//! What can go wrong reading Oracle, and whether retrying can help.

use migrate_core::{ErrorClass, Retry};

/// An error of the Oracle source. Messages name the object concerned (table, column, SCN) and
/// what to do; they never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// The connection URL can't be used. Definite.
    #[error("invalid Oracle URL: {message}; write oracle://user:password@host:port/service")]
    InvalidUrl { message: String },
    /// A position is not an Oracle SCN position. Definite.
    #[error("invalid Oracle position `{position}`: {message}; write scn:<number> (for example scn:4523312)")]
    InvalidPosition { position: String, message: String },
    /// The server or the client library failed; `context` says what was being done. Transient
    /// when the connection was lost or the server is restarting (see [`transient_code`]).
    #[error("{context}: {message}")]
    Database {
        context: String,
        message: String,
        /// The `ORA-` error number, when the server sent one.
        code: Option<i32>,
    },
    /// The catalog or LogMiner answered something this crate does not understand. Definite.
    #[error("{context}: {message}; report this as a bug in migrate, with the Oracle version")]
    Catalog { context: String, message: String },
    /// A redo statement LogMiner produced could not be read. Definite: the change can't be
    /// applied exactly, so the stream stops rather than skip it.
    #[error("table {table} at SCN {scn}: cannot read the redo statement ({message}): {sql}")]
    Redo {
        table: String,
        scn: u64,
        message: String,
        /// The statement, cut to a readable length.
        sql: String,
    },
    /// A change LogMiner can't give with its values (LOB writes, unsupported column types,
    /// missing supplemental logging). Definite.
    #[error("table {table} at SCN {scn}: {message}; {action}")]
    Unsupported {
        table: String,
        scn: u64,
        message: String,
        action: String,
    },
    /// A value has no exact representation in the batch convention. Definite.
    #[error("{table}.{column} at SCN {scn}: {reason}; {action}")]
    Unrepresentable {
        table: String,
        column: String,
        scn: u64,
        reason: String,
        action: String,
    },
    /// The change stream needs redo that is no longer on disk (archived logs deleted). Definite:
    /// the changes in between are lost to this stream.
    #[error("no redo log holds SCN {scn} any more (the oldest available starts at {oldest}); keep archived logs longer (RMAN retention), then run a new full load")]
    RedoGone { scn: u64, oldest: u64 },
}

impl OracleError {
    /// A `Database` error from the server's message, with its `ORA-` number when the message
    /// starts with one.
    pub fn database(context: impl Into<String>, message: impl Into<String>) -> OracleError {
        let message = message.into();
        OracleError::Database {
            context: context.into(),
            code: ora_code(&message),
            message,
        }
    }
}

/// The number of the first `ORA-nnnnn` in a message.
pub fn ora_code(message: &str) -> Option<i32> {
    let start = message.find("ORA-")? + 4;
    let digits: String = message[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// Server errors after which the same statement may succeed: lost connections, instance
/// shutdown and start-up, resource limits, deadlocks.
pub fn transient_code(code: i32) -> bool {
    matches!(
        code,
        18 // maximum number of sessions exceeded
            | 20 // maximum number of processes exceeded
            | 28 // session killed
            | 60 // deadlock
            | 1012 // not logged on
            | 1033 // initialization or shutdown in progress
            | 1034 // ORACLE not available
            | 1089 // immediate shutdown in progress
            | 1090 // shutdown in progress
            // LogMiner: a log file of the window was switched out between choosing the files and
            // starting; choosing again finds its archived copy (or reports the redo gone).
            | 1291
            | 3113 // end-of-file on communication channel
            | 3114 // not connected
            | 3135 // connection lost contact
            | 12514 // listener does not know the service (yet)
            | 12528 // listener: all handlers blocked
            | 12537 // TNS connection closed
            | 12541 // no listener
            | 12543 // destination host unreachable
            | 12170 // connect timeout
            | 25408 // cannot safely replay call
    )
}

impl ErrorClass for OracleError {
    fn retry(&self) -> Retry {
        match self {
            OracleError::Database { code, message, .. }
                if code.is_some_and(transient_code)
                    // ODPI-C reports a lost connection without an ORA- number.
                    || message.contains("DPI-1080")
                    || message.contains("DPI-1010") =>
            {
                Retry::Transient
            }
            _ => Retry::Definite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ora_numbers_decide_transient_or_definite() {
        let lost =
            OracleError::database("mining", "ORA-03113: end-of-file on communication channel");
        assert_eq!(lost.retry(), Retry::Transient);
        let privilege =
            OracleError::database("starting LogMiner", "ORA-01031: insufficient privileges");
        assert_eq!(privilege.retry(), Retry::Definite);
        assert_eq!(ora_code("ORA-01291: missing logfile"), Some(1291));
        assert_eq!(
            ora_code("DPI-1047: cannot locate a 64-bit Oracle Client library"),
            None
        );
        let redo = OracleError::Unrepresentable {
            table: "APP.T".into(),
            column: "TS".into(),
            scn: 7,
            reason: "nanoseconds".into(),
            action: "change the column".into(),
        };
        assert_eq!(redo.retry(), Retry::Definite);
        let closed = OracleError::Database {
            context: "mining".into(),
            message: "DPI-1080: connection was closed by ORA-3113".into(),
            code: None,
        };
        assert_eq!(closed.retry(), Retry::Transient);
        let no_client = OracleError::database(
            "connecting",
            "DPI-1047: Cannot locate a 64-bit Oracle Client library",
        );
        assert_eq!(no_client.retry(), Retry::Definite);
        assert!(redo.to_string().starts_with("APP.T.TS at SCN 7:"));
    }
}
