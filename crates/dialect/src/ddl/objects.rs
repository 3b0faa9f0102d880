//! CREATE for everything but tables, and COMMENT ON.

use super::sequence::SequenceOptions;
use super::DdlReader;
use crate::cursor::{source_ident, Cursor, ParseError, TokenRange};
use migrate_core::{
    Catalog, CheckOption, ConstraintKind, Finding, Ident, Index, IndexKind, IndexOptions,
    QualifiedName, Routine, RoutineKind, Sequence, Severity, SourceDialect, SourceLocation,
    Synonym, TableKind, TargetDialect, View, ViewOptions,
};
use sqlparser::tokenizer::Token;
use std::collections::{HashMap, HashSet};

/// Words between CREATE and the object kind that change nothing the conversion keeps.
const CREATE_MODIFIERS: &[&str] = &[
    "EDITIONABLE",
    "NONEDITIONABLE",
    "EDITIONING",
    "NONEDITIONING",
    "FORCE",
    "NOFORCE",
    "UNLOGGED",
    "RECURSIVE",
    "TRANSACTIONAL",
    "MANAGED",
    "SHARDED",
    "DUPLICATED",
    "BLOCKCHAIN",
    "IMMUTABLE",
    "SECURE",
    "TRUSTED",
    "CONSTRAINT",
    "AGGREGATE",
];

/// What can follow CREATE after its modifiers.
const OBJECT_WORDS: &[&str] = &[
    "TABLE",
    "INDEX",
    "VIEW",
    "SEQUENCE",
    "SYNONYM",
    "PROCEDURE",
    "FUNCTION",
    "PACKAGE",
    "TRIGGER",
    "TYPE",
    "EVENT",
    "DOMAIN",
    "SCHEMA",
    "DATABASE",
    "USER",
    "ROLE",
    "TABLESPACE",
    "DIRECTORY",
    "EXTENSION",
    "CONTEXT",
    "PROFILE",
    "LIBRARY",
    "JAVA",
    "DIMENSION",
    "CLUSTER",
    "INDEXTYPE",
    "OPERATOR",
    "OUTLINE",
    "SERVER",
    "PUBLICATION",
    "SUBSCRIPTION",
    "RULE",
    "AGGREGATE",
    "CAST",
    "COLLATION",
    "CONVERSION",
    "POLICY",
    "STATISTICS",
    "MACRO",
    "AUDIT",
];

impl DdlReader {
    pub(super) fn create(
        &mut self,
        cursor: &mut Cursor,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        cursor.expect_kw("CREATE")?;
        let mut table_kind = TableKind::Regular;
        let mut unique = false;
        let mut index_kind = IndexKind::BTree;
        let mut public = false;
        let mut materialized = false;
        let mut replace = false;
        loop {
            if cursor.eat_kws(&["OR", "REPLACE"]) || cursor.eat_kws(&["OR", "ALTER"]) {
                replace = true;
            } else if cursor.eat_kws(&["GLOBAL", "TEMPORARY"])
                || cursor.eat_kws(&["PRIVATE", "TEMPORARY"])
            {
                table_kind = TableKind::GlobalTemporary;
            } else if cursor.eat_kw("TEMPORARY")
                || cursor.eat_kw("TEMP")
                || cursor.eat_kws(&["LOCAL", "TEMPORARY"])
            {
                table_kind = TableKind::Temporary;
            } else if cursor.eat_kw("EXTERNAL") {
                table_kind = TableKind::External;
            } else if cursor.eat_kw("UNIQUE") {
                unique = true;
            } else if cursor.eat_kw("BITMAP") {
                index_kind = IndexKind::Bitmap;
            } else if cursor.eat_kw("FULLTEXT") {
                index_kind = IndexKind::FullText;
            } else if cursor.eat_kw("SPATIAL") {
                index_kind = IndexKind::Spatial;
            } else if cursor.eat_kw("PUBLIC") {
                public = true;
            } else if cursor.eat_kw("MATERIALIZED") {
                materialized = true;
            } else if cursor.eat_kw("DEFINER") {
                // MySQL `DEFINER = user@host`: skip to the next known word.
                cursor.eat(&Token::Eq);
                cursor.advance();
                while !cursor.at_end() && !self.is_create_word(cursor) {
                    cursor.advance();
                }
            } else if cursor.eat_kw("ALGORITHM") {
                cursor.eat(&Token::Eq);
                cursor.advance();
            } else if cursor.eat_kws(&["SQL", "SECURITY"]) {
                // DEFINER | INVOKER
                cursor.advance();
            } else if cursor.eat_kws(&["NO", "FORCE"]) {
            } else if cursor.is_any_kw(CREATE_MODIFIERS) {
                cursor.advance();
            } else {
                break;
            }
        }
        let Some(word) = cursor.word_at(0) else {
            return Err(cursor.error(
                "expected the kind of object to create",
                "check the CREATE statement",
            ));
        };
        cursor.advance();
        match word.as_str() {
            "TABLE" => self.create_table(cursor, table_kind, replace, location),
            "INDEX" => self.create_index(cursor, unique, index_kind, location),
            "VIEW" => self.create_view(cursor, materialized, replace, location),
            "SEQUENCE" => self.create_sequence(cursor, location),
            "SYNONYM" => self.create_synonym(cursor, public, location),
            "DOMAIN" if self.dialect == SourceDialect::Postgres => self.create_domain(cursor),
            "TYPE" if self.dialect == SourceDialect::Postgres && !cursor.is_kw("BODY") => {
                self.create_postgres_type(cursor, location)
            }
            "PROCEDURE" | "FUNCTION" | "PACKAGE" | "TRIGGER" | "TYPE" | "EVENT" => {
                let body = cursor.eat_kw("BODY");
                let kind = match (word.as_str(), body) {
                    ("PROCEDURE", _) => RoutineKind::Procedure,
                    ("FUNCTION", _) => RoutineKind::Function,
                    ("PACKAGE", false) => RoutineKind::Package,
                    ("PACKAGE", true) => RoutineKind::PackageBody,
                    ("TRIGGER", _) => RoutineKind::Trigger,
                    ("TYPE", false) => RoutineKind::Type,
                    ("TYPE", true) => RoutineKind::TypeBody,
                    _ => RoutineKind::Event,
                };
                cursor.eat_kws(&["IF", "NOT", "EXISTS"]);
                let mut name = cursor.qualified_name()?;
                if kind == RoutineKind::Trigger && name.schema.is_none() {
                    name.schema = trigger_table_schema(cursor);
                }
                self.routine(cursor, kind, Some(name), location);
                Ok(())
            }
            "DATABASE" if cursor.is_kw("LINK") => {
                cursor.advance();
                let name = cursor.qualified_name()?;
                self.finding(
                    Severity::Action,
                    "object.database-link",
                    format!("database link {name}"),
                    "database links have no equivalent in the target",
                    "use Redshift federated queries or an external schema to reach the remote database",
                    Some(location),
                );
                Ok(())
            }
            "DIMENSION" => {
                let name = cursor.qualified_name()?;
                self.finding(
                    Severity::Info,
                    "object.dimension",
                    format!("dimension {name}"),
                    "Oracle dimensions only describe hierarchies for query rewrite; the target has none",
                    "none",
                    Some(location),
                );
                Ok(())
            }
            "SCHEMA" | "DATABASE" | "USER" | "ROLE" | "TABLESPACE" | "DIRECTORY" | "EXTENSION"
            | "CONTEXT" | "PROFILE" => {
                self.skip("database setup (schema, user, tablespace...)", location);
                Ok(())
            }
            _ if OBJECT_WORDS.contains(&word.as_str()) => {
                let name = cursor
                    .qualified_name()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                self.finding(
                    Severity::Action,
                    "object.unsupported",
                    format!("{} {name}", word.to_ascii_lowercase()),
                    format!("CREATE {word} has no equivalent in the target and is not converted"),
                    "recreate what it does by other means, or drop it",
                    Some(location),
                );
                Ok(())
            }
            _ => Err(cursor.error(
                "unrecognised CREATE statement",
                "only DDL is converted; check the statement",
            )),
        }
    }

    fn is_create_word(&self, cursor: &Cursor) -> bool {
        cursor.is_any_kw(OBJECT_WORDS) || cursor.is_kw("SQL") || cursor.is_kw("ALGORITHM")
    }

    /// `INDEX [IF NOT EXISTS] [CONCURRENTLY] name ON [ONLY] table [USING m] (cols) ...`
    fn create_index(
        &mut self,
        cursor: &mut Cursor,
        unique: bool,
        mut kind: IndexKind,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        cursor.eat_kw("CONCURRENTLY");
        cursor.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = if cursor.is_kw("ON") {
            None
        } else {
            Some(cursor.qualified_name()?)
        };
        // MySQL `CREATE INDEX i USING BTREE ON t (...)`.
        if cursor.eat_kw("USING") {
            cursor.advance();
        }
        cursor.expect_kw("ON")?;
        cursor.eat_kw("ONLY");
        // Hive `CREATE INDEX i ON TABLE t (...) AS 'handler'`.
        cursor.eat_kw("TABLE");
        let table = cursor.qualified_name()?;
        let mut method = None;
        if cursor.eat_kw("USING") {
            if cursor.eat_kw("HASH") {
                kind = IndexKind::Hash;
            } else if !cursor.eat_kw("BTREE") {
                method = Some(cursor.ident()?.value.to_lowercase());
            }
        }
        let range = cursor.skip_parens()?;
        let columns = index_columns(cursor, range);
        // Storage, tablespace, partitioning, Hive handlers, bitmap join FROM...: none of it is
        // carried to the target. PostgreSQL's INCLUDE and NULLS NOT DISTINCT are, and a partial
        // index keeps its WHERE.
        let mut options = IndexOptions::default();
        loop {
            cursor.take_until(|c| c.is_any_kw(&["WHERE", "NULLS", "INCLUDE", "WITH"]));
            if cursor.is_kw("NULLS") {
                options.nulls_not_distinct = super::column::nulls_not_distinct(cursor)?;
            } else if cursor.is_any_kw(&["INCLUDE", "WITH"]) && cursor.peek_at(1) == &Token::LParen
            {
                // INCLUDE and WITH may be apart (`INCLUDE (a) NULLS NOT DISTINCT WITH (...)`).
                options
                    .include
                    .extend(super::column::index_parameters(cursor)?);
            } else if cursor.is_any_kw(&["INCLUDE", "WITH"]) {
                cursor.advance();
            } else {
                break;
            }
        }
        let predicate = if cursor.eat_kw("WHERE") {
            Some(cursor.rest_text())
        } else {
            None
        };
        cursor.take_until(|_| false);
        let name = name.unwrap_or_else(|| {
            QualifiedName::new(
                table.schema.clone(),
                Ident::new(format!("{}_idx", table.name.value)),
            )
        });
        self.catalog.indexes.push(Index {
            name,
            table,
            columns,
            unique,
            kind,
            method,
            predicate,
            options,
            location: Some(location),
        });
        Ok(())
    }

    /// `VIEW name [(columns)] [options] AS query [WITH READ ONLY | WITH CHECK OPTION]`, and
    /// materialized views with their refresh clauses.
    fn create_view(
        &mut self,
        cursor: &mut Cursor,
        materialized: bool,
        replace: bool,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        if cursor.eat_kw("MATERIALIZED") {
            // Oracle writes `CREATE MATERIALIZED VIEW`; `materialized` was read before `VIEW` there.
        }
        if cursor.eat_kw("LOG") {
            self.skip("materialized view log", location);
            return Ok(());
        }
        cursor.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = cursor.qualified_name()?;
        let mut columns = Vec::new();
        if cursor.is(&Token::LParen) {
            cursor.advance();
            loop {
                if cursor.is_kw("CONSTRAINT") || cursor.is_kw("PRIMARY") || cursor.is_kw("UNIQUE") {
                    // Oracle view constraints (RELY DISABLE NOVALIDATE): declarative only.
                    cursor.take_until(|c| c.is(&Token::Comma));
                } else {
                    columns.push(cursor.ident()?);
                    // Oracle allows inline constraints and MySQL nothing else here.
                    cursor.take_until(|c| c.is(&Token::Comma));
                }
                if !cursor.eat(&Token::Comma) {
                    break;
                }
            }
            cursor.expect(&Token::RParen)?;
        }
        if cursor.is_kw("OF") {
            self.finding(
                Severity::Action,
                "view.object-view",
                format!("view {name}"),
                "object view (`OF type WITH OBJECT IDENTIFIER`): it returns object-type rows",
                "rewrite it as a relational view over the underlying columns",
                Some(location),
            );
            return Ok(());
        }
        let mut view_options = ViewOptions::default();
        if !materialized && cursor.is_kw("WITH") && cursor.peek_at(1) == &Token::LParen {
            cursor.advance();
            self.view_parameters(cursor, &mut view_options)?;
        }
        // Everything up to the top-level AS: view options, or a materialized view's build and
        // refresh clauses.
        let options = cursor.take_until(|c| c.is_kw("AS") && !c.is_kw_at(1, "OF"));
        let options = cursor.text(options);
        if materialized && !options.is_empty() {
            self.finding(
                Severity::Info,
                "view.refresh-clauses",
                format!("materialized view {name}"),
                format!("build and refresh clauses not converted: {options}"),
                "schedule REFRESH MATERIALIZED VIEW, or create it with AUTO REFRESH YES on Redshift",
                Some(location.clone()),
            );
        }
        cursor.expect_kw("AS")?;
        let start = cursor.position();
        let mut end = start;
        while !cursor.at_end() {
            if cursor.is_kw("WITH")
                && (cursor.is_kws_at(1, &["READ", "ONLY"])
                    || cursor.is_kw_at(1, "CHECK")
                    || cursor.is_kw_at(1, "CASCADED")
                    || cursor.is_kw_at(1, "LOCAL")
                    || (cursor.is_kw_at(1, "NO") && cursor.is_kw_at(2, "DATA"))
                    || cursor.is_kw_at(1, "DATA"))
            {
                break;
            }
            cursor.advance();
            end = cursor.position();
        }
        let query = cursor.text(TokenRange { start, end });
        if cursor.eat_kws(&["WITH", "READ", "ONLY"]) {
            view_options.read_only = true;
        } else if cursor.is_kw("WITH") && !cursor.is_kw_at(1, "DATA") && !cursor.is_kw_at(1, "NO") {
            cursor.advance();
            let scope = match cursor.eat_kw("CHECK") {
                true => CheckOption::Cascaded,
                false => {
                    let word = cursor.word_at(0).unwrap_or_default();
                    cursor.advance();
                    CheckOption::from_word(&word)
                }
            };
            view_options.check = Some(scope);
        }
        // `CHECK OPTION [CONSTRAINT name]`, `WITH [NO] DATA`.
        cursor.take_until(|_| false);
        let view = View {
            name,
            columns,
            query,
            materialized,
            options: view_options,
            location: Some(location),
        };
        // The last definition is the one the source database holds.
        match self
            .catalog
            .views
            .iter()
            .position(|v| v.name.matches(&view.name))
        {
            Some(position) => {
                if !replace {
                    let previous = self.catalog.views[position].location.clone();
                    self.finding(
                        Severity::Warning,
                        "view.redefined",
                        format!("view {}", view.name),
                        format!(
                            "view defined again without OR REPLACE or a DROP VIEW before; the earlier definition{} is replaced",
                            previous.map(|l| format!(" at {l}")).unwrap_or_default()
                        ),
                        "keep one definition per view in the scripts you convert",
                        view.location.clone(),
                    );
                }
                self.catalog.views[position] = view;
            }
            None => self.catalog.views.push(view),
        }
        Ok(())
    }

    /// PostgreSQL's view parameters, `(security_barrier, check_option = local, ...)`: the
    /// cursor is at the opening parenthesis.
    fn view_parameters(
        &mut self,
        cursor: &mut Cursor,
        options: &mut ViewOptions,
    ) -> Result<(), ParseError> {
        cursor.expect(&Token::LParen)?;
        loop {
            let name = cursor.ident()?.value;
            let value = match cursor.eat(&Token::Eq) {
                true => match cursor.string() {
                    Ok(text) => text,
                    Err(_) => cursor.advance().to_string(),
                },
                false => "true".to_string(),
            };
            options.set_parameter(&name, &value);
            if !cursor.eat(&Token::Comma) {
                break;
            }
        }
        cursor.expect(&Token::RParen)
    }

    /// `DROP [TEMPORARY] TABLE | [MATERIALIZED] VIEW [IF EXISTS] name, ...`: an object that the
    /// scripts defined earlier is removed, so that a script that drops and re-creates an object
    /// (mysqldump's placeholder views) converts to its last definition. Other DROPs, and DROPs of
    /// objects the scripts don't define, are skipped.
    pub(super) fn drop(
        &mut self,
        cursor: &mut Cursor,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        cursor.expect_kw("DROP")?;
        cursor.eat_kw("TEMPORARY");
        let table = cursor.eat_kw("TABLE");
        let materialized = !table && cursor.eat_kw("MATERIALIZED");
        if !table && !cursor.eat_kw("VIEW") {
            self.skip("DROP/TRUNCATE", location);
            return Ok(());
        }
        cursor.eat_kws(&["IF", "EXISTS"]);
        let mut dropped = false;
        let mut names = Vec::new();
        // A name this can't read leaves the DROP skipped, as every DROP was before.
        while let Ok(name) = cursor.qualified_name() {
            dropped |= if table {
                self.drop_table(&name)
            } else {
                let before = self.catalog.views.len();
                self.catalog
                    .views
                    .retain(|v| v.materialized != materialized || !v.name.matches(&name));
                self.catalog.views.len() < before
            };
            names.push(name);
            if !cursor.eat(&Token::Comma) {
                break;
            }
        }
        // PostgreSQL's CASCADE also drops the views that read the dropped objects (and the views
        // that read those) and the foreign keys that reference them; Oracle's CASCADE CONSTRAINTS
        // drops the foreign keys only (its views stay, invalid); MySQL's CASCADE does nothing.
        let cascade = match self.dialect {
            SourceDialect::Postgres if cursor.is_kw("CASCADE") => Some(true),
            SourceDialect::Oracle if cursor.is_kws_at(0, &["CASCADE", "CONSTRAINTS"]) => {
                Some(false)
            }
            _ => None,
        };
        cursor.take_until(|_| false);
        if let Some(views) = cascade {
            dropped |= self.drop_dependents(&names, views, &location);
        }
        if !dropped {
            self.skip("DROP/TRUNCATE", location);
        }
        Ok(())
    }

    /// Removes the foreign keys that reference `dropped`, and with `views` the views that read
    /// them, transitively, with one finding naming them. Returns whether anything went.
    fn drop_dependents(
        &mut self,
        dropped: &[QualifiedName],
        views: bool,
        location: &SourceLocation,
    ) -> bool {
        let mut gone = Vec::new();
        for table in &mut self.catalog.tables {
            let table_name = &table.name;
            table.constraints.retain(|constraint| {
                let ConstraintKind::ForeignKey(key) = &constraint.kind else {
                    return true;
                };
                if !dropped.iter().any(|d| d.matches(&key.referenced_table)) {
                    return true;
                }
                let name = constraint
                    .name
                    .as_ref()
                    .map_or_else(|| "(unnamed)".to_string(), Ident::to_string);
                gone.push(format!("foreign key {name} of {table_name}"));
                false
            });
        }
        let mut frontier = dropped.to_vec();
        while views && !frontier.is_empty() {
            let names: HashSet<String> = frontier
                .iter()
                .map(|name| name.name.value.to_lowercase())
                .collect();
            let names: HashSet<&str> = names.iter().map(String::as_str).collect();
            let words_suffice = names.iter().all(|name| name.chars().all(identifier_char));
            let dialect = self.dialect;
            let mut reading = Vec::new();
            self.catalog.views.retain(|view| {
                if words_suffice && !may_name(&view.query, &names) {
                    return true;
                }
                let reads = migrate_sqlrewrite::query_relations(&view.query, dialect)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|relation| relation_name(relation, dialect))
                    .any(|read| frontier.iter().any(|name| name.matches(&read)));
                if reads {
                    reading.push(view.name.clone());
                }
                !reads
            });
            gone.extend(reading.iter().map(|name| format!("view {name}")));
            frontier = reading;
        }
        if gone.is_empty() {
            return false;
        }
        let object = dropped
            .iter()
            .map(QualifiedName::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self.finding(
            Severity::Info,
            "drop.cascade",
            &object,
            format!(
                "DROP ... CASCADE also drops what depends on {object}, as the source database does: {}",
                gone.join(", ")
            ),
            "none if the scripts create them again later; otherwise they are not in the output, as in the source",
            Some(location.clone()),
        );
        true
    }

    fn create_sequence(
        &mut self,
        cursor: &mut Cursor,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        cursor.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = cursor.qualified_name()?;
        let mut options = SequenceOptions::default();
        while !cursor.at_end() {
            if !options.read_option(cursor)? {
                cursor.advance();
            }
        }
        let sequence = Sequence {
            name,
            start: options.start(cursor)?,
            increment: options.increment,
            min_value: options.min_value(),
            max_value: options.max_value(),
            cycle: options.cycle,
            location: Some(location),
        };
        self.catalog.sequences.push(sequence);
        Ok(())
    }

    fn create_synonym(
        &mut self,
        cursor: &mut Cursor,
        public: bool,
        location: SourceLocation,
    ) -> Result<(), ParseError> {
        let name = cursor.qualified_name()?;
        cursor.expect_kw("FOR")?;
        let target = cursor.qualified_name()?;
        // `FOR obj@dblink`
        cursor.take_until(|_| false);
        self.catalog.synonyms.push(Synonym {
            name,
            target,
            public,
            location: Some(location),
        });
        Ok(())
    }

    /// Procedural code is kept whole and reported: it is never silently dropped.
    pub(super) fn routine(
        &mut self,
        cursor: &mut Cursor,
        kind: RoutineKind,
        name: Option<QualifiedName>,
        location: SourceLocation,
    ) {
        let text = {
            let end = cursor.position();
            cursor.set_position(0);
            let all = cursor.rest_text();
            cursor.set_position(end);
            all
        };
        cursor.take_until(|_| false);
        // Its finding depends on the target, not known while scripts are read: the emitter
        // adds it (`routine_findings`).
        self.catalog.routines.push(Routine {
            name,
            kind,
            text,
            location: Some(location),
        });
    }

    /// `COMMENT ON TABLE t IS '...'`, `COMMENT ON COLUMN t.c IS '...'`.
    pub(super) fn comment_on(&mut self, cursor: &mut Cursor) -> Result<(), ParseError> {
        let location = cursor.statement_location();
        cursor.expect_kw("COMMENT")?;
        cursor.expect_kw("ON")?;
        let is_column = cursor.eat_kw("COLUMN");
        if !(is_column
            || cursor.eat_kw("TABLE")
            || cursor.eat_kws(&["MATERIALIZED", "VIEW"])
            || cursor.eat_kw("VIEW"))
        {
            // A schema, extension, index, function...: the model has no comment for it.
            self.skip(
                "COMMENT on an object other than a table or column",
                location,
            );
            return Ok(());
        }
        let mut parts = vec![cursor.ident()?];
        while cursor.eat(&Token::Period) {
            parts.push(cursor.ident()?);
        }
        cursor.expect_kw("IS")?;
        let text = if cursor.eat_kw("NULL") {
            None
        } else {
            Some(cursor.string()?)
        };
        let column = if is_column { parts.pop() } else { None };
        let Some(table_name) = parts.pop() else {
            return Err(cursor.error("expected table.column", "name the column as table.column"));
        };
        let name = QualifiedName::new(parts.pop(), table_name);
        let Some(table) = self.table_mut(&name) else {
            // Comments on views and on tables of other scripts have nowhere to go.
            self.skip("COMMENT on an object not defined here", location);
            return Ok(());
        };
        match column {
            Some(column) => match table.column_mut(&column) {
                Some(column) => column.comment = text,
                None => {
                    let object = format!("{name}.{column}");
                    self.finding(
                        Severity::Warning,
                        "comment.unknown-column",
                        object,
                        "COMMENT ON a column that the table does not have",
                        "check the column name",
                        Some(location),
                    );
                }
            },
            None => table.comment = text,
        }
        Ok(())
    }
}

/// Index columns as written: plain names stay names, expressions keep their text.
pub(super) fn index_columns(cursor: &Cursor, range: TokenRange) -> Vec<String> {
    key_parts(cursor, range)
        .into_iter()
        .map(|part| cursor.text(part))
        .collect()
}

/// The comma-separated parts of an index's key list (the inside of its parentheses).
pub(super) fn key_parts(cursor: &Cursor, range: TokenRange) -> Vec<TokenRange> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = range.start;
    for index in range.start..range.end {
        match cursor.token_at(index) {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                parts.push(TokenRange { start, end: index });
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(TokenRange {
        start,
        end: range.end,
    });
    parts
}

/// Puts each view after the views it reads, keeping the scripts' order otherwise. Dumps rely on
/// placeholders for that (mysqldump writes every view first as `SELECT 1 AS col` and the real
/// one later, in name order); the placeholders are dropped, so the order must come from the
/// queries. A query that can't be read keeps its place; a cycle is left as written.
pub(super) fn order_views(views: Vec<View>, dialect: SourceDialect) -> Vec<View> {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (position, view) in views.iter().enumerate() {
        by_name
            .entry(view.name.name.value.to_lowercase())
            .or_default()
            .push(position);
    }
    // Parsing every query (again: the emitter parses them too) cost a third of the time of a
    // script of views over tables; only a query with a view's name among its words can read one.
    let names: HashSet<&str> = by_name.keys().map(String::as_str).collect();
    let words_suffice = names.iter().all(|name| name.chars().all(identifier_char));
    let reads: Vec<Vec<usize>> = views
        .iter()
        .map(|view| {
            if words_suffice && !may_name(&view.query, &names) {
                return Vec::new();
            }
            let relations =
                migrate_sqlrewrite::query_relations(&view.query, dialect).unwrap_or_default();
            let mut read: Vec<usize> = relations
                .iter()
                .filter_map(|relation| relation_name(relation, dialect))
                .flat_map(|name| {
                    let candidates = by_name
                        .get(&name.name.value.to_lowercase())
                        .map_or(&[][..], Vec::as_slice);
                    candidates
                        .iter()
                        .copied()
                        .filter(|&position| views[position].name.matches(&name))
                        .collect::<Vec<_>>()
                })
                .collect();
            read.sort_unstable();
            read.dedup();
            read
        })
        .collect();
    if reads
        .iter()
        .enumerate()
        .all(|(position, read)| read.iter().all(|&r| r <= position))
    {
        return views;
    }
    // Depth first, without recursion (a dump may chain many views); a view already being
    // visited is a cycle, which keeps the order it was met in.
    let mut done = vec![false; views.len()];
    let mut visiting = vec![false; views.len()];
    let mut order = Vec::with_capacity(views.len());
    for root in 0..views.len() {
        let mut stack = vec![(root, 0)];
        while let Some(&(view, next)) = stack.last() {
            if done[view] {
                stack.pop();
                continue;
            }
            visiting[view] = true;
            match reads[view].get(next) {
                Some(&read) => {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    if !done[read] && !visiting[read] {
                        stack.push((read, 0));
                    }
                }
                None => {
                    done[view] = true;
                    order.push(view);
                    stack.pop();
                }
            }
        }
    }
    let mut slots: Vec<Option<View>> = views.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|position| slots[position].take())
        .collect()
}

fn identifier_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | '#')
}

/// Whether `query` has one of `names` (lower case) among its words, or spells names in a way
/// words don't show (PostgreSQL's `U&"\0061"`).
fn may_name(query: &str, names: &HashSet<&str>) -> bool {
    let lower = query.to_lowercase();
    lower.contains("u&")
        || lower
            .split(|c: char| !identifier_char(c))
            .any(|word| names.contains(word))
}

/// The last two parts of a name a query reads, as the source names them.
fn relation_name(
    name: &sqlparser::ast::ObjectName,
    dialect: SourceDialect,
) -> Option<QualifiedName> {
    let mut parts = name.0.iter().rev().map(|part| {
        part.as_ident()
            .map(|ident| source_ident(ident.value.clone(), ident.quote_style, dialect))
    });
    let last = parts.next()??;
    let schema = parts.next().flatten();
    Some(QualifiedName::new(schema, last))
}

/// The schema of the table a trigger is `ON` (`CREATE TRIGGER t BEFORE INSERT ON s.tab`): a
/// PostgreSQL or MySQL trigger, named without a schema, belongs to its table's. The cursor is
/// left where it was.
fn trigger_table_schema(cursor: &mut Cursor) -> Option<Ident> {
    let start = cursor.position();
    while !cursor.at_end() && !cursor.is_kw("ON") {
        cursor.advance();
    }
    let schema = match cursor.eat_kw("ON") {
        true => cursor.qualified_name().ok().and_then(|table| table.schema),
        false => None,
    };
    cursor.set_position(start);
    schema
}

/// The finding of each procedural object of `catalog` (procedures, functions, packages,
/// triggers, object types, events, anonymous blocks, SQL*Plus EXEC calls), in the catalog's
/// order, with the fix `to` allows: PostgreSQL has triggers and PL/pgSQL functions, Redshift no
/// triggers. The one place these findings are made, for scripts and live sources alike: the
/// script reader only records the objects, since the target is not known while it reads, and
/// [`crate::emit_with`] reports them first.
pub(crate) fn routine_findings(
    catalog: &Catalog,
    from: SourceDialect,
    to: TargetDialect,
) -> Vec<Finding> {
    catalog
        .routines
        .iter()
        .map(|routine| routine_finding(routine, from, to))
        .collect()
}

fn routine_finding(routine: &Routine, from: SourceDialect, to: TargetDialect) -> Finding {
    let kind = routine.kind;
    // A SQL*Plus `EXEC proc(...)` line is recorded as an anonymous block.
    let exec =
        kind == RoutineKind::AnonymousBlock
            && routine.name.is_none()
            && routine.text.split_whitespace().next().is_some_and(|word| {
                ["EXEC", "EXECUTE"].contains(&word.to_ascii_uppercase().as_str())
            });
    let what = if exec { "EXEC" } else { kind.as_str() };
    let object = match (&routine.name, &routine.location) {
        (Some(name), _) => format!("{what} {name}"),
        (None, Some(location)) => format!("{what} at line {}", location.line),
        (None, None) => what.to_string(),
    };
    let postgres = to == TargetDialect::Postgres;
    let (code, action) = match (from, kind) {
        _ if exec => (
            "plsql.not-converted",
            "run the equivalent call in the target by hand, if still needed",
        ),
        (SourceDialect::Oracle, RoutineKind::Type | RoutineKind::TypeBody) if postgres => (
            "object.type",
            "columns of this type become JSONB (a PostgreSQL composite type has no methods); its methods must be rewritten as functions or in the application",
        ),
        (SourceDialect::Oracle, RoutineKind::Type | RoutineKind::TypeBody) => (
            "object.type",
            "the target has no object types: columns of this type become SUPER (JSON); its methods must be rewritten as functions or in the application",
        ),
        (_, RoutineKind::Trigger) if postgres => (
            "routine.trigger",
            "rewrite it as a PL/pgSQL trigger function and CREATE TRIGGER; create it only once `migrate replicate --cdc` no longer applies changes to the table (the captured changes carry the rows the source's trigger wrote)",
        ),
        (_, RoutineKind::Trigger) => (
            "routine.trigger",
            "the target has no triggers: move the logic into the loading process or a scheduled procedure",
        ),
        (SourceDialect::Oracle, _) if postgres => (
            "plsql.not-converted",
            "rewrite it as a PL/pgSQL function or procedure, or move the logic to the application; `migrate assess` sizes the work",
        ),
        (SourceDialect::Oracle, _) => (
            "plsql.not-converted",
            "rewrite it as a Redshift stored procedure (PL/pgSQL) or move the logic to the application; `migrate assess` sizes the work",
        ),
        _ if postgres => (
            "routine.not-converted",
            "rewrite it as a PL/pgSQL or SQL function or procedure; `migrate assess` sizes the work",
        ),
        _ => (
            "routine.not-converted",
            "rewrite it as a Redshift stored procedure or UDF; `migrate assess` sizes the work",
        ),
    };
    let lines = routine.text.lines().count();
    let message = match kind {
        _ if exec => format!(
            "SQL*Plus EXEC runs PL/SQL (`{}`): not converted",
            routine.text
        ),
        RoutineKind::Type | RoutineKind::TypeBody => {
            format!("{} ({lines} lines) is not converted", kind.as_str())
        }
        _ => format!(
            "{} ({lines} lines) is procedural code and is not converted",
            kind.as_str()
        ),
    };
    Finding::new(Severity::Action, code, object, message, action).at(routine.location.clone())
}
