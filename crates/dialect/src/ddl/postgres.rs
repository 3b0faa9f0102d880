//! PostgreSQL specifics: table clauses after the column list, and the user-defined types
//! (domains, enums) that columns refer to.

use super::column::default_expression;
use super::table::TableClauses;
use super::{DdlReader, DomainColumn};
use crate::cursor::{Cursor, ParseError};
use crate::type_syntax::parse_type;
use crate::typemap::TypeRef;
use migrate_core::{QualifiedName, Severity, SourceDialect, SourceLocation, Table, UserType};
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

    /// A PostgreSQL exclusion constraint, `[CONSTRAINT name] EXCLUDE [USING method]
    /// (element WITH operator, ...) ...`, in CREATE TABLE or after ALTER TABLE ... ADD: consumed
    /// and reported, never created. Returns false (consuming nothing) for any other element.
    pub(super) fn exclusion_constraint(
        &mut self,
        cursor: &mut Cursor,
        table: &Table,
    ) -> Result<bool, ParseError> {
        let named = cursor.is_kw("CONSTRAINT");
        let at = if named { 2 } else { 0 };
        // `exclude` alone may be a column name; `exclude (` and `exclude using` can't.
        let is_exclusion = self.dialect == SourceDialect::Postgres
            && cursor.is_kw_at(at, "EXCLUDE")
            && (cursor.is_kw_at(at + 1, "USING") || cursor.peek_at(at + 1) == &Token::LParen);
        if !is_exclusion {
            return Ok(false);
        }
        let location = cursor.location();
        let name = if cursor.eat_kw("CONSTRAINT") {
            cursor.ident()?.to_string()
        } else {
            "(unnamed)".to_string()
        };
        let definition = cursor.take_until(|c| c.is(&Token::Comma));
        let definition = cursor.text(definition);
        self.finding(
            Severity::Warning,
            "constraint.exclusion",
            format!("{} constraint {name}", table.name),
            format!("exclusion constraint `{definition}` is not created: Redshift has none, and the range and geometric types such constraints compare become text or need extensions (btree_gist, PostGIS) in the PostgreSQL target"),
            "enforce the rule in the loading process, or recreate the constraint by hand in a PostgreSQL target whose column types and extensions allow it",
            Some(location),
        );
        Ok(true)
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
        let mut domain = DomainColumn {
            name: name.to_string(),
            ..Default::default()
        };
        let mut has_check = false;
        while !cursor.at_end() {
            if cursor.eat_kw("DEFAULT") {
                let range = default_expression(cursor);
                domain.default = Some(self.default_value(cursor, range, None));
            } else if cursor.eat_kws(&["NOT", "NULL"]) {
                domain.not_null = true;
            } else if cursor.eat_kw("COLLATE") {
                domain.collation = super::column::collation_name(cursor);
            } else {
                // CONSTRAINT name, NULL, CHECK (...) and its parts.
                has_check |= cursor.is_kw("CHECK");
                cursor.advance();
            }
        }
        for key in user_type_keys(&name) {
            self.domain_columns.insert(key, domain.clone());
        }
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
        for key in user_type_keys(&name) {
            self.user_types.insert(key, base.clone());
        }
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

/// The names a column's type may give a domain or enum `name` by, as the type parser writes
/// them (upper case): unqualified, and qualified unless its schema is one the parser drops
/// (`public.t` is read as `T`). pg_dump qualifies every type of a schema besides `public`.
fn user_type_keys(name: &QualifiedName) -> Vec<String> {
    let unqualified = name.name.value.to_ascii_uppercase();
    let qualified = name
        .schema
        .as_ref()
        .map(|schema| format!("{}.{unqualified}", schema.value.to_ascii_uppercase()));
    std::iter::once(unqualified).chain(qualified).collect()
}

#[cfg(test)]
mod tests {
    use crate::read_script;
    use migrate_core::{ConstraintKind, SourceDialect};

    #[test]
    fn exclusion_constraints_are_reported_and_the_table_kept() {
        let catalog = read_script(
            SourceDialect::Postgres,
            "excl.sql",
            "CREATE TABLE r (id int, room int, during tsrange, exclude int,
                 EXCLUDE USING gist (room WITH =, during WITH &&));
             ALTER TABLE ONLY r ADD CONSTRAINT r_excl EXCLUDE USING gist (room WITH =) WHERE (room > 0);",
        );
        let columns: Vec<&str> = catalog.tables[0]
            .columns
            .iter()
            .map(|c| c.name.value.as_str())
            .collect();
        assert_eq!(columns, ["id", "room", "during", "exclude"]);
        let exclusions: Vec<(&str, &str)> = catalog
            .findings
            .iter()
            .filter(|f| f.code == "constraint.exclusion")
            .map(|f| (f.object.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(exclusions.len(), 2, "{:?}", catalog.findings);
        assert_eq!(exclusions[0].0, "r constraint (unnamed)");
        assert!(exclusions[0]
            .1
            .starts_with("exclusion constraint `EXCLUDE USING gist (room WITH =, during WITH &&)` is not created"));
        assert_eq!(exclusions[1].0, "r constraint r_excl");
        assert!(exclusions[1].1.starts_with(
            "exclusion constraint `EXCLUDE USING gist (room WITH =) WHERE (room > 0)`"
        ));
    }

    #[test]
    fn not_valid_constraints_are_read_as_not_validated() {
        let catalog = read_script(
            SourceDialect::Postgres,
            "nv.sql",
            "CREATE TABLE c (id int PRIMARY KEY, rid int);
             ALTER TABLE c ADD CONSTRAINT c_nv CHECK (rid > 0) NOT VALID;",
        );
        assert!(catalog.findings.is_empty(), "{:?}", catalog.findings);
        let check = &catalog.tables[0].constraints[1];
        assert_eq!(check.kind, ConstraintKind::Check("rid > 0".into()));
        assert!(check.state.enabled && !check.state.validated);
    }
}
