//! Oracle's clauses after the column list: physical attributes (dropped, and listed in one info
//! finding), organization (IOT, external), partitioning, LOB storage, temporary-table scope.

use super::table::TableClauses;
use super::DdlReader;
use crate::cursor::{Cursor, ParseError};
use migrate_core::{Table, TableKind};
use sqlparser::tokenizer::Token;

/// Clauses that only describe storage, with how many value tokens follow each keyword.
/// Parenthesised groups after any of them are skipped too.
const PHYSICAL: &[(&str, usize)] = &[
    ("TABLESPACE", 1),
    ("PCTFREE", 1),
    ("PCTUSED", 1),
    ("INITRANS", 1),
    ("MAXTRANS", 1),
    ("STORAGE", 0),
    ("LOGGING", 0),
    ("NOLOGGING", 0),
    ("FILESYSTEM_LIKE_LOGGING", 0),
    ("NOCOMPRESS", 0),
    ("CACHE", 0),
    ("NOCACHE", 0),
    ("PARALLEL", 0),
    ("NOPARALLEL", 0),
    ("MONITORING", 0),
    ("NOMONITORING", 0),
    ("ROWDEPENDENCIES", 0),
    ("NOROWDEPENDENCIES", 0),
    ("PCTTHRESHOLD", 1),
    ("OVERFLOW", 0),
    ("MAPPING", 1),
    ("INMEMORY", 0),
    ("NOINMEMORY", 0),
    ("RESULT_CACHE", 0),
    ("SHARING", 2),
    ("COLLATION", 1),
    ("ANNOTATIONS", 0),
    ("MEMOPTIMIZE", 3),
    ("PCTVERSION", 1),
    ("RETENTION", 0),
    ("ILM", 0),
];

impl DdlReader {
    pub(super) fn oracle_table_clauses(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
    ) -> Result<TableClauses, ParseError> {
        let mut clauses = TableClauses::default();
        while !cursor.at_end() {
            if cursor.is_kw("AS") {
                cursor.advance();
                clauses.as_select = true;
                return Ok(clauses);
            }
            if cursor.eat_kws(&["PARTITION", "BY"]) {
                table.partitioning = Some(self.partition_by(cursor)?);
                continue;
            }
            if cursor.eat_kw("ORGANIZATION") {
                if cursor.eat_kw("INDEX") {
                    table.kind = TableKind::IndexOrganized;
                } else if cursor.eat_kw("EXTERNAL") {
                    table.kind = TableKind::External;
                    cursor.skip_parens()?;
                    clauses
                        .dropped
                        .push("ORGANIZATION EXTERNAL (access parameters)".into());
                } else {
                    cursor.eat_kw("HEAP");
                }
                continue;
            }
            if cursor.eat_kws(&["ON", "COMMIT"]) {
                cursor.advance();
                cursor.eat_kw("ROWS");
                cursor.eat_kw("DEFINITION");
                continue;
            }
            if cursor.is_kw("LOB")
                || cursor.is_kw("VARRAY")
                || cursor.is_kw("NESTED")
                || cursor.is_kw("XMLTYPE")
                || cursor.is_kw("JSON")
            {
                // `LOB (cols) STORE AS [SECUREFILE|BASICFILE] [name] [(params)]`
                let word = cursor.word_at(0).unwrap_or_default();
                cursor.take_until(|c| c.is_kw("STORE"));
                cursor.expect_kw("STORE")?;
                cursor.expect_kw("AS")?;
                while cursor.eat_kw("SECUREFILE")
                    || cursor.eat_kw("BASICFILE")
                    || cursor.eat_kw("LOB")
                    || cursor.eat_kw("BINARY")
                    || cursor.eat_kw("CLOB")
                    || cursor.eat_kw("OBJECT")
                    || cursor.eat_kw("RELATIONAL")
                {}
                if matches!(cursor.peek(), Token::Word(_)) && !is_clause_start(cursor) {
                    cursor.advance();
                }
                if cursor.is(&Token::LParen) {
                    cursor.skip_parens()?;
                }
                cursor.eat_kws(&["RETURN", "AS", "LOCATOR"]);
                cursor.eat_kws(&["RETURN", "AS", "VALUE"]);
                clauses.dropped.push(format!("{word} storage"));
                continue;
            }
            if cursor.is_kw("COMPRESS")
                || cursor.is_kws_at(0, &["ROW", "STORE"])
                || cursor.is_kws_at(0, &["COLUMN", "STORE"])
            {
                // `COMPRESS [BASIC | FOR OLTP | n]`, `ROW STORE COMPRESS ADVANCED`, HCC.
                cursor.take_until(|c| c.is_kw("COMPRESS"));
                cursor.expect_kw("COMPRESS")?;
                cursor.eat_kw("BASIC");
                cursor.eat_kw("ADVANCED");
                if cursor.eat_kw("FOR") {
                    while cursor.eat_kw("OLTP")
                        || cursor.eat_kw("QUERY")
                        || cursor.eat_kw("ARCHIVE")
                        || cursor.eat_kw("HIGH")
                        || cursor.eat_kw("LOW")
                        || cursor.eat_kw("ALL")
                        || cursor.eat_kw("OPERATIONS")
                        || cursor.eat_kw("DIRECT_LOAD")
                    {}
                }
                if matches!(cursor.peek(), Token::Number(..)) {
                    cursor.advance();
                }
                clauses.dropped.push("COMPRESS".into());
                continue;
            }
            if cursor.eat_kws(&["SEGMENT", "CREATION"]) {
                cursor.advance();
                clauses.dropped.push("SEGMENT CREATION".into());
                continue;
            }
            if cursor.is_kw("ENABLE") || cursor.is_kw("DISABLE") {
                // ENABLE ROW MOVEMENT, DISABLE TABLE LOCK...
                cursor.advance();
                while matches!(cursor.peek(), Token::Word(_)) && !is_clause_start(cursor) {
                    cursor.advance();
                }
                continue;
            }
            if cursor.eat_kws(&["INCLUDING"]) {
                cursor.take_until(|c| c.is_kw("OVERFLOW"));
                continue;
            }
            if cursor.eat_kw("CLUSTER") {
                cursor.advance();
                cursor.skip_parens()?;
                clauses.dropped.push("CLUSTER".into());
                continue;
            }
            if cursor.eat_kws(&["FLASHBACK", "ARCHIVE"])
                || cursor.eat_kws(&["NO", "FLASHBACK", "ARCHIVE"])
            {
                if matches!(cursor.peek(), Token::Word(_)) && !is_clause_start(cursor) {
                    cursor.advance();
                }
                continue;
            }
            if cursor.eat_kws(&["NO", "INMEMORY"]) || cursor.eat_kws(&["DEFAULT", "COLLATION"]) {
                cursor.take_until(is_clause_start);
                continue;
            }
            match PHYSICAL.iter().find(|(word, _)| cursor.is_kw(word)) {
                Some((word, values)) => {
                    cursor.advance();
                    for _ in 0..*values {
                        if cursor.is(&Token::LParen) || cursor.at_end() {
                            break;
                        }
                        cursor.advance();
                    }
                    if cursor.is(&Token::LParen) {
                        cursor.skip_parens()?;
                    }
                    // `STORAGE (...)`, `PARALLEL 4`, `CACHE` followed by a value or not.
                    if matches!(cursor.peek(), Token::Number(..)) {
                        cursor.advance();
                    }
                    if !clauses.dropped.iter().any(|d| d == word) {
                        clauses.dropped.push(word.to_string());
                    }
                }
                None => {
                    return Err(cursor.error(
                        "unrecognised table clause",
                        "remove the clause, or report it so that migrate learns it",
                    ))
                }
            }
        }
        Ok(clauses)
    }
}

fn is_clause_start(cursor: &Cursor) -> bool {
    PHYSICAL.iter().any(|(word, _)| cursor.is_kw(word))
        || cursor.is_any_kw(&[
            "PARTITION",
            "ORGANIZATION",
            "ON",
            "LOB",
            "COMPRESS",
            "ROW",
            "COLUMN",
            "SEGMENT",
            "ENABLE",
            "DISABLE",
            "AS",
            "CLUSTER",
            "INCLUDING",
            "NESTED",
            "VARRAY",
            "XMLTYPE",
            "FLASHBACK",
            "NO",
            "DEFAULT",
        ])
}
