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
