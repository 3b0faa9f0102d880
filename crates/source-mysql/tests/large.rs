//! Large values (its own test binary, so that RSS measures this reader alone): a 100 MB
//! LONGBLOB and a 40 MB text of 4-byte characters.

mod common;

use arrow_array::{LargeBinaryArray, LargeStringArray, RecordBatch};
use common::{column, connect, one, rss_bytes, table};
use futures::StreamExt;
use migrate_source::{Chunk, ReadSpec};
use std::time::Instant;

/// Raises the server's `max_allowed_packet` (a value travels in one packet: 100 MB needs more
/// than the default 16 MB) for the sessions opened from now on, and puts it back when dropped.
struct PacketLimit<'s> {
    server: &'s migrate_testkit::MariaDb,
    before: u64,
}

impl<'s> PacketLimit<'s> {
    fn at_least(server: &'s migrate_testkit::MariaDb, bytes: u64) -> PacketLimit<'s> {
        let before: u64 = server
            .sql("SELECT @@global.max_allowed_packet")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        if before < bytes {
            server
                .sql(&format!("SET GLOBAL max_allowed_packet = {bytes}"))
                .unwrap();
        }
        PacketLimit { server, before }
    }
}

impl Drop for PacketLimit<'_> {
    fn drop(&mut self) {
        let _ = self
            .server
            .sql(&format!("SET GLOBAL max_allowed_packet = {}", self.before));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_100_mb_value_is_read_whole_with_sane_memory() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let _limit = PacketLimit::at_least(server, 256 << 20);
    let db = server.create_database("mysql_large");
    // 5-byte pattern x 20,971,520 = 104,857,600 bytes, with 0x00 and 0xFF in it; and a 4-byte
    // character text of 40 MB.
    db.sql(
        "CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT CHARACTER SET utf8mb4);
         INSERT INTO big VALUES (1, REPEAT(CONCAT(CHAR(0), 'abc', CHAR(255)), 20971520),
                                    REPEAT(CONVERT(X'F09F9880' USING utf8mb4), 10485760)),
                                (2, X'00', '');",
    )
    .unwrap();
    assert_eq!(
        one(&db, "SELECT LENGTH(b) FROM big WHERE id = 1"),
        "104857600"
    );
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let big = table(&catalog, "big");
    let snapshot = source.snapshot(1).await.unwrap();
    let before = rss_bytes();
    let started = Instant::now();
    let mut stream = snapshot.read_chunk(&ReadSpec::whole_table(big), &Chunk::whole(), 1000);
    let mut batches: Vec<RecordBatch> = Vec::new();
    let mut peak = before;
    while let Some(batch) = stream.next().await {
        batches.push(batch.unwrap());
        peak = peak.max(rss_bytes());
    }
    let elapsed = started.elapsed();
    // The first row alone passes the batch byte limit: it comes in a batch of its own.
    assert_eq!(
        batches
            .iter()
            .map(RecordBatch::num_rows)
            .collect::<Vec<_>>(),
        [1, 1]
    );
    let b = column::<LargeBinaryArray>(&batches[0], "b").value(0);
    assert_eq!(b.len(), 104_857_600);
    assert!(b.chunks(5).all(|c| c == [0, b'a', b'b', b'c', 255]));
    let t = column::<LargeStringArray>(&batches[0], "t").value(0);
    assert_eq!(t.len(), 41_943_040);
    assert!(t.chars().all(|c| c == '😀'));
    assert_eq!(column::<LargeBinaryArray>(&batches[1], "b").value(0), [0]);
    let growth = peak.saturating_sub(before);
    eprintln!(
        "read a 100 MB blob and a 40 MB text in {:.2} s; RSS growth {} MB",
        elapsed.as_secs_f64(),
        growth >> 20
    );
    // The values themselves (145 MB, held in the batch) plus the driver's packet buffer and
    // row: about 3 copies at the peak.
    assert!(growth < 450 << 20, "RSS grew by {} MB", growth >> 20);
    drop(batches);
    snapshot.close().await.unwrap();
}
