use serde::{Deserialize, Serialize};
use std::fmt;

/// An identifier as written in the source, remembering whether it was quoted.
///
/// Unquoted identifiers are case-insensitive in every supported engine; quoted ones keep their
/// exact spelling. Targets decide how to fold them (Redshift folds to lower case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ident {
    pub value: String,
    pub quoted: bool,
}

impl Ident {
    pub fn new(value: impl Into<String>) -> Self {
        Ident {
            value: value.into(),
            quoted: false,
        }
    }

    pub fn quoted(value: impl Into<String>) -> Self {
        Ident {
            value: value.into(),
            quoted: true,
        }
    }

    /// The name used to match references to this identifier: unquoted names compare
    /// case-insensitively, so they are folded to lower case.
    pub fn key(&self) -> String {
        if self.quoted {
            self.value.clone()
        } else {
            self.value.to_lowercase()
        }
    }

    /// True when `self` and `other` name the same object. Allocation-free: it runs for every
    /// name lookup of large catalogs.
    pub fn matches(&self, other: &Ident) -> bool {
        let folded = |value: &str| {
            value
                .chars()
                .flat_map(char::to_lowercase)
                .collect::<Vec<_>>()
        };
        match (self.quoted, other.quoted) {
            (true, true) => self.value == other.value,
            (false, false) if self.value.is_ascii() && other.value.is_ascii() => {
                self.value.eq_ignore_ascii_case(&other.value)
            }
            (false, false) => folded(&self.value) == folded(&other.value),
            (true, false) => other
                .value
                .chars()
                .flat_map(char::to_lowercase)
                .eq(self.value.chars()),
            (false, true) => self
                .value
                .chars()
                .flat_map(char::to_lowercase)
                .eq(other.value.chars()),
        }
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.quoted {
            write!(f, "\"{}\"", self.value.replace('"', "\"\""))
        } else {
            f.write_str(&self.value)
        }
    }
}

/// The schema of the tables in which migrate keeps its state on a target.
pub const BOOKKEEPING_SCHEMA: &str = "migrate";

/// The tables of [`BOOKKEEPING_SCHEMA`]: chunk checkpoints, table states, the change-capture
/// position and the captured tables' definitions.
pub const BOOKKEEPING_TABLES: [&str; 4] = [
    "migrate_checkpoint",
    "migrate_table_state",
    "migrate_cdc_checkpoint",
    "migrate_cdc_table",
];

/// The start of the names of the tables in which a PostgreSQL target's change apply stages the
/// batches of the task whose name hashes to `task_hash` (in [`BOOKKEEPING_SCHEMA`], dropped once
/// a batch is applied): `cdc_` and 16 hexadecimal digits, then `_`.
pub fn apply_staging_prefix(task_hash: u64) -> String {
    format!("cdc_{task_hash:016x}_")
}

/// Whether `name` starts like an [`apply_staging_prefix`].
fn is_apply_staging(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("cdc_") else {
        return false;
    };
    let bytes = rest.as_bytes();
    bytes.len() > 16
        && bytes[..16]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        && bytes[16] == b'_'
}

/// A possibly schema-qualified object name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: Option<Ident>,
    pub name: Ident,
}

impl QualifiedName {
    pub fn new(schema: Option<Ident>, name: Ident) -> Self {
        QualifiedName { schema, name }
    }

    pub fn unqualified(name: Ident) -> Self {
        QualifiedName { schema: None, name }
    }

    /// True when both names refer to the same object; an unqualified name matches any schema.
    pub fn matches(&self, other: &QualifiedName) -> bool {
        if !self.name.matches(&other.name) {
            return false;
        }
        match (&self.schema, &other.schema) {
            (Some(a), Some(b)) => a.matches(b),
            _ => true,
        }
    }

    /// One of the tables in which migrate keeps its own state on a target (schema `migrate`,
    /// [`BOOKKEEPING_TABLES`]), or stages a change batch ([`apply_staging_prefix`]). A
    /// source that was once a target holds them too, and loading them would replace the
    /// target's own state while the run writes to it; a source that is the target itself would
    /// capture its own writes.
    pub fn is_bookkeeping(&self) -> bool {
        let name = self.name.value.as_str();
        self.schema_value() == BOOKKEEPING_SCHEMA
            && (BOOKKEEPING_TABLES.contains(&name) || is_apply_staging(name))
    }

    /// The schema part as stored, `""` when unqualified.
    pub fn schema_value(&self) -> &str {
        self.schema.as_ref().map_or("", |s| s.value.as_str())
    }

    /// The name in SQL, each part (as stored) quoted by the engine's `quote`: `schema.name`, or
    /// `name` alone when unqualified.
    pub fn quoted_with(&self, quote: impl Fn(&str) -> String) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote(&schema.value), quote(&self.name.value)),
            None => quote(&self.name.value),
        }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_is_the_state_tables_and_the_apply_staging_tables_only() {
        let name = |table: &str| {
            QualifiedName::new(Some(Ident::new(BOOKKEEPING_SCHEMA)), Ident::new(table))
        };
        let staging = format!("{}3_net_0", apply_staging_prefix(0xabc));
        for table in ["migrate_checkpoint", "migrate_cdc_table", staging.as_str()] {
            assert!(name(table).is_bookkeeping(), "{table}");
        }
        // A user's tables that only look alike.
        for table in [
            "cdc_orders",
            "cdc_0123456789abcdeg_1",
            "cdc_0123456789abcdef",
            "checkpoint",
        ] {
            assert!(!name(table).is_bookkeeping(), "{table}");
        }
        let elsewhere = QualifiedName::new(Some(Ident::new("public")), Ident::new(&staging));
        assert!(!elsewhere.is_bookkeeping());
    }
}
