//! `migrate replicate` and `migrate validate`: flags into a validated task, the run on the
//! source engine's implementation, the summary as text or JSON.

use crate::convert::OutputFormat;
use crate::progress::{Bars, ProgressMode};
use crate::warnings::WithWarnings;
use crate::Outcome;
use anyhow::{bail, Context, Result};
use clap::{ArgAction, Args, ValueEnum};
use migrate_core::Severity;
use migrate_replicate::{
    CdcOptions, DifferenceKind, Observer, Options, ReplicateError, SchemaChangePolicy, Summary,
    TableStatus, TableSummary, ValidationStatus,
};
use migrate_source::{Position, Source};
use migrate_task::{Engine, PrepMode, StagingFormat, Task, TaskOverrides, ValidatedTask};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::SignalKind;

#[derive(Args)]
pub struct ReplicateArgs {
    #[command(flatten)]
    common: Common,
    /// Where rows wait between source and target: a directory or s3://bucket/prefix.
    #[arg(long, value_name = "URL")]
    staging: Option<String>,
    /// An S3-compatible endpoint for s3:// staging (http://127.0.0.1:8333).
    #[arg(long, value_name = "URL")]
    staging_endpoint: Option<String>,
    /// Format of the staged files.
    #[arg(long, value_enum, value_name = "FORMAT")]
    staging_format: Option<StagingFormatArg>,
    /// What happens to existing target tables: DROP_AND_CREATE, TRUNCATE_BEFORE_LOAD or DO_NOTHING.
    #[arg(long, value_name = "MODE")]
    prep_mode: Option<PrepMode>,
    // allow_negative_numbers on numeric flags: `--chunk-rows -5` is then refused as this
    // flag's value ("invalid value '-5' for '--chunk-rows <N>'"), not as an unknown argument.
    /// Tables loading at once.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    parallel_tables: Option<u32>,
    /// Rows per chunk (one staged file and one checkpoint each).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    chunk_rows: Option<u64>,
    /// Compare source and target after the load (the default).
    #[arg(long, action = ArgAction::SetTrue, overrides_with = "no_validate")]
    validate: bool,
    /// Don't compare source and target after the load.
    #[arg(long, action = ArgAction::SetTrue)]
    no_validate: bool,
    /// Load every table from scratch, even where a load of this task was recorded.
    #[arg(long)]
    restart: bool,
    /// When progress bars are drawn on standard error.
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressMode,
    #[command(flatten)]
    cdc: CdcArgs,
}

/// Change data capture.
#[derive(Args)]
struct CdcArgs {
    /// After the full load, replicate changes continuously (until SIGINT / SIGTERM), with no gap
    /// and no overlap; a later run resumes where the last one stopped.
    #[arg(long)]
    cdc: bool,
    /// Replicate changes only, from --from (no full load).
    #[arg(long, requires = "from", conflicts_with = "cdc")]
    cdc_only: bool,
    /// Where --cdc-only starts: a PostgreSQL LSN (16/B374D848) or a binlog position
    /// (mariadb-bin.000012:4567).
    #[arg(long, value_name = "POSITION", requires = "cdc_only")]
    from: Option<String>,
    /// A change batch is applied at the first commit after it is this many seconds old...
    #[arg(
        long,
        value_name = "SECONDS",
        default_value = "1",
        allow_negative_numbers = true
    )]
    batch_seconds: f64,
    /// ...or holds this many MiB of changes.
    #[arg(
        long,
        value_name = "MIB",
        default_value = "64",
        allow_negative_numbers = true
    )]
    batch_mib: usize,
    /// Connections that write each change batch together, committed by two-phase commit (the
    /// target needs max_prepared_transactions >= N). One more connection stages the next batch.
    #[arg(
        long,
        value_name = "N",
        default_value = "1",
        allow_negative_numbers = true
    )]
    apply_connections: usize,
    /// What a source ADD / DROP COLUMN (and a MySQL/MariaDB RENAME COLUMN) does: apply it to the
    /// target, or stop the task.
    #[arg(long, value_enum, default_value = "apply")]
    schema_changes: SchemaChangesArg,
    /// Stop once no change arrived for this many seconds (a catch-up run, e.g. in CI).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    stop_when_idle: Option<f64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaChangesArg {
    Apply,
    Stop,
}

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    common: Common,
    /// Differing rows listed per table (all are counted).
    #[arg(
        long,
        value_name = "N",
        default_value = "20",
        allow_negative_numbers = true
    )]
    max_differences: usize,
}

/// Flags both commands take.
#[derive(Args)]
struct Common {
    /// The task file (task.toml); flags override its settings.
    #[arg(long, value_name = "FILE")]
    task: Option<PathBuf>,
    /// The source database: postgres://user@host:port/database or mysql://user@host:port/database (MySQL 8, MariaDB).
    #[arg(long, value_name = "URL")]
    source: Option<String>,
    /// The target database: postgres://... or redshift://...
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// An AWS DMS table-mapping JSON file.
    #[arg(long, value_name = "FILE")]
    table_mappings: Option<PathBuf>,
    /// The task's name: the identity its checkpoints are recorded under (default: the task
    /// file's name, else derived from source and target).
    // Not blank: `--name "$TASK"` with TASK unset would otherwise resume the default task.
    #[arg(long, value_name = "NAME", value_parser = task_name_value)]
    name: Option<String>,
    /// What the report on standard output looks like.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum StagingFormatArg {
    Parquet,
    Csv,
}

impl Common {
    /// The task file (or nothing) with the flags on top, validated.
    fn task(&self, mut overrides: TaskOverrides) -> Result<ValidatedTask> {
        overrides.source_url = self.source.clone().map(Into::into);
        overrides.target_url = self.target.clone().map(Into::into);
        overrides.table_mappings = self.table_mappings.clone();
        let task = match &self.task {
            Some(path) => Task::from_file(path)?.with_overrides(overrides),
            None => Task::from_overrides(overrides)?,
        };
        Ok(task.validate()?)
    }

    fn options(&self, task: &ValidatedTask) -> Options {
        Options::new(migrate_replicate::task_name(
            self.name.as_deref(),
            self.task.as_deref(),
            &task.source,
            &task.target.url,
        ))
    }
}

/// A `--name` that is not blank (clap's value parser).
fn task_name_value(name: &str) -> std::result::Result<String, String> {
    if name.trim().is_empty() {
        return Err("a task name can't be blank: give the name of the task to run or resume (or leave --name out for the default)".into());
    }
    Ok(name.to_string())
}

pub fn replicate(args: ReplicateArgs) -> Result<Outcome> {
    let validate = match (args.validate, args.no_validate) {
        (_, true) => Some(false),
        (true, false) => Some(true),
        (false, false) => None,
    };
    let task = args.common.task(TaskOverrides {
        staging_url: args.staging.clone().map(Into::into),
        staging_endpoint: args.staging_endpoint.clone(),
        staging_format: args.staging_format.map(|f| match f {
            StagingFormatArg::Parquet => StagingFormat::Parquet,
            StagingFormatArg::Csv => StagingFormat::Csv,
        }),
        target_table_prep_mode: args.prep_mode,
        parallel_tables: args.parallel_tables,
        chunk_rows: args.chunk_rows,
        validate,
        ..TaskOverrides::default()
    })?;
    let mut options = args.common.options(&task);
    options.restart = args.restart;
    let json = args.common.output == OutputFormat::Json;
    let bars = Arc::new(Bars::new(args.progress, json));
    tracing::info!(
        "replicate task {} from {} to {}",
        options.task_name,
        task.source,
        task.target.url
    );
    let summary = if args.cdc.cdc || args.cdc.cdc_only {
        let cdc = cdc_options(&args.cdc)?;
        match run_cdc(&task, options, cdc, bars.clone()) {
            Ok(summary) => summary,
            Err(error) => {
                // Capture stopped by an error after it started: what the run did is reported
                // before the error (exit code 2).
                if let Some(ReplicateError::CaptureStopped { summary, .. }) = error.downcast_ref() {
                    bars.finish();
                    report(summary, args.common.output)?;
                }
                return Err(error);
            }
        }
    } else {
        run(&task, Command::Replicate, options, bars.clone())?
    };
    bars.finish();
    report(&summary, args.common.output)
}

fn cdc_options(args: &CdcArgs) -> Result<CdcOptions> {
    let seconds = |value: f64, flag: &str| {
        if value.is_finite() && value > 0.0 {
            Ok(Duration::from_secs_f64(value))
        } else {
            bail!("{flag} must be a positive number of seconds, not {value}")
        }
    };
    if args.batch_mib == 0 {
        bail!("--batch-mib must be at least 1");
    }
    if !(1..=64).contains(&args.apply_connections) {
        bail!(
            "--apply-connections must be between 1 and 64, not {}",
            args.apply_connections
        );
    }
    Ok(CdcOptions {
        batch_time: seconds(args.batch_seconds, "--batch-seconds")?,
        batch_bytes: args.batch_mib << 20,
        schema_changes: match args.schema_changes {
            SchemaChangesArg::Apply => SchemaChangePolicy::Apply,
            SchemaChangesArg::Stop => SchemaChangePolicy::Stop,
        },
        from: args.from.clone().map(Position),
        stop_when_idle: args
            .stop_when_idle
            .map(|s| seconds(s, "--stop-when-idle"))
            .transpose()?,
        apply_connections: args.apply_connections,
    })
}

/// Listens for SIGINT and SIGTERM (call it inside the runtime): the first asks the run to stop
/// cleanly through the returned receiver; a second ends the process at once (exit code 130),
/// which loses nothing durable, as `kill -9` doesn't: the next run picks up from what is.
fn stop_on_signals(what: &'static str) -> Result<tokio::sync::watch::Receiver<bool>> {
    let mut interrupt =
        tokio::signal::unix::signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate =
        tokio::signal::unix::signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut signals = 0;
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            signals += 1;
            if signals == 1 {
                tracing::warn!("stopping: {what} (a second signal stops at once)");
                let _ = stop_tx.send(true);
            } else {
                eprintln!("migrate: stopped at once by a second signal; nothing durable is lost: run the same command again");
                std::process::exit(130);
            }
        }
    });
    Ok(stop)
}

/// Runs change capture on the source engine's implementation, stopping cleanly on SIGINT or
/// SIGTERM (the batch read so far is applied and checkpointed first).
fn run_cdc(
    task: &ValidatedTask,
    mut options: Options,
    cdc: CdcOptions,
    observer: Arc<dyn Observer>,
) -> Result<Summary> {
    let runtime = crate::runtime()?;
    let summary = runtime.block_on(async {
        options.stop = stop_on_signals(
            "applying the changes read so far (during the full load: finishing the chunks being loaded; before the first connections are made: ending the wait to retry them)",
        )?;
        let summary = match task.source.engine() {
            Engine::Postgres => {
                migrate_replicate::replicate_cdc::<migrate_source_postgres::PostgresSource>(
                    task, options, cdc, observer,
                )
                .await
            }
            Engine::Mysql => {
                migrate_replicate::replicate_cdc::<migrate_source_mysql::MysqlSource>(
                    task, options, cdc, observer,
                )
                .await
            }
            Engine::Redshift => bail!("Redshift is a target, not a source"),
        }?;
        anyhow::Ok(summary)
    })?;
    Ok(summary)
}

pub fn validate(args: ValidateArgs) -> Result<Outcome> {
    let task = args.common.task(TaskOverrides::default())?;
    let mut options = args.common.options(&task);
    options.max_differences = args.max_differences;
    let json = args.common.output == OutputFormat::Json;
    let bars = Arc::new(Bars::new(ProgressMode::Auto, json));
    let summary = run(&task, Command::Validate, options, bars.clone())?;
    bars.finish();
    report(&summary, args.common.output)
}

#[derive(Clone, Copy)]
enum Command {
    Replicate,
    Validate,
}

/// Runs `command` on the implementation of the source's engine: one match arm per engine.
fn run(
    task: &ValidatedTask,
    command: Command,
    options: Options,
    observer: Arc<dyn Observer>,
) -> Result<Summary> {
    match task.source.engine() {
        Engine::Postgres => {
            run_on::<migrate_source_postgres::PostgresSource>(task, command, options, observer)
        }
        Engine::Mysql => {
            run_on::<migrate_source_mysql::MysqlSource>(task, command, options, observer)
        }
        Engine::Redshift => bail!("Redshift is a target, not a source"),
    }
}

fn run_on<S: Source>(
    task: &ValidatedTask,
    command: Command,
    mut options: Options,
    observer: Arc<dyn Observer>,
) -> Result<Summary> {
    let runtime = crate::runtime()?;
    let summary = runtime.block_on(async {
        match command {
            Command::Replicate => {
                options.stop = stop_on_signals(
                    "finishing the chunks being loaded (before the first connections are made: ending the wait to retry them)",
                )?;
                anyhow::Ok(migrate_replicate::replicate::<S>(task, options, observer).await?)
            }
            Command::Validate => {
                Ok(migrate_replicate::validate::<S>(task, options, observer).await?)
            }
        }
    })?;
    Ok(summary)
}

fn report(summary: &Summary, output: OutputFormat) -> Result<Outcome> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let report = WithWarnings::new(summary);
    match output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).context("writing the summary")?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            print_text(summary, &mut out).context("writing the summary")?;
            report.print_count(&mut out)?;
        }
    }
    Ok(if summary.ok {
        Outcome::Clean
    } else {
        Outcome::NeedsAttention
    })
}

fn validation_cell(table: &TableSummary) -> String {
    match &table.validation {
        None => "-".into(),
        Some(v) => match v.status {
            ValidationStatus::Passed => "passed".into(),
            ValidationStatus::Failed => match (v.missing_in_target, v.extra_in_target, v.different)
            {
                (Some(missing), Some(extra), Some(different)) => {
                    format!("FAILED ({missing} missing, {extra} extra, {different} different)")
                }
                // No key: the rows can't be named, so they are not counted either.
                _ => format!("FAILED ({} of {} parts differ)", v.parts_differing, v.parts),
            },
            ValidationStatus::Error => "ERROR".into(),
        },
    }
}

fn status_cell(status: TableStatus) -> &'static str {
    match status {
        TableStatus::Loaded => "loaded",
        TableStatus::Staged => "staged",
        TableStatus::Failed => "FAILED",
        TableStatus::Compared => "compared",
        TableStatus::Captured => "captured",
        TableStatus::Interrupted => "interrupted",
    }
}

fn print_text(summary: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "migrate {} task {}: {} -> {}{}",
        summary.command,
        summary.task,
        summary.source,
        summary.target,
        summary
            .staging
            .as_deref()
            .map(|s| format!(" (staging {s})"))
            .unwrap_or_default()
    )?;
    let name = |t: &TableSummary| {
        if t.source == t.target {
            t.source.clone()
        } else {
            format!("{} -> {}", t.source, t.target)
        }
    };
    let (header, rows): (Vec<&str>, Vec<Vec<String>>) = if summary.command == "validate" {
        (
            vec![
                "table",
                "status",
                "source rows",
                "target rows",
                "parts",
                "differing",
                "seconds",
                "validation",
            ],
            summary
                .tables
                .iter()
                .map(|t| {
                    let v = t.validation.as_ref();
                    vec![
                        name(t),
                        status_cell(t.status).into(),
                        v.map_or(0, |v| v.source_rows).to_string(),
                        v.map_or(0, |v| v.target_rows).to_string(),
                        v.map_or(0, |v| v.parts).to_string(),
                        v.map_or(0, |v| v.parts_differing).to_string(),
                        format!("{:.1}", t.seconds),
                        validation_cell(t),
                    ]
                })
                .collect(),
        )
    } else {
        (
            vec![
                "table",
                "status",
                "rows",
                "chunks",
                "skipped",
                "staged MiB",
                "seconds",
                "rows/s",
                "validation",
            ],
            summary
                .tables
                .iter()
                .map(|t| {
                    vec![
                        name(t),
                        status_cell(t.status).into(),
                        // A captured table's rows are not counted by this run.
                        if t.status == TableStatus::Captured {
                            "-".into()
                        } else {
                            t.rows.to_string()
                        },
                        format!("{}/{}", t.chunks_loaded, t.chunks),
                        t.chunks_skipped.to_string(),
                        format!("{:.1}", t.bytes_staged as f64 / f64::from(1 << 20)),
                        format!("{:.1}", t.seconds),
                        format!("{:.0}", t.rows_per_second),
                        validation_cell(t),
                    ]
                })
                .collect(),
        )
    };
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let last = header.len() - 1;
    let line = |cells: Vec<&str>, out: &mut dyn Write| -> std::io::Result<()> {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                // Names, status and validation left, numbers right.
                if i < 2 || i == last {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        writeln!(out, "{}", text.join("  ").trim_end())
    };
    line(header.clone(), out)?;
    for row in &rows {
        line(row.iter().map(String::as_str).collect(), out)?;
    }
    for table in &summary.tables {
        if let Some(error) = &table.error {
            // Errors name their table.
            writeln!(out, "\n{error}")?;
        }
        if let Some(sql) = &table.redshift_sql {
            writeln!(
                out,
                "\n{}: staged; migrate can't reach Redshift: run the statements in {sql} (prepare.sql, then each chunk's file)",
                table.source
            )?;
        }
        if let Some(v) = &table.validation {
            if v.status != ValidationStatus::Passed {
                writeln!(
                    out,
                    "\n{}: validation {}: source {} rows, target {} rows, {} of {} parts differ",
                    table.source,
                    if v.status == ValidationStatus::Error {
                        "could not run"
                    } else {
                        "failed"
                    },
                    v.source_rows,
                    v.target_rows,
                    v.parts_differing,
                    v.parts
                )?;
                for d in &v.differences {
                    let kind = match d.kind {
                        DifferenceKind::MissingInTarget => "missing in target",
                        DifferenceKind::ExtraInTarget => "extra in target",
                        DifferenceKind::Different => "different",
                    };
                    writeln!(out, "  {kind:<17} key {}", d.key)?;
                }
                let listed = v.differences.len() as u64;
                let total = [v.missing_in_target, v.extra_in_target, v.different]
                    .iter()
                    .flatten()
                    .sum::<u64>();
                if total > listed {
                    writeln!(out, "  ... and {} more", total - listed)?;
                }
                if let Some(note) = &v.note {
                    writeln!(out, "  {note}")?;
                }
            }
        }
    }
    let notable: Vec<_> = summary
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    if !notable.is_empty() {
        writeln!(out, "\nfindings:")?;
        for f in notable {
            writeln!(out, "  {f}")?;
        }
    }
    if let Some(cdc) = &summary.cdc {
        writeln!(
            out,
            "\nchange capture: {} change(s) in {} batch(es), {:.0} changes/s{}, applied up to position {}; stopped: {}",
            cdc.changes,
            cdc.batches,
            cdc.changes_per_second,
            cdc.lag_seconds
                .map(|lag| format!(", last lag {lag:.1} s"))
                .unwrap_or_default(),
            cdc.position.as_deref().unwrap_or("-"),
            cdc.error.as_deref().unwrap_or(&cdc.stopped)
        )?;
    }
    let capture_failed = summary.cdc.as_ref().is_some_and(|c| c.error.is_some());
    // A capture resumed (or started from a position): no table was loaded by this run.
    let captured_only = summary
        .tables
        .iter()
        .all(|t| t.status == TableStatus::Captured);
    let validated = summary.tables.iter().all(|t| t.validation.is_some());
    writeln!(
        out,
        "\n{} table(s) in {:.1} s: {}",
        summary.tables.len(),
        summary.seconds,
        match (&summary.interrupted, summary.ok, summary.command, validated) {
            (Some(interrupted), ..) => interrupted,
            _ if capture_failed => "change capture stopped by an error (above)",
            (None, true, _, _) if captured_only => "changes captured and applied",
            (None, false, _, _) => "some tables need attention (see above)",
            (None, true, "validate", _) => "source and target agree",
            (None, true, _, true) => "every table loaded and validated",
            (None, true, _, false) => "every table loaded (not validated)",
        }
    )
}
