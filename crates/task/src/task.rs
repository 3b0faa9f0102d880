//! The task file, `task.toml`: what `migrate replicate` loads, from where, to where.
//!
//! [`Task`] is the file as written (every key optional except the endpoints, unknown keys
//! rejected); [`TaskOverrides`] are the same settings from the command line, applied on top;
//! [`Task::validate`] turns both into a [`ValidatedTask`] before any work starts: URLs parsed
//! and checked, defaults applied, the table mapping read and parsed.

use crate::mapping::TableMappings;
use crate::url::{redact, DatabaseUrl, Engine, StagingUrl, UrlError};
use crate::TaskError;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// URL text as the user wrote it; shown with its password replaced by `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct UrlText(String);

impl UrlText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for UrlText {
    fn from(text: &str) -> UrlText {
        UrlText(text.to_string())
    }
}

impl From<String> for UrlText {
    fn from(text: String) -> UrlText {
        UrlText(text)
    }
}

impl fmt::Display for UrlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for UrlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", redact(&self.0))
    }
}

/// A `migrate replicate` task.
///
/// ```toml
/// table_mappings = "mappings.json"
///
/// [source]
/// url = "postgres://migrate@db.internal:5432/sales"
///
/// [target]
/// url = "redshift://loader@analytics.abc123.eu-west-1.redshift.amazonaws.com:5439/dev"
/// iam_role = "arn:aws:iam::123456789012:role/redshift-copy"
///
/// [staging]
/// url = "s3://migrate-staging/sales"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The database rows are read from.
    pub source: SourceConfig,
    /// The database rows are loaded into.
    pub target: TargetConfig,
    /// Where rows wait, as Parquet or CSV files, between the source and the target.
    #[serde(default)]
    pub staging: StagingConfig,
    /// The AWS DMS table mapping: a path to the JSON file, relative to this task file, or the
    /// rules inline as TOML tables (`[[table_mappings.rules]]` with the same keys as the JSON).
    /// Default: every table of every schema the source reports.
    pub table_mappings: Option<MappingsConfig>,
    /// What happens to a target table that already exists, with the DMS names:
    /// `DROP_AND_CREATE` (the DMS default), `TRUNCATE_BEFORE_LOAD` or `DO_NOTHING`.
    pub target_table_prep_mode: Option<PrepMode>,
    /// How many tables load at once (DMS `MaxFullLoadSubTasks`). Default 8.
    pub parallel_tables: Option<u32>,
    /// Rows per snapshot chunk (one staged file and one checkpoint each). Default 100000.
    pub chunk_rows: Option<u64>,
    /// Compare row counts and checksums of source and target after the load. Default true.
    pub validate: Option<bool>,
    /// The task file, for messages; empty when built in code.
    #[serde(skip)]
    file: Option<PathBuf>,
    /// Keys set by [`TaskOverrides`], so that errors about them point at the command line.
    #[serde(skip)]
    overridden: BTreeSet<&'static str>,
}

/// `[source]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `postgres://user[:password]@host[:port]/database` or `mysql://...` (`mariadb://`).
    /// Prefer leaving the password out: the connector then reads `PGPASSWORD` / `MYSQL_PWD`.
    pub url: UrlText,
}

/// `[target]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// `postgres://...` or `redshift://user@cluster-endpoint:5439/database`.
    pub url: UrlText,
    /// Redshift only: the IAM role Redshift assumes to read the staged files
    /// (`arn:aws:iam::<account>:role/<name>`). Without it, `COPY` uses the access keys of the
    /// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally
    /// `AWS_SESSION_TOKEN`); keys never go in this file.
    pub iam_role: Option<String>,
    /// Redshift only: the region of the staging bucket, when it differs from the cluster's.
    /// Default: read from the cluster endpoint's host name.
    pub region: Option<String>,
}

/// `[staging]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagingConfig {
    /// A directory (relative to the task file) or `s3://bucket/prefix`. Default: the directory
    /// `migrate-staging` next to the task file. Redshift targets need S3.
    pub url: Option<UrlText>,
    /// An S3-compatible endpoint to use instead of AWS (`http://127.0.0.1:8333`).
    pub endpoint: Option<String>,
    /// `parquet` (default) or `csv` (gzip).
    pub format: Option<StagingFormat>,
}

/// `table_mappings`: a file or the rules inline.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MappingsConfig {
    File(PathBuf),
    Inline(serde_json::Value),
}

/// DMS `TargetTablePrepMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PrepMode {
    /// Drop the target table if it exists and create it from the mapped source table.
    #[serde(rename = "DROP_AND_CREATE")]
    DropAndCreate,
    /// Keep the table and its definition; delete its rows before loading.
    #[serde(rename = "TRUNCATE_BEFORE_LOAD")]
    TruncateBeforeLoad,
    /// Keep the table and its rows; create it only if it is missing.
    #[serde(rename = "DO_NOTHING")]
    DoNothing,
}

impl FromStr for PrepMode {
    type Err = String;
    /// Accepts the DMS names in any case, with `-` or `_` (`drop-and-create`).
    fn from_str(s: &str) -> Result<PrepMode, String> {
        match s.to_ascii_uppercase().replace('-', "_").as_str() {
            "DROP_AND_CREATE" => Ok(PrepMode::DropAndCreate),
            "TRUNCATE_BEFORE_LOAD" => Ok(PrepMode::TruncateBeforeLoad),
            "DO_NOTHING" => Ok(PrepMode::DoNothing),
            _ => Err(format!(
                "`{s}` is not a prep mode: use DROP_AND_CREATE, TRUNCATE_BEFORE_LOAD or DO_NOTHING"
            )),
        }
    }
}

/// The format of staged files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StagingFormat {
    Parquet,
    /// gzip-compressed CSV.
    Csv,
}

impl FromStr for StagingFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<StagingFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(StagingFormat::Parquet),
            "csv" => Ok(StagingFormat::Csv),
            _ => Err(format!("`{s}` is not a staging format: use parquet or csv")),
        }
    }
}

/// The task settings given on the command line; each one set replaces the task file's value.
/// Paths are relative to the current directory, as users expect of command-line arguments.
#[derive(Debug, Clone, Default)]
pub struct TaskOverrides {
    pub source_url: Option<UrlText>,
    pub target_url: Option<UrlText>,
    pub iam_role: Option<String>,
    pub region: Option<String>,
    pub staging_url: Option<UrlText>,
    pub staging_endpoint: Option<String>,
    pub staging_format: Option<StagingFormat>,
    pub table_mappings: Option<PathBuf>,
    pub target_table_prep_mode: Option<PrepMode>,
    pub parallel_tables: Option<u32>,
    pub chunk_rows: Option<u64>,
    pub validate: Option<bool>,
}

/// A task checked as a whole, with every default applied.
#[derive(Debug, Clone)]
pub struct ValidatedTask {
    pub source: DatabaseUrl,
    pub target: TargetEndpoint,
    pub staging: Staging,
    pub mappings: TableMappings,
    pub target_table_prep_mode: PrepMode,
    pub parallel_tables: u32,
    pub chunk_rows: u64,
    pub validate: bool,
}

#[derive(Debug, Clone)]
pub struct TargetEndpoint {
    pub url: DatabaseUrl,
    /// Set for Redshift targets only.
    pub redshift: Option<RedshiftAccess>,
}

/// How Redshift's `COPY` reads the staged files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedshiftAccess {
    pub auth: RedshiftAuth,
    /// The staging bucket's region, when known.
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedshiftAuth {
    /// `IAM_ROLE '<arn>'`
    IamRole(String),
    /// `ACCESS_KEY_ID ... SECRET_ACCESS_KEY ...` from the environment at load time.
    EnvironmentKeys,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staging {
    pub location: StagingUrl,
    pub endpoint: Option<String>,
    pub format: StagingFormat,
}

const DEFAULT_PARALLEL_TABLES: u32 = 8;
const MAX_PARALLEL_TABLES: u32 = 256;
const DEFAULT_CHUNK_ROWS: u64 = 100_000;
const DEFAULT_STAGING_DIR: &str = "migrate-staging";

impl Task {
    /// Reads a task file. Relative paths in it (`table_mappings`, a local staging directory)
    /// are resolved against the file's directory, so the task runs the same from anywhere.
    pub fn from_file(path: &Path) -> Result<Task, TaskError> {
        let text = std::fs::read_to_string(path).map_err(|source| TaskError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Task::parse(&text, path)
    }

    /// Parses task-file text; `path` names it in errors and anchors its relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Task, TaskError> {
        let mut task: Task = toml::from_str(text).map_err(|e| TaskError::TaskFile {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        if let Some(MappingsConfig::File(file)) = &mut task.table_mappings {
            *file = base.join(&*file);
        }
        if let Some(url) = &mut task.staging.url {
            if !url.0.contains("://") && Path::new(&url.0).is_relative() {
                *url = UrlText(base.join(&url.0).to_string_lossy().into_owned());
            }
        }
        if task.staging.url.is_none() {
            task.staging.url = Some(UrlText(
                base.join(DEFAULT_STAGING_DIR)
                    .to_string_lossy()
                    .into_owned(),
            ));
        }
        task.file = Some(path.to_path_buf());
        Ok(task)
    }

    /// A task from command-line settings alone, without a task file: the source and target URLs
    /// are required; relative paths are relative to the current directory, and staging defaults
    /// to `migrate-staging` there.
    pub fn from_overrides(overrides: TaskOverrides) -> Result<Task, TaskError> {
        let missing = |key: &str, flag: &str| TaskError::Setting {
            origin: "command line".into(),
            key: key.into(),
            message: "is not set".into(),
            action: format!("give {flag}, or a task file with --task FILE"),
        };
        let source = overrides
            .source_url
            .clone()
            .ok_or_else(|| missing("source.url", "--source URL"))?;
        let target = overrides
            .target_url
            .clone()
            .ok_or_else(|| missing("target.url", "--target URL"))?;
        let task = Task {
            source: SourceConfig { url: source },
            target: TargetConfig {
                url: target,
                iam_role: None,
                region: None,
            },
            staging: StagingConfig::default(),
            table_mappings: None,
            target_table_prep_mode: None,
            parallel_tables: None,
            chunk_rows: None,
            validate: None,
            file: None,
            overridden: BTreeSet::new(),
        };
        Ok(task.with_overrides(overrides))
    }

    /// Applies command-line settings on top of the file's.
    pub fn with_overrides(mut self, overrides: TaskOverrides) -> Task {
        fn set<T>(slot: &mut T, value: Option<T>, key: &'static str, keys: &mut BTreeSet<&str>) {
            if let Some(value) = value {
                *slot = value;
                keys.insert(key);
            }
        }
        let keys = &mut self.overridden;
        let o = overrides;
        set(&mut self.source.url, o.source_url, "source.url", keys);
        set(&mut self.target.url, o.target_url, "target.url", keys);
        set(
            &mut self.target.iam_role,
            o.iam_role.map(Some),
            "target.iam_role",
            keys,
        );
        set(
            &mut self.target.region,
            o.region.map(Some),
            "target.region",
            keys,
        );
        set(
            &mut self.staging.url,
            o.staging_url.map(Some),
            "staging.url",
            keys,
        );
        set(
            &mut self.staging.endpoint,
            o.staging_endpoint.map(Some),
            "staging.endpoint",
            keys,
        );
        set(
            &mut self.staging.format,
            o.staging_format.map(Some),
            "staging.format",
            keys,
        );
        set(
            &mut self.table_mappings,
            o.table_mappings.map(|p| Some(MappingsConfig::File(p))),
            "table_mappings",
            keys,
        );
        set(
            &mut self.target_table_prep_mode,
            o.target_table_prep_mode.map(Some),
            "target_table_prep_mode",
            keys,
        );
        set(
            &mut self.parallel_tables,
            o.parallel_tables.map(Some),
            "parallel_tables",
            keys,
        );
        set(
            &mut self.chunk_rows,
            o.chunk_rows.map(Some),
            "chunk_rows",
            keys,
        );
        set(&mut self.validate, o.validate.map(Some), "validate", keys);
        self
    }

    /// Checks the task as a whole and applies defaults. Redshift access keys, when used, are
    /// looked up in the process environment.
    pub fn validate(self) -> Result<ValidatedTask, TaskError> {
        self.validate_with_env(|name| std::env::var(name).ok())
    }

    /// [`Task::validate`] with the environment given as a lookup function.
    pub fn validate_with_env(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ValidatedTask, TaskError> {
        let error = |key: &'static str, message: String, action: String| TaskError::Setting {
            origin: self.origin_of(key),
            key: key.to_string(),
            message,
            action,
        };
        let url_error = |key: &'static str, e: UrlError| error(key, e.message, e.action);

        let source =
            DatabaseUrl::parse_for(self.source.url.as_str(), &[Engine::Postgres, Engine::Mysql])
                .map_err(|e| url_error("source.url", e))?;
        if source.engine() == Engine::Redshift {
            return Err(error(
                "source.url",
                "Redshift is a target, not a source".into(),
                "use a postgres:// or mysql:// source".into(),
            ));
        }
        let target_url =
            DatabaseUrl::parse(self.target.url.as_str()).map_err(|e| url_error("target.url", e))?;
        if target_url.engine() == Engine::Mysql {
            return Err(error(
                "target.url",
                "MySQL is not a supported target".into(),
                "use a postgres:// or redshift:// target".into(),
            ));
        }

        let staging_text = self
            .staging
            .url
            .as_ref()
            .map_or(DEFAULT_STAGING_DIR, UrlText::as_str);
        let location = StagingUrl::parse(staging_text).map_err(|e| url_error("staging.url", e))?;
        if let Some(endpoint) = &self.staging.endpoint {
            if !matches!(location, StagingUrl::S3 { .. }) {
                return Err(error(
                    "staging.endpoint",
                    "an endpoint applies only to s3:// staging".into(),
                    "remove it, or stage to s3://bucket/prefix".into(),
                ));
            }
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(error(
                    "staging.endpoint",
                    format!("`{}` is not an http(s) URL", redact(endpoint)),
                    "write it as http://host:port or https://host".into(),
                ));
            }
        }

        let redshift = if target_url.engine() == Engine::Redshift {
            if !matches!(location, StagingUrl::S3 { .. }) {
                return Err(error(
                    "staging.url",
                    format!("Redshift loads only from S3, and staging is the directory {location}"),
                    "set [staging] url = \"s3://bucket/prefix\"".into(),
                ));
            }
            let auth =
                match &self.target.iam_role {
                    Some(role) if valid_role_arn(role) => RedshiftAuth::IamRole(role.clone()),
                    Some(role) => {
                        return Err(error(
                            "target.iam_role",
                            format!("`{role}` is not an IAM role ARN"),
                            "write arn:aws:iam::<12-digit account>:role/<name>".into(),
                        ))
                    }
                    None if env("AWS_ACCESS_KEY_ID").is_some()
                        && env("AWS_SECRET_ACCESS_KEY").is_some() =>
                    {
                        RedshiftAuth::EnvironmentKeys
                    }
                    None => return Err(error(
                        "target.iam_role",
                        "Redshift needs credentials to read the staged files".into(),
                        "set iam_role = \"arn:aws:iam::<account>:role/<name>\" in [target], or \
                         export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                            .into(),
                    )),
                };
            let region = match &self.target.region {
                Some(region) if valid_region(region) => Some(region.clone()),
                Some(region) => {
                    return Err(error(
                        "target.region",
                        format!("`{region}` is not an AWS region name"),
                        "write a region like eu-west-1".into(),
                    ))
                }
                None => region_of_host(target_url.host()),
            };
            Some(RedshiftAccess { auth, region })
        } else {
            for (key, set) in [
                ("target.iam_role", self.target.iam_role.is_some()),
                ("target.region", self.target.region.is_some()),
            ] {
                if set {
                    return Err(error(
                        key,
                        "this setting applies only to redshift:// targets".into(),
                        "remove it".into(),
                    ));
                }
            }
            None
        };

        let parallel_tables = self.parallel_tables.unwrap_or(DEFAULT_PARALLEL_TABLES);
        if !(1..=MAX_PARALLEL_TABLES).contains(&parallel_tables) {
            return Err(error(
                "parallel_tables",
                format!("{parallel_tables} is out of range"),
                format!("give a number from 1 to {MAX_PARALLEL_TABLES}"),
            ));
        }
        let chunk_rows = self.chunk_rows.unwrap_or(DEFAULT_CHUNK_ROWS);
        if chunk_rows == 0 {
            return Err(error(
                "chunk_rows",
                "0 rows per chunk".into(),
                "give a positive number of rows, e.g. 100000".into(),
            ));
        }

        let mappings = match &self.table_mappings {
            None => TableMappings::all_tables(),
            Some(MappingsConfig::File(path)) => TableMappings::from_file(path)?,
            Some(MappingsConfig::Inline(value)) => TableMappings::from_value(
                value,
                &format!("{} [table_mappings]", self.origin_of("table_mappings")),
            )?,
        };

        Ok(ValidatedTask {
            source,
            target: TargetEndpoint {
                url: target_url,
                redshift,
            },
            staging: Staging {
                location,
                endpoint: self.staging.endpoint.clone(),
                format: self.staging.format.unwrap_or(StagingFormat::Parquet),
            },
            mappings,
            target_table_prep_mode: self
                .target_table_prep_mode
                .unwrap_or(PrepMode::DropAndCreate),
            parallel_tables,
            chunk_rows,
            validate: self.validate.unwrap_or(true),
        })
    }

    fn origin_of(&self, key: &str) -> String {
        match &self.file {
            Some(_) if self.overridden.contains(key) => "command line".into(),
            Some(file) => file.display().to_string(),
            None => "command line".into(),
        }
    }
}

fn valid_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource))
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty())
    )
}

fn valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// `cluster.abc123.eu-west-1.redshift.amazonaws.com` and
/// `workgroup.123456789012.eu-west-1.redshift-serverless.amazonaws.com` name their region.
fn region_of_host(host: &str) -> Option<String> {
    let labels: Vec<&str> = host.split('.').collect();
    let at = labels
        .iter()
        .position(|l| *l == "redshift" || *l == "redshift-serverless")?;
    let region = labels.get(at.checked_sub(1)?)?;
    valid_region(region).then(|| region.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_regions_and_hosts() {
        assert!(valid_role_arn("arn:aws:iam::123456789012:role/copy"));
        assert!(valid_role_arn(
            "arn:aws-cn:iam::123456789012:role/path/copy"
        ));
        assert!(!valid_role_arn("arn:aws:iam::1234:role/copy"));
        assert!(!valid_role_arn("arn:aws:iam::123456789012:user/copy"));
        assert!(valid_region("us-gov-west-1"));
        assert!(!valid_region("Europe"));
        assert_eq!(
            region_of_host("c.abc123.eu-west-1.redshift.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of_host("wg.123456789012.us-east-2.redshift-serverless.amazonaws.com")
                .as_deref(),
            Some("us-east-2")
        );
        assert_eq!(region_of_host("localhost"), None);
    }

    #[test]
    fn tasks_from_the_command_line_alone() {
        let error = Task::from_overrides(TaskOverrides::default()).unwrap_err();
        assert!(error.to_string().contains("--source URL"), "{error}");
        let task = Task::from_overrides(TaskOverrides {
            source_url: Some("postgres://a@h/db".into()),
            target_url: Some("postgres://b:secret@h/dw".into()),
            chunk_rows: Some(5),
            ..TaskOverrides::default()
        })
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(task.chunk_rows, 5);
        assert_eq!(
            task.staging.location,
            crate::StagingUrl::Local(PathBuf::from("migrate-staging"))
        );
    }

    #[test]
    fn enums_parse_from_flags() {
        assert_eq!("drop-and-create".parse(), Ok(PrepMode::DropAndCreate));
        assert_eq!("DO_NOTHING".parse(), Ok(PrepMode::DoNothing));
        assert!("truncate".parse::<PrepMode>().is_err());
        assert_eq!("CSV".parse(), Ok(StagingFormat::Csv));
    }
}
