//! Values of the binary protocol (`mysql_async::Value`) to Arrow builders, exactly.
//!
//! What arrives, by column type: integers as `Int`/`UInt` (by the UNSIGNED flag; YEAR too),
//! FLOAT as `Float(f32)`, DOUBLE as `Double(f64)` (the stored bits, no text round trip),
//! DATE/DATETIME/TIMESTAMP as `Date(y, m, d, h, mi, s, µs)`, TIME as `Time(negative, days, h, mi,
//! s, µs)`, and everything else as `Bytes`: DECIMAL as its exact text, strings in the connection
//! character set (utf8mb4), BLOBs and BINARY raw, BIT big-endian, JSON as text.

use arrow_array::ArrayRef;
use arrow_buffer::i256;
use arrow_schema::DataType;
use migrate_batch::ColumnBuilder;
use migrate_core::{civil_from_days, days_from_civil};
use mysql_async::Value;

/// How to read a column's `Bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    /// As the server sends the value (text for strings and decimals, raw for binaries).
    Plain,
    /// A `BIT(n)` column: big-endian bytes of an unsigned number.
    Bits,
}

/// Why one value can't be carried exactly; the reader adds table, column and row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueError {
    pub reason: String,
    pub action: String,
}

fn bad(reason: impl Into<String>, action: impl Into<String>) -> ValueError {
    ValueError {
        reason: reason.into(),
        action: action.into(),
    }
}

/// The value was of a kind the column's type can't come from: the read plan and the server
/// disagree about the column (an expression of another type, a changed column).
fn mismatch(value: &Value, target: &str) -> ValueError {
    bad(
        format!("the server sent {} for a {target} column", kind(value)),
        "check that the column's type (or cast/expression) gives a value of that type; re-run discovery if the table changed",
    )
}

fn kind(value: &Value) -> String {
    match value {
        Value::NULL => "NULL".into(),
        Value::Bytes(b) => format!("a string of {} bytes", b.len()),
        Value::Int(v) => format!("the integer {v}"),
        Value::UInt(v) => format!("the integer {v}"),
        Value::Float(v) => format!("the float {v}"),
        Value::Double(v) => format!("the double {v}"),
        Value::Date(..) => format!("the date-time {}", display_value(value)),
        Value::Time(..) => format!("the time {}", display_value(value)),
    }
}

const ZERO_DATE_ACTION: &str = "replace such values in the source (e.g. UPDATE ... SET col = NULL WHERE col = '0000-00-00'), or read the column through a table-mapping expression such as NULLIF(col, '0000-00-00')";
/// For `2024-00-15` or `2024-03-00`, which no comparison with the zero date finds: `-00` stands
/// only in a zero month or day of the date's text.
const ZERO_PART_ACTION: &str = "replace such values in the source by whole dates or NULL (e.g. UPDATE ... SET col = NULL WHERE MONTH(col) = 0 OR DAYOFMONTH(col) = 0), or read the column through a table-mapping expression such as CASE WHEN col LIKE '%-00%' THEN NULL ELSE col END";
/// For `2024-02-30`: `DAYOFMONTH(LAST_DAY(col))` is the month's last real day.
const INVALID_DAY_ACTION: &str = "replace such values in the source by real dates or NULL (e.g. UPDATE ... SET col = NULL WHERE DAYOFMONTH(col) > DAYOFMONTH(LAST_DAY(col))), or read the column through a table-mapping expression such as IF(DAYOFMONTH(col) > DAYOFMONTH(LAST_DAY(col)), NULL, col)";

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// An Arrow builder for one column and how to read its values.
pub(crate) struct Decoder {
    wire: Wire,
    builder: ColumnBuilder,
}

impl Decoder {
    /// A decoder into `data_type` (one of the types `migrate_batch::data_type` gives), or
    /// `None` for an Arrow type no canonical type uses.
    pub(crate) fn new(data_type: &DataType, wire: Wire) -> Option<Decoder> {
        let builder = ColumnBuilder::new(data_type)?;
        Some(Decoder { wire, builder })
    }

    /// Appends one value (`Value::NULL`: SQL NULL). On error nothing is appended.
    pub(crate) fn append(&mut self, value: Value) -> Result<(), ValueError> {
        if value == Value::NULL {
            self.append_null();
            return Ok(());
        }
        let wire = self.wire;
        match &mut self.builder {
            ColumnBuilder::Bool(b) => b.append_value(match integer(&value, wire, "boolean")? {
                0 => false,
                1 => true,
                other => {
                    return Err(bad(
                        format!("{other} is not a boolean (0 or 1)"),
                        "map the column to an integer type (change-data-type) or fix the value",
                    ))
                }
            }),
            ColumnBuilder::I16(b) => {
                b.append_value(narrow(integer(&value, wire, "smallint")?, "smallint")?)
            }
            ColumnBuilder::I32(b) => {
                b.append_value(narrow(integer(&value, wire, "integer")?, "integer")?)
            }
            ColumnBuilder::I64(b) => {
                b.append_value(narrow(integer(&value, wire, "bigint")?, "bigint")?)
            }
            ColumnBuilder::F32(b) => b.append_value(real(&value)?),
            ColumnBuilder::F64(b) => b.append_value(double(&value)?),
            ColumnBuilder::D128(b, p, s) => {
                let unscaled = decimal(&value, wire, *p, *s)?;
                // At most 38 digits: decimal() checked the precision.
                b.append_value(unscaled.as_i128());
            }
            ColumnBuilder::D256(b, p, s) => b.append_value(decimal(&value, wire, *p, *s)?),
            ColumnBuilder::Utf8(b) => b.append_value(uuid(&value)?),
            ColumnBuilder::LargeUtf8(b) => match &value {
                Value::Bytes(bytes) => b.append_value(utf8(bytes)?),
                Value::Int(_) | Value::UInt(_) | Value::Date(..) | Value::Time(..) => {
                    b.append_value(display_value(&value))
                }
                Value::Float(v) => b.append_value(v.to_string()),
                Value::Double(v) => b.append_value(v.to_string()),
                Value::NULL => b.append_null(),
            },
            ColumnBuilder::LargeBinary(b) => match &value {
                Value::Bytes(bytes) => b.append_value(bytes),
                other => return Err(mismatch(other, "binary")),
            },
            ColumnBuilder::Date32(b) => b.append_value(date(&value)?),
            ColumnBuilder::Time64(b) => b.append_value(time(&value)?),
            ColumnBuilder::Timestamp(b) => b.append_value(timestamp(&value)?),
        }
        Ok(())
    }

    pub(crate) fn append_null(&mut self) {
        self.builder.append_null();
    }

    /// The values appended since the last call, as an array.
    pub(crate) fn finish(&mut self) -> ArrayRef {
        self.builder.finish()
    }
}

/// An integer from an integer value, a BIT field or integer text (an expression's result).
fn integer(value: &Value, wire: Wire, target: &str) -> Result<i128, ValueError> {
    match (value, wire) {
        (Value::Int(v), _) => Ok(i128::from(*v)),
        (Value::UInt(v), _) => Ok(i128::from(*v)),
        (Value::Bytes(bytes), Wire::Bits) if bytes.len() <= 8 => Ok(i128::from(
            bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )),
        (Value::Bytes(bytes), Wire::Plain) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse::<i128>().ok())
            .ok_or_else(|| {
                bad(
                    format!("`{}` is not an integer", String::from_utf8_lossy(bytes)),
                    "fix the value, or the column's cast/expression",
                )
            }),
        (other, _) => Err(mismatch(other, target)),
    }
}

fn narrow<T: TryFrom<i128>>(value: i128, target: &str) -> Result<T, ValueError> {
    T::try_from(value).map_err(|_| {
        bad(
            format!("{value} is out of range for {target}"),
            "map the column to a wider type (change-data-type)",
        )
    })
}

fn real(value: &Value) -> Result<f32, ValueError> {
    let inexact = |text: String| {
        bad(
            format!("{text} has no exact real (4-byte float) value"),
            "map the column to double (change-data-type)",
        )
    };
    match value {
        Value::Float(v) => Ok(*v),
        Value::Double(v) if v.is_nan() || f64::from(*v as f32) == *v => Ok(*v as f32),
        Value::Double(v) => Err(inexact(v.to_string())),
        Value::Int(v) if (*v as f32) as i128 == i128::from(*v) => Ok(*v as f32),
        Value::UInt(v) if (*v as f32) as i128 == i128::from(*v) => Ok(*v as f32),
        Value::Int(v) => Err(inexact(v.to_string())),
        Value::UInt(v) => Err(inexact(v.to_string())),
        other => Err(mismatch(other, "real")),
    }
}

fn double(value: &Value) -> Result<f64, ValueError> {
    let inexact = |text: String| {
        bad(
            format!("{text} has no exact double value"),
            "map the column to a decimal (change-data-type)",
        )
    };
    match value {
        Value::Double(v) => Ok(*v),
        Value::Float(v) => Ok(f64::from(*v)),
        Value::Int(v) if (*v as f64) as i128 == i128::from(*v) => Ok(*v as f64),
        Value::UInt(v) if (*v as f64) as i128 == i128::from(*v) => Ok(*v as f64),
        Value::Int(v) => Err(inexact(v.to_string())),
        Value::UInt(v) => Err(inexact(v.to_string())),
        other => Err(mismatch(other, "double")),
    }
}

/// The unscaled value of a decimal(p, s): from DECIMAL text (exact), an integer or a BIT field.
fn decimal(value: &Value, wire: Wire, precision: u8, scale: i8) -> Result<i256, ValueError> {
    let scale = u32::try_from(scale).unwrap_or(0);
    let digits = match (value, wire) {
        (Value::Bytes(text), Wire::Plain) => DecimalText::parse(text).ok_or_else(|| {
            bad(
                format!("`{}` is not a decimal number", String::from_utf8_lossy(text)),
                "fix the value, or the column's cast/expression",
            )
        })?,
        (Value::Double(_) | Value::Float(_), _) => {
            return Err(bad(
                format!("{} is a binary floating-point value: it has no exact decimal({precision},{scale}) form", display_value(value)),
                "map the column to double (change-data-type), or cast it to DECIMAL in the expression",
            ))
        }
        _ => DecimalText::integer(integer(value, wire, "decimal")?),
    };
    digits.unscaled(u32::from(precision), scale)
}

/// A decimal number as sign, integer digits and fraction digits (ASCII).
struct DecimalText<'a> {
    negative: bool,
    whole: std::borrow::Cow<'a, [u8]>,
    fraction: &'a [u8],
}

impl<'a> DecimalText<'a> {
    /// `-12.50`, `0.001`, `7`: what MySQL prints for DECIMAL values.
    fn parse(text: &'a [u8]) -> Option<DecimalText<'a>> {
        let (negative, rest) = match text.split_first()? {
            (b'-', rest) => (true, rest),
            (b'+', rest) => (false, rest),
            _ => (false, text),
        };
        let (whole, fraction) = match rest.iter().position(|b| *b == b'.') {
            Some(dot) => (&rest[..dot], &rest[dot + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return None;
        }
        Some(DecimalText {
            negative,
            whole: std::borrow::Cow::Borrowed(whole),
            fraction,
        })
    }

    fn integer(value: i128) -> DecimalText<'static> {
        DecimalText {
            negative: value < 0,
            whole: std::borrow::Cow::Owned(value.unsigned_abs().to_string().into_bytes()),
            fraction: &[],
        }
    }

    /// `value * 10^scale` when that is an integer of at most `precision` digits.
    fn unscaled(&self, precision: u32, scale: u32) -> Result<i256, ValueError> {
        let scale_len = scale as usize;
        let (kept, dropped) = self.fraction.split_at(self.fraction.len().min(scale_len));
        let text = || {
            format!(
                "{}{}{}{}",
                if self.negative { "-" } else { "" },
                String::from_utf8_lossy(&self.whole),
                if self.fraction.is_empty() { "" } else { "." },
                String::from_utf8_lossy(self.fraction)
            )
        };
        if dropped.iter().any(|d| *d != b'0') {
            return Err(bad(
                format!("{} has more than {scale} decimal places", text()),
                "map the column to a decimal with a larger scale (change-data-type)",
            ));
        }
        let whole = {
            let start = self
                .whole
                .iter()
                .position(|d| *d != b'0')
                .unwrap_or(self.whole.len());
            &self.whole[start..]
        };
        if whole.len() + scale_len > precision as usize {
            return Err(bad(
                format!("{} does not fit decimal({precision},{scale})", text()),
                "map the column to a decimal of larger precision (change-data-type)",
            ));
        }
        let padding = scale_len - kept.len();
        let digits = whole
            .iter()
            .chain(kept)
            .map(|d| d - b'0')
            .chain(std::iter::repeat_n(0, padding));
        // At most 76 digits (checked above against the precision): no overflow in i256.
        let ten = i256::from_i128(10);
        let mut value = i256::ZERO;
        for digit in digits {
            value = value
                .wrapping_mul(ten)
                .wrapping_add(i256::from_i128(i128::from(digit)));
        }
        Ok(if self.negative {
            value.wrapping_neg()
        } else {
            value
        })
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, ValueError> {
    std::str::from_utf8(bytes).map_err(|e| {
        bad(
            format!("the text is not valid UTF-8 ({e})"),
            "the column's bytes are not in its declared character set: fix the data, or map the column to a binary type (change-data-type)",
        )
    })
}

fn uuid(value: &Value) -> Result<String, ValueError> {
    let Value::Bytes(bytes) = value else {
        return Err(mismatch(value, "uuid"));
    };
    let text = utf8(bytes)?.to_ascii_lowercase();
    let groups: Vec<&str> = text.split('-').collect();
    let shape = groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12];
    if shape && text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()) {
        Ok(text)
    } else {
        Err(bad(
            format!("`{text}` is not a UUID"),
            "fix the value, or map the column to a text type (change-data-type)",
        ))
    }
}

/// The calendar part of a DATE/DATETIME/TIMESTAMP, rejecting MySQL's zero dates.
fn civil_days(value: &Value) -> Result<i64, ValueError> {
    let Value::Date(year, month, day, ..) = *value else {
        return Err(mismatch(value, "date"));
    };
    if year == 0 && month == 0 && day == 0 {
        return Err(bad(
            format!(
                "the zero date {} is MySQL's placeholder for 'no date' and has no date value",
                display_value(value)
            ),
            ZERO_DATE_ACTION,
        ));
    }
    if month == 0 || day == 0 {
        return Err(bad(
            format!("the date {} has a zero month or day", display_value(value)),
            ZERO_PART_ACTION,
        ));
    }
    let days = days_from_civil(i64::from(year), i64::from(month), i64::from(day));
    // A server with ALLOW_INVALID_DATES stores any day up to 31 (`2024-02-30`); counted from
    // the epoch it would silently become another date (`2024-03-01`).
    if day > 28 && civil_from_days(days) != (i64::from(year), u32::from(month), u32::from(day)) {
        return Err(bad(
            format!(
                "the date {} does not exist (a server with sql_mode ALLOW_INVALID_DATES stores it as written)",
                display_value(value)
            ),
            INVALID_DAY_ACTION,
        ));
    }
    Ok(days)
}

fn date(value: &Value) -> Result<i32, ValueError> {
    let days = civil_days(value)?;
    if let Value::Date(_, _, _, h, mi, s, us) = *value {
        if (h, mi, s, us) != (0, 0, 0, 0) {
            return Err(bad(
                format!(
                    "{} has a time of day, which a date drops",
                    display_value(value)
                ),
                "map the column to a timestamp (change-data-type)",
            ));
        }
    }
    // Years 0..9999: far inside Date32.
    Ok(days as i32)
}

fn timestamp(value: &Value) -> Result<i64, ValueError> {
    let days = civil_days(value)?;
    let Value::Date(_, _, _, h, mi, s, us) = *value else {
        return Err(mismatch(value, "timestamp"));
    };
    let seconds = i64::from(h) * 3_600 + i64::from(mi) * 60 + i64::from(s);
    Ok(days * MICROS_PER_DAY + seconds * MICROS_PER_SECOND + i64::from(us))
}

fn time(value: &Value) -> Result<i64, ValueError> {
    let Value::Time(negative, days, h, mi, s, us) = *value else {
        return Err(mismatch(value, "time"));
    };
    let seconds =
        i64::from(days) * 86_400 + i64::from(h) * 3_600 + i64::from(mi) * 60 + i64::from(s);
    let micros = seconds * MICROS_PER_SECOND + i64::from(us);
    if negative && micros != 0 || micros >= MICROS_PER_DAY {
        return Err(bad(
            format!("TIME {} is outside a day (00:00:00 to 23:59:59.999999), so it is not a time of day", display_value(value)),
            "if the column holds durations, read it as text or an interval through a change-data-type rule",
        ));
    }
    Ok(micros)
}

/// A value as text, for messages (row keys) and text columns fed by non-text expressions.
pub(crate) fn display_value(value: &Value) -> String {
    match value {
        Value::NULL => "NULL".into(),
        Value::Bytes(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            match text.char_indices().nth(64) {
                Some((cut, _)) => format!("{}...", &text[..cut]),
                None => text.into_owned(),
            }
        }
        Value::Int(v) => v.to_string(),
        Value::UInt(v) => v.to_string(),
        Value::Float(v) => v.to_string(),
        Value::Double(v) => v.to_string(),
        Value::Date(y, m, d, h, mi, s, us) => {
            let mut text = format!("{y:04}-{m:02}-{d:02}");
            if (h, mi, s, us) != (&0, &0, &0, &0) {
                text.push_str(&format!(" {h:02}:{mi:02}:{s:02}"));
                if *us != 0 {
                    text.push_str(&format!(".{us:06}"));
                }
            }
            text
        }
        Value::Time(negative, days, h, mi, s, us) => {
            let hours = u64::from(*days) * 24 + u64::from(*h);
            let mut text = format!(
                "{}{hours:02}:{mi:02}:{s:02}",
                if *negative { "-" } else { "" }
            );
            if *us != 0 {
                text.push_str(&format!(".{us:06}"));
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Decimal256Array, Int16Array, Time64MicrosecondArray};

    fn one(data_type: DataType, wire: Wire, value: Value) -> Result<ArrayRef, ValueError> {
        let mut decoder = Decoder::new(&data_type, wire).unwrap();
        decoder.append(value)?;
        Ok(decoder.finish())
    }

    #[test]
    fn decimals_are_exact_or_rejected() {
        let d = |text: &str, p, s| {
            DecimalText::parse(text.as_bytes())
                .unwrap()
                .unscaled(p, s)
                .map(|v| v.to_string())
        };
        assert_eq!(d("-12.5", 10, 2).unwrap(), "-1250");
        assert_eq!(d("0.001", 5, 3).unwrap(), "1");
        assert_eq!(d("12.3400", 10, 2).unwrap(), "1234");
        assert!(d("12.345", 10, 2).is_err());
        assert!(d("123456789", 10, 2).is_err());
        let max65 = "9".repeat(35) + "." + &"9".repeat(30);
        assert_eq!(d(&max65, 65, 30).unwrap(), "9".repeat(65));
        assert!(DecimalText::parse(b"1e5").is_none());
        assert!(DecimalText::parse(b"-").is_none());
        let array = one(
            DataType::Decimal256(65, 30),
            Wire::Plain,
            Value::Bytes(format!("-{max65}").into_bytes()),
        )
        .unwrap();
        let array = array.as_any().downcast_ref::<Decimal256Array>().unwrap();
        assert_eq!(array.value_as_string(0), format!("-{max65}"));
        assert!(one(DataType::Decimal128(10, 2), Wire::Plain, Value::Double(0.1)).is_err());
        // BIGINT UNSIGNED as decimal(20,0).
        let array = one(
            DataType::Decimal128(20, 0),
            Wire::Plain,
            Value::UInt(u64::MAX),
        )
        .unwrap();
        assert_eq!(array.len(), 1);
    }

    #[test]
    fn integers_bits_and_ranges() {
        assert!(one(DataType::Int16, Wire::Plain, Value::Int(40_000)).is_err());
        let array = one(DataType::Int16, Wire::Plain, Value::UInt(255)).unwrap();
        let array = array.as_any().downcast_ref::<Int16Array>().unwrap();
        assert_eq!(array.value(0), 255);
        assert_eq!(
            integer(&Value::Bytes(vec![1, 0]), Wire::Bits, "x").unwrap(),
            256
        );
        assert!(one(DataType::Boolean, Wire::Bits, Value::Bytes(vec![1])).is_ok());
        assert!(one(DataType::Boolean, Wire::Plain, Value::Int(2)).is_err());
    }

    #[test]
    fn dates_times_and_zero_dates() {
        let zero = date(&Value::Date(0, 0, 0, 0, 0, 0, 0)).unwrap_err();
        assert!(
            zero.reason.contains("zero date 0000-00-00"),
            "{}",
            zero.reason
        );
        let february_30 = date(&Value::Date(2024, 2, 30, 0, 0, 0, 0)).unwrap_err();
        assert!(
            february_30.reason.contains("2024-02-30 does not exist")
                && february_30.action.contains("LAST_DAY(col)"),
            "{}",
            february_30.reason
        );
        assert_eq!(date(&Value::Date(2024, 2, 29, 0, 0, 0, 0)).unwrap(), 19_782);
        let zero_month = date(&Value::Date(2020, 0, 15, 0, 0, 0, 0)).unwrap_err();
        assert!(
            zero_month.action.contains("MONTH(col) = 0") && !zero_month.action.contains("NULLIF"),
            "{}",
            zero_month.action
        );
        assert_eq!(
            timestamp(&Value::Date(1970, 1, 2, 0, 0, 1, 5)).unwrap(),
            MICROS_PER_DAY + MICROS_PER_SECOND + 5
        );
        let array = one(
            DataType::Time64(arrow_schema::TimeUnit::Microsecond),
            Wire::Plain,
            Value::Time(false, 0, 23, 59, 59, 999_999),
        )
        .unwrap();
        let array = array
            .as_any()
            .downcast_ref::<Time64MicrosecondArray>()
            .unwrap();
        assert_eq!(array.value(0), MICROS_PER_DAY - 1);
        assert!(time(&Value::Time(true, 0, 1, 0, 0, 0)).is_err());
        assert!(time(&Value::Time(false, 1, 0, 0, 0, 0)).is_err());
        assert_eq!(
            display_value(&Value::Time(true, 34, 22, 59, 59, 0)),
            "-838:59:59"
        );
    }

    #[test]
    fn floats_are_exact() {
        assert_eq!(real(&Value::Float(0.1)).unwrap(), 0.1f32);
        assert!(real(&Value::Double(0.1)).is_err());
        assert_eq!(real(&Value::Double(0.5)).unwrap(), 0.5);
        assert_eq!(double(&Value::Float(0.1)).unwrap(), f64::from(0.1f32));
        assert!(double(&Value::Int(i64::MAX)).is_err());
        assert!(double(&Value::Int(1 << 53)).is_ok());
    }

    #[test]
    fn uuids_and_text() {
        assert_eq!(
            uuid(&Value::Bytes(
                b"0E984725-C51C-4BF4-9960-E1C80E27ABA0".to_vec()
            ))
            .unwrap(),
            "0e984725-c51c-4bf4-9960-e1c80e27aba0"
        );
        assert!(uuid(&Value::Bytes(b"nope".to_vec())).is_err());
        assert!(utf8(&[0xff]).is_err());
    }
}
