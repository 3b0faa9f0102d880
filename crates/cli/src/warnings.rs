//! The warnings a run logs, kept for its summary: a run read through its JSON summary alone (in
//! CI, by a scheduler) must still say that a captured table was dropped or renamed, that a
//! sequence stopped at its bound, that a connection was retried.

use std::fmt::Write;
use std::sync::Mutex;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Warnings kept for the summary; past this many, only counted (a capture running for weeks may
/// log a retry now and then without end).
const KEPT_AT_MOST: usize = 200;

static LOGGED: Mutex<Logged> = Mutex::new(Logged {
    kept: Vec::new(),
    omitted: 0,
    errors: 0,
});

struct Logged {
    kept: Vec<String>,
    omitted: u64,
    /// How many of the events (kept or omitted) are errors, so that the text summary does not
    /// call a failure a warning.
    errors: u64,
}

/// A layer that keeps every warning and error event as one line of text: its message, then its
/// fields (`table=public.t`). Give it a WARN level filter.
pub struct Recorder;

impl<S: Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut line = Line::default();
        event.record(&mut line);
        let text = if line.fields.is_empty() {
            line.message
        } else {
            format!("{} ({})", line.message, line.fields)
        };
        let mut logged = LOGGED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *event.metadata().level() == tracing::Level::ERROR {
            logged.errors += 1;
        }
        if logged.kept.len() < KEPT_AT_MOST {
            logged.kept.push(text);
        } else {
            logged.omitted += 1;
        }
    }
}

#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            if !self.fields.is_empty() {
                self.fields.push_str(", ");
            }
            let _ = write!(self.fields, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        // Without the quotes `Debug` would add.
        self.record_debug(field, &format_args!("{value}"));
    }
}

/// A command's JSON summary with the warnings its run logged.
#[derive(serde::Serialize)]
pub struct WithWarnings<'a, T: serde::Serialize> {
    #[serde(flatten)]
    summary: &'a T,
    warnings: Vec<String>,
    /// Warnings past the ones listed, counted only.
    #[serde(skip_serializing_if = "is_zero")]
    warnings_omitted: u64,
    #[serde(skip)]
    errors: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

impl<'a, T: serde::Serialize> WithWarnings<'a, T> {
    /// `summary` with the warnings logged so far.
    pub fn new(summary: &'a T) -> Self {
        let logged = LOGGED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        WithWarnings {
            summary,
            warnings: logged.kept.clone(),
            warnings_omitted: logged.omitted,
            errors: logged.errors,
        }
    }

    /// The last line of a text summary: how many errors and warnings the log has, if any.
    pub fn print_count(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let warnings = self.warnings.len() as u64 + self.warnings_omitted - self.errors;
        let counted = match (self.errors, warnings) {
            (0, 0) => return Ok(()),
            (0, warnings) => format!("{warnings} warning(s)"),
            (errors, 0) => format!("{errors} error(s)"),
            (errors, warnings) => format!("{errors} error(s) and {warnings} warning(s)"),
        };
        writeln!(out, "{counted} in the log (standard error)")
    }
}
