//! Row changes read from the redo into record batches of the change layout
//! (`migrate_source::change_schema`): `__op`, `__unchanged`, the before-image of each key column,
//! then the after-image of every column.

use crate::redo::{Literal, RedoKind, RedoStatement};
use crate::value;
use crate::OracleError;
use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use migrate_batch::ColumnBuilder;
use migrate_core::Table;
use migrate_source::{change_schema, key_columns, Operation};
use std::sync::Arc;

/// Accumulates the changes of one table into one batch. A row whose conversion fails leaves the
/// batch unusable: the error is definite and the stream stops.
pub struct ChangeBatcher {
    table: Table,
    object: String,
    schema: SchemaRef,
    /// Positions of the key columns in `table.columns`.
    keys: Vec<usize>,
    op: StringBuilder,
    unchanged: StringBuilder,
    before: Vec<ColumnBuilder>,
    after: Vec<ColumnBuilder>,
    rows: usize,
}

impl ChangeBatcher {
    pub fn new(table: &Table) -> Result<ChangeBatcher, OracleError> {
        let schema = Arc::new(change_schema(table));
        let object = table.name.to_string();
        let keys: Vec<usize> = key_columns(table)
            .iter()
            .filter_map(|key| table.columns.iter().position(|c| &c.name.value == key))
            .collect();
        // Fields 0 and 1 are __op and __unchanged; then the key before-images, then the columns.
        let builder = |i: usize| {
            let field = schema.field(i);
            ColumnBuilder::new(field.data_type()).ok_or_else(|| OracleError::Catalog {
                context: format!("preparing the change batches of {object}"),
                message: format!(
                    "no builder for the Arrow type {} of {}",
                    field.data_type(),
                    field.name()
                ),
            })
        };
        let before = (0..keys.len())
            .map(|i| builder(2 + i))
            .collect::<Result<_, _>>()?;
        let after = (0..table.columns.len())
            .map(|i| builder(2 + keys.len() + i))
            .collect::<Result<_, _>>()?;
        Ok(ChangeBatcher {
            table: table.clone(),
            object,
            schema,
            keys,
            op: StringBuilder::new(),
            unchanged: StringBuilder::new(),
            before,
            after,
            rows: 0,
        })
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row change read at `scn`.
    pub fn push(&mut self, scn: u64, redo: &RedoStatement) -> Result<(), OracleError> {
        let operation = match redo.kind {
            RedoKind::Insert => Operation::Insert,
            RedoKind::Update => Operation::Update,
            RedoKind::Delete => Operation::Delete,
        };
        // Before-image of the key: updates and deletes.
        for slot in 0..self.keys.len() {
            let column = &self.table.columns[self.keys[slot]];
            if operation == Operation::Insert {
                self.before[slot].append_null();
                continue;
            }
            let value = redo.before(&column.name.value).ok_or_else(|| OracleError::Unsupported {
                table: self.object.clone(),
                scn,
                message: format!("the redo of this {} does not carry the old value of key column {}", operation_name(operation), column.name.value),
                action: "enable supplemental logging of all columns: ALTER DATABASE ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS (or ALTER TABLE ... ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS), then reload the table".into(),
            })?;
            self.append(slot, true, scn, value)?;
        }
        // After-image: every column for inserts and updates.
        let mut unchanged = String::new();
        let mut any_unchanged = false;
        for index in 0..self.table.columns.len() {
            match operation {
                Operation::Delete => {
                    self.after[index].append_null();
                    unchanged.push('0');
                }
                Operation::Insert => {
                    let value = redo
                        .after(&self.table.columns[index].name.value)
                        .unwrap_or(&Literal::Null);
                    self.append(index, false, scn, value)?;
                    unchanged.push('0');
                }
                Operation::Update => match redo.after(&self.table.columns[index].name.value) {
                    Some(value) => {
                        self.append(index, false, scn, value)?;
                        unchanged.push('0');
                    }
                    // Not logged (a LOB, or no all-column supplemental logging): the target keeps
                    // the row's value.
                    None => {
                        self.after[index].append_null();
                        unchanged.push('1');
                        any_unchanged = true;
                    }
                },
            }
        }
        self.op.append_value(operation.code());
        if any_unchanged {
            self.unchanged.append_value(&unchanged);
        } else {
            self.unchanged.append_null();
        }
        self.rows += 1;
        Ok(())
    }

    fn append(
        &mut self,
        slot: usize,
        before: bool,
        scn: u64,
        value: &Literal,
    ) -> Result<(), OracleError> {
        let index = if before { self.keys[slot] } else { slot };
        let column = &self.table.columns[index];
        let builder = if before {
            &mut self.before[slot]
        } else {
            &mut self.after[slot]
        };
        value::append(builder, &column.data_type, value).map_err(|e| OracleError::Unrepresentable {
            table: self.object.clone(),
            column: column.name.value.clone(),
            scn,
            reason: e.reason,
            action: e.action,
        })
    }

    /// The batch of the rows appended since the last call; the batcher starts over.
    pub fn finish(&mut self) -> Result<RecordBatch, OracleError> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.op.finish()),
            Arc::new(self.unchanged.finish()),
        ];
        columns.extend(self.before.iter_mut().map(|b| b.finish()));
        columns.extend(self.after.iter_mut().map(|b| b.finish()));
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| OracleError::Catalog {
            context: format!("building a change batch of {}", self.object),
            message: e.to_string(),
        })
    }
}

fn operation_name(op: Operation) -> &'static str {
    match op {
        Operation::Insert => "insert",
        Operation::Update => "update",
        Operation::Delete => "delete",
    }
}
