//! `migrate replicate --cdc`: the full load from the capture's snapshot, then the change stream,
//! batch-applied exactly once.
//!
//! ```text
//! capture_snapshot ─► full load (that snapshot) ─► start_cdc(position) in the target
//! open_changes(position) ─► reader task ─► events ─► batch (per table: change batches in target
//!   terms, spilled to staging as Parquet every few MiB) ─► at a commit, when the batch is old or
//!   big enough: apply task: stage_changes (COPY into the target's staging tables, reduce) ─►
//!   once the batch before is durable: write_changes (every table + the checkpoint, committed
//!   together) ─► delete the batch's staged objects ─► acknowledge the position to the source
//! ```
//!
//! **Pipelined.** While one batch is written, the next is gathered, staged as Parquet, and then
//! staged in the target (on a connection of its own); it is handed over once the batch before it
//! is staged in the target (whatever its age: a slow apply makes bigger batches), or the
//! gathering waits once it reaches the size limit. Batches are written and commit one at a time,
//! in order.
//!
//! **Exactly once.** A batch ends on a transaction boundary; its changes and the task's
//! checkpoint (batch sequence, source position) commit in one target transaction. The source is
//! told a position only after that commit. After any failure the stream restarts from the
//! checkpoint's position, so a transaction is either in the target with the checkpoint past it,
//! or not in the target and delivered again.
//!
//! **Memory** is bounded by the spill threshold per table (for the batch being gathered and the two
//! being applied) plus the read-ahead (64 MiB of decoded changes the reader keeps decoding while
//! the batcher waits): a transaction of any size streams through staging.

use crate::table::TableLoad;
use crate::{
    connect, connect_and_plan, connection_url, full_load, open_stage, workers, Observer, Options,
    ReplicateError, RetryPolicy, Summary, TableStatus, TableSummary,
};
use arrow_array::builder::StringBuilder;
use arrow_array::{new_null_array, Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Schema, SchemaRef};
use futures::StreamExt;
use migrate_core::{
    Catalog, ErrorClass, Ident, QualifiedName, Retry, Severity, Table, TargetDialect,
};
use migrate_source::{
    before_column, key_columns, ChangeEvent, ChangeSource, ChangeStream, ColumnFilter, Position,
    ReadValue, Selection, TableFilter, OP_COLUMN, UNCHANGED_COLUMN,
};
use migrate_sqlrewrite::{stored_ident, target_name};
use migrate_stage::{ChunkKey, ChunkObject, Format, Stage};
use migrate_task::{Engine, TableMappings, ValidatedTask};
use migrate_warehouse::{
    staged_change_schema, PostgresWarehouse, SchemaChangePolicy, TableChanges, ADDED_SINCE_MARK,
    SEQ_COLUMN, TRUNCATE_OP,
};
use object_store::{ObjectStore, ObjectStoreExt};
use serde::Serialize;
use std::collections::HashMap;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};

/// Staged change objects live under `<staging>/cdc-<batch>-<session>-<table>/`.
const CDC_PREFIX: &str = "cdc-";
/// Buffered change bytes of one table before they are written to staging.
const SPILL_BYTES: usize = 8 << 20;
/// Decoded change bytes the reader may hold ahead of the batcher, in KiB: the source is read
/// while a batch is applied, within this much memory.
const READ_AHEAD_KIB: u32 = 64 << 10;
/// Events the reader may hold ahead of the batcher (commits and other small ones included).
const READ_AHEAD_EVENTS: usize = 1 << 16;
/// Small change batches of one table merged into one once this many are buffered. Sources send
/// a batch per transaction whose buffers are sized for thousands of rows: a stream of one-row
/// transactions would otherwise hold (and count) far more memory than its values.
const MERGE_SMALL_BATCHES: usize = 256;
/// A buffered batch with at least this many rows is left as it is by the merge.
const SMALL_BATCH_ROWS: usize = 1024;

/// How change capture runs.
#[derive(Debug, Clone)]
pub struct CdcOptions {
    /// A batch is applied at the first commit after it is this old...
    pub batch_time: Duration,
    /// ...or this big (bytes of changes).
    pub batch_bytes: usize,
    /// What a source ADD / DROP COLUMN (and a MySQL/MariaDB RENAME COLUMN) does to the target.
    pub schema_changes: SchemaChangePolicy,
    /// `--cdc-only --from`: no full load; changes after this position.
    pub from: Option<Position>,
    /// Stop once nothing changed for this long (tests, one-shot catch-up runs).
    pub stop_when_idle: Option<Duration>,
    /// Connections that write each batch together (two-phase commit; 1: one transaction).
    pub apply_connections: usize,
}

/// What change capture did, in the run's summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CdcSummary {
    /// The last position applied and acknowledged.
    pub position: Option<String>,
    /// Batches applied (each one target transaction).
    pub batches: u64,
    /// Row changes applied (inserts, updates, deletes, as read from the source).
    pub changes: u64,
    pub changes_per_second: f64,
    /// Source commit to target commit of the last batch, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
    /// Why capture stopped: `error` when an error stopped it (see `error`).
    pub stopped: String,
    /// The error that stopped capture, as printed on standard error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A live status line's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct CdcStatus {
    pub position: String,
    pub batches: u64,
    pub changes: u64,
    pub changes_per_second: f64,
    /// How far reading is behind the source: now minus the source commit time of the last
    /// transaction read (about 0 once the stream has been idle, caught up with the source).
    /// Both lags are 0 rather than negative when the source's clock is ahead of this host's.
    pub source_lag_seconds: Option<f64>,
    /// How far the target is behind the source: now minus the source commit time of the last
    /// transaction applied.
    pub target_lag_seconds: Option<f64>,
}

/// One captured table: how its source change batches become target change batches.
struct Capture {
    load: TableLoad,
    /// Target column name -> source column name (renames; removed columns are absent).
    sources: Vec<(String, String)>,
    schema: SchemaRef,
}

impl Capture {
    fn new(load: TableLoad) -> Result<Capture, ReplicateError> {
        let unsupported = |what: &str| ReplicateError::Unsupported {
            message: format!("{}: {what} can't be captured (--cdc)", load.source.name),
            action: "drop the rule for this table, or replicate it without --cdc".into(),
        };
        if load.read.filter.is_some() {
            return Err(unsupported("a filter rule"));
        }
        let mut sources = Vec::new();
        for column in &load.read.columns {
            match &column.value {
                ReadValue::Column(source) => sources.push((column.name.clone(), source.clone())),
                ReadValue::Cast(_) => return Err(unsupported("a change-data-type rule")),
                ReadValue::Expression(_) => return Err(unsupported("an add-column rule")),
            }
        }
        let target_key = key_columns(&load.target);
        if target_key.is_empty()
            || !target_key
                .iter()
                .all(|k| sources.iter().any(|(t, _)| t == k))
        {
            return Err(ReplicateError::Unsupported {
                message: format!(
                    "{} has no primary key in the target: changes can't be applied",
                    load.target.name
                ),
                action: "give the source table a primary key and keep its columns in the mapping"
                    .into(),
            });
        }
        // A change names its row by the before image of the source's primary key, the only key
        // the sources send it for: a target key on other columns could not be applied by.
        let source_key = key_columns(&load.source);
        let uncaptured: Vec<&str> = target_key
            .iter()
            .filter_map(|k| sources.iter().find(|(t, _)| t == k))
            .map(|(_, s)| s.as_str())
            .filter(|s| !source_key.iter().any(|k| k == s))
            .collect();
        if !uncaptured.is_empty() {
            let source = &load.source.name;
            let columns = uncaptured.join(", ");
            return Err(ReplicateError::Unsupported {
                message: format!(
                    "{} makes {} the primary key of {}, but a change captured from {source} names its row only by the source table's primary key ({}), so its updates and deletes could not be applied (--cdc); a replica identity (PostgreSQL REPLICA IDENTITY FULL or USING INDEX) does not change that",
                    load.key_rule.as_deref().unwrap_or("a define-primary-key rule"),
                    target_key.join(", "),
                    load.label(),
                    if source_key.is_empty() {
                        "it has none".to_string()
                    } else {
                        source_key.join(", ")
                    }
                ),
                action: format!(
                    "give {source} that primary key (ALTER TABLE {source} ADD PRIMARY KEY ({columns})), or replicate the table without --cdc"
                ),
            });
        }
        let schema = Arc::new(staged_change_schema(&load.target));
        Ok(Capture {
            load,
            sources,
            schema,
        })
    }

    /// A source change batch in target terms, with its sequence numbers.
    fn to_target(
        &self,
        changes: &RecordBatch,
        first_seq: i64,
    ) -> Result<RecordBatch, ReplicateError> {
        let rows = changes.num_rows();
        let source_key = key_columns(&self.load.source);
        let column = |name: &str| changes.column_by_name(name).cloned();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        arrays.push(Arc::new(Int64Array::from_iter_values(
            first_seq..first_seq + rows as i64,
        )));
        arrays.push(column(OP_COLUMN).ok_or_else(|| self.bad("no operation column"))?);
        // Unchanged markers: one character per target column, from the source's positions.
        let source_columns: Vec<&str> = self
            .load
            .source
            .columns
            .iter()
            .map(|c| c.name.value.as_str())
            .collect();
        let unchanged = changes
            .column_by_name(UNCHANGED_COLUMN)
            .and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned())
            .ok_or_else(|| self.bad("no unchanged column"))?;
        let to: Vec<&str> = self.sources.iter().map(|(_, s)| s.as_str()).collect();
        let remapped = remap_unchanged(Some(&unchanged), rows, &source_columns, &to, |_| '0');
        arrays.push(remapped);
        for key in key_columns(&self.load.target) {
            let source = self.source_of(&key);
            // Key columns of the target are key columns of the source (checked at start).
            let array = source_key
                .iter()
                .find(|k| Some(k.as_str()) == source)
                .and_then(|k| column(&before_column(k)))
                .ok_or_else(|| self.bad(&format!("no before image of key column {key}")))?;
            arrays.push(array);
        }
        for column_def in &self.load.target.columns {
            let name = &column_def.name.value;
            let array = self
                .source_of(name)
                .and_then(column)
                .ok_or_else(|| self.bad(&format!("no value for column {name}")))?;
            arrays.push(array);
        }
        RecordBatch::try_new(Arc::clone(&self.schema), arrays).map_err(|e| self.bad(&e.to_string()))
    }

    /// One `T` row: every row of the table before it is gone.
    fn truncate_row(&self, seq: i64) -> Result<RecordBatch, ReplicateError> {
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![seq])),
            Arc::new(StringArray::from(vec![TRUNCATE_OP])),
        ];
        arrays.extend(
            self.schema
                .fields()
                .iter()
                .skip(2)
                .map(|f| new_null_array(f.data_type(), 1)),
        );
        RecordBatch::try_new(Arc::clone(&self.schema), arrays).map_err(|e| self.bad(&e.to_string()))
    }

    fn source_of(&self, target: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|(t, _)| t == target)
            .map(|(_, s)| s.as_str())
    }

    fn bad(&self, what: &str) -> ReplicateError {
        ReplicateError::State {
            table: self.load.source.name.to_string(),
            message: format!("a change batch does not fit the table: {what}"),
            action: "report this as a bug in migrate".into(),
        }
    }
}

/// How `table` (a source definition) is captured under the task's mapping; `None` when the
/// mapping does not select it.
fn capture_of<S: ChangeSource>(
    task: &ValidatedTask,
    source: &S,
    table: &Table,
) -> Result<Option<Capture>, ReplicateError> {
    let plan = task.mappings.plan(&Catalog {
        tables: vec![table.clone()],
        ..Catalog::default()
    })?;
    let Some(table_plan) = plan.tables.first() else {
        return Ok(None);
    };
    let quote = |n: &str| source.quote_ident(n);
    let load = TableLoad::new(
        table_plan,
        table,
        source.dialect(),
        crate::target_dialect(task),
        &quote,
    )?;
    Capture::new(load).map(Some)
}

/// The column renames `renamed` (source names, see [`ChangeEvent::Table`]) as renames of the
/// target columns of `old` to those of `new`. A rename the task's mapping makes unclear is left
/// out, for the warehouse to take as a drop and an add (it stops the task while the target has
/// the old column): a column the mapping leaves out, before or after, or one a rule names (a
/// `rename` or a prefix: its target name is not the source's own, folded as the target folds
/// names), whose target name the user may rather keep by a rule for the new name.
fn target_renames(
    old: &Capture,
    new: &Capture,
    renamed: &[(String, String)],
    dialect: TargetDialect,
) -> Vec<(String, String)> {
    let own_name = |capture: &Capture, source: &str| {
        let stored = stored_ident(source, dialect);
        (capture.sources.iter())
            .find(|(target, s)| s == source && stored_ident(target, dialect) == stored)
            .map(|(target, _)| target.clone())
    };
    renamed
        .iter()
        .filter_map(|(from, to)| Some((own_name(old, from)?, own_name(new, to)?)))
        .collect()
}

/// Refuses a table whose target the selection rules select too, in the same database: every
/// change migrate writes to it would be captured and applied to it again, without end.
fn captures_own_writes(
    task: &ValidatedTask,
    same_database: bool,
    load: &TableLoad,
) -> Result<(), ReplicateError> {
    if !same_database {
        return Ok(());
    }
    let dialect = crate::target_dialect(task);
    let stored = |ident: &Ident| Ident::quoted(stored_ident(&ident.value, dialect));
    let target = &load.target.name;
    let as_stored = QualifiedName::new(target.schema.as_ref().map(stored), stored(&target.name));
    if !task.mappings.selects(&as_stored) {
        return Ok(());
    }
    Err(ReplicateError::Unsupported {
        message: format!(
            "{} would be captured into {}, which the selection rules select too (the source and the target are the same database): the changes migrate writes to it would come back to be applied again, without end",
            load.source.name,
            target_name(target, dialect)
        ),
        action: "exclude the target schema or tables in the selection rules, or capture into another database".into(),
    })
}

/// The task's selection rules: tables created after capture started, and the columns the
/// task keeps (a source may leave the others unread).
fn selection_of(task: &ValidatedTask) -> Selection {
    let plan = |mappings: &TableMappings, table: Table| {
        mappings.plan(&Catalog {
            tables: vec![table],
            ..Catalog::default()
        })
    };
    let mappings = task.mappings.clone();
    let tables: TableFilter = Arc::new(move |name: &QualifiedName| mappings.selects(name));
    let mappings = task.mappings.clone();
    let columns: ColumnFilter = Arc::new(move |table: &Table, column: &str| {
        // A table the rules can't plan keeps every column: one that can't be read then
        // stops the capture, naming it.
        plan(&mappings, table.clone()).map_or(true, |plan| {
            plan.tables.first().is_none_or(|planned| {
                planned
                    .columns
                    .iter()
                    .any(|c| c.source.as_ref().is_some_and(|s| s.value == column))
            })
        })
    });
    Selection { tables, columns }
}

/// Unchanged markers (one `0`/`1` per column of `from`) rewritten for the columns `to` (a column
/// of `to` not in `from` is `missing(row)`); null where every column has its value (all `0`).
fn remap_unchanged(
    markers: Option<&StringArray>,
    rows: usize,
    from: &[&str],
    to: &[&str],
    missing: impl Fn(usize) -> char,
) -> ArrayRef {
    // Where each column of `to` is in `from`, found once (this runs for every captured batch).
    let positions: Vec<Option<usize>> = to
        .iter()
        .map(|name| from.iter().position(|f| f == name))
        .collect();
    let all_in_from = positions.iter().all(Option::is_some);
    let mut remapped = StringBuilder::new();
    for i in 0..rows {
        let flags = markers
            .filter(|m| m.is_valid(i))
            .map(|m| m.value(i).as_bytes());
        if flags.is_none() && all_in_from {
            // No column unchanged, none missing.
            remapped.append_null();
            continue;
        }
        let text: String = positions
            .iter()
            .map(|position| match position {
                Some(p) => flags.and_then(|f| f.get(*p)).map_or('0', |&f| f as char),
                None => missing(i),
            })
            .collect();
        if text.chars().any(|c| c != '0') {
            remapped.append_value(text);
        } else {
            remapped.append_null();
        }
    }
    Arc::new(remapped.finish())
}

/// `batch` (staged with an earlier definition of the table) in the layout of `schema`: columns
/// matched by name, a column dropped since is left out, a column whose type changed since is
/// cast to the new type (the target column has it: the schema change was carried over), and the
/// unchanged markers follow their columns. A column added since is null, marked
/// [`ADDED_SINCE_MARK`] in the inserts and updates: in the source, the rows they wrote have the
/// value existing rows got when the column was added (the target column's default), not NULL.
fn conform(
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch.clone());
    }
    let rows = batch.num_rows();
    let first_value = |s: &Schema| {
        s.fields()
            .iter()
            .position(|f| {
                f.name() != SEQ_COLUMN
                    && f.name() != OP_COLUMN
                    && f.name() != UNCHANGED_COLUMN
                    && !f.name().starts_with(migrate_source::BEFORE_PREFIX)
            })
            .unwrap_or(s.fields().len())
    };
    let old_schema = batch.schema();
    let old_values: Vec<&str> = old_schema.fields()[first_value(&old_schema)..]
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let new_values: Vec<&str> = schema.fields()[first_value(schema)..]
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let mut arrays = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        if field.name() == UNCHANGED_COLUMN {
            let old = batch
                .column_by_name(UNCHANGED_COLUMN)
                .and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned());
            let ops = batch
                .column_by_name(OP_COLUMN)
                .and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned());
            let writes = |row: usize| {
                ops.as_ref()
                    .is_some_and(|o| o.is_valid(row) && matches!(o.value(row), "I" | "U"))
            };
            arrays.push(remap_unchanged(
                old.as_ref(),
                rows,
                &old_values,
                &new_values,
                |row| if writes(row) { ADDED_SINCE_MARK } else { '0' },
            ));
            continue;
        }
        arrays.push(match batch.column_by_name(field.name()) {
            Some(array) if array.data_type() == field.data_type() => Arc::clone(array),
            // Strict: a value the new type can't hold is an error, never a NULL.
            Some(array) => arrow::compute::cast_with_options(
                array,
                field.data_type(),
                &arrow::compute::CastOptions {
                    safe: false,
                    ..Default::default()
                },
            )?,
            None => new_null_array(field.data_type(), rows),
        });
    }
    RecordBatch::try_new(Arc::clone(schema), arrays)
}

/// The changes of one table in the current batch.
struct Pending {
    /// Written to staging, in order.
    staged: Vec<ChunkObject>,
    /// Not yet written.
    buffered: Vec<RecordBatch>,
    /// Bytes of the buffered values (not of the buffers' spare capacity).
    buffered_bytes: usize,
    /// Small batches at the end of `buffered` since the last merge.
    small: usize,
}

impl Pending {
    fn push(&mut self, changes: RecordBatch) -> Result<usize, ReplicateError> {
        let bytes = value_bytes(&changes);
        let is_small = changes.num_rows() < SMALL_BATCH_ROWS;
        self.buffered.push(changes);
        self.buffered_bytes += bytes;
        if !is_small {
            self.small = 0;
        } else {
            self.small += 1;
            if self.small >= MERGE_SMALL_BATCHES {
                let tail = self.buffered.split_off(self.buffered.len() - self.small);
                let merged =
                    arrow::compute::concat_batches(&tail[0].schema(), &tail).map_err(|e| {
                        ReplicateError::State {
                            table: String::new(),
                            message: format!("merging buffered change batches: {e}"),
                            action: "report this as a bug in migrate".into(),
                        }
                    })?;
                self.buffered.push(merged);
                self.small = 0;
            }
        }
        Ok(bytes)
    }
}

/// The bytes a batch's values take (its slices of the buffers, without spare capacity).
fn value_bytes(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|c| {
            c.to_data()
                .get_slice_memory_size()
                .unwrap_or_else(|_| c.get_array_memory_size())
        })
        .sum()
}

/// The batch being gathered.
struct Batch {
    number: u64,
    tables: HashMap<QualifiedName, Pending>,
    /// Order in which tables first appeared (apply order is irrelevant to the result, but
    /// deterministic order makes logs readable).
    order: Vec<QualifiedName>,
    next_seq: i64,
    changes: u64,
    bytes: usize,
    started: Option<Instant>,
    /// The last commit read: where the batch ends.
    commit: Option<(Position, Option<SystemTime>)>,
    /// Rows read since that commit (a transaction is open).
    open: bool,
}

impl Batch {
    fn new(number: u64) -> Batch {
        Batch {
            number,
            tables: HashMap::new(),
            order: Vec::new(),
            next_seq: 0,
            changes: 0,
            bytes: 0,
            started: None,
            commit: None,
            open: false,
        }
    }

    fn pending(&mut self, table: &QualifiedName) -> &mut Pending {
        if !self.tables.contains_key(table) {
            self.order.push(table.clone());
        }
        self.tables.entry(table.clone()).or_insert_with(|| Pending {
            staged: Vec::new(),
            buffered: Vec::new(),
            buffered_bytes: 0,
            small: 0,
        })
    }

    /// At its size limit, between transactions.
    fn full(&self, options: &CdcOptions) -> bool {
        self.commit.is_some() && !self.open && self.bytes >= options.batch_bytes
    }

    /// No change since the batch's start (before its first commit, outside a transaction: every
    /// change opens one): a commit now ends a transaction without a change of a captured table.
    fn holds_nothing(&self) -> bool {
        self.commit.is_none() && !self.open
    }

    fn due(&self, options: &CdcOptions) -> bool {
        self.commit.is_some()
            && !self.open
            && (self.bytes >= options.batch_bytes
                || self
                    .started
                    .is_some_and(|s| s.elapsed() >= options.batch_time))
    }
}

/// Runs `--cdc`: the full load (unless resuming or `from` is set), then change capture until
/// stopped. See the module documentation.
pub async fn replicate_cdc<S: ChangeSource>(
    task: &ValidatedTask,
    options: Options,
    cdc: CdcOptions,
    observer: Arc<dyn Observer>,
) -> Result<Summary, ReplicateError> {
    let started = Instant::now();
    if task.target.url.engine() == Engine::Redshift {
        return Err(ReplicateError::Unsupported {
            message: "change capture into Redshift is not run by migrate (it can't reach Redshift)"
                .into(),
            action: "replicate into PostgreSQL, or use the generated MERGE SQL (docs/replicate.md)"
                .into(),
        });
    }
    let target_url = connection_url(&task.target.url);
    let warehouse = connect_target(&target_url, &options.retry, Some(&options.stop)).await?;
    // One capture per task: its slot, staging and checkpoint have one user. (A lock of its own:
    // the full load below takes the task's load lock on other connections.)
    crate::claim_task(
        &warehouse,
        &format!("{} (cdc)", options.task_name),
        format!("task {} is capturing changes into", options.task_name),
        "stop it first (SIGTERM), or give this run another --name",
    )
    .await?;
    let shards = apply_shards(
        &warehouse,
        &target_url,
        cdc.apply_connections,
        &options.retry,
        Some(&options.stop),
    )
    .await?;
    let stager = connect_target(&target_url, &options.retry, Some(&options.stop)).await?;
    let (source, mut planned) = connect_and_plan::<S>(task, &options).await?;
    planned
        .findings
        .extend(crate::objects::not_copied(task, &source, &planned).await);
    let mut summary_tables: Vec<TableSummary> = Vec::new();
    let mut captures: HashMap<QualifiedName, Capture> = HashMap::new();
    for load in &planned.loads {
        match load {
            Ok(load) => {
                match captures_own_writes(task, planned.same_database, load)
                    .and_then(|()| Capture::new(load.clone()))
                {
                    Ok(capture) => {
                        captures.insert(load.source.name.clone(), capture);
                    }
                    Err(e) => summary_tables.push(crate::failed_table(
                        load.source.name.to_string(),
                        load.label(),
                        &e,
                    )),
                }
            }
            Err(summary) => summary_tables.push(summary.as_ref().clone()),
        }
    }
    if !summary_tables.is_empty() {
        return Err(ReplicateError::Unsupported {
            message: format!(
                "{} table(s) can't be captured: {}",
                summary_tables.len(),
                summary_tables
                    .iter()
                    .map(|t| format!("{}: {}", t.source, t.error.as_deref().unwrap_or("failed")))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            action: "exclude them from the table mapping, or fix what is named".into(),
        });
    }
    let source_tables: Vec<Table> = captures.values().map(|c| c.load.source.clone()).collect();
    // Before the full load: a column capture can't read would stop it only at its first change.
    source
        .check_columns(&source_tables, &selection_of(task))
        .await
        .map_err(ReplicateError::source(format!(
            "checking the captured columns on {}",
            source.endpoint()
        )))?;
    let mut full = None;
    let mut resumed = false;
    // The converter's findings about the tables created without a full load (`--from`).
    let mut prepared = Vec::new();
    if let Some(from) = &cdc.from {
        source
            .check_position(from)
            .map_err(ReplicateError::source(format!(
                "starting change capture on {} from {from}",
                source.endpoint()
            )))?;
    }
    let checkpoint = match warehouse.cdc_checkpoint(&options.task_name).await? {
        Some(checkpoint) if !options.restart => {
            // Warned, not refused: the command that started the task is run again as it is to
            // resume it.
            if let Some(from) = cdc
                .from
                .as_ref()
                .filter(|from| from.0 != checkpoint.position)
            {
                tracing::warn!(
                    "--from {from} is not used: task {} resumes from its checkpoint, where its changes are applied up to {}; add --restart to start capture from {from} instead",
                    options.task_name,
                    checkpoint.position
                );
            }
            resumed = true;
            checkpoint
        }
        existing => {
            // The old checkpoint goes first: were it kept until capture starts, a new full load
            // that stopped early (a signal, a failed table) would leave it behind, and the next
            // run would resume from it onto the partly loaded tables.
            if existing.is_some() {
                warehouse.forget_cdc(&options.task_name).await?;
            }
            let from = match &cdc.from {
                Some(from) => {
                    source
                        .start_capture(&options.task_name, &source_tables, from)
                        .await
                        .map_err(ReplicateError::source(format!(
                            "starting change capture on {} from {from}",
                            source.endpoint()
                        )))?;
                    // No full load: target tables are created where missing, never emptied.
                    for capture in captures.values() {
                        prepared.extend(
                            warehouse
                                .prepare(
                                    &capture.load.target,
                                    source.dialect(),
                                    migrate_warehouse::PrepMode::DoNothing,
                                )
                                .await?,
                        );
                    }
                    from.clone()
                }
                None => {
                    // A full load that did not finish can't be resumed under capture: its
                    // snapshot is gone. Start it over from a new slot and snapshot.
                    if existing.is_some() {
                        tracing::info!("--restart: change capture starts over with a full load");
                    }
                    source
                        .drop_capture(&options.task_name)
                        .await
                        .map_err(ReplicateError::source("dropping the earlier capture"))?;
                    let (snapshot, start) = source
                        .capture_snapshot(
                            &options.task_name,
                            &source_tables,
                            workers(task, &options),
                        )
                        .await
                        .map_err(ReplicateError::source(format!(
                            "starting change capture on {}",
                            source.endpoint()
                        )))?;
                    let mut load_options = options.clone();
                    load_options.restart = true;
                    let planned = planned.clone();
                    let mut summary = full_load(
                        task,
                        load_options,
                        Arc::clone(&observer),
                        source,
                        planned,
                        snapshot,
                    )
                    .await?;
                    if !summary.ok {
                        // The next run starts over (a new snapshot): the slot would only hold
                        // WAL back on the source until then.
                        drop_unused_capture::<S>(task, &options).await;
                        if summary.interrupted.is_some() {
                            summary.interrupted = Some("stopped by a signal during the full load, before change capture started: run the same command again; the full load starts over from a new snapshot (change capture continues from the snapshot's position, so its load can't be resumed)".into());
                        }
                        return Ok(summary);
                    }
                    full = Some(summary);
                    start
                }
            };
            warehouse.start_cdc(&options.task_name, &from.0).await?
        }
    };
    // Capture has started (its checkpoint is stored): a signal here stops it at its first
    // check, with the summary, not in the wait to connect.
    let source: S = connect(task, &options.retry, None).await?;
    // The definitions the target was built for: recorded when capture started and at each
    // column change since. A capture resumed from an older position starts from them, so the
    // changes it reads again meet the columns they were made with.
    let recorded = warehouse.cdc_tables(&options.task_name).await?;
    if resumed {
        // A selected table the capture never recorded (created while the task was stopped, or
        // newly selected by the mapping) is not in the target yet: it is captured as a new
        // table when its first change arrives, which creates its target table. Rows it had
        // before the checkpoint are not replayed.
        captures.retain(|name, _| {
            let kept = recorded.iter().any(|t| &t.name == name);
            if !kept {
                tracing::warn!(
                    table = %name,
                    "selected but not captured before: its target table is created at its first change; rows it had before the checkpoint need a full load (--restart)"
                );
            }
            kept
        });
    }
    for table in recorded {
        if let Some(capture) = capture_of(task, &source, &table)? {
            captures.insert(table.name.clone(), capture);
        }
    }
    for capture in captures.values() {
        warehouse
            .save_cdc_table(&options.task_name, &capture.load.source)
            .await?;
    }
    let stage = open_stage(task, &options.task_name)?;
    let mut run = CdcRun {
        task,
        same_database: planned.same_database,
        options: &options,
        cdc: &cdc,
        observer,
        source,
        warehouse: Arc::new(warehouse),
        shards: Arc::new(shards),
        stager: Arc::new(stager),
        target_url,
        stage,
        captures,
        summary: CdcSummary::default(),
        position: Position(checkpoint.position.clone()),
        sequence: checkpoint.sequence,
        first_change: None,
        source_time: Arc::new(AtomicU64::new(0)),
        session: String::new(),
        in_flight: VecDeque::new(),
    };
    run.summary.position = Some(checkpoint.position.clone());
    let captured = run.capture().await;
    match &captured {
        Ok(why) => run.summary.stopped = why.clone(),
        Err(error) => {
            run.summary.stopped = "error".into();
            run.summary.error = Some(error.to_string());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut summary = full.unwrap_or_else(|| Summary {
        task: options.task_name.clone(),
        command: "replicate",
        source: run.source.endpoint().to_string(),
        target: run.warehouse.endpoint().to_string(),
        staging: Some(crate::staging_location(task, &options.task_name)),
        tables: run
            .captures
            .values()
            .map(|c| {
                TableSummary::new(
                    c.load.source.name.to_string(),
                    c.load.label(),
                    TableStatus::Captured,
                )
            })
            .collect(),
        findings: planned.findings.iter().cloned().chain(prepared).collect(),
        seconds: 0.0,
        ok: true,
        interrupted: None,
        cdc: None,
    });
    summary.seconds = elapsed;
    summary.cdc = Some(run.summary.clone());
    match captured {
        Ok(_) => Ok(summary),
        // What the run did before the error (its full load, the batches applied) is reported
        // with it.
        Err(error) => {
            summary.ok = false;
            Err(ReplicateError::CaptureStopped {
                error: Box::new(error),
                summary: Box::new(summary),
            })
        }
    }
}

/// Drops the slot and publication of a capture whose full load did not finish; a failure is
/// only logged (the next run drops them before it starts).
async fn drop_unused_capture<S: ChangeSource>(task: &ValidatedTask, options: &Options) {
    // Run when stopping too: retried to the end.
    let dropped = match connect::<S>(task, &options.retry, None).await {
        Ok(source) => source
            .drop_capture(&options.task_name)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = dropped {
        tracing::warn!(
            "the capture set up for the full load stays on the source until the next run: {e}"
        );
    }
}

struct CdcRun<'a, S: ChangeSource> {
    task: &'a ValidatedTask,
    /// The source and the target are one database.
    same_database: bool,
    options: &'a Options,
    cdc: &'a CdcOptions,
    observer: Arc<dyn Observer>,
    source: S,
    /// Shared with the batch being applied.
    warehouse: Arc<PostgresWarehouse>,
    /// The further connections that write batches with `warehouse` (`--apply-connections`).
    shards: Arc<Vec<PostgresWarehouse>>,
    /// The connection that stages the next batch while `warehouse` and `shards` write one.
    stager: Arc<PostgresWarehouse>,
    /// **Secret** (may hold the password).
    target_url: String,
    stage: Stage,
    captures: HashMap<QualifiedName, Capture>,
    summary: CdcSummary,
    /// The last durable position and batch sequence.
    position: Position,
    sequence: u64,
    first_change: Option<Instant>,
    /// The source time the reading has reached (the last commit read, or the server's clock
    /// once the stream has been idle for a while), as microseconds since the epoch; 0 before
    /// any.
    source_time: Arc<AtomicU64>,
    /// Names this session's staged objects: a batch number can come again after a restart.
    session: String,
    /// The batches being applied while the next one is gathered, oldest first: at most two, the
    /// second staged (or staging) while the first is written.
    in_flight: VecDeque<InFlight>,
}

/// A batch handed to its apply task.
struct InFlight {
    /// Fires when the batch is staged in the target (or its task ended).
    staged: Signal,
    /// Fires when the batch is durable: the next batch's write waits for it. Taken by it.
    durable: Option<oneshot::Receiver<()>>,
    task: AbortOnDrop<Result<Applied, ReplicateError>>,
}

/// A one-time signal that can be waited for from a loop.
struct Signal {
    receiver: oneshot::Receiver<()>,
    fired: bool,
}

impl Signal {
    /// Returns once the signal fired (or its sender is gone); never again after that.
    async fn wait(&mut self) {
        if self.fired {
            return std::future::pending().await;
        }
        let _ = (&mut self.receiver).await;
        self.fired = true;
    }
}

/// What happened to the batches in flight.
enum Progress {
    /// The newest one is staged in the target.
    Staged,
    /// The oldest one ended.
    Ended(Result<Applied, ReplicateError>),
}

/// Waits until the oldest batch in flight ends or the newest is staged.
async fn progress(in_flight: &mut VecDeque<InFlight>) -> Progress {
    let mut batches = in_flight.iter_mut();
    let Some(oldest) = batches.next() else {
        return std::future::pending().await;
    };
    let InFlight { staged, task, .. } = oldest;
    let newest = match batches.next() {
        Some(newer) => &mut newer.staged,
        None => staged,
    };
    tokio::select! {
        result = join_task(task) => Progress::Ended(result),
        _ = newest.wait() => Progress::Staged,
    }
}

/// A batch handed to [`apply_batch`], with what it needs from the run.
struct ApplyJob {
    warehouse: Arc<PostgresWarehouse>,
    shards: Arc<Vec<PostgresWarehouse>>,
    stager: Arc<PostgresWarehouse>,
    /// Signals that the batch is staged in the target.
    staged: oneshot::Sender<()>,
    /// The batch before it, while it is not durable yet: the write waits for it.
    previous: Option<oneshot::Receiver<()>>,
    /// Signals that the batch is durable.
    durable: oneshot::Sender<()>,
    stage: Stage,
    task_name: String,
    session: String,
    batch: Batch,
    /// Per table of the batch, in order: its target definition and staged schema.
    targets: Vec<(QualifiedName, Table, SchemaRef)>,
}

/// A batch the target has made durable.
struct Applied {
    number: u64,
    changes: u64,
    position: Position,
    committed_at: Option<SystemTime>,
}

/// Why the event loop returned.
enum Ended {
    Stopped(String),
    /// A transient failure: start again from the checkpoint.
    Broken(ReplicateError),
}

impl<S: ChangeSource> CdcRun<'_, S> {
    /// Captures until stopped, restarting from the checkpoint after transient failures.
    async fn capture(&mut self) -> Result<String, ReplicateError> {
        let mut failures = 0u32;
        let mut delay = self.options.retry.first_delay;
        loop {
            let applied_before = self.sequence;
            match self.session().await? {
                Ended::Stopped(why) => return Ok(why),
                Ended::Broken(error) => {
                    // Consecutive failures only: a session that applied something was a recovery,
                    // so a capture running for weeks does not die of its 21st blip.
                    if self.sequence > applied_before {
                        failures = 0;
                        delay = self.options.retry.first_delay;
                    }
                    failures += 1;
                    if failures > self.options.retry.retries.max(1) * 5 {
                        return Err(error);
                    }
                    tracing::warn!(
                        "change capture interrupted ({error}); resuming from {} in {delay:?}",
                        self.position
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.options.retry.max_delay);
                    if let Err(e) = self.reconnect().await {
                        tracing::warn!("reconnecting: {e}");
                    }
                }
            }
        }
    }

    async fn reconnect(&mut self) -> Result<(), ReplicateError> {
        if self.warehouse.is_closed().await {
            // While capturing, retried to the end even when stopping: the batch read is applied
            // if the target comes back.
            self.warehouse =
                Arc::new(connect_target(&self.target_url, &self.options.retry, None).await?);
        }
        let mut broken = false;
        for shard in self.shards.iter() {
            broken |= shard.is_closed().await;
        }
        if broken {
            let shards = apply_shards(
                &self.warehouse,
                &self.target_url,
                self.cdc.apply_connections,
                &self.options.retry,
                None,
            )
            .await?;
            self.shards = Arc::new(shards);
        }
        if self.stager.is_closed().await {
            self.stager =
                Arc::new(connect_target(&self.target_url, &self.options.retry, None).await?);
        }
        self.source = connect(self.task, &self.options.retry, None).await?;
        Ok(())
    }

    /// Deletes staged changes no batch will apply: those of sessions that ended before their
    /// batch was applied (a kill, a broken connection). Best effort.
    async fn clean_staging(&self) {
        let store = self.stage.store();
        let prefix = self.stage.prefix().clone();
        let mut listing = store.list(Some(&prefix));
        let mut orphans = Vec::new();
        while let Some(item) = listing.next().await {
            match item {
                Ok(meta) => {
                    let relative = meta
                        .location
                        .prefix_match(&prefix)
                        .and_then(|mut parts| parts.next());
                    if relative.is_some_and(|part| part.as_ref().starts_with(CDC_PREFIX)) {
                        orphans.push(meta.location);
                    }
                }
                Err(e) => {
                    tracing::warn!("listing staged changes to clean up: {e}");
                    return;
                }
            }
        }
        for path in orphans {
            if let Err(e) = store.delete(&path).await {
                tracing::warn!("deleting unapplied staged changes {path}: {e}");
            }
        }
    }

    /// One session: open the stream at the checkpoint, gather and apply batches. A batch still
    /// being applied when the session breaks is waited for: what it made durable is kept.
    async fn session(&mut self) -> Result<Ended, ReplicateError> {
        let ended = self.gather().await;
        // The stream's position is reset to the checkpoint by the next session either way.
        let (ack, _) = watch::channel(self.position.clone());
        while !self.in_flight.is_empty() {
            if let Err(e) = self.settle(&ack).await {
                tracing::warn!("a batch being applied when capture stopped failed: {e}");
            }
        }
        ended
    }

    async fn gather(&mut self) -> Result<Ended, ReplicateError> {
        self.clean_staging().await;
        // What an earlier session left in the target (no batch of this one is staged yet).
        if let Err(e) = self.warehouse.settle_apply(&self.options.task_name).await {
            return self.ended(e.into());
        }
        self.session = format!(
            "{:x}",
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let tables: Vec<Table> = self
            .captures
            .values()
            .map(|c| c.load.source.clone())
            .collect();
        let selection = selection_of(self.task);
        let stream = match self
            .source
            .open_changes(&self.options.task_name, &tables, selection, &self.position)
            .await
        {
            Ok(stream) => stream,
            Err(e) if e.retry() == Retry::Transient => {
                return Ok(Ended::Broken(ReplicateError::source(
                    "opening the change stream",
                )(e)))
            }
            Err(e) => return Err(ReplicateError::source("opening the change stream")(e)),
        };
        let (events_tx, mut events) = mpsc::channel(READ_AHEAD_EVENTS);
        let (ack_tx, ack_rx) = watch::channel(self.position.clone());
        let reader = tokio::spawn(read_events(
            stream,
            events_tx,
            ack_rx,
            Arc::clone(&self.source_time),
        ));
        let _abort = AbortOnDrop(reader);
        let mut stop = self.options.stop.clone();
        let mut batch = Batch::new(self.sequence + 1);
        let mut last_event = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            let stopping = *stop.borrow();
            if stopping {
                // Apply what committed, then leave.
                if let Err(e) = self.apply_now(&mut batch, &ack_tx).await {
                    return self.ended(e);
                }
                return Ok(Ended::Stopped("stop requested (signal)".into()));
            }
            // A full batch waits for a place in the apply: staging holds at most three batches.
            let full = batch.full(self.cdc) && !self.can_start();
            tokio::select! {
                _ = stop.changed() => continue,
                progress = progress(&mut self.in_flight), if !self.in_flight.is_empty() => {
                    if let Progress::Ended(applied) = progress {
                        self.in_flight.pop_front();
                        match applied {
                            Ok(applied) => self.record(applied, &ack_tx),
                            Err(e) => return self.ended(e),
                        }
                        // Idle means nothing arrived while we waited, not while we applied.
                        last_event = Instant::now();
                    }
                    if batch.due(self.cdc) && self.can_start() {
                        self.start_apply(&mut batch);
                    }
                }
                _ = tick.tick() => {
                    if batch.due(self.cdc) && self.can_start() {
                        self.start_apply(&mut batch);
                    }
                    if let Some(idle) = self.cdc.stop_when_idle {
                        if last_event.elapsed() >= idle
                            && batch.commit.is_none()
                            && !batch.open
                            && self.in_flight.is_empty()
                        {
                            return Ok(Ended::Stopped(format!("no change for {idle:?}")));
                        }
                    }
                }
                event = events.recv(), if !full => {
                    let event = match event {
                        // The event's read-ahead allowance is returned as the batcher takes it.
                        Some(Ok((event, _allowance))) => event,
                        Some(Err(e)) => return self.ended(e),
                        None => return Ok(Ended::Broken(ReplicateError::Unsupported {
                            message: "the change stream ended".into(),
                            action: "run again to resume".into(),
                        })),
                    };
                    let quiet = match event {
                        ChangeEvent::Idle { .. } => true,
                        ChangeEvent::Commit { .. } => batch.holds_nothing(),
                        _ => false,
                    };
                    if !quiet {
                        last_event = Instant::now();
                    }
                    if let Err(e) = self.event(event, &mut batch, &ack_tx).await {
                        return self.ended(e);
                    }
                    if batch.due(self.cdc) && self.can_start() {
                        self.start_apply(&mut batch);
                    }
                }
            }
        }
    }

    fn ended(&self, error: ReplicateError) -> Result<Ended, ReplicateError> {
        if error.retry() == Retry::Transient {
            Ok(Ended::Broken(error))
        } else {
            Err(error)
        }
    }

    async fn event(
        &mut self,
        event: ChangeEvent,
        batch: &mut Batch,
        ack: &watch::Sender<Position>,
    ) -> Result<(), ReplicateError> {
        match event {
            ChangeEvent::Rows { table, changes } => {
                let capture = self
                    .captures
                    .get(&table)
                    .ok_or_else(|| ReplicateError::State {
                        table: table.to_string(),
                        message: "changes of a table that was never announced".into(),
                        action: "report this as a bug in migrate".into(),
                    })?;
                let staged = capture.to_target(&changes, batch.next_seq)?;
                batch.next_seq += staged.num_rows() as i64;
                batch.changes += staged.num_rows() as u64;
                batch.open = true;
                batch.started.get_or_insert_with(Instant::now);
                self.first_change.get_or_insert_with(Instant::now);
                batch.bytes += batch.pending(&table).push(staged)?;
                let number = batch.number;
                let pending = batch.pending(&table);
                if pending.buffered_bytes >= SPILL_BYTES {
                    spill(&self.stage, &self.session, number, &table, pending).await?;
                }
            }
            ChangeEvent::Truncate { tables } => {
                for table in tables {
                    let Some(capture) = self.captures.get(&table) else {
                        continue;
                    };
                    let row = capture.truncate_row(batch.next_seq)?;
                    batch.next_seq += 1;
                    batch.open = true;
                    batch.started.get_or_insert_with(Instant::now);
                    batch.bytes += batch.pending(&table).push(row)?;
                }
            }
            ChangeEvent::Table { table, renamed } => {
                // A schema change is applied to the target (and its definition saved) as it
                // arrives, ahead of the checkpoint. At a transaction boundary, the changes before
                // it are applied first, so that the checkpoint never lies before a schema change
                // the target already has: a resumed stream would replay rows of the old shape
                // (for MySQL, with a dropped column whose type nobody knows any more).
                self.settle(ack).await?;
                if !batch.open {
                    self.apply_now(batch, ack).await?;
                }
                // Mid-transaction, each staged object holds one definition of the table: write out
                // what was gathered under the old one.
                let number = batch.number;
                if let Some(pending) = batch.tables.get_mut(&table.name) {
                    spill(&self.stage, &self.session, number, &table.name, pending).await?;
                }
                self.table_changed(table, &renamed).await?
            }
            // A transaction without a change of a captured table (of other tables, or migrate's
            // own checkpoint where the target is the source database) makes no batch: its
            // position is released like an idle stream's. A batch for it would write a
            // checkpoint, and in one database that write would come back as another such
            // transaction, without end.
            ChangeEvent::Commit { position, .. } if batch.holds_nothing() => {
                self.release(position, batch, ack);
            }
            ChangeEvent::Commit {
                position,
                committed_at,
            } => {
                batch.commit = Some((position, committed_at));
                batch.open = false;
                batch.started.get_or_insert_with(Instant::now);
            }
            ChangeEvent::Idle { position, .. } => self.release(position, batch, ack),
        }
        Ok(())
    }

    /// Nothing of ours is in flight: the source may release its log up to `position`. (Not
    /// while a batch is being applied: it is not durable yet.)
    fn release(&self, position: Position, batch: &Batch, ack: &watch::Sender<Position>) {
        if batch.holds_nothing() && self.in_flight.is_empty() {
            let _ = ack.send(position);
        }
    }

    /// A table's columns changed on the source (`renamed`: the renames the source is sure of),
    /// or a new table appeared.
    async fn table_changed(
        &mut self,
        table: Table,
        renamed: &[(String, String)],
    ) -> Result<(), ReplicateError> {
        let Some(capture) = capture_of(self.task, &self.source, &table)? else {
            return Ok(());
        };
        captures_own_writes(self.task, self.same_database, &capture.load)?;
        let dialect = self.source.dialect();
        match self.captures.get(&table.name) {
            Some(old) => {
                let renamed =
                    target_renames(old, &capture, renamed, crate::target_dialect(self.task));
                let actions = self
                    .warehouse
                    .evolve_table(
                        &old.load.target,
                        &capture.load.target,
                        &renamed,
                        dialect,
                        self.cdc.schema_changes,
                    )
                    .await?;
                for action in actions {
                    tracing::info!(table = %table.name, "schema change applied: {action}");
                }
            }
            None => {
                // In one database, a target that is there already is a table of the user's
                // (one of this task's would have been captured from the start): preparing it
                // would drop or empty it.
                if self.same_database && self.warehouse.table_exists(&capture.load.target).await? {
                    return Err(ReplicateError::Unsupported {
                        message: format!(
                            "{}, a new table, would be captured into {}, a table of the source database that this task did not create (the source and the target are the same database): preparing it would drop or empty it",
                            table.name,
                            capture.load.label()
                        ),
                        action: crate::INTO_ANOTHER_TABLE.into(),
                    });
                }
                let findings = self
                    .warehouse
                    .prepare(
                        &capture.load.target,
                        dialect,
                        crate::target::prep_mode(self.task.target_table_prep_mode),
                    )
                    .await?;
                tracing::info!(table = %table.name, findings = findings.len(), "new table captured");
                // The run's summary lists the warnings it logged: a CHECK left out of the new
                // table must not go unreported.
                for finding in findings.iter().filter(|f| f.severity >= Severity::Warning) {
                    tracing::warn!(table = %table.name, "{finding}");
                }
            }
        }
        self.warehouse
            .save_cdc_table(&self.options.task_name, &table)
            .await?;
        self.captures.insert(table.name.clone(), capture);
        Ok(())
    }

    /// Whether a batch may be handed to the apply: none is in flight, or one is and it is staged
    /// in the target already (batches are written one at a time, and one waits staged at most).
    fn can_start(&self) -> bool {
        match self.in_flight.len() {
            0 => true,
            1 => self.in_flight[0].staged.fired,
            _ => false,
        }
    }

    /// Hands the batch up to its last commit (it holds no open transaction here) to a task that
    /// applies it, and starts the next batch.
    fn start_apply(&mut self, batch: &mut Batch) {
        let next = Batch::new(batch.number + 1);
        let batch = std::mem::replace(batch, next);
        let targets = batch
            .order
            .iter()
            .filter_map(|table| {
                self.captures.get(table).map(|capture| {
                    (
                        table.clone(),
                        capture.load.target.clone(),
                        Arc::clone(&capture.schema),
                    )
                })
            })
            .collect();
        let (staged_tx, staged_rx) = oneshot::channel();
        let (durable_tx, durable_rx) = oneshot::channel();
        let job = ApplyJob {
            warehouse: Arc::clone(&self.warehouse),
            shards: Arc::clone(&self.shards),
            stager: Arc::clone(&self.stager),
            staged: staged_tx,
            previous: self.in_flight.back_mut().and_then(|b| b.durable.take()),
            durable: durable_tx,
            stage: self.stage.clone(),
            task_name: self.options.task_name.clone(),
            session: self.session.clone(),
            batch,
            targets,
        };
        self.in_flight.push_back(InFlight {
            staged: Signal {
                receiver: staged_rx,
                fired: false,
            },
            durable: Some(durable_rx),
            task: AbortOnDrop(tokio::spawn(apply_batch(job))),
        });
    }

    /// Waits for the batches being applied, oldest first; stops at the first that failed (it is
    /// no longer in flight then).
    async fn settle(&mut self, ack: &watch::Sender<Position>) -> Result<(), ReplicateError> {
        while let Some(oldest) = self.in_flight.front_mut() {
            let applied = join_task(&mut oldest.task).await;
            self.in_flight.pop_front();
            self.record(applied?, ack);
        }
        Ok(())
    }

    /// Applies everything committed so far and waits for it.
    async fn apply_now(
        &mut self,
        batch: &mut Batch,
        ack: &watch::Sender<Position>,
    ) -> Result<(), ReplicateError> {
        self.settle(ack).await?;
        if batch.commit.is_some() {
            self.start_apply(batch);
            self.settle(ack).await?;
        }
        Ok(())
    }

    /// Takes note of a durable batch: the source may forget it now.
    fn record(&mut self, applied: Applied, ack: &watch::Sender<Position>) {
        let _ = ack.send(applied.position.clone());
        self.sequence = applied.number;
        self.position = applied.position.clone();
        self.summary.batches += 1;
        self.summary.changes += applied.changes;
        self.summary.position = Some(applied.position.0.clone());
        self.summary.lag_seconds = applied.committed_at.map(seconds_since);
        let elapsed = self
            .first_change
            .map_or(0.0, |t| t.elapsed().as_secs_f64())
            .max(1e-3);
        self.summary.changes_per_second = self.summary.changes as f64 / elapsed;
        self.observer.cdc_status(&CdcStatus {
            position: applied.position.0,
            batches: self.summary.batches,
            changes: self.summary.changes,
            changes_per_second: self.summary.changes_per_second,
            source_lag_seconds: since_micros(self.source_time.load(Ordering::Relaxed)),
            target_lag_seconds: self.summary.lag_seconds,
        });
    }
}

/// A connection to the target, retried as `retry` says while the server is not reachable (a
/// restart, a dropped connection); see [`RetryPolicy::connect`] for `stop`.
async fn connect_target(
    target_url: &str,
    retry: &RetryPolicy,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<PostgresWarehouse, ReplicateError> {
    retry
        .connect("connecting to the target", stop, |_| {
            PostgresWarehouse::connect(target_url)
        })
        .await
}

/// The connections that write batches besides `warehouse`: `apply_connections - 1` of them,
/// once the target is found to allow a prepared transaction per connection.
async fn apply_shards(
    warehouse: &PostgresWarehouse,
    target_url: &str,
    apply_connections: usize,
    retry: &RetryPolicy,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<Vec<PostgresWarehouse>, ReplicateError> {
    if apply_connections <= 1 {
        return Ok(Vec::new());
    }
    let allowed = warehouse.max_prepared_transactions().await?;
    if allowed < apply_connections as u64 {
        return Err(ReplicateError::Unsupported {
            message: format!(
                "--apply-connections {apply_connections} commits each batch as {apply_connections} prepared transactions, but the target {} allows {allowed} (max_prepared_transactions)",
                warehouse.endpoint()
            ),
            action: format!(
                "set max_prepared_transactions to at least {apply_connections} in the target's postgresql.conf and restart it, or use --apply-connections 1"
            ),
        });
    }
    let mut shards = Vec::with_capacity(apply_connections - 1);
    for _ in 1..apply_connections {
        shards.push(connect_target(target_url, retry, stop).await?);
    }
    Ok(shards)
}

/// Writes a table's buffered changes to staging.
async fn spill(
    stage: &Stage,
    session: &str,
    batch: u64,
    table: &QualifiedName,
    pending: &mut Pending,
) -> Result<(), ReplicateError> {
    if pending.buffered.is_empty() {
        return Ok(());
    }
    let batches = std::mem::take(&mut pending.buffered);
    pending.buffered_bytes = 0;
    pending.small = 0;
    let schema = batches[0].schema();
    let key = ChunkKey {
        table: format!(
            "{CDC_PREFIX}{batch:09}-{session}-{}",
            crate::path_safe(&table.to_string())
        ),
        chunk: pending.staged.len() as u64,
        attempt: 0,
    };
    let object = stage
        .write_chunk(
            &key,
            schema,
            futures::stream::iter(batches.into_iter().map(Ok::<_, ReplicateError>)),
            Format::Parquet,
        )
        .await?;
    pending.staged.push(object);
    Ok(())
}

/// Applies a batch up to its last commit in one target transaction (every table and the
/// checkpoint), then deletes its staged objects.
async fn apply_batch(job: ApplyJob) -> Result<Applied, ReplicateError> {
    let ApplyJob {
        warehouse,
        shards,
        stager,
        staged,
        previous,
        durable,
        stage,
        task_name,
        session,
        mut batch,
        targets,
    } = job;
    let Some((position, committed_at)) = batch.commit.clone() else {
        return Err(ReplicateError::State {
            table: String::new(),
            message: "a change batch without a commit was handed to the apply".into(),
            action: "report this as a bug in migrate".into(),
        });
    };
    for (table, _, _) in &targets {
        if let Some(pending) = batch.tables.get_mut(table) {
            spill(&stage, &session, batch.number, table, pending).await?;
        }
    }
    let mut changes = Vec::new();
    for (table, target, schema) in targets {
        let Some(pending) = batch.tables.get(&table) else {
            continue;
        };
        let reader = stage.clone();
        let objects = pending.staged.clone();
        let stream = futures::stream::iter(objects)
            .flat_map(move |object| reader.read_chunk(&object))
            .map(move |batch| {
                batch.map_err(ReplicateError::from).and_then(|b| {
                    conform(&b, &schema).map_err(|e| ReplicateError::State {
                        table: String::new(),
                        message: format!("staged changes don't fit the table: {e}"),
                        action: "report this as a bug in migrate".into(),
                    })
                })
            });
        changes.push(TableChanges {
            table: target,
            changes: Box::pin(stream),
        });
    }
    let in_target = stager
        .stage_changes(&task_name, batch.number, changes)
        .await?;
    let _ = staged.send(());
    if let Some(previous) = previous {
        previous.await.map_err(|_| ReplicateError::State {
            table: String::new(),
            message: format!(
                "change batch {} was staged, but the batch before it failed",
                batch.number
            ),
            action: "it is applied again when capture resumes".into(),
        })?;
    }
    let shards: Vec<&PostgresWarehouse> = shards.iter().collect();
    let outcome = warehouse
        .write_changes(&shards, in_target, &position.0, committed_at)
        .await?;
    let _ = durable.send(());
    tracing::debug!(batch = batch.number, ?outcome, "batch applied");
    for pending in batch.tables.values() {
        for object in &pending.staged {
            if let Ok(path) = object_store::path::Path::parse(&object.path) {
                if let Err(e) = stage.store().delete(&path).await {
                    tracing::warn!("deleting applied staged changes {}: {e}", object.url);
                }
            }
        }
    }
    Ok(Applied {
        number: batch.number,
        changes: batch.changes,
        position,
        committed_at,
    })
}

/// The result of a batch's apply task.
async fn join_task(
    task: &mut AbortOnDrop<Result<Applied, ReplicateError>>,
) -> Result<Applied, ReplicateError> {
    match (&mut task.0).await {
        Ok(result) => result,
        Err(e) => Err(ReplicateError::State {
            table: String::new(),
            message: format!("the task applying a change batch ended abnormally: {e}"),
            action: "run again to resume; report this as a bug in migrate".into(),
        }),
    }
}

/// Aborts a task when dropped: the reader and the apply must not outlive their session.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Seconds from `micros` (since the epoch; 0: unknown) to now, 0 when it lies ahead (clocks of
/// two hosts).
fn since_micros(micros: u64) -> Option<f64> {
    (micros > 0).then(|| seconds_since(SystemTime::UNIX_EPOCH + Duration::from_micros(micros)))
}

/// `t` in microseconds since the epoch (what [`since_micros`] takes); `None` before it.
fn epoch_micros(t: SystemTime) -> Option<u64> {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_micros() as u64)
}

/// Seconds from the source time `t` to now: 0 for a time ahead of this host's clock (the
/// source's clock is ahead), as the lags are reported.
fn seconds_since(t: SystemTime) -> f64 {
    SystemTime::now()
        .duration_since(t)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Reads events ahead into `events`, acknowledging what `acks` says is durable, and records in
/// `source_time` the source time reading has reached.
async fn read_events<C: ChangeStream>(
    mut stream: C,
    events: mpsc::Sender<Result<(ChangeEvent, ReadAhead), ReplicateError>>,
    mut acks: watch::Receiver<Position>,
    source_time: Arc<AtomicU64>,
) {
    let allowance = Arc::new(Semaphore::new(READ_AHEAD_KIB as usize));
    // Whether a commit was read since the last Idle event. An Idle reports the server's clock,
    // but its position is only what was delivered: behind during a catch-up. Only an Idle that
    // follows another with no commit between them shows the stream is caught up.
    let mut committed_since_idle = true;
    loop {
        if acks.has_changed().unwrap_or(false) {
            let position = acks.borrow_and_update().clone();
            if let Err(e) = stream.acknowledge(&position).await {
                let _ = events
                    .send(Err(ReplicateError::source("acknowledging a position")(e)))
                    .await;
                return;
            }
        }
        let next = stream
            .next_event()
            .await
            .map_err(ReplicateError::source("reading changes"));
        match next {
            Ok(Some(event)) => {
                let reached = match &event {
                    ChangeEvent::Commit { committed_at, .. } => {
                        committed_since_idle = true;
                        *committed_at
                    }
                    ChangeEvent::Idle { server_time, .. } => {
                        let caught_up = !committed_since_idle;
                        committed_since_idle = false;
                        server_time.filter(|_| caught_up)
                    }
                    _ => None,
                };
                if let Some(micros) = reached.and_then(epoch_micros) {
                    source_time.fetch_max(micros, Ordering::Relaxed);
                }
                let kib = match &event {
                    ChangeEvent::Rows { changes, .. } => {
                        u32::try_from(value_bytes(changes) >> 10).unwrap_or(u32::MAX)
                    }
                    _ => 0,
                };
                // One event larger than the whole allowance still goes, alone.
                let Ok(permit) = Arc::clone(&allowance)
                    .acquire_many_owned(kib.min(READ_AHEAD_KIB))
                    .await
                else {
                    return;
                };
                if events.send(Ok((event, permit))).await.is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = events.send(Err(e)).await;
                return;
            }
        }
    }
}

/// The share of the read-ahead memory an event holds until the batcher has taken it.
type ReadAhead = tokio::sync::OwnedSemaphorePermit;

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    /// A one-row batch whose buffers are sized for 1,024 rows, as sources build them.
    fn one_row(i: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("v", DataType::Utf8, true),
        ]));
        let mut ids = arrow_array::builder::Int64Builder::with_capacity(1024);
        let mut values = arrow_array::builder::StringBuilder::with_capacity(1024, 64 * 1024);
        ids.append_value(i);
        values.append_value(format!("value {i}"));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(ids.finish()), Arc::new(values.finish())],
        )
        .unwrap()
    }

    #[test]
    fn one_row_transactions_are_merged_and_counted_by_their_values() {
        let mut pending = Pending {
            staged: Vec::new(),
            buffered: Vec::new(),
            buffered_bytes: 0,
            small: 0,
        };
        let capacity_bytes = one_row(0).get_array_memory_size();
        let mut counted = 0;
        for i in 0..600 {
            counted += pending.push(one_row(i)).unwrap();
        }
        // Two merges of 256 batches, 88 small ones left.
        assert_eq!(pending.buffered.len(), 2 + 88);
        assert_eq!(pending.buffered[0].num_rows(), 256);
        assert_eq!(pending.buffered_bytes, counted);
        assert!(
            counted < 600 * capacity_bytes / 100,
            "{counted} bytes counted for 600 one-row batches (capacity {capacity_bytes} each)"
        );
        // Rows keep their order through the merges.
        let ids: Vec<i64> = pending
            .buffered
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(ids, (0..600).collect::<Vec<_>>());
        let last = pending.buffered.last().unwrap();
        let v = last
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(v.value(0), "value 599");
    }

    #[test]
    fn a_large_batch_is_left_as_it_is() {
        let mut pending = Pending {
            staged: Vec::new(),
            buffered: Vec::new(),
            buffered_bytes: 0,
            small: 0,
        };
        for i in 0..255 {
            pending.push(one_row(i)).unwrap();
        }
        let big = arrow::compute::concat_batches(
            &one_row(0).schema(),
            &(0..2000).map(one_row).collect::<Vec<_>>(),
        )
        .unwrap();
        pending.push(big).unwrap();
        // The large batch ended the run of small ones: nothing was merged.
        pending.push(one_row(1)).unwrap();
        assert_eq!(pending.buffered.len(), 257);
    }

    /// A stream that delivers the given events, then ends.
    struct Scripted(VecDeque<ChangeEvent>);

    impl ChangeStream for Scripted {
        type Error = ReplicateError;

        async fn next_event(&mut self) -> Result<Option<ChangeEvent>, ReplicateError> {
            Ok(self.0.pop_front())
        }

        async fn acknowledge(&mut self, _position: &Position) -> Result<(), ReplicateError> {
            Ok(())
        }
    }

    #[test]
    fn a_source_clock_ahead_of_ours_is_no_lag_and_one_behind_is() {
        let ahead = SystemTime::now() + Duration::from_secs(30);
        assert_eq!(seconds_since(ahead), 0.0);
        let behind = SystemTime::now() - Duration::from_secs(30);
        assert!((30.0..40.0).contains(&seconds_since(behind)));
        assert_eq!(since_micros(epoch_micros(ahead).unwrap_or(0)), Some(0.0));
        assert!(since_micros(epoch_micros(behind).unwrap_or(0))
            .is_some_and(|s| (30.0..40.0).contains(&s)));
        assert_eq!(since_micros(0), None);
    }

    #[tokio::test]
    async fn the_source_lag_follows_commits_read_and_an_idle_stream_is_caught_up() {
        let at = |seconds: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
        let commit = |seconds| ChangeEvent::Commit {
            position: Position(format!("c{seconds}")),
            committed_at: Some(at(seconds)),
        };
        let idle = |seconds| ChangeEvent::Idle {
            position: Position(format!("i{seconds}")),
            server_time: Some(at(seconds)),
        };
        // Reads `events` as the capture does and returns the source time reached, in seconds.
        async fn reached(events: Vec<ChangeEvent>) -> u64 {
            let source_time = Arc::new(AtomicU64::new(0));
            // Held open while reading: the events go nowhere else.
            let (events_tx, _events_rx) = mpsc::channel(16);
            let (_ack_tx, ack_rx) = watch::channel(Position("start".into()));
            read_events(
                Scripted(events.into()),
                events_tx,
                ack_rx,
                Arc::clone(&source_time),
            )
            .await;
            source_time.load(Ordering::Relaxed) / 1_000_000
        }
        // Commits read: their times.
        assert_eq!(reached(vec![commit(100), commit(105)]).await, 105);
        // An Idle right after commits may come mid catch-up (its position is only what was
        // delivered): its server clock is not taken.
        assert_eq!(reached(vec![commit(100), idle(500)]).await, 100);
        // A second Idle with no commit between: caught up.
        assert_eq!(reached(vec![commit(100), idle(500), idle(501)]).await, 501);
        // New commits after that never move it back.
        assert_eq!(
            reached(vec![
                commit(100),
                idle(500),
                idle(501),
                commit(502),
                commit(300)
            ])
            .await,
            502
        );
    }
}
