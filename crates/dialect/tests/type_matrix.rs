//! The type-mapping matrix: every case of `tests/type_matrix/<source>.toml` is mapped to canonical,
//! Redshift and PostgreSQL, and must give exactly the expected types and finding codes.
//!
//! Besides the cases themselves this test enforces that the matrix is complete:
//! - every rule of every file in `dialect-maps/` is applied by at least one case, so a new rule
//!   cannot be added without a test;
//! - every type documented in a source map is written in at least one case;
//! - `docs/type-mapping.md` is generated from the maps and the cases: run with `UPDATE_DOCS=1` to
//!   rewrite its generated sections after changing either.

use migrate_dialect::{
    parse_type_text, Mapped, RuleNote, SourceDialect, TargetDialect, TypeMaps, TypeRef,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The type as written in the source dialect.
    source: String,
    /// The canonical type text.
    canonical: String,
    /// The Redshift type text.
    redshift: String,
    /// The PostgreSQL type text.
    postgres: String,
    /// Codes of the notes of the source map, in order.
    #[serde(default)]
    findings: Vec<String>,
    /// Codes of the notes of the Redshift map (nested types first), in order.
    #[serde(default)]
    redshift_findings: Vec<String>,
    /// Codes of the notes of the PostgreSQL map, in order.
    #[serde(default)]
    postgres_findings: Vec<String>,
    /// A value outside the source's own limits, kept to exercise a target rule; left out of the
    /// generated documentation.
    #[serde(default)]
    synthetic: bool,
}

/// A case after mapping.
struct Outcome {
    case: Case,
    parsed: TypeRef,
    canonical: Mapped<String>,
    redshift: Mapped<String>,
    postgres: Mapped<String>,
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn repo_dir() -> PathBuf {
    crate_dir().join("../..")
}

fn source_file(dialect: SourceDialect) -> &'static str {
    match dialect {
        SourceDialect::Oracle => "oracle.toml",
        SourceDialect::Hive => "hive.toml",
        SourceDialect::Mysql => "mysql.toml",
        SourceDialect::Postgres => "postgres.toml",
    }
}

fn target_file(dialect: TargetDialect) -> &'static str {
    match dialect {
        TargetDialect::Redshift => "redshift.toml",
        TargetDialect::Postgres => "postgres-target.toml",
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn load_cases(dialect: SourceDialect) -> Vec<Case> {
    let path = crate_dir()
        .join("tests/type_matrix")
        .join(source_file(dialect));
    let file: MatrixFile = toml::from_str(&read(&path))
        .unwrap_or_else(|e| panic!("{}: invalid matrix file: {e}", path.display()));
    file.cases
}

fn codes(notes: &[RuleNote]) -> Vec<String> {
    notes.iter().map(|n| n.code.clone()).collect()
}

/// Maps every case of one source, collecting mismatches instead of stopping at the first.
fn run_cases(dialect: SourceDialect, failures: &mut Vec<String>) -> Vec<Outcome> {
    let maps = TypeMaps::builtin();
    let mut outcomes = Vec::new();
    for case in load_cases(dialect) {
        let label = format!("{} `{}`", dialect.name(), case.source);
        let parsed = match parse_type_text(dialect, &case.source) {
            Ok(parsed) => parsed,
            Err(e) => {
                failures.push(format!("{label}: does not parse: {e}"));
                continue;
            }
        };
        let canonical = match maps.source(dialect).map_source(&parsed) {
            Ok(mapped) => mapped,
            Err(e) => {
                failures.push(format!("{label}: source map fails: {e}"));
                continue;
            }
        };
        let mut targets = Vec::new();
        for target in TargetDialect::ALL {
            // A type the target keeps as it is (`kept_as`) bypasses the target map.
            let direct = match maps.kept(dialect, target, &parsed) {
                Some(kept) => Ok(kept),
                None => maps.target(target).map_target(&canonical.value),
            };
            let converted = maps.convert(dialect, target, &parsed);
            match (direct, converted) {
                (Ok(direct), Ok((logical, whole))) => {
                    // `convert` is the source map followed by the target map (or the kept type).
                    let mut rules = canonical.rules.clone();
                    rules.extend(direct.rules.iter().cloned());
                    let mut notes = canonical.notes.clone();
                    notes.extend(direct.notes.iter().cloned());
                    if logical != canonical.value
                        || whole.value != direct.value
                        || whole.rules != rules
                        || whole.notes != notes
                    {
                        failures.push(format!(
                            "{label}: convert() to {} disagrees with map_source + map_target",
                            target.name()
                        ));
                    }
                    targets.push(direct);
                }
                (Err(e), _) | (_, Err(e)) => {
                    failures.push(format!("{label}: {} map fails: {e}", target.name()));
                }
            }
        }
        if targets.len() != 2 {
            continue;
        }
        let postgres = targets.pop().expect("two targets");
        let redshift = targets.pop().expect("two targets");
        let canonical = Mapped {
            value: canonical.value.to_string(),
            rules: canonical.rules,
            notes: canonical.notes,
        };
        let checks = [
            ("canonical", &case.canonical, &canonical.value),
            ("redshift", &case.redshift, &redshift.value),
            ("postgres", &case.postgres, &postgres.value),
        ];
        for (what, expected, actual) in checks {
            if expected != actual {
                failures.push(format!(
                    "{label}: {what} is `{actual}`, expected `{expected}`"
                ));
            }
        }
        let finding_checks = [
            ("findings", &case.findings, codes(&canonical.notes)),
            (
                "redshift_findings",
                &case.redshift_findings,
                codes(&redshift.notes),
            ),
            (
                "postgres_findings",
                &case.postgres_findings,
                codes(&postgres.notes),
            ),
        ];
        for (what, expected, actual) in finding_checks {
            if *expected != actual {
                failures.push(format!(
                    "{label}: {what} are {actual:?}, expected {expected:?}"
                ));
            }
        }
        outcomes.push(Outcome {
            case,
            parsed,
            canonical,
            redshift,
            postgres,
        });
    }
    outcomes
}

/// Every case of every source, panicking with the full list of mismatches.
fn all_outcomes() -> BTreeMap<&'static str, Vec<Outcome>> {
    let mut failures = Vec::new();
    let mut all = BTreeMap::new();
    for dialect in SourceDialect::ALL {
        all.insert(dialect.name(), run_cases(dialect, &mut failures));
    }
    assert!(
        failures.is_empty(),
        "{} type-matrix case(s) failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    all
}

#[test]
fn every_map_file_loads() {
    let maps = TypeMaps::builtin();
    for dialect in SourceDialect::ALL {
        assert!(!maps.source(dialect).rule_ids().is_empty());
    }
    for dialect in TargetDialect::ALL {
        assert!(!maps.target(dialect).rule_ids().is_empty());
    }
}

#[test]
fn matrix_cases_map_as_expected() {
    all_outcomes();
}

#[test]
fn every_rule_is_covered_by_a_case() {
    let maps = TypeMaps::builtin();
    let mut hit = BTreeSet::new();
    for outcomes in all_outcomes().values() {
        for o in outcomes {
            for mapped in [&o.canonical, &o.redshift, &o.postgres] {
                hit.extend(mapped.rules.iter().cloned());
            }
        }
    }
    let mut uncovered = Vec::new();
    for dialect in SourceDialect::ALL {
        for id in maps.source(dialect).rule_ids() {
            if !hit.contains(id) {
                uncovered.push(format!("{}: {id}", source_file(dialect)));
            }
        }
    }
    for dialect in TargetDialect::ALL {
        for id in maps.target(dialect).rule_ids() {
            if !hit.contains(id) {
                uncovered.push(format!("{}: {id}", target_file(dialect)));
            }
        }
    }
    assert!(
        uncovered.is_empty(),
        "rules that no case in tests/type_matrix/*.toml applies (add a case for each):\n  {}",
        uncovered.join("\n  ")
    );
}

#[test]
fn rule_ids_are_unique_across_files() {
    let maps = TypeMaps::builtin();
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut files: Vec<(&str, &[String])> = Vec::new();
    for dialect in SourceDialect::ALL {
        files.push((source_file(dialect), maps.source(dialect).rule_ids()));
    }
    for dialect in TargetDialect::ALL {
        files.push((target_file(dialect), maps.target(dialect).rule_ids()));
    }
    for (file, ids) in files {
        for id in ids {
            if let Some(other) = seen.insert(id, file) {
                panic!("rule id `{id}` is used in both {other} and {file}");
            }
        }
    }
}

fn names_in(ty: &TypeRef, out: &mut BTreeSet<String>) {
    out.insert(ty.name.clone());
    for (_, child) in &ty.children {
        names_in(child, out);
    }
}

#[test]
fn every_documented_source_type_has_a_case() {
    let maps = TypeMaps::builtin();
    let all = all_outcomes();
    let mut missing = Vec::new();
    for dialect in SourceDialect::ALL {
        let mut written = BTreeSet::new();
        for o in &all[dialect.name()] {
            names_in(&o.parsed, &mut written);
        }
        for name in maps.source(dialect).type_names() {
            if !written.contains(name) {
                missing.push(format!("{}: {name}", source_file(dialect)));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "types with no case in tests/type_matrix/*.toml:\n  {}",
        missing.join("\n  ")
    );
}

/// Every canonical type has a rule in every target (the coverage test checks they are all used).
#[test]
fn targets_cover_every_canonical_type() {
    const CANONICAL: &[&str] = &[
        "boolean",
        "smallint",
        "integer",
        "bigint",
        "real",
        "double",
        "decimal(10,2)",
        "numeric",
        "char(1 byte)",
        "varchar(10 char)",
        "text",
        "binary(16)",
        "varbinary(16)",
        "blob",
        "date",
        "time(6)",
        "timetz(6)",
        "timestamp(6)",
        "timestamptz(6)",
        "interval_ym",
        "interval_ds(6)",
        "json",
        "xml",
        "uuid",
        "geometry",
        "geography",
        "array<integer>",
        "map<integer,integer>",
        "struct<a:integer>",
        "union<integer,bigint>",
    ];
    let maps = TypeMaps::builtin();
    for target in TargetDialect::ALL {
        for text in CANONICAL {
            let ty = migrate_core::LogicalType::parse(text).expect("canonical text");
            if let Err(e) = maps.target(target).map_target(&ty) {
                panic!("{} cannot map `{text}`: {e}", target_file(target));
            }
        }
    }
}

/// A finding code means one thing: it always has the same severity.
#[test]
fn finding_codes_have_one_severity() {
    let mut severity: BTreeMap<String, (String, String)> = BTreeMap::new();
    for outcomes in all_outcomes().values() {
        for o in outcomes {
            for mapped in [&o.canonical, &o.redshift, &o.postgres] {
                for note in &mapped.notes {
                    let this = note.severity.to_string();
                    let entry = severity
                        .entry(note.code.clone())
                        .or_insert_with(|| (this.clone(), o.case.source.clone()));
                    assert_eq!(
                        entry.0, this,
                        "`{}` is {} for `{}` but {} for `{}`",
                        note.code, entry.0, entry.1, this, o.case.source
                    );
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Malformed files are rejected with a message naming the file and the rule.
// ------------------------------------------------------------------------------------------------

fn load_error(content: &str) -> String {
    match TypeMaps::load(&[("bad.toml", content)]) {
        Ok(_) => panic!("a malformed map was accepted:\n{content}"),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "error `{message}` does not mention `{part}`"
        );
    }
}

const HEADER: &str = "dialect = \"oracle\"\ndirection = \"source\"\n";

#[test]
fn rejects_unknown_variable() {
    let message = load_error(&format!(
        "{HEADER}[types.NUMBER]\ndoc = \"d\"\nparams = [\"p\"]\n\
         rules = [{{ id = \"bad.number\", to = \"decimal({{q}},0)\" }}]\n"
    ));
    assert_mentions(
        &message,
        &["bad.toml", "bad.number", "unknown variable `q`"],
    );
}

#[test]
fn rejects_bad_expression() {
    let message = load_error(&format!(
        "{HEADER}[types.NUMBER]\ndoc = \"d\"\nparams = [\"p\"]\nrules = [\n\
         {{ id = \"bad.when\", when = \"p <\", to = \"integer\" }},\n\
         {{ id = \"bad.last\", to = \"bigint\" }},\n]\n"
    ));
    assert_mentions(&message, &["bad.toml", "bad.when"]);
    let message = load_error(&format!(
        "{HEADER}[types.NUMBER]\ndoc = \"d\"\nparams = [\"p\"]\n\
         rules = [{{ id = \"bad.hole\", to = \"decimal({{p +}},0)\" }}]\n"
    ));
    assert_mentions(&message, &["bad.toml", "bad.hole"]);
}

#[test]
fn rejects_conditional_last_rule() {
    let message = load_error(&format!(
        "{HEADER}[types.NUMBER]\ndoc = \"d\"\nparams = [\"p\"]\n\
         rules = [{{ id = \"bad.only\", when = \"p > 3\", to = \"integer\" }}]\n"
    ));
    // The engine names the type whose last rule has a `when` (not the rule id).
    assert_mentions(&message, &["bad.toml", "NUMBER", "last rule"]);
}

#[test]
fn rejects_duplicate_rule_id() {
    let message = load_error(&format!(
        "{HEADER}[types.NUMBER]\ndoc = \"d\"\nrules = [{{ id = \"bad.twice\", to = \"numeric\" }}]\n\
         [types.INTEGER]\ndoc = \"d\"\nrules = [{{ id = \"bad.twice\", to = \"integer\" }}]\n"
    ));
    assert_mentions(&message, &["bad.toml", "bad.twice"]);
}

#[test]
fn rejects_unknown_field_and_missing_doc() {
    let message = load_error(&format!(
        "{HEADER}[types.NUMBER]\ndoc = \"d\"\nrules = [{{ id = \"bad.field\", to = \"numeric\", \
         finding = {{ severty = \"info\", code = \"c\", message = \"m\", action = \"a\" }} }}]\n"
    ));
    assert_mentions(&message, &["bad.toml", "severty"]);
    let message = load_error(&format!(
        "{HEADER}[types.NUMBER]\ndoc = \" \"\nrules = [{{ id = \"bad.doc\", to = \"numeric\" }}]\n"
    ));
    assert_mentions(&message, &["bad.toml", "NUMBER", "doc"]);
}

#[test]
fn rejects_kept_type_in_a_target_map() {
    let message = load_error(
        "dialect = \"postgres\"\ndirection = \"target\"\n[types.text]\ndoc = \"d\"\n\
         kept_as = \"TEXT\"\nrules = [{ id = \"bad.kept\", to = \"TEXT\" }]\n",
    );
    assert_mentions(
        &message,
        &["bad.toml", "text", "`kept_as` is for source maps"],
    );
}

// ------------------------------------------------------------------------------------------------
// docs/type-mapping.md
// ------------------------------------------------------------------------------------------------

/// Type documentation as written in a map file: (name, aliases, doc, rule ids), in file order.
fn documented_types(file: &str) -> Vec<(String, Vec<String>, String)> {
    let path = repo_dir().join("dialect-maps").join(file);
    let table: toml::Table = toml::from_str(&read(&path)).expect("map file is valid TOML");
    let types = table["types"].as_table().expect("[types]");
    // toml::Table keeps keys sorted; recover the file order from the text.
    let text = read(&path);
    let position = |name: &str| {
        let bare = format!("[types.{name}]");
        let quoted = format!("[types.\"{name}\"]");
        let literal = format!("[types.'{name}']");
        text.find(&bare)
            .or_else(|| text.find(&quoted))
            .or_else(|| text.find(&literal))
            .unwrap_or(usize::MAX)
    };
    let mut out: Vec<(String, Vec<String>, String)> = types
        .iter()
        .map(|(name, spec)| {
            let aliases = spec
                .get("aliases")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let doc = spec["doc"].as_str().unwrap_or_default().to_string();
            (name.clone(), aliases, doc)
        })
        .collect();
    out.sort_by_key(|(name, _, _)| position(name));
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn code_cell(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|"))
}

fn notes_cell(notes: &[RuleNote], prefix: &str) -> Vec<String> {
    notes
        .iter()
        .map(|n| format!("{prefix}`{}` ({})", n.code, n.severity))
        .collect()
}

fn source_section(dialect: SourceDialect, outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    out.push_str("| Source type | Canonical | Redshift | PostgreSQL | Findings |\n");
    out.push_str("|---|---|---|---|---|\n");
    for o in outcomes.iter().filter(|o| !o.case.synthetic) {
        let mut findings = notes_cell(&o.canonical.notes, "");
        findings.extend(notes_cell(&o.redshift.notes, "Redshift: "));
        findings.extend(notes_cell(&o.postgres.notes, "PostgreSQL: "));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            code_cell(&o.case.source),
            code_cell(&o.canonical.value),
            code_cell(&o.redshift.value),
            code_cell(&o.postgres.value),
            findings.join("<br>")
        );
    }
    out.push('\n');
    out.push_str("| Type | Also written | Mapping |\n|---|---|---|\n");
    for (name, aliases, doc) in documented_types(source_file(dialect)) {
        let aliases: Vec<String> = aliases.iter().map(|a| code_cell(a)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            code_cell(&name),
            aliases.join(", "),
            cell(&doc)
        );
    }
    out
}

fn target_section(dialect: TargetDialect) -> String {
    let mut out = String::from("| Canonical type | Mapping |\n|---|---|\n");
    for (name, _, doc) in documented_types(target_file(dialect)) {
        let _ = writeln!(out, "| {} | {} |", code_cell(&name), cell(&doc));
    }
    out
}

/// Every finding code with its severity, the rules that raise it and one real example.
fn findings_section(all: &BTreeMap<&'static str, Vec<Outcome>>) -> String {
    struct Entry {
        severity: String,
        rules: BTreeSet<String>,
        example: Option<(String, String, String)>,
    }
    let mut codes: BTreeMap<String, Entry> = BTreeMap::new();
    for dialect in SourceDialect::ALL {
        for o in &all[dialect.name()] {
            for mapped in [&o.canonical, &o.redshift, &o.postgres] {
                // Notes and rules are not aligned one-to-one (rules without notes), so collect the
                // rule ids separately below; here only codes, severities and examples.
                for note in &mapped.notes {
                    let entry = codes.entry(note.code.clone()).or_insert_with(|| Entry {
                        severity: note.severity.to_string(),
                        rules: BTreeSet::new(),
                        example: None,
                    });
                    if entry.example.is_none() && !o.case.synthetic {
                        entry.example = Some((
                            format!("{} `{}`", dialect.name(), o.case.source),
                            note.message.clone(),
                            note.action.clone(),
                        ));
                    }
                }
            }
        }
    }
    // Rule ids per code, read from the map files.
    let mut files: Vec<&str> = SourceDialect::ALL.iter().map(|d| source_file(*d)).collect();
    files.extend(TargetDialect::ALL.iter().map(|d| target_file(*d)));
    for file in files {
        let path = repo_dir().join("dialect-maps").join(file);
        let table: toml::Table = toml::from_str(&read(&path)).expect("valid TOML");
        for spec in table["types"].as_table().expect("[types]").values() {
            for rule in spec["rules"].as_array().expect("rules").iter() {
                if let (Some(id), Some(code)) = (
                    rule.get("id").and_then(|v| v.as_str()),
                    rule.get("finding")
                        .and_then(|f| f.get("code"))
                        .and_then(|v| v.as_str()),
                ) {
                    if let Some(entry) = codes.get_mut(code) {
                        entry.rules.insert(id.to_string());
                    }
                }
            }
        }
    }
    let mut out = String::from("| Code | Severity | Example | Raised by |\n|---|---|---|---|\n");
    for (code, entry) in codes {
        let example = match entry.example {
            Some((from, message, action)) => {
                format!("{from}: {} <br>*{}*", cell(&message), cell(&action))
            }
            None => String::new(),
        };
        let rules: Vec<String> = entry.rules.iter().map(|r| code_cell(r)).collect();
        let _ = writeln!(
            out,
            "| `{code}` | {} | {example} | {} |",
            entry.severity,
            rules.join(", ")
        );
    }
    out
}

/// Replaces the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`.
fn replace_section(doc: &str, name: &str, content: &str) -> Result<String, String> {
    let open = format!("<!-- generated:{name} -->\n");
    let close = format!("<!-- /generated:{name} -->");
    let start = doc
        .find(&open)
        .ok_or_else(|| format!("marker `{}` is missing", open.trim()))?
        + open.len();
    let end = doc[start..]
        .find(&close)
        .ok_or_else(|| format!("marker `{close}` is missing"))?
        + start;
    Ok(format!("{}{}{}", &doc[..start], content, &doc[end..]))
}

#[test]
fn type_mapping_doc_is_up_to_date() {
    let all = all_outcomes();
    let path = repo_dir().join("docs/type-mapping.md");
    let current = read(&path);
    let mut doc = current.clone();
    let mut sections: Vec<(String, String)> = Vec::new();
    for dialect in SourceDialect::ALL {
        sections.push((
            dialect.name().to_string(),
            source_section(dialect, &all[dialect.name()]),
        ));
    }
    for dialect in TargetDialect::ALL {
        sections.push((
            format!("target-{}", dialect.name()),
            target_section(dialect),
        ));
    }
    sections.push(("findings".to_string(), findings_section(&all)));
    for (name, content) in &sections {
        doc = replace_section(&doc, name, content)
            .unwrap_or_else(|e| panic!("docs/type-mapping.md: {e}"));
    }
    if doc == current {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, doc).expect("write docs/type-mapping.md");
        return;
    }
    let line = current
        .lines()
        .zip(doc.lines())
        .position(|(a, b)| a != b)
        .map_or(current.lines().count().min(doc.lines().count()), |i| i)
        + 1;
    panic!(
        "docs/type-mapping.md is stale (first difference at line {line}); \
         run `UPDATE_DOCS=1 cargo test -p migrate-dialect --test type_matrix` and commit it"
    );
}
