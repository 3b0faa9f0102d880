//! PostgreSQL behind the seam of `migrate replicate`: [`migrate_source::Source`] for
//! [`PostgresSource`] and [`migrate_source::Snapshot`] for [`SharedSnapshot`].

use crate::pool::{Lease, Pool};
use crate::read::{begin_sql, plan_values, predicate, read_stream, values, Connection};
use crate::sql::own_rows_of;
use crate::{PostgresSource, Snapshot, SnapshotId, SourceError};
use arrow_array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryFutureExt, TryStreamExt};
use migrate_checksum::ChecksumColumn;
use migrate_core::{Catalog, SourceDialect, Table};
use migrate_source::{Chunk, ChunkChecksum, KeyedHash, ReadSpec};
use tokio_postgres::Client;

/// An exported snapshot and a pool of reader connections that import it: every chunk read,
/// checksum and row hash through it sees the database as of [`migrate_source::Source::snapshot`].
///
/// Contract:
/// - up to `readers` reads (and checksums) run at once, each on its own connection; more wait
///   for a free one. A read holds its connection until its stream ends or is dropped;
/// - the exporting transaction stays open until [`migrate_source::Snapshot::close`] (or drop):
///   that holds back VACUUM on the server, so keep the snapshot for the load only.
pub struct SharedSnapshot {
    exported: Exported,
    pool: Pool,
}

/// Who keeps the snapshot importable.
enum Exported {
    /// A transaction of ours (`pg_export_snapshot()`).
    Transaction(Snapshot),
    /// A replication session that created a slot with `SNAPSHOT 'export'`: the snapshot is
    /// valid while that session stays idle, and is exactly where the slot's changes start.
    Slot {
        id: SnapshotId,
        session: crate::cdc::SlotSession,
    },
}

impl Exported {
    fn id(&self) -> &SnapshotId {
        match self {
            Exported::Transaction(snapshot) => snapshot.id(),
            Exported::Slot { id, .. } => id,
        }
    }

    async fn close(self) -> Result<(), SourceError> {
        match self {
            Exported::Transaction(snapshot) => snapshot.close().await,
            Exported::Slot { session, .. } => {
                session.close().await;
                Ok(())
            }
        }
    }
}

impl std::fmt::Debug for SharedSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSnapshot")
            .field("id", self.exported.id())
            .field("readers", &self.pool.len())
            .finish()
    }
}

impl migrate_source::Source for PostgresSource {
    type Error = SourceError;
    type Snapshot = SharedSnapshot;

    async fn connect(url: &str) -> Result<Self, SourceError> {
        PostgresSource::connect(url).await
    }

    fn dialect(&self) -> SourceDialect {
        SourceDialect::Postgres
    }

    fn endpoint(&self) -> &str {
        PostgresSource::endpoint(self)
    }

    async fn discover(&self, schemas: Option<&[String]>) -> Result<Catalog, SourceError> {
        PostgresSource::discover(self, schemas).await
    }

    async fn plan_chunks(
        &self,
        table: &Table,
        target_rows: u64,
    ) -> Result<Vec<Chunk>, SourceError> {
        PostgresSource::plan_chunks(self, table, target_rows).await
    }

    fn quote_ident(&self, name: &str) -> String {
        crate::quote_ident(name)
    }

    async fn other_objects(
        &self,
        schemas: &[String],
    ) -> Result<migrate_source::OtherObjects, SourceError> {
        PostgresSource::other_objects(self, schemas).await
    }

    async fn snapshot(&self, readers: usize) -> Result<SharedSnapshot, SourceError> {
        let exported = Snapshot::export(self).await?;
        SharedSnapshot::new(self, Exported::Transaction(exported), readers).await
    }
}

impl SharedSnapshot {
    async fn new(
        source: &PostgresSource,
        exported: Exported,
        readers: usize,
    ) -> Result<SharedSnapshot, SourceError> {
        let sources =
            futures::future::try_join_all((0..readers.max(1)).map(|_| source.another())).await?;
        Ok(SharedSnapshot {
            exported,
            pool: Pool::new(sources),
        })
    }

    /// The snapshot a replication slot exported when it was created, shared by `readers`
    /// reader connections; `session` is the replication session that created it, kept idle
    /// until [`migrate_source::Snapshot::close`].
    pub(crate) async fn of_slot(
        source: &PostgresSource,
        id: SnapshotId,
        session: crate::cdc::SlotSession,
        readers: usize,
    ) -> Result<SharedSnapshot, SourceError> {
        SharedSnapshot::new(source, Exported::Slot { id, session }, readers).await
    }

    /// Leases a connection and begins a transaction on it that imports the snapshot; end it with
    /// [`commit`].
    async fn begin(&self, context: &str) -> Result<Lease<'_>, SourceError> {
        let lease = self.pool.lease().await?;
        lease
            .source()
            .client
            .batch_execute(&begin_sql(Some(self.exported.id())))
            .await
            .map_err(SourceError::query(context))?;
        Ok(lease)
    }
}

/// The checksum columns of `read`'s values ([`crate::checksum::checksum_column`] of each).
async fn checksum_columns(
    client: &Client,
    read: &ReadSpec,
) -> Result<Vec<ChecksumColumn>, SourceError> {
    let values = values(read)?;
    let reads = plan_values(client, &read.table, &values).await?;
    Ok(reads
        .into_iter()
        .zip(values)
        .map(|(selected, value)| {
            crate::checksum::checksum_column(selected.expr, value.sql, value.data_type)
        })
        .collect())
}

async fn commit(client: &Client, context: &str) -> Result<(), SourceError> {
    client
        .batch_execute("COMMIT")
        .await
        .map_err(SourceError::query(context))
}

impl migrate_source::Snapshot for SharedSnapshot {
    type Error = SourceError;

    fn read_chunk<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
        batch_rows: usize,
    ) -> BoxStream<'a, Result<RecordBatch, SourceError>> {
        read_stream(
            Connection::Pool(&self.pool),
            Some(self.exported.id().clone()),
            read,
            chunk,
            batch_rows,
        )
    }

    async fn checksum<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
    ) -> Result<ChunkChecksum, SourceError> {
        let context = format!(
            "computing the checksum of chunk {} of {}",
            chunk.index, read.table.name
        );
        let lease = self.begin(&context).await?;
        let client = &lease.source().client;
        let columns = checksum_columns(client, read).await?;
        let sum = crate::chunk_checksum(
            client,
            &own_rows_of(client, &read.table).await?,
            &columns,
            &predicate(read, chunk),
        )
        .await?;
        commit(client, &context).await?;
        Ok(sum)
    }

    fn row_hashes<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
    ) -> BoxStream<'a, Result<KeyedHash, SourceError>> {
        // Collected per chunk (one key and hash a row), then streamed: the lease that the
        // query's stream would borrow can't live inside that stream.
        async move {
            let context = format!(
                "hashing the rows of chunk {} of {}",
                chunk.index, read.table.name
            );
            let lease = self.begin(&context).await?;
            let client = &lease.source().client;
            let columns = checksum_columns(client, read).await?;
            let key = read
                .key_positions()
                .filter(|key| !key.is_empty())
                .map(|key| key.iter().map(|&i| columns[i].clone()).collect::<Vec<_>>())
                .ok_or_else(|| SourceError::Unsupported {
                    table: read.table.name.to_string(),
                    column: String::new(),
                    message: "row hashes need a primary key whose columns are read as they are"
                        .into(),
                })?;
            let hashes: Vec<KeyedHash> = crate::row_hashes(
                client,
                &own_rows_of(client, &read.table).await?,
                &key,
                &columns,
                &predicate(read, chunk),
            )
            .try_collect()
            .await?;
            commit(client, &context).await?;
            Ok::<_, SourceError>(futures::stream::iter(hashes.into_iter().map(Ok)))
        }
        .try_flatten_stream()
        .boxed()
    }

    async fn close(self) -> Result<(), SourceError> {
        self.pool.close();
        self.exported.close().await
    }
}
