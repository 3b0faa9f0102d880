//! Every supported type, read from a real PostgreSQL and checked value by value.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Decimal256Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Time64MicrosecondType, TimestampMicrosecondType,
};
use arrow_array::{Array, RecordBatch};
use common::{connect, days, read_all, table, whole};
use migrate_core::{LengthUnit, LogicalType, Severity};
use migrate_source_postgres::SourceError;

const SETUP: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE every (
  id int PRIMARY KEY,
  i2 int2, i4 int4, i8 int8,
  n numeric, d numeric(10,2), d50 numeric(50,5),
  f4 real, f8 double precision,
  t text, vc varchar(10), c char(3),
  b bytea,
  dt date, tm time, ttz timetz, ts timestamp, tstz timestamptz,
  iv interval, j json, jb jsonb, x xml, u uuid,
  ip inet, cd cidr, mac macaddr, bt bit(4), vb varbit,
  arr int[], tarr text[], m mood, dom posint, mo money, o oid, bo bool
);
INSERT INTO every VALUES
 (1, 32767, 2147483647, 9223372036854775807,
  '123456789012345678901234567890.123456789', 12345678.90,
  '123456789012345678901234567890123456789012345.12345',
  '-0', 'NaN', '', 'héllo', 'ab', '\x00ff00'::bytea,
  '0044-03-15 BC', '23:59:59.999999', '12:34:56.789+05:30', '2024-02-29 12:34:56.123456',
  '2024-01-01 00:00:00.000001+02', '1 year 2 months 3 days 04:05:06.789',
  '{"a": [1, 2.50]}', '{"b":1, "a":2}', '<a>1</a>', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  '192.168.0.1', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'101',
  '{{1,NULL},{3,4}}', '{"a,b",NULL,"😀"}', 'happy', 7, 12.34, 4294967295, true),
 (2, -32768, -2147483648, -9223372036854775808, 'NaN', -0.01, NULL,
  'Infinity', '-Infinity', '😀 𝄞 ñ 中', NULL, NULL, '',
  '12345-06-07', '00:00:00', '00:00:00-03', '1000-01-01 00:00:00 BC',
  '294246-12-31 23:59:59.999999+00', '-1 mons +2 days -00:00:00.5',
  'null', '[]', NULL, NULL, '::ffff:1.2.3.4', NULL, NULL, NULL, NULL,
  '{}', '{NULL}', NULL, NULL, -0.01, 0, false),
 (3, NULL, NULL, NULL, '-Infinity', NULL, NULL, 'NaN', '-0', NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, NULL, NULL, NULL, '0.000000000000000000001', NULL, NULL, NULL, NULL,
  repeat('x', 20 * 1024 * 1024) || '€', NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"#;

fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a dyn Array {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_ref()
}

fn text(batch: &RecordBatch, name: &str) -> Option<String> {
    let row = 0;
    let array = column(batch, name);
    if array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        arrow_schema::DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        _ => array.as_string::<i64>().value(row).to_string(),
    })
}

fn micros(days: i32, h: i64, m: i64, s: i64, us: i64) -> i64 {
    i64::from(days) * 86_400_000_000 + ((h * 60 + m) * 60 + s) * 1_000_000 + us
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_is_read_exactly() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_every_type");
    db.sql(SETUP).unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let every = table(&catalog, "every");

    // Domains resolve to their base type, enums to a varchar of the longest label.
    let ty = |name: &str| {
        every
            .columns
            .iter()
            .find(|c| c.name.value == name)
            .unwrap()
            .data_type
            .clone()
    };
    assert_eq!(ty("dom"), LogicalType::Integer);
    assert_eq!(
        ty("m"),
        LogicalType::Varchar {
            length: 5,
            unit: LengthUnit::Char
        }
    );
    assert_eq!(
        ty("arr"),
        LogicalType::Array(Box::new(LogicalType::Integer))
    );
    assert_eq!(
        ty("d"),
        LogicalType::Decimal {
            precision: 10,
            scale: 2
        }
    );
    assert!(catalog.findings.iter().any(|f| f.code == "type.money"
        && f.object.ends_with(".mo")
        && f.severity == Severity::Warning));

    let batches = read_all(&source, None, every, &whole(), 100).await.unwrap();
    assert_eq!(batches.len(), 1);
    let mut batch = batches[0].clone();
    assert_eq!(
        batch.schema().as_ref(),
        &migrate_batch::schema(every),
        "the schema is the batch contract's"
    );
    assert_eq!(batch.num_rows(), 4);
    // Rows come in no particular order: sort by id.
    let ids = batch
        .column_by_name("id")
        .unwrap()
        .as_primitive::<Int32Type>();
    let order: Vec<usize> = (1..=4)
        .map(|id| ids.values().iter().position(|v| *v == id).unwrap())
        .collect();
    let take = |i: usize| batch.slice(order[i], 1);
    let rows: Vec<RecordBatch> = (0..4).map(take).collect();
    batch = rows[0].clone();
    let (r1, r2, r3, r4) = (&rows[0], &rows[1], &rows[2], &rows[3]);

    // Integers at their edges.
    let int = |b: &RecordBatch, c: &str| -> i64 {
        let a = column(b, c);
        match a.data_type() {
            arrow_schema::DataType::Int16 => a.as_primitive::<Int16Type>().value(0).into(),
            arrow_schema::DataType::Int32 => a.as_primitive::<Int32Type>().value(0).into(),
            _ => a.as_primitive::<Int64Type>().value(0),
        }
    };
    assert_eq!(
        (int(r1, "i2"), int(r1, "i4"), int(r1, "i8")),
        (32767, 2147483647, i64::MAX)
    );
    assert_eq!(
        (int(r2, "i2"), int(r2, "i4"), int(r2, "i8")),
        (-32768, -2147483648, i64::MIN)
    );
    assert_eq!(
        (int(r1, "dom"), int(r1, "o"), int(r2, "o")),
        (7, 4294967295, 0)
    );
    assert!(column(r3, "i8").is_null(0));

    // Numerics: unbounded as text (NaN, infinities), bounded as exact decimals.
    let n = |b: &RecordBatch| text(b, "n").unwrap();
    assert_eq!(n(r1), "123456789012345678901234567890.123456789");
    assert_eq!(n(r2), "NaN");
    assert_eq!(n(r3), "-Infinity");
    assert_eq!(n(r4), "0.000000000000000000001");
    let d = column(&batch, "d").as_primitive::<Decimal128Type>();
    assert_eq!(d.value(0), 1_234_567_890);
    assert_eq!(
        column(r2, "d").as_primitive::<Decimal128Type>().value(0),
        -1
    );
    let d50 = column(&batch, "d50").as_primitive::<Decimal256Type>();
    assert_eq!(
        d50.value_as_string(0),
        "123456789012345678901234567890123456789012345.12345"
    );
    let money = column(&batch, "mo").as_primitive::<Decimal128Type>();
    assert_eq!(money.value(0), 1234);
    assert_eq!(
        column(r2, "mo").as_primitive::<Decimal128Type>().value(0),
        -1
    );

    // Floats: -0, NaN and infinities kept.
    let f4 = |b: &RecordBatch| column(b, "f4").as_primitive::<Float32Type>().value(0);
    let f8 = |b: &RecordBatch| column(b, "f8").as_primitive::<Float64Type>().value(0);
    assert!(f4(r1) == 0.0 && f4(r1).is_sign_negative());
    assert!(f8(r1).is_nan());
    assert_eq!(f4(r2), f32::INFINITY);
    assert_eq!(f8(r2), f64::NEG_INFINITY);
    assert!(f4(r3).is_nan());
    assert!(f8(r3) == 0.0 && f8(r3).is_sign_negative());

    // Text: '' is not NULL, any Unicode, char(n) keeps its padding, 20 MB values.
    assert_eq!(text(r1, "t").as_deref(), Some(""));
    assert_eq!(text(r3, "t"), None);
    assert_eq!(text(r2, "t").as_deref(), Some("😀 𝄞 ñ 中"));
    assert_eq!(text(r1, "vc").as_deref(), Some("héllo"));
    assert_eq!(text(r1, "c").as_deref(), Some("ab "));
    let big = text(r4, "t").unwrap();
    assert_eq!(big.len(), 20 * 1024 * 1024 + 3);
    assert!(big.ends_with("x€"));

    // bytea: NUL bytes, and empty is not NULL.
    let b = |r: &RecordBatch| column(r, "b").as_binary::<i64>().value(0).to_vec();
    assert_eq!(b(r1), vec![0, 255, 0]);
    assert_eq!(b(r2), Vec::<u8>::new());
    assert!(column(r3, "b").is_null(0));

    // Dates: BC and beyond year 9999.
    let dt = |r: &RecordBatch| column(r, "dt").as_primitive::<Date32Type>().value(0);
    assert_eq!(dt(r1), days(-43, 3, 15));
    assert_eq!(dt(r2), days(12345, 6, 7));

    // Times and timestamps in microseconds; timestamptz as the UTC instant.
    let tm = |r: &RecordBatch| {
        column(r, "tm")
            .as_primitive::<Time64MicrosecondType>()
            .value(0)
    };
    assert_eq!(tm(r1), 86_399_999_999);
    assert_eq!(tm(r2), 0);
    let ts = |r: &RecordBatch, c: &str| {
        column(r, c)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0)
    };
    assert_eq!(ts(r1, "ts"), micros(days(2024, 2, 29), 12, 34, 56, 123_456));
    assert_eq!(ts(r2, "ts"), micros(days(-999, 1, 1), 0, 0, 0, 0));
    assert_eq!(ts(r1, "tstz"), micros(days(2023, 12, 31), 22, 0, 0, 1));
    assert_eq!(
        ts(r2, "tstz"),
        micros(days(294_246, 12, 31), 23, 59, 59, 999_999)
    );

    // timetz and intervals as text.
    assert_eq!(text(r1, "ttz").as_deref(), Some("12:34:56.789+05:30"));
    assert_eq!(text(r2, "ttz").as_deref(), Some("00:00:00-03"));
    assert_eq!(text(r1, "iv").as_deref(), Some("P1Y2M3DT4H5M6.789S"));
    assert_eq!(text(r2, "iv").as_deref(), Some("P-1M2DT-0.5S"));

    // Documents, identifiers, network and bit strings as text.
    assert_eq!(text(r1, "j").as_deref(), Some(r#"{"a": [1, 2.50]}"#));
    assert_eq!(text(r1, "jb").as_deref(), Some(r#"{"a": 2, "b": 1}"#));
    assert_eq!(text(r2, "j").as_deref(), Some("null"));
    assert_eq!(text(r1, "x").as_deref(), Some("<a>1</a>"));
    assert_eq!(
        text(r1, "u").as_deref(),
        Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    );
    assert_eq!(text(r1, "ip").as_deref(), Some("192.168.0.1"));
    assert_eq!(text(r2, "ip").as_deref(), Some("::ffff:1.2.3.4"));
    assert_eq!(text(r1, "cd").as_deref(), Some("10.0.0.0/8"));
    assert_eq!(text(r1, "mac").as_deref(), Some("08:00:2b:01:02:03"));
    assert_eq!(text(r1, "bt").as_deref(), Some("1010"));
    assert_eq!(text(r1, "vb").as_deref(), Some("101"));
    assert_eq!(text(r1, "m").as_deref(), Some("happy"));

    // Arrays as JSON, nested, with NULL elements.
    assert_eq!(text(r1, "arr").as_deref(), Some("[[1,null],[3,4]]"));
    assert_eq!(text(r2, "arr").as_deref(), Some("[]"));
    assert_eq!(text(r1, "tarr").as_deref(), Some(r#"["a,b",null,"😀"]"#));
    assert_eq!(text(r2, "tarr").as_deref(), Some("[null]"));
    assert!(column(r3, "arr").is_null(0));

    let bo = |r: &RecordBatch| column(r, "bo").as_boolean().value(0);
    assert!(bo(r1) && !bo(r2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timestamp_beyond_the_batch_range_is_an_error_naming_the_row() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_infinity");
    // PostgreSQL's timestamps go on to 294276 AD; microseconds since 1970 in 64 bits end in
    // 294247, and their last value is `infinity`'s.
    db.sql(
        "CREATE TABLE events (id int, at timestamp, ts timestamptz, d date, PRIMARY KEY (id, ts));
         INSERT INTO events VALUES (1, '2020-01-01', '2020-01-01 10:00:00.5+00', 'infinity'),
                                   (2, '294250-01-01', 'infinity', '-infinity'),
                                   (3, '2020-01-01', '-infinity', NULL);",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let events = table(&catalog, "events");
    let error = read_all(&source, None, events, &whole(), 10)
        .await
        .unwrap_err();
    match &error {
        SourceError::Unrepresentable {
            table, column, row, ..
        } => {
            assert_eq!(table, "public.events");
            assert_eq!(column, "at");
            assert_eq!(row, "id=2, ts='infinity'");
        }
        other => panic!("expected Unrepresentable, got {other}"),
    }
    assert!(error.to_string().contains("beyond"), "{error}");
    assert_eq!(
        migrate_core::ErrorClass::retry(&error),
        migrate_core::Retry::Definite
    );
    // The connection is usable again after a failed read; infinities are the batch
    // convention's extremes.
    db.sql("UPDATE events SET at = 'infinity' WHERE id = 2")
        .unwrap();
    let batches = read_all(&source, None, events, &whole(), 10).await.unwrap();
    let mut rows = Vec::new();
    for batch in &batches {
        let ids = column(batch, "id").as_primitive::<Int32Type>();
        let at = column(batch, "at").as_primitive::<TimestampMicrosecondType>();
        let ts = column(batch, "ts").as_primitive::<TimestampMicrosecondType>();
        let d = column(batch, "d").as_primitive::<Date32Type>();
        for r in 0..batch.num_rows() {
            rows.push((
                ids.value(r),
                at.value(r),
                ts.value(r),
                d.is_valid(r).then(|| d.value(r)),
            ));
        }
    }
    rows.sort();
    assert!(
        matches!(rows[0], (1, _, 1_577_872_800_500_000, Some(i32::MAX))),
        "{rows:?}"
    );
    assert!(
        matches!(rows[1], (2, i64::MAX, i64::MAX, Some(i32::MIN))),
        "{rows:?}"
    );
    assert!(matches!(rows[2], (3, _, i64::MIN, None)), "{rows:?}");
}
