//! Shared by the end-to-end tests: a populated metastore in MariaDB or PostgreSQL (the project's
//! DDL and generator), a Glue client for the moto server, and a field-by-field comparison of
//! what Glue holds with what the metastore holds.

#![allow(dead_code)] // each test file uses its own part

use futures::TryStreamExt;
use migrate_core::LocationMap;
use migrate_glue::{GlueClient, GlueConfig};
use migrate_metastore::Metastore;
use migrate_metastore_fixture::{ddl, populate, Dialect, Generation, Spec};
use std::collections::BTreeMap;

/// A metastore database that lives as long as the value (dropped at the end of the test).
pub enum Backing {
    Mysql(migrate_testkit::MariaDbDatabase),
    Postgres(migrate_testkit::PgDatabase),
}

impl Backing {
    pub fn url(&self) -> &str {
        match self {
            Backing::Mysql(d) => d.url(),
            Backing::Postgres(d) => d.url(),
        }
    }

    pub fn sql(&self, sql: &str) -> String {
        match self {
            Backing::Mysql(d) => d.sql(sql).unwrap(),
            Backing::Postgres(d) => d.sql(sql).unwrap(),
        }
    }

    /// `"NAME"` quoted for this backend.
    pub fn q(&self, name: &str) -> String {
        match self {
            Backing::Mysql(_) => format!("`{name}`"),
            Backing::Postgres(_) => format!("\"{name}\""),
        }
    }

    /// Gives the table named `table` (in every database) the parameter `key` = `value`, as
    /// `ALTER TABLE ... SET TBLPROPERTIES` does.
    pub fn add_table_param(&self, table: &str, key: &str, value: &str) {
        let q = |name: &str| self.q(name);
        self.sql(&format!(
            "INSERT INTO {} ({id}, {}, {}) SELECT {id}, '{key}', '{value}' FROM {} WHERE {} = '{table}'",
            q("TABLE_PARAMS"),
            q("PARAM_KEY"),
            q("PARAM_VALUE"),
            q("TBLS"),
            q("TBL_NAME"),
            id = q("TBL_ID"),
        ));
    }
}

/// A fresh metastore database of `generation` filled per `spec` (its dialect decides the server),
/// or `None` when the server is missing and not required.
pub fn metastore_db(spec: &Spec) -> Option<Backing> {
    metastore_db_on(spec, false)
}

/// [`metastore_db`], on the test servers that accept TLS connections only when `tls`.
pub fn metastore_db_on(spec: &Spec, tls: bool) -> Option<Backing> {
    let script = format!("{}\n{}", ddl(spec.dialect, spec.generation), populate(spec));
    let hint = format!("hms_{}", spec.prefix);
    Some(match spec.dialect {
        Dialect::Mysql => {
            let server = if tls {
                migrate_testkit::mariadb_tls()
            } else {
                migrate_testkit::mariadb()
            };
            let db = server?.create_database(&hint);
            db.sql(&script).unwrap();
            Backing::Mysql(db)
        }
        Dialect::Postgres => {
            let server = if tls {
                migrate_testkit::postgres_tls()
            } else {
                migrate_testkit::postgres()
            };
            let db = server?.create_database(&hint);
            db.sql(&script).unwrap();
            Backing::Postgres(db)
        }
    })
}

/// A short unique prefix for database names (Glue is shared by every test and run).
pub fn prefix(hint: &str) -> String {
    let name = migrate_testkit::unique_name(hint);
    name.trim_start_matches("t_").to_string()
}

pub fn spec(dialect: Dialect, generation: Generation, hint: &str) -> Spec {
    Spec::standard(dialect, generation, &prefix(hint))
}

pub fn small_spec(dialect: Dialect, generation: Generation, hint: &str) -> Spec {
    Spec {
        tables: 20,
        partitions: 60,
        databases: 2,
        ..spec(dialect, generation, hint)
    }
}

pub fn glue() -> Option<GlueClient> {
    Some(GlueClient::new(glue_config(migrate_testkit::glue()?)).unwrap())
}

/// A client configuration for the test server (moto accepts any credentials).
pub fn glue_config(server: &migrate_testkit::GlueServer) -> GlueConfig {
    GlueConfig {
        endpoint: server.endpoint().to_string(),
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        session_token: None,
        catalog_id: None,
        max_attempts: 4,
        initial_backoff: std::time::Duration::from_millis(100),
        timeout: std::time::Duration::from_secs(120),
    }
}

/// Every database, table and partition of the metastore whose name starts with `prefix`
/// compared field by field with what Glue holds, locations mapped through `map`. Returns the
/// numbers compared (databases, tables, partitions).
pub async fn assert_glue_matches(
    metastore_url: &str,
    glue: &GlueClient,
    prefix: &str,
    map: &LocationMap,
) -> (usize, usize, usize) {
    let m = Metastore::connect(metastore_url).await.unwrap();
    let loc = |l: &Option<String>| l.as_ref().map(|l| map.apply(l));
    let (mut dbs, mut tables, mut parts) = (0, 0, 0);
    for db in m.databases().await.unwrap() {
        if !db.name.starts_with(prefix) {
            continue;
        }
        let g = glue
            .get_database(&db.name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("database {} is not in Glue", db.name));
        assert_eq!(g.name, db.name);
        assert_eq!(g.description, db.description, "{}", db.name);
        assert_eq!(g.location_uri, loc(&db.location_uri), "{}", db.name);
        assert_eq!(g.parameters, db.parameters, "{}", db.name);
        dbs += 1;
        let glue_tables: BTreeMap<String, _> = glue
            .get_tables(&db.name)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        let hive_tables = m.tables(&db).await.unwrap();
        assert_eq!(
            glue_tables.len(),
            hive_tables.len(),
            "tables of {}",
            db.name
        );
        for t in &hive_tables {
            let what = format!("{}.{}", db.name, t.name);
            let g = glue_tables
                .get(&t.name)
                .unwrap_or_else(|| panic!("{what} is not in Glue"));
            assert_eq!(g.table_type, t.table_type, "{what}");
            assert_eq!(g.owner, t.owner, "{what}");
            assert_eq!(g.retention, t.retention, "{what}");
            assert_eq!(g.view_original_text, t.view_original_text, "{what}");
            assert_eq!(g.view_expanded_text, t.view_expanded_text, "{what}");
            assert_eq!(
                g.parameters,
                mapped(&t.parameters, LOCATION_PARAMETERS, map),
                "{what}"
            );
            assert_eq!(
                g.description.as_ref(),
                t.parameters.get("comment"),
                "{what}"
            );
            assert_columns(&what, &g.partition_keys, &t.partition_keys);
            assert_sd(
                &what,
                g.storage_descriptor.as_ref(),
                t.storage.as_ref(),
                map,
            );
            tables += 1;
            if t.partition_keys.is_empty() {
                continue;
            }
            let glue_parts: BTreeMap<Vec<String>, _> = glue
                .get_partitions(&db.name, &t.name, None)
                .await
                .unwrap()
                .into_iter()
                .map(|p| (p.values.clone(), p))
                .collect();
            let hive_parts: Vec<_> = m.partition_pages(t, 500).try_concat().await.unwrap();
            assert_eq!(glue_parts.len(), hive_parts.len(), "partitions of {what}");
            for p in &hive_parts {
                let pwhat = format!("{what}/{}", p.values.join("/"));
                let g = glue_parts
                    .get(&p.values)
                    .unwrap_or_else(|| panic!("{pwhat} is not in Glue"));
                assert_eq!(
                    g.parameters,
                    mapped(&p.parameters, LOCATION_PARAMETERS, map),
                    "{pwhat}"
                );
                assert_sd(
                    &pwhat,
                    g.storage_descriptor.as_ref(),
                    p.storage.as_ref(),
                    map,
                );
                parts += 1;
            }
        }
    }
    (dbs, tables, parts)
}

/// Table and partition parameters that are locations: the Avro schema URL, Iceberg's metadata.
const LOCATION_PARAMETERS: &[&str] = &[
    "avro.schema.url",
    "metadata_location",
    "previous_metadata_location",
];
/// SerDe parameters that are locations: the Avro schema URL, Spark's `path`.
const SERDE_LOCATION_PARAMETERS: &[&str] = &["avro.schema.url", "path"];

/// Parameters as Glue must hold them: those named in `keys` are locations, rewritten by `map`.
fn mapped(
    parameters: &BTreeMap<String, String>,
    keys: &[&str],
    map: &LocationMap,
) -> BTreeMap<String, String> {
    let mut out = parameters.clone();
    for key in keys {
        if let Some(url) = out.get_mut(*key) {
            *url = map.apply(url);
        }
    }
    out
}

/// Columns (or partition keys): name, type text and comment, in order.
fn assert_columns(what: &str, g: &[migrate_glue::Column], h: &[migrate_metastore::Column]) {
    assert_eq!(g.len(), h.len(), "{what}");
    for (gc, hc) in g.iter().zip(h) {
        assert_eq!(
            (&gc.name, gc.r#type.as_ref(), &gc.comment),
            (&hc.name, Some(&hc.type_name), &hc.comment),
            "{what}"
        );
    }
}

fn assert_sd(
    what: &str,
    g: Option<&migrate_glue::StorageDescriptor>,
    h: Option<&migrate_metastore::StorageDescriptor>,
    map: &LocationMap,
) {
    let (g, h) = match (g, h) {
        (None, None) => return,
        (Some(g), Some(h)) => (g, h),
        _ => panic!("{what}: storage descriptor present on one side only"),
    };
    assert_eq!(
        g.location,
        h.location.as_ref().map(|l| map.apply(l)),
        "{what}"
    );
    assert_eq!(g.input_format, h.input_format, "{what}");
    assert_eq!(g.output_format, h.output_format, "{what}");
    assert_eq!(g.compressed, h.compressed, "{what}");
    assert_eq!(g.number_of_buckets, h.num_buckets, "{what}");
    assert_eq!(g.bucket_columns, h.bucket_columns, "{what}");
    assert_eq!(g.parameters, h.parameters, "{what}");
    assert_eq!(
        g.stored_as_sub_directories, h.stored_as_sub_directories,
        "{what}"
    );
    let gs: Vec<_> = g
        .sort_columns
        .iter()
        .map(|s| (&s.column, s.sort_order))
        .collect();
    let hs: Vec<_> = h
        .sort_columns
        .iter()
        .map(|s| (&s.column, s.order))
        .collect();
    assert_eq!(gs, hs, "{what}");
    assert_columns(what, &g.columns, &h.columns);
    match (&g.serde_info, &h.serde) {
        (None, None) => {}
        (Some(gs), Some(hs)) => {
            assert_eq!(gs.name, hs.name, "{what}");
            assert_eq!(gs.serialization_library, hs.serialization_library, "{what}");
            assert_eq!(
                gs.parameters,
                mapped(&hs.parameters, SERDE_LOCATION_PARAMETERS, map),
                "{what}"
            );
        }
        _ => panic!("{what}: SerDe present on one side only"),
    }
    match (&g.skewed_info, &h.skewed) {
        (None, None) => {}
        (Some(gs), Some(hs)) => {
            assert_eq!(gs.skewed_column_names, hs.column_names, "{what}");
            let values: Vec<String> = hs
                .values
                .iter()
                .map(|v| migrate_catalog::skewed_key(v))
                .collect();
            assert_eq!(gs.skewed_column_values, values, "{what}");
            let maps: BTreeMap<String, String> = hs
                .location_maps
                .iter()
                .map(|(v, l)| (migrate_catalog::skewed_key(v), map.apply(l)))
                .collect();
            assert_eq!(gs.skewed_column_value_location_maps, maps, "{what}");
        }
        _ => panic!("{what}: skew present on one side only"),
    }
}
