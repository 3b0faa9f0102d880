//! `double_quoted_string`: in MySQL and Hive `"text"` is a string; in the targets it would be an
//! identifier.

use super::Ctx;
use migrate_core::SourceDialect;
use sqlparser::ast::{Value, ValueWithSpan};

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
