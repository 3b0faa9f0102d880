//! `derived_table_alias`: Oracle, MySQL 8 and Hive accept a subquery in FROM without an alias;
//! Redshift and PostgreSQL 15 require one.

use super::Ctx;
use sqlparser::ast::{TableAlias, TableFactor};

pub(crate) const NAME: &str = "derived_table_alias";

pub(crate) fn derived_table_alias(table: &mut TableFactor, ctx: &mut Ctx) {
    if let TableFactor::Derived {
        alias: alias @ None,
        ..
    } = table
    {
        ctx.subqueries += 1;
        *alias = Some(TableAlias {
            explicit: true,
            name: sqlparser::ast::Ident::new(format!("subquery_{}", ctx.subqueries)),
            columns: Vec::new(),
            at: None,
        });
        ctx.log.applied(NAME);
    }
}
