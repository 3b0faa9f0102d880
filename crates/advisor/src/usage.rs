//! The workload settled against the catalog: how many queries join, filter or group on each
//! catalog column. Every count is a number of queries (a query that joins the same pair twice
//! counts once), so evidence can say "in 4 of 12 queries".

use crate::workload::{ColumnRef, Workload};
use migrate_core::TableIndex;
use migrate_core::{Catalog, LogicalType};
use std::collections::{BTreeMap, BTreeSet};

/// A catalog column: (index in `catalog.tables`, index in that table's `columns`).
pub(crate) type ColKey = (usize, usize);

#[derive(Debug, Default)]
pub(crate) struct Usage {
    pub queries: usize,
    /// Equi-joins between columns of two different tables, keyed with the smaller key first.
    pub joins: BTreeMap<(ColKey, ColKey), usize>,
    pub ranges: BTreeMap<ColKey, usize>,
    pub equalities: BTreeMap<ColKey, usize>,
    pub group_by: BTreeMap<ColKey, usize>,
    /// Per table, the queries joining it to another table.
    pub joined: BTreeMap<usize, usize>,
    /// Per column, the queries joining it to a column of another table.
    pub joined_columns: BTreeMap<ColKey, usize>,
    /// Join columns through which a range filter on a date/time column of the joined table
    /// reaches this table (`ss_sold_date_sk = d_date_sk AND d_date BETWEEN ...`).
    pub range_via_join: BTreeMap<ColKey, ViaJoin>,
}

#[derive(Debug, Default)]
pub(crate) struct ViaJoin {
    pub queries: usize,
    /// The range-filtered date/time columns, for the evidence.
    pub filtered: BTreeSet<ColKey>,
}

impl Usage {
    pub fn resolve(catalog: &Catalog, workload: &Workload) -> Usage {
        let mut usage = Usage {
            queries: workload.queries,
            ..Usage::default()
        };
        let index = TableIndex::new(&catalog.tables);
        for facts in &workload.facts {
            let joins: BTreeSet<(ColKey, ColKey)> = facts
                .joins
                .iter()
                .filter_map(|(a, b)| {
                    let (a, b) = (resolve(catalog, &index, a)?, resolve(catalog, &index, b)?);
                    (a.0 != b.0).then_some(if a < b { (a, b) } else { (b, a) })
                })
                .collect();
            let ranges = resolve_all(catalog, &index, &facts.ranges);
            count(&mut usage.ranges, &ranges);
            count(
                &mut usage.equalities,
                &resolve_all(catalog, &index, &facts.equalities),
            );
            count(
                &mut usage.group_by,
                &resolve_all(catalog, &index, &facts.group_by),
            );

            let columns: BTreeSet<ColKey> = joins.iter().flat_map(|&(a, b)| [a, b]).collect();
            count(&mut usage.joined_columns, &columns);
            let joined: BTreeSet<usize> = columns.iter().map(|c| c.0).collect();
            for table in joined {
                *usage.joined.entry(table).or_default() += 1;
            }
            let mut via: BTreeMap<ColKey, BTreeSet<ColKey>> = BTreeMap::new();
            for &(a, b) in &joins {
                for (this, other) in [(a, b), (b, a)] {
                    for &range in &ranges {
                        if range.0 == other.0 && is_date_or_time(catalog, range) {
                            via.entry(this).or_default().insert(range);
                        }
                    }
                }
                *usage.joins.entry((a, b)).or_default() += 1;
            }
            for (column, filtered) in via {
                let entry = usage.range_via_join.entry(column).or_default();
                entry.queries += 1;
                entry.filtered.extend(filtered);
            }
        }
        usage
    }

    /// Joins of `table`'s columns: (own column, partner column, queries), in key order.
    pub fn joins_of(&self, table: usize) -> Vec<(ColKey, ColKey, usize)> {
        self.joins
            .iter()
            .flat_map(|(&(a, b), &n)| {
                let mut found = Vec::new();
                if a.0 == table {
                    found.push((a, b, n));
                }
                if b.0 == table {
                    found.push((b, a, n));
                }
                found
            })
            .collect()
    }

    /// Number of queries joining `table` to another table.
    pub fn join_queries(&self, table: usize) -> usize {
        self.joined.get(&table).copied().unwrap_or(0)
    }

    /// Whether the workload says anything about `table`.
    pub fn mentions(&self, table: usize) -> bool {
        let on_table = |key: &ColKey| key.0 == table;
        self.joins.keys().any(|(a, b)| on_table(a) || on_table(b))
            || self.ranges.keys().any(on_table)
            || self.equalities.keys().any(on_table)
            || self.group_by.keys().any(on_table)
    }
}

/// Date, timestamp and timestamptz columns: the ones whose range filters make a leading sort key.
pub(crate) fn is_date_or_time(catalog: &Catalog, key: ColKey) -> bool {
    matches!(
        catalog.tables[key.0].columns[key.1].data_type,
        LogicalType::Date | LogicalType::Timestamp { .. }
    )
}

/// Why a column can't be a Redshift sort or distribution key, if it can't: SUPER (semi-structured
/// values) and the spatial types are not allowed as either.
pub(crate) fn unkeyable(catalog: &Catalog, key: ColKey) -> Option<String> {
    let data_type = &catalog.tables[key.0].columns[key.1].data_type;
    (data_type.is_semi_structured()
        || matches!(data_type, LogicalType::Geometry | LogicalType::Geography))
    .then(|| {
        format!(
            "{} values can't be a sort or distribution key",
            data_type.canonical_name()
        )
    })
}

fn count(counts: &mut BTreeMap<ColKey, usize>, keys: &BTreeSet<ColKey>) {
    for &key in keys {
        *counts.entry(key).or_default() += 1;
    }
}

fn resolve_all(catalog: &Catalog, index: &TableIndex, refs: &[ColumnRef]) -> BTreeSet<ColKey> {
    refs.iter()
        .filter_map(|r| resolve(catalog, index, r))
        .collect()
}

/// The one catalog column a reference can mean: the first tier of candidate tables holding a
/// column of that name decides; two candidates in that tier make it ambiguous, so it's dropped.
fn resolve(catalog: &Catalog, index: &TableIndex, reference: &ColumnRef) -> Option<ColKey> {
    for tier in &reference.tiers {
        let mut found: Vec<ColKey> = Vec::new();
        let candidates: BTreeSet<usize> = tier
            .iter()
            .flat_map(|name| index.find_all(&catalog.tables, name))
            .collect();
        for t in candidates {
            let table = &catalog.tables[t];
            if let Some(c) = table
                .columns
                .iter()
                .position(|column| column.name.matches(&reference.column))
            {
                found.push((t, c));
            }
        }
        match found.as_slice() {
            [] => continue,
            [one] => return Some(*one),
            _ => return None,
        }
    }
    None
}
