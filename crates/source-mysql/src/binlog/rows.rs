//! Row events to change batches: what a TableMap says about a table's columns, how each binlog
//! value becomes the value the snapshot reader would give (same canonical types, same Arrow
//! builders), and the bounded batch being filled.
//!
//! The binlog's values differ from the binary protocol's in a few ways, all normalized here
//! before the shared decoder (`read::decode`) sees them: strings are in the column's character
//! set (converted to UTF-8), ENUM is an index and SET a bit mask (turned into their text with the
//! TableMap's value lists), TIMESTAMP is seconds since the epoch (turned into the UTC date-time
//! the snapshot session reads), YEAR is text (`1900` for the zero year), geometries carry their
//! SRID before the WKB (dropped, as `ST_AsBinary` does) and MySQL's JSON is binary (printed).
//! TIME2 and the old temporal formats are read by [`Temporal`], not `mysql_common`.

use super::charset::Charset;
use super::temporal::Temporal;
use crate::read::decode::{display_value, Decoder, ValueError, Wire};
use crate::read::{base_type, find_column};
use crate::sql::display_name;
use crate::SourceError;
use arrow_array::builder::StringBuilder;
use arrow_array::{new_null_array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use migrate_core::civil_from_days;
use migrate_core::{LogicalType, QualifiedName, SourceDialect, Table};
use migrate_dialect::parse_type_text;
use migrate_source::{change_schema, key_columns, START_OVER};
use mysql_async::binlog::events::{OptionalMetaExtractor, OptionalMetadataField, TableMapEvent};
use mysql_async::binlog::value::BinlogValue;
use mysql_async::consts::ColumnType;
use mysql_async::Value;
use mysql_common::io::ParseBuf;
use std::collections::HashMap;
use std::sync::Arc;

/// A batch is handed on at this many rows...
pub const BATCH_ROWS: usize = 8192;
/// ... or once its values reach this many bytes, whichever comes first.
pub const BATCH_BYTES: usize = 16 << 20;

/// What the latest TableMap of a table says about its columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MapColumn {
    pub name: String,
    pub column_type: ColumnType,
    /// The character set of a character column (`None`: not a character column).
    pub charset: Option<String>,
    /// ENUM or SET value lists, raw bytes in `charset`.
    pub values: Vec<Vec<u8>>,
    /// The TableMap's metadata bytes of the column (length, precision, ...).
    pub meta: Vec<u8>,
    /// A numeric column declared UNSIGNED.
    pub unsigned: bool,
}

/// What a TableMap event says about its table: the columns, and the primary key's column names
/// in key order (empty: none).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MapTable {
    pub columns: Vec<MapColumn>,
    pub primary_key: Vec<String>,
}

/// Reads the columns of a TableMap event (binlog_row_metadata=FULL: names, charsets, ENUM/SET
/// values, primary key). `collations` maps the server's collation ids to character set names.
/// `mariadb`: the server is MariaDB, which also writes a character set (`binary`) for each
/// geometry column (it counts them as BLOBs), where MySQL writes none.
pub(crate) fn map_columns(
    tme: &TableMapEvent<'_>,
    collations: &HashMap<u16, String>,
    mariadb: bool,
) -> Result<MapTable, String> {
    let count = tme.columns_count() as usize;
    let extractor = OptionalMetaExtractor::new(tme.iter_optional_meta())
        .map_err(|e| format!("its optional metadata can't be read ({e})"))?;
    let names = extractor
        .iter_column_name()
        .map(|n| n.map(|n| n.name().into_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("its column names can't be read ({e})"))?;
    if names.len() != count {
        return Err(format!(
            "it names {} of its {count} columns: the server does not log column names (binlog_row_metadata is not FULL)",
            names.len()
        ));
    }
    let mut enum_values = Vec::new();
    let mut set_values = Vec::new();
    for field in tme.iter_optional_meta() {
        match field.map_err(|e| format!("its optional metadata can't be read ({e})"))? {
            OptionalMetadataField::EnumStrValue(values) => {
                for column in values.iter_values() {
                    let column = column.map_err(|e| e.to_string())?;
                    enum_values.push(
                        column
                            .values()
                            .iter()
                            .map(|v| v.value_raw().to_vec())
                            .collect::<Vec<_>>(),
                    );
                }
            }
            OptionalMetadataField::SetStrValue(values) => {
                for column in values.iter_values() {
                    let column = column.map_err(|e| e.to_string())?;
                    set_values.push(
                        column
                            .values()
                            .iter()
                            .map(|v| v.value_raw().to_vec())
                            .collect::<Vec<_>>(),
                    );
                }
            }
            _ => {}
        }
    }
    let mut enum_values = enum_values.into_iter();
    let mut set_values = set_values.into_iter();
    let mut signedness = extractor.iter_signedness();
    let mut charsets = extractor.iter_charset();
    let mut enum_set_charsets = extractor.iter_enum_and_set_charset();
    let charset_name = |id: Option<Result<u16, std::io::Error>>| -> Result<String, String> {
        match id {
            Some(Ok(id)) => collations.get(&id).cloned().ok_or_else(|| {
                format!(
                    "collation id {id} is unknown to the server's information_schema.COLLATIONS"
                )
            }),
            Some(Err(e)) => Err(format!("its column character sets can't be read ({e})")),
            None => Err("it has no column character sets (binlog_row_metadata is not FULL)".into()),
        }
    };
    let mut columns = Vec::with_capacity(count);
    for (index, name) in names.into_iter().enumerate() {
        let column_type = tme
            .get_column_type(index)
            .map_err(|e| format!("column {name} has a type this stream does not know ({e})"))?
            .ok_or_else(|| format!("column {name} has no type"))?;
        let (charset, values) = if column_type.is_character_type() {
            (Some(charset_name(charsets.next())?), Vec::new())
        } else if column_type.is_enum_or_set_type() {
            let values = if column_type.is_enum_type() {
                enum_values.next()
            } else {
                set_values.next()
            }
            .ok_or_else(|| {
                format!(
                    "column {name} has no ENUM/SET value list (binlog_row_metadata is not FULL)"
                )
            })?;
            (Some(charset_name(enum_set_charsets.next())?), values)
        } else {
            if mariadb && column_type == ColumnType::MYSQL_TYPE_GEOMETRY {
                // Its entry is skipped: the next character column's is after it.
                charsets
                    .next()
                    .transpose()
                    .map_err(|e| format!("its column character sets can't be read ({e})"))?;
            }
            (None, Vec::new())
        };
        let unsigned = column_type.is_numeric_type() && signedness.next().unwrap_or(false);
        let meta = tme.get_column_metadata(index).unwrap_or(&[]).to_vec();
        columns.push(MapColumn {
            name,
            column_type,
            charset,
            values,
            meta,
            unsigned,
        });
    }
    let primary_key = extractor
        .iter_primary_key()
        .map(|index| {
            let index = index.map_err(|e| format!("its primary key can't be read ({e})"))?;
            usize::try_from(index)
                .ok()
                .and_then(|i| columns.get(i))
                .map(|c| c.name.clone())
                .ok_or_else(|| {
                    format!("its primary key names column {index}, which it does not have")
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(MapTable {
        columns,
        primary_key,
    })
}

impl MapColumn {
    /// Whether a column of catalog type `source_type` (`int(11) unsigned`, `varchar(10)`) is
    /// logged as this TableMap column: its binlog type and signedness, and what the TableMap
    /// carries of its size (length in bytes, precision and scale, fraction digits, bits, BLOB
    /// size, ENUM/SET labels). `false` also where it can't tell (a type it does not know, the
    /// old temporal formats, which carry no metadata, a character set of unknown width): the
    /// caller then reads the catalog.
    pub fn logs(&self, source_type: &str) -> bool {
        use ColumnType as T;
        let Ok(ty) = parse_type_text(SourceDialect::Mysql, source_type) else {
            return false;
        };
        let arg = |i: usize| ty.args.get(i).copied().flatten();
        let number =
            |binlog: ColumnType| self.column_type == binlog && self.unsigned == ty.unsigned;
        // Characters of the column's type times the character set's widest character.
        let bytes = |chars: Option<i64>| {
            let width = match self.charset.as_deref() {
                Some("utf8mb4" | "utf16" | "utf16le" | "utf32") => 4,
                Some("utf8mb3" | "utf8") => 3,
                Some("ucs2") => 2,
                Some("latin1" | "ascii" | "binary") => 1,
                _ => return None,
            };
            chars.map(|n| n * width)
        };
        // The TableMap's metadata bytes are these numbers.
        let meta_is = |numbers: &[Option<i64>]| {
            self.meta.len() == numbers.len()
                && self
                    .meta
                    .iter()
                    .zip(numbers)
                    .all(|(b, n)| Some(i64::from(*b)) == *n)
        };
        let fraction = || meta_is(&[Some(arg(0).unwrap_or(0))]);
        let labels = || match self.charset.as_deref().and_then(Charset::from_name) {
            Some(set) => {
                self.values.len() == ty.labels.len()
                    && self.values.iter().zip(&ty.labels).all(|(value, label)| {
                        set.decode(value.clone())
                            .is_ok_and(|v| v == label.as_bytes())
                    })
            }
            None => false,
        };
        let blob = |size: i64, binary: bool| {
            self.column_type == T::MYSQL_TYPE_BLOB
                && meta_is(&[Some(size)])
                && binary == (self.charset.as_deref() == Some("binary"))
        };
        match ty.name.as_str() {
            "TINYINT" => number(T::MYSQL_TYPE_TINY),
            "SMALLINT" => number(T::MYSQL_TYPE_SHORT),
            "MEDIUMINT" => number(T::MYSQL_TYPE_INT24),
            "INT" | "INTEGER" => number(T::MYSQL_TYPE_LONG),
            "BIGINT" => number(T::MYSQL_TYPE_LONGLONG),
            "FLOAT" => number(T::MYSQL_TYPE_FLOAT),
            "DOUBLE" => number(T::MYSQL_TYPE_DOUBLE),
            "DECIMAL" | "NUMERIC" => number(T::MYSQL_TYPE_NEWDECIMAL) && meta_is(&[arg(0), arg(1)]),
            "BIT" => {
                let bits = arg(0).unwrap_or(1);
                self.column_type == T::MYSQL_TYPE_BIT && meta_is(&[Some(bits % 8), Some(bits / 8)])
            }
            "YEAR" => self.column_type == T::MYSQL_TYPE_YEAR,
            "DATE" => matches!(self.column_type, T::MYSQL_TYPE_NEWDATE | T::MYSQL_TYPE_DATE),
            "DATETIME" => self.column_type == T::MYSQL_TYPE_DATETIME2 && fraction(),
            "TIMESTAMP" => self.column_type == T::MYSQL_TYPE_TIMESTAMP2 && fraction(),
            "TIME" => self.column_type == T::MYSQL_TYPE_TIME2 && fraction(),
            "CHAR" | "BINARY" => {
                // The real type with bits 8-9 of the length folded in, then the length's low byte.
                let length = match self.meta.as_slice() {
                    [high, low] if high & 0x30 != 0x30 => {
                        i64::from(*low) | (i64::from((high & 0x30) ^ 0x30) << 4)
                    }
                    [_, low] => i64::from(*low),
                    _ => return false,
                };
                self.column_type == T::MYSQL_TYPE_STRING
                    && (ty.name == "BINARY") == (self.charset.as_deref() == Some("binary"))
                    && bytes(Some(arg(0).unwrap_or(1))) == Some(length)
            }
            "VARCHAR" | "VARBINARY" => {
                let length = match self.meta.as_slice() {
                    [low, high] => i64::from(u16::from_le_bytes([*low, *high])),
                    _ => return false,
                };
                self.column_type == T::MYSQL_TYPE_VARCHAR
                    && (ty.name == "VARBINARY") == (self.charset.as_deref() == Some("binary"))
                    && bytes(arg(0)) == Some(length)
            }
            "TINYTEXT" => blob(1, false),
            "TEXT" => blob(2, false),
            "MEDIUMTEXT" => blob(3, false),
            "LONGTEXT" => blob(4, false),
            "TINYBLOB" => blob(1, true),
            "BLOB" => blob(2, true),
            "MEDIUMBLOB" => blob(3, true),
            "LONGBLOB" => blob(4, true),
            "ENUM" => self.column_type == T::MYSQL_TYPE_ENUM && labels(),
            "SET" => self.column_type == T::MYSQL_TYPE_SET && labels(),
            "JSON" => self.column_type == T::MYSQL_TYPE_JSON,
            "GEOMETRY" | "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT" | "MULTILINESTRING"
            | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" => self.column_type == T::MYSQL_TYPE_GEOMETRY,
            _ => false,
        }
    }
}

/// How a binlog value becomes the snapshot reader's value.
#[derive(Debug, Clone)]
enum Conv {
    /// As `mysql_common` decodes it (numbers, DECIMAL text, DATE/DATETIME/TIME fields, BIT).
    Plain,
    /// Bytes of a character column: to UTF-8 from the column's character set.
    Text(Charset),
    /// Bytes kept as they are (binary strings, BLOBs).
    Binary,
    /// 1-based index into the value list (texts, already UTF-8); 0 is MySQL's '' error value.
    Enum(Vec<Vec<u8>>),
    /// Bit mask over the value list.
    Set(Vec<Vec<u8>>),
    /// Seconds since the epoch (`sec` or `sec.usec` text, or an integer): a UTC date-time.
    Timestamp,
    /// `YYYY` text; 1900 stands for the zero year.
    Year,
    /// Four bytes of SRID, then WKB.
    Geometry,
    /// MySQL's binary JSON.
    Jsonb,
    /// BINARY(n): the binlog drops the trailing zero bytes that the column (and the snapshot
    /// reader) pads the value with.
    PadBinary(usize),
    /// A signed MEDIUMINT: `mysql_common` reads its three bytes without extending the sign.
    SignedInt24,
}

#[derive(Debug, Clone)]
struct ColumnLayout {
    name: String,
    /// Position of the column in the binlog row.
    binlog: usize,
    conv: Conv,
    wire: Wire,
    data_type: DataType,
}

/// One watched table as the current TableMap lays it out: how to decode its rows into
/// [`change_schema`] batches.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub table: Table,
    pub name: String,
    pub schema: SchemaRef,
    columns: Vec<ColumnLayout>,
    /// Indexes into `columns` of the primary-key columns, in key order.
    keys: Vec<usize>,
    /// Every column of the TableMap, to parse rows.
    binlog: Vec<MapColumn>,
    /// Per column of `binlog`: a temporal value read by [`Temporal`], not `mysql_common`.
    temporal: Vec<Option<Temporal>>,
}

fn unsupported(table: &Table, column: &str, message: String) -> SourceError {
    SourceError::Unsupported {
        table: display_name(table),
        column: column.to_string(),
        message,
    }
}

impl Layout {
    /// The layout of `table` (whose columns must all be in `map`, by name) over the binlog
    /// columns `map`.
    pub fn new(table: Table, map: &[MapColumn]) -> Result<Layout, SourceError> {
        let mut columns = Vec::with_capacity(table.columns.len());
        for column in &table.columns {
            let name = &column.name.value;
            let binlog = map
                .iter()
                .position(|m| m.name == *name)
                .or_else(|| map.iter().position(|m| m.name.eq_ignore_ascii_case(name)))
                .ok_or_else(|| {
                    unsupported(
                        &table,
                        name,
                        "the column is not in the binlog's table map".into(),
                    )
                })?;
            let mapped = &map[binlog];
            let charset = || -> Result<Option<Charset>, SourceError> {
                match mapped.charset.as_deref() {
                    None | Some("binary") => Ok(None),
                    Some(set) => Charset::from_name(set).map(Some).ok_or_else(|| {
                        unsupported(&table, name, format!("its character set {set} can't be converted to UTF-8 by change capture (utf8mb4, utf8mb3, latin1, ascii, ucs2, utf16, utf16le and utf32 can)"))
                    }),
                }
            };
            let texts = |values: &[Vec<u8>]| -> Result<Vec<Vec<u8>>, SourceError> {
                let set = charset()?.unwrap_or(Charset::Utf8);
                values
                    .iter()
                    .map(|v| set.decode(v.clone()))
                    .collect::<Result<_, _>>()
                    .map_err(|e| unsupported(&table, name, format!("a value of its type: {e}")))
            };
            use ColumnType as T;
            let conv = match mapped.column_type {
                T::MYSQL_TYPE_ENUM => Conv::Enum(texts(&mapped.values)?),
                T::MYSQL_TYPE_SET => Conv::Set(texts(&mapped.values)?),
                T::MYSQL_TYPE_TIMESTAMP | T::MYSQL_TYPE_TIMESTAMP2 => Conv::Timestamp,
                T::MYSQL_TYPE_YEAR => Conv::Year,
                T::MYSQL_TYPE_GEOMETRY => Conv::Geometry,
                T::MYSQL_TYPE_JSON => Conv::Jsonb,
                T::MYSQL_TYPE_INT24
                    if !column.source_type.to_ascii_lowercase().contains("unsigned") =>
                {
                    Conv::SignedInt24
                }
                t if t.is_character_type() => {
                    match (charset()?, binary_length(&column.source_type)) {
                        (Some(set), _) => Conv::Text(set),
                        (None, Some(n)) => Conv::PadBinary(n),
                        (None, None) => Conv::Binary,
                    }
                }
                _ => Conv::Plain,
            };
            // Types stored as binary strings whose canonical type is text (MariaDB's UUID,
            // INET6): the snapshot reads their text form through CAST, the binlog has bytes.
            let textual = matches!(
                column.data_type,
                LogicalType::Char { .. }
                    | LogicalType::Varchar { .. }
                    | LogicalType::Text
                    | LogicalType::Json
                    | LogicalType::Uuid
            );
            if textual && matches!(conv, Conv::Binary) && !is_binary_string(&column.source_type) {
                return Err(unsupported(
                    &table,
                    name,
                    format!("type {} arrives in the binlog as bytes, not as its text form: change capture can't read it; map it to a binary type (change-data-type) or leave the column out", column.source_type),
                ));
            }
            let data_type = migrate_batch::data_type(&column.data_type);
            let wire = if base_type(&column.source_type) == "bit" {
                Wire::Bits
            } else {
                Wire::Plain
            };
            if Decoder::new(&data_type, wire).is_none() {
                return Err(unsupported(
                    &table,
                    name,
                    format!("{} can't be read as {data_type}", column.data_type),
                ));
            }
            columns.push(ColumnLayout {
                name: name.clone(),
                binlog,
                conv,
                wire,
                data_type,
            });
        }
        let keys = key_columns(&table)
            .iter()
            .filter_map(|key| columns.iter().position(|c| c.name == *key))
            .collect();
        let temporal = map
            .iter()
            .map(|m| {
                let source_type = find_column(&table, &m.name)
                    .ok()
                    .map(|c| c.source_type.as_str());
                Temporal::of(m.column_type, &m.meta, source_type)
                    .map_err(|e| unsupported(&table, &m.name, format!("{e}; {START_OVER}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Layout {
            name: display_name(&table),
            schema: Arc::new(change_schema(&table)),
            table,
            columns,
            keys,
            binlog: map.to_vec(),
            temporal,
        })
    }
}

/// `n` of a `binary(n)` source type.
fn binary_length(source_type: &str) -> Option<usize> {
    if crate::read::base_type(source_type.trim()) != "binary" {
        return None;
    }
    crate::read::type_argument(source_type).map(|n| n as usize)
}

/// One row image of a row event: the value of each TableMap column (`None`: not in the image).
pub(crate) type RowImage = Vec<Option<BinlogValue<'static>>>;

impl Layout {
    /// Reads one row image from `buf`: the NULL bitmap over the columns `present` marks, then
    /// their values. `present[i]` says whether column `i` is in the image (the event's column
    /// bitmap).
    pub fn parse_image<'a>(
        &'a self,
        buf: &mut ParseBuf<'a>,
        present: &[bool],
    ) -> std::io::Result<RowImage> {
        if present.len() != self.binlog.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "the row event has {} columns, its table map {}",
                    present.len(),
                    self.binlog.len()
                ),
            ));
        }
        let count = present.iter().filter(|p| **p).count();
        let nulls = buf.checked_eat(count.div_ceil(8)).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the row's NULL bitmap is cut short",
            )
        })?;
        let mut values = Vec::with_capacity(self.binlog.len());
        let mut image = 0;
        for ((column, present), temporal) in self.binlog.iter().zip(present).zip(&self.temporal) {
            if !present {
                values.push(None);
                continue;
            }
            let null = nulls[image / 8] & (1 << (image % 8)) != 0;
            image += 1;
            values.push(Some(if null {
                BinlogValue::Value(Value::NULL)
            } else if let Some(temporal) = temporal {
                BinlogValue::Value(temporal.read(buf)?)
            } else {
                let ctx = (
                    column.column_type,
                    column.meta.as_slice(),
                    column.unsigned,
                    false,
                );
                buf.parse::<BinlogValue<'_>>(ctx)?.into_owned()
            }));
        }
        Ok(values)
    }
}

/// BINARY/VARBINARY/BLOB source types, whose canonical type may be text through a mapping but
/// whose bytes are what the snapshot reads too.
fn is_binary_string(source_type: &str) -> bool {
    matches!(
        base_type(source_type).as_str(),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
    )
}

fn bad(reason: String, action: &str) -> ValueError {
    ValueError {
        reason,
        action: action.to_string(),
    }
}

const CHARSET_ACTION: &str = concat!("the column's bytes are not in its declared character set: fix the data in the source (or map the column to a binary type with change-data-type), then ", migrate_source::start_over!());

/// The snapshot reader's value for one binlog value of a column.
fn normalize(value: BinlogValue<'_>, conv: &Conv) -> Result<Value, ValueError> {
    let value = match value {
        BinlogValue::Value(value) => value,
        BinlogValue::Jsonb(jsonb) => {
            let json = serde_json::Value::try_from(jsonb)
                .map_err(|e| bad(format!("the binary JSON value can't be printed ({e})"), "report this as a bug in migrate, with the value"))?;
            return Ok(Value::Bytes(json.to_string().into_bytes()));
        }
        BinlogValue::JsonDiff(_) => {
            return Err(bad(
                "the row holds a partial JSON update (binlog_row_value_options=PARTIAL_JSON), not the value".into(),
                &format!("set binlog_row_value_options to '' on the source, then {START_OVER}"),
            ))
        }
    };
    if value == Value::NULL {
        return Ok(Value::NULL);
    }
    Ok(match (conv, value) {
        (Conv::Text(set), Value::Bytes(bytes)) => {
            Value::Bytes(set.decode(bytes).map_err(|e| bad(e, CHARSET_ACTION))?)
        }
        (Conv::Enum(values), Value::Int(index)) => match index {
            0 => Value::Bytes(Vec::new()),
            i => Value::Bytes(
                usize::try_from(i - 1)
                    .ok()
                    .and_then(|i| values.get(i))
                    .cloned()
                    .ok_or_else(|| {
                        bad(
                            format!(
                                "ENUM index {i} is beyond the column's {} values",
                                values.len()
                            ),
                            &format!(
                                "{START_OVER}: the table's definition changed since this event"
                            ),
                        )
                    })?,
            ),
        },
        (Conv::Set(values), Value::Bytes(mask)) => {
            let mut text = Vec::new();
            for (i, member) in values.iter().enumerate() {
                if mask.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0) {
                    if !text.is_empty() {
                        text.push(b',');
                    }
                    text.extend_from_slice(member);
                }
            }
            Value::Bytes(text)
        }
        (Conv::Timestamp, value) => {
            let (seconds, micros) = match &value {
                Value::Int(s) => (*s, 0),
                Value::Bytes(text) => {
                    let text = String::from_utf8_lossy(text);
                    let (s, us) = text.split_once('.').unwrap_or((&text, "0"));
                    match (s.parse::<i64>(), us.parse::<u32>()) {
                        (Ok(s), Ok(us)) => (s, us),
                        _ => {
                            return Err(bad(
                                format!("`{text}` is not a TIMESTAMP value"),
                                "report this as a bug in migrate",
                            ))
                        }
                    }
                }
                other => {
                    return Err(bad(
                        format!("{} is not a TIMESTAMP value", display_value(other)),
                        "report this as a bug in migrate",
                    ))
                }
            };
            if seconds == 0 && micros == 0 {
                // 1970-01-01 00:00:00 UTC is outside TIMESTAMP's range: it is the zero date.
                Value::Date(0, 0, 0, 0, 0, 0, 0)
            } else {
                let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
                let second = seconds.rem_euclid(86_400);
                Value::Date(
                    y as u16,
                    m as u8,
                    d as u8,
                    (second / 3600) as u8,
                    (second % 3600 / 60) as u8,
                    (second % 60) as u8,
                    micros,
                )
            }
        }
        (Conv::Year, Value::Bytes(text)) => match std::str::from_utf8(&text)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
        {
            Some(1900) => Value::Int(0),
            Some(year) => Value::Int(year),
            None => {
                return Err(bad(
                    format!("`{}` is not a YEAR value", String::from_utf8_lossy(&text)),
                    "report this as a bug in migrate",
                ))
            }
        },
        (Conv::PadBinary(n), Value::Bytes(mut bytes)) => {
            if bytes.len() < *n {
                bytes.resize(*n, 0);
            }
            Value::Bytes(bytes)
        }
        (Conv::SignedInt24, Value::Int(v)) if v >= 1 << 23 => Value::Int(v - (1 << 24)),
        (Conv::Geometry, Value::Bytes(bytes)) if bytes.len() >= 4 => {
            Value::Bytes(bytes[4..].to_vec())
        }
        (
            Conv::Plain
            | Conv::Binary
            | Conv::Jsonb
            | Conv::Year
            | Conv::Geometry
            | Conv::SignedInt24,
            value,
        ) => value,
        (Conv::Text(_) | Conv::Enum(_) | Conv::Set(_) | Conv::PadBinary(_), other) => other,
    })
}

/// Change rows of one table being gathered into a batch.
pub(crate) struct Pending {
    pub table: QualifiedName,
    schema: SchemaRef,
    op: StringBuilder,
    before: Vec<Decoder>,
    after: Vec<Decoder>,
    pub rows: usize,
    pub bytes: usize,
}

impl Pending {
    pub fn new(layout: &Layout) -> Pending {
        let decoder = |c: &ColumnLayout| {
            // Checked when the layout was made.
            Decoder::new(&c.data_type, c.wire).expect("the layout checked the decoder")
        };
        Pending {
            table: layout.table.name.clone(),
            schema: layout.schema.clone(),
            op: StringBuilder::new(),
            before: layout
                .keys
                .iter()
                .map(|&k| decoder(&layout.columns[k]))
                .collect(),
            after: layout.columns.iter().map(decoder).collect(),
            rows: 0,
            bytes: 0,
        }
    }

    pub fn is_full(&self) -> bool {
        self.rows >= BATCH_ROWS || self.bytes >= BATCH_BYTES
    }

    /// Appends one row change: an insert has only `after`, a delete only `before`, an update
    /// both. On error nothing of the row is kept (the stream stops anyway).
    pub fn push(
        &mut self,
        layout: &Layout,
        before: Option<RowImage>,
        after: Option<RowImage>,
    ) -> Result<(), SourceError> {
        let op = match (&before, &after) {
            (None, Some(_)) => "I",
            (Some(_), Some(_)) => "U",
            (Some(_), None) => "D",
            (None, None) => return Ok(()),
        };
        let describe = |row: &RowImage| -> String {
            if layout.keys.is_empty() {
                return "(table without a primary key)".into();
            }
            layout
                .keys
                .iter()
                .map(|&k| {
                    let c = &layout.columns[k];
                    let value = match row.get(c.binlog).and_then(Option::as_ref) {
                        Some(BinlogValue::Value(v)) => display_value(v),
                        _ => "?".into(),
                    };
                    format!("{}={value}", c.name)
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Reading a binlog value fails with advice of its own (a setting to change); a value
        // the decoders refuse gets the change's advice, not the full load's ("fix the row and run
        // again" can't help a change that stays in the log).
        let failed =
            |column: &ColumnLayout, row: &RowImage, e: ValueError| SourceError::Unrepresentable {
                table: layout.name.clone(),
                column: column.name.clone(),
                row: describe(row),
                reason: e.reason,
                action: e.action,
            };
        let refused = |column: &ColumnLayout, row: &RowImage, e: ValueError| {
            failed(
                column,
                row,
                ValueError {
                    action: migrate_source::UNREPRESENTABLE_CHANGE_ACTION.into(),
                    ..e
                },
            )
        };
        let missing = |column: &ColumnLayout, row: &RowImage| SourceError::Unrepresentable {
            table: layout.name.clone(),
            column: column.name.clone(),
            row: describe(row),
            reason: "the column is missing from the binlog's row image".into(),
            action: format!("set binlog_row_image=FULL on the source, then {START_OVER}"),
        };
        match &before {
            Some(row) => {
                for (decoder, &k) in self.before.iter_mut().zip(&layout.keys) {
                    let column = &layout.columns[k];
                    let value = row
                        .get(column.binlog)
                        .and_then(Option::as_ref)
                        .cloned()
                        .ok_or_else(|| missing(column, row))?;
                    let value =
                        normalize(value, &column.conv).map_err(|e| failed(column, row, e))?;
                    decoder.append(value).map_err(|e| refused(column, row, e))?;
                }
            }
            None => self.before.iter_mut().for_each(Decoder::append_null),
        }
        match after {
            Some(mut row) => {
                for (decoder, column) in self.after.iter_mut().zip(&layout.columns) {
                    // Keys stay in the row for messages; other values are moved out.
                    let value = if layout
                        .keys
                        .iter()
                        .any(|&k| layout.columns[k].binlog == column.binlog)
                    {
                        row.get(column.binlog).and_then(Option::as_ref).cloned()
                    } else {
                        row.get_mut(column.binlog).and_then(Option::take)
                    };
                    let value = value.ok_or_else(|| missing(column, &row))?;
                    self.bytes += value_size(&value);
                    let value =
                        normalize(value, &column.conv).map_err(|e| failed(column, &row, e))?;
                    decoder
                        .append(value)
                        .map_err(|e| refused(column, &row, e))?;
                }
            }
            None => self.after.iter_mut().for_each(Decoder::append_null),
        }
        self.op.append_value(op);
        self.rows += 1;
        self.bytes += 16;
        Ok(())
    }

    /// The batch of the rows gathered, in [`change_schema`] layout.
    pub fn finish(mut self) -> Result<RecordBatch, SourceError> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        arrays.push(Arc::new(self.op.finish()));
        // Row image FULL: every column has its value.
        arrays.push(new_null_array(&DataType::Utf8, self.rows));
        arrays.extend(self.before.iter_mut().map(Decoder::finish));
        arrays.extend(self.after.iter_mut().map(Decoder::finish));
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| SourceError::Catalog {
            context: format!("building a change batch of {}", self.table),
            message: e.to_string(),
        })
    }
}

fn value_size(value: &BinlogValue<'_>) -> usize {
    match value {
        BinlogValue::Value(Value::Bytes(bytes)) => bytes.len(),
        BinlogValue::Value(_) => 8,
        BinlogValue::Jsonb(_) | BinlogValue::JsonDiff(_) => 64,
    }
}

/// The canonical definition of a table as the TableMap lays it out: the TableMap's column names
/// and order are the authority (the binlog can be behind the catalog); each column's canonical
/// type comes from the current catalog's column of that name (`catalog`), or, for a column the
/// catalog no longer has (dropped since this event), from the definition the stream knew
/// (`known`). A column in neither (added and dropped again since this event) can't be typed: a
/// definite error. Constraints are the catalog's.
pub(crate) fn table_from_map(
    catalog: Option<&Table>,
    known: &Table,
    map: &[MapColumn],
) -> Result<Table, SourceError> {
    let mut table = catalog.unwrap_or(known).clone();
    table.columns = map
        .iter()
        .map(|m| {
            catalog
                .and_then(|c| find_column(c, &m.name).ok())
                .or_else(|| find_column(known, &m.name).ok())
                .cloned()
                .ok_or_else(|| {
                    unsupported(
                        known,
                        &m.name,
                        format!("the binlog has this column but neither the known definition nor the current catalog has it (it was added and dropped again since): its type is unknown; {START_OVER}"),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_images_are_parsed_with_the_table_map_and_batched() {
        use arrow_array::{Array, Int32Array, LargeStringArray, StringArray};
        use migrate_core::{Column, Constraint, ConstraintKind, ConstraintState, Ident};
        let mut table = Table::new(QualifiedName::new(Some(Ident::new("s")), Ident::new("t")));
        table.columns = vec![
            Column::new(Ident::new("id"), "int(11)", LogicalType::Integer),
            Column::new(Ident::new("v"), "varchar(10)", LogicalType::Text),
        ];
        table.constraints = vec![Constraint {
            name: None,
            kind: ConstraintKind::PrimaryKey(vec![Ident::new("id")]),
            state: ConstraintState::default(),
            index: Default::default(),
        }];
        let map = vec![
            MapColumn {
                name: "id".into(),
                column_type: ColumnType::MYSQL_TYPE_LONG,
                charset: None,
                values: Vec::new(),
                meta: Vec::new(),
                unsigned: false,
            },
            MapColumn {
                name: "v".into(),
                column_type: ColumnType::MYSQL_TYPE_VARCHAR,
                charset: Some("latin1".into()),
                values: Vec::new(),
                meta: vec![10, 0],
                unsigned: false,
            },
        ];
        let layout = Layout::new(table, &map).unwrap();
        // Row 1: id 42, v = latin1 "Ña"; row 2: id 7, v NULL (bit 1 of the NULL bitmap).
        let mut bytes = vec![0b00];
        bytes.extend(42i32.to_le_bytes());
        bytes.extend([2, 0xD1, b'a']);
        bytes.push(0b10);
        bytes.extend(7i32.to_le_bytes());
        let mut buf = ParseBuf(&bytes);
        let first = layout.parse_image(&mut buf, &[true, true]).unwrap();
        let second = layout.parse_image(&mut buf, &[true, true]).unwrap();
        assert!(buf.is_empty());
        let mut pending = Pending::new(&layout);
        pending.push(&layout, None, Some(first.clone())).unwrap();
        pending
            .push(&layout, Some(first), Some(second.clone()))
            .unwrap();
        pending.push(&layout, Some(second), None).unwrap();
        let batch = pending.finish().unwrap();
        let op = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!((op.value(0), op.value(1), op.value(2)), ("I", "U", "D"));
        let before = batch
            .column(2)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert!(before.is_null(0));
        assert_eq!((before.value(1), before.value(2)), (42, 7));
        let id = batch
            .column(3)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(id.value(1), 7);
        assert!(id.is_null(2));
        let v = batch
            .column(4)
            .as_any()
            .downcast_ref::<LargeStringArray>()
            .unwrap();
        assert_eq!(v.value(0), "Ña");
        assert!(v.is_null(1));
        // A row event whose column count differs from the layout's TableMap is refused.
        assert!(layout.parse_image(&mut ParseBuf(&bytes), &[true]).is_err());
        // A cut row is an error, not a panic.
        assert!(layout
            .parse_image(&mut ParseBuf(&bytes[..3]), &[true, true])
            .is_err());
    }

    #[test]
    fn timestamps_are_utc_date_times() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
        assert_eq!(civil_from_days(-354_285), (1000, 1, 1));
        let v = normalize(
            BinlogValue::Value(Value::Bytes(b"2147483647.999999".to_vec())),
            &Conv::Timestamp,
        )
        .unwrap();
        assert_eq!(v, Value::Date(2038, 1, 19, 3, 14, 7, 999_999));
        let v = normalize(
            BinlogValue::Value(Value::Bytes(b"0".to_vec())),
            &Conv::Timestamp,
        )
        .unwrap();
        assert_eq!(v, Value::Date(0, 0, 0, 0, 0, 0, 0));
    }

    #[test]
    fn enums_sets_and_years() {
        let values = vec![b"a".to_vec(), b"b c".to_vec(), b"it's".to_vec()];
        let e = |i| {
            normalize(
                BinlogValue::Value(Value::Int(i)),
                &Conv::Enum(values.clone()),
            )
        };
        assert_eq!(e(3).unwrap(), Value::Bytes(b"it's".to_vec()));
        assert_eq!(e(0).unwrap(), Value::Bytes(Vec::new()));
        let beyond = e(4).err().map(|e| e.action).unwrap_or_default();
        assert!(beyond.starts_with(START_OVER), "{beyond}");
        let s = normalize(
            BinlogValue::Value(Value::Bytes(vec![0b101])),
            &Conv::Set(values.clone()),
        )
        .unwrap();
        assert_eq!(s, Value::Bytes(b"a,it's".to_vec()));
        let y = |t: &[u8]| {
            normalize(BinlogValue::Value(Value::Bytes(t.to_vec())), &Conv::Year).unwrap()
        };
        assert_eq!(y(b"1900"), Value::Int(0));
        assert_eq!(y(b"2155"), Value::Int(2155));
        let latin1 = normalize(
            BinlogValue::Value(Value::Bytes(vec![0xD1])),
            &Conv::Text(Charset::Latin1),
        )
        .unwrap();
        assert_eq!(latin1, Value::Bytes("Ñ".as_bytes().to_vec()));
        assert!(normalize(
            BinlogValue::Value(Value::Bytes(vec![0xD1])),
            &Conv::Text(Charset::Utf8)
        )
        .is_err());
        let m = |v| normalize(BinlogValue::Value(Value::Int(v)), &Conv::SignedInt24).unwrap();
        assert_eq!(m(0x80_0000), Value::Int(-8_388_608));
        assert_eq!(m(0xFF_FFFF), Value::Int(-1));
        assert_eq!(m(8_388_607), Value::Int(8_388_607));
        assert_eq!(binary_length("binary(4)"), Some(4));
        assert_eq!(binary_length("varbinary(4)"), None);
        let padded = normalize(
            BinlogValue::Value(Value::Bytes(vec![1])),
            &Conv::PadBinary(3),
        )
        .unwrap();
        assert_eq!(padded, Value::Bytes(vec![1, 0, 0]));
    }

    #[test]
    fn table_map_columns_are_matched_with_catalog_types() {
        let column = |column_type, charset: Option<&str>, meta: &[u8], unsigned| MapColumn {
            name: "c".into(),
            column_type,
            charset: charset.map(String::from),
            values: Vec::new(),
            meta: meta.to_vec(),
            unsigned,
        };
        use ColumnType as T;
        let int = column(T::MYSQL_TYPE_LONG, None, &[], false);
        assert!(int.logs("int(11)"));
        assert!(!int.logs("bigint(20)") && !int.logs("int(10) unsigned"));
        assert!(column(T::MYSQL_TYPE_LONG, None, &[], true).logs("int(10) unsigned"));
        // VARCHAR: the length in bytes, up to 4 per utf8mb4 character.
        let varchar = column(T::MYSQL_TYPE_VARCHAR, Some("utf8mb4"), &[40, 0], false);
        assert!(varchar.logs("varchar(10)") && !varchar.logs("varchar(100)"));
        assert!(!varchar.logs("varbinary(40)"));
        assert!(
            column(T::MYSQL_TYPE_VARCHAR, Some("utf8mb4"), &[0x90, 1], false).logs("varchar(100)")
        );
        // CHAR(100) in utf8mb4 is 400 bytes: bits 8-9 of the length are folded into the type byte.
        let char_400 = column(T::MYSQL_TYPE_STRING, Some("utf8mb4"), &[0xee, 0x90], false);
        assert!(char_400.logs("char(100)") && !char_400.logs("char(99)"));
        let decimal = column(T::MYSQL_TYPE_NEWDECIMAL, None, &[12, 3], false);
        assert!(decimal.logs("decimal(12,3)") && !decimal.logs("decimal(14,3)"));
        let datetime = column(T::MYSQL_TYPE_DATETIME2, None, &[6], false);
        assert!(datetime.logs("datetime(6)") && !datetime.logs("datetime"));
        let text = column(T::MYSQL_TYPE_BLOB, Some("utf8mb4"), &[2], false);
        assert!(text.logs("text") && !text.logs("mediumtext") && !text.logs("blob"));
        let mut labels = column(T::MYSQL_TYPE_ENUM, Some("latin1"), &[], false);
        labels.values = vec![b"a".to_vec(), b"it's".to_vec(), vec![0xE9]];
        assert!(labels.logs("enum('a','it''s','\u{e9}')"));
        assert!(!labels.logs("enum('a','it''s','\u{e9}','new')"));
        // Old temporal formats carry no metadata, and unknown types can't be told: not matched.
        assert!(!column(T::MYSQL_TYPE_DATETIME, None, &[], false).logs("datetime"));
        assert!(!column(T::MYSQL_TYPE_STRING, Some("binary"), &[0xfe, 16], false).logs("uuid"));
    }
}
