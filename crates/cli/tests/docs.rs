//! docs/findings.md documents every finding code the tool can emit, and nothing else.
//!
//! The codes are collected from the source, the same way a reviewer would:
//! - in `crates/*/src/**/*.rs`, string literals shaped like a code (`area.name-with-dashes`) that
//!   are the first or second argument of a finding-making call (`finding(`, `Finding::new(`,
//!   `.action(`, `.warning(`, `.note(`, `unsupported(`), the value of a `code:` field, or the first
//!   element of a tuple a `match` arm returns (`=> ("object.type", "...")`);
//! - in `dialect-maps/**/*.toml`, every `code = "..."`, with the `severity` of the same finding.
//!
//! Any other code-shaped literal must be listed in [`NOT_CODES`]: a code emitted in a new way fails
//! this test until the extraction below learns it, so the doc can't go stale silently.
//!
//! docs/findings.md lists each code as a table row `` | `code` | severity | ... | ``. The test checks
//! that every code found in the source has a row, that every row names a code of the source, and
//! that the severity cell names every severity the source gives the code (where it is written next
//! to the code: `Severity::X` as the call's first argument, `.action(` / `.warning(`, or the map's
//! `severity = "..."`).
//!
//! docs/cli.md's example of the `convert` JSON summary is checked against what the tool prints for
//! the scenario it is run on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Code-shaped literals that are not finding codes.
const NOT_CODES: &[&str] = &[
    // crates/cli/src/convert.rs: the report file written by `-o DIR`.
    "findings.json",
    // crates/copy/src/webhdfs.rs: the hdfs-site.xml property naming the HA name services.
    "dfs.nameservices",
    // crates/dialect/src/ddl/hive.rs: Hive ROW FORMAT DELIMITED property keys.
    "field.delim",
    "escape.delim",
    "collection.delim",
    "mapkey.delim",
    "line.delim",
    // crates/task/src/task.rs: task file settings named in error messages.
    "source.url",
    "target.url",
    "target.region",
    "staging.url",
    "staging.endpoint",
    "staging.format",
    // crates/batch/src/lib.rs: the Arrow field metadata key of canonical types.
    "migrate.type",
    // crates/stage/src/lib.rs: the file extension of gzip CSV chunks.
    "csv.gz",
    // crates/metastore-fixture/src/lib.rs: Hive SerDe, table and database parameters of the
    // generated test metastore.
    "serialization.format",
    "owner.team",
    "created.by",
    "compression.codec",
    "case.insensitive",
    "orc.compress",
    // crates/assess/src/effort.rs: keys of the effort model named in its errors.
    "bands.simple",
    "bands.medium",
];

/// File names (`oracle.toml`, `postgres.sh`) are not codes either.
const FILE_EXTENSIONS: &[&str] = &[
    "toml", "sh", "json", "sql", "rs", "txt", "md", "html", "png",
];

/// Calls whose first or second argument may be a finding code.
const FINDING_CALLS: &[&str] = &[
    "finding",
    "action",
    "warning",
    "note",
    "unsupported",
    // Replication preflight checks (crates/core/src/preflight.rs and the source crates).
    "passed",
    "blocker",
    "required_setting",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `area.name`: lower-case letters, a dot, then lower-case letters, digits and dashes.
fn is_code_shaped(text: &str) -> bool {
    let Some((area, name)) = text.split_once('.') else {
        return false;
    };
    !area.is_empty()
        && area.chars().all(|c| c.is_ascii_lowercase())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_file_name(text: &str) -> bool {
    text.rsplit_once('.')
        .is_some_and(|(_, ext)| FILE_EXTENSIONS.contains(&ext))
}

/// A literal that may be a finding code: code-shaped, and neither a file name nor a known non-code.
fn is_candidate(text: &str) -> bool {
    is_code_shaped(text) && !is_file_name(text) && !NOT_CODES.contains(&text)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Punct(char),
}

/// A small Rust lexer: identifiers, string literals (plain, byte and raw) and punctuation, with
/// comments, char literals, lifetimes and numbers skipped. Enough to see call shapes.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            let mut text = String::new();
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    text.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    text.push(chars[i]);
                    i += 1;
                }
            }
            i += 1;
            out.push(Token::Str(text));
        } else if (c == 'r' || (c == 'b' && at(i + 1) == 'r'))
            && matches!(at(i + if c == 'b' { 2 } else { 1 }), '"' | '#')
            && {
                // `r"..."`, `r#"..."#`: not an identifier starting with r.
                let mut j = i + if c == 'b' { 2 } else { 1 };
                while at(j) == '#' {
                    j += 1;
                }
                at(j) == '"'
            }
        {
            i += if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while at(i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            let mut text = String::new();
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                text.push(chars[i]);
                i += 1;
            }
            out.push(Token::Str(text));
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c.is_whitespace() {
            i += 1;
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// The arguments of the call whose `(` is at `open`, as token slices split on top-level commas.
fn call_arguments(tokens: &[Token], open: usize) -> Vec<&[Token]> {
    let mut arguments = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    arguments.push(&tokens[start..index]);
                    break;
                }
            }
            Token::Punct(',') if depth == 1 => {
                arguments.push(&tokens[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    arguments
}

/// `Severity::Warning` as an argument -> "warning".
fn severity_argument(argument: &[Token]) -> Option<String> {
    match argument {
        [Token::Ident(ty), Token::Punct(':'), Token::Punct(':'), Token::Ident(variant)]
            if ty == "Severity" =>
        {
            Some(variant.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// Codes found in the source, with the severities written next to them (possibly none).
#[derive(Default)]
struct Codes {
    codes: BTreeMap<String, BTreeSet<String>>,
    /// Where each code was found, for messages.
    places: BTreeMap<String, Vec<String>>,
}

impl Codes {
    fn add(&mut self, code: &str, severity: Option<String>, place: String) {
        let severities = self.codes.entry(code.to_string()).or_default();
        if let Some(severity) = severity {
            severities.insert(severity);
        }
        self.places.entry(code.to_string()).or_default().push(place);
    }
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Finding codes in the Rust sources. Returns the codes and the code-shaped literals that are
/// neither codes in a known position nor listed in [`NOT_CODES`].
fn codes_in_rust(codes: &mut Codes) -> Vec<String> {
    let mut files = Vec::new();
    let crates = repo().join("crates");
    let mut crate_dirs: Vec<PathBuf> = std::fs::read_dir(&crates)
        .expect("crates/")
        .map(|entry| entry.expect("directory entry").path().join("src"))
        .filter(|src| src.is_dir())
        .collect();
    crate_dirs.sort();
    for src in crate_dirs {
        rust_files(&src, &mut files);
    }
    assert!(files.len() > 20, "found only {} source files", files.len());

    let mut unclassified = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("read source");
        // Unit-test modules (at the end of a file, by convention here) hold sample names, not
        // findings: production code ends where they begin.
        let source = match source.find("#[cfg(test)]") {
            Some(start) => &source[..start],
            None => &source[..],
        };
        let tokens = tokens(source);
        let place = file
            .strip_prefix(repo())
            .unwrap_or(&file)
            .display()
            .to_string();
        let mut claimed = BTreeSet::new();
        for (index, token) in tokens.iter().enumerate() {
            // `finding(`, `.action(`, `Finding::new(`, `unsupported(`...
            let callee = match token {
                Token::Ident(name) if FINDING_CALLS.contains(&name.as_str()) => Some(name.as_str()),
                Token::Ident(name)
                    if name == "new"
                        && index >= 3
                        && tokens[index - 1] == Token::Punct(':')
                        && tokens[index - 2] == Token::Punct(':')
                        && (tokens[index - 3] == Token::Ident("Finding".into())
                            || tokens[index - 3] == Token::Ident("PreflightCheck".into())) =>
                {
                    Some("Finding::new")
                }
                _ => None,
            };
            if let Some(callee) = callee {
                if tokens.get(index + 1) == Some(&Token::Punct('(')) {
                    let arguments = call_arguments(&tokens, index + 1);
                    let severity = match callee {
                        "action" => Some("action".to_string()),
                        "warning" => Some("warning".to_string()),
                        _ => arguments.first().and_then(|a| severity_argument(a)),
                    };
                    for argument in arguments.iter().take(2) {
                        if let [Token::Str(text)] = argument {
                            if is_candidate(text) {
                                codes.add(text, severity.clone(), place.clone());
                                claimed.insert(text.clone());
                            }
                        }
                    }
                }
            }
            // `code: "view.flashback-query"`
            if let (Token::Ident(name), Some(Token::Punct(':')), Some(Token::Str(text))) =
                (token, tokens.get(index + 1), tokens.get(index + 2))
            {
                if name == "code" && is_candidate(text) {
                    codes.add(text, None, place.clone());
                    claimed.insert(text.clone());
                }
            }
            // `=> ("object.type", "what to do")`
            if let (
                Token::Punct('='),
                Some(Token::Punct('>')),
                Some(Token::Punct('(')),
                Some(Token::Str(text)),
                Some(Token::Punct(',')),
            ) = (
                token,
                tokens.get(index + 1),
                tokens.get(index + 2),
                tokens.get(index + 3),
                tokens.get(index + 4),
            ) {
                if is_candidate(text) {
                    codes.add(text, None, place.clone());
                    claimed.insert(text.clone());
                }
            }
        }
        for token in &tokens {
            if let Token::Str(text) = token {
                if is_candidate(text) && !claimed.contains(text) {
                    unclassified.push(format!("{place}: \"{text}\""));
                }
            }
        }
    }
    unclassified
}

/// The value of `key = "value"` at the start of `text`, if any.
fn quoted_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    rest.split_once('"').map(|(value, _)| value)
}

/// `code = "..."` in the dialect maps, each with the `severity` of the same finding (same inline
/// table, or same `[...]` section).
fn codes_in_maps(codes: &mut Codes) {
    let mut files = Vec::new();
    let mut dirs = vec![repo().join("dialect-maps")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("dialect-maps/") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 6, "found only {} map files", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read map");
        let place = file
            .strip_prefix(repo())
            .unwrap_or(&file)
            .display()
            .to_string();
        // Split into sections at `[header]` lines; inline tables stay on one line.
        let mut sections: Vec<Vec<&str>> = vec![Vec::new()];
        for line in text.lines() {
            if line.trim_start().starts_with('[') {
                sections.push(Vec::new());
            }
            sections.last_mut().expect("a section").push(line);
        }
        for section in sections {
            let section_severity = section.iter().find_map(|line| {
                let line = line.trim_start();
                quoted_value(line, "severity")
            });
            for line in &section {
                for (offset, _) in line.match_indices("code") {
                    let preceded_by_word = line[..offset]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                    let Some(code) = quoted_value(&line[offset..], "code") else {
                        continue;
                    };
                    if preceded_by_word {
                        continue;
                    }
                    let inline_severity = line
                        .match_indices("severity")
                        .find_map(|(at, _)| quoted_value(&line[at..], "severity"));
                    let severity = inline_severity
                        .or(section_severity)
                        .unwrap_or_else(|| panic!("{place}: finding `{code}` has no severity"));
                    codes.add(code, Some(severity.to_string()), place.clone());
                }
            }
        }
    }
}

/// Rows `` | `code` | severity | ... `` of docs/findings.md: code -> severity cell.
fn documented() -> BTreeMap<String, String> {
    let path = repo().join("docs/findings.md");
    let text = std::fs::read_to_string(&path).expect("docs/findings.md");
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("| `") else {
            continue;
        };
        let Some((code, rest)) = rest.split_once('`') else {
            continue;
        };
        if !is_code_shaped(code) {
            continue;
        }
        let severity = rest
            .trim_start()
            .strip_prefix('|')
            .and_then(|cells| cells.split('|').next())
            .unwrap_or("")
            .trim()
            .to_string();
        let previous = rows.insert(code.to_string(), severity);
        assert!(previous.is_none(), "docs/findings.md lists `{code}` twice");
    }
    rows
}

fn collect() -> Codes {
    let mut codes = Codes::default();
    let unclassified = codes_in_rust(&mut codes);
    assert!(
        unclassified.is_empty(),
        "code-shaped string literals that are not in a known finding position:\n  {}\n\
         If one is a finding code, document it in docs/findings.md and teach \
         crates/cli/tests/docs.rs where to find it; otherwise add it to NOT_CODES there.",
        unclassified.join("\n  ")
    );
    codes_in_maps(&mut codes);
    codes
}

#[test]
fn extraction_finds_codes_in_every_position() {
    let codes = collect();
    for (code, why) in [
        ("workload.query-skipped", "Finding::new in the CLI"),
        ("parse.syntax-error", "self.finding in a front end"),
        ("constraint.check-dropped", "self.finding in the emitter"),
        ("view.connect-by", "ctx.log.action in the rewrites"),
        ("view.flashback-query", "a `code:` field"),
        ("view.model-clause", "an `unsupported(` call"),
        ("object.type", "a match arm's tuple"),
        ("type.lob", "a dialect map"),
    ] {
        assert!(
            codes.codes.contains_key(code),
            "`{code}` ({why}) was not extracted"
        );
    }
    assert!(codes.codes.len() > 80, "only {} codes", codes.codes.len());
    assert_eq!(
        codes.codes["constraint.check-dropped"],
        BTreeSet::from(["warning".to_string()])
    );
    assert_eq!(
        codes.codes["view.pivot"],
        BTreeSet::from(["action".to_string(), "warning".to_string()])
    );
}

#[test]
fn findings_doc_lists_every_code_with_its_severity() {
    let codes = collect();
    let documented = documented();
    let mut problems = Vec::new();
    for (code, severities) in &codes.codes {
        let Some(cell) = documented.get(code) else {
            problems.push(format!(
                "`{code}` (in {}) is missing",
                codes.places[code].join(", ")
            ));
            continue;
        };
        for severity in severities {
            let named = cell
                .split(|c: char| !c.is_ascii_alphabetic())
                .any(|word| word == severity);
            if !named {
                problems.push(format!(
                    "`{code}`: the source gives it severity {severity}, the doc says `{cell}`"
                ));
            }
        }
    }
    for code in documented.keys() {
        if !codes.codes.contains_key(code) {
            problems.push(format!(
                "`{code}` is documented but the source no longer has it"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/findings.md is out of date:\n  {}",
        problems.join("\n  ")
    );
}

/// The `convert --output json | jq ...` example of docs/cli.md: the documented JSON is what migrate
/// prints for `scenarios/convert/oracle-retail/schema.sql`, the file the doc's examples run on.
#[test]
fn cli_doc_json_summary_example_is_what_convert_prints() {
    let doc = std::fs::read_to_string(repo().join("docs/cli.md")).expect("docs/cli.md");
    let command = "$ migrate convert --from oracle --target postgres schema.sql --output json";
    let example = &doc[doc
        .find(command)
        .expect("the example's command in docs/cli.md")..];
    let start = example.find("\n{").expect("the example's JSON") + 1;
    let end = start
        + example[start..]
            .find("\n```")
            .expect("the end of the example");
    let documented: serde_json::Value =
        serde_json::from_str(&example[start..end]).expect("the example's JSON parses");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["convert", "--from", "oracle", "--target", "postgres"])
        .args(["schema.sql", "--output", "json"])
        .current_dir(repo().join("scenarios/convert/oracle-retail"))
        .output()
        .expect("run migrate");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("a JSON report on standard output");
    let length = |key: &str| report[key].as_array().map(Vec::len);
    // What the example's `jq` filter keeps.
    let shown = serde_json::json!({
        "schema_version": report["schema_version"],
        "source": report["source"],
        "target": report["target"],
        "summary": report["summary"],
        "tables": length("tables"),
        "findings": length("findings"),
    });
    assert_eq!(
        documented, shown,
        "docs/cli.md's JSON summary example is out of date"
    );
}
