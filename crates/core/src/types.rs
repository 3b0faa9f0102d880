//! The canonical type system every source type maps into and every target type maps out of.
//!
//! Canonical types have a textual form used by the mapping files in `dialect-maps/`:
//! `boolean`, `smallint`, `integer`, `bigint`, `real`, `double`, `decimal(p,s)`, `numeric` (unbounded
//! precision), `char(n char|byte)`, `varchar(n char|byte)`, `text` (unbounded), `binary(n)`,
//! `varbinary(n)`, `blob`, `date`, `time(p)`, `timetz(p)`, `timestamp(p)`, `timestamptz(p)`,
//! `interval_ym`, `interval_ds(p)`, `json`, `xml`, `uuid`, `geometry`, `geography`, and the nested
//! `array<T>`, `map<K,V>`, `struct<name:T,...>`, `union<T,...>`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether a character length counts characters or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LengthUnit {
    Char,
    Byte,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StructField {
    pub name: String,
    pub data_type: LogicalType,
}

/// Serialized as its canonical text (`"decimal(10,2)"`), the same form the mapping files use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum LogicalType {
    Boolean,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    /// Exact numeric with a declared precision and scale (`0 <= scale <= precision`).
    Decimal {
        precision: u32,
        scale: u32,
    },
    /// Exact numeric of unbounded precision and scale (Oracle `NUMBER`, PostgreSQL `numeric`).
    Numeric,
    Char {
        length: u32,
        unit: LengthUnit,
    },
    Varchar {
        length: u32,
        unit: LengthUnit,
    },
    /// Character data of unbounded length.
    Text,
    Binary {
        length: u32,
    },
    Varbinary {
        length: u32,
    },
    /// Binary data of unbounded length.
    Blob,
    Date,
    Time {
        precision: u8,
        with_time_zone: bool,
    },
    Timestamp {
        precision: u8,
        with_time_zone: bool,
    },
    IntervalYearMonth,
    IntervalDaySecond {
        precision: u8,
    },
    Json,
    Xml,
    Uuid,
    Geometry,
    Geography,
    Array(Box<LogicalType>),
    Map(Box<LogicalType>, Box<LogicalType>),
    Struct(Vec<StructField>),
    Union(Vec<LogicalType>),
}

impl LogicalType {
    /// The name that selects a rule in a target mapping file (`decimal`, `varchar`, `timestamptz`...).
    pub fn canonical_name(&self) -> &'static str {
        use LogicalType::*;
        match self {
            Boolean => "boolean",
            SmallInt => "smallint",
            Integer => "integer",
            BigInt => "bigint",
            Real => "real",
            Double => "double",
            Decimal { .. } => "decimal",
            Numeric => "numeric",
            Char { .. } => "char",
            Varchar { .. } => "varchar",
            Text => "text",
            Binary { .. } => "binary",
            Varbinary { .. } => "varbinary",
            Blob => "blob",
            Date => "date",
            Time {
                with_time_zone: false,
                ..
            } => "time",
            Time { .. } => "timetz",
            Timestamp {
                with_time_zone: false,
                ..
            } => "timestamp",
            Timestamp { .. } => "timestamptz",
            IntervalYearMonth => "interval_ym",
            IntervalDaySecond { .. } => "interval_ds",
            Json => "json",
            Xml => "xml",
            Uuid => "uuid",
            Geometry => "geometry",
            Geography => "geography",
            Array(_) => "array",
            Map(..) => "map",
            Struct(_) => "struct",
            Union(_) => "union",
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            LogicalType::SmallInt | LogicalType::Integer | LogicalType::BigInt
        )
    }

    pub fn is_numeric(&self) -> bool {
        self.is_integer()
            || matches!(
                self,
                LogicalType::Decimal { .. }
                    | LogicalType::Numeric
                    | LogicalType::Real
                    | LogicalType::Double
            )
    }

    pub fn is_temporal(&self) -> bool {
        matches!(
            self,
            LogicalType::Date
                | LogicalType::Time { .. }
                | LogicalType::Timestamp { .. }
                | LogicalType::IntervalYearMonth
                | LogicalType::IntervalDaySecond { .. }
        )
    }

    pub fn is_character(&self) -> bool {
        matches!(
            self,
            LogicalType::Char { .. } | LogicalType::Varchar { .. } | LogicalType::Text
        )
    }

    /// Bytes, of a fixed, bounded or unbounded length.
    pub fn is_binary(&self) -> bool {
        matches!(
            self,
            LogicalType::Binary { .. } | LogicalType::Varbinary { .. } | LogicalType::Blob
        )
    }

    /// Both types hold the same kind of values (characters, numbers, moments, bytes), whatever
    /// their size or precision; other types only when equal.
    pub fn same_kind(&self, other: &LogicalType) -> bool {
        self == other
            || (self.is_character() && other.is_character())
            || (self.is_numeric() && other.is_numeric())
            || (self.is_temporal() && other.is_temporal())
            || (self.is_binary() && other.is_binary())
    }

    /// Nested or semi-structured values (Hive complex types, JSON, XML).
    pub fn is_semi_structured(&self) -> bool {
        matches!(
            self,
            LogicalType::Array(_)
                | LogicalType::Map(..)
                | LogicalType::Struct(_)
                | LogicalType::Union(_)
                | LogicalType::Json
                | LogicalType::Xml
        )
    }

    /// Large values that engines store out of line (LOBs): they matter for replication preflight.
    pub fn is_large_object(&self) -> bool {
        matches!(
            self,
            LogicalType::Text | LogicalType::Blob | LogicalType::Xml | LogicalType::Json
        )
    }

    /// Parses the canonical textual form (see the module documentation).
    pub fn parse(text: &str) -> Result<LogicalType, TypeParseError> {
        let mut parser = CanonicalParser { text, pos: 0 };
        let parsed = parser.parse_type()?;
        parser.skip_ws();
        if parser.pos != text.len() {
            return Err(parser.error("unexpected text after the type"));
        }
        Ok(parsed)
    }
}

impl fmt::Display for LogicalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LogicalType::*;
        let unit = |u: &LengthUnit| match u {
            LengthUnit::Char => "char",
            LengthUnit::Byte => "byte",
        };
        match self {
            Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            Char { length, unit: u } => write!(f, "char({length} {})", unit(u)),
            Varchar { length, unit: u } => write!(f, "varchar({length} {})", unit(u)),
            Binary { length } => write!(f, "binary({length})"),
            Varbinary { length } => write!(f, "varbinary({length})"),
            Time { precision, .. } | Timestamp { precision, .. } => {
                write!(f, "{}({precision})", self.canonical_name())
            }
            IntervalDaySecond { precision } => write!(f, "interval_ds({precision})"),
            Array(element) => write!(f, "array<{element}>"),
            Map(key, value) => write!(f, "map<{key},{value}>"),
            Struct(fields) => {
                f.write_str("struct<")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{}", field.name, field.data_type)?;
                }
                f.write_str(">")
            }
            Union(members) => {
                f.write_str("union<")?;
                for (i, member) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{member}")?;
                }
                f.write_str(">")
            }
            other => f.write_str(other.canonical_name()),
        }
    }
}

impl From<LogicalType> for String {
    fn from(value: LogicalType) -> String {
        value.to_string()
    }
}

impl TryFrom<String> for LogicalType {
    type Error = TypeParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        LogicalType::parse(&value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid canonical type `{text}` at offset {offset}: {message}")]
pub struct TypeParseError {
    pub text: String,
    pub offset: usize,
    pub message: String,
}

struct CanonicalParser<'a> {
    text: &'a str,
    pos: usize,
}

impl CanonicalParser<'_> {
    fn error(&self, message: &str) -> TypeParseError {
        TypeParseError {
            text: self.text.to_string(),
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn skip_ws(&mut self) {
        while self.text[self.pos..].starts_with(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.text[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), TypeParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{c}`")))
        }
    }

    fn word(&mut self) -> &str {
        self.skip_ws();
        let start = self.pos;
        let rest = &self.text[start..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.pos += len;
        &self.text[start..start + len]
    }

    fn number(&mut self) -> Result<u32, TypeParseError> {
        let word = self.word();
        word.parse()
            .map_err(|_| self.error("expected a non-negative integer"))
    }

    fn optional_args(&mut self) -> Result<Vec<u32>, TypeParseError> {
        let mut args = Vec::new();
        if self.eat('(') {
            loop {
                args.push(self.number()?);
                if !self.eat(',') {
                    break;
                }
            }
            self.expect(')')?;
        }
        Ok(args)
    }

    fn length_with_unit(&mut self) -> Result<(u32, LengthUnit), TypeParseError> {
        self.expect('(')?;
        let length = self.number()?;
        let unit = match self.word() {
            "char" => LengthUnit::Char,
            "byte" => LengthUnit::Byte,
            _ => return Err(self.error("expected `char` or `byte` after the length")),
        };
        self.expect(')')?;
        Ok((length, unit))
    }

    fn precision(&mut self, default: u8) -> Result<u8, TypeParseError> {
        let args = self.optional_args()?;
        match args.as_slice() {
            [] => Ok(default),
            [p] => u8::try_from(*p).map_err(|_| self.error("precision out of range")),
            _ => Err(self.error("expected one precision")),
        }
    }

    fn single_length(&mut self) -> Result<u32, TypeParseError> {
        match self.optional_args()?.as_slice() {
            [n] => Ok(*n),
            _ => Err(self.error("expected one length")),
        }
    }

    fn parse_type(&mut self) -> Result<LogicalType, TypeParseError> {
        use LogicalType::*;
        let name = self.word().to_string();
        Ok(match name.as_str() {
            "boolean" => Boolean,
            "smallint" => SmallInt,
            "integer" => Integer,
            "bigint" => BigInt,
            "real" => Real,
            "double" => Double,
            "numeric" => Numeric,
            "decimal" => match self.optional_args()?.as_slice() {
                [p] => Decimal {
                    precision: *p,
                    scale: 0,
                },
                [p, s] if s <= p => Decimal {
                    precision: *p,
                    scale: *s,
                },
                _ => {
                    return Err(
                        self.error("decimal needs (precision[,scale]) with scale <= precision")
                    )
                }
            },
            "char" => {
                let (length, unit) = self.length_with_unit()?;
                Char { length, unit }
            }
            "varchar" => {
                let (length, unit) = self.length_with_unit()?;
                Varchar { length, unit }
            }
            "text" => Text,
            "binary" => Binary {
                length: self.single_length()?,
            },
            "varbinary" => Varbinary {
                length: self.single_length()?,
            },
            "blob" => Blob,
            "date" => Date,
            "time" | "timetz" => Time {
                precision: self.precision(6)?,
                with_time_zone: name == "timetz",
            },
            "timestamp" | "timestamptz" => Timestamp {
                precision: self.precision(6)?,
                with_time_zone: name == "timestamptz",
            },
            "interval_ym" => IntervalYearMonth,
            "interval_ds" => IntervalDaySecond {
                precision: self.precision(6)?,
            },
            "json" => Json,
            "xml" => Xml,
            "uuid" => Uuid,
            "geometry" => Geometry,
            "geography" => Geography,
            "array" => {
                self.expect('<')?;
                let element = self.parse_type()?;
                self.expect('>')?;
                Array(Box::new(element))
            }
            "map" => {
                self.expect('<')?;
                let key = self.parse_type()?;
                self.expect(',')?;
                let value = self.parse_type()?;
                self.expect('>')?;
                Map(Box::new(key), Box::new(value))
            }
            "struct" => {
                self.expect('<')?;
                let mut fields = Vec::new();
                loop {
                    let field_name = self.word().to_string();
                    if field_name.is_empty() {
                        return Err(self.error("expected a field name"));
                    }
                    self.expect(':')?;
                    fields.push(StructField {
                        name: field_name,
                        data_type: self.parse_type()?,
                    });
                    if !self.eat(',') {
                        break;
                    }
                }
                self.expect('>')?;
                Struct(fields)
            }
            "union" => {
                self.expect('<')?;
                let mut members = vec![self.parse_type()?];
                while self.eat(',') {
                    members.push(self.parse_type()?);
                }
                self.expect('>')?;
                Union(members)
            }
            "" => return Err(self.error("expected a type name")),
            _ => return Err(self.error("unknown canonical type")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_round_trips() {
        for text in [
            "decimal(38,10)",
            "numeric",
            "varchar(20 char)",
            "char(3 byte)",
            "timestamptz(6)",
            "interval_ds(9)",
            "array<map<varchar(10 byte),struct<a:integer,b:array<double>>>>",
            "union<integer,text>",
        ] {
            let parsed = LogicalType::parse(text).unwrap();
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_canonical_text() {
        assert!(LogicalType::parse("decimal(2,5)").is_err());
        assert!(LogicalType::parse("varchar(10)").is_err());
        assert!(LogicalType::parse("integer junk").is_err());
        assert!(LogicalType::parse("frobnicate").is_err());
    }
}
