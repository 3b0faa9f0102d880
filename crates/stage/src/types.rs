//! The Arrow types a stage accepts, per format. Anything else is refused before a byte is
//! written, with the column named: better no chunk than a chunk that reads back different.

use crate::{Format, StageError};
use arrow::datatypes::{DataType, Schema, TimeUnit};

/// Types both formats round-trip exactly (see the conformance tests):
/// Boolean, Int16/32/64, Float32/64, Decimal128/256 (any precision), Utf8, LargeUtf8, Binary,
/// LargeBinary, Date32, Time64(µs), Timestamp(µs) without time zone or with `UTC`.
/// CSV refuses, per value, strings equal to its NULL marker (see the `csv` module).
pub(crate) fn check_schema(schema: &Schema, format: Format) -> Result<(), StageError> {
    for field in schema.fields() {
        let supported = match field.data_type() {
            DataType::Boolean
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _)
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::Date32
            | DataType::Time64(TimeUnit::Microsecond)
            | DataType::Timestamp(TimeUnit::Microsecond, None) => true,
            DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) => tz.as_ref() == "UTC",
            _ => false,
        };
        if !supported {
            return Err(StageError::Unsupported {
                format,
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
                reason: "not a staged type (Boolean, Int16/32/64, Float32/64, Decimal128/256, \
                         Utf8, LargeUtf8, Binary, LargeBinary, Date32, Time64(µs), \
                         Timestamp(µs) without time zone or in UTC)"
                    .into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    #[test]
    fn refuses_other_types_naming_the_column() {
        for t in [
            DataType::UInt64,
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Paris".into())),
            DataType::Utf8View,
        ] {
            let schema = Schema::new(vec![Field::new("c", t.clone(), true)]);
            for format in [Format::Parquet, Format::CsvGzip] {
                let err = check_schema(&schema, format).unwrap_err();
                assert!(err.to_string().contains("\"c\""), "{err}");
            }
        }
    }
}
