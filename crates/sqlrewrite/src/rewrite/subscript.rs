//! Hive's access into complex columns: array subscripts (`tags[0]`, `t.tags[0]`), map lookups
//! (`attrs['k']`) and struct fields (`geo.country`, `t.geo.city.zip`, `pts[0].x`).
//!
//! - `hive_array_index`: Hive arrays are indexed from 0 (`a[0]` is the first element), PostgreSQL's
//!   from 1. On the PostgreSQL target, where Hive arrays stay native arrays, a subscript of an
//!   array column gets 1 added (`a[0]` becomes `a[1]`, `a[i]` becomes `a[(i) + 1]`). Redshift
//!   keeps arrays as SUPER, whose subscripts are 0-based like Hive's. A subscript of a column
//!   whose type isn't known is reported: it may be an array.
//! - `hive_field_access`: structs and maps become JSONB on PostgreSQL, so a field or a key is read
//!   with `->` (`->>` for a scalar, cast to the field's type: `(t.geo ->> 'lat')::DOUBLE
//!   PRECISION`), and an array inside them is a JSON array, indexed from 0 like Hive's. Redshift
//!   navigates SUPER with Hive's own syntax, but `geo.country` would name table `geo`: the column
//!   is qualified with its table (`t.geo.country`).

use super::Ctx;
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{
    AccessExpr, BinaryOperator, Expr, Ident, Select, SelectItem, Subscript, Value, ValueWithSpan,
};

pub(crate) const NAME: &str = "hive_array_index";
pub(crate) const FIELD_NAME: &str = "hive_field_access";

/// One step into a value: `.name` or `[index]`.
enum Step {
    Field(Ident),
    Index(Box<Expr>),
}

/// A select item that reads into a complex column keeps the name Hive gives it: a struct
/// field's name, `_c<position>` after a subscript. The target would name the rewritten
/// expression after its operator, cast or column, and two such names in one view clash.
pub(crate) fn name_field_columns(select: &mut Select, ctx: &Ctx) {
    if ctx.from != SourceDialect::Hive {
        return;
    }
    for (position, item) in select.projection.iter_mut().enumerate() {
        let SelectItem::UnnamedExpr(expr) = item else {
            continue;
        };
        let Some((names, steps)) = path(expr) else {
            continue;
        };
        let field = match (steps.last(), resolve(&names, ctx)) {
            (Some(Step::Field(field)), Some(_)) => field.clone(),
            (Some(Step::Index(_)), Some(_)) => Ident::new(format!("_c{position}")),
            (None, Some((_, root_parts, _))) if names.len() > root_parts => {
                names[names.len() - 1].clone()
            }
            _ => continue,
        };
        let expr = std::mem::replace(expr, Expr::value(Value::Null));
        *item = SelectItem::ExprWithAlias { expr, alias: field };
    }
}

/// The column a path starts with: `a.b...` is column `b` of table `a`, or field `b` of column
/// `a`. The name the query uses for its table, how many names the column took, and its type.
fn resolve(names: &[Ident], ctx: &Ctx) -> Option<(String, usize, LogicalType)> {
    let types = ctx.types.as_deref()?;
    let qualified = match names {
        [qualifier, column, ..] => ctx
            .scopes
            .column(types, Some(&qualifier.value), &column.value)
            .map(|(used, ty)| (used.to_string(), 2, ty.clone())),
        _ => None,
    };
    qualified.or_else(|| {
        let (used, ty) = ctx.scopes.column(types, None, &names.first()?.value)?;
        Some((used.to_string(), 1, ty.clone()))
    })
}

pub(crate) fn hive_access(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Hive {
        return;
    }
    let subscripted = matches!(expr, Expr::CompoundFieldAccess { access_chain, .. }
        if access_chain.iter().any(|access| matches!(access, AccessExpr::Subscript(_))));
    let resolved =
        path(expr).and_then(|(names, steps)| Some((resolve(&names, ctx)?, names, steps)));
    let Some(((used, root_parts, root_type), names, mut steps)) = resolved else {
        if ctx.to == TargetDialect::Postgres && subscripted {
            ctx.log.warning(
                "view.array-index",
                format!("`{expr}`: if it indexes a Hive array, it counts from 0, and PostgreSQL arrays count from 1"),
                "add 1 to the index if it is an array",
            );
        }
        return;
    };
    let mut fields: Vec<Step> = names[root_parts..]
        .iter()
        .cloned()
        .map(Step::Field)
        .collect();
    fields.append(&mut steps);
    if fields.is_empty() {
        return;
    }
    let root = match &names[..root_parts] {
        [column] => Expr::Identifier(column.clone()),
        parts => Expr::CompoundIdentifier(parts.to_vec()),
    };
    let rewritten = match ctx.to {
        TargetDialect::Postgres => postgres_access(root, &root_type, fields, ctx),
        TargetDialect::Redshift => Ok(redshift_access(root, &used, fields, ctx)),
    };
    match rewritten {
        Ok(Some(rewritten)) => *expr = rewritten,
        Ok(None) => {}
        Err(why) => ctx.log.action(
            "view.field-access",
            format!("`{expr}` can't be translated: {why}"),
            "rewrite the access to the complex column by hand",
        ),
    }
}

/// The column reference and the steps after it, for a chain of names and subscripts.
fn path(expr: &Expr) -> Option<(Vec<Ident>, Vec<Step>)> {
    match expr {
        Expr::CompoundIdentifier(parts) => Some((parts.clone(), Vec::new())),
        Expr::CompoundFieldAccess { root, access_chain } => {
            let mut names = match root.as_ref() {
                Expr::Identifier(ident) => vec![ident.clone()],
                Expr::CompoundIdentifier(parts) => parts.clone(),
                _ => return None,
            };
            let mut steps = Vec::new();
            for access in access_chain {
                match access {
                    AccessExpr::Dot(Expr::Identifier(field)) if steps.is_empty() => {
                        names.push(field.clone())
                    }
                    AccessExpr::Dot(Expr::Identifier(field)) => {
                        steps.push(Step::Field(field.clone()))
                    }
                    AccessExpr::Subscript(Subscript::Index { index }) => {
                        steps.push(Step::Index(Box::new(index.clone())))
                    }
                    _ => return None,
                }
            }
            Some((names, steps))
        }
        _ => None,
    }
}

/// PostgreSQL: native array subscripts 1-based, JSONB (structs, maps, arrays inside them) read
/// with `->`, and a scalar at the end with `->>` and a cast. `None` when nothing changes.
fn postgres_access(
    root: Expr,
    root_type: &LogicalType,
    steps: Vec<Step>,
    ctx: &mut Ctx,
) -> Result<Option<Expr>, String> {
    let mut value = root;
    let mut ty = root_type.clone();
    // Subscripts of a native array, applied together; `in_json` once the value is JSONB.
    let mut subscripts = Vec::new();
    let mut in_json = is_jsonb(&ty);
    let mut shifted = false;
    let mut json_steps = 0;
    for step in steps {
        match (step, ty) {
            (Step::Index(index), LogicalType::Array(element)) if !in_json => {
                subscripts.push(AccessExpr::Subscript(Subscript::Index {
                    index: one_based(*index),
                }));
                shifted = true;
                ty = *element;
                if is_jsonb(&ty) {
                    value = chain(value, std::mem::take(&mut subscripts));
                    in_json = true;
                }
            }
            (Step::Index(index), LogicalType::Array(element)) => {
                value = arrow(value, *index);
                json_steps += 1;
                ty = *element;
            }
            (Step::Index(key), LogicalType::Map(_, element)) => {
                value = arrow(value, json_key(*key));
                json_steps += 1;
                ty = *element;
            }
            (Step::Field(field), LogicalType::Struct(fields)) => {
                let Some(found) = fields
                    .into_iter()
                    .find(|f| f.name.eq_ignore_ascii_case(&field.value))
                else {
                    return Err(format!("the struct has no field `{field}`"));
                };
                value = arrow(value, string(found.name));
                json_steps += 1;
                ty = found.data_type;
            }
            (Step::Field(field), other) => {
                return Err(format!(
                    "`.{field}` reads a field of a {other}, not of a struct"
                ))
            }
            (Step::Index(_), other) => return Err(format!("a subscript of a {other}")),
        }
    }
    value = chain(value, subscripts);
    if shifted {
        ctx.log.applied(NAME);
    }
    if json_steps == 0 {
        return Ok(shifted.then_some(value));
    }
    ctx.log.applied(FIELD_NAME);
    if is_container(&ty) {
        return Ok(Some(Expr::Nested(Box::new(value))));
    }
    // A scalar: its text, cast back to its type.
    if let Expr::BinaryOp { op, .. } = &mut value {
        *op = BinaryOperator::LongArrow;
    }
    let target = match ty.is_character() {
        true => None,
        false => ctx
            .cast_types
            .as_ref()
            .and_then(|types| types.logical_target(&ty))
            .and_then(|text| crate::funcmap::data_type(&text).ok()),
    };
    Ok(Some(match target {
        Some(data_type) => crate::ast::cast(value, data_type),
        None => Expr::Nested(Box::new(value)),
    }))
}

/// Redshift: the column is qualified when a field follows it directly, so that `geo.country`
/// does not name table `geo`. `None` when nothing changes.
fn redshift_access(root: Expr, used: &str, steps: Vec<Step>, ctx: &mut Ctx) -> Option<Expr> {
    let root = match root {
        Expr::Identifier(column) if matches!(steps.first(), Some(Step::Field(_))) => {
            Expr::CompoundIdentifier(vec![Ident::new(used), column])
        }
        _ => return None,
    };
    ctx.log.applied(FIELD_NAME);
    let access = steps
        .into_iter()
        .map(|step| match step {
            Step::Field(field) => AccessExpr::Dot(Expr::Identifier(field)),
            Step::Index(index) => AccessExpr::Subscript(Subscript::Index { index: *index }),
        })
        .collect();
    Some(chain(root, access))
}

/// Hive types that become JSONB on PostgreSQL.
fn is_jsonb(ty: &LogicalType) -> bool {
    matches!(
        ty,
        LogicalType::Struct(_) | LogicalType::Map(..) | LogicalType::Union(_)
    )
}

fn is_container(ty: &LogicalType) -> bool {
    is_jsonb(ty) || matches!(ty, LogicalType::Array(_))
}

fn chain(root: Expr, access_chain: Vec<AccessExpr>) -> Expr {
    match access_chain.is_empty() {
        true => root,
        false => Expr::CompoundFieldAccess {
            root: Box::new(root),
            access_chain,
        },
    }
}

fn arrow(value: Expr, key: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(value),
        op: BinaryOperator::Arrow,
        right: Box::new(key),
    }
}

fn string(text: String) -> Expr {
    Expr::value(Value::SingleQuotedString(text))
}

/// JSON object keys are strings: a number becomes its text, another expression is cast.
fn json_key(key: Expr) -> Expr {
    match key {
        Expr::Value(ValueWithSpan {
            value: Value::Number(number, _),
            ..
        }) => string(number),
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(_),
            ..
        }) => key,
        other => crate::ast::cast(other, sqlparser::ast::DataType::Text),
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
