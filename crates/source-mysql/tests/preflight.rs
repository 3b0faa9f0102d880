//! Replication preflight and object discovery against real MariaDB servers: the shared one (its
//! settings compared with what it reports), a user without privileges, and a private server
//! started for this test whose binlog settings are then changed to every failing value.

use migrate_core::{CheckStatus, PreflightCheck, PreflightOptions, ReplicationMode, RoutineKind};
use migrate_source_mysql::{preflight, MysqlSource};
use migrate_testkit::{Engine, PrivateServer};

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

/// `mysql://user:password@host...` with another user and password.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (_, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

#[test]
fn checks_follow_server_state_and_table_definitions() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("preflight_my");
    db.sql(
        "CREATE TABLE keyed (id INT PRIMARY KEY, note LONGTEXT);
         CREATE TABLE unkeyed (x INT, doc LONGTEXT);
         CREATE TABLE uniq (code VARCHAR(10) NOT NULL UNIQUE, v INT);
         INSERT INTO keyed VALUES (1, REPEAT('x', 150)), (2, 'short');
         INSERT INTO unkeyed VALUES (1, 'tiny');",
    )
    .unwrap();
    let vars = server
        .sql("SELECT CONCAT_WS(' ', @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, @@log_bin_compress, @@binlog_expire_logs_seconds)")
        .unwrap();
    // The client may print a header line first: the values are on the last line.
    let vars: Vec<&str> = vars.lines().last().unwrap().split_whitespace().collect();
    runtime().block_on(async {
        let source = MysqlSource::connect(db.url()).await.unwrap();
        let catalog = source.discover(None).await.unwrap();
        let checks = preflight(&source, &catalog, &CDC).await.unwrap();
        let passed =
            |code: &str, object: &str| find(&checks, code, object).status == CheckStatus::Passed;
        assert_eq!(
            passed("preflight.log-bin", "log_bin"),
            matches!(vars[0], "ON" | "1")
        );
        assert_eq!(
            passed("preflight.binlog-format", "binlog_format"),
            vars[1] == "ROW"
        );
        assert_eq!(
            passed("preflight.binlog-row-image", "binlog_row_image"),
            vars[2] == "FULL"
        );
        assert_eq!(
            passed("preflight.binlog-row-metadata", "binlog_row_metadata"),
            vars[3] == "FULL"
        );
        assert_eq!(
            passed("preflight.binlog-compression", "binlog compression"),
            matches!(vars[4], "OFF" | "0")
        );
        assert!(passed("preflight.gtid-mode", "gtid"));
        // The test servers keep binlogs 7 days (MariaDB's default).
        let retention = find(&checks, "preflight.binlog-retention", "binlog retention");
        assert_eq!(retention.status, CheckStatus::Passed, "{retention:?}");
        assert!(
            retention.message.contains(&format!(
                "kept {} day(s)",
                vars[5].parse::<f64>().unwrap() / 86_400.0
            )),
            "{retention:?}"
        );
        // The test user has ALL PRIVILEGES.
        let user = checks
            .iter()
            .find(|c| c.code == "preflight.replication-privilege")
            .unwrap();
        assert_eq!(user.status, CheckStatus::Passed, "{user:?}");
        let schema = db.name();
        assert_eq!(
            find(&checks, "preflight.no-key", &format!("{schema}.unkeyed")).status,
            CheckStatus::Blocker
        );
        assert!(!checks
            .iter()
            .any(|c| c.code == "preflight.no-key" && c.object == format!("{schema}.uniq")));
        assert_eq!(
            find(
                &checks,
                "preflight.lob-without-key",
                &format!("{schema}.unkeyed")
            )
            .status,
            CheckStatus::Blocker
        );
        assert_eq!(
            find(
                &checks,
                "preflight.value-truncated",
                &format!("{schema}.keyed.note")
            )
            .status,
            CheckStatus::Blocker
        );
        assert_eq!(
            find(
                &checks,
                "preflight.value-truncated",
                &format!("{schema}.unkeyed.doc")
            )
            .status,
            CheckStatus::Passed
        );
    });
}

#[test]
fn a_user_without_privileges_is_blocked() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("preflight_user");
    let user = migrate_testkit::unique_name("assess_ro");
    let schema = db.name().to_string();
    db.sql(&format!(
        "CREATE TABLE granted (id INT PRIMARY KEY); CREATE TABLE hidden (id INT PRIMARY KEY);
         CREATE USER '{user}'@'%' IDENTIFIED BY 'pw';
         GRANT SELECT ON `{schema}`.granted TO '{user}'@'%';
         GRANT INSERT ON `{schema}`.hidden TO '{user}'@'%';"
    ))
    .unwrap();
    let url = as_user(db.url(), &user, "pw");
    let result = runtime().block_on(async {
        let admin = MysqlSource::connect(db.url()).await.unwrap();
        let catalog = admin.discover(None).await.unwrap();
        let source = MysqlSource::connect(&url).await.unwrap();
        preflight(&source, &catalog, &CDC).await
    });
    server.sql(&format!("DROP USER '{user}'@'%'")).unwrap();
    let checks = result.unwrap();
    let replication = checks
        .iter()
        .find(|c| c.code == "preflight.replication-privilege")
        .unwrap();
    assert_eq!(replication.status, CheckStatus::Blocker, "{replication:?}");
    assert!(
        replication.message.contains("REPLICATION SLAVE"),
        "{replication:?}"
    );
    assert_eq!(
        find(
            &checks,
            "preflight.select-privilege",
            &format!("{schema}.hidden")
        )
        .status,
        CheckStatus::Blocker
    );
    assert!(
        !checks
            .iter()
            .any(|c| c.code == "preflight.select-privilege"
                && c.object == format!("{schema}.granted"))
    );
}

/// A user granted what docs/source-mysql.md asks for CDC (SELECT, RELOAD, REPLICATION SLAVE,
/// REPLICATION CLIENT) and nothing more: MariaDB hides `TABLE_CONSTRAINTS` and
/// `REFERENTIAL_CONSTRAINTS` from it, view queries, triggers and events too. Its discovery
/// still finds every key (a capture would otherwise refuse the tables as keyless), and says
/// what it can't read instead of leaving it out silently.
#[test]
fn a_select_only_user_finds_the_keys_and_is_told_what_it_cannot_read() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("select_only");
    let user = migrate_testkit::unique_name("select_only");
    let schema = db.name().to_string();
    db.sql(&format!(
        "CREATE TABLE parent (id INT PRIMARY KEY, code INT NOT NULL, UNIQUE KEY uk_code (code));
         CREATE TABLE child (a INT, b INT, p INT, PRIMARY KEY (a, b),
                             CONSTRAINT fk_parent FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE);
         CREATE VIEW v AS SELECT id FROM parent;
         CREATE TRIGGER t BEFORE INSERT ON parent FOR EACH ROW SET NEW.code = NEW.code;
         CREATE USER '{user}'@'%' IDENTIFIED BY 'pw';
         GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%';"
    ))
    .unwrap();
    let url = as_user(db.url(), &user, "pw");
    let result = runtime().block_on(async {
        let admin = MysqlSource::connect(db.url()).await.unwrap();
        let mut full = admin.discover(None).await.unwrap();
        admin.discover_objects(None, &mut full).await.unwrap();
        let source = MysqlSource::connect(&url).await.unwrap();
        let mut seen = source.discover(None).await.unwrap();
        source.discover_objects(None, &mut seen).await.unwrap();
        (full, seen)
    });
    server.sql(&format!("DROP USER '{user}'@'%'")).unwrap();
    let (full, seen) = result;
    let keys = |catalog: &migrate_core::Catalog| -> Vec<String> {
        catalog
            .tables
            .iter()
            .flat_map(|t| {
                t.constraints
                    .iter()
                    .map(move |c| format!("{} {:?}", t.name, c.kind))
            })
            .collect()
    };
    let codes = |catalog: &migrate_core::Catalog| -> Vec<(String, String)> {
        catalog
            .findings
            .iter()
            .map(|f| (f.code.to_string(), f.object.clone()))
            .collect()
    };
    // The administrator reads the keys with the cascade, the view and the trigger, silently.
    assert_eq!(keys(&full).len(), 4, "{:#?}", keys(&full));
    assert!(
        keys(&full).iter().any(|k| k.contains("CASCADE")),
        "{:#?}",
        keys(&full)
    );
    assert_eq!(full.views.len(), 1);
    assert!(full.routines.iter().any(|r| r.kind == RoutineKind::Trigger));
    assert_eq!(codes(&full), Vec::<(String, String)>::new());
    // The SELECT-only user reads the same keys, the foreign key without its rule, and is told.
    let without_rules: Vec<String> = keys(&full)
        .iter()
        .map(|k| k.replace("Some(\"CASCADE\")", "None"))
        .collect();
    assert_eq!(keys(&seen), without_rules);
    assert!(seen.views.is_empty());
    assert!(seen.routines.is_empty());
    let mut told = codes(&seen);
    told.sort();
    let expected = [
        (
            "foreign-key.rules-unread",
            format!("{schema}.child.fk_parent"),
        ),
        ("privilege.objects-hidden", format!("schema {schema}")),
        ("privilege.objects-hidden", format!("schema {schema}")),
        ("view.definition-unread", format!("view {schema}.v")),
    ]
    .map(|(code, object)| (code.to_string(), object));
    assert_eq!(told, expected);
}

#[test]
fn failing_binlog_settings_are_blockers() {
    // Needs a MariaDB installation: the shared server's presence says there is one.
    let Some(_) = migrate_testkit::mariadb() else {
        return;
    };
    let Some(server) = PrivateServer::start(Engine::MariaDb) else {
        return;
    };
    runtime().block_on(async {
        let source = MysqlSource::connect(&format!("{}mysql", server.url()))
            .await
            .unwrap();
        let admin = mysql_async::Pool::new(server.url());
        let mut conn = admin.get_conn().await.unwrap();
        use mysql_async::prelude::Queryable;
        conn.query_drop(
            "SET GLOBAL binlog_format = 'STATEMENT', binlog_row_image = 'MINIMAL',
             binlog_row_metadata = 'MINIMAL', log_bin_compress = ON",
        )
        .await
        .unwrap();
        // Amazon RDS's configuration table, as RDS defines it, with its default (NULL): the
        // retention check reads it instead of the variables.
        conn.query_drop(
            "CREATE TABLE mysql.rds_configuration (name VARCHAR(100) NOT NULL PRIMARY KEY,
               value VARCHAR(100), description VARCHAR(300) NOT NULL);
             INSERT INTO mysql.rds_configuration VALUES
               ('binlog retention hours', NULL, 'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.')",
        )
        .await
        .unwrap();
        drop(conn);
        admin.disconnect().await.unwrap();
        let catalog = migrate_core::Catalog::default();
        let checks = preflight(&source, &catalog, &CDC).await.unwrap();
        let status = |code: &str| checks.iter().find(|c| c.code == code).unwrap().status;
        assert_eq!(status("preflight.log-bin"), CheckStatus::Passed);
        assert_eq!(status("preflight.binlog-format"), CheckStatus::Blocker);
        assert_eq!(status("preflight.binlog-row-image"), CheckStatus::Blocker);
        assert_eq!(
            status("preflight.binlog-row-metadata"),
            CheckStatus::Warning
        );
        let compression = checks
            .iter()
            .find(|c| c.code == "preflight.binlog-compression")
            .unwrap();
        assert_eq!(compression.status, CheckStatus::Blocker);
        assert_eq!(compression.object, "log_bin_compress");
        let retention = |checks: &[migrate_core::PreflightCheck]| {
            checks
                .iter()
                .find(|c| c.code == "preflight.binlog-retention")
                .cloned()
                .unwrap()
        };
        let unset = retention(&checks);
        assert_eq!(unset.status, CheckStatus::Warning, "{unset:?}");
        assert!(unset.message.contains("binlog retention hours is NULL"), "{unset:?}");

        let admin = mysql_async::Pool::new(server.url());
        let mut conn = admin.get_conn().await.unwrap();
        conn.query_drop(
            "UPDATE mysql.rds_configuration SET value = '48' WHERE name = 'binlog retention hours'",
        )
        .await
        .unwrap();
        drop(conn);
        admin.disconnect().await.unwrap();
        let checks = preflight(&source, &catalog, &CDC).await.unwrap();
        let two_days = retention(&checks);
        assert_eq!(two_days.status, CheckStatus::Passed, "{two_days:?}");
        assert!(
            two_days
                .message
                .contains("Amazon RDS binlog retention hours: binlogs are kept 2 day(s)"),
            "{two_days:?}"
        );

        // A user who can't read the table is told so, not given the variables' answer.
        let admin = mysql_async::Pool::new(server.url());
        let mut conn = admin.get_conn().await.unwrap();
        conn.query_drop(
            "CREATE USER 'limited'@'%' IDENTIFIED BY 'limited';
             GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'limited'@'%'",
        )
        .await
        .unwrap();
        drop(conn);
        admin.disconnect().await.unwrap();
        let limited_url = server
            .url()
            .replacen("migrate:migrate@", "limited:limited@", 1);
        let limited = MysqlSource::connect(&limited_url).await.unwrap();
        let checks = preflight(&limited, &catalog, &CDC).await.unwrap();
        let unreadable = retention(&checks);
        assert_eq!(unreadable.status, CheckStatus::Warning, "{unreadable:?}");
        assert!(
            unreadable.message.contains("can't read it"),
            "{unreadable:?}"
        );
    });
}

#[test]
fn objects_beyond_tables_are_discovered() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("objects_my");
    db.sql(
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), KEY t_name (name, id DESC));
         CREATE TABLE notes (body TEXT, KEY notes_body (body(10)));
         CREATE TABLE pages (id INT PRIMARY KEY, url TEXT, code VARCHAR(9),
                             UNIQUE KEY pages_url (url(20)), UNIQUE KEY pages_code (code));
         CREATE VIEW v AS SELECT id FROM t WHERE id > 0 WITH LOCAL CHECK OPTION;
         CREATE VIEW w AS SELECT id FROM t;
         CREATE SEQUENCE s;
         CREATE PROCEDURE p() SELECT 1;
         CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1;
         CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.name = UPPER(NEW.name);
         CREATE TABLE parted (id INT, d DATE) PARTITION BY RANGE (YEAR(d))
           (PARTITION p0 VALUES LESS THAN (2020), PARTITION p1 VALUES LESS THAN MAXVALUE);",
    )
    .unwrap();
    runtime().block_on(async {
        let source = MysqlSource::connect(db.url()).await.unwrap();
        let mut catalog = source.discover(None).await.unwrap();
        source.discover_objects(None, &mut catalog).await.unwrap();
        let schema = db.name();
        // Each view with its check option (kept or reported when converted).
        let checks: Vec<(&str, Option<migrate_core::CheckOption>)> = catalog
            .views
            .iter()
            .map(|v| (v.name.name.value.as_str(), v.options.check))
            .collect();
        assert_eq!(
            checks,
            [("v", Some(migrate_core::CheckOption::Local)), ("w", None)]
        );
        assert_eq!(catalog.sequences.len(), 1);
        // Each key as MySQL writes it: a descending key, a prefix of a TEXT column. A unique
        // key with a prefix is a unique index, not a key on the whole column.
        assert_eq!(catalog.indexes.len(), 3);
        assert_eq!(catalog.indexes[0].columns, ["body(10)"]);
        assert!(!catalog.indexes[0].unique);
        assert_eq!(catalog.indexes[1].name.name.value, "pages_url");
        assert_eq!(catalog.indexes[1].columns, ["url(20)"]);
        assert!(catalog.indexes[1].unique);
        assert_eq!(catalog.indexes[2].columns, ["name", "id DESC"]);
        let pages = catalog
            .tables
            .iter()
            .find(|t| t.name.name.value == "pages")
            .unwrap();
        let keys: Vec<String> = pages
            .constraints
            .iter()
            .map(|c| format!("{:?}", c.kind))
            .collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys[0].starts_with("PrimaryKey"), "{keys:?}");
        assert!(keys[1].contains("code"), "{keys:?}");
        let routines: Vec<(RoutineKind, String)> = catalog
            .routines
            .iter()
            .map(|r| (r.kind, r.name.as_ref().unwrap().to_string()))
            .collect();
        assert_eq!(
            routines,
            vec![
                (RoutineKind::Function, format!("{schema}.f")),
                (RoutineKind::Procedure, format!("{schema}.p")),
                (RoutineKind::Trigger, format!("{schema}.trg")),
            ]
        );
        assert!(catalog.routines[2].text.contains("UPPER(NEW.name)"));
        let parted = catalog
            .tables
            .iter()
            .find(|t| t.name.name.value == "parted")
            .unwrap();
        assert_eq!(parted.partitioning.as_ref().unwrap().partitions.len(), 2);
    });
}
