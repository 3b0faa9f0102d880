//! Validation: each table's rows in the source snapshot against its rows in the target, by row
//! count and checksum (computed in each database), narrowed down to the differing keys when
//! they differ.
//!
//! Parts: with key-range chunks whose key column is loaded, one part per chunk (the chunk's
//! range is a predicate on the target's key column too); otherwise (`ctid` pages, one chunk, a
//! key not loaded) the whole table, its source checksum the combination of its chunks'.

use crate::load::Run;
use crate::summary::{Difference, DifferenceKind, Validation, ValidationStatus};
use crate::table::TableLoad;
use crate::target::Warehouses;
use crate::{ReplicateError, RetryPolicy};
use futures::{StreamExt, TryStreamExt};
use migrate_checksum::ChunkChecksum;
use migrate_core::TargetDialect;
use migrate_source::{Chunk, ChunkBound, KeyedHash, ReadValue, Snapshot, Source};
use migrate_sqlrewrite::target_ident;
use std::cmp::Ordering;

/// Checksums computed at once per table.
const CONCURRENT_PARTS: usize = 4;

/// The validation of a table the run just loaded.
pub(crate) async fn validate_table<S: Source>(
    run: &Run<S>,
    load: &TableLoad,
    chunks: &[Chunk],
) -> Validation {
    let Some(warehouses) = run.target.warehouses() else {
        return failed_to_run("only PostgreSQL targets can be validated".into());
    };
    validate(
        &run.snapshot,
        warehouses,
        load,
        chunks,
        run.options.max_differences,
        &run.options.retry,
    )
    .await
}

fn failed_to_run(note: String) -> Validation {
    Validation {
        status: ValidationStatus::Error,
        source_rows: 0,
        target_rows: 0,
        parts: 0,
        parts_differing: 0,
        missing_in_target: None,
        extra_in_target: None,
        different: None,
        differences: Vec::new(),
        note: Some(note),
    }
}

/// Compares `load`'s rows in `snapshot` with the target's; never fails (an error is the
/// validation's `error` status, with the reason).
pub(crate) async fn validate<T: Snapshot>(
    snapshot: &T,
    warehouses: &Warehouses,
    load: &TableLoad,
    chunks: &[Chunk],
    max_differences: usize,
    retry: &RetryPolicy,
) -> Validation {
    match compare(snapshot, warehouses, load, chunks, max_differences, retry).await {
        Ok(validation) => validation,
        Err(e) => {
            tracing::error!("{}: validation failed to run: {e}", load.label());
            failed_to_run(e.to_string())
        }
    }
}

/// One part of the comparison: source chunks and the target predicate selecting the same rows.
struct Part<'a> {
    chunks: Vec<&'a Chunk>,
    /// The chunk whose rows `row_hashes` lists on the source.
    narrow: Chunk,
    target_predicate: String,
}

fn parts<'a>(load: &TableLoad, chunks: &'a [Chunk]) -> Vec<Part<'a>> {
    let key_column = |column: &str| {
        let position = load
            .read
            .columns
            .iter()
            .position(|c| c.value == ReadValue::Column(column.to_string()))?;
        let ident = &load.target.columns.get(position)?.name;
        Some(target_ident(&ident.value, ident.quoted, TargetDialect::Postgres).sql)
    };
    let per_chunk: Option<Vec<Part<'a>>> = chunks
        .iter()
        .map(|chunk| match &chunk.bound {
            ChunkBound::KeyRange { column, from, to } => {
                let column = key_column(column)?;
                let predicate = match (from, to) {
                    (None, None) => "TRUE".to_string(),
                    (Some(from), None) => format!("{column} >= {from}"),
                    (None, Some(to)) => format!("{column} < {to}"),
                    (Some(from), Some(to)) => {
                        format!("{column} >= {from} AND {column} < {to}")
                    }
                };
                Some(Part {
                    chunks: vec![chunk],
                    narrow: chunk.clone(),
                    target_predicate: predicate,
                })
            }
            _ => None,
        })
        .collect();
    match per_chunk {
        Some(parts) if !parts.is_empty() => parts,
        _ => vec![Part {
            chunks: chunks.iter().collect(),
            narrow: Chunk::whole(),
            target_predicate: "TRUE".into(),
        }],
    }
}

/// The target names of the source's primary key, when every key column is loaded as is.
fn target_key(load: &TableLoad) -> Option<Vec<String>> {
    load.read
        .key_positions()?
        .into_iter()
        .map(|position| Some(load.target.columns.get(position)?.name.value.clone()))
        .collect()
}

async fn compare<T: Snapshot>(
    snapshot: &T,
    warehouses: &Warehouses,
    load: &TableLoad,
    chunks: &[Chunk],
    max_differences: usize,
    retry: &RetryPolicy,
) -> Result<Validation, ReplicateError> {
    let label = load.label();
    let parts = parts(load, chunks);
    // The target writes JSON as the source does.
    let json = snapshot.json_text();
    let key = target_key(load);
    // Rows are counted by key: without one they can't be.
    let counted = key.as_ref().map(|_| 0);
    let mut validation = Validation {
        status: ValidationStatus::Passed,
        source_rows: 0,
        target_rows: 0,
        parts: parts.len() as u32,
        parts_differing: 0,
        missing_in_target: counted,
        extra_in_target: counted,
        different: counted,
        differences: Vec::new(),
        note: None,
    };
    let label = &label;
    let sums = futures::stream::iter(parts.iter().map(|part| async move {
        let source = futures::stream::iter(part.chunks.iter().map(|chunk| async move {
            let what = format!("{label}: source checksum of chunk {}", chunk.index);
            retry
                .run(&what, |_| async {
                    snapshot
                        .checksum(&load.read, chunk)
                        .await
                        .map_err(ReplicateError::source(format!(
                            "computing the checksum of chunk {} of {}",
                            chunk.index, load.source.name
                        )))
                })
                .await
        }))
        .buffer_unordered(CONCURRENT_PARTS)
        .try_fold(ChunkChecksum::default(), |sum, c| async move {
            Ok(sum.combine(&c))
        })
        .await?;
        let target = retry
            .run(&format!("{label}: target checksum"), |_| async {
                Ok::<_, ReplicateError>(
                    warehouses
                        .get()
                        .await?
                        .chunk_checksum(&load.target, &part.target_predicate, json)
                        .await?,
                )
            })
            .await?;
        Ok::<_, ReplicateError>((source, target))
    }))
    .buffered(CONCURRENT_PARTS)
    .try_collect::<Vec<_>>()
    .await?;

    for (part, (source, target)) in parts.iter().zip(sums) {
        validation.source_rows += source.rows;
        validation.target_rows += target.rows;
        if source == target {
            continue;
        }
        let differ = |validation: &mut Validation| {
            validation.status = ValidationStatus::Failed;
            validation.parts_differing += 1;
            tracing::warn!(
                "{label}: rows where {} differ: source {source}, target {target}",
                part.target_predicate
            );
        };
        let Some(key) = &key else {
            differ(&mut validation);
            validation.note = Some(format!(
                "{} has no primary key loaded as a column: the differing rows can't be named",
                load.source.name
            ));
            continue;
        };
        let doing = format!("hashing the rows of {}", load.source.name);
        let source_rows: Vec<KeyedHash> = snapshot
            .row_hashes(&load.read, &part.narrow)
            .map_err(|e| ReplicateError::source(doing.clone())(e))
            .try_collect()
            .await?;
        // A source may hash rows on the client where its database can't write their canonical
        // text (MariaDB keeps a JSON document's escapes: `migrate_checksum::client_row_hash`);
        // the rows match when those hashes add up to the target's checksum.
        let rehashed = ChunkChecksum::of_row_hashes(source_rows.iter().map(|r| r.hash.as_str()));
        if rehashed.is_ok_and(|sum| sum == target) {
            tracing::debug!(
                "{label}: rows where {} match by their row hashes",
                part.target_predicate
            );
            continue;
        }
        differ(&mut validation);
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        let target_rows = warehouses
            .get()
            .await?
            .row_hashes(&load.target, &key, &part.target_predicate, json)
            .await?;
        merge(
            &source_rows,
            &target_rows,
            &key,
            &mut validation,
            max_differences,
        );
    }
    Ok(validation)
}

/// Walks two key-ordered lists together, counting and listing (up to `max`) the differences.
/// `key_columns` name the key's values in the differences (`id=42`).
fn merge(
    source: &[KeyedHash],
    target: &[KeyedHash],
    key_columns: &[&str],
    v: &mut Validation,
    max: usize,
) {
    let record = |kind, key: &str, v: &mut Validation| {
        let count = match kind {
            DifferenceKind::MissingInTarget => &mut v.missing_in_target,
            DifferenceKind::ExtraInTarget => &mut v.extra_in_target,
            DifferenceKind::Different => &mut v.different,
        };
        *count.get_or_insert(0) += 1;
        if v.differences.len() < max {
            v.differences.push(Difference {
                kind,
                key: display_key(key_columns, key),
            });
        }
    };
    let (mut s, mut t) = (source.iter().peekable(), target.iter().peekable());
    loop {
        match (s.peek(), t.peek()) {
            (None, None) => break,
            (Some(a), None) => {
                record(DifferenceKind::MissingInTarget, &a.key, v);
                s.next();
            }
            (None, Some(b)) => {
                record(DifferenceKind::ExtraInTarget, &b.key, v);
                t.next();
            }
            (Some(a), Some(b)) => match a.key.as_bytes().cmp(b.key.as_bytes()) {
                Ordering::Less => {
                    record(DifferenceKind::MissingInTarget, &a.key, v);
                    s.next();
                }
                Ordering::Greater => {
                    record(DifferenceKind::ExtraInTarget, &b.key, v);
                    t.next();
                }
                Ordering::Equal => {
                    if a.hash != b.hash {
                        record(DifferenceKind::Different, &a.key, v);
                    }
                    s.next();
                    t.next();
                }
            },
        }
    }
}

/// A key in the checksum's canonical row text (`"42","x"`: each value quoted with inner quotes
/// doubled, `N` for NULL, joined by commas) shown with its column names: `id=42, name=x`. Text
/// that is not of that form is shown as it is.
fn display_key(columns: &[&str], canonical: &str) -> String {
    match migrate_checksum::row_text_values(canonical) {
        Some(values) if values.len() == columns.len() => columns
            .iter()
            .zip(values)
            .map(|(column, value)| format!("{column}={}", value.as_deref().unwrap_or("NULL")))
            .collect::<Vec<_>>()
            .join(", "),
        _ => canonical.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(list: &[(&str, &str)]) -> Vec<KeyedHash> {
        list.iter()
            .map(|(k, h)| KeyedHash {
                key: k.to_string(),
                hash: h.to_string(),
            })
            .collect()
    }

    #[test]
    fn merging_names_missing_extra_and_different_rows() {
        let mut v = failed_to_run(String::new());
        let source = rows(&[("1", "a"), ("2", "b"), ("4", "d"), ("5", "e")]);
        let target = rows(&[("1", "a"), ("3", "c"), ("4", "x"), ("6", "f")]);
        merge(&source, &target, &["id"], &mut v, 3);
        assert_eq!(
            (v.missing_in_target, v.extra_in_target, v.different),
            (Some(2), Some(2), Some(1))
        );
        let listed: Vec<(DifferenceKind, &str)> = v
            .differences
            .iter()
            .map(|d| (d.kind, d.key.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                (DifferenceKind::MissingInTarget, "2"),
                (DifferenceKind::ExtraInTarget, "3"),
                (DifferenceKind::Different, "4"),
            ],
            "the first three, in key order"
        );
    }

    #[test]
    fn keys_are_shown_with_their_column_names() {
        assert_eq!(display_key(&["id"], "\"42\""), "id=42");
        assert_eq!(
            display_key(&["a", "b"], "\"x \"\"y\"\"\",N"),
            "a=x \"y\", b=NULL"
        );
        assert_eq!(display_key(&["a"], "\"1\",\"2\""), "\"1\",\"2\"");
        assert_eq!(display_key(&["a"], "oops"), "oops");
    }
}
