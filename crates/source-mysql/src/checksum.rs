//! Checksums and row hashes computed in the database on a snapshot reader, by the one definition
//! of `migrate_checksum` (see that crate for what is hashed and how): comparable with a
//! PostgreSQL target's.

use crate::read::{cast_expr, column_expr, find_column, on_reader, Work};
use crate::snapshot::Readers;
use crate::sql::{display_name, quote_ident, table_sql_name};
use crate::{chunk_predicate, SourceError};
use futures::stream::{BoxStream, TryStreamExt};
use migrate_checksum::{
    checksum_sql, client_row_hash, hashed_on_client, mysql_row_texts_sql, row_hashes_sql,
    ChecksumColumn, ChunkChecksum, Engine, JsonText,
};
use migrate_source::{Chunk, KeyedHash, ReadSpec, ReadValue};
use mysql_async::prelude::Queryable;
use mysql_async::Row;
use std::sync::Arc;

/// Row hashes buffered between the reader task and the consumer.
const HASHES_BUFFERED: usize = 1024;

/// The checksum column of each read column: the value as the source holds it (the checksum's
/// canonical text handles BIT, YEAR, geometry and character sets itself), the cast of a `Cast`,
/// the SQL of an `Expression`; typed as the batch column.
fn checksum_columns(read: &ReadSpec, json: JsonText) -> Result<Vec<ChecksumColumn>, SourceError> {
    read.columns
        .iter()
        .map(|column| {
            let sql = match &column.value {
                ReadValue::Column(name) => quote_ident(&find_column(&read.table, name)?.name.value),
                ReadValue::Cast(name) => {
                    let source = find_column(&read.table, name)?;
                    cast_expr(&column_expr(source).expr, &column.data_type).map_err(|message| {
                        SourceError::Unsupported {
                            table: display_name(&read.table),
                            column: column.name.clone(),
                            message,
                        }
                    })?
                }
                ReadValue::Expression(sql) => format!("({sql})"),
            };
            Ok(ChecksumColumn::new(sql, column.data_type.clone()).with_json(json))
        })
        .collect()
}

/// The primary key's columns as the target holds them: as read (with the read's cast and type)
/// when the read has them, else as stored.
fn key_columns(read: &ReadSpec, json: JsonText) -> Result<Vec<ChecksumColumn>, SourceError> {
    let table = &read.table;
    let key = table.primary_key().ok_or_else(|| SourceError::Unsupported {
        table: display_name(table),
        column: String::new(),
        message: "row hashes need a primary key to name the rows, and the table has none; compare the table by its checksum".into(),
    })?;
    let columns = checksum_columns(read, json)?;
    key.iter()
        .map(|part| {
            let read_as = read.columns.iter().zip(&columns).find(|(c, _)| {
                matches!(&c.value, ReadValue::Column(n) | ReadValue::Cast(n) if part.matches(&migrate_core::Ident::new(n)))
            });
            Ok(match read_as {
                Some((_, checksum)) => checksum.clone(),
                None => {
                    let column = find_column(table, &part.value)?;
                    ChecksumColumn::new(quote_ident(&column.name.value), column.data_type.clone())
                        .with_json(json)
                }
            })
        })
        .collect()
}

/// The WHERE condition of a read: the chunk's range and the read's filter.
fn predicate(read: &ReadSpec, chunk: &Chunk) -> Result<String, SourceError> {
    let mut condition = chunk_predicate(&read.table, chunk)?;
    if let Some(filter) = &read.filter {
        condition = format!("({condition}) AND ({filter})");
    }
    Ok(condition)
}

/// The checksum of a chunk, computed on a reader of the snapshot (so it covers exactly the rows
/// a read of the chunk gives).
///
/// A read without its table's primary key as is, whose rows are hashed on the client (a
/// normalized JSON column, see [`row_hashes`]), is summed from its rows' hashes instead: the
/// checksum MariaDB computes differs from the target's for a document with escapes, and without
/// a key validation can't list the rows behind a mismatch to tell that from a real difference.
pub(crate) async fn chunk_checksum(
    readers: &Arc<Readers>,
    read: &ReadSpec,
    chunk: &Chunk,
) -> Result<ChunkChecksum, SourceError> {
    let columns = checksum_columns(read, readers.json_text)?;
    if read.key_positions().is_none() && hashed_on_client(&columns) {
        return hashes(readers, read, chunk, Ok(Vec::new()))
            .try_fold(ChunkChecksum::default(), |sum, row| async move {
                let hash =
                    ChunkChecksum::of_row_hashes([row.hash.as_str()]).map_err(|message| {
                        SourceError::Catalog {
                            context: format!(
                                "summing the row hashes of {}",
                                display_name(&read.table)
                            ),
                            message,
                        }
                    })?;
                Ok(sum.combine(&hash))
            })
            .await;
    }
    let sql = checksum_sql(
        Engine::Mysql,
        &table_sql_name(&read.table),
        &columns,
        &predicate(read, chunk)?,
    );
    let context = format!(
        "computing the checksum of chunk {} of {}",
        chunk.index,
        display_name(&read.table)
    );
    let mut reader = readers.lend().await?;
    let row: Result<Option<Row>, SourceError> = reader
        .conn()
        .query_first(sql)
        .await
        .map_err(SourceError::query(context.clone()));
    reader.give_back(&row);
    let mut row = row?.ok_or_else(|| SourceError::Catalog {
        context: context.clone(),
        message: "the checksum query returned no row".into(),
    })?;
    let count: i64 = crate::connect::get(&mut row, 0, &context)?.unwrap_or(0);
    let sum_a: String = crate::connect::get(&mut row, 1, &context)?.unwrap_or_default();
    let sum_b: String = crate::connect::get(&mut row, 2, &context)?.unwrap_or_default();
    ChunkChecksum::from_sql_text(count, &sum_a, &sum_b)
        .map_err(|message| SourceError::Catalog { context, message })
}

/// Each row's key text and hash, ordered by the key text's bytes, streamed from a reader of the
/// snapshot. A read with a normalized JSON column is hashed here, row by row, from the rows'
/// text (sent to the client), where each document's escapes are written as PostgreSQL writes
/// them (`client_row_hash`): the hashes equal the target's, although the checksum computed in
/// MariaDB does not.
pub(crate) fn row_hashes(
    readers: &Arc<Readers>,
    read: &ReadSpec,
    chunk: &Chunk,
) -> BoxStream<'static, Result<KeyedHash, SourceError>> {
    hashes(readers, read, chunk, key_columns(read, readers.json_text))
}

/// [`row_hashes`] with the key texts of `key`'s columns (none: every key text is empty).
fn hashes(
    readers: &Arc<Readers>,
    read: &ReadSpec,
    chunk: &Chunk,
    key: Result<Vec<ChecksumColumn>, SourceError>,
) -> BoxStream<'static, Result<KeyedHash, SourceError>> {
    let table = display_name(&read.table);
    let (sql, hashed_here) = match (
        key,
        checksum_columns(read, readers.json_text),
        predicate(read, chunk),
    ) {
        (Ok(key), Ok(columns), Ok(predicate)) => {
            let from = table_sql_name(&read.table);
            if hashed_on_client(&columns) {
                let sql = mysql_row_texts_sql(&from, &key, &columns, &predicate);
                (sql, Some(columns))
            } else {
                let sql = row_hashes_sql(Engine::Mysql, &from, &key, &columns, &predicate);
                (sql, None)
            }
        }
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
            return Box::pin(futures::stream::once(async move { Err(e) }))
        }
    };
    let context = format!("listing the row hashes of chunk {} of {table}", chunk.index);
    let stopped = SourceError::ReaderStopped {
        table,
        chunk: chunk.index,
    };
    let work: Work<KeyedHash> = Box::new(move |conn, tx| {
        Box::pin(async move {
            let mut result = conn
                .query_iter(sql)
                .await
                .map_err(SourceError::query(context.clone()))?;
            while let Some(mut row) = result
                .next()
                .await
                .map_err(SourceError::query(context.clone()))?
            {
                let key: Option<String> = crate::connect::get(&mut row, 0, &context)?;
                let value: Option<String> = crate::connect::get(&mut row, 1, &context)?;
                let hash = match &hashed_here {
                    Some(columns) => client_row_hash(value.as_deref(), columns),
                    None => value.unwrap_or_default(),
                };
                let item = KeyedHash {
                    key: key.unwrap_or_default(),
                    hash,
                };
                if tx.send(Ok(Some(item))).await.is_err() {
                    return Ok(());
                }
            }
            Ok(())
        })
    });
    on_reader(readers, HASHES_BUFFERED, stopped, work)
}
