//! What the change-capture test files share: psql, a `migrate replicate --cdc` run in the
//! background and waits on it. Included with `#[path = "common/cdc.rs"]`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// psql against any database URL (the testkit's psql, so the same binary everywhere).
pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    let pg = migrate_testkit::postgres().expect("the PostgreSQL server");
    let output = Command::new(pg.psql_path())
        .args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).to_string())
    }
}

/// Waits until the full load is done and change capture recorded its start in the target.
/// (DDL on the source during a full load fails it: PostgreSQL resolves column names in the
/// current catalog, not in the snapshot. The workload's schema changes wait for this.)
pub fn wait_for_capture(cdc: &mut Cdc, target: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while psql(
        target,
        "SELECT count(*) FROM migrate.migrate_cdc_checkpoint",
    )
    .as_deref()
        != Ok("1")
    {
        if let Some(status) = cdc.child.try_wait().unwrap() {
            panic!(
                "migrate exited ({status}) during the full load; stderr:\n{}",
                cdc.stderr()
            );
        }
        assert!(Instant::now() < deadline, "no capture start within 120 s");
        thread::sleep(Duration::from_millis(200));
    }
}

pub struct Cdc {
    pub child: Child,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// The arguments of a `migrate replicate --cdc` run of task `name` (no progress bar), before
/// the run's own.
pub fn cdc_args<'a>(
    source: &'a str,
    target: &'a str,
    staging: &'a Path,
    name: &'a str,
) -> Vec<&'a str> {
    vec![
        "replicate",
        "--cdc",
        "--source",
        source,
        "--target",
        target,
        "--staging",
        staging.to_str().unwrap(),
        "--name",
        name,
        "--progress",
        "never",
    ]
}

pub fn start_cdc(
    source: &str,
    target: &str,
    staging: &Path,
    name: &str,
    idle_stop: bool,
    extra: &[&str],
) -> Cdc {
    let mut args = cdc_args(source, target, staging, name);
    args.extend([
        "--output",
        "json",
        "--batch-seconds",
        "0.3",
        "--no-validate",
    ]);
    if idle_stop {
        args.extend(["--stop-when-idle", "3"]);
    }
    args.extend(extra);
    spawn_cdc(&args, staging)
}

/// Starts migrate with `args`, its standard output and error in files beside `staging`.
pub fn spawn_cdc(args: &[&str], staging: &Path) -> Cdc {
    let stdout = staging.with_extension(format!("{}.out", unique()));
    let stderr = staging.with_extension(format!("{}.err", unique()));
    let child = crate::common::migrate_command(args)
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("start migrate");
    Cdc {
        child,
        stdout,
        stderr,
    }
}

/// Runs `migrate replicate --cdc` (text output, `extra` arguments) to its end: its output.
/// (Uses the includer's `mod common`.)
pub fn cdc_to_the_end(
    source: &str,
    target: &str,
    staging: &Path,
    name: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = cdc_args(source, target, staging, name);
    args.extend(extra);
    crate::common::migrate(&args)
}

/// Runs `replicate --cdc` once with `extra`, expecting it to be refused before its full load
/// (exit code 2); its standard error.
pub fn refused_cdc(
    source: &str,
    target: &str,
    staging: &Path,
    name: &str,
    extra: &[&str],
) -> String {
    let output = cdc_to_the_end(source, target, staging, name, extra);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr
}

/// Runs `replicate --cdc` with `extra` until 2 s without a change, expecting it to succeed
/// (exit code 0).
pub fn finished_cdc(source: &str, target: &str, staging: &Path, name: &str, extra: &[&str]) {
    let args = [&["--stop-when-idle", "2"][..], extra].concat();
    let output = cdc_to_the_end(source, target, staging, name, &args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn unique() -> String {
    migrate_testkit::unique_name("o")
}

impl Cdc {
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; returns its code and JSON summary (if it printed one).
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, Option<serde_json::Value>) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let out = std::fs::read_to_string(&self.stdout).unwrap_or_default();
                return (status.code(), serde_json::from_str(&out).ok());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "migrate did not exit within {limit:?}; stderr:\n{}",
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Like [`wait`](Self::wait), for a run that must print its JSON summary: a run that printed
    /// none fails the test with its exit code and standard error (what went wrong is there).
    pub fn summary(self, limit: Duration) -> (Option<i32>, serde_json::Value) {
        let stderr = self.stderr.clone();
        let (code, summary) = self.wait(limit);
        let summary = summary.unwrap_or_else(|| {
            panic!(
                "migrate exited with {code:?} and no JSON summary; stderr:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            )
        });
        (code, summary)
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

/// A test that fails midway must not leave migrate running: it would keep its replication
/// slot active and its connections open on the shared test servers.
impl Drop for Cdc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Ends a capture: SIGTERM, clean exit with a summary whose checkpointed position is set.
pub fn stop(cdc: Cdc) -> serde_json::Value {
    cdc.signal("-TERM");
    let stderr_path = cdc.stderr.clone();
    let (code, summary) = cdc.wait(Duration::from_secs(60));
    let stderr = std::fs::read_to_string(stderr_path).unwrap_or_default();
    assert_eq!(
        code,
        Some(0),
        "SIGTERM must end the run cleanly; stderr:\n{stderr}"
    );
    let summary = summary.unwrap_or_else(|| panic!("no summary; stderr:\n{stderr}"));
    assert!(summary["cdc"]["position"].is_string(), "{summary:#}");
    summary
}

/// The warnings a run's `summary` lists.
pub fn warnings(summary: &serde_json::Value) -> Vec<&str> {
    summary["warnings"]
        .as_array()
        .expect("the summary lists its warnings")
        .iter()
        .filter_map(|w| w.as_str())
        .collect()
}

/// Waits (60 s at most) for `cdc` to stop with an error once capture started: exit code 2, the
/// error on standard error and in the summary, which still reports the run; its standard error.
pub fn stopped_with_error(cdc: Cdc) -> String {
    let stderr = cdc.stderr.clone();
    let (code, summary) = cdc.summary(Duration::from_secs(60));
    let error = std::fs::read_to_string(stderr).unwrap_or_default();
    assert_eq!(code, Some(2), "{error}");
    assert_eq!(summary["ok"], false, "{summary:#}");
    assert_eq!(summary["cdc"]["stopped"], "error", "{summary:#}");
    let reported = summary["cdc"]["error"].as_str().unwrap_or_default();
    assert!(
        !reported.is_empty() && error.contains(reported),
        "the summary's error is not the one on standard error: {summary:#}\nstderr:\n{error}"
    );
    assert!(
        !summary["tables"].as_array().unwrap().is_empty(),
        "{summary:#}"
    );
    error
}

/// Waits (60 s at most) until `sql` answers the same in the target as in the source while `cdc`
/// runs.
pub fn wait_until_same(cdc: &mut Cdc, source: &str, target: &str, sql: &str) {
    wait_for_answer(cdc, target, sql, || psql(source, sql));
}

/// Waits (60 s at most) until `sql` answers `want` in the target while `cdc` runs.
pub fn wait_for_target(cdc: &mut Cdc, target: &str, sql: &str, want: &str) {
    wait_for_answer(cdc, target, sql, || Ok(want.to_string()));
}

/// Waits (60 s at most) until `sql` answers in the target what `want` gives (a failing query
/// is no answer) while `cdc` runs.
fn wait_for_answer(
    cdc: &mut Cdc,
    target: &str,
    sql: &str,
    want: impl Fn() -> Result<String, String>,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (got, want) = (psql(target, sql), want());
        if got.is_ok() && got == want {
            return;
        }
        if let Some(status) = cdc.child.try_wait().unwrap() {
            panic!("migrate exited ({status}); stderr:\n{}", cdc.stderr());
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: target {got:?} != {want:?}; stderr:\n{}",
            cdc.stderr()
        );
        thread::sleep(Duration::from_millis(300));
    }
}

/// Whether the database at `url` has table `schema.table` (a failing query fails the test).
pub fn pg_table_exists(url: &str, schema: &str, table: &str) -> bool {
    let sql = format!("SELECT to_regclass('\"{schema}\".{table}') IS NOT NULL");
    match psql(url, &sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .as_str()
    {
        "t" => true,
        "f" => false,
        other => panic!("{sql}: {other}"),
    }
}

/// Writes a table mapping beside `staging` that selects every table but those whose name
/// matches one of the `excluded` patterns (`LIKE`, `[_]` for a literal `_`); its
/// `--table-mappings` arguments.
pub fn selecting_all_but(staging: &Path, excluded: &[&str]) -> [String; 2] {
    let rule = |id: usize, table: &str, action: &str| {
        format!(
            r#"{{"rule-type": "selection", "rule-id": "{id}", "rule-name": "{id}",
                 "object-locator": {{"schema-name": "%", "table-name": "{table}"}},
                 "rule-action": "{action}"}}"#
        )
    };
    let mut rules = vec![rule(1, "%", "include")];
    for (id, table) in excluded.iter().enumerate() {
        rules.push(rule(id + 2, table, "exclude"));
    }
    crate::common::table_mapping(staging, &rules.join(","))
}

/// [`start_cdc`] with a table mapping that selects every table but `excluded` (see
/// [`selecting_all_but`]).
pub fn start_cdc_without(
    source: &str,
    target: &str,
    staging: &Path,
    name: &str,
    idle_stop: bool,
    excluded: &[&str],
) -> Cdc {
    let mapping = selecting_all_but(staging, excluded);
    let args = [mapping[0].as_str(), mapping[1].as_str()];
    start_cdc(source, target, staging, name, idle_stop, &args)
}
