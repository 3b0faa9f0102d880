//! Bad input gives findings or an error, never a panic or a hang: arbitrary text, arbitrary bytes, SQL-ish
//! token soup and truncated real statements go through `read_bytes` and `emit` to every target,
//! for every source dialect. An unterminated quote must be reported, not swallowed.
//!
//! Each property runs proptest's default 256 cases (about a second in a debug build); set
//! `PROPTEST_CASES` for a deeper run (`PROPTEST_CASES=20000 cargo test -p migrate-dialect --test
//! no_panic --release`).

use migrate_core::{Catalog, SourceDialect, TargetDialect};
use migrate_dialect::{emit, DdlReader, InputError};
use proptest::prelude::*;
use proptest::sample::{select, Index};

const FILE: &str = "input.sql";

/// The fuzz seeds: small statements covering each dialect's grammar, cut and spliced below.
const SEEDS: &[(SourceDialect, &str)] = &[
    (
        SourceDialect::Oracle,
        include_str!("../../../fuzz/seeds/ddl_oracle/table_constraints.sql"),
    ),
    (
        SourceDialect::Oracle,
        include_str!("../../../fuzz/seeds/ddl_oracle/partitions.sql"),
    ),
    (
        SourceDialect::Oracle,
        include_str!("../../../fuzz/seeds/ddl_oracle/sqlplus.sql"),
    ),
    (
        SourceDialect::Oracle,
        include_str!("../../../fuzz/seeds/ddl_oracle/objects.sql"),
    ),
    (
        SourceDialect::Hive,
        include_str!("../../../fuzz/seeds/ddl_hive/tables.sql"),
    ),
    (
        SourceDialect::Hive,
        include_str!("../../../fuzz/seeds/ddl_hive/serde.sql"),
    ),
    (
        SourceDialect::Mysql,
        include_str!("../../../fuzz/seeds/ddl_mysql/tables.sql"),
    ),
    (
        SourceDialect::Mysql,
        include_str!("../../../fuzz/seeds/ddl_mysql/routines.sql"),
    ),
    (
        SourceDialect::Postgres,
        include_str!("../../../fuzz/seeds/ddl_postgres/tables.sql"),
    ),
    (
        SourceDialect::Postgres,
        include_str!("../../../fuzz/seeds/ddl_postgres/objects.sql"),
    ),
];

/// Tokens that steer the statement splitter and the parsers into their corners: keywords,
/// punctuation, every kind of quote and comment marker, SQL*Plus `/` lines and `&var`, MySQL
/// `DELIMITER`, PostgreSQL dollar quotes, numbers at the limits, and non-ASCII text.
const VOCABULARY: &[&str] = &[
    "USING",
    "EXCEPTIONS",
    "CONSTRAINT",
    "q'[",
    "CREATE",
    "TABLE",
    "VIEW",
    "INDEX",
    "SEQUENCE",
    "OR REPLACE",
    "ALTER",
    "ADD",
    "MODIFY",
    "DROP",
    "COMMENT ON COLUMN",
    "IS",
    "CONSTRAINT",
    "PRIMARY KEY",
    "FOREIGN KEY",
    "REFERENCES",
    "UNIQUE",
    "CHECK",
    "NOT NULL",
    "DEFAULT",
    "ENABLE",
    "PARTITION BY RANGE",
    "PARTITION",
    "VALUES LESS THAN",
    "MAXVALUE",
    "SUBPARTITION BY HASH",
    "INTERVAL",
    "PARTITIONED BY",
    "CLUSTERED BY",
    "INTO 4 BUCKETS",
    "STORED AS",
    "ROW FORMAT DELIMITED",
    "TBLPROPERTIES",
    "LOCATION",
    "ENGINE=InnoDB",
    "AUTO_INCREMENT",
    "GENERATED ALWAYS AS IDENTITY",
    "AS",
    "SELECT",
    "FROM",
    "BEGIN",
    "END",
    "DECLARE",
    "PROCEDURE",
    "PACKAGE BODY",
    "TRIGGER",
    "FUNCTION",
    "NUMBER",
    "NUMBER(38,0)",
    "NUMBER(*,10)",
    "VARCHAR2(4000 CHAR)",
    "VARCHAR(65536)",
    "CLOB",
    "DATE",
    "TIMESTAMP(9) WITH TIME ZONE",
    "INTERVAL DAY TO SECOND",
    "RAW(2000)",
    "DECIMAL(65,30)",
    "ARRAY<",
    "MAP<STRING,",
    "STRUCT<a:",
    ">",
    "ENUM(",
    "SET(",
    "int[]",
    "character varying",
    "schema.t",
    "t",
    "c1",
    "\"Quoted Id\"",
    "`tick`",
    "(",
    ")",
    ",",
    ";",
    ".",
    ":",
    "=",
    "*",
    "'",
    "\"",
    "`",
    "''",
    "q'[",
    "]'",
    "N'x'",
    "E'\\n'",
    "\\",
    "--",
    "/*",
    "*/",
    "/*!50001",
    "#",
    "\n/\n",
    "\n.\n",
    "\nDELIMITER $$\n",
    "\nDELIMITER ;\n",
    "$$",
    "$1",
    "$tag$",
    "&var",
    "&&",
    "&",
    "\nREM ",
    "\nPROMPT ",
    "\nSET DEFINE OFF\n",
    "@script.sql",
    " -\n",
    "0",
    "-1",
    "99999999999999999999999999999",
    "1e308",
    "é",
    "日本語",
    "🦀",
    "\u{feff}",
    "\u{200b}",
    "\r\n",
    "\t",
    "\u{0}",
];

/// Reads `bytes` as a `dialect` script and emits it to every target. Returns the catalog (whose
/// findings tell what went wrong), or the error that rejected the whole input.
fn convert(dialect: SourceDialect, bytes: &[u8]) -> Result<Catalog, InputError> {
    let mut reader = DdlReader::new(dialect);
    reader.read_bytes(FILE, bytes)?;
    let catalog = reader.finish();
    for target in TargetDialect::ALL {
        emit(&catalog, dialect, target, &[]);
    }
    Ok(catalog)
}

fn convert_all(bytes: &[u8]) {
    for dialect in SourceDialect::ALL {
        if let Err(error) = convert(dialect, bytes) {
            // A rejected input names the file and where the problem is.
            assert!(error.to_string().starts_with(FILE), "{error}");
        }
    }
}

/// Token soup: vocabulary words joined by nothing, a space or a line break.
fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((select(VOCABULARY), select(vec!["", " ", "\n"])), 0..60).prop_map(
        |tokens| {
            tokens
                .into_iter()
                .map(|(token, separator)| format!("{token}{separator}"))
                .collect()
        },
    )
}

/// A seed statement cut at some character, with a vocabulary token spliced in at another.
fn mangled_seed() -> impl Strategy<Value = (SourceDialect, String)> {
    (
        select(SEEDS),
        any::<Index>(),
        any::<Index>(),
        select(VOCABULARY),
    )
        .prop_map(|((dialect, seed), cut, splice, token)| {
            let chars: Vec<char> = seed.chars().collect();
            let end = cut.index(chars.len() + 1);
            let at = splice.index(end + 1);
            let mut text: String = chars[..at].iter().collect();
            text.push_str(token);
            text.extend(&chars[at..end]);
            (dialect, text)
        })
}

/// Words that can't change how the splitter reads what follows: no quote, comment marker,
/// client command (`REM`, `SET`, `DELIMITER`...), `/` line, `&` or `$`.
const PLAIN: &[&str] = &[
    "CREATE",
    "TABLE",
    "VIEW",
    "schema.t",
    "t",
    "c1",
    "NUMBER(10,2)",
    "VARCHAR2(10)",
    "INT",
    "DEFAULT",
    "NOT NULL",
    "PRIMARY KEY",
    "(",
    ")",
    ",",
    ";",
    "=",
    "AS",
    "SELECT",
    "FROM",
    "COMMENT",
    "IS",
    "é",
    "日本語",
];

/// The quotes of each dialect, with the character that would close each one.
fn quotes(dialect: SourceDialect) -> &'static [(&'static str, char)] {
    match dialect {
        SourceDialect::Oracle => &[("'", '\''), ("\"", '"')],
        SourceDialect::Hive | SourceDialect::Mysql => &[("'", '\''), ("\"", '"'), ("`", '`')],
        SourceDialect::Postgres => &[("'", '\''), ("\"", '"'), ("$body$", '$')],
    }
}

/// A script of plain words, then a quote that is never closed: (dialect, text, line and column
/// of the opening quote).
fn unterminated_quote() -> impl Strategy<Value = (SourceDialect, String, u64, u64)> {
    (
        select(SourceDialect::ALL.to_vec()),
        prop::collection::vec((select(PLAIN), select(vec![" ", "\n"])), 0..30),
        any::<Index>(),
        "[^\\x00]{0,40}",
    )
        .prop_map(|(dialect, words, quote, rest)| {
            let mut text: String = words.iter().map(|(w, sep)| format!("{w}{sep}")).collect();
            // A space before the quote, so that it can't become `N'`, `E'` or `q'`.
            text.push(' ');
            let line = text.matches('\n').count() as u64 + 1;
            let column = text.rsplit('\n').next().unwrap_or("").chars().count() as u64 + 1;
            let &(open, close) = quote.get(quotes(dialect));
            text.push_str(open);
            text.extend(rest.chars().filter(|c| *c != close));
            (dialect, text, line, column)
        })
}

proptest! {
    // Each case runs in a child process with a time limit, so that a hang fails the test with
    // its input instead of stalling `cargo test`.
    #![proptest_config(ProptestConfig {
        timeout: 10_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text(text in any::<String>()) {
        convert_all(text.as_bytes());
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        convert_all(&bytes);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        convert_all(text.as_bytes());
    }

    #[test]
    fn mangled_seeds_never_panic((dialect, text) in mangled_seed()) {
        let _ = convert(dialect, text.as_bytes());
    }

    #[test]
    fn unterminated_quote_is_reported((dialect, text, line, column) in unterminated_quote()) {
        let catalog = convert(dialect, text.as_bytes()).expect("text input is read");
        let codes: Vec<&str> = catalog.findings.iter().map(|f| f.code.as_str()).collect();
        prop_assert!(
            codes.iter().any(|c| matches!(*c, "input.unterminated" | "parse.syntax-error")),
            "no finding for the quote at {line}:{column} in {text:?}; findings: {codes:?}"
        );
        // When the splitter reports it, it points at the opening quote.
        for finding in catalog.findings.iter().filter(|f| f.code == "input.unterminated") {
            let at = finding.location.as_ref().map(|l| (l.line, l.column));
            prop_assert_eq!(at, Some((line, column)), "{}", finding);
        }
    }
}

/// Every input the fuzzers ever stopped on (fuzz/regressions/<target>/) converts in bounded time.
/// Each runs in a child thread: a hang fails the test instead of stalling it.
#[test]
fn fuzz_regressions_finish() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut inputs = 0;
    for target in std::fs::read_dir(&root).expect("fuzz/regressions exists") {
        let target = target.expect("directory entry").path();
        for input in std::fs::read_dir(&target).expect("a target directory") {
            let path = input.expect("directory entry").path();
            let bytes = std::fs::read(&path).expect("a regression input");
            let (done, finished) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                convert_all(&bytes);
                let _ = done.send(());
            });
            finished
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{} did not finish in 10 s", path.display()));
            inputs += 1;
        }
    }
    assert!(inputs >= 5, "found {inputs} regression inputs");
}
