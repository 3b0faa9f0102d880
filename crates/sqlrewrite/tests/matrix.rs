//! The read/write matrix: `tests/rewrites/<source>.toml` holds cases, each an input in the source
//! dialect and the exact SQL expected for Redshift and PostgreSQL, with the rewrites and note
//! codes expected. The union of rewrites hit must be every named rewrite and every function-map
//! rule, so coverage cannot silently drop.

use migrate_core::{Ident, LogicalType, QualifiedName, SourceDialect, TargetDialect};
use migrate_sqlrewrite::{
    function_rule_ids, rewrite_expression_in, rewrite_query_in, CastTypes, ColumnTypes, Context,
    Note, RewriteError, Rewritten, NAMED_REWRITES,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    input: String,
    /// `query` (default) or `expression`.
    #[serde(default)]
    expression: bool,
    redshift: Option<String>,
    postgres: Option<String>,
    /// Expected for both targets unless overridden per target below.
    #[serde(default)]
    rewrites: Vec<String>,
    redshift_rewrites: Option<Vec<String>>,
    postgres_rewrites: Option<Vec<String>>,
    #[serde(default)]
    notes: Vec<String>,
    redshift_notes: Option<Vec<String>>,
    postgres_notes: Option<Vec<String>>,
    /// The finding code of an expected [`RewriteError::Unsupported`], or `parse`.
    error: Option<String>,
    /// User-defined types of the converted scripts, with their target type.
    #[serde(default)]
    user_types: HashMap<String, String>,
    /// Column types the converter would know, by `table.column`: `"t.a" = "array<integer>"`.
    #[serde(default)]
    columns: BTreeMap<String, LogicalType>,
    /// The collations of some of those columns, by `table.column`: `"t.b" = "utf8mb4_bin"`.
    #[serde(default)]
    collations: BTreeMap<String, String>,
    /// What the converter's type maps would make of the types casts name, by source type text
    /// (the real maps live in `migrate-dialect`, and are tested there).
    #[serde(default)]
    cast_types: BTreeMap<String, String>,
    /// Tables the converter writes under another name: `"T" = "t_2"` (source name, unqualified).
    #[serde(default)]
    renamed_tables: BTreeMap<String, String>,
    /// The schema of the view the query defines, where unqualified names are read (Oracle).
    view_schema: Option<String>,
    /// Names of objects written without a schema (Oracle public synonyms...), lower case.
    #[serde(default)]
    unqualified_names: Vec<String>,
}

/// The converter's type maps as a case lists them; a type it doesn't list has no mapping.
#[derive(Debug)]
struct ListedCastTypes(BTreeMap<String, String>);

impl CastTypes for ListedCastTypes {
    fn target_type(&self, text: &str) -> Result<(String, Vec<Note>), String> {
        self.0
            .get(text)
            .map(|target| (target.clone(), Vec::new()))
            .ok_or_else(|| format!("unknown type `{text}`"))
    }

    fn logical_target(&self, ty: &LogicalType) -> Option<String> {
        self.0.get(&ty.to_string()).cloned()
    }
}

fn files() -> [(SourceDialect, &'static str); 4] {
    [
        (SourceDialect::Oracle, include_str!("rewrites/oracle.toml")),
        (SourceDialect::Mysql, include_str!("rewrites/mysql.toml")),
        (SourceDialect::Hive, include_str!("rewrites/hive.toml")),
        (
            SourceDialect::Postgres,
            include_str!("rewrites/postgres.toml"),
        ),
    ]
}

fn run(case: &Case, from: SourceDialect, to: TargetDialect) -> Result<Rewritten, RewriteError> {
    let mut context = Context {
        user_types: Arc::new(case.user_types.clone()),
        view_schema: case.view_schema.as_deref().map(Ident::new),
        unqualified_names: Arc::new(case.unqualified_names.iter().cloned().collect()),
        ..Context::default()
    };
    if !case.columns.is_empty() {
        let mut types = ColumnTypes::new();
        for (name, data_type) in &case.columns {
            let (table, column) = name
                .split_once('.')
                .expect("columns are named table.column");
            let collation = case.collations.get(name).map(String::as_str);
            types.insert_collated(table, column, data_type.clone(), collation);
        }
        context.types = Some(Arc::new(types));
    }
    if !case.cast_types.is_empty() {
        context.cast_types = Some(Arc::new(ListedCastTypes(case.cast_types.clone())));
    }
    context.renamed_tables = case
        .renamed_tables
        .iter()
        .map(|(source, written)| {
            let name = match source.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(quoted) => Ident::quoted(quoted),
                None => Ident::new(source.as_str()),
            };
            (QualifiedName::unqualified(name), written.clone())
        })
        .collect();
    if case.expression {
        rewrite_expression_in(&case.input, from, to, &context)
    } else {
        rewrite_query_in(&case.input, from, to, &context)
    }
}

fn sorted(items: impl IntoIterator<Item = impl Into<String>>) -> BTreeSet<String> {
    items.into_iter().map(Into::into).collect()
}

#[test]
fn matrix() {
    let mut failures = Vec::new();
    let mut hit = BTreeSet::new();
    for (from, text) in files() {
        let file: File = toml::from_str(text).unwrap_or_else(|e| panic!("{from}: {e}"));
        for case in &file.case {
            for to in TargetDialect::ALL {
                let (expected_sql, expected_rewrites, expected_notes) = match to {
                    TargetDialect::Redshift => (
                        &case.redshift,
                        &case.redshift_rewrites,
                        &case.redshift_notes,
                    ),
                    TargetDialect::Postgres => (
                        &case.postgres,
                        &case.postgres_rewrites,
                        &case.postgres_notes,
                    ),
                };
                let label = format!("{from} -> {to} `{}`", case.name);
                match (run(case, from, to), &case.error) {
                    (Err(RewriteError::Unsupported { code, .. }), Some(expected))
                        if code == expected => {}
                    (Err(RewriteError::Parse { .. }), Some(expected)) if expected == "parse" => {}
                    (Err(error), _) => failures.push(format!("{label}: error {error:?}")),
                    (Ok(out), Some(expected)) => failures.push(format!(
                        "{label}: expected error {expected}, got `{}`",
                        out.sql
                    )),
                    (Ok(out), None) => {
                        hit.extend(out.rewrites.iter().map(|r| r.to_string()));
                        for note in &out.notes {
                            if let Some(rule) = note.message.split("(rule ").nth(1) {
                                hit.insert(rule.trim_end_matches(')').to_string());
                            }
                        }
                        let rewrites = sorted(
                            expected_rewrites
                                .as_ref()
                                .unwrap_or(&case.rewrites)
                                .iter()
                                .cloned(),
                        );
                        let notes = sorted(
                            expected_notes
                                .as_ref()
                                .unwrap_or(&case.notes)
                                .iter()
                                .cloned(),
                        );
                        let got_notes = sorted(out.notes.iter().map(|n| n.code.clone()));
                        let got_rewrites = sorted(out.rewrites.iter().copied());
                        if expected_sql.as_deref() != Some(out.sql.as_str())
                            || rewrites != got_rewrites
                            || notes != got_notes
                        {
                            failures.push(format!(
                                "{label}:\n  sql      {:?}\n  expected {:?}\n  rewrites {:?} (expected {:?})\n  notes    {:?} (expected {:?})\n  messages {:?}",
                                out.sql, expected_sql, got_rewrites, rewrites, got_notes, notes,
                                out.notes.iter().map(|n| &n.message).collect::<Vec<_>>()
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );

    let mut defined: BTreeSet<String> = sorted(NAMED_REWRITES.iter().copied());
    for from in SourceDialect::ALL {
        defined.extend(
            function_rule_ids(from)
                .unwrap()
                .into_iter()
                .map(String::from),
        );
    }
    let missing: Vec<_> = defined.difference(&hit).collect();
    let unknown: Vec<_> = hit.difference(&defined).collect();
    assert!(
        missing.is_empty(),
        "rewrites and rules no case hits: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "rewrites hit but not defined: {unknown:?}"
    );
}
