//! MySQL's table options (`ENGINE=InnoDB AUTO_INCREMENT=17 DEFAULT CHARSET=utf8mb4 ...`) and
//! partitioning.

use super::objects::{index_columns, key_parts};
use super::table::TableClauses;
use super::DdlReader;
use crate::cursor::{Cursor, ParseError, TokenRange};
use crate::typemap::TypeRef;
use migrate_core::{
    ConstraintKind, Ident, Index, IndexKind, LogicalType, QualifiedName, Severity, SourceDialect,
    Table,
};
use sqlparser::tokenizer::Token;

/// Options with no meaning in the target: `NAME [=] value`.
const IGNORED_OPTIONS: &[&str] = &[
    "ENGINE",
    "TYPE",
    "ROW_FORMAT",
    "KEY_BLOCK_SIZE",
    "AVG_ROW_LENGTH",
    "CHECKSUM",
    "TABLE_CHECKSUM",
    "DELAY_KEY_WRITE",
    "MAX_ROWS",
    "MIN_ROWS",
    "PACK_KEYS",
    "STATS_PERSISTENT",
    "STATS_AUTO_RECALC",
    "STATS_SAMPLE_PAGES",
    "TABLESPACE",
    "INSERT_METHOD",
    "COMPRESSION",
    "ENCRYPTION",
    "PAGE_CHECKSUM",
    "TRANSACTIONAL",
    "CONNECTION",
    "PASSWORD",
    "AUTOEXTEND_SIZE",
    "SECONDARY_ENGINE",
    "PAGE_COMPRESSED",
    "PAGE_COMPRESSION_LEVEL",
    "IETF_QUOTES",
    "ENCRYPTION_KEY_ID",
    "ENCRYPTED",
    "SEQUENCE",
    "WITH",
    "START",
];

impl DdlReader {
    /// A MySQL index as a table element, in CREATE TABLE or after ALTER TABLE ... ADD: `KEY|INDEX
    /// [name] (parts)`, `FULLTEXT|SPATIAL [KEY|INDEX] [name] (parts)`, and `[CONSTRAINT [name]]
    /// UNIQUE [KEY|INDEX] [name] (parts)` when a part is not a plain column (an expression
    /// `(lower(email))` or a prefix `email(10)`): that is a unique index the target can't make a
    /// key of. Parts keep their text as written (`b DESC`). Reads nothing and returns false for
    /// any other element (a unique key of plain columns is a constraint).
    pub(super) fn mysql_index_element(
        &mut self,
        cursor: &mut Cursor,
        table: &Table,
    ) -> Result<bool, ParseError> {
        let start = cursor.position();
        let location = cursor.location();
        // `CONSTRAINT symbol UNIQUE (...)`: the symbol names the index when nothing else does.
        let mut symbol = None;
        let (kind, unique) = if cursor.is_any_kw(&["FULLTEXT", "SPATIAL"]) {
            let kind = if cursor.eat_kw("FULLTEXT") {
                IndexKind::FullText
            } else {
                cursor.advance();
                IndexKind::Spatial
            };
            let _ = cursor.eat_kw("KEY") || cursor.eat_kw("INDEX");
            (kind, false)
        } else if cursor.is_any_kw(&["KEY", "INDEX"]) {
            // `key` may also be a column name: `key varchar(10)`.
            let next_is_type = cursor
                .word_at(1)
                .is_some_and(|w| self.maps.source(self.dialect).knows(&w));
            if next_is_type {
                return Ok(false);
            }
            cursor.advance();
            (IndexKind::BTree, false)
        } else {
            if cursor.eat_kw("CONSTRAINT") && !cursor.is_kw("UNIQUE") {
                symbol = cursor.ident().ok();
            }
            if !cursor.eat_kw("UNIQUE") {
                cursor.set_position(start);
                return Ok(false);
            }
            let _ = cursor.eat_kw("KEY") || cursor.eat_kw("INDEX");
            (IndexKind::BTree, true)
        };
        let name = if cursor.is(&Token::LParen) {
            symbol
        } else {
            Some(cursor.ident()?)
        };
        let range = cursor.skip_parens()?;
        let columns: Vec<Option<Ident>> = key_parts(cursor, range)
            .into_iter()
            .map(|part| key_part_column(cursor, part))
            .collect();
        if unique && columns.iter().all(Option::is_some) {
            cursor.set_position(start);
            return Ok(false);
        }
        cursor.take_until(|c| c.is(&Token::Comma));
        // MySQL names an unnamed index after its first column, or `functional_index`.
        let name = name
            .or_else(|| columns.into_iter().next().flatten())
            .unwrap_or_else(|| Ident::new("functional_index"));
        self.catalog.indexes.push(Index {
            name: QualifiedName::new(table.name.schema.clone(), name),
            table: table.name.clone(),
            columns: index_columns(cursor, range),
            unique,
            kind,
            method: None,
            predicate: None,
            location: Some(location),
            options: Default::default(),
        });
        Ok(true)
    }

    pub(super) fn mysql_table_clauses(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
    ) -> Result<TableClauses, ParseError> {
        let mut clauses = TableClauses::default();
        while !cursor.at_end() {
            if cursor.eat(&Token::Comma) {
                continue;
            }
            if cursor.is_kw("AS") || cursor.is_kw("SELECT") {
                cursor.eat_kw("AS");
                clauses.as_select = true;
                break;
            }
            if cursor.eat_kws(&["PARTITION", "BY"]) {
                table.partitioning = Some(self.partition_by(cursor)?);
                continue;
            }
            if super::column::eat_system_versioning(cursor) {
                self.finding(
                    Severity::Info,
                    "table.system-versioned",
                    table.name.to_string(),
                    "the table is system-versioned (WITH SYSTEM VERSIONING): it becomes an ordinary table with the current rows; its history is not carried",
                    "Copy the history separately (SELECT ... FOR SYSTEM_TIME ALL) if it is needed.",
                    table.location.clone(),
                );
                continue;
            }
            cursor.eat_kw("DEFAULT");
            if cursor.eat_kw("AUTO_INCREMENT") {
                cursor.eat(&Token::Eq);
                clauses.auto_increment_start = Some(cursor.number()?);
            } else if cursor.eat_kw("COMMENT") {
                cursor.eat(&Token::Eq);
                table.comment = Some(cursor.string()?);
            } else if cursor.eat_kws(&["CHARACTER", "SET"])
                || cursor.eat_kw("CHARSET")
                || cursor.eat_kw("COLLATE")
            {
                // Read ahead of the columns, by [`table_charset`].
                charset_name(cursor);
            } else if cursor.eat_kws(&["DATA", "DIRECTORY"])
                || cursor.eat_kws(&["INDEX", "DIRECTORY"])
                || cursor.eat_kw("UNION")
            {
                cursor.eat(&Token::Eq);
                if cursor.is(&Token::LParen) {
                    cursor.skip_parens()?;
                } else {
                    cursor.advance();
                }
                clauses.dropped.push("DIRECTORY/UNION".into());
            } else if let Some(option) = IGNORED_OPTIONS.iter().find(|o| cursor.is_kw(o)) {
                cursor.advance();
                cursor.eat(&Token::Eq);
                cursor.advance();
                clauses.dropped.push(option.to_string());
            } else {
                return Err(cursor.error(
                    "unrecognised table option",
                    "remove the option or check its spelling",
                ));
            }
        }
        Ok(clauses)
    }

    /// MariaDB's JSON type is LONGTEXT with `CHECK (json_valid(col))`, and mariadb-dump writes it
    /// so: a character column with that CHECK becomes JSON, as MySQL's JSON type does, and the
    /// CHECK, which the type then implies, is dropped (no target has JSON_VALID in a CHECK).
    pub(super) fn json_valid_columns(&mut self) {
        let mut converted = Vec::new();
        for table in &mut self.catalog.tables {
            let columns = &table.columns;
            table.constraints.retain(|constraint| {
                let ConstraintKind::Check(condition) = &constraint.kind else {
                    return true;
                };
                let Some(column) = json_valid_argument(condition)
                    .and_then(|name| columns.iter().find(|c| c.name.matches(&name)))
                else {
                    return true;
                };
                match column.data_type {
                    LogicalType::Json => false,
                    LogicalType::Text | LogicalType::Varchar { .. } | LogicalType::Char { .. } => {
                        // Read from a script, every column has a place to name in findings.
                        let Some(location) = column.location.clone().or(table.location.clone())
                        else {
                            return true;
                        };
                        converted.push((table.name.clone(), column.name.clone(), location));
                        false
                    }
                    _ => true,
                }
            });
        }
        for (table, column, location) in converted {
            let object = format!("{table}.{}", column.value);
            let json = self.map_type(&TypeRef::named("JSON"), &object, &location);
            if let Some(target) = self.table_mut(&table).and_then(|t| t.column_mut(&column)) {
                target.data_type = json;
            }
            self.finding(
                Severity::Info,
                "type.json-check",
                object,
                "character column with CHECK (json_valid(...)), MariaDB's JSON type: it becomes JSON, which only holds valid documents, and the CHECK is dropped",
                "none",
                Some(location),
            );
        }
    }
}

/// The character set and collation a MySQL table's options give the columns that name neither
/// (`DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`, which mariadb-dump writes on every table).
#[derive(Debug, Default)]
pub(super) struct TableCharset {
    charset: Option<String>,
    collation: Option<String>,
}

impl TableCharset {
    /// The collation of a column of the table that names no collation, from the character set
    /// it names (`charset`) and its `BINARY` attribute (the `_bin` collation of its character
    /// set): `None` where that is a character set's default, which is not named here.
    pub(super) fn column_collation(&self, charset: Option<&str>, binary: bool) -> Option<String> {
        let charset = match charset {
            Some(charset) => charset,
            None if !binary => {
                return self
                    .collation
                    .clone()
                    .or_else(|| is_binary(self.charset.as_deref()).then(|| "binary".to_string()))
            }
            None => self.charset.as_deref()?,
        };
        if is_binary(Some(charset)) {
            Some("binary".to_string())
        } else {
            binary.then(|| format!("{charset}_bin"))
        }
    }
}

fn is_binary(charset: Option<&str>) -> bool {
    charset.is_some_and(|c| c.eq_ignore_ascii_case("binary"))
}

/// The table options' character set and collation, read ahead of the column list the cursor is
/// on (the columns that name neither take them), leaving the cursor where it was.
pub(super) fn table_charset(cursor: &mut Cursor) -> TableCharset {
    let start = cursor.position();
    let mut defaults = TableCharset::default();
    if cursor.skip_parens().is_ok() {
        while !cursor.at_end() && !cursor.is_any_kw(&["PARTITION", "AS", "SELECT"]) {
            if cursor.eat_kws(&["CHARACTER", "SET"]) || cursor.eat_kw("CHARSET") {
                defaults.charset = charset_name(cursor);
            } else if cursor.eat_kw("COLLATE") {
                defaults.collation = charset_name(cursor);
            } else {
                cursor.advance();
            }
        }
    }
    cursor.set_position(start);
    defaults
}

/// The name after MySQL's `CHARACTER SET` or `COLLATE`: `[=] name`, possibly quoted.
pub(super) fn charset_name(cursor: &mut Cursor) -> Option<String> {
    cursor.eat(&Token::Eq);
    match cursor.advance() {
        Token::Word(word) => Some(word.value),
        Token::SingleQuotedString(name) | Token::DoubleQuotedString(name) => Some(name),
        _ => None,
    }
}

/// The column a key part names when it is a plain column, `name [ASC | DESC]` (not a prefix
/// `name(10)`, not an expression).
fn key_part_column(cursor: &mut Cursor, part: TokenRange) -> Option<Ident> {
    let resume = cursor.position();
    cursor.set_position(part.start);
    let column = cursor.ident().ok();
    let _ = cursor.eat_kw("ASC") || cursor.eat_kw("DESC");
    let plain = cursor.position() == part.end;
    cursor.set_position(resume);
    column.filter(|_| plain)
}

/// `col` when `condition` is exactly `json_valid(col)`.
fn json_valid_argument(condition: &str) -> Option<Ident> {
    let tokens = crate::cursor::tokenize(condition, SourceDialect::Mysql).ok()?;
    match tokens
        .iter()
        .map(|t| &t.token)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [Token::Word(function), Token::LParen, Token::Word(column), Token::RParen]
            if function.quote_style.is_none()
                && function.value.eq_ignore_ascii_case("JSON_VALID") =>
        {
            Some(crate::cursor::source_ident(
                column.value.clone(),
                column.quote_style,
                SourceDialect::Mysql,
            ))
        }
        _ => None,
    }
}
