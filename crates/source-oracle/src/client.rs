//! The database access (feature `oracle`): executes the statements of [`crate::sql`] through
//! ODPI-C and hands the rows to the pure readers. Blocking calls run on their own threads; the
//! change stream is a thread that mines window after window and sends events over a bounded
//! channel (backpressure: it waits while the consumer is behind).
//!
//! Untested against a live Oracle database (none runs where this was built): see
//! `docs/source-oracle.md`.

use crate::connect::{parse_url, ConnectParams};
use crate::events::{watched, EventBuilder};
use crate::logminer::{
    select_log_files, ContentRow, Continuations, LogFile, Miner, Mode, OpenTransactions,
    TransactionReader,
};
use crate::sql;
use crate::{OracleError, ScnPosition};
use arrow_array::RecordBatch;
use migrate_batch::ColumnBuilder;
use migrate_core::Table;
use migrate_source::{ChangeEvent, ChangeStream, Position};
use oracle::{Connection, Row};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

mod discovery;

/// How the change stream mines.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Rows per change batch (one table's consecutive changes).
    pub batch_rows: usize,
    /// The most SCNs one LogMiner session mines.
    pub window_span: u64,
    /// Wait between windows when the stream is caught up.
    pub poll_interval: Duration,
    /// `COMMITTED_DATA_ONLY` (streamed, bounded memory) or raw redo with transactions buffered
    /// in memory until they end.
    pub mode: Mode,
    /// Where LogMiner runs, when not on the source's own URL: the root container of a
    /// multitenant database (`oracle://c%23%23migrate:...@host:1521/FREE`), whose common user
    /// reads the redo of every PDB.
    pub logminer_url: Option<String>,
    /// The pluggable database whose changes are read (`SRC_CON_NAME`), when mining from the root.
    pub pdb: Option<String>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            batch_rows: 10_000,
            window_span: 100_000,
            poll_interval: Duration::from_secs(1),
            mode: Mode::CommittedOnly,
            logminer_url: None,
            pdb: None,
        }
    }
}

/// One Oracle database: discovery, the full load's SCN, and change streams.
pub struct OracleSource {
    params: ConnectParams,
    conn: Arc<Connection>,
    options: StreamOptions,
}

fn db(context: &str) -> impl Fn(oracle::Error) -> OracleError + '_ {
    move |e| OracleError::Database {
        context: context.to_string(),
        // ODPI-C's own errors (DPI-nnnn) have code 0.
        code: e.db_error().map(|d| d.code()).filter(|c| *c != 0),
        message: e.to_string(),
    }
}

/// Opens a session with the NLS settings every parser of this crate expects.
fn open(params: &ConnectParams) -> Result<Connection, OracleError> {
    let context = format!("connecting to Oracle at {}", params.endpoint);
    let conn = Connection::connect(&params.user, &params.password, &params.connect_string)
        .map_err(db(&context))?;
    for statement in sql::SESSION_SETUP {
        conn.execute(statement, &[])
            .map_err(db("setting the session's NLS formats"))?;
    }
    Ok(conn)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OracleError> + Send + 'static,
) -> Result<T, OracleError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| OracleError::Catalog {
            context: "running an Oracle call".into(),
            message: e.to_string(),
        })?
}

fn text(row: &Row, i: usize, context: &str) -> Result<Option<String>, OracleError> {
    row.get::<usize, Option<String>>(i).map_err(db(context))
}

fn number(row: &Row, i: usize, context: &str) -> Result<Option<i64>, OracleError> {
    row.get::<usize, Option<i64>>(i).map_err(db(context))
}

fn scn(row: &Row, i: usize, context: &str) -> Result<Option<u64>, OracleError> {
    row.get::<usize, Option<u64>>(i).map_err(db(context))
}

fn rows(conn: &Connection, statement: &str, context: &str) -> Result<Vec<Row>, OracleError> {
    let result = conn.query(statement, &[]).map_err(db(context))?;
    result.map(|r| r.map_err(db(context))).collect()
}

fn current_scn(conn: &Connection) -> Result<u64, OracleError> {
    let row = conn
        .query_row(sql::CURRENT_SCN, &[])
        .map_err(db("reading the current SCN"))?;
    scn(&row, 0, "reading the current SCN")?.ok_or_else(|| OracleError::Catalog {
        context: "reading the current SCN".into(),
        message: "V$DATABASE.CURRENT_SCN is null".into(),
    })
}

/// `CURRENT_SCN`, then the oldest open transaction: what a window ending after it needs.
fn open_transactions(conn: &Connection) -> Result<OpenTransactions, OracleError> {
    let scn_before = current_scn(conn)?;
    let row = conn
        .query_row(sql::OLDEST_OPEN_TRANSACTION, &[])
        .map_err(db("reading V$TRANSACTION"))?;
    Ok(OpenTransactions {
        scn_before,
        oldest_start: scn(&row, 0, "reading V$TRANSACTION")?,
    })
}

impl OracleSource {
    /// Connects to `oracle://user:password@host:port/service` (password also from
    /// `ORACLE_PASSWORD`).
    pub async fn connect(url: &str, options: StreamOptions) -> Result<OracleSource, OracleError> {
        let params = parse_url(url, std::env::var("ORACLE_PASSWORD").ok())?;
        let for_thread = params.clone();
        let conn = blocking(move || open(&for_thread)).await?;
        Ok(OracleSource {
            params,
            conn: Arc::new(conn),
            options,
        })
    }

    /// `user@host:port/service`, never the password.
    pub fn endpoint(&self) -> &str {
        &self.params.endpoint
    }

    /// The SCN a full load reads at (`AS OF SCN`), as the position its change stream starts
    /// after (with the restart point before every transaction open at that moment).
    pub async fn full_load_position(&self) -> Result<ScnPosition, OracleError> {
        let conn = self.conn.clone();
        blocking(move || {
            let open = open_transactions(&conn)?;
            let scn = current_scn(&conn)?;
            Ok(open.full_load_position(scn))
        })
        .await
    }

    /// Reads every row of `table` as of `scn` in batches of `batch_rows` rows (columns as the
    /// table's, canonical Arrow types), sent over the returned channel; a value that can't be
    /// represented ends the stream with a definite error naming the column.
    pub fn read_as_of(
        &self,
        table: &Table,
        scn: u64,
        batch_rows: usize,
    ) -> mpsc::Receiver<Result<RecordBatch, OracleError>> {
        let (sender, receiver) = mpsc::channel(2);
        let conn = self.conn.clone();
        let table = table.clone();
        let batch_rows = batch_rows.max(1);
        tokio::task::spawn_blocking(move || {
            if let Err(error) = read_as_of(&conn, &table, scn, batch_rows, &sender) {
                let _ = sender.blocking_send(Err(error));
            }
        });
        receiver
    }
}

fn read_as_of(
    conn: &Connection,
    table: &Table,
    scn: u64,
    batch_rows: usize,
    sender: &mpsc::Sender<Result<RecordBatch, OracleError>>,
) -> Result<(), OracleError> {
    let object = table.name.to_string();
    let context = format!("reading {object} as of SCN {scn}");
    let schema = Arc::new(migrate_batch::schema(table));
    let mut builders: Vec<ColumnBuilder> = schema
        .fields()
        .iter()
        .map(|f| {
            ColumnBuilder::new(f.data_type()).ok_or_else(|| OracleError::Catalog {
                context: context.clone(),
                message: format!("no builder for {}", f.data_type()),
            })
        })
        .collect::<Result<_, _>>()?;
    let mut statement = conn
        .statement(&sql::select_as_of(table, scn))
        .fetch_array_size(batch_rows.min(10_000) as u32)
        .build()
        .map_err(db(&context))?;
    let result = statement.query(&[]).map_err(db(&context))?;
    let mut count = 0usize;
    let flush = |builders: &mut Vec<ColumnBuilder>| {
        RecordBatch::try_new(
            schema.clone(),
            builders.iter_mut().map(|b| b.finish()).collect(),
        )
        .map_err(|e| OracleError::Catalog {
            context: context.clone(),
            message: e.to_string(),
        })
    };
    for row in result {
        let row = row.map_err(db(&context))?;
        for (i, column) in table.columns.iter().enumerate() {
            let builder = &mut builders[i];
            let appended = if matches!(
                column.data_type,
                migrate_core::LogicalType::Blob | migrate_core::LogicalType::Geometry
            ) {
                // BLOB and LONG RAW come as bytes, SDO_GEOMETRY as WKB bytes.
                match row.get::<usize, Option<Vec<u8>>>(i).map_err(db(&context))? {
                    None => {
                        builder.append_null();
                        Ok(())
                    }
                    Some(bytes) => match builder {
                        ColumnBuilder::LargeBinary(b) => {
                            b.append_value(bytes);
                            Ok(())
                        }
                        _ => Err(crate::value::ValueError {
                            reason: "a blob column without a binary builder".into(),
                            action: "report this as a bug in migrate".into(),
                        }),
                    },
                }
            } else {
                match text(&row, i, &context)? {
                    None => {
                        builder.append_null();
                        Ok(())
                    }
                    Some(value) => {
                        let literal =
                            sql::read_literal(&column.source_type, &column.data_type, value);
                        crate::value::append(builder, &column.data_type, &literal)
                    }
                }
            };
            appended.map_err(|e| OracleError::Unrepresentable {
                table: object.clone(),
                column: column.name.value.clone(),
                scn,
                reason: e.reason,
                action: e.action,
            })?;
        }
        count += 1;
        if count == batch_rows {
            count = 0;
            if sender.blocking_send(Ok(flush(&mut builders)?)).is_err() {
                return Ok(());
            }
        }
    }
    if count > 0 {
        let _ = sender.blocking_send(Ok(flush(&mut builders)?));
    }
    Ok(())
}

/// A running LogMiner change stream.
pub struct OracleChanges {
    receiver: mpsc::Receiver<Result<ChangeEvent, OracleError>>,
    stop: Arc<AtomicBool>,
    acknowledged: Option<ScnPosition>,
}

impl OracleChanges {
    /// The last position acknowledged: LogMiner holds no server-side state, so this is only
    /// what the caller said is durable (archived redo retention is the DBA's setting).
    pub fn acknowledged(&self) -> Option<ScnPosition> {
        self.acknowledged
    }
}

impl Drop for OracleChanges {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

// Not `migrate_source::ChangeSource` yet: that seam needs the full `Source` (chunked parallel
// reads, checksums), which this crate does not implement; `migrate replicate` does not dispatch
// to Oracle yet (docs/source-oracle.md).
impl OracleSource {
    /// Starts mining after `from` (`scn:<n>[;mine_from=<m>]`) on its own connection.
    pub async fn open_changes(
        &self,
        tables: &[Table],
        from: &Position,
    ) -> Result<OracleChanges, OracleError> {
        let from = ScnPosition::from_position(from)?;
        let params = match &self.options.logminer_url {
            Some(url) => parse_url(url, std::env::var("ORACLE_PASSWORD").ok())?,
            None => self.params.clone(),
        };
        let options = self.options.clone();
        let tables = tables.to_vec();
        let conn = blocking(move || open(&params)).await?;
        let (sender, receiver) = mpsc::channel(16);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("oracle-logminer".into())
            .spawn(move || {
                if let Err(error) = mine(&conn, &tables, from, &options, &sender, &stopped) {
                    let _ = sender.blocking_send(Err(error));
                }
                let _ = conn.execute(sql::END_LOGMINER, &[]);
            })
            .map_err(|e| OracleError::Catalog {
                context: "starting the LogMiner thread".into(),
                message: e.to_string(),
            })?;
        Ok(OracleChanges {
            receiver,
            stop,
            acknowledged: None,
        })
    }
}

impl ChangeStream for OracleChanges {
    type Error = OracleError;

    async fn next_event(&mut self) -> Result<Option<ChangeEvent>, OracleError> {
        match self.receiver.recv().await {
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(error)) => Err(error),
            None => Ok(None),
        }
    }

    async fn acknowledge(&mut self, position: &Position) -> Result<(), OracleError> {
        self.acknowledged = Some(ScnPosition::from_position(position)?);
        Ok(())
    }
}

fn log_files(
    conn: &Connection,
    statement: &str,
    context: &str,
) -> Result<Vec<LogFile>, OracleError> {
    let mut files = Vec::new();
    for row in rows(conn, statement, context)? {
        files.push(LogFile {
            name: text(&row, 0, context)?.unwrap_or_default(),
            thread: number(&row, 1, context)?.unwrap_or(1) as u32,
            sequence: scn(&row, 2, context)?.unwrap_or(0),
            first_change: scn(&row, 3, context)?.unwrap_or(0),
            next_change: scn(&row, 4, context)?.unwrap_or(u64::MAX),
        });
    }
    Ok(files)
}

fn content_row(row: &Row) -> Result<ContentRow, OracleError> {
    let context = "reading V$LOGMNR_CONTENTS";
    Ok(ContentRow {
        scn: scn(row, 0, context)?.unwrap_or(0),
        start_scn: scn(row, 1, context)?,
        commit_scn: scn(row, 2, context)?,
        operation_code: number(row, 3, context)?.unwrap_or(-1),
        seg_owner: text(row, 4, context)?,
        table_name: text(row, 5, context)?,
        row_id: text(row, 6, context)?,
        sql_redo: text(row, 7, context)?,
        sql_undo: text(row, 8, context)?,
        csf: number(row, 9, context)? == Some(1),
        xid: text(row, 10, context)?.unwrap_or_default(),
        rs_id: text(row, 11, context)?,
        ssn: number(row, 12, context)?,
        rollback: number(row, 13, context)? == Some(1),
        commit_time: number(row, 14, context)?,
    })
}

/// The mining loop: window after window until the consumer goes away or `stop` is set.
fn mine(
    conn: &Connection,
    tables: &[Table],
    from: ScnPosition,
    options: &StreamOptions,
    sender: &mpsc::Sender<Result<ChangeEvent, OracleError>>,
    stop: &AtomicBool,
) -> Result<(), OracleError> {
    let committed_only = options.mode == Mode::CommittedOnly;
    let mut miner = Miner::resume(from, options.window_span);
    let mut reader = TransactionReader::new(options.mode, tables.iter().map(watched));
    let mut builder = EventBuilder::new(tables, options.batch_rows)?;
    let contents = sql::contents_query(
        &tables.iter().map(watched).collect::<Vec<_>>(),
        options.pdb.as_deref(),
    );
    let send = |event: ChangeEvent| sender.blocking_send(Ok(event)).is_ok();
    while !stop.load(Ordering::Relaxed) {
        let open = open_transactions(conn)?;
        let current = current_scn(conn)?;
        let Some(window) = miner.next_window(current, Some(open)) else {
            if !send(ChangeEvent::Idle {
                position: miner.position().to_position(),
                server_time: None,
            }) {
                return Ok(());
            }
            std::thread::sleep(options.poll_interval);
            continue;
        };
        let archived = log_files(
            conn,
            &sql::archived_logs_query(window.start, window.end),
            "reading V$ARCHIVED_LOG",
        )?;
        let online = log_files(conn, sql::ONLINE_LOGS, "reading V$LOG")?;
        let files = select_log_files(&archived, &online, window.start, window.end)?;
        for (i, file) in files.iter().enumerate() {
            conn.execute(sql::add_logfile(i == 0), &[file])
                .map_err(db(&format!("adding redo log {file} to LogMiner")))?;
        }
        let context = format!(
            "starting LogMiner for SCNs {}..={}",
            window.start, window.end
        );
        conn.execute(
            &sql::start_logminer(window.start, window.end, committed_only),
            &[],
        )
        .map_err(db(&context))?;
        tracing::debug!(
            start = window.start,
            end = window.end,
            files = files.len(),
            "mining"
        );
        let mut continuations = Continuations::default();
        let mut remine = false;
        {
            let context = "querying V$LOGMNR_CONTENTS";
            let mut statement = conn
                .statement(&contents)
                .fetch_array_size(1000)
                .build()
                .map_err(db(context))?;
            for row in statement.query(&[]).map_err(db(context))? {
                let row = content_row(&row.map_err(db(context))?)?;
                let Some(row) = continuations.push(row)? else {
                    continue;
                };
                for item in reader.push(&mut miner, &window, row)? {
                    for event in builder.push(item, |scn| miner.position_at(scn))? {
                        if !send(event) {
                            return Ok(());
                        }
                    }
                }
                if reader.remine_requested() || stop.load(Ordering::Relaxed) {
                    remine = reader.remine_requested();
                    break;
                }
            }
        }
        conn.execute(sql::END_LOGMINER, &[])
            .map_err(db("ending LogMiner"))?;
        if stop.load(Ordering::Relaxed) && !remine {
            return Ok(());
        }
        if remine {
            reader.finish_window(&mut miner);
            miner.remine(&window);
            continue;
        }
        continuations.finish()?;
        for item in reader.finish_window(&mut miner) {
            for event in builder.push(item, |scn| miner.position_at(scn))? {
                if !send(event) {
                    return Ok(());
                }
            }
        }
        match options.mode {
            Mode::CommittedOnly => miner.window_done(&window),
            Mode::Buffered => miner.window_done_buffered(&window, reader.oldest_open()),
        }
        if !send(ChangeEvent::Idle {
            position: miner.position().to_position(),
            server_time: None,
        }) {
            return Ok(());
        }
    }
    Ok(())
}
