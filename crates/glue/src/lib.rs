//! A small client for the AWS Glue Data Catalog API: the calls `migrate catalog` needs.
//!
//! Glue speaks AWS JSON 1.1: every call is a `POST /` with `X-Amz-Target: AWSGlue.<Operation>` and a
//! JSON body, signed with SigV4 (service `glue`); errors name their code in `__type`. The client is
//! hand-written over reqwest (object_store's HTTP stack) because `aws-sdk-glue` costs minutes and
//! gigabytes of RAM to build.
//!
//! Contracts:
//! - **Retries.** A call that fails transiently (`ThrottlingException`, `InternalServiceException`,
//!   `OperationTimeoutException`, `ConcurrentModificationException`, HTTP 429/5xx, connection
//!   errors and timeouts) is retried with exponential backoff and jitter, up to
//!   [`GlueConfig::max_attempts`] attempts; other errors come back at once ([`GlueError::Service`]
//!   with Glue's code). Every call this client makes is idempotent or safe to repeat: a create that
//!   is retried after it actually succeeded fails with `AlreadyExistsException`, which callers treat
//!   as "exists" and compare.
//! - **Pagination.** `get_databases`, `get_tables` and `get_partitions` follow `NextToken` until
//!   Glue stops returning one; [`GlueClient::get_partitions_page`] exposes single pages so that huge
//!   tables can be walked without holding every partition.
//! - **Batches.** Glue accepts at most [`MAX_BATCH_CREATE`] partitions per `BatchCreatePartition`,
//!   [`MAX_BATCH_UPDATE`] per `BatchUpdatePartition`, [`MAX_BATCH_DELETE`] per
//!   `BatchDeletePartition` and [`MAX_BATCH_GET`] per `BatchGetPartition`;
//!   larger inputs are refused here ([`GlueError::BatchTooLarge`]) rather than by the service.
//!   `BatchGetPartition`'s `UnprocessedKeys` are asked for again until none remain.
//!
//! Configuration comes from the standard AWS environment ([`GlueConfig::from_env`]) with an
//! endpoint override for local servers (moto) and VPC endpoints.

mod model;

pub use model::{
    BatchItemError, Column, DatabaseInput, Order, PartitionInput, SerDeInfo, SkewedInfo,
    StorageDescriptor, TableInput,
};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use migrate_core::error_chain;
use migrate_core::{ErrorClass, Retry};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

/// Most partitions one `BatchCreatePartition` takes.
pub const MAX_BATCH_CREATE: usize = 100;
/// Most entries one `BatchUpdatePartition` takes.
pub const MAX_BATCH_UPDATE: usize = 100;
/// Most partitions one `BatchGetPartition` asks for.
pub const MAX_BATCH_GET: usize = 1000;
/// Most partitions one `BatchDeletePartition` takes.
pub const MAX_BATCH_DELETE: usize = 25;

#[derive(Debug, thiserror::Error)]
pub enum GlueError {
    /// Glue answered with an error (code from `__type`).
    #[error("Glue {operation}: {code}: {message}")]
    Service {
        operation: &'static str,
        code: String,
        message: String,
        status: u16,
    },
    /// No answer: connection refused or reset, timeout, DNS.
    #[error("Glue {operation}: cannot reach {endpoint}: {message}")]
    Unreachable {
        operation: &'static str,
        endpoint: String,
        message: String,
    },
    /// An answer that is not the JSON this client expects.
    #[error("Glue {operation}: unreadable answer (HTTP {status}): {message}")]
    BadResponse {
        operation: &'static str,
        status: u16,
        message: String,
    },
    #[error("Glue configuration: {0}")]
    Config(String),
    #[error("Glue {operation}: {count} items in one batch; the limit is {limit}")]
    BatchTooLarge {
        operation: &'static str,
        count: usize,
        limit: usize,
    },
}

impl GlueError {
    /// Glue's error code (`EntityNotFoundException`...), for service errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            GlueError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    fn is_code(&self, code: &str) -> bool {
        self.code() == Some(code)
    }
}

/// The Glue error codes worth retrying.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "InternalServiceException",
    "InternalFailure",
    "ServiceUnavailable",
    "OperationTimeoutException",
    "ConcurrentModificationException",
];

impl ErrorClass for GlueError {
    fn retry(&self) -> Retry {
        match self {
            GlueError::Service { code, status, .. } => {
                if TRANSIENT_CODES.contains(&code.as_str()) || *status == 429 || *status >= 500 {
                    Retry::Transient
                } else {
                    Retry::Definite
                }
            }
            GlueError::Unreachable { .. } => Retry::Transient,
            GlueError::BadResponse { status, .. } if *status >= 500 => Retry::Transient,
            _ => Retry::Definite,
        }
    }
}

/// Where and as whom to call Glue.
#[derive(Clone)]
pub struct GlueConfig {
    /// `https://glue.<region>.amazonaws.com` unless overridden (moto: `http://127.0.0.1:PORT`).
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// The Data Catalog to write (an AWS account id); `None` is the caller's account.
    pub catalog_id: Option<String>,
    /// Attempts per call, the first included (at least 1).
    pub max_attempts: u32,
    /// The first backoff; doubled per attempt, with jitter, capped at 20 s.
    pub initial_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for GlueConfig {
    // The secret and the token are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlueConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("catalog_id", &self.catalog_id)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl GlueConfig {
    /// From the standard AWS variables: `AWS_REGION` (or `AWS_DEFAULT_REGION`),
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, and the endpoint from
    /// `endpoint` if given, else `AWS_ENDPOINT_URL_GLUE`, else Glue's regional endpoint. (The
    /// generic `AWS_ENDPOINT_URL` is deliberately not used: it usually points at an S3 server.)
    pub fn from_env(endpoint: Option<&str>) -> Result<GlueConfig, GlueError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or_else(|| {
                GlueError::Config(
                    "no region: set AWS_REGION (e.g. export AWS_REGION=us-east-1)".into(),
                )
            })?;
        let access_key_id = var("AWS_ACCESS_KEY_ID").ok_or_else(|| {
            GlueError::Config(
                "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)".into(),
            )
        })?;
        let secret_access_key = var("AWS_SECRET_ACCESS_KEY").ok_or_else(|| {
            GlueError::Config("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into())
        })?;
        let endpoint = endpoint
            .map(str::to_string)
            .or_else(|| var("AWS_ENDPOINT_URL_GLUE"))
            .unwrap_or_else(|| format!("https://glue.{region}.amazonaws.com"));
        Ok(GlueConfig {
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            session_token: var("AWS_SESSION_TOKEN"),
            catalog_id: None,
            max_attempts: 8,
            initial_backoff: Duration::from_millis(100),
            timeout: Duration::from_secs(60),
        })
    }
}

/// A Glue Data Catalog client. Cheap to clone (shares one connection pool).
#[derive(Clone, Debug)]
pub struct GlueClient {
    http: reqwest::Client,
    config: std::sync::Arc<GlueConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DatabasePage {
    #[serde(default)]
    database_list: Vec<DatabaseInput>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TablePage {
    #[serde(default)]
    table_list: Vec<TableInput>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PartitionPage {
    #[serde(default)]
    partitions: Vec<PartitionInput>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchGetAnswer {
    #[serde(default)]
    partitions: Vec<PartitionInput>,
    #[serde(default)]
    unprocessed_keys: Vec<ValuesOnly>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ValuesOnly {
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchAnswer {
    #[serde(default)]
    errors: Vec<RawBatchError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawBatchError {
    // BatchCreatePartition says PartitionValues, BatchUpdatePartition PartitionValueList.
    #[serde(default, alias = "PartitionValueList")]
    partition_values: Vec<String>,
    #[serde(default)]
    error_detail: Option<ErrorDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorDetail {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

impl GlueClient {
    pub fn new(config: GlueConfig) -> Result<GlueClient, GlueError> {
        if !(config.endpoint.starts_with("http://") || config.endpoint.starts_with("https://")) {
            return Err(GlueError::Config(format!(
                "endpoint `{}` is not an http:// or https:// URL",
                config.endpoint
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| GlueError::Config(format!("HTTP client: {e}")))?;
        Ok(GlueClient {
            http,
            config: std::sync::Arc::new(GlueConfig {
                max_attempts: config.max_attempts.max(1),
                ..config
            }),
        })
    }

    pub fn config(&self) -> &GlueConfig {
        &self.config
    }

    /// `body` with `CatalogId` added when one is configured.
    fn with_catalog(&self, mut body: Value) -> Value {
        if let (Some(id), Some(map)) = (&self.config.catalog_id, body.as_object_mut()) {
            map.insert("CatalogId".into(), Value::String(id.clone()));
        }
        body
    }

    /// Calls `operation` with retries (see the crate docs).
    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        body: &Value,
    ) -> Result<T, GlueError> {
        let body = serde_json::to_vec(&self.with_catalog(body.clone())).map_err(|e| {
            GlueError::BadResponse {
                operation,
                status: 0,
                message: format!("cannot encode the request: {e}"),
            }
        })?;
        let mut attempt = 1;
        loop {
            match self.call_once(operation, &body).await {
                Ok(value) => return Ok(value),
                Err(e) if e.retry() == Retry::Transient && attempt < self.config.max_attempts => {
                    let delay = backoff(self.config.initial_backoff, attempt);
                    tracing::debug!(%e, attempt, ?delay, "retrying Glue call");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn call_once<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        body: &[u8],
    ) -> Result<T, GlueError> {
        let url = format!("{}/", self.config.endpoint.trim_end_matches('/'));
        let target = format!("AWSGlue.{operation}");
        let host = host_of(&url);
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("x-amz-target", target),
            ("host", host),
        ];
        let signing = self.sign_headers(&url, &headers, body)?;
        headers.retain(|(name, _)| *name != "host"); // reqwest sets Host itself, identically
        let mut request = self.http.post(&url).body(body.to_vec());
        for (name, value) in headers.iter() {
            request = request.header(*name, value);
        }
        for (name, value) in signing {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| GlueError::Unreachable {
            operation,
            endpoint: self.config.endpoint.clone(),
            message: error_chain(&e),
        })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| GlueError::Unreachable {
            operation,
            endpoint: self.config.endpoint.clone(),
            message: error_chain(&e),
        })?;
        if (200..300).contains(&status) {
            let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
            return serde_json::from_slice(bytes).map_err(|e| GlueError::BadResponse {
                operation,
                status,
                message: e.to_string(),
            });
        }
        let parsed: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let code = parsed.get("__type").and_then(Value::as_str).map(|t| {
            // `__type` may be `aws.protocoltests#Code` or `Code:http://...`: keep the code.
            let t = t.rsplit('#').next().unwrap_or(t);
            t.split(':').next().unwrap_or(t).to_string()
        });
        match code {
            Some(code) => Err(GlueError::Service {
                operation,
                code,
                message: parsed
                    .get("message")
                    .or_else(|| parsed.get("Message"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                status,
            }),
            None => Err(GlueError::BadResponse {
                operation,
                status,
                message: String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned(),
            }),
        }
    }

    /// The SigV4 headers (`authorization`, `x-amz-date`, `x-amz-security-token`) for one request.
    fn sign_headers(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, GlueError> {
        let identity = Credentials::new(
            &self.config.access_key_id,
            &self.config.secret_access_key,
            self.config.session_token.clone(),
            None,
            "environment",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.config.region)
            .name("glue")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| GlueError::Config(format!("signing: {e}")))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            url,
            headers.iter().map(|(n, v)| (*n, v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|e| GlueError::Config(format!("signing: {e}")))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| GlueError::Config(format!("signing: {e}")))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect())
    }

    /// The database, or `None` when Glue has none of that name.
    pub async fn get_database(&self, name: &str) -> Result<Option<DatabaseInput>, GlueError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            database: DatabaseInput,
        }
        match self
            .call::<Answer>("GetDatabase", &json!({ "Name": name }))
            .await
        {
            Ok(a) => Ok(Some(a.database)),
            Err(e) if e.is_code("EntityNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every database of the catalog (all pages).
    pub async fn get_databases(&self) -> Result<Vec<DatabaseInput>, GlueError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "MaxResults": 100 });
            if let Some(t) = &token {
                body["NextToken"] = json!(t);
            }
            let page: DatabasePage = self.call("GetDatabases", &body).await?;
            all.extend(page.database_list);
            token = next_token(page.next_token);
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    pub async fn create_database(&self, input: &DatabaseInput) -> Result<(), GlueError> {
        self.call::<Value>("CreateDatabase", &json!({ "DatabaseInput": input }))
            .await
            .map(drop)
    }

    pub async fn update_database(&self, input: &DatabaseInput) -> Result<(), GlueError> {
        self.call::<Value>(
            "UpdateDatabase",
            &json!({ "Name": input.name, "DatabaseInput": input }),
        )
        .await
        .map(drop)
    }

    /// Deletes a database and everything in it (used by tests and cleanup tooling).
    pub async fn delete_database(&self, name: &str) -> Result<(), GlueError> {
        self.call::<Value>("DeleteDatabase", &json!({ "Name": name }))
            .await
            .map(drop)
    }

    /// The table, or `None` when the database has none of that name.
    pub async fn get_table(
        &self,
        database: &str,
        name: &str,
    ) -> Result<Option<TableInput>, GlueError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            table: TableInput,
        }
        match self
            .call::<Answer>(
                "GetTable",
                &json!({ "DatabaseName": database, "Name": name }),
            )
            .await
        {
            Ok(a) => Ok(Some(a.table)),
            Err(e) if e.is_code("EntityNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every table of a database (all pages).
    pub async fn get_tables(&self, database: &str) -> Result<Vec<TableInput>, GlueError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "DatabaseName": database, "MaxResults": 100 });
            if let Some(t) = &token {
                body["NextToken"] = json!(t);
            }
            let page: TablePage = self.call("GetTables", &body).await?;
            all.extend(page.table_list);
            token = next_token(page.next_token);
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    pub async fn create_table(&self, database: &str, input: &TableInput) -> Result<(), GlueError> {
        self.call::<Value>(
            "CreateTable",
            &json!({ "DatabaseName": database, "TableInput": input }),
        )
        .await
        .map(drop)
    }

    /// Replaces the table's definition. `SkipArchive`: Glue would otherwise keep a version per
    /// update, which a migration re-run should not pile up.
    pub async fn update_table(&self, database: &str, input: &TableInput) -> Result<(), GlueError> {
        self.call::<Value>(
            "UpdateTable",
            &json!({ "DatabaseName": database, "TableInput": input, "SkipArchive": true }),
        )
        .await
        .map(drop)
    }

    /// One page of a table's partitions, optionally filtered by a Glue partition `expression`;
    /// with the token of the next page, if any.
    pub async fn get_partitions_page(
        &self,
        database: &str,
        table: &str,
        expression: Option<&str>,
        token: Option<&str>,
    ) -> Result<(Vec<PartitionInput>, Option<String>), GlueError> {
        let mut body = json!({ "DatabaseName": database, "TableName": table, "MaxResults": 1000 });
        if let Some(e) = expression {
            body["Expression"] = json!(e);
        }
        if let Some(t) = token {
            body["NextToken"] = json!(t);
        }
        let page: PartitionPage = self.call("GetPartitions", &body).await?;
        Ok((page.partitions, next_token(page.next_token)))
    }

    /// Every partition of a table (all pages). Holds them all: for huge tables walk
    /// [`get_partitions_page`](Self::get_partitions_page) instead.
    pub async fn get_partitions(
        &self,
        database: &str,
        table: &str,
        expression: Option<&str>,
    ) -> Result<Vec<PartitionInput>, GlueError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (page, next) = self
                .get_partitions_page(database, table, expression, token.as_deref())
                .await?;
            all.extend(page);
            token = next;
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    /// The partitions among `values` that exist (at most [`MAX_BATCH_GET`] asked at once); absent
    /// ones are simply not in the answer.
    pub async fn batch_get_partition(
        &self,
        database: &str,
        table: &str,
        values: &[Vec<String>],
    ) -> Result<Vec<PartitionInput>, GlueError> {
        check_batch("BatchGetPartition", values.len(), MAX_BATCH_GET)?;
        let mut found = Vec::with_capacity(values.len());
        let mut pending: Vec<ValuesOnly> = values
            .iter()
            .map(|v| ValuesOnly { values: v.clone() })
            .collect();
        let mut rounds = 0;
        while !pending.is_empty() {
            let answer: BatchGetAnswer = self
                .call(
                    "BatchGetPartition",
                    &json!({ "DatabaseName": database, "TableName": table, "PartitionsToGet": pending }),
                )
                .await?;
            found.extend(answer.partitions);
            // Glue hands back what it could not get in time; ask again, a bounded number of times.
            rounds += 1;
            if !answer.unprocessed_keys.is_empty() && rounds >= self.config.max_attempts {
                return Err(GlueError::Service {
                    operation: "BatchGetPartition",
                    code: "UnprocessedKeys".into(),
                    message: format!(
                        "{} partitions still unprocessed after {rounds} rounds",
                        answer.unprocessed_keys.len()
                    ),
                    status: 200,
                });
            }
            if !answer.unprocessed_keys.is_empty() {
                tokio::time::sleep(backoff(self.config.initial_backoff, rounds)).await;
            }
            pending = answer.unprocessed_keys;
        }
        Ok(found)
    }

    /// Creates up to [`MAX_BATCH_CREATE`] partitions; returns the ones Glue refused, with why
    /// (`AlreadyExistsException` for partitions that exist).
    pub async fn batch_create_partition(
        &self,
        database: &str,
        table: &str,
        inputs: &[PartitionInput],
    ) -> Result<Vec<BatchItemError>, GlueError> {
        check_batch("BatchCreatePartition", inputs.len(), MAX_BATCH_CREATE)?;
        let answer: BatchAnswer = self
            .call(
                "BatchCreatePartition",
                &json!({ "DatabaseName": database, "TableName": table, "PartitionInputList": inputs }),
            )
            .await?;
        Ok(batch_errors(answer))
    }

    /// Replaces up to [`MAX_BATCH_UPDATE`] partitions (each found by its values); returns the
    /// ones Glue refused.
    pub async fn batch_update_partition(
        &self,
        database: &str,
        table: &str,
        inputs: &[PartitionInput],
    ) -> Result<Vec<BatchItemError>, GlueError> {
        check_batch("BatchUpdatePartition", inputs.len(), MAX_BATCH_UPDATE)?;
        let entries: Vec<Value> = inputs
            .iter()
            .map(|p| json!({ "PartitionValueList": p.values, "PartitionInput": p }))
            .collect();
        let answer: BatchAnswer = self
            .call(
                "BatchUpdatePartition",
                &json!({ "DatabaseName": database, "TableName": table, "Entries": entries }),
            )
            .await?;
        Ok(batch_errors(answer))
    }

    /// Deletes up to [`MAX_BATCH_DELETE`] partitions (by their values); returns the ones Glue
    /// refused (`EntityNotFoundException` for partitions already gone).
    pub async fn batch_delete_partition(
        &self,
        database: &str,
        table: &str,
        values: &[Vec<String>],
    ) -> Result<Vec<BatchItemError>, GlueError> {
        check_batch("BatchDeletePartition", values.len(), MAX_BATCH_DELETE)?;
        let keys: Vec<ValuesOnly> = values
            .iter()
            .map(|v| ValuesOnly { values: v.clone() })
            .collect();
        let answer: BatchAnswer = self
            .call(
                "BatchDeletePartition",
                &json!({ "DatabaseName": database, "TableName": table, "PartitionsToDelete": keys }),
            )
            .await?;
        Ok(batch_errors(answer))
    }
}

fn check_batch(operation: &'static str, count: usize, limit: usize) -> Result<(), GlueError> {
    if count > limit {
        return Err(GlueError::BatchTooLarge {
            operation,
            count,
            limit,
        });
    }
    Ok(())
}

fn batch_errors(answer: BatchAnswer) -> Vec<BatchItemError> {
    answer
        .errors
        .into_iter()
        .map(|e| {
            let detail = e.error_detail;
            BatchItemError {
                values: e.partition_values,
                code: detail
                    .as_ref()
                    .and_then(|d| d.error_code.clone())
                    .unwrap_or_else(|| "Unknown".into()),
                message: detail.and_then(|d| d.error_message).unwrap_or_default(),
            }
        })
        .collect()
}

/// An empty token ends pagination as an absent one does.
fn next_token(token: Option<String>) -> Option<String> {
    token.filter(|t| !t.is_empty())
}

/// `initial * 2^(attempt-1)`, capped at 20 s, with up to 50% jitter so that concurrent callers
/// throttled together do not retry together.
fn backoff(initial: Duration, attempt: u32) -> Duration {
    let base = initial
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(Duration::from_secs(20));
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

/// `host[:port]` of an http(s) URL, as the Host header carries it.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split('/').next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_and_definite_errors() {
        let service = |code: &str, status| GlueError::Service {
            operation: "X",
            code: code.into(),
            message: String::new(),
            status,
        };
        assert_eq!(
            service("ThrottlingException", 400).retry(),
            Retry::Transient
        );
        assert_eq!(service("Whatever", 503).retry(), Retry::Transient);
        assert_eq!(
            service("EntityNotFoundException", 400).retry(),
            Retry::Definite
        );
        assert_eq!(
            service("AccessDeniedException", 400).retry(),
            Retry::Definite
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b1 = backoff(Duration::from_millis(100), 1);
        let b4 = backoff(Duration::from_millis(100), 4);
        assert!(b1 >= Duration::from_millis(100) && b1 <= Duration::from_millis(150));
        assert!(b4 >= Duration::from_millis(800) && b4 <= Duration::from_millis(1200));
        assert!(backoff(Duration::from_millis(100), 40) <= Duration::from_secs(30));
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("http://127.0.0.1:5000/"), "127.0.0.1:5000");
        assert_eq!(
            host_of("https://glue.us-east-1.amazonaws.com/"),
            "glue.us-east-1.amazonaws.com"
        );
    }
}
