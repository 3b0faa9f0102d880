//! `nvl2_to_case`: Oracle `NVL2(a, b, c)` has no target equivalent.

use crate::ast::{case, paren};
use sqlparser::ast::Expr;

pub(crate) const NAME: &str = "nvl2_to_case";

/// `NVL2(a, b, c)` -> `CASE WHEN a IS NOT NULL THEN b ELSE c END`; `None` unless there are exactly
/// three arguments.
pub(crate) fn nvl2_to_case(args: Vec<Expr>) -> Option<Expr> {
    let [tested, if_not_null, if_null]: [Expr; 3] = args.try_into().ok()?;
    Some(case(
        None,
        vec![(Expr::IsNotNull(Box::new(paren(tested))), if_not_null)],
        Some(if_null),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;
    use migrate_core::SourceDialect;

    fn args(sql: &str) -> Vec<Expr> {
        sql.split(';')
            .map(|arg| parse::expression(arg, SourceDialect::Oracle).unwrap())
            .collect()
    }

    #[test]
    fn becomes_case() {
        let out = nvl2_to_case(args("a + 1; 'yes'; 'no'")).unwrap();
        assert_eq!(
            out.to_string(),
            "CASE WHEN (a + 1) IS NOT NULL THEN 'yes' ELSE 'no' END"
        );
    }

    #[test]
    fn needs_three_arguments() {
        assert_eq!(nvl2_to_case(args("a; b")), None);
    }
}
