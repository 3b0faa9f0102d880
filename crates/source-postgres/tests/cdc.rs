//! Change capture against a real PostgreSQL: the slot's snapshot and its changes meet without gap
//! or overlap; inserts, updates (key changes, unchanged TOAST values), deletes, truncates and
//! column changes arrive as change batches; a stream resumed from a commit position delivers
//! exactly the later transactions.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use common::{capture, open_table, table, whole};
use futures::TryStreamExt;
use migrate_core::Table;
use migrate_source::{
    ChangeEvent, ChangeSource, ChangeStream, Position, ReadSpec, Selection, Snapshot as _,
};
use migrate_source_postgres::{PostgresChanges, PostgresSource};
use std::sync::Arc;
use std::time::Duration;

/// A PostgreSQL LSN (`X/Y`) as a number.
fn lsn(text: &str) -> u64 {
    let (high, low) = text.trim().split_once('/').expect("an LSN");
    (u64::from_str_radix(high, 16).unwrap() << 32) | u64::from_str_radix(low, 16).unwrap()
}

/// The stream's next event, within 30 s.
async fn next_event(changes: &mut PostgresChanges) -> ChangeEvent {
    tokio::time::timeout(Duration::from_secs(30), changes.next_event())
        .await
        .expect("no change within 30 s")
        .unwrap()
        .expect("the stream ended")
}

/// Opens the change stream again, while the previous session's walsender may still hold the
/// slot for a moment.
async fn reopen(
    source: &PostgresSource,
    task: &str,
    tables: &[Table],
    selection: Selection,
    from: &Position,
) -> PostgresChanges {
    loop {
        match source
            .open_changes(task, tables, selection.clone(), from)
            .await
        {
            Ok(stream) => return stream,
            Err(e) => {
                eprintln!("retrying: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
}

/// Events until a commit at or past `end`, or an Idle event there (every transaction before it
/// was delivered: `end` may lie past this database's last commit when other tests write WAL);
/// Idle events are left out. Consecutive transactions may come as one batch with the last one's
/// commit.
async fn events_until(changes: &mut PostgresChanges, end: &str) -> Vec<ChangeEvent> {
    let mut out = Vec::new();
    loop {
        let event = next_event(changes).await;
        let done = match &event {
            ChangeEvent::Idle { position, .. } if lsn(&position.0) >= lsn(end) => return out,
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
            ChangeEvent::Table { table, .. } => Some(table),
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
    let mut resumed = reopen(
        &source,
        "stream test",
        &[t_now],
        Selection::every_column(Arc::new(|n| n.name.value == "t")),
        commits[0],
    )
    .await;
    let again = events_until(&mut resumed, &end).await;
    assert!(!rows(&again).is_empty());
    assert_eq!(rows(&again), rows(&got[first_commit + 1..]));
    drop(resumed);
    source.drop_capture("stream test").await.unwrap();
}

/// A column whose type the stream does not decode (an array, a point) is delivered as NULL when
/// the task drops it, and stops the stream, naming it, when the task keeps it.
/// A column of a type without a binary form (`aclitem`: pgoutput sends its text) is delivered as
/// NULL when the task drops it, and stops the stream naming it when the task keeps it.
#[tokio::test(flavor = "multi_thread")]
async fn a_column_of_a_type_without_a_binary_form_is_dropped_only_when_the_task_drops_it() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_undecoded");
    db.sql("CREATE TABLE hosts (id bigint PRIMARY KEY, name text, acl aclitem)")
        .unwrap();
    let (source, hosts, snapshot, start) = capture(&db, "undecoded", "hosts").await;
    snapshot.close().await.unwrap();
    db.sql("INSERT INTO hosts VALUES (1, 'a', 'postgres=r/postgres'), (2, 'b', NULL)")
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
        match next_event(&mut changes).await {
            ChangeEvent::Rows { changes, .. } => batches.push(changes),
            ChangeEvent::Commit { .. } if !batches.is_empty() => break,
            _ => {}
        }
    }
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    for batch in &batches {
        assert_eq!(column(batch, "name").null_count(), 0, "{batch:?}");
        assert_eq!(column(batch, "acl").null_count(), batch.num_rows());
    }
    drop(changes);

    // Kept, the column stops the stream at its table's first change.
    let mut changes = reopen(
        &source,
        "undecoded",
        std::slice::from_ref(&hosts),
        keep_only(&["id", "name", "acl"]),
        &start,
    )
    .await;
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
        message.contains("hosts.acl") && message.contains("aclitem"),
        "{message}"
    );
    drop(changes);
    source.drop_capture("undecoded").await.unwrap();
}

/// Ranges, multiranges, geometric types, money, arrays of other elements, extension types, a
/// domain and a composite type are converted on the source by the full load's expressions: each
/// captured value equals what the full load reads for the same row, also in a before-image key.
#[tokio::test(flavor = "multi_thread")]
async fn values_converted_on_the_source_equal_what_the_full_load_reads() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_rendered");
    db.sql(
        "CREATE EXTENSION citext; CREATE EXTENSION hstore;
         CREATE DOMAIN period AS tstzrange CHECK (NOT isempty(VALUE));
         CREATE TYPE pair AS (a int, b text);
         CREATE TABLE odd (id int PRIMARY KEY, r4 int4range, rts tstzrange, rn numrange,
                           rd daterange, mr int4multirange, p point, bx box, pg polygon,
                           ci circle, ls lseg, pa path, m money, da date[], ta timestamptz[],
                           ia inet[], ra tstzrange[], pp point[], ca citext[], pa2 pair[], ba box[], ct citext, hs hstore, pe period, pr pair, tv tsvector,
                           x xml, padding text, bt bit(3)[]);
         CREATE TABLE slots (during tstzrange PRIMARY KEY, note text);",
    )
    .unwrap();
    let source = PostgresSource::connect(db.url()).await.unwrap();
    let catalog = source.discover(None).await.unwrap();
    let tables = vec![
        table(&catalog, "odd").clone(),
        table(&catalog, "slots").clone(),
    ];
    let (snapshot, start) = source
        .capture_snapshot("rendered", &tables, 2)
        .await
        .unwrap();
    snapshot.close().await.unwrap();
    db.sql(
        r#"INSERT INTO odd VALUES
             (1, '[1,5)', '[2024-01-01 10:00:00.5+02,infinity)', '(-1.50,2.25]', '[2024-02-29,2024-03-01)',
              '{[1,3),[7,9)}', '(1.5,-2)', '((0,0),(1,1))', '((0,0),(1,0),(0,1))', '<(1,1),2.5>',
              '[(0,0),(3,4)]', '[(0,0),(1,1),(2,0)]', '-1234.56', '{{2024-01-01,NULL},{infinity,-infinity}}',
              '[0:1]={"2024-01-01 00:00:00.25+00","2024-06-01 12:00:00+05:30"}', '{10.0.0.1/8,::1}',
              ARRAY['[2024-01-01,2024-01-02)'::tstzrange, 'empty', NULL], '{"(1,2)"}', '{A,"b c",NULL}',
              $a$[2:4]={"(1,x)","(,\"y \"\"z, NULL\"\"\")","(3,NULL)"}$a$, '{(1,1),(0,0);(2,2),(1,1)}', 'MiXeD Case', 'a=>1, "b c"=>NULL',
              '[2024-01-01,2024-02-01)', ROW(7, 'seven, "quoted"'), 'the quick brown fox', '<a href="x">é</a>',
              repeat('z', 10000), '{101,NULL}'),
             (2, 'empty', NULL, '[1e-20,1e20]', NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL,
              '0', '{}', '{NULL}', '{}', NULL, '{}', NULL, '{NULL,NULL}', '{}', '', '', NULL, ROW(NULL, NULL), '', NULL, NULL, '{{000},{111}}');
           INSERT INTO slots VALUES ('[2024-01-01 00:00+00,2024-01-02 00:00+00)', 'first');
           UPDATE odd SET rn = '[0,1)' WHERE id = 2;
           UPDATE slots SET during = '[2024-02-01 00:00+00,2024-02-02 00:00+00)', note = 'moved';"#,
    )
    .unwrap();
    let end = db.sql("SELECT pg_current_wal_lsn()").unwrap();
    let mut changes = source
        .open_changes(
            "rendered",
            &tables,
            Selection::every_column(Arc::new(|_| false)),
            &start,
        )
        .await
        .unwrap();
    let events = events_until(&mut changes, end.trim()).await;
    drop(changes);

    // The last image of each row, by table and id (`slots`: by its note).
    let mut captured: Vec<(String, RecordBatch, usize)> = Vec::new();
    let mut before_keys = Vec::new();
    for event in &events {
        if let ChangeEvent::Rows { table, changes } = event {
            for row in 0..changes.num_rows() {
                captured.push((table.name.value.clone(), changes.clone(), row));
                let op = column(changes, "__op").as_string::<i32>().value(row);
                if table.name.value == "slots" && op == "U" {
                    let before = column(changes, "__before_during");
                    before_keys.push(match before.data_type() {
                        DataType::Utf8 => before.as_string::<i32>().value(row).to_string(),
                        _ => before.as_string::<i64>().value(row).to_string(),
                    });
                }
            }
        }
    }
    // The update moving the key names the old key as the full load reads it (the range's text).
    assert_eq!(
        before_keys,
        [r#"["2024-01-01 00:00:00+00","2024-01-02 00:00:00+00")"#]
    );
    for t in &tables {
        let loaded = common::read_all(&source, None, t, &whole(), 1000)
            .await
            .unwrap();
        let mut compared = 0;
        for batch in &loaded {
            for row in 0..batch.num_rows() {
                let key = batch.column(0).slice(row, 1);
                let (_, changes, at) = captured
                    .iter()
                    .rev()
                    .find(|(name, changes, at)| {
                        name == &t.name.name.value
                            && changes
                                .column_by_name(&t.columns[0].name.value)
                                .unwrap()
                                .slice(*at, 1)
                                .as_ref()
                                == key.as_ref()
                    })
                    .unwrap_or_else(|| panic!("{} row {row} was not captured", t.name));
                for (i, c) in t.columns.iter().enumerate() {
                    let loaded_value = batch.column(i).slice(row, 1);
                    let captured_value = column(changes, &c.name.value).slice(*at, 1);
                    assert_eq!(
                        captured_value.as_ref(),
                        loaded_value.as_ref(),
                        "{}.{} of row {row}: captured {captured_value:?}, loaded {loaded_value:?}",
                        t.name,
                        c.name
                    );
                }
                compared += 1;
            }
        }
        assert_eq!(compared, if t.name.name.value == "odd" { 2 } else { 1 });
    }
    source.drop_capture("rendered").await.unwrap();
}

/// Network addresses and bit strings arrive in binary form and are printed as PostgreSQL prints
/// them (the full load reads their text): every value equals the server's output of it.
#[tokio::test(flavor = "multi_thread")]
async fn network_addresses_and_bit_strings_arrive_as_the_server_prints_them() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_network");
    db.sql(
        "CREATE TABLE net (id int PRIMARY KEY, i inet, c cidr, m macaddr, m8 macaddr8,
                           b bit(5), v varbit)",
    )
    .unwrap();
    let (source, net, snapshot, start) = capture(&db, "network", "net").await;
    snapshot.close().await.unwrap();
    let inets = [
        "10.0.0.1",
        "10.0.0.1/8",
        "0.0.0.0/0",
        "255.255.255.255",
        "::",
        "::1",
        "1::",
        "::/0",
        "2001:db8::1",
        "2001:db8::/32",
        "2001:db8:0:0:1:0:0:1",
        "2001:0:0:1::1",
        "fe80::1:0:0:0",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "::ffff:0:1.2.3.4",
        "1:2:3:4:5:6:7:8",
        "1:0:2:0:3:0:4:0/120",
        "0:0:1::",
        "::ffff:1.2.3.4/120",
    ];
    let cidrs = [
        "10.0.0.0/8",
        "10.1.2.3/32",
        "2001:db8::/32",
        "::/0",
        "::1/128",
    ];
    let mut rows = Vec::new();
    for (n, inet) in inets.iter().enumerate() {
        let cidr = cidrs[n % cidrs.len()];
        rows.push(format!(
            "({n}, '{inet}', '{cidr}', '08:00:2b:01:02:{n:02x}', '08:00:2b:01:02:03:04:{n:02x}', \
             B'{:05b}', B'{}')",
            n % 32,
            "10".repeat(n)
        ));
    }
    rows.push(format!(
        "({}, NULL, NULL, NULL, NULL, NULL, B'')",
        inets.len()
    ));
    db.sql(&format!("INSERT INTO net VALUES {}", rows.join(", ")))
        .unwrap();
    // The output functions, as the full load reads these types (`::text` of an inet is not
    // its output: it always adds the netmask).
    let expected = db
        .sql(
            "SELECT id, concat(i), concat(c), concat(m), concat(m8), concat(b), concat(v)
               FROM net ORDER BY id",
        )
        .unwrap();

    let mut changes = open_table(&source, "network", &net, &start).await.unwrap();
    let mut got = Vec::new();
    while got.len() < rows.len() {
        let ChangeEvent::Rows { changes, .. } = next_event(&mut changes).await else {
            continue;
        };
        // As psql -At prints it: NULL as nothing.
        let text = |name: &str, row: usize| {
            let array = column(&changes, name);
            if array.is_null(row) {
                return String::new();
            }
            match array.data_type() {
                DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
                DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
                DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
                other => panic!("column {name} arrives as {other}"),
            }
        };
        for row in 0..changes.num_rows() {
            got.push(
                ["id", "i", "c", "m", "m8", "b", "v"]
                    .iter()
                    .map(|name| text(name, row))
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    assert_eq!(got.join("\n"), expected.trim_end());
    drop(changes);
    source.drop_capture("network").await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snapshot_and_the_change_stream_work_over_tls() {
    let Some(pg) = migrate_testkit::postgres_tls() else {
        return;
    };
    // The server accepts TLS only, and the URL asks for sslmode=verify-full.
    let db = pg.create_database("pg_cdc_tls");
    db.sql("CREATE TABLE t (id bigint PRIMARY KEY, note text); INSERT INTO t VALUES (1, 'loaded')")
        .unwrap();
    let (source, t, snapshot, start) = capture(&db, "tls", "t").await;
    let loaded: Vec<RecordBatch> = snapshot
        .read_chunk(&ReadSpec::whole_table(&t), &whole(), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(loaded.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
    snapshot.close().await.unwrap();

    db.sql("INSERT INTO t VALUES (2, 'captured')").unwrap();
    let end = db.sql("SELECT pg_current_wal_insert_lsn()").unwrap();
    let mut changes = open_table(&source, "tls", &t, &start).await.unwrap();
    let got = events_until(&mut changes, &end).await;
    assert_eq!(rows(&got), vec![("I".into(), None, Some(2), None)]);
    // The walsender's session is the encrypted one.
    let encrypted = db
        .sql(&format!(
            "SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)
              WHERE r.application_name = 'migrate {}'",
            // The slot's name, which the replication session's application name follows.
            migrate_source_postgres::capture_name(db.name(), "tls")
        ))
        .unwrap();
    assert_eq!(encrypted.trim(), "t");
    drop(changes);
    source.drop_capture("tls").await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn arrays_arrive_as_the_full_load_reads_them() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_arrays");
    let columns = [
        "b", "i2", "i4", "i8", "f4", "f8", "n", "t", "v", "c", "j", "jb", "u",
    ];
    db.sql(
        "CREATE TABLE arr (id int PRIMARY KEY, b bool[], i2 int2[], i4 int4[], i8 int8[],
                           f4 float4[], f8 float8[], n numeric[], t text[], v varchar(10)[],
                           c char(3)[], j json[], jb jsonb[], u uuid[])",
    )
    .unwrap();
    let (source, arr, snapshot, start) = capture(&db, "arrays", "arr").await;
    snapshot.close().await.unwrap();
    db.sql(
        r#"INSERT INTO arr VALUES
         (1, '{true,false,NULL}', '{-32768,32767}', '{{1,2},{3,4}}', '{9223372036854775807}',
          '{1.5,1e+06,NaN,-Infinity,3.4028235e+38}', '{0.1,1e-05,1e+20,-0,123456789012345,1234567890123456}',
          '{1.50,-0.001,NaN,Infinity,12345678901234567890.123}',
          ARRAY['a"b', 'back\slash', E'tab\tnew\nline', E'\u0001', 'é', NULL, ''],
          '{x,"y z"}', '{ab,abc}', ARRAY['{"a": [1, 2]}'::json, 'null'], ARRAY['{"b": 1, "a": 2}'::jsonb],
          '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'),
         (2, '{}', '[0:1]={5,6}', '{{{1},{2}},{{3},{4}}}', NULL, '{}', NULL, '{}', '{}', NULL, NULL, NULL, NULL, '{NULL}')"#,
    )
    .unwrap();
    // What the full load reads for these columns.
    let select: Vec<String> = columns
        .iter()
        .map(|c| format!("coalesce(to_json({c})::text, '')"))
        .collect();
    let expected = db
        .sql(&format!(
            "SELECT concat_ws('|', id, {}) FROM arr ORDER BY id",
            select.join(", ")
        ))
        .unwrap();
    let mut changes = open_table(&source, "arrays", &arr, &start).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        let ChangeEvent::Rows { changes, .. } = next_event(&mut changes).await else {
            continue;
        };
        let ids = column(&changes, "id").as_primitive::<Int32Type>();
        for row in 0..changes.num_rows() {
            let mut fields = vec![ids.value(row).to_string()];
            for name in columns {
                let values = column(&changes, name).as_string::<i64>();
                fields.push(if values.is_null(row) {
                    String::new()
                } else {
                    values.value(row).to_string()
                });
            }
            got.push(fields.join("|"));
        }
    }
    assert_eq!(got.join("\n"), expected.trim_end());
    drop(changes);
    source.drop_capture("arrays").await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_capture_cannot_represent_names_its_row_and_transaction() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_cdc_unrepresentable");
    db.sql("CREATE TABLE events (id int, region text, d timestamp, PRIMARY KEY (region, id))")
        .unwrap();
    let (source, events, snapshot, start) = capture(&db, "unrepresentable", "events").await;
    snapshot.close().await.unwrap();
    db.sql("INSERT INTO events VALUES (7, 'eu', '2024-01-01')")
        .unwrap();
    // The WAL insert position inside the transaction and after its COMMIT bracket where its
    // commit record starts, which the error names.
    let bracket = db
        .sql(
            "BEGIN; UPDATE events SET d = '294250-01-01' WHERE id = 7; \
             SELECT pg_current_wal_insert_lsn(); COMMIT; SELECT pg_current_wal_insert_lsn()",
        )
        .unwrap();
    let bracket: Vec<u64> = bracket.lines().map(lsn).collect();
    let mut changes = open_table(&source, "unrepresentable", &events, &start)
        .await
        .unwrap();
    let error = loop {
        match tokio::time::timeout(Duration::from_secs(30), changes.next_event())
            .await
            .expect("no change within 30 s")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the stream ended without the error"),
            Err(error) => break error.to_string(),
        }
    };
    let named =
        "public.events.d, row region='eu', id=7 (update of the transaction that commits at LSN ";
    let commit = error
        .strip_prefix(named)
        .and_then(|rest| rest.split_once("): timestamp at or after 294247"))
        .map(|(commit, _)| lsn(commit))
        .unwrap_or_else(|| panic!("{error}"));
    assert!(
        bracket[0] <= commit && commit < bracket[1],
        "{error}: the commit record lies between {bracket:?}"
    );
    assert!(
        error.contains(migrate_source::UNREPRESENTABLE_CHANGE_ACTION),
        "{error}"
    );
    drop(changes);
    source.drop_capture("unrepresentable").await.unwrap();
}
