//! `migrate assess` end to end: the command on scripts (text, JSON, HTML), and the HTML report
//! rendered in headless Chromium as a person would open it: it loads without console errors,
//! its scripts run, and it shows the same totals as the JSON report.

use std::path::{Path, PathBuf};
use std::process::Command;

fn migrate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
}

fn hr_files() -> Option<Vec<PathBuf>> {
    let dir = migrate_testkit::corpora()?.join("oracle/sample-schemas/human_resources");
    Some(vec![dir.join("hr_create.sql"), dir.join("hr_code.sql")])
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {name}"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        if found.is_some() {
            return found;
        }
    }
    assert!(
        !migrate_testkit::servers_required(),
        "Chromium is required here (apt-get install chromium, as .ci/run does) but is missing"
    );
    eprintln!("SKIPPED: no chromium");
    None
}

/// Chromium with a fresh profile and nothing that reaches the network.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut command = Command::new(browser);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The text of the element with `id` in `html` (no nested tags).
fn element_text<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let open = start + html[start..].find('>').unwrap() + 1;
    let close = open + html[open..].find('<').unwrap();
    &html[open..close]
}

#[test]
fn text_and_json_reports_of_scripts() {
    let Some(files) = hr_files() else { return };
    let output = migrate()
        .args(["assess", "--from", "oracle"])
        .args(&files)
        .output()
        .unwrap();
    // Exit 1: procedures and triggers need work.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("87 objects"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colours when stdout is not a terminal"
    );
    let output = migrate()
        .args(["assess", "--from", "oracle", "--format", "json"])
        .args(&files)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["summary"]["objects"]["total"], 87);
    assert_eq!(json["summary"]["by_kind"]["trigger"]["total"], 2);
    // Usage errors exit 2.
    let output = migrate().args(["assess"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = migrate()
        .args(["assess", "--source", "ftp://nowhere/"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("postgres://"));
    // Without the `oracle` feature, an Oracle URL says how to get a build that reads it.
    if !cfg!(feature = "oracle") {
        let output = migrate()
            .args([
                "assess",
                "--source",
                "oracle://scott:tiger@127.0.0.1:1/FREEPDB1",
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--features oracle"), "{stderr}");
        assert!(!stderr.contains("tiger"), "{stderr}");
    }
}

/// The page as Chromium built it, after checking that its scripts ran to the end without an
/// error or a console message of one.
fn render(browser: &Path, work: &Path, html: &Path) -> String {
    let output = headless(browser, &work.join("profile"))
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout).to_string();
    let log = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "chromium failed: {log}");
    assert!(
        dom.contains("data-ready=\"1\""),
        "scripts did not finish: {log}"
    );
    assert!(!dom.contains("data-errors=\""), "errors in the page: {dom}");
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("rror")))
        .collect();
    assert!(console_errors.is_empty(), "{console_errors:?}");
    dom
}

#[test]
fn html_report_renders_in_chromium_with_the_right_totals() {
    let Some(files) = hr_files() else { return };
    let Some(browser) = chromium() else { return };
    let work = std::env::temp_dir().join(migrate_testkit::unique_name("assess_html"));
    std::fs::create_dir_all(&work).unwrap();
    let html = work.join("report.html");
    let json = work.join("report.json");
    for (format, out) in [("html", &html), ("json", &json)] {
        let status = migrate()
            .args(["assess", "--from", "oracle", "--format", format, "--out"])
            .arg(out)
            .args(&files)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1));
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let page = std::fs::read_to_string(&html).unwrap();
    // Self-contained: nothing fetched from anywhere.
    for reference in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!page.contains(reference), "{reference}");
    }

    let dom = render(&browser, &work, &html);
    // The totals shown are those of the JSON report.
    let summary = &report["summary"];
    assert_eq!(
        element_text(&dom, "total-objects"),
        summary["objects"]["total"].to_string()
    );
    assert_eq!(
        element_text(&dom, "total-items"),
        summary["action_items"].to_string()
    );
    assert_eq!(
        element_text(&dom, "total-hours"),
        format!("{:.1}", summary["hours"].as_f64().unwrap())
    );
    // The tables built by the page hold every object and action item.
    assert_eq!(
        element_text(&dom, "objects-count"),
        format!("{n} of {n}", n = summary["objects"]["total"])
    );
    assert_eq!(
        element_text(&dom, "items-count"),
        format!("{n} of {n}", n = summary["action_items"])
    );
    for (table, key) in [
        ("objects-table", "objects"),
        ("items-table", "action_items"),
    ] {
        let start = dom.find(&format!("id=\"{table}\"")).unwrap();
        let body = &dom[start..start + dom[start..].find("</table>").unwrap()];
        // One header row, then one row per entry.
        assert_eq!(
            body.matches("<tr>").count(),
            report[key].as_array().unwrap().len() + 1,
            "{table}"
        );
    }
    assert!(dom.contains("id=\"chart-status\"") && dom.contains("id=\"chart-effort\""));

    // A screenshot for docs/assess.md, when asked for (MIGRATE_SCREENSHOT=path).
    if let Some(path) = std::env::var_os("MIGRATE_SCREENSHOT") {
        let status = headless(&browser, &work.join("profile"))
            .args([
                "--virtual-time-budget=5000",
                "--hide-scrollbars",
                "--window-size=1400,1500",
            ])
            .arg(format!("--screenshot={}", PathBuf::from(path).display()))
            .arg(format!("file://{}", html.display()))
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::fs::remove_dir_all(&work).unwrap();
}

/// `migrate assess --source` on both live engines: the inventory counts what was created, and
/// the preflight names the table without a key.
#[test]
fn live_assessment_of_postgres_and_mariadb() {
    let pg = migrate_testkit::postgres();
    let my = migrate_testkit::mariadb();
    let (Some(pg), Some(my)) = (pg, my) else {
        return;
    };
    let pg_db = pg.create_database("assess_live");
    pg_db
        .sql(
            "CREATE TABLE a (id int PRIMARY KEY, t text); CREATE TABLE nokey (x int);
             CREATE VIEW v AS SELECT id FROM a;
             CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
             CREATE TRIGGER trg BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();
             INSERT INTO a SELECT g, 'x' FROM generate_series(1, 100) g; ANALYZE;",
        )
        .unwrap();
    let my_db = my.create_database("assess_live");
    my_db
        .sql(
            "CREATE TABLE a (id INT PRIMARY KEY, t TEXT); CREATE TABLE nokey (x INT);
             CREATE VIEW v AS SELECT id FROM a;
             CREATE TRIGGER trg BEFORE INSERT ON a FOR EACH ROW SET NEW.t = UPPER(NEW.t);",
        )
        .unwrap();
    for (url, schema, routines) in [
        (pg_db.url().to_string(), "public".to_string(), 2),
        (my_db.url().to_string(), my_db.name().to_string(), 1),
    ] {
        let output = migrate()
            .args(["assess", "--format", "json", "--source", &url])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["source"]["kind"], "live");
        let kinds = &json["summary"]["by_kind"];
        assert_eq!(kinds["table"]["total"], 2, "{url}");
        assert_eq!(kinds["view"]["total"], 1, "{url}");
        assert_eq!(kinds["trigger"]["total"], 1, "{url}");
        let code: u64 = ["function", "procedure", "trigger"]
            .iter()
            .map(|k| kinds[*k]["total"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(code, routines, "{url}");
        let schemas = json["schemas"].as_array().unwrap();
        assert_eq!(schemas.len(), 1);
        assert_eq!(schemas[0]["schema"], schema.as_str());
        let blocker = json["preflight"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "preflight.no-key" && c["status"] == "blocker")
            .unwrap_or_else(|| panic!("no key blocker: {}", json["preflight"]));
        assert_eq!(blocker["object"], format!("{schema}.nokey"));
        // The password never appears in the report.
        let text = String::from_utf8_lossy(&output.stdout);
        if let Some(password) = url
            .split("://")
            .nth(1)
            .and_then(|r| r.split('@').next())
            .and_then(|c| c.split_once(':'))
            .map(|(_, p)| p)
        {
            assert!(!text.contains(&format!(":{password}@")), "{url}");
        }
    }
}

/// LOB storage apart from table sizes: PostgreSQL reports its TOAST bytes (> 0 for large text
/// values, and within the table's size); MariaDB has no separate figure, so it is unknown
/// (null), never 0 — in the JSON, the terminal summary and the HTML report (rendered in
/// Chromium).
#[test]
fn live_lob_sizes_are_reported_apart_from_table_sizes() {
    let (Some(pg), Some(my)) = (migrate_testkit::postgres(), migrate_testkit::mariadb()) else {
        return;
    };
    let pg_db = pg.create_database("assess_lob");
    // 64 KiB of random hex per row: stored out of line in the TOAST table.
    pg_db
        .sql(
            "CREATE TABLE docs (id int PRIMARY KEY, body text);
             CREATE TABLE plain (id int PRIMARY KEY, n int);
             INSERT INTO docs SELECT g, (SELECT string_agg(md5(random()::text || g || i), '')
                                           FROM generate_series(1, 2048) i)
               FROM generate_series(1, 40) g;
             INSERT INTO plain SELECT g, g FROM generate_series(1, 100) g; ANALYZE;",
        )
        .unwrap();
    let my_db = my.create_database("assess_lob");
    my_db
        .sql(
            "CREATE TABLE docs (id INT PRIMARY KEY, body LONGTEXT);
             INSERT INTO docs VALUES (1, REPEAT(MD5('x'), 4096));",
        )
        .unwrap();
    let json = |url: &str| -> serde_json::Value {
        let output = migrate()
            .args(["assess", "--format", "json", "--source", url])
            .output()
            .unwrap();
        assert!(
            output.status.code().is_some_and(|c| c < 2),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let table = |report: &serde_json::Value, name: &str| -> serde_json::Value {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "table" && o["name"] == name)
            .unwrap_or_else(|| panic!("no table {name}"))
            .clone()
    };

    let report = json(pg_db.url());
    let docs = table(&report, "docs");
    let (size, lob) = (
        docs["size_bytes"].as_u64().unwrap(),
        docs["lob_bytes"].as_u64().unwrap(),
    );
    assert!(lob > 1_000_000, "40 rows of 64 KiB out of line: {docs}");
    assert!(lob <= size, "{docs}");
    assert_eq!(table(&report, "plain")["lob_bytes"], 0, "no TOAST data");
    assert_eq!(report["summary"]["lob_bytes"].as_u64(), Some(lob));
    let summary = migrate()
        .args(["assess", "--source", pg_db.url()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(text.contains(", of which LOB storage "), "{text}");
    assert!(!text.contains("LOB storage unknown"), "{text}");

    let report = json(my_db.url());
    let docs = table(&report, "docs");
    assert!(docs["size_bytes"].as_u64().unwrap() > 0, "{docs}");
    assert!(docs.get("lob_bytes").is_none(), "unknown, not 0: {docs}");
    assert!(
        report["summary"]["lob_bytes"].is_null(),
        "{}",
        report["summary"]
    );
    let summary = migrate()
        .args(["assess", "--source", my_db.url()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(
        text.contains("of which LOB storage unknown (not reported separately by this engine)"),
        "{text}"
    );

    // The HTML report of both shows them: a size for PostgreSQL, "unknown" for MariaDB.
    let Some(browser) = chromium() else { return };
    let work = std::env::temp_dir().join(migrate_testkit::unique_name("assess_lob_html"));
    std::fs::create_dir_all(&work).unwrap();
    for (url, lob) in [(pg_db.url(), None), (my_db.url(), Some("unknown"))] {
        let html = work.join("report.html");
        let output = migrate()
            .args(["assess", "--format", "html", "--source", url, "--out"])
            .arg(&html)
            .output()
            .unwrap();
        assert!(output.status.code().is_some_and(|c| c < 2));
        let dom = render(&browser, &work, &html);
        let shown = element_text(&dom, "total-lob");
        match lob {
            Some(expected) => assert_eq!(shown, expected),
            None => assert!(shown.ends_with(" MiB"), "{shown}"),
        }
        // The objects table has the size columns.
        assert!(dom.contains(">LOB size</th>"), "no LOB size column");
    }
    std::fs::remove_dir_all(&work).unwrap();
}

/// The `type.range` items of the columns of `json`, as (object, the inventory name of the object
/// they are attached to).
fn range_items(json: &serde_json::Value) -> Vec<(String, String)> {
    let objects = json["objects"].as_array().expect("objects");
    json["action_items"]
        .as_array()
        .expect("action items")
        .iter()
        .filter(|item| item["code"] == "type.range")
        .map(|item| {
            let attached = item["object_id"]
                .as_u64()
                .and_then(|id| objects.iter().find(|o| o["id"] == id))
                .map_or("(none)".to_string(), |o| {
                    format!("{} {}", o["kind"].as_str().unwrap_or("?"), o["name"])
                });
            (item["object"].as_str().unwrap_or("?").to_string(), attached)
        })
        .collect()
}

/// Findings on quoted column names attach to the column, from scripts and from a live source.
#[test]
fn findings_on_quoted_columns_attach_to_the_column() {
    let dir = std::env::temp_dir().join(format!("migrate-assess-quoted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("dur.sql");
    std::fs::write(
        &script,
        r#"CREATE TABLE t (id int primary key, "user" tsrange, "Mixed" tsrange, plain tsrange);"#,
    )
    .unwrap();
    let output = migrate()
        .args(["assess", "--from", "postgres", "--format", "json"])
        .arg(&script)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected =
        |object: &str, column: &str| (object.to_string(), format!("column \"{column}\""));
    assert_eq!(
        range_items(&json),
        [
            expected("t.\"user\"", "t.user"),
            expected("t.\"Mixed\"", "t.Mixed"),
            expected("t.plain", "t.plain"),
        ]
    );
    let table = json["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "table")
        .unwrap();
    assert_eq!(table["status"], "automatic", "{table}");

    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("assess_quoted");
    db.sql(r#"CREATE SCHEMA "Sales"; CREATE TABLE "Sales"."Order Items" (id int PRIMARY KEY, during tsrange, "Mixed" tsrange);"#)
        .unwrap();
    let output = migrate()
        .args(["assess", "--format", "json", "--source", db.url()])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        range_items(&json),
        [
            expected("\"Sales\".\"Order Items\".during", "Order Items.during"),
            expected("\"Sales\".\"Order Items\".\"Mixed\"", "Order Items.Mixed"),
        ]
    );
}

/// PostgreSQL partitions in scripts are counted as partitions of their parent, as live discovery
/// counts them: `CREATE TABLE child PARTITION OF parent` and pg_dump's `ALTER TABLE parent ATTACH
/// PARTITION child`, the bound kept as written.
#[test]
fn postgres_partitions_in_scripts_count_as_live_discovery_counts_them() {
    let ddl =
        "CREATE TABLE m (id int, d date NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);
         CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE m_other PARTITION OF m (CONSTRAINT positive CHECK (id > 0)) DEFAULT;
         CREATE TABLE l (id int, region text) PARTITION BY LIST (region);
         CREATE TABLE l_eu (id int, region text);
         ALTER TABLE ONLY l ATTACH PARTITION l_eu FOR VALUES IN ('eu', 'uk');";
    let partitions = |json: &serde_json::Value| -> Vec<(String, String, String)> {
        let mut found: Vec<_> = json["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["kind"] == "partition")
            .map(|o| {
                let text = |key: &str| o[key].as_str().unwrap_or_default().to_string();
                (text("name"), text("parent"), text("detail"))
            })
            .collect();
        found.sort();
        found
    };
    let expected = [
        ("l partition l_eu", "l", "list"),
        ("m partition m_2024", "m", "range"),
        ("m partition m_other", "m", "range"),
    ]
    .map(|(name, parent, method)| (name.to_string(), parent.to_string(), method.to_string()));

    let dir = std::env::temp_dir().join(format!("migrate-assess-parts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("parts.sql");
    std::fs::write(&script, ddl).unwrap();
    let output = migrate()
        .args(["assess", "--from", "postgres", "--format", "json"])
        .arg(&script)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(partitions(&json), expected);
    assert_eq!(json["summary"]["by_kind"]["partition"]["total"], 3);
    // The child tables are not tables of the target.
    assert_eq!(json["summary"]["by_kind"]["table"]["total"], 2);

    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("assess_partitions");
    db.sql(ddl).unwrap();
    let output = migrate()
        .args(["assess", "--format", "json", "--source", db.url()])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let live: Vec<_> = partitions(&json)
        .into_iter()
        .map(|(name, parent, method)| {
            // Live names are schema-qualified.
            let strip = |s: String| s.replace("public.", "");
            (strip(name), strip(parent), method)
        })
        .collect();
    assert_eq!(live, expected);
}

/// A MySQL script's trigger, procedure and function are assessed with the fix of the target, as
/// a live source's are: PL/pgSQL for PostgreSQL, no triggers on Redshift. Each item keeps its
/// script's file:line.
#[test]
fn routine_fixes_follow_the_target_for_scripts() {
    let dir = std::env::temp_dir().join(format!("migrate-assess-routines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("routines.sql");
    std::fs::write(
        &script,
        "CREATE TABLE film (id int PRIMARY KEY, title varchar(50));
DELIMITER ;;
CREATE TRIGGER film_ins AFTER INSERT ON film FOR EACH ROW BEGIN
  SET @n = NEW.id;
END;;
CREATE PROCEDURE film_count(OUT n int)
BEGIN
  SELECT COUNT(*) INTO n FROM film;
END;;
CREATE FUNCTION film_title(f int) RETURNS varchar(50) READS SQL DATA
RETURN (SELECT title FROM film WHERE id = f);;
DELIMITER ;
",
    )
    .unwrap();
    // (object, line, code, fix) of each routine item, by line (items are listed by hours).
    let routines = |target: &str| -> Vec<(String, u64, String, String)> {
        let output = migrate()
            .args(["assess", "--from", "mysql", "--target", target])
            .args(["--format", "json"])
            .arg(&script)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
        let mut items: Vec<_> = json["action_items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["code"].as_str().unwrap().starts_with("routine."))
            .map(|item| {
                (
                    item["object"].as_str().unwrap().to_string(),
                    item["location"]["line"].as_u64().unwrap(),
                    item["code"].as_str().unwrap().to_string(),
                    item["fix"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        items.sort_by_key(|item| item.1);
        items
    };
    let row = |object: &str, line: u64, code: &str, fix: &str| {
        (object.to_string(), line, code.to_string(), fix.to_string())
    };
    assert_eq!(
        routines("postgres"),
        [
            row("trigger film_ins", 3, "routine.trigger", "rewrite it as a PL/pgSQL trigger function and CREATE TRIGGER; create it only once `migrate replicate --cdc` no longer applies changes to the table (the captured changes carry the rows the source's trigger wrote)"),
            row("procedure film_count", 6, "routine.not-converted", "rewrite it as a PL/pgSQL or SQL function or procedure; `migrate assess` sizes the work"),
            row("function film_title", 10, "routine.not-converted", "rewrite it as a PL/pgSQL or SQL function or procedure; `migrate assess` sizes the work"),
        ]
    );
    assert_eq!(
        routines("redshift"),
        [
            row("trigger film_ins", 3, "routine.trigger", "the target has no triggers: move the logic into the loading process or a scheduled procedure"),
            row("procedure film_count", 6, "routine.not-converted", "rewrite it as a Redshift stored procedure or UDF; `migrate assess` sizes the work"),
            row("function film_title", 10, "routine.not-converted", "rewrite it as a Redshift stored procedure or UDF; `migrate assess` sizes the work"),
        ]
    );
}

/// Overloaded functions share their name: each gets one rewrite item, sized by its own lines,
/// not the first two items and the second a third.
#[test]
fn each_overload_gets_one_rewrite_item() {
    let dir = std::env::temp_dir().join(format!("migrate-assess-overloads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("overloads.sql");
    std::fs::write(
        &script,
        "CREATE FUNCTION f(a int) RETURNS int AS $$ BEGIN RETURN a; END; $$ LANGUAGE plpgsql;
CREATE FUNCTION f(a text) RETURNS text AS $$
BEGIN
  RETURN a;
END;
$$ LANGUAGE plpgsql;
",
    )
    .unwrap();
    let output = migrate()
        .args(["assess", "--from", "postgres", "--target", "postgres"])
        .args(["--format", "json"])
        .arg(&script)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    // (object id, line) of each item.
    let mut items: Vec<(u64, u64)> = json["action_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            assert_eq!(item["code"], "routine.not-converted", "{item}");
            (
                item["object_id"].as_u64().unwrap(),
                item["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    items.sort();
    assert_eq!(items, [(0, 1), (1, 2)], "{json:#}");
    let _ = std::fs::remove_dir_all(&dir);
}
