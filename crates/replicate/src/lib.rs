//! `migrate replicate` and `migrate validate`: the full load of a [`ValidatedTask`] from any
//! [`migrate_source::Source`] through staging into PostgreSQL (or Redshift), resumable, and its
//! validation.
//!
//! ```text
//! discover ─► TableMappings::plan ─► per table (parallel_tables at once):
//!   plan chunks (or reuse the recorded plan) ─► prepare the target ─► record the plan
//!   per chunk (a few at once): Snapshot::read_chunk ─► Stage::write_chunk ─► manifest (last)
//!                              ─► load: COPY from the staged objects + checkpoint, one transaction
//!   validate: row counts and checksums per chunk, differing keys when they differ
//! ```
//!
//! **Durability and resume.** A chunk is loaded exactly when its checkpoint row commits, in the
//! same transaction as its rows (`migrate_warehouse`). Before any chunk of a table loads, the
//! table's plan (mapping fingerprint, every chunk's bounds, the run id naming its staged objects)
//! is recorded in `migrate.migrate_table_state`. A later run of the same task finds it, does
//! **not** prepare the table again, reuses the recorded chunks and loads only those without a
//! checkpoint; so a run killed at any point resumes without losing or duplicating a row. A
//! changed plan is refused unless `restart` is set (then the table is prepared and loaded from
//! scratch). Chunks already staged with a committed manifest are loaded from staging, not read
//! again, except one whose rows the target refused: its manifest is withdrawn (`refused`).
//!
//! **Consistency.** One source snapshot serves every chunk read and validation checksum of a
//! run; a resumed run reads the remaining chunks in its own snapshot.
//!
//! **Memory** is bounded whatever the table size: per running chunk, two record batches between
//! reader and stager, one Parquet row group and upload part, and the same on the load side.
//!
//! Nothing here prints: progress goes to an [`Observer`], logs to `tracing`, results into the
//! [`Summary`].

mod cdc;
mod error;
mod expr;
mod load;
mod objects;
mod pipe;
mod preflight;
pub mod redshift;
mod refused;
mod retry;
mod summary;
mod table;
mod target;
mod verify;

pub use cdc::{replicate_cdc, CdcOptions, CdcStatus, CdcSummary};
pub use error::{BoxError, ReplicateError};
pub use expr::{translate as translate_expression, ExpressionError};
pub use migrate_warehouse::SchemaChangePolicy;
pub use retry::RetryPolicy;
pub use summary::{
    Difference, DifferenceKind, Observer, Quiet, Summary, TableStatus, TableSummary, Validation,
    ValidationStatus,
};

use load::Run;
use migrate_core::{Catalog, Finding, Ident, QualifiedName, Table, TargetDialect};
use migrate_source::{Snapshot, Source};
use migrate_sqlrewrite::{stored_ident, target_ident, target_name};
use migrate_stage::{Format, Stage, StageOptions};
use migrate_task::{DatabaseUrl, Engine, StagingFormat, StagingUrl, ValidatedTask};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use table::{RecordedPlan, TableLoad};
use target::Target;
use tokio::sync::watch;

/// How long a run waits for its task's lock while another session holds it (a killed run's
/// sessions hold it until the server ends them, see `PostgresWarehouse::lock_task`).
const TASK_LOCK_WAIT: Duration = Duration::from_secs(15);

/// Takes `lock` on `warehouse` for this run, waiting [`TASK_LOCK_WAIT`]; while another run
/// still holds it, the error says that run is `doing` (into the target) and what to do.
async fn claim_task(
    warehouse: &migrate_warehouse::PostgresWarehouse,
    lock: &str,
    doing: String,
    what_to_do: &str,
) -> Result<(), ReplicateError> {
    if warehouse.lock_task(lock, TASK_LOCK_WAIT).await? {
        return Ok(());
    }
    Err(ReplicateError::Unsupported {
        message: format!("another run of {doing} {}", warehouse.endpoint()),
        action: format!(
            "{what_to_do} (waited {} s for it)",
            TASK_LOCK_WAIT.as_secs()
        ),
    })
}

/// How a run behaves beyond what the task file says.
#[derive(Debug, Clone)]
pub struct Options {
    /// The task's identity: the `task` of its checkpoints and table states. See [`task_name`].
    pub task_name: String,
    /// Load every table from scratch even where a load was recorded (the prep mode applies).
    pub restart: bool,
    /// Differing rows listed per table by validation (all are counted).
    pub max_differences: usize,
    pub retry: RetryPolicy,
    /// Rows per record batch read from the source.
    pub batch_rows: usize,
    /// Chunks of one table loading at once.
    pub chunks_per_table: usize,
    /// Becomes true when the run should stop (SIGINT / SIGTERM): the full load starts no new
    /// table or chunk and finishes those being loaded; change capture applies what it read.
    pub stop: watch::Receiver<bool>,
}

impl Options {
    pub fn new(task_name: String) -> Options {
        Options {
            task_name,
            restart: false,
            max_differences: 20,
            retry: RetryPolicy::default(),
            batch_rows: 8192,
            chunks_per_table: 4,
            // Never fires: its sender is gone.
            stop: watch::channel(false).1,
        }
    }

    /// Whether a stop was asked for.
    pub fn stopping(&self) -> bool {
        *self.stop.borrow()
    }
}

/// A task's identity: `explicit` (`--name`), else the task file's stem, else a stable hash of
/// the source and target (host, port, database, user: never the password).
pub fn task_name(
    explicit: Option<&str>,
    task_file: Option<&Path>,
    source: &DatabaseUrl,
    target: &DatabaseUrl,
) -> String {
    if let Some(name) = explicit.filter(|n| !n.trim().is_empty()) {
        return name.to_string();
    }
    if let Some(stem) = task_file
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
    {
        return stem;
    }
    // Display replaces the password by `***`: the hash does not depend on it.
    let endpoints = format!("{source} -> {target}");
    format!("task-{:08x}", crc32c::crc32c(endpoints.as_bytes()))
}

/// The URL a connector gets: the task's URL with the password, or `PGPASSWORD` / `MYSQL_PWD`.
pub fn connection_url(url: &DatabaseUrl) -> String {
    let variable = match url.engine() {
        Engine::Postgres | Engine::Redshift => "PGPASSWORD",
        Engine::Mysql => "MYSQL_PWD",
    };
    url.connection_url(std::env::var(variable).ok().as_deref())
}

/// `name` usable as one segment of a staging path: letters, digits, `.`, `_` and `-` kept,
/// anything else `_`.
pub(crate) fn path_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The staging location of a task: `<staging>/<task name>`.
pub fn staging_location(task: &ValidatedTask, task_name: &str) -> String {
    let safe = path_safe(task_name);
    match &task.staging.location {
        StagingUrl::Local(dir) => dir.join(safe).display().to_string(),
        StagingUrl::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}/{safe}"),
        StagingUrl::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}/{safe}"),
    }
}

fn open_stage(task: &ValidatedTask, task_name: &str) -> Result<Stage, ReplicateError> {
    let options = StageOptions {
        endpoint: task.staging.endpoint.clone(),
        allow_http: task
            .staging
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://")),
        // Small row groups and parts: several chunks stage at once, each holding one of each.
        row_group_bytes: 16 << 20,
        part_bytes: 8 << 20,
        ..StageOptions::default()
    };
    Ok(Stage::from_url(
        &staging_location(task, task_name),
        options,
    )?)
}

/// Connects to the source; see [`RetryPolicy::connect`] for `stop`.
async fn connect<S: Source>(
    task: &ValidatedTask,
    retry: &RetryPolicy,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<S, ReplicateError> {
    let url = connection_url(&task.source);
    retry
        .connect(&format!("connecting to {}", task.source), stop, |_| async {
            S::connect(&url)
                .await
                .map_err(ReplicateError::source(format!(
                    "connecting to the source {}",
                    task.source
                )))
        })
        .await
}

/// The tables of a plan, in load order, and its findings.
#[derive(Clone)]
struct Planned {
    /// A table whose read can't be built (an untranslatable expression) fails alone.
    loads: Vec<Result<TableLoad, Box<TableSummary>>>,
    findings: Vec<Finding>,
    /// The source and the target are one database ([`same_database`]).
    same_database: bool,
    /// The schemas (MySQL: databases) of the selected tables.
    schemas: Vec<String>,
}

fn plan_tables<S: Source>(
    task: &ValidatedTask,
    source: &S,
    catalog: &Catalog,
    same_database: bool,
) -> Result<Planned, ReplicateError> {
    let plan = task.mappings.plan(catalog)?;
    // Refused before anything is done (a capture's slot created, a summary of nothing that
    // says "every table loaded"): most often a selection rule that names what the source
    // spells otherwise, or the wrong database.
    if plan.tables.is_empty() {
        return Err(ReplicateError::Unsupported {
            message: format!(
                "the table mapping selects no table of {}: there is nothing to do",
                source.endpoint()
            ),
            action: "check the selection rules (schema and table names as the source spells them) and the source database".into(),
        });
    }
    let quote = |name: &str| source.quote_ident(name);
    let exact = |name: &QualifiedName| {
        let schema = name.schema.as_ref().map(|s| s.value.clone());
        (schema, name.name.value.clone())
    };
    let dialect = target_dialect(task);
    let stored = |name: &QualifiedName| {
        let schema = name
            .schema
            .as_ref()
            .map(|s| stored_ident(&s.value, dialect));
        (schema, stored_ident(&name.name.value, dialect))
    };
    let source_tables: std::collections::HashSet<_> =
        catalog.tables.iter().map(|t| exact(&t.name)).collect();
    let selected_tables: std::collections::HashSet<_> =
        plan.tables.iter().map(|t| exact(&t.source)).collect();
    let mut loads: Vec<Result<TableLoad, Box<TableSummary>>> = plan
        .tables
        .iter()
        .map(|table_plan| {
            catalog
                .tables
                .iter()
                .find(|t| t.name == table_plan.source)
                .ok_or_else(|| ReplicateError::State {
                    table: table_plan.source.to_string(),
                    message: "the mapping planned a table discovery did not report".into(),
                    action: "report this as a bug in migrate".into(),
                })
                .and_then(|table| {
                    TableLoad::new(
                        table_plan,
                        table,
                        source.dialect(),
                        dialect,
                        &quote,
                    )
                })
                .and_then(|mut load| {
                    // Preparing the target table would drop or empty a table of the source:
                    // this one, or another the task loads (`"Foo"` loads into `foo`). Names are
                    // compared as the server stores them: the target's folded, the source's
                    // exact.
                    let target = stored(&load.target.name);
                    if !same_database || !source_tables.contains(&target) {
                        return Ok(load);
                    }
                    let message = if target == exact(&load.source.name) {
                        format!(
                            "{} would load into itself: the source and the target are the same database",
                            load.source.name
                        )
                    } else if selected_tables.contains(&target) {
                        format!(
                            "{} would load into {}, a table this task loads too (the source and the target are the same database)",
                            load.source.name,
                            target_name(&load.target.name, dialect)
                        )
                    } else {
                        // An earlier run's target (a resume), or a table of the user's: the
                        // load tells them apart by the task's table state.
                        load.target_is_unselected_source_table = true;
                        return Ok(load);
                    };
                    Err(ReplicateError::Unsupported {
                        message,
                        action: INTO_ANOTHER_TABLE.into(),
                    })
                })
                .map_err(|e| {
                    Box::new(failed_table(
                        table_plan.source.to_string(),
                        target_name(&table_plan.target.name, dialect),
                        &e,
                    ))
                })
        })
        .collect();
    fail_colliding_targets(task, &mut loads);
    let mut findings = about_selected_tables(&catalog.findings, catalog, &plan.tables);
    findings.extend(plan.findings);
    let schemas: std::collections::BTreeSet<String> = plan
        .tables
        .iter()
        .filter_map(|t| t.source.schema.as_ref().map(|s| s.value.clone()))
        .collect();
    Ok(Planned {
        loads,
        findings,
        same_database,
        schemas: schemas.into_iter().collect(),
    })
}

/// The discovery `findings` that are not about a table of `catalog` the mapping left out (a
/// finding's object is a table, `schema.table`, one of its columns, `schema.table.column`, or
/// one of its constraints, `schema.table constraint c`),
/// nor about a column it removed, nor, for a `type.` finding (about the type the converter
/// gives a column), about a column whose type a `change-data-type` rule replaced.
fn about_selected_tables(
    findings: &[Finding],
    catalog: &Catalog,
    planned: &[migrate_task::TablePlan],
) -> Vec<Finding> {
    // Each catalog table's name, and whether the mapping selected it: one lookup per prefix of
    // an object, not a scan of the catalog per finding.
    let plans: std::collections::HashMap<&QualifiedName, &migrate_task::TablePlan> =
        planned.iter().map(|p| (&p.source, p)).collect();
    let selected: std::collections::HashMap<String, bool> = catalog
        .tables
        .iter()
        .map(|t| (t.name.to_string(), plans.contains_key(&t.name)))
        .collect();
    // The selected tables' columns that a finding may no longer be true of, by object: `false`
    // for one the mapping removed, `true` for one it gave another type.
    let mapped_away: std::collections::HashMap<String, bool> = catalog
        .tables
        .iter()
        .filter_map(|t| plans.get(&t.name).map(|plan| (t, plan)))
        .flat_map(|(table, plan)| {
            table.columns.iter().filter_map(move |column| {
                let target = plan
                    .columns
                    .iter()
                    .zip(&plan.target.columns)
                    .find(|(m, _)| m.source.as_ref() == Some(&column.name))
                    .map(|(_, target)| target);
                let retyped = match target {
                    None => false,
                    Some(target) if target.data_type != column.data_type => true,
                    Some(_) => return None,
                };
                Some((format!("{}.{}", table.name, column.name.value), retyped))
            })
        })
        .collect();
    findings
        .iter()
        .filter(|finding| {
            let object = finding.object.as_str();
            match mapped_away.get(object) {
                Some(false) => return false,
                Some(true) if finding.code.starts_with("type.") => return false,
                _ => {}
            }
            // The longest prefix that ends at a dot or a space (or the whole object) and names a
            // table: `s.t` and `s.t.x` could both be tables' names, and a constraint is
            // `s.t constraint c`.
            let ends = object
                .match_indices(['.', ' '])
                .map(|(at, _)| at)
                .chain([object.len()]);
            let mut table = None;
            for end in ends {
                if let Some(&chosen) = selected.get(&object[..end]) {
                    table = Some(chosen);
                }
            }
            table.unwrap_or(true)
        })
        .cloned()
        .collect()
}

/// Fails every table whose target table has the same name in the target as another's: names
/// that differ only in case, or only beyond the target's identifier length (63 bytes in
/// PostgreSQL), are one table there, and the second load would replace or mix with the first.
/// The same goes for two columns of one table (`"A"` and `a`), which no load could fill.
fn fail_colliding_targets(
    task: &ValidatedTask,
    loads: &mut [Result<TableLoad, Box<TableSummary>>],
) {
    let dialect = target_dialect(task);
    let mut tables: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for load in loads.iter().flatten() {
        tables
            .entry(load.label())
            .or_default()
            .push(load.source.name.to_string());
    }
    for slot in loads.iter_mut() {
        let Ok(load) = slot else { continue };
        let target = load.label();
        let sources = &tables[&target];
        let error = if sources.len() > 1 {
            ReplicateError::Unsupported {
                message: format!(
                    "{} all load into target table {target} (names that differ only in case or beyond the target's identifier length are one name there)",
                    sources.join(", ")
                ),
                action: "give each a target name of its own with a rename transformation rule".into(),
            }
        } else if let Some((first, second, column)) = colliding_columns(&load.target, dialect) {
            ReplicateError::Unsupported {
                message: format!(
                    "columns {first} and {second} both load into column {column} of target table {target} (names that differ only in case or beyond the target's identifier length are one name there)"
                ),
                action: "give one of them a target name of its own with a rename transformation rule (rule-target column)".into(),
            }
        } else {
            continue;
        };
        *slot = Err(Box::new(failed_table(
            load.source.name.to_string(),
            target,
            &error,
        )));
    }
}

/// The dialect of the task's target.
pub(crate) fn target_dialect(task: &ValidatedTask) -> TargetDialect {
    match task.target.url.engine() {
        Engine::Redshift => TargetDialect::Redshift,
        _ => TargetDialect::Postgres,
    }
}

/// The first two columns of `table` that have one name in the target, and that name.
fn colliding_columns(table: &Table, dialect: TargetDialect) -> Option<(&Ident, &Ident, String)> {
    let mut seen: std::collections::HashMap<String, &Ident> = std::collections::HashMap::new();
    for column in &table.columns {
        let name = target_ident(&column.name.value, column.name.quoted, dialect).sql;
        if let Some(first) = seen.get(&name) {
            return Some((first, &column.name, name));
        }
        seen.insert(name, &column.name);
    }
    None
}

/// What to do about a target table that is a table of the source database.
const INTO_ANOTHER_TABLE: &str =
    "rename the target table (or schema) in the table mapping, or load into another database";

/// Source and target are the same database of the same server: their URLs name it alike, or,
/// for PostgreSQL, the servers say so ([`migrate_pgconn::database_identity`]: `localhost` and
/// `127.0.0.1` are one server). When a server can't be asked, the URLs decide: a target that
/// can't be reached fails the run soon after anyway.
async fn same_database(task: &ValidatedTask) -> bool {
    let (a, b) = (&task.source, &task.target.url);
    if a.engine() != b.engine() {
        return false;
    }
    if a.host().eq_ignore_ascii_case(b.host())
        && a.port() == b.port()
        && a.database() == b.database()
    {
        return true;
    }
    if a.engine() != Engine::Postgres {
        return false;
    }
    let (source, target) = (connection_url(a), connection_url(b));
    let (source, target) = tokio::join!(
        migrate_pgconn::database_identity(&source),
        migrate_pgconn::database_identity(&target)
    );
    match (source, target) {
        (Ok(source), Ok(target)) => source == target,
        (source, target) => {
            let error = source
                .err()
                .or(target.err())
                .map(|e| e.to_string())
                .unwrap_or_default();
            tracing::warn!("could not ask the servers whether the source and the target are one database ({error}); their URLs differ, so they are taken as two");
            false
        }
    }
}

fn failed_table(source: String, target: String, error: &ReplicateError) -> TableSummary {
    let mut summary = TableSummary::new(source, target, TableStatus::Failed);
    summary.error = Some(error.to_string());
    summary
}

fn ok(tables: &[TableSummary]) -> bool {
    tables.iter().all(|t| {
        matches!(
            t.status,
            TableStatus::Loaded | TableStatus::Compared | TableStatus::Captured
        ) && t
            .validation
            .as_ref()
            .is_none_or(|v| v.status == ValidationStatus::Passed)
    })
}

/// Connects to the source, reads its catalog and applies the task's table mapping to it.
async fn connect_and_plan<S: Source>(
    task: &ValidatedTask,
    options: &Options,
) -> Result<(S, Planned), ReplicateError> {
    let source: S = connect(task, &options.retry, Some(&options.stop)).await?;
    let catalog = source
        .discover(None)
        .await
        .map_err(ReplicateError::source(format!(
            "discovering {}",
            source.endpoint()
        )))?;
    let planned = plan_tables(task, &source, &catalog, same_database(task).await)?;
    Ok((source, planned))
}

/// Runs the full load of `task` from a source of type `S`.
///
/// Errors that stop the whole run (the source, staging or target can't be reached, the mapping
/// can't be applied) are returned; a table's own failure is its summary's status, and the other
/// tables go on.
pub async fn replicate<S: Source>(
    task: &ValidatedTask,
    options: Options,
    observer: Arc<dyn Observer>,
) -> Result<Summary, ReplicateError> {
    let (source, mut planned) = connect_and_plan::<S>(task, &options).await?;
    planned
        .findings
        .extend(objects::not_copied(task, &source, &planned).await);
    let workers = workers(task, &options);
    let snapshot = source
        .snapshot(workers)
        .await
        .map_err(ReplicateError::source(format!(
            "opening a snapshot of {}",
            source.endpoint()
        )))?;
    full_load(task, options, observer, source, planned, snapshot).await
}

/// Connections a full load uses on each side.
fn workers(task: &ValidatedTask, options: &Options) -> usize {
    (task.parallel_tables as usize).max(options.chunks_per_table)
}

/// The full load of the `planned` tables from `snapshot` (opened for [`workers`] readers).
async fn full_load<S: Source>(
    task: &ValidatedTask,
    options: Options,
    observer: Arc<dyn Observer>,
    source: S,
    planned: Planned,
    snapshot: S::Snapshot,
) -> Result<Summary, ReplicateError> {
    let started = Instant::now();
    let Planned {
        loads,
        mut findings,
        ..
    } = planned;
    let workers = workers(task, &options);
    let stage = open_stage(task, &options.task_name)?;
    // Before any target table is prepared (dropped, emptied): a stage that can't be written
    // would otherwise fail every chunk after that.
    stage.check_writable().await?;
    let target = match task.target.url.engine() {
        Engine::Redshift => {
            let access =
                task.target
                    .redshift
                    .as_ref()
                    .ok_or_else(|| ReplicateError::Unsupported {
                        message: "a Redshift target without access settings".into(),
                        action: "validate the task first".into(),
                    })?;
            Target::Redshift(redshift::RedshiftTarget::new(
                task.target.url.to_string(),
                access,
            )?)
        }
        _ => {
            let target = Target::postgres(
                &connection_url(&task.target.url),
                workers,
                &options.retry,
                &options.stop,
            )
            .await?;
            // One run of a task at a time: its chunks, manifests and checkpoints have one writer.
            if let Some(warehouses) = target.warehouses() {
                claim_task(
                    &*warehouses.get().await?,
                    &options.task_name,
                    format!("task {} is loading into", options.task_name),
                    "wait for it to finish, or give this run another --name",
                )
                .await?;
            }
            target
        }
    };
    let format = match task.staging.format {
        StagingFormat::Parquet => Format::Parquet,
        StagingFormat::Csv => Format::CsvGzip,
    };
    let staging = staging_location(task, &options.task_name);
    let task_name = options.task_name.clone();
    let run = Arc::new(Run {
        task: options.task_name.clone(),
        dialect: source.dialect(),
        source,
        snapshot,
        stage,
        target,
        format,
        mode: task.target_table_prep_mode,
        chunk_rows: task.chunk_rows,
        validate: task.validate,
        options,
        observer,
        workers: tokio::sync::Semaphore::new(workers),
    });
    let planned: Vec<(String, Option<u64>)> = loads
        .iter()
        .filter_map(|load| load.as_ref().ok())
        .map(|load| {
            (
                load.label(),
                load.source.statistics.as_ref().and_then(|s| s.row_count),
            )
        })
        .collect();
    run.observer.planned(&planned);
    let mut tables = Vec::new();
    let mut jobs = Vec::new();
    for load in loads {
        match load {
            Ok(load) => jobs.push(Arc::clone(&run).table(Arc::new(load))),
            Err(summary) => {
                run.observer.table_finished(&summary);
                tables.push(*summary);
            }
        }
    }
    let mut results = futures::StreamExt::buffer_unordered(
        futures::stream::iter(jobs),
        task.parallel_tables as usize,
    );
    while let Some((summary, table_findings)) = futures::StreamExt::next(&mut results).await {
        tables.push(summary);
        findings.extend(table_findings);
    }
    drop(results);
    let target_name = run.target.endpoint();
    let source_name = run.source.endpoint().to_string();
    let unfinished = tables
        .iter()
        .filter(|t| t.status == TableStatus::Interrupted)
        .count();
    let interrupted = (unfinished > 0).then(|| {
        format!("stopped by a signal before {unfinished} table(s) were loaded: run the same command again to resume (the chunks loaded are kept)")
    });
    if let Ok(run) = Arc::try_unwrap(run) {
        if let Err(e) = run.snapshot.close().await {
            tracing::warn!("closing the source snapshot: {e}");
        }
    }
    Ok(Summary {
        task: task_name,
        command: "replicate",
        source: source_name,
        target: target_name,
        staging: Some(staging),
        // An interrupted table is not ok: `interrupted` needs no test of its own.
        ok: ok(&tables),
        tables,
        findings,
        seconds: started.elapsed().as_secs_f64(),
        interrupted,
        cdc: None,
    })
}

/// Compares every table of `task` in the source (a new snapshot) with the target, per chunk of
/// the plan recorded by its load (or a new plan when none is recorded).
pub async fn validate<S: Source>(
    task: &ValidatedTask,
    options: Options,
    observer: Arc<dyn Observer>,
) -> Result<Summary, ReplicateError> {
    let started = Instant::now();
    if task.target.url.engine() == Engine::Redshift {
        return Err(ReplicateError::Unsupported {
            message: "migrate can't connect to Redshift, so it can't validate a Redshift target"
                .into(),
            action: "validate a PostgreSQL target".into(),
        });
    }
    let (source, planned) = connect_and_plan::<S>(task, &options).await?;
    let Planned {
        loads, findings, ..
    } = planned;
    let parallel = (task.parallel_tables as usize).max(1);
    let target = Target::postgres(
        &connection_url(&task.target.url),
        parallel,
        &options.retry,
        &options.stop,
    )
    .await?;
    let warehouses = target
        .warehouses()
        .ok_or_else(|| ReplicateError::Unsupported {
            message: "only PostgreSQL targets can be validated".into(),
            action: "validate a PostgreSQL target".into(),
        })?;
    let snapshot = source
        .snapshot(parallel)
        .await
        .map_err(ReplicateError::source(format!(
            "opening a snapshot of {}",
            source.endpoint()
        )))?;
    let mut tables = Vec::new();
    let mut jobs = Vec::new();
    for load in loads {
        match load {
            Ok(load) => jobs.push(validate_one(
                &source,
                &snapshot,
                warehouses,
                load,
                &options,
                task.chunk_rows,
                &*observer,
            )),
            Err(summary) => tables.push(*summary),
        }
    }
    let mut results = futures::StreamExt::buffer_unordered(futures::stream::iter(jobs), parallel);
    while let Some(summary) = futures::StreamExt::next(&mut results).await {
        observer.table_finished(&summary);
        tables.push(summary);
    }
    drop(results);
    if let Err(e) = snapshot.close().await {
        tracing::warn!("closing the source snapshot: {e}");
    }
    Ok(Summary {
        task: options.task_name.clone(),
        command: "validate",
        source: source.endpoint().to_string(),
        target: target.endpoint(),
        staging: None,
        ok: ok(&tables),
        tables,
        findings,
        seconds: started.elapsed().as_secs_f64(),
        interrupted: None,
        cdc: None,
    })
}

async fn validate_one<S: Source>(
    source: &S,
    snapshot: &S::Snapshot,
    warehouses: &target::Warehouses,
    load: TableLoad,
    options: &Options,
    chunk_rows: u64,
    observer: &dyn Observer,
) -> TableSummary {
    let started = Instant::now();
    let label = load.label();
    observer.validating(&label);
    let chunks = async {
        // The chunks the load recorded, when its mapping is the current one (whatever its
        // chunk size); else a new plan.
        let state = warehouses
            .get()
            .await?
            .table_state(&options.task_name, &load.target)
            .await?;
        if let Some(state) = state {
            match RecordedPlan::parse(&state.plan, &label) {
                Ok(recorded) if recorded.description == load.description => {
                    return Ok(recorded.chunks());
                }
                Ok(_) => tracing::info!("{label}: the mapping changed since the load: new chunks"),
                Err(e) => tracing::warn!("{e}; validating with new chunks"),
            }
        }
        source
            .plan_chunks(&load.source, chunk_rows)
            .await
            .map_err(ReplicateError::source(format!(
                "planning the chunks of {}",
                load.source.name
            )))
    }
    .await;
    let mut summary = TableSummary::new(load.source.name.to_string(), label, TableStatus::Compared);
    match chunks {
        Ok(chunks) => {
            summary.chunks = chunks.len() as u32;
            let validation = verify::validate(
                snapshot,
                warehouses,
                &load,
                &chunks,
                options.max_differences,
                &options.retry,
            )
            .await;
            summary.rows = validation.target_rows;
            summary.validation = Some(validation);
        }
        Err(e) => {
            summary.status = TableStatus::Failed;
            summary.error = Some(e.to_string());
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary
}
