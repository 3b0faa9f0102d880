use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Where in the input something was found. Lines and columns count from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    /// Shared: every object of a file points at the same name.
    pub file: Arc<str>,
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// How much a finding asks of the user. Ordered from least to most serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something was dropped or changed that has no effect on data or behaviour in the target
    /// (a tablespace clause, a SQL*Plus command).
    Info,
    /// Converted, but with a change the user must review: reduced precision, a widened type, a
    /// dropped CHECK constraint.
    Warning,
    /// Not converted: the user has to finish it by hand (a PL/SQL package, a trigger, a statement
    /// that could not be parsed).
    Action,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Action => "action",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One conversion gap, reported rather than hidden.
///
/// `code` is stable across releases (documented in docs/findings.md) so that users can filter and
/// count findings in CI; `message` says what happened and `action` what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: String,
    /// The object concerned, e.g. `hr.employees.salary` or `view hr.emp_details_view`.
    pub object: String,
    pub message: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl Finding {
    pub fn new(
        severity: Severity,
        code: impl Into<String>,
        object: impl Into<String>,
        message: impl Into<String>,
        action: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            code: code.into(),
            object: object.into(),
            message: message.into(),
            action: action.into(),
            location: None,
        }
    }

    pub fn at(mut self, location: Option<SourceLocation>) -> Self {
        self.location = location;
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(
            f,
            "{} [{}] {}: {}",
            self.severity, self.code, self.object, self.message
        )?;
        if !self.action.is_empty() {
            write!(f, " -> {}", self.action)?;
        }
        Ok(())
    }
}
