//! `migrate replicate` killed with SIGKILL at several points of a load, or stopped by SIGTERM, then
//! run again: every row arrives exactly once (checked in SQL, independently of migrate's
//! validation).

mod common;

use common::{migrate_json, one, pg_task, spawn_migrate, table};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Chunks loaded into `target` so far (their checkpoints), by any task.
fn checkpoints(target: &migrate_testkit::PgDatabase) -> u32 {
    if one(
        target,
        "SELECT to_regclass('migrate.migrate_checkpoint') IS NULL",
    ) == "t"
    {
        return 0;
    }
    one(target, "SELECT count(*) FROM migrate.migrate_checkpoint")
        .parse::<u32>()
        .unwrap()
}

/// `replicate` of task `name` from `source` into `target`, `chunk_rows` per chunk, `parallel`
/// tables at once.
fn load_args<'a>(
    source: &'a migrate_testkit::PgDatabase,
    target: &'a migrate_testkit::PgDatabase,
    staging: &'a std::path::Path,
    chunk_rows: &'a str,
    parallel: &'a str,
    name: &'a str,
) -> [&'a str; 13] {
    [
        "replicate",
        "--source",
        source.url(),
        "--target",
        target.url(),
        "--staging",
        staging.to_str().expect("utf-8 path"),
        "--chunk-rows",
        chunk_rows,
        "--parallel-tables",
        parallel,
        "--name",
        name,
    ]
}

#[test]
fn a_load_killed_anywhere_resumes_exactly() {
    let Some((source, target, staging)) = pg_task("rep_kill") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE big (id int PRIMARY KEY, v text, x double precision);
             INSERT INTO big SELECT g, md5(g::text), g / 7.0 FROM generate_series(1, 300000) g;
             CREATE TABLE heap (a int, b text);
             INSERT INTO heap SELECT g % 500, md5(g::text) FROM generate_series(1, 100000) g;
             CREATE TABLE small (k text PRIMARY KEY, n int);
             INSERT INTO small SELECT 'k' || g, g FROM generate_series(1, 1000) g;
             ANALYZE;",
        )
        .unwrap();
    let args = load_args(&source, &target, &staging, "20000", "2", "killed");
    let checkpoints = || checkpoints(&target);
    // Kill points from the first statements (prepare) to the last chunks and the validation.
    let mut after_kills = Vec::new();
    let mut finished_early = false;
    for delay_ms in [60, 250, 700, 1300, 2000, 3000, 4500] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(args)
            .env("MIGRATE_LOG", "off")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run migrate");
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(delay_ms) {
            if child.try_wait().expect("poll").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if child.try_wait().expect("poll").is_some() {
            finished_early = true;
            break;
        }
        // SIGKILL: no chance to clean up.
        child.kill().expect("kill migrate");
        child.wait().expect("reap migrate");
        let done = checkpoints();
        eprintln!("killed after {delay_ms} ms: {done} chunks loaded");
        after_kills.push(done);
    }

    let (code, summary) = migrate_json(&args);
    assert_eq!(code, 0, "{summary:#}");
    for table in summary["tables"].as_array().unwrap() {
        assert_eq!(table["status"], "loaded", "{table:#}");
        assert_eq!(table["validation"]["status"], "passed", "{table:#}");
    }
    for (table, order) in [("big", "id"), ("heap", "a, b"), ("small", "k")] {
        let sql = format!(
            "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY {order})) FROM {table} t"
        );
        assert_eq!(one(&source, &sql), one(&target, &sql), "{table}");
    }
    assert_eq!(
        one(&target, "SELECT count(*) - count(DISTINCT id) FROM big"),
        "0"
    );
    let total = checkpoints();
    let mid_load = after_kills.iter().filter(|&&n| n > 0 && n < total).count();
    assert!(
        mid_load >= 2 || finished_early,
        "the kills should fall in the middle of the load: {after_kills:?} of {total} chunks"
    );
}

/// SIGTERM during a full load: the chunks being loaded finish, no other chunk or table starts
/// (a table not started is not even prepared), the summary says what is missing and the exit
/// code is 1; the next run loads the rest.
#[test]
fn a_load_stopped_by_sigterm_reports_what_is_missing_and_resumes() {
    let Some((source, target, staging)) = pg_task("rep_term") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE big (id int PRIMARY KEY, v text);
             INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 400000) g;
             CREATE TABLE small (k text PRIMARY KEY, n int);
             INSERT INTO small SELECT 'k' || g, g FROM generate_series(1, 1000) g;
             ANALYZE;",
        )
        .unwrap();
    let args = load_args(&source, &target, &staging, "10000", "1", "stopped");
    let child = spawn_migrate(&[&args[..], &["--output", "json"]].concat());
    let started = Instant::now();
    while checkpoints(&target) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no chunk loaded in 60 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().expect("wait for migrate");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no summary after SIGTERM ({e}); stderr:\n{stderr}"));
    assert_eq!(output.status.code(), Some(1), "{summary:#}\n{stderr}");
    assert_eq!(summary["ok"], false);
    let interrupted = summary["interrupted"].as_str().unwrap_or_default();
    assert!(
        interrupted.contains("stopped by a signal before 2 table(s) were loaded")
            && interrupted.contains("run the same command again to resume"),
        "{summary:#}"
    );
    assert!(
        stderr.contains("stopping: finishing the chunks being loaded"),
        "{stderr}"
    );
    let big = table(&summary, "public.big");
    assert_eq!(big["status"], "interrupted", "{big:#}");
    let loaded = checkpoints(&target);
    assert_eq!(big["chunks_loaded"], loaded, "{big:#}");
    assert!(loaded < 40, "stopped before the last chunk: {big:#}");
    assert_eq!(big["chunks"], 40);
    assert_eq!(
        big["rows"].to_string(),
        one(&target, "SELECT count(*) FROM big"),
        "the rows reported are the rows loaded"
    );
    assert!(big.get("validation").is_none(), "{big:#}");
    let small = table(&summary, "public.small");
    assert_eq!(small["status"], "interrupted", "{small:#}");
    assert_eq!(small["chunks"], 0, "{small:#}");
    assert_eq!(
        one(&target, "SELECT to_regclass('public.small') IS NULL"),
        "t",
        "a table not started is not prepared"
    );

    let (code, summary) = migrate_json(&args);
    assert_eq!(code, 0, "{summary:#}");
    assert!(summary.get("interrupted").is_none(), "{summary:#}");
    assert_eq!(table(&summary, "public.big")["chunks_skipped"], loaded);
    for (name, order) in [("big", "id"), ("small", "k")] {
        let sql = format!(
            "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY {order})) FROM {name} t"
        );
        assert_eq!(one(&source, &sql), one(&target, &sql), "{name}");
        let t = table(&summary, &format!("public.{name}"));
        assert_eq!(t["validation"]["status"], "passed", "{t:#}");
    }
    let _ = std::fs::remove_dir_all(&staging);
}
