//! Column references in a table's expressions (CHECK conditions, defaults, index keys) to columns
//! the converter writes under another name (their names collide in the target). The rewriter
//! knows only source names, which are ambiguous in the target (`"Qty"` and `qty` both become
//! `qty`), so each reference is replaced by a placeholder before rewriting, and the placeholder
//! by the column's target name after.

use crate::cursor::{source_ident, tokenizer_dialect};
use migrate_core::{Ident, SourceDialect};
use sqlparser::tokenizer::{Token, Tokenizer};

/// An expression with placeholders for renamed columns, and the target name of each.
pub(crate) struct HiddenColumns {
    pub text: String,
    placeholders: Vec<(String, String)>,
}

/// `expression` with every reference to a column that `renamed` gives a target name for replaced
/// by a placeholder; `None` when there is none (or the expression can't be tokenized: the
/// rewriter then reports it).
pub(crate) fn hide_renamed_columns(
    expression: &str,
    dialect: SourceDialect,
    renamed: impl Fn(&Ident) -> Option<String>,
) -> Option<HiddenColumns> {
    let tokenizer = tokenizer_dialect(dialect);
    let tokens = Tokenizer::new(tokenizer.as_ref(), expression)
        .tokenize()
        .ok()?;
    let mut placeholders: Vec<(String, String)> = Vec::new();
    let mut text = String::with_capacity(expression.len());
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens[i + 1..]
            .iter()
            .find(|t| !matches!(t, Token::Whitespace(_)));
        let target = match token {
            // A function's name is not a column.
            Token::Word(word) if next != Some(&Token::LParen) => {
                renamed(&source_ident(word.value.clone(), word.quote_style, dialect))
            }
            _ => None,
        };
        match target {
            Some(target) => {
                let placeholder = match placeholders.iter().find(|(_, t)| *t == target) {
                    Some((placeholder, _)) => placeholder.clone(),
                    None => {
                        let placeholder = format!("migrate_renamed_column_{}", placeholders.len());
                        placeholders.push((placeholder.clone(), target));
                        placeholder
                    }
                };
                text.push_str(&placeholder);
            }
            None => text.push_str(&token.to_string()),
        }
    }
    (!placeholders.is_empty()).then_some(HiddenColumns { text, placeholders })
}

impl HiddenColumns {
    /// The rewritten SQL with each placeholder (as written, or quoted) replaced by its column's
    /// target name.
    pub fn restore(&self, sql: &str) -> String {
        let mut sql = sql.to_string();
        // Longest first: `..._10` contains `..._1`.
        for (placeholder, target) in self.placeholders.iter().rev() {
            sql = sql.replace(&format!("\"{placeholder}\""), target);
            sql = replace_ignoring_case(&sql, placeholder, target);
        }
        sql
    }
}

/// `text` with every ASCII-case-insensitive occurrence of `from` (ASCII) replaced by `to`.
fn replace_ignoring_case(text: &str, from: &str, to: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (start, _) in lower.match_indices(from) {
        out.push_str(&text[rest..start]);
        out.push_str(to);
        rest = start + from.len();
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_to_renamed_columns_get_placeholders_and_back() {
        let renamed = |column: &Ident| (*column == Ident::new("qty")).then(|| "qty_2".to_string());
        let hidden = hide_renamed_columns(
            "(qty >= 0) AND \"Qty\" < qty + abs(qty)",
            SourceDialect::Postgres,
            renamed,
        )
        .expect("a renamed column is referenced");
        assert_eq!(
            hidden.text,
            "(migrate_renamed_column_0 >= 0) AND \"Qty\" < migrate_renamed_column_0 + abs(migrate_renamed_column_0)"
        );
        assert_eq!(
            hidden.restore(
                "((MIGRATE_RENAMED_COLUMN_0 >= 0) AND qty < \"migrate_renamed_column_0\")"
            ),
            "((qty_2 >= 0) AND qty < qty_2)"
        );
        assert!(hide_renamed_columns("\"Qty\" > 0", SourceDialect::Postgres, renamed).is_none());
    }
}
