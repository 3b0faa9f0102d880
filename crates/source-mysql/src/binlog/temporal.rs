//! TIME, DATETIME and TIMESTAMP row values that `mysql_common` misreads, read here instead:
//!
//! - MySQL 5.6's TIME2 (MariaDB's too): with one or two fraction digits, a negative value with a
//!   fraction makes `mysql_common`'s unsigned arithmetic overflow (a panic, or a wrong value).
//! - The formats of before MySQL 5.6.4 / MariaDB 10.1.2, which tables keep through upgrades
//!   (MariaDB shows them as `datetime(6) /* mariadb-5.3 */`; `mysql56_temporal_format=OFF`
//!   still creates them). Their TableMap type is the plain TIME/DATETIME/TIMESTAMP and carries
//!   no metadata, but MariaDB's with fraction digits are wider than that type's fixed width, in
//!   a format of their own: read as the fixed width, the row's later columns shift too. The
//!   fraction digits come from the catalog's type. The plain TIME is a signed number, which
//!   `mysql_common` reads as unsigned.

use mysql_async::consts::ColumnType;
use mysql_async::Value;
use mysql_common::io::ParseBuf;
use std::io;

/// How one binlog column's value is read here (see the module's comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Temporal {
    /// TIME2 with this many fraction digits.
    Time2(u8),
    /// The old TIME: without fraction digits a 3-byte signed little-endian `HHMMSS` number;
    /// with `n`, MariaDB's big-endian count of 10^-n seconds offset by 838:59:59 + 1 s.
    OldTime(u8),
    /// MariaDB's old DATETIME with `n` (1 to 6) fraction digits: a big-endian
    /// `((((year * 13 + month) * 32 + day) * 24 + hour) * 60 + minute) * 60 + second` in
    /// 10^-n seconds.
    OldDatetime(u8),
    /// MariaDB's old TIMESTAMP with `n` (1 to 6) fraction digits: big-endian seconds since the
    /// epoch, then the fraction in 10^-n seconds, big-endian.
    OldTimestamp(u8),
}

/// Bytes of MariaDB's old TIME by fraction digits.
const OLD_TIME_BYTES: [usize; 7] = [3, 4, 4, 5, 5, 5, 6];
/// Bytes of MariaDB's old DATETIME by fraction digits.
const OLD_DATETIME_BYTES: [usize; 7] = [5, 6, 6, 7, 7, 7, 8];
/// Bytes of MariaDB's old TIMESTAMP's fraction by fraction digits.
const OLD_TIMESTAMP_FRACTION_BYTES: [usize; 7] = [0, 1, 1, 2, 2, 3, 3];
/// 838:59:59 + 1 s in seconds: MariaDB's old TIME with a fraction stores the value plus this.
const OLD_TIME_ZERO_SECONDS: i64 = 838 * 3600 + 59 * 60 + 59 + 1;

impl Temporal {
    /// How a column of TableMap type `column_type` (with its TableMap metadata `meta`) is read,
    /// given its catalog type `source_type` (`datetime(3) /* mariadb-5.3 */`; `None`: unknown):
    /// `Ok(None)` when `mysql_common` reads it right. Every TIME2 is read here (one reader for
    /// all fraction digits; only 1 and 2 need it). An error says why it can't be read.
    pub fn of(
        column_type: ColumnType,
        meta: &[u8],
        source_type: Option<&str>,
    ) -> Result<Option<Temporal>, String> {
        use ColumnType as T;
        let digits = |what: &str| -> Result<u8, String> {
            let source_type = source_type.ok_or_else(|| {
                format!("its {what} value's width depends on its fraction digits, and the catalog has no definition of the column")
            })?;
            fraction_digits(source_type).ok_or_else(|| {
                format!("its {what} value's width depends on its fraction digits, which its type `{source_type}` does not give")
            })
        };
        Ok(match column_type {
            T::MYSQL_TYPE_TIME2 => match meta.first() {
                Some(&n) if n <= 6 => Some(Temporal::Time2(n)),
                _ => {
                    return Err(format!(
                        "its TIME table-map metadata {meta:?} gives no fraction digits (0 to 6)"
                    ))
                }
            },
            T::MYSQL_TYPE_TIME => Some(Temporal::OldTime(digits("TIME")?)),
            T::MYSQL_TYPE_DATETIME => match digits("DATETIME")? {
                0 => None,
                n => Some(Temporal::OldDatetime(n)),
            },
            T::MYSQL_TYPE_TIMESTAMP => match digits("TIMESTAMP")? {
                0 => None,
                n => Some(Temporal::OldTimestamp(n)),
            },
            _ => None,
        })
    }

    /// Reads one value from `buf`: TIME as `Value::Time`, DATETIME as `Value::Date`, TIMESTAMP
    /// as `mysql_common` gives TIMESTAMP2 (`seconds` or `seconds.micros` text).
    pub fn read(self, buf: &mut ParseBuf<'_>) -> io::Result<Value> {
        let width = match self {
            Temporal::Time2(n) => 3 + usize::from(n).div_ceil(2),
            Temporal::OldTime(n) => OLD_TIME_BYTES[usize::from(n)],
            Temporal::OldDatetime(n) => OLD_DATETIME_BYTES[usize::from(n)],
            Temporal::OldTimestamp(n) => 4 + OLD_TIMESTAMP_FRACTION_BYTES[usize::from(n)],
        };
        let bytes = buf.checked_eat(width).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("a temporal value of {width} bytes is cut short"),
            )
        })?;
        Ok(match self {
            Temporal::Time2(n) => time2(bytes, n),
            Temporal::OldTime(0) => {
                let v = i64::from(i32::from_le_bytes([0, bytes[0], bytes[1], bytes[2]]) >> 8);
                let a = v.unsigned_abs();
                time(v < 0, a / 10_000, (a / 100 % 100) as u8, (a % 100) as u8, 0)
            }
            Temporal::OldTime(n) => {
                let micros = (big_endian(bytes) - OLD_TIME_ZERO_SECONDS * 10i64.pow(n.into()))
                    * 10i64.pow(u32::from(6 - n));
                let a = micros.unsigned_abs();
                let seconds = a / 1_000_000;
                time(
                    micros < 0,
                    seconds / 3600,
                    (seconds / 60 % 60) as u8,
                    (seconds % 60) as u8,
                    (a % 1_000_000) as u32,
                )
            }
            Temporal::OldDatetime(n) => {
                let mut v = big_endian(bytes) * 10i64.pow(u32::from(6 - n));
                let mut next = |base: i64| {
                    let part = v % base;
                    v /= base;
                    part
                };
                let (micros, second, minute, hour, day, month) = (
                    next(1_000_000),
                    next(60),
                    next(60),
                    next(24),
                    next(32),
                    next(13),
                );
                let year = u16::try_from(v).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a DATETIME value has the year {v}"),
                    )
                })?;
                Value::Date(
                    year,
                    month as u8,
                    day as u8,
                    hour as u8,
                    minute as u8,
                    second as u8,
                    micros as u32,
                )
            }
            Temporal::OldTimestamp(n) => {
                let seconds = big_endian(&bytes[..4]);
                let micros = big_endian(&bytes[4..]) * 10i64.pow(u32::from(6 - n));
                Value::Bytes(if micros == 0 {
                    seconds.to_string().into_bytes()
                } else {
                    format!("{seconds}.{micros:06}").into_bytes()
                })
            }
        })
    }
}

/// The digits in parentheses after a TIME/DATETIME/TIMESTAMP type (`time(3)`: 3, `time`: 0).
fn fraction_digits(source_type: &str) -> Option<u8> {
    if !source_type.contains('(') {
        return Some(0);
    }
    let digits = crate::read::type_argument(source_type)?;
    (digits <= 6).then_some(digits as u8)
}

/// An unsigned big-endian number of at most 8 bytes (the widest here are 8 with a top bit of 0).
fn big_endian(bytes: &[u8]) -> i64 {
    bytes.iter().fold(0, |acc, b| (acc << 8) | i64::from(*b))
}

/// TIME as the binary protocol gives it (days apart from hours), from its total hours.
fn time(negative: bool, hours: u64, minute: u8, second: u8, micros: u32) -> Value {
    // At most 838 hours: the days fit.
    Value::Time(
        negative,
        (hours / 24) as u32,
        (hours % 24) as u8,
        minute,
        second,
        micros,
    )
}

/// TIME2 as MySQL's `my_time_packed_from_binary` and `TIME_from_longlong_time_packed` read it,
/// in signed arithmetic: the packed value is `hour << 36 | minute << 30 | second << 24 |
/// microseconds`, negated for a negative time; its binary form is offset by 2^47 (2^23 for the
/// whole seconds part when the fraction is stored apart).
fn time2(bytes: &[u8], digits: u8) -> Value {
    const INT_OFFSET: i64 = 0x80_0000;
    let mut int = big_endian(&bytes[..3]) - INT_OFFSET;
    let fraction = big_endian(&bytes[3..]);
    let packed = match digits {
        1..=4 => {
            let (span, unit) = if digits <= 2 {
                (0x100, 10_000)
            } else {
                (0x1_0000, 100)
            };
            // A negative value with a fraction stores the whole part rounded down and the
            // fraction as its complement.
            let mut fraction = fraction;
            if int < 0 && fraction > 0 {
                int += 1;
                fraction -= span;
            }
            (int << 24) + fraction * unit
        }
        5 | 6 => big_endian(bytes) - 0x8000_0000_0000,
        _ => int << 24,
    };
    let a = packed.unsigned_abs();
    let hms = a >> 24;
    time(
        packed < 0,
        (hms >> 12) % (1 << 10),
        ((hms >> 6) % (1 << 6)) as u8,
        (hms % (1 << 6)) as u8,
        (a % (1 << 24)) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(temporal: Temporal, bytes: &[u8]) -> Value {
        let mut buf = ParseBuf(bytes);
        let value = temporal.read(&mut buf).unwrap();
        assert!(buf.is_empty());
        value
    }

    /// MySQL's TIME2 bytes of a time, as `my_time_packed_to_binary` writes them: the whole
    /// part shifted (rounded down), the fraction a truncated remainder.
    fn time2_bytes(negative: bool, h: i64, m: i64, s: i64, micros: i64, digits: u8) -> Vec<u8> {
        let packed = ((h << 12 | m << 6 | s) << 24) + micros;
        let packed = if negative { -packed } else { packed };
        let mut bytes = ((packed >> 24) + 0x80_0000).to_be_bytes()[5..].to_vec();
        let frac = packed % (1 << 24);
        match digits {
            0 => {}
            1 | 2 => bytes.push((frac / 10_000) as i8 as u8),
            3 | 4 => bytes.extend(((frac / 100) as i16).to_be_bytes()),
            _ => bytes = (packed + 0x8000_0000_0000).to_be_bytes()[2..].to_vec(),
        }
        bytes
    }

    #[test]
    fn time2_values_negative_ones_with_a_fraction_included() {
        for digits in 0..=6u8 {
            let unit = 10i64.pow(u32::from(6 - digits));
            for (negative, h, m, s, micros) in [
                (false, 0, 0, 0, 0),
                (false, 23, 59, 59, 999_999),
                (true, 0, 0, 1, 500_000),
                (true, 0, 0, 0, 10_000),
                (true, 838, 59, 59, 999_999),
                (false, 838, 59, 59, 0),
            ] {
                let micros = micros / unit * unit;
                let bytes = time2_bytes(negative, h, m, s, micros, digits);
                let expected = time(
                    negative && (h, m, s, micros) != (0, 0, 0, 0),
                    h as u64,
                    m as u8,
                    s as u8,
                    micros as u32,
                );
                assert_eq!(
                    read(Temporal::Time2(digits), &bytes),
                    expected,
                    "TIME({digits}) {negative} {h}:{m}:{s}.{micros}"
                );
            }
        }
    }

    #[test]
    fn mariadbs_old_formats() {
        // Bytes as MariaDB 10.11 wrote them with mysql56_temporal_format=OFF.
        let v = read(Temporal::OldTime(3), &[0x00, 0xb6, 0xba, 0xd2, 0x15]);
        assert_eq!(v, Value::Time(false, 0, 12, 34, 56, 789_000));
        let v = read(Temporal::OldTime(6), &[0x02, 0xd3, 0x5b, 0xb5, 0xdb, 0xff]);
        assert_eq!(v, Value::Time(false, 0, 23, 59, 59, 999_999));
        // -00:00:00.001 and -838:59:59 (34 days 22 hours) around the zero point.
        let zero = OLD_TIME_ZERO_SECONDS * 1000;
        let v = read(Temporal::OldTime(3), &(zero - 1).to_be_bytes()[3..]);
        assert_eq!(v, Value::Time(true, 0, 0, 0, 0, 1000));
        let v = read(Temporal::OldTime(3), &1000i64.to_be_bytes()[3..]);
        assert_eq!(v, Value::Time(true, 34, 22, 59, 59, 0));
        // The plain TIME is signed: -12:34:56.
        let v = read(Temporal::OldTime(0), &(-123_456i32).to_le_bytes()[..3]);
        assert_eq!(v, Value::Time(true, 0, 12, 34, 56, 0));
        let v = read(Temporal::OldTime(0), &[0x40, 0xe2, 0x01]);
        assert_eq!(v, Value::Time(false, 0, 12, 34, 56, 0));
        let v = read(
            Temporal::OldDatetime(3),
            &[0x00, 0x42, 0x2d, 0x2c, 0x63, 0xa4, 0x23],
        );
        assert_eq!(v, Value::Date(2024, 5, 6, 7, 8, 9, 123_000));
        let v = read(
            Temporal::OldDatetime(6),
            &[0x04, 0xfc, 0xee, 0x39, 0x43, 0xbf, 0xff, 0xff],
        );
        assert_eq!(v, Value::Date(9999, 12, 31, 23, 59, 59, 999_999));
        let v = read(Temporal::OldDatetime(6), &[0; 8]);
        assert_eq!(v, Value::Date(0, 0, 0, 0, 0, 0, 0));
        let v = read(
            Temporal::OldTimestamp(3),
            &[0x66, 0x38, 0x81, 0xd9, 0x00, 0x7b],
        );
        assert_eq!(v, Value::Bytes(b"1714979289.123000".to_vec()));
        let v = read(
            Temporal::OldTimestamp(6),
            &[0x7f, 0xff, 0xff, 0xff, 0x0f, 0x42, 0x3f],
        );
        assert_eq!(v, Value::Bytes(b"2147483647.999999".to_vec()));
        let v = read(Temporal::OldTimestamp(1), &[0, 0, 0, 1, 0]);
        assert_eq!(v, Value::Bytes(b"1".to_vec()));
        // A cut value is an error, not a panic.
        assert!(Temporal::OldDatetime(6)
            .read(&mut ParseBuf(&[1, 2]))
            .is_err());
    }

    #[test]
    fn widths_come_from_the_catalog_type() {
        use ColumnType as T;
        let of = |t, meta: &[u8], source: Option<&str>| Temporal::of(t, meta, source);
        assert_eq!(
            of(T::MYSQL_TYPE_TIME2, &[2], None),
            Ok(Some(Temporal::Time2(2)))
        );
        assert!(of(T::MYSQL_TYPE_TIME2, &[], None).is_err());
        assert_eq!(
            of(T::MYSQL_TYPE_TIME, &[], Some("time(3) /* mariadb-5.3 */")),
            Ok(Some(Temporal::OldTime(3)))
        );
        assert_eq!(
            of(T::MYSQL_TYPE_TIME, &[], Some("time")),
            Ok(Some(Temporal::OldTime(0)))
        );
        assert_eq!(
            of(
                T::MYSQL_TYPE_DATETIME,
                &[],
                Some("datetime /* mariadb-5.3 */")
            ),
            Ok(None)
        );
        assert_eq!(
            of(T::MYSQL_TYPE_TIMESTAMP, &[], Some("timestamp(6)")),
            Ok(Some(Temporal::OldTimestamp(6)))
        );
        assert!(of(T::MYSQL_TYPE_DATETIME, &[], None).is_err());
        assert!(of(T::MYSQL_TYPE_DATETIME, &[], Some("datetime(9)")).is_err());
        assert_eq!(of(T::MYSQL_TYPE_DATETIME2, &[6], None), Ok(None));
    }
}
