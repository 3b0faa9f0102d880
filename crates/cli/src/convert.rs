//! `migrate convert`: DDL scripts or a live database -> target DDL, key advice and findings.

use crate::report;
use crate::Outcome;
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use migrate_advisor::{advise, Statistics, Workload};
use migrate_core::{Finding, Severity, SourceDialect, TargetDialect};
use migrate_dialect::{emit, DdlReader};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ConvertArgs {
    /// Dialect of the input scripts.
    #[arg(
        long,
        value_enum,
        conflicts_with = "source",
        required_unless_present = "source"
    )]
    from: Option<From>,
    /// Dialect of the DDL to write.
    #[arg(long, value_enum, default_value = "redshift")]
    target: Target,
    /// DDL scripts to convert, read in order (standard input when none is given).
    #[arg(conflicts_with = "source")]
    files: Vec<PathBuf>,
    /// A live database to convert instead of scripts, read as `migrate assess --source` reads
    /// it: `postgres://user@host:port/db`, `mysql://user@host:port/db` (MariaDB too),
    /// `oracle://user@host:port/service` (builds with the `oracle` feature). The password comes
    /// from the URL, PGPASSWORD, MYSQL_PWD or ORACLE_PASSWORD; it is never printed.
    #[arg(long)]
    source: Option<String>,
    /// Schemas (PostgreSQL, Oracle) or databases (MySQL) of the live source to convert;
    /// repeatable. Default: every non-system schema (PostgreSQL, Oracle), the URL's database
    /// (MySQL).
    #[arg(long = "schema", requires = "source")]
    schemas: Vec<String>,
    /// Directory to write `<target>.sql` and `findings.json` to (standard output otherwise).
    #[arg(short = 'o', long = "out-dir")]
    out_dir: Option<PathBuf>,
    /// SQL queries that run on the data (joins, filters, GROUP BY), to choose keys from.
    #[arg(long)]
    workload: Option<PathBuf>,
    /// Table and column statistics (row counts, distinct counts) as JSON, to choose keys from.
    #[arg(long)]
    stats: Option<PathBuf>,
    /// Report format on standard output.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum From {
    Oracle,
    Hive,
    #[value(alias = "mariadb")]
    Mysql,
    #[value(alias = "postgresql")]
    Postgres,
}

impl From {
    fn dialect(self) -> SourceDialect {
        match self {
            From::Oracle => SourceDialect::Oracle,
            From::Hive => SourceDialect::Hive,
            From::Mysql => SourceDialect::Mysql,
            From::Postgres => SourceDialect::Postgres,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    Redshift,
    #[value(alias = "postgresql")]
    Postgres,
}

impl Target {
    fn dialect(self) -> TargetDialect {
        match self {
            Target::Redshift => TargetDialect::Redshift,
            Target::Postgres => TargetDialect::Postgres,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

pub fn run(args: ConvertArgs) -> Result<Outcome> {
    let to = args.target.dialect();
    if let Some(dir) = args
        .out_dir
        .as_ref()
        .filter(|dir| dir.exists() && !dir.is_dir())
    {
        bail!(
            "-o {}: not a directory (it is an existing file); pass a directory to write {}.sql and findings.json to",
            dir.display(),
            to.name()
        );
    }
    let started = std::time::Instant::now();
    let (catalog, from) = match (&args.source, args.from) {
        (Some(url), _) => {
            let (catalog, from, _, _) = crate::assess::live(url, &args.schemas, None)?;
            (catalog, from)
        }
        (None, Some(from)) => (read_scripts(from.dialect(), &args.files)?, from.dialect()),
        (None, None) => bail!("pass --from DIALECT [FILES]... or --source URL"),
    };
    tracing::info!(
        tables = catalog.tables.len(),
        views = catalog.views.len(),
        findings = catalog.findings.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "source read"
    );

    let mut statistics = Statistics::from_catalog(&catalog);
    let mut stats_findings = Vec::new();
    if let Some(path) = &args.stats {
        let text = read_text(path)?;
        let file = Statistics::from_json(&text)
            .with_context(|| format!("reading statistics {}", path.display()))?;
        stats_findings = unknown_statistics(&file, &catalog, path);
        statistics.merge(file);
    }
    let workload = match &args.workload {
        Some(path) => {
            let text = read_text(path)?;
            Workload::parse(&text, from)
                .with_context(|| format!("reading workload {}", path.display()))?
        }
        None => Workload::default(),
    };
    let layouts = match to {
        TargetDialect::Redshift => advise(&catalog, &statistics, &workload),
        TargetDialect::Postgres => Vec::new(),
    };
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "keys advised"
    );
    let conversion = emit(&catalog, from, to, &layouts);
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "target DDL written"
    );

    let mut findings: Vec<Finding> = catalog.findings.clone();
    findings.extend(conversion.findings.iter().cloned());
    findings.extend(workload_findings(&workload, args.workload.as_deref()));
    findings.extend(stats_findings);

    let report = report::ConvertReport::new(from, to, &catalog, &layouts, &conversion, &findings);
    match &args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let ddl_path = dir.join(format!("{}.sql", to.name()));
            std::fs::write(&ddl_path, &conversion.ddl)
                .with_context(|| format!("writing {}", ddl_path.display()))?;
            let json_path = dir.join("findings.json");
            let json_file = std::fs::File::create(&json_path)
                .with_context(|| format!("writing {}", json_path.display()))?;
            report
                .write_json(false, json_file)
                .with_context(|| format!("writing {}", json_path.display()))?;
            match args.output {
                OutputFormat::Json => report.write_json(false, std::io::stdout().lock())?,
                OutputFormat::Text => {
                    report.print_text(std::io::stderr().lock())?;
                    eprintln!("wrote {} and {}", ddl_path.display(), json_path.display());
                }
            }
        }
        None => match args.output {
            OutputFormat::Json => report.write_json(true, std::io::stdout().lock())?,
            OutputFormat::Text => {
                std::io::Write::write_all(
                    &mut std::io::stdout().lock(),
                    conversion.ddl.as_bytes(),
                )?;
                report.print_text(std::io::stderr().lock())?;
            }
        },
    }
    let needs_attention = findings.iter().any(|f| f.severity >= Severity::Warning);
    Ok(if needs_attention {
        Outcome::NeedsAttention
    } else {
        Outcome::Clean
    })
}

/// The catalog of `files` (standard input when there are none). Every input is read before
/// anything is written: a bad file stops the run with nothing half-done.
fn read_scripts(from: SourceDialect, files: &[PathBuf]) -> Result<migrate_core::Catalog> {
    let mut reader = DdlReader::new(from);
    if files.is_empty() {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        reader.read_bytes("<stdin>", &bytes)?;
    }
    for file in files {
        tracing::debug!(file = %file.display(), "reading");
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        reader.read_bytes(&file.display().to_string(), &bytes)?;
    }
    Ok(reader.finish())
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(migrate_dialect::without_bom(&text).to_string()),
        Err(_) => bail!("{} is not UTF-8 text", path.display()),
    }
}

/// Statistics for a table or column that the scripts don't define: most likely a typo, which
/// would otherwise silently mean "no statistics".
fn unknown_statistics(
    stats: &Statistics,
    catalog: &migrate_core::Catalog,
    path: &Path,
) -> Vec<Finding> {
    let file = path.display().to_string();
    let mut findings = Vec::new();
    let index = migrate_core::TableIndex::new(&catalog.tables);
    for entry in stats.tables() {
        let Some(position) = index.find(&catalog.tables, &entry.name) else {
            findings.push(Finding::new(
                Severity::Warning,
                "statistics.unknown-table",
                entry.name.to_string(),
                format!("{file} has statistics for {}, which the scripts don't define: they are not used", entry.name),
                "check the table name (and schema) in the statistics file",
            ));
            continue;
        };
        let table = &catalog.tables[position];
        for column in &entry.columns {
            if table.column(&column.name).is_none() {
                findings.push(Finding::new(
                    Severity::Warning,
                    "statistics.unknown-column",
                    format!("{}.{}", entry.name, column.name),
                    format!("{file} has statistics for column {}, which {} does not have: they are not used", column.name, table.name),
                    "check the column name in the statistics file",
                ));
            }
        }
    }
    findings
}

/// Workload queries that could not be parsed are counted and reported, never silently ignored.
fn workload_findings(workload: &Workload, path: Option<&Path>) -> Vec<Finding> {
    let file = path.map(|p| p.display().to_string()).unwrap_or_default();
    workload
        .skipped
        .iter()
        .map(|skipped| {
            Finding::new(
                Severity::Warning,
                "workload.query-skipped",
                format!("{file}:{}", skipped.line),
                format!("workload query not used for key advice: {}", skipped.reason),
                "fix or remove the query; key advice ignores it",
            )
        })
        .collect()
}
