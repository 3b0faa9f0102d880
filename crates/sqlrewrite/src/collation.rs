//! Comparisons of text that MySQL makes under a collation and PostgreSQL makes exactly.
//!
//! MySQL compares strings under their column's collation, and its default ones ignore case and
//! trailing spaces (`'OPEN ' = 'open'`); PostgreSQL's default collation compares them character
//! by character. A CHECK that compares a text column (`status IN ('open', 'closed')`) converts
//! without an error, but refuses rows in the target that the source accepted. The converter
//! leaves such a CHECK out and says why: what this finds. A column whose collation compares as
//! PostgreSQL does (see [`compares_exactly`]) is compared exactly in both.

use crate::ast::{builtin_name, is_comparison, number_literal, MYSQL_NUMBER_FUNCTIONS};
use crate::error::RewriteError;
use crate::parse;
use crate::rewrite::{guarded, Context};
use crate::typing::{ColumnTypes, Scopes};
use migrate_core::{LogicalType, SourceDialect};
use sqlparser::ast::{
    BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value, Visit,
    Visitor,
};
use std::ops::ControlFlow;

/// Calls that return a boolean (as a number), not text, whatever their arguments, besides
/// [`MYSQL_NUMBER_FUNCTIONS`]: text inside them (`CHAR_LENGTH(name) > 2`) is not compared as
/// text.
const BOOLEAN_FUNCTIONS: &[&str] = &["JSON_CONTAINS", "JSON_CONTAINS_PATH", "JSON_VALID"];

/// Calls that compare their text arguments under the collation themselves.
const COMPARING: &[&str] = &["FIELD", "FIND_IN_SET", "INSTR", "LOCATE", "STRCMP"];

/// The parts of MySQL expression `sql` (a CHECK condition of [`Context::table`]) that compare
/// text under a collation, as written: comparisons, `IN`, `BETWEEN`, `LIKE`, `REGEXP` and the
/// comparing functions (`LOCATE`, `STRCMP`...) where an operand is a text column (or text made
/// from one: `LOWER(name)`, `CONCAT(a, b)`). Column types come from [`Context::types`]; an
/// operand of unknown type is not taken for text, one of unknown collation is (MySQL's defaults
/// ignore case). A column whose collation compares case and trailing spaces
/// ([`Agreement::CaseAndTrailingSpaces`]) is compared exactly. Other sources compare text
/// exactly: none.
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
            agreement: Agreement::CaseAndTrailingSpaces,
            found: Vec::new(),
        };
        let _ = expr.visit(&mut finder);
        Ok(finder.found)
    })
}

/// What a view's comparison of text may find otherwise in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Difference {
    /// Case (and accents): the column's collation ignores them.
    Case,
    /// Trailing spaces only: the column's collation is case-sensitive but PAD SPACE
    /// (`utf8mb4_bin`, `latin1_general_cs`), so `'Abc ' = 'Abc'` in MySQL.
    TrailingSpaces,
}

/// For a view: `expr` itself (not its parts) when it compares or searches text under a
/// collation, as [`collated_comparisons`] finds it, but for case not in a comparison with
/// literals that hold no letters (`code = '042'`, `code IN ('1', '2')`), where case and accents
/// play no part. Columns whose collation is case-sensitive ([`Agreement::Case`]) are found only
/// where they are compared with `=`, `<`, `IN` or `BETWEEN` (which pad, where `LIKE` and
/// `LOCATE` do not) and their collation is PAD SPACE ([`Agreement::TrailingSpaces`]), with
/// letterless literals too; the others' trailing spaces are said in their case warning.
pub(crate) fn compared_text(
    expr: &Expr,
    types: &ColumnTypes,
    scopes: &Scopes,
) -> Option<(String, Difference)> {
    // Numbers too: MySQL compares text with a number as numbers.
    let is_letterless = |e: &Expr| {
        number_literal(e).is_some()
            || matches!(e, Expr::Value(v)
                if matches!(&v.value, Value::SingleQuotedString(text)
                    if !text.chars().any(char::is_alphabetic)))
    };
    // Case plays no part in a comparison with literals without letters; trailing spaces do.
    let letterless = match expr {
        Expr::BinaryOp { left, op, right } => {
            is_comparison(op) && (is_letterless(left) || is_letterless(right))
        }
        Expr::InList { list, .. } => list.iter().all(is_letterless),
        _ => false,
    };
    let pads = match expr {
        // Converted to PostgreSQL's `~*` or `~`, as the collation says (Redshift's is reported).
        Expr::RLike { .. } => return None,
        Expr::BinaryOp { op, .. } => is_comparison(op),
        Expr::InList { .. } | Expr::Between { .. } => true,
        _ => false,
    };
    let find = |agreement| {
        let mut finder = Comparisons {
            types,
            scopes,
            agreement,
            found: Vec::new(),
        };
        let _ = finder.pre_visit_expr(expr);
        finder.found.pop()
    };
    if let Some(found) = find(Agreement::Case) {
        // A case-insensitive column: with letterless literals, left unreported (its trailing
        // spaces too, which its case warning would say).
        return (!letterless).then_some((found, Difference::Case));
    }
    if !pads {
        return None;
    }
    let found = find(Agreement::TrailingSpaces)?;
    Some((found, Difference::TrailingSpaces))
}

/// Whether MySQL compares or searches `expr` with case: a column whose collation is
/// case-sensitive, or `x COLLATE` such a collation (see [`compares_exactly`]). Anything else
/// (another column, a literal, an unknown collation) is searched under a case-insensitive one,
/// MySQL's default.
pub(crate) fn case_sensitive(expr: &Expr, types: Option<&ColumnTypes>, scopes: &Scopes) -> bool {
    let exact = |collation: &str| compares_exactly(collation, Agreement::Case);
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => types
            .and_then(|types| scopes.referenced(types, expr))
            .and_then(|column| column.collation.as_deref())
            .is_some_and(exact),
        Expr::Collate { collation, .. } => collation
            .0
            .last()
            .and_then(|part| part.as_ident())
            .is_some_and(|name| exact(&name.value)),
        Expr::Nested(inner) => case_sensitive(inner, types, scopes),
        _ => false,
    }
}

/// What the target's exact comparison of text must agree with the source's in, for the
/// difference to matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agreement {
    /// Case (and accents): a view's rows. Trailing spaces are left aside: they rarely end the
    /// text a view compares, and the view's warning is about case.
    Case,
    /// Case and trailing spaces too: a CHECK, which refuses the rows where they differ (MySQL's
    /// `'closed '` passes `status IN ('closed')` under `utf8mb4_bin`).
    CaseAndTrailingSpaces,
    /// Trailing spaces: a view's comparison of columns whose collation is case-sensitive. A
    /// CHAR column is left aside: MySQL drops its trailing spaces, PostgreSQL's `bpchar`
    /// comparison ignores them.
    TrailingSpaces,
}

/// Whether MySQL compares text under `collation` as PostgreSQL's default collation does, to the
/// extent of `agreement`. Case: binary collations (`utf8mb4_bin`, the `binary` character set)
/// and case- and accent-sensitive ones (`latin1_general_cs`, `utf8mb4_0900_as_cs`; not
/// `_ai_cs`). Trailing spaces: only NO PAD collations count them: `binary`, MariaDB's `_nopad_`
/// ones and MySQL 8's `_0900_` ones; the others (`utf8mb4_bin` too) take `'a '` for `'a'`.
fn compares_exactly(collation: &str, agreement: Agreement) -> bool {
    let collation = collation.to_ascii_lowercase();
    let case_sensitive = collation == "binary"
        || collation.ends_with("_bin")
        || (collation.ends_with("_cs") && !collation.ends_with("_ai_cs"));
    let counts_trailing_spaces =
        collation == "binary" || collation.contains("_nopad_") || collation.contains("_0900_");
    match agreement {
        Agreement::Case => case_sensitive,
        Agreement::CaseAndTrailingSpaces => case_sensitive && counts_trailing_spaces,
        Agreement::TrailingSpaces => counts_trailing_spaces,
    }
}

struct Comparisons<'t> {
    types: &'t ColumnTypes,
    scopes: &'t Scopes,
    agreement: Agreement,
    found: Vec<String>,
}

impl Comparisons<'_> {
    /// Whether `expr` is text the source compares under a collation that does not compare it
    /// exactly (see [`compares_exactly`]).
    fn is_text(&self, expr: &Expr) -> bool {
        self.is_collated_text(expr, true)
    }

    /// As [`Comparisons::is_text`]; `columns_collation`: false where the text of columns is
    /// compared under another collation than theirs, whatever it is (in a CAST).
    fn is_collated_text(&self, expr: &Expr, columns_collation: bool) -> bool {
        let is_text = |expr| self.is_collated_text(expr, columns_collation);
        match expr {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => self
                .scopes
                .referenced(self.types, expr)
                .is_some_and(|column| {
                    column.data_type.is_character()
                        && !(self.agreement == Agreement::TrailingSpaces
                            && matches!(column.data_type, LogicalType::Char { .. }))
                        && !(columns_collation
                            && column
                                .collation
                                .as_deref()
                                .is_some_and(|c| compares_exactly(c, self.agreement)))
                }),
            Expr::Collate { expr, collation } => {
                let exact = collation
                    .0
                    .last()
                    .and_then(|part| part.as_ident())
                    .is_some_and(|name| compares_exactly(&name.value, self.agreement));
                !exact && self.is_collated_text(expr, false)
            }
            Expr::Nested(inner) => is_text(inner),
            Expr::Substring { expr, .. } | Expr::Trim { expr, .. } => is_text(expr),
            // MySQL's CAST to CHAR gives text under the connection's collation (a view's is saved
            // with it: `utf8mb3_general_ci` in mariadb-dump's views), whatever the column's.
            Expr::Cast {
                expr, data_type, ..
            } => is_text_type(data_type) && self.is_collated_text(expr, false),
            Expr::Case {
                conditions,
                else_result,
                ..
            } => {
                conditions.iter().any(|when| is_text(&when.result))
                    || else_result.as_deref().is_some_and(is_text)
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::StringConcat,
                right,
            } => is_text(left) || is_text(right),
            // A user-defined function (quoted or qualified) of text is taken for text.
            Expr::Function(function) => {
                builtin_name(function).is_none_or(|name| {
                    !MYSQL_NUMBER_FUNCTIONS.contains(&name.as_str())
                        && !BOOLEAN_FUNCTIONS.contains(&name.as_str())
                }) && arguments(&function.args).any(is_text)
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

/// A text type of a cast (`CHAR`, `VARCHAR`, `TEXT`, Hive's `STRING`...).
pub(crate) fn is_text_type(data_type: &DataType) -> bool {
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

    /// Table `t`'s column types: text `status` and `code` (of no named collation), integer `n`,
    /// date `d`, and text of the collation each other column is named after.
    fn typed() -> Context {
        let mut types = ColumnTypes::new();
        let varchar = LogicalType::Varchar {
            length: 10,
            unit: LengthUnit::Char,
        };
        types.insert("t", "status", varchar.clone());
        types.insert("t", "code", varchar.clone());
        types.insert("t", "n", LogicalType::Integer);
        types.insert("t", "d", LogicalType::Date);
        for collation in [
            "utf8mb4_bin",
            "utf8mb4_nopad_bin",
            "latin1_general_cs",
            "utf8mb4_0900_as_cs",
            "utf8mb4_uca1400_ai_cs",
            "utf8mb4_general_ci",
            "binary",
        ] {
            types.insert_collated("t", collation, varchar.clone(), Some(collation));
        }
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
            "year(status) > 2020",
            "round(code) = 1",
            "unknown_column = 'x'",
            "n in (1, 2)",
        ] {
            assert_eq!(found(sql), Vec::<String>::new(), "{sql}");
        }
    }

    /// A CHECK on a column that compares case and trailing spaces as PostgreSQL does is not
    /// found; `utf8mb4_bin` and `latin1_general_cs` take `'x '` for `'x'`, so it is.
    #[test]
    fn checks_of_columns_compared_exactly_are_not_found() {
        for sql in [
            "utf8mb4_nopad_bin in ('open', 'closed')",
            "utf8mb4_0900_as_cs like 'o%'",
            "`binary` = 'open'",
            "lower(utf8mb4_nopad_bin) = 'open'",
            "status collate utf8mb4_nopad_bin = 'open'",
        ] {
            assert_eq!(found(sql), Vec::<String>::new(), "{sql}");
        }
        for sql in [
            "utf8mb4_bin in ('open', 'closed')",
            "latin1_general_cs = 'open'",
            "utf8mb4_uca1400_ai_cs = 'open'",
            "utf8mb4_general_ci = 'open'",
            "utf8mb4_nopad_bin = status",
            // Under the connection's collation, or the one named.
            "cast(utf8mb4_nopad_bin as char) = 'open'",
            "utf8mb4_nopad_bin collate utf8mb4_general_ci = 'open'",
        ] {
            assert!(!found(sql).is_empty(), "{sql}");
        }
    }

    /// A view comparing a column whose collation is case-sensitive is warned about for the
    /// trailing spaces a PAD SPACE one ignores in `=` (not in `LIKE`), and not for a NO PAD one.
    #[test]
    fn views_comparing_case_sensitive_columns_are_found_for_trailing_spaces() {
        let context = typed();
        let types = context.types.as_deref().unwrap();
        let compares = |sql: &str| {
            let expr = parse::expression(sql, SourceDialect::Mysql).unwrap();
            compared_text(&expr, types, &Scopes::of_table("t")).map(|(_, difference)| difference)
        };
        for sql in [
            "latin1_general_cs like 'H%'",
            "locate('H', t.utf8mb4_bin)",
            "utf8mb4_nopad_bin between 'a' and 'm'",
            "utf8mb4_0900_as_cs = 'Hello'",
        ] {
            assert_eq!(compares(sql), None, "{sql}");
        }
        for sql in [
            "t.utf8mb4_bin = 'Hello'",
            "latin1_general_cs in ('X', 'Y')",
            "utf8mb4_bin between 'a' and 'm'",
        ] {
            assert_eq!(compares(sql), Some(Difference::TrailingSpaces), "{sql}");
        }
        for sql in [
            "status = 'Hello'",
            "utf8mb4_general_ci = 'Hello'",
            "utf8mb4_uca1400_ai_cs = 'Hello'",
            "utf8mb4_bin = status",
        ] {
            assert_eq!(compares(sql), Some(Difference::Case), "{sql}");
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
