//! Parsing source text with sqlparser, and turning its errors into [`RewriteError`]s that carry a
//! position the caller can offset into its file.

use crate::error::RewriteError;
use migrate_core::SourceDialect;
use sqlparser::ast::{Expr, Query, Statement, UnaryOperator, Visit, Visitor};
use sqlparser::dialect::{
    Dialect, HiveDialect, MySqlDialect, OracleDialect, PostgreSqlDialect, Precedence,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};
use std::any::TypeId;
use std::ops::ControlFlow;

/// sqlparser's own default, stated here so the limit is visible: deeper input is refused with
/// [`RewriteError::TooDeep`] rather than risking the stack.
pub(crate) const RECURSION_LIMIT: usize = 50;

/// The parser builds `a + b + c ...` in a loop, so its recursion limit does not bound such
/// chains; but cloning and dropping the tree recurse once per level. Trees deeper than this are
/// refused, so that a rewrite fits the 2 MiB stack of an ordinary thread.
pub(crate) const DEPTH_LIMIT: usize = 1_000;

pub(crate) fn dialect(from: SourceDialect) -> Box<dyn Dialect> {
    match from {
        SourceDialect::Oracle => Box::new(OracleDialect {}),
        SourceDialect::Hive => Box::new(HiveDialect {}),
        SourceDialect::Mysql => Box::new(MySql),
        SourceDialect::Postgres => Box::new(PostgreSqlDialect {}),
    }
}

/// sqlparser's MySQL dialect but for the logical operators it binds as tightly as the bitwise
/// or string ones. `XOR`: `a > 0 XOR b > 0` was read `(a > (0 XOR b)) > 0`; MySQL's binds more
/// loosely than AND and more tightly than OR (`a OR b XOR c AND d` is `a OR (b XOR (c AND d))`).
/// `&&` is AND and binds as AND. `||` is OR under MySQL's and MariaDB's default sql_mode (a
/// concatenation only with PIPES_AS_CONCAT or ANSI), which sqlparser read as a concatenation:
/// it binds as OR and is read as [`MYSQL_PIPES_OR`], which the rewrite makes an OR with a
/// warning. `!x` is NOT binding more tightly than any binary operator (MySQL ranks it above unary minus), which sqlparser does not read:
/// mariadb-dump writes every `NOT x` of a value so (`!5`, `!abs(a)`, `!(a + 1)`, `!NULL`),
/// read as `(NOT x)`; `!!x` (one token to sqlparser) as `(NOT (NOT x))`. It is
/// [`MySqlDialect`] to the parser's checks (`dialect()`), and forwards every method that
/// MySqlDialect overrides (sqlparser 0.63's list: check it when sqlparser is upgraded).
#[derive(Debug)]
struct MySql;

/// The operator a MySQL `||` is read as (`BinaryOperator::Custom`, from its token made
/// `Token::CustomBinaryOperator` by [`mysql_pipes`]): a logical OR that the rewrite still has
/// to report (`rewrite::mysql_booleans::pipes_as_or`). It prints as the source wrote it.
pub(crate) const MYSQL_PIPES_OR: &str = "||";

const MYSQL: MySqlDialect = MySqlDialect {};

/// Forwards methods without arguments to [`MySqlDialect`].
macro_rules! forward_to_mysql {
    ($($method:ident),* $(,)?) => {
        $(fn $method(&self) -> bool {
            MYSQL.$method()
        })*
    };
}

impl Dialect for MySql {
    fn dialect(&self) -> TypeId {
        TypeId::of::<MySqlDialect>()
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match &parser.peek_token_ref().token {
            Token::Word(word) if word.keyword == Keyword::XOR => {
                let (and, or) = (
                    self.prec_value(Precedence::And),
                    self.prec_value(Precedence::Or),
                );
                Some(Ok(or + (and - or) / 2))
            }
            Token::CustomBinaryOperator(op) if op == MYSQL_PIPES_OR => {
                Some(Ok(self.prec_value(Precedence::Or)))
            }
            Token::Overlap => Some(Ok(self.prec_value(Precedence::And))),
            _ => MYSQL.get_next_precedence(parser),
        }
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        // `!!x`, one token, is `!(!x)`.
        let nots = match parser.peek_token_ref().token {
            Token::ExclamationMark => 1,
            Token::DoubleExclamationMark => 2,
            _ => return MYSQL.parse_prefix(parser),
        };
        parser.next_token();
        // No binary operator binds more tightly: `!5 + 1` is `(NOT 5) + 1`.
        let operand = parser.parse_subexpr(self.prec_value(Precedence::DoubleColon));
        Some(operand.map(|operand| {
            (0..nots).fold(operand, |operand, _| {
                Expr::Nested(Box::new(Expr::UnaryOp {
                    op: UnaryOperator::Not,
                    expr: Box::new(operand),
                }))
            })
        }))
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        MYSQL.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        MYSQL.is_identifier_part(ch)
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        MYSQL.is_delimited_identifier_start(ch)
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        MYSQL.identifier_quote_style(identifier)
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        MYSQL.parse_infix(parser, expr, precedence)
    }

    fn parse_statement(&self, parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
        MYSQL.parse_statement(parser)
    }

    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        MYSQL.is_table_factor_alias(explicit, kw, parser)
    }

    forward_to_mysql!(
        supports_string_literal_backslash_escape,
        supports_string_literal_concatenation,
        ignores_wildcard_escapes,
        supports_numeric_prefix,
        supports_bitwise_shift_operators,
        supports_multiline_comment_hints,
        require_interval_qualifier,
        supports_limit_comma,
        supports_create_table_select,
        supports_insert_set,
        supports_user_host_grantee,
        supports_table_hints,
        requires_single_line_comment_whitespace,
        supports_match_against,
        supports_select_modifiers,
        supports_set_names,
        supports_comma_separated_set_assignments,
        supports_update_order_by,
        supports_data_type_signed_suffix,
        supports_cross_join_constraint,
        supports_double_ampersand_operator,
        supports_binary_kw_as_cast,
        supports_comment_optimizer_hint,
        supports_constraint_keyword_without_name,
        supports_key_column_option,
        supports_group_by_with_modifier,
        supports_left_associative_joins_without_parens,
    );
}

/// Parses exactly one query (a trailing `;` is allowed).
pub(crate) fn query(sql: &str, from: SourceDialect) -> Result<Query, RewriteError> {
    let dialect = dialect(from);
    let mut statements = parser(&*dialect, sql)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|error| convert(error, sql, from))?;
    match (statements.pop(), statements.is_empty()) {
        (Some(Statement::Query(query)), true) => check_depth(*query),
        (None, _) => Err(RewriteError::NotA {
            expected: "a query",
            found: "no statement".into(),
        }),
        (Some(_), false) => Err(RewriteError::NotA {
            expected: "a query",
            found: "several statements".into(),
        }),
        (Some(other), true) => Err(RewriteError::NotA {
            expected: "a query",
            found: first_words(&other.to_string()),
        }),
    }
}

/// Parses exactly one expression: all of the text must be consumed.
pub(crate) fn expression(sql: &str, from: SourceDialect) -> Result<Expr, RewriteError> {
    let dialect = dialect(from);
    let expr = parser(&*dialect, sql)
        .and_then(|mut parser| {
            let expr = parser.parse_expr()?;
            parser.expect_token(&Token::EOF)?;
            Ok(expr)
        })
        .map_err(|error| convert(error, sql, from))?;
    check_depth(expr)
}

fn check_depth<T: Visit>(node: T) -> Result<T, RewriteError> {
    let mut depth = Depth::default();
    match node.visit(&mut depth) {
        ControlFlow::Continue(()) => Ok(node),
        ControlFlow::Break(()) => Err(RewriteError::TooDeep { limit: DEPTH_LIMIT }),
    }
}

/// Breaks when expressions nest deeper than [`DEPTH_LIMIT`]. sqlparser's visitor itself grows
/// the stack as it needs to.
#[derive(Default)]
struct Depth {
    current: usize,
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.current += 1;
        if self.current > DEPTH_LIMIT {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.current -= 1;
        ControlFlow::Continue(())
    }
}

fn parser<'a>(dialect: &'a dyn Dialect, sql: &str) -> Result<Parser<'a>, ParserError> {
    let mut tokens = Tokenizer::new(dialect, sql).tokenize_with_location()?;
    qualified_calls_by_name(&mut tokens);
    if dialect.is::<MySqlDialect>() {
        mysql_pipes(&mut tokens);
        tokens = mariadb_dump_spellings(tokens);
    }
    if dialect.is::<OracleDialect>() {
        tokens = oracle_keep_clauses(tokens);
    }
    Ok(Parser::new(dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens))
}

/// A qualified call whose last name is a keyword with a syntax of its own (Oracle
/// `DBMS_LOB.SUBSTR(b, 4000, 1)`, an object method `s.substr(1)`) is a plain function call: the
/// parser would otherwise stop at the `(` after the qualified name.
fn qualified_calls_by_name(tokens: &mut [TokenWithSpan]) {
    let significant = significant(tokens);
    for window in significant.windows(3) {
        let [period, name, paren] = [window[0], window[1], window[2]];
        if tokens[period].token == Token::Period && tokens[paren].token == Token::LParen {
            if let Token::Word(word) = &mut tokens[name].token {
                word.keyword = sqlparser::keywords::Keyword::NoKeyword;
            }
        }
    }
}

/// MySQL's `||` as [`MYSQL_PIPES_OR`], an operator of its own, which [`MySql`] binds as OR.
/// (Read in the dialect's `parse_infix`, each `||` of a chain would clone the chain so far.)
fn mysql_pipes(tokens: &mut [TokenWithSpan]) {
    for token in tokens {
        if token.token == Token::StringConcat {
            token.token = Token::CustomBinaryOperator(MYSQL_PIPES_OR.into());
        }
    }
}

/// What mariadb-dump writes that the parser does not read, as the parser reads it: the infix
/// `a MOD b` (every `a % b` of a view) is `a % b`; the UTF-8 character set of a cast, `CAST(x AS CHAR CHARSET utf8mb4)` (every `CAST(x AS CHAR)`)
/// or `CHARACTER SET utf8mb3`, is dropped: the targets' text is UTF-8.
fn mariadb_dump_spellings(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let significant = significant(&tokens);
    let word = |i: usize| unquoted_word(&tokens[i].token);
    let next = |k: usize| significant.get(k + 1).map(|&i| &tokens[i].token);
    let mut replace: Vec<(usize, Vec<Token>)> = Vec::new();
    let mut drop = vec![false; tokens.len()];
    for (k, &i) in significant.iter().enumerate() {
        let follows_operand = k > 0
            && matches!(
                tokens[significant[k - 1]].token,
                Token::Word(_) | Token::Number(..) | Token::SingleQuotedString(_) | Token::RParen
            );
        if word(i) == "MOD" && follows_operand && next(k) != Some(&Token::LParen) {
            replace.push((i, vec![Token::Mod]));
        } else if k > 0
            && (word(significant[k - 1]) == "CHAR"
                || tokens[significant[k - 1]].token == Token::RParen)
        {
            // `CHARSET cs )` or `CHARACTER SET cs )` after `CHAR` or `CHAR(n)`.
            let words = match (word(i).as_str(), significant.get(k + 1).map(|&j| word(j))) {
                ("CHARSET", _) => 2,
                ("CHARACTER", Some(set)) if set == "SET" => 3,
                _ => continue,
            };
            let Some(&name) = significant.get(k + words - 1) else {
                continue;
            };
            // Only a UTF-8 set is the targets' text; another (`binary`: mariadb-dump's
            // `CAST(x AS BINARY)`) is left for the parser to refuse, which reports the view.
            if !matches!(word(name).as_str(), "UTF8" | "UTF8MB3" | "UTF8MB4")
                || next(k + words - 1) != Some(&Token::RParen)
            {
                continue;
            }
            for &j in &significant[k..k + words] {
                drop[j] = true;
            }
        }
    }
    splice(tokens, &replace, &drop)
}

/// Oracle's `agg(x) KEEP (DENSE_RANK FIRST ORDER BY k, ...)`, which the parser does not read, as
/// `agg(x) WITHIN GROUP (ORDER BY FIRST, k, ...)` (`LAST` likewise): the first item says which
/// rows are kept. No aggregate that takes KEEP takes WITHIN GROUP in Oracle, so the form can't
/// be met otherwise; `rewrite::keep` reads it.
fn oracle_keep_clauses(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let significant = significant(&tokens);
    let word = |i: usize| unquoted_word(&tokens[i].token);
    let mut replace: Vec<(usize, Vec<Token>)> = Vec::new();
    let mut drop = vec![false; tokens.len()];
    for window in significant.windows(7) {
        let [close, keep, open, dense_rank, which, order, by] = window else {
            continue;
        };
        if tokens[*close].token == Token::RParen
            && word(*keep) == "KEEP"
            && tokens[*open].token == Token::LParen
            && word(*dense_rank) == "DENSE_RANK"
            && matches!(word(*which).as_str(), "FIRST" | "LAST")
            && word(*order) == "ORDER"
            && word(*by) == "BY"
        {
            replace.push((
                *keep,
                vec![Token::make_keyword("WITHIN"), Token::make_keyword("GROUP")],
            ));
            replace.push((
                *dense_rank,
                vec![Token::make_keyword("ORDER"), Token::make_keyword("BY")],
            ));
            replace.push((
                *which,
                vec![Token::make_word(&word(*which), None), Token::Comma],
            ));
            drop[*order] = true;
            drop[*by] = true;
        }
    }
    splice(tokens, &replace, &drop)
}

/// The indexes of the tokens that are not whitespace.
fn significant(tokens: &[TokenWithSpan]) -> Vec<usize> {
    (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect()
}

/// An unquoted word in upper case; "" for any other token.
fn unquoted_word(token: &Token) -> String {
    match token {
        Token::Word(word) if word.quote_style.is_none() => word.value.to_ascii_uppercase(),
        _ => String::new(),
    }
}

/// `tokens` with the token at each index of `replace` replaced by its tokens, and those marked
/// in `drop` left out.
fn splice(
    tokens: Vec<TokenWithSpan>,
    replace: &[(usize, Vec<Token>)],
    drop: &[bool],
) -> Vec<TokenWithSpan> {
    if replace.is_empty() && !drop.contains(&true) {
        return tokens;
    }
    let mut out = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.into_iter().enumerate() {
        if drop[i] {
            continue;
        }
        let span = token.span;
        match replace.iter().find(|(at, _)| *at == i) {
            Some((_, with)) => out.extend(with.iter().map(|t| TokenWithSpan {
                token: t.clone(),
                span,
            })),
            None => out.push(token),
        }
    }
    out
}

fn first_words(sql: &str) -> String {
    sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// sqlparser reports the position only inside its message (`... at Line: 1, Column: 25`).
fn convert(error: ParserError, sql: &str, from: SourceDialect) -> RewriteError {
    let message = match error {
        ParserError::RecursionLimitExceeded => {
            return RewriteError::TooDeep {
                limit: RECURSION_LIMIT,
            }
        }
        ParserError::TokenizerError(message) | ParserError::ParserError(message) => message,
    };
    if let Some(unsupported) = known_unsupported(sql, from) {
        return unsupported;
    }
    let (message, line, column) = split_position(&message);
    RewriteError::Parse {
        dialect: from.name(),
        message,
        line,
        column,
    }
}

fn split_position(message: &str) -> (String, u64, u64) {
    let Some(at) = message.rfind(" at Line: ") else {
        return (message.to_string(), 0, 0);
    };
    let mut numbers = message[at + " at Line: ".len()..]
        .split(", Column: ")
        .map(|n| n.trim().parse::<u64>());
    match (numbers.next(), numbers.next(), numbers.next()) {
        (Some(Ok(line)), Some(Ok(column)), None) => (message[..at].to_string(), line, column),
        _ => (message.to_string(), 0, 0),
    }
}

/// MySQL's compound interval units, which the parser does not read.
const COMPOUND_UNITS: &[&str] = &[
    "YEAR_MONTH",
    "DAY_HOUR",
    "DAY_MINUTE",
    "DAY_SECOND",
    "DAY_MICROSECOND",
    "HOUR_MINUTE",
    "HOUR_SECOND",
    "HOUR_MICROSECOND",
    "MINUTE_SECOND",
    "MINUTE_MICROSECOND",
    "SECOND_MICROSECOND",
];

/// Oracle and MySQL constructs the parser does not know, recognised from their tokens so that the
/// caller gets a stable finding code instead of a bare syntax error.
fn known_unsupported(sql: &str, from: SourceDialect) -> Option<RewriteError> {
    if !matches!(from, SourceDialect::Oracle | SourceDialect::Mysql) {
        return None;
    }
    let dialect = self::dialect(from);
    let tokens = Tokenizer::new(&*dialect, sql)
        .tokenize_with_location()
        .ok()?;
    // Unquoted words in upper case; any other token as "" so it breaks a sequence.
    let words: Vec<(&TokenWithSpan, String)> = tokens
        .iter()
        .filter_map(|token| match &token.token {
            Token::Word(word) if word.quote_style.is_none() => {
                Some((token, word.value.to_ascii_uppercase()))
            }
            Token::Whitespace(_) => None,
            _ => Some((token, String::new())),
        })
        .collect();
    words.windows(3).find_map(|window| {
        let start = window[0].0;
        let unsupported = |code, construct| RewriteError::Unsupported {
            code,
            construct,
            line: start.span.start.line,
            column: start.span.start.column,
        };
        match (
            window[0].1.as_str(),
            window[1].1.as_str(),
            window[2].1.as_str(),
        ) {
            ("AS", "OF", "TIMESTAMP" | "SCN") if from == SourceDialect::Oracle => Some(
                unsupported("view.flashback-query", "Oracle flashback query (AS OF)"),
            ),
            ("VERSIONS", "BETWEEN", _) if from == SourceDialect::Oracle => Some(unsupported(
                "view.flashback-query",
                "Oracle flashback version query (VERSIONS BETWEEN)",
            )),
            ("MODEL", "DIMENSION" | "PARTITION" | "MAIN" | "RETURN" | "REFERENCE", _)
                if from == SourceDialect::Oracle =>
            {
                Some(unsupported("view.model-clause", "Oracle MODEL clause"))
            }
            // A literal (""), then a compound unit: `INTERVAL '1:30' HOUR_MINUTE`.
            ("INTERVAL", "", unit)
                if from == SourceDialect::Mysql && COMPOUND_UNITS.contains(&unit) =>
            {
                Some(unsupported(
                    "expression.interval",
                    "MySQL interval with a compound unit (HOUR_MINUTE, DAY_SECOND, ...)",
                ))
            }
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_taken_from_the_message() {
        let error = query("SELECT a FROM t WHERE", SourceDialect::Postgres).unwrap_err();
        assert!(
            matches!(
                error,
                RewriteError::Parse { line: 0, .. } | RewriteError::Parse { line: 1, .. }
            ),
            "{error:?}"
        );
        let error = query("SELECT a\nFROM t t2 t3", SourceDialect::Postgres).unwrap_err();
        assert!(
            matches!(
                error,
                RewriteError::Parse {
                    line: 2,
                    column: 11,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn flashback_and_model_are_named() {
        let error = query(
            "SELECT * FROM emp AS OF TIMESTAMP SYSDATE - 1",
            SourceDialect::Oracle,
        )
        .unwrap_err();
        assert!(
            matches!(
                error,
                RewriteError::Unsupported {
                    code: "view.flashback-query",
                    line: 1,
                    column: 19,
                    ..
                }
            ),
            "{error:?}"
        );
        let error = query(
            "SELECT a FROM t MODEL DIMENSION BY (a) MEASURES (b) RULES (b[1] = 2)",
            SourceDialect::Oracle,
        )
        .unwrap_err();
        assert!(
            matches!(
                error,
                RewriteError::Unsupported {
                    code: "view.model-clause",
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn keep_clauses_are_read_as_within_group() {
        let query = query(
            "SELECT MAX(x) KEEP (DENSE_RANK LAST ORDER BY y DESC) OVER (PARTITION BY g) keep, keep FROM t",
            SourceDialect::Oracle,
        )
        .unwrap();
        assert_eq!(
            query.to_string(),
            "SELECT MAX(x) WITHIN GROUP (ORDER BY LAST, y DESC) OVER (PARTITION BY g) AS keep, keep FROM t"
        );
    }

    #[test]
    fn only_one_query() {
        assert!(matches!(
            query("SELECT 1; SELECT 2", SourceDialect::Postgres),
            Err(RewriteError::NotA { .. })
        ));
        assert!(matches!(
            query("DELETE FROM t", SourceDialect::Postgres),
            Err(RewriteError::NotA { .. })
        ));
        assert!(matches!(
            query("", SourceDialect::Postgres),
            Err(RewriteError::NotA { .. })
        ));
        assert!(query("SELECT 1;", SourceDialect::Postgres).is_ok());
    }

    /// MySQL's XOR binds more loosely than AND and comparisons, more tightly than OR, and from
    /// the left; everything else parses as with sqlparser's MySQL dialect.
    #[test]
    fn mysql_xor_binds_between_and_and_or() {
        for (sql, read) in [
            ("a > 0 XOR b > 0", "(a > 0) XOR (b > 0)"),
            (
                "a OR b XOR c AND d XOR NOT e",
                "a OR ((b XOR (c AND d)) XOR (NOT e))",
            ),
        ] {
            let tree = expression(sql, SourceDialect::Mysql).unwrap();
            assert_eq!(nested(&tree), read, "{sql}");
        }
        let sql =
            "SELECT `a` DIV 2, 'x' 'y', a && b, s LIKE 'a\\_' FROM t USE INDEX (i) LIMIT 1, 2";
        let mysql = Parser::new(&MySqlDialect {})
            .try_with_sql(sql)
            .and_then(|mut parser| parser.parse_query())
            .unwrap();
        assert_eq!(query(sql, SourceDialect::Mysql).unwrap(), *mysql);
    }

    /// MySQL's `||` is an OR (read as [`MYSQL_PIPES_OR`]) and `&&` an AND, binding as OR and
    /// AND do, from the left.
    #[test]
    fn mysql_pipes_and_ampersands_bind_as_or_and_and() {
        for (sql, read) in [
            ("a > 0 || b > 0", "(a > 0) || (b > 0)"),
            ("a > 0 && b > 0", "(a > 0) AND (b > 0)"),
            ("a || b && c || d", "(a || (b AND c)) || d"),
            ("a && b XOR c || NOT d", "((a AND b) XOR c) || (NOT d)"),
        ] {
            let tree = expression(sql, SourceDialect::Mysql).unwrap();
            assert_eq!(nested(&tree), read, "{sql}");
        }
        assert!(matches!(
            expression("a || b", SourceDialect::Postgres).unwrap(),
            Expr::BinaryOp {
                op: sqlparser::ast::BinaryOperator::StringConcat,
                ..
            }
        ));
    }

    /// mariadb-dump's `!x` is `(NOT x)`, binding more tightly than any binary operator; `!!x`
    /// is two of them.
    #[test]
    fn mysql_bang_is_a_not_binding_tightly() {
        for (sql, read) in [
            ("!5 + 1", "(NOT 5) + 1"),
            ("!abs(a) * 2", "(NOT abs(a)) * 2"),
            ("!(a + 1) OR !NULL", "(NOT (a + 1)) OR (NOT NULL)"),
            ("-!exists(select 1)", "-(NOT EXISTS (SELECT 1))"),
            ("!!n + 1", "(NOT (NOT n)) + 1"),
            ("!!!n", "(NOT (NOT (NOT n)))"),
            ("a != 1", "a <> 1"),
        ] {
            let tree = expression(sql, SourceDialect::Mysql).unwrap();
            assert_eq!(tree.to_string(), read, "{sql}");
        }
    }

    /// `expr` with each operand of an operator in parentheses.
    fn nested(expr: &Expr) -> String {
        let operand = |expr: &Expr| match expr {
            Expr::BinaryOp { .. } | Expr::UnaryOp { .. } => format!("({})", nested(expr)),
            _ => expr.to_string(),
        };
        match expr {
            Expr::BinaryOp { left, op, right } => {
                format!("{} {op} {}", operand(left), operand(right))
            }
            Expr::UnaryOp { op, expr } => format!("{op} {}", nested(expr)),
            _ => expr.to_string(),
        }
    }

    #[test]
    fn expression_must_use_all_input() {
        assert!(expression("a + 1", SourceDialect::Oracle).is_ok());
        assert!(matches!(
            expression("a + 1 b", SourceDialect::Oracle),
            Err(RewriteError::Parse { .. })
        ));
    }
}
