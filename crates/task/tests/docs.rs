//! Every example of docs/replicate-task.md is checked here:
//! - each ```toml block parses as a task file;
//! - each ```json block parses as a table mapping; when a ```text block follows it, the block is
//!   the plan against the sample catalog of `common/mod.rs` (tables, then findings), or the
//!   error, after `error: `.

mod common;

use migrate_task::{TableMappings, Task};
use std::path::{Path, PathBuf};

fn doc() -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/replicate-task.md");
    let text = std::fs::read_to_string(&path).expect("docs/replicate-task.md");
    (path, text)
}

/// (language, body, line of the opening fence)
fn blocks(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(lang)) => current = Some((lang.trim().to_string(), Vec::new(), i + 1)),
            (Some(_), Some("")) => {
                if let Some((lang, body, at)) = current.take() {
                    out.push((lang, body.join("\n"), at));
                }
            }
            (Some((_, body, _)), _) => body.push(line),
            (None, None) => {}
        }
    }
    out
}

fn outcome(json: &str) -> String {
    match TableMappings::parse(json).and_then(|m| m.plan(&common::catalog())) {
        Ok(plan) => common::render(&plan),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn documented_examples_hold() {
    let (path, text) = doc();
    let blocks = blocks(&text);
    let mut checked = (0, 0, 0);
    let mut failures = Vec::new();
    for (i, (lang, body, line)) in blocks.iter().enumerate() {
        match lang.as_str() {
            "toml" => {
                checked.0 += 1;
                if let Err(e) = Task::parse(body, Path::new("/srv/migrate/task.toml")) {
                    failures.push(format!("{}:{line}: {e}", path.display()));
                }
            }
            "json" => {
                checked.1 += 1;
                let expected = blocks.get(i + 1).filter(|(l, _, _)| l == "text");
                let actual = outcome(body);
                match expected {
                    Some((_, expected, at)) => {
                        checked.2 += 1;
                        if actual != *expected {
                            failures.push(format!(
                                "{}:{at}: expected\n{expected}\n--- actual\n{actual}\n",
                                path.display()
                            ));
                        }
                    }
                    None if actual.starts_with("error: ") => {
                        failures.push(format!("{}:{line}: {actual}", path.display()))
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked.0 >= 2 && checked.2 >= 8, "{checked:?}");
}
