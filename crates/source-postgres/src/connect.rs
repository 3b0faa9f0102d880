//! Connections: parsing the URL, opening a session with the settings every statement of this
//! crate relies on.

use crate::SourceError;
use std::sync::Arc;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

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
    pub(crate) config: Config,
    /// `user@host:port/database`, for messages: never the password.
    pub(crate) endpoint: String,
    /// Held by a chunk read from its `BEGIN` to its `COMMIT`.
    pub(crate) reader: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for PostgresSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSource")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl PostgresSource {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?options]`, or the
    /// `key=value` form), without TLS, and applies [`SESSION_SETTINGS`].
    ///
    /// Must be called inside a Tokio runtime: the connection is driven by a spawned task that
    /// ends when the source is dropped. Errors name the endpoint without the password.
    pub async fn connect(url: &str) -> Result<PostgresSource, SourceError> {
        let config: Config = url.parse().map_err(|e: tokio_postgres::Error| {
            SourceError::InvalidUrl {
                // The driver's parse errors name the bad part, never the password's value.
                message: e.to_string(),
            }
        })?;
        let endpoint = endpoint(&config);
        let client = open(&config, &endpoint).await?;
        Ok(PostgresSource {
            client,
            config,
            endpoint,
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
        &self.endpoint
    }

    /// Another session to the same database (for a snapshot exporter or a parallel reader).
    pub(crate) async fn open_another(&self) -> Result<Client, SourceError> {
        open(&self.config, &self.endpoint).await
    }

    /// Another source on its own session to the same database.
    pub(crate) async fn another(&self) -> Result<PostgresSource, SourceError> {
        Ok(PostgresSource {
            client: self.open_another().await?,
            config: self.config.clone(),
            endpoint: self.endpoint.clone(),
            reader: Arc::new(tokio::sync::Mutex::new(())),
        })
    }
}

async fn open(config: &Config, endpoint: &str) -> Result<Client, SourceError> {
    let (client, connection) =
        config
            .connect(NoTls)
            .await
            .map_err(|source| SourceError::Connect {
                endpoint: endpoint.to_string(),
                source,
            })?;
    // The task ends when the client is dropped or the server goes away; a broken connection
    // shows up as an error on the client's next statement, which carries the details.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
        .batch_execute(SESSION_SETTINGS)
        .await
        .map_err(SourceError::query(format!(
            "setting up the session on {endpoint}"
        )))?;
    Ok(client)
}

fn endpoint(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("(default user)");
    let database = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{database}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_leave_out_the_password() {
        let config: Config = "postgres://alice:s3cret@db.example:6543/sales"
            .parse()
            .unwrap();
        let text = endpoint(&config);
        assert_eq!(text, "alice@db.example:6543/sales");
        assert!(!text.contains("s3cret"));
    }

    #[tokio::test]
    async fn bad_urls_are_rejected_without_echoing_secrets() {
        let error = PostgresSource::connect("postgres://bob:hunter2@host:notaport/db")
            .await
            .unwrap_err();
        assert!(matches!(error, SourceError::InvalidUrl { .. }), "{error}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
