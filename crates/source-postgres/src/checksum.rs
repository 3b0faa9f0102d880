//! Checksums and row hashes computed in the database, by the one definition of
//! `migrate_checksum` (see that crate for what is hashed and how): comparable with a PostgreSQL
//! or MySQL target's.

use crate::read::plan_columns;
use crate::sql::{own_rows_of, quote_ident};
use crate::{Chunk, PostgresSource, SourceError, SESSION_SETTINGS};
use futures::stream::{BoxStream, StreamExt};
use futures::TryFutureExt;
use migrate_checksum::{checksum_sql, row_hashes_sql, ChecksumColumn, ChunkChecksum, Engine};
use migrate_core::{LogicalType, Table};
use migrate_source::KeyedHash;
use tokio_postgres::Client;

/// The row count and checksum of the rows of `from_sql` (a table name as SQL, `"s"."t"`, or an
/// aliased subquery) matching `predicate` (SQL; empty for every row), over `columns`, in one
/// query. Applies [`SESSION_SETTINGS`] on `client`'s session first.
///
/// Consistency: sees what the client's current transaction (or statement) sees; call it inside a
/// transaction that imported the load's snapshot to compare with what was read.
pub async fn chunk_checksum(
    client: &Client,
    from_sql: &str,
    columns: &[ChecksumColumn],
    predicate: &str,
) -> Result<ChunkChecksum, SourceError> {
    let context = format!("computing the checksum of {from_sql} where {predicate}");
    client
        .batch_execute(SESSION_SETTINGS)
        .await
        .map_err(SourceError::query(context.clone()))?;
    let sql = checksum_sql(Engine::Postgres, from_sql, columns, predicate);
    let row = client
        .query_one(&sql, &[])
        .await
        .map_err(SourceError::query(context.clone()))?;
    let protocol = |message: String| SourceError::Protocol {
        context: context.clone(),
        message,
    };
    let rows: i64 = row.try_get(0).map_err(|e| protocol(e.to_string()))?;
    let sum_a: &str = row.try_get(1).map_err(|e| protocol(e.to_string()))?;
    let sum_b: &str = row.try_get(2).map_err(|e| protocol(e.to_string()))?;
    ChunkChecksum::from_sql_text(rows, sum_a, sum_b).map_err(protocol)
}

/// Each row's key text and hash (the hash [`chunk_checksum`] sums) for the rows of `from_sql`
/// matching `predicate`, ordered by the key text's bytes: the rows behind a checksum mismatch.
/// Applies [`SESSION_SETTINGS`] first. Streams: memory is one row (the server sorts).
///
/// Consistency: as [`chunk_checksum`].
pub fn row_hashes<'a>(
    client: &'a Client,
    from_sql: &str,
    key: &[ChecksumColumn],
    columns: &[ChecksumColumn],
    predicate: &str,
) -> BoxStream<'a, Result<KeyedHash, SourceError>> {
    let sql = row_hashes_sql(Engine::Postgres, from_sql, key, columns, predicate);
    let context = format!("listing the row hashes of {from_sql} where {predicate}");
    async move {
        client
            .batch_execute(SESSION_SETTINGS)
            .await
            .map_err(SourceError::query(context.clone()))?;
        let rows = client
            .query_raw(&sql, std::iter::empty::<i32>())
            .await
            .map_err(SourceError::query(context.clone()))?;
        Ok(rows.map(move |row| {
            let row = row.map_err(SourceError::query(context.clone()))?;
            let text = |i: usize| {
                row.try_get::<_, String>(i)
                    .map_err(|e| SourceError::Protocol {
                        context: context.clone(),
                        message: e.to_string(),
                    })
            };
            Ok(KeyedHash {
                key: text(0)?,
                hash: text(1)?,
            })
        }))
    }
    .try_flatten_stream()
    .boxed()
}

/// The checksum column of one value: `selected` (SQL), what the reader selects for it (so money
/// is its `numeric`, an inet its text, a point its WKB, as loaded), except for the types whose
/// canonical text `migrate_checksum` computes from the value itself (arrays, composites, JSON):
/// `stored` (SQL), the value as stored. Spatial values are hashed from the WKB the reader
/// selects (`migrate_checksum` takes their WKB in PostgreSQL).
pub(crate) fn checksum_column(
    selected: String,
    stored: String,
    data_type: &LogicalType,
) -> ChecksumColumn {
    let sql = match data_type {
        LogicalType::Array(_)
        | LogicalType::Map(..)
        | LogicalType::Struct(_)
        | LogicalType::Union(_)
        | LogicalType::Json => stored,
        _ => selected,
    };
    ChecksumColumn::new(sql, data_type.clone())
}

/// The checksum columns of `table` ([`checksum_column`] of each).
pub async fn checksum_columns(
    client: &Client,
    table: &Table,
) -> Result<Vec<ChecksumColumn>, SourceError> {
    Ok(plan_columns(client, table)
        .await?
        .into_iter()
        .zip(&table.columns)
        .map(|(read, column)| {
            checksum_column(
                read.expr,
                quote_ident(&column.name.value),
                &column.data_type,
            )
        })
        .collect())
}

impl PostgresSource {
    /// The checksum of one chunk of `table`, every column, computed in the database.
    /// Outside a transaction: it sees the latest committed data, not a snapshot.
    pub async fn checksum(
        &self,
        table: &Table,
        chunk: &Chunk,
    ) -> Result<ChunkChecksum, SourceError> {
        let columns = checksum_columns(&self.client, table).await?;
        chunk_checksum(
            &self.client,
            &own_rows_of(&self.client, table).await?,
            &columns,
            &crate::chunk_predicate(chunk),
        )
        .await
    }
}
