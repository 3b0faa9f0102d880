//! `PARTITION BY` of Oracle, MySQL and PostgreSQL. Partitioning is kept in the model: the key
//! advisor uses it as evidence for sort and distribution keys.

use super::DdlReader;
use crate::cursor::{Cursor, ParseError, TokenRange};
use migrate_core::{Partition, PartitionMethod, Partitioning};
use sqlparser::tokenizer::Token;

impl DdlReader {
    /// Reads `PARTITION BY ...` (the cursor is after `PARTITION BY`) or `SUBPARTITION BY ...`.
    pub(super) fn partition_by(&mut self, cursor: &mut Cursor) -> Result<Partitioning, ParseError> {
        cursor.eat_kw("LINEAR");
        let method = if cursor.eat_kw("RANGE") {
            PartitionMethod::Range
        } else if cursor.eat_kw("LIST") {
            PartitionMethod::List
        } else if cursor.eat_kw("HASH") {
            PartitionMethod::Hash
        } else if cursor.eat_kw("KEY") {
            PartitionMethod::Key
        } else if cursor.eat_kw("REFERENCE") {
            PartitionMethod::Reference
        } else if cursor.eat_kw("SYSTEM") {
            PartitionMethod::Hash
        } else {
            return Err(cursor.error(
                "expected RANGE, LIST, HASH, KEY or REFERENCE",
                "check the partitioning clause",
            ));
        };
        cursor.eat_kw("COLUMNS");
        let columns = if cursor.is(&Token::LParen) {
            partition_key(cursor)?
        } else {
            Vec::new()
        };
        let mut partitioning = Partitioning {
            method,
            columns,
            partitions: Vec::new(),
            interval: None,
            subpartitioning: None,
        };
        loop {
            if cursor.eat_kw("INTERVAL") {
                let range = cursor.skip_parens()?;
                partitioning.method = PartitionMethod::Interval;
                partitioning.interval = Some(cursor.text(range));
            } else if cursor.eat_kws(&["SUBPARTITION", "BY"]) {
                partitioning.subpartitioning = Some(Box::new(self.partition_by(cursor)?));
            } else if cursor.eat_kws(&["SUBPARTITION", "TEMPLATE"]) {
                if cursor.is(&Token::LParen) {
                    cursor.skip_parens()?;
                } else {
                    cursor.number()?;
                }
            } else if cursor.eat_kw("PARTITIONS") || cursor.eat_kw("SUBPARTITIONS") {
                cursor.number()?;
            } else if cursor.eat_kws(&["STORE", "IN"]) {
                cursor.skip_parens()?;
            } else if cursor.eat_kw("AUTOMATIC") {
            } else if cursor.is(&Token::LParen) && cursor.is_kw_at(1, "PARTITION")
                || cursor.is(&Token::LParen) && cursor.is_kw_at(1, "SUBPARTITION")
            {
                partitioning.partitions = partition_definitions(cursor)?;
            } else {
                return Ok(partitioning);
            }
        }
    }
}

/// The partition key: column names, or expressions (MySQL `RANGE (YEAR(d))`) kept as text.
fn partition_key(cursor: &mut Cursor) -> Result<Vec<migrate_core::Ident>, ParseError> {
    let start = cursor.position();
    if let Ok(columns) = cursor.ident_list() {
        return Ok(columns);
    }
    cursor.set_position(start);
    let range = cursor.skip_parens()?;
    Ok(vec![migrate_core::Ident::new(cursor.text(range))])
}

/// `( PARTITION p1 VALUES LESS THAN (...) [storage] [(SUBPARTITION ...)], ... )`
fn partition_definitions(cursor: &mut Cursor) -> Result<Vec<Partition>, ParseError> {
    cursor.expect(&Token::LParen)?;
    let mut partitions = Vec::new();
    loop {
        if !(cursor.eat_kw("PARTITION") || cursor.eat_kw("SUBPARTITION")) {
            return Err(cursor.error("expected PARTITION", "check the partition list"));
        }
        let name =
            if cursor.is_kw("VALUES") || cursor.is(&Token::Comma) || cursor.is(&Token::RParen) {
                None
            } else {
                Some(cursor.ident()?.value)
            };
        let bound: TokenRange = cursor.take_until(|c| c.is(&Token::Comma));
        partitions.push(Partition {
            name,
            bound: cursor.text(bound),
        });
        if !cursor.eat(&Token::Comma) {
            break;
        }
    }
    cursor.expect(&Token::RParen)?;
    Ok(partitions)
}
