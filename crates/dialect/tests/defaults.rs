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

/// A date default past its month's last day (MySQL keeps `'2024-02-30'` as written under
/// `ALLOW_INVALID_DATES`) failed the target's CREATE (`date/time field value out of range`): it
/// is left out too, with its own finding; a real date (a leap day) is kept.
#[test]
fn date_defaults_that_do_not_exist_are_left_out_with_a_finding() {
    let (ddl, findings) = convert(
        SourceDialect::Mysql,
        TargetDialect::Postgres,
        "CREATE TABLE v (d date DEFAULT '2024-02-30',\n  dt datetime NOT NULL DEFAULT '2023-04-31 12:00:00',\n  leap date DEFAULT '2024-02-29');",
    );
    assert!(
        ddl.contains(
            "    d DATE,\n    dt TIMESTAMP(0) NOT NULL,\n    leap DATE DEFAULT '2024-02-29'\n"
        ),
        "{ddl}"
    );
    assert_eq!(findings, [
        "in.sql:1:17: warning [default.invalid-date] v.d: the default '2024-02-30' is a date that does not exist (MySQL keeps it as written under sql_mode ALLOW_INVALID_DATES), which no target date can hold: the column has no default, and rows inserted without a value get NULL -> give the column a real date as its default in the source (the month's last day, say), or set the default by hand in the target",
        "in.sql:2:3: warning [default.invalid-date] v.dt: the default '2023-04-31 12:00:00' is a date that does not exist (MySQL keeps it as written under sql_mode ALLOW_INVALID_DATES), which no target date can hold: the column has no default, and it stays NOT NULL, so inserts must give a date -> give the column a real date as its default in the source (the month's last day, say), or set the default by hand in the target",
    ]);
}
