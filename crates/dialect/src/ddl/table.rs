//! CREATE TABLE: the shared grammar of the column list and the dispatch to each dialect's table
//! clauses.

use super::DdlReader;
use crate::cursor::{Cursor, ParseError};
use migrate_core::{QualifiedName, Severity, SourceDialect, SourceLocation, Table, TableKind};
use sqlparser::tokenizer::Token;

/// What the clauses after the column list said that the grammar of the table itself needs.
#[derive(Default)]
pub(super) struct TableClauses {
    /// Physical/storage clauses that have no meaning in the target, for one info finding.
    pub dropped: Vec<String>,
    /// MySQL `AUTO_INCREMENT = n`: the start value of the auto-increment column.
    pub auto_increment_start: Option<i64>,
    /// The table's rows come from a query (`AS SELECT`).
    pub as_select: bool,
}

impl DdlReader {
    pub(super) fn create_table(
        &mut self,
        cursor: &mut Cursor,
        kind: TableKind,
        replace: bool,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        cursor.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = cursor.qualified_name()?;
        // MariaDB's (and Spark's) `CREATE OR REPLACE TABLE` is `DROP TABLE IF EXISTS` and
        // `CREATE TABLE`: the earlier table goes, with its indexes, before this one's are read.
        if replace {
            self.drop_table(&name);
        }
        let mut table = Table::new(name);
        table.kind = kind;
        table.location = Some(location.clone());
        let object = table.name.to_string();

        if cursor.is_kw("OF") {
            self.finding(
                Severity::Action,
                "table.object-table",
                &object,
                "object table (`CREATE TABLE ... OF type`): its columns come from an object type",
                "define the table with explicit columns (the type's attributes)",
                Some(location),
            );
            return Ok(());
        }
        if cursor.eat_kws(&["PARTITION", "OF"]) {
            let parent = cursor.qualified_name()?;
            if cursor.is(&Token::LParen) {
                // The child's own constraints: its rows get the parent's.
                cursor.skip_parens()?;
            }
            // `FOR VALUES ...` or `DEFAULT`, up to the child's own `PARTITION BY`.
            let bound = cursor.take_until(|c| c.is_kws_at(0, &["PARTITION", "BY"]));
            let bound = cursor.text(bound);
            if let Some(parent) = self.table_mut(&parent) {
                add_partition(parent, &object, bound);
            }
            self.partition_child(&object, &parent, location);
            return Ok(());
        }
        if cursor.eat_kw("LIKE") || (cursor.is(&Token::LParen) && cursor.is_kw_at(1, "LIKE")) {
            return self.create_table_like(cursor, table);
        }
        if cursor.is(&Token::LParen) {
            if self.dialect == SourceDialect::Mysql {
                self.table_charset = super::mysql::table_charset(cursor);
            }
            let elements = self.table_elements(cursor, &mut table);
            self.table_charset = Default::default();
            elements?;
        }
        let clauses = match self.dialect {
            SourceDialect::Oracle => self.oracle_table_clauses(cursor, &mut table)?,
            SourceDialect::Hive => self.hive_table_clauses(cursor, &mut table)?,
            SourceDialect::Mysql => self.mysql_table_clauses(cursor, &mut table)?,
            SourceDialect::Postgres => self.postgres_table_clauses(cursor, &mut table)?,
        };
        if clauses.as_select {
            let rest = cursor.rest_text();
            let head: String = rest.chars().take(60).collect();
            self.finding(
                Severity::Action,
                "table.create-as-select",
                &object,
                format!("CREATE TABLE ... AS {head}...: the columns come from a query that is not converted"),
                "create the table with explicit columns, or create it in the target after migrating the source tables",
                Some(location),
            );
            return Ok(());
        }
        if !cursor.at_end() {
            return Err(cursor.error(
                "unexpected clause after the table definition",
                "remove or rewrite this clause",
            ));
        }
        if let Some(start) = clauses.auto_increment_start {
            for column in table.columns.iter_mut() {
                if let Some(identity) = column.identity.as_mut() {
                    identity.start = start;
                }
            }
        }
        if !clauses.dropped.is_empty() {
            self.finding(
                Severity::Info,
                "table.physical-clauses",
                &object,
                format!(
                    "storage clauses with no effect in the target were dropped: {}",
                    clauses.dropped.join(", ")
                ),
                "none",
                Some(location),
            );
        }
        if table.columns.is_empty() {
            return Err(cursor.error("the table has no columns", "define at least one column"));
        }
        self.add_table(table);
        Ok(())
    }

    /// A PostgreSQL partition (`CREATE TABLE child PARTITION OF parent`, or pg_dump's
    /// `ALTER TABLE parent ATTACH PARTITION child`): no table is written for it.
    pub(super) fn partition_child(
        &mut self,
        child: &str,
        parent: &QualifiedName,
        location: SourceLocation,
    ) {
        self.finding(
            Severity::Info,
            "table.partition-child",
            child,
            format!("partition of {parent}: its rows belong to the parent table in the target"),
            "none: load the partition's rows into the parent",
            Some(location),
        );
    }

    /// `CREATE TABLE t LIKE other` (Hive, MySQL) and `CREATE TABLE t (LIKE other)`.
    fn create_table_like(
        &mut self,
        cursor: &mut Cursor,
        mut table: Table,
    ) -> Result<(), ParseError> {
        let parenthesised = cursor.eat(&Token::LParen);
        cursor.eat_kw("LIKE");
        let source = cursor.qualified_name()?;
        if parenthesised {
            cursor.take_until(|_| false);
            cursor.expect(&Token::RParen)?;
        }
        let location = table.location.clone();
        match self.table(&source) {
            Some(original) => {
                table.columns = original.columns.clone();
                table.constraints = original.constraints.clone();
                table.partitioning = original.partitioning.clone();
                table.bucketing = original.bucketing.clone();
                if self.dialect == SourceDialect::Hive {
                    self.hive_table_clauses(cursor, &mut table)?;
                } else {
                    cursor.take_until(|_| false);
                }
                self.add_table(table);
            }
            None => {
                self.finding(
                    Severity::Action,
                    "table.like-unknown",
                    table.name.to_string(),
                    format!("CREATE TABLE ... LIKE {source}: {source} is not defined in the converted scripts"),
                    format!("convert the script that defines {source} in the same run (list it first)"),
                    location,
                );
            }
        }
        Ok(())
    }

    /// `( column | constraint | index, ... )`
    pub(super) fn table_elements(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
    ) -> Result<(), ParseError> {
        cursor.expect(&Token::LParen)?;
        loop {
            self.table_element(cursor, table)?;
            if cursor.eat(&Token::Comma) {
                continue;
            }
            break;
        }
        cursor.expect(&Token::RParen)
    }

    fn table_element(&mut self, cursor: &mut Cursor, table: &mut Table) -> Result<(), ParseError> {
        if self.exclusion_constraint(cursor, table)? {
            return Ok(());
        }
        if self.dialect == SourceDialect::Mysql && self.mysql_index_element(cursor, table)? {
            return Ok(());
        }
        if let Some(constraint) = self.table_constraint(cursor)? {
            table.constraints.push(constraint);
            return Ok(());
        }
        if cursor.eat_kws(&["SUPPLEMENTAL", "LOG"]) || cursor.eat_kws(&["PERIOD", "FOR"]) {
            cursor.take_until(|c| c.is(&Token::Comma));
            return Ok(());
        }
        if cursor.is_kw("LIKE") {
            return Err(cursor.error(
                "this table element is not supported",
                "list the columns explicitly",
            ));
        }
        let column = self.column_definition(cursor, table)?;
        table.columns.push(column);
        Ok(())
    }
}

/// Lists a PostgreSQL partition (`child`, its `bound` as written: `FOR VALUES ...`, `DEFAULT`)
/// among its partitioned parent's partitions, as live discovery lists it.
pub(super) fn add_partition(parent: &mut Table, child: &str, bound: String) {
    if let Some(partitioning) = parent.partitioning.as_mut() {
        partitioning.partitions.push(migrate_core::Partition {
            name: Some(child.to_string()),
            bound,
        });
    }
}
