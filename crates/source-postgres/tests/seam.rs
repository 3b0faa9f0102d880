//! The `migrate_source` seam: ReadSpec columns (renamed, cast, computed), filters, chunks and the
//! shared snapshot's pool, against a real PostgreSQL.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::RecordBatch;
use common::table;
use futures::TryStreamExt;
use migrate_core::{LengthUnit, LogicalType};
use migrate_source::{
    key_range_chunks, ReadColumn, ReadSpec, ReadValue, Snapshot as _, Source as _,
};
use migrate_source_postgres::{PostgresSource, SharedSnapshot, SourceError};

async fn read(
    snapshot: &SharedSnapshot,
    spec: &ReadSpec,
    chunk: &migrate_source::Chunk,
) -> Result<Vec<RecordBatch>, SourceError> {
    snapshot.read_chunk(spec, chunk, 7).try_collect().await
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn read_specs_select_cast_compute_and_filter() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_seam_spec");
    db.sql(
        "CREATE TABLE t (id int PRIMARY KEY, name text, qty int, price numeric(8,2));
         INSERT INTO t SELECT g, 'n' || g, g % 10, g * 1.25 FROM generate_series(1, 100) g;
         ANALYZE t;",
    )
    .unwrap();
    let source = PostgresSource::connect(db.url()).await.unwrap();
    let catalog = migrate_source::Source::discover(&source, None)
        .await
        .unwrap();
    let t = table(&catalog, "t");
    let spec = ReadSpec {
        table: t.clone(),
        columns: vec![
            ReadColumn {
                name: "key".into(),
                value: ReadValue::Column("id".into()),
                data_type: LogicalType::Integer,
                nullable: false,
            },
            ReadColumn {
                name: "qty_text".into(),
                value: ReadValue::Cast("qty".into()),
                data_type: LogicalType::Varchar {
                    length: 5,
                    unit: LengthUnit::Char,
                },
                nullable: true,
            },
            ReadColumn {
                name: "total".into(),
                value: ReadValue::Expression("\"qty\" * 1000000000::bigint".into()),
                data_type: LogicalType::BigInt,
                nullable: true,
            },
        ],
        filter: Some("\"qty\" >= 5".into()),
    };
    let snapshot = source.snapshot(2).await.unwrap();
    // Rows added after the snapshot are invisible to it.
    db.sql("INSERT INTO t SELECT g, 'late', 9, 0 FROM generate_series(101, 150) g")
        .unwrap();

    let chunks = key_range_chunks("id", 1, 100, Some(100), 30);
    let all: Vec<Vec<RecordBatch>> =
        futures::future::try_join_all(chunks.iter().map(|c| read(&snapshot, &spec, c)))
            .await
            .unwrap();
    let batches: Vec<RecordBatch> = all.into_iter().flatten().collect();
    assert_eq!(
        rows(&batches),
        50,
        "qty >= 5 holds for half of the 100 rows"
    );
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["key", "qty_text", "total"]);
    for batch in &batches {
        assert!(batch.num_rows() <= 7);
        let ids = batch.column(0).as_primitive::<Int32Type>();
        let texts = batch.column(1).as_string::<i64>();
        let totals = batch.column(2).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            let qty = ids.value(row) % 10;
            assert!(ids.value(row) <= 100, "a late row was read");
            assert_eq!(texts.value(row), qty.to_string());
            assert_eq!(totals.value(row), i64::from(qty) * 1_000_000_000);
        }
    }

    let checksum = snapshot
        .checksum(&spec, &migrate_source::Chunk::whole())
        .await
        .unwrap();
    assert_eq!(checksum.rows, 50);
    let parts = futures::future::try_join_all(chunks.iter().map(|c| snapshot.checksum(&spec, c)))
        .await
        .unwrap();
    let combined = parts
        .iter()
        .fold(migrate_source::ChunkChecksum::default(), |a, b| {
            a.combine(b)
        });
    assert_eq!(combined, checksum, "chunk checksums add up to the table's");

    let hashes: Vec<_> = snapshot
        .row_hashes(&spec, &chunks[0])
        .try_collect()
        .await
        .unwrap();
    assert!(!hashes.is_empty());
    assert!(hashes
        .windows(2)
        .all(|w| w[0].key.as_bytes() < w[1].key.as_bytes()));
    snapshot.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_specs_name_the_column() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_seam_bad");
    db.sql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'x');")
        .unwrap();
    let source = PostgresSource::connect(db.url()).await.unwrap();
    let catalog = migrate_source::Source::discover(&source, None)
        .await
        .unwrap();
    let mut spec = ReadSpec::whole_table(table(&catalog, "t"));
    spec.columns[1].value = ReadValue::Column("missing".into());
    let snapshot = source.snapshot(1).await.unwrap();
    let error = read(&snapshot, &spec, &migrate_source::Chunk::whole())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("missing") && error.to_string().contains("public.t"),
        "{error}"
    );
    // An expression the server rejects is a definite error naming the chunk and table.
    spec.columns[1].value = ReadValue::Expression("no_such_function(\"v\")".into());
    let error = read(&snapshot, &spec, &migrate_source::Chunk::whole())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no_such_function"), "{error}");
    assert_eq!(
        migrate_core::ErrorClass::retry(&error),
        migrate_core::Retry::Definite
    );
    // The connection is usable after the failure.
    let spec = ReadSpec::whole_table(table(&catalog, "t"));
    let batches = read(&snapshot, &spec, &migrate_source::Chunk::whole())
        .await
        .unwrap();
    assert_eq!(rows(&batches), 1);
    snapshot.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn wide_rows_close_batches_by_size() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_seam_wide");
    // Six values of 12 MB: far fewer rows than a batch holds, far more bytes than it should.
    db.sql(
        "CREATE TABLE wide (id int PRIMARY KEY, v text);
         INSERT INTO wide SELECT g, repeat(chr(64 + g), 12 * 1024 * 1024) FROM generate_series(1, 6) g;",
    )
    .unwrap();
    let source = PostgresSource::connect(db.url()).await.unwrap();
    let catalog = migrate_source::Source::discover(&source, None)
        .await
        .unwrap();
    let spec = ReadSpec::whole_table(table(&catalog, "wide"));
    let snapshot = source.snapshot(1).await.unwrap();
    let batches: Vec<RecordBatch> = snapshot
        .read_chunk(&spec, &migrate_source::Chunk::whole(), 10_000)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows(&batches), 6);
    assert!(
        batches.len() >= 2 && batches.iter().all(|b| b.num_rows() <= 3),
        "batches of {:?} rows",
        batches
            .iter()
            .map(RecordBatch::num_rows)
            .collect::<Vec<_>>()
    );
    snapshot.close().await.unwrap();
}
