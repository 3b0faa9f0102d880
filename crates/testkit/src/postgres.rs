//! PostgreSQL: the server, fresh databases, SQL through `psql`.

use crate::sql::{parse_psql, SqlError};
use crate::{available, redact, run, url_from_env_or_script_with, with_database, Input};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// A running PostgreSQL server (superuser access, `wal_level=logical`).
#[derive(Debug)]
pub struct PgServer {
    url: String,
    psql: PathBuf,
}

/// The test PostgreSQL server, or `None` (after printing why) when there is none and servers are not
/// required. Panics when they are (`CI`, `MIGRATE_REQUIRE_SERVERS`). See the crate docs.
pub fn postgres() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
    available("PostgreSQL", SERVER.get_or_init(find))
}

/// A second test PostgreSQL server that accepts TCP connections over TLS only: from
/// `MIGRATE_PG_TLS_URL`, else started with `MIGRATE_PG_TLS=1 scenarios/servers/postgres.sh start`
/// in the run dir's `pg-tls`. Its URL asks for `sslmode=verify-full` with the test CA as
/// `sslrootcert`. Like [`postgres()`] when there is none.
pub fn postgres_tls() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
    available(
        "PostgreSQL server with TLS",
        SERVER.get_or_init(|| {
            let env = [
                ("MIGRATE_PG_TLS", "1".to_string()),
                ("MIGRATE_RUN_DIR", crate::run_dir_of("pg-tls")),
            ];
            find_with("MIGRATE_PG_TLS_URL", &env)
        }),
    )
}

fn find() -> Result<PgServer, String> {
    find_with("MIGRATE_PG_URL", &[])
}

fn find_with(var: &'static str, env: &[(&str, String)]) -> Result<PgServer, String> {
    let (url, how) = url_from_env_or_script_with(var, "postgres.sh", env)?;
    let server = PgServer {
        psql: psql_path()?,
        url,
    };
    // A wrong URL should fail here, once, with a clear message, not in every test.
    server.sql("SELECT 1").map_err(|e| {
        format!(
            "the server from {how} ({}) does not answer: {e}",
            redact(&server.url)
        )
    })?;
    Ok(server)
}

/// `MIGRATE_PG_BIN/psql`, else Debian's PostgreSQL 15 `psql`, else `psql` on the PATH.
fn psql_path() -> Result<PathBuf, String> {
    let dir =
        std::env::var("MIGRATE_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    let candidate = Path::new(&dir).join("psql");
    if candidate.is_file() {
        return Ok(candidate);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("psql"))
            .find(|p| p.is_file())
    });
    on_path.ok_or_else(|| format!("psql not found in {dir} nor on PATH (set MIGRATE_PG_BIN)"))
}

/// Runs SQL in the `postgres` database of the server at `url` (one not found by [`postgres()`]).
pub(crate) fn sql_at(url: &str, sql: &str) -> Result<String, String> {
    psql(&psql_path()?, url, "postgres", Input::Sql(sql)).map_err(|e| e.to_string())
}

impl PgServer {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`: the superuser on the `postgres` database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `psql` binary used here, for tests that need it directly (`\copy`, `pg_recvlogical` beside it).
    pub fn psql_path(&self) -> &Path {
        &self.psql
    }

    /// Runs SQL in the `postgres` database (server-wide things: roles, settings, slots).
    /// Returns what `psql -At` prints; see [`PgDatabase::sql`].
    pub fn sql(&self, sql: &str) -> Result<String, SqlError> {
        psql(&self.psql, &self.url, "postgres", Input::Sql(sql))
    }

    /// Creates a fresh database named after `hint` (made unique; see [`crate::unique_name`]).
    /// It is dropped, with its replication slots, when the returned value is dropped; it is kept if the
    /// test panicked (to look at) or `MIGRATE_KEEP_TEST_DBS=1`. Panics if it can't be created.
    pub fn create_database(&self, hint: &str) -> PgDatabase {
        let name = crate::unique_name(hint);
        if let Err(e) = self.sql(&format!("CREATE DATABASE \"{name}\"")) {
            panic!("cannot create test database {name}: {e}");
        }
        PgDatabase {
            url: with_database(&self.url, &name),
            admin_url: self.url.clone(),
            psql: self.psql.clone(),
            name,
        }
    }
}

/// A database created for one test. See [`PgServer::create_database`].
#[derive(Debug)]
pub struct PgDatabase {
    name: String,
    url: String,
    admin_url: String,
    psql: PathBuf,
}

impl PgDatabase {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `postgres://postgres@127.0.0.1:PORT/<name>`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one or more statements with `psql -X -q -A -t -v ON_ERROR_STOP=1` and returns its stdout:
    /// one line per row, columns separated by `|`, NULL as an empty field, no headers or command tags.
    /// Stops at the first error, which names the failing statement ([`SqlError`]). Statements run in
    /// autocommit mode, each in its own transaction unless you write `BEGIN`/`COMMIT`.
    pub fn sql(&self, sql: &str) -> Result<String, SqlError> {
        psql(&self.psql, &self.url, &self.name, Input::Sql(sql))
    }

    /// Like [`sql`](Self::sql), reading the file (psql meta-commands such as `\copy` work too).
    pub fn sql_file(&self, path: impl AsRef<Path>) -> Result<String, SqlError> {
        psql(
            &self.psql,
            &self.url,
            &self.name,
            Input::File(path.as_ref()),
        )
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() || crate::truthy("MIGRATE_KEEP_TEST_DBS") {
            eprintln!("kept test database {} ({})", self.name, self.url);
            return;
        }
        // A database with a replication slot can't be dropped, and a slot left behind holds WAL
        // forever. Disconnect everyone (walsenders included), then drop the slots (retried: a slot stays
        // "active" for a moment after its walsender is told to exit), then the database.
        let name = self.name.replace('\'', "''");
        let script = format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
               WHERE datname = '{name}' AND pid <> pg_backend_pid();\n\
             SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots \
               WHERE database = '{name}';\n\
             DROP DATABASE IF EXISTS \"{}\" WITH (FORCE);",
            self.name
        );
        // For up to 15 s: on a loaded machine a walsender may take seconds to exit, and a slot
        // leaked here once held 19 GB of WAL by the end of the day.
        let mut last = None;
        for attempt in 0..60u64 {
            match psql(&self.psql, &self.admin_url, "postgres", Input::Sql(&script)) {
                Ok(_) => return,
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(100 + 5 * attempt));
        }
        if let Some(e) = last {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}

fn psql(psql: &Path, url: &str, database: &str, input: Input<'_>) -> Result<String, SqlError> {
    let mut cmd = Command::new(psql);
    // -X: no ~/.psqlrc; -q: no command tags; -A -t: bare rows; -b: echo the failing statement.
    cmd.args([
        "-X",
        "-q",
        "-A",
        "-t",
        "-b",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        url,
    ])
    .env("PGCONNECT_TIMEOUT", "10");
    let stdin = match input {
        Input::Sql(text) => {
            cmd.args(["-f", "-"]);
            Some(text)
        }
        Input::File(path) => {
            cmd.arg("-f").arg(path);
            None
        }
    };
    let error = |line, statement, message, exit_code, stderr| SqlError {
        client: "psql".into(),
        database: database.into(),
        input: input.label(),
        line,
        statement,
        message,
        exit_code,
        stderr,
    };
    let out = run(cmd, stdin).map_err(|e| {
        error(
            None,
            None,
            format!("cannot run {}: {e}", psql.display()),
            None,
            String::new(),
        )
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let (line, statement, message) = parse_psql(&stderr);
    Err(error(line, statement, message, out.status.code(), stderr))
}
