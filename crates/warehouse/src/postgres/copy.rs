//! Loading one chunk: binary `COPY ... FROM STDIN` and the checkpoint, in one transaction.

use super::encode::{self, Target, Values};
use super::{checkpoint, target_column, target_name, PostgresWarehouse};
use crate::WarehouseError;
use arrow::array::RecordBatch;
use bytes::{BufMut, BytesMut};
use futures::{pin_mut, SinkExt, Stream, StreamExt};
use migrate_core::{ErrorClass, Table};

/// Encoded rows are sent to the server in messages of about this size: memory stays bounded by
/// one record batch plus this buffer (plus one value, when a value is larger).
const SEND_BYTES: usize = 1 << 20;

/// What [`PostgresWarehouse::load_chunk`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOutcome {
    /// Rows of the chunk: loaded now, or loaded by an earlier call when skipped.
    pub rows: u64,
    /// The chunk's checkpoint already existed: nothing was loaded this time.
    pub skipped_already_loaded: bool,
}

/// One column of the chunk: where it goes and how its values are written.
struct ColumnPlan {
    /// The source column name, for messages.
    name: String,
    target: Target,
}

impl PostgresWarehouse {
    /// Loads chunk `chunk` of `table` for `task`: rows come from `batches`, whose schema is
    /// `migrate_batch::schema(table)` (columns in table order; target columns are matched by their
    /// converted names).
    ///
    /// **Durability**: one transaction holds a lock on (task, table, chunk), checks the
    /// checkpoint, streams every row with binary `COPY target (columns) FROM STDIN`, inserts the
    /// checkpoint row and commits. The chunk is durable exactly when that commit returns `Ok`; then
    /// rows and checkpoint are both there, and before it neither is (a crash, a dropped
    /// connection, a failing stream or a bad value rolls everything back).
    ///
    /// **Retry**: calling again for a chunk that committed loads nothing and answers
    /// `skipped_already_loaded: true` with the rows it was loaded with; so retrying after any error
    /// (or after a lost commit acknowledgement) loads each chunk exactly once. Concurrent calls for
    /// the same chunk wait for each other. The stream is consumed only when the chunk is not loaded.
    ///
    /// Errors: a stream item `Err(e)` aborts the chunk ([`WarehouseError::Source`], retried as `e`
    /// says); a value the target column can't hold, including text with a NUL character, fails
    /// the chunk with a definite [`WarehouseError::Value`] naming the column and row.
    pub async fn load_chunk<S, E>(
        &self,
        task: &str,
        table: &Table,
        chunk: u32,
        batches: S,
    ) -> Result<LoadOutcome, WarehouseError>
    where
        S: Stream<Item = Result<RecordBatch, E>>,
        E: std::fmt::Display + ErrorClass,
    {
        let source_table = checkpoint::source_table_key(table);
        let name = target_name(table);
        let doing = |what: &str| format!("loading table {name}, chunk {chunk}: {what}");
        let mut client = self.client.lock().await;
        let tx = client
            .transaction()
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        if let Some(rows) = checkpoint::lock_and_find(&tx, task, &source_table, chunk).await? {
            tx.rollback()
                .await
                .map_err(WarehouseError::database(doing("ROLLBACK")))?;
            return Ok(LoadOutcome {
                rows,
                skipped_already_loaded: true,
            });
        }

        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| target_column(&c.name))
            .collect();
        let column_list = columns.join(", ");
        let probe = tx
            .prepare(&format!("SELECT {column_list} FROM {name} LIMIT 0"))
            .await
            .map_err(|source| match source.code() {
                Some(code) if code.code() == "42P01" || code.code() == "42703" => {
                    WarehouseError::Schema {
                        table: name.clone(),
                        message: format!(
                            "the target table or one of its columns ({column_list}) is missing: {}; run prepare first",
                            source.as_db_error().map_or(String::new(), |db| db.message().to_string())
                        ),
                    }
                }
                _ => WarehouseError::database(doing("reading the target columns"))(source),
            })?;
        let expected = migrate_batch::schema(table);
        let mut plans = Vec::with_capacity(columns.len());
        for ((column, field), target_column) in table
            .columns
            .iter()
            .zip(expected.fields())
            .zip(probe.columns())
        {
            let target =
                encode::plan(field.data_type(), target_column.type_()).map_err(|message| {
                    WarehouseError::Schema {
                        table: name.clone(),
                        message: format!("column {}: {message}", column.name),
                    }
                })?;
            plans.push(ColumnPlan {
                name: column.name.value.clone(),
                target,
            });
        }

        let sink = tx
            .copy_in(&format!(
                "COPY {name} ({column_list}) FROM STDIN (FORMAT binary)"
            ))
            .await
            .map_err(WarehouseError::database(doing("starting COPY")))?;
        pin_mut!(sink);
        let mut buffer = BytesMut::with_capacity(SEND_BYTES + SEND_BYTES / 4);
        buffer.put_slice(encode::HEADER);
        let mut rows: u64 = 0;
        pin_mut!(batches);
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| WarehouseError::Source {
                table: name.clone(),
                chunk,
                rows,
                message: e.to_string(),
                retry: e.retry(),
            })?;
            let schema_error = |message: String| WarehouseError::Schema {
                table: name.clone(),
                message: format!("chunk {chunk}: {message}"),
            };
            if batch.num_columns() != plans.len() {
                return Err(schema_error(format!(
                    "a batch has {} columns, the table {}",
                    batch.num_columns(),
                    plans.len()
                )));
            }
            let mut values = Vec::with_capacity(plans.len());
            for (index, (array, field)) in batch.columns().iter().zip(expected.fields()).enumerate()
            {
                if array.data_type() != field.data_type() {
                    return Err(schema_error(format!(
                        "column {} arrives as Arrow {}, but the batch contract says {}",
                        plans[index].name,
                        array.data_type(),
                        field.data_type()
                    )));
                }
                values.push(Values::new(array).ok_or_else(|| {
                    schema_error(format!("column {}: unexpected array", plans[index].name))
                })?);
            }
            let field_count = i16::try_from(plans.len())
                .map_err(|_| schema_error("more than 32767 columns".into()))?;
            for row in 0..batch.num_rows() {
                buffer.put_i16(field_count);
                for (column, plan) in values.iter().zip(&plans) {
                    column
                        .write(row, &plan.target, &mut buffer)
                        .map_err(|message| WarehouseError::Value {
                            table: name.clone(),
                            column: plan.name.clone(),
                            chunk,
                            row: rows + row as u64,
                            message,
                        })?;
                }
                if buffer.len() >= SEND_BYTES {
                    sink.send(buffer.split().freeze())
                        .await
                        .map_err(WarehouseError::database(doing("sending rows")))?;
                }
            }
            rows += batch.num_rows() as u64;
        }
        buffer.put_slice(encode::TRAILER);
        sink.send(buffer.split().freeze())
            .await
            .map_err(WarehouseError::database(doing("sending rows")))?;
        let copied = sink
            .as_mut()
            .finish()
            .await
            .map_err(WarehouseError::database(doing("finishing COPY")))?;
        if copied != rows {
            return Err(WarehouseError::Schema {
                table: name.clone(),
                message: format!(
                    "chunk {chunk}: {rows} rows were sent but the server copied {copied}; nothing was loaded"
                ),
            });
        }
        checkpoint::insert(&tx, task, &source_table, chunk, rows).await?;
        tx.commit()
            .await
            .map_err(WarehouseError::database(doing("COMMIT")))?;
        Ok(LoadOutcome {
            rows,
            skipped_already_loaded: false,
        })
    }
}
