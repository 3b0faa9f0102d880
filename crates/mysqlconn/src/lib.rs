//! Connection options for MySQL and MariaDB from a `mysql://` (or `mariadb://`) URL: user,
//! password (`MYSQL_PWD` when the URL has none), host, port, database, and TLS from parameters
//! named after the `mysql` client's options:
//!
//! | `ssl-mode` | encrypted | server certificate checked |
//! |---|---|---|
//! | `DISABLED` (the default without `ssl-ca`) | no | - |
//! | `REQUIRED` | yes | no; with `ssl-ca`, as `VERIFY_CA` (as the `mysql` client does) |
//! | `VERIFY_CA` (the default with `ssl-ca`) | yes | signed by a CA of `ssl-ca` |
//! | `VERIFY_IDENTITY` | yes | signed by a CA of `ssl-ca`, and made out to the URL's host |
//!
//! `ssl-ca=/path/ca.pem` names the trusted CAs (PEM), `ssl-ca=system` the public ones built into
//! migrate; `ssl-cert` + `ssl-key` (PEM) give a client certificate. `PREFERRED` is refused: the
//! driver can't fall back to an unencrypted connection.

use migrate_task::DatabaseUrl;
use mysql_async::{ClientIdentity, OptsBuilder, SslOpts};
use std::path::{Path, PathBuf};

/// The URL parameters read here; any other is refused.
pub const TLS_PARAMETERS: [&str; 4] = ["ssl-mode", "ssl-ca", "ssl-cert", "ssl-key"];

/// What to check when a connection fails in its TLS handshake ([`is_tls_failure`]).
const TLS_ADVICE: &str = "check the TLS settings: ssl-ca must name the CA that signed the server's certificate (for Amazon RDS, the region's certificate bundle), and with ssl-mode=VERIFY_IDENTITY the host must be a name or address the certificate lists (VERIFY_CA skips that check)";

/// A URL whose parameters can't be used. Never retryable.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SettingsError {
    pub message: String,
    /// What to do about it.
    pub action: String,
}

/// The driver's options for `url`: who, where, which database, and TLS.
pub fn options(url: &DatabaseUrl) -> Result<OptsBuilder, SettingsError> {
    if let Some((key, _)) = url
        .params()
        .iter()
        .find(|(key, _)| !TLS_PARAMETERS.contains(&key.as_str()))
    {
        return Err(SettingsError {
            message: format!("`{url}` has a parameter `{key}`, which migrate does not use"),
            action: "remove it: the URL's parameters are the TLS ones, ssl-mode, ssl-ca, ssl-cert and ssl-key".into(),
        });
    }
    let ssl = ssl_options(url.params())?;
    Ok(OptsBuilder::default()
        // On the server's own host the driver reconnects over its local socket when it can;
        // asked for TLS, the connection stays the one the URL names.
        .prefer_socket(ssl.is_none())
        .ip_or_hostname(url.host())
        .tcp_port(url.port())
        .user(url.user())
        .pass(
            url.password()
                .map(str::to_string)
                .or_else(|| std::env::var("MYSQL_PWD").ok()),
        )
        .db_name(url.database())
        .ssl_opts(ssl))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disabled,
    Required,
    VerifyCa,
    VerifyIdentity,
}

/// The driver's TLS options for `params` (the URL's, in order; others are ignored here), or
/// `None` for a connection without TLS. Files are checked now, so a wrong path is reported
/// before anything connects.
fn ssl_options(params: &[(String, String)]) -> Result<Option<SslOpts>, SettingsError> {
    let value = |key: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let invalid = |message: String, action: &str| SettingsError {
        message,
        action: action.into(),
    };
    let ca = value("ssl-ca");
    let mode = match value("ssl-mode").map(str::to_ascii_uppercase).as_deref() {
        None if ca.is_some() => Mode::VerifyCa,
        None | Some("DISABLED") => Mode::Disabled,
        // As the mysql client does: a CA given makes REQUIRED check the chain.
        Some("REQUIRED") if ca.is_some() => Mode::VerifyCa,
        Some("REQUIRED") => Mode::Required,
        Some("VERIFY_CA") => Mode::VerifyCa,
        Some("VERIFY_IDENTITY") => Mode::VerifyIdentity,
        Some("PREFERRED") => {
            return Err(invalid(
                "ssl-mode=PREFERRED (TLS when the server offers it) is not supported".into(),
                "use ssl-mode=REQUIRED (or VERIFY_CA / VERIFY_IDENTITY with ssl-ca) to encrypt, or ssl-mode=DISABLED",
            ))
        }
        Some(other) => {
            return Err(invalid(
                format!("ssl-mode={other} is not a TLS mode"),
                "use DISABLED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY",
            ))
        }
    };
    if mode == Mode::Disabled {
        return Ok(None);
    }
    // mysql_async builds its rustls configuration with the process's default provider, and
    // this binary holds two (the HTTP stack brings aws-lc-rs): name one. Idempotent.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut options = SslOpts::default()
        .with_danger_accept_invalid_certs(mode == Mode::Required)
        .with_danger_skip_domain_validation(mode != Mode::VerifyIdentity);
    match ca {
        Some("system") => {}
        Some(path) => {
            let path = readable_pem(path, "ssl-ca", "CERTIFICATE")?;
            options = options
                .with_root_certs(vec![path.into()])
                .with_disable_built_in_roots(true);
        }
        None if mode == Mode::Required => {}
        None => {
            return Err(invalid(
                "ssl-mode=VERIFY_CA and VERIFY_IDENTITY check the server's certificate against trusted CAs, and the URL names none".into(),
                "add ssl-ca=/path/to/ca.pem (for Amazon RDS, the region's certificate bundle) or ssl-ca=system (publicly signed certificates)",
            ))
        }
    }
    match (value("ssl-cert"), value("ssl-key")) {
        (Some(cert), Some(key)) => {
            let cert = readable_pem(cert, "ssl-cert", "CERTIFICATE")?;
            let key = readable_pem(key, "ssl-key", "PRIVATE KEY")?;
            options =
                options.with_client_identity(Some(ClientIdentity::new(cert.into(), key.into())));
        }
        (None, None) => {}
        _ => {
            return Err(invalid(
                "a client certificate needs both ssl-cert and ssl-key".into(),
                "give both (PEM files), or neither",
            ))
        }
    }
    Ok(Some(options))
}

/// `path`, after checking that it is a readable PEM file holding a `kind` block (`PRIVATE KEY`
/// also matches `RSA PRIVATE KEY` and `EC PRIVATE KEY`).
fn readable_pem(path: &str, parameter: &str, kind: &str) -> Result<PathBuf, SettingsError> {
    let text = std::fs::read_to_string(Path::new(path)).map_err(|e| SettingsError {
        message: format!("{parameter}={path}: the file can't be read: {e}"),
        action: format!("give {parameter} the path of a PEM file"),
    })?;
    if !text
        .lines()
        .any(|line| line.starts_with("-----BEGIN") && line.contains(kind))
    {
        return Err(SettingsError {
            message: format!("{parameter}={path}: the file holds no PEM {kind}"),
            action: format!("give {parameter} the path of a PEM file"),
        });
    }
    Ok(PathBuf::from(path))
}

/// What to do when TLS was asked for and the server offers none ([`is_tls_failure`]).
const NO_TLS_ADVICE: &str = "the server does not offer TLS: enable TLS on the server (ssl_cert and ssl_key in its configuration), or, on a network you trust, remove ssl-mode from the URL";

/// Whether a connection failed in its TLS handshake (an untrusted certificate, a wrong name) or
/// could not start one (TLS asked for, and the server offers none): trying again won't help.
pub fn is_tls_failure(error: &mysql_async::Error) -> bool {
    server_offers_no_tls(error) || migrate_core::caused_by::<rustls::Error>(error)
}

fn server_offers_no_tls(error: &mysql_async::Error) -> bool {
    matches!(
        error,
        mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)
    )
}

/// What to do when the server at the URL's address does not speak MySQL's protocol
/// ([`not_a_mysql_server`]).
const NOT_MYSQL_ADVICE: &str = "the server at that host and port may not be a MySQL or MariaDB server: it closed the connection without the greeting a MySQL or MariaDB server sends first (a PostgreSQL server, for one, waits for its client to speak, then closes the connection after its authentication_timeout); check the URL's port (MySQL and MariaDB listen on 3306 by default)";

/// Whether a connection failed as one to a server of another protocol does: closed or reset
/// before the login, or answered with packets that are not MySQL's, without an error of the
/// server's own (a MySQL or MariaDB server that turns a client away says why).
fn not_a_mysql_server(error: &mysql_async::Error) -> bool {
    use mysql_async::{DriverError, Error, IoError};
    use std::io::ErrorKind;
    match error {
        Error::Io(IoError::Io(error)) => matches!(
            error.kind(),
            ErrorKind::UnexpectedEof
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::InvalidData
        ),
        Error::Driver(
            DriverError::ConnectionClosed
            | DriverError::PacketOutOfOrder
            | DriverError::UnexpectedPacket { .. }
            | DriverError::PacketTooLarge,
        ) => true,
        _ => false,
    }
}

/// What to do about an error of opening a connection that the URL or the server must fix: a
/// TLS failure ([`is_tls_failure`]), or a server that does not speak MySQL's protocol (a
/// PostgreSQL port in a mysql:// URL). Only for errors of opening a connection: an
/// established one that breaks is not a sign of the wrong server.
pub fn connect_advice(error: &mysql_async::Error) -> Option<&'static str> {
    if server_offers_no_tls(error) {
        Some(NO_TLS_ADVICE)
    } else if is_tls_failure(error) {
        Some(TLS_ADVICE)
    } else {
        not_a_mysql_server(error).then_some(NOT_MYSQL_ADVICE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn modes_follow_the_mysql_client() {
        assert!(ssl_options(&[]).unwrap().is_none());
        assert!(ssl_options(&params(&[("ssl-mode", "disabled")]))
            .unwrap()
            .is_none());
        let required = ssl_options(&params(&[("ssl-mode", "REQUIRED")]))
            .unwrap()
            .unwrap();
        assert!(required.accept_invalid_certs());
        let system = ssl_options(&params(&[
            ("ssl-mode", "VERIFY_IDENTITY"),
            ("ssl-ca", "system"),
        ]))
        .unwrap()
        .unwrap();
        assert!(!system.accept_invalid_certs() && !system.skip_domain_validation());
        for (pairs, expected) in [
            (params(&[("ssl-mode", "PREFERRED")]), "PREFERRED"),
            (params(&[("ssl-mode", "sometimes")]), "SOMETIMES"),
            (params(&[("ssl-mode", "VERIFY_CA")]), "names none"),
            (
                params(&[("ssl-mode", "REQUIRED"), ("ssl-cert", "/c.pem")]),
                "ssl-key",
            ),
            (
                params(&[("ssl-ca", "/nonexistent/ca.pem")]),
                "/nonexistent/ca.pem",
            ),
        ] {
            let error = ssl_options(&pairs).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
}
