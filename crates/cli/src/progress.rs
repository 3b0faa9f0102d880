//! Progress bars of `migrate replicate` and `migrate validate` on standard error: one per running
//! table (rows, bytes staged, rate, ETA from the source's row estimate) and a total.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use migrate_replicate::{Observer, TableStatus, TableSummary};
use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

/// When bars are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// When standard error is a terminal and the output is text.
    Auto,
    /// Always, even into a file or pipe.
    Always,
    Never,
}

pub struct Bars {
    /// `--output json`: change-capture status goes to standard error as JSON lines.
    json_metrics: bool,
    multi: MultiProgress,
    total: ProgressBar,
    tables: Mutex<HashMap<String, Table>>,
    cdc_started: std::sync::Once,
}

struct Table {
    bar: ProgressBar,
    bytes: u64,
}

const TABLE_TEMPLATE: &str =
    "{prefix:30!} {bar:24} {human_pos:>11}/{human_len:11} rows {rate:>13} eta {eta:>4} {msg}";
const SPINNER_TEMPLATE: &str = "{prefix:30!} {spinner} {human_pos:>11} rows {rate:>13} {msg}";
/// The total line once change capture runs: its message says everything (a bar of rows would
/// stay empty: changes have no known end).
const CDC_TEMPLATE: &str = "{prefix:30!} {spinner} {msg}";

impl Bars {
    /// Bars drawn to standard error, or hidden as `mode` and the output format say.
    pub fn new(mode: ProgressMode, json_output: bool) -> Bars {
        let multi = drawn_bars(mode, json_output);
        let total = multi.add(ProgressBar::new(0));
        total.set_style(style(TABLE_TEMPLATE));
        total.set_prefix("total");
        Bars {
            json_metrics: json_output,
            multi,
            total,
            tables: Mutex::new(HashMap::new()),
            cdc_started: std::sync::Once::new(),
        }
    }

    /// Removes the bars (before the summary is printed).
    pub fn finish(&self) {
        self.total.finish_and_clear();
        stop_drawing(&self.multi);
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, HashMap<String, Table>> {
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} rows/s", state.per_sec());
            },
        )
        .progress_chars("=> ")
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB staged", bytes as f64 / f64::from(1 << 20))
}

impl Observer for Bars {
    fn cdc_status(&self, status: &migrate_replicate::CdcStatus) {
        let lag = |seconds: Option<f64>| seconds.map_or("-".to_string(), |l| format!("{l:.1} s"));
        self.cdc_started.call_once(|| {
            self.total.set_style(style(CDC_TEMPLATE));
            self.total.set_prefix("changes");
        });
        self.total.set_message(format!(
            "cdc at {} | {} changes in {} batches | {:.0} changes/s | lag: source {}, target {}",
            status.position,
            status.changes,
            status.batches,
            status.changes_per_second,
            lag(status.source_lag_seconds),
            lag(status.target_lag_seconds)
        ));
        self.total.tick();
        if self.json_metrics {
            // One JSON document per applied batch on standard error: metrics for a scraper.
            if let Ok(line) = serde_json::to_string(status) {
                eprintln!("{line}");
            }
        }
    }

    fn planned(&self, tables: &[(String, Option<u64>)]) {
        self.total
            .set_length(tables.iter().filter_map(|(_, rows)| *rows).sum());
        self.total.set_message(format!("{} tables", tables.len()));
    }

    fn table_started(&self, table: &str, chunks: u32, chunks_done: u32, rows: Option<u64>) {
        let bar = match rows {
            Some(rows) => {
                let bar = ProgressBar::new(rows);
                bar.set_style(style(TABLE_TEMPLATE));
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(style(SPINNER_TEMPLATE));
                bar
            }
        };
        let bar = self.multi.insert_before(&self.total, bar);
        bar.set_prefix(table.to_string());
        bar.set_message(format!("{chunks_done}/{chunks} chunks"));
        self.tables()
            .insert(table.to_string(), Table { bar, bytes: 0 });
    }

    fn chunk_done(&self, table: &str, rows: u64, bytes: u64, _skipped: bool) {
        self.total.inc(rows);
        if let Some(entry) = self.tables().get_mut(table) {
            entry.bytes += bytes;
            entry.bar.inc(rows);
            entry.bar.set_message(mib(entry.bytes));
        }
    }

    fn validating(&self, table: &str) {
        if let Some(entry) = self.tables().get(table) {
            entry.bar.set_message("validating");
        }
    }

    fn table_finished(&self, summary: &TableSummary) {
        if let Some(entry) = self.tables().remove(&summary.target) {
            entry.bar.finish_and_clear();
        }
        if summary.status == TableStatus::Failed {
            let _ = self.multi.println(format!(
                "{}: failed: {}",
                summary.source,
                summary.error.as_deref().unwrap_or("")
            ));
        }
    }
}

/// The bars being drawn, if any: log lines are written with them suspended (see [`LogWriter`]).
static DRAWN: Mutex<Option<MultiProgress>> = Mutex::new(None);

fn drawn() -> std::sync::MutexGuard<'static, Option<MultiProgress>> {
    DRAWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bars on standard error, hidden as `mode` and the output format (`json_output`) say. While
/// they are drawn, log lines suspend them, so that a warning does not break a redraw.
pub(crate) fn drawn_bars(mode: ProgressMode, json_output: bool) -> MultiProgress {
    let target = match mode {
        ProgressMode::Never => ProgressDrawTarget::hidden(),
        ProgressMode::Auto if json_output => ProgressDrawTarget::hidden(),
        // Hidden by indicatif itself when standard error is not a terminal.
        ProgressMode::Auto => ProgressDrawTarget::stderr(),
        ProgressMode::Always => ProgressDrawTarget::term_like(Box::new(Stderr)),
    };
    let multi = MultiProgress::with_draw_target(target);
    *drawn() = Some(multi.clone());
    multi
}

/// Clears `multi`'s bars; log lines are written plainly again.
pub(crate) fn stop_drawing(multi: &MultiProgress) {
    let _ = multi.clear();
    *drawn() = None;
}

/// Standard error for the log: each line is written with the bars (if any) suspended.
pub(crate) struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bars = drawn().clone();
        match bars {
            Some(bars) => bars.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Standard error as a terminal of 100 columns, for `--progress always` into a file or pipe.
#[derive(Debug)]
struct Stderr;

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.write_str(&format!("\x1b[{n}A"))
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.write_str(&format!("\x1b[{n}B"))
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.write_str(&format!("\x1b[{n}C"))
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.write_str(&format!("\x1b[{n}D"))
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        std::io::stderr().write_all(s.as_bytes())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.write_str("\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
