//! The change stream of one replication slot: pgoutput messages to [`ChangeEvent`]s.

use super::pgoutput::{self, Cell, Message, OldImage, Relation};
use super::publishable::{sql_names, unlogged_error, unlogged_tables, Ancestry, Unlogged};
use super::render::{Render, RenderError, Rendering, Unrendered};
use super::{ColumnCapture, TypeCapture};
use crate::read::decode::{display_date, display_key, display_timestamp, Decoder, Wire};
use crate::{PostgresSource, SourceError};
use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use bytes::Bytes;
use futures::FutureExt;
use migrate_core::{ColumnDefault, QualifiedName, Table};
use migrate_source::{
    change_schema, key_columns, ChangeEvent, ChangeStream, Operation, Position, Selection,
    START_OVER,
};
use pgwire_replication::{Lsn, PgWireError, ReplicationClient, ReplicationEvent};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Rows per [`ChangeEvent::Rows`] batch at most.
const BATCH_ROWS: usize = 8192;
/// Value bytes per batch at most (a batch holds at least one row, whatever its size).
const BATCH_BYTES: usize = 16 << 20;
/// [`ChangeEvent::Idle`] at most this often.
const IDLE_EVERY: Duration = Duration::from_secs(1);
/// How long the stream waits for more once nothing received is at hand, before it waits for
/// the next message: the walsender's messages then arrive by the hundred, not a few per wake-up;
/// and committed rows wait this long for the next transaction, so a stream of small transactions
/// travels in batches of many, not one event per transaction.
const LINGER: Duration = Duration::from_millis(2);
/// Committed rows are held this long at most, however fast more arrive: a steady stream must not
/// wait for a full batch.
const HOLD_AT_MOST: Duration = Duration::from_millis(50);

/// How often the stream looks in the catalog for a table of the task made UNLOGGED
/// ([`PostgresChanges::check_logged`]), while changes flow and while idle. Without the
/// publication's event trigger, which announces it in the stream ([`super::TABLE_UNLOGGED`]; a
/// publication of the selected tables has none), or when no DDL names it (an UNLOGGED partition
/// detached from a table the task leaves out), nothing in the stream tells (the table's changes
/// just stop arriving, or never come), so this bounds how long the task goes on without them.
/// One query ([`unlogged_tables`]), a scan of `pg_class` (measured on PostgreSQL 15 with 3,000
/// tables, 200 partitioned ones of 5 partitions, 15 UNLOGGED: 17,000 relations, 1.1 to 1.4 ms
/// on the source, planning included).
const CHECK_LOGGED_EVERY: Duration = Duration::from_secs(5);

/// Microseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A watched table as the stream currently decodes it.
struct Watched {
    /// The table's definition in the relation's column order.
    table: Table,
    /// Per relation column, how it is read.
    reads: Vec<ColumnCapture>,
    /// Relation column positions of the primary key columns, in key order.
    key: Vec<usize>,
    /// The conversion on the source of its `Rendered` columns: those of the rows' images in
    /// column order, then those of the before-image keys in key order.
    rendering: Option<Arc<Rendering>>,
}

/// Rows of one table being gathered into a batch.
struct Gathering {
    relation: u32,
    name: QualifiedName,
    schema: arrow_schema::SchemaRef,
    op: StringBuilder,
    unchanged: StringBuilder,
    before: Vec<Gathered>,
    after: Vec<Gathered>,
    rendering: Option<Arc<Rendering>>,
    rows: usize,
    bytes: usize,
    /// The commit LSN of the transaction of the first row gathered: the rows come from it up to
    /// the current one.
    first_transaction_end: Lsn,
}

/// The change stream of a task's slot. See the module documentation of `cdc`.
pub struct PostgresChanges {
    catalog: PostgresSource,
    client: ReplicationClient,
    /// Tables to capture, by name (the current definitions).
    tables: HashMap<QualifiedName, Table>,
    selection: Selection,
    /// The publication is for all tables: a table the selection takes is captured from its first
    /// change, also one created (or detached from a partitioned table) later.
    all_tables: bool,
    /// Relations seen in this session: `None` for those not captured.
    relations: HashMap<u32, Option<Watched>>,
    /// The relation oid of each captured table (looked up by name when the session starts, and
    /// learnt as new tables are captured): a table renamed in the source keeps its oid, and its
    /// description then arrives under the new name.
    captured_oids: HashMap<u32, QualifiedName>,
    /// Captured tables whose name was gone from the catalog when the session started: dropped,
    /// or renamed while the task was stopped (the new name is known only from its changes).
    vanished: Vec<QualifiedName>,
    /// Captured names whose table was renamed out of the selection in this session, with that
    /// table's relation oid: another relation met under such a name took it.
    vacated: HashMap<QualifiedName, u32>,
    /// Relations created after the position the stream resumed from, as the publication's
    /// event trigger announces them ([`super::TABLE_CREATED`]): such a relation met under a
    /// captured name is not the table whose rows the target holds under it.
    created: HashSet<u32>,
    /// The task's tables that the transaction being read left UNLOGGED, as the publication's
    /// event trigger announces them ([`super::TABLE_UNLOGGED`]): the stream stops at its commit,
    /// naming them all.
    unlogged: Vec<Unlogged>,
    /// How types are read, by type oid (domains and enums resolved in the catalog).
    types: HashMap<u32, TypeCapture>,
    pending: VecDeque<ChangeEvent>,
    gathering: Option<Gathering>,
    /// The commit of the last transaction whose rows are the first `.1` rows of `gathering`:
    /// consecutive small transactions are handed over as one batch and their last commit while
    /// more of the stream is at hand or arrives within [`LINGER`], for [`HOLD_AT_MOST`] at most
    /// (one-row transactions would otherwise travel alone).
    committed: Option<(ChangeEvent, usize)>,
    /// Transactions whose commit record lies before this were applied already: skipped.
    resume_from: Lsn,
    in_transaction: bool,
    /// Where the transaction being read commits (its `Begin`'s final LSN): errors name it.
    transaction_end: Lsn,
    skipping: bool,
    last_idle: Instant,
    /// When the catalog was last looked at for tables of the task made UNLOGGED.
    logged_checked: Instant,
    /// Since when `committed` has held rows back.
    held_since: Option<Instant>,
}

impl PostgresChanges {
    pub(crate) async fn new(
        catalog: PostgresSource,
        client: ReplicationClient,
        tables: &[Table],
        selection: Selection,
        all_tables: bool,
        resume_from: Lsn,
    ) -> Result<PostgresChanges, SourceError> {
        let tables: HashMap<QualifiedName, Table> =
            tables.iter().map(|t| (t.name.clone(), t.clone())).collect();
        let captured_oids = captured_oids(&catalog, &tables).await?;
        let mut vanished: Vec<QualifiedName> = tables
            .keys()
            .filter(|name| !captured_oids.values().any(|n| n == *name))
            .cloned()
            .collect();
        vanished.sort_by_key(|name| name.to_string());
        let mut changes = PostgresChanges {
            catalog,
            client,
            tables,
            selection,
            all_tables,
            captured_oids,
            vanished,
            vacated: HashMap::new(),
            created: HashSet::new(),
            unlogged: Vec::new(),
            relations: HashMap::new(),
            types: HashMap::new(),
            pending: VecDeque::new(),
            gathering: None,
            committed: None,
            resume_from,
            in_transaction: false,
            transaction_end: Lsn::from_u64(0),
            skipping: false,
            last_idle: Instant::now(),
            logged_checked: Instant::now(),
            held_since: None,
        };
        // Made UNLOGGED while the task was stopped: the stream has none of its changes since.
        changes.check_logged().await?;
        changes.warn_vanished().await?;
        Ok(changes)
    }

    /// Warns of each captured table whose name was gone when the session started (renamed out
    /// of the selection, or dropped, while the task was stopped: no change of it arrives to
    /// tell), unless a selected table the task did not capture has its columns: that one is
    /// most likely it, renamed, and stops the task at its first change
    /// ([`Self::refuse_vanished_twin`]).
    async fn warn_vanished(&self) -> Result<(), SourceError> {
        if self.vanished.is_empty() {
            return Ok(());
        }
        let rows = self
            .catalog
            .client
            .query(TABLE_COLUMNS_SQL, &[])
            .await
            .map_err(SourceError::query(
                "looking up the source's tables for the captured tables gone from it",
            ))?;
        let uncaptured: Vec<(Vec<String>, Vec<String>)> = rows
            .iter()
            .filter(|row| {
                let name = QualifiedName::new(
                    Some(crate::sql::ident(row.get(0))),
                    crate::sql::ident(row.get(1)),
                );
                !self.tables.contains_key(&name) && (self.selection.tables)(&name)
            })
            .map(|row| (row.get(2), row.get(3)))
            .collect();
        for gone in &self.vanished {
            let Some(table) = self.tables.get(gone) else {
                continue;
            };
            let twin = uncaptured.iter().any(|(names, types)| {
                has_columns(table, names.iter().map(String::as_str).zip(types))
            });
            if !twin {
                tracing::warn!(
                    table = %gone,
                    "table {gone} was renamed to a name the task does not select, or dropped, in the source while the task was stopped: its target table keeps its rows and gets no more changes"
                );
            }
        }
        Ok(())
    }

    /// Stops the stream if a table of the task is UNLOGGED in the catalog (see
    /// [`CHECK_LOGGED_EVERY`]).
    async fn check_logged(&mut self) -> Result<(), SourceError> {
        self.logged_checked = Instant::now();
        let unlogged = self.unlogged_now().await?;
        if unlogged.is_empty() {
            return Ok(());
        }
        Err(unlogged_error(unlogged))
    }

    /// The tables of the task ([`Self::of_task`]) that are UNLOGGED in the catalog now: made so
    /// after capture began (creating the task refuses a selected one:
    /// [`super::publishable::check_publishable`]), or never captured (created so, or an
    /// UNLOGGED partition detached under a name the task selects).
    async fn unlogged_now(&self) -> Result<Vec<Unlogged>, SourceError> {
        Ok(unlogged_tables(&self.catalog.client)
            .await?
            .iter()
            .filter_map(|ancestry| self.of_task(ancestry, "it is UNLOGGED".into()))
            .collect())
    }

    /// Of an UNLOGGED table (its [`Ancestry`]; `seen`: how it is known): what stops the stream,
    /// when it is a captured table or a partition of one, or its root (the table its changes
    /// would arrive as) has a name the task selects under a publication for all tables (which
    /// would capture it, were it logged). `None` for a table the task leaves out.
    fn of_task(&self, ancestry: &Ancestry, seen: String) -> Option<Unlogged> {
        let ((_, schema, name), (_, root_schema, root_name)) =
            (ancestry.first()?, ancestry.last()?);
        let root = QualifiedName::new(
            Some(crate::sql::ident(root_schema)),
            crate::sql::ident(root_name),
        );
        // A name of `tables` has a target table even when its relation is not the one
        // captured (see `vanished`).
        let (table, captured) = match ancestry
            .iter()
            .find_map(|(oid, ..)| self.captured_oids.get(oid))
        {
            Some(captured) => (captured.clone(), true),
            None if self.tables.contains_key(&root) => (root, true),
            None if self.all_tables && (self.selection.tables)(&root) => (root, false),
            None => return None,
        };
        let (partition, sql_name) = sql_names(schema, name, ancestry.len() > 1);
        Some(Unlogged {
            table: table.to_string(),
            captured,
            partition,
            sql_name,
            seen,
        })
    }

    /// Of a relation that a DDL left UNLOGGED, as the publication's event trigger announces it
    /// ([`super::TABLE_UNLOGGED`]): what stops the stream, if it is of the task
    /// ([`Self::of_task`]). Its changes are not in the WAL from then on, so the stream has none
    /// of them, and the catalog may no longer tell by the time the stream gets here (set LOGGED
    /// again, or the task was stopped meanwhile). The message stays in the slot until the
    /// position passes it, so every run stops there until the mapping leaves the table out or a
    /// new full load starts a new slot. A malformed message is ignored, as another prefix's.
    fn announced(&self, content: &[u8]) -> Option<Unlogged> {
        let mut fields = content.split(|&b| b == 0).map(String::from_utf8_lossy);
        let tag = fields.next()?;
        let fields: Vec<_> = fields.collect();
        if fields.len() % 3 != 0 {
            return None;
        }
        // The relation, then its partition ancestors up to the root.
        let ancestry = fields
            .chunks_exact(3)
            .map(|f| {
                Some((
                    f[0].parse::<u32>().ok()?,
                    f[1].to_string(),
                    f[2].to_string(),
                ))
            })
            .collect::<Option<Ancestry>>()?;
        self.of_task(
            &ancestry,
            format!(
                "it was UNLOGGED after the {tag} of the transaction that commits at LSN {}",
                self.transaction_end
            ),
        )
    }

    /// The error that stops the stream at the commit of a transaction that left tables of the
    /// task UNLOGGED ([`Self::announced`]), naming also the tables of the task the catalog shows
    /// UNLOGGED now: one run names them all, each relation once (several commands of the
    /// transaction may leave the same one so, and the catalog may show it too: the first
    /// announcement, which names the DDL, is kept).
    async fn stop_unlogged(&mut self) -> SourceError {
        let mut unlogged = std::mem::take(&mut self.unlogged);
        match self.unlogged_now().await {
            Ok(now) => unlogged.extend(now),
            // The stream stops either way, for the tables it knows of.
            Err(e) => tracing::warn!("{e}"),
        }
        // Stable: of each relation, the entry met first stays.
        unlogged.sort_by(|a, b| a.sql_name.cmp(&b.sql_name));
        unlogged.dedup_by(|a, b| a.sql_name == b.sql_name);
        unlogged_error(unlogged)
    }

    fn context(&self) -> String {
        format!("reading changes from {}", self.catalog.endpoint())
    }

    /// Receives and decodes until at least one event is pending or the stream ends.
    async fn fill(&mut self) -> Result<bool, SourceError> {
        while self.pending.is_empty() {
            if self
                .held_since
                .is_some_and(|since| since.elapsed() >= HOLD_AT_MOST)
            {
                self.flush().await?;
                continue;
            }
            // A busy stream has events at hand for long stretches: give the other tasks of this
            // thread their turn every 128 of them, as a receive within the budget would. (Before
            // the receive: a yield after it would lose the event if this future were dropped.)
            tokio::task::consume_budget().await;
            let received = match at_hand(&mut self.client).await {
                Some(received) => received,
                // Nothing at hand. The walsender sends slower than this decodes, so waiting on
                // the channel would wake this thread for every few messages (a context switch
                // each); the stream gathers for LINGER instead (measured with bench/cdc.sh (b)'s
                // decoder, `decode_rate`: 16% less CPU).
                None => {
                    tokio::time::sleep(LINGER).await;
                    match at_hand(&mut self.client).await {
                        Some(received) => received,
                        // Committed rows wait only while more of the stream arrives.
                        None if self.committed.is_some() => {
                            self.flush().await?;
                            continue;
                        }
                        // An idle stream looks at the catalog on time too: a table made UNLOGGED
                        // sends nothing. (The receive dropped then loses no event; at the
                        // worker's end, its result: see `at_hand`.)
                        None => tokio::select! {
                            received = self.client.recv() => received,
                            () = tokio::time::sleep_until(
                                (self.logged_checked + CHECK_LOGGED_EVERY).into(),
                            ) => {
                                self.check_logged().await?;
                                continue;
                            }
                        },
                    }
                }
            };
            let Some(event) = received.map_err(SourceError::replication(self.context()))? else {
                self.flush().await?;
                return Ok(!self.pending.is_empty());
            };
            match event {
                ReplicationEvent::Begin { final_lsn, .. } => {
                    self.in_transaction = true;
                    self.transaction_end = final_lsn;
                    self.skipping = final_lsn < self.resume_from;
                }
                ReplicationEvent::XLogData { data, .. } => {
                    if !self.skipping {
                        self.message(&data).await?;
                    }
                }
                ReplicationEvent::Commit {
                    end_lsn,
                    commit_time_micros,
                    ..
                } => {
                    self.in_transaction = false;
                    if !self.unlogged.is_empty() {
                        return Err(self.stop_unlogged().await);
                    }
                    if !self.skipping {
                        let commit = ChangeEvent::Commit {
                            position: Position(end_lsn.to_pg_string()),
                            committed_at: pg_time(commit_time_micros),
                        };
                        match &self.gathering {
                            Some(g) if g.rows > 0 => {
                                self.committed = Some((commit, g.rows));
                                self.held_since.get_or_insert_with(Instant::now);
                            }
                            _ => {
                                self.flush().await?;
                                self.pending.push_back(commit);
                            }
                        }
                    }
                    self.skipping = false;
                    if self.logged_checked.elapsed() >= CHECK_LOGGED_EVERY {
                        self.check_logged().await?;
                    }
                }
                ReplicationEvent::KeepAlive {
                    wal_end,
                    server_time_micros,
                    ..
                } => {
                    if !self.in_transaction
                        && self.last_idle.elapsed() >= IDLE_EVERY
                        && wal_end >= self.resume_from
                    {
                        self.last_idle = Instant::now();
                        // Rows still held for their batch go first: Idle lets the consumer
                        // acknowledge up to its position.
                        self.flush().await?;
                        self.pending.push_back(ChangeEvent::Idle {
                            position: Position(wal_end.to_pg_string()),
                            server_time: pg_time(server_time_micros),
                        });
                    }
                }
                ReplicationEvent::Message {
                    transactional: true,
                    prefix,
                    content,
                    ..
                } if prefix == super::TABLE_CREATED && !self.skipping => {
                    // Another prefix's or a malformed message is none of the stream's business.
                    if let Some(id) = std::str::from_utf8(&content)
                        .ok()
                        .and_then(|oid| oid.parse().ok())
                    {
                        self.created.insert(id);
                    }
                }
                ReplicationEvent::Message {
                    transactional: true,
                    prefix,
                    content,
                    ..
                } if prefix == super::TABLE_UNLOGGED && !self.skipping => {
                    // Each relation is named once at the commit (see `stop_unlogged`).
                    if let Some(unlogged) = self.announced(&content) {
                        self.unlogged.push(unlogged);
                    }
                }
                ReplicationEvent::Message { .. } => {}
                ReplicationEvent::StoppedAt { .. } => {}
            }
        }
        Ok(true)
    }

    async fn message(&mut self, data: &Bytes) -> Result<(), SourceError> {
        let message = pgoutput::decode(data).map_err(|e| SourceError::Protocol {
            context: self.context(),
            message: e.0,
        })?;
        match message {
            Message::Relation(relation) => self.relation(relation).await,
            Message::Insert { relation, new } => {
                self.row(relation, Operation::Insert, None, Some(&new))
                    .await
            }
            Message::Update { relation, old, new } => {
                self.row(relation, Operation::Update, old.as_ref(), Some(&new))
                    .await
            }
            Message::Delete { relation, old } => {
                self.row(relation, Operation::Delete, Some(&old), None)
                    .await
            }
            Message::Truncate { relations } => {
                self.flush().await?;
                let tables: Vec<QualifiedName> = relations
                    .iter()
                    .filter_map(|id| self.relations.get(id).and_then(Option::as_ref))
                    .map(|w| w.table.name.clone())
                    .collect();
                if !tables.is_empty() {
                    self.pending.push_back(ChangeEvent::Truncate { tables });
                }
                Ok(())
            }
            Message::Other(_) => Ok(()),
        }
    }

    /// A relation's description, sent before its first change in a session and after each
    /// change of its columns.
    async fn relation(&mut self, relation: Relation) -> Result<(), SourceError> {
        let name = QualifiedName::new(
            Some(crate::sql::ident(&relation.schema)),
            crate::sql::ident(&relation.name),
        );
        if let Some(captured) = self.captured_oids.get(&relation.id).cloned() {
            if captured != name {
                return self.renamed(&relation, captured, name);
            }
        }
        let known = self.tables.get(&name).cloned();
        if known.is_none()
            && (!(self.selection.tables)(&name) || self.is_partition(&relation).await?)
        {
            self.relations.insert(relation.id, None);
            return Ok(());
        }
        self.flush().await?;
        let names: Vec<&str> = relation.columns.iter().map(|c| c.name.as_str()).collect();
        let same_names = known.as_ref().is_some_and(|t| {
            t.columns.len() == names.len()
                && t.columns
                    .iter()
                    .zip(&names)
                    .all(|(c, n)| c.name.value == *n)
        });
        // A column's type changed (`ALTER COLUMN ... TYPE`) when the relation's type, named as
        // the catalog names it, is no longer the one the definition was made from.
        let types = if same_names || (known.is_none() && !self.vanished.is_empty()) {
            self.type_names(&relation).await?
        } else {
            Vec::new()
        };
        let same_columns = same_names
            && known.as_ref().is_some_and(|t| {
                t.columns
                    .iter()
                    .zip(&types)
                    .all(|(c, ty)| c.source_type == *ty)
            });
        if known.is_none() {
            self.refuse_vanished_twin(&name, &relation, &types)?;
        }
        self.follow_oid(relation.id, &name).await?;
        let table = match known {
            Some(table) if same_columns => table,
            previous => {
                let table = self.describe(&name, &relation, previous.as_ref()).await?;
                if previous.is_none() {
                    tracing::info!(table = %name, "a new table is captured");
                    // As for the tables captured from the start: said once, when first seen.
                    self.catalog
                        .warn_partition_truncates(std::slice::from_ref(&table))
                        .await?;
                }
                let renamed = match &previous {
                    Some(previous) => renamed_in_place(previous, &table, &self.selection)?,
                    None => None,
                };
                if let Some(renamed) = renamed {
                    // A guess, not a certainty: the target stops on it (see `renamed_in_place`).
                    self.pending.push_back(ChangeEvent::Table {
                        table: renamed,
                        renamed: Vec::new(),
                    });
                }
                self.tables.insert(name.clone(), table.clone());
                self.pending.push_back(ChangeEvent::Table {
                    table: table.clone(),
                    renamed: Vec::new(),
                });
                table
            }
        };
        let mut reads = Vec::with_capacity(relation.columns.len());
        for (column, described) in table.columns.iter().zip(&relation.columns) {
            let capture =
                super::type_capture(&self.catalog.client, described.type_oid, &mut self.types)
                    .await?;
            reads.push(super::column_capture(
                capture,
                &table,
                column,
                &self.selection,
            )?);
        }
        let key = key_columns(&table)
            .iter()
            .map(|k| table.columns.iter().position(|c| &c.name.value == k))
            .collect::<Option<Vec<usize>>>()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| SourceError::Capture {
                message: format!(
                    "{name} has no primary key: its updates and deletes can't be applied"
                ),
                action: "add a primary key to the source table, or exclude it".into(),
            })?;
        let rendered: Vec<(u32, Render, &migrate_core::Column)> = (0..reads.len())
            .chain(key.iter().copied())
            .filter_map(|p| match reads[p] {
                ColumnCapture::Rendered(render) => {
                    Some((relation.columns[p].type_oid, render, &table.columns[p]))
                }
                _ => None,
            })
            .collect();
        let rendering = if rendered.is_empty() {
            None
        } else {
            let table_name = table.name.to_string();
            Some(Arc::new(
                Rendering::plan(&self.catalog.client, &table_name, &rendered).await?,
            ))
        };
        self.relations.insert(
            relation.id,
            Some(Watched {
                table,
                reads,
                key,
                rendering,
            }),
        );
        Ok(())
    }

    /// Each column's type of `relation` as `format_type` names it (as discovery names a column's
    /// type: `integer`, `numeric(20,3)`, `mood[]`).
    async fn type_names(&self, relation: &Relation) -> Result<Vec<String>, SourceError> {
        let (oids, modifiers): (Vec<u32>, Vec<i32>) = relation
            .columns
            .iter()
            .map(|c| (c.type_oid, c.type_modifier))
            .unzip();
        Ok(self
            .catalog
            .client
            .query(
                "SELECT coalesce(format_type(o, m), '') \
                   FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY x(o, m, i) ORDER BY i",
                &[&oids, &modifiers],
            )
            .await
            .map_err(SourceError::query(
                "naming the column types of a changed table",
            ))?
            .iter()
            .map(|row| row.get(0))
            .collect())
    }

    /// Relation `id` is captured as `name` from now on. When another table had that captured
    /// name before (it was dropped, or renamed out of the task, and this one took its name),
    /// the log says that the target table keeps the earlier table's rows: told by the
    /// publication's event trigger, which announces each table created (the only way to know
    /// of a table replaced while the task was stopped: the catalog then knows only the new one),
    /// by a rename out of the selection seen in this session, or by another relation the
    /// stream met under the name (or the catalog had under it when the session started, unless
    /// it still has: the stream then reads changes made before the catalog's).
    async fn follow_oid(&mut self, id: u32, name: &QualifiedName) -> Result<(), SourceError> {
        let created = self.created.remove(&id) && self.tables.contains_key(name);
        let vacated = self.vacated.remove(name).is_some_and(|left| left != id);
        let before = self
            .captured_oids
            .iter()
            .find(|(&other, n)| other != id && *n == name)
            .map(|(&other, _)| other);
        let mut replaced = created || vacated;
        if let Some(other) = before {
            self.captured_oids.remove(&other);
            replaced |= self.relations.contains_key(&other) || !self.names(other, name).await?;
        }
        if replaced {
            tracing::warn!(
                table = %name,
                "{name} is another table than the one captured under that name before (it was dropped or renamed in the source, and this one took its name): change capture does not follow renames, so its target table keeps the earlier table's rows and gets this one's changes from now on; reload it with --restart unless this table holds the same rows"
            );
        }
        self.captured_oids.insert(id, name.clone());
        self.vanished.retain(|v| v != name);
        Ok(())
    }

    /// Whether relation `id` has the name `name` in the catalog now.
    async fn names(&self, id: u32, name: &QualifiedName) -> Result<bool, SourceError> {
        let row = self
            .catalog
            .client
            .query_opt(
                "SELECT n.nspname::text, c.relname::text \
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
                &[&id],
            )
            .await
            .map_err(SourceError::query("looking up a relation"))?;
        Ok(row.is_some_and(|row| {
            QualifiedName::new(
                Some(crate::sql::ident(row.get(0))),
                crate::sql::ident(row.get(1)),
            ) == *name
        }))
    }

    /// A captured table's description arrived under another name: it was renamed in the
    /// source (`ALTER TABLE ... RENAME TO`, or `SET SCHEMA`), which keeps its relation oid.
    /// Capture does not follow a rename, as for MySQL: under a name the task selects the table
    /// would be captured as a new one, holding only the rows changed from now on while the
    /// target keeps its rows under the old name (or, for the name of another captured table,
    /// mixed with that table's), so a definite error, met again on every run until a new full
    /// load or the table mappings settle it. Renamed out of the selection it is a warning: its
    /// target table keeps its rows and gets no more changes.
    fn renamed(
        &mut self,
        relation: &Relation,
        old: QualifiedName,
        new: QualifiedName,
    ) -> Result<(), SourceError> {
        if (self.selection.tables)(&new) {
            let onto = if self.tables.contains_key(&new) {
                ", the name of another captured table, whose target table holds that table's rows"
                    .to_string()
            } else {
                String::new()
            };
            return Err(SourceError::Capture {
                message: format!(
                    "table {old} was renamed to {new} in the source{onto} (the same table, relation oid {}, at the transaction that commits at LSN {}): change capture does not follow renames; captured under its new name it would get only the rows changed from now on, while the target holds its rows under {old}",
                    relation.id, self.transaction_end
                ),
                action: format!(
                    "run the task again with --restart (a new full load reads it under its new name; the target table of {old} stays: drop it first if you no longer need it, as the source table kept its primary key's name, which would collide with the new target table's), or leave {new} out of the table mappings (the target then keeps the rows under {old}, without further changes)"
                ),
            });
        }
        tracing::warn!(
            table = %old,
            renamed_to = %new,
            "table {old} was renamed to {new} in the source, a name the task does not select: its target table keeps its rows and gets no more changes"
        );
        self.captured_oids.remove(&relation.id);
        self.vacated.insert(old, relation.id);
        self.relations.insert(relation.id, None);
        Ok(())
    }

    /// A table the task did not capture (`name`, columns `types`) has the columns of a captured
    /// table whose name was gone when the session started: most likely that table, renamed
    /// while the task was stopped (or in a run that stopped for it). Captured as a new table it
    /// would get only the rows changed from now on, while the target holds its rows under the
    /// old name: a definite error. (A table dropped and another made with the same columns
    /// stops the task as well: its earlier rows need a full load either way.)
    fn refuse_vanished_twin(
        &self,
        name: &QualifiedName,
        relation: &Relation,
        types: &[String],
    ) -> Result<(), SourceError> {
        let twin = self.vanished.iter().find(|gone| {
            self.tables.get(*gone).is_some_and(|t| {
                has_columns(
                    t,
                    relation.columns.iter().map(|r| r.name.as_str()).zip(types),
                )
            })
        });
        match twin {
            None => Ok(()),
            Some(gone) => Err(SourceError::Capture {
                message: format!(
                    "table {name}, which the task did not capture, has the columns of {gone}, a captured table that is gone from the source since the task last ran: it was most likely renamed to {name} (ALTER TABLE ... RENAME TO), which change capture does not follow; captured as a new table, {name} would get only the rows changed from now on, while the target holds its rows under {gone}"
                ),
                action: format!(
                    "run the task again with --restart (a new full load reads it under its new name), or leave {name} out of the table mappings (the target then keeps the rows under {gone}, without further changes)"
                ),
            }),
        }
    }

    /// Whether `relation` is a partition. The publication sends a partition's changes as its
    /// partitioned table's (`publish_via_partition_root`), but PostgreSQL still describes the
    /// partition too: a description to take no action on.
    async fn is_partition(&self, relation: &Relation) -> Result<bool, SourceError> {
        Ok(self
            .catalog
            .client
            .query_opt(
                "SELECT 1 FROM pg_class WHERE oid = $1 AND relispartition",
                &[&relation.id],
            )
            .await
            .map_err(SourceError::query("looking up a relation"))?
            .is_some())
    }

    /// The table's definition for the columns `relation` has, in its order: canonical types
    /// from the catalog (the converter's type mapping). The relation is the authority on the
    /// columns at this point of the stream; the catalog may be ahead of it (a column dropped
    /// since is typed from the relation's type oid and modifier). A column that `previous` (the
    /// definition before this change) lacks was added: its default is the value the source gave
    /// the rows that existed then ([`Self::existing_rows_value`]).
    async fn describe(
        &self,
        name: &QualifiedName,
        relation: &Relation,
        previous: Option<&Table>,
    ) -> Result<Table, SourceError> {
        let schema = relation.schema.clone();
        let catalog = self.catalog.discover(Some(&[schema])).await?;
        let current = catalog
            .tables
            .into_iter()
            .find(|t| t.name.name.value == relation.name)
            .ok_or_else(|| SourceError::Capture {
                message: format!("{name} changed but is no longer in the catalog"),
                action: format!("check whether the table was dropped or renamed on the source; exclude it from the task, or {START_OVER}"),
            })?;
        let mut table = current.clone();
        table.name = name.clone();
        let mut columns = Vec::with_capacity(relation.columns.len());
        let types = self.type_names(relation).await?;
        for (index, described) in relation.columns.iter().enumerate() {
            if let Some(column) = current
                .columns
                .iter()
                .find(|k| k.name.value == described.name)
            {
                let mut column = column.clone();
                // The catalog is ahead of the stream (the type changed again since): the
                // relation's type is the one these rows have.
                let type_name = types.get(index).cloned().unwrap_or_default();
                if column.source_type != type_name {
                    if let Some(data_type) = self
                        .catalog
                        .canonical_type(described.type_oid, described.type_modifier)
                        .await?
                    {
                        column.data_type = data_type;
                        column.source_type = type_name;
                    }
                }
                let added = previous
                    .is_some_and(|p| !p.columns.iter().any(|c| c.name.value == described.name));
                if added {
                    column.default = self
                        .existing_rows_value(name, relation.id, &described.name)
                        .await?
                        // A plain string literal: the target coerces it to the column's type.
                        .map(|value| ColumnDefault::Expression(crate::sql::quote_literal(&value)));
                }
                columns.push(column);
                continue;
            }
            let data_type = self
                .catalog
                .canonical_type(described.type_oid, described.type_modifier)
                .await?
                .ok_or_else(|| SourceError::Capture {
                    message: format!(
                        "{name}.{}: the column is gone from the catalog and its type (oid {}) has no canonical equivalent",
                        described.name, described.type_oid
                    ),
                    action: START_OVER.into(),
                })?;
            columns.push(migrate_core::Column::new(
                crate::sql::ident(&described.name),
                format!("type oid {}", described.type_oid),
                data_type,
            ));
        }
        table.columns = columns;
        Ok(table)
    }

    /// The value that column `column` of `name` (relation `id`), just added in the source, has in
    /// the rows that existed before: the target adds it with that value as its default, so its
    /// rows match. PostgreSQL keeps the value of a constant or stable default (`DEFAULT 0`,
    /// `DEFAULT now()`) as the column's "missing value"; without one the rows are NULL, unless a
    /// volatile default (`clock_timestamp()`, `nextval`) or an identity filled each row with its
    /// own value, which the change stream does not carry: a definite error.
    async fn existing_rows_value(
        &self,
        name: &QualifiedName,
        id: u32,
        column: &str,
    ) -> Result<Option<String>, SourceError> {
        let row = self
            .catalog
            .client
            .query_opt(EXISTING_ROWS_VALUE_SQL, &[&id, &column])
            .await
            .map_err(SourceError::query(format!(
                "looking up the value of existing rows in column {column} of {name}"
            )))?;
        // Gone from the catalog since: dropped again, its rows' value no longer matters.
        let Some(row) = row else { return Ok(None) };
        let (missing, value, filled_per_row): (bool, Option<String>, bool) =
            (row.get(0), row.get(1), row.get(2));
        if !missing && filled_per_row {
            return Err(SourceError::Capture {
                message: format!(
                    "column {column} was added to {name} with a volatile default or as an identity column: the source gave each existing row its own value, and those values are not in the change stream"
                ),
                action: START_OVER.into(),
            });
        }
        Ok(value)
    }

    async fn row(
        &mut self,
        relation: u32,
        op: Operation,
        old: Option<&OldImage>,
        new: Option<&Vec<Cell>>,
    ) -> Result<(), SourceError> {
        if !matches!(self.relations.get(&relation), Some(Some(_))) {
            return Ok(());
        }
        if self
            .gathering
            .as_ref()
            .is_some_and(|g| g.relation != relation)
        {
            self.flush().await?;
        }
        let Some(Some(watched)) = self.relations.get(&relation) else {
            return Ok(());
        };
        let gathering = match &mut self.gathering {
            Some(g) => g,
            slot => slot.insert(Gathering::new(relation, watched, self.transaction_end)?),
        };
        let table = &watched.table;
        let columns = table.columns.len();
        let transaction_end = self.transaction_end;
        // Before-image key: the old key when sent (key changed, or identity FULL), else the
        // new row's key.
        let before_cells: Option<&[Cell]> = match (op, old, new) {
            (Operation::Insert, ..) => None,
            (_, Some(old), _) => Some(old.cells()),
            (_, None, Some(new)) => Some(new.as_slice()),
            (_, None, None) => None,
        };
        let bad_value = |column: &str, bad: BadValue| match bad {
            BadValue::Unrepresentable(e) => SourceError::Unrepresentable {
                table: table.name.to_string(),
                column: column.to_string(),
                row: describe_change(
                    watched,
                    op,
                    before_cells.or(new.map(Vec::as_slice)),
                    transaction_end,
                ),
                reason: e.reason,
                action: migrate_source::UNREPRESENTABLE_CHANGE_ACTION.into(),
            },
            BadValue::Text => SourceError::Protocol {
                context: format!("reading changes of {}", table.name),
                message: format!(
                    "a value of column {column} came in text form although binary was requested"
                ),
            },
        };
        gathering.op.append_value(op.code());
        for (slot, &position) in watched.key.iter().enumerate() {
            let cell = before_cells.and_then(|cells| cells.get(position));
            gathering.bytes += gathering.before[slot]
                .push(cell)
                .map_err(|e| bad_value(&table.columns[position].name.value, e))?;
        }
        let mut unchanged = String::new();
        for position in 0..columns {
            let cell = new.and_then(|cells| cells.get(position));
            if new.is_some() {
                unchanged.push(if matches!(cell, Some(Cell::Unchanged)) {
                    '1'
                } else {
                    '0'
                });
            }
            gathering.bytes += gathering.after[position]
                .push(cell)
                .map_err(|e| bad_value(&table.columns[position].name.value, e))?;
        }
        if unchanged.contains('1') {
            gathering.unchanged.append_value(&unchanged);
        } else {
            gathering.unchanged.append_null();
        }
        gathering.rows += 1;
        if gathering.rows >= BATCH_ROWS || gathering.bytes >= BATCH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    /// Turns the rows gathered so far into a pending [`ChangeEvent::Rows`].
    async fn flush(&mut self) -> Result<(), SourceError> {
        self.held_since = None;
        let committed = self.committed.take();
        let Some(mut g) = self.gathering.take().filter(|g| g.rows > 0) else {
            self.pending.extend(committed.map(|(commit, _)| commit));
            return Ok(());
        };
        if let Some(rendering) = &g.rendering {
            let mut unrendered: Vec<&mut Unrendered> = g
                .after
                .iter_mut()
                .chain(g.before.iter_mut())
                .filter_map(Gathered::unrendered)
                .collect();
            let rendered = rendering
                .render(&self.catalog.client, &mut unrendered)
                .await;
            match rendered {
                Ok(()) => {}
                Err(RenderError::Source(error)) => return Err(error),
                Err(RenderError::Value { column, row, error }) => {
                    // A relation is flushed before its description changes: still watched here.
                    let row = match self.relations.get(&g.relation) {
                        Some(Some(watched)) => {
                            describe_gathered(&mut g, watched, row, self.transaction_end)
                        }
                        _ => format!("{} of the batch", row + 1),
                    };
                    return Err(SourceError::Unrepresentable {
                        table: g.name.to_string(),
                        column,
                        row,
                        reason: error.reason,
                        action: migrate_source::UNREPRESENTABLE_CHANGE_ACTION.into(),
                    });
                }
            }
        }
        let mut columns: Vec<ArrayRef> =
            vec![Arc::new(g.op.finish()), Arc::new(g.unchanged.finish())];
        columns.extend(g.before.iter_mut().map(Gathered::finish));
        columns.extend(g.after.iter_mut().map(Gathered::finish));
        match RecordBatch::try_new(Arc::clone(&g.schema), columns) {
            // Rows of committed transactions, their last commit, then the rows of the open one.
            Ok(changes) => match committed {
                Some((commit, rows)) if rows < changes.num_rows() => {
                    self.pending.push_back(ChangeEvent::Rows {
                        table: g.name.clone(),
                        changes: changes.slice(0, rows),
                    });
                    self.pending.push_back(commit);
                    self.pending.push_back(ChangeEvent::Rows {
                        table: g.name,
                        changes: changes.slice(rows, changes.num_rows() - rows),
                    });
                }
                _ => {
                    self.pending.push_back(ChangeEvent::Rows {
                        table: g.name,
                        changes,
                    });
                    self.pending.extend(committed.map(|(commit, _)| commit));
                }
            },
            // The decoders are built from the same schema: a mismatch is a bug here.
            Err(e) => unreachable!("change batch of {} does not match its schema: {e}", g.name),
        }
        Ok(())
    }
}

/// Whether `table` has exactly `columns` (name and source type), in their order.
fn has_columns<'c>(
    table: &Table,
    columns: impl ExactSizeIterator<Item = (&'c str, &'c String)>,
) -> bool {
    table.columns.len() == columns.len()
        && table
            .columns
            .iter()
            .zip(columns)
            .all(|(c, (name, ty))| c.name.value == name && c.source_type == *ty)
}

/// Each table of the catalog (not a partition: its changes arrive as its partitioned table's)
/// with its columns' names and types, `format_type` naming them as discovery does.
const TABLE_COLUMNS_SQL: &str = "
SELECT n.nspname::text, c.relname::text,
       array_agg(a.attname::text ORDER BY a.attnum),
       array_agg(coalesce(format_type(a.atttypid, a.atttypmod), '') ORDER BY a.attnum)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 GROUP BY n.nspname, c.relname";

/// The relation oids of the captured `tables` that are in the catalog under their name.
async fn captured_oids(
    catalog: &PostgresSource,
    tables: &HashMap<QualifiedName, Table>,
) -> Result<HashMap<u32, QualifiedName>, SourceError> {
    let (schemas, names): (Vec<String>, Vec<String>) = tables
        .keys()
        .filter_map(|n| Some((n.schema.as_ref()?.value.clone(), n.name.value.clone())))
        .unzip();
    let rows = catalog
        .client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text \
               FROM unnest($1::text[], $2::text[]) x(s, t) \
               JOIN pg_namespace n ON n.nspname = x.s \
               JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.t",
            &[&schemas, &names],
        )
        .await
        .map_err(SourceError::query(
            "looking up the captured tables' relations",
        ))?;
    Ok(rows
        .iter()
        .map(|row| {
            let name = QualifiedName::new(
                Some(crate::sql::ident(row.get(1))),
                crate::sql::ident(row.get(2)),
            );
            (row.get(0), name)
        })
        .filter(|(_, name)| tables.contains_key(name))
        .collect())
}

/// For one column (`$1` relation oid, `$2` name): whether it has a missing value (the value of
/// the rows that existed when it was added), that value as text (NULL when it is NULL), and
/// whether its default calls a volatile function (by name, as `pg_get_expr` prints it) or it is
/// an identity column: without a missing value, those gave each row its own value.
const EXISTING_ROWS_VALUE_SQL: &str = "
SELECT a.atthasmissing,
       CASE WHEN a.atthasmissing AND a.attmissingval::text <> '{NULL}'
            THEN array_to_string(a.attmissingval, '') END,
       a.attidentity <> ''
       OR EXISTS (SELECT 1
                    FROM regexp_matches(pg_get_expr(d.adbin, d.adrelid), '([A-Za-z_][A-Za-z_0-9$]*)\\s*\\(', 'g') f
                    JOIN pg_proc p ON p.proname = lower(f[1])
                   WHERE p.provolatile = 'v')
  FROM pg_attribute a
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = $1 AND a.attname = $2 AND NOT a.attisdropped";

/// `previous` with the columns it lost renamed as `table` has them, where a new column took a lost
/// one's place at another index or of another kind of type (`None` when none did). A relation's
/// description names its columns but does not number them: `RENAME COLUMN a TO b` and `ALTER COLUMN
/// b TYPE int` of a text `a` (in one transaction, or with no change of the table between them) look
/// like `a` dropped and `b` added, which the target applies as such when the types are of different
/// kinds, or when a drop before `a` moved `b` to another index than `a`'s (the target pairs a gone
/// column with the new one at its index), losing `a`'s values, which the source converted without a
/// change in the stream. Announced first, this definition is taken by the target for a rename (the
/// task stops with the `RENAME COLUMN` to run there, or, if `a` really was dropped, the `DROP
/// COLUMN`), and the table's own then for a change of type (the `ALTER COLUMN ... TYPE` to run).
///
/// A column keeps its place (its number) through a rename, and an added one goes last: so a new
/// column is a renamed one of those gone between the same surviving neighbours (a drop before it
/// shifts it to another index), or, after the last survivor, an added one too. Where as many
/// columns are gone as came between the same neighbours, they pair in order (after the last
/// survivor, the gone ones pair with the first new ones: a drop of the last columns and an add
/// stops the task too); where fewer came, which were renamed can't be told: a definite error (the
/// target, pairing by index, could lose their values or ask for the wrong rename). A key column is
/// left to the target's check of dropped key columns, and a column the task leaves out
/// (`selection`) to nobody: the target never had it.
fn renamed_in_place(
    previous: &Table,
    table: &Table,
    selection: &Selection,
) -> Result<Option<Table>, SourceError> {
    let keys = key_columns(previous);
    let has = |t: &Table, name: &str| t.columns.iter().any(|c| c.name.value == name);
    // The columns gone from `previous` (their indexes), between each two survivors, in order.
    let mut segments: Vec<Vec<usize>> = vec![Vec::new()];
    for (i, column) in previous.columns.iter().enumerate() {
        let last = segments.len() - 1;
        if has(table, &column.name.value) {
            segments.push(Vec::new());
        } else if !keys.contains(&column.name.value) {
            segments[last].push(i);
        }
    }
    let mut renamed = previous.clone();
    let mut columns = table.columns.iter().enumerate().peekable();
    let last = segments.len() - 1;
    for (at, gone) in segments.iter().enumerate() {
        // The new columns up to the next survivor (the survivors keep their order).
        let mut came = Vec::new();
        while let Some(column) = columns.next_if(|(_, c)| !has(previous, &c.name.value)) {
            came.push(column);
        }
        columns.next();
        if came.len() < gone.len() && !came.is_empty() {
            let names = |columns: Vec<&str>| columns.join(", ");
            return Err(SourceError::Capture {
                message: format!(
                    "columns {} of captured table {} are gone from the source, and {} came in their place: change capture can't tell which was renamed (its values, converted by the source's ALTER if it changed the type, are not in the change stream) and which dropped",
                    names(gone.iter().map(|&g| previous.columns[g].name.value.as_str()).collect()),
                    previous.name,
                    names(came.iter().map(|(_, c)| c.name.value.as_str()).collect()),
                ),
                action: format!("{START_OVER}: it reloads {}", previous.name),
            });
        }
        if came.len() != gone.len() && at != last {
            continue;
        }
        for (&g, (i, successor)) in gone.iter().zip(came) {
            let was = &previous.columns[g];
            // At the same index and of the same kind, the target's own check takes it for a
            // rename already.
            if (g == i && was.data_type.same_kind(&successor.data_type))
                || !(selection.columns)(previous, &was.name.value)
            {
                continue;
            }
            // The added column as the source describes it (default, NOT NULL), of the gone
            // one's type: what the target adds when the user drops the gone column as really
            // dropped.
            renamed.columns[g] = migrate_core::Column {
                source_type: was.source_type.clone(),
                data_type: was.data_type.clone(),
                ..successor.clone()
            };
        }
    }
    Ok((renamed.columns != previous.columns).then_some(renamed))
}

/// Names a change in an error: its key (`id=42`; the before-image's when it has one) and the
/// transaction it belongs to, by the LSN of its commit record (what `pg_waldump` lists).
fn describe_change(
    watched: &Watched,
    op: Operation,
    key_cells: Option<&[Cell]>,
    transaction_end: Lsn,
) -> String {
    let key = watched.key.iter().map(|&position| {
        match (
            key_cells.and_then(|c| c.get(position)),
            &watched.reads[position],
        ) {
            (Some(Cell::Binary(bytes)), ColumnCapture::Decoded(wire)) => {
                display_key(*wire, Some(bytes))
            }
            (Some(Cell::Text(text)), _) => display_key(Wire::Text, Some(text)),
            (Some(Cell::Binary(bytes)), _) => format!("<{} bytes>", bytes.len()),
            (Some(Cell::Unchanged), _) => "unchanged".into(),
            (Some(Cell::Null) | None, _) => "NULL".into(),
        }
    });
    change_name(
        watched,
        key,
        op,
        format!("the transaction that commits at LSN {transaction_end}"),
    )
}

/// Names gathered row `row` of `g` in an error, as [`describe_change`] names a change being read:
/// by the key already gathered (a key converted on the source shows as not converted), and by
/// the range of commit LSNs of the transactions gathered, up to `transaction_end`. It finishes
/// the key columns' builders, emptying them: for an error only, which ends the stream.
fn describe_gathered(
    g: &mut Gathering,
    watched: &Watched,
    row: usize,
    transaction_end: Lsn,
) -> String {
    let op = match g.op.values_slice().get(row) {
        Some(b'I') => Operation::Insert,
        Some(b'D') => Operation::Delete,
        _ => Operation::Update,
    };
    let mut key = Vec::with_capacity(watched.key.len());
    for (slot, &position) in watched.key.iter().enumerate() {
        // An insert has no before-image: its key is the new row's.
        let column = match op {
            Operation::Insert => &mut g.after[position],
            _ => &mut g.before[slot],
        };
        key.push(match column {
            Gathered::Decoded(decoder) => display_value(&decoder.finish(), row),
            Gathered::Rendered(_) => "<not converted>".into(),
            Gathered::Null { .. } => "NULL".into(),
        });
    }
    let transaction = if g.first_transaction_end == transaction_end {
        format!("the transaction that commits at LSN {transaction_end}")
    } else {
        format!(
            "a transaction that commits at an LSN from {} to {transaction_end}",
            g.first_transaction_end
        )
    };
    change_name(watched, key.into_iter(), op, transaction)
}

/// `region='eu', id=7 (update of <transaction>)`.
fn change_name(
    watched: &Watched,
    key: impl Iterator<Item = String>,
    op: Operation,
    transaction: String,
) -> String {
    let key = watched
        .key
        .iter()
        .zip(key)
        .map(|(&position, value)| format!("{}={value}", watched.table.columns[position].name.value))
        .collect::<Vec<_>>()
        .join(", ");
    let what = match op {
        Operation::Insert => "insert",
        Operation::Update => "update",
        Operation::Delete => "delete",
    };
    format!("{key} ({what} of {transaction})")
}

/// A gathered key value shown in an error, as [`display_key`] shows one read: integers and
/// decimals as digits, text quoted (64 characters at most), dates and timestamps as PostgreSQL
/// prints them, other types by their type's name.
fn display_value(array: &ArrayRef, row: usize) -> String {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Date32Type, Decimal128Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    };
    use arrow_schema::{DataType, TimeUnit};
    if row >= array.len() || array.is_null(row) {
        return "NULL".into();
    }
    match array.data_type() {
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Decimal128(..) => array.as_primitive::<Decimal128Type>().value_as_string(row),
        DataType::Date32 => display_date(array.as_primitive::<Date32Type>().value(row)),
        DataType::Timestamp(TimeUnit::Microsecond, zone) => display_timestamp(
            array.as_primitive::<TimestampMicrosecondType>().value(row),
            zone.is_some(),
        ),
        DataType::Utf8 => display_key(
            Wire::Text,
            Some(array.as_string::<i32>().value(row).as_bytes()),
        ),
        DataType::LargeUtf8 => display_key(
            Wire::Text,
            Some(array.as_string::<i64>().value(row).as_bytes()),
        ),
        other => format!("<{other}>"),
    }
}

/// One column of the rows being gathered.
enum Gathered {
    Decoded(Decoder),
    /// Converted on the source when the rows are handed over.
    Rendered(Unrendered),
    /// A column the task drops, whose type is not read: NULL in every row.
    Null {
        data_type: arrow_schema::DataType,
        rows: usize,
    },
}

/// Why a value can't be gathered.
enum BadValue {
    Unrepresentable(crate::read::decode::ValueError),
    /// Text where binary was asked for (only types without a binary form send text; they are
    /// not captured).
    Text,
}

impl Gathered {
    /// Gathers one value (`None`: a NULL, or an image without the column); returns the bytes it
    /// adds to the batch.
    fn push(&mut self, cell: Option<&Cell>) -> Result<usize, BadValue> {
        let bytes = match (cell, &*self) {
            (_, Gathered::Null { .. }) => None,
            (Some(Cell::Binary(b)), _) => Some(b),
            (Some(Cell::Text(_)), _) => return Err(BadValue::Text),
            _ => None,
        };
        let size = bytes.map_or(0, Bytes::len);
        match self {
            Gathered::Decoded(decoder) => decoder
                .append(bytes.map(Bytes::as_ref))
                .map_err(BadValue::Unrepresentable)?,
            Gathered::Rendered(unrendered) => unrendered.push(bytes.cloned()),
            Gathered::Null { rows, .. } => *rows += 1,
        }
        Ok(size)
    }

    /// The values gathered since the last call, as an array.
    fn finish(&mut self) -> ArrayRef {
        match self {
            Gathered::Decoded(decoder) => decoder.finish(),
            Gathered::Rendered(unrendered) => unrendered.finish(),
            Gathered::Null { data_type, rows } => {
                arrow_array::new_null_array(data_type, std::mem::take(rows))
            }
        }
    }

    fn unrendered(&mut self) -> Option<&mut Unrendered> {
        match self {
            Gathered::Rendered(unrendered) => Some(unrendered),
            _ => None,
        }
    }
}

impl Gathering {
    fn new(
        relation: u32,
        watched: &Watched,
        transaction_end: Lsn,
    ) -> Result<Gathering, SourceError> {
        let table = &watched.table;
        let schema = Arc::new(change_schema(table));
        // Rendered columns number in the plan's order: the images', then the before keys'.
        let mut rendered = 0;
        let mut gathered = |position: usize| {
            let column = &table.columns[position];
            let data_type = migrate_batch::data_type(&column.data_type);
            let wire = match watched.reads[position] {
                ColumnCapture::Decoded(wire) => wire,
                ColumnCapture::Rendered(_) => {
                    rendered += 1;
                    match &watched.rendering {
                        Some(rendering) => rendering.wire(rendered - 1),
                        None => {
                            unreachable!("a rendered column of {} without its plan", table.name)
                        }
                    }
                }
                ColumnCapture::Dropped => return Ok(Gathered::Null { data_type, rows: 0 }),
            };
            let decoder =
                Decoder::new(wire, &data_type).ok_or_else(|| SourceError::Unsupported {
                    table: table.name.to_string(),
                    column: column.name.value.clone(),
                    message: format!("type {} can't be captured", column.source_type),
                })?;
            Ok(match watched.reads[position] {
                ColumnCapture::Rendered(_) => Gathered::Rendered(Unrendered::new(decoder)),
                _ => Gathered::Decoded(decoder),
            })
        };
        let after = (0..table.columns.len())
            .map(&mut gathered)
            .collect::<Result<_, SourceError>>()?;
        let before = watched
            .key
            .iter()
            .map(|&p| gathered(p))
            .collect::<Result<_, SourceError>>()?;
        Ok(Gathering {
            relation,
            name: table.name.clone(),
            schema,
            op: StringBuilder::new(),
            unchanged: StringBuilder::new(),
            before,
            after,
            rendering: watched.rendering.clone(),
            rows: 0,
            bytes: 0,
            first_transaction_end: transaction_end,
        })
    }
}

/// The client's next event if it has one at hand, without waiting for one while the session
/// runs; once its worker has ended, what the client has left: its buffered events, then the
/// worker's result (a receive dropped halfway would lose that). Outside tokio's cooperative
/// budget, which would report "nothing" once the task has received 128 events without yielding,
/// however many are waiting (the stream would then pause for LINGER every 128 events); the
/// caller yields by the budget itself ([`tokio::task::consume_budget`] per event).
async fn at_hand(
    client: &mut ReplicationClient,
) -> Option<pgwire_replication::Result<Option<ReplicationEvent>>> {
    let received = match tokio::task::unconstrained(client.recv()).now_or_never() {
        Some(received) => received,
        None if client.is_running() => return None,
        None => client.recv().await,
    };
    // The worker ended while it was polled. If its channel had closed by then, the receive took
    // the worker's join handle and, its task not yet finished, was dropped with it (here, or in
    // the stream's wait for the next event): the client then answers "already joined" and the
    // worker's error reached only the log (the crate logs it). The session is over either way;
    // another one either works or reports the cause.
    Some(received.map_err(|error| match error {
        PgWireError::Internal(message) => PgWireError::Task(format!(
            "the replication session ended; its cause is logged above ({message})"
        )),
        error => error,
    }))
}

fn pg_time(micros_since_2000: i64) -> Option<SystemTime> {
    let micros = micros_since_2000.checked_add(PG_EPOCH_MICROS)?;
    let micros = u64::try_from(micros).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_micros(micros))
}

impl ChangeStream for PostgresChanges {
    type Error = SourceError;

    async fn next_event(&mut self) -> Result<Option<ChangeEvent>, SourceError> {
        if self.pending.is_empty() && !self.fill().await? {
            return Ok(None);
        }
        Ok(self.pending.pop_front())
    }

    async fn acknowledge(&mut self, position: &Position) -> Result<(), SourceError> {
        // Feedback goes out within the status interval (1 s), also when idle.
        self.client.update_applied_lsn(super::parse_lsn(position)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Column, Constraint, ConstraintKind, Ident, LogicalType};

    /// `public.events (id int, region text, PRIMARY KEY (region, id))`, both key columns decoded.
    fn events() -> Watched {
        let mut table = Table::new(QualifiedName::new(
            Some(Ident::new("public")),
            Ident::new("events"),
        ));
        table.columns = vec![
            Column::new(Ident::new("id"), "int4", LogicalType::Integer),
            Column::new(Ident::new("region"), "text", LogicalType::Text),
        ];
        table.constraints = vec![Constraint {
            name: None,
            kind: ConstraintKind::PrimaryKey(vec![Ident::new("region"), Ident::new("id")]),
            state: Default::default(),
            index: Default::default(),
        }];
        Watched {
            table,
            reads: vec![
                ColumnCapture::Decoded(Wire::Int4),
                ColumnCapture::Decoded(Wire::Text),
            ],
            key: vec![1, 0],
            rendering: None,
        }
    }

    fn gather(g: &mut Gathering, op: Operation, id: i32, region: &str) {
        let cells = [
            Cell::Binary(Bytes::copy_from_slice(&id.to_be_bytes())),
            Cell::Binary(Bytes::copy_from_slice(region.as_bytes())),
        ];
        g.op.append_value(op.code());
        for (slot, position) in [(0, 1), (1, 0)] {
            let before = (op != Operation::Insert).then_some(&cells[position]);
            assert!(g.before[slot].push(before).is_ok());
        }
        for (position, cell) in cells.iter().enumerate() {
            assert!(g.after[position].push(Some(cell)).is_ok());
        }
        g.rows += 1;
    }

    #[test]
    fn a_gathered_row_is_named_by_its_key_and_its_transactions() {
        let watched = events();
        let first = Lsn::from_u64(0x1_0000_0010);
        let mut g = Gathering::new(1, &watched, first).unwrap_or_else(|_| panic!("gathering"));
        gather(&mut g, Operation::Update, 7, "eu");
        gather(&mut g, Operation::Insert, 8, "us");
        assert_eq!(
            describe_gathered(&mut g, &watched, 0, first),
            "region='eu', id=7 (update of the transaction that commits at LSN 1/10)"
        );

        // Naming a row finishes the key columns' builders (an error ends the stream): gathered
        // again for the second row.
        let mut g = Gathering::new(1, &watched, first).unwrap_or_else(|_| panic!("gathering"));
        gather(&mut g, Operation::Update, 7, "eu");
        gather(&mut g, Operation::Insert, 8, "us");
        assert_eq!(
            describe_gathered(&mut g, &watched, 1, Lsn::from_u64(0x1_0000_0200)),
            "region='us', id=8 (insert of a transaction that commits at an LSN from 1/10 to 1/200)"
        );
    }

    /// Gathered date and timestamp keys show as the full load's keys do, infinities included;
    /// they showed as their Arrow type (`<Date32>`).
    #[test]
    fn gathered_dates_and_timestamps_show_their_values() {
        use arrow_array::{Date32Array, TimestampMicrosecondArray};
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![19_723, i32::MAX]));
        assert_eq!(display_value(&dates, 0), "'2024-01-01'");
        assert_eq!(display_value(&dates, 1), "'infinity'");
        let instants: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![1_704_103_200_000_000, i64::MIN])
                .with_timezone("UTC"),
        );
        assert_eq!(display_value(&instants, 0), "'2024-01-01 10:00:00+00'");
        assert_eq!(display_value(&instants, 1), "'-infinity'");
    }
}
