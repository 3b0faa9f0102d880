//! What the full load checks on the live source when it plans a table's load, before the
//! target table is prepared: keys whose values a PostgreSQL target's B-tree index can't take.
//! Their declared types only say a value *may* be too wide (`index.key-too-wide` in `migrate
//! convert`); the source's rows say whether one is, and such a table is refused before anything
//! of it is loaded rather than failing mid-load, hours in.

use crate::table::TableLoad;
use crate::ReplicateError;
use migrate_core::{ConstraintKind, Ident};
use migrate_dialect::{btree_entry_bytes, btree_max_key_bytes, wide_key, BTREE_MAX_ENTRY_BYTES};
use migrate_source::{ReadValue, Source};

/// A primary or unique key of a target table that may be too wide, with its source columns.
struct WideKey {
    /// `PRIMARY KEY (url)`, `UNIQUE u (a, b)`: as messages name it.
    object: String,
    /// The key's columns in the source, as stored.
    columns: Vec<String>,
}

/// Refuses `load` when a primary or unique key of its target table (as PostgreSQL creates it)
/// has a value in the source that makes a B-tree entry over [`BTREE_MAX_ENTRY_BYTES`]: only
/// keys whose declared types allow that ([`wide_key`]) are measured, with one full scan of the
/// table ([`Source::widest_keys`]). Called for a PostgreSQL target (Redshift has no indexes)
/// when the table's load is planned, before the target table is prepared: once per plan, not
/// on a resume. A table whose keys can't be measured is loaded as before, with a warning.
pub(crate) async fn refuse_wide_keys<S: Source>(
    source: &S,
    load: &TableLoad,
) -> Result<(), ReplicateError> {
    let keys = wide_keys(load);
    if keys.is_empty() {
        return Ok(());
    }
    let label = load.label();
    let columns: Vec<Vec<String>> = keys.iter().map(|k| k.columns.clone()).collect();
    let widths = match source.widest_keys(&load.source, &columns).await {
        Ok(widths) => widths,
        Err(e) => {
            tracing::warn!("{label}: could not measure the widest values of its keys ({e}): loading it without that check");
            return Ok(());
        }
    };
    for (key, width) in keys.iter().zip(&widths) {
        let Some(bytes) = width.widest else { continue };
        let limit = btree_max_key_bytes(key.columns.len());
        if bytes <= limit {
            tracing::info!("{label}: the widest value of {} is {bytes} bytes, within PostgreSQL's B-tree limit of {BTREE_MAX_ENTRY_BYTES} bytes per index entry", key.object);
            continue;
        }
        let entry = btree_entry_bytes(key.columns.len(), bytes);
        return Err(ReplicateError::Unsupported {
            message: format!(
                "{}: {} of the target has a value of {bytes} bytes in the source (an index entry of {entry} bytes), but PostgreSQL's B-tree index takes at most {BTREE_MAX_ENTRY_BYTES} bytes per entry: the load would fail on that row, so the table is not loaded",
                load.source.name, key.object
            ),
            action: format!(
                "find the rows with SELECT ... WHERE {} > {limit} (bytes as the target stores them); shorten those values, or give the target another key (a define-primary-key rule on other columns) and enforce uniqueness on md5 of the column, then run again",
                width.expression
            ),
        });
    }
    Ok(())
}

/// The enabled, validated primary and unique keys of `load`'s target table (those PostgreSQL
/// creates) that [`wide_key`] finds may be too wide, each of source columns read as stored
/// (a key over a computed column can't be measured in the source).
fn wide_keys(load: &TableLoad) -> Vec<WideKey> {
    let target = &load.target;
    target
        .constraints
        .iter()
        .filter(|c| c.state.enabled && c.state.validated)
        .filter_map(|constraint| {
            let (kind, columns) = match &constraint.kind {
                ConstraintKind::PrimaryKey(columns) => ("PRIMARY KEY", columns),
                ConstraintKind::Unique(columns) => ("UNIQUE", columns),
                _ => return None,
            };
            wide_key(target, columns)?;
            let source_columns = columns
                .iter()
                .map(|name| source_column(load, name))
                .collect::<Option<Vec<String>>>()?;
            let names: Vec<&str> = columns.iter().map(|c| c.value.as_str()).collect();
            let name = constraint
                .name
                .as_ref()
                .map(|n| format!(" {}", n.value))
                .unwrap_or_default();
            Some(WideKey {
                object: format!("{kind}{name} ({})", names.join(", ")),
                columns: source_columns,
            })
        })
        .collect()
}

/// The source column that target column `name` of `load` is read from, as stored.
fn source_column(load: &TableLoad, name: &Ident) -> Option<String> {
    let column = load.target.column(name)?;
    let read = load
        .read
        .columns
        .iter()
        .find(|read| read.name == column.name.value)?;
    match &read.value {
        ReadValue::Column(source) | ReadValue::Cast(source) => Some(source.clone()),
        ReadValue::Expression(_) => None,
    }
}
