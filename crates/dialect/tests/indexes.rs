//! Indexes on expressions for a PostgreSQL target: what is created, and what is reported instead.

use migrate_core::Index;
use migrate_dialect::{emit, read_script, SourceDialect, TargetDialect};

const TABLE: &str = "CREATE TABLE t (id int PRIMARY KEY, email varchar(100));\n";

/// A key that live discovery could not read (a MySQL 8 functional key part) is never taken for
/// SQL: the index is reported, not created on a column of that name.
#[test]
fn a_key_discovery_could_not_read_is_reported_not_created() {
    let mut catalog = read_script(
        SourceDialect::Mysql,
        "in.sql",
        &format!("{TABLE}CREATE INDEX t_fn ON t (email);"),
    );
    catalog.indexes[0].columns = vec![Index::UNREAD_EXPRESSION.to_string(), "id".into()];
    let conversion = emit(&catalog, SourceDialect::Mysql, TargetDialect::Postgres, &[]);
    assert!(
        !conversion.ddl.contains("CREATE INDEX"),
        "{}",
        conversion.ddl
    );
    let findings: Vec<String> = conversion
        .findings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        findings,
        ["in.sql:2:1: info [index.expression] index t_fn: index on ((expression not read), id) not created: a key whose expression discovery could not read -> create an equivalent index by hand if queries need it"]
    );
}

/// PostgreSQL refuses functions that are not IMMUTABLE in an index: such an index is reported
/// (a unique one as a warning: the target accepts duplicates), the others are still created.
#[test]
fn an_expression_postgresql_refuses_in_an_index_is_reported() {
    let script = "CREATE TABLE t (id NUMBER PRIMARY KEY, email VARCHAR2(100), at DATE);
CREATE UNIQUE INDEX t_month ON t (TO_CHAR(at, 'YYYYMM'), email);
CREATE INDEX t_email ON t (LOWER(email) DESC);";
    let catalog = read_script(SourceDialect::Oracle, "in.sql", script);
    let conversion = emit(
        &catalog,
        SourceDialect::Oracle,
        TargetDialect::Postgres,
        &[],
    );
    assert!(
        conversion
            .ddl
            .contains("CREATE INDEX t_email ON t ((LOWER(email)) DESC);"),
        "{}",
        conversion.ddl
    );
    assert!(!conversion.ddl.contains("t_month"), "{}", conversion.ddl);
    let findings: Vec<String> = conversion
        .findings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].starts_with("in.sql:2:1: warning [index.unique-not-created] index t_month: unique index on (TO_CHAR(at, 'YYYYMM'), email) not created (`TO_CHAR(at, 'YYYYMM')` uses TO_CHAR, which PostgreSQL does not allow in an index (it is not IMMUTABLE))"),
        "{findings:?}"
    );
}
