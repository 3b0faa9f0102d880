//! Selection rules: which source tables are loaded, in which order, with which rows.
//!
//! Precedence (the DMS guide shows `include Test.%` + `exclude Test.DMS%` selecting every table
//! but the `DMS%` ones, whatever the rule order):
//! - a table is loaded when an `include` rule matches it and no `exclude` rule does;
//! - an `explicit` rule names one table exactly and loads it even when an `exclude` rule matches
//!   (the most specific statement wins; a warning says so);
//! - a table that several rules select is loaded once, at the highest of their `load-order`s, with
//!   the rows that any of them selects (their filters are ORed; a rule without filters selects
//!   every row), so that adding a rule never loses rows.

use super::filter::{ColumnFilter, RowFilter};
use super::pattern::Pattern;
use super::rule::{integer, Problem, RuleRef};
use crate::TaskError;
use migrate_core::{Catalog, Finding, Severity, Table};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SelectionAction {
    Include,
    Exclude,
    Explicit,
}

#[derive(Debug, Clone)]
pub(crate) struct SelectionRule {
    pub(crate) rule: RuleRef,
    action: SelectionAction,
    schema: Pattern,
    table: Pattern,
    load_order: i64,
    filters: Vec<ColumnFilter>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelection {
    #[serde(rename = "rule-type")]
    _rule_type: Value,
    #[serde(rename = "rule-id")]
    _rule_id: Value,
    #[serde(rename = "rule-name")]
    _rule_name: Option<Value>,
    #[serde(rename = "rule-action")]
    rule_action: String,
    #[serde(rename = "object-locator")]
    object_locator: RawLocator,
    #[serde(rename = "load-order")]
    load_order: Option<Value>,
    filters: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocator {
    #[serde(rename = "schema-name")]
    schema_name: String,
    #[serde(rename = "table-name")]
    table_name: String,
    #[serde(rename = "table-type")]
    table_type: Option<String>,
}

/// DMS's documented maximum `load-order`.
const MAX_LOAD_ORDER: u64 = 2_147_483_647;

impl SelectionRule {
    pub(crate) fn from_json(rule: RuleRef, value: &Value) -> Result<SelectionRule, Problem> {
        let raw = RawSelection::deserialize(value).map_err(super::rule::shape_problem)?;
        let action = match raw.rule_action.as_str() {
            "include" => SelectionAction::Include,
            "exclude" => SelectionAction::Exclude,
            "explicit" => SelectionAction::Explicit,
            other => {
                return Err(Problem::new(
                    format!("unknown selection rule-action `{other}`"),
                    "use include, exclude or explicit",
                ))
            }
        };
        let locator = raw.object_locator;
        match locator.table_type.as_deref() {
            None | Some("table") => {}
            Some("view" | "all") => {
                return Err(Problem::new(
                    "views are not loaded yet (`table-type` view or all)",
                    "select the view's base tables instead, or remove `table-type`",
                ))
            }
            Some(other) => {
                return Err(Problem::new(
                    format!("unknown table-type `{other}`"),
                    "use `table` (the default)",
                ))
            }
        }
        let (schema, table) = if action == SelectionAction::Explicit {
            if locator.schema_name.contains('%') || locator.table_name.contains('%') {
                return Err(Problem::new(
                    "an explicit rule names one table exactly and takes no wildcards",
                    "use `\"rule-action\": \"include\"` for wildcards",
                ));
            }
            (
                Pattern::exact(&locator.schema_name),
                Pattern::exact(&locator.table_name),
            )
        } else {
            let parse = |text: &str| {
                Pattern::parse(text)
                    .map_err(|m| Problem::new(m, "fix the object-locator name pattern"))
            };
            (parse(&locator.schema_name)?, parse(&locator.table_name)?)
        };
        let load_order = integer("load-order", raw.load_order.as_ref())?.unwrap_or(0);
        if load_order > MAX_LOAD_ORDER {
            return Err(Problem::new(
                format!("load-order {load_order} is above the maximum {MAX_LOAD_ORDER}"),
                "use a smaller load-order",
            ));
        }
        let filters = raw
            .filters
            .unwrap_or_default()
            .iter()
            .map(ColumnFilter::from_json)
            .collect::<Result<Vec<_>, _>>()?;
        if action == SelectionAction::Exclude && !filters.is_empty() {
            return Err(Problem::new(
                "filters apply only to include and explicit rules (DMS ignores them on exclude rules)",
                "remove the filters, or make the rule an include rule",
            ));
        }
        Ok(SelectionRule {
            rule,
            action,
            schema,
            table,
            load_order: load_order as i64,
            filters,
        })
    }

    /// `include %.%`, rule-id 1.
    pub(crate) fn include_all() -> SelectionRule {
        SelectionRule {
            rule: RuleRef {
                id: 1,
                name: Some("all-tables".into()),
            },
            action: SelectionAction::Include,
            schema: Pattern::any(),
            table: Pattern::any(),
            load_order: 0,
            filters: Vec::new(),
        }
    }

    fn matches(&self, table: &Table) -> bool {
        let schema = table.name.schema.as_ref().map_or("", |s| s.value.as_str());
        self.schema.matches(schema) && self.table.matches(&table.name.name.value)
    }

    fn matches_ignoring_case(&self, table: &Table) -> bool {
        let schema = table.name.schema.as_ref().map_or("", |s| s.value.as_str());
        self.schema.matches_ignoring_case(schema)
            && self.table.matches_ignoring_case(&table.name.name.value)
    }

    /// The rows this rule selects from `table`; `None` for every row.
    fn filter(&self, table: &Table) -> Result<Option<RowFilter>, TaskError> {
        if self.filters.is_empty() {
            return Ok(None);
        }
        let parts = self
            .filters
            .iter()
            .map(|f| {
                f.resolve(table).map_err(|p| TaskError::Plan {
                    object: table.name.to_string(),
                    message: format!("{}: {}", self.rule, p.message),
                    action: p.action,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(RowFilter::all(parts)))
    }
}

/// A source table chosen by the selection rules.
pub(crate) struct Selected<'c> {
    pub(crate) table: &'c Table,
    pub(crate) load_order: i64,
    pub(crate) filter: Option<RowFilter>,
}

/// Applies the selection rules to every table of `catalog`, in catalog order.
pub(crate) fn select<'c>(
    rules: &[SelectionRule],
    catalog: &'c Catalog,
    findings: &mut Vec<Finding>,
) -> Result<Vec<Selected<'c>>, TaskError> {
    let mut matched = BTreeSet::new();
    let mut selected = Vec::new();
    for table in &catalog.tables {
        let matching: Vec<&SelectionRule> = rules.iter().filter(|r| r.matches(table)).collect();
        matched.extend(matching.iter().map(|r| r.rule.id));
        let of = |action| matching.iter().copied().filter(move |r| r.action == action);
        let excluded = of(SelectionAction::Exclude).next();
        let selecting: Vec<&SelectionRule> = match excluded {
            None => of(SelectionAction::Explicit)
                .chain(of(SelectionAction::Include))
                .collect(),
            Some(exclude) => {
                let explicit: Vec<&SelectionRule> = of(SelectionAction::Explicit).collect();
                if let Some(first) = explicit.first() {
                    findings.push(Finding::new(
                        Severity::Warning,
                        "mapping.explicit-overrides-exclude",
                        table.name.to_string(),
                        format!(
                            "{} excludes this table but {} selects it explicitly: it is loaded",
                            exclude.rule, first.rule
                        ),
                        "remove one of the two rules to make the intent plain",
                    ));
                }
                explicit
            }
        };
        if selecting.is_empty() {
            continue;
        }
        if table.name.is_bookkeeping() {
            findings.push(Finding::new(
                Severity::Warning,
                "mapping.bookkeeping-skipped",
                table.name.to_string(),
                format!(
                    "{} selects one of migrate's own tables (its state, or a change batch it stages; the source is or was a migration target): it is not loaded (it would replace the target's own)",
                    selecting[0].rule
                ),
                "nothing to do; exclude schema migrate in the selection rules to silence this",
            ));
            continue;
        }
        let load_order = selecting.iter().map(|r| r.load_order).max().unwrap_or(0);
        let mut filters = Vec::new();
        let mut every_row = false;
        for rule in &selecting {
            match rule.filter(table)? {
                Some(f) if !filters.contains(&f) => filters.push(f),
                Some(_) => {}
                None => every_row = true,
            }
        }
        selected.push(Selected {
            table,
            load_order,
            filter: (!every_row && !filters.is_empty()).then(|| RowFilter::any(filters)),
        });
    }
    for rule in rules.iter().filter(|r| !matched.contains(&r.rule.id)) {
        let near: Vec<String> = catalog
            .tables
            .iter()
            .filter(|t| rule.matches_ignoring_case(t))
            .take(3)
            .map(|t| t.name.to_string())
            .collect();
        let action = if near.is_empty() {
            "check the schema and table names against the source".to_string()
        } else {
            format!(
                "names are case-sensitive: did you mean {}?",
                near.join(", ")
            )
        };
        findings.push(Finding::new(
            Severity::Warning,
            "mapping.rule-unmatched",
            rule.rule.to_string(),
            format!(
                "selection rule matches no source table ({}.{})",
                rule.schema, rule.table
            ),
            action,
        ));
    }
    Ok(selected)
}
