//! What the source holds besides tables, which `replicate` does not copy: one warning that
//! counts them per kind and names the first few ([`not_copied`]).

use migrate_core::{ConstraintKind, Finding, Ident, QualifiedName, Severity, Table, TargetDialect};
use migrate_source::{ObjectKind, OtherObject, OtherObjects, Source};
use migrate_task::ValidatedTask;

/// Names listed per kind; the rest are counted.
const NAMES_LISTED: usize = 3;

/// The finding that says which objects of the schemas of the selected tables `replicate` does
/// not copy (and which foreign keys of those tables), and how to create them on the target;
/// `None` when there are none. A source that can't list them gets a finding that says so: the
/// run goes on (it copies tables).
pub(crate) async fn not_copied<S: Source>(
    task: &ValidatedTask,
    source: &S,
    planned: &crate::Planned,
) -> Option<Finding> {
    let object = format!("source {}", source.endpoint());
    let schemas = &planned.schemas;
    // From the catalog the load is planned with (MariaDB shows `REFERENTIAL_CONSTRAINTS` only to
    // a user with more than SELECT; discovery reads the keys either way).
    let foreign_keys = planned
        .loads
        .iter()
        .flatten()
        .flat_map(|load| foreign_keys(&load.source));
    let finding = match source.other_objects(schemas).await {
        Ok(mut other) => {
            other.objects.extend(foreign_keys);
            describe(task, &other, schemas, object)?
        }
        Err(e) => {
            // The foreign keys are known all the same: said with the error.
            let known = OtherObjects {
                objects: foreign_keys.collect(),
                findings: Vec::new(),
            };
            let listed = describe(task, &known, schemas, object.clone());
            Finding::new(
                Severity::Warning,
                "replicate.objects-not-copied",
                object,
                format!(
                    "the source's views, routines, triggers and other objects besides tables could not be listed ({e}); replicate copies tables only{}",
                    listed.as_ref().map_or(String::new(), |f| format!("; also, {}", f.message))
                ),
                format!(
                    "list them with `migrate assess --source URL` and create those the target needs{}",
                    listed.as_ref().map_or(String::new(), |f| format!("; {}", f.action))
                ),
            )
        }
    };
    tracing::warn!("{}: {}", finding.message, finding.action);
    Some(finding)
}

/// The foreign keys of `table`, which replicate does not create.
fn foreign_keys(table: &Table) -> impl Iterator<Item = OtherObject> + '_ {
    table.constraints.iter().filter_map(|constraint| {
        let ConstraintKind::ForeignKey(_) = constraint.kind else {
            return None;
        };
        Some(OtherObject {
            kind: ObjectKind::ForeignKey,
            name: QualifiedName::new(
                table.name.schema.clone(),
                constraint
                    .name
                    .clone()
                    .unwrap_or_else(|| Ident::new("(unnamed)")),
            ),
            table: Some(table.name.clone()),
        })
    })
}

/// How a kind is named: (singular, plural).
fn words(kind: ObjectKind) -> (&'static str, &'static str) {
    match kind {
        ObjectKind::View => ("view", "views"),
        ObjectKind::MaterializedView => ("materialized view", "materialized views"),
        ObjectKind::Index => ("index", "indexes"),
        ObjectKind::Sequence => ("sequence", "sequences"),
        ObjectKind::Function => ("function", "functions"),
        ObjectKind::Procedure => ("procedure", "procedures"),
        ObjectKind::Trigger => ("trigger", "triggers"),
        ObjectKind::Event => ("event", "events"),
        ObjectKind::Type => ("type", "types"),
        ObjectKind::ForeignKey => ("foreign key", "foreign keys"),
        ObjectKind::ForeignTable => ("foreign table", "foreign tables"),
        ObjectKind::EventTrigger => ("event trigger", "event triggers"),
        ObjectKind::Extension => ("extension", "extensions"),
    }
}

/// Whether `migrate convert --source` writes objects of `kind` (the others are said apart).
fn written_by_convert(kind: ObjectKind) -> bool {
    match kind {
        ObjectKind::View
        | ObjectKind::MaterializedView
        | ObjectKind::Index
        | ObjectKind::Sequence
        | ObjectKind::Function
        | ObjectKind::Procedure
        | ObjectKind::Trigger
        | ObjectKind::Event
        | ObjectKind::Type
        | ObjectKind::ForeignKey => true,
        ObjectKind::ForeignTable | ObjectKind::EventTrigger | ObjectKind::Extension => false,
    }
}

fn describe(
    task: &ValidatedTask,
    other: &OtherObjects,
    schemas: &[String],
    object: String,
) -> Option<Finding> {
    // One schema: names without it, as the user knows them. A constraint's name is unique per
    // table only: named with its table.
    let named = |name: &QualifiedName| match schemas {
        [_] => name.name.value.clone(),
        _ => name.to_string(),
    };
    let mut kinds: Vec<ObjectKind> = other.objects.iter().map(|o| o.kind).collect();
    kinds.sort();
    kinds.dedup();
    let listed: Vec<String> = kinds
        .iter()
        .map(|&kind| {
            let names: Vec<String> = other
                .objects
                .iter()
                .filter(|o| o.kind == kind)
                .map(|o| match &o.table {
                    Some(table) => format!("{} on {}", o.name.name.value, named(table)),
                    None => named(&o.name),
                })
                .collect();
            let (one, many) = words(kind);
            let kind = if names.len() == 1 { one } else { many };
            format!("{} {kind} ({})", names.len(), first_few(&names))
        })
        .collect();
    // What discovery could not list or read (MySQL triggers and events hidden from the user, a
    // view's query it may not see) or lists apart (PostgreSQL rules and policies).
    // A MySQL schema hides its triggers and its events: one finding each.
    let notes = distinct(
        other
            .findings
            .iter()
            .map(|f| format!("{} ({})", f.object, f.code)),
    );
    if listed.is_empty() && notes.is_empty() {
        return None;
    }
    if listed.is_empty() {
        // Nothing to convert: only discovery's own findings, and what to do about them.
        let actions = distinct(other.findings.iter().map(|f| f.action.clone()));
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
    let target = crate::target_dialect(task);
    let has = |kind| kinds.contains(&kind);
    // What `migrate convert --source` reads and writes; the rest is said apart.
    let converted = kinds.iter().any(|&kind| written_by_convert(kind));
    let mut actions = Vec::new();
    if converted {
        let schema_flags: String = schemas
            .iter()
            .map(|s| format!(" --schema {}", shell_quoted(s)))
            .collect();
        let name = match target {
            TargetDialect::Redshift => "redshift",
            TargetDialect::Postgres => "postgres",
        };
        actions.push(format!(
            "convert them with `migrate convert --source {}{schema_flags} --target {name}` (see docs/convert.md) and create them on the target",
            shell_quoted(&task.source.without_password())
        ));
    }
    if has(ObjectKind::ForeignKey) {
        actions.push("create the foreign keys (its `ALTER TABLE ... ADD ... FOREIGN KEY` statements) once the load is done: chunks load in any order".into());
    }
    if has(ObjectKind::Trigger) {
        actions.push("create the triggers only once change capture no longer applies changes to their tables (the changes it applies carry the rows the source's triggers wrote)".into());
    }
    if has(ObjectKind::ForeignTable) {
        actions.push("foreign tables are not copied: create them on the target (CREATE FOREIGN TABLE), or copy their rows into a table there".into());
    }
    if has(ObjectKind::EventTrigger) || has(ObjectKind::Extension) {
        actions.push(match target {
            TargetDialect::Postgres => "create the extensions and event triggers the target needs by hand (CREATE EXTENSION, CREATE EVENT TRIGGER; `migrate convert` writes neither), the extensions before the objects that use them",
            TargetDialect::Redshift => "Redshift has no extensions or event triggers: replace what the ones the source has do",
        }.to_string());
    }
    Some(Finding::new(
        Severity::Warning,
        "replicate.objects-not-copied",
        object,
        message,
        actions.join("; "),
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
