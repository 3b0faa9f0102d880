//! Hive's clauses after the column list: partition columns, bucketing, skew, row format, storage
//! format, location and table properties. They are kept in the model: `migrate catalog` writes
//! them to Glue and the key advisor uses partitioning and bucketing as evidence.

use super::table::TableClauses;
use super::DdlReader;
use crate::cursor::{Cursor, ParseError};
use migrate_core::{Bucketing, ExternalStorage, PartitionMethod, Partitioning, Table};
use sqlparser::tokenizer::Token;

impl DdlReader {
    pub(super) fn hive_table_clauses(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
    ) -> Result<TableClauses, ParseError> {
        let mut clauses = TableClauses::default();
        let mut storage = table.storage.take().unwrap_or_default();
        while !cursor.at_end() {
            if cursor.eat_kw("AS") {
                clauses.as_select = true;
                break;
            } else if cursor.eat_kw("COMMENT") {
                table.comment = Some(cursor.string()?);
            } else if cursor.eat_kws(&["PARTITIONED", "BY"]) {
                self.hive_partition_columns(cursor, table)?;
            } else if cursor.eat_kws(&["CLUSTERED", "BY"]) {
                let columns = cursor.ident_list()?;
                let sorted_by = if cursor.eat_kws(&["SORTED", "BY"]) {
                    cursor.ident_list()?
                } else {
                    Vec::new()
                };
                cursor.expect_kw("INTO")?;
                let buckets = cursor.number()?;
                cursor.expect_kw("BUCKETS")?;
                table.bucketing = Some(Bucketing {
                    columns,
                    sorted_by,
                    buckets: u32::try_from(buckets).map_err(|_| {
                        cursor.error("invalid bucket count", "use a positive number of buckets")
                    })?,
                });
            } else if cursor.eat_kws(&["SKEWED", "BY"]) {
                storage.skewed_by = cursor.ident_list()?;
                cursor.expect_kw("ON")?;
                cursor.skip_parens()?;
                cursor.eat_kws(&["STORED", "AS", "DIRECTORIES"]);
            } else if cursor.eat_kws(&["ROW", "FORMAT"]) {
                self.hive_row_format(cursor, &mut storage)?;
            } else if cursor.eat_kws(&["STORED", "AS"]) {
                if cursor.eat_kw("INPUTFORMAT") {
                    storage.input_format = Some(cursor.string()?);
                    cursor.expect_kw("OUTPUTFORMAT")?;
                    storage.output_format = Some(cursor.string()?);
                } else {
                    storage.format = Some(cursor.ident()?.value.to_ascii_uppercase());
                }
            } else if cursor.eat_kws(&["STORED", "BY"]) {
                storage.input_format = Some(cursor.string()?);
                if cursor.eat_kws(&["WITH", "SERDEPROPERTIES"]) {
                    storage.serde_properties = properties(cursor)?;
                }
            } else if cursor.eat_kw("LOCATION") {
                storage.location = Some(cursor.string()?);
            } else if cursor.eat_kw("TBLPROPERTIES") {
                storage.table_properties = properties(cursor)?;
            } else if cursor.eat_kw("USING") {
                // Spark `USING parquet`.
                storage.format = Some(cursor.ident()?.value.to_ascii_uppercase());
            } else {
                return Err(
                    cursor.error("unrecognised table clause", "check the Hive table clauses")
                );
            }
        }
        if storage != ExternalStorage::default() {
            table.storage = Some(storage);
        }
        Ok(clauses)
    }

    /// `PARTITIONED BY (col type [COMMENT '...'], ...)`: partition columns are real columns of
    /// the table in the target, appended after the others, as Hive shows them. Spark's
    /// `USING delta PARTITIONED BY (a, b)` names columns of the column list instead.
    fn hive_partition_columns(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
    ) -> Result<(), ParseError> {
        let names_only = matches!(cursor.peek_at(1), Token::Word(_))
            && matches!(cursor.peek_at(2), Token::Comma | Token::RParen);
        let names = if names_only {
            let names = cursor.ident_list()?;
            if let Some(missing) = names
                .iter()
                .find(|name| !table.columns.iter().any(|c| c.name.matches(name)))
            {
                return Err(cursor.error(
                    format!("PARTITIONED BY names {missing}, which is not a column of the table"),
                    "give the partition column's type, or name a column of the table",
                ));
            }
            names
        } else {
            self.typed_partition_columns(cursor, table)?
        };
        table.partitioning = Some(Partitioning {
            method: PartitionMethod::Value,
            columns: names,
            partitions: Vec::new(),
            interval: None,
            subpartitioning: None,
        });
        Ok(())
    }

    /// `(col type [COMMENT '...'], ...)`, appended to the table's columns.
    fn typed_partition_columns(
        &mut self,
        cursor: &mut Cursor,
        table: &mut Table,
    ) -> Result<Vec<migrate_core::Ident>, ParseError> {
        cursor.expect(&Token::LParen)?;
        let mut names = Vec::new();
        loop {
            let column = self.column_definition(cursor, table)?;
            names.push(column.name.clone());
            table.columns.push(column);
            if !cursor.eat(&Token::Comma) {
                break;
            }
        }
        cursor.expect(&Token::RParen)?;
        Ok(names)
    }

    fn hive_row_format(
        &mut self,
        cursor: &mut Cursor,
        storage: &mut ExternalStorage,
    ) -> Result<(), ParseError> {
        if cursor.eat_kw("SERDE") {
            storage.serde = Some(cursor.string()?);
            if cursor.eat_kws(&["WITH", "SERDEPROPERTIES"]) {
                storage.serde_properties = properties(cursor)?;
            }
            return Ok(());
        }
        cursor.expect_kw("DELIMITED")?;
        loop {
            let key = if cursor.eat_kws(&["FIELDS", "TERMINATED", "BY"]) {
                "field.delim"
            } else if cursor.eat_kws(&["ESCAPED", "BY"]) {
                "escape.delim"
            } else if cursor.eat_kws(&["COLLECTION", "ITEMS", "TERMINATED", "BY"]) {
                "collection.delim"
            } else if cursor.eat_kws(&["MAP", "KEYS", "TERMINATED", "BY"]) {
                "mapkey.delim"
            } else if cursor.eat_kws(&["LINES", "TERMINATED", "BY"]) {
                "line.delim"
            } else if cursor.eat_kws(&["NULL", "DEFINED", "AS"]) {
                "serialization.null.format"
            } else {
                return Ok(());
            };
            storage.delimiters.push((key.to_string(), cursor.string()?));
        }
    }
}

/// `('key' = 'value', ...)`
fn properties(cursor: &mut Cursor) -> Result<Vec<(String, String)>, ParseError> {
    cursor.expect(&Token::LParen)?;
    let mut pairs = Vec::new();
    if cursor.eat(&Token::RParen) {
        return Ok(pairs);
    }
    loop {
        let key = cursor.string()?;
        cursor.expect(&Token::Eq)?;
        let value = cursor.string()?;
        pairs.push((key, value));
        if !cursor.eat(&Token::Comma) {
            break;
        }
    }
    cursor.expect(&Token::RParen)?;
    Ok(pairs)
}
