//! `sequence_nextval`: Oracle `seq.NEXTVAL` / `seq.CURRVAL` (defaults and queries). PostgreSQL
//! spells them `nextval('seq')` / `currval('seq')`; Redshift has no sequences.

use super::Ctx;
use crate::ast::{call, string};
use crate::ident::target_ident;
use migrate_core::{SourceDialect, TargetDialect};
use sqlparser::ast::Expr;

pub(crate) const NAME: &str = "sequence_nextval";

pub(crate) fn sequence_nextval(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Oracle {
        return;
    }
    let Expr::CompoundIdentifier(parts) = expr else {
        return;
    };
    let Some((last, sequence)) = parts.split_last() else {
        return;
    };
    let function = match last.value.to_ascii_uppercase().as_str() {
        _ if last.quote_style.is_some() => return,
        "NEXTVAL" => "nextval",
        "CURRVAL" => "currval",
        _ => return,
    };
    let mut name: Vec<String> = sequence
        .iter()
        .map(|part| target_ident(&part.value, part.quote_style.is_some(), ctx.to).sql)
        .collect();
    // In a view, Oracle reads an unqualified sequence in the view's schema, as its tables
    // (`view_schema`); a name written without a schema (a public synonym) is left to the
    // search path.
    if let ([only], Some(schema)) = (sequence, &ctx.view_schema) {
        if !ctx.unqualified_names.contains(&only.value.to_lowercase()) {
            name.insert(0, target_ident(&schema.value, schema.quoted, ctx.to).sql);
        }
    }
    let name = name.join(".");
    match ctx.to {
        TargetDialect::Postgres => {
            *expr = Expr::Function(call(function, vec![string(name)]));
            ctx.log.applied(NAME);
            // An identifier in the source: only now a call that gives another value each time.
            ctx.volatile_seen |= function == "nextval";
        }
        TargetDialect::Redshift => ctx.log.action(
            "view.sequence",
            format!(
                "Redshift has no sequences: `{name}.{}` cannot be converted",
                last.value
            ),
            "use an IDENTITY column, or generate the values in the loading pipeline",
        ),
    }
}
