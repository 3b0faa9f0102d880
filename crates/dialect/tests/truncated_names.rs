//! A name cut to the target's limit is reported where the object that has it is defined.

use migrate_dialect::{emit, read_script, SourceDialect, TargetDialect};

#[test]
fn a_truncated_name_is_reported_at_its_definition() {
    let long = "a".repeat(70);
    let catalog = read_script(
        SourceDialect::Postgres,
        "in.sql",
        &format!("CREATE TABLE t (id int);\nCREATE TABLE \"{long}\" (\n  id int,\n  \"{long}_c\" int\n);\n"),
    );
    let conversion = emit(
        &catalog,
        SourceDialect::Postgres,
        TargetDialect::Postgres,
        &[],
    );
    let truncated: Vec<String> = conversion
        .findings
        .iter()
        .filter(|f| f.code == "identifier.truncated")
        .map(ToString::to_string)
        .collect();
    assert_eq!(truncated.len(), 2, "{:?}", conversion.findings);
    assert!(truncated[0].starts_with("in.sql:2:"), "{truncated:?}");
    assert!(truncated[1].starts_with("in.sql:4:"), "{truncated:?}");
}
