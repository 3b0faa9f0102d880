//! Redshift targets: migrate stages every chunk (S3, with its manifest) and writes, next to the
//! staged objects, the statements that load it. No Redshift is reachable from migrate yet, so it
//! runs none of them and reports the tables as `staged`.
//!
//! Per table, under `<staging>/<task>/<table segment>/redshift/`:
//! - `prepare.sql`: the checkpoint table, then the target table as the prep mode says (`DROP`
//!   and the converter's `CREATE TABLE`, or `TRUNCATE`);
//! - `chunk-NNNNNN.sql`: per chunk, [`chunk_sql`]: lock, checkpoint check, `COPY ... MANIFEST`,
//!   checkpoint row, `COMMIT`.
//!
//! Credentials never reach these files: access keys appear as `<redacted>` (an `IAM_ROLE` holds
//! no secret).

use crate::ReplicateError;
use bytes::Bytes;
use migrate_core::{Catalog, Finding, QualifiedName, SourceDialect, Table, TargetDialect};
use migrate_stage::{Format, Manifest, Stage};
use migrate_task::{PrepMode, RedshiftAccess};
use migrate_warehouse::redshift::{self as sql, RedshiftAuth};
use object_store::path::{Path, PathPart};
use object_store::{ObjectStoreExt, PutPayload};

pub(crate) struct RedshiftTarget {
    /// `user@host:port/database`, for messages.
    pub endpoint: String,
    auth: RedshiftAuth,
    region: Option<String>,
}

impl RedshiftTarget {
    /// `access` as the task validated it; access keys are read from the environment now.
    pub fn new(
        endpoint: String,
        access: &RedshiftAccess,
    ) -> Result<RedshiftTarget, ReplicateError> {
        let auth = match &access.auth {
            migrate_task::RedshiftAuth::IamRole(arn) => RedshiftAuth::IamRole(arn.clone()),
            migrate_task::RedshiftAuth::EnvironmentKeys => RedshiftAuth::access_keys_from_env()
                .ok_or_else(|| ReplicateError::Unsupported {
                    message: "Redshift needs credentials to read the staged files".into(),
                    action: "set iam_role in [target], or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
                })?,
        };
        Ok(RedshiftTarget {
            endpoint,
            auth,
            region: access.region.clone(),
        })
    }

    /// Writes `prepare.sql` for `table`.
    pub async fn prepare(
        &self,
        table: &Table,
        from: SourceDialect,
        mode: PrepMode,
        stage: &Stage,
        segment: &str,
    ) -> Result<Vec<Finding>, ReplicateError> {
        let (sql, findings) = prepare_sql(table, from, mode);
        put(stage, segment, "prepare.sql", sql).await?;
        Ok(findings)
    }

    /// Writes `chunk-NNNNNN.sql` for the staged chunk `manifest`.
    pub async fn write_chunk_sql(
        &self,
        task: &str,
        table: &Table,
        chunk: u32,
        manifest: &Manifest,
        stage: &Stage,
        segment: &str,
    ) -> Result<(), ReplicateError> {
        let sql = chunk_sql(
            task,
            table,
            chunk,
            &manifest.url,
            manifest.format,
            &self.auth,
            self.region.as_deref(),
        );
        put(stage, segment, &format!("chunk-{chunk:06}.sql"), sql).await
    }
}

/// The URL of the directory holding a table's Redshift statements.
pub(crate) fn sql_url(stage: &Stage, segment: &str) -> String {
    stage.object_url(sql_path(stage, segment, "").as_ref())
}

fn sql_path(stage: &Stage, segment: &str, name: &str) -> Path {
    stage
        .prefix()
        .parts()
        .chain([PathPart::from(segment), PathPart::from("redshift")])
        .chain((!name.is_empty()).then(|| PathPart::from(name)))
        .collect()
}

async fn put(stage: &Stage, segment: &str, name: &str, text: String) -> Result<(), ReplicateError> {
    let path = sql_path(stage, segment, name);
    stage
        .store()
        .put(&path, PutPayload::from(Bytes::from(text)))
        .await
        .map(drop)
        .map_err(|e| {
            ReplicateError::Stage(migrate_stage::StageError::Store {
                op: "put",
                object: stage.object_url(path.as_ref()),
                error: e,
            })
        })
}

fn name_sql(name: &QualifiedName) -> String {
    migrate_sqlrewrite::target_name(name, TargetDialect::Redshift)
}

/// The statements that make `table` ready on Redshift for a full load in `mode`, and the
/// converter's findings.
pub fn prepare_sql(table: &Table, from: SourceDialect, mode: PrepMode) -> (String, Vec<Finding>) {
    let mut without_foreign_keys = table.clone();
    without_foreign_keys
        .constraints
        .retain(|c| !matches!(c.kind, migrate_core::ConstraintKind::ForeignKey(_)));
    let catalog = Catalog {
        tables: vec![without_foreign_keys],
        ..Catalog::default()
    };
    let conversion = migrate_dialect::emit(&catalog, from, TargetDialect::Redshift, &[]);
    let name = name_sql(&table.name);
    let create = conversion.ddl.trim_end();
    let body = match mode {
        PrepMode::DropAndCreate => format!("DROP TABLE IF EXISTS {name};\n{create}\n"),
        PrepMode::TruncateBeforeLoad => format!(
            "-- Create the table first if it does not exist:\n{}\nTRUNCATE {name};\n",
            commented(create)
        ),
        PrepMode::DoNothing => format!(
            "-- Create the table first if it does not exist:\n{}\n",
            commented(create)
        ),
    };
    (
        format!(
            "-- migrate: prepare {} on Redshift ({mode:?}).\n{}\n{body}",
            table.name,
            sql::CREATE_CHECKPOINT_SQL
        ),
        conversion.findings,
    )
}

fn commented(sql: &str) -> String {
    sql.lines()
        .map(|line| format!("-- {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The statements that load one staged chunk into `table` exactly once: step 1 begins, locks
/// and reads the chunk's checkpoint; if it returns a row, `ROLLBACK` (the chunk is loaded);
/// otherwise step 2 copies, records the checkpoint and commits. Secrets are redacted.
pub fn chunk_sql(
    task: &str,
    table: &Table,
    chunk: u32,
    manifest_url: &str,
    format: Format,
    auth: &RedshiftAuth,
    region: Option<&str>,
) -> String {
    let format = match format {
        Format::Parquet => sql::Format::Parquet,
        Format::CsvGzip => sql::Format::CsvGzip,
    };
    let columns: Vec<migrate_core::Ident> = table.columns.iter().map(|c| c.name.clone()).collect();
    let copy = sql::copy_sql(&table.name, &columns, manifest_url, format, auth, region);
    format!(
        "-- migrate: chunk {chunk} of {} (task {task}).\n-- Step 1; if the SELECT returns a row, ROLLBACK: the chunk is loaded already.\n{}\n-- Step 2, on the same connection.\n{}\n",
        table.name,
        sql::begin_chunk_sql(task, &table.name, chunk),
        sql::finish_chunk_sql(task, &table.name, chunk, &copy)
    )
}
