//! MariaDB: the server, fresh databases, SQL through the `mariadb` client.

use crate::sql::{parse_mariadb, SqlError};
use crate::{available, redact, run, url_from_env_or_script_with, with_database, Input};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A running MariaDB server (user with all privileges incl. replication; binlog ROW/FULL/FULL).
#[derive(Debug)]
pub struct MariaDb {
    url: String,
    conn: Conn,
    client: PathBuf,
}

/// Connection parameters taken from a `mysql://user:password@host:port/db` URL.
#[derive(Debug, Clone, PartialEq)]
struct Conn {
    user: String,
    password: String,
    host: String,
    port: u16,
    /// The URL's `ssl-ca`: the client then connects over TLS and checks the server against it.
    ssl_ca: Option<String>,
}

/// The test MariaDB server, or `None` (after printing why) when there is none and servers are not
/// required. Panics when they are (`CI`, `MIGRATE_REQUIRE_SERVERS`). See the crate docs.
pub fn mariadb() -> Option<&'static MariaDb> {
    static SERVER: OnceLock<Result<MariaDb, String>> = OnceLock::new();
    available("MariaDB", SERVER.get_or_init(find))
}

/// A second test MariaDB server that accepts TCP connections over TLS only: from
/// `MIGRATE_MYSQL_TLS_URL`, else started with `MIGRATE_MYSQL_TLS=1 scenarios/servers/mariadb.sh
/// start` in the run dir's `my-tls`. Its URL asks for `ssl-mode=VERIFY_IDENTITY` with the test CA
/// as `ssl-ca`. Like [`mariadb()`] when there is none.
pub fn mariadb_tls() -> Option<&'static MariaDb> {
    static SERVER: OnceLock<Result<MariaDb, String>> = OnceLock::new();
    available(
        "MariaDB server with TLS",
        SERVER.get_or_init(|| {
            let env = [
                ("MIGRATE_MYSQL_TLS", "1".to_string()),
                ("MIGRATE_RUN_DIR", crate::run_dir_of("my-tls")),
            ];
            find_with("MIGRATE_MYSQL_TLS_URL", &env)
        }),
    )
}

fn find() -> Result<MariaDb, String> {
    find_with("MIGRATE_MYSQL_URL", &[])
}

fn find_with(var: &'static str, env: &[(&str, String)]) -> Result<MariaDb, String> {
    let (url, how) = url_from_env_or_script_with(var, "mariadb.sh", env)?;
    MariaDb::at(&url).map_err(|e| format!("the server from {how}: {e}"))
}

/// `mariadb`, else `mysql`, on the PATH (Debian's mariadb-client provides both).
fn client_path() -> Result<PathBuf, String> {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    ["mariadb", "mysql"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| "neither mariadb nor mysql client found on PATH".to_string())
}

fn parse_url(url: &str) -> Result<Conn, String> {
    let bad = |why: &str| {
        format!(
            "bad MariaDB URL {} ({why}); expected mysql://user:password@host:port/",
            redact(url)
        )
    };
    let rest = url
        .strip_prefix("mysql://")
        .or_else(|| url.strip_prefix("mariadb://"))
        .ok_or_else(|| bad("scheme"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (userinfo, hostport) = authority.rsplit_once('@').ok_or_else(|| bad("no user"))?;
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("port"))?),
        None => (hostport, 3306),
    };
    let ssl_ca = rest
        .split_once('?')
        .and_then(|(_, query)| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("ssl-ca="))
        })
        .map(percent_decode);
    Ok(Conn {
        user: percent_decode(user),
        password: percent_decode(password),
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port,
        ssl_ca,
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl MariaDb {
    /// The server at `url` (`mysql://user:password@host:port/`), e.g. a private one a test started
    /// with `scenarios/servers/mariadb.sh` to restart it; checked with `SELECT 1`.
    pub fn at(url: &str) -> Result<MariaDb, String> {
        let server = MariaDb {
            conn: parse_url(url)?,
            client: client_path()?,
            url: url.to_string(),
        };
        server
            .sql("SELECT 1")
            .map_err(|e| format!("{} does not answer: {e}", redact(&server.url)))?;
        Ok(server)
    }

    /// `mysql://migrate:migrate@127.0.0.1:PORT/` (no default database).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The client binary used here (`mariadb` or `mysql`).
    pub fn client_path(&self) -> &Path {
        &self.client
    }

    /// Runs SQL without a default database (server-wide things: users, variables, binlog status).
    /// Returns what the client prints in batch mode; see [`MariaDbDatabase::sql`].
    pub fn sql(&self, sql: &str) -> Result<String, SqlError> {
        mariadb_client(&self.client, &self.conn, None, Input::Sql(sql))
    }

    /// Creates a fresh `utf8mb4` database named after `hint` (made unique; see [`crate::unique_name`]).
    /// It is dropped when the returned value is dropped; kept if the test panicked (to look at) or
    /// `MIGRATE_KEEP_TEST_DBS=1`. Panics if it can't be created.
    pub fn create_database(&self, hint: &str) -> MariaDbDatabase {
        let name = crate::unique_name(hint);
        if let Err(e) = self.sql(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")) {
            panic!("cannot create test database {name}: {e}");
        }
        MariaDbDatabase {
            url: with_database(&self.url, &name),
            conn: self.conn.clone(),
            client: self.client.clone(),
            name,
        }
    }
}

/// A database created for one test. See [`MariaDb::create_database`].
#[derive(Debug)]
pub struct MariaDbDatabase {
    name: String,
    url: String,
    conn: Conn,
    client: PathBuf,
}

impl MariaDbDatabase {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `mysql://migrate:migrate@127.0.0.1:PORT/<name>`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one or more `;`-separated statements with the client in batch mode and returns its stdout:
    /// one line per row, columns separated by tabs, no headers; NULL prints as `NULL`, and tabs,
    /// newlines and backslashes inside values as `\t`, `\n`, `\\`. Stops at the first error, which
    /// names the failing statement ([`SqlError`]). `DELIMITER` works as in the interactive client.
    pub fn sql(&self, sql: &str) -> Result<String, SqlError> {
        mariadb_client(&self.client, &self.conn, Some(&self.name), Input::Sql(sql))
    }

    /// Like [`sql`](Self::sql), reading the file.
    pub fn sql_file(&self, path: impl AsRef<Path>) -> Result<String, SqlError> {
        mariadb_client(
            &self.client,
            &self.conn,
            Some(&self.name),
            Input::File(path.as_ref()),
        )
    }
}

impl Drop for MariaDbDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() || crate::truthy("MIGRATE_KEEP_TEST_DBS") {
            eprintln!("kept test database {} ({})", self.name, redact(&self.url));
            return;
        }
        let drop = format!("DROP DATABASE IF EXISTS `{}`", self.name);
        if let Err(e) = mariadb_client(&self.client, &self.conn, None, Input::Sql(&drop)) {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}

fn mariadb_client(
    client: &Path,
    conn: &Conn,
    database: Option<&str>,
    input: Input<'_>,
) -> Result<String, SqlError> {
    // The input goes to stdin in both cases, so a file is read the same way as text and the client's
    // "at line N" refers to the file's lines.
    let text = match input {
        Input::Sql(text) => text.to_string(),
        Input::File(path) => std::fs::read_to_string(path).map_err(|e| SqlError {
            client: "mariadb".into(),
            database: database.unwrap_or("").into(),
            input: input.label(),
            line: None,
            statement: None,
            message: format!("cannot read {}: {e}", path.display()),
            exit_code: None,
            stderr: String::new(),
        })?,
    };
    let mut cmd = Command::new(client);
    // --no-defaults: ignore /etc/mysql and ~/.my.cnf. The password goes through the environment rather
    // than the command line.
    cmd.arg("--no-defaults")
        .args(["--batch", "--skip-column-names", "--protocol=TCP"])
        .arg("--connect-timeout=10")
        .arg(format!("--host={}", conn.host))
        .arg(format!("--port={}", conn.port))
        .arg(format!("--user={}", conn.user))
        .env("MYSQL_PWD", &conn.password);
    if let Some(db) = database {
        cmd.arg(format!("--database={db}"));
    }
    if let Some(ca) = &conn.ssl_ca {
        cmd.arg(format!("--ssl-ca={ca}"))
            .arg("--ssl-verify-server-cert");
    }
    let out = run(cmd, Some(&text));
    let error = |line, statement, message, exit_code, stderr| SqlError {
        client: "mariadb".into(),
        database: database.unwrap_or("").into(),
        input: input.label(),
        line,
        statement,
        message,
        exit_code,
        stderr,
    };
    let out = out.map_err(|e| {
        error(
            None,
            None,
            format!("cannot run {}: {e}", client.display()),
            None,
            String::new(),
        )
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let (line, statement, message) = parse_mariadb(&stderr, Some(&text));
    Err(error(line, statement, message, out.status.code(), stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("mysql://migrate:migrate@127.0.0.1:53306/").unwrap(),
            Conn {
                user: "migrate".into(),
                password: "migrate".into(),
                host: "127.0.0.1".into(),
                port: 53306,
                ssl_ca: None,
            }
        );
        let tls =
            parse_url("mysql://u:p@h:1/?ssl-mode=VERIFY_IDENTITY&ssl-ca=%2Ftmp%2Fca.crt").unwrap();
        assert_eq!(tls.ssl_ca.as_deref(), Some("/tmp/ca.crt"));
        let c = parse_url("mariadb://a%40b:p%3Aw@localhost/db?x=1").unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("a@b", "p:w"));
        assert_eq!((c.host.as_str(), c.port), ("localhost", 3306));
        assert!(parse_url("postgres://x@h/db").is_err());
        assert!(parse_url("mysql://u@h:notaport/").is_err());
    }
}
