//! One Arrow builder per column of a batch, for every Arrow type [`crate::data_type`] gives: what
//! each source's decoder appends to, so the sources only say how to turn their wire values into
//! the column's values.

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Decimal256Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, LargeBinaryBuilder,
    LargeStringBuilder, StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::ArrayRef;
use arrow_schema::DataType;
use std::sync::Arc;

/// The builder of one column; decimals keep their precision and scale for the appender's checks.
pub enum ColumnBuilder {
    Bool(BooleanBuilder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    D128(Decimal128Builder, u8, i8),
    D256(Decimal256Builder, u8, i8),
    /// `uuid` (lower-case text).
    Utf8(StringBuilder),
    LargeUtf8(LargeStringBuilder),
    LargeBinary(LargeBinaryBuilder),
    Date32(Date32Builder),
    Time64(Time64MicrosecondBuilder),
    /// Microseconds, with the field's time zone when it has one.
    Timestamp(TimestampMicrosecondBuilder),
}

impl ColumnBuilder {
    /// A builder for `data_type`, or `None` for an Arrow type no canonical type uses.
    pub fn new(data_type: &DataType) -> Option<ColumnBuilder> {
        Some(match data_type {
            DataType::Boolean => ColumnBuilder::Bool(BooleanBuilder::new()),
            DataType::Int16 => ColumnBuilder::I16(Int16Builder::new()),
            DataType::Int32 => ColumnBuilder::I32(Int32Builder::new()),
            DataType::Int64 => ColumnBuilder::I64(Int64Builder::new()),
            DataType::Float32 => ColumnBuilder::F32(Float32Builder::new()),
            DataType::Float64 => ColumnBuilder::F64(Float64Builder::new()),
            DataType::Decimal128(p, s) => ColumnBuilder::D128(
                Decimal128Builder::new()
                    .with_precision_and_scale(*p, *s)
                    .ok()?,
                *p,
                *s,
            ),
            DataType::Decimal256(p, s) => ColumnBuilder::D256(
                Decimal256Builder::new()
                    .with_precision_and_scale(*p, *s)
                    .ok()?,
                *p,
                *s,
            ),
            DataType::Utf8 => ColumnBuilder::Utf8(StringBuilder::new()),
            DataType::LargeUtf8 => ColumnBuilder::LargeUtf8(LargeStringBuilder::new()),
            DataType::LargeBinary => ColumnBuilder::LargeBinary(LargeBinaryBuilder::new()),
            DataType::Date32 => ColumnBuilder::Date32(Date32Builder::new()),
            DataType::Time64(_) => ColumnBuilder::Time64(Time64MicrosecondBuilder::new()),
            DataType::Timestamp(_, None) => {
                ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::new())
            }
            DataType::Timestamp(_, Some(tz)) => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::new().with_timezone(tz.clone()),
            ),
            _ => return None,
        })
    }

    pub fn append_null(&mut self) {
        match self {
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::I16(b) => b.append_null(),
            ColumnBuilder::I32(b) => b.append_null(),
            ColumnBuilder::I64(b) => b.append_null(),
            ColumnBuilder::F32(b) => b.append_null(),
            ColumnBuilder::F64(b) => b.append_null(),
            ColumnBuilder::D128(b, ..) => b.append_null(),
            ColumnBuilder::D256(b, ..) => b.append_null(),
            ColumnBuilder::Utf8(b) => b.append_null(),
            ColumnBuilder::LargeUtf8(b) => b.append_null(),
            ColumnBuilder::LargeBinary(b) => b.append_null(),
            ColumnBuilder::Date32(b) => b.append_null(),
            ColumnBuilder::Time64(b) => b.append_null(),
            ColumnBuilder::Timestamp(b) => b.append_null(),
        }
    }

    /// The values appended since the last call, as an array; the builder starts over.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::I16(b) => Arc::new(b.finish()),
            ColumnBuilder::I32(b) => Arc::new(b.finish()),
            ColumnBuilder::I64(b) => Arc::new(b.finish()),
            ColumnBuilder::F32(b) => Arc::new(b.finish()),
            ColumnBuilder::F64(b) => Arc::new(b.finish()),
            ColumnBuilder::D128(b, ..) => Arc::new(b.finish()),
            ColumnBuilder::D256(b, ..) => Arc::new(b.finish()),
            ColumnBuilder::Utf8(b) => Arc::new(b.finish()),
            ColumnBuilder::LargeUtf8(b) => Arc::new(b.finish()),
            ColumnBuilder::LargeBinary(b) => Arc::new(b.finish()),
            ColumnBuilder::Date32(b) => Arc::new(b.finish()),
            ColumnBuilder::Time64(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::LogicalType;

    #[test]
    fn every_canonical_type_has_a_builder_of_its_arrow_type() {
        for text in [
            "boolean",
            "smallint",
            "integer",
            "bigint",
            "decimal(10,2)",
            "decimal(60,10)",
            "numeric",
            "real",
            "double",
            "text",
            "blob",
            "date",
            "time(6)",
            "timestamp(6)",
            "timestamptz(6)",
            "uuid",
            "json",
        ] {
            let ty = LogicalType::parse(text).expect(text);
            let data_type = crate::data_type(&ty);
            let mut builder = ColumnBuilder::new(&data_type).expect(text);
            builder.append_null();
            let array = builder.finish();
            assert_eq!(array.data_type(), &data_type, "{text}");
            assert_eq!((array.len(), array.null_count()), (1, 1), "{text}");
        }
        assert!(ColumnBuilder::new(&DataType::Float16).is_none());
    }
}
