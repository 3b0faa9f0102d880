//! Bad input, as a careless user gives it: each case must stop with exit code 2 and a message
//! that names what is wrong and what to do, or be refused before it loses data; never a panic.

mod common;

use common::{convert_to, file, migrate, migrate_command, one, pg_task};
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

/// A script with nothing to convert (empty, only comments, or only data) is named in a warning,
/// from `convert` and `assess`: the user may have passed the wrong file. Both said "0 tables"
/// (or "0 objects") with exit code 0 and no word about the file.
#[test]
fn a_script_with_nothing_to_convert_is_named() {
    let cases = [
        (
            "empty.sql",
            "",
            "holds no SQL statement (it is empty, or only comments)",
        ),
        (
            "comments.sql",
            "-- the schema goes here\n/* later */\n",
            "holds no SQL statement (it is empty, or only comments)",
        ),
        (
            "data.sql",
            "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n",
            "holds only statements that are not converted",
        ),
    ];
    for (name, script, expected) in cases {
        let path = file(name, script.as_bytes());
        let finding = format!(
            "warning [script.no-statements] {}: {expected}",
            path.display()
        );
        let (code, _, stderr) = convert_to("postgres", "redshift", &path);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(stderr.contains(&finding), "{name}: {stderr}");
        let output = migrate(&["assess", "--from", "oracle", path.to_str().unwrap()]);
        let (code, stderr) = refused(&output);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(code, Some(1), "{name}: {stdout}{stderr}");
        assert!(
            stdout.contains("[script.no-statements]") && stdout.contains(expected),
            "{name}: {stdout}"
        );
    }
    // A script with a table is not warned about.
    let path = file(
        "table.sql",
        b"-- one table\nCREATE TABLE t (id int PRIMARY KEY);\n",
    );
    let (code, _, stderr) = convert_to("postgres", "redshift", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("script.no-statements"), "{stderr}");
}

/// An Oracle script read with `--from postgres` (or MySQL with `--from oracle`...) gave one
/// `type.unknown` per column and no hint that `--from` was wrong. One finding, before the
/// file's others, names the file, the `--from` given and the dialect whose types they are.
#[test]
fn a_script_of_another_dialect_says_which_dialect_its_types_are() {
    let oracle = file(
        "emp-oracle.sql",
        b"CREATE TABLE emp (\n  empno NUMBER(4) NOT NULL,\n  ename VARCHAR2(10),\n  hired DATE,\n  sal NUMBER(7,2),\n  photo BLOB,\n  notes CLOB,\n  CONSTRAINT pk_emp PRIMARY KEY (empno)\n);\n",
    );
    let mysql = file(
        "t-mysql.sql",
        b"CREATE TABLE t (\n  id INT UNSIGNED NOT NULL AUTO_INCREMENT,\n  body MEDIUMTEXT,\n  flag TINYINT(1),\n  created DATETIME,\n  raw LONGBLOB,\n  PRIMARY KEY (id)\n) ENGINE=InnoDB;\n",
    );
    for (path, from, other) in [
        (&oracle, "postgres", "oracle"),
        (&oracle, "mysql", "oracle"),
        (&mysql, "oracle", "mysql"),
    ] {
        let (code, _, stderr) = convert_to(from, "redshift", path);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(code, 1, "{stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        for expected in [
            format!(
                "action [script.other-dialect] {}: read as {from} (--from {from})",
                path.display()
            ),
            format!("are {other} types"),
            format!("read it with --from {other}"),
        ] {
            assert!(
                first.contains(&expected),
                "--from {from}: {expected:?} is missing: {stderr}"
            );
        }
        assert_eq!(
            stderr.matches("script.other-dialect").count(),
            1,
            "{stderr}"
        );
    }
    // Read with the right dialect, or with types no dialect has (user-defined types declared in
    // another file): no such finding.
    let user_types = file(
        "user-types.sql",
        b"CREATE TABLE t (a address_t, b phone_t, c int);\n",
    );
    for (path, from) in [
        (&oracle, "oracle"),
        (&mysql, "mysql"),
        (&user_types, "postgres"),
    ] {
        let (_, _, stderr) = convert_to(from, "redshift", path);
        assert!(!stderr.contains("script.other-dialect"), "{stderr}");
    }
}

/// `migrate copy` started in a directory where its state directory can't be made (here a file
/// stands where `.migrate-copy` must go; tests run as root, whom permissions don't stop) names
/// `--state-dir`, the option that moves it; with it, the copy runs. A `--journal` that can't
/// be written names `--journal`.
#[test]
fn a_state_directory_that_cannot_be_made_names_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (source, cwd) = (dir.path().join("in"), dir.path().join("cwd"));
    std::fs::create_dir_all(&source).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(source.join("a.txt"), b"a").unwrap();
    std::fs::write(cwd.join(".migrate-copy"), b"not a directory").unwrap();
    let out = dir.path().join("out");
    let copy = |extra: &[&str]| {
        let mut args = vec!["copy", source.to_str().unwrap(), out.to_str().unwrap()];
        args.extend(extra);
        migrate_command(&args)
            .current_dir(&cwd)
            .output()
            .expect("run migrate")
    };
    let (code, stderr) = refused(&copy(&[]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("create journal directory .migrate-copy")
            && stderr.contains("in .migrate-copy in the current directory")
            && stderr.contains("give --state-dir a directory this run can create and write"),
        "{stderr}"
    );
    let journal = cwd.join(".migrate-copy").join("copy.journal");
    let (code, stderr) = refused(&copy(&["--journal", journal.to_str().unwrap()]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("give --journal a file this run can create and write"),
        "{stderr}"
    );
    let state = dir.path().join("state");
    let (code, stderr) = refused(&copy(&["--state-dir", state.to_str().unwrap()]));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(std::fs::read(out.join("a.txt")).unwrap(), b"a");
}
