//! `date_arithmetic_to_interval`: Oracle adds and subtracts days as plain numbers
//! (`SYSDATE - 30`), which neither target accepts: both take `- INTERVAL '30 days'`.
//!
//! Only expressions whose left side is known to be a date are rewritten (the current-date
//! functions, and TRUNC of one): for a column the type is unknown here, so `hired - 30` stays as
//! written and the target rejects it loudly rather than computing something else.

use super::Ctx;
use crate::parse;
use migrate_core::SourceDialect;
use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
};

pub(crate) const NAME: &str = "date_arithmetic_to_interval";

/// Bare Oracle functions that return the current DATE or TIMESTAMP.
const CURRENT_DATE_FUNCTIONS: &[&str] = &[
    "SYSDATE",
    "SYSTIMESTAMP",
    "CURRENT_DATE",
    "CURRENT_TIMESTAMP",
    "LOCALTIMESTAMP",
];

pub(crate) fn oracle_date_arithmetic(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Oracle {
        return;
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    if !matches!(op, BinaryOperator::Plus | BinaryOperator::Minus) || !is_current_date(left) {
        return;
    }
    let days = match right.as_ref() {
        Expr::Value(value) => match &value.value {
            Value::Number(days, _) => days.clone(),
            _ => return,
        },
        _ => {
            ctx.log.warning(
                "expression.date-arithmetic",
                "Oracle date arithmetic with a computed number of days is not rewritten",
                "write it with an interval, e.g. date_col + n * INTERVAL '1 day' (PostgreSQL) or DATEADD(day, n, date_col) (Redshift)",
            );
            return;
        }
    };
    let Ok(interval) =
        parse::expression(&format!("INTERVAL '{days} days'"), SourceDialect::Postgres)
    else {
        return;
    };
    **right = interval;
    ctx.log.applied(NAME);
}

/// `SYSDATE`, `SYSTIMESTAMP`, `CURRENT_DATE`..., or `TRUNC(...)` of one of them.
fn is_current_date(expr: &Expr) -> bool {
    match expr {
        Expr::Identifier(ident) => {
            ident.quote_style.is_none()
                && CURRENT_DATE_FUNCTIONS.contains(&ident.value.to_ascii_uppercase().as_str())
        }
        Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_uppercase();
            if CURRENT_DATE_FUNCTIONS.contains(&name.as_str()) {
                return true;
            }
            let FunctionArguments::List(list) = &function.args else {
                return false;
            };
            name == "TRUNC"
                && matches!(list.args.first(), Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(inner))) if is_current_date(inner))
        }
        Expr::Nested(inner) => is_current_date(inner),
        _ => false,
    }
}
