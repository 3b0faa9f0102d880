//! Metastore objects -> Glue inputs, with locations rewritten by the location map.
//!
//! Field by field: database name/description/location/parameters; table name, description (the
//! `comment` parameter, which stays in the parameters too), owner, retention, type, view texts,
//! partition keys, parameters and storage descriptor; partition values, parameters and storage
//! descriptor. Storage descriptors carry columns (type text as Hive wrote it), location, formats,
//! compression, buckets, SerDe (name, class, parameters), bucket and sort columns, parameters, skew
//! and `StoredAsSubDirectories`. Not carried, because Glue has no field for them: create and access
//! times (Glue sets its own), database owners, Hive 4's managed location of a database (reported).

use migrate_core::LocationMap;
use migrate_glue as glue;
use migrate_metastore as hive;

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
        let Some(map) = self.map.filter(|m| !m.is_empty()) else {
            return Some(location.to_string());
        };
        match map.rewrite(location) {
            Some(new) => {
                self.rewritten += 1;
                Some(new)
            }
            None => {
                self.unmapped_count += 1;
                if self.unmapped.len() < 10 {
                    self.unmapped.push(location.to_string());
                }
                Some(location.to_string())
            }
        }
    }
}

pub(crate) fn database(db: &hive::Database, loc: &mut Locations<'_>) -> glue::DatabaseInput {
    glue::DatabaseInput {
        name: db.name.clone(),
        description: db.description.clone(),
        location_uri: loc.apply(db.location_uri.as_deref()),
        parameters: db.parameters.clone(),
    }
}

pub(crate) fn table(t: &hive::Table, loc: &mut Locations<'_>) -> glue::TableInput {
    glue::TableInput {
        name: t.name.clone(),
        description: t.parameters.get("comment").cloned(),
        owner: t.owner.clone(),
        retention: t.retention,
        storage_descriptor: t.storage.as_ref().map(|sd| storage(sd, loc)),
        partition_keys: t.partition_keys.iter().map(column).collect(),
        view_original_text: t.view_original_text.clone(),
        view_expanded_text: t.view_expanded_text.clone(),
        table_type: t.table_type.clone(),
        parameters: t.parameters.clone(),
    }
}

pub(crate) fn partition(p: &hive::Partition, loc: &mut Locations<'_>) -> glue::PartitionInput {
    glue::PartitionInput {
        values: p.values.clone(),
        storage_descriptor: p.storage.as_ref().map(|sd| storage(sd, loc)),
        parameters: p.parameters.clone(),
    }
}

fn column(c: &hive::Column) -> glue::Column {
    glue::Column {
        name: c.name.clone(),
        r#type: Some(c.type_name.clone()),
        comment: c.comment.clone(),
    }
}

fn storage(sd: &hive::StorageDescriptor, loc: &mut Locations<'_>) -> glue::StorageDescriptor {
    glue::StorageDescriptor {
        columns: sd.columns.iter().map(column).collect(),
        location: loc.apply(sd.location.as_deref()),
        input_format: sd.input_format.clone(),
        output_format: sd.output_format.clone(),
        compressed: sd.compressed,
        number_of_buckets: sd.num_buckets,
        serde_info: sd.serde.as_ref().map(|s| glue::SerDeInfo {
            name: s.name.clone(),
            serialization_library: s.serialization_library.clone(),
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
                .map(|(values, location)| {
                    (
                        skewed_key(values),
                        loc.apply(Some(location)).unwrap_or_default(),
                    )
                })
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
    }
}
