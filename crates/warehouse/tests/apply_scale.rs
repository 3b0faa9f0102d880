//! Large change batches against a real PostgreSQL: memory stays bounded by one record batch, and
//! (ignored by default, run with `--ignored --nocapture`) the apply rate of 1M updates next to
//! native logical replication (publication + subscription) on the same server and workload.
//! Each test is alone in this binary, so the process's peak RSS is its own.

mod apply_support;

use apply_support::*;
use arrow::array::{ArrayRef, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray};
use futures::{stream, StreamExt};
use migrate_core::{SourceDialect, Table};
use migrate_warehouse::{PostgresWarehouse, PrepMode, TableChanges};
use std::time::{Duration, Instant};

/// Peak resident memory of this process so far, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn items() -> Table {
    table(
        "app",
        "items",
        &[("id", "bigint"), ("a", "integer"), ("payload", "text")],
        &["id"],
    )
}

/// The changes `first..first+count` of `make`, as a stream of batches of 1,000 made one at a time.
fn lazy(
    table: Table,
    count: i64,
    make: impl Fn(i64) -> Change + Send + 'static,
) -> impl futures::Stream<Item = Result<RecordBatch, StageError>> {
    stream::iter((0..count).step_by(1000)).map(move |start| {
        let list: Vec<(i64, Change)> = (start..(start + 1000).min(count))
            .map(|i| (i + 1, make(i)))
            .collect();
        Ok(batch(&table, &list))
    })
}

#[tokio::test(flavor = "current_thread")]
async fn two_hundred_thousand_changes_apply_in_bounded_memory() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_200k");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = items();
    wh.prepare(&t, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    db.sql("INSERT INTO app.items SELECT i, 0, 'initial' FROM generate_series(0, 99999) i")
        .unwrap();
    let payload = |i: i64| format!("{i:08}{}", "p".repeat(492)); // 500 bytes
    const N: i64 = 200_000;
    let changes = lazy(t.clone(), N, move |i| match i {
        // Every row updated once.
        0..=99_999 => upd(
            &[&i.to_string()],
            vec![v(&i.to_string()), v("1"), v(&payload(i))],
        ),
        // Half of them moved to another key (the payload is unchanged: from the earlier change).
        100_000..=149_999 => {
            let key = i - 100_000;
            upd(
                &[&key.to_string()],
                vec![v(&(key + 1_000_000).to_string()), v("2"), After::Unchanged],
            )
        }
        // New rows.
        _ => ins(&[Some(&i.to_string()), Some("3"), Some(&payload(i))]),
    });
    let before = peak_rss_kib();
    let outcome = wh
        .apply_changes(
            "task1",
            1,
            "0/1",
            None,
            vec![TableChanges {
                table: t.clone(),
                changes,
            }],
        )
        .await
        .unwrap();
    let grown = peak_rss_kib().saturating_sub(before);
    assert_eq!(outcome.rows_in, N as u64);
    // 200k changes carry 100 MB of payload; one batch of 1,000 is 0.5 MB.
    assert!(grown < 40 * 1024, "peak RSS grew by {grown} KiB");
    // 50k rows kept their key, 50k moved, 50k are new.
    let expected_sum: i64 = (50_000..100_000).sum::<i64>()
        + (1_000_000..1_050_000).sum::<i64>()
        + (150_000..200_000).sum::<i64>();
    let out = db
        .sql("SELECT count(*), sum(id), sum(a), count(*) FILTER (WHERE payload = lpad((CASE WHEN id >= 1000000 THEN id - 1000000 ELSE id END)::text, 8, '0') || repeat('p', 492)) FROM app.items")
        .unwrap();
    assert_eq!(
        out.trim(),
        format!(
            "150000|{expected_sum}|{}|150000",
            50_000 + 2 * 50_000 + 3 * 50_000
        )
    );
}

/// Waits until `sql` prints `expected` on `db`.
fn wait_for(db: &migrate_testkit::PgDatabase, sql: &str, expected: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        if db.sql(sql).unwrap().trim() == expected {
            return;
        }
        assert!(start.elapsed() < limit, "{sql} never printed {expected}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_one_million_updates_vs_native_logical_replication() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    const N: i64 = 1_000_000;
    let create = "CREATE SCHEMA app; CREATE TABLE app.items (id bigint PRIMARY KEY, a integer, payload text);";
    let fill = format!(
        "INSERT INTO app.items SELECT i, 0, repeat('x', 50) FROM generate_series(0, {}) i; VACUUM ANALYZE app.items;",
        N - 1
    );

    // Native: publication + subscription between two databases of the same server.
    let source = pg.create_database("bench_native_src");
    let target = pg.create_database("bench_native_dst");
    source.sql(create).unwrap();
    target.sql(create).unwrap();
    source.sql(&fill).unwrap();
    target.sql(&fill).unwrap();
    let slot = format!("bench_{}", std::process::id());
    source
        .sql(&format!(
            "CREATE PUBLICATION bench FOR TABLE app.items; SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput');"
        ))
        .unwrap();
    // The slot is made beforehand: a subscription can't create one on its own server.
    let connection = source.url().replace('\'', "''");
    target
        .sql(&format!(
            "CREATE SUBSCRIPTION bench CONNECTION '{connection}' PUBLICATION bench \
             WITH (create_slot = false, slot_name = '{slot}', copy_data = false)"
        ))
        .unwrap();
    let start = Instant::now();
    source.sql("UPDATE app.items SET a = a + 1").unwrap();
    let updated = start.elapsed();
    wait_for(
        &target,
        "SELECT count(*) FROM app.items WHERE a = 1",
        &N.to_string(),
        Duration::from_secs(1800),
    );
    let native = start.elapsed();
    target
        .sql("ALTER SUBSCRIPTION bench DISABLE; ALTER SUBSCRIPTION bench SET (slot_name = NONE); DROP SUBSCRIPTION bench")
        .unwrap();
    source
        .sql(&format!("SELECT pg_drop_replication_slot('{slot}')"))
        .unwrap();
    drop(target);
    drop(source);

    // migrate: the same 1M updates as one change batch.
    let db = pg.create_database("bench_apply");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = items();
    db.sql(create).unwrap();
    db.sql(&fill).unwrap();
    // Built column by column, so that making the batches costs little next to applying them
    // (a real run reads them from Parquet).
    let schema = std::sync::Arc::new(migrate_warehouse::staged_change_schema(&t));
    let changes = stream::iter((0..N).step_by(10_000)).map(move |start| {
        let end = (start + 10_000).min(N);
        let rows = (end - start) as usize;
        let keys = || std::sync::Arc::new(Int64Array::from_iter_values(start..end));
        let columns: Vec<ArrayRef> = vec![
            std::sync::Arc::new(Int64Array::from_iter_values(start + 1..end + 1)),
            std::sync::Arc::new(StringArray::from(vec!["U"; rows])),
            std::sync::Arc::new(StringArray::from(vec![None::<&str>; rows])),
            keys(),
            keys(),
            std::sync::Arc::new(Int32Array::from(vec![1; rows])),
            std::sync::Arc::new(LargeStringArray::from(vec!["x".repeat(50); rows])),
        ];
        Ok::<_, StageError>(RecordBatch::try_new(schema.clone(), columns).unwrap())
    });
    let before = peak_rss_kib();
    let start = Instant::now();
    let outcome = wh
        .apply_changes(
            "bench",
            1,
            "0/1",
            None,
            vec![TableChanges {
                table: t.clone(),
                changes,
            }],
        )
        .await
        .unwrap();
    let ours = start.elapsed();
    assert_eq!(outcome.inserted, N as u64);
    assert_eq!(
        db.sql("SELECT count(*) FROM app.items WHERE a = 1")
            .unwrap()
            .trim(),
        N.to_string()
    );
    let rate = |d: Duration| N as f64 / d.as_secs_f64();
    println!(
        "1M updates: native logical replication {:.1} s after the source UPDATE began (source UPDATE itself {:.1} s) = {:.0} rows/s; \
         migrate apply_changes {:.1} s = {:.0} rows/s ({:.2}x native); peak RSS growth {} KiB",
        native.as_secs_f64(),
        updated.as_secs_f64(),
        rate(native),
        ours.as_secs_f64(),
        rate(ours),
        native.as_secs_f64() / ours.as_secs_f64(),
        peak_rss_kib().saturating_sub(before)
    );
}
