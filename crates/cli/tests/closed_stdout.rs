//! Every command whose standard output its reader closed (`migrate ... | head`) stops quietly with
//! exit code 141, as a Unix tool killed by SIGPIPE does: the JSON reports too, not only the text
//! ones (docs/cli.md).

mod common;

use common::{one, pg_task, spawn_migrate};
use migrate_metastore_fixture::{ddl, populate, Dialect, Generation, Spec};
use std::process::Output;

/// Runs migrate with `args` and its standard output closed by the reader before anything was
/// written to it.
fn with_closed_stdout(args: &[&str]) -> Output {
    let mut child = spawn_migrate(args);
    // The reader is gone before migrate has read its input, let alone written its report.
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for migrate")
}

fn assert_quiet_sigpipe_exit(args: &[&str]) {
    let output = with_closed_stdout(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
}

#[test]
fn convert_and_assess_json_reports_stop_quietly() {
    let script: String = (0..3000)
        .map(|i| format!("CREATE TABLE t{i} (id int PRIMARY KEY, name varchar(100));\n"))
        .collect();
    let path = common::file("big.sql", script.as_bytes());
    let path = path.to_str().expect("utf-8 path");
    for args in [
        &["convert", "--from", "postgres", path, "--output", "json"][..],
        &["convert", "--from", "postgres", path],
        &["assess", "--from", "postgres", path, "--format", "json"],
        &["assess", "--from", "postgres", path, "--format", "html"],
        &["assess", "--from", "postgres", path],
    ] {
        assert_quiet_sigpipe_exit(args);
    }
}

/// The run itself is done (the rows are in the target); only its summary found no reader.
#[test]
fn replicate_and_validate_json_summaries_stop_quietly() {
    let Some((source, target, staging)) = pg_task("closed_stdout") else {
        return;
    };
    source
        .sql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) g")
        .unwrap();
    let staging = staging.to_str().expect("utf-8 path");
    let task = [
        "--source",
        source.url(),
        "--target",
        target.url(),
        "--name",
        "closed_stdout",
    ];
    for output in ["json", "text"] {
        let args: Vec<&str> = ["replicate"]
            .iter()
            .chain(&task)
            .chain(&["--staging", staging, "--restart", "--output", output])
            .copied()
            .collect();
        assert_quiet_sigpipe_exit(&args);
        assert_eq!(one(&target, "SELECT count(*) FROM t"), "50");
        let args: Vec<&str> = ["validate"]
            .iter()
            .chain(&task)
            .chain(&["--output", output])
            .copied()
            .collect();
        assert_quiet_sigpipe_exit(&args);
    }
    std::fs::remove_dir_all(staging).unwrap();
}

#[test]
fn catalog_json_report_stops_quietly() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let spec = Spec {
        tables: 2,
        partitions: 3,
        databases: 1,
        ..Spec::standard(Dialect::Mysql, Generation::Hive4, "closed_stdout")
    };
    let db = server.create_database("closed_stdout_metastore");
    db.sql(&format!(
        "{}\n{}",
        ddl(spec.dialect, spec.generation),
        populate(&spec)
    ))
    .unwrap();
    let export = std::env::temp_dir().join(migrate_testkit::unique_name("closed_stdout"));
    let export = export.to_str().expect("utf-8 path");
    assert_quiet_sigpipe_exit(&[
        "catalog",
        "--metastore",
        db.url(),
        "--export",
        export,
        "--output",
        "json",
    ]);
    assert!(std::path::Path::new(export).join("manifest.json").is_file());
    std::fs::remove_dir_all(export).unwrap();
}
