//! Keys wider than PostgreSQL's B-tree index takes (2,704 bytes per entry): MariaDB keeps a
//! prefix key `PRIMARY KEY (url(100))` on a TEXT column, which the target makes a key on the
//! whole column. `migrate convert` warns (`index.key-too-wide`); `migrate replicate` measures
//! the source's widest key value first and refuses the table before loading anything when a
//! value can't fit, rather than failing mid-load.

mod common;

use common::{
    convert_to, file, mariadb_task, migrate, migrate_command, one, pg_task, replicate,
    replicate_args, summary_of, table,
};

/// A table keyed by a prefix of a TEXT column, with a second table beside it that always fits.
const PAGES: &str =
    "CREATE TABLE pages (url TEXT NOT NULL, title VARCHAR(20), PRIMARY KEY (url(100)));
CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(20));
INSERT INTO notes VALUES (1, 'a'), (2, 'b');";

/// An URL of 3,008 bytes that doesn't compress (PostgreSQL compresses a long index entry, so a
/// repetitive value could still fit): 94 MD5 digests.
const LONG_URL: &str = "SELECT CONCAT('https://x/', GROUP_CONCAT(MD5(seq) ORDER BY seq SEPARATOR '')) FROM seq_1_to_94";

#[test]
fn mariadb_key_with_a_value_too_wide_for_the_target_is_refused_before_loading() {
    let Some((source, target, staging)) = mariadb_task("widekey") else {
        return;
    };
    source.sql(PAGES).unwrap();
    source
        .sql(&format!(
            "INSERT INTO pages VALUES ('https://x/short', 'short');
             INSERT INTO pages SELECT ({LONG_URL}), 'long'"
        ))
        .unwrap();
    let longest = source
        .sql("SELECT MAX(OCTET_LENGTH(url)) FROM pages")
        .unwrap();
    assert_eq!(longest.trim(), "3018");

    let schema = source.name();
    // `migrate assess` of the live source warns from the declared types.
    let assess = migrate(&["assess", "--source", source.url(), "--target", "postgres"]);
    let report = String::from_utf8_lossy(&assess.stdout);
    assert!(
        report.contains(&format!("[index.key-too-wide] {schema}.pages constraint (unnamed): the B-tree index on (url) takes values up to 65535 bytes")),
        "{report}"
    );

    let (code, summary) = replicate(source.url(), target.url(), &staging, &["--name", "wide"]);
    assert_ne!(code, 0, "{summary:#}");
    let pages = table(&summary, &format!("{schema}.pages"));
    assert_eq!(pages["status"], "failed", "{pages:#}");
    let error = pages["error"].as_str().unwrap();
    for expected in [
        &format!("{schema}.pages: PRIMARY KEY (url)"),
        "a value of 3018 bytes in the source",
        "at most 2704 bytes per entry",
        "the table is not loaded",
        "WHERE COALESCE(OCTET_LENGTH(CONVERT(`url` USING utf8mb4)), 0) > 2692",
    ] {
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
    // Refused before anything was loaded: no table (or an empty one), not a partial load.
    let loaded = one(
        &target,
        &format!(
            "SELECT coalesce((SELECT count(*) FROM information_schema.tables
                               WHERE table_schema = '{schema}' AND table_name = 'pages'), 0)"
        ),
    );
    assert_eq!(loaded, "0", "the target has a pages table: {summary:#}");
    // The other table loads.
    let notes = table(&summary, &format!("{schema}.notes"));
    assert_eq!(notes["status"], "loaded", "{notes:#}");
    assert_eq!(
        one(&target, &format!("SELECT count(*) FROM \"{schema}\".notes")),
        "2"
    );
}

#[test]
fn mariadb_key_whose_values_fit_loads() {
    let Some((source, target, staging)) = mariadb_task("widekeyok") else {
        return;
    };
    source.sql(PAGES).unwrap();
    source
        .sql(
            "INSERT INTO pages VALUES ('https://x/short', 'short'), (CONCAT('https://x/', REPEAT('b', 2000)), 'long');",
        )
        .unwrap();
    let args = replicate_args(source.url(), target.url(), &staging, &["--name", "fits"]);
    let output = migrate_command(&[&args[..], &["--output", "json"]].concat())
        .env("MIGRATE_LOG", "info")
        .output()
        .expect("run migrate");
    let (code, summary) = summary_of(&output);
    assert_eq!(code, 0, "{summary:#}");
    // Measured, and said so.
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("the widest value of PRIMARY KEY (url) is 2010 bytes, within PostgreSQL's B-tree limit of 2704 bytes"),
        "{log}"
    );
    let schema = source.name();
    assert_eq!(
        table(&summary, &format!("{schema}.pages"))["status"],
        "loaded"
    );
    assert_eq!(
        one(
            &target,
            &format!(
                "SELECT string_agg(title || ':' || octet_length(url), ',' ORDER BY title) FROM \"{schema}\".pages"
            )
        ),
        "long:2010,short:15"
    );
    // Measured once per plan: the run after it resumes the loaded table without a scan.
    let again = migrate_command(&[&args[..], &["--output", "json"]].concat())
        .env("MIGRATE_LOG", "info")
        .output()
        .expect("run migrate");
    let (code, summary) = summary_of(&again);
    assert_eq!(code, 0, "{summary:#}");
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(!log.contains("the widest value of"), "{log}");
}

#[test]
fn convert_warns_of_keys_that_may_be_too_wide_for_postgresql() {
    let ddl = file(
        "wide_keys.sql",
        b"CREATE TABLE pages (url TEXT NOT NULL, title VARCHAR(20), PRIMARY KEY (url(100)));
CREATE TABLE links (href VARCHAR(1000) NOT NULL, code VARCHAR(100), UNIQUE KEY uk_href (href), KEY ix_code (code));
CREATE INDEX ix_title ON links (code, href);
",
    );
    // Exit code 1: written, with warnings to review.
    let (code, _, stderr) = convert_to("mysql", "postgres", &ddl);
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        // MySQL's TEXT holds up to 65,535 bytes.
        "warning [index.key-too-wide] pages constraint (unnamed): the B-tree index on (url) takes values up to 65535 bytes, but PostgreSQL refuses an index entry over 2704 bytes",
        "warning [index.key-too-wide] links constraint uk_href: the B-tree index on (href) takes values up to 4000 bytes",
        "warning [index.key-too-wide] index ix_title: the B-tree index on (code, href) takes values up to 4400 bytes",
        "unique index on md5(column)",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in:\n{stderr}");
    }
    // A VARCHAR(100) key (at most 400 bytes) is no concern.
    assert!(!stderr.contains("ix_code:"), "{stderr}");
    // Redshift has no B-tree indexes.
    let (_, _, stderr) = convert_to("mysql", "redshift", &ddl);
    assert!(stderr.contains("converted 2 tables"), "{stderr}");
    assert!(!stderr.contains("index.key-too-wide"), "{stderr}");
}

/// A PostgreSQL source's own B-tree index has the target's limit: its keys hold no value the
/// target refuses, so they are neither reported nor measured.
#[test]
fn postgres_source_keys_are_already_bounded() {
    let ddl = file(
        "pg_wide_keys.sql",
        b"CREATE TABLE pages (url text PRIMARY KEY, title varchar(20));\n",
    );
    let (code, _, stderr) = convert_to("postgres", "postgres", &ddl);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("index.key-too-wide"), "{stderr}");

    let Some((source, target, staging)) = pg_task("widekeypg") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE pages (url text PRIMARY KEY, title varchar(20));
              INSERT INTO pages VALUES ('https://x/' || repeat('b', 2000), 'long');",
        )
        .unwrap();
    // What the source's index refuses, the target's would too.
    let refused = source.sql(
        "INSERT INTO pages SELECT string_agg(md5(i::text), '' ORDER BY i), 'wide' FROM generate_series(1, 94) i",
    );
    assert!(
        refused.as_ref().is_err_and(|e| e
            .to_string()
            .contains("exceeds btree version 4 maximum 2704")),
        "{refused:?}"
    );
    let (code, summary) = replicate(source.url(), target.url(), &staging, &["--name", "pg"]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        one(
            &target,
            "SELECT count(*) || ':' || max(octet_length(url)) FROM public.pages"
        ),
        "1:2010"
    );
}
