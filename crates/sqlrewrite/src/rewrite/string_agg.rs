//! Ordered string aggregates: MySQL's `GROUP_CONCAT`, PostgreSQL's `STRING_AGG` and Oracle's and
//! Redshift's `LISTAGG` are one aggregate (values joined by a separator, in an order), each
//! source's call is read into [`Parts`] and written in the target's spelling by [`convert`].

use super::Ctx;
use crate::ast::cast;
use migrate_core::TargetDialect;
use sqlparser::ast::{
    DataType, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    OrderByExpr, Value,
};

pub(crate) const STRING_AGG_NAME: &str = "string_agg_to_listagg";
pub(crate) const LISTAGG_NAME: &str = "listagg_to_string_agg";

/// What an ordered string aggregate is made of, whatever the source's spelling.
pub(crate) struct Parts {
    pub(crate) value: Expr,
    pub(crate) separator: Expr,
    pub(crate) order_by: Vec<OrderByExpr>,
}

/// `string_agg_to_listagg`: PostgreSQL `string_agg([DISTINCT] x, sep ORDER BY ..)` is Redshift's
/// `LISTAGG([DISTINCT] x, sep) WITHIN GROUP (ORDER BY ..)` (a FILTER has become a CASE already,
/// see `aggregate_filter`). Only calls with an ORDER BY come here; the others are renamed by the
/// function map (`postgres.string_agg`).
pub(crate) fn string_agg_to_listagg(function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    let parts = list_of(function).and_then(|list| {
        let [value, separator] = <[Expr; 2]>::try_from(plain(&list.args)?).ok()?;
        if !function.within_group.is_empty() {
            return None;
        }
        let order_by = match list.clauses.as_slice() {
            [FunctionArgumentClause::OrderBy(order_by)] => order_by.clone(),
            _ => return None,
        };
        Some(Parts {
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
            value,
            separator,
            order_by: function.within_group.clone(),
        })
    });
    rewrite(LISTAGG_NAME, function, parts, ctx)
}

/// The argument list of a call that has nothing [`convert`] can't carry (OVER, FILTER, ...).
pub(crate) fn list_of(function: &Function) -> Option<&FunctionArgumentList> {
    if function.over.is_some() || function.filter.is_some() || function.null_treatment.is_some() {
        return None;
    }
    match &function.args {
        FunctionArguments::List(list) => Some(list),
        FunctionArguments::None | FunctionArguments::Subquery(_) => None,
    }
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
/// dates may sort differently); ordering by anything else is not converted.
fn convert(function: &Function, parts: Parts, to: TargetDialect) -> Option<(Expr, bool)> {
    let Parts {
        value,
        separator,
        mut order_by,
    } = parts;
    let duplicate_treatment = list_of(function)?.duplicate_treatment;
    let distinct = matches!(duplicate_treatment, Some(DuplicateTreatment::Distinct));
    let mut ordered_as_text = false;
    let (name, value, clauses, within_group) = match to {
        TargetDialect::Redshift => ("LISTAGG", value, Vec::new(), order_by),
        TargetDialect::Postgres => {
            let text = cast(value.clone(), DataType::Text);
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
        duplicate_treatment,
        args: vec![
            FunctionArg::Unnamed(FunctionArgExpr::Expr(value)),
            FunctionArg::Unnamed(FunctionArgExpr::Expr(separator)),
        ],
        clauses,
    });
    Some((Expr::Function(out), ordered_as_text))
}
