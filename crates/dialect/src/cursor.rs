//! A cursor over one statement's tokens (from sqlparser's tokenizer) for the hand-written DDL
//! grammar, with positions translated to the script file and access to the source text of any
//! token range (expressions are kept as written and translated later).

use crate::script::RawStatement;
use migrate_core::{Ident, QualifiedName, SourceDialect, SourceLocation};
use sqlparser::dialect::{Dialect, HiveDialect, MySqlDialect, OracleDialect, PostgreSqlDialect};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};
use std::sync::Arc;

/// A syntax error in a statement, with its position in the file and what the user can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ParseError {
    pub location: SourceLocation,
    pub message: String,
    pub hint: String,
}

pub(crate) fn tokenizer_dialect(dialect: SourceDialect) -> Box<dyn Dialect> {
    match dialect {
        SourceDialect::Oracle => Box::new(OracleDialect {}),
        SourceDialect::Hive => Box::new(HiveDdlDialect),
        SourceDialect::Mysql => Box::new(MySqlDialect {}),
        SourceDialect::Postgres => Box::new(PostgreSqlDialect {}),
    }
}

/// Hive as its DDL is written: double quotes delimit strings (with backslash escapes), only
/// backticks quote identifiers. sqlparser's Hive dialect reads `"..."` as an identifier.
#[derive(Debug)]
struct HiveDdlDialect;

impl Dialect for HiveDdlDialect {
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        HiveDialect {}.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        HiveDialect {}.is_identifier_part(ch)
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
}

/// A name as the source wrote it. Backticks (MySQL, Hive) only escape names: they stay
/// case-insensitive. Oracle folds unquoted names to upper case, so a quoted name that is upper case
/// and could be written unquoted (`"EMP_SEQ"`) is the same identifier as `EMP_SEQ` or `emp_seq`.
pub(crate) fn source_ident(value: String, quote: Option<char>, dialect: SourceDialect) -> Ident {
    match quote {
        Some('`') | None => Ident::new(value),
        Some(_) if dialect == SourceDialect::Oracle && is_oracle_unquoted_form(&value) => {
            Ident::new(value)
        }
        Some(_) => Ident::quoted(value),
    }
}

/// An upper-case name that Oracle would accept unquoted: a letter, then letters, digits, `_`,
/// `$` and `#`.
fn is_oracle_unquoted_form(value: &str) -> bool {
    let mut chars = value.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_$#".contains(c))
}

/// A statement's tokens without whitespace and comments, or the tokenizer's error.
pub(crate) type Tokens = Result<Vec<TokenWithSpan>, sqlparser::tokenizer::TokenizerError>;

/// Tokenizes one statement's text; independent of any reader state, so it can run ahead of the
/// parser on another thread.
pub(crate) fn tokenize(text: &str, dialect: SourceDialect) -> Tokens {
    let tokenizer_dialect = tokenizer_dialect(dialect);
    let tokens = Tokenizer::new(tokenizer_dialect.as_ref(), text).tokenize_with_location()?;
    Ok(tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .collect())
}

pub(crate) struct Cursor<'a> {
    text: &'a str,
    tokens: Vec<TokenWithSpan>,
    pos: usize,
    /// Byte offset of each line start in `text`.
    line_starts: Vec<usize>,
    /// File position of the statement's first character.
    origin: (u64, u64),
    file: Arc<str>,
    eof: Token,
    dialect: SourceDialect,
}

/// A half-open range of token indexes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenRange {
    pub start: usize,
    pub end: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(
        statement: &'a RawStatement,
        dialect: SourceDialect,
        file: &Arc<str>,
    ) -> Result<Cursor<'a>, ParseError> {
        Cursor::with_tokens(statement, tokenize(&statement.text, dialect), dialect, file)
    }

    /// A cursor over tokens produced by [`tokenize`] (possibly on another thread).
    pub fn with_tokens(
        statement: &'a RawStatement,
        tokens: Tokens,
        dialect: SourceDialect,
        file: &Arc<str>,
    ) -> Result<Cursor<'a>, ParseError> {
        let text = statement.text.as_str();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut cursor = Cursor {
            text,
            tokens: Vec::new(),
            pos: 0,
            line_starts,
            origin: (statement.line, statement.column),
            file: file.clone(),
            eof: Token::EOF,
            dialect,
        };
        cursor.tokens = tokens.map_err(|e| ParseError {
            location: cursor.file_location(e.location.line, e.location.column),
            message: e.message,
            hint: "check the quoting and special characters near this position".into(),
        })?;
        Ok(cursor)
    }

    fn file_location(&self, line: u64, column: u64) -> SourceLocation {
        let (origin_line, origin_column) = self.origin;
        let line = line.max(1);
        SourceLocation {
            file: self.file.clone(),
            line: origin_line + line - 1,
            column: if line == 1 {
                origin_column + column.max(1) - 1
            } else {
                column.max(1)
            },
        }
    }

    /// Location of the token at index `index` (or of the statement end).
    pub fn location_at(&self, index: usize) -> SourceLocation {
        match self.tokens.get(index) {
            Some(t) => self.file_location(t.span.start.line, t.span.start.column),
            None => match self.tokens.last() {
                Some(t) => self.file_location(t.span.end.line, t.span.end.column),
                None => self.file_location(1, 1),
            },
        }
    }

    pub fn location(&self) -> SourceLocation {
        self.location_at(self.pos)
    }

    pub fn statement_location(&self) -> SourceLocation {
        self.file_location(1, 1)
    }

    pub fn error(&self, message: impl Into<String>, hint: impl Into<String>) -> ParseError {
        let found = match self.tokens.get(self.pos) {
            Some(t) => format!(" (found `{}`)", t.token),
            None => " (found the end of the statement)".to_string(),
        };
        ParseError {
            location: self.location(),
            message: format!("{}{found}", message.into()),
            hint: hint.into(),
        }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn set_position(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    pub fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    pub fn peek_at(&self, n: usize) -> &Token {
        self.tokens
            .get(self.pos + n)
            .map(|t| &t.token)
            .unwrap_or(&self.eof)
    }

    pub fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if !self.at_end() {
            self.pos += 1;
        }
        token
    }

    /// The unquoted word at offset `n`, upper-cased.
    pub fn word_at(&self, n: usize) -> Option<String> {
        match self.peek_at(n) {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    }

    pub fn is_kw_at(&self, n: usize, keyword: &str) -> bool {
        matches!(self.peek_at(n), Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(keyword))
    }

    pub fn is_kws_at(&self, n: usize, keywords: &[&str]) -> bool {
        keywords
            .iter()
            .enumerate()
            .all(|(i, k)| self.is_kw_at(n + i, k))
    }

    /// The token at absolute index `index` (EOF past the end).
    pub fn token_at(&self, index: usize) -> &Token {
        self.tokens
            .get(index)
            .map(|t| &t.token)
            .unwrap_or(&self.eof)
    }

    pub fn is_kw(&self, keyword: &str) -> bool {
        self.is_kw_at(0, keyword)
    }

    pub fn is_any_kw(&self, keywords: &[&str]) -> bool {
        keywords.iter().any(|k| self.is_kw(k))
    }

    pub fn eat_kw(&mut self, keyword: &str) -> bool {
        if self.is_kw(keyword) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the keyword sequence only if all of it is there.
    pub fn eat_kws(&mut self, keywords: &[&str]) -> bool {
        if keywords
            .iter()
            .enumerate()
            .all(|(i, k)| self.is_kw_at(i, k))
        {
            self.pos += keywords.len();
            true
        } else {
            false
        }
    }

    pub fn expect_kw(&mut self, keyword: &str) -> Result<(), ParseError> {
        if self.eat_kw(keyword) {
            Ok(())
        } else {
            Err(self.error(format!("expected {keyword}"), "check the statement syntax"))
        }
    }

    pub fn is(&self, token: &Token) -> bool {
        self.peek() == token
    }

    pub fn eat(&mut self, token: &Token) -> bool {
        if self.is(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, token: &Token) -> Result<(), ParseError> {
        if self.eat(token) {
            Ok(())
        } else if self.at_end() {
            Err(self.error(
                format!("the statement ends where `{token}` was expected"),
                "the statement may be truncated: check that it is complete",
            ))
        } else {
            Err(self.error(format!("expected `{token}`"), "check the statement syntax"))
        }
    }

    /// An identifier: a word, quoted or not. Keywords are accepted (many real column names are).
    pub fn ident(&mut self) -> Result<Ident, ParseError> {
        match self.peek().clone() {
            Token::Word(w) => {
                self.pos += 1;
                Ok(source_ident(w.value, w.quote_style, self.dialect))
            }
            _ => Err(self.error("expected a name", "check the statement syntax")),
        }
    }

    /// `name`, `schema.name`, or longer (`db.schema.name`, `name@dblink`): the last two parts are
    /// kept; a database link is reported by the caller through the returned flag.
    pub fn qualified_name(&mut self) -> Result<QualifiedName, ParseError> {
        let mut parts = vec![self.ident()?];
        while self.is(&Token::Period) && matches!(self.peek_at(1), Token::Word(_)) {
            self.pos += 1;
            parts.push(self.ident()?);
        }
        let name = parts.pop().unwrap_or_else(|| Ident::new(""));
        Ok(QualifiedName::new(parts.pop(), name))
    }

    /// `(a, b DESC, c)`: column names, ignoring sort order and Oracle/MySQL index options.
    pub fn ident_list(&mut self) -> Result<Vec<Ident>, ParseError> {
        self.expect(&Token::LParen)?;
        let mut names = Vec::new();
        loop {
            names.push(self.ident()?);
            // Prefix lengths `name(10)` (MySQL) and ordering keywords are not part of the name;
            // anything else in parentheses is a function call, not a column list.
            if self.is(&Token::LParen) {
                if !(matches!(self.peek_at(1), Token::Number(..))
                    && self.peek_at(2) == &Token::RParen)
                {
                    return Err(
                        self.error("expected a column name", "list plain column names here")
                    );
                }
                self.skip_parens()?;
            }
            while self.eat_kw("ASC") || self.eat_kw("DESC") {}
            if !self.eat(&Token::Comma) {
                break;
            }
        }
        self.expect(&Token::RParen)?;
        Ok(names)
    }

    /// Skips a parenthesised group; the cursor must be on `(`.
    pub fn skip_parens(&mut self) -> Result<TokenRange, ParseError> {
        let start = self.pos;
        self.expect(&Token::LParen)?;
        let mut depth = 1;
        while depth > 0 {
            match self.advance() {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::EOF => {
                    self.pos = start;
                    return Err(self.error(
                        "this parenthesis is never closed",
                        "the statement may be truncated: check that it is complete",
                    ));
                }
                _ => {}
            }
        }
        Ok(TokenRange {
            start: start + 1,
            end: self.pos - 1,
        })
    }

    /// Consumes tokens up to (not including) the first token at parenthesis depth 0 for which
    /// `stop` is true, or the end of the statement. Returns the consumed range.
    pub fn take_until(&mut self, stop: impl Fn(&Cursor) -> bool) -> TokenRange {
        let start = self.pos;
        let mut depth = 0usize;
        while !self.at_end() {
            match self.peek() {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                _ if depth == 0 && stop(self) => break,
                _ => {}
            }
            self.pos += 1;
        }
        TokenRange {
            start,
            end: self.pos,
        }
    }

    /// The source text of a token range, exactly as written.
    pub fn text(&self, range: TokenRange) -> String {
        if range.start >= range.end {
            return String::new();
        }
        let start = self.byte_offset(range.start);
        let end = match self.tokens.get(range.end) {
            Some(_) => self.byte_offset(range.end),
            None => self.text.len(),
        };
        self.text.get(start..end).unwrap_or("").trim().to_string()
    }

    /// The rest of the statement as written, from the cursor.
    pub fn rest_text(&self) -> String {
        self.text(TokenRange {
            start: self.pos,
            end: self.tokens.len(),
        })
    }

    fn byte_offset(&self, index: usize) -> usize {
        let Some(token) = self.tokens.get(index) else {
            return self.text.len();
        };
        let line = token.span.start.line.max(1) as usize;
        let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = token.span.start.column.max(1) as usize;
        self.text[line_start..]
            .char_indices()
            .nth(column - 1)
            .map(|(i, _)| line_start + i)
            .unwrap_or(self.text.len())
    }

    pub fn number(&mut self) -> Result<i64, ParseError> {
        let negative = self.eat(&Token::Minus);
        match self.peek().clone() {
            Token::Number(text, _) => match text.parse::<i64>() {
                Ok(n) => {
                    self.pos += 1;
                    Ok(if negative { -n } else { n })
                }
                Err(_) => Err(self.error("expected an integer", "use a whole number here")),
            },
            _ => Err(self.error("expected a number", "check the statement syntax")),
        }
    }

    pub fn string(&mut self) -> Result<String, ParseError> {
        match self.peek().clone() {
            Token::SingleQuotedString(s)
            | Token::DoubleQuotedString(s)
            | Token::NationalStringLiteral(s)
            | Token::EscapedStringLiteral(s) => {
                self.pos += 1;
                Ok(s)
            }
            Token::QuoteDelimitedStringLiteral(quoted)
            | Token::NationalQuoteDelimitedStringLiteral(quoted) => {
                self.pos += 1;
                Ok(quoted.value)
            }
            _ => Err(self.error("expected a quoted string", "check the statement syntax")),
        }
    }
}
