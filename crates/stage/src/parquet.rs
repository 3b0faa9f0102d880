//! Parquet (Snappy) chunks: streamed out through [`AsyncArrowWriter`] in row groups of bounded size,
//! streamed back through [`ParquetRecordBatchStreamBuilder`] while the CRC32C of the whole object is
//! folded from the byte ranges the reader fetches.
//!
//! Snappy, not zstd: every reader we target accepts it (Redshift COPY, Spectrum, Athena, DuckDB),
//! it is pure Rust here (no C build), and it encodes faster; staged objects are short-lived.
//! No dictionary encoding, for the same reason: interning every value took about a tenth of the
//! `migrate` process's CPU in change capture profiles, where keys, sequence numbers and most
//! images are distinct (the dictionaries were all cost), and writing the 1M distinct rows of
//! `tests/million.rs` took 25-30% less time for a 15% smaller object without them. Columns of a
//! few repeated values make bigger objects instead, which Snappy partly makes up for.

use crate::checksum::Running;
use crate::error::BoxError;
use crate::upload::Upload;
use crate::{check_batch, input_error, ChunkObject, StageError};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, Stream, StreamExt};
use futures::FutureExt;
use migrate_core::ErrorClass;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{AsyncFileReader, MetadataFetch, ParquetRecordBatchStream};
use parquet::arrow::{AsyncArrowWriter, ParquetRecordBatchStreamBuilder};
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Min/max statistics and page index values are cut to this many bytes: a 50 MB string must not be
/// copied twice into the footer (which readers load whole).
const STATISTICS_TRUNCATE: usize = 64;

/// Writes `batches` as one Parquet object into `upload` and completes it. Returns the row count.
/// A row group is closed as soon as its encoded size reaches `row_group_bytes`, so memory holds at
/// most one row group plus one input batch.
pub(crate) async fn write<S, E>(
    upload: &mut Upload,
    object: &str,
    schema: &SchemaRef,
    mut batches: S,
    row_group_bytes: usize,
) -> Result<u64, StageError>
where
    S: Stream<Item = Result<RecordBatch, E>> + Unpin,
    E: ErrorClass + std::error::Error + Send + Sync + 'static,
{
    let encode = |e: ParquetError| StageError::Encode {
        object: object.to_string(),
        source: Box::new(e),
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_statistics_truncate_length(Some(STATISTICS_TRUNCATE))
        .set_column_index_truncate_length(Some(STATISTICS_TRUNCATE))
        .build();
    let mut writer =
        AsyncArrowWriter::try_new(upload, Arc::clone(schema), Some(props)).map_err(encode)?;
    let mut rows = 0u64;
    let mut index = 0usize;
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(|e| input_error(object, e))?;
        check_batch(object, schema, &batch, index)?;
        index += 1;
        rows += batch.num_rows() as u64;
        writer.write(&batch).await.map_err(encode)?;
        if writer.in_progress_size() >= row_group_bytes {
            writer.flush().await.map_err(encode)?;
        }
    }
    writer.finish().await.map_err(encode)?;
    Ok(rows)
}

/// Streams the batches of a Parquet chunk. The last item is an error if the object's size, CRC32C
/// or row count differ from `chunk`.
pub(crate) fn read(
    store: Arc<dyn ObjectStore>,
    path: Path,
    chunk: ChunkObject,
    batch_rows: usize,
) -> BoxStream<'static, Result<RecordBatch, StageError>> {
    let state = State::Start {
        store,
        path,
        chunk,
        batch_rows,
    };
    futures::stream::unfold(state, |state| async move {
        let (item, next) = state.step().await;
        item.map(|item| (item, next))
    })
    .boxed()
}

enum State {
    Start {
        store: Arc<dyn ObjectStore>,
        path: Path,
        chunk: ChunkObject,
        batch_rows: usize,
    },
    Reading(Box<Reading>),
    Done,
}

struct Reading {
    inner: ParquetRecordBatchStream<VerifyingReader>,
    folder: Folder,
    chunk: ChunkObject,
    rows: u64,
}

type Step = (Option<Result<RecordBatch, StageError>>, State);

impl State {
    async fn step(self) -> Step {
        match self {
            State::Start {
                store,
                path,
                chunk,
                batch_rows,
            } => match open(store, path, &chunk, batch_rows).await {
                Ok(reading) => State::Reading(Box::new(reading)).read_next().await,
                Err(e) => (Some(Err(e)), State::Done),
            },
            reading @ State::Reading(_) => reading.read_next().await,
            State::Done => (None, State::Done),
        }
    }

    async fn read_next(self) -> Step {
        let State::Reading(mut r) = self else {
            return (None, State::Done);
        };
        match r.inner.next().await {
            Some(Ok(batch)) => {
                r.rows += batch.num_rows() as u64;
                (Some(Ok(batch)), State::Reading(r))
            }
            Some(Err(e)) => (Some(Err(decode(&r.chunk.url, e))), State::Done),
            None => match r.finish().await {
                Ok(()) => (None, State::Done),
                Err(e) => (Some(Err(e)), State::Done),
            },
        }
    }
}

async fn open(
    store: Arc<dyn ObjectStore>,
    path: Path,
    chunk: &ChunkObject,
    batch_rows: usize,
) -> Result<Reading, StageError> {
    let meta = store
        .head(&path)
        .await
        .map_err(|e| StageError::store("head", &chunk.url, e))?;
    if meta.size != chunk.bytes {
        return Err(StageError::Mismatch {
            object: chunk.url.clone(),
            what: "size",
            expected: chunk.bytes.to_string(),
            actual: meta.size.to_string(),
        });
    }
    let folder = Folder {
        store,
        path,
        progress: Arc::new(Mutex::new(Running::default())),
    };
    let reader = VerifyingReader {
        folder: folder.clone(),
        size: chunk.bytes,
    };
    // No page index: it is not needed to read everything, and skipping it keeps the fetches
    // in file order.
    let builder =
        ParquetRecordBatchStreamBuilder::new_with_options(reader, ArrowReaderOptions::new())
            .await
            .map_err(|e| decode(&chunk.url, e))?;
    if !crate::same_columns(builder.schema(), &chunk.schema) {
        return Err(StageError::Mismatch {
            object: chunk.url.clone(),
            what: "schema",
            expected: crate::manifest::schema_summary(&chunk.schema),
            actual: crate::manifest::schema_summary(builder.schema()),
        });
    }
    let inner = builder
        .with_batch_size(batch_rows)
        .build()
        .map_err(|e| decode(&chunk.url, e))?;
    Ok(Reading {
        inner,
        folder,
        chunk: chunk.clone(),
        rows: 0,
    })
}

impl Reading {
    /// After the last batch: fold the bytes the reader never asked for (page index, footer), then
    /// compare everything with what the writer recorded.
    async fn finish(&mut self) -> Result<(), StageError> {
        let url = &self.chunk.url;
        self.folder
            .fold_through(self.chunk.bytes)
            .await
            .map_err(|e| decode(url, e))?;
        let running = self.folder.running();
        crate::verify(url, &self.chunk, running, self.rows)
    }
}

fn decode(object: &str, e: impl Into<BoxError>) -> StageError {
    StageError::Decode {
        object: object.to_string(),
        source: e.into(),
    }
}

/// Folds an object's bytes, in order and each exactly once, into a running CRC32C, whatever order
/// the Parquet reader fetches ranges in: bytes before a fetched range that were never fetched are
/// read (streamed, not buffered) and folded first; bytes already folded are skipped.
#[derive(Clone)]
struct Folder {
    store: Arc<dyn ObjectStore>,
    path: Path,
    progress: Arc<Mutex<Running>>,
}

impl Folder {
    fn running(&self) -> Running {
        *self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn folded(&self) -> u64 {
        self.running().bytes()
    }

    /// Folds the part of `data` (the bytes at `start..`) that lies beyond what is folded so far.
    async fn fold(&self, start: u64, data: &Bytes) -> Result<(), ParquetError> {
        self.fold_through(start).await?;
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        let next = progress.bytes();
        let end = start + data.len() as u64;
        if end > next {
            // start <= next here, thanks to fold_through above.
            let from =
                usize::try_from(next - start).map_err(|e| ParquetError::External(e.into()))?;
            progress.update(&data[from..]);
        }
        Ok(())
    }

    /// Folds every byte up to `end` that is not folded yet, reading it from the store.
    async fn fold_through(&self, end: u64) -> Result<(), ParquetError> {
        let next = self.folded();
        if end <= next {
            return Ok(());
        }
        let mut body = self
            .store
            .get_opts(
                &self.path,
                object_store::GetOptions {
                    range: Some((next..end).into()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| ParquetError::External(Box::new(e)))?
            .into_stream();
        while let Some(data) = body.next().await {
            let data = data.map_err(|e| ParquetError::External(Box::new(e)))?;
            self.progress
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .update(&data);
        }
        let folded = self.folded();
        if folded != end {
            return Err(ParquetError::General(format!(
                "short read: object ends at {folded}, expected at least {end} bytes"
            )));
        }
        Ok(())
    }
}

/// The Parquet reader's view of a staged object: ranged GETs, each folded into the checksum.
struct VerifyingReader {
    folder: Folder,
    size: u64,
}

impl AsyncFileReader for VerifyingReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            let data = self
                .folder
                .store
                .get_range(&self.folder.path, range.clone())
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))?;
            self.folder.fold(range.start, &data).await?;
            Ok(data)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            // object_store coalesces close ranges and fetches them concurrently.
            let data = self
                .folder
                .store
                .get_ranges(&self.folder.path, &ranges)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))?;
            let mut order: Vec<usize> = (0..ranges.len()).collect();
            order.sort_by_key(|&i| ranges[i].start);
            for i in order {
                self.folder.fold(ranges[i].start, &data[i]).await?;
            }
            Ok(data)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            // The footer is fetched apart from the checksum: it sits at the end and is folded,
            // in order, after the last row group.
            let tail = TailFetch(&self.folder);
            let metadata = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(64 * 1024))
                .load_and_finish(tail, self.size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

struct TailFetch<'a>(&'a Folder);

impl MetadataFetch for TailFetch<'_> {
    fn fetch(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.0
                .store
                .get_range(&self.0.path, range)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }
}
