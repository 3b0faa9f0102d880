//! The full load of one table: its plan (new, or recorded by the run that started it), then its
//! chunks in parallel, each read from the snapshot, staged with its manifest and loaded once.

use crate::pipe::{forward, spawned};
use crate::refused::refused_chunk;
use crate::summary::{TableStatus, TableSummary};
use crate::table::{RecordedPlan, TableLoad};
use crate::target::Target;
use crate::verify;
use crate::{Observer, Options, ReplicateError};
use arrow::datatypes::Schema;
use migrate_core::{Finding, Retry, SourceDialect};
use migrate_source::{Chunk, Snapshot, Source};
use migrate_stage::{ChunkKey, Format, ManifestKey, Stage, StageError};
use migrate_task::PrepMode;
use migrate_warehouse::WarehouseError;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// Attempts at writing one chunk object before giving up: each failed write leaves its attempt
/// number used (the stage never overwrites), so this bounds objects left by crashed runs.
const MAX_STAGE_ATTEMPTS: u32 = 1000;

/// Everything the tables of a run share.
pub(crate) struct Run<S: Source> {
    pub task: String,
    pub source: S,
    pub snapshot: S::Snapshot,
    pub stage: Stage,
    pub target: Target,
    pub format: Format,
    pub mode: PrepMode,
    pub dialect: SourceDialect,
    pub chunk_rows: u64,
    pub validate: bool,
    pub options: Options,
    pub observer: Arc<dyn Observer>,
    /// Chunk loads running at once, over all tables.
    pub workers: Semaphore,
}

/// What one chunk job did.
enum ChunkDone {
    Loaded {
        rows: u64,
        bytes: u64,
    },
    /// Its checkpoint existed: loaded by an earlier run.
    AlreadyLoaded {
        rows: u64,
    },
    /// Not started: another chunk of the table failed.
    Cancelled,
    /// Not started: the run is stopping.
    Interrupted,
}

impl<S: Source> Run<S> {
    /// Loads (and validates) one table; never fails: a failure is the summary's status.
    pub async fn table(self: Arc<Self>, load: Arc<TableLoad>) -> (TableSummary, Vec<Finding>) {
        let started = Instant::now();
        let mut summary = TableSummary::new(
            load.source.name.to_string(),
            load.label(),
            TableStatus::Loaded,
        );
        let mut findings = Vec::new();
        if self.options.stopping() {
            // Nothing of it was touched (not even prepared).
            summary.status = TableStatus::Interrupted;
            self.observer.table_finished(&summary);
            return (summary, findings);
        }
        tracing::info!("{}: loading into {}", summary.source, summary.target);
        match self.load_table(&load, &mut summary, &mut findings).await {
            Ok(None) => summary.status = TableStatus::Interrupted,
            Ok(Some(chunks)) => {
                if let Target::Redshift(_) = self.target {
                    summary.status = TableStatus::Staged;
                } else if self.validate {
                    self.observer.validating(&load.label());
                    summary.validation = Some(verify::validate_table(&*self, &load, &chunks).await);
                }
            }
            Err(e) => {
                tracing::error!("{e}");
                summary.status = TableStatus::Failed;
                summary.error = Some(e.to_string());
            }
        }
        summary.seconds = started.elapsed().as_secs_f64();
        summary.rows_per_second = if summary.seconds > 0.0 {
            summary.rows_loaded as f64 / summary.seconds
        } else {
            0.0
        };
        self.observer.table_finished(&summary);
        (summary, findings)
    }

    /// Plans or resumes the table, loads its missing chunks, and returns its chunks; `None`
    /// when the run stopped before every chunk was loaded.
    async fn load_table(
        self: &Arc<Self>,
        load: &Arc<TableLoad>,
        summary: &mut TableSummary,
        findings: &mut Vec<Finding>,
    ) -> Result<Option<Vec<Chunk>>, ReplicateError> {
        let label = load.label();
        let retry = &self.options.retry;
        let state = retry
            .run(&format!("{label}: reading its state"), |_| {
                self.target.table_state(&self.task, &load.target)
            })
            .await?;
        let (chunks, run, completed) = match state {
            Some(state) if !self.options.restart => {
                let recorded = RecordedPlan::parse(&state.plan, &label)?;
                if recorded.description != load.description
                    || recorded.chunk_rows != self.chunk_rows
                {
                    return Err(ReplicateError::PlanChanged {
                        table: label,
                        recorded: state.fingerprint,
                        current: load.fingerprint(self.chunk_rows),
                        what: if recorded.description != load.description {
                            "the mapping or the source table changed".into()
                        } else {
                            format!(
                                "chunk_rows was {}, it is {} now",
                                recorded.chunk_rows, self.chunk_rows
                            )
                        },
                    });
                }
                let chunks = recorded.chunks();
                let completed: BTreeSet<u32> = if state.completed_at.is_some() {
                    chunks.iter().map(|c| c.index).collect()
                } else {
                    self.completed_chunks(load).await?
                };
                tracing::info!(
                    "{label}: resuming the load started at {}: {} of {} chunks loaded",
                    state.prepared_at,
                    completed.len(),
                    chunks.len()
                );
                (chunks, recorded.run, completed)
            }
            None if load.target_is_unselected_source_table => {
                return Err(ReplicateError::Unsupported {
                    message: format!(
                        "{} would load into {}, a table of the source database that this task did not create (the source and the target are the same database): preparing it would drop or empty it",
                        load.source.name, label
                    ),
                    action: crate::INTO_ANOTHER_TABLE.into(),
                });
            }
            state => {
                if state.is_some()
                    && self.mode == PrepMode::DoNothing
                    && !self.completed_chunks(load).await?.is_empty()
                {
                    return Err(ReplicateError::State {
                        table: label,
                        message: "--restart with target_table_prep_mode DO_NOTHING would load the rows of the chunks loaded before a second time".into(),
                        action: "restart with DROP_AND_CREATE or TRUNCATE_BEFORE_LOAD, or resume without --restart".into(),
                    });
                }
                if let Target::Postgres(_) = self.target {
                    crate::preflight::refuse_wide_keys(&self.source, load).await?;
                }
                let chunks = retry
                    .run(&format!("{label}: planning chunks"), |_| async {
                        self.source
                            .plan_chunks(&load.source, self.chunk_rows)
                            .await
                            .map_err(ReplicateError::source(format!(
                                "planning the chunks of {}",
                                load.source.name
                            )))
                    })
                    .await?;
                let run = new_run_id();
                let segment = segment(load, &run);
                findings.extend(
                    retry
                        .run(&format!("{label}: preparing the target table"), |_| {
                            self.target.prepare(
                                &load.target,
                                self.dialect,
                                self.mode,
                                &self.stage,
                                &segment,
                            )
                        })
                        .await?,
                );
                let plan = RecordedPlan::new(
                    run.clone(),
                    load.description.clone(),
                    self.chunk_rows,
                    &chunks,
                )
                .to_json();
                let fingerprint = load.fingerprint(self.chunk_rows);
                retry
                    .run(&format!("{label}: recording its plan"), |_| {
                        self.target
                            .start_table(&self.task, &load.target, &fingerprint, &plan)
                    })
                    .await?;
                (chunks, run, BTreeSet::new())
            }
        };
        let segment: Arc<str> = segment(load, &run).into();
        if let Target::Redshift(_) = self.target {
            summary.redshift_sql = Some(crate::redshift::sql_url(&self.stage, &segment));
        }
        summary.chunks = chunks.len() as u32;
        summary.chunks_skipped = completed.len() as u32;
        self.observer.table_started(
            &label,
            summary.chunks,
            summary.chunks_skipped,
            load.source.statistics.as_ref().and_then(|s| s.row_count),
        );

        let stop = Arc::new(AtomicBool::new(false));
        let pending: Vec<Chunk> = chunks
            .iter()
            .filter(|c| !completed.contains(&c.index))
            .cloned()
            .collect();
        let jobs = pending.into_iter().map(|chunk| {
            let label = label.clone();
            let run = Arc::clone(self);
            let job = run.chunk(
                Arc::clone(load),
                chunk.clone(),
                Arc::clone(&segment),
                Arc::clone(&stop),
            );
            async move {
                tokio::spawn(job).await.unwrap_or_else(|e| {
                    Err(ReplicateError::Pipeline {
                        table: label,
                        chunk: chunk.index,
                        message: format!("the chunk's task failed: {e}"),
                        retry: migrate_core::Retry::Definite,
                    })
                })
            }
        });
        let mut results = futures::StreamExt::buffer_unordered(
            futures::stream::iter(jobs),
            self.options.chunks_per_table.max(1),
        );
        let mut first_error = None;
        let mut interrupted = false;
        while let Some(result) = futures::StreamExt::next(&mut results).await {
            match result {
                Ok(ChunkDone::Loaded { rows, bytes }) => {
                    summary.chunks_loaded += 1;
                    summary.rows_loaded += rows;
                    summary.bytes_staged += bytes;
                    self.observer.chunk_done(&label, rows, bytes, false);
                }
                Ok(ChunkDone::AlreadyLoaded { rows }) => {
                    summary.chunks_skipped += 1;
                    self.observer.chunk_done(&label, rows, 0, true);
                }
                Ok(ChunkDone::Cancelled) => {}
                Ok(ChunkDone::Interrupted) => interrupted = true,
                Err(e) => {
                    stop.store(true, Ordering::SeqCst);
                    first_error.get_or_insert(e);
                }
            }
        }
        if first_error.is_some() || interrupted {
            summary.rows = self
                .loaded_rows(load)
                .await
                .unwrap_or(None)
                .unwrap_or(summary.rows_loaded);
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        if interrupted {
            tracing::info!(
                "{label}: stopped after {} of {} chunks",
                summary.chunks_loaded + summary.chunks_skipped,
                summary.chunks
            );
            return Ok(None);
        }
        retry
            .run(&format!("{label}: recording its end"), |_| {
                self.target.complete_table(&self.task, &load.target)
            })
            .await?;
        summary.rows = self.loaded_rows(load).await?.unwrap_or(summary.rows_loaded);
        tracing::info!(
            "{label}: {} chunks loaded, {} skipped, {} rows",
            summary.chunks_loaded,
            summary.chunks_skipped,
            summary.rows
        );
        Ok(Some(chunks))
    }

    /// Rows the target holds from this task for the table (its checkpoints' sum); `None` for
    /// Redshift, whose checkpoints migrate can't read.
    async fn loaded_rows(&self, load: &TableLoad) -> Result<Option<u64>, ReplicateError> {
        let Some(warehouses) = self.target.warehouses() else {
            return Ok(None);
        };
        let what = format!("{}: counting its loaded rows", load.label());
        self.options
            .retry
            .run(&what, |_| async {
                Ok(Some(
                    warehouses
                        .get()
                        .await?
                        .loaded_rows(&self.task, &load.target)
                        .await?,
                ))
            })
            .await
    }

    async fn completed_chunks(&self, load: &TableLoad) -> Result<BTreeSet<u32>, ReplicateError> {
        let what = format!("{}: reading its checkpoints", load.label());
        self.options
            .retry
            .run(&what, |_| {
                self.target.completed_chunks(&self.task, &load.target)
            })
            .await
    }

    /// One chunk, retried while its errors are transient.
    async fn chunk(
        self: Arc<Self>,
        load: Arc<TableLoad>,
        chunk: Chunk,
        segment: Arc<str>,
        stop: Arc<AtomicBool>,
    ) -> Result<ChunkDone, ReplicateError> {
        let _worker = self.workers.acquire().await;
        if stop.load(Ordering::SeqCst) {
            return Ok(ChunkDone::Cancelled);
        }
        if self.options.stopping() {
            return Ok(ChunkDone::Interrupted);
        }
        let what = format!("{}, chunk {}", load.label(), chunk.index);
        self.options
            .retry
            .run(&what, |_| self.chunk_attempt(&load, &chunk, &segment))
            .await
    }

    async fn chunk_attempt(
        self: &Arc<Self>,
        load: &Arc<TableLoad>,
        chunk: &Chunk,
        segment: &str,
    ) -> Result<ChunkDone, ReplicateError> {
        let key = ManifestKey {
            table: segment.to_string(),
            batch: u64::from(chunk.index),
        };
        // A manifest committed by an earlier attempt or run of the same plan is reused: its
        // objects are complete and verified when read.
        let (manifest, bytes, reused) = match self.stage.read_manifest(&key).await {
            Ok(manifest) => (manifest, 0, true),
            Err(e) if not_found(&e) => {
                let object = self.stage_chunk(load, chunk, segment).await?;
                let bytes = object.bytes;
                match self
                    .stage
                    .write_manifest(&key, std::slice::from_ref(&object))
                    .await
                {
                    Ok(manifest) => (manifest, bytes, false),
                    Err(StageError::AlreadyExists { .. }) => {
                        match self.stage.read_manifest(&key).await {
                            Ok(manifest) => (manifest, bytes, false),
                            // A run killed between the manifest's two writes left its sidecar:
                            // this run is the key's only writer, so it discards it and commits.
                            Err(e) if not_found(&e) => {
                                self.stage.discard_uncommitted_manifest(&key).await?;
                                let manifest = self.stage.write_manifest(&key, &[object]).await?;
                                (manifest, bytes, false)
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        let outcome = match self
            .target
            .load(
                &self.task,
                &load.target,
                chunk.index,
                &manifest,
                &self.stage,
                segment,
            )
            .await
        {
            // Rows the target refused: their staged copy must not be loaded again.
            // A staged copy that does not read back as written (its objects gone, cut short or
            // replaced) is withdrawn: one an earlier run or attempt committed is read from the
            // source again at once (a rerun failed on it forever); this attempt's own fails the
            // chunk, and the next run reads it again.
            Err(ReplicateError::Warehouse(
                e @ WarehouseError::Source {
                    retry: Retry::Definite,
                    ..
                },
            )) => {
                if let Err(discard) = self.stage.discard_manifest(&key).await {
                    // The error to report is the unreadable copy, not the failed withdrawal.
                    tracing::warn!(
                        "{}, chunk {}: its staged copy can't be read back and could not be withdrawn ({discard}): run with --restart",
                        load.label(),
                        chunk.index
                    );
                    return Err(e.into());
                }
                if !reused {
                    return Err(e.into());
                }
                tracing::warn!(
                    "{}, chunk {}: its staged copy can't be read back ({e}): read from the source again",
                    load.label(),
                    chunk.index
                );
                return Box::pin(self.chunk_attempt(load, chunk, segment)).await;
            }
            Err(ReplicateError::Warehouse(e)) => {
                return Err(match e.bad_row() {
                    Some(bad) => {
                        refused_chunk(&self.stage, &key, &manifest, load, chunk.index, bad).await
                    }
                    None => e.into(),
                })
            }
            other => other?,
        };
        tracing::debug!(
            "{}, chunk {}: {} rows {}",
            load.label(),
            chunk.index,
            outcome.rows,
            if outcome.skipped_already_loaded {
                "were loaded before"
            } else {
                "loaded"
            }
        );
        Ok(if outcome.skipped_already_loaded {
            ChunkDone::AlreadyLoaded { rows: outcome.rows }
        } else {
            ChunkDone::Loaded {
                rows: outcome.rows,
                bytes,
            }
        })
    }

    /// Reads the chunk from the snapshot into a new staged object (the next free attempt).
    async fn stage_chunk(
        self: &Arc<Self>,
        load: &Arc<TableLoad>,
        chunk: &Chunk,
        segment: &str,
    ) -> Result<migrate_stage::ChunkObject, ReplicateError> {
        let schema = Arc::new(Schema::new(
            load.read
                .columns
                .iter()
                .map(|c| migrate_batch::field(&c.name, &c.data_type, c.nullable))
                .collect::<Vec<_>>(),
        ));
        // Redshift has no infinite dates or timestamps: a row holding one is refused before it
        // is staged, named by its place in the chunk and its key (or all its values).
        let redshift_key: Option<Arc<[usize]>> =
            matches!(self.target, Target::Redshift(_)).then(|| {
                let key = load.target.primary_key().unwrap_or_default();
                key.iter()
                    .filter_map(|k| load.read.columns.iter().position(|c| c.name == k.value))
                    .collect()
            });
        for attempt in 0..MAX_STAGE_ATTEMPTS {
            let key = ChunkKey {
                table: segment.to_string(),
                chunk: u64::from(chunk.index),
                attempt,
            };
            let run = Arc::clone(self);
            let reading = Arc::clone(load);
            let part = chunk.clone();
            let redshift_key = redshift_key.clone();
            let batches = spawned((load.label(), chunk.index), move |tx| async move {
                let doing = format!("reading chunk {} of {}", part.index, reading.source.name);
                let batches = run
                    .snapshot
                    .read_chunk(&reading.read, &part, run.options.batch_rows);
                let staging = format!(
                    "staging chunk {} of {} for Redshift",
                    part.index, reading.source.name
                );
                let mut rows_before = 0u64;
                let batches = futures::StreamExt::map(batches, move |batch| {
                    let batch = batch.map_err(ReplicateError::source(doing.clone()))?;
                    if let Some(key) = &redshift_key {
                        migrate_warehouse::redshift::refuse_infinities(&batch, key, rows_before)
                            .map_err(ReplicateError::source(staging.clone()))?;
                        rows_before += batch.num_rows() as u64;
                    }
                    Ok(batch)
                });
                forward(batches, tx, |e| e).await
            });
            match self
                .stage
                .write_chunk(&key, Arc::clone(&schema), batches, self.format)
                .await
            {
                Err(StageError::AlreadyExists { .. }) => continue,
                // The input's own error, not the stage's wrapping of it.
                Err(StageError::Input { source, .. }) => {
                    return Err(match source.downcast::<ReplicateError>() {
                        Ok(e) => *e,
                        Err(other) => ReplicateError::Source {
                            doing: format!("reading chunk {} of {}", chunk.index, load.source.name),
                            retry: migrate_core::Retry::Definite,
                            source: other,
                        },
                    })
                }
                other => return Ok(other?),
            }
        }
        Err(ReplicateError::State {
            table: load.label(),
            message: format!(
                "{MAX_STAGE_ATTEMPTS} staged attempts of chunk {} exist already",
                chunk.index
            ),
            action: "remove the task's staging directory, then run again".into(),
        })
    }
}

fn not_found(e: &StageError) -> bool {
    matches!(
        e,
        StageError::Store {
            error: object_store::Error::NotFound { .. },
            ..
        }
    )
}

/// A new run id: the time in microseconds, in hex. Runs of a table under one task start at
/// least a prepare apart, so ids never repeat.
fn new_run_id() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{micros:x}")
}

/// The staging path segment of a table's run: its target name made path-safe, a hash of the
/// exact name (two names that look alike once made safe stay apart) and the run id.
pub(crate) fn segment(load: &TableLoad, run: &str) -> String {
    let name = load.target.name.to_string();
    let safe = crate::path_safe(&name);
    format!("{safe}-{:08x}-{run}", crc32c::crc32c(name.as_bytes()))
}
