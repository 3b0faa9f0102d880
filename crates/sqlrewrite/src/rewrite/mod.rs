//! The rewrite passes. Each named rewrite is a small function in its own module; this module walks
//! the AST once calling them at the right node, then normalises identifiers in a second walk.

mod aggregate_filter;
mod casts;
mod concat_ws;
mod date_arithmetic;
mod date_format;
mod decode;
mod detect;
mod dual;
mod functions;
mod idents;
mod keep;
mod literals;
mod mysql;
mod mysql_arithmetic;
mod mysql_booleans;
mod mysql_functions;
mod mysql_interval;
mod mysql_json;
mod mysql_strings;
mod nvl2;
mod oracle_stats;
mod oracle_strings;
mod outer_join;
mod precedence;
mod renamed_table;
mod rownum;
mod sequence;
mod string_agg;
mod subquery_alias;
mod subscript;
mod timestampdiff;
mod trunc;
mod view_schema;

use crate::error::RewriteError;
use crate::funcmap::{function_map, FunctionMap};
use crate::output::{Log, Note, Rewritten};
use crate::parse;
use crate::typing::{ColumnTypes, Scopes};
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{Expr, Query, Select, TableFactor, ValueWithSpan, VisitMut, VisitorMut};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;

/// The names of the rewrites in code, as reported in [`Rewritten::rewrites`] (function-map rules
/// are reported by their ids).
pub const NAMED_REWRITES: &[&str] = &[
    decode::NAME,
    trunc::NAME,
    trunc::ROUND_NAME,
    date_arithmetic::NAME,
    nvl2::NAME,
    functions::BARE_NAME,
    outer_join::NAME,
    rownum::NAME,
    dual::NAME,
    mysql::LIMIT_NAME,
    mysql::GROUP_CONCAT_NAME,
    mysql::CONCAT_NAME,
    date_format::NAME,
    timestampdiff::NAME,
    concat_ws::NAME,
    mysql_interval::DAYS_NAME,
    mysql_interval::INTERVAL_NAME,
    mysql_interval::DATE_NAME,
    mysql_interval::CONDITION_NAME,
    mysql_arithmetic::DIVISION_NAME,
    mysql_arithmetic::DIV_NAME,
    mysql_arithmetic::ZERO_NAME,
    mysql_arithmetic::XOR_NAME,
    mysql_booleans::NAME,
    mysql_booleans::XOR_NAME,
    mysql_booleans::PIPES_NAME,
    mysql_functions::GREATEST_NAME,
    mysql_functions::SUBSTRING_NAME,
    mysql_functions::EXTRACT_NAME,
    mysql_functions::COLLATE_NAME,
    oracle_stats::NAME,
    oracle_strings::CONCAT_NAME,
    oracle_strings::SUBSTR_NAME,
    oracle_strings::INSTR_NAME,
    mysql_arithmetic::NULL_SAFE_NAME,
    mysql_arithmetic::REGEXP_NAME,
    mysql_arithmetic::UNSIGNED_NAME,
    mysql_arithmetic::DECIMAL_NAME,
    mysql_arithmetic::ROUND_NAME,
    mysql_strings::FIELD_NAME,
    mysql_strings::HEX_NAME,
    mysql_strings::SHA2_NAME,
    mysql_strings::COALESCE_NAME,
    mysql_strings::DATETIME_TEXT_NAME,
    mysql_json::NAME,
    subquery_alias::NAME,
    sequence::NAME,
    literals::NAME,
    literals::INTRODUCER_NAME,
    literals::CONVERSION_NAME,
    casts::USER_TYPE_NAME,
    casts::SOURCE_TYPE_NAME,
    subscript::NAME,
    subscript::FIELD_NAME,
    renamed_table::NAME,
    view_schema::NAME,
    aggregate_filter::NAME,
    keep::NAME,
    string_agg::STRING_AGG_NAME,
    string_agg::LISTAGG_NAME,
];

/// Longest input accepted. With the stack a rewrite runs on (64 MiB), it bounds the recursion of cloning and dropping the
/// tree of an operator chain (`a + b + ...`, which the parser builds in a loop).
pub const MAX_INPUT_BYTES: usize = 512 * 1024;

/// The stack a rewrite runs on when the caller's has less left: deep trees are cloned and
/// dropped recursively, and a debug build needs kilobytes per level. Reserved, not committed.
const STACK: usize = 64 * 1024 * 1024;

/// Translates one query (a view or materialized view body) from `from` to `to`.
pub fn rewrite_query(
    sql: &str,
    from: SourceDialect,
    to: TargetDialect,
) -> Result<Rewritten, RewriteError> {
    rewrite_query_in(sql, from, to, &Context::default())
}

/// [`rewrite_query`] knowing the types of the columns the query reads.
pub fn rewrite_query_in(
    sql: &str,
    from: SourceDialect,
    to: TargetDialect,
    context: &Context,
) -> Result<Rewritten, RewriteError> {
    translate(sql, from, to, context, parse::query, true, |_, _| {})
}

/// The tables and views a query reads (names of its common table expressions included), as
/// written: what a view depends on.
pub fn query_relations(
    sql: &str,
    from: SourceDialect,
) -> Result<Vec<sqlparser::ast::ObjectName>, RewriteError> {
    guarded(sql, || {
        let query = parse::query(sql, from)?;
        let mut names = Vec::new();
        let _ = sqlparser::ast::visit_relations(&query, |name| {
            names.push(name.clone());
            std::ops::ControlFlow::<()>::Continue(())
        });
        Ok(names)
    })
}

/// What the caller knows about the objects the SQL refers to.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Column types of the tables being converted.
    pub types: Option<Arc<ColumnTypes>>,
    /// For an expression: the table whose columns it refers to without a qualifier.
    pub table: Option<String>,
    /// User-defined types (PostgreSQL domains and enums) by lower-case unqualified name, with the
    /// target type that casts to them become: the target has no such types.
    pub user_types: Arc<HashMap<String, String>>,
    /// The source's type mapping, for the types of MySQL and Hive casts (`CAST(x AS DATETIME)`).
    /// Without it those casts are left as written.
    pub cast_types: Option<Arc<dyn CastTypes>>,
    /// Tables the converter writes under another name (their names collide in the target), with
    /// that name as target SQL (without the schema): views read them under it.
    pub renamed_tables: Vec<(migrate_core::QualifiedName, String)>,
    /// For a query: the schema its unqualified table names belong to, when the source reads them
    /// there rather than through the target's search path (an Oracle view's own schema).
    pub view_schema: Option<migrate_core::Ident>,
    /// Lower-case table names that resolve without a schema (tables, views and synonyms the
    /// converter writes unqualified, Oracle public synonyms among them): not qualified with
    /// [`Context::view_schema`].
    pub unqualified_names: Arc<HashSet<String>>,
    /// For an expression: it is a condition (a CHECK's, a partial index's), where MySQL takes a
    /// number, text or a date as true or false (`CHECK (qty)`).
    pub condition: bool,
}

/// Maps a type as the source writes it to the target's, through the converter's type maps.
pub trait CastTypes: std::fmt::Debug + Send + Sync {
    /// The target type for the source type `text` (`DECIMAL(10,2)`, `STRING`), with the notes of
    /// the mapping; `Err` says why there is none.
    fn target_type(&self, text: &str) -> Result<(String, Vec<Note>), String>;

    /// The target type of a canonical type (a Hive struct field's), `None` when it has none.
    fn logical_target(&self, ty: &LogicalType) -> Option<String>;

    /// Whether the source's type map keeps the type `text` as it is for a target of the source's
    /// engine (PostgreSQL's `"char"`): a cast to it is then mapped by [`CastTypes::target_type`],
    /// as a column of it is, rather than by name.
    fn keeps(&self, _text: &str) -> bool {
        false
    }
}

/// Translates one expression (a column default, generated column or CHECK condition).
pub fn rewrite_expression(
    sql: &str,
    from: SourceDialect,
    to: TargetDialect,
) -> Result<Rewritten, RewriteError> {
    rewrite_expression_in(sql, from, to, &Context::default())
}

/// [`rewrite_expression`] knowing the table the expression belongs to and its column types.
pub fn rewrite_expression_in(
    sql: &str,
    from: SourceDialect,
    to: TargetDialect,
    context: &Context,
) -> Result<Rewritten, RewriteError> {
    let whole: fn(&mut Expr, &mut Ctx) = match context.condition {
        true => mysql_booleans::whole_condition,
        false => |_, _| {},
    };
    translate(sql, from, to, context, parse::expression, false, whole)
}

/// Parses `sql` with `parse`, rewrites the tree and prints it: the body of both entry points.
/// `whole` is applied to the whole tree, as the source wrote it, before the rewrites.
fn translate<T: VisitMut + std::fmt::Display>(
    sql: &str,
    from: SourceDialect,
    to: TargetDialect,
    context: &Context,
    parse: fn(&str, SourceDialect) -> Result<T, RewriteError>,
    query: bool,
    whole: fn(&mut T, &mut Ctx),
) -> Result<Rewritten, RewriteError> {
    guarded(sql, || {
        let mut tree = parse(sql, from)?;
        let mut ctx = Ctx::new(from, to, context)?;
        ctx.query = query;
        whole(&mut tree, &mut ctx);
        run(&mut tree, &mut ctx);
        Ok(ctx.finish(tree.to_string()))
    })
}

pub(crate) fn guarded<T>(
    sql: &str,
    rewrite: impl FnOnce() -> Result<T, RewriteError>,
) -> Result<T, RewriteError> {
    if sql.len() > MAX_INPUT_BYTES {
        return Err(RewriteError::TooLarge {
            bytes: sql.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    stacker::maybe_grow(STACK, STACK, rewrite)
}

fn run<T: VisitMut>(node: &mut T, ctx: &mut Ctx) {
    // Neither visitor breaks: every gap becomes a note and the walk goes on.
    let _ = node.visit(&mut Rewriter { ctx: &mut *ctx });
    let _ = node.visit(&mut precedence::Precedence);
    let _ = node.visit(&mut idents::Normalise::new(ctx));
}

/// What every rewrite may read and report to.
pub(crate) struct Ctx {
    pub(crate) from: SourceDialect,
    pub(crate) to: TargetDialect,
    pub(crate) map: &'static FunctionMap,
    pub(crate) log: Log,
    /// Aliases given to unnamed subqueries so far.
    pub(crate) subqueries: usize,
    /// Column types of the converted tables, when the caller knows them.
    pub(crate) types: Option<Arc<ColumnTypes>>,
    /// Tables in scope of the expression being rewritten.
    pub(crate) scopes: Scopes,
    /// See [`Context::user_types`].
    pub(crate) user_types: Arc<HashMap<String, String>>,
    /// The source's type mapping for casts, when the caller has one.
    pub(crate) cast_types: Option<Arc<dyn CastTypes>>,
    /// See [`Context::renamed_tables`].
    pub(crate) renamed_tables: Vec<(migrate_core::QualifiedName, String)>,
    /// See [`Context::view_schema`].
    pub(crate) view_schema: Option<migrate_core::Ident>,
    /// See [`Context::unqualified_names`].
    pub(crate) unqualified_names: Arc<HashSet<String>>,
    /// Lower-case names of the common table expressions met so far.
    pub(crate) cte_names: HashSet<String>,
    /// Whether a query (a view's) is rewritten, rather than an expression of a table.
    pub(crate) query: bool,
    /// Whether a call of a function that gives another value each time has been met.
    pub(crate) volatile_seen: bool,
    /// The kinds of `view.text-collation` warned about in this view (one warning each).
    pub(crate) text_collation_warned: Vec<crate::collation::Difference>,
}

impl Ctx {
    fn new(from: SourceDialect, to: TargetDialect, context: &Context) -> Result<Ctx, RewriteError> {
        Ok(Ctx {
            from,
            to,
            map: function_map(from)?,
            log: Log::default(),
            subqueries: 0,
            types: context.types.clone(),
            user_types: context.user_types.clone(),
            cast_types: context.cast_types.clone(),
            renamed_tables: context.renamed_tables.clone(),
            view_schema: context.view_schema.clone(),
            unqualified_names: context.unqualified_names.clone(),
            cte_names: HashSet::new(),
            query: false,
            volatile_seen: false,
            text_collation_warned: Vec::new(),
            scopes: match &context.table {
                Some(table) => Scopes::of_table(table),
                None => Scopes::default(),
            },
        })
    }

    /// The known type of a column reference.
    pub(crate) fn column_type(&self, expr: &Expr) -> Option<&LogicalType> {
        self.column(expr).map(|column| &column.data_type)
    }

    /// The known column a column reference names.
    pub(crate) fn column(&self, expr: &Expr) -> Option<&crate::typing::ColumnType> {
        let types = self.types.as_deref()?;
        self.scopes.referenced(types, expr)
    }

    fn finish(self, sql: String) -> Rewritten {
        Rewritten {
            sql,
            rewrites: self.log.rewrites,
            notes: self.log.notes,
        }
    }
}

/// Structural rewrites run before the node's children are visited (they need the source shape:
/// `(+)` marks, `ROWNUM`); expression rewrites after (so that arguments are already rewritten).
struct Rewriter<'a> {
    ctx: &'a mut Ctx,
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        view_schema::note_ctes(query, self.ctx);
        rownum::rownum_to_limit(query, self.ctx);
        mysql::limit_comma_to_offset(query, self.ctx);
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        dual::drop_from_dual(select, self.ctx);
        outer_join::outer_join_marks_to_ansi(select, self.ctx);
        detect::select_constructs(select, self.ctx);
        detect::ungrouped_columns(select, self.ctx);
        self.ctx.scopes.push(select);
        mysql_booleans::numeric_conditions_in_select(select, self.ctx);
        subscript::name_field_columns(select, self.ctx);
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        // After its calls are rewritten: GROUP_CONCAT and STRING_AGG are LISTAGG.
        string_agg::redshift_sort_aggregates(select, self.ctx);
        self.ctx.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, table: &mut TableFactor) -> ControlFlow<()> {
        subquery_alias::derived_table_alias(table, self.ctx);
        // Qualified first, so that a renamed table is found in the view's schema.
        view_schema::qualify_in_view_schema(table, self.ctx);
        renamed_table::renamed_table(table, self.ctx);
        detect::table_constructs(table, self.ctx);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        // Before any rewrite: the comparison as the source wrote it.
        collation_warning(expr, self.ctx);
        // Before the rewrites of its operands, which take it for the OR it is.
        mysql_booleans::pipes_as_or(expr, self.ctx);
        // Before its parts are rewritten: `LENGTH(s)` is still MySQL's, a number, and `UPPER(s)`
        // text.
        mysql_booleans::compared_with_zero(expr, self.ctx);
        mysql_booleans::numeric_conditions(expr, self.ctx);
        self.ctx.volatile_seen |= mysql_functions::is_volatile_call(expr);
        // Before a COLLATE of its text is dropped: it says whether case counts.
        mysql_arithmetic::regexp(expr, self.ctx);
        date_arithmetic::oracle_date_arithmetic(expr, self.ctx);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let volatile = mysql_functions::VolatileCheck::before(expr, self.ctx);
        literals::hive_double_quoted_string(expr, self.ctx);
        literals::drop_charset_introducer(expr, self.ctx);
        literals::drop_charset_conversion(expr, self.ctx);
        // Before the cast's type is mapped: MySQL's UNSIGNED and DECIMAL(p,s) say how to wrap it.
        mysql_arithmetic::numeric_cast(expr, self.ctx);
        // Before the function rewrites: the casts they write are the target's already.
        casts::cast_type(expr, self.ctx);
        // Before the function rewrites: the call is read as `WITHIN GROUP`, which they leave.
        keep::keep_dense_rank(expr, self.ctx);
        // Before the function rewrites, which leave calls with a FILTER as they are.
        aggregate_filter::aggregate_filter_to_case(expr, self.ctx);
        mysql_interval::source_interval(expr, self.ctx);
        // Before the function map, which has no rule for INSTR with a start position.
        oracle_strings::instr_from_position(expr, self.ctx);
        // Before the function map: `IF` is still `IF`, whose first argument is a condition.
        mysql_booleans::arguments(expr, self.ctx);
        functions::rewrite_call(expr, self.ctx);
        // After the calls and casts: CONCAT has become `||` of text casts.
        mysql_strings::datetime_text(expr, self.ctx);
        mysql_json::arrows(expr, self.ctx);
        // After the calls: DATE_ADD has become `d + INTERVAL ...`.
        mysql_interval::date_interval_keeps_date(expr, self.ctx);
        mysql_interval::text_compared_with_number(expr, self.ctx);
        // After its operands have become conditions.
        mysql_booleans::xor(expr, self.ctx);
        mysql_booleans::operands(expr, self.ctx);
        // After the boolean operands have become integers.
        mysql_arithmetic::arithmetic(expr, self.ctx);
        mysql_arithmetic::null_safe(expr, self.ctx);
        functions::sysdate_to_getdate(expr, self.ctx);
        sequence::sequence_nextval(expr, self.ctx);
        subscript::hive_access(expr, self.ctx);
        mysql_functions::substring_from_end(expr, self.ctx);
        oracle_strings::substr_from_end(expr, self.ctx);
        oracle_strings::concat_null_is_empty(expr, self.ctx);
        mysql_functions::extract_as_mysql(expr, self.ctx);
        mysql_functions::collate_dropped(expr, self.ctx);
        detect::expression_constructs(expr, self.ctx);
        volatile.after(expr, self.ctx);
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
        literals::double_quoted_string(value, self.ctx);
        ControlFlow::Continue(())
    }
}

/// For a MySQL view that compares or searches text columns, one warning for each kind of
/// difference found (the first such expression named): MySQL does it under the column's
/// collation, which by default ignores case and trailing spaces, where PostgreSQL and Redshift
/// compare exactly. A column whose collation is case-sensitive (`_bin`, `_cs`) is warned about
/// only for trailing spaces, and only when its collation pads (PAD SPACE); one whose collation
/// the source did not name is warned about as a default one.
fn collation_warning(expr: &Expr, ctx: &mut Ctx) {
    use crate::collation::Difference;
    let all_warned = [Difference::Case, Difference::TrailingSpaces]
        .iter()
        .all(|kind| ctx.text_collation_warned.contains(kind));
    if ctx.from != SourceDialect::Mysql || !ctx.query || all_warned {
        return;
    }
    let Some(types) = ctx.types.as_deref() else {
        return;
    };
    let Some((found, difference)) = crate::collation::compared_text(expr, types, &ctx.scopes)
    else {
        return;
    };
    if ctx.text_collation_warned.contains(&difference) {
        return;
    }
    ctx.text_collation_warned.push(difference);
    let found = found.replace('`', "");
    match difference {
        crate::collation::Difference::Case => ctx.log.warning(
            "view.text-collation",
            format!("`{found}` compares text, which MySQL does under the column's collation (the default ones ignore case and trailing spaces, and _general_ci most accents: 'Hello' = 'HELLO ') and {} does exactly: the view may give other rows or values for text that differs in case", ctx.to),
            "where it matters, compare lower(a) = lower(b) (ILIKE for LIKE), or give the target column a case-insensitive ICU collation (PostgreSQL: CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)); nothing to do if the source column's collation is in fact _bin or _cs",
        ),
        crate::collation::Difference::TrailingSpaces => ctx.log.warning(
            "view.text-collation",
            format!("`{found}` compares text under a case-sensitive collation that ignores trailing spaces (PAD SPACE: 'Abc ' = 'Abc' under utf8mb4_bin), which {} does not: the view may give other rows or values for text that ends in spaces", ctx.to),
            "where it matters, compare RTRIM(a) = RTRIM(b); nothing to do if the values never end in spaces",
        ),
    }
}
