//! Every call of the client against a real Glue API (moto, `scenarios/servers/glue.sh`).

use migrate_glue::*;
use std::collections::BTreeMap;
use std::time::Duration;

fn client() -> Option<GlueClient> {
    let server = migrate_testkit::glue()?;
    // moto accepts any credentials; the test process's AWS variables belong to the S3 tests.
    let config = GlueConfig {
        endpoint: server.endpoint().to_string(),
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        session_token: None,
        catalog_id: None,
        max_attempts: 3,
        initial_backoff: Duration::from_millis(100),
        timeout: Duration::from_secs(60),
    };
    Some(GlueClient::new(config).unwrap())
}

#[tokio::test]
async fn databases_tables_and_partitions_round_trip() {
    let Some(c) = client() else { return };
    let db = migrate_testkit::unique_name("glue_round_trip");
    assert_eq!(c.get_database(&db).await.unwrap(), None);
    let database = DatabaseInput {
        name: db.clone(),
        description: Some("d".into()),
        location_uri: Some("s3://b/db".into()),
        parameters: BTreeMap::from([("k".into(), "v".into())]),
    };
    c.create_database(&database).await.unwrap();
    assert_eq!(c.get_database(&db).await.unwrap().as_ref(), Some(&database));
    let err = c.create_database(&database).await.unwrap_err();
    assert_eq!(err.code(), Some("AlreadyExistsException"));
    let updated = DatabaseInput {
        description: Some("d2".into()),
        ..database.clone()
    };
    c.update_database(&updated).await.unwrap();
    assert_eq!(c.get_database(&db).await.unwrap().as_ref(), Some(&updated));
    assert!(c
        .get_databases()
        .await
        .unwrap()
        .iter()
        .any(|d| d == &updated));

    let sd = StorageDescriptor {
        columns: vec![Column {
            name: "a".into(),
            r#type: Some("int".into()),
            comment: Some("c".into()),
        }],
        location: Some("s3://b/db/t".into()),
        input_format: Some("org.apache.hadoop.mapred.TextInputFormat".into()),
        number_of_buckets: -1,
        serde_info: Some(SerDeInfo {
            name: None,
            serialization_library: Some(
                "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe".into(),
            ),
            parameters: BTreeMap::from([("field.delim".into(), ",".into())]),
        }),
        ..Default::default()
    };
    let table = TableInput {
        name: "t".into(),
        table_type: Some("EXTERNAL_TABLE".into()),
        storage_descriptor: Some(sd.clone()),
        partition_keys: vec![Column {
            name: "p".into(),
            r#type: Some("string".into()),
            comment: None,
        }],
        ..Default::default()
    };
    c.create_table(&db, &table).await.unwrap();
    assert_eq!(c.get_table(&db, "t").await.unwrap().as_ref(), Some(&table));
    let t2 = TableInput {
        owner: Some("hive".into()),
        ..table.clone()
    };
    c.update_table(&db, &t2).await.unwrap();
    assert_eq!(c.get_tables(&db).await.unwrap(), vec![t2.clone()]);

    let parts: Vec<PartitionInput> = (0..250)
        .map(|i| PartitionInput {
            values: vec![format!("v{i}")],
            storage_descriptor: Some(StorageDescriptor {
                location: Some(format!("s3://b/db/t/p=v{i}")),
                ..sd.clone()
            }),
            parameters: BTreeMap::new(),
        })
        .collect();
    for chunk in parts.chunks(MAX_BATCH_CREATE) {
        assert!(c
            .batch_create_partition(&db, "t", chunk)
            .await
            .unwrap()
            .is_empty());
    }
    let again = c
        .batch_create_partition(&db, "t", &parts[..2])
        .await
        .unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|e| e.code == "AlreadyExistsException"));
    let mut all = c.get_partitions(&db, "t", None).await.unwrap();
    all.sort_by_key(|p| p.values[0][1..].parse::<u32>().unwrap());
    assert_eq!(all, parts);
    let changed = PartitionInput {
        storage_descriptor: Some(StorageDescriptor {
            location: Some("s3://elsewhere/x".into()),
            ..sd.clone()
        }),
        ..parts[7].clone()
    };
    assert!(c
        .batch_update_partition(&db, "t", std::slice::from_ref(&changed))
        .await
        .unwrap()
        .is_empty());
    let keys = vec![parts[7].values.clone(), vec!["missing".into()]];
    assert_eq!(
        c.batch_get_partition(&db, "t", &keys).await.unwrap(),
        vec![changed]
    );
    let filtered = c.get_partitions(&db, "t", Some("p = 'v3'")).await.unwrap();
    assert_eq!(filtered, vec![parts[3].clone()]);
    c.delete_database(&db).await.unwrap();
}
