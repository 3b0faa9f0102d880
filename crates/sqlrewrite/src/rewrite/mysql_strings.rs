//! MySQL string built-ins that the targets lack, or have for other argument types.
//!
//! `field_elt_to_case`: `FIELD(s, a, b, ...)` (the position of `s` among the others, 0 when it is
//! not there or NULL) and `ELT(n, a, b, ...)` (the n-th of the others, NULL out of range) become
//! `CASE` expressions.
//!
//! `hex_to_encode`: `HEX(s)` of text is the upper-case hexadecimal of its bytes,
//! `UPPER(ENCODE(CONVERT_TO(s, 'UTF8'), 'hex'))`; `HEX(n)` of an integer is that of the number
//! (a negative one as 64 unsigned bits), `UPPER(TO_HEX(CAST(n AS BIGINT)))`. Of another or an
//! unknown type it is reported.
//!
//! `sha2_to_digest`: `SHA2(s, bits)` with a literal length becomes
//! `ENCODE(SHA256(CONVERT_TO(s, 'UTF8')), 'hex')` (and SHA224/384/512); a length MySQL does not
//! know gives NULL.
//!
//! `coalesce_as_text`: MySQL's `COALESCE` (and `IFNULL`) of text and numbers gives text;
//! PostgreSQL refuses to mix them (or, for a text literal, fails on the first NULL). The exact
//! numbers become text (`CAST(n AS TEXT)`, which writes them as MySQL does).
//!
//! PostgreSQL targets only, but for FIELD and ELT, whose CASE both targets run.

use super::mysql_arithmetic::{leaf_kind, Kind};
use super::Ctx;
use crate::ast::{call, case, cast, integer_literal, number, string};
use migrate_core::{LogicalType, TargetDialect};
use sqlparser::ast::{DataType, Expr, Value};

pub(crate) const FIELD_NAME: &str = "field_elt_to_case";
pub(crate) const HEX_NAME: &str = "hex_to_encode";
pub(crate) const SHA2_NAME: &str = "sha2_to_digest";
pub(crate) const COALESCE_NAME: &str = "coalesce_as_text";

/// `FIELD(s, a, b, ...)`: `CASE s WHEN a THEN 1 WHEN b THEN 2 ... ELSE 0 END` (`s` evaluated
/// once; a NULL `s` matches nothing: 0).
pub(crate) fn field(args: Vec<Expr>) -> Option<Expr> {
    let mut args = args.into_iter();
    let needle = args.next()?;
    let whens: Vec<(Expr, Expr)> = args
        .enumerate()
        .map(|(i, arg)| (arg, number(i as u64 + 1)))
        .collect();
    if whens.is_empty() {
        return None;
    }
    Some(case(Some(needle), whens, Some(number(0))))
}

/// `ELT(n, a, b, ...)`: `CASE n WHEN 1 THEN a WHEN 2 THEN b ... END`.
pub(crate) fn elt(args: Vec<Expr>) -> Option<Expr> {
    let mut args = args.into_iter();
    let index = args.next()?;
    let whens: Vec<(Expr, Expr)> = args
        .enumerate()
        .map(|(i, arg)| (number(i as u64 + 1), arg))
        .collect();
    if whens.is_empty() {
        return None;
    }
    Some(case(Some(index), whens, None))
}

/// `CONVERT_TO(s, 'UTF8')`: the bytes of text, as MySQL's digests and HEX read them (of a
/// UTF-8 column).
fn utf8_bytes(expr: Expr) -> Expr {
    Expr::Function(call("CONVERT_TO", vec![expr, string("UTF8")]))
}

/// What MySQL's HEX reads its argument as.
enum HexOf {
    Text,
    Integer,
    Bytes,
}

fn hex_of(expr: &Expr, ctx: &Ctx) -> Option<HexOf> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(_) => Some(HexOf::Text),
            Value::Number(text, _) if !text.contains(['.', 'e', 'E']) => Some(HexOf::Integer),
            _ => None,
        },
        // UNHEX, already rewritten.
        Expr::Function(function)
            if crate::ast::builtin_name(function).as_deref() == Some("DECODE") =>
        {
            Some(HexOf::Bytes)
        }
        _ => match ctx.column_type(expr)? {
            t if t.is_character() => Some(HexOf::Text),
            LogicalType::SmallInt | LogicalType::Integer | LogicalType::BigInt => {
                Some(HexOf::Integer)
            }
            LogicalType::Binary { .. } | LogicalType::Varbinary { .. } | LogicalType::Blob => {
                Some(HexOf::Bytes)
            }
            _ => None,
        },
    }
}

/// MySQL `HEX(x)` on PostgreSQL; `None` (reported) when the type of `x` is not known to be text
/// or an integer.
pub(crate) fn hex(args: Vec<Expr>, ctx: &mut Ctx) -> Option<Expr> {
    let [arg] = <[Expr; 1]>::try_from(args).ok()?;
    let digits = match hex_of(&arg, ctx) {
        Some(HexOf::Text) => Expr::Function(call("ENCODE", vec![utf8_bytes(arg), string("hex")])),
        Some(HexOf::Integer) => {
            Expr::Function(call("TO_HEX", vec![cast(arg, DataType::BigInt(None))]))
        }
        Some(HexOf::Bytes) => Expr::Function(call("ENCODE", vec![arg, string("hex")])),
        None => {
            ctx.log.action(
                "function.unsupported",
                format!("HEX(`{0}`): the type of `{0}` is not known to be text or an integer, and PostgreSQL writes each in hexadecimal with another function", super::mysql_json::unquoted_text(&arg)),
                "write UPPER(ENCODE(CONVERT_TO(x, 'UTF8'), 'hex')) for text, UPPER(ENCODE(x, 'hex')) for bytes, UPPER(TO_HEX(CAST(x AS BIGINT))) for an integer",
            );
            return None;
        }
    };
    ctx.log.applied(HEX_NAME);
    Some(Expr::Function(call("UPPER", vec![digits])))
}

/// MySQL `SHA2(s, bits)` on PostgreSQL; `None` (reported) when `bits` is not a literal.
pub(crate) fn sha2(args: Vec<Expr>, ctx: &mut Ctx) -> Option<Expr> {
    let [text, bits] = <[Expr; 2]>::try_from(args).ok()?;
    let Some(length) = integer_literal(&bits) else {
        ctx.log.action(
            "function.unsupported",
            format!("SHA2 with a computed length (`{}`) has no equivalent in PostgreSQL, whose digests have one function per length", super::mysql_json::unquoted_text(&bits)),
            "write ENCODE(SHA256(CONVERT_TO(s, 'UTF8')), 'hex') (or SHA224, SHA384, SHA512) for the length used",
        );
        return None;
    };
    ctx.log.applied(SHA2_NAME);
    let digest = match length {
        0 | 256 => "SHA256",
        224 => "SHA224",
        384 => "SHA384",
        512 => "SHA512",
        _ => return Some(Expr::value(Value::Null)),
    };
    let bytes = match hex_of(&text, ctx) {
        Some(HexOf::Text) => utf8_bytes(text),
        Some(HexOf::Bytes) => text,
        _ => utf8_bytes(cast(text, DataType::Text)),
    };
    let digest = Expr::Function(call(digest, vec![bytes]));
    Some(Expr::Function(call("ENCODE", vec![digest, string("hex")])))
}

/// What a COALESCE argument is known to be.
#[derive(PartialEq)]
enum Operand {
    Text,
    /// An exact number, which PostgreSQL writes as text as MySQL does; or DOUBLE, FLOAT, of
    /// which MySQL writes `1e20` where PostgreSQL writes `1e+20`.
    Number(Kind),
    Other,
}

fn operand(expr: &Expr, ctx: &Ctx) -> Operand {
    let column = ctx.column_type(expr);
    if matches!(expr, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)))
        || column.is_some_and(LogicalType::is_character)
    {
        return Operand::Text;
    }
    // A BOOLEAN is left alone: PostgreSQL writes it as text as `true` where MySQL writes 1.
    if column == Some(&LogicalType::Boolean) {
        return Operand::Other;
    }
    leaf_kind(expr, ctx).map_or(Operand::Other, Operand::Number)
}

/// MySQL `COALESCE(args)` / `IFNULL(a, b)` of text and numbers on PostgreSQL: the numbers as
/// text. `None` when the arguments are not known to mix them.
pub(crate) fn coalesce_as_text(args: Vec<Expr>, ctx: &mut Ctx) -> Option<Expr> {
    if ctx.to != TargetDialect::Postgres {
        return None;
    }
    let kinds: Vec<Operand> = args.iter().map(|arg| operand(arg, ctx)).collect();
    let numbers = |k: &Operand| matches!(k, Operand::Number(_));
    if !kinds.contains(&Operand::Text) || !kinds.iter().any(numbers) {
        return None;
    }
    if kinds.contains(&Operand::Number(Kind::Approximate)) {
        ctx.log.warning(
            "function.semantics",
            format!("COALESCE of text and a DOUBLE or FLOAT ({}): the number becomes text, which PostgreSQL writes in its own way (1e+20 where MySQL writes 1e20)", args.iter().map(super::mysql_json::unquoted_text).collect::<Vec<_>>().join(", ")),
            "review the converted expression, or cast the number to a DECIMAL first",
        );
    }
    ctx.log.applied(COALESCE_NAME);
    let args = args
        .into_iter()
        .zip(kinds)
        .map(|(arg, kind)| match numbers(&kind) {
            true => cast(arg, DataType::Text),
            false => arg,
        })
        .collect();
    Some(Expr::Function(call("COALESCE", args)))
}
