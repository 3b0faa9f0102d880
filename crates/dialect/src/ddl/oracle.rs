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
    ("NOINMEMORY", 0),
    ("RESULT_CACHE", 0),
    ("SHARING", 2),
    ("COLLATION", 1),
    ("ANNOTATIONS", 0),
    ("MEMOPTIMIZE", 3),
    ("PCTVERSION", 1),
    ("RETENTION", 0),
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
                    || cursor.eat_kw("XML")
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
                // XMLTYPE: `ALLOW NONSCHEMA DISALLOW ANYSCHEMA`, `XMLSCHEMA "url" ELEMENT "name"`.
                while cursor.is_any_kw(&["ALLOW", "DISALLOW", "XMLSCHEMA", "ELEMENT"]) {
                    cursor.advance();
                    cursor.advance();
                }
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
                // Hybrid columnar: `COLUMN STORE COMPRESS FOR QUERY HIGH [NO] ROW LEVEL LOCKING`.
                cursor.eat_kw("NO");
                cursor.eat_kws(&["ROW", "LEVEL", "LOCKING"]);
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
                if !cursor.eat_kws(&["ROW", "MOVEMENT"]) {
                    while matches!(cursor.peek(), Token::Word(_)) && !is_clause_start(cursor) {
                        cursor.advance();
                    }
                }
                continue;
            }
            if cursor.eat_kws(&["ROW", "ARCHIVAL"]) || cursor.eat_kws(&["NO", "ROW", "ARCHIVAL"]) {
                // In-database archiving hides archived rows behind a hidden column; every row
                // is read and loaded.
                clauses.dropped.push("ROW ARCHIVAL".into());
                continue;
            }
            if cursor.eat_kws(&["READ", "ONLY"]) || cursor.eat_kws(&["READ", "WRITE"]) {
                clauses.dropped.push("READ ONLY/READ WRITE".into());
                continue;
            }
            if cursor.eat_kw("INMEMORY") || cursor.eat_kws(&["NO", "INMEMORY"]) {
                inmemory_attributes(cursor)?;
                if !clauses.dropped.iter().any(|d| d == "INMEMORY") {
                    clauses.dropped.push("INMEMORY".into());
                }
                continue;
            }
            if cursor.eat_kw("ILM") {
                ilm_policy(cursor);
                if !clauses.dropped.iter().any(|d| d == "ILM") {
                    clauses.dropped.push("ILM".into());
                }
                continue;
            }
            if cursor.eat_kw("CLUSTERING") {
                attribute_clustering(cursor)?;
                clauses.dropped.push("CLUSTERING".into());
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
            if cursor.eat_kws(&["DEFAULT", "COLLATION"]) {
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

/// After `[NO] INMEMORY`: `[(columns)]`, `MEMCOMPRESS FOR QUERY LOW`, `PRIORITY HIGH`,
/// `DISTRIBUTE [AUTO | BY ROWID RANGE | BY PARTITION] [FOR SERVICE name]`, `[NO] DUPLICATE [ALL]`
/// and their NO forms, as DBMS_METADATA writes them.
fn inmemory_attributes(cursor: &mut Cursor) -> Result<(), ParseError> {
    loop {
        if cursor.is(&Token::LParen) {
            cursor.skip_parens()?;
        } else if cursor.eat_kw("MEMCOMPRESS") || cursor.eat_kws(&["NO", "MEMCOMPRESS"]) {
            if cursor.eat_kw("FOR") {
                let _ = cursor.eat_kws(&["CAPACITY", "HIGH"])
                    || cursor.eat_kws(&["CAPACITY", "LOW"])
                    || cursor.eat_kws(&["QUERY", "HIGH"])
                    || cursor.eat_kws(&["QUERY", "LOW"])
                    || cursor.eat_kw("CAPACITY")
                    || cursor.eat_kw("QUERY")
                    || cursor.eat_kw("DML");
            } else {
                cursor.eat_kw("AUTO");
            }
        } else if cursor.eat_kw("PRIORITY") {
            cursor.advance();
        } else if cursor.eat_kw("DISTRIBUTE") {
            if cursor.eat_kw("BY") {
                let _ = cursor.eat_kws(&["ROWID", "RANGE"])
                    || cursor.eat_kw("PARTITION")
                    || cursor.eat_kw("SUBPARTITION");
            } else {
                cursor.eat_kw("AUTO");
            }
            if cursor.eat_kws(&["FOR", "SERVICE"]) {
                cursor.advance();
            }
        } else if cursor.eat_kw("DUPLICATE") || cursor.eat_kws(&["NO", "DUPLICATE"]) {
            cursor.eat_kw("ALL");
        } else if cursor.eat_kw("SPATIAL") || cursor.eat_kws(&["NO", "INMEMORY"]) {
            if cursor.is(&Token::LParen) {
                cursor.skip_parens()?;
            }
        } else {
            return Ok(());
        }
    }
}

/// After `ILM`: `ADD POLICY <action> <scope> AFTER n DAYS OF NO MODIFICATION`, `... ON function`,
/// `... TIER TO tablespace [READ ONLY]`. The action reuses words that start other clauses
/// (ROW STORE COMPRESS, SEGMENT), so the policy ends at its condition, not at a clause start.
fn ilm_policy(cursor: &mut Cursor) {
    cursor.take_until(|c| c.is_any_kw(&["AFTER", "ON", "TIER"]));
    if cursor.eat_kw("TIER") {
        cursor.eat_kw("TO");
        cursor.advance();
        cursor.eat_kws(&["READ", "ONLY"]);
        let _ = cursor.eat_kw("SEGMENT") || cursor.eat_kw("GROUP");
        if !cursor.is_kw("ON") {
            return;
        }
    }
    if cursor.eat_kw("ON") {
        cursor.advance();
    } else if cursor.eat_kw("AFTER") {
        // `AFTER 30 DAYS OF [NO | LOW] ACCESS | MODIFICATION | CREATION`
        cursor.advance();
        cursor.advance();
        cursor.eat_kw("OF");
        let _ = cursor.eat_kw("NO") || cursor.eat_kw("LOW");
        cursor.advance();
    }
}

/// After `CLUSTERING`: `[table JOIN ...] BY LINEAR | INTERLEAVED ORDER (columns) [YES | NO ON
/// LOAD] [YES | NO ON DATA MOVEMENT] [WITH | WITHOUT MATERIALIZED ZONEMAP [(name)]]`.
fn attribute_clustering(cursor: &mut Cursor) -> Result<(), ParseError> {
    cursor.take_until(|c| c.is_kw("ORDER"));
    cursor.expect_kw("ORDER")?;
    cursor.skip_parens()?;
    loop {
        if cursor.eat_kws(&["YES", "ON"]) || cursor.eat_kws(&["NO", "ON"]) {
            let _ = cursor.eat_kw("LOAD") || cursor.eat_kws(&["DATA", "MOVEMENT"]);
        } else if cursor.eat_kws(&["WITH", "MATERIALIZED", "ZONEMAP"])
            || cursor.eat_kws(&["WITHOUT", "MATERIALIZED", "ZONEMAP"])
        {
            if cursor.is(&Token::LParen) {
                cursor.skip_parens()?;
            }
        } else {
            return Ok(());
        }
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
            "INMEMORY",
            "ILM",
            "READ",
            "CLUSTERING",
        ])
}
