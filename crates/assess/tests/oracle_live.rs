//! The assessment of an Oracle live catalog: dictionary rows, as Oracle returns them, mapped by
//! `migrate_source_oracle::discover` (the one mapping `migrate assess --source oracle://` runs),
//! then assessed like scripts: PL/SQL constructs of `ALL_SOURCE` text, database links, synonyms,
//! row counts and LOB sizes.

use migrate_assess::{assess, Assessment, EffortModel, Input, ObjectKind, SourceInfo, Status};
use migrate_core::{Catalog, SourceDialect, TargetDialect};
use migrate_source_oracle::discover::{
    add_objects, add_sizes, build_catalog, ColumnRow, DbLinkRow, ObjectRows, SizeRow, SourceRow,
    SynonymRow, TableRow,
};

fn s(text: &str) -> String {
    text.to_string()
}

fn assess_live(catalog: &Catalog) -> Assessment {
    assess(Input {
        catalog,
        from: SourceDialect::Oracle,
        to: TargetDialect::Redshift,
        source: SourceInfo {
            kind: "live",
            dialect: "oracle",
            inputs: vec!["hr@db".into()],
        },
        preflight: Vec::new(),
        model: &EffortModel::builtin(),
    })
}

fn text_of(a: &Assessment) -> String {
    let mut text = Vec::new();
    migrate_assess::write_text(a, false, &mut text).unwrap();
    String::from_utf8(text).unwrap()
}

/// HR.EMPLOYEES (107 rows, a CLOB column) with a public synonym, a procedure using an
/// autonomous transaction and dynamic SQL, and a database link; `sizes` as `DBA_SEGMENTS`
/// answered (`None`: not readable).
fn live_catalog(sizes: Option<Vec<SizeRow>>) -> Catalog {
    let mut id = ColumnRow {
        owner: s("HR"),
        table: s("EMPLOYEES"),
        name: s("EMPLOYEE_ID"),
        data_type: s("NUMBER"),
        data_precision: Some(6),
        data_scale: Some(0),
        ..ColumnRow::default()
    };
    id.num_distinct = Some(107);
    let resume = ColumnRow {
        name: s("RESUME"),
        data_type: s("CLOB"),
        nullable: true,
        ..id.clone()
    };
    let mut catalog = build_catalog(
        vec![TableRow {
            owner: s("HR"),
            name: s("EMPLOYEES"),
            num_rows: Some(107),
            ..TableRow::default()
        }],
        vec![id, resume],
        Vec::new(),
    );
    add_sizes(&mut catalog, sizes, "HR");
    let line = |text: &str| SourceRow {
        owner: s("HR"),
        name: s("LOG_IT"),
        kind: s("PROCEDURE"),
        text: s(text),
    };
    add_objects(
        &mut catalog,
        ObjectRows {
            synonyms: vec![SynonymRow {
                owner: s("PUBLIC"),
                name: s("EMPS"),
                table_owner: Some(s("HR")),
                table: s("EMPLOYEES"),
            }],
            sources: vec![
                line("PROCEDURE log_it IS\n"),
                line("  PRAGMA AUTONOMOUS_TRANSACTION;\n"),
                line("BEGIN EXECUTE IMMEDIATE 'INSERT INTO log VALUES (1)'; COMMIT; END;\n"),
            ],
            db_links: vec![DbLinkRow {
                owner: s("HR"),
                name: s("REMOTE.EXAMPLE.COM"),
                host: Some(s("remotedb")),
            }],
            ..ObjectRows::default()
        },
    );
    catalog
}

#[test]
fn the_live_oracle_catalog_is_assessed_like_scripts() {
    let catalog = live_catalog(Some(vec![SizeRow {
        owner: s("HR"),
        table: s("EMPLOYEES"),
        bytes: Some(262_144),
        lob_bytes: Some(196_608),
    }]));
    let a = assess_live(&catalog);
    let link = a
        .objects
        .iter()
        .find(|o| o.kind == ObjectKind::DatabaseLink)
        .unwrap();
    assert_eq!(
        (link.name.as_str(), link.status),
        ("REMOTE.EXAMPLE.COM", Status::Unsupported)
    );
    let procedure = a
        .objects
        .iter()
        .find(|o| o.kind == ObjectKind::Procedure)
        .unwrap();
    let constructs = procedure.constructs.as_ref().unwrap();
    assert_eq!(
        (constructs.autonomous_transactions, constructs.dynamic_sql),
        (1, 1)
    );
    let codes: Vec<&str> = a
        .action_items
        .iter()
        .filter(|i| i.object_id == Some(procedure.id))
        .map(|i| i.code.as_str())
        .collect();
    assert!(
        codes.contains(&"plsql.autonomous-transaction") && codes.contains(&"plsql.dynamic-sql"),
        "{codes:?}"
    );
    assert_eq!(a.summary.by_kind["synonym"].total, 1);
    assert_eq!(a.summary.rows, 107);
    // Sizes: the table's, and its LOB part apart, per object and in the totals.
    let table = a
        .objects
        .iter()
        .find(|o| o.kind == ObjectKind::Table)
        .unwrap();
    assert_eq!(
        (table.size_bytes, table.lob_bytes),
        (Some(262_144), Some(196_608))
    );
    assert_eq!(a.summary.size_bytes, 262_144);
    assert_eq!(a.summary.lob_bytes, Some(196_608));
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["summary"]["lob_bytes"], 196_608);
    let text = text_of(&a);
    assert!(
        text.contains("107 rows, 256.0 KiB on disk, of which LOB storage 192.0 KiB"),
        "{text}"
    );

    // Without DBA_SEGMENTS nothing is said about sizes: unknown, not 0 bytes.
    let a = assess_live(&live_catalog(None));
    assert_eq!(a.summary.lob_bytes, None);
    let text = text_of(&a);
    assert!(text.contains("107 rows; sizes unknown"), "{text}");
    let mut html = Vec::new();
    migrate_assess::write_html(&a, &mut html).unwrap();
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("id=\"total-size\">unknown<"), "size card");
}
