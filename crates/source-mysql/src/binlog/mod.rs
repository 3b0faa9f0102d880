//! Change capture from the row-based binlog: [`MysqlSource`] as a
//! [`migrate_source::ChangeSource`].
//!
//! The stream registers as a replica (a unique `server_id` per stream) and reads the binlog
//! from a position, turning row events of the watched tables into [`ChangeEvent`]s:
//!
//! - positions are `file:pos` of the end of a transaction's last event (its XID, or COMMIT
//!   query, or the DDL statement), with `;gtid=<state>` appended: MariaDB's GTID state
//!   (`domain-server-seq,...`), tracked from the GTID events (type 0xa2, decoded by hand: the
//!   session sets `@mariadb_slave_capability=4` to get them); MySQL's executed GTID set when the
//!   starting position carried one (tracked from MySQL's GTID events).
//! - resuming: from `file:pos` when the server still has the file (`SHOW BINARY LOGS`); on
//!   MariaDB, when the file was purged and the position has a GTID state, from that state
//!   (`SET @slave_connect_state`); otherwise a definite error (the changes in between are lost:
//!   start over with `--restart`).
//! - the TableMap of each table is the authority on its columns (names from
//!   `binlog_row_metadata=FULL`); table ids change after an ALTER, so the latest TableMap of an
//!   id is always used. When a watched table's columns differ from the known definition (ADD /
//!   DROP / MODIFY COLUMN), the table is rediscovered: the TableMap gives the column list and
//!   order, the live catalog only the canonical type of each column by name (the catalog can be
//!   ahead of the binlog), and a [`ChangeEvent::Table`] goes before its rows. A table's first
//!   TableMap in a stream is compared with the definition the stream was opened with, column by
//!   column (`MapColumn::logs`): a stream that resumes after an ALTER sees it too. A column
//!   added NOT NULL without a DEFAULT is announced with its type's implicit value as its
//!   default (the value the source gave the rows it had), or stops the stream when the target
//!   can't be given that value (a zero date) and a row of the source still holds it.
//! - row events of one table are gathered into batches of at most [`rows::BATCH_ROWS`] rows or
//!   about [`rows::BATCH_BYTES`] bytes, handed on as they fill and at a change of table: a
//!   transaction of any size streams in bounded memory. Consecutive transactions of one table
//!   share a batch: a commit is held back while the next transaction's events are at hand (or
//!   arrive within 2 ms), for 50 ms at most, and only the last commit of the batch is delivered
//!   (positions stay transaction ends; see `Gathering`).
//! - QUERY events: `BEGIN` is skipped, `COMMIT` commits, `TRUNCATE` of a watched table gives
//!   [`ChangeEvent::Truncate`] then a commit; a rename that would leave a target table silently
//!   wrong stops the stream: a table renamed to a selected name it was not captured under (it
//!   would arrive as a new table without its rows), a watched table renamed onto another
//!   watched table's name (that target table holds the other table's rows; a swap of two);
//!   a watched table renamed out of the selection or dropped is a warning (its target table
//!   keeps its rows; a swap's, where a table the task does not capture takes its name, says the
//!   target table gets that table's changes), and so is a table the task does not capture
//!   taking a watched name freed before;
//!   an `ALTER TABLE` of a watched table is checked against the live catalog: a kept generated
//!   column it added, made generated or gave another expression got values for the rows the
//!   table held without row events, so it stops the stream while the table has rows;
//!   other DDL is seen through the next TableMap. An `ALTER TABLE` MariaDB logged in two phases
//!   (`binlog_alter_two_phase`: START ALTER, then COMMIT or ROLLBACK ALTER, each with the
//!   statement) is acted on at its COMMIT ALTER only. The tables a statement names are matched
//!   as the server compares names: case-insensitively with `lower_case_table_names` 1 or 2.
//!   INSERT/UPDATE/DELETE logged as statements (a session with `binlog_format=STATEMENT`) on a
//!   watched schema stop the stream with a definite error: their rows can't be captured.
//! - refused when the stream opens: binlog off, `binlog_format` other than ROW,
//!   `binlog_row_image` other than FULL, `binlog_row_metadata` other than FULL, MariaDB
//!   `log_bin_compress=ON`; and in the stream, compressed events (MariaDB
//!   `*_COMPRESSED_EVENT`s) stop it with a definite error: they are never skipped.
//! - heartbeats (every [`HEARTBEAT`]) and skipped transactions give [`ChangeEvent::Idle`].
//!
//! Durability: MySQL keeps no replica state for this stream; what was delivered is remembered
//! only by the caller's checkpoint (the Commit positions). [`ChangeStream::acknowledge`]
//! records nothing on the server.

mod charset;
mod position;
mod query;
mod rows;
mod temporal;

use crate::connect::{first, get, Flavor, Target};
use crate::discover::implicit_default;
use crate::read::find_column;
use crate::sql::{display_name, quote_ident, table_sql_name};
use crate::{MysqlSnapshot, MysqlSource, SourceError};
use futures::{FutureExt, StreamExt};
use migrate_core::{
    Column, ColumnDefault, ConstraintKind, Ident, LogicalType, QualifiedName, Table,
};
use migrate_source::{
    ChangeEvent, ChangeSource, ChangeStream, ColumnFilter, Position, Selection, TableFilter,
    START_OVER,
};
use mysql_async::binlog::events::{Event, EventData, RowsEventData, TableMapEvent};
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn, Row};
use position::{
    decode_maria_gtid, format_position, log_sequence, uuid_text, BinlogCursor, MariaGtid,
    MariaGtidState, MysqlGtidSet,
};
use query::{AlterPhase, Statement};
use rows::{Layout, MapTable, Pending};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub use rows::{BATCH_BYTES, BATCH_ROWS};

/// How often the server sends a heartbeat when it has no event to send.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// How long skipped transactions (none of the watched tables) may go without an
/// [`ChangeEvent::Idle`].
const IDLE_EVERY: Duration = Duration::from_secs(1);

/// While a commit is held back ([`Gathering`]) and nothing more of the binlog is at hand, how long
/// the stream waits for the next event before it hands the commit over.
const LINGER: Duration = Duration::from_millis(2);

/// The longest a commit is held back to gather the next transactions' rows with its own.
const HOLD_AT_MOST: Duration = Duration::from_millis(50);

/// MariaDB event types that `mysql_common` does not know.
const MARIA_ANNOTATE_ROWS: u8 = 160;
const MARIA_GTID: u8 = 162;
/// QUERY_COMPRESSED_EVENT up to DELETE_ROWS_COMPRESSED_EVENT (v1 and v2).
const MARIA_COMPRESSED: std::ops::RangeInclusive<u8> = 165..=171;

/// Which table a table id of the stream stands for (a watched one, by key, or another).
type TableKey = (String, String);

/// A watched table: its definition as last announced, and its layout for the current TableMap.
struct Watched {
    table: Table,
    /// The TableMap the layout was made for.
    map: Option<MapTable>,
    layout: Option<Layout>,
    /// The columns as the last `ALTER TABLE` of the table found them in the catalog (at first,
    /// `table`'s): what the next one's generated columns are compared with (see
    /// [`MysqlChangeStream::altered`]).
    judged: Vec<Column>,
}

impl Watched {
    fn new(table: Table, map: Option<MapTable>, layout: Option<Layout>) -> Watched {
        let judged = table.columns.clone();
        Watched {
            table,
            map,
            layout,
            judged,
        }
    }
}

/// `columns` (a table's, as it was before an `ALTER TABLE`) with the renames of the statement's
/// `changes` made where `kept` says so (by the old name); or the rename, from and to, onto the
/// name of a column the statement renames away or drops (a swap, or a dropped column's name
/// taken), which can't be followed. A rename whose old name `columns` lacks, or whose new name
/// they have while the statement neither renames nor drops that column (MySQL refuses two
/// columns of one name: `columns` are past the statement, as on a replay after a transient
/// failure, the definitions being saved ahead of the checkpoint), is skipped.
fn renamed_columns<'c>(
    columns: &[Column],
    changes: &'c query::ColumnChanges,
    kept: impl Fn(&str) -> bool,
) -> Result<Vec<Column>, (&'c str, &'c str)> {
    let at = |column: &str| {
        columns
            .iter()
            .position(|c| c.name.value.eq_ignore_ascii_case(column))
    };
    let mut renamed = columns.to_vec();
    for (from, to) in &changes.renamed {
        let Some(i) = at(from) else {
            continue;
        };
        if at(to).is_some() {
            let moved = (changes.renamed.iter().map(|(from, _)| from))
                .chain(&changes.dropped)
                .any(|column| column.eq_ignore_ascii_case(to));
            if moved {
                return Err((from, to));
            }
            continue;
        }
        if kept(&columns[i].name.value) {
            renamed[i].name = Ident::new(to);
        }
    }
    Ok(renamed)
}

/// `table`'s keys with the columns `renamed` (old name, new name) named anew: a key column
/// renamed is the same key, under its new name.
fn rename_in_constraints(table: &mut Table, renamed: &[(String, String)]) {
    for constraint in &mut table.constraints {
        let columns = match &mut constraint.kind {
            ConstraintKind::PrimaryKey(columns) | ConstraintKind::Unique(columns) => columns,
            ConstraintKind::ForeignKey(key) => &mut key.columns,
            ConstraintKind::Check(_) => continue,
        };
        for column in columns {
            if let Some((_, to)) = renamed.iter().find(|(from, _)| *from == column.value) {
                *column = Ident::new(to);
            }
        }
    }
}

/// The GTID state carried along the stream.
enum GtidState {
    None,
    Maria(MariaGtidState),
    Mysql(MysqlGtidSet),
}

impl GtidState {
    /// `text`, the GTID state of position `from` on a `flavor` server.
    fn parse(flavor: Flavor, text: &str, from: &Position) -> Result<GtidState, SourceError> {
        match flavor {
            Flavor::MariaDb(..) => maria_gtid_state(text, from).map(GtidState::Maria),
            Flavor::Mysql(..) => MysqlGtidSet::parse(text)
                .map(GtidState::Mysql)
                .ok_or_else(|| SourceError::InvalidPosition {
                    position: from.0.clone(),
                    message: format!("`{text}` is not a MySQL GTID set (uuid:1-42,...)"),
                }),
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            GtidState::None => None,
            GtidState::Maria(state) => Some(state.to_string()),
            GtidState::Mysql(set) => Some(set.to_string()),
        }
    }
}

/// The GTID of the event group being read.
enum GroupGtid {
    Maria(MariaGtid),
    Mysql(String, u64),
}

/// Change rows not handed over yet, and the commit they may be held behind: consecutive
/// transactions of one table are handed over as one batch and their last commit while more of
/// the binlog is at hand or arrives within [`LINGER`], for [`HOLD_AT_MOST`] at most (one-row
/// transactions would otherwise travel alone, each in a batch of its own).
#[derive(Default)]
struct Gathering {
    /// Rows of one table, in binlog order.
    rows: Option<Pending>,
    /// The commit held back, if any.
    held: Option<Held>,
}

/// The commit of the last complete transaction whose rows are the first `rows` of
/// [`Gathering::rows`], held back since `since` (the first commit of the batch held).
struct Held {
    commit: ChangeEvent,
    rows: usize,
    since: Instant,
}

impl Gathering {
    /// Hands over the rows gathered and the commit held, in binlog order: the rows of complete
    /// transactions, their last commit, then the rows of the open transaction.
    fn flush(&mut self, out: &mut VecDeque<ChangeEvent>) -> Result<(), SourceError> {
        let held = self.held.take();
        let Some(pending) = self.rows.take().filter(|p| p.rows > 0) else {
            out.extend(held.map(|h| h.commit));
            return Ok(());
        };
        let table = pending.table.clone();
        let changes = pending.finish()?;
        match held {
            Some(Held { commit, rows, .. }) if rows < changes.num_rows() => {
                let open = changes.slice(rows, changes.num_rows() - rows);
                out.push_back(ChangeEvent::Rows {
                    table: table.clone(),
                    changes: changes.slice(0, rows),
                });
                out.push_back(commit);
                out.push_back(ChangeEvent::Rows {
                    table,
                    changes: open,
                });
            }
            held => {
                out.push_back(ChangeEvent::Rows { table, changes });
                out.extend(held.map(|h| h.commit));
            }
        }
        Ok(())
    }
}

/// A change stream of a MySQL/MariaDB server: see the module documentation.
pub struct MysqlChangeStream {
    binlog: BinlogStream,
    /// A connection of its own for rediscovering tables whose columns changed.
    catalog: MysqlSource,
    endpoint: String,
    watched: HashMap<TableKey, Watched>,
    /// Decides on tables first seen in the binlog (created after the stream opened), and on
    /// rename targets: the task's selection, within the URL's database when it names one.
    selected: TableFilter,
    /// The columns the task keeps (see `refuse_auto_increment_generated`).
    columns: ColumnFilter,
    /// Table id -> watched table; `None`: a table the stream skips.
    ids: HashMap<u64, Option<TableKey>>,
    /// The server compares database and table names case-insensitively
    /// (`lower_case_table_names` 1 or 2): keys are folded to lower case (see [`fold`]).
    fold_case: bool,
    collations: HashMap<u16, String>,
    /// The binlog file being read.
    file: String,
    gtid: GtidState,
    group_gtid: Option<GroupGtid>,
    /// The phase of a two-phase `ALTER TABLE` the current event group is (see
    /// [`query::alter_phase`]).
    alter_phase: Option<AlterPhase>,
    /// The table the last `ALTER TABLE` of a watched table read from the catalog, for the
    /// table's TableMap after it, which would otherwise read the catalog again; dropped at the
    /// next DDL statement (one at a time: every DDL statement drops it first).
    last_altered: Option<(TableKey, Table)>,
    /// Inside `BEGIN` ... `COMMIT`/XID.
    in_transaction: bool,
    /// Something of the current group was delivered (rows, truncate, table).
    delivered: bool,
    gathering: Gathering,
    out: VecDeque<ChangeEvent>,
    /// The end of the last complete event group: where a resume would start.
    committed: (String, u64),
    last_output: Instant,
    /// A format description event was read: event checksums are known to the reader.
    format_known: bool,
    /// The server checksums its events (`binlog_checksum` is not NONE).
    checksums: bool,
}

/// MySQL keeps nothing on the server for a capture (no slot, no publication): `task` names
/// nothing there, and [`ChangeSource::drop_capture`] has nothing to remove.
impl ChangeSource for MysqlSource {
    type Changes = MysqlChangeStream;

    /// The GTID state too, as this server's flavor writes it: the stream reads it only when it
    /// opens, after the position was stored as the task's checkpoint.
    fn check_position(&self, from: &Position) -> Result<(), SourceError> {
        match BinlogCursor::parse(&from.0)?.gtid {
            Some(gtid) => GtidState::parse(self.flavor, &gtid, from).map(drop),
            None => Ok(()),
        }
    }

    /// Checks capture ([`MysqlSource::ensure_change_capture`]), then opens the snapshot: its
    /// binlog position, taken under the global read lock (or tied to the transaction on
    /// MariaDB), is where the stream starts.
    async fn capture_snapshot(
        &self,
        _task: &str,
        tables: &[Table],
        readers: usize,
    ) -> Result<(MysqlSnapshot, Position), SourceError> {
        self.ensure_change_capture(tables).await?;
        let snapshot = self.snapshot(readers).await?;
        match snapshot.binlog_position() {
            Some(position) => {
                let position = position.change_position();
                Ok((snapshot, position))
            }
            None => {
                // Best effort: the snapshot is of no use without a position.
                let _ = snapshot.close().await;
                Err(SourceError::ChangeCapture {
                    at: self.endpoint().to_string(),
                    message: "the snapshot has no binlog position to start change capture from (the binlog is off, the user may not run SHOW MASTER STATUS, or MySQL without the RELOAD privilege can't tie the position to the snapshot)".into(),
                    action: "grant RELOAD, REPLICATION CLIENT and REPLICATION SLAVE to the user, with the binlog on".into(),
                })
            }
        }
    }

    /// Checks capture and that the server can still serve `from` (its file, or on MariaDB its
    /// GTID state when the file was purged).
    async fn start_capture(
        &self,
        _task: &str,
        tables: &[Table],
        from: &Position,
    ) -> Result<(), SourceError> {
        let cursor = BinlogCursor::parse(&from.0)?;
        self.ensure_change_capture(tables).await?;
        let mut conn = self.conn.lock().await;
        start_point(&mut conn, self.flavor, self.endpoint(), &cursor, from, true).await?;
        Ok(())
    }

    /// Refused with [`SourceError::ChangeCapture`] when the server's settings can't give every
    /// change (see the module documentation) or the position is gone.
    async fn open_changes(
        &self,
        _task: &str,
        tables: &[Table],
        selection: Selection,
        from: &Position,
    ) -> Result<MysqlChangeStream, SourceError> {
        // Every column of a row image is decoded; `selection.columns` only says which generated
        // columns of tables announced later must be refused.
        MysqlChangeStream::open(&self.target, self.flavor, tables, selection, from).await
    }

    async fn drop_capture(&self, _task: &str) -> Result<(), SourceError> {
        Ok(())
    }

    /// Every column type is read from the binlog; [`MysqlSource::ensure_change_capture`] checks
    /// what can't be. What this checks: a kept generated column computed from the AUTO_INCREMENT
    /// column (MariaDB allows it for VIRTUAL ones) is refused, as an insert logs it computed
    /// before the server assigned the key (`0` for `id * 2`); and foreign-key actions: the rows
    /// they change are not in the binlog, so a captured table such a key changes is warned about.
    async fn check_columns(
        &self,
        tables: &[Table],
        selection: &Selection,
    ) -> Result<(), SourceError> {
        for table in tables {
            refuse_auto_increment_generated(table, &selection.columns)?;
        }
        let context = "reading the foreign keys of the captured tables";
        let rows: Vec<Row> = self
            .conn
            .lock()
            .await
            .query(FOREIGN_KEY_ACTIONS_SQL)
            .await
            .map_err(SourceError::query(context))?;
        let captured: HashSet<String> = tables.iter().map(display_name).collect();
        for mut row in rows {
            let (Some(schema), Some(table), Some(name), Some(actions)) = (
                get::<String>(&mut row, 0, context)?,
                get::<String>(&mut row, 1, context)?,
                get::<String>(&mut row, 2, context)?,
                get::<String>(&mut row, 3, context)?,
            ) else {
                continue;
            };
            let child = format!("{schema}.{table}");
            if captured.contains(&child) {
                tracing::warn!(
                    "{child}: foreign key {name} ({actions}) changes rows that the binlog does not carry: those changes will not reach the target (migrate validate finds them; see docs/cdc.md)"
                );
            }
        }
        Ok(())
    }
}

/// Refuses a generated column of `table` that the task keeps (`columns`) and that is computed
/// from the AUTO_INCREMENT column (see [`from_auto_increment`]): an insert logs it computed
/// before the server assigned the key.
fn refuse_auto_increment_generated(
    table: &Table,
    columns: &ColumnFilter,
) -> Result<(), SourceError> {
    match from_auto_increment(table)
        .into_iter()
        .find(|c| columns(table, &c.name.value))
    {
        Some(column) => Err(SourceError::Unsupported {
            table: display_name(table),
            column: column.name.value.clone(),
            message: format!(
                "a generated column computed from the AUTO_INCREMENT column ({}): the binlog logs an inserted row with the value computed before the server assigned the key (as if the key were 0), so its changes would put wrong values in the target (the full load reads the right ones); drop it from the task with a remove-column rule (and compute it in the target if you need it: ALTER TABLE ... ADD COLUMN ... GENERATED ALWAYS AS (...) STORED), or exclude the table",
                column.generated.as_deref().unwrap_or_default()
            ),
        }),
        None => Ok(()),
    }
}

/// The generated columns of `table` computed from its AUTO_INCREMENT column, directly or through
/// other generated columns. Expressions name columns quoted (`` `id` * 2 ``), as
/// `information_schema.COLUMNS.GENERATION_EXPRESSION` gives them on MariaDB and MySQL.
fn from_auto_increment(table: &Table) -> Vec<&migrate_core::Column> {
    let mut sources: Vec<&migrate_core::Column> = table
        .columns
        .iter()
        .filter(|c| c.identity.is_some())
        .collect();
    let mut dependent = Vec::new();
    loop {
        let found = table.columns.iter().find(|c| {
            c.generated.as_deref().is_some_and(|expression| {
                let expression = expression.to_lowercase();
                sources.iter().any(|s| {
                    let quoted = format!("`{}`", s.name.value.replace('`', "``")).to_lowercase();
                    expression.contains(&quoted)
                })
            }) && !dependent
                .iter()
                .any(|d: &&migrate_core::Column| d.name == c.name)
        });
        match found {
            Some(column) => {
                dependent.push(column);
                sources.push(column);
            }
            None => return dependent,
        }
    }
}

/// How an `ALTER TABLE` gave a generated column values for the rows its table held (see
/// [`recomputed`]).
#[derive(Debug, PartialEq)]
enum Recomputed<'t> {
    Added,
    /// An existing column was made generated.
    MadeGenerated,
    /// The expression changed; the one before.
    Changed(&'t str),
}

impl Recomputed<'_> {
    /// In words, for generated `column` of `table`.
    fn describe(&self, column: &Column, table: &str) -> String {
        let (name, expression) = (
            &column.name,
            column.generated.as_deref().unwrap_or_default(),
        );
        match self {
            Recomputed::Added => {
                format!("column {name} was added to {table} as a generated column ({expression})")
            }
            Recomputed::MadeGenerated => {
                format!("column {name} of {table} was made a generated column ({expression})")
            }
            Recomputed::Changed(before) => format!(
                "the expression of generated column {name} of {table} was changed from ({before}) to ({expression})"
            ),
        }
    }
}

/// The generated columns of `now` (a table as the catalog has it after an `ALTER TABLE`) that
/// the task keeps (`columns`) and that are new to `before` (its columns before), were not
/// generated there, or had another expression. Expressions are compared as the catalog writes
/// them (`GENERATION_EXPRESSION`, normalised by the server).
fn recomputed<'t>(
    now: &'t Table,
    before: &'t [Column],
    columns: &ColumnFilter,
) -> Vec<(&'t Column, Recomputed<'t>)> {
    now.columns
        .iter()
        .filter(|c| columns(now, &c.name.value))
        .filter_map(|c| {
            let expression = c.generated.as_deref()?;
            let how = match before.iter().find(|b| b.name.matches(&c.name)) {
                None => Recomputed::Added,
                Some(b) => match b.generated.as_deref() {
                    None => Recomputed::MadeGenerated,
                    Some(old) if old != expression => Recomputed::Changed(old),
                    Some(_) => return None,
                },
            };
            Some((c, how))
        })
        .collect()
}

/// Foreign keys whose actions change the referencing rows (`CASCADE`, `SET NULL`, `SET
/// DEFAULT`): schema, table, key name and its rules.
const FOREIGN_KEY_ACTIONS_SQL: &str = "
SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME,
       CONCAT('ON DELETE ', DELETE_RULE, ' ON UPDATE ', UPDATE_RULE)
  FROM information_schema.REFERENTIAL_CONSTRAINTS
 WHERE DELETE_RULE NOT IN ('RESTRICT', 'NO ACTION') OR UPDATE_RULE NOT IN ('RESTRICT', 'NO ACTION')";

/// What to do when the binlog a task resumes from is gone from the server.
const PURGED_ACTION: &str = concat!("the changes since then can't be read any more: ", migrate_source::start_over!(), ", and keep binlogs longer (binlog_expire_logs_seconds, or expire_logs_days) than a task may stay stopped");

/// Whether the stream starting at `cursor` reads by GTID (the file is gone, MariaDB, the
/// position has a GTID state) or by file and position; an error when neither can serve it: the
/// file was purged and the position has no GTID state, or, for a position the user `given`
/// (`--cdc-only --from`), the server has not written it yet (past the end of its file, a later
/// file, a GTID after the server's) or purged it (a GTID before its oldest binlog file's):
/// taken as it was, it would be stored as the task's checkpoint before the stream refused it.
/// A checkpoint (a resume, a reconnect) is a position the server sent: the server judges it
/// when the stream opens.
async fn start_point(
    conn: &mut Conn,
    flavor: Flavor,
    endpoint: &str,
    cursor: &BinlogCursor,
    from: &Position,
    given: bool,
) -> Result<bool, SourceError> {
    let context = format!("listing the binary logs on {endpoint}");
    let rows: Vec<Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(SourceError::query(context.clone()))?;
    // Name and size in bytes, oldest first.
    let mut logs = Vec::new();
    for mut row in rows {
        if let (Some(name), Some(size)) = (
            get::<String>(&mut row, 0, &context)?,
            get::<u64>(&mut row, 1, &context)?,
        ) {
            logs.push((name, size));
        }
    }
    let (Some((first, _)), Some((last, end))) = (logs.first(), logs.last()) else {
        return Err(SourceError::ChangeCapture {
            at: endpoint.to_string(),
            message: "the server lists no binary logs (SHOW BINARY LOGS)".into(),
            action: "turn the binlog on (log_bin) and restart the server".into(),
        });
    };
    let action = format!("give --from a position the server has written (SHOW MASTER STATUS, SHOW BINARY LOG STATUS on MySQL 8.2 and later, gives the current one, now {last}:{end}; SHOW BINARY LOGS lists its files, {first} to {last}), adding --restart when the task has a checkpoint, or run a full load (--cdc)");
    let unwritten = |message: String| SourceError::ChangeCapture {
        at: endpoint.to_string(),
        message,
        action: action.clone(),
    };
    // Not PURGED_ACTION: --restart alone would start from the same --from again.
    let purged_action = format!("the changes since that position can't be read any more: run a full load (--cdc instead of --cdc-only, adding --restart when the task has a checkpoint), or give --from a later position the server still has (SHOW BINARY LOGS lists its files, {first} to {last}; SHOW MASTER STATUS, SHOW BINARY LOG STATUS on MySQL 8.2 and later, gives the current one, now {last}:{end})");
    let purged = |message: String| SourceError::ChangeCapture {
        at: endpoint.to_string(),
        message,
        action: purged_action.clone(),
    };
    if let Some((_, size)) = logs.iter().find(|(name, _)| *name == cursor.file) {
        if given && cursor.pos > *size {
            let (file, closed) = (&cursor.file, cursor.file != *last);
            return Err(unwritten(if closed {
                format!("position {from} is past the end of binlog file {file} ({size} bytes), which the server closed for the next one: nothing was ever written there")
            } else {
                format!("position {from} is past the end of the current binlog file {file} ({size} bytes): nothing was written there yet")
            }));
        }
        return Ok(false);
    }
    if let (Flavor::MariaDb(..), Some(gtid)) = (flavor, &cursor.gtid) {
        let state = maria_gtid_state(gtid, from)?;
        if !given {
            return Ok(true);
        }
        let context = format!("reading the GTID position on {endpoint}");
        let current = variable(conn, "gtid_binlog_pos", &context)
            .await?
            .unwrap_or_default();
        let server = MariaGtidState::parse(&current).ok_or_else(|| SourceError::Catalog {
            context,
            message: format!("`{current}` is not a GTID state"),
        })?;
        match state.unreached(&server) {
            None => {}
            Some((gtid, Some(last))) => return Err(unwritten(format!(
                "GTID {gtid} of position {from} is after the server's last one of its domain, {last} (@@gtid_binlog_pos {current}): nothing was written there yet"
            ))),
            Some((gtid, None)) => return Err(unwritten(format!(
                "GTID {gtid} of position {from} is of a replication domain the server never logged (@@gtid_binlog_pos {current}): nothing was written there"
            ))),
        }
        // The state the oldest binlog file starts from (its Gtid_list event): the server purged
        // the transactions before it. BINLOG_GTID_POS needs no privilege, where SHOW BINLOG
        // EVENTS needs BINLOG MONITOR; NULL when the file was purged meanwhile.
        let context =
            format!("reading the GTID state binlog file {first} starts from on {endpoint}");
        let oldest_text = conn
            .exec_first::<Option<String>, _, _>("SELECT BINLOG_GTID_POS(?, 4)", (first,))
            .await
            .map_err(SourceError::query(context.clone()))?
            .flatten()
            .unwrap_or_default();
        let oldest = MariaGtidState::parse(&oldest_text).ok_or_else(|| SourceError::Catalog {
            context,
            message: format!("`{oldest_text}` is not a GTID state"),
        })?;
        return match state.purged(&oldest) {
            None => Ok(true),
            Some((_, Some(gtid), first_gtid)) => Err(purged(format!(
                "GTID {gtid} of position {from} is before the oldest binlog file the server still has, {first}, which starts after {first_gtid} in that domain (GTID state {oldest_text}): the transactions in between were purged"
            ))),
            Some((domain, None, first_gtid)) => Err(purged(format!(
                "position {from} has no GTID of replication domain {domain}, so it starts at that domain's first transaction, but the oldest binlog file the server still has, {first}, starts after {first_gtid} (GTID state {oldest_text}): the transactions before it were purged"
            ))),
        };
    }
    match (log_sequence(&cursor.file), log_sequence(last)) {
        (Some((base, number)), Some((last_base, last_number)))
            if given && base == last_base && number > last_number =>
        {
            Err(unwritten(format!(
                "the binlog file {} of position {from} comes after the server's last one, {last}: nothing was written there yet",
                cursor.file
            )))
        }
        _ => {
            let message = format!("the binlog file {} of position {from} is no longer on the server (purged), and the position has no MariaDB GTID to resume from (the server's binary logs are now {first} to {last})", cursor.file);
            Err(if given {
                purged(message)
            } else {
                SourceError::ChangeCapture {
                    at: endpoint.to_string(),
                    message,
                    action: PURGED_ACTION.into(),
                }
            })
        }
    }
}

/// `text`, the GTID state of position `from` on MariaDB.
fn maria_gtid_state(text: &str, from: &Position) -> Result<MariaGtidState, SourceError> {
    MariaGtidState::parse(text).ok_or_else(|| SourceError::InvalidPosition {
        position: from.0.clone(),
        message: format!("`{text}` is not a MariaDB GTID state (domain-server-sequence,...)"),
    })
}

impl MysqlSource {
    /// Preflight of change capture for `tables`, without opening a stream: the binlog settings
    /// (as [`ChangeSource::open_changes`] checks them), the privilege to list the binary logs,
    /// and every column's readability from the binlog (its character set convertible to UTF-8;
    /// no type that the snapshot reads through a text cast but the binlog carries as bytes, such
    /// as MariaDB's UUID and INET6). Every problem is a definite [`SourceError::ChangeCapture`]
    /// or [`SourceError::Unsupported`] naming the setting or the table and column.
    pub async fn ensure_change_capture(&self, tables: &[Table]) -> Result<(), SourceError> {
        let mut conn = self.conn.lock().await;
        check_settings(&mut conn, self.flavor, self.endpoint()).await?;
        let context = format!("listing the binary logs on {}", self.endpoint());
        if let Err(e) = conn.query_drop("SHOW BINARY LOGS").await {
            return Err(match &e {
                mysql_async::Error::Server(server) if [1044, 1045, 1227].contains(&server.code) => SourceError::ChangeCapture {
                    at: self.endpoint().to_string(),
                    message: format!("the user may not read the binary logs ({})", server.message),
                    action: "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* to the user (MariaDB 10.5+: also BINLOG MONITOR)".into(),
                },
                _ => SourceError::query(context)(e),
            });
        }
        let context = format!("reading column character sets on {}", self.endpoint());
        for table in tables {
            let schema = table.name.schema_value().to_string();
            let charsets: Vec<(String, Option<String>)> = conn
                .exec(
                    "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                    (&schema, &table.name.name.value),
                )
                .await
                .map_err(SourceError::query(context.clone()))?;
            for (column, charset) in charsets {
                if let Some(set) = charset.filter(|s| s != "binary") {
                    if charset::Charset::from_name(&set).is_none() {
                        return Err(SourceError::Unsupported {
                            table: display_name(table),
                            column,
                            message: format!("its character set {set} can't be converted to UTF-8 by change capture (utf8mb4, utf8mb3, latin1, ascii, ucs2, utf16, utf16le and utf32 can); convert the column (ALTER TABLE ... CONVERT TO CHARACTER SET utf8mb4) or leave the table out"),
                        });
                    }
                }
            }
            for column in &table.columns {
                let base = crate::read::base_type(&column.source_type);
                let textual = matches!(
                    column.data_type,
                    LogicalType::Char { .. }
                        | LogicalType::Varchar { .. }
                        | LogicalType::Text
                        | LogicalType::Json
                        | LogicalType::Uuid
                );
                if textual
                    && !crate::read::STRING_TYPES.contains(&base.as_str())
                    && !matches!(
                        base.as_str(),
                        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
                    )
                {
                    return Err(SourceError::Unsupported {
                        table: display_name(table),
                        column: column.name.value.clone(),
                        message: format!("type {} is read as text through a cast by the full load, but the binlog carries it in its binary form: change capture can't read it; leave the column out or change its type", column.source_type),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A server id no other replica is likely to use: the stream registers as a replica, and a
/// second registration with the same id would cut the first one off.
fn stream_server_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    let mixed = nanos
        .wrapping_mul(2_654_435_761)
        .wrapping_add(std::process::id().wrapping_mul(40_503))
        .wrapping_add(COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(97));
    // Away from the small ids people give their servers.
    0x4000_0000 | (mixed & 0x3fff_ffff)
}

/// A global variable's value, `None` when the server does not have it.
async fn variable(
    conn: &mut Conn,
    name: &str,
    context: &str,
) -> Result<Option<String>, SourceError> {
    match first::<String>(conn, &format!("SELECT @@GLOBAL.{name}"), context).await {
        Ok(value) => Ok(value),
        // 1193: unknown system variable.
        Err(e) if e.server_code() == Some(1193) => Ok(None),
        Err(e) => Err(e),
    }
}

impl MysqlChangeStream {
    async fn open(
        target: &Target,
        flavor: Flavor,
        tables: &[Table],
        selection: Selection,
        from: &Position,
    ) -> Result<MysqlChangeStream, SourceError> {
        let Selection {
            tables: selected,
            columns,
        } = selection;
        let cursor = BinlogCursor::parse(&from.0)?;
        let endpoint = target.endpoint.clone();
        let (mut control, _) = target.open().await?;
        check_settings(&mut control, flavor, &endpoint).await?;
        let context = format!("reading the binlog settings on {endpoint}");
        let checksums = variable(&mut control, "binlog_checksum", &context)
            .await?
            .is_some_and(|c| !c.eq_ignore_ascii_case("NONE"));
        let collations = collations(&mut control, flavor, &endpoint).await?;
        let fold_case = variable(&mut control, "lower_case_table_names", &context)
            .await?
            .is_some_and(|v| v != "0");

        // Resume by file and position while the server has the file; by GTID when it doesn't.
        let by_gtid = start_point(&mut control, flavor, &endpoint, &cursor, from, false).await?;
        let gtid_text = match (&cursor.gtid, flavor) {
            (Some(gtid), _) => Some(gtid.clone()),
            (None, Flavor::MariaDb(..)) => control
                .exec_first::<Option<String>, _, _>(
                    "SELECT BINLOG_GTID_POS(?, ?)",
                    (&cursor.file, cursor.pos),
                )
                .await
                .map_err(SourceError::query(format!(
                    "reading the GTID state of {from} on {endpoint}"
                )))?
                .flatten(),
            (None, Flavor::Mysql(..)) => None,
        };
        let gtid = match gtid_text.filter(|g| !g.is_empty()) {
            None => GtidState::None,
            Some(text) => GtidState::parse(flavor, &text, from)?,
        };

        let (mut conn, _) = target.open().await?;
        let context = format!("starting the binlog stream on {endpoint}");
        let mut setup = vec![format!(
            "SET @master_heartbeat_period = {}",
            HEARTBEAT.as_nanos()
        )];
        if flavor.is_mariadb() {
            // Real GTID events (0xa2) and annotate events instead of their MySQL stand-ins.
            setup.push("SET @mariadb_slave_capability = 4".into());
            if by_gtid {
                if let GtidState::Maria(state) = &gtid {
                    setup.push(format!("SET @slave_connect_state = '{state}'"));
                    setup.push("SET @slave_gtid_strict_mode = 1".into());
                }
            }
        }
        for statement in &setup {
            conn.query_drop(statement.as_str())
                .await
                .map_err(SourceError::query(context.clone()))?;
        }
        let request = BinlogStreamRequest::new(stream_server_id());
        let request = if by_gtid {
            // The server starts from @slave_connect_state and ignores file and position.
            request.with_filename(b"").with_pos(4u64)
        } else {
            request
                .with_filename(cursor.file.as_bytes())
                .with_pos(cursor.pos)
        };
        let binlog = conn
            .get_binlog_stream(request)
            .await
            .map_err(SourceError::query(context))?;
        tracing::info!(endpoint = %endpoint, position = %from, by_gtid, "binlog stream opened");

        // The server's databases share one binlog, but a task reads the URL's database, or
        // without one every database but the server's own (as discovery does): other tables are
        // not the task's, whatever the rules select. Names compare as the server compares
        // them: with lower_case_table_names the binlog has the name lowered.
        let selected: TableFilter = match target.database.as_deref() {
            Some(database) => {
                let database = fold(database, fold_case);
                Arc::new(move |name: &QualifiedName| {
                    fold(name.schema_value(), fold_case) == database && selected(name)
                })
            }
            None => Arc::new(move |name: &QualifiedName| {
                !crate::discover::SYSTEM_SCHEMAS
                    .iter()
                    .any(|system| name.schema_value().eq_ignore_ascii_case(system))
                    && selected(name)
            }),
        };
        let watched = tables
            .iter()
            .map(|t| (key_of(t, fold_case), Watched::new(t.clone(), None, None)))
            .collect();
        Ok(MysqlChangeStream {
            binlog,
            catalog: MysqlSource {
                conn: tokio::sync::Mutex::new(control),
                target: target.clone(),
                flavor,
            },
            endpoint,
            watched,
            selected,
            columns,
            ids: HashMap::new(),
            fold_case,
            collations,
            file: cursor.file.clone(),
            gtid,
            group_gtid: None,
            alter_phase: None,
            last_altered: None,
            in_transaction: false,
            delivered: false,
            gathering: Gathering::default(),
            out: VecDeque::new(),
            committed: (cursor.file, cursor.pos),
            last_output: Instant::now(),
            format_known: false,
            checksums,
        })
    }

    /// The position a resume would start from: the end of the last complete transaction read.
    pub fn position(&self) -> Position {
        Position(format_position(
            &self.committed.0,
            self.committed.1,
            self.gtid.text().as_deref(),
        ))
    }

    fn at(&self, pos: u32) -> String {
        format!("{} at {}:{pos}", self.endpoint, self.file)
    }

    /// Announces `table`'s definition, reached by the column renames `renamed` (see
    /// [`ChangeEvent::Table`]): the rows gathered before it go first.
    fn announce(
        &mut self,
        table: Table,
        renamed: Vec<(String, String)>,
    ) -> Result<(), SourceError> {
        self.flush()?;
        self.out.push_back(ChangeEvent::Table { table, renamed });
        self.delivered = true;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SourceError> {
        self.gathering.flush(&mut self.out)
    }

    /// The end of an event group at `pos` of the current file.
    fn end_group(&mut self, pos: u32, timestamp: u32) -> Result<(), SourceError> {
        match (self.group_gtid.take(), &mut self.gtid) {
            (Some(GroupGtid::Maria(gtid)), GtidState::Maria(state)) => state.apply(gtid),
            (Some(GroupGtid::Maria(gtid)), state @ GtidState::None) => {
                let mut new = MariaGtidState::default();
                new.apply(gtid);
                *state = GtidState::Maria(new);
            }
            (Some(GroupGtid::Mysql(uuid, gno)), GtidState::Mysql(set)) => set.add(&uuid, gno),
            // MySQL without a starting GTID set: a set of the stream's transactions only would
            // be wrong as a resume point; positions stay file:pos.
            _ => {}
        }
        self.in_transaction = false;
        if pos > 0 {
            self.committed = (self.file.clone(), u64::from(pos));
        }
        if self.delivered {
            self.delivered = false;
            let committed_at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(timestamp));
            let commit = ChangeEvent::Commit {
                position: self.position(),
                committed_at: Some(committed_at),
            };
            match self.gathering.rows.as_ref().map(|p| p.rows) {
                // The transaction ends with rows still gathered: the commit waits for the next
                // transactions' rows (see `next_event`).
                Some(rows) if rows > 0 => {
                    let since = self
                        .gathering
                        .held
                        .as_ref()
                        .map_or_else(Instant::now, |h| h.since);
                    self.gathering.held = Some(Held {
                        commit,
                        rows,
                        since,
                    });
                }
                _ => {
                    self.flush()?;
                    self.out.push_back(commit);
                }
            }
        } else if self.last_output.elapsed() >= IDLE_EVERY {
            // A held commit goes first: this position is past it.
            self.flush()?;
            self.out.push_back(ChangeEvent::Idle {
                position: self.position(),
                server_time: Some(
                    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(timestamp)),
                ),
            });
        }
        Ok(())
    }

    async fn handle(&mut self, event: Event) -> Result<(), SourceError> {
        let header = event.header();
        let kind = header.event_type_raw();
        let pos = header.log_pos();
        if MARIA_COMPRESSED.contains(&kind) {
            return Err(SourceError::ChangeCapture {
                at: self.at(pos),
                message: format!("the binlog holds a compressed event (MariaDB event type {kind}, written with log_bin_compress=ON); skipping it would lose its changes"),
                action: format!("turn log_bin_compress off on the source (SET GLOBAL log_bin_compress=OFF and in its configuration), then {START_OVER}: compressed events can't be captured"),
            });
        }
        if kind == MARIA_GTID {
            let body = event.data();
            let gtid = decode_maria_gtid(body, header.server_id()).ok_or_else(|| {
                SourceError::ChangeCapture {
                    at: self.at(pos),
                    message: format!(
                        "a MariaDB GTID event of {} bytes can't be decoded",
                        body.len()
                    ),
                    action: "report this as a bug in migrate, with the server version".into(),
                }
            })?;
            self.group_gtid = Some(GroupGtid::Maria(gtid));
            self.alter_phase = query::alter_phase(body);
            self.in_transaction = !gtid.standalone;
            return Ok(());
        }
        if kind >= MARIA_ANNOTATE_ROWS {
            // Annotations, checkpoints, GTID lists, encryption starts: nothing to deliver.
            return Ok(());
        }
        let data = event.read_data().map_err(|e| SourceError::ChangeCapture {
            at: self.at(pos),
            message: format!("event type {kind} can't be decoded ({e})"),
            action: "report this as a bug in migrate, with the server version".into(),
        })?;
        match data {
            Some(EventData::FormatDescriptionEvent(_)) => self.format_known = true,
            Some(EventData::RotateEvent(rotate)) => {
                let mut name = rotate.name_raw();
                // The fake rotate that opens the stream comes before any format description,
                // so the reader could not strip its checksum: it is still on the name.
                if !self.format_known && self.checksums && name.len() > 4 {
                    name = &name[..name.len() - 4];
                }
                self.file = String::from_utf8_lossy(name).into_owned();
                if !rotate.is_fake() && self.committed.0 != self.file {
                    // The new file starts after its header events.
                    self.committed = (self.file.clone(), rotate.position());
                }
            }
            Some(EventData::TableMapEvent(tme)) => self.table_map(&tme, pos).await?,
            Some(EventData::RowsEvent(rows)) => self.rows(&rows, pos)?,
            Some(EventData::XidEvent(_)) => self.end_group(pos, header.timestamp())?,
            Some(EventData::QueryEvent(query)) => {
                let statement = match self.alter_phase.take() {
                    // A two-phase ALTER is acted on once, at its COMMIT ALTER (the statement
                    // again): at its START ALTER it may yet fail, and a ROLLBACK ALTER changed
                    // nothing.
                    Some(AlterPhase::Start | AlterPhase::Rollback) => Statement::Other,
                    Some(AlterPhase::Commit) | None => query::classify(
                        &query.query(),
                        query::Syntax::of(&query, self.catalog.flavor),
                    ),
                };
                if !matches!(
                    statement,
                    Statement::Begin | Statement::Commit | Statement::Dml
                ) {
                    // DDL may have changed what an earlier ALTER read of the catalog.
                    self.last_altered = None;
                }
                let schema = query.schema().into_owned();
                // DDL (and TRUNCATE) outside a transaction commits on its own.
                let commits_alone = match statement {
                    Statement::Begin => {
                        self.in_transaction = true;
                        false
                    }
                    Statement::Commit => {
                        self.end_group(pos, header.timestamp())?;
                        false
                    }
                    Statement::Truncate(name) => {
                        let key = watched_key(name, &schema, self.fold_case);
                        if let Some(name) = self.watched.get(&key).map(|w| w.table.name.clone()) {
                            self.flush()?;
                            self.out
                                .push_back(ChangeEvent::Truncate { tables: vec![name] });
                            self.delivered = true;
                        }
                        true
                    }
                    Statement::Dml => {
                        let schema_key = fold(&schema, self.fold_case);
                        let watched_schema = self.watched.keys().any(|(s, _)| *s == schema_key);
                        if watched_schema {
                            return Err(SourceError::ChangeCapture {
                                at: self.at(pos),
                                message: format!("a data change on schema {schema} was logged as a statement (a session ran with binlog_format=STATEMENT or MIXED): its rows are not in the binlog: `{}`", truncate_text(&query.query(), 200)),
                                action: format!("make every session log rows (no SET SESSION binlog_format; revoke the privilege to change it), then {START_OVER}"),
                            });
                        }
                        false
                    }
                    Statement::Rename(pairs) => {
                        self.renamed(&pairs, &schema, &query.query(), pos)?;
                        true
                    }
                    Statement::Drop(names) => {
                        self.dropped(names, &schema);
                        true
                    }
                    Statement::RowsWithoutEvents(tables, clause) => {
                        self.rows_without_events(&tables, &clause, &schema, &query.query(), pos)?;
                        true
                    }
                    Statement::Alter(name, changes) => {
                        self.columns_renamed(&name, &changes, &schema, &query.query(), pos)?;
                        self.altered(name, &schema, &query.query(), pos).await?;
                        true
                    }
                    Statement::Other => true,
                };
                if commits_alone && !self.in_transaction {
                    self.end_group(pos, header.timestamp())?;
                }
            }
            Some(EventData::GtidEvent(gtid)) => {
                self.group_gtid = Some(GroupGtid::Mysql(uuid_text(&gtid.sid()), gtid.gno()));
            }
            Some(EventData::XaPrepareLogEvent(_)) => {
                // The rows of an XA transaction are logged at PREPARE, its outcome later as a
                // separate XA COMMIT / XA ROLLBACK: delivering them at PREPARE could deliver rows
                // that are rolled back.
                return Err(SourceError::ChangeCapture {
                    at: self.at(pos),
                    message: "an XA transaction (XA PREPARE) is in the binlog: change capture does not follow XA transactions".into(),
                    action: format!("don't use XA transactions on the captured tables, then {START_OVER}"),
                });
            }
            Some(EventData::HeartbeatEvent) => {
                self.flush()?;
                self.out.push_back(ChangeEvent::Idle {
                    position: self.position(),
                    server_time: None,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// Tables renamed by a `RENAME TABLE` / `ALTER TABLE ... RENAME` statement at `pos`
    /// (`schema`: its default database). Capture does not follow a rename: the target keeps a
    /// captured table's rows under its old name, and a table of the target gets the changes of
    /// whatever table has its name on the source. So a definite error, read again on every
    /// resume until the selection or a new full load settles it, where a target table would
    /// silently go wrong: a table the task selects and does not capture yet arriving under a new
    /// name (captured from its next change as a new table, without the rows it has), a captured
    /// table taking the name of another captured one (whose target table holds other rows; a
    /// swap of two). Otherwise a warning: a captured table renamed out of the selection, or
    /// swapped for a table the task does not capture (an online schema-change tool's copy), or
    /// such a table taking a captured name freed before.
    fn renamed(
        &self,
        pairs: &[(query::Name, query::Name)],
        schema: &str,
        statement: &str,
        pos: u32,
    ) -> Result<(), SourceError> {
        // The pairs run in order: a table may move on within the statement (`a TO tmp, tmp TO
        // b`), and a name left may be taken by a later pair (gh-ost's `t TO _t_del, _t_gho TO
        // t`). Each table's first name and last.
        let mut moves: Vec<(TableKey, TableKey)> = Vec::new();
        for (from, to) in pairs {
            let (from, to) = (
                watched_key(from.clone(), schema, self.fold_case),
                watched_key(to.clone(), schema, self.fold_case),
            );
            match moves.iter_mut().find(|(_, now)| *now == from) {
                Some(moved) => moved.1 = to,
                None => moves.push((from, to)),
            }
        }
        // Errors before any warning: a task that stops does not also tell of the renames it
        // would go on with.
        let mut warnings = Vec::new();
        for (from, to) in moves.iter().filter(|(from, to)| from != to) {
            match self.judge_rename(from, to, &moves, statement) {
                Renamed::Stop { message, action } => {
                    return Err(SourceError::ChangeCapture {
                        at: self.at(pos),
                        message,
                        action,
                    })
                }
                Renamed::Warn(message) => warnings.push((from, to, message)),
                Renamed::Nothing => {}
            }
        }
        for (from, to, message) in warnings {
            let (table, renamed_to) = (key_text(from), key_text(to));
            tracing::warn!(table = %table, renamed_to = %renamed_to, "{message}");
        }
        Ok(())
    }

    /// What becomes of table `from` renamed to `to` by `statement`, whose renames are `moves`
    /// (each table's first name and last): see [`renamed`](Self::renamed).
    fn judge_rename(
        &self,
        from: &TableKey,
        to: &TableKey,
        moves: &[(TableKey, TableKey)],
        statement: &str,
    ) -> Renamed {
        let (old, new) = (key_text(from), key_text(to));
        let quoted = truncate_text(statement, 200);
        // Where the table that had `to`'s name went in the same statement, if it moved.
        let to_moved_to = moves
            .iter()
            .find(|(first, _)| first == to)
            .map(|(_, last)| last);
        let warn = Renamed::Warn;
        if !self.watched.contains_key(from) {
            return if self.watched.contains_key(to) {
                match to_moved_to {
                    // That table's own rename says what becomes of the name.
                    Some(_) => Renamed::Nothing,
                    None => warn(format!("table {old}, which the task does not capture, was renamed to {new}, the name of a captured table: change capture does not follow renames, so the target table {new} keeps its rows and gets the changes of the new {new} from now on, which is right when the new table held the same rows (the copy of an online schema-change tool such as gh-ost or pt-online-schema-change does); otherwise reload it with --restart")),
                }
            } else if self.selects(to) && !self.selects(from) {
                // Its rows never went through capture. (A selected table not captured yet had no
                // row change since capture started, or was created while the task was stopped,
                // which the resume warns of: its first change makes it a new table.)
                Renamed::Stop {
                    message: format!("table {old}, which the task does not capture, was renamed to {new} (`{quoted}`), which the task selects: change capture does not follow renames, so {new} would be captured as a new table holding only the rows changed from now on, without the rows it has"),
                    action: format!("{START_OVER}; or leave {new} out of the task's table mappings and run the task again"),
                }
            } else {
                Renamed::Nothing
            };
        }
        if self.watched.contains_key(to) {
            return if to_moved_to == Some(from) {
                Renamed::Stop {
                    message: format!("captured tables {old} and {new} swapped names (`{quoted}`): change capture does not follow renames, so the target's {old} and {new}, which hold the rows of the tables that had those names, would each get the changes of the other table"),
                    action: format!("{START_OVER}: the full load reads each table under its new name"),
                }
            } else {
                let moved = to_moved_to
                    .map(|last| format!(", which the same statement renamed to {}", key_text(last)))
                    .unwrap_or_default();
                Renamed::Stop {
                    message: format!("captured table {old} was renamed to {new}, the name of another captured table{moved} (`{quoted}`): change capture does not follow renames, so the target table {new}, which holds the rows of the table that had the name, would get the changes of the table that was {old}"),
                    action: format!("{START_OVER}; or, if {old} is a copy of {new}'s rows made to replace it (the new table of an online schema-change tool), leave {old} out of the task's table mappings and run the task again (the target's {new} then gets its changes)"),
                }
            };
        }
        if self.selects(to) {
            return Renamed::Stop {
                message: format!("captured table {old} was renamed to {new} (`{quoted}`), which the task selects: change capture does not follow renames, so {new} would be captured as a new table holding only the rows changed from now on, while the target has its rows under {old}"),
                action: format!("{START_OVER}; or leave {new} out of the task's table mappings and run the task again (the target then keeps the rows under {old}, which gets no more changes)"),
            };
        }
        let taken_by = moves
            .iter()
            .find(|(_, last)| last == from)
            .map(|(first, _)| key_text(first));
        match taken_by {
            Some(other) => warn(format!("captured table {old} was swapped: renamed to {new}, which the task does not select, while {other} took its name in the same statement: change capture does not follow renames, so its target table keeps its rows and gets the changes of the new {old} from now on, which is right when the new table held the same rows at the swap (the copy of an online schema-change tool such as gh-ost or pt-online-schema-change does); otherwise reload it with --restart")),
            None => warn("a captured table was renamed to a table the task does not select: change capture does not follow renames, so its target table keeps its rows and gets no more changes".into()),
        }
    }

    /// Whether the task's selection takes the table `key` (watched or not).
    fn selects(&self, key: &TableKey) -> bool {
        (self.selected)(&QualifiedName::new(
            Some(Ident::new(&key.0)),
            Ident::new(&key.1),
        ))
    }

    /// An `ALTER TABLE` at `pos` that changed the rows of `tables` without row events
    /// (`DROP`/`TRUNCATE`/`EXCHANGE PARTITION`, ...: see [`Statement::RowsWithoutEvents`];
    /// `schema`: the statement's default database). When one of them is captured, or selected
    /// (it would be captured as a new table without the rows it has), its target table can't
    /// follow: a definite error, met again on every resume until a new full load or the table
    /// mappings settle it, like a rename's (see [`renamed`](Self::renamed)).
    fn rows_without_events(
        &self,
        tables: &[query::Name],
        clause: &str,
        schema: &str,
        statement: &str,
        pos: u32,
    ) -> Result<(), SourceError> {
        let keys: Vec<TableKey> = tables
            .iter()
            .map(|name| watched_key(name.clone(), schema, self.fold_case))
            .collect();
        let Some(table) = keys
            .iter()
            .find(|key| self.watched.contains_key(*key) || self.selects(key))
        else {
            return Ok(());
        };
        let table = key_text(table);
        let others: Vec<String> = keys
            .iter()
            .map(key_text)
            .filter(|other| *other != table)
            .collect();
        let with = if others.is_empty() {
            String::new()
        } else {
            format!(" (and of {})", others.join(", "))
        };
        Err(SourceError::ChangeCapture {
            at: self.at(pos),
            message: format!(
                "`{}` changed the rows of captured table {table}{with} on the source without writing them to the binlog ({clause} removes or moves rows as a whole, not row by row): change capture can't apply it, so the target table would keep rows the source no longer has, or lack rows it now has",
                truncate_text(statement, 200)
            ),
            action: format!("{START_OVER}: it reloads {table}; or leave {table} out of the task's table mappings and run the task again (its target table then keeps the rows it has and gets no more changes)"),
        })
    }

    /// The columns an `ALTER TABLE` of `name` at `pos` renamed (`CHANGE a b ...`, `RENAME COLUMN
    /// a TO b`; `schema`: the statement's default database). The TableMap after it only shows a
    /// column gone and another in its place, maybe of another type, whose values the ALTER
    /// converted without row events: taken for a drop and an add, the column's values would be
    /// lost on the target. So the renames are announced first, by themselves: the definition
    /// with the columns renamed and their types as they were, together with the renames, which
    /// the target applies as such; a type the same statement changed is then seen at the next
    /// TableMap, as a `MODIFY`'s is. A run resumed before the statement, whose definition has the
    /// new names already, announces nothing: a rename whose new name the definition has (MySQL
    /// refuses two columns of one name) is past unless the statement also renames that column
    /// away or drops it, which makes it a swap (or a column dropped and its name taken) that
    /// can't be followed: a definite error. A key column renamed is announced with the key under
    /// its new name (the table's other keys too), and a column the task leaves out is not
    /// announced (the target never had it). The columns the table's next `ALTER TABLE` is judged
    /// by ([`Watched::judged`]) are renamed too, so that a generated column renamed is not taken
    /// for one added.
    fn columns_renamed(
        &mut self,
        name: &query::Name,
        changes: &query::ColumnChanges,
        schema: &str,
        statement: &str,
        pos: u32,
    ) -> Result<(), SourceError> {
        let key = watched_key(name.clone(), schema, self.fold_case);
        let Some(watched) = self.watched.get(&key) else {
            return Ok(());
        };
        let kept = |column: &str| (self.columns)(&watched.table, column);
        let mut table = watched.table.clone();
        table.columns = renamed_columns(&watched.table.columns, changes, kept).map_err(
            |(from, to)| {
                let name = display_name(&watched.table);
                SourceError::ChangeCapture {
                    at: self.at(pos),
                    message: format!(
                        "`{}` renamed column {from} of captured table {name} to {to}, the name of another of its columns (a swap, or a column dropped and its name taken): change capture can't tell the target which values went where",
                        truncate_text(statement, 200)
                    ),
                    action: format!("{START_OVER}: it reloads {name}"),
                }
            },
        )?;
        // The catalog read can be ahead of the definition: where it is past the statement, its
        // renames are there already.
        let judged = renamed_columns(&watched.judged, changes, |_| true)
            .unwrap_or_else(|_| watched.judged.clone());
        // `renamed_columns` renames in place: the columns whose name differs are the renames.
        let renamed: Vec<(String, String)> = (watched.table.columns.iter())
            .zip(&table.columns)
            .filter(|(before, after)| before.name != after.name)
            .map(|(before, after)| (before.name.value.clone(), after.name.value.clone()))
            .collect();
        if let Some(watched) = self.watched.get_mut(&key) {
            watched.judged = judged;
        }
        if renamed.is_empty() {
            return Ok(());
        }
        rename_in_constraints(&mut table, &renamed);
        self.announce(table.clone(), renamed)?;
        if let Some(watched) = self.watched.get_mut(&key) {
            watched.table = table;
        }
        Ok(())
    }

    /// An `ALTER TABLE` of `name` at `pos` (`schema`: the statement's default database). A
    /// generated column added, a column made generated, or a generated column given another
    /// expression got values the server computed for the rows the table held, without row
    /// events: where the task keeps such a column and the table has rows, a definite error
    /// before the statement is passed, met again on every resume until a new full load or a
    /// remove-column rule settles it, like [`rows_without_events`](Self::rows_without_events).
    /// The statement is judged from the live catalog (which can be ahead of the binlog) against
    /// the columns the table's last `ALTER TABLE` found ([`Watched::judged`]). A table without
    /// rows now lost nothing (the rows it held then were deleted since, which the binlog
    /// carries); rows it has may all have been inserted since, but that can't be told.
    async fn altered(
        &mut self,
        name: query::Name,
        schema: &str,
        statement: &str,
        pos: u32,
    ) -> Result<(), SourceError> {
        let key = watched_key(name, schema, self.fold_case);
        let Some(watched) = self.watched.get(&key) else {
            return Ok(());
        };
        let database = watched.table.name.schema_value();
        let now = self
            .table_in_catalog(database, &watched.table.name.name.value, &key)
            .await?;
        // A table dropped since: its drop is met further on.
        let Some(now) = now else {
            return Ok(());
        };
        let found = recomputed(&now, &watched.judged, &self.columns);
        if !found.is_empty() && self.any_row(&now, "", "rows of the altered table").await {
            let table = display_name(&now);
            let what: Vec<String> = found
                .iter()
                .map(|(column, how)| how.describe(column, &table))
                .collect();
            let names: Vec<&str> = found.iter().map(|(c, _)| c.name.value.as_str()).collect();
            return Err(SourceError::ChangeCapture {
                at: self.at(pos),
                message: format!(
                    "{} (`{}`): the source computed the values of the rows that existed, which the binlog does not carry (the ALTER writes no row events), so the target would keep those rows without them (NULL, or the values from before)",
                    what.join("; "),
                    truncate_text(statement, 200)
                ),
                action: format!(
                    "{START_OVER}; or leave {} of {table} out of the task with a remove-column rule for each and run the task again (the target then gets no values for them: compute them there if you need them; a column the target already has is no longer kept up to date: drop it there)",
                    names.join(", ")
                ),
            });
        }
        if let Some(watched) = self.watched.get_mut(&key) {
            watched.judged = now.columns.clone();
            self.last_altered = Some((key, now));
        }
        Ok(())
    }

    /// Table `key` (named `table` in `database`) as the live catalog describes it now; `None`
    /// once dropped.
    async fn table_in_catalog(
        &self,
        database: &str,
        table: &str,
        key: &TableKey,
    ) -> Result<Option<Table>, SourceError> {
        Ok(self
            .catalog
            .discover_table(database, table)
            .await?
            .into_iter()
            .find(|t| key_of(t, self.fold_case) == *key))
    }

    /// The TableMap `tme` of table `key` read, or a definite error when it lacks what FULL row
    /// metadata gives.
    fn map_table(
        &self,
        tme: &TableMapEvent<'_>,
        key: &TableKey,
        pos: u32,
    ) -> Result<MapTable, SourceError> {
        rows::map_columns(tme, &self.collations, self.catalog.flavor.is_mariadb()).map_err(
            |message| SourceError::ChangeCapture {
                at: self.at(pos),
                message: format!("the table map of {}: {message}", key_text(key)),
                action: format!("set binlog_row_metadata=FULL on the source, then {START_OVER}"),
            },
        )
    }

    /// Watched tables dropped by a `DROP TABLE` (`schema`: its default database): capture does
    /// not follow it, a warning.
    fn dropped(&self, names: Vec<query::Name>, schema: &str) {
        for name in names {
            let key = watched_key(name, schema, self.fold_case);
            if self.watched.contains_key(&key) {
                tracing::warn!(table = %key_text(&key), "a captured table was dropped on the source: change capture does not follow DROP TABLE, so its target table keeps its rows (drop or empty it there if it should go; a table created again under that name has its changes applied to it)");
            }
        }
    }

    async fn table_map(&mut self, tme: &TableMapEvent<'_>, pos: u32) -> Result<(), SourceError> {
        let (database, table) = (tme.database_name(), tme.table_name());
        let key = (
            fold(&database, self.fold_case),
            fold(&table, self.fold_case),
        );
        // Discovery reads the database by the name the server gave the TableMap.
        let database = database.into_owned();
        if !self.watched.contains_key(&key) {
            let name = QualifiedName::new(Some(Ident::new(&database)), Ident::new(table));
            if !(self.selected)(&name) {
                self.ids.insert(tme.table_id(), None);
                return Ok(());
            }
            // A table of the selection first seen now (created after the stream opened).
            let discovered = self
                .table_in_catalog(&database, &name.name.value, &key)
                .await?;
            let Some(table) = discovered else {
                tracing::warn!(table = %name, "a selected table is in the binlog but no longer in the catalog (dropped since): its changes are skipped");
                self.ids.insert(tme.table_id(), None);
                return Ok(());
            };
            let map = self.map_table(tme, &key, pos)?;
            // The binlog can be behind the catalog: its columns, the catalog's types.
            let table = rows::table_from_map(Some(&table), &table, &map.columns)?;
            let layout = Layout::new(table.clone(), &map.columns)?;
            refuse_auto_increment_generated(&table, &self.columns)?;
            tracing::info!(table = %name, "a new table of the selection: announcing its definition");
            self.announce(table.clone(), Vec::new())?;
            self.ids.insert(tme.table_id(), Some(key.clone()));
            self.watched
                .insert(key, Watched::new(table, Some(map), Some(layout)));
            return Ok(());
        }
        // Taken by the table's TableMap after the ALTER, whatever it is.
        let altered = match self.last_altered.take() {
            Some((altered_key, table)) if altered_key == key => Some(table),
            other => {
                self.last_altered = other;
                None
            }
        };
        let Some(watched) = self.watched.get(&key) else {
            return Ok(());
        };
        let map = self.map_table(tme, &key, pos)?;
        self.ids.insert(tme.table_id(), Some(key.clone()));
        if watched.map.as_ref() == Some(&map) {
            return Ok(());
        }
        // Before any row under the new key: the target applies changes by the old one.
        key_changed(&watched.table, &map).map_or(Ok(()), |(old, new)| {
            Err(SourceError::ChangeCapture {
                at: self.at(pos),
                message: format!(
                    "the primary key of captured table {} changed on the source from ({}) to ({}): the target table is keyed, and changes are applied, by the old key, so rows that now differ only in the new key's other columns would overwrite or delete each other there",
                    key_text(&key),
                    old.join(", "),
                    if new.is_empty() { "none".into() } else { new.join(", ") }
                ),
                action: format!("{START_OVER}: the target table is created again with the new key; or leave {} out of the task's table mappings and run the task again", key_text(&key)),
            })
        })?;
        // Rows gathered under the table's previous TableMap were decoded for its layout.
        if self
            .gathering
            .rows
            .as_ref()
            .is_some_and(|p| p.table == watched.table.name)
        {
            self.gathering.flush(&mut self.out)?;
        }
        let known: Vec<&str> = watched
            .table
            .columns
            .iter()
            .map(|c| c.name.value.as_str())
            .collect();
        let same_columns = known.len() == map.columns.len()
            && map
                .columns
                .iter()
                .all(|m| known.iter().any(|k| k.eq_ignore_ascii_case(&m.name)));
        // A new TableMap with the same column names but other types (MODIFY COLUMN) also needs
        // the catalog's types. The first TableMap of a table in this run is compared with the
        // definition the target was built for: the run may resume after an ALTER.
        let unlike_recorded = match watched.map {
            Some(_) => None,
            None => map.columns.iter().find(|m| {
                !find_column(&watched.table, &m.name).is_ok_and(|c| m.logs(&c.source_type))
            }),
        };
        if let Some(column) = unlike_recorded {
            tracing::debug!(table = %key_text(&key), column = %column.name, "the table's first table map differs from the definition the target was built for: reading its columns from the catalog");
        }
        let changed = !same_columns || watched.map.is_some() || unlike_recorded.is_some();
        let mut table = if changed {
            // What the ALTER of this change read is what the catalog has now, unless DDL came
            // between (which drops it).
            let rediscovered = match altered {
                Some(table) => Some(table),
                None => {
                    self.table_in_catalog(&database, &watched.table.name.name.value, &key)
                        .await?
                }
            };
            rows::table_from_map(rediscovered.as_ref(), &watched.table, &map.columns)?
        } else {
            watched.table.clone()
        };
        let added = |c: &Column| {
            !watched
                .table
                .columns
                .iter()
                .any(|w| w.name.matches(&c.name))
        };
        // A NOT NULL column added without a DEFAULT: the source gave the rows that existed its
        // type's implicit value, which the target column gets as its default.
        let implicit: Vec<usize> = (0..table.columns.len())
            .filter(|&i| {
                let c = &table.columns[i];
                added(c)
                    && !c.nullable
                    && c.default.is_none()
                    && c.generated.is_none()
                    && c.identity.is_none()
            })
            .collect();
        for i in implicit {
            match implicit_default(&table.columns[i]) {
                Ok(value) => table.columns[i].default = Some(ColumnDefault::Expression(value)),
                // A column the task leaves out does not reach the target.
                Err(_) if !(self.columns)(&table, &table.columns[i].name.value) => {}
                Err(value) => {
                    let (column, name) = (&table.columns[i].name, display_name(&table));
                    // Where no row holds the value, the column is announced NOT NULL without a
                    // default, which the target refuses to add if the table has rows there.
                    if let Some(literal) = value.literal {
                        if !self.any_row_holds(&table, column, literal).await {
                            continue;
                        }
                    }
                    let value = value.what;
                    return Err(SourceError::ChangeCapture {
                        at: self.at(pos),
                        message: format!("column {column} was added to {name} NOT NULL without a DEFAULT: the source gave the rows that existed its type's implicit value, {value}"),
                        action: format!("give those rows a value the target can hold on the source (UPDATE {name} SET {column} = ...), then {START_OVER}; or leave the column out with a remove-column rule and run the task again"),
                    });
                }
            }
        }
        let layout = Layout::new(table.clone(), &map.columns)?;
        let announce = changed && table.columns != watched.table.columns;
        // The target adds a new column with its default, which gives its existing rows the
        // source's values only when the default is a constant.
        let filled_by_source = table.columns.iter().find(|c| {
            added(c)
                && (c.identity.is_some()
                    || matches!(&c.default, Some(ColumnDefault::Expression(e)) if !is_constant(e)))
        });
        if let Some(column) = filled_by_source {
            let how = match &column.default {
                Some(ColumnDefault::Expression(e)) if column.identity.is_none() => {
                    format!("with the default {e}, which is not a constant")
                }
                _ => "as an AUTO_INCREMENT column".into(),
            };
            return Err(SourceError::ChangeCapture {
                at: self.at(pos),
                message: format!(
                    "column {} was added to {} {how}: the source gave the rows that existed values of its own, which are not in the binlog, and the target's default would give them others",
                    column.name,
                    display_name(&table)
                ),
                action: START_OVER.into(),
            });
        }
        if announce {
            refuse_auto_increment_generated(&table, &self.columns)?;
            tracing::info!(table = %display_name(&table), "the table's columns changed in the binlog: announcing its new definition");
            self.announce(table.clone(), Vec::new())?;
        }
        if let Some(watched) = self.watched.get_mut(&key) {
            watched.table = table;
            watched.map = Some(map);
            watched.layout = Some(layout);
        }
        Ok(())
    }

    /// Whether a row of `table` holds `literal` in `column` on the source now (the value an
    /// ALTER gave the rows it found); a failed look counts as yes. Rows inserted since hold values
    /// of their own; rows that held it and were changed or deleted since are still in the
    /// target table at this point of the stream, which then refuses the NOT NULL column.
    async fn any_row_holds(&self, table: &Table, column: &Ident, literal: &str) -> bool {
        let condition = format!("WHERE {} = {literal}", quote_ident(&column.value));
        self.any_row(
            table,
            &condition,
            &format!("rows holding the implicit value of added column {column}"),
        )
        .await
    }

    /// Whether a row of `table` matching `condition` (a `WHERE` clause, or empty) is on the
    /// source now; a failed look (for `what`) counts as yes, with a warning.
    async fn any_row(&self, table: &Table, condition: &str, what: &str) -> bool {
        let sql = format!(
            "SELECT 1 FROM {} {condition} LIMIT 1",
            table_sql_name(table)
        );
        let mut conn = self.catalog.conn.lock().await;
        match first::<i64>(&mut conn, &sql, &sql).await {
            Ok(found) => found.is_some(),
            Err(e) => {
                tracing::warn!(table = %display_name(table), "could not look for {what}: {e}");
                true
            }
        }
    }

    fn rows(&mut self, rows: &RowsEventData<'_>, pos: u32) -> Result<(), SourceError> {
        let Some(Some(key)) = self.ids.get(&rows.table_id()) else {
            return Ok(());
        };
        if matches!(rows, RowsEventData::PartialUpdateRowsEvent(_)) {
            return Err(SourceError::ChangeCapture {
                at: self.at(pos),
                message: format!(
                    "{} has a partial JSON update event (binlog_row_value_options=PARTIAL_JSON)",
                    key_text(key)
                ),
                action: format!("set binlog_row_value_options='' on the source, then {START_OVER}"),
            });
        }
        let Some(layout) = self.watched.get(key).and_then(|w| w.layout.as_ref()) else {
            return Ok(());
        };
        // Rows are parsed here with the layout's column list (made once per TableMap), not by
        // `RowsEventData::rows`, which re-reads the TableMap's metadata for every row.
        let decode_error = |e: std::io::Error| {
            SourceError::ChangeCapture {
            at: format!("{} at {}:{pos}", self.endpoint, self.file),
            message: format!("a row of {} can't be decoded ({e})", layout.name),
            action: "report this as a bug in migrate, with the table's definition and the server version".into(),
        }
        };
        let columns = usize::try_from(rows.num_columns()).unwrap_or(usize::MAX);
        let before_image: Option<Vec<bool>> = rows.columns_before_image().map(|bits| {
            (0..columns)
                .map(|i| bits.get(i).is_some_and(|b| *b))
                .collect()
        });
        let after_image: Option<Vec<bool>> = rows.columns_after_image().map(|bits| {
            (0..columns)
                .map(|i| bits.get(i).is_some_and(|b| *b))
                .collect()
        });
        let mut buf = mysql_common::io::ParseBuf(rows.rows_data());
        while !buf.is_empty() {
            let before = match &before_image {
                Some(bits) => Some(layout.parse_image(&mut buf, bits).map_err(decode_error)?),
                None => None,
            };
            let after = match &after_image {
                Some(bits) => Some(layout.parse_image(&mut buf, bits).map_err(decode_error)?),
                None => None,
            };
            if self
                .gathering
                .rows
                .as_ref()
                .is_some_and(|p| p.table != layout.table.name)
            {
                self.gathering.flush(&mut self.out)?;
            }
            let pending = self
                .gathering
                .rows
                .get_or_insert_with(|| Pending::new(layout));
            pending.push(layout, before, after)?;
            self.delivered = true;
            if pending.is_full() {
                self.gathering.flush(&mut self.out)?;
            }
        }
        Ok(())
    }

    /// A failed binlog read. The server refuses a position whose binlog it no longer has
    /// (error 1236, which also covers other fatal read errors: only these messages mean purged
    /// binlogs) once the stream asks for it: that is definite, with the way on.
    fn binlog_error(&self, source: mysql_async::Error) -> SourceError {
        let at = format!("{} at {}", self.endpoint, self.file);
        match &source {
            mysql_async::Error::Server(e)
                if e.code == 1236
                    && ["purged", "Could not find first log file", "Could not find GTID state"]
                        .iter()
                        .any(|m| e.message.contains(m)) =>
            {
                SourceError::ChangeCapture {
                    at,
                    message: format!(
                        "the server no longer has the binlog the task resumes from ({}, error 1236)",
                        e.message.trim_end_matches('.')
                    ),
                    action: PURGED_ACTION.into(),
                }
            }
            _ => SourceError::Binlog { at, source },
        }
    }
}

impl ChangeStream for MysqlChangeStream {
    type Error = SourceError;

    async fn next_event(&mut self) -> Result<Option<ChangeEvent>, SourceError> {
        loop {
            if let Some(event) = self.out.pop_front() {
                self.last_output = Instant::now();
                return Ok(Some(event));
            }
            if self
                .gathering
                .held
                .as_ref()
                .is_some_and(|h| h.since.elapsed() >= HOLD_AT_MOST)
            {
                self.flush()?;
                continue;
            }
            // Events at hand are taken outside tokio's cooperative budget (`at_hand`): give the
            // thread's other tasks their turn as a budgeted receive would. (Before the receive: a
            // yield after it would lose the event if this future were dropped there.)
            tokio::task::consume_budget().await;
            let next = if self.gathering.held.is_none() {
                self.binlog.next().await
            } else {
                match at_hand(&mut self.binlog) {
                    Some(next) => next,
                    None => {
                        tokio::time::sleep(LINGER).await;
                        match at_hand(&mut self.binlog) {
                            Some(next) => next,
                            None => {
                                self.flush()?;
                                continue;
                            }
                        }
                    }
                }
            };
            let event = match next {
                Some(Ok(event)) => event,
                Some(Err(source)) => return Err(self.binlog_error(source)),
                None => {
                    return Err(SourceError::Binlog {
                        at: format!("{} at {}", self.endpoint, self.file),
                        source: mysql_async::Error::Driver(
                            mysql_async::DriverError::ConnectionClosed,
                        ),
                    })
                }
            };
            self.handle(event).await?;
        }
    }

    /// Records nothing: MySQL has no replication slot. The durable position is the caller's
    /// checkpoint (a Commit position), from which the stream is reopened.
    async fn acknowledge(&mut self, _position: &Position) -> Result<(), SourceError> {
        Ok(())
    }
}

/// The binlog's next event if it is already received, without waiting. Outside the cooperative
/// budget: inside it, the poll says "not ready" once the task's budget is spent, which would hand
/// a held commit over early.
fn at_hand(binlog: &mut BinlogStream) -> Option<Option<Result<Event, mysql_async::Error>>> {
    tokio::task::unconstrained(binlog.next()).now_or_never()
}

fn key_of(table: &Table, fold_case: bool) -> TableKey {
    (
        fold(table.name.schema_value(), fold_case),
        fold(&table.name.name.value, fold_case),
    )
}

/// A database or table name as the server compares it: lower-cased when `fold_case` (the
/// server's `lower_case_table_names` is 1 or 2), as it is otherwise (0: names are
/// case-sensitive).
fn fold(name: &str, fold_case: bool) -> String {
    if fold_case {
        name.to_lowercase()
    } else {
        name.to_string()
    }
}

fn truncate_text(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// Refuses a server whose binlog settings can't give every change (see the module
/// documentation), with a definite [`SourceError::ChangeCapture`] naming the setting.
async fn check_settings(
    conn: &mut Conn,
    flavor: Flavor,
    endpoint: &str,
) -> Result<(), SourceError> {
    let refuse = |message: String, action: &str| SourceError::ChangeCapture {
        at: endpoint.to_string(),
        message,
        action: action.to_string(),
    };
    let control = conn;
    let context = format!("checking the binlog settings on {endpoint}");
    let log_bin = variable(control, "log_bin", &context).await?;
    if !matches!(log_bin.as_deref(), Some("1" | "ON")) {
        return Err(refuse("the binary log is off (log_bin=OFF)".into(), "start the server with --log-bin (and binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL)"));
    }
    let expect = [
        ("binlog_format", "ROW", "statement or mixed logging writes statements, whose rows can't be captured"),
        ("binlog_row_image", "FULL", "a partial row image lacks column values that the target needs"),
        ("binlog_row_metadata", "FULL", "without it the binlog has no column names, character sets or ENUM/SET values, so rows can't be mapped to columns safely after an ALTER"),
    ];
    for (name, wanted, why) in expect {
        let value = variable(control, name, &context).await?;
        if !value
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case(wanted))
        {
            return Err(refuse(
                format!("{name} is {} but change capture needs {wanted}: {why}", value.as_deref().unwrap_or("not supported by this server")),
                &format!("set {name}={wanted} on the server (SET GLOBAL {name}='{wanted}' and in its configuration), then {START_OVER}: changes logged before the switch can't be captured"),
            ));
        }
    }
    if flavor.is_mariadb() {
        let compress = variable(control, "log_bin_compress", &context).await?;
        if matches!(compress.as_deref(), Some("1" | "ON")) {
            return Err(refuse(
                "log_bin_compress=ON: the server writes compressed binlog events, which this stream can't read (skipping them would lose rows)".into(),
                &format!("turn it off (SET GLOBAL log_bin_compress=OFF and in the server's configuration), then {START_OVER}: changes already logged compressed can't be captured"),
            ));
        }
    }

    Ok(())
}

/// Collation id -> character set name, as the server defines them (MariaDB's UCA-14 collations
/// have ids that MySQL's tables don't know).
async fn collations(
    conn: &mut Conn,
    flavor: Flavor,
    endpoint: &str,
) -> Result<HashMap<u16, String>, SourceError> {
    let context = format!("reading the collations of {endpoint}");
    let mut map = HashMap::new();
    let rows: Vec<(Option<u64>, Option<String>)> = conn
        .query("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS")
        .await
        .map_err(SourceError::query(context.clone()))?;
    let mut add = |rows: Vec<(Option<u64>, Option<String>)>| {
        for (id, charset) in rows {
            if let (Some(id), Some(charset)) = (id.and_then(|i| u16::try_from(i).ok()), charset) {
                map.entry(id).or_insert(charset);
            }
        }
    };
    add(rows);
    if flavor.is_mariadb() {
        // MariaDB 10.10+ lists the ids of collations shared by several character sets here.
        let rows: Result<Vec<(Option<u64>, Option<String>)>, _> = conn
            .query("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY")
            .await;
        if let Ok(rows) = rows {
            add(rows);
        }
    }
    Ok(map)
}

/// Whether a column default as discovery reads it (MySQL syntax) is a constant: NULL, TRUE,
/// FALSE, a number, or one string or bit/hex literal (`'a''b'`, `b'101'`). Anything else
/// (`current_timestamp()`, `uuid()`, an expression) is evaluated when a row gets it.
fn is_constant(expression: &str) -> bool {
    let text = expression.trim();
    if ["NULL", "TRUE", "FALSE"]
        .iter()
        .any(|word| text.eq_ignore_ascii_case(word))
    {
        return true;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && unsigned.parse::<f64>().is_ok()
    {
        return true;
    }
    let literal = text.strip_prefix(['b', 'B', 'x', 'X']).unwrap_or(text);
    literal
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
        .is_some_and(|inside| !inside.replace("''", "").contains('\''))
}

/// The `watched` key of a table named in a statement: its schema if written, else the
/// statement's default database, both folded as the server compares names (see [`fold`]).
fn watched_key((named, table): query::Name, schema: &str, fold_case: bool) -> TableKey {
    (
        fold(named.as_deref().unwrap_or(schema), fold_case),
        fold(&table, fold_case),
    )
}

/// What a rename statement means for one of its tables (see [`MysqlChangeStream::renamed`]).
enum Renamed {
    /// Nothing capture needs to say.
    Nothing,
    /// A definite error: a target table would go wrong.
    Stop { message: String, action: String },
    /// A warning of what becomes of the target table.
    Warn(String),
}

/// The primary key of `known` (the definition the target was built for) and the one the TableMap
/// `map` gives, when they differ: the target applies changes by the old key. A column renamed in
/// place (`CHANGE id id2 ...`) counts as the same column: the rename is judged where columns
/// are. `None` also when `known` has no primary key (a key the task defines, or one MariaDB
/// takes from a unique NOT NULL index, which the TableMap names as primary).
fn key_changed(known: &Table, map: &MapTable) -> Option<(Vec<String>, Vec<String>)> {
    let old = migrate_source::key_columns(known);
    if old.is_empty() {
        return None;
    }
    let in_map = |name: &str| {
        map.columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
    };
    let renamed: Vec<&str> = old
        .iter()
        .map(|name| {
            if in_map(name) {
                return name.as_str();
            }
            let at = known
                .columns
                .iter()
                .position(|c| c.name.value.eq_ignore_ascii_case(name));
            match at.and_then(|i| map.columns.get(i)) {
                Some(column)
                    if !known
                        .columns
                        .iter()
                        .any(|c| c.name.value.eq_ignore_ascii_case(&column.name)) =>
                {
                    column.name.as_str()
                }
                _ => name.as_str(),
            }
        })
        .collect();
    let same = renamed.len() == map.primary_key.len()
        && renamed
            .iter()
            .zip(&map.primary_key)
            .all(|(a, b)| a.eq_ignore_ascii_case(b));
    (!same).then(|| (old, map.primary_key.clone()))
}

/// A table key as messages name it: `schema.table`.
fn key_text((schema, table): &TableKey) -> String {
    format!("{schema}.{table}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Column, Constraint, ConstraintKind, ConstraintState, Identity};
    use mysql_async::consts::ColumnType;

    #[test]
    fn renames_past_or_swapped_are_told_apart() {
        let changes = |renamed: &[(&str, &str)], dropped: &[&str]| query::ColumnChanges {
            renamed: renamed
                .iter()
                .map(|(f, t)| (f.to_string(), t.to_string()))
                .collect(),
            dropped: dropped.iter().map(|d| d.to_string()).collect(),
        };
        let names = |columns: Vec<Column>| -> Vec<String> {
            columns.into_iter().map(|c| c.name.value).collect()
        };
        let columns = table(&["id", "a", "n"], &["id"]).columns;
        let renamed = |changes: &query::ColumnChanges, kept: &dyn Fn(&str) -> bool| {
            renamed_columns(&columns, changes, kept)
                .map(names)
                .map_err(|(from, to)| format!("{from} to {to}"))
        };
        let all = |_: &str| true;
        assert_eq!(
            renamed(&changes(&[("a", "b")], &[]), &all),
            Ok(vec!["id".into(), "b".into(), "n".into()])
        );
        // Left out: not renamed.
        assert_eq!(
            renamed(&changes(&[("a", "b")], &[]), &|c| c != "a"),
            Ok(vec!["id".into(), "a".into(), "n".into()])
        );
        // Replayed against a definition past the statement (`CHANGE n a`, then `ADD n`).
        assert_eq!(
            renamed(&changes(&[("N", "A")], &[]), &all),
            Ok(vec!["id".into(), "a".into(), "n".into()])
        );
        // A swap, and a dropped column's name taken.
        assert_eq!(
            renamed(&changes(&[("a", "n"), ("n", "a")], &[]), &all),
            Err("a to n".to_string())
        );
        assert_eq!(
            renamed(&changes(&[("a", "n")], &["N"]), &all),
            Err("a to n".to_string())
        );
    }

    fn table(columns: &[&str], key: &[&str]) -> Table {
        let mut table = Table::new(QualifiedName::new(Some(Ident::new("s")), Ident::new("t")));
        table.columns = columns
            .iter()
            .map(|c| Column::new(Ident::new(*c), "int(11)", LogicalType::Integer))
            .collect();
        table.constraints = vec![Constraint {
            name: None,
            kind: ConstraintKind::PrimaryKey(key.iter().map(|k| Ident::new(*k)).collect()),
            state: ConstraintState::default(),
            index: Default::default(),
        }];
        table
    }

    fn map(columns: &[&str], key: &[&str]) -> MapTable {
        MapTable {
            columns: columns
                .iter()
                .map(|c| rows::MapColumn {
                    name: c.to_string(),
                    column_type: ColumnType::MYSQL_TYPE_LONG,
                    charset: None,
                    values: Vec::new(),
                    meta: Vec::new(),
                    unsigned: false,
                })
                .collect(),
            primary_key: key.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn primary_key_changes_are_told_from_renames() {
        let known = table(&["id", "ver", "v"], &["id"]);
        assert_eq!(
            key_changed(&known, &map(&["id", "ver", "v"], &["ID"])),
            None
        );
        // A key column renamed in place is the same key.
        assert_eq!(
            key_changed(&known, &map(&["id2", "ver", "v"], &["id2"])),
            None
        );
        let changed = |key: &[&str]| key_changed(&known, &map(&["id", "ver", "v"], key));
        assert_eq!(
            changed(&["id", "ver"]),
            Some((vec!["id".into()], vec!["id".into(), "ver".into()]))
        );
        assert_eq!(changed(&[]), Some((vec!["id".into()], Vec::new())));
        // No key known (a key the task defines): nothing to compare.
        assert_eq!(
            key_changed(&table(&["id"], &[]), &map(&["id"], &["id"])),
            None
        );
    }

    /// With lower_case_table_names 1 (or 2), `RENAME TABLE Orders ...`, `DROP TABLE Orders`,
    /// `TRUNCATE Shop.ORDERS` name the captured `shop.orders`; with 0 names are case-sensitive,
    /// and `Orders` is another table.
    #[test]
    fn statement_names_match_captured_tables_as_the_server_compares_names() {
        let captured = Table::new(QualifiedName::new(
            Some(Ident::new("shop")),
            Ident::new("orders"),
        ));
        let named = |schema: Option<&str>, table: &str| (schema.map(String::from), table.into());
        for (name, default_database) in [
            (named(None, "Orders"), "shop"),
            (named(None, "orders"), "Shop"),
            (named(Some("SHOP"), "ORDERS"), "other"),
        ] {
            assert_eq!(
                watched_key(name.clone(), default_database, true),
                key_of(&captured, true)
            );
            assert_ne!(
                watched_key(name, default_database, false),
                key_of(&captured, false)
            );
        }
        assert_eq!(
            watched_key(named(None, "orders"), "shop", false),
            key_of(&captured, false)
        );
        // Names are folded whole, not only their ASCII letters.
        assert_eq!(
            watched_key(named(Some("Bücher"), "Ärger"), "x", true),
            ("bücher".to_string(), "ärger".to_string())
        );
    }

    #[test]
    fn generated_columns_of_the_auto_increment_column_are_found() {
        let mut t = table(&["Id", "a", "v", "v2", "w"], &["Id"]);
        t.columns[0].identity = Some(Identity::default());
        t.columns[2].generated = Some("`id` * 2".into());
        t.columns[3].generated = Some("`v` + `a`".into());
        t.columns[4].generated = Some("`a` * 2 + `aid`".into());
        let found: Vec<&str> = from_auto_increment(&t)
            .iter()
            .map(|c| c.name.value.as_str())
            .collect();
        assert_eq!(found, ["v", "v2"]);
    }

    #[test]
    fn generated_columns_recomputed_by_an_alter_are_found() {
        let mut before = table(&["id", "x", "x2", "g", "h"], &["id"]);
        before.columns[3].generated = Some("`x` * 2".into());
        before.columns[4].generated = Some("`x` + 1".into());
        let mut now = table(&["id", "x", "X2", "g", "h", "n", "p", "r"], &["id"]);
        for (i, expression) in [(2, "`x` * 3"), (3, "`x` * 4"), (4, "`x` + 1"), (5, "`x`")] {
            now.columns[i].generated = Some(expression.into());
        }
        now.columns[7].generated = Some("`x` - 1".into());
        let all: ColumnFilter = Arc::new(|_, _| true);
        let found: Vec<(&str, Recomputed)> = recomputed(&now, &before.columns, &all)
            .into_iter()
            .map(|(c, how)| (c.name.value.as_str(), how))
            .collect();
        assert_eq!(
            found,
            [
                ("X2", Recomputed::MadeGenerated),
                ("g", Recomputed::Changed("`x` * 2")),
                ("n", Recomputed::Added),
                ("r", Recomputed::Added),
            ]
        );
        // Columns the task leaves out are not judged.
        let without: ColumnFilter = Arc::new(|_, c| !["X2", "g", "n"].contains(&c));
        let found = recomputed(&now, &before.columns, &without);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.name.value, "r");
        assert_eq!(
            found[0].1.describe(found[0].0, "s.t"),
            "column r was added to s.t as a generated column (`x` - 1)"
        );
    }
}
