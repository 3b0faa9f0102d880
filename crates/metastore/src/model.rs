//! The metastore's objects as plain data, close to Hive's own Thrift model (`Database`, `Table`,
//! `Partition`, `StorageDescriptor`...), serialisable for export and comparison.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Hive database (`DBS` and `DATABASE_PARAMS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Database {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `DB_LOCATION_URI`: where the tables of the database go by default (external ones in 4.x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_uri: Option<String>,
    /// `DB_MANAGED_LOCATION_URI` (Hive 4.x): where managed tables go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_location_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_type: Option<String>,
    /// `DBS.TYPE` (Hive 4.x): `NATIVE`, or `REMOTE` for a database served by a data connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// The row id in `DBS`: used to read the tables, never exported.
    #[serde(skip)]
    pub id: i64,
}

/// A table or view (`TBLS`, `TABLE_PARAMS`, `PARTITION_KEYS` and its storage descriptor).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub database: String,
    pub name: String,
    /// `MANAGED_TABLE`, `EXTERNAL_TABLE`, `VIRTUAL_VIEW`, `MATERIALIZED_VIEW`, as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub create_time: i64,
    #[serde(default)]
    pub last_access_time: i64,
    #[serde(default)]
    pub retention: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_original_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_expanded_text: Option<String>,
    #[serde(default)]
    pub partition_keys: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageDescriptor>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// The row id in `TBLS`: used to read the partitions, never exported.
    #[serde(skip)]
    pub id: i64,
}

/// A partition (`PARTITIONS`, `PARTITION_KEY_VALS`, `PARTITION_PARAMS` and its own storage
/// descriptor).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// One value per partition key, in key order (`__HIVE_DEFAULT_PARTITION__` for NULL, as Hive
    /// stores it).
    pub values: Vec<String>,
    #[serde(default)]
    pub create_time: i64,
    #[serde(default)]
    pub last_access_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageDescriptor>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// The row id in `PARTITIONS`: the position of a partition stream, never exported.
    #[serde(skip)]
    pub id: i64,
}

/// `SDS` with its columns, SerDe, parameters, bucketing, sorting and skew.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageDescriptor {
    #[serde(default)]
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    #[serde(default)]
    pub compressed: bool,
    /// -1 when the table is not bucketed.
    #[serde(default)]
    pub num_buckets: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serde: Option<SerDe>,
    #[serde(default)]
    pub bucket_columns: Vec<String>,
    #[serde(default)]
    pub sort_columns: Vec<SortColumn>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skewed: Option<Skewed>,
    #[serde(default)]
    pub stored_as_sub_directories: bool,
}

/// A column (`COLUMNS_V2`, `PARTITION_KEYS`): the Hive type as written (`array<struct<a:int>>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `SERDES` and `SERDE_PARAMS`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerDe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The SerDe class (`SLIB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialization_library: Option<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

/// `SORT_COLS`: order 1 ascending, 0 descending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortColumn {
    pub column: String,
    pub order: i32,
}

/// `SKEWED_COL_NAMES`, `SKEWED_VALUES` and `SKEWED_COL_VALUE_LOC_MAP`: list bucketing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skewed {
    pub column_names: Vec<String>,
    /// One tuple per skewed value (one value per skewed column).
    pub values: Vec<Vec<String>>,
    /// Directory of each skewed value tuple (when stored as subdirectories).
    #[serde(default)]
    pub location_maps: Vec<(Vec<String>, String)>,
}
