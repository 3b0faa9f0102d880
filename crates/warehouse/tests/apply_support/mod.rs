//! Builders for change batches and an independent model of their effect: the changes replayed
//! one by one, in order, over a map from key to row (what applying them row by row would do).

#![allow(dead_code)] // each test binary uses part of it

use arrow::array::{ArrayRef, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use migrate_core::{
    Column, Constraint, ConstraintKind, ErrorClass, Ident, LogicalType, QualifiedName, Retry, Table,
};
use migrate_warehouse::staged_change_schema;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug)]
pub struct StageError(pub &'static str);

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl ErrorClass for StageError {
    fn retry(&self) -> Retry {
        Retry::Transient
    }
}

/// A table `schema.name` with `columns` (name, canonical type) and primary key `key`.
pub fn table(schema: &str, name: &str, columns: &[(&str, &str)], key: &[&str]) -> Table {
    let mut table = Table::new(QualifiedName::new(
        Some(Ident::new(schema)),
        Ident::new(name),
    ));
    for (column, ty) in columns {
        let mut column = Column::new(Ident::new(*column), *ty, LogicalType::parse(ty).unwrap());
        column.nullable = !key.contains(&column.name.value.as_str());
        table.columns.push(column);
    }
    if !key.is_empty() {
        table.constraints.push(Constraint {
            name: None,
            kind: ConstraintKind::PrimaryKey(key.iter().map(|k| Ident::new(*k)).collect()),
            state: Default::default(),
            index: Default::default(),
        });
    }
    table
}

/// One column of an update's new image.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    Value(String),
    Null,
    /// Not sent (an unchanged TOASTed value): the row keeps its value.
    Unchanged,
}

pub type Row = Vec<Option<String>>;

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Insert(Row),
    /// Before key, new image.
    Update(Vec<String>, Vec<After>),
    /// Before key.
    Delete(Vec<String>),
    Truncate,
}

pub fn ins(values: &[Option<&str>]) -> Change {
    Change::Insert(values.iter().map(|v| v.map(str::to_string)).collect())
}

pub fn upd(before: &[&str], after: Vec<After>) -> Change {
    Change::Update(before.iter().map(|v| v.to_string()).collect(), after)
}

pub fn del(before: &[&str]) -> Change {
    Change::Delete(before.iter().map(|v| v.to_string()).collect())
}

pub fn v(value: &str) -> After {
    After::Value(value.to_string())
}

/// The positions of the key columns.
pub fn key_positions(table: &Table) -> Vec<usize> {
    migrate_source::key_columns(table)
        .iter()
        .map(|k| {
            table
                .columns
                .iter()
                .position(|c| &c.name.value == k)
                .unwrap()
        })
        .collect()
}

fn array(data_type: &DataType, values: Vec<Option<String>>) -> ArrayRef {
    match data_type {
        DataType::Int64 => Arc::new(Int64Array::from(
            values
                .iter()
                .map(|v| v.as_ref().map(|v| v.parse::<i64>().unwrap()))
                .collect::<Vec<_>>(),
        )),
        DataType::Int32 => Arc::new(Int32Array::from(
            values
                .iter()
                .map(|v| v.as_ref().map(|v| v.parse::<i32>().unwrap()))
                .collect::<Vec<_>>(),
        )),
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from(values)),
        DataType::Utf8 => Arc::new(StringArray::from(values)),
        other => panic!("the test builder has no arrays of {other}"),
    }
}

/// A change as the columns of a change row.
pub struct Parts<'a> {
    pub op: &'static str,
    pub unchanged: Option<String>,
    pub before: Option<&'a Vec<String>>,
    pub after: Row,
}

/// The columns of `change`'s row in a table of `width` columns.
pub fn parts(change: &Change, width: usize) -> Parts<'_> {
    let (op, unchanged, before, after) = match change {
        Change::Insert(row) => ("I", None, None, row.clone()),
        Change::Update(before, after) => {
            let unchanged = after.contains(&After::Unchanged).then(|| {
                after
                    .iter()
                    .map(|a| if *a == After::Unchanged { '1' } else { '0' })
                    .collect()
            });
            let image = after
                .iter()
                .map(|a| match a {
                    After::Value(v) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            ("U", unchanged, Some(before), image)
        }
        Change::Delete(before) => ("D", None, Some(before), vec![None; width]),
        Change::Truncate => ("T", None, None, vec![None; width]),
    };
    Parts {
        op,
        unchanged,
        before,
        after,
    }
}

/// The record batch of `changes` (with their `__seq`) in [`staged_change_schema`].
pub fn batch(table: &Table, changes: &[(i64, Change)]) -> RecordBatch {
    let schema = Arc::new(staged_change_schema(table));
    let keys = key_positions(table);
    let width = table.columns.len();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); schema.fields().len()];
    for (seq, change) in changes {
        let Parts {
            op,
            unchanged,
            before,
            after,
        } = parts(change, width);
        columns[0].push(Some(seq.to_string()));
        columns[1].push(Some(op.to_string()));
        columns[2].push(unchanged);
        for i in 0..keys.len() {
            columns[3 + i].push(before.map(|b| b[i].clone()));
        }
        for (i, value) in after.into_iter().enumerate() {
            columns[3 + keys.len() + i].push(value);
        }
    }
    let arrays = schema
        .fields()
        .iter()
        .zip(columns)
        .map(|(field, values)| array(field.data_type(), values))
        .collect();
    RecordBatch::try_new(schema, arrays).unwrap()
}

/// `changes` as record batches of at most `size` rows.
pub fn batches(table: &Table, changes: &[(i64, Change)], size: usize) -> Vec<RecordBatch> {
    changes.chunks(size).map(|c| batch(table, c)).collect()
}

/// Key -> row, replayed change by change.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub keys: Vec<usize>,
    pub rows: HashMap<Vec<String>, Row>,
}

impl Model {
    pub fn new(table: &Table, initial: &[Row]) -> Model {
        let mut model = Model {
            keys: key_positions(table),
            rows: HashMap::new(),
        };
        for row in initial {
            model.rows.insert(model.key(row), row.clone());
        }
        model
    }

    fn key(&self, row: &Row) -> Vec<String> {
        self.keys.iter().map(|&k| row[k].clone().unwrap()).collect()
    }

    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Insert(row) => {
                let key = self.key(row);
                assert!(
                    self.rows.insert(key.clone(), row.clone()).is_none(),
                    "the test inserts key {key:?} twice"
                );
            }
            Change::Update(before, after) => {
                let old = self
                    .rows
                    .remove(before)
                    .unwrap_or_else(|| panic!("the test updates missing key {before:?}"));
                let new: Row = after
                    .iter()
                    .zip(old)
                    .map(|(a, old)| match a {
                        After::Value(v) => Some(v.clone()),
                        After::Null => None,
                        After::Unchanged => old,
                    })
                    .collect();
                let key = self.key(&new);
                assert!(
                    self.rows.insert(key.clone(), new).is_none(),
                    "the test moves a row onto existing key {key:?}"
                );
            }
            Change::Delete(before) => {
                assert!(
                    self.rows.remove(before).is_some(),
                    "the test deletes missing key {before:?}"
                );
            }
            Change::Truncate => self.rows.clear(),
        }
    }

    /// Rows as [`read_table`] prints them, sorted.
    pub fn render(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .rows
            .values()
            .map(|row| {
                row.iter()
                    .map(|v| match v {
                        None => "NULL".to_string(),
                        Some(v) => format!("'{}'", v.replace('\'', "''")),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        lines.sort();
        lines
    }
}

/// Every row of target table `name` (columns `columns`), each value as `quote_nullable(text)`,
/// sorted.
pub fn read_table(db: &migrate_testkit::PgDatabase, name: &str, columns: &[&str]) -> Vec<String> {
    let select = columns
        .iter()
        .map(|c| format!("quote_nullable({c}::text)"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    let out = db.sql(&format!("SELECT {select} FROM {name}")).unwrap();
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// `INSERT INTO name VALUES ...` of `rows` (as text literals, cast by the server).
pub fn insert_sql(name: &str, rows: &[Row]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|row| {
            let values: Vec<String> = row
                .iter()
                .map(|v| match v {
                    None => "NULL".into(),
                    Some(v) => format!("'{}'", v.replace('\'', "''")),
                })
                .collect();
            format!("({})", values.join(", "))
        })
        .collect();
    format!("INSERT INTO {name} VALUES {};", values.join(", "))
}
