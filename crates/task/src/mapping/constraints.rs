//! Constraints and partitioning refer to columns and tables by name: they follow the renames of
//! the transformation rules, and those that can't (a key column removed, a referenced table not
//! loaded, a CHECK expression over renamed columns) are dropped with a
//! `mapping.constraint-dropped` finding rather than created wrong.

use migrate_core::{Constraint, ConstraintKind, Finding, Ident, QualifiedName, Severity, Table};
use std::collections::BTreeMap;

/// What happened to each source column, by its name: its target name, or `None` when removed.
pub(crate) type ColumnMap = BTreeMap<String, Option<Ident>>;

fn map_columns(columns: &[Ident], table: &Table, map: &ColumnMap) -> Option<Vec<Ident>> {
    columns
        .iter()
        .map(|c| {
            let source = table.column(c)?;
            map.get(&source.name.value).cloned().flatten()
        })
        .collect()
}

/// Makes the constraints and partitioning of `target` (copied from `source`) follow the
/// transformations, dropping with a finding those that can't.
pub(crate) fn follow(
    source: &Table,
    target: &mut Table,
    column_map: &ColumnMap,
    targets: &[(&Table, QualifiedName, ColumnMap)],
    findings: &mut Vec<Finding>,
) {
    let renamed = column_map
        .iter()
        .any(|(name, to)| to.as_ref().is_none_or(|t| t.value != *name));
    let mut kept = Vec::new();
    for constraint in std::mem::take(&mut target.constraints) {
        let rewritten = match &constraint.kind {
            ConstraintKind::PrimaryKey(cols) => map_columns(cols, source, column_map)
                .map(ConstraintKind::PrimaryKey)
                .ok_or("one of its columns is not loaded"),
            ConstraintKind::Unique(cols) => map_columns(cols, source, column_map)
                .map(ConstraintKind::Unique)
                .ok_or("one of its columns is not loaded"),
            ConstraintKind::Check(text) if !renamed => Ok(ConstraintKind::Check(text.clone())),
            ConstraintKind::Check(_) => {
                Err("its expression refers to columns that were renamed or removed")
            }
            ConstraintKind::ForeignKey(fk) => {
                match targets
                    .iter()
                    .find(|(s, _, _)| s.name.matches(&fk.referenced_table))
                {
                    None => Err("the table it references is not loaded"),
                    Some((referenced, referenced_target, referenced_map)) => {
                        let columns = map_columns(&fk.columns, source, column_map);
                        let referenced_columns =
                            map_columns(&fk.referenced_columns, referenced, referenced_map);
                        match (columns, referenced_columns) {
                            (Some(columns), Some(referenced_columns)) => {
                                let mut fk = fk.clone();
                                fk.columns = columns;
                                fk.referenced_columns = referenced_columns;
                                fk.referenced_table = referenced_target.clone();
                                Ok(ConstraintKind::ForeignKey(fk))
                            }
                            _ => Err("one of its columns is not loaded"),
                        }
                    }
                }
            }
        };
        match rewritten {
            Ok(kind) => kept.push(Constraint { kind, ..constraint }),
            Err(why) => findings.push(Finding::new(
                Severity::Warning,
                "mapping.constraint-dropped",
                source.name.to_string(),
                format!(
                    "constraint {} is not created on the target: {why}",
                    constraint
                        .name
                        .as_ref()
                        .map_or_else(|| "(unnamed)".to_string(), |n| n.value.clone())
                ),
                "recreate it on the target by hand if it is still wanted",
            )),
        }
    }
    target.constraints = kept;
    if let Some(partitioning) = &mut target.partitioning {
        match map_columns(&partitioning.columns, source, column_map) {
            Some(columns) => partitioning.columns = columns,
            None => {
                target.partitioning = None;
                findings.push(Finding::new(
                    Severity::Warning,
                    "mapping.constraint-dropped",
                    source.name.to_string(),
                    "the table is not partitioned on the target: a partition key column is not loaded",
                    "keep the partition key columns, or partition the target by hand",
                ));
            }
        }
    }
}
