//! Chunk plans and snapshots against a real MariaDB: every row read exactly once, one view for
//! every reader, the binlog position, the single-reader fallback without RELOAD.

mod common;

use arrow_array::{Array, Decimal128Array, Int32Array, Int64Array, RecordBatch};
use common::{column, connect, one, read_all, table};
use futures::future::join_all;
use futures::StreamExt;
use migrate_core::Table;
use migrate_source::{Chunk, ChunkBound, ReadSpec};
use migrate_source_mysql::{chunk_predicate, MysqlSnapshot, MysqlSource};
use mysql_async::prelude::Queryable;
use std::collections::BTreeMap;

/// The keys of every row read from `chunks` (as i128: signed and unsigned keys alike), each
/// chunk read concurrently through `snapshot`.
async fn keys_read(snapshot: &MysqlSnapshot, table: &Table, chunks: &[Chunk]) -> Vec<i128> {
    let read = ReadSpec::whole_table(table);
    let reads = chunks
        .iter()
        .map(|chunk| read_all(snapshot, &read, chunk, 777));
    let mut keys = Vec::new();
    for batches in join_all(reads).await {
        for batch in batches.unwrap() {
            keys.extend(key_values(&batch));
        }
    }
    keys.sort();
    keys
}

fn key_values(batch: &RecordBatch) -> Vec<i128> {
    let array = batch.column(0);
    if let Some(a) = array.as_any().downcast_ref::<Int32Array>() {
        a.values().iter().map(|v| i128::from(*v)).collect()
    } else if let Some(a) = array.as_any().downcast_ref::<Int64Array>() {
        a.values().iter().map(|v| i128::from(*v)).collect()
    } else if let Some(a) = array.as_any().downcast_ref::<Decimal128Array>() {
        a.values().to_vec()
    } else {
        panic!("unexpected key type {}", array.data_type())
    }
}

/// Every row of `table` in exactly one chunk, checked in the database too: the sum of the chunk
/// predicates is 1 for every row.
fn rows_not_in_exactly_one_chunk(
    db: &migrate_testkit::MariaDbDatabase,
    table: &Table,
    chunks: &[Chunk],
) -> String {
    let sum = chunks
        .iter()
        .map(|c| format!("({})", chunk_predicate(table, c).unwrap()))
        .collect::<Vec<_>>()
        .join(" + ");
    one(
        db,
        &format!(
            "SELECT COUNT(*) FROM `{}` WHERE {sum} <> 1",
            table.name.name.value
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn chunk_plans_cover_every_row_exactly_once() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_chunks");
    db.sql(
        "CREATE TABLE pos (id INT PRIMARY KEY, v VARCHAR(10));
         INSERT INTO pos SELECT seq, CONCAT('v', seq) FROM seq_1_to_10000;
         CREATE TABLE neg (id BIGINT PRIMARY KEY);
         INSERT INTO neg SELECT seq * 7 FROM seq_0_to_2000;
         INSERT INTO neg SELECT -seq * 13 FROM seq_1_to_2000;
         INSERT INTO neg VALUES (-9223372036854775808), (9223372036854775807);
         CREATE TABLE uns (id BIGINT UNSIGNED PRIMARY KEY);
         INSERT INTO uns SELECT seq * 1000 FROM seq_0_to_3000;
         INSERT INTO uns VALUES (9223372036854775807), (9223372036854775808), (18446744073709551615);
         CREATE TABLE nopk (a INT, b INT);
         INSERT INTO nopk SELECT seq, seq FROM seq_1_to_3000;
         INSERT INTO nopk SELECT seq, seq FROM seq_1_to_10;
         CREATE TABLE composite (a INT, b INT, PRIMARY KEY (a, b));
         INSERT INTO composite SELECT seq % 10, seq FROM seq_1_to_3000;
         CREATE TABLE empty (id INT PRIMARY KEY);
         ANALYZE TABLE pos, neg, uns, nopk, composite;",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();

    let pos = table(&catalog, "pos");
    let chunks = source.plan_chunks(pos, 1000).await.unwrap();
    assert!((8..=12).contains(&chunks.len()), "{chunks:?}");
    // Rows added after planning, beyond the maximum key, fall in the open last chunk.
    db.sql("INSERT INTO pos VALUES (20000, 'late'), (-5, 'early')")
        .unwrap();
    assert_eq!(rows_not_in_exactly_one_chunk(&db, pos, &chunks), "0");

    let neg = table(&catalog, "neg");
    let neg_chunks = source.plan_chunks(neg, 500).await.unwrap();
    assert!(neg_chunks.len() > 1);
    assert_eq!(rows_not_in_exactly_one_chunk(&db, neg, &neg_chunks), "0");

    // BIGINT UNSIGNED above i64::MAX: the plan saturates at i64::MAX and the last chunk is open.
    let uns = table(&catalog, "uns");
    let uns_chunks = source.plan_chunks(uns, 500).await.unwrap();
    assert!(uns_chunks.len() > 1, "{uns_chunks:?}");
    assert_eq!(rows_not_in_exactly_one_chunk(&db, uns, &uns_chunks), "0");

    for name in ["nopk", "composite", "empty"] {
        assert_eq!(
            source
                .plan_chunks(table(&catalog, name), 100)
                .await
                .unwrap(),
            vec![Chunk::whole()],
            "{name}"
        );
    }

    // Read through a snapshot of 3 readers, all chunks at once (more reads than readers wait).
    let snapshot = source.snapshot(3).await.unwrap();
    assert_eq!(snapshot.readers(), 3);
    let mut expected: Vec<i128> = (1..=10_000).collect();
    expected.insert(0, -5);
    expected.push(20_000);
    assert_eq!(keys_read(&snapshot, pos, &chunks).await, expected);

    let mut expected: Vec<i128> = (0..=2000)
        .map(|i| i * 7)
        .chain((1..=2000).map(|i| -i * 13))
        .collect();
    expected.extend([i128::from(i64::MIN), i128::from(i64::MAX)]);
    expected.sort();
    assert_eq!(keys_read(&snapshot, neg, &neg_chunks).await, expected);

    let mut expected: Vec<i128> = (0..=3000).map(|i| i * 1000).collect();
    expected.extend([i128::from(i64::MAX), 1 << 63, i128::from(u64::MAX)]);
    assert_eq!(keys_read(&snapshot, uns, &uns_chunks).await, expected);

    let batches = read_all(
        &snapshot,
        &ReadSpec::whole_table(table(&catalog, "nopk")),
        &Chunk::whole(),
        1000,
    )
    .await
    .unwrap();
    assert_eq!(
        batches
            .iter()
            .map(RecordBatch::num_rows)
            .collect::<Vec<_>>(),
        [1000, 1000, 1000, 10]
    );
    let empty = read_all(
        &snapshot,
        &ReadSpec::whole_table(table(&catalog, "empty")),
        &Chunk::whole(),
        10,
    )
    .await
    .unwrap();
    assert!(empty.is_empty());
    snapshot.close().await.unwrap();
}

/// What a read of `t` saw: rows, sum of ids, how many ids were 20 or less, the largest id.
type View = (usize, i64, usize, i64);

fn add(view: &mut View, batch: &RecordBatch) {
    let ids = column::<Int32Array>(batch, "id").values();
    view.0 += batch.num_rows();
    view.1 += ids.iter().map(|v| i64::from(*v)).sum::<i64>();
    view.2 += ids.iter().filter(|v| **v <= 20).count();
    view.3 = view.3.max(ids.iter().copied().max().map_or(0, i64::from));
}

async fn whole_view(snapshot: &MysqlSnapshot, t: &Table) -> View {
    let mut view = (0, 0, 0, 0);
    let batches = read_all(snapshot, &ReadSpec::whole_table(t), &Chunk::whole(), 50).await;
    for batch in batches.unwrap() {
        add(&mut view, &batch);
    }
    view
}

/// The views of `n` reads of `t` running at once, each holding its reader until all have
/// started, so that `n` readers (no more than the snapshot has) are all used.
async fn concurrent_views(snapshot: &MysqlSnapshot, t: &Table, n: usize) -> Vec<View> {
    let read = ReadSpec::whole_table(t);
    let mut streams: Vec<_> = (0..n)
        .map(|_| snapshot.read_chunk(&read, &Chunk::whole(), 50))
        .collect();
    // The first batch of each: every stream now holds a reader (its task waits to send more).
    let mut views = vec![(0, 0, 0, 0); n];
    for (stream, view) in streams.iter_mut().zip(&mut views) {
        add(view, &stream.next().await.unwrap().unwrap());
    }
    for (stream, view) in streams.iter_mut().zip(&mut views) {
        while let Some(batch) = stream.next().await {
            add(view, &batch.unwrap());
        }
    }
    views
}

#[tokio::test(flavor = "multi_thread")]
async fn every_reader_sees_the_snapshot_and_nothing_later() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_snapshot");
    db.sql(
        "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, v INT) ENGINE=InnoDB;
         INSERT INTO t (v) SELECT seq FROM seq_1_to_1000;",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let t = table(&catalog, "t").clone();

    // A writer commits row after row while the snapshot is taken and read.
    let url = db.url().to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
            let mut written = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                conn.query_drop("INSERT INTO t (v) VALUES (0)")
                    .await
                    .unwrap();
                written += 1;
            }
            written
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let snapshot = source.snapshot(4).await.unwrap();
    assert_eq!(snapshot.readers(), 4);
    assert_eq!(snapshot.single_reader_reason(), None);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Rows committed after the snapshot also include updates and deletes of old rows.
    db.sql(
        "UPDATE t SET id = id + 100000 WHERE id <= 10; DELETE FROM t WHERE id BETWEEN 11 AND 20",
    )
    .unwrap();

    // Four reads each on its own reader, then eight reads on the four readers (waiting for one
    // in turn): every one sees the same rows.
    let views = concurrent_views(&snapshot, &t, 4).await;
    let later = join_all((0..8).map(|_| whole_view(&snapshot, &t))).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written > 0);
    let view = views[0];
    assert!(
        views.iter().chain(&later).all(|v| *v == view),
        "{views:?} {later:?}"
    );
    let (rows, _, first_twenty, max) = view;
    assert!(rows >= 1000, "{rows}");
    // Untouched by the update and delete committed after the snapshot: ids 1..=20 are all
    // there, none moved above 100000.
    assert_eq!(first_twenty, 20);
    assert!(max < 100_000, "{max}");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM t WHERE id <= 20"), "0");
    let now: usize = one(&db, "SELECT COUNT(*) FROM t").parse().unwrap();
    assert!(now > rows, "{now} rows now, {rows} in the snapshot");

    // The binlog position is where the view stands: replaying the binlog from the server's
    // start up to it would give `rows` rows; here, it is before everything written since.
    let position = snapshot
        .binlog_position()
        .expect("the test server has a binlog")
        .clone();
    assert!(position.file.starts_with("mariadb-bin."), "{position}");
    assert!(position.gtid.is_some(), "{position}");
    let status = server.sql("SHOW MASTER STATUS").unwrap();
    let mut fields = status.split_whitespace();
    let (file, pos): (&str, u64) = (
        fields.next().unwrap(),
        fields.next().unwrap().parse().unwrap(),
    );
    assert!(
        (file, pos) > (position.file.as_str(), position.position),
        "{file}:{pos} vs {position}"
    );
    snapshot.close().await.unwrap();

    // A new snapshot sees the changes.
    let snapshot = source.snapshot(1).await.unwrap();
    let views = concurrent_views(&snapshot, &t, 1).await;
    assert_eq!(views[0].0, now);
    snapshot.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_stream_leaves_its_reader_usable() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_drop_stream");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t SELECT seq FROM seq_1_to_20000;")
        .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let t = table(&catalog, "t");
    let snapshot = source.snapshot(1).await.unwrap();
    let read = ReadSpec::whole_table(t);
    {
        let mut stream = snapshot.read_chunk(&read, &Chunk::whole(), 10);
        assert_eq!(stream.next().await.unwrap().unwrap().num_rows(), 10);
    }
    db.sql("INSERT INTO t VALUES (30000)").unwrap();
    // The same (only) reader: the rest of the abandoned result is drained, the view is kept.
    let batches = read_all(&snapshot, &read, &Chunk::whole(), 5000)
        .await
        .unwrap();
    assert_eq!(
        batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        20_000
    );
    snapshot.close().await.unwrap();
}

/// A user without RELOAD, dropped at the end of the test.
struct User<'s> {
    server: &'s migrate_testkit::MariaDb,
    name: String,
}

impl Drop for User<'_> {
    fn drop(&mut self) {
        let _ = self
            .server
            .sql(&format!("DROP USER IF EXISTS '{}'@'%'", self.name));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_reload_one_reader_keeps_the_view() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_noreload");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t SELECT seq FROM seq_1_to_100;")
        .unwrap();
    let user = User {
        server,
        name: migrate_testkit::unique_name("noreload"),
    };
    server
        .sql(&format!(
            "CREATE USER '{u}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON `{d}`.* TO '{u}'@'%';",
            u = user.name,
            d = db.name()
        ))
        .unwrap();
    let (_, host) = db.url().split_once('@').unwrap();
    let url = format!("mysql://{}:pw@{host}", user.name);
    let source = MysqlSource::connect(&url).await.unwrap();
    let catalog = source.discover(None).await.unwrap();
    let t = table(&catalog, "t");

    let snapshot = source.snapshot(4).await.unwrap();
    assert_eq!(snapshot.readers(), 1);
    let reason = snapshot.single_reader_reason().expect("a reason");
    assert!(reason.contains("RELOAD"), "{reason}");
    // MariaDB ties the binlog position to the one transaction.
    let position = snapshot
        .binlog_position()
        .expect("a position from binlog_snapshot_*");
    assert!(position.file.starts_with("mariadb-bin."), "{position}");

    db.sql("INSERT INTO t VALUES (101), (102)").unwrap();
    // Three reads at once on one reader: they wait for it in turn and see the same view.
    let views = concurrent_sums(&snapshot, t, 3).await;
    assert_eq!(views, vec![(100, 5050); 3]);
    snapshot.close().await.unwrap();
}

async fn concurrent_sums(snapshot: &MysqlSnapshot, t: &Table, n: usize) -> Vec<(usize, i64)> {
    let read = ReadSpec::whole_table(t);
    let chunk = Chunk::whole();
    let reads = (0..n).map(|_| read_all(snapshot, &read, &chunk, 7));
    join_all(reads)
        .await
        .into_iter()
        .map(|batches| {
            let batches = batches.unwrap();
            let rows = batches.iter().map(RecordBatch::num_rows).sum();
            let sum = batches
                .iter()
                .flat_map(|b| column::<Int32Array>(b, "id").values().to_vec())
                .map(i64::from)
                .sum();
            (rows, sum)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshots_read_their_chunk_ranges() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_ranges");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t SELECT CAST(seq AS SIGNED) - 50 FROM seq_1_to_100;")
        .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let t = table(&catalog, "t");
    let snapshot = source.snapshot(2).await.unwrap();
    let range = |from, to| Chunk {
        index: 0,
        bound: ChunkBound::KeyRange {
            column: "id".into(),
            from,
            to,
        },
    };
    let mut counts = BTreeMap::new();
    for (name, chunk) in [
        ("below 0", range(None, Some(0))),
        ("0 to 10", range(Some(0), Some(10))),
        ("from 10", range(Some(10), None)),
    ] {
        let batches = read_all(&snapshot, &ReadSpec::whole_table(t), &chunk, 1000)
            .await
            .unwrap();
        counts.insert(
            name,
            batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        );
    }
    assert_eq!(
        counts,
        BTreeMap::from([("below 0", 49), ("0 to 10", 10), ("from 10", 41)])
    );
    let pages = Chunk {
        index: 0,
        bound: ChunkBound::PageRange { from: 0, to: None },
    };
    assert!(read_all(&snapshot, &ReadSpec::whole_table(t), &pages, 10)
        .await
        .is_err());
    snapshot.close().await.unwrap();
}

/// What the pipeline does, generic over the engine: discover, plan, snapshot, read, checksum.
async fn rows_and_checksum<S: migrate_source::Source>(url: &str, name: &str) -> (usize, u64) {
    use migrate_source::Snapshot as _;
    let source = S::connect(url).await.unwrap();
    assert!(!source.endpoint().contains(":migrate@"));
    let catalog = source.discover(None).await.unwrap();
    let t = catalog
        .tables
        .iter()
        .find(|t| t.name.name.value == name)
        .unwrap();
    let chunks = source.plan_chunks(t, 300).await.unwrap();
    assert!(chunks.len() > 1);
    let snapshot = source.snapshot(2).await.unwrap();
    let read = ReadSpec::whole_table(t);
    let mut rows = 0;
    let mut checked = 0;
    for chunk in &chunks {
        let mut stream = snapshot.read_chunk(&read, chunk, 100);
        while let Some(batch) = stream.next().await {
            rows += batch.unwrap().num_rows();
        }
        checked += snapshot.checksum(&read, chunk).await.unwrap().rows;
    }
    snapshot.close().await.unwrap();
    (rows, checked)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_traits_drive_a_chunked_read() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_traits");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t SELECT seq, REPEAT('x', seq % 7) FROM seq_1_to_1000; ANALYZE TABLE t;")
        .unwrap();
    assert_eq!(
        rows_and_checksum::<MysqlSource>(db.url(), "t").await,
        (1000, 1000)
    );
}

/// The connection ids of the open transactions on `db` (the snapshot's readers).
fn reader_threads(db: &migrate_testkit::MariaDbDatabase) -> Vec<String> {
    db.sql(&format!(
        "SELECT p.ID FROM information_schema.INNODB_TRX t
           JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
          WHERE p.DB = '{}' ORDER BY p.ID",
        db.name()
    ))
    .unwrap()
    .lines()
    .map(str::to_string)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_readers_are_dropped_and_the_rest_keep_the_view() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("mysql_lost_reader");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t SELECT seq FROM seq_1_to_500;")
        .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let t = table(&catalog, "t");
    let snapshot = source.snapshot(2).await.unwrap();
    let threads = reader_threads(&db);
    assert_eq!(threads.len(), 2, "{threads:?}");
    db.sql("INSERT INTO t VALUES (501)").unwrap();
    server
        .sql(&format!("KILL CONNECTION {}", threads[0]))
        .unwrap();

    // Two reads that overlap use both readers (the first holds its reader while it has batches
    // left): the one on the killed connection fails (transient: the connection is gone), the
    // other sees the snapshot.
    let read = ReadSpec::whole_table(t);
    let chunk = Chunk::whole();
    let mut first = snapshot.read_chunk(&read, &chunk, 100);
    let first_batch = first.next().await;
    let mut second = snapshot.read_chunk(&read, &chunk, 100);
    let second_batch = second.next().await;
    let (mut survivor, survivor_batch, error) = match (first_batch, second_batch) {
        (Some(Ok(batch)), Some(Err(e))) => (first, batch, e),
        (Some(Err(e)), Some(Ok(batch))) => (second, batch, e),
        (a, b) => panic!("expected one failed and one working read, got {a:?} and {b:?}"),
    };
    let mut rows = survivor_batch.num_rows();
    while let Some(batch) = survivor.next().await {
        rows += batch.unwrap().num_rows();
    }
    assert_eq!(rows, 500, "the survivor reads the rows of the snapshot");
    drop(survivor);
    assert_eq!(
        migrate_core::ErrorClass::retry(&error),
        migrate_core::Retry::Transient,
        "{error}"
    );
    assert_eq!(snapshot.readers(), 1);
    // The survivor reads on with the snapshot's view, also for reads waiting their turn.
    for rows in join_all((0..3).map(|_| read_all(&snapshot, &read, &chunk, 1000))).await {
        assert_eq!(
            rows.unwrap()
                .iter()
                .map(RecordBatch::num_rows)
                .sum::<usize>(),
            500
        );
    }

    // The last one lost: its read fails, then every read says the snapshot is gone (no hang).
    server
        .sql(&format!("KILL CONNECTION {}", threads[1]))
        .unwrap();
    assert!(read_all(&snapshot, &read, &chunk, 1000).await.is_err());
    let error = read_all(&snapshot, &read, &chunk, 1000).await.unwrap_err();
    assert!(
        matches!(
            error,
            migrate_source_mysql::SourceError::SnapshotLost { .. }
        ),
        "{error}"
    );
    assert_eq!(snapshot.readers(), 0);
    snapshot.close().await.unwrap();
}
