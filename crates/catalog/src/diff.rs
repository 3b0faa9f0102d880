//! Field-level differences between what Glue has and what would be written.

use crate::report::FieldChange;
use serde::Serialize;
use serde_json::Value;

/// Most fields listed per object.
const MAX_FIELDS: usize = 20;

/// The leaves that differ between `before` and `after`, as `Path.To.Field` (list items as `[i]`).
pub(crate) fn fields<T: Serialize>(before: &T, after: &T) -> Vec<FieldChange> {
    let (b, a) = (
        serde_json::to_value(before).unwrap_or(Value::Null),
        serde_json::to_value(after).unwrap_or(Value::Null),
    );
    let mut out = Vec::new();
    walk("", &b, &a, &mut out);
    out
}

fn walk(path: &str, b: &Value, a: &Value, out: &mut Vec<FieldChange>) {
    if b == a || out.len() >= MAX_FIELDS {
        return;
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (b, a) {
        (Value::Object(bm), Value::Object(am)) => {
            let mut keys: Vec<&String> = bm.keys().chain(am.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(
                    &join(k),
                    bm.get(k).unwrap_or(&Value::Null),
                    am.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(bv), Value::Array(av)) if bv.len() == av.len() => {
            for (i, (x, y)) in bv.iter().zip(av).enumerate() {
                walk(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ => out.push(FieldChange {
            path: path.to_string(),
            before: text(b),
            after: text(a),
        }),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_glue::{PartitionInput, StorageDescriptor};

    #[test]
    fn names_the_fields_that_differ() {
        let p = |loc: &str| PartitionInput {
            values: vec!["1".into()],
            storage_descriptor: Some(StorageDescriptor {
                location: Some(loc.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let d = fields(&p("hdfs://a"), &p("s3://b"));
        assert_eq!(
            d,
            vec![FieldChange {
                path: "StorageDescriptor.Location".into(),
                before: Some("hdfs://a".into()),
                after: Some("s3://b".into())
            }]
        );
        assert!(fields(&p("x"), &p("x")).is_empty());
    }
}
