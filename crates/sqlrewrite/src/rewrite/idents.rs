//! Identifier normalisation of a rewritten AST (see [`crate::ident`]): every identifier is folded
//! to lower case and quoted only when needed. Built-in function names are left as written (a
//! function named `LEFT` must not become `"left"`); user-defined ones are normalised like any
//! other name. Collation names are kept as written: PostgreSQL's are case-sensitive (`"C"`).

use super::Ctx;
use crate::ast::builtin_name;
use crate::ident::{fold, needs_quotes};
use migrate_core::TargetDialect;
use sqlparser::ast::{DataType, Expr, Ident, ObjectName, VisitorMut};
use std::ops::ControlFlow;

pub(crate) struct Normalise<'a> {
    ctx: &'a mut Ctx,
    /// The next `skip` identifiers visited are a built-in function's name.
    skip: usize,
    /// The collation names of the `COLLATE` expressions being visited, as written.
    collations: Vec<ObjectName>,
    /// The type names of the casts being visited, as the rewrites left them when quoted: the
    /// quotes are part of the name (`"char"` is one byte, `char` is `CHAR(1)`).
    quoted_types: Vec<Option<ObjectName>>,
}

impl<'a> Normalise<'a> {
    pub(crate) fn new(ctx: &'a mut Ctx) -> Self {
        Normalise {
            ctx,
            skip: 0,
            collations: Vec::new(),
            quoted_types: Vec::new(),
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
            Expr::Cast {
                data_type: DataType::Custom(name, _),
                ..
            } => self
                .quoted_types
                .push(is_quoted(name).then(|| name.clone())),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    /// The collation's name, and a quoted cast type's, go back to how they were written once
    /// the expression is done.
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Collate { collation, .. } => {
                if let Some(written) = self.collations.pop() {
                    *collation = written;
                }
            }
            Expr::Cast {
                data_type: DataType::Custom(name, _),
                ..
            } => {
                if let Some(Some(written)) = self.quoted_types.pop() {
                    *name = written;
                }
            }
            _ => {}
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

fn is_quoted(name: &ObjectName) -> bool {
    name.0.iter().any(|part| {
        part.as_ident()
            .is_some_and(|ident| ident.quote_style.is_some())
    })
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
