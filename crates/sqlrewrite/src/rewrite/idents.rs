//! Identifier normalisation of a rewritten AST (see [`crate::ident`]): every identifier is folded
//! to lower case and quoted only when needed. Built-in function names are left as written (a
//! function named `LEFT` must not become `"left"`); user-defined ones are normalised like any
//! other name. Collation names are kept as written: PostgreSQL's are case-sensitive (`"C"`).

use super::Ctx;
use crate::ast::builtin_name;
use crate::ident::{fold, needs_quotes};
use migrate_core::TargetDialect;
use sqlparser::ast::{Expr, Ident, ObjectName, VisitorMut};
use std::ops::ControlFlow;

pub(crate) struct Normalise<'a> {
    ctx: &'a mut Ctx,
    /// The next `skip` identifiers visited are a built-in function's name.
    skip: usize,
    /// The collation names of the `COLLATE` expressions being visited, as written.
    collations: Vec<ObjectName>,
}

impl<'a> Normalise<'a> {
    pub(crate) fn new(ctx: &'a mut Ctx) -> Self {
        Normalise {
            ctx,
            skip: 0,
            collations: Vec::new(),
        }
    }
}

impl VisitorMut for Normalise<'_> {
    type Break = ();

    /// A function's name is the first thing visited after the call itself.
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(function) if builtin_name(function).is_some() => {
                self.skip = function.name.0.len();
            }
            Expr::Collate { collation, .. } => self.collations.push(collation.clone()),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    /// The collation's name goes back to how it was written once the expression is done.
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Collate { collation, .. } = expr {
            if let Some(written) = self.collations.pop() {
                *collation = written;
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_ident(&mut self, ident: &mut Ident) -> ControlFlow<()> {
        if self.skip > 0 {
            self.skip -= 1;
            return ControlFlow::Continue(());
        }
        normalise(ident, self.ctx);
        ControlFlow::Continue(())
    }
}

fn normalise(ident: &mut Ident, ctx: &mut Ctx) {
    let (name, truncated) = fold(&ident.value, ctx.to);
    if truncated {
        ctx.log.warning(
            "identifier.truncated",
            format!(
                "identifier `{}` is longer than {} allows and was cut to `{name}`",
                ident.value, ctx.to
            ),
            "check that the shortened name is unique and rename the object if needed",
        );
    }
    ident.quote_style = quote_style(&name, ctx.to);
    ident.value = name;
}

fn quote_style(name: &str, to: TargetDialect) -> Option<char> {
    needs_quotes(name, to).then_some('"')
}
