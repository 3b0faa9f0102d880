//! `timestampdiff_to_age`: MySQL `TIMESTAMPDIFF(unit, a, b)` counts the whole units from `a` to
//! `b`, which neither target has (Redshift's `DATEDIFF` counts unit boundaries crossed: left to
//! the function map, which reports it). PostgreSQL: up to a week, the exact seconds between the
//! two (`EXTRACT(EPOCH FROM b - a)`) divided by the unit's and truncated toward zero, as MySQL
//! does; months, quarters and years from `AGE(b, a)`, which, like MySQL, counts a month only once
//! its day of the month and time of day are reached.

use super::functions::substitute;
use migrate_core::SourceDialect;
use sqlparser::ast::Expr;

pub(crate) const NAME: &str = "timestampdiff_to_age";

/// The PostgreSQL template of a unit (`$2` is `a`, `$3` is `b`).
fn template(unit: &str) -> Option<String> {
    let unit = unit.to_ascii_uppercase();
    let elapsed = "EXTRACT(EPOCH FROM CAST($3 AS TIMESTAMP) - CAST($2 AS TIMESTAMP))";
    let age = "AGE(CAST($3 AS TIMESTAMP), CAST($2 AS TIMESTAMP))";
    let months = format!("(EXTRACT(YEAR FROM {age}) * 12 + EXTRACT(MONTH FROM {age}))");
    let count = match unit.strip_prefix("SQL_TSI_").unwrap_or(&unit) {
        "MICROSECOND" => format!("{elapsed} * 1000000"),
        "SECOND" => format!("TRUNC({elapsed})"),
        "MINUTE" => format!("TRUNC({elapsed} / 60)"),
        "HOUR" => format!("TRUNC({elapsed} / 3600)"),
        "DAY" => format!("TRUNC({elapsed} / 86400)"),
        "WEEK" => format!("TRUNC({elapsed} / 604800)"),
        "MONTH" => months,
        "QUARTER" => format!("TRUNC({months} / 3)"),
        "YEAR" => format!("EXTRACT(YEAR FROM {age})"),
        _ => return None,
    };
    Some(format!("CAST({count} AS BIGINT)"))
}

/// `None` unless the call is `TIMESTAMPDIFF(unit, a, b)` with a unit MySQL knows.
pub(crate) fn timestampdiff_to_age(args: &[Expr]) -> Option<Expr> {
    let [Expr::Identifier(unit), _, _] = args else {
        return None;
    };
    if unit.quote_style.is_some() {
        return None;
    }
    let template =
        crate::parse::expression(&template(&unit.value)?, SourceDialect::Postgres).ok()?;
    Some(substitute(&template, args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn args(sql: &str) -> Vec<Expr> {
        sql.split(';')
            .map(|arg| parse::expression(arg, SourceDialect::Mysql).unwrap())
            .collect()
    }

    #[test]
    fn units_up_to_a_week_divide_the_seconds_and_longer_ones_use_age() {
        let day = timestampdiff_to_age(&args("DAY; a; b")).unwrap();
        assert_eq!(
            day.to_string(),
            "CAST(TRUNC(EXTRACT(EPOCH FROM CAST(b AS TIMESTAMP) - CAST(a AS TIMESTAMP)) / 86400) AS BIGINT)"
        );
        let year = timestampdiff_to_age(&args("sql_tsi_year; a; b")).unwrap();
        assert_eq!(
            year.to_string(),
            "CAST(EXTRACT(YEAR FROM AGE(CAST(b AS TIMESTAMP), CAST(a AS TIMESTAMP))) AS BIGINT)"
        );
        assert_eq!(timestampdiff_to_age(&args("FORTNIGHT; a; b")), None);
        assert_eq!(timestampdiff_to_age(&args("a; b")), None);
    }
}
