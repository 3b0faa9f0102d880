//! Views converted by `migrate convert` keep their meaning: each test converts a view as a dump
//! writes it, runs the PostgreSQL output on the real PostgreSQL and checks the rows it returns,
//! and checks the findings (and the Redshift text, where Redshift differs).

mod common;

use common::{convert_to, file, runs_on_postgres};

/// The rows of `sql` in `database`, `|` between columns and `\n` between rows.
fn rows(database: &migrate_testkit::PgDatabase, sql: &str) -> String {
    database
        .sql(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .trim_end()
        .to_string()
}

/// The rows of `query` in MariaDB's `database`, as [`rows`] gives PostgreSQL's (NULL empty).
fn mariadb_rows(database: &migrate_testkit::MariaDbDatabase, query: &str) -> String {
    database
        .sql(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .trim_end()
        .replace('\t', "|")
        .replace("NULL", "")
}

/// The converted `postgres` DDL on a new PostgreSQL database and the source's `ddl` on a new
/// MariaDB one, both given the rows of `inserts`; `None` where a server is missing (outside CI).
fn on_both(
    hint: &str,
    postgres: &str,
    ddl: &str,
    inserts: &str,
) -> Option<(
    migrate_testkit::PgDatabase,
    migrate_testkit::MariaDbDatabase,
)> {
    let pg = runs_on_postgres(hint, postgres)?;
    let source = migrate_testkit::mariadb()?.create_database(hint);
    source
        .sql(&format!("{ddl}{inserts}"))
        .unwrap_or_else(|e| panic!("{e}"));
    pg.sql(inserts).unwrap_or_else(|e| panic!("{e}"));
    Some((pg, source))
}

/// pg_dump writes `::numeric` and `::text` casts in nearly every view. In Redshift a bare NUMERIC
/// is NUMERIC(18,0) and a bare VARCHAR/TEXT is VARCHAR(256): the casts get the widest types and
/// the numeric one a warning naming the view. Oracle's TO_CHAR(x) likewise.
#[test]
fn bare_numeric_and_text_casts_keep_their_meaning_on_redshift() {
    let path = file(
        "pg_casts.sql",
        br"CREATE TABLE public.m (id integer, score double precision, price numeric(12,4), descr text);
CREATE VIEW public.v AS
 SELECT m.id,
    round((avg(m.score))::numeric, 2) AS avg_score,
    (m.price)::numeric AS p,
    (m.descr)::character varying AS d1,
    (m.id)::text AS idtxt,
    (m.descr)::varchar(3) AS d3
   FROM public.m
  GROUP BY m.id, m.price, m.descr;
",
    );
    let (code, redshift, stderr) = convert_to("postgres", "redshift", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        redshift.contains("round((avg(m.score))::NUMERIC(38,10), 2) AS avg_score, (m.price)::NUMERIC(38,10) AS p, (m.descr)::VARCHAR(MAX) AS d1, (m.id)::VARCHAR(MAX) AS idtxt, (m.descr)::VARCHAR(3) AS d3"),
        "{redshift}"
    );
    assert!(
        stderr.contains("warning [function.semantics] view public.v: CAST to NUMERIC converted with a difference: a bare PostgreSQL numeric keeps any scale; Redshift's bare NUMERIC is NUMERIC(18, 0)"),
        "{stderr}"
    );

    let (code, postgres, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    if let Some(db) = runs_on_postgres("pg_casts", &postgres) {
        db.sql("INSERT INTO public.m VALUES (1, 1.125, 12.3456, 'abcdef'), (1, 2.25, 12.3456, 'abcdef')")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rows(&db, "SELECT * FROM public.v"),
            "1|1.69|12.3456|abcdef|1|abc"
        );
    }

    let path = file(
        "ora_to_char.sql",
        b"CREATE TABLE t (id NUMBER(10), body CLOB);
CREATE VIEW v AS SELECT TO_CHAR(id) AS i, TO_CHAR(body) AS b FROM t;
",
    );
    let (_, redshift, stderr) = convert_to("oracle", "redshift", &path);
    assert!(
        redshift.contains("CAST(id AS VARCHAR(MAX)) AS i, CAST(body AS VARCHAR(MAX)) AS b"),
        "{redshift}\n{stderr}"
    );
}

/// mariadb-dump writes `DATE_ADD(d, INTERVAL 1 DAY)` as `d + interval 1 day`, and TINYINT(1)
/// columns (MySQL's BOOLEAN, SMALLINT in the target) are used as conditions: the view runs on
/// PostgreSQL and returns MySQL's rows. DATE_ADD, DATE_SUB, JSON_OBJECT and TIMESTAMPDIFF convert;
/// a compound interval unit is an action naming the view and the reason.
#[test]
fn mysql_intervals_and_numeric_conditions_run_on_postgres() {
    let path = file(
        "my_views.sql",
        b"CREATE TABLE t (id int, created datetime, active tinyint(1));
CREATE VIEW v AS select `t`.`id` AS `id`, `t`.`created` + interval 1 day AS `a`, if(`t`.`active`,'y','n') AS `b`, `t`.`created` - interval 2 month AS `c` from `t` where `t`.`active`;
CREATE VIEW v_all AS select `t`.`id` AS `id`, case when `t`.`active` then 1 else 0 end AS `on`, date_add(`t`.`created`, interval 90 minute) AS `d`, date_sub(`t`.`created`, interval 1 week) AS `e`, json_object('id', `t`.`id`) AS `j` from `t`;
CREATE VIEW v_diff AS select timestampdiff(DAY, `t`.`created`, now()) AS `age` from `t`;
CREATE VIEW v_hm AS select `t`.`created` + interval '1:30' hour_minute AS `a` from `t`;
",
    );
    let (code, redshift, stderr) = convert_to("mysql", "redshift", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        redshift.contains("t.created + INTERVAL '1 days' AS a, CASE WHEN (t.active <> 0) THEN 'y' ELSE 'n' END AS b"),
        "{redshift}"
    );
    assert!(
        stderr.contains(
            "action [function.unsupported] view v_all: JSON_OBJECT has no equivalent in redshift"
        ),
        "{stderr}"
    );

    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("view v_diff"), "{stderr}");
    assert!(
        stderr.contains("action [expression.interval] view v_hm: the query could not be translated: MySQL interval with a compound unit (HOUR_MINUTE, DAY_SECOND, ...) is not supported"),
        "{stderr}"
    );
    assert!(!stderr.contains("function.unverified"), "{stderr}");
    if let Some(db) = runs_on_postgres("my_views", &postgres) {
        db.sql("INSERT INTO t VALUES (1, '2024-01-31 10:00:00', 1), (2, '2024-02-28 00:00:00', 0), (3, '2024-12-31 23:30:00', 2)")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rows(&db, "SELECT * FROM v ORDER BY id"),
            "1|2024-02-01 10:00:00|y|2023-11-30 10:00:00\n3|2025-01-01 23:30:00|y|2024-10-31 23:30:00"
        );
        assert_eq!(
            rows(&db, "SELECT * FROM v_all ORDER BY id"),
            "1|1|2024-01-31 11:30:00|2024-01-24 10:00:00|{\"id\" : 1}\n\
             2|0|2024-02-28 01:30:00|2024-02-21 00:00:00|{\"id\" : 2}\n\
             3|1|2025-01-01 01:00:00|2024-12-24 23:30:00|{\"id\" : 3}"
        );
        // The whole days from each `created` to now, counted as MySQL does: one less while
        // today's time of day is before the created one's.
        assert_eq!(
            rows(&db, "SELECT array_agg(age ORDER BY age) FROM v_diff"),
            rows(&db, "SELECT array_agg(d ORDER BY d) FROM (SELECT (CURRENT_DATE - CAST(created AS DATE)) - CASE WHEN CAST(LOCALTIMESTAMP(0) AS TIME) < CAST(created AS TIME) THEN 1 ELSE 0 END AS d FROM t) AS days")
        );
    }
}

/// MySQL DATE_FORMAT with a literal format becomes TO_CHAR: the PostgreSQL view gives, for every
/// specifier it translates, the text MariaDB's view gives for the same rows. A week number (`%U`)
/// has no pattern: an action naming the view.
#[test]
fn mysql_date_format_gives_the_text_mariadb_gives() {
    let ddl = r#"CREATE TABLE t (id int, d datetime(6));
CREATE VIEW v AS select `t`.`id` AS `id`, date_format(`t`.`d`,'%Y-%m-%d %H:%i:%s') AS `a`, date_format(`t`.`d`,'%W, %M %e, %Y at %l:%i %p') AS `b`, date_format(`t`.`d`,'%D of %b (%a), day %j of %y') AS `c`, date_format(`t`.`d`,'%T.%f | %r | %c/%e %k:%i | %h %I %S') AS `e`, date_format(`t`.`d`,'Week %v of %x, 100%% "q" \\ %q') AS `f` from `t`;
CREATE VIEW v_week AS select date_format(`t`.`d`,'%X-%V') AS `w` from `t`;
"#;
    let path = file("my_date_format.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("action [function.unsupported] view v_week: DATE_FORMAT has no equivalent in postgres (rule mysql.date_format)"),
        "{stderr}"
    );
    assert!(!stderr.contains("view v:"), "{stderr}");
    let inserts = "INSERT INTO t VALUES (1, '2024-01-01 00:00:00.000001'), (2, '2024-02-29 13:05:09.5'), \
                   (3, '2023-12-31 23:59:59'), (4, '2021-01-03 09:00:00'), (5, '2024-11-22 12:00:00')";
    let Some((pg, source)) = on_both("my_date_format", &postgres, ddl, inserts) else {
        return;
    };
    let expected = source
        .sql("SELECT * FROM v ORDER BY id")
        .unwrap_or_else(|e| panic!("{e}"))
        .trim_end()
        .replace('\t', "|")
        // The client's batch mode escapes a backslash in a value.
        .replace("\\\\", "\\");
    assert_eq!(rows(&pg, "SELECT * FROM v ORDER BY id"), expected);
    assert!(
        expected.contains("Thursday, February 29, 2024 at 1:05 PM"),
        "{expected}"
    );
}

/// MySQL TIMESTAMPDIFF on PostgreSQL counts the whole units MariaDB counts, for every unit, across
/// month ends, a leap day, fractions of a second and negative spans.
#[test]
fn mysql_timestampdiff_counts_what_mariadb_counts() {
    let ddl = "CREATE TABLE t (id int, a datetime(6), b datetime(6));
CREATE VIEW v AS select `t`.`id` AS `id`, timestampdiff(MICROSECOND,`t`.`a`,`t`.`b`) AS `us`, timestampdiff(SECOND,`t`.`a`,`t`.`b`) AS `s`, timestampdiff(MINUTE,`t`.`a`,`t`.`b`) AS `mi`, timestampdiff(HOUR,`t`.`a`,`t`.`b`) AS `h`, timestampdiff(DAY,`t`.`a`,`t`.`b`) AS `d`, timestampdiff(WEEK,`t`.`a`,`t`.`b`) AS `w`, timestampdiff(MONTH,`t`.`a`,`t`.`b`) AS `mo`, timestampdiff(QUARTER,`t`.`a`,`t`.`b`) AS `q`, timestampdiff(YEAR,`t`.`a`,`t`.`b`) AS `y` from `t`;
";
    let path = file("my_timestampdiff.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    let moments = [
        "2024-01-31 10:00:00",
        "2024-02-29 09:59:59.999999",
        "2024-03-31 10:00:00",
        "2023-02-28 10:00:00.5",
        "2025-02-28 10:00:00",
        "2023-12-31 23:59:59.999999",
    ];
    let mut rows_sql = Vec::new();
    for a in moments {
        for b in moments {
            rows_sql.push(format!("({}, '{a}', '{b}')", rows_sql.len()));
        }
    }
    let inserts = format!("INSERT INTO t VALUES {}", rows_sql.join(", "));
    let Some((pg, source)) = on_both("my_timestampdiff", &postgres, ddl, &inserts) else {
        return;
    };
    let expected = mariadb_rows(&source, "SELECT * FROM v ORDER BY id");
    assert_eq!(rows(&pg, "SELECT * FROM v ORDER BY id"), expected);
    // Jan 31 to Feb 29 is no whole month; to Mar 31 it is two.
    assert!(
        expected.contains("\n2|5184000000000|5184000|86400|1440|60|8|2|0|0\n"),
        "{expected}"
    );
}

/// Oracle ROUND(date[, fmt]) rounds at noon, on the 16th, on the 16th of a quarter's second month
/// and on July 1st: the PostgreSQL view returns the dates Oracle returns. A format with no exact
/// form (IW) is an action naming the view.
#[test]
fn oracle_round_of_a_date_runs_on_postgres() {
    let path = file(
        "ora_round.sql",
        b"CREATE TABLE t (id NUMBER(10), d DATE);
CREATE VIEW v AS SELECT id, ROUND(d) AS r, ROUND(d, 'MM') AS m, ROUND(d, 'Q') AS q, ROUND(d, 'YYYY') AS y, ROUND(d, 'HH24') AS h FROM t;
CREATE VIEW vw AS SELECT ROUND(d, 'IW') AS w FROM t;
",
    );
    let (code, postgres, stderr) = convert_to("oracle", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("action [function.unsupported] view vw: ROUND of a date to the format 'IW' has no equivalent in postgres"),
        "{stderr}"
    );
    let Some(db) = runs_on_postgres("ora_round", &postgres) else {
        return;
    };
    db.sql(
        "INSERT INTO t VALUES (1, '2024-03-15 23:59:59'), (2, '2024-03-16 00:00:00'), \
         (3, '2024-02-10 12:00:00'), (4, '2024-05-15 11:29:59'), (5, '2024-05-16 11:30:00'), \
         (6, '2024-06-30 23:59:59'), (7, '2024-07-01 00:00:00'), (8, '2024-12-31 12:00:00')",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&db, "SELECT * FROM v ORDER BY id"),
        "1|2024-03-16 00:00:00|2024-03-01 00:00:00|2024-04-01 00:00:00|2024-01-01 00:00:00|2024-03-16 00:00:00\n\
         2|2024-03-16 00:00:00|2024-04-01 00:00:00|2024-04-01 00:00:00|2024-01-01 00:00:00|2024-03-16 00:00:00\n\
         3|2024-02-11 00:00:00|2024-02-01 00:00:00|2024-01-01 00:00:00|2024-01-01 00:00:00|2024-02-10 12:00:00\n\
         4|2024-05-15 00:00:00|2024-05-01 00:00:00|2024-04-01 00:00:00|2024-01-01 00:00:00|2024-05-15 11:00:00\n\
         5|2024-05-16 00:00:00|2024-06-01 00:00:00|2024-07-01 00:00:00|2024-01-01 00:00:00|2024-05-16 12:00:00\n\
         6|2024-07-01 00:00:00|2024-07-01 00:00:00|2024-07-01 00:00:00|2024-01-01 00:00:00|2024-07-01 00:00:00\n\
         7|2024-07-01 00:00:00|2024-07-01 00:00:00|2024-07-01 00:00:00|2025-01-01 00:00:00|2024-07-01 00:00:00\n\
         8|2025-01-01 00:00:00|2025-01-01 00:00:00|2025-01-01 00:00:00|2025-01-01 00:00:00|2024-12-31 12:00:00"
    );
}

/// Hive's concat_ws(sep, array) joins the array's elements; PostgreSQL's would write `{a,b}`.
/// Where the argument's type is unknown, a warning names the view.
#[test]
fn hive_concat_ws_of_an_array_runs_on_postgres() {
    let path = file(
        "hive_concat_ws.sql",
        b"CREATE TABLE e (id int, tags array<string>, a string);
CREATE VIEW v AS SELECT id, concat_ws(',', tags) AS ct, concat_ws('-', a, tags) AS c2 FROM e;
CREATE VIEW vu AS SELECT concat_ws('-', x) AS c FROM (SELECT a AS x FROM e) s;
",
    );
    let (_, postgres, stderr) = convert_to("hive", "postgres", &path);
    assert!(
        stderr.contains("warning [function.semantics] view vu: `concat_ws('-', x)`: if `x` is an array, Hive joins its elements but PostgreSQL's concat_ws writes it as {a,b}"),
        "{stderr}"
    );
    let Some(db) = runs_on_postgres("hive_concat_ws", &postgres) else {
        return;
    };
    db.sql("INSERT INTO e VALUES (1, ARRAY['x', 'y'], 'a'), (2, ARRAY['z'], NULL)")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&db, "SELECT * FROM v ORDER BY id"),
        "1|x,y|a-x-y\n2|z|z"
    );
}

/// DBMS_LOB.SUBSTR takes the amount before the offset; GETLENGTH and INSTR have plain
/// equivalents. A method call on a column (`s.substr(1)`) is an action naming the view and the
/// call, not a parser error.
#[test]
fn oracle_dbms_lob_calls_run_on_postgres() {
    let path = file(
        "ora_lob.sql",
        b"CREATE TABLE t (id NUMBER(10), body CLOB, s VARCHAR2(10));
CREATE VIEW v AS SELECT id, DBMS_LOB.SUBSTR(body, 4, 2) AS sub, DBMS_LOB.SUBSTR(body, 3) AS head, DBMS_LOB.GETLENGTH(body) AS len, DBMS_LOB.INSTR(body, 'c') AS pos FROM t;
CREATE VIEW vm AS SELECT s.substr(1) AS x FROM t;
",
    );
    let (code, postgres, stderr) = convert_to("oracle", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "action [view.method-call] view vm: `s.substr(1)` calls a method on the column `s`"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("Expected: end of statement"), "{stderr}");
    let Some(db) = runs_on_postgres("ora_lob", &postgres) else {
        return;
    };
    db.sql("INSERT INTO t VALUES (1, 'abcdef', 'x')")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&db, "SELECT * FROM v"), "1|bcde|abc|6|3");
}

/// In Oracle '' is NULL, so `s = ''` is never true. The comparison is kept (on the migrated data,
/// where Oracle's empty strings arrive as NULL, it stays never true) with a warning naming the
/// view.
#[test]
fn oracle_comparison_with_empty_string_is_reported() {
    let path = file(
        "ora_empty.sql",
        b"CREATE TABLE t (id NUMBER(10), s VARCHAR2(10));
CREATE VIEW v AS SELECT id, CASE WHEN s = '' THEN 1 ELSE 0 END AS e FROM t;
",
    );
    let (_, postgres, stderr) = convert_to("oracle", "postgres", &path);
    assert!(
        stderr.contains("warning [expression.empty-string] view v: compares with '': in Oracle '' is NULL, so the comparison is never true"),
        "{stderr}"
    );
    let Some(db) = runs_on_postgres("ora_empty", &postgres) else {
        return;
    };
    db.sql("INSERT INTO t VALUES (1, NULL), (2, 'x')")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&db, "SELECT * FROM v ORDER BY id"), "1|0\n2|0");
}

/// In MySQL a DATE plus days, weeks, months or years is a DATE (a DATETIME with hours); in both
/// targets a date plus an interval is a timestamp. The view's columns keep MySQL's types and
/// rows on PostgreSQL (a computed count of a quoted column too), and are cast back on Redshift.
/// The expected rows are what MariaDB returns for the same view.
#[test]
fn mysql_date_plus_interval_stays_a_date() {
    let path = file(
        "my_date_interval.sql",
        b"CREATE TABLE t (id int, d date, dt datetime, n int);
CREATE VIEW v AS select `t`.`id` AS `id`,`t`.`d` + interval 1 day AS `a`,`t`.`d` - interval 1 month AS `b`,`t`.`d` + interval 1 week AS `c`,interval 1 year + `t`.`d` AS `e`,`t`.`d` + interval 3 hour AS `f`,`t`.`dt` + interval 1 day AS `g`,`t`.`d` + interval `t`.`n` day AS `h`,date_add(`t`.`d`, interval `t`.`n` month) AS `i` from `t`;
CREATE VIEW w AS select date_add(`t`.`d`, interval 1 day) AS `a`, date_sub(`t`.`d`, interval 1 quarter) AS `b` from `t` where `t`.`d` + interval 1 day = '2024-02-01';
",
    );
    let (_, redshift, stderr) = convert_to("mysql", "redshift", &path);
    assert!(
        redshift.contains("SELECT CAST(t.d + INTERVAL '1 days' AS DATE) AS a, CAST(t.d - INTERVAL '3 months' AS DATE) AS b FROM t WHERE CAST(t.d + INTERVAL '1 days' AS DATE) = '2024-02-01'"),
        "{redshift}\n{stderr}"
    );

    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    let Some(db) = runs_on_postgres("my_date_interval", &postgres) else {
        return;
    };
    db.sql("INSERT INTO t VALUES (1, '2024-01-31', '2024-01-31 10:00:00', 2), (2, '2024-02-29', '2024-02-29 23:30:00', -1)")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&db, "SELECT * FROM v ORDER BY id"),
        "1|2024-02-01|2023-12-31|2024-02-07|2025-01-31|2024-01-31 03:00:00|2024-02-01 10:00:00|2024-02-02|2024-03-31\n\
         2|2024-03-01|2024-01-29|2024-03-07|2025-02-28|2024-02-29 03:00:00|2024-03-01 23:30:00|2024-02-28|2024-01-29"
    );
    assert_eq!(
        rows(&db, "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'v'::regclass AND attnum > 0"),
        "integer,date,date,date,date,timestamp without time zone,timestamp without time zone,date,date"
    );
    assert_eq!(rows(&db, "SELECT * FROM w"), "2024-02-01|2023-10-31");
}

/// Hive writes intervals as `INTERVAL '1' DAY`, `INTERVAL 1 DAYS`, `INTERVAL (n) DAY` and
/// `INTERVAL '1 2:03:04' DAY TO SECOND`. In Hive a DATE plus days is a TIMESTAMP, plus months or
/// years a DATE: the PostgreSQL view returns Hive's rows and types.
#[test]
fn hive_intervals_run_on_postgres() {
    let path = file(
        "hive_intervals.sql",
        b"CREATE TABLE e (id int, d date, ts timestamp, n int);
CREATE VIEW v AS SELECT id, d + INTERVAL '1' DAY AS a, d + INTERVAL 1 DAYS AS b, ts + INTERVAL (n) HOUR AS c, ts + INTERVAL '1 2:03:04' DAY TO SECOND AS s, d - INTERVAL 2 MONTHS AS m, d + INTERVAL '1-2' YEAR TO MONTH AS ym, date_add(d, 1) AS da FROM e;
",
    );
    let (code, postgres, stderr) = convert_to("hive", "postgres", &path);
    assert!(code <= 1, "{stderr}");
    assert!(!stderr.contains("view v:"), "{stderr}");
    let (_, redshift, stderr) = convert_to("hive", "redshift", &path);
    assert!(
        stderr.contains("action [expression.interval] view v: `INTERVAL (n) HOUR`: Redshift has no interval of a computed number of units"),
        "{redshift}\n{stderr}"
    );
    let Some(db) = runs_on_postgres("hive_intervals", &postgres) else {
        return;
    };
    db.sql("INSERT INTO e VALUES (1, '2024-01-31', '2024-01-31 10:00:00', 2)")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&db, "SELECT * FROM v"),
        "1|2024-02-01 00:00:00|2024-02-01 00:00:00|2024-01-31 12:00:00|2024-02-01 12:03:04|2023-11-30|2025-03-31|2024-02-01"
    );
    assert_eq!(
        rows(&db, "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'v'::regclass AND attnum > 0"),
        "integer,timestamp without time zone,timestamp without time zone,timestamp without time zone,timestamp without time zone,date,date,date"
    );
}

/// Hive's `date_sub(d, n)` and `add_months(d, n)` were `function.unverified` and the view failed
/// on PostgreSQL. Both give DATEs as in Hive, and `add_months` of a month's last day is the last
/// day of the result month (Hive's add_months('2015-02-28', 2) is 2015-04-30); a day the result
/// month lacks gives its last day; a string date is read as a date.
#[test]
fn hive_date_sub_and_add_months_run_on_postgres() {
    let path = file(
        "hive_add_months.sql",
        b"CREATE TABLE e (id int, d date, s string, n int);
CREATE VIEW v AS SELECT id, date_sub(d, 1) AS a, date_sub(s, n + 1) AS b, add_months(d, n) AS c, add_months(s, -1) AS m FROM e;
",
    );
    let (code, postgres, stderr) = convert_to("hive", "postgres", &path);
    assert!(code <= 1, "{stderr}");
    assert!(!stderr.contains("view v:"), "{stderr}");
    let (_, redshift, stderr) = convert_to("hive", "redshift", &path);
    assert!(
        redshift.contains("CAST(DATEADD(day, -1, d) AS DATE) AS a, CAST(DATEADD(day, -(n + 1), s) AS DATE) AS b, CAST(ADD_MONTHS(d, n) AS DATE) AS c"),
        "{redshift}\n{stderr}"
    );
    assert!(!stderr.contains("view v:"), "{stderr}");
    let Some(db) = runs_on_postgres("hive_add_months", &postgres) else {
        return;
    };
    db.sql(
        "INSERT INTO e VALUES (1, '2015-02-28', '2015-03-31', 2), (2, '2015-01-31', '2024-02-29', 1), \
                              (3, '2015-01-14', '2016-03-01', 12)",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&db, "SELECT * FROM v ORDER BY id"),
        "1|2015-02-27|2015-03-28|2015-04-30|2015-02-28\n\
         2|2015-01-30|2024-02-27|2015-02-28|2024-01-31\n\
         3|2015-01-13|2016-02-17|2016-01-14|2016-02-01"
    );
    assert_eq!(
        rows(&db, "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'v'::regclass AND attnum > 0"),
        "integer,date,date,date,date"
    );
}

/// pg_dump writes literals as `(0)::numeric`: NUMERIC(38,10) holds such a value exactly, so the
/// Redshift view has no warning; a column cast keeps it.
#[test]
fn numeric_casts_of_literals_are_not_warned_about() {
    let path = file(
        "pg_literal_casts.sql",
        br"CREATE TABLE public.m (id integer, price numeric(12,4));
CREATE VIEW public.v AS
 SELECT m.id, (0)::numeric AS z, (1.5)::numeric AS h, COALESCE(m.price, (0)::numeric) AS p
   FROM public.m;
CREATE VIEW public.w AS
 SELECT (m.price)::numeric AS q
   FROM public.m;
",
    );
    let (_, redshift, stderr) = convert_to("postgres", "redshift", &path);
    assert!(
        redshift.contains("SELECT m.id, (0)::NUMERIC(38,10) AS z, (1.5)::NUMERIC(38,10) AS h, COALESCE(m.price, (0)::NUMERIC(38,10)) AS p FROM public.m"),
        "{redshift}"
    );
    assert!(!stderr.contains("view public.v:"), "{stderr}");
    assert!(
        stderr.contains("warning [function.semantics] view public.w: CAST to NUMERIC converted with a difference"),
        "{stderr}"
    );
}

/// MySQL operators and built-ins that PostgreSQL has with another answer, as mariadb-dump writes
/// them: `/` of integers keeps MySQL's 4 decimal places, `DIV`/`MOD`/`/` by zero are NULL, `^` is
/// XOR (of non-negative numbers: MySQL's bit operators are on unsigned 64 bits), GREATEST/LEAST are NULL when an argument is, SUBSTRING/LEFT count negative positions from
/// the end, EXTRACT(SECOND/MICROSECOND/WEEK) and the date-part functions count as MySQL does
/// (DATEDIFF is dumped as TO_DAYS(a) - TO_DAYS(b)), LOG(x) is the natural logarithm, and `!(x)`
/// and `CAST(x AS CHAR CHARSET cs)` parse. CONCAT_WS, which skips NULLs in both, is not warned about. The PostgreSQL views return MariaDB's rows.
#[test]
fn mysql_operators_and_date_parts_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int, a int, b int, n decimal(10,3), f double, s varchar(20), d datetime(6));
CREATE VIEW v_num AS select `t`.`id` AS `id`,`t`.`a` / `t`.`b` AS `q`,`t`.`n` / `t`.`b` AS `qn`,sum(`t`.`a`) / count(0) AS `qa`,`t`.`a` DIV `t`.`b` AS `d`,`t`.`n` DIV 1 AS `dn`,`t`.`a` MOD `t`.`b` AS `m`,abs(`t`.`a`) ^ 3 AS `x`,greatest(`t`.`a`,`t`.`b`) AS `g`,least(`t`.`a`,`t`.`b`,0) AS `l`,cast(log(`t`.`f`) as decimal(10,6)) AS `ln`,cast(log2(`t`.`f`) as decimal(10,6)) AS `l2`,if(!(`t`.`a` > 0),'no','yes') AS `pos`,cast(`t`.`a` as char charset utf8mb4) AS `c` from `t` group by `t`.`id`,`t`.`a`,`t`.`b`,`t`.`n`,`t`.`f`;
CREATE VIEW v_text AS select `t`.`id` AS `id`,substr(`t`.`s`,-3) AS `a`,substr(`t`.`s`,-3,2) AS `b`,substr(`t`.`s`,0) AS `c`,left(`t`.`s`,-1) AS `e`,right(`t`.`s`,`t`.`b`) AS `f`,concat_ws('-',`t`.`s`,NULL,`t`.`a`) AS `w` from `t`;
CREATE VIEW v_date AS select `t`.`id` AS `id`,extract(second from `t`.`d`) AS `s`,extract(microsecond from `t`.`d`) AS `us`,extract(week from `t`.`d`) AS `w`,week(`t`.`d`) AS `w0`,dayofweek(`t`.`d`) AS `dw`,weekday(`t`.`d`) AS `wd`,dayofyear(`t`.`d`) AS `dy`,quarter(`t`.`d`) AS `qu`,monthname(`t`.`d`) AS `mn`,dayname(`t`.`d`) AS `dn`,second(`t`.`d`) AS `se`,microsecond(`t`.`d`) AS `mi`,to_days(`t`.`d`) - to_days('2024-01-01') AS `dd`,makedate(2024,`t`.`a`) AS `md` from `t`;
";
    let path = file("my_operators.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("function.unverified"), "{stderr}");
    let inserts = "INSERT INTO t VALUES \
        (1, 7, 2, 2.5, 8, 'Hello World', '2024-02-29 13:05:09.5'), \
        (2, -7, 3, -2.5, 0.5, '', '2023-12-31 23:59:59.999999'), \
        (3, NULL, 0, NULL, NULL, NULL, NULL), \
        (4, 0, -3, 1.005, -1, 'héllo wörld ñ', '2024-01-01 00:00:00'), \
        (5, 10, 0, 15.555, 0, 'a,b', '1970-01-04 00:00:01.000001'), \
        (6, 2, 7, -0.125, 1e10, 'ab', '2021-01-03 09:00:00')";
    let Some((pg, source)) = on_both("my_operators", &postgres, ddl, inserts) else {
        return;
    };
    for view in ["v_num", "v_text", "v_date"] {
        let query = format!("SELECT * FROM {view} ORDER BY id");
        assert_eq!(rows(&pg, &query), mariadb_rows(&source, &query), "{view}");
    }
    // 7 / 2 is 3.5000 in MySQL, 3 in PostgreSQL; greatest(NULL, 0) is NULL.
    assert!(
        rows(&pg, "SELECT q, g FROM v_num WHERE id IN (1, 3) ORDER BY id") == "3.5000|7\n|",
        "{postgres}"
    );
}

/// MySQL built-ins PostgreSQL lacks, or has for other types, which the converter emitted as
/// written (PostgreSQL refused the view): `<=>`, FIND_IN_SET, FIELD, ELT, SUBSTRING_INDEX,
/// HEX/UNHEX, SHA2, ROUND and MOD of a DOUBLE, IF of a text column (and `!s`, dumped as
/// `s = 0`), COALESCE/IFNULL of a number and text, JSON_EXTRACT/JSON_UNQUOTE/JSON_VALUE with
/// literal paths, REGEXP. The PostgreSQL views return MariaDB's rows; SHA1, STR_TO_DATE,
/// UNIX_TIMESTAMP(d) and FROM_UNIXTIME are actions that say why and what to write.
#[test]
fn mysql_builtins_postgres_lacks_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int, a int, b int, f double, s varchar(40), s2 varchar(40), j text);
CREATE VIEW v_str AS select `t`.`id` AS `id`,if(`t`.`a` <=> `t`.`b`,1,0) AS `ns`,find_in_set(`t`.`s2`,`t`.`s`) AS `fis`,field(`t`.`s2`,'a','b',`t`.`s`) AS `fld`,elt(`t`.`a`,'x','y','z') AS `el`,substring_index(`t`.`s`,',',2) AS `si`,substring_index(`t`.`s`,',',-2) AS `si2`,substring_index(`t`.`s`,`t`.`s2`,`t`.`b`) AS `si3`,hex(`t`.`s`) AS `hx`,hex(`t`.`a`) AS `hxa`,hex(unhex(`t`.`s2`)) AS `uh`,sha2(`t`.`s`,256) AS `sh2`,sha2(`t`.`s`,512) AS `sh5`,sha2(`t`.`s`,7) AS `shx` from `t`;
CREATE VIEW v_num AS select `t`.`id` AS `id`,round(`t`.`f`,2) AS `rf`,round(`t`.`f`) AS `rf0`,round(`t`.`f`,-1) AS `rfm`,mod(`t`.`f`,3) AS `mf`,mod(`t`.`a`,`t`.`b`) AS `ma`,if(`t`.`s`,1,0) AS `ifs`,if(`t`.`s` = 0,1,0) AS `nfs`,coalesce(`t`.`a`,`t`.`s`) AS `co`,ifnull(`t`.`a`,'none') AS `co2` from `t`;
CREATE VIEW v_json AS select `t`.`id` AS `id`,json_extract(`t`.`j`,'$.a.b') AS `je`,json_extract(`t`.`j`,'$.a') AS `jo`,json_extract(`t`.`j`,'$.c[1]') AS `ja`,json_unquote(json_extract(`t`.`j`,'$.a.b')) AS `ju`,json_unquote(json_extract(`t`.`j`,'$.a')) AS `juo`,json_value(`t`.`j`,'$.a.b') AS `jv`,json_value(`t`.`j`,'$.c[0]') AS `jv0` from `t`;
CREATE VIEW v_where AS select `t`.`id` AS `id` from `t` where `t`.`s` regexp '^h' or `t`.`a` <=> `t`.`b`;
";
    let path = file("my_builtins.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    // Warnings only: `j` is text, which may hold what is not JSON.
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("action ["), "{stderr}");
    assert!(!stderr.contains("function.unverified"), "{stderr}");
    assert!(
        stderr.contains("warning [function.semantics] view v_json: JSON_EXTRACT on `t.j`: MySQL gives NULL for text that is not JSON"),
        "{stderr}"
    );
    let inserts = "INSERT INTO t VALUES \
        (1, 1, 1, 2.5, 'a,b,c', 'b', '{\"a\": {\"b\": \"xé\"}, \"c\": [true, 2.50]}'), \
        (2, NULL, NULL, -2.5, 'Hello World', 'Hello World', '{\"a\" :  {\"b\" : [1, 2.50]}, \"c\": [false, null]}'), \
        (3, 2, -1, 0.125, '', '', '{\"a\": {\"b\": null}}'), \
        (4, 3, 0, 1.005, NULL, NULL, NULL), \
        (5, 0, 2, 1234.5, '1abc', 'ABC', '[1]'), \
        (6, 4, NULL, -0.5, ' 0.5x', 'zz', '{\"a\": {\"b\": 12}, \"c\": [\"s\", {\"k\": 1}]}'), \
        (7, -1, 3, 8.5, 'x,,y', ',', '{\"a\": {\"b\": true}}'), \
        (8, 2, 2, 1e20, 'héllo', 'héllo', '{}')";
    let Some((pg, source)) = on_both("my_builtins", &postgres, ddl, inserts) else {
        return;
    };
    for view in ["v_str", "v_num", "v_json", "v_where"] {
        let query = format!("SELECT * FROM {view} ORDER BY id");
        assert_eq!(rows(&pg, &query), mariadb_rows(&source, &query), "{view}");
    }
    // round(1.005e0, 2) is 1.00 (the DOUBLE is just below 1.005), round(-2.5e0) is -2.
    assert_eq!(
        rows(
            &pg,
            "SELECT rf, rf0 FROM v_num WHERE id IN (2, 4) ORDER BY id"
        ),
        "-2.50|-2\n1.00|1"
    );

    let path = file(
        "my_builtins_unsupported.sql",
        b"CREATE TABLE t (id int, s varchar(20), d datetime, n bigint);
CREATE VIEW v_sha AS select sha(`t`.`s`) AS `h` from `t`;
CREATE VIEW v_date AS select str_to_date(`t`.`s`,'%Y-%m-%d') AS `d` from `t`;
CREATE VIEW v_unix AS select unix_timestamp(`t`.`d`) AS `u`, from_unixtime(`t`.`n`) AS `f` from `t`;
",
    );
    let (code, _, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        "action [function.unsupported] view v_sha: SHA has no equivalent in postgres (rule mysql.sha) -> PostgreSQL has no built-in SHA-1",
        "action [function.unsupported] view v_date: STR_TO_DATE has no equivalent in postgres (rule mysql.str_to_date) -> MySQL's STR_TO_DATE keeps dates PostgreSQL cannot hold",
        "action [function.unsupported] view v_unix: UNIX_TIMESTAMP has no equivalent in postgres (rule mysql.unix_timestamp) -> UNIX_TIMESTAMP(d) reads d in the MySQL session's time zone",
        "action [function.unsupported] view v_unix: FROM_UNIXTIME has no equivalent in postgres (rule mysql.from_unixtime)",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
}

/// MySQL compares text under the column's collation, ignoring case by default; PostgreSQL
/// compares it exactly, so a view that compares or searches a text column gives other rows for
/// mixed-case data, without an error: one warning per view, naming its first such expression.
/// A comparison with letterless literals (and REGEXP, which becomes `~*`) gives MariaDB's rows
/// and is not warned about.
#[test]
fn mysql_views_comparing_text_are_warned_about_once() {
    let ddl = "CREATE TABLE t (id int, s varchar(40), s2 varchar(40), code char(3));
CREATE VIEW v_eq AS select `t`.`id` AS `id` from `t` where `t`.`s` = 'hello world' or `t`.`s` like 'h%';
CREATE VIEW v_loc AS select `t`.`id` AS `id`,locate('w',`t`.`s`) AS `p` from `t`;
CREATE VIEW v_ok AS select `t`.`id` AS `id` from `t` where `t`.`code` = '042' or `t`.`code` in ('1','2') or `t`.`s` regexp '^h';
";
    let path = file("my_collation.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("warning [view.text-collation] view v_eq: `t.s = 'hello world'` compares text, which MySQL does under the column's collation"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("warning [view.text-collation] view v_loc: `locate('w', t.s)` compares text"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("[view.text-collation]").count(),
        2,
        "{stderr}"
    );
    let inserts = "INSERT INTO t VALUES (1, 'Hello World', 'a', '042'), (2, 'hello world', 'z', '1'), (3, 'x', 'y', '9')";
    let Some((pg, source)) = on_both("my_collation", &postgres, ddl, inserts) else {
        return;
    };
    let query = "SELECT * FROM v_ok ORDER BY id";
    assert_eq!(rows(&pg, query), mariadb_rows(&source, query));
    // What the warnings are about: 'Hello World' = 'hello world' in MariaDB only.
    let query = "SELECT * FROM v_eq ORDER BY id";
    assert_eq!(mariadb_rows(&source, query), "1\n2");
    assert_eq!(rows(&pg, query), "2");
}

/// `mariadb-dump --no-data` of `database`, as a user would convert it.
fn mariadb_dump(
    server: &migrate_testkit::MariaDb,
    database: &migrate_testkit::MariaDbDatabase,
) -> Vec<u8> {
    // mysql://user:password@host:port/name
    let parsed = database
        .url()
        .strip_prefix("mysql://")
        .and_then(|rest| rest.split_once('@'))
        .and_then(|(credentials, rest)| {
            let (host, port) = rest.split_once('/')?.0.rsplit_once(':')?;
            Some((credentials.split_once(':')?, host, port))
        });
    let Some(((user, password), host, port)) = parsed else {
        panic!("unexpected URL {}", database.url());
    };
    let client = server.client_path();
    let dump = ["mariadb-dump", "mysqldump"]
        .into_iter()
        .map(|name| client.with_file_name(name))
        .find(|path| path.exists())
        .expect("mariadb-dump beside the mariadb client");
    let output = std::process::Command::new(&dump)
        .args([
            "--no-data",
            "--skip-comments",
            "-h",
            host,
            "-P",
            port,
            "-u",
            user,
        ])
        .arg(database.name())
        .env("MYSQL_PWD", password)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", dump.display()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// MariaDB compares a `_bin` or `_cs` column's text with case, as PostgreSQL does, but (PAD
/// SPACE) ignores its trailing spaces in `=`, `<>` and `IN` (not in `LIKE` or `LOCATE`): `'Hello '
/// = 'Hello'` there. mariadb-dump names each column's collation where it is not its table's,
/// and the table's: a view comparing a `_ci` column is warned about for case, views comparing
/// `_bin` and `_cs` columns (the table's collation or their own) with `=`, `<>` or `IN` for
/// trailing spaces, and one comparing a NO PAD column, or searching with LIKE, not at all. They
/// give MariaDB's rows on PostgreSQL but for text that ends in spaces.
#[test]
fn mysql_views_comparing_case_sensitive_columns_are_warned_about_trailing_spaces() {
    let Some(mariadb) = migrate_testkit::mariadb() else {
        return;
    };
    let source = mariadb.create_database("my_case_sensitive");
    let inserts = "INSERT INTO t VALUES (1, 'Hello', 'Hello', 'Hello', 'Hello'), (2, 'hello', 'hello', 'hello', 'hello'), (3, 'x', 'x', 'x', 'x');
INSERT INTO u VALUES (1, 'Hello'), (2, 'HELLO');";
    source
        .sql(&format!(
            "CREATE TABLE t (id int, s_bin varchar(20) COLLATE utf8mb4_bin,
                             s_cs varchar(20) CHARACTER SET latin1 COLLATE latin1_general_cs,
                             s_ci varchar(20) COLLATE utf8mb4_general_ci,
                             s_nopad varchar(20) COLLATE utf8mb4_nopad_bin);
             CREATE TABLE u (id int, s varchar(20)) COLLATE utf8mb4_bin;
             CREATE VIEW v_bin AS SELECT id FROM t WHERE s_bin = 'Hello';
             CREATE VIEW v_cs AS SELECT id FROM t WHERE s_cs LIKE 'H%' OR s_cs IN ('X');
             CREATE VIEW v_table AS SELECT id, locate('L', s) AS p FROM u WHERE s <> 'hello';
             CREATE VIEW v_ci AS SELECT id FROM t WHERE s_ci = 'Hello';
             CREATE VIEW v_like AS SELECT id FROM t WHERE s_bin LIKE 'H%';
             CREATE VIEW v_nopad AS SELECT id FROM t WHERE s_nopad = 'Hello';
             {inserts}"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let path = file("my_case_sensitive.sql", &mariadb_dump(mariadb, &source));
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        "warning [view.text-collation] view v_ci: `t.s_ci = 'Hello'` compares text, which MySQL does under the column's collation",
        "warning [view.text-collation] view v_bin: `t.s_bin = 'Hello'` compares text under a case-sensitive collation that ignores trailing spaces",
        "warning [view.text-collation] view v_cs: `t.s_cs = 'X'` compares text under a case-sensitive collation that ignores trailing spaces",
        "warning [view.text-collation] view v_table: `u.s <> 'hello'` compares text under a case-sensitive collation that ignores trailing spaces",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
    assert_eq!(
        stderr.matches("[view.text-collation]").count(),
        4,
        "{stderr}"
    );
    let Some(pg) = runs_on_postgres("my_case_sensitive", &postgres) else {
        return;
    };
    pg.sql(inserts).unwrap_or_else(|e| panic!("{e}"));
    for view in ["v_bin", "v_cs", "v_table", "v_like", "v_nopad"] {
        let query = format!("SELECT * FROM {view} ORDER BY id");
        assert_eq!(rows(&pg, &query), mariadb_rows(&source, &query), "{view}");
    }
    let query = "SELECT * FROM v_ci ORDER BY id";
    assert_eq!(mariadb_rows(&source, query), "1\n2");
    assert_eq!(rows(&pg, query), "1");
    // What the trailing-space warnings are about: 'Hello ' = 'Hello' under utf8mb4_bin only.
    let trailing = "INSERT INTO t VALUES (4, 'Hello ', 'x', 'x', 'Hello ')";
    source.sql(trailing).unwrap_or_else(|e| panic!("{e}"));
    pg.sql(trailing).unwrap_or_else(|e| panic!("{e}"));
    let query = "SELECT * FROM v_bin ORDER BY id";
    assert_eq!(mariadb_rows(&source, query), "1\n4");
    assert_eq!(rows(&pg, query), "1");
    let query = "SELECT * FROM v_nopad ORDER BY id";
    assert_eq!(rows(&pg, query), mariadb_rows(&source, query));
}

/// A MySQL collation named in a view's expression (`s COLLATE utf8mb4_bin`, as mariadb-dump
/// writes it) is one PostgreSQL does not have: it is dropped, and the view created there gives
/// MariaDB's rows for a case-sensitive one but for trailing spaces, which `_bin` ignores in `=`
/// (row 4): a `view.text-collation` warning says so.
#[test]
fn mysql_collations_named_in_views_are_dropped() {
    let ddl = "CREATE TABLE t (id int, s varchar(20));
CREATE VIEW v AS select `t`.`id` AS `id`,`t`.`s` collate utf8mb4_bin = 'Abc' AS `exact` from `t`;
";
    let path = file("my_collate.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("warning [view.text-collation] view v: `t.s COLLATE utf8mb4_bin = 'Abc'` compares text under a case-sensitive collation that ignores trailing spaces"),
        "{stderr}"
    );
    assert!(!postgres.to_lowercase().contains("collate"), "{postgres}");
    let inserts = "INSERT INTO t VALUES (1, 'Abc'), (2, 'abc'), (3, NULL), (4, 'Abc ')";
    let Some((pg, source)) = on_both("my_collate", &postgres, ddl, inserts) else {
        return;
    };
    let expected = mariadb_rows(
        &source,
        "SELECT id, CASE `exact` WHEN 1 THEN 't' WHEN 0 THEN 'f' ELSE 'n' END FROM v WHERE id < 4 ORDER BY id",
    );
    assert_eq!(
        rows(
            &pg,
            "SELECT id, CASE exact WHEN true THEN 't' WHEN false THEN 'f' ELSE 'n' END FROM v WHERE id < 4 ORDER BY id"
        ),
        expected
    );
}

/// Oracle's `agg(x) KEEP (DENSE_RANK FIRST|LAST ORDER BY ...)` aggregates only the rows of the
/// group that rank first (last), ties included: the PostgreSQL views return the rows of the
/// textbook form (a DENSE_RANK window in a subquery, computed here by PostgreSQL itself) on data
/// with ties, NULL keys and values, and a group whose first-ranked rows have only NULL values.
/// The analytic SUM and every Redshift form are actions with the hand rewrite.
#[test]
fn oracle_keep_dense_rank_runs_on_postgres() {
    let path = file(
        "ora_keep.sql",
        b"CREATE TABLE t (id NUMBER(10), g NUMBER(10), y NUMBER(10), z VARCHAR2(5), x NUMBER(10));
CREATE VIEW v_max AS SELECT g, MAX(x) KEEP (DENSE_RANK FIRST ORDER BY y) AS first_max, MIN(x) KEEP (DENSE_RANK LAST ORDER BY y) AS last_min, MAX(x) KEEP (DENSE_RANK FIRST ORDER BY y DESC) AS desc_max, MIN(x) KEEP (DENSE_RANK FIRST ORDER BY y NULLS FIRST) AS nulls_first_min, MAX(x) KEEP (DENSE_RANK LAST ORDER BY y DESC NULLS LAST, z) AS two_keys FROM t GROUP BY g;
CREATE VIEW v_sum AS SELECT g, SUM(x) KEEP (DENSE_RANK FIRST ORDER BY y) AS s, AVG(x) KEEP (DENSE_RANK LAST ORDER BY y DESC) AS a, COUNT(*) KEEP (DENSE_RANK FIRST ORDER BY y DESC NULLS LAST) AS c, COUNT(x) KEEP (DENSE_RANK LAST ORDER BY y NULLS FIRST, z DESC) AS cx FROM t GROUP BY g;
CREATE VIEW v_over AS SELECT id, MAX(x) KEEP (DENSE_RANK FIRST ORDER BY y) OVER (PARTITION BY g) AS m, MIN(x) KEEP (DENSE_RANK LAST ORDER BY y NULLS FIRST) OVER () AS n FROM t;
CREATE VIEW v_sum_over AS SELECT id, SUM(x) KEEP (DENSE_RANK FIRST ORDER BY y) OVER (PARTITION BY g) AS s FROM t;
",
    );
    let (_, _, stderr) = convert_to("oracle", "redshift", &path);
    assert!(
        stderr.contains("action [function.unsupported] view v_max: `MAX(x) KEEP (DENSE_RANK FIRST ORDER BY y)` has no equivalent in redshift -> rank the rows in a subquery, DENSE_RANK() OVER (PARTITION BY the GROUP BY expressions ORDER BY y ASC NULLS LAST) AS rnk, and take MAX(CASE WHEN rnk = 1 THEN x END) from it"),
        "{stderr}"
    );
    let (code, postgres, stderr) = convert_to("oracle", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("view.not-converted"), "{stderr}");
    assert!(
        stderr.contains("action [function.unsupported] view v_sum_over: `SUM(x) KEEP (DENSE_RANK FIRST ORDER BY y) OVER (PARTITION BY g)` has no equivalent in postgres"),
        "{stderr}"
    );
    let Some(db) = runs_on_postgres("ora_keep", &postgres) else {
        return;
    };
    db.sql(
        "INSERT INTO t VALUES (1, 1, 1, 'a', 5), (2, 1, 1, 'b', 7), (3, 1, 2, 'a', 9), \
         (4, 1, NULL, 'a', 100), (5, 1, 2, 'b', NULL), (6, 2, NULL, 'a', 3), (7, 2, NULL, 'b', NULL), \
         (8, 2, 4, 'a', 1), (9, 2, 4, 'b', 4), (10, 3, 1, 'a', NULL), (11, 3, 1, 'b', NULL), \
         (12, 3, 2, 'a', 8), (13, 3, 3, NULL, 6), (14, 4, NULL, NULL, NULL), (15, 5, 7, 'c', 2), \
         (16, 5, 7, 'c', 2), (17, 6, -1, 'a', 0), (18, 6, -1, NULL, -5), (19, 6, NULL, 'z', NULL)",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // FIRST is DENSE_RANK 1 in the order as written, LAST the group's highest rank: PostgreSQL's
    // defaults for ASC and DESC are Oracle's (NULLS LAST, NULLS FIRST).
    let expected = [
        (
            "SELECT * FROM v_max ORDER BY g",
            "SELECT g, MAX(CASE WHEN a = 1 THEN x END), MIN(CASE WHEN b = max_b THEN x END), \
             MAX(CASE WHEN c = 1 THEN x END), MIN(CASE WHEN d = 1 THEN x END), \
             MAX(CASE WHEN e = max_e THEN x END) \
             FROM (SELECT *, MAX(b) OVER (PARTITION BY g) AS max_b, MAX(e) OVER (PARTITION BY g) AS max_e \
                   FROM (SELECT t.*, DENSE_RANK() OVER (PARTITION BY g ORDER BY y) AS a, \
                         DENSE_RANK() OVER (PARTITION BY g ORDER BY y) AS b, \
                         DENSE_RANK() OVER (PARTITION BY g ORDER BY y DESC) AS c, \
                         DENSE_RANK() OVER (PARTITION BY g ORDER BY y NULLS FIRST) AS d, \
                         DENSE_RANK() OVER (PARTITION BY g ORDER BY y DESC NULLS LAST, z) AS e \
                         FROM t) AS ranked) AS s \
             GROUP BY g ORDER BY g",
        ),
        (
            "SELECT * FROM v_sum ORDER BY g",
            "SELECT g, SUM(CASE WHEN a = 1 THEN x END), AVG(CASE WHEN b = max_b THEN x END), \
             COUNT(CASE WHEN c = 1 THEN 1 END), COUNT(CASE WHEN d = max_d THEN x END) \
             FROM (SELECT *, MAX(b) OVER (PARTITION BY g) AS max_b, MAX(d) OVER (PARTITION BY g) AS max_d \
                   FROM (SELECT t.*, DENSE_RANK() OVER (PARTITION BY g ORDER BY y) AS a, \
                         DENSE_RANK() OVER (PARTITION BY g ORDER BY y DESC) AS b, \
                         DENSE_RANK() OVER (PARTITION BY g ORDER BY y DESC NULLS LAST) AS c, \
                         DENSE_RANK() OVER (PARTITION BY g ORDER BY y NULLS FIRST, z DESC) AS d \
                         FROM t) AS ranked) AS s \
             GROUP BY g ORDER BY g",
        ),
        (
            "SELECT * FROM v_over ORDER BY id",
            "SELECT id, MAX(CASE WHEN a = 1 THEN x END) OVER (PARTITION BY g), \
             MIN(CASE WHEN b = max_b THEN x END) OVER () \
             FROM (SELECT *, MAX(b) OVER () AS max_b \
                   FROM (SELECT t.*, DENSE_RANK() OVER (PARTITION BY g ORDER BY y) AS a, \
                         DENSE_RANK() OVER (ORDER BY y NULLS FIRST) AS b FROM t) AS ranked) AS s \
             ORDER BY id",
        ),
    ];
    for (view, textbook) in expected {
        assert_eq!(rows(&db, view), rows(&db, textbook), "{view}");
    }
    // The data does what it is meant to: group 3's first-ranked rows (y = 1) have only NULL x,
    // so its first_max is NULL though other rows have x.
    assert_eq!(
        rows(
            &db,
            "SELECT g, first_max, last_min FROM v_max WHERE g IN (1, 3) ORDER BY g"
        ),
        "1|7|100\n3||6"
    );
}

/// Oracle's STDDEV and VARIANCE are 0 over a single row (its documentation), where
/// PostgreSQL's, the sample forms, are NULL: as aggregates, with DISTINCT and as windows.
#[test]
fn oracle_stddev_of_one_row_is_zero_on_postgres() {
    let path = file(
        "ora_stddev.sql",
        b"CREATE TABLE t (g NUMBER(10), x NUMBER(10));
CREATE VIEW v AS SELECT g, STDDEV(x) AS s, VARIANCE(DISTINCT x) AS dv FROM t GROUP BY g;
CREATE VIEW w AS SELECT g, x, VARIANCE(x) OVER (PARTITION BY g) AS pv FROM t;
",
    );
    let (code, postgres, stderr) = convert_to("oracle", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    let Some(db) = runs_on_postgres("ora_stddev", &postgres) else {
        return;
    };
    db.sql("INSERT INTO t VALUES (1, 5), (2, 3), (2, 3), (3, 1), (3, 3), (4, NULL)")
        .unwrap_or_else(|e| panic!("{e}"));
    // Group 2: two rows (sample deviation 0), one distinct value (0); group 3: sqrt(2) and 2;
    // group 4: no value, NULL.
    assert_eq!(
        rows(&db, "SELECT g, round(s, 6), round(dv, 6) FROM v ORDER BY g"),
        "1|0.000000|0.000000\n2|0.000000|0.000000\n3|1.414214|2.000000\n4||"
    );
    assert_eq!(
        rows(&db, "SELECT g, round(pv, 6) FROM w ORDER BY g, x"),
        "1|0.000000\n2|0.000000\n2|0.000000\n3|2.000000\n3|2.000000\n4|"
    );
}

/// Oracle's `||` takes NULL for '' and gives NULL for '' (`'a' || NULL` is 'a', `NULL || NULL`
/// is NULL); on PostgreSQL the chain becomes `NULLIF(CONCAT(..), '')`, with no warning left for
/// text operands, and a warning about text forms for a number or date operand.
#[test]
fn oracle_concat_of_null_is_the_other_operand_on_postgres() {
    let path = file(
        "ora_concat.sql",
        b"CREATE TABLE t (id NUMBER(10), a VARCHAR2(10), b VARCHAR2(10), n NUMBER);
CREATE VIEW v AS SELECT id, a || b AS c, a || '-' || b AS c3, (a || b) || a AS c4 FROM t;
CREATE VIEW vn AS SELECT id, a || n AS an FROM t;
",
    );
    let (code, postgres, stderr) = convert_to("oracle", "postgres", &path);
    // 1: the warning of `vn`.
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "warning [expression.concat-format] view vn: Oracle || writes a number or date operand"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("view v:"), "{stderr}");
    let Some(db) = runs_on_postgres("ora_concat", &postgres) else {
        return;
    };
    db.sql("INSERT INTO t VALUES (1, 'ab', 'cd', 2), (2, 'x', NULL, NULL), (3, NULL, 'y', 3), (4, NULL, NULL, NULL)")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&db, "SELECT id, coalesce(c, '<null>'), coalesce(c3, '<null>'), coalesce(c4, '<null>') FROM v ORDER BY id"),
        "1|abcd|ab-cd|abcdab\n2|x|x-|xx\n3|y|-y|y\n4|<null>|-|<null>"
    );
    assert_eq!(
        rows(&db, "SELECT id, coalesce(an, '<null>') FROM vn ORDER BY id"),
        "1|ab2\n2|x\n3|3\n4|<null>"
    );
}

/// Oracle's `SUBSTR(s, -k[, n])` counts from the end and is NULL when `s` is shorter than `k`;
/// `SUBSTR(s, 0, n)` starts at the first character. Both targets take such a start for a
/// position before the first character.
#[test]
fn oracle_substr_from_the_end_runs_on_postgres() {
    let path = file(
        "ora_substr.sql",
        b"CREATE TABLE t (id NUMBER(10), a VARCHAR2(10));
CREATE VIEW v AS SELECT id, SUBSTR(a, -2) AS s, SUBSTR(a, -3, 2) AS s3, SUBSTR(a, 0, 2) AS s0, SUBSTR(a, -1, 0) AS sz FROM t;
",
    );
    for target in ["postgres", "redshift"] {
        let (code, _, stderr) = convert_to("oracle", target, &path);
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("function.semantics"), "{stderr}");
    }
    let (_, postgres, _) = convert_to("oracle", "postgres", &path);
    let Some(db) = runs_on_postgres("ora_substr", &postgres) else {
        return;
    };
    db.sql("INSERT INTO t VALUES (1, 'abcd'), (2, 'x'), (3, 'ab'), (4, NULL), (5, 'hello')")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&db, "SELECT id, coalesce(s, '<null>'), coalesce(s3, '<null>'), coalesce(s0, '<null>'), coalesce(sz, '<null>') FROM v ORDER BY id"),
        "1|cd|bc|ab|<null>\n2|<null>|<null>|x|<null>\n3|ab|<null>|ab|<null>\n4|<null>|<null>|<null>|<null>\n5|lo|ll|he|<null>"
    );
}

/// Oracle's ADD_MONTHS maps the last day of a month to the last day of the result month and
/// keeps the time of day; MONTHS_BETWEEN is a whole number for the same day of the month or two
/// last days, else it adds the day and time difference in 31-day months (Oracle's documented
/// example: Feb 2 and Jan 1 1995 are 1.03225806 months apart).
#[test]
fn oracle_add_months_and_months_between_run_on_postgres() {
    let path = file(
        "ora_months.sql",
        b"CREATE TABLE t (id NUMBER(10), d DATE, e DATE);
CREATE VIEW v AS SELECT id, ADD_MONTHS(d, 1) AS am, ADD_MONTHS(d, -1) AS amn, MONTHS_BETWEEN(d, e) AS mb FROM t;
",
    );
    let (code, postgres, stderr) = convert_to("oracle", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("function."), "{stderr}");
    let Some(db) = runs_on_postgres("ora_months", &postgres) else {
        return;
    };
    db.sql(
        "INSERT INTO t VALUES (1, '2024-02-29 10:30:00', '2024-01-31 00:00:00'), \
         (2, '2024-01-30 12:00:00', '2023-11-15 06:00:00'), (3, '2023-02-28 00:00:00', '2023-03-31 00:00:00'), \
         (4, '2024-03-31 23:59:59', '2024-02-29 00:00:00'), (5, '2024-03-30 00:00:00', '2024-02-29 00:00:00'), \
         (6, '2024-01-15 00:00:00', '2024-03-15 18:00:00'), (7, '1995-02-02 00:00:00', '1995-01-01 00:00:00'), \
         (8, NULL, '2024-01-01 00:00:00')",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows(&db, "SELECT id, am, amn, round(mb, 10) FROM v ORDER BY id"),
        "1|2024-03-31 10:30:00|2024-01-31 10:30:00|1.0000000000\n\
         2|2024-02-29 12:00:00|2023-12-30 12:00:00|2.4919354839\n\
         3|2023-03-31 00:00:00|2023-01-31 00:00:00|-1.0000000000\n\
         4|2024-04-30 23:59:59|2024-02-29 23:59:59|1.0000000000\n\
         5|2024-04-30 00:00:00|2024-02-29 00:00:00|1.0322580645\n\
         6|2024-02-15 00:00:00|2023-12-15 00:00:00|-2.0000000000\n\
         7|1995-03-02 00:00:00|1995-01-02 00:00:00|1.0322580645\n\
         8|||"
    );
}

/// A call rewritten into an operator expression inside another operator keeps its own
/// operator apart: `7 - DAYOFWEEK(d)` is `7 - (... + 1)` (it was printed `7 - ... + 1`, 2 too
/// high), `2 * MOD(a, b)` is `2 * (a % b)`.
#[test]
fn mysql_rewritten_calls_inside_operators_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int, d date, a int, b int);
CREATE VIEW v AS select `t`.`id` AS `id`,7 - dayofweek(`t`.`d`) AS `x`,2 * (`t`.`a` MOD `t`.`b`) AS `y`,-weekday(`t`.`d`) AS `z` from `t`;
";
    let path = file("my_precedence.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    let inserts =
        "INSERT INTO t VALUES (1, '2024-03-03', 5, 3), (2, '2024-03-09', -7, 2), (3, '2024-02-29', 9, 0)";
    let Some((pg, source)) = on_both("my_precedence", &postgres, ddl, inserts) else {
        return;
    };
    let expected = mariadb_rows(
        &source,
        "SELECT id, x, COALESCE(y, 'null'), z FROM v ORDER BY id",
    );
    assert_eq!(
        rows(
            &pg,
            "SELECT id, x, COALESCE(y::text, 'null'), z FROM v ORDER BY id"
        ),
        expected
    );
}

/// MySQL's REGEXP matches under the column's collation: ignoring case by default (`~*` on
/// PostgreSQL), with case on a `_bin` column or after `COLLATE utf8mb4_bin` (`~`).
#[test]
fn mysql_regexp_follows_the_collation() {
    let ddl = "CREATE TABLE t (id int, ci varchar(20), cs varchar(20) COLLATE utf8mb4_bin);
CREATE VIEW v AS select `t`.`id` AS `id`,`t`.`ci` regexp '^A' AS `a`,`t`.`cs` regexp '^A' AS `b`,`t`.`ci` collate utf8mb4_bin regexp '^A' AS `c` from `t`;
";
    let path = file("my_regexp.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert!(code <= 1, "{stderr}");
    let inserts = "INSERT INTO t VALUES (1, 'abc', 'abc'), (2, 'Abc', 'Abc')";
    let Some((pg, source)) = on_both("my_regexp", &postgres, ddl, inserts) else {
        return;
    };
    let expected = mariadb_rows(&source, "SELECT id, a, b, c FROM v ORDER BY id");
    assert_eq!(expected, "1|1|0|0\n2|1|1|1");
    assert_eq!(
        rows(&pg, "SELECT id, a::int, b::int, c::int FROM v ORDER BY id"),
        expected
    );
}

/// MySQL writes a DATETIME, TIMESTAMP or TIME made text with every fractional digit of its
/// column (`.500000` for DATETIME(6)), and a TIMESTAMP without a zone; PostgreSQL's text of the
/// value drops the trailing zeros and adds `+00`: CAST to CHAR, CONCAT (of two and of more
/// values), CONCAT_WS and GROUP_CONCAT give MariaDB's text on PostgreSQL.
#[test]
fn mysql_datetimes_made_text_keep_their_fractional_digits() {
    let ddl = "CREATE TABLE t (id int, d6 datetime(6), d3 datetime(3), d0 datetime, ts timestamp(3) NULL, tm time(2));
CREATE VIEW v AS select `t`.`id` AS `id`,cast(`t`.`d6` as char charset utf8mb4) AS `c6`,concat(`t`.`d3`,'') AS `c3`,concat('[',`t`.`d6`,']') AS `cm`,cast(`t`.`d0` as char charset utf8mb4) AS `c0`,cast(`t`.`ts` as char charset utf8mb4) AS `cts`,cast(`t`.`tm` as char(20) charset utf8mb4) AS `ctm`,concat_ws('/',`t`.`d3`,`t`.`tm`) AS `ws` from `t`;
CREATE VIEW v_agg AS select `t`.`id` AS `id`,group_concat(`t`.`d6` separator ';') AS `l` from `t` group by `t`.`id`;
";
    let path = file("my_datetime_text.sql", ddl.as_bytes());
    let (_, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert!(!stderr.contains("action ["), "{stderr}");
    let inserts = "INSERT INTO t VALUES \
        (1, '2024-02-29 13:05:09.5', '2024-02-29 13:05:09.5', '2024-02-29 13:05:09', '2024-02-29 13:05:09.5', '13:05:09.5'), \
        (2, '2023-12-31 23:59:59.999999', '2023-12-31 23:59:59.999', '2023-12-31 23:59:59', '2023-12-31 23:59:59.999', '23:59:59.99'), \
        (3, '2024-01-01 00:00:00', '2024-01-01 00:00:00', '2024-01-01 00:00:00', '2024-01-01 00:00:00', '00:00:00'), \
        (0, NULL, NULL, NULL, NULL, NULL)";
    let Some((pg, source)) = on_both("my_datetime_text", &postgres, ddl, inserts) else {
        return;
    };
    for view in ["v", "v_agg"] {
        let query = format!("SELECT * FROM {view} ORDER BY id");
        assert_eq!(
            rows(&pg, &query),
            mariadb_rows(&source, &query),
            "{view}\n{postgres}"
        );
    }
    assert_eq!(
        rows(&pg, "SELECT c6, cm FROM v WHERE id = 1"),
        "2024-02-29 13:05:09.500000|[2024-02-29 13:05:09.500000]"
    );
}

/// Rewrites that name an argument twice (GREATEST's NULL test, SQRT's and LN's domain, a
/// negative LEFT count, SUBSTRING from the end, WEEK) evaluate it twice in the target: a RAND()
/// or UUID() in it is another value at each place, where MySQL evaluates it once. Each such call
/// is a `function.semantics` warning naming it; the same calls of columns are not.
#[test]
fn mysql_rewrites_repeating_a_volatile_argument_are_reported() {
    let ddl = "CREATE TABLE t (id int, a int, b int, s varchar(20), f double);
CREATE VIEW v AS select `t`.`id` AS `id`,greatest(rand(),0.5) AS `g`,greatest(`t`.`a`,`t`.`b`) AS `g2`,sqrt(rand() - 0.5) AS `q`,sqrt(`t`.`f`) AS `q2`,left(`t`.`s`,floor(rand() * 3) - 1) AS `l`,left(`t`.`s`,`t`.`a` - 1) AS `l2`,substr(uuid(),-3) AS `u`,substr(`t`.`s`,-3) AS `u2`,week(now() + interval floor(rand() * 10) day) AS `w`,rand() AS `r`,field(rand(),1,2) AS `fl` from `t`;
";
    let path = file("my_volatile.sql", ddl.as_bytes());
    let (code, _, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    let repeated = "is converted to an expression that names an argument more than once, and the argument calls a function that gives another value each time";
    for call in [
        "`greatest(RANDOM(), 0.5)`",
        "`sqrt(RANDOM() - 0.5)`",
        "`left(t.s, FLOOR(RANDOM() * 3) - 1)`",
        "`SUBSTR(CAST(gen_random_uuid() AS VARCHAR(36)), -3)`",
        "`week(LOCALTIMESTAMP(0) + FLOOR(RANDOM() * 10) * INTERVAL '1 days')`",
    ] {
        assert!(
            stderr.contains(&format!(
                "warning [function.semantics] view v: {call} {repeated}"
            )),
            "{call}\n{stderr}"
        );
    }
    assert_eq!(stderr.matches(repeated).count(), 5, "{stderr}");
}

/// MySQL's `CAST(n AS UNSIGNED)` wraps a negative integer to 2^64 + n, `LPAD`/`RPAD` to a
/// negative length are NULL, and `CAST(x AS DECIMAL(p,s))` of a value beyond the precision is
/// the largest value of the type: PostgreSQL kept the negative number, gave '' and stopped the
/// query (numeric field overflow). The views give MariaDB's rows; a cast known to fit is left as
/// it is, and an UNSIGNED cast of a DOUBLE (0 when negative in MySQL) and a DECIMAL cast of text
/// are warnings.
#[test]
fn mysql_unsigned_pad_and_decimal_casts_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int, n int, s varchar(20), x decimal(10,3), f double, y decimal(4,2));
CREATE VIEW v AS select `t`.`id` AS `id`,cast(`t`.`n` as unsigned) AS `u`,cast(-5 as unsigned) AS `u5`,lpad(`t`.`s`,`t`.`n`,'x') AS `lp`,rpad(`t`.`s`,`t`.`n` - 1,'-') AS `rp`,cast(`t`.`x` as decimal(5,2)) AS `dx`,cast(`t`.`f` as decimal(4,1)) AS `df`,cast(`t`.`x` * 10 as decimal(6,0)) AS `d0`,cast(`t`.`y` as decimal(10,2)) AS `fits` from `t`;
CREATE VIEW v_double AS select `t`.`id` AS `id`,cast(`t`.`f` as unsigned) AS `uf`,cast(`t`.`s` as decimal(5,2)) AS `ds` from `t`;
";
    let path = file("my_numeric_casts.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("warning [function.semantics] view v_double: `CAST(t.f AS UNSIGNED)`: MySQL gives 0 for a negative DECIMAL or DOUBLE"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning [function.semantics] view v_double: `CAST(t.s AS DECIMAL(5,2))`: MySQL gives the largest value of the type"),
        "{stderr}"
    );
    assert!(!stderr.contains("view v:"), "{stderr}");
    assert!(
        postgres.contains("CAST(t.y AS NUMERIC(10,2)) AS fits"),
        "{postgres}"
    );
    let inserts = "INSERT INTO t VALUES \
        (1, -1, 'ab', 12345.678, 1e10, 1.5), \
        (2, 3, 'ab', -12345.678, -0.25, -99.99), \
        (3, NULL, NULL, NULL, NULL, NULL), \
        (4, 0, 'abcdef', 999.996, 999.95, 0), \
        (5, 5, '', 1.5, 2.5, 12.34)";
    let Some((pg, source)) = on_both("my_numeric_casts", &postgres, ddl, inserts) else {
        return;
    };
    let query = "SELECT * FROM v ORDER BY id";
    assert_eq!(rows(&pg, query), mariadb_rows(&source, query), "{postgres}");
    assert_eq!(
        rows(&pg, "SELECT u, lp, dx FROM v WHERE id = 1"),
        "18446744073709551615||999.99"
    );
}

/// `HEX`, `SHA2` and `LEFT` with another number of arguments than MySQL's (1, 2 and 2) were
/// emitted as written without a finding; they are `function.unsupported` actions naming them.
#[test]
fn mysql_hex_sha2_and_left_with_other_argument_counts_are_reported() {
    let path = file(
        "my_hex_arity.sql",
        b"CREATE TABLE t (id int, s varchar(20));
CREATE VIEW v AS select hex(`t`.`s`,1) AS `h`,sha2(`t`.`s`) AS `d`,left(`t`.`s`) AS `l` from `t`;
",
    );
    let (code, _, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        "action [function.unsupported] view v: HEX with 2 argument(s) has no equivalent in postgres (HEX takes 1)",
        "action [function.unsupported] view v: SHA2 with 1 argument(s) has no equivalent in postgres (SHA2 takes 2)",
        "action [function.unsupported] view v: LEFT with 1 argument(s) has no equivalent in postgres (LEFT takes 2)",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
}

/// A view that compares a `_bin` column and a case-insensitive one gets both warnings, trailing
/// spaces and case, whichever comes first.
#[test]
fn mysql_view_text_collation_warns_once_per_kind_of_difference() {
    let path = file(
        "collation_kinds.sql",
        b"CREATE TABLE t (id int PRIMARY KEY, b varchar(10) COLLATE utf8mb4_bin, c varchar(10) COLLATE utf8mb4_general_ci);
CREATE VIEW v AS SELECT id FROM t WHERE b = 'x' AND c = 'Y' AND b <> 'z' AND c <> 'W';",
    );
    let (_, _, stderr) = convert_to("mysql", "postgres", &path);
    let warned: Vec<_> = stderr
        .lines()
        .filter(|line| line.contains("[view.text-collation]"))
        .filter_map(|line| line.split('`').nth(1))
        .collect();
    assert_eq!(warned, ["b = 'x'", "c = 'Y'"], "{stderr}");

    // Trailing spaces matter with literals without letters too ('042 ' = '042' under
    // utf8mb4_bin); case doesn't, so a case-insensitive column compared with one is not reported.
    let path = file(
        "collation_letterless.sql",
        b"CREATE TABLE t (id int PRIMARY KEY, b varchar(10) COLLATE utf8mb4_bin, c varchar(10));
CREATE VIEW v AS SELECT id FROM t WHERE b = '042';
CREATE VIEW w AS SELECT id FROM t WHERE c IN ('1', '2');",
    );
    let (_, _, stderr) = convert_to("mysql", "postgres", &path);
    let warned: Vec<_> = stderr
        .lines()
        .filter(|line| line.contains("[view.text-collation]"))
        .filter_map(|line| line.split('`').nth(1))
        .collect();
    assert_eq!(warned, ["b = '042'"], "{stderr}");
}

/// MySQL has no boolean type: a comparison or another condition is the number 1, 0 or NULL,
/// which MySQL code sums, averages and computes with (`SUM(status = 'open')`, `(a = b) + 0`,
/// `GREATEST(a > b, x)`, `IF((a = b) = 1, ...)`). PostgreSQL refused such views
/// (`function sum(boolean) does not exist`); they return MariaDB's rows, NULLs included. A
/// condition selected as a column stays a boolean (`bare`), and one ordered by works as it is.
#[test]
fn mysql_conditions_used_as_numbers_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, status varchar(10), a int, b int, x int, paid int, flag boolean);
CREATE VIEW v_agg AS select `t`.`a` AS `a`,sum(`t`.`status` = 'open') AS `open_count`,avg(`t`.`x` > 50) AS `high`,count(0) - sum(`t`.`paid` = 1) AS `unpaid`,sum(`t`.`x` = 1) AS `ones`,max(`t`.`b` is null) AS `any_null`,min(`t`.`status` like 'o%') AS `all_o`,sum(`t`.`status` = 'open' and `t`.`x` > 0) AS `open_pos`,sum(`t`.`status` in ('open','new')) AS `listed`,sum(`t`.`x` between 1 and 60) AS `ranged`,sum(!(`t`.`paid` = 1)) AS `not_paid`,sum(`t`.`flag`) AS `flags` from `t` group by `t`.`a`;
CREATE VIEW v_row AS select `t`.`id` AS `id`,(`t`.`a` = `t`.`b`) + 0 AS `same`,greatest(`t`.`a` > `t`.`b`,`t`.`x`) AS `g`,if((`t`.`a` = `t`.`b`) = 1,'eq','ne') AS `e`,case when `t`.`x` > 0 then 1 else 0 end + (`t`.`a` = `t`.`b`) AS `c`,abs(`t`.`a` < `t`.`b`) AS `ab`,-(`t`.`x` is null) AS `neg`,ifnull(`t`.`a` > `t`.`b`,-1) AS `n`,if(`t`.`x` > 0,`t`.`a` = `t`.`b`,2) AS `i`,(exists(select 1 from `t` `u` where `u`.`a` = `t`.`b`)) * 10 AS `ex`,`t`.`a` = `t`.`b` AS `bare` from `t`;
CREATE VIEW v_ord AS select `t`.`id` AS `id` from `t` order by `t`.`x` is null,`t`.`x`,`t`.`id`;
";
    let path = file("my_conditions_as_numbers.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    // Warnings only: the text comparisons' collation, the BOOLEAN column.
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("action ["), "{stderr}");
    assert!(
        postgres.contains("sum(CAST(t.status = 'open' AS INTEGER)) AS open_count"),
        "{postgres}"
    );
    let inserts = "INSERT INTO t VALUES \
        (1, 'open', 1, 1, 10, 1, TRUE), \
        (2, 'closed', 1, 2, 60, 0, FALSE), \
        (3, NULL, 1, NULL, NULL, NULL, NULL), \
        (4, 'new', 2, 2, 1, 1, TRUE), \
        (5, 'open', 2, NULL, NULL, 0, NULL), \
        (6, 'open', NULL, 3, -5, NULL, FALSE), \
        (7, NULL, 3, NULL, NULL, NULL, NULL)";
    let Some((pg, source)) = on_both("my_conditions_as_numbers", &postgres, ddl, inserts) else {
        return;
    };
    // MySQL's AVG has 4 decimal places, PostgreSQL's of integers more.
    let query = "SELECT a, open_count, ROUND(high, 4), unpaid, ones, any_null, all_o, open_pos, listed, ranged, not_paid, flags FROM v_agg ORDER BY COALESCE(a, 0)";
    assert_eq!(rows(&pg, query), mariadb_rows(&source, query), "v_agg");
    let columns = "id, same, g, e, c, ab, neg, n, i, ex";
    assert_eq!(
        rows(
            &pg,
            &format!("SELECT {columns}, CAST(bare AS INTEGER) FROM v_row ORDER BY id")
        ),
        mariadb_rows(
            &source,
            &format!("SELECT {columns}, bare FROM v_row ORDER BY id")
        ),
        "v_row"
    );
    assert_eq!(
        rows(&pg, "SELECT * FROM v_ord"),
        mariadb_rows(&source, "SELECT * FROM v_ord"),
        "v_ord"
    );

    // Redshift documents no cast from BOOLEAN to a number: a CASE, NULL staying NULL.
    let (_, redshift, stderr) = convert_to("mysql", "redshift", &path);
    assert!(!stderr.contains("action ["), "{stderr}");
    assert!(
        redshift.contains(
            "sum(CASE t.status = 'open' WHEN true THEN 1 WHEN false THEN 0 END) AS open_count"
        ),
        "{redshift}"
    );
}

/// A column of another view has no known type (only tables' columns do), and a MySQL boolean
/// passed through a view is a boolean on the target: compared with `TRUE`, beside `FALSE` in
/// `IFNULL` or beside a condition in `IF`, it stays one, as do they. The conversion turned them
/// into `1`/`0` and integers (`v1.flag = 1`), which PostgreSQL refused
/// (`operator does not exist: boolean = integer`). A condition compared with a numeric column of
/// a table still becomes a number.
#[test]
fn mysql_conditions_beside_columns_of_views_stay_booleans() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, a int, b int, x int, flag boolean);
CREATE VIEW v1 AS select `t`.`id` AS `id`,`t`.`a` = `t`.`b` AS `same`,`t`.`flag` AS `flag` from `t`;
CREATE VIEW v2 AS select `t`.`id` AS `id`,`v1`.`flag` = TRUE AS `f`,ifnull(`v1`.`flag`,FALSE) AS `g`,if(`t`.`x` > 0,`v1`.`same`,`t`.`a` > `t`.`b`) AS `h`,(`t`.`a` > `t`.`b`) = `t`.`x` AS `n` from (`t` join `v1` on(`v1`.`id` = `t`.`id`)) where `v1`.`flag` = TRUE or `v1`.`flag` is null;
";
    let path = file("my_conditions_beside_views.sql", ddl.as_bytes());
    let (_, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert!(!stderr.contains("action ["), "{stderr}");
    let inserts = "INSERT INTO t VALUES \
        (1, 1, 1, 10, TRUE), \
        (2, 1, 2, 0, FALSE), \
        (3, 2, 1, NULL, NULL), \
        (4, 3, 3, -1, TRUE), \
        (5, NULL, 1, 1, NULL), \
        (6, 2, 2, 1, NULL)";
    let Some((pg, source)) = on_both("my_conditions_beside_views", &postgres, ddl, inserts) else {
        return;
    };
    assert_eq!(
        rows(
            &pg,
            "SELECT id, CAST(f AS INTEGER), CAST(g AS INTEGER), CAST(h AS INTEGER), CAST(n AS INTEGER) FROM v2 ORDER BY id"
        ),
        mariadb_rows(&source, "SELECT id, f, g, h, n FROM v2 ORDER BY id"),
        "v2"
    );
}

/// MySQL's JSON_OBJECT writes a condition as JSON `true`/`false` (`{"k": true}`), as
/// PostgreSQL's json_build_object does with a boolean: it stays a boolean there (it became
/// `1`/`0`, `{"k": 1}`); a condition computed with is the number it is in MySQL. (`TRUE` is left
/// out: MariaDB stores it in a view as `1`, which its JSON_OBJECT writes `1`.)
#[test]
fn mysql_conditions_in_json_objects_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, a int, b int);
CREATE VIEW v AS select `t`.`id` AS `id`,json_object('k',`t`.`a` = `t`.`b`,'m',(`t`.`a` = `t`.`b`) + 0) AS `j` from `t`;
";
    let path = file("my_conditions_in_json.sql", ddl.as_bytes());
    let (_, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert!(!stderr.contains("action ["), "{stderr}");
    let inserts = "INSERT INTO t VALUES (1, 1, 1), (2, 1, 2), (3, NULL, 1)";
    let Some((pg, source)) = on_both("my_conditions_in_json", &postgres, ddl, inserts) else {
        return;
    };
    // jsonb's text is MariaDB's: `": "` and `", "` between keys and values.
    assert_eq!(
        rows(&pg, "SELECT id, CAST(j AS jsonb) FROM v ORDER BY id"),
        mariadb_rows(&source, "SELECT id, j FROM v ORDER BY id"),
        "v"
    );
}

/// MySQL's JSON_ARRAY was passed through as an unknown function (`function.unverified`), which
/// PostgreSQL lacks: the view was refused. It is PostgreSQL's json_build_array, which writes the
/// same text: a NULL argument is a JSON `null`, a condition `true`/`false`, a decimal its digits.
#[test]
fn mysql_json_array_gives_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, a int, name varchar(10), price decimal(6,2));
CREATE VIEW v AS select `t`.`id` AS `id`,json_array(`t`.`id`,NULL,`t`.`name`,`t`.`a` = `t`.`id`,`t`.`price`) AS `j`,json_array() AS `e` from `t`;
";
    let path = file("my_json_array.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        postgres.contains("JSON_BUILD_ARRAY(t.id, NULL, t.name, t.a = t.id, t.price) AS j"),
        "{postgres}"
    );
    let inserts =
        "INSERT INTO t VALUES (1, 1, 'ab', 1.50), (2, 3, NULL, NULL), (3, NULL, 'c d', -2.00)";
    let Some((pg, source)) = on_both("my_json_array", &postgres, ddl, inserts) else {
        return;
    };
    assert_eq!(
        rows(&pg, "SELECT id, j, e FROM v ORDER BY id"),
        mariadb_rows(&source, "SELECT id, j, e FROM v ORDER BY id"),
        "v"
    );
}

/// A condition beside a value of known type that no list of numeric functions names (`FLOOR`,
/// which sqlparser reads apart, a scalar subquery) is a number as MySQL has it; and `GREATEST`
/// of conditions only is a condition the targets take in `WHERE`. The conversion left the first
/// two booleans (`CASE types boolean and numeric cannot be matched`, `boolean = bigint`) and made
/// the last an integer (`argument of WHERE must be type boolean, not type integer`).
#[test]
fn mysql_conditions_beside_values_of_known_type_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, a int, b int, x decimal(6,2), k int);
CREATE TABLE u (id int PRIMARY KEY, t_id int);
CREATE VIEW v AS select `t`.`id` AS `id`,if(`t`.`k` = 1,`t`.`a` > `t`.`b`,floor(`t`.`x`)) AS `i`,(`t`.`a` > `t`.`b`) = (select count(0) from `u` where `u`.`t_id` = `t`.`id`) AS `c` from `t` where greatest(`t`.`a` > `t`.`b`,`t`.`k` = 1);
";
    let path = file("my_conditions_beside_known_types.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    let inserts = "INSERT INTO t VALUES \
        (1, 2, 1, 1.50, 1), \
        (2, 1, 2, 2.70, 1), \
        (3, 5, 1, 3.20, 2), \
        (4, NULL, 1, 4.50, 1), \
        (5, 1, 1, -1.50, 2), \
        (6, 3, 1, -1.50, NULL), \
        (7, 4, 2, -1.50, 3); \
        INSERT INTO u VALUES (1, 1), (2, 1), (3, 3)";
    let Some((pg, source)) = on_both("my_conditions_beside_known_types", &postgres, ddl, inserts)
    else {
        return;
    };
    assert_eq!(
        rows(&pg, "SELECT id, i, CAST(c AS INTEGER) FROM v ORDER BY id"),
        mariadb_rows(&source, "SELECT id, i, c FROM v ORDER BY id"),
        "v"
    );
}

/// MySQL's logical XOR binds more loosely than AND and comparisons, more tightly than OR: the
/// parser bound it as tightly as `^` (`a > 0 XOR b > 0` read `a > (0 XOR b) > 0`), so the view was
/// reported converted and PostgreSQL refused it. It is `<>` of the two conditions (NULL when one
/// is NULL, as in MySQL; a number operand is `n <> 0`), a boolean column, and a number where MySQL
/// computes with it: the view's rows on PostgreSQL are MariaDB's.
#[test]
fn mysql_logical_xor_gives_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, a int, b int, c int);
CREATE VIEW v AS select `t`.`id` AS `id`,`t`.`a` > 0 xor `t`.`b` > 0 AS `x`,`t`.`a` > 0 or `t`.`b` > 0 xor `t`.`c` > 0 and `t`.`a` < 5 AS `y`,(`t`.`a` xor `t`.`b`) + 10 AS `n`,not `t`.`a` > 0 xor `t`.`c` AS `z` from `t` where `t`.`a` > 0 xor `t`.`b` > 0 xor `t`.`c` > 0 or `t`.`c` is null;
";
    let path = file("my_xor.sql", ddl.as_bytes());
    let (code, redshift, stderr) = convert_to("mysql", "redshift", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        redshift.contains("SELECT t.id AS id, (t.a > 0) <> (t.b > 0) AS x, t.a > 0 OR (t.b > 0) <> (t.c > 0 AND t.a < 5) AS y, CASE (t.a <> 0) <> (t.b <> 0) WHEN true THEN 1 WHEN false THEN 0 END + 10 AS n, (NOT t.a > 0) <> (t.c <> 0) AS z FROM t WHERE ((t.a > 0) <> (t.b > 0)) <> (t.c > 0) OR t.c IS NULL;"),
        "{redshift}"
    );
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    let inserts = "INSERT INTO t VALUES (1, 1, 1, 1), (2, 1, 0, NULL), (3, 0, 0, 1), (4, NULL, 1, 0), \
                   (5, 6, -1, 1), (6, 0, 2, NULL), (7, -1, NULL, -1), (8, 3, 0, 0), (9, 0, 7, 5), (10, NULL, 1, NULL);";
    let Some((pg, source)) = on_both("my_xor", &postgres, ddl, inserts) else {
        return;
    };
    let got = rows(
        &pg,
        "SELECT id, CAST(x AS INTEGER), CAST(y AS INTEGER), n, CAST(z AS INTEGER) FROM v ORDER BY id",
    );
    assert_eq!(
        got,
        mariadb_rows(&source, "SELECT id, x, y, n, z FROM v ORDER BY id"),
        "v"
    );
    // Every kind of row is there: XOR true, false and NULL.
    assert_eq!(
        got,
        "1|0|1|10|1\n\
         2|1|1|11|\n\
         3|0|1|10|0\n\
         6|1||11|\n\
         8|1|1|11|0\n\
         10||||"
    );
    // An operand of unknown type (a column of another view) is compared as a boolean: `2 XOR 3`
    // would be true on the target, false in MySQL, so it is a warning.
    let path = file(
        "my_xor_unknown.sql",
        b"CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE VIEW v AS select `t`.`id` AS `id`,`t`.`a` AS `a` from `t`;
CREATE VIEW w AS select `v`.`id` xor `v`.`a` AS `k` from `v`;
",
    );
    let (_, _, stderr) = convert_to("mysql", "postgres", &path);
    assert!(
        stderr.contains(
            "warning [function.semantics] view w: the operand `v`.`id` of a logical XOR is of unknown type"
        ),
        "{stderr}"
    );
}

/// MySQL's `||` is a logical OR under its and MariaDB's default sql_mode (a concatenation only
/// with PIPES_AS_CONCAT or ANSI), and `&&` an AND, both binding as the words do. `||` was read
/// as a concatenation binding tighter than comparisons (`a > 0 || b > 0` converted to
/// `CAST(a > 0 || b AS INTEGER) > 0`, which PostgreSQL refuses) and `&&` as an AND binding as
/// tightly, without a finding. The view gives MariaDB's rows on PostgreSQL, and each `||` is a
/// warning that names it and says what to write under PIPES_AS_CONCAT.
#[test]
fn mysql_pipes_are_or_and_ampersands_and_as_mariadb_reads_them() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, a int, b int, c int);
CREATE VIEW v AS SELECT id, a > 0 || b > 0 AS x, a || b AS o, a && c AS q, a > 0 && b > 0 || c > 0 AS y, a > 0 || b > 0 && c > 0 AS w, (a || c) + 10 AS n, NOT a > 0 || b > 0 AS z FROM t WHERE a > 0 || b > 0 && c IS NULL || c > 1;
";
    let path = file("my_pipes.sql", ddl.as_bytes());
    // Converted, with findings to review.
    let (code, redshift, stderr) = convert_to("mysql", "redshift", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        redshift.contains("SELECT id, a > 0 OR b > 0 AS x, (a <> 0) OR (b <> 0) AS o, (a <> 0) AND (c <> 0) AS q, a > 0 AND b > 0 OR c > 0 AS y, a > 0 OR b > 0 AND c > 0 AS w, CASE (a <> 0) OR (c <> 0) WHEN true THEN 1 WHEN false THEN 0 END + 10 AS n, NOT a > 0 OR b > 0 AS z FROM t WHERE a > 0 OR b > 0 AND c IS NULL OR c > 1;"),
        "{redshift}"
    );
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    let fix = "-> if the source runs with PIPES_AS_CONCAT, write CONCAT() instead of || in the source's definition and convert again";
    for pipes in [
        "a > 0 || b > 0",
        "a || b",
        "a > 0 AND b > 0 || c > 0",
        "a > 0 || b > 0 AND c > 0",
        "a || c",
        "NOT a > 0 || b > 0",
        // One warning for a chain.
        "a > 0 || b > 0 AND c IS NULL || c > 1",
    ] {
        let warning = format!("warning [function.semantics] view v: `{pipes}` is a logical OR under MySQL's default sql_mode, and is converted as one; under PIPES_AS_CONCAT (or ANSI) MySQL concatenates text with || {fix}");
        assert!(stderr.contains(&warning), "{warning}\n{stderr}");
    }
    assert!(
        stderr.contains("findings: 0 action, 7 warning, 0 info"),
        "{stderr}"
    );
    let inserts =
        "INSERT INTO t VALUES (1, 1, 1, 1), (2, 1, 0, NULL), (3, 0, 0, 1), (4, NULL, 1, 0), \
                   (5, 6, -1, 2), (6, 0, 2, NULL), (7, -1, NULL, -1), (8, 3, 0, 0), (9, 0, 7, 5), \
                   (10, NULL, NULL, NULL), (11, 0, 0, 2), (12, NULL, 0, 3);";
    let Some((pg, source)) = on_both("my_pipes", &postgres, ddl, inserts) else {
        return;
    };
    let got = rows(
        &pg,
        "SELECT id, CAST(x AS INTEGER), CAST(o AS INTEGER), CAST(q AS INTEGER), CAST(y AS INTEGER), CAST(w AS INTEGER), n, CAST(z AS INTEGER) FROM v ORDER BY id",
    );
    assert_eq!(
        got,
        mariadb_rows(&source, "SELECT id, x, o, q, y, w, n, z FROM v ORDER BY id"),
        "v"
    );
    // Rows of every kind are there: each condition true, false and NULL.
    assert_eq!(
        got,
        "1|1|1|1|1|1|11|1\n\
         2|1|1|||1|11|0\n\
         5|1|1|1|1|1|11|0\n\
         6|1|1|0||||1\n\
         8|1|1|0|0|1|11|0\n\
         9|1|1|0|1|1|11|1\n\
         11|0|0|0|1|0|11|1\n\
         12||||1||11|"
    );
}

/// MySQL takes a number as a condition (non-zero is true). Only a numeric column became one
/// (`(col <> 0)`): a literal or another numeric expression used as a condition (`WHERE a > 0 OR
/// 1`, `NOT 5`, `IF(1, x, y)`, `CASE WHEN 2`, `WHERE a + 0`, `WHERE LENGTH(s)`, `a AND ABS(b)`)
/// stayed as written, which PostgreSQL refuses (`argument of OR must be type boolean, not type
/// integer`), and mariadb-dump's `!x` (every `NOT x` of a value) was not read at all. Each is a
/// condition as MySQL reads it, and the views give MariaDB's rows.
#[test]
fn mysql_numbers_used_as_conditions_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, a int, b int, s varchar(10), d decimal(5,2));
CREATE TABLE u (id int PRIMARY KEY, k int);
CREATE VIEW v AS SELECT t.id AS id, t.a > 0 OR 1 AS o, t.a > 0 || 0 AS p, NOT 5 AS n, NOT t.b AS nb, IF(1, t.a, t.b) AS i, IF(t.a - 1, 'y', 'n') AS ia, CASE WHEN 2 THEN 'x' END AS c, CASE WHEN t.d * 2 THEN 'd' ELSE 'z' END AS cd, t.a AND ABS(t.b) AS ab, 0.5 XOR t.a + 0 AS x, -1 AND NULL AS q FROM t WHERE (t.a + 0 OR LENGTH(t.s) OR t.id > 8) AND 1;
CREATE VIEW w AS select `t`.`id` AS `id`,!abs(`t`.`b`) AS `nb`,!(`t`.`a` + 1) AS `na`,!0 AS `z`,count(0) AS `n` from ((`t` join `u` on(1)) left join `u` `u2` on(`u2`.`k` + 0)) where 1 and ((select count(0) from `u` `u3` where `u3`.`k` = `t`.`a`) or `t`.`id` < 3) group by `t`.`id`,`t`.`a`,`t`.`b` having max(`t`.`b`) - 1;
";
    let path = file("my_numeric_conditions.sql", ddl.as_bytes());
    // The one finding is about `||`, which MySQL's default sql_mode reads as OR.
    let findings = "findings: 0 action, 1 warning, 0 info";
    let (code, redshift, stderr) = convert_to("mysql", "redshift", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(findings), "{stderr}");
    assert!(
        redshift.contains("SELECT t.id AS id, t.a > 0 OR true AS o, t.a > 0 OR false AS p, NOT true AS n, NOT (t.b <> 0) AS nb, CASE WHEN true THEN t.a ELSE t.b END AS i, CASE WHEN (t.a - 1 <> 0) THEN 'y' ELSE 'n' END AS ia, CASE WHEN true THEN 'x' END AS c, CASE WHEN (t.d * 2 <> 0) THEN 'd' ELSE 'z' END AS cd, (t.a <> 0) AND (ABS(t.b) <> 0) AS ab, true <> (t.a + 0 <> 0) AS x, true AND NULL AS q FROM t WHERE ((t.a + 0 <> 0) OR (OCTET_LENGTH(t.s) <> 0) OR t.id > 8) AND true;"),
        "{redshift}"
    );
    assert!(
        redshift.contains("SELECT t.id AS id, (NOT (abs(t.b) <> 0)) AS nb, (NOT ((t.a + 1) <> 0)) AS na, (NOT false) AS z, count(0) AS n FROM ((t JOIN u ON true) LEFT JOIN u u2 ON ((u2.k + 0) <> 0)) WHERE true AND (((SELECT count(0) FROM u u3 WHERE u3.k = t.a) <> 0) OR t.id < 3) GROUP BY t.id, t.a, t.b HAVING (max(t.b) - 1 <> 0);"),
        "{redshift}"
    );
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(findings), "{stderr}");
    let inserts = "INSERT INTO t VALUES (1, 1, 1, 'x', 1.50), (2, 0, 0, '', 0.00), (3, 3, NULL, NULL, 0.25), \
                   (4, NULL, 2, 'abc', NULL), (5, -1, -4, 'yy', -0.40), (6, 0, 5, 'z', 0.00), (7, 3, 0, '', 2.00), \
                   (8, 2, 1, NULL, 0.00), (9, NULL, NULL, NULL, NULL), (10, 1, 0, '', 0.01); \
                   INSERT INTO u VALUES (1, 0), (2, 3), (3, NULL);";
    let Some((pg, source)) = on_both("my_numeric_conditions", &postgres, ddl, inserts) else {
        return;
    };
    // Conditions are 1 and 0 as in MariaDB.
    let got = rows(
        &pg,
        "SELECT id, CAST(o AS INTEGER), CAST(p AS INTEGER), CAST(n AS INTEGER), CAST(nb AS INTEGER), i, ia, c, cd, CAST(ab AS INTEGER), CAST(x AS INTEGER), CAST(q AS INTEGER) FROM v ORDER BY id",
    );
    assert_eq!(
        got,
        mariadb_rows(
            &source,
            "SELECT id, o, p, n, nb, i, ia, c, cd, ab, x, q FROM v ORDER BY id"
        ),
        "v"
    );
    // The conditions filter: rows 2 (in v) and 1, 3 to 5, 8 to 10 (in w) are left out.
    assert_eq!(
        got,
        "1|1|1|0|0|1|n|x|d|1|0|\n\
         3|1|1|0||3|y|x|d||0|\n\
         4|1||0|0||n|x|z|||\n\
         5|1|0|0|0|-1|y|x|d|1|0|\n\
         6|1|0|0|0|0|y|x|z|0|1|\n\
         7|1|1|0|1|3|y|x|d|0|0|\n\
         8|1|1|0|0|2|y|x|z|1|0|\n\
         9|1||0|||n|x|z|||\n\
         10|1|1|0|1|1|n|x|d|0|0|"
    );
    let got = rows(
        &pg,
        "SELECT id, CAST(nb AS INTEGER), CAST(na AS INTEGER), CAST(z AS INTEGER), n FROM w ORDER BY id",
    );
    assert_eq!(
        got,
        mariadb_rows(&source, "SELECT id, nb, na, z, n FROM w ORDER BY id"),
        "w"
    );
    assert_eq!(got, "2|1|0|1|3\n6|0|0|1|3\n7|1|0|1|3");
}

/// The rows of `columns` of `view` on PostgreSQL and in MariaDB, `booleans` (conditions,
/// booleans on PostgreSQL) as MariaDB's 1 and 0.
fn view_rows(
    pg: &migrate_testkit::PgDatabase,
    source: &migrate_testkit::MariaDbDatabase,
    view: &str,
    columns: &[&str],
    booleans: &[&str],
) -> (String, String) {
    let target_columns: Vec<String> = columns
        .iter()
        .map(|column| match booleans.contains(column) {
            true => format!("CAST({column} AS INTEGER)"),
            false => column.to_string(),
        })
        .collect();
    let query =
        |columns: &[String]| format!("SELECT {} FROM {view} ORDER BY 1", columns.join(", "));
    let source_columns: Vec<String> = columns.iter().map(|column| column.to_string()).collect();
    (
        rows(pg, &query(&target_columns)),
        mariadb_rows(source, &query(&source_columns)),
    )
}

/// MySQL reads text, an ENUM or SET, a date or a time used as a condition as a number: text
/// the number it starts with ('1x' true; 'abc', '' and '0.0' false), an ENUM its index, a SET
/// its members' bits, a date YYYYMMDD, a time hhmmss (false at midnight). mariadb-dump writes
/// such a column used so compared with 0 (`NOT s` as `s = 0`, `WHERE d` as `d <> 0`), and a call
/// that gives text as it is (`!ucase(s)`, `WHERE ucase(s)`), as it does an `IS TRUE`. They were
/// converted as written, and PostgreSQL refused the views (`argument of WHERE must be type
/// boolean`, `operator does not exist: date <> integer`) with no finding; an ENUM's text was
/// read as a number ('a' false where MySQL's index 1 is true). Now each becomes the condition
/// MySQL makes of it, NULL staying NULL, and the views give MariaDB's rows.
#[test]
fn mysql_text_dates_and_times_used_as_conditions_give_what_mariadb_gives() {
    let Some(mariadb) = migrate_testkit::mariadb() else {
        return;
    };
    let source = mariadb.create_database("my_values_as_conditions");
    // A tab before a number is skipped as a space (a real tab in both servers' literals).
    let inserts = "INSERT INTO t VALUES \
        (1, '1x', '0', '2024-01-31', '2024-01-31 00:00:00', '2024-01-31 10:00:00', '00:00:00', 'a', 'x', 0), \
        (2, 'abc', 'a', NULL, NULL, NULL, '00:00:01', 'b', '', 1), \
        (3, '0.0', '2', '2024-02-29', '2024-02-29 23:59:59', NULL, '12:30:00', NULL, 'x,y', -2), \
        (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
        (5, ' .5', ' -0', '2024-03-01', NULL, '2024-03-01 00:00:00', '00:00:00.5', 'a', 'y', 3), \
        (6, '', '00.01', NULL, '2024-03-01 12:00:00', NULL, NULL, 'b', NULL, 0), \
        (7, '-0e5', 'x1', '2024-04-01', NULL, NULL, '23:59:59', NULL, '', NULL), \
        (8, '\t2', '+3', NULL, NULL, NULL, '00:00:00', 'a', 'x', 5), \
        (9, '0x1', '1e-5', NULL, NULL, NULL, NULL, NULL, NULL, NULL)";
    source
        .sql(&format!(
            "CREATE TABLE t (id int PRIMARY KEY, s varchar(20), c char(5), d date, dt datetime,
                             ts timestamp NULL, tm time(1), e enum('a','b'), st set('x','y'), n int);
             CREATE VIEW v_text AS SELECT id, NOT s AS ns, !UPPER(s) AS nu, s IS TRUE AS si,
                 c IS NOT FALSE AS cf, IF(CONCAT(s, c), 'y', 'n') AS cc,
                 CASE WHEN LEFT(c, 3) THEN 1 ELSE 0 END AS l3, NOT TRIM(s) AS nt,
                 IF(COALESCE(s, c), 1, 0) AS co, IF(c, 1, 0) AS ci, s XOR n AS x,
                 IF(REPLACE(c, 'x', ''), 1, 0) AS re, IF('2x', 1, 0) AS lit FROM t;
             CREATE VIEW v_text_where AS SELECT id FROM t WHERE UPPER(s) OR CONCAT(c, 'z');
             CREATE VIEW v_moments AS SELECT id, NOT d AS nd, d IS TRUE AS di, NOT dt AS ndt,
                 NOT ts AS nts, NOT tm AS ntm, tm IS NOT FALSE AS tf,
                 IF(d + INTERVAL 1 DAY, 1, 0) AS dp, IF(CAST(dt AS DATE), 1, 0) AS da,
                 IF(CAST(dt AS TIME), 1, 0) AS ti, IF(COALESCE(d, CURDATE()), 1, 0) AS cd FROM t;
             CREATE VIEW v_moments_where AS SELECT id FROM t WHERE d OR tm;
             CREATE VIEW v_listed AS SELECT id, NOT e AS ne, NOT st AS nst, e IS TRUE AS et,
                 IF(st, 1, 0) AS si, IF(COALESCE(e, 'q'), 1, 0) AS ce FROM t;
             CREATE VIEW v_listed_where AS SELECT id FROM t WHERE e AND st;
             CREATE VIEW v_index AS SELECT id FROM t WHERE e = 2;
             {inserts}"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let dump = mariadb_dump(mariadb, &source);
    let path = file("my_values_as_conditions.sql", &dump);
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    // An ENUM compared with another number than 0 is compared with its index, which the target
    // has not: reported, the view not created.
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("action [function.unsupported] view v_index: `t.e = 2`: an ENUM or SET column compared with a number, which MySQL compares with the value's index in the ENUM (or the SET's bits)"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("action [").count(), 1, "{stderr}");
    assert!(
        postgres.contains("WHERE (UPPER(t.s) ~ '^[ \\t\\n\\v\\f\\r]*[-+]?[0-9]*[.]?[0-9]*[1-9]')"),
        "{postgres}"
    );
    let Some(pg) = runs_on_postgres("my_values_as_conditions", &postgres) else {
        return;
    };
    pg.sql(inserts).unwrap_or_else(|e| panic!("{e}"));
    for (view, columns, booleans) in [
        (
            "v_text",
            &[
                "id", "ns", "nu", "si", "cf", "cc", "l3", "nt", "co", "ci", "x", "re", "lit",
            ][..],
            &["ns", "nu", "si", "cf", "nt", "x"][..],
        ),
        (
            "v_moments",
            &[
                "id", "nd", "di", "ndt", "nts", "ntm", "tf", "dp", "da", "ti", "cd",
            ],
            &["nd", "di", "ndt", "nts", "ntm", "tf"],
        ),
        (
            "v_listed",
            &["id", "ne", "nst", "et", "si", "ce"],
            &["ne", "nst", "et"],
        ),
        ("v_text_where", &["id"], &[]),
        ("v_moments_where", &["id"], &[]),
        ("v_listed_where", &["id"], &[]),
    ] {
        let (got, expected) = view_rows(&pg, &source, view, columns, booleans);
        assert_eq!(got, expected, "{view}");
    }
    // What MySQL reads: '1x' 1, 'abc' 0, '0.0' 0, ' .5' 0.5, '-0e5' 0, tab then 2, '0x1' 0.
    assert_eq!(
        rows(
            &pg,
            "SELECT id, CAST(ns AS INTEGER) FROM v_text ORDER BY id"
        ),
        "1|0\n2|1\n3|1\n4|\n5|0\n6|1\n7|1\n8|0\n9|1"
    );
    // A date is true, a time false only at midnight; NULLs are neither.
    assert_eq!(
        rows(&pg, "SELECT * FROM v_moments_where ORDER BY id"),
        "1\n2\n3\n5\n7"
    );

    // Redshift's POSIX classes are ASCII only, as MySQL's spaces.
    let (_, redshift, stderr) = convert_to("mysql", "redshift", &path);
    assert_eq!(stderr.matches("action [").count(), 1, "{stderr}");
    assert!(
        redshift.contains("WHERE (UPPER(t.s) ~ '^[[:space:]]*[-+]?[0-9]*[.]?[0-9]*[1-9]') OR (concat(t.c, 'z') ~ '^[[:space:]]*[-+]?[0-9]*[.]?[0-9]*[1-9]')"),
        "{redshift}"
    );
}

/// `!!x` (one token to sqlparser, PostgreSQL's old factorial) did not parse: the view was not
/// converted (`view.not-converted`). It is NOT NOT, and `IS TRUE`/`IS NOT FALSE`/`IS UNKNOWN`
/// of a number, text or date, which PostgreSQL refused (`argument of IS TRUE must be type
/// boolean`), test the condition MySQL makes of it.
#[test]
fn mysql_double_bang_and_is_true_of_values_give_what_mariadb_gives() {
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, n int, s varchar(10), d date);
CREATE VIEW v AS SELECT id, !!n AS nn, !!s AS ns, !!!n AS nnn, !!(n - 1) + 1 AS np, 5 IS TRUE AS f, n IS NOT FALSE AS nf, s IS TRUE AS st, d IS FALSE AS df, n IS UNKNOWN AS nu, (n * 2) IS NOT TRUE AS nt FROM t WHERE !!(n + 1) OR s IS TRUE;
";
    let path = file("my_double_bang.sql", ddl.as_bytes());
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        postgres.contains("(NOT (NOT (n <> 0))) AS nn, (NOT (NOT (s ~ '^[ \\t\\n\\v\\f\\r]*[-+]?[0-9]*[.]?[0-9]*[1-9]'))) AS ns"),
        "{postgres}"
    );
    let inserts = "INSERT INTO t VALUES (1, 0, 'x', '2024-01-01'), (2, 1, '1', NULL), \
                   (3, NULL, NULL, NULL), (4, -1, '0', '2024-05-06'), (5, 2, NULL, NULL)";
    let Some((pg, source)) = on_both("my_double_bang", &postgres, ddl, inserts) else {
        return;
    };
    let (got, expected) = view_rows(
        &pg,
        &source,
        "v",
        &[
            "id", "nn", "ns", "nnn", "np", "f", "nf", "st", "df", "nu", "nt",
        ],
        &["nn", "ns", "nnn", "f", "nf", "st", "df", "nu", "nt"],
    );
    assert_eq!(got, expected);
    // Row 4 is left out: -1 + 1 is 0, and '0' is false.
    assert_eq!(
        got,
        "1|0|0|1|2|1|0|0|0|0|1\n2|1|1|0|1|1|1|1|0|0|0\n5|1||0|2|1|1|0|0|0|0"
    );
}

/// A MySQL CHECK whose condition is a value (`CHECK (qty)`, `CHECK (tm)`: MySQL refuses a row
/// where it is 0, as it reads it) was written as it is, and PostgreSQL refused the table
/// (`argument of CHECK must be type boolean, not type integer`) with no finding. It is the
/// condition MySQL makes of the value: the converted table refuses the rows MariaDB refuses. One
/// of text is reported and not created: MariaDB's default (strict) sql_mode refuses a row whose
/// text is not a number as a whole (' 2x'), another sql_mode reads its start.
#[test]
fn mysql_checks_of_values_refuse_what_mariadb_refuses() {
    let Some(mariadb) = migrate_testkit::mariadb() else {
        return;
    };
    let source = mariadb.create_database("my_value_checks");
    source
        .sql(
            "CREATE TABLE k (id int PRIMARY KEY, qty int, tm time, d date,
                 CONSTRAINT k_qty CHECK (qty), CONSTRAINT k_tm CHECK (NOT NOT tm),
                 CONSTRAINT k_sum CHECK (qty - 3 IS NOT FALSE), CONSTRAINT k_d CHECK (d OR id > 5));
             CREATE TABLE k_text (id int PRIMARY KEY, s varchar(10), CONSTRAINT k_s CHECK (s));",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let path = file("my_value_checks.sql", &mariadb_dump(mariadb, &source));
    let (_, postgres, stderr) = convert_to("mysql", "postgres", &path);
    assert!(
        postgres.contains("CONSTRAINT k_qty CHECK (qty <> 0)"),
        "{postgres}"
    );
    assert!(
        stderr.contains("action [function.unsupported] k_text constraint k_s: `s`: text used as a condition, which MySQL reads as a number: in a table's expression (a CHECK, a default, an index key), which it computes as it writes a row, under its default sql_mode (STRICT_TRANS_TABLES), a row whose text is not a number as a whole ('2x', '') is refused"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("action [").count(), 1, "{stderr}");
    assert!(!postgres.contains("CONSTRAINT k_s "), "{postgres}");
    let Some(pg) = runs_on_postgres("my_value_checks", &postgres) else {
        return;
    };
    let inserts = [
        "INSERT INTO k VALUES (1, 1, '00:00:01', '2024-01-01')",
        "INSERT INTO k VALUES (2, 0, '00:00:01', '2024-01-01')",
        "INSERT INTO k VALUES (3, NULL, NULL, NULL)",
        "INSERT INTO k VALUES (4, 5, '00:00:00', '2024-01-01')",
        "INSERT INTO k VALUES (5, 5, '10:00:00', '2024-01-01')",
        "INSERT INTO k VALUES (6, 3, '10:00:00', '2024-01-01')",
        "INSERT INTO k VALUES (7, -1, '00:00:02', NULL)",
    ];
    let verdicts: Vec<(bool, bool)> = inserts
        .iter()
        .map(|insert| (pg.sql(insert).is_ok(), source.sql(insert).is_ok()))
        .collect();
    assert_eq!(
        verdicts.iter().map(|(pg, _)| *pg).collect::<Vec<_>>(),
        verdicts
            .iter()
            .map(|(_, mariadb)| *mariadb)
            .collect::<Vec<_>>(),
        "PostgreSQL takes what MariaDB takes: {inserts:?}"
    );
    let query = "SELECT id FROM k ORDER BY id";
    assert_eq!(rows(&pg, query), mariadb_rows(&source, query));
    assert_eq!(rows(&pg, query), "1\n3\n5\n7");
}
