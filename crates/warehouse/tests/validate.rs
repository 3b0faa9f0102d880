//! PostgreSQL -> PostgreSQL validation through the real path: every type the PostgreSQL source
//! reads is read into Arrow, loaded into the table the converter creates, and the checksums and
//! row hashes computed in each database (`migrate_checksum`) agree, column by column and whole;
//! one changed value in the target shows up in both.

use futures::TryStreamExt;
use migrate_checksum::{row_hashes_sql, session_settings, ChecksumColumn, Engine, JsonText};
use migrate_core::{SourceDialect, Table};
use migrate_source::{Chunk, KeyedHash};
use migrate_source_postgres::{checksum_columns, row_hashes, table_sql_name, PostgresSource};
use migrate_warehouse::{PostgresWarehouse, PrepMode};

/// The table of the source's type test (crates/source-postgres/tests/types.rs), every type it
/// reads, without the values the target can't hold (infinite and BC-era timestamps beyond what
/// the read path carries are covered by the source's own tests).
const SETUP: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE every (
  id int PRIMARY KEY,
  i2 int2, i4 int4, i8 int8,
  n numeric, d numeric(10,2), d50 numeric(50,5),
  f4 real, f8 double precision,
  t text, vc varchar(10), c char(3),
  b bytea,
  dt date, tm time, ttz timetz, ts timestamp, tstz timestamptz,
  iv interval, j json, jb jsonb, x xml, u uuid,
  ip inet, cd cidr, mac macaddr, bt bit(4), vb varbit,
  arr int[], tarr text[], m mood, dom posint, mo money, o oid, bo bool
);
INSERT INTO every VALUES
 (1, 32767, 2147483647, 9223372036854775807,
  '123456789012345678901234567890.123456789', 12345678.90,
  '123456789012345678901234567890123456789012345.12345',
  '-0', 'NaN', '', 'héllo', 'ab', '\x00ff00'::bytea,
  '0044-03-15 BC', '23:59:59.999999', '12:34:56.789+05:30', '2024-02-29 12:34:56.123456',
  '2024-01-01 00:00:00.000001+02', '1 year 2 months 3 days 04:05:06.789',
  '{"a": [1, 2.50], "a": 3}', '{"b":1, "a":2}', '<a>1</a>', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  '192.168.0.1', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'101',
  '{{1,NULL},{3,4}}', '{"a,b",NULL,"😀"}', 'happy', 7, 12.34, 4294967295, true),
 (2, -32768, -2147483648, -9223372036854775808, 'NaN', -0.01, NULL,
  'Infinity', '-Infinity', '😀 𝄞 ñ 中', NULL, NULL, '',
  '12345-06-07', '00:00:00', '00:00:00-03', '1000-01-01 00:00:00 BC',
  '294246-12-31 23:59:59.999999+00', '-1 mons +2 days -00:00:00.5',
  'null', '[]', NULL, NULL, '::ffff:1.2.3.4', NULL, NULL, NULL, NULL,
  '{}', '{NULL}', NULL, NULL, -0.01, 0, false),
 (3, NULL, NULL, NULL, '-Infinity', NULL, NULL, 'NaN', '-0', NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 0, 0, 0, '0.000000000000000000001', 0, 0, 1e-45, 5e-324, 'tab	and "quotes"', 'a,b', ' ',
  '\x'::bytea, '2000-01-01', '24:00:00', '23:59:59.999999-15:59', '2000-01-01 00:00:00',
  '1970-01-01 00:00:00+00', '-178000000 years', '{}', '{"k": {"n": null}}', '', '00000000-0000-0000-0000-000000000000',
  '0.0.0.0', '::/0', 'ff:ff:ff:ff:ff:ff', B'0000', B'', '{-1}', '{""}', 'sad', 1, 0, 1, false);
"#;

async fn hashes(
    client: &tokio_postgres::Client,
    from: &str,
    key: &[ChecksumColumn],
    columns: &[ChecksumColumn],
) -> Vec<KeyedHash> {
    let sql = row_hashes_sql(Engine::Postgres, from, key, columns, "");
    client
        .query(&sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .iter()
        .map(|r| KeyedHash {
            key: r.get(0),
            hash: r.get(1),
        })
        .collect()
}

fn target_columns(table: &Table) -> Vec<ChecksumColumn> {
    table
        .columns
        .iter()
        .map(|c| {
            ChecksumColumn::new(
                migrate_source_postgres::quote_ident(&c.name.value.to_lowercase()),
                c.data_type.clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_postgres_type_checksums_like_its_loaded_copy() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let source_db = pg.create_database("validate_source");
    let target_db = pg.create_database("validate_target");
    source_db.sql(SETUP).unwrap();
    let source = PostgresSource::connect(source_db.url()).await.unwrap();
    let catalog = source.discover(None).await.unwrap();
    let table = catalog
        .tables
        .iter()
        .find(|t| t.name.name.value == "every")
        .unwrap();
    let warehouse = PostgresWarehouse::connect(target_db.url()).await.unwrap();
    warehouse
        .prepare(table, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    let batches = source.read_chunk(None, table, &Chunk::whole(), 3);
    let outcome = warehouse
        .load_chunk("validate", table, 0, batches)
        .await
        .unwrap();
    assert_eq!((outcome.rows, outcome.skipped_already_loaded), (4, false));

    // Column by column: the key text holds the column's canonical text, so a failure shows it.
    let (target, connection) = tokio_postgres::connect(target_db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    target
        .batch_execute(session_settings(Engine::Postgres))
        .await
        .unwrap();
    let source_columns = checksum_columns(source.client(), table).await.unwrap();
    let target_columns = target_columns(table);
    let from = table_sql_name(table);
    let mut failures = Vec::new();
    for (i, column) in table.columns.iter().enumerate() {
        let key = |columns: &[ChecksumColumn]| vec![columns[0].clone(), columns[i].clone()];
        let one = std::slice::from_ref(&source_columns[i]);
        let on_source: Vec<KeyedHash> =
            row_hashes(source.client(), &from, &key(&source_columns), one, "")
                .try_collect()
                .await
                .unwrap();
        let on_target = hashes(
            &target,
            "every",
            &key(&target_columns),
            std::slice::from_ref(&target_columns[i]),
        )
        .await;
        if on_source != on_target {
            failures.push(format!(
                "{} ({} -> {}):\n  source: {on_source:?}\n  target: {on_target:?}",
                column.name.value, column.source_type, column.data_type
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Whole rows: checksums and row hashes through each crate's API.
    let on_source = source.checksum(table, &Chunk::whole()).await.unwrap();
    assert_eq!(on_source.rows, 4);
    assert_eq!(
        on_source,
        warehouse
            .chunk_checksum(table, "", JsonText::Jsonb)
            .await
            .unwrap()
    );
    let source_hashes: Vec<KeyedHash> = row_hashes(
        source.client(),
        &from,
        &source_columns[..1],
        &source_columns,
        "",
    )
    .try_collect()
    .await
    .unwrap();
    assert_eq!(
        source_hashes,
        warehouse
            .row_hashes(table, &["id"], "", JsonText::Jsonb)
            .await
            .unwrap()
    );

    // One value changed in the target: the checksum and exactly that row's hash differ.
    target_db
        .sql("UPDATE every SET tstz = tstz + interval '1 microsecond' WHERE id = 1")
        .unwrap();
    assert_ne!(
        on_source,
        warehouse
            .chunk_checksum(table, "", JsonText::Jsonb)
            .await
            .unwrap()
    );
    let changed = warehouse
        .row_hashes(table, &["id"], "", JsonText::Jsonb)
        .await
        .unwrap();
    let differing: Vec<&str> = source_hashes
        .iter()
        .zip(&changed)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.key.as_str())
        .collect();
    assert_eq!(differing, ["\"1\""]);
}

/// JSON from MariaDB is hashed through a function the validation session defines in `pg_temp`:
/// a target user without the TEMPORARY privilege gets an error that says so, and the `jsonb`
/// form, which needs no function, still works for that user.
#[tokio::test(flavor = "multi_thread")]
async fn normalized_json_without_the_temporary_privilege_is_a_clear_error() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("json_no_temp");
    let role = format!("{}_r", db.name());
    db.sql(&format!(
        "CREATE TABLE docs (id int PRIMARY KEY, j jsonb);
         INSERT INTO docs VALUES (1, '{{\"b\": 1, \"a\": 2.50}}');
         REVOKE TEMPORARY ON DATABASE \"{db}\" FROM PUBLIC;
         CREATE ROLE \"{role}\" LOGIN;
         GRANT SELECT ON docs TO \"{role}\";",
        db = db.name()
    ))
    .unwrap();
    let source = PostgresSource::connect(db.url()).await.unwrap();
    let catalog = source.discover(None).await.unwrap();
    let table = catalog
        .tables
        .iter()
        .find(|t| t.name.name.value == "docs")
        .unwrap();

    // The owner (a superuser here) may create temporary objects.
    let owner = PostgresWarehouse::connect(db.url()).await.unwrap();
    let normalized = owner
        .chunk_checksum(table, "", JsonText::Normalized)
        .await
        .unwrap();
    assert_eq!(normalized.rows, 1);
    assert_ne!(
        normalized,
        owner
            .chunk_checksum(table, "", JsonText::Jsonb)
            .await
            .unwrap()
    );

    // What a target user needs besides: the warehouse's own schema (made by the owner's
    // connection above).
    db.sql(&format!(
        "GRANT CREATE ON DATABASE \"{db}\" TO \"{role}\";
         GRANT USAGE, CREATE ON SCHEMA migrate TO \"{role}\";",
        db = db.name()
    ))
    .unwrap();
    let as_role = db.url().replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(as_role, db.url());
    let reader = PostgresWarehouse::connect(&as_role).await.unwrap();
    let error = reader
        .chunk_checksum(table, "", JsonText::Normalized)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("TEMPORARY privilege"), "{error}");
    assert!(error.contains("docs"), "{error}");
    let error = reader
        .row_hashes(table, &["id"], "", JsonText::Normalized)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("TEMPORARY privilege"), "{error}");
    assert_eq!(
        reader
            .chunk_checksum(table, "", JsonText::Jsonb)
            .await
            .unwrap(),
        owner
            .chunk_checksum(table, "", JsonText::Jsonb)
            .await
            .unwrap()
    );
    drop(reader);
    db.sql(&format!("DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\";"))
        .unwrap();
}
