//! Reads a Hive metastore straight from its backing database (MySQL/MariaDB or PostgreSQL), without
//! a running metastore service: databases, tables and views, columns and comments, partition keys,
//! partitions with their own storage descriptors, SerDes and their parameters, formats, bucketing,
//! sort columns, skew, and every parameter map.
//!
//! Contracts:
//! - **Layouts.** Hive 2.x, 3.x and 4.x schemas are told apart by the tables and columns present
//!   ([`Layout`]); anything else (Hive 0.x/1.x `COLUMNS`, not a metastore at all) is refused with
//!   [`MetastoreError::Layout`] before anything is read. In 3.x/4.x only one catalog is read
//!   (`hive` unless [`Metastore::with_catalog`] says otherwise).
//! - **Consistency.** Everything is read on one connection inside one read-only repeatable-read
//!   transaction (a consistent snapshot), so a partition read late matches the table read early
//!   even while Hive keeps writing. The snapshot is held for the life of the [`Metastore`].
//! - **Memory.** Databases and one database's tables are returned whole; partitions are read in
//!   pages ordered by their id ([`Metastore::partitions`], [`Metastore::partition_pages`]), so a
//!   table with millions of partitions never sits in memory at once.
//! - **Fidelity.** Text is returned exactly as stored (UTF-8; bytes that aren't are an error, never
//!   replaced). Rows that break the schema's own rules (a partition with fewer values than keys, a
//!   storage descriptor pointing at a missing SerDe) are errors naming the row.

mod backend;
mod layout;
mod model;

pub use backend::Engine;
pub use layout::{HiveGeneration, Layout};
pub use model::{Column, Database, Partition, SerDe, Skewed, SortColumn, StorageDescriptor, Table};

use backend::{Backend, Row};
use futures::Stream;
use migrate_core::{ErrorClass, Retry};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, thiserror::Error)]
pub enum MetastoreError {
    #[error("metastore URL: {0}")]
    Url(String),
    #[error("cannot connect to the metastore database: {message}")]
    Connect { message: String },
    #[error("reading {what} from the metastore: {message}")]
    Query { what: String, message: String },
    #[error("{0}")]
    Layout(String),
    /// A Hive catalog asked for that the metastore does not have.
    #[error("{0}")]
    Catalog(String),
    /// A row that breaks the metastore schema's rules.
    #[error("metastore table {table}, row {row}: {message}")]
    BadRow {
        table: &'static str,
        row: String,
        message: String,
    },
}

impl ErrorClass for MetastoreError {
    fn retry(&self) -> Retry {
        match self {
            MetastoreError::Connect { .. } | MetastoreError::Query { .. } => Retry::Transient,
            _ => Retry::Definite,
        }
    }
}

/// A connected metastore (see the crate docs for the snapshot and memory contracts).
pub struct Metastore {
    backend: Backend,
    layout: Layout,
    catalog: String,
}

impl std::fmt::Debug for Metastore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metastore")
            .field("engine", &self.backend.engine())
            .field("layout", &self.layout)
            .field("catalog", &self.catalog)
            .finish()
    }
}

/// Partition ids per page: large enough to make few round trips, small enough to bound memory.
pub const DEFAULT_PAGE: usize = 1000;

impl Metastore {
    /// Connects to `mysql://user:pass@host:port/hive_db` or `postgres://user@host:port/hive_db`,
    /// opens the snapshot and detects the layout.
    pub async fn connect(url: &str) -> Result<Metastore, MetastoreError> {
        let backend = Backend::connect(url).await?;
        let layout = Layout::detect(&backend).await?;
        tracing::debug!(?layout, "metastore layout");
        Ok(Metastore {
            backend,
            layout,
            catalog: "hive".into(),
        })
    }

    /// Reads Hive catalog `name` instead of `hive` (Hive 3+). A catalog that holds no database is
    /// refused, naming those that do; so is any catalog but `hive` on a Hive 2.x metastore, which
    /// has none.
    pub async fn with_catalog(mut self, name: &str) -> Result<Metastore, MetastoreError> {
        if !self.layout.has_catalogs {
            if name == "hive" {
                return Ok(self);
            }
            return Err(MetastoreError::Catalog(format!(
                "Hive catalog `{name}`: this is a Hive 2.x metastore, which has no catalogs (they came with Hive 3); leave out --hive-catalog"
            )));
        }
        let rows = self
            .backend
            .rows(
                "DBS",
                r#"SELECT DISTINCT "CTLG_NAME" FROM "DBS" ORDER BY "CTLG_NAME""#,
            )
            .await?;
        let catalogs: Vec<String> = rows.into_iter().flatten().flatten().collect();
        // Hive keeps catalog names in lower case, as it does database names.
        match catalogs.iter().find(|c| c.eq_ignore_ascii_case(name)) {
            Some(found) => {
                self.catalog = found.clone();
                Ok(self)
            }
            None => Err(MetastoreError::Catalog(format!(
                "no Hive catalog `{name}` with databases in this metastore; its catalogs: {}",
                catalogs.join(", ")
            ))),
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn engine(&self) -> Engine {
        self.backend.engine()
    }

    /// Every database of the catalog, by name.
    pub async fn databases(&self) -> Result<Vec<Database>, MetastoreError> {
        let l = &self.layout;
        let mut sql = String::from(
            r#"SELECT "DB_ID", "NAME", "DESC", "DB_LOCATION_URI", "OWNER_NAME", "OWNER_TYPE""#,
        );
        sql.push_str(if l.has_managed_location {
            r#", "DB_MANAGED_LOCATION_URI""#
        } else {
            ", NULL"
        });
        sql.push_str(if l.has_database_type {
            r#", "TYPE""#
        } else {
            ", NULL"
        });
        // The catalog is compared here rather than in SQL: no string literal to quote.
        sql.push_str(if l.has_catalogs {
            r#", "CTLG_NAME""#
        } else {
            ", NULL"
        });
        sql.push_str(r#" FROM "DBS" ORDER BY "NAME""#);
        let rows = self.backend.rows("DBS", &sql).await?;
        let mut databases = Vec::with_capacity(rows.len());
        for row in rows {
            let mut c = Cols::new("DBS", row);
            let id = c.int()?;
            databases.push(Database {
                id,
                name: c.required("NAME")?,
                description: c.text(),
                location_uri: c.text(),
                owner_name: c.text(),
                owner_type: c.text(),
                managed_location_uri: c.text(),
                kind: c.text(),
                parameters: BTreeMap::new(),
            });
            if let Some(catalog) = c.text() {
                if catalog != self.catalog {
                    databases.pop();
                }
            }
        }
        if !databases.is_empty() {
            let ids = id_list(databases.iter().map(|d| d.id));
            let mut params = self
                .params(
                    "DATABASE_PARAMS",
                    &format!(
                        r#"SELECT "DB_ID", "PARAM_KEY", "PARAM_VALUE" FROM "DATABASE_PARAMS" WHERE "DB_ID" IN ({ids})"#
                    ),
                )
                .await?;
            for d in &mut databases {
                d.parameters = params.remove(&d.id).unwrap_or_default();
            }
        }
        Ok(databases)
    }

    /// Every table and view of `database`, by name, with storage descriptor and partition keys
    /// (not the partitions).
    pub async fn tables(&self, database: &Database) -> Result<Vec<Table>, MetastoreError> {
        let rows = self
            .backend
            .rows(
                "TBLS",
                &format!(
                    r#"SELECT "TBL_ID", "TBL_NAME", "TBL_TYPE", "OWNER", "CREATE_TIME", "LAST_ACCESS_TIME", "RETENTION", "SD_ID", "VIEW_ORIGINAL_TEXT", "VIEW_EXPANDED_TEXT" FROM "TBLS" WHERE "DB_ID" = {} ORDER BY "TBL_NAME""#,
                    database.id
                ),
            )
            .await?;
        let mut tables = Vec::with_capacity(rows.len());
        let mut sd_of = Vec::with_capacity(rows.len());
        for row in rows {
            let mut c = Cols::new("TBLS", row);
            let id = c.int()?;
            let name = c.required("TBL_NAME")?;
            let table_type = c.text();
            let owner = c.text();
            let create_time = c.int_or_zero()?;
            let last_access_time = c.int_or_zero()?;
            let retention = c.int_or_zero()?;
            sd_of.push(c.opt_int()?);
            tables.push(Table {
                id,
                database: database.name.clone(),
                name,
                table_type,
                owner,
                create_time,
                last_access_time,
                retention,
                view_original_text: c.text(),
                view_expanded_text: c.text(),
                partition_keys: Vec::new(),
                storage: None,
                parameters: BTreeMap::new(),
            });
        }
        if tables.is_empty() {
            return Ok(tables);
        }
        let ids = id_list(tables.iter().map(|t| t.id));
        let mut params = self
            .params(
                "TABLE_PARAMS",
                &format!(
                    r#"SELECT "TBL_ID", "PARAM_KEY", "PARAM_VALUE" FROM "TABLE_PARAMS" WHERE "TBL_ID" IN ({ids})"#
                ),
            )
            .await?;
        let mut keys: HashMap<i64, Vec<Column>> = HashMap::new();
        for row in self
            .backend
            .rows(
                "PARTITION_KEYS",
                &format!(
                    r#"SELECT "TBL_ID", "PKEY_NAME", "PKEY_TYPE", "PKEY_COMMENT" FROM "PARTITION_KEYS" WHERE "TBL_ID" IN ({ids}) ORDER BY "TBL_ID", "INTEGER_IDX""#
                ),
            )
            .await?
        {
            let mut c = Cols::new("PARTITION_KEYS", row);
            let id = c.int()?;
            keys.entry(id).or_default().push(Column {
                name: c.required("PKEY_NAME")?,
                type_name: c.required("PKEY_TYPE")?,
                comment: c.text(),
            });
        }
        let mut sds = self
            .storage_descriptors(sd_of.iter().flatten().copied())
            .await?;
        for (table, sd) in tables.iter_mut().zip(sd_of) {
            table.parameters = params.remove(&table.id).unwrap_or_default();
            table.partition_keys = keys.remove(&table.id).unwrap_or_default();
            table.storage = match sd {
                Some(sd) => Some(sds.remove(&sd).ok_or_else(|| MetastoreError::BadRow {
                    table: "TBLS",
                    row: format!("TBL_ID {} ({}.{})", table.id, table.database, table.name),
                    message: format!("SD_ID {sd} is not in SDS"),
                })?),
                None => None,
            };
        }
        Ok(tables)
    }

    /// Up to `limit` partitions of `table` with ids above `after` (the last id of the previous
    /// page; `None` to start), in id order. An empty page means the end.
    pub async fn partitions(
        &self,
        table: &Table,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Partition>, MetastoreError> {
        let limit = limit.max(1);
        let rows = self
            .backend
            .rows(
                "PARTITIONS",
                &format!(
                    r#"SELECT "PART_ID", "PART_NAME", "CREATE_TIME", "LAST_ACCESS_TIME", "SD_ID" FROM "PARTITIONS" WHERE "TBL_ID" = {} AND "PART_ID" > {} ORDER BY "PART_ID" LIMIT {limit}"#,
                    table.id,
                    after.unwrap_or(i64::MIN)
                ),
            )
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut parts = Vec::with_capacity(rows.len());
        let mut names = Vec::with_capacity(rows.len());
        let mut sd_of = Vec::with_capacity(rows.len());
        for row in rows {
            let mut c = Cols::new("PARTITIONS", row);
            let id = c.int()?;
            names.push(c.text().unwrap_or_default());
            parts.push(Partition {
                id,
                values: Vec::new(),
                create_time: c.int_or_zero()?,
                last_access_time: c.int_or_zero()?,
                storage: None,
                parameters: BTreeMap::new(),
            });
            sd_of.push(c.opt_int()?);
        }
        let ids = id_list(parts.iter().map(|p| p.id));
        let mut values: HashMap<i64, Vec<String>> = HashMap::new();
        for row in self
            .backend
            .rows(
                "PARTITION_KEY_VALS",
                &format!(
                    r#"SELECT "PART_ID", "PART_KEY_VAL" FROM "PARTITION_KEY_VALS" WHERE "PART_ID" IN ({ids}) ORDER BY "PART_ID", "INTEGER_IDX""#
                ),
            )
            .await?
        {
            let mut c = Cols::new("PARTITION_KEY_VALS", row);
            let id = c.int()?;
            values.entry(id).or_default().push(c.text().unwrap_or_default());
        }
        let mut params = self
            .params(
                "PARTITION_PARAMS",
                &format!(
                    r#"SELECT "PART_ID", "PARAM_KEY", "PARAM_VALUE" FROM "PARTITION_PARAMS" WHERE "PART_ID" IN ({ids})"#
                ),
            )
            .await?;
        let mut sds = self
            .storage_descriptors(sd_of.iter().flatten().copied())
            .await?;
        for ((part, name), sd) in parts.iter_mut().zip(names).zip(sd_of) {
            let row = || {
                format!(
                    "PART_ID {} ({}.{} {name})",
                    part.id, table.database, table.name
                )
            };
            part.values = values.remove(&part.id).unwrap_or_default();
            if part.values.len() != table.partition_keys.len() {
                return Err(MetastoreError::BadRow {
                    table: "PARTITION_KEY_VALS",
                    row: row(),
                    message: format!(
                        "{} values for {} partition keys",
                        part.values.len(),
                        table.partition_keys.len()
                    ),
                });
            }
            part.parameters = params.remove(&part.id).unwrap_or_default();
            part.storage = match sd {
                Some(sd) => Some(sds.remove(&sd).ok_or_else(|| MetastoreError::BadRow {
                    table: "PARTITIONS",
                    row: row(),
                    message: format!("SD_ID {sd} is not in SDS"),
                })?),
                None => None,
            };
        }
        Ok(parts)
    }

    /// All partitions of `table` as a stream of pages of at most `page` partitions.
    pub fn partition_pages<'a>(
        &'a self,
        table: &'a Table,
        page: usize,
    ) -> impl Stream<Item = Result<Vec<Partition>, MetastoreError>> + 'a {
        futures::stream::try_unfold(Some(None), move |after: Option<Option<i64>>| async move {
            let Some(after) = after else {
                return Ok(None);
            };
            let parts = self.partitions(table, after, page).await?;
            Ok(match parts.last().map(|p| p.id) {
                None => None,
                // A short page is the last one: no need to ask again.
                Some(last) if parts.len() == page => Some((parts, Some(Some(last)))),
                Some(_) => Some((parts, None)),
            })
        })
    }

    /// Number of partitions of `table` (for progress and reports).
    pub async fn partition_count(&self, table: &Table) -> Result<u64, MetastoreError> {
        let rows = self
            .backend
            .rows(
                "PARTITIONS",
                &format!(
                    r#"SELECT COUNT(*) FROM "PARTITIONS" WHERE "TBL_ID" = {}"#,
                    table.id
                ),
            )
            .await?;
        let mut c = Cols::new("PARTITIONS", rows.into_iter().next().unwrap_or_default());
        Ok(c.int_or_zero()?.max(0) as u64)
    }

    /// `id -> {key: value}` from a `SELECT id, key, value` query.
    async fn params(
        &self,
        table: &'static str,
        sql: &str,
    ) -> Result<HashMap<i64, BTreeMap<String, String>>, MetastoreError> {
        let mut out: HashMap<i64, BTreeMap<String, String>> = HashMap::new();
        for row in self.backend.rows(table, sql).await? {
            let mut c = Cols::new(table, row);
            let id = c.int()?;
            let key = c.required("PARAM_KEY")?;
            // Hive stores an empty value as NULL on some backends (Oracle), '' on others.
            let value = c.text().unwrap_or_default();
            out.entry(id).or_default().insert(key, value);
        }
        Ok(out)
    }

    /// The storage descriptors `ids`, complete, by id.
    async fn storage_descriptors(
        &self,
        ids: impl Iterator<Item = i64>,
    ) -> Result<HashMap<i64, StorageDescriptor>, MetastoreError> {
        let mut ids: Vec<i64> = ids.collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(out);
        }
        let list = id_list(ids.iter().copied());
        let mut cd_of = HashMap::new();
        let mut serde_of = HashMap::new();
        for row in self
            .backend
            .rows(
                "SDS",
                &format!(
                    r#"SELECT "SD_ID", "CD_ID", "SERDE_ID", "LOCATION", "INPUT_FORMAT", "OUTPUT_FORMAT", "IS_COMPRESSED", "NUM_BUCKETS", "IS_STOREDASSUBDIRECTORIES" FROM "SDS" WHERE "SD_ID" IN ({list})"#
                ),
            )
            .await?
        {
            let mut c = Cols::new("SDS", row);
            let id = c.int()?;
            if let Some(cd) = c.opt_int()? {
                cd_of.insert(id, cd);
            }
            if let Some(serde) = c.opt_int()? {
                serde_of.insert(id, serde);
            }
            out.insert(
                id,
                // Fields are evaluated in the order written: the order of the SELECT.
                StorageDescriptor {
                    location: c.text(),
                    input_format: c.text(),
                    output_format: c.text(),
                    compressed: c.bool()?,
                    num_buckets: c.int_or_zero()?,
                    stored_as_sub_directories: c.bool()?,
                    ..StorageDescriptor::default()
                },
            );
        }
        // Columns: partitions of one table share one CD_ID, so this is small.
        let mut columns: HashMap<i64, Vec<Column>> = HashMap::new();
        if !cd_of.is_empty() {
            let mut cds: Vec<i64> = cd_of.values().copied().collect();
            cds.sort_unstable();
            cds.dedup();
            for row in self
                .backend
                .rows(
                    "COLUMNS_V2",
                    &format!(
                        r#"SELECT "CD_ID", "COLUMN_NAME", "TYPE_NAME", "COMMENT" FROM "COLUMNS_V2" WHERE "CD_ID" IN ({}) ORDER BY "CD_ID", "INTEGER_IDX""#,
                        id_list(cds.into_iter())
                    ),
                )
                .await?
            {
                let mut c = Cols::new("COLUMNS_V2", row);
                let id = c.int()?;
                columns.entry(id).or_default().push(Column {
                    name: c.required("COLUMN_NAME")?,
                    type_name: c.text().unwrap_or_default(),
                    comment: c.text(),
                });
            }
        }
        let mut serdes: HashMap<i64, SerDe> = HashMap::new();
        if !serde_of.is_empty() {
            let list = id_list(serde_of.values().copied());
            for row in self
                .backend
                .rows(
                    "SERDES",
                    &format!(
                        r#"SELECT "SERDE_ID", "NAME", "SLIB" FROM "SERDES" WHERE "SERDE_ID" IN ({list})"#
                    ),
                )
                .await?
            {
                let mut c = Cols::new("SERDES", row);
                let id = c.int()?;
                serdes.insert(
                    id,
                    SerDe {
                        name: c.text(),
                        serialization_library: c.text(),
                        parameters: BTreeMap::new(),
                    },
                );
            }
            let mut params = self
                .params(
                    "SERDE_PARAMS",
                    &format!(
                        r#"SELECT "SERDE_ID", "PARAM_KEY", "PARAM_VALUE" FROM "SERDE_PARAMS" WHERE "SERDE_ID" IN ({list})"#
                    ),
                )
                .await?;
            for (id, serde) in serdes.iter_mut() {
                serde.parameters = params.remove(id).unwrap_or_default();
            }
        }
        let mut sd_params = self
            .params(
                "SD_PARAMS",
                &format!(
                    r#"SELECT "SD_ID", "PARAM_KEY", "PARAM_VALUE" FROM "SD_PARAMS" WHERE "SD_ID" IN ({list})"#
                ),
            )
            .await?;
        let mut buckets = self
            .id_strings(
                "BUCKETING_COLS",
                &format!(
                    r#"SELECT "SD_ID", "BUCKET_COL_NAME" FROM "BUCKETING_COLS" WHERE "SD_ID" IN ({list}) ORDER BY "SD_ID", "INTEGER_IDX""#
                ),
            )
            .await?;
        let mut sorts: HashMap<i64, Vec<SortColumn>> = HashMap::new();
        for row in self
            .backend
            .rows(
                "SORT_COLS",
                &format!(
                    r#"SELECT "SD_ID", "COLUMN_NAME", "ORDER" FROM "SORT_COLS" WHERE "SD_ID" IN ({list}) ORDER BY "SD_ID", "INTEGER_IDX""#
                ),
            )
            .await?
        {
            let mut c = Cols::new("SORT_COLS", row);
            let id = c.int()?;
            sorts.entry(id).or_default().push(SortColumn {
                column: c.text().unwrap_or_default(),
                order: c.int_or_zero()? as i32,
            });
        }
        let mut skewed = self.skewed(&list).await?;
        for (id, sd) in out.iter_mut() {
            if let Some(cd) = cd_of.get(id) {
                sd.columns = columns.get(cd).cloned().unwrap_or_default();
            }
            if let Some(serde_id) = serde_of.get(id) {
                sd.serde =
                    Some(
                        serdes
                            .get(serde_id)
                            .cloned()
                            .ok_or_else(|| MetastoreError::BadRow {
                                table: "SDS",
                                row: format!("SD_ID {id}"),
                                message: format!("SERDE_ID {serde_id} is not in SERDES"),
                            })?,
                    );
            }
            sd.parameters = sd_params.remove(id).unwrap_or_default();
            sd.bucket_columns = buckets.remove(id).unwrap_or_default();
            sd.sort_columns = sorts.remove(id).unwrap_or_default();
            sd.skewed = skewed.remove(id);
        }
        Ok(out)
    }

    /// Skew information of the storage descriptors in `list`, for those that have any.
    async fn skewed(&self, list: &str) -> Result<HashMap<i64, Skewed>, MetastoreError> {
        let mut names = self
            .id_strings(
                "SKEWED_COL_NAMES",
                &format!(
                    r#"SELECT "SD_ID", "SKEWED_COL_NAME" FROM "SKEWED_COL_NAMES" WHERE "SD_ID" IN ({list}) ORDER BY "SD_ID", "INTEGER_IDX""#
                ),
            )
            .await?;
        // A value tuple is a string list (SKEWED_STRING_LIST_VALUES) that SKEWED_VALUES orders
        // and SKEWED_COL_VALUE_LOC_MAP maps to a directory.
        let mut values: HashMap<i64, Vec<Vec<String>>> = HashMap::new();
        let mut current: Option<(i64, i64, i64)> = None; // (sd, position, list id)
        for row in self
            .backend
            .rows(
                "SKEWED_VALUES",
                &format!(
                    r#"SELECT v."SD_ID_OID", v."INTEGER_IDX", v."STRING_LIST_ID_EID", l."STRING_LIST_VALUE" FROM "SKEWED_VALUES" v LEFT JOIN "SKEWED_STRING_LIST_VALUES" l ON l."STRING_LIST_ID" = v."STRING_LIST_ID_EID" WHERE v."SD_ID_OID" IN ({list}) ORDER BY v."SD_ID_OID", v."INTEGER_IDX", l."INTEGER_IDX""#
                ),
            )
            .await?
        {
            let mut c = Cols::new("SKEWED_VALUES", row);
            let key = (c.int()?, c.int()?, c.int()?);
            let value = c.text();
            let tuples = values.entry(key.0).or_default();
            if current != Some(key) {
                tuples.push(Vec::new());
                current = Some(key);
            }
            if let (Some(v), Some(last)) = (value, tuples.last_mut()) {
                last.push(v);
            }
        }
        let mut maps: HashMap<i64, Vec<(Vec<String>, String)>> = HashMap::new();
        let mut current: Option<(i64, i64)> = None;
        for row in self
            .backend
            .rows(
                "SKEWED_COL_VALUE_LOC_MAP",
                &format!(
                    r#"SELECT m."SD_ID", m."STRING_LIST_ID_KID", m."LOCATION", l."STRING_LIST_VALUE" FROM "SKEWED_COL_VALUE_LOC_MAP" m LEFT JOIN "SKEWED_STRING_LIST_VALUES" l ON l."STRING_LIST_ID" = m."STRING_LIST_ID_KID" WHERE m."SD_ID" IN ({list}) ORDER BY m."SD_ID", m."STRING_LIST_ID_KID", l."INTEGER_IDX""#
                ),
            )
            .await?
        {
            let mut c = Cols::new("SKEWED_COL_VALUE_LOC_MAP", row);
            let key = (c.int()?, c.int()?);
            let location = c.text().unwrap_or_default();
            let value = c.text();
            let entries = maps.entry(key.0).or_default();
            if current != Some(key) {
                entries.push((Vec::new(), location));
                current = Some(key);
            }
            if let (Some(v), Some(last)) = (value, entries.last_mut()) {
                last.0.push(v);
            }
        }
        let mut out = HashMap::new();
        let ids: Vec<i64> = names
            .keys()
            .chain(values.keys())
            .chain(maps.keys())
            .copied()
            .collect();
        for id in ids {
            if out.contains_key(&id) {
                continue;
            }
            out.insert(
                id,
                Skewed {
                    column_names: names.remove(&id).unwrap_or_default(),
                    values: values.remove(&id).unwrap_or_default(),
                    location_maps: maps.remove(&id).unwrap_or_default(),
                },
            );
        }
        Ok(out)
    }

    /// `id -> [text]` from a `SELECT id, text` query ordered by id and position.
    async fn id_strings(
        &self,
        table: &'static str,
        sql: &str,
    ) -> Result<HashMap<i64, Vec<String>>, MetastoreError> {
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for row in self.backend.rows(table, sql).await? {
            let mut c = Cols::new(table, row);
            let id = c.int()?;
            out.entry(id)
                .or_default()
                .push(c.text().unwrap_or_default());
        }
        Ok(out)
    }
}

/// The columns of one row, taken left to right.
struct Cols {
    table: &'static str,
    row: std::vec::IntoIter<Option<String>>,
    first: Option<String>,
}

impl Cols {
    fn new(table: &'static str, row: Row) -> Cols {
        let first = row.first().cloned().flatten();
        Cols {
            table,
            row: row.into_iter(),
            first,
        }
    }

    fn bad(&self, message: String) -> MetastoreError {
        MetastoreError::BadRow {
            table: self.table,
            row: format!("with id {}", self.first.as_deref().unwrap_or("NULL")),
            message,
        }
    }

    fn text(&mut self) -> Option<String> {
        self.row.next().flatten()
    }

    fn required(&mut self, column: &str) -> Result<String, MetastoreError> {
        self.text()
            .ok_or_else(|| self.bad(format!("{column} is NULL")))
    }

    fn opt_int(&mut self) -> Result<Option<i64>, MetastoreError> {
        match self.text() {
            None => Ok(None),
            Some(t) => t
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.bad(format!("`{t}` is not an integer"))),
        }
    }

    fn int(&mut self) -> Result<i64, MetastoreError> {
        self.opt_int()?
            .ok_or_else(|| self.bad("an id is NULL".into()))
    }

    fn int_or_zero(&mut self) -> Result<i64, MetastoreError> {
        Ok(self.opt_int()?.unwrap_or(0))
    }

    /// PostgreSQL says `t`/`f`; MySQL's `bit(1)` arrives as one byte, 0x00 or 0x01.
    fn bool(&mut self) -> Result<bool, MetastoreError> {
        match self.text().as_deref() {
            None => Ok(false),
            Some("t" | "true" | "1" | "\u{1}" | "Y" | "y") => Ok(true),
            Some("f" | "false" | "0" | "\u{0}" | "N" | "n" | "") => Ok(false),
            Some(other) => Err(self.bad(format!("`{other:?}` is not a boolean"))),
        }
    }
}

/// `1,2,3`: ids are integers, so the list is safe to splice into SQL.
fn id_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}
