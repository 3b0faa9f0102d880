//! PostgreSQL specifics: table clauses after the column list, and the user-defined types
//! (domains, enums) that columns refer to.

use super::column::default_expression;
use super::table::TableClauses;
use super::{DdlReader, DomainColumn};
use crate::cursor::{Cursor, ParseError};
use crate::type_syntax::parse_type;
use crate::typemap::TypeRef;
use migrate_core::{QualifiedName, Severity, SourceLocation, Table, UserType};
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
                let parents = cursor.ident_list()?;
                let names: Vec<String> = parents.iter().map(|p| p.to_string()).collect();
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
    /// columns of the domain get its base type, its NOT NULL and its DEFAULT (unless they have
    /// their own); its CHECK is reported, not enforced.
    pub(super) fn create_domain(
        &mut self,
        cursor: &mut Cursor,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        let name = cursor.qualified_name()?;
        cursor.eat_kw("AS");
        let base = parse_type(cursor, self.dialect)?;
        let mut domain = DomainColumn::default();
        let mut has_check = false;
        while !cursor.at_end() {
            if cursor.eat_kw("DEFAULT") {
                let range = default_expression(cursor);
                domain.default = Some(self.default_value(cursor, range));
            } else if cursor.eat_kws(&["NOT", "NULL"]) {
                domain.not_null = true;
            } else {
                // CONSTRAINT name, NULL, COLLATE c, CHECK (...) and its parts.
                has_check |= cursor.is_kw("CHECK");
                cursor.advance();
            }
        }
        self.domain_columns
            .insert(name.name.value.to_ascii_uppercase(), domain);
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
        self.define_user_type(name, base);
        Ok(())
    }

    /// Records a domain or enum: columns of it resolve to `base`, and the catalog keeps its
    /// canonical type for the casts to it in defaults and views.
    fn define_user_type(&mut self, name: QualifiedName, base: TypeRef) {
        if let Ok(mapped) = self.maps.source(self.dialect).map_source(&base) {
            self.catalog.user_types.push(UserType {
                name: name.clone(),
                data_type: mapped.value,
            });
        }
        self.user_types
            .insert(name.name.value.to_ascii_uppercase(), base);
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
            let base = TypeRef {
                name: "ENUM".into(),
                labels,
                text,
                ..TypeRef::default()
            };
            self.define_user_type(name, base);
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
