//! Table and column statistics the advisor weighs: row counts, distinct counts, null and skew fractions.
//!
//! They come from two places: the catalog (live discovery fills [`TableStatistics`] and
//! [`ColumnStatistics`]) and a statistics file written by the user. The file wins where both say
//! something (see [`Statistics::merge`]).
//!
//! # Statistics file
//!
//! ```json
//! {
//!   "tables": {
//!     "tpcds.store_sales": {
//!       "rows": 287997024,
//!       "columns": {
//!         "ss_customer_sk": { "distinct": 1999983, "null_fraction": 0.045, "most_common_fraction": 0.0001 }
//!       }
//!     },
//!     "store": { "rows": 402 }
//!   }
//! }
//! ```
//!
//! - Table keys are `schema.table` or `table`; an unqualified key applies to a table of that name in
//!   any schema. Table and column names are matched case-insensitively.
//! - Every field is optional: `rows` (row count), `columns`; per column `distinct` (number of
//!   distinct non-null values), `null_fraction` and `most_common_fraction` (share of rows holding the
//!   most common value), both between 0 and 1.
//! - Unknown fields, duplicate names (also when they differ only in case), fractions outside 0..=1
//!   and names with more than two parts are rejected with an error naming the culprit: a typo must
//!   not silently turn into "no statistics".

use crate::AdviceError;
use migrate_core::{Catalog, Ident, QualifiedName};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

/// Statistics for the tables of a catalog, keyed by (case-insensitive) table name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statistics {
    tables: Vec<TableStats>,
    /// Positions in `tables` by lower-cased unqualified name, so that a lookup per table of a
    /// large catalog doesn't scan them all.
    by_name: HashMap<String, Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableStats {
    pub name: QualifiedName,
    pub rows: Option<u64>,
    pub columns: Vec<ColumnStats>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    pub name: Ident,
    /// Number of distinct non-null values.
    pub distinct: Option<u64>,
    /// Share of rows where the column is NULL, 0..=1.
    pub null_fraction: Option<f64>,
    /// Share of rows holding the most common value, 0..=1: the skew a distribution key would have.
    pub most_common_fraction: Option<f64>,
}

impl Statistics {
    /// Parses a statistics file (format in the module documentation).
    pub fn from_json(text: &str) -> Result<Statistics, AdviceError> {
        let file: StatsFile = serde_json::from_str(text).map_err(AdviceError::StatisticsJson)?;
        let mut tables: Vec<TableStats> = Vec::new();
        for (key, table) in file.tables.0 {
            let name = parse_table_name(&key)?;
            if tables.iter().any(|t| same_table(&t.name, &name)) {
                return Err(invalid(&key, "listed twice (names are case-insensitive)"));
            }
            let mut columns: Vec<ColumnStats> = Vec::new();
            for (column, stats) in table.columns.0 {
                let ident = Ident::new(column.clone());
                if columns.iter().any(|c| same_ident(&c.name, &ident)) {
                    return Err(invalid(
                        &key,
                        &format!("column {column:?} listed twice (names are case-insensitive)"),
                    ));
                }
                if let (Some(distinct), Some(rows)) = (stats.distinct, table.rows) {
                    if distinct > rows {
                        return Err(invalid(
                            &key,
                            &format!("column {column:?}: distinct ({distinct}) is greater than rows ({rows})"),
                        ));
                    }
                }
                check_fraction(&key, &column, "null_fraction", stats.null_fraction)?;
                check_fraction(
                    &key,
                    &column,
                    "most_common_fraction",
                    stats.most_common_fraction,
                )?;
                columns.push(ColumnStats {
                    name: ident,
                    distinct: stats.distinct,
                    null_fraction: stats.null_fraction,
                    most_common_fraction: stats.most_common_fraction,
                });
            }
            tables.push(TableStats {
                name,
                rows: table.rows,
                columns,
            });
        }
        Ok(Statistics::indexed(tables))
    }

    /// The statistics already in the model (filled by live discovery). The catalog has no
    /// most-common-value fraction, so skew is only known from a statistics file.
    pub fn from_catalog(catalog: &Catalog) -> Statistics {
        let tables = catalog
            .tables
            .iter()
            .filter_map(|table| {
                let columns: Vec<ColumnStats> = table
                    .columns
                    .iter()
                    .filter_map(|column| {
                        column.statistics.as_ref().map(|s| ColumnStats {
                            name: column.name.clone(),
                            distinct: s.distinct_count,
                            null_fraction: s.null_fraction,
                            most_common_fraction: None,
                        })
                    })
                    .collect();
                let rows = table.statistics.as_ref().and_then(|s| s.row_count);
                (rows.is_some() || !columns.is_empty()).then(|| TableStats {
                    name: table.name.clone(),
                    rows,
                    columns,
                })
            })
            .collect();
        Statistics::indexed(tables)
    }

    /// Overlays `overrides` on `self`, field by field: a value present in `overrides` replaces
    /// ours, an absent one keeps ours. An unqualified override applies to every table of that
    /// name, the same way lookups match.
    pub fn merge(&mut self, overrides: Statistics) {
        for over in overrides.tables {
            let mut matched = false;
            for table in self
                .tables
                .iter_mut()
                .filter(|t| names_match(&t.name, &over.name))
            {
                matched = true;
                table.rows = over.rows.or(table.rows);
                for column in &over.columns {
                    match table
                        .columns
                        .iter_mut()
                        .find(|c| same_ident(&c.name, &column.name))
                    {
                        Some(existing) => {
                            existing.distinct = column.distinct.or(existing.distinct);
                            existing.null_fraction =
                                column.null_fraction.or(existing.null_fraction);
                            existing.most_common_fraction = column
                                .most_common_fraction
                                .or(existing.most_common_fraction);
                        }
                        None => table.columns.push(column.clone()),
                    }
                }
            }
            if !matched {
                self.by_name
                    .entry(over.name.name.value.to_lowercase())
                    .or_default()
                    .push(self.tables.len());
                self.tables.push(over);
            }
        }
    }

    pub fn tables(&self) -> &[TableStats] {
        &self.tables
    }

    fn indexed(tables: Vec<TableStats>) -> Statistics {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, table) in tables.iter().enumerate() {
            by_name
                .entry(table.name.name.value.to_lowercase())
                .or_default()
                .push(position);
        }
        Statistics { tables, by_name }
    }

    /// Statistics for `name`: an entry with the same schema wins over an unqualified one.
    pub fn table(&self, name: &QualifiedName) -> Option<&TableStats> {
        let candidates = self.by_name.get(&name.name.value.to_lowercase())?;
        let candidates = || candidates.iter().map(|&position| &self.tables[position]);
        candidates()
            .find(|t| same_table(&t.name, name))
            .or_else(|| candidates().find(|t| names_match(&t.name, name)))
    }

    pub(crate) fn rows(&self, name: &QualifiedName) -> Option<u64> {
        self.table(name).and_then(|t| t.rows)
    }

    pub(crate) fn column(&self, table: &QualifiedName, column: &Ident) -> Option<&ColumnStats> {
        self.table(table).and_then(|t| t.column(column))
    }
}

impl TableStats {
    pub fn column(&self, name: &Ident) -> Option<&ColumnStats> {
        self.columns.iter().find(|c| same_ident(&c.name, name))
    }
}

fn same_ident(a: &Ident, b: &Ident) -> bool {
    a.value.to_lowercase() == b.value.to_lowercase()
}

/// Same name and same schema (both absent counts as the same).
fn same_table(a: &QualifiedName, b: &QualifiedName) -> bool {
    same_ident(&a.name, &b.name)
        && match (&a.schema, &b.schema) {
            (Some(x), Some(y)) => same_ident(x, y),
            (None, None) => true,
            _ => false,
        }
}

/// Same name; schemas equal when both are given.
fn names_match(a: &QualifiedName, b: &QualifiedName) -> bool {
    same_ident(&a.name, &b.name)
        && match (&a.schema, &b.schema) {
            (Some(x), Some(y)) => same_ident(x, y),
            _ => true,
        }
}

fn parse_table_name(key: &str) -> Result<QualifiedName, AdviceError> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(invalid(
            key,
            "a table name must be `schema.table` or `table`",
        ));
    }
    match parts.as_slice() {
        [table] => Ok(QualifiedName::unqualified(Ident::new(table.trim()))),
        [schema, table] => Ok(QualifiedName::new(
            Some(Ident::new(schema.trim())),
            Ident::new(table.trim()),
        )),
        _ => Err(invalid(
            key,
            "a table name must be `schema.table` or `table`",
        )),
    }
}

fn check_fraction(
    table: &str,
    column: &str,
    field: &str,
    value: Option<f64>,
) -> Result<(), AdviceError> {
    match value {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(invalid(
            table,
            &format!("column {column:?}: {field} must be between 0 and 1, found {v}"),
        )),
        _ => Ok(()),
    }
}

fn invalid(table: &str, message: &str) -> AdviceError {
    AdviceError::InvalidStatistics {
        table: table.to_string(),
        message: message.to_string(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsFile {
    tables: Entries<TableFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    rows: Option<u64>,
    #[serde(default)]
    columns: Entries<ColumnFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFile {
    distinct: Option<u64>,
    null_fraction: Option<f64>,
    most_common_fraction: Option<f64>,
}

/// A JSON object kept as its entries in file order, so that duplicate keys are seen and reported
/// (a map would silently keep the last one).
struct Entries<T>(Vec<(String, T)>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntriesVisitor<T> {
            type Value = Entries<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object keyed by name")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<T>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, T>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Column, ColumnStatistics, LogicalType, Table, TableStatistics};

    fn qn(schema: Option<&str>, name: &str) -> QualifiedName {
        QualifiedName::new(schema.map(Ident::new), Ident::new(name))
    }

    #[test]
    fn parses_file_and_matches_names_case_insensitively() {
        let stats = Statistics::from_json(
            r#"{"tables": {"TPCDS.Store_Sales": {"rows": 10, "columns": {"SS_Item_SK": {"distinct": 3, "null_fraction": 0.5, "most_common_fraction": 0.25}}}, "item": {"rows": 7}}}"#,
        )
        .unwrap();
        let table = stats.table(&qn(Some("tpcds"), "store_sales")).unwrap();
        assert_eq!(table.rows, Some(10));
        assert_eq!(
            table.column(&Ident::new("ss_item_sk")),
            Some(&ColumnStats {
                name: Ident::new("SS_Item_SK"),
                distinct: Some(3),
                null_fraction: Some(0.5),
                most_common_fraction: Some(0.25),
            })
        );
        assert_eq!(stats.rows(&qn(Some("other"), "ITEM")), Some(7));
        assert_eq!(stats.rows(&qn(Some("other"), "store_sales")), None);
    }

    #[test]
    fn unknown_field_is_a_clear_error() {
        let err = Statistics::from_json(r#"{"tables": {"t": {"row": 5}}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "statistics file: unknown field `row`, expected `rows` or `columns` at line 1 column 23"
        );
    }

    #[test]
    fn malformed_json_and_bad_values_are_errors() {
        let err = Statistics::from_json(r#"{"tables": {"t": {"rows": -1}}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "statistics file: invalid value: integer `-1`, expected u64 at line 1 column 28"
        );
        let err = Statistics::from_json(
            r#"{"tables": {"t": {"columns": {"c": {"null_fraction": 1.5}}}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "statistics file: table \"t\": column \"c\": null_fraction must be between 0 and 1, found 1.5"
        );
        let err = Statistics::from_json(r#"{"tables": {"T": {}, "t": {}}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "statistics file: table \"t\": listed twice (names are case-insensitive)"
        );
        let err = Statistics::from_json(r#"{"tables": {"a.b.c": {}}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "statistics file: table \"a.b.c\": a table name must be `schema.table` or `table`"
        );
    }

    #[test]
    fn file_overrides_catalog_field_by_field() {
        let mut table = Table::new(qn(Some("s"), "t"));
        table.statistics = Some(TableStatistics {
            row_count: Some(100),
            ..TableStatistics::default()
        });
        let mut column = Column::new(Ident::new("c"), "int", LogicalType::Integer);
        column.statistics = Some(ColumnStatistics {
            distinct_count: Some(50),
            null_fraction: Some(0.0),
        });
        table.columns.push(column);
        let catalog = Catalog {
            tables: vec![table],
            ..Catalog::default()
        };
        let mut stats = Statistics::from_catalog(&catalog);
        stats.merge(
            Statistics::from_json(
                r#"{"tables": {"T": {"columns": {"C": {"most_common_fraction": 0.2}, "d": {"distinct": 4}}}}}"#,
            )
            .unwrap(),
        );
        let merged = stats.table(&qn(Some("s"), "t")).unwrap();
        assert_eq!(merged.rows, Some(100));
        assert_eq!(
            merged.columns,
            vec![
                ColumnStats {
                    name: Ident::new("c"),
                    distinct: Some(50),
                    null_fraction: Some(0.0),
                    most_common_fraction: Some(0.2),
                },
                ColumnStats {
                    name: Ident::new("d"),
                    distinct: Some(4),
                    null_fraction: None,
                    most_common_fraction: None,
                },
            ]
        );
    }
}
