//! Oracle text operators whose targets' namesakes answer otherwise for NULL and for positions.
//!
//! `oracle_concat_null_is_empty`: Oracle's `||` takes a NULL operand for `''`, and gives NULL for
//! `''` (its empty string is NULL): `'a' || NULL` is `'a'`, `NULL || NULL` is NULL. PostgreSQL's
//! `||` gives NULL for any NULL operand; its `CONCAT` skips them, and gives `''` where Oracle gives
//! NULL: in a view, the chain `a || b || c` becomes `NULLIF(CONCAT(a, b, c), '')`. In a table's
//! expressions (CHECK, index, default: `CONCAT` is not IMMUTABLE) and on Redshift (whose `CONCAT`
//! takes two arguments and is NULL for a NULL), it becomes `NULLIF(COALESCE(a, '') || .., '')`.
//! A number or date operand is written as text in the target's own form, not with Oracle's session
//! formats: an operand of such a column type keeps an `expression.concat-format` warning.
//!
//! `oracle_substr_from_end`: Oracle's `SUBSTR(s, -k[, n])` counts `k` characters from the end of
//! `s`, and is NULL when `s` is shorter; `SUBSTR(s, 0[, n])` starts at the first character, as
//! does 1; a length below 1 gives NULL. The targets take a start of 0 or less for a position
//! before the first character. With literal positions: `CASE WHEN CHAR_LENGTH(s) >= k THEN
//! SUBSTR(RIGHT(s, k), 1, n) END`, `SUBSTR(s, 1, n)`, and NULL for a literal length below 1 (which
//! PostgreSQL refuses when negative and takes for `''` when 0). Any other result that would be
//! `''` is NULL in Oracle too: a computed length becomes `GREATEST(n, 0)`, and a SUBSTR that can
//! give `''` for a text Oracle holds (never `''`) is wrapped in `NULLIF(.., '')`.
//!
//! `oracle_instr_from_position`: Oracle's `INSTR(s, sub, pos[, 1])` with a literal position; a
//! negative one searches backwards, which is a forward search in the reversed text.

use super::Ctx;
use crate::ast::{binary, call, case, cast, is_non_null_literal, number, signed_integer, string};
use migrate_core::{SourceDialect, TargetDialect};
use sqlparser::ast::{BinaryOperator, CastKind, CharacterLength, DataType, Expr, Value};

pub(crate) const CONCAT_NAME: &str = "oracle_concat_null_is_empty";
pub(crate) const SUBSTR_NAME: &str = "oracle_substr_from_end";
pub(crate) const INSTR_NAME: &str = "oracle_instr_from_position";

/// Oracle `a || b`, `a` or `b` being a chain already rewritten: in a view on PostgreSQL one
/// `CONCAT`; elsewhere (a table's CHECK, index or default, and anything on Redshift) the
/// immutable form, since PostgreSQL's `CONCAT` is not IMMUTABLE, which an index expression must
/// be, and Redshift's takes two arguments and is NULL for a NULL.
pub(crate) fn concat_null_is_empty(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Oracle {
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
    *expr = if ctx.to == TargetDialect::Postgres && ctx.query {
        let concat = Expr::Function(call("CONCAT", operands));
        Expr::Function(call("NULLIF", vec![concat, string("")]))
    } else {
        immutable_chain(operands, ctx)
    };
    ctx.log.applied(CONCAT_NAME);
}

/// `COALESCE(a, '') || 'text' || COALESCE(CAST(n AS TEXT), '')`: NULL operands count as `''`,
/// operands not known to be text are cast to it (PostgreSQL's `text || number` is not IMMUTABLE,
/// and `COALESCE(number, '')` fails). Oracle's result is NULL where it would be `''` (its `''`
/// is NULL), so the chain is wrapped in `NULLIF(.., '')`, unless a literal keeps it non-empty.
fn immutable_chain(operands: Vec<Expr>, ctx: &Ctx) -> Expr {
    let text_type = match ctx.to {
        TargetDialect::Postgres => DataType::Text,
        // Redshift's TEXT is VARCHAR(256), which would cut longer text.
        TargetDialect::Redshift => DataType::Varchar(Some(CharacterLength::Max)),
    };
    let never_empty = operands.iter().any(is_non_empty_string);
    let chain = operands
        .into_iter()
        .map(|operand| {
            let text = match is_text(&operand, ctx) {
                true => operand,
                false => cast(operand, text_type.clone()),
            };
            match is_non_null_literal(&text) {
                true => text,
                false => Expr::Function(call("COALESCE", vec![text, string("")])),
            }
        })
        .reduce(|chain, next| binary(chain, BinaryOperator::StringConcat, next))
        .unwrap_or_else(|| string(""));
    match never_empty {
        true => chain,
        false => Expr::Function(call("NULLIF", vec![chain, string("")])),
    }
}

/// The operands of an operand of `||`: those of a chain this rewrite wrote (`NULLIF(CONCAT(..),
/// '')` or `[NULLIF(]COALESCE(a, '') || ..[, '')]`, which are Oracle's `||` of them), else the
/// operand itself.
fn chain_operands(operand: &Expr) -> Vec<Expr> {
    let inner = match operand {
        Expr::Nested(inner) => inner.as_ref(),
        other => other,
    };
    let chain = match inner {
        Expr::Function(nullif) if crate::ast::builtin_name(nullif).as_deref() == Some("NULLIF") => {
            match crate::ast::plain_args(nullif).as_deref() {
                Some([chain, empty]) if *empty == string("") => chain.clone(),
                _ => return vec![operand.clone()],
            }
        }
        other => other.clone(),
    };
    if let Expr::Function(concat) = &chain {
        if crate::ast::builtin_name(concat).as_deref() == Some("CONCAT") {
            if let Some(args) = crate::ast::plain_args(concat) {
                return args;
            }
        }
    }
    immutable_chain_operands(&chain).unwrap_or_else(|| vec![operand.clone()])
}

/// The operands of a chain [`immutable_chain`] wrote, `None` for any other expression.
fn immutable_chain_operands(chain: &Expr) -> Option<Vec<Expr>> {
    let mut operands = Vec::new();
    let mut rest = chain;
    // The chain leans left: `((x || y) || z)`.
    loop {
        let (next, last) = match rest {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::StringConcat,
                right,
            } => (Some(left.as_ref()), right.as_ref()),
            other => (None, other),
        };
        operands.push(chain_leaf(last)?);
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    if operands.len() < 2 {
        return None;
    }
    operands.reverse();
    Some(operands)
}

/// `x` of a leaf `COALESCE(x, '')`, a non-NULL literal as it is.
fn chain_leaf(leaf: &Expr) -> Option<Expr> {
    if is_non_null_literal(leaf) {
        return Some(leaf.clone());
    }
    let Expr::Function(coalesce) = leaf else {
        return None;
    };
    if crate::ast::builtin_name(coalesce).as_deref() != Some("COALESCE") {
        return None;
    }
    match crate::ast::plain_args(coalesce)?.as_slice() {
        [operand, empty] if *empty == string("") => Some(operand.clone()),
        _ => None,
    }
}

fn is_non_empty_string(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(value) if matches!(&value.value, Value::SingleQuotedString(s) if !s.is_empty()))
}

/// Text for sure: a string literal, a column of a character type, a cast to text, or a call to a
/// function that returns text.
fn is_text(expr: &Expr, ctx: &Ctx) -> bool {
    match expr {
        Expr::Nested(inner) => is_text(inner, ctx),
        Expr::Value(value) => matches!(value.value, Value::SingleQuotedString(..)),
        Expr::Cast { data_type, .. } => crate::collation::is_text_type(data_type),
        Expr::Substring { .. } | Expr::Trim { .. } => true,
        Expr::Function(function) => matches!(
            crate::ast::builtin_name(function).as_deref(),
            Some(
                "UPPER"
                    | "LOWER"
                    | "INITCAP"
                    | "SUBSTR"
                    | "REPLACE"
                    | "LPAD"
                    | "RPAD"
                    | "LTRIM"
                    | "RTRIM"
                    | "TO_CHAR"
            )
        ),
        _ => ctx.column_type(expr).is_some_and(|ty| ty.is_character()),
    }
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

/// Oracle `SUBSTR(s, pos[, len])`.
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
    let literal_length = substring_for.as_deref().map(signed_integer);
    if literal_length.is_some_and(|n| n.is_some_and(|n| n < 1)) {
        *expr = null_text();
        ctx.log.applied(SUBSTR_NAME);
        return;
    }
    // PostgreSQL refuses a negative length, where Oracle gives NULL: below 1 it becomes 0,
    // whose '' the NULLIF below makes NULL.
    let computed_length = matches!(literal_length, Some(None));
    let length = match substring_for {
        Some(length) if computed_length => Some(Box::new(Expr::Function(call(
            "GREATEST",
            vec![(**length).clone(), number(0)],
        )))),
        other => other.clone(),
    };
    let substr = |text: Expr, start: Expr| Expr::Substring {
        expr: Box::new(text),
        substring_from: Some(Box::new(start)),
        substring_for: length.clone(),
        special: *special,
        shorthand: *shorthand,
    };
    // Whether the result may be '' for a text Oracle holds (never '', which is its NULL).
    let (replacement, may_be_empty) = match signed_integer(from) {
        Some(1) if !computed_length => return,
        Some(0 | 1) => (substr((**s).clone(), number(1)), computed_length),
        Some(start) if start < 0 => {
            let k = start.unsigned_abs();
            let tail = Expr::Function(call("RIGHT", vec![(**s).clone(), number(k)]));
            let tail = match length {
                Some(_) => substr(tail, number(1)),
                None => tail,
            };
            let long_enough = binary(
                Expr::Function(call("CHAR_LENGTH", vec![(**s).clone()])),
                BinaryOperator::GtEq,
                number(k),
            );
            (case(None, vec![(long_enough, tail)], None), computed_length)
        }
        // From past the end, the target's '' is Oracle's NULL.
        start => {
            if start.is_none() {
                super::detect::start_position_warning(ctx);
            }
            (substr((**s).clone(), (**from).clone()), true)
        }
    };
    *expr = match may_be_empty {
        true => Expr::Function(call("NULLIF", vec![replacement, string("")])),
        false => replacement,
    };
    ctx.log.applied(SUBSTR_NAME);
}

/// Oracle `INSTR(s, sub, pos[, 1])` with a literal position other than 0: the position in `s`
/// of the first `sub` at or after `pos`, 0 if none. A negative `pos` counts from the end of `s`
/// (-1 is the last character) and searches backwards from there: the first match of the
/// reversed `sub` in the reversed `s` from the mirrored position. Other occurrences than the
/// first are left to the function map (`function.unsupported`): Oracle counts overlapping
/// matches, which no target function does.
pub(crate) fn instr_from_position(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Oracle {
        return;
    }
    let Expr::Function(function) = expr else {
        return;
    };
    if crate::ast::builtin_name(function).as_deref() != Some("INSTR") {
        return;
    }
    let Some(args) = crate::ast::plain_args(function) else {
        return;
    };
    let (s, sub, start) = match args.as_slice() {
        [s, sub, start] => (s, sub, start),
        [s, sub, start, occurrence] if signed_integer(occurrence) == Some(1) => (s, sub, start),
        _ => return,
    };
    let Some(start) = signed_integer(start).filter(|&start| start != 0) else {
        return;
    };
    // Oracle's '' is NULL, and so is INSTR of it; the targets find '' anywhere.
    if *sub == string("") {
        return;
    }
    let strpos = |text: Expr, sub: Expr| Expr::Function(call("STRPOS", vec![text, sub]));
    let substr = |text: Expr, from: Expr| Expr::Function(call("SUBSTR", vec![text, from]));
    let replacement = if start > 0 {
        // The match in SUBSTR(s, pos) at p is at pos - 1 + p in s.
        let found = strpos(substr(s.clone(), number(start.unsigned_abs())), sub.clone());
        let position = binary(
            found.clone(),
            BinaryOperator::Plus,
            number(start.unsigned_abs() - 1),
        );
        not_found_is_zero(found, position)
    } else {
        // With n = CHAR_LENGTH(s) and k = CHAR_LENGTH(sub): a match starting at i in s ends at
        // i + k - 1, which is n - i - k + 2 in REVERSE(s). Oracle's search starts at n + pos + 1,
        // so the reversed one at -pos - k + 1 (and at least 1): a match found at p in the rest
        // from there, r, is at r + p - 1, i.e. at n - r - p - k + 3 in s.
        let back = start.unsigned_abs();
        let (length, reversed) = match sub {
            Expr::Value(value) => match &value.value {
                Value::SingleQuotedString(text) => (
                    number(text.chars().count() as u64),
                    string(text.chars().rev().collect::<String>()),
                ),
                _ => return,
            },
            other => (
                Expr::Function(call("CHAR_LENGTH", vec![other.clone()])),
                Expr::Function(call("REVERSE", vec![other.clone()])),
            ),
        };
        let from = match signed_integer(&length) {
            Some(k) => number((back as i64 - k + 1).max(1).unsigned_abs()),
            None => Expr::Function(call(
                "GREATEST",
                vec![
                    binary(
                        binary(number(back), BinaryOperator::Minus, length.clone()),
                        BinaryOperator::Plus,
                        number(1),
                    ),
                    number(1),
                ],
            )),
        };
        let found = strpos(
            substr(
                Expr::Function(call("REVERSE", vec![s.clone()])),
                from.clone(),
            ),
            reversed,
        );
        // n + 3 - r - p - k
        let position = [from, found.clone(), length].into_iter().fold(
            binary(
                Expr::Function(call("CHAR_LENGTH", vec![s.clone()])),
                BinaryOperator::Plus,
                number(3),
            ),
            |sum, term| binary(sum, BinaryOperator::Minus, term),
        );
        not_found_is_zero(found, position)
    };
    *expr = replacement;
    ctx.log.applied(INSTR_NAME);
}

/// `CASE found WHEN 0 THEN 0 ELSE position END`: NULL for a NULL argument, as Oracle's.
fn not_found_is_zero(found: Expr, position: Expr) -> Expr {
    case(Some(found), vec![(number(0), number(0))], Some(position))
}

/// NULL typed as text, so that the view's column keeps its type.
fn null_text() -> Expr {
    cast(Expr::value(Value::Null), DataType::Text)
}
