//! task.toml: parsing, relative paths, overrides, validation and redaction. No server needed.

use migrate_task::{
    Engine, PrepMode, RedshiftAuth, StagingFormat, StagingUrl, Task, TaskError, TaskOverrides,
    ValidatedTask,
};
use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, unique per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migrate-task-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

const MAPPING: &str = r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
    "object-locator": {"schema-name": "sales", "table-name": "%"}, "rule-action": "include"}]}"#;

fn no_env(_: &str) -> Option<String> {
    None
}

fn validate(text: &str) -> Result<ValidatedTask, TaskError> {
    Task::parse(text, Path::new("/srv/migrate/task.toml"))?.validate_with_env(no_env)
}

#[test]
fn full_task_with_relative_mapping_file() {
    let dir = scratch("full");
    std::fs::create_dir_all(dir.join("maps")).unwrap();
    std::fs::write(dir.join("maps/sales.json"), MAPPING).unwrap();
    let path = dir.join("task.toml");
    std::fs::write(
        &path,
        r#"
table_mappings = "maps/sales.json"
target_table_prep_mode = "TRUNCATE_BEFORE_LOAD"
parallel_tables = 4
chunk_rows = 50000
validate = false

[source]
url = "mysql://reader:s3cr%40t@mysql.internal/shop"

[target]
url = "redshift://loader@analytics.abc123.eu-west-1.redshift.amazonaws.com/dev"
iam_role = "arn:aws:iam::123456789012:role/redshift-copy"

[staging]
url = "s3://migrate-staging/shop/"
endpoint = "http://127.0.0.1:8333"
format = "csv"
"#,
    )
    .unwrap();
    let task = Task::from_file(&path).unwrap();
    let v = task.validate_with_env(no_env).unwrap();
    assert_eq!(v.source.engine(), Engine::Mysql);
    assert_eq!(v.source.password(), Some("s3cr@t"));
    assert_eq!(
        v.source.to_string(),
        "mysql://reader:***@mysql.internal:3306/shop"
    );
    assert_eq!(v.target.url.engine(), Engine::Redshift);
    let redshift = v.target.redshift.as_ref().unwrap();
    assert_eq!(
        redshift.auth,
        RedshiftAuth::IamRole("arn:aws:iam::123456789012:role/redshift-copy".into())
    );
    assert_eq!(redshift.region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        v.staging.location,
        StagingUrl::S3 {
            bucket: "migrate-staging".into(),
            prefix: "shop".into()
        }
    );
    assert_eq!(v.staging.endpoint.as_deref(), Some("http://127.0.0.1:8333"));
    assert_eq!(v.staging.format, StagingFormat::Csv);
    assert_eq!(v.target_table_prep_mode, PrepMode::TruncateBeforeLoad);
    assert_eq!(
        (v.parallel_tables, v.chunk_rows, v.validate),
        (4, 50_000, false)
    );
    assert!(!format!("{v:?}").contains("s3cr"));
}

#[test]
fn defaults_for_a_minimal_task() {
    let v = validate(
        r#"
[source]
url = "postgres://app@pg.internal/sales"
[target]
url = "postgres://loader@warehouse.internal/analytics"
"#,
    )
    .unwrap();
    assert_eq!(
        v.staging.location,
        StagingUrl::Local("/srv/migrate/migrate-staging".into())
    );
    assert_eq!(v.staging.format, StagingFormat::Parquet);
    assert_eq!(v.target_table_prep_mode, PrepMode::DropAndCreate);
    assert_eq!(
        (v.parallel_tables, v.chunk_rows, v.validate),
        (8, 100_000, true)
    );
    assert!(v.target.redshift.is_none());
}

#[test]
fn inline_mapping_rules_in_toml() {
    let v = validate(
        r#"
[source]
url = "postgres://app@pg.internal/sales"
[target]
url = "postgres://loader@warehouse.internal/analytics"
[staging]
url = "stage"

[[table_mappings.rules]]
rule-type = "selection"
rule-id = "1"
rule-name = "orders"
rule-action = "include"
object-locator = { schema-name = "sales", table-name = "orders" }
"#,
    )
    .unwrap();
    assert_eq!(
        v.staging.location,
        StagingUrl::Local("/srv/migrate/stage".into())
    );
    let bad = validate(
        r#"
[source]
url = "postgres://app@pg.internal/sales"
[target]
url = "postgres://loader@warehouse.internal/analytics"
[[table_mappings.rules]]
rule-type = "selection"
rule-id = "1"
rule-action = "include"
object-locator = { schema-name = "sales", table = "orders" }
"#,
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "/srv/migrate/task.toml [table_mappings]: rule-id 1: unknown field `table`, expected one of `schema-name`, `table-name`, `table-type`; remove the field or fix its spelling (field names are the ones AWS DMS documents); migrate rejects fields it would otherwise ignore"
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_line() {
    let e = Task::parse(
        "[source]\nurl = \"postgres://h/db\"\n[target]\nurl = \"postgres://h/db\"\nparalel_tables = 4\n",
        Path::new("task.toml"),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("task.toml: TOML parse error at line 5, column 1"),
        "{text}"
    );
    assert!(text.contains("unknown field `paralel_tables`"), "{text}");
    assert!(
        text.ends_with("the keys are described in docs/replicate-task.md"),
        "{text}"
    );

    let e = Task::parse(
        "[source]\nurl = \"postgres://h/db\"\n",
        Path::new("task.toml"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("missing field `target`"), "{e}");
}

#[test]
fn overrides_replace_file_values_and_errors_point_at_the_command_line() {
    let task = Task::parse(
        r#"
parallel_tables = 2
[source]
url = "postgres://app:filepw@pg.internal/sales"
[target]
url = "postgres://loader@warehouse.internal/analytics"
"#,
        Path::new("/srv/migrate/task.toml"),
    )
    .unwrap();
    let overrides = TaskOverrides {
        source_url: Some("mysql://root:clipw@127.0.0.1:3307/shop".into()),
        parallel_tables: Some(16),
        staging_url: Some("relative/stage".into()),
        validate: Some(false),
        ..TaskOverrides::default()
    };
    assert!(!format!("{overrides:?}").contains("clipw"));
    let v = task
        .clone()
        .with_overrides(overrides)
        .validate_with_env(no_env)
        .unwrap();
    assert_eq!(v.source.to_string(), "mysql://root:***@127.0.0.1:3307/shop");
    assert_eq!(v.parallel_tables, 16);
    assert!(!v.validate);
    // Command-line paths stay relative to the current directory.
    assert_eq!(
        v.staging.location,
        StagingUrl::Local("relative/stage".into())
    );

    let e = task
        .clone()
        .with_overrides(TaskOverrides {
            chunk_rows: Some(0),
            ..TaskOverrides::default()
        })
        .validate_with_env(no_env)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "command line: `chunk_rows`: 0 rows per chunk; give a positive number of rows, e.g. 100000"
    );
    let e = task
        .with_overrides(TaskOverrides {
            table_mappings: Some("/nonexistent/mappings.json".into()),
            ..TaskOverrides::default()
        })
        .validate_with_env(no_env)
        .unwrap_err();
    assert!(e
        .to_string()
        .starts_with("cannot read /nonexistent/mappings.json: "));
}

#[test]
fn passwords_never_show_in_debug_or_errors() {
    let task = Task::parse(
        r#"
[source]
url = "postgres://app:hunter2@pg.internal/sales?sslmode=require"
[target]
url = "oracle://loader:hunter2@warehouse/analytics"
"#,
        Path::new("task.toml"),
    )
    .unwrap();
    let debug = format!("{task:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("postgres://app:***@pg.internal/sales?sslmode=require"));
    let e = task.validate_with_env(no_env).unwrap_err();
    assert_eq!(
        e.to_string(),
        "task.toml: `target.url`: unsupported database scheme `oracle://`; use postgres://, mysql:// (or mariadb://) or redshift://"
    );
}

#[test]
fn redshift_needs_s3_staging_and_credentials() {
    let base = r#"
[source]
url = "postgres://app@pg.internal/sales"
[target]
url = "redshift://loader@analytics.abc123.eu-west-1.redshift.amazonaws.com/dev"
"#;
    let e = validate(base).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/srv/migrate/task.toml: `staging.url`: Redshift loads only from S3, and staging is the directory /srv/migrate/migrate-staging; set [staging] url = \"s3://bucket/prefix\""
    );
    let with_s3 = format!("{base}[staging]\nurl = \"s3://stage-bucket/x\"\n");
    let e = validate(&with_s3).unwrap_err();
    assert!(e
        .to_string()
        .contains("`target.iam_role`: Redshift needs credentials to read the staged files"));
    let keys = |name: &str| {
        matches!(name, "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY").then(|| "k".to_string())
    };
    let v = Task::parse(&with_s3, Path::new("t.toml"))
        .unwrap()
        .validate_with_env(keys)
        .unwrap();
    assert_eq!(
        v.target.redshift.unwrap().auth,
        RedshiftAuth::EnvironmentKeys
    );
    let bad_role = with_s3.replace(
        "[staging]",
        "iam_role = \"arn:aws:iam::42:role/x\"\n[staging]",
    );
    assert!(validate(&bad_role)
        .unwrap_err()
        .to_string()
        .contains("is not an IAM role ARN"));
}

#[test]
fn settings_that_do_not_apply_are_errors() {
    let e = validate(
        r#"
[source]
url = "postgres://app@pg.internal/sales"
[target]
url = "postgres://loader@warehouse.internal/analytics"
region = "eu-west-1"
"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "/srv/migrate/task.toml: `target.region`: this setting applies only to redshift:// targets; remove it"
    );
    let e = validate(
        r#"
[source]
url = "postgres://app@pg.internal/sales"
[target]
url = "postgres://loader@warehouse.internal/analytics"
[staging]
endpoint = "http://127.0.0.1:9000"
"#,
    )
    .unwrap_err();
    assert!(e
        .to_string()
        .contains("an endpoint applies only to s3:// staging"));
    let e = validate(
        r#"
target_table_prep_mode = "DROP"
[source]
url = "postgres://app@pg.internal/sales"
[target]
url = "postgres://loader@warehouse.internal/analytics"
"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown variant `DROP`"), "{e}");
}
