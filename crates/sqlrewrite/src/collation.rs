//! Comparisons of text that MySQL makes under a collation and PostgreSQL makes exactly.
//!
//! MySQL compares strings under their column's collation, and its default ones ignore case and
//! trailing spaces (`'OPEN ' = 'open'`); PostgreSQL's default collation compares them character
//! by character. A CHECK that compares a text column (`status IN ('open', 'closed')`) converts
//! without an error, but refuses rows in the target that the source accepted. The converter
//! leaves such a CHECK out and says why: what this finds.

use crate::ast::{builtin_name, is_comparison};
use crate::error::RewriteError;
use crate::parse;
use crate::rewrite::{guarded, Context};
use crate::typing::{ColumnTypes, Scopes};
use migrate_core::SourceDialect;
use sqlparser::ast::{
    BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value, Visit,
    Visitor,
};
use std::ops::ControlFlow;

/// Calls that return a number or a boolean, not text, whatever their arguments: text inside
/// them (`CHAR_LENGTH(name) > 2`) is not compared as text.
const NOT_TEXT: &[&str] = &[
    "ASCII",
    "BIT_LENGTH",
    "CHARACTER_LENGTH",
    "CHAR_LENGTH",
    "CRC32",
    "JSON_CONTAINS",
    "JSON_CONTAINS_PATH",
    "JSON_DEPTH",
    "JSON_LENGTH",
    "JSON_VALID",
    "LENGTH",
    "OCTET_LENGTH",
    "ORD",
];

/// Calls that compare their text arguments under the collation themselves.
const COMPARING: &[&str] = &["FIELD", "FIND_IN_SET", "INSTR", "LOCATE", "STRCMP"];

/// The parts of MySQL expression `sql` (a CHECK condition of [`Context::table`]) that compare
/// text under a collation, as written: comparisons, `IN`, `BETWEEN`, `LIKE`, `REGEXP` and the
/// comparing functions (`LOCATE`, `STRCMP`...) where an operand is a text column (or text made
/// from one: `LOWER(name)`, `CONCAT(a, b)`). Column types come from [`Context::types`]; an
/// operand of unknown type is not taken for text. Other sources compare text exactly: none.
pub fn collated_comparisons(
    sql: &str,
    from: SourceDialect,
    context: &Context,
) -> Result<Vec<String>, RewriteError> {
    if from != SourceDialect::Mysql {
        return Ok(Vec::new());
    }
    let (Some(types), Some(table)) = (context.types.as_deref(), context.table.as_deref()) else {
        return Ok(Vec::new());
    };
    guarded(sql, || {
        let expr = parse::expression(sql, from)?;
        let scopes = Scopes::of_table(table);
        let mut finder = Comparisons {
            types,
            scopes: &scopes,
            found: Vec::new(),
        };
        let _ = expr.visit(&mut finder);
        Ok(finder.found)
    })
}

/// For a view: `expr` itself (not its parts) when it compares or searches text under a
/// collation, as [`collated_comparisons`] finds it, but for a comparison with literals that
/// hold no letters (`code = '042'`, `code IN ('1', '2')`), where case and accents play no part.
pub(crate) fn compared_text(expr: &Expr, types: &ColumnTypes, scopes: &Scopes) -> Option<String> {
    // Numbers too: MySQL compares text with a number as numbers.
    let is_letterless = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(text) => !text.chars().any(char::is_alphabetic),
            Value::Number(..) => true,
            _ => false,
        },
        Expr::UnaryOp { expr, .. } => {
            matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..)))
        }
        _ => false,
    };
    match expr {
        Expr::BinaryOp { left, op, right }
            if is_comparison(op) && (is_letterless(left) || is_letterless(right)) =>
        {
            return None
        }
        Expr::InList { list, .. } if list.iter().all(is_letterless) => return None,
        // Converted to PostgreSQL's `~*`, which ignores case too (Redshift's is reported).
        Expr::RLike { .. } => return None,
        _ => {}
    }
    let mut finder = Comparisons {
        types,
        scopes,
        found: Vec::new(),
    };
    let _ = finder.pre_visit_expr(expr);
    finder.found.pop()
}

struct Comparisons<'t> {
    types: &'t ColumnTypes,
    scopes: &'t Scopes,
    found: Vec<String>,
}

impl Comparisons<'_> {
    /// Whether `expr` is text the source holds under a column's collation.
    fn is_text(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => self
                .scopes
                .column_type(self.types, expr)
                .is_some_and(migrate_core::LogicalType::is_character),
            Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => self.is_text(inner),
            Expr::Substring { expr, .. } | Expr::Trim { expr, .. } => self.is_text(expr),
            Expr::Cast {
                expr, data_type, ..
            } => is_text_type(data_type) && self.is_text(expr),
            Expr::Case {
                conditions,
                else_result,
                ..
            } => {
                conditions.iter().any(|when| self.is_text(&when.result))
                    || else_result.as_deref().is_some_and(|e| self.is_text(e))
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::StringConcat,
                right,
            } => self.is_text(left) || self.is_text(right),
            // A user-defined function (quoted or qualified) of text is taken for text.
            Expr::Function(function) => {
                builtin_name(function).is_none_or(|name| {
                    !NOT_TEXT.contains(&name.as_str()) && !COMPARING.contains(&name.as_str())
                }) && arguments(&function.args).any(|arg| self.is_text(arg))
            }
            _ => false,
        }
    }
}

/// The argument expressions of a call.
fn arguments(args: &FunctionArguments) -> impl Iterator<Item = &Expr> {
    let list = match args {
        FunctionArguments::List(list) => list.args.as_slice(),
        _ => &[],
    };
    list.iter().filter_map(|arg| match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(expr))
        | FunctionArg::Named {
            arg: FunctionArgExpr::Expr(expr),
            ..
        } => Some(expr),
        _ => None,
    })
}

fn is_text_type(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Char(_)
            | DataType::Character(_)
            | DataType::Varchar(_)
            | DataType::CharacterVarying(_)
            | DataType::Nvarchar(_)
            | DataType::Text
            | DataType::String(_)
    )
}

impl Visitor for Comparisons<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        let compares_text = match expr {
            Expr::BinaryOp { left, op, right } => {
                is_comparison(op) && (self.is_text(left) || self.is_text(right))
            }
            Expr::InList { expr, list, .. } => {
                self.is_text(expr) || list.iter().any(|item| self.is_text(item))
            }
            Expr::Between {
                expr, low, high, ..
            } => self.is_text(expr) || self.is_text(low) || self.is_text(high),
            Expr::Like { expr, pattern, .. }
            | Expr::ILike { expr, pattern, .. }
            | Expr::RLike { expr, pattern, .. }
            | Expr::SimilarTo { expr, pattern, .. } => self.is_text(expr) || self.is_text(pattern),
            Expr::Position { expr, r#in } => self.is_text(expr) || self.is_text(r#in),
            Expr::Function(function) => {
                builtin_name(function).is_some_and(|name| COMPARING.contains(&name.as_str()))
                    && arguments(&function.args).any(|arg| self.is_text(arg))
            }
            _ => false,
        };
        if compares_text {
            self.found.push(expr.to_string());
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{LengthUnit, LogicalType};
    use std::sync::Arc;

    fn found(sql: &str) -> Vec<String> {
        collated_comparisons(sql, SourceDialect::Mysql, &typed()).unwrap()
    }

    /// Table `t`'s column types: text `status` and `code`, integer `n`, date `d`.
    fn typed() -> Context {
        let mut types = ColumnTypes::new();
        let varchar = LogicalType::Varchar {
            length: 10,
            unit: LengthUnit::Char,
        };
        types.insert("t", "status", varchar.clone());
        types.insert("t", "code", varchar);
        types.insert("t", "n", LogicalType::Integer);
        types.insert("t", "d", LogicalType::Date);
        Context {
            types: Some(Arc::new(types)),
            table: Some("t".into()),
            ..Context::default()
        }
    }

    #[test]
    fn text_compared_under_a_collation_is_found() {
        for sql in [
            "`status` in ('open','closed')",
            "status = 'open'",
            "'open' <> t.status",
            "status between 'a' and 'm'",
            "status like 'o%'",
            "status regexp '^o'",
            "lower(status) = 'open'",
            "concat(status, code) > 'a'",
            "locate('x', status) > 0",
            "strcmp(status, code) = 0",
            "n > 0 and status not in ('x')",
            "status collate utf8mb4_bin = 'open'",
        ] {
            assert!(!found(sql).is_empty(), "{sql}");
        }
        assert_eq!(
            found("n > 0 and (status = 'a' or code = 'b')"),
            ["status = 'a'", "code = 'b'"]
        );
    }

    #[test]
    fn numbers_dates_and_lengths_are_not() {
        for sql in [
            "n > 0",
            "`n` between 1 and 10",
            "d >= '2020-01-01'",
            "char_length(status) > 2",
            "length(trim(code)) <= 5",
            "status is not null",
            "json_valid(status)",
            "unknown_column = 'x'",
            "n in (1, 2)",
        ] {
            assert_eq!(found(sql), Vec::<String>::new(), "{sql}");
        }
    }

    #[test]
    fn other_sources_compare_exactly() {
        assert!(!found("status = 'open'").is_empty());
        assert!(
            collated_comparisons("status = 'open'", SourceDialect::Postgres, &typed())
                .unwrap()
                .is_empty()
        );
    }
}
