//! Arrays in their binary (`array_send`) form, as the JSON text `to_json` gives: what the full
//! load reads for an array column, so that change capture delivers the same values.
//!
//! The binary form: the number of dimensions, a has-nulls flag, the element type's oid; per
//! dimension its length and lower bound; then every element in row-major order, each a length
//! (-1: NULL) and the element's own binary form.

use super::decode::{
    decimal_digits, fixed, integer, malformed, malformed_value, utf8, ValueError, Wire,
};
use migrate_checksum::push_jsonb_string;
use std::fmt::Write;

/// The element types whose arrays capture decodes: those the warehouse loads from JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Element {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    /// text, varchar, bpchar, name: a JSON string.
    Text,
    /// json: the document itself.
    Json,
    /// jsonb: a version byte, then the document.
    Jsonb,
    Uuid,
}

impl Element {
    /// The wire form of one element.
    fn wire(self) -> Wire {
        match self {
            Element::Bool => Wire::Bool,
            Element::Int2 => Wire::Int2,
            Element::Int4 => Wire::Int4,
            Element::Int8 => Wire::Int8,
            Element::Float4 => Wire::Float4,
            Element::Float8 => Wire::Float8,
            Element::Numeric => Wire::Numeric,
            Element::Text | Element::Json => Wire::Text,
            Element::Jsonb => Wire::Jsonb,
            Element::Uuid => Wire::Uuid,
        }
    }
}

/// Reads big-endian 32-bit words off the front of the value.
struct Reader<'a> {
    bytes: &'a [u8],
    whole: usize,
}

/// A malformed array of `len` bytes.
fn malformed_array(len: usize) -> ValueError {
    malformed_value("array", len)
}

impl<'a> Reader<'a> {
    fn i32(&mut self) -> Result<i32, ValueError> {
        let (word, rest) = self
            .bytes
            .split_first_chunk::<4>()
            .ok_or_else(|| malformed_array(self.whole))?;
        self.bytes = rest;
        Ok(i32::from_be_bytes(*word))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ValueError> {
        if self.bytes.len() < len {
            return Err(malformed_array(self.whole));
        }
        let (value, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(value)
    }

    fn length(&mut self) -> Result<usize, ValueError> {
        usize::try_from(self.i32()?).map_err(|_| malformed_array(self.whole))
    }
}

/// The JSON text of a binary array of `element`s, as `to_json` prints it (`[1,2]`, `[[1,2],[3,4]]`,
/// `[]`; lower bounds are not shown).
pub(crate) fn array_json(element: Element, bytes: &[u8]) -> Result<String, ValueError> {
    let mut out = String::with_capacity(bytes.len() * 2);
    write_array(
        &mut out,
        bytes,
        &ArrayStyle::Json,
        |out, value| match value {
            Some(value) => write_element(out, element, value),
            None => {
                out.push_str("null");
                Ok(())
            }
        },
    )?;
    Ok(out)
}

/// How an array's shape and converted elements are written.
pub(crate) enum ArrayStyle {
    /// As `to_json` writes arrays: `[1,[2,null]]`, lower bounds not shown.
    Json,
    /// As an array's output function (`array_out`) writes them: `[0:1]={a,"b c",NULL}`, with the
    /// element type's delimiter (`,`; `;` for `box`).
    Text { delimiter: char },
}

impl ArrayStyle {
    fn open(&self) -> char {
        match self {
            ArrayStyle::Json => '[',
            ArrayStyle::Text { .. } => '{',
        }
    }

    fn close(&self) -> char {
        match self {
            ArrayStyle::Json => ']',
            ArrayStyle::Text { .. } => '}',
        }
    }

    fn delimiter(&self) -> char {
        match self {
            ArrayStyle::Json => ',',
            ArrayStyle::Text { delimiter } => *delimiter,
        }
    }

    /// Writes one element given as its text in this style (`None`: NULL). JSON: the element's
    /// own JSON text, or `null`. Text, as `array_out` does: `NULL` bare; quoted (with `"` and `\`
    /// escaped) when empty, `NULL` in any case, or holding a quote, backslash, brace, the
    /// delimiter or white space.
    pub fn write_element_text(&self, out: &mut String, text: Option<&str>) {
        let (delimiter, text) = match (self, text) {
            (ArrayStyle::Json, text) => return out.push_str(text.unwrap_or("null")),
            (ArrayStyle::Text { .. }, None) => return out.push_str("NULL"),
            (ArrayStyle::Text { delimiter }, Some(text)) => (*delimiter, text),
        };
        let quote = text.is_empty()
            || text.eq_ignore_ascii_case("NULL")
            || text.chars().any(|c| {
                matches!(
                    c,
                    '"' | '\\' | '{' | '}' | ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}'
                ) || c == delimiter
            });
        if !quote {
            out.push_str(text);
            return;
        }
        out.push('"');
        for c in text.chars() {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
}

/// Writes the shape of a binary array to `out` in `style`: brackets per dimension and
/// delimiters, each element written by `element` (given its binary form; `None`: NULL), in
/// row-major order.
pub(crate) fn write_array<'a>(
    out: &mut String,
    bytes: &'a [u8],
    style: &ArrayStyle,
    mut element: impl FnMut(&mut String, Option<&'a [u8]>) -> Result<(), ValueError>,
) -> Result<(), ValueError> {
    let mut reader = Reader {
        bytes,
        whole: bytes.len(),
    };
    let dimensions = reader.length()?;
    // PostgreSQL's MAXDIM: more is a malformed value, not an allocation to make.
    if dimensions > 6 {
        return Err(malformed_array(bytes.len()));
    }
    let _has_nulls = reader.i32()?;
    let _element_type = reader.i32()?;
    let mut lengths = Vec::with_capacity(dimensions);
    let mut lower_bounds = Vec::with_capacity(dimensions);
    for _ in 0..dimensions {
        lengths.push(reader.length()?);
        lower_bounds.push(reader.i32()?);
    }
    let text = matches!(style, ArrayStyle::Text { .. });
    if text && lower_bounds.iter().any(|&lower| lower != 1) {
        for (&length, &lower) in lengths.iter().zip(&lower_bounds) {
            let upper = i64::from(lower) + length as i64 - 1;
            let _ = write!(out, "[{lower}:{upper}]");
        }
        out.push('=');
    }
    if dimensions == 0 {
        out.push(style.open());
        out.push(style.close());
    } else {
        write_dimension(out, &mut reader, &lengths, style, &mut element)?;
    }
    if !reader.bytes.is_empty() {
        return Err(malformed_array(bytes.len()));
    }
    Ok(())
}

/// The first dimension of `lengths`, its elements the next dimension's arrays.
fn write_dimension<'a>(
    out: &mut String,
    reader: &mut Reader<'a>,
    lengths: &[usize],
    style: &ArrayStyle,
    element: &mut impl FnMut(&mut String, Option<&'a [u8]>) -> Result<(), ValueError>,
) -> Result<(), ValueError> {
    out.push(style.open());
    for i in 0..lengths[0] {
        if i > 0 {
            out.push(style.delimiter());
        }
        if lengths.len() > 1 {
            write_dimension(out, reader, &lengths[1..], style, element)?;
        } else {
            let value = match reader.i32()? {
                -1 => None,
                len => {
                    let len = usize::try_from(len).map_err(|_| malformed_array(reader.whole))?;
                    Some(reader.take(len)?)
                }
            };
            element(out, value)?;
        }
    }
    out.push(style.close());
    Ok(())
}

/// One element as `to_json` prints it: numbers bare (but NaN and infinities as strings), text
/// quoted and escaped, json and jsonb as they are.
fn write_element(out: &mut String, element: Element, bytes: &[u8]) -> Result<(), ValueError> {
    let wire = element.wire();
    match element {
        Element::Bool => match bytes {
            [v] => out.push_str(if *v != 0 { "true" } else { "false" }),
            _ => return Err(malformed(wire, bytes.len())),
        },
        Element::Int2 | Element::Int4 | Element::Int8 => {
            let _ = write!(out, "{}", integer(wire, bytes)?);
        }
        Element::Float4 => {
            let value = f32::from_bits(u32::from_be_bytes(fixed(wire, bytes)?));
            // The shortest digits of the f32 itself, not of its f64 widening.
            number(out, &float_text(f64::from(value), 6, format!("{value:e}")));
        }
        Element::Float8 => {
            let value = f64::from_bits(u64::from_be_bytes(fixed(wire, bytes)?));
            number(out, &float_text(value, 15, format!("{value:e}")));
        }
        Element::Numeric => number(out, &decimal_digits(bytes)?.to_string()),
        Element::Text => push_jsonb_string(out, &utf8(bytes)?),
        Element::Json => out.push_str(&utf8(bytes)?),
        Element::Jsonb => match bytes.split_first() {
            Some((1, json)) => out.push_str(&utf8(json)?),
            _ => return Err(malformed(wire, bytes.len())),
        },
        Element::Uuid => push_jsonb_string(out, &super::decode::text(wire, bytes)?),
    }
    Ok(())
}

/// A number's text bare, or quoted when it is not a JSON number (`NaN`, `Infinity`), as
/// `to_json` does.
fn number(out: &mut String, text: &str) {
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'+'))
    {
        out.push_str(text);
    } else {
        push_jsonb_string(out, text);
    }
}

/// A float as PostgreSQL prints it (`float8out`/`float4out` with shortest round-trip digits):
/// `scientific`, Rust's shortest `{:e}` text, becomes plain notation when the decimal exponent
/// lies in -4..`digits` (`digits`: 15 for float8, 6 for float4), else `1.5e-05` / `1e+20`.
fn float_text(value: f64, digits: i32, scientific: String) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("Rust's {:e} always has an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let significant: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..digits).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{significant}", "0".repeat((-point) as usize))
        } else if point as usize >= significant.len() {
            format!(
                "{significant}{}",
                "0".repeat(point as usize - significant.len())
            )
        } else {
            format!(
                "{}.{}",
                &significant[..point as usize],
                &significant[point as usize..]
            )
        };
        format!("{sign}{text}")
    } else {
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array(element_oid: i32, dims: &[(i32, i32)], elements: &[Option<&[u8]>]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend((dims.len() as i32).to_be_bytes());
        out.extend(i32::from(elements.iter().any(Option::is_none)).to_be_bytes());
        out.extend(element_oid.to_be_bytes());
        for (len, lower) in dims {
            out.extend(len.to_be_bytes());
            out.extend(lower.to_be_bytes());
        }
        for element in elements {
            match element {
                None => out.extend((-1i32).to_be_bytes()),
                Some(bytes) => {
                    out.extend((bytes.len() as i32).to_be_bytes());
                    out.extend(*bytes);
                }
            }
        }
        out
    }

    /// As `array_out` prints: bounds other than 1 before the array, elements quoted when
    /// empty, `NULL` in any case, or holding quotes, backslashes, braces, the delimiter or white
    /// space; NULL bare.
    #[test]
    fn the_text_style_prints_like_array_out() {
        let texts = [
            Some("plain"),
            Some(""),
            Some("null"),
            Some("a b"),
            Some("a,b"),
            Some("a;b"),
            Some(r#"say "hi" \ bye"#),
            Some("{x}"),
            None,
        ];
        let elements: Vec<Option<&[u8]>> = texts.iter().map(|t| t.map(str::as_bytes)).collect();
        let mut next = texts.iter();
        let mut write = |style: &ArrayStyle, dims: &[(i32, i32)]| {
            next = texts.iter();
            let mut out = String::new();
            write_array(&mut out, &array(25, dims, &elements), style, |out, _| {
                style.write_element_text(out, *next.next().unwrap());
                Ok(())
            })
            .unwrap();
            out
        };
        assert_eq!(
            write(&ArrayStyle::Text { delimiter: ',' }, &[(9, 1)]),
            r#"{plain,"","null","a b","a,b",a;b,"say \"hi\" \\ bye","{x}",NULL}"#
        );
        assert_eq!(
            write(&ArrayStyle::Text { delimiter: ';' }, &[(3, 0), (3, -1)]),
            r#"[0:2][-1:1]={{plain;"";"null"};{"a b";a,b;"a;b"};{"say \"hi\" \\ bye";"{x}";NULL}}"#
        );
        let mut out = String::new();
        write_array(
            &mut out,
            &array(25, &[], &[]),
            &ArrayStyle::Text { delimiter: ',' },
            |_, _| Ok(()),
        )
        .unwrap();
        assert_eq!(out, "{}");
    }

    #[test]
    fn dimensions_nulls_and_emptiness_print_like_to_json() {
        let one = 1i32.to_be_bytes();
        let two = 2i32.to_be_bytes();
        let flat = array(23, &[(3, 1)], &[Some(&one), None, Some(&two)]);
        assert_eq!(array_json(Element::Int4, &flat).unwrap(), "[1,null,2]");
        let square = array(
            23,
            &[(2, 1), (2, 0)],
            &[Some(&one), Some(&two), Some(&two), Some(&one)],
        );
        assert_eq!(array_json(Element::Int4, &square).unwrap(), "[[1,2],[2,1]]");
        assert_eq!(
            array_json(Element::Int4, &array(23, &[], &[])).unwrap(),
            "[]"
        );
        // A value cut short is an error, not a shorter array.
        assert!(array_json(Element::Int4, &flat[..flat.len() - 1]).is_err());
    }

    #[test]
    fn text_is_escaped_like_escape_json() {
        let value = "a\"b\\c\nd\u{1}é".as_bytes();
        let text = array(25, &[(1, 1)], &[Some(value)]);
        assert_eq!(
            array_json(Element::Text, &text).unwrap(),
            "[\"a\\\"b\\\\c\\nd\\u0001é\"]"
        );
    }

    #[test]
    fn floats_print_like_float8out() {
        let cases: [(f64, &str); 10] = [
            (1.5, "1.5"),
            (100.0, "100"),
            (0.0001, "0.0001"),
            (1.5e-5, "1.5e-05"),
            (1e20, "1e+20"),
            (123456789012345.0, "123456789012345"),
            (1234567890123456.0, "1.234567890123456e+15"),
            (-0.0, "-0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(
                float_text(value, 15, format!("{value:e}")),
                expected,
                "{value}"
            );
        }
        let (million, six_digits) = (1e6f32, 123456.0f32);
        assert_eq!(
            float_text(f64::from(million), 6, format!("{million:e}")),
            "1e+06"
        );
        assert_eq!(
            float_text(f64::from(six_digits), 6, format!("{six_digits:e}")),
            "123456"
        );
        let mut out = String::new();
        number(&mut out, "NaN");
        assert_eq!(out, "\"NaN\"");
    }
}
