//! Splitting a table into chunks that parallel readers can extract independently.

use crate::sql::{own_rows_sql, quote_ident, table_sql_name};
use crate::{PostgresSource, SourceError};
use migrate_core::{LogicalType, Table};
use migrate_source::{key_range_chunks, Chunk, ChunkBound};

/// The WHERE condition selecting a chunk's rows (`TRUE` for the whole table).
pub fn chunk_predicate(chunk: &Chunk) -> String {
    match &chunk.bound {
        ChunkBound::All => "TRUE".to_string(),
        ChunkBound::KeyRange { column, from, to } => {
            let column = quote_ident(column);
            match (from, to) {
                (None, None) => "TRUE".to_string(),
                (Some(from), None) => format!("{column} >= {from}"),
                (None, Some(to)) => format!("{column} < {to}"),
                (Some(from), Some(to)) => format!("{column} >= {from} AND {column} < {to}"),
            }
        }
        ChunkBound::PageRange { from, to } => {
            let lower = format!("ctid >= '({from},0)'::tid");
            match to {
                Some(to) => format!("{lower} AND ctid < '({to},0)'::tid"),
                None => lower,
            }
        }
    }
}

impl PostgresSource {
    /// Plans chunks of about `target_rows` rows:
    /// - a single-column integer primary key: key ranges between its current min and max, as
    ///   many as the row estimate calls for (the key span when the table was never analyzed);
    /// - another single-column key (text, uuid, ...): one chunk, since even splits of such keys
    ///   need a sample of the values, and one ordered scan is always correct;
    /// - no usable key: `ctid` page ranges over the table's current size in pages;
    /// - a table estimated at `target_rows` or fewer, or a partitioned parent without an integer
    ///   key (its `ctid`s are per partition): one chunk.
    ///
    /// Consistency: the plan reads the current min/max and sizes outside any snapshot; that is
    /// safe because the outer ranges are open, so rows added later still fall in some chunk.
    pub async fn plan_chunks(
        &self,
        table: &Table,
        target_rows: u64,
    ) -> Result<Vec<Chunk>, SourceError> {
        let target_rows = target_rows.max(1);
        let name = table_sql_name(table);
        let context = format!("planning chunks of {}", table.name);
        let row = self
            .client
            .query_one(
                "SELECT c.reltuples::float8, pg_relation_size(c.oid)::int8 \
                        / current_setting('block_size')::int8, c.relkind = 'p' \
                   FROM pg_class c WHERE c.oid = $1::text::regclass",
                &[&name],
            )
            .await
            .map_err(SourceError::query(context.clone()))?;
        let reltuples: f64 = row.get(0);
        let pages = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
        let partitioned: bool = row.get(2);
        let rows = own_rows_sql(name, partitioned);
        let estimate = (reltuples >= 0.0).then(|| reltuples.round() as u64);

        if let Some(key) = integer_key(table) {
            let row = self
                .client
                .query_one(
                    &format!(
                        "SELECT min({k})::int8, max({k})::int8 FROM {rows}",
                        k = quote_ident(key)
                    ),
                    &[],
                )
                .await
                .map_err(SourceError::query(context))?;
            let (Some(min), Some(max)) =
                (row.get::<_, Option<i64>>(0), row.get::<_, Option<i64>>(1))
            else {
                return Ok(vec![Chunk::whole()]);
            };
            return Ok(key_range_chunks(key, min, max, estimate, target_rows));
        }
        if table.primary_key().is_some_and(|k| k.len() == 1) || partitioned {
            return Ok(vec![Chunk::whole()]);
        }
        let rows = estimate.unwrap_or(0);
        if rows <= target_rows || pages <= 1 {
            return Ok(vec![Chunk::whole()]);
        }
        let rows_per_page = (rows / pages).max(1);
        let pages_per_chunk = (target_rows / rows_per_page).max(1);
        let mut chunks = Vec::new();
        let mut from = 0;
        while from < pages {
            let to = from + pages_per_chunk;
            chunks.push(Chunk {
                index: chunks.len() as u32,
                bound: ChunkBound::PageRange {
                    from,
                    to: (to < pages).then_some(to),
                },
            });
            from = to;
        }
        Ok(chunks)
    }
}

/// The single-column integer primary key, if any.
fn integer_key(table: &Table) -> Option<&str> {
    match table.primary_key()? {
        [key] => {
            let column = table.column(key)?;
            matches!(
                column.data_type,
                LogicalType::SmallInt | LogicalType::Integer | LogicalType::BigInt
            )
            .then_some(column.name.value.as_str())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        let range = |from, to| Chunk {
            index: 0,
            bound: ChunkBound::KeyRange {
                column: "Id".into(),
                from,
                to,
            },
        };
        assert_eq!(chunk_predicate(&range(None, Some(5))), "\"Id\" < 5");
        assert_eq!(
            chunk_predicate(&range(Some(5), Some(9))),
            "\"Id\" >= 5 AND \"Id\" < 9"
        );
        assert_eq!(chunk_predicate(&range(None, None)), "TRUE");
        let pages = Chunk {
            index: 1,
            bound: ChunkBound::PageRange {
                from: 3,
                to: Some(9),
            },
        };
        assert_eq!(
            chunk_predicate(&pages),
            "ctid >= '(3,0)'::tid AND ctid < '(9,0)'::tid"
        );
    }
}
