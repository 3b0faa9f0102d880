//! Type mapping driven by the data files in `dialect-maps/`.
//!
//! A *source* file maps a dialect's type names to canonical types ([`LogicalType`]); a *target*
//! file maps canonical type names to a target's type text. Both are lists of rules tried in order:
//! the first whose `when` condition holds produces `to`, and may attach a finding (a precision or
//! length that can't be kept is never a silent change). See `dialect-maps/README.md`.

use crate::expr::{Expr, Variables};
use crate::{SourceDialect, TargetDialect};
use migrate_core::{Finding, LengthUnit, LogicalType, Severity};
use migrate_sqlrewrite::{CastTypes, Note};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// A type as written in a source script, before mapping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TypeRef {
    /// Upper-case name with words joined by one space: `NUMBER`, `TIMESTAMP WITH TIME ZONE`.
    pub name: String,
    /// Numeric arguments in order; `None` stands for Oracle's `*` precision.
    pub args: Vec<Option<i64>>,
    /// `CHAR` or `BYTE` length semantics, when written.
    pub unit: Option<LengthUnit>,
    pub unsigned: bool,
    pub zerofill: bool,
    /// ENUM / SET labels.
    pub labels: Vec<String>,
    /// Element types of ARRAY/MAP/STRUCT/UNIONTYPE, with field names for STRUCT.
    pub children: Vec<(Option<String>, TypeRef)>,
    /// PostgreSQL array dimensions (`int[][]` is 2).
    pub array_dims: u32,
    /// The text as written, for messages.
    pub text: String,
}

impl TypeRef {
    pub fn named(name: &str) -> TypeRef {
        TypeRef {
            name: name.to_ascii_uppercase(),
            text: name.to_string(),
            ..TypeRef::default()
        }
    }
}

/// What a rule says beyond the mapped type: a finding without an object (the caller knows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleNote {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub action: String,
}

/// A mapped type plus the rules that produced it and the notes they attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped<T> {
    pub value: T,
    /// Ids of every rule applied, nested types included (`oracle.number.p-le-9`).
    pub rules: Vec<String>,
    pub notes: Vec<RuleNote>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("unknown type `{0}`")]
    UnknownType(String),
    #[error("type `{ty}`: {message}")]
    Invalid { ty: String, message: String },
}

#[derive(Debug, thiserror::Error)]
#[error("dialect map `{file}`: {message}")]
pub struct MapFileError {
    pub file: String,
    pub message: String,
}

/// Every mapping the converter knows, compiled once from the embedded data files.
pub struct TypeMaps {
    sources: HashMap<SourceDialect, TypeMap>,
    targets: HashMap<TargetDialect, TypeMap>,
}

/// The files under `dialect-maps/`, embedded at build time so that the binary is self-contained.
const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "oracle.toml",
        include_str!("../../../dialect-maps/oracle.toml"),
    ),
    ("hive.toml", include_str!("../../../dialect-maps/hive.toml")),
    (
        "mysql.toml",
        include_str!("../../../dialect-maps/mysql.toml"),
    ),
    (
        "postgres.toml",
        include_str!("../../../dialect-maps/postgres.toml"),
    ),
    (
        "redshift.toml",
        include_str!("../../../dialect-maps/redshift.toml"),
    ),
    (
        "postgres-target.toml",
        include_str!("../../../dialect-maps/postgres-target.toml"),
    ),
];

impl TypeMaps {
    /// The embedded maps. They are validated by the test suite, so a failure here is a build defect.
    pub fn builtin() -> &'static TypeMaps {
        static MAPS: OnceLock<TypeMaps> = OnceLock::new();
        MAPS.get_or_init(|| match TypeMaps::load(BUILTIN_FILES) {
            Ok(maps) => maps,
            Err(error) => panic!("embedded dialect map is invalid: {error}"),
        })
    }

    /// Compiles mapping files given as (file name, content) pairs.
    pub fn load(files: &[(&str, &str)]) -> Result<TypeMaps, MapFileError> {
        let mut sources = HashMap::new();
        let mut targets = HashMap::new();
        for (file, content) in files {
            let map = TypeMap::compile(file, content)?;
            match map.direction {
                Direction::Source => {
                    let dialect =
                        SourceDialect::parse(&map.dialect).ok_or_else(|| MapFileError {
                            file: file.to_string(),
                            message: format!("unknown source dialect `{}`", map.dialect),
                        })?;
                    sources.insert(dialect, map);
                }
                Direction::Target => {
                    let dialect =
                        TargetDialect::parse(&map.dialect).ok_or_else(|| MapFileError {
                            file: file.to_string(),
                            message: format!("unknown target dialect `{}`", map.dialect),
                        })?;
                    targets.insert(dialect, map);
                }
            }
        }
        for dialect in SourceDialect::ALL {
            if !sources.contains_key(&dialect) {
                return Err(MapFileError {
                    file: "dialect-maps".into(),
                    message: format!("no source map for {}", dialect.name()),
                });
            }
        }
        for dialect in TargetDialect::ALL {
            if !targets.contains_key(&dialect) {
                return Err(MapFileError {
                    file: "dialect-maps".into(),
                    message: format!("no target map for {}", dialect.name()),
                });
            }
        }
        Ok(TypeMaps { sources, targets })
    }

    pub fn source(&self, dialect: SourceDialect) -> &TypeMap {
        &self.sources[&dialect]
    }

    pub fn target(&self, dialect: TargetDialect) -> &TypeMap {
        &self.targets[&dialect]
    }

    /// Maps a source type to canonical, then to the target's type text (or the type as it is,
    /// when the target keeps it: see [`TypeMaps::kept`]).
    pub fn convert(
        &self,
        from: SourceDialect,
        to: TargetDialect,
        ty: &TypeRef,
    ) -> Result<(LogicalType, Mapped<String>), MapError> {
        let canonical = self.source(from).map_source(ty)?;
        let mut target = match self.kept(from, to, ty) {
            Some(kept) => kept,
            None => self.target(to).map_target(&canonical.value)?,
        };
        let mut rules = canonical.rules;
        rules.append(&mut target.rules);
        let mut notes = canonical.notes;
        notes.append(&mut target.notes);
        Ok((
            canonical.value,
            Mapped {
                value: target.value,
                rules,
                notes,
            },
        ))
    }

    /// The type a target of the source's own engine writes for source type `ty` instead of
    /// mapping its canonical type: the source map's `kept_as`, for a type no canonical type
    /// holds every value of (PostgreSQL's one-byte `"char"`), and its arrays as arrays of it;
    /// without a rule or a note of the target map.
    pub fn kept(
        &self,
        from: SourceDialect,
        to: TargetDialect,
        ty: &TypeRef,
    ) -> Option<Mapped<String>> {
        if from.name() != to.name() {
            return None;
        }
        let kept = self.kept_as(from, ty)?;
        Some(Mapped {
            value: format!("{kept}{}", "[]".repeat(ty.array_dims as usize)),
            rules: Vec::new(),
            notes: Vec::new(),
        })
    }

    /// The source map's `kept_as` for `ty`, whatever the target.
    fn kept_as(&self, from: SourceDialect, ty: &TypeRef) -> Option<&str> {
        self.source(from).entries.get(&ty.name)?.kept_as.as_deref()
    }

    /// [`TypeMaps::kept`] for a column's type as written (`Column::source_type`), parsed only
    /// when the source map keeps some type and the target is of the same engine.
    pub fn kept_column_type(
        &self,
        from: SourceDialect,
        to: TargetDialect,
        source_type: &str,
    ) -> Option<Mapped<String>> {
        if from.name() != to.name() || !self.source(from).keeps_types {
            return None;
        }
        let ty = crate::parse_type_text(from, source_type).ok()?;
        self.kept(from, to, &ty)
    }
}

/// The type maps as the rewriter's [`CastTypes`]: the type a view's `CAST` names (MySQL
/// `DATETIME`, Hive `STRING`) is mapped as a column of that type would be.
pub(crate) struct CastTypeMap {
    pub(crate) maps: &'static TypeMaps,
    pub(crate) from: SourceDialect,
    pub(crate) to: TargetDialect,
}

impl std::fmt::Debug for CastTypeMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CastTypeMap({} -> {})", self.from, self.to)
    }
}

impl CastTypes for CastTypeMap {
    fn target_type(&self, text: &str) -> Result<(String, Vec<Note>), String> {
        let ty = crate::parse_type_text(self.from, text).map_err(|e| e.message)?;
        let (_, mapped) = self
            .maps
            .convert(self.from, self.to, &ty)
            .map_err(|e| e.to_string())?;
        let notes = mapped
            .notes
            .into_iter()
            .map(|note| Note {
                severity: note.severity,
                code: note.code,
                message: note.message,
                action: note.action,
            })
            .collect();
        Ok((mapped.value, notes))
    }

    fn logical_target(&self, ty: &LogicalType) -> Option<String> {
        let mapped = self.maps.target(self.to).map_target(ty).ok()?;
        Some(mapped.value)
    }

    fn keeps(&self, text: &str) -> bool {
        crate::parse_type_text(self.from, text)
            .is_ok_and(|ty| self.maps.kept_as(self.from, &ty).is_some())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Direction {
    Source,
    Target,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    dialect: String,
    direction: Direction,
    /// Length semantics of a character type whose unit is not written (`chars` variable).
    #[serde(default)]
    length_semantics: Option<LengthUnit>,
    /// What a source's array values undergo, reported for every array type (sources only).
    #[serde(default)]
    arrays: Option<ArraysSpec>,
    types: BTreeMap<String, TypeSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArraysSpec {
    doc: String,
    finding: FindingSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeSpec {
    doc: String,
    #[serde(default)]
    aliases: Vec<String>,
    /// Names bound to the type's numeric arguments, in order (`["p", "s"]`).
    #[serde(default)]
    params: Vec<String>,
    /// Values of parameters that were not written (`{ s = 0 }`).
    #[serde(default)]
    defaults: BTreeMap<String, i64>,
    /// The value of a `*` argument (Oracle `NUMBER(*,2)`).
    #[serde(default)]
    star: Option<i64>,
    /// What a target of the source's own engine writes instead of mapping the canonical type
    /// (sources only; see [`TypeMaps::kept`]).
    #[serde(default)]
    kept_as: Option<String>,
    rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    #[serde(default)]
    when: Option<String>,
    to: String,
    #[serde(default)]
    finding: Option<FindingSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingSpec {
    severity: Severity,
    code: String,
    message: String,
    action: String,
}

/// Variables every rule may read besides its own parameters.
const BUILTIN_INT_VARS: &[&str] = &[
    "args",
    "chars",
    "unsigned",
    "zerofill",
    "labels",
    "max_label",
    "sum_labels",
    "p",
    "s",
    "n",
];
/// Text holes filled from nested types (`{element}`) or the type as written (`{type}`).
const STRING_VARS: &[&str] = &["element", "key", "value", "fields", "members", "type"];

#[derive(Debug)]
enum Piece {
    Literal(String),
    Text(&'static str),
    Value(Expr),
}

#[derive(Debug)]
struct Template(Vec<Piece>);

impl Template {
    fn uses_nested_types(&self) -> bool {
        self.0
            .iter()
            .any(|piece| matches!(piece, Piece::Text(name) if *name != "type"))
    }

    fn compile(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{text}`"))?
                + open;
            let hole = rest[open + 1..close].trim();
            match STRING_VARS.iter().find(|v| **v == hole) {
                Some(var) => pieces.push(Piece::Text(var)),
                None => pieces.push(Piece::Value(Expr::parse(hole)?)),
            }
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_string()));
        }
        Ok(Template(pieces))
    }

    fn render(
        &self,
        vars: &Variables,
        texts: &HashMap<&'static str, String>,
    ) -> Result<String, String> {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Text(name) => out.push_str(
                    texts
                        .get(name)
                        .ok_or_else(|| format!("`{{{name}}}` has no value for this type"))?,
                ),
                Piece::Value(expr) => out.push_str(&expr.eval(vars)?.to_string()),
            }
        }
        Ok(out)
    }

    fn variables(&self, out: &mut Vec<String>) {
        for piece in &self.0 {
            if let Piece::Value(expr) = piece {
                expr.variables(out);
            }
        }
    }
}

#[derive(Debug)]
struct Rule {
    id: String,
    when: Option<Expr>,
    to: Template,
    finding: Option<(Severity, String, Template, Template)>,
}

impl Rule {
    fn uses_nested_types(&self) -> bool {
        self.to.uses_nested_types()
    }
}

#[derive(Debug)]
struct Entry {
    params: Vec<&'static str>,
    defaults: Vec<(&'static str, i64)>,
    star: Option<i64>,
    kept_as: Option<String>,
    rules: Vec<Rule>,
}

/// One compiled mapping file.
pub struct TypeMap {
    dialect: String,
    direction: Direction,
    length_semantics: LengthUnit,
    /// Keyed by upper-case type name (aliases included) for sources, canonical name for targets.
    entries: HashMap<String, std::sync::Arc<Entry>>,
    /// Every rule id with its documentation line, in file order.
    rule_ids: Vec<String>,
    /// Every type name documented in the file (aliases excluded), for the docs and tests.
    type_names: Vec<String>,
    /// The note every array type gets (`[arrays]`).
    array_note: Option<RuleNote>,
    /// Whether a type has a `kept_as`.
    keeps_types: bool,
}

/// Parameter names live as long as the process: intern them once.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<std::sync::Mutex<Vec<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let mut names = match names.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(existing) = names.iter().find(|n| **n == name) {
        return existing;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.push(leaked);
    leaked
}

impl TypeMap {
    fn compile(file: &str, content: &str) -> Result<TypeMap, MapFileError> {
        let fail = |message: String| MapFileError {
            file: file.to_string(),
            message,
        };
        let spec: FileSpec = toml::from_str(content).map_err(|e| fail(e.to_string()))?;
        let mut entries = HashMap::new();
        let mut rule_ids = Vec::new();
        let mut type_names = Vec::new();
        let mut keeps_types = false;
        for (name, ty) in spec.types {
            if ty.doc.trim().is_empty() {
                return Err(fail(format!("type `{name}` has no `doc`")));
            }
            if ty.kept_as.is_some() && spec.direction == Direction::Target {
                return Err(fail(format!("type `{name}`: `kept_as` is for source maps")));
            }
            keeps_types |= ty.kept_as.is_some();
            let params: Vec<&'static str> = ty.params.iter().map(|p| intern(p)).collect();
            let mut rules = Vec::new();
            for rule in ty.rules {
                let context = |e: String| fail(format!("rule `{}`: {e}", rule.id));
                let when = rule
                    .when
                    .as_deref()
                    .map(Expr::parse)
                    .transpose()
                    .map_err(context)?;
                let to = Template::compile(&rule.to).map_err(context)?;
                let finding = match rule.finding {
                    Some(f) => Some((
                        f.severity,
                        f.code,
                        Template::compile(&f.message).map_err(context)?,
                        Template::compile(&f.action).map_err(context)?,
                    )),
                    None => None,
                };
                let mut used = Vec::new();
                if let Some(when) = &when {
                    when.variables(&mut used);
                }
                to.variables(&mut used);
                if let Some((_, _, message, action)) = &finding {
                    message.variables(&mut used);
                    action.variables(&mut used);
                }
                for var in used {
                    if !params.contains(&var.as_str()) && !BUILTIN_INT_VARS.contains(&var.as_str())
                    {
                        return Err(context(format!("unknown variable `{var}`")));
                    }
                }
                if rule_ids.contains(&rule.id) {
                    return Err(fail(format!("rule id `{}` is used twice", rule.id)));
                }
                rule_ids.push(rule.id.clone());
                rules.push(Rule {
                    id: rule.id,
                    when,
                    to,
                    finding,
                });
            }
            if rules.last().is_some_and(|r| r.when.is_some()) {
                return Err(fail(format!(
                    "type `{name}`: the last rule must have no `when`, so that every value maps"
                )));
            }
            let entry = std::sync::Arc::new(Entry {
                params,
                defaults: ty.defaults.iter().map(|(k, v)| (intern(k), *v)).collect(),
                star: ty.star,
                kept_as: ty.kept_as,
                rules,
            });
            let key = |n: &str| match spec.direction {
                Direction::Source => n.to_ascii_uppercase(),
                Direction::Target => n.to_ascii_lowercase(),
            };
            for alias in std::iter::once(&name).chain(ty.aliases.iter()) {
                if entries.insert(key(alias), entry.clone()).is_some() {
                    return Err(fail(format!("type `{alias}` is defined twice")));
                }
            }
            type_names.push(name);
        }
        let array_note = match spec.arrays {
            Some(_) if spec.direction == Direction::Target => {
                return Err(fail("`[arrays]` is for source maps".into()))
            }
            Some(arrays) if arrays.doc.trim().is_empty() => {
                return Err(fail("`[arrays]` has an empty `doc`".into()))
            }
            Some(ArraysSpec { finding, .. }) => Some(RuleNote {
                severity: finding.severity,
                code: finding.code,
                message: finding.message,
                action: finding.action,
            }),
            None => None,
        };
        Ok(TypeMap {
            dialect: spec.dialect,
            direction: spec.direction,
            length_semantics: spec.length_semantics.unwrap_or(LengthUnit::Char),
            entries,
            rule_ids,
            type_names,
            array_note,
            keeps_types,
        })
    }

    /// Every rule id of this map, in file order.
    pub fn rule_ids(&self) -> &[String] {
        &self.rule_ids
    }

    /// Every type documented in this map (aliases excluded).
    pub fn type_names(&self) -> &[String] {
        &self.type_names
    }

    pub fn knows(&self, name: &str) -> bool {
        self.entries.contains_key(&name.to_ascii_uppercase())
            || self.entries.contains_key(&name.to_ascii_lowercase())
    }

    /// The first rule whose condition holds.
    fn select<'e>(
        &self,
        entry: &'e Entry,
        type_text: &str,
        vars: &Variables,
    ) -> Result<&'e Rule, MapError> {
        for rule in &entry.rules {
            let applies = match &rule.when {
                Some(when) => {
                    when.eval(vars).map_err(|message| MapError::Invalid {
                        ty: type_text.to_string(),
                        message,
                    })? != 0
                }
                None => true,
            };
            if applies {
                return Ok(rule);
            }
        }
        Err(MapError::Invalid {
            ty: type_text.to_string(),
            message: "no rule applies".into(),
        })
    }

    fn render(
        &self,
        rule: &Rule,
        type_text: &str,
        vars: &Variables,
        texts: &mut HashMap<&'static str, String>,
    ) -> Result<(String, String, Option<RuleNote>), MapError> {
        let invalid = |message: String| MapError::Invalid {
            ty: type_text.to_string(),
            message,
        };
        texts.insert("type", type_text.to_string());
        let value = rule.to.render(vars, texts).map_err(invalid)?;
        let note = match &rule.finding {
            Some((severity, code, message, action)) => Some(RuleNote {
                severity: *severity,
                code: code.clone(),
                message: message.render(vars, texts).map_err(invalid)?,
                action: action.render(vars, texts).map_err(invalid)?,
            }),
            None => None,
        };
        Ok((value, rule.id.clone(), note))
    }

    /// The canonical type of a live catalog's column (`object`) whose type is `ty` (`None`: its
    /// text could not be parsed), with the rules' notes added to `findings`. A type the map has no
    /// rule for is read as its text form: a `type.read-as-text` warning naming `shown`.
    pub fn column_type(
        &self,
        ty: Option<&TypeRef>,
        shown: &str,
        object: &str,
        findings: &mut Vec<Finding>,
    ) -> LogicalType {
        match ty.map(|ty| self.map_source(ty)) {
            Some(Ok(mapped)) => {
                findings.extend(mapped.notes.into_iter().map(|note| {
                    Finding::new(note.severity, note.code, object, note.message, note.action)
                }));
                mapped.value
            }
            _ => {
                findings.push(Finding::new(
                    Severity::Warning,
                    "type.read-as-text",
                    object,
                    format!("type {shown} has no canonical equivalent; its values are read as their text form"),
                    "Check that the text form is what the target needs, or convert the column before the migration.",
                ));
                LogicalType::Text
            }
        }
    }

    /// Maps a source type to its canonical type.
    pub fn map_source(&self, ty: &TypeRef) -> Result<Mapped<LogicalType>, MapError> {
        let entry = self
            .entries
            .get(&ty.name)
            .ok_or_else(|| MapError::UnknownType(ty.text.clone()))?;
        let invalid = |message: String| MapError::Invalid {
            ty: ty.text.clone(),
            message,
        };
        if ty.args.len() > entry.params.len() {
            return Err(invalid(format!(
                "takes at most {} argument(s), {} given",
                entry.params.len(),
                ty.args.len()
            )));
        }
        let mut vars = Variables::new();
        for (name, value) in &entry.defaults {
            vars.insert(name, *value);
        }
        for (name, arg) in entry.params.iter().zip(&ty.args) {
            let value = match arg {
                Some(v) => *v,
                None => entry
                    .star
                    .ok_or_else(|| invalid("`*` is not allowed here".into()))?,
            };
            vars.insert(name, value);
        }
        vars.insert("args", ty.args.len() as i64);
        let unit = ty.unit.unwrap_or(self.length_semantics);
        vars.insert("chars", i64::from(unit == LengthUnit::Char));
        vars.insert("unsigned", i64::from(ty.unsigned));
        vars.insert("zerofill", i64::from(ty.zerofill));
        vars.insert("labels", ty.labels.len() as i64);
        let label_lengths = ty.labels.iter().map(|l| l.chars().count() as i64);
        vars.insert("max_label", label_lengths.clone().max().unwrap_or(0));
        vars.insert(
            "sum_labels",
            label_lengths.sum::<i64>() + (ty.labels.len() as i64 - 1).max(0),
        );

        let mut rules = Vec::new();
        let mut notes = Vec::new();
        let mut children = Vec::new();
        for (name, child) in &ty.children {
            let mapped = self.map_source(child)?;
            rules.extend(mapped.rules);
            notes.extend(mapped.notes);
            children.push((name.clone(), mapped.value.to_string()));
        }
        let mut texts = HashMap::new();
        fill_child_texts(&mut texts, &children);

        let rule = self.select(entry, &ty.text, &vars)?;
        let (text, id, note) = self.render(rule, &ty.text, &vars, &mut texts)?;
        rules.push(id);
        notes.extend(note);
        let mut value = LogicalType::parse(&text)
            .map_err(|e| invalid(format!("mapping produced an invalid canonical type: {e}")))?;
        for _ in 0..ty.array_dims {
            value = LogicalType::Array(Box::new(value));
        }
        if ty.array_dims > 0 {
            notes.extend(self.array_note.clone());
        }
        Ok(Mapped {
            value,
            rules,
            notes,
        })
    }

    /// Maps a canonical type to this target's type text. Nested types are mapped only when the
    /// chosen rule writes them (`{element}[]`): inside SUPER their own notes would mislead.
    pub fn map_target(&self, ty: &LogicalType) -> Result<Mapped<String>, MapError> {
        let name = ty.canonical_name();
        let entry = self.entries.get(name).ok_or_else(|| MapError::Invalid {
            ty: ty.to_string(),
            message: format!(
                "target `{}` has no rule for canonical `{name}`",
                self.dialect
            ),
        })?;
        let mut vars = Variables::new();
        match ty {
            LogicalType::Decimal { precision, scale } => {
                vars.insert("p", i64::from(*precision));
                vars.insert("s", i64::from(*scale));
            }
            LogicalType::Char { length, unit } | LogicalType::Varchar { length, unit } => {
                vars.insert("n", i64::from(*length));
                vars.insert("chars", i64::from(*unit == LengthUnit::Char));
            }
            LogicalType::Binary { length } | LogicalType::Varbinary { length } => {
                vars.insert("n", i64::from(*length));
            }
            LogicalType::Time { precision, .. }
            | LogicalType::Timestamp { precision, .. }
            | LogicalType::IntervalDaySecond { precision } => {
                vars.insert("p", i64::from(*precision));
            }
            _ => {}
        }
        let type_text = ty.to_string();
        let rule = self.select(entry, &type_text, &vars)?;
        let mut rules = Vec::new();
        let mut notes = Vec::new();
        let mut texts = HashMap::new();
        if rule.uses_nested_types() {
            let nested: Vec<(Option<String>, &LogicalType)> = match ty {
                LogicalType::Array(element) => vec![(None, element.as_ref())],
                LogicalType::Map(key, value) => vec![(None, key.as_ref()), (None, value.as_ref())],
                LogicalType::Struct(fields) => fields
                    .iter()
                    .map(|f| (Some(f.name.clone()), &f.data_type))
                    .collect(),
                LogicalType::Union(members) => members.iter().map(|m| (None, m)).collect(),
                _ => Vec::new(),
            };
            let mut children = Vec::new();
            for (name, child) in nested {
                let mapped = self.map_target(child)?;
                rules.extend(mapped.rules);
                notes.extend(mapped.notes);
                children.push((name, mapped.value));
            }
            fill_child_texts(&mut texts, &children);
        }
        let (value, id, note) = self.render(rule, &type_text, &vars, &mut texts)?;
        rules.push(id);
        notes.extend(note);
        Ok(Mapped {
            value,
            rules,
            notes,
        })
    }
}

/// `{element}`, `{key}`, `{value}`, `{fields}` and `{members}` from already-mapped nested types.
fn fill_child_texts(
    texts: &mut HashMap<&'static str, String>,
    children: &[(Option<String>, String)],
) {
    if let Some((_, first)) = children.first() {
        texts.insert("element", first.clone());
        texts.insert("key", first.clone());
    }
    if let Some((_, second)) = children.get(1) {
        texts.insert("value", second.clone());
    }
    let fields: Vec<String> = children
        .iter()
        .map(|(name, ty)| match name {
            Some(name) => format!("{name}:{ty}"),
            None => ty.clone(),
        })
        .collect();
    texts.insert("fields", fields.join(","));
    texts.insert(
        "members",
        children
            .iter()
            .map(|(_, ty)| ty.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
}
