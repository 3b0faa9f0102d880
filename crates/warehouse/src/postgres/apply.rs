//! Applying a batch of changes (CDC) exactly once, in two steps that may run on different
//! connections: [`PostgresWarehouse::stage_changes`] copies every table's changes into an unlogged
//! staging table and reduces them to the net change per key with set-based SQL (nothing of the
//! target changes); [`PostgresWarehouse::write_changes`] then writes them with one `DELETE` and
//! one `INSERT` per table in the transaction that advances the task's CDC checkpoint, or over
//! several connections, in key ranges, by transactions committed in two phases, the
//! checkpoint's first.

use super::copy::{column_plans, copy_batches, CopyFailure};
use super::identity::{advance_identities, identity_sequences, IdentitySequence};
use super::{target_column, target_name, PostgresWarehouse};
use crate::WarehouseError;
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::kernels::cmp::distinct;
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, Stream, StreamExt};
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
/// The mark in [`migrate_source::UNCHANGED_COLUMN`] (besides `0` and `1`) of a column the row's
/// image lacks because the source added the column after the change was captured (a change
/// staged under the table's earlier definition, in the batch that carries the schema change):
/// the row then has the value the source gave existing rows when the column was added, which is
/// the default the target column was added with. Taken from the target column's default, never
/// applied as NULL (a NOT NULL column would refuse it; a DEFAULT column would lose its value).
pub const ADDED_SINCE_MARK: char = '2';
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

    /// Applies change batch `sequence` of `task`, which ends at source `position`, exactly once:
    /// [`PostgresWarehouse::settle_apply`], [`PostgresWarehouse::stage_changes`] and
    /// [`PostgresWarehouse::write_changes`] over this one connection.
    ///
    /// **Durability**: the changes are staged first (nothing of the target changes). Then one
    /// transaction locks the task's CDC checkpoint; when the checkpoint's position already equals
    /// `position` or its sequence is `>= sequence`, the batch was applied before: the transaction
    /// rolls back, the staged changes are dropped and the outcome says `skipped_already_applied`.
    /// Otherwise, for each table, unchanged values (`__unchanged`) are taken from the latest
    /// earlier change of the same row in the batch or else from the target row as it was before
    /// the batch, the target rows of every touched key are deleted and the final images inserted.
    /// Then the checkpoint row becomes (sequence, position, now, `committed_at`) and the
    /// transaction commits. The batch is durable exactly when this returns `Ok`; before, nothing
    /// of it is (any error, a crash or a dropped connection rolls back every table and the
    /// checkpoint).
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
    /// `shards` (see [`PostgresWarehouse::write_changes`]).
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
        self.settle_apply(task).await?;
        let staged = self.stage_changes(task, sequence, tables).await?;
        self.write_changes(shards, staged, position, committed_at)
            .await
    }

    /// Settles what an earlier apply of `task` left behind (a crash, a dropped connection): its
    /// prepared transactions whose batch the checkpoint has are committed, the others rolled
    /// back, and its staging tables dropped. Call it before staging the first batch of a
    /// capture session, never while one of its batches is staged and not yet written.
    pub async fn settle_apply(&self, task: &str) -> Result<(), WarehouseError> {
        let client = self.client.lock().await;
        settle_prepared(&client, task, &self.prepared_prefix(task)).await
    }

    /// Stages change batch `sequence` of `task`, in a transaction of its own on this connection
    /// that changes nothing of the target: each table's changes are streamed with binary COPY
    /// into an unlogged table of schema `migrate` (memory: one record batch at a time, whatever
    /// the batch's size), checked, and reduced to the last change per key in `__seq` order (an
    /// update that changes the key deletes the old key and inserts the new one; a truncate
    /// removes every row before it). A table whose updates left values unchanged is reduced
    /// when it is written, since those values may come from the target as the previous batch
    /// left it. So a batch may be staged while the one before it is being written (on other
    /// connections).
    ///
    /// Errors: as [`PostgresWarehouse::apply_changes`] says, except the unchanged values'.
    pub async fn stage_changes<S, E>(
        &self,
        task: &str,
        sequence: u64,
        tables: Vec<TableChanges<S>>,
    ) -> Result<StagedBatch, WarehouseError>
    where
        S: Stream<Item = Result<RecordBatch, E>>,
        E: Display + ErrorClass,
    {
        let doing = |what: &str| format!("staging change batch {sequence} of task {task}: {what}");
        if i64::try_from(sequence).is_err() {
            return Err(WarehouseError::Change {
                table: "(every table)".into(),
                sequence,
                message: "the batch sequence is above 2^63-1".into(),
            });
        }
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
        let prefix = format!("migrate.{}{sequence}_", staging_prefix(task));
        let mut client = self.client.lock().await;
        let tx = client
            .transaction()
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        // Room for the sorts and hashes of the net-change reduction (this transaction only).
        tx.batch_execute(WORK_MEM_SQL)
            .await
            .map_err(WarehouseError::database(doing("SET work_mem")))?;
        let mut staged = Vec::with_capacity(tables.len());
        for (index, changes) in tables.into_iter().enumerate() {
            staged.push(stage_table(&tx, &prefix, index, sequence, changes).await?);
        }
        tx.commit()
            .await
            .map_err(WarehouseError::database(doing("COMMIT")))?;
        Ok(StagedBatch {
            task: task.to_string(),
            sequence,
            tables: staged,
        })
    }

    /// Writes a batch staged by [`PostgresWarehouse::stage_changes`] (on any connection to this
    /// database) over this connection and `shards` (further connections to the same database),
    /// and drops its staged changes. The batch before it must be durable.
    ///
    /// Without shards, one transaction writes every table and advances the checkpoint. With
    /// shards, each connection deletes and inserts its share of every table's net changes
    /// (contiguous key ranges; a table the batch truncated, or that has foreign keys, unique
    /// constraints besides its key or exclusion constraints, is written by this connection
    /// alone: another connection's uncommitted rows would make its checks wait; and a batch
    /// that writes a table with triggers of its own is written by this connection alone), this
    /// connection also advances the checkpoint, and each ends with `PREPARE TRANSACTION`
    /// (two-phase commit: the target needs `max_prepared_transactions` of at least one per
    /// connection). When all are prepared, this connection's transaction (the one with the
    /// checkpoint) commits first: that is the moment the batch becomes durable; the others
    /// commit next. A crash in between leaves prepared transactions, which
    /// [`PostgresWarehouse::settle_apply`] commits when the checkpoint has their batch, and rolls
    /// back otherwise: the batch is still applied exactly once. Until then they hold their rows'
    /// locks.
    pub async fn write_changes(
        &self,
        shards: &[&PostgresWarehouse],
        batch: StagedBatch,
        position: &str,
        committed_at: Option<SystemTime>,
    ) -> Result<ApplyOutcome, WarehouseError> {
        let StagedBatch {
            task,
            sequence,
            tables,
        } = batch;
        let doing = |what: &str| format!("applying change batch {sequence} of task {task}: {what}");
        // Checked by stage_changes.
        let sequence_sql = sequence as i64;
        let mut client = self.client.lock().await;
        let tx = client
            .transaction()
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        let Recorded::Before(done) =
            lock_checkpoint(&tx, &task, sequence_sql, position, &doing).await?
        else {
            tx.rollback()
                .await
                .map_err(WarehouseError::database(doing("ROLLBACK")))?;
            // Applied before: as after a write, staging tables left behind are the next
            // settle_apply's to drop.
            if let Err(e) = drop_staged(&client, &tables, &doing).await {
                tracing::warn!("{e}");
            }
            return Ok(ApplyOutcome {
                skipped_already_applied: true,
                ..ApplyOutcome::default()
            });
        };
        tx.batch_execute(WORK_MEM_SQL)
            .await
            .map_err(WarehouseError::database(doing("SET work_mem")))?;
        for table in tables.iter().filter(|t| t.unresolved) {
            resolve_and_reduce(&tx, table, sequence).await?;
        }
        let checkpoint = Checkpoint {
            task: &task,
            sequence: sequence_sql,
            position,
            committed_at,
            before: done,
        };
        let mut outcome = ApplyOutcome::default();
        if shards.is_empty() {
            for table in &tables {
                let written = write_table(&tx, table, None, sequence).await?;
                advance_table_identities(&tx, table, sequence).await?;
                outcome.add(table, written);
            }
            checkpoint.advance(&tx, &doing).await?;
            tx.commit()
                .await
                .map_err(WarehouseError::database(doing("COMMIT")))?;
        } else {
            // How each table is shared; then the net changes resolved here must be visible to
            // the other connections.
            let mut shares = Vec::with_capacity(tables.len());
            for table in &tables {
                shares.push(share_of(&tx, table, &doing).await?);
            }
            // A trigger may change rows of any table, which another connection may reach too:
            // it would wait for this one's prepared transaction, which commits only once that
            // connection has prepared its own. One connection writes such a batch.
            if shares.iter().any(|share| share.triggered) {
                shares.iter_mut().for_each(|share| share.splittable = false);
            }
            tx.commit().await.map_err(WarehouseError::database(doing(
                "COMMIT of the resolved changes",
            )))?;
            let totals = self
                .write_in_parallel(&client, shards, sequence, &tables, &shares, &checkpoint)
                .await?;
            for (table, total) in tables.iter().zip(totals) {
                outcome.add(table, total);
            }
        }
        // The batch is durable: a failure to drop its staging tables only leaves them to the
        // next settle_apply.
        if let Err(e) = drop_staged(&client, &tables, &doing).await {
            tracing::warn!("{e}");
        }
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
        let pids: Vec<i32> = std::iter::once(self.backend_pid)
            .chain(shards.iter().map(|shard| shard.backend_pid))
            .collect();
        let mut pending: FuturesUnordered<_> = connections
            .iter()
            .enumerate()
            .map(|(shard, connection)| {
                let share = Share {
                    shard,
                    count,
                    gid: &gids[shard],
                    checkpoint: (shard == 0).then_some(checkpoint),
                };
                share
                    .write(connection, staged, shares, sequence, &doing)
                    .map(move |result| (shard, result))
            })
            .collect();
        let mut results: Vec<Option<Result<Vec<Written>, WarehouseError>>> =
            (0..count).map(|_| None).collect();
        // A connection that waits for a lock held by a prepared share (through something the
        // target runs on its own that tables with triggers don't cover: a rule, say) would wait
        // forever: prepared shares commit only once every share is prepared.
        let mut blocked = false;
        let mut rolled_back = vec![false; count];
        loop {
            let idle = results.iter().position(|r| matches!(r, Some(Ok(_))));
            tokio::select! {
                next = pending.next() => match next {
                    Some((shard, result)) => results[shard] = Some(result),
                    None => break,
                },
                _ = tokio::time::sleep(BLOCKED_CHECK_AFTER), if idle.is_some() && !blocked => {
                    let waiting: Vec<i32> = (0..count)
                        .filter(|&shard| results[shard].is_none() && !rolled_back[shard])
                        .map(|shard| pids[shard])
                        .collect();
                    // The prepared share's connection is free for a query.
                    let connection = connections[idle.unwrap_or_default()];
                    blocked = match blocked_by_prepared(connection, &waiting).await {
                        Ok(blocked) => blocked,
                        Err(e) => {
                            tracing::warn!("change batch {sequence} of task {task}: {e}");
                            false
                        }
                    };
                    if blocked {
                        tracing::warn!(
                            "change batch {sequence} of task {task}: an apply connection waits for a lock another one holds in its prepared transaction; the batch is written again by one connection"
                        );
                        // Their locks released, the waiting shares go on (and are rolled back
                        // once prepared).
                        for (shard, result) in results.iter_mut().enumerate() {
                            if matches!(result, Some(Ok(_))) {
                                let rollback = format!("ROLLBACK PREPARED '{}'", gids[shard]);
                                if let Err(e) = connection.batch_execute(&rollback).await {
                                    // The waiting share then waits on: say what releases it.
                                    tracing::warn!(
                                        "change batch {sequence} of task {task}: {rollback} failed ({e}); run it on the target"
                                    );
                                }
                                *result = None;
                                rolled_back[shard] = true;
                            }
                        }
                    }
                }
            }
        }
        let mut failure = None;
        let mut prepared = Vec::new();
        for (shard, result) in results.into_iter().enumerate() {
            match result {
                Some(Ok(written)) => prepared.push((shard, written)),
                Some(Err(e)) => {
                    failure.get_or_insert(e);
                }
                None => {}
            }
        }
        if blocked || failure.is_some() {
            for (shard, _) in &prepared {
                // Left over, the next apply's settle_prepared rolls them back.
                let _ = client
                    .batch_execute(&format!("ROLLBACK PREPARED '{}'", gids[*shard]))
                    .await;
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        if blocked {
            // The whole batch on this connection, still ended by PREPARE and COMMIT PREPARED.
            let alone = Share {
                shard: 0,
                count: 1,
                gid: &gids[0],
                checkpoint: Some(checkpoint),
            };
            let written = alone
                .write(client, staged, shares, sequence, &doing)
                .await?;
            client
                .batch_execute(&format!("COMMIT PREPARED '{}'", gids[0]))
                .await
                .map_err(WarehouseError::database(doing("COMMIT PREPARED")))?;
            return Ok(written);
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
#[derive(Debug)]
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
    /// The table has triggers of its own that fire for migrate's writes.
    triggered: bool,
}

/// How `table` is shared, read in the staging transaction.
async fn share_of(
    tx: &Transaction<'_>,
    table: &StagedTable,
    doing: &impl Fn(&str) -> String,
) -> Result<TableShare, WarehouseError> {
    let row = tx
        .query_one(CONSTRAINED_SQL, &[&table.names.target])
        .await
        .map_err(WarehouseError::database(doing(
            "reading the table's constraints and triggers",
        )))?;
    let (constrained, triggered): (bool, bool) = (row.get(0), row.get(1));
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
        triggered,
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
                for table in staged {
                    advance_table_identities(connection, table, sequence).await?;
                }
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

/// A change batch staged by [`PostgresWarehouse::stage_changes`]: its tables' changes in
/// unlogged tables, until [`PostgresWarehouse::write_changes`] writes and drops them.
#[derive(Debug)]
pub struct StagedBatch {
    task: String,
    sequence: u64,
    tables: Vec<StagedTable>,
}

/// One table's changes, staged and (unless `unresolved`) reduced to the net change per key.
#[derive(Debug)]
struct StagedTable {
    names: Names,
    /// The target table's definition.
    table: Table,
    /// Change rows received.
    rows: u64,
    /// The first and the last truncate of the batch.
    first_truncate: Option<i64>,
    last_truncate: Option<i64>,
    /// Updates left values unchanged: they are filled, and the changes reduced, when the table
    /// is written (the values may come from the target as the previous batch left it).
    unresolved: bool,
    /// Some change removes a key: a delete, or an update that changes the key.
    removes_keys: bool,
    /// The batch truncated the table.
    truncated: bool,
    /// The target's identity sequences, moved past the batch's new rows when it is written.
    identities: Vec<IdentitySequence>,
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

/// How long the connections of a parallel apply may go without one of them finishing before
/// migrate looks for a connection that waits for another one's prepared transaction.
const BLOCKED_CHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether one of the server processes `waiting` waits for a lock held by a prepared
/// transaction (which `pg_blocking_pids` shows as process 0).
async fn blocked_by_prepared(
    client: &tokio_postgres::Client,
    waiting: &[i32],
) -> Result<bool, WarehouseError> {
    Ok(client
        .query_one(
            "SELECT coalesce(bool_or(0 = ANY(pg_blocking_pids(pid))), false) FROM unnest($1::int4[]) pid",
            &[&waiting],
        )
        .await
        .map_err(WarehouseError::database(
            "looking for apply connections that wait for a prepared transaction",
        ))?
        .get(0))
}

/// Whether table `$1` (as SQL) has constraints whose checks would wait for another connection's
/// uncommitted rows (foreign keys either way, unique indexes besides the primary key, exclusion
/// constraints); and whether it has triggers of its own that fire in migrate's sessions
/// (enabled, not internal: those are the foreign keys').
const CONSTRAINED_SQL: &str = "
SELECT EXISTS (SELECT 1 FROM pg_constraint
                WHERE (conrelid = $1::text::regclass AND contype IN ('f', 'x'))
                   OR confrelid = $1::text::regclass)
    OR EXISTS (SELECT 1 FROM pg_index
                WHERE indrelid = $1::text::regclass AND indisunique AND NOT indisprimary),
       EXISTS (SELECT 1 FROM pg_trigger
                WHERE tgrelid = $1::text::regclass AND NOT tgisinternal AND tgenabled IN ('O', 'A'))";

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
    migrate_core::apply_staging_prefix(migrate_core::fnv1a(task))
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
    // Prepared transactions first: a writer's share holds locks on the staging tables it read
    // until its COMMIT or ROLLBACK PREPARED, so dropping those tables first would wait forever.
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
    if !left.is_empty() {
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
    }
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
    Ok(())
}

impl ApplyOutcome {
    fn add(&mut self, table: &StagedTable, written: Written) {
        self.rows_in += table.rows;
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

/// Copies one table's changes into a staging table (`<prefix><index>`), checks them and, unless
/// updates left values unchanged, reduces them to the net change per key.
async fn stage_table<S, E>(
    tx: &Transaction<'_>,
    prefix: &str,
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
        staged: format!("{prefix}{index}"),
        key_positions: key_positions.clone(),
        after_keys: key_positions.iter().map(|p| format!("c{p}")).collect(),
        before_keys: (0..key_positions.len()).map(|i| format!("b{i}")).collect(),
        net: format!("{prefix}net_{index}"),
    };

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
        "CREATE UNLOGGED TABLE {} AS SELECT {} FROM {} t WITH NO DATA",
        names.staged,
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

    // The changes are checked as they are sent: a scan of the staged table costs as much as
    // the COPY.
    let mut facts = Facts {
        longest: probe
            .columns()
            .iter()
            .skip(3 + key_positions.len())
            .map(|c| {
                use tokio_postgres::types::Type;
                let ty = c.type_();
                Longest {
                    chars: 0,
                    // Only these get a wider type named (`wider_text_type`).
                    tracked: [
                        Type::VARCHAR,
                        Type::BPCHAR,
                        Type::VARCHAR_ARRAY,
                        Type::BPCHAR_ARRAY,
                    ]
                    .contains(ty),
                    in_array: matches!(ty.kind(), tokio_postgres::types::Kind::Array(_)),
                }
            })
            .collect(),
        ..Facts::default()
    };
    let copy = format!("COPY {} FROM STDIN (FORMAT binary)", names.staged);
    let rows = copy_batches(tx, &copy, &plans, &expected, changes.changes, |batch| {
        facts.observe(batch, &key_positions, names.columns.len())
    })
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
        } => change_error(match facts.key_of(row, &key_names, &key_positions) {
            Some(key) => format!(
                "row {key} (change row {} of the table in this batch), column {column}: {message}",
                row + 1
            ),
            None => format!(
                "column {column}, change row {} of the table in this batch: {message}",
                row + 1
            ),
        }),
        CopyFailure::Database {
            doing: what,
            source,
        } => match staged_value_error(&names, &facts, &source) {
            Some(message) => change_error(message),
            None => WarehouseError::database(doing(what))(source),
        },
    })?;
    if let Some(seq) = facts.unknown_op {
        return Err(change_error(format!(
            "the change with {SEQ_COLUMN} {seq} has an unknown {} (expected I, U, D or T)",
            migrate_source::OP_COLUMN
        )));
    }
    if let Some(seq) = facts.missing_before {
        return Err(change_error(format!(
            "the update or delete with {SEQ_COLUMN} {seq} lacks its before-image key ({})",
            key_names
                .iter()
                .map(|k| migrate_source::before_column(k))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Some(seq) = facts.bad_unchanged {
        return Err(change_error(format!(
            "the change with {SEQ_COLUMN} {seq} has an {} value whose length is not the table's {} columns",
            migrate_source::UNCHANGED_COLUMN,
            names.columns.len()
        )));
    }
    if let Some(seq) = facts.null_key {
        return Err(change_error(format!(
            "the insert or update with {SEQ_COLUMN} {seq} has a null primary-key value in its new image"
        )));
    }
    if facts.added_since {
        fill_added_since(tx, &names, &doing).await?;
    }
    let identities = if rows > 0 {
        identity_sequences(tx, &target, &names.columns).await?
    } else {
        Vec::new()
    };
    let staged = StagedTable {
        names,
        table: table.clone(),
        identities,
        rows,
        first_truncate: facts.first_truncate,
        last_truncate: facts.last_truncate,
        unresolved: facts.unchanged_updates > 0,
        removes_keys: facts.removes_keys,
        truncated: facts.last_truncate.is_some(),
    };
    if rows > 0 && !staged.unresolved {
        reduce(tx, &staged, &doing).await?;
    }
    Ok(staged)
}

/// A value the target column can't hold (a data exception, SQLSTATE class 22, such as a label
/// added to a source enum that is longer than the target's `varchar`), found by the COPY into
/// the staging table, which names its own columns (`c<position>`, `b<key>`): the message with
/// the target column and the change's place, and what to do. `None` for other errors.
fn staged_value_error(
    names: &Names,
    facts: &Facts,
    error: &tokio_postgres::Error,
) -> Option<String> {
    let db = error.as_db_error()?;
    if !db.code().code().starts_with("22") {
        return None;
    }
    // "COPY <table>, line <n>, column <c>: ..." (line 1 is the first row).
    let context = db.where_()?;
    let after_line = context.split(", line ").nth(1)?;
    let (line, rest) = after_line.split_once(", column ")?;
    let line: u64 = line.trim().parse().ok()?;
    let staged_column = rest.split(|c: char| c == ':' || c.is_whitespace()).next()?;
    let (column, position) = match staged_column.split_at_checked(1)? {
        ("c", i) => {
            let i = i.parse::<usize>().ok()?;
            (names.columns.get(i)?, Some(i))
        }
        ("b", i) => {
            let i = i.parse::<usize>().ok()?;
            (names.keys.get(i)?, names.key_positions.get(i).copied())
        }
        _ => return None,
    };
    let alter = format!("ALTER TABLE {} ALTER COLUMN {column} TYPE", names.target);
    let fix = match position.and_then(|p| wider_text_type(db, facts.longest.get(p)?)) {
        Some(wider) => format!(
            "give it a type that holds every value of this batch ({alter} {wider}) and run again"
        ),
        None => format!("change its type to one that holds the value ({alter} followed by that type) and run again"),
    };
    Some(format!(
        "column {column}, change row {} of the table in this batch: {}; the target column can't hold the value: {fix}",
        line,
        db.message(),
    ))
}

/// For a string too long for a target `varchar(n)` or `char(n)` (or an array of them: a label
/// added to a source enum the converter made `varchar(n)` of), the same type with the length of
/// the batch's longest value (`Longest`).
fn wider_text_type(db: &tokio_postgres::error::DbError, longest: &Longest) -> Option<String> {
    if db.code() != &tokio_postgres::error::SqlState::STRING_DATA_RIGHT_TRUNCATION {
        return None;
    }
    // "value too long for type character varying(3)"
    let named = db.message().split(" for type ").nth(1)?;
    let base = named.split('(').next()?.trim();
    if !matches!(base, "character varying" | "character") || longest.chars == 0 {
        return None;
    }
    Some(format!(
        "{base}({}){}",
        longest.chars,
        if longest.in_array { "[]" } else { "" }
    ))
}

/// The longest string value (in characters) gathered for a column of a change batch, and whether
/// the target column is an array (whose elements are staged as a JSON array: then the longest
/// element).
#[derive(Debug, Default, Clone, Copy)]
struct Longest {
    chars: usize,
    /// Whether the target column is a `varchar(n)` or `char(n)` (or an array of them): no
    /// other column's values are measured (this runs for every batch).
    tracked: bool,
    in_array: bool,
}

impl Longest {
    /// Takes note of the string values of `array`. Cheap: a value's characters (or elements) are
    /// looked at only when its bytes exceed the longest so far.
    fn observe(&mut self, array: &ArrayRef) {
        use arrow::array::{GenericStringArray, OffsetSizeTrait};
        fn strings<O: OffsetSizeTrait>(
            longest: &mut usize,
            in_array: bool,
            values: &GenericStringArray<O>,
        ) {
            for (i, window) in values.value_offsets().windows(2).enumerate() {
                let bytes = (window[1] - window[0]).as_usize();
                if bytes <= *longest || values.is_null(i) {
                    continue;
                }
                let text = values.value(i);
                let chars = if in_array {
                    serde_json::from_str::<serde_json::Value>(text)
                        .map_or(0, |v| longest_element(&v))
                } else {
                    text.chars().count()
                };
                *longest = (*longest).max(chars);
            }
        }
        if !self.tracked {
            return;
        }
        match array.data_type() {
            DataType::Utf8 => strings(&mut self.chars, self.in_array, array.as_string::<i32>()),
            DataType::LargeUtf8 => {
                strings(&mut self.chars, self.in_array, array.as_string::<i64>())
            }
            _ => {}
        }
    }
}

/// The characters of the longest string in a JSON array (of any depth).
fn longest_element(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::String(s) => s.chars().count(),
        serde_json::Value::Array(items) => items.iter().map(longest_element).max().unwrap_or(0),
        _ => 0,
    }
}

/// What the checks of a table's staged changes found, gathered as they are copied. Each
/// `Option<i64>` is the `__seq` of the first change it applies to.
#[derive(Debug, Default)]
struct Facts {
    last_seq: Option<i64>,
    /// An `__op` other than I, U, D and T.
    unknown_op: Option<i64>,
    /// An update or delete without its before-image key.
    missing_before: Option<i64>,
    /// An `__unchanged` value whose length is not the table's number of columns.
    bad_unchanged: Option<i64>,
    /// An insert or update whose new key has a null that is not "unchanged".
    null_key: Option<i64>,
    first_truncate: Option<i64>,
    last_truncate: Option<i64>,
    /// Updates that left a value unchanged.
    unchanged_updates: u64,
    /// Inserts or updates captured before a column was added ([`ADDED_SINCE_MARK`]).
    added_since: bool,
    /// Per column of the table, its longest string value: a value too long for the target
    /// column is then met with the type that holds it.
    longest: Vec<Longest>,
    /// A delete, or an update whose before-image key may differ from its new one.
    removes_keys: bool,
    /// The batch being copied, and the rows of the batches copied before it: a value the target
    /// can't hold is named by its row's key.
    copying: Option<RecordBatch>,
    copied: u64,
}

impl Facts {
    /// Takes note of one record batch of [`staged_change_schema`] (`keys`: the key columns'
    /// positions in the table of `columns` columns). Errs when `__seq` does not increase.
    fn observe(
        &mut self,
        batch: &RecordBatch,
        keys: &[usize],
        columns: usize,
    ) -> Result<(), String> {
        let seqs = batch.column(0).as_primitive::<Int64Type>();
        if seqs.null_count() > 0 {
            return Err(format!("{SEQ_COLUMN} is null in a change row"));
        }
        let ops = batch.column(1).as_string::<i32>();
        let unchanged = batch.column(2).as_string::<i32>();
        let before: Vec<&ArrayRef> = (0..keys.len()).map(|i| batch.column(3 + i)).collect();
        let after: Vec<&ArrayRef> = keys
            .iter()
            .map(|p| batch.column(3 + keys.len() + p))
            .collect();
        // Per row: whether its before-image key is distinct from its new one (NULLs compare
        // as values). A key type the kernel can't compare counts as distinct.
        self.longest.resize(columns, Longest::default());
        for (p, longest) in self.longest.iter_mut().enumerate() {
            if let Some(array) = batch.columns().get(3 + keys.len() + p) {
                longest.observe(array);
            }
        }
        let mut moved = vec![false; batch.num_rows()];
        for (b, a) in before.iter().zip(&after) {
            match distinct(b, a) {
                Ok(flags) => {
                    for (row, flag) in flags.iter().enumerate() {
                        moved[row] |= flag.unwrap_or(true);
                    }
                }
                Err(_) => moved.iter_mut().for_each(|m| *m = true),
            }
        }
        let first = |slot: &mut Option<i64>, seq: i64| {
            slot.get_or_insert(seq);
        };
        for (row, &seq) in seqs.values().iter().enumerate() {
            if self.last_seq.is_some_and(|last| seq <= last) {
                return Err(format!(
                    "{SEQ_COLUMN} must increase strictly in source order, but {seq} follows {}",
                    self.last_seq.unwrap_or_default()
                ));
            }
            self.last_seq = Some(seq);
            let op = ops.is_valid(row).then(|| ops.value(row));
            let unch = unchanged.is_valid(row).then(|| unchanged.value(row));
            if unch.is_some_and(|u| u.chars().count() != columns) {
                first(&mut self.bad_unchanged, seq);
            }
            match op {
                Some("I" | "U") => {
                    let key_unchanged =
                        |p: usize| unch.is_some_and(|u| u.chars().nth(p) == Some('1'));
                    if after
                        .iter()
                        .zip(keys)
                        .any(|(a, &p)| a.is_null(row) && !key_unchanged(p))
                    {
                        first(&mut self.null_key, seq);
                    }
                }
                Some("D") => self.removes_keys = true,
                Some("T") => {
                    first(&mut self.first_truncate, seq);
                    self.last_truncate = Some(seq);
                }
                _ => first(&mut self.unknown_op, seq),
            }
            if matches!(op, Some("U" | "D")) && before.iter().any(|b| b.is_null(row)) {
                first(&mut self.missing_before, seq);
            }
            if matches!(op, Some("I" | "U")) && unch.is_some_and(|u| u.contains(ADDED_SINCE_MARK)) {
                self.added_since = true;
            }
            if op == Some("U") {
                self.removes_keys |= moved[row];
                if unch.is_some_and(|u| u.contains('1')) {
                    self.unchanged_updates += 1;
                }
            }
        }
        if let Some(previous) = self.copying.replace(batch.clone()) {
            self.copied += previous.num_rows() as u64;
        }
        Ok(())
    }

    /// `id=7`: the key (`names`, at `positions` in the table) of change row `row` (counting from
    /// 0 over the table's changes) from its new image, or its before-image for a delete; `None`
    /// when the row is not in the batch being copied.
    fn key_of(&self, row: u64, names: &[String], positions: &[usize]) -> Option<String> {
        let batch = self.copying.as_ref()?;
        let at = usize::try_from(row.checked_sub(self.copied)?).ok()?;
        if at >= batch.num_rows() {
            return None;
        }
        let deleted = batch.column(1).as_string::<i32>().value(at) == "D";
        let columns = names
            .iter()
            .zip(positions)
            .enumerate()
            .map(|(i, (name, &position))| {
                let column = if deleted {
                    3 + i
                } else {
                    3 + positions.len() + position
                };
                (name.as_str(), batch.column(column))
            });
        Some(crate::key_text(columns, at))
    }
}

/// Gives the staged inserts and updates captured before a column was added
/// ([`ADDED_SINCE_MARK`]) the value the source gave existing rows: the target column's default,
/// which the schema change added it with (NULL without one); the marks become `0`.
async fn fill_added_since(
    tx: &Transaction<'_>,
    names: &Names,
    doing: &impl Fn(&str) -> String,
) -> Result<(), WarehouseError> {
    let db = |what: &str| WarehouseError::database(doing(what));
    let staged = &names.staged;
    let mark = ADDED_SINCE_MARK;
    let positions: Vec<i32> = tx
        .query(
            &format!(
                "SELECT DISTINCT p FROM {staged}, generate_series(1, length(unch)) p \
                  WHERE op IN ('I', 'U') AND strpos(unch, '{mark}') > 0 AND substr(unch, p, 1) = '{mark}' ORDER BY p"
            ),
            &[],
        )
        .await
        .map_err(db("finding the columns added since changes were captured"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for pos in positions {
        let column = names
            .columns
            .get(pos as usize - 1)
            .ok_or_else(|| WarehouseError::Schema {
                table: names.target.clone(),
                message: format!(
                    "a change marks column {pos} as added since, but the table has {} columns",
                    names.columns.len()
                ),
            })?;
        // The identifier as the target stores it, matched as SQL (quoted or not).
        let default: Option<String> = tx
            .query_opt(
                "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a \
                   JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                  WHERE a.attrelid = $1::text::regclass AND NOT a.attisdropped \
                    AND $2 IN (quote_ident(a.attname), '\"' || replace(a.attname, '\"', '\"\"') || '\"')",
                &[&names.target, column],
            )
            .await
            .map_err(db(&format!("reading the default of column {column}")))?
            .map(|row| row.get(0));
        let value = default.as_deref().unwrap_or("NULL");
        tx.execute(
            &format!(
                "UPDATE {staged} SET c{i} = {value}, unch = overlay(unch placing '0' from {pos} for 1) \
                  WHERE op IN ('I', 'U') AND substr(unch, {pos}, 1) = '{mark}'",
                i = pos - 1
            ),
            &[],
        )
        .await
        .map_err(db(&format!(
            "giving column {column} its default in the changes captured before it was added"
        )))?;
    }
    // Deletes carry no after-image; a mark left there means nothing.
    tx.execute(
        &format!("UPDATE {staged} SET unch = NULLIF(translate(unch, '{mark}', '0'), repeat('0', length(unch))) WHERE strpos(unch, '{mark}') > 0"),
        &[],
    )
    .await
    .map_err(db("clearing the added-column marks"))?;
    Ok(())
}

/// Fills a staged table's unchanged values (from the target as it is now: the previous batch
/// must be durable) and reduces its changes to the net change per key.
async fn resolve_and_reduce(
    tx: &Transaction<'_>,
    staged: &StagedTable,
    sequence: u64,
) -> Result<(), WarehouseError> {
    let names = &staged.names;
    let target = &names.target;
    let doing = |what: &str| format!("applying change batch {sequence} to table {target}: {what}");
    let change_error = |message: String| WarehouseError::Change {
        table: target.clone(),
        sequence,
        message,
    };
    // Only the joins that fill unchanged values need the staged changes' statistics.
    tx.batch_execute(&format!("ANALYZE {}", names.staged))
        .await
        .map_err(WarehouseError::database(doing(
            "analyzing the staged changes",
        )))?;
    resolve_unchanged(
        tx,
        names,
        &staged.table,
        staged.first_truncate,
        &change_error,
        &doing,
    )
    .await?;
    reduce(tx, staged, &doing).await
}

/// Reduces a staged table's changes to its net table: the last change of each key after the
/// last truncate, present (its image is the row) or absent (deleted, or moved to another key).
async fn reduce(
    tx: &Transaction<'_>,
    staged: &StagedTable,
    doing: &impl Fn(&str) -> String,
) -> Result<(), WarehouseError> {
    let names = &staged.names;
    let after = names.after_keys.join(", ");
    let since = staged
        .last_truncate
        .map_or(String::new(), |t| format!(" AND seq > {t}"));
    // The net table carries the final images too: the INSERT then reads it alone (measured
    // faster than joining it back to the staged changes). Removed keys' images are NULLs,
    // typed by the first branch of the UNION.
    let images: Vec<String> = (0..names.columns.len())
        .filter(|i| !names.key_positions.contains(i))
        .map(|i| format!("c{i}"))
        .collect();
    let image_list: String = images.iter().map(|c| format!(", {c}")).collect();
    let removed = if staged.removes_keys {
        let before_as_after = names
            .before_keys
            .iter()
            .zip(&names.after_keys)
            .map(|(b, a)| format!("{b} AS {a}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            " UNION ALL SELECT {before_as_after}, seq, false{nulls} FROM {staged} \
               WHERE (op = 'D' OR (op = 'U' AND {before_row} IS DISTINCT FROM {after_row})){since}",
            nulls = ", NULL".repeat(images.len()),
            staged = names.staged,
            before_row = row_of(&names.staged, &names.before_keys),
            after_row = row_of(&names.staged, &names.after_keys),
        )
    } else {
        // No change removes a key (the second scan of the staged changes is saved).
        String::new()
    };
    tx.batch_execute(&format!(
        "CREATE UNLOGGED TABLE {net} AS \
         SELECT DISTINCT ON ({after}) {after}, seq, present{image_list} FROM ( \
             SELECT {after}, seq, true AS present{image_list} FROM {staged} WHERE op IN ('I', 'U'){since}{removed} \
         ) changes ORDER BY {after}, seq DESC; \
         ANALYZE {net}",
        net = names.net,
        staged = names.staged,
    ))
    .await
    .map_err(WarehouseError::database(doing(
        "reducing the changes to the net change per key",
    )))
}

/// Drops a batch's staging tables.
async fn drop_staged(
    client: &tokio_postgres::Client,
    tables: &[StagedTable],
    doing: &impl Fn(&str) -> String,
) -> Result<(), WarehouseError> {
    let drops: String = tables
        .iter()
        .flat_map(|t| [Some(t.names.staged.as_str()), t.net()])
        .flatten()
        .map(|name| format!("DROP TABLE IF EXISTS {name};"))
        .collect();
    client
        .batch_execute(&drops)
        .await
        .map_err(WarehouseError::database(doing(
            "dropping the staged changes",
        )))
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
        // A merge join scans the target's key index from its first key, not from the share's:
        // a share that starts at the middle would read half the index for nothing. The bound
        // on the first key column starts the scan at the share's first key.
        let start = match range {
            Some(range) if range.blocks().0.is_some() => format!(
                " AND t.{} >= (SELECT min(s.{}) FROM {net} s WHERE true{})",
                names.keys[0],
                names.after_keys[0],
                range.filter("s")
            ),
            _ => String::new(),
        };
        deleted = client
            .execute(
                &format!(
                    "DELETE FROM {target} t USING {net} n WHERE {}{}{start}",
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

/// Moves a staged table's identity sequences past the values of the batch's final images. Runs
/// on the connection that advances the checkpoint, once the batch's net changes are resolved.
async fn advance_table_identities(
    client: &impl GenericClient,
    table: &StagedTable,
    sequence: u64,
) -> Result<(), WarehouseError> {
    let Some(net) = table.net() else {
        return Ok(());
    };
    advance_identities(
        client,
        &table.identities,
        &format!("{net} WHERE present"),
        |position| format!("c{position}"),
        &format!(
            "applying change batch {sequence} to table {}",
            table.names.target
        ),
    )
    .await
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
