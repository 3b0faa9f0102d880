//! What a rewrite hands back: the SQL, the names of the rewrites applied, and the notes.

use migrate_core::{Finding, Severity};

/// A translated query or expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The SQL in the target dialect.
    pub sql: String,
    /// Names of the named rewrites (e.g. `nvl2_to_case`) and ids of the function-map rules
    /// (e.g. `oracle.nvl`) that changed the SQL, each once, in the order first applied.
    pub rewrites: Vec<&'static str>,
    /// Every conversion gap: what could not be converted, or was converted with a difference.
    pub notes: Vec<Note>,
}

/// One conversion gap inside a query or expression. The caller knows the object it belongs to and
/// turns it into a [`Finding`] with [`Note::into_finding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub severity: Severity,
    /// Stable, e.g. `view.connect-by` or `function.unsupported`.
    pub code: String,
    pub message: String,
    pub action: String,
}

impl Note {
    pub fn into_finding(self, object: impl Into<String>) -> Finding {
        Finding::new(self.severity, self.code, object, self.message, self.action)
    }
}

/// Collects rewrites and notes while the AST is walked, without duplicates.
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub(crate) rewrites: Vec<&'static str>,
    pub(crate) notes: Vec<Note>,
}

impl Log {
    pub(crate) fn applied(&mut self, name: &'static str) {
        if !self.rewrites.contains(&name) {
            self.rewrites.push(name);
        }
    }

    pub(crate) fn has(&self, code: &str) -> bool {
        self.notes.iter().any(|note| note.code == code)
    }

    pub(crate) fn note(
        &mut self,
        severity: Severity,
        code: &str,
        message: impl Into<String>,
        action: impl Into<String>,
    ) {
        let note = Note {
            severity,
            code: code.to_string(),
            message: message.into(),
            action: action.into(),
        };
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    pub(crate) fn action(
        &mut self,
        code: &str,
        message: impl Into<String>,
        action: impl Into<String>,
    ) {
        self.note(Severity::Action, code, message, action);
    }

    pub(crate) fn warning(
        &mut self,
        code: &str,
        message: impl Into<String>,
        action: impl Into<String>,
    ) {
        self.note(Severity::Warning, code, message, action);
    }
}
