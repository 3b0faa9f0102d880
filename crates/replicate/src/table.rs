//! One table's load, as the mapping planned it: what the source reads ([`ReadSpec`]), what the
//! target table is, and the plan recorded in the target so that a resumed run reuses it.

use crate::expr;
use crate::ReplicateError;
use migrate_core::{SourceDialect, Table, TargetDialect};
use migrate_source::{Chunk, ChunkBound, ReadColumn, ReadSpec, ReadValue};
use migrate_task::TablePlan;
use serde::{Deserialize, Serialize};

/// A table to load.
#[derive(Debug, Clone)]
pub(crate) struct TableLoad {
    /// The discovered source table.
    pub source: Table,
    /// The target table: the mapping's names, columns and types.
    pub target: Table,
    pub read: ReadSpec,
    /// What identifies the mapping of the table (see [`description`]): a resumed run must have
    /// the same, and the same chunk size.
    pub description: String,
    /// The target's dialect, which folds the target names shown to users.
    target_dialect: TargetDialect,
    /// The target is an existing table of the source database that the mapping does not select
    /// (source and target are the same database): the table of an earlier run of this task,
    /// or one of the user's own, which only a table state of this task tells apart.
    pub target_is_unselected_source_table: bool,
    /// The `define-primary-key` rule that defined the target's key, for messages about it.
    pub key_rule: Option<String>,
}

impl TableLoad {
    /// Builds the read of `plan` from `source` in `dialect`, translating `add-column`
    /// expressions and the row filter to the source's SQL. `quote` quotes a source identifier;
    /// `target_dialect` is the target's.
    pub fn new(
        plan: &TablePlan,
        source: &Table,
        dialect: SourceDialect,
        target_dialect: TargetDialect,
        quote: &dyn Fn(&str) -> String,
    ) -> Result<TableLoad, ReplicateError> {
        let mut columns = Vec::with_capacity(plan.columns.len());
        for (mapping, target) in plan.columns.iter().zip(&plan.target.columns) {
            let value = match (&mapping.source, &mapping.expression) {
                (Some(name), _) => match source.column(name) {
                    Some(column) if column.data_type == target.data_type => {
                        ReadValue::Column(column.name.value.clone())
                    }
                    Some(column) => ReadValue::Cast(column.name.value.clone()),
                    None => {
                        return Err(ReplicateError::State {
                            table: source.name.to_string(),
                            message: format!(
                                "the plan reads column {name}, which the table does not have"
                            ),
                            action: "report this as a bug in migrate".into(),
                        })
                    }
                },
                (None, Some(expression)) => {
                    ReadValue::Expression(expr::translate(expression, dialect, quote).map_err(
                        |e| ReplicateError::Expression {
                            table: source.name.to_string(),
                            problem: format!(
                                "column {}: {}: expression `{expression}`: {e}",
                                target.name.value,
                                mapping.rule.as_deref().unwrap_or("add-column"),
                            ),
                        },
                    )?)
                }
                (None, None) => ReadValue::Expression("NULL".into()),
            };
            columns.push(ReadColumn {
                name: target.name.value.clone(),
                value,
                data_type: target.data_type.clone(),
                nullable: target.nullable,
            });
        }
        let read = ReadSpec {
            table: source.clone(),
            columns,
            filter: plan
                .filter
                .as_ref()
                .map(|f| f.to_sql(dialect, |i| quote(&i.value))),
        };
        Ok(TableLoad {
            source: source.clone(),
            target: plan.target.clone(),
            description: description(&read, &plan.target),
            read,
            target_dialect,
            target_is_unselected_source_table: false,
            key_rule: plan.key_rule.clone(),
        })
    }

    /// A short hash of the plan with `chunk_rows`, for messages and the table state.
    pub fn fingerprint(&self, chunk_rows: u64) -> String {
        let plan = format!("{} {chunk_rows}", self.description);
        format!("{:08x}", crc32c::crc32c(plan.as_bytes()))
    }

    /// The target table's name as the target has it (folded: a source's `"Actor"` is `actor`
    /// there), for summaries and messages.
    pub fn label(&self) -> String {
        migrate_sqlrewrite::target_name(&self.target.name, self.target_dialect)
    }
}

/// What a load depends on besides the chunk size, as canonical JSON text: the tables' names,
/// each column's value, type and nullability, and the row filter. Statistics are left out: they
/// change without changing what is loaded.
fn description(read: &ReadSpec, target: &Table) -> String {
    let columns: Vec<serde_json::Value> = read
        .columns
        .iter()
        .map(|c| {
            let (kind, value) = match &c.value {
                ReadValue::Column(name) => ("column", name),
                ReadValue::Cast(name) => ("cast", name),
                ReadValue::Expression(sql) => ("expression", sql),
            };
            serde_json::json!({
                "name": c.name, kind: value, "type": c.data_type.to_string(), "nullable": c.nullable,
            })
        })
        .collect();
    let source_columns: Vec<String> = read
        .table
        .columns
        .iter()
        .map(|c| format!("{} {}", c.name.value, c.data_type))
        .collect();
    serde_json::json!({
        "source": read.table.name.to_string(),
        "source_columns": source_columns,
        "source_key": read.table.primary_key().unwrap_or_default().iter().map(|k| k.value.clone()).collect::<Vec<_>>(),
        "target": target.name.to_string(),
        "columns": columns,
        "filter": read.filter,
    })
    .to_string()
}

/// The plan recorded in the target's table state when a table starts loading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RecordedPlan {
    pub version: u32,
    /// Names this load's staged objects, so that a restarted load never reuses them.
    pub run: String,
    pub description: String,
    pub chunk_rows: u64,
    pub chunks: Vec<RecordedChunk>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum RecordedChunk {
    All,
    KeyRange {
        column: String,
        from: Option<i64>,
        to: Option<i64>,
    },
    PageRange {
        from: u64,
        to: Option<u64>,
    },
}

const PLAN_VERSION: u32 = 1;

impl RecordedPlan {
    pub fn new(
        run: String,
        description: String,
        chunk_rows: u64,
        chunks: &[Chunk],
    ) -> RecordedPlan {
        RecordedPlan {
            version: PLAN_VERSION,
            run,
            description,
            chunk_rows,
            chunks: chunks
                .iter()
                .map(|c| match &c.bound {
                    ChunkBound::All => RecordedChunk::All,
                    ChunkBound::KeyRange { column, from, to } => RecordedChunk::KeyRange {
                        column: column.clone(),
                        from: *from,
                        to: *to,
                    },
                    ChunkBound::PageRange { from, to } => RecordedChunk::PageRange {
                        from: *from,
                        to: *to,
                    },
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        // A struct of strings and numbers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a recorded plan; `table` names it in errors.
    pub fn parse(text: &str, table: &str) -> Result<RecordedPlan, ReplicateError> {
        let plan: RecordedPlan = serde_json::from_str(text).map_err(|e| ReplicateError::State {
            table: table.to_string(),
            message: format!(
                "the load plan recorded in migrate.migrate_table_state can't be read ({e})"
            ),
            action: "run again with --restart to load the table from scratch".into(),
        })?;
        if plan.version != PLAN_VERSION {
            return Err(ReplicateError::State {
                table: table.to_string(),
                message: format!(
                    "the load plan was recorded by another version of migrate (plan version {})",
                    plan.version
                ),
                action: "finish the load with that version, or run again with --restart".into(),
            });
        }
        Ok(plan)
    }

    pub fn chunks(&self) -> Vec<Chunk> {
        self.chunks
            .iter()
            .enumerate()
            .map(|(index, c)| Chunk {
                index: index as u32,
                bound: match c {
                    RecordedChunk::All => ChunkBound::All,
                    RecordedChunk::KeyRange { column, from, to } => ChunkBound::KeyRange {
                        column: column.clone(),
                        from: *from,
                        to: *to,
                    },
                    RecordedChunk::PageRange { from, to } => ChunkBound::PageRange {
                        from: *from,
                        to: *to,
                    },
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Catalog, Column, Ident, LogicalType, QualifiedName};
    use migrate_source::key_range_chunks;
    use migrate_task::TableMappings;

    fn catalog() -> Catalog {
        let mut table = Table::new(QualifiedName::new(
            Some(Ident::new("public")),
            Ident::new("emp"),
        ));
        let mut id = Column::new(Ident::new("id"), "integer", LogicalType::Integer);
        id.nullable = false;
        table.columns.push(id);
        table
            .columns
            .push(Column::new(Ident::new("name"), "text", LogicalType::Text));
        table.columns.push(Column::new(
            Ident::new("salary"),
            "integer",
            LogicalType::Integer,
        ));
        Catalog {
            tables: vec![table],
            ..Catalog::default()
        }
    }

    fn quote(name: &str) -> String {
        format!("\"{name}\"")
    }

    #[test]
    fn reads_follow_the_mapping() {
        let mappings = TableMappings::parse(
            r#"{"rules": [
            {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include",
             "filters": [{"filter-type": "source", "column-name": "salary", "filter-conditions": [{"filter-operator": "gte", "value": "100"}]}]},
            {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "public", "table-name": "emp", "column-name": "name"}, "rule-action": "rename", "value": "full_name"},
            {"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-target": "column", "object-locator": {"schema-name": "public", "table-name": "emp", "column-name": "salary"}, "rule-action": "change-data-type", "data-type": {"type": "int8"}},
            {"rule-type": "transformation", "rule-id": "4", "rule-name": "4", "rule-target": "column", "object-locator": {"schema-name": "public", "table-name": "emp"}, "rule-action": "add-column", "value": "tag", "expression": "upper($name) || '!'", "data-type": {"type": "string", "length": 50}}
        ]}"#,
        )
        .unwrap();
        let catalog = catalog();
        let plan = mappings.plan(&catalog).unwrap();
        let load = TableLoad::new(
            &plan.tables[0],
            &catalog.tables[0],
            SourceDialect::Postgres,
            TargetDialect::Postgres,
            &quote,
        )
        .unwrap();
        let values: Vec<(&str, &ReadValue)> = load
            .read
            .columns
            .iter()
            .map(|c| (c.name.as_str(), &c.value))
            .collect();
        assert_eq!(
            values,
            [
                ("id", &ReadValue::Column("id".into())),
                ("full_name", &ReadValue::Column("name".into())),
                ("salary", &ReadValue::Cast("salary".into())),
                (
                    "tag",
                    &ReadValue::Expression("(UPPER(\"name\") || '!')".into())
                ),
            ]
        );
        assert_eq!(load.read.filter.as_deref(), Some("\"salary\" >= 100"));
        assert_eq!(load.read.columns[2].data_type, LogicalType::BigInt);

        // The fingerprint changes with the chunk size, so a resumed run notices.
        assert_ne!(load.fingerprint(1000), load.fingerprint(2000));
    }

    #[test]
    fn untranslatable_expressions_name_the_rule() {
        let mappings = TableMappings::parse(
            r#"{"rules": [
            {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"},
            {"rule-type": "transformation", "rule-id": "7", "rule-name": "tagger", "rule-target": "column", "object-locator": {"schema-name": "public", "table-name": "emp"}, "rule-action": "add-column", "value": "tag", "expression": "hex($name)", "data-type": {"type": "string", "length": 50}}
        ]}"#,
        )
        .unwrap();
        let catalog = catalog();
        let plan = mappings.plan(&catalog).unwrap();
        let error = TableLoad::new(
            &plan.tables[0],
            &catalog.tables[0],
            SourceDialect::Postgres,
            TargetDialect::Postgres,
            &quote,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("rule-id 7"), "{error}");
        assert!(error.contains("hex() is not supported"), "{error}");
        assert!(error.contains("public.emp"), "{error}");
    }

    #[test]
    fn recorded_plans_round_trip() {
        let chunks = key_range_chunks("id", 1, 1000, Some(1000), 300);
        let plan = RecordedPlan::new("r1".into(), "{}".into(), 300, &chunks);
        let back = RecordedPlan::parse(&plan.to_json(), "t").unwrap();
        assert_eq!(back, plan);
        assert_eq!(back.chunks(), chunks);
        assert!(RecordedPlan::parse("{", "t").is_err());
    }
}
