//! `migrate assess`: inventory, conversion status, effort and replication preflight of DDL
//! scripts or a live database, as a terminal summary, JSON or a self-contained HTML report.

use crate::Outcome;
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use migrate_assess::{assess, EffortModel, Input, SourceInfo};
use migrate_core::{
    Catalog, PreflightCheck, PreflightOptions, ReplicationMode, SourceDialect, TargetDialect,
};
use migrate_dialect::DdlReader;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args)]
pub struct AssessArgs {
    /// Dialect of the DDL/PLSQL scripts to assess (with FILES).
    #[arg(
        long,
        value_enum,
        conflicts_with = "source",
        required_unless_present = "source"
    )]
    from: Option<From>,
    /// Scripts to assess, read in order as `migrate convert` reads them.
    #[arg(requires = "from")]
    files: Vec<PathBuf>,
    /// A live database to assess instead of scripts: `postgres://user@host:port/db`,
    /// `mysql://user@host:port/db` (MariaDB too), `oracle://user@host:port/service` (builds with
    /// the `oracle` feature). The password comes from the URL, PGPASSWORD, MYSQL_PWD or
    /// ORACLE_PASSWORD; it is never printed.
    #[arg(long)]
    source: Option<String>,
    /// Schemas (PostgreSQL, Oracle) or databases (MySQL) of the live source to assess;
    /// repeatable. Default: every non-system schema (PostgreSQL, Oracle), the URL's database
    /// (MySQL).
    #[arg(long = "schema")]
    schemas: Vec<String>,
    /// Run the replication preflight for a full load only (skips the CDC checks: WAL level,
    /// binlog settings, replication privileges, keys).
    #[arg(long)]
    no_cdc: bool,
    /// Target of the migration: what the dry-run conversion writes.
    #[arg(long, value_enum, default_value = "redshift")]
    target: Target,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// An effort model to use instead of the built-in one (a copy of crates/assess/effort.toml).
    #[arg(long)]
    effort: Option<PathBuf>,
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

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    Redshift,
    #[value(alias = "postgresql")]
    Postgres,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Html,
}

pub fn run(args: AssessArgs) -> Result<Outcome> {
    let model = match &args.effort {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading effort model {}", path.display()))?;
            EffortModel::parse(&path.display().to_string(), &text)?
        }
        None => EffortModel::builtin(),
    };
    let to = match args.target {
        Target::Redshift => TargetDialect::Redshift,
        Target::Postgres => TargetDialect::Postgres,
    };
    let started = std::time::Instant::now();
    let (catalog, from, source, preflight) = match (&args.source, args.from) {
        (Some(url), _) => {
            let options = PreflightOptions {
                mode: if args.no_cdc {
                    ReplicationMode::FullLoad
                } else {
                    ReplicationMode::FullLoadAndCdc
                },
                max_value_bytes: match to {
                    TargetDialect::Redshift => Some(REDSHIFT_MAX_VARCHAR_BYTES),
                    TargetDialect::Postgres => None,
                },
            };
            let (catalog, from, source, mut preflight) = live(url, &args.schemas, Some(&options))?;
            preflight.extend(migrate_dialect::target_type_checks(&catalog, to));
            (catalog, from, source, preflight)
        }
        (None, Some(from)) => {
            let from = match from {
                From::Oracle => SourceDialect::Oracle,
                From::Hive => SourceDialect::Hive,
                From::Mysql => SourceDialect::Mysql,
                From::Postgres => SourceDialect::Postgres,
            };
            if args.files.is_empty() {
                bail!("pass the scripts to assess after --from (e.g. `migrate assess --from oracle schema.sql`)");
            }
            let mut reader = DdlReader::new(from);
            for file in &args.files {
                let bytes =
                    std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
                reader.read_bytes(&file.display().to_string(), &bytes)?;
            }
            let inputs = args.files.iter().map(|f| f.display().to_string()).collect();
            let source = SourceInfo {
                kind: "files",
                dialect: from.name(),
                inputs,
            };
            (reader.finish(), from, source, Vec::new())
        }
        (None, None) => bail!("pass --from DIALECT FILES... or --source URL"),
    };
    tracing::info!(
        tables = catalog.tables.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "catalog read"
    );
    let assessment = assess(Input {
        catalog: &catalog,
        from,
        to,
        source,
        preflight,
        model: &model,
    });
    tracing::info!(
        objects = assessment.objects.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "assessed"
    );
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let color = args.out.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    match args.format {
        Format::Text => migrate_assess::write_text(&assessment, color, &mut out)?,
        Format::Json => {
            migrate_assess::write_json(&assessment, &mut out)?;
            writeln!(out)?;
        }
        Format::Html => migrate_assess::write_html(&assessment, &mut out)?,
    }
    out.flush()?;
    if let Some(path) = &args.out {
        let s = &assessment.summary;
        eprintln!(
            "wrote {}: {} objects, {} action items, {:.1} hours",
            path.display(),
            s.objects.total,
            s.action_items,
            s.hours
        );
    }
    Ok(if assessment.needs_attention() {
        Outcome::NeedsAttention
    } else {
        Outcome::Clean
    })
}

/// The longest VARCHAR value Redshift holds, in bytes.
const REDSHIFT_MAX_VARCHAR_BYTES: u64 = 65_535;

type Live = (Catalog, SourceDialect, SourceInfo, Vec<PreflightCheck>);

/// Discovery (tables with statistics, then views, routines, triggers, sequences, indexes) and,
/// with `options`, the replication preflight of a live source (`migrate convert --source` runs
/// none: an empty list).
pub(crate) fn live(
    url: &str,
    schemas: &[String],
    options: Option<&PreflightOptions>,
) -> Result<Live> {
    let runtime = crate::runtime()?;
    let schemas = (!schemas.is_empty()).then_some(schemas);
    let scheme = url.split("://").next().unwrap_or("").to_ascii_lowercase();
    runtime.block_on(async {
        match scheme.as_str() {
            "postgres" | "postgresql" => {
                let source = migrate_source_postgres::PostgresSource::connect(url).await?;
                let mut catalog = source.discover(schemas).await?;
                source.discover_objects(schemas, &mut catalog).await?;
                let preflight = match options {
                    Some(options) => {
                        migrate_source_postgres::preflight(&source, &catalog, options).await?
                    }
                    None => Vec::new(),
                };
                let info = SourceInfo {
                    kind: "live",
                    dialect: SourceDialect::Postgres.name(),
                    inputs: vec![source.endpoint().to_string()],
                };
                Ok((catalog, SourceDialect::Postgres, info, preflight))
            }
            "mysql" | "mariadb" => {
                let source = migrate_source_mysql::MysqlSource::connect(url).await?;
                let mut catalog = source.discover(schemas).await?;
                source.discover_objects(schemas, &mut catalog).await?;
                let preflight = match options {
                    Some(options) => {
                        migrate_source_mysql::preflight(&source, &catalog, options).await?
                    }
                    None => Vec::new(),
                };
                let info = SourceInfo {
                    kind: "live",
                    dialect: SourceDialect::Mysql.name(),
                    inputs: vec![source.endpoint().to_string()],
                };
                Ok((catalog, SourceDialect::Mysql, info, preflight))
            }
            "oracle" => oracle(url, schemas, options).await,
            _ => bail!("--source must be a postgres://, mysql://, mariadb:// or oracle:// URL"),
        }
    })
}

/// Discovery through the `ALL_*` views (`DBA_SEGMENTS` for sizes) and the Oracle preflight.
#[cfg(feature = "oracle")]
async fn oracle(
    url: &str,
    schemas: Option<&[String]>,
    options: Option<&PreflightOptions>,
) -> Result<Live> {
    use migrate_source_oracle::{OracleSource, StreamOptions};
    let source = OracleSource::connect(url, StreamOptions::default()).await?;
    let owners: Option<Vec<String>> = schemas.map(|s| {
        s.iter()
            .map(|name| migrate_source_oracle::connect::stored_name(name))
            .collect()
    });
    let owners = owners.as_deref();
    let mut catalog = source.discover(owners).await?;
    source.discover_objects(owners, &mut catalog).await?;
    let preflight = match options {
        Some(options) => source.preflight(&catalog, options).await?,
        None => Vec::new(),
    };
    let info = SourceInfo {
        kind: "live",
        dialect: SourceDialect::Oracle.name(),
        inputs: vec![source.endpoint().to_string()],
    };
    Ok((catalog, SourceDialect::Oracle, info, preflight))
}

#[cfg(not(feature = "oracle"))]
async fn oracle(_: &str, _: Option<&[String]>, _: Option<&PreflightOptions>) -> Result<Live> {
    bail!("oracle:// sources need a build with the `oracle` feature: `cargo install --path crates/cli --features oracle` (Oracle Instant Client is needed where it runs; see docs/source-oracle.md). Without it, export the DDL with DBMS_METADATA.GET_DDL and give the files to this command with `--from oracle FILES` instead of --source")
}
