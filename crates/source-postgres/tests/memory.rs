//! Memory stays bounded while streaming a large table (its own test binary: RSS is per process,
//! and other tests running beside it would blur the measure).

mod common;

use common::{connect, table, whole};
use futures::StreamExt;
use std::time::Instant;

fn one(db: &migrate_testkit::PgDatabase, sql: &str) -> String {
    db.sql(sql).unwrap().trim().to_string()
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_a_million_rows_keeps_memory_bounded() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_memory");
    // ~200 bytes a row: ~200 MB if the rows were collected.
    db.sql(
        "CREATE TABLE wide AS SELECT g AS id, g * 1.5 AS x, now() AS at,
                repeat(md5(g::text), 6) AS v FROM generate_series(1, 1000000) g;
         ALTER TABLE wide ADD PRIMARY KEY (id); ANALYZE wide;",
    )
    .unwrap();
    let bytes: u64 = one(&db, "SELECT pg_table_size('wide')").parse().unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let wide = table(&catalog, "wide");
    let before = rss_bytes();
    let mut peak = before;
    let mut rows = 0;
    let started = Instant::now();
    let mut stream = source.read_chunk(None, wide, &whole(), 10_000);
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 10_000);
        rows += batch.num_rows();
        peak = peak.max(rss_bytes());
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(rows, 1_000_000);
    let growth = peak.saturating_sub(before);
    eprintln!(
        "read 1M rows ({:.0} MB on disk) in {elapsed:.2} s: {:.0} rows/s, {:.1} MB/s; RSS growth {} MB",
        bytes as f64 / 1e6,
        rows as f64 / elapsed,
        bytes as f64 / 1e6 / elapsed,
        growth / 1_000_000
    );
    assert!(
        growth < 64 * 1024 * 1024,
        "RSS grew by {} MB reading 1M rows in batches of 10k",
        growth / 1_000_000
    );
}
