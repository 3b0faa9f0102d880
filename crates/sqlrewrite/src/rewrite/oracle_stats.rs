//! `stddev_single_row_is_zero`: Oracle's `STDDEV(x)` and `VARIANCE(x)` are 0 over a single row,
//! where the sample forms (`STDDEV_SAMP`, `VAR_SAMP`, which the targets' `STDDEV` and
//! `VARIANCE` are) give NULL. The call becomes `CASE WHEN COUNT(x) = 1 THEN 0 ELSE
//! STDDEV_SAMP(x) END`, the COUNT keeping the call's DISTINCT, FILTER and OVER, so that it counts
//! the rows the aggregate sees (a window's too).

use crate::ast::{arity, binary, case, number};
use sqlparser::ast::{BinaryOperator, Expr, Function, Ident, ObjectName};

pub(crate) const NAME: &str = "stddev_single_row_is_zero";

/// Oracle `STDDEV(...)` or `VARIANCE(...)` (`name`); `None` for a call of another shape.
pub(crate) fn single_row_is_zero(function: &Function, name: &str) -> Option<Expr> {
    if arity(function) != 1 || !function.within_group.is_empty() {
        return None;
    }
    let renamed = |to: &str| {
        let mut call = function.clone();
        call.name = ObjectName::from(vec![Ident::new(to)]);
        Expr::Function(call)
    };
    let sample = if name == "STDDEV" {
        "STDDEV_SAMP"
    } else {
        "VAR_SAMP"
    };
    Some(case(
        None,
        vec![(
            binary(renamed("COUNT"), BinaryOperator::Eq, number(1)),
            number(0),
        )],
        Some(renamed(sample)),
    ))
}
