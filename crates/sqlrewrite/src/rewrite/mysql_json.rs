//! `json_path_to_operator`: MySQL's JSON functions with a literal path of keys and array
//! indexes (`'$.a.b'`, `'$[0].c'`) become PostgreSQL's path operators on JSONB (whose text is
//! MySQL's: `{"b": [1, 2.50]}`):
//!
//! - `JSON_EXTRACT(j, path)` and `j -> path` become `CAST(j AS JSONB) #> '{a,b}'`;
//! - `JSON_UNQUOTE(JSON_EXTRACT(j, path))` and `j ->> path` become `CAST(j AS JSONB) #>> '{a,b}'`
//!   (in a `CASE` that gives `'null'` for a JSON null, as MySQL does);
//! - `JSON_VALUE(j, path)` (NULL for an object or array, 1 or 0 for a boolean) a `CASE` on
//!   `JSONB_TYPEOF`.
//!
//! Any other path (wildcards, ranges, `last`), several paths, or a path that is not a literal
//! is reported, as is any JSON function on Redshift. MySQL gives NULL for text that is not JSON,
//! where the cast stops the query: a `function.semantics` warning unless the column is JSON.

use super::Ctx;
use crate::ast::{binary, call, case, cast, string};
use migrate_core::{LogicalType, TargetDialect};
use sqlparser::ast::{BinaryOperator, DataType, Expr, Value};

pub(crate) const NAME: &str = "json_path_to_operator";

/// The keys and indexes of a MySQL path made of `.key`, `."key"` and `[n]` steps, as the
/// elements of a PostgreSQL text array literal (`{a,0,"b c"}`).
fn path_array(path: &str) -> Option<String> {
    let mut rest = path.trim().strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let (index, tail) = after.split_once(']')?;
            let index = index.trim();
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            steps.push(index.to_string());
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('.') {
            if let Some(quoted) = after.strip_prefix('"') {
                let (key, tail) = quoted.split_once('"')?;
                if key.contains(['\\', '{', '}', ',']) {
                    return None;
                }
                steps.push(format!("\"{key}\""));
                rest = tail;
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                    .unwrap_or(after.len());
                if end == 0 {
                    return None;
                }
                steps.push(after[..end].to_string());
                rest = &after[end..];
            }
        } else {
            return None;
        }
    }
    Some(format!("{{{}}}", steps.join(",")))
}

/// `expr` as the user reads it in a message, without MySQL's quotes (`t.j`).
pub(crate) fn unquoted_text(expr: &Expr) -> String {
    expr.to_string().replace('`', "")
}

fn literal_text(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(text) => Some(text),
            _ => None,
        },
        _ => None,
    }
}

/// `CAST(doc AS JSONB) <op> '{path}'`, or `None` (reported) when the path is not one it takes.
fn path_operator(
    name: &str,
    doc: Expr,
    path: &Expr,
    op: BinaryOperator,
    ctx: &mut Ctx,
) -> Option<Expr> {
    if ctx.to != TargetDialect::Postgres {
        ctx.log.action(
            "function.unsupported",
            format!("{name} on `{}` has no equivalent checked on Redshift", unquoted_text(&doc)),
            "use JSON_EXTRACT_PATH_TEXT(doc, 'key', ...) for keys of objects, JSON_EXTRACT_ARRAY_ELEMENT_TEXT for array elements, after checking them against the source's values",
        );
        return None;
    }
    let Some(array) = literal_text(path).and_then(path_array) else {
        ctx.log.action(
            "function.unsupported",
            format!("{name} with the path `{path}`: only a literal path of keys and array indexes ('$.a.b', '$[0]') is converted"),
            "rewrite the call with PostgreSQL's JSONB operators (#> and #>> take the path as a text array) or JSONB_PATH_QUERY",
        );
        return None;
    };
    if ctx.column_type(&doc) != Some(&LogicalType::Json) {
        ctx.log.warning(
            "function.semantics",
            format!("{name} on `{}`: MySQL gives NULL for text that is not JSON, where PostgreSQL's cast to JSONB stops the query", unquoted_text(&doc)),
            "make sure the column holds only JSON documents (or NULL), or make it a JSON column",
        );
    }
    ctx.log.applied(NAME);
    Some(binary(cast(doc, DataType::JSONB), op, string(array)))
}

/// MySQL JSON_EXTRACT, JSON_UNQUOTE and JSON_VALUE (`name`) calls with a literal path.
pub(crate) fn json_call(name: &str, args: Vec<Expr>, ctx: &mut Ctx) -> Option<Expr> {
    match (name, <[Expr; 2]>::try_from(args)) {
        ("JSON_EXTRACT", Ok([doc, path])) => {
            path_operator(name, doc, &path, BinaryOperator::HashArrow, ctx)
        }
        ("JSON_VALUE", Ok([doc, path])) => {
            let value = path_operator(name, doc, &path, BinaryOperator::HashArrow, ctx)?;
            let Expr::BinaryOp { left, right, .. } = &value else {
                return None;
            };
            let text = binary(
                (**left).clone(),
                BinaryOperator::HashLongArrow,
                (**right).clone(),
            );
            let kind = Expr::Function(call("JSONB_TYPEOF", vec![value]));
            Some(case(
                Some(kind),
                vec![
                    (string("object"), Expr::value(Value::Null)),
                    (string("array"), Expr::value(Value::Null)),
                    (
                        string("boolean"),
                        case(
                            None,
                            vec![(
                                binary(text.clone(), BinaryOperator::Eq, string("true")),
                                string("1"),
                            )],
                            Some(string("0")),
                        ),
                    ),
                ],
                Some(text),
            ))
        }
        ("JSON_UNQUOTE", Err(args)) => match <[Expr; 1]>::try_from(args) {
            // JSON_EXTRACT, already rewritten.
            Ok(
                [Expr::BinaryOp {
                    left,
                    op: BinaryOperator::HashArrow,
                    right,
                }],
            ) => Some(unquoted(*left, *right)),
            _ => {
                ctx.log.action(
                    "function.unsupported",
                    "JSON_UNQUOTE of anything but JSON_EXTRACT with a literal path of keys and array indexes is not converted",
                    "use CAST(x AS JSONB) #>> '{}' for a JSON string, after checking it against the source's values",
                );
                None
            }
        },
        _ => {
            ctx.log.action(
                "function.unsupported",
                format!("{name} with these arguments is not converted: only a document and one literal path of keys and array indexes are"),
                "rewrite the call with PostgreSQL's JSONB operators (#> and #>> take the path as a text array) or JSONB_PATH_QUERY",
            );
            None
        }
    }
}

/// `doc #>> path`, but `'null'` for a JSON null, as MySQL's JSON_UNQUOTE gives.
fn unquoted(doc: Expr, path: Expr) -> Expr {
    let value = binary(doc.clone(), BinaryOperator::HashArrow, path.clone());
    let kind = Expr::Function(call("JSONB_TYPEOF", vec![value]));
    case(
        Some(kind),
        vec![(string("null"), string("null"))],
        Some(binary(doc, BinaryOperator::HashLongArrow, path)),
    )
}

/// MySQL `j -> path` and `j ->> path`.
pub(crate) fn arrows(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != migrate_core::SourceDialect::Mysql {
        return;
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    let name = match op {
        BinaryOperator::Arrow => "->",
        BinaryOperator::LongArrow => "->>",
        _ => return,
    };
    let Some(extracted) = path_operator(
        name,
        (**left).clone(),
        right,
        BinaryOperator::HashArrow,
        ctx,
    ) else {
        return;
    };
    *expr = match (name, extracted) {
        ("->>", Expr::BinaryOp { left, right, .. }) => unquoted(*left, *right),
        (_, extracted) => extracted,
    };
}
