//! A chunk the target refused because of its own rows (a value a column can't hold, a
//! constraint a row breaks): its staged copy is withdrawn, so that the next run reads the chunk
//! from the corrected source instead of loading the same rows again, and the row is named by
//! its primary key, read back from the staged copy.

use crate::table::TableLoad;
use crate::ReplicateError;
use arrow::array::RecordBatch;
use futures::StreamExt;
use migrate_stage::{Manifest, ManifestKey, Stage, StageError};
use migrate_warehouse::BadRow;

/// The error of chunk `chunk` of `load`, staged as `manifest` (`key`), whose row `bad` the
/// target refused, after withdrawing the manifest.
pub(crate) async fn refused_chunk(
    stage: &Stage,
    key: &ManifestKey,
    manifest: &Manifest,
    load: &TableLoad,
    chunk: u32,
    bad: BadRow<'_>,
) -> ReplicateError {
    let (row, value) = describe_row(stage, manifest, load, bad).await;
    let column = bad
        .column
        .map(|c| format!(", column {c}{value}"))
        .unwrap_or_default();
    let action = match stage.discard_manifest(key).await {
        Ok(()) => "correct the row in the source (or change the target table so that it accepts it), then run the same command again, without --restart: this chunk is read from the source again, and the chunks already loaded are kept".to_string(),
        Err(e) => format!("its staged copy could not be withdrawn ({e}), so a run without --restart would load the same rows again: correct the row in the source, then run with --restart"),
    };
    ReplicateError::Refused {
        table: load.label(),
        chunk,
        at: format!("{row}{column}"),
        message: bad.message.to_string(),
        action,
    }
}

/// The refused row, by its primary key (read back from the staged copy) and its position, and
/// the staged value of the column at fault (` (staged value: x)`, or empty).
async fn describe_row(
    stage: &Stage,
    manifest: &Manifest,
    load: &TableLoad,
    bad: BadRow<'_>,
) -> (String, String) {
    let Some(row) = bad.row else {
        return ("a row the server did not number".into(), String::new());
    };
    let position = format!("row {} of {} in the chunk", row + 1, manifest.rows);
    match staged_row(stage, manifest, row).await {
        Ok(Some(batch)) => {
            let value = bad
                .column
                .and_then(|c| value_text(&batch, c))
                .map(|v| format!(" (staged value: {v})"))
                .unwrap_or_default();
            let named = match key_text(load, &batch) {
                Some(key) => format!("row {key} ({position})"),
                None => format!("{position} (the table has no primary key to name it)"),
            };
            (named, value)
        }
        Ok(None) => (position, String::new()),
        Err(e) => (
            format!("{position} (reading it back from staging failed: {e})"),
            String::new(),
        ),
    }
}

/// Row `row` (counting from 0) of the staged chunk, as a batch of one row; `None` when the
/// chunk has fewer rows.
async fn staged_row(
    stage: &Stage,
    manifest: &Manifest,
    row: u64,
) -> Result<Option<RecordBatch>, StageError> {
    let mut skipped = 0u64;
    for entry in &manifest.entries {
        let mut batches = stage.read_chunk(entry);
        while let Some(batch) = batches.next().await {
            let batch = batch?;
            let rows = batch.num_rows() as u64;
            if row < skipped + rows {
                return Ok(Some(batch.slice((row - skipped) as usize, 1)));
            }
            skipped += rows;
        }
    }
    Ok(None)
}

/// `id=42, region=EU`: the target's primary key in `batch`'s only row (`NULL` for a null part),
/// as validation shows keys; `None` without a primary key.
fn key_text(load: &TableLoad, batch: &RecordBatch) -> Option<String> {
    let key = load.target.primary_key()?;
    let columns = key
        .iter()
        .map(|column| Some((column.value.as_str(), batch.column_by_name(&column.value)?)))
        .collect::<Option<Vec<_>>>()?;
    Some(migrate_warehouse::key_text(columns, 0))
}

/// The value of `column` in `batch`'s only row, as messages show it.
fn value_text(batch: &RecordBatch, column: &str) -> Option<String> {
    Some(migrate_warehouse::shown_value_text(
        batch.column_by_name(column)?,
        0,
    ))
}
