//! Connections: parsing the URL, opening sessions with the settings every statement of this crate
//! relies on, and telling MySQL from MariaDB.

use crate::SourceError;
use migrate_checksum::JsonText;
use migrate_task::{DatabaseUrl, Engine};
use mysql_async::prelude::{ColumnIndex, FromValue, Queryable};
use mysql_async::{Conn, Opts, Row};

/// Statements run on every session of this crate, in order:
/// - the checksum definition's settings (`migrate_checksum::session_settings`): instants in UTC
///   (`TIMESTAMP` values are read, and `Cast`s to timestamps made, in UTC) and `utf8mb4` on the
///   connection, so text of any column character set (latin1, utf8mb3, ...) arrives as UTF-8;
/// - a strict `sql_mode` without `ANSI_QUOTES` and `NO_BACKSLASH_ESCAPES`, so that this crate's
///   quoting ([`crate::quote_ident`]) means what it says whatever the server's default;
/// - a long `net_write_timeout`: a reader that waits for its consumer (a slow upload) must not
///   have its connection, and so the snapshot's view, cut by the server after 60 s;
/// - a long `wait_timeout`: snapshot connections idle while other tables load.
pub const SESSION_SETTINGS: &[&str] = &[
    migrate_checksum::MYSQL_SESSION_SETTINGS,
    "SET sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
    "SET net_write_timeout = 86400",
    "SET wait_timeout = 604800",
];

/// Client-side limit on one packet: the protocol's maximum (1 GiB), so that large values are
/// limited only by the server's `max_allowed_packet`.
const MAX_PACKET: usize = 1 << 30;

/// The server family, which decides a few statements (binlog status, statement time limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// MariaDB with its (major, minor) version.
    MariaDb(u16, u16),
    /// MySQL with its (major, minor) version.
    Mysql(u16, u16),
}

impl Flavor {
    /// From `SELECT VERSION()` and the handshake's version numbers. MariaDB's version comes
    /// from the text: before 11.0, its handshake says `5.5.5-10.x` (for old MySQL clients).
    fn detect(version: &str, numbers: (u16, u16, u16)) -> Flavor {
        if version.to_ascii_lowercase().contains("mariadb") {
            let mut parts = version
                .split(|c: char| !c.is_ascii_digit())
                .map(|part| part.parse::<u16>().unwrap_or(0));
            Flavor::MariaDb(parts.next().unwrap_or(0), parts.next().unwrap_or(0))
        } else {
            Flavor::Mysql(numbers.0, numbers.1)
        }
    }

    pub fn is_mariadb(self) -> bool {
        matches!(self, Flavor::MariaDb(..))
    }

    /// How the checksum writes `json` values: MariaDB keeps documents as written, and from
    /// 10.7 on writes them in a normal form that PostgreSQL can write too
    /// ([`JsonText::Normalized`]); MySQL normalises them like `jsonb`.
    pub fn json_text(self) -> JsonText {
        match self {
            Flavor::MariaDb(major, minor) if (major, minor) >= (10, 7) => JsonText::Normalized,
            Flavor::MariaDb(..) | Flavor::Mysql(..) => JsonText::Jsonb,
        }
    }

    /// Session settings that only one family knows: no statement time limit on long chunk reads,
    /// and live (not cached) table statistics in MySQL 8's information_schema.
    fn session_settings(self) -> &'static [&'static str] {
        match self {
            Flavor::MariaDb(..) => &["SET max_statement_time = 0"],
            Flavor::Mysql(8.., _) => &[
                "SET max_execution_time = 0",
                "SET information_schema_stats_expiry = 0",
            ],
            Flavor::Mysql(..) => &["SET max_execution_time = 0"],
        }
    }
}

/// Where and how to connect: the driver's options (with the password) and the endpoint text
/// (without it).
#[derive(Clone)]
pub(crate) struct Target {
    pub opts: Opts,
    pub endpoint: String,
    pub database: Option<String>,
}

impl Target {
    /// Parses `mysql://user[:password]@host[:port]/database[?ssl-mode=...]` (or `mariadb://`;
    /// TLS parameters: see `migrate_mysqlconn`); the password comes from `MYSQL_PWD` when the
    /// URL has none.
    pub fn parse(url: &str) -> Result<Target, SourceError> {
        let parsed = DatabaseUrl::parse(url).map_err(|e| SourceError::InvalidUrl {
            message: e.message,
            action: e.action,
        })?;
        if parsed.engine() != Engine::Mysql {
            return Err(SourceError::InvalidUrl {
                message: format!("`{parsed}` is not a MySQL URL"),
                action: "write it as mysql://user@host:3306/database (or mariadb://)".into(),
            });
        }
        let endpoint = format!(
            "{}@{}:{}/{}",
            parsed.user().unwrap_or("(default user)"),
            parsed.host(),
            parsed.port(),
            parsed.database().unwrap_or("")
        );
        let opts = migrate_mysqlconn::options(&parsed)
            .map_err(|e| SourceError::InvalidUrl {
                message: e.message,
                action: e.action,
            })?
            .max_allowed_packet(Some(MAX_PACKET))
            // Rows come in one result per chunk; nothing to gain from Nagle.
            .tcp_nodelay(true);
        let database = parsed.database().map(str::to_string);
        Ok(Target {
            opts: opts.into(),
            endpoint,
            database,
        })
    }

    /// A new session with [`SESSION_SETTINGS`] and the flavor's settings applied.
    pub async fn open(&self) -> Result<(Conn, Flavor), SourceError> {
        let mut conn =
            Conn::new(self.opts.clone())
                .await
                .map_err(|source| SourceError::Connect {
                    endpoint: self.endpoint.clone(),
                    source,
                })?;
        let context = format!("setting up the session on {}", self.endpoint);
        let version: String = first(&mut conn, "SELECT VERSION()", &context)
            .await?
            .unwrap_or_default();
        let flavor = Flavor::detect(&version, conn.server_version());
        for statement in SESSION_SETTINGS.iter().chain(flavor.session_settings()) {
            conn.query_drop(*statement)
                .await
                .map_err(SourceError::query(context.clone()))?;
        }
        Ok((conn, flavor))
    }
}

/// The first column of the first row of `sql`, if any.
pub(crate) async fn first<T: FromValue>(
    conn: &mut Conn,
    sql: &str,
    context: &str,
) -> Result<Option<T>, SourceError> {
    let row: Option<Row> = conn
        .query_first(sql)
        .await
        .map_err(SourceError::query(context))?;
    match row {
        Some(mut row) => get(&mut row, 0, context),
        None => Ok(None),
    }
}

/// Column `index` (position or name) of `row` as `T` (`None` for NULL), or an error naming what
/// was being read: a catalog value of an unexpected type must not panic.
pub(crate) fn get<T: FromValue>(
    row: &mut Row,
    index: impl ColumnIndex,
    context: &str,
) -> Result<Option<T>, SourceError> {
    match row.take_opt::<Option<T>, _>(index) {
        Some(Ok(value)) => Ok(value),
        Some(Err(e)) => Err(SourceError::Catalog {
            context: context.to_string(),
            message: format!("unexpected value {:?}", e.0),
        }),
        None => Err(SourceError::Catalog {
            context: context.to_string(),
            message: "a column is missing from the server's answer".into(),
        }),
    }
}

/// A MySQL or MariaDB database to read from, over one connection (discovery and chunk planning);
/// snapshots open their own.
pub struct MysqlSource {
    pub(crate) conn: tokio::sync::Mutex<Conn>,
    pub(crate) target: Target,
    pub(crate) flavor: Flavor,
}

impl std::fmt::Debug for MysqlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlSource")
            .field("endpoint", &self.target.endpoint)
            .field("flavor", &self.flavor)
            .finish_non_exhaustive()
    }
}

impl MysqlSource {
    /// Connects to `url` (`mysql://user[:password]@host[:port]/database`, `mariadb://` alike; the
    /// password from `MYSQL_PWD` when the URL has none), without TLS, and applies
    /// [`SESSION_SETTINGS`]. Errors name the endpoint without the password.
    pub async fn connect(url: &str) -> Result<MysqlSource, SourceError> {
        let target = Target::parse(url)?;
        let (conn, flavor) = target.open().await?;
        Ok(MysqlSource {
            conn: tokio::sync::Mutex::new(conn),
            target,
            flavor,
        })
    }

    /// `user@host:port/database`, safe to log.
    pub fn endpoint(&self) -> &str {
        &self.target.endpoint
    }

    /// MariaDB or MySQL (and which major version).
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The database named in the URL: the default schema of discovery.
    pub fn database(&self) -> Option<&str> {
        self.target.database.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_leave_out_the_password() {
        let target = Target::parse("mariadb://alice:s3cret@db.example:3307/sales").unwrap();
        assert_eq!(target.endpoint, "alice@db.example:3307/sales");
        assert_eq!(target.opts.pass(), Some("s3cret"));
        assert_eq!(target.opts.db_name(), Some("sales"));
        let target = Target::parse("mysql://bob@db.example/").unwrap();
        assert_eq!(target.endpoint, "bob@db.example:3306/");
    }

    #[test]
    fn bad_urls_are_rejected_without_echoing_secrets() {
        for url in [
            "mysql://bob:hunter2@host:notaport/db",
            "postgres://bob:hunter2@host/db",
            "mysql://bob:hunter2@host/db?compress=true",
            "mysql://bob:hunter2@host/db?ssl-mode=PREFERRED",
            "bob:hunter2@host",
        ] {
            let error = Target::parse(url).err().expect(url);
            assert!(matches!(error, SourceError::InvalidUrl { .. }), "{error}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn flavors() {
        assert_eq!(
            Flavor::detect("10.11.19-MariaDB-0+deb12u1-log", (5, 5, 5)),
            Flavor::MariaDb(10, 11)
        );
        assert_eq!(Flavor::detect("8.4.3", (8, 4, 3)), Flavor::Mysql(8, 4));
        assert_eq!(Flavor::MariaDb(10, 11).json_text(), JsonText::Normalized);
        assert_eq!(Flavor::MariaDb(10, 6).json_text(), JsonText::Jsonb);
        assert_eq!(Flavor::MariaDb(11, 0).json_text(), JsonText::Normalized);
        assert_eq!(Flavor::Mysql(8, 4).json_text(), JsonText::Jsonb);
    }
}
