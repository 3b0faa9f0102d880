//! 1M rows through `load_chunk` against `psql \copy` of the same rows (text format), on the same
//! server. Ignored by default (it measures, it doesn't check); run it with
//! `cargo test --release -p migrate-warehouse --test throughput -- --ignored --nocapture`.

use arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, Int64Array, LargeStringArray, RecordBatch,
    TimestampMicrosecondArray,
};
use futures::{stream, StreamExt};
use migrate_core::{
    Column, ErrorClass, Ident, LogicalType, QualifiedName, Retry, SourceDialect, Table,
};
use migrate_warehouse::{PostgresWarehouse, PrepMode};
use std::sync::Arc;
use std::time::Instant;

const ROWS: i64 = 1_000_000;
const BATCH: i64 = 8192;

#[derive(Debug)]
struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}

impl ErrorClass for Never {
    fn retry(&self) -> Retry {
        Retry::Definite
    }
}

fn table(name: &str) -> Table {
    let mut table = Table::new(QualifiedName::unqualified(Ident::new(name)));
    for (column, ty) in [
        ("id", "bigint"),
        ("name", "varchar(100 char)"),
        ("amount", "decimal(12,2)"),
        ("created", "timestamptz(6)"),
        ("flag", "boolean"),
        ("note", "text"),
    ] {
        table.columns.push(Column::new(
            Ident::new(column),
            ty,
            LogicalType::parse(ty).unwrap(),
        ));
    }
    table
}

fn batch(table: &Table, start: i64, len: i64) -> RecordBatch {
    let ids: Vec<i64> = (start..start + len).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.clone())),
        Arc::new(LargeStringArray::from(
            ids.iter()
                .map(|i| format!("customer name {i:08}"))
                .collect::<Vec<_>>(),
        )),
        Arc::new(
            Decimal128Array::from(
                ids.iter()
                    .map(|i| i128::from(i * 37 % 10_000_000))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(12, 2)
            .unwrap(),
        ),
        Arc::new(
            TimestampMicrosecondArray::from(
                ids.iter()
                    .map(|i| 1_700_000_000_000_000 + i * 1_234_567)
                    .collect::<Vec<_>>(),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(BooleanArray::from(
            ids.iter().map(|i| i % 3 == 0).collect::<Vec<_>>(),
        )),
        Arc::new(LargeStringArray::from(
            ids.iter()
                .map(|i| (i % 4 != 0).then(|| format!("a note about row {i}, with some text")))
                .collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(Arc::new(migrate_batch::schema(table)), columns).unwrap()
}

#[tokio::test(flavor = "current_thread")]
#[ignore]
async fn one_million_rows_against_psql_copy() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("wh_throughput");
    let t = table("bench");
    let warehouse = PostgresWarehouse::connect(db.url()).await.unwrap();
    warehouse
        .prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    // Batches are built as they are consumed, like a stage reader: memory stays one batch.
    let batches = stream::iter((0..ROWS).step_by(BATCH as usize))
        .map(|start| Ok::<_, Never>(batch(&t, start, BATCH.min(ROWS - start))));
    let started = Instant::now();
    let outcome = warehouse.load_chunk("bench", &t, 0, batches).await.unwrap();
    let ours = started.elapsed().as_secs_f64();
    assert_eq!(outcome.rows, ROWS as u64);

    // The same rows as text, through psql.
    let file = std::env::temp_dir().join(format!("{}.tsv", db.name()));
    let file = file.display();
    db.sql(&format!("\\copy bench to '{file}'")).unwrap();
    let bytes = std::fs::metadata(file.to_string()).unwrap().len() as f64;
    db.sql("CREATE TABLE bench2 (LIKE bench INCLUDING ALL)")
        .unwrap();
    let started = Instant::now();
    db.sql(&format!("\\copy bench2 from '{file}'")).unwrap();
    let psql = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(file.to_string());
    let mb = bytes / 1e6;
    println!(
        "load_chunk (binary COPY, incl. building the batches): {ROWS} rows in {ours:.2} s = {:.0} rows/s, {:.1} MB/s of text-equivalent data",
        ROWS as f64 / ours,
        mb / ours
    );
    println!(
        "psql \\copy from a text file ({mb:.1} MB):            {ROWS} rows in {psql:.2} s = {:.0} rows/s, {:.1} MB/s; ratio ours/psql = {:.2}",
        ROWS as f64 / psql,
        mb / psql,
        psql / ours
    );
}
