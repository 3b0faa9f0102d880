//! Distribution style: ALL, KEY, EVEN or AUTO, following Redshift's best practices.
//!
//! 1. **ALL** for small dimensions: row count known and at most `all_max_rows`, and the table is
//!    joined in the workload or referenced by a foreign key. Joins to it are then local everywhere.
//! 2. **KEY**, tables above `all_max_rows` taken largest first, from the first rule that yields
//!    an acceptable column:
//!    1. workload: the equi-join with the highest (queries x partner rows), partner too large for
//!       ALL; both sides get the KEY on their join column, so the join is co-located;
//!    2. Hive `CLUSTERED BY`: the source already hashes rows on these columns;
//!    3. hash (Oracle HASH, MySQL KEY) partitioning or subpartitioning key;
//!    4. foreign key graph: the single-column foreign key to the largest referenced table that is
//!       too large for ALL (that table gets the KEY on the referenced column);
//!    5. the single-column primary key of a table with no foreign keys.
//!
//!    A column is acceptable with at least `key_min_distinct` distinct values, its most common value
//!    in at most `key_max_most_common_fraction` of rows and at most `key_max_null_fraction` NULLs;
//!    rejected candidates are recorded with the reason.
//! 3. **EVEN** for a large table with no acceptable key.
//! 4. **AUTO** when the row count is unknown ("no statistics: Redshift chooses") and for small
//!    tables nothing joins to. Bucketing and hash partitioning still give a KEY without a row
//!    count: they are explicit physical design in the source.

use crate::text::{count, percent};
use crate::usage::{unkeyable, ColKey};
use crate::Context;
use migrate_core::{DistStyle, Evidence, LogicalType, PartitionMethod};

#[derive(Debug, Clone)]
pub(crate) struct Distribution {
    pub style: DistStyle,
    pub evidence: Evidence,
}

/// A KEY choice: the table's column and, when the choice co-locates with a table not yet decided,
/// that table's decision.
struct KeyChoice {
    own: Distribution,
    partner: Option<(usize, Distribution)>,
}

pub(crate) fn distribute(ctx: &Context) -> Vec<Distribution> {
    let n = ctx.catalog.tables.len();
    let referrers = referrers(ctx);
    let mut decided: Vec<Option<Distribution>> = vec![None; n];

    for (table, decision) in decided.iter_mut().enumerate() {
        *decision = all(ctx, table, &referrers[table]);
    }

    let mut order: Vec<usize> = (0..n).filter(|&t| decided[t].is_none()).collect();
    order.sort_by(|&a, &b| {
        ctx.rows(b).cmp(&ctx.rows(a)).then_with(|| {
            ctx.table_name(a)
                .to_string()
                .cmp(&ctx.table_name(b).to_string())
        })
    });
    let largest = order.first().copied();

    for table in order {
        if decided[table].is_some() {
            continue;
        }
        let size = size_sentence(ctx, table, largest == Some(table));
        let mut notes = Vec::new();
        let choice = match ctx.rows(table) {
            Some(rows) if rows > ctx.thresholds.all_max_rows => {
                by_workload(ctx, table, &decided, &size, &mut notes)
                    .or_else(|| by_bucketing(ctx, table, &size, &mut notes))
                    .or_else(|| by_hash_partitioning(ctx, table, &size, &mut notes))
                    .or_else(|| by_foreign_key(ctx, table, &decided, &size, &mut notes))
                    .or_else(|| by_primary_key(ctx, table, &size))
            }
            Some(_) => None,
            None => by_bucketing(ctx, table, &size, &mut notes)
                .or_else(|| by_hash_partitioning(ctx, table, &size, &mut notes)),
        };
        match choice {
            Some(choice) => {
                decided[table] = Some(choice.own);
                if let Some((partner, distribution)) = choice.partner {
                    decided[partner] = Some(distribution);
                }
            }
            None => decided[table] = Some(fallback(ctx, table, size, notes)),
        }
    }
    decided
        .into_iter()
        .enumerate()
        .map(|(table, d)| d.unwrap_or_else(|| fallback(ctx, table, String::new(), Vec::new())))
        .collect()
}

/// For each table, the tables whose foreign keys reference it (by name, sorted).
fn referrers(ctx: &Context) -> Vec<Vec<String>> {
    let tables = &ctx.catalog.tables;
    let mut referrers = vec![Vec::new(); tables.len()];
    for table in tables {
        for fk in table.foreign_keys() {
            for index in ctx.index.find_all(tables, &fk.referenced_table) {
                if !tables[index].name.matches(&table.name) {
                    referrers[index].push(table.name.to_string());
                }
            }
        }
    }
    for list in &mut referrers {
        list.sort();
        list.dedup();
    }
    referrers
}

fn all(ctx: &Context, table: usize, referrers: &[String]) -> Option<Distribution> {
    let rows = ctx.rows(table)?;
    let joined = ctx.usage.join_queries(table);
    if rows > ctx.thresholds.all_max_rows || (joined == 0 && referrers.is_empty()) {
        return None;
    }
    let mut reasons = vec![format!(
        "{} rows, at most the {}-row threshold for ALL: a copy on every node makes joins to it local",
        count(rows),
        count(ctx.thresholds.all_max_rows)
    )];
    if joined > 0 {
        reasons.push(format!(
            "joined in {joined} of {} queries",
            ctx.usage.queries
        ));
    }
    if !referrers.is_empty() {
        reasons.push(format!(
            "referenced by foreign keys from {}",
            referrers.join(", ")
        ));
    }
    Some(Distribution {
        style: DistStyle::All,
        evidence: Evidence {
            choice: "diststyle all".to_string(),
            reasons,
        },
    })
}

fn fallback(ctx: &Context, table: usize, size: String, mut notes: Vec<String>) -> Distribution {
    match ctx.rows(table) {
        Some(rows) if rows > ctx.thresholds.all_max_rows => {
            let mut reasons = vec![size];
            if notes.is_empty() {
                notes.push("no join, bucketing, hash partitioning, foreign key or single-column primary key suggests a distribution key".to_string());
            }
            reasons.extend(notes);
            Distribution {
                style: DistStyle::Even,
                evidence: Evidence {
                    choice: "diststyle even".to_string(),
                    reasons,
                },
            }
        }
        Some(rows) => {
            let mut reasons = vec![format!(
                "{} rows, at most the {}-row threshold for ALL, but neither joined in the workload nor referenced by a foreign key: Redshift chooses",
                count(rows),
                count(ctx.thresholds.all_max_rows)
            )];
            reasons.extend(notes);
            auto(reasons)
        }
        None => {
            let mut reasons = vec![format!(
                "no statistics: Redshift chooses (no row count for {})",
                ctx.table_name(table)
            )];
            reasons.extend(notes);
            auto(reasons)
        }
    }
}

fn auto(reasons: Vec<String>) -> Distribution {
    Distribution {
        style: DistStyle::Auto,
        evidence: Evidence {
            choice: "diststyle auto".to_string(),
            reasons,
        },
    }
}

fn size_sentence(ctx: &Context, table: usize, largest: bool) -> String {
    match ctx.rows(table) {
        Some(rows) if largest => format!("largest table ({} rows)", count(rows)),
        Some(rows) if rows > ctx.thresholds.all_max_rows => format!(
            "{} rows, above the {}-row threshold for ALL",
            count(rows),
            count(ctx.thresholds.all_max_rows)
        ),
        Some(rows) => format!("{} rows", count(rows)),
        None => "row count unknown".to_string(),
    }
}

fn key_on(ctx: &Context, column: ColKey, reasons: Vec<String>) -> Distribution {
    let name = ctx.catalog.tables[column.0].columns[column.1].name.clone();
    Distribution {
        evidence: Evidence {
            choice: format!("distkey({name})"),
            reasons,
        },
        style: DistStyle::Key(name),
    }
}

/// Whether a column can spread rows evenly: `Ok("col: what we know")` or `Err(why not)`.
fn judge(ctx: &Context, column: ColKey) -> Result<String, String> {
    let t = ctx.thresholds;
    let name = ctx.column_name(column);
    let data_type = &ctx.catalog.tables[column.0].columns[column.1].data_type;
    if let Some(why) = unkeyable(ctx.catalog, column) {
        return Err(why);
    }
    if matches!(data_type, LogicalType::Boolean) {
        return Err(format!(
            "boolean, at most 2 distinct values, below the {} needed to spread rows over the slices",
            count(t.key_min_distinct)
        ));
    }
    let table = &ctx.catalog.tables[column.0];
    let is_identity = table
        .row_identity()
        .is_some_and(|cols| matches!(cols, [only] if only.matches(&table.columns[column.1].name)));
    let stats = ctx.column_stats(column);
    if let Some(distinct) = stats.and_then(|s| s.distinct) {
        if distinct < t.key_min_distinct {
            return Err(format!(
                "{} distinct values, below the {} needed to spread rows over the slices",
                count(distinct),
                count(t.key_min_distinct)
            ));
        }
    }
    if let Some(share) = stats.and_then(|s| s.most_common_fraction) {
        if share > t.key_max_most_common_fraction {
            return Err(format!(
                "its most common value holds {} of rows, above {}: one slice would hold them all",
                percent(share),
                percent(t.key_max_most_common_fraction)
            ));
        }
    }
    if let Some(nulls) = stats.and_then(|s| s.null_fraction) {
        if nulls > t.key_max_null_fraction {
            return Err(format!(
                "{} NULL, above {}: every NULL lands on the same slice",
                percent(nulls),
                percent(t.key_max_null_fraction)
            ));
        }
    }
    let mut facts = Vec::new();
    if is_identity {
        facts.push("unique key".to_string());
    }
    if let Some(s) = stats {
        if let Some(distinct) = s.distinct {
            facts.push(format!("{} distinct values", count(distinct)));
        }
        if let Some(nulls) = s.null_fraction {
            facts.push(format!("{} NULL", percent(nulls)));
        }
        if let Some(share) = s.most_common_fraction {
            facts.push(format!("most common value in {} of rows", percent(share)));
        }
    }
    Ok(if facts.is_empty() {
        format!("{name}: no column statistics, so cardinality and skew are unchecked")
    } else {
        format!("{name}: {}", facts.join(", "))
    })
}

fn by_workload(
    ctx: &Context,
    table: usize,
    decided: &[Option<Distribution>],
    size: &str,
    notes: &mut Vec<String>,
) -> Option<KeyChoice> {
    let queries = ctx.usage.queries;
    let all_max = ctx.thresholds.all_max_rows;
    let mut local = Vec::new();
    let mut candidates = Vec::new();
    for (own, partner, n) in ctx.usage.joins_of(table) {
        let partner_rows = ctx.rows(partner.0);
        match decided[partner.0].as_ref().map(|d| &d.style) {
            Some(DistStyle::All) => local.push(ctx.table_name(partner.0).to_string()),
            Some(DistStyle::Key(column))
                if ctx.catalog.tables[partner.0].columns[partner.1]
                    .name
                    .matches(column) =>
            {
                candidates.push((
                    n as u128 * partner_rows.unwrap_or(0) as u128,
                    n,
                    own,
                    partner,
                ));
            }
            Some(_) => notes.push(format!(
                "joins {} in {n} of {queries} queries, but {} is distributed otherwise",
                ctx.qualified_column(partner),
                ctx.table_name(partner.0)
            )),
            None => match partner_rows {
                Some(rows) if rows > all_max => {
                    candidates.push((n as u128 * rows as u128, n, own, partner))
                }
                Some(_) => {}
                None => notes.push(format!(
                    "joins {} in {n} of {queries} queries, but {} has no row count",
                    ctx.qualified_column(partner),
                    ctx.table_name(partner.0)
                )),
            },
        }
    }
    candidates.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then_with(|| ctx.column_name(a.2).cmp(&ctx.column_name(b.2)))
            .then_with(|| ctx.qualified_column(a.3).cmp(&ctx.qualified_column(b.3)))
    });
    local.sort();
    local.dedup();
    for (_, n, own, partner) in candidates {
        let join = format!(
            "joins {} in {n} of {queries} queries",
            ctx.qualified_column(partner)
        );
        let own_quality = match judge(ctx, own) {
            Ok(quality) => quality,
            Err(reason) => {
                notes.push(format!(
                    "rejected {}: {join}, but {reason}",
                    ctx.column_name(own)
                ));
                continue;
            }
        };
        let partner_undecided = decided[partner.0].is_none();
        let partner_quality = if partner_undecided {
            match judge(ctx, partner) {
                Ok(quality) => Some(quality),
                Err(reason) => {
                    notes.push(format!(
                        "rejected {}: {join}, but {}: {reason}",
                        ctx.column_name(own),
                        ctx.qualified_column(partner)
                    ));
                    continue;
                }
            }
        } else {
            None
        };
        let partner_rows = ctx.rows(partner.0).unwrap_or(0);
        let mut reasons = vec![
            join,
            size.to_string(),
            format!(
                "{} has {} rows, above the {}-row threshold for ALL: the join is local only when both sides are distributed on it",
                ctx.table_name(partner.0),
                count(partner_rows),
                count(all_max)
            ),
            own_quality,
        ];
        if !local.is_empty() {
            reasons.push(format!(
                "joins to {} need no co-location: distributed ALL",
                local.join(", ")
            ));
        }
        reasons.append(notes);
        let partner = partner_quality.map(|quality| {
            (
                partner.0,
                key_on(
                    ctx,
                    partner,
                    vec![
                        format!(
                            "co-located with {} ({}): joined in {n} of {queries} queries",
                            ctx.qualified_column(own),
                            ctx.rows(table)
                                .map(|r| format!("{} rows", count(r)))
                                .unwrap_or_else(|| "row count unknown".to_string())
                        ),
                        size_sentence(ctx, partner.0, false),
                        quality,
                    ],
                ),
            )
        });
        return Some(KeyChoice {
            own: key_on(ctx, own, reasons),
            partner,
        });
    }
    None
}

/// The first acceptable column of `columns`, named as in the source.
fn first_acceptable(
    ctx: &Context,
    table: usize,
    columns: &[migrate_core::Ident],
    source: &str,
    size: &str,
    notes: &mut Vec<String>,
) -> Option<KeyChoice> {
    for name in columns {
        let Some(index) = ctx.column_index(table, name) else {
            notes.push(format!("{source}: {name} is not a column of the table"));
            continue;
        };
        match judge(ctx, (table, index)) {
            Ok(quality) => {
                let mut reasons = vec![source.to_string(), size.to_string(), quality];
                reasons.append(notes);
                return Some(KeyChoice {
                    own: key_on(ctx, (table, index), reasons),
                    partner: None,
                });
            }
            Err(reason) => notes.push(format!("rejected {name} ({source}): {reason}")),
        }
    }
    None
}

fn column_list(columns: &[migrate_core::Ident]) -> String {
    columns
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn by_bucketing(
    ctx: &Context,
    table: usize,
    size: &str,
    notes: &mut Vec<String>,
) -> Option<KeyChoice> {
    let bucketing = ctx.catalog.tables[table].bucketing.as_ref()?;
    let source = format!(
        "Hive CLUSTERED BY ({}) INTO {} BUCKETS: the source already hashes rows on it",
        column_list(&bucketing.columns),
        bucketing.buckets
    );
    first_acceptable(ctx, table, &bucketing.columns, &source, size, notes)
}

fn by_hash_partitioning(
    ctx: &Context,
    table: usize,
    size: &str,
    notes: &mut Vec<String>,
) -> Option<KeyChoice> {
    let partitioning = ctx.catalog.tables[table].partitioning.as_ref()?;
    let is_hash = |method| matches!(method, PartitionMethod::Hash | PartitionMethod::Key);
    let (level, scheme) = if is_hash(partitioning.method) {
        ("partitioned", partitioning)
    } else {
        match partitioning.subpartitioning.as_deref() {
            Some(sub) if is_hash(sub.method) => ("subpartitioned", sub),
            _ => return None,
        }
    };
    let source = format!(
        "hash-{level} on ({}) in the source",
        column_list(&scheme.columns)
    );
    first_acceptable(ctx, table, &scheme.columns, &source, size, notes)
}

fn by_foreign_key(
    ctx: &Context,
    table: usize,
    decided: &[Option<Distribution>],
    size: &str,
    notes: &mut Vec<String>,
) -> Option<KeyChoice> {
    let this = &ctx.catalog.tables[table];
    let mut candidates = Vec::new();
    for fk in this.foreign_keys() {
        let [column] = fk.columns.as_slice() else {
            continue;
        };
        let Some(own) = ctx.column_index(table, column) else {
            continue;
        };
        for target in ctx
            .index
            .find_all(&ctx.catalog.tables, &fk.referenced_table)
        {
            let referenced = &ctx.catalog.tables[target];
            if target == table {
                continue;
            }
            let referenced_column = match fk.referenced_columns.as_slice() {
                [one] => Some(one),
                [] => match referenced.primary_key() {
                    Some([one]) => Some(one),
                    _ => None,
                },
                _ => None,
            };
            let Some(partner) = referenced_column.and_then(|c| ctx.column_index(target, c)) else {
                continue;
            };
            let Some(rows) = ctx.rows(target) else {
                continue;
            };
            let co_locatable = match decided[target].as_ref().map(|d| &d.style) {
                None => rows > ctx.thresholds.all_max_rows,
                Some(DistStyle::Key(key)) => referenced.columns[partner].name.matches(key),
                Some(_) => false,
            };
            if co_locatable {
                candidates.push((rows, (table, own), (target, partner)));
            }
        }
    }
    candidates.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| ctx.qualified_column(a.2).cmp(&ctx.qualified_column(b.2)))
    });
    for (rows, own, partner) in candidates {
        let reference = format!(
            "foreign key {} references {}, the largest table it references that is too large for ALL ({} rows)",
            ctx.column_name(own),
            ctx.qualified_column(partner),
            count(rows)
        );
        let quality = match judge(ctx, own) {
            Ok(quality) => quality,
            Err(reason) => {
                notes.push(format!("rejected {}: {reason}", ctx.column_name(own)));
                continue;
            }
        };
        let partner_choice = if decided[partner.0].is_none() {
            match judge(ctx, partner) {
                Ok(partner_quality) => Some((
                    partner.0,
                    key_on(
                        ctx,
                        partner,
                        vec![
                            format!(
                                "co-located with {}, a foreign key referencing it",
                                ctx.qualified_column(own)
                            ),
                            size_sentence(ctx, partner.0, false),
                            partner_quality,
                        ],
                    ),
                )),
                Err(reason) => {
                    notes.push(format!(
                        "rejected {}: {}: {reason}",
                        ctx.column_name(own),
                        ctx.qualified_column(partner)
                    ));
                    continue;
                }
            }
        } else {
            None
        };
        let mut reasons = vec![reference, size.to_string(), quality];
        reasons.append(notes);
        return Some(KeyChoice {
            own: key_on(ctx, own, reasons),
            partner: partner_choice,
        });
    }
    None
}

fn by_primary_key(ctx: &Context, table: usize, size: &str) -> Option<KeyChoice> {
    let this = &ctx.catalog.tables[table];
    if this.foreign_keys().next().is_some() {
        return None;
    }
    let [column] = this.primary_key()? else {
        return None;
    };
    let index = ctx.column_index(table, column)?;
    Some(KeyChoice {
        own: key_on(
            ctx,
            (table, index),
            vec![
                format!(
                    "primary key {column} of a table with no foreign keys: unique values spread rows evenly, and tables joining on it can be co-located"
                ),
                size.to_string(),
            ],
        ),
        partner: None,
    })
}
