//! Compound sort key. Redshift skips blocks whose min/max (zone maps) exclude a filter, and the
//! leading column decides most of that, so the column most often range-filtered leads.
//!
//! With a workload that mentions the table, columns are ranked in three tiers:
//! 1. date/timestamp columns used in range filters (most queries first);
//! 2. join columns through which a range filter on a date/timestamp column of the joined table
//!    reaches this one (`ss_sold_date_sk = d_date_sk AND d_date BETWEEN ...`): filtering the
//!    dimension restricts the fact table to a range of keys;
//! 3. other columns by queries filtering (range or equality) or joining on them, then grouping.
//!
//! Without one: range/interval partition keys and Hive partition columns lead, then Hive
//! `SORTED BY` columns, then the primary key.
//!
//! Columns Redshift can't sort by (SUPER, GEOMETRY, GEOGRAPHY) are left out, with a note.
//!
//! The key stops after a unique column (later columns would never be consulted) and after
//! `max_sortkey_columns` columns.

use crate::usage::{is_date_or_time, unkeyable, ColKey};
use crate::Context;
use migrate_core::{Evidence, Ident, PartitionMethod};
use std::collections::BTreeMap;

pub(crate) fn sort_key(ctx: &Context, table: usize) -> (Vec<Ident>, Evidence) {
    let (ranked, mut notes) = if ctx.usage.mentions(table) {
        (from_workload(ctx, table), Vec::new())
    } else {
        from_structure(ctx, table)
    };
    let mut candidates = Vec::new();
    for (index, reason) in ranked {
        match unkeyable(ctx.catalog, (table, index)) {
            Some(why) => notes.push(format!(
                "left out {}: {why}",
                ctx.column_name((table, index))
            )),
            None => candidates.push((index, reason)),
        }
    }
    let limit = ctx.thresholds.max_sortkey_columns;
    let mut columns = Vec::new();
    let mut reasons = Vec::new();
    for (index, reason) in candidates.iter() {
        if columns.len() == limit {
            reasons.push(format!(
                "kept the first {limit} of {} candidate columns: a later column helps only queries that filter on every earlier one",
                candidates.len()
            ));
            break;
        }
        let key = (table, *index);
        columns.push(ctx.catalog.tables[table].columns[*index].name.clone());
        reasons.push(reason.clone());
        if ctx.is_unique(key) && columns.len() < candidates.len() {
            reasons.push(format!(
                "stopped after {}: it is unique, so later sort key columns would never be consulted",
                ctx.column_name(key)
            ));
            break;
        }
    }
    if columns.is_empty() {
        reasons.push("no range or equality filter, join, range/interval/Hive partitioning, SORTED BY or primary key to sort by".to_string());
    }
    reasons.append(&mut notes);
    let choice = if columns.is_empty() {
        "no sortkey".to_string()
    } else {
        format!(
            "sortkey({})",
            columns
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    (columns, Evidence { choice, reasons })
}

/// Ranked (column index, reason) pairs from the workload.
fn from_workload(ctx: &Context, table: usize) -> Vec<(usize, String)> {
    let usage = &ctx.usage;
    let queries = usage.queries;
    let of_table = |counts: &BTreeMap<ColKey, usize>| -> BTreeMap<usize, usize> {
        counts
            .iter()
            .filter(|(key, _)| key.0 == table)
            .map(|(key, &n)| (key.1, n))
            .collect()
    };
    let ranges = of_table(&usage.ranges);
    let equalities = of_table(&usage.equalities);
    let joins = of_table(&usage.joined_columns);
    let groups = of_table(&usage.group_by);
    let name = |index: usize| ctx.column_name((table, index));

    let mut ranked: Vec<(usize, String)> = Vec::new();

    let mut temporal: Vec<(usize, usize)> = ranges
        .iter()
        .filter(|(&c, _)| is_date_or_time(ctx.catalog, (table, c)))
        .map(|(&c, &n)| (c, n))
        .collect();
    temporal.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| name(a.0).cmp(&name(b.0))));
    for (c, n) in temporal {
        ranked.push((
            c,
            format!("{}: range-filtered in {n} of {queries} queries", name(c)),
        ));
    }

    let mut via: Vec<(usize, usize, String)> = usage
        .range_via_join
        .iter()
        .filter(|(key, _)| key.0 == table)
        .map(|(key, v)| {
            let filtered: Vec<String> = v
                .filtered
                .iter()
                .map(|&k| ctx.qualified_column(k))
                .collect();
            (key.1, v.queries, filtered.join(", "))
        })
        .collect();
    via.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| name(a.0).cmp(&name(b.0))));
    for (c, n, filtered) in via {
        if !ranked.iter().any(|(r, _)| *r == c) {
            ranked.push((
                c,
                format!(
                    "{}: range filters on {filtered} reach it through joins in {n} of {queries} queries",
                    name(c)
                ),
            ));
        }
    }

    let mut others: Vec<(usize, usize, usize)> = (0..ctx.catalog.tables[table].columns.len())
        .filter(|c| !ranked.iter().any(|(r, _)| r == c))
        .map(|c| {
            let get = |m: &BTreeMap<usize, usize>| m.get(&c).copied().unwrap_or(0);
            (
                c,
                get(&ranges) + get(&equalities) + get(&joins),
                get(&groups),
            )
        })
        .filter(|&(_, uses, grouped)| uses + grouped > 0)
        .collect();
    others.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(b.2.cmp(&a.2))
            .then_with(|| name(a.0).cmp(&name(b.0)))
    });
    for (c, _, _) in others {
        let parts: Vec<String> = [
            ("range-filtered", &ranges),
            ("equality-filtered", &equalities),
            ("joined", &joins),
            ("grouped by", &groups),
        ]
        .iter()
        .filter_map(|(what, m)| m.get(&c).map(|n| format!("{what} in {n}")))
        .collect();
        ranked.push((
            c,
            format!("{}: {} of {queries} queries", name(c), parts.join(", ")),
        ));
    }
    ranked
}

/// Ranked (column index, reason) pairs from the table's definition, plus notes on columns named
/// by the definition but missing from the table.
fn from_structure(ctx: &Context, table: usize) -> (Vec<(usize, String)>, Vec<String>) {
    let this = &ctx.catalog.tables[table];
    let mut named: Vec<(&Ident, String)> = Vec::new();
    if let Some(partitioning) = &this.partitioning {
        let source = match partitioning.method {
            PartitionMethod::Range => Some("range partition key in the source"),
            PartitionMethod::Interval => Some("interval partition key in the source"),
            PartitionMethod::Value => Some("Hive partition column"),
            _ => None,
        };
        if let Some(source) = source {
            named.extend(partitioning.columns.iter().map(|c| (c, source.to_string())));
        }
    }
    if let Some(bucketing) = &this.bucketing {
        named.extend(
            bucketing
                .sorted_by
                .iter()
                .map(|c| (c, "Hive SORTED BY column".to_string())),
        );
    }
    if let Some(pk) = this.primary_key() {
        named.extend(pk.iter().map(|c| (c, "primary key column".to_string())));
    }
    let mut ranked: Vec<(usize, String)> = Vec::new();
    let mut notes = Vec::new();
    for (column, source) in named {
        match ctx.column_index(table, column) {
            Some(index) if ranked.iter().any(|(r, _)| *r == index) => {}
            Some(index) => ranked.push((index, format!("{column}: {source}"))),
            None => notes.push(format!("{column} ({source}) is not a column of the table")),
        }
    }
    (ranked, notes)
}
