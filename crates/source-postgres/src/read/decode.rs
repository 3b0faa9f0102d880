//! PostgreSQL binary values (the `send` format, as in binary COPY) to Arrow builders, exactly.

pub(crate) use super::array::Element;
use arrow_array::ArrayRef;
use arrow_buffer::i256;
use arrow_schema::DataType;
use migrate_batch::{
    date_infinity, timestamp_infinity, ColumnBuilder, DATE_INFINITY, DATE_NEG_INFINITY,
    TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY,
};
use std::fmt::Write;

/// The binary format a column arrives in (after domains are resolved to their base type and
/// unusual types are cast in the SELECT list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    Bool,
    Int2,
    Int4,
    Int8,
    /// Unsigned 32 bits (`oid`).
    Oid,
    Float4,
    Float8,
    Numeric,
    /// Text in the client encoding (UTF-8): text, varchar, bpchar, name, json, enum labels.
    Text,
    /// A version byte (1) then the JSON text.
    Jsonb,
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    /// `inet` and `cidr`: family, bits, is-cidr, length, address bytes. Read as text.
    Inet,
    /// `macaddr` (6 bytes) and `macaddr8` (8 bytes). Read as text.
    MacAddr,
    /// `bit` and `varbit`: the length in bits, then the bits. Read as text.
    Bits,
    /// An array (`array_send`), read as `to_json`'s text (see [`super::array`]).
    Array(Element),
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

pub(super) fn malformed(wire: Wire, len: usize) -> ValueError {
    malformed_value(&format!("{wire:?}"), len)
}

/// A value of `len` bytes, described as `what`, that is not in its type's binary form.
pub(super) fn malformed_value(what: &str, len: usize) -> ValueError {
    bad(
        format!("malformed {what} value of {len} bytes from the server"),
        "report this as a bug in migrate, with the server version",
    )
}

/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// An Arrow builder for one column plus the wire format it reads.
pub(crate) struct Decoder {
    wire: Wire,
    builder: ColumnBuilder,
}

impl Decoder {
    /// A decoder of `wire` values into `data_type`, or `None` when that pair makes no sense.
    pub(crate) fn new(wire: Wire, data_type: &DataType) -> Option<Decoder> {
        use Wire as W;
        let compatible = matches!(
            (data_type, wire),
            (DataType::Boolean, W::Bool)
                | (
                    DataType::Int16 | DataType::Int32 | DataType::Int64,
                    W::Int2 | W::Int4 | W::Int8 | W::Oid
                )
                | (DataType::Float32, W::Float4)
                | (DataType::Float64, W::Float8 | W::Float4)
                | (
                    DataType::Decimal128(..) | DataType::Decimal256(..),
                    W::Numeric
                )
                | (
                    DataType::Utf8,
                    W::Uuid | W::Text | W::Inet | W::MacAddr | W::Bits
                )
                | (DataType::Utf8 | DataType::LargeUtf8, W::Array(_))
                | (
                    DataType::LargeUtf8,
                    W::Text
                        | W::Jsonb
                        | W::Numeric
                        | W::TimeTz
                        | W::Interval
                        | W::Uuid
                        | W::Inet
                        | W::MacAddr
                        | W::Bits
                )
                | (DataType::LargeBinary, W::Bytea)
                | (DataType::Date32, W::Date)
                | (DataType::Time64(_), W::Time)
                | (DataType::Timestamp(_, None), W::Timestamp)
                | (DataType::Timestamp(_, Some(_)), W::TimestampTz)
        );
        if !compatible {
            return None;
        }
        let builder = ColumnBuilder::new(data_type)?;
        Some(Decoder { wire, builder })
    }

    /// Appends one value (`None`: SQL NULL). On error nothing is appended.
    pub(crate) fn append(&mut self, value: Option<&[u8]>) -> Result<(), ValueError> {
        let Some(bytes) = value else {
            self.append_null();
            return Ok(());
        };
        let wire = self.wire;
        match &mut self.builder {
            ColumnBuilder::Bool(b) => match bytes {
                [v] => b.append_value(*v != 0),
                _ => return Err(malformed(wire, bytes.len())),
            },
            ColumnBuilder::I16(b) => b.append_value(narrow(integer(wire, bytes)?, "smallint")?),
            ColumnBuilder::I32(b) => b.append_value(narrow(integer(wire, bytes)?, "integer")?),
            ColumnBuilder::I64(b) => b.append_value(integer(wire, bytes)?),
            ColumnBuilder::F32(b) => {
                b.append_value(f32::from_bits(u32::from_be_bytes(fixed(wire, bytes)?)))
            }
            ColumnBuilder::F64(b) => b.append_value(match wire {
                Wire::Float4 => f64::from(f32::from_bits(u32::from_be_bytes(fixed(wire, bytes)?))),
                _ => f64::from_bits(u64::from_be_bytes(fixed(wire, bytes)?)),
            }),
            ColumnBuilder::D128(b, p, s) => {
                let value = decimal_digits(bytes)?.unscaled(*p, *s)?;
                b.append_value(
                    value
                        .to_i128()
                        .ok_or_else(|| malformed(wire, bytes.len()))?,
                );
            }
            ColumnBuilder::D256(b, p, s) => {
                b.append_value(decimal_digits(bytes)?.unscaled(*p, *s)?)
            }
            ColumnBuilder::Utf8(b) => b.append_value(text(wire, bytes)?),
            ColumnBuilder::LargeUtf8(b) => b.append_value(text(wire, bytes)?),
            ColumnBuilder::LargeBinary(b) => b.append_value(bytes),
            ColumnBuilder::Date32(b) => b.append_value(date(bytes)?),
            ColumnBuilder::Time64(b) => b.append_value(i64::from_be_bytes(fixed(wire, bytes)?)),
            ColumnBuilder::Timestamp(b) => b.append_value(timestamp(bytes)?),
        }
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    /// The values appended since the last call, as an array; the builder starts over.
    pub(crate) fn finish(&mut self) -> ArrayRef {
        self.builder.finish()
    }
}

/// A value shown in an error message to identify a row (`42`, `'abc'`).
pub(crate) fn display_key(wire: Wire, bytes: Option<&[u8]>) -> String {
    let Some(bytes) = bytes else {
        return "NULL".into();
    };
    match wire {
        Wire::Int2 | Wire::Int4 | Wire::Int8 | Wire::Oid => integer(wire, bytes)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "?".into()),
        Wire::Text => {
            let text = String::from_utf8_lossy(bytes);
            let short: String = text.chars().take(64).collect();
            format!("'{short}'")
        }
        Wire::Uuid | Wire::Numeric | Wire::Inet | Wire::MacAddr | Wire::Bits => {
            text(wire, bytes).unwrap_or_else(|_| "?".into())
        }
        Wire::Date => date(bytes).map_or_else(|_| "?".into(), display_date),
        Wire::Timestamp | Wire::TimestampTz => timestamp(bytes).map_or_else(
            |_| "?".into(),
            |micros| display_timestamp(micros, wire == Wire::TimestampTz),
        ),
        _ => format!("<{} bytes>", bytes.len()),
    }
}

/// A date (days since 1970-01-01, the batch convention's infinities included) as
/// [`display_key`] shows it: `'2024-01-01'`, `'infinity'`.
pub(crate) fn display_date(days: i32) -> String {
    match date_infinity(days) {
        Some(infinity) => format!("'{}'", infinity.text()),
        None => format!("'{}'", calendar_text(days.into(), None)),
    }
}

/// A timestamp (microseconds since 1970, in UTC when `utc`) as [`display_key`] shows it:
/// `'2024-01-01 10:00:00+00'`, `'-infinity'`.
pub(crate) fn display_timestamp(micros: i64, utc: bool) -> String {
    match timestamp_infinity(micros) {
        Some(infinity) => format!("'{}'", infinity.text()),
        None => format!(
            "'{}'",
            calendar_text(
                micros.div_euclid(MICROS_PER_DAY),
                Some((micros.rem_euclid(MICROS_PER_DAY), utc))
            )
        ),
    }
}

pub(super) fn fixed<const N: usize>(wire: Wire, bytes: &[u8]) -> Result<[u8; N], ValueError> {
    bytes.try_into().map_err(|_| malformed(wire, bytes.len()))
}

pub(super) fn integer(wire: Wire, bytes: &[u8]) -> Result<i64, ValueError> {
    Ok(match wire {
        Wire::Int2 => i64::from(i16::from_be_bytes(fixed(wire, bytes)?)),
        Wire::Int4 => i64::from(i32::from_be_bytes(fixed(wire, bytes)?)),
        Wire::Oid => i64::from(u32::from_be_bytes(fixed(wire, bytes)?)),
        _ => i64::from_be_bytes(fixed(wire, bytes)?),
    })
}

fn narrow<T: TryFrom<i64>>(value: i64, name: &str) -> Result<T, ValueError> {
    T::try_from(value).map_err(|_| {
        bad(
            format!("{value} does not fit the column's canonical type {name}"),
            "widen the column's canonical type",
        )
    })
}

/// The text of a value that is text on the wire, or that this crate formats as text.
pub(super) fn text(wire: Wire, bytes: &[u8]) -> Result<String, ValueError> {
    match wire {
        Wire::Numeric => Ok(decimal_digits(bytes)?.to_string()),
        Wire::TimeTz => timetz(bytes),
        Wire::Interval => interval(bytes),
        Wire::Uuid => {
            let b: [u8; 16] = fixed(wire, bytes)?;
            let hex = migrate_core::hex(&b);
            Ok(format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ))
        }
        Wire::Inet => inet(bytes),
        Wire::MacAddr => match bytes.len() {
            6 | 8 => Ok(bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")),
            len => Err(malformed(wire, len)),
        },
        Wire::Bits => bits(bytes),
        Wire::Array(element) => super::array::array_json(element, bytes),
        Wire::Jsonb => match bytes.split_first() {
            Some((1, json)) => utf8(json),
            _ => Err(bad(
                "jsonb value in an unknown binary version",
                "report this as a bug in migrate, with the server version",
            )),
        },
        _ => utf8(bytes),
    }
}

/// An `inet` or `cidr` as PostgreSQL prints it (`network_out`): the address, then `/bits` for a
/// cidr or an inet that is not a whole address.
fn inet(bytes: &[u8]) -> Result<String, ValueError> {
    let malformed = || malformed(Wire::Inet, bytes.len());
    let [family, bits, is_cidr, length, address @ ..] = bytes else {
        return Err(malformed());
    };
    let (text, whole) = match (family, usize::from(*length), address) {
        (2, 4, [a, b, c, d]) => (format!("{a}.{b}.{c}.{d}"), 32),
        (3, 16, address) if address.len() == 16 => (ipv6(address), 128),
        _ => return Err(malformed()),
    };
    Ok(if *is_cidr != 0 || *bits != whole {
        format!("{text}/{bits}")
    } else {
        text
    })
}

/// An IPv6 address as PostgreSQL prints it (`inet_net_ntop_ipv6`): lower-case hex words, the
/// first longest run of two or more zero words as `::`, and an IPv4 address mapped (`::ffff:`)
/// or compatible (`::`) in dotted form.
fn ipv6(address: &[u8]) -> String {
    let words: Vec<u16> = address
        .chunks(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect();
    // The first longest run of zero words: (start, length).
    let mut best = (0, 0);
    let mut run = None;
    for (i, &word) in words.iter().chain(std::iter::once(&1)).enumerate() {
        match (word, run) {
            (0, None) => run = Some(i),
            (0, Some(_)) => {}
            (_, Some(start)) => {
                if i - start > best.1 {
                    best = (start, i - start);
                }
                run = None;
            }
            (_, None) => {}
        }
    }
    let (base, len) = if best.1 >= 2 { best } else { (usize::MAX, 0) };
    let mut text = String::new();
    for (i, word) in words.iter().enumerate() {
        if i >= base && i < base + len {
            if i == base {
                text.push(':');
            }
            continue;
        }
        if i != 0 {
            text.push(':');
        }
        if i == 6 && base == 0 && (len == 6 || (len == 5 && words[5] == 0xffff)) {
            let _ = write!(
                text,
                "{}.{}.{}.{}",
                address[12], address[13], address[14], address[15]
            );
            return text;
        }
        let _ = write!(text, "{word:x}");
    }
    if len > 0 && base + len == words.len() {
        text.push(':');
    }
    text
}

/// A `bit` or `varbit` as `0`s and `1`s.
fn bits(bytes: &[u8]) -> Result<String, ValueError> {
    let malformed = || malformed(Wire::Bits, bytes.len());
    let (length, data) = bytes.split_first_chunk::<4>().ok_or_else(malformed)?;
    let length = usize::try_from(i32::from_be_bytes(*length)).map_err(|_| malformed())?;
    if data.len() != length.div_ceil(8) {
        return Err(malformed());
    }
    Ok((0..length)
        .map(|i| {
            if data[i / 8] & (0x80 >> (i % 8)) != 0 {
                '1'
            } else {
                '0'
            }
        })
        .collect())
}

pub(crate) fn utf8(bytes: &[u8]) -> Result<String, ValueError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        bad(
            format!("text is not valid UTF-8 ({e})"),
            "the database encoding is probably SQL_ASCII: convert the column to valid UTF-8 \
             (e.g. convert_from(convert_to(col, 'SQL_ASCII'), 'LATIN1')) before the migration",
        )
    })
}

/// A date as days since 1970-01-01; PostgreSQL's `infinity` and `-infinity` (the extreme
/// days) as the batch convention's.
fn date(bytes: &[u8]) -> Result<i32, ValueError> {
    let days = i32::from_be_bytes(fixed(Wire::Date, bytes)?);
    match days {
        i32::MAX => Ok(DATE_INFINITY),
        i32::MIN => Ok(DATE_NEG_INFINITY),
        // PostgreSQL's dates end in 5874897 AD, far before the sentinels.
        _ => days
            .checked_add(PG_EPOCH_DAYS)
            .filter(|days| date_infinity(*days).is_none())
            .ok_or_else(|| malformed(Wire::Date, bytes.len())),
    }
}

/// A timestamp as microseconds since 1970-01-01; PostgreSQL's `infinity` and `-infinity` (the
/// extreme values) as the batch convention's.
fn timestamp(bytes: &[u8]) -> Result<i64, ValueError> {
    let micros = i64::from_be_bytes(fixed(Wire::Timestamp, bytes)?);
    match micros {
        i64::MAX => Ok(TIMESTAMP_INFINITY),
        i64::MIN => Ok(TIMESTAMP_NEG_INFINITY),
        _ => micros
            .checked_add(PG_EPOCH_MICROS)
            .filter(|micros| timestamp_infinity(*micros).is_none())
            .ok_or_else(|| {
                bad(
                    "timestamp at or after 294247-01-10 04:00:54.775807 (UTC) is beyond \
                     microseconds since 1970 in 64 bits (whose last value stands for `infinity`)",
                    "replace it in the source (e.g. with NULL, or with 'infinity' if that is what \
                     it means) or exclude the row, then run again",
                )
            }),
    }
}

/// A date (days since 1970-01-01), with the time of day and whether it is in UTC for a
/// timestamp, as PostgreSQL prints it: `2024-01-01`, `2024-01-01 10:00:00.5+00`, `0044-03-15 BC`.
fn calendar_text(days: i64, time: Option<(i64, bool)>) -> String {
    let (year, month, day) = migrate_core::civil_from_days(days);
    // The astronomical year 0 is 1 BC.
    let era_year = if year > 0 { year } else { 1 - year };
    let mut out = format!("{era_year:04}-{month:02}-{day:02}");
    if let Some((micros, utc)) = time {
        out.push(' ');
        time_of_day(&mut out, micros);
        if utc {
            out.push_str("+00");
        }
    }
    if year <= 0 {
        out.push_str(" BC");
    }
    out
}

/// `HH:MM:SS[.ffffff]`, trailing fraction zeros dropped, as PostgreSQL prints times.
fn time_of_day(out: &mut String, micros: i64) {
    let hours = micros / MICROS_PER_HOUR;
    let minutes = micros % MICROS_PER_HOUR / MICROS_PER_MINUTE;
    let seconds = micros % MICROS_PER_MINUTE / MICROS_PER_SECOND;
    let _ = write!(out, "{hours:02}:{minutes:02}:{seconds:02}");
    fraction(out, micros % MICROS_PER_SECOND);
}

/// `.ffffff` without trailing zeros; nothing for 0.
fn fraction(out: &mut String, micros: i64) {
    if micros != 0 {
        let digits = format!("{:06}", micros.abs());
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// `timetz`: microseconds of the day, then the zone in seconds *west* of UTC.
fn timetz(bytes: &[u8]) -> Result<String, ValueError> {
    let b: [u8; 12] = fixed(Wire::TimeTz, bytes)?;
    let micros = i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let west = i32::from_be_bytes([b[8], b[9], b[10], b[11]]);
    let mut out = String::with_capacity(24);
    time_of_day(&mut out, micros);
    let sign = if west <= 0 { '+' } else { '-' };
    let east = west.unsigned_abs();
    let (h, m, s) = (east / 3600, east % 3600 / 60, east % 60);
    let _ = match (m, s) {
        (_, s) if s != 0 => write!(out, "{sign}{h:02}:{m:02}:{s:02}"),
        (m, _) if m != 0 => write!(out, "{sign}{h:02}:{m:02}"),
        _ => write!(out, "{sign}{h:02}"),
    };
    Ok(out)
}

/// `interval` as ISO 8601, exactly as PostgreSQL prints it with `IntervalStyle = iso_8601`
/// (`P1Y2M3DT4H5M6.5S`, `PT0S`, each part signed on its own: `P-1Y-2M`, `PT-0.5S`).
fn interval(bytes: &[u8]) -> Result<String, ValueError> {
    let b: [u8; 16] = fixed(Wire::Interval, bytes)?;
    let mut time = i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let days = i32::from_be_bytes([b[8], b[9], b[10], b[11]]);
    let months = i32::from_be_bytes([b[12], b[13], b[14], b[15]]);
    let (years, months) = (months / 12, months % 12);
    let hours = time / MICROS_PER_HOUR;
    time -= hours * MICROS_PER_HOUR;
    let minutes = time / MICROS_PER_MINUTE;
    time -= minutes * MICROS_PER_MINUTE;
    let seconds = time / MICROS_PER_SECOND;
    let micros = time - seconds * MICROS_PER_SECOND;
    if years == 0 && months == 0 && days == 0 && hours == 0 && minutes == 0 && time == 0 {
        return Ok("PT0S".into());
    }
    let mut out = String::from("P");
    let part = |value: i64, unit: char, out: &mut String| {
        if value != 0 {
            let _ = write!(out, "{value}{unit}");
        }
    };
    part(i64::from(years), 'Y', &mut out);
    part(i64::from(months), 'M', &mut out);
    part(i64::from(days), 'D', &mut out);
    if hours != 0 || minutes != 0 || time != 0 {
        out.push('T');
    }
    part(hours, 'H', &mut out);
    part(minutes, 'M', &mut out);
    if time != 0 {
        if seconds < 0 || micros < 0 {
            out.push('-');
        }
        let _ = write!(out, "{}", seconds.abs());
        fraction(&mut out, micros);
        out.push('S');
    }
    Ok(out)
}

/// A decoded `numeric`: a sign and decimal digits around the point, or a special value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecimalDigits {
    Finite {
        negative: bool,
        /// Integer digits without leading zeros (empty for 0).
        integer: String,
        /// Exactly `dscale` fraction digits.
        fraction: String,
    },
    NaN,
    Infinity,
    NegativeInfinity,
}

/// Parses the binary `numeric`: ndigits, weight, sign, dscale (16 bits each), then base-10000
/// digits; the value is the sum of digit[i] * 10000^(weight - i).
pub(crate) fn decimal_digits(bytes: &[u8]) -> Result<DecimalDigits, ValueError> {
    let err = || malformed(Wire::Numeric, bytes.len());
    if bytes.len() < 8 {
        return Err(err());
    }
    let word = |i: usize| i16::from_be_bytes([bytes[2 * i], bytes[2 * i + 1]]);
    let ndigits = usize::try_from(word(0)).map_err(|_| err())?;
    let weight = i64::from(word(1));
    let sign = u16::from_be_bytes([bytes[4], bytes[5]]);
    let dscale = usize::from(u16::from_be_bytes([bytes[6], bytes[7]]) & 0x3FFF);
    if bytes.len() != 8 + 2 * ndigits {
        return Err(err());
    }
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok(DecimalDigits::NaN),
        0xD000 => return Ok(DecimalDigits::Infinity),
        0xF000 => return Ok(DecimalDigits::NegativeInfinity),
        _ => return Err(err()),
    }
    let mut integer = String::new();
    let mut fraction = String::new();
    // Integer groups have weights weight..=0; fraction groups -1, -2, ...
    for g in 0..ndigits {
        let digit = word(4 + g);
        if !(0..10_000).contains(&digit) {
            return Err(err());
        }
        let group_weight = weight - g as i64;
        if group_weight >= 0 {
            if integer.is_empty() {
                if digit != 0 {
                    integer = digit.to_string();
                }
            } else {
                let _ = write!(integer, "{digit:04}");
            }
        } else {
            // Zero groups skipped between the point and the first stored fraction group.
            while (fraction.len() as i64) < (-group_weight - 1) * 4 {
                fraction.push_str("0000");
            }
            let _ = write!(fraction, "{digit:04}");
        }
    }
    // Integer groups not stored (trailing zeros of the integer part).
    if weight >= 0 {
        let stored_integer_groups = (ndigits as i64).min(weight + 1);
        if !integer.is_empty() {
            for _ in stored_integer_groups..=weight {
                integer.push_str("0000");
            }
        }
    }
    // The stored digits may be rounded away below dscale only as zeros; pad or cut to dscale.
    if fraction.len() > dscale {
        if fraction[dscale..].bytes().any(|b| b != b'0') {
            return Err(err());
        }
        fraction.truncate(dscale);
    }
    while fraction.len() < dscale {
        fraction.push('0');
    }
    Ok(DecimalDigits::Finite {
        negative: sign == 0x4000,
        integer,
        fraction,
    })
}

impl std::fmt::Display for DecimalDigits {
    /// As PostgreSQL prints it: `-12.5000`, `0.001`, `NaN`, `Infinity`, `-Infinity`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecimalDigits::NaN => f.write_str("NaN"),
            DecimalDigits::Infinity => f.write_str("Infinity"),
            DecimalDigits::NegativeInfinity => f.write_str("-Infinity"),
            DecimalDigits::Finite {
                negative,
                integer,
                fraction,
            } => {
                let zero = integer.is_empty() && fraction.bytes().all(|b| b == b'0');
                if *negative && !zero {
                    f.write_str("-")?;
                }
                f.write_str(if integer.is_empty() { "0" } else { integer })?;
                if !fraction.is_empty() {
                    write!(f, ".{fraction}")?;
                }
                Ok(())
            }
        }
    }
}

impl DecimalDigits {
    /// The value scaled by 10^scale as an integer of at most `precision` digits; an error if
    /// that loses a digit or the value is NaN or infinite.
    fn unscaled(&self, precision: u8, scale: i8) -> Result<i256, ValueError> {
        let DecimalDigits::Finite {
            negative,
            integer,
            fraction,
        } = self
        else {
            return Err(bad(
                format!("numeric value `{self}` has no decimal({precision},{scale}) value"),
                "replace NaN/Infinity in the source (e.g. with NULL) or map the column to \
                 `numeric` (carried as text), then run again",
            ));
        };
        let scale = usize::try_from(scale).unwrap_or(0);
        let (kept, dropped) = fraction.split_at(fraction.len().min(scale));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(bad(
                format!("{self} has more than {scale} fraction digits"),
                "map the column to a decimal with a larger scale",
            ));
        }
        let digits = integer.len() + scale;
        if digits > usize::from(precision) {
            return Err(bad(
                format!("{self} has more than {precision} digits"),
                "map the column to a decimal with a larger precision",
            ));
        }
        let mut value = i256::ZERO;
        let ten = i256::from_i128(10);
        let padding = scale - kept.len();
        for b in integer
            .bytes()
            .chain(kept.bytes())
            .chain(std::iter::repeat_n(b'0', padding))
        {
            value = value
                .checked_mul(ten)
                .and_then(|v| v.checked_add(i256::from_i128(i128::from(b - b'0'))))
                .ok_or_else(|| bad(format!("{self} overflows {digits} digits"), ""))?;
        }
        Ok(if *negative {
            value.wrapping_neg()
        } else {
            value
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend((digits.len() as i16).to_be_bytes());
        out.extend(weight.to_be_bytes());
        out.extend(sign.to_be_bytes());
        out.extend(dscale.to_be_bytes());
        for d in digits {
            out.extend(d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numerics_print_like_postgres() {
        let text = |w, s, d, g: &[i16]| decimal_digits(&numeric(w, s, d, g)).unwrap().to_string();
        assert_eq!(text(0, 0x4000, 4, &[12, 5000]), "-12.5000");
        assert_eq!(text(-1, 0, 3, &[10]), "0.001");
        assert_eq!(text(-2, 0, 8, &[1]), "0.00000001");
        assert_eq!(text(2, 0, 0, &[1]), "100000000");
        assert_eq!(text(0, 0, 2, &[]), "0.00");
        assert_eq!(text(0, 0xC000, 0, &[]), "NaN");
        assert_eq!(text(0, 0xF000, 0, &[]), "-Infinity");
    }

    #[test]
    fn decimals_scale_exactly() {
        let d = decimal_digits(&numeric(0, 0x4000, 2, &[12, 5000])).unwrap();
        assert_eq!(d.unscaled(10, 2).unwrap(), i256::from_i128(-1250));
        assert_eq!(d.unscaled(10, 4).unwrap(), i256::from_i128(-125000));
        assert!(d.unscaled(10, 0).is_err(), "would drop .5");
        assert!(d.unscaled(2, 2).is_err(), "too many digits");
        assert!(DecimalDigits::NaN.unscaled(10, 2).is_err());
    }

    #[test]
    fn intervals_follow_postgres_iso_8601() {
        let iv = |micros: i64, days: i32, months: i32| {
            let mut b = micros.to_be_bytes().to_vec();
            b.extend(days.to_be_bytes());
            b.extend(months.to_be_bytes());
            interval(&b).unwrap()
        };
        assert_eq!(iv(0, 0, 0), "PT0S");
        assert_eq!(iv(3_723_500_000, 3, 14), "P1Y2M3DT1H2M3.5S");
        assert_eq!(iv(-500_000, 0, 0), "PT-0.5S");
        assert_eq!(iv(0, -2, -13), "P-1Y-1M-2D");
    }

    #[test]
    fn timetz_keeps_the_offset() {
        let mut b = (12 * MICROS_PER_HOUR + 250_000).to_be_bytes().to_vec();
        b.extend((-19_800i32).to_be_bytes());
        assert_eq!(timetz(&b).unwrap(), "12:00:00.25+05:30");
    }

    #[test]
    fn infinities_are_the_batch_sentinels() {
        assert_eq!(date(&i32::MAX.to_be_bytes()), Ok(i32::MAX));
        assert_eq!(date(&i32::MIN.to_be_bytes()), Ok(i32::MIN));
        assert_eq!(date(&0i32.to_be_bytes()).unwrap(), 10_957);
        assert_eq!(timestamp(&i64::MAX.to_be_bytes()), Ok(i64::MAX));
        assert_eq!(timestamp(&i64::MIN.to_be_bytes()), Ok(i64::MIN));
        assert_eq!(timestamp(&0i64.to_be_bytes()), Ok(PG_EPOCH_MICROS));
        // A finite timestamp that would be the sentinel of `infinity`, and the later ones
        // (PostgreSQL's go on to 294276), are refused.
        let last = timestamp(&(i64::MAX - PG_EPOCH_MICROS).to_be_bytes()).unwrap_err();
        assert!(last.reason.contains("beyond"), "{last:?}");
        assert!(timestamp(&(i64::MAX - 1).to_be_bytes()).is_err());
        assert_eq!(
            timestamp(&(i64::MAX - PG_EPOCH_MICROS - 1).to_be_bytes()),
            Ok(i64::MAX - 1)
        );
    }

    #[test]
    fn dates_and_timestamps_in_keys_print_like_postgres() {
        let key = |wire, value: &[u8]| display_key(wire, Some(value));
        let micros = |pg_micros: i64| pg_micros.to_be_bytes();
        assert_eq!(key(Wire::Date, &0i32.to_be_bytes()), "'2000-01-01'");
        assert_eq!(
            key(Wire::Date, &(-746_117i32).to_be_bytes()),
            "'0044-03-15 BC'"
        );
        assert_eq!(key(Wire::Date, &i32::MAX.to_be_bytes()), "'infinity'");
        assert_eq!(
            key(Wire::TimestampTz, &micros(36_000_500_000)),
            "'2000-01-01 10:00:00.5+00'"
        );
        assert_eq!(
            key(Wire::Timestamp, &micros(-1)),
            "'1999-12-31 23:59:59.999999'"
        );
        assert_eq!(key(Wire::TimestampTz, &micros(i64::MIN)), "'-infinity'");
    }

    #[test]
    fn malformed_addresses_and_bit_strings_are_errors() {
        assert_eq!(inet(&[2, 24, 0, 4, 10, 1, 2, 3]).unwrap(), "10.1.2.3/24");
        assert_eq!(inet(&[2, 8, 1, 4, 10, 0, 0, 0]).unwrap(), "10.0.0.0/8");
        // A length that disagrees with the family or the bytes.
        assert!(inet(&[2, 32, 0, 16, 10, 1, 2, 3]).is_err());
        assert!(inet(&[2, 32, 0, 4, 10, 1]).is_err());
        assert!(inet(&[9, 32, 0, 4, 10, 1, 2, 3]).is_err());
        assert_eq!(bits(&[0, 0, 0, 3, 0b1010_0000]).unwrap(), "101");
        assert_eq!(bits(&[0, 0, 0, 0]).unwrap(), "");
        assert!(bits(&[0, 0, 0, 10, 0xff]).is_err());
        assert!(bits(&[0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(bits(&[0, 0]).is_err());
    }
}
