//! A schema nobody on this project wrote, through the live path: MySQL's Sakila sample schema
//! (read from the public corpora beside the repository, see ../shared/corpora/README.md) loaded
//! into MariaDB, filled with generated rows (NULLs, non-ASCII text, every ENUM and SET label,
//! geometries, large TEXT and BLOB), replicated into PostgreSQL with `--cdc` under a workload of
//! multi-table transactions (from the full load on, across a stop and a resume), then compared
//! with the source table by table, by SQL that does not go through migrate, and by
//! `migrate validate`. `migrate assess` and `migrate convert` of the live database must report
//! every object they do not convert (views, triggers, routines, the geometry column, the
//! FULLTEXT and SPATIAL indexes); the DDL `convert` writes runs on PostgreSQL, and its views,
//! created in the replicated target, give the source views' rows.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{start_cdc, stop, wait_for_capture, warnings, Cdc};
use common::{mariadb_task, migrate, migrate_json};
use migrate_testkit::{MariaDbDatabase, PgDatabase};
use serde_json::Value;
use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

/// The Sakila schema script of the corpora; under CI its absence is a failure, not a skip.
fn sakila_script() -> Option<String> {
    let path = migrate_testkit::corpora()?.join("mysql/mysql-sakila-schema.sql");
    let script = std::fs::read_to_string(&path);
    Some(script.unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
}

/// The script made to run in the test's own database: it creates and selects a database named
/// `sakila` (which tests running at the same time would share) and names it in one view.
fn in_database(script: &str, database: &str) -> String {
    let mut script = script.to_string();
    for statement in [
        "DROP SCHEMA IF EXISTS sakila;",
        "CREATE SCHEMA sakila;",
        "USE sakila;",
    ] {
        assert!(
            script.contains(statement),
            "the script changed: {statement}"
        );
        script = script.replace(statement, "");
    }
    assert!(script.contains("sakila.film"), "the script changed");
    script.replace("sakila.", &format!("`{database}`."))
}

/// Rows for every table: NULLs in every nullable column, non-ASCII text, every ENUM label and
/// every SET combination, YEAR at its bounds, points (with and without an SRID), lines and
/// polygons, a TEXT near its 64 KiB limit, a 200 KB BLOB. The script's version has no
/// `address.location`; later versions declare it in a MySQL 5.7 executable comment
/// (`/*!50705 ... */`) that MariaDB skips, so it is added here as those versions declare it.
const FILL: &str = r"
ALTER TABLE address ADD COLUMN location GEOMETRY NOT NULL AFTER phone, ADD SPATIAL KEY idx_location (location);
SET FOREIGN_KEY_CHECKS = 0;
INSERT INTO language (language_id, name) VALUES (1, 'English'), (2, 'Italiano'), (3, '日本語'), (4, '中文'), (5, 'Français'), (6, 'Deutsch');
INSERT INTO country (country_id, country) SELECT seq, CONCAT(ELT(1 + seq % 4, 'Land ', 'País ', 'Страна ', '国 '), seq) FROM seq_1_to_100;
INSERT INTO city (city_id, city, country_id) SELECT seq, CONCAT(ELT(1 + seq % 3, 'Saint-Étienne ', 'Zürich ', 'Kraków '), seq), 1 + seq % 100 FROM seq_1_to_300;
INSERT INTO address (address_id, address, address2, district, city_id, postal_code, phone, location)
  SELECT seq, CONCAT(seq, ' Straße «Ünïcødé»'), IF(seq % 3 = 0, NULL, IF(seq % 3 = 1, '', CONCAT('Apt ', seq))),
         ELT(1 + seq % 3, 'Québec', 'Tōkyō', 'Nord'), 1 + seq % 300, IF(seq % 5 = 0, NULL, LPAD(seq, 5, '0')), CONCAT('+1 555 ', seq),
         CASE seq % 4
           WHEN 0 THEN ST_GeomFromText(CONCAT('POINT(', seq / 7, ' ', -seq / 3, ')'))
           WHEN 1 THEN ST_GeomFromText(CONCAT('POINT(', seq / 7, ' ', seq / 9, ')'), 4326)
           WHEN 2 THEN ST_GeomFromText(CONCAT('LINESTRING(0 0, ', seq, ' ', seq, ', 1.5 -2.25)'))
           ELSE ST_GeomFromText(CONCAT('POLYGON((0 0, ', seq, ' 0, ', seq, ' ', seq, ', 0 0))'))
         END
  FROM seq_1_to_400;
INSERT INTO staff (staff_id, first_name, last_name, address_id, picture, email, store_id, active, username, password) VALUES
  (1, 'Mike', 'Hillyer', 3, NULL, 'mike@example.com', 1, TRUE, 'Mike', '8cb2237d0679ca88db6464eac60da96345513964'),
  (2, 'Jón', 'Stephens', 4, UNHEX(REPEAT('FF00D8E0', 50000)), NULL, 2, FALSE, 'Jon', NULL);
INSERT INTO store (store_id, manager_staff_id, address_id) VALUES (1, 1, 1), (2, 2, 2);
INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, active, create_date, last_update)
  SELECT seq, 1 + seq % 2, CONCAT(ELT(1 + seq % 4, 'Zoë', 'Søren', 'José', 'Анна'), seq), CONCAT('Müller', seq),
         IF(seq % 7 = 0, NULL, CONCAT('c', seq, '@example.org')), 1 + seq % 400, seq % 5 <> 0,
         '2006-02-14 22:04:36' + INTERVAL seq HOUR, IF(seq % 11 = 0, NULL, '2020-06-01 12:00:00' + INTERVAL seq SECOND)
  FROM seq_1_to_300;
INSERT INTO category (category_id, name)
  SELECT seq, ELT(seq, 'Action', 'Animation', 'Children', 'Classics', 'Comedy', 'Documentary', 'Drama', 'Family',
                  'Foreign', 'Games', 'Horror', 'Music', 'New', 'Sci-Fi', 'Sports', 'Travel')
  FROM seq_1_to_16;
INSERT INTO actor (actor_id, first_name, last_name) SELECT seq, CONCAT(ELT(1 + seq % 3, 'PENÉLOPE', 'NICK', 'ĐORĐE'), seq), CONCAT('GUINESS', seq) FROM seq_1_to_200;
INSERT INTO film (film_id, title, description, release_year, language_id, original_language_id, rental_duration, rental_rate, length, replacement_cost, rating, special_features)
  SELECT seq, CONCAT('FILM ', seq, IF(seq % 10 = 0, ' — «Ça»', '')),
         CASE WHEN seq % 9 = 0 THEN NULL
              WHEN seq % 50 = 1 THEN REPEAT('Lorem ipsum dolor sit amet, ünïcödé. ', 1500)
              ELSE CONCAT('A Epic Drama of a Feminist ', seq, '\ttab\nnewline \\ back') END,
         CASE seq % 6 WHEN 0 THEN NULL WHEN 1 THEN 1901 WHEN 2 THEN 2155 ELSE 1990 + seq % 30 END,
         1 + seq % 6, IF(seq % 4 = 0, 1 + (seq + 1) % 6, NULL), 1 + seq % 7, 0.99 + (seq % 3) * 2,
         IF(seq % 13 = 0, NULL, 46 + seq % 140), 9.99 + seq % 21,
         CASE seq % 6 WHEN 5 THEN NULL ELSE ELT(1 + seq % 6, 'G', 'PG', 'PG-13', 'R', 'NC-17') END,
         CASE WHEN seq % 17 = 0 THEN NULL WHEN seq % 17 = 1 THEN ''
              ELSE MAKE_SET(seq % 16, 'Trailers', 'Commentaries', 'Deleted Scenes', 'Behind the Scenes') END
  FROM seq_1_to_500;
INSERT IGNORE INTO film_actor (actor_id, film_id) SELECT 1 + seq % 200, 1 + (seq * 7) % 500 FROM seq_0_to_1499;
INSERT INTO film_category (film_id, category_id) SELECT seq, 1 + seq % 16 FROM seq_1_to_500;
INSERT INTO inventory (inventory_id, film_id, store_id) SELECT seq, 1 + seq % 500, 1 + seq % 2 FROM seq_1_to_1000;
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id)
  SELECT seq, '2005-05-24 22:53:30' + INTERVAL seq MINUTE, 1 + seq % 1000, 1 + seq % 300,
         IF(seq % 8 = 0, NULL, '2005-05-26 22:04:30' + INTERVAL seq MINUTE), 1 + seq % 2
  FROM seq_1_to_1500;
-- Rentals whose number ends in 0 have no payment: the workload deletes them.
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date, last_update)
  SELECT seq, 1 + seq % 300, 1 + seq % 2, IF(seq % 10 = 0, NULL, seq), (seq % 1200) / 100 - 1.5,
         '2005-05-25 11:30:37' + INTERVAL seq MINUTE, IF(seq % 9 = 0, NULL, '2006-02-15 22:12:30')
  FROM seq_1_to_1500;
SET FOREIGN_KEY_CHECKS = 1;";

/// Round `r` of the workload: a transaction over seven tables (the film triggers write
/// `film_text` in it too), with a key change, deletes, and a large value now and then. No
/// change goes through a foreign key's `ON UPDATE CASCADE` or `ON DELETE SET NULL`: the binlog
/// does not carry the rows those change (a documented limit, warned about).
fn round(r: u64) -> String {
    let film = 1000 + r;
    let mut sql = format!(
        "START TRANSACTION;
         INSERT INTO film (film_id, title, description, release_year, language_id, rating, special_features)
           VALUES ({film}, 'NEW FILM {r} ☃', {description}, {year}, {language}, {rating}, {features});
         INSERT INTO film_category (film_id, category_id) VALUES ({film}, {category});
         INSERT INTO actor (first_name, last_name) VALUES ('ŁUKASZ {r}', 'Ñoño');
         INSERT INTO film_actor (actor_id, film_id) VALUES (LAST_INSERT_ID(), {film});
         UPDATE film SET title = CONCAT(LEFT(title, 200), ' (rev {r})'), rating = {rating},
                         special_features = {features}
           WHERE film_id = {old_film};
         UPDATE address SET location = ST_GeomFromText('POINT({r} -{r}.5)', 4326),
                            address2 = IF(address2 IS NULL, 'Ø {r}', NULL)
           WHERE address_id = {address};
         UPDATE customer SET email = NULL, active = NOT active WHERE customer_id = {customer};
         INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id)
           VALUES (NOW(), {inventory}, {customer}, 1);
         INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date)
           VALUES ({customer}, 2, LAST_INSERT_ID(), {r}.99, NOW());
         UPDATE payment SET payment_id = payment_id + 100000 WHERE payment_id = {moved};
         DELETE FROM payment WHERE payment_id = {deleted};
         DELETE FROM rental WHERE rental_id = {unpaid};
         COMMIT;",
        description = if r % 7 == 0 {
            "REPEAT('Ünïcødé ', 5000)".to_string()
        } else if r % 7 == 3 {
            "NULL".to_string()
        } else {
            format!("'new \\\"{r}\\\" \\\\ ''quoted'''")
        },
        year = [ "NULL", "1901", "2155", "2006"][r as usize % 4],
        language = 1 + r % 6,
        rating = ["'G'", "'PG'", "'PG-13'", "'R'", "'NC-17'", "NULL"][r as usize % 6],
        features = ["NULL", "''", "'Trailers,Behind the Scenes'", "'Commentaries,Deleted Scenes'"]
            [r as usize % 4],
        category = 1 + r % 16,
        old_film = 1 + (r * 41) % 500,
        address = 1 + (r * 23) % 400,
        customer = 1 + (r * 19) % 300,
        inventory = 1 + (r * 29) % 1000,
        moved = 1 + (r * 37) % 1500,
        deleted = 1 + (r * 53) % 1500,
        unpaid = 10 * (1 + (r * 7) % 150),
    );
    if r % 3 == 2 {
        // The film of three rounds ago, its rows first (its film_text row goes by trigger).
        let gone = film - 2;
        sql.push_str(&format!(
            "START TRANSACTION;
             DELETE FROM film_actor WHERE film_id = {gone};
             DELETE FROM film_category WHERE film_id = {gone};
             DELETE FROM film WHERE film_id = {gone};
             COMMIT;"
        ));
    }
    if r % 4 == 1 {
        // A change of a composite key.
        sql.push_str(&format!(
            "UPDATE film_actor SET film_id = {film} WHERE actor_id = {actor} ORDER BY film_id LIMIT 1;",
            actor = 1 + (r * 11) % 200
        ));
    }
    if r % 5 == 4 {
        sql.push_str(&format!(
            "UPDATE staff SET picture = IF(picture IS NULL, UNHEX(REPEAT('00FF{r:02}', 70000)), NULL),
                              password = IF(password IS NULL, 'sêcret', NULL)
               WHERE staff_id = 2;"
        ));
    }
    sql
}

/// Per MariaDB data type: the text of a value on MariaDB and on PostgreSQL, spelled so that
/// equal values print equally (text and bytes in hex, times at 6 digits in UTC). `{}` is the
/// column.
fn spelling(data_type: &str) -> (&'static str, &'static str) {
    match data_type {
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => (
            "HEX(CONVERT({} USING utf8mb4))",
            "upper(encode(convert_to({}::text, 'UTF8'), 'hex'))",
        ),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            ("HEX({})", "upper(encode({}, 'hex'))")
        }
        "geometry" | "point" | "linestring" | "polygon" => {
            ("HEX(ST_AsBinary({}))", "upper(encode({}, 'hex'))")
        }
        "datetime" | "timestamp" => (
            "DATE_FORMAT({}, '%Y-%m-%d %H:%i:%s.%f')",
            "to_char({}, 'YYYY-MM-DD HH24:MI:SS.US')",
        ),
        _ => ("CAST({} AS CHAR)", "{}::text"),
    }
}

/// One query per side that prints each row of `table` as one line, in key order.
struct Rows {
    table: String,
    mariadb: String,
    postgres: String,
}

/// [`Rows`] of every table of the source, from its catalog (every Sakila table has a primary
/// key, which orders its rows).
fn every_table(source: &MariaDbDatabase) -> Vec<Rows> {
    let keys = source
        .sql(
            "SELECT TABLE_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION)
               FROM information_schema.KEY_COLUMN_USAGE
              WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY'
              GROUP BY TABLE_NAME",
        )
        .unwrap();
    let columns = source
        .sql(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
              WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .unwrap();
    // Per table, each column's spelling on MariaDB and on PostgreSQL (views' columns too: only
    // the tables with a key are read).
    let mut spelled: BTreeMap<&str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for line in columns.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [table, column, data_type] = fields[..] else {
            panic!("{line}");
        };
        let (on_mariadb, on_postgres) = spelling(data_type);
        let entry = spelled.entry(table).or_default();
        entry.0.push(format!(
            "COALESCE({}, '<null>')",
            on_mariadb.replace("{}", &format!("`{column}`"))
        ));
        entry.1.push(format!(
            "COALESCE({}, '<null>')",
            on_postgres.replace("{}", &format!("\"{column}\""))
        ));
    }
    let schema = source.name();
    keys.lines()
        .map(|line| {
            let (table, key) = line.split_once('\t').expect("table and key");
            let (on_mariadb, on_postgres) = &spelled[table];
            Rows {
                mariadb: format!(
                    "SET time_zone = '+00:00'; SELECT CONCAT_WS('|', {}) FROM `{table}` ORDER BY {key}",
                    on_mariadb.join(", "),
                ),
                postgres: format!(
                    "SET TimeZone = 'UTC'; SELECT concat_ws('|', {}) FROM \"{schema}\".\"{table}\" ORDER BY {key}",
                    on_postgres.join(", "),
                ),
                table: table.to_string(),
            }
        })
        .collect()
}

/// What differs between the source and the target, table by table (the first differing rows of
/// each): empty when every table holds the same rows.
fn differences(source: &MariaDbDatabase, target: &PgDatabase, tables: &[Rows]) -> Vec<String> {
    let mut found = Vec::new();
    for rows in tables {
        let a = source.sql(&rows.mariadb).unwrap();
        assert!(!a.trim().is_empty(), "{} has rows", rows.table);
        let b = match target.sql(&rows.postgres) {
            Ok(b) => b,
            Err(e) => {
                found.push(format!("{}: {e}", rows.table));
                continue;
            }
        };
        if a == b {
            continue;
        }
        let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        let differing: Vec<String> = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x != y)
            .take(3)
            .map(|(x, y)| format!("  source: {x:.300}\n  target: {y:.300}"))
            .collect();
        found.push(format!(
            "{}: {} source rows, {} target rows\n{}",
            rows.table,
            a.len(),
            b.len(),
            differing.join("\n")
        ));
    }
    found
}

/// Waits (60 s at most) until the target holds the source's rows while `cdc` runs.
fn converge(cdc: &mut Cdc, source: &MariaDbDatabase, target: &PgDatabase, tables: &[Rows]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = differences(source, target, tables);
        if found.is_empty() {
            return;
        }
        if let Some(status) = cdc.child.try_wait().unwrap() {
            panic!("migrate exited ({status}); stderr:\n{}", cdc.stderr());
        }
        assert!(
            Instant::now() < deadline,
            "the target did not catch up within 60 s:\n{}\nstderr:\n{}",
            found.join("\n"),
            cdc.stderr()
        );
        thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn sakila_on_mariadb_replicates_with_capture_and_assess_and_convert_report_every_object() {
    let Some(script) = sakila_script() else {
        return;
    };
    let Some((source, target, staging)) = mariadb_task("sakila") else {
        return;
    };
    source
        .sql(&in_database(&script, source.name()))
        .unwrap_or_else(|e| panic!("{e}"));
    source.sql(FILL).unwrap_or_else(|e| panic!("{e}"));
    let tables = every_table(&source);
    assert_eq!(tables.len(), 16, "Sakila's 16 tables");

    let workload = |rounds: std::ops::Range<u64>| {
        for r in rounds {
            source
                .sql(&round(r))
                .unwrap_or_else(|e| panic!("round {r}: {e}"));
            thread::sleep(Duration::from_millis(100));
        }
    };
    // The workload starts with the run: its first rounds meet the full load.
    let first = thread::scope(|scope| {
        scope.spawn(|| workload(0..20));
        let mut cdc = start_cdc(source.url(), target.url(), &staging, "sakila", false, &[]);
        wait_for_capture(&mut cdc, target.url());
        cdc
    });
    let stderr = first.stderr();
    let summary = stop(first);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Sakila's foreign keys cascade: the rows they change are not in the binlog, and the run
    // says so, per key.
    let warned = warnings(&summary);
    let schema = source.name();
    for key in [
        "payment: foreign key fk_payment_rental (ON DELETE SET NULL ON UPDATE CASCADE)",
        "film_actor: foreign key fk_film_actor_film (ON DELETE RESTRICT ON UPDATE CASCADE)",
    ] {
        assert!(
            warned
                .iter()
                .any(|w| w.contains(&format!("{schema}.{key}"))),
            "{key}: {summary:#}"
        );
    }
    // Changes made while the task is stopped, then while it resumes from its checkpoint.
    workload(20..30);
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "sakila", false, &[]);
    workload(30..40);
    converge(&mut cdc, &source, &target, &tables);
    let stderr = cdc.stderr();
    let summary = stop(cdc);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        summary["cdc"]["changes"].as_u64().unwrap() > 0,
        "{summary:#}"
    );
    let found = differences(&source, &target, &tables);
    assert!(found.is_empty(), "{}", found.join("\n"));
    let (code, validation) = migrate_json(&[
        "validate",
        "--source",
        source.url(),
        "--target",
        target.url(),
        "--name",
        "sakila",
    ]);
    assert_eq!(code, 0, "validation: {validation:#}");
    let _ = std::fs::remove_dir_all(&staging);

    // The comparison sees a changed geometry (it would not pass two empty or broken outputs).
    target
        .sql(&format!(
            "UPDATE \"{schema}\".address SET location = location || '\\x00'::bytea WHERE address_id = 7"
        ))
        .unwrap();
    let found = differences(&source, &target, &tables);
    assert!(
        found.len() == 1 && found[0].starts_with("address: "),
        "{found:?}"
    );

    assess_reports_every_object(&source);
    convert_runs_and_reports_every_object(&source, &target);
}

/// Sakila's views, triggers and routines, by kind as `migrate assess` names them.
const PROCEDURAL: [(&str, &str, &[&str]); 4] = [
    (
        "view",
        "",
        &[
            "actor_info",
            "customer_list",
            "film_list",
            "nicer_but_slower_film_list",
            "sales_by_film_category",
            "sales_by_store",
            "staff_list",
        ],
    ),
    (
        "trigger",
        "routine.trigger",
        &["del_film", "ins_film", "upd_film"],
    ),
    (
        "procedure",
        "routine.not-converted",
        &["film_in_stock", "film_not_in_stock", "rewards_report"],
    ),
    (
        "function",
        "routine.not-converted",
        &[
            "get_customer_balance",
            "inventory_held_by_customer",
            "inventory_in_stock",
        ],
    ),
];

/// `migrate assess` of the live database, for a PostgreSQL target: every view, trigger and
/// routine is listed, each that is not converted as is has an action item that says why, and
/// the geometry column and the FULLTEXT and SPATIAL indexes are reported as what they are.
fn assess_reports_every_object(source: &MariaDbDatabase) {
    let output = migrate(&[
        "assess",
        "--source",
        source.url(),
        "--target",
        "postgres",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 1: the report has action items.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr:\n{stderr}"));
    let objects = report["objects"].as_array().expect("objects");
    let items = report["action_items"].as_array().expect("action items");
    // Nothing not converted as is goes without an item that says why.
    for object in objects.iter().filter(|o| o["status"] != "automatic") {
        assert!(
            items.iter().any(|i| i["object_id"] == object["id"]),
            "{object} has no action item"
        );
    }
    let schema = source.name();
    let item = |code: &str, object: &str| -> &Value {
        items
            .iter()
            .find(|i| i["code"] == code && i["object"] == object)
            .unwrap_or_else(|| panic!("no {code} item for {object}: {items:#?}"))
    };
    for (kind, code, names) in PROCEDURAL {
        let mut listed: Vec<&str> = objects
            .iter()
            .filter(|o| o["kind"] == kind)
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        listed.sort();
        assert_eq!(listed, names, "{kind}s");
        if code.is_empty() {
            continue;
        }
        for name in names {
            let item = item(code, &format!("{kind} {schema}.{name}"));
            // The fix is PostgreSQL's, the target's.
            assert!(
                !item["fix"].as_str().unwrap().contains("Redshift"),
                "{item:#}"
            );
        }
    }
    // The views convert, but two: PostgreSQL can't order a DISTINCT aggregate by another
    // expression, nor select a column of a table it doesn't group by.
    for view in objects.iter().filter(|o| o["kind"] == "view") {
        let converted = !["actor_info", "sales_by_store"].contains(&view["name"].as_str().unwrap());
        assert_eq!(
            view["status"] == "automatic",
            converted,
            "{view}: {items:#?}"
        );
    }
    item("function.unsupported", &format!("view {schema}.actor_info"));
    let grouping = item(
        "view.not-converted",
        &format!("view {schema}.sales_by_store"),
    );
    assert!(
        grouping["message"]
            .as_str()
            .unwrap()
            .contains("selects `c`.`city` without grouping by it"),
        "{grouping:#}"
    );
    item("type.spatial-as-wkb", &format!("{schema}.address.location"));
    for index in ["idx_title_description", "idx_location"] {
        item("index.not-created", &format!("index {schema}.{index}"));
    }
    assert!(
        !items.iter().any(|i| i["code"] == "index.prefix"),
        "Sakila has no prefix index: {items:#?}"
    );
}

/// `migrate convert --source` of the live database for PostgreSQL: its DDL runs on a fresh
/// database; every trigger and routine, the two views it can't convert and the geometry column
/// are findings; the views it converts, created in the replicated target, give the source's
/// views' rows.
fn convert_runs_and_reports_every_object(source: &MariaDbDatabase, target: &PgDatabase) {
    let output = migrate(&["convert", "--source", source.url(), "--target", "postgres"]);
    let ddl = String::from_utf8_lossy(&output.stdout);
    let findings = String::from_utf8_lossy(&output.stderr);
    // 1: findings of severity warning or action.
    assert_eq!(output.status.code(), Some(1), "{findings}");
    let schema = source.name();
    let mut expected = vec![
        format!("action [function.unsupported] view {schema}.actor_info: "),
        format!("action [view.not-converted] view {schema}.sales_by_store: "),
        format!("warning [type.spatial-as-wkb] {schema}.address.location: "),
    ];
    for (kind, code, names) in PROCEDURAL.iter().filter(|(_, code, _)| !code.is_empty()) {
        for name in names.iter() {
            expected.push(format!("action [{code}] {kind} {schema}.{name}: "));
        }
    }
    for line in expected {
        assert!(findings.contains(&line), "no `{line}` in:\n{findings}");
    }
    let Some(fresh) = common::runs_on_postgres("sakila_ddl", &ddl) else {
        return;
    };
    let count = |kind: &str| {
        fresh
            .sql(&format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{schema}' AND table_type = '{kind}'"
            ))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(
        (count("BASE TABLE"), count("VIEW")),
        ("16".to_string(), "5".to_string())
    );
    let views: Vec<&str> = ddl
        .split("\n\n")
        .filter(|statement| statement.starts_with("CREATE VIEW"))
        .collect();
    assert_eq!(views.len(), 5, "{ddl}");
    target
        .sql(&views.join("\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    // Views whose rows have one order (the film lists concatenate names in no given order).
    for view in ["customer_list", "staff_list", "sales_by_film_category"] {
        let on_source = source
            .sql(&format!("SELECT * FROM {view} ORDER BY 1"))
            .unwrap();
        let on_target = target
            .sql(&format!(
                "\\pset fieldsep '\\t'\n\\pset null NULL\nSELECT * FROM \"{schema}\".{view} ORDER BY 1;"
            ))
            .unwrap();
        assert!(on_source.lines().count() > 1, "{view}: {on_source}");
        assert_eq!(on_source, on_target, "{view}");
    }
}
