//! Decode rate of PostgreSQL change capture alone (no batching, staging or apply): opens a
//! task's change stream through the public [`ChangeSource::open_changes`] from a position and
//! counts the row changes decoded until a commit reaches the end position. Used by
//! `bench/cdc.sh` against `pg_recvlogical` on the same slot contents.
//!
//! ```text
//! cargo run --release -p migrate-source-postgres --example decode_rate -- \
//!     URL TASK FROM_LSN UNTIL_LSN [SCHEMA]
//! ```
//!
//! The task's slot (`migrate_<task>`, pgoutput) and publication must exist from before the
//! changes were written (else the stream starts later and the run never reaches `UNTIL_LSN`).
//! Prints one line: `rows=N commits=N seconds=S rows_per_second=R`.

use migrate_source::{ChangeEvent, ChangeSource, ChangeStream, Position, Selection, TableFilter};
use migrate_source_postgres::PostgresSource;
use pgwire_replication::Lsn;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("decode_rate: {message}");
            ExitCode::FAILURE
        }
    }
}

fn lsn(text: &str) -> Result<Lsn, String> {
    Lsn::parse(text.trim()).map_err(|_| format!("`{text}` is not an LSN (such as 16/B374D848)"))
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, task, from, until, rest @ ..] = args.as_slice() else {
        return Err("usage: decode_rate URL TASK FROM_LSN UNTIL_LSN [SCHEMA]".into());
    };
    let until = lsn(until)?;
    lsn(from)?;
    let schemas = rest.first().map(|s| vec![s.clone()]);
    let source = PostgresSource::connect(url)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let catalog = source
        .discover(schemas.as_deref())
        .await
        .map_err(|e| format!("discovering tables: {e}"))?;
    let tables = catalog.tables;
    let accept_all: TableFilter = Arc::new(|_| true);
    let started = Instant::now();
    let mut changes = source
        .open_changes(
            task,
            &tables,
            Selection::every_column(accept_all),
            &Position(from.clone()),
        )
        .await
        .map_err(|e| format!("opening the change stream: {e}"))?;
    let (mut rows, mut commits) = (0usize, 0u64);
    loop {
        let event = changes
            .next_event()
            .await
            .map_err(|e| format!("reading changes: {e}"))?
            .ok_or("the change stream ended before UNTIL_LSN")?;
        match event {
            ChangeEvent::Rows { changes, .. } => rows += changes.num_rows(),
            ChangeEvent::Commit { position, .. } => {
                commits += 1;
                if lsn(&position.0)? >= until {
                    break;
                }
            }
            ChangeEvent::Idle { position, .. } => {
                if lsn(&position.0)? >= until {
                    break;
                }
            }
            ChangeEvent::Truncate { .. } | ChangeEvent::Table { .. } => {}
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rows={rows} commits={commits} seconds={seconds:.3} rows_per_second={:.0}",
        rows as f64 / seconds
    );
    Ok(())
}
