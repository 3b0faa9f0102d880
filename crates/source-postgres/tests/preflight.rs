//! Replication preflight and object discovery against the real PostgreSQL server: each check
//! compared with the server's own state, and failing states built in a test database (tables
//! without keys, replica identities, long values, a role without privileges).

use migrate_core::{
    CheckStatus, Ident, PreflightCheck, PreflightOptions, ReplicationMode, RoutineKind,
};
use migrate_source_postgres::{preflight, PostgresSource};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn find<'a>(checks: &'a [PreflightCheck], code: &str, object: &str) -> &'a PreflightCheck {
    checks
        .iter()
        .find(|c| c.code == code && c.object == object)
        .unwrap_or_else(|| panic!("no {code} check for {object} in {checks:#?}"))
}

const CDC: PreflightOptions = PreflightOptions {
    mode: ReplicationMode::FullLoadAndCdc,
    max_value_bytes: Some(100),
};

#[test]
fn checks_follow_server_state_and_table_definitions() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("preflight_pg");
    db.sql(
        "CREATE TABLE keyed (id int PRIMARY KEY, note text);
         CREATE TABLE unkeyed (x int, doc text);
         CREATE TABLE uniq (code text NOT NULL UNIQUE, v int);
         CREATE TABLE nothing (id int PRIMARY KEY); ALTER TABLE nothing REPLICA IDENTITY NOTHING;
         CREATE TABLE full_identity (x int); ALTER TABLE full_identity REPLICA IDENTITY FULL;
         INSERT INTO keyed VALUES (1, repeat('x', 150)), (2, 'short');
         INSERT INTO unkeyed VALUES (1, 'tiny');",
    )
    .unwrap();
    let settings = pg
        .sql("SELECT current_setting('wal_level') || ' ' || (current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots))")
        .unwrap();
    let mut settings = settings.split_whitespace();
    let (wal_level, free_slots) = (
        settings.next().unwrap().to_string(),
        settings.next().unwrap().parse::<i64>().unwrap(),
    );
    runtime().block_on(async {
        let source = PostgresSource::connect(db.url()).await.unwrap();
        let catalog = source.discover(None).await.unwrap();
        let checks = preflight(&source, &catalog, &CDC).await.unwrap();
        // Server settings: as the server reports them.
        let wal = find(&checks, "preflight.wal-level", "wal_level");
        assert_eq!(
            wal.status == CheckStatus::Passed,
            wal_level == "logical",
            "{wal:?}"
        );
        let slots = find(
            &checks,
            "preflight.replication-slots",
            "max_replication_slots",
        );
        assert_eq!(
            slots.status == CheckStatus::Passed,
            free_slots > 0,
            "{slots:?}"
        );
        // No cap on the WAL a slot holds (the servers' default, -1): a warning.
        let wal_limit = pg.sql("SHOW max_slot_wal_keep_size").unwrap();
        let limit = find(
            &checks,
            "preflight.slot-wal-limit",
            "max_slot_wal_keep_size",
        );
        assert_eq!(
            limit.status == CheckStatus::Warning,
            wal_limit.trim() == "-1",
            "{limit:?}"
        );
        // The test user is the superuser.
        assert_eq!(
            find(&checks, "preflight.replication-privilege", "user postgres").status,
            CheckStatus::Passed
        );
        // Keys: a unique key on NOT NULL columns is a row identity; CDC blocks without one.
        assert_eq!(
            find(&checks, "preflight.no-key", "public.unkeyed").status,
            CheckStatus::Blocker
        );
        assert_eq!(
            find(&checks, "preflight.no-key", "public.full_identity").status,
            CheckStatus::Blocker
        );
        assert!(!checks
            .iter()
            .any(|c| c.code == "preflight.no-key" && c.object == "public.uniq"));
        assert_eq!(
            find(&checks, "preflight.lob-without-key", "public.unkeyed").status,
            CheckStatus::Blocker
        );
        // Replica identities.
        assert_eq!(
            find(&checks, "preflight.replica-identity", "public.nothing").status,
            CheckStatus::Blocker
        );
        assert_eq!(
            find(
                &checks,
                "preflight.replica-identity",
                "public.full_identity"
            )
            .status,
            CheckStatus::Warning
        );
        // DEFAULT identity with only a unique key: updates fail once published.
        assert_eq!(
            find(&checks, "preflight.replica-identity", "public.uniq").status,
            CheckStatus::Blocker
        );
        // Values measured in the table: 150 bytes against a 100-byte limit.
        assert_eq!(
            find(&checks, "preflight.value-truncated", "public.keyed.note").status,
            CheckStatus::Blocker
        );
        let short = find(&checks, "preflight.value-truncated", "public.unkeyed.doc");
        assert_eq!(short.status, CheckStatus::Passed);
        assert!(short.message.contains("4 bytes"), "{short:?}");

        // Full load only: no server checks, and a missing key is a warning.
        let full = PreflightOptions {
            mode: ReplicationMode::FullLoad,
            max_value_bytes: None,
        };
        let checks = preflight(&source, &catalog, &full).await.unwrap();
        assert!(!checks.iter().any(|c| c.code == "preflight.wal-level"
            || c.code == "preflight.replica-identity"
            || c.code == "preflight.value-truncated"));
        assert_eq!(
            find(&checks, "preflight.no-key", "public.unkeyed").status,
            CheckStatus::Warning
        );
    });
}

#[test]
fn a_role_without_privileges_is_blocked() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("preflight_role");
    let role = migrate_testkit::unique_name("assess_ro");
    db.sql(&format!(
        "CREATE TABLE granted (id int PRIMARY KEY); CREATE TABLE hidden (id int PRIMARY KEY);
         CREATE ROLE {role} LOGIN PASSWORD 'pw'; GRANT SELECT ON granted TO {role};"
    ))
    .unwrap();
    let url = db.url().replacen("postgres@", &format!("{role}:pw@"), 1);
    let result = runtime().block_on(async {
        let admin = PostgresSource::connect(db.url()).await.unwrap();
        let catalog = admin.discover(None).await.unwrap();
        let source = PostgresSource::connect(&url).await.unwrap();
        preflight(&source, &catalog, &CDC).await
    });
    db.sql(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .unwrap();
    let checks = result.unwrap();
    let user = format!("user {role}");
    assert_eq!(
        find(&checks, "preflight.replication-privilege", &user).status,
        CheckStatus::Blocker
    );
    let database = format!("database {}", db.name());
    assert_eq!(
        find(&checks, "preflight.publication-privilege", &database).status,
        CheckStatus::Blocker
    );
    let hidden = find(&checks, "preflight.select-privilege", "public.hidden");
    assert_eq!(hidden.status, CheckStatus::Blocker);
    assert!(
        hidden.fix.contains("GRANT SELECT ON \"public\".\"hidden\""),
        "{hidden:?}"
    );
    assert!(!checks
        .iter()
        .any(|c| c.code == "preflight.select-privilege" && c.object == "public.granted"));
    // Not the owner: it can't publish either table.
    assert_eq!(
        find(&checks, "preflight.publication-privilege", "public.granted").status,
        CheckStatus::Blocker
    );
}

#[test]
fn objects_beyond_tables_are_discovered() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("objects_pg");
    db.sql(
        "CREATE TABLE t (id int PRIMARY KEY, name text, note text);
         CREATE INDEX t_name ON t (lower(name)) WHERE id > 0;
         CREATE INDEX t_lower_c ON t ((lower(name)) COLLATE \"C\", (id + 1) DESC);
         CREATE INDEX t_sorted ON t (name text_pattern_ops DESC NULLS LAST, id NULLS FIRST) INCLUDE (note);
         CREATE UNIQUE INDEX t_named ON t (name COLLATE \"C\" DESC) INCLUDE (id, note) NULLS NOT DISTINCT;
         CREATE VIEW v WITH (security_barrier) AS SELECT id FROM t WHERE id > 0 WITH LOCAL CHECK OPTION;
         CREATE MATERIALIZED VIEW mv AS SELECT count(*) FROM t;
         CREATE SEQUENCE s START 5 INCREMENT 2;
         CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
         CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$;
         CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
         CREATE TABLE parted (id int, d date) PARTITION BY RANGE (d);
         CREATE TABLE parted_2020 PARTITION OF parted FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE parted_2021 PARTITION OF parted FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');",
    )
    .unwrap();
    runtime().block_on(async {
        let source = PostgresSource::connect(db.url()).await.unwrap();
        let mut catalog = source.discover(None).await.unwrap();
        source.discover_objects(None, &mut catalog).await.unwrap();
        let views: Vec<(String, bool)> = catalog
            .views
            .iter()
            .map(|v| (v.name.to_string(), v.materialized))
            .collect();
        assert_eq!(
            views,
            vec![
                ("public.mv".to_string(), true),
                ("public.v".to_string(), false)
            ]
        );
        // Its options (kept or reported when converted).
        assert_eq!(
            catalog.views[1].options,
            migrate_core::ViewOptions {
                check: Some(migrate_core::CheckOption::Local),
                security_barrier: true,
                ..Default::default()
            }
        );
        assert!(catalog.views[0].options.is_empty());
        // The identity column's sequence belongs to its table: only `s` is listed.
        assert_eq!(catalog.sequences.len(), 1, "{:?}", catalog.sequences);
        assert_eq!(
            (catalog.sequences[0].start, catalog.sequences[0].increment),
            (5, 2)
        );
        // The primary key's index is the key; the expression index is listed with its predicate,
        // each key with the collation, operator class and ordering that differ from the
        // defaults, and the INCLUDE columns and NULLS NOT DISTINCT apart.
        assert_eq!(catalog.indexes.len(), 4, "{:?}", catalog.indexes);
        // An expression key keeps its collation too.
        assert_eq!(catalog.indexes[0].name.name.value, "t_lower_c");
        assert_eq!(
            catalog.indexes[0].columns,
            ["lower(name) COLLATE \"C\"", "(id + 1) DESC"]
        );
        assert_eq!(catalog.indexes[1].columns, vec!["lower(name)".to_string()]);
        assert_eq!(catalog.indexes[1].predicate.as_deref(), Some("(id > 0)"));
        assert!(catalog.indexes[1].options.is_plain());
        assert_eq!(catalog.indexes[2].name.name.value, "t_named");
        assert_eq!(catalog.indexes[2].columns, ["name COLLATE \"C\" DESC"]);
        assert_eq!(
            catalog.indexes[2].options.include,
            [Ident::new("id"), Ident::new("note")]
        );
        assert!(catalog.indexes[2].options.nulls_not_distinct);
        assert_eq!(
            catalog.indexes[3].columns,
            ["name text_pattern_ops DESC NULLS LAST", "id NULLS FIRST"]
        );
        assert_eq!(catalog.indexes[3].options.include, [Ident::new("note")]);
        assert!(!catalog.indexes[3].options.nulls_not_distinct);
        let routines: Vec<(RoutineKind, String)> = catalog
            .routines
            .iter()
            .map(|r| (r.kind, r.name.as_ref().unwrap().to_string()))
            .collect();
        assert_eq!(
            routines,
            vec![
                (RoutineKind::Function, "public.f".to_string()),
                (RoutineKind::Procedure, "public.p".to_string()),
                (RoutineKind::Trigger, "public.trg".to_string()),
            ]
        );
        assert!(catalog.routines[0].text.contains("RETURN NEW"));
        let parted = catalog
            .tables
            .iter()
            .find(|t| t.name.name.value == "parted")
            .unwrap();
        let partitions: Vec<String> = parted
            .partitioning
            .as_ref()
            .unwrap()
            .partitions
            .iter()
            .map(|p| p.name.clone().unwrap())
            .collect();
        assert_eq!(partitions, vec!["parted_2020", "parted_2021"]);
    });
}
