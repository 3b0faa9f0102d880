//! MySQL's and Hive's date arithmetic, and MySQL's numbers used as conditions.
//!
//! `interval_unit_to_literal`: MySQL writes intervals as `INTERVAL 1 DAY` (and mariadb-dump turns
//! every `DATE_ADD(d, INTERVAL 1 DAY)` into `d + interval 1 day`), Hive as `INTERVAL '1' DAY` or
//! `INTERVAL 1 DAYS`; both targets take `INTERVAL '1 day'`. A computed count becomes
//! `n * INTERVAL '1 day'` on PostgreSQL. Hive's `INTERVAL '1 2:03:04' DAY TO SECOND` and
//! `INTERVAL '1-2' YEAR TO MONTH` are standard SQL, which both targets read as written.
//!
//! `interval_on_date_keeps_date`: a DATE plus or minus an interval is a timestamp in both targets,
//! but stays a DATE in MySQL when the unit is a day, week, month, quarter or year, and in Hive
//! when it is a month or year. Where the operand is known to be a DATE (a DATE column, CURDATE(),
//! a cast to DATE), the sum is cast back to DATE.
//!
//! `numeric_condition_to_comparison`: MySQL takes any number as a condition (non-zero is true),
//! and text, a date or a time as the number it reads in it: see `mysql_booleans`, which makes
//! them conditions. Here, after its parts are rewritten, a text column compared with a number
//! (`s = 5`, `s > 0`; `s = 0` and `s <> 0` are conditions), which MySQL compares as numbers,
//! becomes the number its text starts with. The reverse, a condition computed with as a number, is `condition_as_number`
//! (`mysql_booleans`).

use super::Ctx;
use crate::ast::{binary, number_literal, paren};
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, DateTimeField, Expr, Interval, UnaryOperator, Value,
};

pub(crate) const DAYS_NAME: &str = "adddate_days_to_interval";
pub(crate) const INTERVAL_NAME: &str = "interval_unit_to_literal";
pub(crate) const DATE_NAME: &str = "interval_on_date_keeps_date";
pub(crate) const CONDITION_NAME: &str = "numeric_condition_to_comparison";

/// The interval unit of a MySQL or Hive unit keyword, with how many of it one source unit is.
fn unit(field: &DateTimeField) -> Option<(&'static str, u32)> {
    Some(match field {
        DateTimeField::Microsecond | DateTimeField::Microseconds => ("microseconds", 1),
        DateTimeField::Second | DateTimeField::Seconds => ("seconds", 1),
        DateTimeField::Minute | DateTimeField::Minutes => ("minutes", 1),
        DateTimeField::Hour | DateTimeField::Hours => ("hours", 1),
        DateTimeField::Day | DateTimeField::Days => ("days", 1),
        DateTimeField::Week(None) | DateTimeField::Weeks => ("days", 7),
        DateTimeField::Month | DateTimeField::Months => ("months", 1),
        DateTimeField::Quarter => ("months", 3),
        DateTimeField::Year | DateTimeField::Years => ("years", 1),
        _ => return None,
    })
}

pub(crate) fn source_interval(expr: &mut Expr, ctx: &mut Ctx) {
    if !matches!(ctx.from, SourceDialect::Mysql | SourceDialect::Hive) {
        return;
    }
    let Expr::Interval(interval) = expr else {
        return;
    };
    let field = match (&interval.leading_field, &interval.last_field) {
        (Some(field), None) => unit(field),
        // Hive's `'1-2' YEAR TO MONTH` and `'1 2:03:04' DAY TO SECOND`: standard SQL.
        (Some(_), Some(_)) if ctx.from == SourceDialect::Hive && is_string(&interval.value) => {
            return
        }
        _ => None,
    };
    let Some((unit, factor)) = field else {
        ctx.log.action(
            "expression.interval",
            format!(
                "`{interval}`: this {} interval unit has no equivalent interval literal",
                ctx.from
            ),
            "write the interval as a sum of single units, e.g. INTERVAL '1 day' + INTERVAL '2 hours'",
        );
        return;
    };
    let count = match interval.value.as_ref() {
        Expr::Value(value) => match &value.value {
            Value::Number(n, _) | Value::SingleQuotedString(n) => n.trim().parse::<f64>().ok(),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: inner,
        } => match inner.as_ref() {
            Expr::Value(value) => match &value.value {
                Value::Number(n, _) => n.parse::<f64>().ok().map(|n| -n),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    let replacement = match (count, ctx.to) {
        (Some(count), _) => unit_interval(&format!("{} {unit}", count * f64::from(factor))),
        // Built as a tree: the count's identifiers are still in the source's quoting.
        (None, TargetDialect::Postgres) => binary(
            paren(std::mem::replace(
                interval.value.as_mut(),
                Expr::value(Value::Null),
            )),
            BinaryOperator::Multiply,
            unit_interval(&format!("{factor} {unit}")),
        ),
        (None, TargetDialect::Redshift) => {
            ctx.log.action(
                "expression.interval",
                format!("`{interval}`: Redshift has no interval of a computed number of units"),
                "use DATEADD(unit, n, date) instead of date + INTERVAL n unit",
            );
            return;
        }
    };
    *expr = replacement;
    ctx.log.applied(INTERVAL_NAME);
}

/// `adddate_days_to_interval`: MySQL's `ADDDATE(d, n)` and `SUBDATE(d, n)` with a number of days
/// are `d + INTERVAL n DAY` and `d - INTERVAL n DAY`. With an interval (already rewritten, as the
/// arguments are), they are DATE_ADD and DATE_SUB: `None` leaves them to the function map.
pub(crate) fn add_days(name: &str, args: Vec<Expr>, ctx: &mut Ctx) -> Option<Expr> {
    let [date, days]: [Expr; 2] = args.try_into().ok()?;
    if is_interval(&days) {
        return None;
    }
    let mut interval = Expr::Interval(Interval {
        value: Box::new(days),
        leading_field: Some(DateTimeField::Day),
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    });
    source_interval(&mut interval, ctx);
    let op = if name == "SUBDATE" {
        BinaryOperator::Minus
    } else {
        BinaryOperator::Plus
    };
    ctx.log.applied(DAYS_NAME);
    Some(binary(date, op, interval))
}

/// An interval as [`source_interval`] leaves it: a literal, or `n * INTERVAL '1 days'`.
fn is_interval(expr: &Expr) -> bool {
    match expr {
        Expr::Interval(_) => true,
        Expr::BinaryOp {
            op: BinaryOperator::Multiply,
            right,
            ..
        } => matches!(right.as_ref(), Expr::Interval(_)),
        Expr::Nested(inner) => is_interval(inner),
        _ => false,
    }
}

/// `INTERVAL 'text'`, without a unit.
fn unit_interval(text: &str) -> Expr {
    Expr::Interval(Interval {
        value: Box::new(crate::ast::string(text)),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

fn is_string(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(value) if matches!(value.value, Value::SingleQuotedString(_)))
}

/// `date ± interval` (and `interval + date`), once the interval is rewritten: cast back to DATE
/// where the source keeps a DATE.
pub(crate) fn date_interval_keeps_date(expr: &mut Expr, ctx: &mut Ctx) {
    if !matches!(ctx.from, SourceDialect::Mysql | SourceDialect::Hive) {
        return;
    }
    let Expr::BinaryOp { left, op, right } = &*expr else {
        return;
    };
    let keeps_date = match op {
        BinaryOperator::Plus => {
            (is_date(left, ctx) && keeps_date(right, ctx.from))
                || (keeps_date(left, ctx.from) && is_date(right, ctx))
        }
        BinaryOperator::Minus => is_date(left, ctx) && keeps_date(right, ctx.from),
        _ => false,
    };
    if !keeps_date {
        return;
    }
    let sum = std::mem::replace(expr, Expr::value(Value::Null));
    *expr = Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(sum),
        data_type: DataType::Date,
        format: None,
    };
    ctx.log.applied(DATE_NAME);
}

/// An operand known to be a DATE: a DATE column, the current date, a cast to DATE.
fn is_date(expr: &Expr, ctx: &Ctx) -> bool {
    if let Some(column_type) = ctx.column_type(expr) {
        return *column_type == LogicalType::Date;
    }
    match expr {
        Expr::Cast {
            data_type: DataType::Date,
            ..
        } => true,
        Expr::Function(function) => {
            crate::ast::arity(function) == 0
                && crate::ast::builtin_name(function).as_deref() == Some("CURRENT_DATE")
        }
        Expr::Nested(inner) => is_date(inner, ctx),
        _ => false,
    }
}

/// An interval (as rewritten above) that the source adds to a DATE giving a DATE: MySQL's of days
/// to years, Hive's of months and years.
fn keeps_date(expr: &Expr, from: SourceDialect) -> bool {
    let interval = match expr {
        Expr::Interval(interval) => interval,
        // A computed count: `n * INTERVAL '1 days'`.
        Expr::BinaryOp {
            op: BinaryOperator::Multiply,
            right,
            ..
        } => return keeps_date(right, from),
        Expr::Nested(inner) => return keeps_date(inner, from),
        _ => return false,
    };
    let unit = match (&interval.leading_field, interval.value.as_ref()) {
        (None, Expr::Value(value)) => match &value.value {
            Value::SingleQuotedString(text) => text.rsplit(' ').next().unwrap_or_default(),
            _ => return false,
        },
        // Hive's `'1-2' YEAR TO MONTH`, kept as written.
        (Some(DateTimeField::Year), value) if is_string(value) => "years",
        _ => return false,
    };
    match unit {
        "months" | "years" => true,
        "days" => from == SourceDialect::Mysql,
        _ => false,
    }
}

/// A text column compared with a number (`s = 5`): MySQL compares them as numbers (compared
/// with 0 it is a condition, made one in `mysql_booleans`). An `ENUM` or `SET` column it
/// compares by its index or its members' bits, which the target, holding its text, has not.
pub(crate) fn text_compared_with_number(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    if !crate::ast::is_comparison(op) {
        return;
    }
    let column = match (
        number_literal(left).is_some(),
        number_literal(right).is_some(),
    ) {
        (false, true) => left,
        (true, false) => right,
        _ => return,
    };
    let Some(listed) = text_column(column, ctx) else {
        return;
    };
    if listed {
        ctx.log.action(
            "function.unsupported",
            format!("`{}`: an ENUM or SET column compared with a number, which MySQL compares with the value's index in the ENUM (or the SET's bits); the target holds its text", super::mysql_json::unquoted_text(expr)),
            "compare the column with its labels instead (e = 'b' for e = 2 in ENUM('a', 'b'))",
        );
    } else if ctx.to == TargetDialect::Postgres {
        text_as_number(column, ctx);
    }
}

/// Whether a column is of text in the target: `Some(true)` for one MySQL holds as an `ENUM` or
/// `SET`, `Some(false)` for one it holds as text.
fn text_column(expr: &Expr, ctx: &Ctx) -> Option<bool> {
    let column = ctx.column(expr)?;
    column.data_type.is_character().then_some(column.enumerated)
}

/// A text column where MySQL reads a number (compared with a number): the number its text
/// starts with after spaces, 0 when there is none. PostgreSQL takes it with a regular
/// expression (and refuses to compare text with a number); NULL stays NULL.
fn text_as_number(expr: &mut Expr, ctx: &mut Ctx) {
    let template = "(COALESCE(CAST(SUBSTRING($1 FROM '^\\s*[-+]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+)(?:[eE][-+]?[0-9]+)?') AS DOUBLE PRECISION), CASE WHEN $1 IS NOT NULL THEN 0 END))";
    let Ok(template) = crate::parse::expression(template, SourceDialect::Postgres) else {
        return;
    };
    let column = std::mem::replace(expr, Expr::value(Value::Null));
    *expr = super::functions::substitute(&template, &[column]);
    ctx.log.applied(CONDITION_NAME);
}
