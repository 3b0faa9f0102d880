//! `view_schema`: Oracle reads the unqualified table names of a view in the view's own schema
//! (then through public synonyms); the target would read them through its search path, where the
//! view's schema usually is not. They are qualified with the view's schema, except the names of
//! common table expressions and the names of objects written without a schema (public synonyms,
//! tables a script creates unqualified), which the target finds through its search path.

use super::Ctx;
use sqlparser::ast::{Ident, ObjectNamePart, Query, TableFactor};

pub(crate) const NAME: &str = "view_schema";

/// Notes the query's common table expressions: a table factor that names one is not a table.
pub(crate) fn note_ctes(query: &Query, ctx: &mut Ctx) {
    if ctx.view_schema.is_none() {
        return;
    }
    if let Some(with) = &query.with {
        ctx.cte_names.extend(
            with.cte_tables
                .iter()
                .map(|cte| cte.alias.name.value.to_lowercase()),
        );
    }
}

pub(crate) fn qualify_in_view_schema(table: &mut TableFactor, ctx: &mut Ctx) {
    let Some(schema) = &ctx.view_schema else {
        return;
    };
    // A table function (`TABLE(f(x))`) has arguments; only plain names are qualified.
    let TableFactor::Table {
        name, args: None, ..
    } = table
    else {
        return;
    };
    let [ObjectNamePart::Identifier(table_name)] = name.0.as_slice() else {
        return;
    };
    let lower = table_name.value.to_lowercase();
    let dual = table_name.quote_style.is_none() && lower == "dual";
    if dual || ctx.cte_names.contains(&lower) || ctx.unqualified_names.contains(&lower) {
        return;
    }
    let schema = Ident {
        value: schema.value.clone(),
        quote_style: schema.quoted.then_some('"'),
        span: table_name.span,
    };
    name.0.insert(0, ObjectNamePart::Identifier(schema));
    ctx.log.applied(NAME);
}

#[cfg(test)]
mod tests {
    use crate::{rewrite_query_in, Context};
    use migrate_core::{Ident, SourceDialect, TargetDialect};
    use std::sync::Arc;

    #[test]
    fn unqualified_tables_are_read_in_the_view_schema() {
        let context = Context {
            view_schema: Some(Ident::new("HR")),
            unqualified_names: Arc::new(["emp_syn".to_string()].into_iter().collect()),
            ..Context::default()
        };
        let sql = "WITH w AS (SELECT id FROM emp) SELECT w.id FROM w, other.t, emp_syn, dual, \"Mixed\" m";
        let out = rewrite_query_in(
            sql,
            SourceDialect::Oracle,
            TargetDialect::Postgres,
            &context,
        )
        .unwrap();
        assert_eq!(
            out.sql,
            "WITH w AS (SELECT id FROM hr.emp) SELECT w.id FROM w, other.t, emp_syn, dual, hr.mixed m"
        );
        assert!(out.rewrites.contains(&super::NAME));
    }
}
