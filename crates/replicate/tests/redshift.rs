//! Golden SQL of Redshift targets (no Redshift is reachable here): what `migrate replicate`
//! writes next to each staged chunk and per table.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p migrate-replicate --test redshift`.

use migrate_core::{
    Column, Constraint, ConstraintKind, ConstraintState, Ident, LengthUnit, LogicalType,
    QualifiedName, SourceDialect, Table,
};
use migrate_replicate::redshift::{chunk_sql, prepare_sql};
use migrate_stage::Format;
use migrate_task::PrepMode;
use migrate_warehouse::redshift::RedshiftAuth;
use std::path::PathBuf;

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(expected, actual, "{name}");
}

fn table() -> Table {
    let mut table = Table::new(QualifiedName::new(
        Some(Ident::new("sales")),
        Ident::quoted("Order Lines"),
    ));
    let mut id = Column::new(Ident::new("id"), "bigint", LogicalType::BigInt);
    id.nullable = false;
    table.columns.push(id);
    table.columns.push(Column::new(
        Ident::new("amount"),
        "numeric(12,2)",
        LogicalType::Decimal {
            precision: 12,
            scale: 2,
        },
    ));
    table.columns.push(Column::new(
        Ident::quoted("Note"),
        "varchar(100)",
        LogicalType::Varchar {
            length: 100,
            unit: LengthUnit::Char,
        },
    ));
    table.constraints.push(Constraint {
        name: None,
        kind: ConstraintKind::PrimaryKey(vec![Ident::new("id")]),
        state: ConstraintState::default(),
        index: Default::default(),
    });
    table
}

const MANIFEST: &str =
    "s3://stage-bucket/prefix/nightly/sales.Order_Lines-0a1b2c3d-5f1e2d3c4b5a6/manifest-000007.json";

#[test]
fn chunk_statements_with_an_iam_role() {
    let role = RedshiftAuth::IamRole("arn:aws:iam::123456789012:role/MigrateLoad".into());
    golden(
        "chunk_parquet_iam_role.sql",
        &chunk_sql(
            "nightly",
            &table(),
            7,
            MANIFEST,
            Format::Parquet,
            &role,
            None,
        ),
    );
}

#[test]
fn chunk_statements_never_hold_secrets() {
    let keys = RedshiftAuth::AccessKeys {
        access_key_id: "AKIAEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG".into(),
        session_token: Some("FwoGZXIvYXdzEXAMPLETOKEN".into()),
    };
    let sql = chunk_sql(
        "nightly",
        &table(),
        7,
        &MANIFEST.replace("parquet", "csv.gz"),
        Format::CsvGzip,
        &keys,
        Some("eu-west-1"),
    );
    assert!(
        !sql.contains("wJalrXUtnFEMI") && !sql.contains("FwoGZXIvYXdz"),
        "{sql}"
    );
    golden("chunk_csv_access_keys.sql", &sql);
}

#[test]
fn prepare_statements_per_prep_mode() {
    for (mode, name) in [
        (PrepMode::DropAndCreate, "prepare_drop_and_create.sql"),
        (PrepMode::TruncateBeforeLoad, "prepare_truncate.sql"),
        (PrepMode::DoNothing, "prepare_do_nothing.sql"),
    ] {
        let (sql, _) = prepare_sql(&table(), SourceDialect::Postgres, mode);
        golden(name, &sql);
    }
}
