//! AWS DMS table mappings (`{"rules": [...]}`), accepted as DMS documents them, and evaluated
//! against a discovered source [`Catalog`] into one [`TablePlan`] per table to load.
//!
//! Parsing is strict: an unknown field, an unsupported rule type or action, or a value that DMS
//! would reject is an error naming the rule-id and saying what to do. Nothing is ignored.
//! See docs/replicate-task.md for the supported subset and the decisions where the DMS guide is
//! silent.

mod constraints;
mod dms_types;
mod filter;
mod pattern;
mod rule;
mod selection;
mod transformation;

pub use filter::{CompareOp, Literal, RowFilter};

use crate::TaskError;
use migrate_core::{Catalog, Finding, Ident, QualifiedName, Table};
use rule::{integer, text, Problem, RuleRef};
use selection::SelectionRule;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use transformation::TransformationRule;

/// A parsed and validated table mapping.
#[derive(Debug, Clone)]
pub struct TableMappings {
    selections: Vec<SelectionRule>,
    transformations: Vec<TransformationRule>,
}

/// What the mapping selects from a catalog, and what the user should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Sorted by `load_order`, highest first (DMS loads higher values first), then by source
    /// schema and table name.
    pub tables: Vec<TablePlan>,
    /// `mapping.rule-unmatched`, `mapping.rule-shadowed`, `mapping.constraint-dropped`,
    /// `mapping.explicit-overrides-exclude`.
    pub findings: Vec<Finding>,
}

/// How one source table is loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    pub source: QualifiedName,
    /// The target table after renames, case changes, prefixes and suffixes, removed and added
    /// columns, changed types and defined keys. Constraints follow the renames; those that can't
    /// (a removed key column, a referenced table not loaded) are dropped with a finding.
    pub target: Table,
    /// One entry per column of `target`, in the same order.
    pub columns: Vec<ColumnMapping>,
    /// The rows to load; `None` for every row.
    pub filter: Option<RowFilter>,
    pub load_order: i64,
    /// The `define-primary-key` rule that defined the target's primary key or unique key
    /// (`rule-id 2 (define-primary-key)`), for messages about that key; `None` without one.
    pub key_rule: Option<String>,
}

/// Where a target column's values come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    /// The source column; `None` for a column added by `add-column`.
    pub source: Option<Ident>,
    pub target: Ident,
    /// The `add-column` expression, in DMS's SQLite syntax, kept as text (`$column` refers to a
    /// source column). `None` with `source: None` means NULL.
    pub expression: Option<String>,
    /// The `add-column` rule that added the column (`rule-id 4 (add-column)`), for messages about
    /// its expression; `None` for a source column.
    pub rule: Option<String>,
}

impl TableMappings {
    /// Parses a table-mapping JSON document.
    pub fn parse(json: &str) -> Result<TableMappings, TaskError> {
        Self::parse_named(json, "table mappings")
    }

    /// Reads and parses a table-mapping file.
    pub fn from_file(path: &Path) -> Result<TableMappings, TaskError> {
        let json = std::fs::read_to_string(path).map_err(|source| TaskError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_named(&json, &path.display().to_string())
    }

    /// Parses `json`; `origin` names it in errors (a file name).
    pub(crate) fn parse_named(json: &str, origin: &str) -> Result<TableMappings, TaskError> {
        let value: Value = serde_json::from_str(json).map_err(|e| TaskError::MappingJson {
            origin: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Self::from_value(&value, origin)
    }

    /// Builds the mapping from an already-parsed document (inline in a task file).
    pub(crate) fn from_value(value: &Value, origin: &str) -> Result<TableMappings, TaskError> {
        let document_error = |message: &str| TaskError::Rule {
            origin: origin.to_string(),
            rule: "document".into(),
            message: message.into(),
            action: "write {\"rules\": [...]} as AWS DMS documents it".into(),
        };
        let object = value
            .as_object()
            .ok_or_else(|| document_error("the table mapping is not a JSON object"))?;
        if let Some(key) = object.keys().find(|k| *k != "rules") {
            return Err(document_error(&format!(
                "unknown top-level field `{key}` (only `rules` is allowed)"
            )));
        }
        let rules = object
            .get("rules")
            .and_then(Value::as_array)
            .ok_or_else(|| document_error("the table mapping has no `rules` array"))?;
        let mut mappings = TableMappings {
            selections: Vec::new(),
            transformations: Vec::new(),
        };
        let mut ids = BTreeSet::new();
        for (index, value) in rules.iter().enumerate() {
            let name = value.get("rule-name").and_then(Value::as_str);
            let label = match name {
                Some(name) => format!("rules[{index}] (\"{name}\")"),
                None => format!("rules[{index}]"),
            };
            let error = |rule: &dyn fmt::Display, p: Problem| TaskError::Rule {
                origin: origin.to_string(),
                rule: rule.to_string(),
                message: p.message,
                action: p.action,
            };
            let rule = read_identity(value).map_err(|p| error(&label, p))?;
            if !ids.insert(rule.id) {
                return Err(error(
                    &rule,
                    Problem::new(
                        "the rule-id is used twice",
                        "give every rule a unique rule-id",
                    ),
                ));
            }
            match value.get("rule-type").and_then(Value::as_str) {
                Some("selection") => mappings.selections.push(
                    SelectionRule::from_json(rule.clone(), value).map_err(|p| error(&rule, p))?,
                ),
                Some("transformation") => mappings.transformations.push(
                    TransformationRule::from_json(rule.clone(), value)
                        .map_err(|p| error(&rule, p))?,
                ),
                Some("table-settings") => {
                    return Err(error(
                        &rule,
                        Problem::new(
                            "table-settings rules are not supported",
                            "remove the rule; set `parallel_tables` and `chunk_rows` in task.toml instead",
                        ),
                    ))
                }
                Some(other @ ("post-processing" | "object-mapping")) => {
                    return Err(error(
                        &rule,
                        Problem::new(
                            format!("{other} rules apply to S3, DynamoDB, Kinesis and Kafka targets"),
                            "remove the rule",
                        ),
                    ))
                }
                Some(other) => {
                    return Err(error(
                        &rule,
                        Problem::new(
                            format!("unknown rule-type `{other}`"),
                            "use selection or transformation",
                        ),
                    ))
                }
                None => {
                    return Err(error(
                        &rule,
                        Problem::new(
                            "the rule has no string `rule-type`",
                            "add `\"rule-type\": \"selection\"` or `\"transformation\"`",
                        ),
                    ))
                }
            }
        }
        if mappings.selections.is_empty() {
            return Err(document_error(
                "the table mapping has no selection rule, so it selects no table",
            ));
        }
        Ok(mappings)
    }

    /// A mapping that selects every table of every schema, with no transformation: what a task
    /// without `table_mappings` loads.
    pub fn all_tables() -> TableMappings {
        TableMappings {
            selections: vec![SelectionRule::include_all()],
            transformations: Vec::new(),
        }
    }

    /// Whether the selection rules select a table of this name. Transformations are not
    /// applied: this is what a table created after capture started is checked with before its
    /// columns are known (planned without columns, a table fails the transformations' checks).
    pub fn selects(&self, name: &QualifiedName) -> bool {
        let catalog = Catalog {
            tables: vec![Table::new(name.clone())],
            ..Catalog::default()
        };
        selection::select(&self.selections, &catalog, &mut Vec::new())
            .is_ok_and(|selected| !selected.is_empty())
    }

    /// Evaluates the mapping against a source catalog: the tables to load, in load order.
    ///
    /// Tables that no rule selects are not loaded (and not reported, as in DMS). Rules that
    /// match nothing are reported as `mapping.rule-unmatched` warnings, so that typos show.
    pub fn plan(&self, catalog: &Catalog) -> Result<Plan, TaskError> {
        let mut findings = Vec::new();
        let selected = selection::select(&self.selections, catalog, &mut findings)?;
        let mut tables = transformation::apply(&self.transformations, selected, &mut findings)?;
        for (i, a) in tables.iter().enumerate() {
            if let Some(b) = tables[..i]
                .iter()
                .find(|b| same_table(&b.target.name, &a.target.name))
            {
                return Err(TaskError::Plan {
                    object: a.source.to_string(),
                    message: format!(
                        "{} and {} would both load into {}",
                        b.source, a.source, a.target.name
                    ),
                    action: "change the transformation rules so that each source table has its \
                             own target table (DMS does not merge tables either)"
                        .into(),
                });
            }
        }
        tables.sort_by(|a, b| {
            b.load_order
                .cmp(&a.load_order)
                .then_with(|| sort_key(&a.source).cmp(&sort_key(&b.source)))
        });
        Ok(Plan { tables, findings })
    }
}

fn read_identity(value: &Value) -> Result<RuleRef, Problem> {
    if !value.is_object() {
        return Err(Problem::new(
            "a rule must be a JSON object",
            "write each rule as {\"rule-type\": ..., \"rule-id\": ..., ...}",
        ));
    }
    let id = integer("rule-id", value.get("rule-id"))?.ok_or_else(|| {
        Problem::new(
            "the rule has no rule-id",
            "add a unique numeric `\"rule-id\": \"1\"`",
        )
    })?;
    let name = text("rule-name", value.get("rule-name"))?;
    Ok(RuleRef { id, name })
}

fn same_table(a: &QualifiedName, b: &QualifiedName) -> bool {
    a.name.matches(&b.name)
        && match (&a.schema, &b.schema) {
            (Some(x), Some(y)) => x.matches(y),
            (None, None) => true,
            _ => false,
        }
}

fn sort_key(name: &QualifiedName) -> (&str, &str) {
    (
        name.schema.as_ref().map_or("", |s| s.value.as_str()),
        name.name.value.as_str(),
    )
}

/// The plan as shown to users before any work starts:
///
/// ```text
/// test.employee -> test.employee (load-order 0)
///   empid integer
///   first_name -> fname varchar(45 char)
///   where: "empid" >= 100
/// ```
impl fmt::Display for TablePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} (load-order {})",
            self.source, self.target.name, self.load_order
        )?;
        for (mapping, column) in self.columns.iter().zip(&self.target.columns) {
            f.write_str("\n  ")?;
            match &mapping.source {
                Some(source) if source.value != mapping.target.value => write!(f, "{source} -> ")?,
                _ => {}
            }
            write!(f, "{} {}", mapping.target, column.data_type)?;
            match (&mapping.source, &mapping.expression) {
                (None, Some(expression)) => write!(f, " = {expression}")?,
                (None, None) => f.write_str(" = NULL")?,
                _ => {}
            }
        }
        if let Some(filter) = &self.filter {
            write!(f, "\n  where: {filter}")?;
        }
        Ok(())
    }
}
