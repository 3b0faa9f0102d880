//! Oracle text operators whose targets' namesakes answer otherwise for NULL and for positions.
//!
//! `oracle_concat_null_is_empty`: Oracle's `||` takes a NULL operand for `''`, and gives NULL for
//! `''` (its empty string is NULL): `'a' || NULL` is `'a'`, `NULL || NULL` is NULL. PostgreSQL's
//! `||` gives NULL for any NULL operand; its `CONCAT` skips them, and gives `''` where Oracle gives
//! NULL: in a view, the chain `a || b || c` becomes `NULLIF(CONCAT(a, b, c), '')`. Redshift's
//! `CONCAT` takes two arguments and gives NULL as its `||` does: there, and in a table's
//! expressions (CHECK, index), the `expression.concat-null` warning stays.
//! A number or date operand is written as text in the target's own form, not with Oracle's session
//! formats: an operand of such a column type keeps an `expression.concat-format` warning.
//!
//! `oracle_substr_from_end`: Oracle's `SUBSTR(s, -k[, n])` counts `k` characters from the end of
//! `s`, and is NULL when `s` is shorter; `SUBSTR(s, 0[, n])` starts at the first character, as
//! does 1; a length below 1 gives NULL. The targets take a start of 0 or less for a position
//! before the first character. With literal positions: `CASE WHEN CHAR_LENGTH(s) >= k THEN
//! SUBSTR(RIGHT(s, k), 1, n) END`, `SUBSTR(s, 1, n)`, and NULL for a literal length below 1 (which
//! PostgreSQL refuses when negative and takes for `''` when 0).

use super::Ctx;
use crate::ast::{binary, call, case, cast, is_non_null_literal, number, signed_integer, string};
use migrate_core::{SourceDialect, TargetDialect};
use sqlparser::ast::{BinaryOperator, CastKind, DataType, Expr, Value};

pub(crate) const CONCAT_NAME: &str = "oracle_concat_null_is_empty";
pub(crate) const SUBSTR_NAME: &str = "oracle_substr_from_end";

/// Oracle `a || b` in a view on PostgreSQL, `a` or `b` being a chain already rewritten. Table
/// expressions keep `||`: PostgreSQL's `CONCAT` is not IMMUTABLE, which an index expression
/// must be.
pub(crate) fn concat_null_is_empty(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Oracle || ctx.to != TargetDialect::Postgres || !ctx.query {
        return;
    }
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::StringConcat,
        right,
    } = expr
    else {
        return;
    };
    if is_non_null_literal(left) && is_non_null_literal(right) {
        return;
    }
    let mut operands = chain_operands(left);
    operands.extend(chain_operands(right));
    if operands
        .iter()
        .any(|operand| is_number_or_date(operand, ctx))
        && !ctx.log.has("expression.concat-format")
    {
        ctx.log.warning(
            "expression.concat-format",
            format!("Oracle || writes a number or date operand in the session's NLS format (dates as DD-MON-RR by default, 0.5 as .5); {} writes its own text form (2024-03-15 00:00:00, 0.5)", ctx.to),
            "wrap the operand in TO_CHAR(x, 'format') with the format the text should have",
        );
    }
    let concat = Expr::Function(call("CONCAT", operands));
    *expr = Expr::Function(call("NULLIF", vec![concat, string("")]));
    ctx.log.applied(CONCAT_NAME);
}

/// The operands of an operand of `||`: those of a chain this rewrite wrote
/// (`NULLIF(CONCAT(..), '')`, which is Oracle's `||` of them), else the operand itself.
fn chain_operands(operand: &Expr) -> Vec<Expr> {
    let inner = match operand {
        Expr::Nested(inner) => inner.as_ref(),
        other => other,
    };
    if let Expr::Function(nullif) = inner {
        if crate::ast::builtin_name(nullif).as_deref() == Some("NULLIF") {
            if let Some([Expr::Function(concat), empty]) = crate::ast::plain_args(nullif).as_deref()
            {
                if crate::ast::builtin_name(concat).as_deref() == Some("CONCAT")
                    && *empty == string("")
                {
                    if let Some(args) = crate::ast::plain_args(concat) {
                        return args;
                    }
                }
            }
        }
    }
    vec![operand.clone()]
}

/// A column of a known number, date or time type, a number literal, or a cast to one.
fn is_number_or_date(expr: &Expr, ctx: &Ctx) -> bool {
    match expr {
        Expr::Nested(inner) => is_number_or_date(inner, ctx),
        Expr::Value(value) => matches!(value.value, Value::Number(..)),
        Expr::UnaryOp { expr, .. } => is_number_or_date(expr, ctx),
        Expr::Cast {
            kind: CastKind::Cast,
            data_type,
            ..
        } => !crate::collation::is_text_type(data_type),
        _ => ctx.column_type(expr).is_some_and(|ty| !ty.is_character()),
    }
}

/// Oracle `SUBSTR(s, pos[, len])` with a literal position of 0 or less, or a literal length
/// below 1.
pub(crate) fn substr_from_end(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Oracle {
        return;
    }
    let Expr::Substring {
        expr: s,
        substring_from: Some(from),
        substring_for,
        special,
        shorthand,
    } = expr
    else {
        return;
    };
    let no_length = substring_for
        .as_deref()
        .and_then(signed_integer)
        .is_some_and(|n| n < 1);
    let replacement = match signed_integer(from) {
        _ if no_length => null_text(),
        Some(0) => Expr::Substring {
            expr: s.clone(),
            substring_from: Some(Box::new(number(1))),
            substring_for: substring_for.clone(),
            special: *special,
            shorthand: *shorthand,
        },
        Some(start) if start < 0 => {
            let k = start.unsigned_abs();
            let tail = Expr::Function(call("RIGHT", vec![(**s).clone(), number(k)]));
            let tail = match substring_for {
                Some(length) => Expr::Substring {
                    expr: Box::new(tail),
                    substring_from: Some(Box::new(number(1))),
                    substring_for: Some(length.clone()),
                    special: *special,
                    shorthand: *shorthand,
                },
                None => tail,
            };
            let long_enough = binary(
                Expr::Function(call("CHAR_LENGTH", vec![(**s).clone()])),
                BinaryOperator::GtEq,
                number(k),
            );
            case(None, vec![(long_enough, tail)], None)
        }
        _ => return,
    };
    *expr = replacement;
    ctx.log.applied(SUBSTR_NAME);
}

/// NULL typed as text, so that the view's column keeps its type.
fn null_text() -> Expr {
    cast(Expr::value(Value::Null), DataType::Text)
}
