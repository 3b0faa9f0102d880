//! What every rule shares: its identity, and readers for the loosely typed values DMS accepts
//! (`"rule-id": "1"` and `"rule-id": 1`, `"length": "4092"`, `"scale": ""`).

use serde_json::Value;
use std::fmt;

/// A rule's identity, used in every message about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleRef {
    pub(crate) id: u64,
    pub(crate) name: Option<String>,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule-id {}", self.id)?;
        match &self.name {
            Some(name) if *name != self.id.to_string() => write!(f, " (\"{name}\")"),
            _ => Ok(()),
        }
    }
}

/// A problem with one rule; the caller adds the file and the rule's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) message: String,
    pub(crate) action: String,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>, action: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            action: action.into(),
        }
    }
}

/// Reads a field DMS documents as a number but that is written as a number or a string of
/// digits; `null` and `""` mean "not given".
pub(crate) fn integer(field: &str, value: Option<&Value>) -> Result<Option<u64>, Problem> {
    let bad = |shown: &dyn fmt::Display| {
        Problem::new(
            format!("`{field}` must be a non-negative integer, not {shown}"),
            format!("write `\"{field}\": 10` or `\"{field}\": \"10\"`"),
        )
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(&format!("\"{s}\""))),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| bad(n)),
        Some(other) => Err(bad(other)),
    }
}

/// Reads a value that DMS writes as a string but that users also write as a number.
pub(crate) fn text(field: &str, value: Option<&Value>) -> Result<Option<String>, Problem> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(Problem::new(
            format!("`{field}` must be a string, not {other}"),
            format!("write `\"{field}\": \"...\"`"),
        )),
    }
}

/// Turns a serde error on a rule object into a problem that says what to do.
pub(crate) fn shape_problem(error: serde_json::Error) -> Problem {
    let message = error.to_string();
    let action = if message.contains("unknown field") {
        "remove the field or fix its spelling (field names are the ones AWS DMS documents); \
         migrate rejects fields it would otherwise ignore"
    } else if message.contains("missing field") {
        "add the field"
    } else {
        "fix the value"
    };
    Problem::new(message, action)
}
