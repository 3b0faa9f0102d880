//! The binlog change stream against a real MariaDB (ROW format, FULL image and metadata): every
//! kind of change, value by value, in commit order; every type exactly as the snapshot reader
//! gives it; schema changes; a large transaction in bounded batches; rotation; resuming from a
//! Commit position (file and position, and GTID); and the refusals.

mod common;

use arrow_array::{Array, Decimal128Array, Int32Array, LargeStringArray, RecordBatch, StringArray};
use common::{column, connect, read_table, snapshot_position, table, TYPES};
use migrate_core::{ErrorClass, QualifiedName, Retry, Table};
use migrate_source::{ChangeEvent, ChangeSource, ChangeStream, Position, Selection, TableFilter};
use migrate_source_mysql::{MysqlChangeStream, MysqlSource, SourceError, BATCH_ROWS};
use migrate_testkit::{Engine, PrivateServer};
use std::sync::Arc;
use std::time::Duration;

/// Opens a stream of `tables` (and no table created later) from `from`.
async fn open(
    source: &MysqlSource,
    tables: &[Table],
    from: &Position,
) -> Result<MysqlChangeStream, SourceError> {
    let none: TableFilter = Arc::new(|_: &QualifiedName| false);
    source
        .open_changes("test", tables, Selection::every_column(none), from)
        .await
}

/// Connects to `url` and opens a stream of its tables `names` from the server's position now:
/// the source, the tables, that position and the stream.
async fn watch_from_now(
    url: &str,
    names: &[&str],
) -> (MysqlSource, Vec<Table>, Position, MysqlChangeStream) {
    let source = connect(url).await;
    let from = snapshot_position(&source).await;
    let tables = watched(&source, names).await;
    let stream = open(&source, &tables, &from).await.unwrap();
    (source, tables, from, stream)
}

async fn watched(source: &MysqlSource, names: &[&str]) -> Vec<Table> {
    let catalog = source.discover(None).await.unwrap();
    names.iter().map(|n| table(&catalog, n).clone()).collect()
}

/// Starts capture `task` of `tables` from its snapshot: the first table as the snapshot reads
/// it, and the position the stream starts at.
async fn start_with_snapshot(
    source: &MysqlSource,
    task: &str,
    tables: &[Table],
) -> (Vec<RecordBatch>, Position) {
    let (snapshot, from) = source.capture_snapshot(task, tables, 2).await.unwrap();
    let loaded = common::read_all(
        &snapshot,
        &migrate_source::ReadSpec::whole_table(&tables[0]),
        &migrate_source::Chunk::whole(),
        100,
    )
    .await
    .unwrap();
    snapshot.close().await.unwrap();
    source.start_capture(task, tables, &from).await.unwrap();
    (loaded, from)
}

/// The stream's error, within 60 s: anything but Idle events before it fails the test.
async fn next_error(stream: &mut MysqlChangeStream) -> SourceError {
    loop {
        match tokio::time::timeout(Duration::from_secs(60), stream.next_event())
            .await
            .expect("no error within 60 s")
        {
            Ok(Some(ChangeEvent::Idle { .. })) => continue,
            Ok(other) => panic!("expected an error, got {other:?}"),
            Err(e) => return e,
        }
    }
}

/// Events up to and including the `commits`-th Commit, Idle events left out.
async fn until_commits(stream: &mut MysqlChangeStream, commits: usize) -> Vec<ChangeEvent> {
    let mut events = Vec::new();
    let mut seen = 0;
    while seen < commits {
        let event = tokio::time::timeout(Duration::from_secs(60), stream.next_event())
            .await
            .expect("an event within 60 s")
            .expect("no error")
            .expect("the stream goes on");
        match event {
            ChangeEvent::Idle { .. } => continue,
            ChangeEvent::Commit { .. } => seen += 1,
            _ => {}
        }
        events.push(event);
    }
    events
}

/// The binlog file and offset of a position (`file:pos[;gtid=...]`).
fn file_pos(position: &Position) -> (String, u64) {
    let (file, pos) = position
        .0
        .split(';')
        .next()
        .unwrap()
        .rsplit_once(':')
        .unwrap();
    (file.to_string(), pos.parse().unwrap())
}

/// Events until a Commit at or past `end` (the server's position after the changes), or an Idle
/// event there (the last transactions were not of watched tables); Idle events are left out.
/// Consecutive transactions may come as one batch with the last one's commit.
async fn events_until(stream: &mut MysqlChangeStream, end: &Position) -> Vec<ChangeEvent> {
    let end = file_pos(end);
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(60), stream.next_event())
            .await
            .expect("an event within 60 s")
            .expect("no error")
            .expect("the stream goes on");
        match &event {
            ChangeEvent::Idle { position, .. } if file_pos(position) >= end => return events,
            ChangeEvent::Idle { .. } => continue,
            ChangeEvent::Commit { position, .. } if file_pos(position) >= end => {
                events.push(event);
                return events;
            }
            _ => events.push(event),
        }
    }
}

/// `events` with every Rows event split into one event per row: the same rows in the same
/// order, whichever batches the stream gathered them in.
fn row_by_row(events: &[ChangeEvent]) -> Vec<ChangeEvent> {
    events
        .iter()
        .flat_map(|event| match event {
            ChangeEvent::Rows { table, changes } => (0..changes.num_rows())
                .map(|i| ChangeEvent::Rows {
                    table: table.clone(),
                    changes: changes.slice(i, 1),
                })
                .collect(),
            other => vec![other.clone()],
        })
        .collect()
}

/// One word per event: `table:op` for a one-row Rows event, `C` (commit), `T` (truncate).
fn shape(events: &[ChangeEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            ChangeEvent::Rows { table, changes } => {
                format!("{}:{}", table.name.value, ops(changes).concat())
            }
            ChangeEvent::Commit { .. } => "C".into(),
            ChangeEvent::Truncate { .. } => "T".into(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// The `id` (INT) of every row change in `events`, in order.
fn ids_in(events: &[ChangeEvent]) -> Vec<i32> {
    events
        .iter()
        .filter_map(|e| match e {
            ChangeEvent::Rows { changes, .. } => Some(column::<Int32Array>(changes, "id")),
            _ => None,
        })
        .flat_map(|ids| ids.values().to_vec())
        .collect()
}

fn rows(event: &ChangeEvent) -> &RecordBatch {
    match event {
        ChangeEvent::Rows { changes, .. } => changes,
        other => panic!("expected rows, got {other:?}"),
    }
}

fn ops(batch: &RecordBatch) -> Vec<String> {
    let op = column::<StringArray>(batch, "__op");
    (0..batch.num_rows())
        .map(|i| op.value(i).to_string())
        .collect()
}

fn ints(batch: &RecordBatch, name: &str) -> Vec<Option<i32>> {
    column::<Int32Array>(batch, name).iter().collect()
}

fn texts(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    column::<LargeStringArray>(batch, name)
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn commit_position(event: &ChangeEvent) -> Position {
    match event {
        ChangeEvent::Commit { position, .. } => position.clone(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn inserts_updates_deletes_truncates_in_commit_order() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_kinds");
    db.sql(
        "CREATE TABLE a (id INT PRIMARY KEY, note VARCHAR(20), amount DECIMAL(10,2)) ENGINE=InnoDB;
         CREATE TABLE b (k1 INT, k2 VARCHAR(5), v LONGTEXT, PRIMARY KEY (k1, k2)) ENGINE=InnoDB;
         CREATE TABLE other (id INT PRIMARY KEY) ENGINE=InnoDB;
         INSERT INTO a VALUES (100, 'before the snapshot', 1);",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let tables = watched(&source, &["a", "b"]).await;
    // The capture's snapshot sees the row written before it; the stream starts where it stands.
    let (before, from) = start_with_snapshot(&source, "kinds", &tables).await;
    assert_eq!(ints(&before[0], "id"), [Some(100)]);
    assert!(from.0.contains(";gtid="), "{from}");
    let mut stream = open(&source, &tables, &from).await.unwrap();
    db.sql(
        "INSERT INTO a VALUES (1, 'one', 1.50), (2, NULL, NULL);
         UPDATE a SET note = 'uno' WHERE id = 1;
         UPDATE a SET id = 20 WHERE id = 2;
         DELETE FROM a WHERE id = 1;
         INSERT INTO other VALUES (1);
         BEGIN; INSERT INTO b VALUES (1, 'x', 'multi'); INSERT INTO other VALUES (2);
                INSERT INTO a VALUES (3, 'three', -0.01); UPDATE b SET v = NULL WHERE k1 = 1; COMMIT;
         TRUNCATE TABLE `a`;
         INSERT INTO b VALUES (2, 'big', REPEAT('0123456789abcdef', 131072));",
    )
    .unwrap();
    let end = snapshot_position(&source).await;
    let events = row_by_row(&events_until(&mut stream, &end).await);
    // Transactions 1-4 (all of table a) may share one batch and their last commit; the insert
    // into `other` is not watched (no commit for it); the multi-table transaction, the truncate
    // and the last insert each end with their own commit.
    let words = shape(&events);
    let first_b = words.iter().position(|w| w == "b:I").unwrap();
    assert_eq!(
        words[..first_b]
            .iter()
            .filter(|w| *w != "C")
            .collect::<Vec<_>>(),
        ["a:I", "a:I", "a:U", "a:U", "a:D"],
        "{words:?}"
    );
    assert_eq!(
        words[first_b - 1..],
        ["C", "b:I", "a:I", "b:U", "C", "T", "C", "b:I", "C"],
        "{words:?}"
    );
    let rows_of_a: Vec<&RecordBatch> = events[..first_b]
        .iter()
        .filter(|e| matches!(e, ChangeEvent::Rows { .. }))
        .map(rows)
        .collect();
    let mut e = events[first_b..].iter();
    let mut next = || e.next().expect("more events");

    // 1: the insert of two rows.
    let (one, two) = (rows_of_a[0], rows_of_a[1]);
    assert_eq!([ints(one, "id"), ints(two, "id")], [[Some(1)], [Some(2)]]);
    assert_eq!(
        [ints(one, "__before_id"), ints(two, "__before_id")],
        [[None], [None]]
    );
    assert_eq!(
        [texts(one, "note"), texts(two, "note")],
        [[Some("one".into())], [None]]
    );
    assert_eq!(column::<Decimal128Array>(one, "amount").value(0), 150);
    assert!(column::<Decimal128Array>(two, "amount").is_null(0));
    for batch in [one, two] {
        assert_eq!(batch.column_by_name("__unchanged").unwrap().null_count(), 1);
    }
    let first = commit_position(
        events
            .iter()
            .find(|e| matches!(e, ChangeEvent::Commit { .. }))
            .unwrap(),
    );
    // 2: an update that keeps the key.
    let batch = rows_of_a[2];
    assert_eq!(ints(batch, "__before_id"), [Some(1)]);
    assert_eq!(ints(batch, "id"), [Some(1)]);
    assert_eq!(texts(batch, "note"), [Some("uno".into())]);
    // 3: an update of the key: before 2, after 20.
    let batch = rows_of_a[3];
    assert_eq!(ints(batch, "__before_id"), [Some(2)]);
    assert_eq!(ints(batch, "id"), [Some(20)]);
    // 4: a delete: the key before, nothing after.
    let batch = rows_of_a[4];
    assert_eq!(ints(batch, "__before_id"), [Some(1)]);
    assert_eq!(ints(batch, "id"), [None]);
    assert_eq!(texts(batch, "note"), [None]);
    // 5: the multi-table transaction: b, a, b again, then one commit.
    let ChangeEvent::Rows { table, changes } = next() else {
        panic!("rows of b")
    };
    assert_eq!(table.name.value, "b");
    assert_eq!(ops(changes), ["I"]);
    assert_eq!(texts(changes, "v"), [Some("multi".into())]);
    let ChangeEvent::Rows { table, changes } = next() else {
        panic!("rows of a")
    };
    assert_eq!(table.name.value, "a");
    assert_eq!(ints(changes, "id"), [Some(3)]);
    assert_eq!(column::<Decimal128Array>(changes, "amount").value(0), -1);
    let batch = rows(next());
    assert_eq!(ops(batch), ["U"]);
    assert_eq!(ints(batch, "__before_k1"), [Some(1)]);
    assert_eq!(texts(batch, "__before_k2"), [Some("x".into())]);
    assert_eq!(texts(batch, "v"), [None]);
    let multi = commit_position(next());
    // 6: the truncate.
    match next() {
        ChangeEvent::Truncate { tables } => {
            assert_eq!(tables.len(), 1);
            assert_eq!(tables[0].name.value, "a");
            assert_eq!(tables[0].schema.as_ref().unwrap().value, db.name());
        }
        other => panic!("expected a truncate, got {other:?}"),
    }
    next();
    // 7: a 2 MiB value, whole.
    let batch = rows(next());
    let v = texts(batch, "v");
    assert_eq!(v[0].as_ref().unwrap().len(), 2 << 20);
    assert!(v[0].as_ref().unwrap().starts_with("0123456789abcdef0123"));
    let last = commit_position(next());
    assert!(e.next().is_none());

    // Positions carry the GTID state and increase.
    assert!(first.0.contains(";gtid="), "{first}");
    assert_ne!(first, multi);
    assert_ne!(multi, last);

    // Resuming from the multi-table transaction's commit delivers exactly what came after.
    let mut resumed = open(&source, &tables, &multi).await.unwrap();
    let events = events_until(&mut resumed, &end).await;
    assert!(
        matches!(events[0], ChangeEvent::Truncate { .. }),
        "{events:?}"
    );
    assert!(matches!(events[1], ChangeEvent::Commit { .. }));
    assert_eq!(texts(rows(&events[2]), "k2"), [Some("big".into())]);
    assert_eq!(commit_position(&events[3]), last);
    assert_eq!(events.len(), 4);
    // The stream stays quiet until the next change, reporting progress only.
    let idle = tokio::time::timeout(Duration::from_secs(10), resumed.next_event())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(idle, ChangeEvent::Idle { .. }), "{idle:?}");
    // No slot: acknowledging records nothing and succeeds.
    resumed.acknowledge(&last).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_arrives_as_the_snapshot_reads_it() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_types");
    db.sql(TYPES).unwrap();
    db.sql("CREATE TABLE copy LIKE types").unwrap();
    let (source, _tables, _from, mut stream) = watch_from_now(db.url(), &["copy"]).await;
    db.sql(
        "SET NAMES utf8mb4;
         INSERT INTO copy SELECT * FROM types ORDER BY id;
         UPDATE copy SET id = id + 100 WHERE id = 2;
         DELETE FROM copy WHERE id = 3;",
    )
    .unwrap();
    let end = snapshot_position(&source).await;
    let events: Vec<ChangeEvent> = row_by_row(&events_until(&mut stream, &end).await)
        .into_iter()
        .filter(|e| matches!(e, ChangeEvent::Rows { .. }))
        .collect();
    let words = shape(&events);
    assert_eq!(
        words,
        ["copy:I", "copy:I", "copy:I", "copy:I", "copy:I", "copy:U", "copy:D"]
    );
    let inserted: Vec<&RecordBatch> = events[..5].iter().map(rows).collect();

    // The reference: the snapshot reader's batch of the source table.
    let catalog = source.discover(None).await.unwrap();
    let reference = read_table(&source, table(&catalog, "types")).await.unwrap();
    assert_eq!(reference.len(), 1);
    let reference = &reference[0];
    assert_eq!(reference.num_rows(), 5);
    for (row, got) in inserted.iter().enumerate() {
        for field in reference.schema().fields() {
            let expected = reference
                .column_by_name(field.name())
                .unwrap()
                .slice(row, 1);
            let got = got.column_by_name(field.name()).unwrap();
            assert_eq!(got.data_type(), expected.data_type(), "{}", field.name());
            assert_eq!(
                got.as_ref(),
                expected.as_ref(),
                "row {row}, column {}",
                field.name()
            );
        }
    }
    // The latin1 column was converted from its own character set.
    assert_eq!(texts(inserted[1], "lat")[0].as_deref(), Some("Ñandú ÿ"));
    assert_eq!(texts(inserted[1], "e")[0].as_deref(), Some("it's"));
    assert_eq!(texts(inserted[1], "s")[0].as_deref(), Some("x,z"));

    // Update: the whole row after, the key before; delete: the key only.
    let updated = rows(&events[5]);
    assert_eq!(ints(updated, "__before_id"), [Some(2)]);
    assert_eq!(ints(updated, "id"), [Some(102)]);
    for field in reference.schema().fields().iter().skip(1) {
        let expected = reference.column_by_name(field.name()).unwrap().slice(1, 1);
        let got = updated.column_by_name(field.name()).unwrap();
        assert_eq!(
            got.as_ref(),
            expected.as_ref(),
            "updated column {}",
            field.name()
        );
    }
    let deleted = rows(&events[6]);
    assert_eq!(ints(deleted, "__before_id"), [Some(3)]);
    assert_eq!(deleted.column_by_name("vc").unwrap().null_count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn added_and_dropped_columns_announce_the_new_definition() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_ddl");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(10)) ENGINE=InnoDB")
        .unwrap();
    let (_source, _tables, _from, mut stream) = watch_from_now(db.url(), &["t"]).await;
    db.sql(
        "INSERT INTO t VALUES (1, 'a');
         ALTER TABLE t ADD COLUMN qty DECIMAL(8,3) NULL;
         INSERT INTO t VALUES (2, 'b', 2.5);
         ALTER TABLE t DROP COLUMN note;
         INSERT INTO t VALUES (3, 7);",
    )
    .unwrap();
    let events = until_commits(&mut stream, 3).await;
    let names = |batch: &RecordBatch| -> Vec<String> {
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    assert_eq!(
        names(rows(&events[0])),
        ["__op", "__unchanged", "__before_id", "id", "note"]
    );
    let ChangeEvent::Table { table, .. } = &events[2] else {
        panic!("expected the new definition, got {:?}", events[2])
    };
    let columns: Vec<(&str, String)> = table
        .columns
        .iter()
        .map(|c| (c.name.value.as_str(), c.data_type.to_string()))
        .collect();
    assert_eq!(
        columns,
        [
            ("id", "integer".into()),
            ("note", "varchar(10 char)".into()),
            ("qty", "decimal(8,3)".into())
        ]
    );
    assert_eq!(migrate_source::key_columns(table), ["id"]);
    let batch = rows(&events[3]);
    assert_eq!(
        names(batch),
        ["__op", "__unchanged", "__before_id", "id", "note", "qty"]
    );
    assert_eq!(column::<Decimal128Array>(batch, "qty").value(0), 2500);
    let ChangeEvent::Table { table, .. } = &events[5] else {
        panic!("expected the definition without note, got {:?}", events[5])
    };
    assert_eq!(table.columns.len(), 2);
    let batch = rows(&events[6]);
    assert_eq!(
        names(batch),
        ["__op", "__unchanged", "__before_id", "id", "qty"]
    );
    assert_eq!(ints(batch, "id"), [Some(3)]);
    assert_eq!(column::<Decimal128Array>(batch, "qty").value(0), 7000);
}

/// A column added with a constant default gives the rows that existed that value, in the source
/// and (through the target's default) in the target. One added with `CURRENT_TIMESTAMP` got the
/// source's moment, which the binlog does not carry: the stream stops, naming the column.
#[tokio::test(flavor = "multi_thread")]
async fn a_column_added_with_a_default_that_is_not_a_constant_stops_the_stream() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_ddl_default");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB")
        .unwrap();
    let (_source, _tables, _from, mut stream) = watch_from_now(db.url(), &["t"]).await;
    db.sql(
        "INSERT INTO t VALUES (1);
         ALTER TABLE t ADD COLUMN n INT NOT NULL DEFAULT -5, ADD COLUMN s VARCHAR(5) DEFAULT 'a''b',
                       ADD COLUMN f BIT(3) DEFAULT b'101', ADD COLUMN r DOUBLE DEFAULT 1.5e3;
         INSERT INTO t (id) VALUES (2);",
    )
    .unwrap();
    let events = until_commits(&mut stream, 2).await;
    let ChangeEvent::Table { table, .. } = &events[2] else {
        panic!("expected the new definition, got {:?}", events[2])
    };
    assert_eq!(table.columns.len(), 5);
    db.sql(
        "ALTER TABLE t ADD COLUMN at TIMESTAMP(6) NULL DEFAULT CURRENT_TIMESTAMP(6);
         INSERT INTO t (id) VALUES (3);",
    )
    .unwrap();
    let error = next_error(&mut stream).await;
    assert_eq!(error.retry(), Retry::Definite);
    let text = error.to_string();
    assert!(
        text.contains("column at was added to t_cdc_ddl_default"),
        "{text}"
    );
    assert!(
        text.contains("current_timestamp(6), which is not a constant"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_transaction_streams_in_bounded_batches() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_large");
    db.sql("CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(100)) ENGINE=InnoDB")
        .unwrap();
    let (_source, _tables, _from, mut stream) = watch_from_now(db.url(), &["big"]).await;
    db.sql("INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_100000")
        .unwrap();
    let mut total = 0;
    let mut batches = 0;
    let mut next_id = 1;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(60), stream.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event {
            ChangeEvent::Rows { changes, .. } => {
                assert!(
                    changes.num_rows() <= BATCH_ROWS,
                    "{} rows",
                    changes.num_rows()
                );
                for id in column::<Int32Array>(&changes, "id").values() {
                    assert_eq!(*id, next_id);
                    next_id += 1;
                }
                total += changes.num_rows();
                batches += 1;
            }
            ChangeEvent::Commit { .. } => break,
            ChangeEvent::Idle { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(total, 100_000);
    assert!(batches >= 100_000 / BATCH_ROWS, "{batches} batches");
}

#[tokio::test(flavor = "multi_thread")]
async fn consecutive_transactions_share_a_batch_and_its_last_commit() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_gather");
    db.sql("CREATE TABLE g (id INT PRIMARY KEY) ENGINE=InnoDB")
        .unwrap();
    let (source, tables, _from, mut stream) = watch_from_now(db.url(), &["g"]).await;
    // 1,000 one-row transactions, all in the binlog before the stream reads them.
    let inserts: String = (1..=1000)
        .map(|id| format!("INSERT INTO g VALUES ({id});"))
        .collect();
    db.sql(&inserts).unwrap();
    let end = snapshot_position(&source).await;
    let events = events_until(&mut stream, &end).await;
    assert_eq!(ids_in(&events), (1..=1000).collect::<Vec<i32>>());
    let commits = events
        .iter()
        .filter(|e| matches!(e, ChangeEvent::Commit { .. }))
        .count();
    assert!(
        commits <= 10,
        "{commits} commits for 1,000 transactions at hand"
    );
    // The batch ends with the last transaction's commit: a resume from it starts after it.
    // (Not compared with `end`: other tests write to the server's one binlog meanwhile.)
    let last_commit = commit_position(events.last().unwrap());
    drop(stream);
    let mut resumed = open(&source, &tables, &last_commit).await.unwrap();
    db.sql("INSERT INTO g VALUES (1001)").unwrap();
    let end = snapshot_position(&source).await;
    assert_eq!(ids_in(&events_until(&mut resumed, &end).await), vec![1001]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_and_resume_by_position_and_by_gtid() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_rotate");
    db.sql("CREATE TABLE r (id INT PRIMARY KEY) ENGINE=InnoDB")
        .unwrap();
    let (source, tables, _from, mut stream) = watch_from_now(db.url(), &["r"]).await;
    // The server's position after each transaction: where a resume after it starts. Other
    // tests write to the server's one binlog too, so a position may lie past our commit (never
    // before it), and the resumes below must still see exactly our later rows.
    let mut commits = Vec::new();
    for statement in [
        "INSERT INTO r VALUES (1)",
        "FLUSH BINARY LOGS; INSERT INTO r VALUES (2)",
        "INSERT INTO r VALUES (3)",
    ] {
        db.sql(statement).unwrap();
        commits.push(snapshot_position(&source).await);
    }
    let events = events_until(&mut stream, &commits[2]).await;
    assert!(file_pos(&commit_position(events.last().unwrap())) <= file_pos(&commits[2]));
    assert_eq!(ids_in(&events), [1, 2, 3]);
    assert_ne!(
        file_pos(&commits[0]).0,
        file_pos(&commits[1]).0,
        "the second commit is in the next file"
    );

    // From the first commit: exactly 2 and 3, across the rotation.
    let mut resumed = open(&source, &tables, &commits[0]).await.unwrap();
    let events = events_until(&mut resumed, &commits[2]).await;
    assert!(file_pos(&commit_position(events.last().unwrap())) <= file_pos(&commits[2]));
    assert_eq!(ids_in(&events), [2, 3]);
    // From the second: exactly 3.
    let mut resumed = open(&source, &tables, &commits[1]).await.unwrap();
    assert_eq!(ids_in(&events_until(&mut resumed, &commits[2]).await), [3]);

    // A file the server no longer has, with the GTID state of the first commit: resumed by GTID.
    let gtid = commits[0].0.split_once(";gtid=").unwrap().1;
    let gone = Position(format!("gone-bin.000001:4;gtid={gtid}"));
    let mut resumed = open(&source, &tables, &gone).await.unwrap();
    let events = events_until(&mut resumed, &commits[2]).await;
    assert_eq!(ids_in(&events), [2, 3]);
    source
        .start_capture("rotate", &tables, &gone)
        .await
        .unwrap();
    // Without a GTID there is nothing to resume from: a definite error that says so.
    let error = source
        .start_capture("rotate", &tables, &Position("gone-bin.000001:4".into()))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no longer on the server"),
        "{error}"
    );
    let error = open(&source, &tables, &Position("gone-bin.000001:4".into()))
        .await
        .err()
        .unwrap();
    assert_eq!(error.retry(), Retry::Definite);
    assert!(
        error.to_string().contains("no longer on the server"),
        "{error}"
    );
    let error = open(&source, &tables, &Position("nonsense".into()))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error, SourceError::InvalidPosition { .. }),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn statement_logged_changes_stop_the_stream() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_statement");
    db.sql("CREATE TABLE s (id INT PRIMARY KEY) ENGINE=InnoDB")
        .unwrap();
    let (_source, _tables, _from, mut stream) = watch_from_now(db.url(), &["s"]).await;
    // One session switched to statement logging (the server stays ROW).
    db.sql("SET SESSION binlog_format = 'STATEMENT'; INSERT INTO s VALUES (1);")
        .unwrap();
    let error = next_error(&mut stream).await;
    assert_eq!(error.retry(), Retry::Definite);
    let text = error.to_string();
    assert!(text.contains("logged as a statement"), "{text}");
    assert!(text.contains("INSERT INTO s VALUES (1)"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_that_would_lose_changes_are_refused() {
    let Some(server) = PrivateServer::start(Engine::MariaDb) else {
        return;
    };
    let url = format!("{}mysql", server.url());
    let admin = connect(&url).await;
    let sql = |statement: &'static str| {
        let url = url.clone();
        async move {
            use mysql_async::prelude::Queryable;
            let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
            conn.query_drop(statement).await.unwrap();
            conn.disconnect().await.unwrap();
        }
    };
    sql("CREATE DATABASE shop").await;
    sql("CREATE TABLE shop.t (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB").await;
    let source = connect(&format!("{}shop", server.url())).await;
    let tables = watched(&source, &["t"]).await;
    let from = snapshot_position(&source).await;

    let refused = |error: SourceError, words: &[&str]| {
        assert_eq!(error.retry(), Retry::Definite, "{error}");
        let text = error.to_string();
        assert!(matches!(error, SourceError::ChangeCapture { .. }), "{text}");
        for word in words {
            assert!(text.contains(word), "`{word}` not in: {text}");
        }
    };
    // Compression on when the stream opens.
    sql("SET GLOBAL log_bin_compress = ON").await;
    let error = open(&source, &tables, &from).await.err().unwrap();
    refused(error, &["log_bin_compress=ON", "--restart"]);

    // Compression turned on while streaming: the compressed events stop the stream.
    sql("SET GLOBAL log_bin_compress = OFF").await;
    let mut stream = open(&source, &tables, &from).await.unwrap();
    sql("SET GLOBAL log_bin_compress = ON").await;
    sql("SET GLOBAL log_bin_compress_min_len = 10").await;
    sql("INSERT INTO shop.t VALUES (1, REPEAT('compressible ', 100))").await;
    let error = loop {
        match tokio::time::timeout(Duration::from_secs(60), stream.next_event())
            .await
            .unwrap()
        {
            Ok(Some(ChangeEvent::Rows { .. } | ChangeEvent::Commit { .. })) => {
                panic!("a compressed transaction was delivered")
            }
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the stream ended"),
            Err(e) => break e,
        }
    };
    refused(error, &["compressed event", "log_bin_compress"]);
    sql("SET GLOBAL log_bin_compress = OFF").await;

    // Statement and mixed logging, a partial row image, no column metadata.
    for (set, reset, words) in [
        (
            "SET GLOBAL binlog_format = 'STATEMENT'",
            "SET GLOBAL binlog_format = 'ROW'",
            ["binlog_format is STATEMENT", "ROW"],
        ),
        (
            "SET GLOBAL binlog_format = 'MIXED'",
            "SET GLOBAL binlog_format = 'ROW'",
            ["binlog_format is MIXED", "ROW"],
        ),
        (
            "SET GLOBAL binlog_row_image = 'MINIMAL'",
            "SET GLOBAL binlog_row_image = 'FULL'",
            ["binlog_row_image is MINIMAL", "FULL"],
        ),
        (
            "SET GLOBAL binlog_row_metadata = 'MINIMAL'",
            "SET GLOBAL binlog_row_metadata = 'FULL'",
            ["binlog_row_metadata is MINIMAL", "FULL"],
        ),
    ] {
        sql(set).await;
        let error = open(&source, &tables, &from).await.err().unwrap();
        refused(error, &words);
        let error = source.ensure_change_capture(&tables).await.unwrap_err();
        refused(error, &words);
        sql(reset).await;
    }
    // Back to ROW/FULL: the stream opens again.
    open(&source, &tables, &from).await.unwrap();
    drop(admin);
}

#[tokio::test(flavor = "multi_thread")]
async fn new_selected_tables_are_announced_and_untypable_columns_stop_the_stream() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_watch");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB")
        .unwrap();
    let source = connect(db.url()).await;
    let from = snapshot_position(&source).await;
    let tables = watched(&source, &["t"]).await;
    // Tables created after the stream opened are delivered when the selection says yes.
    let selected: TableFilter =
        Arc::new(|name: &QualifiedName| name.name.value.starts_with("late"));
    let mut stream = source
        .open_changes("watch", &tables, Selection::every_column(selected), &from)
        .await
        .unwrap();
    db.sql(
        "CREATE TABLE late (id INT PRIMARY KEY, name VARCHAR(5) CHARACTER SET latin1) ENGINE=InnoDB;
         CREATE TABLE skipped (id INT PRIMARY KEY) ENGINE=InnoDB;
         INSERT INTO skipped VALUES (1);
         INSERT INTO late VALUES (1, 'Ñ');",
    )
    .unwrap();
    let events = until_commits(&mut stream, 1).await;
    let ChangeEvent::Table { table, .. } = &events[0] else {
        panic!("the new table's definition first: {events:?}")
    };
    assert_eq!(table.name.name.value, "late");
    assert_eq!(migrate_source::key_columns(table), ["id"]);
    let ChangeEvent::Rows { table, changes } = &events[1] else {
        panic!("rows of late: {events:?}")
    };
    assert_eq!(table.name.value, "late");
    assert_eq!(texts(changes, "name"), [Some("Ñ".into())]);
    assert_eq!(events.len(), 3);

    // A column added and dropped again before the stream reads its rows: its type is unknown.
    db.sql(
        "ALTER TABLE t ADD COLUMN gone INT;
         INSERT INTO t VALUES (1, 1);
         ALTER TABLE t DROP COLUMN gone;",
    )
    .unwrap();
    let error = next_error(&mut stream).await;
    assert_eq!(error.retry(), Retry::Definite);
    let text = error.to_string();
    assert!(text.contains(".t.gone"), "{text}");
    assert!(text.contains("added and dropped again"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_captured_table_renamed_into_the_selection_stops_the_stream() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_rename");
    db.sql(
        "CREATE TABLE a (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
         CREATE TABLE b (id INT PRIMARY KEY) ENGINE=InnoDB;
         INSERT INTO a VALUES (1, 1), (2, 2);",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let from = snapshot_position(&source).await;
    let tables = watched(&source, &["a", "b"]).await;
    // Every table but `archived_*` is selected.
    let open = |from: Position| {
        // By name alone: the stream keeps to the URL's database, though tests write to other
        // databases of the server (one binlog) at the same time.
        let selected: TableFilter =
            Arc::new(|name: &QualifiedName| !name.name.value.starts_with("archived"));
        let (source, tables) = (&source, &tables);
        async move {
            source
                .open_changes("rename", tables, Selection::every_column(selected), &from)
                .await
                .unwrap()
        }
    };
    // Renamed out of the selection: the stream goes on (the target keeps the rows).
    let mut stream = open(from).await;
    db.sql(
        "RENAME TABLE b TO archived_b;
         INSERT INTO archived_b VALUES (7);
         INSERT INTO a VALUES (3, 3);",
    )
    .unwrap();
    let events = until_commits(&mut stream, 1).await;
    assert_eq!(shape(&events), ["a:I", "C"], "{events:?}");
    let after = commit_position(&events[1]);

    // Renamed to a selected name: captured as a new table, it would lack the rows it has (they
    // arrived as a new table with only the updated row, silently); the rename stops the
    // stream, on every resume before it too.
    db.sql(
        "ALTER TABLE a RENAME TO a2;
         UPDATE a2 SET v = 10 WHERE id = 1;",
    )
    .unwrap();
    for _ in 0..2 {
        let mut stream = open(after.clone()).await;
        let error = next_error(&mut stream).await;
        assert_eq!(error.retry(), Retry::Definite);
        let text = error.to_string();
        let renamed = format!(
            "captured table {0}.a was renamed to {0}.a2 (`ALTER TABLE a RENAME TO a2`)",
            db.name()
        );
        for words in [
            renamed.as_str(),
            "--restart",
            "out of the task's table mappings",
        ] {
            assert!(text.contains(words), "`{words}` not in: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logged_value_the_target_cannot_hold_names_its_row_and_how_to_go_on() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_zero_date");
    db.sql("CREATE TABLE d (id INT PRIMARY KEY, day DATE) ENGINE=InnoDB")
        .unwrap();
    let (_source, _tables, _from, mut stream) = watch_from_now(db.url(), &["d"]).await;
    db.sql("SET SESSION sql_mode = ''; INSERT INTO d VALUES (9, '0000-00-00');")
        .unwrap();
    let error = next_error(&mut stream).await;
    assert_eq!(error.retry(), Retry::Definite);
    let text = error.to_string();
    assert!(text.contains(".d.day, row id=9"), "{text}");
    assert!(text.contains("zero date 0000-00-00"), "{text}");
    // Not the full load's advice (fix the row, run again): the change stays in the binlog.
    assert!(
        text.ends_with(migrate_source::UNREPRESENTABLE_CHANGE_ACTION),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_names_columns_the_binlog_cannot_give() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_preflight");
    db.sql(
        "CREATE TABLE ok (id INT PRIMARY KEY, a VARCHAR(5) CHARACTER SET latin1, b TEXT, c BLOB) ENGINE=InnoDB;
         CREATE TABLE cyr (id INT PRIMARY KEY, name VARCHAR(5) CHARACTER SET cp1251) ENGINE=InnoDB;
         CREATE TABLE ids (id INT PRIMARY KEY, u UUID) ENGINE=InnoDB;",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let tables = watched(&source, &["ok", "cyr", "ids"]).await;
    source.ensure_change_capture(&tables[..1]).await.unwrap();
    let error = source
        .ensure_change_capture(&tables[1..2])
        .await
        .unwrap_err();
    assert_eq!(error.retry(), Retry::Definite);
    let text = error.to_string();
    assert!(
        text.contains(".cyr.name") && text.contains("cp1251"),
        "{text}"
    );
    let error = source
        .ensure_change_capture(&tables[2..])
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains(".ids.u") && text.contains("uuid"), "{text}");

    // The stream refuses the same columns when their first change arrives.
    let from = snapshot_position(&source).await;
    let mut stream = open(&source, &tables[1..], &from).await.unwrap();
    db.sql("INSERT INTO cyr VALUES (1, 'x')").unwrap();
    let error = next_error(&mut stream).await;
    assert!(error.to_string().contains("cp1251"), "{error}");
}

/// Applies a change batch of a table with an `id INT` key and a `v` text column to a model.
fn apply(model: &mut std::collections::BTreeMap<i32, Option<String>>, batch: &RecordBatch) {
    let op = column::<StringArray>(batch, "__op");
    let before = column::<Int32Array>(batch, "__before_id");
    let id = column::<Int32Array>(batch, "id");
    let v = column::<LargeStringArray>(batch, "v");
    for i in 0..batch.num_rows() {
        match op.value(i) {
            "I" => assert!(
                model
                    .insert(id.value(i), v.is_valid(i).then(|| v.value(i).to_string()))
                    .is_none(),
                "duplicate insert of {}",
                id.value(i)
            ),
            "U" => {
                assert!(
                    model.remove(&before.value(i)).is_some(),
                    "update of a missing row {}",
                    before.value(i)
                );
                assert!(model
                    .insert(id.value(i), v.is_valid(i).then(|| v.value(i).to_string()))
                    .is_none());
            }
            "D" => assert!(
                model.remove(&before.value(i)).is_some(),
                "delete of a missing row {}",
                before.value(i)
            ),
            other => panic!("op {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concurrent_workload_replays_exactly_across_a_resume() {
    use mysql_async::prelude::Queryable;
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cdc_workload");
    db.sql(
        "CREATE TABLE w (id INT PRIMARY KEY, v VARCHAR(30)) ENGINE=InnoDB;
         INSERT INTO w SELECT seq, CONCAT('initial ', seq) FROM seq_1_to_200;",
    )
    .unwrap();
    let source = connect(db.url()).await;
    // The model starts as the snapshot's view.
    let snapshot = source.snapshot(1).await.unwrap();
    let from = snapshot.binlog_position().unwrap().change_position();
    snapshot.close().await.unwrap();
    let mut model: std::collections::BTreeMap<i32, Option<String>> = (1..=200)
        .map(|i| (i, Some(format!("initial {i}"))))
        .collect();
    let tables = watched(&source, &["w"]).await;

    // A writer: 600 transactions of inserts, updates (some of the key), deletes, and rollbacks.
    let url = db.url().to_string();
    let writer = tokio::spawn(async move {
        let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
        for round in 0..600u32 {
            let next = 1000 + round;
            conn.query_drop("BEGIN").await.unwrap();
            let target = 1 + (round * 37) % 200;
            let statements = [
                format!("INSERT INTO w VALUES ({next}, 'n{round}')"),
                format!(
                    "UPDATE w SET v = {} WHERE id = {target}",
                    if round % 5 == 0 {
                        "NULL".to_string()
                    } else {
                        format!("'u{round}'")
                    }
                ),
                format!("UPDATE w SET id = id + 100000 WHERE id = {}", next - 1),
                format!("DELETE FROM w WHERE id = {}", 1 + (round * 53) % 200),
            ];
            for statement in &statements[..1 + (round as usize % 4)] {
                conn.query_drop(statement).await.unwrap();
            }
            if round % 10 == 9 {
                conn.query_drop("ROLLBACK").await.unwrap();
            } else {
                conn.query_drop("COMMIT").await.unwrap();
            }
        }
    });

    // Read while the writer runs; stop at the first commit after 300 changes (about a quarter
    // of the workload; consecutive transactions may share a commit), keep only what committed,
    // resume.
    let mut stream = open(&source, &tables, &from).await.unwrap();
    let mut uncommitted: Vec<RecordBatch> = Vec::new();
    let mut last_commit = from.clone();
    let mut applied = 0;
    while applied < 300 {
        match stream.next_event().await.unwrap().unwrap() {
            ChangeEvent::Rows { changes, .. } => uncommitted.push(changes),
            ChangeEvent::Commit { position, .. } => {
                for batch in uncommitted.drain(..) {
                    applied += batch.num_rows();
                    apply(&mut model, &batch);
                }
                last_commit = position;
            }
            _ => {}
        }
    }
    // Rows read after the last commit are dropped with the stream, as after a crash.
    drop(stream);
    writer.await.unwrap();
    let mut conn = mysql_async::Conn::from_url(db.url()).await.unwrap();
    conn.query_drop("INSERT INTO w VALUES (999999, 'end')")
        .await
        .unwrap();
    let mut stream = open(&source, &tables, &last_commit).await.unwrap();
    'read: loop {
        match stream.next_event().await.unwrap().unwrap() {
            ChangeEvent::Rows { changes, .. } => uncommitted.push(changes),
            ChangeEvent::Commit { .. } => {
                let end = uncommitted
                    .iter()
                    .any(|b| column::<Int32Array>(b, "id").values().contains(&999_999));
                for batch in uncommitted.drain(..) {
                    apply(&mut model, &batch);
                }
                if end {
                    break 'read;
                }
            }
            _ => {}
        }
    }
    let rows: Vec<(i32, Option<String>)> =
        conn.query("SELECT id, v FROM w ORDER BY id").await.unwrap();
    let actual: std::collections::BTreeMap<i32, Option<String>> = rows.into_iter().collect();
    assert_eq!(model.len(), actual.len());
    assert_eq!(model, actual);
}

/// `url` with its `?...` replaced by `query`.
fn with_query(url: &str, query: &str) -> String {
    let base = url.split_once('?').map_or(url, |(base, _)| base);
    format!("{base}?{query}")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snapshot_and_the_binlog_stream_work_over_tls() {
    // A server that accepts TCP over TLS only; the URL asks for ssl-mode=VERIFY_IDENTITY with
    // the test CA.
    let Some(server) = migrate_testkit::mariadb_tls() else {
        return;
    };
    let db = server.create_database("cdc_tls");
    db.sql("CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(20)); INSERT INTO t VALUES (1, 'loaded');")
        .unwrap();
    let source = connect(db.url()).await;
    let tables = watched(&source, &["t"]).await;
    let (loaded, from) = start_with_snapshot(&source, "tls", &tables).await;
    assert_eq!(ints(&loaded[0], "id"), [Some(1)]);
    let mut stream = open(&source, &tables, &from).await.unwrap();
    db.sql("INSERT INTO t VALUES (2, 'captured')").unwrap();
    let events = until_commits(&mut stream, 1).await;
    assert_eq!(ints(rows(&events[0]), "id"), [Some(2)]);
    assert_eq!(texts(rows(&events[0]), "note"), [Some("captured".into())]);
    // The source's and the stream's sessions came over TCP, so over TLS (the server takes
    // nothing else there), not over the server's local socket, which the driver prefers on the
    // same host.
    let sessions = server
        .sql(&format!(
            "SELECT HOST, COMMAND FROM information_schema.PROCESSLIST WHERE USER = 'migrate' AND (DB = '{}' OR COMMAND LIKE 'Binlog Dump%')",
            db.name()
        ))
        .unwrap();
    assert!(
        sessions.contains("Binlog Dump") && !sessions.contains("localhost"),
        "sessions: {sessions}"
    );

    // Not encrypted: the server refuses, for good.
    let error = MysqlSource::connect(&with_query(db.url(), "ssl-mode=DISABLED"))
        .await
        .unwrap_err();
    assert_eq!(error.retry(), Retry::Definite, "{error}");
    // The test CA is not among the public roots: refused, for good, with what to check.
    let error = MysqlSource::connect(&with_query(
        db.url(),
        "ssl-mode=VERIFY_IDENTITY&ssl-ca=system",
    ))
    .await
    .unwrap_err();
    assert_eq!(error.retry(), Retry::Definite, "{error}");
    assert!(
        error.to_string().contains("ssl-ca must name the CA"),
        "{error}"
    );
    // Encrypted without checking the certificate.
    let required = MysqlSource::connect(&with_query(db.url(), "ssl-mode=REQUIRED"))
        .await
        .unwrap();
    assert_eq!(watched(&required, &["t"]).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let Some(server) = migrate_testkit::mariadb_tls() else {
        return;
    };
    // The user migrate_cert must show a certificate of the test CA.
    server
        .sql("CREATE USER IF NOT EXISTS 'migrate_cert'@'%' REQUIRE X509; GRANT SELECT ON *.* TO 'migrate_cert'@'%'")
        .unwrap();
    let query = server.url().split_once('?').expect("TLS parameters").1;
    let ca = query
        .split('&')
        .find_map(|p| p.strip_prefix("ssl-ca="))
        .expect("ssl-ca");
    let dir = std::path::Path::new(ca)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let port = server
        .url()
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let url = |extra: &str| format!("mysql://migrate_cert@127.0.0.1:{port}/?{query}{extra}");
    let with_certificate = url(&format!(
        "&ssl-cert={dir}/client.crt&ssl-key={dir}/client.key"
    ));
    MysqlSource::connect(&with_certificate).await.unwrap();
    let error = MysqlSource::connect(&url("")).await.unwrap_err();
    assert_eq!(error.server_code(), Some(1045), "{error}"); // access denied
}
