//! `date_format_to_char`: MySQL `DATE_FORMAT(d, '%Y-%m-%d')` formats with its own specifiers;
//! the targets have `TO_CHAR` with patterns. A literal format whose every specifier has a
//! pattern giving the same text becomes `TO_CHAR(CAST(d AS TIMESTAMP), 'pattern')`, the text
//! between specifiers quoted so that none of its letters is read as a pattern. Any other format
//! (not a literal, or with a specifier the target has no pattern for, such as the week numbers
//! `%U`) is left to the function map, which reports it.

use crate::ast::{call, cast, string};
use migrate_core::TargetDialect;
use sqlparser::ast::{DataType, Expr, TimezoneInfo, Value};

pub(crate) const NAME: &str = "date_format_to_char";

/// The specifiers MySQL documents. Any other `%x` stands for `x` itself.
const SPECIFIERS: &str = "abcDdefHhIijklMmprSsTUuVvWwXxYy%";

/// The TO_CHAR pattern of a MySQL specifier, where one gives the same text in `to`: English
/// names (MySQL's default `lc_time_names`), zero-padded numbers, and PostgreSQL's `FM` (no
/// padding) for the unpadded ones, which Redshift's TO_CHAR lacks.
fn pattern(specifier: char, to: TargetDialect) -> Option<&'static str> {
    let both = match specifier {
        'Y' => "YYYY",
        'y' => "YY",
        'm' => "MM",
        'd' => "DD",
        'H' => "HH24",
        'h' | 'I' => "HH12",
        'i' => "MI",
        's' | 'S' => "SS",
        'p' => "AM",
        'b' => "Mon",
        'a' => "Dy",
        'j' => "DDD",
        'T' => "HH24:MI:SS",
        'r' => "HH12:MI:SS AM",
        // ISO 8601 week and its year: MySQL's week mode 3.
        'v' => "IW",
        'x' => "IYYY",
        _ => {
            return match to {
                TargetDialect::Redshift => None,
                TargetDialect::Postgres => match specifier {
                    'c' => Some("FMMM"),
                    'e' => Some("FMDD"),
                    'k' => Some("FMHH24"),
                    'l' => Some("FMHH12"),
                    'M' => Some("FMMonth"),
                    'W' => Some("FMDay"),
                    'D' => Some("FMDDth"),
                    'f' => Some("US"),
                    _ => None,
                },
            }
        }
    };
    Some(both)
}

/// The TO_CHAR pattern for MySQL format `format`, or `None` when a specifier has none.
fn to_char_pattern(format: &str, to: TargetDialect) -> Option<String> {
    let mut out = String::new();
    let mut text = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        let literal = match (c, chars.clone().next()) {
            ('%', Some(specifier)) => {
                chars.next();
                if specifier == '%' || !SPECIFIERS.contains(specifier) {
                    specifier
                } else {
                    quote_text(&mut out, &mut text);
                    out.push_str(pattern(specifier, to)?);
                    continue;
                }
            }
            (c, _) => c,
        };
        text.push(literal);
    }
    quote_text(&mut out, &mut text);
    Some(out)
}

/// Appends the literal `text` to `out` (and empties it): in double quotes when it holds anything
/// TO_CHAR could read as a pattern (letters, digits), with `"` and `\` escaped there.
fn quote_text(out: &mut String, text: &mut String) {
    if text
        .chars()
        .any(|c| c.is_alphanumeric() || c == '"' || c == '\\')
    {
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(text);
    }
    text.clear();
}

/// `None` unless the call is `DATE_FORMAT(d, 'literal')` with a format the target can give.
pub(crate) fn date_format_to_char(args: &[Expr], to: TargetDialect) -> Option<Expr> {
    let [date, Expr::Value(format)] = args else {
        return None;
    };
    let (Value::SingleQuotedString(format) | Value::DoubleQuotedString(format)) = &format.value
    else {
        return None;
    };
    let pattern = to_char_pattern(format, to)?;
    // A DATE, a DATETIME or a string: TO_CHAR takes a timestamp.
    let timestamp = cast(date.clone(), DataType::Timestamp(None, TimezoneInfo::None));
    Some(Expr::Function(call(
        "TO_CHAR",
        vec![timestamp, string(pattern)],
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_become_patterns_and_text_is_quoted() {
        let pg = |format| to_char_pattern(format, TargetDialect::Postgres);
        assert_eq!(
            pg("%Y-%m-%d %H:%i:%s").as_deref(),
            Some("YYYY-MM-DD HH24:MI:SS")
        );
        assert_eq!(pg("%e %M %Y").as_deref(), Some("FMDD FMMonth YYYY"));
        assert_eq!(
            pg("Week %v of %x").as_deref(),
            Some("\"Week \"IW\" of \"IYYY")
        );
        assert_eq!(pg("100%% at %q").as_deref(), Some("\"100% at q\""));
        assert_eq!(
            pg("say \"%D\"").as_deref(),
            Some("\"say \\\"\"FMDDth\"\\\"\"")
        );
        assert_eq!(pg("%U"), None);
        assert_eq!(pg("%w"), None);
        let redshift = |format| to_char_pattern(format, TargetDialect::Redshift);
        assert_eq!(redshift("%d/%m/%y").as_deref(), Some("DD/MM/YY"));
        assert_eq!(redshift("%e"), None);
        assert_eq!(redshift("%f"), None);
    }
}
