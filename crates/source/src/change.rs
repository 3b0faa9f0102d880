//! The seam between `migrate replicate --cdc` and the engines' change streams: what a source
//! delivers after its full load ([`ChangeEvent`]s, in commit order) and the layout of the record
//! batches that carry row changes ([`change_schema`]).
//!
//! Every engine crate turns its own log (PostgreSQL logical replication with pgoutput, the
//! MySQL/MariaDB binlog, Oracle LogMiner) into these events; the apply path, staging and the
//! warehouses never see an engine's format.

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};
use migrate_core::{ErrorClass, QualifiedName, Table};
use std::fmt;
use std::future::Future;
use std::time::SystemTime;

/// A point in a source's change log, in the engine's own notation, which its
/// [`ChangeSource::open_changes`] accepts back:
///
/// - PostgreSQL: an LSN, `16/B374D848`;
/// - MySQL/MariaDB: `binlog.000003:4567` (file and position), optionally followed by
///   `;gtid=0-1-42` (MariaDB GTID) or `;gtid=<uuid>:1-42` (MySQL executed GTID set);
/// - Oracle: `scn:123456789`, optionally followed by `;mine_from=123450000` (the SCN where LogMiner
///   must restart so that no transaction still open at the checkpoint is read partially).
///
/// Positions are compared only by the engine that produced them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position(pub String);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Delete,
}

impl Operation {
    /// The value of the [`OP_COLUMN`]: `I`, `U` or `D`.
    pub fn code(self) -> &'static str {
        match self {
            Operation::Insert => "I",
            Operation::Update => "U",
            Operation::Delete => "D",
        }
    }
}

/// One event of a change stream. Events come in the source's commit order: the rows of a
/// transaction (possibly in several [`ChangeEvent::Rows`], possibly for several tables), then
/// its [`ChangeEvent::Commit`]. Consecutive transactions may share one commit event (the last
/// one's): a source may hand over small transactions together. Nothing of a transaction that did
/// not commit is ever delivered.
// `Table` is the large variant, and the rare one (a new table or a column change): boxing it would
// change every source and consumer for no measurable gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ChangeEvent {
    /// Row changes of one table, in source order, as a record batch whose schema is
    /// [`change_schema`] of the table's current definition (the last [`ChangeEvent::Table`]
    /// sent for it, or its discovered definition).
    Rows {
        table: QualifiedName,
        changes: RecordBatch,
    },
    /// Every row of these tables was removed (TRUNCATE), at this point of the transaction.
    Truncate { tables: Vec<QualifiedName> },
    /// A table's definition as of this point of the stream: a table seen for the first time, or
    /// one whose columns changed (ADD / DROP COLUMN). Column types are canonical (the converter's
    /// type mapping). Sent before the first row that uses it.
    ///
    /// `renamed`: the columns the source knows for certain were renamed between the table's
    /// previous definition and this one, as (old name, new name) in the source's names, each
    /// with the type it had (a type the same statement changed comes in a later definition).
    /// MySQL/MariaDB read them from the `ALTER TABLE`'s statement; a source whose log can't tell
    /// a rename from a drop and an add (PostgreSQL's pgoutput carries names only) leaves it
    /// empty, and its renames look like a column dropped and one added.
    Table {
        table: Table,
        renamed: Vec<(String, String)>,
    },
    /// The transaction whose rows came before committed. Resuming from `position` delivers
    /// exactly the transactions that committed after it.
    Commit {
        position: Position,
        committed_at: Option<SystemTime>,
    },
    /// No change to deliver, but the source's log reached `position` (every transaction up to it
    /// was delivered): lets the stream acknowledge and report lag when watched tables are idle.
    Idle {
        position: Position,
        server_time: Option<SystemTime>,
    },
}

/// The row's operation: `I`, `U` or `D` (Utf8, never null).
pub const OP_COLUMN: &str = "__op";
/// Which after-image columns are *unchanged* (PostgreSQL TOASTed values not sent with an
/// update): Utf8 with one character per table column, `1` for unchanged, `0` otherwise; null
/// when every column has its value. An unchanged column's value column is null and must be taken
/// from the row's previous state, never applied as NULL.
pub const UNCHANGED_COLUMN: &str = "__unchanged";
/// Prefix of the before-image key columns: `__before_<key column>`, one per primary-key column,
/// set for updates and deletes (for an update that does not change the key, equal to the
/// after-image's key), null for inserts.
pub const BEFORE_PREFIX: &str = "__before_";

/// The name of the before-image column of key column `column`.
pub fn before_column(column: &str) -> String {
    format!("{BEFORE_PREFIX}{column}")
}

/// The schema of a [`ChangeEvent::Rows`] batch of `table`: [`OP_COLUMN`], [`UNCHANGED_COLUMN`],
/// the before-image of each primary-key column, then every column of the table (the after-image;
/// null for deletes), all with their canonical Arrow types (`migrate_batch`) and nullable.
pub fn change_schema(table: &Table) -> Schema {
    let mut fields = vec![
        Field::new(OP_COLUMN, DataType::Utf8, false),
        Field::new(UNCHANGED_COLUMN, DataType::Utf8, true),
    ];
    for key in key_columns(table) {
        if let Some(column) = table.columns.iter().find(|c| c.name.value == key) {
            fields.push(migrate_batch::field(
                &before_column(&column.name.value),
                &column.data_type,
                true,
            ));
        }
    }
    for column in &table.columns {
        fields.push(migrate_batch::field(
            &column.name.value,
            &column.data_type,
            true,
        ));
    }
    Schema::new(fields)
}

/// The primary-key columns of `table`, in key order (empty for a table without one).
pub fn key_columns(table: &Table) -> Vec<String> {
    table
        .primary_key()
        .map(|columns| columns.iter().map(|c| c.value.clone()).collect())
        .unwrap_or_default()
}

/// How a task whose change capture can't go on from where it stands starts over: the words the
/// actions of such errors end with, as a literal for `concat!` ([`START_OVER`] otherwise).
#[macro_export]
macro_rules! start_over {
    () => {
        "run the task again with --restart (a new full load)"
    };
}

/// See [`start_over!`].
pub const START_OVER: &str = start_over!();

/// What to do about a captured change holding a value the target can't represent (the action of
/// such an error): the full load's advice, fix the row and run again, does not hold for a change,
/// which stays in the source's log.
pub const UNREPRESENTABLE_CHANGE_ACTION: &str = concat!(
    "the change stays in the source's log and is read again whenever the task resumes: fix the \
     value in the source, then ",
    start_over!(),
    ", or exclude the table from the task"
);

/// Which tables a change stream delivers, by source name: the task's selection rules. Tables that
/// appear after the stream opened (CREATE TABLE on the source) are delivered when it says yes.
pub type TableFilter = std::sync::Arc<dyn Fn(&QualifiedName) -> bool + Send + Sync>;

/// Whether the task keeps a column (by name) of a table (its definition as the source describes
/// it): the task's mapping rules.
pub type ColumnFilter = std::sync::Arc<dyn Fn(&Table, &str) -> bool + Send + Sync>;

/// What of the source a change stream delivers.
#[derive(Clone)]
pub struct Selection {
    /// New tables (created after the stream opened) are delivered when this says yes.
    pub tables: TableFilter,
    /// The columns the task keeps. A source may deliver the others as NULL when it can't read
    /// them (PostgreSQL: a type whose binary form it does not decode); a kept column it can't
    /// read is an error.
    pub columns: ColumnFilter,
}

impl Selection {
    /// New tables as `tables` says, every column kept.
    pub fn every_column(tables: TableFilter) -> Selection {
        Selection {
            tables,
            columns: std::sync::Arc::new(|_, _| true),
        }
    }
}

/// A source that can stream its changes after a full load: [`crate::Source`] plus capture.
pub trait ChangeSource: crate::Source {
    type Changes: ChangeStream<Error = Self::Error>;

    /// Prepares change capture for `task` (PostgreSQL: a publication and a replication slot;
    /// MySQL: nothing beyond the binlog) and opens the full load's snapshot exactly where the
    /// change stream will start: the returned position. Rows committed up to it are in the
    /// snapshot; every later transaction comes through [`ChangeSource::open_changes`] from it.
    fn capture_snapshot(
        &self,
        task: &str,
        tables: &[Table],
        readers: usize,
    ) -> impl Future<Output = Result<(Self::Snapshot, Position), Self::Error>> + Send;

    /// Checks that `from` is a position of this source (PostgreSQL: an LSN; MySQL: a binlog
    /// file:position, with an optional `;gtid=` set) without using it: a malformed `--from` is
    /// refused even where a resumed task does not start from it. A definite error says what a
    /// position looks like.
    fn check_position(&self, from: &Position) -> Result<(), Self::Error>;

    /// Prepares capture for `--cdc-only --from`: no full load, changes from `from` on. Fails
    /// with a definite error when the source can't deliver changes from that far back
    /// (PostgreSQL: a slot only holds changes from its creation).
    fn start_capture(
        &self,
        task: &str,
        tables: &[Table],
        from: &Position,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Checks, before anything is loaded, that capture can read every column of `tables` that
    /// `selection` keeps (PostgreSQL: types whose binary form it decodes). A definite error names
    /// the table and column it can't read.
    fn check_columns(
        &self,
        tables: &[Table],
        selection: &Selection,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Opens `task`'s change stream, delivering every transaction that committed after `from`
    /// for `tables` (their current definitions) and for new tables `selection` accepts.
    fn open_changes(
        &self,
        task: &str,
        tables: &[Table],
        selection: Selection,
        from: &Position,
    ) -> impl Future<Output = Result<Self::Changes, Self::Error>> + Send;

    /// Removes what [`ChangeSource::capture_snapshot`] set up on the source (PostgreSQL: the
    /// slot, which holds WAL back while it exists, and the publication). Nothing when absent.
    fn drop_capture(&self, task: &str) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// A stream of [`ChangeEvent`]s.
pub trait ChangeStream: Send + 'static {
    type Error: std::error::Error + ErrorClass + Send + Sync + 'static;

    /// The next event; `None` once the stream was stopped. Waits while there is nothing to
    /// deliver, sending [`ChangeEvent::Idle`] now and then so callers see progress.
    fn next_event(
        &mut self,
    ) -> impl Future<Output = Result<Option<ChangeEvent>, Self::Error>> + Send;

    /// Tells the source that every transaction up to `position` (a [`ChangeEvent::Commit`] or
    /// [`ChangeEvent::Idle`] position) is durable in the target: the source may release its log
    /// up to there. Never call it for a position that is not durable yet.
    fn acknowledge(
        &mut self,
        position: &Position,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Column, Constraint, ConstraintKind, ConstraintState, Ident, LogicalType};

    #[test]
    fn the_change_layout_has_op_unchanged_before_keys_then_every_column() {
        let mut table = Table::new(QualifiedName::new(
            Some(Ident::new("public")),
            Ident::new("orders"),
        ));
        table.columns = vec![
            Column::new(Ident::new("id"), "bigint", LogicalType::BigInt),
            Column::new(Ident::new("note"), "text", LogicalType::Text),
        ];
        table.constraints = vec![Constraint {
            name: None,
            kind: ConstraintKind::PrimaryKey(vec![Ident::new("id")]),
            state: ConstraintState::default(),
            index: Default::default(),
        }];
        let schema = change_schema(&table);
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["__op", "__unchanged", "__before_id", "id", "note"]);
        assert!(schema.field(4).is_nullable());
        assert_eq!(schema.field(2).data_type(), &DataType::Int64);
    }
}
