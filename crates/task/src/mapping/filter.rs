//! Source filters of selection rules, and the [`RowFilter`] they become.
//!
//! DMS semantics: the filters of a rule are ANDed, the conditions of one filter are ORed, a filter
//! with a negative operator (`noteq`, `notbetween`, `notnull`) has exactly one condition, and
//! column names are exact (no wildcards, case-sensitive). DMS compares values as text with SQLite
//! conventions; migrate instead types every value by its column's type and rejects values that
//! don't fit, so that the source can evaluate the filter in its own `WHERE` clause, on its indexes.

use super::rule::{text, Problem};
use migrate_core::{Ident, LogicalType, SourceDialect, Table};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// A comparison of a column with one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`
    Eq,
    /// `noteq`
    NotEq,
    /// `lte`, or its older spelling `ste`
    LessOrEqual,
    /// `gte`
    GreaterOrEqual,
}

impl CompareOp {
    fn sql(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::NotEq => "<>",
            CompareOp::LessOrEqual => "<=",
            CompareOp::GreaterOrEqual => ">=",
        }
    }
}

/// A filter value, typed by the column it is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Integer(i128),
    /// A decimal or floating-point number, kept as written (validated) so no digit is lost.
    Number(String),
    Boolean(bool),
    Text(String),
    /// `YYYY-MM-DD`
    Date(String),
    /// `HH:MM:SS[.fraction]`
    Time(String),
    /// `YYYY-MM-DD HH:MM:SS[.fraction]`, compared in the source session's time zone for columns
    /// with a time zone.
    Timestamp(String),
}

impl Literal {
    fn to_sql(&self, dialect: SourceDialect) -> String {
        match self {
            Literal::Integer(n) => n.to_string(),
            Literal::Number(n) => n.clone(),
            Literal::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Literal::Text(s) => quote_text(s, dialect),
            Literal::Date(d) => format!("DATE '{d}'"),
            Literal::Time(t) => format!("TIME '{t}'"),
            Literal::Timestamp(t) => format!("TIMESTAMP '{t}'"),
        }
    }
}

/// Quotes a string literal. MySQL (and Hive) treat a backslash as an escape character by default,
/// so it is doubled there; PostgreSQL's standard strings take it literally.
fn quote_text(s: &str, dialect: SourceDialect) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if matches!(dialect, SourceDialect::Mysql | SourceDialect::Hive) => {
                out.push_str("\\\\")
            }
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

/// Which rows of a source table are loaded: the `WHERE` clause of the snapshot query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowFilter {
    /// Every part holds (the filters of one rule).
    All(Vec<RowFilter>),
    /// Some part holds (the conditions of one filter, or several rules selecting one table).
    Any(Vec<RowFilter>),
    Compare {
        column: Ident,
        op: CompareOp,
        value: Literal,
    },
    /// `BETWEEN` is inclusive at both ends; `negated` is `notbetween`.
    Between {
        column: Ident,
        low: Literal,
        high: Literal,
        negated: bool,
    },
    IsNull {
        column: Ident,
        negated: bool,
    },
}

impl RowFilter {
    /// `All` of the parts, without the wrapper when there is only one.
    pub fn all(mut parts: Vec<RowFilter>) -> RowFilter {
        if parts.len() == 1 {
            parts.remove(0)
        } else {
            RowFilter::All(parts)
        }
    }

    /// `Any` of the parts, without the wrapper when there is only one.
    pub fn any(mut parts: Vec<RowFilter>) -> RowFilter {
        if parts.len() == 1 {
            parts.remove(0)
        } else {
            RowFilter::Any(parts)
        }
    }

    /// Renders the filter as a SQL condition for the source. `quote_ident` quotes a column name
    /// the way the source needs; literals are escaped for `dialect`.
    pub fn to_sql(&self, dialect: SourceDialect, quote_ident: impl Fn(&Ident) -> String) -> String {
        self.render(dialect, &quote_ident)
    }

    fn render(&self, dialect: SourceDialect, quote: &dyn Fn(&Ident) -> String) -> String {
        let group = |parts: &[RowFilter], joiner: &str| {
            parts
                .iter()
                .map(|p| match p {
                    RowFilter::All(_) | RowFilter::Any(_) => {
                        format!("({})", p.render(dialect, quote))
                    }
                    _ => p.render(dialect, quote),
                })
                .collect::<Vec<_>>()
                .join(joiner)
        };
        match self {
            RowFilter::All(parts) => group(parts, " AND "),
            RowFilter::Any(parts) => group(parts, " OR "),
            RowFilter::Compare { column, op, value } => {
                format!("{} {} {}", quote(column), op.sql(), value.to_sql(dialect))
            }
            RowFilter::Between {
                column,
                low,
                high,
                negated,
            } => format!(
                "{} {}BETWEEN {} AND {}",
                quote(column),
                if *negated { "NOT " } else { "" },
                low.to_sql(dialect),
                high.to_sql(dialect)
            ),
            RowFilter::IsNull { column, negated } => format!(
                "{} IS {}NULL",
                quote(column),
                if *negated { "NOT " } else { "" }
            ),
        }
    }
}

/// PostgreSQL rendering with the identifiers' own quoting, for plans shown to users.
impl fmt::Display for RowFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sql(SourceDialect::Postgres, |i| i.to_string()))
    }
}

/// One condition as written in the mapping, before its value is typed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Compare(CompareOp, String),
    Between {
        low: String,
        high: String,
        negated: bool,
    },
    Null {
        negated: bool,
    },
}

impl Condition {
    fn negative(&self) -> bool {
        matches!(
            self,
            Condition::Compare(CompareOp::NotEq, _)
                | Condition::Between { negated: true, .. }
                | Condition::Null { negated: true }
        )
    }
}

/// One `filters` entry of a selection rule: conditions on one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnFilter {
    column: String,
    conditions: Vec<Condition>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    #[serde(rename = "filter-type")]
    filter_type: String,
    #[serde(rename = "column-name")]
    column_name: String,
    #[serde(rename = "filter-conditions")]
    filter_conditions: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    #[serde(rename = "filter-operator")]
    filter_operator: String,
    value: Option<Value>,
    #[serde(rename = "start-value")]
    start_value: Option<Value>,
    #[serde(rename = "end-value")]
    end_value: Option<Value>,
}

const OPERATORS: &str = "eq, noteq, lte (or ste), gte, between, notbetween, null, notnull";

impl ColumnFilter {
    pub(crate) fn from_json(value: &Value) -> Result<ColumnFilter, Problem> {
        let raw = RawFilter::deserialize(value).map_err(|e| {
            Problem::new(
                format!("invalid filter: {e}"),
                "a filter has `filter-type`, `column-name` and `filter-conditions`",
            )
        })?;
        if raw.filter_type != "source" {
            return Err(Problem::new(
                format!("unsupported filter-type `{}`", raw.filter_type),
                "use `\"filter-type\": \"source\"`, the only type DMS defines",
            ));
        }
        if raw.filter_conditions.is_empty() {
            return Err(Problem::new(
                format!(
                    "the filter on `{}` has no filter-conditions",
                    raw.column_name
                ),
                "add a condition or remove the filter",
            ));
        }
        let conditions = raw
            .filter_conditions
            .iter()
            .map(condition)
            .collect::<Result<Vec<_>, _>>()?;
        if conditions.len() > 1 && conditions.iter().any(Condition::negative) {
            return Err(Problem::new(
                format!(
                    "the filter on `{}` ORs a negative condition (noteq, notbetween, notnull) with others, which DMS does not allow",
                    raw.column_name
                ),
                "put the negative condition in a filter of its own (filters are ANDed)",
            ));
        }
        Ok(ColumnFilter {
            column: raw.column_name,
            conditions,
        })
    }

    /// Types the values by the column's type in `table`.
    pub(crate) fn resolve(&self, table: &Table) -> Result<RowFilter, Problem> {
        let Some(column) = table.columns.iter().find(|c| c.name.value == self.column) else {
            let names: Vec<&str> = table
                .columns
                .iter()
                .map(|c| c.name.value.as_str())
                .collect();
            return Err(Problem::new(
                format!(
                    "filter column `{}` does not exist in {} (names are case-sensitive); its columns are: {}",
                    self.column,
                    table.name,
                    names.join(", ")
                ),
                "use the column's name exactly as the source stores it",
            ));
        };
        let typed = |text: &str| literal(text, &column.data_type, &self.column);
        let parts = self
            .conditions
            .iter()
            .map(|c| {
                let column = column.name.clone();
                Ok(match c {
                    Condition::Compare(op, value) => RowFilter::Compare {
                        column,
                        op: *op,
                        value: typed(value)?,
                    },
                    Condition::Between { low, high, negated } => RowFilter::Between {
                        column,
                        low: typed(low)?,
                        high: typed(high)?,
                        negated: *negated,
                    },
                    Condition::Null { negated } => RowFilter::IsNull {
                        column,
                        negated: *negated,
                    },
                })
            })
            .collect::<Result<Vec<_>, Problem>>()?;
        Ok(RowFilter::any(parts))
    }
}

fn condition(value: &Value) -> Result<Condition, Problem> {
    let raw = RawCondition::deserialize(value).map_err(|e| {
        Problem::new(
            format!("invalid filter condition: {e}"),
            "a condition has `filter-operator` and `value`, or `start-value` and `end-value`",
        )
    })?;
    let value = text("value", raw.value.as_ref())?;
    let start = text("start-value", raw.start_value.as_ref())?;
    let end = text("end-value", raw.end_value.as_ref())?;
    let op = raw.filter_operator.as_str();
    let wrong_values = |wanted: &str| {
        Problem::new(
            format!("filter-operator `{op}` takes {wanted}"),
            format!("give {wanted} and nothing else"),
        )
    };
    let compare = |cmp: CompareOp| match (&value, &start, &end) {
        (Some(v), None, None) => Ok(Condition::Compare(cmp, v.clone())),
        _ => Err(wrong_values("one `value`")),
    };
    let between = |negated: bool| match (&value, &start, &end) {
        (None, Some(low), Some(high)) => Ok(Condition::Between {
            low: low.clone(),
            high: high.clone(),
            negated,
        }),
        _ => Err(wrong_values("`start-value` and `end-value`")),
    };
    let null = |negated: bool| match (&value, &start, &end) {
        (None, None, None) => Ok(Condition::Null { negated }),
        _ => Err(wrong_values("no value")),
    };
    match op {
        "eq" => compare(CompareOp::Eq),
        "noteq" => compare(CompareOp::NotEq),
        "lte" | "ste" => compare(CompareOp::LessOrEqual),
        "gte" => compare(CompareOp::GreaterOrEqual),
        "between" => between(false),
        "notbetween" => between(true),
        "null" => null(false),
        "notnull" => null(true),
        other => Err(Problem::new(
            format!("unknown filter-operator `{other}`"),
            format!(
                "use one of {OPERATORS}; for a list of values write one `eq` condition per value \
                 in the same filter (conditions are ORed)"
            ),
        )),
    }
}

/// Types one filter value by the column's type.
fn literal(text: &str, ty: &LogicalType, column: &str) -> Result<Literal, Problem> {
    let invalid = |expected: &str| {
        Problem::new(
            format!("filter value `{text}` on `{column}` is not {expected} (the column is {ty})"),
            format!("write {expected}"),
        )
    };
    use LogicalType::*;
    match ty {
        SmallInt | Integer | BigInt => text
            .parse::<i128>()
            .map(Literal::Integer)
            .map_err(|_| invalid("an integer")),
        Decimal { .. } | Numeric | Real | Double => {
            if is_number(text) {
                Ok(Literal::Number(text.to_string()))
            } else {
                Err(invalid("a number like `12.50`"))
            }
        }
        Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "y" => Ok(Literal::Boolean(true)),
            "false" | "f" | "0" | "no" | "n" => Ok(Literal::Boolean(false)),
            _ => Err(invalid("`true` or `false`")),
        },
        Char { .. } | Varchar { .. } | Text | Uuid => {
            if text.contains('\0') {
                Err(invalid("text without NUL characters"))
            } else {
                Ok(Literal::Text(text.to_string()))
            }
        }
        Date => {
            if is_date(text) {
                Ok(Literal::Date(text.to_string()))
            } else {
                Err(invalid("a date `YYYY-MM-DD`"))
            }
        }
        Time { .. } => {
            if is_time(text) {
                Ok(Literal::Time(text.to_string()))
            } else {
                Err(invalid("a time `HH:MM:SS`"))
            }
        }
        Timestamp { .. } => timestamp(text)
            .map(Literal::Timestamp)
            .ok_or_else(|| invalid("a timestamp `YYYY-MM-DD HH:MM:SS`")),
        other => Err(Problem::new(
            format!("cannot filter on `{column}`: its type {other} has no comparable literal"),
            "filter on another column (DMS also advises against filtering LOB columns)",
        )),
    }
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    (!int.is_empty() || !frac.is_empty())
        && all_digits(int)
        && all_digits(frac)
        && exponent.is_none_or(|e| !e.is_empty() && all_digits(e))
}

fn is_date(s: &str) -> bool {
    let mut parts = s.split('-');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d), None) => {
            digits(y, 4).is_some()
                && digits(m, 2).is_some_and(|m| (1..=12).contains(&m))
                && digits(d, 2).is_some_and(|d| (1..=31).contains(&d))
        }
        _ => false,
    }
}

fn is_time(s: &str) -> bool {
    let (hms, fraction) = s.split_once('.').unwrap_or((s, "0"));
    let mut parts = hms.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(m), Some(sec), None) => {
            digits(h, 2).is_some_and(|h| h < 24)
                && digits(m, 2).is_some_and(|m| m < 60)
                && digits(sec, 2).is_some_and(|s| s < 60)
                && !fraction.is_empty()
                && fraction.len() <= 9
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

/// Accepts `YYYY-MM-DD[( |T)HH:MM:SS[.f]]` and returns the `YYYY-MM-DD HH:MM:SS[.f]` form that both
/// PostgreSQL and MySQL read as a `TIMESTAMP` literal.
fn timestamp(s: &str) -> Option<String> {
    match s.split_once([' ', 'T']) {
        None if is_date(s) => Some(format!("{s} 00:00:00")),
        Some((date, time)) if is_date(date) && is_time(time) => Some(format!("{date} {time}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Column, QualifiedName};
    use serde_json::json;

    fn table() -> Table {
        let mut t = Table::new(QualifiedName::new(
            Some(Ident::new("test")),
            Ident::new("employee"),
        ));
        for (name, ty) in [
            ("empid", "integer"),
            ("dept", "varchar(20 char)"),
            ("salary", "decimal(10,2)"),
            ("active", "boolean"),
            ("started", "date"),
            ("updated", "timestamp(6)"),
            ("photo", "blob"),
        ] {
            t.columns.push(Column::new(
                Ident::new(name),
                ty,
                LogicalType::parse(ty).unwrap(),
            ));
        }
        t
    }

    fn sql(filter: Value, dialect: SourceDialect) -> Result<String, Problem> {
        let f = ColumnFilter::from_json(&filter)?.resolve(&table())?;
        Ok(f.to_sql(dialect, |i| format!("\"{}\"", i.value)))
    }

    fn pg(filter: Value) -> Result<String, Problem> {
        sql(filter, SourceDialect::Postgres)
    }

    #[test]
    fn conditions_of_a_filter_are_ored() {
        let f = json!({"filter-type": "source", "column-name": "empid", "filter-conditions": [
            {"filter-operator": "ste", "value": "10"},
            {"filter-operator": "between", "start-value": "50", "end-value": 75},
            {"filter-operator": "gte", "value": "100"}]});
        assert_eq!(
            pg(f).unwrap(),
            "\"empid\" <= 10 OR \"empid\" BETWEEN 50 AND 75 OR \"empid\" >= 100"
        );
    }

    #[test]
    fn values_are_typed_by_the_column() {
        let one = |column: &str, op: &str, value: &str| {
            pg(json!({"filter-type": "source", "column-name": column,
                "filter-conditions": [{"filter-operator": op, "value": value}]}))
        };
        assert_eq!(one("dept", "eq", "R&D").unwrap(), "\"dept\" = 'R&D'");
        assert_eq!(one("salary", "gte", "1e3").unwrap(), "\"salary\" >= 1e3");
        assert_eq!(one("active", "eq", "t").unwrap(), "\"active\" = TRUE");
        assert_eq!(
            one("started", "gte", "2002-01-01").unwrap(),
            "\"started\" >= DATE '2002-01-01'"
        );
        assert_eq!(
            one("updated", "lte", "2020-02-29T10:00:00.5").unwrap(),
            "\"updated\" <= TIMESTAMP '2020-02-29 10:00:00.5'"
        );
        assert_eq!(
            one("updated", "lte", "2020-02-29").unwrap(),
            "\"updated\" <= TIMESTAMP '2020-02-29 00:00:00'"
        );
        assert!(one("empid", "eq", "ten")
            .unwrap_err()
            .message
            .contains("is not an integer"));
        assert!(one("empid", "eq", "1; DROP TABLE x").is_err());
        assert!(one("started", "eq", "2002-13-01").is_err());
        assert!(one("salary", "eq", "12,5").is_err());
        assert!(one("photo", "eq", "x")
            .unwrap_err()
            .message
            .contains("cannot filter"));
        assert!(one("EmpId", "eq", "1")
            .unwrap_err()
            .message
            .contains("does not exist"));
    }

    #[test]
    fn text_literals_are_escaped_per_dialect() {
        let f = json!({"filter-type": "source", "column-name": "dept",
            "filter-conditions": [{"filter-operator": "noteq", "value": "O'Brien\\x"}]});
        assert_eq!(
            sql(f.clone(), SourceDialect::Postgres).unwrap(),
            "\"dept\" <> 'O''Brien\\x'"
        );
        assert_eq!(
            sql(f, SourceDialect::Mysql).unwrap(),
            "\"dept\" <> 'O''Brien\\\\x'"
        );
    }

    #[test]
    fn null_and_negated_operators() {
        let f = |op: &str| {
            pg(json!({"filter-type": "source", "column-name": "dept",
                "filter-conditions": [{"filter-operator": op}]}))
        };
        assert_eq!(f("null").unwrap(), "\"dept\" IS NULL");
        assert_eq!(f("notnull").unwrap(), "\"dept\" IS NOT NULL");
        let nb = json!({"filter-type": "source", "column-name": "empid",
            "filter-conditions": [{"filter-operator": "notbetween", "start-value": "50", "end-value": "75"}]});
        assert_eq!(pg(nb).unwrap(), "\"empid\" NOT BETWEEN 50 AND 75");
    }

    #[test]
    fn malformed_filters_are_rejected() {
        let err = |f: Value| ColumnFilter::from_json(&f).unwrap_err();
        let e = err(json!({"filter-type": "source", "column-name": "empid",
            "filter-conditions": [{"filter-operator": "in", "value": "1"}]}));
        assert!(e.message.contains("unknown filter-operator `in`"));
        assert!(e.action.contains("one `eq` condition per value"));
        let e = err(json!({"filter-type": "source", "column-name": "empid",
            "filter-conditions": [{"filter-operator": "eq"}]}));
        assert!(e.message.contains("takes one `value`"));
        let e = err(json!({"filter-type": "source", "column-name": "empid",
            "filter-conditions": [{"filter-operator": "null", "value": "1"}]}));
        assert!(e.message.contains("takes no value"));
        let e = err(json!({"filter-type": "source", "column-name": "empid",
            "filter-conditions": [{"filter-operator": "noteq", "value": "1"},
                                  {"filter-operator": "eq", "value": "2"}]}));
        assert!(e.message.contains("negative condition"));
        let e = err(json!({"filter-type": "target", "column-name": "empid",
            "filter-conditions": [{"filter-operator": "eq", "value": "1"}]}));
        assert!(e.message.contains("filter-type `target`"));
        let e = err(json!({"filter-type": "source", "column-name": "empid",
            "filter-conditions": [{"filter-operator": "eq", "value": "1", "values": ["2"]}]}));
        assert!(e.message.contains("unknown field `values`"));
    }
}
