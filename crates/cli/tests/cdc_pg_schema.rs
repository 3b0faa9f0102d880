//! Schema changes of a PostgreSQL source during `migrate replicate --cdc`, against the real
//! servers: columns added in the middle of a batch, column types changed, tables renamed, enum
//! labels the target column can't hold, captured tables made UNLOGGED (or selected ones created
//! so).

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{
    cdc_to_the_end, finished_cdc, pg_table_exists, psql, selecting_all_but, start_cdc,
    start_cdc_without, stop, stopped_with_error, wait_for_capture, wait_for_target,
    wait_until_same, warnings,
};
use common::pg_task;

/// Every row of `table` as `id|...`, in key order: the same text in source and target when
/// they hold the same rows.
fn rows(table: &str, columns: &str) -> String {
    format!("SELECT string_agg(concat_ws('|', {columns}), ',' ORDER BY id) FROM {table}")
}

/// Columns added with a default in the middle of a batch (in the middle of a transaction, and
/// after committed transactions of the same batch): the rows changed before the ALTER have, in
/// the source, the value the column gave existing rows; so they must in the target, not NULL (a
/// NOT NULL column would refuse them).
#[test]
fn columns_added_mid_batch_give_earlier_changes_the_sources_value() {
    let Some((source, target, staging)) = pg_task("cdc_addmid") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE a (id int PRIMARY KEY, v text);
             CREATE TABLE other (id int PRIMARY KEY);
             INSERT INTO a SELECT g, 'v' || g FROM generate_series(1, 10) g;",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "addmid", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    // One transaction: changes before each ALTER and after it.
    source
        .sql(
            "BEGIN;
             UPDATE a SET v = 'x' WHERE id = 1;
             INSERT INTO a VALUES (11, 'new');
             ALTER TABLE a ADD COLUMN c int DEFAULT 7;
             UPDATE a SET v = 'y' WHERE id = 2;
             ALTER TABLE a ADD COLUMN d text DEFAULT 'dflt';
             ALTER TABLE a ADD COLUMN flag bool NOT NULL DEFAULT true;
             UPDATE a SET v = 'z', c = 8 WHERE id = 3;
             COMMIT;",
        )
        .unwrap();
    let all = rows("a", "id, v, c, d, flag");
    wait_until_same(&mut cdc, source.url(), target.url(), &all);
    assert_eq!(
        psql(target.url(), &rows("a", "id, v, c, d, flag")).unwrap(),
        "1|x|7|dflt|t,2|y|7|dflt|t,3|z|8|dflt|t,4|v4|7|dflt|t,5|v5|7|dflt|t,6|v6|7|dflt|t,\
         7|v7|7|dflt|t,8|v8|7|dflt|t,9|v9|7|dflt|t,10|v10|7|dflt|t,11|new|7|dflt|t"
    );
    // A committed transaction, then one that changes another table before the ALTER: both in
    // the batch that carries the schema change.
    source
        .sql(
            "BEGIN; UPDATE a SET v = 'w' WHERE id = 4; DELETE FROM a WHERE id = 10; COMMIT;
             BEGIN; INSERT INTO other VALUES (1);
                    ALTER TABLE a ADD COLUMN e numeric(6,2) NOT NULL DEFAULT 2.5;
                    UPDATE a SET v = 'u' WHERE id = 5; COMMIT;",
        )
        .unwrap();
    let all = rows("a", "id, v, c, d, flag, e");
    wait_until_same(&mut cdc, source.url(), target.url(), &all);
    assert_eq!(
        psql(
            target.url(),
            "SELECT count(*) FROM a WHERE e = 2.5 AND d = 'dflt'"
        )
        .unwrap(),
        "10"
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// `ALTER COLUMN ... TYPE` on the source stops the task at the table's next change, with the
/// `ALTER TABLE` that gives the target column the converter's type of the new one; run on the
/// target, the task goes on, also with rows of the old type in the same transaction.
#[test]
fn a_column_type_change_stops_the_task_with_the_alter_to_run() {
    let Some((source, target, staging)) = pg_task("cdc_retype") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE tb (id int PRIMARY KEY, c int, n numeric(10,2));
             INSERT INTO tb SELECT g, g, g FROM generate_series(1, 10) g;",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "retype", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql("ALTER TABLE tb ALTER c TYPE bigint; UPDATE tb SET c = 3000000000 WHERE id = 6;")
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("column c changed type in the source from integer to bigint")
            && error.contains("the change stream carries none of the rows the source's ALTER converted")
            && error.contains("(ALTER TABLE public.tb ALTER COLUMN c TYPE bigint, with the USING expression of the source's ALTER if it had one)")
            && error.contains("--restart"),
        "{error}"
    );
    assert_eq!(
        psql(target.url(), "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'tb'::regclass AND attname = 'c'").unwrap(),
        "integer",
        "the target column is left to the user"
    );
    psql(
        target.url(),
        "ALTER TABLE public.tb ALTER COLUMN c TYPE bigint",
    )
    .unwrap();
    let all = rows("tb", "id, c, n");
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "retype", false, &[]);
    wait_until_same(&mut cdc, source.url(), target.url(), &all);

    // Rows of the old type and of the new one in one transaction.
    source
        .sql(
            "BEGIN; UPDATE tb SET n = 1.5 WHERE id = 1;
                    ALTER TABLE tb ALTER n TYPE numeric(20,3);
                    UPDATE tb SET n = 2.125 WHERE id = 2; COMMIT;",
        )
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("(ALTER TABLE public.tb ALTER COLUMN n TYPE numeric(20,3), with the USING"),
        "{error}"
    );
    psql(
        target.url(),
        "ALTER TABLE public.tb ALTER COLUMN n TYPE numeric(20,3)",
    )
    .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "retype", false, &[]);
    wait_until_same(&mut cdc, source.url(), target.url(), &all);
    assert_eq!(
        psql(
            target.url(),
            "SELECT c || '|' || n FROM tb WHERE id IN (2, 6) ORDER BY id"
        )
        .unwrap(),
        "2|2.125\n3000000000|6.000"
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// A column renamed and given a type of another kind (`RENAME COLUMN a TO b` and `ALTER b TYPE
/// int USING b::int`, in one transaction, or in two without a change of the table between them):
/// the table's description in the change stream shows `a` gone and an integer `b` in its place.
/// The task stops with the `RENAME COLUMN` to run on the target, then with the `ALTER COLUMN ...
/// TYPE`, and after them goes on with every row as the source has it. Before, it dropped `a` and
/// added `b` without a word: every row not changed again had NULL for b.
#[test]
fn a_column_renamed_to_another_kind_of_type_stops_the_task() {
    let Some((source, target, staging)) = pg_task("cdc_renkind") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE rk (id int PRIMARY KEY, a text, n int, m int);
             INSERT INTO rk SELECT g, g * 11, g, g FROM generate_series(1, 5) g;",
        )
        .unwrap();
    let start = || start_cdc(source.url(), target.url(), &staging, "renkind", false, &[]);
    let mut cdc = start();
    wait_for_capture(&mut cdc, target.url());
    // The source's change, the target column kept as it was, the rename and the change of type
    // the task stops with (and the USING the target's ALTER needs), the rows after them.
    for (change, kept, rename, retype, using, all) in [
        (
            "BEGIN; ALTER TABLE rk RENAME COLUMN a TO b;
                    ALTER TABLE rk ALTER b TYPE int USING b::int; COMMIT;
             UPDATE rk SET n = n + 100 WHERE id = 1;",
            "SELECT string_agg(a, ',' ORDER BY id) FROM rk",
            "ALTER TABLE public.rk RENAME COLUMN a TO b",
            "ALTER TABLE public.rk ALTER COLUMN b TYPE integer",
            " USING b::integer",
            (
                "id, b, n, m",
                "1|11|101|1,2|22|2|2,3|33|3|3,4|44|4|4,5|55|5|5",
            ),
        ),
        (
            "ALTER TABLE rk RENAME COLUMN m TO t;
             ALTER TABLE rk ALTER t TYPE text USING 'm' || t;
             UPDATE rk SET n = n + 100 WHERE id = 2;",
            "SELECT string_agg(m::text, ',' ORDER BY id) FROM rk",
            "ALTER TABLE public.rk RENAME COLUMN m TO t",
            "ALTER TABLE public.rk ALTER COLUMN t TYPE text",
            " USING 'm' || t",
            (
                "id, b, n, t",
                "1|11|101|m1,2|22|102|m2,3|33|3|m3,4|44|4|m4,5|55|5|m5",
            ),
        ),
    ] {
        let before = psql(target.url(), kept).unwrap();
        source.sql(change).unwrap();
        let error = stopped_with_error(cdc);
        assert!(error.contains(rename), "{error}");
        assert_eq!(
            psql(target.url(), kept).unwrap(),
            before,
            "nothing was dropped"
        );
        psql(target.url(), rename).unwrap();
        let error = stopped_with_error(start());
        assert!(error.contains(retype), "{error}");
        psql(target.url(), &format!("{retype}{using}")).unwrap();
        cdc = start();
        let (columns, all) = all;
        let rows = rows("rk", columns);
        wait_until_same(&mut cdc, source.url(), target.url(), &rows);
        assert_eq!(psql(target.url(), &rows).unwrap(), all);
    }
    // The last column dropped and another added: it takes the dropped one's place, so it stops
    // the task the same way; dropped from the target too, the next run adds the new column with
    // the values the source gave it, and stops with its type to give it.
    source
        .sql(
            "ALTER TABLE rk DROP COLUMN t; ALTER TABLE rk ADD COLUMN d date DEFAULT '2024-01-02';
             UPDATE rk SET n = n + 100 WHERE id = 3;",
        )
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("ALTER TABLE public.rk DROP COLUMN t"),
        "{error}"
    );
    psql(target.url(), "ALTER TABLE public.rk DROP COLUMN t").unwrap();
    let retype = "ALTER TABLE public.rk ALTER COLUMN d TYPE date";
    let error = stopped_with_error(start());
    assert!(error.contains(retype), "{error}");
    // The default the column was added with is text there, which PostgreSQL does not convert.
    let retype = retype.replace("ALTER COLUMN", "ALTER COLUMN d DROP DEFAULT, ALTER COLUMN");
    psql(target.url(), &format!("{retype} USING d::date")).unwrap();
    cdc = start();
    let rows = rows("rk", "id, b, n, d");
    wait_until_same(&mut cdc, source.url(), target.url(), &rows);
    assert_eq!(
        psql(target.url(), &rows).unwrap(),
        "1|11|101|2024-01-02,2|22|102|2024-01-02,3|33|103|2024-01-02,4|44|4|2024-01-02,5|55|5|2024-01-02"
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// A column dropped before a renamed one shifts it to another index: the renamed column is
/// still told from the gone ones between the same surviving neighbours, so the task stops with
/// its rename (not the dropped column's) instead of dropping it and adding it empty, whether its
/// type changed to another kind or not.
#[test]
fn a_column_renamed_after_a_dropped_one_stops_the_task() {
    let Some((source, target, staging)) = pg_task("cdc_rendrop") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE rd (id int PRIMARY KEY, a int, b int, m text);
             INSERT INTO rd SELECT g, g, g, g * 11 FROM generate_series(1, 3) g;
             CREATE TABLE rs (id int PRIMARY KEY, a int, b int, s text);
             INSERT INTO rs SELECT g, g, g, 's' || g FROM generate_series(1, 3) g;",
        )
        .unwrap();
    let start = || start_cdc(source.url(), target.url(), &staging, "rendrop", false, &[]);
    let mut cdc = start();
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "BEGIN; ALTER TABLE rd DROP a; ALTER TABLE rd RENAME m TO t2;
                    ALTER TABLE rd ALTER t2 TYPE int USING t2::int; COMMIT;
             UPDATE rd SET b = b + 100 WHERE id = 1;",
        )
        .unwrap();
    let rename = "ALTER TABLE public.rd RENAME COLUMN m TO t2";
    let error = stopped_with_error(cdc);
    assert!(error.contains(rename), "{error}");
    psql(target.url(), rename).unwrap();
    let retype = "ALTER TABLE public.rd ALTER COLUMN t2 TYPE integer";
    let error = stopped_with_error(start());
    assert!(error.contains(retype), "{error}");
    psql(target.url(), &format!("{retype} USING t2::integer")).unwrap();
    cdc = start();
    let all = rows("rd", "id, b, t2");
    wait_until_same(&mut cdc, source.url(), target.url(), &all);
    assert_eq!(psql(target.url(), &all).unwrap(), "1|101|11,2|2|22,3|3|33");
    // The same with a type of the same kind, which the target alone would take for a drop and
    // an add, pairing the dropped column with the one at its index.
    source
        .sql(
            "BEGIN; ALTER TABLE rs DROP a; ALTER TABLE rs RENAME s TO s2; COMMIT;
             UPDATE rs SET b = b + 100 WHERE id = 1;",
        )
        .unwrap();
    let rename = "ALTER TABLE public.rs RENAME COLUMN s TO s2";
    let error = stopped_with_error(cdc);
    assert!(error.contains(rename), "{error}");
    psql(target.url(), rename).unwrap();
    cdc = start();
    let all = rows("rs", "id, b, s2");
    wait_until_same(&mut cdc, source.url(), target.url(), &all);
    assert_eq!(psql(target.url(), &all).unwrap(), "1|101|s1,2|2|s2,3|3|s3");
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// Two columns gone between the same neighbours and one new one in their place: which was
/// renamed can't be told (before, the task took the first for the renamed one and asked for its
/// rename on the target, putting its values under the other's name), so the task stops with a
/// definite error until `--restart`.
#[test]
fn a_column_renamed_beside_a_dropped_one_stops_until_restart() {
    let Some((source, target, staging)) = pg_task("cdc_renamb") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE ra (id int PRIMARY KEY, a int, m text);
             INSERT INTO ra SELECT g, g, g * 11 FROM generate_series(1, 3) g;",
        )
        .unwrap();
    let start =
        |extra: &[&str]| start_cdc(source.url(), target.url(), &staging, "renamb", false, extra);
    let mut cdc = start(&[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "BEGIN; ALTER TABLE ra DROP a; ALTER TABLE ra RENAME m TO t2;
                    ALTER TABLE ra ALTER t2 TYPE int USING t2::int; COMMIT;
             UPDATE ra SET t2 = t2 + 100 WHERE id = 1;",
        )
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("columns a, m of captured table public.ra are gone from the source, and t2 came in their place")
            && error.contains("--restart"),
        "{error}"
    );
    cdc = start(&["--restart"]);
    let rows = rows("ra", "id, t2");
    wait_until_same(&mut cdc, source.url(), target.url(), &rows);
    assert_eq!(psql(target.url(), &rows).unwrap(), "1|111,2|22,3|33");
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// A column the task leaves out (a remove-column rule) renamed with a change of type: the
/// target never had it, so nothing is announced as renamed; the new column is added with its
/// own type, without a stop.
#[test]
fn a_removed_column_renamed_to_another_kind_of_type_is_added_as_new() {
    let Some((source, target, staging)) = pg_task("cdc_renrm") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE rr (id int PRIMARY KEY, v int, m text);
             INSERT INTO rr SELECT g, g, g * 11 FROM generate_series(1, 3) g;",
        )
        .unwrap();
    let mapping = common::table_mapping(
        &staging,
        r#"{"rule-type": "selection", "rule-id": "1", "rule-name": "1", "rule-action": "include",
            "object-locator": {"schema-name": "public", "table-name": "rr"}},
           {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
            "rule-action": "remove-column", "rule-target": "column",
            "object-locator": {"schema-name": "public", "table-name": "rr", "column-name": "m"}}"#,
    );
    let args = [mapping[0].as_str(), mapping[1].as_str()];
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "renrm", false, &args);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "BEGIN; ALTER TABLE rr RENAME m TO t2;
                    ALTER TABLE rr ALTER t2 TYPE int USING t2::int; COMMIT;
             INSERT INTO rr VALUES (4, 4, 44);",
        )
        .unwrap();
    let rows = "SELECT string_agg(concat_ws('|', id, v), ',' ORDER BY id) FROM rr";
    wait_until_same(&mut cdc, source.url(), target.url(), rows);
    assert_eq!(
        psql(
            target.url(),
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
              WHERE attrelid = 'public.rr'::regclass AND attname = 't2'"
        )
        .unwrap(),
        "integer"
    );
    assert_eq!(
        psql(target.url(), "SELECT t2 FROM rr WHERE id = 4").unwrap(),
        "44"
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// A captured table renamed while capture runs keeps its relation oid: the task stops naming
/// both names (captured under the new one, it would hold only the rows changed from then on),
/// on every run, until the mappings leave the new name out or a new full load reads it. The
/// full load then meets the old target table's key name, which the source kept: a clear error.
#[test]
fn a_renamed_table_stops_the_task_until_left_out_or_reloaded() {
    let Some((source, target, staging)) = pg_task("cdc_tabren") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE k (id int PRIMARY KEY, v text);
             CREATE TABLE other (id int PRIMARY KEY);
             INSERT INTO k SELECT g, 'v' || g FROM generate_series(1, 10) g;",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "tabren", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    // The stream has started (and learned k's oid) once a change has come through it: a rename
    // before that is met as a table gone while the task was stopped (tested below).
    source.sql("INSERT INTO other VALUES (100)").unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM other", "1");
    source
        .sql("ALTER TABLE k RENAME TO k2; UPDATE k2 SET v = 'after' WHERE id = 2;")
        .unwrap();
    let error = stopped_with_error(cdc);
    let renamed = "table public.k was renamed to public.k2 in the source";
    assert!(
        error.contains(renamed)
            && error.contains("--restart")
            && error.contains("leave public.k2 out"),
        "{error}"
    );
    let tables = "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'";
    assert_eq!(psql(target.url(), tables).unwrap(), "k,other");
    // Met again by the next run (which no longer sees k's oid under its old name: it knows the
    // table by its columns).
    let cdc = start_cdc(source.url(), target.url(), &staging, "tabren", false, &[]);
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("has the columns of public.k") && error.contains("renamed to public.k2"),
        "{error}"
    );

    // Left out: the task goes on; the target keeps k's rows under k.
    let without_k2 = selecting_all_but(&staging, &["k2"]);
    let args: Vec<&str> = without_k2.iter().map(String::as_str).collect();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "tabren", false, &args);
    source.sql("INSERT INTO other VALUES (1), (2)").unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), &rows("other", "id"));
    stop(cdc);
    assert_eq!(psql(target.url(), tables).unwrap(), "k,other");

    // A new full load of k2: k's target table still holds the key name k2 kept.
    let output = cdc_to_the_end(
        source.url(),
        target.url(),
        &staging,
        "tabren",
        &["--restart", "--stop-when-idle", "2"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("its constraint or index k_pkey can't be created: table public.k of the target has an index of that name")
            && stderr.contains("DROP TABLE public.k"),
        "{stderr}"
    );
    psql(target.url(), "DROP TABLE public.k").unwrap();
    finished_cdc(
        source.url(),
        target.url(),
        &staging,
        "tabren",
        &["--restart"],
    );
    let all = rows("k2", "id, v");
    assert_eq!(psql(target.url(), &all), psql(source.url(), &all));
    let _ = std::fs::remove_dir_all(&staging);
}

/// A table renamed while the task was stopped: its first change arrives under a name the
/// task never captured, with the columns of a captured table that is gone. Taken for a new
/// table it would lose its rows: the task stops.
#[test]
fn a_table_renamed_while_the_task_was_stopped_stops_it() {
    let Some((source, target, staging)) = pg_task("cdc_tabren2") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE k (id int PRIMARY KEY, v text);
             INSERT INTO k SELECT g, 'v' || g FROM generate_series(1, 10) g;",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "tabren2", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    stop(cdc);
    source
        .sql("ALTER TABLE k RENAME TO k2; UPDATE k2 SET v = 'after' WHERE id = 2;")
        .unwrap();
    let cdc = start_cdc(source.url(), target.url(), &staging, "tabren2", false, &[]);
    let error = stopped_with_error(cdc);
    assert!(
        error.contains(
            "table public.k2, which the task did not capture, has the columns of public.k"
        ) && error.contains("--restart"),
        "{error}"
    );
    assert!(!pg_table_exists(target.url(), "public", "k2"));
    let _ = std::fs::remove_dir_all(&staging);
}

/// Captured tables renamed out of the selection (`k`) or dropped (`d`) while the task was
/// stopped: no change of theirs arrives to tell, so the resumed run warns of each, once, as a
/// run that saw it happen does; the other tables go on.
#[test]
fn a_table_renamed_out_or_dropped_while_the_task_was_stopped_is_warned_about() {
    let Some((source, target, staging)) = pg_task("cdc_gone") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE k (id int PRIMARY KEY, v text);
             CREATE TABLE d (id int PRIMARY KEY, w int);
             CREATE TABLE other (id int PRIMARY KEY);
             INSERT INTO k SELECT g, 'v' || g FROM generate_series(1, 3) g;
             INSERT INTO d SELECT g, g FROM generate_series(1, 3) g;",
        )
        .unwrap();
    let without_old = selecting_all_but(&staging, &["%[_]old"]);
    let args: Vec<&str> = without_old.iter().map(String::as_str).collect();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "gone", false, &args);
    wait_for_capture(&mut cdc, target.url());
    source.sql("INSERT INTO other VALUES (1)").unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM other", "1");
    stop(cdc);
    source
        .sql("ALTER TABLE k RENAME TO k_old; UPDATE k_old SET v = 'old'; DROP TABLE d;")
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "gone", false, &args);
    source.sql("INSERT INTO other VALUES (2)").unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), &rows("other", "id"));
    let summary = stop(cdc);
    for table in ["public.k", "public.d"] {
        let gone = format!("table {table} was renamed to a name the task does not select, or dropped, in the source while the task was stopped: its target table keeps its rows and gets no more changes");
        let warned = warnings(&summary)
            .iter()
            .filter(|w| w.starts_with(&gone))
            .count();
        assert_eq!(warned, 1, "{table}: {summary:#}");
    }
    assert_eq!(
        psql(target.url(), &rows("k", "id, v")).unwrap(),
        "1|v1,2|v2,3|v3"
    );
    assert_eq!(psql(target.url(), "SELECT count(*) FROM d").unwrap(), "3");
    assert!(!pg_table_exists(target.url(), "public", "k_old"));
    let _ = std::fs::remove_dir_all(&staging);
}

/// Asserts that a run warned once in its `summary`, and on its `stderr`, that `public.{table}`
/// took a captured table's name (the earlier table's rows stay in the target table).
fn assert_took_the_name(summary: &serde_json::Value, stderr: &str, table: &str) {
    let warning =
        format!("public.{table} is another table than the one captured under that name before");
    let warned = warnings(summary)
        .iter()
        .filter(|w| w.starts_with(&warning))
        .count();
    assert_eq!(warned, 1, "{table}: {summary:#}");
    assert!(stderr.contains(&warning), "{stderr}");
}

/// Tables created under the names of captured tables renamed out of the selection or dropped
/// while capture runs: each is captured under the name (its rows arrive in the target table,
/// which keeps the earlier table's) with one warning, in the log and in the summary, whichever
/// message comes first: the renamed table's change before the new table's (`a`), none at all
/// from a dropped one (`b`), or the new table's before the renamed one's (`c`).
#[test]
fn a_table_that_takes_a_captured_name_is_warned_about() {
    let Some((source, target, staging)) = pg_task("cdc_retake") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE a (id int PRIMARY KEY, v text);
             CREATE TABLE b (id int PRIMARY KEY, v text);
             CREATE TABLE c (id int PRIMARY KEY, v text);
             CREATE TABLE other (id int PRIMARY KEY);
             INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 3) g;
             INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 3) g;
             INSERT INTO c SELECT g, 'c' || g FROM generate_series(1, 3) g;",
        )
        .unwrap();
    let without_old = selecting_all_but(&staging, &["%[_]old"]);
    let args: Vec<&str> = without_old.iter().map(String::as_str).collect();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "retake", false, &args);
    wait_for_capture(&mut cdc, target.url());
    // Once a change came through, the stream knows the captured tables' relations.
    source.sql("INSERT INTO other VALUES (1)").unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM other", "1");
    source
        .sql(
            "ALTER TABLE a RENAME TO a_old; UPDATE a_old SET v = 'old' WHERE id = 1;
             CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a VALUES (100, 'new a');
             DROP TABLE b;
             CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b VALUES (200, 'new b');
             ALTER TABLE c RENAME TO c_old;
             CREATE TABLE c (id int PRIMARY KEY, v text); INSERT INTO c VALUES (300, 'new c');
             UPDATE c_old SET v = 'old' WHERE id = 1;",
        )
        .unwrap();
    let expected = [
        ("a", "1|a1,2|a2,3|a3,100|new a"),
        ("b", "1|b1,2|b2,3|b3,200|new b"),
        ("c", "1|c1,2|c2,3|c3,300|new c"),
    ];
    for (table, want) in expected {
        wait_for_target(&mut cdc, target.url(), &rows(table, "id, v"), want);
    }
    let stderr_path = cdc.stderr.clone();
    let summary = stop(cdc);
    let stderr = std::fs::read_to_string(stderr_path).unwrap_or_default();
    for (table, _) in expected {
        assert_took_the_name(&summary, &stderr, table);
    }
    let _ = std::fs::remove_dir_all(&staging);
}

/// The same while the task was stopped: the next run captures the tables that took the names
/// of a table renamed out of the selection (`a`) and of a dropped one (`b`), with one warning
/// for each, though the catalog then knows only the new tables under those names, and the
/// dropped table's last change arrives under its name first. (The publication's event trigger
/// tells of the tables created: an earlier migrate's, which did not, is replaced when the task
/// resumes.)
#[test]
fn a_table_that_took_a_captured_name_while_the_task_was_stopped_is_warned_about() {
    let Some((source, target, staging)) = pg_task("cdc_retake2") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE a (id int PRIMARY KEY, v text);
             CREATE TABLE b (id int PRIMARY KEY, v text);
             INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 3) g;
             INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 3) g;",
        )
        .unwrap();
    let start = |idle_stop| {
        start_cdc_without(
            source.url(),
            target.url(),
            &staging,
            "retake2",
            idle_stop,
            &["%[_]old"],
        )
    };
    let mut cdc = start(false);
    wait_for_capture(&mut cdc, target.url());
    stop(cdc);
    let keeper = migrate_source_postgres::capture_name(source.name(), "retake2");
    source
        .sql(&format!(
            "CREATE OR REPLACE FUNCTION {keeper}() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END'"
        ))
        .unwrap();
    let (code, _) = start(true).summary(std::time::Duration::from_secs(60));
    assert_eq!(code, Some(0));
    source
        .sql(
            "ALTER TABLE a RENAME TO a_old;
             CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a VALUES (100, 'new a');
             UPDATE a_old SET v = 'old' WHERE id = 1;
             UPDATE b SET v = 'x' WHERE id = 2; DROP TABLE b;
             CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b VALUES (200, 'new b');",
        )
        .unwrap();
    let cdc = start(true);
    let stderr_path = cdc.stderr.clone();
    let (code, summary) = cdc.summary(std::time::Duration::from_secs(120));
    let stderr = std::fs::read_to_string(stderr_path).unwrap_or_default();
    assert_eq!(code, Some(0), "{stderr}");
    for (table, want) in [
        ("a", "1|a1,2|a2,3|a3,100|new a"),
        ("b", "1|b1,2|x,3|b3,200|new b"),
    ] {
        assert_eq!(psql(target.url(), &rows(table, "id, v")).unwrap(), want);
        assert_took_the_name(&summary, &stderr, table);
    }
    let _ = std::fs::remove_dir_all(&staging);
}

/// A label added to a source enum, longer than the target's `varchar(n)` of it (and of its
/// array): the task stops with the exact `ALTER TABLE` that holds the batch's values, for each
/// column in turn; after them, the rows arrive.
#[test]
fn enum_labels_too_long_for_the_target_name_the_exact_alter() {
    let Some((source, target, staging)) = pg_task("cdc_enumlen") else {
        return;
    };
    source
        .sql(
            "CREATE TYPE mood AS ENUM ('ok', 'sad');
             CREATE TABLE en (id int PRIMARY KEY, m mood, ms mood[]);
             INSERT INTO en VALUES (1, 'ok', '{ok,sad}');",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "enumlen", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source.sql("ALTER TYPE mood ADD VALUE 'ecstatic'").unwrap();
    source
        .sql("INSERT INTO en VALUES (2, 'ecstatic', '{ok,ecstatic}')")
        .unwrap();
    for column in ["m", "ms"] {
        let error = stopped_with_error(cdc);
        let array = if column == "ms" { "[]" } else { "" };
        let alter =
            format!("ALTER TABLE public.en ALTER COLUMN {column} TYPE character varying(8){array}");
        assert!(error.contains(&format!("({alter})")), "{error}");
        psql(target.url(), &alter).unwrap();
        cdc = start_cdc(source.url(), target.url(), &staging, "enumlen", false, &[]);
    }
    wait_until_same(
        &mut cdc,
        source.url(),
        target.url(),
        &rows("en", "id, m, ms"),
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// A captured table made UNLOGGED writes no WAL: logical replication sends none of its changes
/// from then on, and `SET LOGGED` does not send the rows changed meanwhile. The task stops naming
/// it, whether it was made UNLOGGED while the task was stopped (the resumed run does not start)
/// or while the task runs (a partition of a captured partitioned table too), on every run until
/// a new full load reads it again (after `SET LOGGED`) or the mappings leave it out. An UNLOGGED
/// table the mappings leave out stops nothing.
#[test]
fn a_captured_table_set_unlogged_stops_the_task() {
    let Some((source, target, staging)) = pg_task("cdc_unlogged") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE l (id int PRIMARY KEY, x int);
             CREATE TABLE pt (id int PRIMARY KEY, x int) PARTITION BY RANGE (id);
             CREATE TABLE pt_1 PARTITION OF pt FOR VALUES FROM (0) TO (100);
             CREATE TABLE other (id int PRIMARY KEY);
             CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY);
             INSERT INTO l VALUES (1, 10);
             INSERT INTO pt VALUES (1, 10);",
        )
        .unwrap();
    let start = |excluded: &[&str]| {
        start_cdc_without(
            source.url(),
            target.url(),
            &staging,
            "unlogged",
            false,
            excluded,
        )
    };
    let mut cdc = start(&["scratch"]);
    wait_for_capture(&mut cdc, target.url());
    stop(cdc);

    // Made UNLOGGED while the task was stopped: the resumed run stops before any change.
    source
        .sql(
            "ALTER TABLE l SET UNLOGGED;
             INSERT INTO l VALUES (2, 20);
             UPDATE l SET x = 11 WHERE id = 1;",
        )
        .unwrap();
    let error = stopped_with_error(start(&["scratch"]));
    assert!(
        error.contains("1 of the captured tables: public.l: it is UNLOGGED")
            && error.contains("changes made to it since are not in the change stream")
            && error.contains(r#"ALTER TABLE "public"."l" SET LOGGED"#)
            && error.contains("--restart")
            && error.contains("exclude public.l from the task's table mapping")
            && !error.contains("scratch"),
        "{error}"
    );
    let l = rows("l", "id, x");
    assert_eq!(psql(target.url(), &l).unwrap(), "1|10");

    // SET LOGGED does not bring the changes made meanwhile: a new full load does.
    source.sql("ALTER TABLE l SET LOGGED").unwrap();
    let mapping = selecting_all_but(&staging, &["scratch"]);
    let args = ["--restart", mapping[0].as_str(), mapping[1].as_str()];
    finished_cdc(source.url(), target.url(), &staging, "unlogged", &args);
    assert_eq!(psql(target.url(), &l), psql(source.url(), &l));

    // Made UNLOGGED while the task runs: l, and a partition of pt. With the publication's event
    // trigger (named after it) disabled, nothing in the stream tells: the catalog check the
    // stream makes every 5 seconds does.
    let mut cdc = start(&["scratch"]);
    source.sql("INSERT INTO other VALUES (1)").unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM other", "1");
    let capture = migrate_source_postgres::capture_name(source.name(), "unlogged");
    source
        .sql(&format!(
            "ALTER EVENT TRIGGER {capture} DISABLE;
             BEGIN;
             ALTER TABLE l SET UNLOGGED;
             ALTER TABLE pt_1 SET UNLOGGED;
             INSERT INTO l VALUES (3, 30);
             INSERT INTO pt VALUES (3, 30);
             COMMIT;
             ALTER EVENT TRIGGER {capture} ENABLE;"
        ))
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("2 of the captured tables: public.l: it is UNLOGGED; partition public.pt_1 of public.pt: it is UNLOGGED (")
            && error.contains(r#"ALTER TABLE "public"."l" SET LOGGED; ALTER TABLE "public"."pt_1" SET LOGGED, then"#)
            && error.contains("exclude public.l, public.pt from the task's table mapping (their target tables then keep the rows each has"),
        "{error}"
    );

    // Left out by the mappings, UNLOGGED tables stop nothing: the others go on.
    let mut cdc = start(&["scratch", "l", "pt"]);
    source.sql("INSERT INTO other VALUES (2)").unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), &rows("other", "id"));
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// Set UNLOGGED, changed and set LOGGED again while the task was stopped: the catalog shows a
/// logged table by the time the task resumes, but the changes made meanwhile are not in the WAL.
/// The publication's event trigger announced the `SET UNLOGGED` in the change stream: the resumed
/// run stops there, naming the table, and `--restart` reloads it.
#[test]
fn a_table_unlogged_and_logged_again_while_the_task_was_stopped_stops_it() {
    let Some((source, target, staging)) = pg_task("cdc_relogged") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE l (id int PRIMARY KEY, x int);
             CREATE TABLE other (id int PRIMARY KEY);
             INSERT INTO l VALUES (1, 10);",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "relogged", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source.sql("INSERT INTO other VALUES (1)").unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM other", "1");
    stop(cdc);
    // Twice in one transaction: named once.
    source
        .sql(
            "BEGIN;
             ALTER TABLE l SET UNLOGGED;
             INSERT INTO l VALUES (2, 20);
             ALTER TABLE l SET LOGGED;
             ALTER TABLE l SET UNLOGGED;
             UPDATE l SET x = 11 WHERE id = 1;
             ALTER TABLE l SET LOGGED;
             COMMIT;
             INSERT INTO other VALUES (2);",
        )
        .unwrap();
    let error = stopped_with_error(start_cdc(
        source.url(),
        target.url(),
        &staging,
        "relogged",
        true,
        &[],
    ));
    assert!(
        error.contains("1 of the captured tables: public.l: it was UNLOGGED after the ALTER TABLE of the transaction that commits at LSN")
            && error.matches("public.l: it was UNLOGGED").count() == 1
            && error.contains("changes made to it since are not in the change stream")
            && error.matches(r#"ALTER TABLE "public"."l" SET LOGGED"#).count() == 1
            && error.contains("--restart")
            && error.contains("exclude public.l from the task's table mapping (its target table then keeps the rows it has"),
        "{error}"
    );
    let l = rows("l", "id, x");
    assert_eq!(psql(target.url(), &l).unwrap(), "1|10");

    finished_cdc(
        source.url(),
        target.url(),
        &staging,
        "relogged",
        &["--restart"],
    );
    assert_eq!(psql(target.url(), &l), psql(source.url(), &l));
    let _ = std::fs::remove_dir_all(&staging);
}

/// Tables created UNLOGGED (or made so before their first change) while capture runs: logical
/// replication never describes them, so a publication for all tables alone would leave a
/// selected one out without a word. The task stops naming each selected one of the transaction
/// (and an UNLOGGED partition created under, or attached to, a captured partitioned table, also
/// when set LOGGED again at once), on every run until the mapping leaves it out; one the mapping
/// leaves out stops nothing.
#[test]
fn a_selected_table_created_unlogged_stops_the_task() {
    let Some((source, target, staging)) = pg_task("cdc_newunlogged") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE pt (id int PRIMARY KEY, x int) PARTITION BY RANGE (id);
             CREATE TABLE pt_1 PARTITION OF pt FOR VALUES FROM (0) TO (100);
             CREATE TABLE qt (id int PRIMARY KEY, x int) PARTITION BY RANGE (id);
             CREATE TABLE qt_1 PARTITION OF qt FOR VALUES FROM (0) TO (100);
             CREATE TABLE other (id int PRIMARY KEY);
             CREATE UNLOGGED TABLE scratch_part (id int PRIMARY KEY, x int);
             INSERT INTO pt VALUES (1, 10);
             INSERT INTO qt VALUES (1, 10);",
        )
        .unwrap();
    let start = |excluded: &[&str]| {
        start_cdc_without(
            source.url(),
            target.url(),
            &staging,
            "newunlogged",
            false,
            excluded,
        )
    };
    let others = rows("other", "id");
    let mut cdc = start(&["scratch%"]);
    wait_for_capture(&mut cdc, target.url());
    source.sql("INSERT INTO other VALUES (1)").unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM other", "1");

    // Left out by the mapping: nothing stops.
    source
        .sql(
            "CREATE UNLOGGED TABLE scratch_new (id int PRIMARY KEY);
             INSERT INTO scratch_new VALUES (1);
             INSERT INTO other VALUES (2);",
        )
        .unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), &others);

    // Selected: the task stops at the transaction's end naming each, and again on the next run.
    source
        .sql(
            "BEGIN;
             CREATE UNLOGGED TABLE u (id int PRIMARY KEY, v text);
             INSERT INTO u VALUES (1, 'lost');
             CREATE TABLE w (id int PRIMARY KEY); ALTER TABLE w SET UNLOGGED;
             CREATE UNLOGGED TABLE scratch_too (id int PRIMARY KEY);
             INSERT INTO other VALUES (3);
             COMMIT;",
        )
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("2 of the selected tables: public.u: it was UNLOGGED after the CREATE TABLE of the transaction that commits at LSN")
            && error.contains("; public.w: it was UNLOGGED after the ALTER TABLE of the transaction")
            && error.contains("not in the change stream, and it gets no target table)")
            && error.contains(r#"ALTER TABLE "public"."u" SET LOGGED; ALTER TABLE "public"."w" SET LOGGED"#)
            && error.contains("--restart")
            && error.contains("exclude public.u, public.w from the task's table mapping (they then get no target table)")
            && !error.contains("target tables")
            && !error.contains("then keep")
            && !error.contains("scratch"),
        "{error}"
    );
    assert!(!pg_table_exists(target.url(), "public", "u"));
    assert_eq!(psql(target.url(), &others).unwrap(), "1,2");
    let error = stopped_with_error(start(&["scratch%"]));
    assert!(
        error.contains("public.u: it ") && error.contains("public.w: it "),
        "{error}"
    );

    // Left out: the task goes on. An UNLOGGED table attached to a captured partitioned table
    // stops it, also when set LOGGED again before any catalog could show it (in the same
    // transaction): the row inserted meanwhile is not in the stream.
    let mut cdc = start(&["scratch%", "u", "w"]);
    wait_until_same(&mut cdc, source.url(), target.url(), &others);
    source
        .sql(
            "BEGIN;
             ALTER TABLE pt ATTACH PARTITION scratch_part FOR VALUES FROM (100) TO (200);
             INSERT INTO pt VALUES (150, 1);
             ALTER TABLE scratch_part SET LOGGED;
             COMMIT;",
        )
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("1 of the captured tables: partition public.scratch_part of public.pt: it was UNLOGGED after the ALTER TABLE of the transaction")
            && error.contains(r#"ALTER TABLE "public"."scratch_part" SET LOGGED"#)
            && error.contains("exclude public.pt from"),
        "{error}"
    );

    // And so does one created UNLOGGED under one.
    let mut cdc = start(&["scratch%", "u", "w", "pt"]);
    source.sql("INSERT INTO other VALUES (4)").unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), &others);
    source
        .sql(
            "BEGIN;
             CREATE UNLOGGED TABLE qt_2 PARTITION OF qt FOR VALUES FROM (100) TO (200);
             INSERT INTO qt VALUES (150, 1);
             ALTER TABLE qt_2 SET LOGGED;
             COMMIT;",
        )
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("1 of the captured tables: partition public.qt_2 of public.qt: it was UNLOGGED after the CREATE TABLE of the transaction")
            && error.contains("exclude public.qt from"),
        "{error}"
    );
    assert_eq!(
        psql(target.url(), &rows("qt", "id, x")).unwrap(),
        "1|10",
        "the target keeps what it had"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// An UNLOGGED partition of a partitioned table the mapping leaves out, detached: it then stands
/// alone, still UNLOGGED, under a name the mapping selects, and its changes are not in the WAL.
/// The DDL names only the partitioned table, so the publication's event trigger announces
/// nothing: the catalog check the stream makes every 5 seconds stops the task naming it (it was
/// never captured: it gets no target table), and so does the check of the next run's start. One
/// detached under a name the mapping leaves out stops nothing.
#[test]
fn an_unlogged_partition_detached_under_a_selected_name_stops_the_task() {
    let Some((source, target, staging)) = pg_task("cdc_detached") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE hist (id int PRIMARY KEY, x int) PARTITION BY RANGE (id);
             CREATE UNLOGGED TABLE hist_1 PARTITION OF hist FOR VALUES FROM (0) TO (100);
             CREATE TABLE scratch (id int PRIMARY KEY, x int) PARTITION BY RANGE (id);
             CREATE UNLOGGED TABLE scratch_1 PARTITION OF scratch FOR VALUES FROM (0) TO (100);
             CREATE TABLE other (id int PRIMARY KEY);
             INSERT INTO hist VALUES (1, 10);
             INSERT INTO scratch VALUES (1, 10);",
        )
        .unwrap();
    let excluded = ["hist", "scratch%"];
    let start = || {
        start_cdc_without(
            source.url(),
            target.url(),
            &staging,
            "detached",
            false,
            &excluded,
        )
    };
    let others = rows("other", "id");
    let mut cdc = start();
    wait_for_capture(&mut cdc, target.url());
    source.sql("INSERT INTO other VALUES (1)").unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM other", "1");

    // Out of the selection: the task goes on past a catalog check.
    source
        .sql(
            "ALTER TABLE scratch DETACH PARTITION scratch_1;
             INSERT INTO scratch_1 VALUES (2, 20);",
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(6));
    source.sql("INSERT INTO other VALUES (2)").unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), &others);

    // Selected: its rows and changes would never reach the target.
    source
        .sql(
            "ALTER TABLE hist DETACH PARTITION hist_1;
             INSERT INTO hist_1 VALUES (2, 20);
             INSERT INTO other VALUES (3);",
        )
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("1 of the selected tables: public.hist_1: it is UNLOGGED (")
            && error.contains("not in the change stream, and it gets no target table)")
            && error.contains(r#"ALTER TABLE "public"."hist_1" SET LOGGED, then"#)
            && error.contains("--restart")
            && error.contains(
                "exclude public.hist_1 from the task's table mapping (it then gets no target table)"
            )
            && !error.contains("scratch"),
        "{error}"
    );
    assert!(!pg_table_exists(target.url(), "public", "hist_1"));
    let error = stopped_with_error(start());
    assert!(
        error.contains("public.hist_1: it is UNLOGGED") && !error.contains("scratch"),
        "{error}"
    );

    // SET LOGGED, then a new full load brings its rows.
    source.sql("ALTER TABLE hist_1 SET LOGGED").unwrap();
    let mapping = selecting_all_but(&staging, &excluded);
    let args = ["--restart", mapping[0].as_str(), mapping[1].as_str()];
    finished_cdc(source.url(), target.url(), &staging, "detached", &args);
    let hist_1 = rows("hist_1", "id, x");
    assert_eq!(psql(target.url(), &hist_1).unwrap(), "1|10,2|20");
    let _ = std::fs::remove_dir_all(&staging);
}
