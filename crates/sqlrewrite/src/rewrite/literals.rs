//! `double_quoted_string`: in MySQL and Hive `"text"` is a string; in the targets it would be an
//! identifier. sqlparser reads it as a string for MySQL and as a quoted identifier for Hive.

use super::Ctx;
use migrate_core::SourceDialect;
use sqlparser::ast::{Expr, Value, ValueWithSpan};

pub(crate) const NAME: &str = "double_quoted_string";

pub(crate) fn double_quoted_string(value: &mut ValueWithSpan, ctx: &mut Ctx) {
    if !matches!(ctx.from, SourceDialect::Mysql | SourceDialect::Hive) {
        return;
    }
    if let Value::DoubleQuotedString(text) = &mut value.value {
        value.value = Value::SingleQuotedString(std::mem::take(text));
        ctx.log.applied(NAME);
    }
}

/// Hive: a double-quoted "identifier" in an expression is a string (Hive quotes names with
/// backticks).
pub(crate) fn hive_double_quoted_string(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Hive {
        return;
    }
    if let Expr::Identifier(ident) = expr {
        if ident.quote_style == Some('"') {
            *expr = Expr::value(Value::SingleQuotedString(std::mem::take(&mut ident.value)));
            ctx.log.applied(NAME);
        }
    }
}

pub(crate) const INTRODUCER_NAME: &str = "drop_charset_introducer";
pub(crate) const CONVERSION_NAME: &str = "drop_charset_conversion";

/// `drop_charset_introducer`: MySQL `_utf8mb4'text'` only names the literal's character set; the
/// targets are UTF-8 throughout and would read the prefix as a type name.
pub(crate) fn drop_charset_introducer(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    if let Expr::Prefixed { prefix, value } = expr {
        if prefix.value.starts_with('_') && matches!(value.as_ref(), Expr::Value(_)) {
            *expr = std::mem::replace(value.as_mut(), Expr::value(Value::Null));
            ctx.log.applied(INTRODUCER_NAME);
        }
    }
}

/// `drop_charset_conversion`: MySQL `CONVERT(x USING cs)` re-encodes a string; the targets have one
/// character set (UTF-8) and no such function, so `x` is kept as it is. Into a UTF-8 set that
/// changes nothing; into another, MySQL would have replaced the characters it can't hold with
/// `?`, and into `binary` compared the bytes: both differences are reported.
pub(crate) fn drop_charset_conversion(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::Convert {
        data_type: None,
        charset: Some(charset),
        expr: value,
        ..
    } = expr
    else {
        return;
    };
    let charset = charset.to_string().to_lowercase();
    let difference = match charset.as_str() {
        "utf8" | "utf8mb3" | "utf8mb4" => None,
        "binary" => {
            Some("the value stays text, compared by the target's collation, not byte by byte")
        }
        _ => Some("characters that MySQL would have replaced with `?` are kept"),
    };
    if let Some(difference) = difference {
        ctx.log.warning(
            "function.semantics",
            format!("CONVERT(... USING {charset}) is dropped, since the target's text is UTF-8: {difference}"),
            "review the converted expression",
        );
    }
    *expr = std::mem::replace(value.as_mut(), Expr::value(Value::Null));
    ctx.log.applied(CONVERSION_NAME);
}
