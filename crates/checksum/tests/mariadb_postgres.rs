//! MariaDB -> PostgreSQL: a MariaDB table with every type the converter maps, and the table the
//! converter writes for it in PostgreSQL, holding the same values: equal checksums and row
//! hashes, column by column and whole.

mod common;

use common::{columns, convert, my, my_quote, pg, pg_quote};
use migrate_checksum::{ChecksumColumn, ChunkChecksum, JsonText};
use migrate_core::SourceDialect;

/// A column: its MariaDB type and its values, each as a MariaDB and a PostgreSQL literal of
/// the same value (what the load would write). Row 1 is all NULL; row `i + 2` holds value
/// `i % len` of each column.
struct Col {
    name: &'static str,
    mysql_type: &'static str,
    values: &'static [(&'static str, &'static str)],
}

const fn col(
    name: &'static str,
    mysql_type: &'static str,
    values: &'static [(&'static str, &'static str)],
) -> Col {
    Col {
        name,
        mysql_type,
        values,
    }
}

/// The same literal in both engines.
macro_rules! same {
    ($($v:literal),* $(,)?) => { &[$(($v, $v)),*] };
}

const COLUMNS: &[Col] = &[
    col("ti", "TINYINT", same!["-128", "127", "0"]),
    col("tu", "TINYINT UNSIGNED", same!["255", "0"]),
    col("t1", "TINYINT(1)", same!["5", "1", "0", "-1"]),
    col("si", "SMALLINT", same!["-32768", "32767"]),
    col("su", "SMALLINT UNSIGNED", same!["65535"]),
    col("mi", "MEDIUMINT", same!["-8388608", "8388607"]),
    col("mu", "MEDIUMINT UNSIGNED", same!["16777215"]),
    col("i", "INT", same!["-2147483648", "2147483647"]),
    col("iu", "INT UNSIGNED", same!["4294967295", "0"]),
    col(
        "bi",
        "BIGINT",
        same!["-9223372036854775808", "9223372036854775807"],
    ),
    col("bu", "BIGINT UNSIGNED", same!["18446744073709551615", "0"]),
    col("bo", "BOOLEAN", &[("1", "true"), ("0", "false")]),
    col("b1", "BIT(1)", &[("b'1'", "true"), ("b'0'", "false")]),
    col("b5", "BIT(5)", &[("b'10101'", "21"), ("b'0'", "0")]),
    col(
        "b63",
        "BIT(63)",
        &[(
            "b'111111111111111111111111111111111111111111111111111111111111111'",
            "9223372036854775807",
        )],
    ),
    col(
        "b64",
        "BIT(64)",
        &[(
            "b'1111111111111111111111111111111111111111111111111111111111111111'",
            "18446744073709551615",
        )],
    ),
    col(
        "d65",
        "DECIMAL(65,30)",
        same![
            "99999999999999999999999999999999999.999999999999999999999999999999",
            "-99999999999999999999999999999999999.999999999999999999999999999999",
            "0.000000000000000000000000000001",
            "0",
        ],
    ),
    col(
        "d2",
        "DECIMAL(10,2)",
        same!["12345678.90", "-0.50", "0", "7"],
    ),
    col("d0", "NUMERIC(20)", same!["-12345678901234567890", "1"]),
    col(
        "f",
        "FLOAT",
        same![
            "3.4028234e38",
            "1.1754944e-38",
            "1e-45",
            "0.1",
            "-2.5",
            "16777216",
            "0.33333334"
        ],
    ),
    col(
        "db",
        "DOUBLE",
        same![
            "1.7976931348623157e308",
            "-1.7976931348623157e308",
            "2.2250738585072014e-308",
            "5e-324",
            "0.1",
            "1e15",
            "1e16",
            "1e17",
            "123456789012345680",
            "999999999999999.9",
            "0.3333333333333333",
            "0.30000000000000004",
            "1e-5",
            "1e-7",
            "0.0001",
            "100",
            "1234567890123456.8",
            "0",
        ],
    ),
    col(
        "c",
        "CHAR(10)",
        same!["'ab'", "''", "'é  '", "'\"q\"'", "' lead'"],
    ),
    col(
        "v",
        "VARCHAR(100)",
        same![
            "''",
            "'a,b'",
            "'\"'",
            "'trailing  '",
            "'😀 𝄞 中'",
            "'N'",
            "'it''s'"
        ],
    ),
    col(
        "vl",
        "VARCHAR(50) CHARACTER SET latin1",
        same!["'é'", "'ÿ ñ'", "'plain'", "''"],
    ),
    col("tt", "TINYTEXT", same!["'tiny'", "''"]),
    col(
        "tx",
        "TEXT",
        &[
            ("'line\\nbreak\\ttab'", "E'line\\nbreak\\ttab'"),
            ("'back\\\\slash'", "'back\\slash'"),
        ],
    ),
    col("mt", "MEDIUMTEXT", same!["'medium ☃'"]),
    col("lt", "LONGTEXT", same!["'long 😀'", "''"]),
    col(
        "bn",
        "BINARY(4)",
        &[
            ("x'00'", "'\\x00000000'"),
            ("x''", "'\\x00000000'"),
            ("x'ff00ff00'", "'\\xff00ff00'"),
        ],
    ),
    col(
        "vb",
        "VARBINARY(100)",
        &[
            ("x''", "'\\x'"),
            ("x'00'", "'\\x00'"),
            ("x'deadbeef'", "'\\xdeadbeef'"),
        ],
    ),
    col("bl", "BLOB", &[("x'000102'", "'\\x000102'")]),
    col("lb", "LONGBLOB", &[("x'ff'", "'\\xff'"), ("x''", "'\\x'")]),
    col("e", "ENUM('a','b','ü')", same!["'a'", "'ü'"]),
    col("s", "SET('x','y','z')", same!["'x,y'", "''", "'z'"]),
    // MySQL's year 0 is 1 BC (the year before 1, as PostgreSQL counts).
    col(
        "dt",
        "DATE",
        &[
            ("'1000-01-01'", "'1000-01-01'"),
            ("'9999-12-31'", "'9999-12-31'"),
            ("'2024-02-29'", "'2024-02-29'"),
            ("'0000-01-01'", "'0001-01-01 BC'"),
            ("'0000-12-31'", "'0001-12-31 BC'"),
            ("'0001-01-01'", "'0001-01-01'"),
        ],
    ),
    col(
        "dtm",
        "DATETIME(6)",
        &[
            ("'1000-01-01 00:00:00'", "'1000-01-01 00:00:00'"),
            (
                "'9999-12-31 23:59:59.999999'",
                "'9999-12-31 23:59:59.999999'",
            ),
            (
                "'2024-01-01 12:34:56.123456'",
                "'2024-01-01 12:34:56.123456'",
            ),
            ("'0000-01-01 00:00:00'", "'0001-01-01 00:00:00 BC'"),
            ("'0000-12-31 23:59:59.5'", "'0001-12-31 23:59:59.5 BC'"),
        ],
    ),
    col("dt0", "DATETIME", same!["'2024-01-01 12:34:56'"]),
    col(
        "ts",
        "TIMESTAMP(6) NULL",
        &[
            ("'1970-01-01 00:00:01'", "'1970-01-01 00:00:01+00'"),
            (
                "'2038-01-19 03:14:07.999999'",
                "'2038-01-19 03:14:07.999999+00'",
            ),
            ("'2024-06-01 12:00:00.5'", "'2024-06-01 12:00:00.5+00'"),
        ],
    ),
    col(
        "tm",
        "TIME(6)",
        same!["'00:00:00'", "'23:59:59.999999'", "'12:34:56.5'"],
    ),
    col("tm0", "TIME", same!["'01:02:03'"]),
    col("y", "YEAR", same!["1901", "2155", "2024"]),
    col(
        "j",
        "JSON",
        same![
            "'{\"a\": 1, \"bb\": [1, 2.5, \"x\"]}'",
            "'[]'",
            "'\"é\"'",
            "'null'",
            "'{\"k\": {\"n\": null}}'",
        ],
    ),
];

fn rows() -> usize {
    COLUMNS.iter().map(|c| c.values.len()).max().unwrap_or(0)
}

fn ddl() -> String {
    let mut ddl = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY".to_string();
    for c in COLUMNS {
        ddl.push_str(&format!(", {} {}", c.name, c.mysql_type));
    }
    ddl.push_str(");");
    ddl
}

/// `INSERT` statements for one engine (`pick` chooses its literal).
fn inserts(pick: fn(&(&'static str, &'static str)) -> &'static str) -> String {
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    let mut sql = format!(
        "INSERT INTO t (id, {}) VALUES (1{});",
        names.join(", "),
        ", NULL".repeat(COLUMNS.len())
    );
    for row in 0..rows() {
        let values: Vec<&str> = COLUMNS
            .iter()
            .map(|c| pick(&c.values[row % c.values.len()]))
            .collect();
        sql.push_str(&format!(
            "INSERT INTO t (id, {}) VALUES ({}, {});",
            names.join(", "),
            row + 2,
            values.join(", ")
        ));
    }
    sql
}

fn mysql_literal(v: &(&'static str, &'static str)) -> &'static str {
    v.0
}

fn pg_literal(v: &(&'static str, &'static str)) -> &'static str {
    v.1
}

fn by_name<'a>(
    columns: &'a [ChecksumColumn],
    name: &str,
    quote: fn(&str) -> String,
) -> &'a ChecksumColumn {
    columns
        .iter()
        .find(|c| c.sql == quote(name))
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mariadb_type_checksums_like_its_postgres_copy() {
    let (Some(maria), Some(postgres)) = (migrate_testkit::mariadb(), migrate_testkit::postgres())
    else {
        return;
    };
    let (catalog, pg_ddl) = convert(SourceDialect::Mysql, &ddl());
    let table = &catalog.tables[0];
    let my_db = maria.create_database("ck_types");
    let pg_db = postgres.create_database("ck_types");
    let mut my = my(my_db.url()).await;
    let pg = pg(pg_db.url()).await;
    my.execute(&ddl()).await;
    my.execute(&inserts(mysql_literal)).await;
    pg.execute(&pg_ddl).await;
    pg.execute(&inserts(pg_literal)).await;

    let my_columns = columns(table, my_quote);
    let pg_columns = columns(table, pg_quote);
    let my_key = vec![by_name(&my_columns, "id", my_quote).clone()];
    let pg_key = vec![by_name(&pg_columns, "id", pg_quote).clone()];

    // Column by column, so that a failure names the type and shows both canonical texts (the
    // column is also in the key, whose text is its canonical text).
    let mut failures = Vec::new();
    for (column, (my_column, pg_column)) in
        table.columns.iter().zip(my_columns.iter().zip(&pg_columns))
    {
        let my_key = [my_key[0].clone(), my_column.clone()];
        let pg_key = [pg_key[0].clone(), pg_column.clone()];
        let my_rows = my
            .hashes("t", &my_key, std::slice::from_ref(my_column), "")
            .await;
        let pg_rows = pg
            .hashes("t", &pg_key, std::slice::from_ref(pg_column), "")
            .await;
        if my_rows != pg_rows {
            failures.push(format!(
                "{} ({}, {}):\n  mariadb:    {my_rows:?}\n  postgresql: {pg_rows:?}",
                column.name.value, column.source_type, column.data_type
            ));
        }
        let my_sum = my.checksum("t", std::slice::from_ref(my_column), "").await;
        let pg_sum = pg.checksum("t", std::slice::from_ref(pg_column), "").await;
        assert_eq!(my_sum.rows, (rows() + 1) as u64);
        if my_sum != pg_sum && my_rows == pg_rows {
            failures.push(format!(
                "{}: equal hashes, different sums {my_sum} {pg_sum}",
                column.name.value
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "PostgreSQL DDL:\n{pg_ddl}\n\n{}",
        failures.join("\n")
    );

    // The whole table, every column at once, and a chunk of it.
    assert_eq!(
        my.checksum("t", &my_columns, "").await,
        pg.checksum("t", &pg_columns, "").await
    );
    let my_part = my.checksum("t", &my_columns, "id >= 3 AND id < 7").await;
    assert_eq!(
        my_part,
        pg.checksum("t", &pg_columns, "id >= 3 AND id < 7").await
    );
    assert_eq!(my_part.rows, 4);
    let my_rows = my.hashes("t", &my_key, &my_columns, "").await;
    assert_eq!(my_rows, pg.hashes("t", &pg_key, &pg_columns, "").await);
    assert_eq!(my_rows.len(), rows() + 1);
}

/// Whether `text` is the canonical float text of `x`, checked against Rust's shortest
/// round-trip digits (an oracle independent of both engines): text that reads back as `x` with
/// as many digits as Rust's shortest text (where two texts of that length read back as `x`,
/// either is shortest: Rust breaks an exact tie upwards, both engines to the even digit), for
/// 1e-4 <= |x| < 1e15 in fixed notation like Rust's, else as `[-]<digits>e<power>`.
fn is_canonical_float_text(text: &str, x: f64) -> bool {
    if (1e-4..1e15).contains(&x.abs()) {
        return !text.contains('e')
            && text.len() == format!("{x}").len()
            && text.parse::<f64>() == Ok(x);
    }
    let Some((digits, power)) = text.trim_start_matches('-').split_once('e') else {
        return false;
    };
    let shortest = format!("{:e}", x.abs());
    let shortest_digits = shortest.split('e').next().unwrap().replace('.', "");
    text.starts_with('-') == x.is_sign_negative()
        && !digits.starts_with('0')
        && !digits.ends_with('0')
        && power.parse::<i32>().is_ok()
        && text.parse::<f64>() == Ok(x)
        && digits.len() == shortest_digits.trim_end_matches('0').len()
}

/// A deterministic spread of bit patterns (splitmix64).
fn bit_patterns(count: usize) -> Vec<u64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn random_floats_and_doubles_have_the_same_text_in_both_engines() {
    let (Some(maria), Some(postgres)) = (migrate_testkit::mariadb(), migrate_testkit::postgres())
    else {
        return;
    };
    let mut values: Vec<(f64, f32)> = bit_patterns(3000)
        .into_iter()
        .map(|bits| (f64::from_bits(bits), f32::from_bits((bits >> 32) as u32)))
        .filter(|(d, f)| d.is_finite() && f.is_finite())
        .collect();
    // The common case: values in the fixed-notation range, with many digits and with few.
    for bits in bit_patterns(1000) {
        let mantissa = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
        let scaled = mantissa * 10f64.powi((bits >> 52) as i32 % 22 - 6);
        let cents = (bits % 100_000_000) as f64 / 100.0;
        values.push((scaled, scaled as f32));
        values.push((-cents, -(cents as f32)));
    }
    // Short decimals d × 10^p that are exactly midpoints between two doubles (d × 5^p odd, in
    // [2^53, 2^54)): round-half-even reads one back as the even neighbour, whose shortest text
    // it is, above or below the longer digits PostgreSQL prints.
    for power in 10..=23 {
        let low = (2f64.powi(53) / 5f64.powi(power)).ceil() as u64 | 1;
        for digits in (low..).step_by(2).take(6) {
            let x: f64 = format!("{digits}e{power}").parse().unwrap();
            values.push((x, x as f32));
        }
    }
    // Values around the switch between fixed and exponent notation, and other edges.
    for edge in [
        1e15,
        f64::from_bits(1e15f64.to_bits() - 1),
        1e-4,
        f64::from_bits(1e-4f64.to_bits() - 1),
        f64::from_bits(f64::MAX.to_bits() - 1),
        f64::from_bits(f64::MAX.to_bits() - 2),
        1e16,
        1e17,
        9.999999999999999e14,
        1e-4,
        1e-5,
        0.1,
        1.0 / 3.0,
        123456.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        1e22,
        // Shortest texts that are midpoints, read back by round-half-even: 1e23 is between
        // two doubles, the float below becomes 48919875069935616 whose shortest is ...562e1.
        1e23,
        4.891_987_5e16,
        2f64.powi(53),
        2f64.powi(53) + 2.0,
    ] {
        values.push((edge, edge as f32));
        values.push((-edge, -(edge as f32)));
    }
    // Subnormal doubles with one digit and more, and subnormal floats of the same low bits.
    for bits in [3u64, 2499, 0x000F_FFFF_FFFF_FFFF] {
        values.push((
            f64::from_bits(bits),
            f32::from_bits(bits as u32 & 0x007F_FFFF),
        ));
    }
    // MariaDB stores -0.0 as 0: leave zeros out (PostgreSQL's -0 is checked elsewhere); an
    // edge too large for a float is no float.
    values.retain(|(d, f)| *d != 0.0 && *f != 0.0 && f.is_finite());
    let mut rows = Vec::new();
    for (i, (d, f)) in values.iter().enumerate() {
        // `{:e}` is the shortest text that reads back to the same value in both engines.
        rows.push(format!("({i}, {d:e}, {f:e})"));
    }
    let insert = format!("INSERT INTO t VALUES {}", rows.join(", "));
    let my_db = maria.create_database("ck_floats");
    let pg_db = postgres.create_database("ck_floats");
    let mut my = my(my_db.url()).await;
    let pg = pg(pg_db.url()).await;
    my.execute("CREATE TABLE t (id int PRIMARY KEY, d DOUBLE, f FLOAT)")
        .await;
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, d double precision, f real)")
        .await;
    my.execute(&insert).await;
    pg.execute(&insert).await;

    let column = |sql: &str, data_type| ChecksumColumn::new(sql, data_type);
    let id = column("id", migrate_core::LogicalType::Integer);
    for (name, data_type) in [
        ("d", migrate_core::LogicalType::Double),
        ("f", migrate_core::LogicalType::Real),
    ] {
        let value = column(name, data_type);
        let key = [id.clone(), value.clone()];
        let my_rows = my.hashes("t", &key, std::slice::from_ref(&value), "").await;
        let pg_rows = pg.hashes("t", &key, std::slice::from_ref(&value), "").await;
        assert_eq!(my_rows.len(), values.len());
        let mut wrong = Vec::new();
        for ((my_row, pg_row), _) in my_rows.iter().zip(&pg_rows).zip(0..) {
            let (id, _) = my_row.0.split_once(',').unwrap();
            let i: usize = id.trim_matches('"').parse().unwrap();
            let x = if name == "d" {
                values[i].0
            } else {
                f64::from(values[i].1)
            };
            let text = |row: &str| row.split_once(',').unwrap().1.trim_matches('"').to_string();
            if !is_canonical_float_text(&text(&my_row.0), x)
                || !is_canonical_float_text(&text(&pg_row.0), x)
            {
                wrong.push(format!(
                    "{x:e}: MariaDB {}, PostgreSQL {}",
                    my_row.0, pg_row.0
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "{name}: {} of {} differ:\n{}",
            wrong.len(),
            values.len(),
            wrong.join("\n")
        );
        assert_eq!(my_rows, pg_rows);
    }
}

/// JSON numbers as documents write them: signs, leading and trailing zeros, exponents of every
/// shape, more digits than a double holds.
const JSON_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "0.000",
    "-0.0e-3",
    "7",
    "-12",
    "10",
    "100",
    "2.50",
    "-10.010",
    "0.1",
    "0.000001",
    "1e3",
    "1E+3",
    "1e-0",
    "-1.5e-7",
    "5E-1",
    "100e-2",
    "123.456e-2",
    "1.5E300",
    "1e-400",
    "123456789012345678901234567890",
    "-0.000000000000000000000000012345000",
];

/// JSON keys and strings without escapes that `jsonb` writes otherwise (`\u` of a printable
/// character, `\/`): empty, a prefix of another, upper before lower case, non-ASCII, quotes,
/// backslashes, control characters as `jsonb` escapes them.
const JSON_STRINGS: &[&str] = &[
    "",
    "a",
    "aa",
    "a b",
    "A",
    "B",
    "bb",
    "é",
    "ß漢字",
    "😀",
    "q\\\"uote",
    "back\\\\slash",
    "line\\nbreak\\ttab",
    "bell\\u0007",
    "a/b",
];

/// A deterministic document of nesting depth at most `depth`, drawn from `bits`.
fn json_document(bits: &mut impl Iterator<Item = u64>, depth: u32) -> String {
    let pick = bits.next().unwrap_or(0);
    let choice = if depth == 0 { pick % 5 } else { pick % 7 };
    match choice {
        0 => JSON_NUMBERS[(pick >> 8) as usize % JSON_NUMBERS.len()].to_string(),
        1 => format!(
            "\"{}\"",
            JSON_STRINGS[(pick >> 8) as usize % JSON_STRINGS.len()]
        ),
        2 => "true".into(),
        3 => "false".into(),
        4 => "null".into(),
        5 => {
            let len = (pick >> 8) % 4;
            let items: Vec<String> = (0..len).map(|_| json_document(bits, depth - 1)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => {
            // Distinct keys, in the drawn order (duplicates are a known limit).
            let mut keys: Vec<&str> = Vec::new();
            for _ in 0..(pick >> 8) % 5 {
                let key = JSON_STRINGS[bits.next().unwrap_or(0) as usize % JSON_STRINGS.len()];
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            let members: Vec<String> = keys
                .iter()
                .map(|k| format!("\"{k}\": {}", json_document(bits, depth - 1)))
                .collect();
            format!("{{{}}}", members.join(","))
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_json_normalize_and_postgres_write_every_document_alike() {
    use mysql_async::prelude::Queryable;
    let (Some(maria), Some(postgres)) = (migrate_testkit::mariadb(), migrate_testkit::postgres())
    else {
        return;
    };
    let my_db = maria.create_database("ck_json_normalized");
    let pg_db = postgres.create_database("ck_json_normalized");
    let mut my = my(my_db.url()).await;
    let pg = pg(pg_db.url()).await;
    my.execute("CREATE TABLE t (id INT PRIMARY KEY, j JSON)")
        .await;
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, j jsonb)")
        .await;
    let mut documents: Vec<String> = JSON_NUMBERS
        .iter()
        .map(|n| n.to_string())
        .chain(JSON_STRINGS.iter().map(|s| format!("\"{s}\"")))
        .chain(
            [
                "{}",
                "[]",
                "[{}, []]",
                "{\"b\": 1, \"a\": {\"d\": [], \"c\": {}}}",
            ]
            .map(String::from),
        )
        .collect();
    let mut bits = bit_patterns(40_000).into_iter();
    documents.extend((0..1000).map(|_| json_document(&mut bits, 4)));
    for (id, document) in documents.iter().enumerate() {
        let id = id as i32;
        my.0.exec_drop("INSERT INTO t VALUES (?, ?)", (id, document))
            .await
            .unwrap_or_else(|e| panic!("{document}: {e}"));
        pg.0.execute(
            "INSERT INTO t VALUES ($1, $2::text::jsonb)",
            &[&id, document],
        )
        .await
        .unwrap_or_else(|e| panic!("{document}: {e}"));
    }
    let id = ChecksumColumn::new("id", migrate_core::LogicalType::Integer);
    let json =
        ChecksumColumn::new("j", migrate_core::LogicalType::Json).with_json(JsonText::Normalized);
    // The document's text is part of the key text: a difference shows both texts.
    let key = [id, json.clone()];
    let my_rows = my.hashes("t", &key, std::slice::from_ref(&json), "").await;
    let pg_rows = pg.hashes("t", &key, std::slice::from_ref(&json), "").await;
    assert_eq!(my_rows.len(), documents.len());
    assert_eq!(pg_rows.len(), documents.len());
    let differing: Vec<String> = my_rows
        .iter()
        .zip(&pg_rows)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("MariaDB {}\nPostgreSQL {}", a.0, b.0))
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n"));
    assert_eq!(
        my.checksum("t", std::slice::from_ref(&json), "").await,
        pg.checksum("t", std::slice::from_ref(&json), "").await
    );
    // The normal form, written out: keys by bytes, numbers with every significant digit.
    let text = |id: usize| {
        my_rows
            .iter()
            .find(|(k, _)| k.starts_with(&format!("\"{id}\",")))
            .map(|(k, _)| k.clone())
            .unwrap()
    };
    let last = JSON_NUMBERS.len() + JSON_STRINGS.len() + 3;
    assert!(
        text(last).ends_with(r#","[{""a"":{""c"":{},""d"":[]},""b"":1.0E0}]""#),
        "{}",
        text(last)
    );
    assert!(text(8).ends_with(r#","[2.5E0]""#), "{}", text(8));
}

/// `document` as PHP's `json_encode` writes it by default: `/` and every non-ASCII character
/// escaped (UTF-16, upper-case hex), which MariaDB keeps and `jsonb` decodes. (In the documents
/// of [`json_document`] both occur in strings only.)
fn php_escaped(document: &str) -> String {
    let mut out = String::new();
    for c in document.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_documents_with_escapes_hash_like_jsonb_on_the_client() {
    use mysql_async::prelude::Queryable;
    let (Some(maria), Some(postgres)) = (migrate_testkit::mariadb(), migrate_testkit::postgres())
    else {
        return;
    };
    let my_db = maria.create_database("ck_json_escapes");
    let pg_db = postgres.create_database("ck_json_escapes");
    let mut my = my(my_db.url()).await;
    let pg = pg(pg_db.url()).await;
    my.execute("CREATE TABLE t (id INT PRIMARY KEY, j JSON)")
        .await;
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, j jsonb)")
        .await;
    // Escapes jsonb writes otherwise, in strings and in keys (whose decoded bytes order them).
    let mut documents: Vec<(String, String)> = [
        r#"{"pr\u00e9nom": "Ren\u00E9", "price": "http:\/\/x.org\/a"}"#,
        r#"["\u0009\u000A\u001B\u0022\u005C\ud83d\ude00\/"]"#,
        r#"{"a\/b": {"\u00e9": [], "f": "\t"}}"#,
        r#""caf\u00e9""#,
    ]
    .map(|written| (written.to_string(), written.to_string()))
    .into();
    let mut bits = bit_patterns(40_000).into_iter();
    documents.extend((0..1000).map(|_| {
        let document = json_document(&mut bits, 4);
        (php_escaped(&document), document)
    }));
    for (id, (on_mariadb, on_postgres)) in documents.iter().enumerate() {
        let id = id as i32;
        my.0.exec_drop("INSERT INTO t VALUES (?, ?)", (id, on_mariadb))
            .await
            .unwrap_or_else(|e| panic!("{on_mariadb}: {e}"));
        pg.0.execute(
            "INSERT INTO t VALUES ($1, $2::text::jsonb)",
            &[&id, on_postgres],
        )
        .await
        .unwrap_or_else(|e| panic!("{on_postgres}: {e}"));
    }
    let id = ChecksumColumn::new("id", migrate_core::LogicalType::Integer);
    let json =
        ChecksumColumn::new("j", migrate_core::LogicalType::Json).with_json(JsonText::Normalized);
    let columns = [id.clone(), json];
    let key = std::slice::from_ref(&id);
    let my_rows = my.client_hashes("t", key, &columns, "").await;
    let pg_rows = pg.hashes("t", key, &columns, "").await;
    assert_eq!(my_rows.len(), documents.len());
    let differing: Vec<&str> = my_rows
        .iter()
        .zip(&pg_rows)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| {
            documents[a.0.trim_matches('"').parse::<usize>().unwrap()]
                .0
                .as_str()
        })
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n"));
    // The sums of the client's hashes are the target's checksum; MariaDB's own is not.
    let on_postgres = pg.checksum("t", &columns, "").await;
    assert_eq!(
        ChunkChecksum::of_row_hashes(my_rows.iter().map(|(_, h)| h.as_str())),
        Ok(on_postgres)
    );
    assert_ne!(my.checksum("t", &columns, "").await, on_postgres);
    // A real difference still shows: another escaped character.
    my.0.exec_drop("UPDATE t SET j = ? WHERE id = 3", (r#""caf\u00e8""#,))
        .await
        .unwrap();
    let changed = my.client_hashes("t", key, &columns, "id = 3").await;
    let on_postgres = pg.hashes("t", key, &columns, "id = 3").await;
    assert_eq!(changed.len(), 1);
    assert_ne!(changed, on_postgres);
}

#[tokio::test(flavor = "multi_thread")]
async fn known_limits_show_as_mismatches_never_as_matches() {
    use mysql_async::prelude::Queryable;
    let (Some(maria), Some(postgres)) = (migrate_testkit::mariadb(), migrate_testkit::postgres())
    else {
        return;
    };
    let my_db = maria.create_database("ck_limits");
    let pg_db = postgres.create_database("ck_limits");
    let mut my = my(my_db.url()).await;
    let pg = pg(pg_db.url()).await;
    let json = ChecksumColumn::new("j", migrate_core::LogicalType::Json);
    // Jsonb (MariaDB before 10.7): MariaDB keeps JSON as written; PostgreSQL's jsonb sorts keys
    // and drops duplicates. Whitespace alone is normalised on both sides.
    my.execute("CREATE TABLE t (j JSON); INSERT INTO t VALUES ('{\"a\":1,\"bb\":[1,2]}')")
        .await;
    pg.execute("CREATE TABLE t (j jsonb); INSERT INTO t VALUES ('{\"a\":1,\"bb\":[1,2]}')")
        .await;
    assert_eq!(
        my.checksum("t", std::slice::from_ref(&json), "").await,
        pg.checksum("t", std::slice::from_ref(&json), "").await
    );
    // Normalized (MariaDB 10.7+): key order and number forms agree; duplicate keys (MariaDB
    // keeps them all) and escapes of characters jsonb writes as such still differ.
    let normalized = json.clone().with_json(JsonText::Normalized);
    // The same document text into both (as parameters: the engines' string literals differ).
    for (document, equal_when_normalized) in [
        (r#"{"bb":1,"a":2}"#, true),
        ("[1e2]", true),
        ("1e2", true),
        (r#"{"a":1,"a":2}"#, false),
        (r#"["\u00e9"]"#, false),
        (r#"["a\/b"]"#, false),
    ] {
        my.execute("DELETE FROM t").await;
        pg.execute("DELETE FROM t").await;
        my.0.exec_drop("INSERT INTO t VALUES (?)", (document,))
            .await
            .unwrap();
        pg.0.execute("INSERT INTO t VALUES ($1::text::jsonb)", &[&document])
            .await
            .unwrap();
        assert_ne!(
            my.checksum("t", std::slice::from_ref(&json), "").await,
            pg.checksum("t", std::slice::from_ref(&json), "").await,
            "{document}"
        );
        let (on_mariadb, on_postgres) = (
            my.checksum("t", std::slice::from_ref(&normalized), "")
                .await,
            pg.checksum("t", std::slice::from_ref(&normalized), "")
                .await,
        );
        assert_eq!(
            on_mariadb == on_postgres,
            equal_when_normalized,
            "{document}"
        );
    }
    // A MySQL TIME beyond a day has a canonical text, which no PostgreSQL time has.
    let time = ChecksumColumn::new(
        "tm",
        migrate_core::LogicalType::Time {
            precision: 6,
            with_time_zone: false,
        },
    );
    my.execute("CREATE TABLE d (tm TIME(6)); INSERT INTO d VALUES ('-838:59:59'), ('838:59:59.5')")
        .await;
    let texts = my
        .hashes(
            "d",
            std::slice::from_ref(&time),
            std::slice::from_ref(&time),
            "",
        )
        .await;
    let texts: Vec<&str> = texts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(texts, ["\"-838:59:59.000000\"", "\"838:59:59.500000\""]);
    assert!(pg
        .0
        .batch_execute("CREATE TABLE d (tm time(6)); INSERT INTO d VALUES ('-838:59:59')")
        .await
        .is_err());
}
