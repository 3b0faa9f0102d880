//! Connections: parsing the URL, opening a session with the settings every statement of this
//! crate relies on.

use crate::SourceError;
use migrate_pgconn::PgConnector;
use std::sync::Arc;
use tokio_postgres::Client;

/// Session settings that make every text form this crate reads or hashes independent of the
/// server's and the role's defaults (UTC, ISO dates, ISO 8601 intervals: the read path decodes
/// intervals inside arrays and composites from that text, shortest round-trip floats, hex bytea).
/// One definition for every PostgreSQL session of the project: `migrate_checksum`'s.
pub const SESSION_SETTINGS: &str = migrate_checksum::POSTGRES_SESSION_SETTINGS;

/// A PostgreSQL database to read from, over one connection.
///
/// One connection serves one statement at a time: [`PostgresSource::read_chunk`] holds it for the
/// whole stream (reads on the same source queue up). Readers running in parallel each
/// [`connect`](PostgresSource::connect) their own source and share a [`crate::Snapshot`].
pub struct PostgresSource {
    pub(crate) client: Client,
    /// The URL's settings (TLS included), for more sessions and the replication connection.
    pub(crate) connector: PgConnector,
    /// Held by a chunk read from its `BEGIN` to its `COMMIT`.
    pub(crate) reader: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for PostgresSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSource")
            .field("endpoint", &self.connector.endpoint())
            .finish_non_exhaustive()
    }
}

impl PostgresSource {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?options]`, or the
    /// `key=value` form; TLS per `sslmode`, see `migrate_pgconn`), and applies
    /// [`SESSION_SETTINGS`].
    ///
    /// Must be called inside a Tokio runtime: the connection is driven by a spawned task that
    /// ends when the source is dropped. Errors name the endpoint without the password.
    pub async fn connect(url: &str) -> Result<PostgresSource, SourceError> {
        let connector = PgConnector::new(url).map_err(|e| SourceError::InvalidUrl {
            message: e.to_string(),
        })?;
        let client = open(&connector).await?;
        Ok(PostgresSource {
            client,
            connector,
            reader: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The client, for callers that need a statement this crate does not offer. Don't leave a
    /// transaction open on it: chunk reads start their own.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `user@host:port/database`, safe to log.
    pub fn endpoint(&self) -> &str {
        self.connector.endpoint()
    }

    /// Another session to the same database (for a snapshot exporter or a parallel reader).
    pub(crate) async fn open_another(&self) -> Result<Client, SourceError> {
        open(&self.connector).await
    }

    /// Another source on its own session to the same database.
    pub(crate) async fn another(&self) -> Result<PostgresSource, SourceError> {
        Ok(PostgresSource {
            client: self.open_another().await?,
            connector: self.connector.clone(),
            reader: Arc::new(tokio::sync::Mutex::new(())),
        })
    }
}

async fn open(connector: &PgConnector) -> Result<Client, SourceError> {
    let endpoint = connector.endpoint();
    // The connection task ends with the client; its handle is not needed.
    let (client, _) = connector
        .connect()
        .await
        .map_err(|source| SourceError::Connect {
            endpoint: endpoint.to_string(),
            source,
        })?;
    client
        .batch_execute(SESSION_SETTINGS)
        .await
        .map_err(SourceError::query(format!(
            "setting up the session on {endpoint}"
        )))?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_urls_are_rejected_without_echoing_secrets() {
        let error = PostgresSource::connect("postgres://bob:hunter2@host:notaport/db")
            .await
            .unwrap_err();
        assert!(matches!(error, SourceError::InvalidUrl { .. }), "{error}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
