//! MySQL's arithmetic operators, whose meaning differs in PostgreSQL.
//!
//! `division_keeps_decimals`: MySQL's `/` on exact numbers (integers, DECIMAL) gives a DECIMAL
//! with 4 more decimal places than the dividend, rounded (`7 / 2` is `3.5000`, `2 / 3` is
//! `0.6667`); PostgreSQL's `/` on integers truncates (`7 / 2` is `3`). It becomes
//! `ROUND(CAST(a AS NUMERIC) / b, scale)` when the scale of the dividend is known, and
//! `CAST(a AS NUMERIC) / b` with a `function.semantics` warning when it is not. An approximate
//! operand (DOUBLE, FLOAT, `1e3`) divides as it does in MySQL.
//!
//! `integer_division`: `a DIV b` (truncated toward zero, an integer) becomes
//! `CAST(DIV(a, b) AS BIGINT)`; PostgreSQL has no `DIV` operator.
//!
//! `division_by_zero_is_null`: MySQL's `/`, `DIV` and `%` (`MOD`) by zero give NULL; PostgreSQL
//! stops the query with an error. A divisor that is not a non-zero literal becomes
//! `NULLIF(b, 0)`. (Applied with the two above, and to `%`.)
//!
//! `xor_operator`: MySQL's `^` is a bitwise XOR, PostgreSQL's `^` raises to a power: it becomes
//! `#`.
//!
//! PostgreSQL targets only: Redshift's casts to a bare NUMERIC drop the decimals, and there is no
//! Redshift here to check another form against.

use super::Ctx;
use crate::ast::{binary, call, number, paren};
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{BinaryOperator, CastKind, DataType, ExactNumberInfo, Expr, UnaryOperator};

pub(crate) const DIVISION_NAME: &str = "division_keeps_decimals";
pub(crate) const DIV_NAME: &str = "integer_division";
pub(crate) const ZERO_NAME: &str = "division_by_zero_is_null";
pub(crate) const XOR_NAME: &str = "xor_operator";

/// MySQL's `div_precision_increment`: the decimal places `/` adds to the dividend's.
const DIV_PRECISION_INCREMENT: u64 = 4;

/// What MySQL computes a numeric operand as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Integer or DECIMAL, with its number of decimal places.
    Exact(u64),
    /// DOUBLE or FLOAT.
    Approximate,
}

/// Rewrites `expr` if it is one of MySQL's arithmetic operators that PostgreSQL reads otherwise.
pub(crate) fn arithmetic(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql || ctx.to != TargetDialect::Postgres {
        return;
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    match op {
        BinaryOperator::BitwiseXor => {
            *op = BinaryOperator::PGBitwiseXor;
            ctx.log.applied(XOR_NAME);
        }
        BinaryOperator::Divide => {
            let dividend = kind(left, ctx);
            let divisor = kind(right, ctx);
            let (a, b) = (take(left), take(right));
            let b = nonzero(b, ctx);
            *expr = match (dividend, divisor) {
                (_, Some(Kind::Approximate)) | (Some(Kind::Approximate), _) => {
                    binary(paren(a), BinaryOperator::Divide, b)
                }
                (Some(Kind::Exact(scale)), Some(Kind::Exact(_))) => {
                    ctx.log.applied(DIVISION_NAME);
                    let quotient = binary(numeric(a), BinaryOperator::Divide, b);
                    Expr::Function(call(
                        "ROUND",
                        vec![quotient, number(scale + DIV_PRECISION_INCREMENT)],
                    ))
                }
                _ => {
                    ctx.log.applied(DIVISION_NAME);
                    ctx.log.warning(
                        "function.semantics",
                        format!("`{a} / {b}`: MySQL rounds the quotient of exact numbers to 4 more decimal places than the dividend has; the type of `{a}` is not known, so PostgreSQL's quotient keeps its own (at least 16 significant digits)"),
                        "wrap the quotient in ROUND(..., decimal places of the dividend + 4) if the digits matter",
                    );
                    binary(numeric(a), BinaryOperator::Divide, b)
                }
            };
        }
        BinaryOperator::MyIntegerDivide => {
            let exact = |e: &Expr, ctx: &Ctx| matches!(kind(e, ctx), Some(Kind::Exact(_)));
            let a = take(left);
            let a = if exact(&a, ctx) { a } else { numeric(a) };
            let b = take(right);
            let b = if exact(&b, ctx) { b } else { numeric(b) };
            let b = nonzero(b, ctx);
            ctx.log.applied(DIV_NAME);
            *expr = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(Expr::Function(call("DIV", vec![a, b]))),
                data_type: DataType::BigInt(None),
                format: None,
            };
        }
        BinaryOperator::Modulo => {
            let approximate = |e: &Expr, ctx: &Ctx| kind(e, ctx) == Some(Kind::Approximate);
            // PostgreSQL has no `%` on DOUBLE PRECISION.
            if approximate(left, ctx) || approximate(right, ctx) {
                **left = numeric(take(left));
                **right = numeric(take(right));
            }
            let b = nonzero(take(right), ctx);
            **right = b;
        }
        _ => {}
    }
}

fn take(expr: &mut Expr) -> Expr {
    std::mem::replace(expr, Expr::value(sqlparser::ast::Value::Null))
}

fn numeric(expr: Expr) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type: DataType::Numeric(ExactNumberInfo::None),
        format: None,
    }
}

/// `NULLIF(divisor, 0)`, unless the divisor is a literal that is not zero.
fn nonzero(divisor: Expr, ctx: &mut Ctx) -> Expr {
    if literal_number(&divisor).is_some_and(|n| n != 0.0) {
        return divisor;
    }
    ctx.log.applied(ZERO_NAME);
    Expr::Function(call("NULLIF", vec![divisor, number(0)]))
}

fn literal_number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Value(value) => match &value.value {
            sqlparser::ast::Value::Number(text, _) => text.parse().ok(),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        }
        | Expr::Nested(expr) => literal_number(expr),
        _ => None,
    }
}

/// How MySQL computes `expr` as a number, when that is known from literals, column types and
/// the operators and aggregates over them.
fn kind(expr: &Expr, ctx: &Ctx) -> Option<Kind> {
    match expr {
        Expr::Value(value) => match &value.value {
            sqlparser::ast::Value::Number(text, _) if text.contains(['e', 'E']) => {
                Some(Kind::Approximate)
            }
            sqlparser::ast::Value::Number(text, _) => Some(Kind::Exact(
                text.split_once('.')
                    .map_or(0, |(_, fraction)| fraction.len()) as u64,
            )),
            _ => None,
        },
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => match ctx.column_type(expr)? {
            LogicalType::Boolean
            | LogicalType::SmallInt
            | LogicalType::Integer
            | LogicalType::BigInt => Some(Kind::Exact(0)),
            LogicalType::Decimal { scale, .. } => Some(Kind::Exact(u64::from(*scale))),
            LogicalType::Real | LogicalType::Double => Some(Kind::Approximate),
            _ => None,
        },
        Expr::Nested(inner)
        | Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr: inner,
        } => kind(inner, ctx),
        Expr::Cast { data_type, .. } => match data_type {
            DataType::SmallInt(_)
            | DataType::Int(_)
            | DataType::Integer(_)
            | DataType::BigInt(_) => Some(Kind::Exact(0)),
            DataType::Numeric(ExactNumberInfo::PrecisionAndScale(_, scale))
            | DataType::Decimal(ExactNumberInfo::PrecisionAndScale(_, scale)) => {
                u64::try_from(*scale).ok().map(Kind::Exact)
            }
            DataType::Numeric(ExactNumberInfo::Precision(_))
            | DataType::Decimal(ExactNumberInfo::Precision(_)) => Some(Kind::Exact(0)),
            DataType::DoublePrecision | DataType::Double(_) | DataType::Real => {
                Some(Kind::Approximate)
            }
            _ => None,
        },
        Expr::BinaryOp { left, op, right } => {
            let (a, b) = (kind(left, ctx)?, kind(right, ctx)?);
            let (Kind::Exact(a), Kind::Exact(b)) = (a, b) else {
                return Some(Kind::Approximate);
            };
            match op {
                BinaryOperator::Plus | BinaryOperator::Minus | BinaryOperator::Modulo => {
                    Some(Kind::Exact(a.max(b)))
                }
                BinaryOperator::Multiply => Some(Kind::Exact(a + b)),
                _ => None,
            }
        }
        Expr::Function(function) => {
            let name = crate::ast::builtin_name(function)?;
            let args = crate::ast::plain_args(function);
            match (name.as_str(), args.as_deref()) {
                ("COUNT", _) => Some(Kind::Exact(0)),
                ("LN" | "LOG" | "LOG10" | "EXP" | "POWER" | "SQRT" | "RANDOM", _) => {
                    Some(Kind::Approximate)
                }
                ("SUM" | "MIN" | "MAX" | "ABS", Some([arg])) => kind(arg, ctx),
                // Quotients already rewritten are among these.
                ("ROUND", Some([value, digits])) => match kind(value, ctx)? {
                    Kind::Exact(_) => crate::ast::integer_literal(digits).map(Kind::Exact),
                    Kind::Approximate => Some(Kind::Approximate),
                },
                ("AVG", Some([arg])) => match kind(arg, ctx)? {
                    Kind::Exact(scale) => Some(Kind::Exact(scale + DIV_PRECISION_INCREMENT)),
                    Kind::Approximate => Some(Kind::Approximate),
                },
                _ => None,
            }
        }
        _ => None,
    }
}
