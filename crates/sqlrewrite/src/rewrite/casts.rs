//! Type names in `CAST(x AS type)` that the targets do not know: Oracle's (`VARCHAR2`, `NUMBER`,
//! `DATE`) are mapped by the `[[cast]]` entries of the function map, and its other own types
//! (`CLOB`, `BLOB`, `RAW`, `BINARY_DOUBLE`, ...) through its type map; MySQL's and Hive's
//! (`DATETIME`, `SIGNED`, `STRING`) through the source's type map: as a column of that type would
//! be. PostgreSQL's built-in types with a `[[cast]]` entry (a bare `::numeric` or `::text`) are
//! mapped by it too. A type the source's type map keeps for a target of its own engine
//! (PostgreSQL's `"char"`) is mapped by that map, as a column of it is: kept on PostgreSQL,
//! mapped elsewhere.

use super::Ctx;
use crate::funcmap::data_type;
use migrate_core::SourceDialect;
use sqlparser::ast::{CharacterLength, DataType, Expr, ObjectName};

pub(crate) const USER_TYPE_NAME: &str = "user_type_cast";
/// The name reported for a cast whose type was mapped through the source's type map.
pub(crate) const SOURCE_TYPE_NAME: &str = "source_cast_type";

pub(crate) fn cast_type(expr: &mut Expr, ctx: &mut Ctx) {
    if matches!(ctx.from, SourceDialect::Mysql | SourceDialect::Hive) && source_cast_type(expr, ctx)
    {
        return;
    }
    let (name, modifiers) = match expr {
        Expr::Cast {
            data_type: DataType::Custom(name, modifiers),
            ..
        } => {
            if let Some(target) = user_type_target(name, ctx) {
                user_type_cast(expr, target, ctx);
                return;
            }
            (name.to_string(), modifiers.clone())
        }
        // Oracle's DATE holds a time of day, which the targets' DATE would cut off.
        Expr::Cast {
            data_type: DataType::Date,
            ..
        } if ctx.from == SourceDialect::Oracle => ("DATE".to_string(), Vec::new()),
        Expr::Cast { data_type, .. }
            if ctx.from == SourceDialect::Oracle && is_oracle_only(data_type) =>
        {
            (data_type.to_string(), Vec::new())
        }
        // A built-in type with a `[[cast]]` entry: PostgreSQL's bare `::numeric` and `::text`,
        // whose meaning is narrower in Redshift.
        Expr::Cast { data_type, .. } => match name_and_modifiers(data_type) {
            Some(parts) if ctx.map.cast(&parts.0).is_some() => parts,
            _ => return,
        },
        _ => return,
    };
    if ctx
        .cast_types
        .as_ref()
        .is_some_and(|types| types.keeps(&name))
        && source_cast_type(expr, ctx)
    {
        return;
    }
    let Some(cast) = ctx.map.cast(&name) else {
        if ctx.from == SourceDialect::Oracle && source_cast_type(expr, ctx) {
            return;
        }
        ctx.log.warning(
            "cast.unknown-type",
            format!("CAST to `{name}`, a type that is not mapped to {}", ctx.to),
            "check that the type exists in the target, or change the cast",
        );
        return;
    };
    let target = cast.target(ctx.to);
    let (new_type, warning) = match (&target.bare, modifiers.is_empty()) {
        // A literal that the bare type holds exactly (`(0)::numeric`) loses nothing.
        (Some(bare), true) if literal_fits(expr, bare) => (Ok(bare.clone()), None),
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

/// True when `expr` casts a number literal whose digits fit the precision and scale of `bare`
/// (`NUMERIC(38, 10)`): its value is kept exactly.
fn literal_fits(expr: &Expr, bare: &DataType) -> bool {
    let Expr::Cast { expr: operand, .. } = expr else {
        return false;
    };
    let Some((_, digits)) = crate::ast::number_literal(operand) else {
        return false;
    };
    let Some((_, modifiers)) = name_and_modifiers(bare) else {
        return false;
    };
    let [precision, scale] = modifiers.as_slice() else {
        return false;
    };
    let (Ok(precision), Ok(scale)) = (precision.parse::<usize>(), scale.parse::<usize>()) else {
        return false;
    };
    let (integer, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let integer = integer.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    integer
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
        && integer.len() <= precision.saturating_sub(scale)
        && fraction.len() <= scale
}

/// A built-in type's name and its length / precision: `NUMERIC(12,4)` is `NUMERIC`, `[12, 4]`.
fn name_and_modifiers(data_type: &DataType) -> Option<(String, Vec<String>)> {
    let text = data_type.to_string();
    let Some((name, rest)) = text.split_once('(') else {
        return Some((text, Vec::new()));
    };
    let modifiers = rest.strip_suffix(')')?.split(',');
    Some((
        name.trim().to_string(),
        modifiers.map(|m| m.trim().to_string()).collect(),
    ))
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

/// Maps a cast's type as a column of that type would be: every MySQL and Hive cast (and MySQL
/// `CONVERT(x, type)`, which becomes a CAST), and Oracle's own types that no `[[cast]]` entry
/// covers. A type with no mapping is an action (the view is not written), never passed through.
/// Returns whether the cast was handled (false without a type map to map with).
fn source_cast_type(expr: &mut Expr, ctx: &mut Ctx) -> bool {
    let Some(cast_types) = ctx.cast_types.clone() else {
        return false;
    };
    let (Expr::Cast {
        data_type: source, ..
    }
    | Expr::Convert {
        data_type: Some(source),
        ..
    }) = expr
    else {
        return false;
    };
    let text = source_type_text(ctx.from, source);
    let mapped = cast_types
        .target_type(&text)
        .and_then(|(target, notes)| Ok((data_type(&target)?, notes)));
    let (target, notes) = match mapped {
        Ok(mapped) => mapped,
        Err(error) => {
            ctx.log.action(
                "cast.unsupported",
                format!("CAST to `{source}` could not be converted: {error}"),
                "change the cast by hand",
            );
            return true;
        }
    };
    for note in notes {
        ctx.log
            .note(note.severity, &note.code, note.message, note.action);
    }
    ctx.log.applied(SOURCE_TYPE_NAME);
    if let Expr::Convert { expr: value, .. } = expr {
        let value = std::mem::replace(value.as_mut(), Expr::value(sqlparser::ast::Value::Null));
        *expr = crate::ast::cast(value, target);
    } else if let Expr::Cast { data_type, .. } = expr {
        *data_type = target;
    }
    true
}

/// An Oracle type that sqlparser reads as one of its own (not `Custom`) but that the targets
/// don't have: passed through, the view would not be created.
fn is_oracle_only(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Clob(_) | DataType::Blob(_))
}

/// The type a cast names, as the source's type map knows it. MySQL casts have spellings of their
/// own: `SIGNED`/`UNSIGNED [INTEGER]` are 64-bit integers, and `CHAR`/`BINARY` are variable-length
/// strings, unbounded without a length (`CAST(123 AS CHAR)` is `'123'`, not a `CHAR(1)`).
fn source_type_text(from: SourceDialect, data_type: &DataType) -> String {
    if from != SourceDialect::Mysql {
        return data_type.to_string();
    }
    match data_type {
        DataType::Signed | DataType::SignedInteger => "BIGINT".to_string(),
        DataType::Unsigned | DataType::UnsignedInteger => "BIGINT UNSIGNED".to_string(),
        DataType::Char(None) => "LONGTEXT".to_string(),
        DataType::Char(Some(CharacterLength::IntegerLength { length, .. })) => {
            format!("VARCHAR({length})")
        }
        DataType::Binary(None) => "LONGBLOB".to_string(),
        DataType::Binary(Some(length)) => format!("VARBINARY({length})"),
        other => other.to_string(),
    }
}
