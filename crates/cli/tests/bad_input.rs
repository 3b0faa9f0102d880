//! Bad input, as a careless user gives it: each case must stop with exit code 2 and a message
//! that names what is wrong and what to do, or be refused before it loses data; never a panic.

mod common;

use common::{file, migrate, one, pg_task};
use std::process::Output;

/// Exit code and standard error of a run, after checking it did not panic.
fn refused(output: &Output) -> (Option<i32>, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output.status.code(), stderr)
}

/// `-5` after a numeric flag is that flag's (invalid) value, not an unknown argument: the
/// error names the flag.
#[test]
fn a_negative_number_is_refused_as_the_value_of_its_flag() {
    let url = "postgres://u@127.0.0.1:1/x";
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "replicate",
                "--source",
                url,
                "--target",
                url,
                "--chunk-rows",
                "-5",
            ],
            "invalid value '-5' for '--chunk-rows <N>'",
        ),
        (
            &[
                "replicate",
                "--source",
                url,
                "--target",
                url,
                "--parallel-tables",
                "-1",
            ],
            "invalid value '-1' for '--parallel-tables <N>'",
        ),
        (
            &[
                "replicate",
                "--source",
                url,
                "--target",
                url,
                "--cdc",
                "--batch-seconds",
                "-1",
            ],
            "--batch-seconds must be a positive number of seconds, not -1",
        ),
        (
            &[
                "validate",
                "--source",
                url,
                "--target",
                url,
                "--max-differences",
                "-1",
            ],
            "invalid value '-1' for '--max-differences <N>'",
        ),
        (
            &["copy", "a", "b", "-m", "-2"],
            "invalid value '-2' for '--parallel <N>'",
        ),
        (
            &["catalog", "--import", "a", "--concurrency", "-1"],
            "invalid value '-1' for '--concurrency <N>'",
        ),
    ];
    for (args, expected) in cases {
        let (code, stderr) = refused(&migrate(args));
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// An empty `--name` (`--name "$TASK"` with TASK unset) is refused: it used to stand for the
/// default name, and so resumed whichever task that is.
#[test]
fn an_empty_task_name_is_refused() {
    let url = "postgres://u@127.0.0.1:1/x";
    for (command, name) in [("replicate", ""), ("validate", ""), ("replicate", "  ")] {
        let (code, stderr) = refused(&migrate(&[
            command, "--source", url, "--target", url, "--name", name,
        ]));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("invalid value") && stderr.contains("a task name can't be blank"),
            "{command} {name:?}: {stderr}"
        );
    }
}

/// A task file or table mapping saved in Latin-1 is named as not UTF-8, with what to do, not
/// sent to check its path and permissions.
#[test]
fn a_task_file_or_mapping_that_is_not_utf8_says_so() {
    let task = file(
        "latin1-task.toml",
        b"[source]\nurl = \"postgres://u@h/caf\xe9\"\n",
    );
    let mapping = file("latin1-mapping.json", b"{\"rules\": [\"caf\xe9\"]}");
    let url = "postgres://u@127.0.0.1:1/x";
    for args in [
        vec!["replicate", "--task", task.to_str().unwrap()],
        vec![
            "replicate",
            "--source",
            url,
            "--target",
            url,
            "--table-mappings",
            mapping.to_str().unwrap(),
        ],
    ] {
        let (code, stderr) = refused(&migrate(&args));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("is not UTF-8 text") && stderr.contains("iconv"),
            "{stderr}"
        );
        assert!(!stderr.contains("permissions"), "{stderr}");
    }
}

/// A PostgreSQL URL the driver can't read names the option that is wrong.
#[test]
fn a_postgres_url_that_cannot_be_read_names_the_bad_option() {
    for (url, expected) in [
        (
            "postgres://u@127.0.0.1:1/x?fooo=bar",
            "unknown option `fooo`",
        ),
        (
            "postgres://u@127.0.0.1:99999/x",
            "invalid value for option `port`",
        ),
    ] {
        let (code, stderr) = refused(&migrate(&["assess", "--source", url]));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{url}: {stderr}");
    }
}

/// `--cdc-only --from` a position the server has not written yet (a mistyped LSN) is refused:
/// taken as it was, it moved the slot past every change made until then, which were skipped
/// without a word (exit code 0). A run with a right position then captures every change.
#[test]
fn cdc_only_from_a_position_the_server_has_not_reached_is_refused() {
    let Some((source, target, staging)) = pg_task("h6_future_lsn") else {
        return;
    };
    let table = "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one');";
    source.sql(table).unwrap();
    target.sql(table).unwrap();
    // The task's slot, made before the position the user means (as --cdc-only needs).
    let slot = migrate_source_postgres::capture_name(source.name(), "future");
    source
        .sql(&format!(
            "CREATE PUBLICATION {slot} FOR ALL TABLES; SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput');"
        ))
        .unwrap();
    let now = one(&source, "SELECT pg_current_wal_lsn()");
    let future = one(&source, "SELECT pg_current_wal_lsn() + 1073741824");
    let run = |from: &str| common::cdc_only(source.url(), target.url(), &staging, "future", from);
    let (code, stderr) = refused(&run(&future));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "position {future} is after the server's current WAL position"
        )) && stderr.contains("pg_current_wal_lsn()"),
        "{stderr}"
    );
    // The position the user meant: the change made after it reaches the target.
    source.sql("INSERT INTO t VALUES (2, 'two')").unwrap();
    let (code, stderr) = refused(&run(&now));
    assert_eq!(code, Some(0), "{stderr}");
    let rows = "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM t";
    assert_eq!(one(&target, rows), one(&source, rows));
}

/// A negative size (`--bandwidth -1`, `--part-size -5MiB`) is refused as that flag's value, not
/// as an unknown argument `-1`.
#[test]
fn a_negative_size_is_refused_as_the_value_of_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("in")).unwrap();
    for (flag, value) in [("--bandwidth", "-1"), ("--part-size", "-5MiB")] {
        let (code, stderr) = refused(&migrate(&[
            "copy",
            dir.path().join("in").to_str().unwrap(),
            dir.path().join("out").to_str().unwrap(),
            flag,
            value,
        ]));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("{flag}: bad size \"{value}\"")),
            "{stderr}"
        );
    }
}

/// A size that is not a number names its flag, without the number parser's own words.
#[test]
fn a_bad_size_names_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("in")).unwrap();
    let (code, stderr) = refused(&migrate(&[
        "copy",
        dir.path().join("in").to_str().unwrap(),
        dir.path().join("out").to_str().unwrap(),
        "--bandwidth",
        "lots",
    ]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--bandwidth: bad size \"lots\"") && stderr.contains("e.g. 16MiB"),
        "{stderr}"
    );
    assert!(!stderr.contains("float"), "{stderr}");
}
