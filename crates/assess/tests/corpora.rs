//! Offline assessment of the shared corpora of real-world scripts (`../shared/corpora` beside
//! the repository, or `MIGRATE_CORPORA`): every file completes without a panic, and the totals of
//! HR, CO and Sakila match counts made by hand from the files.

use migrate_assess::{assess, Assessment, EffortModel, Input, SourceInfo, Status};
use migrate_core::{Severity, SourceDialect, TargetDialect};
use migrate_dialect::DdlReader;
use std::path::{Path, PathBuf};

fn run(dialect: SourceDialect, files: &[PathBuf]) -> Assessment {
    let mut reader = DdlReader::new(dialect);
    for file in files {
        let bytes = std::fs::read(file).unwrap();
        reader
            .read_bytes(&file.display().to_string(), &bytes)
            .unwrap();
    }
    let catalog = reader.finish();
    assess(Input {
        catalog: &catalog,
        from: dialect,
        to: TargetDialect::Redshift,
        source: SourceInfo {
            kind: "files",
            dialect: dialect.name(),
            inputs: files.iter().map(|f| f.display().to_string()).collect(),
        },
        preflight: Vec::new(),
        model: &EffortModel::builtin(),
    })
}

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
}

/// Counts per object kind, in `ObjectKind::key` names.
fn kinds(a: &Assessment) -> Vec<(&'static str, usize)> {
    a.summary
        .by_kind
        .iter()
        .map(|(k, v)| (*k, v.total))
        .collect()
}

#[test]
fn every_corpus_file_is_assessed_without_panic() {
    let Some(dir) = migrate_testkit::corpora() else {
        return;
    };
    let mut files = Vec::new();
    sql_files(&dir, &mut files);
    files.sort();
    assert!(
        files.len() >= 30,
        "only {} files in {}",
        files.len(),
        dir.display()
    );
    for file in &files {
        let name = file.display().to_string();
        // Hive's metastore schema ships one script per metastore database.
        let dialect = if name.contains(".postgres.sql") {
            SourceDialect::Postgres
        } else if name.contains("/mysql/") || name.contains(".mysql.sql") {
            SourceDialect::Mysql
        } else if name.contains("/hive/") {
            SourceDialect::Hive
        } else {
            SourceDialect::Oracle
        };
        let result = std::panic::catch_unwind(|| run(dialect, std::slice::from_ref(file)));
        let assessment = result.unwrap_or_else(|_| panic!("assessing {name} panicked"));
        // Consistency of what the report says: totals add up, every item's object exists.
        let s = &assessment.summary;
        assert_eq!(s.objects.total, assessment.objects.len(), "{name}");
        let by_status: usize = Status::ALL.iter().map(|st| s.objects.get(*st)).sum();
        assert_eq!(by_status, s.objects.total, "{name}");
        assert_eq!(s.action_items, assessment.action_items.len(), "{name}");
        for item in &assessment.action_items {
            if let Some(id) = item.object_id {
                assert!(id < assessment.objects.len(), "{name}: {item:?}");
            }
            assert!(
                item.hours.is_finite() && item.hours >= 0.0,
                "{name}: {item:?}"
            );
        }
        let hours: f64 = assessment.objects.iter().map(|o| o.hours).sum::<f64>()
            + assessment
                .action_items
                .iter()
                .filter(|i| i.object_id.is_none())
                .map(|i| i.hours)
                .sum::<f64>();
        assert!(
            (hours - s.hours).abs() < 1e-6,
            "{name}: {hours} vs {}",
            s.hours
        );
        let json = serde_json::to_value(&assessment).unwrap();
        assert_eq!(json["schema_version"], 1, "{name}");
    }
}

/// HR (hr_create.sql + hr_code.sql), counted by hand:
/// - tables: 7 `CREATE TABLE` (regions, countries, locations, departments, jobs, employees,
///   job_history);
/// - columns: 2 + 3 + 6 + 4 + 4 + 11 + 5 = 35, read off each CREATE TABLE;
/// - constraints: 20 named in the `ALTER TABLE ... ADD (CONSTRAINT ...)` blocks and inline
///   (`CONSTRAINT` lines other than the 13 named NOT NULLs, which are column nullability);
/// - indexes: 17 `CREATE [UNIQUE] INDEX`;
/// - views: 1 (emp_details_view); sequences: 3 (locations_seq, departments_seq, employees_seq);
/// - hr_code.sql: 2 procedures (secure_dml, add_job_history) and 2 triggers
///   (secure_employees, update_job_history).
#[test]
fn hr_totals_match_hand_count() {
    let Some(dir) = migrate_testkit::corpora() else {
        return;
    };
    let hr = dir.join("oracle/sample-schemas/human_resources");
    let a = run(
        SourceDialect::Oracle,
        &[hr.join("hr_create.sql"), hr.join("hr_code.sql")],
    );
    assert_eq!(
        kinds(&a),
        vec![
            ("column", 35),
            ("constraint", 20),
            ("index", 17),
            ("procedure", 2),
            ("sequence", 3),
            ("table", 7),
            ("trigger", 2),
            ("view", 1),
        ]
    );
    assert_eq!(a.summary.objects.total, 87);
    // Procedural code is never converted automatically; the two CHECK constraints are dropped.
    for kind in ["procedure", "trigger"] {
        assert_eq!(a.summary.by_kind[kind].automatic, 0, "{kind}");
    }
    assert_eq!(a.summary.by_kind["constraint"].automatic, 18);
    // No supplied-package calls in HR's code, but a procedure call in each trigger.
    assert_eq!(a.summary.code_lines, 34);
    assert_eq!(a.summary.technical_level, 5);
}

/// CO (co_create.sql), counted by hand:
/// - tables: 7 (customers, stores, products, orders, shipments, order_items, inventory);
/// - columns: 3 + 11 + 9 + 5 + 5 + 6 + 4 = 43;
/// - constraints: 24 `ALTER TABLE ... ADD CONSTRAINT` (customers 2, stores 3, products 2,
///   orders 4, shipments 4, order_items 5, inventory 4);
/// - indexes: 7 `CREATE INDEX`; views: 4 `CREATE OR REPLACE VIEW`; no code.
#[test]
fn co_totals_match_hand_count() {
    let Some(dir) = migrate_testkit::corpora() else {
        return;
    };
    let a = run(
        SourceDialect::Oracle,
        &[dir.join("oracle/sample-schemas/customer_orders/co_create.sql")],
    );
    assert_eq!(
        kinds(&a),
        vec![
            ("column", 43),
            ("constraint", 24),
            ("index", 7),
            ("table", 7),
            ("view", 4),
        ]
    );
    assert_eq!(a.summary.code_lines, 0);
    // No code, but objects that need an action (JSON checks, BLOBs): ora2pg technical level 4.
    assert_eq!(a.summary.technical_level, 4);
    assert_eq!(a.summary.by_kind["table"].total, 7);
}

/// MySQL Sakila (mysql-sakila-schema.sql), counted by hand:
/// - tables: 16 `CREATE TABLE`; columns: 89 (one line each inside the CREATE TABLEs);
/// - constraints + indexes: 61 lines of `PRIMARY KEY` / `UNIQUE KEY` / `CONSTRAINT` / `KEY` /
///   `FULLTEXT KEY` inside the CREATE TABLEs: 16 primary keys + 2 unique keys + 22 foreign keys
///   = 40 constraints, and 21 plain and full-text keys = 21 indexes;
/// - views: 7 `CREATE VIEW`; triggers: 3 (ins_film, upd_film, del_film); procedures: 3
///   (rewards_report, film_in_stock, film_not_in_stock); functions: 3 (get_customer_balance,
///   inventory_held_by_customer, inventory_in_stock).
#[test]
fn sakila_totals_match_hand_count() {
    let Some(dir) = migrate_testkit::corpora() else {
        return;
    };
    let a = run(
        SourceDialect::Mysql,
        &[dir.join("mysql/mysql-sakila-schema.sql")],
    );
    assert_eq!(
        kinds(&a),
        vec![
            ("column", 89),
            ("constraint", 40),
            ("function", 3),
            ("index", 21),
            ("procedure", 3),
            ("table", 16),
            ("trigger", 3),
            ("view", 7),
        ]
    );
    assert_eq!(a.summary.objects.total, 182);
    // rewards_report uses a temporary table and dynamic-free SQL; every routine is work.
    let procedural = ["function", "procedure", "trigger"];
    for kind in procedural {
        assert_eq!(a.summary.by_kind[kind].automatic, 0, "{kind}");
    }
}

/// Oracle Sakila with its PL/SQL: the constructs the effort model charges are found.
#[test]
fn oracle_sakila_plsql_constructs_are_found() {
    let Some(dir) = migrate_testkit::corpora() else {
        return;
    };
    let a = run(
        SourceDialect::Oracle,
        &[
            dir.join("oracle/oracle-sakila-schema.sql"),
            dir.join("oracle/oracle-sakila-schema-pl-sql.sql"),
        ],
    );
    let codes: std::collections::BTreeSet<&str> =
        a.action_items.iter().map(|i| i.code.as_str()).collect();
    for code in [
        "plsql.not-converted",
        "routine.trigger",
        "object.type",
        "plsql.bulk",
        "plsql.dynamic-sql",
    ] {
        assert!(codes.contains(code), "{code} missing from {codes:?}");
    }
    for kind in ["package", "package_body", "type", "trigger"] {
        assert!(a.summary.by_kind.contains_key(kind), "{kind}");
    }
    assert!(a.summary.code_lines > 100);
    assert_eq!(a.summary.technical_level, 5);
}

/// Objects only findings record (database links) become inventory rows; statuses follow the
/// effort model; findings attach to the object they name.
#[test]
fn statuses_and_attribution_on_a_small_script() {
    let script = "CREATE TABLE hr.t (id NUMBER(10) PRIMARY KEY, c CHAR(1) CHECK (c IN ('Y','N')));
CREATE INDEX hr.t_c ON hr.t (c);
CREATE DATABASE LINK remote.example.com CONNECT TO u IDENTIFIED BY p USING 'db';
CREATE PUBLIC SYNONYM ts FOR hr.t;
CREATE OR REPLACE PACKAGE BODY hr.pkg IS
  PROCEDURE p IS
    PRAGMA AUTONOMOUS_TRANSACTION;
  BEGIN
    EXECUTE IMMEDIATE 'TRUNCATE TABLE hr.t';
    DBMS_OUTPUT.PUT_LINE('done');
    COMMIT;
  END;
END;
/
";
    let mut reader = DdlReader::new(SourceDialect::Oracle);
    reader.read("small.sql", script);
    let catalog = reader.finish();
    let a = assess(Input {
        catalog: &catalog,
        from: SourceDialect::Oracle,
        to: TargetDialect::Redshift,
        source: SourceInfo {
            kind: "files",
            dialect: "oracle",
            inputs: vec!["small.sql".into()],
        },
        preflight: Vec::new(),
        model: &EffortModel::builtin(),
    });
    let object = |kind: migrate_assess::ObjectKind| {
        a.objects
            .iter()
            .find(|o| o.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} in {:#?}", a.objects))
    };
    use migrate_assess::ObjectKind as K;
    assert_eq!(object(K::DatabaseLink).status, Status::Unsupported);
    assert_eq!(object(K::Table).status, Status::Automatic);
    // The key advisor's layout, as `convert` would write it.
    let advice = object(K::Table).key_advice.clone().unwrap();
    assert!(advice.starts_with("DISTSTYLE "), "{advice}");
    // The dropped CHECK attaches to its constraint, not to the table.
    let check = a
        .objects
        .iter()
        .find(|o| o.kind == K::Constraint && o.detail.as_deref() == Some("check"))
        .unwrap();
    assert_eq!(check.status, Status::Simple);
    assert!(a
        .action_items
        .iter()
        .any(|i| i.code == "constraint.check-dropped" && i.object_id == Some(check.id)));
    // Info findings are items too, as convert lists them (they were dropped), at no cost.
    let index = a
        .action_items
        .iter()
        .find(|i| i.code == "index.not-created")
        .unwrap_or_else(|| panic!("no index.not-created in {:#?}", a.action_items));
    assert_eq!((index.severity, index.hours), (Severity::Info, 0.0));
    // The package body: rewrite + autonomous transaction (3 h) + dynamic SQL (2 h) + a supplied
    // package call (0.5 h) = more than 4 h: significant.
    let body = object(K::PackageBody);
    assert_eq!(body.status, Status::Significant);
    let items: Vec<&str> = a
        .action_items
        .iter()
        .filter(|i| i.object_id == Some(body.id))
        .map(|i| i.code.as_str())
        .collect();
    for code in [
        "plsql.not-converted",
        "plsql.autonomous-transaction",
        "plsql.dynamic-sql",
        "plsql.supplied-package",
    ] {
        assert!(items.contains(&code), "{code} not in {items:?}");
    }
    let supplied = a
        .action_items
        .iter()
        .find(|i| i.code == "plsql.supplied-package")
        .unwrap();
    assert!(supplied.message.contains("DBMS_OUTPUT"), "{supplied:?}");
    // Under 5 days of 8 hours of manual work: level B; code that needs rewriting: technical 5.
    assert!(a.summary.hours < 40.0);
    assert_eq!(
        a.summary.migration_level,
        Some(migrate_assess::MigrationLevel::B)
    );
    assert_eq!(a.summary.technical_level, 5);
}
