//! How rows of canonical types travel between sources, staging and warehouses: as Arrow record
//! batches whose column types are fixed per [`LogicalType`], chosen so that every value the
//! supported sources can hold survives the trip exactly.
//!
//! | canonical | Arrow | value convention |
//! | --- | --- | --- |
//! | `boolean` | Boolean | |
//! | `smallint` / `integer` / `bigint` | Int16 / Int32 / Int64 | |
//! | `decimal(p,s)`, p <= 38 | Decimal128(p, s) | |
//! | `decimal(p,s)`, 38 < p <= 76 | Decimal256(p, s) | |
//! | `decimal(p,s)`, p > 76, and `numeric` | LargeUtf8 | plain decimal text (`-12.5000`), or `NaN`, `Infinity`, `-Infinity` where the source has them: arbitrary precision can't be fixed-width |
//! | `real` / `double` | Float32 / Float64 | NaN and infinities kept, `-0.0` kept |
//! | `char` / `varchar` / `text` | LargeUtf8 | 64-bit offsets: a batch of large values can't overflow |
//! | `binary` / `varbinary` / `blob` | LargeBinary | |
//! | `date` | Date32 | days since 1970-01-01, proleptic Gregorian: ±5.8 million years; `infinity` / `-infinity` (PostgreSQL's) are `i32::MAX` / `i32::MIN` ([`DATE_INFINITY`]) |
//! | `time` | Time64(µs) | |
//! | `timetz` | LargeUtf8 | `HH:MM:SS[.ffffff]+hh[:mm]` |
//! | `timestamp(p)` | Timestamp(µs, none) | microseconds: the precision of PostgreSQL, MySQL and Redshift; a source with finer values must report what it rounds; `infinity` / `-infinity` are `i64::MAX` / `i64::MIN` ([`TIMESTAMP_INFINITY`]) |
//! | `timestamptz(p)` | Timestamp(µs, "UTC") | the instant, in UTC; infinities as for `timestamp` |
//! | `interval_ym` / `interval_ds` | LargeUtf8 | ISO 8601 duration (`P1Y2M`, `P3DT4H5M6.789S`): Arrow intervals don't survive Parquet exactly |
//! | `json` / `xml` | LargeUtf8 | the document text |
//! | `uuid` | Utf8 | lower-case `8-4-4-4-12` hex |
//! | `geometry` / `geography` | LargeBinary | WKB |
//! | `array`, `map`, `struct`, `union` | LargeUtf8 | JSON text (arrays as JSON arrays, maps and structs as objects); numbers stay as written |
//!
//! The infinity values are the extremes of their Arrow types: a source whose finite value would
//! land exactly on one refuses it rather than turn it into an infinity, and a writer for a target
//! without infinities (Redshift) refuses them rather than write the extreme as a date.
//!
//! Each field also carries its canonical type in its metadata (`migrate.type`), so a reader of a
//! staged file knows what the values mean without the catalog.

mod builder;

pub use builder::ColumnBuilder;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, TimestampMicrosecondType};
use arrow_array::Array;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use migrate_core::{LogicalType, Table};
use std::collections::HashMap;
use std::sync::Arc;

/// Field metadata key holding the canonical type text (`decimal(10,2)`).
pub const TYPE_KEY: &str = "migrate.type";

/// The time zone of `timestamptz` values.
pub const UTC: &str = "UTC";

/// [`UTC`] as an offset, for Arrow's parsers and formatters: they take offsets without a time zone
/// database, and the instant is the same.
pub const UTC_OFFSET: &str = "+00:00";

/// `date 'infinity'` as Date32; `date '-infinity'` is [`DATE_NEG_INFINITY`].
pub const DATE_INFINITY: i32 = i32::MAX;
/// `date '-infinity'` as Date32.
pub const DATE_NEG_INFINITY: i32 = i32::MIN;
/// `timestamp[tz] 'infinity'` as Timestamp(µs); `-infinity` is [`TIMESTAMP_NEG_INFINITY`].
pub const TIMESTAMP_INFINITY: i64 = i64::MAX;
/// `timestamp[tz] '-infinity'` as Timestamp(µs).
pub const TIMESTAMP_NEG_INFINITY: i64 = i64::MIN;

/// The infinity a Date32 value stands for, if it is one.
pub fn date_infinity(days: i32) -> Option<Infinity> {
    match days {
        DATE_INFINITY => Some(Infinity::Positive),
        DATE_NEG_INFINITY => Some(Infinity::Negative),
        _ => None,
    }
}

/// The infinity a Timestamp(µs) value stands for, if it is one.
pub fn timestamp_infinity(micros: i64) -> Option<Infinity> {
    match micros {
        TIMESTAMP_INFINITY => Some(Infinity::Positive),
        TIMESTAMP_NEG_INFINITY => Some(Infinity::Negative),
        _ => None,
    }
}

/// The infinity the value in `row` of `array` stands for, if it is one: only a date or
/// timestamp (µs) column holds them.
pub fn infinity_at(array: &dyn Array, row: usize) -> Option<Infinity> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Date32 => date_infinity(array.as_primitive::<Date32Type>().value(row)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            timestamp_infinity(array.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        _ => None,
    }
}

/// The first value of `array` that is an infinity ([`infinity_at`]): its row and which. Only a
/// date or timestamp (µs) column is scanned.
pub fn first_infinity(array: &dyn Array) -> Option<(usize, Infinity)> {
    match array.data_type() {
        DataType::Date32 | DataType::Timestamp(TimeUnit::Microsecond, _) => {
            (0..array.len()).find_map(|row| Some((row, infinity_at(array, row)?)))
        }
        _ => None,
    }
}

/// `infinity` or `-infinity` of a date or timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Infinity {
    Positive,
    Negative,
}

impl Infinity {
    /// As PostgreSQL writes it: `infinity`, `-infinity`.
    pub fn text(self) -> &'static str {
        match self {
            Infinity::Positive => "infinity",
            Infinity::Negative => "-infinity",
        }
    }
}

/// Decimals up to this precision fit in Decimal128.
const DECIMAL128_MAX_PRECISION: u32 = 38;
/// Decimals up to this precision fit in Decimal256.
const DECIMAL256_MAX_PRECISION: u32 = 76;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("column `{column}` has no `{TYPE_KEY}` metadata: the file was not written by migrate")]
    MissingType { column: String },
    #[error("column `{column}`: {message}")]
    InvalidType { column: String, message: String },
}

impl migrate_core::ErrorClass for BatchError {
    fn retry(&self) -> migrate_core::Retry {
        migrate_core::Retry::Definite
    }
}

/// The Arrow type that carries values of `ty`.
pub fn data_type(ty: &LogicalType) -> DataType {
    use LogicalType as L;
    match ty {
        L::Boolean => DataType::Boolean,
        L::SmallInt => DataType::Int16,
        L::Integer => DataType::Int32,
        L::BigInt => DataType::Int64,
        L::Decimal { precision, scale } if *precision <= DECIMAL128_MAX_PRECISION => {
            DataType::Decimal128(*precision as u8, *scale as i8)
        }
        L::Decimal { precision, scale } if *precision <= DECIMAL256_MAX_PRECISION => {
            DataType::Decimal256(*precision as u8, *scale as i8)
        }
        L::Real => DataType::Float32,
        L::Double => DataType::Float64,
        L::Binary { .. } | L::Varbinary { .. } | L::Blob | L::Geometry | L::Geography => {
            DataType::LargeBinary
        }
        L::Date => DataType::Date32,
        L::Time {
            with_time_zone: false,
            ..
        } => DataType::Time64(TimeUnit::Microsecond),
        L::Timestamp { with_time_zone, .. } => DataType::Timestamp(
            TimeUnit::Microsecond,
            with_time_zone.then(|| Arc::from(UTC)),
        ),
        L::Uuid => DataType::Utf8,
        L::Decimal { .. }
        | L::Numeric
        | L::Char { .. }
        | L::Varchar { .. }
        | L::Text
        | L::Time { .. }
        | L::IntervalYearMonth
        | L::IntervalDaySecond { .. }
        | L::Json
        | L::Xml
        | L::Array(_)
        | L::Map(..)
        | L::Struct(_)
        | L::Union(_) => DataType::LargeUtf8,
    }
}

/// The field for a column: its name, Arrow type, nullability and canonical type metadata.
pub fn field(name: &str, ty: &LogicalType, nullable: bool) -> Field {
    Field::new(name, data_type(ty), nullable)
        .with_metadata(HashMap::from([(TYPE_KEY.to_string(), ty.to_string())]))
}

/// The schema of a table's rows, columns in table order, named as in the source.
pub fn schema(table: &Table) -> Schema {
    Schema::new(
        table
            .columns
            .iter()
            .map(|column| field(&column.name.value, &column.data_type, column.nullable))
            .collect::<Vec<_>>(),
    )
}

/// The canonical type a field carries, checked against its Arrow type.
pub fn logical_type(field: &Field) -> Result<LogicalType, BatchError> {
    let text = field
        .metadata()
        .get(TYPE_KEY)
        .ok_or_else(|| BatchError::MissingType {
            column: field.name().clone(),
        })?;
    let ty = LogicalType::parse(text).map_err(|e| BatchError::InvalidType {
        column: field.name().clone(),
        message: e.to_string(),
    })?;
    let expected = data_type(&ty);
    if &expected != field.data_type() {
        return Err(BatchError::InvalidType {
            column: field.name().clone(),
            message: format!(
                "{ty} is carried as {expected}, but the field is {}",
                field.data_type()
            ),
        });
    }
    Ok(ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Column, Ident, LengthUnit, QualifiedName};

    #[test]
    fn decimals_choose_the_narrowest_exact_type() {
        let decimal = |precision, scale| LogicalType::Decimal { precision, scale };
        assert_eq!(data_type(&decimal(38, 10)), DataType::Decimal128(38, 10));
        assert_eq!(data_type(&decimal(39, 0)), DataType::Decimal256(39, 0));
        assert_eq!(data_type(&decimal(76, 76)), DataType::Decimal256(76, 76));
        assert_eq!(data_type(&decimal(77, 2)), DataType::LargeUtf8);
        assert_eq!(data_type(&LogicalType::Numeric), DataType::LargeUtf8);
    }

    #[test]
    fn every_canonical_type_round_trips_through_a_field() {
        let types = [
            "boolean",
            "smallint",
            "integer",
            "bigint",
            "decimal(10,2)",
            "decimal(50,5)",
            "decimal(100,0)",
            "numeric",
            "real",
            "double",
            "char(3 byte)",
            "varchar(20 char)",
            "text",
            "binary(16)",
            "varbinary(8)",
            "blob",
            "date",
            "time(6)",
            "timetz(6)",
            "timestamp(3)",
            "timestamptz(6)",
            "interval_ym",
            "interval_ds(6)",
            "json",
            "xml",
            "uuid",
            "geometry",
            "geography",
            "array<integer>",
            "map<text,integer>",
            "struct<a:integer,b:text>",
            "union<integer,text>",
        ];
        for text in types {
            let ty = LogicalType::parse(text).unwrap();
            let field = field("c", &ty, true);
            assert_eq!(logical_type(&field).unwrap(), ty, "{text}");
        }
    }

    #[test]
    fn timestamps_with_time_zone_are_utc_instants() {
        let ty = LogicalType::Timestamp {
            precision: 6,
            with_time_zone: true,
        };
        assert_eq!(
            data_type(&ty),
            DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")))
        );
    }

    #[test]
    fn infinities_are_the_extremes() {
        assert_eq!(date_infinity(i32::MAX), Some(Infinity::Positive));
        assert_eq!(date_infinity(i32::MIN), Some(Infinity::Negative));
        assert_eq!(date_infinity(0), None);
        assert_eq!(timestamp_infinity(i64::MAX), Some(Infinity::Positive));
        assert_eq!(
            timestamp_infinity(i64::MIN).map(Infinity::text),
            Some("-infinity")
        );
        assert_eq!(timestamp_infinity(i64::MAX - 1), None);
    }

    #[test]
    fn a_schema_follows_the_table() {
        let mut table = Table::new(QualifiedName::unqualified(Ident::new("t")));
        let mut id = Column::new(Ident::new("id"), "INT", LogicalType::Integer);
        id.nullable = false;
        table.columns.push(id);
        table.columns.push(Column::new(
            Ident::new("name"),
            "VARCHAR(10)",
            LogicalType::Varchar {
                length: 10,
                unit: LengthUnit::Char,
            },
        ));
        let schema = schema(&table);
        assert_eq!(schema.fields().len(), 2);
        assert!(!schema.field(0).is_nullable());
        assert_eq!(schema.field(1).data_type(), &DataType::LargeUtf8);
    }

    #[test]
    fn foreign_or_inconsistent_fields_are_rejected() {
        let plain = Field::new("x", DataType::Int32, true);
        assert!(matches!(
            logical_type(&plain),
            Err(BatchError::MissingType { .. })
        ));
        let lying = Field::new("x", DataType::Int64, true).with_metadata(HashMap::from([(
            TYPE_KEY.to_string(),
            "integer".to_string(),
        )]));
        assert!(matches!(
            logical_type(&lying),
            Err(BatchError::InvalidType { .. })
        ));
    }
}
