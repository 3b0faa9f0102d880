//! The MySQL 8 / MariaDB source of `migrate replicate`: discovery of the live catalog through
//! `information_schema` (types through the converter's MySQL type map), chunk planning on integer
//! keys, one consistent snapshot shared by parallel reader connections (with the binlog position
//! it stands at, for change capture), exact extraction to Arrow record batches over the binary
//! protocol, and in-database checksums.
//!
//! ```no_run
//! # async fn run() -> Result<(), migrate_source_mysql::SourceError> {
//! use futures::TryStreamExt;
//! use migrate_source::{ReadSpec, Snapshot as _, Source as _};
//! use migrate_source_mysql::MysqlSource;
//! let source = MysqlSource::connect("mysql://app@db:3306/shop").await?;
//! let catalog = source.discover(None).await?;
//! let snapshot = source.snapshot(4).await?;
//! println!("binlog position: {:?}", snapshot.binlog_position());
//! for table in &catalog.tables {
//!     let read = ReadSpec::whole_table(table);
//!     for chunk in source.plan_chunks(table, 1_000_000).await? {
//!         let mut batches = snapshot.read_chunk(&read, &chunk, 10_000);
//!         while let Some(batch) = batches.try_next().await? {
//!             // stage `batch`
//!             # let _ = batch;
//!         }
//!     }
//! }
//! snapshot.close().await?;
//! # Ok(()) }
//! ```
//!
//! Values follow `migrate_batch` exactly; what the source can't carry exactly (zero dates, TIME
//! values outside a day, text that is not UTF-8, ...) ends the chunk's stream with a definite
//! [`SourceError::Unrepresentable`] naming table, column and row key, never a silent NULL.
//! See `docs/source-mysql.md`.

mod chunk;
mod connect;
mod discover;
mod error;
mod read;
mod snapshot;
mod sql;

pub use chunk::chunk_predicate;
pub use connect::{Flavor, MysqlSource, SESSION_SETTINGS};
pub use error::SourceError;
pub use snapshot::{BinlogPosition, MysqlSnapshot};
pub use sql::{quote_ident, table_sql_name};

use arrow_array::RecordBatch;
use futures::stream::BoxStream;
use migrate_source::{Chunk, ReadSpec};

impl MysqlSnapshot {
    /// Streams the rows of `chunk` matching `read.filter` as batches of at most `batch_rows`
    /// rows (fewer when their values pass 64 MB), columns as `read.columns` with the Arrow
    /// types of `migrate_batch`. Rows come in no particular order.
    ///
    /// The read holds one of the snapshot's readers until the stream ends or is dropped (a
    /// dropped stream's unread rows are drained before the reader's next read). The values are
    /// exact, or the stream ends with an error: a definite [`SourceError::Unrepresentable`] naming
    /// the table, column and row key, or [`SourceError::Warnings`] when the server reported
    /// conversion warnings (a `Cast` that truncated). A consumer must treat a chunk as read only
    /// when its stream ended without error.
    ///
    /// Must be polled inside a Tokio runtime (the read runs on a spawned task).
    pub fn read_chunk(
        &self,
        read: &ReadSpec,
        chunk: &Chunk,
        batch_rows: usize,
    ) -> BoxStream<'static, Result<RecordBatch, SourceError>> {
        read::read_chunk(&self.inner, read, chunk, batch_rows)
    }
}
