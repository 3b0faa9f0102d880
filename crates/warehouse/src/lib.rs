//! The warehouse side of `migrate replicate`: making target tables ready, loading chunks of
//! Arrow record batches exactly once, and the queries that validate a load.
//!
//! - [`PostgresWarehouse`]: tables created through the converter (`migrate_dialect::emit`, never a
//!   second type mapping), chunks streamed with binary `COPY ... FROM STDIN` in the same
//!   transaction as their checkpoint row, resume through [`PostgresWarehouse::completed_chunks`],
//!   and target-side row counts, checksums and row hashes (`migrate_checksum`'s definition, the
//!   same SQL the sources run).
//! - [`redshift`]: the SQL that makes Redshift load staged files from S3 through a manifest,
//!   with the checkpoint in the same transaction.
//! - CDC: [`PostgresWarehouse::apply_changes`] applies a batch of changes (every table's, as
//!   record batches of [`staged_change_schema`]) exactly once, reduced to the net change per key,
//!   in one transaction with the task's row in `migrate.migrate_cdc_checkpoint`;
//!   [`PostgresWarehouse::evolve_table`] carries ADD/DROP/RENAME COLUMN per
//!   [`SchemaChangePolicy`];
//!   [`redshift::apply_changes_sql`] is the same apply as Redshift SQL.
//!
//! Values follow the `migrate-batch` contract: each Arrow column is converted into the target
//! column's PostgreSQL type exactly or the chunk fails with an error naming table, column and row.
//!
//! **Checkpoints** live in `migrate.migrate_checkpoint (task, source_table, chunk, rows, checksum,
//! loaded_at)`, primary key `(task, source_table, chunk)`. `source_table` is the source table's
//! qualified name as written in the source (`QualifiedName`'s display).

mod error;
pub mod postgres;
pub mod redshift;
mod value_text;

pub use error::{BadRow, WarehouseError};
pub use postgres::{
    staged_change_schema, ApplyOutcome, CdcCheckpoint, TableApplied, TableChanges,
    ADDED_SINCE_MARK, SEQ_COLUMN, TRUNCATE_OP,
};
pub use postgres::{
    ChunkChecksum, LoadOutcome, PostgresWarehouse, PrepMode, SchemaChangePolicy, TableState,
    SESSION_SETTINGS,
};
pub use value_text::{key_text, shown_value_text};
