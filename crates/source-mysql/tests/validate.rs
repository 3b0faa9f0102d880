//! MariaDB -> PostgreSQL through the real path: every type read from the snapshot, loaded by the
//! warehouse into the table the converter creates, and the checksums and row hashes computed in
//! each database (`migrate_checksum`) agree, column by column and whole; a changed value shows up
//! as exactly its row. Checksums see the snapshot, not later writes.

mod common;

use common::{connect, table, TYPES};
use futures::TryStreamExt;
use migrate_core::{SourceDialect, Table};
use migrate_source::{Chunk, ChunkBound, KeyedHash, ReadSpec, Snapshot as _};
use migrate_source_mysql::SourceError;
use migrate_warehouse::{PostgresWarehouse, PrepMode};

/// `table` with only its columns `[0]` (the key) and `[i]`.
fn key_and(table: &Table, i: usize) -> Table {
    let mut narrow = table.clone();
    narrow.columns = vec![table.columns[0].clone(), table.columns[i].clone()];
    narrow
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mysql_type_checksums_like_its_loaded_copy() {
    let (Some(mariadb), Some(pg)) = (migrate_testkit::mariadb(), migrate_testkit::postgres())
    else {
        return;
    };
    let source_db = mariadb.create_database("mysql_validate");
    // Geometry too: WKB into the target's BYTEA, hashed as WKB on both sides.
    source_db.sql(TYPES).unwrap();
    let target_db = pg.create_database("mysql_validate_target");
    let source = connect(source_db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let types = table(&catalog, "types");
    let read = ReadSpec::whole_table(types);
    let snapshot = source.snapshot(2).await.unwrap();
    // MariaDB 10.7+: documents as JSON_NORMALIZE writes them, on both sides.
    let json = snapshot.json_text();
    assert_eq!(json, migrate_source::JsonText::Normalized);

    let warehouse = PostgresWarehouse::connect(target_db.url()).await.unwrap();
    warehouse
        .prepare(types, SourceDialect::Mysql, PrepMode::DropAndCreate)
        .await
        .unwrap();
    let outcome = warehouse
        .load_chunk(
            "validate",
            types,
            0,
            snapshot.read_chunk(&read, &Chunk::whole(), 2),
        )
        .await
        .unwrap();
    assert_eq!(outcome.rows, 5);

    // Written after the snapshot: neither the load nor the snapshot's checksums see it.
    source_db
        .sql("UPDATE types SET vc = 'changed' WHERE id = 2; DELETE FROM types WHERE id = 5")
        .unwrap();

    // Column by column: a failure names the type.
    let mut failures = Vec::new();
    for i in 1..types.columns.len() {
        let narrow = key_and(types, i);
        let on_source: Vec<KeyedHash> = snapshot
            .row_hashes(&ReadSpec::whole_table(&narrow), &Chunk::whole())
            .try_collect()
            .await
            .unwrap();
        let on_target = warehouse
            .row_hashes(&narrow, &["id"], "", json)
            .await
            .unwrap();
        if on_source != on_target {
            let column = &types.columns[i];
            failures.push(format!(
                "{} ({} -> {}):\n  source: {on_source:?}\n  target: {on_target:?}",
                column.name.value, column.source_type, column.data_type
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Whole rows, whole table and per chunk.
    let on_source = snapshot.checksum(&read, &Chunk::whole()).await.unwrap();
    assert_eq!(on_source.rows, 5);
    assert_eq!(
        on_source,
        warehouse.chunk_checksum(types, "", json).await.unwrap()
    );
    let halves = [(None, Some(3)), (Some(3), None)].map(|(from, to)| Chunk {
        index: 0,
        bound: ChunkBound::KeyRange {
            column: "id".into(),
            from,
            to,
        },
    });
    let first = snapshot.checksum(&read, &halves[0]).await.unwrap();
    let second = snapshot.checksum(&read, &halves[1]).await.unwrap();
    assert_eq!((first.rows, second.rows), (2, 3));
    assert_eq!(first.combine(&second), on_source);
    assert_eq!(
        first,
        warehouse
            .chunk_checksum(types, "id < 3", json)
            .await
            .unwrap()
    );

    let source_hashes: Vec<KeyedHash> = snapshot
        .row_hashes(&read, &Chunk::whole())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        source_hashes,
        warehouse
            .row_hashes(types, &["id"], "", json)
            .await
            .unwrap()
    );

    // One value changed in the target: the checksum and exactly that row's hash differ.
    // The target table is in the schema named after the source database.
    target_db
        .sql(&format!(
            "UPDATE \"{}\".types SET dtt = dtt + interval '1 microsecond' WHERE id = 4",
            source_db.name()
        ))
        .unwrap();
    assert_ne!(
        on_source,
        warehouse.chunk_checksum(types, "", json).await.unwrap()
    );
    let changed = warehouse
        .row_hashes(types, &["id"], "", json)
        .await
        .unwrap();
    let differing: Vec<&str> = source_hashes
        .iter()
        .zip(&changed)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.key.as_str())
        .collect();
    assert_eq!(differing, ["\"4\""]);
    snapshot.close().await.unwrap();

    // A new snapshot sees the source's later writes.
    let later = source.snapshot(1).await.unwrap();
    let now = later.checksum(&read, &Chunk::whole()).await.unwrap();
    assert_eq!(now.rows, 4);
    later.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn row_hashes_need_a_key() {
    let Some(mariadb) = migrate_testkit::mariadb() else {
        return;
    };
    let db = mariadb.create_database("mysql_hashes_nokey");
    db.sql("CREATE TABLE n (a INT, b TEXT); INSERT INTO n VALUES (1, 'x'), (1, 'x');")
        .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let n = table(&catalog, "n");
    let snapshot = source.snapshot(1).await.unwrap();
    let read = ReadSpec::whole_table(n);
    // The checksum counts duplicates; row hashes can't name the rows.
    assert_eq!(
        snapshot
            .checksum(&read, &Chunk::whole())
            .await
            .unwrap()
            .rows,
        2
    );
    let error = snapshot
        .row_hashes(&read, &Chunk::whole())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(error, SourceError::Unsupported { .. }), "{error}");
    assert!(error.to_string().contains("primary key"), "{error}");
    snapshot.close().await.unwrap();
}
