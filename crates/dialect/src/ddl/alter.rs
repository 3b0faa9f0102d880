//! ALTER TABLE actions that shape the schema: added constraints and columns, NOT NULL changes and
//! column defaults (pg_dump sets serial defaults this way). Other ALTERs are reported.

use super::{DdlReader, HIVE_ADD_PARTITION};
use crate::cursor::{Cursor, ParseError};
use migrate_core::{Severity, SourceDialect, SourceLocation, Table};
use sqlparser::tokenizer::Token;

impl DdlReader {
    pub(super) fn alter(
        &mut self,
        cursor: &mut Cursor,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        cursor.expect_kw("ALTER")?;
        if self.dialect == SourceDialect::Postgres && cursor.is_kw("DOMAIN") {
            return self.alter_domain(cursor, location);
        }
        if !cursor.eat_kw("TABLE") {
            self.skip("ALTER of a non-table object", location);
            return Ok(());
        }
        cursor.eat_kws(&["IF", "EXISTS"]);
        cursor.eat_kw("ONLY");
        let name = cursor.qualified_name()?;
        // Work on a copy: a statement that fails half-way changes nothing.
        let Some(mut table) = self.table(&name).cloned() else {
            // pg_dump sets the owner of views, sequences and materialized views with ALTER TABLE
            // too; ownership is ignored whatever the object.
            if cursor.is_kws_at(0, &["OWNER", "TO"]) {
                return Ok(());
            }
            self.finding(
                Severity::Warning,
                "alter.unknown-table",
                name.to_string(),
                "ALTER TABLE on a table that is not defined in the converted scripts",
                "convert the script that creates the table in the same run, before this one",
                Some(location),
            );
            return Ok(());
        };
        loop {
            self.alter_action(cursor, &mut table, &location)?;
            if !cursor.eat(&Token::Comma) {
                break;
            }
        }
        if !cursor.at_end() {
            return Err(cursor.error(
                "unexpected text in ALTER TABLE",
                "check the statement syntax",
            ));
        }
        if let Some(slot) = self.table_mut(&name) {
            *slot = table;
        }
        Ok(())
    }

    fn alter_action(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
        location: &SourceLocation,
    ) -> Result<(), ParseError> {
        if self.dialect == SourceDialect::Hive
            && (cursor.is_kws_at(0, &["ADD", "PARTITION"])
                || cursor.is_kws_at(0, &["ADD", "IF", "NOT", "EXISTS", "PARTITION"]))
        {
            // `ADD [IF NOT EXISTS] PARTITION (spec) [LOCATION '...'] ...`: where a partition's
            // files are is data, not schema; the rows are loaded into the table.
            cursor.take_until(|_| false);
            self.skip(HIVE_ADD_PARTITION, location.clone());
            return Ok(());
        }
        if cursor.eat_kw("ADD") {
            // Hive `ADD COLUMNS (...)` lists columns like Oracle's `ADD (...)`.
            cursor.eat_kw("COLUMNS");
            if cursor.is(&Token::LParen) {
                // Oracle `ADD ( constraint | column, ... )`
                cursor.advance();
                loop {
                    self.added_element(cursor, table)?;
                    if !cursor.eat(&Token::Comma) {
                        break;
                    }
                }
                return cursor.expect(&Token::RParen);
            }
            cursor.eat_kw("COLUMN");
            cursor.eat_kws(&["IF", "NOT", "EXISTS"]);
            return self.added_element(cursor, table);
        }
        if cursor.eat_kws(&["MODIFY", "CONSTRAINT"]) {
            // Oracle `MODIFY CONSTRAINT name ENABLE NOVALIDATE`: a new state for a constraint.
            let name = cursor.ident()?;
            let Some(constraint) = table
                .constraints
                .iter_mut()
                .find(|c| c.name.as_ref().is_some_and(|n| n.matches(&name)))
            else {
                return Err(cursor.error(
                    format!("the table has no constraint {name}"),
                    "check the constraint name",
                ));
            };
            return super::column::constraint_state(cursor, &mut constraint.state);
        }
        if cursor.eat_kw("MODIFY") {
            let parenthesised = cursor.eat(&Token::LParen);
            loop {
                cursor.eat_kw("COLUMN");
                let start = cursor.position();
                let column_name = cursor.ident()?;
                let Some(index) = table
                    .columns
                    .iter()
                    .position(|c| c.name.matches(&column_name))
                else {
                    return Err(cursor.error(
                        format!("the table has no column {column_name}"),
                        "check the column name",
                    ));
                };
                let retyped = cursor
                    .word_at(0)
                    .is_some_and(|w| self.maps.source(self.dialect).knows(&w));
                if retyped {
                    // `MODIFY (col NEWTYPE [options])`: the column as now defined.
                    cursor.set_position(start);
                    let mut replacement = self.column_definition(cursor, table)?;
                    let previous = &table.columns[index];
                    replacement.nullable &= previous.nullable;
                    replacement.comment = replacement.comment.or_else(|| previous.comment.clone());
                    table.columns[index] = replacement;
                } else {
                    let not_null = cursor.is_kws_at(0, &["NOT", "NULL"])
                        || (cursor.is_kw("CONSTRAINT") && cursor.is_kws_at(2, &["NOT", "NULL"]));
                    cursor.take_until(|c| c.is(&Token::Comma));
                    if not_null {
                        table.columns[index].nullable = false;
                    } else {
                        self.unapplied(table, location, "MODIFY other than a type or NOT NULL");
                    }
                }
                if !(parenthesised && cursor.eat(&Token::Comma)) {
                    break;
                }
            }
            if parenthesised {
                cursor.expect(&Token::RParen)?;
            }
            return Ok(());
        }
        if cursor.eat_kw("ALTER") {
            cursor.eat_kw("COLUMN");
            let column_name = cursor.ident()?;
            let table_name = table.name.clone();
            let Some(column) = table.column_mut(&column_name) else {
                return Err(cursor.error(
                    format!("the table has no column {column_name}"),
                    "check the column name",
                ));
            };
            if cursor.eat_kws(&["SET", "DEFAULT"]) {
                let range = cursor.take_until(|c| c.is(&Token::Comma));
                column.default = Some(self.default_value(cursor, range, Some(&table_name)));
            } else if cursor.is_kws_at(0, &["ADD", "GENERATED"]) {
                // pg_dump's identity columns: `ADD GENERATED ... AS IDENTITY (SEQUENCE NAME s ...)`.
                cursor.advance();
                self.generated(cursor, &table_name, column)?;
            } else if cursor.eat_kws(&["SET", "NOT", "NULL"]) {
                column.nullable = false;
            } else if cursor.eat_kws(&["DROP", "NOT", "NULL"]) {
                column.nullable = true;
            } else if cursor.eat_kws(&["DROP", "DEFAULT"]) {
                column.default = None;
            } else {
                cursor.take_until(|c| c.is(&Token::Comma));
                self.unapplied(
                    table,
                    location,
                    "ALTER COLUMN other than defaults and NOT NULL",
                );
            }
            return Ok(());
        }
        if let Some(enable) = [("ENABLE", true), ("DISABLE", false)]
            .into_iter()
            .find_map(|(word, enable)| cursor.is_kw(word).then_some(enable))
        {
            return self.alter_constraint_state(cursor, table, location, enable);
        }
        if cursor.eat_kws(&["ATTACH", "PARTITION"]) {
            // pg_dump's form of `CREATE TABLE child PARTITION OF parent FOR VALUES ...`.
            let child = cursor.qualified_name()?;
            let bound = cursor.take_until(|c| c.is(&Token::Comma));
            let bound = cursor.text(bound);
            match self.table_index.find(&self.catalog.tables, &child) {
                Some(position) => {
                    self.attached_partitions.insert(position);
                    let child = self.catalog.tables[position].name.to_string();
                    super::table::add_partition(table, &child, bound);
                    self.partition_child(&child, &table.name, location.clone());
                }
                None => self.unapplied(
                    table,
                    location,
                    "ATTACH PARTITION of a table that is not defined in the converted scripts",
                ),
            }
            return Ok(());
        }
        if cursor.eat_kws(&["SET", "UNUSED"]) {
            // Oracle: the column is gone for every query; only its storage remains.
            cursor.eat_kw("COLUMN");
            let columns = if cursor.is(&Token::LParen) {
                cursor.ident_list()?
            } else {
                vec![cursor.ident()?]
            };
            cursor.take_until(|c| c.is(&Token::Comma));
            for column in columns {
                table.columns.retain(|c| !c.name.matches(&column));
                self.finding(
                    Severity::Info,
                    "alter.unused-column",
                    format!("{}.{column}", table.name),
                    "column marked UNUSED in the source: not created",
                    "none",
                    Some(location.clone()),
                );
            }
            return Ok(());
        }
        if cursor.eat_kw("OWNER")
            || cursor.is_any_kw(&[
                "SET",
                "CLUSTER",
                "REPLICA",
                "INHERIT",
                "NOLOGGING",
                "LOGGING",
                "PARALLEL",
                "NOPARALLEL",
                "MOVE",
                "SHRINK",
                "ALLOCATE",
                "DEALLOCATE",
                "ENGINE",
                "AUTO_INCREMENT",
                "STORAGE",
                "TABLESPACE",
            ])
        {
            cursor.take_until(|c| c.is(&Token::Comma));
            return Ok(());
        }
        let action = cursor.word_at(0).unwrap_or_default();
        cursor.take_until(|c| c.is(&Token::Comma));
        self.unapplied(table, location, &action);
        Ok(())
    }

    /// `ENABLE|DISABLE [VALIDATE|NOVALIDATE] CONSTRAINT name | PRIMARY KEY | UNIQUE (cols)`;
    /// other ENABLE/DISABLE actions (row movement, triggers, table locks) don't shape the schema.
    fn alter_constraint_state(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
        location: &SourceLocation,
        enable: bool,
    ) -> Result<(), ParseError> {
        cursor.advance();
        let validate = if cursor.eat_kw("VALIDATE") {
            Some(true)
        } else if cursor.eat_kw("NOVALIDATE") {
            Some(false)
        } else {
            None
        };
        let position = if cursor.eat_kw("CONSTRAINT") {
            let name = cursor.ident()?;
            table
                .constraints
                .iter()
                .position(|c| c.name.as_ref().is_some_and(|n| n.matches(&name)))
        } else if cursor.eat_kws(&["PRIMARY", "KEY"]) {
            table
                .constraints
                .iter()
                .position(|c| matches!(c.kind, migrate_core::ConstraintKind::PrimaryKey(_)))
        } else if cursor.eat_kw("UNIQUE") {
            let columns = cursor.ident_list()?;
            table.constraints.iter().position(|c| matches!(&c.kind, migrate_core::ConstraintKind::Unique(k) if k.len() == columns.len() && k.iter().zip(&columns).all(|(a, b)| a.matches(b))))
        } else {
            cursor.take_until(|c| c.is(&Token::Comma));
            return Ok(());
        };
        cursor.take_until(|c| c.is(&Token::Comma));
        let Some(position) = position else {
            self.unapplied(
                table,
                location,
                "ENABLE/DISABLE of a constraint the table does not have",
            );
            return Ok(());
        };
        let state = &mut table.constraints[position].state;
        state.enabled = enable;
        state.validated = validate.unwrap_or(enable);
        Ok(())
    }

    fn unapplied(&mut self, table: &Table, location: &SourceLocation, action: &str) {
        self.finding(
            Severity::Warning,
            "alter.not-applied",
            table.name.to_string(),
            format!("ALTER TABLE {action} is not applied to the converted table"),
            "apply the change in the source DDL, or to the target by hand",
            Some(location.clone()),
        );
    }

    /// After ADD: a constraint, a MySQL index, or a column.
    fn added_element(&mut self, cursor: &mut Cursor, table: &mut Table) -> Result<(), ParseError> {
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
        let column = self.column_definition(cursor, table)?;
        table.columns.push(column);
        Ok(())
    }
}
