//! Replication preflight: what a source must offer before a full load or CDC can start, checked
//! on the live server by the source crates and reported by `migrate assess` and
//! `migrate replicate`.

use serde::{Deserialize, Serialize};

/// How a check came out. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// The requirement is met.
    Passed,
    /// Replication works, with a limitation the user should know (a LOB column that can only be
    /// read whole, a value that will be truncated in the target).
    Warning,
    /// Replication of the object (or of everything, for server settings) can't work as is.
    Blocker,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Warning => "warning",
            CheckStatus::Blocker => "blocker",
        }
    }
}

/// What the replication preflight is for: CDC has more requirements than a full load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicationMode {
    FullLoad,
    FullLoadAndCdc,
}

/// One check of the preflight. `code` is stable (documented in docs/findings.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightCheck {
    pub code: String,
    pub status: CheckStatus,
    /// What was checked: `server`, a setting (`wal_level`), a user, a table or a column.
    pub object: String,
    /// What was found, with the value read from the server.
    pub message: String,
    /// What to do; empty when the check passed.
    pub fix: String,
}

impl PreflightCheck {
    pub fn new(
        code: &str,
        status: CheckStatus,
        object: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> PreflightCheck {
        PreflightCheck {
            code: code.to_string(),
            status,
            object: object.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// A check that passed: `fix` is empty.
    pub fn passed(code: &str, object: impl Into<String>, message: impl Into<String>) -> Self {
        PreflightCheck::new(code, CheckStatus::Passed, object, message, "")
    }
}

/// What the preflight checks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreflightOptions {
    pub mode: ReplicationMode,
    /// The longest value, in bytes, a character column of the target holds (Redshift: 65,535
    /// for VARCHAR); `None` when the target has no such limit. Longer source values are
    /// reported as truncated.
    pub max_value_bytes: Option<u64>,
}

impl PreflightCheck {
    pub fn blocker(
        code: &str,
        object: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        PreflightCheck::new(code, CheckStatus::Blocker, object, message, fix)
    }

    pub fn warning(
        code: &str,
        object: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        PreflightCheck::new(code, CheckStatus::Warning, object, message, fix)
    }
}

/// The checks that need only the discovered catalog, shared by every source: a row identity
/// for each table (CDC can't apply updates and deletes without one) and LOB columns in tables
/// without one.
pub fn catalog_checks<'a>(
    tables: impl IntoIterator<Item = &'a crate::Table>,
    options: &PreflightOptions,
) -> Vec<PreflightCheck> {
    let cdc = options.mode == ReplicationMode::FullLoadAndCdc;
    let mut checks = Vec::new();
    let mut keyed = 0;
    for table in tables {
        let object = table.name.to_string();
        let lobs: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| c.data_type.is_large_object())
            .map(|c| c.name.value.as_str())
            .collect();
        match table.row_identity() {
            Some(_) => keyed += 1,
            None if cdc => checks.push(PreflightCheck::blocker(
                "preflight.no-key",
                object.clone(),
                "no primary key and no unique key over NOT NULL columns: changes to its rows can't be applied by key",
                "add a primary key (or a unique key on NOT NULL columns) before starting CDC, or replicate this table by full load only",
            )),
            None => checks.push(PreflightCheck::warning(
                "preflight.no-key",
                object.clone(),
                "no primary key and no unique key over NOT NULL columns: it is loaded whole, and validation can only compare counts and whole-table checksums",
                "add a primary key if the table should be chunked, resumed and compared by key",
            )),
        }
        if !lobs.is_empty() && table.row_identity().is_none() {
            checks.push(PreflightCheck::new(
                "preflight.lob-without-key",
                if cdc { CheckStatus::Blocker } else { CheckStatus::Warning },
                object.clone(),
                format!("large-object column(s) {} in a table without a key: their values can't be looked up or re-read by key", lobs.join(", ")),
                "add a primary key, or exclude the LOB columns from the task",
            ));
        }
    }
    if keyed > 0 {
        checks.push(PreflightCheck::passed(
            "preflight.no-key",
            format!("{keyed} table(s)"),
            "primary key or unique key over NOT NULL columns present",
        ));
    }
    checks
}

/// True when character values of type `ty` may be longer than `max_bytes` (characters counted
/// at up to 4 bytes in UTF-8): the columns whose longest value the preflight measures.
pub fn may_exceed(ty: &crate::LogicalType, max_bytes: u64) -> bool {
    use crate::{LengthUnit, LogicalType::*};
    match ty {
        Text | Json | Xml => true,
        Char { length, unit } | Varchar { length, unit } => {
            let bytes = match unit {
                LengthUnit::Byte => u64::from(*length),
                _ => u64::from(*length) * 4,
            };
            bytes > max_bytes
        }
        _ => false,
    }
}

/// The check for a column whose longest value (`longest` bytes) was measured against the
/// target's limit.
pub fn truncation_check(object: String, longest: u64, max_bytes: u64) -> PreflightCheck {
    if longest > max_bytes {
        PreflightCheck::blocker(
            "preflight.value-truncated",
            object,
            format!("the longest value is {longest} bytes; the target holds at most {max_bytes}"),
            "shorten or split those values, move them to S3 and keep a reference, or exclude the column",
        )
    } else {
        PreflightCheck::passed(
            "preflight.value-truncated",
            object,
            format!("the longest value is {longest} bytes (limit {max_bytes})"),
        )
    }
}
