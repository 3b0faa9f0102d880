//! `define-primary-key` with `"origin": "primary-key"` under `--cdc`, on a source table whose
//! only key is a UNIQUE one: a captured change names its row only by the source's primary key
//! (PostgreSQL sends no old key at all for a table with REPLICA IDENTITY DEFAULT and no primary
//! key), so the task is refused before anything is created or loaded, with an error naming the
//! table and the rule and saying what to do; with that primary key on the source, the same
//! mapping captures.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{pg_table_exists, psql, refused_cdc, start_cdc, stop, wait_for_target};
use common::{mariadb_task, pg_task, table_mapping};
use std::path::Path;

/// Writes a table mapping beside `staging` that selects every table of `schema` and makes
/// `code` the primary key of its table `u` (rule-id 2); its `--table-mappings` arguments.
fn code_as_primary_key(staging: &Path, schema: &str) -> [String; 2] {
    table_mapping(
        staging,
        &format!(
            r#"{{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                 "object-locator": {{"schema-name": "{schema}", "table-name": "%"}},
                 "rule-action": "include"}},
               {{"rule-type": "transformation", "rule-id": "2", "rule-name": "code-key",
                 "rule-action": "define-primary-key", "rule-target": "table",
                 "object-locator": {{"schema-name": "{schema}", "table-name": "u"}},
                 "primary-key-def": {{"name": "u_pk", "origin": "primary-key",
                                      "columns": ["code"]}}}}"#
        ),
    )
}

/// The refusal's words, for source table `table` (as the task names it).
fn assert_refused(stderr: &str, table: &str) {
    for words in [
        format!(
            "rule-id 2 (\"code-key\") (define-primary-key) makes code the primary key of {table}, but a change captured from {table} names its row only by the source table's primary key (it has none)"
        ),
        "REPLICA IDENTITY FULL or USING INDEX) does not change that".to_string(),
        format!("give {table} that primary key (ALTER TABLE {table} ADD PRIMARY KEY (code))"),
        "or replicate the table without --cdc".to_string(),
    ] {
        assert!(stderr.contains(&words), "{words:?} not in:\n{stderr}");
    }
}

#[test]
fn a_key_defined_on_a_unique_key_is_refused_up_front_from_postgres() {
    let Some((source, target, staging)) = pg_task("defkey_pg") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE u (code int NOT NULL UNIQUE, v text);
             INSERT INTO u VALUES (1, 'a'), (2, 'b');",
        )
        .unwrap();
    let mapping = code_as_primary_key(&staging, "public");
    let mut args: Vec<&str> = mapping.iter().map(String::as_str).collect();
    args.extend(["--stop-when-idle", "2"]);
    // Whatever the replica identity: the WAL then holds the old key (FULL: the whole old row),
    // but a change still reaches the target by the source's primary key only.
    for identity in ["DEFAULT", "FULL", "USING INDEX u_code_key"] {
        psql(
            source.url(),
            &format!("ALTER TABLE u REPLICA IDENTITY {identity}"),
        )
        .unwrap();
        let stderr = refused_cdc(source.url(), target.url(), &staging, "defkey", &args);
        assert_refused(&stderr, "public.u");
        assert!(!pg_table_exists(target.url(), "public", "u"), "{stderr}");
        assert_eq!(
            psql(
                source.url(),
                "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"
            )
            .unwrap(),
            "0",
            "no slot is created"
        );
    }

    // With the primary key the error advises, the same mapping captures.
    source.sql("ALTER TABLE u ADD PRIMARY KEY (code)").unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "defkey",
        false,
        &mapping.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM u", "2");
    source
        .sql("UPDATE u SET v = 'x' WHERE code = 1; DELETE FROM u WHERE code = 2;")
        .unwrap();
    wait_for_target(
        &mut cdc,
        target.url(),
        "SELECT string_agg(code || '|' || v, ',' ORDER BY code) FROM u",
        "1|x",
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
    let _ = std::fs::remove_file(&mapping[1]);
}

#[test]
fn a_key_defined_on_a_unique_key_is_refused_up_front_from_mariadb() {
    let Some((source, target, staging)) = mariadb_task("defkey_my") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE u (code int NOT NULL UNIQUE, v text);
             INSERT INTO u VALUES (1, 'a'), (2, 'b');",
        )
        .unwrap();
    let mapping = code_as_primary_key(&staging, source.name());
    let mut args: Vec<&str> = mapping.iter().map(String::as_str).collect();
    // The binlog's full row image holds the before image of every column, but a change still
    // reaches the target by the source's primary key only.
    args.extend(["--stop-when-idle", "2"]);
    let stderr = refused_cdc(source.url(), target.url(), &staging, "defkey", &args);
    assert_refused(&stderr, &format!("{}.u", source.name()));
    assert!(
        !pg_table_exists(target.url(), source.name(), "u"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&mapping[1]);
}
