//! The last pass over a rewritten tree: an operand that a rewrite made an operator expression
//! binding more loosely than the operator around it gets its parentheses. sqlparser prints a
//! tree as it is, without adding any, so `7 - DAYOFWEEK(d)` rewritten to `7 - (... + 1)` would
//! print as `7 - ... + 1`, which the target reads otherwise. Trees the parser built need none:
//! its parentheses are `Nested` nodes already.

use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator, VisitorMut};
use std::ops::ControlFlow;

pub(crate) struct Precedence;

/// How tightly a comparison binds, in [`binding`]'s scale.
const COMPARISON: u8 = 4;

/// How tightly an expression binds as an operand, PostgreSQL's order (higher binds tighter);
/// `None` for one that needs no parentheses anywhere (a column, a call, a literal, a CASE...).
fn binding(expr: &Expr) -> Option<u8> {
    use BinaryOperator as B;
    Some(match expr {
        Expr::BinaryOp { op, .. } => match op {
            B::Or => 1,
            B::And => 2,
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq | B::Spaceship => COMPARISON,
            B::Plus | B::Minus => 7,
            B::Multiply | B::Divide | B::Modulo => 8,
            B::PGExp => 9,
            // Every other operator (`||`, bitwise, regular expressions, JSON...) sits between
            // comparison and addition in PostgreSQL.
            _ => 6,
        },
        Expr::UnaryOp { op, .. } => match op {
            UnaryOperator::Not => 3,
            _ => 10,
        },
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsNotTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. } => 5,
        _ => return None,
    })
}

/// `operand` in parentheses when it binds more loosely than `parent` (`right`: the right operand
/// of a left-associative operator, which needs them at equal binding too: `a - (b - c)`).
fn guard(operand: &mut Expr, parent: u8, right: bool) {
    if let Some(own) = binding(operand) {
        if own < parent || (right && own == parent) {
            let inner = std::mem::replace(operand, Expr::value(sqlparser::ast::Value::Null));
            *operand = Expr::Nested(Box::new(inner));
        }
    }
}

impl VisitorMut for Precedence {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let Some(own) = binding(expr) else {
            return ControlFlow::Continue(());
        };
        match expr {
            Expr::BinaryOp { left, right, .. } => {
                // Comparisons don't chain in the targets (`a > 0 <> b > 0` is refused):
                // a comparison compared gets its parentheses on either side.
                guard(left, own, own == COMPARISON);
                guard(right, own, true);
            }
            Expr::UnaryOp { expr: operand, .. }
            | Expr::IsNull(operand)
            | Expr::IsNotNull(operand)
            | Expr::IsTrue(operand)
            | Expr::IsNotTrue(operand)
            | Expr::IsFalse(operand)
            | Expr::IsNotFalse(operand) => guard(operand, own + 1, false),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
