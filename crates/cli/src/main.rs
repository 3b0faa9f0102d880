//! `migrate`: move data estates to AWS.
//!
//! Exit codes (documented in docs/cli.md):
//! - 0: done, nothing needs attention;
//! - 1: done, with findings that need review or action (convert), or with tables that failed,
//!   were only staged, or did not validate (replicate, validate);
//! - 2: could not run (bad arguments or task, unreadable or non-text input, a source, target or
//!   staging area that can't be reached).

mod assess;
mod catalog;
mod convert;
mod copy;
mod progress;
mod replicate;
mod report;
mod warnings;

use clap::{Parser, Subcommand};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Conversion allocates and frees millions of small strings and token vectors, some across threads
/// (the reader tokenizes ahead on a second thread): mimalloc does this much faster than glibc's
/// allocator (measured in docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "migrate",
    version = env!("MIGRATE_VERSION"),
    about = "Move Oracle, MySQL, PostgreSQL and Hive estates to Amazon Redshift and S3"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Assess DDL scripts or a live database before migrating: inventory, conversion status,
    /// effort and replication preflight, as text, JSON or HTML.
    Assess(assess::AssessArgs),
    /// Convert DDL scripts to Redshift (or PostgreSQL) DDL, with key advice and findings.
    Convert(convert::ConvertArgs),
    /// Load tables from PostgreSQL or MySQL/MariaDB into PostgreSQL or Redshift through staging,
    /// resumably, and validate them; with --cdc, then capture and apply their changes.
    Replicate(replicate::ReplicateArgs),
    /// Compare the tables of a task in the source and the target: row counts, checksums,
    /// differing keys.
    Validate(replicate::ValidateArgs),
    /// Migrate a Hive metastore's databases, tables and partitions to the AWS Glue Data Catalog
    /// (or to/from JSON lines), rewriting locations.
    Catalog(catalog::CatalogArgs),
    /// Copy files from HDFS, a directory or S3 to S3 or a directory: parallel, resumable,
    /// checksum-verified (the DistCp analogue).
    Copy(copy::CopyArgs),
}

/// The async runtime a command's I/O runs on (one per command; the commands are async inside).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// What a finished command reports to the shell.
pub enum Outcome {
    Clean,
    NeedsAttention,
}

fn main() -> ExitCode {
    // Warnings are shown unless MIGRATE_LOG says otherwise: they name what a run can't do
    // (changes the binlog does not carry, a sequence the role may not move, a retry).
    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing_subscriber::filter::LevelFilter::WARN.into())
        .with_env_var("MIGRATE_LOG")
        .from_env_lossy();
    let log = tracing_subscriber::fmt::layer()
        .with_writer(|| progress::LogWriter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(filter);
    // Warnings go to the summary too, whatever MIGRATE_LOG shows.
    let recorder = warnings::Recorder.with_filter(tracing_subscriber::filter::LevelFilter::WARN);
    tracing_subscriber::registry()
        .with(log)
        .with(recorder)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Assess(args) => assess::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Replicate(args) => replicate::replicate(args),
        Command::Validate(args) => replicate::validate(args),
        Command::Catalog(args) => catalog::run(args),
        Command::Copy(args) => copy::run(args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::NeedsAttention) => ExitCode::from(1),
        Err(error) if closed_pipe(&error) => ExitCode::from(BROKEN_PIPE_EXIT as u8),
        Err(error) => {
            eprintln!("migrate: error: {}", describe(&error));
            ExitCode::from(2)
        }
    }
}

/// The exit status of a run whose standard output was closed by its reader (`| head`): that of
/// a Unix tool killed by SIGPIPE (128 + 13), without a message.
const BROKEN_PIPE_EXIT: i32 = 141;

/// A write to standard output that its reader closed: an `io::Error` returned as it is, or the
/// one a JSON writer (`serde_json::to_writer`) carries. (Errors of the libraries' connections are
/// their own types, with their cause inside: a server that closed a socket is reported, never
/// taken for this.)
fn closed_pipe(error: &anyhow::Error) -> bool {
    let kind = match error.downcast_ref::<serde_json::Error>() {
        Some(json) => json.io_error_kind(),
        None => error.downcast_ref::<std::io::Error>().map(|e| e.kind()),
    };
    kind == Some(std::io::ErrorKind::BrokenPipe)
}

/// The error and its causes, joined by `: `. A cause is left out when the text says it already:
/// most of migrate's errors carry their cause in their own message, often followed by advice
/// (`cannot connect to ...: error performing TLS handshake; check the TLS settings...`). A cause
/// the text does not say goes right after the text of the error it is the cause of, so that it
/// comes before that advice, not after it.
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    // Where the text of the last error of the chain it says ends (or where it starts, to look
    // for its cause from there).
    let (mut start, mut end) = (0, 0);
    for cause in error.chain() {
        let part = cause.to_string();
        if part.is_empty() {
            continue;
        }
        if let Some(at) = text[start..].find(&part) {
            (start, end) = (start + at, start + at + part.len());
            continue;
        }
        if text.contains(&part) {
            continue;
        }
        let insert = if text.is_empty() {
            part
        } else {
            format!(": {part}")
        };
        text.insert_str(end, &insert);
        (start, end) = (end, end + insert.len());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::describe;

    /// An error that says its cause in its own message, as migrate's do.
    #[derive(Debug)]
    struct Carries {
        source: std::io::Error,
    }

    impl std::fmt::Display for Carries {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "reading changes: {}", self.source)
        }
    }

    impl std::error::Error for Carries {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let inner = || std::io::Error::other("type inet is not captured");
        let carried = anyhow::Error::new(Carries { source: inner() });
        assert_eq!(
            describe(&carried),
            "reading changes: type inet is not captured"
        );
        let context = anyhow::Error::new(inner()).context("reading rules.json");
        assert_eq!(
            describe(&context),
            "reading rules.json: type inet is not captured"
        );
    }

    /// An error that says its cause's message, then advice, as the connection errors do.
    #[derive(Debug)]
    struct Advises {
        source: Box<dyn std::error::Error + Send + Sync>,
    }

    impl std::fmt::Display for Advises {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot connect: {}; check the TLS settings", self.source)
        }
    }

    impl std::error::Error for Advises {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.source)
        }
    }

    /// An error that leaves its cause out of its message, as the drivers' do.
    #[derive(Debug)]
    struct Bare {
        source: std::io::Error,
    }

    impl std::fmt::Display for Bare {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error performing TLS handshake")
        }
    }

    impl std::error::Error for Bare {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_cause_goes_before_the_advice_that_follows_its_error() {
        let bare = Bare {
            source: std::io::Error::other("server does not support TLS"),
        };
        let error = anyhow::Error::new(Advises {
            source: Box::new(bare),
        })
        .context("connecting to the source");
        assert_eq!(
            describe(&error),
            "connecting to the source: cannot connect: error performing TLS handshake: server does not support TLS; check the TLS settings"
        );
        // A cause the message says is not repeated, and its own cause goes after it.
        let carried = Carries {
            source: std::io::Error::other("type inet is not captured"),
        };
        assert_eq!(
            describe(&anyhow::Error::new(Advises {
                source: Box::new(carried)
            })),
            "cannot connect: reading changes: type inet is not captured; check the TLS settings"
        );
    }
}
