//! The assessment: objects with their status and effort, action items, preflight checks and
//! totals. Serialized as the versioned JSON report (docs/assess.md, "JSON report").

use migrate_core::{CheckStatus, PreflightCheck, Severity, SourceLocation};
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the JSON report's shape: bumped when a field changes meaning or goes away
/// (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Table,
    Column,
    Partition,
    Index,
    Constraint,
    View,
    MaterializedView,
    Sequence,
    Synonym,
    Trigger,
    Procedure,
    Function,
    Package,
    PackageBody,
    Type,
    TypeBody,
    AnonymousBlock,
    Event,
    DatabaseLink,
    /// Any other object the target has no equivalent for (a library, a Java source...).
    Other,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 20] = [
        ObjectKind::Table,
        ObjectKind::Column,
        ObjectKind::Partition,
        ObjectKind::Index,
        ObjectKind::Constraint,
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Sequence,
        ObjectKind::Synonym,
        ObjectKind::Trigger,
        ObjectKind::Procedure,
        ObjectKind::Function,
        ObjectKind::Package,
        ObjectKind::PackageBody,
        ObjectKind::Type,
        ObjectKind::TypeBody,
        ObjectKind::AnonymousBlock,
        ObjectKind::Event,
        ObjectKind::DatabaseLink,
        ObjectKind::Other,
    ];

    /// The snake_case name used in JSON and in the effort model.
    pub fn key(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Partition => "partition",
            ObjectKind::Index => "index",
            ObjectKind::Constraint => "constraint",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized_view",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Synonym => "synonym",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Function => "function",
            ObjectKind::Package => "package",
            ObjectKind::PackageBody => "package_body",
            ObjectKind::Type => "type",
            ObjectKind::TypeBody => "type_body",
            ObjectKind::AnonymousBlock => "anonymous_block",
            ObjectKind::Event => "event",
            ObjectKind::DatabaseLink => "database_link",
            ObjectKind::Other => "other",
        }
    }

    /// Words for people: `materialized view`.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::PackageBody => "package body",
            ObjectKind::TypeBody => "type body",
            ObjectKind::AnonymousBlock => "anonymous block",
            ObjectKind::DatabaseLink => "database link",
            other => other.key(),
        }
    }

    /// Procedural code (rewritten by hand, sized by lines and constructs).
    pub fn is_procedural(self) -> bool {
        matches!(
            self,
            ObjectKind::Trigger
                | ObjectKind::Procedure
                | ObjectKind::Function
                | ObjectKind::Package
                | ObjectKind::PackageBody
                | ObjectKind::Type
                | ObjectKind::TypeBody
                | ObjectKind::AnonymousBlock
                | ObjectKind::Event
        )
    }
}

/// Where an object stands, from best to worst: SCT's categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Converted automatically; at most a review.
    Automatic,
    /// Needs a simple action (up to `bands.simple` hours).
    Simple,
    /// Needs a medium action (up to `bands.medium` hours).
    Medium,
    /// Needs a significant action (more).
    Significant,
    /// The target can't hold it: it must be redesigned or dropped.
    Unsupported,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Automatic,
        Status::Simple,
        Status::Medium,
        Status::Significant,
        Status::Unsupported,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Automatic => "automatic",
            Status::Simple => "simple",
            Status::Medium => "medium",
            Status::Significant => "significant",
            Status::Unsupported => "unsupported",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Automatic => "converted automatically",
            Status::Simple => "simple action",
            Status::Medium => "medium action",
            Status::Significant => "significant action",
            Status::Unsupported => "unsupported",
        }
    }
}

/// One inventoried object.
#[derive(Debug, Clone, Serialize)]
pub struct AssessedObject {
    /// Position in `objects`, referenced by action items.
    pub id: usize,
    pub kind: ObjectKind,
    /// Schema, as written in the source; empty when the source gave none.
    pub schema: String,
    /// Name within the schema (`table.column` for a column, `table constraint c` ...).
    pub name: String,
    /// The table a column, partition, index or constraint belongs to (`schema.table`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Source type of a column, index method, or other detail worth a glance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub status: Status,
    /// Review plus action items, in hours.
    pub hours: f64,
    /// Lines of source text of procedural code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<u32>,
    /// Constructs of procedural code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constructs: Option<migrate_dialect::Constructs>,
    /// Estimated rows (live sources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Bytes on disk, indexes and LOB storage included (live sources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// The part of `size_bytes` that is out-of-line LOB storage (PostgreSQL TOAST, Oracle LOB
    /// segments); absent where the engine has no separate figure (MySQL/MariaDB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lob_bytes: Option<u64>,
    /// The key advisor's layout of a table for Redshift (`DISTSTYLE KEY DISTKEY (c) SORTKEY (a)`),
    /// from keys, partitioning and the statistics the source gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_advice: Option<String>,
    /// Column statistics (live sources): distinct values and fraction of NULLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub null_fraction: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl AssessedObject {
    /// `schema.name`, or `name` without a schema.
    pub fn qualified(&self) -> String {
        if self.schema.is_empty() {
            self.name.clone()
        } else {
            format!("{}.{}", self.schema, self.name)
        }
    }
}

/// Something a person must do, with a stable code (docs/findings.md).
#[derive(Debug, Clone, Serialize)]
pub struct ActionItem {
    pub code: String,
    pub severity: Severity,
    /// The object it concerns (`objects[id]`); `None` for items about the script itself (a
    /// statement that could not be read, an included file not passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<usize>,
    /// The object as the converter named it.
    pub object: String,
    pub message: String,
    pub fix: String,
    pub hours: f64,
    /// The SCT-style band of this item alone.
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

/// Counts per status.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatusCounts {
    pub total: usize,
    pub automatic: usize,
    pub simple: usize,
    pub medium: usize,
    pub significant: usize,
    pub unsupported: usize,
}

impl StatusCounts {
    pub fn add(&mut self, status: Status) {
        self.total += 1;
        *match status {
            Status::Automatic => &mut self.automatic,
            Status::Simple => &mut self.simple,
            Status::Medium => &mut self.medium,
            Status::Significant => &mut self.significant,
            Status::Unsupported => &mut self.unsupported,
        } += 1;
    }

    pub fn get(&self, status: Status) -> usize {
        match status {
            Status::Automatic => self.automatic,
            Status::Simple => self.simple,
            Status::Medium => self.medium,
            Status::Significant => self.significant,
            Status::Unsupported => self.unsupported,
        }
    }
}

/// ora2pg's migration level: A automatic, B rewrite up to `b_max_days`, C more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum MigrationLevel {
    A,
    B,
    C,
}

/// Totals of a schema, or of the whole assessment (`schema` empty... see `Assessment::summary`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub schema: String,
    pub objects: StatusCounts,
    /// Per object kind (keys of [`ObjectKind::key`]), kinds with no object left out.
    pub by_kind: BTreeMap<&'static str, StatusCounts>,
    pub action_items: usize,
    pub hours: f64,
    /// `hours` in working days (`levels.hours_per_day`).
    pub days: f64,
    /// Hours per status of the objects (where the work is).
    pub hours_by_status: BTreeMap<&'static str, f64>,
    pub migration_level: Option<MigrationLevel>,
    /// ora2pg's technical level, 1 (trivial) to 5 (difficult): see docs/assess.md.
    pub technical_level: u8,
    /// Lines of procedural code.
    pub code_lines: u64,
    pub rows: u64,
    pub size_bytes: u64,
    /// LOB bytes of the tables that report them; `None` (JSON `null`) when none does.
    pub lob_bytes: Option<u64>,
}

/// The preflight's counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PreflightTotals {
    pub passed: usize,
    pub warning: usize,
    pub blocker: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// `files` or `live`.
    pub kind: &'static str,
    pub dialect: &'static str,
    /// The files read, or the server (`user@host:port/db`, never a password).
    pub inputs: Vec<String>,
}

/// The whole assessment, as written to JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub schema_version: u32,
    /// `migrate <version>`.
    pub generator: String,
    pub source: SourceInfo,
    pub target: &'static str,
    pub effort_model: crate::EffortModel,
    pub summary: Totals,
    pub schemas: Vec<Totals>,
    pub objects: Vec<AssessedObject>,
    pub action_items: Vec<ActionItem>,
    pub preflight: Vec<PreflightCheck>,
    pub preflight_totals: PreflightTotals,
}

impl Assessment {
    /// True when some table (of `schema`, or of any) has a known size: a total of 0 bytes is then
    /// a size, not a size nobody could read.
    pub fn tables_sized(&self, schema: Option<&str>) -> bool {
        self.objects.iter().any(|o| {
            o.kind == ObjectKind::Table
                && o.size_bytes.is_some()
                && schema.is_none_or(|s| o.schema == s)
        })
    }

    /// True when something needs a person: an action item above info, or a preflight check
    /// that did not pass.
    pub fn needs_attention(&self) -> bool {
        self.action_items
            .iter()
            .any(|item| item.severity >= Severity::Warning)
            || self
                .preflight
                .iter()
                .any(|check| check.status != CheckStatus::Passed)
    }
}
