//! The change stream's socket reader runs on a thread of its own (`pg-replication`, paced while
//! changes flow): every change of a large transaction arrives through it, and the thread ends
//! with its stream, so that streams reopened after errors leave no threads behind. A test binary
//! of its own: other tests' streams would have such threads too.

mod common;

use common::{capture, open_table};
use migrate_source::{ChangeEvent, ChangeSource, ChangeStream, Snapshot as _};
use std::time::{Duration, Instant};

/// Threads of this process named `pg-replication`.
fn reader_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "pg-replication")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reader_thread_carries_every_change_and_ends_with_its_stream() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_reader_thread");
    db.sql("CREATE TABLE t (id int PRIMARY KEY, v text)")
        .unwrap();
    let (source, t, snapshot, start) = capture(&db, "reader", "t").await;
    snapshot.close().await.unwrap();
    assert_eq!(reader_threads(), 0);

    let mut changes = open_table(&source, "reader", &t, &start).await.unwrap();
    assert_eq!(reader_threads(), 1);
    // Enough changes to keep the reader paced for a while, then a pause (it waits for the
    // socket again), then one more transaction.
    const ROWS: usize = 200_000;
    db.sql(&format!(
        "INSERT INTO t SELECT i, repeat('x', 50) FROM generate_series(1, {ROWS}) i"
    ))
    .unwrap();
    let mut rows = 0;
    let mut paused = false;
    while rows < ROWS + 1 {
        let event = tokio::time::timeout(Duration::from_secs(60), changes.next_event())
            .await
            .expect("no change within 60 s")
            .unwrap()
            .expect("the stream ended");
        match event {
            ChangeEvent::Rows { changes, .. } => rows += changes.num_rows(),
            ChangeEvent::Commit { .. } if rows == ROWS && !paused => {
                paused = true;
                tokio::time::sleep(Duration::from_millis(500)).await;
                db.sql("INSERT INTO t VALUES (0, 'after a pause')").unwrap();
            }
            _ => {}
        }
    }
    assert_eq!(rows, ROWS + 1);

    drop(changes);
    let deadline = Instant::now() + Duration::from_secs(10);
    while reader_threads() > 0 {
        assert!(
            Instant::now() < deadline,
            "the reader's thread outlived its stream by 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    source.drop_capture("reader").await.unwrap();
}
