//! Read/write matrix per source dialect: each case's input DDL must convert to exactly the
//! expected Redshift and PostgreSQL DDL, with exactly the expected finding codes, and the
//! PostgreSQL output must run on a real PostgreSQL 15.
//!
//! Cases live in tests/matrix/<dialect>.toml. After an intended change, regenerate the expected
//! output with `UPDATE_MATRIX=1 cargo test -p migrate-tests --test convert_matrix` and review the
//! diff like code.

mod support;

use migrate_core::{SourceDialect, TargetDialect};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt::Write;
use support::{convert, repo};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    input: String,
    #[serde(default)]
    redshift: Option<String>,
    #[serde(default)]
    postgres: Option<String>,
    #[serde(default)]
    findings: Option<Vec<String>>,
}

struct Outcome {
    redshift: String,
    postgres: String,
    findings: Vec<String>,
}

const DIALECTS: [SourceDialect; 4] = [
    SourceDialect::Oracle,
    SourceDialect::Hive,
    SourceDialect::Mysql,
    SourceDialect::Postgres,
];

/// The generated DDL without its two-line header.
fn body(ddl: &str) -> String {
    ddl.lines()
        .skip(3)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

fn run(dialect: SourceDialect, case: &Case) -> Outcome {
    let files = [(
        format!("{}.sql", case.name),
        case.input.clone().into_bytes(),
    )];
    let redshift = convert(dialect, TargetDialect::Redshift, &files);
    let postgres = convert(dialect, TargetDialect::Postgres, &files);
    let findings: BTreeSet<String> = redshift
        .findings
        .iter()
        .chain(&postgres.findings)
        .map(|f| f.code.clone())
        .collect();
    Outcome {
        redshift: body(&redshift.ddl),
        postgres: body(&postgres.ddl),
        findings: findings.into_iter().collect(),
    }
}

fn load(dialect: SourceDialect) -> (std::path::PathBuf, String, MatrixFile) {
    let path = repo()
        .join("tests/matrix")
        .join(format!("{}.toml", dialect.name()));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: MatrixFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, text, file)
}

/// A TOML literal string; the matrix inputs never contain `'''`.
fn literal(text: &str) -> String {
    assert!(!text.contains("'''"), "matrix text can't contain '''");
    format!("'''\n{text}\n'''")
}

fn rewrite(path: &std::path::Path, original: &str, file: &MatrixFile, outcomes: &[Outcome]) {
    let mut out: String = original
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    for (case, outcome) in file.case.iter().zip(outcomes) {
        let findings: Vec<String> = outcome
            .findings
            .iter()
            .map(|f| format!("\"{f}\""))
            .collect();
        let _ = write!(
            out,
            "\n[[case]]\nname = \"{}\"\ninput = {}\nredshift = {}\npostgres = {}\nfindings = [{}]\n",
            case.name,
            literal(case.input.trim()),
            literal(&outcome.redshift),
            literal(&outcome.postgres),
            findings.join(", ")
        );
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn cases_convert_exactly_as_expected() {
    let update = std::env::var_os("UPDATE_MATRIX").is_some();
    let mut failures = Vec::new();
    let mut cases = 0;
    for dialect in DIALECTS {
        let (path, text, file) = load(dialect);
        let outcomes: Vec<Outcome> = file.case.iter().map(|case| run(dialect, case)).collect();
        if update {
            rewrite(&path, &text, &file, &outcomes);
            continue;
        }
        for (case, outcome) in file.case.iter().zip(&outcomes) {
            cases += 1;
            let label = format!("{dialect} `{}`", case.name);
            let checks = [
                (
                    "redshift",
                    case.redshift.as_deref().map(str::trim),
                    outcome.redshift.as_str(),
                ),
                (
                    "postgres",
                    case.postgres.as_deref().map(str::trim),
                    outcome.postgres.as_str(),
                ),
            ];
            for (target, expected, actual) in checks {
                match expected {
                    Some(expected) if expected == actual => {}
                    Some(expected) => failures.push(format!(
                        "{label} -> {target}:\n--- expected\n{expected}\n--- actual\n{actual}"
                    )),
                    None => failures.push(format!(
                        "{label}: no expected {target} output (run with UPDATE_MATRIX=1)"
                    )),
                }
            }
            if case.findings.as_ref() != Some(&outcome.findings) {
                failures.push(format!(
                    "{label}: findings {:?}, expected {:?}",
                    outcome.findings, case.findings
                ));
            }
        }
    }
    assert!(
        !update,
        "matrix files rewritten: review the diff, then run again without UPDATE_MATRIX"
    );
    assert!(cases >= 20, "the matrix has {cases} cases");
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn postgres_output_of_every_case_runs() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let mut failures = Vec::new();
    for dialect in DIALECTS {
        let (_, _, file) = load(dialect);
        for case in &file.case {
            let outcome = run(dialect, case);
            let database = server.create_database("matrix");
            if let Err(error) = database.sql(&outcome.postgres) {
                failures.push(format!("{dialect} `{}`: {error}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Sequences and identities converted from PostgreSQL give the source's values, in its order:
/// they stop at MAXVALUE, or start again from MINVALUE with CYCLE, where the source's do (also
/// at the implicit bound of `AS smallint` or `AS integer`).
#[test]
fn converted_sequences_give_the_sources_values() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let ddl = "CREATE SEQUENCE public.round_seq START WITH 1 INCREMENT BY 1 MAXVALUE 3 CYCLE;
        CREATE SEQUENCE public.down_seq AS integer START WITH 2 INCREMENT BY -2 MINVALUE -3 MAXVALUE 2 CYCLE;
        CREATE SEQUENCE public.capped MAXVALUE 2;
        CREATE SEQUENCE public.ticket_seq AS smallint START WITH 30 INCREMENT BY 10 MINVALUE 10 MAXVALUE 40 CYCLE;
        CREATE TABLE public.ticket (id smallint DEFAULT nextval('public.ticket_seq'::regclass) NOT NULL, v text);
        CREATE TABLE public.lap (id integer GENERATED BY DEFAULT AS IDENTITY (START WITH 5 INCREMENT BY 5 MAXVALUE 12 CYCLE), v text);
        CREATE SEQUENCE public.wrap_seq AS smallint START WITH 32766 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1 CYCLE;
        CREATE SEQUENCE public.int_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
        SELECT pg_catalog.setval('public.round_seq', 2, true);
        SELECT pg_catalog.setval('public.int_seq', 2147483645, true);";
    // Six values of each, or the error that ends them.
    let draws = "CREATE FUNCTION pg_temp.draw(q text) RETURNS text LANGUAGE plpgsql AS $$
            DECLARE v text; BEGIN EXECUTE q INTO v; RETURN v;
            EXCEPTION WHEN OTHERS THEN RETURN SQLERRM; END $$;
        SELECT string_agg(pg_temp.draw(q), ', ' ORDER BY i)
          FROM unnest(ARRAY['SELECT nextval(''public.round_seq'')', 'SELECT nextval(''public.down_seq'')',
                            'SELECT nextval(''public.capped'')',
                            'INSERT INTO public.ticket (v) VALUES (''x'') RETURNING id',
                            'INSERT INTO public.lap (v) VALUES (''x'') RETURNING id',
                            'SELECT nextval(''public.wrap_seq'')', 'SELECT nextval(''public.int_seq'')']) WITH ORDINALITY s(q, n),
               generate_series(1, 6) i
         GROUP BY n ORDER BY n;";
    let source = server.create_database("seq_source");
    source.sql(ddl).unwrap();
    let files = [("bounds.sql".to_string(), ddl.as_bytes().to_vec())];
    let converted = convert(SourceDialect::Postgres, TargetDialect::Postgres, &files);
    let target = server.create_database("seq_target");
    target.sql(&converted.ddl).unwrap();
    let expected = source.sql(draws).unwrap();
    assert!(
        expected.starts_with("3, 1, 2, 3, 1, 2\n"),
        "the source cycles: {expected}"
    );
    assert_eq!(target.sql(draws).unwrap(), expected, "{}", converted.ddl);
}
