//! Where chunks go: a PostgreSQL warehouse (loaded here, with checkpoints) or Redshift (the SQL
//! that loads each staged chunk, written next to it: migrate can't reach Redshift).

use crate::redshift;
use crate::ReplicateError;
use futures::StreamExt;
use migrate_core::{Finding, SourceDialect, Table};
use migrate_stage::{Manifest, Stage};
use migrate_task::PrepMode;
use migrate_warehouse::{LoadOutcome, PostgresWarehouse, TableState};
use std::collections::BTreeSet;
use std::sync::Mutex;
use tokio::sync::Semaphore;

/// The target of a run.
pub(crate) enum Target {
    Postgres(Slots<PostgresWarehouse>),
    Redshift(redshift::RedshiftTarget),
}

/// A fixed set of connections; [`Slots::get`] waits for a free one.
pub(crate) struct Slots<T> {
    items: Vec<T>,
    free: Mutex<Vec<usize>>,
    permits: Semaphore,
}

/// One item of [`Slots`], given back when dropped.
pub(crate) struct Slot<'a, T> {
    slots: &'a Slots<T>,
    index: usize,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl<T> Slots<T> {
    pub fn new(items: Vec<T>) -> Slots<T> {
        Slots {
            free: Mutex::new((0..items.len()).collect()),
            permits: Semaphore::new(items.len()),
            items,
        }
    }

    pub async fn get(&self) -> Slot<'_, T> {
        // The semaphore is never closed, and a permit guarantees a free index: both are given
        // back together when a slot drops.
        let permit = self
            .permits
            .acquire()
            .await
            .unwrap_or_else(|_| unreachable!("the slots' semaphore is never closed"));
        let index = self
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
            .unwrap_or_else(|| unreachable!("a permit without a free slot"));
        Slot {
            slots: self,
            index,
            _permit: permit,
        }
    }
}

impl<T> std::ops::Deref for Slot<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.slots.items[self.index]
    }
}

impl<T> Drop for Slot<'_, T> {
    fn drop(&mut self) {
        self.slots
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(self.index);
    }
}

fn prep_mode(mode: PrepMode) -> migrate_warehouse::PrepMode {
    match mode {
        PrepMode::DropAndCreate => migrate_warehouse::PrepMode::DropAndCreate,
        PrepMode::TruncateBeforeLoad => migrate_warehouse::PrepMode::TruncateBeforeLoad,
        PrepMode::DoNothing => migrate_warehouse::PrepMode::DoNothing,
    }
}

impl Target {
    /// Opens `connections` connections to a PostgreSQL target.
    pub async fn postgres(url: &str, connections: usize) -> Result<Target, ReplicateError> {
        // The first connection creates the checkpoint tables; concurrent `CREATE ... IF NOT
        // EXISTS` of the same schema can fail, so the others connect after it.
        let first = PostgresWarehouse::connect(url).await?;
        let mut warehouses = vec![first];
        warehouses.extend(
            futures::future::try_join_all(
                (1..connections.max(1)).map(|_| PostgresWarehouse::connect(url)),
            )
            .await?,
        );
        Ok(Target::Postgres(Slots::new(warehouses)))
    }

    pub fn endpoint(&self) -> String {
        match self {
            Target::Postgres(slots) => slots.items[0].endpoint().to_string(),
            Target::Redshift(redshift) => redshift.endpoint.clone(),
        }
    }

    /// The state `task` recorded for `table`; Redshift keeps none that migrate can read.
    pub async fn table_state(
        &self,
        task: &str,
        table: &Table,
    ) -> Result<Option<TableState>, ReplicateError> {
        match self {
            Target::Postgres(slots) => Ok(slots.get().await.table_state(task, table).await?),
            Target::Redshift(_) => Ok(None),
        }
    }

    /// Creates, re-creates or empties the target table. For Redshift, writes the statements that
    /// do it to `stage` under `segment`.
    pub async fn prepare(
        &self,
        table: &Table,
        from: SourceDialect,
        mode: PrepMode,
        stage: &Stage,
        segment: &str,
    ) -> Result<Vec<Finding>, ReplicateError> {
        match self {
            Target::Postgres(slots) => Ok(slots
                .get()
                .await
                .prepare(table, from, prep_mode(mode))
                .await?),
            Target::Redshift(redshift) => redshift.prepare(table, from, mode, stage, segment).await,
        }
    }

    pub async fn start_table(
        &self,
        task: &str,
        table: &Table,
        fingerprint: &str,
        plan: &str,
    ) -> Result<(), ReplicateError> {
        match self {
            Target::Postgres(slots) => Ok(slots
                .get()
                .await
                .start_table(task, table, fingerprint, plan)
                .await?),
            Target::Redshift(_) => Ok(()),
        }
    }

    pub async fn completed_chunks(
        &self,
        task: &str,
        table: &Table,
    ) -> Result<BTreeSet<u32>, ReplicateError> {
        match self {
            Target::Postgres(slots) => Ok(slots.get().await.completed_chunks(task, table).await?),
            Target::Redshift(_) => Ok(BTreeSet::new()),
        }
    }

    pub async fn complete_table(&self, task: &str, table: &Table) -> Result<(), ReplicateError> {
        match self {
            Target::Postgres(slots) => Ok(slots.get().await.complete_table(task, table).await?),
            Target::Redshift(_) => Ok(()),
        }
    }

    /// Loads the staged chunk `manifest` exactly once (PostgreSQL: `COPY` streamed from the
    /// staged objects and the checkpoint, one transaction); for Redshift, writes the statements
    /// that load it and reports it as not loaded.
    pub async fn load(
        &self,
        task: &str,
        table: &Table,
        chunk: u32,
        manifest: &Manifest,
        stage: &Stage,
        segment: &str,
    ) -> Result<LoadOutcome, ReplicateError> {
        match self {
            Target::Postgres(slots) => {
                let batches = futures::stream::iter(manifest.entries.clone())
                    .map(|entry| stage.read_chunk(&entry))
                    .flatten();
                let warehouse = slots.get().await;
                Ok(warehouse.load_chunk(task, table, chunk, batches).await?)
            }
            Target::Redshift(redshift) => {
                redshift
                    .write_chunk_sql(task, table, chunk, manifest, stage, segment)
                    .await?;
                Ok(LoadOutcome {
                    rows: manifest.rows,
                    skipped_already_loaded: false,
                })
            }
        }
    }

    /// The PostgreSQL warehouse pool, for validation.
    pub fn warehouses(&self) -> Option<&Slots<PostgresWarehouse>> {
        match self {
            Target::Postgres(slots) => Some(slots),
            Target::Redshift(_) => None,
        }
    }
}
