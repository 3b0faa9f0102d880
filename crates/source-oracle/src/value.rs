//! Oracle values, as LogMiner writes them in redo statements (and as the full load selects them:
//! the same text forms), into the canonical Arrow types of `migrate_batch`.
//!
//! | Oracle | canonical | conversion |
//! | --- | --- | --- |
//! | `NUMBER(p)`, `NUMBER(p,s)`, `NUMBER(p,-s)` | smallint/integer/bigint, `decimal(p,s)` | exact; more digits or fraction than the type holds is an error, never rounded |
//! | `NUMBER`, `FLOAT` | `numeric` / `double` | plain decimal text (`0.5`, `-1000000`, exponents expanded) / nearest double |
//! | `BINARY_FLOAT` / `BINARY_DOUBLE` | real / double | NaN and infinities kept |
//! | `VARCHAR2`, `CHAR`, `NVARCHAR2`, `CLOB`, `LONG` | varchar/char/text | the text; `UNISTR` escapes decoded |
//! | `RAW`, `BLOB`, `LONG RAW` | varbinary/blob | `HEXTORAW` hex digits decoded |
//! | `DATE`, `TIMESTAMP(p)` | timestamp | the written fields, microseconds; a value with non-zero digits below the microsecond is an error |
//! | `TIMESTAMP WITH TIME ZONE` | timestamptz | the instant in UTC (offsets; a region name is an error: the session writes offsets) |
//! | `TIMESTAMP WITH LOCAL TIME ZONE` | timestamptz | written in the session time zone, UTC |
//! | `INTERVAL YEAR TO MONTH` / `DAY TO SECOND` | interval_ym / interval_ds | ISO 8601 (`P1Y2M`, `P3DT4H5M6.789S`), each part signed |
//!
//! Oracle stores an empty string as NULL (`''` is NULL in `VARCHAR2` and `CHAR`), so an empty
//! character literal becomes NULL, never `""`: that is what the database holds.
//!
//! Dates keep their written year, month and day: Oracle prints days before 1582-10-15 in the
//! Julian calendar, and they become the proleptic Gregorian date with the same fields (what
//! PostgreSQL prints for them too). Year `-1` (1 BC) is astronomical year 0.

use crate::redo::{Literal, SpecialFloat};
use arrow_buffer::i256;
use migrate_batch::ColumnBuilder;
use migrate_core::LogicalType;
use std::fmt::Write as _;

/// Why a value can't be converted, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub reason: String,
    pub action: String,
}

fn error(reason: impl Into<String>, action: impl Into<String>) -> ValueError {
    ValueError {
        reason: reason.into(),
        action: action.into(),
    }
}

fn mismatch(ty: &LogicalType, value: &Literal) -> ValueError {
    error(
        format!(
            "the value {} does not fit the column's type {ty}",
            describe(value)
        ),
        "report this as a bug in migrate, with the column's Oracle type and the redo statement",
    )
}

fn describe(value: &Literal) -> String {
    let text = format!("{value:?}");
    if text.len() > 120 {
        let cut = (0..=120)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}...", &text[..cut])
    } else {
        text
    }
}

/// Appends `value`, a value of a column of canonical type `ty`, to `builder` (made for
/// `migrate_batch::data_type(ty)`).
pub fn append(
    builder: &mut ColumnBuilder,
    ty: &LogicalType,
    value: &Literal,
) -> Result<(), ValueError> {
    if value.is_null() {
        builder.append_null();
        return Ok(());
    }
    if let Literal::Unsupported(expression) = value {
        return Err(error(
            format!("LogMiner wrote the value as `{expression}`, which has no value migrate can read"),
            "exclude the column or table from the task (LogMiner does not give values of this type), or replicate it with a full load",
        ));
    }
    match builder {
        ColumnBuilder::Bool(b) => b.append_value(match value {
            Literal::Boolean(v) => *v,
            Literal::Number(n) if n == "1" => true,
            Literal::Number(n) if n == "0" => false,
            _ => return Err(mismatch(ty, value)),
        }),
        ColumnBuilder::I16(b) => b.append_value(integer(ty, value)?),
        ColumnBuilder::I32(b) => b.append_value(integer(ty, value)?),
        ColumnBuilder::I64(b) => b.append_value(integer(ty, value)?),
        ColumnBuilder::F32(b) => b.append_value(float(ty, value)? as f32),
        ColumnBuilder::F64(b) => b.append_value(float(ty, value)?),
        ColumnBuilder::D128(b, precision, scale) => {
            let digits = scaled_digits(ty, value, *precision, *scale)?;
            let v: i128 = digits.parse().map_err(|_| mismatch(ty, value))?;
            b.append_value(v)
        }
        ColumnBuilder::D256(b, precision, scale) => {
            let digits = scaled_digits(ty, value, *precision, *scale)?;
            let v = i256::from_string(&digits).ok_or_else(|| mismatch(ty, value))?;
            b.append_value(v)
        }
        ColumnBuilder::Utf8(b) => b.append_value(text(ty, value)?),
        ColumnBuilder::LargeUtf8(b) => b.append_value(text(ty, value)?),
        ColumnBuilder::LargeBinary(b) => b.append_value(binary(ty, value)?),
        ColumnBuilder::Date32(b) => {
            let fields = temporal_fields(ty, value)?;
            if fields.micros_of_day() != 0 {
                return Err(error(
                    format!(
                        "{} has a time of day, which a date column can't hold",
                        describe(value)
                    ),
                    "map the column to a timestamp",
                ));
            }
            let days = i32::try_from(fields.days()).map_err(|_| mismatch(ty, value))?;
            b.append_value(days)
        }
        ColumnBuilder::Time64(_) => return Err(mismatch(ty, value)),
        ColumnBuilder::Timestamp(b) => b.append_value(timestamp(ty, value)?),
    }
    Ok(())
}

/// A decimal number's sign, digits and exponent: value = digits * 10^exponent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    /// Without leading zeros; empty for zero.
    digits: String,
    exponent: i64,
}

/// Parses `-12.50`, `.5`, `1.0E+40`, `7e-3`.
fn parse_decimal(text: &str) -> Option<Decimal> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    if !integer
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let all = format!("{integer}{fraction}");
    let digits = all.trim_start_matches('0').to_string();
    let exponent = exponent.checked_sub(i64::try_from(fraction.len()).ok()?)?;
    // Trailing zeros move into the exponent so that equal values compare equal.
    let trimmed = digits.trim_end_matches('0');
    let exponent = exponent + (digits.len() - trimmed.len()) as i64;
    Some(Decimal {
        negative: negative && !trimmed.is_empty(),
        digits: trimmed.to_string(),
        exponent: if trimmed.is_empty() { 0 } else { exponent },
    })
}

fn number_text<'a>(ty: &LogicalType, value: &'a Literal) -> Result<&'a str, ValueError> {
    match value {
        Literal::Number(n) => Ok(n),
        // The full load and some LogMiner versions quote numbers.
        Literal::String(s) => Ok(s.trim()),
        _ => Err(mismatch(ty, value)),
    }
}

/// The value's digits scaled to `scale` fraction digits, as an integer string, checked against
/// `precision`.
fn scaled_digits(
    ty: &LogicalType,
    value: &Literal,
    precision: u8,
    scale: i8,
) -> Result<String, ValueError> {
    let text = number_text(ty, value)?;
    let d = parse_decimal(text).ok_or_else(|| mismatch(ty, value))?;
    if d.digits.is_empty() {
        return Ok("0".into());
    }
    let shift = d.exponent + i64::from(scale);
    if shift < 0 {
        return Err(error(
            format!("{text} has more fraction digits than the column's {ty} keeps"),
            "widen the target column's scale (the value would be rounded otherwise)",
        ));
    }
    let length = d.digits.len() as i64 + shift;
    if length > i64::from(precision) {
        return Err(error(
            format!("{text} has more digits than the column's {ty} holds"),
            "widen the target column's precision",
        ));
    }
    let mut out = String::with_capacity(length as usize + 1);
    if d.negative {
        out.push('-');
    }
    out.push_str(&d.digits);
    out.extend(std::iter::repeat_n('0', shift as usize));
    Ok(out)
}

fn integer<T: TryFrom<i128>>(ty: &LogicalType, value: &Literal) -> Result<T, ValueError> {
    let digits = scaled_digits(ty, value, 39, 0)?;
    let wide: i128 = digits.parse().map_err(|_| mismatch(ty, value))?;
    T::try_from(wide).map_err(|_| {
        error(
            format!("{wide} is outside the range of the column's {ty}"),
            "widen the target column",
        )
    })
}

fn float(ty: &LogicalType, value: &Literal) -> Result<f64, ValueError> {
    match value {
        Literal::SpecialFloat(SpecialFloat::NaN) => Ok(f64::NAN),
        Literal::SpecialFloat(SpecialFloat::Infinity) => Ok(f64::INFINITY),
        Literal::SpecialFloat(SpecialFloat::NegativeInfinity) => Ok(f64::NEG_INFINITY),
        _ => {
            let text = number_text(ty, value)?;
            match text {
                "Nan" | "NaN" => Ok(f64::NAN),
                "Inf" | "Infinity" => Ok(f64::INFINITY),
                "-Inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
                _ => parse_decimal(text)
                    .and_then(|_| text.parse::<f64>().ok())
                    .ok_or_else(|| mismatch(ty, value)),
            }
        }
    }
}

/// Plain decimal text of a number: `0.5`, `-1000000`, `0.000000007`.
fn plain_decimal(d: &Decimal) -> String {
    if d.digits.is_empty() {
        return "0".into();
    }
    let mut out = String::new();
    if d.negative {
        out.push('-');
    }
    if d.exponent >= 0 {
        out.push_str(&d.digits);
        out.extend(std::iter::repeat_n('0', d.exponent as usize));
    } else {
        let fraction = (-d.exponent) as usize;
        if fraction >= d.digits.len() {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', fraction - d.digits.len()));
            out.push_str(&d.digits);
        } else {
            let point = d.digits.len() - fraction;
            out.push_str(&d.digits[..point]);
            out.push('.');
            out.push_str(&d.digits[point..]);
        }
    }
    out
}

fn text(ty: &LogicalType, value: &Literal) -> Result<String, ValueError> {
    match (ty, value) {
        (LogicalType::Numeric | LogicalType::Decimal { .. }, _) => {
            let text = number_text(ty, value)?;
            parse_decimal(text)
                .map(|d| plain_decimal(&d))
                .ok_or_else(|| mismatch(ty, value))
        }
        (
            LogicalType::IntervalYearMonth,
            Literal::YearMonthInterval(text) | Literal::String(text),
        ) => year_month_interval(text).ok_or_else(|| mismatch(ty, value)),
        (
            LogicalType::IntervalDaySecond { .. },
            Literal::DaySecondInterval(text) | Literal::String(text),
        ) => day_second_interval(text).ok_or_else(|| mismatch(ty, value)),
        (_, Literal::String(s)) => Ok(s.clone()),
        (_, Literal::EmptyLob) => Err(empty_lob()),
        // A ROWID / number kept as text by the type map.
        (_, Literal::Number(n)) => Ok(n.clone()),
        _ => Err(mismatch(ty, value)),
    }
}

/// `EMPTY_CLOB()`: the content follows as LOB writes, which LogMiner gives as PL/SQL, not values.
fn empty_lob() -> ValueError {
    error(
        "the LOB's content was written separately (EMPTY_CLOB()/EMPTY_BLOB() then LOB writes), which LogMiner does not give as values",
        "exclude the LOB column from change capture, or reload the table with a full load",
    )
}

fn binary(ty: &LogicalType, value: &Literal) -> Result<Vec<u8>, ValueError> {
    let hex = match value {
        Literal::Raw(hex) => hex,
        // The full load reads RAW as RAWTOHEX text.
        Literal::String(hex) => hex,
        Literal::EmptyLob => return Err(empty_lob()),
        _ => return Err(mismatch(ty, value)),
    };
    if hex.len() % 2 != 0 {
        return Err(mismatch(ty, value));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| mismatch(ty, value))
}

/// `+01-02` / `-01-02` (years-months) as ISO 8601.
fn year_month_interval(text: &str) -> Option<String> {
    let (negative, rest) = sign(text.trim());
    let (years, months) = rest.split_once('-')?;
    let years: i64 = years.parse().ok()?;
    let months: i64 = months.parse().ok()?;
    if !(0..12).contains(&months) {
        return None;
    }
    if years == 0 && months == 0 {
        return Some("P0Y".into());
    }
    let s = if negative { "-" } else { "" };
    let mut out = String::from("P");
    if years != 0 {
        let _ = write!(out, "{s}{years}Y");
    }
    if months != 0 {
        let _ = write!(out, "{s}{months}M");
    }
    Some(out)
}

fn sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    }
}

/// `+03 04:05:06.789` (days, then time) as ISO 8601: `P3DT4H5M6.789S`.
fn day_second_interval(text: &str) -> Option<String> {
    let (negative, rest) = sign(text.trim());
    let (days, time) = rest.split_once(' ')?;
    let days: i64 = days.parse().ok()?;
    let mut parts = time.split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds = parts.next()?;
    if parts.next().is_some() || hours > 23 || minutes > 59 {
        return None;
    }
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let whole: i64 = whole.parse().ok()?;
    if whole > 59 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    let s = if negative { "-" } else { "" };
    let mut out = String::from("P");
    if days != 0 {
        let _ = write!(out, "{s}{days}D");
    }
    if hours != 0 || minutes != 0 || whole != 0 || !fraction.is_empty() {
        out.push('T');
        if hours != 0 {
            let _ = write!(out, "{s}{hours}H");
        }
        if minutes != 0 {
            let _ = write!(out, "{s}{minutes}M");
        }
        if whole != 0 || !fraction.is_empty() {
            let _ = write!(out, "{s}{whole}");
            if !fraction.is_empty() {
                let _ = write!(out, ".{fraction}");
            }
            out.push('S');
        }
    }
    if out == "P" {
        return Some("PT0S".into());
    }
    Some(out)
}

/// The fields of a date or timestamp, as written, with the time zone offset in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTimeFields {
    /// Astronomical year: 1 BC is 0.
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanosecond: u32,
    /// Minutes east of UTC, when the value has an offset.
    pub offset_minutes: Option<i32>,
}

impl DateTimeFields {
    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    pub fn days(&self) -> i64 {
        migrate_core::days_from_civil(self.year, i64::from(self.month), i64::from(self.day))
    }

    fn micros_of_day(&self) -> i64 {
        ((i64::from(self.hour) * 60 + i64::from(self.minute)) * 60 + i64::from(self.second))
            * 1_000_000
            + i64::from(self.nanosecond / 1000)
    }

    /// Microseconds since 1970-01-01 00:00 UTC (the offset applied when there is one).
    pub fn epoch_micros(&self) -> Option<i64> {
        let local = self
            .days()
            .checked_mul(86_400_000_000)?
            .checked_add(self.micros_of_day())?;
        local.checked_sub(i64::from(self.offset_minutes.unwrap_or(0)) * 60_000_000)
    }
}

/// Reads `text` written with the Oracle datetime format `format`. Understood elements: `SYYYY`,
/// `YYYY`, `MM`, `DD`, `HH24`, `MI`, `SS`, `FF` / `FF1`..`FF9`, `TZH`, `TZM`, `TZR` (offsets and
/// UTC only), and punctuation, which must match.
pub fn parse_datetime(text: &str, format: &str) -> Result<DateTimeFields, String> {
    let mut f = DateTimeFields {
        month: 1,
        day: 1,
        ..DateTimeFields::default()
    };
    let t = text.as_bytes();
    let mut ti = 0usize;
    let upper = format.to_ascii_uppercase();
    let mut rest = upper.as_str();
    let mut tz_sign: Option<i32> = None;
    let mut tz_hours = 0i32;
    let mut tz_minutes = 0i32;
    let digits = |ti: &mut usize, max: usize| -> Result<u32, String> {
        let start = *ti;
        while *ti < t.len() && *ti - start < max && t[*ti].is_ascii_digit() {
            *ti += 1;
        }
        if *ti == start {
            return Err(format!("expected digits at position {start} of `{text}`"));
        }
        text[start..*ti]
            .parse()
            .map_err(|_| format!("bad number in `{text}`"))
    };
    while !rest.is_empty() {
        let take = |element: &str, rest: &mut &str| -> bool {
            if rest.starts_with(element) {
                *rest = &rest[element.len()..];
                true
            } else {
                false
            }
        };
        if take("SYYYY", &mut rest) {
            let negative = match t.get(ti) {
                Some(b'-') => {
                    ti += 1;
                    true
                }
                Some(b' ' | b'+') => {
                    ti += 1;
                    false
                }
                _ => false,
            };
            let year = i64::from(digits(&mut ti, 4)?);
            if year == 0 {
                return Err(format!("year 0 does not exist in Oracle: `{text}`"));
            }
            f.year = if negative { 1 - year } else { year };
        } else if take("YYYY", &mut rest) {
            f.year = i64::from(digits(&mut ti, 4)?);
        } else if take("MM", &mut rest) {
            f.month = digits(&mut ti, 2)?;
        } else if take("DD", &mut rest) {
            f.day = digits(&mut ti, 2)?;
        } else if take("HH24", &mut rest) {
            f.hour = digits(&mut ti, 2)?;
        } else if take("MI", &mut rest) {
            f.minute = digits(&mut ti, 2)?;
        } else if take("SS", &mut rest) {
            f.second = digits(&mut ti, 2)?;
        } else if take("FF", &mut rest) {
            // FF1..FF9 fix the digit count when printing; reading takes what is there.
            if let Some(d) = rest.chars().next().filter(|c| ('1'..='9').contains(c)) {
                rest = &rest[d.len_utf8()..];
            }
            let start = ti;
            let fraction = digits(&mut ti, 9)?;
            let width = (ti - start) as u32;
            f.nanosecond = fraction * 10u32.pow(9 - width);
        } else if take("TZH", &mut rest) {
            tz_sign = Some(match t.get(ti) {
                Some(b'-') => -1,
                Some(b'+') => 1,
                _ => return Err(format!("expected a signed hour offset in `{text}`")),
            });
            ti += 1;
            tz_hours = digits(&mut ti, 2)? as i32;
        } else if take("TZM", &mut rest) {
            tz_minutes = digits(&mut ti, 2)? as i32;
        } else if take("TZR", &mut rest) {
            let region = &text[ti..];
            let end = region.find(' ').unwrap_or(region.len());
            let region = &region[..end];
            ti += end;
            let offset = |sign: i32| -> Option<(i32, i32, i32)> {
                let hours = region.get(1..3)?.parse().ok()?;
                let minutes = region.get(4..6)?.parse().ok()?;
                (region.len() == 6 && region.as_bytes()[3] == b':')
                    .then_some((sign, hours, minutes))
            };
            let parsed = match region {
                "UTC" | "GMT" | "Z" => Some((1, 0, 0)),
                _ if region.starts_with('+') => offset(1),
                _ if region.starts_with('-') => offset(-1),
                _ => None,
            };
            let (sign, hours, minutes) = parsed.ok_or_else(|| {
                format!(
                    "time zone region `{region}` can't be converted without a time zone database"
                )
            })?;
            tz_sign = Some(sign);
            tz_hours = hours;
            tz_minutes = minutes;
        } else {
            let c = rest.as_bytes()[0];
            if c.is_ascii_alphanumeric() || !c.is_ascii() {
                return Err(format!("format element at `{rest}` is not supported"));
            }
            if t.get(ti) != Some(&c) {
                return Err(format!(
                    "`{text}` does not match `{format}` at position {ti}"
                ));
            }
            ti += 1;
            rest = &rest[1..];
        }
    }
    if ti != t.len() {
        return Err(format!("unexpected `{}` after the value", &text[ti..]));
    }
    if let Some(sign) = tz_sign {
        f.offset_minutes = Some(sign * (tz_hours * 60 + tz_minutes));
    }
    let days_in_month = match f.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if f.year.rem_euclid(4) == 0
            && (f.year.rem_euclid(100) != 0 || f.year.rem_euclid(400) == 0) =>
        {
            29
        }
        2 => 28,
        _ => return Err(format!("month {} in `{text}`", f.month)),
    };
    // Oracle's Julian years have 29 February every fourth year, 1500 and 1300 included.
    let julian_leap_day = f.month == 2 && f.day == 29 && f.year < 1583 && f.year.rem_euclid(4) == 0;
    if f.day == 0
        || (f.day > days_in_month && !julian_leap_day)
        || f.hour > 23
        || f.minute > 59
        || f.second > 59
    {
        return Err(format!("`{text}` is not a valid date and time"));
    }
    if julian_leap_day && f.day > days_in_month {
        return Err(format!(
            "`{text}` is a Julian-calendar leap day that the proleptic Gregorian calendar does not have"
        ));
    }
    Ok(f)
}

fn temporal_fields(ty: &LogicalType, value: &Literal) -> Result<DateTimeFields, ValueError> {
    let (text, format) = match value {
        Literal::Date { text, format }
        | Literal::Timestamp { text, format }
        | Literal::TimestampTz { text, format } => (text.as_str(), format.as_str()),
        _ => return Err(mismatch(ty, value)),
    };
    parse_datetime(text, format).map_err(|reason| {
        error(
            reason,
            "check the session's NLS formats (migrate sets them at connect; a logon trigger may override them)",
        )
    })
}

fn timestamp(ty: &LogicalType, value: &Literal) -> Result<i64, ValueError> {
    let fields = temporal_fields(ty, value)?;
    let with_time_zone = matches!(
        ty,
        LogicalType::Timestamp {
            with_time_zone: true,
            ..
        }
    );
    if fields.offset_minutes.is_some() && !with_time_zone {
        return Err(mismatch(ty, value));
    }
    if fields.nanosecond % 1000 != 0 {
        return Err(error(
            format!(
                "{} has digits below the microsecond, which the target's microsecond timestamps can't keep",
                describe(value)
            ),
            "round the source column to 6 fractional digits (CAST(col AS TIMESTAMP(6))) or exclude it",
        ));
    }
    fields.epoch_micros().ok_or_else(|| mismatch(ty, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{
        Array, BooleanArray, Decimal128Array, Decimal256Array, Float32Array, Float64Array,
        Int16Array, Int32Array, Int64Array, LargeBinaryArray, LargeStringArray,
        TimestampMicrosecondArray,
    };

    /// The converted array as its concrete type.
    fn cell<A: arrow_array::Array + 'static>(array: &arrow_array::ArrayRef) -> &A {
        array.as_any().downcast_ref::<A>().unwrap()
    }

    fn convert(ty: &str, value: Literal) -> Result<arrow_array::ArrayRef, ValueError> {
        let ty = LogicalType::parse(ty).unwrap();
        let mut builder = ColumnBuilder::new(&migrate_batch::data_type(&ty)).unwrap();
        append(&mut builder, &ty, &value)?;
        Ok(builder.finish())
    }

    fn n(text: &str) -> Literal {
        Literal::Number(text.into())
    }

    fn s(text: &str) -> Literal {
        Literal::String(text.into())
    }

    fn ts(text: &str) -> Literal {
        Literal::Timestamp {
            text: text.into(),
            format: "SYYYY-MM-DD HH24:MI:SS.FF9".into(),
        }
    }

    fn micros(ty: &str, value: Literal) -> i64 {
        let array = convert(ty, value).unwrap();
        cell::<TimestampMicrosecondArray>(&array).value(0)
    }

    fn text_of(ty: &str, value: Literal) -> String {
        let array = convert(ty, value).unwrap();
        cell::<LargeStringArray>(&array).value(0).to_string()
    }

    #[test]
    fn fixed_decimals_are_exact_and_never_rounded() {
        let array = convert("decimal(10,2)", n("-12.5")).unwrap();
        let array = cell::<Decimal128Array>(&array);
        assert_eq!(array.value(0), -1250);
        assert_eq!(array.value_as_string(0), "-12.50");
        // 38 digits, the most NUMBER holds.
        let max = "9".repeat(38);
        let array = convert("decimal(38,0)", n(&max)).unwrap();
        assert_eq!(
            cell::<Decimal128Array>(&array).value(0),
            max.parse::<i128>().unwrap()
        );
        let array = convert("decimal(38,38)", n(&format!(".{max}"))).unwrap();
        assert_eq!(
            cell::<Decimal128Array>(&array).value_as_string(0),
            format!("0.{max}")
        );
        // NUMBER(5,-2) maps to decimal(7,0): values are multiples of 100, written plainly or
        // with an exponent.
        for written in ["1234500", "1.2345E+6", "12345E2"] {
            let array = convert("decimal(7,0)", n(written)).unwrap();
            assert_eq!(
                cell::<Decimal128Array>(&array).value(0),
                1_234_500,
                "{written}"
            );
        }
        // Above 38 digits: Decimal256 (NUMBER(*,-5) is decimal(43,0)).
        let array = convert(
            "decimal(43,0)",
            n("-1.2345678901234567890123456789012345678E+42"),
        )
        .unwrap();
        let array = cell::<Decimal256Array>(&array);
        assert_eq!(
            array.value_as_string(0),
            "-1234567890123456789012345678901234567800000"
        );
        let too_fine = convert("decimal(10,2)", n("1.005")).unwrap_err();
        assert!(
            too_fine.reason.contains("more fraction digits"),
            "{too_fine:?}"
        );
        let too_big = convert("decimal(4,2)", n("123.4")).unwrap_err();
        assert!(too_big.reason.contains("more digits"), "{too_big:?}");
        // Trailing zeros in the fraction are not extra precision.
        let array = convert("decimal(4,2)", n("10.5000")).unwrap();
        assert_eq!(cell::<Decimal128Array>(&array).value(0), 1050);
        // Zero in every spelling.
        for zero in ["0", "-0", ".0", "0E+10"] {
            let array = convert("decimal(4,2)", n(zero)).unwrap();
            assert_eq!(cell::<Decimal128Array>(&array).value(0), 0);
        }
    }

    #[test]
    fn unbounded_numbers_become_plain_decimal_text() {
        assert_eq!(text_of("numeric", n(".5")), "0.5");
        assert_eq!(text_of("numeric", n("-.5")), "-0.5");
        assert_eq!(
            text_of("numeric", n("1.0E+40")),
            format!("1{}", "0".repeat(40))
        );
        assert_eq!(
            text_of("numeric", n("7E-130")),
            format!("0.{}7", "0".repeat(129))
        );
        assert_eq!(text_of("numeric", n("-123.4500")), "-123.45");
        assert_eq!(text_of("numeric", n("0")), "0");
        // A quoted number (the full load's TO_CHAR) reads the same.
        assert_eq!(
            text_of("numeric", s("12345678901234567890123456789012345678.9")),
            "12345678901234567890123456789012345678.9"
        );
        assert!(convert("numeric", n("1.2.3")).is_err());
    }

    #[test]
    fn integers_check_their_range() {
        let array = convert("smallint", n("-32768")).unwrap();
        assert_eq!(cell::<Int16Array>(&array).value(0), -32768);
        assert!(convert("smallint", n("32768"))
            .unwrap_err()
            .reason
            .contains("outside the range"));
        let array = convert("integer", s("2147483647")).unwrap();
        assert_eq!(cell::<Int32Array>(&array).value(0), i32::MAX);
        let array = convert("bigint", n("-9223372036854775808")).unwrap();
        assert_eq!(cell::<Int64Array>(&array).value(0), i64::MIN);
        assert!(convert("bigint", n("1.5"))
            .unwrap_err()
            .reason
            .contains("fraction"));
    }

    #[test]
    fn floats_keep_special_values() {
        let array = convert(
            "double",
            Literal::SpecialFloat(SpecialFloat::NegativeInfinity),
        )
        .unwrap();
        assert_eq!(cell::<Float64Array>(&array).value(0), f64::NEG_INFINITY);
        let array = convert("real", Literal::SpecialFloat(SpecialFloat::NaN)).unwrap();
        assert!(cell::<Float32Array>(&array).value(0).is_nan());
        let array = convert("double", n("1.5E+300")).unwrap();
        assert_eq!(cell::<Float64Array>(&array).value(0), 1.5e300);
        // BINARY_DOUBLE / BINARY_FLOAT as LogMiner quotes them.
        let array = convert("double", s("1.5E+000")).unwrap();
        assert_eq!(cell::<Float64Array>(&array).value(0), 1.5);
        let array = convert("real", s("-Inf")).unwrap();
        assert_eq!(cell::<Float32Array>(&array).value(0), f32::NEG_INFINITY);
        let array = convert("double", n("-0")).unwrap();
        assert!(cell::<Float64Array>(&array).value(0).is_sign_negative());
    }

    #[test]
    fn text_keeps_quotes_and_unicode_and_empty_is_null() {
        assert_eq!(text_of("varchar(20 byte)", s("it's \"x\"")), "it's \"x\"");
        assert_eq!(text_of("text", s("日本語 😀 café")), "日本語 😀 café");
        let array = convert("varchar(10 char)", s("")).unwrap();
        assert!(array.is_null(0), "Oracle's '' is NULL");
        let array = convert("text", Literal::Null).unwrap();
        assert!(array.is_null(0));
        let lob = convert("text", Literal::EmptyLob).unwrap_err();
        assert!(lob.reason.contains("LOB"), "{lob:?}");
        let unsupported =
            convert("xml", Literal::Unsupported("Unsupported Type".into())).unwrap_err();
        assert!(unsupported.reason.contains("Unsupported Type"));
    }

    #[test]
    fn raw_and_blob_hex() {
        let array = convert("varbinary(4)", Literal::Raw("0aFF00".into())).unwrap();
        assert_eq!(
            cell::<LargeBinaryArray>(&array).value(0),
            [0x0a, 0xff, 0x00]
        );
        let array = convert("blob", s("DEADBEEF")).unwrap();
        assert_eq!(
            cell::<LargeBinaryArray>(&array).value(0),
            [0xde, 0xad, 0xbe, 0xef]
        );
        assert!(convert("blob", Literal::Raw("abc".into())).is_err());
        assert!(convert("blob", Literal::Raw("zz".into())).is_err());
        assert!(convert("blob", Literal::Raw("é1".into())).is_err());
    }

    #[test]
    fn dates_and_timestamps_keep_their_fields() {
        let date = |text: &str| Literal::Date {
            text: text.into(),
            format: "SYYYY-MM-DD HH24:MI:SS".into(),
        };
        assert_eq!(micros("timestamp(0)", date(" 1970-01-01 00:00:00")), 0);
        assert_eq!(
            micros("timestamp(0)", date(" 2024-02-29 23:59:59")),
            1_709_251_199_000_000
        );
        // Before 1900 and before the epoch.
        assert_eq!(
            micros("timestamp(0)", date(" 1899-12-31 00:00:00")),
            -2_209_075_200_000_000
        );
        // Julian dates keep their fields; 1500-02-29 exists only in the Julian calendar.
        assert_eq!(
            micros("timestamp(0)", date(" 1582-10-04 00:00:00")),
            -12_220_243_200_000_000
        );
        assert!(convert("timestamp(0)", date(" 1500-02-29 00:00:00"))
            .unwrap_err()
            .reason
            .contains("Julian"));
        // BC years: -4712 is astronomical -4711, Oracle's earliest date; PostgreSQL gives the same instant
        // for 4712-01-01 BC.
        assert_eq!(
            micros("timestamp(0)", date("-4712-01-01 00:00:00")),
            -210_831_897_600_000_000
        );
        assert!(convert("timestamp(0)", date(" 0000-01-01 00:00:00")).is_err());
        assert!(convert("timestamp(0)", date(" 2023-02-29 00:00:00")).is_err());
        assert!(convert("timestamp(0)", date(" 2024-01-15")).is_err());
        // A date in another format.
        let other = Literal::Date {
            text: "15/01/2024 10:30".into(),
            format: "DD/MM/YYYY HH24:MI".into(),
        };
        let odd = Literal::Date {
            text: "2024年01".into(),
            format: "YYYY年MM".into(),
        };
        assert!(convert("timestamp(0)", odd)
            .unwrap_err()
            .reason
            .contains("not supported"));
        assert_eq!(micros("timestamp(0)", other), 1_705_314_600_000_000);
        // Fractions: up to microseconds exactly; below is an error, not a rounding.
        assert_eq!(
            micros("timestamp(6)", ts(" 2024-01-15 10:30:00.123456000")),
            1_705_314_600_123_456
        );
        assert_eq!(
            micros("timestamp(3)", ts(" 2024-01-15 10:30:00.5")),
            1_705_314_600_500_000
        );
        let nanos = convert("timestamp(9)", ts(" 2024-01-15 10:30:00.123456789")).unwrap_err();
        assert!(nanos.reason.contains("below the microsecond"), "{nanos:?}");
        let array = convert("timestamp(6)", ts(" 2024-01-15 10:30:00.000000000")).unwrap();
        assert_eq!(
            array.data_type(),
            &arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None)
        );
    }

    #[test]
    fn time_zones_become_utc_instants() {
        let tz = |text: &str| Literal::TimestampTz {
            text: text.into(),
            format: "SYYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM".into(),
        };
        let base = 1_705_314_600_000_000; // 2024-01-15 10:30 UTC
        assert_eq!(
            micros(
                "timestamptz(6)",
                tz(" 2024-01-15 12:00:00.000000000 +01:30")
            ),
            base
        );
        assert_eq!(
            micros(
                "timestamptz(6)",
                tz(" 2024-01-15 07:00:00.000000000 -03:30")
            ),
            base
        );
        assert_eq!(
            micros(
                "timestamptz(6)",
                tz(" 2024-01-15 10:30:00.000000000 +00:00")
            ),
            base
        );
        assert_eq!(
            micros(
                "timestamptz(6)",
                tz(" 2024-01-15 10:00:00.000000000 -00:30")
            ),
            base
        );
        // WITH LOCAL TIME ZONE: written in the UTC session zone, without an offset.
        assert_eq!(
            micros("timestamptz(6)", ts(" 2024-01-15 10:30:00.000000000")),
            base
        );
        let region = Literal::TimestampTz {
            text: "2024-01-15 10:30:00 Europe/Paris".into(),
            format: "YYYY-MM-DD HH24:MI:SS TZR".into(),
        };
        assert!(convert("timestamptz(6)", region)
            .unwrap_err()
            .reason
            .contains("region"));
        let utc = Literal::TimestampTz {
            text: "2024-01-15 10:30:00 UTC".into(),
            format: "YYYY-MM-DD HH24:MI:SS TZR".into(),
        };
        assert_eq!(micros("timestamptz(6)", utc), base);
        let array = convert("timestamptz(6)", tz(" 2024-01-15 12:00:00.0 +01:30")).unwrap();
        assert!(
            matches!(array.data_type(), arrow_schema::DataType::Timestamp(_, Some(z)) if z.as_ref() == "UTC")
        );
    }

    #[test]
    fn intervals_are_iso_8601() {
        assert_eq!(
            text_of("interval_ym", Literal::YearMonthInterval("+01-02".into())),
            "P1Y2M"
        );
        assert_eq!(
            text_of("interval_ym", Literal::YearMonthInterval("-01-02".into())),
            "P-1Y-2M"
        );
        assert_eq!(
            text_of("interval_ym", Literal::YearMonthInterval("+00-00".into())),
            "P0Y"
        );
        assert_eq!(
            text_of(
                "interval_ds(6)",
                Literal::DaySecondInterval("+03 04:05:06.789000".into())
            ),
            "P3DT4H5M6.789S"
        );
        assert_eq!(
            text_of(
                "interval_ds(6)",
                Literal::DaySecondInterval("-000000000 00:00:00.500000000".into())
            ),
            "PT-0.5S"
        );
        assert_eq!(
            text_of(
                "interval_ds(6)",
                Literal::DaySecondInterval("+00 00:00:00".into())
            ),
            "PT0S"
        );
        assert!(convert(
            "interval_ds(6)",
            Literal::DaySecondInterval("+1 25:00:00".into())
        )
        .is_err());
    }

    #[test]
    fn booleans_and_mismatches() {
        let array = convert("boolean", Literal::Boolean(false)).unwrap();
        assert!(!cell::<BooleanArray>(&array).value(0));
        let array = convert("boolean", n("1")).unwrap();
        assert!(cell::<BooleanArray>(&array).value(0));
        let wrong = convert("bigint", Literal::Raw("00".into())).unwrap_err();
        assert!(wrong.reason.contains("does not fit"), "{wrong:?}");
    }
}
