//! Change capture against a real PostgreSQL: the slot's snapshot and its changes meet without gap
//! or overlap; inserts, updates (key changes, unchanged TOAST values), deletes, truncates and
//! column changes arrive as change batches; a stream resumed from a commit position delivers
//! exactly the later transactions.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use common::{table, whole};
use futures::TryStreamExt;
use migrate_core::Table;
use migrate_source::{
    ChangeEvent, ChangeSource, ChangeStream, Position, ReadSpec, Selection, Snapshot as _,
};
use migrate_source_postgres::{PostgresChanges, PostgresSource, SharedSnapshot};
use std::sync::Arc;
use std::time::Duration;

/// A PostgreSQL LSN (`X/Y`) as a number.
fn lsn(text: &str) -> u64 {
    let (high, low) = text.trim().split_once('/').expect("an LSN");
    (u64::from_str_radix(high, 16).unwrap() << 32) | u64::from_str_radix(low, 16).unwrap()
}

/// Events until a commit at or past `end` (Idle events left out). Consecutive transactions may
/// come as one batch with the last one's commit.
async fn events_until(changes: &mut PostgresChanges, end: &str) -> Vec<ChangeEvent> {
    let mut out = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), changes.next_event())
            .await
            .expect("no change within 30 s")
            .unwrap()
            .expect("the stream ended");
        let done = match &event {
            ChangeEvent::Idle { .. } => continue,
            ChangeEvent::Commit { position, .. } => lsn(&position.0) >= lsn(end),
            _ => false,
        };
        out.push(event);
        if done {
            return out;
        }
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a dyn Array {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_ref()
}

/// (op, before id, after id, unchanged) of one row change.
type RowChange = (String, Option<i64>, Option<i64>, Option<String>);

/// Every row change of the `Rows` events.
fn rows(events: &[ChangeEvent]) -> Vec<RowChange> {
    let mut out = Vec::new();
    for event in events {
        if let ChangeEvent::Rows { changes, .. } = event {
            let op = column(changes, "__op").as_string::<i32>();
            let unchanged = column(changes, "__unchanged").as_string::<i32>();
            let before = column(changes, "__before_id").as_primitive::<Int64Type>();
            let after = column(changes, "id").as_primitive::<Int64Type>();
            for i in 0..changes.num_rows() {
                out.push((
                    op.value(i).to_string(),
                    before.is_valid(i).then(|| before.value(i)),
                    after.is_valid(i).then(|| after.value(i)),
                    unchanged
                        .is_valid(i)
                        .then(|| unchanged.value(i).to_string()),
                ));
            }
        }
    }
    out
}

/// Connects to `db` and starts capture `task` of its table `name`: the source, the table, the
/// snapshot and the position the changes start at.
async fn capture(
    db: &migrate_testkit::PgDatabase,
    task: &str,
    name: &str,
) -> (PostgresSource, Table, SharedSnapshot, Position) {
    let source = PostgresSource::connect(db.url()).await.unwrap();
    let catalog = source.discover(None).await.unwrap();
    let table = table(&catalog, name).clone();
    let (snapshot, start) = source
        .capture_snapshot(task, std::slice::from_ref(&table), 2)
        .await
        .unwrap();
    (source, table, snapshot, start)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_slot_snapshot_and_its_changes_meet_exactly_and_resume_by_position() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_stream");
    db.sql(
        "CREATE TABLE t (id bigint PRIMARY KEY, note text, big text);
         ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL;
         CREATE TABLE other (id bigint PRIMARY KEY);
         INSERT INTO t SELECT g, 'n' || g, NULL FROM generate_series(1, 10) g;",
    )
    .unwrap();
    let (source, t, snapshot, start) = capture(&db, "stream test", "t").await;
    // Committed after the slot: not in the snapshot, first in the stream.
    db.sql("INSERT INTO t VALUES (11, 'late', NULL)").unwrap();
    let loaded: Vec<RecordBatch> = snapshot
        .read_chunk(&ReadSpec::whole_table(&t), &whole(), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(loaded.iter().map(RecordBatch::num_rows).sum::<usize>(), 10);
    snapshot.close().await.unwrap();

    let big = "x".repeat(100_000);
    db.sql(&format!(
        "UPDATE t SET big = '{big}' WHERE id = 1;
         BEGIN; UPDATE t SET id = 100 WHERE id = 2; DELETE FROM t WHERE id = 3; INSERT INTO other VALUES (1); COMMIT;
         UPDATE t SET note = 'toast kept' WHERE id = 1;
         TRUNCATE t;
         ALTER TABLE t ADD COLUMN extra int;
         INSERT INTO t VALUES (7, 'with extra', NULL, 42);"
    ))
    .unwrap();
    let end = db.sql("SELECT pg_current_wal_insert_lsn()").unwrap();
    let mut changes = source
        .open_changes(
            "stream test",
            std::slice::from_ref(&t),
            Selection::every_column(Arc::new(|n| n.name.value == "t")),
            &start,
        )
        .await
        .unwrap();
    // INSERT 11; UPDATE big; the multi-statement transaction; UPDATE note; TRUNCATE; ALTER (no
    // row: no transaction delivered by pgoutput); INSERT 7.
    let got = events_until(&mut changes, &end).await;
    let commits: Vec<&Position> = got
        .iter()
        .filter_map(|e| match e {
            ChangeEvent::Commit { position, .. } => Some(position),
            _ => None,
        })
        .collect();
    assert_eq!(
        rows(&got),
        vec![
            ("I".into(), None, Some(11), None),
            ("U".into(), Some(1), Some(1), None),
            ("U".into(), Some(2), Some(100), None),
            ("D".into(), Some(3), None, None),
            // The 100 kB value was not changed: not sent, marked unchanged (column 3), not NULL.
            ("U".into(), Some(1), Some(1), Some("001".into())),
            ("I".into(), None, Some(7), None),
        ]
    );
    assert!(got
        .iter()
        .any(|e| matches!(e, ChangeEvent::Truncate { tables } if tables.len() == 1)));
    let table_events: Vec<&migrate_core::Table> = got
        .iter()
        .filter_map(|e| match e {
            ChangeEvent::Table { table } => Some(table),
            _ => None,
        })
        .collect();
    assert_eq!(table_events.len(), 1, "the ADD COLUMN is announced once");
    assert_eq!(
        table_events[0]
            .columns
            .iter()
            .map(|c| c.name.value.as_str())
            .collect::<Vec<_>>(),
        ["id", "note", "big", "extra"]
    );
    // The table `other` is not selected: nothing of it.
    assert!(!got
        .iter()
        .any(|e| matches!(e, ChangeEvent::Rows { table, .. } if table.name.value == "other")));
    // Each commit ends the rows before it; the TRUNCATE and the table's new description end a
    // batch, so there are several.
    assert!(commits.len() >= 2, "{got:?}");
    changes.acknowledge(commits[0]).await.unwrap();
    drop(changes);

    // Resumed after the first delivered commit: exactly what came after it.
    let first_commit = got
        .iter()
        .position(|e| matches!(e, ChangeEvent::Commit { .. }))
        .unwrap();
    let mut t_now = t.clone();
    t_now.columns = table_events[0].columns.clone();
    let mut resumed = loop {
        // The previous walsender may hold the slot for a moment after the drop.
        match source
            .open_changes(
                "stream test",
                &[t_now.clone()],
                Selection::every_column(Arc::new(|n| n.name.value == "t")),
                commits[0],
            )
            .await
        {
            Ok(stream) => break stream,
            Err(e) => {
                eprintln!("retrying: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    let again = events_until(&mut resumed, &end).await;
    assert!(!rows(&again).is_empty());
    assert_eq!(rows(&again), rows(&got[first_commit + 1..]));
    drop(resumed);
    source.drop_capture("stream test").await.unwrap();
}

/// A column whose type the stream does not decode (inet, an array) is delivered as NULL when the
/// task drops it, and stops the stream, naming it, when the task keeps it.
#[tokio::test(flavor = "multi_thread")]
async fn an_undecoded_column_is_dropped_only_when_the_task_drops_it() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_undecoded");
    db.sql("CREATE TABLE hosts (id bigint PRIMARY KEY, name text, addr inet, tags int[])")
        .unwrap();
    let (source, hosts, snapshot, start) = capture(&db, "undecoded", "hosts").await;
    snapshot.close().await.unwrap();
    db.sql("INSERT INTO hosts VALUES (1, 'a', '10.0.0.1', '{1,2}'), (2, 'b', NULL, NULL)")
        .unwrap();

    let keep_only = |kept: &'static [&'static str]| Selection {
        tables: Arc::new(|_| false),
        columns: Arc::new(move |_, column| kept.contains(&column)),
    };
    let mut changes = source
        .open_changes(
            "undecoded",
            std::slice::from_ref(&hosts),
            keep_only(&["id", "name"]),
            &start,
        )
        .await
        .unwrap();
    // The transaction's rows, up to its commit.
    let mut batches = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), changes.next_event())
            .await
            .expect("no change within 30 s")
            .unwrap()
            .expect("the stream ended");
        match event {
            ChangeEvent::Rows { changes, .. } => batches.push(changes),
            ChangeEvent::Commit { .. } if !batches.is_empty() => break,
            _ => {}
        }
    }
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    for batch in &batches {
        assert_eq!(column(batch, "name").null_count(), 0, "{batch:?}");
        for dropped in ["addr", "tags"] {
            assert_eq!(column(batch, dropped).null_count(), batch.num_rows());
        }
    }
    drop(changes);

    // Kept, the column stops the stream at its table's first change.
    let mut changes = loop {
        // The previous walsender may hold the slot for a moment after the drop.
        match source
            .open_changes(
                "undecoded",
                std::slice::from_ref(&hosts),
                keep_only(&["id", "name", "addr"]),
                &start,
            )
            .await
        {
            Ok(stream) => break stream,
            Err(e) => {
                eprintln!("retrying: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    let error = loop {
        match tokio::time::timeout(Duration::from_secs(30), changes.next_event())
            .await
            .expect("no event within 30 s")
        {
            Ok(Some(ChangeEvent::Idle { .. })) => continue,
            Ok(other) => panic!("expected an error, got {other:?}"),
            Err(e) => break e,
        }
    };
    let message = error.to_string();
    assert!(
        message.contains("hosts.addr") && message.contains("inet"),
        "{message}"
    );
    drop(changes);
    source.drop_capture("undecoded").await.unwrap();
}
