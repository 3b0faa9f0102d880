//! PostgreSQL specifics: table clauses after the column list, and the user-defined types
//! (domains, enums) that columns refer to.

use super::table::TableClauses;
use super::DdlReader;
use crate::cursor::{Cursor, ParseError};
use crate::type_syntax::parse_type;
use crate::typemap::TypeRef;
use migrate_core::{Severity, SourceLocation, Table};
use sqlparser::tokenizer::Token;

impl DdlReader {
    pub(super) fn postgres_table_clauses(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
    ) -> Result<TableClauses, ParseError> {
        let mut clauses = TableClauses::default();
        while !cursor.at_end() {
            if cursor.eat_kw("AS") {
                clauses.as_select = true;
                break;
            } else if cursor.eat_kws(&["PARTITION", "BY"]) {
                table.partitioning = Some(self.partition_by(cursor)?);
            } else if cursor.eat_kw("INHERITS") {
                // pg_dump writes the parents schema-qualified: `INHERITS (public.cities)`.
                cursor.expect(&Token::LParen)?;
                let mut names = vec![cursor.qualified_name()?.to_string()];
                while cursor.eat(&Token::Comma) {
                    names.push(cursor.qualified_name()?.to_string());
                }
                cursor.expect(&Token::RParen)?;
                self.finding(
                    Severity::Warning,
                    "table.inherits",
                    table.name.to_string(),
                    format!(
                        "inherits from {}: inherited columns are not copied",
                        names.join(", ")
                    ),
                    "list the inherited columns explicitly in the table definition",
                    table.location.clone(),
                );
            } else if cursor.eat_kw("WITH") {
                cursor.skip_parens()?;
                clauses.dropped.push("WITH (storage parameters)".into());
            } else if cursor.eat_kws(&["WITHOUT", "OIDS"]) {
            } else if cursor.eat_kw("TABLESPACE") || cursor.eat_kw("USING") {
                cursor.advance();
                clauses.dropped.push("TABLESPACE/USING".into());
            } else if cursor.eat_kws(&["ON", "COMMIT"]) {
                cursor.advance();
                cursor.eat_kw("ROWS");
            } else {
                return Err(cursor.error("unrecognised table clause", "check the table definition"));
            }
        }
        Ok(clauses)
    }

    /// `CREATE DOMAIN name [AS] type [DEFAULT ...] [CONSTRAINT ...] [NOT NULL | CHECK (...)]`:
    /// columns of the domain get its base type; its CHECK is reported, not enforced.
    pub(super) fn create_domain(
        &mut self,
        cursor: &mut Cursor,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        let name = cursor.qualified_name()?;
        cursor.eat_kw("AS");
        let base = parse_type(cursor, self.dialect)?;
        let has_check = {
            let mut found = false;
            while !cursor.at_end() {
                found |= cursor.is_kw("CHECK");
                cursor.advance();
            }
            found
        };
        if has_check {
            self.finding(
                Severity::Warning,
                "constraint.check-dropped",
                format!("domain {name}"),
                "the domain's CHECK constraint is not carried to the columns that use it",
                "validate the values in the loading process",
                Some(location),
            );
        }
        self.user_types
            .insert(name.name.value.to_ascii_uppercase(), base);
        Ok(())
    }

    /// `CREATE TYPE name AS ENUM (...)` becomes a text type sized for its longest label;
    /// composite and range types are reported.
    pub(super) fn create_postgres_type(
        &mut self,
        cursor: &mut Cursor,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        let name = cursor.qualified_name()?;
        if cursor.eat_kws(&["AS", "ENUM"]) {
            cursor.expect(&Token::LParen)?;
            let mut labels = Vec::new();
            while !cursor.eat(&Token::RParen) {
                labels.push(cursor.string()?);
                cursor.eat(&Token::Comma);
            }
            let text = format!(
                "ENUM({})",
                labels
                    .iter()
                    .map(|l| format!("'{l}'"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            self.user_types.insert(
                name.name.value.to_ascii_uppercase(),
                TypeRef {
                    name: "ENUM".into(),
                    labels,
                    text,
                    ..TypeRef::default()
                },
            );
            return Ok(());
        }
        cursor.take_until(|_| false);
        self.finding(
            Severity::Action,
            "type.user-defined",
            format!("type {name}"),
            "composite, range and base types have no equivalent in the target",
            "store such columns as SUPER (composite) or as separate columns",
            Some(location),
        );
        Ok(())
    }
}
