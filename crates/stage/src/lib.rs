//! The staging area of a full load: Arrow batches become Parquet or gzip CSV objects in a local
//! directory or an S3 bucket, and a manifest commits a set of them for a warehouse to `COPY`.
//!
//! ```text
//! source chunk ──► Stage::write_chunk ──► {table}/{chunk:06}-{attempt}.parquet   (many, any order)
//!                  Stage::write_manifest ─► {table}/manifest-{batch:06}.json      (last: the commit)
//! warehouse    ◄── manifest URL (COPY ... MANIFEST), or Stage::read_manifest + Stage::read_chunk
//! ```
//!
//! Durability contract, in one place (each method says its part):
//! - A chunk object is invisible until [`Stage::write_chunk`] returns `Ok`, then complete and
//!   durable (a single put, or a multipart upload completed; locally a file renamed into place).
//!   A failed write leaves nothing at the path (the multipart upload is aborted).
//! - Chunk objects are named by [`ChunkKey`] and never overwritten: a retry uses the next attempt
//!   number, and writing an existing name fails with [`StageError::AlreadyExists`].
//! - A manifest is written last, with create-if-absent, after checking that every object it lists
//!   exists with the recorded size. Readers that find a manifest find all its objects; a second
//!   writer of the same manifest gets [`StageError::AlreadyExists`]. A manifest is withdrawn
//!   only by [`Stage::discard_manifest`], when a warehouse refused its rows (before any load).
//! - Readers verify: [`Stage::read_chunk`] ends with an error, never with a silent success, when
//!   size, CRC32C ([`checksum`]) or row count differ from what the writer recorded.
//!
//! Memory is bounded for objects of any size: writers hold one input batch, one Parquet row group
//! ([`StageOptions::row_group_bytes`]) and a few upload parts ([`StageOptions::part_bytes`]);
//! readers hold one row group (Parquet) or one output batch (CSV).

pub mod checksum;
mod csv;
mod error;
mod manifest;
mod parquet;
mod types;
mod upload;
mod url;

pub use checksum::Checksum;
pub use error::{readable_store_error, BoxError, StageError};
pub use url::s3_builder;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use migrate_core::{ErrorClass, Retry};
use object_store::path::{Path, PathPart};
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

use crate::checksum::Running;
use crate::url::Location;

/// How a stage talks to its store. The S3 settings come from the standard AWS environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, ...); these fields override it.
#[derive(Debug, Clone)]
pub struct StageOptions {
    /// S3 endpoint, e.g. `http://127.0.0.1:38333` for a local S3-compatible server.
    pub endpoint: Option<String>,
    /// Allow plain `http://` endpoints (test servers).
    pub allow_http: bool,
    /// A Parquet row group is closed once its encoded size reaches this (default 64 MiB).
    pub row_group_bytes: usize,
    /// Objects up to this size are sent with one put; larger ones as a multipart upload in parts
    /// of this size (default 16 MiB; S3 needs at least 5 MiB).
    pub part_bytes: usize,
    /// Rows per batch returned by [`Stage::read_chunk`] (default 8192).
    pub read_batch_rows: usize,
}

impl Default for StageOptions {
    fn default() -> Self {
        StageOptions {
            endpoint: None,
            allow_http: false,
            row_group_bytes: 64 << 20,
            part_bytes: 16 << 20,
            read_batch_rows: 8192,
        }
    }
}

/// The file format of staged objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Parquet with Snappy compression and the Arrow schema embedded: every supported type
    /// round-trips exactly.
    Parquet,
    /// gzip-compressed CSV in Redshift's dialect; see the `csv` module docs for the encoding.
    CsvGzip,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::CsvGzip => "csv.gz",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Parquet => "Parquet",
            Format::CsvGzip => "gzip CSV",
        })
    }
}

/// Names one attempt at one chunk of one table: `{table}/{chunk:06}-{attempt}.{ext}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChunkKey {
    /// The table, as one path segment (e.g. `public.orders`); no `/`, not empty.
    pub table: String,
    /// The chunk's number within the table's snapshot.
    pub chunk: u64,
    /// Starts at 0; a retried chunk takes the next number, so a committed attempt is never
    /// replaced.
    pub attempt: u32,
}

/// Names one manifest of a table: `{table}/manifest-{batch:06}.json` (+ `.meta.json` sidecar).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ManifestKey {
    pub table: String,
    pub batch: u64,
}

/// A written chunk: where it is and what a reader must find there.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkObject {
    /// The object's path in the store (the stage prefix included).
    pub path: String,
    /// `s3://bucket/key`, or the absolute file path for a local stage.
    pub url: String,
    /// Size of the object.
    pub bytes: u64,
    pub rows: u64,
    /// CRC32C of the object's bytes.
    pub checksum: Checksum,
    pub format: Format,
    pub schema: SchemaRef,
}

/// A committed manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub key: ManifestKey,
    /// The URL to give to `COPY ... FROM '<url>' MANIFEST`.
    pub url: String,
    /// The URL of the sidecar with our metadata.
    pub sidecar_url: String,
    pub format: Format,
    pub schema: SchemaRef,
    pub rows: u64,
    pub entries: Vec<ChunkObject>,
}

/// A staging area: an object store and a key prefix in it.
#[derive(Debug, Clone)]
pub struct Stage {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    location: Location,
    options: StageOptions,
}

/// HEAD requests in flight at once while checking a manifest's objects.
const HEAD_CONCURRENCY: usize = 16;

impl Stage {
    /// Opens a stage: a local directory (a path, or `file:///abs/dir`; created if missing) or
    /// `s3://bucket/prefix` (credentials and region from the AWS environment, see
    /// [`StageOptions`]). Nothing is read or written on S3 here: a missing bucket or wrong
    /// credentials show up at the first write or read, as definite errors.
    pub fn from_url(url: &str, options: StageOptions) -> Result<Stage, StageError> {
        if options.part_bytes < 5 << 20 || options.row_group_bytes == 0 {
            return Err(StageError::InvalidUrl {
                url: url.to_string(),
                reason: "part_bytes must be at least 5 MiB (S3's minimum part) and row_group_bytes positive".into(),
            });
        }
        let (store, prefix, location) = url::open(url, &options)?;
        Ok(Stage {
            store,
            prefix,
            location,
            options,
        })
    }

    /// Writes a small object under the prefix and deletes it again: a stage that can't be
    /// written (no such bucket, wrong credentials, no permission, a read-only directory) fails
    /// here, before a caller does anything it would have to undo.
    pub async fn check_writable(&self) -> Result<(), StageError> {
        let path = self
            .prefix
            .clone()
            .join(format!(".migrate-probe-{}", std::process::id()));
        let object = self.object_url(path.as_ref());
        self.store
            .put(&path, PutPayload::from_static(b"probe"))
            .await
            .map_err(|error| StageError::Store {
                op: "writing a probe object to",
                object: object.clone(),
                error,
            })?;
        self.store
            .delete(&path)
            .await
            .map_err(|error| StageError::Store {
                op: "deleting the probe object",
                object,
                error,
            })
    }

    /// The store, for callers that need other operations (listing, cleanup).
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The key prefix under which all of this stage's objects live (empty for a local directory,
    /// whose root is the stage).
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// The URL of the object at `path` (a path in the store, as in [`ChunkObject::path`]).
    pub fn object_url(&self, path: &str) -> String {
        self.location.object_url(path)
    }

    /// Writes one chunk: the batches of `batches`, all with schema `schema`, as one object in
    /// `format`, streamed (memory does not grow with the chunk's size).
    ///
    /// Durability: the object is invisible until this returns `Ok`; then it is complete and
    /// durable, and the returned [`ChunkObject`] (size, rows, CRC32C) describes it. On error
    /// nothing is left at the path (an incomplete multipart upload is aborted) and the same key
    /// may be written again. If an object already exists at the key's path, nothing is written
    /// and [`StageError::AlreadyExists`] is returned: take the next attempt number. (The check is
    /// made before writing; two writers of the same attempt at once are a caller bug it does not
    /// catch.)
    ///
    /// Types the format can't hold exactly are refused before anything is written
    /// ([`StageError::Unsupported`]).
    pub async fn write_chunk<S, E>(
        &self,
        key: &ChunkKey,
        schema: SchemaRef,
        batches: S,
        format: Format,
    ) -> Result<ChunkObject, StageError>
    where
        S: Stream<Item = Result<RecordBatch, E>> + Send,
        E: ErrorClass + std::error::Error + Send + Sync + 'static,
    {
        types::check_schema(&schema, format)?;
        let path = self.key_path(
            &key.table,
            &format!("{:06}-{}.{}", key.chunk, key.attempt, format.extension()),
        )?;
        let url = self.location.object_url(path.as_ref());
        match self.store.head(&path).await {
            Ok(_) => {
                return Err(StageError::AlreadyExists {
                    object: url,
                    what:
                        "this chunk attempt was written before; retry with the next attempt number",
                })
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(StageError::store("head", url, e)),
        }
        let mut upload = upload::Upload::new(
            Arc::clone(&self.store),
            path.clone(),
            self.options.part_bytes,
        );
        let batches = std::pin::pin!(batches);
        let written = match format {
            Format::Parquet => {
                parquet::write(
                    &mut upload,
                    &url,
                    &schema,
                    batches,
                    self.options.row_group_bytes,
                )
                .await
            }
            Format::CsvGzip => csv::write(&mut upload, &url, &schema, batches).await,
        };
        let rows = match written {
            Ok(rows) => rows,
            Err(e) => {
                upload.abort().await;
                return Err(e);
            }
        };
        let running = upload.running();
        Ok(ChunkObject {
            path: path.to_string(),
            url,
            bytes: running.bytes(),
            rows,
            checksum: running.checksum(),
            format,
            schema,
        })
    }

    /// Streams a chunk's batches back, with `chunk.schema`.
    ///
    /// Verification: the object's size is checked first, its CRC32C and row count once the last
    /// batch has been read. On a mismatch (or any read error) the stream's last item is an
    /// error: a consumer must not commit what it read from a chunk before the stream has ended
    /// with no error.
    pub fn read_chunk(
        &self,
        chunk: &ChunkObject,
    ) -> BoxStream<'static, Result<RecordBatch, StageError>> {
        let path = match object_path(&chunk.path) {
            Ok(path) => path,
            Err(e) => return futures::stream::once(async move { Err(e) }).boxed(),
        };
        let store = Arc::clone(&self.store);
        let rows = self.options.read_batch_rows.max(1);
        match chunk.format {
            Format::Parquet => parquet::read(store, path, chunk.clone(), rows),
            Format::CsvGzip => csv::read(store, path, chunk.clone(), rows),
        }
    }

    /// Commits `entries` (chunks of one table, one format, one schema) under `key`.
    ///
    /// Order and atomicity: every entry is first checked to exist with its recorded size; then
    /// the sidecar (our metadata) is created; then the Redshift manifest, last, with
    /// create-if-absent. The manifest's appearance is the commit: from then on a reader sees the
    /// manifest, the sidecar and all objects; before it, [`Stage::read_manifest`] finds nothing.
    /// If the manifest exists already, [`StageError::AlreadyExists`] is returned and nothing
    /// changes. After a crash between sidecar and manifest, calling again with the same entries
    /// completes the commit; different entries are refused.
    pub async fn write_manifest(
        &self,
        key: &ManifestKey,
        entries: &[ChunkObject],
    ) -> Result<Manifest, StageError> {
        let (path, sidecar_path) = self.manifest_paths(key)?;
        let url = self.location.object_url(path.as_ref());
        let sidecar_url = self.location.object_url(sidecar_path.as_ref());
        let bad = |reason: String| StageError::Manifest {
            manifest: url.clone(),
            reason,
        };
        let Some(first) = entries.first() else {
            return Err(bad(
                "no entries: COPY fails on a manifest that lists no files".into(),
            ));
        };
        for c in entries {
            if c.format != first.format {
                return Err(bad(format!(
                    "mixes {} ({}) and {} ({})",
                    first.format, first.url, c.format, c.url
                )));
            }
            if !same_columns(&c.schema, &first.schema) {
                return Err(bad(format!(
                    "{} has schema [{}], {} has [{}]",
                    first.url,
                    manifest::schema_summary(&first.schema),
                    c.url,
                    manifest::schema_summary(&c.schema)
                )));
            }
            if c.url != self.object_url(&c.path) {
                return Err(bad(format!("{} is not an object of this stage", c.url)));
            }
        }
        self.check_objects(&url, entries).await?;

        let sidecar = manifest::sidecar(&url, entries);
        let sidecar_json = to_json(&sidecar).map_err(bad)?;
        match self.put_create(&sidecar_path, sidecar_json.clone()).await {
            Ok(()) => {}
            Err(object_store::Error::AlreadyExists { .. }) => {
                // A writer died between sidecar and manifest, or another writer is racing us:
                // go on only if it wrote exactly what we would.
                let existing = self.get_bytes(&sidecar_path, &sidecar_url).await?;
                if existing != sidecar_json {
                    return Err(StageError::AlreadyExists {
                        object: sidecar_url,
                        what: "another writer committed or is committing different entries under this manifest key",
                    });
                }
            }
            Err(e) => return Err(StageError::store("put", sidecar_url, e)),
        }
        let redshift_json = to_json(&manifest::redshift_manifest(entries)).map_err(bad)?;
        self.put_create(&path, redshift_json)
            .await
            .map_err(|e| match e {
                object_store::Error::AlreadyExists { .. } => StageError::AlreadyExists {
                    object: url.clone(),
                    what: "this manifest was committed before; manifests are never overwritten",
                },
                e => StageError::store("put", url.clone(), e),
            })?;
        Ok(Manifest {
            key: key.clone(),
            url,
            sidecar_url,
            format: first.format,
            schema: Arc::clone(&first.schema),
            rows: sidecar.rows,
            entries: entries.to_vec(),
        })
    }

    /// Reads a committed manifest and its sidecar, and checks that they agree. A manifest that
    /// was not committed (absent, even if its sidecar exists) is a [`StageError::Store`] with
    /// object_store's `NotFound`.
    pub async fn read_manifest(&self, key: &ManifestKey) -> Result<Manifest, StageError> {
        let (path, sidecar_path) = self.manifest_paths(key)?;
        let url = self.location.object_url(path.as_ref());
        let sidecar_url = self.location.object_url(sidecar_path.as_ref());
        let bad = |reason: String| StageError::Manifest {
            manifest: url.clone(),
            reason,
        };
        let redshift: manifest::RedshiftManifest =
            serde_json::from_slice(&self.get_bytes(&path, &url).await?)
                .map_err(|e| bad(format!("not a COPY manifest: {e}")))?;
        let sidecar: manifest::Sidecar =
            serde_json::from_slice(&self.get_bytes(&sidecar_path, &sidecar_url).await?)
                .map_err(|e| bad(format!("bad sidecar {sidecar_url}: {e}")))?;
        let (schema, entries) = manifest::chunks_from(&url, &redshift, &sidecar)?;
        Ok(Manifest {
            key: key.clone(),
            url,
            sidecar_url,
            format: sidecar.format,
            schema,
            rows: sidecar.rows,
            entries,
        })
    }

    /// Removes the sidecar of manifest `key` when the manifest itself is absent: what a writer
    /// stopped (killed) between the two writes of [`Stage::write_manifest`] leaves behind, and
    /// what makes a new commit with other entries fail with [`StageError::AlreadyExists`].
    ///
    /// Only for a caller that is the sole writer of `key` (a concurrent writer between its two
    /// writes would lose its sidecar). A committed manifest is never touched: then this returns
    /// [`StageError::AlreadyExists`].
    pub async fn discard_uncommitted_manifest(&self, key: &ManifestKey) -> Result<(), StageError> {
        let (path, sidecar_path) = self.manifest_paths(key)?;
        let url = self.location.object_url(path.as_ref());
        match self.store.head(&path).await {
            Ok(_) => {
                return Err(StageError::AlreadyExists {
                    object: url,
                    what: "this manifest is committed; it is never discarded",
                })
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(StageError::store("head", url, e)),
        }
        match self.store.delete(&sidecar_path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StageError::store(
                "delete",
                self.location.object_url(sidecar_path.as_ref()),
                e,
            )),
        }
    }

    /// Withdraws committed manifest `key` (the manifest, then its sidecar) whose rows a warehouse
    /// refused (a value a column can't hold): a later writer of the key commits a new attempt,
    /// read again from the source, instead of loading the refused rows again. The objects it
    /// listed stay (a new attempt never overwrites them). A manifest that is absent is not an
    /// error.
    ///
    /// Only for a caller that is the sole user of `key` and knows that nothing of it was loaded:
    /// a Redshift `COPY ... MANIFEST` of it would fail once it is gone.
    pub async fn discard_manifest(&self, key: &ManifestKey) -> Result<(), StageError> {
        let (path, sidecar_path) = self.manifest_paths(key)?;
        for path in [path, sidecar_path] {
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    return Err(StageError::store(
                        "delete",
                        self.location.object_url(path.as_ref()),
                        e,
                    ))
                }
            }
        }
        Ok(())
    }

    /// Every entry must exist with the size recorded, or the manifest would promise a load that
    /// COPY can't do.
    async fn check_objects(&self, url: &str, entries: &[ChunkObject]) -> Result<(), StageError> {
        futures::stream::iter(entries.iter().map(Ok))
            .try_for_each_concurrent(HEAD_CONCURRENCY, |c| async move {
                match self.store.head(&object_path(&c.path)?).await {
                    Ok(meta) if meta.size == c.bytes => Ok(()),
                    Ok(meta) => Err(StageError::Manifest {
                        manifest: url.to_string(),
                        reason: format!(
                            "{} has {} bytes, the entry says {}",
                            c.url, meta.size, c.bytes
                        ),
                    }),
                    Err(object_store::Error::NotFound { .. }) => Err(StageError::Manifest {
                        manifest: url.to_string(),
                        reason: format!("{} does not exist", c.url),
                    }),
                    Err(e) => Err(StageError::store("head", &c.url, e)),
                }
            })
            .await
    }

    async fn put_create(&self, path: &Path, data: Bytes) -> Result<(), object_store::Error> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        self.store
            .put_opts(path, PutPayload::from(data), opts)
            .await
            .map(|_| ())
    }

    async fn get_bytes(&self, path: &Path, url: &str) -> Result<Bytes, StageError> {
        let got = self
            .store
            .get(path)
            .await
            .map_err(|e| StageError::store("get", url, e))?;
        got.bytes()
            .await
            .map_err(|e| StageError::store("get", url, e))
    }

    fn manifest_paths(&self, key: &ManifestKey) -> Result<(Path, Path), StageError> {
        let base = format!("manifest-{:06}", key.batch);
        Ok((
            self.key_path(&key.table, &format!("{base}.json"))?,
            self.key_path(&key.table, &format!("{base}.meta.json"))?,
        ))
    }

    /// `{prefix}/{table}/{name}`, after checking that `table` is one sensible path segment.
    fn key_path(&self, table: &str, name: &str) -> Result<Path, StageError> {
        let bad = |reason: &str| StageError::InvalidKey {
            key: table.to_string(),
            reason: reason.to_string(),
        };
        if table.is_empty() || table == "." || table == ".." {
            return Err(bad(
                "a table name must be a non-empty name other than . and ..",
            ));
        }
        if table.contains(['/', '\\']) || table.chars().any(char::is_control) {
            return Err(bad(
                "a table name must not contain '/', '\\' or control characters",
            ));
        }
        Ok(self
            .prefix
            .parts()
            .chain([PathPart::from(table), PathPart::from(name)])
            .collect())
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Bytes, String> {
    serde_json::to_vec_pretty(value)
        .map(Bytes::from)
        .map_err(|e| format!("cannot encode JSON: {e}"))
}

/// The caller's stream failed: keep its retry class.
pub(crate) fn input_error<E>(object: &str, e: E) -> StageError
where
    E: ErrorClass + std::error::Error + Send + Sync + 'static,
{
    StageError::Input {
        object: object.to_string(),
        retry: e.retry(),
        source: Box::new(e),
    }
}

/// A chunk's path as recorded (already encoded: parsed, never re-encoded).
fn object_path(path: &str) -> Result<Path, StageError> {
    Path::parse(path).map_err(|e| StageError::InvalidKey {
        key: path.to_string(),
        reason: e.to_string(),
    })
}

/// Same column names and types, in the same order (nullability and metadata are not compared:
/// the sidecar keeps no field metadata).
pub(crate) fn same_columns(a: &arrow::datatypes::Schema, b: &arrow::datatypes::Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

/// A batch must have the chunk's schema (names and types; metadata is ignored).
pub(crate) fn check_batch(
    object: &str,
    schema: &SchemaRef,
    batch: &RecordBatch,
    index: usize,
) -> Result<(), StageError> {
    if same_columns(batch.schema_ref(), schema) {
        Ok(())
    } else {
        Err(StageError::Input {
            object: object.to_string(),
            retry: Retry::Definite,
            source: format!(
                "batch {index} has schema [{}], the chunk's is [{}]",
                manifest::schema_summary(batch.schema_ref()),
                manifest::schema_summary(schema)
            )
            .into(),
        })
    }
}

/// Compares what a reader saw with what the writer recorded.
pub(crate) fn verify(
    url: &str,
    chunk: &ChunkObject,
    running: Running,
    rows: u64,
) -> Result<(), StageError> {
    let mismatch = |what, expected: String, actual: String| {
        Err(StageError::Mismatch {
            object: url.to_string(),
            what,
            expected,
            actual,
        })
    };
    if running.bytes() != chunk.bytes {
        return mismatch("size", chunk.bytes.to_string(), running.bytes().to_string());
    }
    if running.checksum() != chunk.checksum {
        return mismatch(
            "checksum",
            chunk.checksum.to_string(),
            running.checksum().to_string(),
        );
    }
    if rows != chunk.rows {
        return mismatch("row count", chunk.rows.to_string(), rows.to_string());
    }
    Ok(())
}
