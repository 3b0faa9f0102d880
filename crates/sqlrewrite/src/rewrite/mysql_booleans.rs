//! `condition_as_number`: MySQL has no boolean type. A comparison or another condition (`IN`,
//! `BETWEEN`, `LIKE`, `IS NULL`, `EXISTS`, `NOT`/`AND`/`OR` of them) is the number 1, 0 or
//! NULL, and MySQL code computes with it: `SUM(status = 'open')`, `(a = b) + 0`,
//! `GREATEST(a > b, c)`, `(a > b) = 1`. A column the target holds as a boolean (MySQL's
//! `BIT(1)`, `BOOLEAN` in a script) is such a number too (`b = 1`, `b + 1`, `b IN (0, 1)`). The
//! targets refuse a boolean there (`function sum(boolean) does not exist`,
//! `operator does not exist: boolean = integer`). Where MySQL takes it as a number it becomes
//! one, NULL staying NULL: `CAST(cond AS INTEGER)` on PostgreSQL; on Redshift, whose
//! documentation gives no cast from BOOLEAN to a number, `CASE cond WHEN TRUE THEN 1 WHEN FALSE
//! THEN 0 END` (one evaluation of `cond`); `TRUE` and `FALSE` are `1` and `0`.
//!
//! MySQL takes it as a number as an operand of arithmetic, an argument of a function (`SUM`,
//! `ABS`...), whatever the other operands are, and of `GREATEST`/`LEAST` unless all their
//! arguments are conditions (then the call is one, which the targets take as it is:
//! `WHERE GREATEST(a > b, c = d)`); compared with a value (`IN`, `BETWEEN` too), or as a result
//! of `COALESCE`/`IFNULL`/`NULLIF`/`IF`/`CASE`, when the other side or another result is a value
//! of known type that is not a boolean or NULL (`FLOOR(x)`, `COUNT(*)`, a numeric column of a
//! table). A scalar subquery is the value it selects: `(SELECT u.flag FROM u ...)`, `u.flag`
//! being a boolean column, and `(SELECT x > 0 ...)` are booleans. A value of unknown type there
//! (a column of another view or of a derived table: only tables' column types are known; or a
//! `CASE`/`COALESCE` of such columns, or a subquery selecting one) leaves it a boolean, since
//! that value is likely one too on the target (`v.flag = TRUE`, `IFNULL(v.flag, FALSE)`). Text
//! and dates are not handled: MySQL compares `(a > b) = s` as numbers, and the targets refuse
//! the integer beside text or a date (`integer = character varying`, `CASE types integer and
//! date cannot be matched`) as they would the boolean.
//!
//! Where the target takes a boolean (`WHERE`, `ON`, `HAVING`, `CASE WHEN`, `IF`'s condition,
//! operands of `AND`/`OR`/`NOT`, `ORDER BY`, a comparison with another boolean) it stays one.
//! So does a condition selected as a column (`SELECT a = b AS same`): the view's column is a
//! boolean, as a MySQL `BOOLEAN` column becomes one, since its only values are 0, 1 and NULL.
//! So do the arguments of `COUNT` (which counts them the same) and of the JSON builders
//! (`JSON_OBJECT('k', a = b)`), which write a condition as JSON `true`/`false` in MySQL too.
//! Inside `AVG` on Redshift, whose `AVG` of an integer is an integer (`0.33` would be `0`), the
//! number is `1.0000`/`0.0000`, which gives MySQL's 4 decimal places.
//!
//! `numeric_condition_to_comparison` (named in `mysql_interval`): MySQL takes a number as a
//! condition, non-zero being true, and its BOOLEAN is TINYINT(1), which becomes SMALLINT; the
//! targets refuse a number there (`argument of OR must be type boolean, not type integer`). A
//! value known to be a number (a literal, a numeric column of a table, arithmetic, a cast to a
//! number, a call of a function that gives one, a `CASE`/`IF`/`COALESCE` one of whose values is
//! one, a scalar subquery selecting one) used as a condition (`WHERE`, `HAVING`, `ON`, `CASE
//! WHEN`, `IF`'s condition, an operand of `AND`/`OR`/`XOR`/`NOT` or of `IS [NOT] TRUE`/`FALSE`/
//! `UNKNOWN`, a whole CHECK condition) becomes `(n <> 0)`, NULL staying NULL; a literal becomes
//! `TRUE` or `FALSE`. MySQL reads other values there as numbers too, which the targets refuse
//! as well; those of known kind become the condition MySQL makes of them, NULL staying NULL:
//! - text (a text column or literal, a call of a function that gives text, `CAST(x AS CHAR)`):
//!   the number it starts with after spaces, so `'1x'` is true and `'abc'`, `''` and `'0.0'`
//!   false: `(s ~ '^[ \t\n\v\f\r]*[-+]?[0-9]*[.]?[0-9]*[1-9]')` (a digit other than 0 in
//!   that number; `[[:space:]]`, ASCII only there, on Redshift). MySQL reads `'1e-400'` as 0, a
//!   double being too small for it, where this is true;
//! - a column of an `ENUM` or `SET` (text on the targets): its index or its members' bits, 0
//!   only for `''`: `(e <> '')` (through `CASE`, `COALESCE`, a subquery... MySQL reads its text);
//! - a date or a date and time (a column, a call that gives one, `d + INTERVAL ...`): the
//!   number `YYYYMMDDhhmmss`, 0 only for the zero date, which the targets can't hold:
//!   `(d IS NOT NULL OR NULL)`;
//! - a time: `hhmmss`, 0 at midnight: `(t <> '00:00:00')`.
//!
//! A `CASE`/`IF`/`COALESCE` all of whose values are of one of these kinds is of it. mariadb-dump
//! writes such a value used as a condition compared with 0 (`NOT s` as `s = 0`, `d` as
//! `d <> 0`), which the targets refuse too: `x <> 0` becomes the condition, `x = 0` its `NOT`.
//! A value is judged as MySQL wrote it, before the rewrites of its parts (`LENGTH(s)` is still
//! `LENGTH`, not the target's spelling; `JSON_VALID`, a number in MySQL, is Redshift's boolean
//! `IS_VALID_JSON`, and is not among the functions known). Booleans, conditions and values of
//! unknown kind (a column of another view, a function not known, bytes) are left as they are.
//!
//! `logical_xor`: MySQL's `a XOR b` is NULL when an operand is, else true when exactly one is;
//! the targets have no logical XOR, but `a <> b` of booleans is just that. Another value that
//! is not a boolean (not a known number: `numeric_condition_to_comparison` has made those
//! conditions) is a condition as MySQL reads it, `n <> 0`.
//!
//! MySQL's `a || b` is `a OR b` under its default sql_mode (the parser reads it so:
//! [`crate::parse::MYSQL_PIPES_OR`]), and a concatenation only under PIPES_AS_CONCAT or ANSI,
//! which the converter can't see: it becomes an OR, with a `function.semantics` warning.

use super::mysql_interval::CONDITION_NAME;
use super::Ctx;
use crate::ast::{
    arity, binary, builtin_name, case, cast, is_comparison, is_null_literal, number,
    number_literal, string, unnamed_args, unnamed_args_mut, MYSQL_NUMBER_FUNCTIONS,
};
use migrate_core::{LogicalType, SourceDialect, TargetDialect};
use sqlparser::ast::{
    BinaryOperator, DataType, Expr, JoinConstraint, JoinOperator, Query, Select, SelectItem,
    SetExpr, TableFactor, TableWithJoins, UnaryOperator, Value,
};

pub(crate) const NAME: &str = "condition_as_number";
pub(crate) const XOR_NAME: &str = "logical_xor";
pub(crate) const PIPES_NAME: &str = "pipes_as_or";

/// Functions whose value is one of their arguments: a boolean stays one when they all are
/// (`COALESCE(a = b, c = d)` is a condition the targets take as it is).
const PASS_THROUGH: &[&str] = &["COALESCE", "IFNULL", "NULLIF"];

/// Functions that write a condition as JSON `true`/`false` in MySQL, as PostgreSQL's
/// `json_build_object` does with a boolean.
const JSON_BUILDERS: &[&str] = &[
    "JSON_OBJECT",
    "JSON_ARRAY",
    "JSON_OBJECTAGG",
    "JSON_ARRAYAGG",
];

/// Functions whose value is the greatest or least of their arguments. Of conditions only, it is
/// a condition the targets take as it is (`WHERE GREATEST(a > b, c = d)`): they order `false`
/// before `true`, as MySQL does 0 and 1.
const EXTREMES: &[&str] = &["GREATEST", "LEAST"];

/// MySQL functions whose value is text whatever their arguments.
const TEXT_FUNCTIONS: &[&str] = &[
    "CONCAT",
    "CONCAT_WS",
    "UPPER",
    "UCASE",
    "LOWER",
    "LCASE",
    "SUBSTR",
    "MID",
    "LEFT",
    "RIGHT",
    "LTRIM",
    "RTRIM",
    "REPLACE",
    "LPAD",
    "RPAD",
    "REPEAT",
    "REVERSE",
    "SUBSTRING_INDEX",
    "GROUP_CONCAT",
    "DATE_FORMAT",
    "MONTHNAME",
    "DAYNAME",
    "HEX",
    "MD5",
    "SHA1",
    "SHA2",
    "JSON_UNQUOTE",
];

/// MySQL functions whose value is a date, or a date and time.
const DATE_FUNCTIONS: &[&str] = &[
    "CURDATE",
    "CURRENT_DATE",
    "UTC_DATE",
    "NOW",
    "CURRENT_TIMESTAMP",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "SYSDATE",
    "UTC_TIMESTAMP",
    "DATE",
    "TIMESTAMP",
    "LAST_DAY",
    "MAKEDATE",
];

/// MySQL functions whose value is a time.
const TIME_FUNCTIONS: &[&str] = &["CURTIME", "CURRENT_TIME", "UTC_TIME", "TIME", "MAKETIME"];

/// MySQL functions that move their first argument in time: a date or a time of it is one (a
/// text one is text in MySQL, a date on the targets: left as it is).
const SHIFT_FUNCTIONS: &[&str] = &["DATE_ADD", "DATE_SUB", "ADDDATE", "SUBDATE"];

/// A text whose number MySQL reads is not 0: it has a digit other than 0 before anything that
/// ends the number (see the module's documentation). MySQL skips the ASCII spaces before it.
const NON_ZERO_TEXT_POSTGRES: &str = r"^[ \t\n\v\f\r]*[-+]?[0-9]*[.]?[0-9]*[1-9]";

/// [`NON_ZERO_TEXT_POSTGRES`] for Redshift, whose POSIX classes are ASCII only and whose
/// documentation gives no backslash escapes in a bracket.
const NON_ZERO_TEXT_REDSHIFT: &str = "^[[:space:]]*[-+]?[0-9]*[.]?[0-9]*[1-9]";

/// The kinds of values MySQL reads as a number where a condition is expected (see the module's
/// documentation), as it wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    /// A column of a MySQL `ENUM` or `SET`.
    Listed,
    /// A date, or a date and time.
    Date,
    Time,
}

/// Decimal places of MySQL's `AVG` of integers (`div_precision_increment`). Redshift's `AVG` of
/// a DECIMAL keeps its scale, of an integer gives a BIGINT (its documentation, `r_AVG`).
const AVG_SCALE: usize = 4;

/// The arguments of a MySQL call (before the function map renames it: `IF` is still `IF`).
pub(crate) fn arguments(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::Function(function) = expr else {
        return;
    };
    let name = builtin_name(function).unwrap_or_default();
    let mut args: Vec<&mut Expr> = unnamed_args_mut(function).collect();
    match name.as_str() {
        // Counts the values that are not NULL: the same for a boolean.
        "COUNT" => {}
        name if JSON_BUILDERS.contains(&name) => {}
        // The first argument is a condition; the value is the second or the third.
        "IF" if !args.is_empty() => mixed(args.split_off(1), ctx),
        name if PASS_THROUGH.contains(&name) => mixed(args, ctx),
        name if EXTREMES.contains(&name) && all_boolean(args.iter().map(|arg| &**arg), ctx) => {}
        "AVG" if ctx.to == TargetDialect::Redshift => {
            for arg in args {
                to_number(arg, ctx, AVG_SCALE);
            }
        }
        _ => {
            for arg in args {
                as_number(arg, ctx);
            }
        }
    }
}

/// The operands of an operator, the values a comparison or a `CASE` compares and the results of
/// a `CASE` (after `numeric_condition_to_comparison`, which leaves a numeric column used as a
/// condition as `(n <> 0)`).
pub(crate) fn operands(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    match expr {
        Expr::BinaryOp { left, op, right } if is_arithmetic(op) => {
            as_number(left, ctx);
            as_number(right, ctx);
        }
        Expr::BinaryOp { left, op, right } if is_comparison(op) => {
            compared(left, right, ctx);
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus | UnaryOperator::BitwiseNot,
            expr,
        } => as_number(expr, ctx),
        Expr::InList { expr, list, .. } => {
            if is_boolean(expr, ctx) {
                if list.iter().any(|item| is_number(item, ctx)) {
                    as_number(expr, ctx);
                }
            } else if is_number(expr, ctx) {
                for item in list {
                    as_number(item, ctx);
                }
            }
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            if is_boolean(expr, ctx) {
                if is_number(low, ctx) || is_number(high, ctx) {
                    as_number(expr, ctx);
                }
            } else if is_number(expr, ctx) {
                as_number(low, ctx);
                as_number(high, ctx);
            }
        }
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(operand) = operand {
                for when in conditions.iter_mut() {
                    compared(operand, &mut when.condition, ctx);
                }
            }
            let results = conditions
                .iter_mut()
                .map(|when| &mut when.result)
                .chain(else_result.as_deref_mut())
                .collect();
            mixed(results, ctx);
        }
        _ => {}
    }
}

/// `numeric_condition_to_comparison` (see the module's documentation) of the conditions an
/// expression holds: operands of `AND`/`OR`/`XOR`/`NOT` and `IS TRUE`..., `CASE WHEN`s and
/// `IF`'s first argument. Before the node's parts are rewritten (after `pipes_as_or`, which
/// makes `||` an OR).
pub(crate) fn numeric_conditions(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    for condition in expr_conditions(expr) {
        as_condition(condition, ctx);
    }
}

/// `numeric_condition_to_comparison` of a whole expression that is a condition (a CHECK's).
pub(crate) fn whole_condition(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql
        || !(as_condition(expr, ctx) || compared_with_zero(expr, ctx))
    {
        return;
    }
    // The CHECK's own parentheses enclose it.
    if let Expr::Nested(inner) = expr {
        *expr = std::mem::replace(&mut **inner, Expr::value(Value::Null));
    }
}

/// `numeric_condition_to_comparison` of a value compared with 0 (see the module's
/// documentation) that the targets can't compare with a number: `s <> 0` is the condition `s`,
/// `s = 0` its `NOT`. Before its parts are rewritten. Whether it was made one.
pub(crate) fn compared_with_zero(expr: &mut Expr, ctx: &mut Ctx) -> bool {
    if ctx.from != SourceDialect::Mysql {
        return false;
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return false;
    };
    let negated = match op {
        BinaryOperator::Eq => true,
        BinaryOperator::NotEq => false,
        _ => return false,
    };
    let is_zero = |value: &Expr| {
        number_literal(value).and_then(|(_, digits)| digits.parse::<f64>().ok()) == Some(0.0)
    };
    let value = match (is_zero(left), is_zero(right)) {
        (false, true) => left,
        (true, false) => right,
        _ => return false,
    };
    if !matches!(
        kind(value, ctx),
        Some(Kind::Text | Kind::Listed | Kind::Date | Kind::Time)
    ) || !as_condition(value, ctx)
    {
        return false;
    }
    let condition = std::mem::replace(&mut **value, Expr::value(Value::Null));
    *expr = match negated {
        true => Expr::Nested(Box::new(Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: Box::new(condition),
        })),
        false => condition,
    };
    true
}

/// The conditions an expression holds: the operands of `AND`/`OR`/`XOR`/`NOT` and of
/// `IS [NOT] TRUE`/`FALSE`/`UNKNOWN`, the `WHEN`s of a `CASE` without operand, `IF`'s first
/// argument.
fn expr_conditions(expr: &mut Expr) -> Vec<&mut Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And | BinaryOperator::Or | BinaryOperator::Xor,
            right,
        } => vec![left, right],
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        }
        | Expr::IsTrue(expr)
        | Expr::IsNotTrue(expr)
        | Expr::IsFalse(expr)
        | Expr::IsNotFalse(expr)
        | Expr::IsUnknown(expr)
        | Expr::IsNotUnknown(expr) => vec![expr],
        Expr::Case {
            operand: None,
            conditions,
            ..
        } => conditions
            .iter_mut()
            .map(|when| &mut when.condition)
            .collect(),
        Expr::Function(function) if builtin_name(function).as_deref() == Some("IF") => {
            unnamed_args_mut(function).take(1).collect()
        }
        _ => Vec::new(),
    }
}

/// [`numeric_conditions`] of a SELECT's `WHERE`, `HAVING` and join `ON`s, with its tables in
/// scope.
pub(crate) fn numeric_conditions_in_select(select: &mut Select, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    for condition in select_conditions(select) {
        as_condition(condition, ctx);
    }
}

/// A SELECT's `WHERE`, `HAVING` and join `ON` conditions, those of parenthesized joins too
/// (MySQL and MariaDB write a view's joins nested: `FROM ((a JOIN b ON ...) JOIN c ON ...)`).
fn select_conditions(select: &mut Select) -> Vec<&mut Expr> {
    fn on_conditions<'s>(tables: &'s mut TableWithJoins, found: &mut Vec<&'s mut Expr>) {
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = &mut tables.relation
        {
            on_conditions(table_with_joins, found);
        }
        for join in &mut tables.joins {
            if let TableFactor::NestedJoin {
                table_with_joins, ..
            } = &mut join.relation
            {
                on_conditions(table_with_joins, found);
            }
            if let JoinOperator::Join(JoinConstraint::On(on))
            | JoinOperator::Inner(JoinConstraint::On(on))
            | JoinOperator::Left(JoinConstraint::On(on))
            | JoinOperator::LeftOuter(JoinConstraint::On(on))
            | JoinOperator::Right(JoinConstraint::On(on))
            | JoinOperator::RightOuter(JoinConstraint::On(on))
            | JoinOperator::CrossJoin(JoinConstraint::On(on))
            | JoinOperator::StraightJoin(JoinConstraint::On(on)) = &mut join.join_operator
            {
                found.push(on);
            }
        }
    }
    let mut found: Vec<&mut Expr> = select
        .selection
        .iter_mut()
        .chain(select.having.iter_mut())
        .collect();
    for tables in &mut select.from {
        on_conditions(tables, &mut found);
    }
    found
}

/// A number, text or a date used as a condition made the condition MySQL makes of it (see the
/// module's documentation); anything else is left as it is. Whether it was made one.
fn as_condition(expr: &mut Expr, ctx: &mut Ctx) -> bool {
    let Some(kind) = kind(expr, ctx) else {
        return false;
    };
    // Reading a number in text that is not one as a whole ('2x') is an error when MySQL writes
    // a row under its default, strict, sql_mode (and a warning in a SELECT): a table's
    // expression (a CHECK, a default, an index key) refuses the row, where it reads the number
    // the text starts with under another sql_mode, which the converter can't see.
    if kind == Kind::Text && !ctx.query {
        ctx.log.action(
            "function.unsupported",
            format!("`{}`: text used as a condition, which MySQL reads as a number: in a table's expression (a CHECK, a default, an index key), which it computes as it writes a row, under its default sql_mode (STRICT_TRANS_TABLES), a row whose text is not a number as a whole ('2x', '') is refused, under another one the number the text starts with is tested; the converter can't see the sql_mode", super::mysql_json::unquoted_text(expr)),
            "write the condition by hand in the target, as the source's sql_mode reads it (strict: the text is a number as a whole, and is not 0)",
        );
        return false;
    }
    let value = std::mem::replace(expr, Expr::value(Value::Null));
    *expr = condition_of(value, kind, ctx);
    ctx.log.applied(CONDITION_NAME);
    true
}

/// The condition MySQL makes of `value`, of kind `kind`: true where the number it reads in it
/// is not 0 (see the module's documentation).
fn condition_of(value: Expr, kind: Kind, ctx: &Ctx) -> Expr {
    let literal = number_literal(&value).and_then(|(_, digits)| digits.parse::<f64>().ok());
    if let (Kind::Number, Some(n)) = (kind, literal) {
        return Expr::value(Value::Boolean(n != 0.0));
    }
    let condition = match kind {
        Kind::Number => binary(value, BinaryOperator::NotEq, number(0)),
        Kind::Text => {
            let non_zero = match ctx.to {
                TargetDialect::Postgres => NON_ZERO_TEXT_POSTGRES,
                TargetDialect::Redshift => NON_ZERO_TEXT_REDSHIFT,
            };
            binary(value, BinaryOperator::PGRegexMatch, string(non_zero))
        }
        Kind::Listed => binary(value, BinaryOperator::NotEq, string("")),
        // True or NULL.
        Kind::Date => binary(
            Expr::IsNotNull(Box::new(value)),
            BinaryOperator::Or,
            Expr::value(Value::Null),
        ),
        Kind::Time => binary(value, BinaryOperator::NotEq, string("00:00:00")),
    };
    Expr::Nested(Box::new(condition))
}

/// The kind of a value MySQL reads as a number used as a condition, as it wrote it; `None` for
/// a boolean, a condition or a value of unknown kind.
fn kind(expr: &Expr, ctx: &mut Ctx) -> Option<Kind> {
    if is_numeric(expr, ctx) {
        return Some(Kind::Number);
    }
    // MySQL reads an ENUM's or SET's number only in the column itself: anything made of it
    // (`COALESCE(e, 'x')`, `e COLLATE ...`, `(SELECT e ...)`) is its text.
    let text_of = |kind: Option<Kind>| match kind {
        Some(Kind::Listed) => Some(Kind::Text),
        kind => kind,
    };
    if let Some(values) = result_values(expr) {
        let mut kinds = values
            .into_iter()
            .filter(|value| !is_null_literal(value))
            .map(|value| text_of(kind(value, ctx)));
        let first = kinds.next()??;
        return kinds.all(|kind| kind == Some(first)).then_some(first);
    }
    match expr {
        Expr::Nested(inner) => kind(inner, ctx),
        Expr::Value(value) => matches!(
            value.value,
            Value::SingleQuotedString(_)
                | Value::DoubleQuotedString(_)
                | Value::NationalStringLiteral(_)
        )
        .then_some(Kind::Text),
        // `_utf8mb4'x'`.
        Expr::Prefixed { value, .. } => kind(value, ctx),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            let column = ctx.column(expr)?;
            match &column.data_type {
                _ if column.enumerated => Some(Kind::Listed),
                text if text.is_character() => Some(Kind::Text),
                LogicalType::Date | LogicalType::Timestamp { .. } => Some(Kind::Date),
                LogicalType::Time { .. } => Some(Kind::Time),
                _ => None,
            }
        }
        Expr::Cast { data_type, .. }
        | Expr::Convert {
            data_type: Some(data_type),
            ..
        } => type_kind(data_type),
        Expr::TypedString(typed) => type_kind(&typed.data_type),
        // `CONVERT(s USING utf8mb4)`.
        Expr::Convert { .. } | Expr::Substring { .. } | Expr::Trim { .. } => Some(Kind::Text),
        Expr::Collate { expr, .. } => text_of(kind(expr, ctx)),
        // A date or a time plus or minus an interval.
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Plus | BinaryOperator::Minus,
            right,
        } => match (&**left, &**right) {
            (Expr::Interval(_), moved) | (moved, Expr::Interval(_)) => moved_kind(moved, ctx),
            _ => None,
        },
        Expr::Function(function) => match builtin_name(function)?.as_str() {
            // With a format, text.
            "FROM_UNIXTIME" if arity(function) > 1 => Some(Kind::Text),
            "FROM_UNIXTIME" => Some(Kind::Date),
            name if TEXT_FUNCTIONS.contains(&name) => Some(Kind::Text),
            name if DATE_FUNCTIONS.contains(&name) => Some(Kind::Date),
            name if TIME_FUNCTIONS.contains(&name) => Some(Kind::Time),
            name if SHIFT_FUNCTIONS.contains(&name) => {
                moved_kind(unnamed_args(function).next()?, ctx)
            }
            _ => None,
        },
        Expr::Subquery(query) => text_of(judge_selected(query, ctx, kind).flatten()),
        _ => None,
    }
}

/// The kind of a date or a time moved by an interval: its own (of text, left as it is).
fn moved_kind(moved: &Expr, ctx: &mut Ctx) -> Option<Kind> {
    kind(moved, ctx).filter(|kind| matches!(kind, Kind::Date | Kind::Time))
}

/// The kind of a value of a MySQL type (of a cast).
fn type_kind(data_type: &DataType) -> Option<Kind> {
    match data_type {
        text if crate::collation::is_text_type(text) => Some(Kind::Text),
        DataType::Date | DataType::Datetime(_) | DataType::Timestamp(..) => Some(Kind::Date),
        DataType::Time(..) => Some(Kind::Time),
        _ => None,
    }
}

/// The values of which one is `expr`'s: a `CASE`'s results, `IF`'s, `COALESCE`'s, `MIN`'s
/// arguments..., `NULLIF`'s first.
fn result_values(expr: &Expr) -> Option<Vec<&Expr>> {
    match expr {
        Expr::Case {
            conditions,
            else_result,
            ..
        } => Some(
            conditions
                .iter()
                .map(|when| &when.result)
                .chain(else_result.as_deref())
                .collect(),
        ),
        Expr::Function(function) => match builtin_name(function)?.as_str() {
            "IF" => Some(unnamed_args(function).skip(1).collect()),
            "NULLIF" => Some(unnamed_args(function).take(1).collect()),
            "MIN" | "MAX" => Some(unnamed_args(function).collect()),
            name if PASS_THROUGH.contains(&name) || EXTREMES.contains(&name) => {
                Some(unnamed_args(function).collect())
            }
            _ => None,
        },
        _ => None,
    }
}

/// A value MySQL computes as a number, as it wrote it: see the module's documentation.
fn is_numeric(expr: &Expr, ctx: &mut Ctx) -> bool {
    // The value is one of these: a number if one of them is (a boolean among them becomes one).
    let any_numeric = |mut values: Vec<&Expr>, ctx: &mut Ctx| {
        values.retain(|value| !is_null_literal(value));
        values.into_iter().any(|value| is_numeric(value, ctx))
    };
    match expr {
        Expr::Nested(inner) => is_numeric(inner, ctx),
        Expr::Value(value) => matches!(value.value, Value::Number(..)),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            ctx.column_type(expr).is_some_and(LogicalType::is_numeric)
        }
        // A date plus an interval is a date.
        Expr::BinaryOp { left, op, right } => {
            is_arithmetic(op)
                && !matches!(**left, Expr::Interval(_))
                && !matches!(**right, Expr::Interval(_))
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus | UnaryOperator::BitwiseNot,
            ..
        }
        | Expr::Extract { .. }
        | Expr::Position { .. }
        | Expr::Ceil { .. }
        | Expr::Floor { .. } => true,
        Expr::Cast { data_type, .. }
        | Expr::Convert {
            data_type: Some(data_type),
            ..
        } => is_number_type(data_type),
        Expr::Case { .. } => result_values(expr).is_some_and(|values| any_numeric(values, ctx)),
        Expr::Function(function) => match builtin_name(function).as_deref() {
            Some(name) if MYSQL_NUMBER_FUNCTIONS.contains(&name) => true,
            // A boolean argument is made a number (`arguments`), and so is the value.
            Some("MIN" | "MAX") => {
                unnamed_args(function).any(|value| is_numeric(value, ctx) || is_boolean(value, ctx))
            }
            _ => result_values(expr).is_some_and(|values| any_numeric(values, ctx)),
        },
        Expr::Subquery(query) => judge_selected(query, ctx, is_numeric).unwrap_or(false),
        _ => false,
    }
}

/// A type MySQL casts to a number with (`SIGNED`, `DECIMAL(10,2)`, `DOUBLE`...).
fn is_number_type(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Signed
            | DataType::SignedInteger
            | DataType::Unsigned
            | DataType::UnsignedInteger
            | DataType::Decimal(_)
            | DataType::Dec(_)
            | DataType::Numeric(_)
            | DataType::Double(_)
            | DataType::DoublePrecision
            | DataType::Float(_)
            | DataType::Real
            | DataType::TinyInt(_)
            | DataType::SmallInt(_)
            | DataType::Int(_)
            | DataType::Integer(_)
            | DataType::BigInt(_)
    )
}

/// `logical_xor` (see the module's documentation), after the operands have become conditions.
pub(crate) fn xor(expr: &mut Expr, ctx: &mut Ctx) {
    if ctx.from != SourceDialect::Mysql {
        return;
    }
    let Expr::BinaryOp {
        left,
        op: op @ BinaryOperator::Xor,
        right,
    } = expr
    else {
        return;
    };
    for operand in [&mut **left, &mut **right] {
        // A boolean or a number here would both be right, differently: `2 XOR 3` is false in
        // MySQL, `2 <> 3` true.
        if is_unknown(operand, ctx) {
            ctx.log.warning(
                "function.semantics",
                format!("the operand {operand} of a logical XOR is of unknown type (a column of another view or of a derived table): it is compared as a boolean"),
                format!("if it is a number, compare it with 0 in the source's view ({operand} <> 0: MySQL reads a non-zero number as true) and convert again"),
            );
        }
        if is_number(operand, ctx) {
            let value = std::mem::replace(operand, Expr::value(Value::Null));
            *operand = Expr::BinaryOp {
                left: Box::new(value),
                op: BinaryOperator::NotEq,
                right: Box::new(number(0)),
            };
        }
    }
    *op = BinaryOperator::NotEq;
    ctx.log.applied(XOR_NAME);
}

/// MySQL's `||` (see the module's documentation), before its operands are rewritten: the
/// warning names it as the source wrote it. A chain `a || b || c` is one warning.
pub(crate) fn pipes_as_or(expr: &mut Expr, ctx: &mut Ctx) {
    let Expr::BinaryOp { op, .. } = expr else {
        return;
    };
    if !is_pipes_or(op) {
        return;
    }
    ctx.log.warning(
        "function.semantics",
        format!("`{expr}` is a logical OR under MySQL's default sql_mode, and is converted as one; under PIPES_AS_CONCAT (or ANSI) MySQL concatenates text with ||"),
        "if the source runs with PIPES_AS_CONCAT, write CONCAT() instead of || in the source's definition and convert again",
    );
    or_chain(expr);
    ctx.log.applied(PIPES_NAME);
}

fn is_pipes_or(op: &BinaryOperator) -> bool {
    matches!(op, BinaryOperator::Custom(op) if op == crate::parse::MYSQL_PIPES_OR)
}

/// `expr` and the `||` operands it is a chain of, made ORs.
fn or_chain(expr: &mut Expr) {
    if let Expr::BinaryOp { left, op, right } = expr {
        if is_pipes_or(op) {
            *op = BinaryOperator::Or;
            or_chain(left);
            or_chain(right);
        }
    }
}

/// Two values compared: a boolean compared with a number becomes a number.
fn compared(left: &mut Expr, right: &mut Expr, ctx: &mut Ctx) {
    if is_boolean(left, ctx) && is_number(right, ctx) {
        as_number(left, ctx);
    } else if is_number(left, ctx) && is_boolean(right, ctx) {
        as_number(right, ctx);
    }
}

/// Values of which one is the result (a `CASE`'s, `COALESCE`'s): the booleans among them become
/// numbers when another is a number, and stay booleans otherwise.
fn mixed(values: Vec<&mut Expr>, ctx: &mut Ctx) {
    if !values.iter().any(|value| is_number(value, ctx)) {
        return;
    }
    for value in values {
        as_number(value, ctx);
    }
}

/// Operators MySQL computes on numbers: arithmetic and bits.
fn is_arithmetic(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo
            | BinaryOperator::MyIntegerDivide
            | BinaryOperator::BitwiseAnd
            | BinaryOperator::BitwiseOr
            | BinaryOperator::BitwiseXor
            | BinaryOperator::PGBitwiseShiftLeft
            | BinaryOperator::PGBitwiseShiftRight
    )
}

/// A value the targets hold as a boolean: a condition, a boolean literal or column, a `CASE`
/// or pass-through call all of whose values are booleans, or a scalar subquery selecting one.
/// (`ctx` is mutable to put a subquery's tables in scope while its value is judged.)
fn is_boolean(expr: &Expr, ctx: &mut Ctx) -> bool {
    match expr {
        Expr::Nested(inner) => is_boolean(inner, ctx),
        Expr::Value(value) => matches!(value.value, Value::Boolean(_)),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            ctx.column_type(expr) == Some(&LogicalType::Boolean)
        }
        Expr::BinaryOp { op, .. } => {
            is_comparison(op)
                || matches!(
                    op,
                    BinaryOperator::And
                        | BinaryOperator::Or
                        | BinaryOperator::Xor
                        | BinaryOperator::PGRegexMatch
                        | BinaryOperator::PGRegexIMatch
                        | BinaryOperator::PGRegexNotMatch
                        | BinaryOperator::PGRegexNotIMatch
                )
        }
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsNotTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsUnknown(_)
        | Expr::IsNotUnknown(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. }
        | Expr::RLike { .. }
        | Expr::Exists { .. } => true,
        Expr::Case {
            conditions,
            else_result,
            ..
        } => all_boolean(
            conditions
                .iter()
                .map(|when| &when.result)
                .chain(else_result.as_deref()),
            ctx,
        ),
        Expr::Function(function) => {
            builtin_name(function).is_some_and(|name| {
                PASS_THROUGH.contains(&name.as_str()) || EXTREMES.contains(&name.as_str())
            }) && all_boolean(unnamed_args(function), ctx)
        }
        Expr::Subquery(query) => judge_selected(query, ctx, is_boolean).unwrap_or(false),
        _ => false,
    }
}

/// Whether the values are booleans, NULLs aside, and one at least is.
fn all_boolean<'e>(values: impl Iterator<Item = &'e Expr>, ctx: &mut Ctx) -> bool {
    let mut any = false;
    for value in values.filter(|value| !is_null_literal(value)) {
        if !is_boolean(value, ctx) {
            return false;
        }
        any = true;
    }
    any
}

/// A value MySQL compares a condition with as a number: anything but a boolean, NULL and a
/// value of unknown type (which may be a boolean on the target).
fn is_number(expr: &Expr, ctx: &mut Ctx) -> bool {
    !is_boolean(expr, ctx) && !is_null_literal(expr) && !is_unknown(expr, ctx)
}

/// A column of unknown type (of another view or of a derived table: only tables' column types
/// are known), a `CASE`, `IF` or pass-through call whose values are such columns, booleans
/// and NULLs, or a scalar subquery selecting such a value (or not one value of a SELECT).
fn is_unknown(expr: &Expr, ctx: &mut Ctx) -> bool {
    let unknown_or_boolean =
        |value: &Expr| is_null_literal(value) || is_boolean(value, ctx) || is_unknown(value, ctx);
    match expr {
        Expr::Nested(inner) => is_unknown(inner, ctx),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ctx.column_type(expr).is_none(),
        Expr::Case {
            conditions,
            else_result,
            ..
        } => conditions
            .iter()
            .map(|when| &when.result)
            .chain(else_result.as_deref())
            .all(unknown_or_boolean),
        Expr::Function(function) => match builtin_name(function).as_deref() {
            // The first argument is the condition.
            Some("IF") => unnamed_args(function).skip(1).all(unknown_or_boolean),
            Some(name) if PASS_THROUGH.contains(&name) || EXTREMES.contains(&name) => {
                unnamed_args(function).all(unknown_or_boolean)
            }
            _ => false,
        },
        Expr::Subquery(query) => judge_selected(query, ctx, is_unknown).unwrap_or(true),
        _ => false,
    }
}

/// `judge` of the one value a scalar subquery selects, with the subquery's tables in scope:
/// `(SELECT u.flag FROM u ...)` is a boolean if `u.flag` is one. `None` when it selects no one
/// value of a SELECT (`SELECT *`); of a `UNION`, its first SELECT's, whose type the others
/// must have on the targets.
fn judge_selected<T>(query: &Query, ctx: &mut Ctx, judge: fn(&Expr, &mut Ctx) -> T) -> Option<T> {
    fn selected(body: &SetExpr) -> Option<(&Select, &Expr)> {
        match body {
            SetExpr::Select(select) => match select.projection.as_slice() {
                [SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }] => {
                    Some((select, expr))
                }
                _ => None,
            },
            SetExpr::SetOperation { left, .. } => selected(left),
            SetExpr::Query(query) => selected(&query.body),
            _ => None,
        }
    }
    let (select, value) = selected(&query.body)?;
    ctx.scopes.push(select);
    let judged = judge(value, ctx);
    ctx.scopes.pop();
    Some(judged)
}

/// A boolean made MySQL's number: 1, 0 or NULL. Anything else is left as it is.
fn as_number(expr: &mut Expr, ctx: &mut Ctx) {
    to_number(expr, ctx, 0);
}

/// [`as_number`] with `scale` decimal places (`1.0000`) where the target would otherwise compute
/// with an integer; PostgreSQL's integer is enough there.
fn to_number(expr: &mut Expr, ctx: &mut Ctx, scale: usize) {
    if !is_boolean(expr, ctx) {
        return;
    }
    let mut boolean = std::mem::replace(expr, Expr::value(Value::Null));
    // The cast or the CASE encloses it.
    while let Expr::Nested(inner) = boolean {
        boolean = *inner;
    }
    let digits = |n: u64| match scale {
        0 => number(n),
        _ => Expr::value(Value::Number(format!("{n}.{:0<scale$}", ""), false)),
    };
    *expr = match (boolean, ctx.to) {
        (Expr::Value(value), _) => digits(u64::from(value.value == Value::Boolean(true))),
        (boolean, TargetDialect::Postgres) => cast(boolean, DataType::Integer(None)),
        (boolean, TargetDialect::Redshift) => {
            let literal = |b| Expr::value(Value::Boolean(b));
            case(
                Some(boolean),
                vec![(literal(true), digits(1)), (literal(false), digits(0))],
                None,
            )
        }
    };
    ctx.log.applied(NAME);
}
