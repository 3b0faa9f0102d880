//! The conformance suite: the same checks against every kind of stage (a local directory, a real
//! S3 server). Each backend's test file calls these functions with a fresh stage per test.

#![allow(dead_code)] // each test binary uses a different part of this module

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Decimal256Array,
    Float32Array, Float64Array, Int16Array, Int32Array, Int64Array, LargeBinaryArray,
    LargeStringArray, StringArray, Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{i256, DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use futures::{Stream, StreamExt, TryStreamExt};
use migrate_core::{ErrorClass, Retry};
use migrate_stage::{ChunkKey, ChunkObject, Format, ManifestKey, Stage, StageError};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use proptest::prelude::*;
use std::sync::Arc;
use std::time::Instant;

pub const FORMATS: [Format; 2] = [Format::Parquet, Format::CsvGzip];

/// Decimal256 at its maximum precision.
pub const D256_PRECISION: u8 = 76;

pub fn all_types_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("b", DataType::Boolean, true),
        Field::new("i16", DataType::Int16, true),
        Field::new("i32", DataType::Int32, true),
        Field::new("i64", DataType::Int64, true),
        Field::new("f32", DataType::Float32, true),
        Field::new("f64", DataType::Float64, true),
        Field::new("d128", DataType::Decimal128(38, 10), true),
        Field::new("d256", DataType::Decimal256(D256_PRECISION, 20), true),
        Field::new("s", DataType::Utf8, true),
        Field::new("ls", DataType::LargeUtf8, true),
        Field::new("bin", DataType::Binary, true),
        Field::new("lbin", DataType::LargeBinary, true),
        Field::new("date", DataType::Date32, true),
        Field::new("time", DataType::Time64(TimeUnit::Microsecond), true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new(
            "tsz",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        // Not nullable: NULL can't sneak in where the schema says it can't.
        Field::new("id", DataType::Int64, false),
    ]))
}

/// One row of [`all_types_schema`].
#[derive(Debug, Clone)]
pub struct Row {
    pub b: Option<bool>,
    pub i16: Option<i16>,
    pub i32: Option<i32>,
    pub i64: Option<i64>,
    pub f32: Option<f32>,
    pub f64: Option<f64>,
    pub d128: Option<i128>,
    pub d256: Option<i256>,
    pub s: Option<String>,
    pub ls: Option<String>,
    pub bin: Option<Vec<u8>>,
    pub lbin: Option<Vec<u8>>,
    pub date: Option<i32>,
    pub time: Option<i64>,
    pub ts: Option<i64>,
    pub tsz: Option<i64>,
}

pub fn max_d128() -> i128 {
    10i128.pow(38) - 1
}

pub fn max_d256() -> i256 {
    i256::from_string(&"9".repeat(D256_PRECISION as usize)).expect("76 nines")
}

/// Days from 1970-01-01 to 1 January of `year` (proleptic Gregorian), for readable edge values.
pub fn days_to_year(year: i32) -> i32 {
    i32::try_from(migrate_core::days_from_civil(i64::from(year), 1, 1)).expect("fits")
}

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Rows with every edge value the formats must keep: NaN, infinities, -0.0, extreme integers and
/// decimals, empty vs NULL strings, quotes and newlines in strings, non-BMP characters, dates
/// before 1900 and after 9999, the last microsecond of a day.
pub fn edge_rows() -> Vec<Row> {
    let empty = Row {
        b: None,
        i16: None,
        i32: None,
        i64: None,
        f32: None,
        f64: None,
        d128: None,
        d256: None,
        s: None,
        ls: None,
        bin: None,
        lbin: None,
        date: None,
        time: None,
        ts: None,
        tsz: None,
    };
    let strings = [
        "",
        " ",
        "\"",
        "a,b",
        "line\nbreak\r\nand\rreturn",
        "tab\there",
        "\\",
        "\\n",
        "NULL",
        "\\N ",
        "null",
        "é中文🦀\u{10FFFF}",
        "\u{0}nul",
        "  padded  ",
    ];
    let floats: [f64; 8] = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        f64::MAX,
        5e-324,
    ];
    let dates = [
        days_to_year(1),
        days_to_year(1899),
        days_to_year(1900) - 1,
        0,
        days_to_year(9999),
        days_to_year(10000),
        days_to_year(200_000),
        days_to_year(-4713),
    ];
    let mut rows = Vec::new();
    for i in 0..strings.len().max(floats.len()).max(dates.len()) {
        let s = strings[i % strings.len()].to_string();
        let f = floats[i % floats.len()];
        let date = dates[i % dates.len()];
        let ts = i64::from(date) * MICROS_PER_DAY + (i as i64 % 2) * (MICROS_PER_DAY - 1);
        let sign = if i % 2 == 0 { 1 } else { -1 };
        rows.push(Row {
            b: Some(i % 2 == 0),
            i16: Some(if i % 2 == 0 { i16::MIN } else { i16::MAX }),
            i32: Some(if i % 2 == 0 { i32::MIN } else { i32::MAX }),
            i64: Some(if i % 2 == 0 { i64::MIN } else { i64::MAX }),
            f32: Some(f as f32),
            f64: Some(f),
            d128: Some(sign * max_d128()),
            d256: Some(if i % 2 == 0 {
                max_d256()
            } else {
                max_d256().wrapping_neg()
            }),
            s: Some(s.clone()),
            ls: Some(s.clone()),
            bin: Some(s.clone().into_bytes()),
            lbin: Some(if i % 3 == 0 {
                Vec::new()
            } else {
                vec![0, 255, 1]
            }),
            date: Some(date),
            // 24:00:00 is a time of day in PostgreSQL and Redshift.
            time: Some([0, MICROS_PER_DAY - 1, MICROS_PER_DAY, 1_500_000][i % 4]),
            ts: Some(ts),
            tsz: Some(-ts),
        });
    }
    rows.push(empty);
    rows
}

/// Ranges the CSV text forms can carry (chrono's: years -262143..=262142). Parquet holds the full
/// integer ranges; CSV refuses values outside (tested apart).
const CSV_MAX_DAYS: i32 = 95_000_000;
const CSV_MAX_MICROS: i64 = 8_200_000_000_000_000_000;

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.85, s)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        ".*",
        "[a-z,\"\n\r\\\\ ]{0,12}",
        any::<String>(),
    ]
    .prop_filter("the CSV NULL marker", |s| s != "\\N")
}

fn d256() -> impl Strategy<Value = i256> {
    (
        any::<bool>(),
        prop::collection::vec(0u8..10, 1..=D256_PRECISION as usize),
    )
        .prop_map(|(neg, digits)| {
            let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            let v = i256::from_string(&text).expect("digits");
            if neg {
                v.wrapping_neg()
            } else {
                v
            }
        })
}

/// Arbitrary rows for `format`: full ranges for Parquet, the CSV-representable ranges for CSV.
pub fn row_strategy(format: Format) -> impl Strategy<Value = Row> {
    let csv = format == Format::CsvGzip;
    let days = if csv {
        (-CSV_MAX_DAYS..=CSV_MAX_DAYS).boxed()
    } else {
        any::<i32>().boxed()
    };
    let micros = if csv {
        (-CSV_MAX_MICROS..=CSV_MAX_MICROS).boxed()
    } else {
        any::<i64>().boxed()
    };
    let numbers = (
        opt(any::<bool>()),
        opt(any::<i16>()),
        opt(any::<i32>()),
        opt(any::<i64>()),
        opt(prop::num::f32::ANY),
        opt(prop::num::f64::ANY),
        opt(-max_d128()..=max_d128()),
        opt(d256()),
    );
    let rest = (
        opt(text()),
        opt(text()),
        opt(prop::collection::vec(any::<u8>(), 0..40)),
        opt(prop::collection::vec(any::<u8>(), 0..40)),
        opt(days),
        opt(0..=MICROS_PER_DAY),
        opt(micros.clone()),
        opt(micros),
    );
    (numbers, rest).prop_map(
        move |(
            (b, i16, i32, i64, f32, f64, d128, d256),
            (s, ls, bin, lbin, date, time, ts, tsz),
        )| {
            // CSV keeps NaN, not its sign or payload bits (documented): compare canonical NaNs.
            let (f32, f64) = if csv {
                (
                    f32.map(|v| if v.is_nan() { f32::NAN } else { v }),
                    f64.map(|v| if v.is_nan() { f64::NAN } else { v }),
                )
            } else {
                (f32, f64)
            };
            Row {
                b,
                i16,
                i32,
                i64,
                f32,
                f64,
                d128,
                d256,
                s,
                ls,
                bin,
                lbin,
                date,
                time,
                ts,
                tsz,
            }
        },
    )
}

/// Builds a batch of [`all_types_schema`]; `id` numbers the rows from `first_id`.
pub fn batch(rows: &[Row], first_id: i64) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.b).collect::<BooleanArray>()),
        Arc::new(rows.iter().map(|r| r.i16).collect::<Int16Array>()),
        Arc::new(rows.iter().map(|r| r.i32).collect::<Int32Array>()),
        Arc::new(rows.iter().map(|r| r.i64).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| r.f32).collect::<Float32Array>()),
        Arc::new(rows.iter().map(|r| r.f64).collect::<Float64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| r.d128)
                .collect::<Decimal128Array>()
                .with_precision_and_scale(38, 10)
                .expect("decimal128"),
        ),
        Arc::new(
            rows.iter()
                .map(|r| r.d256)
                .collect::<Decimal256Array>()
                .with_precision_and_scale(D256_PRECISION, 20)
                .expect("decimal256"),
        ),
        Arc::new(rows.iter().map(|r| r.s.as_deref()).collect::<StringArray>()),
        Arc::new(
            rows.iter()
                .map(|r| r.ls.as_deref())
                .collect::<LargeStringArray>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| r.bin.as_deref())
                .collect::<BinaryArray>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| r.lbin.as_deref())
                .collect::<LargeBinaryArray>(),
        ),
        Arc::new(rows.iter().map(|r| r.date).collect::<Date32Array>()),
        Arc::new(
            rows.iter()
                .map(|r| r.time)
                .collect::<Time64MicrosecondArray>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| r.ts)
                .collect::<TimestampMicrosecondArray>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| r.tsz)
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from_iter_values(
            (0..rows.len() as i64).map(|i| first_id + i),
        )),
    ];
    RecordBatch::try_new(all_types_schema(), columns).expect("batch")
}

/// Splits `rows` into batches at the given cut points (any order, out-of-range ignored).
pub fn batches(rows: &[Row], cuts: &[usize]) -> Vec<RecordBatch> {
    let mut cuts: Vec<usize> = cuts.iter().copied().filter(|&c| c < rows.len()).collect();
    cuts.push(rows.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts {
        out.push(batch(&rows[start..cut], start as i64));
        start = cut;
    }
    out
}

pub fn ok_stream(
    batches: Vec<RecordBatch>,
) -> impl Stream<Item = Result<RecordBatch, StageError>> + Send {
    futures::stream::iter(batches.into_iter().map(Ok))
}

pub fn key(table: &str, chunk: u64) -> ChunkKey {
    ChunkKey {
        table: table.to_string(),
        chunk,
        attempt: 0,
    }
}

pub async fn read_all(stage: &Stage, chunk: &ChunkObject) -> Result<RecordBatch, StageError> {
    let batches: Vec<RecordBatch> = stage.read_chunk(chunk).try_collect().await?;
    Ok(concat_batches(&chunk.schema, &batches).expect("concat"))
}

/// Writes `batches` as a chunk, reads it back and checks it is the same data, bit for bit.
/// The runtime the tests block on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Property: any rows, cut into any batches, come back exactly through `stage` in `format`
/// (`cases` generated cases, each its own table).
pub fn round_trips_any_rows(stage: &Stage, format: Format, cases: u32) {
    let rt = runtime();
    let n = std::sync::atomic::AtomicU32::new(0);
    let config = ProptestConfig {
        cases,
        ..ProptestConfig::default()
    };
    proptest!(config, |(rows in prop::collection::vec(row_strategy(format), 0..120),
                        cuts in prop::collection::vec(0usize..120, 0..4))| {
        let case = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rt.block_on(round_trip(stage, &format!("prop{case}"), batches(&rows, &cuts), format));
    });
}

pub async fn round_trip(stage: &Stage, table: &str, batches: Vec<RecordBatch>, format: Format) {
    let schema = all_types_schema();
    let expected = concat_batches(&schema, &batches).expect("concat");
    let chunk = stage
        .write_chunk(
            &key(table, 0),
            Arc::clone(&schema),
            ok_stream(batches),
            format,
        )
        .await
        .unwrap_or_else(|e| panic!("write {format}: {e}"));
    assert_eq!(chunk.rows as usize, expected.num_rows());
    let back = read_all(stage, &chunk)
        .await
        .unwrap_or_else(|e| panic!("read {format}: {e}"));
    assert_same(&expected, &back, format);
}

/// Batch equality is bitwise for floats (NaN == NaN, -0.0 != 0.0): exactly what must survive.
pub fn assert_same(expected: &RecordBatch, actual: &RecordBatch, format: Format) {
    assert_eq!(expected.schema(), actual.schema(), "{format}: schema");
    assert_eq!(expected.num_rows(), actual.num_rows(), "{format}: rows");
    for (i, field) in expected.schema().fields().iter().enumerate() {
        let (e, a) = (expected.column(i), actual.column(i));
        if e.as_ref() != a.as_ref() {
            let first = (0..e.len())
                .find(|&r| e.slice(r, 1).as_ref() != a.slice(r, 1).as_ref())
                .unwrap_or(0);
            panic!(
                "{format}: column {} differs, first at row {first}: wrote {:?}, read {:?}",
                field.name(),
                e.slice(first, 1),
                a.slice(first, 1)
            );
        }
    }
}

// ---- the suite ----------------------------------------------------------------------------------

pub async fn edge_values_round_trip(stage: &Stage) {
    let rows = edge_rows();
    for format in FORMATS {
        round_trip(
            stage,
            &format!("edges_{format:?}"),
            batches(&rows, &[3, 4, 9]),
            format,
        )
        .await;
    }
}

pub async fn empty_chunk_round_trips(stage: &Stage) {
    for format in FORMATS {
        round_trip(stage, &format!("empty_{format:?}"), Vec::new(), format).await;
        round_trip(
            stage,
            &format!("empty_batch_{format:?}"),
            vec![batch(&[], 0)],
            format,
        )
        .await;
    }
}

/// One value of 50 MB (text, any Unicode) plus a few small rows, through both formats.
pub async fn fifty_megabyte_value(stage: &Stage) {
    let big: String = "0123456789abcdé🦀\n\","
        .chars()
        .cycle()
        .take(50 << 20)
        .collect::<String>();
    let mut rows = edge_rows();
    rows.truncate(3);
    rows[1].s = Some(big.clone());
    rows[1].ls = Some(big);
    rows[2].bin = Some(vec![0xAB; 5 << 20]);
    for format in FORMATS {
        round_trip(
            stage,
            &format!("big_{format:?}"),
            batches(&rows, &[1]),
            format,
        )
        .await;
    }
}

pub async fn chunk_names_are_never_reused(stage: &Stage) {
    let data = || ok_stream(vec![batch(&edge_rows(), 0)]);
    for format in FORMATS {
        let table = format!("retry_{format:?}");
        let first = stage
            .write_chunk(&key(&table, 7), all_types_schema(), data(), format)
            .await
            .expect("attempt 0");
        let ext = if format == Format::Parquet {
            "parquet"
        } else {
            "csv.gz"
        };
        assert!(
            first.path.ends_with(&format!("{table}/000007-0.{ext}")),
            "{}",
            first.path
        );
        let again = stage
            .write_chunk(&key(&table, 7), all_types_schema(), data(), format)
            .await
            .expect_err("same attempt again");
        assert!(matches!(again, StageError::AlreadyExists { .. }), "{again}");
        assert_eq!(again.retry(), Retry::Definite);
        let retried = ChunkKey {
            attempt: 1,
            ..key(&table, 7)
        };
        let second = stage
            .write_chunk(&retried, all_types_schema(), data(), format)
            .await
            .expect("attempt 1");
        assert!(second.path.ends_with(&format!("000007-1.{ext}")));
        // The first attempt is untouched.
        read_all(stage, &first)
            .await
            .expect("attempt 0 still reads");
    }
}

#[derive(Debug, thiserror::Error)]
#[error("source went away")]
pub struct SourceGone;

impl ErrorClass for SourceGone {
    fn retry(&self) -> Retry {
        Retry::Transient
    }
}

/// A failing input aborts the write: nothing at the path, the same key can be written again.
pub async fn failed_input_leaves_nothing(stage: &Stage) {
    for format in FORMATS {
        let table = format!("failing_{format:?}");
        // More than one part, so that S3 has a multipart upload to abort.
        let rows: Vec<Row> = (0..40).map(|_| edge_rows()[1].clone()).collect();
        let mut big = rows.clone();
        for r in &mut big {
            r.s = Some("x".repeat(200_000));
        }
        let items: Vec<Result<RecordBatch, SourceGone>> =
            vec![Ok(batch(&big, 0)), Ok(batch(&big, 40)), Err(SourceGone)];
        let err = stage
            .write_chunk(
                &key(&table, 0),
                all_types_schema(),
                futures::stream::iter(items),
                format,
            )
            .await
            .expect_err("input fails");
        assert!(matches!(err, StageError::Input { .. }), "{err}");
        assert_eq!(err.retry(), Retry::Transient, "the input's class is kept");
        let listed: Vec<_> = stage
            .store()
            .list(Some(stage.prefix()))
            .try_collect::<Vec<_>>()
            .await
            .expect("list");
        assert!(
            !listed
                .iter()
                .any(|m| m.location.as_ref().contains(&format!("{table}/"))),
            "an aborted chunk left {listed:?}"
        );
        stage
            .write_chunk(
                &key(&table, 0),
                all_types_schema(),
                ok_stream(vec![batch(&rows, 0)]),
                format,
            )
            .await
            .expect("the key is free again");
    }
}

/// Tampering is found: same-size different bytes (checksum), truncation (size), a wrong row count.
pub async fn corruption_is_an_error(stage: &Stage) {
    for format in FORMATS {
        let table = format!("corrupt_{format:?}");
        let chunk = stage
            .write_chunk(
                &key(&table, 0),
                all_types_schema(),
                ok_stream(vec![batch(&edge_rows(), 0)]),
                format,
            )
            .await
            .expect("write");
        let path = Path::from(chunk.path.as_str());
        let good = stage
            .store()
            .get(&path)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");

        // Wrong row count recorded.
        let lying = ChunkObject {
            rows: chunk.rows + 1,
            ..chunk.clone()
        };
        let err = read_all(stage, &lying).await.expect_err("row count");
        assert!(
            matches!(
                err,
                StageError::Mismatch {
                    what: "row count",
                    ..
                }
            ),
            "{format}: {err}"
        );

        // Same size, one byte changed inside a place no decoder checks: the middle of a string
        // (Parquet) or of the gzip stream (CSV; gzip's own CRC may catch it first).
        let mut bad = good.to_vec();
        let at = bad.len() / 2;
        bad[at] ^= 0x01;
        stage
            .store()
            .put(&path, PutPayload::from(bad))
            .await
            .expect("tamper");
        let err = read_all(stage, &chunk).await.expect_err("checksum");
        assert_eq!(err.retry(), Retry::Definite, "{format}: {err}");

        // Truncated.
        stage
            .store()
            .put(&path, PutPayload::from(good.slice(..good.len() - 10)))
            .await
            .expect("truncate");
        let err = read_all(stage, &chunk).await.expect_err("size");
        assert!(
            matches!(err, StageError::Mismatch { what: "size", .. }),
            "{format}: {err}"
        );

        // Put back, reads again: the errors came from the tampering.
        stage
            .store()
            .put(&path, PutPayload::from(good))
            .await
            .expect("restore");
        read_all(stage, &chunk).await.expect("restored");
    }
}

pub async fn unsupported_data_is_refused(stage: &Stage) {
    let mut rows = edge_rows();
    rows[0].s = Some("\\N".into());
    let err = stage
        .write_chunk(
            &key("marker", 0),
            all_types_schema(),
            ok_stream(vec![batch(&rows, 0)]),
            Format::CsvGzip,
        )
        .await
        .expect_err("\\N in CSV");
    assert!(
        matches!(&err, StageError::Unsupported { column, .. } if column == "s"),
        "{err}"
    );
    // Parquet holds it.
    round_trip(
        stage,
        "marker_parquet",
        vec![batch(&rows, 0)],
        Format::Parquet,
    )
    .await;

    // A time of day past 24:00:00 has no CSV text form.
    let mut rows = edge_rows();
    rows[1].time = Some(MICROS_PER_DAY + 1);
    let err = stage
        .write_chunk(
            &key("late", 0),
            all_types_schema(),
            ok_stream(vec![batch(&rows, 0)]),
            Format::CsvGzip,
        )
        .await
        .expect_err("a time past 24:00:00 in CSV");
    assert!(
        matches!(&err, StageError::Unsupported { column, reason, .. } if column == "time" && reason.contains("86400000001")),
        "{err}"
    );

    let schema = Arc::new(Schema::new(vec![Field::new("u", DataType::UInt64, true)]));
    for format in FORMATS {
        let err = stage
            .write_chunk(
                &key("unsigned", 0),
                Arc::clone(&schema),
                ok_stream(Vec::new()),
                format,
            )
            .await
            .expect_err("UInt64");
        assert!(matches!(err, StageError::Unsupported { .. }), "{err}");
        assert_eq!(err.retry(), Retry::Definite);
    }
}

/// Manifests: Redshift's JSON, a sidecar, written once, read back equal.
pub async fn manifest_round_trip(stage: &Stage, url_prefix: &str) {
    for format in FORMATS {
        let table = format!("manifest_{format:?}");
        let mut chunks = Vec::new();
        for n in 0..3u64 {
            let rows = edge_rows();
            chunks.push(
                stage
                    .write_chunk(
                        &key(&table, n),
                        all_types_schema(),
                        ok_stream(vec![batch(&rows, 0)]),
                        format,
                    )
                    .await
                    .expect("chunk"),
            );
        }
        let mkey = ManifestKey {
            table: table.clone(),
            batch: 0,
        };
        let written = stage
            .write_manifest(&mkey, &chunks)
            .await
            .expect("manifest");
        assert!(written.url.starts_with(url_prefix), "{}", written.url);
        assert_eq!(written.rows, chunks.iter().map(|c| c.rows).sum::<u64>());

        // The object is exactly Redshift's manifest shape.
        let path = Path::from(
            chunks[0]
                .path
                .replace("000000-0.parquet", "manifest-000000.json")
                .replace("000000-0.csv.gz", "manifest-000000.json"),
        );
        let json: serde_json::Value = serde_json::from_slice(
            &stage
                .store()
                .get(&path)
                .await
                .expect("manifest object")
                .bytes()
                .await
                .expect("bytes"),
        )
        .expect("JSON");
        let entries = json["entries"].as_array().expect("entries");
        assert_eq!(json.as_object().map(|o| o.len()), Some(1), "{json}");
        assert_eq!(entries.len(), 3);
        for (e, c) in entries.iter().zip(&chunks) {
            assert_eq!(e["url"], c.url.as_str());
            assert_eq!(e["mandatory"], true);
            assert_eq!(e["meta"]["content_length"], c.bytes);
        }

        let read = stage.read_manifest(&mkey).await.expect("read manifest");
        assert_eq!(read, written);
        for c in &read.entries {
            read_all(stage, c).await.expect("chunk from manifest");
        }

        // Written once.
        let err = stage
            .write_manifest(&mkey, &chunks[..1])
            .await
            .expect_err("second writer");
        assert!(matches!(err, StageError::AlreadyExists { .. }), "{err}");
        assert_eq!(err.retry(), Retry::Definite);
        let err = stage
            .write_manifest(&mkey, &chunks)
            .await
            .expect_err("same entries, still once");
        assert!(matches!(err, StageError::AlreadyExists { .. }), "{err}");
        assert_eq!(
            stage.read_manifest(&mkey).await.expect("unchanged"),
            written
        );
    }
}

/// A manifest is refused, and nothing becomes visible, when one of its objects is missing.
pub async fn manifest_needs_its_objects(stage: &Stage) {
    let table = "manifest_missing";
    let chunk = stage
        .write_chunk(
            &key(table, 0),
            all_types_schema(),
            ok_stream(vec![batch(&edge_rows(), 0)]),
            Format::Parquet,
        )
        .await
        .expect("chunk");
    let mut ghost = chunk.clone();
    ghost.path = ghost.path.replace("000000-0", "000001-0");
    ghost.url = ghost.url.replace("000000-0", "000001-0");
    let mkey = ManifestKey {
        table: table.into(),
        batch: 0,
    };
    let err = stage
        .write_manifest(&mkey, &[chunk.clone(), ghost])
        .await
        .expect_err("missing object");
    assert!(matches!(err, StageError::Manifest { .. }), "{err}");
    let err = stage.read_manifest(&mkey).await.expect_err("not committed");
    assert!(
        matches!(
            err,
            StageError::Store {
                error: object_store::Error::NotFound { .. },
                ..
            }
        ),
        "{err}"
    );
    let err = stage.write_manifest(&mkey, &[]).await.expect_err("empty");
    assert!(matches!(err, StageError::Manifest { .. }), "{err}");
    // With its real objects the same key commits.
    stage.write_manifest(&mkey, &[chunk]).await.expect("commit");
}

/// A reader polling while a writer stages chunks and commits: whenever it sees the manifest, every
/// object it lists is there, complete.
pub async fn reader_never_sees_a_manifest_before_its_objects(stage: &Stage) {
    let table = "manifest_race";
    let mkey = ManifestKey {
        table: table.into(),
        batch: 0,
    };
    let reader = {
        let stage = stage.clone();
        let mkey = mkey.clone();
        tokio::spawn(async move {
            let mut polls = 0u32;
            loop {
                polls += 1;
                match stage.read_manifest(&mkey).await {
                    Ok(m) => {
                        for c in &m.entries {
                            read_all(&stage, c)
                                .await
                                .unwrap_or_else(|e| panic!("manifest listed {}: {e}", c.url));
                        }
                        return (polls, m.entries.len());
                    }
                    Err(StageError::Store {
                        error: object_store::Error::NotFound { .. },
                        ..
                    }) => tokio::task::yield_now().await,
                    Err(e) => panic!("reader: {e}"),
                }
            }
        })
    };
    let mut chunks = Vec::new();
    for n in 0..5 {
        chunks.push(
            stage
                .write_chunk(
                    &key(table, n),
                    all_types_schema(),
                    ok_stream(batches(&edge_rows(), &[2])),
                    Format::CsvGzip,
                )
                .await
                .expect("chunk"),
        );
    }
    stage.write_manifest(&mkey, &chunks).await.expect("commit");
    let (polls, entries) = reader.await.expect("reader task");
    assert_eq!(entries, 5);
    assert!(polls > 1, "the reader polled before the commit");
}

/// Schema of a chunk's batches must match the declared schema.
pub async fn wrong_batch_schema_is_refused(stage: &Stage) {
    let other = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)])),
        vec![Arc::new(Int64Array::from(vec![1]))],
    )
    .expect("batch");
    for format in FORMATS {
        let err = stage
            .write_chunk(
                &key(&format!("schema_{format:?}"), 0),
                all_types_schema(),
                ok_stream(vec![other.clone()]),
                format,
            )
            .await
            .expect_err("schema");
        assert_eq!(err.retry(), Retry::Definite, "{err}");
    }
}

/// Generated rows: `rows_per_batch` rows per batch, built as they are pulled (never all at once).
/// Columns: id, amount (Decimal128(18,2)), name (Utf8 ~40 bytes), created (Timestamp UTC), flag.
pub fn wide_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("amount", DataType::Decimal128(18, 2), true),
        Field::new("name", DataType::Utf8, true),
        Field::new(
            "created",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("ratio", DataType::Float64, true),
        Field::new("flag", DataType::Boolean, true),
    ]))
}

pub fn generated(
    rows: usize,
    rows_per_batch: usize,
) -> impl Stream<Item = Result<RecordBatch, StageError>> + Send {
    let schema = wide_schema();
    futures::stream::iter((0..rows).step_by(rows_per_batch)).map(move |start| {
        let n = rows_per_batch.min(rows - start);
        let ids = (start..start + n).map(|i| i as i64);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(ids.clone())),
            Arc::new(
                ids.clone()
                    .map(|i| Some(i128::from(i) * 7919 % 100_000_000))
                    .collect::<Decimal128Array>()
                    .with_precision_and_scale(18, 2)
                    .expect("decimal"),
            ),
            Arc::new(
                ids.clone()
                    .map(|i| {
                        Some(format!(
                            "customer {i:>10} name-{:08x}-xyz",
                            i * 2_654_435_761
                        ))
                    })
                    .collect::<StringArray>(),
            ),
            Arc::new(
                ids.clone()
                    .map(|i| Some(1_600_000_000_000_000 + i * 1_000_003))
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone("UTC"),
            ),
            Arc::new(
                ids.clone()
                    .map(|i| Some(i as f64 / 3.0))
                    .collect::<Float64Array>(),
            ),
            Arc::new(ids.map(|i| Some(i % 3 == 0)).collect::<BooleanArray>()),
        ];
        Ok(RecordBatch::try_new(Arc::clone(&schema), columns).expect("generated batch"))
    })
}

/// Writes and reads back `rows` generated rows in `format`; returns (write s, read s, object bytes).
pub async fn timed_million(
    stage: &Stage,
    table: &str,
    rows: usize,
    format: Format,
) -> (f64, f64, u64) {
    let t = Instant::now();
    let chunk = stage
        .write_chunk(&key(table, 0), wide_schema(), generated(rows, 8192), format)
        .await
        .expect("write");
    let write = t.elapsed().as_secs_f64();
    assert_eq!(chunk.rows as usize, rows);
    let t = Instant::now();
    let mut stream = stage.read_chunk(&chunk);
    let mut seen = 0usize;
    let mut next_id = 0i64;
    while let Some(batch) = stream.next().await {
        let batch = batch.expect("read");
        let ids = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("ids");
        // Order and completeness, without holding the data.
        for id in ids.values() {
            assert_eq!(*id, next_id);
            next_id += 1;
        }
        seen += batch.num_rows();
    }
    let read = t.elapsed().as_secs_f64();
    assert_eq!(seen, rows);
    (write, read, chunk.bytes)
}

/// Table names are one path segment of any text (except `/`, `\` and control characters); the
/// object store encodes what it must, and the recorded path reads back.
pub async fn odd_table_names_work(stage: &Stage) {
    let table = "Sales #1 [EU] {x} 100% ~é";
    let chunk = stage
        .write_chunk(
            &key(table, 0),
            all_types_schema(),
            ok_stream(vec![batch(&edge_rows(), 0)]),
            Format::Parquet,
        )
        .await
        .expect("write");
    let mkey = ManifestKey {
        table: table.into(),
        batch: 0,
    };
    stage.write_manifest(&mkey, &[chunk]).await.expect("commit");
    let m = stage.read_manifest(&mkey).await.expect("read");
    read_all(stage, &m.entries[0]).await.expect("read chunk");
    for bad in ["", ".", "..", "a/b", "a\\b", "a\nb"] {
        let err = stage
            .write_chunk(
                &key(bad, 0),
                all_types_schema(),
                ok_stream(Vec::new()),
                Format::Parquet,
            )
            .await
            .expect_err("bad table name");
        assert!(
            matches!(err, StageError::InvalidKey { .. }),
            "{bad:?}: {err}"
        );
    }
}

/// Two staged Parquet chunks of `table`, of the edge rows.
async fn two_chunks(stage: &Stage, table: &str) -> Vec<ChunkObject> {
    let mut chunks = Vec::new();
    for n in 0..2 {
        chunks.push(
            stage
                .write_chunk(
                    &key(table, n),
                    all_types_schema(),
                    ok_stream(batches(&edge_rows(), &[2])),
                    Format::Parquet,
                )
                .await
                .expect("chunk"),
        );
    }
    chunks
}

/// A writer killed between the sidecar and the manifest leaves a sidecar that blocks a commit of
/// other entries until it is discarded; a committed manifest can't be discarded.
pub async fn an_interrupted_commit_can_be_discarded(stage: &Stage) {
    let table = "interrupted";
    let mkey = ManifestKey {
        table: table.into(),
        batch: 0,
    };
    let chunks = two_chunks(stage, table).await;
    stage
        .write_manifest(&mkey, &chunks[..1])
        .await
        .expect("commit");
    // As if the writer died before its last write: the manifest goes, the sidecar stays.
    let manifest: object_store::path::Path = stage
        .prefix()
        .parts()
        .chain([
            object_store::path::PathPart::from(table),
            object_store::path::PathPart::from("manifest-000000.json"),
        ])
        .collect();
    object_store::ObjectStoreExt::delete(stage.store().as_ref(), &manifest)
        .await
        .expect("delete manifest");
    assert!(matches!(
        stage.write_manifest(&mkey, &chunks[1..]).await,
        Err(StageError::AlreadyExists { .. })
    ));
    stage
        .discard_uncommitted_manifest(&mkey)
        .await
        .expect("discard");
    let committed = stage
        .write_manifest(&mkey, &chunks[1..])
        .await
        .expect("commit other entries");
    assert_eq!(committed.entries, chunks[1..]);
    assert_eq!(
        stage.read_manifest(&mkey).await.expect("read").entries,
        chunks[1..]
    );
    assert!(matches!(
        stage.discard_uncommitted_manifest(&mkey).await,
        Err(StageError::AlreadyExists { .. })
    ));
}

/// A committed manifest a warehouse refused is withdrawn: the key commits a new attempt with
/// other objects, which a reader then gets; the objects of the withdrawn one stay; withdrawing
/// an absent manifest is no error.
pub async fn a_refused_manifest_can_be_withdrawn(stage: &Stage) {
    let table = "withdrawn";
    let mkey = ManifestKey {
        table: table.into(),
        batch: 0,
    };
    let chunks = two_chunks(stage, table).await;
    stage
        .write_manifest(&mkey, &chunks[..1])
        .await
        .expect("commit");
    stage.discard_manifest(&mkey).await.expect("withdraw");
    assert!(
        stage.read_manifest(&mkey).await.is_err(),
        "a withdrawn manifest is not read"
    );
    read_all(stage, &chunks[0])
        .await
        .expect("the withdrawn manifest's object stays");
    let committed = stage
        .write_manifest(&mkey, &chunks[1..])
        .await
        .expect("a new attempt commits");
    assert_eq!(committed.entries, chunks[1..]);
    assert_eq!(
        stage.read_manifest(&mkey).await.expect("read").entries,
        chunks[1..]
    );
    let absent = ManifestKey {
        table: "never_committed".into(),
        batch: 0,
    };
    stage
        .discard_manifest(&absent)
        .await
        .expect("an absent manifest is no error");
}
