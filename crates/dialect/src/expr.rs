//! The small integer expression language of the mapping files.
//!
//! Conditions (`when = "s == 0 && p <= 9"`) and `{...}` holes in templates
//! (`to = "decimal({p - s},0)"`) are written in it: integers, variables, `+ - * /`, comparisons,
//! `&& || !`, parentheses and the functions `min(a, b)` and `max(a, b)`. A comparison or logical
//! operator yields 1 or 0; a bare value is true when it is not 0.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Number(i64),
    Variable(String),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary(Box<Expr>, BinaryOp, Box<Expr>),
    Call(Function, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Function {
    Min,
    Max,
}

pub(crate) type Variables = HashMap<&'static str, i64>;

impl Expr {
    pub(crate) fn parse(text: &str) -> Result<Expr, String> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, pos: 0 };
        let expr = parser.or()?;
        if parser.pos != parser.tokens.len() {
            return Err(format!(
                "unexpected `{}` in `{text}`",
                parser.tokens[parser.pos]
            ));
        }
        Ok(expr)
    }

    /// Every variable the expression reads, to validate mapping files at load time.
    pub(crate) fn variables(&self, out: &mut Vec<String>) {
        match self {
            Expr::Number(_) => {}
            Expr::Variable(name) => out.push(name.clone()),
            Expr::Not(inner) | Expr::Negate(inner) => inner.variables(out),
            Expr::Binary(left, _, right) => {
                left.variables(out);
                right.variables(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.variables(out)),
        }
    }

    pub(crate) fn eval(&self, vars: &Variables) -> Result<i64, String> {
        Ok(match self {
            Expr::Number(n) => *n,
            Expr::Variable(name) => *vars.get(name.as_str()).ok_or_else(|| {
                format!("needs a value for `{name}`: a length or precision argument is missing")
            })?,
            Expr::Not(inner) => i64::from(inner.eval(vars)? == 0),
            Expr::Negate(inner) => inner.eval(vars)?.saturating_neg(),
            Expr::Call(function, args) => {
                let values = args
                    .iter()
                    .map(|a| a.eval(vars))
                    .collect::<Result<Vec<_>, _>>()?;
                let folded = match function {
                    Function::Min => values.into_iter().min(),
                    Function::Max => values.into_iter().max(),
                };
                folded.ok_or("min/max need at least one argument")?
            }
            Expr::Binary(left, op, right) => {
                let l = left.eval(vars)?;
                // Short-circuit so that `args >= 2 && s > p` never reads an absent `s`.
                match op {
                    BinaryOp::And if l == 0 => return Ok(0),
                    BinaryOp::Or if l != 0 => return Ok(1),
                    _ => {}
                }
                let r = right.eval(vars)?;
                match op {
                    BinaryOp::Add => l.saturating_add(r),
                    BinaryOp::Sub => l.saturating_sub(r),
                    BinaryOp::Mul => l.saturating_mul(r),
                    BinaryOp::Div => l.checked_div(r).ok_or("division by zero")?,
                    BinaryOp::Eq => i64::from(l == r),
                    BinaryOp::Ne => i64::from(l != r),
                    BinaryOp::Lt => i64::from(l < r),
                    BinaryOp::Le => i64::from(l <= r),
                    BinaryOp::Gt => i64::from(l > r),
                    BinaryOp::Ge => i64::from(l >= r),
                    BinaryOp::And | BinaryOp::Or => i64::from(r != 0),
                }
            }
        })
    }
}

fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(&two.as_str()) {
                tokens.push(two);
                i += 2;
            } else if "+-*/<>!(),".contains(c) {
                tokens.push(c.to_string());
                i += 1;
            } else {
                return Err(format!("unexpected character `{c}` in `{text}`"));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.peek() == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn binary_level(
        &mut self,
        operators: &[(&str, BinaryOp)],
        next: fn(&mut Parser) -> Result<Expr, String>,
    ) -> Result<Expr, String> {
        let mut left = next(self)?;
        'outer: loop {
            for (token, op) in operators {
                if self.eat(token) {
                    let right = next(self)?;
                    left = Expr::Binary(Box::new(left), *op, Box::new(right));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.binary_level(&[("||", BinaryOp::Or)], Parser::and)
    }

    fn and(&mut self) -> Result<Expr, String> {
        self.binary_level(&[("&&", BinaryOp::And)], Parser::comparison)
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        self.binary_level(
            &[
                ("==", BinaryOp::Eq),
                ("!=", BinaryOp::Ne),
                ("<=", BinaryOp::Le),
                (">=", BinaryOp::Ge),
                ("<", BinaryOp::Lt),
                (">", BinaryOp::Gt),
            ],
            Parser::sum,
        )
    }

    fn sum(&mut self) -> Result<Expr, String> {
        self.binary_level(
            &[("+", BinaryOp::Add), ("-", BinaryOp::Sub)],
            Parser::product,
        )
    }

    fn product(&mut self) -> Result<Expr, String> {
        self.binary_level(&[("*", BinaryOp::Mul), ("/", BinaryOp::Div)], Parser::unary)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat("-") {
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        if self.eat("(") {
            let inner = self.or()?;
            return if self.eat(")") {
                Ok(inner)
            } else {
                Err("missing `)`".into())
            };
        }
        let token = self.peek().ok_or("expression ends too early")?.to_string();
        self.pos += 1;
        if let Ok(n) = token.parse::<i64>() {
            return Ok(Expr::Number(n));
        }
        let function = match token.as_str() {
            "min" => Some(Function::Min),
            "max" => Some(Function::Max),
            _ => None,
        };
        if let Some(function) = function {
            if !self.eat("(") {
                return Err(format!("`{token}` needs arguments in parentheses"));
            }
            let mut args = vec![self.or()?];
            while self.eat(",") {
                args.push(self.or()?);
            }
            if !self.eat(")") {
                return Err(format!("missing `)` after the arguments of `{token}`"));
            }
            return Ok(Expr::Call(function, args));
        }
        if token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            Ok(Expr::Variable(token))
        } else {
            Err(format!("unexpected `{token}`"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, vars: &[(&'static str, i64)]) -> i64 {
        Expr::parse(text)
            .unwrap()
            .eval(&vars.iter().copied().collect())
            .unwrap()
    }

    #[test]
    fn precedence_and_functions() {
        assert_eq!(eval("1 + 2 * 3", &[]), 7);
        assert_eq!(eval("(1 + 2) * 3", &[]), 9);
        assert_eq!(eval("min(n * 4, 65535)", &[("n", 20000)]), 65535);
        assert_eq!(eval("p - s", &[("p", 5), ("s", -2)]), 7);
        assert_eq!(eval("s == 0 && p <= 9", &[("p", 9), ("s", 0)]), 1);
        assert_eq!(eval("!chars || n > 3", &[("chars", 1), ("n", 2)]), 0);
    }

    #[test]
    fn short_circuit_skips_absent_variables() {
        assert_eq!(eval("args >= 2 && s > p", &[("args", 1)]), 0);
    }

    #[test]
    fn errors_are_reported() {
        assert!(Expr::parse("1 +").is_err());
        assert!(Expr::parse("min(1").is_err());
        assert!(Expr::parse("a $ b").is_err());
        assert!(Expr::parse("x").unwrap().eval(&Variables::new()).is_err());
        assert!(Expr::parse("1 / 0")
            .unwrap()
            .eval(&Variables::new())
            .is_err());
    }
}
