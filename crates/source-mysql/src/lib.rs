//! The MySQL 8 / MariaDB source of `migrate replicate`: discovery of the live catalog through
//! `information_schema` (types through the converter's MySQL type map), chunk planning on integer
//! keys, one consistent snapshot shared by parallel reader connections (with the binlog position
//! it stands at, for change capture), exact extraction to Arrow record batches over the binary
//! protocol, in-database checksums, and change capture from the row-based binlog
//! ([`migrate_source::ChangeSource`]: [`MysqlChangeStream`], see the `binlog` module).
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

mod binlog;
mod checksum;
mod chunk;
mod connect;
mod discover;
mod error;
mod objects;
mod preflight;
mod read;
mod snapshot;
mod sql;

pub use binlog::{MysqlChangeStream, BATCH_BYTES, BATCH_ROWS, HEARTBEAT};
pub use chunk::chunk_predicate;
pub use connect::{Flavor, MysqlSource, SESSION_SETTINGS};
pub use error::SourceError;
pub use preflight::preflight;
pub use snapshot::{BinlogPosition, MysqlSnapshot};
pub use sql::{quote_ident, table_sql_name};

use arrow_array::RecordBatch;
use futures::stream::BoxStream;
use migrate_core::{Catalog, QualifiedName, RoutineKind, SourceDialect, Table};
use migrate_source::{
    Chunk, ChunkChecksum, JsonText, KeyedHash, ObjectKind, OtherObject, OtherObjects, ReadSpec,
};

impl migrate_source::Source for MysqlSource {
    type Error = SourceError;
    type Snapshot = MysqlSnapshot;

    async fn connect(url: &str) -> Result<Self, SourceError> {
        MysqlSource::connect(url).await
    }

    fn dialect(&self) -> SourceDialect {
        SourceDialect::Mysql
    }

    fn endpoint(&self) -> &str {
        MysqlSource::endpoint(self)
    }

    async fn discover(&self, schemas: Option<&[String]>) -> Result<Catalog, SourceError> {
        MysqlSource::discover(self, schemas).await
    }

    async fn plan_chunks(
        &self,
        table: &Table,
        target_rows: u64,
    ) -> Result<Vec<Chunk>, SourceError> {
        MysqlSource::plan_chunks(self, table, target_rows).await
    }

    fn quote_ident(&self, name: &str) -> String {
        quote_ident(name)
    }

    async fn widest_keys(
        &self,
        table: &Table,
        keys: &[Vec<String>],
    ) -> Result<Vec<migrate_source::MeasuredKey>, SourceError> {
        preflight::widest_keys(self, table, keys).await
    }

    /// [`MysqlSource::discover_objects`]' objects (the definitions it reads cost little: the
    /// server stores them as text).
    async fn other_objects(&self, schemas: &[String]) -> Result<OtherObjects, SourceError> {
        let mut catalog = Catalog::default();
        self.discover_objects(Some(schemas), &mut catalog).await?;
        let object = |kind, name: &QualifiedName| OtherObject {
            kind,
            name: name.clone(),
            table: None,
        };
        let mut objects: Vec<OtherObject> = Vec::new();
        objects.extend(
            catalog
                .views
                .iter()
                .map(|v| object(ObjectKind::View, &v.name)),
        );
        objects.extend(
            catalog
                .indexes
                .iter()
                .map(|i| object(ObjectKind::Index, &i.name)),
        );
        objects.extend(
            catalog
                .sequences
                .iter()
                .map(|s| object(ObjectKind::Sequence, &s.name)),
        );
        for routine in &catalog.routines {
            let kind = match routine.kind {
                RoutineKind::Procedure => ObjectKind::Procedure,
                RoutineKind::Trigger => ObjectKind::Trigger,
                RoutineKind::Event => ObjectKind::Event,
                _ => ObjectKind::Function,
            };
            objects.extend(routine.name.as_ref().map(|name| object(kind, name)));
        }
        Ok(OtherObjects {
            objects,
            findings: catalog.findings,
        })
    }

    async fn snapshot(&self, readers: usize) -> Result<MysqlSnapshot, SourceError> {
        MysqlSource::snapshot(self, readers).await
    }
}

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

impl migrate_source::Snapshot for MysqlSnapshot {
    type Error = SourceError;

    fn read_chunk<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
        batch_rows: usize,
    ) -> BoxStream<'a, Result<RecordBatch, SourceError>> {
        MysqlSnapshot::read_chunk(self, read, chunk, batch_rows)
    }

    /// MariaDB 10.7+ writes them normalised: see [`Flavor::json_text`].
    fn json_text(&self) -> JsonText {
        self.inner.json_text
    }

    /// Computed on one of the snapshot's readers: the rows a read of the chunk gives.
    async fn checksum(&self, read: &ReadSpec, chunk: &Chunk) -> Result<ChunkChecksum, SourceError> {
        checksum::chunk_checksum(&self.inner, read, chunk).await
    }

    /// Streamed from one of the snapshot's readers (the server sorts); the key columns are
    /// hashed as the read gives them (cast or not), or as stored when the read leaves them out.
    fn row_hashes<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
    ) -> BoxStream<'a, Result<KeyedHash, SourceError>> {
        checksum::row_hashes(&self.inner, read, chunk)
    }

    async fn close(self) -> Result<(), SourceError> {
        MysqlSnapshot::close(self).await
    }
}
