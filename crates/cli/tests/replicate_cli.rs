//! What `migrate replicate` says on its command line and in its text summary: findings as
//! docs/findings.md shows them (`severity [code] object: message -> action`), the schemes a
//! source URL may have, and the capture flags that exclude each other.

mod common;

use common::{migrate, one, pg_task, replicate_args, table_mapping};

fn text(output: &std::process::Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A rule with a wrong case matches nothing: the text summary prints the warning with ` -> `
/// between its message and its action, as convert does (one formatting for every command).
#[test]
fn text_summary_prints_findings_with_their_action_after_an_arrow() {
    let Some((source, target, staging)) = pg_task("replicate_cli_findings") else {
        return;
    };
    source
        .sql("CREATE SCHEMA sales; CREATE TABLE sales.order_items (id int PRIMARY KEY); INSERT INTO sales.order_items VALUES (1), (2)")
        .unwrap();
    let mapping = table_mapping(
        &staging,
        r#"{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
            "object-locator": {"schema-name": "sales", "table-name": "order_items"},
            "rule-action": "include"},
           {"rule-type": "selection", "rule-id": "2", "rule-name": "items",
            "object-locator": {"schema-name": "sales", "table-name": "Order_Items"},
            "rule-action": "include"}"#,
    );
    let output = migrate(&replicate_args(
        source.url(),
        target.url(),
        &staging,
        &["--name", "findings", &mapping[0], &mapping[1]],
    ));
    let (code, stdout, stderr) = text(&output);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(one(&target, "SELECT count(*) FROM sales.order_items"), "2");
    let line = stdout
        .lines()
        .find(|l| l.contains("mapping.rule-unmatched"))
        .unwrap_or_else(|| panic!("no rule-unmatched finding in:\n{stdout}"));
    assert!(
        line.starts_with(r#"  warning [mapping.rule-unmatched] rule-id 2 ("items"): selection rule matches no source table (sales.Order_Items) -> names are case-sensitive: did you mean sales.order_items?"#),
        "{line}"
    );
    std::fs::remove_dir_all(&staging).unwrap();
    std::fs::remove_file(&mapping[1]).unwrap();
}

/// An unknown source scheme is answered with the source schemes only; the target's list is its
/// own.
#[test]
fn a_source_url_error_names_only_source_schemes() {
    let output = migrate(&[
        "replicate",
        "--source",
        "foo://x/db",
        "--target",
        "postgres://u@127.0.0.1:1/db",
        "--name",
        "schemes",
    ]);
    let (code, _, stderr) = text(&output);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "`source.url`: unsupported database scheme `foo://`; use postgres:// or mysql:// (or mariadb://)\n"
        ),
        "{stderr}"
    );
    let output = migrate(&[
        "replicate",
        "--source",
        "redshift://u@127.0.0.1:1/db",
        "--target",
        "postgres://u@127.0.0.1:1/db",
        "--name",
        "schemes",
    ]);
    let (code, _, stderr) = text(&output);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("Redshift is a target, not a source"),
        "{stderr}"
    );
}

/// `--cdc` (full load, then changes) and `--cdc-only` (changes only) are two modes: together
/// they are a usage error, before anything is done.
#[test]
fn cdc_and_cdc_only_together_are_refused() {
    let output = migrate(&[
        "replicate",
        "--cdc",
        "--cdc-only",
        "--from",
        "0/1",
        "--source",
        "postgres://u@127.0.0.1:1/db",
        "--target",
        "postgres://u@127.0.0.1:1/db",
        "--name",
        "modes",
    ]);
    let (code, _, stderr) = text(&output);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the argument '--cdc' cannot be used with '--cdc-only'"),
        "{stderr}"
    );
}
