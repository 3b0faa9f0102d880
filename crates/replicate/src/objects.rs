//! What the source holds besides tables, which `replicate` does not copy: one warning that
//! counts them per kind and names the first few ([`not_copied`]).

use migrate_core::{Catalog, Finding, QualifiedName, RoutineKind, Severity, TargetDialect};
use migrate_source::Source;
use migrate_task::ValidatedTask;

/// Names listed per kind; the rest are counted.
const NAMES_LISTED: usize = 3;

/// The finding that says which objects of `schemas` (those of the selected tables) `replicate`
/// does not copy, and how to create them on the target; `None` when there are none. A source
/// that can't list them gets a finding that says so: the run goes on (it copies tables).
pub(crate) async fn not_copied<S: Source>(
    task: &ValidatedTask,
    source: &S,
    schemas: &[String],
) -> Option<Finding> {
    let object = format!("source {}", source.endpoint());
    let finding = match source.other_objects(schemas).await {
        Ok(catalog) => describe(task, &catalog, schemas, object)?,
        Err(e) => Finding::new(
            Severity::Warning,
            "replicate.objects-not-copied",
            object,
            format!("the source's views, routines, triggers and other objects besides tables could not be listed ({e}); replicate copies tables only"),
            "list them with `migrate assess --source URL` and create those the target needs",
        ),
    };
    tracing::warn!("{}: {}", finding.message, finding.action);
    Some(finding)
}

/// Kinds in the order they are listed: (singular, plural).
fn kinds(catalog: &Catalog) -> Vec<((&'static str, &'static str), Vec<&QualifiedName>)> {
    let views = |materialized: bool| {
        catalog
            .views
            .iter()
            .filter(|v| v.materialized == materialized)
            .map(|v| &v.name)
            .collect()
    };
    let routines = |kind: RoutineKind| {
        catalog
            .routines
            .iter()
            .filter(|r| r.kind == kind)
            .filter_map(|r| r.name.as_ref())
            .collect()
    };
    vec![
        (("view", "views"), views(false)),
        (("materialized view", "materialized views"), views(true)),
        // Indexes that no key owns: replicate creates a table's keys only.
        (
            ("index", "indexes"),
            catalog.indexes.iter().map(|i| &i.name).collect(),
        ),
        (
            ("sequence", "sequences"),
            catalog.sequences.iter().map(|s| &s.name).collect(),
        ),
        (("function", "functions"), routines(RoutineKind::Function)),
        (
            ("procedure", "procedures"),
            routines(RoutineKind::Procedure),
        ),
        (("trigger", "triggers"), routines(RoutineKind::Trigger)),
        (("event", "events"), routines(RoutineKind::Event)),
        (("type", "types"), routines(RoutineKind::Type)),
        (("package", "packages"), routines(RoutineKind::Package)),
    ]
}

fn describe(
    task: &ValidatedTask,
    catalog: &Catalog,
    schemas: &[String],
    object: String,
) -> Option<Finding> {
    // One schema: names without it, as the user knows them.
    let named = |name: &QualifiedName| match schemas {
        [_] => name.name.value.clone(),
        _ => name.to_string(),
    };
    let listed: Vec<String> = kinds(catalog)
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|((one, many), names)| {
            let kind = if names.len() == 1 { one } else { many };
            let names: Vec<String> = names.iter().map(|n| named(n)).collect();
            format!("{} {kind} ({})", names.len(), first_few(&names))
        })
        .collect();
    // What discovery could not list or read (MySQL triggers and events hidden from the user, a
    // view's query it may not see) or lists apart (PostgreSQL rules and policies).
    // A MySQL schema hides its triggers and its events: one finding each.
    let notes = distinct(
        catalog
            .findings
            .iter()
            .map(|f| format!("{} ({})", f.object, f.code)),
    );
    if listed.is_empty() && notes.is_empty() {
        return None;
    }
    if listed.is_empty() {
        // Nothing to convert: only discovery's own findings, and what to do about them.
        let actions = distinct(catalog.findings.iter().map(|f| f.action.clone()));
        return Some(Finding::new(
            Severity::Warning,
            "replicate.objects-not-copied",
            object,
            format!(
                "replicate copies tables only; besides them, discovery reports: {}",
                first_few(&notes)
            ),
            actions.join("; "),
        ));
    }
    let mut message = format!(
        "the source has {} that replicate does not copy (it copies tables only)",
        listed.join(", ")
    );
    if !notes.is_empty() {
        message.push_str(&format!(
            "; also, see `migrate assess --source` (docs/findings.md): {}",
            first_few(&notes)
        ));
    }
    let target = match crate::target_dialect(task) {
        TargetDialect::Redshift => "redshift",
        TargetDialect::Postgres => "postgres",
    };
    let schema_flags: String = schemas
        .iter()
        .map(|s| format!(" --schema {}", shell_quoted(s)))
        .collect();
    let mut action = format!(
        "convert them with `migrate convert --source {}{schema_flags} --target {target}` (see docs/convert.md) and create them on the target",
        shell_quoted(&task.source.without_password())
    );
    if catalog
        .routines
        .iter()
        .any(|r| r.kind == RoutineKind::Trigger)
    {
        action.push_str("; create the triggers only once change capture no longer applies changes to their tables (the changes it applies carry the rows the source's triggers wrote)");
    }
    Some(Finding::new(
        Severity::Warning,
        "replicate.objects-not-copied",
        object,
        message,
        action,
    ))
}

/// `text` as one word of a POSIX shell command (a URL's `&` would end the command there).
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `items` without repeats, in their first order.
fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// The first [`NAMES_LISTED`] of `items`, then `...` for the rest.
fn first_few(items: &[String]) -> String {
    let mut listed = items[..items.len().min(NAMES_LISTED)].join(", ");
    if items.len() > NAMES_LISTED {
        listed.push_str(", ...");
    }
    listed
}
