//! Statements that can't be read: counted as not converted, reported once, where they are.

use migrate_dialect::{emit, read_script, SourceDialect, TargetDialect};

/// A table whose CREATE fails half-way is one syntax error and one object not converted: the
/// findings about its columns, read before the error, are not reported as if it converted.
#[test]
fn a_table_that_fails_to_parse_is_counted_and_its_findings_dropped() {
    let catalog = read_script(
        SourceDialect::Oracle,
        "in.sql",
        "CREATE TABLE emp (id NUMBER, photo BFILE, notes LONG) NO_SUCH_CLAUSE;\nCREATE TABLE ok (id NUMBER);",
    );
    let codes: Vec<&str> = catalog.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["parse.syntax-error"], "{:?}", catalog.findings);
    let conversion = emit(
        &catalog,
        SourceDialect::Oracle,
        TargetDialect::Postgres,
        &[],
    );
    assert_eq!(conversion.summary.tables, 1);
    assert_eq!(conversion.summary.not_converted, 1);
}

/// A comment left open is reported at the line it opens, in the location and in the object.
#[test]
fn an_unterminated_comment_is_named_by_the_line_it_opens() {
    let catalog = read_script(
        SourceDialect::Postgres,
        "in.sql",
        "CREATE TABLE a (id int);\n/* never closed\nCREATE TABLE c (id int);\n",
    );
    let findings: Vec<String> = catalog.findings.iter().map(ToString::to_string).collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].starts_with("in.sql:2:1: action [input.unterminated] statement at line 2:"),
        "{findings:?}"
    );
}
