//! MySQL built-ins the targets have under the same name but with another answer for some
//! arguments.
//!
//! `greatest_null_is_null`: MySQL's `GREATEST` and `LEAST` are NULL when any argument is NULL; the
//! targets' skip NULLs. The call becomes `CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE
//! GREATEST(a, b) END` (arguments that are non-NULL literals are not tested).
//!
//! `substring_from_end`: MySQL's `SUBSTRING(s, -3)` counts from the end of `s` (`''` when `s` is
//! shorter), `SUBSTRING(s, 0)` is `''`, and a length of 0 or less gives `''`; the targets count a
//! position of 0 or less from before the first character, and refuse a negative length. With
//! literal positions and lengths these become `RIGHT`, `LEFT(s, 0)` (`''`, or NULL when `s` is)
//! and a `CASE` on the length of `s`. `LEFT(s, n)` and `RIGHT(s, n)` with a negative `n` are `''`
//! in MySQL and all but `n` characters in the targets: a negative literal becomes 0, a computed
//! count `CASE WHEN n < 0 THEN 0 ELSE n END`.
//!
//! `mysql_collate_dropped`: `x COLLATE utf8mb4_bin` names a MySQL collation, which the targets
//! don't have (PostgreSQL refuses the view): `x` alone is compared exactly there, as under a
//! `_bin` collation; a case-insensitive one gets the view's `view.text-collation` warning, which
//! judges the expression by the collation it names.
//!
//! `extract_as_mysql`: PostgreSQL's `EXTRACT(SECOND ...)` keeps the fraction, its
//! `EXTRACT(MICROSECOND ...)` counts the seconds too, and its `EXTRACT(WEEK ...)` is the ISO week;
//! MySQL's are the whole seconds, the microseconds within the second and the week of `WEEK(d)`
//! (weeks start on Sunday, days before the year's first Sunday are week 0).

use super::functions::substitute;
use super::Ctx;
use crate::ast::{binary, call, case, is_non_null_literal, number, paren, signed_integer};
use migrate_core::{SourceDialect, TargetDialect};
use sqlparser::ast::{BinaryOperator, DateTimeField, Expr};

pub(crate) const GREATEST_NAME: &str = "greatest_null_is_null";
pub(crate) const SUBSTRING_NAME: &str = "substring_from_end";
pub(crate) const EXTRACT_NAME: &str = "extract_as_mysql";
pub(crate) const COLLATE_NAME: &str = "mysql_collate_dropped";

/// `GREATEST(args)` or `LEAST(args)` (`name`), NULL when any argument is.
pub(crate) fn greatest_null_is_null(name: &str, args: Vec<Expr>) -> Option<Expr> {
    let tested: Vec<&Expr> = args.iter().filter(|a| !is_non_null_literal(a)).collect();
    let any_null = tested
        .into_iter()
        .map(|arg| Expr::IsNull(Box::new(arg.clone())))
        .reduce(|a, b| binary(a, BinaryOperator::Or, b))?;
    let call = Expr::Function(call(name, args));
    Some(case(
        None,
        vec![(any_null, Expr::value(sqlparser::ast::Value::Null))],
        Some(call),
    ))
}

/// `''`, or NULL when `s` is: `LEFT(s, 0)`.
fn empty_of(s: Expr) -> Expr {
    Expr::Function(call("LEFT", vec![s, number(0)]))
}

/// MySQL `SUBSTRING(s, pos[, len])` with a literal position of 0 or less, or a literal length
/// of 0 or less.
pub(crate) fn substring_from_end(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::Substring {
        expr: s,
        substring_from: Some(from),
        substring_for,
        ..
    } = expr
    else {
        return;
    };
    let length = substring_for.as_deref().map(signed_integer);
    let replacement = match (signed_integer(from), length) {
        (_, Some(Some(n))) if n <= 0 => empty_of((**s).clone()),
        (Some(0), _) => empty_of((**s).clone()),
        (Some(start), _) if start < 0 => {
            let k = start.unsigned_abs();
            let tail = Expr::Function(call("RIGHT", vec![(**s).clone(), number(k)]));
            let tail = match substring_for.as_deref() {
                Some(length) => Expr::Substring {
                    expr: Box::new(tail),
                    substring_from: Some(Box::new(number(1))),
                    substring_for: Some(Box::new(length.clone())),
                    special: false,
                    shorthand: false,
                },
                None => tail,
            };
            let long_enough = binary(
                Expr::Function(call("CHAR_LENGTH", vec![(**s).clone()])),
                BinaryOperator::GtEq,
                number(k),
            );
            case(
                None,
                vec![(long_enough, tail)],
                Some(empty_of((**s).clone())),
            )
        }
        _ => return,
    };
    *expr = replacement;
    ctx.log.applied(SUBSTRING_NAME);
}

/// MySQL `LEFT(s, n)` / `RIGHT(s, n)` (`name`) whose count may be negative; `None` when it is a
/// literal of 0 or more.
pub(crate) fn left_right(name: &str, args: Vec<Expr>) -> Option<Expr> {
    let [s, n] = <[Expr; 2]>::try_from(args).ok()?;
    let count = match signed_integer(&n) {
        Some(n) if n >= 0 => return None,
        Some(_) => number(0),
        None => {
            let negative = binary(n.clone(), BinaryOperator::Lt, number(0));
            case(None, vec![(negative, number(0))], Some(n))
        }
    };
    Some(Expr::Function(call(name, vec![s, count])))
}

/// MySQL `EXTRACT(SECOND | MICROSECOND | WEEK FROM x)` on PostgreSQL.
pub(crate) fn extract_as_mysql(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql || ctx.to != TargetDialect::Postgres {
        return;
    }
    let Expr::Extract {
        field, expr: value, ..
    } = expr
    else {
        return;
    };
    let template = match field {
        DateTimeField::Second => "CAST(FLOOR(EXTRACT(SECOND FROM $1)) AS INTEGER)",
        DateTimeField::Microsecond => "CAST(EXTRACT(MICROSECOND FROM $1) AS INTEGER) % 1000000",
        DateTimeField::Week(None) => {
            "CAST(FLOOR((EXTRACT(DOY FROM $1) + 6 - EXTRACT(DOW FROM $1)) / 7) AS INTEGER)"
        }
        _ => return,
    };
    let Ok(template) = crate::parse::expression(template, SourceDialect::Postgres) else {
        return;
    };
    *expr = paren(substitute(&template, &[(**value).clone()]));
    ctx.log.applied(EXTRACT_NAME);
}

/// MySQL `x COLLATE name` becomes `x` (see the module's `mysql_collate_dropped`).
pub(crate) fn collate_dropped(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    if let Expr::Collate { expr: inner, .. } = expr {
        *expr = paren(std::mem::replace(
            inner,
            Expr::value(sqlparser::ast::Value::Null),
        ));
        ctx.log.applied(COLLATE_NAME);
    }
}
