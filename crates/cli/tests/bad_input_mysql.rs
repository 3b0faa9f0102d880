//! Bad input on a MariaDB source, as a careless user gives it: `--cdc-only --from` a binlog
//! position the server has not written (a mistyped file number, offset or GTID), has purged (an
//! old file or GTID) or that is malformed (its GTID state) is refused with exit code 2 before
//! anything is stored, saying so and where the valid positions are listed; a run with the right
//! position then captures the changes.

mod common;

use common::{mariadb_task, one};
use migrate_testkit::{MariaDbDatabase, PgDatabase};
use std::path::Path;
use std::process::Output;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

/// Held for reading by a test while it keeps a binlog position of the server to use later, and
/// for writing while [`purged_history`] purges the server's oldest binlog file, which may hold
/// such a position.
static POSITIONS: RwLock<()> = RwLock::new(());

/// A hold on the binlog positions the test takes (see [`POSITIONS`]).
fn keeping_positions() -> RwLockReadGuard<'static, ()> {
    POSITIONS.read().unwrap_or_else(PoisonError::into_inner)
}

/// The server's oldest binlog file and the GTID state it starts from, once the server has
/// purged a transaction before it: that state has a GTID of sequence number 2 or more. A server
/// that never purged one (a fresh one) has its oldest file purged, only when no other test of
/// this file keeps a position, and never its current file (FLUSH BINARY LOGS first when it is
/// the only one). Other test binaries' positions are in later files once the server has run
/// them.
fn purged_history(source: &MariaDbDatabase) -> (String, String) {
    let _purging = POSITIONS.write().unwrap_or_else(PoisonError::into_inner);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let logs: Vec<String> = source
            .sql("SHOW BINARY LOGS")
            .unwrap()
            .lines()
            .filter_map(|line| Some(line.split('\t').next()?.to_string()))
            .collect();
        let first = logs.first().expect("a binary log");
        let oldest = source
            .sql(&format!("SELECT BINLOG_GTID_POS('{first}', 4)"))
            .unwrap()
            .trim_end()
            .to_string();
        let sequences = oldest.split(',').filter_map(|gtid| gtid.rsplit('-').next());
        if sequences
            .filter_map(|s| s.parse::<u64>().ok())
            .any(|s| s >= 2)
        {
            return (first.clone(), oldest);
        }
        assert!(
            Instant::now() < deadline,
            "the server keeps its oldest binlog: {logs:?}, starting from {oldest:?}"
        );
        // MariaDB keeps a file its storage engine may still need for crash recovery until the
        // engine's checkpoint passes it: this goes round until it is gone.
        match logs.get(1) {
            Some(second) => source.sql(&format!("PURGE BINARY LOGS TO '{second}'")),
            None => source.sql("FLUSH BINARY LOGS"),
        }
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
}

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
    cdc_only_as(source.url(), target, staging, from)
}

/// [`cdc_only`] from the source at `url` (as another user).
fn cdc_only_as(url: &str, target: &PgDatabase, staging: &Path, from: &str) -> Output {
    common::cdc_only(url, target.url(), staging, "from", from)
}

/// A user of the source with the privileges docs/source-mysql.md recommends for capture, dropped
/// with the value.
struct CaptureUser<'s> {
    source: &'s MariaDbDatabase,
    name: String,
    url: String,
}

impl CaptureUser<'_> {
    fn new(source: &MariaDbDatabase) -> CaptureUser<'_> {
        let name = migrate_testkit::unique_name("h10_capture");
        source
            .sql(&format!(
                "CREATE USER '{name}'@'%' IDENTIFIED BY 'pw';
                 GRANT SELECT, RELOAD, SHOW VIEW, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{name}'@'%';"
            ))
            .unwrap();
        let url = common::url_as(source.url(), &name, "pw");
        CaptureUser { source, name, url }
    }
}

impl Drop for CaptureUser<'_> {
    fn drop(&mut self) {
        let _ = self.source.sql(&format!("DROP USER '{}'@'%'", self.name));
    }
}

/// After a refused `--from`: a change made after `from` (the position the user meant) reaches
/// the target, which then has the source's rows; the refusal stored no checkpoint that would
/// have the run resume from it.
fn captured_from(source: &MariaDbDatabase, target: &PgDatabase, staging: &Path, from: &str) {
    captured_as(source, source.url(), target, staging, from)
}

/// [`captured_from`], capturing from the source at `url` (as another user).
fn captured_as(
    source: &MariaDbDatabase,
    url: &str,
    target: &PgDatabase,
    staging: &Path,
    from: &str,
) {
    source.sql("INSERT INTO t VALUES (2, 'two')").unwrap();
    let (code, stderr) = refused(&cdc_only_as(url, target, staging, from));
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
    let _positions = keeping_positions();
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
    let _positions = keeping_positions();
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
    let _positions = keeping_positions();
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

/// A malformed GTID state (`;gtid=`) was read only when the stream opened, after the position
/// had been stored as the task's checkpoint: the next run, with the right `--from`, resumed from
/// it (warning that its `--from` was not used) and failed again. Now it is refused up front,
/// naming the text and the form it should have.
#[test]
fn cdc_only_from_a_malformed_gtid_is_refused_before_it_is_stored() {
    let Some((source, target, staging)) = mariadb_task("h10_bad_gtid") else {
        return;
    };
    let _positions = keeping_positions();
    with_table(&source, &target);
    let (file, offset) = master_status(&source);
    // A sequence number left out, a MySQL GTID set, a stray separator.
    for gtid in ["0-1", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "0-1-42;"] {
        let from = format!("{file}:{offset};gtid={gtid}");
        let (code, stderr) = refused(&cdc_only(&source, &target, &staging, &from));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("invalid binlog position `{from}`"))
                && stderr.contains(&format!(
                    "`{gtid}` is not a MariaDB GTID state (domain-server-sequence,...)"
                )),
            "{stderr}"
        );
    }
    captured_from(&source, &target, &staging, &format!("{file}:{offset}"));
    let _ = std::fs::remove_dir_all(&staging);
}

/// A GTID before the server's oldest binlog file (its transactions after that GTID were
/// purged) was accepted and stored as the checkpoint, then refused by the server (error 1236)
/// on this run and, resumed from, on the next one with the right `--from`. Now it is refused up
/// front, naming the state the oldest file starts from and what to do. The check needs no
/// privilege beyond capture's: both runs are a least-privileged user's, the second from a GTID
/// the server still has.
#[test]
fn cdc_only_from_a_purged_gtid_is_refused_before_it_is_stored() {
    let Some((source, target, staging)) = mariadb_task("h10_purged_gtid") else {
        return;
    };
    let (first, oldest) = purged_history(&source);
    let _positions = keeping_positions();
    with_table(&source, &target);
    let now = source.sql("SELECT @@gtid_binlog_pos").unwrap();
    let user = CaptureUser::new(&source);
    // The oldest file's state with one domain a transaction earlier: that transaction is gone.
    let gtids: Vec<&str> = oldest.split(',').collect();
    let (at, kept) = gtids
        .iter()
        .enumerate()
        .find_map(|(i, gtid)| {
            let (prefix, sequence) = gtid.rsplit_once('-')?;
            let sequence = sequence.parse::<u64>().ok().filter(|&s| s >= 2)?;
            Some((i, format!("{prefix}-{}", sequence - 1)))
        })
        .unwrap();
    let mut state: Vec<String> = gtids.iter().map(|g| g.to_string()).collect();
    state[at] = kept.clone();
    let from = format!("gone-bin.000001:4;gtid={}", state.join(","));
    let (code, stderr) = refused(&cdc_only_as(&user.url, &target, &staging, &from));
    assert_eq!(code, Some(2), "{stderr}");
    // Another binary's test may purge more meanwhile: the oldest file is not checked by name.
    assert!(
        stderr.contains(&format!(
            "GTID {kept} of position {from} is before the oldest binlog file the server still has"
        )) && stderr.contains("the transactions in between were purged")
            && stderr.contains("run a full load (--cdc instead of --cdc-only")
            && stderr.contains("or give --from a later position the server still has"),
        "{first}: {oldest}: {stderr}"
    );
    let from = format!("gone-bin.000001:4;gtid={}", now.trim_end());
    captured_as(&source, &user.url, &target, &staging, &from);
    let _ = std::fs::remove_dir_all(&staging);
}

/// A binlog file the server purged, without a GTID to resume from, is refused before anything
/// is stored, as purged; what to do is a full load or a later position (`--restart` alone, as
/// told to a task resuming from its checkpoint, would start from the same `--from`).
#[test]
fn cdc_only_from_a_purged_binlog_file_is_refused_before_it_is_stored() {
    let Some((source, target, staging)) = mariadb_task("h10_purged_file") else {
        return;
    };
    let (first, _) = purged_history(&source);
    let _positions = keeping_positions();
    with_table(&source, &target);
    let (file, offset) = master_status(&source);
    let (base, number) = first.rsplit_once('.').unwrap();
    let gone = format!(
        "{base}.{:0width$}:4",
        number.parse::<u64>().unwrap() - 1,
        width = number.len()
    );
    let (code, stderr) = refused(&cdc_only(&source, &target, &staging, &gone));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "of position {gone} is no longer on the server (purged)"
        )) && stderr.contains("run a full load (--cdc instead of --cdc-only"),
        "{stderr}"
    );
    captured_from(&source, &target, &staging, &format!("{file}:{offset}"));
    let _ = std::fs::remove_dir_all(&staging);
}
