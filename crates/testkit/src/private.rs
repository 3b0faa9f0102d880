//! A server of a test's own, for a test that changes server-wide settings or restarts the server:
//! `scenarios/servers/<engine>.sh` in a fresh run dir, on a free port, stopped and removed when
//! dropped.

use crate::{run_script, unavailable, unique_name, MariaDb};
use std::path::PathBuf;
use std::sync::Mutex;

/// The database engine of a [`PrivateServer`].
#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Postgres,
    MariaDb,
}

impl Engine {
    fn script(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres.sh",
            Engine::MariaDb => "mariadb.sh",
        }
    }

    /// The variable the script takes its port from.
    fn port_variable(self) -> &'static str {
        match self {
            Engine::Postgres => "MIGRATE_PG_PORT",
            Engine::MariaDb => "MIGRATE_MYSQL_PORT",
        }
    }
}

/// A running server of its own; see the module documentation.
pub struct PrivateServer {
    engine: Engine,
    run_dir: PathBuf,
    port: String,
    url: String,
}

/// Private servers pick their port when they start: two starting at once could pick the same.
static SERVER_SCRIPT: Mutex<()> = Mutex::new(());

impl PrivateServer {
    /// Starts one. When it can't start: a panic under CI (or `MIGRATE_REQUIRE_SERVERS`), else
    /// `None` with a skip notice, as for the shared servers.
    pub fn start(engine: Engine) -> Option<PrivateServer> {
        let _one_at_a_time = SERVER_SCRIPT.lock().unwrap_or_else(|p| p.into_inner());
        let run_dir = std::env::temp_dir().join(unique_name("private_server"));
        // A port below the ephemeral range (32768+), where no client socket of this machine can
        // be holding it, that we can bind now; another program may still take it before the
        // server does: then the next one.
        let mut candidate = 21000 + (std::process::id() % 500) as u16 * 10;
        let mut failures = Vec::new();
        for _ in 0..3 {
            while std::net::TcpListener::bind(("127.0.0.1", candidate)).is_err() {
                candidate += 1;
            }
            let env = [
                ("MIGRATE_RUN_DIR", run_dir.display().to_string()),
                (engine.port_variable(), candidate.to_string()),
            ];
            let output = match run_script(engine.script(), &["start"], &env) {
                Ok(output) => output,
                Err(e) => return unavailable(&format!("private {engine:?} server"), &e),
            };
            let url = String::from_utf8_lossy(&output.stdout)
                .lines()
                .last()
                .map(|line| line.trim().to_string())
                .unwrap_or_default();
            if output.status.success() && !url.is_empty() {
                return Some(PrivateServer {
                    engine,
                    run_dir,
                    port: candidate.to_string(),
                    url,
                });
            }
            failures.push(format!(
                "port {candidate}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
            let _ = run_script(engine.script(), &["stop"], &env[..1]);
            candidate += 1;
        }
        let _ = std::fs::remove_dir_all(&run_dir);
        unavailable(&format!("private {engine:?} server"), &failures.join("\n"))
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` or `mysql://migrate:migrate@127.0.0.1:PORT/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the server and starts it again on the same port and data.
    pub fn restart(&self) {
        let _one_at_a_time = SERVER_SCRIPT.lock().unwrap_or_else(|p| p.into_inner());
        let env = [
            ("MIGRATE_RUN_DIR", self.run_dir.display().to_string()),
            (self.engine.port_variable(), self.port.clone()),
        ];
        for command in ["stop", "start"] {
            let output = run_script(self.engine.script(), &[command], &env)
                .unwrap_or_else(|e| panic!("{command}: {e}"));
            assert!(
                output.status.success(),
                "{command}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    /// Creates database `name` (left to the server's removal) and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let (server, _) = self.url.rsplit_once('/').expect("a URL with a database");
        let created = match self.engine {
            Engine::Postgres => {
                crate::postgres::sql_at(&self.url, &format!("CREATE DATABASE {name}"))
            }
            Engine::MariaDb => MariaDb::at(&self.url).and_then(|m| {
                m.sql(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
                    .map_err(|e| e.to_string())
            }),
        };
        if let Err(e) = created {
            panic!("creating database {name} on {}: {e}", self.url);
        }
        format!("{server}/{name}")
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let env = [("MIGRATE_RUN_DIR", self.run_dir.display().to_string())];
        let _ = run_script(self.engine.script(), &["stop"], &env);
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}
