//! PostgreSQL specifics: table clauses after the column list, and the user-defined types
//! (domains, enums) that columns refer to.

use super::column::default_expression;
use super::table::TableClauses;
use super::{DdlReader, DomainColumn};
use crate::column_refs::{domain_checks_of_column, DomainColumnType};
use crate::cursor::{Cursor, ParseError};
use crate::type_syntax::parse_type;
use crate::typemap::TypeRef;
use migrate_core::{
    Column, Constraint, ConstraintKind, ConstraintState, IndexOptions, QualifiedName, Severity,
    SourceDialect, SourceLocation, Table, UserType,
};
use sqlparser::tokenizer::Token;
use std::collections::BTreeSet;

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
    /// their own), and its CHECKs (with those of the domain it is over) as CHECKs of their table
    /// ([`DdlReader::carry_domain_checks`]).
    pub(super) fn create_domain(&mut self, cursor: &mut Cursor) -> Result<(), ParseError> {
        let name = cursor.qualified_name()?;
        cursor.eat_kw("AS");
        let mut base = parse_type(cursor, self.dialect)?;
        let mut domain = DomainColumn {
            name: name.to_string(),
            ..Default::default()
        };
        // A domain over a domain (or enum) is over that one's base type, with its checks, NOT
        // NULL, DEFAULT and COLLATE unless it has its own.
        if base.array_dims == 0 {
            if let Some(resolved) = self.user_types.get(&base.name) {
                if let Some(over) = self.domain_columns.get(&base.name) {
                    let mut over_names = over.over.clone();
                    over_names.push(over.name.clone());
                    domain = DomainColumn {
                        name: domain.name,
                        over: over_names,
                        columns: Vec::new(),
                        ..over.clone()
                    };
                }
                base = resolved.clone();
            }
        }
        while !cursor.at_end() {
            let constraint_name = if cursor.eat_kw("CONSTRAINT") {
                Some(cursor.ident()?)
            } else {
                None
            };
            if cursor.eat_kw("DEFAULT") {
                let range = default_expression(cursor);
                domain.default = Some(self.default_value(cursor, range, None));
            } else if cursor.eat_kws(&["NOT", "NULL"]) {
                domain.not_null = true;
            } else if cursor.eat_kw("COLLATE") {
                domain.collation = super::column::collation_name(cursor);
            } else if cursor.eat_kw("CHECK") {
                let range = cursor.skip_parens()?;
                domain.checks.push(Constraint {
                    name: constraint_name,
                    kind: ConstraintKind::Check(cursor.text(range)),
                    state: ConstraintState::default(),
                    index: IndexOptions::default(),
                });
            } else {
                // NULL.
                cursor.advance();
            }
        }
        for key in user_type_keys(&name) {
            self.domain_columns.insert(key, domain.clone());
        }
        self.define_user_type(name, base);
        Ok(())
    }

    /// `ALTER DOMAIN name ADD [CONSTRAINT c] CHECK (...) [NOT VALID]` (pg_dump writes a NOT VALID
    /// check so, after the tables): the columns of the domain, or of a domain over it, defined
    /// after it get the check; those defined before don't, which is reported, as is a domain
    /// the script does not define. Other ALTER DOMAINs (OWNER TO...) are skipped as other
    /// ALTERs are.
    pub(super) fn alter_domain(
        &mut self,
        cursor: &mut Cursor,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        cursor.expect_kw("DOMAIN")?;
        let name = cursor.qualified_name()?;
        let constraint_name = if cursor.eat_kws(&["ADD", "CONSTRAINT"]) {
            Some(cursor.ident()?)
        } else {
            cursor.eat_kw("ADD");
            None
        };
        if !cursor.eat_kw("CHECK") {
            cursor.take_until(|_| false);
            self.skip("ALTER of a non-table object", location);
            return Ok(());
        }
        let range = cursor.skip_parens()?;
        let condition = cursor.text(range);
        let validated = !cursor.eat_kws(&["NOT", "VALID"]);
        // By its qualified name first: another schema may have a domain of the same name.
        let Some(domain) = user_type_keys(&name)
            .iter()
            .rev()
            .find_map(|key| self.domain_columns.get(key))
            .map(|domain| domain.name.clone())
        else {
            self.finding(
                Severity::Warning,
                "constraint.check-dropped",
                format!("domain {name}"),
                format!("the script does not define the domain, so CHECK ({condition}), added to it by ALTER DOMAIN, is not carried to any column of it"),
                "add the CHECK to the columns of the domain by hand (ALTER TABLE ... ADD CHECK, with the column for VALUE), or validate the values in the loading process",
                Some(location),
            );
            return Ok(());
        };
        let check = Constraint {
            name: constraint_name,
            kind: ConstraintKind::Check(condition.clone()),
            state: ConstraintState {
                validated,
                ..ConstraintState::default()
            },
            index: IndexOptions::default(),
        };
        // Each domain is there under each of its keys; a set lists each column once.
        let mut missed = BTreeSet::new();
        for of_it in self
            .domain_columns
            .values_mut()
            .filter(|d| d.name == domain || d.over.contains(&domain))
        {
            of_it.checks.push(check.clone());
            missed.extend(of_it.columns.iter().cloned());
        }
        if !missed.is_empty() {
            let missed: Vec<String> = missed.into_iter().collect();
            self.finding(
                Severity::Warning,
                "constraint.check-dropped",
                format!("domain {name}"),
                format!("CHECK ({condition}), added to the domain by ALTER DOMAIN, is not carried to the columns of it defined before this statement: {}", missed.join(", ")),
                "add the CHECK to those columns by hand (ALTER TABLE ... ADD CHECK, with the column for VALUE), or validate the values in the loading process",
                Some(location),
            );
        }
        Ok(())
    }

    /// Gives `column` of `table`, of `domain` (`column_type` says what of it), the domain's
    /// CHECKs as CHECKs of the table ([`domain_checks_of_column`]), and records the column as one of
    /// the domain's, for a later ALTER DOMAIN.
    pub(super) fn carry_domain_checks(
        &mut self,
        table: &mut Table,
        column: &Column,
        domain: &DomainColumn,
        column_type: DomainColumnType,
    ) {
        let (checks, findings) = domain_checks_of_column(
            &table.name,
            &column.name,
            &domain.name,
            &domain.checks,
            column_type,
        );
        table.constraints.extend(checks);
        self.catalog.findings.extend(
            findings
                .into_iter()
                .map(|finding| finding.at(column.location.clone())),
        );
        let object = format!("{}.{}", table.name, column.name);
        for of_it in self
            .domain_columns
            .values_mut()
            .filter(|d| d.name == domain.name)
        {
            of_it.columns.push(object.clone());
        }
    }

    /// Records a domain or enum: columns of it resolve to `base`, and the catalog keeps its
    /// canonical type (when `base` has one) for the casts to it in defaults and views.
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
    use migrate_core::{ConstraintKind, LogicalType, SourceDialect};

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
    fn columns_get_the_checks_of_their_domain_and_of_the_domains_it_is_over() {
        let catalog = read_script(
            SourceDialect::Postgres,
            "domains.sql",
            "CREATE DOMAIN public.year AS int NOT NULL CONSTRAINT year_check CHECK (VALUE > 1900);
             CREATE DOMAIN recent AS year CHECK (VALUE > 1999);
             CREATE TABLE a (y recent);
             ALTER DOMAIN public.recent ADD CONSTRAINT not_2100 CHECK (VALUE <> 2100) NOT VALID;
             ALTER DOMAIN recent OWNER TO me;
             ALTER DOMAIN year ADD CONSTRAINT not_1950 CHECK (VALUE <> 1950);
             ALTER DOMAIN missing ADD CHECK (VALUE > 0);
             CREATE TABLE b (y recent);
             CREATE DOMAIN fresh AS int;
             ALTER DOMAIN fresh ADD CHECK (VALUE > 0);
             CREATE TABLE c (f fresh);",
        );
        let checks = |table: usize| -> Vec<(Option<String>, String, bool)> {
            catalog.tables[table]
                .constraints
                .iter()
                .map(|c| match &c.kind {
                    ConstraintKind::Check(condition) => (
                        c.name.as_ref().map(|n| n.value.clone()),
                        condition.clone(),
                        c.state.validated,
                    ),
                    kind => panic!("{kind:?}"),
                })
                .collect()
        };
        let year = (Some("a_y_year_check".into()), "y > 1900".into(), true);
        assert_eq!(checks(0), [year, (None, "y > 1999".into(), true)]);
        assert!(!catalog.tables[0].columns[0].nullable);
        // A CHECK added to a domain reaches the later columns of the domains over it too.
        assert_eq!(
            checks(1)[2..],
            [
                (Some("b_y_not_2100".into()), "y <> 2100".into(), false),
                (Some("b_y_not_1950".into()), "y <> 1950".into(), true)
            ]
        );
        assert_eq!(checks(2), [(None, "f > 0".into(), true)]);
        // Reported where a column misses it: those before it, or all of an unknown domain's.
        let dropped: Vec<(&str, &str)> = catalog
            .findings
            .iter()
            .filter(|f| f.code == "constraint.check-dropped")
            .map(|f| (f.object.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            dropped,
            [
                ("domain public.recent", "CHECK (VALUE <> 2100), added to the domain by ALTER DOMAIN, is not carried to the columns of it defined before this statement: a.y"),
                ("domain year", "CHECK (VALUE <> 1950), added to the domain by ALTER DOMAIN, is not carried to the columns of it defined before this statement: a.y"),
                ("domain missing", "the script does not define the domain, so CHECK (VALUE > 0), added to it by ALTER DOMAIN, is not carried to any column of it"),
            ],
            "{:?}",
            catalog.findings
        );
    }

    #[test]
    fn a_column_gets_no_domain_rule_it_can_not_take() {
        let catalog = read_script(
            SourceDialect::Postgres,
            "domain_rules.sql",
            "CREATE DOMAIN pos AS integer CHECK (VALUE > 0);
             CREATE DOMAIN poslist AS pos[] CHECK (cardinality(VALUE) < 5);
             CREATE DOMAIN nn AS integer DEFAULT 0 NOT NULL CHECK (VALUE >= 0);
             CREATE TABLE t (l poslist, a nn[], n nn);",
        );
        let table = &catalog.tables[0];
        // Text in place of its base type, and an array: neither gets a CHECK.
        assert_eq!(
            table
                .constraints
                .iter()
                .map(|c| &c.kind)
                .collect::<Vec<_>>(),
            [&ConstraintKind::Check("n >= 0".into())]
        );
        // The DEFAULT and NOT NULL of `nn` are its elements' in `a`.
        let [l, a, n] = &table.columns[..] else {
            panic!("{:?}", table.columns);
        };
        assert_eq!(l.data_type, LogicalType::Text);
        assert!(a.nullable && a.default.is_none(), "{a:?}");
        assert!(!n.nullable && n.default.is_some(), "{n:?}");
        let dropped: Vec<&str> = catalog
            .findings
            .iter()
            .filter(|f| f.code == "constraint.check-dropped")
            .map(|f| f.object.as_str())
            .collect();
        assert_eq!(dropped, ["t.l", "t.a"], "{:?}", catalog.findings);
    }

    /// A domain over a type the target holds as its text form (`inet`, a range) gives its
    /// columns none of its CHECKs, written for that type; one over a text type, an enum or a
    /// type the target keeps does.
    #[test]
    fn a_domain_over_a_type_held_as_text_gives_no_check() {
        let catalog = read_script(
            SourceDialect::Postgres,
            "domain_text_form.sql",
            "CREATE TYPE mood AS ENUM ('sad', 'ok');
             CREATE DOMAIN d4 AS inet CHECK (family(VALUE) = 4);
             CREATE DOMAIN span AS int4range CHECK (NOT isempty(VALUE));
             CREATE DOMAIN code AS varchar(5) CHECK (VALUE = upper(VALUE));
             CREATE DOMAIN glad AS mood CHECK (VALUE <> 'sad');
             CREATE DOMAIN pos AS integer CHECK (VALUE > 0);
             CREATE TABLE t (a d4, s span, c code, m glad, p pos);",
        );
        assert_eq!(
            catalog.tables[0]
                .constraints
                .iter()
                .map(|c| &c.kind)
                .collect::<Vec<_>>(),
            [
                &ConstraintKind::Check("c = upper(c)".into()),
                &ConstraintKind::Check("m <> 'sad'".into()),
                &ConstraintKind::Check("p > 0".into()),
            ]
        );
        let dropped: Vec<&str> = catalog
            .findings
            .iter()
            .filter(|f| f.code == "constraint.check-dropped")
            .map(|f| f.object.as_str())
            .collect();
        assert_eq!(dropped, ["t.a", "t.s"], "{:?}", catalog.findings);
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
