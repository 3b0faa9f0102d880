//! Object-locator name patterns, with the wildcards of the DMS "Wildcards in table mapping" page:
//!
//! | Pattern | Matches |
//! |---|---|
//! | `%` | zero or more characters |
//! | `_` | exactly one character |
//! | `[_]`, `[%]` | a literal `_` or `%` (the only escape: DMS's `escapeCharacter` is an Oracle endpoint setting) |
//! | `[ab]`, `[a-d]` | one character of a set or range |
//!
//! Matching is case-sensitive and against the name exactly as the source catalog stores it, as in
//! DMS; the unmatched-rule finding suggests the differently-cased name when that is the typo.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `%`
    AnyRun,
    /// `_`
    AnyOne,
    /// `[...]`: inclusive ranges; a single character is a range of one.
    Set(Vec<(char, char)>),
}

impl Token {
    fn matches_one(&self, c: char) -> bool {
        match self {
            Token::Literal(l) => *l == c,
            Token::AnyOne => true,
            Token::Set(ranges) => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)),
            Token::AnyRun => false,
        }
    }
}

/// A schema, table or column name pattern of an object locator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    text: String,
    tokens: Vec<Token>,
}

impl Pattern {
    /// Parses a pattern with DMS wildcards.
    pub(crate) fn parse(text: &str) -> Result<Pattern, String> {
        let mut tokens = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '%' => Token::AnyRun,
                '_' => Token::AnyOne,
                '[' => {
                    let mut members = Vec::new();
                    loop {
                        match chars.next() {
                            None => {
                                return Err(format!(
                                    "`{text}` has a `[` without its closing `]`; write `[[]` for a literal `[`"
                                ))
                            }
                            Some(']') => break,
                            Some(m) => members.push(m),
                        }
                    }
                    if members.is_empty() {
                        return Err(format!("`{text}` has an empty set `[]`"));
                    }
                    Token::Set(ranges(&members))
                }
                other => Token::Literal(other),
            });
        }
        Ok(Pattern {
            text: text.to_string(),
            tokens,
        })
    }

    /// A pattern that matches exactly `text`, for the places where DMS takes exact names
    /// (`explicit` selection, `define-primary-key`).
    pub(crate) fn exact(text: &str) -> Pattern {
        Pattern {
            text: text.to_string(),
            tokens: text.chars().map(Token::Literal).collect(),
        }
    }

    /// `%`: every name.
    pub(crate) fn any() -> Pattern {
        Pattern {
            text: "%".into(),
            tokens: vec![Token::AnyRun],
        }
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let (mut t, mut n) = (0, 0);
        // Position after the last `%` seen, and the name position it was tried at.
        let mut backtrack: Option<(usize, usize)> = None;
        while n < name.len() {
            match self.tokens.get(t) {
                Some(Token::AnyRun) => {
                    backtrack = Some((t + 1, n));
                    t += 1;
                }
                Some(token) if token.matches_one(name[n]) => {
                    t += 1;
                    n += 1;
                }
                _ => match backtrack {
                    Some((after, tried)) => {
                        t = after;
                        n = tried + 1;
                        backtrack = Some((after, tried + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[t..].iter().all(|t| *t == Token::AnyRun)
    }

    /// Like [`Pattern::matches`], ignoring case: used only to suggest a fix for a rule that
    /// matched nothing.
    pub(crate) fn matches_ignoring_case(&self, name: &str) -> bool {
        let lower = Pattern::parse(&self.text.to_lowercase()).unwrap_or_else(|_| self.clone());
        lower.matches(&name.to_lowercase())
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `a-d` between two members is a range; a `-` first or last is a literal.
fn ranges(members: &[char]) -> Vec<(char, char)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < members.len() {
        if i + 2 < members.len() && members[i + 1] == '-' {
            let (lo, hi) = (members[i], members[i + 2]);
            out.push(if lo <= hi { (lo, hi) } else { (hi, lo) });
            i += 3;
        } else {
            out.push((members[i], members[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Pattern {
        Pattern::parse(text).unwrap()
    }

    #[test]
    fn percent_matches_any_run() {
        assert!(p("%").matches(""));
        assert!(p("%").matches("anything"));
        assert!(p("DMS%").matches("DMS_audit"));
        assert!(!p("DMS%").matches("dms_audit"));
        assert!(p("%_log").matches("app_log"));
        assert!(p("a%b%c").matches("axxbyyc"));
        assert!(!p("a%b%c").matches("axxbyy"));
    }

    #[test]
    fn underscore_matches_one_character() {
        assert!(p("t_1").matches("tx1"));
        assert!(p("t_1").matches("t_1"));
        assert!(!p("t_1").matches("t1"));
    }

    #[test]
    fn brackets_escape_and_make_sets() {
        assert!(p("TEST[_]T%").matches("TEST_T1"));
        assert!(!p("TEST[_]T%").matches("TESTxT1"));
        assert!(p("100[%]").matches("100%"));
        assert!(p("t[ab]").matches("tb"));
        assert!(!p("t[ab]").matches("tc"));
        assert!(p("q[a-d]").matches("qc"));
        assert!(!p("q[a-d]").matches("qe"));
        assert!(p("[-a]").matches("-"));
        assert!(p("[[]x").matches("[x"));
    }

    #[test]
    fn bad_brackets_are_errors() {
        assert!(Pattern::parse("a[bc").is_err());
        assert!(Pattern::parse("a[]").is_err());
    }

    #[test]
    fn exact_has_no_wildcards() {
        let e = Pattern::exact("order_items%");
        assert!(e.matches("order_items%"));
        assert!(!e.matches("order_items"));
        assert!(!e.matches("orderXitems%"));
    }

    #[test]
    fn case_insensitive_suggestion_match() {
        assert!(p("Employee").matches_ignoring_case("employee"));
        assert!(!p("Employee").matches("employee"));
    }
}
