//! Every MySQL/MariaDB type read exactly, against a real MariaDB: edge values, NULL vs '',
//! character sets, discovery's types and findings, values that can't be carried, and the
//! ReadSpec's casts, expressions and filters.

mod common;

use arrow_array::types::Decimal256Type;
use arrow_array::{
    Array, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, LargeBinaryArray, LargeStringArray, PrimitiveArray, RecordBatch,
    Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, TimeUnit};
use common::{column, connect, days, micros, read_all, read_table, table, TYPES};
use migrate_core::{ConstraintKind, ErrorClass, LogicalType, Retry, Severity};
use migrate_source::{Chunk, ReadColumn, ReadSpec, ReadValue};
use migrate_source_mysql::{MysqlSource, SourceError};
use std::sync::Arc;

/// The single batch of a small read, checked to hold `ids` in that order (one chunk of an InnoDB
/// table comes in key order; the check makes the tests' reliance on it explicit).
fn single(batches: &[RecordBatch], ids: &[i32]) -> RecordBatch {
    assert_eq!(batches.len(), 1, "expected one batch");
    let batch = batches[0].clone();
    assert_eq!(column::<Int32Array>(&batch, "id").values()[..], *ids);
    batch
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_is_read_exactly() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_types");
    db.sql(TYPES).unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let types = table(&catalog, "types");
    let batches = read_table(&source, types).await.unwrap();
    let batch = single(&batches, &[1, 2, 3, 4, 5]);

    // Arrow types follow crates/batch for the canonical types of the MySQL map.
    let arrow_type = |name: &str| {
        batch
            .schema()
            .field_with_name(name)
            .unwrap()
            .data_type()
            .clone()
    };
    assert_eq!(arrow_type("ti"), DataType::Int16);
    assert_eq!(arrow_type("tiu"), DataType::Int16);
    assert_eq!(arrow_type("t1"), DataType::Int16);
    assert_eq!(arrow_type("siu"), DataType::Int32);
    assert_eq!(arrow_type("mi"), DataType::Int32);
    assert_eq!(arrow_type("iu"), DataType::Int64);
    assert_eq!(arrow_type("biu"), DataType::Decimal128(20, 0));
    assert_eq!(arrow_type("d65"), DataType::Decimal256(65, 30));
    assert_eq!(arrow_type("f"), DataType::Float32);
    assert_eq!(arrow_type("b1"), DataType::Boolean);
    assert_eq!(arrow_type("b8"), DataType::Int64);
    assert_eq!(arrow_type("b64"), DataType::Decimal128(20, 0));
    assert_eq!(arrow_type("e"), DataType::LargeUtf8);
    assert_eq!(arrow_type("bn"), DataType::LargeBinary);
    assert_eq!(arrow_type("tm"), DataType::Time64(TimeUnit::Microsecond));
    assert_eq!(
        arrow_type("dtt"),
        DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    assert_eq!(
        arrow_type("ts"),
        DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")))
    );
    assert_eq!(arrow_type("yr"), DataType::Int16);
    assert_eq!(arrow_type("j"), DataType::LargeUtf8);
    assert_eq!(arrow_type("g"), DataType::LargeBinary);

    // Integers at their edges.
    let i16s = |name| column::<Int16Array>(&batch, name).clone();
    assert_eq!(i16s("ti").values()[..2], [-128, 127]);
    assert_eq!(i16s("tiu").values()[..2], [0, 255]);
    assert_eq!(i16s("t1").values()[..2], [-128, 1]);
    assert_eq!(i16s("si").values()[..2], [-32768, 32767]);
    assert_eq!(column::<Int32Array>(&batch, "siu").value(1), 65535);
    assert_eq!(
        column::<Int32Array>(&batch, "mi").values()[..2],
        [-8388608, 8388607]
    );
    assert_eq!(column::<Int32Array>(&batch, "miu").value(1), 16777215);
    assert_eq!(
        column::<Int32Array>(&batch, "i").values()[..2],
        [i32::MIN, i32::MAX]
    );
    assert_eq!(column::<Int64Array>(&batch, "iu").value(1), 4294967295);
    assert_eq!(
        column::<Int64Array>(&batch, "bi").values()[..2],
        [i64::MIN, i64::MAX]
    );
    let biu = column::<Decimal128Array>(&batch, "biu");
    assert_eq!(biu.value(1), i128::from(u64::MAX));
    assert_eq!(biu.value(3), 9223372036854775808);

    // Decimals, exactly, up to 65 digits.
    let d = column::<Decimal128Array>(&batch, "d");
    assert_eq!(d.value_as_string(0), "-99999999.99");
    assert_eq!(d.value_as_string(3), "0.01");
    let d65 = column::<PrimitiveArray<Decimal256Type>>(&batch, "d65");
    let max65 = format!("{}.{}", "9".repeat(35), "9".repeat(30));
    assert_eq!(d65.value_as_string(0), format!("-{max65}"));
    assert_eq!(d65.value_as_string(1), max65);
    assert_eq!(d65.value_as_string(3), format!("0.{}1", "0".repeat(29)));
    let d38 = column::<Decimal128Array>(&batch, "d38");
    assert_eq!(d38.value_as_string(0), format!("-{}", "9".repeat(38)));
    assert_eq!(
        column::<Decimal128Array>(&batch, "du").value_as_string(1),
        "9999.9"
    );

    // Floats: the stored bits, no text round trip.
    let f = column::<Float32Array>(&batch, "f");
    assert_eq!(f.value(0), -3.40282e38f32);
    assert_eq!(f.value(1), 0.1f32);
    assert_eq!(f.value(3), f32::MIN_POSITIVE);
    let db = column::<Float64Array>(&batch, "db");
    assert_eq!(db.value(0), -1.7976931348623157e308);
    assert_eq!(db.value(1), 0.1);
    assert_eq!(db.value(3), 2.2250738585072014e-308);
    // MariaDB stores the literal -0e0 as 0 (its text and binary forms agree).
    assert_eq!(db.value(4), 0.0);

    // BIT fields as numbers.
    let b1 = column::<BooleanArray>(&batch, "b1");
    assert!(!b1.value(0) && b1.value(1));
    assert_eq!(
        column::<Int64Array>(&batch, "b8").values()[..4],
        [0, 255, 0, 128]
    );
    let b64 = column::<Decimal128Array>(&batch, "b64");
    assert_eq!(b64.value(1), i128::from(u64::MAX));
    assert_eq!(b64.value(3), 1i128 << 63);

    // Text: '' is not NULL, Unicode (4-byte too), latin1 converted to UTF-8, escapes kept.
    let text = |name| column::<LargeStringArray>(&batch, name).clone();
    for name in ["c", "vc", "tt", "tx", "mt", "lt", "lat"] {
        let values = text(name);
        assert_eq!(values.value(0), "", "{name}");
        assert!(!values.is_null(0), "{name}");
        assert!(values.is_null(2), "{name}");
    }
    assert_eq!(text("c").value(1), "abcde");
    assert_eq!(text("vc").value(1), "emoji 😀 ok");
    assert_eq!(text("tt").value(1), "tab\there");
    assert_eq!(text("tx").value(1), "line\nbreak \\ back");
    assert_eq!(text("mt").value(1), "Ünïcödé");
    assert_eq!(text("lt").value(1), "ß漢字𝄞");
    assert_eq!(text("lat").value(1), "Ñandú ÿ");
    // CHAR drops trailing spaces when read (MySQL's semantics), VARCHAR keeps leading ones.
    assert_eq!(text("c").value(3), "");
    assert_eq!(text("vc").value(3), " pad");

    // Binary: 0x00 kept, BINARY padded with zeros.
    let bin = |name| column::<LargeBinaryArray>(&batch, name).clone();
    assert_eq!(bin("bn").value(0), [0, 0, 0, 0]);
    assert_eq!(bin("bn").value(1), [0xDE, 0xAD, 0xBE, 0xEF]);
    assert_eq!(bin("bn").value(3), [0x61, 0, 0, 0]);
    assert_eq!(bin("vb").value(1), [0, 0xFF, 0]);
    assert_eq!(bin("vb").value(3), [0u8; 0]);
    assert!(!bin("vb").is_null(3));
    assert_eq!(bin("bl").value(1), [0, 1, 2, 0xFF]);

    // ENUM and SET as their text.
    assert_eq!(text("e").value(1), "it's");
    assert_eq!(text("e").value(3), "b c");
    assert_eq!(text("s").value(0), "");
    assert_eq!(text("s").value(3), "x,y,z");

    // Dates and times, to the microsecond; TIMESTAMP as the UTC instant.
    let dt = column::<Date32Array>(&batch, "dt");
    assert_eq!(dt.value(0), days(1000, 1, 1));
    assert_eq!(dt.value(1), days(9999, 12, 31));
    assert_eq!(dt.value(3), -1);
    let dtt = column::<TimestampMicrosecondArray>(&batch, "dtt");
    assert_eq!(dtt.value(0), micros(1000, 1, 1, 0, 0, 0, 0));
    assert_eq!(dtt.value(1), micros(9999, 12, 31, 23, 59, 59, 999_999));
    assert_eq!(dtt.value(3), -1);
    let ts = column::<TimestampMicrosecondArray>(&batch, "ts");
    assert_eq!(ts.value(0), 1_000_000);
    assert_eq!(ts.value(1), micros(2038, 1, 19, 3, 14, 7, 999_999));
    assert_eq!(ts.value(3), micros(2000, 2, 29, 12, 0, 0, 500_000));
    let tm = column::<Time64MicrosecondArray>(&batch, "tm");
    assert_eq!(tm.value(0), 0);
    assert_eq!(tm.value(1), 86_400_000_000 - 1);
    assert_eq!(tm.value(3), ((12 * 60 + 34) * 60 + 56) * 1_000_000 + 1);
    assert_eq!(i16s("yr").values()[..2], [1901, 2155]);

    // JSON as the document text (MariaDB keeps it as written).
    assert_eq!(text("j").value(1), r#"{"a": [1, 2.50, "x"]}"#);
    assert_eq!(text("j").value(4), "null");

    // Geometry as WKB (without MySQL's SRID prefix).
    let mut point = vec![1u8, 1, 0, 0, 0];
    point.extend(1f64.to_le_bytes());
    point.extend(2f64.to_le_bytes());
    assert_eq!(bin("g").value(0), point);

    // Row 3: NULL in every column but the key.
    for (i, field) in batch.schema().fields().iter().enumerate() {
        if field.name() != "id" {
            assert!(batch.column(i).is_null(2), "{} is not NULL", field.name());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_maps_types_through_the_converter() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_discover");
    db.sql(TYPES).unwrap();
    db.sql(
        "CREATE TABLE parent (a INT, b VARCHAR(10), PRIMARY KEY (a, b), UNIQUE KEY uq_b (b)) ENGINE=InnoDB;
         CREATE TABLE child (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, pa INT NOT NULL,
           pb VARCHAR(10) NOT NULL DEFAULT 'x''y', at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
           CONSTRAINT fk_parent FOREIGN KEY (pa, pb) REFERENCES parent (a, b) ON DELETE CASCADE ON UPDATE CASCADE) ENGINE=InnoDB AUTO_INCREMENT=42;
         CREATE TABLE legacy (id INT PRIMARY KEY) ENGINE=MyISAM;
         CREATE VIEW v AS SELECT * FROM parent;",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let names: Vec<&str> = catalog
        .tables
        .iter()
        .map(|t| t.name.name.value.as_str())
        .collect();
    assert_eq!(names, ["child", "legacy", "parent", "types"]);
    assert!(catalog
        .tables
        .iter()
        .all(|t| t.name.schema.as_ref().unwrap().value == db.name()));

    let types = table(&catalog, "types");
    let ty = |name: &str| {
        types
            .columns
            .iter()
            .find(|c| c.name.value == name)
            .unwrap()
            .data_type
            .to_string()
    };
    let expected = [
        ("id", "integer"),
        ("t1", "smallint"),
        ("tiu", "smallint"),
        ("iu", "bigint"),
        ("biu", "decimal(20,0)"),
        ("d65", "decimal(65,30)"),
        ("du", "decimal(5,1)"),
        ("f", "real"),
        ("db", "double"),
        ("b1", "boolean"),
        ("b8", "bigint"),
        ("b64", "decimal(20,0)"),
        ("c", "char(5 char)"),
        ("vc", "varchar(20 char)"),
        ("tx", "varchar(65535 byte)"),
        ("lt", "text"),
        ("bn", "binary(4)"),
        ("bl", "varbinary(65535)"),
        ("e", "varchar(4 char)"),
        ("s", "varchar(5 char)"),
        ("dtt", "timestamp(6)"),
        ("ts", "timestamptz(6)"),
        ("tm", "time(6)"),
        ("yr", "smallint"),
        ("j", "json"),
        ("g", "geometry"),
    ];
    for (name, canonical) in expected {
        assert_eq!(ty(name), canonical, "{name}");
    }
    // Column order and source types as the server shows them.
    assert_eq!(types.columns[0].name.value, "id");
    assert_eq!(types.columns.last().unwrap().name.value, "g");
    assert_eq!(types.columns[2].source_type, "tinyint(3) unsigned");
    assert!(!types.columns[0].nullable && types.columns[1].nullable);
    assert!(types.statistics.as_ref().unwrap().row_count.is_some());

    // The type map's notes are findings on the column.
    let finding = |code: &str, object: &str| {
        catalog
            .findings
            .iter()
            .any(|f| f.code == code && f.object.ends_with(object))
    };
    assert!(finding("type.tinyint-boolean", "types.t1"));
    assert!(finding("type.unsigned-bigint", "types.biu"));
    assert!(finding("type.time-range", "types.tm"));
    assert!(finding("type.enum", "types.e"));
    assert!(finding("snapshot.not-transactional", "legacy"));
    assert!(catalog
        .findings
        .iter()
        .filter(|f| f.code == "snapshot.not-transactional")
        .all(|f| f.severity == Severity::Warning));

    // Keys, defaults, identity.
    let parent = table(&catalog, "parent");
    assert_eq!(
        parent
            .primary_key()
            .unwrap()
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert!(parent
        .constraints
        .iter()
        .any(|c| matches!(&c.kind, ConstraintKind::Unique(cols) if cols.len() == 1 && cols[0].value == "b")));
    let child = table(&catalog, "child");
    let fk = child.foreign_keys().next().unwrap();
    assert_eq!(fk.referenced_table.name.value, "parent");
    assert_eq!(
        fk.columns
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>(),
        ["pa", "pb"]
    );
    assert_eq!(
        fk.referenced_columns
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(fk.on_delete.as_deref(), Some("CASCADE"));
    assert_eq!(fk.on_update.as_deref(), Some("CASCADE"));
    let id = &child.columns[0];
    assert_eq!(id.identity.unwrap().start, 42);
    let pb = &child.columns[2];
    assert_eq!(
        pb.default,
        Some(migrate_core::ColumnDefault::Expression("'x''y'".into()))
    );
    assert!(child.columns[3]
        .on_update
        .as_deref()
        .unwrap()
        .to_lowercase()
        .starts_with("current_timestamp"));

    // An explicit schema list; the views are left out, the system schemas never appear.
    let other = source.discover(Some(&["mysql".to_string()])).await.unwrap();
    assert!(other.tables.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn zero_dates_are_a_clear_error() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_zero_dates");
    db.sql(
        "SET SESSION sql_mode = '';
         CREATE TABLE d (id INT PRIMARY KEY, day DATE, at DATETIME);
         INSERT INTO d VALUES (1, '2020-01-01', '2020-01-01 00:00:00'), (7, '0000-00-00', '2020-01-01'),
                              (8, '2020-01-01', '2020-00-10 10:00:00');
         CREATE TABLE n (x INT, day DATE); INSERT INTO n VALUES (1, '2021-01-01'), (2, '2021-02-01'), (3, '0000-00-00');",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let error = read_table(&source, table(&catalog, "d")).await.unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, SourceError::Unrepresentable { .. }),
        "{text}"
    );
    assert_eq!(error.retry(), Retry::Definite);
    assert!(text.contains(".d.day, row id=7"), "{text}");
    assert!(text.contains("zero date 0000-00-00"), "{text}");
    assert!(text.contains("NULLIF"), "{text}");

    // A zero month in a DATETIME, found once the zero DATE is mapped away by an expression.
    let d = table(&catalog, "d");
    let mut read = ReadSpec::whole_table(d);
    read.columns[1].value = ReadValue::Expression("NULLIF(`day`, '0000-00-00')".into());
    let snapshot = source.snapshot(1).await.unwrap();
    let error = read_all(&snapshot, &read, &Chunk::whole(), 100)
        .await
        .unwrap_err();
    assert!(error.to_string().contains(".d.at, row id=8"), "{error}");
    assert!(error.to_string().contains("zero month or day"), "{error}");
    // Without the bad rows the same snapshot reads on.
    read.filter = Some("`id` < 8".into());
    let batches = read_all(&snapshot, &read, &Chunk::whole(), 100)
        .await
        .unwrap();
    let day = column::<Date32Array>(&batches[0], "day");
    assert_eq!(batches[0].num_rows(), 2);
    assert!(day.is_null(1));
    snapshot.close().await.unwrap();

    // No key: the row is named by its position.
    let error = read_table(&source, table(&catalog, "n")).await.unwrap_err();
    assert!(error.to_string().contains("row #3 of chunk 0"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn times_outside_a_day_are_a_clear_error() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_time_range");
    db.sql(
        "CREATE TABLE t (id INT PRIMARY KEY, tm TIME(6));
         INSERT INTO t VALUES (1, '838:59:59.000000'), (2, '-838:59:59.000000'), (3, '-00:00:01');",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let t = table(&catalog, "t");
    let error = read_table(&source, t).await.unwrap_err();
    assert!(error.to_string().contains("row id=1"), "{error}");
    assert!(error.to_string().contains("838:59:59"), "{error}");

    // Read as text through a cast (DMS change-data-type), every value is kept.
    let mut read = ReadSpec::whole_table(t);
    read.columns[1].value = ReadValue::Cast("tm".into());
    read.columns[1].data_type = LogicalType::Text;
    let snapshot = source.snapshot(1).await.unwrap();
    let batches = read_all(&snapshot, &read, &Chunk::whole(), 100)
        .await
        .unwrap();
    let text = column::<LargeStringArray>(&batches[0], "tm");
    assert_eq!(
        (0..3).map(|i| text.value(i)).collect::<Vec<_>>(),
        ["838:59:59.000000", "-838:59:59.000000", "-00:00:01.000000"]
    );
    snapshot.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn casts_expressions_and_filters() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_readspec");
    db.sql(
        "CREATE TABLE t (id INT PRIMARY KEY, qty VARCHAR(10), price DECIMAL(10,3), name VARCHAR(20), flag TINYINT);
         INSERT INTO t VALUES (-2, '10', 1.500, 'a', 0), (1, '20', 2.250, NULL, 1), (5, '30', 3.000, 'c', 1),
                              (9, 'x', 0, 'd', 2);",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let t = table(&catalog, "t");
    let column = |name: &str, value: ReadValue, data_type: LogicalType| ReadColumn {
        name: name.into(),
        value,
        data_type,
        nullable: true,
    };
    let read = ReadSpec {
        table: t.clone(),
        columns: vec![
            column("id", ReadValue::Column("id".into()), LogicalType::Integer),
            column("qty_n", ReadValue::Cast("qty".into()), LogicalType::BigInt),
            column(
                "price_2",
                ReadValue::Cast("price".into()),
                LogicalType::Decimal {
                    precision: 12,
                    scale: 2,
                },
            ),
            column(
                "label",
                ReadValue::Expression("CONCAT(`name`, '!')".into()),
                LogicalType::Text,
            ),
            column(
                "flag_b",
                ReadValue::Cast("flag".into()),
                LogicalType::Boolean,
            ),
        ],
        filter: Some("`id` < 9".into()),
    };
    let snapshot = source.snapshot(1).await.unwrap();
    let batches = read_all(&snapshot, &read, &Chunk::whole(), 100)
        .await
        .unwrap();
    let batch = single(&batches, &[-2, 1, 5]);
    assert_eq!(
        common::column::<Int64Array>(&batch, "qty_n").values()[..],
        [10, 20, 30]
    );
    let price = common::column::<Decimal128Array>(&batch, "price_2");
    // A cast rounds as MySQL's CAST does (2.250 -> 2.25, exact here).
    assert_eq!(price.value_as_string(1), "2.25");
    let label = common::column::<LargeStringArray>(&batch, "label");
    assert_eq!(label.value(0), "a!");
    assert!(label.is_null(1));
    let flag = common::column::<BooleanArray>(&batch, "flag_b");
    assert_eq!((flag.value(0), flag.value(1)), (false, true));

    // A filter ANDed with a chunk range.
    let chunk = Chunk {
        index: 1,
        bound: migrate_source::ChunkBound::KeyRange {
            column: "id".into(),
            from: Some(0),
            to: None,
        },
    };
    let batches = read_all(&snapshot, &read, &chunk, 100).await.unwrap();
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 2);

    // A cast that can't hold the value: MySQL turns 'x' into 0 with a warning; the read fails
    // instead of loading the 0.
    let mut bad = read.clone();
    bad.filter = None;
    bad.columns.truncate(2);
    let error = read_all(&snapshot, &bad, &Chunk::whole(), 100)
        .await
        .unwrap_err();
    assert!(matches!(error, SourceError::Warnings { .. }), "{error}");
    assert!(error.to_string().contains("'x'"), "{error}");

    // A boolean cast of 2 is not a boolean.
    let mut bad = read.clone();
    bad.filter = None;
    let error = read_all(&snapshot, &bad, &Chunk::whole(), 100)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("row id=9"), "{error}");

    // A column that doesn't exist, and an expression the server rejects: definite errors.
    let mut bad = read.clone();
    bad.columns[1].value = ReadValue::Column("nope".into());
    let error = read_all(&snapshot, &bad, &Chunk::whole(), 100)
        .await
        .unwrap_err();
    assert!(matches!(error, SourceError::Unsupported { .. }), "{error}");
    let mut bad = read.clone();
    bad.columns[3].value = ReadValue::Expression("no_such_function(`name`)".into());
    let error = read_all(&snapshot, &bad, &Chunk::whole(), 100)
        .await
        .unwrap_err();
    assert_eq!(error.retry(), Retry::Definite, "{error}");
    // The snapshot's reader survived every failed read.
    assert_eq!(
        read_all(&snapshot, &read, &Chunk::whole(), 2)
            .await
            .unwrap()
            .len(),
        2
    );
    snapshot.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_urls_passwords_and_tables() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_errors");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY)").unwrap();

    let error = MysqlSource::connect("mysql://u:secret@host:99999/db")
        .await
        .unwrap_err();
    assert!(matches!(error, SourceError::InvalidUrl { .. }), "{error}");
    assert!(!error.to_string().contains("secret"));

    let url = db.url().replacen(":migrate@", ":wrong-password@", 1);
    assert_ne!(url, db.url());
    let error = MysqlSource::connect(&url).await.unwrap_err();
    assert!(matches!(error, SourceError::Connect { .. }), "{error}");
    assert_eq!(error.server_code(), Some(1045), "{error}");
    assert_eq!(error.retry(), Retry::Definite);
    assert!(!error.to_string().contains("wrong-password"), "{error}");

    let closed = MysqlSource::connect("mysql://migrate@127.0.0.1:1/db")
        .await
        .unwrap_err();
    assert_eq!(closed.retry(), Retry::Transient, "{closed}");

    let unknown_db = db.url().rsplit_once('/').unwrap().0.to_string() + "/no_such_database_here";
    let error = MysqlSource::connect(&unknown_db).await.unwrap_err();
    assert_eq!(error.server_code(), Some(1049), "{error}");

    // A table dropped after discovery.
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    db.sql("DROP TABLE t").unwrap();
    let error = read_table(&source, table(&catalog, "t")).await.unwrap_err();
    assert_eq!(error.server_code(), Some(1146), "{error}");
    assert!(error.to_string().contains("reading chunk 0 of"), "{error}");
    assert!(error.to_string().contains(".t"), "{error}");
    assert_eq!(error.retry(), Retry::Definite);
}

#[tokio::test(flavor = "multi_thread")]
async fn password_from_the_environment() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_pwd");
    let (scheme_user, rest) = db.url().split_once('@').unwrap();
    let (scheme_user, password) = scheme_user.rsplit_once(':').unwrap();
    let url = format!("{scheme_user}@{rest}");
    // Only this test in this binary reads MYSQL_PWD; others pass the password in the URL.
    std::env::set_var("MYSQL_PWD", password);
    let source = MysqlSource::connect(&url).await.unwrap();
    assert!(
        !source.endpoint().contains(&format!(":{password}@")),
        "{}",
        source.endpoint()
    );
    assert!(source.endpoint().ends_with(db.name()));
    let catalog = source.discover(None).await.unwrap();
    assert!(catalog.tables.is_empty());
}
