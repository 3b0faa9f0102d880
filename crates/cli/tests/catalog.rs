//! `migrate catalog` as users run it: the real binary against a metastore in MariaDB (the project's
//! DDL and generator) and the Glue API of moto. Exit codes, the text and JSON reports, the dry-run
//! diff, and the errors for bad input.

mod common;

use common::migrate_command;
use migrate_metastore_fixture::{ddl, populate, Dialect, Generation, Spec};
use migrate_testkit::{MariaDb, MariaDbDatabase};
use serde_json::Value;
use std::process::{Command, Output, Stdio};

/// `migrate catalog ARGS` with the environment `env` and nothing else of AWS's.
fn catalog_command(args: &[&str], env: &[(&'static str, String)]) -> Command {
    let mut cmd = migrate_command(&[&["catalog"], args].concat());
    // Only what the test gives: no endpoint or credentials from the developer's shell.
    cmd.env_remove("AWS_ENDPOINT_URL_GLUE")
        .envs(env.iter().cloned());
    cmd
}

/// [`catalog_command`] run to the end.
fn migrate(args: &[&str], env: &[(&'static str, String)]) -> Output {
    catalog_command(args, env).output().expect("run migrate")
}

/// A short unique prefix for the test's database names (Glue is shared by every test and run).
fn prefix(hint: &str) -> String {
    migrate_testkit::unique_name(hint)
        .trim_start_matches("t_")
        .to_string()
}

/// A fresh database on `server` holding a metastore filled per `spec`.
fn metastore(server: &MariaDb, hint: &str, spec: &Spec) -> MariaDbDatabase {
    let db = server.create_database(hint);
    db.sql(&format!(
        "{}\n{}",
        ddl(spec.dialect, spec.generation),
        populate(spec)
    ))
    .unwrap();
    db
}

fn text(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn migrate_rerun_dry_run_and_nothing_selected() {
    let (Some(glue), Some(server)) = (migrate_testkit::glue(), migrate_testkit::mariadb()) else {
        return;
    };
    let prefix = prefix("cli");
    let spec = Spec {
        tables: 20,
        partitions: 50,
        databases: 2,
        ..Spec::standard(Dialect::Mysql, Generation::Hive4, &prefix)
    };
    let db = metastore(server, "cli_metastore", &spec);
    let env = glue.env();
    let selected = format!("{prefix}_*");
    let base = [
        "--metastore",
        db.url(),
        "--database",
        &selected,
        "--location-map",
        "hdfs://nn:8020/warehouse=s3://lake/wh",
    ];

    let (code, out, err) = text(&migrate(&base, &env));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("migrated: Glue now matches"), "{out}");
    assert_changes_sorted(&out);
    assert!(out.contains("+ partition"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("partitions") && l.split_whitespace().nth(1) == Some("50")),
        "{out}"
    );
    // Archived partitions are outside the map: listed, not hidden.
    assert!(
        out.contains("not rewritten: hdfs://nn:8020/archive/"),
        "{out}"
    );

    let mut json_args = base.to_vec();
    json_args.extend(["--output", "json"]);
    let (code, out, err) = text(&migrate(&json_args, &env));
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["outcome"], "in_sync");
    assert_eq!(report["partitions"]["unchanged"], 50);
    assert_eq!(report["tables"]["unchanged"], 20);

    db.sql("UPDATE `SDS` SET `LOCATION` = 'hdfs://nn:8020/warehouse/elsewhere' WHERE `SD_ID` = (SELECT `SD_ID` FROM `PARTITIONS` ORDER BY `PART_ID` LIMIT 1)")
        .unwrap();
    let mut dry = base.to_vec();
    dry.push("--dry-run");
    let (code, out, _) = text(&migrate(&dry, &env));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Changes (dry run, nothing written):"), "{out}");
    assert!(
        out.contains("StorageDescriptor.Location: hdfs://nn:8020/archive/"),
        "{out}"
    );
    assert!(out.contains("-> s3://lake/wh/elsewhere"), "{out}");
    assert!(out.contains("dry run: nothing was written"), "{out}");
    // The dry run wrote nothing: the real run still has the update to make.
    let (code, out, _) = text(&migrate(&json_args, &env));
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["partitions"]["updated"], 1);
    assert_eq!(report["outcome"], "migrated");

    let (code, out, _) = text(&migrate(
        &["--metastore", db.url(), "--database", "no_such_*"],
        &env,
    ));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOTHING MIGRATED"), "{out}");

    // A partition value with `/` in it: named unambiguously. The partition it was before is now
    // only in Glue: counted, and the run does not say Glue matches.
    db.sql("UPDATE `PARTITION_KEY_VALS` SET `PART_KEY_VAL` = 'a/b' WHERE `INTEGER_IDX` = 0 AND `PART_ID` = (SELECT MIN(`PART_ID`) FROM `PARTITIONS`)")
        .unwrap();
    let (code, out, _) = text(&migrate(&base, &env));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("+ partition ") && out.contains("/a%2Fb/0\n"),
        "{out}"
    );
    assert!(
        out.contains("partitions only in Glue (not in the source): 1 in 1 table(s), 0 deleted"),
        "{out}"
    );
    assert!(out.contains("NOT IN SYNC"), "{out}");
    assert!(!out.contains("Glue now matches"), "{out}");
    let (code, out, _) = text(&migrate(&json_args, &env));
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["outcome"], "extra_in_glue");
    assert_eq!(report["partitions_only_in_glue"][0]["count"], 1);
    let mut delete = base.to_vec();
    delete.push("--delete-extra-partitions");
    let (code, out, _) = text(&migrate(&delete, &env));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("- partition "), "{out}");
    assert!(out.contains("migrated: Glue now matches"), "{out}");
}

/// The changes are listed sorted (databases, tables, partitions; by name), whatever order the
/// batches finished in.
fn assert_changes_sorted(out: &str) {
    let order = |kind: &str| {
        ["database", "table", "partition"]
            .iter()
            .position(|k| *k == kind)
    };
    let listed: Vec<(Option<usize>, String)> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  + "))
        .filter_map(|l| l.split_once(' '))
        .map(|(kind, name)| (order(kind), name.to_string()))
        .collect();
    assert!(listed.len() > 10, "{out}");
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "{out}");
}

/// `catalog --import FILE` and `--export FILE`: the file is named as a file, not as an
/// operating-system error on a path under it.
#[test]
fn a_catalog_import_or_export_into_a_file_says_it_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("export.txt");
    std::fs::write(&plain, "x").unwrap();
    let plain = plain.to_str().unwrap();
    // A Glue configuration, checked first (none is in CI's environment).
    let env = [
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "x".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "y".to_string()),
    ];
    let (code, _, err) = text(&migrate(
        &[
            "--import",
            plain,
            "--dry-run",
            "--glue-endpoint",
            "http://127.0.0.1:1",
        ],
        &env,
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is a file, not a directory") && err.contains("--export"),
        "{err}"
    );
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let spec = Spec {
        databases: 1,
        tables: 2,
        partitions: 0,
        ..Spec::standard(Dialect::Mysql, Generation::Hive3, &prefix("file"))
    };
    let db = metastore(server, "export_file", &spec);
    let (code, _, err) = text(&migrate(
        &["--metastore", db.url(), "--export", plain],
        &env,
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is a file, not a directory") && err.contains("new directory"),
        "{err}"
    );
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    let (code, _, err) = text(&migrate(
        &[
            "--metastore",
            "mysql://u:p@127.0.0.1:1/hive",
            "--location-map",
            "hdfs://nn/warehouse",
        ],
        &[],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("FROM=TO"), "{err}");
    let (code, _, err) = text(&migrate(
        &[
            "--metastore",
            "mysql://u:p@127.0.0.1:1/hive",
            "--location-map",
            "hdfs://a=s3://x",
            "--location-map",
            "hdfs://a/=s3://y",
        ],
        &[],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("twice"), "{err}");
    // --import and --metastore together, or neither: usage errors naming both.
    let (code, _, err) = text(&migrate(&[], &[]));
    assert_eq!(code, 2);
    assert!(
        err.contains("--metastore") && err.contains("--import"),
        "{err}"
    );

    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("cli_not_metastore");
    db.sql("CREATE TABLE orders (id int)").unwrap();
    let env = [
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "x".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "y".to_string()),
    ];
    let (code, _, err) = text(&migrate(&["--metastore", db.url()], &env));
    assert_eq!(code, 2);
    assert!(err.contains("unknown metastore layout"), "{err}");
    let hive2 = Spec {
        tables: 1,
        partitions: 0,
        databases: 1,
        ..Spec::standard(Dialect::Mysql, Generation::Hive2, "cli_hive2")
    };
    let hms2 = metastore(server, "cli_hive2", &hive2);
    let (code, _, err) = text(&migrate(
        &["--metastore", hms2.url(), "--hive-catalog", "spark"],
        &env,
    ));
    assert_eq!(code, 2);
    assert!(
        err.contains("Hive 2.x") && err.contains("no catalogs"),
        "{err}"
    );
    assert!(!err.contains(":migrate@"), "the password is printed: {err}");

    // Glue that does not answer: named, exit 2, nothing half-done.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = Spec {
        tables: 3,
        partitions: 0,
        databases: 1,
        ..Spec::standard(Dialect::Mysql, Generation::Hive4, "cli_dead")
    };
    let hms = metastore(server, "cli_dead_glue", &spec);
    let (code, _, err) = text(&migrate(
        &["--metastore", hms.url(), "--hive-catalog", "nosuch"],
        &env,
    ));
    assert_eq!(code, 2);
    assert!(err.contains("its catalogs: hive, spark"), "{err}");
    let endpoint = format!("http://127.0.0.1:{port}");
    let (code, _, err) = text(&migrate(
        &["--metastore", hms.url(), "--glue-endpoint", &endpoint],
        &env,
    ));
    assert_eq!(code, 2);
    assert!(err.contains(&format!("cannot reach {endpoint}")), "{err}");
}

/// SIGINT during a run: nothing more is sent, the summary says what was done, exit code 1.
#[test]
fn sigint_stops_the_run_with_a_summary() {
    let (Some(glue), Some(server)) = (migrate_testkit::glue(), migrate_testkit::mariadb()) else {
        return;
    };
    let prefix = prefix("cli_int");
    let spec = Spec {
        // Three partitioned tables of 7,000 (a table has at most 8,064 distinct ones).
        tables: 24,
        partitions: 21_000,
        databases: 1,
        ..Spec::standard(Dialect::Mysql, Generation::Hive2, &prefix)
    };
    let db = metastore(server, "cli_interrupted", &spec);
    let selected = format!("{prefix}_*");
    // As common::spawn_migrate, with the Glue server's environment.
    let child = catalog_command(
        &[
            "--metastore",
            db.url(),
            "--database",
            &selected,
            "--concurrency",
            "1",
        ],
        &glue.env(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("run migrate");
    std::thread::sleep(std::time::Duration::from_secs(2));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (code, out, err) = text(&child.wait_with_output().unwrap());
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("STOPPED before the end: interrupted"), "{out}");
    let created: u64 = out
        .lines()
        .find(|l| l.starts_with("partitions"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(created > 0 && created < 21_000, "{out}");
}

/// `--import` of a directory that is not a whole export, refused before Glue gets anything: a
/// stray `*.jsonl` part file anywhere in it (a mixed or changed export), and a directory that
/// does not exist (said as such, not as an unfinished export).
#[test]
fn an_import_with_a_stray_part_file_or_no_directory_is_refused() {
    let (Some(glue), Some(server)) = (migrate_testkit::glue(), migrate_testkit::mariadb()) else {
        return;
    };
    let prefix = prefix("stray");
    let spec = Spec {
        tables: 2,
        partitions: 3,
        databases: 1,
        ..Spec::standard(Dialect::Mysql, Generation::Hive4, &prefix)
    };
    let db = metastore(server, "cli_stray_metastore", &spec);
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export");
    let export_text = export.to_str().unwrap();
    let selected = format!("{prefix}_*");
    let (code, _, err) = text(&migrate(
        &[
            "--metastore",
            db.url(),
            "--database",
            &selected,
            "--export",
            export_text,
        ],
        &[],
    ));
    assert_eq!(code, 0, "{err}");
    let part = std::fs::read(export.join("tables/part-00000.jsonl")).unwrap();
    for stray in ["extra.jsonl", "sub/x.jsonl", "tables/part-00001.jsonl"] {
        let path = export.join(stray);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &part).unwrap();
        let (code, _, err) = text(&migrate(&["--import", export_text], &glue.env()));
        assert_eq!(code, 2, "{stray}: {err}");
        assert!(
            err.contains(&format!(
                "{}: is not listed in manifest.json",
                path.display()
            )),
            "{stray}: {err}"
        );
        std::fs::remove_file(&path).unwrap();
    }
    // Nothing of it reached Glue; without the stray files the same export imports.
    let (code, out, err) = text(&migrate(
        &["--import", export_text, "--output", "json"],
        &glue.env(),
    ));
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["tables"]["created"], 2, "{report:#}");

    let missing = tmp.path().join("nosuchdir");
    let (code, _, err) = text(&migrate(
        &["--import", missing.to_str().unwrap()],
        &glue.env(),
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{}: no such directory", missing.display())),
        "{err}"
    );
    assert!(!err.contains("manifest.json"), "{err}");
}

/// Without --location-map, locations that Glue's readers can't read (`s3a://`, `viewfs://`,
/// `hdfs://`: Athena reads `s3://` only) are still shown; and database owners, which Glue has no
/// field for, are named as not carried.
#[test]
fn locations_off_s3_and_database_owners_are_reported_without_a_map() {
    let (Some(glue), Some(server)) = (migrate_testkit::glue(), migrate_testkit::mariadb()) else {
        return;
    };
    let prefix = prefix("clis3");
    let spec = Spec {
        tables: 10,
        partitions: 20,
        databases: 1,
        ..Spec::standard(Dialect::Mysql, Generation::Hive3, &prefix)
    };
    let db = metastore(server, "cli_offs3", &spec);
    db.sql(
        "UPDATE `SDS` SET `LOCATION` = REPLACE(`LOCATION`, 'hdfs://nn:8020/', 's3://lake/');
         UPDATE `DBS` SET `DB_LOCATION_URI` = REPLACE(`DB_LOCATION_URI`, 'hdfs://nn:8020/', 's3://lake/');
         UPDATE `TABLE_PARAMS` SET `PARAM_VALUE` = REPLACE(`PARAM_VALUE`, 'hdfs://nn:8020/', 's3://lake/');
         UPDATE `SKEWED_COL_VALUE_LOC_MAP` SET `LOCATION` = REPLACE(`LOCATION`, 'hdfs://nn:8020/', 's3://lake/');
         UPDATE `SDS` s JOIN `TBLS` t ON t.`SD_ID` = s.`SD_ID` SET s.`LOCATION` = 's3a://lake/parquet_001' WHERE t.`TBL_NAME` = 'parquet_001';
         UPDATE `SDS` s JOIN `TBLS` t ON t.`SD_ID` = s.`SD_ID` SET s.`LOCATION` = 'viewfs://cluster/json_007' WHERE t.`TBL_NAME` = 'json_007';",
    )
    .unwrap();
    let selected = format!("{prefix}_*");
    let (code, out, err) = text(&migrate(
        &["--metastore", db.url(), "--database", &selected],
        &glue.env(),
    ));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(
            "locations: 2 not on S3 and kept as they are (no --location-map given; Athena reads s3:// only)"
        ),
        "{out}"
    );
    assert!(
        out.contains("not rewritten: s3a://lake/parquet_001")
            && out.contains("not rewritten: viewfs://cluster/json_007"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "2 database owner(s) not carried: Glue databases have no owner; grant access with Lake Formation or IAM instead: {prefix}_db0 (hive, USER), {prefix}_empty (hive, USER)"
        )),
        "{out}"
    );
}

/// Glue's size limits, which moto does not enforce but AWS Glue does, with a ValidationException
/// in the middle of a run: checked before anything is sent, in the dry run too. Free text longer
/// than Glue takes is cut, with a warning naming the table, the field and the length it had,
/// counted in characters, not UTF-8 bytes (multi-byte comments); a table or partition that Glue
/// would refuse is not sent and fails alone, named with the field, its length and the limit, and
/// the rest of the run goes on.
#[test]
fn objects_over_glues_size_limits_are_cut_or_refused_before_anything_is_sent() {
    let (Some(glue), Some(server)) = (migrate_testkit::glue(), migrate_testkit::mariadb()) else {
        return;
    };
    let prefix = prefix("clilimit");
    let spec = Spec {
        tables: 20,
        partitions: 40,
        databases: 1,
        ..Spec::standard(Dialect::Mysql, Generation::Hive4, &prefix)
    };
    let db = metastore(server, "cli_limits", &spec);
    let (database, managed) = spec.table_name(0);
    let parquet = spec.table_name(1).1;
    let far = spec.table_name(3).1;
    let keyed = spec.table_name(13).1;
    let json = spec.table_name(7).1;
    let long_name = "n".repeat(256);
    let comment = |table: &str, column: usize, value: &str| {
        format!(
            "UPDATE `COLUMNS_V2` c JOIN `SDS` s ON s.`CD_ID` = c.`CD_ID` JOIN `TBLS` t ON t.`SD_ID` = s.`SD_ID` SET c.`COMMENT` = {value} WHERE t.`TBL_NAME` = '{table}' AND c.`INTEGER_IDX` = {column};"
        )
    };
    db.sql(&format!(
        // Hive holds comments in Latin-1 unless widened, as sites with non-Latin comments do.
        "SET NAMES utf8mb4;
         ALTER TABLE `COLUMNS_V2` MODIFY `COMMENT` varchar(4000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
         ALTER TABLE `TABLE_PARAMS` MODIFY `PARAM_VALUE` MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
         {}{}{}
         UPDATE `TABLE_PARAMS` p JOIN `TBLS` t ON t.`TBL_ID` = p.`TBL_ID` SET p.`PARAM_VALUE` = REPEAT('説明', 1050) WHERE t.`TBL_NAME` = '{parquet}' AND p.`PARAM_KEY` = 'comment';
         UPDATE `SDS` s JOIN `TBLS` t ON t.`SD_ID` = s.`SD_ID` SET s.`LOCATION` = CONCAT('hdfs://nn:8020/warehouse/', REPEAT('x', 2100)) WHERE t.`TBL_NAME` = '{far}';
         INSERT INTO `PARTITION_PARAMS` (`PART_ID`, `PARAM_KEY`, `PARAM_VALUE`) SELECT p.`PART_ID`, REPEAT('k', 256), 'v' FROM `PARTITIONS` p JOIN `TBLS` t ON t.`TBL_ID` = p.`TBL_ID` WHERE t.`TBL_NAME` = '{keyed}' ORDER BY p.`PART_ID` LIMIT 1;
         UPDATE `TBLS` SET `TBL_NAME` = '{long_name}' WHERE `TBL_NAME` = '{json}';",
        // 300 characters, 900 bytes: cut to 255 characters.
        comment(&managed, 0, "REPEAT('日本語', 100)"),
        // 255 characters, 510 bytes: within the limit, kept whole.
        comment(&managed, 1, "REPEAT('é', 255)"),
        // 200 emoji, 2 UTF-16 units each: cut to 127, never inside one.
        comment(&parquet, 0, "REPEAT('😀', 200)"),
    ))
    .unwrap();
    let selected = format!("{prefix}_*");
    let base = ["--metastore", db.url(), "--database", &selected];
    let refused = "not sent: Glue would refuse it (ValidationException): ";
    let partitions: Vec<usize> = spec.partition_counts().iter().map(|(_, n)| *n).collect();
    assert_eq!(partitions, [20, 20]);

    // The dry run shows it all, and writes nothing.
    let (code, out, err) = text(&migrate(&[&base[..], &["--dry-run"]].concat(), &glue.env()));
    assert_eq!(code, 1, "{out}\n{err}");
    for expected in [
        format!("  {database}.{far}: {refused}StorageDescriptor.Location is 2125 characters long (at most 2056). Shorten it in the metastore, or leave the table out with --table; its partitions are not migrated either, the other tables are\n"),
        format!("  {database}.{far} (20 partitions): not migrated: their table failed\n"),
        format!("  {database}.{long_name}: {refused}Name is 256 characters long (at most 255). "),
        format!("  warning [catalog.text-changed] {database}.{managed}: free text the Glue Data Catalog refuses as it is was changed to fit: StorageDescriptor.Columns[0] (\"id\").Comment (300 characters, cut to 255) -> "),
        format!("  warning [catalog.text-changed] {database}.{parquet}: free text the Glue Data Catalog refuses as it is was changed to fit: Description (2100 characters, cut to 2048), StorageDescriptor.Columns[0] (\"id\").Comment (400 characters, cut to 255) -> "),
        "FAILED: some objects were not migrated".to_string(),
    ] {
        assert!(out.contains(&expected), "{expected}\nnot in:\n{out}");
    }
    let partition = out
        .lines()
        .find(|l| l.starts_with(&format!("  {database}.{keyed}/")))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        partition.contains(&format!("{refused}Parameters key \"kkkk"))
            && partition.contains("\"... is 256 characters long (at most 255). Change it in the metastore; the table's other partitions are migrated"),
        "{partition}"
    );
    assert!(!out.contains("Columns[1]"), "{out}");
    let (code, report) = common::summary_of(&migrate(
        &[&base[..], &["--dry-run", "--output", "json"]].concat(),
        &glue.env(),
    ));
    assert_eq!(code, 1);
    assert_eq!(report["tables"]["created"], 18, "{report:#}");
    assert_eq!(report["tables"]["failed"], 2, "{report:#}");
    assert_eq!(report["partitions"]["created"], 19, "{report:#}");
    assert_eq!(report["partitions"]["failed"], 21, "{report:#}");

    // The real run: the same, and a re-run finds the cut text in Glue as it would send it.
    let (code, report) = common::summary_of(&migrate(
        &[&base[..], &["--output", "json"]].concat(),
        &glue.env(),
    ));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["tables"]["created"], 18, "{report:#}");
    assert_eq!(report["partitions"]["created"], 19, "{report:#}");
    assert_eq!(report["partitions"]["failed"], 21, "{report:#}");
    let (code, report) = common::summary_of(&migrate(
        &[&base[..], &["--output", "json"]].concat(),
        &glue.env(),
    ));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["tables"]["unchanged"], 18, "{report:#}");
    assert_eq!(report["tables"]["failed"], 2, "{report:#}");
    assert_eq!(report["partitions"]["unchanged"], 19, "{report:#}");
}
