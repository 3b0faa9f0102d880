//! Reading the statements LogMiner writes in `SQL_REDO` and `SQL_UNDO` back into column values.
//!
//! LogMiner prints each row change as one SQL statement over quoted, upper-case names:
//!
//! ```text
//! insert into "APP"."ORDERS"("ID","NOTE","AT") values ('1','it''s',TO_DATE('2024-01-15 10:30:00', 'SYYYY-MM-DD HH24:MI:SS'))
//! update "APP"."ORDERS" set "NOTE" = 'shipped' where "ID" = 1 and "NOTE" = 'new' and ROWID = 'AAAR3sAAEAAAACXAAA'
//! delete from "APP"."ORDERS" where "ID" = 1 and "NOTE" IS NULL and ROWID = 'AAAR3sAAEAAAACXAAA'
//! ```
//!
//! Values are literals or the few functions LogMiner uses for them: `NULL`, `'text'` (quotes
//! doubled, long values as `'a' || 'b'`), `UNISTR('\00E9')` for characters outside the database
//! character set, numbers (`-12.5`, `.5`, `1.0E+40`), `HEXTORAW('0aff')`, `TO_DATE(text,
//! format)`, `TO_TIMESTAMP(..)`, `TO_TIMESTAMP_TZ(..)`, `TO_YMINTERVAL('+01-02')`,
//! `TO_DSINTERVAL('+03 04:05:06.5')`, `EMPTY_CLOB()`/`EMPTY_BLOB()` and the `BINARY_DOUBLE_NAN`
//! family. Anything else is kept as [`Literal::Unsupported`] so that converting it fails with the
//! expression in the message instead of guessing.
//!
//! An update's `set` lists only the columns it changed; with all-column supplemental logging its
//! `where` lists the before-image of every other logged column, which is how the after-image is
//! completed ([`RedoStatement::after_image`]).

use std::fmt;

/// A value as LogMiner writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Null,
    /// A character literal, quotes undoubled, pieces joined. Oracle stores `''` as NULL: an
    /// empty string here means NULL ([`Literal::is_null`]).
    String(String),
    /// A number as written: `-12.5`, `.5`, `1.0E+40`.
    Number(String),
    /// `TRUE` / `FALSE` (23ai `BOOLEAN`).
    Boolean(bool),
    /// `BINARY_FLOAT_NAN`, `BINARY_DOUBLE_INFINITY`, `-BINARY_DOUBLE_INFINITY`, ...
    SpecialFloat(SpecialFloat),
    /// `HEXTORAW('...')`: the hex digits.
    Raw(String),
    /// `TO_DATE(text, format)`.
    Date {
        text: String,
        format: String,
    },
    /// `TO_TIMESTAMP(text, format)`.
    Timestamp {
        text: String,
        format: String,
    },
    /// `TO_TIMESTAMP_TZ(text, format)`.
    TimestampTz {
        text: String,
        format: String,
    },
    /// `TO_YMINTERVAL('+01-02')`.
    YearMonthInterval(String),
    /// `TO_DSINTERVAL('+03 04:05:06.5')`.
    DaySecondInterval(String),
    /// `EMPTY_CLOB()` / `EMPTY_BLOB()`: a LOB whose content LogMiner writes separately.
    EmptyLob,
    /// Any other expression, as written (`Unsupported Type`, an object constructor...).
    Unsupported(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialFloat {
    NaN,
    Infinity,
    NegativeInfinity,
}

impl Literal {
    /// NULL, or the empty string (or RAW), which Oracle does not distinguish from NULL.
    pub fn is_null(&self) -> bool {
        match self {
            Literal::Null => true,
            Literal::String(s) | Literal::Raw(s) => s.is_empty(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedoKind {
    Insert,
    Update,
    Delete,
}

/// One row change as LogMiner wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedoStatement {
    pub kind: RedoKind,
    pub owner: String,
    pub table: String,
    /// Insert: every column written; update: the changed columns (`set`); delete: empty.
    pub values: Vec<(String, Literal)>,
    /// Update and delete: the logged before-image (`where`), `IS NULL` as [`Literal::Null`],
    /// without the ROWID condition.
    pub conditions: Vec<(String, Literal)>,
    pub rowid: Option<String>,
}

impl RedoStatement {
    /// The before-image value of `column` (update and delete), when it was logged.
    pub fn before(&self, column: &str) -> Option<&Literal> {
        self.conditions
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v)
    }

    /// The after-image value of `column` (insert and update): the value written by the
    /// statement, or, for an update, the unchanged before-image. `None`: the redo does not carry
    /// the column (an update of a table without all-column supplemental logging, a LOB).
    pub fn after(&self, column: &str) -> Option<&Literal> {
        let written = self
            .values
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v);
        match self.kind {
            RedoKind::Insert => written,
            RedoKind::Update => written.or_else(|| self.before(column)),
            RedoKind::Delete => None,
        }
    }
}

/// Why a statement could not be read, with the byte offset where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedoParseError {
    pub message: String,
    pub offset: usize,
}

impl fmt::Display for RedoParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// `"NAME"`.
    Ident(String),
    /// An unquoted word, upper-cased.
    Word(String),
    Str(String),
    Number(String),
    LParen,
    RParen,
    Comma,
    Eq,
    Dot,
    Semicolon,
    Concat,
    Minus,
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn error(&self, message: impl Into<String>) -> RedoParseError {
        RedoParseError {
            message: message.into(),
            offset: self.pos,
        }
    }

    fn peek_char(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// The next token and the offset where it starts.
    fn next(&mut self) -> Result<Option<(usize, Token)>, RedoParseError> {
        while let Some(c) = self.peek_char() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(None);
        };
        let token = match c {
            '"' => Token::Ident(self.quoted('"')?),
            '\'' => Token::Str(self.quoted('\'')?),
            '(' | ')' | ',' | '=' | '.' | ';' | '-' if !(c == '.' && self.digit_follows(1)) => {
                self.pos += 1;
                match c {
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    ',' => Token::Comma,
                    '=' => Token::Eq,
                    '.' => Token::Dot,
                    ';' => Token::Semicolon,
                    _ => Token::Minus,
                }
            }
            '|' if self.text[self.pos..].starts_with("||") => {
                self.pos += 2;
                Token::Concat
            }
            c if c.is_ascii_digit() || c == '.' => Token::Number(self.number()),
            c if c.is_alphabetic() || c == '_' => {
                let word: String = self.text[self.pos..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '#'))
                    .collect();
                self.pos += word.len();
                Token::Word(word.to_ascii_uppercase())
            }
            other => return Err(self.error(format!("unexpected character `{other}`"))),
        };
        Ok(Some((start, token)))
    }

    fn digit_follows(&self, skip: usize) -> bool {
        self.text[self.pos + skip..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    }

    fn number(&mut self) -> String {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut i = self.pos;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        // Exponent: `E+40`, `e-7`, `E12`.
        if i < bytes.len() && (bytes[i] == b'E' || bytes[i] == b'e') {
            let mut j = i + 1;
            if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                j += 1;
            }
            if j < bytes.len() && bytes[j].is_ascii_digit() {
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
                i = j;
            }
        }
        self.pos = i;
        self.text[start..i].to_string()
    }

    /// A quoted string or identifier; the quote character doubled stands for itself.
    fn quoted(&mut self, quote: char) -> Result<String, RedoParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            match rest.find(quote) {
                None => {
                    self.pos = start;
                    return Err(self.error(format!("unterminated {quote}...{quote}")));
                }
                Some(i) => {
                    out.push_str(&rest[..i]);
                    self.pos += i + 1;
                    if self.peek_char() == Some(quote) {
                        out.push(quote);
                        self.pos += 1;
                    } else {
                        return Ok(out);
                    }
                }
            }
        }
    }
}

/// The `where` conditions and the ROWID.
type Conditions = (Vec<(String, Literal)>, Option<String>);

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<(usize, Token)>,
    index: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Result<Parser<'a>, RedoParseError> {
        let mut lexer = Lexer { text, pos: 0 };
        let mut tokens = Vec::new();
        while let Some(token) = lexer.next()? {
            tokens.push(token);
        }
        Ok(Parser {
            text,
            tokens,
            index: 0,
        })
    }

    fn offset(&self) -> usize {
        self.tokens
            .get(self.index)
            .map_or(self.text.len(), |(offset, _)| *offset)
    }

    fn error(&self, message: impl Into<String>) -> RedoParseError {
        RedoParseError {
            message: message.into(),
            offset: self.offset(),
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.index).map(|(_, t)| t)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.index).map(|(_, t)| t.clone());
        self.index += 1;
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn expect_word(&mut self, word: &str) -> Result<(), RedoParseError> {
        if self.is_word(word) {
            self.index += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected `{}`", word.to_ascii_lowercase())))
        }
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), RedoParseError> {
        if self.peek() == Some(&token) {
            self.index += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }

    fn ident(&mut self) -> Result<String, RedoParseError> {
        match self.peek() {
            Some(Token::Ident(name)) => {
                let name = name.clone();
                self.index += 1;
                Ok(name)
            }
            _ => Err(self.error("expected a quoted name")),
        }
    }

    /// `"OWNER"."TABLE"`.
    fn table(&mut self) -> Result<(String, String), RedoParseError> {
        let owner = self.ident()?;
        self.expect(Token::Dot, "`.` between owner and table")?;
        Ok((owner, self.ident()?))
    }

    fn end(&mut self) -> Result<(), RedoParseError> {
        if self.peek() == Some(&Token::Semicolon) {
            self.index += 1;
        }
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("unexpected text after the statement")),
        }
    }

    fn string_arg(&mut self) -> Result<String, RedoParseError> {
        match self.advance() {
            Some(Token::Str(s)) => Ok(s),
            _ => {
                self.index -= 1;
                Err(self.error("expected a quoted argument"))
            }
        }
    }

    /// `FUNCTION('a')` or `FUNCTION('a', 'b')`, after the name.
    fn args(&mut self, count: usize) -> Result<Vec<String>, RedoParseError> {
        self.expect(Token::LParen, "`(`")?;
        let mut args = Vec::new();
        for i in 0..count {
            if i > 0 {
                self.expect(Token::Comma, "`,`")?;
            }
            args.push(self.string_arg()?);
        }
        self.expect(Token::RParen, "`)`")?;
        Ok(args)
    }

    /// One value; `'a' || 'b'` and `UNISTR(..)` pieces are joined into one string.
    fn value(&mut self) -> Result<Literal, RedoParseError> {
        let start = self.index;
        let first = self.term()?;
        if self.peek() != Some(&Token::Concat) {
            return Ok(first);
        }
        let mut joined = match first {
            Literal::String(s) => s,
            Literal::Null => String::new(),
            _ => return self.unsupported_from(start),
        };
        while self.peek() == Some(&Token::Concat) {
            self.index += 1;
            match self.term()? {
                Literal::String(s) => joined.push_str(&s),
                Literal::Null => {}
                _ => return self.unsupported_from(start),
            }
        }
        Ok(Literal::String(joined))
    }

    fn term(&mut self) -> Result<Literal, RedoParseError> {
        let start = self.index;
        let Some(token) = self.advance() else {
            return Err(self.error("expected a value"));
        };
        Ok(match token {
            Token::Str(s) => Literal::String(s),
            Token::Number(n) => Literal::Number(n),
            Token::Minus => match self.advance() {
                Some(Token::Number(n)) => Literal::Number(format!("-{n}")),
                Some(Token::Word(w)) if w.ends_with("_INFINITY") => {
                    Literal::SpecialFloat(SpecialFloat::NegativeInfinity)
                }
                _ => return self.unsupported_from(start),
            },
            Token::Word(word) => match word.as_str() {
                "NULL" => Literal::Null,
                "TRUE" => Literal::Boolean(true),
                "FALSE" => Literal::Boolean(false),
                "BINARY_FLOAT_NAN" | "BINARY_DOUBLE_NAN" => {
                    Literal::SpecialFloat(SpecialFloat::NaN)
                }
                "BINARY_FLOAT_INFINITY" | "BINARY_DOUBLE_INFINITY" => {
                    Literal::SpecialFloat(SpecialFloat::Infinity)
                }
                "HEXTORAW" => Literal::Raw(self.args(1)?.remove(0)),
                "UNISTR" => {
                    let arg = self.args(1)?.remove(0);
                    Literal::String(unistr(&arg).map_err(|message| self.error(message))?)
                }
                // National character literals: N'text'.
                "N" if matches!(self.peek(), Some(Token::Str(_))) => match self.advance() {
                    Some(Token::Str(text)) => Literal::String(text),
                    _ => return self.unsupported_from(start),
                },
                "TO_CLOB" | "TO_NCLOB" | "TO_BLOB" | "TO_CHAR" | "TO_NCHAR"
                    if self.peek() == Some(&Token::LParen) =>
                {
                    self.index += 1;
                    let inner = self.value()?;
                    self.expect(Token::RParen, "`)`")?;
                    inner
                }
                "TO_DATE" | "TO_TIMESTAMP" | "TO_TIMESTAMP_TZ" => {
                    let mut args = self.args(2)?;
                    let format = args.remove(1);
                    let text = args.remove(0);
                    match word.as_str() {
                        "TO_DATE" => Literal::Date { text, format },
                        "TO_TIMESTAMP" => Literal::Timestamp { text, format },
                        _ => Literal::TimestampTz { text, format },
                    }
                }
                "TO_YMINTERVAL" => Literal::YearMonthInterval(self.args(1)?.remove(0)),
                "TO_DSINTERVAL" => Literal::DaySecondInterval(self.args(1)?.remove(0)),
                "EMPTY_CLOB" | "EMPTY_BLOB" => {
                    self.expect(Token::LParen, "`(`")?;
                    self.expect(Token::RParen, "`)`")?;
                    Literal::EmptyLob
                }
                _ => return self.unsupported_from(start),
            },
            _ => return self.unsupported_from(start),
        })
    }

    /// Skips to the end of the value that starts at token `start` (the next `,` or `)` at its
    /// own nesting level, or `and`), returning it as written.
    fn unsupported_from(&mut self, start: usize) -> Result<Literal, RedoParseError> {
        self.index = start;
        let from = self.offset();
        let mut depth = 0usize;
        while let Some(token) = self.peek() {
            match token {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                Token::Comma if depth == 0 => break,
                Token::Semicolon if depth == 0 => break,
                Token::Word(w) if depth == 0 && w == "AND" => break,
                _ => {}
            }
            self.index += 1;
        }
        let to = self.offset();
        if from == to {
            return Err(self.error("expected a value"));
        }
        Ok(Literal::Unsupported(self.text[from..to].trim().to_string()))
    }

    /// `"A" = v and "B" IS NULL and ROWID = '...'`.
    fn conditions(&mut self) -> Result<Conditions, RedoParseError> {
        let mut conditions = Vec::new();
        let mut rowid = None;
        loop {
            if self.is_word("ROWID") {
                self.index += 1;
                self.expect(Token::Eq, "`=` after ROWID")?;
                rowid = Some(self.string_arg()?);
            } else {
                let column = self.ident()?;
                if self.is_word("IS") {
                    self.index += 1;
                    self.expect_word("NULL")?;
                    conditions.push((column, Literal::Null));
                } else {
                    self.expect(Token::Eq, "`=` or IS NULL")?;
                    let value = self.value()?;
                    conditions.push((column, value));
                }
            }
            if self.is_word("AND") {
                self.index += 1;
            } else {
                return Ok((conditions, rowid));
            }
        }
    }
}

/// Decodes `UNISTR`'s argument: `\XXXX` UTF-16 code units (surrogate pairs joined), `\\`.
fn unistr(arg: &str) -> Result<String, String> {
    let mut units: Vec<u16> = Vec::new();
    let mut out = String::new();
    let flush = |units: &mut Vec<u16>, out: &mut String| -> Result<(), String> {
        if !units.is_empty() {
            let text = String::from_utf16(units)
                .map_err(|_| "UNISTR holds an unpaired UTF-16 surrogate".to_string())?;
            out.push_str(&text);
            units.clear();
        }
        Ok(())
    };
    let mut chars = arg.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush(&mut units, &mut out)?;
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'\\') {
            chars.next();
            flush(&mut units, &mut out)?;
            out.push('\\');
            continue;
        }
        let hex: String = chars.by_ref().take(4).collect();
        let unit = (hex.len() == 4)
            .then(|| u16::from_str_radix(&hex, 16).ok())
            .flatten()
            .ok_or_else(|| format!("UNISTR escape `\\{hex}` is not four hex digits"))?;
        units.push(unit);
    }
    flush(&mut units, &mut out)?;
    Ok(out)
}

/// Parses one `SQL_REDO` or `SQL_UNDO` statement of an insert, update or delete.
pub fn parse_redo(sql: &str) -> Result<RedoStatement, RedoParseError> {
    let mut p = Parser::new(sql)?;
    let statement = if p.is_word("INSERT") {
        p.index += 1;
        p.expect_word("INTO")?;
        let (owner, table) = p.table()?;
        p.expect(Token::LParen, "`(` before the column list")?;
        let mut columns = Vec::new();
        loop {
            columns.push(p.ident()?);
            if p.peek() == Some(&Token::Comma) {
                p.index += 1;
            } else {
                break;
            }
        }
        p.expect(Token::RParen, "`)` after the column list")?;
        p.expect_word("VALUES")?;
        p.expect(Token::LParen, "`(` before the values")?;
        let mut values = Vec::new();
        for (i, column) in columns.into_iter().enumerate() {
            if i > 0 {
                p.expect(
                    Token::Comma,
                    "`,` between values (fewer values than columns)",
                )?;
            }
            values.push((column, p.value()?));
        }
        p.expect(
            Token::RParen,
            "`)` after the values (more values than columns)",
        )?;
        RedoStatement {
            kind: RedoKind::Insert,
            owner,
            table,
            values,
            conditions: Vec::new(),
            rowid: None,
        }
    } else if p.is_word("UPDATE") {
        p.index += 1;
        let (owner, table) = p.table()?;
        p.expect_word("SET")?;
        let mut values = Vec::new();
        loop {
            let column = p.ident()?;
            p.expect(Token::Eq, "`=` in the set list")?;
            values.push((column, p.value()?));
            if p.peek() == Some(&Token::Comma) {
                p.index += 1;
            } else {
                break;
            }
        }
        let (conditions, rowid) = if p.is_word("WHERE") {
            p.index += 1;
            p.conditions()?
        } else {
            (Vec::new(), None)
        };
        RedoStatement {
            kind: RedoKind::Update,
            owner,
            table,
            values,
            conditions,
            rowid,
        }
    } else if p.is_word("DELETE") {
        p.index += 1;
        p.expect_word("FROM")?;
        let (owner, table) = p.table()?;
        p.expect_word("WHERE")?;
        let (conditions, rowid) = p.conditions()?;
        RedoStatement {
            kind: RedoKind::Delete,
            owner,
            table,
            values: Vec::new(),
            conditions,
            rowid,
        }
    } else {
        return Err(p.error("expected insert, update or delete"));
    };
    p.end()?;
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Literal {
        Literal::String(text.into())
    }

    fn n(text: &str) -> Literal {
        Literal::Number(text.into())
    }

    #[test]
    fn inserts_list_every_column_with_its_value() {
        let redo = parse_redo(
            r#"insert into "APP"."ORDERS"("ID","NOTE","AMOUNT","DISCOUNT") values ('1','it''s',-12.50,NULL)"#,
        )
        .unwrap();
        assert_eq!(redo.kind, RedoKind::Insert);
        assert_eq!(
            (redo.owner.as_str(), redo.table.as_str()),
            ("APP", "ORDERS")
        );
        assert_eq!(
            redo.values,
            [
                ("ID".into(), s("1")),
                ("NOTE".into(), s("it's")),
                ("AMOUNT".into(), n("-12.50")),
                ("DISCOUNT".into(), Literal::Null)
            ]
        );
        assert_eq!(redo.after("NOTE"), Some(&s("it's")));
        assert_eq!(redo.after("MISSING"), None);
    }

    #[test]
    fn updates_complete_the_after_image_from_the_logged_before_image() {
        let redo = parse_redo(
            r#"update "APP"."ORDERS" set "NOTE" = 'shipped', "AMOUNT" = .5 where "ID" = 1 and "NOTE" = 'new' and "AMOUNT" IS NULL and "AT" = TO_DATE('2024-01-15 10:30:00', 'SYYYY-MM-DD HH24:MI:SS') and ROWID = 'AAAR3sAAEAAAACXAAA';"#,
        )
        .unwrap();
        assert_eq!(redo.kind, RedoKind::Update);
        assert_eq!(redo.rowid.as_deref(), Some("AAAR3sAAEAAAACXAAA"));
        assert_eq!(redo.before("NOTE"), Some(&s("new")));
        assert_eq!(redo.before("AMOUNT"), Some(&Literal::Null));
        assert_eq!(redo.after("NOTE"), Some(&s("shipped")));
        assert_eq!(redo.after("AMOUNT"), Some(&n(".5")));
        // Unchanged columns keep their before-image.
        assert_eq!(redo.after("ID"), Some(&n("1")));
        assert_eq!(
            redo.after("AT"),
            Some(&Literal::Date {
                text: "2024-01-15 10:30:00".into(),
                format: "SYYYY-MM-DD HH24:MI:SS".into()
            })
        );
    }

    #[test]
    fn deletes_carry_the_before_image_and_the_rowid() {
        let redo = parse_redo(
            r#"delete from "APP"."ORDERS" where "ID" = 7 and "NOTE" IS NULL and ROWID = 'AAAR3sAAEAAAACXAAB'"#,
        )
        .unwrap();
        assert_eq!(redo.kind, RedoKind::Delete);
        assert_eq!(
            redo.conditions,
            [("ID".into(), n("7")), ("NOTE".into(), Literal::Null)]
        );
        assert_eq!(redo.after("ID"), None);
    }

    #[test]
    fn every_value_form_is_read() {
        let redo = parse_redo(concat!(
            r#"insert into "A"."T"("C1","C2","C3","C4","C5","C6","C7","C8","C9","C10","C11","C12","C13","C14","C15","C16","C17","C18") values ("#,
            r#"HEXTORAW('0aff00'),"#,
            r#"TO_TIMESTAMP('2024-02-29 23:59:59.123456789', 'SYYYY-MM-DD HH24:MI:SS.FF9'),"#,
            r#"TO_TIMESTAMP_TZ('2024-02-29 23:59:59.5 +05:30', 'SYYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'),"#,
            r#"TO_YMINTERVAL('-01-02'),"#,
            r#"TO_DSINTERVAL('+03 04:05:06.789'),"#,
            r#"EMPTY_CLOB(),"#,
            r#"UNISTR('caf\00E9 \D83D\DE00 a\\b'),"#,
            r#"'abc' || 'def' || UNISTR('\00E9'),"#,
            r#"1.0E+40,"#,
            r#"-BINARY_DOUBLE_INFINITY,"#,
            r#"BINARY_FLOAT_NAN,"#,
            r#"TRUE,"#,
            r#"'',"#,
            r#"Unsupported Type,"#,
            r#"TO_CLOB('long') || TO_CLOB(' text'),"#,
            r#"SYS.XMLTYPE.createXML('<a/>'),"#,
            r#"N'ñ',"#,
            r#"TO_BLOB(HEXTORAW('ff')))"#,
        ))
        .unwrap();
        let values: Vec<&Literal> = redo.values.iter().map(|(_, v)| v).collect();
        assert_eq!(values[0], &Literal::Raw("0aff00".into()));
        assert_eq!(
            values[1],
            &Literal::Timestamp {
                text: "2024-02-29 23:59:59.123456789".into(),
                format: "SYYYY-MM-DD HH24:MI:SS.FF9".into()
            }
        );
        assert!(matches!(values[2], Literal::TimestampTz { text, .. } if text.ends_with("+05:30")));
        assert_eq!(values[3], &Literal::YearMonthInterval("-01-02".into()));
        assert_eq!(
            values[4],
            &Literal::DaySecondInterval("+03 04:05:06.789".into())
        );
        assert_eq!(values[5], &Literal::EmptyLob);
        assert_eq!(values[6], &s("café 😀 a\\b"));
        assert_eq!(values[7], &s("abcdefé"));
        assert_eq!(values[8], &n("1.0E+40"));
        assert_eq!(
            values[9],
            &Literal::SpecialFloat(SpecialFloat::NegativeInfinity)
        );
        assert_eq!(values[10], &Literal::SpecialFloat(SpecialFloat::NaN));
        assert_eq!(values[11], &Literal::Boolean(true));
        assert!(values[12].is_null(), "Oracle's '' is NULL");
        assert_eq!(values[13], &Literal::Unsupported("Unsupported Type".into()));
        assert_eq!(values[14], &s("long text"));
        assert_eq!(
            values[15],
            &Literal::Unsupported("SYS.XMLTYPE.createXML('<a/>')".into())
        );
        assert_eq!(values[16], &s("ñ"));
        assert_eq!(values[17], &Literal::Raw("ff".into()));
    }

    #[test]
    fn quotes_unicode_and_keywords_inside_strings_do_not_confuse_the_reader() {
        let redo = parse_redo(
            r#"update "APP"."we""ird" set "NOTE" = 'a '' and "X" = 1, ''日本語''' where "ID" = 'where and ROWID' and ROWID = 'AAAx'"#,
        )
        .unwrap();
        assert_eq!(redo.table, "we\"ird");
        assert_eq!(redo.after("NOTE"), Some(&s("a ' and \"X\" = 1, '日本語'")));
        assert_eq!(redo.before("ID"), Some(&s("where and ROWID")));
        assert_eq!(redo.rowid.as_deref(), Some("AAAx"));
    }

    #[test]
    fn malformed_statements_say_where_they_stop() {
        for (sql, message) in [
            (
                r#"insert into "A"."T"("X","Y") values (1)"#,
                "fewer values than columns",
            ),
            (
                r#"insert into "A"."T"("X") values (1,2)"#,
                "more values than columns",
            ),
            (r#"update "A"."T" set "X" = 'open"#, "unterminated"),
            (r#"select 1 from dual"#, "expected insert, update or delete"),
            (
                r#"delete from "A"."T" where "X" = 1 extra"#,
                "unexpected text",
            ),
            (
                r#"insert into "A"."T"("X") values (UNISTR('\12'))"#,
                "four hex digits",
            ),
            (
                r#"insert into "A"."T"("X") values (UNISTR('\D83D'))"#,
                "surrogate",
            ),
        ] {
            let error = parse_redo(sql).unwrap_err();
            assert!(error.message.contains(message), "{sql}: {error}");
        }
    }
}
