//! Translates SQL expressions and queries from a source dialect (Oracle, MySQL, Hive, PostgreSQL)
//! into Redshift or PostgreSQL.
//!
//! The DDL converter uses it for column defaults, generated columns, CHECK conditions and view
//! queries. One-to-one function mappings are data (`dialect-maps/functions/*.toml`); what cannot
//! be data is a small named rewrite (listed in [`NAMED_REWRITES`]). Whatever cannot be converted,
//! or converts with a difference, is returned as a [`Note`]: never dropped silently.
//!
//! ```
//! use migrate_core::{SourceDialect, TargetDialect};
//! let out = migrate_sqlrewrite::rewrite_expression("NVL(bonus, 0)", SourceDialect::Oracle, TargetDialect::Redshift).unwrap();
//! assert_eq!(out.sql, "COALESCE(bonus, 0)");
//! assert_eq!(out.rewrites, ["oracle.nvl"]);
//! ```

mod ast;
mod collation;
mod error;
mod funcmap;
mod ident;
mod output;
mod parse;
mod rewrite;
mod typing;

pub use collation::collated_comparisons;
pub use error::RewriteError;
pub use ident::{free_target_ident, stored_ident, target_ident, target_name, TargetIdent};
pub use output::{Note, Rewritten};
pub use rewrite::{
    query_relations, rewrite_expression, rewrite_expression_in, rewrite_query, rewrite_query_in,
    CastTypes, Context, MAX_INPUT_BYTES, NAMED_REWRITES,
};
pub use typing::ColumnTypes;

/// Every function-map rule id of `from`, for coverage checks and documentation.
pub fn function_rule_ids(
    from: migrate_core::SourceDialect,
) -> Result<Vec<&'static str>, RewriteError> {
    let mut ids: Vec<&'static str> = funcmap::function_map(from)?.ids().collect();
    ids.sort_unstable();
    Ok(ids)
}
