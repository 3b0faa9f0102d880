//! A PostgreSQL estate shaped like the Pagila sample database (`fixtures/pg_rich.sql`: enum,
//! domain, arrays with NULL elements, tsvector kept up by a trigger, a range-partitioned table
//! with a DEFAULT partition, generated, identity and serial columns, a composite type, a table
//! without a key, views, a materialized view, a function in a DEFAULT), replicated into
//! PostgreSQL with change capture under a concurrent workload, validated, compared table by
//! table, and converted to Redshift from the live source's schema.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{psql, refused_cdc, start_cdc, stop, wait_for_capture, wait_for_target, warnings};
use common::{migrate, migrate_json, pg_task, table, table_mapping};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

/// The fixture: schema, then generated rows.
fn load_fixture(source: &migrate_testkit::PgDatabase) {
    source
        .sql_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/pg_rich.sql"
        ))
        .unwrap_or_else(|e| panic!("loading the fixture: {e}"));
}

/// The rules the task needs: the table without a key is left out (change capture can't match
/// its rows) and so is the generated column (logical replication does not send its values).
const RULES: &str = r#"
    {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
     "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"},
    {"rule-type": "selection", "rule-id": "2", "rule-name": "2",
     "object-locator": {"schema-name": "public", "table-name": "audit[_]log"}, "rule-action": "exclude"},
    {"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-target": "column",
     "object-locator": {"schema-name": "public", "table-name": "customer", "column-name": "full_name"},
     "rule-action": "remove-column"}"#;

/// The tables the task captures (every one of the source's but `audit_log`; the partitioned
/// table once, never its partitions).
const TABLES: [&str; 7] = [
    "actor",
    "customer",
    "film",
    "film_actor",
    "language",
    "payment",
    "rental",
];

/// Every row of `table` in `url` as text (the record's output form, so the same value reads the
/// same whether the column is an enum or text, a composite or text), over the columns of the
/// target table, sorted.
fn rows(url: &str, target: &str, table: &str) -> BTreeSet<String> {
    let columns = psql(
        target,
        &format!(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute \
              WHERE attrelid = 'public.{table}'::regclass AND attnum > 0 AND NOT attisdropped"
        ),
    )
    .unwrap();
    let sql = format!(
        "SELECT replace(x::text, E'\\n', '\\n') FROM (SELECT {columns} FROM public.{table}) x"
    );
    psql(url, &sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .lines()
        .map(str::to_string)
        .collect()
}

/// Compares every captured table of source and target row by row; a difference fails the test
/// with a few of the differing rows.
fn assert_same_rows(source: &str, target: &str) {
    for table in TABLES {
        let (want, got) = (rows(source, target, table), rows(target, target, table));
        let missing: Vec<_> = want.difference(&got).take(3).collect();
        let extra: Vec<_> = got.difference(&want).take(3).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{table}: {} rows in the source, {} in the target; missing in the target: {missing:#?}; extra: {extra:#?}",
            want.len(),
            got.len()
        );
    }
}

/// Small transactions on several tables from before the full load until `done` is set (once
/// capture runs), and at least 30 of them.
fn workload(source: String, done: Arc<AtomicBool>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for i in 0.. {
            if i >= 30 && done.load(Ordering::Relaxed) {
                break;
            }
            psql(
                &source,
                &format!(
                    "BEGIN;
                     INSERT INTO rental (rental_date, film_id, customer_id, rental_period)
                          VALUES (TIMESTAMPTZ '2022-03-01 00:00:00+00' + {i} * INTERVAL '1 hour',
                                  1 + {i} % 500, 1 + {i} % 300, INTERVAL '{i} hours 1 mon');
                     INSERT INTO payment (customer_id, rental_id, amount, payment_date)
                          VALUES (1 + {i} % 300, currval('rental_rental_id_seq'), {i} % 100 + 0.5,
                                  TIMESTAMPTZ '2022-01-15 00:00:00+00' + {i} * INTERVAL '2 days');
                     UPDATE customer SET email = 'w{i}@exämple.org',
                                         preferences = jsonb_build_object('i', {i}, 'a', ARRAY[NULL, 'ß'])
                      WHERE customer_id = 1 + {i} * 7 % 300;
                     UPDATE film SET scores = scores || {i}, special_features = special_features || NULL::text
                      WHERE film_id = 1 + {i} * 7 % 500;
                     DELETE FROM film_actor WHERE (actor_id, film_id) IN
                            (SELECT actor_id, film_id FROM film_actor ORDER BY film_id, actor_id LIMIT 1);
                     COMMIT;"
                ),
            )
            .unwrap_or_else(|e| panic!("workload step {i}: {e}"));
        }
    })
}

/// The changes the task must carry over exactly, once capture runs.
const CHANGES: &str = "
    -- A new film: enum label with a non-ASCII letter, arrays of NULLs only or empty, a composite
    -- with a NULL field, bytes.
    INSERT INTO film (title, description, release_year, language_id, rating, special_features,
                      scores, box, poster)
         VALUES ('Nouveau film ✓', 'déjà vu', 2155, 3, 'ünrated', ARRAY[NULL, NULL]::text[], '{}',
                 ROW(1.5, NULL, 'in'), '\\x00ff00'::bytea);
    UPDATE film SET rating = 'NC-17', special_features = ARRAY[NULL]::text[], release_year = 1901
     WHERE film_id = 3;
    -- A row with a TOASTed description, updated without touching it (its value is not in the
    -- change: unchanged, not NULL).
    UPDATE film SET length = 99 WHERE film_id = 51;
    -- A key change, cascaded by the source to film_actor.
    UPDATE actor SET actor_id = 1000 WHERE actor_id = 5;
    -- A payment moved to another partition, one to the DEFAULT partition, one changed in place,
    -- one deleted, new ones in two partitions.
    UPDATE payment SET payment_date = '2022-03-15 10:00:00+00' WHERE payment_id = 10;
    UPDATE payment SET payment_date = '2023-05-01 00:00:00+00' WHERE payment_id = 11;
    UPDATE payment SET amount = 999.99 WHERE payment_id = 12;
    DELETE FROM payment WHERE payment_id = 13;
    INSERT INTO payment (customer_id, rental_id, amount, payment_date)
         VALUES (1, NULL, 1.23, '2022-02-02 00:00:00+00'), (2, 5, 4.56, '2024-01-01 00:00:00+00');
    -- Several tables in one transaction.
    BEGIN;
    INSERT INTO customer (first_name, last_name, preferences, last_ip)
         VALUES ('Ünï', 'Cöde', '{\"a\": [1, null]}', '192.168.0.1/24');
    INSERT INTO rental (rental_date, film_id, customer_id, rental_period)
         VALUES ('2022-06-01 00:00:00+00', 1, currval('customer_customer_id_seq'), '2 years 3 mons');
    UPDATE customer SET email = NULL, last_ip = '::1' WHERE customer_id = 7;
    DELETE FROM payment WHERE rental_id = 1500;
    DELETE FROM rental WHERE rental_id = 1500;
    COMMIT;
    TRUNCATE film_actor;
    INSERT INTO film_actor (actor_id, film_id) VALUES (1, 1), (1000, 2);
    INSERT INTO language (name) VALUES ('marker');";

/// The whole estate: what change capture refuses is refused with what to do, the rest is
/// loaded and captured under a workload, and source and target agree, by migrate's validation
/// and row by row. The function in `customer.store_id`'s DEFAULT is not in the target: the
/// table is created and loaded without that default, with a warning that gives the statement
/// to run once it is (before, the table failed and the task never started capturing).
#[test]
fn a_pagila_like_estate_replicates_with_change_capture() {
    let Some((source, target, staging)) = pg_task("rep_pg_rich") else {
        return;
    };
    load_fixture(&source);
    // The table without a key, then (left out) the generated column: refused before anything
    // is created, each with what to do.
    let error = refused_cdc(source.url(), target.url(), &staging, "rich", &[]);
    assert!(
        error.contains("public.audit_log has no primary key in the target")
            && error.contains("give the source table a primary key"),
        "{error}"
    );
    let without_keyless = table_mapping(
        &staging,
        r#"{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
            "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"},
           {"rule-type": "selection", "rule-id": "2", "rule-name": "2",
            "object-locator": {"schema-name": "public", "table-name": "audit[_]log"}, "rule-action": "exclude"}"#,
    );
    let error = refused_cdc(
        source.url(),
        target.url(),
        &staging,
        "rich",
        &[&without_keyless[0], &without_keyless[1]],
    );
    assert!(
        error.contains("public.customer.full_name is a generated column")
            && error.contains("remove-column rule"),
        "{error}"
    );

    let mapping = table_mapping(&staging, RULES);
    let mapping = [mapping[0].as_str(), mapping[1].as_str()];
    let done = Arc::new(AtomicBool::new(false));
    let load = workload(source.url().to_string(), done.clone());
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "rich",
        false,
        &mapping,
    );
    wait_for_capture(&mut cdc, target.url());
    done.store(true, Ordering::Relaxed);
    load.join().expect("the workload");
    assert!(
        one_value(
            source.url(),
            "SELECT pg_column_size(description) > 2100 FROM film WHERE film_id = 51"
        ) == "t",
        "film 51's description must be stored out of line (TOASTed)"
    );
    psql(source.url(), CHANGES).unwrap();
    wait_for_target(
        &mut cdc,
        target.url(),
        "SELECT count(*) FROM language WHERE name = 'marker'",
        "1",
    );
    let summary = stop(cdc);
    assert_eq!(summary["ok"], true, "{summary:#}");
    for name in TABLES {
        assert_eq!(
            table(&summary, &format!("public.{name}"))["status"],
            "loaded",
            "{summary:#}"
        );
    }
    // The partitioned table is one table; its partitions are not tables of the task.
    assert_eq!(summary["tables"].as_array().unwrap().len(), TABLES.len());
    assert!(
        warnings(&summary).iter().any(|w| w.contains(
            "public.payment is partitioned: a TRUNCATE of one of its partitions alone is not captured"
        )),
        "{summary:#}"
    );

    // The function in the DEFAULT: the table is there without that default, and the warning
    // gives the statement to run once the target has the function.
    let refused: Vec<&Value> = summary["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "default.refused")
        .collect();
    assert_eq!(refused.len(), 1, "{summary:#}");
    assert_eq!(refused[0]["object"], "public.customer.store_id");
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("function default_store() does not exist"),
        "{:#}",
        refused[0]
    );
    let statement = "ALTER TABLE public.customer ALTER COLUMN store_id SET DEFAULT default_store()";
    assert!(
        refused[0]["action"].as_str().unwrap().contains(statement),
        "{:#}",
        refused[0]
    );

    // What the target does not keep as the source has it is reported: the composite and the
    // tsvector are text there. The domain's CHECK is on its column.
    let refused = target.sql(
        "INSERT INTO public.film (title, language_id, release_year, fulltext) \
         VALUES ('x', 1, 1800, '')",
    );
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("film_release_year_year_check")),
        "{refused:?}"
    );
    for (code, object) in [
        ("type.read-as-text", "public.film.box"),
        ("type.full-text", "public.film.fulltext"),
    ] {
        assert!(
            summary["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == code && f["object"] == object),
            "{code} {object}: {summary:#}"
        );
    }

    // migrate's own validation, then the test's own comparison of every row.
    let (code, validated) = migrate_json(&[
        "validate",
        "--source",
        source.url(),
        "--target",
        target.url(),
        "--name",
        "rich",
        mapping[0],
        mapping[1],
    ]);
    assert_eq!(code, 0, "{validated:#}");
    for name in TABLES {
        assert_eq!(
            table(&validated, &format!("public.{name}"))["validation"]["status"],
            "passed",
            "{validated:#}"
        );
    }
    assert_same_rows(source.url(), target.url());
    // Values that a lossy path would change, read in the target.
    assert_eq!(
        one_value(
            target.url(),
            "SELECT concat_ws('|', rating, special_features, scores, box, release_year) \
               FROM film WHERE title = 'Nouveau film ✓'"
        ),
        "ünrated|{NULL,NULL}|{}|(1.50,,in)|2155"
    );
    assert_eq!(
        one_value(
            target.url(),
            "SELECT count(*) || '|' || sum(amount) FROM payment"
        ),
        one_value(
            source.url(),
            "SELECT count(*) || '|' || sum(amount) FROM payment"
        ),
    );
    assert_eq!(
        one_value(
            target.url(),
            "SELECT md5(description) FROM film WHERE film_id = 51"
        ),
        one_value(
            source.url(),
            "SELECT md5(description) FROM film WHERE film_id = 51"
        ),
    );
    // Once the target has the function, the statement of the warning gives the column its
    // default.
    target
        .sql(&format!(
            "CREATE FUNCTION default_store() RETURNS integer LANGUAGE sql STABLE AS 'SELECT 1'; {statement};"
        ))
        .unwrap();
    assert_eq!(
        one_value(
            target.url(),
            "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef \
              WHERE adrelid = 'public.customer'::regclass AND adnum = 2"
        ),
        "default_store()"
    );

    // The live source's schema converted to Redshift: every table, view, function, trigger
    // and type is converted or reported.
    converts_to_redshift(&source);
    let _ = std::fs::remove_dir_all(&staging);
}

fn one_value(url: &str, sql: &str) -> String {
    psql(url, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `pg_dump --schema-only` of the source through `migrate convert --target redshift`: each
/// object of the source's schema is in the DDL or named by a finding.
fn converts_to_redshift(source: &migrate_testkit::PgDatabase) {
    let pg = migrate_testkit::postgres().expect("the PostgreSQL server");
    let dump = Command::new(pg.psql_path().with_file_name("pg_dump"))
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "-d",
            source.url(),
        ])
        .output()
        .expect("run pg_dump");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let script = common::file("pg_rich_schema.sql", &dump.stdout);
    let output = migrate(&[
        "convert",
        "--from",
        "postgres",
        "--target",
        "redshift",
        "--output",
        "json",
        script.to_str().unwrap(),
    ]);
    // 1: converted, with findings to act on.
    let (code, report) = common::summary_of(&output);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["summary"]["tables"], 8, "{:#}", report["summary"]);
    let ddl = report["ddl"].as_str().expect("the DDL");
    let findings = report["findings"].as_array().expect("findings");
    let reported = |name: &str, code: &str| {
        findings
            .iter()
            .any(|f| f["code"] == code && f["object"].as_str().is_some_and(|o| o.contains(name)))
    };
    for relation in [
        "language",
        "actor",
        "film",
        "film_actor",
        "customer",
        "rental",
        "payment",
        "audit_log",
    ] {
        assert!(
            ddl.contains(&format!("CREATE TABLE public.{relation} (")),
            "{relation}:\n{ddl}"
        );
    }
    for partition in [
        "payment_p2022_01",
        "payment_p2022_02",
        "payment_p2022_03",
        "payment_default",
    ] {
        assert!(
            reported(partition, "table.partition-child"),
            "{partition}: {report:#}"
        );
    }
    assert!(ddl.contains("CREATE VIEW public.customer_list"), "{ddl}");
    assert!(
        ddl.contains("CREATE MATERIALIZED VIEW public.rental_by_rating"),
        "{ddl}"
    );
    // `string_agg(... ORDER BY ...)`: LISTAGG takes its order apart (WITHIN GROUP).
    assert!(
        ddl.contains("WITHIN GROUP (ORDER BY a.last_name) AS actors"),
        "{ddl}"
    );
    assert!(!reported("film_list", "function.unsupported"), "{report:#}");
    for (name, code) in [
        ("last_updated", "routine.not-converted"),
        ("film_fulltext", "routine.not-converted"),
        ("default_store", "routine.not-converted"),
        ("last_updated", "routine.trigger"),
        ("film_fulltext", "routine.trigger"),
        ("dimensions", "type.user-defined"),
        ("film.box", "type.unknown"),
        ("film.fulltext", "type.full-text"),
        ("year", "constraint.check-dropped"),
        ("film.rating", "type.enum"),
        ("customer.full_name", "column.generated"),
        ("customer.last_ip", "type.network-address"),
        ("rental.rental_period", "type.interval-mixed"),
    ] {
        assert!(reported(name, code), "{name} {code}: {report:#}");
    }
    let _ = std::fs::remove_dir_all(script.parent().expect("its directory"));
}

/// A column DEFAULT that calls a function of the source's (or of an extension the target
/// lacks) failed the whole table's CREATE in the target (`function default_store() does not
/// exist`): the table was not loaded at all. Now it is created and loaded without that
/// default, with a `default.refused` warning that gives the server's error and the statement;
/// the other defaults are created.
#[test]
fn a_default_the_target_refuses_is_left_out_with_a_warning() {
    let Some((source, target, staging)) = pg_task("rep_default_refused") else {
        return;
    };
    source
        .sql(
            "CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' || random() $$;
             CREATE TABLE d (id int PRIMARY KEY, code text NOT NULL DEFAULT next_code(),
                             at timestamptz DEFAULT now(), n int DEFAULT 7);
             INSERT INTO d (id) SELECT generate_series(1, 3);",
        )
        .unwrap();
    let (code, summary) = common::replicate(source.url(), target.url(), &staging, &[]);
    let d = table(&summary, "public.d");
    assert_eq!(
        (&d["status"], &d["rows"], &d["validation"]["status"]),
        (&"loaded".into(), &3.into(), &"passed".into()),
        "{summary:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    let refused: Vec<&Value> = summary["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "default.refused")
        .collect();
    assert_eq!(refused.len(), 1, "{summary:#}");
    assert_eq!(refused[0]["severity"], "warning");
    assert_eq!(refused[0]["object"], "public.d.code");
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("function next_code() does not exist"),
        "{:#}",
        refused[0]
    );
    assert!(
        refused[0]["action"]
            .as_str()
            .unwrap()
            .contains("ALTER TABLE public.d ALTER COLUMN code SET DEFAULT next_code()"),
        "{:#}",
        refused[0]
    );
    assert_eq!(
        one_value(
            target.url(),
            "SELECT string_agg(attname || '=' || pg_get_expr(adbin, adrelid), ', ' ORDER BY adnum) \
               FROM pg_attrdef JOIN pg_attribute ON attrelid = adrelid AND attnum = adnum \
              WHERE adrelid = 'public.d'::regclass"
        ),
        "at=now(), n=7"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// PostgreSQL does not publish a TRUNCATE of one partition through a publication that
/// publishes partitions as their partitioned table (its own subscribers miss it too), so the
/// target keeps the partition's rows. The run says so for each captured partitioned table;
/// truncating the partitioned table itself is captured.
#[test]
fn a_partition_truncate_is_named_as_not_captured() {
    let Some((source, target, staging)) = pg_task("cdc_part_truncate") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE m (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
             CREATE TABLE m1 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
             CREATE TABLE m_rest PARTITION OF m DEFAULT;
             INSERT INTO m SELECT g, DATE '2024-01-01' + g * 10 FROM generate_series(1, 6) g;",
        )
        .unwrap();
    let mut cdc = start_cdc(
        source.url(),
        target.url(),
        &staging,
        "parttrunc",
        false,
        &[],
    );
    wait_for_capture(&mut cdc, target.url());
    source
        .sql("TRUNCATE m; INSERT INTO m VALUES (7, '2024-01-05'), (8, '2024-05-01');")
        .unwrap();
    wait_for_target(
        &mut cdc,
        target.url(),
        "SELECT string_agg(id::text, ',' ORDER BY id) FROM m",
        "7,8",
    );
    let summary = stop(cdc);
    let warned: Vec<&str> = warnings(&summary)
        .into_iter()
        .filter(|w| w.contains("public.m is partitioned"))
        .collect();
    assert_eq!(warned.len(), 1, "{summary:#}");
    assert!(
        warned[0].contains("a TRUNCATE of one of its partitions alone is not captured")
            && warned[0].contains("TRUNCATE public.m"),
        "{}",
        warned[0]
    );
    let _ = std::fs::remove_dir_all(&staging);
}
