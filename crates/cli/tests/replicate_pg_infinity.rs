//! PostgreSQL's `infinity` and `-infinity` dates and timestamps (temporal tables' `valid_to`)
//! from a PostgreSQL source into a PostgreSQL target, against the real servers: the full load
//! (Parquet and CSV staging) and change capture carry them exactly, and validation passes, yet
//! still sees an infinity changed in the target.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{psql, start_cdc, stop, wait_for_capture, wait_until_same};
use common::{migrate_json, migrate_json_on_s3, one, pg_task, replicate, table};

/// Every row of `versions` as text, in key order: the same in source and target when they hold
/// the same values (both on the same server, so in the same time zone).
const ROWS: &str = "SELECT string_agg(concat_ws('|', id, valid_from, valid_to, day, seen, \
                    isfinite(valid_to), isfinite(day), isfinite(seen)), ',' ORDER BY id, valid_from) \
                    FROM versions";

/// A temporal table: a key that includes `valid_from` (`-infinity` for the first version),
/// `valid_to` open-ended by default, and a date and a timestamp without time zone.
const TABLE: &str = "
CREATE TABLE versions (
    id int,
    valid_from timestamptz,
    valid_to timestamptz NOT NULL DEFAULT 'infinity',
    day date,
    seen timestamp,
    PRIMARY KEY (id, valid_from)
);";

/// Rows with every infinity in every column, NULLs and finite values.
const INFINITIES: &str = "
INSERT INTO versions VALUES
    (1, '-infinity', '2024-01-01 00:00+00', 'infinity', 'infinity'),
    (1, '2024-01-01 00:00+00', DEFAULT, '-infinity', '-infinity'),
    (2, '-infinity', DEFAULT, NULL, NULL),
    (3, '2024-02-29 12:34:56.789+05:30', '9999-12-31 23:59:59.999999+00', '2024-02-29',
        '2024-02-29 12:34:56.789'),
    (4, '4713-11-24 00:00+00 BC', 'infinity', '0044-03-15 BC', '1999-12-31 23:59:59.999999');";

fn validate(source: &str, target: &str, name: &str) -> (i32, serde_json::Value) {
    migrate_json(&[
        "validate", "--source", source, "--target", target, "--name", name,
    ])
}

#[test]
fn a_full_load_carries_infinities_exactly_and_validation_still_sees_them_change() {
    let Some((source, target, staging)) = pg_task("rep_infinity") else {
        return;
    };
    source.sql(TABLE).unwrap();
    source.sql(INFINITIES).unwrap();
    for format in ["parquet", "csv"] {
        let (code, summary) = replicate(
            source.url(),
            target.url(),
            &staging,
            &[
                "--name",
                "infinity",
                "--staging-format",
                format,
                "--restart",
            ],
        );
        assert_eq!(code, 0, "{format}: {summary:#}");
        let versions = table(&summary, "public.versions");
        assert_eq!(versions["status"], "loaded", "{format}: {versions:#}");
        assert_eq!(versions["rows"], 5, "{format}: {versions:#}");
        assert_eq!(
            versions["validation"]["status"], "passed",
            "{format}: {versions:#}"
        );
        assert_eq!(one(&source, ROWS), one(&target, ROWS), "{format}");
    }
    assert_eq!(
        one(
            &target,
            "SELECT count(*) FILTER (WHERE valid_to = 'infinity'), \
                    count(*) FILTER (WHERE valid_from = '-infinity'), \
                    count(*) FILTER (WHERE day = '-infinity' AND seen = '-infinity') FROM versions"
        ),
        "3|2|1"
    );

    // An infinity made finite, and one turned into the other, are differences.
    target
        .sql(
            "UPDATE versions SET valid_to = '294247-01-10 04:00:54.775806+00' WHERE id = 2;
             UPDATE versions SET day = '-infinity' WHERE id = 1 AND valid_from = '-infinity';",
        )
        .unwrap();
    let (code, summary) = validate(source.url(), target.url(), "infinity");
    assert_eq!(code, 1, "{summary:#}");
    let validation = &table(&summary, "public.versions")["validation"];
    assert_eq!(validation["status"], "failed", "{validation:#}");
    assert_eq!(validation["different"], 2, "{validation:#}");
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn change_capture_carries_inserted_updated_and_deleted_infinities_exactly() {
    let Some((source, target, staging)) = pg_task("cdc_infinity") else {
        return;
    };
    // Finite values only: the infinities arrive as changes.
    source.sql(TABLE).unwrap();
    source
        .sql(
            "INSERT INTO versions VALUES
                 (1, '2023-01-01 00:00+00', '2024-01-01 00:00+00', '2024-01-01', '2024-01-01'),
                 (1, '2024-01-01 00:00+00', '2030-01-01 00:00+00', '2024-01-02', NULL),
                 (2, '2023-01-01 00:00+00', '2030-01-01 00:00+00', NULL, NULL),
                 (3, '2023-01-01 00:00+00', '2030-01-01 00:00+00', '2024-02-29',
                     '2024-02-29 12:34:56.789'),
                 (4, '2023-01-01 00:00+00', '2030-01-01 00:00+00', '0044-03-15 BC',
                     '1999-12-31 23:59:59.999999');",
        )
        .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "infinity_cdc",
        false,
        &[],
    );
    wait_for_capture(&mut cdc, target.url());
    psql(
        source.url(),
        "BEGIN;
         -- Open-ended versions, keyed by infinities too.
         UPDATE versions SET valid_to = 'infinity', day = '-infinity', seen = '-infinity'
          WHERE id = 1 AND valid_from = '2024-01-01 00:00+00';
         UPDATE versions SET valid_from = '-infinity' WHERE id = 1 AND valid_to = '2024-01-01 00:00+00';
         INSERT INTO versions (id, valid_from, day, seen)
              VALUES (5, '-infinity', '-infinity', 'infinity');
         UPDATE versions SET day = 'infinity', seen = 'infinity', valid_from = '-infinity' WHERE id = 2;
         COMMIT;
         BEGIN;
         -- A new version closes the open one: infinity becomes finite.
         UPDATE versions SET valid_to = '2024-06-01 00:00+00' WHERE id = 1 AND valid_to = 'infinity';
         INSERT INTO versions (id, valid_from, day, seen)
              VALUES (1, '2024-06-01 00:00+00', 'infinity', '-infinity');
         -- Infinite to finite, and one infinity to the other, in keys too.
         UPDATE versions SET valid_from = '2020-01-01 00:00+00', day = '2020-01-01' WHERE id = 2;
         UPDATE versions SET day = 'infinity', seen = '-infinity' WHERE id = 3;
         UPDATE versions SET valid_to = '-infinity', valid_from = 'infinity' WHERE id = 4;
         UPDATE versions SET day = 'infinity' WHERE id = 5;
         DELETE FROM versions WHERE id = 1 AND valid_from = '-infinity';
         COMMIT;",
    )
    .unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), ROWS);
    let summary = stop(cdc);
    assert!(
        summary["cdc"]["changes"].as_u64().unwrap() > 0,
        "{summary:#}"
    );
    assert_eq!(
        one(
            &target,
            "SELECT string_agg(concat_ws('|', id, valid_from AT TIME ZONE 'UTC', \
                    valid_to AT TIME ZONE 'UTC', day, seen), ',' ORDER BY id, valid_from) \
               FROM versions WHERE id IN (1, 5)"
        ),
        "1|2024-01-01 00:00:00|2024-06-01 00:00:00|-infinity|-infinity,\
         1|2024-06-01 00:00:00|infinity|infinity|-infinity,\
         5|-infinity|infinity|infinity|infinity"
    );
    let (code, summary) = validate(source.url(), target.url(), "infinity_cdc");
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(summary["ok"], true, "{summary:#}");
    let _ = std::fs::remove_dir_all(&staging);
}

/// Redshift has no infinite dates or timestamps: a load stops at the first one, naming table,
/// column and row, before staging it (Parquet would carry the extreme value that stands for
/// it, which Redshift loads as a timestamp in 294247 AD).
#[test]
fn a_redshift_target_refuses_infinities_naming_the_row() {
    let Some((source, _, staging)) = pg_task("rs_infinity") else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    source.sql(TABLE).unwrap();
    source
        .sql(
            "INSERT INTO versions VALUES
                 (1, '2023-01-01 00:00+00', '2024-01-01 00:00+00', '2024-01-01', NULL),
                 (2, '2023-01-01 00:00+00', 'infinity', '2024-01-01', NULL);
             CREATE TABLE notes (note text, until date);
             INSERT INTO notes VALUES ('a', '2024-01-01'), ('b', NULL), ('c', '-infinity');",
        )
        .unwrap();
    std::fs::create_dir_all(&staging).unwrap();
    let task = staging.join("rs.toml");
    std::fs::write(
        &task,
        format!(
            "[source]\nurl = \"{}\"\n\
             [target]\nurl = \"redshift://loader@analytics.abc123.eu-west-1.redshift.amazonaws.com:5439/dev\"\n\
             iam_role = \"arn:aws:iam::123456789012:role/MigrateLoad\"\n\
             [staging]\nurl = \"{}\"\nendpoint = \"{}\"\n",
            source.url(),
            s3.unique_url("rs_infinity"),
            s3.endpoint()
        ),
    )
    .unwrap();
    let (code, summary) = migrate_json_on_s3(&["replicate", "--task", task.to_str().unwrap()], s3);
    assert_eq!(code, 1, "{summary:#}");
    let versions = table(&summary, "public.versions");
    assert_eq!(versions["status"], "failed", "{versions:#}");
    let error = versions["error"].as_str().unwrap();
    assert!(
        error.contains("public.versions")
            && error.contains("column valid_to")
            && error.contains("(id=2, valid_from=2023-01-01T00:00:00Z)")
            && error.contains("`infinity` has no value in Redshift"),
        "{error}"
    );
    // A row of a table without a key is named by its place in the chunk and all its values.
    let notes = table(&summary, "public.notes");
    let error = notes["error"].as_str().unwrap();
    assert!(
        error.contains("column until, row 3 of the chunk (note=c, until=-infinity)"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&staging);
}
