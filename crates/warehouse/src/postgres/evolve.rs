//! Source schema changes during CDC (ADD COLUMN, DROP COLUMN, and the RENAME COLUMNs the source is
//! sure of) carried to the target table, with the converter's type mapping.

use super::prepare::create_sql;
use super::{target_column, target_name, PostgresWarehouse};
use crate::WarehouseError;
use migrate_core::{
    Column, Finding, Ident, QualifiedName, Severity, SourceDialect, Table, TargetDialect,
};
use migrate_sqlrewrite::stored_ident;

/// What [`PostgresWarehouse::evolve_table`] does when a source table gains or loses columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaChangePolicy {
    /// Add the new columns to the target (typed by the converter, as `migrate convert` and
    /// `prepare` would) and drop the removed ones, then go on.
    #[default]
    Apply,
    /// Change nothing and stop with a definite error naming the table, the columns and what to do.
    Stop,
}

/// The probe table the converter's column definitions are created in (temporary, dropped at once).
const PROBE: &str = "migrate_evolve_probe";

fn names(columns: &[&Column]) -> String {
    columns
        .iter()
        .map(|c| c.name.value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl PostgresWarehouse {
    /// Carries a change of source table `old` into `new` (same table, columns added, dropped or
    /// renamed) to the target table, as `policy` says, in one transaction; returns what was done
    /// as findings (`cdc.column-added`, `cdc.column-dropped`, `cdc.column-renamed`, plus the
    /// converter's findings about new columns). Nothing to do returns no findings.
    ///
    /// `renamed`: the columns the source knows were renamed, as (old, new) names of target
    /// columns (`old`'s and `new`'s). A rename that does not fit the two definitions (the old
    /// name still in `new`, the new one already in `old`, another type, a key column that is not
    /// at the same place of the new key) is taken as a drop and an add, like any rename the
    /// source could not tell.
    ///
    /// **Apply**: each added column is written by the converter (`migrate_dialect::emit`, types,
    /// defaults and NOT NULL as for `prepare`) and added with `ADD COLUMN IF NOT EXISTS`; each
    /// dropped column is removed with `DROP COLUMN IF EXISTS`; each renamed one is renamed with
    /// `RENAME COLUMN` while the target has the old name and not the new one (already renamed:
    /// nothing to do). So running it again after a crash is harmless. Existing target rows get
    /// the new column's default (or NULL), as the source's rows did. Call it before applying the
    /// first change that uses the new definition; changes staged under the old definition must
    /// be applied first.
    ///
    /// Errors (definite, nothing changed): under [`SchemaChangePolicy::Stop`], any added,
    /// dropped or renamed column; under both policies, a dropped key column, and a column whose
    /// type changed while the target column does not have the type the converter makes of the
    /// new one yet (those need a decision: change the target by hand, or reload the table).
    pub async fn evolve_table(
        &self,
        old: &Table,
        new: &Table,
        renamed: &[(String, String)],
        from: SourceDialect,
        policy: SchemaChangePolicy,
    ) -> Result<Vec<Finding>, WarehouseError> {
        let target = target_name(new);
        let schema_error = |message: String| WarehouseError::Schema {
            table: target.clone(),
            message,
        };
        // Names as the target stores them: a source rename that changes only the case (MySQL's
        // `RENAME COLUMN n TO N`) leaves the target column as it is.
        let find = |table: &'_ Table, name: &str| -> Option<usize> {
            let stored = stored_ident(name, TargetDialect::Postgres);
            (table.columns.iter())
                .position(|c| stored_ident(&c.name.value, TargetDialect::Postgres) == stored)
        };
        let keys = migrate_source::key_columns(old);
        let new_keys = migrate_source::key_columns(new);
        let fitting: Vec<(&Column, &Column)> = renamed
            .iter()
            .filter_map(|(was, now)| {
                let (before, after) =
                    (&old.columns[find(old, was)?], &new.columns[find(new, now)?]);
                // A key column renamed keeps its place in the key (the rows are applied by the
                // new name once the target has it); anything else is a change of key.
                let fits = find(new, was).is_none()
                    && find(old, now).is_none()
                    && before.data_type == after.data_type
                    && keys.iter().position(|k| k == was) == new_keys.iter().position(|k| k == now);
                fits.then_some((before, after))
            })
            .collect();
        // The renames to make, and those the target has made already (a replay after a crash).
        // With both names there, or neither, it is not the table the rename was of: taken as a
        // drop and an add, which stops the task while the target has the old column.
        let mut renames = Vec::new();
        let mut made = Vec::new();
        if !fitting.is_empty() {
            let columns = self.target_columns(&target).await?;
            let has = |column: &Column| {
                columns.contains(&stored_ident(&column.name.value, TargetDialect::Postgres))
            };
            for (before, after) in fitting {
                match (has(before), has(after)) {
                    (true, false) => renames.push((before, after)),
                    (false, true) => made.push((before, after)),
                    _ => {}
                }
            }
        }
        let renamed_from =
            |c: &Column| (renames.iter().chain(&made)).any(|(before, _)| before.name == c.name);
        let renamed_to =
            |c: &Column| (renames.iter().chain(&made)).any(|(_, after)| after.name == c.name);
        let added: Vec<&Column> = new
            .columns
            .iter()
            .filter(|c| find(old, &c.name.value).is_none() && !renamed_to(c))
            .collect();
        let dropped: Vec<&Column> = old
            .columns
            .iter()
            .filter(|c| find(new, &c.name.value).is_none() && !renamed_from(c))
            .collect();
        let retyped: Vec<(&Column, &Column)> = new
            .columns
            .iter()
            .filter_map(|c| find(old, &c.name.value).map(|i| (&old.columns[i], c)))
            .filter(|(before, after)| before.data_type != after.data_type)
            .collect();
        self.refuse_retyped(&retyped, from, &target).await?;
        if let Some(key) = dropped.iter().find(|c| keys.contains(&c.name.value)) {
            return Err(schema_error(format!(
                "primary-key column {} was dropped in the source; the changes can't be applied by key any more: reload the table",
                key.name
            )));
        }
        if added.is_empty() && dropped.is_empty() && renames.is_empty() {
            return Ok(Vec::new());
        }
        if policy == SchemaChangePolicy::Apply {
            self.refuse_renames(old, new, &dropped, &target).await?;
        }
        if policy == SchemaChangePolicy::Stop {
            let mut what = Vec::new();
            if !added.is_empty() {
                what.push(format!("columns added in the source: {}", names(&added)));
            }
            if !dropped.is_empty() {
                what.push(format!(
                    "columns dropped in the source: {}",
                    names(&dropped)
                ));
            }
            if !renames.is_empty() {
                let pairs: Vec<String> = (renames.iter())
                    .map(|(before, after)| format!("{} to {}", before.name, after.name))
                    .collect();
                what.push(format!(
                    "columns renamed in the source: {}",
                    pairs.join(", ")
                ));
            }
            return Err(schema_error(format!(
                "{}; the schema-change policy is stop, so nothing was changed: make the same change to the target table and restart, or restart with the apply policy",
                what.join("; ")
            )));
        }

        let doing =
            |what: &str| format!("changing table {target} after a source schema change: {what}");
        let mut findings = Vec::new();
        let mut client = self.client.lock().await;
        let tx = client
            .transaction()
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        for (before, after) in &renames {
            let sql = format!(
                "ALTER TABLE {target} RENAME COLUMN {} TO {}",
                target_column(&before.name),
                target_column(&after.name)
            );
            tx.batch_execute(&sql)
                .await
                .map_err(WarehouseError::database(doing(&sql)))?;
            findings.push(Finding::new(
                Severity::Info,
                "cdc.column-renamed",
                &target,
                format!(
                    "column {} was renamed to {} in the source, and in the target, with its values",
                    before.name, after.name
                ),
                "none",
            ));
        }
        if !added.is_empty() {
            let (definitions, converter_findings) =
                converted_columns(&tx, &added, from, &doing).await?;
            findings.extend(converter_findings);
            if definitions.len() != added.len() {
                return Err(schema_error(format!(
                    "the converter wrote {} columns for the {} added ones ({})",
                    definitions.len(),
                    added.len(),
                    names(&added)
                )));
            }
            for (column, definition) in added.iter().zip(&definitions) {
                let ty: String = definition.get(0);
                let default: Option<String> = definition.get(1);
                let not_null: bool = definition.get(2);
                let mut sql = format!(
                    "ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {} {ty}",
                    target_column(&column.name)
                );
                if let Some(default) = &default {
                    sql.push_str(&format!(" DEFAULT {default}"));
                }
                if not_null {
                    sql.push_str(" NOT NULL");
                }
                tx.batch_execute(&sql)
                    .await
                    .map_err(WarehouseError::database(doing(&sql)))?;
                findings.push(Finding::new(
                    Severity::Info,
                    "cdc.column-added",
                    &target,
                    format!(
                        "column {} was added in the source and to the target as {ty}{}{}",
                        column.name,
                        default.map_or(String::new(), |d| format!(" DEFAULT {d}")),
                        if not_null { " NOT NULL" } else { "" }
                    ),
                    "none",
                ));
            }
        }
        for column in &dropped {
            let sql = format!(
                "ALTER TABLE {target} DROP COLUMN IF EXISTS {}",
                target_column(&column.name)
            );
            tx.batch_execute(&sql)
                .await
                .map_err(WarehouseError::database(doing(&format!(
                    "{sql} (views that use the column must be dropped first)"
                ))))?;
            findings.push(Finding::new(
                Severity::Info,
                "cdc.column-dropped",
                &target,
                format!(
                    "column {} was dropped in the source and from the target, with its values",
                    column.name
                ),
                "none",
            ));
        }
        tx.commit()
            .await
            .map_err(WarehouseError::database(doing("COMMIT")))?;
        Ok(findings)
    }

    /// The names of `target`'s columns, as its catalog has them.
    async fn target_columns(&self, target: &str) -> Result<Vec<String>, WarehouseError> {
        let client = self.client.lock().await;
        let rows = client
            .query(
                "SELECT attname::text FROM pg_attribute \
                  WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped",
                &[&target],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "changing table {target} after a source schema change: reading its columns"
            )))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// A column whose type changed in the source needs a decision (the target's values must be
    /// converted): it stops the task, naming the `ALTER TABLE` that gives the target column the
    /// type the converter makes of the new one, unless the target column has that type already
    /// (the user ran it): then the change is carried on.
    async fn refuse_retyped(
        &self,
        retyped: &[(&Column, &Column)],
        from: SourceDialect,
        target: &str,
    ) -> Result<(), WarehouseError> {
        if retyped.is_empty() {
            return Ok(());
        }
        let doing =
            |what: &str| format!("changing table {target} after a source schema change: {what}");
        let mut client = self.client.lock().await;
        // The probe table of the converted types is only read: the transaction is rolled back.
        let tx = client
            .transaction()
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        let after: Vec<&Column> = retyped.iter().map(|(_, after)| *after).collect();
        let (converted, _) = converted_columns(&tx, &after, from, &doing).await?;
        for ((before, after), definition) in retyped.iter().zip(&converted) {
            let wanted: String = definition.get(0);
            let name: String = definition.get(3);
            let column = target_column(&after.name);
            let current: Option<String> = tx
                .query_opt(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
                      WHERE attrelid = $1::text::regclass AND attname = $2 AND NOT attisdropped",
                    &[&target, &name],
                )
                .await
                .map_err(WarehouseError::database(doing(&format!(
                    "reading the type of column {column}"
                ))))?
                .map(|row| row.get(0));
            if current.as_deref() != Some(wanted.as_str()) {
                // The source's ALTER rewrote the rows that existed without a change in the
                // stream: a PostgreSQL `USING x * 10` changed their values, which only the same
                // expression on the target (or a reload) reproduces.
                let using = if from == SourceDialect::Postgres {
                    ", with the USING expression of the source's ALTER if it had one".to_string()
                } else if !before.data_type.same_kind(&after.data_type) {
                    // PostgreSQL converts to a type of another kind (text holding digits to a
                    // number) only with a USING, the conversion MySQL's ALTER made.
                    format!(" USING {column}::{wanted}")
                } else {
                    String::new()
                };
                return Err(WarehouseError::Schema {
                    table: target.to_string(),
                    message: format!(
                        "column {} changed type in the source from {} to {}; migrate applies only ADD COLUMN and DROP COLUMN, and the change stream carries none of the rows the source's ALTER converted: convert the target column the same way (ALTER TABLE {target} ALTER COLUMN {column} TYPE {wanted}{using}) and run the task again, or reload the table (--restart)",
                        after.name, before.data_type, after.data_type
                    ),
                });
            }
        }
        tx.rollback()
            .await
            .map_err(WarehouseError::database(doing("ROLLBACK")))
    }

    /// A source `RENAME COLUMN` the source can't be sure of (PostgreSQL's log carries names, not
    /// column numbers), or one the task's mapping makes unclear, reaches here as a dropped column
    /// and an added one, not in `renamed`. Applied as such, the column's values would be gone
    /// from every row the source does not change again. So a dropped column whose place in
    /// `new` holds an added column stops the task while the target still has it: the user
    /// renames it there (or drops it, when it really was dropped and another added), and the
    /// next run goes on. The added column's type may differ in size or precision, as a rename
    /// can change it too (MySQL's `CHANGE v vv VARCHAR(30)` of a `VARCHAR(20)`; the next run then
    /// asks for the type change), but not in kind: text in the place of a number is taken for a
    /// drop and an add.
    async fn refuse_renames(
        &self,
        old: &Table,
        new: &Table,
        dropped: &[&Column],
        target: &str,
    ) -> Result<(), WarehouseError> {
        // The target's columns, read at the first candidate.
        let mut columns = None;
        for gone in dropped {
            let Some(at) = old.columns.iter().position(|c| c.name == gone.name) else {
                continue;
            };
            let Some(successor) = new.columns.get(at) else {
                continue;
            };
            let is_new = !old
                .columns
                .iter()
                .any(|c| c.name.value == successor.name.value);
            if !is_new || !successor.data_type.same_kind(&gone.data_type) {
                continue;
            }
            let (gone_sql, successor_sql) =
                (target_column(&gone.name), target_column(&successor.name));
            let columns = match &mut columns {
                Some(columns) => columns,
                None => columns.insert(self.target_columns(target).await?),
            };
            if columns.contains(&stored_ident(&gone.name.value, TargetDialect::Postgres)) {
                let (took, then) = if successor.data_type == gone.data_type {
                    ("a column of the same type took its place", "")
                } else {
                    (
                        "a column of the same kind took its place, with another type",
                        " (that run then stops with the change of its type to make)",
                    )
                };
                return Err(WarehouseError::Schema {
                    table: target.to_string(),
                    message: format!(
                        "column {} seems renamed to {} in the source (it is gone, and {took}); applied as a drop and an add it would lose its values: rename it in the target (ALTER TABLE {target} RENAME COLUMN {gone_sql} TO {successor_sql}) and run again{then}, or, if it really was dropped and another added, drop it from the target (ALTER TABLE {target} DROP COLUMN {gone_sql}) and run again",
                        gone.name, successor.name
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The converter's definitions of `columns` for a target table (as `prepare` would create them),
/// read back from a temporary probe table made in `tx`: one row per column of `format_type`,
/// default expression, NOT NULL and name (as the target table has it); and the converter's
/// findings.
async fn converted_columns(
    tx: &tokio_postgres::Transaction<'_>,
    columns: &[&Column],
    from: SourceDialect,
    doing: &impl Fn(&str) -> String,
) -> Result<(Vec<tokio_postgres::Row>, Vec<Finding>), WarehouseError> {
    let mut probe = Table::new(QualifiedName::new(None, Ident::new(PROBE)));
    probe.columns = columns.iter().map(|c| (*c).clone()).collect();
    let (ddl, findings) = create_sql(&probe, from);
    let ddl = ddl.replacen(
        &format!("CREATE TABLE {PROBE}"),
        &format!("CREATE TEMP TABLE {PROBE}"),
        1,
    );
    tx.batch_execute(&ddl)
        .await
        .map_err(WarehouseError::database(doing(&format!(
            "running the converted column definitions\n{ddl}"
        ))))?;
    let definitions = tx
        .query(
            "SELECT format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), a.attnotnull, \
                    a.attname::text \
               FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
              WHERE a.attrelid = 'pg_temp.migrate_evolve_probe'::regclass AND a.attnum > 0 AND NOT a.attisdropped \
              ORDER BY a.attnum",
            &[],
        )
        .await
        .map_err(WarehouseError::database(doing("reading the converted columns")))?;
    tx.batch_execute(&format!("DROP TABLE pg_temp.{PROBE}"))
        .await
        .map_err(WarehouseError::database(doing("dropping the probe table")))?;
    Ok((definitions, findings))
}
