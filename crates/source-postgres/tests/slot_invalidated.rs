//! A slot the server invalidated (it held back more WAL than `max_slot_wal_keep_size` allows
//! while its task was stopped) is refused by name, with what to do, before any replication
//! session starts. A test binary of its own: it lowers the server's limit for a moment, which
//! would invalidate the slots of tests running beside it.

mod common;

use common::{capture, open_table};
use migrate_source::{ChangeSource, Snapshot as _};

/// Sets `max_slot_wal_keep_size` server-wide until dropped (also when the test fails).
struct WalLimit<'a>(&'a migrate_testkit::PgServer);

impl<'a> WalLimit<'a> {
    fn set(server: &'a migrate_testkit::PgServer, limit: &str) -> WalLimit<'a> {
        server
            .sql(&format!(
                "ALTER SYSTEM SET max_slot_wal_keep_size = '{limit}'; SELECT pg_reload_conf();"
            ))
            .unwrap();
        WalLimit(server)
    }
}

impl Drop for WalLimit<'_> {
    fn drop(&mut self) {
        let reset = self
            .0
            .sql("ALTER SYSTEM RESET max_slot_wal_keep_size; SELECT pg_reload_conf();");
        if let Err(e) = reset {
            eprintln!("could not reset max_slot_wal_keep_size: {e}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalidated_slot_is_refused_with_what_to_do() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_slot_lost");
    db.sql("CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE filler (x text)")
        .unwrap();
    let (source, t, snapshot, start) = capture(&db, "lost", "t").await;
    snapshot.close().await.unwrap();
    let slot = migrate_source_postgres::capture_name(db.name(), "lost");

    {
        let _limit = WalLimit::set(pg, "32MB");
        // WAL past the limit, then checkpoints: the server invalidates the slot when a
        // checkpoint would remove WAL the slot holds.
        let mut status = String::new();
        for _ in 0..5 {
            db.sql(
                "INSERT INTO filler SELECT repeat('w', 1000) FROM generate_series(1, 40000); \
                 TRUNCATE filler; CHECKPOINT;",
            )
            .unwrap();
            status = db
                .sql(&format!(
                    "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '{slot}'"
                ))
                .unwrap();
            if status.trim() == "lost" {
                break;
            }
        }
        assert_eq!(status.trim(), "lost", "slot {slot}");
    }

    // The server's own limit again (the test servers set one), which the refusal names.
    let limit = pg.sql("SHOW max_slot_wal_keep_size").unwrap();
    let error = match open_table(&source, "lost", &t, &start).await {
        Ok(_) => panic!("an invalidated slot opened"),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains(&format!(
            "replication slot {slot} of task lost was invalidated because the source removed WAL it held back (max_slot_wal_keep_size, now {}): the changes since {start} can't be read any more",
            limit.trim()
        )),
        "{error}"
    );
    assert!(error.contains("--restart"), "{error}");
    // `--restart` drops it like any other.
    source.drop_capture("lost").await.unwrap();
    let left = db
        .sql(&format!(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'"
        ))
        .unwrap();
    assert_eq!(left.trim(), "0");
}
