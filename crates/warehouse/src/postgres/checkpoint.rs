//! The checkpoint table: one row per chunk made durable, written in the chunk's own transaction.

use super::identity::{advance_identities, identity_sequences};
use super::{target_column, target_name, PostgresWarehouse};
use crate::WarehouseError;
use migrate_core::Table;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tokio_postgres::GenericClient;

/// The tables of schema `migrate` that [`CREATE_TABLES_SQL`] creates.
const TABLES: [&str; 4] = migrate_core::BOOKKEEPING_TABLES;

/// Creates `migrate.migrate_checkpoint`, `migrate.migrate_table_state`,
/// `migrate.migrate_cdc_checkpoint` (one row per task: the last change batch applied) and
/// `migrate.migrate_cdc_table`. The checkpoint's primary key is what makes a chunk load at most
/// once even if two loaders race; `checksum` is left NULL by the load and may be filled by
/// validation.
const CREATE_TABLES_SQL: &str = "CREATE TABLE IF NOT EXISTS migrate.migrate_checkpoint (
    task text NOT NULL,
    source_table text NOT NULL,
    chunk bigint NOT NULL,
    rows bigint NOT NULL,
    checksum text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task, source_table, chunk)
);
CREATE TABLE IF NOT EXISTS migrate.migrate_table_state (
    task text NOT NULL,
    source_table text NOT NULL,
    fingerprint text NOT NULL,
    plan text NOT NULL,
    prepared_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (task, source_table)
);
CREATE TABLE IF NOT EXISTS migrate.migrate_cdc_checkpoint (
    task text PRIMARY KEY,
    sequence bigint NOT NULL,
    position text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    source_committed_at timestamptz
);
CREATE TABLE IF NOT EXISTS migrate.migrate_cdc_table (
    task text NOT NULL,
    source_table text NOT NULL,
    definition text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task, source_table)
)";

/// What a task recorded about one table when it started loading it: the durable half of resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableState {
    /// Identifies the load plan (mapping, chunking); a resumed load must have the same one.
    pub fingerprint: String,
    /// The plan itself (the caller's format, e.g. JSON with every chunk's bounds), so that a
    /// resumed load reuses exactly the chunks it started with.
    pub plan: String,
    /// When the table was prepared, as PostgreSQL text in UTC.
    pub prepared_at: String,
    /// When every chunk was loaded, if so.
    pub completed_at: Option<String>,
}

/// How a source table is named in the checkpoint table: its qualified name as written in the source.
pub(crate) fn source_table_key(table: &Table) -> String {
    table.name.to_string()
}

/// Creates what is missing of schema `migrate` and its tables. Only what is missing: PostgreSQL
/// checks the privilege of `CREATE SCHEMA IF NOT EXISTS` (CREATE on the database) and of
/// `CREATE TABLE IF NOT EXISTS` (CREATE on the schema) before it looks for the object, so a user
/// whose administrator made the schema and tables for it could not connect otherwise.
pub(crate) async fn ensure_table(client: &impl GenericClient) -> Result<(), WarehouseError> {
    let doing = "looking for the checkpoint tables in schema migrate";
    let found = client
        .query_one(
            "SELECT to_regnamespace('migrate') IS NOT NULL, \
                    (SELECT count(*) FROM pg_catalog.pg_tables \
                      WHERE schemaname = 'migrate' AND tablename = ANY($1))",
            &[&TABLES.as_slice()],
        )
        .await
        .map_err(WarehouseError::database(doing))?;
    let (schema_exists, tables_found): (bool, i64) = (found.get(0), found.get(1));
    if tables_found == TABLES.len() as i64 {
        return Ok(());
    }
    let sql = if schema_exists {
        CREATE_TABLES_SQL.to_string()
    } else {
        format!("CREATE SCHEMA IF NOT EXISTS migrate;\n{CREATE_TABLES_SQL}")
    };
    client.batch_execute(&sql).await.map_err(|source| {
        // The hint only where it is the cause: a broken connection is retried, not a grant.
        let hint =
            if source.code() != Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) {
                ""
            } else if schema_exists {
                " (the user needs CREATE on schema migrate, or its tables made for it)"
            } else {
                " (the user needs CREATE on the database, or schema migrate made for it)"
            };
        WarehouseError::database(format!(
            "creating the checkpoint tables in schema migrate{hint}"
        ))(source)
    })
}

/// Serialises loaders of one chunk until the end of the transaction, then returns the rows the
/// chunk was loaded with, if it already was.
pub(crate) async fn lock_and_find(
    client: &impl GenericClient,
    task: &str,
    source_table: &str,
    chunk: u32,
) -> Result<Option<u64>, WarehouseError> {
    let doing = || format!("checking the checkpoint of table {source_table}, chunk {chunk}");
    client
        .execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(1) || $2 || chr(1) || $3::bigint::text, 0))",
            &[&task, &source_table, &i64::from(chunk)],
        )
        .await
        .map_err(WarehouseError::database(doing()))?;
    let row = client
        .query_opt(
            "SELECT rows FROM migrate.migrate_checkpoint WHERE task = $1 AND source_table = $2 AND chunk = $3",
            &[&task, &source_table, &i64::from(chunk)],
        )
        .await
        .map_err(WarehouseError::database(doing()))?;
    Ok(row.map(|row| row.get::<_, i64>(0) as u64))
}

pub(crate) async fn insert(
    client: &impl GenericClient,
    task: &str,
    source_table: &str,
    chunk: u32,
    rows: u64,
) -> Result<(), WarehouseError> {
    client
        .execute(
            "INSERT INTO migrate.migrate_checkpoint (task, source_table, chunk, rows, checksum, loaded_at) \
             VALUES ($1, $2, $3, $4, NULL, now())",
            &[&task, &source_table, &i64::from(chunk), &(rows as i64)],
        )
        .await
        .map(drop)
        .map_err(WarehouseError::database(format!(
            "recording the checkpoint of table {source_table}, chunk {chunk}"
        )))
}

/// Forgets every chunk and table state of `source_table`, for every task: used when its target
/// rows are removed, so that no task resumes as if they were there.
pub(crate) async fn forget_table(
    client: &impl GenericClient,
    source_table: &str,
) -> Result<(), WarehouseError> {
    client
        .batch_execute(&format!(
            "DELETE FROM migrate.migrate_checkpoint WHERE source_table = {key};
             DELETE FROM migrate.migrate_table_state WHERE source_table = {key};",
            key = literal(source_table)
        ))
        .await
        .map_err(WarehouseError::database(format!(
            "clearing the checkpoints of table {source_table}"
        )))
}

/// A string literal (standard_conforming_strings is on since PostgreSQL 9.1).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl PostgresWarehouse {
    /// The chunks of `table` that `task` has made durable (committed with their rows). A resumed
    /// load skips exactly these; any other chunk has no rows in the target.
    pub async fn completed_chunks(
        &self,
        task: &str,
        table: &Table,
    ) -> Result<BTreeSet<u32>, WarehouseError> {
        let source_table = source_table_key(table);
        let client = self.client.lock().await;
        let rows = client
            .query(
                "SELECT chunk FROM migrate.migrate_checkpoint WHERE task = $1 AND source_table = $2",
                &[&task, &source_table],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "reading the checkpoints of table {source_table}"
            )))?;
        // Only this crate writes the table, and only from `u32`s.
        Ok(rows
            .iter()
            .filter_map(|row| u32::try_from(row.get::<_, i64>(0)).ok())
            .collect())
    }
}

impl PostgresWarehouse {
    /// The state `task` recorded for `table` with [`PostgresWarehouse::start_table`], if any.
    /// None also when the target table is gone (dropped since, to load it again): its recorded
    /// chunks hold no rows any more, and a resume that trusted them would load nothing.
    pub async fn table_state(
        &self,
        task: &str,
        table: &Table,
    ) -> Result<Option<TableState>, WarehouseError> {
        let source_table = source_table_key(table);
        let target = target_name(table);
        let client = self.client.lock().await;
        let row = client
            .query_opt(
                "SELECT fingerprint, plan, prepared_at::text, completed_at::text, \
                        to_regclass($3) IS NOT NULL \
                   FROM migrate.migrate_table_state WHERE task = $1 AND source_table = $2",
                &[&task, &source_table, &target],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "reading the state of table {source_table}"
            )))?;
        let Some(row) = row else { return Ok(None) };
        if !row.get::<_, bool>(4) {
            tracing::warn!(
                "{target}: task {task} recorded a load of it, but the table is gone from the target: it is loaded again"
            );
            return Ok(None);
        }
        Ok(Some(TableState {
            fingerprint: row.get(0),
            plan: row.get(1),
            prepared_at: row.get(2),
            completed_at: row.get(3),
        }))
    }

    /// Records that `task` starts loading `table` (already prepared) with `plan`, in one
    /// transaction that also forgets the task's earlier checkpoints of the table: from the
    /// commit on, [`PostgresWarehouse::completed_chunks`] answers for this plan only.
    ///
    /// **Durability**: call it after `prepare` and before the first chunk loads. A crash before
    /// its commit leaves no state (a new run prepares again, harmless since no chunk was
    /// loaded); after it, a resumed run must not prepare again (that could remove loaded chunks).
    pub async fn start_table(
        &self,
        task: &str,
        table: &Table,
        fingerprint: &str,
        plan: &str,
    ) -> Result<(), WarehouseError> {
        let source_table = source_table_key(table);
        let doing = |what: &str| format!("recording the start of table {source_table}: {what}");
        let mut client = self.client.lock().await;
        let tx = client
            .transaction()
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        tx.execute(
            "DELETE FROM migrate.migrate_checkpoint WHERE task = $1 AND source_table = $2",
            &[&task, &source_table],
        )
        .await
        .map_err(WarehouseError::database(doing(
            "forgetting old checkpoints",
        )))?;
        tx.execute(
            "INSERT INTO migrate.migrate_table_state (task, source_table, fingerprint, plan) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (task, source_table) DO UPDATE SET fingerprint = excluded.fingerprint, \
                 plan = excluded.plan, prepared_at = now(), completed_at = NULL",
            &[&task, &source_table, &fingerprint, &plan],
        )
        .await
        .map_err(WarehouseError::database(doing("INSERT")))?;
        tx.commit()
            .await
            .map_err(WarehouseError::database(doing("COMMIT")))
    }

    /// Whether the connection is gone (the server restarted, the session was terminated): a
    /// pool replaces such a connection with a new one before retrying.
    pub async fn is_closed(&self) -> bool {
        self.client.lock().await.is_closed()
    }

    /// Takes the session-level lock of `task` on this connection, waiting up to `wait` while
    /// another session holds it: `false` when it still does then (another run of the task is
    /// going on). Held until this connection closes.
    ///
    /// Why wait: a run that was killed leaves its sessions to the server, which ends them (and
    /// frees the lock) only when their statement in progress ends and the next write to the dead
    /// client fails; a run restarted right away would otherwise be refused.
    pub async fn lock_task(&self, task: &str, wait: Duration) -> Result<bool, WarehouseError> {
        let deadline = Instant::now() + wait;
        let mut told = false;
        loop {
            let row = self
                .client
                .lock()
                .await
                .query_one(
                    "SELECT pg_try_advisory_lock(hashtextextended('migrate task ' || $1, 0))",
                    &[&task],
                )
                .await
                .map_err(WarehouseError::database(format!("locking task {task}")))?;
            if row.get(0) {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            if !told {
                told = true;
                tracing::info!(task, wait_seconds = wait.as_secs(), "another session holds the task's lock (a run still going, or a killed run's session the server has not ended yet): waiting for it");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The server's `max_prepared_transactions`: how many transactions may wait in two-phase
    /// commit at once (0: none).
    pub async fn max_prepared_transactions(&self) -> Result<u64, WarehouseError> {
        let client = self.client.lock().await;
        let row = client
            .query_one(
                "SELECT current_setting('max_prepared_transactions')::int8",
                &[],
            )
            .await
            .map_err(WarehouseError::database(
                "reading max_prepared_transactions".to_string(),
            ))?;
        Ok(row.get::<_, i64>(0).max(0) as u64)
    }

    /// The rows of the chunks of `table` that `task` has made durable (the sum of their
    /// checkpoints).
    pub async fn loaded_rows(&self, task: &str, table: &Table) -> Result<u64, WarehouseError> {
        let source_table = source_table_key(table);
        let client = self.client.lock().await;
        let row = client
            .query_one(
                "SELECT coalesce(sum(rows), 0)::int8 FROM migrate.migrate_checkpoint \
                  WHERE task = $1 AND source_table = $2",
                &[&task, &source_table],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "reading the checkpoints of table {source_table}"
            )))?;
        // Only this crate writes the table, and only from `u64`s.
        Ok(row.get::<_, i64>(0).max(0) as u64)
    }

    /// Records that every chunk of `table` is loaded for `task`, after moving the table's
    /// identity sequences past the values loaded (see the `identity` module).
    pub async fn complete_table(&self, task: &str, table: &Table) -> Result<(), WarehouseError> {
        let source_table = source_table_key(table);
        let target = target_name(table);
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| target_column(&c.name))
            .collect();
        let client = self.client.lock().await;
        let identities = identity_sequences(&*client, &target, &columns).await?;
        advance_identities(
            &*client,
            &identities,
            &target,
            |position| columns[position].clone(),
            &format!("completing the load of table {target}"),
        )
        .await?;
        client
            .execute(
                "UPDATE migrate.migrate_table_state SET completed_at = now() \
                  WHERE task = $1 AND source_table = $2",
                &[&task, &source_table],
            )
            .await
            .map(drop)
            .map_err(WarehouseError::database(format!(
                "recording the end of table {source_table}"
            )))
    }
}
