//! `date_arithmetic_to_interval`: Oracle adds and subtracts days as plain numbers
//! (`SYSDATE - 30`), which neither target accepts: both take `- INTERVAL '30 days'`.
//!
//! Only expressions whose left side is known to be a date are rewritten (a column of a date type
//! when the caller passed column types, a current-date function, a truncation of one): for
//! anything else `x - 30` stays as written, and if `x` is a date the target rejects it loudly
//! rather than computing something else.

use super::Ctx;
use crate::parse;
use migrate_core::SourceDialect;
use sqlparser::ast::{
    BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
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

/// Functions (Oracle, or already rewritten for a target) that always return a date or timestamp.
const DATE_RESULT_FUNCTIONS: &[&str] = &[
    "GETDATE",
    "NOW",
    "TO_DATE",
    "TO_TIMESTAMP",
    "ADD_MONTHS",
    "LAST_DAY",
    "NEXT_DAY",
];

pub(crate) fn oracle_date_arithmetic(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Oracle {
        return;
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    if !matches!(op, BinaryOperator::Plus | BinaryOperator::Minus) || !is_date(left, ctx) {
        return;
    }
    let days = match right.as_ref() {
        Expr::Value(value) => match &value.value {
            Value::Number(days, _) => days.clone(),
            _ => return,
        },
        // `date - date` is a number of days in Oracle and an interval in the targets.
        other if is_date(other, ctx) => {
            ctx.log.warning(
                "expression.date-difference",
                "Oracle's date - date is a number of days; in the target it is an interval",
                "use DATEDIFF(day, a, b) (Redshift) or EXTRACT(EPOCH FROM a - b) / 86400 (PostgreSQL) where a number is needed",
            );
            return;
        }
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

/// True when `expr` is known to be a date or timestamp: a column of such a type, a current-date
/// function (before or after its own rewrite), a truncation or cast of one.
pub(crate) fn is_date(expr: &Expr, ctx: &Ctx) -> bool {
    if let Some(column_type) = ctx.column_type(expr) {
        return column_type.is_temporal();
    }
    match expr {
        Expr::Identifier(ident) => {
            ident.quote_style.is_none()
                && CURRENT_DATE_FUNCTIONS.contains(&ident.value.to_ascii_uppercase().as_str())
        }
        Expr::Cast { data_type, .. } => matches!(
            data_type,
            DataType::Date | DataType::Timestamp(..) | DataType::Datetime(_)
        ),
        Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_uppercase();
            if CURRENT_DATE_FUNCTIONS.contains(&name.as_str())
                || DATE_RESULT_FUNCTIONS.contains(&name.as_str())
            {
                return true;
            }
            let FunctionArguments::List(list) = &function.args else {
                return false;
            };
            matches!(name.as_str(), "TRUNC" | "DATE_TRUNC")
                && list.args.iter().any(|arg| {
                    matches!(arg, FunctionArg::Unnamed(FunctionArgExpr::Expr(inner)) if is_date(inner, ctx))
                })
        }
        Expr::Nested(inner) => is_date(inner, ctx),
        _ => false,
    }
}
