//! MariaDB's sequence functions in a column default: `nextval(s)`, `NEXT VALUE FOR s` (also
//! `lastval(s)`, `PREVIOUS VALUE FOR s`, `setval(s, n)`), where `s` is a name, not a string as
//! in PostgreSQL's `nextval('s')`.

use crate::cursor::{source_ident, tokenize};
use migrate_core::{QualifiedName, SourceDialect};
use sqlparser::tokenizer::{Token, Word};

fn tokens(text: &str) -> Vec<Token> {
    tokenize(text, SourceDialect::Mysql)
        .map(|tokens| tokens.into_iter().map(|t| t.token).collect())
        .unwrap_or_default()
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.value.eq_ignore_ascii_case(word))
}

/// The sequence whose next value the whole default is (`nextval(db.s)`, `(NEXT VALUE FOR
/// `s`)`), as written: an unqualified name is the table's database's (see the reader).
pub(crate) fn next_value_default(text: &str) -> Option<QualifiedName> {
    let tokens = tokens(text);
    let mut tokens = tokens.as_slice();
    // `DEFAULT (nextval(s))`; a name is one or three tokens, so `(a) + (b)` matches nothing.
    while let [Token::LParen, inner @ .., Token::RParen] = tokens {
        tokens = inner;
    }
    let name = match tokens {
        [Token::Word(function), Token::LParen, name @ .., Token::RParen]
            if function.value.eq_ignore_ascii_case("nextval") =>
        {
            name
        }
        [next, value, for_, name @ ..]
            if is_word(next, "NEXT") && is_word(value, "VALUE") && is_word(for_, "FOR") =>
        {
            name
        }
        _ => return None,
    };
    let ident =
        |word: &Word| source_ident(word.value.clone(), word.quote_style, SourceDialect::Mysql);
    match name {
        [Token::Word(name)] => Some(QualifiedName::new(None, ident(name))),
        [Token::Word(schema), Token::Period, Token::Word(name)] => {
            Some(QualifiedName::new(Some(ident(schema)), ident(name)))
        }
        _ => None,
    }
}

/// Whether the expression calls a sequence function anywhere (`nextval(s) * 10`).
pub(crate) fn calls_sequence(text: &str) -> bool {
    tokens(text).windows(3).any(|window| {
        let [first, second, third] = window else {
            return false;
        };
        let function = ["nextval", "lastval", "setval"]
            .iter()
            .any(|name| is_word(first, name));
        (function && second == &Token::LParen)
            || ((is_word(first, "NEXT") || is_word(first, "PREVIOUS"))
                && is_word(second, "VALUE")
                && is_word(third, "FOR"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::Ident;

    #[test]
    fn whole_next_value_defaults_name_their_sequence() {
        let s1 = QualifiedName::new(None, Ident::new("s1"));
        let db_s1 = QualifiedName::new(Some(Ident::new("db")), Ident::new("s1"));
        assert_eq!(next_value_default("nextval(s1)"), Some(s1.clone()));
        assert_eq!(
            next_value_default("NEXTVAL(`db`.`s1`)"),
            Some(db_s1.clone())
        );
        assert_eq!(next_value_default("(nextval(db.s1))"), Some(db_s1));
        assert_eq!(next_value_default("next value for s1"), Some(s1));
        assert_eq!(next_value_default("nextval(s1) * 10"), None);
        assert_eq!(next_value_default("(nextval(a)) + (nextval(b))"), None);
        assert_eq!(next_value_default("lastval(s1)"), None);
        assert_eq!(next_value_default("'nextval(s1)'"), None);
    }

    #[test]
    fn sequence_calls_are_found_in_expressions() {
        assert!(calls_sequence("(nextval(`db`.`s1`) * 10)"));
        assert!(calls_sequence("concat('A-', PREVIOUS VALUE FOR s1)"));
        assert!(!calls_sequence("'nextval(s1)'"));
        assert!(!calls_sequence("current_timestamp()"));
    }
}
