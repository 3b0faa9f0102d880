//! One consistent view of the database shared by parallel readers.
//!
//! MySQL has no exported snapshots: each reader is its own connection with its own
//! `START TRANSACTION WITH CONSISTENT SNAPSHOT`. The views agree because every reader starts
//! its transaction while a global read lock (`FLUSH TABLES WITH READ LOCK`) stops all commits,
//! and the binlog position read under the same lock is where the views stand.

use crate::connect::{first, get, Flavor, Target};
use crate::{MysqlSource, SourceError};
use futures::future::try_join_all;
use migrate_checksum::JsonText;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long `FLUSH TABLES WITH READ LOCK` may wait for running statements (it blocks all writes
/// while it waits, so the wait is kept short): seconds.
const LOCK_WAIT_SECONDS: u32 = 30;

/// MySQL's "access denied; you need the RELOAD privilege" (and its variants).
const ACCESS_DENIED: [u16; 3] = [1044, 1045, 1227];

/// Where the binlog stood when the snapshot's view was taken: the start of change capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogPosition {
    /// The binlog file (`mariadb-bin.000012`).
    pub file: String,
    /// The byte offset in `file` after the last transaction the view contains.
    pub position: u64,
    /// The GTID state at that point: MariaDB `domain-server-sequence` list
    /// (`@@gtid_binlog_pos`), MySQL `Executed_Gtid_Set`; `None` when GTIDs are off or unknown.
    pub gtid: Option<String>,
}

impl BinlogPosition {
    /// The change-stream position of this point (`file:pos;gtid=...`), to open
    /// [`migrate_source::ChangeSource::open_changes`] exactly where the snapshot stands.
    pub fn change_position(&self) -> migrate_source::Position {
        migrate_source::Position(match &self.gtid {
            Some(gtid) => format!("{}:{};gtid={gtid}", self.file, self.position),
            None => format!("{}:{}", self.file, self.position),
        })
    }
}

impl std::fmt::Display for BinlogPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.position)?;
        if let Some(gtid) = &self.gtid {
            write!(f, " (GTID {gtid})")?;
        }
        Ok(())
    }
}

/// A consistent view of the whole database, read by up to [`MysqlSnapshot::readers`]
/// connections at once (each in a `REPEATABLE READ, READ ONLY` transaction started with
/// `WITH CONSISTENT SNAPSHOT`).
///
/// Contract:
/// - every read and checksum through it sees exactly the data committed at one instant (the
///   instant of [`MysqlSnapshot::binlog_position`]): rows committed later are invisible to all
///   readers, rows committed before visible to all; for InnoDB (and other transactional) tables
///   only: MyISAM/Aria tables are read as they are at read time (discovery reports them);
/// - more concurrent reads than readers wait for a free one;
/// - a reader whose connection breaks is dropped (its transaction is gone, and a new one would
///   see other data); when none is left, reads fail with [`SourceError::SnapshotLost`];
/// - holding it open holds back InnoDB's purge (undo history grows): keep it for the full load
///   only, and [`close`](migrate_source::Snapshot::close) it. Dropping it disconnects (the server
///   rolls the transactions back).
pub struct MysqlSnapshot {
    pub(crate) inner: Arc<Readers>,
    position: Option<BinlogPosition>,
    single_reader_reason: Option<String>,
}

impl std::fmt::Debug for MysqlSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlSnapshot")
            .field("endpoint", &self.inner.endpoint)
            .field("readers", &self.inner.live.load(Ordering::Relaxed))
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

/// The snapshot's reader connections, lent out one chunk at a time.
pub(crate) struct Readers {
    pub endpoint: String,
    /// How checksums write `json` values (the server's [`Flavor::json_text`]).
    pub json_text: JsonText,
    idle: Mutex<Vec<Conn>>,
    permits: Arc<Semaphore>,
    /// Readers not lost: idle plus lent out.
    live: AtomicUsize,
}

/// A reader connection lent to one chunk read; back to the pool when dropped, unless
/// [`Reader::discard`]ed.
pub(crate) struct Reader {
    conn: Option<Conn>,
    readers: Arc<Readers>,
    /// Released when the reader goes back to the pool, forgotten when it is lost (the pool has
    /// one permit per live connection).
    permit: Option<OwnedSemaphorePermit>,
}

impl Reader {
    pub fn conn(&mut self) -> &mut Conn {
        // Present from construction until `discard` or drop, which consume or end `self`.
        self.conn
            .as_mut()
            .expect("a lent reader holds its connection")
    }

    /// Gives the reader back after an operation, or drops it when the operation's error says
    /// the connection broke: its transaction, and so the snapshot's view, is gone.
    pub fn give_back<T>(self, outcome: &Result<T, SourceError>) {
        match outcome {
            Err(SourceError::Query { source, .. }) if source.is_fatal() => {
                tracing::warn!(endpoint = %self.readers.endpoint, "a snapshot reader's connection broke: {source}");
                self.discard();
            }
            _ => drop(self),
        }
    }

    /// Drops a connection whose transaction can't be trusted any more (a broken connection).
    fn discard(mut self) {
        self.lose();
    }

    fn lose(&mut self) {
        self.conn = None;
        if let Some(permit) = self.permit.take() {
            permit.forget();
        }
        if self.readers.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last one: wake every waiting read with an error instead of a hang.
            self.readers.permits.close();
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if self.conn.is_none() {
            return;
        }
        // A reader dropped by a panic may be in the middle of a packet: never lend it again.
        if std::thread::panicking() {
            self.lose();
            return;
        }
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.readers.idle.lock()) {
            idle.push(conn);
        }
    }
}

impl Readers {
    /// Waits for a free reader.
    pub async fn lend(self: &Arc<Self>) -> Result<Reader, SourceError> {
        let lost = || SourceError::SnapshotLost {
            endpoint: self.endpoint.clone(),
            message: "every reader connection broke".into(),
        };
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| lost())?;
        let conn = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match conn {
            Some(conn) => Ok(Reader {
                conn: Some(conn),
                readers: self.clone(),
                permit: Some(permit),
            }),
            // Permits are forgotten with lost readers, so a permit always finds a connection;
            // this is reached only if the pool's lock was poisoned by a panic.
            None => Err(lost()),
        }
    }
}

impl MysqlSnapshot {
    /// Where the binlog stood at the snapshot (the start position for change capture), or
    /// `None` when the server has no binlog, the user may not read it, or (MySQL without the
    /// RELOAD privilege) it can't be tied to the view.
    pub fn binlog_position(&self) -> Option<&BinlogPosition> {
        self.position.as_ref()
    }

    /// How many connections read in parallel.
    pub fn readers(&self) -> usize {
        self.inner.live.load(Ordering::Acquire)
    }

    /// Why the snapshot has a single reader although more were asked for (no RELOAD privilege
    /// for the global read lock that aligns several), for the caller to report; `None` when
    /// the snapshot has every reader asked for.
    pub fn single_reader_reason(&self) -> Option<&str> {
        self.single_reader_reason.as_deref()
    }

    /// Commits every reader's transaction and disconnects, after the reads in progress end.
    pub async fn close(self) -> Result<(), SourceError> {
        let live = self.inner.live.load(Ordering::Acquire);
        // Waiting for every live permit waits for the reads still holding a connection.
        let _all = match u32::try_from(live) {
            Ok(n) if n > 0 => self.inner.permits.acquire_many(n).await.ok(),
            _ => None,
        };
        let conns: Vec<Conn> = match self.inner.idle.lock() {
            Ok(mut idle) => idle.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        let context = format!("closing the snapshot on {}", self.inner.endpoint);
        let mut result = Ok(());
        for mut conn in conns {
            let done = match conn.query_drop("COMMIT").await {
                Ok(()) => conn.disconnect().await,
                Err(e) => Err(e),
            };
            if let Err(e) = done {
                result = result.and(Err(SourceError::query(context.clone())(e)));
            }
        }
        result
    }
}

impl MysqlSource {
    /// Opens a snapshot with `readers` connections (at least one) sharing one view:
    ///
    /// 1. the reader connections are opened (before any lock);
    /// 2. `FLUSH TABLES WITH READ LOCK` on a control connection (waits at most
    ///    [`LOCK_WAIT_SECONDS`] for running statements);
    /// 3. each reader: `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY` (REPEATABLE READ);
    /// 4. the binlog position (`SHOW MASTER STATUS` / `SHOW BINARY LOG STATUS`, and the GTID
    ///    state);
    /// 5. `UNLOCK TABLES`: writes were blocked from 2 to here only.
    ///
    /// Without the RELOAD privilege the lock is refused: the snapshot then has ONE reader (one
    /// transaction is consistent by itself) and says why in [`MysqlSnapshot::single_reader_reason`]
    /// and a `tracing` warning. Its position comes from MariaDB's `binlog_snapshot_file` /
    /// `binlog_snapshot_position`, which the server ties to the transaction; MySQL has no such
    /// thing, so the position is `None` there.
    pub async fn snapshot(&self, readers: usize) -> Result<MysqlSnapshot, SourceError> {
        let target = &self.target;
        let wanted = readers.max(1);
        let mut control = open(target).await?;
        let mut conns = try_join_all((0..wanted).map(|_| open(target))).await?;
        let context = format!("opening a snapshot on {}", target.endpoint);
        control
            .query_drop(format!(
                "SET SESSION lock_wait_timeout = {LOCK_WAIT_SECONDS}"
            ))
            .await
            .map_err(SourceError::query(context.clone()))?;
        let (position, reason) = match control.query_drop("FLUSH TABLES WITH READ LOCK").await {
            Ok(()) => {
                let started = begin_all(&mut conns, &context).await;
                let position = match started {
                    Ok(()) => self.locked_position(&mut control).await,
                    Err(e) => Err(e),
                };
                // Unlock whatever happened; a failed unlock is also released by disconnecting.
                let unlocked = control
                    .query_drop("UNLOCK TABLES")
                    .await
                    .map_err(SourceError::query(context.clone()));
                let position = position?;
                unlocked?;
                (position, None)
            }
            Err(mysql_async::Error::Server(e)) if ACCESS_DENIED.contains(&e.code) => {
                let reason = format!(
                    "FLUSH TABLES WITH READ LOCK was refused ({}), so the {wanted} reader(s) asked for can't share one view: reading with one connection",
                    e.message
                );
                tracing::warn!(endpoint = %target.endpoint, "{reason}; grant RELOAD to read in parallel");
                conns.truncate(1);
                begin_all(&mut conns, &context).await?;
                let position = self.transaction_position(&mut conns[0]).await?;
                (position, Some(reason))
            }
            Err(e) => return Err(SourceError::query(context)(e)),
        };
        // Best effort: the control connection holds nothing any more.
        let _ = control.disconnect().await;
        let live = conns.len();
        Ok(MysqlSnapshot {
            inner: Arc::new(Readers {
                endpoint: target.endpoint.clone(),
                json_text: self.flavor.json_text(),
                idle: Mutex::new(conns),
                permits: Arc::new(Semaphore::new(live)),
                live: AtomicUsize::new(live),
            }),
            position,
            single_reader_reason: reason,
        })
    }

    /// The binlog position while commits are blocked by the global read lock.
    async fn locked_position(
        &self,
        control: &mut Conn,
    ) -> Result<Option<BinlogPosition>, SourceError> {
        let status = match self.flavor {
            Flavor::Mysql(major, minor) if (major, minor) >= (8, 2) => "SHOW BINARY LOG STATUS",
            _ => "SHOW MASTER STATUS",
        };
        let context = format!("reading the binlog position on {}", self.target.endpoint);
        let row: Option<Row> = match control.query_first(status).await {
            Ok(row) => row,
            Err(mysql_async::Error::Server(e)) if ACCESS_DENIED.contains(&e.code) => {
                tracing::warn!(endpoint = %self.target.endpoint, "{status} was refused ({}): the snapshot has no binlog position for change capture", e.message);
                return Ok(None);
            }
            Err(e) => return Err(SourceError::query(context)(e)),
        };
        // No row: the binlog is off.
        let Some(mut row) = row else { return Ok(None) };
        let file: String = get(&mut row, "File", &context)?.unwrap_or_default();
        let position: u64 = get(&mut row, "Position", &context)?.unwrap_or_default();
        let gtid = match self.flavor {
            Flavor::MariaDb(..) => {
                first::<String>(control, "SELECT @@gtid_binlog_pos", &context).await?
            }
            // MySQL reports its GTID set in the same row.
            Flavor::Mysql(..) => get(&mut row, "Executed_Gtid_Set", &context).unwrap_or(None),
        };
        Ok(Some(BinlogPosition {
            file,
            position,
            gtid: gtid.filter(|g| !g.is_empty()),
        }))
    }

    /// The binlog position of a single reader's transaction, without the global lock: MariaDB
    /// ties `binlog_snapshot_file/position` to a consistent-snapshot transaction.
    async fn transaction_position(
        &self,
        reader: &mut Conn,
    ) -> Result<Option<BinlogPosition>, SourceError> {
        if !self.flavor.is_mariadb() {
            tracing::warn!(endpoint = %self.target.endpoint, "MySQL can't tie a binlog position to a transaction without the global read lock: the snapshot has no position for change capture");
            return Ok(None);
        }
        let context = format!(
            "reading the snapshot's binlog position on {}",
            self.target.endpoint
        );
        let rows: Vec<Row> = reader
            .query("SHOW STATUS LIKE 'binlog\\_snapshot\\_%'")
            .await
            .map_err(SourceError::query(context.clone()))?;
        let mut file = None;
        let mut position = None;
        for mut row in rows {
            let name: Option<String> = get(&mut row, 0, &context)?;
            let value: Option<String> = get(&mut row, 1, &context)?;
            match name.as_deref() {
                Some("Binlog_snapshot_file") => file = value.filter(|f| !f.is_empty()),
                Some("Binlog_snapshot_position") => {
                    position = value.and_then(|v| v.parse::<u64>().ok())
                }
                _ => {}
            }
        }
        let (Some(file), Some(position)) = (file, position) else {
            return Ok(None);
        };
        // NULL when the server can't map the position to a GTID state.
        let row: Option<Row> = reader
            .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (&file, position))
            .await
            .map_err(SourceError::query(context.clone()))?;
        let gtid: Option<String> = match row {
            Some(mut row) => get(&mut row, 0, &context)?,
            None => None,
        };
        Ok(Some(BinlogPosition {
            file,
            position,
            gtid: gtid.filter(|g| !g.is_empty()),
        }))
    }
}

async fn open(target: &Target) -> Result<Conn, SourceError> {
    Ok(target.open().await?.0)
}

/// Starts every reader's transaction, concurrently: under the global lock, so the time counts.
async fn begin_all(conns: &mut [Conn], context: &str) -> Result<(), SourceError> {
    try_join_all(conns.iter_mut().map(|conn| async move {
        conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .await?;
        conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .await
    }))
    .await
    .map(|_| ())
    .map_err(SourceError::query(context))
}
