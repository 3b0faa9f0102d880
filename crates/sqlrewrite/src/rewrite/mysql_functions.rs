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
//!
//! Many rewrites name an argument twice (`CASE WHEN a IS NULL ... GREATEST(a, b)`,
//! `LN(CASE WHEN x > 0 THEN x END)`): the target evaluates it twice, where the source did once.
//! That changes nothing for a column or a subquery, but a call that gives another value each
//! time (`RAND()`, `UUID()`) is another value in each place: [`VolatileCheck`] reports the
//! rewrites that multiplied such calls (`function.semantics`).

use super::functions::{arguments, substitute};
use super::Ctx;
use crate::ast::{binary, call, case, is_non_null_literal, number, paren, signed_integer};
use migrate_core::{SourceDialect, TargetDialect};
use sqlparser::ast::{BinaryOperator, DateTimeField, Expr, Visit, Visitor};
use std::ops::ControlFlow;

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
/// literal of 0 or more, or (reported) when the call has another number of arguments.
pub(crate) fn left_right(name: &str, args: Vec<Expr>, ctx: &mut Ctx) -> Option<Expr> {
    let [s, n] = arguments::<2>(name, args, ctx)?;
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

/// Functions that give another value at each call, as the sources and the targets name them.
const VOLATILE: &[&str] = &[
    "CLOCK_TIMESTAMP",
    "GEN_RANDOM_UUID",
    "NEXTVAL",
    "RAND",
    "RANDOM",
    "SYS_GUID",
    "TIMEOFDAY",
    "UUID",
    "UUID_SHORT",
];

/// Whether `expr` itself is a call of a [`VOLATILE`] function.
pub(crate) fn is_volatile_call(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(function)
        if crate::ast::builtin_name(function).is_some_and(|name| VOLATILE.contains(&name.as_str())))
}

/// The calls of [`VOLATILE`] functions in `expr`.
fn volatile_calls(expr: &Expr) -> usize {
    struct Count(usize);
    impl Visitor for Count {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            self.0 += usize::from(is_volatile_call(expr));
            ControlFlow::Continue(())
        }
    }
    let mut count = Count(0);
    let _ = expr.visit(&mut count);
    count.0
}

/// An expression about to be rewritten that holds volatile calls: their count and its text.
pub(crate) struct VolatileCheck(Option<(usize, String)>);

impl VolatileCheck {
    /// Before the rewrites of `expr`; counts nothing until a volatile call has been met
    /// ([`Ctx::volatile_seen`]), so that queries without one are not walked again at each node.
    pub(crate) fn before(expr: &Expr, ctx: &Ctx) -> VolatileCheck {
        // The nodes whose rewrites may name an operand twice; not the chains of arithmetic and
        // logic operators, whose every level would walk and print the rest of the chain again.
        let may_repeat = match expr {
            Expr::Function(_)
            | Expr::Substring { .. }
            | Expr::Extract { .. }
            | Expr::Cast { .. } => true,
            Expr::BinaryOp { op, .. } => matches!(
                op,
                BinaryOperator::Spaceship | BinaryOperator::Arrow | BinaryOperator::LongArrow
            ),
            _ => false,
        };
        if !ctx.volatile_seen || !may_repeat {
            return VolatileCheck(None);
        }
        let count = volatile_calls(expr);
        VolatileCheck((count > 0).then(|| (count, super::mysql_json::unquoted_text(expr))))
    }

    /// After them: a warning when `expr` now evaluates a volatile call more often.
    pub(crate) fn after(self, expr: &Expr, ctx: &mut Ctx) {
        let Some((count, source)) = self.0 else {
            return;
        };
        if volatile_calls(expr) <= count {
            return;
        }
        ctx.log.warning(
            "function.semantics",
            format!("`{source}` is converted to an expression that names an argument more than once, and the argument calls a function that gives another value each time (RAND, UUID...): the source evaluates it once, {} at each place", ctx.to),
            "compute the value once in a derived table (FROM (SELECT t.*, RAND() AS r FROM t) AS t) and pass that column to the function",
        );
    }
}
