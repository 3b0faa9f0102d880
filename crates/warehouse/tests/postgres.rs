//! Loads into a real PostgreSQL (migrate-testkit) and reads the rows back as SQL text.

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Decimal256Array, Float32Array,
    Float64Array, Int16Array, Int32Array, Int64Array, LargeBinaryArray, LargeStringArray,
    RecordBatch, StringArray, Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::datatypes::i256;
use futures::stream;
use migrate_checksum::JsonText;
use migrate_core::{
    Column, Constraint, ConstraintKind, ErrorClass, ForeignKey, Ident, LogicalType, QualifiedName,
    Retry, SourceDialect, Table,
};
use migrate_warehouse::{PostgresWarehouse, PrepMode, WarehouseError};
use std::sync::Arc;

#[derive(Debug)]
struct StageError(&'static str);

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl ErrorClass for StageError {
    fn retry(&self) -> Retry {
        Retry::Transient
    }
}

fn table(schema: &str, name: &str, columns: &[(&str, &str)]) -> Table {
    let mut table = Table::new(QualifiedName::new(
        Some(Ident::new(schema)),
        Ident::new(name),
    ));
    for (i, (column, ty)) in columns.iter().enumerate() {
        let mut column = Column::new(Ident::new(*column), *ty, LogicalType::parse(ty).unwrap());
        column.nullable = i != 0;
        table.columns.push(column);
    }
    table.constraints.push(Constraint {
        name: None,
        kind: ConstraintKind::PrimaryKey(vec![Ident::new(columns[0].0)]),
        state: Default::default(),
        index: Default::default(),
    });
    table
}

fn batch(table: &Table, columns: Vec<ArrayRef>) -> RecordBatch {
    RecordBatch::try_new(Arc::new(migrate_batch::schema(table)), columns).unwrap()
}

fn ok_stream(
    batches: Vec<RecordBatch>,
) -> impl futures::Stream<Item = Result<RecordBatch, StageError>> {
    stream::iter(batches.into_iter().map(Ok))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (astronomical years: 44 BC is -43).
fn days(year: i64, month: i64, day: i64) -> i32 {
    i32::try_from(migrate_core::days_from_civil(year, month, day)).expect("fits")
}

fn micros(days: i32, h: i64, m: i64, s: i64, us: i64) -> i64 {
    i64::from(days) * 86_400_000_000 + ((h * 60 + m) * 60 + s) * 1_000_000 + us
}

/// What `quote_nullable(text)` prints.
fn quoted(value: Option<&str>) -> String {
    match value {
        None => "NULL".into(),
        Some(v) if v.contains('\\') => {
            format!("E'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
        }
        Some(v) => format!("'{}'", v.replace('\'', "''")),
    }
}

const READ_SETTINGS: &str =
    "SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1;";

#[tokio::test(flavor = "current_thread")]
async fn every_canonical_type_loads_exactly() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_types");
    let t = table(
        "app",
        "Types",
        &[
            ("id", "bigint"),
            ("b", "boolean"),
            ("i2", "smallint"),
            ("i4", "integer"),
            ("i8", "bigint"),
            ("d38", "decimal(38,10)"),
            ("d60", "decimal(60,20)"),
            ("n", "numeric"),
            ("f4", "real"),
            ("f8", "double"),
            ("c", "char(5 char)"),
            ("vc", "varchar(40 char)"),
            ("t", "text"),
            ("bin", "blob"),
            ("dt", "date"),
            ("tm", "time(6)"),
            ("ttz", "timetz(6)"),
            ("ts", "timestamp(6)"),
            ("tstz", "timestamptz(6)"),
            ("iym", "interval_ym"),
            ("ids", "interval_ds(6)"),
            ("j", "json"),
            ("x", "xml"),
            ("u", "uuid"),
            ("arr", "array<integer>"),
            ("arr2", "array<array<integer>>"),
            ("arr_t", "array<text>"),
            ("arr_n", "array<decimal(40,2)>"),
            ("m", "map<text,integer>"),
        ],
    );
    let big_repeat = 20 * 1024 * 1024 / 6; // "ab🎉" is 6 bytes: a 20 MB value
    let big = "ab🎉".repeat(big_repeat);
    let d38_max = 10_i128.pow(38) - 1;
    let d60 =
        i256::from_string("-123456789012345678901234567890123456789012345678901234567890").unwrap();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            None,
        ])),
        Arc::new(Int16Array::from(vec![
            Some(i16::MIN),
            Some(i16::MAX),
            None,
            None,
        ])),
        Arc::new(Int32Array::from(vec![Some(i32::MIN), Some(0), None, None])),
        Arc::new(Int64Array::from(vec![
            Some(i64::MAX),
            Some(i64::MIN),
            None,
            None,
        ])),
        Arc::new(
            Decimal128Array::from(vec![Some(d38_max), Some(-1), Some(-d38_max), None])
                .with_precision_and_scale(38, 10)
                .unwrap(),
        ),
        Arc::new(
            Decimal256Array::from(vec![Some(d60), Some(i256::ZERO), None, None])
                .with_precision_and_scale(60, 20)
                .unwrap(),
        ),
        Arc::new(LargeStringArray::from(vec![
            Some("NaN"),
            Some("-12345678901234567890123456789012345678901234567890.000001"),
            Some("Infinity"),
            None,
        ])),
        Arc::new(Float32Array::from(vec![
            Some(f32::NAN),
            Some(f32::INFINITY),
            Some(1.1),
            None,
        ])),
        Arc::new(Float64Array::from(vec![
            Some(-0.0),
            Some(f64::NEG_INFINITY),
            Some(0.1 + 0.2),
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some("ab"),
            Some("é𝄞"),
            None,
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some("𝄞 \"quote\" 'single' \\ tab\t nl\n"),
            Some("日本語🎉"),
            Some(""),
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some(""),
            Some(big.as_str()),
            None,
            None,
        ])),
        Arc::new(LargeBinaryArray::from(vec![
            Some(&[0u8, 1, 0, 255][..]),
            Some(&[][..]),
            None,
            None,
        ])),
        Arc::new(Date32Array::from(vec![
            Some(days(-43, 3, 15)),
            Some(days(10_000, 1, 1)),
            Some(days(2000, 2, 29)),
            None,
        ])),
        Arc::new(Time64MicrosecondArray::from(vec![
            Some(86_399_999_999),
            Some(0),
            Some(1),
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some("12:34:56.789+05:30"),
            Some("00:00:00-08"),
            None,
            None,
        ])),
        Arc::new(TimestampMicrosecondArray::from(vec![
            Some(micros(days(2024, 2, 29), 12, 34, 56, 123_456)),
            Some(micros(days(12_345, 6, 7), 8, 9, 10, 0)),
            Some(micros(days(-4712, 1, 1), 0, 0, 0, 0)),
            None,
        ])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![
                Some(1),
                Some(micros(days(1, 1, 1), 0, 0, 0, 0)),
                Some(micros(days(-99, 12, 31), 23, 59, 59, 999_999)),
                None,
            ])
            .with_timezone("UTC"),
        ),
        Arc::new(LargeStringArray::from(vec![
            Some("P1Y2M"),
            Some("-P1Y1M"),
            Some("P0M"),
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some("P3DT4H5M6.789S"),
            Some("-P1DT2H"),
            Some("PT0.000001S"),
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some(r#"{"b": [1, 2.50, null], "a": "x"}"#),
            Some(r#""just a string""#),
            Some("null"),
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some("<a>1</a>"),
            Some(""),
            None,
            None,
        ])),
        Arc::new(StringArray::from(vec![
            Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            Some("00000000-0000-0000-0000-000000000000"),
            None,
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some("[1, null, 3]"),
            Some("[]"),
            None,
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some("[[1, 2], [3, null]]"),
            Some("[[]]"),
            None,
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some(r#"["a b", "", null, "é\"q", "NULL"]"#),
            Some("[\"\\u00e9\"]"),
            None,
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some("[12345678901234567890123456789012345678.99, -0.50, null]"),
            Some("[\"NaN\"]"),
            None,
            None,
        ])),
        Arc::new(LargeStringArray::from(vec![
            Some(r#"{"k": 1}"#),
            Some("{}"),
            None,
            None,
        ])),
    ];
    let rows = batch(&t, columns);

    let warehouse = PostgresWarehouse::connect(db.url()).await.unwrap();
    let findings = warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    assert!(
        findings.iter().any(|f| f.code == "type.jsonb"),
        "{findings:?}"
    );
    let outcome = warehouse
        .load_chunk("task", &t, 0, ok_stream(vec![rows]))
        .await
        .unwrap();
    assert_eq!(outcome.rows, 4);
    assert!(!outcome.skipped_already_loaded);

    let expected: Vec<(&str, [Option<&str>; 4])> = vec![
        ("b", [Some("true"), Some("false"), None, None]),
        ("i2", [Some("-32768"), Some("32767"), None, None]),
        ("i4", [Some("-2147483648"), Some("0"), None, None]),
        (
            "i8",
            [
                Some("9223372036854775807"),
                Some("-9223372036854775808"),
                None,
                None,
            ],
        ),
        (
            "d38",
            [
                Some("9999999999999999999999999999.9999999999"),
                Some("-0.0000000001"),
                Some("-9999999999999999999999999999.9999999999"),
                None,
            ],
        ),
        (
            "d60",
            [
                Some("-1234567890123456789012345678901234567890.12345678901234567890"),
                Some("0.00000000000000000000"),
                None,
                None,
            ],
        ),
        (
            "n",
            [
                Some("NaN"),
                Some("-12345678901234567890123456789012345678901234567890.000001"),
                Some("Infinity"),
                None,
            ],
        ),
        ("f4", [Some("NaN"), Some("Infinity"), Some("1.1"), None]),
        (
            "f8",
            [
                Some("-0"),
                Some("-Infinity"),
                Some("0.30000000000000004"),
                None,
            ],
        ),
        ("c", [Some("ab"), Some("é𝄞"), None, None]),
        (
            "vc",
            [
                Some("𝄞 \"quote\" 'single' \\ tab\t nl\n"),
                Some("日本語🎉"),
                Some(""),
                None,
            ],
        ),
        ("bin", [Some("\\x000100ff"), Some("\\x"), None, None]),
        (
            "dt",
            [
                Some("0044-03-15 BC"),
                Some("10000-01-01"),
                Some("2000-02-29"),
                None,
            ],
        ),
        (
            "tm",
            [
                Some("23:59:59.999999"),
                Some("00:00:00"),
                Some("00:00:00.000001"),
                None,
            ],
        ),
        (
            "ttz",
            [Some("12:34:56.789+05:30"), Some("00:00:00-08"), None, None],
        ),
        (
            "ts",
            [
                Some("2024-02-29 12:34:56.123456"),
                Some("12345-06-07 08:09:10"),
                Some("4713-01-01 00:00:00 BC"),
                None,
            ],
        ),
        (
            "tstz",
            [
                Some("1970-01-01 00:00:00.000001+00"),
                Some("0001-01-01 00:00:00+00"),
                Some("0100-12-31 23:59:59.999999+00 BC"),
                None,
            ],
        ),
        (
            "iym",
            [
                Some("1 year 2 mons"),
                Some("-1 years -1 mons"),
                Some("00:00:00"),
                None,
            ],
        ),
        (
            "ids",
            [
                Some("3 days 04:05:06.789"),
                Some("-1 days -02:00:00"),
                Some("00:00:00.000001"),
                None,
            ],
        ),
        (
            "j",
            [
                Some(r#"{"a": "x", "b": [1, 2.50, null]}"#),
                Some(r#""just a string""#),
                Some("null"),
                None,
            ],
        ),
        ("x", [Some("<a>1</a>"), Some(""), None, None]),
        (
            "u",
            [
                Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                Some("00000000-0000-0000-0000-000000000000"),
                None,
                None,
            ],
        ),
        ("arr", [Some("{1,NULL,3}"), Some("{}"), None, None]),
        ("arr2", [Some("{{1,2},{3,NULL}}"), Some("{}"), None, None]),
        (
            "arr_t",
            [
                Some(r#"{"a b","",NULL,"é\"q","NULL"}"#),
                Some("{é}"),
                None,
                None,
            ],
        ),
        (
            "arr_n",
            [
                Some("{12345678901234567890123456789012345678.99,-0.50,NULL}"),
                Some("{NaN}"),
                None,
                None,
            ],
        ),
        ("m", [Some(r#"{"k": 1}"#), Some("{}"), None, None]),
    ];
    let mut sql = READ_SETTINGS.to_string();
    for (column, _) in &expected {
        sql.push_str(&format!(
            "SELECT string_agg(quote_nullable({column}::text), ' | ' ORDER BY id) FROM app.types;\n"
        ));
    }
    let out = db.sql(&sql).unwrap();
    // Values may hold newlines: split on the known number of lines per column instead.
    let mut actual = out.as_str();
    for (column, values) in &expected {
        let want = values
            .iter()
            .map(|v| quoted(*v))
            .collect::<Vec<_>>()
            .join(" | ");
        assert!(
            actual.starts_with(&format!("{want}\n")),
            "column {column}:\n want {want}\n got  {}",
            actual.lines().next().unwrap_or_default()
        );
        actual = &actual[want.len() + 1..];
    }
    let big_check = db
        .sql(&format!(
            "SELECT length(t), octet_length(t), t = repeat('ab🎉', {big_repeat}), quote_nullable(t) FROM app.types WHERE id IN (1, 3) ORDER BY id"
        ))
        .unwrap();
    assert_eq!(big_check, format!("0|0|f|''\n|||NULL\n"));
    let big_row = db
        .sql(&format!(
            "SELECT length(t), octet_length(t), t = repeat('ab🎉', {big_repeat}) FROM app.types WHERE id = 2"
        ))
        .unwrap();
    assert_eq!(
        big_row,
        format!("{}|{}|t\n", big_repeat * 3, big_repeat * 6)
    );
}

fn simple_table(name: &str) -> Table {
    table("public", name, &[("id", "bigint"), ("name", "text")])
}

fn simple_batch(t: &Table, ids: std::ops::Range<i64>) -> RecordBatch {
    let names: Vec<String> = ids.clone().map(|i| format!("name {i}")).collect();
    batch(
        t,
        vec![
            Arc::new(Int64Array::from(ids.collect::<Vec<_>>())),
            Arc::new(LargeStringArray::from(names)),
        ],
    )
}

#[tokio::test(flavor = "current_thread")]
async fn each_chunk_loads_exactly_once() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_once");
    let t = simple_table("once");
    let warehouse = PostgresWarehouse::connect(db.url()).await.unwrap();
    warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();

    let first = warehouse
        .load_chunk(
            "task",
            &t,
            1,
            ok_stream(vec![simple_batch(&t, 0..100), simple_batch(&t, 100..150)]),
        )
        .await
        .unwrap();
    assert_eq!((first.rows, first.skipped_already_loaded), (150, false));
    let again = warehouse
        .load_chunk(
            "task",
            &t,
            1,
            ok_stream(vec![simple_batch(&t, 0..100), simple_batch(&t, 100..150)]),
        )
        .await
        .unwrap();
    assert_eq!((again.rows, again.skipped_already_loaded), (150, true));
    assert_eq!(warehouse.row_count(&t).await.unwrap(), 150);

    // The stream fails after one batch: nothing of chunk 2 remains.
    let failing = stream::iter(vec![
        Ok(simple_batch(&t, 1000..1100)),
        Err(StageError("object store read timed out")),
        Ok(simple_batch(&t, 1100..1200)),
    ]);
    let error = warehouse
        .load_chunk("task", &t, 2, failing)
        .await
        .unwrap_err();
    assert!(
        matches!(error, WarehouseError::Source { rows: 100, .. }),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::Transient);
    assert!(error.to_string().contains("chunk 2"), "{error}");

    warehouse
        .load_chunk("task", &t, 3, ok_stream(vec![simple_batch(&t, 3000..3010)]))
        .await
        .unwrap();
    assert_eq!(warehouse.row_count(&t).await.unwrap(), 160);
    let done = warehouse.completed_chunks("task", &t).await.unwrap();
    assert_eq!(done.into_iter().collect::<Vec<_>>(), vec![1, 3]);
    // Another task has its own checkpoints.
    assert!(warehouse
        .completed_chunks("other", &t)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        db.sql("SELECT count(*) FROM migrate.migrate_checkpoint WHERE chunk = 2")
            .unwrap(),
        "0\n"
    );

    // The retry of chunk 2 loads it; the connection is still usable after the failure.
    let retried = warehouse
        .load_chunk(
            "task",
            &t,
            2,
            ok_stream(vec![
                simple_batch(&t, 1000..1100),
                simple_batch(&t, 1100..1200),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(retried.rows, 200);
    let done = warehouse.completed_chunks("task", &t).await.unwrap();
    assert_eq!(done.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(warehouse.row_count(&t).await.unwrap(), 360);
    assert_eq!(
        db.sql("SELECT chunk, rows FROM migrate.migrate_checkpoint ORDER BY chunk")
            .unwrap(),
        "1|150\n2|200\n3|10\n"
    );

    // Truncating for a fresh load forgets the checkpoints with the rows; DoNothing keeps both.
    warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::DoNothing)
        .await
        .unwrap();
    assert_eq!(
        warehouse.completed_chunks("task", &t).await.unwrap().len(),
        3
    );
    warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::TruncateBeforeLoad)
        .await
        .unwrap();
    assert_eq!(warehouse.row_count(&t).await.unwrap(), 0);
    assert!(warehouse
        .completed_chunks("task", &t)
        .await
        .unwrap()
        .is_empty());
}

/// An existing target table that lacks a column the load writes is refused by `prepare` before
/// anything is removed, with what to do (a truncate first would leave it empty and unloadable).
#[tokio::test(flavor = "current_thread")]
async fn an_existing_table_without_a_loaded_column_keeps_its_rows() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_lacking");
    db.sql("CREATE TABLE lacking (id bigint PRIMARY KEY, other int); INSERT INTO lacking VALUES (1, 1);")
        .unwrap();
    let warehouse = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = simple_table("lacking");
    for mode in [PrepMode::TruncateBeforeLoad, PrepMode::DoNothing] {
        let error = warehouse
            .prepare(&t, SourceDialect::Postgres, mode)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("public.lacking")
                && error.contains("\"name\" does not exist")
                && error.contains("--prep-mode DROP_AND_CREATE"),
            "{mode:?}: {error}"
        );
        assert_eq!(db.sql("SELECT count(*) FROM lacking").unwrap(), "1\n");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_loaders_of_one_chunk_load_it_once() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_race");
    let t = simple_table("race");
    let a = PostgresWarehouse::connect(db.url()).await.unwrap();
    let b = PostgresWarehouse::connect(db.url()).await.unwrap();
    a.prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    let (x, y) = tokio::join!(
        a.load_chunk("task", &t, 7, ok_stream(vec![simple_batch(&t, 0..5000)])),
        b.load_chunk("task", &t, 7, ok_stream(vec![simple_batch(&t, 0..5000)])),
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_ne!(x.skipped_already_loaded, y.skipped_already_loaded);
    assert_eq!(a.row_count(&t).await.unwrap(), 5000);
}

#[tokio::test(flavor = "current_thread")]
async fn text_with_nul_fails_the_chunk_naming_column_and_row() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_nul");
    let t = simple_table("nul");
    let warehouse = PostgresWarehouse::connect(db.url()).await.unwrap();
    warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    let bad = batch(
        &t,
        vec![
            Arc::new(Int64Array::from(vec![10, 11, 12])),
            Arc::new(LargeStringArray::from(vec!["ok", "a\0b", "c"])),
        ],
    );
    let error = warehouse
        .load_chunk("task", &t, 5, ok_stream(vec![simple_batch(&t, 0..10), bad]))
        .await
        .unwrap_err();
    match &error {
        WarehouseError::Value {
            table,
            column,
            chunk,
            row,
            message,
        } => {
            assert_eq!(
                (table.as_str(), column.as_str(), *chunk, *row),
                ("public.nul", "name", 5, 11)
            );
            assert!(message.contains("U+0000"), "{message}");
        }
        other => panic!("expected a value error, got {other}"),
    }
    assert_eq!(error.retry(), Retry::Definite);
    let text = error.to_string();
    assert!(
        text.contains("table public.nul, column name, chunk 5, row 11"),
        "{text}"
    );
    assert_eq!(warehouse.row_count(&t).await.unwrap(), 0);
    assert!(warehouse
        .completed_chunks("task", &t)
        .await
        .unwrap()
        .is_empty());
}

/// The error of loading one batch of `columns` into `t` as chunk 0, which must fail.
async fn refused_load(
    warehouse: &PostgresWarehouse,
    t: &Table,
    columns: Vec<ArrayRef>,
) -> WarehouseError {
    warehouse
        .load_chunk("task", t, 0, ok_stream(vec![batch(t, columns)]))
        .await
        .unwrap_err()
}

#[tokio::test(flavor = "current_thread")]
async fn bad_values_and_missing_tables_are_definite_errors() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_bad");
    let warehouse = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = simple_table("never_prepared");
    let error = warehouse
        .load_chunk("task", &t, 0, ok_stream(vec![simple_batch(&t, 0..1)]))
        .await
        .unwrap_err();
    assert!(matches!(error, WarehouseError::Schema { .. }), "{error}");
    assert_eq!(error.retry(), Retry::Definite);

    // A decimal that overflows its NUMERIC(p,s): the server's message, definite, nothing loaded.
    let t = table(
        "public",
        "money",
        &[("id", "bigint"), ("amount", "numeric")],
    );
    warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    db.sql("ALTER TABLE money ALTER amount TYPE numeric(5,2)")
        .unwrap();
    let error = refused_load(
        &warehouse,
        &t,
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(LargeStringArray::from(vec!["1.005", "123456.7"])),
        ],
    )
    .await;
    assert_eq!(error.retry(), Retry::Definite);
    assert!(error.to_string().contains("22003"), "{error}");
    let error = refused_load(
        &warehouse,
        &t,
        vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(LargeStringArray::from(vec!["1e5"])),
        ],
    )
    .await;
    assert!(
        matches!(error, WarehouseError::Value { row: 0, .. }),
        "{error}"
    );
    assert_eq!(warehouse.row_count(&t).await.unwrap(), 0);

    // Spatial values arrive as WKB and load into the BYTEA column convert gives them; a TEXT
    // column (say, made by hand) is refused, saying what to do.
    let t = table("public", "places", &[("id", "bigint"), ("at", "geometry")]);
    warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    let point: &[u8] = &[
        0, 0, 0, 0, 1, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0,
    ];
    let places = |ids: Vec<i64>, points: Vec<Option<&[u8]>>| -> Vec<ArrayRef> {
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(LargeBinaryArray::from(points)),
        ]
    };
    warehouse
        .load_chunk(
            "task",
            &t,
            0,
            ok_stream(vec![batch(&t, places(vec![1, 2], vec![Some(point), None]))]),
        )
        .await
        .unwrap();
    assert_eq!(
        db.sql(
            "SELECT string_agg(coalesce(encode(at, 'hex'), 'null'), ',' ORDER BY id) FROM places"
        )
        .unwrap()
        .trim(),
        "00000000013ff00000000000004000000000000000,null"
    );
    // The checksum runs without PostGIS (none here): it hashes the stored bytes, as the sources
    // hash the WKB they read. The end-to-end tests compare the two hashes.
    let checksum = warehouse
        .chunk_checksum(&t, "", JsonText::Jsonb)
        .await
        .unwrap();
    assert_eq!(checksum.rows, 2);
    db.sql("ALTER TABLE places ALTER COLUMN at TYPE text USING encode(at, 'hex'); TRUNCATE places; DELETE FROM migrate.migrate_checkpoint")
        .unwrap();
    let error = refused_load(&warehouse, &t, places(vec![1], vec![Some(point)])).await;
    assert_eq!(error.retry(), Retry::Definite);
    assert!(
        error
            .to_string()
            .contains("column at: spatial values arrive as WKB and load into a BYTEA column")
            && error.to_string().contains("this column is text")
            && error.to_string().contains("remove-column"),
        "{error}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn foreign_keys_are_not_created_during_the_load() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_fk");
    let mut child = simple_table("child");
    child.constraints.push(Constraint {
        name: Some(Ident::new("child_parent_fk")),
        kind: ConstraintKind::ForeignKey(ForeignKey {
            columns: vec![Ident::new("id")],
            referenced_table: QualifiedName::new(Some(Ident::new("public")), Ident::new("parent")),
            referenced_columns: vec![Ident::new("id")],
            on_delete: None,
            on_update: None,
            match_full: false,
        }),
        state: Default::default(),
        index: Default::default(),
    });
    let warehouse = PostgresWarehouse::connect(db.url()).await.unwrap();
    warehouse
        .prepare(&child, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    warehouse
        .load_chunk(
            "task",
            &child,
            0,
            ok_stream(vec![simple_batch(&child, 0..3)]),
        )
        .await
        .unwrap();
    assert_eq!(
        db.sql("SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
            .unwrap(),
        "0\n"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn target_checksums_match_the_same_query_on_a_source_copy() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_checksum");
    let t = table(
        "public",
        "sums",
        &[
            ("id", "bigint"),
            ("name", "text"),
            ("at", "timestamptz(6)"),
            ("x", "double"),
        ],
    );
    let warehouse = PostgresWarehouse::connect(db.url()).await.unwrap();
    warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    let rows = batch(
        &t,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(LargeStringArray::from(vec![
                Some("a,b"),
                None,
                Some("\"q\""),
            ])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![Some(1_700_000_000_123_456), None, Some(0)])
                    .with_timezone("UTC"),
            ),
            Arc::new(Float64Array::from(vec![Some(0.1), Some(f64::NAN), None])),
        ],
    );
    warehouse
        .load_chunk("task", &t, 0, ok_stream(vec![rows]))
        .await
        .unwrap();
    // The "source": the same rows written with INSERT, in a session with other settings.
    db.sql(
        "SET TimeZone = 'America/New_York';
         CREATE TABLE src (id bigint PRIMARY KEY, name text, at timestamptz(6), x double precision);
         INSERT INTO src VALUES (1, 'a,b', '2023-11-14 22:13:20.123456+00', 0.1),
                                (2, NULL, NULL, 'NaN'), (3, '\"q\"', '1970-01-01 00:00:00+00', NULL);",
    )
    .unwrap();
    // The source side: the shared definition over the source's columns, in a session with the
    // shared settings (the warehouse's own session has them too).
    let columns: Vec<migrate_checksum::ChecksumColumn> = t
        .columns
        .iter()
        .map(|c| migrate_checksum::ChecksumColumn::new(c.name.value.clone(), c.data_type.clone()))
        .collect();
    let source_sql = migrate_checksum::checksum_sql(
        migrate_checksum::Engine::Postgres,
        "src",
        &columns,
        "id >= 1 AND id < 3",
    );
    let source = db
        .sql(&format!(
            "{}; {source_sql}",
            migrate_warehouse::SESSION_SETTINGS
        ))
        .unwrap();
    let target = warehouse
        .chunk_checksum(&t, "id >= 1 AND id < 3", JsonText::Jsonb)
        .await
        .unwrap();
    assert_eq!(target.rows, 2);
    assert_eq!(source, format!("2|{}|{}\n", target.sums[0], target.sums[1]));
    let all = warehouse
        .chunk_checksum(&t, "", JsonText::Jsonb)
        .await
        .unwrap();
    assert_eq!(all.rows, 3);
    assert_ne!(all, target);

    // Row hashes: the same per-row hashes, keyed and ordered by the key's text.
    let key = [columns[0].clone()];
    let source_hashes = db
        .sql(&format!(
            "{}; {}",
            migrate_warehouse::SESSION_SETTINGS,
            migrate_checksum::row_hashes_sql(
                migrate_checksum::Engine::Postgres,
                "src",
                &key,
                &columns,
                ""
            )
        ))
        .unwrap();
    let target_hashes = warehouse
        .row_hashes(&t, &["id"], "", JsonText::Jsonb)
        .await
        .unwrap();
    assert_eq!(
        source_hashes,
        target_hashes
            .iter()
            .map(|h| format!("{}|{}\n", h.key, h.hash))
            .collect::<String>()
    );
    assert_eq!(target_hashes[0].key, "\"1\"");
    // A target column that isn't there is a clear error naming the table's columns.
    let error = warehouse
        .row_hashes(&t, &["nope"], "", JsonText::Jsonb)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no column nope"), "{error}");
}

#[tokio::test(flavor = "current_thread")]
async fn connection_errors_never_show_the_password() {
    let error = PostgresWarehouse::connect("postgres://loader:s3cret-pw@127.0.0.1:1/db")
        .await
        .err()
        .unwrap();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert!(text.contains("loader@127.0.0.1:1/db"), "{text}");
    assert_eq!(error.retry(), Retry::Transient);
}

/// A login role of its own for `db` (named after it; drop it with `DROP OWNED BY ...; DROP ROLE
/// ...` at the end), and the URL of `db` as that role.
fn login_role(db: &migrate_testkit::PgDatabase) -> (String, String) {
    let role = format!("{}_r", db.name());
    db.sql(&format!("CREATE ROLE \"{role}\" LOGIN")).unwrap();
    let as_role = db.url().replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(as_role, db.url());
    (role, as_role)
}

/// A user who may not create the warehouse's schema is told which grant is missing; the hint is
/// not added to other failures of the same statement.
#[tokio::test(flavor = "current_thread")]
async fn a_user_without_create_is_told_the_grant_it_needs() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_no_create");
    let (role, as_role) = login_role(&db);
    let error = PostgresWarehouse::connect(&as_role).await.err().unwrap();
    let text = error.to_string();
    assert!(
        text.contains("the user needs CREATE on the database"),
        "{text}"
    );
    assert!(text.contains("permission denied"), "{text}");
    assert_eq!(error.retry(), Retry::Definite);

    // With the schema made by its owner and CREATE on it granted, the same user connects.
    PostgresWarehouse::connect(db.url()).await.unwrap();
    db.sql(&format!(
        "GRANT USAGE, CREATE ON SCHEMA migrate TO \"{role}\";
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA migrate TO \"{role}\""
    ))
    .unwrap();
    PostgresWarehouse::connect(&as_role).await.unwrap();
    db.sql(&format!("DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\";"))
        .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_table_that_cannot_be_dropped_is_refused_with_its_remedy() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_drop_refused");
    let (role, as_role) = login_role(&db);
    db.sql(&format!(
        "CREATE SCHEMA migrate AUTHORIZATION \"{role}\";
         GRANT CREATE ON SCHEMA public TO \"{role}\";
         CREATE TABLE public.owned (id bigint, name text);
         GRANT ALL ON public.owned TO \"{role}\";
         CREATE TABLE public.viewed (id bigint, name text);
         CREATE VIEW public.on_viewed AS SELECT id FROM public.viewed"
    ))
    .unwrap();

    // Why `url`'s user could not drop and re-create `table`.
    let refused = |url: String, table: &'static str| async move {
        PostgresWarehouse::connect(&url)
            .await
            .unwrap()
            .prepare(
                &simple_table(table),
                SourceDialect::Postgres,
                PrepMode::DropAndCreate,
            )
            .await
            .err()
            .unwrap()
    };
    // Another role's table: the user can't drop it, whatever depends on it.
    let error = refused(as_role.clone(), "owned").await;
    let text = error.to_string();
    assert!(text.contains("only its owner can drop it"), "{text}");
    assert!(!text.contains("must be dropped first"), "{text}");
    assert_eq!(error.retry(), Retry::Definite);

    // The owner's own table with a view on it: the dependency is the cause.
    let text = refused(db.url().to_string(), "viewed").await.to_string();
    assert!(
        text.contains("views or foreign keys that depend on it must be dropped first"),
        "{text}"
    );
    assert!(!text.contains("only its owner"), "{text}");
    db.sql(&format!("DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\";"))
        .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_task_lock_is_waited_for_then_refused_or_taken() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_task_lock");
    let first = PostgresWarehouse::connect(db.url()).await.unwrap();
    let second = PostgresWarehouse::connect(db.url()).await.unwrap();
    let wait = std::time::Duration::from_millis(600);
    assert!(first.lock_task("locked", wait).await.unwrap());
    // Held by the other session all along: refused after the wait, not before.
    let started = std::time::Instant::now();
    assert!(!second.lock_task("locked", wait).await.unwrap());
    assert!(started.elapsed() >= wait, "{:?}", started.elapsed());
    // Freed while waiting (the holder's session ends): taken.
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        drop(first);
    });
    assert!(second
        .lock_task("locked", std::time::Duration::from_secs(10))
        .await
        .unwrap());
    release.await.unwrap();
}
