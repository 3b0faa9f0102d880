//! Database and staging URLs.
//!
//! Parsed by hand (the forms are few: `scheme://[user[:password]@]host[:port][/database][?k=v]`,
//! `s3://bucket/prefix`, a path) so that the password is held in one private field and can't
//! leak: `Display` and `Debug` print `***` in its place, and [`redact`] does the same for URL text
//! that has not been parsed yet (what users typed, in error messages).

use std::fmt;
use std::path::PathBuf;

/// A URL that can't be used, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UrlError {
    pub message: String,
    pub action: String,
}

impl UrlError {
    fn new(message: impl Into<String>, action: impl Into<String>) -> UrlError {
        UrlError {
            message: message.into(),
            action: action.into(),
        }
    }
}

/// The database engines a URL can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `postgres://` or `postgresql://`
    Postgres,
    /// `mysql://` or `mariadb://`
    Mysql,
    /// `redshift://`
    Redshift,
}

impl Engine {
    pub fn scheme(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Redshift => "redshift",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Engine::Postgres => 5432,
            Engine::Mysql => 3306,
            Engine::Redshift => 5439,
        }
    }

    /// The schemes of `engines` as advice lists them: `postgres://, mysql:// (or mariadb://)`.
    fn listed(engines: &[Engine]) -> String {
        let names: Vec<&str> = engines
            .iter()
            .map(|engine| match engine {
                Engine::Postgres => "postgres://",
                Engine::Mysql => "mysql:// (or mariadb://)",
                Engine::Redshift => "redshift://",
            })
            .collect();
        match names.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

/// A database connection URL. The password is readable only through [`DatabaseUrl::password`].
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    engine: Engine,
    user: Option<String>,
    password: Option<String>,
    host: String,
    port: u16,
    database: Option<String>,
    params: Vec<(String, String)>,
}

/// Query parameters that hold secrets.
const SECRET_PARAMS: [&str; 2] = ["password", "sslpassword"];

impl DatabaseUrl {
    /// Parses `scheme://[user[:password]@]host[:port][/database][?key=value&...]`; user,
    /// password, database and parameters are percent-decoded. A PostgreSQL server's Unix-domain
    /// socket is its directory, as libpq spells it: percent-encoded as the host, or `?host=`
    /// (and `?port=`) with no host; [`DatabaseUrl::host`] is then the directory.
    pub fn parse(text: &str) -> Result<DatabaseUrl, UrlError> {
        DatabaseUrl::parse_for(text, &[Engine::Postgres, Engine::Mysql, Engine::Redshift])
    }

    /// [`DatabaseUrl::parse`] for a place that takes only `accepted` engines: an unknown scheme
    /// is refused naming only their schemes. A known engine outside them is parsed, for the
    /// caller to refuse with its own reason.
    pub fn parse_for(text: &str, accepted: &[Engine]) -> Result<DatabaseUrl, UrlError> {
        let (scheme, rest) = text.split_once("://").ok_or_else(|| {
            UrlError::new(
                "the value is not a URL (no `scheme://`)",
                "write it as postgres://user@host:5432/database (or mysql://, redshift://)",
            )
        })?;
        let engine = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Engine::Postgres,
            "mysql" | "mariadb" => Engine::Mysql,
            "redshift" => Engine::Redshift,
            other => {
                return Err(UrlError::new(
                    format!("unsupported database scheme `{other}://`"),
                    format!("use {}", Engine::listed(accepted)),
                ))
            }
        };
        if rest.contains('#') {
            return Err(UrlError::new(
                "the URL has a `#fragment`",
                "remove it; percent-encode a `#` in a password as %23",
            ));
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => match info.split_once(':') {
                Some((u, p)) => (Some(decode(u)?), Some(decode(p)?)),
                None => (Some(decode(info)?), None),
            },
        };
        let (mut host, mut port) = split_host_port(hostport)?;
        let database = match path.trim_end_matches('/') {
            "" => None,
            p if p.contains('/') => {
                return Err(UrlError::new(
                    format!("`{p}` is not a database name"),
                    "give only the database after the host: .../database",
                ))
            }
            p => Some(decode(p)?),
        };
        let mut params = query
            .map(|q| {
                q.split('&')
                    .filter(|kv| !kv.is_empty())
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        Ok((decode(k)?, decode(v)?))
                    })
                    .collect::<Result<Vec<_>, UrlError>>()
            })
            .transpose()?
            .unwrap_or_default();
        if engine != Engine::Mysql {
            // libpq's two spellings of a Unix-domain socket: the directory percent-encoded as
            // the host (`postgres://u@%2Fvar%2Frun%2Fpostgresql/db`), or no host and the
            // directory (and port) as parameters (`postgres://u@/db?host=/var/run/postgresql`).
            let decoded = decode(&host)?;
            if decoded.starts_with('/') {
                host = decoded;
            } else if host.is_empty() {
                host = take_param(&mut params, "host").unwrap_or_default();
                if let Some(text) = take_param(&mut params, "port") {
                    if port.is_some() {
                        return Err(UrlError::new(
                            "the URL gives the port twice (after the host and as ?port=)",
                            "give it once",
                        ));
                    }
                    port = Some(parse_port(&text)?);
                }
            }
        }
        if host.is_empty() {
            return Err(UrlError::new(
                format!("`{}` has no host", redact(text)),
                match engine {
                    Engine::Mysql => "add the server's host name, e.g. mysql://user@db.example.com/app",
                    _ => "add the server's host name, e.g. postgres://user@db.example.com/app, or for the server's Unix-domain socket its directory: postgres://user@/app?host=/var/run/postgresql",
                },
            ));
        }
        Ok(DatabaseUrl {
            engine,
            user: user.filter(|u| !u.is_empty()),
            password,
            host,
            port: port.unwrap_or(engine.default_port()),
            database,
            params,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password, for the connector only: never print it.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Query parameters (`sslmode=require`...), in order. Secret ones are redacted only in
    /// `Display`.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }
}

impl DatabaseUrl {
    /// The URL to give the engine's connector, password included (`fallback_password` when the
    /// URL has none, e.g. from `PGPASSWORD`). **Secret**: never print or log it.
    pub fn connection_url(&self, fallback_password: Option<&str>) -> String {
        self.render(self.password.as_deref().or(fallback_password), encode)
    }

    /// The URL without its password (secret parameters `***`): for a command the user runs with
    /// the password from the environment (`PGPASSWORD`, `MYSQL_PWD`).
    pub fn without_password(&self) -> String {
        self.render(None, |_| "***".to_string())
    }

    /// The URL text, with `secret` applied to the password and secret parameters.
    fn render(&self, password: Option<&str>, secret: impl Fn(&str) -> String) -> String {
        let mut out = format!("{}://", self.engine.scheme());
        if let Some(user) = &self.user {
            out.push_str(&encode(user));
            if let Some(password) = password {
                out.push(':');
                out.push_str(&secret(password));
            }
            out.push('@');
        }
        if self.host.starts_with('/') {
            // A socket directory, percent-encoded as libpq reads it.
            out.push_str(&format!("{}:{}", encode(&self.host), self.port));
        } else if self.host.contains(':') {
            out.push_str(&format!("[{}]:{}", self.host, self.port));
        } else {
            out.push_str(&format!("{}:{}", self.host, self.port));
        }
        if let Some(db) = &self.database {
            out.push_str(&format!("/{}", encode(db)));
        }
        for (i, (k, v)) in self.params.iter().enumerate() {
            let v = if SECRET_PARAMS.contains(&k.as_str()) {
                secret(v)
            } else {
                encode(v)
            };
            out.push_str(&format!(
                "{}{}={v}",
                if i == 0 { '?' } else { '&' },
                encode(k)
            ));
        }
        out
    }
}

/// The URL with `***` for the password and secret parameters.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(self.password.as_deref(), |_| "***".to_string()))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Where staged files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StagingUrl {
    /// A local directory (the default).
    Local(PathBuf),
    /// `s3://bucket/prefix`; `prefix` has no leading or trailing `/` and may be empty.
    S3 { bucket: String, prefix: String },
}

impl StagingUrl {
    /// Parses `s3://bucket[/prefix]`, `file:///absolute/path` or a plain path.
    pub fn parse(text: &str) -> Result<StagingUrl, UrlError> {
        if text.trim().is_empty() {
            return Err(UrlError::new(
                "the staging URL is empty",
                "give a directory or s3://bucket/prefix",
            ));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Ok(StagingUrl::Local(PathBuf::from(text)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "s3" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.contains('@') {
                    return Err(UrlError::new(
                        "credentials in an s3:// URL are not accepted",
                        "remove them; credentials come from the environment (AWS_ACCESS_KEY_ID, \
                         AWS_SECRET_ACCESS_KEY) or the instance role",
                    ));
                }
                if !valid_bucket(bucket) {
                    return Err(UrlError::new(
                        format!("`{bucket}` is not a valid S3 bucket name"),
                        "bucket names have 3-63 lower-case letters, digits, dots and hyphens",
                    ));
                }
                Ok(StagingUrl::S3 {
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_matches('/').to_string(),
                })
            }
            "file" => match rest.strip_prefix('/') {
                Some(_) => Ok(StagingUrl::Local(PathBuf::from(decode(rest)?))),
                None => Err(UrlError::new(
                    format!("`{text}` names a host; file URLs are file:///absolute/path"),
                    "write file:///path, or the path alone",
                )),
            },
            other => Err(UrlError::new(
                format!("unsupported staging scheme `{other}://`"),
                "use a directory or s3://bucket/prefix",
            )),
        }
    }
}

impl fmt::Display for StagingUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StagingUrl::Local(path) => write!(f, "{}", path.display()),
            StagingUrl::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            StagingUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Replaces the password of URL text (and secret query parameters) with `***`, without
/// requiring the text to be a valid URL: used when showing what the user typed.
pub fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                        format!("{k}=***")
                    }
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), UrlError> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| {
            UrlError::new("an IPv6 host lacks its closing `]`", "write [::1]:5432")
        })?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    Ok((host.to_string(), port.map(parse_port).transpose()?))
}

fn parse_port(text: &str) -> Result<u16, UrlError> {
    text.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
        UrlError::new(
            format!("`{text}` is not a port number"),
            "give a port between 1 and 65535, or none for the default",
        )
    })
}

/// Removes the query parameter `key` and returns its value (the last one, if given twice).
fn take_param(params: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let mut value = None;
    params.retain(|(k, v)| {
        if k == key {
            value = Some(v.clone());
        }
        k != key
    });
    value
}

fn decode(text: &str) -> Result<String, UrlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    UrlError::new(
                        "a `%` in the URL is not followed by two hex digits",
                        "percent-encode a literal `%` as %25",
                    )
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        UrlError::new(
            "a percent-encoded part of the URL is not UTF-8",
            "percent-encode UTF-8 bytes",
        )
    })
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_urls_carry_the_password() {
        let url =
            DatabaseUrl::parse("postgres://app:p%40ss@db:6432/sales?sslmode=disable").unwrap();
        assert_eq!(
            url.connection_url(Some("ignored")),
            "postgres://app:p%40ss@db:6432/sales?sslmode=disable"
        );
        let url = DatabaseUrl::parse("postgres://app@db/sales").unwrap();
        assert_eq!(url.connection_url(None), "postgres://app@db:5432/sales");
        assert_eq!(
            url.connection_url(Some("from env")),
            "postgres://app:from%20env@db:5432/sales"
        );
        assert_eq!(url.to_string(), "postgres://app@db:5432/sales");
    }

    #[test]
    fn parses_and_redacts_database_urls() {
        let url = DatabaseUrl::parse(
            "postgresql://app:s%40cret%3A1@db.local/sales?sslmode=require&password=x",
        )
        .unwrap();
        assert_eq!(url.engine(), Engine::Postgres);
        assert_eq!(url.user(), Some("app"));
        assert_eq!(url.password(), Some("s@cret:1"));
        assert_eq!(url.host(), "db.local");
        assert_eq!(url.port(), 5432);
        assert_eq!(url.database(), Some("sales"));
        let shown = url.to_string();
        assert_eq!(
            shown,
            "postgres://app:***@db.local:5432/sales?sslmode=require&password=***"
        );
        assert!(!format!("{url:?}").contains("cret"));
    }

    #[test]
    fn defaults_and_ipv6() {
        let url = DatabaseUrl::parse("mariadb://root@[::1]:3307").unwrap();
        assert_eq!(url.engine(), Engine::Mysql);
        assert_eq!(url.host(), "::1");
        assert_eq!(url.port(), 3307);
        assert_eq!(url.database(), None);
        assert_eq!(url.to_string(), "mysql://root@[::1]:3307");
        let rs =
            DatabaseUrl::parse("redshift://awsuser@c.abc.us-east-1.redshift.amazonaws.com/dev")
                .unwrap();
        assert_eq!(rs.port(), 5439);
    }

    #[test]
    fn unix_socket_directories() {
        for text in [
            "postgres://app@%2Fvar%2Frun%2Fpostgresql:5433/sales?sslmode=disable",
            "postgres://app@/sales?host=%2Fvar%2Frun%2Fpostgresql&port=5433&sslmode=disable",
            "postgres://app@/sales?sslmode=disable&host=/var/run/postgresql&port=5433",
            "postgres://app@:5433/sales?host=/var/run/postgresql&sslmode=disable",
        ] {
            let url = DatabaseUrl::parse(text).unwrap();
            assert_eq!(url.host(), "/var/run/postgresql", "{text}");
            assert_eq!(url.port(), 5433, "{text}");
            assert_eq!(
                url.connection_url(None),
                "postgres://app@%2Fvar%2Frun%2Fpostgresql:5433/sales?sslmode=disable",
                "{text}"
            );
        }
        let url = DatabaseUrl::parse("postgres://app@/sales?host=/tmp").unwrap();
        assert_eq!((url.host(), url.port()), ("/tmp", 5432));
        let twice = DatabaseUrl::parse("postgres://app@:5433/sales?host=/tmp&port=5434");
        assert!(twice.unwrap_err().message.contains("port twice"));
        let bad_port = DatabaseUrl::parse("postgres://app@/sales?host=/tmp&port=x");
        assert!(bad_port.unwrap_err().message.contains("`x` is not a port"));
        // MySQL's URLs name a host; a socket is the driver's business (`?socket=`).
        let e = DatabaseUrl::parse("mysql://app@/sales?host=/tmp").unwrap_err();
        assert!(e.message.contains("no host"), "{e:?}");
        let e = DatabaseUrl::parse("postgres://app@/sales").unwrap_err();
        assert!(e.action.contains("?host=/var/run/postgresql"), "{e:?}");
    }

    #[test]
    fn bad_urls() {
        assert!(DatabaseUrl::parse("oracle://x@h/db")
            .unwrap_err()
            .message
            .contains("unsupported database scheme"));
        assert!(DatabaseUrl::parse("postgres://u:p@:5432/db")
            .unwrap_err()
            .message
            .contains("no host"));
        assert!(DatabaseUrl::parse("postgres://h:99999/db").is_err());
        assert!(DatabaseUrl::parse("postgres://h/a/b").is_err());
        assert!(DatabaseUrl::parse("db.local").is_err());
        let e = DatabaseUrl::parse("db.local:pw@x").unwrap_err();
        assert!(!e.message.contains("pw"));
    }

    #[test]
    fn redacts_raw_text() {
        assert_eq!(
            redact("postgres://u:hunter2@h/db?password=hunter2&x=1"),
            "postgres://u:***@h/db?password=***&x=1"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("/tmp/stage"), "/tmp/stage");
    }

    #[test]
    fn staging_urls() {
        assert_eq!(
            StagingUrl::parse("s3://my-bucket/runs/1/").unwrap(),
            StagingUrl::S3 {
                bucket: "my-bucket".into(),
                prefix: "runs/1".into()
            }
        );
        assert_eq!(
            StagingUrl::parse("file:///var/stage").unwrap(),
            StagingUrl::Local("/var/stage".into())
        );
        assert_eq!(
            StagingUrl::parse("stage").unwrap(),
            StagingUrl::Local("stage".into())
        );
        assert!(StagingUrl::parse("s3://My_Bucket").is_err());
        assert!(StagingUrl::parse("s3://k:s@bucket").is_err());
        assert!(StagingUrl::parse("gs://bucket").is_err());
        assert!(StagingUrl::parse("file://host/x").is_err());
    }
}
