//! Metastore objects -> Glue inputs, with locations rewritten by the location map.
//!
//! Field by field: database name/description/location/parameters; table name, description (the
//! `comment` parameter, which stays in the parameters too), owner, retention, type, view texts,
//! partition keys, parameters and storage descriptor; partition values, parameters and storage
//! descriptor. Storage descriptors carry columns (type text as Hive wrote it), location, formats,
//! compression, buckets, SerDe (name, class, parameters), bucket and sort columns, parameters, skew
//! and `StoredAsSubDirectories`. Not carried, because Glue has no field for them: create and access
//! times (Glue sets its own), database owners, Hive 4's managed location of a database (both
//! reported).
//! Locations are rewritten on the Glue inputs ([`Locations`]), so that an import rewrites exactly
//! what a metastore run does: every storage location, skewed-value directory and location kept in
//! a parameter (Avro schema URL, Iceberg metadata, Spark's `path`).

use migrate_core::LocationMap;
use migrate_glue as glue;
use migrate_metastore as hive;
use std::collections::BTreeMap;

/// Counts of locations seen while converting (see [`crate::LocationCounts`]).
#[derive(Debug, Default)]
pub(crate) struct Locations<'a> {
    pub map: Option<&'a LocationMap>,
    pub rewritten: u64,
    /// Locations no rule matched although a map was given (still pointing at the old storage).
    pub unmapped: Vec<String>,
    pub unmapped_count: u64,
}

impl Locations<'_> {
    pub fn apply(&mut self, location: Option<&str>) -> Option<String> {
        let location = location?;
        let map = self.map.filter(|m| !m.is_empty());
        if let Some(new) = map.and_then(|m| m.rewrite(location)) {
            self.rewritten += 1;
            return Some(new);
        }
        // Without a map, what Glue's readers can't read is still shown: a location off S3
        // (`hdfs://`, `viewfs://`, `s3a://`: Athena reads `s3://` only) left as it is.
        if map.is_some() || !location.starts_with("s3://") {
            self.unmapped_count += 1;
            if self.unmapped.len() < 10 {
                self.unmapped.push(location.to_string());
            }
        }
        Some(location.to_string())
    }
}

/// Table and partition parameters that hold a location like any other (an object whose schema or
/// metadata stays on HDFS can't be read after the move): the Avro schema file, and the current
/// and previous metadata file of an Iceberg table.
const LOCATION_PARAMETERS: &[&str] = &[
    "avro.schema.url",
    "metadata_location",
    "previous_metadata_location",
];

/// SerDe parameters that hold a location: the Avro schema file, and `path`, where Spark's data
/// source tables (`USING parquet`, Delta, Hudi) keep the location that Spark actually reads.
const SERDE_LOCATION_PARAMETERS: &[&str] = &["avro.schema.url", "path"];

impl Locations<'_> {
    pub fn database(&mut self, d: &mut glue::DatabaseInput) {
        d.location_uri = self.apply(d.location_uri.as_deref());
    }

    pub fn table(&mut self, t: &mut glue::TableInput) {
        self.parameters(&mut t.parameters, LOCATION_PARAMETERS);
        if let Some(sd) = t.storage_descriptor.as_mut() {
            self.storage(sd);
        }
    }

    pub fn partition(&mut self, p: &mut glue::PartitionInput) {
        self.parameters(&mut p.parameters, LOCATION_PARAMETERS);
        if let Some(sd) = p.storage_descriptor.as_mut() {
            self.storage(sd);
        }
    }

    fn storage(&mut self, sd: &mut glue::StorageDescriptor) {
        sd.location = self.apply(sd.location.as_deref());
        if let Some(serde) = sd.serde_info.as_mut() {
            self.parameters(&mut serde.parameters, SERDE_LOCATION_PARAMETERS);
        }
        if let Some(skew) = sd.skewed_info.as_mut() {
            for v in skew.skewed_column_value_location_maps.values_mut() {
                *v = self.apply(Some(v)).unwrap_or_default();
            }
        }
    }

    /// Rewrites the parameters named in `keys` that `parameters` has.
    fn parameters(&mut self, parameters: &mut BTreeMap<String, String>, keys: &[&str]) {
        for key in keys {
            if let Some(url) = parameters.get_mut(*key) {
                if let Some(new) = self.apply(Some(url)) {
                    *url = new;
                }
            }
        }
    }
}

/// A database as Glue's input, its location rewritten.
pub(crate) fn database(db: &hive::Database, loc: &mut Locations<'_>) -> glue::DatabaseInput {
    let mut input = glue::DatabaseInput {
        name: db.name.clone(),
        description: db.description.clone(),
        location_uri: db.location_uri.clone(),
        parameters: db.parameters.clone(),
    };
    loc.database(&mut input);
    input
}

/// A table as Glue's input, its locations rewritten.
pub(crate) fn table(t: &hive::Table, loc: &mut Locations<'_>) -> glue::TableInput {
    let mut input = glue::TableInput {
        name: t.name.clone(),
        description: t.parameters.get("comment").cloned(),
        owner: present(&t.owner),
        retention: t.retention,
        storage_descriptor: t.storage.as_ref().map(storage),
        partition_keys: t.partition_keys.iter().map(column).collect(),
        view_original_text: t.view_original_text.clone(),
        view_expanded_text: t.view_expanded_text.clone(),
        table_type: t.table_type.clone(),
        parameters: t.parameters.clone(),
    };
    loc.table(&mut input);
    input
}

/// A partition as Glue's input, its locations rewritten.
pub(crate) fn partition(p: &hive::Partition, loc: &mut Locations<'_>) -> glue::PartitionInput {
    let mut input = glue::PartitionInput {
        values: p.values.clone(),
        storage_descriptor: p.storage.as_ref().map(storage),
        parameters: p.parameters.clone(),
    };
    loc.partition(&mut input);
    input
}

/// An optional name, an empty one as none: Hive may store `''` where Glue takes no value or at
/// least one character (its owner, SerDe name and library).
fn present(name: &Option<String>) -> Option<String> {
    name.clone().filter(|n| !n.is_empty())
}

fn column(c: &hive::Column) -> glue::Column {
    glue::Column {
        name: c.name.clone(),
        r#type: Some(c.type_name.clone()),
        comment: c.comment.clone(),
    }
}

fn storage(sd: &hive::StorageDescriptor) -> glue::StorageDescriptor {
    glue::StorageDescriptor {
        columns: sd.columns.iter().map(column).collect(),
        location: sd.location.clone(),
        input_format: sd.input_format.clone(),
        output_format: sd.output_format.clone(),
        compressed: sd.compressed,
        number_of_buckets: sd.num_buckets,
        serde_info: sd.serde.as_ref().map(|s| glue::SerDeInfo {
            name: present(&s.name),
            serialization_library: present(&s.serialization_library),
            parameters: s.parameters.clone(),
        }),
        bucket_columns: sd.bucket_columns.clone(),
        sort_columns: sd
            .sort_columns
            .iter()
            .map(|s| glue::Order {
                column: s.column.clone(),
                sort_order: s.order,
            })
            .collect(),
        parameters: sd.parameters.clone(),
        skewed_info: sd.skewed.as_ref().map(|s| glue::SkewedInfo {
            skewed_column_names: s.column_names.clone(),
            skewed_column_values: s.values.iter().map(|v| skewed_key(v)).collect(),
            skewed_column_value_location_maps: s
                .location_maps
                .iter()
                .map(|(values, location)| (skewed_key(values), location.clone()))
                .collect(),
        }),
        stored_as_sub_directories: sd.stored_as_sub_directories,
    }
}

/// A skewed value tuple as one Glue string: each value as `<length>$<value>`, concatenated, the
/// encoding of AWS's Glue Data Catalog client for Hive (so Hive and Spark on EMR read it back as
/// the same tuple, whatever characters the values hold).
pub fn skewed_key(values: &[String]) -> String {
    values
        .iter()
        // Java's String.length(), which AWS's Hive client writes and parses: UTF-16 units (an
        // emoji counts 2), not characters.
        .map(|v| format!("{}${v}", v.encode_utf16().count()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skewed_keys_are_unambiguous() {
        assert_eq!(skewed_key(&["a".into(), "1".into()]), "1$a1$1");
        // As AWS's Hive client counts: UTF-16 units.
        assert_eq!(skewed_key(&["😀".into(), "é".into()]), "2$😀1$é");
        assert_ne!(
            skewed_key(&["a$1".into()]),
            skewed_key(&["a".into(), "1".into()])
        );
    }

    #[test]
    fn unmapped_locations_are_counted() {
        let map = LocationMap::parse(&["hdfs://nn/w=s3://b/w"]).unwrap();
        let mut loc = Locations {
            map: Some(&map),
            ..Default::default()
        };
        assert_eq!(
            loc.apply(Some("hdfs://nn/w/t")).as_deref(),
            Some("s3://b/w/t")
        );
        assert_eq!(
            loc.apply(Some("hdfs://other/t")).as_deref(),
            Some("hdfs://other/t")
        );
        assert_eq!(loc.apply(None), None);
        assert_eq!((loc.rewritten, loc.unmapped_count), (1, 1));
        assert_eq!(loc.unmapped, ["hdfs://other/t"]);
        // No map: locations off S3 are shown, those on S3 are not.
        let mut loc = Locations::default();
        assert_eq!(loc.apply(Some("s3://b/t")).as_deref(), Some("s3://b/t"));
        assert_eq!(loc.apply(Some("s3a://b/t")).as_deref(), Some("s3a://b/t"));
        assert_eq!((loc.rewritten, loc.unmapped_count), (0, 1));
        assert_eq!(loc.unmapped, ["s3a://b/t"]);
    }
}
