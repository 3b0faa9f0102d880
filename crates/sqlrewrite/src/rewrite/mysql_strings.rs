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
//! `datetime_text_as_mysql`: MySQL writes a DATETIME, TIMESTAMP or TIME as text with all the
//! fractional digits of its column (`13:05:09.500000` for `DATETIME(6)`) and a TIMESTAMP without
//! a time zone; PostgreSQL's text drops the trailing zeros (`13:05:09.5`) and adds the zone
//! (`+00`). Where such a column is made text (`CAST(d AS CHAR)`, `CONCAT(d, ...)`,
//! `CONCAT_WS`, `GROUP_CONCAT`), it becomes `TO_CHAR(d, 'YYYY-MM-DD HH24:MI:SS.FF6')` with the
//! column's digits. Redshift's TO_CHAR has no `FF`: a `function.semantics` warning there.
//!
//! PostgreSQL targets only, but for FIELD and ELT, whose CASE both targets run.

use super::functions::arguments;
use super::mysql_arithmetic::{leaf_kind, Kind};
use super::Ctx;
use crate::ast::{builtin_name, call, case, cast, integer_literal, number, string};
use crate::collation::is_text_type;
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{
    BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
};

pub(crate) const FIELD_NAME: &str = "field_elt_to_case";
pub(crate) const HEX_NAME: &str = "hex_to_encode";
pub(crate) const SHA2_NAME: &str = "sha2_to_digest";
pub(crate) const COALESCE_NAME: &str = "coalesce_as_text";
pub(crate) const DATETIME_TEXT_NAME: &str = "datetime_text_as_mysql";

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
    let [arg] = arguments("HEX", args, ctx)?;
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
    let [text, bits] = arguments("SHA2", args, ctx)?;
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

/// `datetime_text_as_mysql` (see the module): the DATETIME, TIMESTAMP and TIME columns made
/// text in `expr` (cast by itself, by the `||` a CONCAT became or by STRING_AGG; arguments of
/// CONCAT, CONCAT_WS and LISTAGG) whose text differs in the target.
pub(crate) fn datetime_text(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql || ctx.types.is_none() {
        return;
    }
    match expr {
        Expr::Cast {
            expr: operand,
            data_type,
            ..
        } if is_text_type(data_type) => datetime_as_text(operand, ctx),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            right,
        } => {
            datetime_text(left, ctx);
            datetime_text(right, ctx);
        }
        Expr::Nested(inner) => datetime_text(inner, ctx),
        Expr::Function(function) => {
            let Some(name) = builtin_name(function) else {
                return;
            };
            // PostgreSQL's CONCAT has become `||` of casts and GROUP_CONCAT STRING_AGG of one;
            // Redshift's CONCAT and LISTAGG take the values as they are.
            let raw = matches!(name.as_str(), "CONCAT" | "CONCAT_WS" | "LISTAGG");
            if !raw && name != "STRING_AGG" {
                return;
            }
            let FunctionArguments::List(list) = &mut function.args else {
                return;
            };
            for arg in &mut list.args {
                if let FunctionArg::Unnamed(FunctionArgExpr::Expr(arg)) = arg {
                    match raw {
                        true => datetime_as_text(arg, ctx),
                        false => datetime_text(arg, ctx),
                    }
                }
            }
        }
        _ => {}
    }
}

/// `value` made text as MySQL writes it, when it is a column whose text differs in the target.
fn datetime_as_text(value: &mut Expr, ctx: &mut Ctx) {
    let format = match ctx.column_type(value) {
        Some(LogicalType::Timestamp {
            precision,
            with_time_zone,
        }) if *precision > 0 || *with_time_zone => {
            format!("YYYY-MM-DD HH24:MI:SS{}", fraction(*precision))
        }
        Some(LogicalType::Time { precision, .. }) if *precision > 0 => {
            format!("HH24:MI:SS{}", fraction(*precision))
        }
        _ => return,
    };
    if ctx.to == TargetDialect::Redshift {
        ctx.log.warning(
            "function.semantics",
            format!("`{}` made text: MySQL writes every fractional digit of the column (`.500000`), Redshift drops the trailing zeros (`.5`)", super::mysql_json::unquoted_text(value)),
            "format the value with TO_CHAR where the text matters",
        );
        return;
    }
    let column = std::mem::replace(value, Expr::value(Value::Null));
    *value = Expr::Function(call("TO_CHAR", vec![column, string(format)]));
    ctx.log.applied(DATETIME_TEXT_NAME);
}

/// The TO_CHAR pattern of `digits` fractional digits (none for 0).
fn fraction(digits: u8) -> String {
    match digits {
        0 => String::new(),
        n => format!(".FF{}", n.min(6)),
    }
}
