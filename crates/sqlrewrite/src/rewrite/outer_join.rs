//! `outer_join_marks_to_ansi`: Oracle `FROM a, b WHERE a.x = b.x(+)` becomes
//! `FROM a LEFT OUTER JOIN b ON a.x = b.x`.
//!
//! Every condition with `(+)` marks columns of one *optional* table; its other columns are of the
//! *preserved* tables. All the conditions marking one table become the ON clause of its LEFT
//! OUTER JOIN, placed after its preserved tables (joined into one FROM item with CROSS JOIN if
//! they were separate). Conditions without `(+)` stay in WHERE, where Oracle applied them too:
//! after the join. Anything less regular (a `(+)` under OR, on an unqualified column, on two
//! tables at once, joins in a cycle, `(+)` mixed with JOIN syntax) is left as it is and reported.

use super::Ctx;
use crate::ast::{and_all, conjuncts};
use sqlparser::ast::{
    BinaryOperator, Expr, Join, JoinConstraint, JoinOperator, ObjectNamePart, Query, Select,
    TableFactor, TableWithJoins, Visit, VisitMut, Visitor, VisitorMut,
};
use std::collections::BTreeSet;
use std::ops::ControlFlow;

pub(crate) const NAME: &str = "outer_join_marks_to_ansi";

pub(crate) fn outer_join_marks_to_ansi(select: &mut Select, ctx: &mut Ctx) {
    let Some(selection) = &select.selection else {
        return;
    };
    let mut scan = Scan::default();
    let _ = selection.visit(&mut scan);
    if scan.marked.is_empty() {
        return;
    }
    match convert(select) {
        Ok((from, selection)) => {
            select.from = from;
            select.selection = selection;
            ctx.log.applied(NAME);
        }
        Err(reason) => ctx.log.action(
            "view.outer-join-marks",
            format!("Oracle (+) outer join not converted: {reason}"),
            "rewrite the FROM clause with LEFT OUTER JOIN ... ON",
        ),
    }
}

/// One `(+)` condition: the optional table, the preserved tables, the condition.
struct Marked {
    optional: usize,
    preserved: BTreeSet<usize>,
    condition: Expr,
}

type Converted = (Vec<TableWithJoins>, Option<Expr>);

fn convert(select: &Select) -> Result<Converted, String> {
    if select.from.iter().any(|item| !item.joins.is_empty()) {
        return Err("(+) mixed with JOIN syntax in the same FROM clause".into());
    }
    let tables: Vec<Vec<String>> = select
        .from
        .iter()
        .map(|item| names(&item.relation))
        .collect();
    let selection = select.selection.clone().ok_or("no WHERE clause")?;
    let mut marked = Vec::new();
    let mut remaining = Vec::new();
    for condition in conjuncts(selection) {
        let mut scan = Scan::default();
        let _ = condition.visit(&mut scan);
        if scan.marked.is_empty() && scan.problem.is_none() {
            remaining.push(condition);
            continue;
        }
        if let Some(problem) = scan.problem {
            return Err(problem);
        }
        let resolve = |qualifier: &String| {
            resolve(&tables, qualifier)
                .ok_or_else(|| format!("`{qualifier}` is not a table of this FROM clause"))
        };
        let optional: BTreeSet<usize> =
            scan.marked.iter().map(resolve).collect::<Result<_, _>>()?;
        let [optional] = optional.into_iter().collect::<Vec<_>>()[..] else {
            return Err(format!("`{condition}` marks columns of several tables"));
        };
        let mut preserved: BTreeSet<usize> =
            scan.other.iter().map(resolve).collect::<Result<_, _>>()?;
        preserved.remove(&optional);
        marked.push(Marked {
            optional,
            preserved,
            condition: strip_marks(condition),
        });
    }
    let joins = place(select.from.clone(), &marked)?;
    Ok((joins, and_all(remaining)))
}

/// Builds the FROM items: preserved tables in their order, each optional table joined after all
/// of its preserved tables.
fn place(from: Vec<TableWithJoins>, marked: &[Marked]) -> Result<Vec<TableWithJoins>, String> {
    let count = from.len();
    let optional: BTreeSet<usize> = marked.iter().map(|m| m.optional).collect();
    // items[i]: the FROM item rooted at table i; group[t]: the item table t is in.
    let mut items: Vec<Option<TableWithJoins>> = Vec::with_capacity(count);
    let mut group: Vec<Option<usize>> = vec![None; count];
    let mut relations: Vec<Option<TableFactor>> = Vec::with_capacity(count);
    for (i, item) in from.into_iter().enumerate() {
        if optional.contains(&i) {
            items.push(None);
            relations.push(Some(item.relation));
        } else {
            items.push(Some(item));
            relations.push(None);
            group[i] = Some(i);
        }
    }
    let mut pending: Vec<usize> = optional.into_iter().collect();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|&t| preserved_of(marked, t).iter().all(|&p| group[p].is_some()));
        let Some(position) = ready else {
            return Err("the (+) conditions join optional tables to each other in a cycle".into());
        };
        let table = pending.remove(position);
        let preserved = preserved_of(marked, table);
        let targets: BTreeSet<usize> = preserved.iter().filter_map(|&p| group[p]).collect();
        let mut targets = targets.into_iter();
        let Some(target) = targets.next() else {
            return Err(format!(
                "the (+) conditions on table {} do not join it to another table",
                table + 1
            ));
        };
        for other in targets {
            merge(&mut items, &mut group, target, other)?;
        }
        let conditions = marked
            .iter()
            .filter(|m| m.optional == table)
            .map(|m| m.condition.clone())
            .collect();
        let relation = relations[table].take().ok_or("table placed twice")?;
        let on = and_all(conditions).ok_or("no join condition")?;
        let item = items[target].as_mut().ok_or("join target missing")?;
        item.joins.push(Join {
            relation,
            global: false,
            join_operator: JoinOperator::LeftOuter(JoinConstraint::On(on)),
        });
        group[table] = Some(target);
    }
    Ok(items.into_iter().flatten().collect())
}

fn preserved_of(marked: &[Marked], table: usize) -> BTreeSet<usize> {
    marked
        .iter()
        .filter(|m| m.optional == table)
        .flat_map(|m| m.preserved.iter().copied())
        .collect()
}

/// Joins item `other` into item `target` with CROSS JOIN (the WHERE clause still holds the
/// conditions between them, as it did for the comma join).
fn merge(
    items: &mut [Option<TableWithJoins>],
    group: &mut [Option<usize>],
    target: usize,
    other: usize,
) -> Result<(), String> {
    let moved = items[other].take().ok_or("merged twice")?;
    let item = items[target].as_mut().ok_or("merge target missing")?;
    item.joins.push(Join {
        relation: moved.relation,
        global: false,
        join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
    });
    item.joins.extend(moved.joins);
    for slot in group.iter_mut() {
        if *slot == Some(other) {
            *slot = Some(target);
        }
    }
    Ok(())
}

/// The names a column may be qualified with to refer to this table, in lower case.
fn names(relation: &TableFactor) -> Vec<String> {
    let alias = match relation {
        TableFactor::Table { alias, .. }
        | TableFactor::Derived { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::TableFunction { alias, .. } => alias.as_ref(),
        _ => None,
    };
    if let Some(alias) = alias {
        return vec![alias.name.value.to_lowercase()];
    }
    let TableFactor::Table { name, .. } = relation else {
        return Vec::new();
    };
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|part| match part {
            ObjectNamePart::Identifier(ident) => Some(ident.value.to_lowercase()),
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    let mut names = vec![parts.join(".")];
    names.extend(parts.last().cloned());
    names
}

fn resolve(tables: &[Vec<String>], qualifier: &str) -> Option<usize> {
    let mut found = tables
        .iter()
        .enumerate()
        .filter(|(_, names)| names.iter().any(|n| n == qualifier));
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// The qualifiers of marked (`(+)`) and unmarked columns of one condition, outside subqueries
/// (a subquery's own `(+)` marks are converted when its SELECT is visited).
#[derive(Default)]
struct Scan {
    marked: Vec<String>,
    other: Vec<String>,
    problem: Option<String>,
    in_mark: usize,
    in_or: usize,
    in_query: usize,
}

impl Visitor for Scan {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.in_query += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.in_query -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.in_query > 0 {
            return ControlFlow::Continue(());
        }
        match expr {
            Expr::OuterJoin(_) => {
                self.in_mark += 1;
                if self.in_or > 0 {
                    self.problem = Some("(+) inside an OR condition".into());
                }
            }
            Expr::BinaryOp {
                op: BinaryOperator::Or,
                ..
            } => self.in_or += 1,
            // An unmarked unqualified name may be a pseudo-function (SYSDATE); if it is a column
            // of a table not joined yet, the target rejects the view: loud, not wrong.
            Expr::Identifier(ident) if self.in_mark > 0 => {
                self.problem = Some(format!("column `{ident}` is not qualified with its table"));
            }
            Expr::CompoundIdentifier(parts) => {
                let qualifier = parts[..parts.len().saturating_sub(1)]
                    .iter()
                    .map(|ident| ident.value.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(".");
                if self.in_mark > 0 {
                    self.marked.push(qualifier);
                } else {
                    self.other.push(qualifier);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.in_query > 0 {
            return ControlFlow::Continue(());
        }
        match expr {
            Expr::OuterJoin(_) if self.in_mark > 0 => self.in_mark -= 1,
            Expr::BinaryOp {
                op: BinaryOperator::Or,
                ..
            } => self.in_or -= 1,
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// The condition without its `(+)` marks.
fn strip_marks(mut condition: Expr) -> Expr {
    struct Strip;
    impl VisitorMut for Strip {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::OuterJoin(inner) = expr {
                *expr = (**inner).clone();
            }
            ControlFlow::Continue(())
        }
    }
    let _ = VisitMut::visit(&mut condition, &mut Strip);
    condition
}
