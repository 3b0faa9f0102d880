//! Loading one chunk: binary `COPY ... FROM STDIN` and the checkpoint, in one transaction.

use super::encode::{self, Target, Values};
use super::{checkpoint, target_name, PostgresWarehouse};
use crate::WarehouseError;
use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use bytes::{BufMut, BytesMut};
use futures::{pin_mut, SinkExt, Stream, StreamExt};
use migrate_core::{ErrorClass, Retry, Table, TargetDialect};
use migrate_sqlrewrite::stored_ident;

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
pub(crate) struct ColumnPlan {
    /// The source column name, for messages.
    pub name: String,
    pub target: Target,
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
    /// the chunk with a definite [`WarehouseError::Value`] naming the column and row, and one the
    /// server refuses (or a constraint a row breaks) with a definite
    /// [`WarehouseError::Refused`], naming them as COPY's error context does.
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

        let (probe, column_list) =
            super::prepare::target_columns(&tx, &name, table, &doing).await?;
        let expected = migrate_batch::schema(table);
        let plans =
            column_plans(&expected, probe.columns()).map_err(|message| WarehouseError::Schema {
                table: name.clone(),
                message,
            })?;

        let copy = format!("COPY {name} ({column_list}) FROM STDIN (FORMAT binary)");
        // As COPY's error context names the table: unqualified, unquoted.
        let relation = stored_ident(&table.name.name.value, TargetDialect::Postgres);
        let rows = copy_batches(&tx, &copy, &plans, &expected, batches, |_| Ok(()))
            .await
            .map_err(|failure| match failure {
                CopyFailure::Source {
                    rows,
                    message,
                    retry,
                } => WarehouseError::Source {
                    table: name.clone(),
                    chunk,
                    rows,
                    message,
                    retry,
                },
                CopyFailure::Schema(message) => WarehouseError::Schema {
                    table: name.clone(),
                    message: format!("chunk {chunk}: {message}"),
                },
                CopyFailure::Value {
                    column,
                    row,
                    message,
                } => WarehouseError::Value {
                    table: name.clone(),
                    column,
                    chunk,
                    row,
                    message,
                },
                CopyFailure::Database {
                    doing: what,
                    source,
                } => match refused_row(&source, &relation, probe.columns(), &plans) {
                    Some((row, column)) => WarehouseError::Refused {
                        table: name.clone(),
                        chunk,
                        row,
                        column,
                        message: migrate_pgconn::describe(&source),
                    },
                    None => WarehouseError::database(doing(what))(source),
                },
            })?;
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

/// How each field of `expected` is written into the column of the same position in `columns`
/// (the target's, as a prepared statement describes them).
pub(crate) fn column_plans(
    expected: &Schema,
    columns: &[tokio_postgres::Column],
) -> Result<Vec<ColumnPlan>, String> {
    expected
        .fields()
        .iter()
        .zip(columns)
        .map(|(field, column)| {
            let target = encode::plan(field.data_type(), column.type_()).map_err(|message| {
                // Spatial values arrive as WKB, for the BYTEA column convert gives them.
                let spatial = matches!(
                    migrate_batch::logical_type(field),
                    Ok(migrate_core::LogicalType::Geometry | migrate_core::LogicalType::Geography)
                );
                if spatial {
                    format!(
                        "column {}: spatial values arrive as WKB and load into a BYTEA column (the type migrate convert gives them), but this column is {}; change it to BYTEA, or remove the column with a remove-column rule, or exclude the table",
                        field.name(),
                        column.type_()
                    )
                } else {
                    format!("column {}: {message}", field.name())
                }
            })?;
            Ok(ColumnPlan {
                name: field.name().clone(),
                target,
            })
        })
        .collect()
}

/// Where a failed COPY into `relation` refused a row of its own data (SQLSTATE class 22, a
/// value the column can't hold, or 23, a constraint the row breaks): the row, counting from 0,
/// from COPY's error context (`COPY t, line 100, column c`: binary COPY counts rows from 1 as
/// lines), and the column as `plans` names it (from the context, or the error's column field).
/// `None` for any other error.
fn refused_row(
    error: &tokio_postgres::Error,
    relation: &str,
    columns: &[tokio_postgres::Column],
    plans: &[ColumnPlan],
) -> Option<(Option<u64>, Option<String>)> {
    let db = error.as_db_error()?;
    if !matches!(db.code().code().get(..2), Some("22" | "23")) {
        return None;
    }
    let (line, context_column) = db
        .where_()
        .and_then(|context| copy_position(context, relation))
        .map_or((None, None), |(line, column)| (Some(line), column));
    let column = context_column.or(db.column()).map(|attname| {
        columns
            .iter()
            .zip(plans)
            .find(|(c, _)| c.name() == attname)
            .map_or_else(|| attname.to_string(), |(_, plan)| plan.name.clone())
    });
    Some((line.and_then(|l| l.checked_sub(1)), column))
}

/// The line and column of COPY's error context line about `relation` (`COPY t, line 100` or
/// `COPY t, line 100, column c`); the context may hold other lines (a function's, a trigger's).
fn copy_position<'a>(context: &'a str, relation: &str) -> Option<(u64, Option<&'a str>)> {
    let prefix = format!("COPY {relation}, line ");
    let rest = context.lines().find_map(|l| l.strip_prefix(&prefix))?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let line = rest[..digits].parse().ok()?;
    Some((line, rest[digits..].strip_prefix(", column ")))
}

/// Why [`copy_batches`] failed; callers add the table and what they were loading.
pub(crate) enum CopyFailure {
    /// The stream of batches returned an error after `rows` rows.
    Source {
        rows: u64,
        message: String,
        retry: Retry,
    },
    /// A batch does not have the expected layout.
    Schema(String),
    /// A value the target column can't hold; `row` counts from 0 over the whole stream.
    Value {
        column: String,
        row: u64,
        message: String,
    },
    Database {
        doing: &'static str,
        source: tokio_postgres::Error,
    },
}

/// Runs `copy` (a `COPY ... FROM STDIN (FORMAT binary)`) and streams every row of `batches`
/// (whose schema must be `expected`, one [`ColumnPlan`] per column) into it, one batch in memory
/// at a time; `check` sees each batch first and may reject it. Returns the rows copied.
pub(crate) async fn copy_batches<S, E>(
    tx: &tokio_postgres::Transaction<'_>,
    copy: &str,
    plans: &[ColumnPlan],
    expected: &Schema,
    batches: S,
    mut check: impl FnMut(&RecordBatch) -> Result<(), String>,
) -> Result<u64, CopyFailure>
where
    S: Stream<Item = Result<RecordBatch, E>>,
    E: std::fmt::Display + ErrorClass,
{
    let database = |doing: &'static str| move |source| CopyFailure::Database { doing, source };
    let sink = tx.copy_in(copy).await.map_err(database("starting COPY"))?;
    pin_mut!(sink);
    let mut buffer = BytesMut::with_capacity(SEND_BYTES + SEND_BYTES / 4);
    buffer.put_slice(encode::HEADER);
    let mut rows: u64 = 0;
    pin_mut!(batches);
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(|e| CopyFailure::Source {
            rows,
            message: e.to_string(),
            retry: e.retry(),
        })?;
        if batch.num_columns() != plans.len() {
            return Err(CopyFailure::Schema(format!(
                "a batch has {} columns, {} were expected",
                batch.num_columns(),
                plans.len()
            )));
        }
        let mut values = Vec::with_capacity(plans.len());
        for (index, (array, field)) in batch.columns().iter().zip(expected.fields()).enumerate() {
            if array.data_type() != field.data_type() {
                return Err(CopyFailure::Schema(format!(
                    "column {} arrives as Arrow {}, but the batch contract says {}",
                    plans[index].name,
                    array.data_type(),
                    field.data_type()
                )));
            }
            values.push(Values::new(array).ok_or_else(|| {
                CopyFailure::Schema(format!("column {}: unexpected array", plans[index].name))
            })?);
        }
        check(&batch).map_err(CopyFailure::Schema)?;
        let field_count = i16::try_from(plans.len())
            .map_err(|_| CopyFailure::Schema("more than 32767 columns".into()))?;
        for row in 0..batch.num_rows() {
            buffer.put_i16(field_count);
            for (column, plan) in values.iter().zip(plans) {
                column
                    .write(row, &plan.target, &mut buffer)
                    .map_err(|message| CopyFailure::Value {
                        column: plan.name.clone(),
                        row: rows + row as u64,
                        message,
                    })?;
            }
            if buffer.len() >= SEND_BYTES {
                sink.send(buffer.split().freeze())
                    .await
                    .map_err(database("sending rows"))?;
            }
        }
        rows += batch.num_rows() as u64;
    }
    buffer.put_slice(encode::TRAILER);
    sink.send(buffer.split().freeze())
        .await
        .map_err(database("sending rows"))?;
    let copied = sink
        .as_mut()
        .finish()
        .await
        .map_err(database("finishing COPY"))?;
    if copied != rows {
        return Err(CopyFailure::Schema(format!(
            "{rows} rows were sent but the server copied {copied}; nothing was loaded"
        )));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::copy_position;

    #[test]
    fn copy_positions_are_read_from_the_context_of_the_table() {
        assert_eq!(
            copy_position("COPY t, line 100, column c", "t"),
            Some((100, Some("c")))
        );
        assert_eq!(copy_position("COPY t, line 7", "t"), Some((7, None)));
        // A column name may hold anything; a function's context line may come first.
        assert_eq!(
            copy_position(
                "PL/pgSQL function check_v() line 3 at RAISE\nCOPY Odd t, line 2, column a, b",
                "Odd t"
            ),
            Some((2, Some("a, b")))
        );
        assert_eq!(copy_position("COPY other, line 2, column c", "t"), None);
        assert_eq!(copy_position("SQL statement \"SELECT 1\"", "t"), None);
    }
}
