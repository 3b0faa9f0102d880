//! A task that resumes from a binlog the server has purged (its retention ran out while the
//! task was stopped) stops with a definite error that says how to go on. A test binary of its
//! own: it purges the server's binlogs, which the positions of tests running beside it need.

mod common;

use common::{connect, table};
use migrate_core::{ErrorClass, Retry};
use migrate_source::{ChangeEvent, ChangeSource, ChangeStream, Selection};
use migrate_source_mysql::SourceError;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_purged_binlog_stops_the_task_with_the_way_on() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_purged");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB")
        .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let tables = vec![table(&catalog, "t").clone()];
    let (snapshot, from) = source.capture_snapshot("purged", &tables, 1).await.unwrap();
    snapshot.close().await.unwrap();
    // A change after the task's position, in a file the server then purges.
    db.sql("INSERT INTO t VALUES (1); FLUSH BINARY LOGS;")
        .unwrap();
    // The server's binary logs, oldest first.
    let binary_logs = || -> Vec<String> {
        db.sql("SHOW BINARY LOGS")
            .unwrap()
            .lines()
            .filter_map(|line| Some(line.split_whitespace().next()?.to_string()))
            .collect()
    };
    let newest = binary_logs().pop().expect("a binary log");
    // MariaDB keeps a file its storage engine may still need for crash recovery until the
    // engine's checkpoint passes it: purge until it is gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        db.sql(&format!("PURGE BINARY LOGS TO '{newest}'")).unwrap();
        let left = binary_logs();
        if left == [newest.clone()] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server keeps its older binlogs: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let none = Arc::new(|_: &migrate_core::QualifiedName| false);
    let opened = source
        .open_changes("purged", &tables, Selection::every_column(none), &from)
        .await;
    // Without a GTID the position is refused on opening; with one (MariaDB) the server
    // refuses it once the stream asks for it.
    let error = match opened {
        Err(e) => e,
        Ok(mut stream) => loop {
            match tokio::time::timeout(Duration::from_secs(60), stream.next_event())
                .await
                .expect("no error within 60 s")
            {
                Ok(Some(ChangeEvent::Idle { .. })) => continue,
                Ok(other) => panic!("a purged position delivered {other:?}"),
                Err(e) => break e,
            }
        },
    };
    assert!(
        matches!(error, SourceError::ChangeCapture { .. }),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::Definite);
    let text = error.to_string();
    assert!(
        text.contains("no longer has the binlog the task resumes from")
            || text.contains("is no longer on the server (purged)"),
        "{text}"
    );
    assert!(
        text.contains("run the task again with --restart (a new full load)"),
        "{text}"
    );
}
