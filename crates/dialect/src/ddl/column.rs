//! Column definitions and constraints (inline and out-of-line), shared by every dialect.

use super::sequence::SequenceOptions;
use super::DdlReader;
use crate::cursor::{source_ident, Cursor, ParseError, TokenRange};
use crate::type_syntax::parse_type;
use migrate_core::{
    Column, ColumnDefault, Constraint, ConstraintKind, ConstraintState, Deferral, ForeignKey,
    Ident, Identity, IndexOptions, LogicalType, QualifiedName, Severity, SourceDialect, Table,
};
use sqlparser::tokenizer::Token;

/// Words that start a column option, i.e. end a DEFAULT expression.
const COLUMN_OPTION_WORDS: &[&str] = &[
    "NOT",
    "NULL",
    "CONSTRAINT",
    "PRIMARY",
    "UNIQUE",
    "CHECK",
    "REFERENCES",
    "ENABLE",
    "DISABLE",
    "GENERATED",
    "COMMENT",
    "ON",
    "AUTO_INCREMENT",
    "COLLATE",
    "CHARACTER",
    "CHARSET",
    "VISIBLE",
    "INVISIBLE",
    "SORT",
    "ENCRYPT",
    "RELY",
    "NORELY",
    "VALIDATE",
    "NOVALIDATE",
    "DEFAULT",
    "KEY",
    "COLUMN_FORMAT",
    "STORAGE",
    "IDENTITY",
    "AS",
    "VIRTUAL",
    "STORED",
    "SRID",
    "ENFORCED",
    "DEFERRABLE",
    "INITIALLY",
    "USING",
];

impl DdlReader {
    pub(super) fn column_definition(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
    ) -> Result<Column, ParseError> {
        let location = cursor.location();
        let name = cursor.ident()?;
        let object = format!("{}.{}", table.name, name);
        let mut serial = false;
        // Oracle virtual columns may omit the type: `total AS (price * qty) VIRTUAL`.
        let mut domain = None;
        let (source_type, data_type) = if cursor.is_kw("AS") || cursor.is_kw("GENERATED") {
            self.finding(
                Severity::Action,
                "column.virtual-untyped",
                &object,
                "virtual column without a declared type",
                "declare the column's type in the source DDL, or write the target column by hand",
                Some(location.clone()),
            );
            (String::new(), LogicalType::Text)
        } else {
            let ty = parse_type(cursor, self.dialect)?;
            let mapped = self.map_type(&ty, &object, &location);
            serial = is_serial(&ty.name);
            domain = self.domain_columns.get(&ty.name).cloned();
            (ty.text, mapped)
        };
        let mut column = Column::new(name, source_type, data_type);
        column.location = Some(location);
        let domain_not_null = domain.as_ref().is_some_and(|d| d.not_null);
        if let Some(domain) = domain {
            // The column's own DEFAULT, read below, replaces the domain's.
            column.default = domain.default;
        }
        if serial {
            // `serial` is an integer with a sequence default and NOT NULL (MySQL's adds UNIQUE).
            column.identity = Some(Identity::default());
            column.nullable = false;
        }
        self.column_options(cursor, table, &mut column)?;
        // A column's own `NULL` does not lift its domain's NOT NULL: PostgreSQL still refuses
        // NULLs in it.
        column.nullable &= !domain_not_null;
        Ok(column)
    }

    fn column_options(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
        column: &mut Column,
    ) -> Result<(), ParseError> {
        let mut last_start = usize::MAX;
        loop {
            if cursor.at_end() || cursor.is(&Token::Comma) || cursor.is(&Token::RParen) {
                return Ok(());
            }
            // Every option consumes tokens; one that doesn't would loop forever.
            let start = cursor.position();
            if start == last_start {
                return Err(cursor.error(
                    format!(
                        "unexpected text in the definition of column {}",
                        column.name
                    ),
                    "check the column definition; remove options the target can't have",
                ));
            }
            last_start = start;
            let constraint_name = if cursor.eat_kw("CONSTRAINT") {
                Some(cursor.ident()?)
            } else {
                None
            };
            if cursor.eat_kws(&["NOT", "NULL"]) {
                column.nullable = false;
                constraint_state(cursor, &mut ConstraintState::default())?;
            } else if cursor.eat_kw("NULL") {
                column.nullable = true;
            } else if cursor.eat_kws(&["PRIMARY", "KEY"]) {
                column.nullable = false;
                let index = IndexOptions {
                    include: index_parameters(cursor)?,
                    nulls_not_distinct: false,
                };
                self.inline_constraint(
                    cursor,
                    table,
                    constraint_name,
                    ConstraintKind::PrimaryKey(vec![column.name.clone()]),
                    index,
                )?;
            } else if cursor.eat_kw("UNIQUE") {
                cursor.eat_kw("KEY");
                let nulls_not_distinct = nulls_not_distinct(cursor)?;
                let index = IndexOptions {
                    include: index_parameters(cursor)?,
                    nulls_not_distinct,
                };
                self.inline_constraint(
                    cursor,
                    table,
                    constraint_name,
                    ConstraintKind::Unique(vec![column.name.clone()]),
                    index,
                )?;
            } else if cursor.is_kw("CHECK") {
                cursor.advance();
                let range = cursor.skip_parens()?;
                let check = ConstraintKind::Check(cursor.text(range));
                self.inline_constraint(
                    cursor,
                    table,
                    constraint_name,
                    check,
                    IndexOptions::default(),
                )?;
            } else if cursor.eat_kw("REFERENCES") {
                let fk = self.references(cursor, vec![column.name.clone()])?;
                self.inline_constraint(
                    cursor,
                    table,
                    constraint_name,
                    ConstraintKind::ForeignKey(fk),
                    IndexOptions::default(),
                )?;
            } else if constraint_name.is_some() {
                return Err(cursor.error(
                    "expected a constraint after CONSTRAINT name",
                    "check the constraint syntax",
                ));
            } else if cursor.eat_kw("DEFAULT") {
                let on_null = cursor.eat_kws(&["ON", "NULL"]);
                // Oracle 23ai: `DEFAULT ON NULL FOR INSERT {ONLY | AND UPDATE} x`.
                if on_null && cursor.eat_kws(&["FOR", "INSERT"]) {
                    let _ = cursor.eat_kw("ONLY") || cursor.eat_kws(&["AND", "UPDATE"]);
                }
                let range = default_expression(cursor);
                column.default = Some(self.default_value(cursor, range, Some(&table.name)));
                if on_null {
                    self.default_on_null(&table.name, column);
                }
            } else if cursor.is_kw("GENERATED") || cursor.is_kw("AS") {
                self.generated(cursor, &table.name, column)?;
            } else if cursor.eat_kw("IDENTITY") {
                let mut identity = Identity::default();
                if cursor.is(&Token::LParen) {
                    cursor.advance();
                    identity.start = cursor.number()?;
                    cursor.expect(&Token::Comma)?;
                    identity.increment = cursor.number()?;
                    cursor.expect(&Token::RParen)?;
                }
                column.identity = Some(identity);
            } else if cursor.eat_kw("AUTO_INCREMENT") || cursor.eat_kw("AUTOINCREMENT") {
                column.identity = Some(Identity::default());
            } else if cursor.eat_kw("COMMENT") {
                column.comment = Some(cursor.string()?);
            } else if cursor.eat_kws(&["ON", "UPDATE"]) {
                let range = cursor.take_until(|c| {
                    c.is(&Token::Comma) || COLUMN_OPTION_WORDS.iter().any(|w| c.is_kw(w))
                });
                column.on_update = Some(cursor.text(range));
            } else if cursor.eat_kw("COLLATE") {
                self.column_collation(cursor, &table.name, column);
            } else if cursor.eat_kw("CHARSET") || cursor.eat_kws(&["CHARACTER", "SET"]) {
                cursor.eat(&Token::Eq);
                cursor.advance();
            } else if cursor.eat_kw("COLUMN_FORMAT")
                || cursor.eat_kw("STORAGE")
                || cursor.eat_kw("SRID")
            {
                cursor.advance();
            } else if cursor.eat_kw("ENCRYPT") {
                // `ENCRYPT [USING 'alg'] [IDENTIFIED BY pwd] [NO SALT]`: column encryption at rest.
                cursor.take_until(|c| c.is(&Token::Comma));
            } else if cursor.eat_kw("INVISIBLE") {
                self.finding(
                    Severity::Info,
                    "column.invisible",
                    format!("{}.{}", table.name, column.name),
                    "the column is INVISIBLE in the source (SELECT * and INSERT without a column list leave it out); in the target it is an ordinary column",
                    "check queries and loads that use SELECT * or INSERT without a column list",
                    column.location.clone(),
                );
            } else if eat_system_versioning(cursor) {
                // MariaDB `WITHOUT SYSTEM VERSIONING`: the column's history is not kept, and
                // no history is migrated anyway (see `table.system-versioned`).
            } else if cursor.eat_kw("VISIBLE")
                || cursor.eat_kw("SORT")
                || cursor.eat_kw("BINARY")
                || cursor.eat_kw("ASCII")
                || cursor.eat_kw("UNICODE")
            {
                // BINARY/ASCII/UNICODE: MySQL collation shorthands.
            } else if is_state_word(cursor) {
                constraint_state(cursor, &mut ConstraintState::default())?;
            } else {
                return Err(cursor.error(
                    format!(
                        "unexpected text in the definition of column {}",
                        column.name
                    ),
                    "check the column definition; remove options the target can't have",
                ));
            }
        }
    }

    /// Adds an inline constraint to the table, reading its state words. `index`: a key's index
    /// options, read before them.
    fn inline_constraint(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
        name: Option<Ident>,
        kind: ConstraintKind,
        index: IndexOptions,
    ) -> Result<(), ParseError> {
        table.constraints.push(Constraint {
            name,
            kind,
            state: read_constraint_state(cursor)?,
            index,
        });
        Ok(())
    }

    /// `GENERATED {ALWAYS | BY DEFAULT [ON NULL]} AS IDENTITY [(options)]`, or a generated
    /// column `[GENERATED ALWAYS] AS (expr) [VIRTUAL | STORED]`. An identity's sequence, named by
    /// PostgreSQL's `SEQUENCE NAME s`, is recorded for the `setval` that positions it.
    pub(super) fn generated(
        &mut self,
        cursor: &mut Cursor,
        table: &QualifiedName,
        column: &mut Column,
    ) -> Result<(), ParseError> {
        let mut always = false;
        if cursor.eat_kw("GENERATED") {
            if cursor.eat_kw("ALWAYS") {
                always = true;
            } else {
                cursor.expect_kw("BY")?;
                cursor.expect_kw("DEFAULT")?;
                if cursor.eat_kws(&["ON", "NULL"]) {
                    self.identity_on_null(table, column);
                }
            }
        }
        cursor.expect_kw("AS")?;
        // MariaDB's system-versioned tables: `GENERATED ALWAYS AS ROW START | END` columns hold
        // when each row version began and ended; the current rows' values are loaded as data.
        if cursor.eat_kws(&["ROW", "START"]) || cursor.eat_kws(&["ROW", "END"]) {
            return Ok(());
        }
        if cursor.eat_kw("IDENTITY") {
            let mut options = SequenceOptions::default();
            if cursor.eat(&Token::LParen) {
                while !cursor.at_end() && !cursor.is(&Token::RParen) {
                    if !options.read_option(cursor)? {
                        cursor.advance();
                    }
                }
                cursor.expect(&Token::RParen)?;
            } else {
                // DBMS_METADATA writes the options without parentheses.
                while options.read_option(cursor)? {}
            }
            column.identity = Some(Identity {
                start: options.start(cursor)?,
                increment: options.increment,
                always,
                min_value: options.min_value(),
                max_value: options.max_value(),
                cycle: options.cycle,
            });
            if let Some(sequence) = options.name {
                self.identity_sequences
                    .push((sequence, table.clone(), column.name.clone()));
            }
            return Ok(());
        }
        let range = cursor.skip_parens()?;
        column.generated = Some(cursor.text(range));
        let _ = cursor.eat_kw("VIRTUAL") || cursor.eat_kw("STORED") || cursor.eat_kw("PERSISTENT");
        Ok(())
    }

    /// The collation after COLLATE, possibly qualified (pg_dump's `pg_catalog."C"`). The model
    /// has no column collation, so a PostgreSQL or Oracle one other than the default is reported.
    /// MySQL's are not (mysqldump writes one on many columns): left to the MySQL reader.
    fn column_collation(&mut self, cursor: &mut Cursor, table: &QualifiedName, column: &Column) {
        cursor.eat(&Token::Eq);
        let start = cursor.position();
        let mut name = cursor.advance();
        while cursor.eat(&Token::Period) {
            name = cursor.advance();
        }
        let range = TokenRange {
            start,
            end: cursor.position(),
        };
        let is_default = matches!(&name, Token::Word(word)
            if word.value.eq_ignore_ascii_case("default")
                || word.value.eq_ignore_ascii_case("USING_NLS_COMP"));
        if self.dialect == SourceDialect::Mysql || is_default {
            return;
        }
        self.finding(
            Severity::Warning,
            "column.collation",
            format!("{table}.{}", column.name),
            format!(
                "COLLATE {} is not kept: the target column has the database's default collation, so its values may sort and compare differently",
                cursor.text(range)
            ),
            "add the collation to the target column by hand where sorting or comparison depends on it",
            column.location.clone(),
        );
    }

    /// Oracle `DEFAULT ON NULL x` also stores x for an explicit NULL, so the column is NOT NULL.
    /// The targets only use a default for an omitted column: an explicit NULL fails there.
    fn default_on_null(&mut self, table: &QualifiedName, column: &mut Column) {
        column.nullable = false;
        self.finding(
            Severity::Warning,
            "default.on-null",
            format!("{table}.{}", column.name),
            "DEFAULT ON NULL: the column is NOT NULL, and the target uses the default only when an insert omits the column; an insert of an explicit NULL fails instead of storing the default",
            "replace NULLs by the default in the statements or process that write the column (COALESCE(value, default))",
            column.location.clone(),
        );
    }

    /// Oracle `GENERATED BY DEFAULT ON NULL AS IDENTITY` also numbers a row inserted with an
    /// explicit NULL, so the column is NOT NULL. The targets' identity numbers only a row whose
    /// insert omits the column: an explicit NULL fails there.
    fn identity_on_null(&mut self, table: &QualifiedName, column: &mut Column) {
        column.nullable = false;
        self.finding(
            Severity::Warning,
            "identity.on-null",
            format!("{table}.{}", column.name),
            "GENERATED BY DEFAULT ON NULL AS IDENTITY: the column is NOT NULL, and the target numbers a row only when its insert omits the column; an insert of an explicit NULL fails instead of taking the next number",
            "leave the column out of the inserts that should be numbered, instead of giving it NULL",
            column.location.clone(),
        );
    }

    /// A DEFAULT of a column of `table`: a sequence's next value becomes IDENTITY later,
    /// anything else is kept as text. MySQL reads an unqualified sequence name, like a table
    /// name, in the table's database.
    pub(super) fn default_value(
        &self,
        cursor: &Cursor,
        range: TokenRange,
        table: Option<&QualifiedName>,
    ) -> ColumnDefault {
        match column_default(cursor.text(range), self.dialect) {
            ColumnDefault::Sequence(mut name)
                if self.dialect == SourceDialect::Mysql && name.schema.is_none() =>
            {
                name.schema = table.and_then(|table| table.schema.clone());
                ColumnDefault::Sequence(name)
            }
            other => other,
        }
    }

    /// `REFERENCES table [(columns)] [ON DELETE action] [ON UPDATE action] [MATCH ...]`
    pub(super) fn references(
        &mut self,
        cursor: &mut Cursor,
        columns: Vec<Ident>,
    ) -> Result<ForeignKey, ParseError> {
        let referenced_table = cursor.qualified_name()?;
        let referenced_columns = if cursor.is(&Token::LParen) {
            cursor.ident_list()?
        } else {
            Vec::new()
        };
        let (mut on_delete, mut on_update, mut match_full) = (None, None, false);
        loop {
            if cursor.eat_kws(&["ON", "DELETE"]) {
                on_delete = Some(referential_action(cursor)?);
            } else if cursor.eat_kws(&["ON", "UPDATE"]) {
                on_update = Some(referential_action(cursor)?);
            } else if cursor.eat_kw("MATCH") {
                // InnoDB parses MATCH and ignores it: only PostgreSQL enforces MATCH FULL.
                match_full = cursor.is_kw("FULL") && self.dialect == SourceDialect::Postgres;
                cursor.advance();
            } else {
                break;
            }
        }
        Ok(ForeignKey {
            columns,
            referenced_table,
            referenced_columns,
            on_delete,
            on_update,
            match_full,
        })
    }

    /// An out-of-line constraint, or `None` when the element is not a constraint.
    pub(super) fn table_constraint(
        &mut self,
        cursor: &mut Cursor,
    ) -> Result<Option<Constraint>, ParseError> {
        let start = cursor.position();
        let name = if cursor.eat_kw("CONSTRAINT") {
            Some(cursor.ident()?)
        } else {
            None
        };
        let mut index = IndexOptions::default();
        let kind = if cursor.eat_kws(&["PRIMARY", "KEY"]) {
            skip_index_name(cursor);
            let columns = cursor.ident_list()?;
            index.include = index_parameters(cursor)?;
            ConstraintKind::PrimaryKey(columns)
        } else if cursor.is_kw("UNIQUE") && (name.is_some() || is_unique_constraint(cursor)) {
            cursor.advance();
            let _ = cursor.eat_kw("KEY") || cursor.eat_kw("INDEX");
            skip_index_name(cursor);
            index.nulls_not_distinct = nulls_not_distinct(cursor)?;
            let columns = cursor.ident_list()?;
            index.include = index_parameters(cursor)?;
            ConstraintKind::Unique(columns)
        } else if cursor.eat_kws(&["FOREIGN", "KEY"]) {
            skip_index_name(cursor);
            let columns = cursor.ident_list()?;
            cursor.expect_kw("REFERENCES")?;
            ConstraintKind::ForeignKey(self.references(cursor, columns)?)
        } else if cursor.is_kw("CHECK") && cursor.peek_at(1) == &Token::LParen {
            cursor.advance();
            let range = cursor.skip_parens()?;
            ConstraintKind::Check(cursor.text(range))
        } else {
            if name.is_some() {
                return Err(cursor.error(
                    "expected PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK",
                    "check the constraint syntax",
                ));
            }
            cursor.set_position(start);
            return Ok(None);
        };
        // MySQL `USING BTREE` and the like after the column list.
        if cursor.is_kw("USING") && !cursor.is_kw_at(1, "INDEX") {
            cursor.advance();
            cursor.advance();
        }
        Ok(Some(Constraint {
            name,
            kind,
            state: read_constraint_state(cursor)?,
            index,
        }))
    }
}

/// PostgreSQL `serial` types and MySQL `SERIAL`: auto-numbered integers.
fn is_serial(type_name: &str) -> bool {
    matches!(
        type_name,
        "SERIAL" | "BIGSERIAL" | "SMALLSERIAL" | "SERIAL2" | "SERIAL4" | "SERIAL8"
    )
}

/// MariaDB's `WITH SYSTEM VERSIONING` / `WITHOUT SYSTEM VERSIONING` (column or table option).
pub(super) fn is_system_versioning(cursor: &Cursor) -> bool {
    (cursor.is_kw("WITH") || cursor.is_kw("WITHOUT"))
        && cursor.is_kws_at(1, &["SYSTEM", "VERSIONING"])
}

/// Consumes `WITH SYSTEM VERSIONING` / `WITHOUT SYSTEM VERSIONING` when the cursor is at one.
pub(super) fn eat_system_versioning(cursor: &mut Cursor) -> bool {
    is_system_versioning(cursor) && {
        cursor.advance();
        cursor.eat_kws(&["SYSTEM", "VERSIONING"])
    }
}

/// The expression after DEFAULT: up to the next column option at depth 0 (outside parentheses
/// and brackets: `ARRAY[1, 2]`). It has at least one token (`DEFAULT NULL`), and a word right
/// after `::` or `.` is part of it (`''::character varying`).
pub(super) fn default_expression(cursor: &mut Cursor) -> TokenRange {
    let start = cursor.position();
    let mut depth = 0usize;
    while !cursor.at_end() {
        let index = cursor.position();
        let continues = index == start
            || matches!(
                cursor.token_at(index - 1),
                Token::DoubleColon
                    | Token::Period
                    | Token::Plus
                    | Token::Minus
                    | Token::Mul
                    | Token::Div
                    | Token::StringConcat
            );
        match cursor.peek() {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket if depth == 0 => break,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => break,
            _ if depth == 0
                && !continues
                && (COLUMN_OPTION_WORDS.iter().any(|w| cursor.is_kw(w))
                    || is_system_versioning(cursor)) =>
            {
                break
            }
            _ => {}
        }
        cursor.advance();
    }
    TokenRange {
        start,
        end: cursor.position(),
    }
}

/// MySQL allows an index name between the key words and the column list.
fn skip_index_name(cursor: &mut Cursor) {
    if matches!(cursor.peek(), Token::Word(_)) && cursor.peek_at(1) == &Token::LParen {
        cursor.advance();
    }
}

/// `UNIQUE (a, b)` or MySQL `UNIQUE KEY name (a)` as a table element (not a column named unique).
fn is_unique_constraint(cursor: &Cursor) -> bool {
    cursor.peek_at(1) == &Token::LParen
        || ["KEY", "INDEX", "NULLS"]
            .iter()
            .any(|kw| cursor.is_kw_at(1, kw))
}

/// PostgreSQL 15's `NULLS [NOT] DISTINCT` after UNIQUE, if there: whether NULLs count as equal.
pub(super) fn nulls_not_distinct(cursor: &mut Cursor) -> Result<bool, ParseError> {
    if !cursor.eat_kw("NULLS") {
        return Ok(false);
    }
    let not = cursor.eat_kw("NOT");
    cursor.expect_kw("DISTINCT")?;
    Ok(not)
}

/// PostgreSQL's index parameters after a key's columns, or an index's: the `INCLUDE (...)`
/// columns, returned, and `WITH (storage parameters)`, skipped (physical layout, not carried).
pub(super) fn index_parameters(cursor: &mut Cursor) -> Result<Vec<Ident>, ParseError> {
    let mut include = Vec::new();
    loop {
        if cursor.is_kw("INCLUDE") && cursor.peek_at(1) == &Token::LParen {
            cursor.advance();
            include = cursor.ident_list()?;
        } else if cursor.is_kw("WITH") && cursor.peek_at(1) == &Token::LParen {
            cursor.advance();
            cursor.skip_parens()?;
        } else {
            return Ok(include);
        }
    }
}

fn referential_action(cursor: &mut Cursor) -> Result<String, ParseError> {
    for action in [
        &["CASCADE"][..],
        &["SET", "NULL"],
        &["SET", "DEFAULT"],
        &["NO", "ACTION"],
        &["RESTRICT"],
    ] {
        if cursor.eat_kws(action) {
            let mut action = action.join(" ");
            // PostgreSQL 15: `ON DELETE SET NULL (column, ...)` sets only those columns.
            if action.starts_with("SET") && cursor.is(&Token::LParen) {
                let columns = cursor.ident_list()?;
                let columns: Vec<String> = columns.iter().map(Ident::to_string).collect();
                action = format!("{action} ({})", columns.join(", "));
            }
            return Ok(action);
        }
    }
    Err(cursor.error(
        "expected a referential action",
        "use CASCADE, SET NULL, SET DEFAULT, NO ACTION or RESTRICT",
    ))
}

fn is_state_word(cursor: &Cursor) -> bool {
    cursor.is_any_kw(&[
        "ENABLE",
        "DISABLE",
        "VALIDATE",
        "NOVALIDATE",
        "RELY",
        "NORELY",
        "ENFORCED",
        "DEFERRABLE",
        "INITIALLY",
    ]) || cursor.is_kws_at(0, &["USING", "INDEX"])
        || cursor.is_kws_at(0, &["EXCEPTIONS", "INTO"])
        || (cursor.is_kw("NOT")
            && (cursor.is_kw_at(1, "ENFORCED")
                || cursor.is_kw_at(1, "DEFERRABLE")
                || cursor.is_kw_at(1, "VALID")))
}

/// The state words after a constraint, from the default state.
fn read_constraint_state(cursor: &mut Cursor) -> Result<ConstraintState, ParseError> {
    let mut state = ConstraintState::default();
    constraint_state(cursor, &mut state)?;
    Ok(state)
}

/// ENABLE/DISABLE, VALIDATE/NOVALIDATE, RELY/NORELY, [NOT] ENFORCED, DEFERRABLE..., USING INDEX ...
pub(super) fn constraint_state(
    cursor: &mut Cursor,
    state: &mut ConstraintState,
) -> Result<(), ParseError> {
    loop {
        if cursor.eat_kw("ENABLE") {
            state.enabled = true;
        } else if cursor.eat_kw("DISABLE") {
            state.enabled = false;
            state.validated = false;
        } else if cursor.eat_kw("VALIDATE") {
            state.validated = true;
        } else if cursor.eat_kw("NOVALIDATE") || cursor.eat_kws(&["NOT", "VALID"]) {
            // PostgreSQL `NOT VALID`: like NOVALIDATE, existing rows were never checked.
            state.validated = false;
        } else if cursor.eat_kw("RELY") {
            state.rely = true;
        } else if cursor.eat_kw("NORELY") {
            state.rely = false;
        } else if cursor.eat_kw("ENFORCED") {
            state.enabled = true;
        } else if cursor.eat_kws(&["NOT", "ENFORCED"]) {
            state.enabled = false;
        } else if cursor.eat_kw("DEFERRABLE") {
            if state.deferral == Deferral::NotDeferrable {
                state.deferral = Deferral::Immediate;
            }
        } else if cursor.eat_kws(&["NOT", "DEFERRABLE"]) {
            state.deferral = Deferral::NotDeferrable;
        } else if cursor.eat_kws(&["INITIALLY", "DEFERRED"]) {
            state.deferral = Deferral::Deferred;
        } else if cursor.eat_kw("INITIALLY") {
            // IMMEDIATE: the default of a DEFERRABLE constraint.
            cursor.advance();
        } else if cursor.eat_kws(&["EXCEPTIONS", "INTO"]) {
            cursor.qualified_name()?;
        } else if cursor.eat_kws(&["USING", "INDEX"]) {
            // An index name, a nested CREATE INDEX, or physical attributes: none matter here.
            if cursor.is(&Token::LParen) {
                cursor.skip_parens()?;
            } else {
                cursor.take_until(|c| c.is(&Token::Comma) || is_state_word(c));
            }
        } else {
            return Ok(());
        }
    }
}

/// A column default written in `dialect` (DDL, or a live catalog's text of it): the next value
/// of a sequence (`nextval('t_id_seq'::regclass)`, `seq.NEXTVAL`, `nextval(seq)`), or an expression kept as
/// text.
pub fn column_default(text: String, dialect: SourceDialect) -> ColumnDefault {
    match sequence_in_default(&text, dialect) {
        Some(sequence) => ColumnDefault::Sequence(sequence),
        None => ColumnDefault::Expression(text),
    }
}

/// `seq.NEXTVAL` (Oracle, also DBMS_METADATA's `"HR"."EMP_SEQ"."NEXTVAL"`),
/// `nextval('seq'::regclass)` (PostgreSQL) or `nextval(seq)`, `NEXT VALUE FOR seq` (MariaDB)
/// as a whole default.
fn sequence_in_default(text: &str, dialect: SourceDialect) -> Option<QualifiedName> {
    let text = text.trim();
    match dialect {
        SourceDialect::Oracle => {
            let mut parts = dotted_name(text, dialect)?;
            let pseudo_column = parts.pop()?;
            if !pseudo_column.value.eq_ignore_ascii_case("NEXTVAL") {
                return None;
            }
            qualified(parts)
        }
        SourceDialect::Postgres => {
            let lower = text.to_ascii_lowercase();
            let inner = lower.strip_prefix("nextval(")?.strip_suffix(')')?;
            let inner = &text["nextval(".len().."nextval(".len() + inner.len()];
            let inner = inner.trim().trim_end_matches("::regclass");
            let name = inner.strip_prefix('\'')?.strip_suffix('\'')?;
            split_qualified(&name.replace("''", "'"), dialect)
        }
        SourceDialect::Mysql => crate::mariadb_sequence::next_value_default(text),
        _ => None,
    }
}

/// `schema.name` as written in a string (`'public.t_id_seq'`, `'"Sales"."Order Items_seq"'`):
/// the same object as the name written in DDL.
pub(super) fn split_qualified(name: &str, dialect: SourceDialect) -> Option<QualifiedName> {
    qualified(dotted_name(name, dialect)?)
}

/// The last two of `parts` as a qualified name.
fn qualified(mut parts: Vec<Ident>) -> Option<QualifiedName> {
    let name = parts.pop()?;
    Some(QualifiedName::new(parts.pop(), name))
}

/// The parts of a dotted name in text (`a.b`, `"A b"."c"""`), quoted parts read like the
/// tokenizer reads them; `None` when the text is not only a name.
fn dotted_name(text: &str, dialect: SourceDialect) -> Option<Vec<Ident>> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    loop {
        let (part, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let (value, after) = quoted_part(quoted)?;
                (source_ident(value, Some('"'), dialect), after)
            }
            None => {
                let end = rest.find('.').unwrap_or(rest.len());
                let word = rest[..end].trim();
                if word.contains(|c: char| c.is_whitespace() || "()'\"".contains(c)) {
                    return None;
                }
                (Ident::new(word), &rest[end..])
            }
        };
        if part.value.is_empty() {
            return None;
        }
        parts.push(part);
        let after = after.trim_start();
        if after.is_empty() {
            return Some(parts);
        }
        rest = after.strip_prefix('.')?.trim_start();
    }
}

/// The text of a double-quoted name whose opening quote is already consumed (`""` is a quote),
/// and what follows its closing quote.
fn quoted_part(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        if c != '"' {
            value.push(c);
        } else if chars.next_if(|&(_, next)| next == '"').is_some() {
            value.push('"');
        } else {
            return Some((value, &text[index + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_defaults_are_recognised() {
        let seq = sequence_in_default("hr.emp_seq.nextval", SourceDialect::Oracle).unwrap();
        assert_eq!(seq.to_string(), "hr.emp_seq");
        let seq = sequence_in_default(
            "nextval('public.t_id_seq'::regclass)",
            SourceDialect::Postgres,
        )
        .unwrap();
        assert_eq!(seq.to_string(), "public.t_id_seq");
        assert!(sequence_in_default("SYSDATE", SourceDialect::Oracle).is_none());
        assert!(sequence_in_default("nextval(x)", SourceDialect::Postgres).is_none());
    }

    #[test]
    fn quoted_sequence_names_are_read_like_in_ddl() {
        // DBMS_METADATA quotes every name; Oracle's quoted upper case is the unquoted name.
        let seq =
            sequence_in_default("\"HR\".\"EMP_SEQ\".\"NEXTVAL\"", SourceDialect::Oracle).unwrap();
        assert_eq!(
            seq,
            QualifiedName::new(Some(Ident::new("HR")), Ident::new("EMP_SEQ"))
        );
        let seq = sequence_in_default("\"Hr\".\"Emp.Seq\".NEXTVAL", SourceDialect::Oracle).unwrap();
        assert_eq!(
            seq,
            QualifiedName::new(Some(Ident::quoted("Hr")), Ident::quoted("Emp.Seq"))
        );
        assert!(
            sequence_in_default("\"HR\".\"EMP_SEQ\".\"CURRVAL\"", SourceDialect::Oracle).is_none()
        );
        // pg_dump's regclass literal of a mixed-case name with a space.
        let seq = sequence_in_default(
            "nextval('\"Sales\".\"Order Items_ItemID_seq\"'::regclass)",
            SourceDialect::Postgres,
        )
        .unwrap();
        assert_eq!(
            seq,
            QualifiedName::new(
                Some(Ident::quoted("Sales")),
                Ident::quoted("Order Items_ItemID_seq")
            )
        );
        assert!(split_qualified("\"a\"\"b\".c", SourceDialect::Postgres)
            .is_some_and(|name| name.schema == Some(Ident::quoted("a\"b"))));
        assert!(split_qualified("\"unterminated", SourceDialect::Postgres).is_none());
        assert!(split_qualified("a b.c", SourceDialect::Postgres).is_none());
    }
}
