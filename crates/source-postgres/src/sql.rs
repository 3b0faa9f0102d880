//! Identifiers and literals in SQL text.

use crate::SourceError;
use migrate_core::{Ident, Table};
use tokio_postgres::Client;

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

/// The rows of each of `tables` as a FROM clause or a publication names them, in their order:
/// `ONLY "schema"."table"` for a plain table, since an inheritance child is a table of its own
/// (read, checksummed and published apart when the task selects it; a plain name would bring its
/// rows into the parent's too); the name alone for a partitioned table, whose rows are all in
/// its partitions (`ONLY` would name none).
pub(crate) async fn own_rows(
    client: &Client,
    tables: &[&Table],
) -> Result<Vec<String>, SourceError> {
    let partitioned = partitioned(client, tables).await?;
    Ok(tables
        .iter()
        .zip(partitioned)
        .map(|(table, partitioned)| own_rows_sql(table_sql_name(table), partitioned))
        .collect())
}

/// Whether each of `tables` is a partitioned table, in their order.
pub(crate) async fn partitioned(
    client: &Client,
    tables: &[&Table],
) -> Result<Vec<bool>, SourceError> {
    let names: Vec<String> = tables.iter().map(|t| table_sql_name(t)).collect();
    Ok(client
        .query(
            "SELECT c.relkind = 'p' FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) \
               JOIN pg_class c ON c.oid = t.name::regclass ORDER BY t.n",
            &[&names],
        )
        .await
        .map_err(SourceError::query(
            "looking up which tables are partitioned",
        ))?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// [`own_rows`] of one table.
pub(crate) async fn own_rows_of(client: &Client, table: &Table) -> Result<String, SourceError> {
    own_rows(client, &[table])
        .await?
        .pop()
        .ok_or_else(|| SourceError::Protocol {
            context: format!("looking up whether {} is partitioned", table.name),
            message: "the server returned no row".into(),
        })
}

/// `name` (`"schema"."table"`) as [`own_rows`] gives it.
pub(crate) fn own_rows_sql(name: String, partitioned: bool) -> String {
    if partitioned {
        name
    } else {
        format!("ONLY {name}")
    }
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

    #[test]
    fn only_plain_tables_are_read_without_their_children() {
        assert_eq!(
            own_rows_sql("\"s\".\"t\"".into(), false),
            "ONLY \"s\".\"t\""
        );
        assert_eq!(own_rows_sql("\"s\".\"p\"".into(), true), "\"s\".\"p\"");
    }
}
