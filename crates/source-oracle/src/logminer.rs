//! LogMiner capture without I/O: the rows of `V$LOGMNR_CONTENTS` as data, the reassembly of
//! statements split over several rows, transactions (commit, rollback, interleaving), the mining
//! windows and where to restart them, and the choice of redo log files for a window.
//!
//! ## Mining windows and the resume rule
//!
//! Each window mines `[start, end]` with `STARTSCN`/`ENDSCN`, `end` at most `max_span` SCNs past
//! `start` and never past the database's current SCN. LogMiner only returns the rows inside the
//! mined range, so a transaction that started before `start` would be seen partially. [`Miner`]
//! keeps a *safe start*: an SCN at or before the start of every transaction not delivered yet.
//!
//! - Checkpoint positions are `scn:<commit SCN of the last delivered transaction>;mine_from=<safe
//!   start>`; on resume, transactions with a commit SCN `<=` the checkpoint are skipped (they may
//!   be mined again, and are never delivered twice).
//! - With `COMMITTED_DATA_ONLY` ([`Mode::CommittedOnly`], the default), LogMiner returns whole
//!   transactions in commit order with their `START_SCN`. A window that reaches the current SCN
//!   moves the safe start to the oldest transaction open at that moment (`V$TRANSACTION`, read
//!   before the window's end is chosen); a transaction whose start lies before its window
//!   (`START_SCN` null or lower) makes the window be mined again from the safe start up to the same
//!   end ([`Verdict::Remine`]).
//! - Without it ([`Mode::Buffered`]), rows of all transactions come interleaved in SCN order; they
//!   are buffered per transaction until its COMMIT (delivered) or ROLLBACK (dropped), open
//!   transactions carry over to the next window, and the safe start is the first SCN of the
//!   oldest open one.
//!
//! Transactions that commit at the same SCN are delivered under one `Commit`: a checkpoint at
//! that SCN then covers all of them, so the resume rule can never skip half of them.

use crate::position::ScnPosition;
use crate::redo::{parse_redo, RedoStatement};
use crate::sql::{op, WatchedTable};
use crate::OracleError;
use std::collections::{BTreeMap, HashSet};

/// One row of `V$LOGMNR_CONTENTS`, columns as [`crate::sql::contents_query`] selects them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentRow {
    pub scn: u64,
    pub start_scn: Option<u64>,
    pub commit_scn: Option<u64>,
    pub operation_code: i64,
    pub seg_owner: Option<String>,
    pub table_name: Option<String>,
    pub row_id: Option<String>,
    pub sql_redo: Option<String>,
    pub sql_undo: Option<String>,
    /// `CSF = 1`: the statement continues in the next row.
    pub csf: bool,
    /// The transaction id, hex.
    pub xid: String,
    pub rs_id: Option<String>,
    pub ssn: Option<i64>,
    /// `ROLLBACK = 1`: the row undoes an earlier change of the transaction (rollback to a
    /// savepoint); its `SQL_REDO` is the compensating statement.
    pub rollback: bool,
    /// COMMIT_TIMESTAMP, seconds since 1970 UTC.
    pub commit_time: Option<i64>,
}

impl ContentRow {
    fn object(&self) -> String {
        match (&self.seg_owner, &self.table_name) {
            (Some(owner), Some(table)) => format!("{owner}.{table}"),
            (None, Some(table)) => table.clone(),
            _ => "(no table)".into(),
        }
    }
}

/// Joins rows whose statement continues (`CSF = 1`) into one row: `SQL_REDO` and `SQL_UNDO`
/// longer than 4,000 bytes are split over consecutive rows with the same `RS_ID` and `SSN`.
#[derive(Debug, Default)]
pub struct Continuations {
    pending: Option<ContentRow>,
}

impl Continuations {
    /// The next whole row, or `None` while a statement continues.
    pub fn push(&mut self, row: ContentRow) -> Result<Option<ContentRow>, OracleError> {
        let whole = match self.pending.take() {
            None => row,
            Some(mut pending) => {
                if pending.rs_id != row.rs_id || pending.ssn != row.ssn || pending.xid != row.xid {
                    return Err(OracleError::Catalog {
                        context: format!("reading V$LOGMNR_CONTENTS at SCN {}", row.scn),
                        message: format!(
                            "the statement of {} at SCN {} (RS_ID {:?}, SSN {:?}) continues (CSF=1) but the next row belongs to RS_ID {:?}, SSN {:?}",
                            pending.object(),
                            pending.scn,
                            pending.rs_id,
                            pending.ssn,
                            row.rs_id,
                            row.ssn
                        ),
                    });
                }
                append(&mut pending.sql_redo, row.sql_redo);
                append(&mut pending.sql_undo, row.sql_undo);
                pending.csf = row.csf;
                pending
            }
        };
        if whole.csf {
            self.pending = Some(whole);
            Ok(None)
        } else {
            Ok(Some(whole))
        }
    }

    /// Checks that no statement was left unfinished at the end of a window.
    pub fn finish(&mut self) -> Result<(), OracleError> {
        match self.pending.take() {
            None => Ok(()),
            Some(row) => Err(OracleError::Catalog {
                context: "reading V$LOGMNR_CONTENTS".into(),
                message: format!(
                    "the statement of {} at SCN {} continues (CSF=1) past the last row",
                    row.object(),
                    row.scn
                ),
            }),
        }
    }
}

fn append(to: &mut Option<String>, piece: Option<String>) {
    if let Some(piece) = piece {
        to.get_or_insert_with(String::new).push_str(&piece);
    }
}

/// How LogMiner groups transactions (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `COMMITTED_DATA_ONLY`: whole committed transactions in commit order, streamed without
    /// buffering (memory: one row at a time, whatever the transaction's size).
    CommittedOnly,
    /// Raw redo order: transactions interleaved, buffered in memory until they end.
    Buffered,
}

/// An SCN range mined in one LogMiner session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub end: u64,
    /// When the window ends at the current SCN: what `V$TRANSACTION` said just before the end
    /// was read (the SCN read before it, and the oldest open transaction's start).
    pub open: Option<OpenTransactions>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenTransactions {
    /// `CURRENT_SCN` read before `V$TRANSACTION`.
    pub scn_before: u64,
    /// `MIN(START_SCN)` of `V$TRANSACTION`, `None` when no transaction was open.
    pub oldest_start: Option<u64>,
}

impl OpenTransactions {
    /// The position a full load read `AS OF SCN scn` hands to the change stream: transactions
    /// that committed after `scn`, mined from before every transaction open at that moment
    /// (`self` read just before `scn`).
    pub fn full_load_position(&self, scn: u64) -> ScnPosition {
        ScnPosition::with_mine_from(scn, self.safe_start().min(scn.saturating_add(1)))
    }

    /// No transaction open at the window's end started before this SCN.
    fn safe_start(&self) -> u64 {
        self.oldest_start
            .map_or(self.scn_before, |oldest| oldest.min(self.scn_before))
    }
}

/// The plan of mining windows: where the next one starts, the safe start, and the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miner {
    /// Transactions that committed at or before it were delivered.
    delivered: u64,
    /// No undelivered transaction started before it.
    safe_start: u64,
    next_start: u64,
    /// Set after a re-mine: the next window ends here whatever the span.
    forced_end: Option<u64>,
    max_span: u64,
}

/// What to do with a transaction met in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Committed at or before the checkpoint: delivered before, skip it.
    Skip,
    Deliver,
    /// It started before the window: mine again from the safe start.
    Remine,
}

impl Miner {
    /// Resumes after `position` with windows of at most `max_span` SCNs.
    pub fn resume(position: ScnPosition, max_span: u64) -> Miner {
        let start = position.resume_scn();
        Miner {
            delivered: position.scn,
            safe_start: start,
            next_start: start,
            forced_end: None,
            max_span: max_span.max(1),
        }
    }

    /// The next window given the database's current SCN, or `None` when there is nothing new.
    /// `open` is what `V$TRANSACTION` said just before `current_scn` was read.
    pub fn next_window(&self, current_scn: u64, open: Option<OpenTransactions>) -> Option<Window> {
        if self.next_start > current_scn {
            return None;
        }
        let capped = self
            .next_start
            .saturating_add(self.max_span - 1)
            .min(current_scn);
        let end = self.forced_end.map_or(capped, |forced| forced.max(capped));
        Some(Window {
            start: self.next_start,
            end,
            open: if end == current_scn { open } else { None },
        })
    }

    /// Whether to deliver a transaction of `window` that started at `start_scn` (`None`: its
    /// start is not in the mined range) and committed at `commit_scn`.
    pub fn verdict(
        &self,
        window: &Window,
        start_scn: Option<u64>,
        commit_scn: u64,
    ) -> Result<Verdict, OracleError> {
        if commit_scn <= self.delivered {
            return Ok(Verdict::Skip);
        }
        match start_scn {
            Some(start) if start >= window.start => Ok(Verdict::Deliver),
            _ if window.start > self.safe_start => Ok(Verdict::Remine),
            _ => Err(OracleError::Unsupported {
                table: "(transaction)".into(),
                scn: commit_scn,
                message: format!(
                    "a transaction committed at SCN {commit_scn} started before SCN {}, where mining starts{}",
                    window.start,
                    start_scn.map(|s| format!(" (at SCN {s})")).unwrap_or_default()
                ),
                action: format!(
                    "resume from a position with an earlier restart point: scn:{};mine_from=<an SCN before the transaction started>",
                    self.delivered
                ),
            }),
        }
    }

    /// A transaction (or group of transactions with one commit SCN) was delivered.
    pub fn delivered(&mut self, commit_scn: u64) {
        self.delivered = self.delivered.max(commit_scn);
    }

    /// The window was mined to its end ([`Mode::CommittedOnly`]): when it reached the current
    /// SCN, the safe start moves to the oldest transaction open then (possibly back: an old open
    /// transaction is never skipped over).
    pub fn window_done(&mut self, window: &Window) {
        self.finish(window);
        if let Some(open) = window.open {
            self.safe_start = open.safe_start().min(window.end + 1);
        }
    }

    /// The window was mined to its end ([`Mode::Buffered`]): the safe start is the first SCN of
    /// the oldest transaction still open (`oldest_open`), or the window's end + 1.
    pub fn window_done_buffered(&mut self, window: &Window, oldest_open: Option<u64>) {
        self.finish(window);
        self.safe_start = oldest_open.unwrap_or(window.end + 1);
    }

    fn finish(&mut self, window: &Window) {
        self.delivered = self.delivered.max(window.end);
        self.next_start = window.end + 1;
        self.forced_end = None;
    }

    /// The window was abandoned because a transaction started before it: mine again from the
    /// safe start up to at least its end.
    pub fn remine(&mut self, window: &Window) {
        self.next_start = self.safe_start;
        self.forced_end = Some(window.end);
    }

    /// The checkpoint: everything up to `delivered`, restarting at the safe start.
    pub fn position(&self) -> ScnPosition {
        ScnPosition::with_mine_from(self.delivered, self.safe_start)
    }

    /// The checkpoint after a transaction that committed at `commit_scn`.
    pub fn position_at(&self, commit_scn: u64) -> ScnPosition {
        ScnPosition::with_mine_from(commit_scn, self.safe_start)
    }
}

/// What a window yields, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Mined {
    /// A row change of a watched table.
    Change { scn: u64, redo: RedoStatement },
    /// `TRUNCATE TABLE` of a watched table.
    Truncate { table: WatchedTable, scn: u64 },
    /// Every transaction before committed at `commit_scn`.
    Commit {
        commit_scn: u64,
        commit_time: Option<i64>,
    },
}

fn mined(scn: u64, item: Pending) -> Mined {
    match item {
        Pending::Change(redo) => Mined::Change { scn, redo },
        Pending::Truncate(table) => Mined::Truncate { table, scn },
    }
}

/// A transaction being read.
#[derive(Debug, Default)]
struct Open {
    first_scn: u64,
    rows: Vec<(u64, Pending)>,
}

#[derive(Debug)]
enum Pending {
    Change(RedoStatement),
    Truncate(WatchedTable),
}

/// The transactions of one window: turns whole rows into [`Mined`] items (the caller maps them
/// to change events), applying the [`Miner`]'s verdicts.
#[derive(Debug)]
pub struct TransactionReader {
    mode: Mode,
    tables: HashSet<WatchedTable>,
    /// [`Mode::Buffered`]: open transactions by XID; they survive the window.
    open: BTreeMap<String, Open>,
    /// [`Mode::CommittedOnly`]: the transaction being streamed (its first watched row seen), its
    /// verdict, and whether it delivered anything (a transaction of ignored DDL has no commit).
    current: Option<(String, Verdict, bool)>,
    /// A commit not announced yet: the next transaction may share its SCN.
    pending_commit: Option<(u64, Option<i64>)>,
    remine: bool,
}

impl TransactionReader {
    pub fn new(mode: Mode, tables: impl IntoIterator<Item = WatchedTable>) -> TransactionReader {
        TransactionReader {
            mode,
            tables: tables.into_iter().collect(),
            open: BTreeMap::new(),
            current: None,
            pending_commit: None,
            remine: false,
        }
    }

    /// In [`Mode::Buffered`], the first SCN of the oldest open transaction.
    pub fn oldest_open(&self) -> Option<u64> {
        self.open.values().map(|t| t.first_scn).min()
    }

    /// Reads one whole row (after [`Continuations`]). `Err` for statements that can't be
    /// replicated. After a row that needs the window mined again ([`Verdict::Remine`]),
    /// [`Self::remine_requested`] is true: deliver the items returned, stop reading the window and
    /// call [`Miner::remine`].
    pub fn push(
        &mut self,
        miner: &mut Miner,
        window: &Window,
        row: ContentRow,
    ) -> Result<Vec<Mined>, OracleError> {
        let mut out = Vec::new();
        let ends = row.operation_code == op::COMMIT || row.operation_code == op::ROLLBACK;
        match self.mode {
            Mode::CommittedOnly => {
                let commit_scn = row.commit_scn.ok_or_else(|| OracleError::Catalog {
                    context: format!("reading V$LOGMNR_CONTENTS at SCN {}", row.scn),
                    message: "COMMIT_SCN is null although COMMITTED_DATA_ONLY is set".into(),
                })?;
                if ends {
                    // Transactions without rows of watched tables end here unnoticed.
                    if let Some((xid, verdict, delivered_rows)) = self.current.take() {
                        if xid == row.xid && verdict == Verdict::Deliver && delivered_rows {
                            if row.operation_code == op::ROLLBACK {
                                return Err(OracleError::Catalog {
                                    context: format!("reading V$LOGMNR_CONTENTS at SCN {}", row.scn),
                                    message: format!("transaction {} rolled back after its rows were delivered, although COMMITTED_DATA_ONLY is set", row.xid),
                                });
                            }
                            self.pending_commit = Some((commit_scn, row.commit_time));
                        }
                    }
                    return Ok(out);
                }
                if !self.watches(&row) {
                    return Ok(out);
                }
                let verdict = match &self.current {
                    Some((xid, verdict, _)) if *xid == row.xid => *verdict,
                    _ => {
                        let verdict = miner.verdict(window, row.start_scn, commit_scn)?;
                        if verdict == Verdict::Remine {
                            self.current = None;
                            self.remine = true;
                            // Rows already delivered get their commit now; the remined window
                            // skips them by the resume rule.
                            if let Some((scn, time)) = self.pending_commit.take() {
                                if scn == commit_scn {
                                    return Err(OracleError::Unsupported {
                                        table: row.object(),
                                        scn: commit_scn,
                                        message: format!("two transactions committed at SCN {commit_scn}, and the second started before the mining window"),
                                        action: format!("resume from scn:{};mine_from={}", scn - 1, miner.position().resume_scn().min(scn - 1)),
                                    });
                                }
                                miner.delivered(scn);
                                out.push(Mined::Commit {
                                    commit_scn: scn,
                                    commit_time: time,
                                });
                            }
                            return Ok(out);
                        }
                        self.current = Some((row.xid.clone(), verdict, false));
                        verdict
                    }
                };
                if verdict == Verdict::Skip {
                    return Ok(out);
                }
                if let Some(item) = self.change(&row)? {
                    // The first row of a transaction with another commit SCN: announce the
                    // previous one.
                    if let Some((scn, time)) = self.pending_commit {
                        if scn != commit_scn {
                            self.pending_commit = None;
                            miner.delivered(scn);
                            out.push(Mined::Commit {
                                commit_scn: scn,
                                commit_time: time,
                            });
                        }
                    }
                    out.push(mined(row.scn, item));
                    if let Some(current) = &mut self.current {
                        current.2 = true;
                    }
                }
            }
            Mode::Buffered if row.operation_code == op::COMMIT => {
                let Some(transaction) = self.open.remove(&row.xid) else {
                    return Ok(out);
                };
                let commit_scn = row.commit_scn.unwrap_or(row.scn);
                if commit_scn <= miner.position().scn {
                    return Ok(out);
                }
                if let Some((scn, time)) = self.pending_commit.take() {
                    if scn != commit_scn {
                        miner.delivered(scn);
                        out.push(Mined::Commit {
                            commit_scn: scn,
                            commit_time: time,
                        });
                    }
                }
                out.extend(
                    transaction
                        .rows
                        .into_iter()
                        .map(|(scn, item)| mined(scn, item)),
                );
                self.pending_commit = Some((commit_scn, row.commit_time));
            }
            Mode::Buffered if row.operation_code == op::ROLLBACK => {
                self.open.remove(&row.xid);
            }
            Mode::Buffered => {
                if self.watches(&row) {
                    if let Some(item) = self.change(&row)? {
                        self.open
                            .entry(row.xid.clone())
                            .or_insert_with(|| Open {
                                first_scn: row.scn,
                                rows: Vec::new(),
                            })
                            .rows
                            .push((row.scn, item));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether the last row asked for the window to be mined again.
    pub fn remine_requested(&self) -> bool {
        self.remine
    }

    fn watches(&self, row: &ContentRow) -> bool {
        match (&row.seg_owner, &row.table_name) {
            (Some(owner), Some(table)) => self.tables.contains(&WatchedTable {
                owner: owner.clone(),
                table: table.clone(),
            }),
            _ => false,
        }
    }

    /// The end of the window: the last commit is announced (no later transaction of the window
    /// can share its SCN).
    pub fn finish_window(&mut self, miner: &mut Miner) -> Vec<Mined> {
        self.current = None;
        self.remine = false;
        match self.pending_commit.take() {
            Some((scn, time)) => {
                miner.delivered(scn);
                vec![Mined::Commit {
                    commit_scn: scn,
                    commit_time: time,
                }]
            }
            None => Vec::new(),
        }
    }

    /// A row change, truncate or DDL of a watched table ([`Self::watches`]), checked and parsed.
    fn change(&self, row: &ContentRow) -> Result<Option<Pending>, OracleError> {
        let table = WatchedTable {
            owner: row.seg_owner.clone().unwrap_or_default(),
            table: row.table_name.clone().unwrap_or_default(),
        };
        let object = row.object();
        let redo_text = row.sql_redo.as_deref().unwrap_or("");
        match row.operation_code {
            op::INSERT | op::UPDATE | op::DELETE => {
                let redo = parse_redo(redo_text).map_err(|e| OracleError::Redo {
                    table: object.clone(),
                    scn: row.scn,
                    message: e.to_string(),
                    sql: shorten(redo_text),
                })?;
                if redo.owner != table.owner || redo.table != table.table {
                    return Err(OracleError::Redo {
                        table: object,
                        scn: row.scn,
                        message: format!("the statement is about {}.{}", redo.owner, redo.table),
                        sql: shorten(redo_text),
                    });
                }
                Ok(Some(Pending::Change(redo)))
            }
            op::DDL => {
                let text = redo_text.trim_start().to_ascii_lowercase();
                let words: Vec<&str> = text.split_whitespace().take(2).collect();
                match words.as_slice() {
                    ["truncate", "table"] => Ok(Some(Pending::Truncate(table))),
                    ["comment", _] | ["grant", _] | ["revoke", _] | ["analyze", _] | ["create", "index" | "unique" | "bitmap"] => {
                        tracing::info!(object = %object, scn = row.scn, ddl = %shorten(redo_text), "DDL without effect on rows");
                        Ok(None)
                    }
                    _ => Err(OracleError::Unsupported {
                        table: object,
                        scn: row.scn,
                        message: format!("DDL on a replicated table: {}", shorten(redo_text)),
                        action: "the Oracle source stops at DDL that may change the table's columns: apply the change to the target by hand (or run `migrate convert` again), then reload the table with a full load".into(),
                    }),
                }
            }
            op::SELECT_LOB_LOCATOR | op::LOB_WRITE | op::LOB_TRIM | op::LOB_ERASE => Err(OracleError::Unsupported {
                table: object,
                scn: row.scn,
                message: "a LOB was written piecewise (LOB_WRITE/SELECT_LOB_LOCATOR), which LogMiner does not give as a value".into(),
                action: "exclude the LOB column or the table from change capture, or reload the table with a full load after the change".into(),
            }),
            op::UNSUPPORTED => Err(OracleError::Unsupported {
                table: object,
                scn: row.scn,
                message: format!("LogMiner can't decode this change (OPERATION UNSUPPORTED: {})", shorten(redo_text)),
                action: "check the table's column types against LogMiner's supported types (Oracle Utilities, \"Supported Data Types\"); exclude the table from change capture".into(),
            }),
            _ => Ok(None),
        }
    }
}

/// The first 300 characters of a statement, for messages.
fn shorten(sql: &str) -> String {
    match sql.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &sql[..cut]),
        None => sql.to_string(),
    }
}

/// One redo log file as `V$ARCHIVED_LOG` or `V$LOG`/`V$LOGFILE` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub name: String,
    pub thread: u32,
    pub sequence: u64,
    pub first_change: u64,
    /// The first SCN of the next log; the current online log's is the highest SCN there is.
    pub next_change: u64,
}

/// The files to add for mining `[start, end]`: per thread and sequence the archived copy when
/// there is one (online logs are overwritten once archived), else the online log, covering the
/// range without a gap. Errors when the redo of `start` is gone or a sequence is missing.
pub fn select_log_files(
    archived: &[LogFile],
    online: &[LogFile],
    start: u64,
    end: u64,
) -> Result<Vec<String>, OracleError> {
    let mut by_sequence: BTreeMap<(u32, u64), &LogFile> = BTreeMap::new();
    for file in online.iter().chain(archived) {
        if file.next_change > start && file.first_change <= end {
            // Archived copies come second and replace the online log of the same sequence.
            by_sequence.insert((file.thread, file.sequence), file);
        }
    }
    if by_sequence.is_empty() {
        return Err(OracleError::RedoGone {
            scn: start,
            oldest: archived
                .iter()
                .chain(online)
                .map(|f| f.first_change)
                .min()
                .unwrap_or(0),
        });
    }
    let mut threads: BTreeMap<u32, Vec<&LogFile>> = BTreeMap::new();
    for ((thread, _), file) in &by_sequence {
        threads.entry(*thread).or_default().push(file);
    }
    for files in threads.values() {
        if files[0].first_change > start {
            return Err(OracleError::RedoGone {
                scn: start,
                oldest: files[0].first_change,
            });
        }
        for pair in files.windows(2) {
            if pair[1].sequence != pair[0].sequence + 1 {
                return Err(OracleError::RedoGone {
                    scn: pair[0].next_change,
                    oldest: pair[1].first_change,
                });
            }
        }
    }
    Ok(by_sequence.values().map(|f| f.name.clone()).collect())
}
