//! Golden SQL for Redshift (no server is reachable here): the exact statements, and proof that
//! secrets appear only in the text sent to the server.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p migrate-warehouse --test redshift`.

use migrate_core::{Ident, QualifiedName};
use migrate_warehouse::redshift::{
    begin_chunk_sql, copy_sql, finish_chunk_sql, Format, RedshiftAuth, CREATE_CHECKPOINT_SQL,
};
use std::path::PathBuf;

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{actual}\n")).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(expected.trim_end(), actual, "{name}");
}

fn table() -> QualifiedName {
    QualifiedName::new(Some(Ident::new("Sales")), Ident::quoted("Order Lines"))
}

fn columns() -> Vec<Ident> {
    vec![
        Ident::new("ID"),
        Ident::new("amount"),
        Ident::quoted("Note"),
    ]
}

fn role() -> RedshiftAuth {
    RedshiftAuth::IamRole("arn:aws:iam::123456789012:role/MigrateLoad".into())
}

fn keys() -> RedshiftAuth {
    RedshiftAuth::AccessKeys {
        access_key_id: "AKIAEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG".into(),
        session_token: Some("FwoGZXIvYXdzEXAMPLETOKEN".into()),
    }
}

const MANIFEST: &str = "s3://stage-bucket/task-1/sales.order_lines/chunk-00042/manifest";

#[test]
fn parquet_with_an_iam_role() {
    let sql = copy_sql(
        &table(),
        &columns(),
        MANIFEST,
        Format::Parquet,
        &role(),
        Some("eu-west-1"),
    );
    assert_eq!(sql.expose(), sql.to_string(), "an IAM role is no secret");
    golden("copy_parquet_iam_role.sql", sql.expose());
}

#[test]
fn gzip_csv_with_a_region() {
    let sql = copy_sql(
        &table(),
        &columns(),
        MANIFEST,
        Format::CsvGzip,
        &role(),
        Some("eu-west-1"),
    );
    golden("copy_csv_gzip_region.sql", sql.expose());
}

#[test]
fn access_keys_are_sent_but_never_shown() {
    let sql = copy_sql(
        &table(),
        &columns(),
        MANIFEST,
        Format::CsvGzip,
        &keys(),
        None,
    );
    golden("copy_csv_gzip_access_keys_redacted.sql", &sql.to_string());
    for shown in [sql.to_string(), format!("{sql:?}"), format!("{:?}", keys())] {
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(!shown.contains("FwoGZXIvYXdz"), "{shown}");
    }
    assert!(sql
        .expose()
        .contains("SECRET_ACCESS_KEY 'wJalrXUtnFEMI/K7MDENG'"));
    assert!(sql
        .expose()
        .contains("SESSION_TOKEN 'FwoGZXIvYXdzEXAMPLETOKEN'"));
}

#[test]
fn a_chunk_is_copied_with_its_checkpoint_in_one_transaction() {
    let copy = copy_sql(
        &table(),
        &columns(),
        MANIFEST,
        Format::Parquet,
        &role(),
        None,
    );
    golden("chunk_begin.sql", &begin_chunk_sql("task-1", &table(), 42));
    let finish = finish_chunk_sql("task-1", &table(), 42, &copy);
    golden("chunk_finish_parquet.sql", finish.expose());
    let with_keys = copy_sql(
        &table(),
        &columns(),
        MANIFEST,
        Format::CsvGzip,
        &keys(),
        None,
    );
    let finish = finish_chunk_sql("it's", &table(), 1, &with_keys);
    assert!(!finish.to_string().contains("wJalrXUtnFEMI"));
    assert!(finish.expose().contains("'it''s'"));
}

#[test]
fn the_checkpoint_table() {
    golden("create_checkpoint.sql", CREATE_CHECKPOINT_SQL);
}

fn change_table() -> migrate_core::Table {
    use migrate_core::{Column, Constraint, ConstraintKind, LogicalType, Table};
    let mut table = Table::new(table());
    for (name, ty) in [
        ("ID", "bigint"),
        ("Line", "integer"),
        ("amount", "decimal(12,2)"),
    ] {
        table.columns.push(Column::new(
            Ident::new(name),
            ty,
            LogicalType::parse(ty).unwrap(),
        ));
    }
    table.columns.push(Column::new(
        Ident::quoted("Note"),
        "text",
        LogicalType::Text,
    ));
    table.constraints.push(Constraint {
        name: None,
        kind: ConstraintKind::PrimaryKey(vec![Ident::new("ID"), Ident::new("Line")]),
        state: Default::default(),
        index: Default::default(),
    });
    table
}

#[test]
fn cdc_apply_is_one_transaction_with_the_checkpoint() {
    use migrate_warehouse::redshift::{
        apply_changes_sql, begin_apply_sql, StagedChanges, CREATE_CDC_CHECKPOINT_SQL,
    };
    let table = change_table();
    let committed = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_763_780_400_123_456);
    let staged = [StagedChanges {
        table: &table,
        manifest_url: "s3://stage-bucket/task-1/changes/000042/sales.order_lines.manifest".into(),
    }];
    let sql = apply_changes_sql(
        "task-1",
        42,
        "16/B374D848",
        Some(committed),
        &staged,
        &keys(),
    );
    assert!(
        !sql.to_string().contains("wJalrXUtnFEMI"),
        "secrets are redacted"
    );
    assert!(sql.expose().contains("wJalrXUtnFEMI"), "and sent");
    golden("cdc_apply.sql", &sql.to_string());
    golden("cdc_begin.sql", &begin_apply_sql("task-1"));
    golden("create_cdc_checkpoint.sql", CREATE_CDC_CHECKPOINT_SQL);
    // The Redshift transaction never uses TRUNCATE (it commits on Redshift).
    assert!(!sql.expose().contains("TRUNCATE"));
    assert!(sql.expose().ends_with("COMMIT;"));
    assert!(sql.expose().contains("'2025-11-22 03:00:00.123456'"));
}
