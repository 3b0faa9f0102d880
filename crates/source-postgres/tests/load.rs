//! Discovery, chunk planning, snapshots, checksums and memory against a real PostgreSQL.

mod common;

use common::{connect, read_all, rows_not_in_exactly_one_chunk, table, whole};
use futures::TryStreamExt;
use migrate_core::{ConstraintKind, Ident, Identity, LogicalType};
use migrate_source_postgres::{chunk_predicate, ChunkBound, PostgresSource, Snapshot};

fn one(db: &migrate_testkit::PgDatabase, sql: &str) -> String {
    db.sql(sql).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_reads_keys_and_statistics() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_discover");
    db.sql(
        r#"CREATE SCHEMA sales;
        CREATE TABLE sales.customers (id bigint, email text NOT NULL UNIQUE, "Region" text,
            code text UNIQUE NULLS NOT DISTINCT, PRIMARY KEY (id) INCLUDE (email));
        CREATE TABLE sales.orders (id int PRIMARY KEY,
            customer bigint REFERENCES sales.customers MATCH FULL ON DELETE CASCADE ON UPDATE SET NULL
                DEFERRABLE INITIALLY DEFERRED, total numeric(12,2));
        CREATE TABLE sales.notes (id int PRIMARY KEY, customer bigint, region text,
            FOREIGN KEY (customer) REFERENCES sales.customers ON DELETE SET NULL (customer));
        CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE total > 100;
        CREATE TABLE sales.measures (at date NOT NULL, v int) PARTITION BY RANGE (at);
        CREATE TABLE sales.measures_2024 PARTITION OF sales.measures
            FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE other (x int);
        INSERT INTO sales.customers SELECT g, 'c' || g || '@x', CASE WHEN g % 4 = 0 THEN NULL ELSE 'r' || (g % 3) END, g
          FROM generate_series(1, 1000) g;
        INSERT INTO sales.measures SELECT date '2024-01-01' + g % 300, g FROM generate_series(1, 500) g;
        ANALYZE;"#,
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(Some(&["sales".to_string()])).await.unwrap();
    let names: Vec<String> = catalog.tables.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(
        names,
        [
            "sales.customers",
            "sales.measures",
            "sales.notes",
            "sales.orders"
        ],
        "no view, no partition child, no other schema"
    );

    let customers = table(&catalog, "customers");
    let columns: Vec<(&str, bool)> = customers
        .columns
        .iter()
        .map(|c| (c.name.value.as_str(), c.nullable))
        .collect();
    assert_eq!(
        columns,
        [
            ("id", false),
            ("email", false),
            ("Region", true),
            ("code", true)
        ]
    );
    assert!(customers.columns[2].name.quoted);
    assert_eq!(customers.columns[0].data_type, LogicalType::BigInt);
    assert_eq!(customers.primary_key().unwrap()[0].value, "id");
    assert!(customers
        .constraints
        .iter()
        .any(|c| matches!(&c.kind, ConstraintKind::Unique(cols) if cols[0].value == "email")));
    // A key's index options: the primary key's INCLUDE, PostgreSQL 15's NULLS NOT DISTINCT.
    let index_options = |column: &str| {
        let key = customers.constraints.iter().find(|c| {
            matches!(&c.kind, ConstraintKind::PrimaryKey(cols) | ConstraintKind::Unique(cols)
                if cols[0].value == column)
        });
        key.unwrap().index.clone()
    };
    assert_eq!(index_options("id").include, [Ident::new("email")]);
    assert!(!index_options("id").nulls_not_distinct);
    assert!(index_options("code").nulls_not_distinct);
    assert!(index_options("email").is_plain());
    let stats = customers.statistics.as_ref().unwrap();
    assert_eq!(stats.row_count, Some(1000));
    assert!(stats.size_bytes.unwrap() > 0);
    let id_stats = customers.columns[0].statistics.as_ref().unwrap();
    assert_eq!(
        id_stats.distinct_count,
        Some(1000),
        "n_distinct -1 = all rows"
    );
    let region = customers.columns[2].statistics.as_ref().unwrap();
    assert_eq!(region.distinct_count, Some(3));
    assert!((region.null_fraction.unwrap() - 0.25).abs() < 0.01);

    let orders = table(&catalog, "orders");
    let fk = orders.foreign_keys().next().unwrap();
    assert_eq!(fk.referenced_table.to_string(), "sales.customers");
    assert_eq!(fk.referenced_columns[0].value, "id");
    assert_eq!(fk.on_delete.as_deref(), Some("CASCADE"));
    assert_eq!(fk.on_update.as_deref(), Some("SET NULL"));
    assert!(fk.match_full);
    let notes = table(&catalog, "notes");
    let set_null = notes.foreign_keys().next().unwrap();
    assert_eq!(
        set_null.on_delete.as_deref(),
        Some("SET NULL (customer)"),
        "PostgreSQL 15 sets only the listed columns"
    );
    let fk_state = orders
        .constraints
        .iter()
        .find(|c| matches!(c.kind, ConstraintKind::ForeignKey(_)));
    assert_eq!(
        fk_state.unwrap().state.deferral,
        migrate_core::Deferral::Deferred
    );
    assert_eq!(
        orders.columns[2].data_type,
        LogicalType::Decimal {
            precision: 12,
            scale: 2
        }
    );

    let measures = table(&catalog, "measures");
    assert_eq!(
        measures.statistics.as_ref().unwrap().row_count,
        Some(500),
        "a partitioned table counts its partitions' rows"
    );
}

/// Identity and serial columns keep their sequence's bounds and CYCLE; one that cycles and has
/// given its last value starts again from its first, as the source's next insert does.
#[tokio::test(flavor = "multi_thread")]
async fn discovery_reads_sequence_bounds_and_cycle() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_discover_bounds");
    db.sql(
        "CREATE TABLE lap (id int GENERATED ALWAYS AS IDENTITY
                               (START WITH 5 INCREMENT BY 5 MINVALUE 5 MAXVALUE 12 CYCLE), v text);
         CREATE SEQUENCE down_seq AS integer INCREMENT BY -1 MINVALUE -3 MAXVALUE -1;
         CREATE TABLE down (id int DEFAULT nextval('down_seq') NOT NULL);
         CREATE TABLE plain (id bigserial);
         INSERT INTO lap (v) VALUES ('a'), ('b');
         SELECT nextval('down_seq');",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let identity = |name: &str| table(&catalog, name).columns[0].identity;
    assert_eq!(
        identity("lap"),
        Some(Identity {
            start: 5,
            increment: 5,
            always: true,
            min_value: Some(5),
            max_value: Some(12),
            cycle: true,
        }),
        "5 and 10 given: 15 is past MAXVALUE, so the next is MINVALUE"
    );
    assert_eq!(
        identity("down"),
        Some(Identity {
            start: -2,
            increment: -1,
            always: false,
            min_value: Some(-3),
            max_value: Some(-1),
            cycle: false,
        })
    );
    assert_eq!(
        identity("plain"),
        Some(Identity {
            min_value: Some(1),
            max_value: Some(i64::MAX.into()),
            ..Identity::default()
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn key_range_chunks_cover_a_million_rows_exactly_once() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_chunks");
    db.sql(
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000000) g;
         ALTER TABLE big ADD PRIMARY KEY (id);
         ANALYZE big;
         -- Stale statistics: rows beyond the analyzed range must still be read.
         INSERT INTO big SELECT g, 'late' FROM generate_series(2000001, 2000100) g;
         INSERT INTO big VALUES (-5, 'negative');",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let big = table(&catalog, "big");
    let chunks = source.plan_chunks(big, 100_000).await.unwrap();
    assert!(chunks.len() >= 10, "{} chunks", chunks.len());
    assert!(chunks
        .iter()
        .all(|c| matches!(c.bound, ChunkBound::KeyRange { .. })));
    assert_eq!(
        one(
            &db,
            &format!("SELECT {} FROM big", rows_not_in_exactly_one_chunk(&chunks))
        ),
        "0"
    );
    let mut total = 0;
    for chunk in &chunks {
        let count = one(
            &db,
            &format!("SELECT count(*) FROM big WHERE {}", chunk_predicate(chunk)),
        );
        total += count.parse::<u64>().unwrap();
    }
    assert_eq!(total, 1_000_101);
    // Reading a few chunks yields their rows.
    let read: usize = read_all(&source, None, big, &chunks[0], 30_000)
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    let expected = one(
        &db,
        &format!(
            "SELECT count(*) FROM big WHERE {}",
            chunk_predicate(&chunks[0])
        ),
    );
    assert_eq!(read.to_string(), expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_without_a_key_are_chunked_by_pages() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_ctid");
    db.sql(
        "CREATE TABLE heap AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 200000) g;
         ANALYZE heap;
         CREATE TABLE tiny (a text); INSERT INTO tiny VALUES ('x');",
    )
    .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let heap = table(&catalog, "heap");
    let chunks = source.plan_chunks(heap, 20_000).await.unwrap();
    assert!(chunks.len() >= 8, "{chunks:?}");
    assert!(matches!(
        chunks.last().unwrap().bound,
        ChunkBound::PageRange { to: None, .. }
    ));
    assert_eq!(
        one(
            &db,
            &format!(
                "SELECT {} FROM heap",
                rows_not_in_exactly_one_chunk(&chunks)
            )
        ),
        "0"
    );
    let mut total = 0;
    for chunk in &chunks {
        for batch in read_all(&source, None, heap, chunk, 7_000).await.unwrap() {
            total += batch.num_rows();
        }
    }
    assert_eq!(total, 200_000);
    let tiny = table(&catalog, "tiny");
    assert_eq!(
        source.plan_chunks(tiny, 20_000).await.unwrap(),
        vec![whole()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn readers_of_a_snapshot_do_not_see_later_rows() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("pg_snapshot");
    db.sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100);")
        .unwrap();
    let source = connect(db.url()).await;
    let catalog = source.discover(None).await.unwrap();
    let t = table(&catalog, "t");
    let snapshot = Snapshot::export(&source).await.unwrap();
    db.sql("INSERT INTO t SELECT generate_series(101, 150); DELETE FROM t WHERE id <= 10;")
        .unwrap();
    // Two readers on their own connections, as parallel workers would be.
    let reader = connect(db.url()).await;
    let count = |batches: Vec<arrow_array::RecordBatch>| -> usize {
        batches.iter().map(|b| b.num_rows()).sum()
    };
    let seen = count(
        read_all(&reader, Some(snapshot.id()), t, &whole(), 1000)
            .await
            .unwrap(),
    );
    assert_eq!(seen, 100, "the snapshot's rows, not the later ones");
    let seen_again = count(
        read_all(&source, Some(snapshot.id()), t, &whole(), 1000)
            .await
            .unwrap(),
    );
    assert_eq!(seen_again, 100);
    let now = count(read_all(&source, None, t, &whole(), 1000).await.unwrap());
    assert_eq!(now, 140);
    let id = snapshot.id().clone();
    snapshot.close().await.unwrap();
    // After the exporter is gone the id can't be imported: an error, never a silent new view.
    assert!(read_all(&reader, Some(&id), t, &whole(), 1000)
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn checksums_match_equal_data_and_catch_one_changed_value() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let setup = "CREATE TABLE t (id int PRIMARY KEY, a text, b numeric(10,2), c timestamptz, d int[]);
        INSERT INTO t SELECT g, CASE WHEN g % 7 = 0 THEN NULL WHEN g % 5 = 0 THEN '' ELSE 'v' || g END,
               g / 3.0, timestamptz '2024-01-01' + g * interval '1 minute', ARRAY[g, NULL]
          FROM generate_series(1, 5000) g;
        ANALYZE t;";
    let one_db = pg.create_database("pg_checksum_a");
    let two_db = pg.create_database("pg_checksum_b");
    one_db.sql(setup).unwrap();
    two_db.sql(setup).unwrap();
    let one_source = connect(one_db.url()).await;
    let two_source = connect(two_db.url()).await;
    let catalog = one_source.discover(None).await.unwrap();
    let t = table(&catalog, "t");
    let chunks = one_source.plan_chunks(t, 1000).await.unwrap();
    assert!(chunks.len() > 1);
    let mut sum: Option<migrate_source_postgres::ChunkChecksum> = None;
    for chunk in &chunks {
        let a = one_source.checksum(t, chunk).await.unwrap();
        let b = two_source.checksum(t, chunk).await.unwrap();
        assert_eq!(a, b, "chunk {}", chunk.index);
        sum = Some(match sum {
            None => a,
            Some(s) => s.combine(&a),
        });
    }
    let whole_a = one_source.checksum(t, &whole()).await.unwrap();
    assert_eq!(whole_a.rows, 5000);
    assert_eq!(Some(whole_a), sum, "chunk checksums add up to the table's");

    // NULL and '' differ; so does one changed digit.
    two_db.sql("UPDATE t SET a = '' WHERE id = 7").unwrap();
    assert_ne!(two_source.checksum(t, &whole()).await.unwrap(), whole_a);
    two_db
        .sql("UPDATE t SET a = NULL WHERE id = 7; UPDATE t SET b = b + 0.01 WHERE id = 4000")
        .unwrap();
    let changed = two_source.checksum(t, &whole()).await.unwrap();
    assert_eq!(changed.rows, 5000);
    assert_ne!(changed, whole_a);

    // Row hashes name the rows that differ: 4000 (b) only, since 7 is back to NULL.
    let (one, two) = (hashes(&one_source, t).await, hashes(&two_source, t).await);
    assert_eq!(one.len(), 10);
    let keys: Vec<&str> = one.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(
        keys[..3],
        ["\"3991\"", "\"3992\"", "\"3993\""],
        "ordered by the key text"
    );
    let differing: Vec<&str> = one
        .iter()
        .zip(&two)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.key.as_str())
        .collect();
    assert_eq!(differing, ["\"4000\""]);
}

/// The row hashes of rows 3991 to 4000 of `t`, every column, keyed by `id`.
async fn hashes(
    source: &PostgresSource,
    t: &migrate_core::Table,
) -> Vec<migrate_source::KeyedHash> {
    let key = migrate_source_postgres::ChecksumColumn::new("id", LogicalType::Integer);
    let columns = migrate_source_postgres::checksum_columns(source.client(), t)
        .await
        .unwrap();
    migrate_source_postgres::row_hashes(
        source.client(),
        "t",
        &[key],
        &columns,
        "id > 3990 AND id <= 4000",
    )
    .try_collect()
    .await
    .unwrap()
}
