//! Column defaults that need more than a rewrite: what is written, and what the findings say.

use migrate_dialect::{emit, read_script, SourceDialect, TargetDialect};

/// The target DDL and every finding (the reader's and the emitter's), as printed.
fn convert(from: SourceDialect, to: TargetDialect, script: &str) -> (String, Vec<String>) {
    let catalog = read_script(from, "in.sql", script);
    let conversion = emit(&catalog, from, to, &[]);
    let findings = catalog
        .findings
        .iter()
        .chain(&conversion.findings)
        .map(ToString::to_string)
        .collect();
    (conversion.ddl, findings)
}

/// A zero-date default is left out; the finding says what the column then needs.
#[test]
fn zero_date_defaults_are_left_out_with_a_finding() {
    let (ddl, findings) = convert(
        SourceDialect::Mysql,
        TargetDialect::Postgres,
        "CREATE TABLE z (d date DEFAULT '0000-00-00',\n  dt datetime NOT NULL DEFAULT '0000-00-00 00:00:00');",
    );
    assert!(
        ddl.contains("    d DATE,\n    dt TIMESTAMP(0) NOT NULL\n"),
        "{ddl}"
    );
    assert_eq!(findings, [
        "in.sql:1:17: warning [default.zero-date] z.d: the default '0000-00-00' is a zero date, which no target date can hold: the column has no default, and rows inserted without a value get NULL -> load zero dates as NULL (NULLIF(col, '0000-00-00')) or replace them in the source",
        "in.sql:2:3: warning [default.zero-date] z.dt: the default '0000-00-00 00:00:00' is a zero date, which no target date can hold: the column has no default, and the column stays NOT NULL, so inserts must give a date, and its zero dates can't be loaded as NULL either -> replace the zero dates in the source (and the default) by a real date, or make the column nullable and load them as NULL",
    ]);
}
