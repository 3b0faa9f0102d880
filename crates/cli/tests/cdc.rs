//! `migrate replicate --cdc` end to end, PostgreSQL -> PostgreSQL: a full load then the changes
//! of a concurrent workload (inserts, updates that change keys, deletes, truncates, large and
//! TOASTed values, NULLs, multi-table transactions, ADD / DROP COLUMN), under SIGTERM, SIGKILL
//! and restarts of the source and target servers. After each run the target must equal the
//! source, compared independently of migrate (ordered digests of every row) and by
//! `migrate validate`.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{
    cdc_args, cdc_to_the_end, pg_table_exists, psql, refused_cdc, selecting_all_but, spawn_cdc,
    start_cdc, start_cdc_without, stop, stopped_with_error, unique, wait_for_capture,
    wait_for_target, wait_until_same, warnings, Cdc,
};
use common::{mariadb_task, migrate_json, pg_task};
use migrate_testkit::{Engine, PrivateServer};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const SCHEMA: &str = "
    CREATE TABLE acc (id bigint PRIMARY KEY, name text, bal numeric(14,2), doc text, seen timestamptz);
    ALTER TABLE acc ALTER COLUMN doc SET STORAGE EXTERNAL;
    CREATE TABLE item (acc bigint, n int, note text, qty int, span int4range, PRIMARY KEY (acc, n));
    CREATE TABLE blob (k text PRIMARY KEY, data bytea);
    INSERT INTO acc SELECT g, 'name ' || g, g * 1.25, CASE WHEN g % 50 = 0 THEN repeat('d', 200000) END, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute' FROM generate_series(1, 2000) g;
    INSERT INTO item SELECT g % 300, g, 'note ' || g, g % 7, int4range(g % 7, g % 7 + 10) FROM generate_series(1, 3000) g;
    INSERT INTO blob SELECT 'k' || g, decode(md5(g::text), 'hex') FROM generate_series(1, 100) g;";

/// Round `round` of the workload: one or two transactions mixing every kind of change.
fn workload_round(round: u64) -> String {
    let r = round;
    let id = 3000 + r;
    let mut sql = format!(
        "BEGIN;
         INSERT INTO acc VALUES ({id}, 'new {r}', {r}.5, NULL, now());
         UPDATE acc SET bal = bal + 1, seen = now() WHERE id % 97 = {m};
         INSERT INTO item (acc, n, qty) VALUES ({id}, 1, 1), ({id}, 2, NULL);
         UPDATE item SET qty = qty + 1, span = int4range(qty, qty + 5) WHERE acc = {a};
         DELETE FROM item WHERE acc = {d} AND n % 2 = 0;
         COMMIT;",
        m = r % 97,
        a = r % 300,
        d = (r * 7) % 300,
    );
    match r % 10 {
        // A key change, and a chain of changes to one row in one transaction.
        1 => sql.push_str(&format!(
            "UPDATE acc SET id = id + 100000 WHERE id = {k};
             BEGIN; INSERT INTO acc VALUES ({c}, 'chain', 0, NULL, NULL); UPDATE acc SET bal = 1 WHERE id = {c};
             UPDATE acc SET id = {c2} WHERE id = {c}; DELETE FROM acc WHERE id = {c2}; INSERT INTO acc VALUES ({c2}, 'reborn', 2, NULL, NULL); COMMIT;",
            k = 1 + r % 2000,
            c = 500000 + r,
            c2 = 600000 + r
        )),
        // A TOASTed value kept unchanged by an update of another column, and a new large one.
        3 => sql.push_str(&format!(
            "UPDATE acc SET name = 'toast kept {r}' WHERE id = {t};
             UPDATE acc SET doc = repeat('z', 150000) || '{r}' WHERE id = {u};",
            t = 50 * (1 + r % 40),
            u = 1 + (r * 13) % 2000
        )),
        // NULLs, a deleted key inserted again, a large binary value.
        5 => sql.push_str(&format!(
            "UPDATE acc SET name = NULL, bal = NULL WHERE id = {n};
             DELETE FROM blob WHERE k = 'k{b}'; INSERT INTO blob VALUES ('k{b}', decode(repeat('ab', 600000), 'hex'));",
            n = 1 + (r * 31) % 2000,
            b = 1 + r % 100
        )),
        7 => sql.push_str(&format!(
            "DELETE FROM acc WHERE id BETWEEN {lo} AND {hi};",
            lo = 1 + (r * 17) % 1900,
            hi = 1 + (r * 17) % 1900 + 3
        )),
        _ => {}
    }
    sql
}

/// Statements run once, at a given round: schema changes and a truncate.
fn milestone(round: u64) -> Option<&'static str> {
    match round {
        12 => Some("ALTER TABLE acc ADD COLUMN tier int; UPDATE acc SET tier = id % 3 WHERE id % 5 = 0;"),
        20 => Some("TRUNCATE blob; INSERT INTO blob VALUES ('after truncate', '\\x00ff');"),
        28 => Some("UPDATE item SET note = NULL WHERE acc = 7; ALTER TABLE item DROP COLUMN note; INSERT INTO item VALUES (999999, 1, 5);"),
        _ => None,
    }
}

/// Runs the workload's rounds `rounds` on `url`, pausing `pause` between rounds; stops early
/// when `stop` is set. A round that could not connect (a server restarting) is retried; a round
/// cut off by a restart is left as far as it got (the source stays the truth to compare with).
fn run_workload(url: &str, rounds: std::ops::Range<u64>, pause: Duration, stop: &AtomicBool) {
    for round in rounds {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let mut script = workload_round(round);
        if let Some(extra) = milestone(round) {
            script.push_str(extra);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match psql(url, &script) {
                Ok(_) => break,
                Err(e) if Instant::now() < deadline && could_not_connect(&e) => {
                    thread::sleep(Duration::from_millis(300));
                }
                Err(e) if cut_off(&e) => break,
                Err(e) => panic!("workload round {round} failed: {e}"),
            }
        }
        thread::sleep(pause);
    }
}

/// psql found no server to talk to (it is restarting): nothing of the round ran.
fn could_not_connect(error: &str) -> bool {
    error.contains("could not connect")
        || error.contains("Connection refused")
        || error.contains("the database system is")
        || error.contains("No such file")
}

/// The server went away in the middle of the round.
fn cut_off(error: &str) -> bool {
    error.contains("server closed the connection")
        || error.contains("terminating connection")
        || error.contains("connection to server was lost")
}

/// `count|digest` of every table, rows ordered by key, columns by name; an error while a table
/// is missing (the full load has not created it yet).
fn try_digest(url: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for t in ["acc", "item", "blob"] {
        let columns = psql(
            url,
            &format!(
                "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY column_name) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{t}'"
            ),
        )?;
        let key = match t {
            "item" => "acc, n",
            "acc" => "id",
            _ => "k",
        };
        let row = psql(
            url,
            &format!(
                "SELECT count(*) || '|' || coalesce(md5(string_agg(md5(row({columns})::text), '' ORDER BY {key})), '-') FROM {t}"
            ),
        )?;
        out.push(format!("{t}({columns}): {row}"));
    }
    Ok(out.join("\n"))
}

fn digest(url: &str) -> String {
    try_digest(url).unwrap()
}

/// Two connections write each batch (two-phase commit): the fault tests run the parallel apply.
const PARALLEL_APPLY: &[&str] = &["--apply-connections", "2"];

/// Waits until the target's digest equals the source's (the workload has stopped) while `cdc`
/// runs.
fn converge(cdc: &mut Cdc, source: &str, target: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = cdc.child.try_wait().unwrap() {
            panic!(
                "migrate exited ({status}) before the target caught up; stderr:\n{}",
                cdc.stderr()
            );
        }
        let (s, t) = (digest(source), try_digest(target));
        if t.as_deref() == Ok(s.as_str()) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "the target did not catch up within {limit:?}\nsource:\n{s}\ntarget:\n{t:?}\nstderr:\n{}",
                cdc.stderr()
            );
        }
        thread::sleep(Duration::from_millis(500));
    }
}

fn validate(source: &str, target: &str, name: &str) {
    validate_with(source, target, name, &[]);
}

/// [`validate`] with `extra` arguments (a task's `--table-mappings`).
fn validate_with(source: &str, target: &str, name: &str, extra: &[&str]) {
    let mut args = vec![
        "validate", "--source", source, "--target", target, "--name", name,
    ];
    args.extend(extra);
    let (code, summary) = migrate_json(&args);
    assert_eq!(code, 0, "validation: {summary:#}");
    assert_eq!(summary["ok"], true);
}

/// Waits (90 s at most) until the target equals the source, then stops the capture; its
/// summary, which counts changes.
fn catch_up_and_stop(mut cdc: Cdc, source: &str, target: &str) -> serde_json::Value {
    converge(&mut cdc, source, target, Duration::from_secs(90));
    let summary = stop(cdc);
    assert!(
        summary["cdc"]["changes"].as_u64().unwrap() > 0,
        "{summary:#}"
    );
    summary
}

#[test]
fn a_full_load_then_a_concurrent_workload_arrive_exactly() {
    let Some((source, target, staging)) = pg_task("cdc_e2e") else {
        return;
    };
    source.sql(SCHEMA).unwrap();
    let stop_flag = Arc::new(AtomicBool::new(false));
    // The workload starts before the capture: changes during the full load must not be lost
    // nor applied twice.
    let url = source.url().to_string();
    let flag = Arc::clone(&stop_flag);
    let workload = thread::spawn(move || {
        run_workload(&url, 0..10, Duration::from_millis(30), &flag);
    });
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "e2e", false, &[]);
    workload.join().unwrap();
    wait_for_capture(&mut cdc, target.url());
    run_workload(source.url(), 10..40, Duration::from_millis(30), &stop_flag);
    let status_log = cdc.stderr.clone();
    let summary = catch_up_and_stop(cdc, source.url(), target.url());
    assert_eq!(summary["ok"], true);
    // Each applied batch printed its status with both lags; reading is never behind applying.
    let statuses: Vec<serde_json::Value> = std::fs::read_to_string(&status_log)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|status| status.get("batches").is_some())
        .collect();
    assert!(!statuses.is_empty(), "no status line");
    for status in &statuses {
        let source_lag = status["source_lag_seconds"].as_f64().unwrap();
        let target_lag = status["target_lag_seconds"].as_f64().unwrap();
        assert!(source_lag <= target_lag + 0.05, "{status}");
    }
    // The schema changes reached the target.
    assert_eq!(
        target.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'acc' AND column_name = 'tier'").unwrap().trim(),
        "1"
    );
    assert_eq!(
        target.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'item' AND column_name = 'note'").unwrap().trim(),
        "0"
    );
    validate(source.url(), target.url(), "e2e");

    // Stopped, the source changes on; the next run catches up from the checkpoint.
    let url = source.url().to_string();
    run_workload(&url, 40..50, Duration::ZERO, &AtomicBool::new(false));
    let (code, summary) = start_cdc(source.url(), target.url(), &staging, "e2e", true, &[])
        .summary(Duration::from_secs(90));
    assert_eq!(code, Some(0), "{summary:#}");
    assert!(summary["cdc"]["changes"].as_u64().unwrap() > 0);
    assert_eq!(digest(source.url()), digest(target.url()));
    validate(source.url(), target.url(), "e2e");
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let source = pg.create_database("cdc_kill_src");
    let target = pg.create_database("cdc_kill_dst");
    source.sql(SCHEMA).unwrap();
    let staging = std::env::temp_dir().join(migrate_testkit::unique_name("cdc_kill"));
    let stop_flag = Arc::new(AtomicBool::new(false));
    let url = source.url().to_string();
    let flag = Arc::clone(&stop_flag);
    let ddl_allowed = Arc::new(AtomicBool::new(false));
    let flag_ddl = Arc::clone(&ddl_allowed);
    let workload = thread::spawn(move || {
        run_workload(&url, 0..10, Duration::from_millis(60), &flag);
        while !ddl_allowed.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(50));
        }
        run_workload(&url, 10..60, Duration::from_millis(60), &flag);
    });
    // Kill points: during the full load, and at pseudo-random moments of the change stream.
    let start = || {
        start_cdc(
            source.url(),
            target.url(),
            &staging,
            "killed",
            false,
            PARALLEL_APPLY,
        )
    };
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for kill in 0..4 {
        let mut cdc = start();
        if kill == 1 {
            // From here on the workload may change columns: the full load must be over.
            wait_for_capture(&mut cdc, target.url());
            flag_ddl.store(true, Ordering::Relaxed);
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_millis(if kill == 0 { 300 } else { 800 + seed % 2500 });
        thread::sleep(after);
        cdc.signal("-KILL");
        let _ = cdc.wait(Duration::from_secs(10));
    }
    workload.join().unwrap();
    let mut cdc = start();
    converge(
        &mut cdc,
        source.url(),
        target.url(),
        Duration::from_secs(120),
    );
    let stderr = cdc.stderr();
    stop(cdc);
    assert!(!stderr.contains("panicked"), "{stderr}");
    validate(source.url(), target.url(), "killed");
    let _ = std::fs::remove_dir_all(&staging);
}

/// Restarts the source's server (`source_side`) or the target's at several moments while the
/// workload runs; the capture rides them out and the target ends equal to the source.
fn restarts(source_side: bool) {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let Some(private) = PrivateServer::start(Engine::Postgres) else {
        return;
    };
    let shared_db = pg.create_database(if source_side {
        "cdc_rs_dst"
    } else {
        "cdc_rt_src"
    });
    let private_db = private.create_database(if source_side {
        "cdc_rs_src"
    } else {
        "cdc_rt_dst"
    });
    let (source, target) = if source_side {
        (private_db.clone(), shared_db.url().to_string())
    } else {
        (shared_db.url().to_string(), private_db.clone())
    };
    psql(&source, SCHEMA).unwrap();
    let staging = std::env::temp_dir().join(migrate_testkit::unique_name("cdc_restart"));
    // Target restarts happen while two connections hold prepared transactions, too.
    let extra = if source_side { &[][..] } else { PARALLEL_APPLY };
    let mut cdc = start_cdc(&source, &target, &staging, "restarts", false, extra);
    wait_for_capture(&mut cdc, &target);
    let stop_flag = Arc::new(AtomicBool::new(false));
    let url = source.clone();
    let flag = Arc::clone(&stop_flag);
    let workload = thread::spawn(move || {
        run_workload(&url, 0..45, Duration::from_millis(80), &flag);
    });
    for pause in [1500u64, 2700, 1900] {
        thread::sleep(Duration::from_millis(pause));
        private.restart();
    }
    workload.join().unwrap();
    converge(&mut cdc, &source, &target, Duration::from_secs(120));
    let stderr = cdc.stderr();
    stop(cdc);
    assert!(!stderr.contains("panicked"), "{stderr}");
    validate(&source, &target, "restarts");
    // The private server's slot must go before the database does.
    let _ = psql(
        &source,
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()",
    );
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn restarts_of_the_source_server_are_ridden_out() {
    restarts(true);
}

#[test]
fn restarts_of_the_target_server_are_ridden_out() {
    restarts(false);
}

#[test]
fn cdc_only_starts_at_the_given_position_and_refuses_one_it_cannot_serve() {
    let Some((source, target, staging)) = pg_task("cdc_only") else {
        return;
    };
    source
        .sql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'before the slot');")
        .unwrap();
    let before_slot = source
        .sql("SELECT pg_current_wal_lsn()")
        .unwrap()
        .trim()
        .to_string();
    // The user's own copy of the table as of the position, and the task's slot made before it.
    target
        .sql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'before the slot');")
        .unwrap();
    let capture = migrate_source_postgres::capture_name(source.name(), "only");
    source
        .sql(&format!(
            "CREATE PUBLICATION {capture} FOR ALL TABLES; SELECT pg_create_logical_replication_slot('{capture}', 'pgoutput');"
        ))
        .unwrap();
    let from = source
        .sql("SELECT pg_current_wal_lsn()")
        .unwrap()
        .trim()
        .to_string();
    source
        .sql("INSERT INTO t VALUES (2, 'after'); UPDATE t SET v = 'changed' WHERE id = 1;")
        .unwrap();
    let args = |from: &str| {
        vec![
            "replicate".to_string(),
            "--cdc-only".into(),
            "--from".into(),
            from.to_string(),
            "--source".into(),
            source.url().into(),
            "--target".into(),
            target.url().into(),
            "--staging".into(),
            staging.to_str().unwrap().into(),
            "--name".into(),
            "only".into(),
            "--stop-when-idle".into(),
            "2".into(),
            "--no-validate".into(),
        ]
    };
    // Before the slot: those changes are gone, and migrate says so instead of skipping them.
    let early = args(&before_slot);
    let early: Vec<&str> = early.iter().map(String::as_str).collect();
    let output = common::migrate(&early);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("can't be read") && stderr.contains("--from"),
        "{stderr}"
    );
    // A task that had no slot yet: the one made for the refused start is dropped again, with
    // its publication (a slot left behind would hold the source's WAL).
    let fresh = args(&before_slot)
        .into_iter()
        .map(|a| if a == "only" { "fresh".to_string() } else { a })
        .collect::<Vec<_>>();
    let fresh: Vec<&str> = fresh.iter().map(String::as_str).collect();
    let output = common::migrate(&fresh);
    assert_eq!(output.status.code(), Some(2));
    let fresh_capture = migrate_source_postgres::capture_name(source.name(), "fresh");
    assert_eq!(
        source
            .sql(&format!(
                "SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{fresh_capture}') \
                      + (SELECT count(*) FROM pg_publication WHERE pubname = '{fresh_capture}')"
            ))
            .unwrap()
            .trim(),
        "0"
    );

    let good = args(&from);
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    let (code, summary) = migrate_json(&good);
    assert_eq!(code, 0, "{summary:#}");
    // No full load ran: the table is reported as captured, not as loaded with 0 rows.
    assert_eq!(summary["tables"][0]["status"], "captured", "{summary:#}");
    assert_eq!(summary["cdc"]["changes"], 2, "{summary:#}");
    assert_eq!(
        target
            .sql("SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM t")
            .unwrap()
            .trim(),
        "1=changed,2=after"
    );
    // The same command again resumes from the checkpoint, and says that its --from is not used.
    source.sql("INSERT INTO t VALUES (3, 'resumed')").unwrap();
    let (code, summary) = migrate_json(&good);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(summary["cdc"]["changes"], 1, "{summary:#}");
    assert!(
        warned(
            &summary,
            &format!("--from {from} is not used: task only resumes from its checkpoint")
        ),
        "{summary:#}"
    );
    // A malformed position is refused even though the resumed task would not use it.
    let garbage = args("garbage");
    let garbage: Vec<&str> = garbage.iter().map(String::as_str).collect();
    let output = common::migrate(&garbage);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`garbage` is not a PostgreSQL position"),
        "{stderr}"
    );
}

const MARIADB_SCHEMA: &str = "
    CREATE TABLE acc (id BIGINT PRIMARY KEY, name VARCHAR(100), bal DECIMAL(14,2), doc LONGTEXT, seen DATETIME(6)) CHARACTER SET utf8mb4;
    CREATE TABLE item (acc BIGINT, n INT, note VARCHAR(50), qty INT, PRIMARY KEY (acc, n));
    CREATE TABLE latin (k VARCHAR(20) PRIMARY KEY, v VARCHAR(50), data LONGBLOB) CHARACTER SET latin1;
    CREATE TABLE prefs (id BIGINT PRIMARY KEY, settings JSON);
    INSERT INTO acc SELECT seq, CONCAT('name ', seq), seq * 1.25, NULL, '2024-01-01 00:00:00' + INTERVAL seq MINUTE FROM seq_1_to_2000;
    INSERT INTO item SELECT seq % 300, seq, CONCAT('note ', seq), seq % 7 FROM seq_1_to_3000;
    INSERT INTO latin SELECT CONCAT('k', seq), 'caf\u{e9}', UNHEX(MD5(seq)) FROM seq_1_to_100;
    -- JSON as written, keys out of jsonb's order: validation compares normalised documents.
    INSERT INTO prefs SELECT seq, JSON_OBJECT('theme', 'dark', 'id', seq, 'ratio', seq / 8) FROM seq_1_to_200;";

fn mariadb_round(r: u64) -> String {
    let id = 3000 + r;
    let mut sql = format!(
        "START TRANSACTION;
         INSERT INTO acc (id, name, bal, doc, seen) VALUES ({id}, 'new {r} \u{e9}\u{4e2d}', {r}.5, NULL, NOW(6));
         UPDATE acc SET bal = bal + 1 WHERE id % 97 = {m};
         INSERT INTO item (acc, n, qty) VALUES ({id}, 1, 1), ({id}, 2, NULL);
         DELETE FROM item WHERE acc = {d} AND n % 2 = 0;
         UPDATE latin SET v = 'na\u{ef}ve {r}' WHERE k = 'k{l}';
         UPDATE prefs SET settings = JSON_SET(settings, '$.zz', {r}e2, '$.b', 'x') WHERE id % 40 = {j};
         INSERT INTO prefs VALUES ({id}, '{{\"b\": [1.50, {r}e-3], \"a\": null}}');
         COMMIT;",
        m = r % 97,
        d = (r * 7) % 300,
        l = 1 + r % 100,
        j = r % 40,
    );
    match r % 6 {
        1 => sql.push_str(&format!(
            "UPDATE acc SET id = id + 100000 WHERE id = {k};",
            k = 1 + r % 2000
        )),
        3 => sql.push_str(&format!(
            "UPDATE acc SET doc = REPEAT('z', 300000) WHERE id = {u}; UPDATE acc SET name = NULL, bal = NULL WHERE id = {n};",
            u = 1 + (r * 13) % 2000,
            n = 1 + (r * 31) % 2000
        )),
        5 => sql.push_str(&format!(
            "DELETE FROM acc WHERE id BETWEEN {lo} AND {hi};",
            lo = 1 + (r * 17) % 1900,
            hi = 1 + (r * 17) % 1900 + 3
        )),
        _ => {}
    }
    match r {
        12 => sql.push_str(
            "ALTER TABLE acc ADD COLUMN tier INT; UPDATE acc SET tier = id % 3 WHERE id % 5 = 0;",
        ),
        20 => sql.push_str(
            "TRUNCATE TABLE latin; INSERT INTO latin VALUES ('after', 'truncate', NULL);",
        ),
        28 => sql
            .push_str("ALTER TABLE item DROP COLUMN note; INSERT INTO item VALUES (999999, 1, 5);"),
        _ => {}
    }
    sql
}

/// Waits until `migrate validate` finds the target equal to the source.
fn converge_by_validation(cdc: &mut Cdc, source: &str, target: &str, name: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = cdc.child.try_wait().unwrap() {
            panic!(
                "migrate exited ({status}) before the target caught up; stderr:\n{}",
                cdc.stderr()
            );
        }
        let output = common::migrate(&[
            "validate", "--source", source, "--target", target, "--name", name, "--output", "json",
        ]);
        if output.status.code() == Some(0) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "the target did not catch up within {limit:?}:\n{}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        thread::sleep(Duration::from_millis(700));
    }
}

/// SIGTERM during the full load of `--cdc`: the chunks being loaded finish, the summary says the
/// load was interrupted and starts over next time, and the slot and publication made for it are
/// dropped at once (they would hold WAL); the next run loads everything and captures.
#[test]
fn a_signal_during_the_full_load_drops_the_capture_and_the_next_run_starts_over() {
    let Some((source, target, staging)) = pg_task("cdc_term_load") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE big (id int PRIMARY KEY, v text);
             INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 400000) g;
             ANALYZE;",
        )
        .unwrap();
    let chunks = ["--chunk-rows", "10000"];
    let cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "term_load",
        false,
        &chunks,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while psql(
        target.url(),
        "SELECT count(*) FROM migrate.migrate_checkpoint",
    )
    .map_or(true, |n| n == "0")
    {
        assert!(Instant::now() < deadline, "no chunk loaded in 60 s");
        thread::sleep(Duration::from_millis(10));
    }
    cdc.signal("-TERM");
    let (code, summary) = cdc.summary(Duration::from_secs(60));
    assert_eq!(code, Some(1), "{summary:#}");
    let interrupted = summary["interrupted"].as_str().unwrap_or_default();
    assert!(
        interrupted.contains("during the full load") && interrupted.contains("starts over"),
        "{summary:#}"
    );
    assert_eq!(
        common::table(&summary, "public.big")["status"],
        "interrupted"
    );
    assert_eq!(
        psql(
            source.url(),
            "SELECT (SELECT count(*) FROM pg_replication_slots WHERE database = current_database())
                    + (SELECT count(*) FROM pg_publication)
                    + (SELECT count(*) FROM pg_event_trigger)
                    + (SELECT count(*) FROM pg_proc WHERE proname LIKE 'migrate\\_%')"
        )
        .as_deref(),
        Ok("0"),
        "the slot, the publication and its event trigger and function are dropped"
    );

    source
        .sql("UPDATE big SET v = 'changed' WHERE id % 1000 = 0")
        .unwrap();
    let cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "term_load",
        true,
        &chunks,
    );
    let (code, summary) = cdc.summary(Duration::from_secs(120));
    assert_eq!(code, Some(0), "{summary:#}");
    let big = common::table(&summary, "public.big");
    assert_eq!(big["status"], "loaded", "{big:#}");
    assert_eq!(big["rows"], 400000, "{big:#}");
    validate(source.url(), target.url(), "term_load");
    let _ = std::fs::remove_dir_all(&staging);
}

/// A `--restart` drops the task's checkpoint before its new full load: when that load does not
/// finish (here a table fails on a value the target can't hold), the next run loads again
/// instead of resuming from the old checkpoint onto the partly loaded tables (it did, and
/// reported success with rows missing).
#[test]
fn a_restart_whose_full_load_fails_is_followed_by_a_full_load_not_a_resume() {
    let Some((source, target, staging)) = pg_task("cdc_restart_fail") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, v text, at timestamp);
             INSERT INTO t SELECT g, md5(g::text), '2024-01-01' FROM generate_series(1, 2000) g;",
        )
        .unwrap();
    let run = |extra: &[&str]| {
        start_cdc(
            source.url(),
            target.url(),
            &staging,
            "restart_fail",
            true,
            extra,
        )
        .summary(Duration::from_secs(120))
    };
    let (code, summary) = run(&[]);
    assert_eq!(code, Some(0), "{summary:#}");
    source
        .sql("INSERT INTO t VALUES (5000, 'no target value', '294250-01-01')")
        .unwrap();
    let (code, summary) = run(&["--restart"]);
    assert_ne!(code, Some(0), "{summary:#}");
    assert_eq!(common::table(&summary, "public.t")["status"], "failed");

    source
        .sql("DELETE FROM t WHERE id = 5000; UPDATE t SET v = 'after' WHERE id <= 10;")
        .unwrap();
    let (code, summary) = run(&[]);
    assert_eq!(code, Some(0), "{summary:#}");
    let t = common::table(&summary, "public.t");
    assert_eq!(t["status"], "loaded", "{t:#}");
    assert_eq!(t["rows"], 2000, "{t:#}");
    validate(source.url(), target.url(), "restart_fail");
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn mariadb_changes_under_a_workload_and_kills_arrive_exactly() {
    let Some((source, target, staging)) = mariadb_task("cdc_my") else {
        return;
    };
    source.sql(MARIADB_SCHEMA).unwrap();
    for r in 0..5 {
        source.sql(&mariadb_round(r)).unwrap();
    }
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "my", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    // Killed at pseudo-random moments while changes flow (the workload's column changes
    // included), each time resumed from the checkpoint.
    let writing = AtomicBool::new(true);
    let mut cdc = thread::scope(|scope| {
        let mut cdc = cdc;
        scope.spawn(|| {
            for r in 5..40 {
                source.sql(&mariadb_round(r)).unwrap();
                thread::sleep(Duration::from_millis(120));
            }
            writing.store(false, Ordering::Relaxed);
        });
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            thread::sleep(Duration::from_millis(400 + seed % 1200));
            cdc.signal("-KILL");
            let _ = cdc.wait(Duration::from_secs(10));
            cdc = start_cdc(source.url(), target.url(), &staging, "my", false, &[]);
        }
        cdc
    });
    assert!(!writing.load(Ordering::Relaxed));
    converge_by_validation(
        &mut cdc,
        source.url(),
        target.url(),
        "my",
        Duration::from_secs(120),
    );
    let stderr = cdc.stderr();
    let summary = stop(cdc);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        summary["cdc"]["changes"].as_u64().unwrap() > 0,
        "{summary:#}"
    );
    // Independent spot checks: column changes, the truncate, text in latin1 and UTF-8. (The
    // target schema is the source database's name.)
    let schema = source.name();
    assert_eq!(
        target.sql(&format!("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '{schema}' AND table_name = 'item'")).unwrap().trim(),
        "acc,n,qty"
    );
    assert_eq!(
        target.sql(&format!("SELECT count(*) FROM information_schema.columns WHERE table_schema = '{schema}' AND table_name = 'acc' AND column_name = 'tier'")).unwrap().trim(),
        "1"
    );
    assert_eq!(
        source
            .sql("SELECT CONCAT(COUNT(*), '|', MAX(v)) FROM latin")
            .unwrap()
            .trim(),
        target
            .sql(&format!(
                "SELECT count(*) || '|' || max(v) FROM \"{schema}\".latin"
            ))
            .unwrap()
            .trim()
    );
    assert_eq!(
        source.sql("SELECT CONCAT(COUNT(*), '|', SUM(bal), '|', SUM(LENGTH(doc))) FROM acc").unwrap().trim(),
        target.sql(&format!("SELECT count(*) || '|' || sum(bal) || '|' || sum(octet_length(doc)) FROM \"{schema}\".acc")).unwrap().trim()
    );
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn restarts_of_a_mariadb_source_are_ridden_out() {
    let (Some(_), Some(pg)) = (migrate_testkit::mariadb(), migrate_testkit::postgres()) else {
        return;
    };
    let Some(private) = PrivateServer::start(Engine::MariaDb) else {
        return;
    };
    let source = private.create_database("cdc_my_restart_src");
    let source_sql = |sql: &str| {
        let (server, db) = source.rsplit_once('/').unwrap();
        migrate_testkit::MariaDb::at(&format!("{server}/"))
            .unwrap()
            .sql(&format!("USE {db}; {sql}"))
            .unwrap()
    };
    let target = pg.create_database("cdc_my_restart_dst");
    source_sql(MARIADB_SCHEMA);
    let staging = std::env::temp_dir().join(migrate_testkit::unique_name("cdc_my_restart"));
    let mut cdc = start_cdc(&source, target.url(), &staging, "my_restarts", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    // The server goes away under the binlog stream three times, with changes before and after
    // each restart (the column changes of rounds 12, 20 and 28 among them).
    for (rounds, restart) in [
        (0..10, true),
        (10..22, true),
        (22..34, true),
        (34..40, false),
    ] {
        for r in rounds {
            source_sql(&mariadb_round(r));
        }
        if restart {
            thread::sleep(Duration::from_millis(300));
            private.restart();
        }
    }
    converge_by_validation(
        &mut cdc,
        &source,
        target.url(),
        "my_restarts",
        Duration::from_secs(120),
    );
    let stderr = cdc.stderr();
    stop(cdc);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn an_idle_capture_still_lets_its_slot_advance() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let source = pg.create_database("cdc_idle_src");
    let target = pg.create_database("cdc_idle_dst");
    let busy = pg.create_database("cdc_idle_busy");
    source
        .sql("CREATE TABLE quiet (id int PRIMARY KEY); INSERT INTO quiet VALUES (1);")
        .unwrap();
    busy.sql("CREATE TABLE noise (id serial PRIMARY KEY, v text)")
        .unwrap();
    let staging = std::env::temp_dir().join(migrate_testkit::unique_name("cdc_idle"));
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "idle", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    // A second run of the task is refused, after waiting for the first to let go of it.
    let second = start_cdc(source.url(), target.url(), &staging, "idle", false, &[]);
    let second_stderr = second.stderr.clone();
    let (code, _) = second.wait(Duration::from_secs(90));
    let refusal = std::fs::read_to_string(&second_stderr).unwrap_or_default();
    assert_eq!(code, Some(2), "{refusal}");
    assert!(
        refusal.contains("another run of task idle is capturing changes into")
            && refusal.contains("stop it first (SIGTERM), or give this run another --name")
            && refusal.contains("waited 15 s"),
        "{refusal}"
    );
    // WAL grows elsewhere on the server while the captured table is idle: the slot must not
    // hold it back.
    busy.sql("INSERT INTO noise (v) SELECT repeat('n', 500) FROM generate_series(1, 20000)")
        .unwrap();
    let after = busy
        .sql("SELECT pg_current_wal_lsn()")
        .unwrap()
        .trim()
        .to_string();
    let slot = migrate_source_postgres::capture_name(source.name(), "idle");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let advanced = source
            .sql(&format!(
                "SELECT confirmed_flush_lsn >= '{after}'::pg_lsn FROM pg_replication_slots WHERE slot_name = '{slot}'"
            ))
            .unwrap();
        if advanced.trim() == "t" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slot did not pass {after} within 60 s while idle; stderr:\n{}",
            cdc.stderr()
        );
        thread::sleep(Duration::from_millis(500));
    }
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// Roles as a careful administrator grants them: on the source, REPLICATION and the tables it
/// owns (CREATE on the database for the publication); on the target, no CREATE on the
/// database, schema `migrate` made for the role and CREATE on `public` (docs/replicate.md).
/// The full load, a captured insert, update, delete and ADD COLUMN, and validation all run as
/// these roles, with two apply connections.
#[test]
fn least_privileged_roles_load_and_capture() {
    let Some((source, target, staging)) = pg_task("cdc_roles") else {
        return;
    };
    let (reader, loader) = (
        format!("{}_reader", source.name()),
        format!("{}_loader", target.name()),
    );
    source
        .sql(&format!(
            "CREATE ROLE \"{reader}\" LOGIN REPLICATION;
             GRANT CREATE ON DATABASE \"{db}\" TO \"{reader}\";
             CREATE TABLE orders (id serial PRIMARY KEY, v int, note text);
             INSERT INTO orders (v, note) SELECT g, 'n' || g FROM generate_series(1, 500) g;
             ALTER TABLE orders OWNER TO \"{reader}\";",
            db = source.name()
        ))
        .unwrap();
    target
        .sql(&format!(
            "CREATE ROLE \"{loader}\" LOGIN;
             CREATE SCHEMA migrate AUTHORIZATION \"{loader}\";
             GRANT CREATE ON SCHEMA public TO \"{loader}\";"
        ))
        .unwrap();
    let as_role = |url: &str, role: &str| url.replacen("postgres@", &format!("{role}@"), 1);
    let (source_url, target_url) = (
        as_role(source.url(), &reader),
        as_role(target.url(), &loader),
    );
    let mut cdc = start_cdc(
        &source_url,
        &target_url,
        &staging,
        "roles",
        false,
        PARALLEL_APPLY,
    );
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "INSERT INTO orders (v, note) VALUES (1000, 'new');
             UPDATE orders SET v = -v WHERE id % 10 = 0;
             DELETE FROM orders WHERE id % 7 = 0;
             ALTER TABLE orders ADD COLUMN extra int DEFAULT 5;
             INSERT INTO orders (v, note, extra) VALUES (1001, 'after', 6);",
        )
        .unwrap();
    let sql = "SELECT count(*), sum(v), sum(extra), max(id) FROM orders";
    wait_until_same(&mut cdc, source.url(), target.url(), sql);
    stop(cdc);
    validate(&source_url, &target_url, "roles");
    let _ = std::fs::remove_dir_all(&staging);
    for (db, role) in [(&source, &reader), (&target, &loader)] {
        db.sql(&format!(
            "DROP OWNED BY \"{role}\" CASCADE; DROP ROLE \"{role}\";"
        ))
        .unwrap();
    }
}

/// A column whose type change capture can't read (`aclitem`: no binary form) stops the task
/// before its full load when the task keeps it, and is no obstacle when a remove-column rule
/// drops it, as that error advises.
#[test]
fn a_removed_column_of_a_type_capture_cannot_read_is_left_out() {
    let Some((source, target, staging)) = pg_task("cdc_removed") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE hosts (id int PRIMARY KEY, name text, acl aclitem);
             INSERT INTO hosts VALUES (1, 'a', 'postgres=r/postgres');",
        )
        .unwrap();
    let stderr = refused_cdc(source.url(), target.url(), &staging, "kept", &[]);
    assert!(
        stderr.contains("public.hosts.acl: type aclitem is not captured")
            && stderr.contains("remove-column")
            && stderr.matches("is not captured").count() == 1,
        "{stderr}"
    );
    assert_eq!(
        psql(
            target.url(),
            "SELECT count(*) FROM pg_tables WHERE tablename = 'hosts'"
        )
        .as_deref(),
        Ok("0"),
        "nothing is loaded"
    );
    let rules = staging.with_extension("rules.json");
    std::fs::write(
        &rules,
        r#"{"rules": [
  {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "rule-action": "include",
   "object-locator": {"schema-name": "public", "table-name": "hosts"}},
  {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
   "rule-action": "remove-column", "rule-target": "column",
   "object-locator": {"schema-name": "public", "table-name": "hosts", "column-name": "acl"}}
]}"#,
    )
    .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "removed",
        false,
        &["--table-mappings", rules.to_str().unwrap()],
    );
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "INSERT INTO hosts VALUES (2, 'b', 'postgres=w/postgres');
             UPDATE hosts SET name = 'a2', acl = 'postgres=rw/postgres' WHERE id = 1;",
        )
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let expected = "1|a2\n2|b";
    loop {
        let rows = psql(
            target.url(),
            "SELECT id, name FROM public.hosts ORDER BY id",
        );
        if rows.as_deref() == Ok(expected) {
            break;
        }
        if let Some(status) = cdc.child.try_wait().unwrap() {
            panic!("migrate exited ({status}); stderr:\n{}", cdc.stderr());
        }
        assert!(
            Instant::now() < deadline,
            "the target has {rows:?}, not {expected:?}; stderr:\n{}",
            cdc.stderr()
        );
        thread::sleep(Duration::from_millis(300));
    }
    stop(cdc);
    let _ = std::fs::remove_file(&rules);
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn full_load_and_capture_run_over_tls() {
    // A server that accepts TLS only; its URLs ask for sslmode=verify-full against the test CA.
    let Some(pg) = migrate_testkit::postgres_tls() else {
        return;
    };
    let source = pg.create_database("cdc_tls_src");
    let target = pg.create_database("cdc_tls_dst");
    source.sql(SCHEMA).unwrap();
    let staging = std::env::temp_dir().join(migrate_testkit::unique_name("cdc_tls"));
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "tls",
        false,
        PARALLEL_APPLY,
    );
    wait_for_capture(&mut cdc, target.url());
    run_workload(source.url(), 0..15, Duration::ZERO, &AtomicBool::new(false));
    catch_up_and_stop(cdc, source.url(), target.url());
    validate(source.url(), target.url(), "tls");
    let _ = std::fs::remove_dir_all(&staging);
}

/// `url`'s database on the same server, through its Unix-domain socket: libpq's `?host=`
/// spelling, or (`encoded`) the directory percent-encoded as the host.
fn through_the_socket(url: &str, encoded: bool) -> String {
    let show = |sql: &str| psql(url, sql).unwrap();
    let directory = show("SHOW unix_socket_directories");
    let directory = directory.split(',').next().unwrap_or_default().trim();
    assert!(
        directory.starts_with('/'),
        "the test server has no socket directory: `{directory}`"
    );
    let (user, database, port) = (
        show("SELECT current_user"),
        show("SELECT current_database()"),
        show("SHOW port"),
    );
    if encoded {
        let host = directory.replace('%', "%25").replace('/', "%2F");
        format!("postgres://{user}@{host}:{port}/{database}")
    } else {
        format!("postgres://{user}@/{database}?host={directory}&port={port}")
    }
}

/// Both servers through their Unix-domain sockets (migrate on the database's host): the URL's
/// two spellings are accepted (`?host=` was refused as having no host), and capture over a
/// socket arrives exactly. (That capture does not pace its reader there, which made decoding
/// 3.9x slower, is measured by bench/cdc.sh, not here: docs/benchmarks.md.)
#[test]
fn full_load_and_capture_run_over_unix_sockets() {
    let Some((source, target, staging)) = pg_task("cdc_socket") else {
        return;
    };
    source.sql(SCHEMA).unwrap();
    let (source_url, target_url) = (
        through_the_socket(source.url(), false),
        through_the_socket(target.url(), true),
    );
    let mut cdc = start_cdc(
        &source_url,
        &target_url,
        &staging,
        "socket",
        false,
        PARALLEL_APPLY,
    );
    wait_for_capture(&mut cdc, &target_url);
    run_workload(&source_url, 0..15, Duration::ZERO, &AtomicBool::new(false));
    catch_up_and_stop(cdc, &source_url, &target_url);
    validate(&source_url, &target_url, "socket");
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn array_columns_are_captured_and_validate() {
    let Some((source, target, staging)) = pg_task("cdc_arrays") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE arr (id int PRIMARY KEY, tags text[], amounts numeric(8,2)[], grid int[],
                               flags bool[], ids uuid[], docs jsonb[], blobs bytea[], bits bit(3)[]);
             INSERT INTO arr VALUES (1, '{a,b}', '{1.50}', '{{1,2},{3,4}}', '{true}', NULL, NULL,
                                     ARRAY['\\x0102'::bytea, NULL, '\\x'::bytea], '{101,NULL}');",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "arrays", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            r#"INSERT INTO arr VALUES
                 (2, ARRAY['quote"', E'line\nbreak', NULL], '{-0.01,NULL}', '{}', '{false,NULL}',
                  '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"k": [1, {"x": null}]}'::jsonb],
                  ARRAY['\xDEADbeef'::bytea], '{{000},{111}}');
               UPDATE arr SET tags = tags || 'c'::text, grid = '{{5}}' WHERE id = 1;"#,
        )
        .unwrap();
    let rows = "SELECT string_agg(arr::text, ';' ORDER BY id) FROM arr";
    let deadline = Instant::now() + Duration::from_secs(60);
    let expected = psql(source.url(), rows).unwrap();
    while psql(target.url(), rows).as_deref() != Ok(expected.as_str()) {
        assert!(
            Instant::now() < deadline,
            "the target did not catch up: {:?} vs {expected}; stderr:\n{}",
            psql(target.url(), rows),
            cdc.stderr()
        );
        thread::sleep(Duration::from_millis(300));
    }
    stop(cdc);
    validate(source.url(), target.url(), "arrays");
    let _ = std::fs::remove_dir_all(&staging);
}

/// Ranges, money, extension types (citext, hstore), composite types and arrays of them or of
/// dates, times and timestamps, whose binary form capture doesn't decode, are converted on the
/// source as the full load reads them: the full load and the inserts, updates (also of a range
/// key) and deletes after it arrive, and the target validates. A composite whose fields are all
/// NULL stays a value.
#[test]
fn values_converted_on_the_source_are_captured_and_validate() {
    let Some((source, target, staging)) = pg_task("cdc_converted") else {
        return;
    };
    source
        .sql(
            "CREATE EXTENSION citext; CREATE EXTENSION hstore;
             CREATE TYPE pair AS (a int, b text);
             CREATE TABLE odd (id int PRIMARY KEY, during tstzrange, span int4range, price money,
                               email citext, attrs hstore, p pair, ps pair[], days date[],
                               stamps timestamptz[], times time[], gaps interval[],
                               pt point, seg lseg, bx box, pth path, poly polygon);
             CREATE TABLE slots (during tstzrange PRIMARY KEY, note text);
             INSERT INTO odd VALUES (1, '[2024-01-01,2024-02-01)', '[1,5)', 12.5, 'A@x', 'a=>1',
                                     ROW(1, 'one'), ARRAY[ROW(2, 'two, \"2\"')::pair], '{2024-01-01}',
                                     '{\"2024-01-01 10:00+02\"}', '{10:00}', '{\"1 day\"}',
                                     '(1,2)', '[(1,2),(3,4)]', '(3,4),(1,2)', '((0,0),(1,1),(2,0))',
                                     '((0,0),(0,1),(1,0))');
             INSERT INTO odd (id, p, ps) VALUES (4, ROW(NULL, NULL), ARRAY[ROW(NULL, NULL)::pair]);
             INSERT INTO slots VALUES ('[2024-01-01 00:00+00,2024-01-02 00:00+00)', 'first');",
        )
        .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "converted",
        false,
        &[],
    );
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            r#"INSERT INTO odd VALUES
                 (2, '(,2024-03-01 12:30:00.25+05:30]', 'empty', -0.01, 'MiXeD', 'k=>NULL, "x y"=>"z"',
                  ROW(NULL, 'n'), '{}', '{{2024-01-01,NULL},{infinity,0044-03-15 BC}}',
                  '{"2024-06-01 12:00:00.25+05:30",-infinity,"0044-03-15 10:00+00 BC"}', '{24:00,00:00:00.5}',
                  '{"1 year 2 mons -3 days 04:05:06.5",NULL}',
                  '(-0.5,1e300)', '[(0,0),(0,0)]', '(1,1),(1,1)', '[(0,0),(1,1)]', '((1,2))'),
                 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                  NULL, NULL, NULL, NULL, NULL);
               UPDATE odd SET during = '[2025-01-01,)', price = price * 2, ps = ps || ROW(3, NULL)::pair,
                              pt = point(pt[0] + 1, pt[1]),
                              days = '[0:1]={2024-01-01,2024-01-02}' WHERE id = 1;
               DELETE FROM odd WHERE id = 3;
               INSERT INTO odd (id, p) VALUES (5, ROW(NULL, NULL));
               UPDATE slots SET during = '[2024-02-01 00:00+00,2024-02-02 00:00+00)', note = 'moved';
               INSERT INTO slots VALUES ('empty', 'nothing');"#,
        )
        .unwrap();
    converge_by_validation(
        &mut cdc,
        source.url(),
        target.url(),
        "converted",
        Duration::from_secs(60),
    );
    // The target's text columns hold the source's output text, money its numeric value; a
    // composite whose fields are all NULL is `(,)`, not NULL.
    assert_eq!(
        psql(
            target.url(),
            "SELECT string_agg(concat(id, '=', p), ';' ORDER BY id) FROM odd WHERE id >= 4"
        )
        .as_deref(),
        Ok("4=(,);5=(,)")
    );
    let odd = |price: &str| {
        format!("SELECT string_agg(concat_ws('|', id, during, span, {price}, email, p, ps, to_json(days), stamps, times, gaps), ';' ORDER BY id) FROM odd")
    };
    assert_eq!(
        psql(target.url(), &odd("price")),
        psql(source.url(), &odd("price::numeric"))
    );
    // Geometric values arrive as big-endian WKB: the updated point (2,2); the box (3,4),(1,2) as
    // the polygon of its corners from the lower left; the closed path as a LineString that ends
    // on its first point again.
    let (one, two, three, four) = (
        "3ff0000000000000",
        "4000000000000000",
        "4008000000000000",
        "4010000000000000",
    );
    let zero = "0000000000000000";
    assert_eq!(
        psql(
            target.url(),
            "SELECT concat_ws('|', encode(pt, 'hex'), encode(bx, 'hex'), encode(pth, 'hex')) FROM odd WHERE id = 1"
        ),
        Ok(format!(
            "0000000001{two}{two}|00000000030000000100000005{one}{two}{one}{four}{three}{four}{three}{two}{one}{two}|000000000200000004{zero}{zero}{one}{one}{two}{zero}{zero}{zero}"
        ))
    );
    // The segment and the polygon (a closed ring) of row 1, the open path of row 2.
    assert_eq!(
        psql(
            target.url(),
            "SELECT string_agg(concat_ws('|', encode(seg, 'hex'), encode(poly, 'hex'), encode(pth, 'hex')), ';' ORDER BY id) FROM odd WHERE id < 4"
        ),
        Ok(format!(
            "000000000200000002{one}{two}{three}{four}|00000000030000000100000004{zero}{zero}{zero}{one}{one}{zero}{zero}{zero}|000000000200000004{zero}{zero}{one}{one}{two}{zero}{zero}{zero};\
             000000000200000002{zero}{zero}{zero}{zero}|00000000030000000100000002{one}{two}{one}{two}|000000000200000002{zero}{zero}{one}{one}"
        ))
    );
    // Arrays travel as JSON, which has no lower bounds (docs/type-mapping.md).
    assert_eq!(
        psql(target.url(), "SELECT days FROM odd WHERE id = 1").as_deref(),
        Ok("{2024-01-01,2024-01-02}")
    );
    let rows = |url: &str| {
        psql(
            url,
            "SELECT string_agg(concat_ws('|', during, note), ';' ORDER BY note) FROM slots",
        )
    };
    assert_eq!(
        rows(target.url()),
        Ok(
            r#"["2024-02-01 00:00:00+00","2024-02-02 00:00:00+00")|moved;empty|nothing"#
                .to_string()
        )
    );
    stop(cdc);
    validate(source.url(), target.url(), "converted");
    let _ = std::fs::remove_dir_all(&staging);
}

/// Tables the capture must not lose: one created on the source after capture started (its
/// target table is created and its rows arrive), and a partitioned table, whose changes
/// PostgreSQL publishes as the partitioned table the task maps, not as the partitions. A
/// generated column, whose values logical replication does not send, stops the task before its
/// full load unless a remove-column rule drops it.
#[test]
fn new_and_partitioned_tables_are_captured_and_generated_columns_refused() {
    let Some((source, target, staging)) = pg_task("cdc_tables") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE meas (id int, day date, v int, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
             CREATE TABLE meas_2023 PARTITION OF meas FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
             CREATE TABLE meas_2024 PARTITION OF meas FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
             INSERT INTO meas VALUES (1, '2023-05-05', 1), (2, '2024-05-05', 2);
             CREATE TABLE gen (id int PRIMARY KEY, a int, twice int GENERATED ALWAYS AS (a * 2) STORED);
             INSERT INTO gen VALUES (1, 1);",
        )
        .unwrap();
    let stderr = refused_cdc(source.url(), target.url(), &staging, "tables", &[]);
    assert!(
        stderr.contains("public.gen.twice is a generated column")
            && stderr.contains("remove-column"),
        "{stderr}"
    );
    let mapping = staging.with_extension("mapping.json");
    std::fs::write(
        &mapping,
        r#"{"rules": [
             {"rule-type": "selection", "rule-id": "1", "rule-name": "all",
              "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"},
             {"rule-type": "transformation", "rule-id": "2", "rule-name": "no-generated",
              "rule-target": "column", "object-locator": {"schema-name": "public", "table-name": "gen",
              "column-name": "twice"}, "rule-action": "remove-column"}]}"#,
    )
    .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "tables",
        false,
        &["--table-mappings", mapping.to_str().unwrap()],
    );
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "INSERT INTO meas VALUES (3, '2023-06-06', 3);
             UPDATE meas SET v = 20 WHERE id = 2;
             UPDATE meas SET day = '2024-01-02' WHERE id = 1;
             CREATE TABLE later (id int PRIMARY KEY, v text);
             INSERT INTO later SELECT g, 'row ' || g FROM generate_series(1, 100) g;
             UPDATE gen SET a = 5;",
        )
        .unwrap();
    let rows = "SELECT (SELECT string_agg(concat_ws('|', id, day, v), ';' ORDER BY id) FROM meas) \
                || ' ' || (SELECT count(*) || '/' || sum(length(v)) FROM later) \
                || ' ' || (SELECT string_agg(concat_ws('|', id, a), ';') FROM gen)";
    wait_until_same(&mut cdc, source.url(), target.url(), rows);
    assert_eq!(
        psql(target.url(), rows).unwrap(),
        "1|2024-01-02|1;2|2024-05-05|20;3|2023-06-06|3 100/592 1|5"
    );
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// Source and target in one database, the tables captured into another schema: migrate's own
/// state tables are never captured, and a mapping whose targets it would capture again (their
/// changes coming back without end) is refused before anything is written.
#[test]
fn one_database_captures_into_another_schema_without_feeding_back() {
    let Some((db, _unused, staging)) = pg_task("cdc_one_db") else {
        return;
    };
    db.sql(
        "CREATE TABLE t (id int PRIMARY KEY, v text);
         INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 10) g;",
    )
    .unwrap();
    let mapping = |schemas: &str| {
        let path = staging.with_extension(format!("{}.json", unique()));
        let rules = format!(
            r#"{{"rules": [
                 {{"rule-type": "selection", "rule-id": "1", "rule-name": "tables",
                  "object-locator": {{"schema-name": "{schemas}", "table-name": "%"}}, "rule-action": "include"}},
                 {{"rule-type": "transformation", "rule-id": "2", "rule-name": "into copy",
                  "rule-target": "schema", "object-locator": {{"schema-name": "public"}},
                  "rule-action": "rename", "value": "copy"}}]}}"#
        );
        std::fs::write(&path, rules).unwrap();
        path
    };

    // Every schema selected: copy.t, where public.t goes, would be captured too.
    let everything = mapping("%");
    let output = common::migrate(&[
        "replicate",
        "--cdc",
        "--source",
        db.url(),
        "--target",
        db.url(),
        "--staging",
        staging.to_str().unwrap(),
        "--name",
        "one_db",
        "--progress",
        "never",
        "--table-mappings",
        everything.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "public.t would be captured into copy.t, which the selection rules select too"
        ),
        "{stderr}"
    );
    assert!(
        !pg_table_exists(db.url(), "copy", "t"),
        "nothing is written before the refusal"
    );

    // Schema public selected: captured into copy, and idle (so it stops by itself) once caught
    // up, although every batch writes migrate's checkpoint in the captured database.
    let public = mapping("public");
    let start = |idle_stop: bool| {
        start_cdc(
            db.url(),
            db.url(),
            &staging,
            "one_db",
            idle_stop,
            &["--table-mappings", public.to_str().unwrap()],
        )
    };
    let mut cdc = start(true);
    wait_for_capture(&mut cdc, db.url());
    db.sql("UPDATE t SET v = v || '!' WHERE id <= 5; DELETE FROM t WHERE id = 10; INSERT INTO t VALUES (11, 'new');")
        .unwrap();
    let (code, summary) = cdc.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{summary:?}");
    let rows = |table: &str| {
        psql(
            db.url(),
            &format!("SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM {table}"),
        )
        .unwrap()
    };
    assert_eq!(rows("copy.t"), rows("public.t"));
    assert!(rows("copy.t").contains("5=row 5!,6=row 6,7=row 7,8=row 8,9=row 9,11=new"));

    // Stopped, then resumed: copy.t is a table of the source database now, the task's own.
    db.sql("UPDATE t SET v = 'while stopped' WHERE id = 1")
        .unwrap();
    let (code, summary) = start(true).summary(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{summary:#}");
    assert_eq!(rows("copy.t"), rows("public.t"));
    assert!(rows("copy.t").starts_with("1=while stopped,"));

    // A table created while capturing whose target is a table of the user's: the task stops
    // before preparing it (which would have dropped it).
    db.sql("CREATE TABLE copy.n (id int PRIMARY KEY, v text); INSERT INTO copy.n VALUES (1, 'the user''s');")
        .unwrap();
    let mut cdc = start(false);
    wait_for_capture(&mut cdc, db.url());
    db.sql("CREATE TABLE n (id int PRIMARY KEY, v text); INSERT INTO n VALUES (2, 'new');")
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("public.n, a new table, would be captured into copy.n, a table of the source database that this task did not create"),
        "{error}"
    );
    assert_eq!(rows("copy.n"), "1=the user's");
    let _ = std::fs::remove_dir_all(&staging);
}

/// A column renamed on the source arrives as a dropped column and an added one. Applied so, it
/// would lose its values in every row not changed again: the task stops instead, naming the
/// rename to make in the target, and goes on once it is made.
#[test]
fn a_renamed_column_stops_the_task_until_the_target_has_it_too() {
    let Some((source, target, staging)) = pg_task("cdc_rename") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE ren (id int PRIMARY KEY, old_name text, n int);
             INSERT INTO ren SELECT g, 'v' || g, g FROM generate_series(1, 5) g;",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "rename", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql("ALTER TABLE ren RENAME COLUMN old_name TO new_name; UPDATE ren SET n = n + 100 WHERE id = 1;")
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("seems renamed to new_name")
            && error.contains("RENAME COLUMN old_name TO new_name"),
        "{error}"
    );
    assert_eq!(
        psql(
            target.url(),
            "SELECT string_agg(old_name, ',' ORDER BY id) FROM ren"
        )
        .unwrap(),
        "v1,v2,v3,v4,v5",
        "nothing was dropped"
    );
    psql(
        target.url(),
        "ALTER TABLE ren RENAME COLUMN old_name TO new_name",
    )
    .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "rename", false, &[]);
    let rows = "SELECT string_agg(concat_ws('|', id, new_name, n), ',' ORDER BY id) FROM ren";
    wait_until_same(&mut cdc, source.url(), target.url(), rows);
    assert_eq!(
        psql(target.url(), rows).unwrap(),
        "1|v1|101,2|v2|2,3|v3|3,4|v4|4,5|v5|5"
    );
    // Renamed and given another type (MySQL's `CHANGE n m bigint` in one): a rename all the
    // same. Taken as a drop and an add, every row's n was gone.
    source
        .sql("ALTER TABLE ren RENAME COLUMN n TO m; ALTER TABLE ren ALTER COLUMN m TYPE bigint; UPDATE ren SET m = m + 100 WHERE id = 2;")
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("seems renamed to m") && error.contains("with another type"),
        "{error}"
    );
    assert_eq!(
        psql(
            target.url(),
            "SELECT string_agg(n::text, ',' ORDER BY id) FROM ren"
        )
        .unwrap(),
        "101,2,3,4,5",
        "nothing was dropped"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// A column added with a default gives the rows that existed its value in the source, without a
/// change per row: the target adds it with that value (the source's stored "missing value", so
/// `now()` is the source's moment, not the target's), NOT NULL included. A volatile default gives
/// each row its own value, which the change stream does not carry: the task stops.
#[test]
fn added_columns_give_existing_rows_the_sources_value_or_stop_the_task() {
    let Some((source, target, staging)) = pg_task("cdc_added") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE acct (id int PRIMARY KEY, name text);
             INSERT INTO acct SELECT g, 'n' || g FROM generate_series(1, 50) g;",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "added", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "ALTER TABLE acct ADD COLUMN opened timestamptz DEFAULT '2020-01-01 00:00:00+00',
                              ADD COLUMN flag boolean NOT NULL DEFAULT true,
                              ADD COLUMN seen timestamptz DEFAULT now(),
                              ADD COLUMN note text DEFAULT 'it''s \\ new',
                              ADD COLUMN later int;
             ALTER TABLE acct ALTER COLUMN later SET DEFAULT 7;
             INSERT INTO acct (id, name) VALUES (51, 'after the add');
             UPDATE acct SET name = 'changed' WHERE id = 2;",
        )
        .unwrap();
    let rows = "SELECT string_agg(concat_ws('|', id, name, opened, flag, seen, note, coalesce(later, -1)), ',' ORDER BY id) FROM acct";
    wait_until_same(&mut cdc, source.url(), target.url(), rows);
    assert_eq!(
        psql(
            target.url(),
            "SELECT count(*) FILTER (WHERE flag AND note = 'it''s \\ new' AND seen IS NOT NULL AND later IS NULL) FROM acct WHERE id <= 50"
        )
        .unwrap(),
        "50",
        "every existing row has the source's values"
    );
    stop(cdc);
    validate(source.url(), target.url(), "added");

    let mut cdc = start_cdc(source.url(), target.url(), &staging, "added", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql("ALTER TABLE acct ADD COLUMN token double precision DEFAULT random(); UPDATE acct SET name = 'again' WHERE id = 3;")
        .unwrap();
    let error = stopped_with_error(cdc);
    assert!(
        error.contains("column token was added to public.acct with a volatile default")
            && error.contains("--restart"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// A table whose column is of an enum type, and one row.
const MOOD_TABLE: &str = "CREATE TYPE mood AS ENUM ('ok', 'sad');
     CREATE TABLE en (id int PRIMARY KEY, m mood);
     INSERT INTO en VALUES (1, 'ok');";

/// A label added to a source enum that is longer than the target's `varchar` of it: the task
/// stops naming the column and the change, with the `ALTER TABLE` to run on the target; run
/// again after it, it goes on.
#[test]
fn a_value_the_target_column_cannot_hold_names_the_column_and_the_fix() {
    let Some((source, target, staging)) = pg_task("cdc_enum") else {
        return;
    };
    source.sql(MOOD_TABLE).unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "enum", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source.sql("ALTER TYPE mood ADD VALUE 'ecstatic'").unwrap();
    source.sql("INSERT INTO en VALUES (2, 'ecstatic')").unwrap();
    let error = stopped_with_error(cdc);
    let alter = "ALTER TABLE public.en ALTER COLUMN m TYPE";
    assert!(
        error.contains("column m, change row 1 of the table in this batch")
            && error.contains(alter),
        "{error}"
    );
    psql(target.url(), &format!("{alter} varchar(8)")).unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "enum", false, &[]);
    let rows = "SELECT string_agg(id || '|' || m, ',' ORDER BY id) FROM en";
    wait_until_same(&mut cdc, source.url(), target.url(), rows);
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// The text summary says what capture did and why it stopped, also when an error stopped it
/// (exit code 2, the error also on standard error).
#[test]
fn the_text_summary_reports_capture_and_the_error_that_stopped_it() {
    let Some((source, target, staging)) = pg_task("cdc_text") else {
        return;
    };
    source.sql(MOOD_TABLE).unwrap();
    let run = || {
        let output = cdc_to_the_end(
            source.url(),
            target.url(),
            &staging,
            "text",
            &["--batch-seconds", "0.3", "--stop-when-idle", "1"],
        );
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for words in [
        "public.en",
        "loaded",
        "change capture: 0 change(s) in 0 batch(es)",
        "stopped: no change for 1s",
        "every table loaded",
    ] {
        assert!(stdout.contains(words), "`{words}` not in:\n{stdout}");
    }
    source.sql("ALTER TYPE mood ADD VALUE 'ecstatic'").unwrap();
    source.sql("INSERT INTO en VALUES (2, 'ecstatic')").unwrap();
    let (code, stdout, stderr) = run();
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    let error = "column m, change row 1 of the table in this batch";
    for words in [
        "public.en  captured     -",
        "change capture: 0 change(s) in 0 batch(es)",
        error,
        "change capture stopped by an error (above)",
    ] {
        assert!(stdout.contains(words), "`{words}` not in:\n{stdout}");
    }
    assert!(stderr.contains(error), "{stderr}");
    let _ = std::fs::remove_dir_all(&staging);
}

/// Starts capture of table `orders` alone (a mapping selects it), named `task`, and waits
/// until its full load is done.
fn capture_orders_only(
    source: &migrate_testkit::PgDatabase,
    target: &migrate_testkit::PgDatabase,
    staging: &Path,
    task: &str,
) -> Cdc {
    let mapping = staging.with_extension("mapping.json");
    std::fs::write(
        &mapping,
        r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "orders",
             "object-locator": {"schema-name": "public", "table-name": "orders"}, "rule-action": "include"}]}"#,
    )
    .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        staging,
        task,
        false,
        &["--table-mappings", mapping.to_str().unwrap()],
    );
    wait_for_capture(&mut cdc, target.url());
    cdc
}

/// A database with a table that has no replica identity gets a publication of the selected
/// tables, not FOR ALL TABLES: that would make the source refuse UPDATE and DELETE on the
/// keyless table, which the task does not even capture.
#[test]
fn a_keyless_table_of_the_source_keeps_its_updates() {
    let Some((source, target, staging)) = pg_task("cdc_keyless") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE orders (id int PRIMARY KEY, v int); INSERT INTO orders VALUES (1, 1);
             CREATE TABLE app_log (at timestamptz, line text); INSERT INTO app_log VALUES (now(), 'x');",
        )
        .unwrap();
    let mut cdc = capture_orders_only(&source, &target, &staging, "keyless");
    source
        .sql("UPDATE app_log SET line = 'y'; DELETE FROM app_log; UPDATE orders SET v = 2;")
        .expect("the source's own keyless table still takes UPDATE and DELETE");
    assert_eq!(
        psql(source.url(), "SELECT puballtables FROM pg_publication").unwrap(),
        "f"
    );
    wait_until_same(&mut cdc, source.url(), target.url(), "SELECT v FROM orders");
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// Under a publication FOR ALL TABLES, a table created or altered later without a primary key
/// (or whose `USING INDEX` replica identity's index is dropped) gets REPLICA IDENTITY FULL from
/// the publication's event trigger: the source keeps accepting its UPDATE and DELETE
/// (PostgreSQL would refuse them), and capture goes on. An event trigger left by an earlier
/// migrate, which did not watch DROP INDEX, is replaced.
#[test]
fn a_table_created_later_without_a_key_keeps_its_updates() {
    let Some((source, target, staging)) = pg_task("cdc_keyless_later") else {
        return;
    };
    let capture = migrate_source_postgres::capture_name(source.name(), "keyless_later");
    source
        .sql(&format!(
            "CREATE TABLE orders (id int PRIMARY KEY, v int); INSERT INTO orders VALUES (1, 1);
             CREATE PUBLICATION {capture} FOR ALL TABLES;
             CREATE FUNCTION {capture}() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
             CREATE EVENT TRIGGER {capture} ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
               EXECUTE FUNCTION {capture}();"
        ))
        .unwrap();
    let mut cdc = capture_orders_only(&source, &target, &staging, "keyless_later");
    assert_eq!(
        psql(source.url(), "SELECT puballtables FROM pg_publication").unwrap(),
        "t"
    );
    source
        .sql(
            "CREATE TABLE app_log (at timestamptz, line text); INSERT INTO app_log VALUES (now(), 'x');
             UPDATE app_log SET line = 'y'; DELETE FROM app_log;
             CREATE TABLE copied AS SELECT 1 AS x; UPDATE copied SET x = 2;
             SELECT 1 AS x INTO selected; DELETE FROM selected;
             CREATE TABLE unkeyed (id int PRIMARY KEY); INSERT INTO unkeyed VALUES (1);
             ALTER TABLE unkeyed DROP CONSTRAINT unkeyed_pkey; UPDATE unkeyed SET id = 2;
             CREATE TABLE parted (id int, v int) PARTITION BY RANGE (id);
             CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
             INSERT INTO parted VALUES (1, 1); UPDATE parted SET v = 2;
             CREATE TEMP TABLE scratch (x int); INSERT INTO scratch VALUES (1); UPDATE scratch SET x = 2;
             CREATE TABLE indexed (id int NOT NULL); CREATE UNIQUE INDEX indexed_id ON indexed (id);
             ALTER TABLE indexed REPLICA IDENTITY USING INDEX indexed_id; INSERT INTO indexed VALUES (1);
             DROP INDEX indexed_id; UPDATE indexed SET id = 2;
             UPDATE orders SET v = 2;",
        )
        .expect("tables created later without a key still take UPDATE and DELETE");
    assert_eq!(
        psql(
            source.url(),
            "SELECT string_agg(relname || '=' || relreplident::text, ',' ORDER BY relname) FROM pg_class
              WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace"
        )
        .unwrap(),
        "app_log=f,copied=f,indexed=f,orders=d,parted=d,parted_1=f,selected=f,unkeyed=f"
    );
    wait_until_same(&mut cdc, source.url(), target.url(), "SELECT v FROM orders");
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
}

/// Rows the source inserts during capture carry numbers beyond where the target's identity
/// started: each batch moves the target's sequences past the rows it writes (never back), so
/// inserts the target makes after the cutover don't collide with captured rows.
#[test]
fn captured_rows_move_the_targets_identities_past_them() {
    let Some((source, target, staging)) = pg_task("cdc_identity") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE orders (id serial PRIMARY KEY, v int); INSERT INTO orders (v) VALUES (1), (2);
             CREATE TABLE returns (id bigint GENERATED ALWAYS AS IDENTITY (START WITH -1 INCREMENT BY -1)
                                   PRIMARY KEY, v int);
             INSERT INTO returns (v) VALUES (1);",
        )
        .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "identity",
        false,
        PARALLEL_APPLY,
    );
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "INSERT INTO orders (v) SELECT g FROM generate_series(1, 40) g;
             INSERT INTO returns (v) VALUES (2), (3);",
        )
        .unwrap();
    let count = "SELECT (SELECT count(*) FROM orders) || '/' || (SELECT count(*) FROM returns)";
    wait_until_same(&mut cdc, source.url(), target.url(), count);
    // A sequence already further on (the target took inserts of its own) stays where it is.
    target
        .sql("SELECT setval(pg_get_serial_sequence('orders', 'id'), 1000)")
        .unwrap();
    source
        .sql("INSERT INTO orders (v) VALUES (3); INSERT INTO returns (v) VALUES (4);")
        .unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), count);
    stop(cdc);
    assert_eq!(
        psql(
            target.url(),
            "INSERT INTO orders (v) VALUES (0) RETURNING id"
        )
        .unwrap(),
        "1001"
    );
    assert_eq!(
        psql(
            target.url(),
            "INSERT INTO returns (v) VALUES (0) RETURNING id"
        )
        .unwrap(),
        "-5"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// Captures table `orders` with a parallel apply (task `task`), runs `target_sql` on the
/// target once the full load is done, then inserts 3,000 rows on the source in one transaction
/// (one batch, whose net changes fill enough pages for both connections) and waits until the
/// target has them. Returns the target and migrate's stderr.
fn one_parallel_batch_after(
    task: &str,
    target_sql: &str,
) -> Option<(migrate_testkit::PgDatabase, String)> {
    let (source, target, staging) = pg_task(&format!("cdc_{task}"))?;
    source
        .sql("CREATE TABLE orders (id int PRIMARY KEY, v int); INSERT INTO orders VALUES (0, 0);")
        .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        task,
        false,
        PARALLEL_APPLY,
    );
    wait_for_capture(&mut cdc, target.url());
    target.sql(target_sql).unwrap();
    source
        .sql("INSERT INTO orders SELECT g, g FROM generate_series(1, 3000) g;")
        .unwrap();
    wait_until_same(
        &mut cdc,
        source.url(),
        target.url(),
        "SELECT count(*), sum(v) FROM orders",
    );
    let stderr = cdc.stderr();
    stop(cdc);
    let _ = std::fs::remove_dir_all(&staging);
    Some((target, stderr))
}

/// A target table with triggers of its own is written by one connection even in a parallel
/// apply: a trigger that changes a row both connections reach (here a counter) would make one
/// connection wait for the other's prepared transaction, which commits only when both are
/// prepared: a wait without end. The triggers fire for migrate's writes (an update as a delete
/// and an insert).
#[test]
fn target_triggers_do_not_deadlock_the_parallel_apply() {
    let Some((target, _)) = one_parallel_batch_after(
        "triggers",
        "CREATE TABLE inserts (k int PRIMARY KEY, n int); INSERT INTO inserts VALUES (1, 0);
         CREATE FUNCTION count_insert() RETURNS trigger LANGUAGE plpgsql AS
           'BEGIN UPDATE inserts SET n = n + 1 WHERE k = 1; RETURN NULL; END';
         CREATE TRIGGER counted AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION count_insert();",
    ) else {
        return;
    };
    assert_eq!(psql(target.url(), "SELECT n FROM inserts").unwrap(), "3000");
}

/// What migrate does not see in advance, a rule on a target table that changes a row both
/// connections of a parallel apply reach, makes one connection wait for the other's prepared
/// transaction: migrate finds the wait, rolls the batch's shares back and writes it again on one
/// connection.
#[test]
fn a_wait_for_a_prepared_share_is_found_and_the_batch_written_by_one_connection() {
    let Some((target, stderr)) = one_parallel_batch_after(
        "rules",
        "CREATE TABLE statements (k int PRIMARY KEY, n int); INSERT INTO statements VALUES (1, 0);
         CREATE RULE counted AS ON INSERT TO orders DO ALSO UPDATE statements SET n = n + 1 WHERE k = 1;",
    ) else {
        return;
    };
    assert!(
        stderr.contains("waits for a lock another one holds in its prepared transaction"),
        "{stderr}"
    );
    // The batch's one INSERT on one connection ran the rule once.
    assert_eq!(psql(target.url(), "SELECT n FROM statements").unwrap(), "1");
    assert_eq!(
        psql(
            target.url(),
            "SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()"
        )
        .unwrap(),
        "0"
    );
}

/// A MariaDB AUTO_INCREMENT becomes an identity of the target table, and the rows capture
/// brings move it past their numbers: the target's own next insert takes the next number.
#[test]
fn mariadb_auto_increment_rows_move_the_targets_identity() {
    let Some((source, target, staging)) = mariadb_task("cdc_my_ai") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;
             INSERT INTO orders (v) VALUES (1), (2);",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "my_ai", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql("INSERT INTO orders (v) SELECT seq FROM seq_1_to_40;")
        .unwrap();
    let orders = format!("{}.orders", source.name());
    let count = format!("SELECT count(*) FROM {orders}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while psql(target.url(), &count).as_deref() != Ok("42") {
        assert!(Instant::now() < deadline, "stderr:\n{}", cdc.stderr());
        thread::sleep(Duration::from_millis(300));
    }
    stop(cdc);
    assert_eq!(
        psql(
            target.url(),
            &format!("INSERT INTO {orders} (v) VALUES (0) RETURNING id")
        )
        .unwrap(),
        "43"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// Whether one of the warnings of a run's summary contains `words`.
fn warned(summary: &serde_json::Value, words: &str) -> bool {
    warnings(summary).iter().any(|w| w.contains(words))
}

/// MariaDB does not write the rows a foreign key's action changes to the binlog: a captured
/// table with such a key is named in a warning before the full load.
#[test]
fn mariadb_foreign_key_actions_are_warned_about() {
    let Some((source, target, staging)) = mariadb_task("cdc_my_fk") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE par (id INT PRIMARY KEY) ENGINE=InnoDB;
             CREATE TABLE chi (id INT PRIMARY KEY, par_id INT,
                               CONSTRAINT chi_par FOREIGN KEY (par_id) REFERENCES par (id) ON DELETE CASCADE)
                    ENGINE=InnoDB;
             INSERT INTO par VALUES (1); INSERT INTO chi VALUES (10, 1);",
        )
        .unwrap();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "fk", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    let stderr = cdc.stderr();
    let summary = stop(cdc);
    let warning = "chi: foreign key chi_par (ON DELETE CASCADE ON UPDATE RESTRICT) changes rows that the binlog does not carry";
    assert!(stderr.contains(warning), "{stderr}");
    // Also in the summary, for whoever reads only that.
    assert!(warned(&summary, warning), "{summary:#}");
    let _ = std::fs::remove_dir_all(&staging);
}

/// Online schema-change tools on a MariaDB source, simulated statement by statement while
/// capture runs: gh-ost on `t` (a ghost table altered, its rows copied in chunks while the
/// writes to `t` are replayed into it, a changelog table, a cut-over sentry, the atomic swap)
/// and pt-online-schema-change on `u` (triggers copy the writes into the new table). With the
/// helper tables excluded as docs/cdc.md says, the swap is a warning that says what happens,
/// the run goes on, and the new tables' changes (the added columns included) arrive in the
/// target's `t` and `u`. The rules name every schema (`%`), as such rules often do: a table of
/// another database on the server, whose changes are in the same binlog, is not the task's.
#[test]
fn mariadb_online_schema_change_swaps_keep_the_target_tables_in_step() {
    let Some((source, target, staging)) = mariadb_task("cdc_my_osc") else {
        return;
    };
    let db = source.name();
    source
        .sql(
            "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20), n INT) ENGINE=InnoDB;
             CREATE TABLE u (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
             INSERT INTO t SELECT seq, CONCAT('t', seq), seq FROM seq_1_to_40;
             INSERT INTO u SELECT seq, CONCAT('u', seq) FROM seq_1_to_40;",
        )
        .unwrap();
    let mut cdc = start_cdc_without(
        source.url(),
        target.url(),
        &staging,
        "osc",
        false,
        &[
            "[_]%[_]gho",
            "[_]%[_]ghc",
            "[_]%[_]del",
            "[_]%[_]old",
            "[_]%[_]new",
        ],
    );
    wait_for_capture(&mut cdc, target.url());
    // Another database's table, written, then (once capture read past its row: t's later
    // change arrived) renamed to a name the rules select: taken for a new table of the
    // selection, it would stop the task at the rename.
    let other = migrate_testkit::mariadb()
        .expect("the MariaDB server")
        .create_database("cdc_my_osc_other");
    other
        .sql("CREATE TABLE w (id INT PRIMARY KEY); INSERT INTO w VALUES (1);")
        .unwrap();
    source
        .sql("UPDATE t SET v = 'mark' WHERE id = 40;")
        .unwrap();
    wait_for_same_rows(&mut cdc, &source, target.url(), "t", "id, v, n");
    other
        .sql("RENAME TABLE w TO w2; INSERT INTO w2 VALUES (2);")
        .unwrap();

    // gh-ost: the changelog and ghost tables, the ALTER on the ghost table.
    source
        .sql(
            "CREATE TABLE _t_ghc (id BIGINT AUTO_INCREMENT, last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
                                  hint VARCHAR(64) NOT NULL, value VARCHAR(4096) NOT NULL, PRIMARY KEY (id), UNIQUE KEY hint_uidx (hint));
             INSERT INTO _t_ghc (id, hint, value) VALUES (2, 'state', 'GhostTableMigrated')
                 ON DUPLICATE KEY UPDATE last_update = NOW(), value = VALUES(value);
             CREATE TABLE _t_gho LIKE t;
             ALTER TABLE _t_gho ADD COLUMN note VARCHAR(20) DEFAULT 'x';",
        )
        .unwrap();
    // The row copy in chunks; between them the application writes to t (rows copied already and
    // rows not yet), which gh-ost replays from the binlog into the ghost table.
    for c in 0..4 {
        let (lo, hi) = (1 + 10 * c, 10 + 10 * c);
        source
            .sql(&format!(
                "INSERT IGNORE INTO _t_gho (id, v, n) SELECT id, v, n FROM t WHERE id BETWEEN {lo} AND {hi} LOCK IN SHARE MODE;
                 START TRANSACTION;
                 UPDATE t SET v = 'upd {c}', n = NULL WHERE id IN ({lo} + 1, {hi} + 5);
                 INSERT INTO t VALUES ({ins}, 'ins {c}', {c});
                 DELETE FROM t WHERE id IN ({lo} + 2, {hi} + 7);
                 COMMIT;
                 REPLACE INTO _t_gho (id, v, n) SELECT id, v, n FROM t WHERE id IN ({lo} + 1, {hi} + 5, {ins});
                 DELETE FROM _t_gho WHERE id IN ({lo} + 2, {hi} + 7);
                 INSERT INTO _t_ghc (hint, value) VALUES ('copy', '{c}') ON DUPLICATE KEY UPDATE value = VALUES(value);",
                ins = 100 + c,
            ))
            .unwrap();
    }
    // The cut-over: the sentry table taking the old table's name is created and dropped while
    // gh-ost holds its locks, then the swap.
    source
        .sql(
            "CREATE TABLE _t_del (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB COMMENT='ghost-cut-over-sentry';
             DROP TABLE IF EXISTS _t_del;
             RENAME TABLE t TO _t_del, _t_gho TO t;
             INSERT INTO t (id, v, n, note) VALUES (200, 'after', 1, 'y'), (201, 'after', NULL, NULL);
             UPDATE t SET note = 'z', n = n + 1 WHERE id <= 12;
             UPDATE t SET v = 'moved' WHERE id = 101;
             DELETE FROM t WHERE id = 20;
             DROP TABLE _t_ghc;
             DROP TABLE _t_del;",
        )
        .unwrap();

    // pt-online-schema-change: the new table, altered, triggers on u that copy every write into
    // it (a key change too), the row copy, the swap, the triggers and old table dropped.
    source
        .sql(
            "CREATE TABLE _u_new LIKE u;
             ALTER TABLE _u_new ADD COLUMN tag INT NOT NULL DEFAULT 0;
             CREATE TRIGGER pt_osc_u_del AFTER DELETE ON u FOR EACH ROW
                 DELETE IGNORE FROM _u_new WHERE _u_new.id <=> OLD.id;
             DELIMITER //
             CREATE TRIGGER pt_osc_u_upd AFTER UPDATE ON u FOR EACH ROW BEGIN
                 DELETE IGNORE FROM _u_new WHERE !(OLD.id <=> NEW.id) AND _u_new.id <=> OLD.id;
                 REPLACE INTO _u_new (id, v) VALUES (NEW.id, NEW.v);
             END//
             DELIMITER ;
             CREATE TRIGGER pt_osc_u_ins AFTER INSERT ON u FOR EACH ROW
                 REPLACE INTO _u_new (id, v) VALUES (NEW.id, NEW.v);",
        )
        .unwrap();
    for c in 0..4 {
        let (lo, hi) = (1 + 10 * c, 10 + 10 * c);
        source
            .sql(&format!(
                "INSERT LOW_PRIORITY IGNORE INTO _u_new (id, v) SELECT id, v FROM u FORCE INDEX(PRIMARY)
                     WHERE id >= {lo} AND id <= {hi} LOCK IN SHARE MODE;
                 UPDATE u SET v = 'upd {c}' WHERE id IN ({lo} + 3, {hi} + 4);
                 UPDATE u SET id = id + 1000 WHERE id = {lo} + 5;
                 INSERT INTO u VALUES ({ins}, 'ins {c}');
                 DELETE FROM u WHERE id IN ({lo} + 6, {hi} + 8);",
                ins = 100 + c,
            ))
            .unwrap();
    }
    source
        .sql(
            "RENAME TABLE u TO _u_old, _u_new TO u;
             DROP TRIGGER IF EXISTS pt_osc_u_del;
             DROP TRIGGER IF EXISTS pt_osc_u_upd;
             DROP TRIGGER IF EXISTS pt_osc_u_ins;
             DROP TABLE IF EXISTS _u_old;
             INSERT INTO u VALUES (300, 'after', 7);
             UPDATE u SET tag = 2, v = CONCAT(v, '!') WHERE id < 10;
             DELETE FROM u WHERE id = 15;",
        )
        .unwrap();

    // Every row and value, the added columns with the source's values.
    for (table, columns) in [
        (
            "t",
            "id, COALESCE(v, '-'), COALESCE(n, -1), COALESCE(note, '-')",
        ),
        ("u", "id, COALESCE(v, '-'), tag"),
    ] {
        wait_for_same_rows(&mut cdc, &source, target.url(), table, columns);
    }
    // Only the captured tables reached the target: no helper table, nothing of the other
    // database.
    assert_eq!(
        psql(
            target.url(),
            "SELECT string_agg(table_schema || '.' || table_name, ',' ORDER BY table_schema, table_name) FROM information_schema.tables
              WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'migrate')"
        )
        .unwrap(),
        format!("{db}.t,{db}.u")
    );
    // The run went on through both swaps; each is a warning that says the new table's changes
    // go on to the target table (not that it "gets no more changes"), in the log and summary.
    let stderr = cdc.stderr();
    let summary = stop(cdc);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("gets no more changes"), "{stderr}");
    for (table, old, new) in [("t", "_t_del", "_t_gho"), ("u", "_u_old", "_u_new")] {
        let swap = format!("captured table {db}.{table} was swapped: renamed to {db}.{old}, which the task does not select, while {db}.{new} took its name in the same statement");
        assert!(stderr.contains(&swap), "`{swap}` not in:\n{stderr}");
        assert!(warned(&summary, &swap), "{summary:#}");
    }
    validate(source.url(), target.url(), "osc");
    let _ = std::fs::remove_dir_all(&staging);
}

/// `columns` of each of `table`'s rows in the source (`1|a;2|b`, in key order).
fn my_rows(source: &migrate_testkit::MariaDbDatabase, table: &str, columns: &str) -> String {
    source
        .sql(&format!(
            "SELECT GROUP_CONCAT(CONCAT_WS('|', {columns}) ORDER BY id SEPARATOR ';') FROM {table}"
        ))
        .unwrap()
        .trim()
        .to_string()
}

/// The query of [`pg_rows`].
fn pg_rows_sql(db: &str, table: &str, columns: &str) -> String {
    format!("SELECT string_agg(concat_ws('|', {columns}), ';' ORDER BY id) FROM \"{db}\".{table}")
}

/// `columns` of each row of the target's table of the source's `table`, as [`my_rows`] lists
/// them, or why they can't be read.
fn pg_rows(target: &str, db: &str, table: &str, columns: &str) -> Result<String, String> {
    psql(target, &pg_rows_sql(db, table, columns))
}

/// Waits (60 s at most) until the target's table of the source's `table` has the source's rows,
/// `columns` of each, while `cdc` runs.
fn wait_for_same_rows(
    cdc: &mut Cdc,
    source: &migrate_testkit::MariaDbDatabase,
    target: &str,
    table: &str,
    columns: &str,
) {
    let want = my_rows(source, table, columns);
    wait_for_target(
        cdc,
        target,
        &pg_rows_sql(source.name(), table, columns),
        &want,
    );
}

/// The tables `a` (5 rows), `b` (3 rows) and `c` (2 rows) of one shape on a MariaDB source,
/// captured under a selection that leaves out `excluded` (see [`selecting_all_but`]); the run
/// is under way once the full load is done. Also the mapping's arguments.
fn mariadb_abc(
    hint: &str,
    excluded: &[&str],
) -> Option<(
    migrate_testkit::MariaDbDatabase,
    migrate_testkit::PgDatabase,
    PathBuf,
    Cdc,
    [String; 2],
)> {
    let (source, target, staging) = mariadb_task(hint)?;
    source
        .sql(
            "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
             CREATE TABLE b LIKE a;
             CREATE TABLE c LIKE a;
             INSERT INTO a SELECT seq, CONCAT('a', seq) FROM seq_1_to_5;
             INSERT INTO b SELECT seq, CONCAT('b', seq) FROM seq_1_to_3;
             INSERT INTO c SELECT seq, CONCAT('c', seq) FROM seq_1_to_2;",
        )
        .unwrap();
    let mappings = selecting_all_but(&staging, excluded);
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        hint,
        false,
        &[&mappings[0], &mappings[1]],
    );
    wait_for_capture(&mut cdc, target.url());
    Some((source, target, staging, cdc, mappings))
}

/// A captured table moved to a name the task selects through a name in between, in one
/// statement (`RENAME TABLE a TO tmp, tmp TO a2`) or in two, stops the task: captured as `a2`
/// it would arrive without the rows it has. One statement is judged by where `a` ends up;
/// in two, the first name that stops it is named: `tmp` when the task selects it, else `a2`,
/// which a table the task does not capture (`tmp`) takes. Before, the two statements through an
/// unselected `tmp` were a warning that `a` gets no more changes, and `a2` was then captured as
/// a new table holding only the rows changed after the rename.
#[test]
fn mariadb_a_table_renamed_through_a_temporary_name_into_the_selection_stops_the_task() {
    // The statements, the table the error names and where it went, the statement it quotes.
    for (hint, excluded, renames, from, to, quoted) in [
        (
            "cdc_my_tmp1",
            &["tmp"][..],
            "RENAME TABLE a TO tmp, tmp TO a2",
            "a",
            "a2",
            "RENAME TABLE a TO tmp, tmp TO a2",
        ),
        (
            "cdc_my_tmp2",
            &["tmp"][..],
            "RENAME TABLE a TO tmp; RENAME TABLE tmp TO a2",
            "tmp",
            "a2",
            "RENAME TABLE tmp TO a2",
        ),
        (
            "cdc_my_tmp3",
            &[][..],
            "RENAME TABLE a TO tmp; RENAME TABLE tmp TO a2",
            "a",
            "tmp",
            "RENAME TABLE a TO tmp",
        ),
    ] {
        let Some((source, target, staging, cdc, _)) = mariadb_abc(hint, excluded) else {
            return;
        };
        let db = source.name();
        source
            .sql(&format!(
                "{renames}; UPDATE a2 SET v = 'changed' WHERE id = 1; INSERT INTO a2 VALUES (9, 'new');"
            ))
            .unwrap();
        let stderr = stopped_with_error(cdc);
        let stop = if from == "a" {
            format!("captured table {db}.a was renamed to {db}.{to} (`{quoted}`), which the task selects")
        } else {
            format!("table {db}.{from}, which the task does not capture, was renamed to {db}.{to} (`{quoted}`), which the task selects")
        };
        assert!(
            stderr.contains(&stop),
            "{renames}: `{stop}` not in:\n{stderr}"
        );
        assert!(
            stderr.contains("--restart") && stderr.contains(&format!("leave {db}.{to} out")),
            "{stderr}"
        );
        // Nothing of the renamed table went anywhere but where its rows are: the target's `a`.
        assert_eq!(
            pg_rows(target.url(), db, "a", "id, v").as_deref(),
            Ok("1|a1;2|a2;3|a3;4|a4;5|a5")
        );
        assert!(!pg_table_exists(target.url(), db, "a2"), "{renames}");
        assert!(!pg_table_exists(target.url(), db, "tmp"), "{renames}");
        let _ = std::fs::remove_dir_all(&staging);
    }
}

/// A captured table moved out of the selection through a name in between, in one statement or
/// two (the task selects neither name): a warning, the target's table keeps its rows, the task
/// goes on with the tables it still selects, and validation (of those) passes.
#[test]
fn mariadb_a_table_renamed_through_a_temporary_name_out_of_the_selection_is_a_warning() {
    for (hint, renames) in [
        ("cdc_my_out1", "RENAME TABLE a TO tmp, tmp TO gone"),
        (
            "cdc_my_out2",
            "RENAME TABLE a TO tmp; RENAME TABLE tmp TO gone",
        ),
    ] {
        let Some((source, target, staging, mut cdc, mappings)) =
            mariadb_abc(hint, &["tmp", "gone"])
        else {
            return;
        };
        let db = source.name();
        source
            .sql(&format!(
                "{renames}; UPDATE gone SET v = 'changed' WHERE id = 1; UPDATE c SET v = 'after' WHERE id = 2;"
            ))
            .unwrap();
        wait_for_same_rows(&mut cdc, &source, target.url(), "c", "id, v");
        let stderr = cdc.stderr();
        let summary = stop(cdc);
        let warning = "a captured table was renamed to a table the task does not select: change capture does not follow renames, so its target table keeps its rows and gets no more changes";
        assert!(stderr.contains(warning), "{renames}: {stderr}");
        assert!(warned(&summary, warning), "{summary:#}");
        assert_eq!(
            pg_rows(target.url(), db, "a", "id, v").as_deref(),
            Ok("1|a1;2|a2;3|a3;4|a4;5|a5")
        );
        assert!(!pg_table_exists(target.url(), db, "gone"));
        assert!(!pg_table_exists(target.url(), db, "tmp"));
        validate_with(
            source.url(),
            target.url(),
            hint,
            &[&mappings[0], &mappings[1]],
        );
        let _ = std::fs::remove_dir_all(&staging);
    }
}

/// Two captured tables swapping names (`RENAME TABLE a TO tmp, b TO a, tmp TO b`) stop the task
/// at the swap, naming both, before any later change of either is applied: each target table
/// holds the other table's rows. (Before: a warning, the task went on, each target table got
/// the other table's changes on top of its own rows, an update of a row it lacked inserted it,
/// and validation failed.) The error's action, `--restart`, reloads both under their new names
/// and validation passes.
#[test]
fn mariadb_captured_tables_swapping_names_stop_the_task_until_reloaded() {
    let hint = "cdc_my_swap";
    let Some((source, target, staging, cdc, mappings)) = mariadb_abc(hint, &[]) else {
        return;
    };
    let db = source.name();
    let swap = "RENAME TABLE a TO tmp, b TO a, tmp TO b";
    source
        .sql(&format!(
            "{swap};
             UPDATE b SET v = 'upd b' WHERE id IN (1, 4);
             INSERT INTO b VALUES (20, 'new b');
             DELETE FROM b WHERE id = 5;
             UPDATE a SET v = 'upd a' WHERE id = 1;
             INSERT INTO a VALUES (30, 'new a');
             UPDATE c SET v = 'after' WHERE id = 2;"
        ))
        .unwrap();
    let stderr = stopped_with_error(cdc);
    let stop = format!("captured tables {db}.a and {db}.b swapped names (`{swap}`): change capture does not follow renames, so the target's {db}.a and {db}.b, which hold the rows of the tables that had those names, would each get the changes of the other table");
    assert!(stderr.contains(&stop), "`{stop}` not in:\n{stderr}");
    assert!(
        stderr.contains(
            "--restart (a new full load): the full load reads each table under its new name"
        ),
        "{stderr}"
    );
    // Stopped at the swap: the target tables are as they were before it, the change of `c`
    // after it waits for the next run.
    for (table, rows) in [
        ("a", "1|a1;2|a2;3|a3;4|a4;5|a5"),
        ("b", "1|b1;2|b2;3|b3"),
        ("c", "1|c1;2|c2"),
    ] {
        assert_eq!(
            pg_rows(target.url(), db, table, "id, v").as_deref(),
            Ok(rows)
        );
    }

    // What the error says to do: a new full load, which reads each table as it is now.
    let again = [mappings[0].as_str(), mappings[1].as_str(), "--restart"];
    let cdc = start_cdc(source.url(), target.url(), &staging, hint, true, &again);
    let (code, summary) = cdc.summary(Duration::from_secs(120));
    assert_eq!(code, Some(0), "{summary:#}");
    for table in ["a", "b", "c"] {
        assert_eq!(
            pg_rows(target.url(), db, table, "id, v"),
            Ok(my_rows(&source, table, "id, v"))
        );
    }
    validate_with(source.url(), target.url(), hint, &again[..2]);
    let _ = std::fs::remove_dir_all(&staging);
}

/// A captured table renamed onto the name of another captured table dropped before (a copy of
/// `b` made by hand and put in its place: `DROP TABLE b; RENAME TABLE b_new TO b`) stops the
/// task: the target's `b` holds the old `b`'s rows, right only if `b_new` is a copy, which
/// capture can't tell (before: a warning, and the task went on). The error's other way on, for
/// such a copy: leave `b_new` out of the mappings and run again; the rename is then a warning
/// that the target's `b` gets the new table's changes, and validation passes.
#[test]
fn mariadb_a_captured_table_renamed_onto_a_captured_name_stops_the_task_until_left_out() {
    let hint = "cdc_my_onto";
    let Some((source, target, staging, mut cdc, _)) = mariadb_abc(hint, &[]) else {
        return;
    };
    let db = source.name();
    source
        .sql(
            "CREATE TABLE b_new LIKE b;
             INSERT INTO b_new SELECT * FROM b;",
        )
        .unwrap();
    // Captured as a new table of the selection.
    wait_for_target(
        &mut cdc,
        target.url(),
        &format!("SELECT count(*) FROM \"{db}\".b_new"),
        "3",
    );
    source
        .sql(
            "DROP TABLE b; RENAME TABLE b_new TO b;
             INSERT INTO b VALUES (20, 'new b');
             UPDATE b SET v = 'upd b' WHERE id = 1;",
        )
        .unwrap();
    let stderr = stopped_with_error(cdc);
    let error = format!("captured table {db}.b_new was renamed to {db}.b, the name of another captured table (`RENAME TABLE b_new TO b`): change capture does not follow renames, so the target table {db}.b, which holds the rows of the table that had the name, would get the changes of the table that was {db}.b_new");
    assert!(stderr.contains(&error), "`{error}` not in:\n{stderr}");
    let leave_out = format!("or, if {db}.b_new is a copy of {db}.b's rows made to replace it (the new table of an online schema-change tool), leave {db}.b_new out of the task's table mappings and run the task again");
    assert!(stderr.contains(&leave_out), "{stderr}");
    assert_eq!(
        pg_rows(target.url(), db, "b", "id, v").as_deref(),
        Ok("1|b1;2|b2;3|b3")
    );

    let mappings = selecting_all_but(&staging, &["b[_]new"]);
    let mappings = [mappings[0].as_str(), mappings[1].as_str()];
    let mut cdc = start_cdc(source.url(), target.url(), &staging, hint, false, &mappings);
    wait_for_same_rows(&mut cdc, &source, target.url(), "b", "id, v");
    let stderr = cdc.stderr();
    let summary = stop(cdc);
    let warning = format!("table {db}.b_new, which the task does not capture, was renamed to {db}.b, the name of a captured table: change capture does not follow renames, so the target table {db}.b keeps its rows and gets the changes of the new {db}.b from now on");
    assert!(stderr.contains(&warning), "`{warning}` not in:\n{stderr}");
    assert!(warned(&summary, &warning), "{summary:#}");
    validate_with(source.url(), target.url(), hint, &mappings);
    let _ = std::fs::remove_dir_all(&staging);
}

/// `file:pos` of a binlog position (`file:pos;gtid=...`, or `SHOW MASTER STATUS`'s `file\tpos`),
/// comparable in binlog order.
fn binlog_at(position: &str) -> (String, u64) {
    let position = position.split(';').next().unwrap_or_default();
    let (file, pos) = position
        .split_once([':', '\t'])
        .unwrap_or_else(|| panic!("no binlog position in {position:?}"));
    let pos = pos.split_whitespace().next().unwrap_or_default();
    (file.to_string(), pos.parse().unwrap())
}

/// An online schema-change tool's swap (gh-ost: a ghost table with an added column, the rows
/// copied, `RENAME TABLE a TO _a_del, _a_gho TO a`) read, the task stopped by SIGINT before the
/// new table's first change, then resumed, and the new table written: its changes arrive with
/// the added column (the resumed capture starts from the definitions the target was built for,
/// so the new table's first change is a column change), every row has the source's values, and
/// validation passes. Twice: with the checkpoint before the swap (no batch after it: the resume
/// reads the swap again), and past it (a change of another table after the swap was applied).
#[test]
fn mariadb_a_resume_between_a_swap_and_the_new_tables_first_change_adds_the_new_column() {
    for (hint, past_the_swap) in [("cdc_my_oscr1", false), ("cdc_my_oscr2", true)] {
        let Some((source, target, staging, mut cdc, mappings)) =
            mariadb_abc(hint, &["[_]%[_]gho", "[_]%[_]del"])
        else {
            return;
        };
        let mappings = [mappings[0].as_str(), mappings[1].as_str()];
        let db = source.name();
        source
            .sql(
                "CREATE TABLE _a_gho LIKE a;
                 ALTER TABLE _a_gho ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'x';
                 INSERT INTO _a_gho (id, v) SELECT id, v FROM a;
                 RENAME TABLE a TO _a_del, _a_gho TO a;
                 DROP TABLE _a_del;",
            )
            .unwrap();
        let swapped = binlog_at(&source.sql("SHOW MASTER STATUS").unwrap());
        let swap = format!("captured table {db}.a was swapped: renamed to {db}._a_del, which the task does not select, while {db}._a_gho took its name in the same statement");
        if past_the_swap {
            source.sql("UPDATE c SET v = 'after' WHERE id = 2").unwrap();
        }
        // Until the stream read the swap (and, past it, the checkpoint passed it).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let checkpoint = psql(
                target.url(),
                "SELECT position FROM migrate.migrate_cdc_checkpoint",
            )
            .unwrap();
            if cdc.stderr().contains(&swap) && (!past_the_swap || binlog_at(&checkpoint) >= swapped)
            {
                break;
            }
            if let Some(status) = cdc.child.try_wait().unwrap() {
                panic!("migrate exited ({status}); stderr:\n{}", cdc.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "checkpoint {checkpoint}, swap at {swapped:?}; stderr:\n{}",
                cdc.stderr()
            );
            thread::sleep(Duration::from_millis(300));
        }
        cdc.signal("-INT");
        let (code, summary) = cdc.summary(Duration::from_secs(60));
        assert_eq!(code, Some(0), "{summary:#}");
        assert_eq!(
            binlog_at(summary["cdc"]["position"].as_str().unwrap()) >= swapped,
            past_the_swap,
            "{summary:#}"
        );
        assert!(warned(&summary, &swap), "{summary:#}");
        let columns = format!(
            "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
              WHERE table_schema = '{db}' AND table_name = 'a'"
        );
        assert_eq!(psql(target.url(), &columns).as_deref(), Ok("id,v"));

        let mut cdc = start_cdc(source.url(), target.url(), &staging, hint, false, &mappings);
        source
            .sql(
                "INSERT INTO a VALUES (10, 'ten', 'n');
                 UPDATE a SET note = 'y', v = 'one' WHERE id = 1;
                 DELETE FROM a WHERE id = 2;",
            )
            .unwrap();
        assert_eq!(
            my_rows(&source, "a", "id, v, note"),
            "1|one|y;3|a3|x;4|a4|x;5|a5|x;10|ten|n"
        );
        wait_for_same_rows(&mut cdc, &source, target.url(), "a", "id, v, note");
        assert_eq!(psql(target.url(), &columns).as_deref(), Ok("id,v,note"));
        let stderr = cdc.stderr();
        stop(cdc);
        // Past the swap, the resume does not read it again; before it, it does.
        assert_eq!(stderr.contains(&swap), !past_the_swap, "{stderr}");
        validate_with(source.url(), target.url(), hint, &mappings);
        let _ = std::fs::remove_dir_all(&staging);
    }
}

/// gh-ost's two-step cut-over (`RENAME TABLE a TO _a_del`, then `RENAME TABLE _a_gho TO a`),
/// helper tables excluded: the first rename is a warning that the target's `a` gets no more
/// changes, and the second, a table the task does not capture taking the captured name, a
/// warning that it does get the new table's changes (before, nothing was said of it: only that
/// `a` gets no more changes, which the run then belied). The new table's rows and added
/// column arrive, validation passes.
#[test]
fn mariadb_a_table_taking_a_captured_name_freed_before_is_a_warning_and_followed() {
    let hint = "cdc_my_two_step";
    let Some((source, target, staging, mut cdc, mappings)) =
        mariadb_abc(hint, &["[_]%[_]gho", "[_]%[_]del"])
    else {
        return;
    };
    let mappings = [mappings[0].as_str(), mappings[1].as_str()];
    let db = source.name();
    source
        .sql(
            "CREATE TABLE _a_gho LIKE a;
             ALTER TABLE _a_gho ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'x';
             INSERT INTO _a_gho (id, v) SELECT id, v FROM a;
             RENAME TABLE a TO _a_del;
             RENAME TABLE _a_gho TO a;
             DROP TABLE _a_del;
             INSERT INTO a VALUES (10, 'ten', 'n');
             UPDATE a SET note = 'y', v = 'one' WHERE id = 1;
             DELETE FROM a WHERE id = 2;",
        )
        .unwrap();
    assert_eq!(
        my_rows(&source, "a", "id, v, note"),
        "1|one|y;3|a3|x;4|a4|x;5|a5|x;10|ten|n"
    );
    wait_for_same_rows(&mut cdc, &source, target.url(), "a", "id, v, note");
    let stderr = cdc.stderr();
    let summary = stop(cdc);
    for warning in [
        "a captured table was renamed to a table the task does not select: change capture does not follow renames, so its target table keeps its rows and gets no more changes".to_string(),
        format!("table {db}._a_gho, which the task does not capture, was renamed to {db}.a, the name of a captured table: change capture does not follow renames, so the target table {db}.a keeps its rows and gets the changes of the new {db}.a from now on, which is right when the new table held the same rows"),
    ] {
        assert!(stderr.contains(&warning), "`{warning}` not in:\n{stderr}");
        assert!(warned(&summary, &warning), "{summary:#}");
    }
    validate_with(source.url(), target.url(), hint, &mappings);
    let _ = std::fs::remove_dir_all(&staging);
}

/// Source and target in one database, every schema selected but the target's: migrate's own
/// schema (`migrate`: checkpoints, staging tables of the apply) is never taken for the user's,
/// on the first run (where it appears while capturing) or on the next (where it is there
/// before planning).
#[test]
fn one_database_never_captures_migrates_own_schema() {
    let Some((db, _unused, staging)) = pg_task("cdc_own_schema") else {
        return;
    };
    db.sql(
        "CREATE TABLE t (id int PRIMARY KEY, v text);
         INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 10) g;",
    )
    .unwrap();
    let mapping = staging.with_extension(format!("{}.json", unique()));
    std::fs::write(
        &mapping,
        r#"{"rules": [
             {"rule-type": "selection", "rule-id": "1", "rule-name": "all",
              "object-locator": {"schema-name": "%", "table-name": "%"}, "rule-action": "include"},
             {"rule-type": "selection", "rule-id": "2", "rule-name": "not the copy",
              "object-locator": {"schema-name": "copy", "table-name": "%"}, "rule-action": "exclude"},
             {"rule-type": "transformation", "rule-id": "3", "rule-name": "into copy",
              "rule-target": "schema", "object-locator": {"schema-name": "public"},
              "rule-action": "rename", "value": "copy"}]}"#,
    )
    .unwrap();
    let start = || {
        start_cdc(
            db.url(),
            db.url(),
            &staging,
            "own_schema",
            true,
            &["--table-mappings", mapping.to_str().unwrap()],
        )
    };
    let rows = |table: &str| {
        psql(
            db.url(),
            &format!("SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM {table}"),
        )
        .unwrap()
    };
    let mut cdc = start();
    wait_for_capture(&mut cdc, db.url());
    db.sql("UPDATE t SET v = v || '!' WHERE id <= 5; DELETE FROM t WHERE id = 10;")
        .unwrap();
    let (code, summary) = cdc.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{summary:?}");
    assert_eq!(rows("copy.t"), rows("public.t"));
    db.sql("UPDATE t SET v = 'while stopped' WHERE id = 1")
        .unwrap();
    let (code, summary) = start().summary(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{summary:#}");
    assert_eq!(rows("copy.t"), rows("public.t"));
    assert!(rows("copy.t").starts_with("1=while stopped,"));
    let sources: Vec<&str> = summary["tables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["source"].as_str())
        .collect();
    assert_eq!(sources, ["public.t"], "{summary:#}");
    let _ = std::fs::remove_dir_all(&staging);
}

/// With `--progress always`, the status line of a capture is the position, the changes and the
/// lags, without the full load's bar of rows (it showed an empty bar, "0/0 rows 0 rows/s eta 0s").
#[test]
fn the_capture_status_line_has_no_bar_of_rows() {
    let Some((source, target, staging)) = pg_task("cdc_status_line") else {
        return;
    };
    source
        .sql("CREATE TABLE s (id int PRIMARY KEY, v text)")
        .unwrap();
    let mut args = cdc_args(source.url(), target.url(), &staging, "status");
    let progress = args.iter().position(|a| *a == "--progress").unwrap() + 1;
    args[progress] = "always";
    args.extend(["--batch-seconds", "0.3", "--stop-when-idle", "2"]);
    let mut cdc = spawn_cdc(&args, &staging);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql("INSERT INTO s SELECT g, 'v' FROM generate_series(1, 100) g")
        .unwrap();
    wait_for_target(&mut cdc, target.url(), "SELECT count(*) FROM s", "100");
    let drawn_to = cdc.stderr.clone();
    let (code, _) = cdc.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0));
    let drawn = std::fs::read_to_string(drawn_to).unwrap_or_default();
    let status: Vec<&str> = drawn
        .split(['\r', '\n'])
        .filter(|line| line.contains("cdc at"))
        .collect();
    assert!(!status.is_empty(), "no status line in:\n{drawn}");
    for line in status {
        assert!(
            line.contains("changes") && !line.contains("rows/s") && !line.contains("eta"),
            "{line}"
        );
    }
}
