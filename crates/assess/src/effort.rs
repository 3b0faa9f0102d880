//! The effort model: hours per object class, construct and finding code, as data
//! (`crates/assess/effort.toml`, replaceable with `--effort FILE`).

use crate::model::{ObjectKind, Status};
use migrate_core::{RoutineKind, Severity};
use migrate_dialect::Constructs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const BUILTIN: &str = include_str!("../effort.toml");

/// An effort model file that can't be used.
#[derive(Debug, thiserror::Error)]
pub enum EffortError {
    #[error("{file}: {message}; compare it with crates/assess/effort.toml (docs/assess.md describes every key)")]
    Invalid { file: String, message: String },
}

impl migrate_core::ErrorClass for EffortError {
    fn retry(&self) -> migrate_core::Retry {
        migrate_core::Retry::Definite
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffortModel {
    pub version: u32,
    pub bands: Bands,
    pub levels: Levels,
    /// Review hours of an object that converts automatically, by object class.
    pub review: BTreeMap<String, f64>,
    /// Rewrite hours of procedural code, by routine kind.
    pub procedural: BTreeMap<String, Procedural>,
    pub constructs: ConstructHours,
    pub findings: FindingHours,
}

/// SCT-style bands: the hours an object's action items add up to decide its status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub simple: f64,
    pub medium: f64,
}

/// ora2pg-style migration levels A, B, C.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    pub hours_per_day: f64,
    pub b_max_days: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedural {
    pub base: f64,
    pub per_100_lines: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstructHours {
    pub cursor: f64,
    pub dynamic_sql: f64,
    pub autonomous_transaction: f64,
    pub connect_by: f64,
    pub bulk_operation: f64,
    pub supplied_package_call: f64,
    pub global_temporary_table: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingHours {
    pub default: SeverityHours,
    pub codes: BTreeMap<String, CodeHours>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityHours {
    pub info: f64,
    pub warning: f64,
    pub action: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeHours {
    pub hours: f64,
    #[serde(default)]
    pub unsupported: bool,
}

/// One construct found in procedural code, with the action item code it is reported under.
pub struct ConstructItem {
    pub code: &'static str,
    pub what: &'static str,
    pub fix: &'static str,
    /// What was found, when the count alone does not say (the supplied packages called).
    pub detail: String,
    pub count: u32,
    pub hours_each: f64,
}

impl EffortModel {
    /// The model shipped with migrate (`crates/assess/effort.toml`).
    pub fn builtin() -> EffortModel {
        // The file is part of the source and checked by a unit test: parsing can't fail at run time.
        EffortModel::parse("effort.toml", BUILTIN).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads a model file; every number must be finite and not negative.
    pub fn parse(file: &str, text: &str) -> Result<EffortModel, EffortError> {
        let invalid = |message: String| EffortError::Invalid {
            file: file.to_string(),
            message,
        };
        let model: EffortModel = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut numbers: Vec<(String, f64)> = vec![
            ("bands.simple".into(), model.bands.simple),
            ("bands.medium".into(), model.bands.medium),
            ("levels.hours_per_day".into(), model.levels.hours_per_day),
            ("levels.b_max_days".into(), model.levels.b_max_days),
        ];
        numbers.extend(
            model
                .review
                .iter()
                .map(|(k, v)| (format!("review.{k}"), *v)),
        );
        for (kind, p) in &model.procedural {
            numbers.push((format!("procedural.{kind}.base"), p.base));
            numbers.push((format!("procedural.{kind}.per_100_lines"), p.per_100_lines));
        }
        for (code, c) in &model.findings.codes {
            numbers.push((format!("findings.codes.\"{code}\".hours"), c.hours));
        }
        if let Some((key, value)) = numbers.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
            return Err(invalid(format!("{key} = {value} must be a number >= 0")));
        }
        if model.bands.simple > model.bands.medium {
            return Err(invalid(format!(
                "bands.simple ({}) is above bands.medium ({})",
                model.bands.simple, model.bands.medium
            )));
        }
        if model.levels.hours_per_day <= 0.0 {
            return Err(invalid("levels.hours_per_day must be above 0".into()));
        }
        for kind in ROUTINE_KINDS {
            if !model.procedural.contains_key(procedural_key(kind)) {
                return Err(invalid(format!(
                    "procedural.{} is missing",
                    procedural_key(kind)
                )));
            }
        }
        Ok(model)
    }

    /// Review hours of an object that converts as is.
    pub fn review_hours(&self, kind: ObjectKind) -> f64 {
        self.review.get(kind.key()).copied().unwrap_or(0.0)
    }

    /// Hours to rewrite a routine of `lines` lines, before its constructs.
    pub fn rewrite_hours(&self, kind: RoutineKind, lines: u32) -> f64 {
        self.procedural
            .get(procedural_key(kind))
            .map_or(0.0, |p| p.base + p.per_100_lines * f64::from(lines) / 100.0)
    }

    /// Hours of one finding, and whether its code marks the object unsupported.
    pub fn finding_hours(&self, code: &str, severity: Severity) -> (f64, bool) {
        match self.findings.codes.get(code) {
            Some(c) => (c.hours, c.unsupported),
            None => (
                match severity {
                    Severity::Info => self.findings.default.info,
                    Severity::Warning => self.findings.default.warning,
                    Severity::Action => self.findings.default.action,
                },
                false,
            ),
        }
    }

    /// The constructs of a routine that cost extra work, one entry per kind present.
    pub fn construct_items(&self, c: &Constructs) -> Vec<ConstructItem> {
        let h = &self.constructs;
        let items = [
            ConstructItem {
                code: "plsql.cursor",
                what: "explicit cursor(s)",
                fix: "rewrite as set-based SQL or a FOR loop over a query in PL/pgSQL",
                detail: String::new(),
                count: c.cursors,
                hours_each: h.cursor,
            },
            ConstructItem {
                code: "plsql.dynamic-sql",
                what: "dynamic SQL statement(s)",
                fix: "rewrite with PL/pgSQL EXECUTE and check the generated statements for source-only syntax",
                detail: String::new(),
                count: c.dynamic_sql,
                hours_each: h.dynamic_sql,
            },
            ConstructItem {
                code: "plsql.autonomous-transaction",
                what: "autonomous transaction(s)",
                fix: "the target has no autonomous transactions: commit that work separately (another session, or the orchestration layer)",
                detail: String::new(),
                count: c.autonomous_transactions,
                hours_each: h.autonomous_transaction,
            },
            ConstructItem {
                code: "plsql.connect-by",
                what: "CONNECT BY hierarchical quer(ies)",
                fix: "rewrite as WITH RECURSIVE",
                detail: String::new(),
                count: c.connect_by,
                hours_each: h.connect_by,
            },
            ConstructItem {
                code: "plsql.bulk",
                what: "BULK COLLECT / FORALL operation(s)",
                fix: "rewrite as set-based INSERT/UPDATE/DELETE ... SELECT",
                detail: String::new(),
                count: c.bulk_operations,
                hours_each: h.bulk_operation,
            },
            ConstructItem {
                code: "plsql.supplied-package",
                what: "call(s) to supplied packages",
                fix: "replace each supplied package call (DBMS_*, UTL_*) with a target feature or application code",
                detail: format!(
                    " ({})",
                    c.supplied_packages.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                count: c.supplied_package_calls,
                hours_each: h.supplied_package_call,
            },
            ConstructItem {
                code: "plsql.global-temporary-table",
                what: "global temporary table(s)",
                fix: "create a temporary table in the session that needs it",
                detail: String::new(),
                count: c.global_temporary_tables,
                hours_each: h.global_temporary_table,
            },
        ];
        items.into_iter().filter(|item| item.count > 0).collect()
    }

    /// The SCT-style status of an object whose action items take `hours`.
    pub fn band(&self, hours: f64) -> Status {
        if hours <= self.bands.simple {
            Status::Simple
        } else if hours <= self.bands.medium {
            Status::Medium
        } else {
            Status::Significant
        }
    }
}

const ROUTINE_KINDS: [RoutineKind; 9] = [
    RoutineKind::Procedure,
    RoutineKind::Function,
    RoutineKind::Package,
    RoutineKind::PackageBody,
    RoutineKind::Trigger,
    RoutineKind::Type,
    RoutineKind::TypeBody,
    RoutineKind::AnonymousBlock,
    RoutineKind::Event,
];

fn procedural_key(kind: RoutineKind) -> &'static str {
    match kind {
        RoutineKind::Procedure => "procedure",
        RoutineKind::Function => "function",
        RoutineKind::Package => "package",
        RoutineKind::PackageBody => "package_body",
        RoutineKind::Trigger => "trigger",
        RoutineKind::Type => "type",
        RoutineKind::TypeBody => "type_body",
        RoutineKind::AnonymousBlock => "anonymous_block",
        RoutineKind::Event => "event",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_model_parses_and_bands_hours() {
        let model = EffortModel::builtin();
        assert_eq!(model.band(0.5), Status::Simple);
        assert_eq!(model.band(3.0), Status::Medium);
        assert_eq!(model.band(4.5), Status::Significant);
        // 1.0 base + 2.0 per 100 lines.
        assert!((model.rewrite_hours(RoutineKind::Procedure, 150) - 4.0).abs() < 1e-9);
        assert_eq!(
            model.finding_hours("object.database-link", Severity::Action),
            (8.0, true)
        );
        assert_eq!(
            model.finding_hours("no.such-code", Severity::Warning),
            (0.25, false)
        );
    }

    #[test]
    fn bad_models_are_rejected_with_the_key() {
        let negative = BUILTIN.replace("simple = 1.0", "simple = -1.0");
        let error = EffortModel::parse("mine.toml", &negative)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("mine.toml") && error.contains("bands.simple"),
            "{error}"
        );
        let unknown = format!("{BUILTIN}\n[extra]\nx = 1\n");
        let error = EffortModel::parse("mine.toml", &unknown)
            .unwrap_err()
            .to_string();
        assert!(error.contains("extra"), "{error}");
        let missing = BUILTIN.replace("[procedural.event]\nbase = 1.0\nper_100_lines = 2.0\n", "");
        let error = EffortModel::parse("mine.toml", &missing)
            .unwrap_err()
            .to_string();
        assert!(error.contains("procedural.event"), "{error}");
    }
}
