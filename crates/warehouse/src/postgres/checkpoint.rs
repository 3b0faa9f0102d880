//! The checkpoint table: one row per chunk made durable, written in the chunk's own transaction.

use super::PostgresWarehouse;
use crate::WarehouseError;
use migrate_core::Table;
use std::collections::BTreeSet;
use tokio_postgres::GenericClient;

/// Creates `migrate.migrate_checkpoint`. The primary key is what makes a chunk load at most once
/// even if two loaders race; `checksum` is left NULL by the load and may be filled by validation.
pub(crate) const CREATE_SQL: &str = "CREATE SCHEMA IF NOT EXISTS migrate;
CREATE TABLE IF NOT EXISTS migrate.migrate_checkpoint (
    task text NOT NULL,
    source_table text NOT NULL,
    chunk bigint NOT NULL,
    rows bigint NOT NULL,
    checksum text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task, source_table, chunk)
)";

/// How a source table is named in the checkpoint table: its qualified name as written in the source.
pub(crate) fn source_table_key(table: &Table) -> String {
    table.name.to_string()
}

pub(crate) async fn ensure_table(client: &impl GenericClient) -> Result<(), WarehouseError> {
    client
        .batch_execute(CREATE_SQL)
        .await
        .map_err(WarehouseError::database(
            "creating the checkpoint table migrate.migrate_checkpoint (the user needs CREATE on the database)",
        ))
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

/// Forgets every chunk of `source_table`, for every task: used when its target rows are removed.
pub(crate) async fn forget_table(
    client: &impl GenericClient,
    source_table: &str,
) -> Result<(), WarehouseError> {
    client
        .execute(
            "DELETE FROM migrate.migrate_checkpoint WHERE source_table = $1",
            &[&source_table],
        )
        .await
        .map(drop)
        .map_err(WarehouseError::database(format!(
            "clearing the checkpoints of table {source_table}"
        )))
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
