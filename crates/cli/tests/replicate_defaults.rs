//! MariaDB column defaults in a PostgreSQL target, against the real servers: a default the target
//! can't hold (a TIME past a day, a function the maps don't know) is left out with a finding
//! instead of failing the table's CREATE; the date functions MariaDB defaults call are converted;
//! a default the target refuses is left out with the server's reason.

mod common;

use common::{mariadb_task, one, replicate, table};
use serde_json::Value;

/// The objects of the summary's findings of `code`.
fn findings(summary: &Value, code: &str) -> Vec<String> {
    summary["findings"]
        .as_array()
        .expect("the summary lists its findings")
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["object"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The repro: MariaDB's TIME is a duration, and `DEFAULT '25:00:00'` failed the table on
/// PostgreSQL (`: date/time field value out of range`). Now the table is created without that
/// default, with a `default.time-range` warning, and its rows load; a default within a day stays.
#[test]
fn a_time_default_past_a_day_is_left_out_and_the_table_loads() {
    let Some((source, target, staging)) = mariadb_task("rep_def_time") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE a (id INT PRIMARY KEY, t TIME DEFAULT '25:00:00', \
                             n TIME DEFAULT '-01:00:00', ok TIME DEFAULT '10:30:00');
             INSERT INTO a (id, t, n) VALUES (1, '10:00:00', '11:00:00');",
        )
        .unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let schema = source.name();
    let a = table(&summary, &format!("{schema}.a"));
    assert_eq!(
        (&a["status"], &a["rows"]),
        (&"loaded".into(), &1.into()),
        "{summary:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        findings(&summary, "default.time-range"),
        [format!("{schema}.a.t"), format!("{schema}.a.n")],
        "{summary:#}"
    );
    target
        .sql(&format!("INSERT INTO \"{schema}\".a (id) VALUES (2)"))
        .unwrap();
    assert_eq!(
        one(
            &target,
            &format!("SELECT t IS NULL, n IS NULL, ok FROM \"{schema}\".a WHERE id = 2")
        ),
        "t|t|10:30:00"
    );
}

/// The repro: under `sql_mode=ALLOW_INVALID_DATES` MariaDB keeps `DEFAULT '2024-02-30'` as
/// written, and the table's CREATE failed on PostgreSQL (`date/time field value out of range`).
/// Now the default is left out with a `default.invalid-date` warning and the rows load; a real
/// date default stays.
#[test]
fn a_date_default_that_does_not_exist_is_left_out_and_the_table_loads() {
    let Some((source, target, staging)) = mariadb_task("rep_def_nodate") else {
        return;
    };
    source
        .sql(
            "SET SESSION sql_mode = 'ALLOW_INVALID_DATES';
             CREATE TABLE v (id INT PRIMARY KEY, d DATE DEFAULT '2024-02-30',
                             dt DATETIME NOT NULL DEFAULT '2023-04-31 12:00:00',
                             ok DATE DEFAULT '2024-02-29');
             INSERT INTO v (id, d, dt) VALUES (1, '2024-01-31', '2023-04-30 12:00:00');",
        )
        .unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let schema = source.name();
    let v = table(&summary, &format!("{schema}.v"));
    assert_eq!(
        (&v["status"], &v["rows"]),
        (&"loaded".into(), &1.into()),
        "{summary:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        findings(&summary, "default.invalid-date"),
        [format!("{schema}.v.d"), format!("{schema}.v.dt")],
        "{summary:#}"
    );
    target
        .sql(&format!(
            "INSERT INTO \"{schema}\".v (id, dt) VALUES (2, '2023-05-01')"
        ))
        .unwrap();
    assert_eq!(
        one(
            &target,
            &format!("SELECT d IS NULL, ok FROM \"{schema}\".v WHERE id = 2")
        ),
        "t|2024-02-29"
    );
}

/// The repro: `DEFAULT (YEAR(CURDATE()))` failed the table (`function year(date) does not
/// exist`). Now MariaDB's date functions are converted (YEAR, MONTH, DAYOFMONTH, ADDDATE and
/// SUBDATE in both forms), and a default calling a built-in the maps don't know (YEARWEEK) is left
/// out with an `expression.not-converted` warning naming it, instead of failing the table.
#[test]
fn date_function_defaults_are_converted_and_unknown_ones_left_out() {
    let Some((source, target, staging)) = mariadb_task("rep_def_func") else {
        return;
    };
    source
        .sql(
            "CREATE TABLE f (id INT PRIMARY KEY,
                             y INT DEFAULT (YEAR(CURDATE())),
                             m INT DEFAULT (MONTH(CURDATE())),
                             d INT DEFAULT (DAYOFMONTH(CURDATE()) + DAY(CURDATE())),
                             tomorrow DATE DEFAULT (ADDDATE(CURDATE(), 1)),
                             next_week DATE DEFAULT (ADDDATE(CURDATE(), INTERVAL 1 WEEK)),
                             yesterday DATE DEFAULT (SUBDATE(CURDATE(), 1)),
                             last_month DATE DEFAULT (SUBDATE(CURDATE(), INTERVAL 1 MONTH)),
                             w INT DEFAULT (YEARWEEK(CURDATE())));
             INSERT INTO f (id) VALUES (1);",
        )
        .unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let schema = source.name();
    let f = table(&summary, &format!("{schema}.f"));
    assert_eq!(
        (&f["status"], &f["rows"]),
        (&"loaded".into(), &1.into()),
        "{summary:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    let dropped: Vec<&Value> = summary["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "expression.not-converted")
        .collect();
    assert_eq!(dropped.len(), 1, "{summary:#}");
    assert_eq!(dropped[0]["object"], format!("{schema}.f.w"), "{summary:#}");
    let message = dropped[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("yearweek") && message.contains("dropped"),
        "{message}"
    );
    assert_eq!(findings(&summary, "function.unverified"), [] as [String; 0]);
    target
        .sql(&format!("INSERT INTO \"{schema}\".f (id) VALUES (2)"))
        .unwrap();
    assert_eq!(
        one(
            &target,
            &format!(
                "SELECT y = EXTRACT(YEAR FROM CURRENT_DATE), m = EXTRACT(MONTH FROM CURRENT_DATE), \
                        d = 2 * EXTRACT(DAY FROM CURRENT_DATE), tomorrow = CURRENT_DATE + 1, \
                        next_week = CURRENT_DATE + 7, yesterday = CURRENT_DATE - 1, \
                        last_month = CAST(CURRENT_DATE - INTERVAL '1 month' AS DATE), w IS NULL, \
                        pg_typeof(y), pg_typeof(tomorrow), pg_typeof(last_month) \
                   FROM \"{schema}\".f WHERE id = 2"
            )
        ),
        "t|t|t|t|t|t|t|t|integer|date|date"
    );
    // The source's row came with the source's values.
    assert_eq!(
        one(
            &target,
            &format!("SELECT w IS NOT NULL AND y > 2000 FROM \"{schema}\".f WHERE id = 1")
        ),
        "t"
    );
}

/// The repro: a table whose converted CREATE the target refused failed, first with a message
/// whose server reason came after the whole converted script (then on one line with the line the
/// server points at). Now such defaults are set after the CREATE, each on its own: the target's
/// refusal leaves the default out with a `default.refused` warning that gives the server's
/// reason and the statement, and the tables load.
#[test]
fn defaults_the_target_refuses_are_left_out_with_the_servers_reason() {
    let Some((source, target, staging)) = mariadb_task("rep_def_err") else {
        return;
    };
    // MariaDB casts the text default to the column's INT; PostgreSQL refuses it.
    source
        .sql(
            "CREATE TABLE e (id INT PRIMARY KEY, c INT DEFAULT (LOWER('1')));
             CREATE TABLE p (id INT PRIMARY KEY, s INT DEFAULT (SIGN(CURDATE())));
             CREATE TABLE fine (id INT PRIMARY KEY);
             INSERT INTO e (id) VALUES (1); INSERT INTO p (id) VALUES (1);
             INSERT INTO fine VALUES (1);",
        )
        .unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let schema = source.name();
    assert_eq!(code, 0, "{summary:#}");
    for name in ["e", "p", "fine"] {
        let t = table(&summary, &format!("{schema}.{name}"));
        assert_eq!(
            (&t["status"], &t["rows"]),
            (&"loaded".into(), &1.into()),
            "{summary:#}"
        );
    }
    let mut refused: Vec<&Value> = summary["findings"]
        .as_array()
        .expect("the summary lists its findings")
        .iter()
        .filter(|f| f["code"] == "default.refused")
        .collect();
    // Listed as the tables finish, in any order.
    refused.sort_by_key(|f| f["object"].as_str().unwrap_or_default().to_string());
    assert_eq!(refused.len(), 2, "{summary:#}");
    for (finding, object, reason, statement) in [
        (
            refused[0],
            "e.c",
            "column \"c\" is of type integer but default expression is of type text",
            "ALTER COLUMN c SET DEFAULT LOWER('1')",
        ),
        (
            refused[1],
            "p.s",
            "function sign(date) does not exist",
            "ALTER COLUMN s SET DEFAULT sign(CURRENT_DATE)",
        ),
    ] {
        assert_eq!(
            finding["object"],
            format!("{schema}.{object}"),
            "{finding:#}"
        );
        assert!(
            finding["message"]
                .as_str()
                .unwrap_or_default()
                .contains(reason)
                && finding["action"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(&format!(
                        "ALTER TABLE {schema}.{} {statement}",
                        &object[..1]
                    )),
            "{finding:#}"
        );
    }
}
