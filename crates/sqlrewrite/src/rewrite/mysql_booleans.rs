//! `condition_as_number`: MySQL has no boolean type. A comparison or another condition (`IN`,
//! `BETWEEN`, `LIKE`, `IS NULL`, `EXISTS`, `NOT`/`AND`/`OR` of them) is the number 1, 0 or
//! NULL, and MySQL code computes with it: `SUM(status = 'open')`, `(a = b) + 0`,
//! `GREATEST(a > b, c)`, `(a > b) = 1`. The targets refuse a boolean there
//! (`function sum(boolean) does not exist`). Where MySQL takes it as a number (an operand of
//! arithmetic, an argument of a function, compared with a number, a result of a `CASE` whose
//! other results are numbers) it becomes one, NULL staying NULL: `CAST(cond AS INTEGER)` on
//! PostgreSQL; on Redshift, whose documentation gives no cast from BOOLEAN to a number,
//! `CASE cond WHEN TRUE THEN 1 WHEN FALSE THEN 0 END` (one evaluation of `cond`). A boolean
//! column (MySQL's `BIT(1)`, `BOOLEAN` in a script) there is read the same way, and `TRUE` and
//! `FALSE` are `1` and `0`.
//!
//! Where the target takes a boolean (`WHERE`, `ON`, `HAVING`, `CASE WHEN`, `IF`'s condition,
//! operands of `AND`/`OR`/`NOT`, `ORDER BY`, a comparison with another boolean) it stays one.
//! So does a condition selected as a column (`SELECT a = b AS same`): the view's column is a
//! boolean, as a MySQL `BOOLEAN` column becomes one, since its only values are 0, 1 and NULL.
//! A subquery's such column summed outside (`SUM(d.same)`) is not followed: its type is unknown.

use super::Ctx;
use crate::ast::{builtin_name, case, cast, is_comparison, is_null_literal, number};
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{
    BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator,
    Value,
};

pub(crate) const NAME: &str = "condition_as_number";

/// Functions whose value is one of their arguments: a boolean stays one when they all are
/// (`COALESCE(a = b, c = d)` is a condition the targets take as it is).
const PASS_THROUGH: &[&str] = &["COALESCE", "IFNULL", "NULLIF", "GREATEST", "LEAST"];

/// The arguments of a MySQL call (before the function map renames it: `IF` is still `IF`).
pub(crate) fn arguments(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::Function(function) = expr else {
        return;
    };
    let name = builtin_name(function).unwrap_or_default();
    let FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    let mut args: Vec<&mut Expr> = list
        .args
        .iter_mut()
        .filter_map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr),
            _ => None,
        })
        .collect();
    match name.as_str() {
        // Counts the values that are not NULL: the same for a boolean.
        "COUNT" => {}
        // The first argument is a condition; the value is the second or the third.
        "IF" if !args.is_empty() => mixed(args.split_off(1), ctx),
        name if PASS_THROUGH.contains(&name) => mixed(args, ctx),
        _ => {
            for arg in args {
                as_number(arg, ctx);
            }
        }
    }
}

/// The operands of an operator, the values a comparison or a `CASE` compares and the results of
/// a `CASE` (after `numeric_condition_to_comparison` and `boolean_operand_to_integer`, which
/// leave comparisons of boolean columns with numbers as `CAST(b AS INTEGER) = 1`).
pub(crate) fn operands(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    match expr {
        Expr::BinaryOp { left, op, right } if is_arithmetic(op) => {
            as_number(left, ctx);
            as_number(right, ctx);
        }
        Expr::BinaryOp { left, op, right } if is_comparison(op) => {
            compared(left, right, ctx);
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus | UnaryOperator::BitwiseNot,
            expr,
        } => as_number(expr, ctx),
        Expr::InList { expr, list, .. } => {
            if is_boolean(expr, ctx) {
                if list.iter().any(|item| is_number(item, ctx)) {
                    as_number(expr, ctx);
                }
            } else if is_number(expr, ctx) {
                for item in list {
                    as_number(item, ctx);
                }
            }
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            if is_boolean(expr, ctx) {
                if is_number(low, ctx) || is_number(high, ctx) {
                    as_number(expr, ctx);
                }
            } else if is_number(expr, ctx) {
                as_number(low, ctx);
                as_number(high, ctx);
            }
        }
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(operand) = operand {
                for when in conditions.iter_mut() {
                    compared(operand, &mut when.condition, ctx);
                }
            }
            let results = conditions
                .iter_mut()
                .map(|when| &mut when.result)
                .chain(else_result.as_deref_mut())
                .collect();
            mixed(results, ctx);
        }
        _ => {}
    }
}

/// Two values compared: a boolean compared with a number becomes a number.
fn compared(left: &mut Expr, right: &mut Expr, ctx: &mut Ctx) {
    if is_boolean(left, ctx) && is_number(right, ctx) {
        as_number(left, ctx);
    } else if is_number(left, ctx) && is_boolean(right, ctx) {
        as_number(right, ctx);
    }
}

/// Values of which one is the result (a `CASE`'s, `COALESCE`'s): the booleans among them become
/// numbers when another is a number, and stay booleans when all are (NULL aside).
fn mixed(values: Vec<&mut Expr>, ctx: &mut Ctx) {
    if !values.iter().any(|value| is_number(value, ctx)) {
        return;
    }
    for value in values {
        as_number(value, ctx);
    }
}

/// Operators MySQL computes on numbers: arithmetic and bits.
fn is_arithmetic(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo
            | BinaryOperator::MyIntegerDivide
            | BinaryOperator::BitwiseAnd
            | BinaryOperator::BitwiseOr
            | BinaryOperator::BitwiseXor
            | BinaryOperator::PGBitwiseShiftLeft
            | BinaryOperator::PGBitwiseShiftRight
    )
}

/// A value the targets hold as a boolean: a condition, a boolean literal or column, or a `CASE`
/// or pass-through call all of whose values are booleans.
fn is_boolean(expr: &Expr, ctx: &Ctx) -> bool {
    match expr {
        Expr::Nested(inner) => is_boolean(inner, ctx),
        Expr::Value(value) => matches!(value.value, Value::Boolean(_)),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            ctx.column_type(expr) == Some(&LogicalType::Boolean)
        }
        Expr::BinaryOp { op, .. } => {
            is_comparison(op)
                || matches!(
                    op,
                    BinaryOperator::And
                        | BinaryOperator::Or
                        | BinaryOperator::Xor
                        | BinaryOperator::PGRegexMatch
                        | BinaryOperator::PGRegexIMatch
                        | BinaryOperator::PGRegexNotMatch
                        | BinaryOperator::PGRegexNotIMatch
                )
        }
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsNotTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsUnknown(_)
        | Expr::IsNotUnknown(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. }
        | Expr::RLike { .. }
        | Expr::Exists { .. } => true,
        Expr::Case {
            conditions,
            else_result,
            ..
        } => all_boolean(
            conditions
                .iter()
                .map(|when| &when.result)
                .chain(else_result.as_deref()),
            ctx,
        ),
        Expr::Function(function) => {
            let pass_through =
                builtin_name(function).is_some_and(|name| PASS_THROUGH.contains(&name.as_str()));
            let FunctionArguments::List(list) = &function.args else {
                return false;
            };
            pass_through
                && all_boolean(
                    list.args.iter().filter_map(|arg| match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr),
                        _ => None,
                    }),
                    ctx,
                )
        }
        _ => false,
    }
}

/// Whether the values are booleans, NULLs aside, and one at least is.
fn all_boolean<'e>(values: impl Iterator<Item = &'e Expr>, ctx: &Ctx) -> bool {
    let mut any = false;
    for value in values.filter(|value| !is_null_literal(value)) {
        if !is_boolean(value, ctx) {
            return false;
        }
        any = true;
    }
    any
}

/// A value that is not a boolean: a number (or anything else MySQL compares a number with).
/// NULL and `?` are neither.
fn is_number(expr: &Expr, ctx: &Ctx) -> bool {
    !is_boolean(expr, ctx) && !is_null_literal(expr)
}

/// A boolean made MySQL's number: 1, 0 or NULL. Anything else is left as it is.
fn as_number(expr: &mut Expr, ctx: &mut Ctx) {
    if !is_boolean(expr, ctx) {
        return;
    }
    let mut boolean = std::mem::replace(expr, Expr::value(Value::Null));
    // The cast or the CASE encloses it.
    while let Expr::Nested(inner) = boolean {
        boolean = *inner;
    }
    *expr = match (boolean, ctx.to) {
        (Expr::Value(value), _) => number(u64::from(value.value == Value::Boolean(true))),
        (boolean, TargetDialect::Postgres) => cast(boolean, DataType::Integer(None)),
        (boolean, TargetDialect::Redshift) => {
            let literal = |b| Expr::value(Value::Boolean(b));
            case(
                Some(boolean),
                vec![(literal(true), number(1)), (literal(false), number(0))],
                None,
            )
        }
    };
    ctx.log.applied(NAME);
}
