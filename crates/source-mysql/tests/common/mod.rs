//! Helpers shared by the integration tests.
// Each test binary uses a subset of these helpers.
#![allow(dead_code)]

use arrow_array::{Array, RecordBatch};
use futures::TryStreamExt;
use migrate_core::{Catalog, Table};
use migrate_source::{Chunk, ReadSpec};
use migrate_source_mysql::{MysqlSnapshot, MysqlSource, SourceError};

pub async fn connect(url: &str) -> MysqlSource {
    MysqlSource::connect(url).await.expect("connect")
}

pub fn table<'a>(catalog: &'a Catalog, name: &str) -> &'a Table {
    catalog
        .tables
        .iter()
        .find(|t| t.name.name.value == name)
        .unwrap_or_else(|| panic!("table {name} not discovered"))
}

pub async fn read_all(
    snapshot: &MysqlSnapshot,
    read: &ReadSpec,
    chunk: &Chunk,
    batch_rows: usize,
) -> Result<Vec<RecordBatch>, SourceError> {
    snapshot.read_chunk(read, chunk, batch_rows).try_collect().await
}

/// Reads a whole table in one chunk through a fresh one-reader snapshot.
pub async fn read_table(source: &MysqlSource, table: &Table) -> Result<Vec<RecordBatch>, SourceError> {
    let snapshot = source.snapshot(1).await.expect("snapshot");
    let batches = read_all(&snapshot, &ReadSpec::whole_table(table), &Chunk::whole(), 1000).await;
    snapshot.close().await.expect("close");
    batches
}

/// The column `name` of `batch` as the array type `A`.
pub fn column<'b, A: Array + 'static>(batch: &'b RecordBatch, name: &str) -> &'b A {
    let array = batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"));
    array
        .as_any()
        .downcast_ref::<A>()
        .unwrap_or_else(|| panic!("column {name} is {}", array.data_type()))
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
pub fn days(year: i64, month: i64, day: i64) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// Microseconds since 1970-01-01 00:00:00.
pub fn micros(year: i64, month: i64, day: i64, h: i64, m: i64, s: i64, us: i64) -> i64 {
    i64::from(days(year, month, day)) * 86_400_000_000 + ((h * 60 + m) * 60 + s) * 1_000_000 + us
}

/// The single value of a one-line query through the mariadb client.
pub fn one(db: &migrate_testkit::MariaDbDatabase, sql: &str) -> String {
    db.sql(sql).unwrap().trim().to_string()
}

/// The resident set size of this process.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}
