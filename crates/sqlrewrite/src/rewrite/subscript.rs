//! Hive arrays are indexed from 0 (`a[0]` is the first element), PostgreSQL's from 1. On the
//! PostgreSQL target, where Hive arrays stay native arrays, a subscript of an array column gets 1
//! added (`a[0]` becomes `a[1]`, `a[i]` becomes `a[(i) + 1]`). Redshift keeps arrays as SUPER,
//! whose subscripts are 0-based like Hive's. A subscript of a column whose type isn't known is
//! reported: it may be an array.

use super::Ctx;
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{AccessExpr, BinaryOperator, Expr, Subscript, Value};

pub(crate) const NAME: &str = "hive_array_index";

pub(crate) fn hive_array_index(expr: &mut Expr, ctx: &mut Ctx) {
    if (ctx.from, ctx.to) != (SourceDialect::Hive, TargetDialect::Postgres) {
        return;
    }
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return;
    };
    let mut element = ctx.column_type(root).cloned();
    for access in access_chain.iter_mut() {
        let AccessExpr::Subscript(Subscript::Index { index }) = access else {
            return;
        };
        match element {
            Some(LogicalType::Array(inner)) => {
                *index = one_based(std::mem::replace(index, Expr::value(Value::Null)));
                ctx.log.applied(NAME);
                element = Some(*inner);
            }
            Some(LogicalType::Map(_, value)) => element = Some(*value),
            _ => {
                ctx.log.warning(
                    "view.array-index",
                    format!("`{root}[{index}]`: if it indexes a Hive array, it counts from 0, and PostgreSQL arrays count from 1"),
                    "add 1 to the index if it is an array",
                );
                return;
            }
        }
    }
}

/// `0` -> `1`; any other index `i` -> `(i) + 1`.
fn one_based(index: Expr) -> Expr {
    if let Expr::Value(value) = &index {
        if let Value::Number(number, long) = &value.value {
            if let Some(next) = number.parse::<i64>().ok().and_then(|n| n.checked_add(1)) {
                return Expr::value(Value::Number(next.to_string(), *long));
            }
        }
    }
    Expr::BinaryOp {
        left: Box::new(Expr::Nested(Box::new(index))),
        op: BinaryOperator::Plus,
        right: Box::new(Expr::value(Value::Number("1".to_string(), false))),
    }
}
