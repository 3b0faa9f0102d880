//! Manifests: the commit point of a set of chunks.
//!
//! Two objects per manifest, both created with `PutMode::Create` (never overwritten):
//! - `{table}/manifest-{batch:06}.json`: exactly what Redshift's `COPY ... MANIFEST` documents:
//!   `{"entries":[{"url":"s3://bucket/key","mandatory":true,"meta":{"content_length":N}}]}`. The
//!   Redshift docs allow keys COPY does not need inside an entry (UNLOAD writes `meta`, which
//!   Spectrum and Parquet COPY need) but document nothing else, so nothing else is put in it.
//! - `{table}/manifest-{batch:06}.meta.json`, the sidecar: our own metadata (format, schema, row
//!   counts, CRC32C per object, the CSV dialect). It is written *first*; the Redshift manifest is
//!   written last and is the commit marker: a reader that finds it finds the sidecar and every
//!   object too. Sidecar without manifest means "not committed" (a writer died in between); a
//!   retry with the same entries goes through, a different set of entries is refused.

use crate::checksum::Checksum;
use crate::{ChunkObject, Format, StageError};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::sync::Arc;

/// The JSON Redshift reads.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct RedshiftManifest {
    pub entries: Vec<RedshiftEntry>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct RedshiftEntry {
    pub url: String,
    pub mandatory: bool,
    pub meta: RedshiftMeta,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct RedshiftMeta {
    pub content_length: u64,
}

/// Our sidecar. `version` changes when the layout does.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sidecar {
    pub version: u32,
    pub manifest: String,
    pub format: Format,
    pub schema: Vec<Column>,
    pub rows: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvDialect>,
    pub entries: Vec<SidecarEntry>,
}

pub(crate) const SIDECAR_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Column {
    pub name: String,
    /// Arrow's text form of the type, e.g. `Decimal128(38, 10)`, `Timestamp(µs, "UTC")`.
    pub data_type: String,
    pub nullable: bool,
}

/// How the CSV objects are written, for whoever writes the COPY command.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct CsvDialect {
    pub delimiter: String,
    pub quote: String,
    pub null: String,
    pub header: bool,
    pub binary: String,
    pub compression: String,
}

impl CsvDialect {
    pub(crate) fn ours() -> Self {
        CsvDialect {
            delimiter: ",".into(),
            quote: "\"".into(),
            null: crate::csv::NULL.into(),
            header: false,
            binary: "hex".into(),
            compression: "gzip".into(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct SidecarEntry {
    pub url: String,
    pub path: String,
    pub bytes: u64,
    pub rows: u64,
    pub checksum: Checksum,
}

pub(crate) fn redshift_manifest(entries: &[ChunkObject]) -> RedshiftManifest {
    RedshiftManifest {
        entries: entries
            .iter()
            .map(|c| RedshiftEntry {
                url: c.url.clone(),
                mandatory: true,
                meta: RedshiftMeta {
                    content_length: c.bytes,
                },
            })
            .collect(),
    }
}

pub(crate) fn sidecar(manifest_url: &str, entries: &[ChunkObject]) -> Sidecar {
    // Callers check that entries is non-empty and uniform.
    let (format, schema) = match entries.first() {
        Some(first) => (first.format, schema_to_json(&first.schema)),
        None => (Format::Parquet, Vec::new()),
    };
    Sidecar {
        version: SIDECAR_VERSION,
        manifest: manifest_url.to_string(),
        format,
        schema,
        rows: entries.iter().map(|c| c.rows).sum(),
        csv: (format == Format::CsvGzip).then(CsvDialect::ours),
        entries: entries
            .iter()
            .map(|c| SidecarEntry {
                url: c.url.clone(),
                path: c.path.clone(),
                bytes: c.bytes,
                rows: c.rows,
                checksum: c.checksum,
            })
            .collect(),
    }
}

pub(crate) fn schema_to_json(schema: &Schema) -> Vec<Column> {
    schema
        .fields()
        .iter()
        .map(|f| Column {
            name: f.name().clone(),
            data_type: f.data_type().to_string(),
            nullable: f.is_nullable(),
        })
        .collect()
}

pub(crate) fn schema_from_json(columns: &[Column]) -> Result<SchemaRef, String> {
    let fields = columns
        .iter()
        .map(|c| {
            DataType::from_str(&c.data_type)
                .map(|t| Field::new(&c.name, t, c.nullable))
                .map_err(|e| format!("column {:?}: type {:?}: {e}", c.name, c.data_type))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// `a: Int64, b: Utf8` for messages.
pub(crate) fn schema_summary(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that the Redshift manifest and the sidecar describe the same objects, and rebuilds the
/// chunk descriptions from them.
pub(crate) fn chunks_from(
    manifest_url: &str,
    redshift: &RedshiftManifest,
    sidecar: &Sidecar,
) -> Result<(SchemaRef, Vec<ChunkObject>), StageError> {
    let bad = |reason: String| StageError::Manifest {
        manifest: manifest_url.to_string(),
        reason,
    };
    if sidecar.version != SIDECAR_VERSION {
        return Err(bad(format!(
            "sidecar version {} is not {SIDECAR_VERSION}",
            sidecar.version
        )));
    }
    if sidecar.manifest != manifest_url {
        return Err(bad(format!(
            "the sidecar belongs to {}, not to this manifest",
            sidecar.manifest
        )));
    }
    if redshift.entries.len() != sidecar.entries.len() {
        return Err(bad(format!(
            "{} entries, but the sidecar lists {}",
            redshift.entries.len(),
            sidecar.entries.len()
        )));
    }
    let schema = schema_from_json(&sidecar.schema).map_err(bad)?;
    let mut chunks = Vec::with_capacity(sidecar.entries.len());
    for (r, s) in redshift.entries.iter().zip(&sidecar.entries) {
        if r.url != s.url || r.meta.content_length != s.bytes {
            return Err(bad(format!(
                "entry {} ({} bytes) differs from the sidecar's {} ({} bytes)",
                r.url, r.meta.content_length, s.url, s.bytes
            )));
        }
        chunks.push(ChunkObject {
            path: s.path.clone(),
            url: s.url.clone(),
            bytes: s.bytes,
            rows: s.rows,
            checksum: s.checksum,
            format: sidecar.format,
            schema: Arc::clone(&schema),
        });
    }
    let rows: u64 = chunks.iter().map(|c| c.rows).sum();
    if rows != sidecar.rows {
        return Err(bad(format!(
            "entries hold {rows} rows, the sidecar says {}",
            sidecar.rows
        )));
    }
    Ok((schema, chunks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;

    #[test]
    fn every_supported_type_survives_the_text_form() {
        let schema = Schema::new(vec![
            Field::new("b", DataType::Boolean, true),
            Field::new("d", DataType::Decimal128(38, 10), false),
            Field::new("e", DataType::Decimal256(76, 0), true),
            Field::new("t", DataType::Time64(TimeUnit::Microsecond), true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
            Field::new(
                "tz",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("ls", DataType::LargeUtf8, true),
            Field::new("lb", DataType::LargeBinary, true),
            Field::new("dt", DataType::Date32, true),
        ]);
        let back = schema_from_json(&schema_to_json(&schema)).unwrap();
        assert_eq!(back.as_ref(), &schema);
    }

    #[test]
    fn redshift_json_has_only_documented_keys() {
        let m = RedshiftManifest {
            entries: vec![RedshiftEntry {
                url: "s3://b/t/000000-0.parquet".into(),
                mandatory: true,
                meta: RedshiftMeta { content_length: 42 },
            }],
        };
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"entries":[{"url":"s3://b/t/000000-0.parquet","mandatory":true,"meta":{"content_length":42}}]}"#
        );
    }
}
