//! Helpers shared by the integration tests.
// Each test binary uses a subset of these helpers.
#![allow(dead_code)]

use arrow_array::{Array, RecordBatch};
use futures::TryStreamExt;
use migrate_core::{Catalog, Table};
use migrate_source::{Chunk, Position, ReadSpec};
use migrate_source_mysql::{MysqlSnapshot, MysqlSource, SourceError};

/// The binlog position of a snapshot taken now, as the change stream's text form.
pub async fn snapshot_position(source: &MysqlSource) -> Position {
    let snapshot = source.snapshot(1).await.unwrap();
    let p = snapshot
        .binlog_position()
        .expect("a binlog position")
        .clone();
    snapshot.close().await.unwrap();
    Position(match p.gtid {
        Some(g) => format!("{}:{};gtid={g}", p.file, p.position),
        None => format!("{}:{}", p.file, p.position),
    })
}

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
    snapshot
        .read_chunk(read, chunk, batch_rows)
        .try_collect()
        .await
}

/// Reads a whole table in one chunk through a fresh one-reader snapshot.
pub async fn read_table(
    source: &MysqlSource,
    table: &Table,
) -> Result<Vec<RecordBatch>, SourceError> {
    let snapshot = source.snapshot(1).await.expect("snapshot");
    let batches = read_all(
        &snapshot,
        &ReadSpec::whole_table(table),
        &Chunk::whole(),
        1000,
    )
    .await;
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
    i32::try_from(migrate_core::days_from_civil(year, month, day)).expect("fits")
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

/// A table of every MySQL/MariaDB type with edge values: row 1 minimums and empty values, row 2
/// maximums and special characters, row 3 NULLs, rows 4 and 5 boundaries (row 4's JSON has keys
/// out of `jsonb`'s order and numbers `jsonb` writes otherwise).
pub const TYPES: &str = "
SET NAMES utf8mb4;
CREATE TABLE types (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, t1 TINYINT(1), si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  d DECIMAL(10,2), d65 DECIMAL(65,30), d38 DECIMAL(38,0), du DECIMAL(5,1) UNSIGNED,
  f FLOAT, db DOUBLE,
  b1 BIT(1), b8 BIT(8), b64 BIT(64),
  c CHAR(5), vc VARCHAR(20), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT,
  lat VARCHAR(20) CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(10), bl BLOB,
  e ENUM('a', 'b c', 'it''s'), s SET('x', 'y', 'z'),
  dt DATE, dtt DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), yr YEAR,
  j JSON, g POINT
) ENGINE=InnoDB;
INSERT INTO types VALUES
 (1, -128, 0, -128, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999,
  -99999999999999999999999999999999999999, 0.0,
  -3.40282e38, -1.7976931348623157e308,
  b'0', b'0', b'0',
  '', '', '', '', '', '', '', 0x00000000, 0x00, 0x00,
  'a', '', '1000-01-01', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000',
  '00:00:00.000000', 1901, '{}', ST_GeomFromText('POINT(1 2)')),
 (2, 127, 255, 1, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
  9223372036854775807, 18446744073709551615,
  99999999.99, 99999999999999999999999999999999999.999999999999999999999999999999,
  99999999999999999999999999999999999999, 9999.9,
  0.1, 0.1,
  b'1', b'11111111', b'1111111111111111111111111111111111111111111111111111111111111111',
  'abcde', 'emoji 😀 ok', 'tab\there', 'line\nbreak \\\\ back', 'Ünïcödé', 'ß漢字𝄞',
  'Ñandú ÿ', 0xDEADBEEF, 0x00FF00, 0x000102FF,
  'it''s', 'x,z', '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999',
  '23:59:59.999999', 2155, '{\"a\": [1, 2.50, \"x\"]}', ST_GeomFromText('POINT(-1.5 0)')),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 9223372036854775808,
  0.01, 0.000000000000000000000000000001, 1, 0.1,
  1.17549435e-38, 2.2250738585072014e-308,
  b'0', b'10000000', b'1000000000000000000000000000000000000000000000000000000000000000',
  ' ', ' pad', ' ', ' ', ' ', ' ', ' ', 0x61000000, X'', X'',
  'b c', 'x,y,z', '1969-12-31', '1969-12-31 23:59:59.999999', '2000-02-29 12:00:00.5',
  '12:34:56.000001', 2000,
  '[{\"bb\": 1, \"a\": 2e0, \"a b\": -0.50, \"B\": {\"y\": [], \"x\": 1.5E+3}}, 1E-3, 100, {}]',
  ST_GeomFromText('POINT(0 0)')),
 (5, 1, 2, 1, 1, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1,
  -0e0, -0e0,
  b'1', b'1', b'1',
  'x', 'y', 'z', 'w', 'v', 'u', 't', 0x01, 0x01, 0x01,
  'a', 'y', '2024-02-29', '2024-02-29 00:00:00', '2024-02-29 00:00:00',
  '00:00:00.000001', 1999, 'null', ST_GeomFromText('POINT(3 4)'));";
