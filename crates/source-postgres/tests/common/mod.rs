//! Helpers shared by the integration tests.
// Each test binary uses a subset of these helpers.
#![allow(dead_code)]

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use migrate_core::{Catalog, Table};
use migrate_source::{ChangeSource, Position, Selection};
use migrate_source_postgres::{
    chunk_predicate, Chunk, ChunkBound, PostgresChanges, PostgresSource, SharedSnapshot,
    SnapshotId, SourceError,
};

pub async fn connect(url: &str) -> PostgresSource {
    PostgresSource::connect(url).await.expect("connect")
}

pub fn table<'a>(catalog: &'a Catalog, name: &str) -> &'a Table {
    catalog
        .tables
        .iter()
        .find(|t| t.name.name.value == name)
        .unwrap_or_else(|| panic!("table {name} not discovered"))
}

pub fn whole() -> Chunk {
    Chunk {
        index: 0,
        bound: ChunkBound::All,
    }
}

pub async fn read_all(
    source: &PostgresSource,
    snapshot: Option<&SnapshotId>,
    table: &Table,
    chunk: &Chunk,
    batch_rows: usize,
) -> Result<Vec<RecordBatch>, SourceError> {
    source
        .read_chunk(snapshot, table, chunk, batch_rows)
        .try_collect()
        .await
}

/// Days from 1970-01-01 to a proleptic Gregorian date (astronomical years: 44 BC is -43).
pub fn days(year: i64, month: i64, day: i64) -> i32 {
    i32::try_from(migrate_core::days_from_civil(year, month, day)).expect("fits")
}

/// The exactly-once check: every row of `table_sql` matches exactly one chunk predicate.
pub fn rows_not_in_exactly_one_chunk(chunks: &[Chunk]) -> String {
    let sum = chunks
        .iter()
        .map(|c| format!("({})::int", chunk_predicate(c)))
        .collect::<Vec<_>>()
        .join(" + ");
    format!("count(*) FILTER (WHERE {sum} <> 1)")
}

/// Connects to `db` and starts capture `task` of its table `name`: the source, the table, the
/// snapshot and the position the changes start at.
pub async fn capture(
    db: &migrate_testkit::PgDatabase,
    task: &str,
    name: &str,
) -> (PostgresSource, Table, SharedSnapshot, Position) {
    let source = PostgresSource::connect(db.url()).await.unwrap();
    let catalog = source.discover(None).await.unwrap();
    let table = table(&catalog, name).clone();
    let (snapshot, start) = source
        .capture_snapshot(task, std::slice::from_ref(&table), 2)
        .await
        .unwrap();
    (source, table, snapshot, start)
}

/// Opens task `task`'s change stream of `table` alone, every column captured, from `start`.
pub async fn open_table(
    source: &PostgresSource,
    task: &str,
    table: &Table,
    start: &Position,
) -> Result<PostgresChanges, SourceError> {
    source
        .open_changes(
            task,
            std::slice::from_ref(table),
            Selection::every_column(std::sync::Arc::new(|_| false)),
            start,
        )
        .await
}
