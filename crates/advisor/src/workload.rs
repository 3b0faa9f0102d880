//! A workload: the SELECT queries the warehouse will run, reduced to the facts that decide a
//! physical design (which columns are joined, range-filtered, equality-filtered, grouped).
//!
//! The file holds queries separated by `;`, with `--` and `/* */` comments allowed. Each query is
//! parsed on its own with the source dialect, so one bad query costs only itself: it is skipped
//! and reported in [`Workload::skipped`] with its line number, never dropped silently.
//!
//! Column references are kept as written, with the tables they can belong to: a qualified
//! reference (`ss.ss_item_sk`) resolves its alias to the table now; an unqualified one
//! (`ss_item_sk`, the TPC-DS style) lists the tables in scope and is settled against the catalog
//! when the advisor runs (see `usage.rs`).

use crate::AdviceError;
use migrate_core::{Ident, QualifiedName, SourceDialect};
use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart,
    Query, Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins, UnaryOperator,
    Visit, Visitor,
};
use sqlparser::dialect::{Dialect, HiveDialect, MySqlDialect, OracleDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// The parsed workload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workload {
    /// Number of queries parsed and analysed: the denominator of every "in N of M queries".
    pub queries: usize,
    /// Statements that were not analysed, with the reason.
    pub skipped: Vec<SkippedQuery>,
    pub(crate) facts: Vec<QueryFacts>,
}

/// A statement of the workload file that was not analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedQuery {
    /// 1-based line of the file where the statement starts.
    pub line: usize,
    pub reason: String,
}

/// A column as referenced in a query. `tiers` lists the tables it may belong to: one table when
/// the reference is qualified; otherwise the tables of the query block, then those of each
/// enclosing block (for correlated subqueries).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnRef {
    pub tiers: Vec<Vec<QualifiedName>>,
    pub column: Ident,
}

/// What one query does, before resolution against the catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct QueryFacts {
    pub joins: Vec<(ColumnRef, ColumnRef)>,
    pub ranges: Vec<ColumnRef>,
    pub equalities: Vec<ColumnRef>,
    pub group_by: Vec<ColumnRef>,
}

impl Workload {
    /// Parses a file of `;`-separated SELECT queries in `dialect`.
    ///
    /// Fails only when the file holds statements and none of them could be analysed: that
    /// usually means the wrong dialect, and advising from nothing would look like advice.
    pub fn parse(sql: &str, dialect: SourceDialect) -> Result<Workload, AdviceError> {
        let parser_dialect: Box<dyn Dialect> = match dialect {
            SourceDialect::Oracle => Box::new(OracleDialect),
            SourceDialect::Hive => Box::new(HiveDialect {}),
            SourceDialect::Mysql => Box::new(MySqlDialect {}),
            SourceDialect::Postgres => Box::new(PostgreSqlDialect {}),
        };
        let mut workload = Workload::default();
        for (line, text) in split_statements(sql) {
            match Parser::parse_sql(parser_dialect.as_ref(), &text) {
                Ok(statements) => match statements.as_slice() {
                    [Statement::Query(query)] => {
                        let mut walker = Walker::default();
                        walker.query(query);
                        workload.facts.push(walker.facts);
                        workload.queries += 1;
                    }
                    _ => workload.skipped.push(SkippedQuery {
                        line,
                        reason: "not a SELECT query".to_string(),
                    }),
                },
                Err(error) => workload.skipped.push(SkippedQuery {
                    line,
                    reason: error.to_string(),
                }),
            }
        }
        match workload.skipped.first() {
            Some(first) if workload.queries == 0 => Err(AdviceError::NoQueryParsed {
                skipped: workload.skipped.len(),
                line: first.line,
                reason: first.reason.clone(),
            }),
            None if workload.queries == 0 => Err(AdviceError::EmptyWorkload),
            _ => Ok(workload),
        }
    }
}

/// Splits a script on `;` outside quotes and comments, returning each non-empty statement with
/// the 1-based line of its first significant character. Each text is preceded by as many line
/// breaks as the script has before it, so the parser's "Line: N" is the line in the file.
fn split_statements(sql: &str) -> Vec<(usize, String)> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut start_line: Option<usize> = None;
    let mut line = 1;
    let mut chunk_line = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                start_line.get_or_insert(line);
                current.push(c);
                while let Some(inner) = chars.next() {
                    current.push(inner);
                    if inner == '\n' {
                        line += 1;
                    }
                    if inner == c {
                        // A doubled quote is an escaped quote inside the literal.
                        if chars.peek() == Some(&c) {
                            if let Some(escaped) = chars.next() {
                                current.push(escaped);
                            }
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for inner in chars.by_ref() {
                    if inner == '\n' {
                        line += 1;
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                for inner in chars.by_ref() {
                    if inner == '\n' {
                        line += 1;
                        current.push('\n');
                    }
                    if previous == '*' && inner == '/' {
                        break;
                    }
                    previous = inner;
                }
                current.push(' ');
            }
            ';' => {
                if let Some(start) = start_line.take() {
                    statements.push((start, "\n".repeat(chunk_line - 1) + &current));
                }
                current.clear();
                chunk_line = line;
            }
            _ => {
                if c == '\n' {
                    line += 1;
                } else if !c.is_whitespace() {
                    start_line.get_or_insert(line);
                }
                current.push(c);
            }
        }
    }
    if let Some(start) = start_line {
        statements.push((start, "\n".repeat(chunk_line - 1) + &current));
    }
    statements
}

/// A name visible in a query block's FROM clause: an alias or table name, and the base table it
/// stands for (`None` for derived tables, CTEs and table functions, whose columns we don't follow).
#[derive(Debug)]
struct Binding {
    name: String,
    table: Option<QualifiedName>,
}

#[derive(Default)]
struct Walker {
    facts: QueryFacts,
    /// FROM bindings of the enclosing query blocks, innermost last.
    scopes: Vec<Vec<Binding>>,
    /// CTE names visible from the current position, innermost last.
    ctes: Vec<Vec<String>>,
}

impl Walker {
    fn query(&mut self, query: &Query) {
        let names = query
            .with
            .as_ref()
            .map(|with| {
                with.cte_tables
                    .iter()
                    .map(|cte| cte.alias.name.value.to_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        self.ctes.push(names);
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.query(&cte.query);
            }
        }
        self.set_expr(&query.body);
        self.ctes.pop();
    }

    fn set_expr(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(select) => self.select(select),
            SetExpr::Query(query) => self.query(query),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left);
                self.set_expr(right);
            }
            _ => {}
        }
    }

    fn select(&mut self, select: &Select) {
        let mut scope = Vec::new();
        let mut conditions = Vec::new();
        for from in &select.from {
            self.bind_joins(from, &mut scope, &mut conditions);
        }
        self.scopes.push(scope);
        for condition in conditions {
            match condition {
                Condition::On(expr) => self.condition(expr),
                Condition::Using(left, right) => self.facts.joins.push((left, right)),
            }
        }
        if let Some(selection) = &select.selection {
            self.condition(selection);
        }
        if let Some(having) = &select.having {
            self.condition(having);
        }
        if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
            for expr in exprs {
                self.group_by(expr);
            }
        }
        for item in &select.projection {
            if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item {
                self.subqueries(expr);
            }
        }
        self.scopes.pop();
    }

    fn bind_joins<'q>(
        &mut self,
        from: &'q TableWithJoins,
        scope: &mut Vec<Binding>,
        conditions: &mut Vec<Condition<'q>>,
    ) {
        self.bind(&from.relation, scope, conditions);
        for join in &from.joins {
            let left: Vec<QualifiedName> = scope.iter().filter_map(|b| b.table.clone()).collect();
            let before = scope.len();
            self.bind(&join.relation, scope, conditions);
            let right: Vec<QualifiedName> = scope[before..]
                .iter()
                .filter_map(|b| b.table.clone())
                .collect();
            match join_constraint(&join.join_operator) {
                Some(JoinConstraint::On(expr)) => conditions.push(Condition::On(expr)),
                Some(JoinConstraint::Using(columns)) => {
                    for column in columns {
                        if let Some(name) = last_ident(column) {
                            conditions.push(Condition::Using(
                                ColumnRef {
                                    tiers: vec![left.clone()],
                                    column: name.clone(),
                                },
                                ColumnRef {
                                    tiers: vec![right.clone()],
                                    column: name,
                                },
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn bind<'q>(
        &mut self,
        factor: &'q TableFactor,
        scope: &mut Vec<Binding>,
        conditions: &mut Vec<Condition<'q>>,
    ) {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let Some(table) = qualified_name(name) else {
                    return;
                };
                let is_cte = table.schema.is_none()
                    && self
                        .ctes
                        .iter()
                        .any(|names| names.contains(&table.name.value.to_lowercase()));
                scope.push(Binding {
                    name: alias
                        .as_ref()
                        .map(|a| a.name.value.to_lowercase())
                        .unwrap_or_else(|| table.name.value.to_lowercase()),
                    table: (!is_cte).then_some(table),
                });
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                self.query(subquery);
                if let Some(alias) = alias {
                    scope.push(Binding {
                        name: alias.name.value.to_lowercase(),
                        table: None,
                    });
                }
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                self.bind_joins(table_with_joins, scope, conditions);
                if let Some(alias) = alias {
                    scope.push(Binding {
                        name: alias.name.value.to_lowercase(),
                        table: None,
                    });
                }
            }
            _ => {}
        }
    }

    /// Records the joins and filters of a WHERE / ON / HAVING condition.
    fn condition(&mut self, expr: &Expr) {
        match expr {
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And | BinaryOperator::Or => {
                    self.condition(left);
                    self.condition(right);
                }
                BinaryOperator::Eq => match (self.column(left), self.column(right)) {
                    (Some(a), Some(b)) => self.facts.joins.push((a, b)),
                    (Some(a), None) if is_constant(right) => self.facts.equalities.push(a),
                    (None, Some(b)) if is_constant(left) => self.facts.equalities.push(b),
                    _ => {
                        self.subqueries(left);
                        self.subqueries(right);
                    }
                },
                BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq => match (self.column(left), self.column(right)) {
                    (Some(a), None) if is_constant(right) => self.facts.ranges.push(a),
                    (None, Some(b)) if is_constant(left) => self.facts.ranges.push(b),
                    _ => {
                        self.subqueries(left);
                        self.subqueries(right);
                    }
                },
                _ => self.subqueries(expr),
            },
            Expr::Nested(inner)
            | Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: inner,
            } => self.condition(inner),
            Expr::Between {
                expr: column,
                negated: false,
                low,
                high,
            } => match self.column(column) {
                Some(c) if is_constant(low) && is_constant(high) => self.facts.ranges.push(c),
                _ => self.subqueries(expr),
            },
            Expr::InList {
                expr: column,
                list,
                negated: false,
            } => match self.column(column) {
                Some(c) if list.iter().all(is_constant) => self.facts.equalities.push(c),
                _ => self.subqueries(expr),
            },
            _ => self.subqueries(expr),
        }
    }

    fn group_by(&mut self, expr: &Expr) {
        match expr {
            Expr::Rollup(sets) | Expr::Cube(sets) | Expr::GroupingSets(sets) => {
                for expr in sets.iter().flatten() {
                    self.group_by(expr);
                }
            }
            _ => {
                if let Some(column) = self.column(expr) {
                    self.facts.group_by.push(column);
                }
            }
        }
    }

    /// Analyses the subqueries directly inside `expr` (not those nested in them: each analysis
    /// descends on its own, with its own scope).
    fn subqueries(&mut self, expr: &Expr) {
        let mut finder = SubqueryFinder::default();
        // The finder never breaks.
        let _ = expr.visit(&mut finder);
        for query in finder.found {
            self.query(&query);
        }
    }

    /// The column an expression refers to, if it is a bare (possibly parenthesized) column.
    fn column(&self, expr: &Expr) -> Option<ColumnRef> {
        match expr {
            Expr::Nested(inner) => self.column(inner),
            Expr::Identifier(ident) if !is_niladic_function(&ident.value) => Some(ColumnRef {
                tiers: self
                    .scopes
                    .iter()
                    .rev()
                    .map(|scope| scope.iter().filter_map(|b| b.table.clone()).collect())
                    .collect(),
                column: to_ident(ident),
            }),
            Expr::CompoundIdentifier(parts) => {
                let (column, qualifier) = parts.split_last()?;
                let table = self.resolve_qualifier(qualifier)?;
                Some(ColumnRef {
                    tiers: vec![vec![table]],
                    column: to_ident(column),
                })
            }
            _ => None,
        }
    }

    /// The base table a qualifier (`alias`, `table` or `schema.table`) names, innermost scope first.
    fn resolve_qualifier(&self, qualifier: &[sqlparser::ast::Ident]) -> Option<QualifiedName> {
        let (name, schema) = qualifier.split_last()?;
        let name = name.value.to_lowercase();
        let schema = schema.last().map(|s| s.value.to_lowercase());
        for scope in self.scopes.iter().rev() {
            for binding in scope {
                let matches = match &schema {
                    None => binding.name == name,
                    Some(schema) => binding.table.as_ref().is_some_and(|t| {
                        t.name.value.to_lowercase() == name
                            && t.schema
                                .as_ref()
                                .is_none_or(|s| s.value.to_lowercase() == *schema)
                    }),
                };
                if matches {
                    // A derived table or CTE: its columns are not followed.
                    return binding.table.clone();
                }
            }
        }
        None
    }
}

enum Condition<'q> {
    On(&'q Expr),
    Using(ColumnRef, ColumnRef),
}

fn join_constraint(operator: &JoinOperator) -> Option<&JoinConstraint> {
    match operator {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c) => Some(c),
        _ => None,
    }
}

/// Collects the outermost subqueries of an expression.
#[derive(Default)]
struct SubqueryFinder {
    depth: usize,
    found: Vec<Query>,
}

impl Visitor for SubqueryFinder {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.found.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

/// Functions written without parentheses that parsers read as identifiers.
fn is_niladic_function(name: &str) -> bool {
    const NAMES: [&str; 7] = [
        "sysdate",
        "systimestamp",
        "current_date",
        "current_time",
        "current_timestamp",
        "localtimestamp",
        "localtime",
    ];
    NAMES.contains(&name.to_lowercase().as_str())
}

/// True when an expression refers to no column and holds no subquery: `DATE '2000-01-01'`,
/// `CAST('2000-01-27' AS DATE) + 30`, `sysdate - 7`.
fn is_constant(expr: &Expr) -> bool {
    struct ColumnFinder;
    impl Visitor for ColumnFinder {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match expr {
                Expr::Identifier(ident) if is_niladic_function(&ident.value) => {
                    ControlFlow::Continue(())
                }
                Expr::Identifier(_)
                | Expr::CompoundIdentifier(_)
                | Expr::Subquery(_)
                | Expr::Exists { .. }
                | Expr::InSubquery { .. } => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    expr.visit(&mut ColumnFinder).is_continue()
}

fn to_ident(ident: &sqlparser::ast::Ident) -> Ident {
    if ident.quote_style.is_some() {
        Ident::quoted(ident.value.clone())
    } else {
        Ident::new(ident.value.clone())
    }
}

fn last_ident(name: &ObjectName) -> Option<Ident> {
    match name.0.last()? {
        ObjectNamePart::Identifier(ident) => Some(to_ident(ident)),
        ObjectNamePart::Function(_) => None,
    }
}

/// `table`, `schema.table` or `catalog.schema.table` (the catalog part is dropped).
fn qualified_name(name: &ObjectName) -> Option<QualifiedName> {
    let parts: Option<Vec<Ident>> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Some(to_ident(ident)),
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    let mut parts = parts?;
    let table = parts.pop()?;
    Some(QualifiedName::new(parts.pop(), table))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qn(name: &str) -> QualifiedName {
        QualifiedName::unqualified(Ident::new(name))
    }

    fn qualified(table: &str, column: &str) -> ColumnRef {
        ColumnRef {
            tiers: vec![vec![qn(table)]],
            column: Ident::new(column),
        }
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let script = "-- header; not a statement\nselect ';' from t;\n\n/* a; b */ select 1\nfrom u;\n  ;\nselect 2";
        assert_eq!(
            split_statements(script),
            vec![
                (2, "\nselect ';' from t".to_string()),
                (4, "\n\n\n  select 1\nfrom u".to_string()),
                (7, "\n\n\n\n\n\nselect 2".to_string()),
            ]
        );
    }

    #[test]
    fn resolves_aliases_and_classifies_predicates() {
        let workload = Workload::parse(
            "select s.a, count(*) from sales s join item i on s.item_id = i.id \
             where s.sold between date '2000-01-01' and date '2000-02-01' and i.color in ('red', 'blue') \
             and s.qty >= 3 and i.size = 'L' and s.price > s.cost group by s.a",
            SourceDialect::Postgres,
        )
        .unwrap();
        assert_eq!(workload.queries, 1);
        assert_eq!(
            workload.facts,
            vec![QueryFacts {
                joins: vec![(qualified("sales", "item_id"), qualified("item", "id"))],
                ranges: vec![qualified("sales", "sold"), qualified("sales", "qty")],
                equalities: vec![qualified("item", "color"), qualified("item", "size")],
                group_by: vec![qualified("sales", "a")],
            }]
        );
    }

    #[test]
    fn unqualified_columns_keep_their_candidate_tables() {
        let workload = Workload::parse(
            "select * from sales, item where item_id = id and exists (select 1 from ret r where r.item_id = id)",
            SourceDialect::Mysql,
        )
        .unwrap();
        let unqualified = |column: &str, tiers: Vec<Vec<&str>>| ColumnRef {
            tiers: tiers
                .into_iter()
                .map(|tier| tier.into_iter().map(qn).collect())
                .collect(),
            column: Ident::new(column),
        };
        assert_eq!(
            workload.facts[0].joins,
            vec![
                (
                    unqualified("item_id", vec![vec!["sales", "item"]]),
                    unqualified("id", vec![vec!["sales", "item"]]),
                ),
                (
                    qualified("ret", "item_id"),
                    unqualified("id", vec![vec!["ret"], vec!["sales", "item"]]),
                ),
            ]
        );
    }

    #[test]
    fn unparseable_and_non_select_statements_are_skipped_and_counted() {
        let workload = Workload::parse(
            "select a from t;\n-- broken\nselect (a from t;\ninsert into t values (1);\nselect b from u",
            SourceDialect::Postgres,
        )
        .unwrap();
        assert_eq!(workload.queries, 2);
        assert_eq!(
            workload.skipped,
            vec![
                SkippedQuery {
                    line: 3,
                    reason: "sql parser error: Expected: ), found: from at Line: 3, Column: 11"
                        .to_string(),
                },
                SkippedQuery {
                    line: 4,
                    reason: "not a SELECT query".to_string(),
                },
            ]
        );
    }

    #[test]
    fn a_workload_with_nothing_parsed_is_an_error() {
        let err = Workload::parse("selec 1;\nselec 2;", SourceDialect::Hive).unwrap_err();
        assert_eq!(
            err.to_string(),
            "workload: none of its 2 statements could be analysed; the first, at line 1: sql parser error: Expected: an SQL statement, found: selec at Line: 1, Column: 1"
        );
        // No statement at all is no more usable (an empty file, the wrong file).
        for empty in ["", "-- nothing\n"] {
            assert!(matches!(
                Workload::parse(empty, SourceDialect::Hive),
                Err(AdviceError::EmptyWorkload)
            ));
        }
    }

    #[test]
    fn ctes_and_derived_tables_are_not_taken_for_base_tables() {
        let workload = Workload::parse(
            "with x as (select k from base where d > date '2001-01-01') \
             select * from x join dim on x.k = dim.k join (select k from other) o on o.k = dim.k",
            SourceDialect::Postgres,
        )
        .unwrap();
        assert_eq!(
            workload.facts[0],
            QueryFacts {
                ranges: vec![ColumnRef {
                    tiers: vec![vec![qn("base")]],
                    column: Ident::new("d"),
                }],
                ..QueryFacts::default()
            }
        );
    }
}
