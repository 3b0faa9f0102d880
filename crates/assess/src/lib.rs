//! `migrate assess`: what a migration will take, before committing to it.
//!
//! [`assess`] takes a [`migrate_core::Catalog`] (read from DDL scripts by the converter's front
//! ends, or discovered on a live server by the source crates), runs the converter as a dry run,
//! and turns every object into an inventory row with a status (converted automatically, simple,
//! medium or significant action, unsupported) and every finding into an action item with a stable
//! code, sized by the effort model ([`EffortModel`], `effort.toml`). Replication preflight checks
//! come from the source crates and are reported alongside.
//!
//! Outputs: [`write_text`] (terminal summary), JSON (`serde_json` of [`Assessment`], versioned by
//! [`SCHEMA_VERSION`]) and [`write_html`] (one self-contained file). This crate does no I/O of its
//! own beyond writing to the given writer.

mod effort;
mod html;
mod inventory;
mod model;
mod text;

pub use effort::{EffortError, EffortModel};
pub use html::write_html;
pub use inventory::{assess, Input};
pub use model::*;
pub use text::write_text;

/// Writes the JSON report (pretty-printed).
pub fn write_json(assessment: &Assessment, out: impl std::io::Write) -> serde_json::Result<()> {
    serde_json::to_writer_pretty(out, assessment)
}
