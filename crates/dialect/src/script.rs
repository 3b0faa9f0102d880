//! Splits a script into statements, the way the dialect's own client would.
//!
//! This is line-aware work that a SQL tokenizer can't do: SQL*Plus commands (`REM`, `PROMPT`,
//! `SET`...) are whole lines that may hold unbalanced quotes, a `/` alone on a line ends a PL/SQL
//! block whose body contains `;`, MySQL's `DELIMITER` changes the terminator, and MySQL versioned
//! comments (`/*!50001 ... */`) hold real SQL. Positions are kept exact so that every error can name
//! its line and column.

use migrate_core::SourceDialect;

/// One statement, without its terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    pub text: String,
    /// Line and column (counting characters, from 1) of the statement's first character.
    pub line: u64,
    pub column: u64,
    /// Set when the input ended inside a quote or comment that started at this line and column.
    pub unterminated: Option<Unterminated>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unterminated {
    pub what: &'static str,
    pub line: u64,
    pub column: u64,
}

/// A client command that is not SQL (`REM`, `PROMPT`, `SET`, `@file`, `EXEC ...`, `DELIMITER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCommand {
    pub text: String,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptItem {
    Statement(RawStatement),
    ClientCommand(ClientCommand),
}

/// SQL*Plus commands that may start a line of an Oracle script (abbreviations included).
const SQLPLUS_COMMANDS: &[&str] = &[
    "REM", "REMARK", "PRO", "PROMPT", "SET", "SPOOL", "WHENEVER", "EXIT", "QUIT", "CONNECT",
    "CONN", "DEFINE", "DEF", "UNDEFINE", "UNDEF", "COLUMN", "COL", "SHOW", "TTITLE", "BTITLE",
    "BREAK", "COMPUTE", "CLEAR", "PAUSE", "ACCEPT", "VARIABLE", "VAR", "PRINT", "HOST", "EXEC",
    "EXECUTE", "DESC", "DESCRIBE", "STORE", "TIMING", "START", "SPO",
];

/// Statement heads after which `;` does not end the statement in SQL*Plus: only `/` does.
fn is_plsql_head(words: &[String]) -> bool {
    let mut rest = words;
    match rest.first().map(String::as_str) {
        Some("DECLARE") | Some("BEGIN") => return true,
        Some("CREATE") => rest = &rest[1..],
        _ => return false,
    }
    if rest.len() >= 2 && rest[0] == "OR" && rest[1] == "REPLACE" {
        rest = &rest[2..];
    }
    while let Some(word) = rest.first() {
        if matches!(
            word.as_str(),
            "EDITIONABLE" | "NONEDITIONABLE" | "EDITIONING" | "NONEDITIONING"
        ) {
            rest = &rest[1..];
        } else {
            break;
        }
    }
    matches!(
        rest.first().map(String::as_str),
        Some("PROCEDURE" | "FUNCTION" | "PACKAGE" | "TRIGGER" | "TYPE" | "LIBRARY" | "JAVA")
    )
}

struct Splitter {
    dialect: SourceDialect,
    chars: Vec<char>,
    pos: usize,
    line: u64,
    column: u64,
    delimiter: String,
    items: Vec<ScriptItem>,
    current: String,
    start: Option<(u64, u64)>,
    /// Upper-cased leading words of the current statement, to detect PL/SQL.
    head_words: Vec<String>,
    head_word: String,
    plsql: bool,
    /// Open MySQL versioned comments whose `*/` must be blanked out.
    versioned_depth: u32,
}

/// Splits `source` into statements and client commands.
pub fn split(source: &str, dialect: SourceDialect) -> Vec<ScriptItem> {
    let mut splitter = Splitter {
        dialect,
        chars: source.chars().collect(),
        pos: 0,
        line: 1,
        column: 1,
        delimiter: ";".to_string(),
        items: Vec::new(),
        current: String::new(),
        start: None,
        head_words: Vec::new(),
        head_word: String::new(),
        plsql: false,
        versioned_depth: 0,
    };
    splitter.run();
    splitter.items
}

impl Splitter {
    fn peek(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn starts_with(&self, text: &str) -> bool {
        let mut i = self.pos;
        for expected in text.chars() {
            match self.chars.get(i) {
                Some(c) if c.eq_ignore_ascii_case(&expected) => i += 1,
                _ => return false,
            }
        }
        true
    }

    /// Consumes one character, copying it into the current statement.
    fn take(&mut self) -> char {
        let c = self.chars[self.pos];
        self.advance_position(c);
        if self.start.is_some() {
            self.current.push(c);
        }
        c
    }

    /// Consumes one character without copying it (replaced by a space to keep columns exact).
    fn blank(&mut self) {
        let c = self.chars[self.pos];
        self.advance_position(c);
        if self.start.is_some() {
            self.current.push(if c == '\n' { '\n' } else { ' ' });
        }
    }

    fn advance_position(&mut self, c: char) {
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
    }

    fn at_line_start(&self) -> bool {
        self.chars[..self.pos]
            .iter()
            .rev()
            .take_while(|c| **c != '\n')
            .all(|c| c.is_whitespace())
    }

    /// The rest of the current line, from the cursor.
    fn rest_of_line(&self) -> String {
        self.chars[self.pos..]
            .iter()
            .take_while(|c| **c != '\n')
            .collect()
    }

    fn skip_line(&mut self) -> String {
        let text = self.rest_of_line();
        for c in text.chars() {
            self.advance_position(c);
        }
        text
    }

    fn mark_start(&mut self) {
        if self.start.is_none() {
            self.start = Some((self.line, self.column));
        }
    }

    fn note_word_char(&mut self, c: char) {
        if self.head_words.len() >= 6 {
            return;
        }
        if c.is_alphanumeric() || c == '_' {
            self.head_word.push(c.to_ascii_uppercase());
        } else if !self.head_word.is_empty() {
            self.head_words.push(std::mem::take(&mut self.head_word));
            if self.dialect == SourceDialect::Oracle && is_plsql_head(&self.head_words) {
                self.plsql = true;
            }
        }
    }

    fn finish(&mut self, unterminated: Option<Unterminated>) {
        let text = std::mem::take(&mut self.current);
        if let Some((line, column)) = self.start.take() {
            self.items.push(ScriptItem::Statement(RawStatement {
                text: text.trim_end().to_string(),
                line,
                column,
                unterminated,
            }));
        }
        self.head_words.clear();
        self.head_word.clear();
        self.plsql = false;
    }

    fn run(&mut self) {
        while self.pos < self.chars.len() {
            if self.at_line_start() && self.try_line_command() {
                continue;
            }
            let c = self.chars[self.pos];
            if self.dialect == SourceDialect::Mysql && self.starts_with("/*!") {
                self.versioned_comment_open();
                continue;
            }
            if self.starts_with("--") || (self.dialect == SourceDialect::Mysql && c == '#') {
                self.line_comment();
                continue;
            }
            if self.starts_with("/*") {
                if let Err(open) = self.block_comment() {
                    self.finish_unterminated("comment", open);
                    return;
                }
                continue;
            }
            if self.versioned_depth > 0 && self.starts_with("*/") {
                self.versioned_depth -= 1;
                self.blank();
                self.blank();
                continue;
            }
            if !self.plsql && self.starts_with(&self.delimiter.clone()) {
                for _ in 0..self.delimiter.chars().count() {
                    self.advance_position(self.chars[self.pos]);
                }
                self.finish(None);
                continue;
            }
            if c.is_whitespace() {
                self.note_word_char(' ');
                self.take();
                continue;
            }
            self.mark_start();
            let quoted = match c {
                '\'' => self.quoted('\'', "string"),
                '"' => self.quoted('"', "quoted identifier"),
                '`' if matches!(self.dialect, SourceDialect::Mysql | SourceDialect::Hive) => {
                    self.quoted('`', "quoted identifier")
                }
                '$' if self.dialect == SourceDialect::Postgres => self.dollar_quoted(),
                '&' if self.dialect == SourceDialect::Oracle => {
                    self.substitution_variable();
                    Ok(())
                }
                _ => {
                    self.note_word_char(c);
                    self.take();
                    Ok(())
                }
            };
            if let Err((what, open)) = quoted {
                self.finish_unterminated(what, open);
                return;
            }
        }
        self.finish(None);
    }

    fn finish_unterminated(&mut self, what: &'static str, (line, column): (u64, u64)) {
        self.mark_start();
        self.finish(Some(Unterminated { what, line, column }));
    }

    /// Handles commands that occupy a whole line. Returns true when the line was consumed.
    fn try_line_command(&mut self) -> bool {
        let line = self.rest_of_line();
        let trimmed = line.trim();
        let first_word: String = trimmed
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_ascii_uppercase();
        match self.dialect {
            SourceDialect::Oracle => {
                // `/` runs the buffer: it ends a PL/SQL block, and after a statement already
                // ended by `;` it is a no-op for us (SQL*Plus would run the statement again).
                if trimmed == "/" || trimmed == "." {
                    self.skip_line();
                    self.finish(None);
                    return true;
                }
                let is_command =
                    trimmed.starts_with('@') || SQLPLUS_COMMANDS.contains(&first_word.as_str());
                if is_command && self.start.is_none() {
                    let line_no = self.line;
                    let mut text = self.skip_line();
                    // A trailing ` -` continues a SQL*Plus command on the next line.
                    while text.trim_end().ends_with(" -") && self.pos < self.chars.len() {
                        self.advance_position('\n');
                        text.push('\n');
                        text.push_str(&self.skip_line());
                    }
                    self.items.push(ScriptItem::ClientCommand(ClientCommand {
                        text: text.trim().to_string(),
                        line: line_no,
                    }));
                    return true;
                }
                false
            }
            SourceDialect::Mysql if first_word == "DELIMITER" && self.start.is_none() => {
                let line_no = self.line;
                let text = self.skip_line();
                let delimiter = text.trim()["DELIMITER".len()..].trim();
                if !delimiter.is_empty() {
                    self.delimiter = delimiter.to_string();
                }
                self.items.push(ScriptItem::ClientCommand(ClientCommand {
                    text: text.trim().to_string(),
                    line: line_no,
                }));
                true
            }
            _ => false,
        }
    }

    fn line_comment(&mut self) {
        while let Some(c) = self.peek(0) {
            if c == '\n' {
                break;
            }
            self.take();
        }
    }

    fn block_comment(&mut self) -> Result<(), (u64, u64)> {
        let open = (self.line, self.column);
        self.take();
        self.take();
        loop {
            match self.peek(0) {
                None => return Err(open),
                Some('*') if self.peek(1) == Some('/') => {
                    self.take();
                    self.take();
                    return Ok(());
                }
                Some(_) => {
                    self.take();
                }
            }
        }
    }

    /// `/*!50001 CREATE ... */`: the content is SQL for MySQL servers of that version or later.
    fn versioned_comment_open(&mut self) {
        self.blank();
        self.blank();
        self.blank();
        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.blank();
        }
        self.versioned_depth += 1;
    }

    fn quoted(
        &mut self,
        quote: char,
        what: &'static str,
    ) -> Result<(), (&'static str, (u64, u64))> {
        let open = (self.line, self.column);
        let backslash_escapes =
            matches!(self.dialect, SourceDialect::Mysql | SourceDialect::Hive) && quote != '`';
        self.take();
        loop {
            match self.peek(0) {
                None => return Err((what, open)),
                Some('\\') if backslash_escapes => {
                    self.take();
                    if self.peek(0).is_some() {
                        self.take();
                    }
                }
                Some(c) if c == quote => {
                    self.take();
                    if self.peek(0) == Some(quote) {
                        self.take();
                    } else {
                        self.note_word_char(' ');
                        return Ok(());
                    }
                }
                Some(_) => {
                    self.take();
                }
            }
        }
    }

    /// PostgreSQL `$tag$ ... $tag$` strings (function bodies).
    fn dollar_quoted(&mut self) -> Result<(), (&'static str, (u64, u64))> {
        let mut tag = String::from("$");
        let mut i = 1;
        while let Some(c) = self.peek(i) {
            if c == '$' {
                tag.push('$');
                break;
            }
            if !(c.is_alphanumeric() || c == '_') {
                // A positional parameter like `$1`, not a dollar quote.
                self.take();
                return Ok(());
            }
            tag.push(c);
            i += 1;
        }
        if !tag.ends_with('$') || tag.len() < 2 {
            self.take();
            return Ok(());
        }
        let open = (self.line, self.column);
        for _ in 0..tag.chars().count() {
            self.take();
        }
        loop {
            if self.pos >= self.chars.len() {
                return Err(("dollar-quoted string", open));
            }
            if self.starts_with(&tag) {
                for _ in 0..tag.chars().count() {
                    self.take();
                }
                return Ok(());
            }
            self.take();
        }
    }

    /// SQL*Plus `&name` / `&&name` substitution variables: kept as the bare name (so that
    /// `TABLESPACE &tbs` still parses) and reported by the caller through the statement text.
    fn substitution_variable(&mut self) {
        if self.peek(1).is_some_and(|c| c.is_alphabetic() || c == '&') {
            self.blank();
            if self.peek(0) == Some('&') {
                self.blank();
            }
        } else {
            self.take();
        }
    }
}
