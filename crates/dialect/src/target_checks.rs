//! Replication preflight checks that need the target's type map: columns whose type the target
//! can't hold, or holds with a loss the map warns about.

use crate::typemap::TypeMaps;
use migrate_core::{Catalog, PreflightCheck, Severity, TargetDialect};
use std::collections::HashMap;

/// One check per column whose canonical type the target's map rejects (blocker) or maps with a
/// warning or action note (warning); columns that map cleanly produce nothing.
pub fn target_type_checks(catalog: &Catalog, target: TargetDialect) -> Vec<PreflightCheck> {
    let map = TypeMaps::builtin().target(target);
    let mut mapped = HashMap::new();
    let mut checks = Vec::new();
    for table in &catalog.tables {
        for column in &table.columns {
            let result = mapped
                .entry(column.data_type.clone())
                .or_insert_with(|| map.map_target(&column.data_type));
            let object = format!("{}.{}", table.name, column.name.value);
            match result {
                Err(error) => checks.push(PreflightCheck::blocker(
                    "preflight.target-type",
                    object,
                    format!(
                        "{} ({}): {error}",
                        column.source_type,
                        column.data_type.canonical_name()
                    ),
                    format!(
                        "convert the column to a type {} supports, or exclude it from the task",
                        target.name()
                    ),
                )),
                Ok(mapped) => {
                    if let Some(note) = mapped
                        .notes
                        .iter()
                        .find(|n| n.severity >= Severity::Warning)
                    {
                        checks.push(PreflightCheck::warning(
                            "preflight.target-type",
                            object,
                            format!(
                                "{} becomes {}: {}",
                                column.source_type, mapped.value, note.message
                            ),
                            note.action.clone(),
                        ));
                    }
                }
            }
        }
    }
    checks
}
