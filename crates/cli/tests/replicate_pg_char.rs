//! PostgreSQL's internal one-byte type `"char"` (quoted; not `char(n)`) from a PostgreSQL source
//! into a PostgreSQL target, against the real servers: the target column is `"char"`, the full
//! load and change capture carry every byte (0 to 255) exactly, validation agrees, and
//! `char(n)`, `character` and `bpchar` columns keep their own types.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{psql, start_cdc, stop, wait_for_capture, wait_until_same};
use common::{convert_to, file, migrate_json, one, pg_task, replicate, runs_on_postgres, table};

/// A `"char"` column, an array of them and the character types that must stay as they are.
const TABLE: &str = "
CREATE TABLE t (
    id int PRIMARY KEY,
    c \"char\",
    a \"char\"[],
    d char(2),
    e character,
    f bpchar(3)
);";

/// Every byte in `c` (row id = the byte), in an array too, and NULLs (row 256).
const ROWS: &str = "
INSERT INTO t
SELECT b, v, ARRAY[v, 'a', NULL], 'xy', 'z', 'abc'
  FROM generate_series(0, 255) b, LATERAL (SELECT (CASE WHEN b > 127 THEN b - 256 ELSE b END)::\"char\" AS v) x;
INSERT INTO t VALUES (256, NULL, NULL, NULL, NULL, NULL);";

/// Every row with each `"char"` as its byte (`::int`, signed) and the array's text, in key order.
const VALUES: &str = "SELECT string_agg(concat_ws('|', id, coalesce(c::int::text, 'null'), \
                      coalesce(a::text, 'null'), d, e, f), ',' ORDER BY id) FROM t";

/// The types of `t`'s columns.
const TYPES: &str = "SELECT string_agg(format_type(atttypid, atttypmod), ', ' ORDER BY attnum) \
                     FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped";

const TARGET_TYPES: &str =
    "integer, \"char\", \"char\"[], character(2), character(1), character(3)";

fn validate(source: &str, target: &str, name: &str) -> (i32, serde_json::Value) {
    migrate_json(&[
        "validate", "--source", source, "--target", target, "--name", name,
    ])
}

#[test]
fn a_full_load_keeps_the_char_type_and_every_byte() {
    let Some((source, target, staging)) = pg_task("rep_pgchar") else {
        return;
    };
    source.sql(TABLE).unwrap();
    source.sql(ROWS).unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &["--name", "pgchar"]);
    assert_eq!(code, 0, "{summary:#}");
    let t = table(&summary, "public.t");
    assert_eq!(t["status"], "loaded", "{t:#}");
    assert_eq!(t["rows"], 257, "{t:#}");
    assert_eq!(t["validation"]["status"], "passed", "{t:#}");
    assert_eq!(one(&target, TYPES), TARGET_TYPES);
    assert_eq!(one(&source, VALUES), one(&target, VALUES));

    let (code, summary) = validate(source.url(), target.url(), "pgchar");
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        table(&summary, "public.t")["validation"]["status"],
        "passed",
        "{summary:#}"
    );
    // A byte changed in the target is a difference.
    target
        .sql("UPDATE t SET c = '\\352' WHERE id = 233")
        .unwrap();
    let (code, summary) = validate(source.url(), target.url(), "pgchar");
    assert_eq!(code, 1, "{summary:#}");
    assert_eq!(
        table(&summary, "public.t")["validation"]["different"],
        1,
        "{summary:#}"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn change_capture_carries_every_byte_of_char_columns() {
    let Some((source, target, staging)) = pg_task("cdc_pgchar") else {
        return;
    };
    source.sql(TABLE).unwrap();
    source
        .sql("INSERT INTO t VALUES (1, 'a', '{a,b}', 'xy', 'z', 'abc'), (2, '\\351', NULL, NULL, NULL, NULL)")
        .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "pgchar_cdc",
        false,
        &[],
    );
    wait_for_capture(&mut cdc, target.url());
    assert_eq!(one(&target, TYPES), TARGET_TYPES);
    psql(
        source.url(),
        "BEGIN;
         UPDATE t SET c = '\\377', a = ARRAY['\\200', '', NULL]::\"char\"[] WHERE id = 1;
         UPDATE t SET c = '' WHERE id = 2;
         INSERT INTO t (id, c, a)
         SELECT b, v, ARRAY[v] FROM generate_series(3, 255) b,
                LATERAL (SELECT (CASE WHEN b > 127 THEN b - 256 ELSE b END)::\"char\" AS v) x;
         COMMIT;",
    )
    .unwrap();
    wait_until_same(&mut cdc, source.url(), target.url(), VALUES);
    // Bytes 128 to 255 (ids 128 to 255) and row 1's byte 255.
    assert_eq!(
        one(&target, "SELECT count(*) FROM t WHERE c::int < 0"),
        "129"
    );
    stop(cdc);
    let (code, summary) = validate(source.url(), target.url(), "pgchar_cdc");
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        table(&summary, "public.t")["validation"]["status"],
        "passed",
        "{summary:#}"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

#[test]
fn convert_to_postgres_keeps_char_and_leaves_character_types_alone() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, c \"char\", c2 pg_catalog.\"char\", \
               a \"char\"[], d char(2), e character, f bpchar(3), g bpchar);\n";
    let path = file("pg_char.sql", ddl.as_bytes());
    let (code, out, err) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 0, "{err}");
    for line in [
        "c \"char\",",
        "c2 \"char\",",
        "a \"char\"[],",
        "d CHAR(2),",
        "e CHAR(1),",
        "f CHAR(3),",
        "g TEXT,",
    ] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    if let Some(db) = runs_on_postgres("convert_pgchar", &out) {
        assert_eq!(
            one(&db, TYPES),
            "integer, \"char\", \"char\", \"char\"[], character(2), character(1), character(3), text"
        );
    }
    // Redshift keeps its character column, and says what becomes of the bytes.
    let (code, out, err) = convert_to("postgres", "redshift", &path);
    assert_eq!(code, 1, "the unbounded bpchar's warning: {err}");
    assert!(out.contains("c VARCHAR(4)"), "{out}");
    assert!(err.contains("type.internal-char"), "{err}");
}
