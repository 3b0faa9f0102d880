//! Row counts, per-chunk checksums and row hashes computed in the target database, to compare
//! with the source's: the one definition of `migrate_checksum`, over the columns the converter
//! created.

use super::{target_column, target_name, PostgresWarehouse};
use crate::WarehouseError;
use migrate_checksum::{
    checksum_sql, postgres_functions, row_hashes_sql, ChecksumColumn, ChunkChecksum, Engine,
    JsonText,
};
use migrate_core::{Ident, Table, TargetDialect};
use migrate_source::KeyedHash;
use migrate_sqlrewrite::target_ident;

/// Every column of the target table of `table`, in table order, by its converted name, with the
/// canonical type it was loaded from (spatial columns hold WKB in BYTEA, which the checksum
/// takes), `json` values written as `json`.
fn checksum_columns(table: &Table, json: JsonText) -> Vec<ChecksumColumn> {
    table
        .columns
        .iter()
        .map(|c| ChecksumColumn::new(target_column(&c.name), c.data_type.clone()).with_json(json))
        .collect()
}

/// The columns named `key` (target names; folded like the converter folds them) among `columns`,
/// the [`checksum_columns`] of `table`.
fn key_columns(
    table: &Table,
    columns: &[ChecksumColumn],
    key: &[&str],
) -> Result<Vec<ChecksumColumn>, WarehouseError> {
    key.iter()
        .map(|name| {
            let wanted = target_ident(name, false, TargetDialect::Postgres).sql;
            columns
                .iter()
                .find(|c| c.sql == wanted || c.sql == target_column(&Ident::new(*name)))
                .cloned()
                .ok_or_else(|| WarehouseError::Schema {
                    table: target_name(table),
                    message: format!(
                        "no column {name} for the row hashes' key; the table has {}",
                        columns
                            .iter()
                            .map(|c| c.sql.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
        })
        .collect()
}

/// Defines the session functions the checksum queries over `columns` call, if any.
async fn define_functions(
    client: &tokio_postgres::Client,
    columns: &[ChecksumColumn],
    doing: &str,
) -> Result<(), WarehouseError> {
    let Some(functions) = postgres_functions(columns) else {
        return Ok(());
    };
    client
        .batch_execute(functions)
        .await
        .map_err(WarehouseError::database(format!(
            "{doing}: defining the checksum's session functions (they need the TEMPORARY privilege on the database)"
        )))
}

impl PostgresWarehouse {
    /// Rows in the target table of `table`.
    pub async fn row_count(&self, table: &Table) -> Result<i64, WarehouseError> {
        let name = target_name(table);
        let client = self.client.lock().await;
        let row = client
            .query_one(&format!("SELECT count(*)::bigint FROM {name}"), &[])
            .await
            .map_err(WarehouseError::database(format!(
                "counting the rows of {name}"
            )))?;
        Ok(row.get(0))
    }

    /// The row count and checksum (`migrate_checksum`) of the rows of the target table of
    /// `table` matching `predicate` (SQL over the target's columns, e.g. `id >= 1 AND id < 1001`;
    /// empty for every row), over every column in table order, `json` values written as `json`
    /// (the source snapshot's [`migrate_source::Snapshot::json_text`]). `table` is the definition
    /// the table was loaded with: its columns' types are the canonical types of the loaded values.
    ///
    /// Consistency: reads committed data (each chunk load commits with its checkpoint).
    pub async fn chunk_checksum(
        &self,
        table: &Table,
        predicate: &str,
        json: JsonText,
    ) -> Result<ChunkChecksum, WarehouseError> {
        let name = target_name(table);
        let doing = format!("computing the checksum of {name} where {predicate}");
        let columns = checksum_columns(table, json);
        let sql = checksum_sql(Engine::Postgres, &name, &columns, predicate);
        let client = self.client.lock().await;
        define_functions(&client, &columns, &doing).await?;
        let row = client
            .query_one(&sql, &[])
            .await
            .map_err(WarehouseError::database(doing.clone()))?;
        let rows: i64 = row
            .try_get(0)
            .map_err(WarehouseError::database(doing.clone()))?;
        let sum_a: &str = row
            .try_get(1)
            .map_err(WarehouseError::database(doing.clone()))?;
        let sum_b: &str = row.try_get(2).map_err(WarehouseError::database(doing))?;
        ChunkChecksum::from_sql_text(rows, sum_a, sum_b).map_err(|message| WarehouseError::Schema {
            table: name,
            message: format!("the checksum query returned {message}"),
        })
    }

    /// Each row's key text and hash (the hash [`PostgresWarehouse::chunk_checksum`] sums) for
    /// the rows matching `predicate`, ordered by the key text's bytes: compared with the
    /// source's row hashes, the rows behind a checksum mismatch. `key` are target column names.
    ///
    /// Memory: one [`KeyedHash`] per matching row; narrow `predicate` to a chunk.
    pub async fn row_hashes(
        &self,
        table: &Table,
        key: &[&str],
        predicate: &str,
        json: JsonText,
    ) -> Result<Vec<KeyedHash>, WarehouseError> {
        let name = target_name(table);
        let doing = format!("listing the row hashes of {name} where {predicate}");
        let columns = checksum_columns(table, json);
        let sql = row_hashes_sql(
            Engine::Postgres,
            &name,
            &key_columns(table, &columns, key)?,
            &columns,
            predicate,
        );
        let client = self.client.lock().await;
        // The key columns are among `columns`.
        define_functions(&client, &columns, &doing).await?;
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(WarehouseError::database(doing.clone()))?;
        rows.iter()
            .map(|row| {
                Ok(KeyedHash {
                    key: row
                        .try_get(0)
                        .map_err(WarehouseError::database(doing.clone()))?,
                    hash: row
                        .try_get(1)
                        .map_err(WarehouseError::database(doing.clone()))?,
                })
            })
            .collect()
    }
}
