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
//! `xor_operator`: MySQL's `^` is a bitwise XOR, PostgreSQL's and Redshift's `^` raise to a power:
//! it becomes `#` (both targets).
//!
//! `round_double_as_mysql`: MySQL's `ROUND(x, n)` of a DOUBLE rounds `x * 10^n` to the nearest
//! even integer and shows `n` decimal places; PostgreSQL has no `ROUND(DOUBLE PRECISION, INTEGER)`.
//! It becomes `ROUND(CAST(ROUND(x * 10^n) / 10^n AS NUMERIC), n)` (PostgreSQL's `ROUND` of a
//! DOUBLE PRECISION rounds to even too). `MOD(a, b)` is read as `a % b`, which PostgreSQL has for
//! every numeric type once a DOUBLE is NUMERIC.
//!
//! `null_safe_equal`: MySQL's `a <=> b` becomes `a IS NOT DISTINCT FROM b` (Redshift has no such
//! operator: a `CASE` that is never NULL).
//!
//! `regexp_ignoring_case`: MySQL's `s REGEXP p` matches under the collation, ignoring case with the
//! default ones: PostgreSQL's `s ~* p`; `s ~ p` where `s` is searched with case (a `_bin` or
//! `_cs` column or COLLATE). Redshift is left as written, and reported.
//!
//! `unsigned_cast_wraps`: MySQL's `CAST(n AS UNSIGNED)` of a negative integer (or text) wraps
//! it to `2^64 + n`; the targets' cast to NUMERIC(20,0) keeps it negative. Of an integer it
//! becomes `MOD(CAST(n AS NUMERIC(20,0)) + 18446744073709551616, 18446744073709551616)`; of a
//! DECIMAL or DOUBLE (which MySQL makes 0 when negative) or of an unknown type it is a
//! `function.semantics` warning.
//!
//! `decimal_cast_clamps`: MySQL's `CAST(x AS DECIMAL(p,s))` of a value beyond its precision gives
//! the largest value of the type (`999.99` for `DECIMAL(5,2)`), with a warning; the targets stop
//! the query (numeric field overflow). Unless `x` is a column or a literal known to fit, a
//! number becomes `CASE WHEN x IS NULL THEN NULL ELSE CAST(LEAST(GREATEST(x, -999.99), 999.99)
//! AS NUMERIC(5,2)) END` (the targets' LEAST and GREATEST skip NULLs), a value of unknown type
//! `CAST(x AS NUMERIC)` there; text (and, on Redshift, a value of unknown type) is a
//! `function.semantics` warning.
//!
//! PostgreSQL targets only (but for `<=>`, `^`, UNSIGNED and DECIMAL casts): Redshift's casts to
//! a bare NUMERIC drop the decimals, and there is no Redshift here to check another form
//! against; its `DIV` is reported.

use super::Ctx;
use crate::ast::{binary, call, cast, number, number_literal, paren, signed_integer};
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{BinaryOperator, DataType, ExactNumberInfo, Expr, UnaryOperator};

pub(crate) const DIVISION_NAME: &str = "division_keeps_decimals";
pub(crate) const DIV_NAME: &str = "integer_division";
pub(crate) const ZERO_NAME: &str = "division_by_zero_is_null";
pub(crate) const XOR_NAME: &str = "xor_operator";
pub(crate) const ROUND_NAME: &str = "round_double_as_mysql";
pub(crate) const NULL_SAFE_NAME: &str = "null_safe_equal";
pub(crate) const REGEXP_NAME: &str = "regexp_ignoring_case";
pub(crate) const UNSIGNED_NAME: &str = "unsigned_cast_wraps";
pub(crate) const DECIMAL_NAME: &str = "decimal_cast_clamps";

/// MySQL's `div_precision_increment`: the decimal places `/` adds to the dividend's.
const DIV_PRECISION_INCREMENT: u64 = 4;

/// What MySQL computes a numeric operand as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// Integer or DECIMAL, with its number of decimal places.
    Exact(u64),
    /// DOUBLE or FLOAT.
    Approximate,
}

/// Rewrites `expr` if it is one of MySQL's arithmetic operators that PostgreSQL reads otherwise.
pub(crate) fn arithmetic(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    if ctx.to == TargetDialect::Redshift {
        match op {
            // Redshift's `^` raises to a power too, and its `#` is XOR, as in PostgreSQL.
            BinaryOperator::BitwiseXor => {
                *op = BinaryOperator::PGBitwiseXor;
                ctx.log.applied(XOR_NAME);
            }
            BinaryOperator::MyIntegerDivide => ctx.log.action(
                "function.unsupported",
                format!("`{}`: Redshift has no DIV operator", super::mysql_json::unquoted_text(expr)),
                "divide and truncate toward zero: CAST(TRUNC(a / b) AS BIGINT) (NULL for b = 0 with NULLIF(b, 0))",
            ),
            _ => {}
        }
        return;
    }
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
            *expr = cast(
                Expr::Function(call("DIV", vec![a, b])),
                DataType::BigInt(None),
            );
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

/// MySQL `MOD(a, b)` (as `a % b`, rewritten by [`arithmetic`]) and `ROUND(x[, n])` of a DOUBLE;
/// `None` leaves the call to the function map (a ROUND of an exact number means the same).
pub(crate) fn mod_round_call(name: &str, args: Vec<Expr>, ctx: &mut Ctx) -> Option<Expr> {
    if name == "MOD" {
        let [a, b] = <[Expr; 2]>::try_from(args).ok()?;
        return Some(binary(paren(a), BinaryOperator::Modulo, paren(b)));
    }
    let mut args = args.into_iter();
    let (x, digits) = (args.next()?, args.next());
    if args.next().is_some() || kind(&x, ctx) != Some(Kind::Approximate) {
        return None;
    }
    let places = match &digits {
        None => Some(0),
        Some(digits) => signed_integer(digits),
    };
    // Beyond 15 decimal places a DOUBLE has no digits left to round.
    let Some(places) = places.filter(|n| n.abs() <= 15) else {
        ctx.log.action(
            "function.unsupported",
            format!("ROUND(`{}`, ...) of a DOUBLE with a computed (or over 15) number of decimal places: PostgreSQL has no ROUND(DOUBLE PRECISION, INTEGER)", super::mysql_json::unquoted_text(&x)),
            "write ROUND(CAST(x AS NUMERIC), n) (which rounds halves away from zero, where MySQL rounds a DOUBLE's halves to even)",
        );
        return Some(Expr::Function(call(
            "ROUND",
            [x].into_iter().chain(digits).collect(),
        )));
    };
    ctx.log.applied(ROUND_NAME);
    let scale = number(10u64.pow(places.unsigned_abs() as u32));
    let rounded = match places {
        0 => Expr::Function(call("ROUND", vec![x])),
        1.. => binary(
            Expr::Function(call(
                "ROUND",
                vec![binary(paren(x), BinaryOperator::Multiply, scale.clone())],
            )),
            BinaryOperator::Divide,
            scale,
        ),
        _ => binary(
            Expr::Function(call(
                "ROUND",
                vec![binary(paren(x), BinaryOperator::Divide, scale.clone())],
            )),
            BinaryOperator::Multiply,
            scale,
        ),
    };
    Some(Expr::Function(call(
        "ROUND",
        vec![numeric(rounded), number(places.max(0).unsigned_abs())],
    )))
}

/// MySQL `a <=> b`.
pub(crate) fn null_safe(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Spaceship,
        right,
    } = expr
    else {
        return;
    };
    let (a, b) = (take(left), take(right));
    ctx.log.applied(NULL_SAFE_NAME);
    *expr = match ctx.to {
        TargetDialect::Postgres => Expr::IsNotDistinctFrom(Box::new(a), Box::new(b)),
        TargetDialect::Redshift => {
            let both_null = binary(
                Expr::IsNull(Box::new(a.clone())),
                BinaryOperator::And,
                Expr::IsNull(Box::new(b.clone())),
            );
            let same = binary(
                binary(a, BinaryOperator::Eq, b),
                BinaryOperator::Or,
                paren(both_null),
            );
            let boolean = |b| Expr::value(sqlparser::ast::Value::Boolean(b));
            crate::ast::case(None, vec![(same, boolean(true))], Some(boolean(false)))
        }
    };
}

fn take(expr: &mut Expr) -> Expr {
    std::mem::replace(expr, Expr::value(sqlparser::ast::Value::Null))
}

fn numeric(expr: Expr) -> Expr {
    cast(expr, DataType::Numeric(ExactNumberInfo::None))
}

/// `NULLIF(divisor, 0)`, unless the divisor is a literal that is not zero.
fn nonzero(divisor: Expr, ctx: &mut Ctx) -> Expr {
    let value = number_literal(&divisor).and_then(|(_, digits)| digits.parse().ok());
    if value.is_some_and(|n: f64| n != 0.0) {
        return divisor;
    }
    ctx.log.applied(ZERO_NAME);
    Expr::Function(call("NULLIF", vec![divisor, number(0)]))
}

/// How MySQL computes a number literal or a column of a numeric type (a BOOLEAN too, which is
/// a TINYINT(1) to MySQL).
pub(crate) fn leaf_kind(expr: &Expr, ctx: &Ctx) -> Option<Kind> {
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
        _ => match ctx.column_type(expr)? {
            LogicalType::Boolean
            | LogicalType::SmallInt
            | LogicalType::Integer
            | LogicalType::BigInt => Some(Kind::Exact(0)),
            LogicalType::Decimal { scale, .. } => Some(Kind::Exact(u64::from(*scale))),
            LogicalType::Real | LogicalType::Double => Some(Kind::Approximate),
            _ => None,
        },
    }
}

/// How MySQL computes `expr` as a number, when that is known from literals, column types and
/// the operators and aggregates over them.
fn kind(expr: &Expr, ctx: &Ctx) -> Option<Kind> {
    match expr {
        Expr::Value(_) | Expr::Identifier(_) | Expr::CompoundIdentifier(_) => leaf_kind(expr, ctx),
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

/// MySQL `s REGEXP p` (pre-visit: before a `COLLATE` of `s` is dropped) becomes PostgreSQL's
/// `~*`, which ignores case as MySQL's default collations do, or `~` where `s` is searched with
/// case ([`crate::collation::case_sensitive`]). Redshift's operators are reported.
pub(crate) fn regexp(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::RLike {
        negated,
        expr: text,
        pattern,
        ..
    } = expr
    else {
        return;
    };
    if ctx.to != TargetDialect::Postgres {
        ctx.log.action(
            "function.unsupported",
            format!("`{}`: Redshift's regular expression operators were not checked against MySQL's REGEXP, which ignores case under the default collations", super::mysql_json::unquoted_text(expr)),
            "write REGEXP_INSTR(s, pattern, 1, 1, 0, 'i') > 0 after checking it against the source's values",
        );
        return;
    }
    let with_case = crate::collation::case_sensitive(text, ctx.types.as_deref(), &ctx.scopes);
    let op = match (negated, with_case) {
        (true, true) => BinaryOperator::PGRegexNotMatch,
        (true, false) => BinaryOperator::PGRegexNotIMatch,
        (false, true) => BinaryOperator::PGRegexMatch,
        (false, false) => BinaryOperator::PGRegexIMatch,
    };
    let (a, b) = (take(text), take(pattern));
    ctx.log.applied(REGEXP_NAME);
    *expr = binary(a, op, b);
}

/// `unsigned_cast_wraps` and `decimal_cast_clamps` (see the module), on a MySQL cast whose type
/// is not mapped yet: the cast is mapped here, inside the expression that replaces it.
pub(crate) fn numeric_cast(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::Cast {
        expr: value,
        data_type,
        ..
    } = expr
    else {
        return;
    };
    let replacement = if data_type
        .to_string()
        .to_ascii_uppercase()
        .starts_with("UNSIGNED")
    {
        unsigned(value, ctx)
    } else {
        let (precision, scale) = match data_type {
            DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => match info {
                ExactNumberInfo::PrecisionAndScale(p, s) => match u64::try_from(*s) {
                    Ok(s) => (*p, s),
                    Err(_) => return,
                },
                ExactNumberInfo::Precision(p) => (*p, 0),
                ExactNumberInfo::None => (10, 0),
            },
            _ => return,
        };
        decimal(value, precision, scale, ctx)
    };
    let Some((name, wrap)) = replacement else {
        return;
    };
    let mut cast = take(expr);
    super::casts::cast_type(&mut cast, ctx);
    *expr = wrap(cast);
    ctx.log.applied(name);
}

type Wrap = Box<dyn FnOnce(Expr) -> Expr>;

/// How `CAST(value AS UNSIGNED)` is wrapped, if it is.
fn unsigned(value: &Expr, ctx: &mut Ctx) -> Option<(&'static str, Wrap)> {
    // A negative integer literal, or an integer column.
    let wraps = match signed_integer(value) {
        Some(n) => n < 0,
        None => matches!(
            ctx.column_type(value),
            Some(LogicalType::SmallInt | LogicalType::Integer | LogicalType::BigInt)
        ),
    };
    if !wraps {
        if number_literal(value).is_none_or(|(negative, _)| negative) {
            ctx.log.warning(
                "function.semantics",
                format!("`CAST({} AS UNSIGNED)`: MySQL gives 0 for a negative DECIMAL or DOUBLE and 2^64 + n for a negative integer or text, {} the negative number", super::mysql_json::unquoted_text(value), ctx.to),
                "where the value may be negative, write GREATEST(CAST(x AS NUMERIC(20,0)), 0) for a DECIMAL or DOUBLE, MOD(CAST(x AS NUMERIC(20,0)) + 18446744073709551616, 18446744073709551616) for an integer",
            );
        }
        return None;
    }
    let wrap = |cast| {
        let modulus = || {
            Expr::value(sqlparser::ast::Value::Number(
                "18446744073709551616".into(),
                false,
            ))
        };
        Expr::Function(call(
            "MOD",
            vec![binary(cast, BinaryOperator::Plus, modulus()), modulus()],
        ))
    };
    Some((UNSIGNED_NAME, Box::new(wrap)))
}

/// How `CAST(value AS DECIMAL(precision, scale))` is wrapped, if it is.
fn decimal(
    value: &Expr,
    precision: u64,
    scale: u64,
    ctx: &mut Ctx,
) -> Option<(&'static str, Wrap)> {
    let integer_digits = precision.checked_sub(scale)?;
    // Digits before and after the point that `value` may have.
    let digits = match number_literal(value) {
        Some((_, text)) if !text.contains(['e', 'E']) => {
            let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
            Some((
                integer.trim_start_matches('0').len() as u64,
                fraction.trim_end_matches('0').len() as u64,
            ))
        }
        _ => match ctx.column_type(value) {
            Some(LogicalType::SmallInt) => Some((5, 0)),
            Some(LogicalType::Integer) => Some((10, 0)),
            Some(LogicalType::BigInt) => Some((19, 0)),
            Some(LogicalType::Decimal { precision, scale }) => Some((
                u64::from(*precision).saturating_sub(u64::from(*scale)),
                u64::from(*scale),
            )),
            _ => None,
        },
    };
    // Rounding to fewer decimals may carry into one more integer digit (999.996 is 1000.00).
    let fits = digits.is_some_and(|(integer, fraction)| {
        integer < integer_digits || (integer == integer_digits && fraction <= scale)
    });
    if fits || crate::ast::is_null_literal(value) {
        return None;
    }
    // PostgreSQL's GREATEST refuses to mix text with a number, and casting text first stops the
    // query where MySQL reads it as 0: text is reported. A value of unknown type is made a
    // number (Redshift's bare NUMERIC has no decimals: reported there).
    let text = matches!(value, Expr::Value(v) if matches!(v.value, sqlparser::ast::Value::SingleQuotedString(_)))
        || ctx
            .column_type(value)
            .is_some_and(LogicalType::is_character);
    let value = match kind(value, ctx) {
        Some(_) => value.clone(),
        None if !text && ctx.to == TargetDialect::Postgres => numeric(value.clone()),
        None => {
            ctx.log.warning(
                "function.semantics",
                format!("`CAST({} AS DECIMAL({precision},{scale}))`: MySQL gives the largest value of the type for a value beyond it, {} stops the query (numeric field overflow)", super::mysql_json::unquoted_text(value), ctx.to),
                "where the value may be out of range, clamp it: CAST(LEAST(GREATEST(CAST(x AS NUMERIC), -largest), largest) AS NUMERIC(p,s))",
            );
            return None;
        }
    };
    let integer = match integer_digits {
        0 => "0".to_string(),
        n => "9".repeat(n as usize),
    };
    let largest = match scale {
        0 => integer,
        n => format!("{integer}.{}", "9".repeat(n as usize)),
    };
    let wrap = move |cast: Expr| {
        let Expr::Cast {
            kind,
            data_type,
            format,
            ..
        } = cast
        else {
            return cast;
        };
        let number = || Expr::value(sqlparser::ast::Value::Number(largest.clone(), false));
        let lowest = Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: Box::new(number()),
        };
        let clamped = Expr::Function(call(
            "LEAST",
            vec![
                Expr::Function(call("GREATEST", vec![value.clone(), lowest])),
                number(),
            ],
        ));
        let clamped = Expr::Cast {
            kind,
            expr: Box::new(clamped),
            data_type,
            format,
        };
        crate::ast::case(
            None,
            vec![(
                Expr::IsNull(Box::new(value)),
                Expr::value(sqlparser::ast::Value::Null),
            )],
            Some(clamped),
        )
    };
    Some((DECIMAL_NAME, Box::new(wrap)))
}
