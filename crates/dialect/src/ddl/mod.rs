//! The DDL front ends: statements of a script -> [`Catalog`].
//!
//! One grammar is shared by the four source dialects (tables, columns, constraints, indexes, views,
//! sequences, comments); what only one dialect has lives in its own module (Oracle physical
//! clauses and partitioning, Hive storage clauses, MySQL table options, PostgreSQL domains).
//! A statement that can't be read becomes a finding with file:line:column; reading goes on.

mod alter;
mod column;
mod hive;
mod mysql;
mod objects;
mod oracle;
mod partition;
mod postgres;
mod sequence;
mod table;

pub use column::column_default;
pub(crate) use objects::routine_findings;
pub use postgres::exclusion_constraint_finding;

use crate::cursor::{Cursor, ParseError};
use crate::script::{self, RawStatement, ScriptItem};
use crate::typemap::{TypeMaps, TypeRef};
use migrate_core::{
    Catalog, ColumnDefault, Finding, Ident, LogicalType, QualifiedName, Severity, SourceDialect,
    SourceLocation,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Why a whole input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}: {encoding} text, not UTF-8; convert the file to UTF-8 first (e.g. `iconv -f {encoding} -t UTF-8`)")]
    Utf16 {
        file: String,
        encoding: &'static str,
    },
    #[error("{file}: not a text file (NUL byte at offset {offset}); pass SQL scripts only")]
    Binary { file: String, offset: usize },
    #[error("{file}:{line}:{column}: not valid UTF-8 text; convert the file to UTF-8 first (e.g. `iconv -f LATIN1 -t UTF-8`)")]
    NotUtf8 {
        file: String,
        line: usize,
        column: usize,
    },
}

impl migrate_core::ErrorClass for InputError {
    fn retry(&self) -> migrate_core::Retry {
        migrate_core::Retry::Definite
    }
}

/// What a column declared with a PostgreSQL domain gets from it, besides the type.
#[derive(Debug, Clone, Default)]
struct DomainColumn {
    /// The domain's name, as written.
    name: String,
    /// Its key in the reader's maps (`SCHEMA.NAME`).
    key: String,
    not_null: bool,
    default: Option<ColumnDefault>,
    /// Its COLLATE, as written.
    collation: Option<String>,
    /// Its CHECKs (on `VALUE`), with those of the domains it is over.
    checks: Vec<migrate_core::Constraint>,
    /// The keys of the domains it is over, for an ALTER DOMAIN of one of them.
    over: Vec<String>,
    /// The columns of it (`table.column`) read so far: an ALTER DOMAIN's CHECK misses them.
    columns: Vec<String>,
    /// The domain its elements are, for a domain over an array of one (`positions AS pos[]`):
    /// its rules apply to each element.
    element: Option<Box<DomainColumn>>,
}

/// Reads DDL scripts of one dialect into a catalog, file after file, so that later files can
/// refer to objects of earlier ones (ALTER TABLE, COMMENT ON, CREATE TABLE ... LIKE).
pub struct DdlReader {
    dialect: SourceDialect,
    maps: &'static TypeMaps,
    catalog: Catalog,
    /// PostgreSQL domains and enums, by upper-case `SCHEMA.NAME`: they resolve to a base type.
    user_types: HashMap<String, TypeRef>,
    /// PostgreSQL domains' NOT NULL and DEFAULT, by upper-case `SCHEMA.NAME`, for the columns
    /// of them.
    domain_columns: HashMap<String, DomainColumn>,
    /// The schemas of the script's last `SET search_path` (upper case), to find the domains
    /// and enums that unqualified names refer to; `None` before any.
    search_path: Option<Vec<String>>,
    /// Sequences of identity columns (PostgreSQL `SEQUENCE NAME s`), with the table and column,
    /// so that pg_dump's `setval` of the sequence seeds the identity.
    identity_sequences: Vec<(QualifiedName, QualifiedName, Ident)>,
    /// Source types already mapped, with their result.
    mapped_types: HashMap<TypeRef, Result<crate::Mapped<LogicalType>, crate::MapError>>,
    /// Finds tables of `catalog` by name (ALTER, COMMENT ON, LIKE and redefinitions look them up).
    table_index: migrate_core::TableIndex,
    /// Statements skipped on purpose, counted per file and kind: one finding each, not thousands.
    skipped: BTreeMap<(Arc<str>, &'static str), (usize, SourceLocation)>,
    /// Positions in `catalog.tables` of tables that pg_dump attached to a partitioned table
    /// (`ALTER TABLE parent ATTACH PARTITION child`): left out of the catalog by [`Self::finish`].
    attached_partitions: BTreeSet<usize>,
    /// The character set and collation of the MySQL table whose columns are being read; the
    /// default (none) outside CREATE TABLE.
    table_charset: mysql::TableCharset,
    /// What the file being read holds so far.
    file: FileTally,
}

/// What one file holds, for the findings about the file as a whole ([`DdlReader::file_findings`]).
#[derive(Default)]
struct FileTally {
    /// Statements read into the model: neither skipped nor unreadable.
    read: usize,
    /// Statements that could not be read (each has its finding).
    unreadable: usize,
    /// Statements and client commands skipped on purpose.
    skipped: usize,
    /// Columns whose type was looked up in the dialect's map.
    typed_columns: usize,
    /// The type names the map does not know, with the number of columns of each.
    unknown_types: BTreeMap<String, usize>,
}

impl DdlReader {
    pub fn new(dialect: SourceDialect) -> DdlReader {
        DdlReader {
            dialect,
            maps: TypeMaps::builtin(),
            catalog: Catalog::default(),
            user_types: HashMap::new(),
            identity_sequences: Vec::new(),
            domain_columns: HashMap::new(),
            search_path: None,
            mapped_types: HashMap::new(),
            table_index: migrate_core::TableIndex::default(),
            skipped: BTreeMap::new(),
            attached_partitions: BTreeSet::new(),
            table_charset: mysql::TableCharset::default(),
            file: FileTally::default(),
        }
    }

    /// Reads a file's bytes, rejecting binary and non-UTF-8 input with its position.
    pub fn read_bytes(&mut self, file: &str, bytes: &[u8]) -> Result<(), InputError> {
        if let Some(encoding) = utf16_encoding(bytes) {
            return Err(InputError::Utf16 {
                file: file.to_string(),
                encoding,
            });
        }
        if let Some(offset) = bytes.iter().position(|b| *b == 0) {
            return Err(InputError::Binary {
                file: file.to_string(),
                offset,
            });
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                self.read(file, text);
                Ok(())
            }
            Err(e) => {
                let valid = &bytes[..e.valid_up_to()];
                let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                let column = String::from_utf8_lossy(&valid[line_start..])
                    .chars()
                    .count()
                    + 1;
                Err(InputError::NotUtf8 {
                    file: file.to_string(),
                    line,
                    column,
                })
            }
        }
    }

    /// Reads one script.
    pub fn read(&mut self, file: &str, source: &str) {
        let file: Arc<str> = Arc::from(file);
        let source = without_bom(source);
        let dialect = self.dialect;
        let first_finding = self.catalog.findings.len();
        // Splitting and tokenizing don't depend on what was read before: they run on a second
        // thread, a bounded number of statements ahead of the parser, which keeps their order.
        std::thread::scope(|scope| {
            let (ahead, statements) = std::sync::mpsc::sync_channel(STATEMENTS_AHEAD);
            scope.spawn(move || {
                for item in script::split(source, dialect) {
                    let tokens = match &item {
                        ScriptItem::Statement(statement) if statement.unterminated.is_none() => {
                            Some(crate::cursor::tokenize(&statement.text, dialect))
                        }
                        _ => None,
                    };
                    if ahead.send((item, tokens)).is_err() {
                        return;
                    }
                }
            });
            for (item, tokens) in statements {
                match item {
                    ScriptItem::Statement(statement) => self.statement(&statement, tokens, &file),
                    ScriptItem::ClientCommand(command) => self.client_command(&command, &file),
                }
            }
        });
        let tally = std::mem::take(&mut self.file);
        self.file_findings(&file, &tally, first_finding);
    }

    /// The findings about a file as a whole, once it is read: nothing of it was read into the
    /// model (the wrong file, or an empty one), or most of its column types are unknown to the
    /// dialect and known to another one (the wrong `--from`). The latter goes before the file's
    /// findings: it explains their `type.unknown`s.
    fn file_findings(&mut self, file: &Arc<str>, tally: &FileTally, first_finding: usize) {
        if tally.read == 0 && tally.unreadable == 0 {
            let held = if tally.skipped == 0 {
                "holds no SQL statement (it is empty, or only comments)"
            } else {
                "holds only statements that are not converted (data, grants, queries, session or client commands)"
            };
            self.finding(
                Severity::Warning,
                "script.no-statements",
                file.to_string(),
                format!("{held}: nothing was converted from it"),
                "check that this is the script you meant to pass: DDL such as CREATE TABLE and CREATE VIEW",
                None,
            );
        }
        let unknown: usize = tally.unknown_types.values().sum();
        if unknown * 2 <= tally.typed_columns {
            return;
        }
        // The dialect that knows most of the unknown types' columns, if it knows most of them.
        let known_to = |dialect: SourceDialect| -> Vec<(&str, usize)> {
            let map = self.maps.source(dialect);
            tally
                .unknown_types
                .iter()
                .filter(|(name, _)| map.knows(name))
                .map(|(name, columns)| (name.as_str(), *columns))
                .collect()
        };
        let columns = |types: &[(&str, usize)]| types.iter().map(|(_, n)| n).sum::<usize>();
        let Some((other, mut types)) = SourceDialect::ALL
            .into_iter()
            .filter(|dialect| *dialect != self.dialect)
            .map(|dialect| (dialect, known_to(dialect)))
            .max_by_key(|(_, types)| columns(types))
            .filter(|(_, types)| columns(types) * 2 > unknown)
        else {
            return;
        };
        let known = columns(&types);
        types.sort_by_key(|(_, columns)| std::cmp::Reverse(*columns));
        let names: Vec<&str> = types.iter().take(5).map(|(name, _)| *name).collect();
        let (from, other) = (self.dialect.name(), other.name());
        let finding = Finding::new(
            Severity::Action,
            "script.other-dialect",
            file.to_string(),
            format!(
                "read as {from} (--from {from}), but {unknown} of its {} column types are not {from} types, and {known} are {other} types ({}): the file may be {other} DDL",
                tally.typed_columns,
                names.join(", ")
            ),
            format!("if it is, read it with --from {other}; the type.unknown findings of this file come from reading it as {from}"),
        );
        self.catalog.findings.insert(first_finding, finding);
    }

    /// The catalog read so far, with a finding for each kind of skipped statement.
    pub fn finish(mut self) -> Catalog {
        if !self.attached_partitions.is_empty() {
            let mut position = 0;
            self.catalog.tables.retain(|_| {
                position += 1;
                !self.attached_partitions.contains(&(position - 1))
            });
        }
        if self.dialect == SourceDialect::Mysql {
            self.json_valid_columns();
        }
        let views = std::mem::take(&mut self.catalog.views);
        self.catalog.views = objects::order_views(views, self.dialect);
        for ((_, kind), (count, location)) in std::mem::take(&mut self.skipped) {
            let (severity, why, action) = skip_reason(kind);
            let message = if count == 1 {
                format!("1 {kind} statement skipped: {why}")
            } else {
                format!("{count} {kind} statements skipped (first here): {why}")
            };
            self.catalog.findings.push(
                Finding::new(
                    severity,
                    "statement.skipped",
                    location.file.to_string(),
                    message,
                    action,
                )
                .at(Some(location)),
            );
        }
        self.catalog
    }

    fn client_command(&mut self, command: &script::ClientCommand, file: &Arc<str>) {
        let location = SourceLocation {
            file: file.clone(),
            line: command.line,
            column: 1,
        };
        let first = command
            .text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if matches!(first.as_str(), "EXEC" | "EXECUTE") {
            // Reported with the other procedural code, by `routine_findings`.
            self.catalog.routines.push(migrate_core::Routine {
                name: None,
                kind: migrate_core::RoutineKind::AnonymousBlock,
                text: command.text.clone(),
                location: Some(location),
            });
        } else if command.text.starts_with('@') || matches!(first.as_str(), "START" | "STA") {
            // A master script that includes others converts to nothing unless they are passed too.
            let included = command.text.trim_start_matches('@').trim_start_matches('@');
            let included = match first.as_str() {
                "START" | "STA" => command.text.split_whitespace().nth(1).unwrap_or(""),
                _ => included.split_whitespace().next().unwrap_or(""),
            };
            self.finding(
                Severity::Warning,
                "sqlplus.include",
                format!("line {}", command.line),
                format!("runs another script, `{included}`, which is not read"),
                format!(
                    "pass {included} on the command line, in the order the master script runs it"
                ),
                Some(location),
            );
        } else {
            self.skip("client command", location);
        }
    }

    fn skip(&mut self, kind: &'static str, location: SourceLocation) {
        self.file.skipped += 1;
        self.skipped
            .entry((location.file.clone(), kind))
            .and_modify(|(count, _)| *count += 1)
            .or_insert((1, location));
    }

    pub(crate) fn finding(
        &mut self,
        severity: Severity,
        code: &str,
        object: impl Into<String>,
        message: impl Into<String>,
        action: impl Into<String>,
        location: Option<SourceLocation>,
    ) {
        self.catalog
            .findings
            .push(Finding::new(severity, code, object, message, action).at(location));
    }

    fn statement(
        &mut self,
        statement: &RawStatement,
        tokens: Option<crate::cursor::Tokens>,
        file: &Arc<str>,
    ) {
        if let Some(open) = &statement.unterminated {
            let location = SourceLocation {
                file: file.clone(),
                line: open.line,
                column: open.column,
            };
            self.finding(
                Severity::Action,
                "input.unterminated",
                // A statement that is only an open comment starts where the comment does.
                format!("statement at line {}", statement.line.min(open.line)),
                format!("the {} opened here is never closed, so the rest of the file is one unreadable statement", open.what),
                format!("close the {} or check that the file is complete", open.what),
                Some(location),
            );
            self.file.unreadable += 1;
            return;
        }
        if !statement.substitutions.is_empty() {
            let names: Vec<String> = statement
                .substitutions
                .iter()
                .map(|n| format!("&{n}"))
                .collect();
            self.finding(
                Severity::Warning,
                "sqlplus.substitution",
                format!("statement at line {}", statement.line),
                format!("SQL*Plus substitution variable(s) {} were read as their bare names", names.join(", ")),
                "replace them with their values before converting, so that names and storage clauses are right",
                Some(SourceLocation { file: file.clone(), line: statement.line, column: statement.column }),
            );
        }
        if statement.inline_data {
            let location = SourceLocation {
                file: file.clone(),
                line: statement.line,
                column: statement.column,
            };
            self.skip(TABLE_DATA, location);
            return;
        }
        let tokens =
            tokens.unwrap_or_else(|| crate::cursor::tokenize(&statement.text, self.dialect));
        let mut cursor = match Cursor::with_tokens(statement, tokens, self.dialect, file) {
            Ok(cursor) => cursor,
            Err(error) => return self.syntax_error(error, statement),
        };
        if cursor.at_end() {
            return;
        }
        // What a statement that fails half-way found (a column's type finding) is about objects
        // that are not converted: only the syntax error is reported.
        let findings = self.catalog.findings.len();
        let skipped = self.file.skipped;
        match self.dispatch(&mut cursor) {
            Ok(()) if self.file.skipped == skipped => self.file.read += 1,
            Ok(()) => {}
            Err(error) => {
                self.catalog.findings.truncate(findings);
                self.syntax_error(error, statement);
            }
        }
    }

    fn syntax_error(&mut self, error: ParseError, statement: &RawStatement) {
        self.file.unreadable += 1;
        let head: String = statement
            .text
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        self.finding(
            Severity::Action,
            "parse.syntax-error",
            format!("`{head}` (line {})", statement.line),
            format!("could not read this statement: {}", error.message),
            format!("{}; the statement was not converted", error.hint),
            Some(error.location),
        );
    }

    fn dispatch(&mut self, cursor: &mut Cursor) -> Result<(), ParseError> {
        let location = cursor.statement_location();
        let Some(first) = cursor.word_at(0) else {
            return Err(cursor.error("expected a statement", "check the statement syntax"));
        };
        match first.as_str() {
            "CREATE" => self.create(cursor, location),
            "ALTER" => self.alter(cursor, location),
            "COMMENT" => self.comment_on(cursor),
            "DECLARE" | "BEGIN" => {
                self.routine(
                    cursor,
                    migrate_core::RoutineKind::AnonymousBlock,
                    None,
                    location,
                );
                Ok(())
            }
            "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "LOAD" | "COPY" | "UPSERT" | "REPLACE" => {
                self.skip("data (DML)", location);
                Ok(())
            }
            "DROP" => self.drop(cursor, location),
            "TRUNCATE" | "PURGE" | "RENAME" | "FLASHBACK" => {
                self.skip("DROP/TRUNCATE", location);
                Ok(())
            }
            "GRANT" | "REVOKE" => {
                self.skip("GRANT/REVOKE", location);
                Ok(())
            }
            "SELECT" | "DO"
                if matches!(
                    (first.as_str(), self.dialect),
                    ("SELECT", SourceDialect::Postgres) | ("DO", SourceDialect::Mysql)
                ) =>
            {
                if !self.setval(cursor) {
                    self.skip("query or maintenance", location);
                }
                Ok(())
            }
            "SELECT" | "WITH" | "CALL" | "EXEC" | "EXECUTE" | "ANALYZE" | "MSCK" | "SHOW"
            | "DESCRIBE" | "DESC" | "EXPLAIN" | "VACUUM" | "REINDEX" | "CLUSTER" | "CHECKPOINT"
            | "LOCK" | "UNLOCK" | "REFRESH" | "OPTIMIZE" => {
                self.skip("query or maintenance", location);
                Ok(())
            }
            "SET" if self.dialect == SourceDialect::Postgres && self.set_search_path(cursor) => {
                Ok(())
            }
            "SET" | "USE" | "COMMIT" | "ROLLBACK" | "START" | "SAVEPOINT" | "RESET" | "CONNECT"
            | "\\CONNECT" | "SELECT_SET" | "ADD" | "SOURCE" | "DELIMITER" | "END" => {
                self.skip("session or transaction", location);
                Ok(())
            }
            _ => Err(cursor.error(
                "unrecognised statement",
                "only DDL is converted; remove the statement or convert it by hand",
            )),
        }
    }

    /// pg_dump's `SELECT pg_catalog.setval('seq', n, is_called)` and mariadb-dump's
    /// `DO SETVAL(seq, n, is_used)`: where the sequence stands, so that the sequence and identity
    /// columns seeded from it continue after the migrated keys. Returns false when the statement
    /// is another SELECT or DO.
    fn setval(&mut self, cursor: &mut Cursor) -> bool {
        let _ = cursor.eat_kw("SELECT") || cursor.eat_kw("DO");
        if cursor.is_kw("PG_CATALOG") && cursor.peek_at(1) == &sqlparser::tokenizer::Token::Period {
            cursor.advance();
            cursor.advance();
        }
        if !cursor.eat_kw("SETVAL") || !cursor.eat(&sqlparser::tokenizer::Token::LParen) {
            return false;
        }
        // PostgreSQL names the sequence in a string, MariaDB with a name.
        let sequence_name = match cursor.peek() {
            sqlparser::tokenizer::Token::SingleQuotedString(_) => cursor
                .string()
                .ok()
                .and_then(|name| column::split_qualified(&name, self.dialect)),
            _ => cursor.qualified_name().ok(),
        };
        let (Some(sequence_name), true) = (
            sequence_name,
            cursor.eat(&sqlparser::tokenizer::Token::Comma),
        ) else {
            return false;
        };
        let Ok(value) = cursor.number() else {
            return false;
        };
        let is_called = !(cursor.eat(&sqlparser::tokenizer::Token::Comma)
            && (cursor.eat_kw("FALSE") || cursor.number().is_ok_and(|n| n == 0)));
        let next = |increment: i64| match is_called {
            true => value.saturating_add(increment),
            false => value,
        };
        if let Some(sequence) = self
            .catalog
            .sequences
            .iter_mut()
            .find(|s| s.name.matches(&sequence_name))
        {
            sequence.start = next(sequence.increment);
        } else if let Some((_, table, column)) = self
            .identity_sequences
            .iter()
            .find(|(sequence, _, _)| sequence.matches(&sequence_name))
            .cloned()
        {
            let identity = self
                .table_mut(&table)
                .and_then(|table| table.column_mut(&column))
                .and_then(|column| column.identity.as_mut());
            if let Some(identity) = identity {
                identity.start = next(identity.increment);
            }
        }
        true
    }

    /// Maps a parsed type to canonical, resolving user-defined types first. An unknown type
    /// becomes unbounded text with an action finding, so that the table still converts.
    pub(crate) fn map_type(
        &mut self,
        ty: &TypeRef,
        object: &str,
        location: &SourceLocation,
    ) -> LogicalType {
        let resolved;
        let ty = match self.user_types.get(&ty.name) {
            Some(base) => {
                resolved = TypeRef {
                    array_dims: base.array_dims + ty.array_dims,
                    ..base.clone()
                };
                &resolved
            }
            None => ty,
        };
        self.file.typed_columns += 1;
        // Scripts repeat a few types thousands of times: map each distinct one once.
        let mapped = match self.mapped_types.get(ty) {
            Some(cached) => cached.clone(),
            None => {
                let mapped = self.maps.source(self.dialect).map_source(ty);
                self.mapped_types.insert(ty.clone(), mapped.clone());
                mapped
            }
        };
        match mapped {
            Ok(mapped) => {
                for note in mapped.notes {
                    self.finding(
                        note.severity,
                        &note.code,
                        object,
                        note.message,
                        note.action,
                        Some(location.clone()),
                    );
                }
                mapped.value
            }
            Err(crate::MapError::UnknownType(name)) if self.is_object_type(&ty.name) => {
                self.finding(
                    Severity::Warning,
                    "type.object-type",
                    object,
                    format!("column of object type {name}: stored as semi-structured JSON (SUPER in Redshift)"),
                    "extract the attributes into JSON when loading, or model them as separate columns",
                    Some(location.clone()),
                );
                LogicalType::Json
            }
            Err(error @ crate::MapError::Invalid { .. }) => {
                self.finding(
                    Severity::Action,
                    "type.invalid",
                    object,
                    format!("{error}: the column is emitted as unbounded text"),
                    "fix the type in the source DDL",
                    Some(location.clone()),
                );
                LogicalType::Text
            }
            Err(error) => {
                *self.file.unknown_types.entry(ty.name.clone()).or_default() += 1;
                self.finding(
                    Severity::Action,
                    "type.unknown",
                    object,
                    format!("{error}: the column is emitted as unbounded text"),
                    "choose the target type by hand; if it is a user-defined type, convert it to columns or to SUPER",
                    Some(location.clone()),
                );
                LogicalType::Text
            }
        }
    }

    /// True when an object type of that name was declared earlier (`CREATE TYPE ... AS OBJECT`).
    fn is_object_type(&self, name: &str) -> bool {
        let name = name.rsplit('.').next().unwrap_or(name);
        self.catalog.routines.iter().any(|r| {
            r.kind == migrate_core::RoutineKind::Type
                && r.name
                    .as_ref()
                    .is_some_and(|n| n.name.value.eq_ignore_ascii_case(name))
        })
    }

    /// Registers a table, replacing an earlier definition of the same name (with a finding).
    pub(crate) fn add_table(&mut self, table: migrate_core::Table) {
        let existing = self
            .table_index
            .find_all(&self.catalog.tables, &table.name)
            .find(|&position| self.catalog.tables[position].name == table.name);
        if let Some(index) = existing {
            let previous = self.catalog.tables[index].location.clone();
            self.finding(
                Severity::Warning,
                "table.redefined",
                table.name.to_string(),
                format!(
                    "table defined again; the earlier definition{} is replaced",
                    previous.map(|l| format!(" at {l}")).unwrap_or_default()
                ),
                "keep one definition per table in the scripts you convert",
                table.location.clone(),
            );
            self.catalog.tables[index] = table;
        } else {
            self.table_index
                .insert(&table.name, self.catalog.tables.len());
            self.catalog.tables.push(table);
        }
    }

    /// Removes a table defined earlier, with its indexes. Returns false when there is none.
    fn drop_table(&mut self, name: &QualifiedName) -> bool {
        let Some(position) = self.table_index.find(&self.catalog.tables, name) else {
            return false;
        };
        let table = self.catalog.tables.remove(position);
        self.catalog
            .indexes
            .retain(|index| !index.table.matches(&table.name));
        // Positions after the removed table move down by one.
        self.attached_partitions = self
            .attached_partitions
            .iter()
            .filter(|&&p| p != position)
            .map(|&p| if p > position { p - 1 } else { p })
            .collect();
        self.table_index = migrate_core::TableIndex::new(&self.catalog.tables);
        true
    }

    pub(crate) fn table(&self, name: &QualifiedName) -> Option<&migrate_core::Table> {
        let position = self.table_index.find(&self.catalog.tables, name)?;
        self.catalog.tables.get(position)
    }

    pub(crate) fn table_mut(&mut self, name: &QualifiedName) -> Option<&mut migrate_core::Table> {
        let position = self.table_index.find(&self.catalog.tables, name)?;
        self.catalog.tables.get_mut(position)
    }
}

/// The encoding to convert from when `bytes` are UTF-16 text, as Windows tools write it: `UTF-16`
/// after a byte order mark (iconv reads the order from it), else `UTF-16LE`/`UTF-16BE` for ASCII
/// text whose every other byte is NUL.
fn utf16_encoding(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Some("UTF-16");
    }
    let head = &bytes[..bytes.len().min(256) & !1];
    let nul_at = |parity: usize| {
        head.len() >= 4
            && head
                .iter()
                .enumerate()
                .all(|(i, b)| (i % 2 == parity) == (*b == 0))
    };
    if nul_at(1) {
        Some("UTF-16LE")
    } else if nul_at(0) {
        Some("UTF-16BE")
    } else {
        None
    }
}

/// `text` without the byte order mark that Windows editors (Notepad, SQL Developer) put at the
/// start of UTF-8 files: it is not part of the first statement.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// How many tokenized statements may wait for the parser (bounds the memory running ahead).
const STATEMENTS_AHEAD: usize = 256;

/// Reads one script of `dialect`: a convenience for tests and small inputs.
pub fn read_script(dialect: SourceDialect, file: &str, source: &str) -> Catalog {
    let mut reader = DdlReader::new(dialect);
    reader.read(file, source);
    reader.finish()
}

/// The kind of skipped statement of pg_dump's `COPY ... FROM stdin` and the rows after it.
const TABLE_DATA: &str = "table data (COPY ... FROM stdin, with its rows)";

/// The kind of skipped statement of Hive's `ALTER TABLE ... ADD PARTITION ... LOCATION ...`.
const HIVE_ADD_PARTITION: &str = "ALTER TABLE ... ADD PARTITION";

fn skip_reason(kind: &str) -> (Severity, &'static str, &'static str) {
    match kind {
        HIVE_ADD_PARTITION => (
            Severity::Info,
            "a partition's rows belong to the table in the target; the partition and its LOCATION are data, not schema",
            "none: load the partitions' rows into the table (`migrate catalog` registers partitions in Glue from the metastore)",
        ),
        TABLE_DATA => (
            Severity::Info,
            "table data in the dump is not converted: only the schema is; rows are moved by `migrate replicate`",
            "none: load the rows with `migrate replicate`",
        ),
        "data (DML)" => (
            Severity::Info,
            "rows are moved by `migrate replicate`, not by DDL conversion",
            "none",
        ),
        "GRANT/REVOKE" => (
            Severity::Warning,
            "privileges are not converted",
            "grant the equivalent privileges in the target",
        ),
        "client command" => (
            Severity::Info,
            "client (SQL*Plus / mysql / psql) commands have no effect on the schema",
            "none",
        ),
        _ => (Severity::Info, "not part of the schema definition", "none"),
    }
}
