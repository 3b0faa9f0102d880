//! The foundation of `migrate replicate`: the task file and the AWS DMS table mapping.
//!
//! - [`Task`] reads `task.toml` (source, target, staging, load settings); [`TaskOverrides`] applies
//!   command-line flags on top; [`Task::validate`] checks everything before any work starts.
//! - [`TableMappings`] accepts the table-mapping JSON of AWS DMS unchanged (or rejects it, naming
//!   the rule and what to do) and [`TableMappings::plan`] evaluates it against a discovered source
//!   [`migrate_core::Catalog`]: which tables load, in which order, into which target tables, with
//!   which rows.
//!
//! No I/O beyond reading the two files; no connection is opened here.

mod error;
mod mapping;
mod task;
mod url;

pub use error::TaskError;
pub use mapping::{ColumnMapping, CompareOp, Literal, Plan, RowFilter, TableMappings, TablePlan};
pub use task::{
    MappingsConfig, PrepMode, RedshiftAccess, RedshiftAuth, SourceConfig, Staging, StagingConfig,
    StagingFormat, TargetConfig, TargetEndpoint, Task, TaskOverrides, UrlText, ValidatedTask,
};
pub use url::{redact, DatabaseUrl, Engine, StagingUrl, UrlError};
