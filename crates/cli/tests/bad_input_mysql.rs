//! Bad input on a MariaDB source, as a careless user gives it: `--cdc-only --from` a binlog
//! position the server has not written (a mistyped file number, offset or GTID) is refused with
//! exit code 2 before anything is stored, saying so and where the valid positions are listed; a
//! run with the right position then captures the changes.

mod common;

use common::{mariadb_task, one};
use migrate_testkit::{MariaDbDatabase, PgDatabase};
use std::path::Path;
use std::process::Output;

/// Exit code and standard error of a run, after checking it did not panic.
fn refused(output: &Output) -> (Option<i32>, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output.status.code(), stderr)
}

/// Table `t` with row 1 in the source and in the target (as a copy taken before `--from`).
fn with_table(source: &MariaDbDatabase, target: &PgDatabase) {
    source
        .sql("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one');")
        .unwrap();
    let schema = source.name();
    target
        .sql(&format!(
            "CREATE SCHEMA \"{schema}\"; CREATE TABLE \"{schema}\".t (id int PRIMARY KEY, v text); INSERT INTO \"{schema}\".t VALUES (1, 'one');"
        ))
        .unwrap();
}

/// The server's current binlog file and offset (`SHOW MASTER STATUS`).
fn master_status(source: &MariaDbDatabase) -> (String, String) {
    let status = source.sql("SHOW MASTER STATUS").unwrap();
    let mut fields = status.split('\t');
    match (fields.next(), fields.next()) {
        (Some(file), Some(offset)) => (file.to_string(), offset.to_string()),
        _ => panic!("no binlog position in {status:?}"),
    }
}

/// `replicate --cdc-only --from from` of task `from` until 2 s without a change.
fn cdc_only(source: &MariaDbDatabase, target: &PgDatabase, staging: &Path, from: &str) -> Output {
    common::cdc_only(source.url(), target.url(), staging, "from", from)
}

/// After a refused `--from`: a change made after `from` (the position the user meant) reaches
/// the target, which then has the source's rows; the refusal stored no checkpoint that would
/// have the run resume from it.
fn captured_from(source: &MariaDbDatabase, target: &PgDatabase, staging: &Path, from: &str) {
    source.sql("INSERT INTO t VALUES (2, 'two')").unwrap();
    let (code, stderr) = refused(&cdc_only(source, target, staging, from));
    assert_eq!(code, Some(0), "{stderr}");
    let source_rows = source
        .sql("SELECT GROUP_CONCAT(CONCAT(id, '=', v) ORDER BY id) FROM t")
        .unwrap();
    let target_rows = one(
        target,
        &format!(
            "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM \"{}\".t",
            source.name()
        ),
    );
    assert_eq!(target_rows, source_rows.trim_end());
}

/// A binlog file after the server's last one was said to be purged (sending the user to look
/// for a backup): it was never written, and the message says so and where the valid positions
/// are listed.
#[test]
fn cdc_only_from_a_binlog_file_not_written_yet_is_not_called_purged() {
    let Some((source, target, staging)) = mariadb_task("h9_later_file") else {
        return;
    };
    with_table(&source, &target);
    let (file, offset) = master_status(&source);
    let (base, number) = file.rsplit_once('.').unwrap();
    let later = format!(
        "{base}.{:0width$}:4",
        number.parse::<u64>().unwrap() + 66,
        width = number.len()
    );
    let (code, stderr) = refused(&cdc_only(&source, &target, &staging, &later));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("comes after the server's last one, {file}"))
            && stderr.contains("nothing was written there yet")
            && stderr.contains("SHOW MASTER STATUS")
            && stderr.contains("SHOW BINARY LOGS")
            && !stderr.contains("purged"),
        "{stderr}"
    );
    captured_from(&source, &target, &staging, &format!("{file}:{offset}"));
    let _ = std::fs::remove_dir_all(&staging);
}

/// An offset past the end of the current binlog file was taken and stored as the task's
/// checkpoint before the stream refused it (exit code 2): the next run, with the right `--from`,
/// resumed from that checkpoint and failed again, told to add `--restart`. Now it is refused
/// before anything is stored.
#[test]
fn cdc_only_from_past_the_end_of_the_binlog_is_refused_before_it_is_stored() {
    let Some((source, target, staging)) = mariadb_task("h9_past_end") else {
        return;
    };
    with_table(&source, &target);
    let (file, offset) = master_status(&source);
    let past = format!("{file}:{}", offset.parse::<u64>().unwrap() + 1_000_000_000);
    let (code, stderr) = refused(&cdc_only(&source, &target, &staging, &past));
    assert_eq!(code, Some(2), "{stderr}");
    // Other tests may have made the server go on to the next file since.
    assert!(
        stderr.contains(&format!("position {past} is past the end of"))
            && stderr.contains(&format!("binlog file {file} ("))
            && stderr.contains("SHOW MASTER STATUS"),
        "{stderr}"
    );
    captured_from(&source, &target, &staging, &format!("{file}:{offset}"));
    let _ = std::fs::remove_dir_all(&staging);
}

/// The GTID form of the same mistake: a file the server does not have with a GTID after the
/// server's (resumed from by GTID) was stored as the checkpoint, then refused by the server.
#[test]
fn cdc_only_from_a_gtid_not_reached_is_refused_before_it_is_stored() {
    let Some((source, target, staging)) = mariadb_task("h9_future_gtid") else {
        return;
    };
    with_table(&source, &target);
    let (file, offset) = master_status(&source);
    // The last domain's GTID, made a billion transactions later.
    let current = source.sql("SELECT @@gtid_binlog_pos").unwrap();
    let last = current.trim_end().rsplit(',').next().unwrap_or_default();
    let (domain, sequence) = last.rsplit_once('-').unwrap();
    let ahead = format!(
        "{domain}-{}",
        sequence.parse::<u64>().unwrap() + 1_000_000_000
    );
    let future = format!("gone-bin.000001:4;gtid={ahead}");
    let (code, stderr) = refused(&cdc_only(&source, &target, &staging, &future));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "GTID {ahead} of position {future} is after the server's last one of its domain"
        )) && stderr.contains("@@gtid_binlog_pos")
            && stderr.contains("SHOW MASTER STATUS"),
        "{stderr}"
    );
    captured_from(&source, &target, &staging, &format!("{file}:{offset}"));
    let _ = std::fs::remove_dir_all(&staging);
}
