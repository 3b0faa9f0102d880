//! A change-data-type rule to a narrower type than some source values need: the load fails on
//! the row that does not fit, naming it. PostgreSQL's CAST to varchar(n) cut the string, the cut
//! value was loaded, and validation, which compares the cast values, passed; MySQL's CAST to
//! DECIMAL(p,s) clamps the value with a warning, which stopped the read without naming the row.

mod common;

use common::{mariadb_task, one, pg_task, replicate, table, table_mapping};
use serde_json::Value;
use std::path::Path;

/// The `--table-mappings` arguments of a mapping that selects `schema.t` and changes the type
/// of its column `v` to `data_type`.
fn mapping(staging: &Path, schema: &str, data_type: &str) -> [String; 2] {
    table_mapping(
        staging,
        &format!(
            r#"{{"rule-type": "selection", "rule-id": "1", "rule-name": "t",
                 "object-locator": {{"schema-name": "{schema}", "table-name": "t"}},
                 "rule-action": "include"}},
               {{"rule-type": "transformation", "rule-id": "2", "rule-name": "narrow",
                 "rule-target": "column",
                 "object-locator": {{"schema-name": "{schema}", "table-name": "t", "column-name": "v"}},
                 "rule-action": "change-data-type", "data-type": {data_type}}}"#
        ),
    )
}

/// Asserts that table `name` failed with an error holding each of `words`.
fn failed_with(summary: &Value, name: &str, words: &[&str]) {
    let t = table(summary, name);
    assert_eq!(t["status"], "failed", "{t:#}");
    let error = t["error"].as_str().expect("an error");
    for words in words {
        assert!(error.contains(words), "{words:?} not in: {error}");
    }
}

#[test]
fn a_postgres_string_narrower_than_a_value_fails_on_its_row() {
    let Some((source, target, staging)) = pg_task("narrow_pg") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, v text);
             INSERT INTO t SELECT g, 'abc' FROM generate_series(1, 10) g;
             UPDATE t SET v = 'abcdef' WHERE id = 7;",
        )
        .unwrap();
    let rule = mapping(&staging, "public", r#"{"type": "string", "length": 3}"#);
    let (code, summary) = replicate(
        source.url(),
        target.url(),
        &staging,
        &["--name", "narrow", &rule[0], &rule[1]],
    );
    assert_eq!(code, 1, "{summary:#}");
    failed_with(
        &summary,
        "public.t",
        &[
            "row id=7 ",
            "column v (staged value: abcdef)",
            "value too long for type character varying(3)",
            "correct the row in the source",
        ],
    );
    assert_eq!(one(&target, "SELECT count(*)::text FROM t"), "0");
    let _ = std::fs::remove_dir_all(&staging);
}

/// A key holding a `timestamptz` (which Arrow formats only by offset) or an infinity names the
/// refused row like any other key; it was "the table has no primary key to name it".
#[test]
fn a_refused_row_keyed_by_a_timestamp_with_time_zone_is_named_by_its_key() {
    let Some((source, target, staging)) = pg_task("narrow_pg_tstz") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE t (id int, at timestamptz, v text, PRIMARY KEY (id, at));
             INSERT INTO t SELECT g, '2024-01-01 10:00+00', 'abc' FROM generate_series(1, 10) g;
             INSERT INTO t VALUES (7, 'infinity', 'abc');
             UPDATE t SET v = 'abcdef' WHERE id IN (3, 7) AND at = '2024-01-01 10:00+00';",
        )
        .unwrap();
    let rule = mapping(&staging, "public", r#"{"type": "string", "length": 3}"#);
    let (code, summary) = replicate(
        source.url(),
        target.url(),
        &staging,
        &["--name", "narrow", &rule[0], &rule[1]],
    );
    assert_eq!(code, 1, "{summary:#}");
    failed_with(
        &summary,
        "public.t",
        &[
            "row id=3, at=2024-01-01T10:00:00Z (",
            "column v (staged value: abcdef)",
        ],
    );
    source
        .sql("UPDATE t SET v = 'abc'; UPDATE t SET v = 'abcdef' WHERE at = 'infinity';")
        .unwrap();
    let (code, summary) = replicate(
        source.url(),
        target.url(),
        &staging,
        &["--name", "narrow", &rule[0], &rule[1]],
    );
    assert_eq!(code, 1, "{summary:#}");
    failed_with(&summary, "public.t", &["row id=7, at=infinity ("]);
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn a_mysql_decimal_narrower_than_a_value_fails_on_its_row() {
    let Some((source, target, staging)) = mariadb_task("narrow_my") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, v decimal(10,2));
             INSERT INTO t SELECT seq, 12.5 FROM seq_1_to_10;
             UPDATE t SET v = 12345.6 WHERE id = 7;",
        )
        .unwrap();
    let schema = source.name().to_string();
    let rule = mapping(
        &staging,
        &schema,
        r#"{"type": "numeric", "precision": 4, "scale": 1}"#,
    );
    let (code, summary) = replicate(
        source.url(),
        target.url(),
        &staging,
        &["--name", "narrow", &rule[0], &rule[1]],
    );
    assert_eq!(code, 1, "{summary:#}");
    // The reader meets it first, and names row and column.
    failed_with(
        &summary,
        &format!("{schema}.t"),
        &[
            &format!("{schema}.t.v, row id=7: 12345.6 does not fit decimal(4,1)"),
            "map the column to a decimal of larger precision",
        ],
    );
    assert_eq!(
        one(
            &target,
            &format!("SELECT count(*)::text FROM \"{schema}\".t")
        ),
        "0"
    );
    let _ = std::fs::remove_dir_all(&staging);
}
