//! `migrate catalog`: Hive metastore -> AWS Glue Data Catalog (or JSON lines, and back).

use crate::convert::OutputFormat;
use crate::Outcome;
use anyhow::{bail, Context, Result};
use clap::Args;
use migrate_catalog::{
    migrate, Action, Filter, ObjectKind, Options, Outcome as RunOutcome, Report, Source, Target,
};
use migrate_core::LocationMap;
use migrate_glue::{GlueClient, GlueConfig};
use migrate_metastore::Metastore;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["metastore", "import"]))]
pub struct CatalogArgs {
    /// The metastore's backing database: mysql://user:password@host:3306/hive or
    /// postgres://user:password@host:5432/hive (Hive 2.x, 3.x or 4.x schema).
    #[arg(long, value_name = "URL", conflicts_with = "import")]
    metastore: Option<String>,
    /// Read a JSON-lines export (written by --export) instead of a metastore.
    #[arg(long, value_name = "DIR")]
    import: Option<PathBuf>,
    /// Write JSON lines (databases/, tables/, partitions/) to this new directory instead of Glue.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["import", "dry_run"])]
    export: Option<PathBuf>,
    /// Glue endpoint (default: AWS_ENDPOINT_URL_GLUE, else https://glue.<region>.amazonaws.com).
    /// Credentials and region come from the standard AWS variables.
    #[arg(long, value_name = "URL")]
    glue_endpoint: Option<String>,
    /// The Data Catalog to write (an AWS account id; default: the caller's).
    #[arg(long, value_name = "ID")]
    catalog_id: Option<String>,
    /// The Hive catalog to read (Hive 3+ metastores; default: hive).
    #[arg(long, value_name = "NAME")]
    hive_catalog: Option<String>,
    /// Databases to migrate; wildcards * and ?; repeatable (default: all).
    #[arg(long = "database", value_name = "PATTERN")]
    databases: Vec<String>,
    /// Tables to migrate, as TABLE or DB.TABLE; wildcards * and ?; repeatable (default: all).
    #[arg(long = "table", value_name = "PATTERN")]
    tables: Vec<String>,
    /// Rewrite locations: FROM=TO, longest matching prefix wins, at path-segment boundaries;
    /// repeatable. E.g. hdfs://nn:8020/warehouse=s3://bucket/warehouse
    #[arg(long = "location-map", value_name = "FROM=TO")]
    location_map: Vec<String>,
    /// Compare with Glue and print what would change; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Delete the partitions that Glue has for a migrated table and the source does not (by
    /// default they are only counted: crawlers and other writers add partitions to Glue too).
    #[arg(long, conflicts_with = "export")]
    delete_extra_partitions: bool,
    /// Partition batches (of 100) written to Glue at once.
    // A negative value is refused as this flag's value, not as an unknown argument.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 8,
        allow_negative_numbers = true
    )]
    concurrency: usize,
    /// What the report on standard output looks like.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,
}

/// The JSON report: the library's report plus the outcome.
#[derive(Serialize)]
struct JsonReport<'a> {
    outcome: RunOutcome,
    #[serde(flatten)]
    report: &'a Report,
}

pub fn run(args: CatalogArgs) -> Result<Outcome> {
    // Everything the user typed is checked before connecting anywhere.
    let location_map = LocationMap::parse(&args.location_map)?;
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let options = Options {
        filter: Filter::new(&args.databases, &args.tables),
        location_map,
        dry_run: args.dry_run,
        concurrency: args.concurrency,
        delete_extra_partitions: args.delete_extra_partitions,
        ..Options::default()
    };
    let target = match &args.export {
        Some(dir) => Target::Export(dir.clone()),
        None => {
            let mut config = GlueConfig::from_env(args.glue_endpoint.as_deref())?;
            config.catalog_id = args.catalog_id.clone();
            Target::Glue(GlueClient::new(config)?)
        }
    };
    let runtime = crate::runtime()?;
    let report = runtime.block_on(async {
        let options = Options {
            interrupt: Some(stop_on_sigint()?),
            ..options
        };
        match (&args.metastore, &args.import) {
            (Some(url), _) => {
                let metastore = Metastore::connect(url)
                    .await
                    .with_context(|| format!("metastore {}", migrate_task::redact(url)))?;
                let metastore = match &args.hive_catalog {
                    Some(name) => metastore.with_catalog(name).await?,
                    None => metastore,
                };
                migrate(Source::Metastore(&metastore), &target, &options)
                    .await
                    .map_err(anyhow::Error::from)
            }
            (None, Some(dir)) => migrate(Source::Import(dir.clone()), &target, &options)
                .await
                .map_err(anyhow::Error::from),
            (None, None) => bail!("give --metastore URL or --import DIR"),
        }
    })?;
    let outcome = report.outcome();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &JsonReport {
                    outcome,
                    report: &report,
                },
            )?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            print_text(&report, outcome, !args.location_map.is_empty(), &mut out)?
        }
    }
    Ok(match outcome {
        RunOutcome::Migrated | RunOutcome::InSync | RunOutcome::Exported | RunOutcome::DryRun => {
            Outcome::Clean
        }
        RunOutcome::ExtraInGlue
        | RunOutcome::NothingSelected
        | RunOutcome::Failed
        | RunOutcome::Stopped => Outcome::NeedsAttention,
    })
}

/// The first SIGINT stops the run cleanly (nothing more is sent, the report says what was done,
/// exit code 1); a second ends the process at once with exit code 130. Call inside the runtime.
fn stop_on_sigint() -> Result<tokio::sync::watch::Receiver<bool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigint = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        sigint.recv().await;
        tracing::warn!(
            "interrupted: sending nothing more to Glue (interrupt again to stop at once)"
        );
        let _ = stop.send(true);
        sigint.recv().await;
        eprintln!("migrate: stopped at once; run the same command again to finish");
        std::process::exit(130);
    });
    Ok(stopped)
}

/// Most changes printed in text; --output json lists up to the report's own limit.
const PRINTED_CHANGES: usize = 50;

/// `mapped`: a `--location-map` was given (else the locations shown are those off S3).
fn print_text(
    r: &Report,
    outcome: RunOutcome,
    mapped: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let verb = if r.dry_run { "would be " } else { "" };
    if !r.changes.is_empty() {
        writeln!(
            out,
            "{}",
            if r.dry_run {
                "Changes (dry run, nothing written):"
            } else {
                "Changes:"
            }
        )?;
        for c in r.changes.iter().take(PRINTED_CHANGES) {
            let kind = match c.kind {
                ObjectKind::Database => "database",
                ObjectKind::Table => "table",
                ObjectKind::Partition => "partition",
            };
            let sign = match c.action {
                Action::Create => "+",
                Action::Update => "~",
                Action::Delete => "-",
            };
            writeln!(out, "  {sign} {kind} {}", c.object)?;
            for f in &c.fields {
                writeln!(
                    out,
                    "      {}: {} -> {}",
                    f.path,
                    f.before.as_deref().unwrap_or("(none)"),
                    f.after.as_deref().unwrap_or("(none)")
                )?;
            }
        }
        let more = r.changes.len().saturating_sub(PRINTED_CHANGES) as u64 + r.changes_not_listed;
        if more > 0 {
            writeln!(
                out,
                "  ... and {more} more (--output json lists up to {})",
                migrate_catalog::MAX_LISTED
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{:<11} {:>9} {:>9} {:>9} {:>7} {:>9} {:>8}",
        "object",
        format!("{verb}created").trim_start_matches("would be "),
        "updated",
        "unchanged",
        "failed",
        "exported",
        "skipped"
    )?;
    for (name, c) in [
        ("databases", &r.databases),
        ("tables", &r.tables),
        ("partitions", &r.partitions),
    ] {
        writeln!(
            out,
            "{name:<11} {:>9} {:>9} {:>9} {:>7} {:>9} {:>8}",
            c.created, c.updated, c.unchanged, c.failed, c.exported, c.skipped
        )?;
    }
    if r.locations.rewritten > 0 || r.locations.unmapped > 0 {
        if mapped {
            writeln!(
                out,
                "\nlocations: {} rewritten, {} not matched by any --location-map rule",
                r.locations.rewritten, r.locations.unmapped
            )?;
        } else {
            writeln!(
                out,
                "\nlocations: {} not on S3 and kept as they are (no --location-map given; Athena reads s3:// only)",
                r.locations.unmapped
            )?;
        }
        for l in &r.locations.unmapped_examples {
            writeln!(out, "  not rewritten: {l}")?;
        }
    }
    print_extra_partitions(r, out)?;
    if !r.failures.is_empty() {
        writeln!(out, "\nfailures:")?;
        for f in r.failures.iter().take(PRINTED_CHANGES) {
            writeln!(out, "  {}: {}", f.object, f.message)?;
        }
        let more = r.failures.len().saturating_sub(PRINTED_CHANGES) as u64 + r.failures_not_listed;
        if more > 0 {
            writeln!(out, "  ... and {more} more")?;
        }
    }
    if !r.findings.is_empty() {
        writeln!(out, "\nfindings (docs/findings.md):")?;
        for f in &r.findings {
            writeln!(
                out,
                "  {} [{}] {}: {} -> {}",
                f.severity, f.code, f.object, f.message, f.action
            )?;
        }
    }
    if !r.notes.is_empty() {
        writeln!(out, "\nnotes:")?;
        for n in &r.notes {
            writeln!(out, "  {n}")?;
        }
    }
    let stopped;
    let summary = match outcome {
        RunOutcome::Migrated => "migrated: Glue now matches the metastore for everything selected",
        RunOutcome::InSync => "in sync: Glue already matched; nothing was written",
        RunOutcome::DryRun => "dry run: nothing was written",
        RunOutcome::Exported => "exported",
        RunOutcome::ExtraInGlue => {
            "NOT IN SYNC: Glue has partitions that the source does not (see above), left alone; --delete-extra-partitions deletes them"
        }
        RunOutcome::NothingSelected => {
            "NOTHING MIGRATED: the source has no database or table that the filters select"
        }
        RunOutcome::Failed => {
            "FAILED: some objects were not migrated (see failures); re-run to retry them"
        }
        RunOutcome::Stopped => {
            stopped = format!(
                "STOPPED before the end: {}. The counts say what was done; what is counted as failed was not (or not confirmed): run the same command again to finish",
                r.stopped.as_deref().unwrap_or("stopped")
            );
            &stopped
        }
    };
    writeln!(out, "\n{summary}")
}

/// The partitions that exist only in Glue, per table.
fn print_extra_partitions(r: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let extra = &r.partitions_only_in_glue;
    if extra.is_empty() {
        return Ok(());
    }
    let count: u64 = extra.iter().map(|e| e.count).sum();
    let deleted: u64 = extra.iter().map(|e| e.deleted).sum();
    writeln!(
        out,
        "\npartitions only in Glue (not in the source): {count} in {} table(s), {deleted} {}deleted",
        extra.len(),
        if r.dry_run { "would be " } else { "" }
    )?;
    for e in extra.iter().take(PRINTED_CHANGES) {
        writeln!(
            out,
            "  {}: {} (e.g. {})",
            e.table,
            e.count,
            e.examples.join(", ")
        )?;
    }
    if extra.len() > PRINTED_CHANGES {
        writeln!(
            out,
            "  ... and {} more tables",
            extra.len() - PRINTED_CHANGES
        )?;
    }
    Ok(())
}
