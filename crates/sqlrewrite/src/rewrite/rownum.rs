//! `rownum_to_limit`: Oracle `WHERE ROWNUM <= n` (or `< n`, `= 1`) becomes `LIMIT`.
//!
//! ROWNUM is assigned as rows pass the WHERE clause, *before* GROUP BY, DISTINCT, aggregates,
//! window functions and ORDER BY; LIMIT applies after all of them. So the rewrite is made only
//! where both mean the same:
//! - the top-N idiom `SELECT .. FROM (SELECT .. ORDER BY ..) WHERE ROWNUM <= n`: the LIMIT goes
//!   into the ordered subquery (Redshift does not keep a subquery's order for the outer query);
//! - a query whose select list is row by row (no GROUP BY, HAVING, DISTINCT, aggregate or window
//!   function): LIMIT on the query. If it has an ORDER BY, the target returns the first n rows
//!   in that order where Oracle returned any n rows, then sorted: reported as a warning.
//!
//! Anything else keeps ROWNUM, which is then reported as `view.rownum`.

use super::Ctx;
use crate::ast::{and_all, conjuncts, integer_literal, number};
use sqlparser::ast::{
    BinaryOperator, Distinct, Expr, GroupByExpr, LimitClause, Query, Select, SelectItem, SetExpr,
    TableFactor, Visit, Visitor,
};
use std::ops::ControlFlow;

pub(crate) const NAME: &str = "rownum_to_limit";

pub(crate) fn rownum_to_limit(query: &mut Query, ctx: &mut Ctx) {
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return;
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let Some(selection) = &select.selection else {
        return;
    };
    let mut parts = conjuncts(selection.clone());
    let Some((i, limit)) = parts
        .iter()
        .enumerate()
        .find_map(|(i, part)| rownum_bound(part).map(|n| (i, n)))
    else {
        return;
    };
    let pushed_down = parts.len() == 1 && limit_ordered_subquery(select, limit);
    if !pushed_down && !row_by_row(select) {
        return;
    }
    parts.remove(i);
    select.selection = and_all(parts);
    ctx.log.applied(NAME);
    if pushed_down {
        return;
    }
    query.limit_clause = Some(limit_clause(limit));
    if query.order_by.is_some() {
        ctx.log.warning(
            "view.rownum-order-by",
            "Oracle applied ROWNUM before ORDER BY (any n rows, then sorted); LIMIT returns the first n rows in order",
            "check that the first n rows in order are what the view should return",
        );
    }
}

fn limit_clause(n: u64) -> LimitClause {
    LimitClause::LimitOffset {
        limit: Some(number(n)),
        offset: None,
        limit_by: Vec::new(),
    }
}

/// The LIMIT equivalent of `ROWNUM <= n`, `ROWNUM < n`, `ROWNUM = 1` (either way round).
fn rownum_bound(expr: &Expr) -> Option<u64> {
    let Expr::BinaryOp { left, op, right } = expr else {
        return None;
    };
    let (op, bound) = match (is_rownum(left), is_rownum(right)) {
        (true, false) => (op.clone(), integer_literal(right)?),
        (false, true) => (flip(op)?, integer_literal(left)?),
        _ => return None,
    };
    match op {
        BinaryOperator::LtEq => Some(bound),
        BinaryOperator::Lt => Some(bound.saturating_sub(1)),
        BinaryOperator::Eq if bound == 1 => Some(1),
        _ => None,
    }
}

fn flip(op: &BinaryOperator) -> Option<BinaryOperator> {
    match op {
        BinaryOperator::GtEq => Some(BinaryOperator::LtEq),
        BinaryOperator::Gt => Some(BinaryOperator::Lt),
        BinaryOperator::Eq => Some(BinaryOperator::Eq),
        _ => None,
    }
}

fn is_rownum(expr: &Expr) -> bool {
    matches!(expr, Expr::Identifier(ident) if ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("rownum"))
}

/// The top-N idiom: the only FROM item is an ordered subquery without a limit of its own.
fn limit_ordered_subquery(select: &mut Select, limit: u64) -> bool {
    let [only] = select.from.as_mut_slice() else {
        return false;
    };
    if !only.joins.is_empty() {
        return false;
    }
    let TableFactor::Derived {
        subquery,
        lateral: false,
        ..
    } = &mut only.relation
    else {
        return false;
    };
    if subquery.order_by.is_none() || subquery.limit_clause.is_some() || subquery.fetch.is_some() {
        return false;
    }
    subquery.limit_clause = Some(limit_clause(limit));
    true
}

/// Whether every output row comes from one input row, so limiting before or after is the same.
fn row_by_row(select: &Select) -> bool {
    let grouped = match &select.group_by {
        GroupByExpr::All(_) => true,
        GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
    };
    if grouped
        || select.having.is_some()
        || matches!(select.distinct, Some(Distinct::Distinct | Distinct::On(_)))
    {
        return false;
    }
    let mut finder = AggregateFinder;
    select.projection.iter().all(|item| match item {
        SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
            expr.visit(&mut finder).is_continue()
        }
        _ => true,
    })
}

/// Breaks on a window function or a call to a well-known aggregate.
struct AggregateFinder;

/// Well-known aggregates (and ranking functions) of the source dialects.
pub(crate) const AGGREGATES: &[&str] = &[
    "ANY_VALUE",
    "ARRAY_AGG",
    "AVG",
    "BIT_AND",
    "BIT_OR",
    "BIT_XOR",
    "BOOL_AND",
    "BOOL_OR",
    "COLLECT",
    "CORR",
    "COUNT",
    "COVAR_POP",
    "COVAR_SAMP",
    "CUME_DIST",
    "DENSE_RANK",
    "EVERY",
    "GROUP_CONCAT",
    "JSONB_AGG",
    "JSONB_OBJECT_AGG",
    "JSON_AGG",
    "JSON_ARRAYAGG",
    "JSON_OBJECTAGG",
    "JSON_OBJECT_AGG",
    "LISTAGG",
    "MAX",
    "MEDIAN",
    "MIN",
    "MODE",
    "PERCENTILE_CONT",
    "PERCENTILE_DISC",
    "PERCENT_RANK",
    "RANGE_AGG",
    "RANGE_INTERSECT_AGG",
    "RANK",
    "STD",
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "STRING_AGG",
    "SUM",
    "VARIANCE",
    "VAR_POP",
    "VAR_SAMP",
    "XMLAGG",
];

/// Aggregates inside a scalar subquery belong to that subquery, but are found too: a false "not
/// row by row" only costs a note, never wrong SQL.
impl Visitor for AggregateFinder {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(function)
                if function.over.is_some()
                    || crate::ast::builtin_name(function)
                        .is_some_and(|name| AGGREGATES.contains(&name.as_str())) =>
            {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        }
    }
}
