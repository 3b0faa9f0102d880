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
    Column, Constraint, ConstraintKind, ConstraintState, Finding, IndexOptions, QualifiedName,
    Severity, SourceDialect, SourceLocation, Table, UserType,
};
use sqlparser::tokenizer::Token;
use std::collections::BTreeSet;

/// The `constraint.exclusion` warning for the exclusion constraint `name` of `table` (never
/// created in a target), `definition` being `EXCLUDE ...` as the script or
/// `pg_get_constraintdef` writes it: a script's and a live catalog's read alike.
pub fn exclusion_constraint_finding(
    table: &QualifiedName,
    name: &str,
    definition: &str,
) -> Finding {
    Finding::new(
        Severity::Warning,
        "constraint.exclusion",
        format!("{table} constraint {name}"),
        format!("exclusion constraint `{definition}` is not created: Redshift has none, and the range and geometric types such constraints compare become text or need extensions (btree_gist, PostGIS) in the PostgreSQL target"),
        "enforce the rule in the loading process, or recreate the constraint by hand in a PostgreSQL target whose column types and extensions allow it",
    )
}

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
        self.catalog
            .findings
            .push(exclusion_constraint_finding(&table.name, &name, &definition).at(Some(location)));
        Ok(true)
    }

    /// `CREATE DOMAIN name [AS] type [DEFAULT ...] [CONSTRAINT ...] [NOT NULL | CHECK (...)]`:
    /// columns of the domain get its base type, its NOT NULL and its DEFAULT (unless they have
    /// their own), and its CHECKs (with those of the domain it is over) as CHECKs of their table
    /// ([`DdlReader::carry_domain_checks`]). A domain over an array of a domain
    /// (`positions AS pos[]`) is over the array of that one's base type, and its columns get
    /// that one's rules for their elements.
    pub(super) fn create_domain(&mut self, cursor: &mut Cursor) -> Result<(), ParseError> {
        let location = cursor.location();
        let name = cursor.qualified_name()?;
        let schema = self.creation_schema(&name);
        let key = user_type_key(&schema, &name.name.value);
        cursor.eat_kw("AS");
        let mut base = parse_type(cursor, self.dialect)?;
        let mut domain = DomainColumn {
            name: name.to_string(),
            key: key.clone(),
            ..Default::default()
        };
        let object = format!("domain {name}");
        // Its base type is looked up from the schema it is created in, as a column's from its
        // table's.
        let base_key = self.user_type_of(&base, Some(&schema), &object, &location);
        if base_key.is_err() {
            // Reported as ambiguous: its columns are text, not of an unknown type too.
            base = TypeRef::named("text");
        }
        if let Ok(Some(base_key)) = base_key {
            if let Some(resolved) = self.user_types.get(&base_key).cloned() {
                let over = self.domain_columns.get(&base_key).cloned();
                match over {
                    // A domain over a domain (or enum) is over that one's base type, with its
                    // checks, NOT NULL, DEFAULT and COLLATE unless it has its own.
                    Some(over) if base.array_dims == 0 => {
                        let mut over_keys = over.over.clone();
                        over_keys.push(over.key.clone());
                        domain = DomainColumn {
                            name: domain.name,
                            key: domain.key,
                            over: over_keys,
                            columns: Vec::new(),
                            ..over
                        };
                    }
                    // Over an array of one: that one's rules are its elements'.
                    Some(over) => {
                        domain.element = Some(Box::new(DomainColumn {
                            columns: Vec::new(),
                            ..over
                        }))
                    }
                    None => {}
                }
                base = TypeRef {
                    array_dims: resolved.array_dims + base.array_dims,
                    text: format!("{}{}", resolved.text, "[]".repeat(base.array_dims as usize)),
                    ..resolved
                };
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
        self.domain_columns.insert(key, domain);
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
        let written = TypeRef {
            name: name.name.value.to_ascii_uppercase(),
            text: name.to_string(),
            ..TypeRef::default()
        };
        let object = format!("domain {name}");
        let Some(domain) = self
            .user_type_of(&written, None, &object, &location)
            .ok()
            .flatten()
            .and_then(|key| self.domain_columns.get(&key))
            .map(|domain| domain.key.clone())
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
        let mut missed = BTreeSet::new();
        for of_it in self.domain_columns.values_mut() {
            of_it.add_check(&domain, &check, &mut missed);
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
    /// CHECKs (and, for an array of it, its NOT NULL) as CHECKs of the table
    /// ([`domain_checks_of_column`]), and those of the domain its elements are, and records the
    /// column as one of the domain's, for a later ALTER DOMAIN.
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
            domain.not_null,
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
            .filter(|d| d.key == domain.key)
        {
            of_it.columns.push(object.clone());
        }
        if let Some(element) = &domain.element {
            self.carry_domain_checks(table, column, element, DomainColumnType::Array);
        }
    }

    /// `SET [SESSION | LOCAL] search_path {TO | =} schema, ...` (or `DEFAULT`): the schemas
    /// unqualified names of domains and enums are looked up in, and created in, after it.
    /// False (consuming nothing) for any other SET.
    pub(super) fn set_search_path(&mut self, cursor: &mut Cursor) -> bool {
        let at = usize::from(cursor.is_kw_at(1, "SESSION") || cursor.is_kw_at(1, "LOCAL"));
        if !cursor.is_kw_at(at + 1, "SEARCH_PATH") {
            return false;
        }
        for _ in 0..at + 2 {
            cursor.advance();
        }
        let _ = cursor.eat_kw("TO") || cursor.eat(&Token::Eq);
        if cursor.eat_kw("DEFAULT") {
            self.search_path = None;
            return true;
        }
        let mut schemas = Vec::new();
        while !cursor.at_end() {
            match cursor.advance() {
                Token::Word(word) => schemas.push(word.value.to_ascii_uppercase()),
                Token::SingleQuotedString(schema) => schemas.push(schema.to_ascii_uppercase()),
                _ => {}
            }
        }
        self.search_path = Some(schemas);
        true
    }

    /// The schema (upper case) a domain or enum `name` is created in: its own, or the first of
    /// the search path (`public` by default).
    fn creation_schema(&self, name: &QualifiedName) -> String {
        if let Some(schema) = &name.schema {
            return schema.value.to_ascii_uppercase();
        }
        self.search_path
            .iter()
            .flatten()
            .find(|schema| *schema != "$USER")
            .cloned()
            .unwrap_or_else(|| "PUBLIC".to_string())
    }

    /// The key (`SCHEMA.NAME`) of the domain or enum the type `ty` names, as PostgreSQL finds it:
    /// a qualified name in its schema; an unqualified one in the schemas of the script's
    /// `SET search_path`, in order, or, without one, in `schema` (upper case: the table's or
    /// domain's own), else `public`, else the only schema that has one; `None` when none has
    /// it. Where that leaves several, the type is ambiguous: reported on `object`, and an
    /// error.
    pub(super) fn user_type_of(
        &mut self,
        ty: &TypeRef,
        schema: Option<&str>,
        object: &str,
        location: &SourceLocation,
    ) -> Result<Option<String>, AmbiguousType> {
        let name = ty.name.rsplit('.').next().unwrap_or(&ty.name);
        let defined = |schema: &str| {
            let key = user_type_key(schema, name);
            self.user_types.contains_key(&key).then_some(key)
        };
        // The type parser drops `public.` and `pg_catalog.` from the name: the text has them.
        if let Some(written) = written_schema(&ty.text) {
            return Ok(defined(&written));
        }
        if let Some(path) = &self.search_path {
            return Ok(path.iter().find_map(|schema| defined(schema)));
        }
        // Without a search_path, the script's schema is unknown (`"$user"`): the table's own
        // schema is the likely one.
        if let Some(key) = schema.into_iter().chain(["PUBLIC"]).find_map(defined) {
            return Ok(Some(key));
        }
        let suffix = format!(".{name}");
        let mut candidates: Vec<String> = self
            .user_types
            .keys()
            .filter(|key| key.ends_with(&suffix))
            .cloned()
            .collect();
        candidates.sort();
        if candidates.len() > 1 {
            let schemas: Vec<&str> = candidates
                .iter()
                .filter_map(|key| key.rsplit_once('.').map(|(schema, _)| schema))
                .collect();
            self.finding(
                Severity::Action,
                "type.ambiguous",
                object,
                format!("the type `{}` is a domain or enum of several schemas ({}), and the script sets no search_path to tell which: the column is emitted as unbounded text", ty.text, schemas.join(", ").to_ascii_lowercase()),
                "qualify the type with its schema in the source DDL (or add the SET search_path the script runs with), and convert again",
                Some(location.clone()),
            );
            return Err(AmbiguousType);
        }
        Ok(candidates.pop())
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
        let key = user_type_key(&self.creation_schema(&name), &name.name.value);
        self.user_types.insert(key, base);
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

/// A type name that is a domain or enum of several schemas, and which one can't be told
/// ([`DdlReader::user_type_of`]): reported where it is found.
#[derive(Debug)]
pub(super) struct AmbiguousType;

impl DomainColumn {
    /// Gives the domain the CHECK `check` an ALTER DOMAIN adds to the domain of key `domain`,
    /// if it is that one or over it, or its elements are; the columns that miss it go to
    /// `missed`.
    fn add_check(&mut self, domain: &str, check: &Constraint, missed: &mut BTreeSet<String>) {
        if self.key == domain || self.over.iter().any(|over| over == domain) {
            self.checks.push(check.clone());
            missed.extend(self.columns.iter().cloned());
        }
        if let Some(element) = &mut self.element {
            element.add_check(domain, check, missed);
        }
    }
}

/// The key of a domain or enum `name` of `schema` (upper case) in the reader's maps.
fn user_type_key(schema: &str, name: &str) -> String {
    format!("{schema}.{}", name.to_ascii_uppercase())
}

/// The schema a type's text names it in (`public.code`, `"A".code[]`), upper case, if any.
fn written_schema(text: &str) -> Option<String> {
    let name: String = text
        .split(['(', '['])
        .next()
        .unwrap_or(text)
        .chars()
        .filter(|c| *c != '"' && !c.is_whitespace())
        .collect();
    let (schema, _) = name.rsplit_once('.')?;
    Some(schema.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use crate::read_script;
    use migrate_core::{Catalog, ConstraintKind, LogicalType, SourceDialect};

    /// The objects of the catalog's `constraint.check-dropped` findings.
    fn checks_dropped(catalog: &Catalog) -> Vec<&str> {
        catalog
            .findings
            .iter()
            .filter(|f| f.code == "constraint.check-dropped")
            .map(|f| f.object.as_str())
            .collect()
    }

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
        // An array gets its domain's CHECKs, not its elements': those are reported, and their
        // NOT NULL is a CHECK on the elements.
        assert_eq!(
            table
                .constraints
                .iter()
                .map(|c| &c.kind)
                .collect::<Vec<_>>(),
            [
                &ConstraintKind::Check("cardinality(l) < 5".into()),
                &ConstraintKind::Check(
                    "array_to_string(a, ',', '0') = array_to_string(a, ',', '1')".into()
                ),
                &ConstraintKind::Check("n >= 0".into())
            ]
        );
        // The DEFAULT and NOT NULL of `nn` are its elements' in `a`.
        let [l, a, n] = &table.columns[..] else {
            panic!("{:?}", table.columns);
        };
        assert_eq!(
            l.data_type,
            LogicalType::Array(Box::new(LogicalType::Integer))
        );
        assert!(a.nullable && a.default.is_none(), "{a:?}");
        assert!(!n.nullable && n.default.is_some(), "{n:?}");
        assert_eq!(
            checks_dropped(&catalog),
            ["t.l", "t.a"],
            "{:?}",
            catalog.findings
        );
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
        assert_eq!(
            checks_dropped(&catalog),
            ["t.a", "t.s"],
            "{:?}",
            catalog.findings
        );
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
