//! Transformation rules: how a selected source table becomes its target table.
//!
//! Object locators name *source* objects (patterns match source names, case-sensitively). DMS
//! documents that it applies one transformation per object, the one with the lowest rule-id.
//! migrate applies that per kind of change, so that renaming a column and changing its type
//! both happen, as users of DMS expect:
//! - name: `rename`, `convert-lowercase`/`-uppercase`, `add-`/`remove-`/`replace-` `prefix`/`suffix`;
//! - type: `change-data-type`;
//! - presence: `remove-column`, `include-column`;
//! - primary key: `define-primary-key`.
//!
//! `add-column` rules each add their own column. A rule that loses to a lower rule-id on some
//! object is reported (`mapping.rule-shadowed`), never dropped silently. The names rules make
//! are folded to lower case like every name the targets get, and a rule whose names change by
//! that is reported (`mapping.name-folded`).

use super::constraints::{self, ColumnMap};
use super::dms_types::{self, DmsType};
use super::pattern::Pattern;
use super::rule::{shape_problem, text, Problem, RuleRef};
use super::selection::Selected;
use super::{ColumnMapping, TablePlan};
use crate::TaskError;
use migrate_core::{
    Column, Constraint, ConstraintKind, ConstraintState, Finding, Ident, LogicalType,
    QualifiedName, Severity, Table,
};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Schema,
    Table,
    Column,
}

/// A change of name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NameAction {
    Rename(String),
    Lowercase,
    Uppercase,
    AddPrefix(String),
    RemovePrefix(String),
    ReplacePrefix { old: String, new: String },
    AddSuffix(String),
    RemoveSuffix(String),
    ReplaceSuffix { old: String, new: String },
}

impl NameAction {
    fn apply(&self, name: &str) -> String {
        match self {
            NameAction::Rename(value) => value.clone(),
            NameAction::Lowercase => name.to_lowercase(),
            NameAction::Uppercase => name.to_uppercase(),
            NameAction::AddPrefix(p) => format!("{p}{name}"),
            NameAction::RemovePrefix(p) => name.strip_prefix(p.as_str()).unwrap_or(name).into(),
            NameAction::ReplacePrefix { old, new } => match name.strip_prefix(old.as_str()) {
                Some(rest) => format!("{new}{rest}"),
                None => name.to_string(),
            },
            NameAction::AddSuffix(s) => format!("{name}{s}"),
            NameAction::RemoveSuffix(s) => name.strip_suffix(s.as_str()).unwrap_or(name).into(),
            NameAction::ReplaceSuffix { old, new } => match name.strip_suffix(old.as_str()) {
                Some(rest) => format!("{rest}{new}"),
                None => name.to_string(),
            },
        }
    }
}

#[derive(Debug, Clone)]
enum Action {
    Name(NameAction),
    RemoveColumn,
    IncludeColumn,
    AddColumn {
        name: String,
        expression: Option<String>,
        dms_type: DmsType,
        data_type: LogicalType,
    },
    ChangeDataType(LogicalType),
    DefinePrimaryKey {
        name: String,
        unique_index: bool,
        columns: Vec<String>,
    },
}

/// Rules of the same kind compete for an object; the lowest rule-id wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Type,
    Presence,
    AddColumn,
    PrimaryKey,
}

impl Action {
    fn kind(&self) -> Kind {
        match self {
            Action::Name(_) => Kind::Name,
            Action::ChangeDataType(_) => Kind::Type,
            Action::RemoveColumn | Action::IncludeColumn => Kind::Presence,
            Action::AddColumn { .. } => Kind::AddColumn,
            Action::DefinePrimaryKey { .. } => Kind::PrimaryKey,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TransformationRule {
    pub(crate) rule: RuleRef,
    action_name: String,
    target: Target,
    schema: Pattern,
    table: Option<Pattern>,
    column: Option<Pattern>,
    /// Object-locator `data-type`: only columns of this DMS type.
    data_type: Option<String>,
    action: Action,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransformation {
    #[serde(rename = "rule-type")]
    _rule_type: Value,
    #[serde(rename = "rule-id")]
    _rule_id: Value,
    #[serde(rename = "rule-name")]
    _rule_name: Option<Value>,
    #[serde(rename = "rule-action")]
    rule_action: String,
    #[serde(rename = "rule-target")]
    rule_target: String,
    #[serde(rename = "object-locator")]
    object_locator: RawLocator,
    value: Option<Value>,
    #[serde(rename = "old-value")]
    old_value: Option<Value>,
    expression: Option<String>,
    #[serde(rename = "data-type")]
    data_type: Option<Value>,
    #[serde(rename = "primary-key-def")]
    primary_key_def: Option<RawPrimaryKey>,
    #[serde(rename = "before-image-def")]
    before_image_def: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocator {
    #[serde(rename = "schema-name")]
    schema_name: String,
    #[serde(rename = "table-name")]
    table_name: Option<String>,
    #[serde(rename = "column-name")]
    column_name: Option<String>,
    #[serde(rename = "data-type")]
    data_type: Option<String>,
    #[serde(rename = "table-tablespace-name")]
    table_tablespace_name: Option<String>,
    #[serde(rename = "index-tablespace-name")]
    index_tablespace_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrimaryKey {
    name: String,
    origin: Option<String>,
    columns: Vec<String>,
}

const SUPPORTED: &str = "rename, convert-lowercase, convert-uppercase, add-prefix, remove-prefix, \
    replace-prefix, add-suffix, remove-suffix, replace-suffix, remove-column, include-column, \
    add-column, change-data-type, define-primary-key";

impl TransformationRule {
    pub(crate) fn from_json(rule: RuleRef, value: &Value) -> Result<TransformationRule, Problem> {
        let raw = RawTransformation::deserialize(value).map_err(shape_problem)?;
        let name = raw.rule_action.as_str();
        let target =
            match raw.rule_target.as_str() {
                "schema" => Target::Schema,
                "table" => Target::Table,
                "column" => Target::Column,
                "table-tablespace" | "index-tablespace" => return Err(Problem::new(
                    format!(
                        "rule-target `{}` applies only to Oracle targets",
                        raw.rule_target
                    ),
                    "remove the rule: PostgreSQL and Redshift targets have no Oracle tablespaces",
                )),
                other => {
                    return Err(Problem::new(
                        format!("unknown rule-target `{other}`"),
                        "use schema, table or column",
                    ))
                }
            };
        let locator = &raw.object_locator;
        if locator.table_tablespace_name.is_some() || locator.index_tablespace_name.is_some() {
            return Err(Problem::new(
                "tablespace names in an object-locator apply only to Oracle",
                "remove table-tablespace-name / index-tablespace-name",
            ));
        }
        let value_text = text("value", raw.value.as_ref())?;
        let old_value = text("old-value", raw.old_value.as_ref())?;
        let needs = |field: &str, v: &Option<String>| {
            v.clone().filter(|v| !v.is_empty()).ok_or_else(|| {
                Problem::new(
                    format!("`{name}` needs a non-empty `{field}`"),
                    format!("add `\"{field}\": \"...\"`"),
                )
            })
        };
        let value = || needs("value", &value_text);
        let old = || needs("old-value", &old_value);
        let action = match name {
            "rename" => Action::Name(NameAction::Rename(value()?)),
            "convert-lowercase" => Action::Name(NameAction::Lowercase),
            "convert-uppercase" => Action::Name(NameAction::Uppercase),
            "add-prefix" => Action::Name(NameAction::AddPrefix(value()?)),
            "remove-prefix" => Action::Name(NameAction::RemovePrefix(value()?)),
            "replace-prefix" => Action::Name(NameAction::ReplacePrefix {
                old: old()?,
                new: value()?,
            }),
            "add-suffix" => Action::Name(NameAction::AddSuffix(value()?)),
            "remove-suffix" => Action::Name(NameAction::RemoveSuffix(value()?)),
            "replace-suffix" => Action::Name(NameAction::ReplaceSuffix {
                old: old()?,
                new: value()?,
            }),
            "remove-column" => Action::RemoveColumn,
            "include-column" => Action::IncludeColumn,
            "add-column" | "change-data-type" => {
                let dms_type = DmsType::from_json(raw.data_type.as_ref().ok_or_else(|| {
                    Problem::new(
                        format!("`{name}` needs a `data-type`"),
                        "add `\"data-type\": {\"type\": \"...\"}`",
                    )
                })?)?;
                let data_type = dms_type.canonical()?;
                if name == "add-column" {
                    Action::AddColumn {
                        name: value()?,
                        expression: raw.expression.clone(),
                        dms_type,
                        data_type,
                    }
                } else {
                    Action::ChangeDataType(data_type)
                }
            }
            "define-primary-key" => {
                let def = raw.primary_key_def.as_ref().ok_or_else(|| {
                    Problem::new(
                        "`define-primary-key` needs a `primary-key-def`",
                        "add `\"primary-key-def\": {\"name\": \"...\", \"columns\": [...]}`",
                    )
                })?;
                let unique_index = match def.origin.as_deref() {
                    None | Some("primary-key") => false,
                    Some("unique-index") => true,
                    Some(other) => {
                        return Err(Problem::new(
                            format!("unknown primary-key-def origin `{other}`"),
                            "use primary-key or unique-index",
                        ))
                    }
                };
                if def.columns.is_empty() {
                    return Err(Problem::new(
                        "primary-key-def has no columns",
                        "list the key's columns",
                    ));
                }
                Action::DefinePrimaryKey {
                    name: def.name.clone(),
                    unique_index,
                    columns: def.columns.clone(),
                }
            }
            "add-before-image-columns" => {
                return Err(Problem::new(
                    "add-before-image-columns applies only to Kinesis and Kafka targets",
                    "remove the rule",
                ))
            }
            masking if masking.starts_with("data-masking-") => {
                return Err(Problem::new(
                    format!("`{masking}` is not supported yet"),
                    "mask the data in the source (a view) or after the load, and remove the rule",
                ))
            }
            other => {
                return Err(Problem::new(
                    format!("unknown or unsupported transformation rule-action `{other}`"),
                    format!("use one of: {SUPPORTED}"),
                ))
            }
        };
        // Fields that this action does not use are errors, except the `null`s the DMS console
        // writes.
        let unused = |field: &str, present: bool| {
            if present {
                Err(Problem::new(
                    format!("`{field}` is not used by `{name}`"),
                    format!("remove `{field}`"),
                ))
            } else {
                Ok(())
            }
        };
        let uses_value = !matches!(
            action,
            Action::Name(NameAction::Lowercase | NameAction::Uppercase)
                | Action::RemoveColumn
                | Action::IncludeColumn
                | Action::ChangeDataType(_)
                | Action::DefinePrimaryKey { .. }
        );
        unused("value", !uses_value && value_text.is_some())?;
        let uses_old = matches!(
            action,
            Action::Name(NameAction::ReplacePrefix { .. } | NameAction::ReplaceSuffix { .. })
        );
        unused("old-value", !uses_old && old_value.is_some())?;
        let adds = matches!(action, Action::AddColumn { .. });
        unused("expression", !adds && raw.expression.is_some())?;
        let typed = adds || matches!(action, Action::ChangeDataType(_));
        unused("data-type", !typed && raw.data_type.is_some())?;
        unused(
            "primary-key-def",
            action.kind() != Kind::PrimaryKey && raw.primary_key_def.is_some(),
        )?;
        unused("before-image-def", raw.before_image_def.is_some())?;

        // The object-locator must name exactly the levels the target needs.
        let wants_table = target != Target::Schema;
        let wants_column = target == Target::Column && !adds;
        let shape = |field: &str, wanted: bool, present: bool| match (wanted, present) {
            (true, false) => Err(Problem::new(
                format!(
                    "rule-target {} needs object-locator `{field}`",
                    raw.rule_target
                ),
                format!("add `\"{field}\"` (\"%\" for all)"),
            )),
            (false, true) => Err(Problem::new(
                format!(
                    "object-locator `{field}` is not used by rule-target {} with `{name}`",
                    raw.rule_target
                ),
                format!("remove `{field}`"),
            )),
            _ => Ok(()),
        };
        shape("table-name", wants_table, locator.table_name.is_some())?;
        shape("column-name", wants_column, locator.column_name.is_some())?;
        if locator.data_type.is_some() && !wants_column {
            shape("data-type", false, true)?;
        }
        let needs_target = |allowed: &[Target]| {
            if allowed.contains(&target) {
                Ok(())
            } else {
                Err(Problem::new(
                    format!("`{name}` does not apply to rule-target {}", raw.rule_target),
                    match action.kind() {
                        Kind::PrimaryKey => "use `\"rule-target\": \"table\"`",
                        _ => "use `\"rule-target\": \"column\"`",
                    },
                ))
            }
        };
        match action.kind() {
            Kind::Name => Ok(()),
            Kind::PrimaryKey => needs_target(&[Target::Table]),
            _ => needs_target(&[Target::Column]),
        }?;
        if let Some(data_type) = &locator.data_type {
            dms_types::check_known(&data_type.to_ascii_lowercase())?;
        }

        let exact = action.kind() == Kind::PrimaryKey;
        let pattern = |text: &str| -> Result<Pattern, Problem> {
            if exact {
                if text.contains('%') {
                    return Err(Problem::new(
                        "define-primary-key takes exact schema and table names, not wildcards",
                        "write one rule per table",
                    ));
                }
                Ok(Pattern::exact(text))
            } else {
                Pattern::parse(text)
                    .map_err(|m| Problem::new(m, "fix the object-locator name pattern"))
            }
        };
        Ok(TransformationRule {
            rule,
            action_name: name.to_string(),
            target,
            schema: pattern(&locator.schema_name)?,
            table: locator.table_name.as_deref().map(pattern).transpose()?,
            column: locator.column_name.as_deref().map(pattern).transpose()?,
            data_type: locator.data_type.as_ref().map(|t| t.to_ascii_lowercase()),
            action,
        })
    }

    fn matches_table(&self, schema: &str, table: &str) -> bool {
        self.schema.matches(schema) && self.table.as_ref().is_none_or(|t| t.matches(table))
    }

    fn matches_column(&self, schema: &str, table: &str, column: &Column) -> bool {
        self.matches_table(schema, table)
            && self
                .column
                .as_ref()
                .is_some_and(|c| c.matches(&column.name.value))
            && self
                .data_type
                .as_ref()
                .is_none_or(|t| dms_types::stands_for(t, &column.data_type))
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.rule, self.action_name)
    }
}

/// Tracks which rules matched something and which lost to a lower rule-id.
#[derive(Default)]
struct Outcome {
    matched: BTreeSet<u64>,
    /// (loser, winner) -> objects.
    shadowed: BTreeMap<(u64, u64), Vec<String>>,
    /// rule -> the names it made that the targets fold (`wanted -> folded`), each once.
    folded: BTreeMap<u64, Vec<String>>,
}

impl Outcome {
    /// The lowest rule-id among `candidates` (already sorted by rule-id), recording the others.
    fn winner<'r>(
        &mut self,
        candidates: impl Iterator<Item = &'r TransformationRule>,
        object: impl Fn() -> String,
    ) -> Option<&'r TransformationRule> {
        let mut winner: Option<&TransformationRule> = None;
        for rule in candidates {
            self.matched.insert(rule.rule.id);
            match winner {
                None => winner = Some(rule),
                Some(w) => {
                    let objects = self.shadowed.entry((rule.rule.id, w.rule.id)).or_default();
                    let object = object();
                    // A schema is met once per table: report it once.
                    if !objects.contains(&object) {
                        objects.push(object);
                    }
                }
            }
        }
        winner
    }

    /// Records that a name `rule` made is `folded` on the target, not `wanted`: every name
    /// migrate creates is lower case (Redshift folds every name; the PostgreSQL schemas migrate
    /// creates use lower case too). Reported as `mapping.name-folded`.
    fn note_folded(&mut self, rule: &TransformationRule, wanted: &str, folded: &str) {
        let names = self.folded.entry(rule.rule.id).or_default();
        let shown = format!("{wanted} -> {folded}");
        if !names.contains(&shown) {
            names.push(shown);
        }
    }
}

/// The first three of `items`, and how many more there are: `a, b, c and 4 more`.
fn first_three(items: &[String]) -> String {
    let shown = items[..items.len().min(3)].join(", ");
    match items.len().saturating_sub(3) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

struct Draft<'c> {
    selected: Selected<'c>,
    target: Table,
    columns: Vec<ColumnMapping>,
    column_map: ColumnMap,
    /// The `define-primary-key` rule applied to the table.
    key_rule: Option<String>,
}

/// Applies the transformation rules to the selected tables.
pub(crate) fn apply(
    rules: &[TransformationRule],
    selected: Vec<Selected<'_>>,
    findings: &mut Vec<Finding>,
) -> Result<Vec<TablePlan>, TaskError> {
    let mut sorted: Vec<&TransformationRule> = rules.iter().collect();
    sorted.sort_by_key(|r| r.rule.id);
    let mut outcome = Outcome::default();
    let mut drafts = selected
        .into_iter()
        .map(|s| draft(&sorted, s, &mut outcome))
        .collect::<Result<Vec<_>, _>>()?;

    // Constraints refer to columns and tables by name: follow the renames, and drop (and report)
    // those whose columns or referenced tables are not loaded.
    let targets: Vec<(&Table, QualifiedName, ColumnMap)> = drafts
        .iter()
        .map(|d| {
            (
                d.selected.table,
                d.target.name.clone(),
                d.column_map.clone(),
            )
        })
        .collect();
    for d in &mut drafts {
        constraints::follow(
            d.selected.table,
            &mut d.target,
            &d.column_map,
            &targets,
            findings,
        );
    }
    for d in &mut drafts {
        define_primary_key(&sorted, d, &mut outcome)?;
    }

    for rule in sorted
        .iter()
        .filter(|r| !outcome.matched.contains(&r.rule.id))
    {
        findings.push(Finding::new(
            Severity::Warning,
            "mapping.rule-unmatched",
            rule.rule.to_string(),
            format!(
                "transformation rule ({}) matches no object of the selected tables",
                rule.action_name
            ),
            "check the object-locator names (case-sensitive) against the selected tables",
        ));
    }
    let by_id: BTreeMap<u64, &TransformationRule> =
        sorted.iter().map(|r| (r.rule.id, *r)).collect();
    for ((loser, winner), objects) in outcome.shadowed {
        let (Some(loser), Some(winner)) = (by_id.get(&loser), by_id.get(&winner)) else {
            continue;
        };
        findings.push(Finding::new(
            Severity::Warning,
            "mapping.rule-shadowed",
            loser.rule.to_string(),
            format!(
                "{} is not applied to {}: {} also matches and DMS applies the lowest rule-id",
                loser.describe(),
                first_three(&objects),
                winner.describe()
            ),
            "narrow one of the object-locators, or merge the two rules",
        ));
    }
    for (id, names) in outcome.folded {
        let Some(rule) = by_id.get(&id) else { continue };
        let has_no_effect = matches!(rule.action, Action::Name(NameAction::Uppercase));
        findings.push(Finding::new(
            Severity::Warning,
            "mapping.name-folded",
            rule.rule.to_string(),
            format!(
                "{} {}, like every name migrate creates ({})",
                rule.describe(),
                if has_no_effect {
                    "has no effect: the target gets the names in lower case"
                } else {
                    "makes names that are not lower case, and the target gets them in lower case"
                },
                first_three(&names),
            ),
            if has_no_effect {
                "remove the rule"
            } else {
                "write the rule's value in lower case (or accept the lower-case names)"
            },
        ));
    }

    drafts
        .into_iter()
        .map(|d| {
            Ok(TablePlan {
                source: d.selected.table.name.clone(),
                target: d.target,
                columns: d.columns,
                filter: d.selected.filter,
                load_order: d.selected.load_order,
                key_rule: d.key_rule,
            })
        })
        .collect()
}

fn draft<'c>(
    rules: &[&TransformationRule],
    selected: Selected<'c>,
    outcome: &mut Outcome,
) -> Result<Draft<'c>, TaskError> {
    let source = selected.table;
    let schema = source.name.schema.as_ref().map_or("", |s| s.value.as_str());
    let table = source.name.name.value.as_str();
    let of = |target: Target, kind: Kind| {
        rules
            .iter()
            .copied()
            .filter(move |r| r.target == target && r.action.kind() == kind)
    };
    let plan_error = |rule: &TransformationRule, object: String, p: Problem| TaskError::Plan {
        object,
        message: format!("{}: {}", rule.describe(), p.message),
        action: p.action,
    };
    let rename = |rule: Option<&TransformationRule>,
                  ident: &Ident,
                  object: &dyn Fn() -> String,
                  outcome: &mut Outcome| match rule.map(|r| (r, &r.action)) {
        Some((r, Action::Name(action))) => {
            let value = action.apply(&ident.value);
            if value.is_empty() {
                return Err(plan_error(
                    r,
                    object(),
                    Problem::new(
                        format!("`{}` becomes an empty name", ident.value),
                        "change the rule",
                    ),
                ));
            }
            // Reported only when the rule itself brings upper case in: the source's own
            // mixed-case names are folded by every target anyway (`migrate convert` says so).
            let from_lower_case = action.apply(&ident.value.to_lowercase());
            let folded = value.to_lowercase();
            if from_lower_case != from_lower_case.to_lowercase() {
                outcome.note_folded(r, &value, &folded);
            }
            Ok(target_ident(ident, folded))
        }
        _ => Ok(ident.clone()),
    };

    let target_schema = match &source.name.schema {
        Some(s) => {
            let object = || s.value.clone();
            let rule = outcome.winner(
                of(Target::Schema, Kind::Name).filter(|r| r.schema.matches(schema)),
                object,
            );
            Some(rename(rule, s, &object, outcome)?)
        }
        None => None,
    };
    let table_object = || source.name.to_string();
    let rule = outcome.winner(
        of(Target::Table, Kind::Name).filter(|r| r.matches_table(schema, table)),
        table_object,
    );
    let target_name = QualifiedName::new(
        target_schema,
        rename(rule, &source.name.name, &table_object, outcome)?,
    );

    let include_mode = of(Target::Column, Kind::Presence)
        .any(|r| matches!(r.action, Action::IncludeColumn) && r.matches_table(schema, table));
    let mut target = source.clone();
    target.name = target_name;
    target.columns.clear();
    let mut columns = Vec::new();
    let mut column_map = ColumnMap::new();
    for column in &source.columns {
        let object = || format!("{}.{}", source.name, column.name.value);
        let on_column =
            |kind| of(Target::Column, kind).filter(|r| r.matches_column(schema, table, column));
        let keep = match outcome.winner(on_column(Kind::Presence), object) {
            Some(r) => matches!(r.action, Action::IncludeColumn),
            None => !include_mode,
        };
        if !keep {
            column_map.insert(column.name.value.clone(), None);
            continue;
        }
        let rule = outcome.winner(on_column(Kind::Name), object);
        let name = rename(rule, &column.name, &object, outcome)?;
        let mut out = column.clone();
        out.name = name.clone();
        if let Some(Action::ChangeDataType(ty)) = outcome
            .winner(on_column(Kind::Type), object)
            .map(|r| &r.action)
        {
            out.data_type = ty.clone();
        }
        column_map.insert(column.name.value.clone(), Some(name.clone()));
        columns.push(ColumnMapping {
            source: Some(column.name.clone()),
            target: name,
            expression: None,
            rule: None,
        });
        target.columns.push(out);
    }
    for rule in of(Target::Column, Kind::AddColumn).filter(|r| r.matches_table(schema, table)) {
        outcome.matched.insert(rule.rule.id);
        if let Action::AddColumn {
            name,
            expression,
            dms_type,
            data_type,
        } = &rule.action
        {
            if let Some(expression) = expression {
                check_expression(expression, source)
                    .map_err(|p| plan_error(rule, source.name.to_string(), p))?;
            }
            let folded = name.to_lowercase();
            if folded != *name {
                outcome.note_folded(rule, name, &folded);
            }
            let ident = new_ident(folded);
            target.columns.push(Column::new(
                ident.clone(),
                dms_type.to_string(),
                data_type.clone(),
            ));
            columns.push(ColumnMapping {
                source: None,
                target: ident,
                expression: expression.clone(),
                rule: Some(rule.describe()),
            });
        }
    }

    if target.columns.is_empty() {
        return Err(TaskError::Plan {
            object: source.name.to_string(),
            message: "the transformation rules leave the table with no columns".into(),
            action: "check the include-column and remove-column rules".into(),
        });
    }
    for (i, a) in target.columns.iter().enumerate() {
        if let Some(b) = target.columns[..i].iter().find(|b| b.name.matches(&a.name)) {
            return Err(TaskError::Plan {
                object: source.name.to_string(),
                message: format!(
                    "two target columns are named `{}` and `{}` after the transformation rules",
                    b.name.value, a.name.value
                ),
                action: "change the rules so that target column names are unique".into(),
            });
        }
    }
    Ok(Draft {
        selected,
        target,
        columns,
        column_map,
        key_rule: None,
    })
}

/// A changed name, quoted when it is not a plain lower-case identifier (`a-b`).
fn target_ident(original: &Ident, value: String) -> Ident {
    if value == original.value {
        return original.clone();
    }
    new_ident(value)
}

fn new_ident(value: String) -> Ident {
    Ident {
        quoted: needs_quoting(&value),
        value,
    }
}

fn needs_quoting(value: &str) -> bool {
    let mut chars = value.chars();
    !chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks that an `add-column` expression refers (`$name`) only to source columns or to DMS
/// header values (`$AR_H_...`, `$AR_M_...`). The expression itself stays SQLite text.
fn check_expression(expression: &str, table: &Table) -> Result<(), Problem> {
    let mut quote: Option<char> = None;
    let mut chars = expression.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => {
                let start = i + 1;
                let mut end = start;
                while let Some((j, c)) = chars.peek().copied() {
                    if c.is_alphanumeric() || c == '_' {
                        end = j + c.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let name = &expression[start..end];
                if name.is_empty() || name.starts_with("AR_") {
                    continue;
                }
                if !table.columns.iter().any(|c| c.name.value == name) {
                    return Err(Problem::new(
                        format!(
                            "the expression refers to `${name}`, which is not a column of {} (names are case-sensitive)",
                            table.name
                        ),
                        "refer to source columns as `$column`; DMS header values start with `$AR_`",
                    ));
                }
            }
            (None, _) => {}
        }
    }
    Ok(())
}

fn define_primary_key(
    rules: &[&TransformationRule],
    draft: &mut Draft<'_>,
    outcome: &mut Outcome,
) -> Result<(), TaskError> {
    let source = &draft.selected.table.name;
    let schema = source.schema.as_ref().map_or("", |s| s.value.as_str());
    let candidates = rules.iter().copied().filter(|r| {
        r.action.kind() == Kind::PrimaryKey && r.matches_table(schema, &source.name.value)
    });
    let Some(rule) = outcome.winner(candidates, || source.to_string()) else {
        return Ok(());
    };
    let Action::DefinePrimaryKey {
        name,
        unique_index,
        columns,
    } = &rule.action
    else {
        return Ok(());
    };
    let target = &mut draft.target;
    let idents = columns
        .iter()
        .map(|c| {
            target
                .columns
                .iter()
                .find(|t| t.name.value == *c)
                .map(|t| t.name.clone())
                .ok_or_else(|| TaskError::Plan {
                    object: source.to_string(),
                    message: format!(
                        "{}: primary-key-def column `{c}` is not a column of the target table {}",
                        rule.describe(),
                        target.name
                    ),
                    action: "name the key's columns as they are on the target (after renames)"
                        .into(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let kind = if *unique_index {
        ConstraintKind::Unique(idents)
    } else {
        target
            .constraints
            .retain(|c| !matches!(c.kind, ConstraintKind::PrimaryKey(_)));
        ConstraintKind::PrimaryKey(idents)
    };
    target.constraints.push(Constraint {
        name: Some(new_ident(name.clone())),
        kind,
        state: ConstraintState::default(),
        index: Default::default(),
    });
    draft.key_rule = Some(rule.describe());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_actions() {
        let r = |a: NameAction, n: &str| a.apply(n);
        assert_eq!(r(NameAction::Lowercase, "ACTOR"), "actor");
        assert_eq!(r(NameAction::Uppercase, "actor"), "ACTOR");
        assert_eq!(r(NameAction::AddPrefix("DMS_".into()), "t"), "DMS_t");
        assert_eq!(r(NameAction::RemovePrefix("DMS_".into()), "DMS_t"), "t");
        assert_eq!(r(NameAction::RemovePrefix("DMS_".into()), "t"), "t");
        let rp = NameAction::ReplacePrefix {
            old: "Pre_".into(),
            new: "NewPre_".into(),
        };
        assert_eq!(r(rp.clone(), "Pre_x"), "NewPre_x");
        assert_eq!(r(rp, "x_Pre_"), "x_Pre_");
        assert_eq!(r(NameAction::RemoveSuffix("_DMS".into()), "t_DMS"), "t");
        let rs = NameAction::ReplaceSuffix {
            old: "_old".into(),
            new: "_new".into(),
        };
        assert_eq!(r(rs, "t_old"), "t_new");
    }

    #[test]
    fn target_idents_keep_their_spelling() {
        let lower = Ident::new("actor");
        assert_eq!(target_ident(&lower, "actor".into()), lower);
        assert!(!target_ident(&lower, "dms_actor".into()).quoted);
        assert!(target_ident(&lower, "Actor1".into()).quoted);
        assert!(target_ident(&lower, "1actor".into()).quoted);
        assert!(target_ident(&lower, "a-b".into()).quoted);
    }
}
