//! `migrate replicate` and `migrate validate` end to end: the real binary, real PostgreSQL
//! servers and S3 staging; every check compares the target with the source independently of
//! migrate's own validation.

mod common;

use common::{
    migrate, migrate_command, migrate_json, migrate_json_on_s3, one, spawn_migrate, summary_of,
    table,
};
use migrate_testkit::PgDatabase;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

fn staging(hint: &str) -> PathBuf {
    std::env::temp_dir().join(migrate_testkit::unique_name(hint))
}

/// The source and the target of one test.
struct Pair {
    source: PgDatabase,
    target: PgDatabase,
    staging: PathBuf,
}

impl Pair {
    fn new(hint: &str) -> Option<Pair> {
        let pg = migrate_testkit::postgres()?;
        Some(Pair {
            source: pg.create_database(&format!("{hint}_src")),
            target: pg.create_database(&format!("{hint}_dst")),
            staging: staging(hint),
        })
    }

    /// The arguments of `replicate` from source to target with `extra` flags.
    fn replicate_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let staging = self.staging.to_str().expect("utf-8 path");
        let mut args = vec![
            "replicate",
            "--source",
            self.source.url(),
            "--target",
            self.target.url(),
            "--staging",
            staging,
            "--name",
            "e2e",
        ];
        args.extend(extra);
        args
    }

    /// `replicate` from source to target with `extra` flags, as JSON.
    fn replicate(&self, extra: &[&str]) -> (i32, Value) {
        migrate_json(&self.replicate_args(extra))
    }

    fn validate(&self, extra: &[&str]) -> (i32, Value) {
        let mut args = vec![
            "validate",
            "--source",
            self.source.url(),
            "--target",
            self.target.url(),
            "--name",
            "e2e",
        ];
        args.extend(extra);
        migrate_json(&args)
    }

    /// Asserts that `source_sql` on the source and `target_sql` on the target print the same.
    fn same(&self, source_sql: &str, target_sql: &str) {
        let (a, b) = (one(&self.source, source_sql), one(&self.target, target_sql));
        assert!(!a.is_empty(), "{source_sql} printed nothing");
        if a != b {
            let diff: Vec<String> = a
                .lines()
                .zip(b.lines())
                .filter(|(x, y)| x != y)
                .take(5)
                .map(|(x, y)| format!("  source: {:.300}\n  target: {:.300}", x, y))
                .collect();
            panic!(
                "source and target differ ({} vs {} lines):\n{source_sql}\n{target_sql}\n{}",
                a.lines().count(),
                b.lines().count(),
                diff.join("\n")
            );
        }
    }
}

/// The every-type table of the PostgreSQL source's own tests (crates/source-postgres).
fn every_type_setup() -> &'static str {
    let file = include_str!("../../source-postgres/tests/types.rs");
    let start = file.find("const SETUP: &str = r#\"").expect("SETUP") + 23;
    let end = start + file[start..].find("\"#;").expect("end of SETUP");
    &file[start..end]
}

/// The every-type table with a time of day of `24:00:00` (row 3), which PostgreSQL and Redshift
/// hold and Arrow's own CSV text form can't.
fn every_type_with_midnight_end() -> String {
    format!(
        "{}\nUPDATE every SET tm = '24:00:00' WHERE id = 3;",
        every_type_setup()
    )
}

/// Per column of `every`: the source value's text and the target value's text, written so that
/// equal values print equally (the converter changes json to jsonb, inet and bit strings to
/// text, enums to varchar, money to numeric).
const EVERY_COLUMNS: [(&str, &str); 34] = [
    ("i2", "i2"),
    ("i4", "i4"),
    ("i8", "i8"),
    ("n", "n"),
    ("d", "d"),
    ("d50", "d50"),
    ("f4", "f4"),
    ("f8", "f8"),
    ("md5(t) || length(t)", "md5(t) || length(t)"),
    ("vc", "vc"),
    ("c", "c"),
    ("b", "b"),
    ("dt", "dt"),
    ("tm", "tm"),
    ("ttz", "ttz"),
    ("ts", "ts"),
    ("tstz", "tstz"),
    ("iv", "iv"),
    ("j::jsonb", "j"),
    ("jb", "jb"),
    ("x::text", "x::text"),
    ("u", "u"),
    ("concat(ip)", "ip"),
    ("concat(cd)", "cd"),
    ("concat(mac)", "mac"),
    ("concat(bt)", "bt"),
    ("concat(vb)", "vb"),
    ("arr", "arr"),
    ("tarr", "tarr"),
    ("concat(m)", "m"),
    ("dom", "dom"),
    ("mo::numeric", "mo"),
    ("o", "o"),
    ("bo", "bo"),
];

fn every_rows(columns: impl Fn(&(&str, &str)) -> String) -> String {
    let list: Vec<String> = EVERY_COLUMNS.iter().map(columns).collect();
    format!(
        "SELECT id, {} FROM every ORDER BY id",
        list.iter()
            .map(|c| format!("({c})::text"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[test]
fn every_type_and_edge_value_round_trips_and_validates() {
    let Some(pair) = Pair::new("rep_every") else {
        return;
    };
    // The last date PostgreSQL holds: beyond a timestamp's range (294276 AD), which the
    // validation's checksum once converted dates to.
    pair.source
        .sql(&format!(
            "{}\nUPDATE every SET dt = '5874897-12-31' WHERE id = 3;",
            every_type_with_midnight_end()
        ))
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    let every = table(&summary, "public.every");
    assert_eq!(every["status"], "loaded");
    assert_eq!(every["rows"], 4);
    assert_eq!(every["validation"]["status"], "passed", "{every:#}");
    pair.same(
        &every_rows(|c| c.0.to_string()),
        &every_rows(|c| c.1.to_string()),
    );
    // The 20 MB value arrived whole.
    assert_eq!(
        one(&pair.target, "SELECT length(t) FROM every WHERE id = 4"),
        (20 * 1024 * 1024 + 1).to_string()
    );
    // NULL and empty stay apart.
    assert_eq!(
        one(
            &pair.target,
            "SELECT t IS NULL, t = '' FROM every WHERE id IN (1, 3) ORDER BY id"
        ),
        "f|t\nt|"
    );
}

#[test]
fn gzip_csv_staging_on_s3_round_trips_every_type() {
    let Some(pair) = Pair::new("rep_csv_s3") else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    pair.source.sql(&every_type_with_midnight_end()).unwrap();
    // Arrow's CSV writer can't print instants past year 262143 (chrono's range): the load fails
    // with an error for them (Parquet carries them); everything else is the same table.
    pair.source
        .sql("UPDATE every SET tstz = '9999-12-31 23:59:59.999999+00' WHERE id = 2")
        .unwrap();
    let staging = s3.unique_url("rep_csv");
    let args = [
        "replicate",
        "--source",
        pair.source.url(),
        "--target",
        pair.target.url(),
        "--staging",
        &staging,
        "--staging-endpoint",
        s3.endpoint(),
        "--staging-format",
        "csv",
    ];
    let (code, summary) = migrate_json_on_s3(&args, s3);
    assert_eq!(code, 0, "{summary:#}");
    assert!(summary["staging"].as_str().unwrap().starts_with(&staging));
    assert_eq!(
        table(&summary, "public.every")["validation"]["status"],
        "passed"
    );
    pair.same(
        &every_rows(|c| c.0.to_string()),
        &every_rows(|c| c.1.to_string()),
    );
}

/// Peak resident memory of a process, read while it runs.
fn run_measuring_peak_rss(args: &[&str]) -> (Output, u64) {
    let child = spawn_migrate(args);
    let status = format!("/proc/{}/status", child.id());
    let watcher = std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    let output = child.wait_with_output().expect("wait for migrate");
    (output, watcher.join().expect("watcher"))
}

#[test]
fn a_million_rows_and_a_table_without_key_load_exactly_in_bounded_memory() {
    let Some(pair) = Pair::new("rep_million") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL, x numeric(12,3), at timestamptz);
             INSERT INTO big SELECT g, repeat(md5(g::text), 3), g * 1.125, '2024-01-01'::timestamptz + g * interval '1 second'
               FROM generate_series(1, 1000000) g;
             CREATE TABLE heap (a int, b text);
             INSERT INTO heap SELECT g % 1000, md5(g::text) FROM generate_series(1, 200000) g;
             INSERT INTO heap SELECT 1, 'duplicate' FROM generate_series(1, 3);
             ANALYZE;",
        )
        .unwrap();
    let staging = pair.staging.to_str().unwrap().to_string();
    let started = Instant::now();
    let (output, peak) = run_measuring_peak_rss(&[
        "replicate",
        "--source",
        pair.source.url(),
        "--target",
        pair.target.url(),
        "--staging",
        &staging,
        "--chunk-rows",
        "100000",
        "--output",
        "json",
    ]);
    let seconds = started.elapsed().as_secs_f64();
    let (code, summary) = summary_of(&output);
    assert_eq!(code, 0, "{summary:#}");
    eprintln!(
        "1M + 200k rows in {seconds:.1} s (validation included), peak RSS {} MB",
        peak / 1_000_000
    );
    let big = table(&summary, "public.big");
    assert_eq!(big["rows"], 1_000_000);
    assert!(big["chunks"].as_u64().unwrap() >= 10, "{big:#}");
    assert_eq!(big["validation"]["status"], "passed");
    assert_eq!(
        big["validation"]["parts"], big["chunks"],
        "one part per key range"
    );
    let heap = table(&summary, "public.heap");
    assert_eq!(heap["rows"], 200_003);
    assert!(
        heap["chunks"].as_u64().unwrap() > 1,
        "ctid page ranges: {heap:#}"
    );
    assert_eq!(heap["validation"]["status"], "passed");
    assert_eq!(heap["validation"]["parts"], 1, "ctid ranges compare whole");

    pair.same(
        "SELECT count(*), sum(id), md5(string_agg(v || x::text || at::text, ',' ORDER BY id)) FROM big",
        "SELECT count(*), sum(id), md5(string_agg(v || x::text || at::text, ',' ORDER BY id)) FROM big",
    );
    // No key: the same multiset of rows (duplicates included).
    let rows = "SELECT a, b, count(*) FROM heap GROUP BY a, b ORDER BY a, b";
    pair.same(
        &format!("SELECT count(*), md5(string_agg(r::text, ',')) FROM ({rows}) r"),
        &format!("SELECT count(*), md5(string_agg(r::text, ',')) FROM ({rows}) r"),
    );
    assert!(
        peak < 500 * 1024 * 1024,
        "peak RSS {} MB is over 500 MB",
        peak / 1_000_000
    );
}

const MAPPING: &str = r#"{
  "rules": [
    {"rule-type": "selection", "rule-id": "1", "rule-name": "sales",
     "object-locator": {"schema-name": "sales", "table-name": "%"}, "rule-action": "include",
     "filters": [{"filter-type": "source", "column-name": "region",
                  "filter-conditions": [{"filter-operator": "eq", "value": "EU"},
                                        {"filter-operator": "eq", "value": "US"}]}]},
    {"rule-type": "selection", "rule-id": "2", "rule-name": "no-scratch",
     "object-locator": {"schema-name": "sales", "table-name": "scratch%"}, "rule-action": "exclude"},
    {"rule-type": "transformation", "rule-id": "3", "rule-name": "rename-table", "rule-target": "table",
     "object-locator": {"schema-name": "sales", "table-name": "orders"}, "rule-action": "rename", "value": "order_facts"},
    {"rule-type": "transformation", "rule-id": "4", "rule-name": "rename-column", "rule-target": "column",
     "object-locator": {"schema-name": "sales", "table-name": "orders", "column-name": "amount"},
     "rule-action": "rename", "value": "amount_eur"},
    {"rule-type": "transformation", "rule-id": "5", "rule-name": "drop-notes", "rule-target": "column",
     "object-locator": {"schema-name": "sales", "table-name": "orders", "column-name": "notes"},
     "rule-action": "remove-column"},
    {"rule-type": "transformation", "rule-id": "6", "rule-name": "label", "rule-target": "column",
     "object-locator": {"schema-name": "sales", "table-name": "orders"}, "rule-action": "add-column",
     "value": "label", "expression": "upper($region) || '-' || CASE WHEN $qty > 5 THEN 'bulk' ELSE 'unit' END",
     "data-type": {"type": "string", "length": 20}},
    {"rule-type": "transformation", "rule-id": "7", "rule-name": "qty-wide", "rule-target": "column",
     "object-locator": {"schema-name": "sales", "table-name": "orders", "column-name": "qty"},
     "rule-action": "change-data-type", "data-type": {"type": "int8"}}
  ]
}"#;

#[test]
fn a_dms_mapping_selects_renames_filters_computes_and_converts() {
    let Some(pair) = Pair::new("rep_mapping") else {
        return;
    };
    pair.source
        .sql(
            "CREATE SCHEMA sales;
             CREATE TABLE sales.orders (id int PRIMARY KEY, region text, qty smallint, amount numeric(10,2), notes text);
             INSERT INTO sales.orders SELECT g, (ARRAY['EU', 'US', 'APAC'])[g % 3 + 1], (g % 10)::smallint, g * 2.5, 'note ' || g
               FROM generate_series(1, 3000) g;
             CREATE TABLE sales.scratch_1 (id int PRIMARY KEY, region text);
             CREATE TABLE public.elsewhere (id int PRIMARY KEY, region text, price money);
             ANALYZE;",
        )
        .unwrap();
    let mapping = pair.staging.with_extension("json");
    std::fs::create_dir_all(mapping.parent().unwrap()).unwrap();
    std::fs::write(&mapping, MAPPING).unwrap();
    let (code, summary) = pair.replicate(&[
        "--table-mappings",
        mapping.to_str().unwrap(),
        "--chunk-rows",
        "700",
    ]);
    assert_eq!(code, 0, "{summary:#}");
    let tables: Vec<&str> = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        tables,
        ["sales.order_facts"],
        "scratch excluded, public not selected"
    );
    // Discovery's findings about tables the mapping leaves out (money) are not reported.
    let objects: Vec<&str> = summary["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"].as_str().unwrap())
        .collect();
    assert!(
        !objects.iter().any(|o| o.starts_with("public.elsewhere")),
        "{objects:?}"
    );
    let facts = table(&summary, "sales.order_facts");
    assert_eq!(facts["rows"], 2000, "the APAC third is filtered out");
    assert_eq!(facts["validation"]["status"], "passed", "{facts:#}");
    assert_eq!(
        one(
            &pair.target,
            "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
               FROM information_schema.columns WHERE table_schema = 'sales' AND table_name = 'order_facts'"
        ),
        "id integer, region text, qty bigint, amount_eur numeric, label character varying"
    );
    pair.same(
        "SELECT id, region, qty, amount, upper(region) || '-' || CASE WHEN qty > 5 THEN 'bulk' ELSE 'unit' END
           FROM sales.orders WHERE region IN ('EU', 'US') ORDER BY id",
        "SELECT id, region, qty, amount_eur, label FROM sales.order_facts ORDER BY id",
    );
    assert_eq!(
        one(&pair.target, "SELECT to_regclass('sales.scratch_1') IS NULL AND to_regclass('public.elsewhere') IS NULL"),
        "t"
    );
}

/// A mapping whose rules select no table of the source (here: exclude everything) is refused:
/// exit 2 and a message, not "0 table(s): every table loaded and validated".
#[test]
fn a_mapping_that_selects_no_table_is_refused() {
    let Some(pair) = Pair::new("rep_nothing") else {
        return;
    };
    pair.source
        .sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        .unwrap();
    let mapping = pair.staging.with_extension("json");
    std::fs::create_dir_all(mapping.parent().unwrap()).unwrap();
    std::fs::write(
        &mapping,
        r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "none",
             "object-locator": {"schema-name": "%", "table-name": "%"}, "rule-action": "exclude"}]}"#,
    )
    .unwrap();
    let staging = ["--staging", pair.staging.to_str().unwrap()];
    for (command, extra) in [("replicate", &staging[..]), ("validate", &[])] {
        let mut args = vec![
            command,
            "--source",
            pair.source.url(),
            "--target",
            pair.target.url(),
            "--table-mappings",
            mapping.to_str().unwrap(),
        ];
        args.extend(extra);
        let output = common::migrate(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("the table mapping selects no table of"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn validate_names_the_keys_of_a_corrupted_target() {
    let Some(pair) = Pair::new("rep_corrupt") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2));
             INSERT INTO items SELECT g, 'item ' || g, g / 4.0 FROM generate_series(1, 5000) g;
             CREATE TABLE log (at int, line text);
             INSERT INTO log SELECT g, 'line ' || g FROM generate_series(1, 50) g;
             ANALYZE;",
        )
        .unwrap();
    let (code, summary) = pair.replicate(&["--chunk-rows", "1000"]);
    assert_eq!(code, 0, "{summary:#}");
    let (code, summary) = pair.validate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(table(&summary, "public.items")["validation"]["parts"], 5);

    pair.target
        .sql(
            "UPDATE items SET price = price + 0.01 WHERE id = 4242;
             DELETE FROM items WHERE id = 17;
             INSERT INTO items VALUES (90001, 'intruder', 1);
             DELETE FROM log WHERE at = 7;",
        )
        .unwrap();
    let (code, summary) = pair.validate(&[]);
    assert_eq!(code, 1, "{summary:#}");
    // A table without a key can't name its rows: it fails without counts (not "0 missing").
    let log = &table(&summary, "public.log")["validation"];
    assert_eq!(log["status"], "failed", "{log:#}");
    assert_eq!(
        (
            log.get("missing_in_target"),
            log["source_rows"].as_u64(),
            log["target_rows"].as_u64()
        ),
        (None, Some(50), Some(49)),
        "{log:#}"
    );
    assert!(
        log["note"].as_str().unwrap().contains("can't be named"),
        "{log:#}"
    );
    let v = &table(&summary, "public.items")["validation"];
    assert_eq!(v["status"], "failed");
    assert_eq!(
        (
            &v["missing_in_target"],
            &v["extra_in_target"],
            &v["different"]
        ),
        (&Value::from(1), &Value::from(1), &Value::from(1)),
        "{v:#}"
    );
    let differences: Vec<(String, String)> = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (kind, key) in [
        ("different", "4242"),
        ("missing_in_target", "17"),
        ("extra_in_target", "90001"),
    ] {
        assert!(
            differences
                .iter()
                .any(|(k, d)| k == kind && d.contains(key)),
            "{kind} {key} not in {differences:?}"
        );
    }
    // The text report names them too.
    let output = migrate(&[
        "validate",
        "--source",
        pair.source.url(),
        "--target",
        pair.target.url(),
        "--name",
        "e2e",
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text.contains("different") && text.contains("4242"),
        "{text}"
    );
    assert!(text.contains("FAILED (1 of 1 parts differ)"), "{text}");
}

#[test]
fn a_failed_chunk_resumes_without_duplicates_and_plans_are_kept() {
    let Some(pair) = Pair::new("rep_resume") else {
        return;
    };
    // Row 2500 can't be read exactly (a timestamp after 294247, the end of microseconds since
    // 1970 in 64 bits): its chunk fails, definitely.
    pair.source
        .sql(
            "CREATE TABLE events (id int PRIMARY KEY, day timestamp, what text);
             INSERT INTO events SELECT g, date '2024-01-01' + g % 365, 'event ' || g FROM generate_series(1, 5000) g;
             UPDATE events SET day = '294250-01-01' WHERE id = 2500;
             ANALYZE;",
        )
        .unwrap();
    let (code, summary) = pair.replicate(&["--chunk-rows", "1000"]);
    assert_eq!(code, 1, "{summary:#}");
    let events = table(&summary, "public.events");
    assert_eq!(events["status"], "failed");
    let error = events["error"].as_str().unwrap();
    assert!(
        error.contains("public.events") && error.contains("day") && error.contains("id=2500"),
        "{error}"
    );
    let loaded: u64 = one(&pair.target, "SELECT count(*) FROM events")
        .parse()
        .unwrap();
    assert!(
        loaded < 5000 && loaded % 1000 == 0,
        "whole chunks only: {loaded}"
    );
    assert_eq!(
        one(
            &pair.target,
            "SELECT count(*) FROM events WHERE id BETWEEN 2001 AND 3000"
        ),
        "0",
        "nothing of the failed chunk"
    );

    // Fixed at the source, the run resumes: the loaded chunks stay (DROP_AND_CREATE is not
    // applied again) and only the others load.
    pair.source
        .sql("UPDATE events SET day = '2024-06-01' WHERE id = 2500")
        .unwrap();
    let (code, summary) = pair.replicate(&["--chunk-rows", "1000"]);
    assert_eq!(code, 0, "{summary:#}");
    let events = table(&summary, "public.events");
    assert_eq!(events["chunks_skipped"], loaded / 1000, "{events:#}");
    assert_eq!(events["rows"], 5000);
    assert_eq!(events["rows_loaded"], 5000 - loaded);
    assert_eq!(events["validation"]["status"], "passed");
    pair.same(
        "SELECT count(*), count(DISTINCT id), sum(id), md5(string_agg(day || what, ',' ORDER BY id)) FROM events",
        "SELECT count(*), count(DISTINCT id), sum(id), md5(string_agg(day || what, ',' ORDER BY id)) FROM events",
    );

    // A completed task run again loads nothing.
    let (code, summary) = pair.replicate(&["--chunk-rows", "1000"]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(table(&summary, "public.events")["chunks_loaded"], 0);

    // Another chunk size is another plan: refused, until --restart.
    let (code, summary) = pair.replicate(&["--chunk-rows", "500"]);
    assert_eq!(code, 1);
    let error = table(&summary, "public.events")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("chunk_rows was 1000") && error.contains("--restart"),
        "{error}"
    );
    // The text summary counts the failure it logged as an error (it said "1 warning(s)").
    let output = migrate(&pair.replicate_args(&["--chunk-rows", "500", "--progress", "never"]));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("\n1 error(s) in the log (standard error)"),
        "{text}"
    );
    let (code, summary) = pair.replicate(&["--chunk-rows", "500", "--restart"]);
    assert_eq!(code, 0, "{summary:#}");
    let events = table(&summary, "public.events");
    assert_eq!(
        (&events["chunks_loaded"], &events["rows"]),
        (&Value::from(10), &Value::from(5000))
    );
    assert_eq!(one(&pair.target, "SELECT count(*) FROM events"), "5000");
}

#[test]
fn bad_usage_exits_with_2_and_says_what_to_do() {
    let output = migrate(&["replicate", "--target", "postgres://x@127.0.0.1:1/db"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--source URL"), "{stderr}");

    let output = migrate(&[
        "replicate",
        "--source",
        "postgres://u:hunter2@127.0.0.1:1/db",
        "--target",
        "postgres://u:hunter2@127.0.0.1:1/dw",
        "--staging",
        std::env::temp_dir().join("unused").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "password printed: {stderr}");
}

#[test]
fn redshift_targets_are_staged_with_the_statements_that_load_them() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let source = pg.create_database("rep_redshift_src");
    source
        .sql(
            "CREATE TYPE state AS ENUM ('new', 'paid');
             CREATE TABLE orders (id serial PRIMARY KEY, total numeric(10,2),
                                  state state DEFAULT 'new', at timestamptz DEFAULT now());
             INSERT INTO orders (total) SELECT g * 1.5 FROM generate_series(1, 2500) g;
             ANALYZE;",
        )
        .unwrap();
    let staging = s3.unique_url("rep_redshift");
    let task = staging_file(
        "rs.toml",
        &format!(
            "chunk_rows = 1000\n\
             [source]\nurl = \"{}\"\n\
             [target]\nurl = \"redshift://loader@analytics.abc123.eu-west-1.redshift.amazonaws.com:5439/dev\"\n\
             iam_role = \"arn:aws:iam::123456789012:role/MigrateLoad\"\n\
             [staging]\nurl = \"{staging}\"\nendpoint = \"{}\"\n",
            source.url(),
            s3.endpoint()
        ),
    );
    let (code, summary) = migrate_json_on_s3(&["replicate", "--task", task.to_str().unwrap()], s3);
    assert_eq!(code, 1, "staged is not loaded: {summary:#}");
    let orders = table(&summary, "public.orders");
    assert_eq!(orders["status"], "staged");
    assert_eq!(orders["chunks_loaded"], 3);
    assert!(orders.get("validation").is_none());
    let sql_dir = orders["redshift_sql"].as_str().unwrap();
    let prefix = format!("{staging}/rs/public.orders-");
    assert!(sql_dir.starts_with(&prefix), "{sql_dir}");

    let stage = migrate_stage::Stage::from_url(
        &staging,
        migrate_stage::StageOptions {
            endpoint: Some(s3.endpoint().to_string()),
            allow_http: true,
            ..migrate_stage::StageOptions::default()
        },
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let get = |url: &str| -> String {
        let key = url
            .strip_prefix(&format!("s3://{}/", s3.bucket()))
            .expect("an object of the bucket");
        let path = object_store::path::Path::parse(key).unwrap();
        runtime.block_on(async {
            let object = object_store::ObjectStoreExt::get(stage.store().as_ref(), &path)
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            String::from_utf8(object.bytes().await.unwrap().to_vec()).unwrap()
        })
    };
    let prepare = get(&format!("{sql_dir}/prepare.sql"));
    assert!(
        prepare.contains("CREATE TABLE IF NOT EXISTS migrate.migrate_checkpoint"),
        "{prepare}"
    );
    assert!(
        prepare.contains("DROP TABLE IF EXISTS public.orders;"),
        "{prepare}"
    );
    assert!(prepare.contains("CREATE TABLE public.orders"), "{prepare}");
    // The source's serial and defaults, in Redshift's terms: numbering goes on after the rows.
    for column in [
        "id INTEGER GENERATED BY DEFAULT AS IDENTITY(2501, 1)",
        "state VARCHAR(16) DEFAULT 'new'::VARCHAR(MAX)",
        "at TIMESTAMPTZ DEFAULT GETDATE()",
    ] {
        assert!(prepare.contains(column), "{column}\nnot in\n{prepare}");
    }
    for chunk in 0..3 {
        let sql = get(&format!("{sql_dir}/chunk-{chunk:06}.sql"));
        let manifest = format!(
            "{}/manifest-{chunk:06}.json",
            sql_dir.trim_end_matches("/redshift")
        );
        for part in [
            format!("-- migrate: chunk {chunk} of public.orders (task rs)."),
            "LOCK migrate.migrate_checkpoint;".to_string(),
            format!("COPY public.orders\nFROM '{manifest}'\nIAM_ROLE 'arn:aws:iam::123456789012:role/MigrateLoad'\nMANIFEST\nFORMAT AS PARQUET;"),
            format!("VALUES ('rs', 'public.orders', {chunk}, pg_last_copy_count(), NULL, getdate());\nCOMMIT;"),
        ] {
            assert!(sql.contains(&part), "{part}\nnot in\n{sql}");
        }
        // The manifest the statement names is committed and lists the chunk's object.
        let entries: Value = serde_json::from_str(&get(&manifest)).unwrap();
        let url = entries["entries"][0]["url"].as_str().unwrap();
        assert!(url.ends_with(&format!("{chunk:06}-0.parquet")), "{url}");
    }
}

/// A PostgreSQL source's column defaults (casts to its enums and domains included, which the
/// target does not have, and the defaults columns take from their domains) and its serial and
/// identity columns reach the target: an insert there after the migration gets the same
/// defaults, and numbers that go on after the copied rows.
#[test]
fn a_postgres_sources_defaults_and_identities_reach_the_target() {
    let Some(pair) = Pair::new("rep_defaults") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TYPE mood AS ENUM ('sad', 'ok');
             CREATE DOMAIN short AS varchar(5);
             CREATE DOMAIN answer AS int DEFAULT 42;
             CREATE DOMAIN positive_answer AS answer CHECK (VALUE > 0);
             CREATE DOMAIN code AS varchar(4) DEFAULT 'zz';
             CREATE TABLE t (
                 id serial PRIMARY KEY,
                 k answer,
                 k2 positive_answer,
                 k3 answer DEFAULT 7,
                 c code,
                 m mood DEFAULT 'ok',
                 moods mood[] DEFAULT '{ok,sad}',
                 d short DEFAULT 'ab'::short,
                 s text DEFAULT 'it''s ::mood',
                 n numeric(5,2) DEFAULT 1.5,
                 b boolean NOT NULL DEFAULT false,
                 twice int GENERATED ALWAYS AS (id * 2) STORED);
             CREATE TABLE a (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 50 INCREMENT BY 5)
                             PRIMARY KEY, v text);
             INSERT INTO t (m) VALUES ('sad'), ('ok'), (DEFAULT);
             INSERT INTO a (v) VALUES ('x'), ('y');",
        )
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    // The generated column holds the copied values; the target does not compute it, and says so.
    assert!(
        summary["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| { f["code"] == "column.generated" && f["object"] == "public.t.twice" }),
        "{summary:#}"
    );
    for name in ["public.t", "public.a"] {
        assert_eq!(
            table(&summary, name)["validation"]["status"],
            "passed",
            "{summary:#}"
        );
    }
    assert_eq!(
        one(
            &pair.target,
            "INSERT INTO t DEFAULT VALUES RETURNING id, m, moods, d, s, n, b, twice, k, k2, k3, c"
        ),
        "4|ok|{ok,sad}|ab|it's ::mood|1.50|f||42|42|7|zz"
    );
    assert_eq!(
        one(&pair.target, "INSERT INTO a (v) VALUES ('z') RETURNING id"),
        "60"
    );
}

/// A key's PostgreSQL 15 `NULLS NOT DISTINCT` decides which rows the target accepts, and its
/// `INCLUDE` columns which queries its index answers alone: both reach the target's keys.
#[test]
fn a_postgres_sources_key_options_reach_the_target() {
    let Some(pair) = Pair::new("rep_key_options") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE k (id int, v text, code text UNIQUE NULLS NOT DISTINCT, PRIMARY KEY (id) INCLUDE (v));
             INSERT INTO k VALUES (1, 'a', NULL), (2, 'b', 'x');",
        )
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        table(&summary, "public.k")["validation"]["status"],
        "passed",
        "{summary:#}"
    );
    assert_eq!(
        one(
            &pair.target,
            "SELECT string_agg(pg_get_indexdef(indexrelid), '; ' ORDER BY indexrelid::regclass::text)
               FROM pg_index WHERE indrelid = 'k'::regclass"
        ),
        "CREATE UNIQUE INDEX k_code_key ON public.k USING btree (code) NULLS NOT DISTINCT; \
         CREATE UNIQUE INDEX k_pkey ON public.k USING btree (id) INCLUDE (v)"
    );
    let second_null = pair.target.sql("INSERT INTO k VALUES (3, 'c', NULL)");
    assert!(
        second_null.is_err(),
        "a second NULL code must be refused, as the source refuses it"
    );
}

/// A target table that already exists (TRUNCATE_BEFORE_LOAD) keeps its own identity sequence,
/// which knows nothing of the loaded rows: the load moves it past them, so the target's next
/// insert does not collide with a copied row; one counting down goes down past them.
#[test]
fn a_loaded_tables_identity_moves_past_the_copied_rows() {
    let Some(pair) = Pair::new("rep_identity_move") else {
        return;
    };
    let tables = "CREATE TABLE up (id serial PRIMARY KEY, v text);
                  CREATE TABLE down (id int GENERATED BY DEFAULT AS IDENTITY (START WITH -1 INCREMENT BY -1)
                                     PRIMARY KEY, v text);";
    pair.source
        .sql(&format!(
            "{tables} INSERT INTO up (v) SELECT 'x' FROM generate_series(1, 7);
                      INSERT INTO down (v) SELECT 'x' FROM generate_series(1, 3);"
        ))
        .unwrap();
    pair.target.sql(tables).unwrap();
    let (code, summary) = pair.replicate(&["--prep-mode", "TRUNCATE_BEFORE_LOAD"]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        one(
            &pair.target,
            "INSERT INTO up (v) VALUES ('new') RETURNING id"
        ),
        "8"
    );
    assert_eq!(
        one(
            &pair.target,
            "INSERT INTO down (v) VALUES ('new') RETURNING id"
        ),
        "-4"
    );
}

/// Tables created from a live PostgreSQL source keep their sequences' MAXVALUE, MINVALUE and
/// CYCLE: the target's sequences give the source's next values. A column holding values past
/// its sequence's bound leaves the sequence at it, with a warning.
#[test]
fn replicated_sequences_keep_their_bounds_and_cycle() {
    let Some(pair) = Pair::new("rep_seq_bounds") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE lap (id int GENERATED BY DEFAULT AS IDENTITY (MAXVALUE 5 CYCLE) PRIMARY KEY, v text);
             INSERT INTO lap (v) SELECT 'x' FROM generate_series(1, 3);
             CREATE SEQUENCE down_seq INCREMENT BY -1 MINVALUE -4 MAXVALUE -1 CYCLE;
             CREATE TABLE down (id int DEFAULT nextval('down_seq') PRIMARY KEY);
             INSERT INTO down DEFAULT VALUES;
             CREATE TABLE capped (id int GENERATED BY DEFAULT AS IDENTITY (MAXVALUE 5) PRIMARY KEY, v text);
             INSERT INTO capped (id, v) VALUES (1, 'a'), (9, 'past MAXVALUE');",
        )
        .unwrap();
    let output = migrate(&pair.replicate_args(&[]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // Four next values of a sequence, as SQL.
    let draws = |sequence: &str| {
        format!("SELECT string_agg(nextval({sequence})::text, ' ') FROM generate_series(1, 4)")
    };
    let lap = draws("pg_get_serial_sequence('lap', 'id')");
    assert_eq!(one(&pair.source, &lap), "4 5 1 2");
    assert_eq!(one(&pair.target, &lap), "4 5 1 2");
    assert_eq!(one(&pair.source, &draws("'down_seq'")), "-2 -3 -4 -1");
    assert_eq!(
        one(&pair.target, &draws("pg_get_serial_sequence('down', 'id')")),
        "-2 -3 -4 -1"
    );
    let capped = pair
        .target
        .sql("SELECT nextval(pg_get_serial_sequence('capped', 'id'))")
        .unwrap_err();
    assert!(capped.message.contains("reached maximum value"), "{capped}");
    assert!(
        stderr.contains("values above the MAXVALUE 5 of its sequence public.capped_id_seq"),
        "{stderr}"
    );
}

/// A file in a fresh temporary directory.
fn staging_file(name: &str, content: &str) -> PathBuf {
    let dir = staging("files");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn a_database_is_never_loaded_into_itself() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("rep_itself");
    db.sql("CREATE TABLE keep (id int PRIMARY KEY); INSERT INTO keep VALUES (1), (2);")
        .unwrap();
    let staging = staging("rep_itself");
    // Replicates the database into `target`, a URL of itself.
    let into = |target: &str, extra: &[&str]| {
        let mut args = vec![
            "replicate",
            "--source",
            db.url(),
            "--target",
            target,
            "--staging",
            staging.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        migrate_json(&args)
    };
    let into_itself = |extra: &[&str]| into(db.url(), extra);
    // The table loading into `target` through `url` must fail with `error`, and `keep` keep its
    // rows.
    let refused_through = |url: &str, extra: &[&str], target: &str, error: &str| {
        let (code, summary) = into(url, extra);
        assert_eq!(code, 1, "{summary:#}");
        let failed = table(&summary, target);
        assert_eq!(failed["status"], "failed");
        assert!(
            failed["error"].as_str().unwrap().contains(error),
            "{failed:#}"
        );
        assert_eq!(
            one(&db, "SELECT count(*) FROM keep"),
            "2",
            "the source is untouched"
        );
    };
    let refused =
        |extra: &[&str], target: &str, error: &str| refused_through(db.url(), extra, target, error);
    refused(&[], "public.keep", "would load into itself");
    // The same server by another of its names: the URLs differ, the database is the same (the
    // emptied target was this very table before).
    let another_name = if db.url().contains("127.0.0.1") {
        db.url().replacen("127.0.0.1", "localhost", 1)
    } else {
        db.url().replacen("localhost", "127.0.0.1", 1)
    };
    assert_ne!(
        another_name,
        db.url(),
        "the test server's URL names 127.0.0.1 or localhost"
    );
    for prep in ["DROP_AND_CREATE", "TRUNCATE_BEFORE_LOAD"] {
        refused_through(
            &another_name,
            &["--prep-mode", prep],
            "public.keep",
            "would load into itself",
        );
    }

    // `"Keep"`, lower-cased by a rule, loads into `keep`: another table of the source, not
    // selected. Preparing it dropped `keep` and its rows before.
    db.sql(r#"CREATE TABLE "Keep" (id int PRIMARY KEY); INSERT INTO "Keep" VALUES (9);"#)
        .unwrap();
    let mapping = staging_file(
        "lower.json",
        r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
             "object-locator": {"schema-name": "public", "table-name": "Keep"}, "rule-action": "include"},
           {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-action": "convert-lowercase",
             "rule-target": "table", "object-locator": {"schema-name": "public", "table-name": "Keep"}}]}"#,
    );
    refused(
        &["--table-mappings", mapping.to_str().unwrap()],
        "public.keep",
        "would load into public.keep, a table of the source database that this task did not create",
    );

    // Into another schema of the same database: the first run creates `copy.keep`, and the
    // runs after it (a resume, a restart) find it as a table of the source, theirs to prepare.
    db.sql(r#"DROP TABLE "Keep"; CREATE SCHEMA copy; CREATE SCHEMA other; CREATE TABLE other.keep (mine text); INSERT INTO other.keep VALUES ('the user''s');"#)
        .unwrap();
    let into_schema = |schema: &str| {
        staging_file(
            &format!("into_{schema}.json"),
            &format!(
                r#"{{"rules": [{{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                     "object-locator": {{"schema-name": "public", "table-name": "keep"}}, "rule-action": "include"}},
                   {{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-action": "rename",
                     "rule-target": "schema", "object-locator": {{"schema-name": "public"}}, "value": "{schema}"}}]}}"#
            ),
        )
    };
    let copy = into_schema("copy");
    let copy = copy.to_str().unwrap();
    for extra in [&[][..], &[][..], &["--restart"][..]] {
        let (code, summary) = into_itself(&[&["--table-mappings", copy][..], extra].concat());
        assert_eq!(code, 0, "{extra:?}: {summary:#}");
        assert_eq!(
            table(&summary, "copy.keep")["status"],
            "loaded",
            "{summary:#}"
        );
        assert_eq!(one(&db, "SELECT count(*) FROM copy.keep"), "2");
    }
    // A table of the user's where the mapping puts the target: never this task's.
    let other = into_schema("other");
    refused(
        &["--table-mappings", other.to_str().unwrap()],
        "other.keep",
        "would load into other.keep, a table of the source database that this task did not create",
    );
    assert_eq!(one(&db, "SELECT mine FROM other.keep"), "the user's");
}

#[test]
fn broken_connections_are_retried_on_new_ones() {
    let Some(pair) = Pair::new("rep_broken") else {
        return;
    };
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, v text);
             INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 200000) g;
             ANALYZE;",
        )
        .unwrap();
    let staging = pair.staging.to_str().unwrap().to_string();
    let mut child = spawn_migrate(&[
        "replicate",
        "--source",
        pair.source.url(),
        "--target",
        pair.target.url(),
        "--staging",
        &staging,
        "--chunk-rows",
        "10000",
        "--output",
        "json",
    ]);
    // Terminate the sessions of migrate on the target that are running a statement, at three
    // moments of the load (an idle pooled session may never be used again: breaking only those
    // would test nothing).
    let (mut terminated, mut moments) = (0, 0);
    for _ in 0..200 {
        if moments == 3 || child.try_wait().expect("poll migrate").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        let broken = pg
            .sql(&format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                  WHERE datname = '{}' AND pid <> pg_backend_pid() AND state = 'active'",
                pair.target.name()
            ))
            .unwrap()
            .trim()
            .parse::<u32>()
            .unwrap();
        if broken > 0 {
            terminated += broken;
            moments += 1;
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let output = child.wait_with_output().expect("wait for migrate");
    let (code, summary) = summary_of(&output);
    assert!(
        terminated > 0,
        "no session running a statement was terminated: the load ended too soon"
    );
    assert_eq!(code, 0, "{summary:#}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("retrying"), "{stderr}");
    let t = table(&summary, "public.t");
    assert_eq!(t["rows"], 200_000);
    assert_eq!(t["validation"]["status"], "passed");
    pair.same(
        "SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM t",
        "SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM t",
    );
}

#[test]
fn values_of_100_mb_arrive_whole() {
    let Some(pair) = Pair::new("rep_huge") else {
        return;
    };
    // 100 MiB of text (with 4-byte characters) and of bytes, beside small rows.
    pair.source
        .sql(
            "CREATE TABLE huge (id int PRIMARY KEY, t text, b bytea);
             INSERT INTO huge VALUES
               (1, repeat('0123456789abcd🎉', 100 * 1024 * 1024 / 18), NULL),
               (2, 'small', '\\x00ff'),
               (3, NULL, decode(repeat('00ff10', 100 * 1024 * 1024 / 3), 'hex'));",
        )
        .unwrap();
    let staging = pair.staging.to_str().expect("utf-8 path").to_string();
    let (output, peak) = run_measuring_peak_rss(&[
        "replicate",
        "--source",
        pair.source.url(),
        "--target",
        pair.target.url(),
        "--staging",
        &staging,
        "--name",
        "e2e",
        "--output",
        "json",
    ]);
    let (code, summary) = summary_of(&output);
    assert_eq!(code, 0, "{summary:#}");
    let huge = table(&summary, "public.huge");
    assert_eq!(huge["rows"], 3);
    assert_eq!(huge["validation"]["status"], "passed", "{huge:#}");
    pair.same(
        "SELECT id, length(t), md5(t), length(b), md5(b) FROM huge ORDER BY id",
        "SELECT id, length(t), md5(t), length(b), md5(b) FROM huge ORDER BY id",
    );
    eprintln!("two 100 MB values: peak RSS {} MB", peak / 1024 / 1024);
    // A value is held a few times over (decoded, in its batch, in the Parquet page, encoded for
    // COPY), never per row of the table.
    assert!(
        peak < 1536 * 1024 * 1024,
        "peak RSS {} MB moving two 100 MB values",
        peak / 1024 / 1024
    );
}

/// A nullable column numbered by a sequence's `nextval` holds NULLs: it is loaded as a plain
/// column, with the finding that says so. Before, it became an identity, NOT NULL, and the
/// table failed at its first NULL.
#[test]
fn a_nullable_column_numbered_by_a_sequence_keeps_its_nulls() {
    let Some(pair) = Pair::new("rep_nullseq") else {
        return;
    };
    pair.source
        .sql(
            "CREATE SEQUENCE s; CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT nextval('s'));
             INSERT INTO t VALUES (1, NULL); INSERT INTO t (id) VALUES (2);",
        )
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        table(&summary, "public.t")["validation"]["status"],
        "passed"
    );
    assert_eq!(
        one(
            &pair.target,
            "SELECT id || ':' || coalesce(n::text, 'null') FROM t ORDER BY id"
        ),
        "1:null\n2:1"
    );
    let codes: Vec<&str> = summary["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"identity.nullable"), "{codes:?}");
}

/// A target table dropped after its load (to load it again) is loaded again by the next run of
/// the task. Before, the run trusted the recorded chunks, loaded nothing and failed.
#[test]
fn a_dropped_target_table_is_loaded_again() {
    let Some(pair) = Pair::new("rep_dropped") else {
        return;
    };
    pair.source
        .sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 50);")
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    pair.target.sql("DROP TABLE t").unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    let t = table(&summary, "public.t");
    assert_eq!(
        (t["rows_loaded"].as_u64(), t["chunks_skipped"].as_u64()),
        (Some(50), Some(0)),
        "{t:#}"
    );
    assert_eq!(t["validation"]["status"], "passed", "{t:#}");
    assert_eq!(one(&pair.target, "SELECT count(*) FROM t"), "50");
}

/// Two source tables whose names are one name in PostgreSQL (`"Foo"` and `foo` both become
/// `foo`) fail, both, instead of the second load replacing the first while both say loaded.
#[test]
fn tables_that_would_share_a_target_table_fail_instead_of_merging() {
    let Some(pair) = Pair::new("rep_collide") else {
        return;
    };
    pair.source
        .sql(
            r#"CREATE TABLE "Foo" (id int PRIMARY KEY, v text); INSERT INTO "Foo" VALUES (1, 'upper');
               CREATE TABLE foo (id int PRIMARY KEY, v text); INSERT INTO foo VALUES (2, 'lower');
               CREATE TABLE other (id int PRIMARY KEY); INSERT INTO other VALUES (3);"#,
        )
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_ne!(code, 0, "{summary:#}");
    let colliding: Vec<&serde_json::Value> = summary["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter(|t| t["target"] == "public.foo")
        .collect();
    assert_eq!(colliding.len(), 2, "{summary:#}");
    for t in colliding {
        assert_eq!(t["status"], "failed", "{t:#}");
        let error = t["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("all load into target table public.foo") && error.contains("rename"),
            "{error}"
        );
    }
    assert_eq!(table(&summary, "public.other")["status"], "loaded");
}

/// The summary names a target table as the target has it: a source's `"Mixed"` is loaded into
/// `mixed` (names are folded), and that is the name shown (it showed `public."Mixed"`).
#[test]
fn the_summary_shows_the_target_tables_real_name() {
    let Some(pair) = Pair::new("rep_label") else {
        return;
    };
    pair.source
        .sql(r#"CREATE TABLE "Mixed" (id int PRIMARY KEY); INSERT INTO "Mixed" VALUES (1);"#)
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    let mixed = table(&summary, "public.mixed");
    assert_eq!(mixed["source"], r#"public."Mixed""#, "{mixed:#}");
    assert_eq!(one(&pair.target, "SELECT count(*) FROM public.mixed"), "1");
}

/// Two columns whose names are one name in PostgreSQL (`"A"` and `a`) fail their table before
/// the target is touched, with an error that says how to rename one; a rename rule then loads it.
/// Before, the load failed at COPY ("column a specified more than once") after creating the
/// table with a renamed column the load did not know about.
#[test]
fn columns_that_would_share_a_target_column_fail_until_one_is_renamed() {
    let Some(pair) = Pair::new("rep_colcollide") else {
        return;
    };
    pair.source
        .sql(r#"CREATE TABLE t (id int PRIMARY KEY, "A" int, a int); INSERT INTO t VALUES (1, 10, 20);"#)
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_ne!(code, 0, "{summary:#}");
    let t = table(&summary, "public.t");
    assert_eq!(t["status"], "failed", "{t:#}");
    let error = t["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(r#"columns "A" and a both load into column a of target table public.t"#)
            && error.contains("rename transformation rule"),
        "{error}"
    );
    assert_eq!(
        one(
            &pair.target,
            "SELECT count(*) FROM pg_class WHERE relname = 't'"
        ),
        "0"
    );

    let mapping = staging_file(
        "rename.json",
        r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
             "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"},
           {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-action": "rename",
             "rule-target": "column", "value": "a_upper",
             "object-locator": {"schema-name": "public", "table-name": "t", "column-name": "A"}}]}"#,
    );
    let (code, summary) = pair.replicate(&["--table-mappings", mapping.to_str().unwrap()]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        table(&summary, "public.t")["validation"]["status"],
        "passed",
        "{summary:#}"
    );
    assert_eq!(
        one(&pair.target, "SELECT a_upper || '/' || a FROM t"),
        "10/20"
    );
}

/// A staging area that can't be written (here an S3 bucket that does not exist) stops the run
/// before any target table is prepared: the target's existing table keeps its rows.
#[test]
fn an_unwritable_staging_area_stops_the_run_before_the_target_is_touched() {
    let Some(pair) = Pair::new("rep_nostage") else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    pair.source
        .sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        .unwrap();
    pair.target
        .sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (7), (8);")
        .unwrap();
    let output = migrate_command(&[
        "replicate",
        "--source",
        pair.source.url(),
        "--target",
        pair.target.url(),
        "--staging",
        "s3://migrate-no-such-bucket-for-tests/x",
        "--staging-endpoint",
        s3.endpoint(),
    ])
    .envs(s3.env())
    .output()
    .expect("run migrate");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("writing a probe object to s3://migrate-no-such-bucket-for-tests/x"),
        "{stderr}"
    );
    // The S3 error document is read for the user: its code, message and what to do.
    assert!(
        stderr.contains("NoSuchBucket (The specified bucket does not exist): create the bucket")
            && !stderr.contains("<Error>"),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(
        one(
            &pair.target,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM t"
        ),
        "7,8"
    );
}

/// `replicate` copies tables only, and says so: the source's view, materialized view, trigger
/// and its function, procedure, enum and range type, in the schema the task reads, are counted
/// and named in one warning, with the `migrate convert` command that converts them (that it
/// leaves the password out is checked with MariaDB's URL, which has one), and its row-level
/// security policy is named as `migrate assess` reports it; a schema the task does not read is
/// not listed, nor are the functions that come with the range type. Before, the summary said
/// nothing of them.
#[test]
fn the_objects_replicate_does_not_copy_are_reported() {
    let Some(pair) = Pair::new("rep_objects") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, n int);
             INSERT INTO t VALUES (1, 10), (2, 20);
             CREATE VIEW big AS SELECT id FROM t WHERE n > 10;
             CREATE MATERIALIZED VIEW totals AS SELECT sum(n) AS total FROM t;
             CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql
               AS $$BEGIN NEW.n := NEW.n + 1; RETURN NEW; END$$;
             CREATE TRIGGER t_stamp BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION stamp();
             CREATE PROCEDURE bump() LANGUAGE sql AS $$UPDATE t SET n = n + 1$$;
             CREATE TYPE mood AS ENUM ('ok', 'sad');
             CREATE TYPE span AS RANGE (subtype = float8);
             CREATE POLICY mine ON t USING (n > 0);
             CREATE SCHEMA unread;
             CREATE VIEW unread.elsewhere AS SELECT 1 AS one;",
        )
        .unwrap();
    let mapping = common::table_mapping(
        &pair.staging,
        r#"{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
            "object-locator": {"schema-name": "public", "table-name": "%"},
            "rule-action": "include"}"#,
    );
    let (code, summary) = pair.replicate(&[&mapping[0], &mapping[1]]);
    assert_eq!(code, 0, "{summary:#}");
    pair.same(
        "SELECT string_agg(id || ':' || n, ',' ORDER BY id) FROM t",
        "SELECT string_agg(id || ':' || n, ',' ORDER BY id) FROM t",
    );
    let finding = common::the_finding(&summary, "replicate.objects-not-copied")
        .unwrap_or_else(|| panic!("{summary:#}"));
    assert_eq!(finding["severity"], "warning", "{finding:#}");
    let message = finding["message"].as_str().unwrap();
    for listed in [
        "1 view (big)",
        "1 materialized view (totals)",
        "1 function (stamp)",
        "1 procedure (bump)",
        "1 trigger (t_stamp)",
        "2 types (mood, span)",
    ] {
        assert!(message.contains(listed), "{listed}: {message}");
    }
    // A policy is reported as `migrate assess` reports it.
    assert!(
        message.contains(
            "see `migrate assess --source` (docs/findings.md): policy mine (object.unsupported)"
        ),
        "{message}"
    );
    assert!(!message.contains("elsewhere"), "{message}");
    let action = finding["action"].as_str().unwrap();
    let convert = format!(
        "migrate convert --source '{}' --schema 'public' --target postgres",
        pair.source.url()
    );
    assert!(action.contains(&convert), "{action}");
    assert!(
        action.contains("create the triggers only once change capture no longer applies changes"),
        "{action}"
    );
    // In the log too.
    assert!(
        summary["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("1 view (big)"))),
        "{summary:#}"
    );
}

/// A source with tables only gets no such finding.
#[test]
fn a_source_of_tables_only_gets_no_objects_finding() {
    let Some(pair) = Pair::new("rep_objects_none") else {
        return;
    };
    pair.source
        .sql("CREATE TABLE t (id serial PRIMARY KEY, n int); INSERT INTO t (n) VALUES (1);")
        .unwrap();
    let (code, summary) = pair.replicate(&[]);
    assert_eq!(code, 0, "{summary:#}");
    assert!(
        common::the_finding(&summary, "replicate.objects-not-copied").is_none(),
        "{summary:#}"
    );
}

/// A capture (`--cdc`) reports the view it does not copy when it starts and again when it
/// resumes, and never lists the event trigger's function migrate installs on the source for its
/// publication (present by the second run).
#[test]
fn a_capture_reports_the_objects_but_not_its_own() {
    let Some(pair) = Pair::new("rep_objects_cdc") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE t (id int PRIMARY KEY, n int); INSERT INTO t VALUES (1, 10);
             CREATE VIEW big AS SELECT id FROM t WHERE n > 5;",
        )
        .unwrap();
    let run = ["--cdc", "--stop-when-idle", "2", "--progress", "never"];
    for attempt in ["start", "resume"] {
        let (code, summary) = pair.replicate(&run);
        assert_eq!(code, 0, "{attempt}: {summary:#}");
        let finding = common::the_finding(&summary, "replicate.objects-not-copied")
            .unwrap_or_else(|| panic!("{summary:#}"));
        let message = finding["message"].as_str().unwrap();
        assert!(
            message.starts_with("the source has 1 view (big) that replicate does not copy"),
            "{attempt}: {message}"
        );
    }
    assert_eq!(
        one(
            &pair.source,
            "SELECT count(*) FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid
              JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        ),
        "1",
        "migrate's event trigger and its function"
    );
    pair.same("SELECT count(*) FROM t", "SELECT count(*) FROM t");
}
