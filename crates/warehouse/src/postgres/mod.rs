//! PostgreSQL as the warehouse: tables created by the converter, chunks loaded with binary COPY
//! together with their checkpoint, and validation queries run on the target.

mod apply;
mod checkpoint;
mod connect;
mod copy;
mod encode;
mod evolve;
mod identity;
mod prepare;
mod validate;

pub use apply::{
    staged_change_schema, ApplyOutcome, CdcCheckpoint, TableApplied, TableChanges,
    ADDED_SINCE_MARK, SEQ_COLUMN, TRUNCATE_OP,
};
pub use checkpoint::TableState;
pub use connect::SESSION_SETTINGS;
pub use copy::LoadOutcome;
pub use evolve::SchemaChangePolicy;
pub use migrate_checksum::ChunkChecksum;
pub use prepare::PrepMode;

use migrate_core::{Ident, Table, TargetDialect};
use migrate_sqlrewrite::target_ident;

/// A connection to a PostgreSQL database that receives loads.
///
/// Methods take `&self` and run one at a time on the connection (each `load_chunk` is one
/// transaction); load chunks in parallel through several `PostgresWarehouse`s.
pub struct PostgresWarehouse {
    client: tokio::sync::Mutex<tokio_postgres::Client>,
    connection: tokio::task::JoinHandle<()>,
    endpoint: String,
    /// `current_database()`: prepared transactions are named per database and task (their
    /// names are unique in the whole server).
    database: String,
    /// The server process of this connection (`pg_backend_pid()`).
    backend_pid: i32,
}

/// The target table's name as SQL, converted like `migrate convert` does.
fn target_name(table: &Table) -> String {
    migrate_sqlrewrite::target_name(&table.name, TargetDialect::Postgres)
}

/// A target column's name as SQL.
fn target_column(name: &Ident) -> String {
    target_ident(&name.value, name.quoted, TargetDialect::Postgres).sql
}
