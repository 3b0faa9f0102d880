//! Type names in `CAST(x AS type)` that the targets do not know (Oracle `VARCHAR2`, `NUMBER`),
//! mapped by the `[[cast]]` entries of the function map.

use super::Ctx;
use crate::funcmap::data_type;
use sqlparser::ast::{DataType, Expr};

pub(crate) fn cast_type(expr: &mut Expr, ctx: &mut Ctx) {
    let Expr::Cast {
        data_type: DataType::Custom(name, modifiers),
        ..
    } = expr
    else {
        return;
    };
    let Some(cast) = ctx.map.cast(&name.to_string()) else {
        ctx.log.warning(
            "cast.unknown-type",
            format!("CAST to `{name}`, a type that is not mapped to {}", ctx.to),
            "check that the type exists in the target, or change the cast",
        );
        return;
    };
    let target = cast.target(ctx.to);
    let (new_type, warning) = match (&target.bare, modifiers.is_empty()) {
        (Some(bare), true) => (Ok(bare.clone()), target.bare_warning.as_ref()),
        _ if modifiers.is_empty() => (data_type(&target.to), target.warning.as_ref()),
        _ => (
            data_type(&format!("{}({})", target.to, modifiers.join(", "))),
            target.warning.as_ref(),
        ),
    };
    match new_type {
        Ok(new_type) => {
            ctx.log.applied(cast.id.as_str());
            if let Some(warning) = warning {
                ctx.log.warning(
                    "function.semantics",
                    format!("CAST to {name} converted with a difference: {warning}"),
                    "review the converted expression",
                );
            }
            if let Expr::Cast { data_type, .. } = expr {
                *data_type = new_type;
            }
        }
        Err(error) => ctx.log.action(
            "cast.unsupported",
            format!(
                "CAST to `{name}({})` could not be converted: {error}",
                modifiers.join(", ")
            ),
            "change the cast by hand",
        ),
    }
}
