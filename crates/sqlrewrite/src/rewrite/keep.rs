//! `keep_dense_rank`: Oracle's `agg(x) KEEP (DENSE_RANK FIRST ORDER BY k)` computes the aggregate
//! over only the rows of the group that rank first by `k`, ties included (`LAST`: the rows that
//! rank last). The parser reads it as `agg(x) WITHIN GROUP (ORDER BY FIRST, k)` (see
//! `parse::oracle_keep_clauses`). `LAST` is `FIRST` with every key's order reversed, Oracle's
//! defaults written out (ASC NULLS LAST, DESC NULLS FIRST). PostgreSQL forms, each exact:
//! - `MIN`/`MAX`: `(ARRAY_AGG(x ORDER BY k, x DESC NULLS LAST))[1]` (`MIN`: `x ASC`). The first
//!   element is a first-ranked row's, the largest `x` among them: NULL only when all of theirs are.
//! - `MIN`/`MAX ... OVER (PARTITION BY p)`: `FIRST_VALUE(x)` over the partition in that order.
//! - `SUM`/`AVG`/`COUNT`: a scalar subquery ranks the group's rows with `DENSE_RANK` and
//!   aggregates those that rank first. It gets the rows as arrays: `ARRAY_AGG` of the outer
//!   query's columns inside a subquery is an aggregate of the outer query, over the group.
//!
//! Other forms (Redshift, which has no arrays; the analytic `SUM`; `STDDEV` and `VARIANCE`,
//! which Oracle makes 0 for one row) are `function.unsupported` with the hand rewrite.

use super::Ctx;
use crate::ast::{builtin_name, is_non_null_literal, is_null_literal, paren};
use migrate_core::{SourceDialect, TargetDialect};
use sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    OrderByExpr, OrderBySort, WindowType,
};
use std::ops::ControlFlow;

pub(crate) const NAME: &str = "keep_dense_rank";

/// The aggregates Oracle accepts KEEP on.
const AGGREGATES: &[&str] = &["MIN", "MAX", "SUM", "AVG", "COUNT", "STDDEV", "VARIANCE"];

/// A KEEP call taken apart, with its keys in `FIRST` order; keys that are literals (which rank
/// every row the same) are left out.
struct Keep {
    name: String,
    distinct: bool,
    /// `None` for `COUNT(*)`.
    value: Option<Expr>,
    keys: Vec<Key>,
    /// The expressions of `OVER (PARTITION BY ...)`, for the analytic form.
    partition: Option<Vec<Expr>>,
}

struct Key {
    expr: Expr,
    asc: bool,
    nulls_first: bool,
}

impl Key {
    /// `expr` ordered as this key, direction and NULLs position written out.
    fn order(&self, expr: &dyn std::fmt::Display) -> String {
        format!(
            "{expr} {} NULLS {}",
            if self.asc { "ASC" } else { "DESC" },
            if self.nulls_first { "FIRST" } else { "LAST" }
        )
    }
}

impl Keep {
    fn order_by(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|key| key.order(&key.expr)).collect();
        keys.join(", ")
    }
}

pub(crate) fn keep_dense_rank(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Oracle {
        return;
    }
    let Expr::Function(function) = expr else {
        return;
    };
    let Some(name) = builtin_name(function) else {
        return;
    };
    if !AGGREGATES.contains(&name.as_str()) {
        return;
    }
    let Some(last) = marker(function) else {
        return;
    };
    let written = written(function, last);
    let Some(keep) = take_apart(name, function, last) else {
        unsupported(ctx, &written, "rewrite the call by hand");
        return;
    };
    if keep.keys.is_empty() {
        // Every row ranks first: the plain aggregate.
        function.within_group.clear();
        ctx.log.applied(NAME);
        return;
    }
    let sql = match (ctx.to, keep.name.as_str(), &keep.partition) {
        (TargetDialect::Redshift, _, _) | (_, "STDDEV" | "VARIANCE", _) => None,
        (TargetDialect::Postgres, "MIN" | "MAX", None) => keep.value.as_ref().map(|value| {
            format!(
                "(ARRAY_AGG({value} ORDER BY {}, {} NULLS LAST))[1]",
                keep.order_by(),
                value_order(&keep.name, value)
            )
        }),
        (TargetDialect::Postgres, "MIN" | "MAX", Some(partition)) => {
            keep.value.as_ref().map(|value| {
                format!(
                    "FIRST_VALUE({value}) OVER ({}ORDER BY {}, {} NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)",
                    partition_by(partition),
                    keep.order_by(),
                    value_order(&keep.name, value)
                )
            })
        }
        (TargetDialect::Postgres, _, None) => ranked_subquery(&keep),
        (TargetDialect::Postgres, _, Some(_)) => None,
    };
    let replacement =
        sql.and_then(|sql| crate::parse::expression(&sql, SourceDialect::Postgres).ok());
    match replacement {
        Some(replacement) => {
            *expr = replacement;
            ctx.log.applied(NAME);
        }
        None => unsupported(ctx, &written, &hand_rewrite(&keep)),
    }
}

/// `Some(true)` for a call the parser read from `KEEP (DENSE_RANK LAST ...)`, `Some(false)` for
/// `FIRST`, `None` for any other call.
fn marker(function: &Function) -> Option<bool> {
    let first = function.within_group.first()?;
    let Expr::Identifier(ident) = &first.expr else {
        return None;
    };
    if ident.quote_style.is_some() || first.options.sort.is_some() {
        return None;
    }
    match ident.value.to_ascii_uppercase().as_str() {
        "FIRST" => Some(false),
        "LAST" => Some(true),
        _ => None,
    }
}

/// The call as Oracle wrote it, for messages.
fn written(function: &Function, last: bool) -> String {
    let mut call = function.clone();
    let keys: Vec<String> = call
        .within_group
        .drain(1..)
        .map(|k| k.to_string())
        .collect();
    call.within_group.clear();
    let over = call.over.take();
    let which = if last { "LAST" } else { "FIRST" };
    let mut written = format!(
        "{call} KEEP (DENSE_RANK {which} ORDER BY {})",
        keys.join(", ")
    );
    if let Some(over) = over {
        written.push_str(&format!(" OVER {over}"));
    }
    written
}

/// `None` for a shape Oracle does not write (a named window, OVER with ORDER BY, ...).
fn take_apart(name: String, function: &Function, last: bool) -> Option<Keep> {
    if function.filter.is_some()
        || function.null_treatment.is_some()
        || !matches!(function.parameters, FunctionArguments::None)
    {
        return None;
    }
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let [arg] = list.args.as_slice() else {
        return None;
    };
    if !list.clauses.is_empty() {
        return None;
    }
    let value = match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(value)) => Some(value.clone()),
        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "COUNT" => None,
        _ => return None,
    };
    let partition = match &function.over {
        None => None,
        Some(WindowType::WindowSpec(spec))
            if spec.window_name.is_none()
                && spec.order_by.is_empty()
                && spec.window_frame.is_none() =>
        {
            Some(spec.partition_by.clone())
        }
        Some(_) => return None,
    };
    let keys = function.within_group[1..]
        .iter()
        .filter(|key| !is_literal(&key.expr))
        .map(|key| first_order(key, last))
        .collect::<Option<Vec<Key>>>()?;
    Some(Keep {
        name,
        distinct: matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)),
        value,
        keys,
        partition,
    })
}

/// `key` with Oracle's defaults (ASC NULLS LAST, DESC NULLS FIRST) written out, and for `LAST`
/// reversed: the rows that rank last in one order rank first in the other.
/// `None` for `USING op`, which Oracle does not write.
fn first_order(key: &OrderByExpr, last: bool) -> Option<Key> {
    let asc = match key.options.sort {
        None | Some(OrderBySort::Asc) => true,
        Some(OrderBySort::Desc) => false,
        Some(OrderBySort::Using(_)) => return None,
    };
    let nulls_first = key.options.nulls_first.unwrap_or(!asc);
    Some(Key {
        expr: key.expr.clone(),
        asc: asc != last,
        nulls_first: nulls_first != last,
    })
}

/// The value as the last ordering key: among tied rows, the one whose value MAX (MIN) takes.
fn value_order(name: &str, value: &Expr) -> String {
    let direction = if name == "MAX" { "DESC" } else { "ASC" };
    format!("{} {direction}", paren(value.clone()))
}

fn partition_by(partition: &[Expr]) -> String {
    if partition.is_empty() {
        return String::new();
    }
    let exprs: Vec<String> = partition.iter().map(ToString::to_string).collect();
    format!("PARTITION BY {} ", exprs.join(", "))
}

/// `(SELECT agg(v) FROM (SELECT v, DENSE_RANK() OVER (ORDER BY k1, ...) AS rnk FROM
/// UNNEST(ARRAY_AGG(x), ARRAY_AGG(y), ...) AS grp(v, k1, ...)) AS ranked WHERE rnk = 1)`: the
/// arrays are aggregated in one pass over the group's rows, so their elements line up. `None`
/// when a value or key reads no column: `ARRAY_AGG` of it would be the subquery's aggregate.
fn ranked_subquery(keep: &Keep) -> Option<String> {
    let mut arrays = Vec::new();
    let mut columns = Vec::new();
    let value = match &keep.value {
        None => "*".to_string(),
        Some(value) if is_literal(value) => value.to_string(),
        Some(value) if has_column(value) => {
            arrays.push(format!("ARRAY_AGG({value})"));
            columns.push("v".to_string());
            "v".to_string()
        }
        Some(_) => return None,
    };
    let selected = if columns.is_empty() { "" } else { "v, " };
    let mut order = Vec::new();
    for (n, key) in keep.keys.iter().enumerate() {
        if !has_column(&key.expr) {
            return None;
        }
        let column = format!("k{}", n + 1);
        arrays.push(format!("ARRAY_AGG({})", key.expr));
        order.push(key.order(&column));
        columns.push(column);
    }
    let distinct = if keep.distinct { "DISTINCT " } else { "" };
    Some(format!(
        "(SELECT {}({distinct}{value}) FROM (SELECT {selected}DENSE_RANK() OVER (ORDER BY {}) AS rnk FROM UNNEST({}) AS grp({})) AS ranked WHERE rnk = 1)",
        keep.name,
        order.join(", "),
        arrays.join(", "),
        columns.join(", ")
    ))
}

fn is_literal(expr: &Expr) -> bool {
    is_null_literal(expr) || is_non_null_literal(expr)
}

/// Whether `expr` reads a column (an identifier).
fn has_column(expr: &Expr) -> bool {
    sqlparser::ast::visit_expressions(expr, |e| match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// The textbook form: rank the rows in a subquery, then aggregate those ranked first.
fn hand_rewrite(keep: &Keep) -> String {
    let value = keep
        .value
        .as_ref()
        .map_or_else(|| "1".to_string(), ToString::to_string);
    let partition = match &keep.partition {
        Some(partition) => partition_by(partition),
        None => "PARTITION BY the GROUP BY expressions ".to_string(),
    };
    let over = match &keep.partition {
        Some(partition) => format!(" OVER ({})", partition_by(partition).trim_end()),
        None => String::new(),
    };
    let distinct = if keep.distinct { "DISTINCT " } else { "" };
    format!(
        "rank the rows in a subquery, DENSE_RANK() OVER ({partition}ORDER BY {}) AS rnk, and take {}({distinct}CASE WHEN rnk = 1 THEN {value} END){over} from it",
        keep.order_by(),
        keep.name
    )
}

fn unsupported(ctx: &mut Ctx, written: &str, action: &str) {
    ctx.log.action(
        "function.unsupported",
        format!("`{written}` has no equivalent in {}", ctx.to),
        action,
    );
}
