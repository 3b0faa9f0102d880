//! What a run reports: per table, what was loaded and what validation found; and the events a
//! progress display follows while it runs.

use migrate_core::Finding;
use serde::Serialize;

/// The result of `migrate replicate` or `migrate validate`, serialized as the `--output json`
/// document (its shape is documented in docs/replicate.md).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The task's name: the `task` of every checkpoint row.
    pub task: String,
    /// `replicate` or `validate`.
    pub command: &'static str,
    /// Where rows came from and went, passwords replaced by `***`.
    pub source: String,
    pub target: String,
    /// The staging location of this task (`replicate` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staging: Option<String>,
    pub tables: Vec<TableSummary>,
    /// Mapping and conversion findings: rules that matched nothing, types converted with a note.
    pub findings: Vec<Finding>,
    pub seconds: f64,
    /// True when every table loaded (or was already loaded) and every validation run passed,
    /// and the run was not interrupted.
    pub ok: bool,
    /// Present when a signal stopped the full load early: what happened and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// Change capture (`replicate --cdc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdc: Option<crate::cdc::CdcSummary>,
}

/// One table of the run.
#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    /// The source table (`public.orders`).
    pub source: String,
    /// The target table, after the mapping's renames.
    pub target: String,
    pub status: TableStatus,
    /// Rows the target holds from this task: loaded now plus those of chunks loaded before.
    pub rows: u64,
    /// Rows loaded by this run.
    pub rows_loaded: u64,
    pub chunks: u32,
    /// Chunks loaded by this run.
    pub chunks_loaded: u32,
    /// Chunks found loaded already (a resumed or repeated run).
    pub chunks_skipped: u32,
    /// Bytes of the objects this run wrote to staging.
    pub bytes_staged: u64,
    pub seconds: f64,
    /// `rows_loaded / seconds`.
    pub rows_per_second: f64,
    /// Why the table stopped, when `status` is `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Absent when validation was not asked for or could not start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// Where the statements to run on Redshift were written (Redshift targets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redshift_sql: Option<String>,
}

impl TableSummary {
    /// A table with nothing done yet.
    pub fn new(source: String, target: String, status: TableStatus) -> TableSummary {
        TableSummary {
            source,
            target,
            status,
            rows: 0,
            rows_loaded: 0,
            chunks: 0,
            chunks_loaded: 0,
            chunks_skipped: 0,
            bytes_staged: 0,
            seconds: 0.0,
            rows_per_second: 0.0,
            error: None,
            validation: None,
            redshift_sql: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableStatus {
    /// Every chunk is in the target.
    Loaded,
    /// Every chunk was staged and the statements that load them on Redshift were written;
    /// nothing was loaded (migrate can't reach Redshift).
    Staged,
    /// A definite error (or transient errors past the retries) stopped the table.
    Failed,
    /// `migrate validate`: the table was compared, not loaded.
    Compared,
    /// `--cdc`: the table's changes were captured and applied; its full load is not part of this
    /// run (an earlier run loaded it, or `--cdc-only` started from a position).
    Captured,
    /// A signal stopped the run before every chunk of the table was loaded (maybe before it
    /// started): the chunks loaded are kept, the next run loads the others.
    Interrupted,
}

/// What comparing a table's source rows with its target rows found.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub status: ValidationStatus,
    pub source_rows: u64,
    pub target_rows: u64,
    /// Parts compared: one per key-range chunk, or one for the whole table.
    pub parts: u32,
    pub parts_differing: u32,
    /// Rows of the source whose key is not in the target. This and the next two counts are
    /// absent (`None`) when rows can't be named: a table without a key loaded as a column, or a
    /// validation that could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_in_target: Option<u64>,
    /// Rows of the target whose key is not in the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_in_target: Option<u64>,
    /// Rows whose key is on both sides with different values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub different: Option<u64>,
    /// The first differing rows (at most `max_differences`), in key order per part.
    pub differences: Vec<Difference>,
    /// Why differences could not be narrowed down to rows (no primary key), or why validation
    /// could not finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationStatus {
    Passed,
    Failed,
    /// Validation itself failed (a query error): nothing is known.
    Error,
}

/// One differing row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub kind: DifferenceKind,
    /// The row's key as `column=value` pairs (`id=42`).
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    MissingInTarget,
    ExtraInTarget,
    Different,
}

/// Events of a run, for a progress display. Called from many tasks at once; keep them quick.
pub trait Observer: Send + Sync {
    /// The run starts with these tables (their labels and the source's row estimates).
    fn planned(&self, _tables: &[(String, Option<u64>)]) {}
    /// A table starts: `chunks` in its plan, `chunks_done` of them loaded before, and the
    /// source's row estimate.
    fn table_started(&self, _table: &str, _chunks: u32, _chunks_done: u32, _rows: Option<u64>) {}
    /// A chunk was loaded (or found loaded: `skipped`).
    fn chunk_done(&self, _table: &str, _rows: u64, _bytes: u64, _skipped: bool) {}
    /// Validation of a table starts.
    fn validating(&self, _table: &str) {}
    /// A table is finished (loaded, failed, validated).
    fn table_finished(&self, _summary: &TableSummary) {}
    /// Change capture applied a batch.
    fn cdc_status(&self, _status: &crate::cdc::CdcStatus) {}
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {}
