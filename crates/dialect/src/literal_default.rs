//! Literal defaults whose source spelling means something else, or nothing, in the targets.
//! mysqldump writes BIT defaults as bit or hex literals (`b'1'`, `b'00000101'`, `0x01`), booleans
//! as `0`/`1`, and legacy date defaults as zero dates (`'0000-00-00 00:00:00'`) or, under
//! `ALLOW_INVALID_DATES`, as dates that do not exist (`'2024-02-30'`), and binary
//! columns' defaults as hex, bit or string literals (`0x4142`, `'\0\0\0'`), which the targets spell otherwise.
//! A MySQL TIME is a duration (-838:59:59 to 838:59:59), so its default may be no time of day.

use migrate_core::{civil_from_days, days_from_civil, LogicalType, SourceDialect};

/// What a literal default becomes in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LiteralDefault {
    /// The value in the target's spelling (`TRUE`, `5`).
    Value(String),
    /// A zero date, or a date with a zero month or day: no date has that value.
    ZeroDate,
    /// A date past its month's last day (`'2024-02-30'`, `'2023-04-31'`), which MySQL keeps as
    /// written under `ALLOW_INVALID_DATES`: no target date has it either.
    NoSuchDate,
    /// The bytes of a binary column's default.
    Bytes(Vec<u8>),
    /// A MySQL TIME past 24:00:00 or negative (`'25:00:00'`, `'-01:00:00'`): the targets' TIME
    /// is a time of day, from 00:00:00 to 24:00:00.
    TimeOutOfRange,
}

/// The target form of `expression` as the default of a column of `data_type`, when it is one of
/// the literals above; `None` leaves the expression to the SQL rewriter.
pub(crate) fn literal_default(
    data_type: &LogicalType,
    expression: &str,
    from: SourceDialect,
) -> Option<LiteralDefault> {
    let expression = expression.trim();
    match data_type {
        LogicalType::Binary { .. } | LogicalType::Varbinary { .. } | LogicalType::Blob
            if from == SourceDialect::Mysql =>
        {
            mysql_bytes(expression).map(LiteralDefault::Bytes)
        }
        // BIT(1) and TINYINT(1) become BOOLEAN.
        LogicalType::Boolean => match integer_literal(expression)? {
            0 => Some(LiteralDefault::Value("FALSE".into())),
            1 => Some(LiteralDefault::Value("TRUE".into())),
            _ => None,
        },
        // Wider BITs become integers (BIT(64) a DECIMAL(20,0)): a bit string is its number.
        LogicalType::SmallInt
        | LogicalType::Integer
        | LogicalType::BigInt
        | LogicalType::Decimal { scale: 0, .. }
        | LogicalType::Numeric => {
            bit_string_value(expression).map(|value| LiteralDefault::Value(value.to_string()))
        }
        LogicalType::Date | LogicalType::Timestamp { .. } => match date_parts(expression)? {
            (_, 0, _) | (_, _, 0) => Some(LiteralDefault::ZeroDate),
            (year, month, day) => {
                let days = days_from_civil(year, i64::from(month), i64::from(day));
                (civil_from_days(days) != (year, month, day)).then_some(LiteralDefault::NoSuchDate)
            }
        },
        LogicalType::Time { .. } if from == SourceDialect::Mysql => {
            is_past_a_day(expression).then_some(LiteralDefault::TimeOutOfRange)
        }
        _ => None,
    }
}

/// A bit or hex literal, or a plain or quoted decimal integer (`1`, `'0'`).
fn integer_literal(expression: &str) -> Option<u128> {
    bit_string_value(expression).or_else(|| unquoted(expression).parse().ok())
}

/// The number a bit or hex literal spells: `b'101'`, `0b101`, `x'0A'`, `0x0A` (MySQL's forms).
fn bit_string_value(expression: &str) -> Option<u128> {
    let quoted_digits = |prefix: char| {
        let rest = expression.strip_prefix([prefix, prefix.to_ascii_uppercase()])?;
        rest.strip_prefix('\'')?.strip_suffix('\'')
    };
    let (digits, radix) = if let Some(digits) = quoted_digits('b') {
        (digits, 2)
    } else if let Some(digits) = quoted_digits('x') {
        (digits, 16)
    } else if let Some(digits) = expression.strip_prefix("0b") {
        (digits, 2)
    } else if let Some(digits) = expression.strip_prefix("0x") {
        (digits, 16)
    } else {
        return None;
    };
    u128::from_str_radix(digits, radix).ok()
}

/// The bytes a MySQL literal spells: a hex or bit literal (`0x4142`, `X'4142'`, `b'01000001'`),
/// or a string (`'AB'`, `_binary '\0\0'`) with MySQL's backslash escapes.
fn mysql_bytes(expression: &str) -> Option<Vec<u8>> {
    let expression = expression
        .strip_prefix("_binary")
        .unwrap_or(expression)
        .trim();
    let (digits, radix) = if let Some(hex) = expression.strip_prefix("0x") {
        (hex, 16)
    } else if let Some(bits) = expression.strip_prefix("0b") {
        (bits, 2)
    } else if let Some(quoted) = expression
        .strip_prefix(['x', 'X'])
        .and_then(|rest| rest.strip_prefix('\'')?.strip_suffix('\''))
    {
        (quoted, 16)
    } else if let Some(quoted) = expression
        .strip_prefix(['b', 'B'])
        .and_then(|rest| rest.strip_prefix('\'')?.strip_suffix('\''))
    {
        (quoted, 2)
    } else {
        let text = expression.strip_prefix('\'')?.strip_suffix('\'')?;
        return mysql_string_bytes(text);
    };
    let width = if radix == 16 { 2 } else { 8 };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // A literal of a partial byte is padded on the left, as MySQL does (`0x141` is 0x0141).
    let padded = format!(
        "{}{digits}",
        "0".repeat((width - digits.len() % width) % width)
    );
    padded
        .as_bytes()
        .chunks(width)
        .map(|chunk| u8::from_str_radix(std::str::from_utf8(chunk).ok()?, radix).ok())
        .collect()
}

/// The bytes of a MySQL string literal's text (between the quotes).
fn mysql_string_bytes(text: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => match chars.next()? {
                '0' => '\0',
                'b' => '\u{8}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'Z' => '\u{1a}',
                // `\%` and `\_` keep their backslash.
                escaped @ ('%' | '_') => {
                    bytes.push(b'\\');
                    escaped
                }
                other => other,
            },
            // `''` is one quote; a lone quote would have ended the literal.
            '\'' => match chars.next()? {
                '\'' => '\'',
                _ => return None,
            },
            other => other,
        };
        let mut buffer = [0; 4];
        bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
    }
    Some(bytes)
}

/// MySQL's zero date `'0000-00-00'` (with or without a time), or any date with a zero month or day,
/// which MySQL accepts outside strict modes.
/// The year, month and day a date or timestamp literal spells (`'2024-02-30'`,
/// `'0000-00-00 00:00:00'`), as written: digits only, not checked against the calendar.
fn date_parts(expression: &str) -> Option<(i64, u32, u32)> {
    let text = unquoted(expression);
    let date = text.split([' ', 'T']).next().unwrap_or_default();
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let number = |part: &str| {
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    Some((i64::from(number(year)?), number(month)?, number(day)?))
}

/// A MySQL TIME literal that is no time of day: negative or past 24:00:00. MySQL writes
/// `'[-][D ]HH:MM:SS[.frac]'` (days count 24 hours), or `'HHMMSS'` without colons.
fn is_past_a_day(expression: &str) -> bool {
    let text = unquoted(expression).trim();
    if text.starts_with('-') {
        return true;
    }
    let (days, clock) = match text.split_once(' ') {
        Some((days, clock)) => (days.parse::<f64>().unwrap_or(0.0), clock.trim()),
        None => (0.0, text),
    };
    let seconds = if clock.contains(':') {
        clock
            .split(':')
            .zip([3600.0, 60.0, 1.0])
            .map(|(part, unit)| part.parse::<f64>().unwrap_or(0.0) * unit)
            .sum::<f64>()
    } else {
        let number = clock.parse::<f64>().unwrap_or(0.0);
        let whole = number.trunc();
        (whole / 10000.0).trunc() * 3600.0
            + ((whole % 10000.0) / 100.0).trunc() * 60.0
            + whole % 100.0
            + number.fract()
    };
    days * 86400.0 + seconds > 86400.0
}

/// The text of a single-quoted string literal, or the expression itself.
fn unquoted(expression: &str) -> &str {
    expression
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or(expression)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(data_type: LogicalType, expression: &str) -> Option<String> {
        match literal_default(&data_type, expression, SourceDialect::Mysql) {
            Some(LiteralDefault::Value(value)) => Some(value),
            _ => None,
        }
    }

    #[test]
    fn bit_and_hex_literals_become_booleans_and_numbers() {
        assert_eq!(value(LogicalType::Boolean, "b'1'").as_deref(), Some("TRUE"));
        assert_eq!(
            value(LogicalType::Boolean, "B'0'").as_deref(),
            Some("FALSE")
        );
        assert_eq!(value(LogicalType::Boolean, "0x01").as_deref(), Some("TRUE"));
        assert_eq!(value(LogicalType::Boolean, "'0'").as_deref(), Some("FALSE"));
        assert_eq!(value(LogicalType::Boolean, "1").as_deref(), Some("TRUE"));
        assert_eq!(value(LogicalType::Boolean, "2"), None);
        assert_eq!(
            value(LogicalType::BigInt, "b'00000101'").as_deref(),
            Some("5")
        );
        assert_eq!(
            value(LogicalType::BigInt, "X'0101'").as_deref(),
            Some("257")
        );
        let bit64 = LogicalType::Decimal {
            precision: 20,
            scale: 0,
        };
        assert_eq!(
            value(bit64, "0xFFFFFFFFFFFFFFFF").as_deref(),
            Some("18446744073709551615")
        );
        // Plain numbers and other types are the rewriter's business.
        assert_eq!(value(LogicalType::BigInt, "5"), None);
        assert_eq!(value(LogicalType::Text, "b'1'"), None);
        assert_eq!(value(LogicalType::BigInt, "b'12'"), None);
    }

    #[test]
    fn binary_defaults_are_read_as_bytes() {
        let bytes = |expression: &str| match literal_default(
            &LogicalType::Varbinary { length: 10 },
            expression,
            SourceDialect::Mysql,
        ) {
            Some(LiteralDefault::Bytes(bytes)) => Some(bytes),
            _ => None,
        };
        for ab in [
            "0x4142",
            "X'4142'",
            "b'0100000101000010'",
            "'AB'",
            "_binary 'AB'",
        ] {
            assert_eq!(bytes(ab).as_deref(), Some(&b"AB"[..]), "{ab}");
        }
        assert_eq!(bytes(r"'\0\0\0'").as_deref(), Some(&[0u8, 0, 0][..]));
        assert_eq!(bytes(r"'it''s\n'").as_deref(), Some(&b"it's\n"[..]));
        assert_eq!(bytes("0x141").as_deref(), Some(&[1u8, 0x41][..]));
        assert_eq!(bytes("0x4G"), None);
        // Oracle writes RAW defaults as hex strings: left to the rewriter.
        let oracle = literal_default(
            &LogicalType::Varbinary { length: 10 },
            "'4142'",
            SourceDialect::Oracle,
        );
        assert_eq!(oracle, None);
    }

    #[test]
    fn zero_dates_and_dates_that_do_not_exist_are_recognised() {
        let timestamp = LogicalType::Timestamp {
            precision: 6,
            with_time_zone: false,
        };
        for zero in [
            "'0000-00-00'",
            "'0000-00-00 00:00:00'",
            "'0000-00-00 00:00:00.000000'",
            "'2020-00-00'",
            "'2020-01-00'",
        ] {
            assert_eq!(
                literal_default(&timestamp, zero, SourceDialect::Mysql),
                Some(LiteralDefault::ZeroDate),
                "{zero}"
            );
        }
        assert_eq!(
            literal_default(&LogicalType::Date, "'0000-00-00'", SourceDialect::Mysql),
            Some(LiteralDefault::ZeroDate)
        );
        assert_eq!(
            literal_default(&LogicalType::Date, "'2020-01-01'", SourceDialect::Mysql),
            None
        );
        for no_such in [
            "'2024-02-30'",
            "'2023-02-29 10:00:00'",
            "'2023-04-31'",
            "'2023-13-01'",
        ] {
            assert_eq!(
                literal_default(&timestamp, no_such, SourceDialect::Mysql),
                Some(LiteralDefault::NoSuchDate),
                "{no_such}"
            );
        }
        for real in ["'2024-02-29'", "'2023-12-31 23:59:59'", "'1000-01-01'"] {
            assert_eq!(
                literal_default(&LogicalType::Date, real, SourceDialect::Mysql),
                None,
                "{real}"
            );
        }
        assert_eq!(
            literal_default(&timestamp, "CURRENT_TIMESTAMP", SourceDialect::Mysql),
            None
        );
        assert_eq!(
            literal_default(&LogicalType::Text, "'0000-00-00'", SourceDialect::Mysql),
            None
        );
    }

    #[test]
    fn times_past_a_day_are_recognised() {
        let time = LogicalType::Time {
            precision: 0,
            with_time_zone: false,
        };
        for outside in [
            "'25:00:00'",
            "'-01:00:00'",
            "'838:59:59'",
            "'24:00:00.5'",
            "'1 01:00:00'",
            "'250000'",
        ] {
            assert_eq!(
                literal_default(&time, outside, SourceDialect::Mysql),
                Some(LiteralDefault::TimeOutOfRange),
                "{outside}"
            );
        }
        for inside in [
            "'10:30:00'",
            "'24:00:00'",
            "'23:59:59.999999'",
            "'103000'",
            "'0 10:00'",
        ] {
            assert_eq!(
                literal_default(&time, inside, SourceDialect::Mysql),
                None,
                "{inside}"
            );
        }
        assert_eq!(
            literal_default(&time, "'25:00:00'", SourceDialect::Postgres),
            None
        );
    }
}
