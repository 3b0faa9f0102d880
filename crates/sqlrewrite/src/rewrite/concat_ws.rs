//! `concat_ws_array_to_string`: Hive's `concat_ws(sep, arr)` joins the elements of an array;
//! PostgreSQL's concat_ws writes an array as one value (`{a,b}`). An argument known to be an array
//! becomes `array_to_string(arr, sep)`; one of unknown type is reported.

use super::Ctx;
use crate::ast::{call, plain_args};
use migrate_core::LogicalType;
use sqlparser::ast::{Expr, Function};

pub(crate) const NAME: &str = "concat_ws_array_to_string";

/// `None` leaves the call to the function map.
pub(crate) fn concat_ws(function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    let args = plain_args(function)?;
    let (separator, values) = args.split_first()?;
    let is_array = |value: &Expr, ctx: &Ctx| {
        ctx.column_type(value)
            .map(|ty| matches!(ty, LogicalType::Array(_)))
    };
    let joined = |value: &Expr| {
        Expr::Function(call(
            "ARRAY_TO_STRING",
            vec![value.clone(), separator.clone()],
        ))
    };
    if values
        .iter()
        .any(|value| is_array(value, ctx) == Some(true))
    {
        ctx.log.applied(NAME);
        if let [array] = values {
            return Some(joined(array));
        }
        let mut out = vec![separator.clone()];
        out.extend(values.iter().map(|value| match is_array(value, ctx) {
            Some(true) => joined(value),
            _ => value.clone(),
        }));
        return Some(Expr::Function(call("CONCAT_WS", out)));
    }
    if let Some(unknown) = values
        .iter()
        .find(|value| !matches!(value, Expr::Value(_)) && is_array(value, ctx).is_none())
    {
        ctx.log.warning(
            "function.semantics",
            format!("`{function}`: if `{unknown}` is an array, Hive joins its elements but PostgreSQL's concat_ws writes it as {{a,b}}"),
            "use array_to_string(array, separator) for array arguments",
        );
    }
    None
}
