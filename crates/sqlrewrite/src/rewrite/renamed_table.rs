//! `renamed_table`: a table the converter writes under another name, because its name collides
//! with another's in the target (`"T"` and `t`, or long names cut to the same bytes), is read
//! under that name in views too.

use super::Ctx;
use migrate_core::{Ident, QualifiedName};
use sqlparser::ast::{ObjectNamePart, TableFactor};

pub(crate) const NAME: &str = "renamed_table";

pub(crate) fn renamed_table(table: &mut TableFactor, ctx: &mut Ctx) {
    let TableFactor::Table { name, .. } = table else {
        return;
    };
    let ident = |part: &ObjectNamePart| {
        part.as_ident().map(|i| Ident {
            value: i.value.clone(),
            quoted: i.quote_style.is_some(),
        })
    };
    let referenced = match name.0.as_slice() {
        [table] => ident(table).map(QualifiedName::unqualified),
        [schema, table] => ident(table).map(|table| QualifiedName::new(ident(schema), table)),
        _ => None,
    };
    let Some(referenced) = referenced else {
        return;
    };
    let Some((_, written)) = ctx
        .renamed_tables
        .iter()
        .find(|(source, _)| source.matches(&referenced))
    else {
        return;
    };
    // `written` is target SQL: its quotes go, the identifier pass quotes it again if needed.
    let written = match written.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => written.clone(),
    };
    if let Some(ObjectNamePart::Identifier(last)) = name.0.last_mut() {
        last.value = written;
        last.quote_style = None;
        ctx.log.applied(NAME);
    }
}
