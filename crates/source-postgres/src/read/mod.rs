//! Reading a chunk as Arrow record batches: `COPY (SELECT ...) TO STDOUT (FORMAT binary)`,
//! decoded here.
//!
//! Binary COPY because it is the fastest way out of PostgreSQL that keeps every value exact:
//! integers, floats, dates and timestamps arrive as fixed-width binary (no text parsing, no
//! float round trip), bytea as raw bytes (text COPY doubles them as hex), and the server skips
//! its output functions. Types whose binary form is not worth decoding here (inet, bit strings,
//! ranges, geometric and extension types) are converted to their text form in the SELECT list
//! (`concat(col)`, the type's output function), arrays and other complex values to JSON
//! (`to_json(col)`), money to numeric.

pub(crate) mod array;
mod copy;
pub(crate) mod decode;

use crate::pool::{Lease, Pool};
use crate::sql::{own_rows_of, quote_ident, quote_literal, table_sql_name};
use crate::{Chunk, PostgresSource, SnapshotId, SourceError};
use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use copy::{CopyParser, Next};
use decode::{display_key, Decoder, Element, Wire};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use migrate_core::{LogicalType, Table, TargetDialect};
use migrate_dialect::TypeMaps;
use migrate_source::{ReadColumn, ReadSpec, ReadValue};
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use tokio_postgres::types::{Kind, Type};
use tokio_postgres::{Client, CopyOutStream};

/// How one column is selected and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnRead {
    /// The SELECT-list expression (`"c"`, `concat("c")`, `to_json("c")::text`).
    pub expr: String,
    pub wire: Wire,
}

/// The SELECT-list expressions that produce each column's canonical value, given the column
/// types the server reports for the table (domains resolved to their base types).
pub(crate) async fn plan_columns(
    client: &Client,
    table: &Table,
) -> Result<Vec<ColumnRead>, SourceError> {
    let values: Vec<Value<'_>> = table
        .columns
        .iter()
        .map(|c| Value {
            name: &c.name.value,
            sql: quote_ident(&c.name.value),
            data_type: &c.data_type,
            source_type: &c.source_type,
        })
        .collect();
    plan_values(client, table, &values).await
}

/// One value to select from a table: a column or an expression over its columns.
pub(crate) struct Value<'a> {
    /// The batch column's name, for messages.
    pub name: &'a str,
    /// SQL over the table's columns: a quoted column, or an expression in parentheses.
    pub sql: String,
    pub data_type: &'a LogicalType,
    /// What the value was in the source, for messages.
    pub source_type: &'a str,
}

/// The SELECT-list expressions that produce each value's canonical form, given the types the
/// server reports for the plain values (domains resolved to their base types).
pub(crate) async fn plan_values(
    client: &Client,
    table: &Table,
    values: &[Value<'_>],
) -> Result<Vec<ColumnRead>, SourceError> {
    let select = format!(
        "SELECT {} FROM {}",
        values
            .iter()
            .map(|v| v.sql.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        table_sql_name(table)
    );
    let statement = client
        .prepare(&select)
        .await
        .map_err(SourceError::query(format!("describing {}", table.name)))?;
    values
        .iter()
        .zip(statement.columns())
        .map(|(value, described)| {
            let read = choose(&value.sql, base_type(described.type_()), value.data_type);
            Decoder::new(read.wire, &migrate_batch::data_type(value.data_type))
                .map(|_| read)
                .ok_or_else(|| SourceError::Unsupported {
                    table: table.name.to_string(),
                    column: value.name.to_string(),
                    message: format!(
                        "type {} can't be extracted as {}",
                        value.source_type, value.data_type
                    ),
                })
        })
        .collect()
}

pub(crate) fn base_type(ty: &Type) -> &Type {
    match ty.kind() {
        Kind::Domain(base) => base_type(base),
        _ => ty,
    }
}

/// The wire format of a type whose binary form is decoded natively.
pub(crate) fn native(ty: &Type) -> Option<Wire> {
    if matches!(ty.kind(), Kind::Enum(_)) {
        return Some(Wire::Text);
    }
    Some(match *ty {
        Type::BOOL => Wire::Bool,
        Type::INT2 => Wire::Int2,
        Type::INT4 => Wire::Int4,
        Type::INT8 => Wire::Int8,
        Type::OID => Wire::Oid,
        Type::FLOAT4 => Wire::Float4,
        Type::FLOAT8 => Wire::Float8,
        Type::NUMERIC => Wire::Numeric,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON => Wire::Text,
        Type::JSONB => Wire::Jsonb,
        Type::BYTEA => Wire::Bytea,
        Type::DATE => Wire::Date,
        Type::TIME => Wire::Time,
        Type::TIMETZ => Wire::TimeTz,
        Type::TIMESTAMP => Wire::Timestamp,
        Type::TIMESTAMPTZ => Wire::TimestampTz,
        Type::INTERVAL => Wire::Interval,
        Type::UUID => Wire::Uuid,
        Type::INET | Type::CIDR => Wire::Inet,
        Type::MACADDR | Type::MACADDR8 => Wire::MacAddr,
        Type::BIT | Type::VARBIT => Wire::Bits,
        // Arrays arrive as `array_send`; the full load reads them with to_json (see `choose`).
        Type::BOOL_ARRAY => Wire::Array(Element::Bool),
        Type::INT2_ARRAY => Wire::Array(Element::Int2),
        Type::INT4_ARRAY => Wire::Array(Element::Int4),
        Type::INT8_ARRAY => Wire::Array(Element::Int8),
        Type::FLOAT4_ARRAY => Wire::Array(Element::Float4),
        Type::FLOAT8_ARRAY => Wire::Array(Element::Float8),
        Type::NUMERIC_ARRAY => Wire::Array(Element::Numeric),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY | Type::NAME_ARRAY => {
            Wire::Array(Element::Text)
        }
        Type::JSON_ARRAY => Wire::Array(Element::Json),
        Type::JSONB_ARRAY => Wire::Array(Element::Jsonb),
        Type::UUID_ARRAY => Wire::Array(Element::Uuid),
        _ => return None,
    })
}

/// The type's output function applied to a value, NULL kept.
pub(crate) use migrate_checksum::postgres_output_text as text_of;

/// Whether the full load reads values of `logical` as `to_json`'s text.
pub(crate) fn reads_as_json(logical: &LogicalType) -> bool {
    matches!(
        logical,
        LogicalType::Array(_) | LogicalType::Map(..) | LogicalType::Struct(_)
    )
}

/// How the full load reads a value `column` (SQL) of type `ty` as canonical type `logical`.
pub(crate) fn choose(column: &str, ty: &Type, logical: &LogicalType) -> ColumnRead {
    let read = |expr: String, wire| ColumnRead { expr, wire };
    let as_is = native(ty).map(|wire| read(column.to_string(), wire));
    match logical {
        _ if reads_as_json(logical) => read(format!("to_json({column})::text"), Wire::Text),
        LogicalType::Union(_) => read(text_of(column), Wire::Text),
        LogicalType::SmallInt | LogicalType::Integer | LogicalType::BigInt => as_is
            .filter(|r| matches!(r.wire, Wire::Int2 | Wire::Int4 | Wire::Int8 | Wire::Oid))
            .unwrap_or_else(|| read(format!("({})::int8", text_of(column)), Wire::Int8)),
        LogicalType::Decimal { .. } | LogicalType::Numeric => match *ty {
            Type::NUMERIC => read(column.to_string(), Wire::Numeric),
            // money's text carries a currency symbol; its numeric cast is exact.
            Type::MONEY => read(format!("{column}::numeric"), Wire::Numeric),
            _ => read(format!("({})::numeric", text_of(column)), Wire::Numeric),
        },
        LogicalType::Geometry | LogicalType::Geography => {
            match builtin_geometry_wkb(column, ty.name()) {
                Some(wkb) => read(wkb, Wire::Bytea),
                None if matches!(ty.name(), "geometry" | "geography") => {
                    read(format!("ST_AsBinary({column})"), Wire::Bytea)
                }
                None => as_is.unwrap_or_else(|| read(column.to_string(), Wire::Bytea)),
            }
        }
        LogicalType::Xml => read(text_of(column), Wire::Text),
        // Text-like canonical types: native text, or the output function's text.
        LogicalType::Char { .. }
        | LogicalType::Varchar { .. }
        | LogicalType::Text
        | LogicalType::Json
        | LogicalType::Uuid => as_is
            .filter(|r| matches!(r.wire, Wire::Text | Wire::Jsonb | Wire::Uuid))
            .unwrap_or_else(|| read(text_of(column), Wire::Text)),
        // Everything else must arrive in its own binary form (checked by the caller).
        _ => as_is.unwrap_or_else(|| read(column.to_string(), Wire::Bytea)),
    }
}

/// The well-known binary (big-endian, as `ST_AsBinary` reads it) of `value` (SQL) of one of
/// PostgreSQL's built-in geometric types with an OGC equivalent, built from the type's binary
/// `send` form, whose doubles are big-endian already: a point is a Point; a line segment a
/// LineString of its two points; a path a LineString (a closed one ends on its first point
/// again); a polygon a Polygon of one ring, closed; a box the Polygon of its corners, from the
/// lower left as PostGIS draws a box. `None` for other types. NULL stays NULL.
fn builtin_geometry_wkb(value: &str, type_name: &str) -> Option<String> {
    // Byte order 0 (big-endian), then the geometry type: 1 Point, 2 LineString, 3 Polygon.
    const POINT: &str = "decode('0000000001', 'hex')";
    const LINESTRING: &str = "decode('0000000002', 'hex')";
    const ONE_RING_POLYGON: &str = "decode('000000000300000001', 'hex')";
    let v = format!("({value})");
    Some(match type_name {
        "point" => format!("{POINT} || point_send({v})"),
        "lseg" => format!("{LINESTRING} || int4send(2) || lseg_send({v})"),
        // path_send: a closed flag byte, the number of points, the points.
        "path" => format!(
            "CASE WHEN isclosed({v}) \
             THEN {LINESTRING} || int4send(npoints({v}) + 1) || substr(path_send({v}), 6) || substr(path_send({v}), 6, 16) \
             ELSE {LINESTRING} || substr(path_send({v}), 2) END"
        ),
        // poly_send: the number of points, the points.
        "polygon" => format!(
            "{ONE_RING_POLYGON} || int4send(npoints({v}) + 1) || substr(poly_send({v}), 5) || substr(poly_send({v}), 5, 16)"
        ),
        // box_send: the upper right corner (x, y), then the lower left one.
        "box" => {
            let s = format!("box_send({v})");
            let (lower_left, upper_right) = (format!("substr({s}, 17, 16)"), format!("substr({s}, 1, 16)"));
            let upper_left = format!("substr({s}, 17, 8) || substr({s}, 9, 8)");
            let lower_right = format!("substr({s}, 1, 8) || substr({s}, 25, 8)");
            format!(
                "{ONE_RING_POLYGON} || int4send(5) || {lower_left} || {upper_left} || {upper_right} || {lower_right} || {lower_left}"
            )
        }
        _ => return None,
    })
}

/// Decodes the rows of one chunk into batches.
struct Batcher {
    table: String,
    columns: Vec<String>,
    schema: SchemaRef,
    decoders: Vec<Decoder>,
    /// Positions and wires of the primary key columns, to name a row in errors.
    key: Vec<(usize, Wire)>,
    chunk: u32,
    rows_in_batch: usize,
    /// Bytes of the values in the batch, as received.
    bytes_in_batch: usize,
    rows_in_chunk: u64,
}

/// A batch is closed once its values reach this many bytes, whatever `batch_rows` says: wide
/// rows (large text, bytea) keep a batch's memory near this size.
const BATCH_BYTES: usize = 32 << 20;

impl Batcher {
    fn row(&mut self, bytes: &[u8], fields: &[Option<Range<usize>>]) -> Result<(), SourceError> {
        if fields.len() != self.decoders.len() {
            return Err(SourceError::Protocol {
                context: format!("reading {}", self.table),
                message: format!(
                    "{} fields in a row of {} columns",
                    fields.len(),
                    self.decoders.len()
                ),
            });
        }
        self.rows_in_chunk += 1;
        for (i, (decoder, field)) in self.decoders.iter_mut().zip(fields).enumerate() {
            let value = field.clone().map(|r| &bytes[r]);
            if let Err(error) = decoder.append(value) {
                let row = if self.key.is_empty() {
                    format!("#{} of chunk {}", self.rows_in_chunk, self.chunk)
                } else {
                    self.key
                        .iter()
                        .map(|&(k, wire)| {
                            let key = fields[k].clone().map(|r| &bytes[r]);
                            format!("{}={}", self.columns[k], display_key(wire, key))
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                return Err(SourceError::Unrepresentable {
                    table: self.table.clone(),
                    column: self.columns[i].clone(),
                    row,
                    reason: error.reason,
                    action: error.action,
                });
            }
        }
        self.rows_in_batch += 1;
        self.bytes_in_batch += fields
            .iter()
            .flatten()
            .map(ExactSizeIterator::len)
            .sum::<usize>();
        Ok(())
    }

    fn full(&self, batch_rows: usize) -> bool {
        self.rows_in_batch >= batch_rows || self.bytes_in_batch >= BATCH_BYTES
    }

    fn finish(&mut self) -> Result<RecordBatch, SourceError> {
        self.rows_in_batch = 0;
        self.bytes_in_batch = 0;
        let arrays = self.decoders.iter_mut().map(Decoder::finish).collect();
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| SourceError::Protocol {
            context: format!("reading {}", self.table),
            message: e.to_string(),
        })
    }
}

struct Reading {
    _lock: tokio::sync::OwnedMutexGuard<()>,
    copy: Pin<Box<CopyOutStream>>,
    parser: CopyParser,
    batcher: Batcher,
    fields: Vec<Option<Range<usize>>>,
    batch_rows: usize,
}

/// The connection a chunk read runs on: a source's own, or one leased from a snapshot's pool
/// for as long as the stream lives.
pub(crate) enum Connection<'a> {
    Own(&'a PostgresSource),
    Pool(&'a Pool),
}

/// The connection of a running read.
enum Held<'a> {
    Own(&'a PostgresSource),
    Leased(Lease<'a>),
}

impl Held<'_> {
    fn source(&self) -> &PostgresSource {
        match self {
            Held::Own(source) => source,
            Held::Leased(lease) => lease.source(),
        }
    }
}

enum State<'a> {
    Start(Connection<'a>),
    Reading(Held<'a>, Box<Reading>),
    Done,
}

/// The SQL of each value of `read`, checked against its table: a quoted column for
/// [`ReadValue::Column`], a `CAST` to the PostgreSQL type the converter emits for the column's
/// canonical type for [`ReadValue::Cast`] and [`ReadValue::Expression`] (to `text` for a
/// string type: see below).
pub(crate) fn values(read: &ReadSpec) -> Result<Vec<Value<'_>>, SourceError> {
    let unsupported = |column: &ReadColumn, message: String| SourceError::Unsupported {
        table: read.table.name.to_string(),
        column: column.name.clone(),
        message,
    };
    read.columns
        .iter()
        .map(|column| {
            let source_column = |name: &str| {
                read.table
                    .columns
                    .iter()
                    .find(|c| c.name.value == name)
                    .ok_or_else(|| {
                        unsupported(
                            column,
                            format!("reads source column `{name}`, which the table does not have"),
                        )
                    })
            };
            let target_type = || {
                TypeMaps::builtin()
                    .target(TargetDialect::Postgres)
                    .map_target(&column.data_type)
                    .map(|mapped| mapped.value)
                    .map_err(|e| unsupported(column, format!("no PostgreSQL type to cast to: {e}")))
            };
            // PostgreSQL's CAST to varchar(n) or char(n) cuts a longer value without a word: the
            // value is read whole, and the target column's bound refuses it, naming the row.
            let cast_type = || match column.data_type.is_character() {
                true => Ok("text".to_string()),
                false => target_type(),
            };
            let (sql, source_type) = match &column.value {
                ReadValue::Column(name) => {
                    let source = source_column(name)?;
                    (quote_ident(name), source.source_type.as_str())
                }
                ReadValue::Cast(name) => {
                    let source = source_column(name)?;
                    (
                        format!("(CAST({} AS {}))", quote_ident(name), cast_type()?),
                        source.source_type.as_str(),
                    )
                }
                ReadValue::Expression(expression) => (
                    format!("(CAST(({expression}) AS {}))", cast_type()?),
                    "an expression",
                ),
            };
            Ok(Value {
                name: &column.name,
                sql,
                data_type: &column.data_type,
                source_type,
            })
        })
        .collect()
}

/// Begins a read-only `REPEATABLE READ` transaction, in `snapshot` when given.
///
/// A stream dropped early leaves its transaction open: the `ROLLBACK` first ends it (a mere
/// warning when there is none).
pub(crate) fn begin_sql(snapshot: Option<&SnapshotId>) -> String {
    let mut begin = "ROLLBACK; BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;".to_string();
    if let Some(id) = snapshot {
        begin.push_str(&format!(
            " SET TRANSACTION SNAPSHOT {};",
            quote_literal(&id.0)
        ));
    }
    begin
}

/// `(chunk predicate) AND (filter)`.
pub(crate) fn predicate(read: &ReadSpec, chunk: &Chunk) -> String {
    let chunk = crate::chunk_predicate(chunk);
    match &read.filter {
        Some(filter) => format!("({chunk}) AND ({filter})"),
        None => chunk,
    }
}

/// Streams the rows of `chunk` matching `read.filter` as batches of `read.columns`; see
/// [`PostgresSource::read_chunk`] for the contract.
pub(crate) fn read_stream<'a, R>(
    connection: Connection<'a>,
    snapshot: Option<SnapshotId>,
    read: R,
    chunk: &Chunk,
    batch_rows: usize,
) -> BoxStream<'a, Result<RecordBatch, SourceError>>
where
    R: std::ops::Deref<Target = ReadSpec> + Clone + Send + Sync + 'a,
{
    let predicate = predicate(&read, chunk);
    let index = chunk.index;
    let batch_rows = batch_rows.max(1);
    futures::stream::try_unfold(State::Start(connection), move |state| {
        let snapshot = snapshot.clone();
        let predicate = predicate.clone();
        let read = read.clone();
        async move {
            let (held, mut reading) = match state {
                State::Done => return Ok(None),
                State::Reading(held, reading) => (held, reading),
                State::Start(connection) => {
                    let held = match connection {
                        Connection::Own(source) => Held::Own(source),
                        Connection::Pool(pool) => Held::Leased(pool.lease().await?),
                    };
                    let reading = held
                        .source()
                        .start(snapshot.as_ref(), &read, &predicate, index, batch_rows)
                        .await?;
                    (held, Box::new(reading))
                }
            };
            match reading.next_batch(&held.source().client).await? {
                (Some(batch), true) => Ok(Some((batch, State::Done))),
                (Some(batch), false) => Ok(Some((batch, State::Reading(held, reading)))),
                (None, _) => Ok(None),
            }
        }
    })
    .boxed()
}

impl PostgresSource {
    /// Streams the rows of `chunk` as record batches of at most `batch_rows` rows (an empty chunk
    /// yields no batch), with the schema [`migrate_batch::schema`]`(table)`, values exact per the
    /// conventions of `migrate_batch`. [`crate::SharedSnapshot`] reads a [`ReadSpec`] (chosen
    /// columns, casts, expressions, a row filter) the same way, on pooled connections.
    ///
    /// Consistency: the chunk is read in one `REPEATABLE READ, READ ONLY` transaction; with
    /// `snapshot`, that transaction imports it (`SET TRANSACTION SNAPSHOT`), so every chunk read
    /// with the same id sees the same data. The [`crate::Snapshot`] must still be open when the
    /// stream starts (its first poll). Rows come in no particular order.
    ///
    /// The connection is held until the stream ends; dropping the stream early leaves the
    /// transaction to be rolled back by the next read. Memory: one batch plus one row.
    ///
    /// A value with no exact representation (a timestamp after 294247 AD, NaN in
    /// `numeric(p,s)`) ends the stream with [`SourceError::Unrepresentable`] naming the table,
    /// column and row key.
    pub fn read_chunk<'a>(
        &'a self,
        snapshot: Option<&SnapshotId>,
        table: &'a Table,
        chunk: &Chunk,
        batch_rows: usize,
    ) -> impl Stream<Item = Result<RecordBatch, SourceError>> + 'a {
        read_stream(
            Connection::Own(self),
            snapshot.cloned(),
            Arc::new(ReadSpec::whole_table(table)),
            chunk,
            batch_rows,
        )
    }

    async fn start(
        &self,
        snapshot: Option<&SnapshotId>,
        read: &ReadSpec,
        predicate: &str,
        chunk: u32,
        batch_rows: usize,
    ) -> Result<Reading, SourceError> {
        let lock = self.reader.clone().lock_owned().await;
        let table = &read.table;
        let context = format!("reading chunk {chunk} of {}", table.name);
        self.client
            .batch_execute(&begin_sql(snapshot))
            .await
            .map_err(SourceError::query(context.clone()))?;
        let values = values(read)?;
        let columns = plan_values(&self.client, table, &values).await?;
        let decoders = columns
            .iter()
            .zip(&read.columns)
            .filter_map(|(c, r)| Decoder::new(c.wire, &migrate_batch::data_type(&r.data_type)))
            .collect();
        // Key columns read as they are name a row in errors; otherwise its position does.
        let key: Vec<(usize, Wire)> = table
            .primary_key()
            .unwrap_or_default()
            .iter()
            .filter_map(|k| {
                read.columns
                    .iter()
                    .position(|c| c.value == ReadValue::Column(k.value.clone()))
            })
            .map(|i| (i, columns[i].wire))
            .collect();
        let key = if key.len() == table.primary_key().map_or(0, <[_]>::len) {
            key
        } else {
            Vec::new()
        };
        let query = format!(
            "COPY (SELECT {} FROM {} WHERE {predicate}) TO STDOUT (FORMAT binary)",
            columns
                .iter()
                .map(|c| c.expr.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            own_rows_of(&self.client, table).await?,
        );
        let copy = self
            .client
            .copy_out(&query)
            .await
            .map_err(SourceError::query(context))?;
        let schema = Schema::new(
            read.columns
                .iter()
                .map(|c| migrate_batch::field(&c.name, &c.data_type, c.nullable))
                .collect::<Vec<_>>(),
        );
        Ok(Reading {
            _lock: lock,
            copy: Box::pin(copy),
            parser: CopyParser::default(),
            batcher: Batcher {
                table: table.name.to_string(),
                columns: read.columns.iter().map(|c| c.name.clone()).collect(),
                schema: Arc::new(schema),
                decoders,
                key,
                chunk,
                rows_in_batch: 0,
                bytes_in_batch: 0,
                rows_in_chunk: 0,
            },
            fields: Vec::new(),
            batch_rows,
        })
    }
}

impl Reading {
    /// The next batch, and whether the chunk is finished (its transaction committed).
    async fn next_batch(
        &mut self,
        client: &Client,
    ) -> Result<(Option<RecordBatch>, bool), SourceError> {
        let context = format!(
            "reading chunk {} of {}",
            self.batcher.chunk, self.batcher.table
        );
        let protocol = |message: String| SourceError::Protocol {
            context: context.clone(),
            message,
        };
        loop {
            match self.parser.next_row(&mut self.fields).map_err(protocol)? {
                Next::Row => {
                    self.batcher.row(self.parser.bytes(), &self.fields)?;
                    if self.batcher.full(self.batch_rows) {
                        return Ok((Some(self.batcher.finish()?), false));
                    }
                }
                Next::NeedMore | Next::End => match self.copy.next().await {
                    Some(data) => {
                        let data = data.map_err(SourceError::query(context.clone()))?;
                        self.parser.push(data);
                    }
                    None => {
                        if !self.parser.trailer_seen() || self.parser.has_partial() {
                            return Err(protocol("the COPY stream ended early".into()));
                        }
                        client
                            .batch_execute("COMMIT")
                            .await
                            .map_err(SourceError::query("ending a chunk read"))?;
                        let last = (self.batcher.rows_in_batch > 0).then(|| self.batcher.finish());
                        return Ok((last.transpose()?, true));
                    }
                },
            }
        }
    }
}
