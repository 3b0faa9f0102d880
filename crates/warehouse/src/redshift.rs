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
//!   (Redshift's default NULL string, so no `NULL AS` is needed), an empty string as an empty
//!   field (Redshift loads it as an empty string without `EMPTYASNULL`);
//!   timestamps as `YYYY-MM-DD HH:MI:SS[.ffffff]` (UTC for `timestamptz`), read with
//!   `TIMEFORMAT 'auto'`.
//! - No infinite dates or timestamps, which Redshift lacks: a batch holding one must be refused
//!   before it is staged ([`refuse_infinities`]).
//!
//! **Credentials** never appear in logs: [`RedshiftSql`]'s `Display` and `Debug` show the
//! statement with secrets replaced by `<redacted>`; only [`RedshiftSql::expose`] gives the text to
//! send to the server. Prefer [`RedshiftAuth::IamRole`], which holds no secret.

use arrow::array::RecordBatch;
use migrate_batch::first_infinity;
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

/// A value that can't be staged for Redshift: the batch convention's `infinity` or `-infinity`
/// date or timestamp. Redshift has no infinite dates or timestamps, and the extreme value that
/// carries one would load as a date in 5881580 AD or a timestamp in 294247 AD.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "column {column}, row {row} of the chunk ({row_values}): `{value}` has no value in Redshift, \
     which has no infinite dates or timestamps; replace it in the source with a far date (e.g. \
     UPDATE ... SET {column} = '9999-12-31' WHERE {column} = '{value}'), or exclude the row with a \
     filter, or load into PostgreSQL, which keeps it; then run again"
)]
pub struct NoRedshiftValue {
    pub column: String,
    /// The row's place in the chunk, counting from 1.
    pub row: u64,
    /// The row's key columns and values (`id=5`); for a table without a primary key, every
    /// column's.
    pub row_values: String,
    /// `infinity` or `-infinity`.
    pub value: &'static str,
}

impl migrate_core::ErrorClass for NoRedshiftValue {
    fn retry(&self) -> migrate_core::Retry {
        migrate_core::Retry::Definite
    }
}

/// Refuses a batch of a chunk holding an infinite date or timestamp (see [`NoRedshiftValue`]),
/// naming the first one's column, its row's place in the chunk (after `rows_before` rows of
/// earlier batches) and the values of the `key` columns (indexes into the batch), or of every
/// column when there is no key.
pub fn refuse_infinities(
    batch: &RecordBatch,
    key: &[usize],
    rows_before: u64,
) -> Result<(), NoRedshiftValue> {
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if let Some((row, infinity)) = first_infinity(column) {
            let schema = batch.schema();
            let all: Vec<usize>;
            let named = if key.is_empty() {
                all = (0..batch.num_columns()).collect();
                &all
            } else {
                key
            };
            return Err(NoRedshiftValue {
                column: field.name().clone(),
                row: rows_before + row as u64 + 1,
                row_values: crate::key_text(
                    named.iter().filter_map(|&index| {
                        Some((
                            schema.field(index).name().as_str(),
                            batch.columns().get(index)?,
                        ))
                    }),
                    row,
                ),
                value: infinity.text(),
            });
        }
    }
    Ok(())
}

/// A string literal: quotes doubled. Redshift also reads backslash escapes in literals, so
/// backslashes are doubled too.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

fn name_sql(name: &QualifiedName) -> String {
    migrate_sqlrewrite::target_name(name, TargetDialect::Redshift)
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

/// The CDC checkpoint table on Redshift: one row per task, the last change batch applied (the
/// same columns as on PostgreSQL).
pub const CREATE_CDC_CHECKPOINT_SQL: &str = "CREATE SCHEMA IF NOT EXISTS migrate;
CREATE TABLE IF NOT EXISTS migrate.migrate_cdc_checkpoint (
    task VARCHAR(256) NOT NULL,
    sequence BIGINT NOT NULL,
    position VARCHAR(1024) NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    source_committed_at TIMESTAMP,
    PRIMARY KEY (task)
);";

/// Step 1 of applying change batch `sequence` (ending at source `position`) of `task`: begins
/// the transaction, locks the CDC checkpoint table (appliers wait for each other) and returns the
/// task's checkpoint row `(sequence, position)`. If it comes back with the same position or a
/// sequence `>= sequence`, the batch was applied before: `ROLLBACK` and skip it. Otherwise run
/// [`apply_changes_sql`] on the same connection.
pub fn begin_apply_sql(task: &str) -> String {
    format!(
        "BEGIN;\nLOCK migrate.migrate_cdc_checkpoint;\nSELECT sequence, position FROM migrate.migrate_cdc_checkpoint WHERE task = {};",
        literal(task)
    )
}

/// One table's part of a change batch staged for Redshift: `table` is the target definition
/// (with its primary key) and `manifest_url` lists Parquet files whose columns are, in order,
/// those of [`crate::staged_change_schema`] of the table.
pub struct StagedChanges<'a> {
    pub table: &'a migrate_core::Table,
    pub manifest_url: String,
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) of `time`.
fn timestamp_literal(time: std::time::SystemTime) -> String {
    let micros = match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    };
    let days = micros.div_euclid(86_400_000_000);
    let of_day = micros.rem_euclid(86_400_000_000);
    let (year, month, day) = migrate_core::civil_from_days(days);
    let seconds = of_day / 1_000_000;
    format!(
        "'{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}'",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        of_day % 1_000_000
    )
}

/// Step 2 of applying a change batch, after [`begin_apply_sql`] found it not applied yet, on the
/// same connection: for each table, the staged changes are copied from their manifest into a
/// temporary table, unchanged values (`__unchanged`) are filled from the latest earlier change of
/// the key in the batch (following up to three key changes back) or else from the target row, the
/// changes are reduced to the last one per key (`ROW_NUMBER() OVER (PARTITION BY key ORDER BY
/// seq DESC)`; an update that changes the key deletes the old key), a truncate deletes every row
/// (`DELETE`: Redshift's `TRUNCATE` would commit), the rows of every touched key are deleted and
/// the final images inserted; then the checkpoint row is replaced and the transaction commits.
///
/// **Exactly once**: the checkpoint changes in the same transaction as the rows; a failure
/// anywhere before `COMMIT` leaves neither. An unchanged value with no earlier value anywhere
/// (the target is out of step with the source) aborts the transaction on purpose: the guard
/// casts the text `unresolved unchanged value` to an integer, so the error names it.
///
/// Tables without a primary key have no statements (the caller must refuse them, as
/// [`crate::PostgresWarehouse::apply_changes`] does).
pub fn apply_changes_sql(
    task: &str,
    sequence: u64,
    position: &str,
    committed_at: Option<std::time::SystemTime>,
    tables: &[StagedChanges<'_>],
    auth: &RedshiftAuth,
) -> RedshiftSql {
    let build = |redact: bool| {
        let mut sql = String::new();
        for (index, staged) in tables.iter().enumerate() {
            table_apply_sql(&mut sql, index, staged, auth, redact);
        }
        sql.push_str(&format!(
            "DELETE FROM migrate.migrate_cdc_checkpoint WHERE task = {task};\n\
             INSERT INTO migrate.migrate_cdc_checkpoint (task, sequence, position, applied_at, source_committed_at)\n\
             VALUES ({task}, {sequence}, {position}, GETDATE(), {committed});\n\
             COMMIT;",
            task = literal(task),
            position = literal(position),
            committed = committed_at.map_or("NULL".to_string(), timestamp_literal),
        ));
        sql
    };
    RedshiftSql {
        sql: build(false),
        redacted: build(true),
    }
}

/// In-batch rounds of unchanged-value resolution: each follows one more key change back.
const UNCHANGED_ROUNDS: usize = 3;

fn table_apply_sql(
    sql: &mut String,
    index: usize,
    staged: &StagedChanges<'_>,
    auth: &RedshiftAuth,
    redact: bool,
) {
    use std::fmt::Write;
    let table = staged.table;
    let ident = |i: &Ident| target_ident(&i.value, i.quoted, TargetDialect::Redshift).sql;
    let target = name_sql(&table.name);
    let key_positions: Vec<usize> = migrate_source::key_columns(table)
        .iter()
        .filter_map(|k| table.columns.iter().position(|c| &c.name.value == k))
        .collect();
    if key_positions.is_empty() {
        return;
    }
    let s = format!("migrate_cdc_{index}");
    let net = format!("migrate_cdc_net_{index}");
    let columns: Vec<String> = table.columns.iter().map(|c| ident(&c.name)).collect();
    let keys: Vec<String> = key_positions.iter().map(|&p| columns[p].clone()).collect();
    let after: Vec<String> = key_positions.iter().map(|p| format!("c{p}")).collect();
    let before: Vec<String> = (0..key_positions.len()).map(|i| format!("b{i}")).collect();
    let eq = |l: &str, lc: &[String], r: &str, rc: &[String]| {
        lc.iter()
            .zip(rc)
            .map(|(a, b)| format!("{l}.{a} = {r}.{b}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let mut select = vec![
        "CAST(NULL AS BIGINT) AS seq".to_string(),
        "CAST(NULL AS VARCHAR(1)) AS op".into(),
        "CAST(NULL AS VARCHAR(1600)) AS unch".into(),
    ];
    for (i, key) in keys.iter().enumerate() {
        select.push(format!("t.{key} AS b{i}"));
    }
    for (i, column) in columns.iter().enumerate() {
        select.push(format!("t.{column} AS c{i}"));
    }
    let _ = writeln!(sql, "-- {target}: the staged changes");
    let _ = writeln!(sql, "DROP TABLE IF EXISTS {s};");
    let _ = writeln!(
        sql,
        "CREATE TEMP TABLE {s} AS SELECT {} FROM {target} t WHERE 1 = 0;",
        select.join(", ")
    );
    let _ = writeln!(
        sql,
        "COPY {s}\nFROM {}\n{}\nMANIFEST\nFORMAT AS PARQUET;",
        literal(&staged.manifest_url),
        auth.clause(redact)
    );

    // Unchanged values: only variable-length values can be TOASTed, so only those columns.
    let unchanged = |alias: &str, pos: usize| format!("SUBSTRING({alias}.unch, {pos}, 1) = '1'");
    let known = |alias: &str, pos: usize| {
        format!("({alias}.unch IS NULL OR SUBSTRING({alias}.unch, {pos}, 1) <> '1')")
    };
    let clear = |pos: usize| {
        format!(
            "unch = SUBSTRING({s}.unch, 1, {}) || '0' || SUBSTRING({s}.unch, {})",
            pos - 1,
            pos + 1
        )
    };
    let key_changed = |alias: &str| format!("NOT ({})", eq(alias, &before, alias, &after));
    let toastable: Vec<usize> = (0..columns.len())
        .filter(|p| !key_positions.contains(p))
        .filter(|&p| {
            matches!(
                migrate_batch::data_type(&table.columns[p].data_type),
                arrow::datatypes::DataType::LargeUtf8
                    | arrow::datatypes::DataType::Utf8
                    | arrow::datatypes::DataType::LargeBinary
            )
        })
        .collect();
    let _ = writeln!(
        sql,
        "-- {target}: unchanged values (a key column is unchanged only when the key is)"
    );
    for (i, p) in key_positions.iter().enumerate() {
        let _ = writeln!(
            sql,
            "UPDATE {s} SET c{p} = b{i}, {} WHERE op = 'U' AND {};",
            clear(p + 1),
            unchanged(&s, p + 1)
        );
    }
    for &p in &toastable {
        let pos = p + 1;
        // Earlier changes of the row's before key that have the value, or changed the key.
        let candidates = |r: &str| {
            format!(
                "SELECT {r}.seq AS rseq, MAX(q.seq) AS pseq FROM {s} {r} JOIN {s} q ON {} AND q.seq < {r}.seq \
                 AND q.op IN ('I', 'U') AND ({} OR {}) WHERE {r}.op = 'U' AND {} GROUP BY {r}.seq",
                eq("q", &after, r, &before),
                known("q", pos),
                key_changed("q"),
                unchanged(r, pos),
            )
        };
        let _ = writeln!(
            sql,
            "UPDATE {s} SET c{p} = t.{column}, {clear}\nFROM {target} t\nWHERE {s}.op = 'U' AND {unch} AND {key_match} \
             AND {s}.seq < (SELECT COALESCE(MIN(seq), 9223372036854775807) FROM {s} WHERE op = 'T') \
             AND {s}.seq NOT IN (SELECT rseq FROM ({candidates}) c);",
            column = columns[p],
            clear = clear(pos),
            unch = unchanged(&s, pos),
            key_match = eq("t", &keys, &s, &before),
            candidates = candidates("r"),
        );
        for _ in 0..UNCHANGED_ROUNDS {
            let _ = writeln!(
                sql,
                "UPDATE {s} SET c{p} = p.c{p}, {clear}\nFROM ({candidates}) m JOIN {s} p ON p.seq = m.pseq\nWHERE {s}.seq = m.rseq AND {known};",
                clear = clear(pos),
                candidates = candidates("r"),
                known = known("p", pos),
            );
        }
        let _ = writeln!(
            sql,
            "SELECT CAST(CASE WHEN COUNT(*) > 0 THEN 'unresolved unchanged value: {target} column {} (the target is out of step with the source; reload the table)' END AS INTEGER) FROM {s} WHERE op = 'U' AND {};",
            table.columns[p].name.value.replace('\'', "''"),
            unchanged(&s, pos),
        );
    }

    let after_list = after.join(", ");
    let since =
        format!("seq > (SELECT COALESCE(MAX(seq), -9223372036854775808) FROM {s} WHERE op = 'T')");
    let before_as_after = before
        .iter()
        .zip(&after)
        .map(|(b, a)| format!("{b} AS {a}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(sql, "-- {target}: the last change of each key");
    let _ = writeln!(sql, "DROP TABLE IF EXISTS {net};");
    let _ = writeln!(
        sql,
        "CREATE TEMP TABLE {net} AS SELECT {after_list}, seq, present FROM (\n  \
         SELECT {after_list}, seq, present, ROW_NUMBER() OVER (PARTITION BY {after_list} ORDER BY seq DESC) AS rn FROM (\n    \
         SELECT {before_as_after}, seq, FALSE AS present FROM {s} WHERE (op = 'D' OR (op = 'U' AND {changed})) AND {since}\n    \
         UNION ALL\n    \
         SELECT {after_list}, seq, TRUE AS present FROM {s} WHERE op IN ('I', 'U') AND {since}\n  \
         ) changes\n) ranked WHERE rn = 1;",
        changed = key_changed(&s),
    );
    let _ = writeln!(
        sql,
        "-- {target}: delete what is gone, MERGE the final rows"
    );
    let _ = writeln!(
        sql,
        "DELETE FROM {target} WHERE EXISTS (SELECT 1 FROM {s} WHERE op = 'T');"
    );
    let _ = writeln!(
        sql,
        "DELETE FROM {target} USING {net} n WHERE {} AND NOT n.present;",
        eq(&target, &keys, "n", &after)
    );
    // Redshift's MERGE takes a table as its source (not a query): the final rows go to one.
    let rows = format!("{net}_rows");
    let values = (0..columns.len())
        .map(|i| format!("s.c{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        sql,
        "CREATE TEMP TABLE {rows} AS SELECT {values} FROM {s} s JOIN {net} n ON n.seq = s.seq WHERE n.present;"
    );
    let merged = (0..columns.len())
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>();
    let _ = writeln!(
        sql,
        "MERGE INTO {target} USING {rows} m ON {}
WHEN MATCHED THEN UPDATE SET {}
WHEN NOT MATCHED THEN INSERT ({}) VALUES ({});",
        eq(&target, &keys, "m", &after),
        columns
            .iter()
            .zip(&merged)
            .map(|(c, m)| format!("{c} = m.{m}"))
            .collect::<Vec<_>>()
            .join(", "),
        columns.join(", "),
        merged
            .iter()
            .map(|m| format!("m.{m}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let _ = writeln!(sql, "DROP TABLE {rows};");
    let _ = writeln!(sql, "DROP TABLE {net};\nDROP TABLE {s};");
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, Date32Array, Int32Array, TimestampMicrosecondArray};
    use std::sync::Arc;

    #[test]
    fn infinities_are_refused_by_column_row_and_key() {
        let batch = |days: Vec<Option<i32>>, micros: Vec<Option<i64>>| {
            let ids: ArrayRef = Arc::new(Int32Array::from_iter_values(1..=days.len() as i32));
            RecordBatch::try_from_iter([
                ("id", ids),
                ("day", Arc::new(Date32Array::from(days)) as ArrayRef),
                (
                    "valid_to",
                    Arc::new(TimestampMicrosecondArray::from(micros).with_timezone("UTC")),
                ),
            ])
            .expect("batch")
        };
        let finite = batch(vec![Some(0), None], vec![Some(i64::MAX - 1), None]);
        assert_eq!(refuse_infinities(&finite, &[0], 0), Ok(()));
        // An infinity in a key is shown as such.
        let keyed = batch(vec![Some(i32::MAX)], vec![Some(i64::MIN)]);
        let error = refuse_infinities(&keyed, &[0, 2], 0).unwrap_err();
        assert_eq!(error.row_values, "id=1, valid_to=-infinity");

        let open = batch(vec![Some(0), None], vec![Some(0), Some(i64::MAX)]);
        let error = refuse_infinities(&open, &[0], 1000).unwrap_err();
        // A key of a finite UTC timestamp is shown as Arrow writes it.
        let dated = batch(vec![Some(i32::MAX)], vec![Some(1_500_000)]);
        assert_eq!(
            refuse_infinities(&dated, &[2], 0).unwrap_err().row_values,
            "valid_to=1970-01-01T00:00:01.500Z"
        );
        assert_eq!(
            (
                error.column.as_str(),
                error.row,
                error.row_values.as_str(),
                error.value
            ),
            ("valid_to", 1002, "id=2", "infinity")
        );
        let text = error.to_string();
        assert!(
            text.starts_with(
                "column valid_to, row 1002 of the chunk (id=2): `infinity` has no value in Redshift"
            ) && text.contains("WHERE valid_to = 'infinity'"),
            "{text}"
        );

        // A row without a key is named by all its values.
        let error =
            refuse_infinities(&batch(vec![Some(i32::MIN)], vec![None]), &[], 0).unwrap_err();
        assert_eq!(
            (
                error.column.as_str(),
                error.row_values.as_str(),
                error.value
            ),
            ("day", "id=1, day=-infinity, valid_to=NULL", "-infinity")
        );
    }
}
