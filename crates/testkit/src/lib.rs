//! Test support for integration tests that need real servers (databases, S3).
//!
//! [`postgres()`], [`mariadb()`], [`s3()`] and [`glue()`] hand out a running server, found once per test process
//! ([`postgres_tls()`] and [`mariadb_tls()`]: second servers that accept TLS connections only):
//!
//! 1. from `MIGRATE_PG_URL` / `MIGRATE_MYSQL_URL` / `MIGRATE_S3_URL` when set (as `scenarios/test.sh`
//!    does), after checking that the server answers;
//! 2. otherwise by running `scenarios/servers/postgres.sh start` / `mariadb.sh start` /
//!    `s3.sh start`, which install (as root), initialise and start a private server, or reuse the one
//!    already running. The scripts lock, so any number of test binaries may ask at once. A server
//!    started this way is left running for the next test run; stop it with
//!    `scenarios/servers/postgres.sh stop` (and so on).
//!
//! When no server can be had, the answer depends on where the test runs:
//! - under CI (`CI` set to anything but `false`/`0`) or with `MIGRATE_REQUIRE_SERVERS=1`, the call
//!   **panics**, so the test fails and says why;
//! - elsewhere it returns `None` after printing `SKIPPED <test>: <reason>` on stderr, so a developer
//!   without the servers can still run the rest of the suite.
//!
//! A test that changes server-wide settings or restarts its server takes one of its own,
//! [`PrivateServer`] (same rule when it can't be had).
//!
//! A test therefore cannot pass under CI without its server: the only way to get past the `let ... else`
//! below without one is the local skip.
//!
//! Once a process has a server, a failing test also prints the disk's free space where the servers
//! keep their data (`disk: N MiB free of M MiB under DIR`): a nearly full disk makes them refuse
//! writes, and every later test fails with it.
//!
//! ```no_run
//! #[test]
//! fn counts_rows() {
//!     let Some(pg) = migrate_testkit::postgres() else { return };
//!     let db = pg.create_database("counts_rows"); // fresh, uniquely named, dropped at the end
//!     db.sql("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);").unwrap();
//!     assert_eq!(db.sql("SELECT count(*) FROM t").unwrap(), "2\n");
//! }
//! ```
//!
//! SQL runs through the servers' own clients (`psql`, `mariadb`), so this crate has no dependencies.
//! Failures come back as [`SqlError`], which names the failing statement, its line and the message.
//!
//! Environment: `MIGRATE_PG_URL`, `MIGRATE_PG_TLS_URL`, `MIGRATE_PG_BIN` (directory holding `psql`),
//! `MIGRATE_MYSQL_URL`, `MIGRATE_MYSQL_TLS_URL`,
//! `MIGRATE_S3_URL` (and the AWS variables [`s3()`] sets from it), `MIGRATE_GLUE_URL`,
//! `MIGRATE_HDFS_URL` with `MIGRATE_HDFS_HTTP_URL` (its WebHDFS, [`HdfsServer::webhdfs_url`]),
//! `MIGRATE_KEEP_TEST_DBS=1` (keep every test database), plus those of the scripts
//! (`MIGRATE_RUN_DIR`, `MIGRATE_PG_PORT`, `MIGRATE_MYSQL_PORT`).

// SqlError carries the whole story of a failure; test helpers are not on a hot path, so its size in
// `Result` does not matter.
#![allow(clippy::result_large_err)]

mod glue;
mod hdfs;
mod mariadb;
mod postgres;
mod private;
mod s3;
mod sql;

pub use glue::{glue, GlueServer};
pub use hdfs::{hdfs, HdfsServer};
pub use mariadb::{mariadb, mariadb_tls, MariaDb, MariaDbDatabase};
pub use postgres::{postgres, postgres_tls, PgDatabase, PgServer};
pub use private::{Engine, PrivateServer};
pub use s3::{s3, S3Server, S3_REGION};
pub use sql::SqlError;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

/// The public corpora of real-world scripts (`../shared/corpora` beside the repository, or
/// `MIGRATE_CORPORA`), which tests read but never copy. `None` (the test skips) when they are
/// missing; a failure instead where servers are required (CI).
pub fn corpora() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("MIGRATE_CORPORA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !servers_required(),
        "the corpora are required here but {} is missing (set MIGRATE_CORPORA)",
        dir.display()
    );
    eprintln!("SKIPPED: no corpora at {}", dir.display());
    None
}

/// True when a missing server must fail the test rather than skip it.
pub fn servers_required() -> bool {
    truthy("CI") || truthy("MIGRATE_REQUIRE_SERVERS")
}

fn truthy(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| is_truthy(&v))
}

/// CI systems set `CI=true` (some `CI=1`); treat anything but empty, `0`, `false`, `no` as set.
fn is_truthy(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    !(v.is_empty() || v == "0" || v == "false" || v == "no")
}

/// Turns the once-per-process lookup result into the caller's answer: the server, a panic (required),
/// or `None` with a visible skip notice.
fn available<T>(what: &str, found: &'static Result<T, String>) -> Option<&'static T> {
    match found {
        Ok(server) => {
            report_free_disk_on_panic();
            Some(server)
        }
        Err(reason) => unavailable(what, reason),
    }
}

/// From the first server handed out in a process on, a failing test also says how much disk is
/// left where the servers keep their data: a nearly full disk makes them refuse writes (S3 answers
/// HTTP 500, PostgreSQL stops) and every test after that fails for no fault of its own, so a
/// failure should say so where it is read.
fn report_free_disk_on_panic() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            eprintln!("{}", free_disk());
        }));
    });
}

/// "disk: N MiB free of M MiB under DIR", from `df` on the servers' run dir (or, when there is
/// none, this checkout).
fn free_disk() -> String {
    let run_dir = PathBuf::from(run_dir_of(""));
    let dir = if run_dir.exists() {
        run_dir
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    };
    let dir = std::fs::canonicalize(&dir)
        .unwrap_or(dir)
        .display()
        .to_string();
    let df = Command::new("df").args(["-Pk", &dir]).output();
    let line = match &df {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .map(str::to_string),
        _ => None,
    };
    // df -P: filesystem, 1024-blocks, used, available, capacity, mounted on.
    let fields: Vec<&str> = line.as_deref().unwrap_or("").split_whitespace().collect();
    match (fields.get(1), fields.get(3)) {
        (Some(size), Some(free)) => match (size.parse::<u64>(), free.parse::<u64>()) {
            (Ok(size), Ok(free)) => format!(
                "disk: {} MiB free of {} MiB under {dir} (the test servers' data)",
                free / 1024,
                size / 1024
            ),
            _ => format!("disk: `df -Pk {dir}` printed {fields:?}"),
        },
        _ => format!("disk: `df -Pk {dir}` failed: {df:?}"),
    }
}

/// `what` can't be had, for `reason`: a panic where servers are required, else `None` with a
/// visible skip notice.
fn unavailable<T>(what: &str, reason: &str) -> Option<T> {
    if servers_required() {
        panic!(
            "{what} is required here (CI or MIGRATE_REQUIRE_SERVERS is set) but is not available:\n{reason}"
        );
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    // Written to the real stderr: libtest would swallow eprintln! output of a passing test, and a
    // skip must be seen. One write, so parallel tests don't interleave mid-message.
    let notice = format!(
        "SKIPPED {test}: no {what}: {reason}\n  (set CI=true or MIGRATE_REQUIRE_SERVERS=1 to make this a failure)\n"
    );
    let _ = std::io::stderr().write_all(notice.as_bytes());
    None
}

/// `scenarios/servers/<name>` in this checkout.
fn server_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/servers")
        .join(name)
}

/// The run dir of a second server of a script, `name` under the scripts' run dir
/// (`MIGRATE_RUN_DIR`, else `<repo>/.run`): a script's state (data, port, lock) is per run dir.
fn run_dir_of(name: &str) -> String {
    let base = std::env::var("MIGRATE_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.run"));
    base.join(name).display().to_string()
}

/// The server's URL from the environment variable `var` when it is set, otherwise from starting
/// `scenarios/servers/<script>`; with where it came from, for messages.
fn url_from_env_or_script(var: &'static str, script: &str) -> Result<(String, String), String> {
    url_from_env_or_script_with(var, script, &[])
}

/// [`url_from_env_or_script`], the script run with the environment variables `env` added.
fn url_from_env_or_script_with(
    var: &'static str,
    script: &str,
    env: &[(&str, String)],
) -> Result<(String, String), String> {
    match std::env::var(var).ok().filter(|url| !url.trim().is_empty()) {
        Some(url) => Ok((url, var.to_string())),
        None => Ok((
            start_with_script(script, env)?,
            format!("scenarios/servers/{script}"),
        )),
    }
}

/// Runs `bash scenarios/servers/<name> ARGS` with `env` added (stdin closed) and returns its
/// output, whatever its exit status; `Err` when bash could not be run.
fn run_script(name: &str, args: &[&str], env: &[(&str, String)]) -> Result<Output, String> {
    let script = server_script(name);
    Command::new("bash")
        .arg(&script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run bash {}: {e}", script.display()))
}

/// Runs `<script> start` (with `env` added) and returns the URL it prints (its last line of
/// stdout).
fn start_with_script(name: &str, env: &[(&str, String)]) -> Result<String, String> {
    let out = run_script(name, &["start"], env)?;
    let script = server_script(name);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "`{} start` failed ({}):\n{}",
            script.display(),
            out.status,
            indent(tail(&stderr, 30))
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last().map(str::trim) {
        Some(url) if !url.is_empty() => Ok(url.to_string()),
        _ => Err(format!("`{} start` printed no URL", script.display())),
    }
}

/// A database name that no other test, process or earlier run has used: `t_<hint>_<pid>_<n>_<time>`,
/// lowercase, at most 63 bytes (PostgreSQL's limit; MariaDB's is 64).
pub fn unique_name(hint: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let suffix = format!(
        "_{}_{n}_{}",
        std::process::id(),
        base36(millis % 36u128.pow(6))
    );
    let mut clean: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    clean.truncate(63 - 2 - suffix.len());
    format!("t_{clean}{suffix}")
}

fn base36(mut v: u128) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(v % 36) as usize]);
        v /= 36;
        if v == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

/// `url` with its database (path) replaced by `db`, keeping any `?query`.
fn with_database(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let authority_start = main.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match main[authority_start..].find('/') {
        Some(i) => &main[..authority_start + i],
        None => main,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let end = url[start..]
        .find(['/', '?'])
        .map(|i| start + i)
        .unwrap_or(url.len());
    match url[start..end].rfind('@') {
        Some(at) => match url[start..start + at].find(':') {
            Some(colon) => format!("{}:***{}", &url[..start + colon], &url[start + at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn indent(s: String) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where a statement comes from: text, or a file the client reads.
#[derive(Clone, Copy)]
enum Input<'a> {
    Sql(&'a str),
    File(&'a Path),
}

impl Input<'_> {
    fn label(&self) -> String {
        match self {
            Input::Sql(_) => "<sql>".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// Runs `cmd`, feeding `stdin` from a thread (so a large script and a large result cannot deadlock).
fn run(mut cmd: Command, stdin: Option<&str>) -> std::io::Result<std::process::Output> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let writer = match (stdin, child.stdin.take()) {
        (Some(text), Some(mut pipe)) => {
            let text = text.to_string();
            // A client that stops reading early (error with ON_ERROR_STOP) closes the pipe: ignore.
            Some(std::thread::spawn(move || {
                let _ = pipe.write_all(text.as_bytes());
            }))
        }
        _ => None,
    };
    let out = child.wait_with_output()?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_valid_and_distinct() {
        let a = unique_name("Some Test::name-with-punctuation");
        let b = unique_name("Some Test::name-with-punctuation");
        assert_ne!(a, b);
        assert!(a.starts_with("t_some_test__name_with_punctuation_"), "{a}");
        let long = unique_name(&"x".repeat(200));
        assert!(long.len() <= 63, "{}", long.len());
        assert!(long
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    }

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5/postgres", "x"),
            "postgres://u@127.0.0.1:5/x"
        );
        assert_eq!(
            with_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
        assert_eq!(
            with_database("mysql://m:p@h:3306/", "x"),
            "mysql://m:p@h:3306/x"
        );
        assert_eq!(
            with_database("mysql://m:p@h:3306", "x"),
            "mysql://m:p@h:3306/x"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("mysql://migrate:secret@127.0.0.1:1/db"),
            "mysql://migrate:***@127.0.0.1:1/db"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:1/db"),
            "postgres://postgres@127.0.0.1:1/db"
        );
    }

    #[test]
    fn ci_values() {
        for (v, want) in [
            ("true", true),
            ("1", true),
            ("yes", true),
            ("TRUE", true),
            ("false", false),
            ("0", false),
            ("", false),
        ] {
            assert_eq!(is_truthy(v), want, "{v:?}");
        }
    }
}
