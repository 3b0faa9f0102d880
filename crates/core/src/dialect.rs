use serde::{Deserialize, Serialize};
use std::fmt;

/// A SQL dialect that migrate reads DDL and queries from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceDialect {
    Oracle,
    Hive,
    Mysql,
    Postgres,
}

impl SourceDialect {
    pub const ALL: [SourceDialect; 4] = [
        SourceDialect::Oracle,
        SourceDialect::Hive,
        SourceDialect::Mysql,
        SourceDialect::Postgres,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceDialect::Oracle => "oracle",
            SourceDialect::Hive => "hive",
            SourceDialect::Mysql => "mysql",
            SourceDialect::Postgres => "postgres",
        }
    }

    /// Accepts the names used on the command line and in mapping files (`mariadb` is MySQL).
    pub fn parse(name: &str) -> Option<SourceDialect> {
        match name.to_ascii_lowercase().as_str() {
            "oracle" => Some(SourceDialect::Oracle),
            "hive" => Some(SourceDialect::Hive),
            "mysql" | "mariadb" => Some(SourceDialect::Mysql),
            "postgres" | "postgresql" => Some(SourceDialect::Postgres),
            _ => None,
        }
    }
}

impl fmt::Display for SourceDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A SQL dialect that migrate writes DDL and queries for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetDialect {
    Redshift,
    Postgres,
}

impl TargetDialect {
    pub const ALL: [TargetDialect; 2] = [TargetDialect::Redshift, TargetDialect::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            TargetDialect::Redshift => "redshift",
            TargetDialect::Postgres => "postgres",
        }
    }

    pub fn parse(name: &str) -> Option<TargetDialect> {
        match name.to_ascii_lowercase().as_str() {
            "redshift" => Some(TargetDialect::Redshift),
            "postgres" | "postgresql" => Some(TargetDialect::Postgres),
            _ => None,
        }
    }
}

impl fmt::Display for TargetDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
