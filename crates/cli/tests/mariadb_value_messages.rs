//! What `migrate replicate` from the shared MariaDB into the shared PostgreSQL says about values
//! and types the target can't take as they are: the advice for a date with a zero month or day,
//! a date that does not exist (`2024-02-30`),
//! the row named by its key when a captured change holds a NUL character, and no time-of-day
//! finding for a TIME column a `change-data-type` rule made a string. Each test checks the
//! target's rows with SQL that does not go through migrate.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{start_cdc, stopped_with_error, wait_for_capture};
use common::{mariadb_task, one, replicate, table, table_mapping};
use migrate_testkit::{MariaDbDatabase, PgDatabase};
use serde_json::Value;
use std::path::Path;

/// Runs task `e2e`, which must fail on table `d`: the table's summary and its error.
fn refused_table(source: &MariaDbDatabase, target: &PgDatabase, staging: &Path) -> (Value, String) {
    let (code, summary) = replicate(source.url(), target.url(), staging, &["--name", "e2e"]);
    assert_eq!(code, 1, "{summary:#}");
    let failed = table(&summary, &format!("{}.d", source.name())).clone();
    let error = failed["error"].as_str().unwrap_or_default().to_string();
    (failed, error)
}

/// Runs task `e2e`, which must succeed.
fn loads(source: &MariaDbDatabase, target: &PgDatabase, staging: &Path) {
    let (code, summary) = replicate(source.url(), target.url(), staging, &["--name", "e2e"]);
    assert_eq!(code, 0, "{summary:#}");
}

/// A date with a zero month or day (`2024-00-15`, `2024-03-00`) is not the zero date, so
/// `NULLIF(col, '0000-00-00')` leaves it as it is: the error's advice finds such dates by their
/// month and day, and the UPDATE it gives lets the next run load the table. Before, it advised
/// the zero date's NULLIF.
#[test]
fn a_date_with_a_zero_month_gets_advice_that_finds_it() {
    let Some((source, target, staging)) = mariadb_task("rep_my_zero_month") else {
        return;
    };
    source
        .sql(
            "SET SESSION sql_mode = '';
             CREATE TABLE d (id INT PRIMARY KEY, at DATE);
             INSERT INTO d VALUES (1, '2024-01-02'), (2, '2024-00-15'), (3, '2024-03-00');",
        )
        .unwrap();
    let (failed, error) = refused_table(&source, &target, &staging);
    assert!(
        error.contains("row id=2: the date 2024-00-15 has a zero month or day")
            && error.contains("WHERE MONTH(col) = 0 OR DAYOFMONTH(col) = 0")
            && error.contains("CASE WHEN col LIKE '%-00%' THEN NULL ELSE col END")
            && !error.contains("NULLIF"),
        "{failed:#}"
    );
    source
        .sql("UPDATE d SET at = NULL WHERE MONTH(at) = 0 OR DAYOFMONTH(at) = 0")
        .unwrap();
    loads(&source, &target, &staging);
    let rows = format!(
        "SELECT string_agg(concat_ws('|', id, coalesce(at::text, 'NULL')), ',' ORDER BY id) FROM \"{}\".d",
        source.name()
    );
    assert_eq!(one(&target, &rows), "1|2024-01-02,2|NULL,3|NULL");
    let _ = std::fs::remove_dir_all(&staging);
}

/// A date MariaDB stores under `ALLOW_INVALID_DATES` (`2024-02-30`) does not exist: the full
/// load and a captured change refuse it naming the row, with advice that finds such dates, and
/// the UPDATE it gives lets the next run load the table. Before, it loaded as the next month's
/// date (`2024-03-01`, a DATETIME's too) and only validation saw the row differ.
#[test]
fn a_date_that_does_not_exist_is_refused_with_advice_that_finds_it() {
    let Some((source, target, staging)) = mariadb_task("rep_my_invalid_day") else {
        return;
    };
    source
        .sql(
            "SET SESSION sql_mode = 'ALLOW_INVALID_DATES';
             CREATE TABLE d (id INT PRIMARY KEY, at DATE, ts DATETIME);
             INSERT INTO d VALUES (1, '2024-01-02', '2024-01-02 10:00:00'),
                                  (2, '2024-02-30', '2024-02-28 10:00:00'),
                                  (3, '2023-06-15', '2023-04-31 23:00:00');",
        )
        .unwrap();
    let (failed, error) = refused_table(&source, &target, &staging);
    assert!(
        error.contains("row id=2: the date 2024-02-30 does not exist")
            && error.contains("WHERE DAYOFMONTH(col) > DAYOFMONTH(LAST_DAY(col))"),
        "{failed:#}"
    );
    source
        .sql(
            "UPDATE d SET at = NULL WHERE DAYOFMONTH(at) > DAYOFMONTH(LAST_DAY(at));
             UPDATE d SET ts = NULL WHERE DAYOFMONTH(ts) > DAYOFMONTH(LAST_DAY(ts));",
        )
        .unwrap();
    loads(&source, &target, &staging);
    let rows = format!(
        "SELECT string_agg(concat_ws('|', id, coalesce(at::text, 'NULL'), coalesce(ts::text, 'NULL')), ',' ORDER BY id) FROM \"{}\".d",
        source.name()
    );
    assert_eq!(
        one(&target, &rows),
        "1|2024-01-02|2024-01-02 10:00:00,2|NULL|2024-02-28 10:00:00,3|2023-06-15|NULL"
    );

    let mut cdc = start_cdc(source.url(), target.url(), &staging, "invalid", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "SET SESSION sql_mode = 'ALLOW_INVALID_DATES';
             INSERT INTO d VALUES (4, '2023-02-29', NULL);",
        )
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("row id=4") && error.contains("the date 2023-02-29 does not exist"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// A captured change whose text holds a NUL character, which PostgreSQL text can't store,
/// stops the task naming the row by its key, as a refused chunk of the full load does, and
/// applies nothing of the batch. Before, the row was named only by its place among the
/// batch's changes (`change row 1`).
#[test]
fn a_nul_character_in_a_captured_change_names_the_row_by_its_key() {
    let Some((source, target, staging)) = mariadb_task("cdc_my_nul") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE n (id INT PRIMARY KEY, t TEXT);
             INSERT INTO n VALUES (1, 'one');",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "nul", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql("INSERT INTO n VALUES (13, 'fine'), (14, CONCAT('a', CHAR(0), 'b'));")
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains(
            "row id=14 (change row 2 of the table in this batch), column t: the text contains the NUL character"
        ),
        "{error}"
    );
    let rows = format!(
        "SELECT string_agg(id::text, ',' ORDER BY id) FROM \"{}\".n",
        source.name()
    );
    assert_eq!(one(&target, &rows), "1");
    let _ = std::fs::remove_dir_all(&staging);
}

/// `type.time-range` warns that a TIME column's durations don't fit the target's time of day;
/// once a `change-data-type` rule reads the column as a string, the warning is false and not
/// reported, and a duration arrives as the source prints it. The warning stays for a TIME
/// column the rule does not change. Before, both were reported.
#[test]
fn a_time_column_changed_to_a_string_has_no_time_range_finding() {
    let Some((source, target, staging)) = mariadb_task("rep_my_time_string") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE tm (id INT PRIMARY KEY, d TIME, k TIME);
             INSERT INTO tm VALUES (1, '100:00:00', '12:30:00');",
        )
        .unwrap();
    let db = source.name().to_string();
    let mapping = table_mapping(
        &staging,
        &format!(
            r#"{{"rule-type": "selection", "rule-id": "1", "rule-name": "all",
                "object-locator": {{"schema-name": "{db}", "table-name": "%"}}, "rule-action": "include"}},
               {{"rule-type": "transformation", "rule-id": "2", "rule-name": "d-text",
                "rule-target": "column", "object-locator": {{"schema-name": "{db}", "table-name": "tm",
                "column-name": "d"}}, "rule-action": "change-data-type",
                "data-type": {{"type": "string", "length": 20}}}}"#
        ),
    );
    let (code, summary) = replicate(
        source.url(),
        target.url(),
        &staging,
        &mapping.each_ref().map(String::as_str),
    );
    assert_eq!(code, 0, "{summary:#}");
    let time_range: Vec<&str> = summary["findings"]
        .as_array()
        .expect("the summary lists its findings")
        .iter()
        .filter(|f| f["code"] == "type.time-range")
        .filter_map(|f| f["object"].as_str())
        .collect();
    assert_eq!(time_range, [format!("{db}.tm.k")], "{summary:#}");
    let rows = format!("SELECT concat_ws('|', id, d, k) FROM \"{db}\".tm");
    assert_eq!(one(&target, &rows), "1|100:00:00|12:30:00");
    let _ = std::fs::remove_dir_all(&staging);
    let _ = std::fs::remove_file(staging.with_extension("mapping.json"));
}
