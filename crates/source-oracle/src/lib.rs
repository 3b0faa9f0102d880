//! The Oracle source of `migrate`: discovery, the full load's read at one SCN, and change data
//! capture with LogMiner.
//!
//! The crate is split so that everything it says to Oracle and everything it reads back is a pure
//! function, tested without a database:
//!
//! - [`sql`]: every statement (discovery, `AS OF SCN` reads, `DBMS_LOGMNR` calls, the
//!   `V$LOGMNR_CONTENTS` query);
//! - [`discover`]: dictionary rows into a [`migrate_core::Catalog`] through the converter's
//!   Oracle type map: tables with statistics and sizes (LOB bytes apart), and every other object
//!   `migrate assess` inventories;
//! - [`preflight`]: what the session and the database answered into the replication preflight's
//!   checks;
//! - [`redo`] and [`value`]: LogMiner's `SQL_REDO`/`SQL_UNDO` statements into column values, and
//!   values into the canonical Arrow types of `migrate_batch`;
//! - [`logminer`]: continuation rows, transactions, mining windows and log file selection;
//! - [`changes`] and [`events`]: row changes into `migrate_source::ChangeEvent`s;
//! - [`position`]: `scn:<n>[;mine_from=<m>]` positions and the resume rule.
//!
//! The database access (feature `oracle`, through ODPI-C: Oracle Instant Client must be
//! installed where it runs) is a thin layer that executes those statements: `OracleSource`
//! and its change stream (not yet behind `migrate replicate`: see docs/source-oracle.md).
//!
//! **Untested against a live Oracle database**: no Oracle server runs where this crate was built.
//! See `docs/source-oracle.md`.

pub mod changes;
pub mod connect;
pub mod discover;
mod error;
pub mod events;
pub mod logminer;
pub mod position;
pub mod preflight;
pub mod redo;
pub mod sql;
pub mod value;

#[cfg(feature = "oracle")]
mod client;

#[cfg(feature = "oracle")]
pub use client::{OracleChanges, OracleSource, StreamOptions};
pub use error::{ora_code, transient_code, OracleError};
pub use position::ScnPosition;
