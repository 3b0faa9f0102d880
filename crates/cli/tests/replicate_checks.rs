//! The source's CHECK constraints in a PostgreSQL target, against the real servers: a CHECK the
//! target can't create, or would enforce otherwise than the source, never costs the table or
//! its rows, and is reported with what to do. A MySQL/MariaDB CHECK that compares text is not
//! created (the source compares under its collation, ignoring case and trailing spaces), in
//! `replicate` as in `convert`; a CHECK the target refuses (a function it lacks) is left out
//! with a warning; neither comes back through change capture.

#[path = "common/cdc.rs"]
mod cdc_common;
mod common;

use cdc_common::{psql, start_cdc, stop, wait_for_capture, wait_for_target, warnings};
use common::{convert_to, file, findings, mariadb_task, one, pg_task, replicate, table};

const TICKETS_TABLE: &str = "CREATE TABLE t (id INT PRIMARY KEY,
                                             status VARCHAR(10) CHECK (status IN ('open', 'closed')),
                                             n INT CHECK (n > 0));";

/// The repro: MariaDB's default collation takes `'OPEN'` and `'closed '` for `'open'` and
/// `'closed'`.
fn tickets() -> String {
    format!(
        "{TICKETS_TABLE} INSERT INTO t VALUES (1, 'OPEN', 1), (2, 'closed ', 2), (3, 'open', 3);"
    )
}

/// The CHECK constraints of target table `table`: `name: definition` lines, by name.
fn checks(target: &migrate_testkit::PgDatabase, table: &str) -> String {
    one(
        target,
        &format!(
            "SELECT string_agg(conname || ': ' || pg_get_constraintdef(oid), E'\\n' ORDER BY conname) \
               FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'c'"
        ),
    )
}

/// The repro of the MariaDB source: the table failed (`violates check constraint
/// "t_status_check"`, 0 rows). Now its three rows load and validate, the text CHECK is not
/// created and a warning says why and gives the statement, and the numeric CHECK is created.
#[test]
fn a_mariadb_check_comparing_text_is_left_out_and_every_row_loads() {
    let Some((source, target, staging)) = mariadb_task("rep_ck_text") else {
        return;
    };
    source.sql(&tickets()).unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let schema = source.name();
    let t = table(&summary, &format!("{schema}.t"));
    assert_eq!(
        (&t["status"], &t["rows"], &t["validation"]["status"]),
        (&"loaded".into(), &3.into(), &"passed".into()),
        "{t:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        one(
            &target,
            &format!("SELECT string_agg(status, '|' ORDER BY id) FROM \"{schema}\".t")
        ),
        "OPEN|closed |open"
    );
    let target_table = format!("\"{schema}\".t");
    assert_eq!(checks(&target, &target_table), "t_n_check: CHECK ((n > 0))");
    let refused = target.sql(&format!("INSERT INTO {target_table} VALUES (4, 'x', 0)"));
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("t_n_check")),
        "{refused:?}"
    );
    let collation = findings(&summary, "constraint.check-collation");
    assert_eq!(collation.len(), 1, "{summary:#}");
    assert_eq!(collation[0]["severity"], "warning");
    let action = collation[0]["action"].as_str().unwrap();
    let statement = format!("ALTER TABLE {schema}.t ADD CHECK (status IN ('open', 'closed'))");
    assert!(action.contains(&statement), "{action}");
    assert!(
        collation[0]["message"]
            .as_str()
            .unwrap()
            .contains("compares text"),
        "{:#}",
        collation[0]
    );
}

/// `migrate convert` of the same table tells the same: the text CHECK is not in the script,
/// with the same finding; the numeric one is.
#[test]
fn convert_leaves_out_the_same_check_with_the_same_finding() {
    let input = file("checks.sql", TICKETS_TABLE.as_bytes());
    let (code, ddl, stderr) = convert_to("mysql", "postgres", &input);
    // 1: written, with findings to review.
    assert_eq!(code, 1, "{stderr}");
    assert!(ddl.contains("CHECK (n > 0)"), "{ddl}");
    assert!(!ddl.contains("status IN"), "{ddl}");
    assert!(
        stderr.contains("[constraint.check-collation]")
            && stderr.contains("ALTER TABLE t ADD CHECK (status IN ('open', 'closed'))"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(input.parent().expect("its directory"));
}

/// The repro of the PostgreSQL source: a CHECK calling a function the target lacks failed the
/// whole CREATE TABLE (`function is_even(integer) does not exist`). Now the table is created and
/// loaded without that CHECK, the other CHECK is created, and the warning names the server's
/// error and the statement, which runs once the function exists.
#[test]
fn a_check_the_target_refuses_is_left_out_with_a_warning() {
    let Some((source, target, staging)) = pg_task("rep_ck_refused") else {
        return;
    };
    const IS_EVEN: &str = "CREATE FUNCTION is_even(int) RETURNS boolean LANGUAGE sql IMMUTABLE \
                           AS 'SELECT $1 % 2 = 0';";
    source
        .sql(&format!(
            "{IS_EVEN}
             CREATE TABLE u (id int PRIMARY KEY, n int CHECK (is_even(n)),
                             m int CONSTRAINT m_positive CHECK (m > 0));
             INSERT INTO u VALUES (1, 2, 1), (2, 4, 2);"
        ))
        .unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let u = table(&summary, "public.u");
    assert_eq!(
        (&u["status"], &u["rows"], &u["validation"]["status"]),
        (&"loaded".into(), &2.into(), &"passed".into()),
        "{u:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(checks(&target, "public.u"), "m_positive: CHECK ((m > 0))");
    let refused = findings(&summary, "constraint.check-refused");
    assert_eq!(refused.len(), 1, "{summary:#}");
    let finding = refused[0];
    assert_eq!(
        (&finding["severity"], &finding["object"]),
        (&"warning".into(), &"public.u constraint u_n_check".into()),
        "{finding:#}"
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("function is_even(integer) does not exist"),
        "{finding:#}"
    );
    let statement = "ALTER TABLE public.u ADD CONSTRAINT u_n_check CHECK (is_even(n))";
    assert!(
        finding["action"].as_str().unwrap().contains(statement),
        "{finding:#}"
    );
    target.sql(&format!("{IS_EVEN} {statement};")).unwrap();
    assert_eq!(
        checks(&target, "public.u"),
        "m_positive: CHECK ((m > 0))\nu_n_check: CHECK (is_even(n))"
    );
}

/// Under change capture, rows the CHECK left out would refuse keep arriving, through a column
/// added on the source (the schema change adds the column, not the CHECK); a table created on
/// the source while the task runs is created without its text CHECK too, with the warning in the
/// run's summary, and its rows arrive.
#[test]
fn a_check_left_out_stays_out_under_change_capture() {
    let Some((source, target, staging)) = mariadb_task("cdc_ck_text") else {
        return;
    };
    source.sql(&tickets()).unwrap();
    let schema = source.name().to_string();
    let mut cdc = start_cdc(source.url(), target.url(), &staging, "checks", false, &[]);
    wait_for_capture(&mut cdc, target.url());
    source
        .sql(
            "ALTER TABLE t ADD COLUMN note VARCHAR(5);
             INSERT INTO t VALUES (4, 'Closed', 4, 'x');
             CREATE TABLE t2 (id INT PRIMARY KEY, kind VARCHAR(3) CHECK (kind IN ('a', 'b')));
             INSERT INTO t2 VALUES (1, 'A ');",
        )
        .unwrap();
    wait_for_target(
        &mut cdc,
        target.url(),
        &format!("SELECT string_agg(concat_ws(':', id, status, note), '|' ORDER BY id) FROM \"{schema}\".t"),
        "1:OPEN|2:closed |3:open|4:Closed:x",
    );
    wait_for_target(
        &mut cdc,
        target.url(),
        &format!("SELECT kind || '|' FROM \"{schema}\".t2"),
        "A |",
    );
    let summary = stop(cdc);
    assert_eq!(
        checks(&target, &format!("\"{schema}\".t")),
        "t_n_check: CHECK ((n > 0))"
    );
    let t2_checks = psql(
        target.url(),
        &format!("SELECT count(*) FROM pg_constraint WHERE conrelid = '\"{schema}\".t2'::regclass AND contype = 'c'"),
    );
    assert_eq!(t2_checks.as_deref(), Ok("0"));
    let warned = warnings(&summary);
    assert!(
        warned
            .iter()
            .any(|w| w.contains("[constraint.check-collation]") && w.contains("t2")),
        "{summary:#}"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// Capture from a binlog position without a full load (`--cdc-only --from`) creates the missing
/// target table the same way, and its summary lists the CHECK left out (the findings of the
/// tables it created were dropped); the rows the source accepted arrive.
#[test]
fn cdc_from_a_position_reports_the_check_left_out() {
    let Some((source, target, staging)) = mariadb_task("cdc_ck_from") else {
        return;
    };
    source.sql(TICKETS_TABLE).unwrap();
    let status = source.sql("SHOW MASTER STATUS").unwrap();
    let mut fields = status.split('\t');
    let from = match (fields.next(), fields.next()) {
        (Some(file), Some(position)) => format!("{file}:{position}"),
        _ => panic!("no binlog position in {status:?}"),
    };
    source
        .sql("INSERT INTO t VALUES (1, 'OPEN', 1), (2, 'closed ', 2);")
        .unwrap();
    let (code, summary) = replicate(
        source.url(),
        target.url(),
        &staging,
        &["--cdc-only", "--from", &from, "--stop-when-idle", "2"],
    );
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        findings(&summary, "constraint.check-collation").len(),
        1,
        "{summary:#}"
    );
    let schema = source.name();
    assert_eq!(
        one(
            &target,
            &format!("SELECT string_agg(status, '|' ORDER BY id) FROM \"{schema}\".t")
        ),
        "OPEN|closed "
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// One CHECK per collation: NO PAD `_bin` (compares case and trailing spaces as PostgreSQL
/// does), PAD SPACE `_bin` (takes `'y '` for `'y'`), `_ci` (takes `'X'` for `'x'`).
const COLLATED_TABLE: &str = "CREATE TABLE k (id INT PRIMARY KEY,
    exact VARCHAR(5) COLLATE utf8mb4_nopad_bin CHECK (exact IN ('x', 'y')),
    padded VARCHAR(5) COLLATE utf8mb4_bin CHECK (padded IN ('x', 'y')),
    folded VARCHAR(5) COLLATE utf8mb4_general_ci CHECK (folded IN ('x', 'y')));";

/// A CHECK on a column whose collation compares text as PostgreSQL does was left out as well,
/// for no reason: the collation was not read. Now it is created (read live by `replicate`, from
/// the script by `convert`), and refuses in the target what it refuses in the source; those on
/// a `_ci` column and on a `_bin` one that ignores trailing spaces are still left out, and the
/// rows they let through load.
#[test]
fn a_check_on_a_column_compared_exactly_is_created() {
    let Some((source, target, staging)) = mariadb_task("rep_ck_exact") else {
        return;
    };
    source
        .sql(&format!(
            "{COLLATED_TABLE} INSERT INTO k VALUES (1, 'x', 'y ', 'X');"
        ))
        .unwrap();
    assert!(source
        .sql("INSERT INTO k VALUES (2, 'X', 'x', 'x')")
        .is_err_and(|e| e.to_string().contains("CONSTRAINT `k.exact` failed")));
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let schema = source.name();
    let k = table(&summary, &format!("{schema}.k"));
    assert_eq!(
        (&k["status"], &k["rows"], &k["validation"]["status"]),
        (&"loaded".into(), &1.into(), &"passed".into()),
        "{k:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    let target_table = format!("\"{schema}\".k");
    assert_eq!(
        checks(&target, &target_table),
        "k_exact_check: CHECK (((exact)::text = ANY ((ARRAY['x'::character varying, 'y'::character varying])::text[])))"
    );
    let refused = target.sql(&format!(
        "INSERT INTO {target_table} VALUES (2, 'X', 'x', 'x')"
    ));
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("k_exact_check")),
        "{refused:?}"
    );
    let mut left_out: Vec<&str> = findings(&summary, "constraint.check-collation")
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    left_out.sort();
    assert_eq!(left_out.len(), 2, "{summary:#}");
    assert!(
        left_out[0].starts_with("CHECK (`folded` in ('x','y')) is not created")
            && left_out[1].starts_with("CHECK (`padded` in ('x','y')) is not created"),
        "{left_out:?}"
    );

    let input = file("collated_checks.sql", COLLATED_TABLE.as_bytes());
    let (code, ddl, stderr) = convert_to("mysql", "postgres", &input);
    assert_eq!(code, 1, "{stderr}");
    assert!(ddl.contains("CHECK (exact IN ('x', 'y'))"), "{ddl}");
    assert!(
        !ddl.contains("padded IN") && !ddl.contains("folded IN"),
        "{ddl}"
    );
    assert_eq!(
        stderr.matches("[constraint.check-collation]").count(),
        2,
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(input.parent().expect("its directory"));
    let _ = std::fs::remove_dir_all(&staging);
}

/// A PostgreSQL source's domains (of another schema, over another domain) keep their CHECKs in
/// the target, as CHECKs of each column of them, named apart per column: the rows the source
/// took load, and the target refuses what the source's domain refused. A NOT VALID one is
/// reported as a table's is, and not created.
#[test]
fn a_domains_checks_are_created_on_its_columns() {
    let Some((source, target, staging)) = pg_task("rep_ck_domain") else {
        return;
    };
    source
        .sql(
            "CREATE SCHEMA other;
             CREATE DOMAIN other.year AS integer
                 CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
             CREATE DOMAIN recent AS other.year CHECK (VALUE > 1999);
             CREATE TABLE film (id int PRIMARY KEY, released other.year, remade recent);
             INSERT INTO film VALUES (1, 1901, 2155), (2, 2155, NULL);
             ALTER DOMAIN recent ADD CONSTRAINT not_2100 CHECK (VALUE <> 2100) NOT VALID;",
        )
        .unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let film = table(&summary, "public.film");
    assert_eq!(
        (
            &film["status"],
            &film["rows"],
            &film["validation"]["status"]
        ),
        (&"loaded".into(), &2.into(), &"passed".into()),
        "{film:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        checks(&target, "public.film"),
        "film_released_year_check: CHECK (((released >= 1901) AND (released <= 2155)))\n\
         film_remade_recent_check: CHECK ((remade > 1999))\n\
         film_remade_year_check: CHECK (((remade >= 1901) AND (remade <= 2155)))"
    );
    for refused in [
        "INSERT INTO public.film VALUES (3, 1900, NULL)",
        "INSERT INTO public.film VALUES (3, NULL, 1999)",
        "INSERT INTO public.film VALUES (3, NULL, 2156)",
    ] {
        let error = target
            .sql(refused)
            .expect_err(&format!("the domain's CHECK refuses {refused}"));
        assert!(
            error.to_string().contains("violates check constraint"),
            "{error}"
        );
    }
    target
        .sql("INSERT INTO public.film VALUES (3, 2000, 2000)")
        .unwrap();
    let not_validated: Vec<_> = findings(&summary, "constraint.not-validated")
        .iter()
        .map(|f| f["object"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        not_validated,
        ["public.film constraint film_remade_not_2100"],
        "{summary:#}"
    );
    assert!(
        findings(&summary, "constraint.check-dropped").is_empty(),
        "{summary:#}"
    );
    let _ = std::fs::remove_dir_all(&staging);
}

/// A PostgreSQL source's domain CHECK on columns named by keywords (`user`, `order`) is a CHECK
/// of those columns in the target, quoted: it refuses what the domain refused. Before, `user`
/// was written bare, which PostgreSQL reads as the `USER` function (a CHECK comparing the role's
/// name, or one the target refused). A domain's NOT NULL, through a domain over it, makes the
/// column NOT NULL, as a script's does (before, a live column of it was nullable).
#[test]
fn a_domains_check_on_a_keyword_column_and_its_not_null_are_kept() {
    let Some((source, target, staging)) = pg_task("rep_ck_domain_kw") else {
        return;
    };
    source
        .sql(
            "CREATE DOMAIN login AS text NOT NULL CHECK (VALUE <> '');
             CREATE DOMAIN short_login AS login CHECK (length(VALUE) < 9);
             CREATE DOMAIN rank AS integer CHECK (VALUE > 0);
             CREATE TABLE account (id int PRIMARY KEY, \"user\" short_login, \"order\" rank);
             INSERT INTO account VALUES (1, 'ann', 1), (2, 'bob', NULL);",
        )
        .unwrap();
    let (code, summary) = replicate(source.url(), target.url(), &staging, &[]);
    let account = table(&summary, "public.account");
    assert_eq!(
        (
            &account["status"],
            &account["rows"],
            &account["validation"]["status"]
        ),
        (&"loaded".into(), &2.into(), &"passed".into()),
        "{account:#}"
    );
    assert_eq!(code, 0, "{summary:#}");
    assert!(
        findings(&summary, "constraint.check-refused").is_empty(),
        "{summary:#}"
    );
    assert_eq!(
        checks(&target, "public.account"),
        "account_order_rank_check: CHECK ((\"order\" > 0))\n\
         account_user_login_check: CHECK ((\"user\" <> ''::text))\n\
         account_user_short_login_check: CHECK ((length(\"user\") < 9))"
    );
    for refused in [
        "INSERT INTO public.account VALUES (3, '', 1)",
        "INSERT INTO public.account VALUES (3, 'a rather long name', 1)",
        "INSERT INTO public.account VALUES (3, 'cy', 0)",
    ] {
        let error = target
            .sql(refused)
            .expect_err(&format!("the domain's CHECK refuses {refused}"));
        assert!(
            error.to_string().contains("violates check constraint"),
            "{error}"
        );
    }
    let error = target
        .sql("INSERT INTO public.account VALUES (3, NULL, 1)")
        .expect_err("the domain's NOT NULL refuses a NULL");
    assert!(error.to_string().contains("not-null constraint"), "{error}");
    assert_eq!(
        one(
            &target,
            "SELECT string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum) FROM pg_attribute \
              WHERE attrelid = 'public.account'::regclass AND attnum > 0"
        ),
        "id:true,user:true,order:false"
    );
    let _ = std::fs::remove_dir_all(&staging);
}
