//! Ordered string aggregates: MySQL's `GROUP_CONCAT`, PostgreSQL's `STRING_AGG` and Oracle's and
//! Redshift's `LISTAGG` are one aggregate (values joined by a separator, in an order), each
//! source's call is read into [`Parts`] and written in the target's spelling by [`convert`].
//! What Redshift refuses in the LISTAGGs of a SELECT is found by [`redshift_sort_aggregates`].

use super::Ctx;
use crate::ast::{builtin_name, cast, unnamed_args};
use migrate_core::TargetDialect;
use sqlparser::ast::{
    DataType, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    OrderByExpr, OrderByOptions, Query, Select, Value, Visit, Visitor, WindowType,
};
use std::ops::ControlFlow;

pub(crate) const STRING_AGG_NAME: &str = "string_agg_to_listagg";
pub(crate) const LISTAGG_NAME: &str = "listagg_to_string_agg";

/// What an ordered string aggregate is made of, whatever the source's spelling.
pub(crate) struct Parts {
    pub(crate) distinct: bool,
    pub(crate) value: Expr,
    pub(crate) separator: Expr,
    pub(crate) order_by: Vec<OrderByExpr>,
}

/// `string_agg_to_listagg`: PostgreSQL `string_agg([DISTINCT] x, sep ORDER BY ..)` is Redshift's
/// `LISTAGG([DISTINCT] x, sep) WITHIN GROUP (ORDER BY ..)` (a FILTER has become a CASE already,
/// see `aggregate_filter`). Only calls with an ORDER BY come here; the others are renamed by the
/// function map (`postgres.string_agg`). A window (`OVER`) stays one, Redshift's LISTAGG being a
/// window function too: what its OVER may hold is checked by [`redshift_sort_aggregates`].
pub(crate) fn string_agg_to_listagg(function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    let parts = arguments(function).and_then(|list| {
        let [value, separator] = <[Expr; 2]>::try_from(plain(&list.args)?).ok()?;
        if !function.within_group.is_empty() {
            return None;
        }
        let order_by = match list.clauses.as_slice() {
            [FunctionArgumentClause::OrderBy(order_by)] => order_by.clone(),
            _ => return None,
        };
        Some(Parts {
            distinct: distinct(list),
            value,
            separator,
            order_by,
        })
    });
    rewrite(STRING_AGG_NAME, function, parts, ctx)
}

/// `listagg_to_string_agg`: Oracle `LISTAGG([DISTINCT] x[, sep]) WITHIN GROUP (ORDER BY ..)` is
/// PostgreSQL's `STRING_AGG([DISTINCT] CAST(x AS TEXT), sep ORDER BY ..)`; Oracle's default
/// separator is none (`''`). `ON OVERFLOW` and the analytic form (`OVER`: PostgreSQL's
/// STRING_AGG can't be ordered inside a window) are reported.
pub(crate) fn listagg_to_string_agg(function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    let parts = list_of(function).and_then(|list| {
        if !list.clauses.is_empty() {
            return None;
        }
        let mut args = plain(&list.args)?.into_iter();
        let (value, separator) = match (args.next(), args.next(), args.next()) {
            (Some(value), None, None) => {
                (value, Expr::value(Value::SingleQuotedString(String::new())))
            }
            (Some(value), Some(separator), None) => (value, separator),
            _ => return None,
        };
        Some(Parts {
            distinct: distinct(list),
            value,
            separator,
            order_by: function.within_group.clone(),
        })
    });
    rewrite(LISTAGG_NAME, function, parts, ctx)
}

/// The argument list of a call that has nothing [`convert`] can't carry (OVER, FILTER, ...).
pub(crate) fn list_of(function: &Function) -> Option<&FunctionArgumentList> {
    if function.over.is_some() {
        return None;
    }
    arguments(function)
}

/// [`list_of`] a call that may be a window (`OVER`).
fn arguments(function: &Function) -> Option<&FunctionArgumentList> {
    if function.filter.is_some() || function.null_treatment.is_some() {
        return None;
    }
    match &function.args {
        FunctionArguments::List(list) => Some(list),
        FunctionArguments::None | FunctionArguments::Subquery(_) => None,
    }
}

/// Whether the call aggregates distinct values (`DISTINCT`).
pub(crate) fn distinct(list: &FunctionArgumentList) -> bool {
    matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct))
}

/// The arguments, when they are all unnamed expressions.
fn plain(args: &[FunctionArg]) -> Option<Vec<Expr>> {
    args.iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr.clone()),
            _ => None,
        })
        .collect()
}

/// Writes the call from its parts (`None`: the source's form has something the target's lacks),
/// and logs the rewrite as `name`, or reports the call.
pub(crate) fn rewrite(
    name: &'static str,
    function: &Function,
    parts: Option<Parts>,
    ctx: &mut Ctx,
) -> Option<Expr> {
    match parts.and_then(|parts| convert(function, parts, ctx.to)) {
        Some((converted, ordered_as_text)) => {
            ctx.log.applied(name);
            if ordered_as_text {
                ctx.log.warning(
                    "function.semantics",
                    format!("`{function}`: PostgreSQL orders a DISTINCT STRING_AGG by the text form of the values"),
                    "check the order of the list if the values are numbers or dates",
                );
            }
            Some(converted)
        }
        None => {
            ctx.log.action(
                "function.unsupported",
                format!("`{function}` could not be converted (several values, an OVER/FILTER/ON OVERFLOW clause, or DISTINCT ordered by another expression)"),
                "rewrite with LISTAGG (Redshift) or STRING_AGG (PostgreSQL), concatenating the values with ||",
            );
            None
        }
    }
}

/// In Redshift, `LISTAGG([DISTINCT] x, s) WITHIN GROUP (ORDER BY ..)`; in PostgreSQL,
/// `STRING_AGG([DISTINCT] CAST(x AS TEXT), s ORDER BY ..)`. Returns the call, and whether a
/// DISTINCT list is now ordered by the values' text form.
///
/// PostgreSQL requires the ORDER BY of a DISTINCT aggregate to be its argument, here the text
/// form: ordering by the value itself becomes ordering by its text (reported, since numbers and
/// dates may sort differently); ordering by a constant is dropped, by anything else is not
/// converted.
fn convert(function: &Function, parts: Parts, to: TargetDialect) -> Option<(Expr, bool)> {
    let Parts {
        distinct,
        value,
        separator,
        mut order_by,
    } = parts;
    let mut ordered_as_text = false;
    let (name, value, clauses, within_group) = match to {
        TargetDialect::Redshift => ("LISTAGG", value, Vec::new(), order_by),
        TargetDialect::Postgres => {
            let text = cast(value.clone(), DataType::Text);
            // A constant orders nothing (Oracle's `ORDER BY NULL`: any order), and PostgreSQL
            // takes none beside DISTINCT.
            order_by.retain(|order| !matches!(order.expr, Expr::Value(_)));
            if distinct && !order_by.is_empty() {
                if order_by.iter().any(|order| order.expr != value) {
                    return None;
                }
                for order in &mut order_by {
                    order.expr = text.clone();
                }
                ordered_as_text = true;
            }
            let clauses = if order_by.is_empty() {
                Vec::new()
            } else {
                vec![FunctionArgumentClause::OrderBy(order_by)]
            };
            ("STRING_AGG", text, clauses, Vec::new())
        }
    };
    let mut out = function.clone();
    out.name = ObjectName::from(vec![Ident::new(name)]);
    out.within_group = within_group;
    out.args = FunctionArguments::List(FunctionArgumentList {
        duplicate_treatment: distinct.then_some(DuplicateTreatment::Distinct),
        args: vec![
            FunctionArg::Unnamed(FunctionArgExpr::Expr(value)),
            FunctionArg::Unnamed(FunctionArgExpr::Expr(separator)),
        ],
        clauses,
    });
    Some((Expr::Function(out), ordered_as_text))
}

/// Redshift's sort-based aggregates, whose calls in one SELECT it takes together only in some
/// ways (its LISTAGG and MEDIAN usage notes).
const SORT_BASED: &[&str] = &["LISTAGG", "PERCENTILE_CONT", "MEDIAN"];

/// Redshift refuses a SELECT whose LISTAGG, PERCENTILE_CONT and MEDIAN calls are not all ordered
/// the same way (`WITHIN GROUP (ORDER BY ..)`; `MEDIAN(x)` is ordered by `x`; a LISTAGG without
/// WITHIN GROUP by nothing), or stand beside another aggregate with DISTINCT; a LISTAGG whose
/// delimiter is not a string constant, or with Oracle's `ON OVERFLOW`; and any of them as a
/// window whose OVER holds more than PARTITION BY (an ORDER BY, a frame, a named window: its
/// window functions' syntax). Reported for any source, once the SELECT's calls are rewritten
/// (GROUP_CONCAT and STRING_AGG are LISTAGG by then); the calls of its subqueries are their own
/// SELECT's. Window calls are computed apart: they are only held to the last three rules.
pub(crate) fn redshift_sort_aggregates(select: &Select, ctx: &mut Ctx) {
    if ctx.to != TargetDialect::Redshift {
        return;
    }
    let mut calls = Calls::default();
    let _ = select.visit(&mut calls);
    // What Redshift refuses, with what to do about it.
    let mut problems: Vec<(String, &str)> = Vec::new();
    for call in calls
        .found
        .iter()
        .filter(|call| is_named(call, &["LISTAGG"]))
    {
        if let Some(separator) = unnamed_args(call).nth(1) {
            if !is_string_constant(separator) {
                problems.push((
                    format!("`{call}`, whose delimiter `{separator}` is not a string constant"),
                    "write the delimiter as a string literal",
                ));
            }
        }
        let on_overflow = |clause: &FunctionArgumentClause| {
            matches!(clause, FunctionArgumentClause::OnOverflow(_))
        };
        if matches!(&call.args, FunctionArguments::List(list) if list.clauses.iter().any(on_overflow))
        {
            problems.push((
                format!("`{call}`: Redshift's LISTAGG has no ON OVERFLOW"),
                "drop ON OVERFLOW (Redshift fails on a list longer than 65535 bytes)",
            ));
        }
    }
    for call in calls.found.iter().filter(|call| is_named(call, SORT_BASED)) {
        let partitions_only = match &call.over {
            None => true,
            Some(WindowType::WindowSpec(spec)) => {
                spec.window_name.is_none()
                    && spec.order_by.is_empty()
                    && spec.window_frame.is_none()
            }
            Some(WindowType::NamedWindow(_)) => false,
        };
        if !partitions_only {
            problems.push((
                format!("`{call}`: Redshift's {} window takes only PARTITION BY in OVER (no ORDER BY, frame or named window)", builtin_name(call).unwrap_or_default()),
                "compute it in a subquery that joins each row to the rows its window takes (t2.p = t.p AND t2.q <= t.q for OVER (PARTITION BY p ORDER BY q)), grouped by the row's key, joined back",
            ));
        }
    }
    let aggregates: Vec<&Function> = calls
        .found
        .iter()
        .filter(|call| call.over.is_none())
        .collect();
    let sorted: Vec<(&Function, Vec<OrderByExpr>)> = aggregates
        .iter()
        .filter_map(|call| Some((*call, sort_order(call)?)))
        .collect();
    if let [(first, order), rest @ ..] = sorted.as_slice() {
        if let Some((other, _)) = rest.iter().find(|(_, other)| other != order) {
            problems.push((
                format!("`{first}` and `{other}`, ordered differently (the LISTAGG, PERCENTILE_CONT and MEDIAN calls of a SELECT must all have the same ORDER BY; MEDIAN(x) is ordered by x)"),
                "order them the same way, or compute one in a subquery of its own joined back by the grouping keys",
            ));
        }
    }
    let beside_distinct = aggregates.iter().enumerate().find_map(|(i, call)| {
        let (_, distinct_call) = aggregates
            .iter()
            .enumerate()
            .find(|(j, other)| *j != i && is_distinct(other))?;
        is_named(call, SORT_BASED).then_some((*call, *distinct_call))
    });
    if let Some((call, distinct_call)) = beside_distinct {
        problems.push((
            format!("`{call}` beside the DISTINCT aggregate `{distinct_call}` (LISTAGG, PERCENTILE_CONT and MEDIAN can't be used with other DISTINCT aggregates)"),
            "compute one of them in a subquery of its own, joined back by the grouping keys",
        ));
    }
    if problems.is_empty() {
        return;
    }
    let mut fixes = Vec::new();
    for (_, fix) in &problems {
        if !fixes.contains(fix) {
            fixes.push(*fix);
        }
    }
    let problems: Vec<&str> = problems
        .iter()
        .map(|(problem, _)| problem.as_str())
        .collect();
    ctx.log.action(
        "function.unsupported",
        format!("Redshift refuses {}", problems.join("; ")),
        fixes.join("; "),
    );
}

/// The order a sort-based aggregate sorts its rows in, if any.
fn sort_order(call: &Function) -> Option<Vec<OrderByExpr>> {
    if !is_named(call, SORT_BASED) {
        return None;
    }
    if !call.within_group.is_empty() {
        return Some(call.within_group.clone());
    }
    let value = unnamed_args(call)
        .next()
        .filter(|_| is_named(call, &["MEDIAN"]))?;
    Some(vec![OrderByExpr {
        expr: value.clone(),
        options: OrderByOptions::default(),
        with_fill: None,
    }])
}

fn is_named(call: &Function, names: &[&str]) -> bool {
    builtin_name(call).is_some_and(|name| names.contains(&name.as_str()))
}

fn is_distinct(call: &Function) -> bool {
    matches!(&call.args, FunctionArguments::List(list) if distinct(list))
}

/// A string literal, or a cast of one (`', '::text`, as pg_dump writes a separator): Redshift,
/// like PostgreSQL, makes the cast of a literal a constant when it reads the query.
fn is_string_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Value(value) => matches!(
            value.value,
            Value::SingleQuotedString(_)
                | Value::EscapedStringLiteral(_)
                | Value::NationalStringLiteral(_)
        ),
        Expr::Cast { expr, .. } | Expr::Nested(expr) => is_string_constant(expr),
        _ => false,
    }
}

/// The function calls of one SELECT, outside its subqueries.
#[derive(Default)]
struct Calls {
    found: Vec<Function>,
    /// How deep in subqueries the walk is.
    in_query: usize,
}

impl Visitor for Calls {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.in_query += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.in_query -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(call) if self.in_query == 0 => self.found.push(call.clone()),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
