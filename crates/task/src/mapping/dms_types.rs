//! DMS data-type names (`int8`, `string`, `datetime`...) to canonical types, driven by the data
//! file `dialect-maps/dms-types.toml` (its header documents the format).

use super::rule::{integer, Problem};
use migrate_core::LogicalType;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

const FILE: &str = include_str!("../../../../dialect-maps/dms-types.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    types: BTreeMap<String, Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    to: String,
    unbounded: Option<String>,
    #[serde(default)]
    defaults: BTreeMap<String, u64>,
    #[serde(default)]
    matches: Vec<String>,
}

fn table() -> Result<&'static File, Problem> {
    static TABLE: OnceLock<Result<File, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| toml::from_str(FILE).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| {
            Problem::new(
                format!("the built-in dialect-maps/dms-types.toml is invalid: {e}"),
                "report this as a bug",
            )
        })
}

/// The `data-type` object of a `change-data-type` or `add-column` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DmsType {
    pub(crate) name: String,
    pub(crate) length: Option<u64>,
    pub(crate) precision: Option<u64>,
    pub(crate) scale: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataType {
    #[serde(rename = "type")]
    name: String,
    precision: Option<Value>,
    scale: Option<Value>,
    length: Option<Value>,
}

impl DmsType {
    /// Reads a rule's `data-type` object and checks that the type exists.
    pub(crate) fn from_json(value: &Value) -> Result<DmsType, Problem> {
        let raw = RawDataType::deserialize(value).map_err(|e| {
            Problem::new(
                format!("invalid `data-type`: {e}"),
                "write `\"data-type\": {\"type\": \"string\", \"length\": 50}` \
                 (fields: type, precision, scale, length)",
            )
        })?;
        let name = raw.name.to_ascii_lowercase();
        check_known(&name)?;
        Ok(DmsType {
            name,
            length: integer("data-type.length", raw.length.as_ref())?,
            precision: integer("data-type.precision", raw.precision.as_ref())?,
            scale: integer("data-type.scale", raw.scale.as_ref())?,
        })
    }

    /// The canonical type this DMS type stands for.
    pub(crate) fn canonical(&self) -> Result<LogicalType, Problem> {
        let entry = entry(&self.name)?;
        let holes = holes(&entry.to);
        let fraction = match (self.scale, self.precision) {
            (Some(s), Some(p)) if s != p && holes.contains(&"fraction") => {
                return Err(Problem::new(
                    format!("{self} gives both scale {s} and precision {p} for fractional seconds"),
                    "give only `scale` (the number of fractional-second digits)",
                ))
            }
            (s, p) => s.or(p),
        };
        let value_of = |hole: &str| match hole {
            "length" => self.length,
            "precision" => self.precision,
            "scale" => self.scale,
            "fraction" => fraction,
            _ => None,
        };
        for (param, given) in [
            ("length", self.length),
            ("precision", self.precision),
            ("scale", self.scale),
        ] {
            let used = holes
                .iter()
                .any(|h| *h == param || (*h == "fraction" && param != "length"));
            if given.is_some() && !used {
                return Err(Problem::new(
                    format!("`{param}` does not apply to the DMS type `{}`", self.name),
                    format!("remove `{param}` from the rule's data-type"),
                ));
            }
        }
        let text = match (
            &entry.unbounded,
            holes.iter().any(|h| value_of(h).is_some()),
        ) {
            (Some(unbounded), false) => unbounded.clone(),
            _ => {
                let mut text = entry.to.clone();
                for hole in &holes {
                    let value = value_of(hole)
                        .or_else(|| entry.defaults.get(*hole).copied())
                        .ok_or_else(|| {
                            Problem::new(
                                format!("the DMS type `{}` needs `{hole}`", self.name),
                                format!("add `\"{hole}\": ...` to the rule's data-type"),
                            )
                        })?;
                    text = text.replace(&format!("{{{hole}}}"), &value.to_string());
                }
                text
            }
        };
        LogicalType::parse(&text).map_err(|e| {
            Problem::new(
                format!("{self} gives the invalid type `{text}`: {}", e.message),
                "fix the precision, scale or length",
            )
        })
    }
}

impl fmt::Display for DmsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        let params: Vec<String> = [
            ("length", self.length),
            ("precision", self.precision),
            ("scale", self.scale),
        ]
        .iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name} {v}")))
        .collect();
        if !params.is_empty() {
            write!(f, "({})", params.join(", "))?;
        }
        Ok(())
    }
}

/// Checks a DMS type name, e.g. the `data-type` of an object locator.
pub(crate) fn check_known(name: &str) -> Result<(), Problem> {
    entry(name).map(|_| ())
}

/// True when a column of canonical type `ty` is of DMS type `name` (object-locator `data-type`).
pub(crate) fn stands_for(name: &str, ty: &LogicalType) -> bool {
    entry(name).is_ok_and(|e| e.matches.iter().any(|m| m == ty.canonical_name()))
}

fn entry(name: &str) -> Result<&'static Entry, Problem> {
    let table = table()?;
    table.types.get(name).ok_or_else(|| {
        let known: Vec<&str> = table.types.keys().map(String::as_str).collect();
        Problem::new(
            format!("unknown or unsupported DMS data type `{name}`"),
            format!("use one of: {}", known.join(", ")),
        )
    })
}

fn holes(template: &str) -> Vec<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(hole, _)| hole))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: Value) -> Result<String, Problem> {
        DmsType::from_json(&value)?
            .canonical()
            .map(|t| t.to_string())
    }

    #[test]
    fn every_entry_resolves() {
        const CANONICAL: [&str; 19] = [
            "boolean",
            "smallint",
            "integer",
            "bigint",
            "real",
            "double",
            "decimal",
            "numeric",
            "char",
            "varchar",
            "text",
            "binary",
            "varbinary",
            "blob",
            "date",
            "time",
            "timetz",
            "timestamp",
            "timestamptz",
        ];
        for (name, entry) in &table().unwrap().types {
            let holes = holes(&entry.to);
            let filled = DmsType {
                name: name.clone(),
                length: holes.contains(&"length").then_some(10),
                precision: holes.contains(&"precision").then_some(10),
                scale: (holes.contains(&"scale") || holes.contains(&"fraction")).then_some(2),
            };
            filled.canonical().unwrap();
            for m in &entry.matches {
                assert!(CANONICAL.contains(&m.as_str()), "{name}: {m}");
            }
        }
    }

    #[test]
    fn dms_types_map_to_canonical_types() {
        assert_eq!(canonical(json!({"type": "int8"})).unwrap(), "bigint");
        assert_eq!(
            canonical(json!({"type": "string", "length": "4092", "scale": ""})).unwrap(),
            "varchar(4092 char)"
        );
        assert_eq!(canonical(json!({"type": "string"})).unwrap(), "text");
        assert_eq!(
            canonical(json!({"type": "numeric", "precision": 10, "scale": 2})).unwrap(),
            "decimal(10,2)"
        );
        assert_eq!(
            canonical(json!({"type": "numeric", "precision": 12})).unwrap(),
            "decimal(12,0)"
        );
        assert_eq!(canonical(json!({"type": "numeric"})).unwrap(), "numeric");
        assert_eq!(
            canonical(json!({"type": "datetime", "precision": 6})).unwrap(),
            "timestamp(6)"
        );
        assert_eq!(
            canonical(json!({"type": "datetime", "scale": 3})).unwrap(),
            "timestamp(3)"
        );
        assert_eq!(canonical(json!({"type": "bytes"})).unwrap(), "blob");
        assert_eq!(
            canonical(json!({"type": "uint8"})).unwrap(),
            "decimal(20,0)"
        );
    }

    #[test]
    fn bad_data_types_are_errors() {
        assert!(canonical(json!({"type": "set"}))
            .unwrap_err()
            .message
            .contains("unknown or unsupported DMS data type `set`"));
        assert!(canonical(json!({"type": "int8", "length": 4}))
            .unwrap_err()
            .message
            .contains("`length` does not apply"));
        assert!(canonical(json!({"type": "numeric", "scale": 2}))
            .unwrap_err()
            .message
            .contains("needs `precision`"));
        assert!(canonical(json!({"type": "numeric", "precision": 2, "scale": 5})).is_err());
        assert!(canonical(json!({"type": "string", "size": 5}))
            .unwrap_err()
            .message
            .contains("unknown field `size`"));
    }

    #[test]
    fn locator_data_types_match_canonical_names() {
        assert!(stands_for("int8", &LogicalType::BigInt));
        assert!(!stands_for("int8", &LogicalType::Integer));
        assert!(stands_for(
            "numeric",
            &LogicalType::Decimal {
                precision: 10,
                scale: 2
            }
        ));
        assert!(!stands_for("nosuch", &LogicalType::BigInt));
    }
}
