//! One object being uploaded: a bounded buffer in front of a put or a multipart upload, with the
//! CRC32C and length of everything written so far.

use crate::checksum::Running;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::ObjectStore;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Wraps [`BufWriter`]: up to `part_bytes` are buffered and sent with a single put; beyond that the
/// data go out as a multipart upload in parts of `part_bytes`, a few in flight at a time. Memory is
/// bounded by `part_bytes` times the upload concurrency, whatever the object's size.
///
/// Nothing is visible at the path until [`Upload::finish`] succeeds: a put is atomic, and a
/// multipart upload (S3) or a staging file renamed on completion (local files) appears whole.
pub(crate) struct Upload {
    writer: BufWriter,
    running: Running,
    /// Set once completion started: BufWriter can't be aborted after that (it panics).
    finishing: bool,
}

/// Parts in flight at once for one object.
const UPLOAD_CONCURRENCY: usize = 4;

impl Upload {
    pub(crate) fn new(store: Arc<dyn ObjectStore>, path: Path, part_bytes: usize) -> Self {
        Upload {
            writer: BufWriter::with_capacity(store, path, part_bytes)
                .with_max_concurrency(UPLOAD_CONCURRENCY),
            running: Running::default(),
            finishing: false,
        }
    }

    pub(crate) async fn put(&mut self, data: Bytes) -> Result<(), object_store::Error> {
        if data.is_empty() {
            return Ok(());
        }
        self.running.update(&data);
        self.writer.put(data).await
    }

    /// Sends what is buffered and completes the upload; the object is durable and visible when
    /// this returns `Ok`.
    pub(crate) async fn finish(&mut self) -> Result<(), object_store::Error> {
        self.finishing = true;
        self.writer.shutdown().await.map_err(from_io)
    }

    /// CRC32C and length of everything put so far.
    pub(crate) fn running(&self) -> Running {
        self.running
    }

    /// Gives up: a multipart upload is aborted so no parts are left behind. Best effort: the
    /// original error matters more than a failure to clean up. When completing the upload itself
    /// failed, there is nothing left to abort through this writer; an S3 lifecycle rule
    /// (`AbortIncompleteMultipartUpload`) removes such parts.
    pub(crate) async fn abort(&mut self) {
        if !self.finishing {
            let _ = self.writer.abort().await;
        }
    }
}

/// BufWriter reports through `std::io::Error`; get the object store error back when there is one.
fn from_io(e: std::io::Error) -> object_store::Error {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<object_store::Error>())
    {
        if let Some(Ok(os)) = e
            .into_inner()
            .map(|inner| inner.downcast::<object_store::Error>())
        {
            return *os;
        }
        return object_store::Error::Generic {
            store: "upload",
            source: "lost the cause of an upload error".into(),
        };
    }
    object_store::Error::Generic {
        store: "upload",
        source: Box::new(e),
    }
}

/// The Parquet writer writes through this; errors keep their object store cause, so they can be
/// classified as transient or definite.
impl parquet::arrow::async_writer::AsyncFileWriter for &mut Upload {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        async move {
            self.put(bs)
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        async move {
            self.finish()
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        }
        .boxed()
    }
}
