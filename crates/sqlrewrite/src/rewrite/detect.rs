//! Constructs with no target equivalent that are reported, not rewritten.

use super::Ctx;
use crate::ast::is_comparison;
use migrate_core::{SourceDialect, TargetDialect};
use sqlparser::ast::{
    Distinct, Expr, GroupByExpr, Ident, Select, SelectItem, TableFactor, Value, VisitMut,
    VisitorMut,
};
use std::ops::ControlFlow;

/// `CONNECT BY`, Hive `LATERAL VIEW`, PostgreSQL's `DISTINCT ON` on Redshift.
pub(crate) fn select_constructs(select: &Select, ctx: &mut Ctx) {
    if ctx.to == TargetDialect::Redshift && matches!(select.distinct, Some(Distinct::On(_))) {
        ctx.log.action(
            "view.distinct-on",
            "Redshift has no SELECT DISTINCT ON",
            "keep the first row of each group with ROW_NUMBER() OVER (PARTITION BY the DISTINCT ON expressions ORDER BY the query's ORDER BY) = 1 in a subquery",
        );
    }
    if !select.connect_by.is_empty() {
        ctx.log.action(
            "view.connect-by",
            "hierarchical query (START WITH / CONNECT BY) has no equivalent",
            "rewrite as a recursive CTE (WITH RECURSIVE), which Redshift and PostgreSQL support",
        );
    }
    if !select.lateral_views.is_empty() {
        ctx.log.action(
            "view.lateral-view",
            "Hive LATERAL VIEW (explode) has no direct equivalent",
            match ctx.to {
                TargetDialect::Redshift => "store the array as SUPER and unnest it with PartiQL (FROM t, t.array_column AS x)",
                TargetDialect::Postgres => "rewrite as CROSS JOIN LATERAL unnest(array_column) AS x",
            },
        );
    }
}

/// A grouped query that selects a column it neither groups by nor aggregates, where the target
/// refuses it. MySQL takes such a column when it depends on the grouped ones through keys
/// (Sakila's `sales_by_store`: `GROUP BY s.store_id`, selecting the store's city through its
/// address); PostgreSQL takes only the columns of a table grouped by its primary key, and
/// Redshift only the columns grouped themselves (the PostgreSQL form too, from any source), so
/// the view would not be created. Judged: qualified columns (`c.city`) of the query's own tables
/// (not an outer query's, constant in a subquery; not a derived table's) under a GROUP BY of
/// qualified columns. Anything else (a position, an alias, an expression) could group the
/// column in a way not seen here. For PostgreSQL, a column is taken as grouped when a column of
/// its table is (the primary key is not known here), so only Redshift's refusals are certain to
/// be found.
pub(crate) fn ungrouped_columns(select: &Select, ctx: &mut Ctx) {
    let whole_columns = match (ctx.from, ctx.to) {
        (SourceDialect::Mysql | SourceDialect::Postgres, TargetDialect::Redshift) => true,
        (SourceDialect::Mysql, TargetDialect::Postgres) => false,
        _ => return,
    };
    let GroupByExpr::Expressions(group_by, _) = &select.group_by else {
        return;
    };
    let mut grouped = Vec::new();
    for item in group_by {
        let Expr::CompoundIdentifier(parts) = item else {
            return;
        };
        grouped.push(grouping(parts, whole_columns));
    }
    if grouped.is_empty() {
        return;
    }
    let mut own = Vec::new();
    for table in &select.from {
        crate::typing::tables_of(table, &mut own);
    }
    for item in &select.projection {
        let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item else {
            continue;
        };
        let mut outside = expr.clone();
        let _ = outside.visit(&mut AggregatesRemoved);
        let ungrouped = sqlparser::ast::visit_expressions(&outside, |e| match e {
            Expr::CompoundIdentifier(parts)
                if own.iter().any(|(used, _)| *used == qualifier(parts))
                    && !grouped.contains(&grouping(parts, whole_columns)) =>
            {
                ControlFlow::Break(e.to_string())
            }
            _ => ControlFlow::Continue(()),
        });
        if let ControlFlow::Break(column) = ungrouped {
            let (what, fix) = if whole_columns {
                (
                    "without grouping by it: the source takes it when the column depends on the grouped ones through keys, Redshift only when it is grouped itself",
                    "add the column to GROUP BY (it has one value per group)",
                )
            } else {
                (
                    "without grouping by it or by a column of its table: MySQL takes it when the column depends on the grouped ones through keys, PostgreSQL only when its table is grouped by its primary key",
                    "add the column to GROUP BY (it has one value per group), or group by its table's primary key",
                )
            };
            ctx.log.action(
                "view.not-converted",
                format!("selects {column} {what}"),
                fix,
            );
            return;
        }
    }
}

/// What a GROUP BY column groups: its table (or alias), or, with `whole_columns`, the column
/// itself (`s.store_id`), compared without case and without a schema.
fn grouping(parts: &[Ident], whole_columns: bool) -> String {
    match (parts, whole_columns) {
        ([.., column], true) => format!("{}.{}", qualifier(parts), column.value.to_lowercase()),
        _ => qualifier(parts),
    }
}

/// The table (or alias) of a qualified column, without its schema (`s` of `s.store_id`, `film`
/// of `sakila.film.title`), compared without case.
fn qualifier(parts: &[Ident]) -> String {
    match parts {
        [.., table, _] => table.value.to_lowercase(),
        _ => String::new(),
    }
}

/// Replaces aggregate calls and subqueries, whose columns need no grouping, by NULL.
struct AggregatesRemoved;

impl VisitorMut for AggregatesRemoved {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let aggregate = match expr {
            // A window function; an ordered-set aggregate (`mode() WITHIN GROUP (...)`) or one
            // with a FILTER, whatever its name; PostgreSQL's regressions (`REGR_SLOPE`...).
            Expr::Function(function) => {
                function.over.is_some()
                    || !function.within_group.is_empty()
                    || function.filter.is_some()
                    || crate::ast::builtin_name(function).is_some_and(|name| {
                        super::rownum::AGGREGATES.contains(&name.as_str())
                            || name.starts_with("REGR_")
                    })
            }
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => true,
            _ => false,
        };
        if aggregate {
            *expr = Expr::value(Value::Null);
        }
        ControlFlow::Continue(())
    }
}

/// `PIVOT` / `UNPIVOT`, `MATCH_RECOGNIZE`, `LATERAL` on Redshift.
pub(crate) fn table_constructs(table: &TableFactor, ctx: &mut Ctx) {
    match (table, ctx.to) {
        (
            TableFactor::Derived { lateral: true, .. } | TableFactor::Function { lateral: true, .. },
            TargetDialect::Redshift,
        ) => ctx.log.action(
            "view.lateral",
            "Redshift has no LATERAL subqueries or functions in FROM",
            "rewrite the LATERAL subquery as a join on a grouped subquery, or as a scalar subquery in the select list",
        ),
        (TableFactor::Pivot { .. } | TableFactor::Unpivot { .. }, TargetDialect::Redshift) => {
            ctx.log.warning(
                "view.pivot",
                "PIVOT/UNPIVOT kept: Redshift has them with restrictions (IN list of constants, one aggregate)",
                "check that the view is created and returns the same columns",
            )
        }
        (TableFactor::Pivot { .. } | TableFactor::Unpivot { .. }, TargetDialect::Postgres) => {
            ctx.log.action(
                "view.pivot",
                "PostgreSQL has no PIVOT/UNPIVOT",
                "rewrite PIVOT as conditional aggregation (SUM(CASE WHEN .. THEN .. END)) and UNPIVOT as a UNION ALL or a LATERAL VALUES join",
            )
        }
        // Oracle's dictionary and dynamic performance views (V$, GV$, DBA_) exist only in Oracle.
        (TableFactor::Table { name, .. }, _)
            if ctx.from == SourceDialect::Oracle
                && name.0.last().and_then(|part| part.as_ident()).is_some_and(|ident| {
                    let upper = ident.value.to_ascii_uppercase();
                    upper.starts_with("V$") || upper.starts_with("GV$") || upper.starts_with("DBA_")
                }) =>
        {
            ctx.log.action(
                "view.oracle-dictionary",
                format!("reads the Oracle data dictionary ({name})"),
                "query the target's own catalog (pg_catalog / SVV_ views) instead, or drop the view",
            )
        }
        (TableFactor::JsonTable { .. }, _) => ctx.log.action(
            "view.json-table",
            "JSON_TABLE has no equivalent in the target",
            match ctx.to {
                TargetDialect::Redshift => "store the document as SUPER and unnest it with PartiQL (FROM t, t.doc.items AS item)",
                TargetDialect::Postgres => "rewrite with jsonb_to_recordset / jsonb_array_elements in a LATERAL join",
            },
        ),
        (TableFactor::MatchRecognize { .. }, _) => ctx.log.action(
            "view.match-recognize",
            "MATCH_RECOGNIZE has no equivalent",
            "rewrite with window functions",
        ),
        _ => {}
    }
}

/// Oracle pseudo-columns left after the rewrites, `(+)` left in place, Oracle `||` with NULLs,
/// comparisons with `''`, and SUBSTR positions that count from the end.
pub(crate) fn expression_constructs(expr: &Expr, ctx: &mut Ctx) {
    match expr {
        Expr::Identifier(ident) if ident.quote_style.is_none() && ctx.from == SourceDialect::Oracle => {
            match ident.value.to_ascii_uppercase().as_str() {
                "ROWNUM" => ctx.log.action(
                    "view.rownum",
                    "ROWNUM used other than as WHERE ROWNUM <= n on a simple query",
                    "use ROW_NUMBER() OVER (ORDER BY ..) in a subquery, or LIMIT",
                ),
                "ROWID" => ctx.log.action(
                    "view.rowid",
                    "ROWID has no equivalent",
                    "use the primary key instead",
                ),
                _ => {}
            }
        }
        Expr::Function(function)
            if function.filter.is_some() && ctx.to == TargetDialect::Redshift =>
        {
            ctx.log.action(
                "view.aggregate-filter",
                format!("Redshift has no FILTER clause on aggregates (`{}(...) FILTER (WHERE ...)`), and {} keeps NULLs, so the condition can't move into its argument", function.name, function.name),
                "aggregate the rows the condition keeps in a subquery of their own (... FROM (SELECT ... WHERE cond)), joined back by the grouping keys",
            )
        }
        // `IS JSON` arrived in PostgreSQL 16; Redshift spells it IS_VALID_JSON(x).
        Expr::IsJson { .. } => ctx.log.action(
            "expression.is-json",
            "IS JSON is not supported by the target",
            match ctx.to {
                TargetDialect::Redshift => "use IS_VALID_JSON(column), or store the column as SUPER",
                TargetDialect::Postgres => "cast to JSONB in a CHECK (col::jsonb IS NOT NULL) or upgrade to PostgreSQL 16",
            },
        ),
        Expr::OuterJoin(_) if !ctx.log.has("view.outer-join-marks") => ctx.log.action(
            "view.outer-join-marks",
            "an Oracle (+) outer join could not be converted to ANSI JOIN syntax",
            "rewrite the FROM clause with LEFT OUTER JOIN ... ON",
        ),
        Expr::BinaryOp { left, op, right }
            if ctx.from == SourceDialect::Oracle
                && is_comparison(op)
                && (is_empty_string(left) || is_empty_string(right)) =>
        {
            empty_string_comparison(ctx)
        }
        Expr::InList { list, .. }
            if ctx.from == SourceDialect::Oracle && list.iter().any(is_empty_string) =>
        {
            empty_string_comparison(ctx)
        }
        Expr::Case {
            operand: Some(_),
            conditions,
            ..
        } if ctx.from == SourceDialect::Oracle
            && conditions.iter().any(|when| is_empty_string(&when.condition)) =>
        {
            empty_string_comparison(ctx)
        }
        Expr::Substring {
            substring_from: Some(from),
            ..
        } if ctx.from != SourceDialect::Postgres
            && crate::ast::integer_literal(from).is_none_or(|n| n == 0) =>
        {
            start_position_warning(ctx)
        }
        _ => {}
    }
}

/// A SUBSTRING from a computed (or MySQL's 0) start position, which the source counts otherwise.
pub(super) fn start_position_warning(ctx: &mut Ctx) {
    ctx.log.warning(
        "function.semantics",
        format!(
            "{} counts a negative or zero start position differently from {}",
            ctx.from, ctx.to
        ),
        "check that the start position is always positive",
    )
}

fn is_empty_string(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(value) if matches!(&value.value, sqlparser::ast::Value::SingleQuotedString(s) if s.is_empty()))
}

/// Kept as written: Oracle stores '' as NULL, so the migrated data holds no '' and the
/// comparison stays never true, as in Oracle; `IS NULL` would change which rows match.
fn empty_string_comparison(ctx: &mut Ctx) {
    ctx.log.warning(
        "expression.empty-string",
        "compares with '': in Oracle '' is NULL, so the comparison is never true; it is kept, and stays never true on the migrated data (Oracle's empty strings arrive as NULL), but it matches rows with '' added in the target",
        "write `col IS NULL` (or IS NOT NULL) if that is what the condition means",
    );
}
