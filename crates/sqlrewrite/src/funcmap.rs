//! The one-to-one function mappings of `dialect-maps/functions/<source>.toml`, loaded and checked
//! once. See that directory's README for the file format.

use crate::error::RewriteError;
use migrate_core::{SourceDialect, TargetDialect};
use serde::Deserialize;
use sqlparser::ast::{DataType, Expr, Value, VisitMut, VisitorMut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::OnceLock;

/// The rules for one source dialect.
#[derive(Debug)]
pub(crate) struct FunctionMap {
    rules: HashMap<String, Vec<Rule>>,
    casts: HashMap<String, Cast>,
    same_redshift: HashSet<String>,
    same_postgres: HashSet<String>,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) bare: bool,
    min_args: usize,
    max_args: usize,
    redshift: Target,
    postgres: Target,
}

/// What a rule does in one target.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) action: Action,
    pub(crate) warning: Option<String>,
}

#[derive(Debug)]
pub(crate) enum Action {
    Rename(String),
    /// An expression whose `$n` placeholders stand for the arguments.
    Template(Box<Expr>),
    Keep,
    Unsupported(String),
}

#[derive(Debug)]
pub(crate) struct Cast {
    pub(crate) id: String,
    redshift: CastTarget,
    postgres: CastTarget,
}

#[derive(Debug)]
pub(crate) struct CastTarget {
    /// The type name that replaces the source's, keeping its length / precision.
    pub(crate) to: String,
    /// The full type used when the source gave no length / precision.
    pub(crate) bare: Option<DataType>,
    pub(crate) bare_warning: Option<String>,
    pub(crate) warning: Option<String>,
}

impl FunctionMap {
    /// Rules for an unqualified, unquoted function name (any case).
    pub(crate) fn rules(&self, name: &str) -> Option<&[Rule]> {
        self.rules
            .get(&name.to_ascii_uppercase())
            .map(Vec::as_slice)
    }

    /// Whether `name` is a built-in with the same meaning in `to`.
    pub(crate) fn same(&self, name: &str, to: TargetDialect) -> bool {
        let same = match to {
            TargetDialect::Redshift => &self.same_redshift,
            TargetDialect::Postgres => &self.same_postgres,
        };
        same.contains("*") || same.contains(&name.to_ascii_uppercase())
    }

    pub(crate) fn cast(&self, type_name: &str) -> Option<&Cast> {
        self.casts.get(&type_name.to_ascii_uppercase())
    }

    /// Every rule id, for coverage checks.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        let rules = self.rules.values().flatten().map(|rule| rule.id.as_str());
        rules.chain(self.casts.values().map(|cast| cast.id.as_str()))
    }
}

impl Rule {
    pub(crate) fn accepts(&self, args: usize) -> bool {
        (self.min_args..=self.max_args).contains(&args)
    }

    pub(crate) fn target(&self, to: TargetDialect) -> &Target {
        match to {
            TargetDialect::Redshift => &self.redshift,
            TargetDialect::Postgres => &self.postgres,
        }
    }
}

impl Cast {
    pub(crate) fn target(&self, to: TargetDialect) -> &CastTarget {
        match to {
            TargetDialect::Redshift => &self.redshift,
            TargetDialect::Postgres => &self.postgres,
        }
    }
}

/// The map for `from`, loaded on first use.
pub(crate) fn function_map(from: SourceDialect) -> Result<&'static FunctionMap, RewriteError> {
    static MAPS: OnceLock<Vec<Result<FunctionMap, RewriteError>>> = OnceLock::new();
    let maps = MAPS.get_or_init(|| {
        SourceDialect::ALL
            .iter()
            .map(|&source| load(source))
            .collect()
    });
    let index = SourceDialect::ALL
        .iter()
        .position(|&source| source == from)
        .unwrap_or_default();
    match maps.get(index) {
        Some(Ok(map)) => Ok(map),
        Some(Err(error)) => Err(error.clone()),
        None => Err(RewriteError::Map {
            file: "functions",
            message: format!("no map for {from}"),
        }),
    }
}

fn source_text(from: SourceDialect) -> (&'static str, &'static str) {
    match from {
        SourceDialect::Oracle => (
            "oracle.toml",
            include_str!("../../../dialect-maps/functions/oracle.toml"),
        ),
        SourceDialect::Hive => (
            "hive.toml",
            include_str!("../../../dialect-maps/functions/hive.toml"),
        ),
        SourceDialect::Mysql => (
            "mysql.toml",
            include_str!("../../../dialect-maps/functions/mysql.toml"),
        ),
        SourceDialect::Postgres => (
            "postgres.toml",
            include_str!("../../../dialect-maps/functions/postgres.toml"),
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    source: String,
    same: SameSpec,
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    cast: Vec<CastSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SameSpec {
    redshift: Vec<String>,
    postgres: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    name: String,
    doc: String,
    #[serde(default)]
    bare: bool,
    args: Option<ArgsSpec>,
    redshift: TargetSpec,
    postgres: TargetSpec,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ArgsSpec {
    Exactly(usize),
    Between([usize; 2]),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetSpec {
    rename: Option<String>,
    to: Option<String>,
    #[serde(default)]
    keep: bool,
    unsupported: Option<String>,
    warning: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CastSpec {
    id: String,
    name: String,
    doc: String,
    redshift: CastTargetSpec,
    postgres: CastTargetSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CastTargetSpec {
    to: String,
    bare: Option<String>,
    bare_warning: Option<String>,
    warning: Option<String>,
}

fn load(from: SourceDialect) -> Result<FunctionMap, RewriteError> {
    let (file, text) = source_text(from);
    let error = |message: String| RewriteError::Map { file, message };
    let spec: FileSpec = toml::from_str(text).map_err(|e| error(e.to_string()))?;
    if spec.source != from.name() {
        return Err(error(format!(
            "`source = {:?}` in the {from} file",
            spec.source
        )));
    }
    let mut ids = HashSet::new();
    let mut rules: HashMap<String, Vec<Rule>> = HashMap::new();
    for rule in spec.rule {
        let context = |message: String| error(format!("rule {}: {message}", rule.id));
        check_id(&rule.id, from, &rule.doc, &mut ids).map_err(context)?;
        let (min_args, max_args) = match rule.args {
            None => (0, usize::MAX),
            Some(ArgsSpec::Exactly(n)) => (n, n),
            Some(ArgsSpec::Between([min, max])) => (min, max),
        };
        if rule.bare && min_args != 0 {
            return Err(context(
                "`bare` needs a rule that accepts no arguments".into(),
            ));
        }
        let compiled = Rule {
            id: rule.id.clone(),
            bare: rule.bare,
            min_args,
            max_args,
            redshift: target(rule.redshift, max_args).map_err(context)?,
            postgres: target(rule.postgres, max_args).map_err(context)?,
        };
        let name = rule.name.to_ascii_uppercase();
        let existing = rules.entry(name).or_default();
        if existing
            .iter()
            .any(|other| other.min_args <= max_args && min_args <= other.max_args)
        {
            return Err(context("overlaps another rule for the same name".into()));
        }
        existing.push(compiled);
    }
    let mut casts = HashMap::new();
    for cast in spec.cast {
        let context = |message: String| error(format!("cast {}: {message}", cast.id));
        check_id(&cast.id, from, &cast.doc, &mut ids).map_err(context)?;
        let compiled = Cast {
            id: cast.id.clone(),
            redshift: cast_target(cast.redshift).map_err(context)?,
            postgres: cast_target(cast.postgres).map_err(context)?,
        };
        casts.insert(cast.name.to_ascii_uppercase(), compiled);
    }
    let upper = |names: Vec<String>| names.iter().map(|n| n.to_ascii_uppercase()).collect();
    Ok(FunctionMap {
        rules,
        casts,
        same_redshift: upper(spec.same.redshift),
        same_postgres: upper(spec.same.postgres),
    })
}

fn check_id(
    id: &str,
    from: SourceDialect,
    doc: &str,
    ids: &mut HashSet<String>,
) -> Result<(), String> {
    if !id.starts_with(&format!("{}.", from.name())) {
        return Err(format!("ids start with `{}.`", from.name()));
    }
    if doc.trim().is_empty() {
        return Err("`doc` is empty".into());
    }
    if !ids.insert(id.to_string()) {
        return Err("duplicate id".into());
    }
    Ok(())
}

fn target(spec: TargetSpec, max_args: usize) -> Result<Target, String> {
    let action = match (spec.rename, spec.to, spec.keep, spec.unsupported) {
        (Some(name), None, false, None) => Action::Rename(name),
        (None, Some(template), false, None) => {
            Action::Template(Box::new(template_expr(&template, max_args)?))
        }
        (None, None, true, None) => Action::Keep,
        (None, None, false, Some(action)) => Action::Unsupported(action),
        _ => return Err("give exactly one of `rename`, `to`, `keep`, `unsupported`".into()),
    };
    Ok(Target {
        action,
        warning: spec.warning,
    })
}

fn cast_target(spec: CastTargetSpec) -> Result<CastTarget, String> {
    let bare = match &spec.bare {
        Some(text) => Some(data_type(text)?),
        None => None,
    };
    data_type(&spec.to)?;
    Ok(CastTarget {
        to: spec.to,
        bare,
        bare_warning: spec.bare_warning,
        warning: spec.warning,
    })
}

/// Parses a type in PostgreSQL syntax (both targets' types are written that way).
pub(crate) fn data_type(text: &str) -> Result<DataType, String> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_data_type())
        .map_err(|e| format!("type `{text}`: {e}"))
}

/// Parses a template and checks its placeholders against the rule's arity. Placeholders that are
/// operands of an operator are wrapped in parentheses here, so that an argument such as `a + b`
/// keeps its meaning in `$2 * INTERVAL '1 month'`.
fn template_expr(text: &str, max_args: usize) -> Result<Expr, String> {
    let mut expr = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_expr())
        .map_err(|e| format!("template `{text}`: {e}"))?;
    let mut check = PlaceholderCheck {
        max_args,
        error: None,
    };
    let _ = expr.visit(&mut check);
    match check.error {
        Some(error) => Err(format!("template `{text}`: {error}")),
        None => Ok(expr),
    }
}

struct PlaceholderCheck {
    max_args: usize,
    error: Option<String>,
}

impl VisitorMut for PlaceholderCheck {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let operands: Vec<&mut Expr> = match expr {
            Expr::BinaryOp { left, right, .. } => vec![left.as_mut(), right.as_mut()],
            Expr::UnaryOp { expr, .. } | Expr::IsNull(expr) | Expr::IsNotNull(expr) => {
                vec![expr.as_mut()]
            }
            _ => vec![],
        };
        for operand in operands {
            if placeholder(operand).is_some() {
                *operand = Expr::Nested(Box::new(operand.clone()));
            }
        }
        if let Some(n) = placeholder(expr) {
            match n {
                Some(n) if (1..=self.max_args).contains(&n) => {}
                _ => self.error = Some("placeholder out of range of `args`".into()),
            }
        }
        ControlFlow::Continue(())
    }
}

/// `Some(Some(n))` for a `$n` placeholder, `Some(None)` for any other placeholder.
pub(crate) fn placeholder(expr: &Expr) -> Option<Option<usize>> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Placeholder(text) => Some(text.strip_prefix('$').and_then(|n| n.parse().ok())),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_map_loads() {
        for from in SourceDialect::ALL {
            let map = function_map(from).unwrap_or_else(|e| panic!("{e}"));
            assert!(map.ids().count() > 0);
        }
    }

    #[test]
    fn templates_are_checked() {
        assert!(template_expr("STRPOS($2, $1)", 2).is_ok());
        assert!(template_expr("STRPOS($2, $3)", 2).is_err());
        assert!(template_expr("STRPOS(", 2).is_err());
        let expr = template_expr("$1 + $2 * INTERVAL '1 month'", 2).unwrap();
        assert_eq!(expr.to_string(), "($1) + ($2) * INTERVAL '1 month'");
    }
}
