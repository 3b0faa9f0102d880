//! The seam between `migrate replicate` and the engines it reads: [`Source`] (one connection:
//! discovery, chunk planning, opening snapshots) and [`Snapshot`] (a consistent view of the
//! database that parallel readers share: chunks as Arrow record batches, checksums, row hashes).
//!
//! Every engine crate (`migrate-source-postgres`, `migrate-source-mysql`) implements both; the
//! pipeline is generic over them. Durability and consistency contracts are on each method.

mod change;

pub use change::{
    before_column, change_schema, key_columns, ChangeEvent, ChangeSource, ChangeStream,
    ColumnFilter, Operation, Position, Selection, TableFilter, BEFORE_PREFIX, OP_COLUMN,
    START_OVER, UNCHANGED_COLUMN, UNREPRESENTABLE_CHANGE_ACTION,
};

use arrow_array::RecordBatch;
use futures::stream::BoxStream;
use migrate_core::{
    Catalog, ErrorClass, Finding, LogicalType, QualifiedName, SourceDialect, Table,
};
use std::future::Future;

pub use migrate_checksum::{ChunkChecksum, JsonText};

/// A key's widest value, as [`Source::widest_keys`] measured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredKey {
    /// In bytes; `None` for a table without rows.
    pub widest: Option<u64>,
    /// The source's SQL for a row's key width, as measured: a `WHERE` on it finds the rows.
    pub expression: String,
}

/// What a source holds besides base tables, by name only: what `migrate replicate` does not
/// copy ([`Source::other_objects`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtherObjects {
    pub objects: Vec<OtherObject>,
    /// Discovery's own findings about such objects: those the user can't see, those listed
    /// apart (PostgreSQL rules and policies, as `migrate assess` reports them).
    pub findings: Vec<Finding>,
}

/// One object that `migrate replicate` does not copy.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherObject {
    pub kind: ObjectKind,
    /// Without a schema for an object of the whole database (an extension, an event trigger).
    pub name: QualifiedName,
    /// The table of a constraint, whose name is unique per table only.
    pub table: Option<QualifiedName>,
}

/// The kinds of [`OtherObject`], in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    View,
    MaterializedView,
    /// An index that no key owns (replicate creates a table's keys).
    Index,
    /// A sequence that no column owns.
    Sequence,
    Function,
    Procedure,
    Trigger,
    /// A MySQL/MariaDB scheduled event.
    Event,
    /// A PostgreSQL enum, domain, range or composite type.
    Type,
    /// Listed by `replicate` from the catalog it plans with, not by [`Source::other_objects`].
    ForeignKey,
    /// A PostgreSQL foreign table (`CREATE FOREIGN TABLE`): its rows are another server's.
    ForeignTable,
    /// A PostgreSQL event trigger (`CREATE EVENT TRIGGER`), of the whole database.
    EventTrigger,
    /// A PostgreSQL extension (`CREATE EXTENSION`), of the whole database.
    Extension,
}

/// One part of a table. The chunks of a plan cover every row exactly once, whatever the
/// statistics said when they were planned: the first range is unbounded below and the last
/// unbounded above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position in the plan, from 0.
    pub index: u32,
    pub bound: ChunkBound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkBound {
    /// The whole table.
    All,
    /// `from <= column < to` on a single-column integer primary key; `None` is unbounded.
    KeyRange {
        column: String,
        from: Option<i64>,
        to: Option<i64>,
    },
    /// PostgreSQL heap pages `from <= page < to` by `ctid`; `to: None` is unbounded.
    PageRange { from: u64, to: Option<u64> },
}

impl Chunk {
    /// The single chunk of a table read whole.
    pub fn whole() -> Chunk {
        Chunk {
            index: 0,
            bound: ChunkBound::All,
        }
    }
}

/// Chunks over a single-column integer key whose values lie in `[min, max]`: as many ranges of
/// equal key width as `rows` (the row estimate; the key span when unknown) calls for at
/// `target_rows` per chunk, the first open below and the last open above, so rows added after
/// planning still fall in some chunk. One whole-table chunk when a single one suffices.
pub fn key_range_chunks(
    key: &str,
    min: i64,
    max: i64,
    rows: Option<u64>,
    target_rows: u64,
) -> Vec<Chunk> {
    let target_rows = u128::from(target_rows.max(1));
    let span = (i128::from(max) - i128::from(min) + 1).max(1) as u128;
    let rows = rows.map_or(span, u128::from);
    let count = rows.div_ceil(target_rows).clamp(1, span);
    // Bounded by u32 indexes; a plan of 4 billion chunks is a mistake anyway.
    let count = count.min(u128::from(u32::MAX));
    if count <= 1 {
        return vec![Chunk::whole()];
    }
    let width = span.div_ceil(count);
    let boundaries: Vec<i64> = (1..count)
        .map(|i| (i128::from(min) + (i * width) as i128) as i64)
        .take_while(|&b| i128::from(b) < i128::from(min) + span as i128)
        .collect();
    let mut chunks = Vec::with_capacity(boundaries.len() + 1);
    let mut from = None;
    for boundary in boundaries.into_iter().map(Some).chain([None]) {
        chunks.push(Chunk {
            index: chunks.len() as u32,
            bound: ChunkBound::KeyRange {
                column: key.to_string(),
                from,
                to: boundary,
            },
        });
        from = boundary;
    }
    chunks
}

/// What to read of one table: which columns, in which order and type, and which rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSpec {
    /// The source table, as discovered (its name, keys and column types).
    pub table: Table,
    /// The columns of each batch, in order.
    pub columns: Vec<ReadColumn>,
    /// Rows to keep, as SQL in the source's dialect (ANDed with the chunk's range); `None` for all.
    pub filter: Option<String>,
}

/// One column of the batches a [`ReadSpec`] produces.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadColumn {
    /// The field name in the batch (the target column's name).
    pub name: String,
    /// What the value is: a source column, or an expression over the source's columns.
    pub value: ReadValue,
    /// The canonical type of the batch column: `migrate_batch::data_type(data_type)` is the
    /// Arrow type the reader delivers. Differs from the source column's type only when the
    /// source must convert (`Cast`).
    pub data_type: LogicalType,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReadValue {
    /// The source column of that name, as stored.
    Column(String),
    /// The source column of that name, converted by the source to `ReadColumn::data_type`
    /// (DMS `change-data-type`).
    Cast(String),
    /// A SQL expression in the source's dialect, already translated and quoted (DMS `add-column`).
    Expression(String),
}

impl ReadSpec {
    /// Every column of `table` as stored, every row.
    pub fn whole_table(table: &Table) -> ReadSpec {
        ReadSpec {
            table: table.clone(),
            columns: table
                .columns
                .iter()
                .map(|c| ReadColumn {
                    name: c.name.value.clone(),
                    value: ReadValue::Column(c.name.value.clone()),
                    data_type: c.data_type.clone(),
                    nullable: c.nullable,
                })
                .collect(),
            filter: None,
        }
    }

    pub fn name(&self) -> &QualifiedName {
        &self.table.name
    }

    /// The positions in [`columns`](Self::columns) of the table's primary key columns, when
    /// every one is read as stored: what validation needs to name the rows behind a mismatch.
    /// `None` without a key, or with a key column cast, computed or left out.
    pub fn key_positions(&self) -> Option<Vec<usize>> {
        self.table
            .primary_key()?
            .iter()
            .map(|k| {
                self.columns
                    .iter()
                    .position(|c| c.value == ReadValue::Column(k.value.clone()))
            })
            .collect()
    }
}

/// A row's key and hash, for narrowing a checksum mismatch down to rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedHash {
    /// The key's canonical text (`migrate_checksum` defines it); rows come ordered by its bytes.
    pub key: String,
    /// The row's hash, as the checksum uses it.
    pub hash: String,
}

/// A database that `migrate replicate` reads. One value is one connection.
pub trait Source: Send + Sync + Sized + 'static {
    type Error: std::error::Error + ErrorClass + Send + Sync + 'static;
    type Snapshot: Snapshot<Error = Self::Error>;

    /// Connects to `url` (the password may come from the engine's usual environment variable).
    /// Errors name the server without its password.
    fn connect(url: &str) -> impl Future<Output = Result<Self, Self::Error>> + Send;

    fn dialect(&self) -> SourceDialect;

    /// `user@host:port/database`, never the password.
    fn endpoint(&self) -> &str;

    /// The base tables of `schemas` (all user schemas when `None`) with canonical column types
    /// (the converter's type mapping), keys and row estimates. Types that can't be read exactly
    /// come back as findings in the catalog.
    fn discover(
        &self,
        schemas: Option<&[String]>,
    ) -> impl Future<Output = Result<Catalog, Self::Error>> + Send;

    /// Chunks of about `target_rows` rows covering every row of `table` exactly once.
    fn plan_chunks(
        &self,
        table: &Table,
        target_rows: u64,
    ) -> impl Future<Output = Result<Vec<Chunk>, Self::Error>> + Send;

    /// Quotes an identifier for this engine's SQL.
    fn quote_ident(&self, name: &str) -> String;

    /// The widest value of each key of `table` (each a list of its columns' names as stored),
    /// in bytes as the target stores them: the most, over the rows, of the sum of the key's
    /// values' lengths (a NULL counts 0). Scans the whole table, outside any snapshot. None
    /// measured (the default) for a source whose own B-tree index bounds its keys as the
    /// target's does.
    fn widest_keys(
        &self,
        table: &Table,
        keys: &[Vec<String>],
    ) -> impl Future<Output = Result<Vec<MeasuredKey>, Self::Error>> + Send {
        let _ = (table, keys);
        async { Ok(Vec::new()) }
    }

    /// What `schemas` hold besides base tables, which `migrate replicate` does not copy, by
    /// name (each [`ObjectKind`] the engine has), with discovery's own findings about such
    /// objects; objects of the whole database (PostgreSQL extensions and event triggers) too.
    /// The objects migrate itself creates on the source for change capture are not among them.
    ///
    /// Consistency: a few catalog statements, outside any snapshot.
    fn other_objects(
        &self,
        schemas: &[String],
    ) -> impl Future<Output = Result<OtherObjects, Self::Error>> + Send;

    /// Opens a consistent view of the whole database for `readers` chunk readers at once (more
    /// concurrent reads wait). Every read and checksum through it sees the same data.
    fn snapshot(
        &self,
        readers: usize,
    ) -> impl Future<Output = Result<Self::Snapshot, Self::Error>> + Send;
}

/// A consistent view of a source, shared by parallel chunk readers.
pub trait Snapshot: Send + Sync + 'static {
    type Error: std::error::Error + ErrorClass + Send + Sync + 'static;

    /// Streams the rows of `chunk` that match `read.filter`, as record batches of at most
    /// `batch_rows` rows whose columns are `read.columns` (Arrow types per `migrate_batch`).
    /// Values are exact or the stream ends with a definite error naming table, column and row.
    /// Memory: about one batch. Rows come in no particular order.
    fn read_chunk<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
        batch_rows: usize,
    ) -> BoxStream<'a, Result<RecordBatch, Self::Error>>;

    /// How [`Snapshot::checksum`] and [`Snapshot::row_hashes`] write `json` values: the target's
    /// checksums must write them the same way.
    fn json_text(&self) -> JsonText {
        JsonText::Jsonb
    }

    /// The row count and checksum (`migrate_checksum`) of the rows of `chunk` matching
    /// `read.filter`, over `read.columns`, computed in the database (`json` values as
    /// [`Snapshot::json_text`] says).
    fn checksum<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
    ) -> impl Future<Output = Result<ChunkChecksum, Self::Error>> + Send + 'a;

    /// Each row's key and hash for the rows of `chunk` matching `read.filter`, ordered by key
    /// bytes (the table needs a primary key): the rows behind a checksum mismatch.
    fn row_hashes<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
    ) -> BoxStream<'a, Result<KeyedHash, Self::Error>>;

    /// Ends the snapshot, releasing its connections.
    fn close(self) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(chunks: &[Chunk]) -> Vec<(Option<i64>, Option<i64>)> {
        chunks
            .iter()
            .map(|c| match &c.bound {
                ChunkBound::KeyRange { from, to, .. } => (*from, *to),
                other => panic!("not a key range: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn key_ranges_are_contiguous_and_open_at_both_ends() {
        let chunks = key_range_chunks("id", 1, 1_000, Some(1_000), 300);
        assert_eq!(
            bounds(&chunks),
            [
                (None, Some(251)),
                (Some(251), Some(501)),
                (Some(501), Some(751)),
                (Some(751), None)
            ]
        );
        assert_eq!(
            chunks.iter().map(|c| c.index).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn extreme_keys_do_not_overflow() {
        let chunks = key_range_chunks("k", i64::MIN, i64::MAX, Some(10), 3);
        let bounds = bounds(&chunks);
        assert_eq!(bounds.len(), 4);
        assert_eq!(bounds[0].0, None);
        assert_eq!(bounds[3].1, None);
    }

    #[test]
    fn small_spans_and_unknown_estimates() {
        assert_eq!(
            key_range_chunks("id", 5, 5, Some(100), 10),
            vec![Chunk::whole()]
        );
        // Without an estimate the key span stands for the row count.
        assert_eq!(key_range_chunks("id", 1, 100, None, 10).len(), 10);
        assert_eq!(
            key_range_chunks("id", 1, 100, Some(5), 10),
            vec![Chunk::whole()]
        );
    }
}
