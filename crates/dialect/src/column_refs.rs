//! Column references in a table's expressions (CHECK conditions, defaults, index keys) to columns
//! the converter writes under another name (their names collide in the target). The rewriter
//! knows only source names, which are ambiguous in the target (`"Qty"` and `qty` both become
//! `qty`), so each reference is replaced by a placeholder before rewriting, and the placeholder
//! by the column's target name after. A PostgreSQL domain's CHECK refers to the column of the
//! domain as `VALUE`: [`domain_checks_of_column`] writes its CHECKs as CHECKs of the column.

use crate::cursor::{source_ident, tokenizer_dialect};
use crate::typemap::TypeRef;
use migrate_core::{
    Constraint, ConstraintKind, Finding, Ident, LogicalType, QualifiedName, Severity,
    SourceDialect, TargetDialect,
};
use migrate_sqlrewrite::target_ident;
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

/// The CHECK constraint a column of a PostgreSQL domain gets from the domain's `check` (a
/// condition on `VALUE`): each `VALUE` (a name, not a string or a function) becomes `column`,
/// written as PostgreSQL reads it (quoted when it is a keyword: `"user"`, not the `USER`
/// function). A named check is named `<table>_<column>_<check>`, so that two columns of a
/// table don't collide; the converter cuts it to the target's limit and gives a name taken
/// twice a suffix, as for any constraint (`identifier.truncated`, `constraint.renamed`). An
/// unnamed one is left to the target to name. `None` when `check` is no CHECK or its condition
/// can't be tokenized.
fn domain_check_on_column(
    check: &Constraint,
    table: &QualifiedName,
    column: &Ident,
) -> Option<Constraint> {
    let ConstraintKind::Check(condition) = &check.kind else {
        return None;
    };
    let tokenizer = tokenizer_dialect(SourceDialect::Postgres);
    let tokens = Tokenizer::new(tokenizer.as_ref(), condition)
        .tokenize()
        .ok()?;
    let value = Ident::new("value");
    let column_sql = column_sql(column);
    let significant = |token: &&Token| !matches!(token, Token::Whitespace(_));
    let mut text = String::with_capacity(condition.len());
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens[i + 1..].iter().find(significant);
        // `(VALUE).x` names a field of the value; `x.value` a field or column of something else.
        let previous = tokens[..i].iter().rev().find(significant);
        match token {
            Token::Word(word)
                if next != Some(&Token::LParen)
                    && previous != Some(&Token::Period)
                    && source_ident(
                        word.value.clone(),
                        word.quote_style,
                        SourceDialect::Postgres,
                    )
                    .matches(&value) =>
            {
                text.push_str(&column_sql);
            }
            _ => text.push_str(&token.to_string()),
        }
    }
    let name = check.name.as_ref().map(|name| Ident {
        value: format!("{}_{}_{}", table.name.value, column.value, name.value),
        quoted: table.name.quoted || column.quoted || name.quoted,
    });
    Some(Constraint {
        name,
        kind: ConstraintKind::Check(text),
        ..check.clone()
    })
}

/// `column` as PostgreSQL reads it in a condition: a quoted name is exact; an unquoted one is
/// folded as PostgreSQL folds it, and quoted when it is a reserved word or needs quotes.
fn column_sql(column: &Ident) -> String {
    match column.quoted {
        true => column.to_string(),
        false => target_ident(&column.value, false, TargetDialect::Postgres).sql,
    }
}

/// The CHECK a column that is an array of a NOT NULL domain gets: none of its elements is NULL
/// (PostgreSQL refuses `'{1,NULL}'` in a `pos[]` column), named
/// `<table>_<column>_elements_not_null`. `array_position(column, NULL) IS NULL` says it of
/// one-dimensional arrays only, and fails on the others, which the column takes too
/// (`'{{1,2},{3,4}}'`); `array_to_string` flattens any dimensions and writes a NULL element as
/// its third argument, so the two strings differ exactly where an element is NULL (and a NULL
/// array passes, as in the source).
fn elements_not_null(table: &QualifiedName, column: &Ident) -> Constraint {
    let column_sql = column_sql(column);
    Constraint {
        name: Some(Ident {
            value: format!("{}_{}_elements_not_null", table.name.value, column.value),
            quoted: table.name.quoted || column.quoted,
        }),
        kind: ConstraintKind::Check(format!(
            "array_to_string({column_sql}, ',', '0') = array_to_string({column_sql}, ',', '1')"
        )),
        state: Default::default(),
        index: Default::default(),
    }
}

/// The type a column of a PostgreSQL domain has in the target, which decides what it gets of
/// the domain's CHECKs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainColumnType {
    /// The domain's base type: its CHECKs become CHECKs of the column.
    Base,
    /// An array of the domain: PostgreSQL checks each element, which no CHECK of the column
    /// says as simply.
    Array,
    /// Text, though the domain's base type is not a text type: the converter could not map it
    /// (a composite type), or the target holds it as its text form (`inet`, a range,
    /// `tsvector`). The CHECKs, written for that type (`family(VALUE) = 4`,
    /// `NOT isempty(VALUE)`), may not apply to text, and PostgreSQL would then refuse the whole
    /// table.
    Unmapped,
}

/// PostgreSQL's text types, and enums (text in the target too): a CHECK written for one of
/// them applies to the text column a domain over it becomes.
const TEXT_TYPES: &[&str] = &[
    "TEXT",
    "VARCHAR",
    "CHARACTER VARYING",
    "CHAR",
    "CHARACTER",
    "BPCHAR",
    "\"CHAR\"",
    "NAME",
    "CITEXT",
    "ENUM",
];

impl DomainColumnType {
    /// What a column of a domain over `base` (`None`: a type that could not be read) is of it:
    /// `array` says whether the column is an array of the domain, `mapped` is the column's
    /// canonical type.
    pub fn of(base: Option<&TypeRef>, array: bool, mapped: &LogicalType) -> DomainColumnType {
        let text_base = base.is_some_and(|base| TEXT_TYPES.contains(&base.name.as_str()));
        if array {
            DomainColumnType::Array
        } else if mapped.is_character() && !text_base {
            DomainColumnType::Unmapped
        } else {
            DomainColumnType::Base
        }
    }
}

/// What a column of a PostgreSQL domain gets from the domain's CHECKs: the CHECKs of its table
/// ([`domain_check_on_column`]), and a `constraint.check-dropped` finding for each one it
/// can't get. `domain` is the domain's name, `checks` its CHECKs with those of the domains it
/// is over, `not_null` whether it or one of those is NOT NULL, and `column_type` what the
/// column is of it ([`DomainColumnType::of`]): an array of it, or text in place of another
/// type, gets none of the CHECKs, which is reported; an array of it gets its NOT NULL as a
/// CHECK on the elements ([`elements_not_null`]). Used for scripts and live sources alike;
/// the findings have no location.
pub fn domain_checks_of_column(
    table: &QualifiedName,
    column: &Ident,
    domain: &str,
    checks: &[Constraint],
    not_null: bool,
    column_type: DomainColumnType,
) -> (Vec<Constraint>, Vec<Finding>) {
    let object = format!("{}.{}", table, column);
    let dropped = |message: String, action: &str| {
        Finding::new(
            Severity::Warning,
            "constraint.check-dropped",
            &object,
            message,
            action,
        )
    };
    match column_type {
        DomainColumnType::Base => {}
        DomainColumnType::Array => {
            let carried = not_null.then(|| elements_not_null(table, column));
            let finding = (!checks.is_empty()).then(|| dropped(
                format!("the column is an array of the domain {domain}, whose CHECK constraints apply to each element: they are not carried to the column"),
                "validate the elements in the loading process, or add a CHECK on the column's elements by hand",
            ));
            return (carried.into_iter().collect(), finding.into_iter().collect());
        }
        _ if checks.is_empty() => return (Vec::new(), Vec::new()),
        DomainColumnType::Unmapped => {
            let conditions: Vec<String> = checks
                .iter()
                .filter_map(|check| match &check.kind {
                    ConstraintKind::Check(condition) => Some(format!("CHECK ({condition})")),
                    _ => None,
                })
                .collect();
            let finding = dropped(
                format!("the column is text, as the target has no equivalent of the base type of its domain {domain}, and the domain's {}, written for that type, may not apply to text: not carried to the column", conditions.join(", ")),
                "validate the values in the loading process, or choose the column's type by hand and add the CHECK to it",
            );
            return (Vec::new(), vec![finding]);
        }
    }
    let mut carried = Vec::new();
    let mut findings = Vec::new();
    for check in checks {
        match (domain_check_on_column(check, table, column), &check.kind) {
            (Some(check), _) => carried.push(check),
            (None, ConstraintKind::Check(condition)) => findings.push(dropped(
                format!("CHECK ({condition}) of the column's domain {domain} could not be read, so it is not carried to the column"),
                "validate the values in the loading process, or add the CHECK to the column by hand",
            )),
            // Not a CHECK: a domain has no other constraint that a column would lose.
            (None, _) => {}
        }
    }
    (carried, findings)
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

    #[test]
    fn a_domain_check_becomes_a_check_of_the_column() {
        let check = Constraint {
            name: Some(Ident::new("year_check")),
            kind: ConstraintKind::Check(
                "VALUE >= 1901 AND value <> 'VALUE' AND length(\"value\"::text) < x.value".into(),
            ),
            state: migrate_core::ConstraintState::default(),
            index: Default::default(),
        };
        let table = QualifiedName::new(None, Ident::new("film"));
        let carried = domain_check_on_column(&check, &table, &Ident::quoted("Release Year"))
            .expect("the condition tokenizes");
        assert_eq!(
            carried.kind,
            ConstraintKind::Check(
                "\"Release Year\" >= 1901 AND \"Release Year\" <> 'VALUE' AND length(\"Release Year\"::text) < x.value".into()
            )
        );
        assert_eq!(
            carried.name,
            Some(Ident::quoted("film_Release Year_year_check"))
        );
        // An unquoted keyword is quoted, else PostgreSQL reads the `USER` function.
        let carried = domain_check_on_column(&check, &table, &Ident::new("user"))
            .expect("the condition tokenizes");
        assert_eq!(
            carried.kind,
            ConstraintKind::Check(
                "\"user\" >= 1901 AND \"user\" <> 'VALUE' AND length(\"user\"::text) < x.value"
                    .into()
            )
        );
    }
}
