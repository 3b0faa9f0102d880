//! Decode rate and memory of the binlog change stream on a 1M-row transaction, against
//! `mariadb-binlog` reading and decoding the same binlog range from the server (its own test
//! binary, so that RSS measures this stream alone).

mod common;

use common::{connect, rss_bytes, table};
use migrate_source::{ChangeEvent, ChangeSource, ChangeStream, Position};
use migrate_source_mysql::BATCH_ROWS;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn a_million_row_transaction_streams_in_bounded_memory() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_million");
    db.sql(
        "CREATE TABLE wide (id INT PRIMARY KEY, x DECIMAL(12,1), at DATETIME(6), f DOUBLE,
                            v VARCHAR(200)) ENGINE=InnoDB",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let snapshot = source.snapshot(1).await.unwrap();
    let start = snapshot.binlog_position().unwrap().clone();
    snapshot.close().await.unwrap();
    let from = Position(format!("{}:{}", start.file, start.position));
    let catalog = source.discover(None).await.unwrap();
    let tables = vec![table(&catalog, "wide").clone()];
    // ~230 bytes a row: ~230 MB if the transaction were collected.
    db.sql(
        "INSERT INTO wide SELECT seq, seq * 1.5, '2024-01-01 00:00:00' + INTERVAL seq SECOND,
                                 seq / 7, REPEAT(MD5(seq), 6) FROM seq_1_to_1000000",
    )
    .unwrap();

    let none: migrate_source::TableFilter =
        std::sync::Arc::new(|_: &migrate_core::QualifiedName| false);
    let mut stream = source
        .open_changes(
            "million",
            &tables,
            migrate_source::Selection::every_column(none),
            &from,
        )
        .await
        .unwrap();
    let before = rss_bytes();
    let mut peak = before;
    let started = Instant::now();
    let mut rows = 0;
    let end = loop {
        let event = tokio::time::timeout(Duration::from_secs(300), stream.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event {
            ChangeEvent::Rows { changes, .. } => {
                assert!(changes.num_rows() <= BATCH_ROWS);
                rows += changes.num_rows();
                peak = peak.max(rss_bytes());
            }
            ChangeEvent::Commit { position, .. } => break position,
            _ => {}
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(rows, 1_000_000);
    let growth = peak.saturating_sub(before);

    // The baseline: the server's own client reading and decoding the same range to text.
    let rest = db.url().split_once("://").unwrap().1;
    let (userinfo, hostpart) = rest.rsplit_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    let (host, port) = hostpart
        .split_once('/')
        .unwrap()
        .0
        .rsplit_once(':')
        .unwrap();
    let stop: u64 = end
        .0
        .split(';')
        .next()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .1
        .parse()
        .unwrap();
    let end_file = end.0.split(':').next().unwrap().to_string();
    let baseline = |decode: bool| {
        let started = Instant::now();
        let mut command = std::process::Command::new("mariadb-binlog");
        command
            .args(["--no-defaults", "--read-from-remote-server"])
            .arg(format!("--host={host}"))
            .arg(format!("--port={port}"))
            .arg(format!("--user={user}"))
            .arg(format!("--start-position={}", start.position))
            .arg(format!("--stop-position={stop}"));
        if decode {
            command.args(["--base64-output=decode-rows", "--verbose"]);
        }
        let status = command
            .arg(&start.file)
            .env("MYSQL_PWD", password)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        started.elapsed().as_secs_f64()
    };
    // Only comparable when the transaction is in one file.
    let (raw, decoded) = if end_file == start.file {
        (baseline(false), baseline(true))
    } else {
        (f64::NAN, f64::NAN)
    };
    eprintln!(
        "1M-row transaction: change stream {seconds:.2} s ({:.0} rows/s), RSS growth {} MB; \
         mariadb-binlog raw {raw:.2} s, mariadb-binlog --verbose decode-rows {decoded:.2} s",
        1e6 / seconds,
        growth >> 20
    );
    assert!(
        growth < 128 << 20,
        "RSS grew by {} MB streaming a 1M-row transaction",
        growth >> 20
    );
}
