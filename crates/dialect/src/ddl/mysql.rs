//! MySQL's table options (`ENGINE=InnoDB AUTO_INCREMENT=17 DEFAULT CHARSET=utf8mb4 ...`) and
//! partitioning.

use super::table::TableClauses;
use super::DdlReader;
use crate::cursor::{Cursor, ParseError};
use migrate_core::Table;
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
                cursor.eat(&Token::Eq);
                cursor.advance();
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
}
