//! The preflight's judgement of what a publication can carry, against the real server: a
//! DEFERRABLE primary key is no replica identity (PostgreSQL can't use one), a partitioned
//! table's partitions are judged too, and an UNLOGGED table can't be published at all. A full
//! load alone (no publication) is not blocked by either.

use migrate_core::{CheckStatus, PreflightCheck, PreflightOptions, ReplicationMode};
use migrate_source_postgres::{preflight, PostgresSource};

fn find<'a>(checks: &'a [PreflightCheck], code: &str, object: &str) -> &'a PreflightCheck {
    checks
        .iter()
        .find(|c| c.code == code && c.object == object)
        .unwrap_or_else(|| panic!("no {code} check for {object} in {checks:#?}"))
}

#[test]
fn deferrable_keys_and_unlogged_tables_block_capture_only() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("preflight_publishable");
    db.sql(
        "CREATE TABLE keyed (id int PRIMARY KEY);
         CREATE TABLE dc (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
         CREATE TABLE dc_full (id int PRIMARY KEY DEFERRABLE, v text);
         ALTER TABLE dc_full REPLICA IDENTITY FULL;
         CREATE UNLOGGED TABLE unl (id int PRIMARY KEY);
         CREATE TABLE parted (id int PRIMARY KEY DEFERRABLE, v int) PARTITION BY RANGE (id);
         CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);",
    )
    .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let source = PostgresSource::connect(db.url()).await.unwrap();
            let catalog = source.discover(None).await.unwrap();
            let cdc = PreflightOptions {
                mode: ReplicationMode::FullLoadAndCdc,
                max_value_bytes: None,
            };
            let checks = preflight(&source, &catalog, &cdc).await.unwrap();
            let deferrable = find(&checks, "preflight.replica-identity", "public.dc");
            assert_eq!(deferrable.status, CheckStatus::Blocker);
            assert!(deferrable.message.contains("DEFERRABLE"), "{deferrable:?}");
            assert!(
                deferrable.fix.contains("REPLICA IDENTITY FULL"),
                "{deferrable:?}"
            );
            let partition = find(
                &checks,
                "preflight.replica-identity",
                "partition public.parted_1 of public.parted",
            );
            assert_eq!(partition.status, CheckStatus::Blocker);
            // FULL identifies rows whatever the key: a warning about WAL volume only.
            assert_eq!(
                find(&checks, "preflight.replica-identity", "public.dc_full").status,
                CheckStatus::Warning
            );
            let unlogged = find(&checks, "preflight.unlogged", "public.unl");
            assert_eq!(unlogged.status, CheckStatus::Blocker);
            assert!(unlogged.fix.contains("SET LOGGED"), "{unlogged:?}");
            assert!(!checks
                .iter()
                .any(|c| c.object == "public.keyed" && c.status != CheckStatus::Passed));

            let full = PreflightOptions {
                mode: ReplicationMode::FullLoad,
                max_value_bytes: None,
            };
            let checks = preflight(&source, &catalog, &full).await.unwrap();
            assert!(
                !checks.iter().any(|c| c.status == CheckStatus::Blocker),
                "{checks:#?}"
            );
        });
}
