//! Identifiers and literals in MySQL SQL text.
//!
//! The session's `sql_mode` is set by this crate (see [`crate::SESSION_SETTINGS`]) without
//! `ANSI_QUOTES` and `NO_BACKSLASH_ESCAPES`, so backticks quote names and backslashes escape in
//! string literals, whatever the server's default mode.

use migrate_core::Table;

/// `` `name` ``, doubling embedded backticks: always quoted, so reserved words and any character
/// are safe.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `'text'`, with quotes doubled and backslashes escaped.
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// `` `schema`.`table` `` of a discovered table (the table alone when it has no schema: the
/// connection's database).
pub fn table_sql_name(table: &Table) -> String {
    table.name.quoted_with(quote_ident)
}

/// `schema.table` for messages.
pub(crate) fn display_name(table: &Table) -> String {
    match &table.name.schema {
        Some(schema) => format!("{}.{}", schema.value, table.name.name.value),
        None => table.name.name.value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Ident, QualifiedName};

    #[test]
    fn names_and_literals_are_quoted_exactly() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_literal(r"it's a \ "), r"'it''s a \\ '");
        let table = Table::new(QualifiedName::new(
            Some(Ident::new("shop")),
            Ident::new("Order Lines"),
        ));
        assert_eq!(table_sql_name(&table), "`shop`.`Order Lines`");
        assert_eq!(display_name(&table), "shop.Order Lines");
    }
}
