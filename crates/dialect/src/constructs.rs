//! Procedural constructs of a routine's text (PL/SQL, PL/pgSQL, MySQL stored programs), found by
//! scanning the statement's tokens: what `migrate assess` sizes the rewrite by. No grammar: the
//! tokens already tell strings and comments apart from code, which is all these counts need.

use crate::cursor::tokenize;
use migrate_core::SourceDialect;
use serde::Serialize;
use sqlparser::tokenizer::Token;
use std::collections::BTreeSet;

/// What a block of procedural code uses that makes it harder to rewrite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Constructs {
    /// Explicit cursors: `CURSOR c IS`, `c CURSOR FOR`, `OPEN c FOR`, `REF CURSOR`.
    pub cursors: u32,
    /// Dynamic SQL: `EXECUTE IMMEDIATE`, `DBMS_SQL`, `OPEN c FOR <string>`, MySQL `PREPARE`,
    /// PL/pgSQL `EXECUTE <string>`.
    pub dynamic_sql: u32,
    /// `PRAGMA AUTONOMOUS_TRANSACTION`.
    pub autonomous_transactions: u32,
    /// Hierarchical queries: `CONNECT BY`.
    pub connect_by: u32,
    /// `BULK COLLECT` and `FORALL`.
    pub bulk_operations: u32,
    /// Exception handlers (`EXCEPTION WHEN`, MySQL `DECLARE ... HANDLER`).
    pub exception_handlers: u32,
    /// Calls into Oracle's supplied packages, by package (`DBMS_OUTPUT`, `UTL_FILE`...), sorted.
    pub supplied_packages: BTreeSet<String>,
    /// Number of calls into supplied packages.
    pub supplied_package_calls: u32,
    /// Global temporary tables created or referenced (`GLOBAL TEMPORARY`).
    pub global_temporary_tables: u32,
    /// Lines of text (the size measure of the effort model).
    pub lines: u32,
    /// False when the text could not be tokenized (an unclosed quote): the counts then come from
    /// the words of the text and may include words inside strings or comments.
    pub tokenized: bool,
}

/// Scans `text` (one statement: a routine, trigger, package or anonymous block) for
/// constructs.
pub fn procedural_constructs(text: &str, dialect: SourceDialect) -> Constructs {
    let mut words = Vec::new();
    let tokenized = scan_words(text, dialect, &mut words);
    let mut found = Constructs {
        lines: u32::try_from(text.lines().count()).unwrap_or(u32::MAX),
        tokenized,
        ..Constructs::default()
    };
    let word = |i: usize| match words.get(i) {
        Some(Word::Name(w)) => w.as_str(),
        _ => "",
    };
    for i in 0..words.len() {
        match word(i) {
            "CURSOR" => found.cursors += 1,
            "OPEN" if word(i + 2) == "FOR" => {
                found.cursors += 1;
                if matches!(words.get(i + 3), Some(Word::String))
                    || word(i + 3) != "SELECT" && word(i + 3) != "WITH"
                {
                    found.dynamic_sql += 1;
                }
            }
            "IMMEDIATE" if word(i.wrapping_sub(1)) == "EXECUTE" && i > 0 => found.dynamic_sql += 1,
            // PL/pgSQL `EXECUTE 'sql'` / `EXECUTE format(...)`; MySQL `PREPARE s FROM ...`.
            "EXECUTE"
                if dialect == SourceDialect::Postgres
                    && (matches!(words.get(i + 1), Some(Word::String))
                        || word(i + 1) == "FORMAT") =>
            {
                found.dynamic_sql += 1
            }
            "PREPARE" if dialect == SourceDialect::Mysql && word(i + 2) == "FROM" => {
                found.dynamic_sql += 1
            }
            "AUTONOMOUS_TRANSACTION" if word(i.wrapping_sub(1)) == "PRAGMA" && i > 0 => {
                found.autonomous_transactions += 1
            }
            "CONNECT" if word(i + 1) == "BY" => found.connect_by += 1,
            "COLLECT" if i > 0 && word(i - 1) == "BULK" => found.bulk_operations += 1,
            "FORALL" => found.bulk_operations += 1,
            "WHEN" if i > 0 && word(i - 1) == "EXCEPTION" => found.exception_handlers += 1,
            "HANDLER" if dialect == SourceDialect::Mysql && word(i + 1) == "FOR" => {
                found.exception_handlers += 1
            }
            "TEMPORARY" if i > 0 && word(i - 1) == "GLOBAL" => found.global_temporary_tables += 1,
            w if is_supplied_package(w) && matches!(words.get(i + 1), Some(Word::Period)) => {
                if w == "DBMS_SQL" {
                    found.dynamic_sql += 1;
                }
                found.supplied_package_calls += 1;
                found.supplied_packages.insert(w.to_string());
            }
            _ => {}
        }
    }
    found
}

/// Appends the words of `text` to `words`; PL/pgSQL bodies (dollar-quoted strings) are scanned
/// as code. Returns false when the text could not be tokenized and was split into words instead.
fn scan_words(text: &str, dialect: SourceDialect, words: &mut Vec<Word>) -> bool {
    match tokenize(text, dialect) {
        Ok(tokens) => {
            let mut tokenized = true;
            for token in tokens {
                words.push(match token.token {
                    Token::Word(w) if w.quote_style.is_none() => {
                        Word::Name(w.value.to_ascii_uppercase())
                    }
                    Token::DollarQuotedString(body) if dialect == SourceDialect::Postgres => {
                        tokenized &= scan_words(&body.value, dialect, words);
                        continue;
                    }
                    Token::SingleQuotedString(_)
                    | Token::NationalStringLiteral(_)
                    | Token::DollarQuotedString(_)
                    | Token::DoubleQuotedString(_) => Word::String,
                    Token::Period => Word::Period,
                    _ => Word::Other,
                });
            }
            tokenized
        }
        Err(_) => {
            for w in text
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .filter(|w| !w.is_empty())
            {
                for (i, part) in w.split('.').enumerate() {
                    if i > 0 {
                        words.push(Word::Period);
                    }
                    words.push(Word::Name(part.to_ascii_uppercase()));
                }
            }
            false
        }
    }
}

#[derive(Debug, PartialEq)]
enum Word {
    Name(String),
    String,
    Period,
    Other,
}

/// Oracle's supplied PL/SQL packages: `DBMS_*`, `UTL_*`, `APEX_*`, `OWA_*`, `HTP`, `CTX_*`.
fn is_supplied_package(word: &str) -> bool {
    ["DBMS_", "UTL_", "OWA_", "CTX_", "APEX_"]
        .iter()
        .any(|prefix| word.starts_with(prefix) && word.len() > prefix.len())
        || word == "HTP"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plsql_constructs_are_counted_outside_strings_and_comments() {
        let text = "CREATE OR REPLACE PROCEDURE p IS
  PRAGMA AUTONOMOUS_TRANSACTION;
  CURSOR c IS SELECT id FROM t CONNECT BY PRIOR id = parent;
  TYPE rc IS REF CURSOR;
  r rc;
BEGIN
  -- EXECUTE IMMEDIATE in a comment does not count
  DBMS_OUTPUT.PUT_LINE('CONNECT BY in a string does not count');
  EXECUTE IMMEDIATE 'TRUNCATE TABLE t';
  OPEN r FOR 'SELECT 1 FROM dual';
  SELECT id BULK COLLECT INTO ids FROM t;
  FORALL i IN 1..ids.COUNT DELETE FROM t WHERE id = ids(i);
  UTL_FILE.FCLOSE(f);
  EXECUTE IMMEDIATE 'CREATE GLOBAL TEMPORARY TABLE x (a INT)';
EXCEPTION WHEN OTHERS THEN NULL;
END;";
        let found = procedural_constructs(text, SourceDialect::Oracle);
        assert!(found.tokenized);
        assert_eq!(found.autonomous_transactions, 1);
        assert_eq!(found.cursors, 3, "CURSOR c, REF CURSOR, OPEN r FOR");
        assert_eq!(
            found.dynamic_sql, 3,
            "two EXECUTE IMMEDIATE, OPEN FOR string"
        );
        assert_eq!(found.connect_by, 1);
        assert_eq!(found.bulk_operations, 2);
        assert_eq!(found.exception_handlers, 1);
        assert_eq!(found.supplied_package_calls, 2);
        assert_eq!(
            found.supplied_packages.iter().cloned().collect::<Vec<_>>(),
            vec!["DBMS_OUTPUT".to_string(), "UTL_FILE".to_string()]
        );
        // In a string: seen by the scan only as a string token.
        assert_eq!(found.global_temporary_tables, 0);
        assert_eq!(found.lines, 16);
    }

    #[test]
    fn mysql_and_postgres_dynamic_sql() {
        let mysql = procedural_constructs(
            "CREATE PROCEDURE p() BEGIN DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1; PREPARE s FROM @q; EXECUTE s; END",
            SourceDialect::Mysql,
        );
        assert_eq!((mysql.dynamic_sql, mysql.exception_handlers), (1, 1));
        let pg = procedural_constructs(
            "CREATE FUNCTION f() RETURNS void AS $$ BEGIN EXECUTE format('DROP TABLE %I', t); END $$ LANGUAGE plpgsql",
            SourceDialect::Postgres,
        );
        // The dollar-quoted body is scanned as PL/pgSQL.
        assert_eq!(pg.dynamic_sql, 1);
    }

    #[test]
    fn untokenizable_text_falls_back_to_words() {
        let found = procedural_constructs(
            "BEGIN EXECUTE IMMEDIATE 'never closed; END;",
            SourceDialect::Oracle,
        );
        assert!(!found.tokenized);
        assert_eq!(found.dynamic_sql, 1);
    }
}
