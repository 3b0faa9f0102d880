//! Identifiers and literals in SQL text.

use migrate_core::{Ident, Table};

/// `"name"`, doubling embedded quotes: always quoted, so the exact stored name is used.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, doubling embedded quotes (standard_conforming_strings is on since PostgreSQL 9.1).
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The catalog identifier for a name stored in `pg_catalog`: unquoted when PostgreSQL would fold
/// the unquoted spelling to the same name, quoted otherwise (`"Order Lines"`).
pub(crate) fn ident(name: &str) -> Ident {
    let simple = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if simple {
        Ident::new(name)
    } else {
        Ident::quoted(name)
    }
}

/// `"schema"."table"` of a discovered table.
pub fn table_sql_name(table: &Table) -> String {
    table.name.quoted_with(quote_ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_exactly() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert!(!ident("order_lines").quoted);
        assert!(ident("Order Lines").quoted);
        assert!(ident("1st").quoted);
    }
}
