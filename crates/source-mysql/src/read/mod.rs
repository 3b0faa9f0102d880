//! Reading a chunk as Arrow record batches: one prepared `SELECT` per chunk on a snapshot
//! reader, rows streamed in the binary protocol and decoded here.
//!
//! The binary protocol (prepared statements) because it is the exact one: doubles and floats
//! arrive as their IEEE bits, integers as integers, temporal values as fields; the text protocol
//! would print floats with 6 or 17 significant digits and need parsing everywhere. DECIMAL
//! arrives as exact text in both.
//!
//! A spawned task reads and decodes while the consumer handles the previous batch (a channel of
//! one batch between them): the connection is read at the server's pace, memory stays at about
//! two batches.

pub(crate) mod decode;

use crate::snapshot::Readers;
use crate::sql::{display_name, quote_ident, table_sql_name};
use crate::{chunk_predicate, SourceError};
use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use decode::{display_value, Decoder, Wire};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::StreamExt;
use migrate_core::{Column, LogicalType, Table};
use migrate_source::{Chunk, ReadSpec, ReadValue};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A batch is sent early once its values reach this many bytes, so that rows of large values
/// (BLOBs of 100 MB) don't pile up `batch_rows` at a time.
const BATCH_BYTES: usize = 64 << 20;

/// How many warnings to quote in [`SourceError::Warnings`].
const WARNINGS_SHOWN: usize = 5;

/// String types of MySQL: their values arrive as text. Other types mapped to a text type (types
/// the converter does not know: MariaDB's UUID, INET6, ...) are cast to their text form.
pub(crate) const STRING_TYPES: [&str; 9] = [
    "char",
    "varchar",
    "tinytext",
    "text",
    "mediumtext",
    "longtext",
    "enum",
    "set",
    "json",
];

/// How one batch column is selected and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnRead {
    /// The SELECT-list expression.
    pub expr: String,
    wire: Wire,
}

/// The statement of one chunk read and how to turn its rows into batches.
pub(crate) struct ReadPlan {
    pub sql: String,
    pub table: String,
    pub chunk: u32,
    schema: SchemaRef,
    /// The names of the batch columns, for messages.
    names: Vec<String>,
    wires: Vec<Wire>,
    /// Select-list positions of the primary key columns (`name`, position), to name rows.
    key: Vec<(String, usize)>,
    /// Select-list entries beyond the batch columns (key columns not read, or a constant when
    /// nothing is read): decoded only for messages.
    extra: usize,
}

/// The lower-cased name of a MySQL column type (`decimal(10,2) unsigned` -> `decimal`).
pub(crate) fn base_type(source_type: &str) -> String {
    source_type
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The number in parentheses of a MySQL column type (`time(3)`: 3, `binary(16)`: 16); `None`
/// without one, or when it is not one number (`decimal(10,2)`).
pub(crate) fn type_argument(source_type: &str) -> Option<u32> {
    let (_, rest) = source_type.split_once('(')?;
    rest.split(')').next()?.trim().parse().ok()
}

pub(crate) fn find_column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, SourceError> {
    table
        .columns
        .iter()
        .find(|c| c.name.value == name)
        .or_else(|| {
            table
                .columns
                .iter()
                .find(|c| c.name.value.eq_ignore_ascii_case(name))
        })
        .ok_or_else(|| SourceError::Unsupported {
            table: display_name(table),
            column: name.to_string(),
            message:
                "no such column in the discovered table; re-run discovery if the table changed"
                    .into(),
        })
}

/// The select expression that yields a source column's canonical value as stored.
pub(crate) fn column_expr(column: &Column) -> ColumnRead {
    let quoted = quote_ident(&column.name.value);
    let base = base_type(&column.source_type);
    let textual = matches!(
        column.data_type,
        LogicalType::Char { .. }
            | LogicalType::Varchar { .. }
            | LogicalType::Text
            | LogicalType::Json
            | LogicalType::Uuid
    );
    let (expr, wire) = match &column.data_type {
        // MySQL's internal geometry format is the SRID then WKB: the batch carries WKB.
        LogicalType::Geometry | LogicalType::Geography => {
            (format!("ST_AsBinary({quoted})"), Wire::Plain)
        }
        _ if base == "bit" => (quoted, Wire::Bits),
        _ if textual && !STRING_TYPES.contains(&base.as_str()) => {
            (format!("CAST({quoted} AS CHAR)"), Wire::Plain)
        }
        _ => (quoted, Wire::Plain),
    };
    ColumnRead { expr, wire }
}

/// `CAST(column AS ...)` to a canonical type (DMS `change-data-type`), or why there is none.
pub(crate) fn cast_expr(column: &str, to: &LogicalType) -> Result<String, String> {
    use LogicalType as L;
    let target = match to {
        // No CAST AS BOOLEAN: a signed integer that the decoder requires to be 0 or 1.
        L::Boolean | L::SmallInt | L::Integer | L::BigInt => "SIGNED".to_string(),
        // The widest precision: CAST to DECIMAL(p,s) turns a value too large for p into the
        // largest DECIMAL(p,s) value with a warning (which stops the read, naming no row); read
        // whole, the decoder refuses it for the column's precision, naming the row.
        L::Decimal { scale, .. } if *scale <= 30 => {
            format!("DECIMAL(65,{scale})")
        }
        L::Real => "FLOAT".to_string(),
        L::Double => "DOUBLE".to_string(),
        L::Char { .. } | L::Varchar { .. } | L::Text | L::Json | L::Xml | L::Uuid => {
            "CHAR".to_string()
        }
        L::Binary { .. } | L::Varbinary { .. } | L::Blob => "BINARY".to_string(),
        L::Date => "DATE".to_string(),
        L::Time {
            with_time_zone: false,
            ..
        } => "TIME(6)".to_string(),
        // Session time zone is UTC: a DATETIME(6) in UTC is the instant for timestamptz.
        L::Timestamp { .. } => "DATETIME(6)".to_string(),
        other => return Err(format!("MySQL has no CAST to {other}")),
    };
    Ok(format!("CAST({column} AS {target})"))
}

impl ReadPlan {
    pub(crate) fn new(read: &ReadSpec, chunk: &Chunk) -> Result<ReadPlan, SourceError> {
        let table = &read.table;
        let name = display_name(table);
        let unsupported = |column: &str, message: String| SourceError::Unsupported {
            table: name.clone(),
            column: column.to_string(),
            message,
        };
        let mut selects = Vec::new();
        let mut wires = Vec::new();
        for column in &read.columns {
            let read_column = match &column.value {
                ReadValue::Column(source) => column_expr(find_column(table, source)?),
                ReadValue::Cast(source) => {
                    let source = find_column(table, source)?;
                    let expr = cast_expr(&column_expr(source).expr, &column.data_type)
                        .map_err(|m| unsupported(&column.name, m))?;
                    ColumnRead {
                        expr,
                        wire: Wire::Plain,
                    }
                }
                ReadValue::Expression(sql) => ColumnRead {
                    expr: format!("({sql})"),
                    wire: Wire::Plain,
                },
            };
            let data_type = migrate_batch::data_type(&column.data_type);
            if Decoder::new(&data_type, read_column.wire).is_none() {
                return Err(unsupported(
                    &column.name,
                    format!("{} can't be read as {data_type}", column.data_type),
                ));
            }
            selects.push(read_column.expr);
            wires.push(read_column.wire);
        }
        let batch_columns = selects.len();
        let mut key = Vec::new();
        for part in table.primary_key().unwrap_or_default() {
            let quoted = quote_ident(&part.value);
            let position = match selects.iter().position(|s| *s == quoted) {
                Some(position) => position,
                None => {
                    selects.push(quoted);
                    selects.len() - 1
                }
            };
            key.push((part.value.clone(), position));
        }
        if selects.is_empty() {
            // A batch of no columns still has rows: select something to count them.
            selects.push("1".into());
        }
        let mut condition = chunk_predicate(table, chunk)?;
        if let Some(filter) = &read.filter {
            condition = format!("({condition}) AND ({filter})");
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE {condition}",
            selects.join(", "),
            table_sql_name(table)
        );
        Ok(ReadPlan {
            sql,
            table: name,
            chunk: chunk.index,
            schema: Arc::new(Schema::new(
                read.columns
                    .iter()
                    .map(|c| migrate_batch::field(&c.name, &c.data_type, c.nullable))
                    .collect::<Vec<_>>(),
            )),
            names: read.columns.iter().map(|c| c.name.clone()).collect(),
            wires,
            key,
            extra: selects.len() - batch_columns,
        })
    }

    fn decoders(&self) -> Vec<Decoder> {
        self.schema
            .fields()
            .iter()
            .zip(&self.wires)
            // Checked in `new`.
            .filter_map(|(field, wire)| Decoder::new(field.data_type(), *wire))
            .collect()
    }
}

/// Decodes the rows of one chunk into batches.
struct Batcher<'p> {
    plan: &'p ReadPlan,
    decoders: Vec<Decoder>,
    rows_in_batch: usize,
    bytes_in_batch: usize,
    rows_in_chunk: u64,
}

impl Batcher<'_> {
    fn row(&mut self, row: Row) -> Result<(), SourceError> {
        let mut values = row.unwrap_raw();
        let expected = self.decoders.len() + self.plan.extra;
        if values.len() != expected {
            return Err(SourceError::Unsupported {
                table: self.plan.table.clone(),
                column: String::new(),
                message: format!(
                    "the server returned {} columns instead of {expected}",
                    values.len()
                ),
            });
        }
        self.rows_in_chunk += 1;
        let row_name = |values: &[Option<Value>]| {
            if self.plan.key.is_empty() {
                return format!("#{} of chunk {}", self.rows_in_chunk, self.plan.chunk);
            }
            self.plan
                .key
                .iter()
                .map(|(name, i)| {
                    let value = values[*i].as_ref().map_or("?".into(), display_value);
                    format!("{name}={value}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        for i in 0..self.decoders.len() {
            // Key columns are needed again to name the row in a later column's error: copied
            // (keys are small); other values move into the decoder.
            let is_key = self.plan.key.iter().any(|(_, k)| *k == i);
            let value = if is_key {
                values[i].clone()
            } else {
                values[i].take()
            }
            .unwrap_or(Value::NULL);
            self.bytes_in_batch += match &value {
                Value::Bytes(b) => b.len(),
                _ => 8,
            };
            let result = if value == Value::NULL && !self.plan.schema.field(i).is_nullable() {
                Err(decode::ValueError {
                    reason: "NULL in a column declared NOT NULL".into(),
                    action: "make the column nullable in the mapping, or give the expression a non-NULL value".into(),
                })
            } else {
                self.decoders[i].append(value)
            };
            if let Err(error) = result {
                return Err(SourceError::Unrepresentable {
                    table: self.plan.table.clone(),
                    column: self.plan.names[i].clone(),
                    row: row_name(&values),
                    reason: error.reason,
                    action: error.action,
                });
            }
        }
        self.rows_in_batch += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<RecordBatch, SourceError> {
        let rows = self.rows_in_batch;
        self.rows_in_batch = 0;
        self.bytes_in_batch = 0;
        let arrays = self.decoders.iter_mut().map(Decoder::finish).collect();
        RecordBatch::try_new_with_options(
            self.plan.schema.clone(),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| SourceError::Unsupported {
            table: self.plan.table.clone(),
            column: String::new(),
            message: format!("building a batch of chunk {}: {e}", self.plan.chunk),
        })
    }
}

/// What a reader task sends: items, then `Ok(None)` at the end, or an error.
pub(crate) type Message<T> = Result<Option<T>, SourceError>;

/// The work of one streaming read on a lent reader: sends items on the channel, returns when
/// done (or when the channel is closed: the consumer went away).
pub(crate) type Work<T> = Box<
    dyn for<'c> FnOnce(
            &'c mut Conn,
            &'c mpsc::Sender<Message<T>>,
        ) -> BoxFuture<'c, Result<(), SourceError>>
        + Send,
>;

/// Runs `work` on a reader of the snapshot in a spawned task and streams what it sends, ending
/// with its error if any. `stopped` is the error to end with if the task dies without finishing
/// (a panic): a stream must never look complete when it is not.
pub(crate) fn on_reader<T: Send + 'static>(
    readers: &Arc<Readers>,
    capacity: usize,
    stopped: SourceError,
    work: Work<T>,
) -> BoxStream<'static, Result<T, SourceError>> {
    let (tx, rx) = mpsc::channel::<Message<T>>(capacity);
    let readers = readers.clone();
    tokio::spawn(async move {
        let outcome = async {
            let mut reader = readers.lend().await?;
            let outcome = work(reader.conn(), &tx).await;
            reader.give_back(&outcome);
            outcome
        }
        .await;
        // The consumer may be gone; then nobody needs the outcome.
        let _ = tx.send(outcome.map(|()| None)).await;
    });
    futures::stream::unfold((rx, Some(stopped)), |(mut rx, stopped)| async move {
        let stopped = stopped?;
        match rx.recv().await {
            Some(Ok(Some(item))) => Some((Ok(item), (rx, Some(stopped)))),
            Some(Ok(None)) => None,
            Some(Err(e)) => Some((Err(e), (rx, None))),
            // The task ended without saying it was complete: never pass that off as the end.
            None => Some((Err(stopped), (rx, None))),
        }
    })
    .boxed()
}

/// Streams the chunk's batches; see [`migrate_source::Snapshot::read_chunk`]. A channel of one
/// batch: the reader decodes the next batch while the consumer handles this one.
pub(crate) fn read_chunk(
    readers: &Arc<Readers>,
    read: &ReadSpec,
    chunk: &Chunk,
    batch_rows: usize,
) -> BoxStream<'static, Result<RecordBatch, SourceError>> {
    let plan = match ReadPlan::new(read, chunk) {
        Ok(plan) => plan,
        Err(e) => return futures::stream::once(async move { Err(e) }).boxed(),
    };
    let stopped = SourceError::ReaderStopped {
        table: plan.table.clone(),
        chunk: plan.chunk,
    };
    let batch_rows = batch_rows.max(1);
    on_reader(
        readers,
        1,
        stopped,
        Box::new(move |conn, tx| {
            Box::pin(async move { stream_rows(conn, &plan, batch_rows, tx).await })
        }),
    )
}

async fn stream_rows(
    conn: &mut Conn,
    plan: &ReadPlan,
    batch_rows: usize,
    tx: &mpsc::Sender<Message<RecordBatch>>,
) -> Result<(), SourceError> {
    let context = format!("reading chunk {} of {}", plan.chunk, plan.table);
    let mut batcher = Batcher {
        plan,
        decoders: plan.decoders(),
        rows_in_batch: 0,
        bytes_in_batch: 0,
        rows_in_chunk: 0,
    };
    let mut result = conn
        .exec_iter(plan.sql.as_str(), ())
        .await
        .map_err(SourceError::query(context.clone()))?;
    while let Some(row) = result
        .next()
        .await
        .map_err(SourceError::query(context.clone()))?
    {
        batcher.row(row)?;
        if batcher.rows_in_batch >= batch_rows || batcher.bytes_in_batch >= BATCH_BYTES {
            let batch = batcher.finish()?;
            if tx.send(Ok(Some(batch))).await.is_err() {
                // The consumer stopped reading. The rest of the result is drained by the driver
                // before the connection's next statement.
                return Ok(());
            }
        }
    }
    let warnings = result.warnings();
    drop(result);
    if warnings > 0 {
        let shown: Vec<Row> = conn
            .query(format!("SHOW WARNINGS LIMIT {WARNINGS_SHOWN}"))
            .await
            .map_err(SourceError::query(context))?;
        let messages = shown
            .into_iter()
            .map(|row| {
                row.unwrap_raw()
                    .into_iter()
                    .map(|v| v.as_ref().map_or(String::new(), display_value))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(SourceError::Warnings {
            table: plan.table.clone(),
            chunk: plan.chunk,
            count: warnings,
            messages,
        });
    }
    if batcher.rows_in_batch > 0 {
        let batch = batcher.finish()?;
        // A consumer that stopped reading doesn't need it.
        let _ = tx.send(Ok(Some(batch))).await;
    }
    Ok(())
}
