//! Small helpers to inspect and build sqlparser AST nodes.

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, UnaryOperator, Value,
};

/// MySQL functions whose value is a number, whatever their arguments.
pub(crate) const MYSQL_NUMBER_FUNCTIONS: &[&str] = &[
    // Mathematics.
    "ABS",
    "ACOS",
    "ASIN",
    "ATAN",
    "ATAN2",
    "CEIL",
    "CEILING",
    "COS",
    "COT",
    "CRC32",
    "DEGREES",
    "EXP",
    "FLOOR",
    "LN",
    "LOG",
    "LOG10",
    "LOG2",
    "MOD",
    "PI",
    "POW",
    "POWER",
    "RADIANS",
    "RAND",
    "ROUND",
    "SIGN",
    "SIN",
    "SQRT",
    "TAN",
    "TRUNCATE",
    "BIT_COUNT",
    // Of text.
    "ASCII",
    "BIT_LENGTH",
    "CHAR_LENGTH",
    "CHARACTER_LENGTH",
    "FIELD",
    "FIND_IN_SET",
    "INSTR",
    "LENGTH",
    "LOCATE",
    "OCTET_LENGTH",
    "ORD",
    "STRCMP",
    "JSON_LENGTH",
    "JSON_DEPTH",
    // Of dates.
    "DATEDIFF",
    "DAY",
    "DAYOFMONTH",
    "DAYOFWEEK",
    "DAYOFYEAR",
    "HOUR",
    "MICROSECOND",
    "MINUTE",
    "MONTH",
    "PERIOD_DIFF",
    "QUARTER",
    "SECOND",
    "TIME_TO_SEC",
    "TIMESTAMPDIFF",
    "TO_DAYS",
    "TO_SECONDS",
    "UNIX_TIMESTAMP",
    "WEEK",
    "WEEKDAY",
    "WEEKOFYEAR",
    "YEAR",
    "YEARWEEK",
    // Aggregates.
    "AVG",
    "BIT_AND",
    "BIT_OR",
    "BIT_XOR",
    "COUNT",
    "STD",
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "SUM",
    "VAR_POP",
    "VAR_SAMP",
    "VARIANCE",
];

/// The upper-case name of a call to an unqualified, unquoted function (built-ins are called that
/// way); `None` for `schema.f(...)` or `"f"(...)`, which are user-defined.
pub(crate) fn builtin_name(function: &Function) -> Option<String> {
    match function.name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] if ident.quote_style.is_none() => {
            Some(ident.value.to_ascii_uppercase())
        }
        _ => None,
    }
}

/// The number of arguments of a call; `f` without parentheses has none.
pub(crate) fn arity(function: &Function) -> usize {
    match &function.args {
        FunctionArguments::None => 0,
        FunctionArguments::Subquery(_) => 1,
        FunctionArguments::List(list) => list.args.len(),
    }
}

/// The arguments of a plain call `f(a, b)`: no `DISTINCT`, no clauses inside the parentheses, no
/// named arguments, no `OVER`, `FILTER` or `WITHIN GROUP`. Only such calls can be rewritten into
/// another shape without losing something.
pub(crate) fn plain_args(function: &Function) -> Option<Vec<Expr>> {
    if function.over.is_some()
        || function.filter.is_some()
        || function.null_treatment.is_some()
        || !function.within_group.is_empty()
        || !matches!(function.parameters, FunctionArguments::None)
    {
        return None;
    }
    match &function.args {
        FunctionArguments::None => Some(Vec::new()),
        FunctionArguments::Subquery(_) => None,
        FunctionArguments::List(list) => {
            if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                return None;
            }
            list.args
                .iter()
                .map(|arg| match arg {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr.clone()),
                    _ => None,
                })
                .collect()
        }
    }
}

/// The unnamed arguments of a call, whatever else it has (`DISTINCT`, clauses, `OVER`), for a
/// look at them in place; [`plain_args`] gives them only when the call can be rebuilt from them.
pub(crate) fn unnamed_args(function: &Function) -> impl Iterator<Item = &Expr> {
    let args = match &function.args {
        FunctionArguments::List(list) => list.args.as_slice(),
        FunctionArguments::None | FunctionArguments::Subquery(_) => &[],
    };
    args.iter().filter_map(|arg| match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr),
        _ => None,
    })
}

/// [`unnamed_args`], to rewrite them in place.
pub(crate) fn unnamed_args_mut(function: &mut Function) -> impl Iterator<Item = &mut Expr> {
    let args = match &mut function.args {
        FunctionArguments::List(list) => list.args.as_mut_slice(),
        FunctionArguments::None | FunctionArguments::Subquery(_) => &mut [],
    };
    args.iter_mut().filter_map(|arg| match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr),
        _ => None,
    })
}

/// Whether the call has clauses inside its parentheses (`ORDER BY`, `SEPARATOR`, ...), which a
/// renamed function may not accept.
pub(crate) fn has_clauses(function: &Function) -> bool {
    matches!(&function.args, FunctionArguments::List(list) if !list.clauses.is_empty())
}

/// Wraps `expr` in parentheses unless it is atomic, so that it keeps its meaning as an operand
/// (sqlparser prints the tree as it is, without adding parentheses).
pub(crate) fn paren(expr: Expr) -> Expr {
    if is_atomic(&expr) {
        expr
    } else {
        Expr::Nested(Box::new(expr))
    }
}

pub(crate) fn is_atomic(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Identifier(_)
            | Expr::CompoundIdentifier(_)
            | Expr::Value(_)
            | Expr::Function(_)
            | Expr::Nested(_)
            | Expr::Interval(_)
            | Expr::Cast { .. }
            | Expr::Case { .. }
            | Expr::Subquery(_)
            | Expr::Extract { .. }
            | Expr::Substring { .. }
            | Expr::Trim { .. }
            | Expr::Position { .. }
            | Expr::Ceil { .. }
            | Expr::Floor { .. }
            | Expr::TypedString(_)
    )
}

pub(crate) fn is_null_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(value) if value.value == Value::Null)
}

/// A literal that is not NULL: comparing with `=` can never meet a NULL on this side.
pub(crate) fn is_non_null_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Value(value) => value.value != Value::Null,
        Expr::UnaryOp { expr, .. } => {
            matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..)))
        }
        _ => false,
    }
}

/// The integer value of a literal such as `10`.
pub(crate) fn integer_literal(expr: &Expr) -> Option<u64> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Number(text, _) => text.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// A number literal through parentheses and `+` / `-` signs: whether it is negated, and its
/// digits (`-(1.5)` is `(true, "1.5")`).
pub(crate) fn number_literal(expr: &Expr) -> Option<(bool, &str)> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Number(digits, _) => Some((false, digits.as_str())),
            _ => None,
        },
        Expr::Nested(inner)
        | Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr: inner,
        } => number_literal(inner),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: inner,
        } => number_literal(inner).map(|(negative, digits)| (!negative, digits)),
        _ => None,
    }
}

/// The value of an integer literal, negative ones (`-3`) included.
pub(crate) fn signed_integer(expr: &Expr) -> Option<i64> {
    let (negative, digits) = number_literal(expr)?;
    let n = i64::try_from(digits.parse::<u64>().ok()?).ok()?;
    Some(if negative { -n } else { n })
}

/// A comparison operator (MySQL's NULL-safe `<=>` included).
pub(crate) fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
            | BinaryOperator::Spaceship
    )
}

pub(crate) fn number(n: u64) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

pub(crate) fn string(text: impl Into<String>) -> Expr {
    Expr::value(Value::SingleQuotedString(text.into()))
}

/// `CAST(expr AS data_type)`.
pub(crate) fn cast(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        format: None,
    }
}

pub(crate) fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

/// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
pub(crate) fn case(
    operand: Option<Expr>,
    whens: Vec<(Expr, Expr)>,
    otherwise: Option<Expr>,
) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: operand.map(Box::new),
        conditions: whens
            .into_iter()
            .map(|(condition, result)| CaseWhen { condition, result })
            .collect(),
        else_result: otherwise.map(Box::new),
    }
}

/// A call `name(args)` to a built-in.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Function {
    Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|arg| FunctionArg::Unnamed(FunctionArgExpr::Expr(arg)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    }
}

/// Splits `a AND b AND (c AND d)` into its conjuncts, without recursion (the chain can be long).
pub(crate) fn conjuncts(expr: Expr) -> Vec<Expr> {
    let mut out = Vec::new();
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        match expr {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                stack.push(*right);
                stack.push(*left);
            }
            Expr::Nested(inner)
                if matches!(
                    inner.as_ref(),
                    Expr::BinaryOp {
                        op: BinaryOperator::And,
                        ..
                    }
                ) =>
            {
                stack.push(*inner);
            }
            other => out.push(other),
        }
    }
    out
}

/// The inverse of [`conjuncts`]; `None` for no conjuncts.
pub(crate) fn and_all(conjuncts: Vec<Expr>) -> Option<Expr> {
    let several = conjuncts.len() > 1;
    conjuncts
        .into_iter()
        .map(|expr| match expr {
            Expr::BinaryOp {
                op: BinaryOperator::Or,
                ..
            } if several => Expr::Nested(Box::new(expr)),
            other => other,
        })
        .reduce(|left, right| binary(left, BinaryOperator::And, right))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;
    use migrate_core::SourceDialect;

    fn expr(sql: &str) -> Expr {
        parse::expression(sql, SourceDialect::Postgres).unwrap()
    }

    #[test]
    fn conjuncts_round_trip() {
        let parts = conjuncts(expr("a = 1 AND (b = 2 AND c = 3) AND (d = 4 OR e = 5)"));
        assert_eq!(parts.len(), 4);
        assert_eq!(
            and_all(parts).unwrap().to_string(),
            "a = 1 AND b = 2 AND c = 3 AND (d = 4 OR e = 5)"
        );
        assert_eq!(and_all(Vec::new()), None);
    }

    #[test]
    fn number_literals_through_signs_and_parentheses() {
        assert_eq!(number_literal(&expr("-(1.5)")), Some((true, "1.5")));
        assert_eq!(number_literal(&expr("-(-2)")), Some((false, "2")));
        assert_eq!(number_literal(&expr("'2'")), None);
        assert_eq!(signed_integer(&expr("(-3)")), Some(-3));
        assert_eq!(signed_integer(&expr("+7")), Some(7));
        assert_eq!(signed_integer(&expr("1.5")), None);
    }

    #[test]
    fn paren_only_when_needed() {
        assert_eq!(paren(expr("a")).to_string(), "a");
        assert_eq!(paren(expr("a + b")).to_string(), "(a + b)");
        assert_eq!(paren(expr("f(a + b)")).to_string(), "f(a + b)");
    }
}
