//! MySQL-only query syntax.

use super::{string_agg, Ctx};
use crate::ast::{call, cast};
use migrate_core::TargetDialect;
use sqlparser::ast::{
    DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause, LimitClause,
    Offset, OffsetRows, Query, Value,
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
/// `STRING_AGG([DISTINCT] CAST(x AS TEXT), s ORDER BY ..)` (see [`string_agg`]). MySQL's default
/// separator is `,`. Several values (`GROUP_CONCAT(a, b)`) are not converted: `None` with a note.
pub(crate) fn group_concat_to_listagg(function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    let parts = string_agg::list_of(function)
        .filter(|_| function.within_group.is_empty())
        .and_then(|list| {
            let [FunctionArg::Unnamed(FunctionArgExpr::Expr(value))] = list.args.as_slice() else {
                return None;
            };
            let mut parts = string_agg::Parts {
                distinct: string_agg::distinct(list),
                value: value.clone(),
                separator: Expr::value(Value::SingleQuotedString(",".into())),
                order_by: Vec::new(),
            };
            for clause in &list.clauses {
                match clause {
                    FunctionArgumentClause::Separator(value) => {
                        parts.separator = Expr::Value(value.clone())
                    }
                    FunctionArgumentClause::OrderBy(exprs) => parts.order_by = exprs.clone(),
                    _ => return None,
                }
            }
            Some(parts)
        });
    string_agg::rewrite(GROUP_CONCAT_NAME, function, parts, ctx)
}
