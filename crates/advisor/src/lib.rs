//! The key advisor: Redshift distribution style, compound sort key and column encodings for every
//! table of a catalog, each choice with the evidence behind it.
//!
//! Inputs are the catalog (constraints, partitioning, Hive bucketing), [`Statistics`] (row counts,
//! distinct counts, null and skew fractions, from live discovery and/or a statistics file) and a
//! [`Workload`] (the queries the warehouse will run). The rules follow Redshift's published best
//! practices; the thresholds they use are the fields of [`Thresholds`]. Every choice records its
//! reasons as sentences with numbers, so a reviewer can check them, and the same input always
//! yields the same output (ties are broken by name).

mod distribution;
mod encoding;
mod sortkey;
mod statistics;
mod text;
mod usage;
mod workload;

pub use statistics::{ColumnStats, Statistics, TableStats};
pub use workload::{SkippedQuery, Workload};

use migrate_core::{Catalog, ErrorClass, QualifiedName, Retry, TableLayout};
use usage::{ColKey, Usage};

#[derive(Debug, thiserror::Error)]
pub enum AdviceError {
    /// The statistics file is not valid JSON or does not have the documented shape.
    #[error("statistics file: {0}")]
    StatisticsJson(serde_json::Error),
    /// The statistics file is well-formed but says something impossible.
    #[error("statistics file: table {table:?}: {message}")]
    InvalidStatistics { table: String, message: String },
    /// The workload file has no statement at all (empty, or only comments).
    #[error("workload: the file has no SQL statement; pass the queries that run on the data, or leave out --workload")]
    EmptyWorkload,
    /// The workload file has statements but none could be analysed (wrong dialect?).
    #[error("workload: none of its {skipped} statements could be analysed; the first, at line {line}: {reason}")]
    NoQueryParsed {
        skipped: usize,
        line: usize,
        reason: String,
    },
}

impl ErrorClass for AdviceError {
    /// Bad input stays bad: every advisor error is definite.
    fn retry(&self) -> Retry {
        Retry::Definite
    }
}

/// The numbers the rules compare against. [`Thresholds::default`] holds the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Largest row count for DISTSTYLE ALL (default 1,000,000). ALL puts a full copy on every
    /// node: Redshift recommends it for small, slowly changing dimensions; above this size the
    /// storage and load cost per node outweighs the saved redistribution.
    pub all_max_rows: u64,
    /// Fewest distinct values for a distribution key (default 1,000): far more values than the
    /// slices of any cluster, so every slice receives many values and a similar share of rows.
    pub key_min_distinct: u64,
    /// Largest share of rows the most common value may hold in a distribution key (default 0.10):
    /// all its rows land on one slice.
    pub key_max_most_common_fraction: f64,
    /// Largest NULL share in a distribution key (default 0.10): NULLs all hash to one slice.
    pub key_max_null_fraction: f64,
    /// A character column with fewer distinct values than this (default 256) uses BYTEDICT,
    /// whose dictionary holds 256 entries per block (one-byte indexes).
    pub bytedict_max_distinct: u64,
    /// Longest declared CHAR/VARCHAR length for BYTEDICT (default 64): Redshift warns that
    /// BYTEDICT on long VARCHAR columns can use more disk than other encodings.
    pub bytedict_max_length: u32,
    /// Most columns proposed for a compound sort key (default 4; Redshift allows 400): each
    /// further column helps only queries that filter on all the earlier ones.
    pub max_sortkey_columns: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            all_max_rows: 1_000_000,
            key_min_distinct: 1_000,
            key_max_most_common_fraction: 0.10,
            key_max_null_fraction: 0.10,
            bytedict_max_distinct: 256,
            bytedict_max_length: 64,
            max_sortkey_columns: 4,
        }
    }
}

/// One layout per `catalog.tables` entry, in the same order, with the default [`Thresholds`].
pub fn advise(catalog: &Catalog, stats: &Statistics, workload: &Workload) -> Vec<TableLayout> {
    advise_with(catalog, stats, workload, &Thresholds::default())
}

/// [`advise`] with explicit thresholds.
pub fn advise_with(
    catalog: &Catalog,
    stats: &Statistics,
    workload: &Workload,
    thresholds: &Thresholds,
) -> Vec<TableLayout> {
    let ctx = Context {
        catalog,
        index: migrate_core::TableIndex::new(&catalog.tables),
        stats,
        usage: Usage::resolve(catalog, workload),
        thresholds,
    };
    distribution::distribute(&ctx)
        .into_iter()
        .enumerate()
        .map(|(table, distribution)| {
            let (sortkey, sort_evidence) = sortkey::sort_key(&ctx, table);
            let (encodings, encoding_evidence) = encoding::encodings(&ctx, table, &sortkey);
            let mut evidence = vec![distribution.evidence, sort_evidence];
            evidence.extend(encoding_evidence);
            TableLayout {
                diststyle: distribution.style,
                sortkey,
                encodings,
                evidence,
            }
        })
        .collect()
}

/// Everything the rules read, with the workload already settled against the catalog.
pub(crate) struct Context<'a> {
    pub catalog: &'a Catalog,
    /// Finds the catalog's tables by name (foreign keys look up their referenced table).
    pub index: migrate_core::TableIndex,
    pub stats: &'a Statistics,
    pub usage: Usage,
    pub thresholds: &'a Thresholds,
}

impl Context<'_> {
    fn table_name(&self, table: usize) -> &QualifiedName {
        &self.catalog.tables[table].name
    }

    fn rows(&self, table: usize) -> Option<u64> {
        self.stats.rows(self.table_name(table))
    }

    fn column_stats(&self, key: ColKey) -> Option<&ColumnStats> {
        let table = &self.catalog.tables[key.0];
        self.stats.column(&table.name, &table.columns[key.1].name)
    }

    /// `i_item_sk`
    fn column_name(&self, key: ColKey) -> String {
        self.catalog.tables[key.0].columns[key.1].name.to_string()
    }

    /// `item.i_item_sk`
    fn qualified_column(&self, key: ColKey) -> String {
        format!("{}.{}", self.table_name(key.0), self.column_name(key))
    }

    fn column_index(&self, table: usize, name: &migrate_core::Ident) -> Option<usize> {
        self.catalog.tables[table]
            .columns
            .iter()
            .position(|c| c.name.matches(name))
    }

    /// True when the column holds no duplicates: a single-column primary key or NOT NULL unique
    /// key, or statistics showing as many distinct values as rows.
    fn is_unique(&self, key: ColKey) -> bool {
        let table = &self.catalog.tables[key.0];
        let column = &table.columns[key.1];
        let single = |columns: &[migrate_core::Ident]| matches!(columns, [only] if only.matches(&column.name));
        table.row_identity().is_some_and(single)
            || match (
                self.rows(key.0),
                self.column_stats(key).and_then(|s| s.distinct),
            ) {
                (Some(rows), Some(distinct)) => rows > 0 && distinct >= rows,
                _ => false,
            }
    }
}
