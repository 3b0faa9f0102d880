//! Against a real Oracle database (feature `oracle` only): discovery, the full load at one SCN
//! and a LogMiner round trip. Needs the setup of docs/source-oracle.md and
//!
//! - `MIGRATE_ORACLE_URL`: the application schema's PDB (`oracle://migrate:migrate@127.0.0.1:51521/FREEPDB1`);
//! - `MIGRATE_ORACLE_LOGMINER_URL`: the root container's common user
//!   (`oracle://c%23%23migrate:migrate@127.0.0.1:51521/FREE`), and `MIGRATE_ORACLE_PDB` (`FREEPDB1`).
//!
//! Built with the feature, these tests fail (never skip) when the variables are missing. No
//! Oracle database runs where migrate is developed: they have not been run yet.
#![cfg(feature = "oracle")]

use arrow_array::{Array, Int64Array, StringArray};
use migrate_source::{ChangeEvent, ChangeStream};
use migrate_source_oracle::connect::parse_url;
use migrate_source_oracle::{OracleSource, StreamOptions};
use std::time::{Duration, Instant};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: see docs/source-oracle.md (these tests need a live Oracle)")
    })
}

fn sql(url: &str, statements: &[&str]) {
    let params = parse_url(url, None).unwrap();
    let conn = oracle::Connection::connect(&params.user, &params.password, &params.connect_string)
        .unwrap();
    for statement in statements {
        conn.execute(statement, &[])
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    conn.commit().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn full_load_then_logminer_delivers_exactly_the_later_transactions() {
    let url = env("MIGRATE_ORACLE_URL");
    let table = format!("CDC_{}", std::process::id());
    let owner = parse_url(&url, None).unwrap().user.to_ascii_uppercase();
    sql(
        &url,
        &[
            &format!("CREATE TABLE {table} (ID NUMBER(10) PRIMARY KEY, NOTE VARCHAR2(100), AMOUNT NUMBER(12,2), AT DATE)"),
            &format!("ALTER TABLE {table} ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS"),
            &format!("INSERT INTO {table} VALUES (1, 'before', 1.5, DATE '2024-01-15')"),
        ],
    );
    let options = StreamOptions {
        logminer_url: Some(env("MIGRATE_ORACLE_LOGMINER_URL")),
        pdb: Some(env("MIGRATE_ORACLE_PDB")),
        poll_interval: Duration::from_millis(200),
        ..StreamOptions::default()
    };
    let source = OracleSource::connect(&url, options).await.unwrap();
    let catalog = source
        .discover(Some(std::slice::from_ref(&owner)))
        .await
        .unwrap();
    let t = catalog
        .tables
        .iter()
        .find(|t| t.name.name.value == table)
        .unwrap_or_else(|| panic!("{table} not discovered"))
        .clone();
    assert_eq!(migrate_source::key_columns(&t), ["ID"]);
    let one = migrate_core::Catalog {
        tables: vec![t.clone()],
        ..Default::default()
    };
    let options = migrate_core::PreflightOptions {
        mode: migrate_core::ReplicationMode::FullLoadAndCdc,
        max_value_bytes: Some(65_535),
    };
    let checks = source.preflight(&one, &options).await.unwrap();
    assert!(
        checks
            .iter()
            .all(|c| c.status == migrate_core::CheckStatus::Passed),
        "{checks:#?}"
    );
    let start = source.full_load_position().await.unwrap();

    // After the full load's SCN: an insert, a key change, a delete, and a rolled-back insert.
    sql(
        &url,
        &[
            &format!("INSERT INTO {table} VALUES (2, 'it''s', -0.01, NULL)"),
            &format!("UPDATE {table} SET ID = 10, NOTE = '' WHERE ID = 1"),
            &format!("DELETE FROM {table} WHERE ID = 2"),
        ],
    );
    sql(
        &url,
        &[
            &format!("INSERT INTO {table} VALUES (3, 'rolled back', 0, NULL)"),
            "ROLLBACK",
        ],
    );

    // The full load sees the one row of before.
    let mut batches = source.read_as_of(&t, start.scn, 100);
    let batch = batches.recv().await.unwrap().unwrap();
    assert_eq!(batch.num_rows(), 1);

    let mut changes = source
        .open_changes(std::slice::from_ref(&t), &start.to_position())
        .await
        .unwrap();
    let mut ops = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while ops.len() < 3 {
        assert!(Instant::now() < deadline, "only {ops:?} after 2 minutes");
        match changes.next_event().await.unwrap().unwrap() {
            ChangeEvent::Rows { changes: batch, .. } => {
                let op = batch
                    .column_by_name("__op")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap();
                for i in 0..op.len() {
                    ops.push_str(op.value(i));
                }
                let ids = batch
                    .column_by_name("ID")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap();
                assert!(
                    (0..ids.len()).all(|i| ids.is_null(i) || ids.value(i) != 3),
                    "a rolled-back row was delivered"
                );
            }
            ChangeEvent::Commit { position, .. } => {
                assert!(
                    migrate_source_oracle::ScnPosition::from_position(&position)
                        .unwrap()
                        .scn
                        > start.scn
                );
            }
            _ => {}
        }
    }
    assert_eq!(ops, "IUD");
    sql(&url, &[&format!("DROP TABLE {table} PURGE")]);
}

/// What `migrate assess --source oracle://` reads: statistics, sizes with LOB bytes apart, the
/// objects of the inventory and the preflight.
#[tokio::test(flavor = "multi_thread")]
async fn discovery_for_assess_reads_statistics_sizes_objects_and_preflight() {
    let url = env("MIGRATE_ORACLE_URL");
    let suffix = std::process::id();
    let (table, view, sequence, procedure) = (
        format!("DOCS_{suffix}"),
        format!("DOCS_V_{suffix}"),
        format!("DOCS_SEQ_{suffix}"),
        format!("DOCS_P_{suffix}"),
    );
    let owner = parse_url(&url, None).unwrap().user.to_ascii_uppercase();
    sql(
        &url,
        &[
            &format!("CREATE TABLE {table} (ID NUMBER(10) PRIMARY KEY, BODY CLOB, NOTE VARCHAR2(20) CHECK (NOTE <> 'x'))"),
            // 40 values of 64 KiB: stored in the LOB segment, not in the row.
            &format!("BEGIN FOR i IN 1 .. 40 LOOP INSERT INTO {table} VALUES (i, RPAD(TO_CLOB('x'), 65536, 'y'), NULL); END LOOP; END;"),
            &format!("BEGIN DBMS_STATS.GATHER_TABLE_STATS(USER, '{table}'); END;"),
            &format!("CREATE VIEW {view} AS SELECT ID FROM {table}"),
            &format!("CREATE SEQUENCE {sequence} START WITH 5"),
            &format!("CREATE PROCEDURE {procedure} IS BEGIN EXECUTE IMMEDIATE 'SELECT 1 FROM DUAL'; END;"),
        ],
    );
    let source = OracleSource::connect(&url, StreamOptions::default())
        .await
        .unwrap();
    let owners = [owner];
    let mut catalog = source.discover(Some(&owners)).await.unwrap();
    source
        .discover_objects(Some(&owners), &mut catalog)
        .await
        .unwrap();
    let t = catalog
        .tables
        .iter()
        .find(|t| t.name.name.value == table)
        .unwrap();
    let stats = t.statistics.as_ref().unwrap();
    assert_eq!(stats.row_count, Some(40));
    let (size, lob) = (stats.size_bytes.unwrap(), stats.lob_bytes.unwrap());
    assert!(lob >= 40 * 65536 && lob <= size, "size {size}, LOB {lob}");
    assert_eq!(
        t.columns[0].statistics.as_ref().unwrap().distinct_count,
        Some(40)
    );
    assert!(t.constraints.iter().any(
        |c| matches!(&c.kind, migrate_core::ConstraintKind::Check(text) if text.contains("'x'"))
    ));
    assert!(catalog.views.iter().any(|v| v.name.name.value == view));
    assert!(catalog
        .sequences
        .iter()
        .any(|s| s.name.name.value == sequence && s.start >= 5));
    assert!(catalog.routines.iter().any(|r| r
        .name
        .as_ref()
        .is_some_and(|n| n.name.value == procedure)
        && r.text.contains("EXECUTE IMMEDIATE")));
    let options = migrate_core::PreflightOptions {
        mode: migrate_core::ReplicationMode::FullLoad,
        max_value_bytes: Some(65_535),
    };
    let checks = source.preflight(&catalog, &options).await.unwrap();
    let body = checks
        .iter()
        .find(|c| {
            c.code == "preflight.value-truncated" && c.object.ends_with(&format!("{table}.BODY"))
        })
        .unwrap_or_else(|| panic!("{checks:#?}"));
    assert_eq!(body.status, migrate_core::CheckStatus::Blocker, "{body:?}");
    sql(
        &url,
        &[
            &format!("DROP VIEW {view}"),
            &format!("DROP SEQUENCE {sequence}"),
            &format!("DROP PROCEDURE {procedure}"),
            &format!("DROP TABLE {table} PURGE"),
        ],
    );
}
