//! One consistent view of the database shared by parallel readers: an exported snapshot.

use crate::{PostgresSource, SourceError};
use tokio_postgres::Client;

/// The id of an exported snapshot (`00000003-0000001B-1`), as `pg_export_snapshot()` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SnapshotId(pub String);

impl std::fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `REPEATABLE READ` transaction held open on a connection of its own, whose snapshot readers
/// import with `SET TRANSACTION SNAPSHOT`.
///
/// Contract:
/// - every reader that passes [`Snapshot::id`] to [`PostgresSource::read_chunk`] (on any
///   connection to the same database) sees exactly the committed state as of the export: rows
///   committed later are invisible, rows committed before are all visible;
/// - a reader can only *start* while this value is alive: the id is valid only while the
///   exporting transaction is open. A reader that has started keeps its view after the
///   snapshot is closed, so close it once every chunk read has begun (or finished);
/// - holding it open holds back VACUUM's horizon on the server: keep it for the full load only.
///
/// Dropping it ends the transaction (the connection closes); [`Snapshot::close`] does the same
/// and reports errors.
pub struct Snapshot {
    client: Client,
    id: SnapshotId,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("id", &self.id).finish()
    }
}

impl Snapshot {
    /// Opens a new connection to `source`'s database, begins a read-only `REPEATABLE READ`
    /// transaction and exports its snapshot (on a primary or, from PostgreSQL 10, a standby).
    pub async fn export(source: &PostgresSource) -> Result<Snapshot, SourceError> {
        let client = source.open_another().await?;
        let context = format!("exporting a snapshot on {}", source.endpoint());
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(SourceError::query(context.clone()))?;
        let row = client
            .query_one("SELECT pg_export_snapshot()", &[])
            .await
            .map_err(SourceError::query(context))?;
        Ok(Snapshot {
            id: SnapshotId(row.get(0)),
            client,
        })
    }

    pub fn id(&self) -> &SnapshotId {
        &self.id
    }

    /// Ends the exporting transaction. Readers already started are not affected.
    pub async fn close(self) -> Result<(), SourceError> {
        self.client
            .batch_execute("COMMIT")
            .await
            .map_err(SourceError::query("closing the exported snapshot"))
    }
}
