//! MySQL-only query syntax.

use super::Ctx;
use crate::ast::{call, cast};
use migrate_core::TargetDialect;
use sqlparser::ast::{
    DataType, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArguments, Ident, LimitClause, ObjectName, Offset, OffsetRows,
    Query, Value,
};

pub(crate) const LIMIT_NAME: &str = "limit_comma_to_offset";
pub(crate) const GROUP_CONCAT_NAME: &str = "group_concat_to_listagg";
pub(crate) const CONCAT_NAME: &str = "concat_many";

/// `concat_many`: MySQL `CONCAT(a, b, c, ...)` is NULL when any argument is NULL. Redshift's
/// CONCAT takes exactly two arguments with the same NULL rule, so calls nest; PostgreSQL's CONCAT
/// skips NULLs, so its `||` (NULL when any operand is) is used, on text casts like MySQL's.
/// Two-argument calls are left to the function map (`mysql.concat`).
pub(crate) fn concat_many(args: Vec<Expr>, to: TargetDialect) -> Option<Expr> {
    if args.len() < 3 {
        return None;
    }
    let mut args = args.into_iter();
    let first = args.next()?;
    Some(match to {
        TargetDialect::Redshift => args.fold(first, |acc, next| {
            Expr::Function(call("CONCAT", vec![acc, next]))
        }),
        TargetDialect::Postgres => {
            args.fold(cast(first, DataType::Text), |acc, next| Expr::BinaryOp {
                left: Box::new(acc),
                op: sqlparser::ast::BinaryOperator::StringConcat,
                right: Box::new(cast(next, DataType::Text)),
            })
        }
    })
}

/// `limit_comma_to_offset`: MySQL `LIMIT offset, count` is `LIMIT count OFFSET offset`.
pub(crate) fn limit_comma_to_offset(query: &mut Query, ctx: &mut Ctx) {
    let Some(LimitClause::OffsetCommaLimit { offset, limit }) = &query.limit_clause else {
        return;
    };
    query.limit_clause = Some(LimitClause::LimitOffset {
        limit: Some(limit.clone()),
        offset: Some(Offset {
            value: offset.clone(),
            rows: OffsetRows::None,
        }),
        limit_by: Vec::new(),
    });
    ctx.log.applied(LIMIT_NAME);
}

/// `group_concat_to_listagg`: `GROUP_CONCAT([DISTINCT] x [ORDER BY ..] [SEPARATOR s])` is, in
/// Redshift, `LISTAGG([DISTINCT] x, s) WITHIN GROUP (ORDER BY ..)` and, in PostgreSQL,
/// `STRING_AGG([DISTINCT] CAST(x AS TEXT), s ORDER BY ..)`. MySQL's default separator is `,`.
/// Several values (`GROUP_CONCAT(a, b)`) are not converted: `None` with a note.
///
/// PostgreSQL requires the ORDER BY of a DISTINCT aggregate to be its argument, here the text
/// form: ordering by the value itself becomes ordering by its text (reported, since numbers and
/// dates may sort differently); ordering by anything else is not converted.
pub(crate) fn group_concat_to_listagg(function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    match convert(function, ctx.to) {
        Some((converted, ordered_as_text)) => {
            ctx.log.applied(GROUP_CONCAT_NAME);
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
                format!("`{function}` could not be converted (several values, an OVER/FILTER clause, or DISTINCT ordered by another expression)"),
                "rewrite with LISTAGG (Redshift) or STRING_AGG (PostgreSQL), concatenating the values with ||",
            );
            None
        }
    }
}

/// The converted call, and whether a DISTINCT list is now ordered by the values' text form.
fn convert(function: &Function, to: TargetDialect) -> Option<(Expr, bool)> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    if function.over.is_some() || function.filter.is_some() || !function.within_group.is_empty() {
        return None;
    }
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(value))] = list.args.as_slice() else {
        return None;
    };
    let mut separator = Expr::value(Value::SingleQuotedString(",".into()));
    let mut order_by: Vec<sqlparser::ast::OrderByExpr> = Vec::new();
    for clause in &list.clauses {
        match clause {
            FunctionArgumentClause::Separator(value) => separator = Expr::Value(value.clone()),
            FunctionArgumentClause::OrderBy(exprs) => order_by = exprs.clone(),
            _ => return None,
        }
    }
    let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
    let mut ordered_as_text = false;
    let (name, value, clauses, within_group) = match to {
        TargetDialect::Redshift => ("LISTAGG", value.clone(), Vec::new(), order_by),
        TargetDialect::Postgres => {
            let text = cast(value.clone(), DataType::Text);
            if distinct && !order_by.is_empty() {
                if order_by.iter().any(|order| &order.expr != value) {
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
    out.args = FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
        duplicate_treatment: list.duplicate_treatment,
        args: vec![
            FunctionArg::Unnamed(FunctionArgExpr::Expr(value)),
            FunctionArg::Unnamed(FunctionArgExpr::Expr(separator)),
        ],
        clauses,
    });
    Some((Expr::Function(out), ordered_as_text))
}
