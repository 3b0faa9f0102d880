//! Redshift as the warehouse: the server loads staged files itself (`COPY ... FROM 's3://...'
//! MANIFEST`), so this module only writes SQL. No Redshift server is reachable from the tests: the
//! statements are pinned by golden files (`tests/golden/*.sql`).
//!
//! **A chunk's load** is two steps on one connection, so that it happens exactly once:
//! 1. [`begin_chunk_sql`]: `BEGIN`, `LOCK` the checkpoint table (loaders of the same table wait
//!    for each other), and read the chunk's checkpoint. If a row comes back, `ROLLBACK`: the chunk
//!    is already loaded.
//! 2. Otherwise [`finish_chunk_sql`]: the `COPY`, the checkpoint row (with `pg_last_copy_count()`,
//!    the rows the COPY loaded) and `COMMIT`. The chunk is durable when `COMMIT` returns; a
//!    failure before leaves neither rows nor checkpoint.
//!
//! **Staged files assumed** (to be kept in step with the stage writer):
//! - Parquet: every column of the table, in table order (Redshift maps Parquet columns by
//!   position and takes no column list); the manifest has `meta.content_length` per entry; the
//!   bucket is in the cluster's region (COPY from Parquet accepts no `REGION`).
//! - gzip CSV: no header line, RFC 4180 quoting (`"` doubled), NULL written as an unquoted `\N`
//!   (Redshift's default NULL string, so no `NULL AS` is needed), an empty string as `""`;
//!   timestamps as `YYYY-MM-DD HH:MI:SS[.ffffff]` (UTC for `timestamptz`), read with
//!   `TIMEFORMAT 'auto'`.
//!
//! **Credentials** never appear in logs: [`RedshiftSql`]'s `Display` and `Debug` show the
//! statement with secrets replaced by `<redacted>`; only [`RedshiftSql::expose`] gives the text to
//! send to the server. Prefer [`RedshiftAuth::IamRole`], which holds no secret.

use migrate_core::{Ident, QualifiedName, TargetDialect};
use migrate_sqlrewrite::target_ident;
use std::fmt;

/// What the staged files are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    CsvGzip,
}

/// How Redshift authenticates to S3.
#[derive(Clone, PartialEq, Eq)]
pub enum RedshiftAuth {
    /// An IAM role attached to the cluster (`arn:aws:iam::123456789012:role/Load`).
    IamRole(String),
    /// Temporary or long-term keys; read them with [`RedshiftAuth::access_keys_from_env`].
    AccessKeys {
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    },
}

impl RedshiftAuth {
    /// Keys from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and (optional) `AWS_SESSION_TOKEN`,
    /// or `None` when the first two are not both set.
    pub fn access_keys_from_env() -> Option<RedshiftAuth> {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Some(RedshiftAuth::AccessKeys {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
        })
    }

    /// The authorization clause; `redact` hides the secrets.
    fn clause(&self, redact: bool) -> String {
        let secret = |value: &str| {
            if redact {
                "<redacted>".to_string()
            } else {
                literal(value)
            }
        };
        match self {
            RedshiftAuth::IamRole(arn) => format!("IAM_ROLE {}", literal(arn)),
            RedshiftAuth::AccessKeys {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                let mut clause = format!(
                    "ACCESS_KEY_ID {} SECRET_ACCESS_KEY {}",
                    literal(access_key_id),
                    secret(secret_access_key)
                );
                if let Some(token) = session_token {
                    clause.push_str(&format!(" SESSION_TOKEN {}", secret(token)));
                }
                clause
            }
        }
    }
}

impl fmt::Debug for RedshiftAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.clause(true))
    }
}

/// SQL for Redshift that may hold credentials: shown redacted, sent with [`RedshiftSql::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct RedshiftSql {
    sql: String,
    redacted: String,
}

impl RedshiftSql {
    /// The statement text to send to the server. Never log it.
    pub fn expose(&self) -> &str {
        &self.sql
    }
}

impl fmt::Display for RedshiftSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for RedshiftSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedshiftSql({:?})", self.redacted)
    }
}

/// A string literal: quotes doubled. Redshift also reads backslash escapes in literals, so
/// backslashes are doubled too.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

fn name_sql(name: &QualifiedName) -> String {
    let ident = |i: &Ident| target_ident(&i.value, i.quoted, TargetDialect::Redshift).sql;
    match &name.schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(&name.name)),
        None => ident(&name.name),
    }
}

/// `COPY table [(columns)] FROM 'manifest' <auth> MANIFEST FORMAT ...`: loads every file the
/// manifest lists. `table` and `columns` are source names, converted like `migrate convert`
/// does. See the module documentation for what the staged files must look like; `region` is
/// where the bucket is, when it differs from the cluster's (CSV only).
pub fn copy_sql(
    table: &QualifiedName,
    columns: &[Ident],
    manifest_url: &str,
    format: Format,
    auth: &RedshiftAuth,
    region: Option<&str>,
) -> RedshiftSql {
    let build = |redact: bool| {
        let mut sql = format!("COPY {}", name_sql(table));
        if format == Format::CsvGzip {
            let columns: Vec<String> = columns
                .iter()
                .map(|c| target_ident(&c.value, c.quoted, TargetDialect::Redshift).sql)
                .collect();
            sql.push_str(&format!(" ({})", columns.join(", ")));
        }
        sql.push_str(&format!(
            "\nFROM {}\n{}\nMANIFEST\n",
            literal(manifest_url),
            auth.clause(redact)
        ));
        match format {
            Format::Parquet => sql.push_str("FORMAT AS PARQUET"),
            Format::CsvGzip => {
                sql.push_str("FORMAT AS CSV\nGZIP\nTIMEFORMAT 'auto'\nDATEFORMAT 'auto'");
                if let Some(region) = region {
                    sql.push_str(&format!("\nREGION {}", literal(region)));
                }
            }
        }
        sql
    };
    RedshiftSql {
        sql: build(false),
        redacted: build(true),
    }
}

/// Step 1 of a chunk's load: begins the transaction, locks the checkpoint table and returns the
/// chunk's checkpoint row (if any: then `ROLLBACK`, the chunk is loaded). `source_table` is the
/// source table's name, recorded as on PostgreSQL (its display form).
pub fn begin_chunk_sql(task: &str, source_table: &QualifiedName, chunk: u32) -> String {
    format!(
        "BEGIN;\nLOCK migrate.migrate_checkpoint;\nSELECT rows FROM migrate.migrate_checkpoint WHERE task = {} AND source_table = {} AND chunk = {chunk};",
        literal(task),
        literal(&source_table.to_string())
    )
}

/// Step 2: the COPY, the checkpoint row and `COMMIT`, to run after [`begin_chunk_sql`] found no
/// checkpoint, on the same connection.
pub fn finish_chunk_sql(
    task: &str,
    source_table: &QualifiedName,
    chunk: u32,
    copy: &RedshiftSql,
) -> RedshiftSql {
    let build = |copy: &str| {
        format!(
            "{copy};\nINSERT INTO migrate.migrate_checkpoint (task, source_table, chunk, rows, checksum, loaded_at)\nVALUES ({}, {}, {chunk}, pg_last_copy_count(), NULL, getdate());\nCOMMIT;",
            literal(task),
            literal(&source_table.to_string())
        )
    };
    RedshiftSql {
        sql: build(&copy.sql),
        redacted: build(&copy.redacted),
    }
}

/// The checkpoint table on Redshift (the same columns as on PostgreSQL; the primary key is
/// informational there, the `LOCK` in [`begin_chunk_sql`] is what serialises loaders).
pub const CREATE_CHECKPOINT_SQL: &str = "CREATE SCHEMA IF NOT EXISTS migrate;
CREATE TABLE IF NOT EXISTS migrate.migrate_checkpoint (
    task VARCHAR(256) NOT NULL,
    source_table VARCHAR(1024) NOT NULL,
    chunk BIGINT NOT NULL,
    rows BIGINT NOT NULL,
    checksum VARCHAR(256),
    loaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (task, source_table, chunk)
);";
