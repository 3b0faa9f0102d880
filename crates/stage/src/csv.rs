//! gzip CSV chunks, in the dialect Redshift's `COPY ... CSV GZIP NULL AS '\N'` reads.
//!
//! Encoding (exact round trip for every supported type):
//! - RFC 4180: `,` between fields, `"` around fields that need it (delimiter, quote, CR/LF), `""`
//!   for a quote inside; no header row (column order is the manifest's schema).
//! - NULL is `\N`, unquoted; the empty string is an empty field. A string whose value is exactly
//!   `\N` can't be told from NULL by readers that ignore quoting (Arrow's, Redshift's), so writing
//!   one is refused with [`StageError::Unsupported`]: stage such data as Parquet.
//! - Binary values are lowercase hex (what Redshift loads into VARBYTE from CSV).
//! - Numbers, dates and times are Arrow's text forms: shortest round-trip floats (`NaN`, `inf`,
//!   `-inf`, `-0`), decimals with their full scale, ISO 8601 dates/times/timestamps, `Z`/offset for
//!   UTC timestamps. A NaN's sign and payload bits are not kept (Parquet keeps them). The batch
//!   convention's infinite dates and timestamps are `infinity` and `-infinity`, as PostgreSQL
//!   writes them (Redshift has no such value: its loads must refuse them before staging).
//! - Times of day are `HH:MM:SS` with `.ffffff` when there is a fraction, `24:00:00` included
//!   (PostgreSQL and Redshift hold it; chrono, which Arrow's CSV uses, can't), so migrate writes
//!   and reads them itself. A time outside `00:00:00..=24:00:00` is refused, and so is a date
//!   beyond chrono's years (262143 either side of year 0; PostgreSQL's dates reach 5874897 AD).
//!
//! Gzip runs as a push encoder/decoder on the async task: the writer hands compressed bytes to the
//! upload every [`FLUSH_BYTES`]; the reader decompresses each downloaded piece and feeds Arrow's
//! push CSV decoder. Memory is bounded by one input batch plus a few MiB, for any object size.

use crate::checksum::Running;
use crate::upload::Upload;
use crate::{check_batch, input_error, ChunkObject, Format, StageError};
use arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, Date32Array, LargeBinaryBuilder, LargeStringBuilder,
    StringBuilder, Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::compute::cast;
use arrow::compute::kernels::cast_utils::Parser;
use arrow::csv::reader::Decoder;
use arrow::csv::{ReaderBuilder, WriterBuilder};
use arrow::datatypes::{
    DataType, Date32Type, Field, Schema, SchemaRef, Time64MicrosecondType, TimeUnit,
    TimestampMicrosecondType,
};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::temporal_conversions::date32_to_datetime;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use bytes::Bytes;
use flate2::write::{GzEncoder, MultiGzDecoder};
use futures::stream::{BoxStream, Stream, StreamExt};
use migrate_batch::{
    date_infinity, infinity_at, DATE_INFINITY, DATE_NEG_INFINITY, TIMESTAMP_INFINITY,
    TIMESTAMP_NEG_INFINITY, UTC_OFFSET,
};
use migrate_core::ErrorClass;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

/// The NULL marker. `\N` is Redshift's and PostgreSQL's text-format default.
pub const NULL: &str = "\\N";

/// Compressed bytes are handed to the upload in pieces of about this size.
const FLUSH_BYTES: usize = 1 << 20;

/// gzip level 1: about three times faster than the default 6 for ~10% larger objects; staging is
/// throughput-bound and the objects are short-lived.
const GZIP_LEVEL: u32 = 1;

/// Writes `batches` as one gzip CSV object into `upload` and completes the upload. Returns the row count.
pub(crate) async fn write<S, E>(
    upload: &mut Upload,
    object: &str,
    schema: &SchemaRef,
    mut batches: S,
) -> Result<u64, StageError>
where
    S: Stream<Item = Result<RecordBatch, E>> + Unpin,
    E: ErrorClass + std::error::Error + Send + Sync + 'static,
{
    let encode = |e: Box<dyn std::error::Error + Send + Sync>| StageError::Encode {
        object: object.to_string(),
        source: e,
    };
    let mut gz = GzEncoder::new(
        Vec::with_capacity(2 * FLUSH_BYTES),
        flate2::Compression::new(GZIP_LEVEL),
    );
    let mut rows = 0u64;
    let mut index = 0usize;
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(|e| input_error(object, e))?;
        check_batch(object, schema, &batch, index)?;
        index += 1;
        rows += batch.num_rows() as u64;
        let wire = to_wire(object, &batch)?;
        WriterBuilder::new()
            .with_header(false)
            .with_null(NULL.to_string())
            .build(NoFlush(&mut gz))
            .write(&wire)
            .map_err(|e| encode(e.into()))?;
        if gz.get_ref().len() >= FLUSH_BYTES {
            let out = std::mem::replace(gz.get_mut(), Vec::with_capacity(2 * FLUSH_BYTES));
            upload
                .put(Bytes::from(out))
                .await
                .map_err(|e| encode(e.into()))?;
        }
    }
    let out = gz.finish().map_err(|e| encode(e.into()))?;
    upload
        .put(Bytes::from(out))
        .await
        .map_err(|e| encode(e.into()))?;
    upload.finish().await.map_err(|e| encode(e.into()))?;
    Ok(rows)
}

/// Passes writes through and ignores `flush`: Arrow's CSV writer flushes after every batch, which
/// would make gzip emit a sync block each time.
struct NoFlush<W>(W);

impl<W: Write> Write for NoFlush<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The batch as written: binary columns become hex text, dates and timestamps text; strings equal
/// to the NULL marker are refused.
fn to_wire(object: &str, batch: &RecordBatch) -> Result<RecordBatch, StageError> {
    let encode = |e: Box<dyn std::error::Error + Send + Sync>| StageError::Encode {
        object: object.to_string(),
        source: e,
    };
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let refuse_marker = |found: bool| {
            if found {
                Err(StageError::Unsupported {
                    format: Format::CsvGzip,
                    column: field.name().clone(),
                    data_type: field.data_type().to_string(),
                    reason: format!(
                        "a value is the string {NULL:?}, which CSV readers take for NULL; stage it as Parquet"
                    ),
                })
            } else {
                Ok(())
            }
        };
        let wire: ArrayRef = match field.data_type() {
            DataType::Utf8 => {
                refuse_marker(column.as_string::<i32>().iter().any(|v| v == Some(NULL)))?;
                Arc::clone(column)
            }
            DataType::LargeUtf8 => {
                refuse_marker(column.as_string::<i64>().iter().any(|v| v == Some(NULL)))?;
                Arc::clone(column)
            }
            DataType::Binary => hex_encode(column.as_binary::<i32>().iter()),
            DataType::LargeBinary => hex_encode(column.as_binary::<i64>().iter()),
            DataType::Time64(TimeUnit::Microsecond) => {
                time_text(column.as_primitive::<Time64MicrosecondType>()).map_err(|micros| {
                    StageError::Unsupported {
                        format: Format::CsvGzip,
                        column: field.name().clone(),
                        data_type: field.data_type().to_string(),
                        reason: format!(
                            "a time of {micros} microseconds is outside 00:00:00..=24:00:00; stage it as Parquet"
                        ),
                    }
                })?
            }
            DataType::Date32 => {
                // Arrow writes dates through chrono, whose years end at 262143; PostgreSQL's go
                // on to 5874897. Say so instead of passing on Arrow's error.
                let dates = column.as_primitive::<Date32Type>();
                if let Some(days) = dates.iter().flatten().find(|days| {
                    date_infinity(*days).is_none() && date32_to_datetime(*days).is_none()
                }) {
                    let (year, month, day) = migrate_core::civil_from_days(days.into());
                    return Err(StageError::Unsupported {
                        format: Format::CsvGzip,
                        column: field.name().clone(),
                        data_type: field.data_type().to_string(),
                        reason: format!(
                            "the date {year}-{month:02}-{day:02} is beyond the years CSV staging can write (262143 either side of year 0); stage it as Parquet"
                        ),
                    });
                }
                calendar_text(column)
                    .map_err(|e| encode(e.into()))?
            }
            DataType::Timestamp(TimeUnit::Microsecond, zone) => {
                let micros = column.as_primitive::<TimestampMicrosecondType>();
                let wire: ArrayRef = match zone {
                    Some(_) => Arc::new(micros.clone().with_timezone(UTC_OFFSET)),
                    None => Arc::clone(column),
                };
                calendar_text(&wire)
                    .map_err(|e| encode(e.into()))?
            }
            _ => Arc::clone(column),
        };
        fields.push(Field::new(
            field.name(),
            wire.data_type().clone(),
            field.is_nullable(),
        ));
        columns.push(wire);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| encode(e.into()))
}

/// A date or timestamp column as the text Arrow's CSV writer prints, with the batch
/// convention's infinities (which chrono can't print) as `infinity` and `-infinity`.
fn calendar_text(column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
    let mut out = StringBuilder::with_capacity(column.len(), column.len() * 27);
    for row in 0..column.len() {
        if column.is_null(row) {
            out.append_null();
            continue;
        }
        match infinity_at(column, row) {
            Some(infinity) => out.append_value(infinity.text()),
            None => {
                // Written into the builder's buffer, no string per value.
                formatter.value(row).write(&mut out)?;
                out.append_value("");
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

/// Reads a date [`calendar_text`] wrote.
fn parse_date(text: &str) -> Result<i32, ArrowError> {
    match text {
        "infinity" => Ok(DATE_INFINITY),
        "-infinity" => Ok(DATE_NEG_INFINITY),
        _ => Date32Type::parse(text)
            .ok_or_else(|| ArrowError::ParseError(format!("bad date {text:?}"))),
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Times of day as text (see the module documentation); `Err(micros)` for a value outside a day.
fn time_text(times: &Time64MicrosecondArray) -> Result<ArrayRef, i64> {
    let mut out = StringBuilder::with_capacity(times.len(), times.len() * 15);
    for time in times.iter() {
        let Some(micros) = time else {
            out.append_null();
            continue;
        };
        if !(0..=MICROS_PER_DAY).contains(&micros) {
            return Err(micros);
        }
        let seconds = micros / 1_000_000;
        let fraction = micros % 1_000_000;
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        // Written into the builder's buffer, no string per value; writing to it can't fail.
        let _ = if fraction == 0 {
            write!(out, "{h:02}:{m:02}:{s:02}")
        } else {
            write!(out, "{h:02}:{m:02}:{s:02}.{fraction:06}")
        };
        out.append_value("");
    }
    Ok(Arc::new(out.finish()))
}

/// Reads what [`time_text`] wrote.
fn parse_time(text: &str) -> Result<i64, ArrowError> {
    let bad = || ArrowError::ParseError(format!("bad time of day {text:?}"));
    let (clock, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut parts = clock.split(':');
    let digits = |part: &str| part.bytes().fold(0, |n, d| n * 10 + i64::from(d - b'0'));
    let mut field = |limit: i64| -> Result<i64, ArrowError> {
        let part = parts.next().ok_or_else(bad)?;
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Some(digits(part))
            .filter(|value| *value <= limit)
            .ok_or_else(bad)
    };
    let (h, m, s) = (field(24)?, field(59)?, field(59)?);
    if parts.next().is_some() {
        return Err(bad());
    }
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // Microseconds: `.5` is 500000.
    let micros = digits(fraction) * 10_i64.pow(6 - fraction.len() as u32);
    let total = ((h * 60 + m) * 60 + s) * 1_000_000 + micros;
    if total > MICROS_PER_DAY {
        return Err(bad());
    }
    Ok(total)
}

fn hex_encode<'a>(values: impl Iterator<Item = Option<&'a [u8]>>) -> ArrayRef {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = LargeStringBuilder::new();
    let mut text = String::new();
    for value in values {
        match value {
            None => out.append_null(),
            Some(bytes) => {
                text.clear();
                text.reserve(bytes.len() * 2);
                for b in bytes {
                    text.push(DIGITS[(b >> 4) as usize] as char);
                    text.push(DIGITS[(b & 15) as usize] as char);
                }
                out.append_value(&text);
            }
        }
    }
    Arc::new(out.finish())
}

/// The schema Arrow's CSV reader is given: it has no large-string or binary parsers and parses
/// four-digit years only in timestamps, so those columns are read as text and converted after
/// (see [`from_wire`]).
fn wire_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary => {
                Field::new(f.name(), DataType::Utf8, f.is_nullable())
            }
            DataType::Date32 | DataType::Timestamp(_, _) | DataType::Time64(_) => {
                Field::new(f.name(), DataType::Utf8, f.is_nullable())
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Schema::new(fields)
}

fn from_wire(target: &SchemaRef, batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in target.fields().iter().zip(batch.columns()) {
        let column: ArrayRef = match field.data_type() {
            DataType::LargeUtf8 => cast(column, &DataType::LargeUtf8)?,
            DataType::Binary => {
                let mut out = BinaryBuilder::new();
                for v in column.as_string::<i32>().iter() {
                    match v {
                        None => out.append_null(),
                        Some(text) => out.append_value(hex_decode(text)?),
                    }
                }
                Arc::new(out.finish())
            }
            DataType::LargeBinary => {
                let mut out = LargeBinaryBuilder::new();
                for v in column.as_string::<i32>().iter() {
                    match v {
                        None => out.append_null(),
                        Some(text) => out.append_value(hex_decode(text)?),
                    }
                }
                Arc::new(out.finish())
            }
            DataType::Date32 => Arc::new(
                column
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.map(parse_date).transpose())
                    .collect::<Result<Date32Array, _>>()?,
            ),
            DataType::Time64(TimeUnit::Microsecond) => Arc::new(
                column
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.map(parse_time).transpose())
                    .collect::<Result<Time64MicrosecondArray, _>>()?,
            ),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                let micros = column
                    .as_string::<i32>()
                    .iter()
                    .map(|v| {
                        v.map(|text| parse_timestamp(text, tz.is_some()))
                            .transpose()
                    })
                    .collect::<Result<TimestampMicrosecondArray, _>>()?;
                Arc::new(match tz {
                    Some(tz) => micros.with_timezone(tz.as_ref()),
                    None => micros,
                })
            }
            _ => Arc::clone(column),
        };
        columns.push(column);
    }
    RecordBatch::try_new(Arc::clone(target), columns)
}

/// Arrow's CSV reader parses timestamps with four-digit years only; its writer prints any year
/// chrono can (`+10000-01-01T00:00:00`, `-4713-...`), and so does chrono's parser. UTC values
/// carry the `Z` the writer prints for offset `+00:00`.
fn parse_timestamp(text: &str, utc: bool) -> Result<i64, ArrowError> {
    match text {
        "infinity" => return Ok(TIMESTAMP_INFINITY),
        "-infinity" => return Ok(TIMESTAMP_NEG_INFINITY),
        _ => {}
    }
    let bad = || ArrowError::ParseError(format!("bad timestamp {text:?}"));
    let naive = if utc {
        text.strip_suffix('Z')
            .or_else(|| text.strip_suffix(UTC_OFFSET))
            .ok_or_else(bad)?
    } else {
        text
    };
    let parsed: chrono::NaiveDateTime = naive.parse().map_err(|_| bad())?;
    Ok(parsed.and_utc().timestamp_micros())
}

fn hex_decode(text: &str) -> Result<Vec<u8>, ArrowError> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(ArrowError::ParseError(format!(
            "binary value is not hex: {:?}",
            text.chars().take(40).collect::<String>()
        ))),
    };
    let bytes = text.as_bytes();
    if bytes.len() % 2 != 0 {
        return Err(ArrowError::ParseError(
            "binary value has an odd number of hex digits".into(),
        ));
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Ok(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Streams the batches of a gzip CSV chunk. The last item is an error if the object's size,
/// CRC32C or row count differ from `chunk`, or if the gzip stream is corrupt.
pub(crate) fn read(
    store: Arc<dyn ObjectStore>,
    path: Path,
    chunk: ChunkObject,
    batch_rows: usize,
) -> BoxStream<'static, Result<RecordBatch, StageError>> {
    futures::stream::unfold(
        Reader::Start {
            store,
            path,
            chunk,
            batch_rows,
        },
        |reader| async move {
            let (item, next) = reader.step().await;
            item.map(|item| (item, next))
        },
    )
    .boxed()
}

enum Reader {
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
    body: BoxStream<'static, object_store::Result<Bytes>>,
    gunzip: MultiGzDecoder<Vec<u8>>,
    decoder: Decoder,
    ready: VecDeque<RecordBatch>,
    running: Running,
    rows: u64,
    ended: bool,
    chunk: ChunkObject,
}

impl Reader {
    async fn step(self) -> (Option<Result<RecordBatch, StageError>>, Reader) {
        let mut reading = match self {
            Reader::Start {
                store,
                path,
                chunk,
                batch_rows,
            } => match open(store, path, chunk, batch_rows).await {
                Ok(r) => Box::new(r),
                Err(e) => return (Some(Err(e)), Reader::Done),
            },
            Reader::Reading(r) => r,
            Reader::Done => return (None, Reader::Done),
        };
        match reading.next().await {
            Ok(Some(batch)) => (Some(Ok(batch)), Reader::Reading(reading)),
            Ok(None) => (None, Reader::Done),
            Err(e) => (Some(Err(e)), Reader::Done),
        }
    }
}

async fn open(
    store: Arc<dyn ObjectStore>,
    path: Path,
    chunk: ChunkObject,
    batch_rows: usize,
) -> Result<Reading, StageError> {
    let got = store
        .get(&path)
        .await
        .map_err(|e| StageError::store("get", &chunk.url, e))?;
    if got.meta.size != chunk.bytes {
        return Err(StageError::Mismatch {
            object: chunk.url.clone(),
            what: "size",
            expected: chunk.bytes.to_string(),
            actual: got.meta.size.to_string(),
        });
    }
    let null = regex::Regex::new(r"^\\N$").map_err(|e| decode(&chunk.url, e))?;
    let decoder = ReaderBuilder::new(Arc::new(wire_schema(&chunk.schema)))
        .with_header(false)
        .with_null_regex(null)
        .with_batch_size(batch_rows)
        .build_decoder();
    Ok(Reading {
        body: got.into_stream(),
        gunzip: MultiGzDecoder::new(Vec::new()),
        decoder,
        ready: VecDeque::new(),
        running: Running::default(),
        rows: 0,
        ended: false,
        chunk,
    })
}

fn decode(object: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StageError {
    StageError::Decode {
        object: object.to_string(),
        source: e.into(),
    }
}

impl Reading {
    /// The next batch, `None` after the last one has been returned and the object verified.
    async fn next(&mut self) -> Result<Option<RecordBatch>, StageError> {
        loop {
            if let Some(batch) = self.ready.pop_front() {
                self.rows += batch.num_rows() as u64;
                return Ok(Some(batch));
            }
            if self.ended {
                crate::verify(&self.chunk.url, &self.chunk, self.running, self.rows)?;
                return Ok(None);
            }
            match self.body.next().await {
                Some(Ok(data)) => {
                    self.running.update(&data);
                    self.gunzip
                        .write_all(&data)
                        .map_err(|e| decode(&self.chunk.url, e))?;
                    self.decode_ready(false)?;
                }
                Some(Err(e)) => return Err(StageError::store("get", &self.chunk.url, e)),
                None => {
                    // try_finish checks the gzip trailer (CRC32 and length of the CSV text).
                    self.gunzip
                        .try_finish()
                        .map_err(|e| decode(&self.chunk.url, e))?;
                    self.decode_ready(true)?;
                    self.ended = true;
                }
            }
        }
    }

    /// Feeds the decompressed text to the CSV decoder; full batches (and, at the end, the last
    /// partial one) are converted and queued.
    fn decode_ready(&mut self, at_end: bool) -> Result<(), StageError> {
        let text = std::mem::take(self.gunzip.get_mut());
        let mut rest = &text[..];
        while !rest.is_empty() {
            let used = self
                .decoder
                .decode(rest)
                .map_err(|e| decode(&self.chunk.url, e))?;
            rest = &rest[used..];
            if self.decoder.capacity() == 0 {
                self.flush_decoder()?;
            }
        }
        if at_end {
            self.flush_decoder()?;
        }
        // Keep the buffer's allocation for the next piece.
        let mut text = text;
        text.clear();
        *self.gunzip.get_mut() = text;
        Ok(())
    }

    fn flush_decoder(&mut self) -> Result<(), StageError> {
        let url = &self.chunk.url;
        if let Some(batch) = self.decoder.flush().map_err(|e| decode(url, e))? {
            let batch = from_wire(&self.chunk.schema, batch).map_err(|e| decode(url, e))?;
            self.ready.push_back(batch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_read_what_is_written_and_nothing_else() {
        let written = time_text(&Time64MicrosecondArray::from(vec![
            Some(0),
            Some(1_500_000),
            None,
            Some(MICROS_PER_DAY),
        ]))
        .expect("within a day");
        let texts: Vec<Option<&str>> = written.as_string::<i32>().iter().collect();
        assert_eq!(
            texts,
            [
                Some("00:00:00"),
                Some("00:00:01.500000"),
                None,
                Some("24:00:00")
            ]
        );
        assert_eq!(parse_time("12:34:56.5").ok(), Some(45_296_500_000));
        for bad in [
            "+1:00:00",
            "24:00:01",
            "00:00:00.1234567",
            "1:00:00",
            "00:60:00",
            "00:00",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(
            time_text(&Time64MicrosecondArray::from(vec![-1])).err(),
            Some(-1)
        );
    }

    #[test]
    fn infinite_dates_and_timestamps_are_written_as_postgres_writes_them() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("d", DataType::Date32, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
            Field::new(
                "tsz",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]));
        let micros = vec![Some(i64::MAX), Some(i64::MIN), None, Some(1_500_000)];
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Date32Array::from(vec![
                    Some(i32::MAX),
                    Some(i32::MIN),
                    None,
                    Some(19_723),
                ])),
                Arc::new(TimestampMicrosecondArray::from(micros.clone())),
                Arc::new(TimestampMicrosecondArray::from(micros).with_timezone("UTC")),
            ],
        )
        .expect("batch");
        let wire = to_wire("o", &batch).expect("written");
        let texts = |column: usize| -> Vec<Option<String>> {
            wire.column(column)
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let text = |v: &str| Some(v.to_string());
        assert_eq!(
            texts(0),
            [
                text("infinity"),
                text("-infinity"),
                None,
                text("2024-01-01")
            ]
        );
        assert_eq!(
            texts(1),
            [
                text("infinity"),
                text("-infinity"),
                None,
                text("1970-01-01T00:00:01.500")
            ]
        );
        assert_eq!(texts(2)[3], text("1970-01-01T00:00:01.500Z"));
        assert_eq!(from_wire(&schema, wire).expect("read back"), batch);
    }

    #[test]
    fn dates_beyond_what_csv_writes_are_refused_by_name() {
        let batch = |days: i32| {
            let schema = Schema::new(vec![Field::new("day", DataType::Date32, true)]);
            let column: ArrayRef =
                Arc::new(arrow::array::Date32Array::from(vec![None, Some(days)]));
            RecordBatch::try_new(Arc::new(schema), vec![column]).expect("batch")
        };
        // 262142-12-31 is written; 300000-01-01 (PostgreSQL holds it) is refused.
        assert!(to_wire("o", &batch(95_026_236)).is_ok());
        let error = to_wire("o", &batch(108_853_222))
            .expect_err("refused")
            .to_string();
        assert!(
            error.contains("day")
                && error.contains("the date 300000-01-01")
                && error.contains("Parquet"),
            "{error}"
        );
    }
}
