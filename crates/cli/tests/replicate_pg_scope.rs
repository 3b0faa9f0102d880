//! What `migrate replicate` reads and publishes of a PostgreSQL source, end to end against the
//! real server: a table's own rows only (an inheritance child is a table of its own, read and
//! published apart), and no table whose publication would break the source's own UPDATE and
//! DELETE (a DEFERRABLE primary key is no replica identity) or lose its changes (UNLOGGED).
//! Each test checks the source's application still works while capture runs and compares the
//! target with the source independently of migrate.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{
    refused_cdc, selecting_all_but, start_cdc, stop, wait_for_capture, wait_for_target,
    wait_until_same, Cdc,
};
use common::{migrate_json, one, pg_task};
use migrate_testkit::PgDatabase;
use std::path::Path;

/// The `replicate` arguments of task `name` from `source` to `target`, with `extra`.
fn replicate_args<'a>(
    source: &'a PgDatabase,
    target: &'a PgDatabase,
    staging: &'a Path,
    name: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = common::replicate_args(source.url(), target.url(), staging, &["--name", name]);
    args.extend(extra);
    args
}

/// What a `--cdc` run that should be refused gets, so that it ends (3 s idle) if it is not.
const UNTIL_IDLE: &[&str] = &["--stop-when-idle", "3", "--no-validate"];

/// Starts task `name` with `--cdc` and `extra` in the background and waits until its full load
/// is done and capture has started.
fn capture(
    source: &PgDatabase,
    target: &PgDatabase,
    staging: &Path,
    name: &str,
    extra: &[&str],
) -> Cdc {
    let mut cdc = start_cdc(source.url(), target.url(), staging, name, false, extra);
    wait_for_capture(&mut cdc, target.url());
    cdc
}

/// [`capture`] of every table but `excluded` (see [`selecting_all_but`]).
fn capture_without(
    source: &PgDatabase,
    target: &PgDatabase,
    staging: &Path,
    name: &str,
    excluded: &[&str],
) -> Cdc {
    let mapping = selecting_all_but(staging, excluded);
    capture(source, target, staging, name, &[&mapping[0], &mapping[1]])
}

/// The source has neither the task's publication nor a replication slot: nothing was created.
fn nothing_published(source: &PgDatabase) {
    assert_eq!(
        one(
            source,
            "SELECT (SELECT count(*) FROM pg_publication) || ' ' || (SELECT count(*) FROM pg_replication_slots WHERE database = current_database())"
        ),
        "0 0"
    );
}

/// A DEFERRABLE primary key is no replica identity (PostgreSQL can't use it): selected, the
/// table is refused before anything is created on the source, naming it and the remedy;
/// excluded, it keeps the publication from being FOR ALL TABLES, so its UPDATE and DELETE keep
/// working while capture runs; with the remedy applied, it is captured.
#[test]
fn a_deferrable_primary_key_is_no_replica_identity() {
    let Some((source, target, staging)) = pg_task("scope_deferrable") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE orders (id int PRIMARY KEY, v int); INSERT INTO orders VALUES (1, 1);
             CREATE TABLE dc (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
             INSERT INTO dc VALUES (1, 'a'), (2, 'b'), (3, 'c');",
        )
        .unwrap();

    let stderr = refused_cdc(source.url(), target.url(), &staging, "all", UNTIL_IDLE);
    for words in [
        "public.dc",
        "DEFERRABLE",
        "REPLICA IDENTITY FULL",
        "exclude",
    ] {
        assert!(stderr.contains(words), "no {words:?} in:\n{stderr}");
    }
    nothing_published(&source);

    let mut cdc = capture_without(&source, &target, &staging, "orders", &["dc"]);
    source
        .sql("UPDATE dc SET v = 'A' WHERE id = 1; DELETE FROM dc WHERE id = 2; UPDATE orders SET v = 2;")
        .expect("the source still takes UPDATE and DELETE of the excluded table");
    assert_eq!(one(&source, "SELECT puballtables FROM pg_publication"), "f");
    wait_for_target(&mut cdc, target.url(), "SELECT v FROM orders", "2");
    stop(cdc);

    // The remedy the refusal names: capture then takes the table's changes too.
    let target = migrate_testkit::postgres()
        .expect("the PostgreSQL server")
        .create_database("scope_deferrable_fixed");
    source.sql("ALTER TABLE dc REPLICA IDENTITY FULL").unwrap();
    let mut cdc = capture(&source, &target, &staging, "fixed", &[]);
    source
        .sql("UPDATE dc SET v = 'C' WHERE id = 3; DELETE FROM dc WHERE id = 1; INSERT INTO dc VALUES (4, 'd');")
        .expect("the source takes UPDATE and DELETE of the published table");
    let rows = "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM dc";
    wait_until_same(&mut cdc, source.url(), target.url(), rows);
    assert_eq!(one(&target, rows), "3=C,4=d");
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// Under a publication FOR ALL TABLES, a table created later with a DEFERRABLE primary key
/// gets REPLICA IDENTITY FULL from the publication's event trigger, so the source keeps taking
/// its UPDATE and DELETE; an event trigger left by an earlier migrate (which took such a key for
/// a replica identity) is replaced.
#[test]
fn a_table_created_later_with_a_deferrable_key_keeps_its_updates() {
    let Some((source, target, staging)) = pg_task("scope_deferrable_later") else {
        return;
    };
    let capture_name = migrate_source_postgres::capture_name(source.name(), "later");
    // As an earlier migrate left them: every command watched, but its judgement of keys was
    // the old one (here: none at all).
    source
        .sql(&format!(
            "CREATE TABLE orders (id int PRIMARY KEY, v int); INSERT INTO orders VALUES (1, 1);
             CREATE PUBLICATION {capture_name} FOR ALL TABLES WITH (publish_via_partition_root = true);
             CREATE FUNCTION {capture_name}() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
             CREATE EVENT TRIGGER {capture_name} ON ddl_command_end
               WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE', 'DROP INDEX')
               EXECUTE FUNCTION {capture_name}();"
        ))
        .unwrap();
    let mut cdc = capture(&source, &target, &staging, "later", &[]);
    source
        .sql(
            "CREATE TABLE dc (id int PRIMARY KEY DEFERRABLE, v int); INSERT INTO dc VALUES (1, 1), (2, 2);
             UPDATE dc SET v = 3 WHERE id = 1; DELETE FROM dc WHERE id = 2;
             UPDATE orders SET v = 2;",
        )
        .expect("a table created later with a deferrable key still takes UPDATE and DELETE");
    assert_eq!(
        one(
            &source,
            "SELECT relreplident FROM pg_class WHERE relname = 'dc'"
        ),
        "f"
    );
    wait_for_target(&mut cdc, target.url(), "SELECT v FROM orders", "2");
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// An inheritance child is a table of its own: the full load reads the parent's own rows
/// (`ONLY`), so no row lands twice in the target, and validation compares the parent's own
/// rows with the target's. The target tables are created without INHERITS.
#[test]
fn inheritance_children_load_as_tables_of_their_own() {
    let Some((source, target, staging)) = pg_task("scope_inherits_load") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE parent_inh (id int PRIMARY KEY, x text);
             CREATE TABLE child_inh (extra int) INHERITS (parent_inh);
             INSERT INTO parent_inh SELECT g, 'p' || g FROM generate_series(1, 50) g;
             INSERT INTO child_inh SELECT g, 'c' || g, g * 10 FROM generate_series(101, 130) g;",
        )
        .unwrap();
    let (code, summary) = migrate_json(&replicate_args(&source, &target, &staging, "load", &[]));
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(summary["ok"], true, "{summary:#}");
    let parent = "SELECT count(*) || ' ' || string_agg(id || '=' || x, ',' ORDER BY id) FROM";
    assert_eq!(
        one(&target, &format!("{parent} parent_inh")),
        one(&source, &format!("{parent} ONLY parent_inh"))
    );
    let child =
        "SELECT count(*) || ' ' || string_agg(id || '=' || x || '=' || extra, ',' ORDER BY id) FROM child_inh";
    assert_eq!(one(&target, child), one(&source, child));
    assert!(one(&target, child).starts_with("30 "));
    assert_eq!(one(&target, "SELECT count(*) FROM pg_inherits"), "0");

    let (code, summary) = migrate_json(&[
        "validate",
        "--source",
        source.url(),
        "--target",
        target.url(),
        "--name",
        "load",
    ]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(summary["ok"], true, "{summary:#}");
    let _ = std::fs::remove_dir_all(&staging);
}

/// With an inheritance child excluded (and, having no key, keeping the publication from being
/// FOR ALL TABLES), the parent is published with `ONLY`: the source keeps taking the child's
/// UPDATE and DELETE while capture runs, the parent's target gets the parent's rows only, and
/// a selected child's changes arrive in its own target table.
#[test]
fn an_excluded_inheritance_child_keeps_its_updates_under_capture() {
    let Some((source, target, staging)) = pg_task("scope_inherits_cdc") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE parent_inh (id int PRIMARY KEY, x text);
             CREATE TABLE child_inh (extra int) INHERITS (parent_inh);
             CREATE TABLE keyed_child (extra int, PRIMARY KEY (id)) INHERITS (parent_inh);
             INSERT INTO parent_inh VALUES (1, 'p1'), (2, 'p2');
             INSERT INTO child_inh VALUES (3, 'c3', 30), (4, 'c4', 40);
             INSERT INTO keyed_child VALUES (5, 'k5', 50);",
        )
        .unwrap();
    let mut cdc = capture_without(&source, &target, &staging, "inherits", &["child_inh"]);
    source
        .sql(
            "UPDATE child_inh SET extra = 99 WHERE id = 3; DELETE FROM child_inh WHERE id = 4;
             INSERT INTO child_inh VALUES (8, 'c8', 80);
             INSERT INTO parent_inh VALUES (6, 'p6'); UPDATE ONLY parent_inh SET x = 'P1' WHERE id = 1;
             INSERT INTO keyed_child VALUES (7, 'k7', 70); UPDATE keyed_child SET x = 'K5' WHERE id = 5;",
        )
        .expect("the source still takes UPDATE and DELETE of the excluded child");
    assert_eq!(
        one(
            &source,
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables"
        ),
        "keyed_child,parent_inh"
    );
    let parent = "SELECT string_agg(id || '=' || x, ',' ORDER BY id) FROM";
    let child =
        "SELECT string_agg(id || '=' || x || '=' || extra, ',' ORDER BY id) FROM keyed_child";
    wait_for_target(&mut cdc, target.url(), child, &one(&source, child));
    wait_for_target(
        &mut cdc,
        target.url(),
        &format!("{parent} parent_inh"),
        &one(&source, &format!("{parent} ONLY parent_inh")),
    );
    assert_eq!(
        one(&target, &format!("{parent} parent_inh")),
        "1=P1,2=p2,6=p6"
    );
    assert_eq!(one(&target, child), "5=K5=50,7=k7=70");
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// A publication an earlier migrate made of a parent without `ONLY` holds its inheritance
/// children: a run that finds it drops the children the task does not select, so the source
/// takes their UPDATE and DELETE again.
#[test]
fn an_earlier_publication_of_a_parent_lets_go_of_its_children() {
    let Some((source, target, staging)) = pg_task("scope_inherits_earlier") else {
        return;
    };
    let capture_name = migrate_source_postgres::capture_name(source.name(), "earlier");
    source
        .sql(&format!(
            "CREATE TABLE parent_inh (id int PRIMARY KEY, x text);
             CREATE TABLE child_inh (extra int) INHERITS (parent_inh);
             INSERT INTO parent_inh VALUES (1, 'p1'); INSERT INTO child_inh VALUES (2, 'c2', 20);
             CREATE PUBLICATION {capture_name} FOR TABLE parent_inh WITH (publish_via_partition_root = true);"
        ))
        .unwrap();
    let mut cdc = capture_without(&source, &target, &staging, "earlier", &["child_inh"]);
    source
        .sql("UPDATE child_inh SET extra = 99; DELETE FROM child_inh; UPDATE parent_inh SET x = 'P1';")
        .expect("the source takes UPDATE and DELETE of the excluded child again");
    assert_eq!(
        one(
            &source,
            "SELECT string_agg(tablename, ',') FROM pg_publication_tables"
        ),
        "parent_inh"
    );
    wait_for_target(
        &mut cdc,
        target.url(),
        "SELECT string_agg(id || '=' || x, ',') FROM parent_inh",
        "1=P1",
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// An UNLOGGED table can't be published: `--cdc` refuses it before creating anything, naming
/// it and what to do; a full load without `--cdc` still copies it.
#[test]
fn an_unlogged_table_is_refused_by_capture_and_loaded_without_it() {
    let Some((source, target, staging)) = pg_task("scope_unlogged") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE orders (id int PRIMARY KEY, v int); INSERT INTO orders VALUES (1, 1);
             CREATE UNLOGGED TABLE unl (id int PRIMARY KEY, v text);
             INSERT INTO unl SELECT g, 'u' || g FROM generate_series(1, 20) g;
             CREATE TABLE app_log (line text); INSERT INTO app_log VALUES ('x');",
        )
        .unwrap();
    // The keyless app_log, left out, makes the publication one of the selected tables.
    let mapping = selecting_all_but(&staging, &["app_log"]);
    let mut extra = UNTIL_IDLE.to_vec();
    extra.extend([mapping[0].as_str(), mapping[1].as_str()]);
    let stderr = refused_cdc(source.url(), target.url(), &staging, "unlogged", &extra);
    for words in ["public.unl", "UNLOGGED", "SET LOGGED", "exclude"] {
        assert!(stderr.contains(words), "no {words:?} in:\n{stderr}");
    }
    nothing_published(&source);
    // Under a publication FOR ALL TABLES (no keyless table left) it would not even be refused:
    // its changes would just never arrive.
    source.sql("DROP TABLE app_log").unwrap();
    let stderr = refused_cdc(
        source.url(),
        target.url(),
        &staging,
        "unlogged_all",
        UNTIL_IDLE,
    );
    assert!(stderr.contains("public.unl"), "{stderr}");
    nothing_published(&source);

    let (code, summary) = migrate_json(&replicate_args(
        &source,
        &target,
        &staging,
        "full",
        &[&mapping[0], &mapping[1]],
    ));
    assert_eq!(code, 0, "{summary:#}");
    let rows = "SELECT count(*) || ' ' || string_agg(id || '=' || v, ',' ORDER BY id) FROM unl";
    assert_eq!(one(&target, rows), one(&source, rows));
    let _ = std::fs::remove_dir_all(&staging);
}

/// PostgreSQL checks the replica identity of the partition a row is in, never its partitioned
/// table's (with or without `publish_via_partition_root`): partitions with a key or REPLICA
/// IDENTITY FULL under a partitioned table without a key (`events`, left out) or with REPLICA IDENTITY NOTHING (`parted`, captured) leave the publication FOR
/// ALL TABLES, so a table created later is captured; the source keeps taking UPDATE and DELETE
/// of all of them, and the captured ones' changes arrive, a row moved to another partition too.
/// A partition created later without a key gets REPLICA IDENTITY FULL from the publication's
/// event trigger.
#[test]
fn partitions_with_a_replica_identity_leave_the_publication_for_all_tables() {
    let Some((source, target, staging)) = pg_task("scope_parted_keyed") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE orders (id int PRIMARY KEY, v int); INSERT INTO orders VALUES (1, 1);
             CREATE TABLE events (id int, v int) PARTITION BY RANGE (id);
             CREATE TABLE events_1 PARTITION OF events (PRIMARY KEY (id)) FOR VALUES FROM (0) TO (10);
             CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (10) TO (20);
             ALTER TABLE events_2 REPLICA IDENTITY FULL;
             INSERT INTO events VALUES (1, 1), (2, 2), (11, 1), (12, 2);
             CREATE TABLE parted (id int PRIMARY KEY, v int) PARTITION BY RANGE (id);
             ALTER TABLE parted REPLICA IDENTITY NOTHING;
             CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
             CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (10) TO (20);
             INSERT INTO parted VALUES (1, 1), (2, 2), (11, 1), (12, 2);",
        )
        .unwrap();
    // Neither events nor log has a key to capture by.
    let mut cdc = capture_without(&source, &target, &staging, "parted", &["events%", "log%"]);
    assert_eq!(one(&source, "SELECT puballtables FROM pg_publication"), "t");
    source
        .sql(
            "UPDATE events SET v = v + 10; DELETE FROM events WHERE id IN (2, 12);
             UPDATE parted SET v = v + 10; DELETE FROM parted WHERE id IN (2, 12);
             UPDATE parted SET id = 15 WHERE id = 1;
             CREATE TABLE later (id int PRIMARY KEY, v int); INSERT INTO later VALUES (1, 1);
             CREATE TABLE log (id int, v int) PARTITION BY RANGE (id);
             CREATE TABLE log_1 PARTITION OF log FOR VALUES FROM (0) TO (10);
             INSERT INTO log VALUES (1, 1), (2, 2); UPDATE log SET v = 3; DELETE FROM log WHERE id = 2;",
        )
        .expect("the source takes UPDATE and DELETE of every partition");
    assert_eq!(
        one(
            &source,
            "SELECT relreplident FROM pg_class WHERE relname = 'log_1'"
        ),
        "f"
    );
    let rows = "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM parted";
    wait_for_target(&mut cdc, target.url(), rows, "11=11,15=11");
    wait_for_target(
        &mut cdc,
        target.url(),
        "SELECT string_agg(id || '=' || v, ',') FROM later",
        "1=1",
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// The reverse: a partition without a replica identity (`readings_2`: REPLICA IDENTITY
/// NOTHING) under a partitioned table with a primary key, and partitions without a key under
/// one with REPLICA IDENTITY FULL (`audit`), would have their UPDATE and DELETE refused under a
/// publication FOR ALL TABLES. Selected, such a table is refused naming the partition; left
/// out, only the selected tables are published, the source keeps taking UPDATE and DELETE of
/// those partitions, and the captured changes arrive.
#[test]
fn a_partition_without_a_replica_identity_keeps_the_publication_to_the_selected_tables() {
    let Some((source, target, staging)) = pg_task("scope_parted_keyless") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE orders (id int PRIMARY KEY, v int); INSERT INTO orders VALUES (1, 1);
             CREATE TABLE readings (id int PRIMARY KEY, v int) PARTITION BY RANGE (id);
             CREATE TABLE readings_1 PARTITION OF readings FOR VALUES FROM (0) TO (10);
             CREATE TABLE readings_2 PARTITION OF readings FOR VALUES FROM (10) TO (20);
             ALTER TABLE readings_2 REPLICA IDENTITY NOTHING;
             INSERT INTO readings VALUES (1, 1), (11, 1), (12, 2);
             CREATE TABLE audit (id int, v int) PARTITION BY RANGE (id);
             ALTER TABLE audit REPLICA IDENTITY FULL;
             CREATE TABLE audit_1 PARTITION OF audit FOR VALUES FROM (0) TO (10);
             INSERT INTO audit VALUES (1, 1), (2, 2);",
        )
        .unwrap();
    let without_audit = selecting_all_but(&staging, &["audit%"]);
    let mut extra = UNTIL_IDLE.to_vec();
    extra.extend([without_audit[0].as_str(), without_audit[1].as_str()]);
    let stderr = refused_cdc(source.url(), target.url(), &staging, "readings", &extra);
    for words in [
        "partition public.readings_2 of public.readings",
        "REPLICA IDENTITY NOTHING",
    ] {
        assert!(stderr.contains(words), "no {words:?} in:\n{stderr}");
    }
    nothing_published(&source);

    let mut cdc = capture_without(
        &source,
        &target,
        &staging,
        "orders",
        &["audit%", "readings%"],
    );
    source
        .sql(
            "UPDATE readings SET v = v + 10; DELETE FROM readings WHERE id = 12;
             UPDATE audit SET v = v + 10; DELETE FROM audit WHERE id = 2;
             UPDATE orders SET v = 2; DELETE FROM orders; INSERT INTO orders VALUES (2, 2);",
        )
        .expect("the source takes UPDATE and DELETE of every partition");
    assert_eq!(one(&source, "SELECT puballtables FROM pg_publication"), "f");
    wait_for_target(
        &mut cdc,
        target.url(),
        "SELECT string_agg(id || '=' || v, ',') FROM orders",
        "2=2",
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}
