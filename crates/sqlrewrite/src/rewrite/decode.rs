//! `decode_to_case`: Oracle `DECODE(x, s1, r1, ..., default)`.
//!
//! DECODE treats two NULLs as equal, `=` does not: so a NULL literal search value becomes
//! `x IS NULL`, and a search value that may be NULL (a column, an expression) is compared with
//! `x = s OR (x IS NULL AND s IS NULL)`. When every search value is a non-NULL literal, the
//! simple form `CASE x WHEN s1 THEN r1 ... END` means the same and reads better.

use crate::ast::{binary, case, is_non_null_literal, is_null_literal, paren};
use sqlparser::ast::{BinaryOperator, Expr};

pub(crate) const NAME: &str = "decode_to_case";

/// `None` when there are fewer than three arguments (not a valid DECODE).
pub(crate) fn decode_to_case(mut args: Vec<Expr>) -> Option<Expr> {
    if args.len() < 3 {
        return None;
    }
    let subject = args.remove(0);
    let default = if args.len() % 2 == 1 {
        args.pop()
    } else {
        None
    };
    let mut pairs = Vec::with_capacity(args.len() / 2);
    let mut args = args.into_iter();
    while let (Some(search), Some(result)) = (args.next(), args.next()) {
        pairs.push((search, result));
    }
    if pairs.iter().all(|(search, _)| is_non_null_literal(search)) {
        return Some(case(Some(subject), pairs, default));
    }
    let whens = pairs
        .into_iter()
        .map(|(search, result)| (matches(&subject, search), result))
        .collect();
    Some(case(None, whens, default))
}

/// The NULL-safe condition "subject matches search".
fn matches(subject: &Expr, search: Expr) -> Expr {
    let subject = paren(subject.clone());
    if is_null_literal(&search) {
        return Expr::IsNull(Box::new(subject));
    }
    let search = paren(search);
    let equal = binary(subject.clone(), BinaryOperator::Eq, search.clone());
    if is_non_null_literal(&search) {
        return equal;
    }
    let both_null = binary(
        Expr::IsNull(Box::new(subject)),
        BinaryOperator::And,
        Expr::IsNull(Box::new(search)),
    );
    binary(equal, BinaryOperator::Or, Expr::Nested(Box::new(both_null)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;
    use migrate_core::SourceDialect;

    fn decode(sql: &str) -> Option<String> {
        let args = sql
            .split(';')
            .map(|arg| parse::expression(arg, SourceDialect::Oracle).unwrap())
            .collect();
        decode_to_case(args).map(|e| e.to_string())
    }

    #[test]
    fn literal_searches_use_simple_case() {
        assert_eq!(
            decode("status; 'A'; 'Active'; 'I'; 'Inactive'; 'Unknown'").unwrap(),
            "CASE status WHEN 'A' THEN 'Active' WHEN 'I' THEN 'Inactive' ELSE 'Unknown' END"
        );
        assert_eq!(
            decode("x; 1; 'one'").unwrap(),
            "CASE x WHEN 1 THEN 'one' END"
        );
    }

    #[test]
    fn null_search_matches_null() {
        assert_eq!(
            decode("x; NULL; 'none'; 1; 'one'; 'other'").unwrap(),
            "CASE WHEN x IS NULL THEN 'none' WHEN x = 1 THEN 'one' ELSE 'other' END"
        );
    }

    #[test]
    fn column_search_is_null_safe() {
        assert_eq!(
            decode("a.x + 1; b.y; 'same'").unwrap(),
            "CASE WHEN (a.x + 1) = b.y OR ((a.x + 1) IS NULL AND b.y IS NULL) THEN 'same' END"
        );
    }

    #[test]
    fn too_few_arguments() {
        assert_eq!(decode("x; 1"), None);
    }
}
