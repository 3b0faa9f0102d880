//! Glue's size limits, checked on every object before anything is sent for it: moto does not
//! enforce them, but real Glue refuses an input that breaks one with a `ValidationException`,
//! in the middle of a run, after part of the catalog has moved.
//!
//! The limits, from Glue's API model (botocore `data/glue/2017-03-31/service-2.json`, the
//! "Length Constraints" of the API reference: docs.aws.amazon.com/glue/latest/webapi/
//! `API_DatabaseInput.html`, `API_TableInput.html`, `API_Column.html`, `API_StorageDescriptor.html`,
//! `API_SerDeInfo.html`, `API_SkewedInfo.html`, `API_Order.html`, `API_PartitionInput.html`):
//!
//! | Field | Limit |
//! |---|---|
//! | database, table, column, SerDe name and SerDe library; table owner; bucket, sort and skewed column names | 1..=255 |
//! | database and table `Description` | 0..=2048 |
//! | column `Comment` | 0..=255 |
//! | column `Type` | 0..=131072 |
//! | database `LocationUri` | 1..=1024 |
//! | storage descriptor `Location` | 0..=2056 |
//! | `InputFormat`, `OutputFormat` | 0..=128 |
//! | table `TableType` | 0..=255 |
//! | `ViewOriginalText`, `ViewExpandedText` | 0..=409600 |
//! | parameter keys (every `Parameters` map) / values | 1..=255 / 0..=512000 |
//! | partition `Values`, each | 0..=1024 |
//! | `Retention` | at least 0 |
//! | sort column `SortOrder` | 0 or 1 |
//!
//! Unit: the model's lengths are Smithy `@length` constraints, which count characters (Unicode
//! scalar values), not UTF-8 bytes, although the Developer Guide's API pages word every one of
//! them as "bytes long" (the tools that cut comments for Glue cut at 255 characters: AWS's
//! aws-glue-samples Hive metastore migration, Apache XTable's and Apache Paimon's Glue sync,
//! after Glue's "Member must have length less than or equal to 255"). Lengths here are counted
//! in UTF-16 code units, as a Java string's length counts them: the same as characters for every
//! character of the Basic Multilingual Plane (accents, CJK), 2 for one beyond it (an emoji), so
//! that what passes here passes Glue whether it counts characters or UTF-16 code units.
//!
//! Characters: most string fields also have a pattern in the model. Names, column comments and
//! types, formats and parameter keys take printable characters and tab only (U+0020 to U+D7FF,
//! U+E000 to U+FFFD, beyond U+FFFF, and U+0009); descriptions and locations take line breaks
//! (CR, LF) too; table types, view texts, parameter values and partition values have none. A
//! Hive column comment written on several lines is the common case that breaks one.
//!
//! Policy: free text that only describes (database and table descriptions, column comments) is
//! cut to the limit, and the report says which and how long it was; anything else (names,
//! types, locations, formats, parameters, partition values) can't be changed without changing
//! what the object is: the object is not sent and is reported as failed, naming the field, its
//! length and the limit.

use migrate_glue::{Column, DatabaseInput, PartitionInput, StorageDescriptor, TableInput};
use std::collections::BTreeMap;

const NAME: usize = 255;
const DESCRIPTION: usize = 2048;
const COMMENT: usize = 255;
const COLUMN_TYPE: usize = 131_072;
const DATABASE_LOCATION: usize = 1024;
const LOCATION: usize = 2056;
const FORMAT: usize = 128;
const TABLE_TYPE: usize = 255;
const VIEW_TEXT: usize = 409_600;
const PARAMETER_KEY: usize = 255;
const PARAMETER_VALUE: usize = 512_000;
const PARTITION_VALUE: usize = 1024;

/// A string's length as Glue counts it (see the module's comment).
fn length(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Which characters a field's pattern lets through (see the module's comment).
#[derive(Debug, Clone, Copy)]
enum Chars {
    /// The field has no pattern.
    Any,
    /// Printable characters and tab.
    OneLine,
    /// Printable characters, tab and line breaks.
    Lines,
}

impl Chars {
    fn allows(self, c: char) -> bool {
        match self {
            Chars::Any => true,
            Chars::Lines if matches!(c, '\r' | '\n') => true,
            Chars::OneLine | Chars::Lines => {
                c == '\t'
                    || ('\u{20}'..='\u{D7FF}').contains(&c)
                    || ('\u{E000}'..='\u{FFFD}').contains(&c)
                    || c > '\u{FFFF}'
            }
        }
    }
}

/// What fitting one object to Glue's limits found.
#[derive(Debug, Default)]
pub(crate) struct Fit {
    /// Fields Glue would refuse, each with its length and the limit: the object can't be sent.
    pub refused: Vec<String>,
    /// Free text changed to fit: cut to its limit (each with the length it had), or with
    /// characters Glue refuses replaced.
    pub changed: Vec<String>,
}

impl Fit {
    fn check(
        &mut self,
        field: impl FnOnce() -> String,
        value: &str,
        (min, max): (usize, usize),
        chars: Chars,
    ) {
        let n = length(value);
        if n > max {
            self.refused.push(format!(
                "{} is {n} characters long (at most {max})",
                field()
            ));
        } else if n < min {
            self.refused
                .push(format!("{} is empty (at least {min} character)", field()));
        } else if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| !chars.allows(*c)) {
            self.refused.push(format!(
                "{} holds U+{:04X} at character {}, which Glue does not take there",
                field(),
                u32::from(c),
                at + 1
            ));
        }
    }

    fn name(&mut self, field: impl FnOnce() -> String, value: &str) {
        self.check(field, value, (1, NAME), Chars::OneLine);
    }

    /// Makes free text fit: characters the field's pattern refuses become spaces, and text longer
    /// than `max` is cut to `max`, at a character boundary.
    fn text(
        &mut self,
        field: impl Fn() -> String,
        value: &mut Option<String>,
        max: usize,
        chars: Chars,
    ) {
        let Some(text) = value.as_mut() else { return };
        let replaced = text.chars().filter(|c| !chars.allows(*c)).count();
        if replaced > 0 {
            *text = text
                .chars()
                .map(|c| if chars.allows(c) { c } else { ' ' })
                .collect();
            self.changed.push(format!(
                "{} ({replaced} line break(s) or control character(s) replaced by spaces)",
                field()
            ));
        }
        let n = length(text);
        if n <= max {
            return;
        }
        let mut units = 0;
        let end = text
            .char_indices()
            .find(|(_, c)| {
                units += c.len_utf16();
                units > max
            })
            .map_or(text.len(), |(i, _)| i);
        text.truncate(end);
        self.changed
            .push(format!("{} ({n} characters, cut to {max})", field()));
    }

    fn parameters(&mut self, field: &str, parameters: &BTreeMap<String, String>) {
        for (key, value) in parameters {
            self.check(
                || format!("{field} key {}", shorten(key)),
                key,
                (1, PARAMETER_KEY),
                Chars::OneLine,
            );
            self.check(
                || format!("{field}[{}]", shorten(key)),
                value,
                (0, PARAMETER_VALUE),
                Chars::Any,
            );
        }
    }

    fn columns(&mut self, field: &str, columns: &mut [Column]) {
        for (i, c) in columns.iter_mut().enumerate() {
            // Named by position too: the name itself may be what is wrong.
            let at = format!("{field}[{i}] ({})", shorten(&c.name));
            self.name(|| format!("{at}.Name"), &c.name);
            if let Some(t) = &c.r#type {
                self.check(|| format!("{at}.Type"), t, (0, COLUMN_TYPE), Chars::OneLine);
            }
            self.text(
                || format!("{at}.Comment"),
                &mut c.comment,
                COMMENT,
                Chars::OneLine,
            );
        }
    }

    fn storage(&mut self, sd: &mut StorageDescriptor) {
        let f = "StorageDescriptor";
        self.columns(&format!("{f}.Columns"), &mut sd.columns);
        if let Some(l) = &sd.location {
            self.check(|| format!("{f}.Location"), l, (0, LOCATION), Chars::Lines);
        }
        for (name, value) in [
            ("InputFormat", &sd.input_format),
            ("OutputFormat", &sd.output_format),
        ] {
            if let Some(v) = value {
                self.check(|| format!("{f}.{name}"), v, (0, FORMAT), Chars::OneLine);
            }
        }
        for c in &sd.bucket_columns {
            self.name(|| format!("{f}.BucketColumns entry {}", shorten(c)), c);
        }
        for o in &sd.sort_columns {
            self.name(
                || format!("{f}.SortColumns entry {}", shorten(&o.column)),
                &o.column,
            );
            if !(0..=1).contains(&o.sort_order) {
                self.refused.push(format!(
                    "{f}.SortColumns entry {}: SortOrder is {} (0 or 1)",
                    shorten(&o.column),
                    o.sort_order
                ));
            }
        }
        self.parameters(&format!("{f}.Parameters"), &sd.parameters);
        if let Some(s) = &sd.serde_info {
            for (name, value) in [
                ("Name", &s.name),
                ("SerializationLibrary", &s.serialization_library),
            ] {
                if let Some(v) = value {
                    self.name(|| format!("{f}.SerdeInfo.{name}"), v);
                }
            }
            self.parameters(&format!("{f}.SerdeInfo.Parameters"), &s.parameters);
        }
        if let Some(s) = &sd.skewed_info {
            for c in &s.skewed_column_names {
                self.name(
                    || format!("{f}.SkewedInfo.SkewedColumnNames entry {}", shorten(c)),
                    c,
                );
            }
        }
    }
}

/// A value to name in a message: whole if short, else its start.
fn shorten(s: &str) -> String {
    const SHOWN: usize = 40;
    match s.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{:?}...", &s[..end]),
        None => format!("{s:?}"),
    }
}

pub(crate) fn database(d: &mut DatabaseInput) -> Fit {
    let mut fit = Fit::default();
    fit.name(|| "Name".into(), &d.name);
    fit.text(
        || "Description".into(),
        &mut d.description,
        DESCRIPTION,
        Chars::Lines,
    );
    if let Some(l) = &d.location_uri {
        fit.check(
            || "LocationUri".into(),
            l,
            (1, DATABASE_LOCATION),
            Chars::Lines,
        );
    }
    fit.parameters("Parameters", &d.parameters);
    fit
}

pub(crate) fn table(t: &mut TableInput) -> Fit {
    let mut fit = Fit::default();
    fit.name(|| "Name".into(), &t.name);
    fit.text(
        || "Description".into(),
        &mut t.description,
        DESCRIPTION,
        Chars::Lines,
    );
    if let Some(o) = &t.owner {
        fit.name(|| "Owner".into(), o);
    }
    if t.retention < 0 {
        fit.refused
            .push(format!("Retention is {} (at least 0)", t.retention));
    }
    if let Some(v) = &t.table_type {
        fit.check(|| "TableType".into(), v, (0, TABLE_TYPE), Chars::Any);
    }
    for (name, value) in [
        ("ViewOriginalText", &t.view_original_text),
        ("ViewExpandedText", &t.view_expanded_text),
    ] {
        if let Some(v) = value {
            fit.check(|| name.into(), v, (0, VIEW_TEXT), Chars::Any);
        }
    }
    fit.parameters("Parameters", &t.parameters);
    fit.columns("PartitionKeys", &mut t.partition_keys);
    if let Some(sd) = t.storage_descriptor.as_mut() {
        fit.storage(sd);
    }
    fit
}

pub(crate) fn partition(p: &mut PartitionInput) -> Fit {
    let mut fit = Fit::default();
    for (i, v) in p.values.iter().enumerate() {
        fit.check(
            || format!("Values[{i}] ({})", shorten(v)),
            v,
            (0, PARTITION_VALUE),
            Chars::Any,
        );
    }
    fit.parameters("Parameters", &p.parameters);
    if let Some(sd) = p.storage_descriptor.as_mut() {
        fit.storage(sd);
    }
    fit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_cut_at_a_character_boundary_counting_utf16_units() {
        let mut fit = Fit::default();
        // 300 characters of 3 UTF-8 bytes each: cut to 255 characters (765 bytes), not 255 bytes.
        let mut comment = Some("日".repeat(300));
        fit.text(|| "c".into(), &mut comment, COMMENT, Chars::OneLine);
        assert_eq!(comment.as_deref(), Some("日".repeat(255).as_str()));
        // Under the limit in characters although over it in bytes: left whole.
        let mut comment = Some("é".repeat(255));
        fit.text(|| "c".into(), &mut comment, COMMENT, Chars::OneLine);
        assert_eq!(comment.as_deref().map(str::len), Some(510));
        // An emoji is 2 UTF-16 units: never split, and 127 of them fit in 255.
        let mut comment = Some("😀".repeat(200));
        fit.text(|| "c".into(), &mut comment, COMMENT, Chars::OneLine);
        assert_eq!(comment.as_deref(), Some("😀".repeat(127).as_str()));
        // A comment on several lines: its line breaks become spaces; a description keeps them.
        let mut comment = Some("first line\r\nsecond\tline\u{7}".to_string());
        fit.text(|| "c".into(), &mut comment, COMMENT, Chars::OneLine);
        assert_eq!(comment.as_deref(), Some("first line  second\tline "));
        let mut description = Some("first line\r\nsecond".to_string());
        fit.text(|| "d".into(), &mut description, DESCRIPTION, Chars::Lines);
        assert_eq!(description.as_deref(), Some("first line\r\nsecond"));
        assert_eq!(
            fit.changed,
            [
                "c (300 characters, cut to 255)",
                "c (400 characters, cut to 255)",
                "c (3 line break(s) or control character(s) replaced by spaces)"
            ]
        );
        assert!(fit.refused.is_empty());
    }

    #[test]
    fn names_locations_and_parameters_over_the_limit_are_refused() {
        let mut t = TableInput {
            name: "t".repeat(256),
            owner: Some(String::new()),
            parameters: [
                ("k".repeat(256), "v".into()),
                ("two\nlines".into(), "a value\non two lines".into()),
            ]
            .into(),
            storage_descriptor: Some(StorageDescriptor {
                location: Some(format!("s3://b/{}", "x".repeat(2050))),
                columns: vec![Column {
                    name: "c".into(),
                    r#type: Some("ü".repeat(COLUMN_TYPE)),
                    comment: None,
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let fit = table(&mut t);
        assert_eq!(fit.refused.len(), 5, "{:?}", fit.refused);
        assert!(fit.refused[0].starts_with("Name is 256 characters long (at most 255)"));
        assert_eq!(fit.refused[1], "Owner is empty (at least 1 character)");
        assert!(fit.refused[2].starts_with("Parameters key \"kkk"));
        // The key can't hold a line break, its value can.
        assert_eq!(
            fit.refused[3],
            "Parameters key \"two\\nlines\" holds U+000A at character 4, which Glue does not take there"
        );
        assert_eq!(
            fit.refused[4],
            "StorageDescriptor.Location is 2057 characters long (at most 2056)"
        );
    }
}
