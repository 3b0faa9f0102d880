//! One value of a record batch as messages show it: the row a target refused named by its key
//! (`id=7, valid_from=2023-01-01T00:00:00Z`), the staged value at fault.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use migrate_batch::{infinity_at, UTC_OFFSET};
use std::sync::Arc;

/// Longest value a message shows, in characters: a longer one is cut, and ends in `...`.
const SHOWN_CHARS: usize = 100;

/// `id=7, region=eu`: a row named by the values of its key columns (name and array) in `row`,
/// each as [`shown_value_text`] gives it.
pub fn key_text<'a>(
    columns: impl IntoIterator<Item = (&'a str, &'a ArrayRef)>,
    row: usize,
) -> String {
    columns
        .into_iter()
        .map(|(name, array)| format!("{name}={}", shown_value_text(array, row)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`value_text`], cut to [`SHOWN_CHARS`] characters: a value as a message shows it.
pub fn shown_value_text(array: &ArrayRef, row: usize) -> String {
    let text = value_text(array, row);
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

/// The value in `row` of `array` as Arrow displays it, with the batch convention's infinities as
/// `infinity`/`-infinity`, `NULL` for a null, and `?` where Arrow can't format it.
pub fn value_text(array: &ArrayRef, row: usize) -> String {
    if array.is_null(row) {
        return "NULL".into();
    }
    if let Some(infinity) = infinity_at(array, row) {
        return infinity.text().into();
    }
    // Arrow formats named time zones only with chrono-tz: `timestamptz` (UTC) by its offset.
    let array: ArrayRef = match array.data_type() {
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => Arc::new(
            array
                .as_primitive::<TimestampMicrosecondType>()
                .clone()
                .with_timezone(UTC_OFFSET),
        ),
        _ => Arc::clone(array),
    };
    ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())
        .and_then(|formatter| formatter.value(row).try_to_string())
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Date32Array, Int64Array, StringArray, TimestampMicrosecondArray};

    #[test]
    fn values_show_as_keys_name_them() {
        let utc: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![Some(1_700_000_000_500_000), Some(i64::MAX)])
                .with_timezone("UTC"),
        );
        assert_eq!(value_text(&utc, 0), "2023-11-14T22:13:20.500Z");
        assert_eq!(value_text(&utc, 1), "infinity");
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![Some(0), Some(i32::MIN), None]));
        assert_eq!(value_text(&dates, 0), "1970-01-01");
        assert_eq!(value_text(&dates, 1), "-infinity");
        assert_eq!(value_text(&dates, 2), "NULL");
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![7]));
        assert_eq!(value_text(&ids, 0), "7");
        let text: ArrayRef = Arc::new(StringArray::from(vec!["eu"]));
        assert_eq!(value_text(&text, 0), "eu");
    }
}
