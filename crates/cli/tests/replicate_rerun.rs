//! A full load whose COPY of a staged chunk the target refuses because of a row (here a
//! PostgreSQL `"char"` byte that is no character: its text `\351` does not fit the `char(1)`
//! column of the target table made beforehand, loaded as it is with `--prep-mode DO_NOTHING`):
//! the error names the table, the chunk, the row and the column
//! and says what to do; once the source row is corrected, the same command (no `--restart`)
//! reads that chunk from the source again instead of reloading its staged copy, and loads no
//! other chunk twice.

mod common;

use common::{migrate_json, one, pg_task, table};
use migrate_testkit::PgDatabase;
use serde_json::Value;

/// `replicate` of `source` into `target` through `staging` as task `rerun`, 100 rows a chunk,
/// with `extra` arguments.
fn replicate(
    source: &PgDatabase,
    target: &PgDatabase,
    staging: &str,
    extra: &[&str],
) -> (i32, Value) {
    let mut args = vec![
        "replicate",
        "--source",
        source.url(),
        "--target",
        target.url(),
        "--staging",
        staging,
        "--name",
        "rerun",
        "--chunk-rows",
        "100",
    ];
    args.extend(extra);
    migrate_json(&args)
}

/// Every row of `t`, the same text on both sides (`char(1)` in the target prints as `"char"`).
const ROWS: &str = "SELECT count(*), string_agg(concat_ws('|', id, c, v), ',' ORDER BY id) FROM t";

/// Runs the failing load, checks its error with `expected` (the words naming the row), corrects
/// row `bad` in the source, runs again and checks that the target now equals the source, with
/// no chunk loaded twice.
fn fails_then_loads_after_the_fix(
    source: &PgDatabase,
    target: &PgDatabase,
    staging: &str,
    expected: &[&str],
    bad: &str,
) {
    // The target table is made beforehand (a `"char"` column would hold the byte).
    target
        .sql("CREATE TABLE t (id int, c char(1), v text)")
        .unwrap();
    let keep_table = ["--prep-mode", "DO_NOTHING"];
    let (code, summary) = replicate(source, target, staging, &keep_table);
    assert_eq!(code, 1, "{summary:#}");
    let t = table(&summary, "public.t");
    assert_eq!(t["status"], "failed", "{t:#}");
    let error = t["error"].as_str().expect("an error");
    for words in expected.iter().chain(&[
        "value too long for type character(1) (SQLSTATE 22001)",
        "nothing of this chunk was loaded",
        "correct the row in the source",
        "then run the same command again, without --restart: this chunk is read from the source again",
    ]) {
        assert!(error.contains(words), "{words:?} not in: {error}");
    }
    let chunks = t["chunks"].as_u64().expect("chunks");
    let loaded_before = t["chunks_loaded"].as_u64().expect("chunks_loaded");
    assert!(chunks > 1 && loaded_before < chunks, "{t:#}");
    assert_eq!(
        one(target, "SELECT count(*)::text FROM t"),
        t["rows"].to_string()
    );

    source
        .sql(&format!("UPDATE t SET c = 'x' WHERE {bad}"))
        .unwrap();
    let (code, summary) = replicate(source, target, staging, &keep_table);
    assert_eq!(code, 0, "{summary:#}");
    let t = table(&summary, "public.t");
    assert_eq!(t["status"], "loaded", "{t:#}");
    assert_eq!(t["chunks_skipped"], loaded_before, "{t:#}");
    assert_eq!(t["chunks_loaded"], chunks - loaded_before, "{t:#}");
    assert_eq!(t["rows"], 1000, "{t:#}");
    assert_eq!(t["validation"]["status"], "passed", "{t:#}");
    assert_eq!(one(source, ROWS), one(target, ROWS));
}

/// With a primary key, the row is named by it; staged on S3.
#[test]
fn a_refused_row_is_named_by_its_key_and_read_again_after_the_fix() {
    let Some((source, target, _)) = pg_task("rerun_key") else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    source
        .sql(
            r#"CREATE TABLE t (id int PRIMARY KEY, c "char", v text);
               INSERT INTO t SELECT g, 'a', 'v' || g FROM generate_series(1, 1000) g;
               UPDATE t SET c = '\351' WHERE id = 457;"#,
        )
        .unwrap();
    let staging = s3.unique_url("rerun_key");
    fails_then_loads_after_the_fix(
        &source,
        &target,
        &staging,
        &[
            "table public.t, chunk 4, row id=457 (row ",
            " of 100 in the chunk), column c (staged value: \\351): ",
        ],
        "id = 457",
    );
}

/// Without a key, the row is named by its position in the chunk.
#[test]
fn a_refused_row_without_a_key_is_named_by_its_position() {
    let Some((source, target, staging)) = pg_task("rerun_nokey") else {
        return;
    };
    // Room on every page, so that the correcting UPDATE keeps the row on its page (in its
    // chunk of pages).
    source
        .sql(
            r#"CREATE TABLE t (id int, c "char", v text) WITH (fillfactor = 50);
               INSERT INTO t SELECT g, 'a', 'v' || g FROM generate_series(1, 1000) g;
               UPDATE t SET c = '\351' WHERE id = 457;
               ANALYZE t;"#,
        )
        .unwrap();
    fails_then_loads_after_the_fix(
        &source,
        &target,
        staging.to_str().expect("utf-8 path"),
        &[
            "table public.t, chunk ",
            " in the chunk (the table has no primary key to name it), column c (staged value: \\351): ",
        ],
        "id = 457",
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// Staged objects that are gone when a run resumes (a lifecycle rule expired them, someone
/// cleaned the staging directory) or no longer read back as written: the chunks whose manifests
/// name them are read from the source again. The run failed on them forever, whatever was done,
/// until --restart.
#[test]
fn staged_objects_gone_before_the_resume_are_read_from_the_source_again() {
    let Some((source, target, staging)) = pg_task("rerun_gone") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, c text, v text);
             INSERT INTO t SELECT g, 'a', 'v' || g FROM generate_series(1, 300) g;",
        )
        .unwrap();
    // The first run stages its chunks, then the target refuses every load (not because of a
    // row: the chunks stay staged).
    target
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, c text, v text);
             CREATE FUNCTION not_yet() RETURNS trigger LANGUAGE plpgsql
               AS $$ BEGIN RAISE EXCEPTION 'not yet'; END $$;
             CREATE TRIGGER not_yet BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION not_yet();",
        )
        .unwrap();
    let staged = staging.to_str().expect("utf-8 path");
    let run = || replicate(&source, &target, staged, &["--prep-mode", "DO_NOTHING"]);
    let (code, summary) = run();
    assert_eq!(code, 1, "{summary:#}");
    let error = table(&summary, "public.t")["error"].to_string();
    assert!(error.contains("not yet"), "{error}");
    target.sql("DROP TRIGGER not_yet ON t").unwrap();
    // One staged object goes, another is cut short.
    let mut objects: Vec<std::path::PathBuf> = walk(&staging)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    objects.sort();
    assert!(!objects.is_empty(), "nothing staged under {staging:?}");
    std::fs::remove_file(&objects[0]).unwrap();
    if let Some(cut) = objects.get(1) {
        let bytes = std::fs::read(cut).unwrap();
        std::fs::write(cut, &bytes[..bytes.len() / 2]).unwrap();
    }

    let (code, summary) = run();
    assert_eq!(code, 0, "{summary:#}");
    let t = table(&summary, "public.t");
    assert_eq!(t["status"], "loaded", "{t:#}");
    assert_eq!(t["rows"], 300, "{t:#}");
    assert_eq!(t["validation"]["status"], "passed", "{t:#}");
    assert_eq!(one(&source, ROWS), one(&target, ROWS));
    let _ = std::fs::remove_dir_all(&staging);
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
