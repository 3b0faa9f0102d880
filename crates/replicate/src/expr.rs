//! DMS `add-column` expressions (SQLite syntax, `$column` for a source column) translated to the
//! source's SQL, so that the source computes the value while it reads the chunk.
//!
//! Supported: `$column` references; string, numeric and `NULL` literals; `||`; `+ - * / %`;
//! comparisons (`= == != <> < <= > >=`), `IS [NOT] NULL`, `[NOT] LIKE` (case-insensitive for
//! ASCII, as in SQLite), `AND`, `OR`, `NOT`; `CASE [x] WHEN ... THEN ... [ELSE ...] END`;
//! `CAST(x AS INTEGER|TEXT|REAL|NUMERIC)`; the functions `upper`, `lower`, `length`, `substr`,
//! `trim`, `ltrim`, `rtrim`, `replace`, `instr`, `abs`, `round`, `coalesce`, `ifnull`, `nullif`,
//! and `datetime('now')`, `date('now')`. Anything else is an [`ExpressionError`] saying what is
//! not supported, never a silently different expression.
//!
//! Known differences: `substr` with a negative start counts from the end in SQLite, not in
//! PostgreSQL or MySQL (write positive positions); `/` of two integers divides as integers in
//! SQLite and PostgreSQL, but gives a decimal in MySQL; `=` and `<` compare text by bytes in
//! SQLite, by the column's collation in the source (MySQL's default ones ignore case).

use migrate_core::SourceDialect;
use std::fmt;

/// Why an expression can't be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpressionError {
    pub message: String,
    pub action: String,
}

impl fmt::Display for ExpressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.message, self.action)
    }
}

fn error(message: impl Into<String>, action: impl Into<String>) -> ExpressionError {
    ExpressionError {
        message: message.into(),
        action: action.into(),
    }
}

/// Translates `expression` for `dialect` (PostgreSQL or MySQL); `quote` quotes a source
/// column name for it.
pub fn translate(
    expression: &str,
    dialect: SourceDialect,
    quote: &dyn Fn(&str) -> String,
) -> Result<String, ExpressionError> {
    if !matches!(dialect, SourceDialect::Postgres | SourceDialect::Mysql) {
        return Err(error(
            format!("add-column expressions are not translated for {dialect:?} sources"),
            "remove the expression or load from PostgreSQL or MySQL",
        ));
    }
    let tokens = tokenize(expression)?;
    let mut parser = Parser { tokens, at: 0 };
    let tree = parser.expression()?;
    if let Some(token) = parser.tokens.get(parser.at) {
        return Err(error(
            format!("unexpected {token} after a complete expression"),
            "check the expression's syntax",
        ));
    }
    Render { dialect, quote }.expr(&tree)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Column(String),
    Str(String),
    Number(String),
    Word(String),
    Symbol(&'static str),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Column(c) => write!(f, "`${c}`"),
            Token::Str(s) => write!(f, "'{s}'"),
            Token::Number(n) | Token::Word(n) => write!(f, "`{n}`"),
            Token::Symbol(s) => write!(f, "`{s}`"),
        }
    }
}

const SYMBOLS: [&str; 18] = [
    "||", "==", "!=", "<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".",
];

fn tokenize(text: &str) -> Result<Vec<Token>, ExpressionError> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if c == '\'' {
            // SQLite strings: '' is a quote; no backslash escapes.
            let mut value = String::new();
            let mut chars = rest[1..].char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '\'')) => {
                        if rest[1 + i + 1..].starts_with('\'') {
                            value.push('\'');
                            chars.next();
                        } else {
                            break 1 + i + 1;
                        }
                    }
                    Some((_, c)) => value.push(c),
                    None => {
                        return Err(error(
                            "a string literal is not closed",
                            "end it with a `'` (write a quote inside it as `''`)",
                        ))
                    }
                }
            };
            tokens.push(Token::Str(value));
            rest = &rest[end..];
        } else if c == '$' {
            let name: String = rest[1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                return Err(error(
                    "`$` is not followed by a column name",
                    "refer to a source column as `$name`",
                ));
            }
            rest = &rest[1 + name.len()..];
            tokens.push(Token::Column(name));
        } else if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let number = &rest[..end];
            if number.matches('.').count() > 1 {
                return Err(error(
                    format!("`{number}` is not a number"),
                    "write numbers like 12 or 12.5",
                ));
            }
            tokens.push(Token::Number(number.to_string()));
            rest = &rest[end..];
        } else if c.is_alphabetic() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            tokens.push(Token::Word(rest[..end].to_ascii_lowercase()));
            rest = &rest[end..];
        } else if c == '"' || c == '`' || c == '[' {
            return Err(error(
                format!("quoted identifier {c}... is not supported"),
                "refer to source columns as `$name`",
            ));
        } else {
            let symbol = SYMBOLS
                .iter()
                .find(|s| rest.starts_with(**s))
                .ok_or_else(|| {
                    error(
                        format!("unexpected character `{c}`"),
                        "check the expression's syntax",
                    )
                })?;
            tokens.push(Token::Symbol(symbol));
            rest = &rest[symbol.len()..];
        }
    }
    Ok(tokens)
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Column(String),
    Str(String),
    Number(String),
    Null,
    Negate(Box<Expr>),
    Not(Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    IsNull(Box<Expr>, bool),
    Like(Box<Expr>, Box<Expr>, bool),
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Cast(Box<Expr>, String),
    Call(String, Vec<Expr>),
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.is_word(word);
        self.at += usize::from(found);
        found
    }

    fn eat_symbol(&mut self, symbols: &[&'static str]) -> Option<&'static str> {
        match self.peek() {
            Some(Token::Symbol(s)) if symbols.contains(s) => {
                let s = *s;
                self.at += 1;
                Some(s)
            }
            _ => None,
        }
    }

    fn expect_symbol(&mut self, symbol: &'static str) -> Result<(), ExpressionError> {
        self.eat_symbol(&[symbol]).map(drop).ok_or_else(|| {
            error(
                format!("expected `{symbol}` {}", self.found()),
                "check the expression's syntax",
            )
        })
    }

    fn expect_word(&mut self, word: &str) -> Result<(), ExpressionError> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(error(
                format!("expected {} {}", word.to_ascii_uppercase(), self.found()),
                "check the expression's syntax",
            ))
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(token) => format!("but found {token}"),
            None => "but the expression ends".to_string(),
        }
    }

    fn expression(&mut self) -> Result<Expr, ExpressionError> {
        let mut left = self.and()?;
        while self.eat_word("or") {
            left = Expr::Binary("OR", Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ExpressionError> {
        let mut left = self.not()?;
        while self.eat_word("and") {
            left = Expr::Binary("AND", Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ExpressionError> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ExpressionError> {
        let mut left = self.additive()?;
        loop {
            if let Some(op) = self.eat_symbol(&["=", "==", "!=", "<>", "<", "<=", ">", ">="]) {
                let op = match op {
                    "==" => "=",
                    "!=" => "<>",
                    other => other,
                };
                left = Expr::Binary(op, Box::new(left), Box::new(self.additive()?));
            } else if self.eat_word("is") {
                let negated = self.eat_word("not");
                self.expect_word("null")?;
                left = Expr::IsNull(Box::new(left), negated);
            } else if self.is_word("like")
                || (self.is_word("not")
                    && matches!(self.tokens.get(self.at + 1), Some(Token::Word(w)) if w == "like"))
            {
                let negated = self.eat_word("not");
                self.expect_word("like")?;
                left = Expr::Like(Box::new(left), Box::new(self.additive()?), negated);
            } else {
                return Ok(left);
            }
        }
    }

    fn additive(&mut self) -> Result<Expr, ExpressionError> {
        let mut left = self.multiplicative()?;
        while let Some(op) = self.eat_symbol(&["+", "-"]) {
            left = Expr::Binary(op, Box::new(left), Box::new(self.multiplicative()?));
        }
        Ok(left)
    }

    fn multiplicative(&mut self) -> Result<Expr, ExpressionError> {
        let mut left = self.concat()?;
        while let Some(op) = self.eat_symbol(&["*", "/", "%"]) {
            left = Expr::Binary(op, Box::new(left), Box::new(self.concat()?));
        }
        Ok(left)
    }

    /// `||` binds tighter than every other binary operator in SQLite.
    fn concat(&mut self) -> Result<Expr, ExpressionError> {
        let mut left = self.unary()?;
        while self.eat_symbol(&["||"]).is_some() {
            left = Expr::Binary("||", Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ExpressionError> {
        match self.eat_symbol(&["-", "+"]) {
            Some("-") => Ok(Expr::Negate(Box::new(self.unary()?))),
            Some(_) => self.unary(),
            None => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, ExpressionError> {
        let Some(token) = self.peek().cloned() else {
            return Err(error(
                "the expression ends where a value is expected",
                "complete the expression",
            ));
        };
        self.at += 1;
        match token {
            Token::Column(name) => Ok(Expr::Column(name)),
            Token::Str(s) => Ok(Expr::Str(s)),
            Token::Number(n) => Ok(Expr::Number(n)),
            Token::Symbol("(") => {
                let inner = self.expression()?;
                self.expect_symbol(")")?;
                Ok(inner)
            }
            Token::Word(w) if w == "null" => Ok(Expr::Null),
            Token::Word(w) if w == "case" => self.case(),
            Token::Word(w) if w == "cast" => {
                self.expect_symbol("(")?;
                let value = self.expression()?;
                self.expect_word("as")?;
                let ty = match self.peek().cloned() {
                    Some(Token::Word(ty)) => {
                        self.at += 1;
                        ty
                    }
                    _ => {
                        return Err(error(
                            format!("expected a type name {}", self.found()),
                            "write CAST(x AS INTEGER|TEXT|REAL|NUMERIC)",
                        ))
                    }
                };
                self.expect_symbol(")")?;
                Ok(Expr::Cast(Box::new(value), ty))
            }
            Token::Word(name) if self.eat_symbol(&["("]).is_some() => {
                let mut args = Vec::new();
                if self.eat_symbol(&[")"]).is_none() {
                    loop {
                        args.push(self.expression()?);
                        if self.eat_symbol(&[")"]).is_some() {
                            break;
                        }
                        self.expect_symbol(",")?;
                    }
                }
                Ok(Expr::Call(name, args))
            }
            Token::Word(w) => Err(error(
                format!("`{w}` is not supported here"),
                "refer to source columns as `$name`; see docs/replicate.md for the supported syntax",
            )),
            other => Err(error(
                format!("unexpected {other}"),
                "check the expression's syntax",
            )),
        }
    }

    fn case(&mut self) -> Result<Expr, ExpressionError> {
        let operand = if self.is_word("when") {
            None
        } else {
            Some(Box::new(self.expression()?))
        };
        let mut whens = Vec::new();
        while self.eat_word("when") {
            let condition = self.expression()?;
            self.expect_word("then")?;
            whens.push((condition, self.expression()?));
        }
        if whens.is_empty() {
            return Err(error(
                "CASE without WHEN",
                "write CASE WHEN condition THEN value ... END",
            ));
        }
        let otherwise = if self.eat_word("else") {
            Some(Box::new(self.expression()?))
        } else {
            None
        };
        self.expect_word("end")?;
        Ok(Expr::Case {
            operand,
            whens,
            otherwise,
        })
    }
}

struct Render<'a> {
    dialect: SourceDialect,
    quote: &'a dyn Fn(&str) -> String,
}

impl Render<'_> {
    fn postgres(&self) -> bool {
        self.dialect == SourceDialect::Postgres
    }

    fn expr(&self, e: &Expr) -> Result<String, ExpressionError> {
        Ok(match e {
            Expr::Column(name) if name.starts_with("AR_") => {
                return Err(error(
                    format!("the DMS header value `${name}` has no meaning in a full load"),
                    "remove it from the expression",
                ))
            }
            Expr::Column(name) => (self.quote)(name),
            Expr::Str(s) => self.string(s),
            Expr::Number(n) => n.clone(),
            Expr::Null => "NULL".into(),
            Expr::Negate(x) => format!("(-{})", self.expr(x)?),
            Expr::Not(x) => format!("(NOT {})", self.expr(x)?),
            Expr::Binary("||", a, b) if !self.postgres() => {
                // MySQL reads `||` as OR unless PIPES_AS_CONCAT is set.
                format!("CONCAT({}, {})", self.expr(a)?, self.expr(b)?)
            }
            Expr::Binary(op, a, b) => format!("({} {op} {})", self.expr(a)?, self.expr(b)?),
            Expr::IsNull(x, negated) => format!(
                "({} IS {}NULL)",
                self.expr(x)?,
                if *negated { "NOT " } else { "" }
            ),
            Expr::Like(a, b, negated) => {
                let not = if *negated { "NOT " } else { "" };
                // SQLite's LIKE ignores ASCII case; MySQL's default collations do too.
                let like = if self.postgres() { "ILIKE" } else { "LIKE" };
                format!("({} {not}{like} {})", self.expr(a)?, self.expr(b)?)
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                let mut sql = "(CASE".to_string();
                if let Some(operand) = operand {
                    sql.push_str(&format!(" {}", self.expr(operand)?));
                }
                for (when, then) in whens {
                    sql.push_str(&format!(
                        " WHEN {} THEN {}",
                        self.expr(when)?,
                        self.expr(then)?
                    ));
                }
                if let Some(otherwise) = otherwise {
                    sql.push_str(&format!(" ELSE {}", self.expr(otherwise)?));
                }
                sql.push_str(" END)");
                sql
            }
            // SQLite cuts a fraction off towards zero (CAST(3.7 AS INTEGER) is 3, -3.7 gives -3);
            // PostgreSQL and MySQL round.
            Expr::Cast(x, ty) if matches!(ty.as_str(), "integer" | "int" | "bigint") => {
                let x = self.expr(x)?;
                match self.postgres() {
                    true => format!("CAST(trunc(CAST({x} AS numeric)) AS bigint)"),
                    false => format!("CAST(TRUNCATE({x}, 0) AS SIGNED)"),
                }
            }
            Expr::Cast(x, ty) => format!("CAST({} AS {})", self.expr(x)?, self.cast_type(ty)?),
            Expr::Call(name, args) => self.call(name, args)?,
        })
    }

    fn string(&self, s: &str) -> String {
        let mut escaped = s.replace('\'', "''");
        if !self.postgres() {
            escaped = escaped.replace('\\', "\\\\");
        }
        format!("'{escaped}'")
    }

    /// SQLite's type affinities.
    fn cast_type(&self, ty: &str) -> Result<&'static str, ExpressionError> {
        let pg = self.postgres();
        Ok(match ty {
            "integer" | "int" | "bigint" => {
                if pg {
                    "bigint"
                } else {
                    "SIGNED"
                }
            }
            "text" | "varchar" | "char" => {
                if pg {
                    "text"
                } else {
                    "CHAR"
                }
            }
            "real" | "float" | "double" => {
                if pg {
                    "double precision"
                } else {
                    "DOUBLE"
                }
            }
            "numeric" | "decimal" => {
                if pg {
                    "numeric"
                } else {
                    "DECIMAL(65,30)"
                }
            }
            other => {
                return Err(error(
                    format!("CAST to `{other}` is not supported"),
                    "cast to INTEGER, TEXT, REAL or NUMERIC; the column's data-type sets its final type",
                ))
            }
        })
    }

    fn call(&self, name: &str, args: &[Expr]) -> Result<String, ExpressionError> {
        let arity = |allowed: &[usize]| {
            if allowed.contains(&args.len()) {
                Ok(())
            } else {
                Err(error(
                    format!("{name}() takes {allowed:?} arguments, not {}", args.len()),
                    "fix the call",
                ))
            }
        };
        let rendered = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>, _>>()?;
        let list = rendered.join(", ");
        let pg = self.postgres();
        let now_only = |what: &str, pg_sql: &str, mysql_sql: &str| {
            if args == [Expr::Str("now".into())] {
                Ok(if pg { pg_sql } else { mysql_sql }.to_string())
            } else {
                Err(error(
                    format!("{what}() is supported only as {what}('now')"),
                    "compute the value in the source or after the load",
                ))
            }
        };
        Ok(match name {
            "upper" | "lower" | "abs" => {
                arity(&[1])?;
                format!("{}({list})", name.to_ascii_uppercase())
            }
            "length" => {
                arity(&[1])?;
                if pg {
                    format!("length({list})")
                } else {
                    format!("CHAR_LENGTH({list})")
                }
            }
            "substr" | "substring" => {
                arity(&[2, 3])?;
                if pg {
                    format!("substr({list})")
                } else {
                    format!("SUBSTRING({list})")
                }
            }
            "trim" | "ltrim" | "rtrim" => {
                arity(&[1, 2])?;
                match (pg, rendered.len()) {
                    (_, 1) => format!("{}({list})", name.to_ascii_uppercase()),
                    (true, _) if name == "trim" => format!("btrim({list})"),
                    (true, _) => format!("{name}({list})"),
                    (false, _) => {
                        return Err(error(
                            format!("{name}(x, characters) has no MySQL equivalent"),
                            format!("use {name}(x), which removes spaces"),
                        ))
                    }
                }
            }
            "replace" => {
                arity(&[3])?;
                format!("REPLACE({list})")
            }
            "instr" => {
                arity(&[2])?;
                if pg {
                    format!("strpos({list})")
                } else {
                    format!("INSTR({list})")
                }
            }
            "round" => {
                arity(&[1, 2])?;
                if pg && rendered.len() == 2 {
                    // PostgreSQL rounds to n digits only numeric values.
                    format!("round(({})::numeric, {})", rendered[0], rendered[1])
                } else {
                    format!("ROUND({list})")
                }
            }
            "coalesce" if args.len() >= 2 => format!("COALESCE({list})"),
            "ifnull" => {
                arity(&[2])?;
                format!("COALESCE({list})")
            }
            "nullif" => {
                arity(&[2])?;
                format!("NULLIF({list})")
            }
            "datetime" => now_only(
                "datetime",
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
                "DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:%s')",
            )?,
            "date" => now_only(
                "date",
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
                "DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d')",
            )?,
            other => {
                return Err(error(
                    format!("the function {other}() is not supported"),
                    "use one of upper, lower, length, substr, trim, ltrim, rtrim, replace, instr, \
                     abs, round, coalesce, ifnull, nullif, datetime('now'), date('now')",
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(expression: &str) -> Result<String, ExpressionError> {
        translate(expression, SourceDialect::Postgres, &|c| {
            format!("\"{}\"", c.replace('"', "\"\""))
        })
    }

    fn mysql(expression: &str) -> Result<String, ExpressionError> {
        translate(expression, SourceDialect::Mysql, &|c| format!("`{c}`"))
    }

    #[test]
    fn references_literals_and_operators() {
        assert_eq!(
            pg("$first_name || ' ' || $LastName").unwrap(),
            "((\"first_name\" || ' ') || \"LastName\")"
        );
        assert_eq!(
            mysql("$first_name || ' ' || $last").unwrap(),
            "CONCAT(CONCAT(`first_name`, ' '), `last`)"
        );
        assert_eq!(pg("$a * 2 + 1").unwrap(), "((\"a\" * 2) + 1)");
        assert_eq!(pg("-$a % 3").unwrap(), "((-\"a\") % 3)");
        assert_eq!(pg("'it''s'").unwrap(), "'it''s'");
        assert_eq!(mysql("'a\\b'").unwrap(), "'a\\\\b'");
        assert_eq!(
            pg("$a == 1 AND $b != 2").unwrap(),
            "((\"a\" = 1) AND (\"b\" <> 2))"
        );
        assert_eq!(pg("$a IS NOT NULL").unwrap(), "(\"a\" IS NOT NULL)");
        assert_eq!(pg("$a NOT LIKE 'x%'").unwrap(), "(\"a\" NOT ILIKE 'x%')");
    }

    #[test]
    fn case_cast_and_functions() {
        assert_eq!(
            pg("CASE WHEN $qty > 10 THEN 'bulk' WHEN $qty IS NULL THEN NULL ELSE 'unit' END")
                .unwrap(),
            "(CASE WHEN (\"qty\" > 10) THEN 'bulk' WHEN (\"qty\" IS NULL) THEN NULL ELSE 'unit' END)"
        );
        assert_eq!(
            pg("case $k when 1 then 'one' end").unwrap(),
            "(CASE \"k\" WHEN 1 THEN 'one' END)"
        );
        assert_eq!(
            pg("CAST($a AS integer)").unwrap(),
            "CAST(trunc(CAST(\"a\" AS numeric)) AS bigint)"
        );
        assert_eq!(
            mysql("CAST($a AS INT)").unwrap(),
            "CAST(TRUNCATE(`a`, 0) AS SIGNED)"
        );
        assert_eq!(mysql("CAST($a AS TEXT)").unwrap(), "CAST(`a` AS CHAR)");
        assert_eq!(
            pg("upper(substr($n, 1, 3)) || ifnull($x, '-')").unwrap(),
            "(UPPER(substr(\"n\", 1, 3)) || COALESCE(\"x\", '-'))"
        );
        assert_eq!(pg("round($p, 2)").unwrap(), "round((\"p\")::numeric, 2)");
        assert_eq!(pg("trim($s, 'x')").unwrap(), "btrim(\"s\", 'x')");
        assert_eq!(mysql("length($s)").unwrap(), "CHAR_LENGTH(`s`)");
        assert_eq!(pg("instr($s, 'a')").unwrap(), "strpos(\"s\", 'a')");
        assert!(pg("datetime('now')").unwrap().contains("now()"));
    }

    #[test]
    fn unsupported_input_is_an_error_saying_what() {
        for (expression, says) in [
            ("hex($a)", "hex() is not supported"),
            ("datetime($a)", "only as datetime('now')"),
            ("$a +", "ends where a value"),
            ("'open", "not closed"),
            ("$AR_H_TIMESTAMP", "header value"),
            ("CAST($a AS blob)", "CAST to `blob`"),
            ("\"a\"", "quoted identifier"),
            ("$a $b", "unexpected `$b`"),
            ("upper($a, $b)", "takes [1] arguments"),
            ("trim($a, 'x')", ""),
        ] {
            match pg(expression) {
                Ok(sql) if says.is_empty() => assert!(!sql.is_empty()),
                Ok(sql) => panic!("{expression} translated to {sql}"),
                Err(e) => assert!(e.message.contains(says), "{expression}: {e}"),
            }
        }
        assert!(mysql("trim($a, 'x')").is_err());
    }
}
