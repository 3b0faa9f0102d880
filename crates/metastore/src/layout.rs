//! Which Hive schema the metastore database has, told by the tables and columns present.

use crate::backend::{Backend, Engine};
use crate::MetastoreError;
use std::collections::{BTreeSet, HashSet};

/// The metastore schema generations this reader knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum HiveGeneration {
    /// Hive 2.x: no catalogs.
    Hive2,
    /// Hive 3.x: catalogs (`CTLGS`, `DBS.CTLG_NAME`).
    Hive3,
    /// Hive 4.x: database types and managed locations (`DBS.TYPE`, `DBS.DB_MANAGED_LOCATION_URI`).
    Hive4,
}

/// What the reader found in the metastore database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Layout {
    pub generation: HiveGeneration,
    /// `VERSION.SCHEMA_VERSION`, when the table exists and has a row (e.g. `4.0.0`).
    pub schema_version: Option<String>,
    /// `DBS.CTLG_NAME` exists (Hive 3+).
    pub has_catalogs: bool,
    /// `DBS.TYPE` exists (Hive 4).
    pub has_database_type: bool,
    /// `DBS.DB_MANAGED_LOCATION_URI` exists (Hive 4).
    pub has_managed_location: bool,
}

/// The tables every supported generation has and this reader needs.
const REQUIRED: &[&str] = &[
    "DBS",
    "DATABASE_PARAMS",
    "TBLS",
    "TABLE_PARAMS",
    "SDS",
    "SD_PARAMS",
    "COLUMNS_V2",
    "SERDES",
    "SERDE_PARAMS",
    "PARTITIONS",
    "PARTITION_KEYS",
    "PARTITION_KEY_VALS",
    "PARTITION_PARAMS",
    "BUCKETING_COLS",
    "SORT_COLS",
    "SKEWED_COL_NAMES",
    "SKEWED_VALUES",
    "SKEWED_STRING_LIST_VALUES",
    "SKEWED_COL_VALUE_LOC_MAP",
];

/// Why a database without Hive's tables in its current schema is not read: the tables are in
/// another PostgreSQL schema (with the URL option that reads it), or nowhere.
async fn empty_hint(backend: &Backend) -> Result<String, MetastoreError> {
    let elsewhere = match backend.engine() {
        Engine::Mysql => Vec::new(),
        Engine::Postgres => backend
            .rows(
                "the schemas with Hive's tables",
                r#"SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name IN ('DBS', 'TBLS') AND table_schema IS DISTINCT FROM current_schema() ORDER BY 1"#,
            )
            .await?
            .into_iter()
            .flatten()
            .flatten()
            .collect(),
    };
    Ok(match elsewhere.first() {
        Some(schema) => format!(
            "unknown metastore layout: Hive's tables (DBS, TBLS, ...) are not in the schema on the search path but in schema {}: add ?options=-csearch_path%3D{schema} to the metastore URL (&options=... if it has parameters already)",
            elsewhere.join(", ")
        ),
        None => "unknown metastore layout: the database is empty (no Hive tables such as DBS and TBLS): is the URL's database the metastore's?".into(),
    })
}

impl Layout {
    pub(crate) async fn detect(backend: &Backend) -> Result<Layout, MetastoreError> {
        let sql = match backend.engine() {
            Engine::Mysql => "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
            Engine::Postgres => "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()",
        };
        let rows = backend.rows("the metastore's tables", sql).await?;
        let mut tables = BTreeSet::new();
        let mut columns = HashSet::new();
        for row in rows {
            if let [Some(t), Some(c)] = row.as_slice() {
                tables.insert(t.clone());
                columns.insert((t.clone(), c.clone()));
            }
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|t| !tables.contains(*t))
            .collect();
        if !missing.is_empty() {
            let hint = if tables.contains("COLUMNS") && !tables.contains("COLUMNS_V2") {
                " (this looks like a Hive 0.x metastore with COLUMNS instead of COLUMNS_V2: upgrade it with Hive's schematool to 2.x or later first)"
            } else if tables.is_empty() {
                return Err(MetastoreError::Layout(empty_hint(backend).await?));
            } else if tables
                .iter()
                .any(|t| t.chars().any(|c| c.is_ascii_lowercase()))
                && tables.iter().any(|t| t.eq_ignore_ascii_case("tbls"))
            {
                " (tables are lower-case here: Hive's schema uses upper-case names; was it created with lower_case_table_names=1?)"
            } else {
                ""
            };
            return Err(MetastoreError::Layout(format!(
                "unknown metastore layout: missing table(s) {}{hint}; supported are the Hive 2.x, 3.x and 4.x schemas",
                missing.join(", ")
            )));
        }
        let has = |t: &str, c: &str| columns.contains(&(t.to_string(), c.to_string()));
        let has_catalogs = has("DBS", "CTLG_NAME");
        let has_database_type = has("DBS", "TYPE");
        let has_managed_location = has("DBS", "DB_MANAGED_LOCATION_URI");
        let generation = if has_database_type || has_managed_location {
            HiveGeneration::Hive4
        } else if has_catalogs {
            HiveGeneration::Hive3
        } else {
            HiveGeneration::Hive2
        };
        let schema_version = if tables.contains("VERSION") {
            backend
                .rows(
                    "VERSION",
                    r#"SELECT "SCHEMA_VERSION" FROM "VERSION" ORDER BY "VER_ID" DESC"#,
                )
                .await?
                .into_iter()
                .next()
                .and_then(|r| r.into_iter().next().flatten())
        } else {
            None
        };
        Ok(Layout {
            generation,
            schema_version,
            has_catalogs,
            has_database_type,
            has_managed_location,
        })
    }
}
