//! Identifier normalisation for the targets.
//!
//! Redshift (by default) and the PostgreSQL schemas migrate creates use lower-case names, and the
//! sources' quoted upper-case names (Oracle's `"EMPLOYEES"`) name the same object as `employees`.
//! So every identifier, quoted or not, is folded to lower case, then quoted only when it must be: a
//! reserved word of the target, or a character outside `[a-z0-9_$]`, or a leading digit or `$`.
//! Names longer than the target allows are cut on a character boundary, and the caller is told.

use migrate_core::{QualifiedName, TargetDialect};
use std::collections::HashSet;
use std::sync::OnceLock;

/// An identifier ready to splice into target SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetIdent {
    /// Folded to lower case, and double-quoted when needed.
    pub sql: String,
    /// The name was longer than the target allows and was cut.
    pub truncated: bool,
}

/// Normalises one identifier (one part of a qualified name) for `to`.
///
/// `quoted` says whether the source quoted it; both are folded the same way (see the module
/// documentation), so it only matters for names that are empty.
pub fn target_ident(name: &str, quoted: bool, to: TargetDialect) -> TargetIdent {
    let (name, truncated) = fold(name, to);
    let sql = quote_if_needed(name, quoted, to);
    TargetIdent { sql, truncated }
}

/// The name `to` stores for an identifier (folded and cut as [`target_ident`] does it), without
/// quotes: what its catalog shows.
pub fn stored_ident(name: &str, to: TargetDialect) -> String {
    fold(name, to).0
}

/// A qualified name as SQL of `to` (`schema.table`, each part as [`target_ident`] writes it).
pub fn target_name(name: &QualifiedName, to: TargetDialect) -> String {
    let table = target_ident(&name.name.value, name.name.quoted, to).sql;
    match &name.schema {
        Some(schema) => format!(
            "{}.{table}",
            target_ident(&schema.value, schema.quoted, to).sql
        ),
        None => table,
    }
}

/// The first free name for an identifier whose target name is taken: `name_2`, `name_3`, ...
/// The suffix is part of the name before it is quoted (`"col x_2"`, not `"col x"_2`), and the
/// name is cut so that it still fits the target's limit with its suffix. `taken` is asked about
/// each candidate as it would be written.
pub fn free_target_ident(name: &str, to: TargetDialect, taken: impl Fn(&str) -> bool) -> String {
    let folded = name.to_lowercase();
    let mut n = 2;
    loop {
        let suffix = format!("_{n}");
        let mut candidate = folded.clone();
        cut(&mut candidate, max_bytes(to).saturating_sub(suffix.len()));
        candidate.push_str(&suffix);
        let sql = quote_if_needed(candidate, false, to);
        if !taken(&sql) {
            return sql;
        }
        n += 1;
    }
}

/// `name` double-quoted when `to` needs it (or when the source quoted an empty name).
fn quote_if_needed(name: String, quoted: bool, to: TargetDialect) -> String {
    if needs_quotes(&name, to) || (quoted && name.is_empty()) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name
    }
}

/// The lower-case name cut to the target's maximum length, without quotes, and whether it was cut.
pub(crate) fn fold(name: &str, to: TargetDialect) -> (String, bool) {
    let mut name = name.to_lowercase();
    let truncated = cut(&mut name, max_bytes(to));
    (name, truncated)
}

/// Cuts `name` to at most `max` bytes on a character boundary; true if it was longer.
fn cut(name: &mut String, max: usize) -> bool {
    let longer = name.len() > max;
    if longer {
        let mut end = max;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    longer
}

/// Whether a folded name must be double-quoted in `to`.
pub(crate) fn needs_quotes(name: &str, to: TargetDialect) -> bool {
    let mut chars = name.chars();
    let plain_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let plain_rest =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    !(plain_start && plain_rest) || is_reserved(name, to)
}

/// Maximum identifier length in bytes: Redshift 127; PostgreSQL 63 (NAMEDATALEN - 1), beyond
/// which it silently truncates.
pub(crate) fn max_bytes(to: TargetDialect) -> usize {
    match to {
        TargetDialect::Redshift => 127,
        TargetDialect::Postgres => 63,
    }
}

/// Whether `word` (any case) is a reserved word of `to`.
pub(crate) fn is_reserved(word: &str, to: TargetDialect) -> bool {
    static REDSHIFT: OnceLock<HashSet<String>> = OnceLock::new();
    static POSTGRES: OnceLock<HashSet<String>> = OnceLock::new();
    let words = match to {
        TargetDialect::Redshift => REDSHIFT.get_or_init(|| {
            word_list(include_str!(
                "../../../dialect-maps/reserved-words/redshift.txt"
            ))
        }),
        TargetDialect::Postgres => POSTGRES.get_or_init(|| {
            word_list(include_str!(
                "../../../dialect-maps/reserved-words/postgres.txt"
            ))
        }),
    };
    words.contains(&word.to_ascii_uppercase())
}

fn word_list(text: &str) -> HashSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_ascii_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TargetDialect::{Postgres, Redshift};

    #[test]
    fn folds_quoted_and_unquoted_names() {
        assert_eq!(target_ident("EMPLOYEES", true, Redshift).sql, "employees");
        assert_eq!(target_ident("Employees", false, Postgres).sql, "employees");
        assert_eq!(target_ident("emp$hist", false, Postgres).sql, "emp$hist");
    }

    #[test]
    fn quotes_reserved_words_per_target() {
        assert_eq!(target_ident("ORDER", true, Postgres).sql, "\"order\"");
        // OFFSET is reserved in both, TAG only in Redshift, WINDOW only in PostgreSQL.
        assert_eq!(target_ident("tag", false, Redshift).sql, "\"tag\"");
        assert_eq!(target_ident("tag", false, Postgres).sql, "tag");
        assert_eq!(target_ident("window", false, Postgres).sql, "\"window\"");
        assert_eq!(target_ident("window", false, Redshift).sql, "window");
    }

    #[test]
    fn quotes_unusual_characters() {
        assert_eq!(
            target_ident("Order Lines", true, Redshift).sql,
            "\"order lines\""
        );
        assert_eq!(target_ident("1st", true, Redshift).sql, "\"1st\"");
        assert_eq!(target_ident("a\"b", true, Redshift).sql, "\"a\"\"b\"");
        assert_eq!(target_ident("émile", true, Redshift).sql, "\"émile\"");
        assert_eq!(target_ident("NAME#", false, Redshift).sql, "\"name#\"");
        assert_eq!(target_ident("", true, Redshift).sql, "\"\"");
    }

    #[test]
    fn truncates_on_a_character_boundary() {
        let long = "é".repeat(100); // 200 bytes
        let ident = target_ident(&long, true, Redshift);
        assert!(ident.truncated);
        assert_eq!(ident.sql, format!("\"{}\"", "é".repeat(63)));
        let ident = target_ident(&"a".repeat(64), false, Postgres);
        assert!(ident.truncated);
        assert_eq!(ident.sql, "a".repeat(63));
        assert!(!target_ident(&"a".repeat(127), false, Redshift).truncated);
    }

    #[test]
    fn free_names_keep_the_suffix_inside_the_quotes_and_the_limit() {
        let none_taken = |_: &str| false;
        assert_eq!(
            free_target_ident("Col X", Postgres, none_taken),
            "\"col x_2\""
        );
        // `order_2` is no reserved word, so it needs no quotes.
        assert_eq!(free_target_ident("order", Postgres, none_taken), "order_2");
        let taken = |sql: &str| sql == "a_2" || sql == "a_3";
        assert_eq!(free_target_ident("A", Redshift, taken), "a_4");
        let long = free_target_ident(&"a".repeat(70), Postgres, none_taken);
        assert_eq!(long, format!("{}_2", "a".repeat(61)));
        // Cut on a character boundary: 30 two-byte characters and `_2` fit 63 bytes.
        let long = free_target_ident(&"é".repeat(100), Postgres, none_taken);
        assert_eq!(long, format!("\"{}_2\"", "é".repeat(30)));
    }

    #[test]
    fn word_lists_are_clean() {
        for text in [
            include_str!("../../../dialect-maps/reserved-words/redshift.txt"),
            include_str!("../../../dialect-maps/reserved-words/postgres.txt"),
        ] {
            let words: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            assert!(words.iter().all(|w| !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')));
            let mut sorted = words.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted, words, "sorted and without duplicates");
        }
    }
}
