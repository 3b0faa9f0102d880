//! The metastore's backing database: one connection, one read-only snapshot, rows as text.

use crate::MetastoreError;
use migrate_core::error_chain;
use mysql_async::prelude::Queryable;
use tokio::sync::Mutex;

/// Which database holds the metastore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Mysql,
    Postgres,
}

/// One row: every column as text (`None` for NULL).
pub(crate) type Row = Vec<Option<String>>;

pub(crate) enum Backend {
    Mysql(Mutex<mysql_async::Conn>),
    Postgres(tokio_postgres::Client),
}

impl Backend {
    /// Connects and opens a read-only snapshot that every later query reads from, so that tables,
    /// partitions and storage descriptors read minutes apart are consistent with each other.
    pub(crate) async fn connect(url: &str) -> Result<Backend, MetastoreError> {
        let connect = |message: String| MetastoreError::Connect { message };
        // A connection error and, when the URL or the server must fix it, what to check.
        let refused = |error: String, advice: Option<&str>| match advice {
            Some(advice) => connect(format!("{error}; {advice}")),
            None => connect(error),
        };
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            let bad_url = |message: String, action: String| {
                MetastoreError::Url(format!("{message}; {action}"))
            };
            let parsed =
                migrate_task::DatabaseUrl::parse(url).map_err(|e| bad_url(e.message, e.action))?;
            let opts: mysql_async::Opts = migrate_mysqlconn::options(&parsed)
                .map_err(|e| bad_url(e.message, e.action))?
                .into();
            if opts.db_name().is_none() {
                return Err(connect(
                    "the URL names no database: add the metastore's database, e.g. mysql://user:password@host:3306/hive".into(),
                ));
            }
            let mut conn = mysql_async::Conn::new(opts)
                .await
                .map_err(|e| refused(e.to_string(), migrate_mysqlconn::connect_advice(&e)))?;
            for statement in [
                // Text arrives as UTF-8 whatever the metastore's character set (often latin1).
                "SET NAMES utf8mb4",
                "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
            ] {
                conn.query_drop(statement)
                    .await
                    .map_err(|e| connect(format!("{statement}: {e}")))?;
            }
            Ok(Backend::Mysql(Mutex::new(conn)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connector = migrate_pgconn::PgConnector::new(url)
                .map_err(|e| MetastoreError::Url(e.to_string()))?;
            let (client, _) = connector
                .connect()
                .await
                .map_err(|e| refused(error_chain(&e), migrate_pgconn::connect_advice(&e)))?;
            client
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .map_err(|e| connect(error_chain(&e)))?;
            Ok(Backend::Postgres(client))
        } else {
            Err(MetastoreError::Url(
                "the metastore URL must start with mysql://, mariadb://, postgres:// or postgresql://".into(),
            ))
        }
    }

    pub(crate) fn engine(&self) -> Engine {
        match self {
            Backend::Mysql(_) => Engine::Mysql,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs `sql`, written with "double-quoted" identifiers (Hive's upper-case names; backticks
    /// for MySQL are substituted here) and no parameters: every value in it is an integer id or a
    /// literal of this crate.
    pub(crate) async fn rows(&self, what: &str, sql: &str) -> Result<Vec<Row>, MetastoreError> {
        let query = |message: String| MetastoreError::Query {
            what: what.to_string(),
            message,
        };
        match self {
            Backend::Mysql(conn) => {
                let sql = sql.replace('"', "`");
                let mut conn = conn.lock().await;
                let rows: Vec<mysql_async::Row> =
                    conn.query(sql).await.map_err(|e| query(e.to_string()))?;
                rows.into_iter()
                    .map(|row| {
                        row.unwrap()
                            .into_iter()
                            .map(|value| mysql_text(value).map_err(&query))
                            .collect()
                    })
                    .collect()
            }
            Backend::Postgres(client) => {
                let messages = client
                    .simple_query(sql)
                    .await
                    .map_err(|e| query(error_chain(&e)))?;
                Ok(messages
                    .into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_string))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect())
            }
        }
    }
}

/// A MySQL value of the text protocol as text. Bytes that are not UTF-8 are an error, not
/// replaced: a location or a value rewritten with U+FFFD would point somewhere else.
fn mysql_text(value: mysql_async::Value) -> Result<Option<String>, String> {
    use mysql_async::Value;
    Ok(match value {
        Value::NULL => None,
        Value::Bytes(bytes) => Some(String::from_utf8(bytes).map_err(|e| {
            format!("a value is not valid UTF-8 ({e}); check the metastore's character set")
        })?),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    })
}
