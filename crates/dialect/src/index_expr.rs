//! Index keys that are expressions, for a PostgreSQL target: splitting a key as written into the
//! expression and its ordering, and what PostgreSQL refuses in an index expression.

use serde::Deserialize;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use std::collections::HashSet;
use std::sync::OnceLock;

/// `dialect-maps/functions/postgres-not-immutable.toml`: see that file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotImmutable {
    calls: HashSet<String>,
    bare: HashSet<String>,
}

fn not_immutable_functions() -> &'static NotImmutable {
    static FUNCTIONS: OnceLock<NotImmutable> = OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        let text = include_str!("../../../dialect-maps/functions/postgres-not-immutable.toml");
        match toml::from_str(text) {
            Ok(functions) => functions,
            // Embedded and loaded by the unit test below: a failure here is a build defect.
            Err(error) => panic!("postgres-not-immutable.toml is invalid: {error}"),
        }
    })
}

/// The first function of PostgreSQL expression `sql` that PostgreSQL does not allow in an index
/// (not IMMUTABLE), as written.
pub(crate) fn not_immutable_call(sql: &str) -> Option<String> {
    let functions = not_immutable_functions();
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
    let mut tokens = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .peekable();
    while let Some(token) = tokens.next() {
        let Token::Word(word) = token else { continue };
        if word.quote_style.is_some() {
            continue;
        }
        let name = word.value.to_ascii_uppercase();
        let called = tokens.peek() == Some(&Token::LParen);
        let listed = if called {
            &functions.calls
        } else {
            &functions.bare
        };
        if listed.contains(&name) {
            return Some(word.value);
        }
    }
    None
}

/// An index key as written, split into what it indexes and its trailing `ASC | DESC` and `NULLS
/// FIRST | LAST` (empty when it has none).
pub(crate) fn split_ordering(text: &str) -> (&str, &str) {
    let text = text.trim();
    let mut head = text;
    if let Some(rest) =
        strip_last_word(head, &["FIRST", "LAST"]).and_then(|h| strip_last_word(h, &["NULLS"]))
    {
        head = rest;
    }
    if let Some(rest) = strip_last_word(head, &["ASC", "DESC"]) {
        head = rest;
    }
    (head, text[head.len()..].trim())
}

/// `text` without its last word, when that word is one of `words` (any case) and something
/// comes before it.
fn strip_last_word<'t>(text: &'t str, words: &[&str]) -> Option<&'t str> {
    let (head, last) = text.rsplit_once(char::is_whitespace)?;
    words
        .iter()
        .any(|w| last.eq_ignore_ascii_case(w))
        .then(|| head.trim_end())
}

/// `sql` in parentheses, as an index key that is an expression must be, unless it is already.
pub(crate) fn parenthesized(sql: String) -> String {
    let mut depth = 0usize;
    for (at, c) in sql.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 {
            // The first group closes here: the whole text is one group when this is its end.
            if at + 1 == sql.len() && sql.starts_with('(') {
                return sql;
            }
            break;
        }
    }
    format!("({sql})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_loads_and_finds_calls_and_value_functions() {
        assert_eq!(
            not_immutable_call("to_char(created, 'YYYY')").as_deref(),
            Some("to_char")
        );
        assert_eq!(
            not_immutable_call("created < CURRENT_DATE").as_deref(),
            Some("CURRENT_DATE")
        );
        // A column named like a function, and a quoted name, are not calls.
        assert_eq!(not_immutable_call("lower(format) || \"now\"()"), None);
        assert_eq!(not_immutable_call("lower(email)"), None);
    }

    #[test]
    fn a_key_is_split_from_its_ordering() {
        assert_eq!(
            split_ordering("lower(a) DESC NULLS LAST"),
            ("lower(a)", "DESC NULLS LAST")
        );
        assert_eq!(
            split_ordering("(a || b)  nulls first"),
            ("(a || b)", "nulls first")
        );
        assert_eq!(split_ordering("lower(a) asc"), ("lower(a)", "asc"));
        assert_eq!(split_ordering("lower(last)"), ("lower(last)", ""));
        assert_eq!(split_ordering("x last"), ("x last", ""));
        assert_eq!(split_ordering("DESC"), ("DESC", ""));
    }

    #[test]
    fn an_expression_is_parenthesized_once() {
        assert_eq!(parenthesized("lower(a)".into()), "(lower(a))");
        assert_eq!(parenthesized("(lower(a))".into()), "(lower(a))");
        assert_eq!(parenthesized("(a) || (b)".into()), "((a) || (b))");
    }
}
