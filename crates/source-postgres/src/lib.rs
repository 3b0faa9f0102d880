//! The PostgreSQL source of `migrate replicate`: discovery of the live catalog, chunk planning,
//! a consistent snapshot shared by parallel readers, exact extraction to Arrow record batches,
//! and in-database checksums to verify what was loaded.
//!
//! ```no_run
//! # async fn run() -> Result<(), migrate_source_postgres::SourceError> {
//! use futures::TryStreamExt;
//! use migrate_source_postgres::{PostgresSource, Snapshot};
//! let source = PostgresSource::connect("postgres://app@db:5432/shop").await?;
//! let catalog = source.discover(Some(&["public".to_string()])).await?;
//! let snapshot = Snapshot::export(&source).await?;
//! for table in &catalog.tables {
//!     for chunk in source.plan_chunks(table, 1_000_000).await? {
//!         let mut batches = Box::pin(source.read_chunk(Some(snapshot.id()), table, &chunk, 10_000));
//!         while let Some(batch) = batches.try_next().await? {
//!             // stage `batch`
//!             # let _ = batch;
//!         }
//!     }
//! }
//! snapshot.close().await?;
//! # Ok(()) }
//! ```

mod cdc;
mod checksum;
mod chunk;
mod connect;
mod discover;
mod error;
mod objects;
mod pool;
mod preflight;
mod read;
mod shared;
mod snapshot;
mod sql;

pub use cdc::{capture_name, PostgresChanges};
pub use checksum::{checksum_columns, chunk_checksum, row_hashes};
pub use chunk::chunk_predicate;
pub use connect::{PostgresSource, SESSION_SETTINGS};
pub use error::SourceError;
pub use migrate_checksum::{ChecksumColumn, ChunkChecksum};
pub use migrate_source::{Chunk, ChunkBound};
pub use preflight::preflight;
pub use shared::SharedSnapshot;
pub use snapshot::{Snapshot, SnapshotId};
pub use sql::{quote_ident, table_sql_name};
