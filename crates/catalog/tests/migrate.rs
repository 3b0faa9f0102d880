//! End to end against real servers: a Hive metastore in MariaDB or PostgreSQL (the project's DDL,
//! filled by crates/metastore-fixture) migrated to the Glue API of moto, then read back through
//! the Glue API and compared field by field with the metastore.

mod common;

use common::*;
use futures::TryStreamExt;
use migrate_catalog::{
    migrate, CatalogError, Filter, ObjectKind, Options, Outcome, Report, Source, Target,
};
use migrate_core::LocationMap;
use migrate_glue::{GlueClient, GlueError, MAX_BATCH_CREATE};
use migrate_metastore::{HiveGeneration, Metastore};
use migrate_metastore_fixture::{ddl, populate, Dialect, Generation, Kind, Spec};
use std::time::Duration;

fn map() -> LocationMap {
    LocationMap::parse(&[
        "hdfs://nn:8020/warehouse=s3://lake/warehouse",
        "hdfs://nn:8020/archive=s3://lake-archive/hive",
    ])
    .unwrap()
}

fn options(map: LocationMap) -> Options {
    Options {
        location_map: map,
        ..Options::default()
    }
}

/// The test's databases (their names start with its prefix).
fn selected(spec: &Spec) -> Filter {
    Filter::new(&[format!("{}_*", spec.prefix)], &[])
}

/// [`options`] of [`map`] for the test's databases.
fn selected_options(spec: &Spec) -> Options {
    Options {
        filter: selected(spec),
        ..options(map())
    }
}

/// A run from the metastore at `url` into Glue, on a new connection: it reads the metastore as
/// it is now (a connection reads one snapshot).
async fn run(url: &str, glue: &GlueClient, opts: &Options) -> Report {
    let m = Metastore::connect(url).await.unwrap();
    migrate(Source::Metastore(&m), &Target::Glue(glue.clone()), opts)
        .await
        .unwrap()
}

async fn drop_glue_databases(glue: &GlueClient, spec: &Spec) {
    for i in 0..=spec.databases {
        let _ = glue.delete_database(&spec.database_name(i)).await;
    }
}

/// The fixture's objects as the reader must see them (independently of Glue).
async fn assert_reader_sees_the_fixture(url: &str, spec: &Spec) {
    let m = Metastore::connect(url).await.unwrap();
    let dbs: Vec<_> = m
        .databases()
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.name.starts_with(&spec.prefix))
        .collect();
    // The database of catalog `spark` (Hive 3+) is not read.
    assert_eq!(dbs.len(), spec.databases + 1, "{dbs:?}");
    let db0 = &dbs[0];
    assert_eq!(db0.name, spec.database_name(0));
    assert_eq!(db0.parameters["owner.team"], "team-0");
    assert_eq!(
        db0.description.as_deref(),
        Some("Database 0 of the fixture: it's for tests")
    );
    let tables = m.tables(db0).await.unwrap();
    let find = |n: usize| {
        let name = spec.table_name(n).1;
        tables
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} not read"))
    };
    let text = find(0);
    assert_eq!(text.table_type.as_deref(), Some("MANAGED_TABLE"));
    let sd = text.storage.as_ref().unwrap();
    let serde = sd.serde.as_ref().unwrap();
    assert_eq!(serde.parameters["field.delim"], "\t");
    assert_eq!(serde.parameters["escape.delim"], "\\");
    assert_eq!(
        sd.columns[1].comment.as_deref(),
        Some("café name, with a comma")
    );
    assert_eq!(
        text.parameters["comment"],
        "table 0 (text): \"quoted\", it's fine"
    );
    let view = find(12);
    assert_eq!(Kind::of(12), Kind::View);
    assert_eq!(view.table_type.as_deref(), Some("VIRTUAL_VIEW"));
    assert!(view
        .view_original_text
        .as_deref()
        .unwrap()
        .starts_with("SELECT id, name"));
    assert!(view
        .view_expanded_text
        .as_deref()
        .unwrap()
        .contains("`t`.`score` > 0.5"));
    let events = find(3);
    assert_eq!(
        events
            .partition_keys
            .iter()
            .map(|k| (k.name.as_str(), k.type_name.as_str()))
            .collect::<Vec<_>>(),
        [("dt", "string"), ("hr", "int")]
    );
    let parts: Vec<_> = m.partition_pages(events, 100).try_concat().await.unwrap();
    let expected = spec
        .partition_counts()
        .into_iter()
        .find(|(t, _)| *t == 3)
        .unwrap()
        .1;
    assert_eq!(parts.len(), expected);
    assert_eq!(parts[0].values, ["2024-01-01", "0"]);
    assert_eq!(parts[0].parameters["numFiles"], "1");
    assert!(parts[0]
        .storage
        .as_ref()
        .unwrap()
        .location
        .as_deref()
        .unwrap()
        .starts_with("hdfs://nn:8020/archive/"));
    assert_eq!(m.partition_count(events).await.unwrap(), expected as u64);
    let bucketed = find(24);
    let sd = bucketed.storage.as_ref().unwrap();
    assert_eq!(
        (sd.num_buckets, sd.bucket_columns.clone()),
        (8, vec!["id".to_string()])
    );
    assert_eq!(
        sd.sort_columns
            .iter()
            .map(|s| (s.column.as_str(), s.order))
            .collect::<Vec<_>>(),
        [("ts", 0), ("id", 1)]
    );
    let skewed = find(15);
    let sk = skewed.storage.as_ref().unwrap().skewed.as_ref().unwrap();
    assert_eq!(sk.column_names, ["c_key", "c_val"]);
    assert_eq!(sk.values, [["a", "1"], ["b", "2"]]);
    assert_eq!(sk.location_maps.len(), 1);
    assert_eq!(sk.location_maps[0].0, ["a", "1"]);
    assert!(skewed.storage.as_ref().unwrap().stored_as_sub_directories);
    let json = find(27);
    assert!(json.storage.as_ref().unwrap().compressed);
    assert_eq!(
        json.storage.as_ref().unwrap().parameters["compression.codec"],
        "gzip"
    );
    let csv = find(9);
    assert_eq!(
        csv.storage.as_ref().unwrap().columns[3].type_name,
        "struct<x:double,y:double,label:varchar(20)>"
    );
}

/// The whole story on one backend: 120 tables of every kind and 10,000 partitions migrated and
/// compared field by field; a second run changes nothing; a moved partition and a changed table
/// are updated, and only they.
async fn full_migration(dialect: Dialect, generation: Generation, hint: &str) {
    let Some(glue) = glue() else { return };
    let spec = spec(dialect, generation, hint);
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    assert_reader_sees_the_fixture(db.url(), &spec).await;
    let m = Metastore::connect(db.url()).await.unwrap();
    let opts = selected_options(&spec);
    let target = Target::Glue(glue.clone());

    let first = migrate(Source::Metastore(&m), &target, &opts)
        .await
        .unwrap();
    assert_eq!(first.outcome(), Outcome::Migrated, "{:?}", first.failures);
    assert_eq!(
        (
            first.databases.created,
            first.tables.created,
            first.partitions.created
        ),
        (4, 120, 10_000)
    );
    assert_eq!(first.partitions.failed + first.tables.failed, 0);
    // Every location is under one of the two rules.
    assert_eq!(
        first.locations.unmapped, 0,
        "{:?}",
        first.locations.unmapped_examples
    );
    assert!(first.locations.rewritten > 10_000);
    let counted = assert_glue_matches(db.url(), &glue, &spec.prefix, &map()).await;
    assert_eq!(counted, (4, 120, 10_000));

    drop(m);
    let m = Metastore::connect(db.url()).await.unwrap();
    let second = migrate(Source::Metastore(&m), &target, &opts)
        .await
        .unwrap();
    assert_eq!(second.outcome(), Outcome::InSync);
    assert_eq!(
        (
            second.databases.unchanged,
            second.tables.unchanged,
            second.partitions.unchanged
        ),
        (4, 120, 10_000)
    );
    assert!(second.changes.is_empty());

    // Move one partition (as ALTER TABLE ... PARTITION ... SET LOCATION does) and change one table.
    let q = |n: &str| db.q(n);
    let part_sd = db.sql(&format!(
        "SELECT {sd} FROM {parts} ORDER BY {id} LIMIT 1 OFFSET 7",
        sd = q("SD_ID"),
        parts = q("PARTITIONS"),
        id = q("PART_ID")
    ));
    db.sql(&format!(
        "UPDATE {} SET {} = 'hdfs://nn:8020/warehouse/moved/p7' WHERE {} = {}",
        q("SDS"),
        q("LOCATION"),
        q("SD_ID"),
        part_sd.trim()
    ));
    db.sql(&format!(
        "UPDATE {} SET {} = 'changed' WHERE {} = 'comment' AND {} = (SELECT {} FROM {} WHERE {} = '{}')",
        q("TABLE_PARAMS"),
        q("PARAM_VALUE"),
        q("PARAM_KEY"),
        q("TBL_ID"),
        q("TBL_ID"),
        q("TBLS"),
        q("TBL_NAME"),
        spec.table_name(1).1
    ));
    drop(m);
    let m = Metastore::connect(db.url()).await.unwrap();
    let third = migrate(Source::Metastore(&m), &target, &opts)
        .await
        .unwrap();
    assert_eq!(third.outcome(), Outcome::Migrated);
    assert_eq!(
        (third.partitions.updated, third.partitions.unchanged),
        (1, 9_999)
    );
    assert_eq!((third.tables.updated, third.tables.unchanged), (1, 119));
    let moved = third
        .changes
        .iter()
        .find(|c| c.kind == ObjectKind::Partition)
        .unwrap();
    assert_eq!(moved.fields.len(), 1, "{moved:?}");
    assert_eq!(moved.fields[0].path, "StorageDescriptor.Location");
    assert_eq!(
        moved.fields[0].after.as_deref(),
        Some("s3://lake/warehouse/moved/p7")
    );
    assert_eq!(
        assert_glue_matches(db.url(), &glue, &spec.prefix, &map()).await,
        (4, 120, 10_000)
    );
    drop_glue_databases(&glue, &spec).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_hive4_metastore_migrates_whole_and_idempotently() {
    full_migration(Dialect::Mysql, Generation::Hive4, "full_my").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_hive3_metastore_migrates_whole_and_idempotently() {
    full_migration(Dialect::Postgres, Generation::Hive3, "full_pg").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metastores_are_read_over_tls_on_both_backends() {
    for dialect in [Dialect::Mysql, Dialect::Postgres] {
        let spec = small_spec(dialect, Generation::Hive3, "tls");
        // Servers that accept TLS only; the URLs ask for a verified certificate.
        let Some(db) = metastore_db_on(&spec, true) else {
            return;
        };
        let m = Metastore::connect(db.url()).await.unwrap();
        assert_eq!(m.layout().generation, HiveGeneration::Hive3, "{dialect:?}");
        let databases = m.databases().await.unwrap();
        assert!(
            databases
                .iter()
                .any(|d| d.name.starts_with(spec.prefix.as_str())),
            "{dialect:?}: {databases:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hive_2_3_and_4_layouts_on_both_backends() {
    let Some(glue) = glue() else { return };
    for dialect in [Dialect::Mysql, Dialect::Postgres] {
        for (generation, expected) in [
            (Generation::Hive2, HiveGeneration::Hive2),
            (Generation::Hive3, HiveGeneration::Hive3),
            (Generation::Hive4, HiveGeneration::Hive4),
        ] {
            let spec = small_spec(dialect, generation, "layout");
            let Some(db) = metastore_db(&spec) else {
                return;
            };
            let m = Metastore::connect(db.url()).await.unwrap();
            assert_eq!(m.layout().generation, expected, "{dialect:?}");
            let version = m.layout().schema_version.clone().unwrap();
            assert!(
                version.starts_with(&format!("{}.", expected as u8 + 2)),
                "{version}"
            );
            let opts = selected_options(&spec);
            let r = migrate(Source::Metastore(&m), &Target::Glue(glue.clone()), &opts)
                .await
                .unwrap();
            assert_eq!(
                r.outcome(),
                Outcome::Migrated,
                "{dialect:?} {generation:?}: {:?}",
                r.failures
            );
            assert_eq!(
                (r.databases.created, r.tables.created, r.partitions.created),
                (3, 20, 60)
            );
            assert_eq!(
                assert_glue_matches(db.url(), &glue, &spec.prefix, &map()).await,
                (3, 20, 60)
            );
            // Hive 3+: the database of catalog `spark` was not migrated.
            assert_eq!(
                glue.get_database(&format!("{}_spark_only", spec.prefix))
                    .await
                    .unwrap(),
                None
            );
            drop_glue_databases(&glue, &spec).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_reports_the_diff_and_writes_nothing() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Mysql, Generation::Hive4, "dry");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let m = Metastore::connect(db.url()).await.unwrap();
    let target = Target::Glue(glue.clone());
    let dry = Options {
        dry_run: true,
        ..options(map())
    };
    let r = migrate(
        Source::Metastore(&m),
        &target,
        &Options {
            filter: selected(&spec),
            ..dry.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(r.outcome(), Outcome::DryRun);
    assert_eq!(
        (r.databases.created, r.tables.created, r.partitions.created),
        (3, 20, 60)
    );
    assert_eq!(r.changes.len(), 83);
    assert_eq!(
        glue.get_database(&spec.database_name(0)).await.unwrap(),
        None
    );

    // Migrate, change one partition's parameters, dry-run again: exactly that difference.
    let opts = selected_options(&spec);
    migrate(Source::Metastore(&m), &target, &opts)
        .await
        .unwrap();
    db.sql("UPDATE `PARTITION_PARAMS` SET `PARAM_VALUE` = '999' WHERE `PARAM_KEY` = 'numFiles' AND `PART_ID` = (SELECT MIN(`PART_ID`) FROM `PARTITIONS`)");
    drop(m);
    let m = Metastore::connect(db.url()).await.unwrap();
    let r = migrate(
        Source::Metastore(&m),
        &target,
        &Options {
            dry_run: true,
            ..opts.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!((r.partitions.updated, r.partitions.unchanged), (1, 59));
    assert_eq!(r.changes.len(), 1);
    assert_eq!(r.changes[0].fields[0].path, "Parameters.numFiles");
    assert_eq!(r.changes[0].fields[0].after.as_deref(), Some("999"));
    // Still the old value in Glue.
    let (d, t) = spec.table_name(3);
    let parts = glue.get_partitions(&d, &t, None).await.unwrap();
    assert!(parts.iter().all(|p| p.parameters["numFiles"] != "999"));
    drop_glue_databases(&glue, &spec).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_round_trips_through_json_lines() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Postgres, Generation::Hive4, "jsonl");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let m = Metastore::connect(db.url()).await.unwrap();
    let dir = std::env::temp_dir().join(migrate_testkit::unique_name("catalog_export"));
    let filter = selected(&spec);
    let export = Options {
        filter: filter.clone(),
        ..options(map())
    };
    let r = migrate(Source::Metastore(&m), &Target::Export(dir.clone()), &export)
        .await
        .unwrap();
    assert_eq!(r.outcome(), Outcome::Exported);
    assert_eq!(
        (
            r.databases.exported,
            r.tables.exported,
            r.partitions.exported
        ),
        (3, 20, 60)
    );
    let lines = |kind: &str| {
        std::fs::read_to_string(dir.join(kind).join("part-00000.jsonl"))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(
        (lines("databases"), lines("tables"), lines("partitions")),
        (3, 20, 60)
    );
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(dir.join("partitions/part-00000.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["type"], "partition");
    assert!(first["item"]["StorageDescriptor"]["Location"]
        .as_str()
        .unwrap()
        .starts_with("s3://"));
    // A second export into the same directory is refused.
    let again = migrate(Source::Metastore(&m), &Target::Export(dir.clone()), &export).await;
    assert!(matches!(again, Err(CatalogError::Io { .. })), "{again:?}");

    // Import (locations already rewritten by the export) and compare with the metastore.
    let import = Options {
        filter,
        ..Options::default()
    };
    let r = migrate(
        Source::Import(dir.clone()),
        &Target::Glue(glue.clone()),
        &import,
    )
    .await
    .unwrap();
    assert_eq!(r.outcome(), Outcome::Migrated, "{:?}", r.failures);
    assert_eq!(
        (r.databases.created, r.tables.created, r.partitions.created),
        (3, 20, 60)
    );
    assert_eq!(
        assert_glue_matches(db.url(), &glue, &spec.prefix, &map()).await,
        (3, 20, 60)
    );
    let r = migrate(
        Source::Import(dir.clone()),
        &Target::Glue(glue.clone()),
        &import,
    )
    .await
    .unwrap();
    assert_eq!(r.outcome(), Outcome::InSync);
    assert_eq!(r.partitions.unchanged, 60);

    // A damaged line is reported with its file and line number.
    let tables = dir.join("tables/part-00000.jsonl");
    let mut text = std::fs::read_to_string(&tables).unwrap();
    text.push_str("{\"type\":\"table\",\"database\":\"x\",\"item\":{\"Nme\":1}}\n");
    std::fs::write(&tables, text).unwrap();
    let err = migrate(
        Source::Import(dir.clone()),
        &Target::Glue(glue.clone()),
        &import,
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("part-00000.jsonl, line 21"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
    drop_glue_databases(&glue, &spec).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_databases_and_tables_by_wildcard() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Mysql, Generation::Hive3, "filter");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let m = Metastore::connect(db.url()).await.unwrap();
    let opts = Options {
        filter: Filter::new(
            &[],
            &[
                format!("{}_DB1.events_*", spec.prefix),
                "*_db0.view_00?".into(),
            ],
        ),
        ..options(map())
    };
    let r = migrate(Source::Metastore(&m), &Target::Glue(glue.clone()), &opts)
        .await
        .unwrap();
    assert_eq!(r.outcome(), Outcome::Migrated, "{:?}", r.failures);
    // db1 holds the odd tables: events_003 and events_013; db0's views: view_002 only (view_012 has
    // three digits after view_0).
    assert_eq!(r.databases.created, 2);
    let db1 = glue.get_tables(&spec.database_name(1)).await.unwrap();
    let mut names: Vec<_> = db1.iter().map(|t| t.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["events_003", "events_013"]);
    let db0 = glue.get_tables(&spec.database_name(0)).await.unwrap();
    assert_eq!(
        db0.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["view_002"]
    );
    assert_eq!(r.partitions.created, 60);

    // A filter that selects nothing is never a success.
    let none = Options {
        filter: Filter::new(&["no_such_db*".into()], &[]),
        ..options(map())
    };
    let r = migrate(Source::Metastore(&m), &Target::Glue(glue.clone()), &none)
        .await
        .unwrap();
    assert_eq!(r.outcome(), Outcome::NothingSelected);
    // Nor is a table pattern that matches no table: its databases are not migrated either.
    let typo = Options {
        filter: Filter::new(&[format!("{}_*", spec.prefix)], &["no_such_table".into()]),
        ..options(map())
    };
    let r = migrate(Source::Metastore(&m), &Target::Glue(glue.clone()), &typo)
        .await
        .unwrap();
    assert_eq!(r.outcome(), Outcome::NothingSelected, "{r:?}");
    assert_eq!(r.databases.total(), 0, "{r:?}");
    drop_glue_databases(&glue, &spec).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_are_rewritten_on_databases_tables_and_partitions() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Postgres, Generation::Hive2, "locmap");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let m = Metastore::connect(db.url()).await.unwrap();
    // Only the warehouse is mapped: archived partitions keep their location, and are reported.
    let partial = LocationMap::parse(&["hdfs://nn:8020/warehouse/=s3://lake/wh/"]).unwrap();
    let opts = Options {
        filter: selected(&spec),
        location_map: partial.clone(),
        ..Options::default()
    };
    let r = migrate(Source::Metastore(&m), &Target::Glue(glue.clone()), &opts)
        .await
        .unwrap();
    assert_eq!(r.outcome(), Outcome::Migrated);
    assert!(r.locations.unmapped > 0);
    assert!(r
        .locations
        .unmapped_examples
        .iter()
        .all(|l| l.starts_with("hdfs://nn:8020/archive/")));
    let d = glue
        .get_database(&spec.database_name(0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        d.location_uri,
        Some(format!("s3://lake/wh/{}.db", spec.database_name(0)))
    );
    let (dbn, t) = spec.table_name(3);
    let table = glue.get_table(&dbn, &t).await.unwrap().unwrap();
    assert_eq!(
        table.storage_descriptor.unwrap().location,
        Some(format!("s3://lake/wh/{dbn}.db/{t}"))
    );
    let parts = glue.get_partitions(&dbn, &t, None).await.unwrap();
    assert!(parts.iter().any(|p| p
        .storage_descriptor
        .as_ref()
        .unwrap()
        .location
        .as_deref()
        .unwrap()
        .starts_with("hdfs://nn:8020/archive/")));
    assert!(parts.iter().any(|p| p
        .storage_descriptor
        .as_ref()
        .unwrap()
        .location
        .as_deref()
        .unwrap()
        .starts_with("s3://lake/wh/")));
    // Skewed value locations are rewritten too.
    let (dbn, t) = spec.table_name(15);
    let skewed = glue.get_table(&dbn, &t).await.unwrap().unwrap();
    let maps = skewed
        .storage_descriptor
        .unwrap()
        .skewed_info
        .unwrap()
        .skewed_column_value_location_maps;
    assert_eq!(
        maps.values().next().unwrap(),
        &format!("s3://lake/wh/{dbn}.db/{t}/c_key=a/c_val=1")
    );
    assert_eq!(
        assert_glue_matches(db.url(), &glue, &spec.prefix, &partial).await,
        (3, 20, 60)
    );
    drop_glue_databases(&glue, &spec).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_clear_errors() {
    // Not a metastore: named missing tables, before anything is read.
    if let Some(server) = migrate_testkit::mariadb() {
        let db = server.create_database("not_a_metastore");
        db.sql("CREATE TABLE customers (id int)").unwrap();
        let err = Metastore::connect(db.url()).await.unwrap_err().to_string();
        assert!(
            err.contains("unknown metastore layout") && err.contains("TBLS"),
            "{err}"
        );
    }
    if let Some(server) = migrate_testkit::postgres() {
        let db = server.create_database("empty_metastore");
        let err = Metastore::connect(db.url()).await.unwrap_err().to_string();
        assert!(err.contains("the database is empty"), "{err}");
    }
    let err = Metastore::connect("http://example/hive")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("mysql://"), "{err}");

    // Unreachable Glue: one clear error, before anything is written.
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Mysql, Generation::Hive4, "noglue");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let m = Metastore::connect(db.url()).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = glue.config().clone();
    config.endpoint = format!("http://127.0.0.1:{port}");
    config.max_attempts = 2;
    config.initial_backoff = Duration::from_millis(10);
    let dead = GlueClient::new(config).unwrap();
    let err = migrate(
        Source::Metastore(&m),
        &Target::Glue(dead),
        &Options::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, CatalogError::Glue(GlueError::Unreachable { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

/// Avro tables name their schema file in `avro.schema.url` (a table, partition or SerDe
/// parameter): a location like any other, rewritten by the same rules on both paths (metastore
/// and import), and reported when no rule matches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_schema_urls_are_rewritten_or_reported_as_unmapped() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Mysql, Generation::Hive3, "avro");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let first_part = "(SELECT MIN(PART_ID) FROM PARTITIONS)";
    db.sql(&format!(
        "INSERT INTO SERDE_PARAMS (SERDE_ID, PARAM_KEY, PARAM_VALUE) SELECT s.SERDE_ID, 'avro.schema.url', 'hdfs://nn:8020/warehouse/schemas/a.avsc' FROM SDS s JOIN TBLS t ON t.SD_ID = s.SD_ID WHERE t.TBL_NAME = 'avro_006';
         INSERT INTO PARTITION_PARAMS (PART_ID, PARAM_KEY, PARAM_VALUE) SELECT MIN(PART_ID), 'avro.schema.url', 'hdfs://nn:8020/warehouse/schemas/p.avsc' FROM PARTITIONS;
         INSERT INTO SERDE_PARAMS (SERDE_ID, PARAM_KEY, PARAM_VALUE) SELECT s.SERDE_ID, 'avro.schema.url', 'hdfs://nn:8020/schemas/unmapped.avsc' FROM SDS s JOIN PARTITIONS p ON p.SD_ID = s.SD_ID WHERE p.PART_ID = {first_part};"
    ));
    let filter = selected(&spec);
    let check = |r: &migrate_catalog::Report| {
        assert_eq!(r.failures, [], "{r:?}");
        assert!(
            r.locations
                .unmapped_examples
                .contains(&"hdfs://nn:8020/schemas/unmapped.avsc".to_string()),
            "{:?}",
            r.locations
        );
    };
    let assert_in_glue = || async {
        let (d, t) = spec.table_name(6);
        let avro = glue.get_table(&d, &t).await.unwrap().unwrap();
        assert_eq!(
            avro.parameters["avro.schema.url"],
            format!("s3://lake/warehouse/{d}.db/{t}/_schema.avsc")
        );
        let serde = avro.storage_descriptor.unwrap().serde_info.unwrap();
        assert_eq!(
            serde.parameters["avro.schema.url"],
            "s3://lake/warehouse/schemas/a.avsc"
        );
        let (d, t) = spec.table_name(3);
        let parts = glue.get_partitions(&d, &t, None).await.unwrap();
        let p = parts
            .iter()
            .find(|p| p.parameters.contains_key("avro.schema.url"))
            .unwrap();
        assert_eq!(
            p.parameters["avro.schema.url"],
            "s3://lake/warehouse/schemas/p.avsc"
        );
        let serde = p.storage_descriptor.as_ref().unwrap().serde_info.as_ref();
        assert_eq!(
            serde.unwrap().parameters["avro.schema.url"],
            "hdfs://nn:8020/schemas/unmapped.avsc"
        );
        assert_eq!(
            assert_glue_matches(db.url(), &glue, &spec.prefix, &map()).await,
            (3, 20, 60)
        );
    };

    let m = Metastore::connect(db.url()).await.unwrap();
    let opts = Options {
        filter: filter.clone(),
        ..options(map())
    };
    let r = migrate(Source::Metastore(&m), &Target::Glue(glue.clone()), &opts)
        .await
        .unwrap();
    check(&r);
    assert_in_glue().await;
    drop_glue_databases(&glue, &spec).await;

    // Exported as they are, rewritten when imported.
    let dir = std::env::temp_dir().join(migrate_testkit::unique_name("catalog_avro"));
    let plain = Options {
        filter: filter.clone(),
        ..Options::default()
    };
    migrate(Source::Metastore(&m), &Target::Export(dir.clone()), &plain)
        .await
        .unwrap();
    let r = migrate(
        Source::Import(dir.clone()),
        &Target::Glue(glue.clone()),
        &opts,
    )
    .await
    .unwrap();
    check(&r);
    assert_in_glue().await;
    std::fs::remove_dir_all(&dir).unwrap();
    drop_glue_databases(&glue, &spec).await;
}

/// Partitions dropped in Hive after a migration stay in Glue: a re-run counts them per table and
/// never says Glue matches; `delete_extra_partitions` deletes them (a dry run only lists them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_only_in_glue_are_counted_and_deleted_only_when_asked() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Postgres, Generation::Hive3, "extra");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let opts = selected_options(&spec);
    let target = Target::Glue(glue.clone());
    assert_eq!(
        run(db.url(), &glue, &opts).await.outcome(),
        Outcome::Migrated
    );
    // DROP PARTITION in Hive: the last two partitions of events_003.
    db.sql(
        r#"CREATE TEMP TABLE gone AS SELECT p."PART_ID" FROM "PARTITIONS" p JOIN "TBLS" t ON t."TBL_ID" = p."TBL_ID" WHERE t."TBL_NAME" = 'events_003' ORDER BY p."PART_ID" DESC LIMIT 2;
           DELETE FROM "PARTITION_PARAMS" WHERE "PART_ID" IN (SELECT "PART_ID" FROM gone);
           DELETE FROM "PARTITION_KEY_VALS" WHERE "PART_ID" IN (SELECT "PART_ID" FROM gone);
           DELETE FROM "PARTITIONS" WHERE "PART_ID" IN (SELECT "PART_ID" FROM gone);"#,
    );
    let (d, t) = spec.table_name(3);
    let table = format!("{d}.{t}");

    let r = run(db.url(), &glue, &opts).await;
    assert_eq!(r.outcome(), Outcome::ExtraInGlue, "{r:?}");
    assert_eq!(r.partitions.unchanged, 58);
    assert_eq!(r.partitions_only_in_glue.len(), 1, "{r:?}");
    let extra = &r.partitions_only_in_glue[0];
    assert_eq!(
        (extra.table.as_str(), extra.count, extra.deleted),
        (table.as_str(), 2, 0)
    );
    assert_eq!(extra.examples.len(), 2);
    assert_eq!(glue.get_partitions(&d, &t, None).await.unwrap().len(), 30);

    // The same from an export of the metastore.
    let dir = std::env::temp_dir().join(migrate_testkit::unique_name("catalog_extra"));
    let m = Metastore::connect(db.url()).await.unwrap();
    migrate(Source::Metastore(&m), &Target::Export(dir.clone()), &opts)
        .await
        .unwrap();
    let r = migrate(Source::Import(dir.clone()), &target, &Options::default())
        .await
        .unwrap();
    assert_eq!(r.outcome(), Outcome::ExtraInGlue, "{r:?}");
    assert_eq!(r.partitions_only_in_glue[0].count, 2);
    std::fs::remove_dir_all(&dir).unwrap();

    let delete = Options {
        delete_extra_partitions: true,
        ..opts.clone()
    };
    let r = run(
        db.url(),
        &glue,
        &Options {
            dry_run: true,
            ..delete.clone()
        },
    )
    .await;
    assert_eq!(r.outcome(), Outcome::DryRun);
    assert_eq!(r.partitions_only_in_glue[0].deleted, 2);
    let deletions: Vec<_> = r
        .changes
        .iter()
        .filter(|c| c.action == migrate_catalog::Action::Delete)
        .collect();
    assert_eq!(deletions.len(), 2, "{:?}", r.changes);
    assert_eq!(glue.get_partitions(&d, &t, None).await.unwrap().len(), 30);

    let r = run(db.url(), &glue, &delete).await;
    assert_eq!(r.outcome(), Outcome::Migrated, "{r:?}");
    assert_eq!(r.partitions_only_in_glue[0].deleted, 2);
    assert_eq!(glue.get_partitions(&d, &t, None).await.unwrap().len(), 28);
    assert_eq!(
        assert_glue_matches(db.url(), &glue, &spec.prefix, &map()).await,
        (3, 20, 58)
    );
    let r = run(db.url(), &glue, &opts).await;
    assert_eq!(r.outcome(), Outcome::InSync, "{r:?}");
    assert!(r.partitions_only_in_glue.is_empty());
    drop_glue_databases(&glue, &spec).await;
}

/// A copy of an export directory (two levels: the kind directories and their files).
fn copy_export(from: &std::path::Path, hint: &str) -> std::path::PathBuf {
    let to = std::env::temp_dir().join(migrate_testkit::unique_name(hint));
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    to
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// An import checks the whole export first: a damaged line in the middle, a missing manifest (an
/// export that did not finish), a missing, shortened or unlisted file are refused, naming the
/// file (and line), before anything is written to Glue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_unfinished_export_is_refused_before_anything_is_written() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Mysql, Generation::Hive2, "badexp");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let m = Metastore::connect(db.url()).await.unwrap();
    let export = std::env::temp_dir().join(migrate_testkit::unique_name("catalog_good"));
    let opts = selected_options(&spec);
    migrate(
        Source::Metastore(&m),
        &Target::Export(export.clone()),
        &opts,
    )
    .await
    .unwrap();
    assert!(export.join("manifest.json").is_file());
    let parts = "partitions/part-00000.jsonl";
    let lines = |dir: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(dir.join(parts))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let write = |dir: &std::path::Path, lines: &[String]| {
        std::fs::write(dir.join(parts), lines.join("\n") + "\n").unwrap();
    };
    let import = |dir: std::path::PathBuf| {
        let target = Target::Glue(glue.clone());
        async move {
            let err = migrate(Source::Import(dir.clone()), &target, &Options::default())
                .await
                .unwrap_err()
                .to_string();
            std::fs::remove_dir_all(&dir).unwrap();
            err
        }
    };

    // A line cut short in the middle (after 30 good ones).
    let dir = copy_export(&export, "catalog_cut");
    let mut all = lines(&dir);
    let half = all[30].len() / 2;
    all[30].truncate(half);
    write(&dir, &all);
    let err = import(dir).await;
    assert!(err.contains(&format!("{parts}, line 31")), "{err}");
    assert_eq!(
        glue.get_database(&spec.database_name(0)).await.unwrap(),
        None,
        "written before the damaged line was found"
    );

    // Killed before it finished: no manifest.
    let dir = copy_export(&export, "catalog_unfinished");
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    let err = import(dir).await;
    assert!(
        err.contains("no manifest.json") && err.contains("export again"),
        "{err}"
    );

    // A file left behind when carrying the directory over.
    let dir = copy_export(&export, "catalog_missing");
    std::fs::remove_file(dir.join(parts)).unwrap();
    let err = import(dir).await;
    assert!(err.contains(parts) && err.contains("missing"), "{err}");

    // Whole lines lost at the end.
    let dir = copy_export(&export, "catalog_short");
    let all = lines(&dir);
    write(&dir, &all[..50]);
    let err = import(dir).await;
    assert!(
        err.contains(parts) && err.contains("50 lines") && err.contains("says 60 lines"),
        "{err}"
    );

    // A file from somewhere else.
    let dir = copy_export(&export, "catalog_extra_file");
    std::fs::copy(dir.join(parts), dir.join("partitions/part-00001.jsonl")).unwrap();
    let err = import(dir).await;
    assert!(
        err.contains("part-00001.jsonl") && err.contains("not listed"),
        "{err}"
    );

    // Nothing of it reached Glue.
    assert_eq!(
        glue.get_database(&spec.database_name(0)).await.unwrap(),
        None
    );
    std::fs::remove_dir_all(&export).unwrap();
}

/// A TCP proxy in front of the Glue server that dies after forwarding `after` requests of
/// `operation`: from then on it closes every connection it has or gets, and counts the ones it
/// refuses (each is one attempt of a client call).
struct DyingProxy {
    endpoint: String,
    refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl DyingProxy {
    async fn start(upstream: &str, operation: &'static str, after: usize) -> DyingProxy {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::Arc;
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let refused = Arc::new(AtomicUsize::new(0));
        let (seen, dead) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let counter = refused.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if dead.load(Ordering::SeqCst) {
                    counter.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (seen, dead) = (seen.clone(), dead.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let back = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
                    });
                    let mut buf = vec![0; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let text = String::from_utf8_lossy(&buf[..n]);
                        let calls = text.matches(operation).count();
                        if calls > 0 && seen.fetch_add(calls, Ordering::SeqCst) + calls > after {
                            dead.store(true, Ordering::SeqCst);
                        }
                        if dead.load(Ordering::SeqCst) || sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    back.abort();
                });
            }
        });
        DyingProxy { endpoint, refused }
    }

    fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Glue going away in the middle of a table: the batch that meets it retries to the limit, then
/// nothing more is sent (no batch waits through its own retries), and the report says what was
/// written and what was not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glue_going_away_stops_the_run_after_one_batch_exhausts_its_retries() {
    let (Some(glue), Some(server)) = (glue(), migrate_testkit::glue()) else {
        return;
    };
    let spec = Spec {
        tables: 4,
        partitions: 3000,
        databases: 1,
        ..spec(Dialect::Mysql, Generation::Hive2, "dying")
    };
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let proxy = DyingProxy::start(server.endpoint(), "AWSGlue.BatchCreatePartition", 5).await;
    let mut config = glue_config(server);
    config.endpoint = proxy.endpoint.clone();
    config.initial_backoff = Duration::from_millis(20);
    let attempts = config.max_attempts as usize;
    let m = Metastore::connect(db.url()).await.unwrap();
    let opts = Options {
        filter: selected(&spec),
        concurrency: 2,
        ..options(map())
    };
    let target = Target::Glue(GlueClient::new(config).unwrap());
    let r = migrate(Source::Metastore(&m), &target, &opts)
        .await
        .unwrap();
    // Only the calls in flight when Glue went away were tried again, not every batch left.
    assert!(
        proxy.refused() <= 2 * attempts,
        "{} connections refused",
        proxy.refused()
    );
    assert_eq!(r.outcome(), Outcome::Stopped, "{:?}", r.stopped);
    let reason = r.stopped.clone().unwrap();
    assert!(reason.contains("Glue stopped answering"), "{reason}");
    let p = r.partitions;
    assert_eq!(p.created + p.failed, 3000, "{p:?}");
    // Every failed partition has its reason under `failures`: one entry per partition, or one
    // per table for the partitions the stop left unsent.
    let listed: u64 = r
        .failures
        .iter()
        .filter(|f| f.kind == ObjectKind::Partition)
        .map(|f| {
            f.object
                .strip_suffix(" partitions)")
                .and_then(|o| o.rsplit_once(" ("))
                .map_or(1, |(_, n)| n.parse::<u64>().unwrap())
        })
        .sum();
    assert_eq!(listed + r.failures_not_listed, p.failed, "{:?}", r.failures);
    assert!(
        r.failures
            .iter()
            .any(|f| f.message.contains("not attempted: the run stopped")),
        "{:?}",
        r.failures
    );
    // Five calls went through (fewer confirmed if one timed out on a busy machine and was sent
    // again); the batches in flight when Glue went away may have been written without their
    // answer arriving: counted failed ("not confirmed"), at most one per connection.
    assert!(p.created > 0, "{p:?}");
    let (d, t) = spec.table_name(3);
    let in_glue = glue.get_partitions(&d, &t, None).await.unwrap().len() as u64;
    assert!(
        (p.created..=p.created + 2 * MAX_BATCH_CREATE as u64).contains(&in_glue),
        "{in_glue} partitions in Glue, {p:?}"
    );
    drop_glue_databases(&glue, &spec).await;
}

/// A Hive ACID table is migrated (Glue holds it) with a warning saying its readers can't read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acid_tables_get_a_warning() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Mysql, Generation::Hive4, "acid");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    db.add_table_param(&spec.table_name(4).1, "transactional", "true");
    let opts = Options {
        dry_run: true,
        ..selected_options(&spec)
    };
    let r = run(db.url(), &glue, &opts).await;
    let (d, t) = spec.table_name(4);
    let found: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.severity, f.code.as_str(), f.object.clone()))
        .collect();
    assert_eq!(
        found,
        [(
            migrate_core::Severity::Warning,
            "catalog.acid-table",
            format!("{d}.{t}")
        )]
    );
    assert!(r.findings[0].message.contains("Athena"), "{:?}", r.findings);
}

/// Hive's tables in another PostgreSQL schema, a catalog that does not exist, a catalog asked of a
/// Hive 2 metastore: each refused with what is there and what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_and_catalogs_that_dont_fit_are_named_with_what_to_do() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let spec = small_spec(Dialect::Postgres, Generation::Hive3, "schema");
    let db = server.create_database("hms_in_schema");
    db.sql(&format!(
        "CREATE SCHEMA hive; SET search_path TO hive;\n{}\n{}",
        ddl(spec.dialect, spec.generation),
        populate(&spec)
    ))
    .unwrap();
    let err = Metastore::connect(db.url()).await.unwrap_err().to_string();
    assert!(
        err.contains("schema hive") && err.contains("?options=-csearch_path%3Dhive"),
        "{err}"
    );
    // The option it names reads them.
    let sep = if db.url().contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options=-csearch_path%3Dhive", db.url());
    let m = Metastore::connect(&url).await.unwrap();
    let err = m.with_catalog("nosuch").await.unwrap_err().to_string();
    assert!(
        err.contains("`nosuch`") && err.contains("its catalogs: hive, spark"),
        "{err}"
    );
    let m = Metastore::connect(&url).await.unwrap();
    let spark = m.with_catalog("Spark").await.unwrap();
    let names: Vec<_> = spark
        .databases()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, [format!("{}_spark_only", spec.prefix)]);

    let spec = small_spec(Dialect::Mysql, Generation::Hive2, "nocat");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let m = Metastore::connect(db.url()).await.unwrap();
    let err = m.with_catalog("spark").await.unwrap_err().to_string();
    assert!(
        err.contains("Hive 2.x") && err.contains("no catalogs"),
        "{err}"
    );
    let m = Metastore::connect(db.url()).await.unwrap();
    assert!(m.with_catalog("hive").await.is_ok());
}

/// Locations kept in parameters: Spark's data source tables read their data from the SerDe
/// parameter `path`, Iceberg tables their metadata from `metadata_location` (and the one before
/// from `previous_metadata_location`). Rewritten by the rules like any location, reported when no
/// rule matches; Iceberg tables and tables behind a Hive storage handler (HBase, Kafka) get a
/// warning naming them, since Glue's readers can't read them as they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_in_parameters_are_rewritten_and_unreadable_tables_warned() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Postgres, Generation::Hive4, "lparams");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let (d1, spark) = spec.table_name(1);
    let (d7, iceberg) = spec.table_name(7);
    let (d0, hbase) = spec.table_name(0);
    let serde_of = |table: &str| {
        format!(
            r#"SELECT s."SERDE_ID" FROM "SDS" s JOIN "TBLS" t ON t."SD_ID" = s."SD_ID" WHERE t."TBL_NAME" = '{table}'"#
        )
    };
    db.sql(&format!(
        r#"INSERT INTO "SERDE_PARAMS" ("SERDE_ID", "PARAM_KEY", "PARAM_VALUE") SELECT "SERDE_ID", 'path', 'hdfs://nn:8020/warehouse/{d1}.db/{spark}' FROM ({}) x;
           INSERT INTO "SERDE_PARAMS" ("SERDE_ID", "PARAM_KEY", "PARAM_VALUE") SELECT "SERDE_ID", 'path', 'hdfs://other:8020/spark/{iceberg}' FROM ({}) x;"#,
        serde_of(&spark),
        serde_of(&iceberg),
    ));
    db.add_table_param(&spark, "spark.sql.sources.provider", "parquet");
    db.add_table_param(&iceberg, "table_type", "ICEBERG");
    db.add_table_param(
        &iceberg,
        "metadata_location",
        &format!("hdfs://nn:8020/warehouse/{d7}.db/{iceberg}/metadata/00002-b.metadata.json"),
    );
    db.add_table_param(
        &iceberg,
        "previous_metadata_location",
        &format!("hdfs://nn:8020/warehouse/{d7}.db/{iceberg}/metadata/00001-a.metadata.json"),
    );
    db.add_table_param(
        &hbase,
        "storage_handler",
        "org.apache.hadoop.hive.hbase.HBaseStorageHandler",
    );
    db.add_table_param(&hbase, "hbase.table.name", "default:events");
    let opts = selected_options(&spec);
    let r = run(db.url(), &glue, &opts).await;
    assert_eq!(r.failures, [], "{r:?}");
    assert_eq!(
        r.locations.unmapped_examples,
        [format!("hdfs://other:8020/spark/{iceberg}")],
        "{:?}",
        r.locations
    );
    let t = glue.get_table(&d1, &spark).await.unwrap().unwrap();
    let serde = t.storage_descriptor.unwrap().serde_info.unwrap();
    assert_eq!(
        serde.parameters["path"],
        format!("s3://lake/warehouse/{d1}.db/{spark}")
    );
    let t = glue.get_table(&d7, &iceberg).await.unwrap().unwrap();
    assert_eq!(
        t.parameters["metadata_location"],
        format!("s3://lake/warehouse/{d7}.db/{iceberg}/metadata/00002-b.metadata.json")
    );
    assert_eq!(
        t.parameters["previous_metadata_location"],
        format!("s3://lake/warehouse/{d7}.db/{iceberg}/metadata/00001-a.metadata.json")
    );
    assert_eq!(
        assert_glue_matches(db.url(), &glue, &spec.prefix, &map()).await,
        (3, 20, 60)
    );
    let mut found: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.severity, f.code.as_str(), f.object.clone()))
        .collect();
    found.sort();
    let warning = migrate_core::Severity::Warning;
    assert_eq!(
        found,
        [
            (warning, "catalog.iceberg-table", format!("{d7}.{iceberg}")),
            (warning, "catalog.storage-handler", format!("{d0}.{hbase}")),
        ]
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("HBaseStorageHandler")),
        "{:?}",
        r.findings
    );
    // Rewritten the same way every run: nothing to update.
    let again = run(db.url(), &glue, &opts).await;
    assert_eq!(again.outcome(), Outcome::InSync, "{:?}", again.changes);
    drop_glue_databases(&glue, &spec).await;
}

/// A table parameter holding a password in plain text (the JDBC storage handler's) is not
/// copied into Glue, with a warning naming it; the other parameters are, and a re-run finds the
/// table in sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_in_table_parameters_are_withheld_from_glue() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Postgres, Generation::Hive4, "secrets");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let (d3, jdbc) = spec.table_name(3);
    db.add_table_param(
        &jdbc,
        "storage_handler",
        "org.apache.hive.storage.jdbc.JdbcStorageHandler",
    );
    db.add_table_param(&jdbc, "hive.sql.dbcp.username", "reporting");
    db.add_table_param(&jdbc, "hive.sql.dbcp.password", "s3cr3t");
    let opts = selected_options(&spec);
    let r = run(db.url(), &glue, &opts).await;
    assert_eq!(r.failures, [], "{r:?}");
    let t = glue.get_table(&d3, &jdbc).await.unwrap().unwrap();
    assert_eq!(
        t.parameters
            .get("hive.sql.dbcp.username")
            .map(String::as_str),
        Some("reporting")
    );
    assert_eq!(
        t.parameters.get("hive.sql.dbcp.password"),
        None,
        "{:?}",
        t.parameters
    );
    let withheld: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == "catalog.password-withheld")
        .collect();
    assert_eq!(withheld.len(), 1, "{:?}", r.findings);
    assert_eq!(withheld[0].object, format!("{d3}.{jdbc}"));
    assert!(
        withheld[0].message.contains("hive.sql.dbcp.password")
            && !withheld[0].message.contains("s3cr3t"),
        "{}",
        withheld[0].message
    );
    // Put into Glue by hand (the warning's last resort): later runs keep it.
    let mut by_hand = t.clone();
    by_hand
        .parameters
        .insert("hive.sql.dbcp.password".into(), "by hand".into());
    glue.update_table(&d3, &by_hand).await.unwrap();
    let again = run(db.url(), &glue, &opts).await;
    assert_eq!(again.outcome(), Outcome::InSync, "{:?}", again.changes);
    let t = glue.get_table(&d3, &jdbc).await.unwrap().unwrap();
    assert_eq!(
        t.parameters
            .get("hive.sql.dbcp.password")
            .map(String::as_str),
        Some("by hand")
    );
    drop_glue_databases(&glue, &spec).await;
}

/// What lands in Glue from objects over its size limits (which moto does not enforce): free text
/// cut to the limit in characters, not UTF-8 bytes, whole everywhere else; a database or a
/// partition that Glue would refuse is not sent, alone, and the rest is migrated; a re-run finds
/// the cut text in sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_over_glues_size_limits_are_cut_or_left_out_alone() {
    let Some(glue) = glue() else { return };
    let spec = small_spec(Dialect::Postgres, Generation::Hive3, "limits");
    let Some(db) = metastore_db(&spec) else {
        return;
    };
    let (d0, text) = spec.table_name(0);
    let (d1, events) = spec.table_name(3);
    let keyed = spec.table_name(13).1;
    let empty = spec.database_name(spec.databases);
    let column_comment = |table: &str, column: usize, value: &str| {
        format!(
            r#"UPDATE "COLUMNS_V2" c SET "COMMENT" = {value} FROM "SDS" s, "TBLS" t WHERE s."CD_ID" = c."CD_ID" AND t."SD_ID" = s."SD_ID" AND t."TBL_NAME" = '{table}' AND c."INTEGER_IDX" = {column};"#
        )
    };
    db.sql(&format!(
        r#"{}{}
           UPDATE "DBS" SET "DESC" = repeat('é', 2100) WHERE "NAME" = '{d0}';
           UPDATE "DBS" SET "DB_LOCATION_URI" = 'hdfs://nn:8020/' || repeat('x', 1100) WHERE "NAME" = '{empty}';
           UPDATE "SDS" s SET "LOCATION" = 'hdfs://nn:8020/' || repeat('x', 2100) FROM "PARTITIONS" p WHERE p."SD_ID" = s."SD_ID" AND p."PART_ID" = (SELECT min(p."PART_ID") FROM "PARTITIONS" p JOIN "TBLS" t ON t."TBL_ID" = p."TBL_ID" WHERE t."TBL_NAME" = '{keyed}');"#,
        column_comment(&text, 0, "repeat('日本語', 100)"),
        // Shared by the table's partitions, as Hive shares a table's columns with them.
        column_comment(&events, 1, "repeat('ü', 256)"),
    ));
    // A comment on two lines (Glue takes no line break in one), and an owner Hive stored as ''
    // (Glue takes none, or at least one character).
    db.sql(&format!(
        r#"{}
           UPDATE "TBLS" SET "OWNER" = '' WHERE "TBL_NAME" = '{text}';"#,
        column_comment(&text, 2, "E'line one\\nline two'"),
    ));
    let opts = selected_options(&spec);
    let r = run(db.url(), &glue, &opts).await;
    assert_eq!(r.outcome(), Outcome::Failed, "{r:?}");
    let failed: Vec<_> = r.failures.iter().map(|f| (f.kind, &f.message)).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(r.failures[0].object, empty);
    assert!(
        r.failures[0]
            .message
            .contains("LocationUri is 1115 characters long (at most 1024)"),
        "{failed:?}"
    );
    assert!(r.failures[1].object.starts_with(&format!("{d1}.{keyed}/")));
    assert!(
        r.failures[1]
            .message
            .contains("StorageDescriptor.Location is 2115 characters long (at most 2056)"),
        "{failed:?}"
    );
    assert_eq!((r.databases.created, r.databases.failed), (2, 1), "{r:?}");
    assert_eq!((r.tables.created, r.tables.failed), (20, 0), "{r:?}");
    assert_eq!(
        (r.partitions.created, r.partitions.failed),
        (59, 1),
        "{r:?}"
    );

    // Cut to the limit in characters: 2048 two-byte, 255 three-byte characters.
    let d = glue.get_database(&d0).await.unwrap().unwrap();
    assert_eq!(d.description, Some("é".repeat(2048)));
    let t = glue.get_table(&d0, &text).await.unwrap().unwrap();
    let columns = t.storage_descriptor.unwrap().columns;
    assert_eq!(columns[0].comment, Some("日本語".repeat(85)));
    assert_eq!(columns[2].comment.as_deref(), Some("line one line two"));
    assert_eq!(t.owner, None);
    assert_eq!(
        columns[1].comment.as_deref(),
        Some("café name, with a comma")
    );
    let parts = glue.get_partitions(&d1, &events, None).await.unwrap();
    assert_eq!(parts.len(), 30);
    for p in &parts {
        let sd = p.storage_descriptor.as_ref().unwrap();
        assert_eq!(sd.columns[1].comment, Some("ü".repeat(255)), "{p:?}");
    }
    assert_eq!(
        glue.get_partitions(&d1, &keyed, None).await.unwrap().len(),
        29
    );
    assert_eq!(glue.get_database(&empty).await.unwrap(), None);
    let cut: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.object.as_str(), f.message.as_str()))
        .collect();
    let why = "free text the Glue Data Catalog refuses as it is was changed to fit: ";
    let events_object = format!("{d1}.{events}");
    let column = "StorageDescriptor.Columns[1] (\"name\").Comment (256 characters, cut to 255)";
    assert_eq!(
        cut,
        [
            (
                "catalog.text-changed",
                d0.as_str(),
                format!("{why}Description (2100 characters, cut to 2048)").as_str()
            ),
            (
                "catalog.text-changed",
                format!("{d0}.{text}").as_str(),
                format!("{why}StorageDescriptor.Columns[0] (\"id\").Comment (300 characters, cut to 255), StorageDescriptor.Columns[2] (\"score\").Comment (1 line break(s) or control character(s) replaced by spaces)").as_str()
            ),
            (
                "catalog.text-changed",
                events_object.as_str(),
                format!("{why}{column}").as_str()
            ),
            // Its partitions' copies: one finding for all of them.
            (
                "catalog.text-changed",
                events_object.as_str(),
                format!("{why}30 partition(s), e.g. {events_object}/2024-01-01/0: {column}").as_str()
            ),
        ]
    );

    // The cut text is what Glue holds: nothing to update.
    let again = run(db.url(), &glue, &opts).await;
    assert_eq!(again.changes, [], "{again:?}");
    assert_eq!(again.failures.len(), 2, "{again:?}");
    drop_glue_databases(&glue, &spec).await;
}
