//! Literal defaults whose source spelling means something else, or nothing, in the targets.
//! mysqldump writes BIT defaults as bit or hex literals (`b'1'`, `b'00000101'`, `0x01`), booleans
//! as `0`/`1`, and legacy date defaults as zero dates (`'0000-00-00 00:00:00'`).

use migrate_core::LogicalType;

/// What a literal default becomes in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LiteralDefault {
    /// The value in the target's spelling (`TRUE`, `5`).
    Value(String),
    /// A zero date, or a date with a zero month or day: no date has that value.
    ZeroDate,
}

/// The target form of `expression` as the default of a column of `data_type`, when it is one of
/// the literals above; `None` leaves the expression to the SQL rewriter.
pub(crate) fn literal_default(data_type: &LogicalType, expression: &str) -> Option<LiteralDefault> {
    let expression = expression.trim();
    match data_type {
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
        LogicalType::Date | LogicalType::Timestamp { .. } => {
            is_zero_date(expression).then_some(LiteralDefault::ZeroDate)
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

/// MySQL's zero date `'0000-00-00'` (with or without a time), or any date with a zero month or day,
/// which MySQL accepts outside strict modes.
fn is_zero_date(expression: &str) -> bool {
    let text = unquoted(expression);
    let date = text.split([' ', 'T']).next().unwrap_or_default();
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let all_digits = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(year) && all_digits(month) && all_digits(day)) {
        return false;
    }
    month.trim_start_matches('0').is_empty() || day.trim_start_matches('0').is_empty()
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
        match literal_default(&data_type, expression) {
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
    fn zero_dates_are_recognised() {
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
                literal_default(&timestamp, zero),
                Some(LiteralDefault::ZeroDate),
                "{zero}"
            );
        }
        assert_eq!(
            literal_default(&LogicalType::Date, "'0000-00-00'"),
            Some(LiteralDefault::ZeroDate)
        );
        assert_eq!(literal_default(&LogicalType::Date, "'2020-01-01'"), None);
        assert_eq!(literal_default(&timestamp, "CURRENT_TIMESTAMP"), None);
        assert_eq!(literal_default(&LogicalType::Text, "'0000-00-00'"), None);
    }
}
