//! Throughput and memory of a 1M-row read against the `mariadb` client (its own test binary, so
//! that RSS measures this reader alone).

mod common;

use common::{connect, rss_bytes, table};
use futures::future::join_all;
use futures::StreamExt;
use migrate_source::{Chunk, ReadSpec};
use std::time::Instant;

/// Runs the `mariadb` client on `sql` with output to /dev/null; the seconds it took.
fn client_seconds(
    db: &migrate_testkit::MariaDbDatabase,
    client: &std::path::Path,
    extra: &[&str],
    sql: &str,
) -> f64 {
    // mysql://user:password@host:port/database
    let rest = db.url().split_once("://").unwrap().1;
    let (userinfo, hostpart) = rest.rsplit_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    let (hostport, database) = hostpart.split_once('/').unwrap();
    let (host, port) = hostport.rsplit_once(':').unwrap();
    let started = Instant::now();
    let status = std::process::Command::new(client)
        .args(["--no-defaults", "--protocol=TCP", "--batch"])
        .args(extra)
        .arg(format!("--host={host}"))
        .arg(format!("--port={port}"))
        .arg(format!("--user={user}"))
        .arg(format!("--database={database}"))
        .args(["-e", sql])
        .env("MYSQL_PWD", password)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    started.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_million_rows_stream_with_bounded_memory() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_million");
    // ~230 bytes a row: ~230 MB if the rows were collected.
    db.sql(
        "CREATE TABLE wide (id INT PRIMARY KEY, x DECIMAL(12,1), at DATETIME(6), f DOUBLE,
                            v VARCHAR(200)) ENGINE=InnoDB;
         INSERT INTO wide SELECT seq, seq * 1.5, '2024-01-01 00:00:00' + INTERVAL seq SECOND,
                                 seq / 7, REPEAT(MD5(seq), 6) FROM seq_1_to_1000000;
         ANALYZE TABLE wide;",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let wide = table(&catalog, "wide");
    let read = ReadSpec::whole_table(wide);

    let snapshot = source.snapshot(2).await.unwrap();
    let before = rss_bytes();
    let mut peak = before;
    let started = Instant::now();
    let mut rows = 0;
    let mut stream = snapshot.read_chunk(&read, &Chunk::whole(), 10_000);
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 10_000);
        rows += batch.num_rows();
        peak = peak.max(rss_bytes());
    }
    let one_reader = started.elapsed().as_secs_f64();
    assert_eq!(rows, 1_000_000);
    let growth = peak.saturating_sub(before);

    // Two chunks on two readers at once.
    let chunks = source.plan_chunks(wide, 500_000).await.unwrap();
    assert_eq!(chunks.len(), 2);
    let started = Instant::now();
    let counts = join_all(chunks.iter().map(|chunk| async {
        let mut stream = snapshot.read_chunk(&read, chunk, 10_000);
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            rows += batch.unwrap().num_rows();
        }
        rows
    }))
    .await;
    let two_readers = started.elapsed().as_secs_f64();
    assert_eq!(counts.iter().sum::<usize>(), 1_000_000);
    snapshot.close().await.unwrap();

    let client = server.client_path();
    let select = "SELECT * FROM wide";
    let batch_mode = client_seconds(&db, client, &[], select);
    let quick = client_seconds(&db, client, &["--quick"], select);
    eprintln!(
        "1M rows: read_chunk {one_reader:.2} s ({:.0} rows/s), 2 chunks on 2 readers {two_readers:.2} s; \
         mariadb --batch {batch_mode:.2} s, mariadb --batch --quick {quick:.2} s; RSS growth {} MB",
        1e6 / one_reader,
        growth >> 20
    );
    assert!(
        growth < 64 << 20,
        "RSS grew by {} MB reading 1M rows in batches of 10k",
        growth >> 20
    );
}
