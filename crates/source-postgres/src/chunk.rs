//! Splitting a table into chunks that parallel readers can extract independently.

use crate::sql::{quote_ident, table_sql_name};
use crate::{PostgresSource, SourceError};
use migrate_core::{LogicalType, Table};

/// One part of a table. The chunks of a plan cover every row exactly once, whatever the
/// statistics said when they were planned: the first range is unbounded below and the last
/// unbounded above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position in the plan, from 0.
    pub index: u32,
    pub bound: ChunkBound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkBound {
    /// The whole table.
    All,
    /// `from <= column < to` on a single-column integer primary key; `None` is unbounded.
    KeyRange {
        column: String,
        from: Option<i64>,
        to: Option<i64>,
    },
    /// Heap pages `from <= page < to` by `ctid` (a TID range scan on PostgreSQL 14+, a filtered
    /// sequential scan before); `to: None` is unbounded.
    PageRange { from: u64, to: Option<u64> },
}

impl ChunkBound {
    /// The WHERE condition selecting the chunk's rows (`TRUE` for the whole table).
    pub fn to_sql_predicate(&self) -> String {
        match self {
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
}

impl Chunk {
    pub fn to_sql_predicate(&self) -> String {
        self.bound.to_sql_predicate()
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
        let estimate = (reltuples >= 0.0).then(|| reltuples.round() as u64);

        if let Some(key) = integer_key(table) {
            let row = self
                .client
                .query_one(
                    &format!(
                        "SELECT min({k})::int8, max({k})::int8 FROM {name}",
                        k = quote_ident(key)
                    ),
                    &[],
                )
                .await
                .map_err(SourceError::query(context))?;
            let (Some(min), Some(max)) =
                (row.get::<_, Option<i64>>(0), row.get::<_, Option<i64>>(1))
            else {
                return Ok(vec![whole()]);
            };
            let span = (i128::from(max) - i128::from(min) + 1) as u128;
            let rows = estimate.map_or(span, u128::from);
            return Ok(key_ranges(key, min, span, rows, target_rows));
        }
        if table.primary_key().is_some_and(|k| k.len() == 1) || partitioned {
            return Ok(vec![whole()]);
        }
        let rows = estimate.unwrap_or(0);
        if rows <= target_rows || pages <= 1 {
            return Ok(vec![whole()]);
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

fn whole() -> Chunk {
    Chunk {
        index: 0,
        bound: ChunkBound::All,
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

/// `ceil(rows / target_rows)` ranges of equal key width over `[min, min + span)`, the first
/// open below and the last open above.
fn key_ranges(key: &str, min: i64, span: u128, rows: u128, target_rows: u64) -> Vec<Chunk> {
    let count = rows.div_ceil(u128::from(target_rows)).clamp(1, span.max(1));
    // Bounded by u32 indexes; a plan of 4 billion chunks is a mistake anyway.
    let count = count.min(u128::from(u32::MAX));
    if count <= 1 {
        return vec![whole()];
    }
    let width = span.div_ceil(count);
    let boundaries: Vec<i64> = (1..count)
        .map(|i| (i128::from(min) + (i * width) as i128) as i64)
        .take_while(|&b| i128::from(b) < i128::from(min) + span as i128)
        .collect();
    let mut chunks = Vec::with_capacity(boundaries.len() + 1);
    let mut from = None;
    for boundary in boundaries.into_iter().map(Some).chain([None]) {
        chunks.push(Chunk {
            index: chunks.len() as u32,
            bound: ChunkBound::KeyRange {
                column: key.to_string(),
                from,
                to: boundary,
            },
        });
        from = boundary;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ranges_are_contiguous_and_open_at_both_ends() {
        let chunks = key_ranges("id", 1, 1_000, 1_000, 300);
        assert_eq!(chunks.len(), 4);
        let bounds: Vec<_> = chunks.iter().map(|c| c.to_sql_predicate()).collect();
        assert_eq!(
            bounds,
            [
                "\"id\" < 251",
                "\"id\" >= 251 AND \"id\" < 501",
                "\"id\" >= 501 AND \"id\" < 751",
                "\"id\" >= 751"
            ]
        );
    }

    #[test]
    fn extreme_keys_do_not_overflow() {
        let span = (i128::from(i64::MAX) - i128::from(i64::MIN) + 1) as u128;
        let chunks = key_ranges("k", i64::MIN, span, 10, 3);
        assert_eq!(chunks.len(), 4);
        assert!(matches!(
            chunks[0].bound,
            ChunkBound::KeyRange { from: None, .. }
        ));
        assert!(matches!(
            chunks[3].bound,
            ChunkBound::KeyRange { to: None, .. }
        ));
    }

    #[test]
    fn small_spans_make_one_chunk() {
        assert_eq!(key_ranges("id", 5, 1, 100, 10), vec![whole()]);
        assert_eq!(
            ChunkBound::PageRange {
                from: 3,
                to: Some(9)
            }
            .to_sql_predicate(),
            "ctid >= '(3,0)'::tid AND ctid < '(9,0)'::tid"
        );
    }
}
