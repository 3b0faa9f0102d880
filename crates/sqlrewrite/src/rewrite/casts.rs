//! Type names in `CAST(x AS type)` that the targets do not know (Oracle `VARCHAR2`, `NUMBER`),
//! mapped by the `[[cast]]` entries of the function map.

use super::Ctx;
use crate::funcmap::data_type;
use sqlparser::ast::{DataType, Expr, ObjectName};

pub(crate) const USER_TYPE_NAME: &str = "user_type_cast";

pub(crate) fn cast_type(expr: &mut Expr, ctx: &mut Ctx) {
    let Expr::Cast {
        data_type: DataType::Custom(name, modifiers),
        ..
    } = expr
    else {
        return;
    };
    if let Some(target) = user_type_target(name, ctx) {
        user_type_cast(expr, target, ctx);
        return;
    }
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

/// The target type of the user-defined type `name` names, if the converted scripts define one.
fn user_type_target(name: &ObjectName, ctx: &Ctx) -> Option<String> {
    let name = name.0.last()?.as_ident()?.value.to_lowercase();
    ctx.user_types.get(&name).cloned()
}

/// `user_type_cast`: a cast to a domain or enum (pg_dump's `'ok'::public.mood`) becomes a cast to
/// the type its columns get in the target (`'ok'::VARCHAR(20)`), since the type itself is not
/// created there.
fn user_type_cast(expr: &mut Expr, target: String, ctx: &mut Ctx) {
    match data_type(&target) {
        Ok(new_type) => {
            if let Expr::Cast { data_type, .. } = expr {
                *data_type = new_type;
            }
            ctx.log.applied(USER_TYPE_NAME);
        }
        Err(error) => ctx.log.action(
            "cast.unsupported",
            format!("CAST to a user-defined type could not be converted: {error}"),
            "change the cast by hand",
        ),
    }
}
