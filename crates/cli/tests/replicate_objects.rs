//! End to end, against the real servers: what `migrate replicate` does not copy is said in its
//! run's summary (`replicate.objects-not-copied`), foreign keys, foreign tables, extensions and
//! event triggers included, exclusion constraints as discovery's `constraint.exclusion`; and a partitioned table that change capture
//! picks up while it runs gets the warning that a TRUNCATE of one of its partitions alone is not
//! captured, as the tables captured from the start do.

#[path = "common/cdc.rs"]
mod cdc;
mod common;

use cdc::{psql, start_cdc, stop, wait_for_capture, wait_for_target, warnings};
use common::{one, table_mapping};

/// The one `replicate.objects-not-copied` finding of `summary`: its message and action.
fn objects_not_copied(summary: &serde_json::Value) -> (String, String) {
    let finding = common::the_finding(summary, "replicate.objects-not-copied")
        .unwrap_or_else(|| panic!("{summary:#}"));
    assert_eq!(finding["severity"], "warning", "{finding:#}");
    (
        finding["message"].as_str().unwrap().to_string(),
        finding["action"].as_str().unwrap().to_string(),
    )
}

/// PostgreSQL: the foreign keys, the foreign table, the extension and the user's event trigger
/// are counted and named (a constraint with its table) with what to do about each, when the
/// capture starts and when it resumes; migrate's own event trigger, there by the second run,
/// never is; the exclusion constraint is discovery's `constraint.exclusion`, as for `migrate
/// convert --source`. The tables are copied, without their foreign keys. Before, the summary
/// said nothing of these.
#[test]
fn postgres_foreign_keys_extensions_and_event_triggers_are_reported() {
    let Some((source, target, staging)) = common::pg_task("rep_obj_pg") else {
        return;
    };
    source
        .sql(
            "CREATE EXTENSION citext;
             CREATE TABLE parent (id int PRIMARY KEY, name citext);
             CREATE TABLE child (id int PRIMARY KEY,
                                 parent_id int CONSTRAINT child_parent REFERENCES parent,
                                 other_id int);
             ALTER TABLE child ADD CONSTRAINT child_self FOREIGN KEY (other_id) REFERENCES child;
             CREATE TABLE booking (id int PRIMARY KEY, during int4range,
                                   CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&));
             INSERT INTO parent VALUES (1, 'a'), (2, 'b');
             INSERT INTO child VALUES (10, 1, NULL), (11, 2, 10);
             INSERT INTO booking VALUES (1, '[1,5)'), (2, '[5,9)');
             CREATE FOREIGN DATA WRAPPER nowhere;
             CREATE SERVER far FOREIGN DATA WRAPPER nowhere;
             CREATE FOREIGN TABLE remote (id int) SERVER far;
             CREATE FUNCTION audit_ddl() RETURNS event_trigger LANGUAGE plpgsql
               AS $$BEGIN RAISE NOTICE 'ddl'; END$$;
             CREATE EVENT TRIGGER audit ON ddl_command_end EXECUTE FUNCTION audit_ddl();",
        )
        .unwrap();
    let run = ["--cdc", "--stop-when-idle", "2", "--name", "objects"];
    for attempt in ["start", "resume"] {
        let (code, summary) = common::replicate(source.url(), target.url(), &staging, &run);
        assert_eq!(code, 0, "{attempt}: {summary:#}");
        let (message, action) = objects_not_copied(&summary);
        for listed in [
            "1 function (audit_ddl)",
            "2 foreign keys (child_parent on child, child_self on child)",
            "1 foreign table (remote)",
            "1 event trigger (audit)",
            "1 extension (citext)",
        ] {
            assert!(message.contains(listed), "{attempt}: {listed}: {message}");
        }
        assert!(!message.contains("plpgsql"), "{attempt}: {message}");
        let exclusion = common::the_finding(&summary, "constraint.exclusion")
            .unwrap_or_else(|| panic!("{attempt}: {summary:#}"));
        assert_eq!(
            exclusion["object"], "public.booking constraint no_overlap",
            "{attempt}: {exclusion:#}"
        );
        for said in [
            "migrate convert --source",
            "create the foreign keys (its `ALTER TABLE ... ADD ... FOREIGN KEY` statements) once the load is done",
            "foreign tables are not copied",
            "create the extensions and event triggers the target needs by hand (CREATE EXTENSION, CREATE EVENT TRIGGER",
        ] {
            assert!(action.contains(said), "{attempt}: {said}: {action}");
        }
    }
    // Migrate's own event trigger is there (and not listed above).
    assert_eq!(
        one(
            &source,
            "SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'migrate\\_%'"
        ),
        "1"
    );
    for sql in [
        "SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM parent",
        "SELECT string_agg(id || ':' || parent_id || ':' || coalesce(other_id, 0), ',' ORDER BY id) FROM child",
        "SELECT string_agg(id || ':' || during, ',' ORDER BY id) FROM booking",
    ] {
        assert_eq!(one(&source, sql), one(&target, sql), "{sql}");
    }
    assert_eq!(
        one(
            &target,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
        ),
        "0",
        "replicate creates no foreign key"
    );
}

/// A constraint's finding (`public.t constraint c`) is about its table: a table the mapping
/// leaves out gets none in the run's summary (the object was matched only up to a dot, so such
/// findings were kept whatever the selection).
#[test]
fn findings_about_a_left_out_tables_constraints_are_not_reported() {
    let Some((source, target, staging)) = common::pg_task("rep_obj_left_out") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE kept (id int PRIMARY KEY, during int4range,
                                CONSTRAINT kept_overlap EXCLUDE USING gist (during WITH &&));
             INSERT INTO kept VALUES (1, '[1,2)');
             CREATE TABLE left_out (id int PRIMARY KEY, during int4range,
                                    CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&));",
        )
        .unwrap();
    let mapping = table_mapping(
        &staging,
        r#"{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
            "object-locator": {"schema-name": "public", "table-name": "kept"},
            "rule-action": "include"}"#,
    );
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    let (code, summary) = common::replicate(source.url(), target.url(), &staging, &mapping);
    assert_eq!(code, 0, "{summary:#}");
    // The selected table's constraint is reported (the test can't pass for want of findings),
    // the left-out table's is not (`the_finding` refuses two).
    let exclusion = common::the_finding(&summary, "constraint.exclusion")
        .unwrap_or_else(|| panic!("{summary:#}"));
    assert_eq!(
        exclusion["object"], "public.kept constraint kept_overlap",
        "{summary:#}"
    );
}

/// MariaDB: the foreign key of a table is counted and named with its table and what to do.
/// Before, the warning named only the index InnoDB made for the key.
#[test]
fn mariadb_foreign_keys_are_reported() {
    let Some((source, target, staging)) = common::mariadb_task("rep_obj_my") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE parent (id INT PRIMARY KEY);
             CREATE TABLE child (id INT PRIMARY KEY, parent_id INT,
                                 CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id));
             INSERT INTO parent VALUES (1), (2);
             INSERT INTO child VALUES (10, 1), (11, 2);",
        )
        .unwrap();
    let (code, summary) = common::replicate(source.url(), target.url(), &staging, &[]);
    assert_eq!(code, 0, "{summary:#}");
    let (message, action) = objects_not_copied(&summary);
    // InnoDB gave the key an index of its own, listed as an index.
    assert!(
        message.starts_with(
            "the source has 1 index (child_parent), 1 foreign key (child_parent on child) that replicate does not copy"
        ),
        "{message}"
    );
    assert!(
        action.contains("migrate convert --source")
            && action.contains("create the foreign keys (its `ALTER TABLE ... ADD ... FOREIGN KEY` statements) once the load is done"),
        "{action}"
    );
    let schema = source.name();
    assert_eq!(
        source
            .sql("SELECT GROUP_CONCAT(CONCAT(id, ':', parent_id) ORDER BY id) FROM child")
            .unwrap()
            .trim(),
        one(
            &target,
            &format!("SELECT string_agg(id || ':' || parent_id, ',' ORDER BY id) FROM \"{schema}\".child")
        )
    );
}

/// MariaDB shows `information_schema.REFERENTIAL_CONSTRAINTS` only to a user with a privilege
/// besides SELECT on the table: a SELECT-only user's run still names the foreign keys (they are
/// read from the catalog the load is planned with). Listed from that view, they were missing.
#[test]
fn mariadb_foreign_keys_are_reported_to_a_select_only_user() {
    let Some((source, target, staging)) = common::mariadb_task("rep_obj_my_sel") else {
        return;
    };
    let user = migrate_testkit::unique_name("rep_sel");
    let schema = source.name();
    source
        .sql(&format!(
            "CREATE TABLE parent (id INT PRIMARY KEY);
             CREATE TABLE child (id INT PRIMARY KEY, parent_id INT,
                                 CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id));
             CREATE USER '{user}'@'%' IDENTIFIED BY 'pw';
             GRANT SELECT ON `{schema}`.* TO '{user}'@'%';
             GRANT RELOAD, REPLICATION CLIENT ON *.* TO '{user}'@'%';"
        ))
        .unwrap();
    let url = common::url_as(source.url(), &user, "pw");
    let (code, summary) = common::replicate(&url, target.url(), &staging, &[]);
    source.sql(&format!("DROP USER '{user}'@'%'")).unwrap();
    assert_eq!(code, 0, "{summary:#}");
    let (message, _) = objects_not_copied(&summary);
    assert!(
        message.contains("1 foreign key (child_parent on child)"),
        "{message}"
    );
}

/// PostgreSQL: a partitioned table created while the capture runs, which the selection picks
/// up, gets the warning that a TRUNCATE of one of its partitions alone is not captured, once,
/// as a partitioned table captured from the start does. Its rows arrive. Before, only the run
/// that started capture warned, for the tables it started with.
#[test]
fn a_partitioned_table_captured_mid_run_gets_the_partition_truncate_warning() {
    let Some((source, target, staging)) = common::pg_task("rep_obj_part") else {
        return;
    };
    source
        .sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        .unwrap();
    let mapping = table_mapping(
        &staging,
        r#"{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
            "object-locator": {"schema-name": "public", "table-name": "%"},
            "rule-action": "include"}"#,
    );
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "part",
        false,
        &mapping,
    );
    wait_for_capture(&mut cdc, target.url());
    psql(
        source.url(),
        "CREATE TABLE p (id int PRIMARY KEY, n int) PARTITION BY RANGE (id);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);
         CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200);
         INSERT INTO p VALUES (1, 1), (150, 2);
         INSERT INTO p VALUES (2, 3), (151, 4);",
    )
    .unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM p", "4");
    let summary = stop(cdc);
    let said: Vec<&str> = warnings(&summary)
        .into_iter()
        .filter(|w| {
            w.contains(
                "public.p is partitioned: a TRUNCATE of one of its partitions alone is not captured",
            )
        })
        .collect();
    assert_eq!(said.len(), 1, "{summary:#}");
    let sql = "SELECT string_agg(id || ':' || n, ',' ORDER BY id) FROM p";
    assert_eq!(one(&source, sql), one(&target, sql));
}
