//! The rewriter must never panic: whatever the input, it returns SQL or an error. Inputs are the
//! matrix's own cases cut at every character, with bytes flipped, plus garbage and deep nesting.

use migrate_core::{SourceDialect, TargetDialect};
use migrate_sqlrewrite::{rewrite_expression, rewrite_query, RewriteError, MAX_INPUT_BYTES};

const SEEDS: &[&str] = &[
    include_str!("rewrites/oracle.toml"),
    include_str!("rewrites/mysql.toml"),
    include_str!("rewrites/hive.toml"),
    include_str!("rewrites/postgres.toml"),
];

fn all(sql: &str) {
    for from in SourceDialect::ALL {
        for to in TargetDialect::ALL {
            let _ = rewrite_query(sql, from, to);
            let _ = rewrite_expression(sql, from, to);
        }
    }
}

/// The `input = ...` lines of the matrix files.
fn inputs() -> Vec<String> {
    SEEDS
        .iter()
        .flat_map(|file| file.lines())
        .filter_map(|line| line.strip_prefix("input = "))
        .map(|value| value.trim_matches(|c| c == '"' || c == '\'').to_string())
        .collect()
}

#[test]
fn truncated_inputs() {
    for input in inputs() {
        for (end, _) in input.char_indices() {
            all(&input[..end]);
        }
    }
}

#[test]
fn mutated_inputs() {
    // A fixed xorshift: reproducible without a dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"()+,.;'\"`[]*-=<>!|:@$#%&/\\ \n\t0aZ\x00\xff";
    for input in inputs() {
        for _ in 0..20 {
            let mut bytes = input.clone().into_bytes();
            for _ in 0..3 {
                let at = (next() as usize) % (bytes.len() + 1);
                let byte = alphabet[(next() as usize) % alphabet.len()];
                bytes.insert(at, byte);
            }
            all(&String::from_utf8_lossy(&bytes));
        }
    }
}

#[test]
fn garbage() {
    for input in [
        "",
        " ",
        ";",
        "\0\0\0",
        "(((",
        ")))",
        "SELECT",
        "SELECT FROM WHERE",
        "'unterminated",
        "\"unterminated",
        "`unterminated",
        "/* unterminated",
        "q'[unterminated",
        "SELECT * FROM a, b WHERE a.x(+) = b.x(+)",
        "SELECT * FROM a WHERE x(+) = 1",
        "SELECT * FROM a, b WHERE a.id = b.id(+) AND b.id = a.id(+)",
        "DECODE()",
        "DECODE(a)",
        "NVL2(a, b)",
        "SELECT 1 FROM DUAL WHERE ROWNUM < 0",
        "\u{feff}SELECT 1",
        "SELECT é FROM ü",
    ] {
        all(input);
    }
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    all(&String::from_utf8_lossy(&binary));
}

#[test]
fn oversized_input_is_refused() {
    let huge = "1 + ".repeat(MAX_INPUT_BYTES / 4) + "1";
    assert!(matches!(
        rewrite_expression(&huge, SourceDialect::Oracle, TargetDialect::Redshift),
        Err(RewriteError::TooLarge { .. })
    ));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(
        rewrite_expression(&deep, SourceDialect::Oracle, TargetDialect::Redshift),
        Err(RewriteError::TooDeep { .. })
    ));
    let deep_query = format!(
        "SELECT * FROM {}t{}",
        "(SELECT * FROM ".repeat(1000),
        ")".repeat(1000)
    );
    assert!(rewrite_query(&deep_query, SourceDialect::Oracle, TargetDialect::Postgres).is_err());
}

#[test]
fn long_flat_chains_work_up_to_the_depth_limit() {
    let sum = vec!["NVL(a, 1)"; 400].join(" + ");
    let out = rewrite_expression(&sum, SourceDialect::Oracle, TargetDialect::Postgres).unwrap();
    assert!(out.sql.starts_with("COALESCE(a, 1) + "));
    let conditions = vec!["a.x = b.x(+)"; 400].join(" AND ");
    let query = format!("SELECT * FROM a, b WHERE {conditions} AND ROWNUM <= 3");
    let out = rewrite_query(&query, SourceDialect::Oracle, TargetDialect::Redshift).unwrap();
    assert!(out.sql.ends_with("LIMIT 3"), "{}", out.sql);
    // 100_000 terms are 400 KB, just under the input limit.
    for terms in [5_000, 100_000] {
        let sum = vec!["a"; terms].join(" + ");
        assert!(matches!(
            rewrite_expression(&sum, SourceDialect::Oracle, TargetDialect::Postgres),
            Err(RewriteError::TooDeep { .. })
        ));
    }
}
