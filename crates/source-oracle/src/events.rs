//! Mined items into the seam's [`ChangeEvent`]s: consecutive changes of one table become one
//! record batch (at most `batch_rows` rows), truncates and commits pass through in order.

use crate::changes::ChangeBatcher;
use crate::logminer::Mined;
use crate::position::ScnPosition;
use crate::sql::WatchedTable;
use crate::OracleError;
use migrate_core::Table;
use migrate_source::ChangeEvent;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The watched-table key of a discovered table: owner and name as stored.
pub fn watched(table: &Table) -> WatchedTable {
    WatchedTable {
        owner: table.name.schema_value().to_string(),
        table: table.name.name.value.clone(),
    }
}

/// Builds change events; memory: at most `batch_rows` rows of one table.
pub struct EventBuilder {
    batchers: HashMap<WatchedTable, ChangeBatcher>,
    current: Option<WatchedTable>,
    batch_rows: usize,
}

impl EventBuilder {
    pub fn new(tables: &[Table], batch_rows: usize) -> Result<EventBuilder, OracleError> {
        let mut batchers = HashMap::new();
        for table in tables {
            batchers.insert(watched(table), ChangeBatcher::new(table)?);
        }
        Ok(EventBuilder {
            batchers,
            current: None,
            batch_rows: batch_rows.max(1),
        })
    }

    /// The tables watched.
    pub fn tables(&self) -> impl Iterator<Item = &WatchedTable> {
        self.batchers.keys()
    }

    /// The events for `item`; `position` turns a commit SCN into the checkpoint position.
    pub fn push(
        &mut self,
        item: Mined,
        position: impl Fn(u64) -> ScnPosition,
    ) -> Result<Vec<ChangeEvent>, OracleError> {
        let mut events = Vec::new();
        match item {
            Mined::Change { scn, redo } => {
                let key = WatchedTable {
                    owner: redo.owner.clone(),
                    table: redo.table.clone(),
                };
                if self.current.as_ref() != Some(&key) {
                    self.flush(&mut events)?;
                }
                let batcher = self
                    .batchers
                    .get_mut(&key)
                    .ok_or_else(|| OracleError::Catalog {
                        context: format!("mining at SCN {scn}"),
                        message: format!(
                            "a change of {}.{}, which is not watched",
                            key.owner, key.table
                        ),
                    })?;
                batcher.push(scn, &redo)?;
                let full = batcher.len() >= self.batch_rows;
                self.current = Some(key);
                if full {
                    self.flush(&mut events)?;
                }
            }
            Mined::Truncate { table, .. } => {
                self.flush(&mut events)?;
                let name = self
                    .batchers
                    .get(&table)
                    .map(|b| b.table().name.clone())
                    .ok_or_else(|| OracleError::Catalog {
                        context: "mining a truncate".into(),
                        message: format!("{}.{} is not watched", table.owner, table.table),
                    })?;
                events.push(ChangeEvent::Truncate { tables: vec![name] });
            }
            Mined::Commit {
                commit_scn,
                commit_time,
            } => {
                self.flush(&mut events)?;
                events.push(ChangeEvent::Commit {
                    position: position(commit_scn).to_position(),
                    committed_at: commit_time.and_then(system_time),
                });
            }
        }
        Ok(events)
    }

    fn flush(&mut self, events: &mut Vec<ChangeEvent>) -> Result<(), OracleError> {
        if let Some(key) = self.current.take() {
            if let Some(batcher) = self.batchers.get_mut(&key) {
                if !batcher.is_empty() {
                    let name = batcher.table().name.clone();
                    events.push(ChangeEvent::Rows {
                        table: name,
                        changes: batcher.finish()?,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Seconds since 1970 as a time (before 1970: none).
fn system_time(seconds: i64) -> Option<SystemTime> {
    u64::try_from(seconds)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}
