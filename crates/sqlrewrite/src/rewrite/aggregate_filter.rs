//! `aggregate_filter_to_case`: PostgreSQL's `agg(x) FILTER (WHERE cond)` has no Redshift form.
//! For an aggregate that skips NULL values, `agg(CASE WHEN cond THEN x END)` is the same: the
//! rows the condition leaves out (false or NULL) give NULL, which the aggregate skips, as
//! `FILTER` does. Others (`array_agg`, `json_agg`, ... keep NULLs) are left for `detect` to report.

use super::Ctx;
use crate::ast::{builtin_name, case, number};
use migrate_core::TargetDialect;
use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments};

pub(crate) const NAME: &str = "aggregate_filter_to_case";

/// Aggregates that skip NULL values, with the number of arguments they take; the first is the
/// aggregated value (`string_agg(value, delimiter)`, `listagg(value, delimiter)`).
const NULL_SKIPPING: &[(&str, usize)] = &[
    ("COUNT", 1),
    ("SUM", 1),
    ("AVG", 1),
    ("MIN", 1),
    ("MAX", 1),
    ("STDDEV", 1),
    ("STDDEV_SAMP", 1),
    ("STDDEV_POP", 1),
    ("VARIANCE", 1),
    ("VAR_SAMP", 1),
    ("VAR_POP", 1),
    ("BOOL_AND", 1),
    ("BOOL_OR", 1),
    ("MEDIAN", 1),
    ("STRING_AGG", 2),
    ("LISTAGG", 2),
];

pub(crate) fn aggregate_filter_to_case(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.to != TargetDialect::Redshift {
        return;
    }
    let Expr::Function(function) = expr else {
        return;
    };
    let Some(name) = builtin_name(function) else {
        return;
    };
    let Some(&(_, arity)) = NULL_SKIPPING.iter().find(|(known, _)| *known == name) else {
        return;
    };
    if function.filter.is_none() {
        return;
    }
    let FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    if list.args.len() != arity {
        return;
    }
    let value = match &list.args[0] {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(value)) => value.clone(),
        // `count(*)` counts rows: each row the condition keeps counts as a 1.
        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "COUNT" => number(1),
        _ => return,
    };
    let Some(condition) = function.filter.take() else {
        return;
    };
    list.args[0] = FunctionArg::Unnamed(FunctionArgExpr::Expr(case(
        None,
        vec![(*condition, value)],
        None,
    )));
    ctx.log.applied(NAME);
}
