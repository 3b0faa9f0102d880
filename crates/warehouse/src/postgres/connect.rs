//! Opening the connection, with the session settings every other method relies on.

use super::{checkpoint, PostgresWarehouse};
use crate::WarehouseError;
use tokio_postgres::{Config, NoTls};

/// Session settings that make value text (and so the checksums) independent of the server's
/// and the role's defaults: `migrate_checksum`'s one PostgreSQL definition, which the source
/// sessions use too.
pub const SESSION_SETTINGS: &str = migrate_checksum::POSTGRES_SESSION_SETTINGS;

/// Where a URL points, without its password: `user@host:port/dbname`.
fn endpoint(config: &Config) -> String {
    let hosts = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let ports = config
        .get_ports()
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "{}@{}:{}/{}",
        config.get_user().unwrap_or("?"),
        hosts,
        ports,
        config.get_dbname().unwrap_or("?")
    )
}

impl PostgresWarehouse {
    /// Connects to `url` (`postgres://user:password@host:port/db` or `key=value` form), applies
    /// [`SESSION_SETTINGS`] and creates the checkpoint table `migrate.migrate_checkpoint` if it
    /// is missing. Needs a tokio runtime (the connection runs on a spawned task).
    ///
    /// Errors name the server as `user@host:port/db`: the password is never printed. TLS is not
    /// supported yet (`sslmode=require` fails).
    pub async fn connect(url: &str) -> Result<Self, WarehouseError> {
        let config: Config = url.parse().map_err(|source| WarehouseError::Connect {
            endpoint: "(the URL could not be parsed)".into(),
            source,
        })?;
        let endpoint = endpoint(&config);
        let (client, connection) =
            config
                .connect(NoTls)
                .await
                .map_err(|source| WarehouseError::Connect {
                    endpoint: endpoint.clone(),
                    source,
                })?;
        // The connection's own error surfaces as a closed client on the next call.
        let task = tokio::spawn(async move {
            let _ = connection.await;
        });
        client
            .batch_execute(SESSION_SETTINGS)
            .await
            .map_err(WarehouseError::database(format!(
                "applying the session settings on {endpoint}"
            )))?;
        checkpoint::ensure_table(&client).await?;
        let database = client
            .query_one("SELECT current_database()", &[])
            .await
            .map_err(WarehouseError::database(format!(
                "reading the database name on {endpoint}"
            )))?
            .get(0);
        Ok(PostgresWarehouse {
            client: tokio::sync::Mutex::new(client),
            connection: task,
            endpoint,
            database,
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
