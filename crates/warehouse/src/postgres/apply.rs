//! Applying a batch of changes (CDC) exactly once: every table's changes are copied into a
//! temporary table, reduced to the net change per key with set-based SQL, and written with one
//! `DELETE` and one `INSERT` per table, in the transaction that advances the task's CDC
//! checkpoint. Or, over several connections, staged in unlogged tables and written in key ranges
//! by transactions committed in two phases, the checkpoint's first
//! ([`PostgresWarehouse::apply_changes_over`]).

use super::copy::{column_plans, copy_batches, CopyFailure};
use super::{target_column, target_name, PostgresWarehouse};
use crate::WarehouseError;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use futures::Stream;
use migrate_core::{ErrorClass, Table};
use migrate_source::{change_schema, key_columns};
use std::collections::BTreeSet;
use std::fmt::Display;
use std::sync::Arc;
use std::time::SystemTime;
use tokio_postgres::{GenericClient, Transaction};

/// The change's place in the whole change batch (Int64, never null): strictly increasing in
/// source order across every table of the batch.
pub const SEQ_COLUMN: &str = "__seq";
/// The [`migrate_source::OP_COLUMN`] value of a truncate: every row of the table that existed
/// before this change is gone. Its other columns are null.
pub const TRUNCATE_OP: &str = "T";

/// The schema of the record batches [`PostgresWarehouse::apply_changes`] takes for `table` (and
/// of the staged Parquet files of a change batch): [`SEQ_COLUMN`], then
/// [`migrate_source::change_schema`] of the table.
pub fn staged_change_schema(table: &Table) -> Schema {
    let mut fields = vec![Arc::new(Field::new(SEQ_COLUMN, DataType::Int64, false))];
    fields.extend(change_schema(table).fields().iter().cloned());
    Schema::new(fields)
}

/// One table's part of a change batch. `table` is the target table's definition (as
/// [`PostgresWarehouse::prepare`] and `load_chunk` take it, with its primary key); `changes`
/// streams record batches of [`staged_change_schema`] in `__seq` order.
pub struct TableChanges<S> {
    pub table: Table,
    pub changes: S,
}

/// What [`PostgresWarehouse::apply_changes`] did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableApplied {
    /// The target table, as SQL.
    pub table: String,
    /// Change rows received (truncates included).
    pub changes: u64,
    /// Target rows removed: deleted rows and the old images of updated rows (not counting what a
    /// truncate removed).
    pub deleted: u64,
    /// Rows written: the final image of every inserted or updated key.
    pub inserted: u64,
    /// The batch truncated the table.
    pub truncated: bool,
}

/// What [`PostgresWarehouse::apply_changes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    pub inserted: u64,
    pub deleted: u64,
    /// Tables truncated.
    pub truncated: u32,
    /// Change rows received, every table.
    pub rows_in: u64,
    /// The batch was applied before (same position, or a sequence not above the checkpoint's):
    /// nothing was done and the streams were not read.
    pub skipped_already_applied: bool,
    pub tables: Vec<TableApplied>,
}

/// The last change batch a task applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdcCheckpoint {
    /// The batch's sequence number; 0 for the start position recorded by
    /// [`PostgresWarehouse::start_cdc`].
    pub sequence: u64,
    /// The source position the target is consistent with: resume the change stream from here.
    pub position: String,
    pub applied_at: SystemTime,
    /// When the source committed the batch's last transaction, if known.
    pub source_committed_at: Option<SystemTime>,
}

/// Serialises appliers of one task until the end of the transaction.
const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(hashtextextended('migrate cdc ' || $1, 0))";

/// Joined like `(a.x, a.y)`.
fn row_of(alias: &str, columns: &[String]) -> String {
    let parts: Vec<String> = columns.iter().map(|c| format!("{alias}.{c}")).collect();
    format!("({})", parts.join(", "))
}

/// `a.x = b.y AND ...` for pairs of columns.
fn equal(left: &str, left_columns: &[String], right: &str, right_columns: &[String]) -> String {
    left_columns
        .iter()
        .zip(right_columns)
        .map(|(l, r)| format!("{left}.{l} = {right}.{r}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn checkpoint_from(row: &tokio_postgres::Row) -> CdcCheckpoint {
    CdcCheckpoint {
        // Only this crate writes the table, and only from `u64`s.
        sequence: row.get::<_, i64>(0).max(0) as u64,
        position: row.get(1),
        applied_at: row.get(2),
        source_committed_at: row.get(3),
    }
}

impl PostgresWarehouse {
    /// The last change batch `task` applied (or the start recorded by
    /// [`PostgresWarehouse::start_cdc`]); `None` before CDC started.
    pub async fn cdc_checkpoint(
        &self,
        task: &str,
    ) -> Result<Option<CdcCheckpoint>, WarehouseError> {
        let client = self.client.lock().await;
        let row = client
            .query_opt(
                "SELECT sequence, position, applied_at, source_committed_at \
                   FROM migrate.migrate_cdc_checkpoint WHERE task = $1",
                &[&task],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "reading the CDC checkpoint of task {task}"
            )))?;
        Ok(row.as_ref().map(checkpoint_from))
    }

    /// Records where `task`'s change stream starts (the position the full load is consistent
    /// with) as sequence 0, unless the task has a CDC checkpoint already; returns the checkpoint
    /// in force. Call it once the full load is durable: from then on, resume from
    /// [`PostgresWarehouse::cdc_checkpoint`].
    pub async fn start_cdc(
        &self,
        task: &str,
        position: &str,
    ) -> Result<CdcCheckpoint, WarehouseError> {
        let doing = format!("recording the CDC start of task {task} at {position}");
        let client = self.client.lock().await;
        client
            .execute(
                "INSERT INTO migrate.migrate_cdc_checkpoint (task, sequence, position) \
                 VALUES ($1, 0, $2) ON CONFLICT (task) DO NOTHING",
                &[&task, &position],
            )
            .await
            .map_err(WarehouseError::database(doing.clone()))?;
        let row = client
            .query_one(
                "SELECT sequence, position, applied_at, source_committed_at \
                   FROM migrate.migrate_cdc_checkpoint WHERE task = $1",
                &[&task],
            )
            .await
            .map_err(WarehouseError::database(doing))?;
        Ok(checkpoint_from(&row))
    }

    /// Records the definition of a source table as change capture knows it (after the full
    /// load, and after each column change it carried over), so that a resumed capture starts
    /// with the definitions the target was built for rather than the source's current ones.
    pub async fn save_cdc_table(&self, task: &str, source: &Table) -> Result<(), WarehouseError> {
        let definition = serde_json::to_string(source).map_err(|e| WarehouseError::Schema {
            table: source.name.to_string(),
            message: format!("its definition can't be recorded: {e}"),
        })?;
        let client = self.client.lock().await;
        client
            .execute(
                "INSERT INTO migrate.migrate_cdc_table (task, source_table, definition) VALUES ($1, $2, $3) \
                 ON CONFLICT (task, source_table) DO UPDATE SET definition = EXCLUDED.definition, recorded_at = now()",
                &[&task, &source.name.to_string(), &definition],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "recording the definition of {} for task {task}",
                source.name
            )))?;
        Ok(())
    }

    /// The source table definitions recorded by [`PostgresWarehouse::save_cdc_table`] for `task`.
    pub async fn cdc_tables(&self, task: &str) -> Result<Vec<Table>, WarehouseError> {
        let client = self.client.lock().await;
        let rows = client
            .query(
                "SELECT source_table, definition FROM migrate.migrate_cdc_table WHERE task = $1 ORDER BY source_table",
                &[&task],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "reading the table definitions of task {task}"
            )))?;
        rows.iter()
            .map(|row| {
                let name: String = row.get(0);
                serde_json::from_str(row.get::<_, &str>(1)).map_err(|e| WarehouseError::Schema {
                    table: name,
                    message: format!(
                        "the recorded definition can't be read: {e}; run the task with --restart"
                    ),
                })
            })
            .collect()
    }

    /// Removes `task`'s CDC checkpoint (change capture starts over: a new full load follows).
    pub async fn forget_cdc(&self, task: &str) -> Result<(), WarehouseError> {
        let client = self.client.lock().await;
        client
            .execute(
                "WITH tables AS (DELETE FROM migrate.migrate_cdc_table WHERE task = $1) \
                 DELETE FROM migrate.migrate_cdc_checkpoint WHERE task = $1",
                &[&task],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "removing the CDC checkpoint of task {task}"
            )))?;
        Ok(())
    }

    /// Applies change batch `sequence` of `task`, which ends at source `position`, exactly once.
    ///
    /// **Durability**: one transaction locks the task's CDC checkpoint; when the checkpoint's
    /// position already equals `position` or its sequence is `>= sequence`, the batch was applied
    /// before: the transaction rolls back and the outcome says `skipped_already_applied` (the
    /// streams are not read). Otherwise, for each table: its changes are streamed with binary COPY
    /// into a temporary table (memory: one record batch at a time, whatever the batch's size),
    /// unchanged values (`__unchanged`) are taken from the latest earlier change of the same row
    /// in the batch or else from the target row as it was before the batch, the changes are
    /// reduced to the last one per key in `__seq` order (an update that changes the key deletes the
    /// old key and inserts the new one; a truncate removes every row before it), the target rows
    /// of every touched key are deleted and the final images inserted. Then the checkpoint row
    /// becomes (sequence, position, now, `committed_at`) and the transaction commits. The batch is
    /// durable exactly when this returns `Ok`; before, nothing of it is (any error, a crash or a
    /// dropped connection rolls back every table and the checkpoint).
    ///
    /// **Order**: the final state of each key is that of its last change; changes of one key
    /// within the batch are applied in `__seq` order whatever their number. Tables need no order
    /// among themselves.
    ///
    /// Errors: a table without a primary key, a target table or column that is missing, a
    /// malformed change row (unknown `__op`, a missing key, `__seq` not increasing), an unchanged
    /// value with no earlier value anywhere (the target is out of step with the source) and
    /// values the target can't hold are definite; a stream item `Err(e)` fails the batch as `e`
    /// says ([`WarehouseError::ChangeStream`]).
    ///
    /// Before anything, what a parallel apply of this task left behind (see
    /// [`PostgresWarehouse::apply_changes_over`]) is settled: its prepared transactions are
    /// committed or rolled back, its staging tables dropped.
    pub async fn apply_changes<S, E>(
        &self,
        task: &str,
        sequence: u64,
        position: &str,
        committed_at: Option<SystemTime>,
        tables: Vec<TableChanges<S>>,
    ) -> Result<ApplyOutcome, WarehouseError>
    where
        S: Stream<Item = Result<RecordBatch, E>>,
        E: Display + ErrorClass,
    {
        self.apply_changes_over(&[], task, sequence, position, committed_at, tables)
            .await
    }

    /// [`PostgresWarehouse::apply_changes`], with the writes spread over this connection and
    /// `shards` (further connections to the same database).
    ///
    /// With shards, the changes are staged and reduced to the net change per key in unlogged
    /// tables of schema `migrate`, in a transaction of their own (they change nothing of the
    /// target). Then each connection deletes and inserts its share of every table's net changes
    /// (contiguous key ranges; a table the batch truncated, or that has foreign keys, unique
    /// constraints besides its key or exclusion constraints, is written by this connection
    /// alone: another connection's uncommitted rows would make its checks wait), this
    /// connection also advances the checkpoint, and each ends with `PREPARE TRANSACTION`
    /// (two-phase commit: the target needs `max_prepared_transactions` of at least one per
    /// connection). When all are prepared, this connection's transaction (the one with the
    /// checkpoint) commits first: that is the moment the batch becomes durable; the others
    /// commit next. A crash in between leaves prepared transactions, which the next apply of
    /// the task commits when the checkpoint has their batch, and rolls back otherwise: the batch
    /// is still applied exactly once. Until then they hold their rows' locks.
    pub async fn apply_changes_over<S, E>(
        &self,
        shards: &[&PostgresWarehouse],
        task: &str,
        sequence: u64,
        position: &str,
        committed_at: Option<SystemTime>,
        tables: Vec<TableChanges<S>>,
    ) -> Result<ApplyOutcome, WarehouseError>
    where
        S: Stream<Item = Result<RecordBatch, E>>,
        E: Display + ErrorClass,
    {
        let doing = |what: &str| format!("applying change batch {sequence} of task {task}: {what}");
        let sequence_sql = i64::try_from(sequence).map_err(|_| WarehouseError::Change {
            table: "(every table)".into(),
            sequence,
            message: "the batch sequence is above 2^63-1".into(),
        })?;
        let mut seen = BTreeSet::new();
        for changes in &tables {
            let name = target_name(&changes.table);
            if !seen.insert(name.clone()) {
                return Err(WarehouseError::Change {
                    table: name,
                    sequence,
                    message:
                        "the table appears twice in the batch; pass all its changes in one stream"
                            .into(),
                });
            }
        }

        let mut client = self.client.lock().await;
        settle_prepared(&client, task, &self.prepared_prefix(task)).await?;
        let staging = if shards.is_empty() {
            Staging::Temporary
        } else {
            Staging::Unlogged {
                prefix: format!("migrate.{}", staging_prefix(task)),
            }
        };
        let tx = client
            .transaction()
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        let Recorded::Before(done) =
            lock_checkpoint(&tx, task, sequence_sql, position, &doing).await?
        else {
            tx.rollback()
                .await
                .map_err(WarehouseError::database(doing("ROLLBACK")))?;
            return Ok(ApplyOutcome {
                skipped_already_applied: true,
                ..ApplyOutcome::default()
            });
        };
        // Room for the sorts and hashes of the net-change reduction (per operation, this
        // transaction only).
        tx.batch_execute(WORK_MEM_SQL)
            .await
            .map_err(WarehouseError::database(doing("SET work_mem")))?;

        let mut outcome = ApplyOutcome::default();
        let mut staged = Vec::new();
        for (index, changes) in tables.into_iter().enumerate() {
            let table = stage_table(&tx, &staging, index, sequence, changes).await?;
            outcome.rows_in += table.rows;
            staged.push(table);
        }
        let checkpoint = Checkpoint {
            task,
            sequence: sequence_sql,
            position,
            committed_at,
            before: done,
        };
        if shards.is_empty() {
            for table in &staged {
                let written = write_table(&tx, table, None, sequence).await?;
                outcome.add(table, written);
            }
            checkpoint.advance(&tx, &doing).await?;
            tx.commit()
                .await
                .map_err(WarehouseError::database(doing("COMMIT")))?;
            return Ok(outcome);
        }

        // How each table is shared; then the staged net changes must be visible to the other
        // connections.
        let mut shares = Vec::with_capacity(staged.len());
        for table in &staged {
            shares.push(share_of(&tx, table, &doing).await?);
        }
        tx.commit().await.map_err(WarehouseError::database(doing(
            "COMMIT of the staged changes",
        )))?;
        let totals = self
            .write_in_parallel(&client, shards, sequence, &staged, &shares, &checkpoint)
            .await?;
        for (table, total) in staged.iter().zip(totals) {
            outcome.add(table, total);
        }
        let drops: Vec<String> = staged
            .iter()
            .flat_map(|t| [Some(t.names.staged.as_str()), t.net()])
            .flatten()
            .map(|name| format!("DROP TABLE IF EXISTS {name};"))
            .collect();
        client
            .batch_execute(&drops.concat())
            .await
            .map_err(WarehouseError::database(doing(
                "dropping the staged changes",
            )))?;
        Ok(outcome)
    }

    /// Writes every staged table's net changes over `client` (this connection, locked by the
    /// caller) and `shards`, each connection in a transaction of its own ended by `PREPARE
    /// TRANSACTION`; commits them all, the first one (with the checkpoint) first. Returns what
    /// was written per table.
    async fn write_in_parallel(
        &self,
        client: &tokio_postgres::Client,
        shards: &[&PostgresWarehouse],
        sequence: u64,
        staged: &[StagedTable],
        shares: &[TableShare],
        checkpoint: &Checkpoint<'_>,
    ) -> Result<Vec<Written>, WarehouseError> {
        let task = checkpoint.task;
        let doing = |what: &str| format!("applying change batch {sequence} of task {task}: {what}");
        let mut guards = Vec::with_capacity(shards.len());
        for shard in shards {
            guards.push(shard.client.lock().await);
        }
        let connections: Vec<&tokio_postgres::Client> = std::iter::once(client)
            .chain(guards.iter().map(|g| &**g))
            .collect();
        let count = connections.len();
        let gids: Vec<String> = (0..count)
            .map(|shard| self.prepared_transaction_id(task, sequence, shard))
            .collect();
        let results =
            futures::future::join_all(connections.iter().enumerate().map(|(shard, connection)| {
                let share = Share {
                    shard,
                    count,
                    gid: &gids[shard],
                    checkpoint: (shard == 0).then_some(checkpoint),
                };
                share.write(connection, staged, shares, sequence, &doing)
            }))
            .await;
        let mut failure = None;
        let mut prepared = Vec::new();
        for (shard, result) in results.into_iter().enumerate() {
            match result {
                Ok(written) => prepared.push((shard, written)),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Some(error) = failure {
            for (shard, _) in &prepared {
                // Left over, the next apply's settle_prepared rolls them back.
                let _ = client
                    .batch_execute(&format!("ROLLBACK PREPARED '{}'", gids[*shard]))
                    .await;
            }
            return Err(error);
        }
        // The first commit holds the checkpoint: from here on the batch is applied (a failure
        // to commit the others leaves them to the next apply's settle_prepared).
        let mut totals = vec![Written::default(); staged.len()];
        for (shard, written) in &prepared {
            client
                .batch_execute(&format!("COMMIT PREPARED '{}'", gids[*shard]))
                .await
                .map_err(WarehouseError::database(doing("COMMIT PREPARED")))?;
            for (total, part) in totals.iter_mut().zip(written) {
                total.deleted += part.deleted;
                total.inserted += part.inserted;
            }
        }
        Ok(totals)
    }
}

/// The names used in the SQL of one table's apply.
struct Names {
    /// The target table.
    target: String,
    /// Its columns, as SQL, in table order.
    columns: Vec<String>,
    /// Its key columns, as SQL.
    keys: Vec<String>,
    /// The staging table: `seq`, `op`, `unch`, `b0..` (before keys), `c0..` (every column).
    staged: String,
    /// The key columns' positions in the table.
    key_positions: Vec<usize>,
    /// The staging table's after-image key columns (`c<position>`).
    after_keys: Vec<String>,
    /// The staging table's before-image key columns (`b<i>`).
    before_keys: Vec<String>,
    /// The net changes: key columns `c<position>` as in `staged`, `seq`, `present`, then the
    /// other columns `c<position>` (the final image; NULL when the key is absent).
    net: String,
}

/// How a staged table is shared between the connections of a parallel apply.
struct TableShare {
    /// The size of its net changes' table, in blocks.
    blocks: i64,
    /// Whether several connections may write it (see [`CONSTRAINED_SQL`]).
    splittable: bool,
}

/// How `table` is shared, read in the staging transaction.
async fn share_of(
    tx: &Transaction<'_>,
    table: &StagedTable,
    doing: &impl Fn(&str) -> String,
) -> Result<TableShare, WarehouseError> {
    let constrained: bool = tx
        .query_one(CONSTRAINED_SQL, &[&table.names.target])
        .await
        .map_err(WarehouseError::database(doing(
            "reading the table's constraints",
        )))?
        .get(0);
    let blocks = match table.net() {
        Some(net) => tx
            .query_one(
                &format!("SELECT pg_relation_size('{net}') / current_setting('block_size')::int8"),
                &[],
            )
            .await
            .map_err(WarehouseError::database(doing("sizing the net changes")))?
            .get(0),
        None => 0,
    };
    Ok(TableShare {
        blocks,
        splittable: !constrained,
    })
}

/// One connection's part of a parallel apply.
struct Share<'a> {
    shard: usize,
    count: usize,
    /// Its prepared transaction's id.
    gid: &'a str,
    /// The checkpoint, for the first connection.
    checkpoint: Option<&'a Checkpoint<'a>>,
}

impl Share<'_> {
    /// In one transaction, ended by `PREPARE TRANSACTION`: this share of every staged table
    /// (`blocks`: the size of each one's net changes), and the checkpoint if it is ours. A
    /// table that can't be split is written by the first connection alone. On error the transaction is
    /// rolled back.
    async fn write(
        self,
        connection: &tokio_postgres::Client,
        staged: &[StagedTable],
        shares: &[TableShare],
        sequence: u64,
        doing: &impl Fn(&str) -> String,
    ) -> Result<Vec<Written>, WarehouseError> {
        connection
            .batch_execute(&format!("BEGIN; {WORK_MEM_SQL}"))
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        let written = async {
            let mut written = Vec::with_capacity(staged.len());
            for (table, share) in staged.iter().zip(shares) {
                let range = ShardRange {
                    shard: self.shard,
                    count: self.count,
                    blocks: share.blocks,
                };
                written.push(match (table.truncated || !share.splittable, self.shard) {
                    (true, 0) => write_table(connection, table, None, sequence).await?,
                    (true, _) => Written::default(),
                    (false, _) => write_table(connection, table, Some(range), sequence).await?,
                });
            }
            if let Some(checkpoint) = self.checkpoint {
                checkpoint.advance(connection, doing).await?;
            }
            connection
                .batch_execute(&format!("PREPARE TRANSACTION '{}'", self.gid))
                .await
                .map_err(WarehouseError::database(doing(
                    "PREPARE TRANSACTION (parallel apply needs max_prepared_transactions of at least one per apply connection on the target)",
                )))?;
            Ok(written)
        }
        .await;
        if written.is_err() {
            // Best effort: a broken connection has rolled back already.
            let _ = connection.batch_execute("ROLLBACK").await;
        }
        written
    }
}

/// Where a batch's changes are staged.
enum Staging {
    /// Temporary tables, dropped at commit: the batch is applied in the staging transaction.
    Temporary,
    /// Unlogged tables `<prefix><index>` and `<prefix>net_<index>`, committed for other
    /// connections to read (temporary tables can't be part of a prepared transaction either).
    Unlogged { prefix: String },
}

/// One table's changes, staged and reduced to the net change per key.
struct StagedTable {
    names: Names,
    /// Change rows received.
    rows: u64,
    /// The batch truncated the table.
    truncated: bool,
}

impl StagedTable {
    /// The net changes' table; `None` when the batch had no change of this table (then it was
    /// not made).
    fn net(&self) -> Option<&str> {
        (self.rows > 0).then_some(self.names.net.as_str())
    }
}

/// What writing (a share of) one table's net changes did.
#[derive(Debug, Clone, Copy, Default)]
struct Written {
    deleted: u64,
    inserted: u64,
}

/// One connection's share of a table's net changes: a contiguous range of the net table's
/// blocks, which hold the net changes in key order.
#[derive(Debug, Clone, Copy)]
struct ShardRange {
    shard: usize,
    count: usize,
    blocks: i64,
}

impl ShardRange {
    /// The first block of this share and the first block after it; `None` for the open ends
    /// (the first share starts at the table's start, the last one runs to its end).
    fn blocks(&self) -> (Option<i64>, Option<i64>) {
        let (shard, count) = (self.shard as i64, self.count as i64);
        let bound = |share: i64| self.blocks * share / count;
        (
            (shard > 0).then(|| bound(shard)),
            (shard + 1 < count).then(|| bound(shard + 1)),
        )
    }

    /// ` AND <ctid range>` (a TID range scan) for this share of `alias`'s rows.
    fn filter(&self, alias: &str) -> String {
        let (from, to) = self.blocks();
        let mut filter = String::new();
        if let Some(from) = from {
            filter += &format!(" AND {alias}.ctid >= '({from},0)'::tid");
        }
        if let Some(to) = to {
            filter += &format!(" AND {alias}.ctid < '({to},0)'::tid");
        }
        filter
    }
}

const WORK_MEM_SQL: &str = "SET LOCAL work_mem = '128MB'";

/// Whether table `$1` (as SQL) has constraints whose checks would wait for another connection's
/// uncommitted rows: foreign keys (either way), unique indexes besides the primary key,
/// exclusion constraints.
const CONSTRAINED_SQL: &str = "
SELECT EXISTS (SELECT 1 FROM pg_constraint
                WHERE (conrelid = $1::text::regclass AND contype IN ('f', 'x'))
                   OR confrelid = $1::text::regclass)
    OR EXISTS (SELECT 1 FROM pg_index
                WHERE indrelid = $1::text::regclass AND indisunique AND NOT indisprimary)";

/// The checkpoint row a batch advances.
struct Checkpoint<'a> {
    task: &'a str,
    sequence: i64,
    position: &'a str,
    committed_at: Option<SystemTime>,
    /// The sequence recorded before the batch (`None`: no row yet).
    before: Option<i64>,
}

impl Checkpoint<'_> {
    /// Advances the checkpoint to this batch, which must follow the recorded one (else another
    /// applier got in between: nothing is committed).
    async fn advance(
        &self,
        client: &impl GenericClient,
        doing: &impl Fn(&str) -> String,
    ) -> Result<(), WarehouseError> {
        let advanced = client
            .execute(
                "INSERT INTO migrate.migrate_cdc_checkpoint (task, sequence, position, applied_at, source_committed_at) \
                 VALUES ($1, $2, $3, now(), $4) \
                 ON CONFLICT (task) DO UPDATE SET sequence = excluded.sequence, position = excluded.position, \
                     applied_at = excluded.applied_at, source_committed_at = excluded.source_committed_at \
                 WHERE migrate_cdc_checkpoint.sequence IS NOT DISTINCT FROM $5",
                &[&self.task, &self.sequence, &self.position, &self.committed_at, &self.before],
            )
            .await
            .map_err(WarehouseError::database(doing("advancing the CDC checkpoint")))?;
        if advanced == 1 {
            Ok(())
        } else {
            Err(WarehouseError::Change {
                table: "(every table)".into(),
                sequence: self.sequence.max(0) as u64,
                message: "another process advanced the task's CDC checkpoint during the batch: run one capture per task".into(),
            })
        }
    }
}

/// What the task's checkpoint says of a batch.
enum Recorded {
    /// The batch was applied before (same position, or a sequence not above the recorded one).
    Applied,
    /// The batch is new; the recorded sequence before it (`None`: no checkpoint row yet).
    Before(Option<i64>),
}

/// Locks the task's checkpoint for this transaction and reads what it says of the batch.
async fn lock_checkpoint(
    tx: &Transaction<'_>,
    task: &str,
    sequence: i64,
    position: &str,
    doing: &impl Fn(&str) -> String,
) -> Result<Recorded, WarehouseError> {
    tx.execute(LOCK_SQL, &[&task])
        .await
        .map_err(WarehouseError::database(doing(
            "locking the task's CDC checkpoint",
        )))?;
    let recorded = tx
        .query_opt(
            "SELECT sequence, position FROM migrate.migrate_cdc_checkpoint WHERE task = $1 FOR UPDATE",
            &[&task],
        )
        .await
        .map_err(WarehouseError::database(doing("reading the CDC checkpoint")))?;
    Ok(match recorded {
        Some(row) => {
            let (done, done_position): (i64, String) = (row.get(0), row.get(1));
            if done_position == position || sequence <= done {
                Recorded::Applied
            } else {
                Recorded::Before(Some(done))
            }
        }
        None => Recorded::Before(None),
    })
}

/// A stable short name (`[0-9a-f]{16}`) for `text` in object names.
fn short_hash(text: &str) -> String {
    format!("{:016x}", migrate_core::fnv1a(text))
}

/// The prefix of the unlogged staging tables of `task`'s parallel apply (schema `migrate`).
fn staging_prefix(task: &str) -> String {
    format!("cdc_{}_", short_hash(task))
}

impl PostgresWarehouse {
    /// The prefix of the prepared transactions of `task`'s parallel apply in this database
    /// (their ids are unique in the whole server).
    fn prepared_prefix(&self, task: &str) -> String {
        format!(
            "migrate-cdc-{}-",
            short_hash(&format!("{}/{task}", self.database))
        )
    }

    /// The global id of connection `shard`'s prepared transaction for change batch `sequence`
    /// of `task` in a parallel apply ([`PostgresWarehouse::apply_changes_over`]), as
    /// `pg_prepared_xacts` shows it.
    pub fn prepared_transaction_id(&self, task: &str, sequence: u64, shard: usize) -> String {
        format!("{}{sequence}-{shard}", self.prepared_prefix(task))
    }
}

/// Settles what a parallel apply of `task` left behind (a crash, a dropped connection): commits
/// its prepared transactions whose batch the checkpoint has, rolls back the others, and drops
/// its staging tables.
async fn settle_prepared(
    client: &tokio_postgres::Client,
    task: &str,
    prefix: &str,
) -> Result<(), WarehouseError> {
    let doing = |what: &str| format!("settling the parallel apply of task {task}: {what}");
    let tables: Vec<String> = client
        .query(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables \
              WHERE schemaname = 'migrate' AND starts_with(tablename, $1)",
            &[&staging_prefix(task)],
        )
        .await
        .map_err(WarehouseError::database(doing("listing staging tables")))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for table in tables {
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
            .await
            .map_err(WarehouseError::database(doing("dropping a staging table")))?;
    }
    let left: Vec<String> = client
        .query(
            "SELECT gid FROM pg_prepared_xacts \
              WHERE database = current_database() AND starts_with(gid, $1)",
            &[&prefix],
        )
        .await
        .map_err(WarehouseError::database(doing("listing them")))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if left.is_empty() {
        return Ok(());
    }
    let applied: i64 = client
        .query_opt(
            "SELECT sequence FROM migrate.migrate_cdc_checkpoint WHERE task = $1",
            &[&task],
        )
        .await
        .map_err(WarehouseError::database(doing(
            "reading the CDC checkpoint",
        )))?
        .map_or(0, |row| row.get(0));
    for gid in left {
        let batch = gid[prefix.len()..]
            .split('-')
            .next()
            .and_then(|n| n.parse::<i64>().ok());
        let verdict = if batch.is_some_and(|b| b <= applied) {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        client
            .batch_execute(&format!("{verdict} PREPARED '{gid}'"))
            .await
            .map_err(WarehouseError::database(doing(&format!(
                "{verdict} PREPARED '{gid}'"
            ))))?;
    }
    Ok(())
}

impl ApplyOutcome {
    fn add(&mut self, table: &StagedTable, written: Written) {
        self.inserted += written.inserted;
        self.deleted += written.deleted;
        self.truncated += u32::from(table.truncated);
        self.tables.push(TableApplied {
            table: table.names.target.clone(),
            changes: table.rows,
            deleted: written.deleted,
            inserted: written.inserted,
            truncated: table.truncated,
        });
    }
}

/// Copies one table's changes into a staging table, checks them, fills unchanged values and
/// reduces them to the net change per key.
async fn stage_table<S, E>(
    tx: &Transaction<'_>,
    staging: &Staging,
    index: usize,
    sequence: u64,
    changes: TableChanges<S>,
) -> Result<StagedTable, WarehouseError>
where
    S: Stream<Item = Result<RecordBatch, E>>,
    E: Display + ErrorClass,
{
    let table = &changes.table;
    let target = target_name(table);
    let change_error = |message: String| WarehouseError::Change {
        table: target.clone(),
        sequence,
        message,
    };
    let doing = |what: &str| format!("applying change batch {sequence} to table {target}: {what}");
    let key_names = key_columns(table);
    if key_names.is_empty() {
        return Err(WarehouseError::Schema {
            table: target.clone(),
            message: "the table has no primary key, and applying changes needs one to find rows: add a primary key to the source table (or replicate it with a full load only)".into(),
        });
    }
    let mut key_positions = Vec::with_capacity(key_names.len());
    for key in &key_names {
        let position = table
            .columns
            .iter()
            .position(|c| &c.name.value == key)
            .ok_or_else(|| WarehouseError::Schema {
                table: target.clone(),
                message: format!("the primary key names column {key}, which the table lacks"),
            })?;
        key_positions.push(position);
    }
    let names = Names {
        target: target.clone(),
        columns: table
            .columns
            .iter()
            .map(|c| target_column(&c.name))
            .collect(),
        keys: key_positions
            .iter()
            .map(|&p| target_column(&table.columns[p].name))
            .collect(),
        staged: match staging {
            Staging::Temporary => format!("migrate_cdc_{index}"),
            Staging::Unlogged { prefix } => format!("{prefix}{index}"),
        },
        key_positions: key_positions.clone(),
        after_keys: key_positions.iter().map(|p| format!("c{p}")).collect(),
        before_keys: (0..key_positions.len()).map(|i| format!("b{i}")).collect(),
        net: match staging {
            Staging::Temporary => format!("migrate_cdc_net_{index}"),
            Staging::Unlogged { prefix } => format!("{prefix}net_{index}"),
        },
    };
    let create_table = match staging {
        Staging::Temporary => "CREATE TEMP TABLE {} ON COMMIT DROP",
        Staging::Unlogged { .. } => "CREATE UNLOGGED TABLE {}",
    };
    let create_table = |name: &str| create_table.replace("{}", name);

    // The staging table takes its column types from the target (CREATE TABLE AS keeps types,
    // modifiers and collations, but no NOT NULL: deletes have no after-image).
    let mut select = vec![
        "NULL::int8 AS seq".to_string(),
        "NULL::text AS op".into(),
        "NULL::text AS unch".into(),
    ];
    for (i, key) in names.keys.iter().enumerate() {
        select.push(format!("t.{key} AS b{i}"));
    }
    for (i, column) in names.columns.iter().enumerate() {
        select.push(format!("t.{column} AS c{i}"));
    }
    let create = format!(
        "{} AS SELECT {} FROM {} t WITH NO DATA",
        create_table(&names.staged),
        select.join(", "),
        names.target
    );
    tx.batch_execute(&create)
        .await
        .map_err(WarehouseError::missing_table_or_column(
            &target,
            &names.columns.join(", "),
            "prepare the table (or apply the schema change) first",
            doing("creating the staging table"),
        ))?;
    let probe = tx
        .prepare(&format!("SELECT * FROM {} LIMIT 0", names.staged))
        .await
        .map_err(WarehouseError::database(doing(
            "reading the staging columns",
        )))?;
    let expected = staged_change_schema(table);
    let plans =
        column_plans(&expected, probe.columns()).map_err(|message| WarehouseError::Schema {
            table: target.clone(),
            message,
        })?;

    let mut last_seq: Option<i64> = None;
    let check = |batch: &RecordBatch| -> Result<(), String> {
        let seqs = batch.column(0).as_primitive::<Int64Type>();
        if seqs.null_count() > 0 {
            return Err(format!("{SEQ_COLUMN} is null in a change row"));
        }
        for &seq in seqs.values().iter() {
            if last_seq.is_some_and(|last| seq <= last) {
                return Err(format!(
                    "{SEQ_COLUMN} must increase strictly in source order, but {seq} follows {}",
                    last_seq.unwrap_or_default()
                ));
            }
            last_seq = Some(seq);
        }
        Ok(())
    };
    let copy = format!("COPY {} FROM STDIN (FORMAT binary)", names.staged);
    let rows = copy_batches(tx, &copy, &plans, &expected, changes.changes, check)
        .await
        .map_err(|failure| match failure {
            CopyFailure::Source {
                rows,
                message,
                retry,
            } => WarehouseError::ChangeStream {
                table: target.clone(),
                sequence,
                rows,
                message,
                retry,
            },
            CopyFailure::Schema(message) => change_error(message),
            CopyFailure::Value {
                column,
                row,
                message,
            } => change_error(format!("column {column}, change row {row}: {message}")),
            CopyFailure::Database {
                doing: what,
                source,
            } => WarehouseError::database(doing(what))(source),
        })?;
    if rows == 0 {
        return Ok(StagedTable {
            names,
            rows,
            truncated: false,
        });
    }

    let db = |what: &str| WarehouseError::database(doing(what));
    let staged = &names.staged;
    let column_count = names.columns.len();
    let before_null = names
        .before_keys
        .iter()
        .map(|c| format!("{c} IS NULL"))
        .collect::<Vec<_>>()
        .join(" OR ");
    // A null new key, unless the key column is unchanged (then it is the before key, which is
    // checked not null above).
    let after_null = names
        .after_keys
        .iter()
        .zip(&names.key_positions)
        .map(|(c, p)| {
            format!(
                "({c} IS NULL AND substr(unch, {}, 1) IS DISTINCT FROM '1')",
                p + 1
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    // One scan of the staged changes for every check (a scan costs as much as the COPY).
    let facts = tx
        .query_one(
            &format!(
                "SELECT min(seq) FILTER (WHERE op IS NULL OR op NOT IN ('I', 'U', 'D', 'T')), \
                        min(seq) FILTER (WHERE op IN ('U', 'D') AND ({before_null})), \
                        min(seq) FILTER (WHERE unch IS NOT NULL AND length(unch) <> {column_count}), \
                        min(seq) FILTER (WHERE op = 'T'), \
                        max(seq) FILTER (WHERE op = 'T'), \
                        count(*) FILTER (WHERE op = 'U' AND strpos(unch, '1') > 0), \
                        min(seq) FILTER (WHERE op IN ('I', 'U') AND ({after_null})) \
                   FROM {staged}"
            ),
            &[],
        )
        .await
        .map_err(db("checking the changes"))?;
    if let Some(seq) = facts.get::<_, Option<i64>>(0) {
        return Err(change_error(format!(
            "the change with {SEQ_COLUMN} {seq} has an unknown {} (expected I, U, D or T)",
            migrate_source::OP_COLUMN
        )));
    }
    if let Some(seq) = facts.get::<_, Option<i64>>(1) {
        return Err(change_error(format!(
            "the update or delete with {SEQ_COLUMN} {seq} lacks its before-image key ({})",
            key_names
                .iter()
                .map(|k| migrate_source::before_column(k))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Some(seq) = facts.get::<_, Option<i64>>(2) {
        return Err(change_error(format!(
            "the change with {SEQ_COLUMN} {seq} has an {} value whose length is not the table's {column_count} columns",
            migrate_source::UNCHANGED_COLUMN
        )));
    }
    let first_truncate: Option<i64> = facts.get(3);
    let last_truncate: Option<i64> = facts.get(4);
    let unchanged_rows: i64 = facts.get(5);
    if let Some(seq) = facts.get::<_, Option<i64>>(6) {
        return Err(change_error(format!(
            "the insert or update with {SEQ_COLUMN} {seq} has a null primary-key value in its new image"
        )));
    }

    if unchanged_rows > 0 {
        // Only the joins that fill unchanged values need the staged changes' statistics.
        tx.batch_execute(&format!("ANALYZE {staged}"))
            .await
            .map_err(db("analyzing the staged changes"))?;
        resolve_unchanged(tx, &names, table, first_truncate, &change_error, &doing).await?;
    }

    // The last change of each key after the last truncate: present (its image is the row) or
    // absent (deleted, or moved to another key).
    let after = names.after_keys.join(", ");
    let before_as_after = names
        .before_keys
        .iter()
        .zip(&names.after_keys)
        .map(|(b, a)| format!("{b} AS {a}"))
        .collect::<Vec<_>>()
        .join(", ");
    let since = last_truncate.map_or(String::new(), |t| format!(" AND seq > {t}"));
    let net = &names.net;
    // The net table carries the final images too: the INSERT then reads it alone (measured
    // faster than joining it back to the staged changes). Deletes' images are NULLs, typed by
    // the first branch of the UNION.
    let images: Vec<String> = (0..column_count)
        .filter(|i| !names.key_positions.contains(i))
        .map(|i| format!("c{i}"))
        .collect();
    let (image_list, null_images) = if images.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!(", {}", images.join(", ")),
            ", NULL".repeat(images.len()),
        )
    };
    tx.batch_execute(&format!(
        "{create_net} AS \
         SELECT DISTINCT ON ({after}) {after}, seq, present{image_list} FROM ( \
             SELECT {after}, seq, true AS present{image_list} FROM {staged} WHERE op IN ('I', 'U'){since} \
             UNION ALL \
             SELECT {before_as_after}, seq, false{null_images} FROM {staged} \
              WHERE (op = 'D' OR (op = 'U' AND {before_row} IS DISTINCT FROM {after_row})){since} \
         ) changes ORDER BY {after}, seq DESC; \
         ANALYZE {net}",
        create_net = create_table(net),
        before_row = row_of(staged, &names.before_keys),
        after_row = row_of(staged, &names.after_keys),
    ))
    .await
    .map_err(db("reducing the changes to the net change per key"))?;

    Ok(StagedTable {
        names,
        rows,
        truncated: last_truncate.is_some(),
    })
}

/// Writes a staged table's net changes (or the share `range` of them) to the target: truncates
/// it if the batch did, deletes the rows of every changed key, inserts the final images.
async fn write_table(
    client: &impl GenericClient,
    table: &StagedTable,
    range: Option<ShardRange>,
    sequence: u64,
) -> Result<Written, WarehouseError> {
    let Some(net) = table.net() else {
        return Ok(Written::default());
    };
    let names = &table.names;
    let target = &names.target;
    let doing = |what: &str| format!("applying change batch {sequence} to table {target}: {what}");
    let db = |what: &str| WarehouseError::database(doing(what));
    let share = |alias: &str| range.map_or(String::new(), |r| r.filter(alias));
    let mut deleted = 0;
    if table.truncated {
        client
            .batch_execute(&format!("TRUNCATE {target}"))
            .await
            .map_err(db(
                "truncating it (tables whose foreign keys reference it must be truncated in the same batch)",
            ))?;
    } else {
        // A hash join would read the whole target table for every batch (and every connection
        // of a parallel apply); merge and nested-loop joins go through its primary key, at a
        // cost that follows the batch's size (measured 30% faster at 250,000 of 1M rows).
        client
            .batch_execute("SET LOCAL enable_hashjoin = off")
            .await
            .map_err(db("SET enable_hashjoin"))?;
        deleted = client
            .execute(
                &format!(
                    "DELETE FROM {target} t USING {net} n WHERE {}{}",
                    equal("t", &names.keys, "n", &names.after_keys),
                    share("n")
                ),
                &[],
            )
            .await
            .map_err(db("deleting the rows of the changed keys"))?;
    }
    let values = (0..names.columns.len())
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let inserted = client
        .execute(
            &format!(
                "INSERT INTO {target} ({}) OVERRIDING SYSTEM VALUE \
                 SELECT {values} FROM {net} n WHERE present{}",
                names.columns.join(", "),
                share("n")
            ),
            &[],
        )
        .await
        .map_err(db("inserting the new images"))?;
    Ok(Written { deleted, inserted })
}

/// Fills every unchanged value (`__unchanged` = `1`) of the staged updates: from the latest
/// earlier insert or update of the same key in the batch, else from the target row as it was
/// before the batch. An update that changed the key takes its values from its before-key's
/// history, so values follow a row through key changes; chains are resolved in rounds, each
/// round one key change deeper (a run of updates that keep the key resolves in one round).
async fn resolve_unchanged(
    tx: &Transaction<'_>,
    names: &Names,
    table: &Table,
    first_truncate: Option<i64>,
    change_error: &impl Fn(String) -> WarehouseError,
    doing: &impl Fn(&str) -> String,
) -> Result<(), WarehouseError> {
    let db = |what: &str| WarehouseError::database(doing(what));
    let staged = &names.staged;
    let after = names.after_keys.join(", ");
    tx.batch_execute(&format!(
        "CREATE INDEX ON {staged} ({after}, seq); CREATE INDEX ON {staged} (seq); ANALYZE {staged}"
    ))
    .await
    .map_err(db("indexing the staged changes"))?;
    let clear = |pos: usize, alias: &str| {
        format!("unch = overlay({alias}.unch placing '0' from {pos} for 1)")
    };
    // A key column is only "unchanged" when the key did not change: its value is the before key.
    for (i, (key, position)) in names
        .after_keys
        .iter()
        .zip(&names.key_positions)
        .enumerate()
    {
        let pos = position + 1;
        tx.execute(
            &format!(
                "UPDATE {staged} r SET {key} = r.b{i}, {} WHERE r.op = 'U' AND substr(r.unch, {pos}, 1) = '1'",
                clear(pos, "r")
            ),
            &[],
        )
        .await
        .map_err(db("resolving unchanged key values"))?;
    }
    let positions: Vec<i32> = tx
        .query(
            &format!(
                "SELECT DISTINCT p FROM {staged}, generate_series(1, length(unch)) p \
                  WHERE op = 'U' AND strpos(unch, '1') > 0 AND substr(unch, p, 1) = '1' ORDER BY p"
            ),
            &[],
        )
        .await
        .map_err(db("finding the unchanged columns"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let before_row = |alias: &str| row_of(alias, &names.before_keys);
    let after_row = |alias: &str| row_of(alias, &names.after_keys);
    let before_first_truncate =
        first_truncate.map_or(String::new(), |t| format!(" AND r.seq < {t}"));
    for pos in positions {
        let pos = pos as usize;
        let column = format!("c{}", pos - 1);
        // The change a value can come from: an earlier insert or update of the key that has
        // the value, or that changed the key (then its own value comes from the old key).
        let candidate = |q: &str, r: &str| {
            format!(
                "{q_after} = {r_before} AND {q}.seq < {r}.seq AND {q}.op IN ('I', 'U') \
                 AND (substr({q}.unch, {pos}, 1) IS DISTINCT FROM '1' OR {q_before} IS DISTINCT FROM {q_after})",
                q_after = after_row(q),
                q_before = before_row(q),
                r_before = before_row(r),
            )
        };
        // No such change: the row was as in the target before the batch.
        tx.execute(
            &format!(
                "UPDATE {staged} r SET {column} = t.{target_column}, {clear} \
                   FROM {target} t \
                  WHERE r.op = 'U' AND substr(r.unch, {pos}, 1) = '1' AND {key_match}{before_first_truncate} \
                    AND NOT EXISTS (SELECT 1 FROM {staged} q WHERE {candidate})",
                target_column = names.columns[pos - 1],
                clear = clear(pos, "r"),
                target = names.target,
                key_match = equal("t", &names.keys, "r", &names.before_keys),
                candidate = candidate("q", "r"),
            ),
            &[],
        )
        .await
        .map_err(db("taking unchanged values from the target"))?;
        loop {
            let resolved = tx
                .execute(
                    &format!(
                        "UPDATE {staged} r SET {column} = p.{column}, {clear} \
                           FROM (SELECT r2.seq AS rseq, \
                                        (SELECT q.seq FROM {staged} q WHERE {candidate} ORDER BY q.seq DESC LIMIT 1) AS pseq \
                                   FROM {staged} r2 WHERE r2.op = 'U' AND substr(r2.unch, {pos}, 1) = '1') m \
                           JOIN {staged} p ON p.seq = m.pseq \
                          WHERE r.seq = m.rseq AND substr(p.unch, {pos}, 1) IS DISTINCT FROM '1'",
                        clear = clear(pos, "r"),
                        candidate = candidate("q", "r2"),
                    ),
                    &[],
                )
                .await
                .map_err(db("taking unchanged values from earlier changes"))?;
            if resolved == 0 {
                break;
            }
        }
        let left = tx
            .query_opt(
                &format!(
                    "SELECT seq, concat_ws(', ', {}) FROM {staged} \
                      WHERE op = 'U' AND substr(unch, {pos}, 1) = '1' ORDER BY seq LIMIT 1",
                    names
                        .before_keys
                        .iter()
                        .map(|b| format!("{b}::text"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[],
            )
            .await
            .map_err(db("checking unchanged values"))?;
        if let Some(row) = left {
            let (seq, key): (i64, String) = (row.get(0), row.get(1));
            return Err(change_error(format!(
                "the update with {SEQ_COLUMN} {seq} leaves column {} unchanged, but the row with key ({key}) has no earlier value in the batch or the target: the target is out of step with the source; reload the table",
                table.columns[pos - 1].name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ShardRange;

    #[test]
    fn shares_cover_every_block_once() {
        for blocks in [0, 1, 2, 5, 130] {
            for count in 1..=4 {
                let ranges: Vec<_> = (0..count)
                    .map(|shard| {
                        ShardRange {
                            shard,
                            count,
                            blocks,
                        }
                        .blocks()
                    })
                    .collect();
                // Every block, and the rows past the last one the size was read at, in exactly
                // one share.
                for block in 0..=blocks {
                    let owners = ranges
                        .iter()
                        .filter(|(from, to)| {
                            from.is_none_or(|f| block >= f) && to.is_none_or(|t| block < t)
                        })
                        .count();
                    assert_eq!(owners, 1, "block {block} of {blocks} over {count}");
                }
            }
        }
        let middle = ShardRange {
            shard: 1,
            count: 3,
            blocks: 9,
        };
        assert_eq!(
            middle.filter("n"),
            " AND n.ctid >= '(3,0)'::tid AND n.ctid < '(6,0)'::tid"
        );
    }
}
