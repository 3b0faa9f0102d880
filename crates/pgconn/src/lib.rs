//! Opening PostgreSQL connections from a libpq-style URL, with TLS.
//!
//! tokio-postgres parses the URL (both `postgres://user@host:port/db?...` and `key=value`
//! forms), but knows only `sslmode=disable|prefer|require` and no certificate files. This crate
//! reads libpq's TLS parameters itself and connects through rustls:
//!
//! | `sslmode` | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | no | - |
//! | `allow`, `prefer` (the default) | if the server offers TLS | no |
//! | `require` | yes | no; with `sslrootcert`, as `verify-ca` (libpq does the same) |
//! | `verify-ca` | yes | chain to a root of `sslrootcert` |
//! | `verify-full` | yes | chain, and the host name (or IP) in the certificate |
//!
//! `sslrootcert=/path/ca.pem` names the trusted roots (for Amazon RDS: the region's bundle),
//! `sslrootcert=system` the Mozilla roots (Redshift's and other publicly signed certificates);
//! without it, `verify-*` read `~/.postgresql/root.crt` as libpq does. `sslcert` + `sslkey`
//! (PEM) give a client certificate. Files are read when the URL is parsed, so a bad path is
//! reported before anything connects.

mod settings;
mod tls;

use std::path::PathBuf;
use tokio::task::JoinHandle;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Why a URL's settings can't be used. Never retryable: the URL or a file must be fixed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The URL itself (the driver's parse errors name the bad part, never a password's value).
    #[error("{0}")]
    Url(String),
    /// A certificate or key file named by the URL.
    #[error("{path}: {message}")]
    File { path: String, message: String },
    /// The TLS configuration made of them.
    #[error("TLS settings: {0}")]
    Tls(String),
}

/// How a connection uses TLS, after libpq's rules (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Where the trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// A PEM file (`sslrootcert=/path`).
    File(PathBuf),
    /// The Mozilla roots built into migrate (`sslrootcert=system`).
    System,
}

/// A URL's TLS settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// The roots the server's certificate is checked against; set exactly when `mode` is
    /// `VerifyCa` or `VerifyFull`.
    pub roots: Option<Roots>,
    /// A client certificate chain and its key (`sslcert`, `sslkey`), PEM files.
    pub client_certificate: Option<(PathBuf, PathBuf)>,
}

/// A parsed connection URL, ready to open any number of sessions.
#[derive(Clone)]
pub struct PgConnector {
    config: Config,
    tls: TlsSettings,
    /// `None` when TLS is disabled.
    connector: Option<MakeRustlsConnect>,
    endpoint: String,
}

impl std::fmt::Debug for PgConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConnector")
            .field("endpoint", &self.endpoint)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl PgConnector {
    /// Parses `url` and its TLS parameters, reading the certificate files it names.
    pub fn new(url: &str) -> Result<PgConnector, SettingsError> {
        let (rest, parameters) = settings::split_tls_parameters(url)?;
        // The driver's message is only "invalid connection string": the part that is wrong
        // (`unknown option `foo``, `invalid value for option `port``) is its cause.
        let mut config: Config = rest.parse().map_err(|e: tokio_postgres::Error| {
            SettingsError::Url(migrate_core::error_chain(&e))
        })?;
        let mut tls = resolve(&parameters)?;
        // As libpq: no TLS over Unix-domain sockets (the server offers none there).
        if !config.get_hosts().is_empty()
            && config
                .get_hosts()
                .iter()
                .all(|host| matches!(host, Host::Unix(_)))
        {
            tls.mode = SslMode::Disable;
            tls.roots = None;
        }
        config.ssl_mode(match tls.mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        let connector = match tls.mode {
            SslMode::Disable => None,
            _ => Some(MakeRustlsConnect::new(tls::client_config(&tls)?)),
        };
        Ok(PgConnector {
            endpoint: endpoint(&config),
            config,
            tls,
            connector,
        })
    }

    /// The driver's settings (host, port, user, password, database, ...).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The TLS settings, for connections this crate does not open (replication).
    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    /// `user@host:port/database`, safe to log: never the password.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Opens a session. The connection runs on a spawned task (so this needs a Tokio runtime),
    /// which ends when the client is dropped or the server goes away; a broken connection shows
    /// up as an error on the client's next statement. The handle lets an owner stop it early.
    pub async fn connect(&self) -> Result<(Client, JoinHandle<()>), tokio_postgres::Error> {
        Ok(match &self.connector {
            None => {
                let (client, connection) = self.config.connect(NoTls).await?;
                (client, tokio::spawn(async move { drop(connection.await) }))
            }
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await?;
                (client, tokio::spawn(async move { drop(connection.await) }))
            }
        })
    }
}

/// What tells one database of one server from every other, as text: the server's start time and
/// the database's oid. A host has many names (`localhost`, `127.0.0.1`, DNS aliases, a pooler in
/// front), so two URLs that differ may still reach one database; both values are readable by
/// any user, and two servers started in the same microsecond with the same oid are not a case.
pub async fn database_identity(url: &str) -> Result<String, IdentityError> {
    // The connection's task ends by itself once the client is dropped.
    let (client, _connection) = PgConnector::new(url)?
        .connect()
        .await
        .map_err(|e| IdentityError::Server(describe(&e)))?;
    client
        .query_one(
            "SELECT pg_postmaster_start_time()::text || ' ' || oid::text \
             FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| IdentityError::Server(describe(&e)))
}

/// Why [`database_identity`] could not tell.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Connecting or the query failed (the server's message).
    #[error("{0}")]
    Server(String),
}

/// A driver error as users need it: the server's message with its SQLSTATE, detail, hint and
/// context (the driver's `Display` leaves them out), or the client's own message.
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(&format!("; {detail}"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            if let Some(context) = db.where_() {
                text.push_str(&format!("; at {context}"));
            }
            text
        }
        None => error.to_string(),
    }
}

/// Whether a connection failed in its TLS handshake (a certificate that is not trusted or not
/// for this host, no common protocol) or could not start one (sslmode=require or stricter, and
/// the server offers no TLS): trying again won't help, the URL or the server must change.
pub fn is_tls_failure(error: &tokio_postgres::Error) -> bool {
    server_offers_no_tls(error) || migrate_core::caused_by::<rustls::Error>(error)
}

/// The server answered "no" to the TLS request. tokio-postgres reports it as a TLS error whose
/// source is a private string type, so only its message tells it apart.
fn server_offers_no_tls(error: &tokio_postgres::Error) -> bool {
    std::error::Error::source(error).is_some_and(|e| e.to_string() == "server does not support TLS")
}

/// Whether a connection failed as one to a server of another protocol does: closed or reset
/// before the login, or answered with what is not PostgreSQL's protocol, without an error of the
/// server's own (a PostgreSQL server that turns a client away says why). A MySQL or MariaDB
/// server, for one, sends its greeting first and drops the client whose first message is not
/// MySQL's. tokio-postgres tells these apart only by its messages (its error kinds are private).
fn not_a_postgres_server(error: &tokio_postgres::Error) -> bool {
    use std::io::ErrorKind;
    if error.as_db_error().is_some() {
        return false;
    }
    let io = std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    match error.to_string().as_str() {
        "connection closed"
        | "unexpected message from server"
        | "error parsing response from server" => true,
        "error communicating with the server" => matches!(
            io,
            Some(
                ErrorKind::UnexpectedEof
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::InvalidInput
                    | ErrorKind::InvalidData
            )
        ),
        _ => false,
    }
}

/// What to do about an error of opening a connection that the URL or the server must fix: a
/// TLS failure ([`is_tls_failure`]), or a server that does not speak PostgreSQL's protocol (a
/// MySQL port in a postgres:// URL). Only for errors of opening a connection: an established
/// one that breaks is not a sign of the wrong server.
pub fn connect_advice(error: &tokio_postgres::Error) -> Option<&'static str> {
    if server_offers_no_tls(error) {
        return Some(
            "the server does not offer TLS: enable it on the server (ssl = on in postgresql.conf, with a certificate), or, on a network you trust, connect with sslmode=prefer or sslmode=disable",
        );
    }
    if is_tls_failure(error) {
        return Some(
            "check the TLS settings: sslrootcert must name the CA that signed the server's certificate (for Amazon RDS, the region's certificate bundle), and with sslmode=verify-full the host must be a name or address the certificate lists (sslmode=verify-ca skips that check)",
        );
    }
    not_a_postgres_server(error).then_some(
        "the server at that host and port may not be a PostgreSQL server: it did not answer in PostgreSQL's protocol (a MySQL or MariaDB server, for one, sends its own greeting and closes the connection); check the URL's port (PostgreSQL listens on 5432 by default)",
    )
}

/// The TLS settings of the parameters taken out of a URL (the last of a repeated key wins, as
/// in libpq).
fn resolve(parameters: &[(&'static str, String)]) -> Result<TlsSettings, SettingsError> {
    let value = |key: &str| {
        parameters
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    };
    let mut mode = match value("sslmode").unwrap_or("prefer") {
        "disable" => SslMode::Disable,
        "allow" | "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        other => {
            return Err(SettingsError::Url(format!(
                "sslmode={other} is not a TLS mode: use disable, allow, prefer, require, verify-ca or verify-full"
            )))
        }
    };
    let given_roots = value("sslrootcert").map(|root| match root {
        "system" => Roots::System,
        path => Roots::File(PathBuf::from(path)),
    });
    if mode == SslMode::Require && given_roots.is_some() {
        mode = SslMode::VerifyCa;
    }
    let roots = match mode {
        SslMode::VerifyCa | SslMode::VerifyFull => Some(match given_roots {
            Some(roots) => roots,
            None => default_root_file().ok_or_else(|| {
                SettingsError::Url(
                    "sslmode=verify-ca and verify-full check the server's certificate against trusted roots: add sslrootcert=/path/to/ca.pem (for Amazon RDS, the region's certificate bundle) or sslrootcert=system (publicly signed certificates, such as Redshift's)".into(),
                )
            })?,
        }),
        _ => None,
    };
    let client_certificate = match (value("sslcert"), value("sslkey")) {
        (Some(cert), Some(key)) => Some((PathBuf::from(cert), PathBuf::from(key))),
        (None, None) => None,
        _ => {
            return Err(SettingsError::Url(
                "a client certificate needs both sslcert and sslkey (PEM files)".into(),
            ))
        }
    };
    Ok(TlsSettings {
        mode,
        roots,
        client_certificate,
    })
}

/// libpq's default root file, `~/.postgresql/root.crt`, when it exists.
fn default_root_file() -> Option<Roots> {
    let path = PathBuf::from(std::env::var_os("HOME")?).join(".postgresql/root.crt");
    path.is_file().then_some(Roots::File(path))
}

fn endpoint(config: &Config) -> String {
    let joined = |parts: Vec<String>, default: &str| {
        if parts.is_empty() {
            default.to_string()
        } else {
            parts.join(",")
        }
    };
    let hosts = joined(
        config
            .get_hosts()
            .iter()
            .map(|host| match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect(),
        "localhost",
    );
    let ports = joined(
        config.get_ports().iter().map(u16::to_string).collect(),
        "5432",
    );
    let user = config.get_user().unwrap_or("(default user)");
    let database = config.get_dbname().unwrap_or(user);
    format!("{user}@{hosts}:{ports}/{database}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_leave_out_the_password() {
        let connector =
            PgConnector::new("postgres://alice:s3cret@db.example:6543/sales?sslmode=disable")
                .unwrap();
        assert_eq!(connector.endpoint(), "alice@db.example:6543/sales");
        assert!(!format!("{connector:?}").contains("s3cret"));
    }

    #[test]
    fn modes_follow_libpq() {
        let mode = |url: &str| PgConnector::new(url).map(|c| c.tls().clone());
        let prefer = mode("postgres://h/db").unwrap();
        assert_eq!((prefer.mode, prefer.roots), (SslMode::Prefer, None));
        assert_eq!(mode("host=h sslmode=allow").unwrap().mode, SslMode::Prefer);
        let full = mode("postgres://h/db?sslmode=verify-full&sslrootcert=system").unwrap();
        assert_eq!(
            (full.mode, full.roots),
            (SslMode::VerifyFull, Some(Roots::System))
        );
        // libpq: require with a root certificate checks the chain.
        let required = mode("postgres://h/db?sslmode=require&sslrootcert=system").unwrap();
        assert_eq!(required.mode, SslMode::VerifyCa);
        let error = mode("postgres://h/db?sslmode=strict").unwrap_err();
        assert!(error.to_string().contains("sslmode=strict"), "{error}");
        let error = mode("postgres://h/db?sslcert=/c.pem").unwrap_err();
        assert!(error.to_string().contains("sslkey"), "{error}");
    }

    #[test]
    fn unix_sockets_go_without_tls() {
        let connector = PgConnector::new(
            "host=/var/run/postgresql dbname=db sslmode=verify-full sslrootcert=system",
        )
        .unwrap();
        assert_eq!(connector.tls().mode, SslMode::Disable);
    }

    #[test]
    fn a_missing_certificate_file_is_named() {
        let error =
            PgConnector::new("postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
                .unwrap_err();
        assert!(
            matches!(&error, SettingsError::File { path, .. } if path == "/nonexistent/ca.pem"),
            "{error}"
        );
    }

    #[test]
    fn verification_without_roots_says_what_to_add() {
        // Not while ~/.postgresql/root.crt exists (libpq's default, which would be used).
        if default_root_file().is_some() {
            return;
        }
        let error = PgConnector::new("postgres://h/db?sslmode=verify-full").unwrap_err();
        assert!(error.to_string().contains("sslrootcert="), "{error}");
    }
}
