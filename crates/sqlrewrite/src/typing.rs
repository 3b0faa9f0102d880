//! Column types known from the DDL being converted, so that rewrites that depend on a type
//! (Oracle `TRUNC(date)`, `date - days`) apply to columns too, not only to literals and functions.

use migrate_core::{Column, LogicalType};
use sqlparser::ast::{Expr, Select, TableFactor, TableWithJoins};
use std::collections::HashMap;

/// Types of the columns of the tables a query may read, by lower-case table and column name
/// (schemas are not distinguished: two tables of the same name in two schemas keep the first).
#[derive(Debug, Default, Clone)]
pub struct ColumnTypes {
    tables: HashMap<String, HashMap<String, ColumnType>>,
}

/// A column's type, and the collation the source names for its text.
#[derive(Debug, Clone)]
pub(crate) struct ColumnType {
    pub(crate) data_type: LogicalType,
    pub(crate) collation: Option<String>,
    /// A MySQL `ENUM` or `SET`: text in the target, but a number where MySQL reads one (its
    /// index, its members' bits), which is 0 only for `''`.
    pub(crate) enumerated: bool,
}

impl ColumnTypes {
    pub fn new() -> ColumnTypes {
        ColumnTypes::default()
    }

    pub fn insert(&mut self, table: &str, column: &str, data_type: LogicalType) {
        self.insert_collated(table, column, data_type, None);
    }

    /// As [`ColumnTypes::insert`], with the collation the source compares the column's text
    /// under (MySQL's `utf8mb4_bin`), `None` where it does not name one.
    pub fn insert_collated(
        &mut self,
        table: &str,
        column: &str,
        data_type: LogicalType,
        collation: Option<&str>,
    ) {
        self.insert_type(
            table,
            column,
            ColumnType {
                data_type,
                collation: collation.map(str::to_string),
                enumerated: false,
            },
        );
    }

    /// A column of a table of the catalog: its type, its collation, and whether the source
    /// wrote it as a MySQL `ENUM` or `SET` (`enum('a','b')`).
    pub fn insert_column(&mut self, table: &str, column: &Column) {
        let source_type = column.source_type.trim_start().to_ascii_lowercase();
        let enumerated = ["enum", "set"].iter().any(|kind| {
            source_type
                .strip_prefix(kind)
                .is_some_and(|rest| rest.trim_start().starts_with('('))
        });
        self.insert_type(
            table,
            &column.name.value,
            ColumnType {
                data_type: column.data_type.clone(),
                collation: column.collation.clone(),
                enumerated,
            },
        );
    }

    /// The first type given for a column is kept.
    fn insert_type(&mut self, table: &str, column: &str, column_type: ColumnType) {
        self.tables
            .entry(table.to_lowercase())
            .or_default()
            .entry(column.to_lowercase())
            .or_insert(column_type);
    }

    fn get(&self, table: &str, column: &str) -> Option<&ColumnType> {
        self.tables
            .get(&table.to_lowercase())?
            .get(&column.to_lowercase())
    }
}

/// The tables in scope, innermost SELECT last: (name or alias used in the query, table name).
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    stack: Vec<Vec<(String, String)>>,
}

impl Scopes {
    /// A scope with one table, for expressions of that table (defaults, CHECK conditions).
    pub(crate) fn of_table(table: &str) -> Scopes {
        Scopes {
            stack: vec![vec![(table.to_lowercase(), table.to_lowercase())]],
        }
    }

    pub(crate) fn push(&mut self, select: &Select) {
        let mut scope = Vec::new();
        for table in &select.from {
            tables_of(table, &mut scope);
        }
        self.stack.push(scope);
    }

    pub(crate) fn pop(&mut self) {
        self.stack.pop();
    }

    /// The column `column` of the table that `qualifier` names in scope, or of the one table in
    /// scope that has it: the name the query uses for that table, and the column's type.
    pub(crate) fn column<'s, 't>(
        &'s self,
        types: &'t ColumnTypes,
        qualifier: Option<&str>,
        column: &str,
    ) -> Option<(&'s str, &'t LogicalType)> {
        self.find(types, qualifier, column)
            .map(|(used, column)| (used, &column.data_type))
    }

    fn find<'s, 't>(
        &'s self,
        types: &'t ColumnTypes,
        qualifier: Option<&str>,
        column: &str,
    ) -> Option<(&'s str, &'t ColumnType)> {
        let qualifier = qualifier.map(str::to_lowercase);
        self.stack.iter().rev().find_map(|scope| {
            let mut found = scope
                .iter()
                .filter(|(used, _)| qualifier.as_ref().is_none_or(|q| q == used))
                .filter_map(|(used, table)| Some((used.as_str(), types.get(table, column)?)));
            let first = found.next();
            // Ambiguous between two tables of the scope: unknown.
            match found.next() {
                Some(_) => None,
                None => first,
            }
        })
    }

    /// The column a column reference names, when the tables in scope tell it unambiguously.
    pub(crate) fn referenced<'t>(
        &self,
        types: &'t ColumnTypes,
        expr: &Expr,
    ) -> Option<&'t ColumnType> {
        match expr {
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let qualifier = &parts[parts.len() - 2].value;
                let column = &parts[parts.len() - 1].value;
                self.find(types, Some(qualifier), column)
                    .map(|(_, column)| column)
            }
            Expr::Identifier(ident) => self
                .find(types, None, &ident.value)
                .map(|(_, column)| column),
            Expr::Nested(inner) => self.referenced(types, inner),
            _ => None,
        }
    }
}

/// The tables of a FROM item and its joins, into `scope` as (name or alias used, table name),
/// those of parenthesized joins too: MySQL and MariaDB write a view's joins nested,
/// `FROM ((a JOIN b ON ...) JOIN c ON ...)`.
pub(crate) fn tables_of(table: &TableWithJoins, scope: &mut Vec<(String, String)>) {
    for factor in std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation)) {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                let Some(table_name) = name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.to_lowercase())
                else {
                    continue;
                };
                let used = alias
                    .as_ref()
                    .map(|a| a.name.value.to_lowercase())
                    .unwrap_or_else(|| table_name.clone());
                scope.push((used, table_name));
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => tables_of(table_with_joins, scope),
            _ => {}
        }
    }
}
