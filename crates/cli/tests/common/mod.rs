// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

//! What the replicate end-to-end tests share: running the real `migrate` binary and reading its
//! JSON summary.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The `migrate` command with `args`: warnings and errors only in its log, no standard input.
pub fn migrate_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate"));
    command
        .args(args)
        .env("MIGRATE_LOG", "warn")
        .stdin(Stdio::null());
    command
}

pub fn migrate(args: &[&str]) -> Output {
    migrate_command(args).output().expect("run migrate")
}

/// migrate started with `args`, its standard output and error piped to the test.
pub fn spawn_migrate(args: &[&str]) -> Child {
    migrate_command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run migrate")
}

/// Runs migrate with `--output json` and returns its exit code and summary.
pub fn migrate_json(args: &[&str]) -> (i32, Value) {
    summary_of(&migrate(&[args, &["--output", "json"]].concat()))
}

/// [`migrate_json`] with the S3 test server's credentials in migrate's environment.
pub fn migrate_json_on_s3(args: &[&str], s3: &migrate_testkit::S3Server) -> (i32, Value) {
    let args = [args, &["--output", "json"]].concat();
    summary_of(
        &migrate_command(&args)
            .envs(s3.env())
            .output()
            .expect("run migrate"),
    )
}

/// The exit code and JSON summary of a run; a run that printed none fails the test.
pub fn summary_of(output: &Output) -> (i32, Value) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}); exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), summary)
}

pub fn table<'a>(summary: &'a Value, target: &str) -> &'a Value {
    summary["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["target"] == target)
        .unwrap_or_else(|| panic!("no table {target} in {summary:#}"))
}

/// The arguments of `migrate replicate` (full load) of `source` into `target` through
/// `staging`, no progress bar, with `extra` arguments (`--name`, `--table-mappings`, ...).
pub fn replicate_args<'a>(
    source: &'a str,
    target: &'a str,
    staging: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "replicate",
        "--source",
        source,
        "--target",
        target,
        "--staging",
        staging.to_str().expect("utf-8 path"),
        "--progress",
        "never",
    ];
    args.extend(extra);
    args
}

/// [`replicate_args`] run: exit code and JSON summary.
pub fn replicate(source: &str, target: &str, staging: &Path, extra: &[&str]) -> (i32, Value) {
    migrate_json(&replicate_args(source, target, staging, extra))
}

/// A source and a target database on the test PostgreSQL server and a staging directory, all
/// named after `hint`; `None` without a server (outside CI: with `CI=true` the testkit fails).
pub fn pg_task(
    hint: &str,
) -> Option<(
    migrate_testkit::PgDatabase,
    migrate_testkit::PgDatabase,
    std::path::PathBuf,
)> {
    let pg = migrate_testkit::postgres()?;
    Some((
        pg.create_database(&format!("{hint}_src")),
        pg.create_database(&format!("{hint}_dst")),
        std::env::temp_dir().join(migrate_testkit::unique_name(hint)),
    ))
}

/// A MariaDB source database, a PostgreSQL target database and a staging directory on the test
/// servers, all named after `hint`; `None` without the servers (outside CI: with `CI=true` the
/// testkit fails).
pub fn mariadb_task(
    hint: &str,
) -> Option<(
    migrate_testkit::MariaDbDatabase,
    migrate_testkit::PgDatabase,
    std::path::PathBuf,
)> {
    let (mariadb, pg) = (migrate_testkit::mariadb()?, migrate_testkit::postgres()?);
    Some((
        mariadb.create_database(&format!("{hint}_src")),
        pg.create_database(&format!("{hint}_dst")),
        std::env::temp_dir().join(migrate_testkit::unique_name(hint)),
    ))
}

/// The one answer of `sql` in `db` (its output without the final newline); a failure fails the
/// test naming the SQL.
pub fn one(db: &migrate_testkit::PgDatabase, sql: &str) -> String {
    db.sql(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .trim_end_matches('\n')
        .to_string()
}

/// A file with `content` in a fresh temporary directory.
pub fn file(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migrate-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write input");
    path
}

/// `migrate convert --from <from> --target <target> <path>`: exit code, stdout, stderr.
pub fn convert_to(from: &str, target: &str, path: &Path) -> (i32, String, String) {
    let output = migrate(&[
        "convert",
        "--from",
        from,
        "--target",
        target,
        path.to_str().expect("utf-8 path"),
    ]);
    (
        output.status.code().expect("exit code"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs converted PostgreSQL DDL on a real PostgreSQL, when one is configured, in a database of
/// its own, returned for the test's queries.
pub fn runs_on_postgres(hint: &str, ddl: &str) -> Option<migrate_testkit::PgDatabase> {
    let server = migrate_testkit::postgres()?;
    let database = server.create_database(hint);
    database.sql(ddl).unwrap_or_else(|e| panic!("{e}\n{ddl}"));
    Some(database)
}

/// Runs each of `inserts` on `source` and on `target` (a conversion of it); asserts that the
/// target takes exactly the ones the source takes, and that `rows` (a query) gives the same rows
/// on both. Returns what the source took.
pub fn same_verdicts(
    source: &migrate_testkit::PgDatabase,
    target: &migrate_testkit::PgDatabase,
    inserts: &[&str],
    rows: &str,
) -> Vec<bool> {
    let taken = |database: &migrate_testkit::PgDatabase| -> Vec<(&str, bool)> {
        inserts
            .iter()
            .map(|insert| (*insert, database.sql(insert).is_ok()))
            .collect()
    };
    let source_took = taken(source);
    assert_eq!(
        taken(target),
        source_took,
        "the target takes what the source takes"
    );
    assert_eq!(
        target.sql(rows).unwrap_or_else(|e| panic!("{e}")),
        source.sql(rows).unwrap_or_else(|e| panic!("{e}")),
    );
    source_took.into_iter().map(|(_, took)| took).collect()
}

/// `replicate --cdc-only --from from` of task `name` from `source` to `target`, until 2 s
/// without a change, no validation, no progress bar.
pub fn cdc_only(source: &str, target: &str, staging: &Path, name: &str, from: &str) -> Output {
    migrate(&replicate_args(
        source,
        target,
        staging,
        &[
            "--cdc-only",
            "--from",
            from,
            "--name",
            name,
            "--stop-when-idle",
            "2",
            "--no-validate",
        ],
    ))
}

/// `url` (`scheme://credentials@server/...`) with `user` and `password` for its credentials.
pub fn url_as(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let server = rest.split_once('@').map_or(rest, |(_, server)| server);
    format!("{scheme}://{user}:{password}@{server}")
}

/// Writes a table mapping of `rules` (DMS rule objects, comma-separated) beside `staging`; its
/// `--table-mappings` arguments.
pub fn table_mapping(staging: &Path, rules: &str) -> [String; 2] {
    let mapping = staging.with_extension("mapping.json");
    std::fs::write(&mapping, format!(r#"{{"rules": [{rules}]}}"#)).expect("write the mapping");
    [
        "--table-mappings".to_string(),
        mapping.to_str().expect("utf-8 path").to_string(),
    ]
}

/// The finding of a run's JSON summary with `code`, if any; more than one fails the test.
pub fn the_finding<'s>(summary: &'s Value, code: &str) -> Option<&'s Value> {
    let found = findings(summary, code);
    assert!(found.len() <= 1, "{summary:#}");
    found.first().copied()
}

/// The findings of a run's JSON summary with `code`.
pub fn findings<'s>(summary: &'s Value, code: &str) -> Vec<&'s Value> {
    summary["findings"]
        .as_array()
        .expect("the summary lists its findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}
