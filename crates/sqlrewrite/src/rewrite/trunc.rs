//! `trunc_date_to_date_trunc`: Oracle `TRUNC(date)` / `TRUNC(date, 'MM')` truncates a date;
//! PostgreSQL's TRUNC only takes numbers and Redshift's only a whole day. Both have DATE_TRUNC.
//! Applied only when the argument is known to be a date (a column of a date type, a current-date
//! function): TRUNC of a number stays as it is.
//!
//! `round_date_to_date_trunc`: Oracle `ROUND(date[, fmt])` rounds a date to the nearest unit; the
//! targets' ROUND only takes numbers. Half a unit is added before truncating, in a form that is
//! exact for Oracle's rounding points (noon; the 16th of the month; July 1st). A format with no
//! such form is an action.

use super::date_arithmetic::is_date;
use super::Ctx;
use migrate_core::TargetDialect;
use sqlparser::ast::{Expr, Value};

pub(crate) const NAME: &str = "trunc_date_to_date_trunc";
pub(crate) const ROUND_NAME: &str = "round_date_to_date_trunc";

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

/// How an Oracle date format rounds: the DATE_TRUNC unit and what to add first, so that the
/// truncation lands on the next unit exactly from Oracle's rounding point on.
fn rounding(format: &str) -> Option<(&'static str, &'static str)> {
    Some(match format.to_ascii_uppercase().as_str() {
        // Rounds up on July 1st; adding months keeps the year of any date from then on.
        "SYYYY" | "YYYY" | "YEAR" | "SYEAR" | "YYY" | "YY" | "Y" => {
            ("year", "+ INTERVAL '6 months'")
        }
        // Rounds up on the 16th of the quarter's second month: 15 days back, 2 months on.
        "Q" => ("quarter", "- INTERVAL '15 days' + INTERVAL '2 months'"),
        // Rounds up on the 16th: 15 days back lands in the same month from the 16th on.
        "MONTH" | "MON" | "MM" | "RM" => ("month", "- INTERVAL '15 days' + INTERVAL '1 month'"),
        "DDD" | "DD" | "J" => ("day", "+ INTERVAL '12 hours'"),
        "HH" | "HH12" | "HH24" => ("hour", "+ INTERVAL '30 minutes'"),
        "MI" => ("minute", "+ INTERVAL '30 seconds'"),
        _ => return None,
    })
}

/// `None` when the argument is not known to be a date (ROUND of a number is left as it is).
pub(crate) fn round_date(args: &[Expr], ctx: &mut Ctx) -> Option<Expr> {
    let (date, format) = match args {
        [date] => (date, None),
        [date, format] => (date, Some(format)),
        _ => return None,
    };
    if !is_date(date, ctx) {
        return None;
    }
    let rounded = match format {
        None => rounding("DD"),
        Some(Expr::Value(value)) => match &value.value {
            Value::SingleQuotedString(format) => rounding(format),
            _ => None,
        },
        Some(_) => None,
    };
    let Some((unit, shift)) = rounded else {
        let format = format.map(ToString::to_string).unwrap_or_default();
        ctx.log.action(
            "function.unsupported",
            format!("ROUND of a date to the format {format} has no equivalent in {}", ctx.to),
            "round with DATE_TRUNC of the date plus half the unit, checking where Oracle rounds up for this format",
        );
        return None;
    };
    ctx.log.applied(ROUND_NAME);
    let sql = format!(
        "DATE_TRUNC('{unit}', {} {shift})",
        crate::ast::paren(date.clone())
    );
    crate::parse::expression(&sql, migrate_core::SourceDialect::Postgres).ok()
}
