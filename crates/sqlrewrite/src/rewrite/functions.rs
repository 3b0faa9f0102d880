//! Function calls: the named rewrites that take a call apart (DECODE, NVL2, GROUP_CONCAT,
//! STRING_AGG, LISTAGG), then the data-driven function map, then the check that anything left is
//! known in the target.

use super::{
    concat_ws, date_format, decode, mysql, mysql_arithmetic, mysql_functions, mysql_interval,
    mysql_json, mysql_strings, nvl2, oracle_stats, string_agg, timestampdiff, trunc, Ctx,
};
use crate::ast::{arity, builtin_name, has_clauses, is_atomic, plain_args};
use crate::funcmap::{placeholder, Action, Rule};
use migrate_core::{SourceDialect, TargetDialect};
use sqlparser::ast::{Expr, Function, Ident, ObjectName, VisitMut, VisitorMut};
use std::ops::ControlFlow;

/// The name reported when a pseudo-function written without parentheses (Oracle `SYSDATE`,
/// `SYSTIMESTAMP`, `USER`) is replaced.
pub(crate) const BARE_NAME: &str = "sysdate_to_getdate";

/// Rewrites `expr` if it is a function call.
pub(crate) fn rewrite_call(expr: &mut Expr, ctx: &mut Ctx) {
    let Expr::Function(function) = expr else {
        return;
    };
    let Some(name) = builtin_name(function).or_else(|| package_function(function, ctx)) else {
        if let Some(column) = method_of_column(function, ctx) {
            ctx.log.action(
                "view.method-call",
                format!("`{function}` calls a method on the column `{column}`: the target has no methods on column values"),
                format!("call the function with the column as its first argument (e.g. `{}({column}, ...)`)", function.name.0.last().map(ToString::to_string).unwrap_or_default()),
            );
            return;
        }
        ctx.log.warning(
            "function.unverified",
            format!("`{}` is a user-defined function", function.name),
            format!(
                "make sure `{}` exists in {} before this object is created",
                function.name, ctx.to
            ),
        );
        return;
    };
    if let Some(replacement) = code_rewrite(&name, function, ctx) {
        *expr = replacement;
        return;
    }
    if let Some(rules) = ctx.map.rules(&name) {
        let n = arity(function);
        match rules.iter().find(|rule| rule.accepts(n)) {
            Some(rule) => {
                if let Some(replacement) = apply(rule, &name, function, ctx) {
                    *expr = replacement;
                }
            }
            None => ctx.log.action(
                "function.unsupported",
                format!(
                    "{name} with {n} argument(s) has no equivalent in {}",
                    ctx.to
                ),
                "rewrite the call by hand",
            ),
        }
        return;
    }
    if !ctx.map.same(&name, ctx.to) {
        ctx.log.warning(
            "function.unverified",
            format!("{name} is not a known {} built-in with the same meaning in {}", ctx.from, ctx.to),
            format!("check that {name} exists in {} and means the same, or that it is a user-defined function created there", ctx.to),
        );
    }
}

impl crate::Rewritten {
    /// The notes of calls the function map doesn't know (`function.unverified`): a built-in the
    /// target may lack, or a user-defined function.
    pub fn unverified_calls(&self) -> impl Iterator<Item = &crate::Note> {
        self.notes
            .iter()
            .filter(|note| note.code == "function.unverified")
    }
}

/// `PACKAGE.FUNCTION` (Oracle `DBMS_LOB.SUBSTR`) when the function map has rules for it.
fn package_function(function: &Function, ctx: &Ctx) -> Option<String> {
    let [package, name] = function.name.0.as_slice() else {
        return None;
    };
    let (package, name) = (package.as_ident()?, name.as_ident()?);
    if package.quote_style.is_some() || name.quote_style.is_some() {
        return None;
    }
    let qualified = format!("{}.{}", package.value, name.value).to_ascii_uppercase();
    ctx.map.rules(&qualified).map(|_| qualified)
}

/// The column a call `col.method(...)` is made on, when `col` is a column of a table in scope.
fn method_of_column(function: &Function, ctx: &Ctx) -> Option<String> {
    let [column, _] = function.name.0.as_slice() else {
        return None;
    };
    let column = column.as_ident()?;
    ctx.column_type(&Expr::Identifier(column.clone()))?;
    Some(column.value.clone())
}

/// Calls that need code rather than a mapping; `None` leaves the call to the function map. A
/// call that the code could not rewrite comes back unchanged (and noted), not to the map.
fn code_rewrite(name: &str, function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    let rewrite: fn(Vec<Expr>) -> Option<Expr>;
    let rewrite_name = match (ctx.from, name) {
        (SourceDialect::Oracle, "DECODE") => {
            rewrite = decode::decode_to_case;
            decode::NAME
        }
        (SourceDialect::Oracle, "NVL2") => {
            rewrite = nvl2::nvl2_to_case;
            nvl2::NAME
        }
        (SourceDialect::Oracle, "STDDEV" | "VARIANCE") => {
            let replacement = oracle_stats::single_row_is_zero(function, name)?;
            ctx.log.applied(oracle_stats::NAME);
            return Some(replacement);
        }
        (SourceDialect::Mysql, "CONCAT") if plain_args(function).is_some_and(|a| a.len() > 2) => {
            let replacement =
                plain_args(function).and_then(|args| mysql::concat_many(args, ctx.to))?;
            ctx.log.applied(mysql::CONCAT_NAME);
            return Some(replacement);
        }
        (SourceDialect::Mysql, "DATE_FORMAT") => {
            let replacement = plain_args(function)
                .and_then(|args| date_format::date_format_to_char(&args, ctx.to))?;
            ctx.log.applied(date_format::NAME);
            return Some(replacement);
        }
        (SourceDialect::Mysql, "TIMESTAMPDIFF") if ctx.to == TargetDialect::Postgres => {
            let replacement =
                plain_args(function).and_then(|args| timestampdiff::timestampdiff_to_age(&args))?;
            ctx.log.applied(timestampdiff::NAME);
            return Some(replacement);
        }
        (SourceDialect::Mysql, "GREATEST" | "LEAST") => {
            let replacement = plain_args(function)
                .and_then(|args| mysql_functions::greatest_null_is_null(name, args))?;
            ctx.log.applied(mysql_functions::GREATEST_NAME);
            return Some(replacement);
        }
        (SourceDialect::Mysql, "LEFT" | "RIGHT") => {
            let replacement = plain_args(function)
                .and_then(|args| mysql_functions::left_right(name, args, ctx))?;
            ctx.log.applied(mysql_functions::SUBSTRING_NAME);
            return Some(replacement);
        }
        (SourceDialect::Mysql, "FIELD") => {
            rewrite = mysql_strings::field;
            mysql_strings::FIELD_NAME
        }
        (SourceDialect::Mysql, "ELT") => {
            rewrite = mysql_strings::elt;
            mysql_strings::FIELD_NAME
        }
        (SourceDialect::Mysql, "COALESCE" | "IFNULL") => {
            return plain_args(function)
                .and_then(|args| mysql_strings::coalesce_as_text(args, ctx));
        }
        (SourceDialect::Mysql, "MOD" | "ROUND") if ctx.to == TargetDialect::Postgres => {
            return plain_args(function)
                .and_then(|args| mysql_arithmetic::mod_round_call(name, args, ctx));
        }
        (SourceDialect::Mysql, "HEX" | "SHA2") if ctx.to == TargetDialect::Postgres => {
            let replacement = plain_args(function).and_then(|args| match name {
                "HEX" => mysql_strings::hex(args, ctx),
                _ => mysql_strings::sha2(args, ctx),
            });
            return replacement.or_else(|| Some(Expr::Function(function.clone())));
        }
        (SourceDialect::Mysql, "JSON_EXTRACT" | "JSON_UNQUOTE" | "JSON_VALUE") => {
            let replacement =
                plain_args(function).and_then(|args| mysql_json::json_call(name, args, ctx));
            return replacement.or_else(|| Some(Expr::Function(function.clone())));
        }
        (SourceDialect::Oracle, "TRUNC") => {
            return plain_args(function).and_then(|args| trunc::trunc_date(&args, ctx));
        }
        (SourceDialect::Hive, "CONCAT_WS") if ctx.to == TargetDialect::Postgres => {
            return concat_ws::concat_ws(function, ctx);
        }
        (SourceDialect::Mysql, "ADDDATE" | "SUBDATE") => {
            return plain_args(function).and_then(|args| mysql_interval::add_days(name, args, ctx));
        }
        (SourceDialect::Oracle, "ROUND") => {
            return plain_args(function).and_then(|args| trunc::round_date(&args, ctx));
        }
        (SourceDialect::Mysql, "GROUP_CONCAT") => {
            let replacement = mysql::group_concat_to_listagg(function, ctx);
            return replacement.or_else(|| Some(Expr::Function(function.clone())));
        }
        // A plain `string_agg(x, sep)` is left to the function map's renaming.
        (SourceDialect::Postgres, "STRING_AGG")
            if ctx.to == TargetDialect::Redshift && has_clauses(function) =>
        {
            let replacement = string_agg::string_agg_to_listagg(function, ctx);
            return replacement.or_else(|| Some(Expr::Function(function.clone())));
        }
        (SourceDialect::Oracle, "LISTAGG") if ctx.to == TargetDialect::Postgres => {
            let replacement = string_agg::listagg_to_string_agg(function, ctx);
            return replacement.or_else(|| Some(Expr::Function(function.clone())));
        }
        _ => return None,
    };
    let replacement = plain_args(function).and_then(rewrite);
    match &replacement {
        Some(_) => ctx.log.applied(rewrite_name),
        None => ctx.log.action(
            "function.unsupported",
            format!("{name} call `{function}` could not be rewritten (wrong number of arguments or unexpected clauses)"),
            "rewrite the call as a CASE expression by hand",
        ),
    }
    replacement.or_else(|| Some(Expr::Function(function.clone())))
}

/// `sysdate_to_getdate`: Oracle writes some functions without parentheses and sqlparser reads
/// them as identifiers; those marked `bare` in the function map are replaced like calls.
pub(crate) fn sysdate_to_getdate(expr: &mut Expr, ctx: &mut Ctx) {
    let Expr::Identifier(ident) = expr else {
        return;
    };
    if ident.quote_style.is_some() {
        return;
    }
    let name = ident.value.to_ascii_uppercase();
    let Some(rule) = ctx
        .map
        .rules(&name)
        .and_then(|rules| rules.iter().find(|rule| rule.bare && rule.accepts(0)))
    else {
        return;
    };
    let call = crate::ast::call(&name, Vec::new());
    if let Some(replacement) = apply(rule, &name, &call, ctx) {
        *expr = replacement;
        ctx.log.applied(BARE_NAME);
    }
}

/// Applies one rule to a call; `None` keeps the expression as it is.
fn apply(rule: &'static Rule, name: &str, function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    let target = rule.target(ctx.to);
    if let Action::Unsupported(action) = &target.action {
        ctx.log.action(
            "function.unsupported",
            format!("{name} has no equivalent in {} (rule {})", ctx.to, rule.id),
            action.clone(),
        );
        return None;
    }
    ctx.log.applied(rule.id.as_str());
    if let Some(warning) = &target.warning {
        ctx.log.warning(
            "function.semantics",
            format!("{name} converted with a difference: {warning}"),
            "review the converted expression",
        );
    }
    match &target.action {
        Action::Keep | Action::Unsupported(_) => None,
        Action::Rename(new_name) if !has_clauses(function) => {
            let mut renamed = function.clone();
            renamed.name = ObjectName::from(vec![Ident::new(new_name.as_str())]);
            Some(Expr::Function(renamed))
        }
        Action::Template(template) => match plain_args(function) {
            Some(args) => Some(substitute(template, &args)),
            None => unconvertible(name, function, ctx),
        },
        Action::Rename(_) => unconvertible(name, function, ctx),
    }
}

fn unconvertible(name: &str, function: &Function, ctx: &mut Ctx) -> Option<Expr> {
    ctx.log.action(
        "function.unsupported",
        format!(
            "{name} call `{function}` uses clauses that the {} equivalent does not take",
            ctx.to
        ),
        "rewrite the call by hand",
    );
    None
}

/// The template with `$n` replaced by the n-th argument.
pub(super) fn substitute(template: &Expr, args: &[Expr]) -> Expr {
    let mut expr = template.clone();
    let _ = expr.visit(&mut Substitute { args });
    expr
}

struct Substitute<'a> {
    args: &'a [Expr],
}

impl VisitorMut for Substitute<'_> {
    type Break = ();

    /// Post-order, so an argument is never walked (it may contain `$1` of its own).
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(Some(n)) = placeholder(expr) {
            if let Some(arg) = n.checked_sub(1).and_then(|i| self.args.get(i)) {
                *expr = arg.clone();
            }
        } else if let Expr::CompoundFieldAccess { root, .. } = expr {
            // `(f(x))[1:2]`: the parentheses dropped around the call below are needed here.
            if matches!(root.as_ref(), Expr::Function(_)) {
                **root = Expr::Nested(Box::new(std::mem::replace(
                    root,
                    Expr::value(sqlparser::ast::Value::Null),
                )));
            }
        } else if let Expr::Nested(inner) = expr {
            // The template wrapped operands in parentheses; drop them around simple arguments.
            if is_atomic(inner) && !matches!(inner.as_ref(), Expr::Nested(_)) {
                *expr = (**inner).clone();
            }
        }
        ControlFlow::Continue(())
    }
}

/// The `N` arguments of a call of `name`; another count is reported.
pub(crate) fn arguments<const N: usize>(
    name: &str,
    args: Vec<Expr>,
    ctx: &mut Ctx,
) -> Option<[Expr; N]> {
    let count = args.len();
    let arguments = <[Expr; N]>::try_from(args).ok();
    if arguments.is_none() {
        ctx.log.action(
            "function.unsupported",
            format!(
                "{name} with {count} argument(s) has no equivalent in {} ({name} takes {N})",
                ctx.to
            ),
            "rewrite the call by hand",
        );
    }
    arguments
}
