//! Splitting a table into chunks that parallel readers can extract independently.

use crate::connect::get;
use crate::sql::{display_name, quote_ident, table_sql_name};
use crate::{MysqlSource, SourceError};
use migrate_core::Table;
use migrate_source::{key_range_chunks, Chunk, ChunkBound};
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

/// The WHERE condition selecting a chunk's rows (`TRUE` for the whole table). Page ranges are
/// PostgreSQL's: an error here.
pub fn chunk_predicate(table: &Table, chunk: &Chunk) -> Result<String, SourceError> {
    match &chunk.bound {
        ChunkBound::All => Ok("TRUE".to_string()),
        ChunkBound::KeyRange { column, from, to } => {
            let column = quote_ident(column);
            Ok(match (from, to) {
                (None, None) => "TRUE".to_string(),
                (Some(from), None) => format!("{column} >= {from}"),
                (None, Some(to)) => format!("{column} < {to}"),
                (Some(from), Some(to)) => format!("{column} >= {from} AND {column} < {to}"),
            })
        }
        ChunkBound::PageRange { .. } => Err(SourceError::Unsupported {
            table: display_name(table),
            column: String::new(),
            message: format!(
                "chunk {} is a PostgreSQL page range, which MySQL has no equivalent of; plan the table's chunks with this source",
                chunk.index
            ),
        }),
    }
}

/// Integer types whose values compare as numbers with integer literals (BIT and YEAR are left
/// out: they compare as strings or years in some contexts).
const INTEGER_TYPES: [&str; 6] = [
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "integer",
    "bigint",
];

/// The single-column integer primary key, if any (by its MySQL type: `BIGINT UNSIGNED` is one,
/// though its canonical type is `decimal(20,0)`).
fn integer_key(table: &Table) -> Option<&str> {
    match table.primary_key()? {
        [key] => {
            let column = table.column(key)?;
            let base = column
                .source_type
                .split(|c: char| c == '(' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            INTEGER_TYPES
                .contains(&base.as_str())
                .then_some(column.name.value.as_str())
        }
        _ => None,
    }
}

/// An integer key bound as i64. `BIGINT UNSIGNED` values above `i64::MAX` saturate: that is
/// safe for the maximum, because the last chunk is open above and still holds every larger key
/// (only the balance of the chunks suffers).
fn key_value(value: Option<Value>) -> Option<i64> {
    match value? {
        Value::Int(v) => Some(v),
        Value::UInt(v) => Some(i64::try_from(v).unwrap_or(i64::MAX)),
        _ => None,
    }
}

impl MysqlSource {
    /// Plans chunks of about `target_rows` rows:
    /// - a single-column integer primary key (any integer type, signed or unsigned): key ranges
    ///   between its current min and max, as many as the row estimate (`TABLE_ROWS`) calls for;
    /// - anything else (no key, a composite or non-integer key): one whole-table chunk;
    /// - a `BIGINT UNSIGNED` key whose smallest value is above `i64::MAX`: one chunk (the ranges
    ///   are i64).
    ///
    /// Consistency: the plan reads the current min/max outside any snapshot; that is safe
    /// because the outer ranges are open, so rows added later still fall in some chunk.
    pub async fn plan_chunks(
        &self,
        table: &Table,
        target_rows: u64,
    ) -> Result<Vec<Chunk>, SourceError> {
        let Some(key) = integer_key(table) else {
            return Ok(vec![Chunk::whole()]);
        };
        let context = format!("planning chunks of {}", display_name(table));
        let mut conn = self.conn.lock().await;
        let estimate: Option<u64> = match &table.name.schema {
            Some(schema) => {
                let row: Option<Row> = conn
                    .exec_first(
                        "SELECT TABLE_ROWS FROM information_schema.TABLES \
                          WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                        (&schema.value, &table.name.name.value),
                    )
                    .await
                    .map_err(SourceError::query(context.clone()))?;
                match row {
                    Some(mut row) => get(&mut row, 0, &context)?,
                    None => None,
                }
            }
            None => None,
        };
        let k = quote_ident(key);
        let row: Option<Row> = conn
            .exec_first(
                format!("SELECT MIN({k}), MAX({k}) FROM {}", table_sql_name(table)),
                (),
            )
            .await
            .map_err(SourceError::query(context))?;
        let (min, max) = match row.map(Row::unwrap_raw).as_deref() {
            Some([min, max]) => (key_value(min.clone()), key_value(max.clone())),
            _ => (None, None),
        };
        match (min, max) {
            (Some(min), Some(max)) if min < i64::MAX => Ok(key_range_chunks(
                key,
                min,
                max,
                estimate,
                target_rows.max(1),
            )),
            _ => Ok(vec![Chunk::whole()]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{
        Column, Constraint, ConstraintKind, ConstraintState, Ident, LogicalType, QualifiedName,
    };

    fn table(source_type: &str, data_type: LogicalType) -> Table {
        let mut table = Table::new(QualifiedName::unqualified(Ident::new("t")));
        table
            .columns
            .push(Column::new(Ident::new("Id"), source_type, data_type));
        table.constraints.push(Constraint {
            name: None,
            kind: ConstraintKind::PrimaryKey(vec![Ident::new("Id")]),
            state: ConstraintState::default(),
            index: Default::default(),
        });
        table
    }

    #[test]
    fn predicates() {
        let t = table("int", LogicalType::Integer);
        let range = |from, to| Chunk {
            index: 0,
            bound: ChunkBound::KeyRange {
                column: "Id".into(),
                from,
                to,
            },
        };
        assert_eq!(
            chunk_predicate(&t, &range(None, Some(5))).unwrap(),
            "`Id` < 5"
        );
        assert_eq!(
            chunk_predicate(&t, &range(Some(-5), Some(9))).unwrap(),
            "`Id` >= -5 AND `Id` < 9"
        );
        assert_eq!(chunk_predicate(&t, &range(None, None)).unwrap(), "TRUE");
        let pages = Chunk {
            index: 1,
            bound: ChunkBound::PageRange { from: 0, to: None },
        };
        assert!(matches!(
            chunk_predicate(&t, &pages),
            Err(SourceError::Unsupported { .. })
        ));
    }

    #[test]
    fn integer_keys_by_source_type() {
        assert_eq!(integer_key(&table("int", LogicalType::Integer)), Some("Id"));
        assert_eq!(
            integer_key(&table(
                "bigint unsigned",
                LogicalType::Decimal {
                    precision: 20,
                    scale: 0
                }
            )),
            Some("Id")
        );
        assert_eq!(integer_key(&table("bit(8)", LogicalType::BigInt)), None);
        assert_eq!(integer_key(&table("varchar(10)", LogicalType::Text)), None);
        assert_eq!(key_value(Some(Value::UInt(u64::MAX))), Some(i64::MAX));
        assert_eq!(key_value(Some(Value::Int(-3))), Some(-3));
        assert_eq!(key_value(Some(Value::NULL)), None);
    }
}
