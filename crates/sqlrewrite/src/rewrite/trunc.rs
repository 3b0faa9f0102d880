//! `trunc_date_to_date_trunc`: Oracle `TRUNC(date)` / `TRUNC(date, 'MM')` truncates a date;
//! PostgreSQL's TRUNC only takes numbers and Redshift's only a whole day. Both have DATE_TRUNC.
//! Applied only when the argument is known to be a date (a column of a date type, a current-date
//! function): TRUNC of a number stays as it is.

use super::date_arithmetic::is_date;
use super::Ctx;
use migrate_core::TargetDialect;
use sqlparser::ast::{Expr, Value};

pub(crate) const NAME: &str = "trunc_date_to_date_trunc";

/// The DATE_TRUNC unit of an Oracle date format, where they mean the same.
fn unit(format: &str) -> Option<&'static str> {
    Some(match format.to_ascii_uppercase().as_str() {
        "SYYYY" | "YYYY" | "YEAR" | "SYEAR" | "YYY" | "YY" | "Y" => "year",
        "Q" => "quarter",
        "MONTH" | "MON" | "MM" | "RM" => "month",
        "IW" => "week",
        "DDD" | "DD" | "J" => "day",
        "HH" | "HH12" | "HH24" => "hour",
        "MI" => "minute",
        _ => return None,
    })
}

/// `None` when the call is not a date truncation this rewrite knows.
pub(crate) fn trunc_date(args: &[Expr], ctx: &mut Ctx) -> Option<Expr> {
    let (date, unit) = match args {
        [date] if ctx.to == TargetDialect::Postgres => (date, "day"),
        [date, Expr::Value(format)] => match &format.value {
            Value::SingleQuotedString(format) => (date, unit(format)?),
            _ => return None,
        },
        _ => return None,
    };
    if !is_date(date, ctx) {
        return None;
    }
    ctx.log.applied(NAME);
    let sql = format!("DATE_TRUNC('{unit}', {date})");
    crate::parse::expression(&sql, migrate_core::SourceDialect::Postgres).ok()
}
