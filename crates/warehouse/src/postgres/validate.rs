//! Row counts and per-chunk checksums computed in the target database, to compare with the
//! source's.

use super::{target_column, target_name, PostgresWarehouse};
use crate::WarehouseError;
use migrate_core::Table;

/// The answer of [`checksum_sql`]: how many rows match the predicate and the sum of their hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkChecksum {
    pub rows: i64,
    /// Decimal text of the sum (order-independent, no overflow).
    pub checksum: String,
}

/// The checksum query shared by the source and the target side (the source side's
/// `chunk_checksum` in `migrate-source-postgres` must build exactly this):
///
/// ```sql
/// SELECT count(*)::bigint,
///        coalesce(sum(('x' || left(md5(ROW(c1, c2)::text), 16))::bit(64)::bigint::numeric), 0)::text
/// FROM t WHERE (predicate)
/// ```
///
/// Each row's text is the row constructor's text output (`(1,abc,"x y")`), hashed with md5; the
/// first 64 bits of each hash, as a signed integer, are summed as `numeric`, so the result does
/// not depend on row order and can't overflow. Both sides must run with [`super::SESSION_SETTINGS`]
/// (UTC, ISO dates, `extra_float_digits = 1`), or timestamps and floats print differently.
/// The values compare equal only where source and target column types print the same text
/// (PostgreSQL to PostgreSQL with the same types; `json` becomes `jsonb`, which prints
/// normalised text, so exclude such columns or compare them separately).
///
/// `table_sql_name` and `columns` are SQL as written (quoted where needed); an empty predicate
/// means every row.
pub fn checksum_sql(table_sql_name: &str, columns: &[String], predicate: &str) -> String {
    let predicate = if predicate.trim().is_empty() {
        "TRUE"
    } else {
        predicate
    };
    format!(
        "SELECT count(*)::bigint, coalesce(sum(('x' || left(md5(ROW({})::text), 16))::bit(64)::bigint::numeric), 0)::text FROM {table_sql_name} WHERE ({predicate})",
        columns.join(", ")
    )
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

    /// [`checksum_sql`] over the target table of `table`, every column in table order, for the
    /// rows matching `predicate` (SQL over the target's key columns, e.g. `id >= 1 AND id < 1001`).
    pub async fn chunk_checksum(
        &self,
        table: &Table,
        predicate: &str,
    ) -> Result<ChunkChecksum, WarehouseError> {
        let name = target_name(table);
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| target_column(&c.name))
            .collect();
        let sql = checksum_sql(&name, &columns, predicate);
        let client = self.client.lock().await;
        let row = client
            .query_one(&sql, &[])
            .await
            .map_err(WarehouseError::database(format!(
                "computing the checksum of {name} where {predicate}"
            )))?;
        Ok(ChunkChecksum {
            rows: row.get(0),
            checksum: row.get(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_query_is_the_shared_one() {
        let columns = vec!["id".to_string(), "\"Name\"".to_string()];
        assert_eq!(
            checksum_sql("s.t", &columns, "id >= 1 AND id < 11"),
            "SELECT count(*)::bigint, coalesce(sum(('x' || left(md5(ROW(id, \"Name\")::text), 16))::bit(64)::bigint::numeric), 0)::text FROM s.t WHERE (id >= 1 AND id < 11)"
        );
    }

    #[test]
    fn an_empty_predicate_means_every_row() {
        let sql = checksum_sql("t", &["a".to_string()], " ");
        assert!(sql.ends_with("FROM t WHERE (TRUE)"), "{sql}");
    }
}
