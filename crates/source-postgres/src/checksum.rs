//! Checksums computed in the database, comparable between a source and a target.
//!
//! The definition, precisely (any PostgreSQL connection can compute it with [`chunk_checksum`]):
//!
//! 1. The session uses [`crate::SESSION_SETTINGS`] (UTC, ISO dates, ISO 8601 intervals, 3 extra
//!    float digits, hex bytea), so that text forms don't depend on server defaults.
//! 2. Each row's text is `ROW(e1::text, ..., en::text)::text`, where `ei` are SQL expressions
//!    giving each column's canonical value (see [`checksum_columns`]). The record syntax
//!    quotes what needs quoting and writes NULL as nothing and '' as `""`, so NULL and empty
//!    text differ and no separator is ambiguous.
//! 3. `h = md5(row text)` (32 hex digits). Two 60-bit numbers are read from it: hex digits 1-15
//!    and 16-30, `('x' || substr(h, 1, 15))::bit(60)::int8` and the same from position 16.
//! 4. The checksum is `"<sum of the first>-<sum of the second>"` over the chunk's rows, in
//!    decimal (`sum(int8)` is numeric in PostgreSQL: no overflow), plus `count(*)`.
//!
//! Sums don't depend on row order (no sort, no key needed) and add up: the checksum of a table
//! is the [`ChunkChecksum::combine`] of its chunks' checksums, so a target that can't use the
//! source's chunk predicates (`ctid` ranges) compares whole tables.

use crate::read::plan_columns;
use crate::sql::table_sql_name;
use crate::{Chunk, PostgresSource, SourceError, SESSION_SETTINGS};
use migrate_core::Table;
use tokio_postgres::Client;

/// The row count and checksum of a chunk (see the module docs for the definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkChecksum {
    pub rows: u64,
    /// `"<sum1>-<sum2>"`, decimal.
    pub checksum: String,
}

impl ChunkChecksum {
    /// The checksum of the union of two disjoint sets of rows. `None` if either checksum is not
    /// of this crate's form.
    pub fn combine(&self, other: &ChunkChecksum) -> Option<ChunkChecksum> {
        let parse = |c: &ChunkChecksum| -> Option<(u128, u128)> {
            let (a, b) = c.checksum.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        let (a1, b1) = parse(self)?;
        let (a2, b2) = parse(other)?;
        Some(ChunkChecksum {
            rows: self.rows.checked_add(other.rows)?,
            checksum: format!("{}-{}", a1.checked_add(a2)?, b1.checked_add(b2)?),
        })
    }
}

/// Computes the checksum of the rows of `table_sql_name` (already quoted: `"s"."t"`) matching
/// `predicate`, over the column expressions `columns`, in one query. Sets
/// [`SESSION_SETTINGS`] on `client`'s session first.
///
/// Consistency: sees what the client's current transaction (or statement) sees; call it inside a
/// transaction that imported the load's snapshot to compare with what was read.
pub async fn chunk_checksum(
    client: &Client,
    table_sql_name: &str,
    columns: &[String],
    predicate: &str,
) -> Result<ChunkChecksum, SourceError> {
    let context = format!("computing the checksum of {table_sql_name} where {predicate}");
    client
        .batch_execute(SESSION_SETTINGS)
        .await
        .map_err(SourceError::query(context.clone()))?;
    let row_text = columns
        .iter()
        .map(|e| format!("({e})::text"))
        .collect::<Vec<_>>()
        .join(", ");
    let query = format!(
        "SELECT count(*)::int8, \
                coalesce(sum(('x' || substr(h, 1, 15))::bit(60)::int8), 0)::text, \
                coalesce(sum(('x' || substr(h, 16, 15))::bit(60)::int8), 0)::text \
           FROM (SELECT md5(ROW({row_text})::text) AS h FROM {table_sql_name} WHERE {predicate}) r"
    );
    let row = client
        .query_one(&query, &[])
        .await
        .map_err(SourceError::query(context))?;
    Ok(ChunkChecksum {
        rows: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
        checksum: format!("{}-{}", row.get::<_, String>(1), row.get::<_, String>(2)),
    })
}

/// The expressions giving each column's canonical value, as [`PostgresSource::read_chunk`]
/// selects them: the column itself for most types, its text form for types carried as text
/// (`concat(c)`), JSON text for arrays (`to_json(c)::text`), `c::numeric` for money.
pub async fn checksum_columns(client: &Client, table: &Table) -> Result<Vec<String>, SourceError> {
    Ok(plan_columns(client, table)
        .await?
        .into_iter()
        .map(|c| c.expr)
        .collect())
}

impl PostgresSource {
    /// The checksum of one chunk of `table`, computed in the database (see the module docs).
    /// Outside a transaction: it sees the latest committed data, not a snapshot.
    pub async fn checksum(
        &self,
        table: &Table,
        chunk: &Chunk,
    ) -> Result<ChunkChecksum, SourceError> {
        let columns = checksum_columns(&self.client, table).await?;
        chunk_checksum(
            &self.client,
            &table_sql_name(table),
            &columns,
            &crate::chunk_predicate(chunk),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_add_up() {
        let a = ChunkChecksum {
            rows: 2,
            checksum: "10-20".into(),
        };
        let b = ChunkChecksum {
            rows: 3,
            checksum: "1-2".into(),
        };
        assert_eq!(
            a.combine(&b),
            Some(ChunkChecksum {
                rows: 5,
                checksum: "11-22".into()
            })
        );
        let bad = ChunkChecksum {
            rows: 0,
            checksum: "x".into(),
        };
        assert_eq!(a.combine(&bad), None);
    }
}
