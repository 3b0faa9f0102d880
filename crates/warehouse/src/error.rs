//! Warehouse errors: each says which table, column, chunk and row it is about, what to do, and
//! whether retrying can help ([`ErrorClass`]).

use migrate_core::{ErrorClass, Retry};

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    /// The server could not be reached or refused the login. `endpoint` never holds the password.
    #[error("cannot connect to the PostgreSQL warehouse at {endpoint}: {source}; {}", migrate_pgconn::connect_advice(.source).unwrap_or("check that the server runs and that the URL, user and password are right"))]
    Connect {
        endpoint: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The URL (or a certificate file it names) can't be used.
    #[error("the PostgreSQL warehouse URL: {0}")]
    Url(#[from] migrate_pgconn::SettingsError),
    /// A statement failed on the server; `doing` says what migrate was doing, for which table and chunk.
    #[error("{doing}: {}", migrate_pgconn::describe(.source))]
    Database {
        doing: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// A value that can't become a value of the target column (a NUL character in text, an
    /// out-of-range number, malformed decimal, interval or JSON text). Nothing of the chunk is loaded.
    #[error("table {table}, column {column}, chunk {chunk}, row {row} of the chunk: {message}; nothing of this chunk was loaded: correct the value in the source, then load the chunk again")]
    Value {
        table: String,
        column: String,
        chunk: u32,
        /// The row's position in the chunk, counting from 0.
        row: u64,
        message: String,
    },
    /// The server refused a row of the chunk: a value its column can't hold, or a constraint the
    /// row breaks (SQLSTATE class 22 or 23). Nothing of the chunk is loaded.
    #[error("table {table}, chunk {chunk}{}: {message}; nothing of this chunk was loaded: correct the row in the source, then load the chunk again", at(.row, .column))]
    Refused {
        table: String,
        chunk: u32,
        /// The row's position in the chunk, counting from 0, when the server tells it.
        row: Option<u64>,
        /// The column, as the chunk's batches name it, when the server tells it.
        column: Option<String>,
        /// The server's message and SQLSTATE.
        message: String,
    },
    /// The target table is missing, lacks a column, or has a column whose type the batches can't
    /// fill.
    #[error("table {table}: {message}")]
    Schema { table: String, message: String },
    /// The stream of a change batch failed; nothing of the batch was applied.
    #[error("table {table}, change batch {sequence}: reading the changes failed after {rows} rows: {message}; nothing of this batch was applied")]
    ChangeStream {
        table: String,
        sequence: u64,
        rows: u64,
        message: String,
        retry: Retry,
    },
    /// A change the target can't apply (a value the column can't hold, a malformed change row).
    /// Nothing of the batch was applied.
    #[error(
        "table {table}, change batch {sequence}: {message}; nothing of this batch was applied"
    )]
    Change {
        table: String,
        sequence: u64,
        message: String,
    },
    /// The stream of record batches failed; the chunk's transaction was rolled back.
    #[error("table {table}, chunk {chunk}: reading the batches failed after {rows} rows: {message}; nothing of this chunk was loaded")]
    Source {
        table: String,
        chunk: u32,
        rows: u64,
        message: String,
        retry: Retry,
    },
}

/// `, row N of the chunk, column c` for the parts known.
fn at(row: &Option<u64>, column: &Option<String>) -> String {
    let row = row
        .map(|r| format!(", row {r} of the chunk"))
        .unwrap_or_default();
    let column = column
        .as_ref()
        .map(|c| format!(", column {c}"))
        .unwrap_or_default();
    format!("{row}{column}")
}

/// A row of a chunk that a load failed on because of the row itself ([`WarehouseError::bad_row`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRow<'a> {
    /// Its position in the chunk, counting from 0, when known.
    pub row: Option<u64>,
    /// The column at fault (as the chunk's batches name it), when known.
    pub column: Option<&'a str>,
    /// What is wrong with it.
    pub message: &'a str,
}

impl WarehouseError {
    /// The row a chunk's load failed on when the chunk's own rows are at fault (a value the
    /// target column can't hold, a constraint a row breaks): loading the same rows again fails
    /// the same way; rows read again from a corrected source may load. `None` for other errors.
    pub fn bad_row(&self) -> Option<BadRow<'_>> {
        match self {
            WarehouseError::Value {
                column,
                row,
                message,
                ..
            } => Some(BadRow {
                row: Some(*row),
                column: Some(column),
                message,
            }),
            WarehouseError::Refused {
                row,
                column,
                message,
                ..
            } => Some(BadRow {
                row: *row,
                column: column.as_deref(),
                message,
            }),
            _ => None,
        }
    }

    pub(crate) fn database(doing: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Self {
        let doing = doing.into();
        move |source| WarehouseError::Database { doing, source }
    }

    /// Like [`database`](Self::database), but a missing table or column (42P01, 42703) of
    /// `table` is a schema error naming `columns` and what to do (`action`).
    pub(crate) fn missing_table_or_column(
        table: &str,
        columns: &str,
        action: &str,
        doing: impl Into<String>,
    ) -> impl FnOnce(tokio_postgres::Error) -> Self {
        let (table, columns, action) = (table.to_string(), columns.to_string(), action.to_string());
        let doing = doing.into();
        move |source| match source.code() {
            Some(code) if code.code() == "42P01" || code.code() == "42703" => {
                let reason = source
                    .as_db_error()
                    .map_or(String::new(), |db| db.message().to_string());
                WarehouseError::Schema {
                    table,
                    message: format!(
                        "the target table or one of its columns ({columns}) is missing: {reason}; {action}"
                    ),
                }
            }
            _ => WarehouseError::database(doing)(source),
        }
    }
}

/// Transient: the connection broke or the server is short of something (class 08, 53, 57P0x),
/// serialization failures and deadlocks (40001, 40P01). Definite: everything else the server
/// reports (data exceptions, missing tables, privileges, constraint violations).
fn retry_of(error: &tokio_postgres::Error) -> Retry {
    let Some(db) = error.as_db_error() else {
        // No SQLSTATE: the connection closed or an I/O error happened.
        return if error.is_closed() || std::error::Error::source(error).is_some() {
            Retry::Transient
        } else {
            Retry::Definite
        };
    };
    let code = db.code().code();
    let transient = code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "40001" | "40P01" | "57P01" | "57P02" | "57P03" | "55P03"
        );
    if transient {
        Retry::Transient
    } else {
        Retry::Definite
    }
}

impl ErrorClass for WarehouseError {
    fn retry(&self) -> Retry {
        match self {
            WarehouseError::Connect { source, .. } => match source.as_db_error() {
                // The server answered: a wrong password or a missing database won't fix itself.
                Some(_) => retry_of(source),
                // Nor will a certificate that is not trusted (or not for this host).
                None if migrate_pgconn::is_tls_failure(source) => Retry::Definite,
                None => Retry::Transient,
            },
            WarehouseError::Database { source, .. } => retry_of(source),
            WarehouseError::Value { .. }
            | WarehouseError::Refused { .. }
            | WarehouseError::Url(_)
            | WarehouseError::Schema { .. }
            | WarehouseError::Change { .. } => Retry::Definite,
            WarehouseError::Source { retry, .. } | WarehouseError::ChangeStream { retry, .. } => {
                *retry
            }
        }
    }
}
