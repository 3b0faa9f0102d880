//! `migrate replicate --cdc` from the shared MariaDB into the shared PostgreSQL across DDL and
//! table shapes the row-based binlog does not carry plainly: partition maintenance that drops
//! rows without row events, a primary key changed under a running capture, a generated column
//! computed from the AUTO_INCREMENT column, a text column after a geometry column, a column type
//! changed while the task was stopped, NOT NULL columns added without a DEFAULT. Each step is a
//! run of its own (`--stop-when-idle`) after the source's SQL, or the source's SQL while a run
//! captures, and each test compares the rows of source and target itself, with SQL that does not
//! go through migrate.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{
    cdc_to_the_end, finished_cdc, refused_cdc, selecting_all_but, start_cdc, stop,
    wait_for_capture, wait_for_target,
};
use common::{mariadb_task, one};
use migrate_testkit::{MariaDbDatabase, PgDatabase};
use std::path::PathBuf;

/// A MariaDB source database, a PostgreSQL target database and a staging directory, captured by
/// task `ddl`.
struct Task {
    source: MariaDbDatabase,
    target: PgDatabase,
    staging: PathBuf,
}

impl Task {
    /// `None` without the servers (outside CI: with `CI=true` the testkit fails instead).
    fn new(hint: &str, setup: &str) -> Option<Task> {
        let (source, target, staging) = mariadb_task(hint)?;
        let task = Task {
            source,
            target,
            staging,
        };
        task.source.sql(setup).unwrap();
        Some(task)
    }

    /// A run that must succeed: full load or resume, then capture until 2 s without a change.
    fn ok(&self, extra: &[&str]) {
        let (source, target) = (self.source.url(), self.target.url());
        finished_cdc(source, target, &self.staging, "ddl", extra);
    }

    /// Such a run that must stop with an error (exit code 2); its standard error.
    fn refused(&self, extra: &[&str]) -> String {
        let args = [&["--stop-when-idle", "2"][..], extra].concat();
        let (source, target) = (self.source.url(), self.target.url());
        refused_cdc(source, target, &self.staging, "ddl", &args)
    }

    /// A run like [`ok`](Self::ok); its standard error (the warnings).
    fn run(&self, extra: &[&str]) -> String {
        let args = [&["--stop-when-idle", "2"][..], extra].concat();
        let (source, target) = (self.source.url(), self.target.url());
        let output = cdc_to_the_end(source, target, &self.staging, "ddl", &args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        stderr
    }

    /// The rows of `source_sql` (MariaDB) and `target_sql` (PostgreSQL): one text column per
    /// row, NULLs spelled out.
    fn rows(&self, source_sql: &str, target_sql: &str) -> (String, String) {
        (
            self.source.sql(source_sql).unwrap().trim_end().to_string(),
            self.target.sql(target_sql).unwrap().trim_end().to_string(),
        )
    }

    /// The target table of the source's `table`, as SQL names it.
    fn target_table(&self, table: &str) -> String {
        format!("\"{}\".{table}", self.source.name())
    }

    /// A table mapping of every table of the source database plus `rules` (JSON objects), as
    /// the run's arguments.
    fn mapping(&self, rules: &[&str]) -> [String; 2] {
        let path = self.staging.with_extension("mapping.json");
        let mut all = vec![format!(
            r#"{{"rule-type": "selection", "rule-id": "1", "rule-name": "all",
                "object-locator": {{"schema-name": "{}", "table-name": "%"}}, "rule-action": "include"}}"#,
            self.source.name()
        )];
        all.extend(rules.iter().map(|r| r.to_string()));
        std::fs::write(&path, format!(r#"{{"rules": [{}]}}"#, all.join(","))).unwrap();
        [
            "--table-mappings".to_string(),
            path.to_str().expect("utf-8 path").to_string(),
        ]
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.staging);
        let _ = std::fs::remove_file(self.staging.with_extension("mapping.json"));
    }
}

const EVENTS: &str = "
CREATE TABLE ev (id INT, d DATE, v VARCHAR(10), PRIMARY KEY (id, d)) ENGINE=InnoDB
  PARTITION BY RANGE (YEAR(d)) (
    PARTITION p2022 VALUES LESS THAN (2023), PARTITION p2023 VALUES LESS THAN (2024),
    PARTITION p2024 VALUES LESS THAN (2025), PARTITION pmax VALUES LESS THAN MAXVALUE);
INSERT INTO ev VALUES (1, '2022-05-01', 'a'), (2, '2023-05-01', 'b'), (3, '2024-05-01', 'c'),
                      (4, '2022-07-01', 'd');
CREATE TABLE hp (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB
  PARTITION BY HASH (id) PARTITIONS 4;
INSERT INTO hp SELECT seq, CONCAT('h', seq) FROM seq_1_to_20;";

const EV_SOURCE: &str = "SELECT CONCAT_WS('|', id, d, v) FROM ev ORDER BY id, d";
const EV_TARGET: &str = "SELECT concat_ws('|', id, d, v) FROM {} ORDER BY id, d";

/// Partition maintenance that keeps the rows (REORGANIZE, REBUILD, COALESCE, ADD, REMOVE
/// PARTITIONING) is followed; `DROP PARTITION` and `TRUNCATE PARTITION`, which remove rows on
/// the source without row events, stop the task with an error naming the table, quoting the
/// statement and giving the remedy, on every run until `--restart` reloads the table. Before,
/// the run went on and the target kept the dropped partition's rows, without a word.
#[test]
fn partition_ddl_that_removes_rows_stops_the_task() {
    let Some(task) = Task::new("cdc_my_part", EVENTS) else {
        return;
    };
    let db = task.source.name().to_string();
    let ev_target = EV_TARGET.replace("{}", &task.target_table("ev"));
    let hp = (
        "SELECT CONCAT_WS('|', id, v) FROM hp ORDER BY id",
        format!(
            "SELECT concat_ws('|', id, v) FROM {} ORDER BY id",
            task.target_table("hp")
        ),
    );
    task.ok(&[]);
    task.source
        .sql(
            "INSERT INTO ev VALUES (5, '2024-06-01', 'e');
             ALTER TABLE ev REORGANIZE PARTITION p2024, pmax INTO (
               PARTITION p2024 VALUES LESS THAN (2025), PARTITION p2025 VALUES LESS THAN (2026),
               PARTITION pmax VALUES LESS THAN MAXVALUE);
             ALTER TABLE ev REBUILD PARTITION p2023;
             ALTER TABLE hp COALESCE PARTITION 2;
             ALTER TABLE hp ADD PARTITION PARTITIONS 1;
             UPDATE hp SET v = 'changed' WHERE id = 7;
             ALTER TABLE hp REMOVE PARTITIONING;
             DELETE FROM hp WHERE id = 8;
             UPDATE ev SET v = 'b2' WHERE id = 2;",
        )
        .unwrap();
    task.ok(&[]);
    let (source, target) = task.rows(EV_SOURCE, &ev_target);
    assert_eq!(source, target);
    assert!(source.contains("2|2023-05-01|b2") && source.contains("5|2024-06-01|e"));
    let (source, target) = task.rows(hp.0, &hp.1);
    assert_eq!(source, target);
    assert!(source.contains("7|changed") && !source.contains("8|h8"));

    task.source
        .sql(
            "ALTER TABLE ev DROP PARTITION p2022;
             ALTER TABLE ev TRUNCATE PARTITION p2023;
             INSERT INTO ev VALUES (6, '2025-01-01', 'f');",
        )
        .unwrap();
    for _ in 0..2 {
        // Met again by the run after: the statement stays in the binlog after the checkpoint.
        let stderr = task.refused(&[]);
        for words in [
            format!("`ALTER TABLE ev DROP PARTITION p2022` changed the rows of captured table {db}.ev on the source without writing them to the binlog"),
            "--restart".into(),
            format!("leave {db}.ev out of the task's table mappings"),
        ] {
            assert!(stderr.contains(&words), "`{words}` not in:\n{stderr}");
        }
        // Nothing after the statement was applied: the target is as it was before it.
        let (_, target) = task.rows(EV_SOURCE, &ev_target);
        assert_eq!(
            target,
            "1|2022-05-01|a\n2|2023-05-01|b2\n3|2024-05-01|c\n4|2022-07-01|d\n5|2024-06-01|e"
        );
    }
    task.ok(&["--restart"]);
    let (source, target) = task.rows(EV_SOURCE, &ev_target);
    assert_eq!(source, "3|2024-05-01|c\n5|2024-06-01|e\n6|2025-01-01|f");
    assert_eq!(source, target);
}

/// `EXCHANGE PARTITION` swaps the rows of a partition and a table without row events: the task
/// stops naming both tables. MariaDB's `CONVERT PARTITION ... TO TABLE` moves a partition's
/// rows out to a new table the same way.
#[test]
fn exchanged_and_converted_partitions_stop_the_task() {
    for (hint, statement, words) in [
        (
            "cdc_my_exch",
            "CREATE TABLE ev_old (id INT, d DATE, v VARCHAR(10), PRIMARY KEY (id, d));
             INSERT INTO ev_old VALUES (9, '2024-01-01', 'old');
             ALTER TABLE ev EXCHANGE PARTITION p2024 WITH TABLE ev_old;",
            "`ALTER TABLE ev EXCHANGE PARTITION p2024 WITH TABLE ev_old` changed the rows of captured table {db}.ev (and of {db}.ev_old)",
        ),
        (
            "cdc_my_conv",
            "ALTER TABLE ev CONVERT PARTITION p2022 TO TABLE ev_2022;",
            "`ALTER TABLE ev CONVERT PARTITION p2022 TO TABLE ev_2022` changed the rows of captured table {db}.ev (and of {db}.ev_2022)",
        ),
    ] {
        let Some(task) = Task::new(hint, EVENTS) else {
            return;
        };
        let db = task.source.name().to_string();
        task.ok(&[]);
        task.source.sql(statement).unwrap();
        let stderr = task.refused(&[]);
        let words = words.replace("{db}", &db);
        assert!(stderr.contains(&words), "`{words}` not in:\n{stderr}");
        let ev_target = EV_TARGET.replace("{}", &task.target_table("ev"));
        let (_, target) = task.rows(EV_SOURCE, &ev_target);
        assert_eq!(
            target,
            "1|2022-05-01|a\n2|2023-05-01|b\n3|2024-05-01|c\n4|2022-07-01|d"
        );
    }
}

/// A VIRTUAL column computed from the AUTO_INCREMENT column is logged with the value computed
/// before the server assigned the key (`0` for `id * 2`): capture refuses it before the full
/// load creates anything, naming table, column and the remove-column rule. With the rule the
/// task runs, and the other generated columns (VIRTUAL and STORED, which the binlog carries
/// computed) arrive exactly. Before, the refused column arrived as 0.
#[test]
fn generated_columns_from_the_auto_increment_column_are_refused() {
    let Some(task) = Task::new(
        "cdc_my_vcol",
        "CREATE TABLE h (id INT PRIMARY KEY AUTO_INCREMENT, a INT,
                         v INT AS (id * 2) VIRTUAL, v2 INT AS (v + 1) VIRTUAL,
                         w INT AS (a * 2) VIRTUAL, s INT AS (a + 100) STORED,
                         t VARCHAR(20) AS (CONCAT('x', a)) VIRTUAL) ENGINE=InnoDB;
         INSERT INTO h (a) VALUES (1);",
    ) else {
        return;
    };
    let db = task.source.name().to_string();
    let stderr = task.refused(&[]);
    assert!(
        stderr.contains(&format!(
            "{db}.h.v: a generated column computed from the AUTO_INCREMENT column (`id` * 2)"
        )) && stderr.contains("remove-column rule"),
        "{stderr}"
    );
    // Refused before anything was created in the target.
    let tables = task
        .target
        .sql(&format!(
            "SELECT count(*) FROM pg_tables WHERE schemaname = '{db}'"
        ))
        .unwrap();
    assert_eq!(tables.trim(), "0");
    // `v2` is computed from `v`: refused too once `v` is removed.
    let remove = |column: &str, id: u32| {
        format!(
            r#"{{"rule-type": "transformation", "rule-id": "{id}", "rule-name": "no-{column}",
                "rule-target": "column", "object-locator": {{"schema-name": "{db}", "table-name": "h",
                "column-name": "{column}"}}, "rule-action": "remove-column"}}"#
        )
    };
    let only_v = task.mapping(&[&remove("v", 2)]);
    let stderr = task.refused(&[only_v[0].as_str(), only_v[1].as_str()]);
    assert!(
        stderr.contains(&format!(
            "{db}.h.v2: a generated column computed from the AUTO_INCREMENT column"
        )),
        "{stderr}"
    );
    let mapping = task.mapping(&[&remove("v", 2), &remove("v2", 3)]);
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    task.ok(&mapping);
    task.source
        .sql(
            "INSERT INTO h (a) VALUES (2), (3);
             UPDATE h SET a = 10 WHERE id = 1;
             INSERT INTO h (id, a) VALUES (10, 4);
             DELETE FROM h WHERE id = 2;",
        )
        .unwrap();
    task.ok(&mapping);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, a, w, s, t) FROM h ORDER BY id",
        &format!(
            "SELECT concat_ws('|', id, a, w, s, t) FROM {} ORDER BY id",
            task.target_table("h")
        ),
    );
    assert_eq!(source, "1|10|20|110|x10\n3|3|6|103|x3\n10|4|8|104|x4");
    assert_eq!(source, target);
    // Such a column added while capturing stops the task at the table's next change, before
    // its rows are applied.
    task.source
        .sql(
            "ALTER TABLE h ADD COLUMN v3 INT AS (id * 3) VIRTUAL;
             INSERT INTO h (a) VALUES (5);",
        )
        .unwrap();
    let stderr = task.refused(&mapping);
    assert!(
        stderr.contains(&format!(
            "{db}.h.v3: a generated column computed from the AUTO_INCREMENT column (`id` * 3)"
        )),
        "{stderr}"
    );
    let count = format!("SELECT count(*) FROM {}", task.target_table("h"));
    assert_eq!(one(&task.target, &count), "3");
}

/// MariaDB writes a character set for each geometry column in the TableMap's metadata (MySQL
/// does not): the character sets of the text columns after it are read past it. Before, the
/// VARCHAR after a POINT was taken for a binary column and the task stopped with "arrives in the
/// binlog as bytes".
#[test]
fn text_columns_after_geometry_columns_are_captured() {
    let Some(task) = Task::new(
        "cdc_my_geo",
        "CREATE TABLE ga (id INT PRIMARY KEY, p POINT, c VARCHAR(10), g GEOMETRY,
                          l VARCHAR(5) CHARACTER SET latin1, b VARBINARY(4)) ENGINE=InnoDB;
         INSERT INTO ga VALUES (1, POINT(1, 2), 'x', POINT(0, 0), 'é', 0x00ff);",
    ) else {
        return;
    };
    task.ok(&[]);
    task.source
        .sql(
            "INSERT INTO ga VALUES (2, POINT(3, 4), 'yé', NULL, 'ñ', 0x01),
                                   (3, NULL, 'z', ST_GeomFromText('LINESTRING(0 0, 1 1)'), NULL, NULL);
             UPDATE ga SET c = 'x2', l = 'à' WHERE id = 1;",
        )
        .unwrap();
    task.ok(&[]);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, IFNULL(LOWER(HEX(ST_AsBinary(p))), 'NULL'), c,
                IFNULL(LOWER(HEX(ST_AsBinary(g))), 'NULL'), IFNULL(l, 'NULL'), IFNULL(LOWER(HEX(b)), 'NULL'))
           FROM ga ORDER BY id",
        &format!(
            "SELECT concat_ws('|', id, coalesce(encode(p, 'hex'), 'NULL'), c,
                    coalesce(encode(g, 'hex'), 'NULL'), coalesce(l, 'NULL'), coalesce(encode(b, 'hex'), 'NULL'))
               FROM {} ORDER BY id",
            task.target_table("ga")
        ),
    );
    assert_eq!(source.lines().count(), 3, "{source}");
    assert!(
        source.contains("|yé|") && source.contains("|x2|"),
        "{source}"
    );
    assert_eq!(source, target);
}

/// A primary key changed on the source while the task is stopped: the TableMap of the next
/// change names the new key, and the task stops before applying it, naming old and new key and
/// `--restart`. Before, the insert under the new key `(1, 2)` replaced the target's row `(1, 1)`,
/// which was applied by `id` alone, and the run reported success.
#[test]
fn a_changed_primary_key_stops_the_task() {
    let Some(task) = Task::new(
        "cdc_my_pk",
        "CREATE TABLE v (id INT PRIMARY KEY, ver INT NOT NULL DEFAULT 1, v VARCHAR(10)) ENGINE=InnoDB;
         INSERT INTO v VALUES (1, 1, 'a'), (2, 1, 'b');",
    ) else {
        return;
    };
    let db = task.source.name().to_string();
    let rows = (
        "SELECT CONCAT_WS('|', id, ver, v) FROM v ORDER BY id, ver",
        format!(
            "SELECT concat_ws('|', id, ver, v) FROM {} ORDER BY id, ver",
            task.target_table("v")
        ),
    );
    task.ok(&[]);
    task.source
        .sql(
            "ALTER TABLE v DROP PRIMARY KEY, ADD PRIMARY KEY (id, ver);
             INSERT INTO v VALUES (1, 2, 'a2');",
        )
        .unwrap();
    let stderr = task.refused(&[]);
    assert!(
        stderr.contains(&format!(
            "the primary key of captured table {db}.v changed on the source from (id) to (id, ver)"
        )) && stderr.contains("--restart"),
        "{stderr}"
    );
    let (_, target) = task.rows(rows.0, &rows.1);
    assert_eq!(target, "1|1|a\n2|1|b");
    task.ok(&["--restart"]);
    let (source, target) = task.rows(rows.0, &rows.1);
    assert_eq!(source, "1|1|a\n1|2|a2\n2|1|b");
    assert_eq!(source, target);
}

/// A column's type changed while the task was stopped (`MODIFY v BIGINT`, `MODIFY s
/// VARCHAR(100)`): the resumed run's first TableMap of the table differs from the definition the
/// target was built for, so the table is rediscovered and the task stops with the `ALTER TABLE
/// ... ALTER COLUMN ... TYPE` to run on the target, as a run that saw the ALTER live does; after
/// it the next run goes on and the rows arrive. Before, the resumed run trusted its first
/// TableMap to match the recorded `int`: the value beyond it stopped the task with "fix the value
/// in the source", and the target's ALTER did not help; the VARCHAR widening went unseen (a
/// longer value got the advice of a type as wide as that value only).
#[test]
fn a_type_changed_while_the_task_was_stopped_stops_with_the_alter_to_run() {
    let Some(task) = Task::new(
        "cdc_my_retype",
        "CREATE TABLE w (id INT PRIMARY KEY, v INT, s VARCHAR(10)) ENGINE=InnoDB;
         INSERT INTO w VALUES (1, 1, 'a'), (2, 2, 'b');",
    ) else {
        return;
    };
    let rows = (
        "SELECT CONCAT_WS('|', id, v, s) FROM w ORDER BY id",
        format!(
            "SELECT concat_ws('|', id, v, s) FROM {} ORDER BY id",
            task.target_table("w")
        ),
    );
    task.ok(&[]);
    for (change, alter) in [
        (
            "ALTER TABLE w MODIFY v BIGINT; INSERT INTO w VALUES (3, 3000000000, 'c');",
            "ALTER COLUMN v TYPE bigint",
        ),
        (
            "ALTER TABLE w MODIFY s VARCHAR(100); INSERT INTO w VALUES (4, 4, REPEAT('x', 50));",
            "ALTER COLUMN s TYPE character varying(100)",
        ),
    ] {
        task.source.sql(change).unwrap();
        let stderr = task.refused(&[]);
        let alter = format!("ALTER TABLE {}.w {alter}", task.source.name());
        assert!(
            stderr.contains(&alter) && !stderr.contains("fix the value"),
            "`{alter}` not in:\n{stderr}"
        );
        let (source, target) = task.rows(rows.0, &rows.1);
        assert_ne!(source, target);
        task.target.sql(&alter).unwrap();
        task.ok(&[]);
        let (source, target) = task.rows(rows.0, &rows.1);
        assert_eq!(source, target);
    }
    let (source, _) = task.rows(rows.0, &rows.1);
    assert!(
        source.contains(&format!("3|3000000000|c\n4|4|{}", "x".repeat(50))),
        "{source}"
    );
}

/// Columns added NOT NULL without a DEFAULT while capture runs: MariaDB gives the rows that exist
/// the type's implicit value (0, '', an ENUM's first label, ...), and the target column gets it
/// as its default, so those rows and the rows changed before the `ALTER` that are applied after
/// it read the same as in the source. A DATE added so gets the zero date, which no target date
/// holds: the task stops naming table and column, and a remove-column rule for it lets the task
/// go on. Before, the target column was added NOT NULL without a default and the task stopped
/// with PostgreSQL's "column ... contains null values".
#[test]
fn not_null_columns_added_without_a_default_get_the_implicit_value() {
    let Some(task) = Task::new(
        "cdc_my_implicit",
        "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;
         INSERT INTO a VALUES (1, 'a'), (2, 'b'), (3, 'c');
         CREATE TABLE z (id INT PRIMARY KEY) ENGINE=InnoDB;
         INSERT INTO z VALUES (1);",
    ) else {
        return;
    };
    let db = task.source.name().to_string();
    let rows = (
        "SELECT CONCAT_WS('|', id, v, n, s, e, st, b + 0, y + 0, t, HEX(vb), dc) FROM a ORDER BY id",
        format!(
            "SELECT concat_ws('|', id, v, n, s, e, st, b::int, y, t, upper(encode(vb, 'hex')), dc)
               FROM {} ORDER BY id",
            task.target_table("a")
        ),
    );
    let mut cdc = start_cdc(
        task.source.url(),
        task.target.url(),
        &task.staging,
        "ddl",
        false,
        &[],
    );
    wait_for_capture(&mut cdc, task.target.url());
    task.source
        .sql(
            "UPDATE a SET v = 'a2' WHERE id = 1;
             INSERT INTO a VALUES (4, 'd');
             ALTER TABLE a ADD COLUMN n INT NOT NULL, ADD COLUMN s VARCHAR(5) NOT NULL,
                           ADD COLUMN e ENUM('lo', 'hi') NOT NULL, ADD COLUMN st SET('p', 'q') NOT NULL,
                           ADD COLUMN b BIT(1) NOT NULL, ADD COLUMN y YEAR NOT NULL,
                           ADD COLUMN t TIME NOT NULL, ADD COLUMN vb VARBINARY(4) NOT NULL,
                           ADD COLUMN dc DECIMAL(6,2) NOT NULL;
             UPDATE a SET n = 5, e = 'hi' WHERE id = 2;
             INSERT INTO a VALUES (5, 'e', 7, 'z', 'hi', 'p,q', 1, 2024, '12:30:00', x'0A', 1.5);",
        )
        .unwrap();
    let source = task.source.sql(rows.0).unwrap().trim_end().to_string();
    assert_eq!(
        source,
        "1|a2|0||lo||0|0|00:00:00||0.00\n2|b|5||hi||0|0|00:00:00||0.00\n\
         3|c|0||lo||0|0|00:00:00||0.00\n4|d|0||lo||0|0|00:00:00||0.00\n\
         5|e|7|z|hi|p,q|1|2024|12:30:00|0A|1.50"
    );
    wait_for_target(&mut cdc, task.target.url(), &rows.1, &source);
    let outputs = [cdc.stdout.clone(), cdc.stderr.clone()];
    stop(cdc);
    for output in outputs {
        let _ = std::fs::remove_file(output);
    }

    task.source
        .sql("ALTER TABLE z ADD COLUMN d DATE NOT NULL; INSERT INTO z VALUES (2, '2024-01-01');")
        .unwrap();
    let stderr = task.refused(&[]);
    let words = format!("column d was added to {db}.z NOT NULL without a DEFAULT: the source gave the rows that existed its type's implicit value, the zero date 0000-00-00");
    assert!(
        stderr.contains(&words) && stderr.contains("remove-column rule"),
        "`{words}` not in:\n{stderr}"
    );
    // The row holding the zero date was found, not assumed after a failed look.
    assert!(!stderr.contains("could not look"), "{stderr}");
    let count = format!("SELECT count(*) FROM {}", task.target_table("z"));
    assert_eq!(one(&task.target, &count), "1");
    let mapping = task.mapping(&[&format!(
        r#"{{"rule-type": "transformation", "rule-id": "2", "rule-name": "no-d",
            "rule-target": "column", "object-locator": {{"schema-name": "{db}", "table-name": "z",
            "column-name": "d"}}, "rule-action": "remove-column"}}"#
    )]);
    task.ok(&[mapping[0].as_str(), mapping[1].as_str()]);
    assert_eq!(one(&task.target, &count), "2");
}

/// A DATE added NOT NULL without a DEFAULT to a table that is empty at the ALTER gives no row
/// the zero date: the column is added to the target (NOT NULL, no default) and the rows
/// inserted after it arrive with their dates. Before, the task stopped as if rows held the zero
/// date. Where rows held it and were given dates since, the source has no zero date left, but
/// the target still has those rows at the ALTER's point of the stream: PostgreSQL refuses the
/// NOT NULL column there, and the task stops without changing the target's rows.
#[test]
fn a_date_added_not_null_to_an_empty_table_is_carried() {
    let Some(task) = Task::new(
        "cdc_my_empty_date",
        "CREATE TABLE e (id INT PRIMARY KEY) ENGINE=InnoDB;
         CREATE TABLE f (id INT PRIMARY KEY) ENGINE=InnoDB;
         INSERT INTO f VALUES (1);",
    ) else {
        return;
    };
    task.ok(&[]);
    task.source
        .sql(
            "ALTER TABLE e ADD COLUMN d DATE NOT NULL;
             INSERT INTO e VALUES (1, '2024-01-01'), (2, '2024-02-29');",
        )
        .unwrap();
    task.ok(&[]);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, d) FROM e ORDER BY id",
        &format!(
            "SELECT concat_ws('|', id, d) FROM {} ORDER BY id",
            task.target_table("e")
        ),
    );
    assert_eq!(source, "1|2024-01-01\n2|2024-02-29");
    assert_eq!(target, source);
    let column = format!(
        "SELECT is_nullable || '|' || coalesce(column_default, 'none') FROM information_schema.columns
          WHERE table_schema = '{}' AND table_name = 'e' AND column_name = 'd'",
        task.source.name()
    );
    assert_eq!(one(&task.target, &column), "NO|none");

    task.source
        .sql(
            "ALTER TABLE f ADD COLUMN d DATE NOT NULL;
             UPDATE f SET d = '2024-03-01';
             INSERT INTO f VALUES (2, '2024-04-01');",
        )
        .unwrap();
    let stderr = task.refused(&[]);
    assert!(
        stderr.contains("column \"d\" of relation \"f\" contains null values"),
        "{stderr}"
    );
    assert_eq!(
        one(
            &task.target,
            &format!(
                "SELECT string_agg(id::text, ',') FROM {}",
                task.target_table("f")
            )
        ),
        "1"
    );
}

/// A `remove-column` rule (with id `id`) for `column` of `table` in database `db`, as JSON.
fn remove_column(db: &str, table: &str, column: &str, id: u32) -> String {
    format!(
        r#"{{"rule-type": "transformation", "rule-id": "{id}", "rule-name": "no-{table}-{column}",
            "rule-target": "column", "object-locator": {{"schema-name": "{db}", "table-name": "{table}",
            "column-name": "{column}"}}, "rule-action": "remove-column"}}"#
    )
}

/// Asserts that `stderr` holds each of `words`.
fn assert_says(stderr: &str, words: &[&str]) {
    for words in words {
        assert!(stderr.contains(words), "`{words}` not in:\n{stderr}");
    }
}

/// A generated column, STORED or VIRTUAL, added to a captured table that holds rows: the server
/// computes its values for those rows without row events, so the task stops at the `ALTER
/// TABLE`, naming table and column, on every run until `--restart` or a remove-column rule
/// settles it; with the rule the run goes on, and the other columns match the source. Added to
/// a table without rows, the column is carried. Before, the run went on and reported success:
/// the rows that existed kept NULL in the target.
#[test]
fn generated_columns_added_to_rows_that_exist_stop_the_task() {
    let Some(task) = Task::new(
        "cdc_my_gen_add",
        "CREATE TABLE a (id INT PRIMARY KEY, x INT) ENGINE=InnoDB;
         INSERT INTO a VALUES (1, 10), (2, 20);
         CREATE TABLE e (id INT PRIMARY KEY, x INT) ENGINE=InnoDB;",
    ) else {
        return;
    };
    let db = task.source.name().to_string();
    task.ok(&[]);
    task.source
        .sql(
            "ALTER TABLE a ADD COLUMN g INT AS (x * 2) STORED, ADD COLUMN v INT AS (x + 1) VIRTUAL;
             INSERT INTO a (id, x) VALUES (3, 30);
             UPDATE a SET x = 11 WHERE id = 1;",
        )
        .unwrap();
    let a = (
        "SELECT CONCAT_WS('|', id, x) FROM a ORDER BY id",
        format!(
            "SELECT concat_ws('|', id, x) FROM {} ORDER BY id",
            task.target_table("a")
        ),
    );
    // Met again by the next run: the ALTER is where the stream stops.
    for _ in 0..2 {
        let stderr = task.refused(&[]);
        assert_says(
            &stderr,
            &[
                &format!("column g was added to {db}.a as a generated column (`x` * 2)"),
                &format!("column v was added to {db}.a as a generated column (`x` + 1)"),
                "the binlog does not carry",
                "--restart",
                "remove-column rule",
            ],
        );
        assert_eq!(task.rows(a.0, &a.1).1, "1|10\n2|20");
    }
    let mapping = task.mapping(&[
        &remove_column(&db, "a", "g", 2),
        &remove_column(&db, "a", "v", 3),
    ]);
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    task.ok(&mapping);
    let (source, target) = task.rows(a.0, &a.1);
    assert_eq!(source, "1|11\n2|20\n3|30");
    assert_eq!(target, source);
    let columns = format!(
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
          WHERE table_schema = '{db}' AND table_name = 'a'"
    );
    assert_eq!(one(&task.target, &columns), "id,x");

    // A table without rows when the run reads the ALTER lost nothing: the columns reach the
    // target. (The change of `a` moves the checkpoint past the ALTER: a run that read it again
    // after rows were inserted could not tell them from rows that existed, and would stop.)
    task.source
        .sql(
            "ALTER TABLE e ADD COLUMN g INT AS (x * 2) STORED, ADD COLUMN v INT AS (x + 1) VIRTUAL;
             UPDATE a SET x = 12 WHERE id = 1;",
        )
        .unwrap();
    task.ok(&mapping);
    task.source
        .sql("INSERT INTO e (id, x) VALUES (1, 10), (2, NULL), (3, 30); UPDATE e SET x = 31 WHERE id = 3;")
        .unwrap();
    task.ok(&mapping);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, IFNULL(x, 'null'), IFNULL(g, 'null'), IFNULL(v, 'null')) FROM e ORDER BY id",
        &format!(
            "SELECT concat_ws('|', id, coalesce(x::text, 'null'), coalesce(g::text, 'null'), coalesce(v::text, 'null'))
               FROM {} ORDER BY id",
            task.target_table("e")
        ),
    );
    assert_eq!(source, "1|10|20|11\n2|null|null|null\n3|31|62|32");
    assert_eq!(target, source);
}

/// An existing column made generated (`MODIFY x2 INT AS (x * 3) STORED`), and generated columns
/// given another expression: the server recomputes the rows it holds without row events, so the
/// task stops at the `ALTER TABLE` as for an added generated column, until a remove-column rule
/// or `--restart` settles it. Before, the rows that existed kept their old values in the target.
#[test]
fn columns_made_generated_or_given_another_expression_stop_the_task() {
    let Some(task) = Task::new(
        "cdc_my_gen_modify",
        "CREATE TABLE m (id INT PRIMARY KEY, x INT, x2 INT) ENGINE=InnoDB;
         INSERT INTO m VALUES (1, 10, 5), (2, 20, 5);
         CREATE TABLE c (id INT PRIMARY KEY, x INT, g INT AS (x * 2) STORED,
                         v INT AS (x + 1) VIRTUAL) ENGINE=InnoDB;
         INSERT INTO c (id, x) VALUES (1, 10), (2, 20);",
    ) else {
        return;
    };
    let db = task.source.name().to_string();
    task.ok(&[]);
    task.source
        .sql("ALTER TABLE m MODIFY x2 INT AS (x * 3) STORED; INSERT INTO m (id, x) VALUES (3, 30);")
        .unwrap();
    for _ in 0..2 {
        let stderr = task.refused(&[]);
        assert_says(
            &stderr,
            &[
                &format!("column x2 of {db}.m was made a generated column (`x` * 3)"),
                "the binlog does not carry",
                "--restart",
                "remove-column rule",
            ],
        );
    }
    let mapping = task.mapping(&[&remove_column(&db, "m", "x2", 2)]);
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    task.ok(&mapping);
    let m = (
        "SELECT CONCAT_WS('|', id, x) FROM m ORDER BY id",
        format!(
            "SELECT concat_ws('|', id, x) FROM {} ORDER BY id",
            task.target_table("m")
        ),
    );
    let (source, target) = task.rows(m.0, &m.1);
    assert_eq!(source, "1|10\n2|20\n3|30");
    assert_eq!(target, source);

    task.source
        .sql(
            "ALTER TABLE c MODIFY g INT AS (x * 3) STORED, MODIFY v INT AS (x + 2) VIRTUAL;
             INSERT INTO c (id, x) VALUES (3, 30);",
        )
        .unwrap();
    let stderr = task.refused(&mapping);
    assert_says(
        &stderr,
        &[
            &format!(
                "the expression of generated column g of {db}.c was changed from (`x` * 2) to (`x` * 3)"
            ),
            &format!(
                "the expression of generated column v of {db}.c was changed from (`x` + 1) to (`x` + 2)"
            ),
            "--restart",
        ],
    );
    task.ok(&[mapping[0], mapping[1], "--restart"]);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, x, g, v) FROM c ORDER BY id",
        &format!(
            "SELECT concat_ws('|', id, x, g, v) FROM {} ORDER BY id",
            task.target_table("c")
        ),
    );
    assert_eq!(source, "1|10|30|12\n2|20|60|22\n3|30|90|32");
    assert_eq!(target, source);
    let (source, target) = task.rows(m.0, &m.1);
    assert_eq!(target, source);
}

/// Two tables for MariaDB's two-phase ALTER logging (`binlog_alter_two_phase`): `a` has two
/// rows with the same `x`, so an `ALTER TABLE a ..., ADD UNIQUE (x)` fails after its START ALTER
/// was logged and is logged again as ROLLBACK ALTER.
const TWO_PHASE: &str = "
CREATE TABLE a (id INT PRIMARY KEY, x INT) ENGINE=InnoDB;
INSERT INTO a VALUES (1, 1), (2, 1);
CREATE TABLE c (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO c VALUES (1, 'c1'), (2, 'c2');";

const A_SOURCE: &str = "SELECT CONCAT_WS('|', id, x) FROM a ORDER BY id";
const C_SOURCE: &str = "SELECT CONCAT_WS('|', id, v) FROM c ORDER BY id";

/// `sql` in a session that logs each ALTER TABLE in two phases (MariaDB 10.8+).
fn two_phase(sql: &str) -> String {
    format!("SET SESSION binlog_alter_two_phase = 1; {sql}")
}

/// An ALTER logged in two phases and rolled back (it failed after its START ALTER was logged)
/// is not acted on: a rolled-back `ALTER TABLE a ..., RENAME TO b` (b selected) neither stops
/// the task nor warns, and the changes after it are applied. Before, the START ALTER was taken
/// as applied: the task stopped, saying `a` was renamed to `b`, on every run.
#[test]
fn a_rolled_back_two_phase_alter_is_not_acted_on() {
    let Some(task) = Task::new("cdc_my_2p_rollback", TWO_PHASE) else {
        return;
    };
    task.ok(&[]);
    for alter in [
        "ALTER TABLE a ADD COLUMN n INT, RENAME TO b, ADD UNIQUE (x)",
        "ALTER TABLE a ADD COLUMN g INT AS (id * 2) STORED, ADD UNIQUE (x)",
    ] {
        let error = task.source.sql(&two_phase(alter)).unwrap_err().to_string();
        assert!(error.contains("Duplicate entry"), "{alter}: {error}");
    }
    task.source
        .sql("INSERT INTO a VALUES (3, 3); UPDATE a SET x = 5 WHERE id = 2; UPDATE c SET v = 'c2b' WHERE id = 2;")
        .unwrap();
    let stderr = task.run(&[]);
    assert!(!stderr.contains("renamed"), "{stderr}");
    let (source, target) = task.rows(
        A_SOURCE,
        &format!(
            "SELECT concat_ws('|', id, x) FROM {} ORDER BY id",
            task.target_table("a")
        ),
    );
    assert_eq!(source, "1|1\n2|5\n3|3");
    assert_eq!(target, source);
    let (source, target) = task.rows(
        C_SOURCE,
        &format!(
            "SELECT concat_ws('|', id, v) FROM {} ORDER BY id",
            task.target_table("c")
        ),
    );
    assert_eq!(target, source);
    let db = task.source.name();
    let columns = format!(
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
          WHERE table_schema = '{db}' AND table_name = 'a'"
    );
    assert_eq!(one(&task.target, &columns), "id,x");
}

/// An ALTER logged in two phases and committed is acted on once, at its COMMIT ALTER: a
/// captured table renamed out of the selection by `ALTER TABLE a ADD ..., RENAME TO gone` is
/// warned about once (before: twice, for its START ALTER and its COMMIT ALTER); a column added
/// reaches the target; a generated column added to a table with rows still stops the task.
#[test]
fn a_committed_two_phase_alter_is_acted_on_once() {
    let Some(task) = Task::new("cdc_my_2p_commit", TWO_PHASE) else {
        return;
    };
    let mapping = selecting_all_but(&task.staging, &["gone"]);
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    task.ok(&mapping);
    task.source
        .sql(&two_phase(
            "ALTER TABLE a ADD COLUMN n INT DEFAULT 7, RENAME TO gone;
             ALTER TABLE c ADD COLUMN w INT DEFAULT 3;
             UPDATE gone SET x = 9 WHERE id = 1;
             INSERT INTO c VALUES (3, 'c3', 4);",
        ))
        .unwrap();
    let stderr = task.run(&mapping);
    let warning = "a captured table was renamed to a table the task does not select";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    // The target's `a` keeps its rows and gets no more changes.
    let a_target = format!(
        "SELECT string_agg(concat_ws('|', id, x), ',' ORDER BY id) FROM {}",
        task.target_table("a")
    );
    assert_eq!(one(&task.target, &a_target), "1|1,2|1");
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, v, w) FROM c ORDER BY id",
        &format!(
            "SELECT concat_ws('|', id, v, w) FROM {} ORDER BY id",
            task.target_table("c")
        ),
    );
    assert_eq!(source, "1|c1|3\n2|c2|3\n3|c3|4");
    assert_eq!(target, source);

    task.source
        .sql(&two_phase(
            "ALTER TABLE c ADD COLUMN g INT AS (id * 2) STORED;",
        ))
        .unwrap();
    let db = task.source.name().to_string();
    let stderr = task.refused(&mapping);
    assert_says(
        &stderr,
        &[
            &format!("column g was added to {db}.c as a generated column (`id` * 2)"),
            "--restart",
        ],
    );
}

/// Columns renamed by `CHANGE` (to a type of another kind: MariaDB converts the values, without
/// row events) and `RENAME COLUMN`. The TableMap after them shows a column gone and another in
/// its place; the QUERY event says it is a rename, so the target column is renamed, with its
/// values: `RENAME COLUMN` goes on without a stop, while `CHANGE a b INT` of a VARCHAR then stops
/// with the `ALTER COLUMN ... TYPE ... USING` that converts the renamed column, and after it every
/// row is as in the source. A column dropped and another of another kind added in its place is
/// still applied as a drop and an add; a swap of two names stops the task until `--restart`.
/// Before, each rename stopped the task with the `RENAME COLUMN` to run on the target, and the
/// type change named no `USING`, without which PostgreSQL refuses to make a VARCHAR an integer.
#[test]
fn renamed_columns_are_renamed_in_the_target() {
    let Some(task) = Task::new(
        "cdc_my_colren",
        "CREATE TABLE r (id INT PRIMARY KEY, a VARCHAR(10), n INT, q INT) ENGINE=InnoDB;
         INSERT INTO r VALUES (1, '11', 1, 1), (2, '22', 2, 2), (3, '33', 3, 3);",
    ) else {
        return;
    };
    // As the messages name it (the names are in lower case).
    let r = format!("{}.r", task.source.name());
    task.ok(&[]);

    task.source
        .sql("ALTER TABLE r CHANGE a b INT; UPDATE r SET n = 10 WHERE id = 1;")
        .unwrap();
    let retype = format!("ALTER TABLE {r} ALTER COLUMN b TYPE integer USING b::integer");
    let stderr = task.refused(&[]);
    assert!(
        stderr.contains("column b changed type") && stderr.contains(&retype),
        "{stderr}"
    );
    assert!(!stderr.contains("seems renamed"), "{stderr}");
    let kept = task
        .target
        .sql(&format!("SELECT string_agg(b, ',' ORDER BY id) FROM {r}"));
    assert_eq!(
        kept.unwrap().trim_end(),
        "11,22,33",
        "renamed, with its values"
    );
    task.target.sql(&retype).unwrap();
    task.ok(&[]);
    let columns = |columns: &str| {
        task.rows(
            &format!("SELECT CONCAT_WS('|', {columns}) FROM r ORDER BY id"),
            &format!("SELECT concat_ws('|', {columns}) FROM {r} ORDER BY id"),
        )
    };
    let (source, target) = columns("id, b, n, q");
    assert_eq!(target, source);
    assert_eq!(target, "1|11|10|1\n2|22|2|2\n3|33|3|3");

    task.source
        .sql("ALTER TABLE r RENAME COLUMN q TO q2; UPDATE r SET n = 20 WHERE id = 2;")
        .unwrap();
    task.ok(&[]);
    let (source, target) = columns("id, b, n, q2");
    assert_eq!(target, source);
    assert_eq!(target, "1|11|10|1\n2|22|20|2\n3|33|3|3");

    // A drop and an add in the dropped column's place: no rename.
    task.source
        .sql("ALTER TABLE r DROP COLUMN q2, ADD COLUMN d DATE DEFAULT '2024-01-02'; UPDATE r SET n = 30 WHERE id = 3;")
        .unwrap();
    task.ok(&[]);
    let (source, target) = columns("id, b, n, d");
    assert_eq!(target, source);
    assert_eq!(
        target,
        "1|11|10|2024-01-02\n2|22|20|2024-01-02\n3|33|30|2024-01-02"
    );

    // Two names swapped: which values went where is not for the target to guess.
    task.source
        .sql("ALTER TABLE r CHANGE b n INT, CHANGE n b INT; UPDATE r SET d = NULL WHERE id = 1;")
        .unwrap();
    let stderr = task.refused(&[]);
    assert!(
        stderr.contains("renamed column b of captured table")
            && stderr.contains("the name of another of its columns")
            && stderr.contains("--restart"),
        "{stderr}"
    );
    task.ok(&["--restart"]);
    let (source, target) = columns("id, b, n, d");
    assert_eq!(target, source);
    assert_eq!(target, "1|10|11\n2|20|22|2024-01-02\n3|30|33|2024-01-02");
}

/// `CHANGE a b VARCHAR(10)` (the same type) and `RENAME COLUMN` of a captured table while the
/// task is stopped: the next run renames the target columns, with their values, and goes on (a
/// run under `--schema-changes stop` stops naming the renames, and makes none). A run over the
/// same binlog range again (the checkpoint and the recorded definitions as they were before the
/// `ALTER`, as after a crash between the target's rename and the checkpoint) meets the renames
/// again, finds the target renamed already and goes on too. Before, each rename stopped the task
/// with the `RENAME COLUMN` to run on the target.
#[test]
fn same_type_renames_are_applied_and_replayed_harmlessly() {
    let Some(task) = Task::new(
        "cdc_my_renapply",
        "CREATE TABLE ra (id INT PRIMARY KEY, a VARCHAR(10), n INT, q INT) ENGINE=InnoDB;
         INSERT INTO ra VALUES (1, 'x1', 1, 1), (2, 'x2', 2, 2), (3, NULL, 3, 3);",
    ) else {
        return;
    };
    let ra = format!("{}.ra", task.source.name());
    task.ok(&[]);
    keep_state(&task);
    task.source
        .sql(
            "ALTER TABLE ra CHANGE a b VARCHAR(10), RENAME COLUMN q TO q2;
             UPDATE ra SET b = 'y2', n = 20 WHERE id = 2; INSERT INTO ra VALUES (4, 'x4', 4, 4);",
        )
        .unwrap();
    let rows = (
        "SELECT CONCAT_WS('|', id, IFNULL(b, '-'), n, q2) FROM ra ORDER BY id",
        format!("SELECT concat_ws('|', id, coalesce(b, '-'), n, q2) FROM {ra} ORDER BY id"),
    );
    // Under `--schema-changes stop`, a rename is a change like another: nothing is made.
    let stderr = task.refused(&["--schema-changes", "stop"]);
    assert_says(
        &stderr,
        &[
            "columns renamed in the source: a to b, q to q2",
            "policy is stop",
        ],
    );
    let (_, target) = task.rows("SELECT 1", &format!("SELECT string_agg(a, ',') FROM {ra}"));
    assert_eq!(target, "x1,x2");
    let stderr = task.run(&[]);
    assert!(!stderr.contains("renamed"), "{stderr}");
    let (source, target) = task.rows(rows.0, &rows.1);
    assert_eq!(target, source);
    assert_eq!(target, "1|x1|1|1\n2|y2|20|2\n3|-|3|3\n4|x4|4|4");

    set_state_back(&task);
    // Set back by the replay of the update after the ALTER, which the replay reads past.
    task.target
        .sql(&format!("UPDATE {ra} SET n = 99 WHERE id = 2"))
        .unwrap();
    task.source
        .sql("UPDATE ra SET q2 = 30 WHERE id = 3;")
        .unwrap();
    let stderr = task.run(&[]);
    assert!(!stderr.contains("renamed"), "{stderr}");
    let (source, target) = task.rows(rows.0, &rows.1);
    assert_eq!(target, source);
    assert_eq!(target, "1|x1|1|1\n2|y2|20|2\n3|-|3|30\n4|x4|4|4");
}

/// A rename that changes only the case of a column's name (`RENAME COLUMN n TO N`, and of a
/// key column), met after a change of the table in the same run, names the same target column,
/// which the target stores in lower case: the task goes on. Before, it stopped asking for `RENAME COLUMN n TO n`, which PostgreSQL refuses (and
/// for the key column, to reload the table).
#[test]
fn a_rename_of_only_the_case_goes_on() {
    let Some(task) = Task::new(
        "cdc_my_rencase",
        "CREATE TABLE rc (id INT PRIMARY KEY, n INT) ENGINE=InnoDB;
         INSERT INTO rc VALUES (1, 1), (2, 2);",
    ) else {
        return;
    };
    let rc = format!("{}.rc", task.source.name());
    task.ok(&[]);
    task.source
        .sql(
            "INSERT INTO rc VALUES (3, 3);
             ALTER TABLE rc RENAME COLUMN n TO N, RENAME COLUMN id TO ID;
             UPDATE rc SET N = 20 WHERE ID = 2; INSERT INTO rc VALUES (4, 4);",
        )
        .unwrap();
    let stderr = task.run(&[]);
    assert!(!stderr.contains("renamed"), "{stderr}");
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', ID, N) FROM rc ORDER BY ID",
        &format!("SELECT concat_ws('|', id, n) FROM {rc} ORDER BY id"),
    );
    assert_eq!(target, source);
    assert_eq!(target, "1|1\n2|20\n3|3\n4|4");
}

/// Keeps the task's state (checkpoint, recorded definitions) for [`set_state_back`].
fn keep_state(task: &Task) {
    task.target
        .sql(
            "CREATE TABLE public.cp AS SELECT * FROM migrate.migrate_cdc_checkpoint;
             CREATE TABLE public.def AS SELECT * FROM migrate.migrate_cdc_table;",
        )
        .unwrap();
}

/// Sets the task's state back to what [`keep_state`] kept: the next run reads the binlog from
/// there again, with the definitions of then, as after a crash before the checkpoint.
fn set_state_back(task: &Task) {
    task.target
        .sql(
            "DELETE FROM migrate.migrate_cdc_checkpoint;
             INSERT INTO migrate.migrate_cdc_checkpoint SELECT * FROM public.cp;
             DELETE FROM migrate.migrate_cdc_table;
             INSERT INTO migrate.migrate_cdc_table SELECT * FROM public.def;",
        )
        .unwrap();
}

/// A primary-key column renamed (`RENAME COLUMN id TO id2` of a key `(id, v)`): the target's
/// column is renamed too, and the changes after it (an update, a change of the key, a delete,
/// an insert) are applied by the key under its new name; a replay of the same binlog range
/// finds the target renamed and goes on. Before, the task stopped as for a dropped key column
/// ("reload the table").
#[test]
fn a_renamed_key_column_is_renamed_in_the_target() {
    let Some(task) = Task::new(
        "cdc_my_renkey",
        "CREATE TABLE rk (id INT, v INT, n INT, PRIMARY KEY (id, v)) ENGINE=InnoDB;
         INSERT INTO rk VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3);",
    ) else {
        return;
    };
    let rk = format!("{}.rk", task.source.name());
    task.ok(&[]);
    keep_state(&task);
    task.source
        .sql(
            "ALTER TABLE rk RENAME COLUMN id TO id2; UPDATE rk SET n = 20 WHERE id2 = 2;
             UPDATE rk SET id2 = 10 WHERE id2 = 1; DELETE FROM rk WHERE id2 = 3;
             INSERT INTO rk VALUES (4, 4, 4);",
        )
        .unwrap();
    let rows = (
        "SELECT CONCAT_WS('|', id2, v, n) FROM rk ORDER BY id2",
        format!("SELECT concat_ws('|', id2, v, n) FROM {rk} ORDER BY id2"),
    );
    task.ok(&[]);
    let (source, target) = task.rows(rows.0, &rows.1);
    assert_eq!(target, source);
    assert_eq!(target, "2|2|20\n4|4|4\n10|1|1");

    set_state_back(&task);
    task.source
        .sql("UPDATE rk SET n = 40 WHERE id2 = 4;")
        .unwrap();
    task.ok(&[]);
    let (source, target) = task.rows(rows.0, &rows.1);
    assert_eq!(target, source);
    assert_eq!(target, "2|2|20\n4|4|40\n10|1|1");
}

/// A column a `rename` rule of the task names (`a` to `x`), renamed on the source (`RENAME
/// COLUMN a TO b`): whether the target column should become `b` or keep the rule's name (with a
/// rule for `b`) is the user's call, so the task stops as before with the `RENAME COLUMN` to run,
/// and goes on after it.
#[test]
fn a_renamed_column_a_rename_rule_names_stops_the_task() {
    let Some(task) = Task::new(
        "cdc_my_renrule",
        "CREATE TABLE rn (id INT PRIMARY KEY, a VARCHAR(10), n INT) ENGINE=InnoDB;
         INSERT INTO rn VALUES (1, 'x1', 1), (2, 'x2', 2);",
    ) else {
        return;
    };
    let rn = format!("{}.rn", task.source.name());
    let mapping = task.mapping(&[&format!(
        r#"{{"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
            "rule-action": "rename", "rule-target": "column", "value": "x",
            "object-locator": {{"schema-name": "{}", "table-name": "rn", "column-name": "a"}}}}"#,
        task.source.name()
    )]);
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    task.ok(&mapping);
    task.source
        .sql("ALTER TABLE rn RENAME COLUMN a TO b; UPDATE rn SET n = 10 WHERE id = 1;")
        .unwrap();
    let rename = format!("ALTER TABLE {rn} RENAME COLUMN x TO b");
    let stderr = task.refused(&mapping);
    assert!(
        stderr.contains("column x seems renamed to b") && stderr.contains(&rename),
        "{stderr}"
    );
    task.target.sql(&rename).unwrap();
    task.ok(&mapping);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, b, n) FROM rn ORDER BY id",
        &format!("SELECT concat_ws('|', id, b, n) FROM {rn} ORDER BY id"),
    );
    assert_eq!(target, source);
    assert_eq!(target, "1|x1|10\n2|x2|2");
}

/// A rename the `ALTER TABLE` hides after a comment holding a quote (`/* don't */`): the clauses
/// are still told apart, so the target column is renamed, with its values, instead of dropped
/// and added empty (then the task stops with the change of its type to make). The statement is
/// prepared, as the client strips comments.
#[test]
fn a_rename_after_a_comment_with_a_quote_is_a_rename() {
    let Some(task) = Task::new(
        "cdc_my_rencomment",
        "CREATE TABLE rc (id INT PRIMARY KEY, a VARCHAR(10), n INT) ENGINE=InnoDB;
         INSERT INTO rc VALUES (1, '11', 1), (2, '22', 2);",
    ) else {
        return;
    };
    let rc = format!("{}.rc", task.source.name());
    task.ok(&[]);
    task.source
        .sql(
            "PREPARE s FROM 'ALTER TABLE rc ADD x INT /* don''t */, CHANGE a b INT'; EXECUTE s;
             UPDATE rc SET n = 10 WHERE id = 1;",
        )
        .unwrap();
    let retype = format!("ALTER TABLE {rc} ALTER COLUMN b TYPE integer USING b::integer");
    let stderr = task.refused(&[]);
    assert!(stderr.contains(&retype), "{stderr}");
    task.target.sql(&retype).unwrap();
    task.ok(&[]);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, b, n, x) FROM rc ORDER BY id",
        &format!("SELECT concat_ws('|', id, b, n, x) FROM {rc} ORDER BY id"),
    );
    assert_eq!(target, source);
    assert_eq!(target, "1|11|10\n2|22|2");
}

/// A column a remove-column rule leaves out, renamed with a change of type (`CHANGE a b INT`):
/// the target never had it, so nothing is announced as renamed, and the new column is added
/// with its own type, without a stop.
#[test]
fn a_removed_column_renamed_is_added_as_a_new_column() {
    let Some(task) = Task::new(
        "cdc_my_renrm",
        "CREATE TABLE rr (id INT PRIMARY KEY, a VARCHAR(10), n INT) ENGINE=InnoDB;
         INSERT INTO rr VALUES (1, '11', 1), (2, '22', 2);",
    ) else {
        return;
    };
    let rr = format!("{}.rr", task.source.name());
    let mapping = task.mapping(&[&format!(
        r#"{{"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
            "rule-action": "remove-column", "rule-target": "column",
            "object-locator": {{"schema-name": "{}", "table-name": "rr", "column-name": "a"}}}}"#,
        task.source.name()
    )]);
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    task.ok(&mapping);
    task.source
        .sql("ALTER TABLE rr CHANGE a b INT; INSERT INTO rr VALUES (3, 33, 3);")
        .unwrap();
    task.ok(&mapping);
    let (_, target) = task.rows(
        "SELECT 1",
        &format!(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
              WHERE attrelid = '{rr}'::regclass AND attname = 'b'"
        ),
    );
    assert_eq!(target, "integer");
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, n) FROM rr ORDER BY id",
        &format!("SELECT concat_ws('|', id, n) FROM {rr} ORDER BY id"),
    );
    assert_eq!(target, source);
    let (_, target) = task.rows("SELECT 1", &format!("SELECT b FROM {rr} WHERE id = 3"));
    assert_eq!(target, "33");
}

/// A generated column renamed (`RENAME COLUMN g TO g2`, the same expression): its values are
/// the same, so it is a rename like any other (the target column is renamed, with its values),
/// not a generated column added to rows that exist.
#[test]
fn a_generated_column_renamed_is_a_rename() {
    let Some(task) = Task::new(
        "cdc_my_rengen",
        "CREATE TABLE rg (id INT PRIMARY KEY, x INT, g INT AS (x * 2) STORED) ENGINE=InnoDB;
         INSERT INTO rg (id, x) VALUES (1, 1), (2, 2);",
    ) else {
        return;
    };
    let rg = format!("{}.rg", task.source.name());
    task.ok(&[]);
    task.source
        .sql("ALTER TABLE rg RENAME COLUMN g TO g2; UPDATE rg SET x = 10 WHERE id = 1;")
        .unwrap();
    task.ok(&[]);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, x, g2) FROM rg ORDER BY id",
        &format!("SELECT concat_ws('|', id, x, g2) FROM {rg} ORDER BY id"),
    );
    assert_eq!(target, source);
    assert_eq!(target, "1|10|20\n2|2|4");
}

/// Columns renamed inside an executable comment, as tools and dump scripts write DDL (`ALTER
/// TABLE t /*M!100500 CHANGE a b INT */`, a whole `/*!50100 ALTER TABLE ... */`): the server runs
/// the comment's text, so each is a rename exactly as the plain `CHANGE`: the target column is
/// renamed with its values (then the task stops with the change of type to make), and every row
/// is as in the source. Before, the comment was skipped as a comment: the rename was applied as
/// a drop and an add, and the column's values were lost without a word.
#[test]
fn a_rename_inside_an_executable_comment_is_a_rename() {
    let Some(task) = Task::new(
        "cdc_my_renexec",
        "CREATE TABLE re (id INT PRIMARY KEY, a VARCHAR(10), n INT) ENGINE=InnoDB;
         INSERT INTO re VALUES (1, '11', 1), (2, '22', 2);",
    ) else {
        return;
    };
    let re = format!("{}.re", task.source.name());
    task.ok(&[]);
    task.source
        .sql("ALTER TABLE re /*M!100500 CHANGE a b INT */; UPDATE re SET n = 10 WHERE id = 1;")
        .unwrap();
    let retype = format!("ALTER TABLE {re} ALTER COLUMN b TYPE integer USING b::integer");
    let stderr = task.refused(&[]);
    assert!(stderr.contains(&retype), "{stderr}");
    let kept = task
        .target
        .sql(&format!("SELECT string_agg(b, ',' ORDER BY id) FROM {re}"));
    assert_eq!(
        kept.unwrap().trim_end(),
        "11,22",
        "renamed, with its values"
    );
    task.target.sql(&retype).unwrap();
    task.ok(&[]);

    // The whole statement in a comment, as a dump writes it.
    task.source
        .sql("/*!50100 ALTER TABLE re CHANGE n m INT */; UPDATE re SET b = 20 WHERE id = 2;")
        .unwrap();
    task.ok(&[]);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, b, m) FROM re ORDER BY id",
        &format!("SELECT concat_ws('|', id, b, m) FROM {re} ORDER BY id"),
    );
    assert_eq!(target, source);
    assert_eq!(target, "1|11|10\n2|20|2");
}

/// A captured table renamed inside an executable comment (`/*!50100 RENAME TABLE a TO a2 */`)
/// to a name the task selects stops the task like the plain `RENAME TABLE`, quoting the
/// statement; the target's `a` keeps the rows. Before, the rename was not seen: `a2` was
/// captured as a new table holding only the rows changed after it.
#[test]
fn a_table_renamed_inside_an_executable_comment_stops_the_task() {
    let Some(task) = Task::new(
        "cdc_my_tabexec",
        "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;
         INSERT INTO a VALUES (1, 'a1'), (2, 'a2');",
    ) else {
        return;
    };
    let db = task.source.name().to_string();
    task.ok(&[]);
    let statement = "/*!50100 RENAME TABLE a TO a2 */";
    task.source
        .sql(&format!(
            "{statement}; UPDATE a2 SET v = 'changed' WHERE id = 1;"
        ))
        .unwrap();
    let stderr = task.refused(&[]);
    assert_says(
        &stderr,
        &[
            &format!(
                "captured table {db}.a was renamed to {db}.a2 (`{statement}`), which the task selects"
            ),
            "--restart",
        ],
    );
    let (_, target) = task.rows(
        "SELECT 1",
        &format!(
            "SELECT string_agg(id || '|' || v, ',' ORDER BY id) FROM {}",
            task.target_table("a")
        ),
    );
    assert_eq!(target, "1|a1,2|a2");
}

/// A session of the source adds `mode` to its `sql_mode`, then runs `alter` (which renames column
/// `a` of table `rm` to `b INT`) and an update: the rename is read as the server read the
/// statement, so the target column is renamed, with its values, then the task stops with the
/// change of type to make; made, every row is as in the source.
fn a_rename_under(mode: &str, alter: &str) {
    let Some(task) = Task::new(
        &format!("cdc_my_ren{}", mode.to_ascii_lowercase().replace('_', "")),
        "CREATE TABLE rm (id INT PRIMARY KEY, c VARCHAR(10), a VARCHAR(10), n INT) ENGINE=InnoDB;
         INSERT INTO rm VALUES (1, 'c1', '11', 1), (2, 'c2', '22', 2);",
    ) else {
        return;
    };
    let rm = format!("{}.rm", task.source.name());
    task.ok(&[]);
    task.source
        .sql(&format!(
            "SET SESSION sql_mode = CONCAT(@@sql_mode, ',{mode}');\n{alter};\n\
             UPDATE rm SET n = 10 WHERE id = 1;"
        ))
        .unwrap();
    let retype = format!("ALTER TABLE {rm} ALTER COLUMN b TYPE integer USING b::integer");
    let stderr = task.refused(&[]);
    assert!(stderr.contains(&retype), "{stderr}");
    let kept = task
        .target
        .sql(&format!("SELECT string_agg(b, ',' ORDER BY id) FROM {rm}"));
    assert_eq!(
        kept.unwrap().trim_end(),
        "11,22",
        "renamed, with its values"
    );
    task.target.sql(&retype).unwrap();
    task.ok(&[]);
    let (source, target) = task.rows(
        "SELECT CONCAT_WS('|', id, c, b, n) FROM rm ORDER BY id",
        &format!("SELECT concat_ws('|', id, c, b, n) FROM {rm} ORDER BY id"),
    );
    assert_eq!(target, source);
    assert_eq!(target, "1|c1|11|10\n2|c2|22|2");
}

/// An `ALTER TABLE` run under `NO_BACKSLASH_ESCAPES` with a string ending in a backslash
/// (`COMMENT 'dir\'`) before a `CHANGE a b INT`: a rename (see [`a_rename_under`]). Before, the
/// backslash was read as escaping the closing quote, the string ran on over the `CHANGE`, and
/// the rename was applied as a drop and an add: the column's values were lost, with exit code 0.
#[test]
fn a_rename_under_no_backslash_escapes_is_a_rename() {
    a_rename_under(
        "NO_BACKSLASH_ESCAPES",
        r"ALTER TABLE rm MODIFY c VARCHAR(10) COMMENT 'dir\', CHANGE a b INT",
    );
}

/// An `ALTER TABLE` run under `ANSI_QUOTES` with a `"quoted"` identifier ending in a backslash
/// before a `CHANGE "a" "b" INT`: a rename (see [`a_rename_under`]). Before, the backslash was
/// read as escaping the closing quote, as in a string, and the rename was lost the same way.
#[test]
fn a_rename_under_ansi_quotes_is_a_rename() {
    a_rename_under(
        "ANSI_QUOTES",
        r#"ALTER TABLE rm ADD INDEX "i\" (n), CHANGE "a" "b" INT"#,
    );
}
