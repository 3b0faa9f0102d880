//! TIME, DATETIME and TIMESTAMP values through the binlog that its usual reader gets wrong:
//! MariaDB's formats of before 10.1.2 (`datetime(6) /* mariadb-5.3 */`, which upgraded tables
//! keep; wider than the binlog type says, so they also shifted the row's later columns) and
//! negative TIME(1)/TIME(2) values with a fraction (an arithmetic overflow: a panic).

mod common;

use arrow_array::RecordBatch;
use common::{connect, read_table, snapshot_position, table};
use migrate_core::{ErrorClass, QualifiedName, Retry};
use migrate_source::{ChangeEvent, ChangeSource, ChangeStream, Selection, TableFilter};
use migrate_source_mysql::{MysqlChangeStream, MysqlSource, SourceError};
use migrate_testkit::{Engine, PrivateServer};
use std::sync::Arc;
use std::time::Duration;

async fn sql(url: &str, statements: &str) {
    use mysql_async::prelude::Queryable;
    let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
    conn.query_drop(statements).await.unwrap();
    conn.disconnect().await.unwrap();
}

/// The stream of `names` from the server's position now.
async fn watch_from_now(source: &MysqlSource, names: &[&str]) -> MysqlChangeStream {
    let from = snapshot_position(source).await;
    let catalog = source.discover(None).await.unwrap();
    let tables: Vec<_> = names.iter().map(|n| table(&catalog, n).clone()).collect();
    let none: TableFilter = Arc::new(|_: &QualifiedName| false);
    source
        .open_changes("test", &tables, Selection::every_column(none), &from)
        .await
        .unwrap()
}

/// The next Rows event's batch, or the stream's error; Idle, Table and Commit events are
/// passed over.
async fn next_rows(stream: &mut MysqlChangeStream) -> Result<RecordBatch, SourceError> {
    loop {
        match tokio::time::timeout(Duration::from_secs(60), stream.next_event())
            .await
            .expect("an event within 60 s")?
            .expect("the stream goes on")
        {
            ChangeEvent::Rows { changes, .. } => return Ok(changes),
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn old_and_negative_temporal_values_arrive_exactly_or_are_refused_by_value() {
    // A server of its own: the old formats are made with a global setting.
    let Some(server) = PrivateServer::start(Engine::MariaDb) else {
        return;
    };
    let admin = format!("{}mysql", server.url());
    let url = format!("{}shop", server.url());
    sql(
        &admin,
        "CREATE DATABASE shop;
         SET GLOBAL mysql56_temporal_format = OFF;
         CREATE TABLE shop.old (id INT PRIMARY KEY, t0 TIME, t1 TIME(1), t3 TIME(3), t6 TIME(6),
           dt0 DATETIME, dt2 DATETIME(2), dt6 DATETIME(6), ts0 TIMESTAMP NULL,
           ts3 TIMESTAMP(3) NULL, ts6 TIMESTAMP(6) NULL, tail INT) ENGINE=InnoDB;
         SET GLOBAL mysql56_temporal_format = ON;
         CREATE TABLE shop.t2 (id INT PRIMARY KEY, t2 TIME(2), tail INT) ENGINE=InnoDB;",
    )
    .await;
    let source = connect(&url).await;
    let catalog = source.discover(None).await.unwrap();
    let old = table(&catalog, "old");
    assert!(
        old.columns[4].source_type.contains("mariadb-5.3"),
        "{}",
        old.columns[4].source_type
    );
    sql(
        &url,
        "SET time_zone = '+00:00';
         INSERT INTO old VALUES
         (1, '12:34:56', '00:00:00.1', '12:34:56.789', '23:59:59.999999', '2024-05-06 07:08:09',
          '2024-05-06 07:08:09.12', '9999-12-31 23:59:59.999999', '2024-05-06 07:08:09',
          '2024-05-06 07:08:09.123', '2038-01-19 03:14:07.999999', 41),
         (2, '00:00:00', '23:59:59.9', '00:00:00.001', '00:00:00.000001', '1000-01-01 00:00:00',
          '1000-01-01 00:00:00.01', '1000-01-01 00:00:00.000001', '1970-01-01 00:00:01',
          '1970-01-01 00:00:01.001', '1970-01-01 00:00:01.000001', 42),
         (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 43);",
    )
    .await;
    let reference = read_table(&source, old).await.unwrap();
    assert_eq!(reference.len(), 1);
    let reference = &reference[0];
    assert_eq!(reference.num_rows(), 3);

    let mut stream = watch_from_now(&source, &["old", "t2"]).await;
    sql(
        &url,
        "INSERT INTO old SELECT id + 100, t0, t1, t3, t6, dt0, dt2, dt6, ts0, ts3, ts6, tail
           FROM old ORDER BY id;",
    )
    .await;
    // Each value (and the column after it) as the snapshot reads it; they were garbage, or
    // (DATETIME(6)) a year 57934, before.
    let changes = next_rows(&mut stream).await.unwrap();
    assert_eq!(changes.num_rows(), 3);
    for field in reference.schema().fields().iter().skip(1) {
        assert_eq!(
            changes.column_by_name(field.name()).unwrap().as_ref(),
            reference.column_by_name(field.name()).unwrap().as_ref(),
            "column {}",
            field.name()
        );
    }

    // Times outside a day, refused by their true value (the old TIME's, and TIME2's with one or
    // two fraction digits, which panicked).
    for (insert, words) in [
        (
            "INSERT INTO old (id, t3) VALUES (7, '-01:00:00.5')",
            ".old.t3, row id=7: TIME -01:00:00.500000 is outside a day",
        ),
        (
            "INSERT INTO old (id, t0) VALUES (8, '-12:34:56')",
            ".old.t0, row id=8: TIME -12:34:56 is outside a day",
        ),
        (
            "INSERT INTO t2 VALUES (9, '-00:00:01.50', 1)",
            ".t2.t2, row id=9: TIME -00:00:01.500000 is outside a day",
        ),
    ] {
        sql(&url, "DELETE FROM old WHERE id > 100").await;
        let mut stream = watch_from_now(&source, &["old", "t2"]).await;
        sql(&url, insert).await;
        let error = next_rows(&mut stream).await.unwrap_err();
        assert_eq!(error.retry(), Retry::Definite, "{error}");
        let text = error.to_string();
        assert!(text.contains(words), "`{words}` not in: {text}");
    }
}
