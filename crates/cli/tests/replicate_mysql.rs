//! `migrate replicate` and `migrate validate` from a real MariaDB into a real PostgreSQL: every
//! MySQL type with its edge values, a million rows, a table without a key, and a DMS mapping.
//! Each test also compares the two databases itself, with SQL that does not go through migrate.

mod common;

use common::{migrate_json, table};
use migrate_testkit::{MariaDbDatabase, PgDatabase};
use serde_json::Value;
use std::path::PathBuf;

/// A MariaDB source database and a PostgreSQL target database.
struct Pair {
    source: MariaDbDatabase,
    target: PgDatabase,
    staging: PathBuf,
}

impl Pair {
    fn new(hint: &str) -> Option<Pair> {
        Some(Pair::on(
            migrate_testkit::mariadb()?,
            migrate_testkit::postgres()?,
            hint,
        ))
    }

    fn on(mariadb: &migrate_testkit::MariaDb, pg: &migrate_testkit::PgServer, hint: &str) -> Pair {
        Pair {
            source: mariadb.create_database(&format!("{hint}_src")),
            target: pg.create_database(&format!("{hint}_dst")),
            staging: std::env::temp_dir().join(migrate_testkit::unique_name(hint)),
        }
    }

    fn run(&self, command: &str, extra: &[&str]) -> (i32, Value) {
        let mut args = vec![
            command,
            "--source",
            self.source.url(),
            "--target",
            self.target.url(),
            "--name",
            "e2e",
        ];
        if command == "replicate" {
            args.extend(["--staging", self.staging.to_str().expect("utf-8 path")]);
            args.extend(["--progress", "never"]);
        }
        args.extend(extra);
        migrate_json(&args)
    }

    /// Asserts that `source_sql` (MariaDB) and `target_sql` (PostgreSQL) print the same rows.
    /// Both must select one text column per row, with NULLs already spelled out.
    fn same(&self, source_sql: &str, target_sql: &str) {
        let a = self.source.sql(source_sql).unwrap();
        let b = self.target.sql(target_sql).unwrap();
        assert!(!a.trim().is_empty(), "{source_sql} printed nothing");
        let differing: Vec<String> = a
            .lines()
            .zip(b.lines())
            .filter(|(x, y)| x != y)
            .take(5)
            .map(|(x, y)| format!("  source: {x:.300}\n  target: {y:.300}"))
            .collect();
        assert!(
            differing.is_empty() && a.lines().count() == b.lines().count(),
            "source and target differ ({} vs {} lines):\n{}",
            a.lines().count(),
            b.lines().count(),
            differing.join("\n")
        );
    }
}

/// The every-type table of the MySQL source's own tests (crates/source-mysql); its spatial
/// column arrives in the target as WKB in BYTEA.
fn every_type_setup() -> String {
    let file = include_str!("../../source-mysql/tests/common/mod.rs");
    let start = file.find("pub const TYPES: &str = \"").expect("TYPES") + 25;
    let end = start + file[start..].find("\";").expect("end of TYPES");
    // The Rust string's escapes, as the compiler reads them in the source crate.
    let sql = file[start..end].replace("\\\"", "\"").replace("\\\\", "\\");
    sql.to_string()
}

/// Per column of `types`: its text on MariaDB and on PostgreSQL, spelled so that equal values
/// print equally: strings and bytes in hex (tabs, newlines and the character set can't blur
/// them), floats widened to double with PostgreSQL's `e+` exponent, times at 6 digits.
/// JSON is compared as documents apart ([`same_documents`]): MariaDB keeps them as written.
const TYPE_COLUMNS: [(&str, &str); 38] = [
    ("ti", "ti::text"),
    ("tiu", "tiu::text"),
    ("t1", "t1::text"),
    ("si", "si::text"),
    ("siu", "siu::text"),
    ("mi", "mi::text"),
    ("miu", "miu::text"),
    ("i", "i::text"),
    ("iu", "iu::text"),
    ("bi", "bi::text"),
    ("biu", "biu::text"),
    ("d", "d::text"),
    ("d65", "d65::text"),
    ("d38", "d38::text"),
    ("du", "du::text"),
    ("CAST(f AS DOUBLE)", "replace(f::float8::text, 'e+', 'e')"),
    ("db", "replace(db::text, 'e+', 'e')"),
    ("b1 + 0", "b1::int::text"),
    ("b8 + 0", "b8::text"),
    ("b64 + 0", "b64::text"),
    ("HEX(c)", "upper(encode(convert_to(c, 'UTF8'), 'hex'))"),
    ("HEX(vc)", "upper(encode(convert_to(vc, 'UTF8'), 'hex'))"),
    ("HEX(tt)", "upper(encode(convert_to(tt, 'UTF8'), 'hex'))"),
    ("HEX(tx)", "upper(encode(convert_to(tx, 'UTF8'), 'hex'))"),
    ("HEX(mt)", "upper(encode(convert_to(mt, 'UTF8'), 'hex'))"),
    ("HEX(lt)", "upper(encode(convert_to(lt, 'UTF8'), 'hex'))"),
    (
        "HEX(CONVERT(lat USING utf8mb4))",
        "upper(encode(convert_to(lat, 'UTF8'), 'hex'))",
    ),
    ("HEX(bn)", "upper(encode(bn, 'hex'))"),
    ("HEX(vb)", "upper(encode(vb, 'hex'))"),
    ("HEX(bl)", "upper(encode(bl, 'hex'))"),
    ("e", "e::text"),
    ("s", "s::text"),
    ("DATE_FORMAT(dt, '%Y-%m-%d')", "to_char(dt, 'YYYY-MM-DD')"),
    (
        "DATE_FORMAT(dtt, '%Y-%m-%d %H:%i:%s.%f')",
        "to_char(dtt, 'YYYY-MM-DD HH24:MI:SS.US')",
    ),
    (
        "DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f')",
        "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    ),
    (
        "TIME_FORMAT(tm, '%H:%i:%s.%f')",
        "to_char(date '2000-01-01' + tm, 'HH24:MI:SS.US')",
    ),
    ("yr", "yr::text"),
    ("HEX(ST_AsBinary(g))", "upper(encode(g, 'hex'))"),
];

/// One text per row of `types`: the columns' texts joined by `|`, NULL as `<null>`.
fn type_rows(mariadb: bool) -> String {
    let columns: Vec<String> = TYPE_COLUMNS
        .iter()
        .map(|(m, p)| {
            if mariadb {
                format!("COALESCE(CAST(({m}) AS CHAR), '<null>')")
            } else {
                format!("COALESCE(({p}), '<null>')")
            }
        })
        .collect();
    if mariadb {
        format!(
            "SET time_zone = '+00:00'; SELECT CONCAT_WS('|', id, {}) FROM types ORDER BY id",
            columns.join(", ")
        )
    } else {
        format!(
            "SET TimeZone = 'UTC'; SELECT concat_ws('|', id, {}) FROM types ORDER BY id",
            columns.join(", ")
        )
    }
}

/// The target's `types.j` holds, row by row, the document of the source's JSON text: `jsonb`
/// equality compares documents (key order, `1e3` and `1000`), so MariaDB's text as written is
/// read into `jsonb` on the target's server and compared there.
fn same_documents(pair: &Pair, schema: &str) {
    let rows = pair
        .source
        .sql("SELECT CONCAT(id, ':', COALESCE(HEX(j), 'NULL')) FROM types ORDER BY id")
        .unwrap();
    let documents: Vec<String> = rows
        .lines()
        .map(|line| {
            let (id, hex) = line.split_once(':').unwrap();
            let document = if hex == "NULL" {
                "NULL::jsonb".to_string()
            } else {
                format!("convert_from(decode('{hex}', 'hex'), 'UTF8')::jsonb")
            };
            format!("({id}, {document})")
        })
        .collect();
    assert_eq!(documents.len(), 5, "{rows}");
    let differing = pair
        .target
        .sql(&format!(
            "SELECT string_agg(id::text, ',') FROM (VALUES {}) AS source (id, j) \
             FULL JOIN \"{schema}\".types t USING (id) WHERE source.j IS DISTINCT FROM t.j",
            documents.join(", ")
        ))
        .unwrap();
    assert_eq!(differing.trim(), "", "rows whose JSON differs");
}

#[test]
fn every_mysql_type_and_edge_value_arrives_exactly_and_validates() {
    let Some(pair) = Pair::new("rep_my_every") else {
        return;
    };
    pair.source.sql(&every_type_setup()).unwrap();
    let schema = pair.source.name().to_string();
    let (code, summary) = pair.run("replicate", &[]);
    assert_eq!(code, 0, "{summary:#}");
    let types = table(&summary, &format!("{schema}.types"));
    assert_eq!(types["status"], "loaded", "{types:#}");
    assert_eq!(types["rows"], 5);
    assert_eq!(types["validation"]["status"], "passed", "{types:#}");

    let target_sql = type_rows(false).replace(" FROM types", &format!(" FROM \"{schema}\".types"));
    pair.same(&type_rows(true), &target_sql);
    same_documents(&pair, &schema);

    // A changed value in the target is found by `migrate validate`, with its key.
    pair.target
        .sql(&format!(
            "UPDATE \"{schema}\".types SET vc = vc || '!' WHERE id = 2"
        ))
        .unwrap();
    let (code, summary) = pair.run("validate", &[]);
    assert_eq!(code, 1, "{summary:#}");
    let validation = &table(&summary, &format!("{schema}.types"))["validation"];
    assert_eq!(validation["status"], "failed", "{validation:#}");
    assert_eq!(validation["different"], 1, "{validation:#}");
    assert!(
        validation.to_string().contains("id=2"),
        "the differing key is named: {validation:#}"
    );
}

const MAPPING: &str = r#"{
  "rules": [
    {"rule-type": "selection", "rule-id": "1", "rule-name": "event-tables",
     "object-locator": {"schema-name": "%", "table-name": "%vents"}, "rule-action": "include"},
    {"rule-type": "selection", "rule-id": "2", "rule-name": "no-scratch",
     "object-locator": {"schema-name": "%", "table-name": "scratch%"}, "rule-action": "exclude"},
    {"rule-type": "selection", "rule-id": "3", "rule-name": "big-orders-only",
     "object-locator": {"schema-name": "%", "table-name": "orders"}, "rule-action": "include",
     "filters": [{"filter-type": "source", "column-name": "amount",
                  "filter-conditions": [{"filter-operator": "gte", "value": "100"}]}]},
    {"rule-type": "transformation", "rule-id": "4", "rule-name": "schema",
     "rule-target": "schema", "object-locator": {"schema-name": "%"},
     "rule-action": "rename", "value": "shop"},
    {"rule-type": "transformation", "rule-id": "5", "rule-name": "events-renamed",
     "rule-target": "table", "object-locator": {"schema-name": "%", "table-name": "events"},
     "rule-action": "rename", "value": "event_log"},
    {"rule-type": "transformation", "rule-id": "6", "rule-name": "no-secret",
     "rule-target": "column",
     "object-locator": {"schema-name": "%", "table-name": "orders", "column-name": "secret"},
     "rule-action": "remove-column"}
  ]
}"#;

#[test]
fn a_million_rows_a_keyless_table_and_a_dms_mapping() {
    let Some(pair) = Pair::new("rep_my_million") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(40) NOT NULL,
                 amount DECIMAL(12,2), placed DATETIME(6), secret VARCHAR(20));
             INSERT INTO orders
               SELECT seq, CONCAT('customer ', seq % 5000), (seq % 1000) + 0.25,
                      TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 7) MICROSECOND,
                      'do not copy'
                 FROM seq_1_to_1000000;
             CREATE TABLE events (kind VARCHAR(10), payload TEXT);
             INSERT INTO events SELECT IF(seq % 2 = 0, 'even', 'odd'), IF(seq % 10 = 0, NULL, REPEAT('x', seq % 50))
               FROM seq_1_to_50000;
             INSERT INTO events VALUES ('dup', 'same'), ('dup', 'same');
             CREATE TABLE scratch_events (id INT PRIMARY KEY);
             ANALYZE TABLE orders, events;",
        )
        .unwrap();
    let mapping = pair.staging.with_extension("json");
    std::fs::write(&mapping, MAPPING).unwrap();
    let (code, summary) = pair.run(
        "replicate",
        &[
            "--table-mappings",
            mapping.to_str().unwrap(),
            "--chunk-rows",
            "200000",
        ],
    );
    assert_eq!(code, 0, "{summary:#}");
    let targets: Vec<&str> = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets.len(), 2, "scratch_events is excluded: {targets:?}");
    let orders = table(&summary, "shop.orders");
    // amount = seq % 1000 + 0.25 >= 100 for 900 of every 1000 rows.
    assert_eq!(orders["rows"], 900_000, "{orders:#}");
    assert_eq!(orders["validation"]["status"], "passed", "{orders:#}");
    let events = table(&summary, "shop.event_log");
    assert_eq!(events["rows"], 50_002, "{events:#}");
    assert_eq!(events["validation"]["status"], "passed", "{events:#}");

    assert_eq!(
        pair.target
            .sql(
                "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
                   FROM information_schema.columns WHERE table_schema = 'shop' AND table_name = 'orders'"
            )
            .unwrap()
            .trim(),
        "id,customer,amount,placed",
        "secret is removed"
    );
    // Independent aggregates over every value.
    pair.same(
        "SET time_zone = '+00:00';
         SELECT CONCAT_WS('|', COUNT(*), SUM(id), SUM(amount),
                          DATE_FORMAT(MIN(placed), '%Y-%m-%d %H:%i:%s.%f'),
                          DATE_FORMAT(MAX(placed), '%Y-%m-%d %H:%i:%s.%f'),
                          SUM(MICROSECOND(placed)), COUNT(DISTINCT customer))
           FROM orders WHERE amount >= 100",
        "SET TimeZone = 'UTC';
         SELECT concat_ws('|', count(*), sum(id), sum(amount),
                          to_char(min(placed), 'YYYY-MM-DD HH24:MI:SS.US'),
                          to_char(max(placed), 'YYYY-MM-DD HH24:MI:SS.US'),
                          sum(extract(microseconds FROM placed)::bigint % 1000000), count(DISTINCT customer))
           FROM shop.orders",
    );
    pair.same(
        "SELECT CONCAT_WS('|', customer, COUNT(*), SUM(amount)) FROM orders WHERE amount >= 100
           GROUP BY customer ORDER BY CAST(customer AS BINARY)",
        "SELECT concat_ws('|', customer, count(*), sum(amount)) FROM shop.orders
           GROUP BY customer ORDER BY customer COLLATE \"C\"",
    );
    pair.same(
        "SELECT CONCAT_WS('|', kind, COALESCE(payload, '<null>'), COUNT(*)) FROM events
           GROUP BY kind, payload ORDER BY kind, COALESCE(payload, '<null>')",
        "SELECT concat_ws('|', kind, COALESCE(payload, '<null>'), count(*)) FROM shop.event_log
           GROUP BY kind, payload ORDER BY kind COLLATE \"C\", COALESCE(payload, '<null>') COLLATE \"C\"",
    );
}

#[test]
fn replicate_and_validate_run_over_tls() {
    // Servers that accept TLS only; their URLs ask for ssl-mode=VERIFY_IDENTITY and
    // sslmode=verify-full against the test CAs.
    let (Some(mariadb), Some(pg)) = (
        migrate_testkit::mariadb_tls(),
        migrate_testkit::postgres_tls(),
    ) else {
        return;
    };
    let pair = Pair::on(mariadb, pg, "rep_my_tls");
    pair.source.sql(&every_type_setup()).unwrap();
    let schema = pair.source.name().to_string();
    let (code, summary) = pair.run("replicate", &[]);
    assert_eq!(code, 0, "{summary:#}");
    let types = table(&summary, &format!("{schema}.types"));
    assert_eq!(types["validation"]["status"], "passed", "{types:#}");
    let target_sql = type_rows(false).replace(" FROM types", &format!(" FROM \"{schema}\".types"));
    pair.same(&type_rows(true), &target_sql);
    let (code, summary) = pair.run("validate", &[]);
    assert_eq!(code, 0, "{summary:#}");
}

/// A unique key on a prefix of a TEXT column (`UNIQUE KEY (url(20))`) is not a key on the whole
/// column: made one on the target, a long value the source holds would not fit in its index
/// and the load would fail. The table loads whole, and the key's own rule is not created.
#[test]
fn a_unique_prefix_key_does_not_become_a_key_on_the_whole_column() {
    let Some(pair) = Pair::new("rep_my_prefix") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE pages (id INT PRIMARY KEY, url TEXT, UNIQUE KEY pages_url (url(20)));
             INSERT INTO pages
             SELECT a.seq, CONCAT(a.seq, '-', GROUP_CONCAT(MD5(a.seq * 1000 + b.seq) SEPARATOR ''))
               FROM seq_1_to_3 a, seq_1_to_100 b GROUP BY a.seq;",
        )
        .unwrap();
    let schema = pair.source.name().to_string();
    let (code, summary) = pair.run("replicate", &[]);
    assert_eq!(code, 0, "{summary:#}");
    let pages = table(&summary, &format!("{schema}.pages"));
    assert_eq!(pages["status"], "loaded", "{pages:#}");
    assert_eq!(pages["rows"], 3);
    assert_eq!(pages["validation"]["status"], "passed", "{pages:#}");
    let keys = pair
        .target
        .sql(&format!(
            "SELECT string_agg(pg_get_constraintdef(oid), '; ') FROM pg_constraint WHERE conrelid = '\"{schema}\".pages'::regclass"
        ))
        .unwrap();
    assert_eq!(keys.trim(), "PRIMARY KEY (id)");
}

/// A source's CHECK constraints reach the target (discovery read only MariaDB's `json_valid`
/// ones, so the target accepted what the source refuses), a BIT(1) compared with an integer
/// included (a boolean in the target: `CHECK (b = 1)` as written was refused by PostgreSQL and
/// the table was not created). A live BOOLEAN is TINYINT(1), a SMALLINT in the target, and
/// MariaDB keeps `ok OR ...` as `ok <> 0 or ...`.
#[test]
fn check_constraints_reach_the_target() {
    let Some(pair) = Pair::new("rep_my_checks") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE acct (id INT PRIMARY KEY, qty INT, b BIT(1), ok BOOLEAN,
                                CONSTRAINT qty_positive CHECK (qty > 0),
                                CONSTRAINT b_set CHECK (b = 1 OR qty > 10),
                                CONSTRAINT ok_alone CHECK (ok OR qty > 1));
             INSERT INTO acct VALUES (1, 5, 1, 1), (2, 20, 0, 0);",
        )
        .unwrap();
    let schema = pair.source.name().to_string();
    let (code, summary) = pair.run("replicate", &[]);
    assert_eq!(code, 0, "{summary:#}");
    let acct = table(&summary, &format!("{schema}.acct"));
    assert_eq!(
        (
            &acct["status"],
            &acct["rows"],
            &acct["validation"]["status"]
        ),
        (&"loaded".into(), &2.into(), &"passed".into()),
        "{acct:#}"
    );
    let target = format!("\"{schema}\".acct");
    for (row, constraint) in [
        ("(3, -1, TRUE, 1)", "qty_positive"),
        ("(3, 5, FALSE, 1)", "b_set"),
        ("(3, 1, TRUE, 0)", "ok_alone"),
    ] {
        let refused = pair
            .target
            .sql(&format!("INSERT INTO {target} VALUES {row}"));
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains(constraint)),
            "{row}: {refused:?}"
        );
    }
    pair.target
        .sql(&format!("INSERT INTO {target} VALUES (3, 5, TRUE, 1)"))
        .unwrap();
}

/// MariaDB keeps JSON as written, with the escapes PHP's `json_encode` and Python's `json.dumps`
/// write by default (`\u00e9`, `\/`), which the target's `jsonb` decodes. Equal documents
/// validate as equal (the rows are hashed on the client), and a changed one is still found, in
/// a table with a primary key and in one without (whose checksum is then summed on the client:
/// before, it failed validation although every row was equal).
#[test]
fn json_written_with_escapes_validates_and_a_changed_document_is_found() {
    let Some(pair) = Pair::new("rep_my_json_escapes") else {
        return;
    };
    pair.source
        .sql(
            r#"CREATE TABLE docs (id INT PRIMARY KEY, j JSON);
             INSERT INTO docs SELECT seq, CONCAT('{"url":"http:\\/\\/x.org\\/', seq,
               '","name":"Ren\\u00e9 ', seq, '","pr\\u00e9nom":["\\ud83d\\ude00","\\u0009"]}')
               FROM seq_1_to_2000;
             INSERT INTO docs VALUES (0, '{"plain": "ascii/only", "n": 1.50}'), (-1, NULL);
             CREATE TABLE notes (j JSON, n INT);
             INSERT INTO notes SELECT j, id FROM docs;"#,
        )
        .unwrap();
    let schema = pair.source.name().to_string();
    let (code, summary) = pair.run("replicate", &[]);
    assert_eq!(code, 0, "{summary:#}");
    let docs = table(&summary, &format!("{schema}.docs"));
    assert_eq!(docs["rows"], 2002, "{docs:#}");
    assert_eq!(docs["validation"]["status"], "passed", "{docs:#}");
    let notes = table(&summary, &format!("{schema}.notes"));
    assert_eq!(notes["rows"], 2002, "{notes:#}");
    assert_eq!(notes["validation"]["status"], "passed", "{notes:#}");
    let decoded = pair
        .target
        .sql(&format!(
            "SELECT j->>'url', j->>'name', j->'prénom'->>0 FROM \"{schema}\".docs WHERE id = 7"
        ))
        .unwrap();
    assert_eq!(decoded.trim(), "http://x.org/7|René 7|😀", "{decoded}");

    pair.target
        .sql(&format!(
            "UPDATE \"{schema}\".docs SET j = jsonb_set(j, '{{name}}', '\"Rene 7\"') WHERE id = 7;
             UPDATE \"{schema}\".notes SET j = jsonb_set(j, '{{name}}', '\"Rene 7\"') WHERE n = 7"
        ))
        .unwrap();
    let (code, summary) = pair.run("validate", &[]);
    assert_eq!(code, 1, "{summary:#}");
    let validation = &table(&summary, &format!("{schema}.docs"))["validation"];
    assert_eq!(validation["status"], "failed", "{validation:#}");
    assert_eq!(validation["different"], 1, "{validation:#}");
    assert_eq!(
        validation["differences"][0]["key"], "id=7",
        "{validation:#}"
    );
    let notes = &table(&summary, &format!("{schema}.notes"))["validation"];
    assert_eq!(notes["status"], "failed", "{notes:#}");
    assert_eq!(notes["parts_differing"], 1, "{notes:#}");
}

/// `replicate` copies tables only, and says so: the database's view, trigger, procedure,
/// function and event are counted and named in one warning, with the `migrate convert` command
/// that converts them (without the password). Before, the summary said nothing of them.
#[test]
fn the_objects_replicate_does_not_copy_are_reported() {
    let Some(pair) = Pair::new("rep_my_objects") else {
        return;
    };
    pair.source
        .sql(
            "CREATE TABLE t (id INT PRIMARY KEY, n INT);
             INSERT INTO t VALUES (1, 10), (2, 20);
             CREATE VIEW big AS SELECT id FROM t WHERE n > 10;
             CREATE TRIGGER t_stamp BEFORE INSERT ON t FOR EACH ROW SET NEW.n = NEW.n + 1;
             CREATE PROCEDURE bump() UPDATE t SET n = n + 1;
             CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC NO SQL RETURN x * 2;
             CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t WHERE n < 0;",
        )
        .unwrap();
    let schema = pair.source.name().to_string();
    let (code, summary) = pair.run("replicate", &[]);
    assert_eq!(code, 0, "{summary:#}");
    pair.same(
        "SELECT CONCAT(id, ':', n) FROM t ORDER BY id",
        &format!("SELECT id || ':' || n FROM \"{schema}\".t ORDER BY id"),
    );
    let finding = common::the_finding(&summary, "replicate.objects-not-copied")
        .unwrap_or_else(|| panic!("{summary:#}"));
    assert_eq!(finding["severity"], "warning", "{finding:#}");
    let message = finding["message"].as_str().unwrap();
    for listed in [
        "1 view (big)",
        "1 function (twice)",
        "1 procedure (bump)",
        "1 trigger (t_stamp)",
        "1 event (nightly)",
    ] {
        assert!(message.contains(listed), "{listed}: {message}");
    }
    // The source's URL without its password (`mysql://user:password@host:port/db`).
    let url = pair.source.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, server) = rest.split_once('@').unwrap();
    let user = credentials.split(':').next().unwrap();
    let convert = format!(
        "migrate convert --source '{scheme}://{user}@{server}' --schema '{schema}' --target postgres`"
    );
    let action = finding["action"].as_str().unwrap();
    assert!(action.contains(&convert), "{convert}\n{action}");
}

/// A database of tables only gets no such finding.
#[test]
fn a_database_of_tables_only_gets_no_objects_finding() {
    let Some(pair) = Pair::new("rep_my_objects_none") else {
        return;
    };
    pair.source
        .sql("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, n INT); INSERT INTO t (n) VALUES (1);")
        .unwrap();
    let (code, summary) = pair.run("replicate", &[]);
    assert_eq!(code, 0, "{summary:#}");
    assert!(
        common::the_finding(&summary, "replicate.objects-not-copied").is_none(),
        "{summary:#}"
    );
}

/// With the grant docs/source-mysql.md recommends (no `TRIGGER` or `EVENT` privilege), the
/// source's triggers and events can't be seen: a database of tables only gets the warning that
/// says so, with what to grant, and no command to convert objects that were not listed.
#[test]
fn hidden_triggers_and_events_are_named_with_the_privilege_to_grant() {
    let Some(pair) = Pair::new("rep_my_objects_hidden") else {
        return;
    };
    pair.source
        .sql("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, n INT); INSERT INTO t (n) VALUES (1);")
        .unwrap();
    let user = migrate_testkit::unique_name("rep_lim");
    let schema = pair.source.name();
    pair.source
        .sql(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY 'pw';
             GRANT SELECT, SHOW VIEW ON `{schema}`.* TO '{user}'@'%';
             GRANT RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%';"
        ))
        .unwrap();
    let url = common::url_as(pair.source.url(), &user, "pw");
    let staging = pair.staging.to_str().expect("utf-8 path");
    let (code, summary) = migrate_json(&[
        "replicate",
        "--source",
        &url,
        "--target",
        pair.target.url(),
        "--name",
        "e2e",
        "--staging",
        staging,
        "--progress",
        "never",
    ]);
    pair.source.sql(&format!("DROP USER '{user}'@'%'")).unwrap();
    assert_eq!(code, 0, "{summary:#}");
    let finding = common::the_finding(&summary, "replicate.objects-not-copied")
        .unwrap_or_else(|| panic!("{summary:#}"));
    let (message, action) = (
        finding["message"].as_str().unwrap(),
        finding["action"].as_str().unwrap(),
    );
    assert!(
        message.contains("replicate copies tables only; besides them, discovery reports")
            && message.contains("privilege.objects-hidden"),
        "{message}"
    );
    assert!(
        action.contains("TRIGGER") && !action.contains("migrate convert"),
        "{action}"
    );
}
