//! Arrow values (per the `migrate-batch` contract) to PostgreSQL's binary COPY format.
//!
//! Binary COPY is used because it is exact by construction (integers, floats including NaN and
//! `-0.0`, microsecond timestamps and dates travel as numbers, never through text) and because
//! the server does not parse text. Text-carried values (unbounded decimals, intervals, `timetz`,
//! uuids, arrays as JSON) are parsed here into the binary form; the server still applies each
//! column's type modifier (`NUMERIC(p,s)` rounding and overflow checks, `CHAR(n)` padding).
//!
//! Each column gets a [`Target`] once per chunk, from its Arrow type and the target column's
//! PostgreSQL type; each value is then written without further lookups.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Decimal256Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Time64MicrosecondType, TimeUnit, TimestampMicrosecondType,
};
use bytes::{BufMut, BytesMut};
use migrate_batch::Infinity;
use serde_json::value::RawValue;
use tokio_postgres::types::{Kind, Type};

/// The header of a binary COPY stream: signature, flags, header extension length.
pub(crate) const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The trailer: a field count of -1.
pub(crate) const TRAILER: &[u8] = &[0xff, 0xff];

/// Days from 1970-01-01 (Arrow) to 2000-01-01 (PostgreSQL).
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;

/// How one column's values are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    /// `text`, `varchar`, `char`, `name`, `json`, `xml`: the UTF-8 bytes.
    Text,
    /// PostgreSQL's one-byte `"char"`: the byte its text form stands for ([`single_byte`]).
    Char,
    Jsonb,
    Bytea,
    Date,
    Time,
    TimeTz,
    /// `timestamp` and `timestamptz` (both microseconds since 2000-01-01; UTC for the latter).
    Timestamp,
    Interval,
    Uuid,
    /// A one- or more-dimensional array, from a JSON array.
    Array(Element),
}

/// The element of an array column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub oid: u32,
    pub target: Box<Target>,
}

/// Chooses how to write values of Arrow type `arrow` into a column of PostgreSQL type `pg`, or
/// says why they can't be.
pub(crate) fn plan(arrow: &DataType, pg: &Type) -> Result<Target, String> {
    use DataType as D;
    let text = matches!(arrow, D::LargeUtf8 | D::Utf8);
    let target = match pg.kind() {
        Kind::Array(element) if text => Some(Target::Array(Element {
            oid: element.oid(),
            target: Box::new(element_target(element)?),
        })),
        Kind::Domain(base) => return plan(arrow, base),
        _ => scalar(arrow, pg),
    };
    target.ok_or_else(|| {
        format!(
            "values carried as Arrow {arrow} can't be loaded into a column of type {}",
            pg.name()
        )
    })
}

fn scalar(arrow: &DataType, pg: &Type) -> Option<Target> {
    use DataType as D;
    let text = matches!(arrow, D::LargeUtf8 | D::Utf8);
    let integer = matches!(arrow, D::Int16 | D::Int32 | D::Int64);
    let target = match *pg {
        Type::BOOL if *arrow == D::Boolean => Target::Bool,
        Type::INT2 if integer || matches!(arrow, D::Decimal128(..)) => Target::Int2,
        Type::INT4 if integer || matches!(arrow, D::Decimal128(..)) => Target::Int4,
        Type::INT8 if integer || matches!(arrow, D::Decimal128(..)) => Target::Int8,
        Type::FLOAT4 if *arrow == D::Float32 => Target::Float4,
        Type::FLOAT8 if matches!(arrow, D::Float32 | D::Float64) => Target::Float8,
        Type::NUMERIC
            if text || integer || matches!(arrow, D::Decimal128(..) | D::Decimal256(..)) =>
        {
            Target::Numeric
        }
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::XML if text => {
            Target::Text
        }
        Type::CHAR if text => Target::Char,
        Type::JSONB if text => Target::Jsonb,
        Type::BYTEA if *arrow == D::LargeBinary => Target::Bytea,
        Type::DATE if *arrow == D::Date32 => Target::Date,
        Type::TIME if *arrow == D::Time64(TimeUnit::Microsecond) => Target::Time,
        Type::TIMETZ if text => Target::TimeTz,
        Type::TIMESTAMP if matches!(arrow, D::Timestamp(TimeUnit::Microsecond, None)) => {
            Target::Timestamp
        }
        Type::TIMESTAMPTZ if matches!(arrow, D::Timestamp(TimeUnit::Microsecond, Some(_))) => {
            Target::Timestamp
        }
        Type::INTERVAL if text => Target::Interval,
        Type::UUID if text => Target::Uuid,
        _ => return None,
    };
    Some(target)
}

/// Array elements arrive as JSON values: numbers, strings, booleans, nested documents.
fn element_target(element: &Type) -> Result<Target, String> {
    let target = match *element {
        Type::BOOL => Target::Bool,
        Type::INT2 => Target::Int2,
        Type::INT4 => Target::Int4,
        Type::INT8 => Target::Int8,
        Type::FLOAT4 => Target::Float4,
        Type::FLOAT8 => Target::Float8,
        Type::NUMERIC => Target::Numeric,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => Target::Text,
        Type::CHAR => Target::Char,
        Type::JSONB => Target::Jsonb,
        Type::UUID => Target::Uuid,
        Type::BYTEA => Target::Bytea,
        Type::DATE => Target::Date,
        Type::TIME => Target::Time,
        Type::TIMETZ => Target::TimeTz,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => Target::Timestamp,
        Type::INTERVAL => Target::Interval,
        _ => {
            return Err(format!(
                "arrays of {} can't be loaded from JSON text yet (supported elements: boolean, integers, floats, numeric, text, \"char\", json, jsonb, uuid, bytea, dates, times, timestamps, intervals)",
                element.name()
            ))
        }
    };
    Ok(target)
}

/// One column of one batch, downcast once.
pub(crate) enum Values<'a> {
    Bool(&'a arrow::array::BooleanArray),
    I16(&'a arrow::array::Int16Array),
    I32(&'a arrow::array::Int32Array),
    I64(&'a arrow::array::Int64Array),
    F32(&'a arrow::array::Float32Array),
    F64(&'a arrow::array::Float64Array),
    D128(&'a arrow::array::Decimal128Array),
    D256(&'a arrow::array::Decimal256Array),
    Str(&'a arrow::array::LargeStringArray),
    Str32(&'a arrow::array::StringArray),
    Bin(&'a arrow::array::LargeBinaryArray),
    Date(&'a arrow::array::Date32Array),
    Time(&'a arrow::array::Time64MicrosecondArray),
    Ts(&'a arrow::array::TimestampMicrosecondArray),
}

impl<'a> Values<'a> {
    pub(crate) fn new(array: &'a ArrayRef) -> Option<Values<'a>> {
        use DataType as D;
        let values = match array.data_type() {
            D::Boolean => Values::Bool(array.as_boolean_opt()?),
            D::Int16 => Values::I16(array.as_primitive_opt::<Int16Type>()?),
            D::Int32 => Values::I32(array.as_primitive_opt::<Int32Type>()?),
            D::Int64 => Values::I64(array.as_primitive_opt::<Int64Type>()?),
            D::Float32 => Values::F32(array.as_primitive_opt::<Float32Type>()?),
            D::Float64 => Values::F64(array.as_primitive_opt::<Float64Type>()?),
            D::Decimal128(..) => Values::D128(array.as_primitive_opt::<Decimal128Type>()?),
            D::Decimal256(..) => Values::D256(array.as_primitive_opt::<Decimal256Type>()?),
            D::LargeUtf8 => Values::Str(array.as_string_opt::<i64>()?),
            D::Utf8 => Values::Str32(array.as_string_opt::<i32>()?),
            D::LargeBinary => Values::Bin(array.as_binary_opt::<i64>()?),
            D::Date32 => Values::Date(array.as_primitive_opt::<Date32Type>()?),
            D::Time64(TimeUnit::Microsecond) => {
                Values::Time(array.as_primitive_opt::<Time64MicrosecondType>()?)
            }
            D::Timestamp(TimeUnit::Microsecond, _) => {
                Values::Ts(array.as_primitive_opt::<TimestampMicrosecondType>()?)
            }
            _ => return None,
        };
        Some(values)
    }

    fn array(&self) -> &dyn Array {
        match self {
            Values::Bool(a) => *a,
            Values::I16(a) => *a,
            Values::I32(a) => *a,
            Values::I64(a) => *a,
            Values::F32(a) => *a,
            Values::F64(a) => *a,
            Values::D128(a) => *a,
            Values::D256(a) => *a,
            Values::Str(a) => *a,
            Values::Str32(a) => *a,
            Values::Bin(a) => *a,
            Values::Date(a) => *a,
            Values::Time(a) => *a,
            Values::Ts(a) => *a,
        }
    }

    /// Writes the field (length and value, or -1 for NULL) of `row`.
    pub(crate) fn write(
        &self,
        row: usize,
        target: &Target,
        out: &mut BytesMut,
    ) -> Result<(), String> {
        if self.array().is_null(row) {
            out.put_i32(-1);
            return Ok(());
        }
        match (self, target) {
            (Values::Bool(a), Target::Bool) => {
                out.put_i32(1);
                out.put_u8(u8::from(a.value(row)));
            }
            (Values::I16(a), _) => integer(i64::from(a.value(row)), target, out)?,
            (Values::I32(a), _) => integer(i64::from(a.value(row)), target, out)?,
            (Values::I64(a), _) => integer(a.value(row), target, out)?,
            (Values::F32(a), Target::Float4) => {
                out.put_i32(4);
                out.put_f32(a.value(row));
            }
            (Values::F32(a), Target::Float8) => {
                out.put_i32(8);
                out.put_f64(f64::from(a.value(row)));
            }
            (Values::F64(a), Target::Float8) => {
                out.put_i32(8);
                out.put_f64(a.value(row));
            }
            (Values::D128(a), Target::Numeric) => {
                with_length(out, |out| numeric(&a.value_as_string(row), out))?
            }
            (Values::D128(a), _) => {
                let text = a.value_as_string(row);
                let value = text
                    .parse::<i64>()
                    .map_err(|_| format!("{text} is not an integer"))?;
                integer(value, target, out)?
            }
            (Values::D256(a), Target::Numeric) => {
                with_length(out, |out| numeric(&a.value_as_string(row), out))?
            }
            (Values::Str(a), _) => text(a.value(row), target, out)?,
            (Values::Str32(a), _) => text(a.value(row), target, out)?,
            (Values::Bin(a), Target::Bytea) => {
                let value = a.value(row);
                put_len(out, value.len())?;
                out.put_slice(value);
            }
            (Values::Date(a), Target::Date) => {
                out.put_i32(4);
                out.put_i32(date(a.value(row))?);
            }
            (Values::Time(a), Target::Time) => {
                out.put_i32(8);
                out.put_i64(a.value(row));
            }
            (Values::Ts(a), Target::Timestamp) => {
                out.put_i32(8);
                out.put_i64(timestamp(a.value(row))?);
            }
            _ => return Err(format!("internal: no encoder for {target:?}")),
        }
        Ok(())
    }
}

/// A Date32 value as days since 2000-01-01, the batch convention's infinities as PostgreSQL's.
fn date(days: i32) -> Result<i32, String> {
    match migrate_batch::date_infinity(days) {
        Some(Infinity::Positive) => Ok(DATE_NOEND),
        Some(Infinity::Negative) => Ok(DATE_NOBEGIN),
        // A finite date must not become one of PostgreSQL's infinities.
        None => days
            .checked_sub(PG_EPOCH_DAYS)
            .filter(|days| ![DATE_NOBEGIN, DATE_NOEND].contains(days))
            .ok_or_else(|| format!("{days} days since 1970-01-01 is out of range for date")),
    }
}

/// A Timestamp(µs) value as microseconds since 2000-01-01, the batch convention's infinities as
/// PostgreSQL's.
fn timestamp(micros: i64) -> Result<i64, String> {
    match migrate_batch::timestamp_infinity(micros) {
        Some(Infinity::Positive) => Ok(TIMESTAMP_NOEND),
        Some(Infinity::Negative) => Ok(TIMESTAMP_NOBEGIN),
        None => micros
            .checked_sub(PG_EPOCH_MICROS)
            .filter(|micros| ![TIMESTAMP_NOBEGIN, TIMESTAMP_NOEND].contains(micros))
            .ok_or_else(|| {
                format!("{micros} microseconds since 1970-01-01 is out of range for timestamp")
            }),
    }
}

fn put_len(out: &mut BytesMut, len: usize) -> Result<(), String> {
    let len = i32::try_from(len)
        .map_err(|_| format!("the value has {len} bytes; a PostgreSQL value holds at most 1 GB"))?;
    out.put_i32(len);
    Ok(())
}

/// Writes a length placeholder, the value, then the length.
fn with_length(
    out: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> Result<(), String>,
) -> Result<(), String> {
    let at = out.len();
    out.put_i32(0);
    write(out)?;
    let len = out.len() - at - 4;
    let len = i32::try_from(len)
        .map_err(|_| format!("the value has {len} bytes; a PostgreSQL value holds at most 1 GB"))?;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn integer(value: i64, target: &Target, out: &mut BytesMut) -> Result<(), String> {
    let range = |ty: &str| format!("{value} is out of range for {ty}");
    match target {
        Target::Int2 => {
            out.put_i32(2);
            out.put_i16(i16::try_from(value).map_err(|_| range("smallint"))?);
        }
        Target::Int4 => {
            out.put_i32(4);
            out.put_i32(i32::try_from(value).map_err(|_| range("integer"))?);
        }
        Target::Int8 => {
            out.put_i32(8);
            out.put_i64(value);
        }
        Target::Numeric => with_length(out, |out| numeric(&value.to_string(), out))?,
        _ => return Err(format!("internal: integer into {target:?}")),
    }
    Ok(())
}

/// Rejects text PostgreSQL can't store.
fn no_nul(value: &str) -> Result<(), String> {
    match value.bytes().position(|b| b == 0) {
        Some(at) => Err(format!(
            "the text contains the NUL character (U+0000) at byte {at}, which PostgreSQL can't store in text; migrate doesn't strip it silently: remove it in the source, or map the column to a binary type"
        )),
        None => Ok(()),
    }
}

/// A text-carried value into its target.
fn text(value: &str, target: &Target, out: &mut BytesMut) -> Result<(), String> {
    match target {
        Target::Text => {
            no_nul(value)?;
            put_len(out, value.len())?;
            out.put_slice(value.as_bytes());
        }
        Target::Char => {
            out.put_i32(1);
            out.put_u8(single_byte(value)?);
        }
        Target::Jsonb => {
            no_nul(value)?;
            put_len(out, value.len() + 1)?;
            out.put_u8(1);
            out.put_slice(value.as_bytes());
        }
        Target::Numeric => with_length(out, |out| numeric(value, out))?,
        Target::TimeTz => {
            let (micros, offset) = timetz(value)?;
            out.put_i32(12);
            out.put_i64(micros);
            // PostgreSQL counts the zone in seconds west of UTC.
            out.put_i32(-offset);
        }
        Target::Interval => {
            let (micros, days, months) = interval(value)?;
            out.put_i32(16);
            out.put_i64(micros);
            out.put_i32(days);
            out.put_i32(months);
        }
        Target::Uuid => {
            out.put_i32(16);
            out.put_slice(&uuid(value)?);
        }
        Target::Array(element) => with_length(out, |out| array(value, element, out))?,
        _ => return Err(format!("internal: text into {target:?}")),
    }
    Ok(())
}

/// The byte of a `"char"` value from its text form, as PostgreSQL's `charout` writes it (the
/// full load and capture read it so): empty for byte 0, a backslash and three octal digits for
/// a byte of 128 or more (`\351`), else the one ASCII character. Anything else is refused, where
/// the server's `charin` would keep its first byte only.
fn single_byte(value: &str) -> Result<u8, String> {
    let octal = |digits: &[u8]| digits.iter().all(|d| (b'0'..=b'7').contains(d));
    match value.as_bytes() {
        [] => Ok(0),
        // One byte of UTF-8 text is an ASCII character.
        [byte] => Ok(*byte),
        [b'\\', digits @ ..] if digits.len() == 3 && octal(digits) => {
            u8::from_str_radix(&value[1..], 8)
                .map_err(|_| format!("`{value}` is above \\377, the largest byte"))
        }
        _ => Err(format!(
            "`{}` is not one byte: a \"char\" column holds one byte per value, written as one ASCII character, a backslash and three octal digits (\\351), or nothing (byte 0)",
            truncate(value)
        )),
    }
}

/// The binary form of a NUMERIC from plain decimal text (`-12.5000`, `NaN`, `Infinity`,
/// `-Infinity`): base-10000 digits, weight, sign and display scale.
pub(crate) fn numeric(text: &str, out: &mut BytesMut) -> Result<(), String> {
    const POSITIVE: u16 = 0x0000;
    const NEGATIVE: u16 = 0x4000;
    let special = match text {
        "NaN" => Some(0xC000),
        "Infinity" | "+Infinity" => Some(0xD000),
        "-Infinity" => Some(0xF000),
        _ => None,
    };
    if let Some(sign) = special {
        out.put_i16(0);
        out.put_i16(0);
        out.put_u16(sign);
        out.put_u16(0);
        return Ok(());
    }
    let invalid = || format!("`{text}` is not a plain decimal number");
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err(invalid());
    }
    let dscale = u16::try_from(frac_part.len()).map_err(|_| invalid())?;
    let int_part = int_part.trim_start_matches('0');
    // Base-10000 groups: the integer part padded on the left, the fraction on the right.
    let int_pad = (4 - int_part.len() % 4) % 4;
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let digits: Vec<u8> = std::iter::repeat_n(0, int_pad)
        .chain(int_part.bytes().map(|b| b - b'0'))
        .chain(frac_part.bytes().map(|b| b - b'0'))
        .chain(std::iter::repeat_n(0, frac_pad))
        .collect();
    let mut groups: Vec<i16> = digits
        .chunks(4)
        .map(|c| (c[0] as i16) * 1000 + (c[1] as i16) * 100 + (c[2] as i16) * 10 + c[3] as i16)
        .collect();
    let int_groups = (int_pad + int_part.len()) / 4;
    let mut weight = int_groups as i64 - 1;
    let leading = groups.iter().take_while(|&&g| g == 0).count();
    groups.drain(..leading);
    weight -= leading as i64;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let too_big = || format!("`{text}` has more digits than PostgreSQL's NUMERIC holds");
    let (weight, sign) = if groups.is_empty() {
        (0, POSITIVE)
    } else {
        (
            i16::try_from(weight).map_err(|_| too_big())?,
            if negative { NEGATIVE } else { POSITIVE },
        )
    };
    out.put_i16(i16::try_from(groups.len()).map_err(|_| too_big())?);
    out.put_i16(weight);
    out.put_u16(sign);
    out.put_u16(dscale);
    for group in groups {
        out.put_i16(group);
    }
    Ok(())
}

/// Parses unsigned decimal digits.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `SS[.ffffff]` to microseconds; more than 6 fraction digits would lose precision.
fn seconds_micros(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 6 || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    let fraction_micros = if fraction.is_empty() {
        0
    } else {
        digits(fraction)? * 10_i64.pow(6 - fraction.len() as u32)
    };
    digits(whole)?
        .checked_mul(MICROS_PER_SECOND)?
        .checked_add(fraction_micros)
}

/// PostgreSQL's `-infinity` and `infinity` dates and timestamps (its `NOBEGIN` and `NOEND`).
const DATE_NOBEGIN: i32 = i32::MIN;
const DATE_NOEND: i32 = i32::MAX;
const TIMESTAMP_NOBEGIN: i64 = i64::MIN;
const TIMESTAMP_NOEND: i64 = i64::MAX;

/// Splits `to_json`'s ` BC` suffix off: (the rest, whether it was there).
fn before_christ(text: &str) -> (&str, bool) {
    match text.strip_suffix(" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// The three parts of `text` between `separator`s, when it has exactly three.
fn three_parts(text: &str, separator: char) -> Option<(&str, &str, &str)> {
    let mut parts = text.split(separator);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c), None) => Some((a, b, c)),
        _ => None,
    }
}

/// `YYYY-MM-DD` (the year may be longer) of `BC`'s era or ours to days since 1970-01-01.
fn civil_date(date: &str, bc: bool) -> Option<i64> {
    let (year, month, day) = three_parts(date, '-')?;
    let (year, month, day) = (digits(year)?, digits(month)?, digits(day)?);
    // PostgreSQL's dates end in 5874897 AD; a longer year is no date (and would overflow).
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(1..=5_874_897).contains(&year) {
        return None;
    }
    // 1 BC is the astronomical year 0.
    let year = if bc { 1 - year } else { year };
    Some(migrate_core::days_from_civil(year, month, day))
}

/// A date as `to_json` writes it (`2024-01-01`, `0044-03-15 BC`, `infinity`, `-infinity`) to
/// days since 2000-01-01.
fn json_date(text: &str) -> Result<i32, String> {
    match text {
        "-infinity" => return Ok(DATE_NOBEGIN),
        "infinity" => return Ok(DATE_NOEND),
        _ => {}
    }
    let (date, bc) = before_christ(text);
    civil_date(date, bc)
        .and_then(|days| i32::try_from(days - i64::from(PG_EPOCH_DAYS)).ok())
        .ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

/// `HH:MM:SS[.ffffff]` to microseconds since midnight (24:00:00 included, as PostgreSQL has it).
fn time_of_day(text: &str) -> Option<i64> {
    let (h, m, s) = three_parts(text, ':')?;
    let (h, m, s) = (digits(h)?, digits(m)?, seconds_micros(s)?);
    if h > 24 || m > 59 || s >= 60 * MICROS_PER_SECOND {
        return None;
    }
    let micros = (h * 3600 + m * 60) * MICROS_PER_SECOND + s;
    (micros <= 24 * 3600 * MICROS_PER_SECOND).then_some(micros)
}

/// A timestamp as `to_json` writes it (`2024-01-01T10:00:00.5`, with `+hh:mm[:ss]` when it has a
/// time zone, ` BC`, `infinity`) to microseconds since 2000-01-01 (UTC when it has a zone).
fn json_timestamp(text: &str) -> Result<i64, String> {
    match text {
        "-infinity" => return Ok(TIMESTAMP_NOBEGIN),
        "infinity" => return Ok(TIMESTAMP_NOEND),
        _ => {}
    }
    let invalid = || format!("`{text}` is not a timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff][+hh:mm])");
    let (rest, bc) = before_christ(text);
    let (date, time) = rest.split_once('T').ok_or_else(invalid)?;
    let (time, offset) = match time.find(['+', '-']) {
        Some(at) => {
            let (time, zone) = time.split_at(at);
            (time, zone_offset(zone).ok_or_else(invalid)?)
        }
        None => (time, 0),
    };
    let days = civil_date(date, bc).ok_or_else(invalid)? - i64::from(PG_EPOCH_DAYS);
    let micros = time_of_day(time).ok_or_else(invalid)?;
    days.checked_mul(86_400 * MICROS_PER_SECOND)
        .and_then(|d| d.checked_add(micros))
        .and_then(|t| t.checked_sub(offset * MICROS_PER_SECOND))
        .ok_or_else(invalid)
}

/// `HH:MM:SS[.ffffff]+hh[:mm[:ss]]` to (microseconds since midnight, offset east of UTC in seconds).
pub(crate) fn timetz(text: &str) -> Result<(i64, i32), String> {
    let invalid = || format!("`{text}` is not a time with time zone (HH:MM:SS[.ffffff]+hh[:mm])");
    let at = text.rfind(['+', '-']).ok_or_else(invalid)?;
    let (time, zone) = text.split_at(at);
    let micros = time_of_day(time).ok_or_else(invalid)?;
    let offset = zone_offset(zone).ok_or_else(invalid)?;
    Ok((micros, offset as i32))
}

/// `+hh[:mm[:ss]]` or `-...` to seconds east of UTC (at most 15:59:59 either way).
fn zone_offset(zone: &str) -> Option<i64> {
    let (sign, rest) = match zone.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut offset = 0;
    for (part, scale) in parts.iter().zip([3600, 60, 1]) {
        offset += digits(part).filter(|_| part.len() == 2)? * scale;
    }
    (offset <= 15 * 3600 + 59 * 60 + 59).then_some(sign * offset)
}

/// An ISO 8601 duration (`P1Y2M3DT4H5M6.789S`, `-P1D`, `P-1DT2H`, `P2W`) to PostgreSQL's
/// (microseconds, days, months). Fractions are accepted on seconds only, to 6 digits.
pub(crate) fn interval(text: &str) -> Result<(i64, i32, i32), String> {
    let invalid = |why: &str| format!("`{text}` is not an ISO 8601 duration: {why}");
    let (negate, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let rest = rest
        .strip_prefix('P')
        .ok_or_else(|| invalid("it must start with P"))?;
    if rest.is_empty() || rest == "T" {
        return Err(invalid("no components"));
    }
    let (mut months, mut days, mut micros) = (0i64, 0i64, 0i64);
    let mut in_time = false;
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' | '.' | '-' | '+' => number.push(c),
            _ => {
                let (sign, magnitude) = match number.strip_prefix('-') {
                    Some(m) => (-1, m),
                    None => (1, number.strip_prefix('+').unwrap_or(&number)),
                };
                let overflow = || invalid("a component is too large");
                let whole = || {
                    digits(magnitude).ok_or_else(|| invalid("a component is not a whole number"))
                };
                let seconds = || {
                    seconds_micros(magnitude).ok_or_else(|| {
                        invalid("seconds must be digits with at most 6 fraction digits")
                    })
                };
                let scaled = |factor: i64| -> Result<i64, String> {
                    whole()?.checked_mul(factor).ok_or_else(overflow)
                };
                let (total, value) = match (in_time, c) {
                    (false, 'Y') => (&mut months, scaled(12)?),
                    (false, 'M') => (&mut months, scaled(1)?),
                    (false, 'W') => (&mut days, scaled(7)?),
                    (false, 'D') => (&mut days, scaled(1)?),
                    (true, 'H') => (&mut micros, scaled(3600 * MICROS_PER_SECOND)?),
                    (true, 'M') => (&mut micros, scaled(60 * MICROS_PER_SECOND)?),
                    (true, 'S') => (&mut micros, seconds()?),
                    _ => return Err(invalid(&format!("unexpected `{c}`"))),
                };
                *total = total.checked_add(sign * value).ok_or_else(overflow)?;
                number.clear();
            }
        }
    }
    if !number.is_empty() {
        return Err(invalid("a number without a unit"));
    }
    let sign = if negate { -1 } else { 1 };
    let range = || invalid("out of range for PostgreSQL's interval");
    Ok((
        sign * micros,
        i32::try_from(sign * days).map_err(|_| range())?,
        i32::try_from(sign * months).map_err(|_| range())?,
    ))
}

/// `8-4-4-4-12` hex (either case) to 16 bytes.
pub(crate) fn uuid(text: &str) -> Result<[u8; 16], String> {
    let invalid = || format!("`{text}` is not a UUID (8-4-4-4-12 hex digits)");
    let bytes = text.as_bytes();
    if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&i| bytes[i] != b'-') {
        return Err(invalid());
    }
    let hex: Vec<u8> = bytes.iter().copied().filter(|&b| b != b'-').collect();
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let nibble = |b: u8| (b as char).to_digit(16).ok_or_else(invalid);
        out[i] = (nibble(pair[0])? * 16 + nibble(pair[1])?) as u8;
    }
    Ok(out)
}

/// A JSON array (nested arrays for more dimensions, which must be rectangular) into
/// PostgreSQL's binary array: dimensions, lower bounds 1, then the elements.
pub(crate) fn array(text: &str, element: &Element, out: &mut BytesMut) -> Result<(), String> {
    let root: &RawValue =
        serde_json::from_str(text).map_err(|e| format!("the array is not valid JSON: {e}"))?;
    let mut dims = Vec::new();
    let mut level: Vec<&RawValue> = vec![root];
    // JSON documents are elements of their own, even when they are arrays.
    let max_dims = if *element.target == Target::Jsonb {
        1
    } else {
        6
    };
    // Descend while every value of the level is an array, checking the shape.
    while dims.len() < max_dims {
        let Some(arrays) = level
            .iter()
            .map(|v| serde_json::from_str::<Vec<&RawValue>>(v.get()).ok())
            .collect::<Option<Vec<_>>>()
        else {
            break;
        };
        let len = arrays.first().map_or(0, Vec::len);
        if arrays.iter().any(|a| a.len() != len) {
            return Err("the nested JSON arrays have different lengths: PostgreSQL arrays must be rectangular".into());
        }
        dims.push(len);
        level = arrays.into_iter().flatten().collect();
        if len == 0 {
            break;
        }
    }
    if dims.is_empty() {
        return Err(format!("`{}` is not a JSON array", truncate(text)));
    }
    if dims.contains(&0) {
        // PostgreSQL's empty array has no dimensions.
        out.put_i32(0);
        out.put_i32(0);
        out.put_u32(element.oid);
        return Ok(());
    }
    let has_null = level.iter().any(|v| v.get() == "null");
    out.put_i32(i32::try_from(dims.len()).map_err(|_| "too many dimensions")?);
    out.put_i32(i32::from(has_null));
    out.put_u32(element.oid);
    for len in &dims {
        out.put_i32(i32::try_from(*len).map_err(|_| "too many elements")?);
        out.put_i32(1);
    }
    for value in level {
        json_element(value, &element.target, out)?;
    }
    Ok(())
}

fn truncate(text: &str) -> &str {
    match text.char_indices().nth(40) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// One JSON value as an array element.
fn json_element(value: &RawValue, target: &Target, out: &mut BytesMut) -> Result<(), String> {
    let raw = value.get();
    if raw == "null" {
        out.put_i32(-1);
        return Ok(());
    }
    let wrong = || {
        format!(
            "the array element `{}` can't become a {target:?}",
            truncate(raw)
        )
    };
    let string = || serde_json::from_str::<String>(raw).map_err(|_| wrong());
    match target {
        Target::Bool => {
            let value: bool = serde_json::from_str(raw).map_err(|_| wrong())?;
            out.put_i32(1);
            out.put_u8(u8::from(value));
        }
        Target::Int2 | Target::Int4 | Target::Int8 => {
            integer(raw.parse::<i64>().map_err(|_| wrong())?, target, out)?
        }
        Target::Float4 | Target::Float8 => {
            // JSON has no NaN or infinities: sources write them as strings.
            let number = if raw.starts_with('"') {
                string()?
            } else {
                raw.to_string()
            };
            let number = match number.as_str() {
                "Infinity" => "inf",
                "-Infinity" => "-inf",
                other => other,
            };
            let value: f64 = number.parse().map_err(|_| wrong())?;
            if *target == Target::Float4 {
                out.put_i32(4);
                out.put_f32(number.parse::<f32>().map_err(|_| wrong())?);
            } else {
                out.put_i32(8);
                out.put_f64(value);
            }
        }
        Target::Numeric => {
            let number = if raw.starts_with('"') {
                string()?
            } else {
                raw.to_string()
            };
            with_length(out, |out| numeric(&number, out))?
        }
        Target::Text | Target::Char | Target::Uuid | Target::TimeTz | Target::Interval => {
            text(&string()?, target, out)?
        }
        // As `to_json` writes them: ISO 8601 with a `T`, `infinity`, a ` BC` suffix.
        Target::Date => {
            out.put_i32(4);
            out.put_i32(json_date(&string()?)?);
        }
        Target::Time => {
            out.put_i32(8);
            out.put_i64(time_of_day(&string()?).ok_or_else(wrong)?);
        }
        Target::Timestamp => {
            out.put_i32(8);
            out.put_i64(json_timestamp(&string()?)?);
        }
        // As `to_json` writes them under `bytea_output = 'hex'` (the source's session setting).
        Target::Bytea => {
            let bytes = string()?
                .strip_prefix("\\x")
                .and_then(migrate_core::unhex)
                .ok_or_else(wrong)?;
            put_len(out, bytes.len())?;
            out.put_slice(&bytes);
        }
        // The document's own text: nested arrays and objects stay whole.
        Target::Jsonb => text(raw, target, out)?,
        _ => return Err(wrong()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(text: &str) -> Vec<i16> {
        let mut out = BytesMut::new();
        numeric(text, &mut out).unwrap();
        out.chunks(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn numerics_become_base_10000_digits() {
        // ndigits, weight, sign, dscale, digits...
        assert_eq!(numeric_bytes("-12.5000"), vec![2, 0, 0x4000, 4, 12, 5000]);
        assert_eq!(numeric_bytes("0"), vec![0, 0, 0, 0]);
        assert_eq!(numeric_bytes("-0.00"), vec![0, 0, 0, 2]);
        assert_eq!(numeric_bytes("10000"), vec![1, 1, 0, 0, 1]);
        assert_eq!(numeric_bytes("0.0001"), vec![1, -1, 0, 4, 1]);
        assert_eq!(
            numeric_bytes("123456789.5"),
            vec![4, 2, 0, 1, 1, 2345, 6789, 5000]
        );
        assert_eq!(numeric_bytes("NaN"), vec![0, 0, 0xC000_u16 as i16, 0]);
        assert_eq!(numeric_bytes("-Infinity"), vec![0, 0, 0xF000_u16 as i16, 0]);
        for bad in ["", "-", "1e5", "1.2.3", " 1", "0x10", "."] {
            assert!(numeric(bad, &mut BytesMut::new()).is_err(), "{bad}");
        }
    }

    #[test]
    fn intervals_follow_iso_8601() {
        assert_eq!(
            interval("P1Y2M3DT4H5M6.789S"),
            Ok((4 * 3_600_000_000 + 5 * 60_000_000 + 6_789_000, 3, 14))
        );
        assert_eq!(interval("-P1D"), Ok((0, -1, 0)));
        assert_eq!(interval("P-1DT-0.5S"), Ok((-500_000, -1, 0)));
        assert_eq!(interval("P2W"), Ok((0, 14, 0)));
        assert_eq!(interval("PT0S"), Ok((0, 0, 0)));
        for bad in [
            "",
            "P",
            "PT",
            "1D",
            "P1.5D",
            "PT1.1234567S",
            "P1H",
            "P1D2",
            "PT9223372036854775807H",
            "PT2562047788H2562047788H",
        ] {
            assert!(interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_with_zones_count_the_offset() {
        assert_eq!(timetz("12:30:00+02"), Ok((45_000_000_000, 7200)));
        assert_eq!(timetz("00:00:00.5-05:30"), Ok((500_000, -19_800)));
        assert_eq!(timetz("24:00:00+00"), Ok((86_400_000_000, 0)));
        for bad in [
            "12:30+02",
            "12:30:00",
            "25:00:00+00",
            "12:60:00+00",
            "12:00:00+2",
        ] {
            assert!(timetz(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uuids_are_parsed_strictly() {
        let parsed = uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
        assert_eq!(parsed[0], 0xa0);
        assert_eq!(parsed[15], 0x11);
        assert!(uuid("a0eebc999c0b4ef8bb6d6bb9bd380a11").is_err());
        assert!(uuid("g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").is_err());
    }

    #[test]
    fn the_batch_infinities_become_postgres_infinities() {
        assert_eq!(date(i32::MAX), Ok(DATE_NOEND));
        assert_eq!(date(i32::MIN), Ok(DATE_NOBEGIN));
        assert_eq!(date(PG_EPOCH_DAYS), Ok(0));
        assert_eq!(timestamp(i64::MAX), Ok(TIMESTAMP_NOEND));
        assert_eq!(timestamp(i64::MIN), Ok(TIMESTAMP_NOBEGIN));
        assert_eq!(timestamp(PG_EPOCH_MICROS), Ok(0));
        // Finite values that would land on PostgreSQL's infinities are refused.
        assert!(date(i32::MIN + 1).is_err());
        assert!(date(i32::MIN + PG_EPOCH_DAYS).is_err());
        assert!(timestamp(i64::MIN + PG_EPOCH_MICROS).is_err());
        assert_eq!(timestamp(i64::MIN + PG_EPOCH_MICROS + 1), Ok(i64::MIN + 1));
        let array: ArrayRef = std::sync::Arc::new(
            arrow::array::TimestampMicrosecondArray::from(vec![Some(i64::MAX), None])
                .with_timezone("UTC"),
        );
        let mut out = BytesMut::new();
        let values = Values::new(&array).unwrap();
        values.write(0, &Target::Timestamp, &mut out).unwrap();
        values.write(1, &Target::Timestamp, &mut out).unwrap();
        assert_eq!(
            &out[..],
            &[
                &8i32.to_be_bytes()[..],
                &i64::MAX.to_be_bytes(),
                &(-1i32).to_be_bytes()
            ]
            .concat()[..]
        );
    }

    /// The expected values are PostgreSQL's own (days and microseconds since 2000-01-01 UTC).
    #[test]
    fn dates_and_timestamps_parse_as_to_json_writes_them() {
        assert_eq!(json_date("2000-01-01"), Ok(0));
        assert_eq!(json_date("0044-03-15 BC"), Ok(-746_117));
        assert_eq!(json_date("infinity"), Ok(i32::MAX));
        assert_eq!(json_date("-infinity"), Ok(i32::MIN));
        assert!(json_date("2024-13-01").is_err());
        assert!(json_date("2024-01-01T00:00:00").is_err());
        assert_eq!(
            json_timestamp("2024-06-01T12:00:00.25+05:30"),
            Ok(770_538_600_250_000)
        );
        assert_eq!(
            json_timestamp("0044-03-15T10:00:00+00:00 BC"),
            Ok(-64_464_472_800_000_000)
        );
        assert_eq!(json_timestamp("2000-01-01T00:00:00"), Ok(0));
        assert_eq!(json_timestamp("infinity"), Ok(i64::MAX));
        assert!(json_timestamp("2000-01-01 00:00:00").is_err());
        assert!(json_timestamp("2000-01-01T00:00:00+5").is_err());
        assert_eq!(time_of_day("24:00:00"), Some(86_400_000_000));
        assert_eq!(time_of_day("10:00:00.25"), Some(36_000_250_000));
        assert_eq!(time_of_day("10:60:00"), None);
        assert_eq!(time_of_day("99999999999999999:00:00"), None);
        assert!(json_date("99999999999999999-01-01").is_err());
    }

    #[test]
    fn bytea_elements_are_read_from_their_hex_output() {
        let element = Element {
            oid: 17,
            target: Box::new(Target::Bytea),
        };
        let mut out = BytesMut::new();
        array(r#"["\\x01Ff", null, "\\x"]"#, &element, &mut out).unwrap();
        // Header (dimensions, flags, element oid, length, lower bound), then each element.
        let elements = &out[20..];
        assert_eq!(
            elements,
            &[0, 0, 0, 2, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0][..]
        );
        for bad in [r#"["0102"]"#, r#"["\\x012"]"#, r#"["\\x+f"]"#, "[1]"] {
            assert!(array(bad, &element, &mut BytesMut::new()).is_err(), "{bad}");
        }
    }

    #[test]
    fn internal_char_values_become_the_byte_their_text_stands_for() {
        for (text, byte) in [
            ("a", b'a'),
            ("", 0),
            ("\\", b'\\'),
            ("\\351", 0xe9),
            ("\\000", 0),
        ] {
            let mut out = BytesMut::new();
            super::text(text, &Target::Char, &mut out).unwrap();
            assert_eq!(&out[..], &[0, 0, 0, 1, byte][..], "{text}");
        }
        for bad in ["ab", "é", "\\400", "\\35", "\\3519", "\\x41"] {
            let error = single_byte(bad).unwrap_err();
            assert!(error.contains("byte"), "{bad}: {error}");
        }
        let element = Element {
            oid: 18,
            target: Box::new(Target::Char),
        };
        let mut out = BytesMut::new();
        array(r#"["a", "\\351", "", null]"#, &element, &mut out).unwrap();
        assert_eq!(
            &out[20..],
            &[0, 0, 0, 1, b'a', 0, 0, 0, 1, 0xe9, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff][..]
        );
    }

    #[test]
    fn ragged_or_non_array_json_is_rejected() {
        let element = Element {
            oid: 23,
            target: Box::new(Target::Int4),
        };
        assert!(array("[[1,2],[3]]", &element, &mut BytesMut::new()).is_err());
        assert!(array("{\"a\":1}", &element, &mut BytesMut::new()).is_err());
        assert!(array("[1, \"x\"]", &element, &mut BytesMut::new()).is_err());
        let mut out = BytesMut::new();
        array("[]", &element, &mut out).unwrap();
        assert_eq!(out.len(), 12);
    }
}
