//! Opening the connection, with the session settings every other method relies on.

use super::{checkpoint, PostgresWarehouse};
use crate::WarehouseError;
use migrate_pgconn::PgConnector;

/// Session settings that make value text (and so the checksums) independent of the server's
/// and the role's defaults: `migrate_checksum`'s one PostgreSQL definition, which the source
/// sessions use too.
pub const SESSION_SETTINGS: &str = migrate_checksum::POSTGRES_SESSION_SETTINGS;

impl PostgresWarehouse {
    /// Connects to `url` (`postgres://user:password@host:port/db` or `key=value` form; TLS per
    /// `sslmode`, see `migrate_pgconn`), applies [`SESSION_SETTINGS`] and creates the checkpoint
    /// table `migrate.migrate_checkpoint` if it is missing. Needs a tokio runtime (the connection
    /// runs on a spawned task).
    ///
    /// Errors name the server as `user@host:port/db`: the password is never printed.
    pub async fn connect(url: &str) -> Result<Self, WarehouseError> {
        let connector = PgConnector::new(url)?;
        let endpoint = connector.endpoint().to_string();
        let (client, task) =
            connector
                .connect()
                .await
                .map_err(|source| WarehouseError::Connect {
                    endpoint: endpoint.clone(),
                    source,
                })?;
        client
            .batch_execute(SESSION_SETTINGS)
            .await
            .map_err(WarehouseError::database(format!(
                "applying the session settings on {endpoint}"
            )))?;
        checkpoint::ensure_table(&client).await?;
        let session = client
            .query_one("SELECT current_database(), pg_backend_pid()", &[])
            .await
            .map_err(WarehouseError::database(format!(
                "reading the database name and server process on {endpoint}"
            )))?;
        Ok(PostgresWarehouse {
            client: tokio::sync::Mutex::new(client),
            connection: task,
            endpoint,
            database: session.get(0),
            backend_pid: session.get(1),
        })
    }

    /// `user@host:port/dbname` of the server, without the password.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for PostgresWarehouse {
    fn drop(&mut self) {
        // Closing the connection rolls back whatever transaction was open.
        self.connection.abort();
    }
}
