//! `drop_from_dual`: Oracle (and MySQL) `SELECT ... FROM DUAL`; both targets accept a SELECT
//! without FROM.

use super::Ctx;
use sqlparser::ast::{ObjectNamePart, Select, TableFactor};

pub(crate) const NAME: &str = "drop_from_dual";

pub(crate) fn drop_from_dual(select: &mut Select, ctx: &mut Ctx) {
    let [only] = select.from.as_slice() else {
        return;
    };
    let TableFactor::Table {
        name, args: None, ..
    } = &only.relation
    else {
        return;
    };
    let is_dual = match name.0.as_slice() {
        [ObjectNamePart::Identifier(table)] => table.value.eq_ignore_ascii_case("dual"),
        [ObjectNamePart::Identifier(schema), ObjectNamePart::Identifier(table)] => {
            schema.value.eq_ignore_ascii_case("sys") && table.value.eq_ignore_ascii_case("dual")
        }
        _ => false,
    };
    if is_dual && only.joins.is_empty() {
        select.from.clear();
        ctx.log.applied(NAME);
    }
}
