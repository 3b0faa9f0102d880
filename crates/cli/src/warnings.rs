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
});

struct Logged {
    kept: Vec<String>,
    omitted: u64,
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

/// The warnings logged so far, and how many more were only counted.
pub fn logged() -> (Vec<String>, u64) {
    let logged = LOGGED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    (logged.kept.clone(), logged.omitted)
}
