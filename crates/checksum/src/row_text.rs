//! Row texts on the client: split into their values, and hashed there when a value needs a
//! rewrite that no SQL of its engine can make. MariaDB keeps a JSON document's string escapes as
//! written (`"Ren\u00e9"`, `"http:\/\/x"`, as PHP's `json_encode` and Python's `json.dumps` write
//! them), and its `JSON_NORMALIZE` keeps them too; `jsonb` decodes them, so the same document
//! hashes differently in the two engines unless the client rewrites MariaDB's.

use crate::{ChecksumColumn, JsonText};
use md5::{Digest, Md5};
use migrate_core::LogicalType;
use std::borrow::Cow;

/// The hash of a row whose text could not be computed (MySQL: longer than
/// `max_allowed_packet`): no real row hashes to it, so the row differs rather than is skipped.
pub(crate) const NO_TEXT_HASH: &str = "00000000000000000000000000000000";

/// Whether a row hash over `columns` must be computed by the client from the row text
/// ([`client_row_hash`]): a [`JsonText::Normalized`] document, whose escapes MariaDB keeps.
pub fn hashed_on_client(columns: &[ChecksumColumn]) -> bool {
    columns.iter().any(normalized_json)
}

fn normalized_json(column: &ChecksumColumn) -> bool {
    column.data_type == LogicalType::Json && column.json == JsonText::Normalized
}

/// The row hash of a MySQL row text of `columns` (as [`crate::row_texts_sql`] lists it; `None`
/// when the engine could not write it), with the strings of each [`JsonText::Normalized`]
/// document written as PostgreSQL's `jsonb` writes them: escapes decoded (`\u00e9`, `\/`) and
/// written again only where `jsonb` escapes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
/// control characters as `\u00XX`), an object's members ordered by their decoded keys' bytes.
/// The result equals the hash PostgreSQL computes for the same rows.
pub fn client_row_hash(row_text: Option<&str>, columns: &[ChecksumColumn]) -> String {
    let Some(text) = row_text else {
        return NO_TEXT_HASH.to_string();
    };
    let rewritten = match row_text_values(text) {
        Some(values) if values.len() == columns.len() => {
            let values: Vec<Option<Cow<'_, str>>> = values
                .iter()
                .zip(columns)
                .map(|(value, column)| {
                    value.as_deref().map(|v| match normalized_json(column) {
                        true => with_jsonb_strings(v),
                        false => Cow::Borrowed(v),
                    })
                })
                .collect();
            Cow::Owned(write_row_text(&values))
        }
        // Not a row text of these columns: hashed as it is, so the row shows as different.
        _ => Cow::Borrowed(text),
    };
    migrate_core::hex(&Md5::digest(rewritten.as_bytes()))
}

/// The values of a row text (see the crate docs: `N` for NULL, else the text in double quotes
/// with inner double quotes doubled, joined by `,`); `None` when `text` is not of that form.
pub fn row_text_values(text: &str) -> Option<Vec<Option<String>>> {
    let mut values = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        match chars.next()? {
            'N' => values.push(None),
            '"' => {
                let mut value = String::new();
                loop {
                    match chars.next()? {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            value.push('"');
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
                values.push(Some(value));
            }
            _ => return None,
        }
        match chars.next() {
            None => return Some(values),
            Some(',') => continue,
            Some(_) => return None,
        }
    }
}

fn write_row_text(values: &[Option<Cow<'_, str>>]) -> String {
    let texts: Vec<String> = values
        .iter()
        .map(|value| match value {
            None => "N".to_string(),
            Some(v) => format!("\"{}\"", v.replace('"', "\"\"")),
        })
        .collect();
    texts.join(",")
}

/// A normalized document (MariaDB's `JSON_NORMALIZE` text: no space between items) with its
/// strings as `jsonb` writes them and its members in `jsonb`'s key order. Text that does not
/// parse (`?`, a value the engine could not write) is kept as it is.
fn with_jsonb_strings(doc: &str) -> Cow<'_, str> {
    if !doc.contains('\\') {
        return Cow::Borrowed(doc);
    }
    let mut parser = Parser { rest: doc };
    match parser.value() {
        Some(value) if parser.rest.trim_start().is_empty() => {
            let mut out = String::with_capacity(doc.len());
            value.write(&mut out);
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(doc),
    }
}

/// A parsed document: strings decoded, every other scalar (numbers, `true`, ...) as written.
enum Json<'a> {
    Scalar(&'a str),
    String(String),
    Array(Vec<Json<'a>>),
    Object(Vec<(String, Json<'a>)>),
}

impl Json<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Json::Scalar(text) => out.push_str(text),
            Json::String(s) => push_jsonb_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_jsonb_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// `text` as a JSON string, escaped as PostgreSQL's `escape_json` (and so `jsonb`) writes it:
/// `"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t` and other control characters as `\u00XX`, every other
/// character as itself.
pub fn push_jsonb_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    rest: &'a str,
}

impl<'a> Parser<'a> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// A value; `None` when the text is not JSON this can read.
    fn value(&mut self) -> Option<Json<'a>> {
        self.skip_space();
        match self.rest.chars().next()? {
            '"' => self.string().map(Json::String),
            '[' => {
                self.rest = &self.rest[1..];
                let mut items = Vec::new();
                if !self.eat(']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(']') {
                            break;
                        }
                        if !self.eat(',') {
                            return None;
                        }
                    }
                }
                Some(Json::Array(items))
            }
            '{' => {
                self.rest = &self.rest[1..];
                let mut members = Vec::new();
                if !self.eat('}') {
                    loop {
                        self.skip_space();
                        let key = self.string()?;
                        if !self.eat(':') {
                            return None;
                        }
                        members.push((key, self.value()?));
                        if self.eat('}') {
                            break;
                        }
                        if !self.eat(',') {
                            return None;
                        }
                    }
                }
                // `jsonb`'s order (`COLLATE "C"` of the decoded keys); stable, so duplicate
                // keys (which MariaDB keeps) stay in their order.
                members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                Some(Json::Object(members))
            }
            _ => {
                let end = self
                    .rest
                    .find([',', ']', '}', ' ', '\t', '\n', '\r'])
                    .unwrap_or(self.rest.len());
                if end == 0 {
                    return None;
                }
                let (scalar, rest) = self.rest.split_at(end);
                self.rest = rest;
                Some(Json::Scalar(scalar))
            }
        }
    }

    /// A string at the start of `rest`, decoded; `None` for an escape that is not valid JSON (a
    /// lone surrogate among them), which `jsonb` would not have accepted either.
    fn string(&mut self) -> Option<String> {
        let mut chars = self.rest.strip_prefix('"')?.char_indices();
        let mut decoded = String::new();
        loop {
            let (at, c) = chars.next()?;
            match c {
                '"' => {
                    self.rest = &self.rest[1 + at + 1..];
                    return Some(decoded);
                }
                '\\' => decoded.push(match chars.next()?.1 {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'u' => {
                        let unit = hex4(&mut chars)?;
                        if (0xD800..0xDC00).contains(&unit) {
                            let (_, '\\') = chars.next()? else {
                                return None;
                            };
                            let (_, 'u') = chars.next()? else { return None };
                            let low = hex4(&mut chars)?;
                            if !(0xDC00..0xE000).contains(&low) {
                                return None;
                            }
                            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                        } else {
                            char::from_u32(unit)?
                        }
                    }
                    _ => return None,
                }),
                c => decoded.push(c),
            }
        }
    }
}

fn hex4(chars: &mut std::str::CharIndices<'_>) -> Option<u32> {
    let mut unit = 0;
    for _ in 0..4 {
        unit = unit * 16 + chars.next()?.1.to_digit(16)?;
    }
    Some(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_jsonb_writes_them() {
        for (mariadb, jsonb) in [
            (r#"["Ren\u00e9"]"#, r#"["René"]"#),
            (r#"["http:\/\/x.org\/a"]"#, r#"["http://x.org/a"]"#),
            (r#"["\ud83d\ude00"]"#, r#"["😀"]"#),
            (
                r#"["\u0009\u000A\u001B\u0022\u005c"]"#,
                r#"["\t\n\u001b\"\\"]"#,
            ),
            (r#"["a\tb"]"#, r#"["a\tb"]"#),
            // Members in the order of their decoded keys: `é` (0xC3) after `i`.
            (
                r#"[{"pr\u00e9nom":1.0E0,"price":[true,null]}]"#,
                r#"[{"price":[true,null],"prénom":1.0E0}]"#,
            ),
            (r#"[{"a":"\/","a":2.0E0}]"#, r#"[{"a":"/","a":2.0E0}]"#),
        ] {
            assert_eq!(with_jsonb_strings(mariadb), jsonb, "{mariadb}");
        }
    }

    #[test]
    fn text_that_does_not_parse_is_kept() {
        for text in ["?", r#"["\ud800"]"#, r#"["\x"]"#, r#"["a\"#, r#"[1,\]"#] {
            assert_eq!(with_jsonb_strings(text), text);
        }
    }

    #[test]
    fn row_texts_split_and_join_back() {
        let text = r#""1",N,"say ""hi""","""""#;
        let values = row_text_values(text).unwrap();
        assert_eq!(
            values,
            [
                Some("1".to_string()),
                None,
                Some("say \"hi\"".to_string()),
                Some("\"".to_string())
            ]
        );
        let values: Vec<Option<Cow<'_, str>>> = values
            .iter()
            .map(|v| v.as_deref().map(Cow::Borrowed))
            .collect();
        assert_eq!(write_row_text(&values), text);
        for bad in ["", "x", r#""1"x"#, r#""open"#, "N,"] {
            assert_eq!(row_text_values(bad), None, "{bad}");
        }
    }

    #[test]
    fn client_hashes_are_the_md5_of_the_rewritten_row_text() {
        let columns = [
            ChecksumColumn::new("id", LogicalType::Integer),
            ChecksumColumn::new("j", LogicalType::Json).with_json(JsonText::Normalized),
        ];
        let written = r#""1","[{""a"":""\u00e9""}]""#;
        let as_jsonb = r#""1","[{""a"":""é""}]""#;
        let expected = migrate_core::hex(&Md5::digest(as_jsonb.as_bytes()));
        assert_eq!(client_row_hash(Some(written), &columns), expected);
        assert_eq!(client_row_hash(None, &columns), NO_TEXT_HASH);
        assert!(hashed_on_client(&columns));
        assert!(!hashed_on_client(&columns[..1]));
    }
}
