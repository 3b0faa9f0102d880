//! The testkit against the real servers: these tests start them (or use MIGRATE_PG_URL /
//! MIGRATE_MYSQL_URL) exactly as every other integration test will.

use std::io::Write;

#[test]
fn postgres_database_sql_and_cleanup() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    assert_eq!(pg.sql("SHOW wal_level").unwrap(), "logical\n");

    let db = pg.create_database("testkit pg roundtrip");
    let name = db.name().to_string();
    assert!(db.url().ends_with(&format!("/{name}")), "{}", db.url());
    assert_eq!(db.sql("SELECT current_database()").unwrap().trim(), name);

    let out = db
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, v text);\n\
             INSERT INTO t VALUES (1, 'a'), (2, NULL);\n\
             SELECT id, v FROM t ORDER BY id;",
        )
        .unwrap();
    assert_eq!(out, "1|a\n2|\n");

    // A logical slot in the database must not stop the database from being dropped.
    db.sql("SELECT 'slot' FROM pg_create_logical_replication_slot('testkit_slot_' || pg_backend_pid(), 'pgoutput')")
        .unwrap();
    drop(db);
    let left = pg
        .sql(&format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{name}';\n\
             SELECT count(*) FROM pg_replication_slots WHERE database = '{name}';"
        ))
        .unwrap();
    assert_eq!(left, "0\n0\n", "database or slot left behind");
}

#[test]
fn postgres_errors_name_the_statement() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("testkit pg errors");
    let err = db
        .sql("SELECT 1;\nCREATE TABLE ok (a int);\nSELECT *\n  FROM missing_table\n  WHERE a = 1;\nCREATE TABLE never (a int);")
        .unwrap_err();
    assert_eq!(err.line, Some(5), "{err}");
    assert_eq!(
        err.statement.as_deref(),
        Some("SELECT *\n  FROM missing_table\n  WHERE a = 1;")
    );
    assert!(
        err.message
            .starts_with("ERROR:  relation \"missing_table\" does not exist"),
        "{err}"
    );
    assert_eq!(err.exit_code, Some(3));
    assert_eq!(err.database, db.name());
    // ON_ERROR_STOP: nothing after the failing statement ran.
    assert_eq!(
        db.sql("SELECT count(*) FROM pg_tables WHERE tablename IN ('ok', 'never')")
            .unwrap(),
        "1\n"
    );
    let text = err.to_string();
    assert!(
        text.contains("line 5") && text.contains("missing_table"),
        "{text}"
    );
}

#[test]
fn postgres_sql_file() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("testkit pg file");
    let dir = std::env::temp_dir().join(format!("testkit-pg-{}", db.name()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.sql");
    std::fs::File::create(&good)
        .unwrap()
        .write_all(b"CREATE TABLE f (x int);\nINSERT INTO f SELECT generate_series(1, 10);\nSELECT sum(x) FROM f;\n")
        .unwrap();
    assert_eq!(db.sql_file(&good).unwrap(), "55\n");

    let bad = dir.join("bad.sql");
    std::fs::write(&bad, "SELECT 1;\nSELECT 1/0;\n").unwrap();
    let err = db.sql_file(&bad).unwrap_err();
    assert_eq!(err.input, bad.display().to_string());
    assert_eq!(err.line, Some(2));
    assert_eq!(err.statement.as_deref(), Some("SELECT 1/0;"));
    assert!(err.message.contains("division by zero"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn postgres_databases_are_isolated() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let a = pg.create_database("iso");
    let b = pg.create_database("iso");
    assert_ne!(a.name(), b.name());
    a.sql("CREATE TABLE only_in_a (x int)").unwrap();
    assert!(b.sql("SELECT * FROM only_in_a").is_err());
}

#[test]
fn mariadb_database_sql_and_cleanup() {
    let Some(my) = migrate_testkit::mariadb() else {
        return;
    };
    // What CDC needs from the server.
    let vars = my
        .sql(
            "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, @@server_id",
        )
        .unwrap();
    assert_eq!(vars, "1\tROW\tFULL\tFULL\t1\n");
    let grants = my.sql("SHOW GRANTS").unwrap();
    assert!(grants.contains("GRANT ALL PRIVILEGES ON *.*"), "{grants}");

    let db = my.create_database("testkit my roundtrip");
    let name = db.name().to_string();
    assert_eq!(db.sql("SELECT DATABASE()").unwrap().trim(), name);
    let out = db
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, v varchar(10));\n\
             INSERT INTO t VALUES (1, 'a\\tb'), (2, NULL), (3, 'ü');\n\
             SELECT id, v FROM t ORDER BY id;",
        )
        .unwrap();
    assert_eq!(out, "1\ta\\tb\n2\tNULL\n3\tü\n");
    drop(db);
    assert_eq!(
        my.sql(&format!(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = '{name}'"
        ))
        .unwrap(),
        "0\n"
    );
}

#[test]
fn mariadb_errors_name_the_statement() {
    let Some(my) = migrate_testkit::mariadb() else {
        return;
    };
    let db = my.create_database("testkit my errors");
    let err = db
        .sql("SELECT 1;\nCREATE TABLE ok (a int);\nSELECT *\n  FROM missing_table;\nCREATE TABLE never (a int);")
        .unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert_eq!(
        err.statement.as_deref(),
        Some("SELECT *\n  FROM missing_table")
    );
    assert!(err.message.starts_with("ERROR 1146 (42S02)"), "{err}");
    assert_eq!(
        db.sql("SHOW TABLES").unwrap(),
        "ok\n",
        "statements after the error must not run"
    );

    let path = std::env::temp_dir().join(format!("{}.sql", db.name()));
    std::fs::write(&path, "SELECT 2;\nSELEC 3;\n").unwrap();
    let err = db.sql_file(&path).unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    assert_eq!(err.input, path.display().to_string());
    assert!(err.message.contains("1064"), "{err}");
    std::fs::remove_file(&path).unwrap();
}
