//! `migrate convert` as users run it: exit codes, bad input, output formats, and the shipped
//! scenario's exact output.

mod common;

use common::{convert_to, file, runs_on_postgres};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn migrate(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run migrate");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        input.write_all(bytes).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait for migrate")
}

/// `migrate convert --from <from> <path>` to the default target, Redshift.
fn convert(from: &str, path: &Path) -> (i32, String, String) {
    convert_to(from, "redshift", path)
}

#[test]
fn clean_input_exits_zero() {
    let path = file(
        "clean.sql",
        b"CREATE TABLE t (id integer PRIMARY KEY, name varchar(10));",
    );
    let (code, stdout, stderr) = convert("postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("CREATE TABLE t (\n    id INTEGER NOT NULL ENCODE RAW,\n    name VARCHAR(40) ENCODE ZSTD,"), "{stdout}");
    assert!(
        stderr.contains("findings: 0 action, 0 warning, 0 info"),
        "{stderr}"
    );
}

#[test]
fn not_sql_is_a_finding_with_its_position() {
    let path = file("notsql.sql", b"\n\n   hello world, this is not SQL\n");
    let (code, _, stderr) = convert("postgres", &path);
    assert_eq!(code, 1);
    let expected = format!("{}:3:4: action [parse.syntax-error]", path.display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn truncated_statement_is_reported_where_it_ends() {
    let path = file(
        "truncated.sql",
        b"CREATE TABLE t (\n  a INT,\n  b VARCHAR(10)\n",
    );
    let (code, _, stderr) = convert("postgres", &path);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "{}:3:16: action [parse.syntax-error]",
            path.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("may be truncated"), "{stderr}");
}

#[test]
fn unknown_type_is_reported_and_the_table_still_converts() {
    let path = file("unknown.sql", b"CREATE TABLE t (a FROBNICATE(3), b INT);");
    let (code, stdout, stderr) = convert("postgres", &path);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "{}:1:17: action [type.unknown] t.a: unknown type `FROBNICATE(3)`",
            path.display()
        )),
        "{stderr}"
    );
    assert!(stdout.contains("a VARCHAR(65535)"), "{stdout}");
}

#[test]
fn unbalanced_quote_is_reported_where_it_opens() {
    let path = file(
        "quote.sql",
        b"CREATE TABLE t (a VARCHAR(3) DEFAULT 'x);\nCREATE TABLE u (b INT);\n",
    );
    let (code, _, stderr) = convert("postgres", &path);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "{}:1:38: action [input.unterminated]",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn binary_and_non_utf8_files_stop_the_run() {
    let binary = file("binary.sql", b"CREATE\x00\x01\x02");
    let (code, stdout, stderr) = convert("oracle", &binary);
    assert_eq!(code, 2);
    assert!(
        stdout.is_empty(),
        "nothing is written when an input is unreadable"
    );
    assert!(
        stderr.contains(&format!(
            "{}: not a text file (NUL byte at offset 6)",
            binary.display()
        )),
        "{stderr}"
    );

    let latin = file(
        "latin1.sql",
        b"CREATE TABLE t (a INT);\nCREATE TABLE caf\xe9 (a INT);",
    );
    let (code, _, stderr) = convert("oracle", &latin);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!("{}:2:17: not valid UTF-8", latin.display())),
        "{stderr}"
    );

    let (code, _, stderr) = convert("oracle", Path::new("/nonexistent/schema.sql"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("reading /nonexistent/schema.sql"),
        "{stderr}"
    );
}

/// Windows editors start UTF-8 files with a byte order mark: it is skipped, in every dialect,
/// in files, standard input, workloads and statistics.
#[test]
fn a_leading_byte_order_mark_is_skipped() {
    const BOM: &[u8] = b"\xef\xbb\xbf";
    let script = [BOM, b"CREATE TABLE bom (id int);\n"].concat();
    for dialect in ["oracle", "hive", "mysql", "postgres"] {
        let path = file(&format!("bom-{dialect}.sql"), &script);
        let (code, stdout, stderr) = convert(dialect, &path);
        assert_eq!(code, 0, "{dialect}: {stderr}");
        assert!(
            stdout.contains("\nCREATE TABLE bom (\n"),
            "{dialect}: {stdout}"
        );

        let output = migrate(&["convert", "--from", dialect], Some(&script));
        assert_eq!(output.status.code(), Some(0), "{dialect} on standard input");
        assert!(String::from_utf8_lossy(&output.stdout).contains("\nCREATE TABLE bom (\n"));
    }

    let schema = file("bom-schema.sql", &script);
    let workload = file(
        "bom-workload.sql",
        &[BOM, b"SELECT count(*) FROM bom WHERE id = 1;\n"].concat(),
    );
    let stats = file(
        "bom-stats.json",
        &[BOM, br#"{"tables":{"bom":{"rows":1000}}}"#.as_slice()].concat(),
    );
    let output = migrate(
        &[
            "convert",
            "--from",
            "postgres",
            schema.to_str().expect("path"),
            "--workload",
            workload.to_str().expect("path"),
            "--stats",
            stats.to_str().expect("path"),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("findings: 0 action, 0 warning, 0 info"),
        "{stderr}"
    );
}

#[test]
fn utf16_files_are_named_with_the_conversion_to_run() {
    let text = "CREATE TABLE u16 (id int);\n";
    let little: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let big: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let with_bom = [&[0xff, 0xfe][..], &little].concat();
    for (name, bytes, encoding) in [
        ("u16-bom.sql", with_bom, "UTF-16"),
        ("u16le.sql", little, "UTF-16LE"),
        ("u16be.sql", big, "UTF-16BE"),
    ] {
        let path = file(name, &bytes);
        let (code, stdout, stderr) = convert("postgres", &path);
        assert_eq!(code, 2);
        assert!(stdout.is_empty());
        assert_eq!(
            stderr,
            format!("migrate: error: {}: {encoding} text, not UTF-8; convert the file to UTF-8 first (e.g. `iconv -f {encoding} -t UTF-8`)\n", path.display())
        );
    }
}

/// Inputs that can't be what the user meant stop the run with exit code 2 and say why.
#[test]
fn unusable_out_dir_workload_and_statistics_exit_two() {
    let schema = file("usable-schema.sql", b"CREATE TABLE t (id int);\n");
    let schema = schema.to_str().expect("path");
    let run = |extra: &[&str]| {
        let output = migrate(
            &[&["convert", "--from", "postgres", schema], extra].concat(),
            None,
        );
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    let regular_file = file("afile", b"");
    let regular_file = regular_file.to_str().expect("path");
    assert_eq!(
        run(&["-o", regular_file]),
        (Some(2), format!("migrate: error: -o {regular_file}: not a directory (it is an existing file); pass a directory to write redshift.sql and findings.json to\n"))
    );

    for (name, content) in [
        ("empty.sql", &b""[..]),
        ("comment.sql", b"-- no queries yet\n"),
    ] {
        let workload = file(name, content);
        let workload = workload.to_str().expect("path");
        assert_eq!(
            run(&["--workload", workload]),
            (Some(2), format!("migrate: error: reading workload {workload}: workload: the file has no SQL statement; pass the queries that run on the data, or leave out --workload\n"))
        );
    }

    let stats = file(
        "too-distinct.json",
        br#"{"tables":{"t":{"rows":100,"columns":{"id":{"distinct":1000000}}}}}"#,
    );
    let stats = stats.to_str().expect("path");
    assert_eq!(
        run(&["--stats", stats]),
        (Some(2), format!("migrate: error: reading statistics {stats}: statistics file: table \"t\": column \"id\": distinct (1000000) is greater than rows (100)\n"))
    );
}

#[test]
fn bad_arguments_exit_two() {
    let output = migrate(&["convert", "--from", "sybase"], None);
    assert_eq!(output.status.code(), Some(2));
    let output = migrate(&["convert"], None);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn reads_standard_input_and_writes_json() {
    let output = migrate(
        &["convert", "--from", "mysql", "--output", "json"],
        Some(b"CREATE TABLE t (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, flag ENUM('y','n'));"),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "info findings alone need no attention"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["source"], "mysql");
    assert_eq!(json["target"], "redshift");
    assert_eq!(json["summary"]["tables"], 1);
    assert_eq!(json["tables"][0]["table"], "t");
    assert_eq!(json["tables"][0]["sortkey"][0], "id");
    assert!(json["ddl"]
        .as_str()
        .expect("ddl")
        .contains("id BIGINT GENERATED BY DEFAULT AS IDENTITY(1, 1) NOT NULL"));
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code"))
        .collect();
    assert!(codes.contains(&"type.enum"), "{codes:?}");
    let location = &json["findings"][0]["location"];
    assert_eq!(location["file"], "<stdin>");
}

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/convert/oracle-retail")
}

fn convert_scenario(target: &str, out: &Path) -> Output {
    let dir = scenario();
    migrate(
        &[
            "convert",
            "--from",
            "oracle",
            "--target",
            target,
            dir.join("schema.sql").to_str().expect("path"),
            "--workload",
            dir.join("workload.sql").to_str().expect("path"),
            "--stats",
            dir.join("stats.json").to_str().expect("path"),
            "-o",
            out.to_str().expect("path"),
        ],
        None,
    )
}

/// The README's first command converts this scenario: its output is pinned exactly.
#[test]
fn retail_scenario_matches_its_expected_output() {
    for target in ["redshift", "postgres"] {
        let out =
            std::env::temp_dir().join(format!("migrate-scenario-{}-{target}", std::process::id()));
        let output = convert_scenario(target, &out);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let actual =
            std::fs::read_to_string(out.join(format!("{target}.sql"))).expect("DDL written");
        let expected = std::fs::read_to_string(scenario().join(format!("expected/{target}.sql")))
            .expect("expected DDL");
        assert_eq!(actual, expected, "scenario output for {target} changed: review it and update scenarios/convert/oracle-retail/expected/");
        let findings: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("findings.json")).expect("findings.json"),
        )
        .expect("JSON");
        assert_eq!(findings["summary"]["tables"], 4);
    }
}

/// ... and its PostgreSQL output runs on a real PostgreSQL.
#[test]
fn retail_scenario_postgres_output_runs() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let database = server.create_database("retail");
    database
        .sql_file(scenario().join("expected/postgres.sql"))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Columns whose names fold to one name get a free suffix inside the identifier (`"col x_2"`,
/// never `"col x"_2`), and the keys, indexes and comments that name them follow.
#[test]
fn colliding_column_names_get_a_suffix_inside_the_quotes() {
    let path = file(
        "collide.sql",
        br#"CREATE TABLE t ("a" int, "A" int, "Col X" int, "col x" int, "Order" int, "order" int,
  CONSTRAINT t_pk PRIMARY KEY ("A"));
CREATE INDEX t_ix ON t ("col x");
COMMENT ON COLUMN t."order" IS 'second';"#,
    );
    let (code, stdout, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains(
            "CREATE TABLE t (
    a INTEGER,
    a_2 INTEGER,
    \"col x\" INTEGER,
    \"col x_2\" INTEGER,
    \"order\" INTEGER,
    order_2 INTEGER,
    CONSTRAINT t_pk PRIMARY KEY (a_2)
);"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("COMMENT ON COLUMN t.order_2 IS 'second';"),
        "{stdout}"
    );
    assert!(
        stdout.contains("CREATE INDEX t_ix ON t (\"col x_2\");"),
        "{stdout}"
    );
    assert!(stderr.contains("it is written as \"col x_2\""), "{stderr}");
    runs_on_postgres("collide", &stdout);
    let (_, redshift, _) = convert_to("postgres", "redshift", &path);
    assert!(
        redshift.contains("    \"col x_2\" INTEGER ENCODE AZ64,"),
        "{redshift}"
    );
    assert!(redshift.contains("COMPOUND SORTKEY (a_2);"), "{redshift}");
}

/// Long names cut to the same 63 bytes: the later table, column, key and index get a suffix
/// that fits the limit, and everything that names them follows.
#[test]
fn names_that_collide_after_truncation_are_made_unique() {
    let a = "a".repeat(70);
    let e = "é".repeat(40);
    let script = format!(
        r#"CREATE TABLE "{a}_one" ("{a}_c1" int, "{a}_c2" int, CONSTRAINT "{a}_pk1" PRIMARY KEY ("{a}_c1"));
CREATE TABLE "{a}_two" ("{a}_c1" int, "{a}_c2" int, "{e}x" int, "{e}y" int, CONSTRAINT "{a}_pk2" PRIMARY KEY ("{a}_c1"));
CREATE INDEX "{a}_idx1" ON "{a}_one" ("{a}_c2");
CREATE INDEX "{a}_idx2" ON "{a}_two" ("{a}_c2");
ALTER TABLE "{a}_two" ADD CONSTRAINT "{a}_fk" FOREIGN KEY ("{a}_c2") REFERENCES "{a}_one" ("{a}_c1");
CREATE VIEW v AS SELECT count(*) AS n FROM "{a}_two";"#
    );
    let path = file("truncated.sql", script.as_bytes());
    let (code, stdout, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    let cut = |suffix: &str| format!("{}{suffix}", "a".repeat(63 - suffix.len()));
    let expected = format!(
        "CREATE TABLE {two} (
    {full} INTEGER,
    {c2} INTEGER,
    \"{e31}\" INTEGER,
    \"{e30}_2\" INTEGER,
    CONSTRAINT {pk2} PRIMARY KEY ({full})
);",
        two = cut("_2"),
        full = cut(""),
        c2 = cut("_2"),
        e31 = "é".repeat(31),
        e30 = "é".repeat(30),
        pk2 = cut("_4"),
    );
    // The first table's key is named like the table, in PostgreSQL one namespace with indexes;
    // the indexes' `<table>_<index>` names are cut back to the table's name, so they get suffixes.
    let (one, two, full) = (cut(""), cut("_2"), cut(""));
    let statements = [
        expected,
        format!("CONSTRAINT {} PRIMARY KEY ({full})", cut("_3")),
        format!("ALTER TABLE {two} ADD CONSTRAINT {full} FOREIGN KEY ({two}) REFERENCES {one} ({full});"),
        format!("CREATE INDEX {} ON {one} ({two});", cut("_5")),
        format!("CREATE INDEX {} ON {two} ({two});", cut("_6")),
        format!("CREATE VIEW v AS\nSELECT count(*) AS n FROM {two};"),
    ];
    for statement in statements {
        assert!(stdout.contains(&statement), "{statement}\n{stdout}");
    }
    assert!(
        stderr.contains(&format!("it is written as {}:", cut("_2"))),
        "{stderr}"
    );
    runs_on_postgres("truncated", &stdout);
}

/// MySQL and Hive casts in views name the source's types: they are mapped as columns of those
/// types are. Hive array subscripts count from 1 on PostgreSQL. The PostgreSQL output runs and
/// gives the source's results.
#[test]
fn view_casts_and_array_subscripts_follow_the_source_dialect() {
    let mysql = file(
        "casts-mysql.sql",
        b"CREATE TABLE t (id int, s varchar(20));
CREATE VIEW v AS SELECT CAST(id AS CHAR) a, CAST(s AS SIGNED) b, CAST(s AS UNSIGNED INTEGER) c,
  CAST(s AS DATETIME) e, CAST(s AS DECIMAL(10,2)) f, CONVERT(s, CHAR(5)) g, CAST(id AS DOUBLE) h,
  CAST(s AS BINARY) i FROM t;",
    );
    let (_, postgres, stderr) = convert_to("mysql", "postgres", &mysql);
    assert!(
        postgres.contains("CREATE VIEW v AS\nSELECT CAST(id AS TEXT) AS a, CAST(s AS BIGINT) AS b, CAST(s AS NUMERIC(20,0)) AS c, CAST(s AS TIMESTAMP(0)) AS e, CAST(s AS NUMERIC(10,2)) AS f, CAST(s AS VARCHAR(5)) AS g, CAST(id AS DOUBLE PRECISION) AS h, CAST(s AS BYTEA) AS i FROM t;"),
        "{postgres}\n{stderr}"
    );
    let (_, redshift, _) = convert_to("mysql", "redshift", &mysql);
    assert!(
        redshift.contains("SELECT CAST(id AS VARCHAR(65535)) AS a, CAST(s AS BIGINT) AS b, CAST(s AS DECIMAL(20,0)) AS c, CAST(s AS TIMESTAMP) AS e, CAST(s AS DECIMAL(10,2)) AS f, CAST(s AS VARCHAR(20)) AS g, CAST(id AS DOUBLE PRECISION) AS h, CAST(s AS varbyte(16777216)) AS i FROM t;"),
        "{redshift}"
    );
    let hive = file(
        "casts-hive.sql",
        b"CREATE TABLE t (id int, a array<int>, s string);
CREATE VIEW v AS SELECT id, a[0] AS first_elem, a[id] AS nth, cast(id as string) AS ids FROM t;",
    );
    let (_, hive_postgres, _) = convert_to("hive", "postgres", &hive);
    assert!(
        hive_postgres.contains(
            "SELECT id, a[1] AS first_elem, a[(id) + 1] AS nth, CAST(id AS TEXT) AS ids FROM t;"
        ),
        "{hive_postgres}"
    );
    let (_, hive_redshift, _) = convert_to("hive", "redshift", &hive);
    assert!(
        hive_redshift.contains("SELECT id, a[0] AS first_elem, a[id] AS nth, CAST(id AS VARCHAR(65535)) AS ids FROM t;"),
        "{hive_redshift}"
    );
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    for (hint, ddl, data, query, expected) in [
        (
            "casts_mysql",
            &postgres,
            "INSERT INTO t VALUES (123, '42')",
            "SELECT a, b, c, f, g, h FROM v",
            "123|42|42|42.00|42|123\n",
        ),
        (
            "casts_hive",
            &hive_postgres,
            "INSERT INTO t VALUES (1, ARRAY[10, 20, 30], 'x')",
            "SELECT * FROM v",
            "1|10|20|1\n",
        ),
    ] {
        let database = server.create_database(hint);
        database.sql(ddl).unwrap_or_else(|e| panic!("{e}\n{ddl}"));
        database.sql(data).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            database.sql(query).unwrap_or_else(|e| panic!("{e}")),
            expected
        );
    }
}

/// Clauses DBMS_METADATA writes after an Oracle table's columns are storage or behaviour the
/// target does not have: each table converts (one info finding), none is lost to a syntax error.
#[test]
fn oracle_dbms_metadata_table_clauses_are_skipped() {
    let path = file(
        "dbms_metadata.sql",
        br#"CREATE TABLE "HR"."A" ("ID" NUMBER) TABLESPACE "USERS" ENABLE ROW MOVEMENT;
CREATE TABLE "HR"."B" ("ID" NUMBER) TABLESPACE "USERS" ROW ARCHIVAL;
CREATE TABLE "HR"."C" ("ID" NUMBER) TABLESPACE "USERS" COLUMN STORE COMPRESS FOR QUERY HIGH ROW LEVEL LOCKING;
CREATE TABLE "HR"."D" ("ID" NUMBER) TABLESPACE "USERS" INMEMORY PRIORITY HIGH MEMCOMPRESS FOR QUERY LOW DISTRIBUTE AUTO NO DUPLICATE;
CREATE TABLE "HR"."E" ("ID" NUMBER) TABLESPACE "USERS" ILM ADD POLICY ROW STORE COMPRESS ADVANCED SEGMENT AFTER 30 DAYS OF NO MODIFICATION;
CREATE TABLE "HR"."F" ("ID" NUMBER) TABLESPACE "USERS" READ ONLY;
CREATE TABLE "HR"."G" ("ID" NUMBER, "N" NUMBER) TABLESPACE "USERS" CLUSTERING BY LINEAR ORDER ("ID", "N") YES ON LOAD YES ON DATA MOVEMENT WITHOUT MATERIALIZED ZONEMAP;
CREATE TABLE "HR"."H" ("ID" NUMBER, "X" "SYS"."XMLTYPE") TABLESPACE "USERS" XMLTYPE COLUMN "X" STORE AS SECUREFILE BINARY XML (TABLESPACE "USERS" ENABLE STORAGE IN ROW CHUNK 8192 NOCACHE LOGGING NOCOMPRESS KEEP_DUPLICATES) ALLOW NONSCHEMA DISALLOW ANYSCHEMA;
CREATE TABLE "HR"."I" ("ID" NUMBER) DISABLE ROW MOVEMENT INMEMORY MEMCOMPRESS FOR QUERY LOW NO INMEMORY ("ID") READ WRITE PARTITION BY RANGE ("ID") (PARTITION "P1" VALUES LESS THAN (10));
"#,
    );
    let (code, stdout, stderr) = convert_to("oracle", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("converted 9 tables, 0 views, 0 foreign keys, 0 comments; 0 not converted; findings: 0 action, 0 warning, 10 info"),
        "{stderr}"
    );
    for table in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
        assert!(
            stdout.contains(&format!("CREATE TABLE hr.{table} (")),
            "{table}\n{stdout}"
        );
    }
    let output = migrate(
        &[
            "convert",
            "--from",
            "oracle",
            "--output",
            "json",
            path.to_str().expect("utf-8 path"),
        ],
        None,
    );
    let json = String::from_utf8_lossy(&output.stdout);
    for dropped in [
        "ROW ARCHIVAL",
        "INMEMORY",
        "ILM",
        "READ ONLY/READ WRITE",
        "CLUSTERING",
        "XMLTYPE storage",
        "COMPRESS",
    ] {
        assert!(json.contains(dropped), "{dropped}\n{json}");
    }
    runs_on_postgres("dbms_metadata", &stdout);
}

/// mariadb-dump's output of system-versioned tables, a sequence with its `DO SETVAL`, and INET6,
/// UUID and binary columns with defaults: every table converts, the sequence continues where the
/// source's stood, and the defaults give the source's bytes on PostgreSQL.
#[test]
fn mariadb_dump_forms_convert_and_run_on_postgres() {
    let path = file(
        "mariadb_dump.sql",
        br"CREATE SEQUENCE `s1` start with 5 minvalue 1 maxvalue 9223372036854775806 increment by 3 cache 1000 nocycle ENGINE=InnoDB;
DO SETVAL(`s1`, 3005, 0);
CREATE TABLE `sv` (
  `id` int(11) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci WITH SYSTEM VERSIONING;
CREATE TABLE `sv2` (
  `x` int(11) DEFAULT NULL,
  `rs` timestamp(6) GENERATED ALWAYS AS ROW START INVISIBLE,
  `re` timestamp(6) GENERATED ALWAYS AS ROW END INVISIBLE,
  `y` int(11) DEFAULT NULL WITHOUT SYSTEM VERSIONING,
  PERIOD FOR SYSTEM_TIME (`rs`, `re`)
) ENGINE=InnoDB WITH SYSTEM VERSIONING;
CREATE TABLE `ty` (
  `id` int(11) DEFAULT NULL,
  `ip` inet6 DEFAULT '::1',
  `u` uuid DEFAULT NULL,
  `b` binary(3) DEFAULT '\0\0\0',
  `vb` varbinary(10) DEFAULT 0x4142,
  `bb` binary(2) DEFAULT b'0100000101000010',
  `sb` varbinary(4) DEFAULT 'A''B',
  `inv` int(11) /*!80023 INVISIBLE */ DEFAULT NULL
) ENGINE=InnoDB;
",
    );
    let (code, stdout, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("converted 3 tables"), "{stderr}");
    assert!(
        stdout.contains("CREATE SEQUENCE s1 START WITH 3005 INCREMENT BY 3"),
        "{stdout}"
    );
    for expected in [
        "    ip VARCHAR(45) DEFAULT '::1',",
        "    u UUID DEFAULT NULL,",
        "    b BYTEA DEFAULT '\\x000000'::BYTEA,",
        "    vb BYTEA DEFAULT '\\x4142'::BYTEA,",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
    let output = migrate(
        &[
            "convert",
            "--from",
            "mysql",
            "--target",
            "postgres",
            "--output",
            "json",
            path.to_str().expect("utf-8 path"),
        ],
        None,
    );
    let json = String::from_utf8_lossy(&output.stdout);
    for code in [
        "table.system-versioned",
        "column.invisible",
        "type.network-address",
    ] {
        assert!(json.contains(code), "{code}\n{json}");
    }
    assert!(!json.contains("parse.syntax-error"), "{json}");
    assert!(!json.contains("type.unknown"), "{json}");
    let (_, redshift, _) = convert_to("mysql", "redshift", &path);
    assert!(
        redshift.contains("    b VARBYTE(3) DEFAULT FROM_HEX('000000') ENCODE RAW,"),
        "{redshift}"
    );
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let database = server.create_database("mariadb_dump");
    database
        .sql(&stdout)
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    assert_eq!(
        database
            .sql("INSERT INTO ty (id) VALUES (1); SELECT ip, encode(b, 'hex'), encode(vb, 'hex'), encode(bb, 'hex'), encode(sb, 'hex') FROM ty")
            .unwrap_or_else(|e| panic!("{e}")),
        "::1|000000|4142|4142|412742\n"
    );
    assert_eq!(
        database
            .sql("SELECT nextval('s1')")
            .unwrap_or_else(|e| panic!("{e}")),
        "3005\n"
    );
}

/// A column renamed because its name collides is renamed in its CHECK constraints and
/// expression indexes too, not only in keys and comments: on PostgreSQL the CHECK guards the
/// column it guarded in the source.
#[test]
fn colliding_column_names_are_renamed_in_checks_and_index_expressions() {
    let path = file(
        "collide_check.sql",
        br#"CREATE TABLE public.t ("Qty" integer, qty integer, CONSTRAINT qty_nonneg CHECK (qty >= 0), CONSTRAINT t_u UNIQUE (qty));
CREATE INDEX t_qty_expr ON public.t ((qty + 1));"#,
    );
    let (_, stdout, stderr) = convert_to("postgres", "postgres", &path);
    assert!(
        stdout.contains("CONSTRAINT qty_nonneg CHECK (qty_2 >= 0),"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("CREATE INDEX t_qty_expr ON public.t ((qty_2 + 1));"),
        "{stdout}"
    );
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let database = server.create_database("collide_check");
    database
        .sql(&stdout)
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    database
        .sql("INSERT INTO public.t (qty, qty_2) VALUES (-1, 1)")
        .unwrap_or_else(|e| panic!("the source's \"Qty\" may be negative: {e}"));
    let refused = database.sql("INSERT INTO public.t (qty, qty_2) VALUES (1, -1)");
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("qty_nonneg")),
        "{refused:?}"
    );
}

/// Spark's `USING delta PARTITIONED BY (col)` names columns of the table; Hive's `ALTER TABLE ...
/// ADD PARTITION ... LOCATION` is data, skipped with an info finding.
#[test]
fn spark_partition_columns_and_hive_add_partition_are_read() {
    let path = file(
        "spark.sql",
        b"CREATE TABLE s (a int, b string) USING delta PARTITIONED BY (a);
CREATE TABLE p (a int) PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://x/p';
ALTER TABLE p ADD PARTITION (dt='2024-01-01') LOCATION 's3://x/p/dt=2024-01-01';
ALTER TABLE p ADD IF NOT EXISTS PARTITION (dt='2024-01-02') LOCATION 's3://x/p/2' PARTITION (dt='2024-01-03');",
    );
    let (code, stdout, stderr) = convert_to("hive", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("CREATE TABLE s (\n    a INTEGER,\n    b TEXT\n);"),
        "{stdout}"
    );
    let output = migrate(
        &[
            "convert",
            "--from",
            "hive",
            "--output",
            "json",
            path.to_str().expect("utf-8 path"),
        ],
        None,
    );
    let json = String::from_utf8_lossy(&output.stdout);
    assert!(
        json.contains("2 ALTER TABLE ... ADD PARTITION statements skipped"),
        "{json}"
    );
    assert!(!json.contains("parse.syntax-error"), "{json}");
    runs_on_postgres("spark", &stdout);
}

/// Oracle's `||` takes NULL for `''` and gives NULL for `''` (Oracle Database SQL Language
/// Reference, "Concatenation Operator"). In a CHECK and an index expression, where PostgreSQL's
/// `CONCAT` can't go (not IMMUTABLE), the chain becomes `COALESCE(a, '') || ..` under
/// `NULLIF(.., '')`: the constraints accept and refuse the rows Oracle's would.
#[test]
fn oracle_concat_in_checks_and_indexes_treats_null_as_empty() {
    let path = file(
        "oracle_concat_check.sql",
        b"CREATE TABLE people (
  id NUMBER(10) PRIMARY KEY,
  first_name VARCHAR2(20),
  last_name VARCHAR2(20),
  qty NUMBER(5),
  CONSTRAINT named CHECK (first_name || last_name IS NOT NULL),
  CONSTRAINT label_long CHECK (LENGTH(last_name || qty) >= 2)
);
CREATE UNIQUE INDEX people_full ON people (first_name || '/' || last_name);
CREATE VIEW people_v AS SELECT last_name || qty AS lq FROM people;
",
    );
    let (_, stdout, stderr) = convert_to("oracle", "postgres", &path);
    // What is left is the number's text form (expression.concat-format), not the NULLs.
    assert!(stderr.contains("findings: 0 action, 2 warning"), "{stderr}");
    assert!(
        stdout.contains("CONSTRAINT named CHECK (NULLIF(COALESCE(first_name, '') || COALESCE(last_name, ''), '') IS NOT NULL),"),
        "{stdout}"
    );
    // Redshift's CONCAT is NULL for a NULL: the same form, with its unbounded text type.
    let (_, redshift, _) = convert_to("oracle", "redshift", &path);
    assert!(
        redshift.contains("SELECT NULLIF(COALESCE(last_name, '') || COALESCE(CAST(qty AS VARCHAR(MAX)), ''), '') AS lq FROM people;"),
        "{redshift}"
    );
    let Some(database) = runs_on_postgres("oracle_concat_check", &stdout) else {
        return;
    };
    // Oracle: 'ann' || NULL is 'ann' (named holds); LENGTH(NULL || NULL) is NULL (label_long
    // holds); the index key is 'ann/'.
    database
        .sql("INSERT INTO people VALUES (1, 'ann', NULL, NULL)")
        .unwrap_or_else(|e| panic!("Oracle accepts a NULL last name: {e}"));
    // Oracle: 'lee' || 7 is 'lee7', of length 4.
    database
        .sql("INSERT INTO people VALUES (2, NULL, 'lee', 7)")
        .unwrap_or_else(|e| panic!("Oracle accepts a NULL first name: {e}"));
    for (row, constraint) in [
        // Oracle: NULL || NULL is NULL (not ''), so named is false.
        ("(3, NULL, NULL, 12)", "named"),
        // Oracle: 'x' || NULL is 'x', of length 1.
        ("(4, 'bo', 'x', NULL)", "label_long"),
        // Oracle: the key 'ann' || '/' || NULL is 'ann/', row 1's.
        ("(5, 'ann', NULL, NULL)", "people_full"),
    ] {
        let refused = database.sql(&format!("INSERT INTO people VALUES {row}"));
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains(constraint)),
            "{row}: {refused:?}"
        );
    }
    assert_eq!(
        database
            .sql("SELECT id FROM people ORDER BY id")
            .unwrap_or_else(|e| panic!("{e}")),
        "1\n2\n"
    );
}

/// PostgreSQL's one-byte `"char"` into PostgreSQL stays `"char"` (the type map's `kept_as`) in
/// columns of a domain over it and in casts in defaults and views, not `CHAR(1)`, which can't
/// hold a byte of 128 or more.
#[test]
fn postgres_internal_char_domains_and_casts_stay_one_byte() {
    let path = file(
        "pg_internal_char.sql",
        br#"CREATE DOMAIN public.flag AS "char";
CREATE TABLE public.t (id integer PRIMARY KEY, k "char" DEFAULT 'a'::"char", f public.flag);
CREATE VIEW public.v AS SELECT id, f::"char" AS fc, CAST(k AS "char") AS kc FROM public.t;
"#,
    );
    let (_, stdout, stderr) = convert_to("postgres", "postgres", &path);
    assert!(!stderr.contains("cast.unknown-type"), "{stderr}");
    for expected in [
        "    k \"char\" DEFAULT 'a'::\"char\",",
        "    f \"char\",",
        "SELECT id, f::\"char\" AS fc, CAST(k AS \"char\") AS kc FROM public.t;",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
    let Some(database) = runs_on_postgres("pg_internal_char", &stdout) else {
        return;
    };
    assert_eq!(
        database
            .sql("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid IN ('public.t'::regclass, 'public.v'::regclass) AND attname IN ('k', 'f', 'fc', 'kc') ORDER BY attname")
            .unwrap_or_else(|e| panic!("{e}")),
        "f|\"char\"\nfc|\"char\"\nk|\"char\"\nkc|\"char\"\n"
    );
    // The byte 0xE9 (-23 as "char" reads it), written in "char"'s octal escape.
    database
        .sql(r"INSERT INTO public.t (id, f) VALUES (1, '\351')")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        database
            .sql("SELECT fc::int, kc FROM public.v")
            .unwrap_or_else(|e| panic!("{e}")),
        "-23|a\n"
    );
}

/// Oracle's SUBSTR is NULL where its result would be '' (a length below 1, a start past the end:
/// Oracle's '' is NULL), and INSTR with a negative position searches backwards from that many
/// characters before the end (Oracle Database SQL Language Reference, SUBSTR and INSTR: for
/// `INSTR('CORPORATE FLOOR', 'OR', -3)` the search starts at the 13th character and finds 5).
#[test]
fn oracle_substr_empty_is_null_and_instr_searches_backwards() {
    let path = file(
        "oracle_substr_instr.sql",
        b"CREATE TABLE codes (id NUMBER(10) PRIMARY KEY, code VARCHAR2(20), n NUMBER(3),
  CONSTRAINT short_code CHECK (SUBSTR(code, 16) IS NULL));
CREATE VIEW codes_v AS SELECT id, SUBSTR(code, 2, n) AS part, INSTR(code, 'OR', -1) AS last_or,
  INSTR(code, 'OR', -3) AS or_before, INSTR(code, 'OR', 3, 1) AS or_from_3 FROM codes;
",
    );
    let (code, stdout, stderr) = convert_to("oracle", "postgres", &path);
    // SUBSTR's start is a literal, so nothing is left to check by hand (function.semantics).
    assert_eq!(code, 0, "{stderr}");
    let (redshift_code, _, redshift_stderr) = convert_to("oracle", "redshift", &path);
    assert!(
        !redshift_stderr.contains("function.unsupported"),
        "{redshift_stderr}"
    );
    assert_eq!(redshift_code, 1, "only CHECK is dropped: {redshift_stderr}");
    let Some(database) = runs_on_postgres("oracle_substr_instr", &stdout) else {
        return;
    };
    // Oracle: SUBSTR('CORPORATE FLOOR', 16) is NULL (past the end), so short_code holds.
    database
        .sql("INSERT INTO codes VALUES (1, 'CORPORATE FLOOR', 2), (2, 'ab', 0), (3, 'OR', -1), (4, NULL, 1)")
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = database.sql("INSERT INTO codes VALUES (5, 'CORPORATE FLOORS', 1)");
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("short_code")),
        "{refused:?}"
    );
    // Oracle: SUBSTR(code, 2, n) is NULL for n below 1 (0, and -1, which PostgreSQL refuses);
    // INSTR(code, 'OR', -1) starts at the last character ('OR' found at 14 in row 1, at 1 in
    // row 3), -3 at the third from the end (5 in row 1; before the first character of 'ab' and
    // 'OR': 0); INSTR(code, 'OR', 3) finds 5 in row 1, nothing from the third character of 'ab'
    // and 'OR'; all NULL for a NULL code.
    assert_eq!(
        database
            .sql("SELECT id, coalesce(part, '<null>'), coalesce(last_or::text, '<null>'), coalesce(or_before::text, '<null>'), coalesce(or_from_3::text, '<null>') FROM codes_v ORDER BY id")
            .unwrap_or_else(|e| panic!("{e}")),
        "1|OR|14|5|5\n2|<null>|0|0|0\n3|<null>|1|0|0\n4|<null>|<null>|<null>|<null>\n"
    );
}

/// A column of a PostgreSQL domain with a COLLATE gets the domain's collation: it is reported as
/// not kept, as a column's own is, unless the column names its own.
#[test]
fn a_domains_collation_is_reported_for_its_columns() {
    let path = file(
        "domain_collation.sql",
        br#"CREATE DOMAIN code AS text COLLATE "C" NOT NULL;
CREATE DOMAIN plain AS text;
CREATE TABLE t (a code, b code COLLATE "POSIX", c plain);"#,
    );
    let (code, _, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    let collations: Vec<_> = stderr
        .lines()
        .filter(|line| line.contains("[column.collation]"))
        .map(|line| {
            line.split_once("[column.collation] ")
                .map_or(line, |(_, m)| m)
        })
        .map(|m| m.split(" is not kept").next().unwrap_or(m))
        .collect();
    assert_eq!(
        collations,
        [
            r#"t.a: COLLATE "C" of its domain code"#,
            r#"t.b: COLLATE "POSIX""#
        ],
        "{stderr}"
    );
}

/// MySQL's `UNIQUE KEY name (...)` keeps its name in the target, as live discovery reads it (the
/// name is the key's, before a CONSTRAINT symbol's); a name two tables share is made unique.
#[test]
fn mysql_unique_key_names_are_kept() {
    let path = file(
        "unique_names.sql",
        b"CREATE TABLE a (id int PRIMARY KEY, href varchar(100), UNIQUE KEY uk_href (href), CONSTRAINT c3 UNIQUE KEY uk3 (id, href));
CREATE TABLE b (id int PRIMARY KEY, href varchar(100), CONSTRAINT uk_b UNIQUE (href), UNIQUE INDEX uk_href (id, href));",
    );
    let (_, stdout, _) = convert_to("mysql", "postgres", &path);
    assert!(
        stdout.contains("CONSTRAINT uk_href UNIQUE (href),"),
        "{stdout}"
    );
    let Some(database) = runs_on_postgres("mysql_unique_names", &stdout) else {
        return;
    };
    assert_eq!(
        database
            .sql("SELECT conrelid::regclass || '.' || conname FROM pg_constraint WHERE contype = 'u' AND connamespace = 'public'::regnamespace ORDER BY 1")
            .unwrap_or_else(|e| panic!("{e}")),
        "a.uk3\na.uk_href\nb.uk_b\nb.uk_href_2\n"
    );
}

/// A rewrite that names an argument twice is reported when the argument is a call that gives
/// another value each time, also when the call only becomes one in the target (Oracle's
/// `SYS_GUID()`, `seq.NEXTVAL`).
#[test]
fn oracle_volatile_arguments_repeated_by_a_rewrite_are_reported() {
    let path = file(
        "volatile.sql",
        b"CREATE SEQUENCE s;
CREATE VIEW g AS SELECT INSTR(SYS_GUID(), 'A', -1) AS p, INSTR('ABC', TO_CHAR(s.NEXTVAL, '9'), -1) AS q FROM dual;",
    );
    let (_, _, stderr) = convert_to("oracle", "postgres", &path);
    let repeated: Vec<_> = stderr
        .lines()
        .filter(|line| line.contains("names an argument more than once"))
        .filter_map(|line| line.split('`').nth(1))
        .collect();
    assert_eq!(
        repeated,
        [
            "INSTR(DECODE(REPLACE(CAST(gen_random_uuid() AS TEXT), '-', ''), 'hex'), 'A', -1)",
            "INSTR('ABC', TO_CHAR(nextval('s'), '9'), -1)"
        ],
        "{stderr}"
    );
}

/// A PostgreSQL domain's CHECKs, named or not, become CHECKs of every column of the domain, with
/// the column for `VALUE` (not the `'VALUE'` in a string), named apart per column: PostgreSQL
/// refuses there what the domain refused. Redshift, which has no CHECK, gets each reported per
/// column.
#[test]
fn a_domains_checks_become_checks_of_its_columns() {
    let path = file(
        "domain_checks.sql",
        br#"CREATE DOMAIN public.year AS integer
    CONSTRAINT year_check CHECK (((VALUE >= 1901) AND (VALUE <= 2155)))
    CHECK (VALUE <> 2000);
CREATE TABLE film (id int PRIMARY KEY, release_year public.year, "Remake Year" year,
                   note text DEFAULT 'VALUE');
CREATE TABLE award (id int, won year);"#,
    );
    let (code, stdout, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    let Some(database) = runs_on_postgres("domain_checks", &stdout) else {
        return;
    };
    database
        .sql("INSERT INTO film VALUES (1, 1901, 2155); INSERT INTO award VALUES (1, 1999);")
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    for refused in [
        "INSERT INTO film VALUES (2, 1900, 1999)",
        "INSERT INTO film VALUES (2, 1999, 2156)",
        "INSERT INTO film VALUES (2, 2000, 1999)",
        "INSERT INTO film VALUES (2, 1999, 2000)",
        "INSERT INTO award VALUES (2, 2200)",
    ] {
        let error = database
            .sql(refused)
            .expect_err(&format!("the domain's CHECK refuses {refused}\n{stdout}"));
        assert!(
            error.to_string().contains("violates check constraint"),
            "{error}"
        );
    }
    assert_eq!(
        database
            .sql("SELECT c FROM (SELECT conrelid::regclass || ': ' || pg_get_constraintdef(oid) AS c FROM pg_constraint WHERE contype = 'c' AND conrelid <> 0) k ORDER BY c COLLATE \"C\"")
            .unwrap_or_else(|e| panic!("{e}")),
        "award: CHECK (((won >= 1901) AND (won <= 2155)))\n\
         award: CHECK ((won <> 2000))\n\
         film: CHECK ((\"remake year\" <> 2000))\n\
         film: CHECK (((\"remake year\" >= 1901) AND (\"remake year\" <= 2155)))\n\
         film: CHECK (((release_year >= 1901) AND (release_year <= 2155)))\n\
         film: CHECK ((release_year <> 2000))\n"
    );

    let (code, _, stderr) = convert_to("postgres", "redshift", &path);
    assert_eq!(code, 1, "{stderr}");
    let dropped: Vec<_> = stderr
        .lines()
        .filter_map(|line| line.split_once("[constraint.check-dropped] "))
        .map(|(_, m)| m.split(" dropped:").next().unwrap_or(m))
        .collect();
    assert_eq!(
        dropped,
        [
            "film constraint film_release_year_year_check: CHECK (((release_year >= 1901) AND (release_year <= 2155)))",
            "film constraint (unnamed): CHECK (release_year <> 2000)",
            "film constraint film_Remake Year_year_check: CHECK (((\"Remake Year\" >= 1901) AND (\"Remake Year\" <= 2155)))",
            "film constraint (unnamed): CHECK (\"Remake Year\" <> 2000)",
            "award constraint award_won_year_check: CHECK (((won >= 1901) AND (won <= 2155)))",
            "award constraint (unnamed): CHECK (won <> 2000)",
        ],
        "{stderr}"
    );
}

/// A MySQL script's trigger, procedure and function get the fix of the target they are converted
/// for, as a live source's do: PL/pgSQL for PostgreSQL, no triggers on Redshift. Each finding
/// keeps its script's file:line.
#[test]
fn routine_advice_follows_the_target_for_scripts() {
    let path = file(
        "routines.sql",
        b"CREATE TABLE film (id int PRIMARY KEY, title varchar(50));
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
    );
    // (object, file:line, code, fix) of each routine finding, in the report's order.
    let routines = |stderr: &str| -> Vec<(String, String, String, String)> {
        stderr
            .lines()
            .filter(|line| line.contains("[routine."))
            .map(|line| {
                let (location, rest) = line.split_once(": action [").expect("located action");
                let (code, rest) = rest.split_once("] ").expect("code");
                let (object, rest) = rest.split_once(": ").expect("object");
                let (_, fix) = rest.split_once(" -> ").expect("fix");
                let location = location.rsplit_once(':').expect("column").0;
                let file = location.rsplit('/').next().expect("file");
                (
                    object.to_string(),
                    file.to_string(),
                    code.to_string(),
                    fix.to_string(),
                )
            })
            .collect()
    };
    let row = |object: &str, line: u32, code: &str, fix: &str| {
        (
            object.to_string(),
            format!("routines.sql:{line}"),
            code.to_string(),
            fix.to_string(),
        )
    };

    let (code, _, stderr) = convert_to("mysql", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        routines(&stderr),
        [
            row("trigger film_ins", 3, "routine.trigger", "rewrite it as a PL/pgSQL trigger function and CREATE TRIGGER; create it only once `migrate replicate --cdc` no longer applies changes to the table (the captured changes carry the rows the source's trigger wrote)"),
            row("procedure film_count", 6, "routine.not-converted", "rewrite it as a PL/pgSQL or SQL function or procedure; `migrate assess` sizes the work"),
            row("function film_title", 10, "routine.not-converted", "rewrite it as a PL/pgSQL or SQL function or procedure; `migrate assess` sizes the work"),
        ],
        "{stderr}"
    );

    let (code, _, stderr) = convert_to("mysql", "redshift", &path);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        routines(&stderr),
        [
            row("trigger film_ins", 3, "routine.trigger", "the target has no triggers: move the logic into the loading process or a scheduled procedure"),
            row("procedure film_count", 6, "routine.not-converted", "rewrite it as a Redshift stored procedure or UDF; `migrate assess` sizes the work"),
            row("function film_title", 10, "routine.not-converted", "rewrite it as a Redshift stored procedure or UDF; `migrate assess` sizes the work"),
        ],
        "{stderr}"
    );
}

/// The CHECKs a column gets from its domain are named `<table>_<column>_<check>`; names that
/// are the same (a domain over a domain, both with a check named `positive`) or become the same
/// once cut to PostgreSQL's 63 bytes (pg_dump's `digit_check` and `digit_check1` on long names)
/// are cut and made unique as every constraint name is (`identifier.truncated`,
/// `constraint.renamed`): the script runs on PostgreSQL, and each CHECK refuses what its domain
/// refused.
#[test]
fn domain_checks_named_alike_are_named_apart() {
    let path = file(
        "domain_check_names.sql",
        b"CREATE DOMAIN public.pos AS integer CONSTRAINT positive CHECK (VALUE > 0);
CREATE DOMAIN public.small AS public.pos CONSTRAINT positive CHECK (VALUE < 100);
CREATE TABLE public.stock (id integer PRIMARY KEY, qty public.small);
CREATE DOMAIN public.digit AS integer
    CONSTRAINT digit_check CHECK (VALUE >= 0)
    CONSTRAINT digit_check1 CHECK (VALUE <= 9);
CREATE TABLE public.measurements_of_the_northern_weather_station (
    id integer PRIMARY KEY,
    reading_digit_of_the_hour public.digit
);",
    );
    let (code, stdout, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    let Some(database) = runs_on_postgres("domain_check_names", &stdout) else {
        return;
    };
    assert_eq!(
        database
            .sql("SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND conrelid <> 0 ORDER BY conname COLLATE \"C\"")
            .unwrap_or_else(|e| panic!("{e}")),
        "measurements_of_the_northern_weather_station_reading_digit_of_2: CHECK ((reading_digit_of_the_hour <= 9))\n\
         measurements_of_the_northern_weather_station_reading_digit_of_t: CHECK ((reading_digit_of_the_hour >= 0))\n\
         stock_qty_positive: CHECK ((qty > 0))\n\
         stock_qty_positive_2: CHECK ((qty < 100))\n"
    );
    database
        .sql("INSERT INTO stock VALUES (1, 99); INSERT INTO measurements_of_the_northern_weather_station VALUES (1, 0), (2, 9);")
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    for refused in [
        "INSERT INTO stock VALUES (2, 0)",
        "INSERT INTO stock VALUES (2, 100)",
        "INSERT INTO measurements_of_the_northern_weather_station VALUES (3, -1)",
        "INSERT INTO measurements_of_the_northern_weather_station VALUES (3, 10)",
    ] {
        let error = database
            .sql(refused)
            .expect_err(&format!("the domain's CHECK refuses {refused}\n{stdout}"));
        assert!(
            error.to_string().contains("violates check constraint"),
            "{error}"
        );
    }
    // The long names are reported as cut, as any name is; before, they were cut silently.
    let truncated: Vec<&str> = stderr
        .lines()
        .filter_map(|line| line.split_once("[identifier.truncated] "))
        .filter_map(|(_, message)| message.split_once(": the name `"))
        .map(|(_, name)| name.split('`').next().unwrap_or(name))
        .collect();
    assert_eq!(
        truncated,
        [
            "measurements_of_the_northern_weather_station_reading_digit_of_the_hour_digit_check",
            "measurements_of_the_northern_weather_station_reading_digit_of_the_hour_digit_check1"
        ],
        "{stderr}"
    );
    assert!(stderr.contains("info: constraint.renamed x2"), "{stderr}");
}

/// An Oracle object type's fix names the type its columns become in the target (JSONB in
/// PostgreSQL, SUPER in Redshift), and a SQL*Plus EXEC keeps its own finding, once.
#[test]
fn object_type_advice_names_the_targets_json_type() {
    let path = file(
        "object_type.sql",
        b"CREATE TYPE address_t AS OBJECT (street VARCHAR2(40), city VARCHAR2(30));
/
CREATE TABLE customer (id NUMBER(9) PRIMARY KEY, address address_t);
EXEC dbms_stats.gather_table_stats('HR', 'CUSTOMER');
",
    );
    // (location and code, fix) of each action.
    let actions = |stderr: &str| -> Vec<(String, String)> {
        stderr
            .lines()
            .filter_map(|line| line.split_once(": action ["))
            .map(|(location, rest)| {
                let file = location.rsplit('/').next().expect("file");
                let (code, rest) = rest.split_once(']').expect("code");
                let (_, fix) = rest.split_once(" -> ").expect("fix");
                (format!("{file} {code}"), fix.to_string())
            })
            .collect()
    };
    let exec = (
        "object_type.sql:4:1 plsql.not-converted".to_string(),
        "run the equivalent call in the target by hand, if still needed".to_string(),
    );

    let (code, ddl, stderr) = convert_to("oracle", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(ddl.contains("address JSONB"), "{ddl}");
    assert_eq!(
        actions(&stderr),
        [
            (
                "object_type.sql:1:1 object.type".to_string(),
                "columns of this type become JSONB (a PostgreSQL composite type has no methods); its methods must be rewritten as functions or in the application".to_string()
            ),
            exec.clone(),
        ],
        "{stderr}"
    );

    let (code, ddl, stderr) = convert_to("oracle", "redshift", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(ddl.contains("address SUPER"), "{ddl}");
    assert_eq!(
        actions(&stderr),
        [
            (
                "object_type.sql:1:1 object.type".to_string(),
                "the target has no object types: columns of this type become SUPER (JSON); its methods must be rewritten as functions or in the application".to_string()
            ),
            exec,
        ],
        "{stderr}"
    );
}

/// Ordered string aggregates. PostgreSQL's `string_agg(x, sep ORDER BY y)` (Pagila's film_list)
/// was reported `function.unsupported` for Redshift: it is `LISTAGG(x, sep) WITHIN GROUP (ORDER
/// BY y)` there. Redshift refuses LISTAGGs of one SELECT ordered differently, or beside another
/// DISTINCT aggregate, and a delimiter that is not a string constant (a cast literal, as pg_dump
/// writes it, is one): such a view (film_names) is reported, naming the calls, not converted.
/// Oracle's `LISTAGG(x[, sep]) WITHIN GROUP (ORDER BY y)` was reported for PostgreSQL: it is
/// `STRING_AGG(CAST(x AS TEXT), sep ORDER BY y)`, with no separator when none is given, and
/// gives Oracle's lists on the real server.
#[test]
fn ordered_string_aggregates_convert_both_ways() {
    let path = file(
        "pg_string_agg.sql",
        b"CREATE TABLE actor (actor_id integer PRIMARY KEY, film_id integer, first_name varchar(20), last_name varchar(20), sep varchar(2));
CREATE VIEW film_list AS
SELECT a.film_id AS fid,
       string_agg(a.first_name || ' ' || a.last_name, ', ' ORDER BY a.last_name) AS actors,
       string_agg(a.last_name, '/'::text ORDER BY a.last_name) AS names
  FROM actor a
 GROUP BY a.film_id;
CREATE VIEW film_names AS
SELECT a.film_id AS fid,
       string_agg(a.first_name, a.sep ORDER BY a.last_name) AS actors,
       string_agg(DISTINCT a.last_name, '/' ORDER BY a.last_name DESC) AS names
  FROM actor a
 GROUP BY a.film_id;
",
    );
    let (code, redshift, stderr) = convert("postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        redshift.contains("SELECT a.film_id AS fid, LISTAGG(a.first_name || ' ' || a.last_name, ', ') WITHIN GROUP (ORDER BY a.last_name) AS actors, LISTAGG(a.last_name, '/'::VARCHAR(MAX)) WITHIN GROUP (ORDER BY a.last_name) AS names FROM actor a GROUP BY a.film_id;"),
        "{redshift}"
    );
    assert!(!stderr.contains("view film_list:"), "{stderr}");
    assert!(
        redshift.contains("-- NOT CONVERTED: view film_names (see findings)."),
        "{redshift}"
    );
    let found: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("view film_names:"))
        .collect();
    let delimiter = "`LISTAGG(a.first_name, a.sep) WITHIN GROUP (ORDER BY a.last_name)`";
    let distinct = "`LISTAGG(DISTINCT a.last_name, '/') WITHIN GROUP (ORDER BY a.last_name DESC)`";
    let expected = format!(
        "action [function.unsupported] view film_names: Redshift refuses \
         {delimiter}, whose delimiter `a.sep` is not a string constant; \
         {delimiter} and {distinct}, ordered differently (the LISTAGG, PERCENTILE_CONT and MEDIAN calls of a SELECT must all have the same ORDER BY; MEDIAN(x) is ordered by x); \
         {delimiter} beside the DISTINCT aggregate {distinct} (LISTAGG, PERCENTILE_CONT and MEDIAN can't be used with other DISTINCT aggregates) \
         -> write the delimiter as a string literal; \
         order them the same way, or compute one in a subquery of its own joined back by the grouping keys; \
         compute one of them in a subquery of its own, joined back by the grouping keys"
    );
    assert!(
        matches!(found.as_slice(), [line] if line.ends_with(&expected)),
        "{stderr}"
    );

    let path = file(
        "ora_listagg.sql",
        b"CREATE TABLE emp (empno NUMBER(6) PRIMARY KEY, ename VARCHAR2(20), deptno NUMBER(4), hiredate DATE);
CREATE VIEW dept_names AS
SELECT deptno,
       LISTAGG(ename, ', ') WITHIN GROUP (ORDER BY hiredate DESC, ename) AS names,
       LISTAGG(ename) WITHIN GROUP (ORDER BY ename) AS joined
  FROM emp
 GROUP BY deptno;
",
    );
    let (code, postgres, stderr) = convert_to("oracle", "postgres", &path);
    assert!(!stderr.contains("action ["), "{stderr}");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        postgres.contains("STRING_AGG(CAST(ename AS TEXT), ', ' ORDER BY hiredate DESC, ename) AS names, STRING_AGG(CAST(ename AS TEXT), '' ORDER BY ename) AS joined"),
        "{postgres}"
    );
    if let Some(db) = runs_on_postgres("ora_listagg", &postgres) {
        db.sql(
            "INSERT INTO emp VALUES (1, 'KING', 10, '2020-01-01'), (2, 'ADAMS', 10, '2021-06-01'), \
             (3, 'BLAKE', 20, '2019-03-01'), (4, 'ALLEN', 10, '2021-06-01'), (5, NULL, 20, '2022-01-01')",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let rows = db
            .sql("SELECT deptno, names, joined FROM dept_names ORDER BY deptno")
            .unwrap_or_else(|e| panic!("{e}"));
        // What Oracle gives: NULLs left out, ties on the date in name order.
        assert_eq!(
            rows.trim_end(),
            "10|ADAMS, ALLEN, KING|ADAMSALLENKING\n20|BLAKE|BLAKE"
        );
    }
}

/// A column of a domain over an array of a domain gets the domain's CHECKs
/// (`cardinality(VALUE)`), not those of the domain its elements are, which are reported. A
/// column that is an array of a domain gets neither its DEFAULT nor its NOT NULL as the
/// column's, which are its elements' (`INTEGER[] DEFAULT 0` was refused): the NOT NULL is a
/// CHECK on the elements; a column of the domain itself still gets both.
#[test]
fn domain_rules_a_column_can_not_take_are_left_out() {
    let path = file(
        "domain_unmapped.sql",
        b"CREATE DOMAIN public.pos AS integer CHECK (VALUE > 0);
CREATE DOMAIN public.poslist AS public.pos[] CHECK (cardinality(VALUE) < 5);
CREATE DOMAIN public.nn AS integer DEFAULT 0 NOT NULL CHECK (VALUE >= 0);
CREATE TABLE public.t (id integer PRIMARY KEY, l public.poslist, a public.nn[], n public.nn);",
    );
    let (code, stdout, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        checks_dropped(&stderr),
        [
            "public.t.l: the column is an array of the domain public.pos, whose CHECK constraints apply to each element: they are not carried to the column",
            "public.t.a: the column is an array of the domain public.nn, whose CHECK constraints apply to each element: they are not carried to the column",
        ],
        "{stderr}"
    );
    assert!(!stderr.contains("type.unknown"), "{stderr}");
    let Some(database) = runs_on_postgres("domain_unmapped", &stdout) else {
        return;
    };
    database
        .sql("INSERT INTO t (id) VALUES (1); INSERT INTO t (id, l, a) VALUES (2, '{1,2}', '{3}');")
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    assert_eq!(
        database
            .sql("SELECT id, coalesce(l::text, '-'), coalesce(a::text, '-'), n FROM t ORDER BY id")
            .unwrap_or_else(|e| panic!("{e}")),
        "1|-|-|0\n2|{1,2}|{3}|0\n"
    );
    for refused in [
        "INSERT INTO t VALUES (3, NULL, NULL, -1)",
        "INSERT INTO t VALUES (3, '{1,2,3,4,5}', NULL, 1)",
        "INSERT INTO t VALUES (3, NULL, '{1,NULL}', 1)",
    ] {
        let error = database
            .sql(refused)
            .expect_err(&format!("the source refuses {refused}\n{stdout}"));
        assert!(
            error.to_string().contains("violates check constraint"),
            "{error}"
        );
    }
}

/// The same from a live PostgreSQL: a column of a domain over a composite type is read as
/// text, so the domain's CHECK on a field (`(VALUE).x`) is reported, not carried, and the
/// converted table is created.
#[test]
fn a_live_domain_over_an_unmapped_type_keeps_its_table() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let source = server.create_database("domain_unmapped_src");
    source
        .sql(
            "CREATE TYPE pair AS (x integer, y integer);
             CREATE DOMAIN pospair AS pair CHECK ((VALUE).x > 0);
             CREATE TABLE p (id integer PRIMARY KEY, v pospair);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["convert", "--target", "postgres", "--source", source.url()])
        .output()
        .expect("run migrate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[constraint.check-dropped] public.p.v: the column is text, as the target has no equivalent of the base type of its domain public.pospair, and the domain's CHECK (((VALUE).x > 0)), written for that type, may not apply to text: not carried to the column"),
        "{stderr}"
    );
    let target = server.create_database("domain_unmapped_dst");
    target
        .sql(&stdout)
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    target
        .sql("INSERT INTO public.p VALUES (1, '(1,2)')")
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
}

/// The CHECK messages of a run's `constraint.check-dropped` findings, without their advice.
fn checks_dropped(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|line| line.split_once("[constraint.check-dropped] "))
        .map(|(_, message)| message.split(" -> ").next().unwrap_or(message))
        .collect()
}

/// A column of a domain over a type the target holds as its text form (`inet`, a range) is
/// text, which the domain's CHECKs (`family(VALUE)`, `isempty(VALUE)`) don't apply to: they
/// are reported, not carried, and the table is created (PostgreSQL refused the whole table);
/// a domain over text keeps its CHECK.
#[test]
fn domains_over_types_held_as_text_keep_their_table() {
    let path = file(
        "domain_text_form.sql",
        b"CREATE DOMAIN public.d4 AS inet CHECK (family(VALUE) = 4);
CREATE DOMAIN public.span AS int4range CHECK (NOT isempty(VALUE));
CREATE DOMAIN public.code AS varchar(5) CHECK (VALUE = upper(VALUE));
CREATE TABLE public.h (id integer PRIMARY KEY, ip public.d4, r public.span, c public.code);",
    );
    let (code, stdout, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        checks_dropped(&stderr),
        [
            "public.h.ip: the column is text, as the target has no equivalent of the base type of its domain public.d4, and the domain's CHECK (family(VALUE) = 4), written for that type, may not apply to text: not carried to the column",
            "public.h.r: the column is text, as the target has no equivalent of the base type of its domain public.span, and the domain's CHECK (NOT isempty(VALUE)), written for that type, may not apply to text: not carried to the column",
        ],
        "{stderr}"
    );
    let Some(database) = runs_on_postgres("domain_text_form", &stdout) else {
        return;
    };
    database
        .sql("INSERT INTO h VALUES (1, '10.0.0.1', '[1,5)', 'AB')")
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    let error = database
        .sql("INSERT INTO h VALUES (2, NULL, NULL, 'ab')")
        .expect_err(&format!("the text domain's CHECK refuses 'ab'\n{stdout}"));
    assert!(
        error.to_string().contains("violates check constraint"),
        "{error}"
    );
}

/// The same from a live PostgreSQL.
#[test]
fn live_domains_over_types_held_as_text_keep_their_table() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let source = server.create_database("domain_text_form_src");
    source
        .sql(
            "CREATE DOMAIN d4 AS inet CHECK (family(VALUE) = 4);
             CREATE DOMAIN span AS int4range CHECK (NOT isempty(VALUE));
             CREATE TABLE h (id integer PRIMARY KEY, ip d4, r span);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["convert", "--target", "postgres", "--source", source.url()])
        .output()
        .expect("run migrate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        checks_dropped(&stderr),
        [
            "public.h.ip: the column is text, as the target has no equivalent of the base type of its domain public.d4, and the domain's CHECK ((family(VALUE) = 4)), written for that type, may not apply to text: not carried to the column",
            "public.h.r: the column is text, as the target has no equivalent of the base type of its domain public.span, and the domain's CHECK ((NOT isempty(VALUE))), written for that type, may not apply to text: not carried to the column",
        ],
        "{stderr}"
    );
    let target = server.create_database("domain_text_form_dst");
    target
        .sql(&stdout)
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    target
        .sql("INSERT INTO public.h VALUES (1, '10.0.0.1', '[1,5)')")
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
}

/// A MySQL condition beside a scalar subquery that selects a boolean (a `BOOLEAN` column, or a
/// condition) stays a boolean, as the subquery's value is one on PostgreSQL: the conversion made
/// the condition an integer (`integer = boolean`, `COALESCE types boolean and integer`) and
/// PostgreSQL refused the view. The rows are those MariaDB gives (1/0 for true/false).
#[test]
fn mysql_conditions_beside_boolean_subqueries_stay_booleans() {
    let path = file(
        "my_boolean_subqueries.sql",
        b"CREATE TABLE t (id int PRIMARY KEY, a int, b int);
CREATE TABLE u (id int PRIMARY KEY, flag boolean, n int);
CREATE VIEW v AS select `t`.`id` AS `id`,(`t`.`a` > `t`.`b`) = (select `u`.`flag` from `u` where `u`.`id` = `t`.`id`) AS `s`,ifnull((select `u`.`n` > 0 from `u` where `u`.`id` = `t`.`id`),`t`.`a` > `t`.`b`) AS `i` from `t`;
",
    );
    let (code, postgres, stderr) = convert_to("mysql", "postgres", &path);
    // 1: the `type.mysql-boolean` warning of `u.flag`.
    assert_eq!(code, 1, "{stderr}");
    let Some(database) = runs_on_postgres("my_boolean_subqueries", &postgres) else {
        return;
    };
    database
        .sql(
            "INSERT INTO t VALUES (1, 2, 1), (2, 1, 2), (3, 1, 1), (4, NULL, 1);
             INSERT INTO u VALUES (1, true, 5), (2, true, NULL), (3, false, -1);",
        )
        .unwrap_or_else(|e| panic!("{e}\n{postgres}"));
    assert_eq!(
        database
            .sql("SELECT id, CAST(s AS INTEGER), CAST(i AS INTEGER) FROM v ORDER BY id")
            .unwrap_or_else(|e| panic!("{e}\n{postgres}")),
        "1|1|1\n2|0|0\n3|1|0\n4||\n"
    );
}

// Domains (session 38)

/// Runs `script` on a fresh source database and `converted` (its conversion) on a fresh target
/// one, then [`common::same_verdicts`]: what the source took of `inserts`.
fn same_verdicts(
    hint: &str,
    script: &str,
    converted: &str,
    inserts: &[&str],
    rows: &str,
) -> Vec<bool> {
    let Some(server) = migrate_testkit::postgres() else {
        return Vec::new();
    };
    let source = server.create_database(&format!("{hint}_src"));
    source
        .sql(script)
        .unwrap_or_else(|e| panic!("{e}\n{script}"));
    let Some(target) = runs_on_postgres(&format!("{hint}_dst"), converted) else {
        return Vec::new();
    };
    common::same_verdicts(&source, &target, inserts, rows)
}

/// An array of a NOT NULL domain refuses NULL elements, in any dimension: the converted column
/// gets that as a CHECK on its elements (it was lost without a finding), so the PostgreSQL
/// target refuses what the source refuses; Redshift, which has no CHECK, reports it.
#[test]
fn an_array_of_a_not_null_domain_still_refuses_null_elements() {
    let script = "CREATE DOMAIN pos AS integer NOT NULL CHECK (VALUE > 0);
CREATE TABLE t (id integer PRIMARY KEY, a pos[]);
";
    let path = file("domain_array_not_null.sql", script.as_bytes());
    let (code, postgres, stderr) = convert_to("postgres", "postgres", &path);
    // 1: the elements' CHECK, reported.
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        checks_dropped(&stderr),
        ["t.a: the column is an array of the domain pos, whose CHECK constraints apply to each element: they are not carried to the column"],
        "{stderr}"
    );
    let (_, _, redshift) = convert_to("postgres", "redshift", &path);
    assert!(
        redshift.contains("[constraint.check-dropped] t constraint t_a_elements_not_null: CHECK (array_to_string(a, ',', '0') = array_to_string(a, ',', '1')) dropped: Redshift does not support CHECK constraints"),
        "{redshift}"
    );
    let took = same_verdicts(
        "domain_array_not_null",
        script,
        &postgres,
        &[
            "INSERT INTO t VALUES (1, '{1,2}')",
            "INSERT INTO t VALUES (2, '{{1,2},{3,4}}')",
            "INSERT INTO t VALUES (3, '{}')",
            "INSERT INTO t VALUES (4, NULL)",
            "INSERT INTO t VALUES (5, '{1,NULL}')",
            "INSERT INTO t VALUES (6, '{{1,2},{NULL,4}}')",
            "INSERT INTO t VALUES (7, '{NULL}')",
        ],
        "SELECT id, a FROM t ORDER BY id",
    );
    if !took.is_empty() {
        assert_eq!(took, [true, true, true, true, false, false, false]);
    }
}

/// A domain over an array of a domain is the array of that one's base type (it was text, with
/// `type.unknown`), with its own CHECKs, and its elements' NOT NULL as an array of the element
/// domain has it; the element domain's CHECKs are reported.
#[test]
fn a_domain_over_an_array_of_a_domain_is_an_array_of_the_base_type() {
    let script = "CREATE DOMAIN pos AS integer NOT NULL CHECK (VALUE > 0);
CREATE DOMAIN positions AS pos[] CHECK (cardinality(VALUE) < 4);
CREATE TABLE t (id integer PRIMARY KEY, p positions);
";
    let path = file("domain_over_domain_array.sql", script.as_bytes());
    let (code, postgres, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("type.unknown"), "{stderr}");
    assert!(postgres.contains("    p INTEGER[],\n"), "{postgres}");
    assert_eq!(
        checks_dropped(&stderr),
        ["t.p: the column is an array of the domain pos, whose CHECK constraints apply to each element: they are not carried to the column"],
        "{stderr}"
    );
    let (_, redshift, redshift_stderr) = convert_to("postgres", "redshift", &path);
    assert!(
        redshift.contains("    p SUPER ENCODE ZSTD,\n")
            && !redshift_stderr.contains("type.unknown"),
        "{redshift}\n{redshift_stderr}"
    );
    let took = same_verdicts(
        "domain_over_domain_array",
        script,
        &postgres,
        &[
            "INSERT INTO t VALUES (1, '{1,2}')",
            "INSERT INTO t VALUES (2, NULL)",
            "INSERT INTO t VALUES (3, '{1,2,3,4}')",
            "INSERT INTO t VALUES (4, '{1,NULL}')",
            "INSERT INTO t VALUES (5, '{}')",
        ],
        "SELECT id, p FROM t ORDER BY id",
    );
    if !took.is_empty() {
        assert_eq!(took, [true, true, false, false, true]);
    }
}

/// Two domains of one name in two schemas: a qualified name is that schema's, an unqualified
/// one is found with the script's `SET search_path` (the last one defined was taken), and
/// without one in the table's schema or `public`; where that can't tell, it is reported.
#[test]
fn domains_of_one_name_in_two_schemas_are_told_apart() {
    let script = "CREATE SCHEMA a;
CREATE SCHEMA b;
CREATE DOMAIN a.code AS varchar(3) CHECK (VALUE ~ '^[A-Z]+$');
CREATE DOMAIN b.code AS integer CHECK (VALUE > 0);
CREATE TABLE a.t (id integer PRIMARY KEY, c a.code);
CREATE TABLE b.u (id integer PRIMARY KEY, c b.code);
SET search_path = a;
CREATE TABLE a.t2 (id integer PRIMARY KEY, c code);
SET search_path TO b, public;
CREATE TABLE b.u2 (id integer PRIMARY KEY, c code);
";
    let path = file("domains_two_schemas.sql", script.as_bytes());
    let (code, postgres, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 0, "{stderr}");
    let took = same_verdicts(
        "domains_two_schemas",
        script,
        &postgres,
        &[
            "INSERT INTO a.t VALUES (1, 'ABC')",
            "INSERT INTO a.t VALUES (2, 'abc')",
            "INSERT INTO a.t VALUES (3, '12')",
            "INSERT INTO b.u VALUES (1, 12)",
            "INSERT INTO b.u VALUES (2, -1)",
            "INSERT INTO a.t2 VALUES (1, 'XYZ')",
            "INSERT INTO a.t2 VALUES (2, '12')",
            "INSERT INTO b.u2 VALUES (1, 7)",
            "INSERT INTO b.u2 VALUES (2, 'X')",
            "INSERT INTO b.u2 VALUES (3, 0)",
        ],
        "SELECT 't', * FROM a.t UNION ALL SELECT 't2', * FROM a.t2
         UNION ALL SELECT 'u', id, c::text FROM b.u UNION ALL SELECT 'u2', id, c::text FROM b.u2
         ORDER BY 1, 2",
    );
    if !took.is_empty() {
        assert_eq!(
            took,
            [true, false, false, true, false, true, false, true, false, false]
        );
    }

    // Without a search_path: the table's own schema's, else public's; two others are ambiguous.
    let path = file(
        "domains_two_schemas_unqualified.sql",
        b"CREATE DOMAIN a.code AS varchar(3) CHECK (VALUE ~ '^[A-Z]+$');
CREATE DOMAIN b.code AS integer CHECK (VALUE > 0);
CREATE TABLE a.w (c code);
CREATE TABLE c.v (c code);
CREATE DOMAIN c.wrapped AS code;
CREATE TABLE c.x (c c.wrapped);
",
    );
    let (code, postgres, stderr) = convert_to("postgres", "postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        postgres.contains("CREATE TABLE a.w (\n    c VARCHAR(3),\n    CHECK (c ~ '^[A-Z]+$')\n);")
            && postgres.contains("CREATE TABLE c.v (\n    c TEXT\n);")
            && postgres.contains("CREATE TABLE c.x (\n    c TEXT\n);"),
        "{postgres}"
    );
    // A domain over the ambiguous type is reported as such, once, and its columns are text.
    assert!(
        stderr.contains("action [type.ambiguous] domain c.wrapped: the type `code`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("action [type.ambiguous] c.v.c: the type `code` is a domain or enum of several schemas (a, b), and the script sets no search_path to tell which: the column is emitted as unbounded text -> qualify the type with its schema in the source DDL (or add the SET search_path the script runs with), and convert again"),
        "{stderr}"
    );
    assert!(!stderr.contains("type.unknown"), "{stderr}");
}

// Views: string aggregates (session 38)

/// Redshift's LISTAGG window takes only PARTITION BY in OVER (its documentation: no ORDER BY, no
/// frame). PostgreSQL's `string_agg(x, s ORDER BY y) OVER (PARTITION BY p)` was reported though
/// it converts (the order is LISTAGG's WITHIN GROUP); with an ORDER BY or a frame in OVER (a
/// running list) the LISTAGG window was written as it is, which Redshift refuses, without a
/// finding: it is reported, naming the call. Oracle's LISTAGG with ON OVERFLOW is reported for
/// Redshift too. For PostgreSQL, Oracle's `LISTAGG(DISTINCT x) WITHIN GROUP (ORDER BY NULL)` was
/// reported: ordered by a constant, it is not ordered, and gives Oracle's lists.
#[test]
fn string_aggregate_windows_and_constant_orders_convert_or_are_reported() {
    let path = file(
        "pg_string_agg_windows.sql",
        b"CREATE TABLE t (id integer PRIMARY KEY, x varchar(10), y integer, p integer, q integer);
CREATE VIEW w_partition AS SELECT id, string_agg(x, ',' ORDER BY y) OVER (PARTITION BY p) AS l FROM t;
CREATE VIEW w_running AS SELECT id, string_agg(x, ',' ORDER BY y) OVER (PARTITION BY p ORDER BY q) AS l FROM t;
CREATE VIEW w_frame AS SELECT id, string_agg(x, ',') OVER (ORDER BY q ROWS 2 PRECEDING) AS l FROM t;
",
    );
    let (code, redshift, stderr) = convert("postgres", &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        redshift.contains("CREATE VIEW w_partition AS\nSELECT id, LISTAGG(x, ',') WITHIN GROUP (ORDER BY y) OVER (PARTITION BY p) AS l FROM t;"),
        "{redshift}"
    );
    assert!(!stderr.contains("view w_partition:"), "{stderr}");
    let fix = "-> compute it in a subquery that joins each row to the rows its window takes (t2.p = t.p AND t2.q <= t.q for OVER (PARTITION BY p ORDER BY q)), grouped by the row's key, joined back";
    for (view, call) in [
        (
            "w_running",
            "LISTAGG(x, ',') WITHIN GROUP (ORDER BY y) OVER (PARTITION BY p ORDER BY q)",
        ),
        (
            "w_frame",
            "LISTAGG(x, ',') OVER (ORDER BY q ROWS 2 PRECEDING)",
        ),
    ] {
        assert!(
            redshift.contains(&format!("-- NOT CONVERTED: view {view} (see findings).")),
            "{redshift}"
        );
        let expected = format!(
            "action [function.unsupported] view {view}: Redshift refuses `{call}`: Redshift's LISTAGG window takes only PARTITION BY in OVER (no ORDER BY, frame or named window) {fix}"
        );
        assert!(
            stderr.lines().any(|line| line.ends_with(&expected)),
            "{expected}\n{stderr}"
        );
    }

    let path = file(
        "ora_listagg_constant_order.sql",
        b"CREATE TABLE emp (empno NUMBER(6) PRIMARY KEY, ename VARCHAR2(20), deptno NUMBER(4));
CREATE VIEW dept_names AS
SELECT deptno, LISTAGG(DISTINCT ename, ', ') WITHIN GROUP (ORDER BY NULL) AS names FROM emp GROUP BY deptno;
CREATE VIEW dept_cut AS
SELECT deptno, LISTAGG(ename, ',' ON OVERFLOW TRUNCATE '...' WITH COUNT) WITHIN GROUP (ORDER BY ename) AS names FROM emp GROUP BY deptno;
",
    );
    let (_, redshift, stderr) = convert("oracle", &path);
    assert!(
        redshift.contains("-- NOT CONVERTED: view dept_cut (see findings)."),
        "{redshift}"
    );
    assert!(
        stderr.contains("view dept_cut: Redshift refuses `LISTAGG(ename, ',' ON OVERFLOW TRUNCATE '...' WITH COUNT) WITHIN GROUP (ORDER BY ename)`: Redshift's LISTAGG has no ON OVERFLOW -> drop ON OVERFLOW"),
        "{stderr}"
    );
    let (_, postgres, stderr) = convert_to("oracle", "postgres", &path);
    assert!(!stderr.contains("view dept_names:"), "{stderr}");
    assert!(
        postgres.contains("SELECT deptno, STRING_AGG(DISTINCT CAST(ename AS TEXT), ', ') AS names FROM emp GROUP BY deptno;"),
        "{postgres}"
    );
    let Some(db) = runs_on_postgres("ora_listagg_constant_order", &postgres) else {
        return;
    };
    db.sql(
        "INSERT INTO emp VALUES (1, 'KING', 10), (2, 'ADAMS', 10), (3, 'KING', 10), (4, NULL, 10), \
         (5, 'BLAKE', 20), (6, 'BLAKE', 20)",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Oracle's lists: each name once, NULLs left out, in no particular order.
    let rows = db
        .sql("SELECT deptno, (SELECT string_agg(n, ', ' ORDER BY n) FROM unnest(string_to_array(names, ', ')) n) FROM dept_names ORDER BY deptno")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.trim_end(), "10|ADAMS, KING\n20|BLAKE");
}

// session 38, second round

/// A PostgreSQL exclusion constraint read by live discovery (`convert --source`, `assess
/// --source`) was dropped without a finding (only its range column's `type.range` was said): it
/// is the `constraint.exclusion` warning a script's gets, naming the table and the constraint,
/// with its definition, and the table is converted without it.
#[test]
fn live_exclusion_constraints_are_reported_as_in_scripts() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let source = server.create_database("live_exclusion_src");
    // Scalar columns in a GiST exclusion need btree_gist; a range alone does not.
    let (definition, table) = match source.sql("CREATE EXTENSION IF NOT EXISTS btree_gist") {
        Ok(_) => (
            "EXCLUDE USING gist (room WITH =, during WITH &&) WHERE ((room > 0))",
            "CREATE TABLE booking (id int PRIMARY KEY, room int, during int4range, \
             CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (room > 0))",
        ),
        Err(_) => (
            "EXCLUDE USING gist (during WITH &&) WHERE ((room > 0))",
            "CREATE TABLE booking (id int PRIMARY KEY, room int, during int4range, \
             CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&) WHERE (room > 0))",
        ),
    };
    source.sql(table).unwrap_or_else(|e| panic!("{e}"));
    let finding = format!("warning [constraint.exclusion] public.booking constraint no_overlap: exclusion constraint `{definition}` is not created: Redshift has none");
    for target in ["postgres", "redshift"] {
        let output = Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(["convert", "--target", target, "--source", source.url()])
            .output()
            .expect("run migrate");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&finding), "{target}: {stderr}");
        assert!(
            stderr.contains("findings: 0 action, 2 warning, 0 info"),
            "{target}: {stderr}"
        );
        if target == "postgres" {
            let converted = server.create_database("live_exclusion_dst");
            converted
                .sql(&stdout)
                .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
            // Created without the constraint: overlapping bookings of a room are taken.
            converted
                .sql("INSERT INTO public.booking VALUES (1, 7, '[1,10)'), (2, 7, '[5,8)')")
                .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
        }
    }
    let output = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["assess", "--source", source.url()])
        .output()
        .expect("run migrate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("[constraint.exclusion] public.booking constraint no_overlap: exclusion constraint `{definition}` is not created")),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
