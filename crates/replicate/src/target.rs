//! Where chunks go: a PostgreSQL warehouse (loaded here, with checkpoints) or Redshift (the SQL
//! that loads each staged chunk, written next to it: migrate can't reach Redshift).

use crate::redshift;
use crate::{ReplicateError, RetryPolicy};
use futures::StreamExt;
use migrate_core::{Finding, SourceDialect, Table};
use migrate_stage::{Manifest, Stage};
use migrate_task::PrepMode;
use migrate_warehouse::{LoadOutcome, PostgresWarehouse, TableState};
use std::collections::BTreeSet;
use std::sync::Mutex;
use tokio::sync::watch;
use tokio::sync::Semaphore;

/// The target of a run.
pub(crate) enum Target {
    Postgres(Warehouses),
    Redshift(redshift::RedshiftTarget),
}

/// A fixed set of warehouse connections; [`Warehouses::get`] waits for a free one and replaces
/// it first if it was closed, so that a retry after a broken connection can succeed.
pub(crate) struct Warehouses {
    /// For reconnecting. **Secret** (it may hold the password): never print it.
    url: String,
    /// Each locked only by the slot that holds its index: never contended.
    items: Vec<tokio::sync::Mutex<PostgresWarehouse>>,
    free: Mutex<Vec<usize>>,
    permits: Semaphore,
    endpoint: String,
}

/// One connection of [`Warehouses`], given back when dropped.
pub(crate) struct Slot<'a> {
    warehouses: &'a Warehouses,
    index: usize,
    warehouse: tokio::sync::MutexGuard<'a, PostgresWarehouse>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Warehouses {
    /// Opens `connections` connections to `url`.
    async fn connect(url: &str, connections: usize) -> Result<Warehouses, ReplicateError> {
        // The first connection creates the checkpoint tables; concurrent `CREATE ... IF NOT
        // EXISTS` of the same schema can fail, so the others connect after it.
        let first = PostgresWarehouse::connect(url).await?;
        let endpoint = first.endpoint().to_string();
        let mut items = vec![first];
        items.extend(
            futures::future::try_join_all(
                (1..connections.max(1)).map(|_| PostgresWarehouse::connect(url)),
            )
            .await?,
        );
        Ok(Warehouses {
            url: url.to_string(),
            free: Mutex::new((0..items.len()).collect()),
            permits: Semaphore::new(items.len()),
            items: items.into_iter().map(tokio::sync::Mutex::new).collect(),
            endpoint,
        })
    }

    pub async fn get(&self) -> Result<Slot<'_>, ReplicateError> {
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
        let mut slot = Slot {
            warehouses: self,
            index,
            warehouse: self.items[index].lock().await,
            _permit: permit,
        };
        if slot.warehouse.is_closed().await {
            tracing::info!("reconnecting a closed connection to {}", self.endpoint);
            // On error the slot drops and gives the index back: the next get tries again.
            *slot.warehouse = PostgresWarehouse::connect(&self.url).await?;
        }
        Ok(slot)
    }
}

impl std::ops::Deref for Slot<'_> {
    type Target = PostgresWarehouse;
    fn deref(&self) -> &PostgresWarehouse {
        &self.warehouse
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        // The index goes back before the guard and the permit (fields, dropped after this body):
        // a new slot of the index waits for the guard.
        self.warehouses
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(self.index);
    }
}

pub(crate) fn prep_mode(mode: PrepMode) -> migrate_warehouse::PrepMode {
    match mode {
        PrepMode::DropAndCreate => migrate_warehouse::PrepMode::DropAndCreate,
        PrepMode::TruncateBeforeLoad => migrate_warehouse::PrepMode::TruncateBeforeLoad,
        PrepMode::DoNothing => migrate_warehouse::PrepMode::DoNothing,
    }
}

impl Target {
    /// Opens `connections` connections to a PostgreSQL target, retrying as `retry` says when a
    /// connection breaks or the server is not ready (the errors name the server), until `stop`.
    pub async fn postgres(
        url: &str,
        connections: usize,
        retry: &RetryPolicy,
        stop: &watch::Receiver<bool>,
    ) -> Result<Target, ReplicateError> {
        let warehouses = retry
            .connect("connecting to the target", Some(stop), |_| {
                Warehouses::connect(url, connections)
            })
            .await?;
        Ok(Target::Postgres(warehouses))
    }

    pub fn endpoint(&self) -> String {
        match self {
            Target::Postgres(warehouses) => warehouses.endpoint.clone(),
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
            Target::Postgres(slots) => Ok(slots.get().await?.table_state(task, table).await?),
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
                .await?
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
                .await?
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
            Target::Postgres(slots) => Ok(slots.get().await?.completed_chunks(task, table).await?),
            Target::Redshift(_) => Ok(BTreeSet::new()),
        }
    }

    pub async fn complete_table(&self, task: &str, table: &Table) -> Result<(), ReplicateError> {
        match self {
            Target::Postgres(slots) => Ok(slots.get().await?.complete_table(task, table).await?),
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
                let warehouse = slots.get().await?;
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
    pub fn warehouses(&self) -> Option<&Warehouses> {
        match self {
            Target::Postgres(slots) => Some(slots),
            Target::Redshift(_) => None,
        }
    }
}
