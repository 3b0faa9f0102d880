//! Splits a script into statements, the way the dialect's own client would.
//!
//! This is line-aware work that a SQL tokenizer can't do: SQL*Plus commands (`REM`, `PROMPT`,
//! `SET`...) are whole lines that may hold unbalanced quotes, a `/` alone on a line ends a PL/SQL
//! block whose body contains `;`, MySQL's `DELIMITER` changes the terminator, a psql meta-command
//! (`\connect db`) ends at the end of its line, and MySQL versioned comments (`/*!50001 ... */`)
//! hold real SQL. Positions are kept exact so that every error can name its line and column.

use migrate_core::SourceDialect;
use std::collections::VecDeque;

/// One statement, without its terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    pub text: String,
    /// Line and column (counting characters, from 1) of the statement's first character.
    pub line: u64,
    pub column: u64,
    /// Set when the input ended inside a quote or comment that started at this line and column.
    pub unterminated: Option<Unterminated>,
    /// SQL*Plus substitution variables (`&name`, `&&name`) replaced by their bare names.
    pub substitutions: Vec<String>,
    /// A `COPY ... FROM stdin` whose data lines, up to the `\.` line, were skipped.
    pub inline_data: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unterminated {
    pub what: &'static str,
    pub line: u64,
    pub column: u64,
}

/// A client command that is not SQL (`REM`, `PROMPT`, `SET`, `@file`, `EXEC ...`, `DELIMITER`,
/// psql's `\connect`).
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

/// Splits a script lazily: one statement at a time, so memory holds the current statement only.
pub struct Splitter<'a> {
    dialect: SourceDialect,
    source: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    line: u64,
    column: u64,
    /// True once the current line has a non-blank character before the cursor.
    line_has_content: bool,
    delimiter: String,
    /// The delimiter's first character, checked against every character of the script.
    delimiter_start: char,
    ready: VecDeque<ScriptItem>,
    current: String,
    start: Option<(u64, u64)>,
    /// Upper-cased leading words of the current statement, to detect PL/SQL.
    head_words: Vec<String>,
    head_word: String,
    plsql: bool,
    /// Open MySQL versioned comments whose `*/` must be blanked out.
    versioned_depth: u32,
    substitutions: Vec<String>,
    done: bool,
}

/// Splits `source` into statements and client commands, lazily.
pub fn split(source: &str, dialect: SourceDialect) -> Splitter<'_> {
    Splitter {
        dialect,
        source,
        pos: 0,
        line: 1,
        column: 1,
        line_has_content: false,
        delimiter: ";".to_string(),
        delimiter_start: ';',
        ready: VecDeque::new(),
        current: String::new(),
        start: None,
        head_words: Vec::new(),
        head_word: String::new(),
        plsql: false,
        versioned_depth: 0,
        substitutions: Vec::new(),
        done: false,
    }
}

impl Iterator for Splitter<'_> {
    type Item = ScriptItem;

    fn next(&mut self) -> Option<ScriptItem> {
        while self.ready.is_empty() && !self.done {
            if self.pos >= self.source.len() {
                self.finish(None);
                self.done = true;
            } else if !self.step() {
                self.done = true;
            }
        }
        self.ready.pop_front()
    }
}

impl Splitter<'_> {
    fn peek(&self, offset: usize) -> Option<char> {
        self.source[self.pos..].chars().nth(offset)
    }

    fn starts_with(&self, text: &str) -> bool {
        let mut rest = self.source[self.pos..].chars();
        text.chars().all(|expected| {
            rest.next()
                .is_some_and(|c| c.eq_ignore_ascii_case(&expected))
        })
    }

    /// Consumes one character, copying it into the current statement.
    fn take(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.advance_position(c);
        if self.start.is_some() {
            self.current.push(c);
        }
        Some(c)
    }

    /// Consumes one character without copying it (replaced by a space to keep columns exact).
    fn blank(&mut self) {
        if let Some(c) = self.peek(0) {
            self.advance_position(c);
            if self.start.is_some() {
                self.current.push(if c == '\n' { '\n' } else { ' ' });
            }
        }
    }

    fn advance_position(&mut self, c: char) {
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
            self.line_has_content = false;
        } else {
            self.column += 1;
            if !c.is_whitespace() {
                self.line_has_content = true;
            }
        }
    }

    /// The rest of the current line, from the cursor.
    fn rest_of_line(&self) -> &str {
        let rest = &self.source[self.pos..];
        &rest[..rest.find('\n').unwrap_or(rest.len())]
    }

    fn skip_line(&mut self) -> String {
        let text = self.rest_of_line().to_string();
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
            let inline_data = unterminated.is_none() && self.is_copy_from_stdin(&text);
            if inline_data {
                self.skip_copy_data();
            }
            self.ready.push_back(ScriptItem::Statement(RawStatement {
                text: text.trim_end().to_string(),
                line,
                column,
                unterminated,
                substitutions: std::mem::take(&mut self.substitutions),
                inline_data,
            }));
        }
        self.head_words.clear();
        self.head_word.clear();
        self.plsql = false;
    }

    /// pg_dump's `COPY t (a, b) FROM stdin;`, which psql follows with the table's rows.
    fn is_copy_from_stdin(&self, text: &str) -> bool {
        if self.dialect != SourceDialect::Postgres
            || self.head_words.first().map(String::as_str) != Some("COPY")
        {
            return false;
        }
        let mut words = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|word| !word.is_empty());
        let mut previous_from = false;
        words.any(|word| {
            let found = previous_from && word.eq_ignore_ascii_case("STDIN");
            previous_from = word.eq_ignore_ascii_case("FROM");
            found
        })
    }

    /// Skips the rest of the `COPY` line and the data lines after it, up to and including the
    /// line `\.` that ends them (or the end of the input, where psql stops too): rows are not
    /// statements, and read as SQL they would swallow the statement after them.
    fn skip_copy_data(&mut self) {
        let mut rest = &self.source[self.pos..];
        let mut first = true;
        while !rest.is_empty() {
            let (line, next) = match rest.find('\n') {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => (rest, ""),
            };
            let ends = !first && line.trim_end_matches('\r') == "\\.";
            first = false;
            self.pos += rest.len() - next.len();
            if rest.len() > line.len() {
                self.line += 1;
            }
            rest = next;
            if ends {
                break;
            }
        }
        self.column = 1;
        self.line_has_content = false;
    }

    /// Processes the next unit of input (a character, a quote, a comment or a whole line).
    /// Returns false when the input ended inside a quote or comment (already reported).
    fn step(&mut self) -> bool {
        let Some(c) = self.peek(0) else { return true };
        // Line commands start at a line's first visible character.
        if !self.line_has_content && !c.is_whitespace() && self.try_line_command() {
            return true;
        }
        // Dispatch on the character first: most characters start nothing special.
        let next = || self.peek(1);
        match c {
            '/' if next() == Some('*') => {
                if self.dialect == SourceDialect::Mysql && self.peek(2) == Some('!') {
                    self.versioned_comment_open();
                } else if let Err(open) = self.block_comment() {
                    self.finish_unterminated("comment", open);
                    return false;
                }
                return true;
            }
            '-' if next() == Some('-') => {
                self.line_comment();
                return true;
            }
            '#' if self.dialect == SourceDialect::Mysql => {
                self.line_comment();
                return true;
            }
            '*' if self.versioned_depth > 0 && next() == Some('/') => {
                self.versioned_depth -= 1;
                self.blank();
                self.blank();
                return true;
            }
            _ => {}
        }
        if !self.plsql && c == self.delimiter_start && self.starts_with(&self.delimiter) {
            for c in self.delimiter.clone().chars() {
                self.advance_position(c);
            }
            self.finish(None);
            return true;
        }
        if c.is_whitespace() {
            self.note_word_char(' ');
            self.take();
            return true;
        }
        self.mark_start();
        let quoted = match c {
            '\'' => self.quoted('\'', "string"),
            '"' => self.quoted('"', "quoted identifier"),
            '`' if matches!(self.dialect, SourceDialect::Mysql | SourceDialect::Hive) => {
                self.quoted('`', "quoted identifier")
            }
            '$' if self.dialect == SourceDialect::Postgres => self.dollar_quoted(),
            'q' | 'Q' if self.dialect == SourceDialect::Oracle && self.is_q_quote() => {
                self.q_quoted()
            }
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
            return false;
        }
        true
    }

    fn finish_unterminated(&mut self, what: &'static str, (line, column): (u64, u64)) {
        self.mark_start();
        self.finish(Some(Unterminated { what, line, column }));
    }

    /// Handles commands that occupy a whole line. Returns true when the line was consumed.
    fn try_line_command(&mut self) -> bool {
        let line = self.rest_of_line().to_string();
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
                    while text.trim_end().ends_with(" -") && self.pos < self.source.len() {
                        self.advance_position('\n');
                        text.push('\n');
                        text.push_str(&self.skip_line());
                    }
                    self.ready
                        .push_back(ScriptItem::ClientCommand(ClientCommand {
                            text: text.trim().to_string(),
                            line: line_no,
                        }));
                    return true;
                }
                false
            }
            SourceDialect::Mysql if first_word == "DELIMITER" && self.start.is_none() => {
                let text = self.command_line();
                let delimiter = text["DELIMITER".len()..].trim();
                if let Some(start) = delimiter.chars().next() {
                    self.delimiter = delimiter.to_string();
                    self.delimiter_start = start;
                }
                true
            }
            // A psql meta-command (`\connect db`, pg_dump's `\restrict key`) ends at the end of
            // its line, with no `;`.
            SourceDialect::Postgres if trimmed.starts_with('\\') && self.start.is_none() => {
                self.command_line();
                true
            }
            _ => false,
        }
    }

    /// Consumes the rest of the line as a client command; returns its trimmed text.
    fn command_line(&mut self) -> String {
        let line = self.line;
        let text = self.skip_line().trim().to_string();
        self.ready
            .push_back(ScriptItem::ClientCommand(ClientCommand {
                text: text.clone(),
                line,
            }));
        text
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

    /// Oracle `q'[text with ' inside]'`: `q` (or `nq`) not inside a longer word, then a quote.
    fn is_q_quote(&self) -> bool {
        let word_before =
            self.current.chars().last().is_some_and(|c| {
                (c.is_alphanumeric() || c == '_') && !c.eq_ignore_ascii_case(&'n')
            });
        !word_before
            && self.peek(1) == Some('\'')
            && self.peek(2).is_some_and(|c| !c.is_whitespace())
    }

    /// Oracle alternative quoting: the character after `q'` opens the literal and its closing
    /// partner followed by `'` ends it (`q'[...]'`, `q'{...}'`, `q'!...!'`).
    fn q_quoted(&mut self) -> Result<(), (&'static str, (u64, u64))> {
        let open = (self.line, self.column);
        self.take();
        self.take();
        let Some(opening) = self.take() else {
            return Err(("q-quoted string", open));
        };
        let closing = match opening {
            '[' => ']',
            '{' => '}',
            '(' => ')',
            '<' => '>',
            other => other,
        };
        loop {
            match self.peek(0) {
                None => return Err(("q-quoted string", open)),
                Some(c) if c == closing && self.peek(1) == Some('\'') => {
                    self.take();
                    self.take();
                    self.note_word_char(' ');
                    return Ok(());
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
            if self.pos >= self.source.len() {
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
            let name: String = self.source[self.pos..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !self.substitutions.contains(&name) {
                self.substitutions.push(name);
            }
        } else {
            self.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(source: &str, dialect: SourceDialect) -> Vec<(String, u64, u64)> {
        split(source, dialect)
            .filter_map(|item| match item {
                ScriptItem::Statement(s) => Some((s.text, s.line, s.column)),
                ScriptItem::ClientCommand(_) => None,
            })
            .collect()
    }

    #[test]
    fn sqlplus_lines_and_slash_terminators() {
        let source = "REM it's a comment with a quote\nPROMPT don't stop\nSET ECHO OFF\nCREATE TABLE t (a NUMBER);\n/\nCREATE OR REPLACE PROCEDURE p IS\nBEGIN\n  NULL;\nEND;\n/\nHOST sqlldr x -\n  control=y\n  CREATE TABLE u (b DATE)\n/\n";
        let found = statements(source, SourceDialect::Oracle);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0], ("CREATE TABLE t (a NUMBER)".to_string(), 4, 1));
        assert!(
            found[1].0.starts_with("CREATE OR REPLACE PROCEDURE p IS")
                && found[1].0.ends_with("END;")
        );
        assert_eq!(found[2], ("CREATE TABLE u (b DATE)".to_string(), 13, 3));
    }

    #[test]
    fn oracle_q_quotes_hold_quotes_and_semicolons() {
        let found = statements(
            "COMMENT ON TABLE t IS q'[it's; fine]';\nCREATE TABLE u (a INT);",
            SourceDialect::Oracle,
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "COMMENT ON TABLE t IS q'[it's; fine]'");
        let unterminated: Vec<ScriptItem> =
            split("SELECT q'{never closed' FROM dual;", SourceDialect::Oracle).collect();
        let ScriptItem::Statement(statement) = &unterminated[0] else {
            panic!("a statement")
        };
        assert_eq!(
            statement.unterminated.as_ref().map(|u| u.what),
            Some("q-quoted string")
        );
    }

    #[test]
    fn substitution_variables_keep_columns() {
        let found = statements(
            "CREATE TABLE t (a INT) TABLESPACE &&tbs;",
            SourceDialect::Oracle,
        );
        assert_eq!(found[0].0, "CREATE TABLE t (a INT) TABLESPACE   tbs");
    }

    #[test]
    fn mysql_delimiters_and_versioned_comments() {
        let source = "/*!40101 SET NAMES utf8 */;\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n/*!50001 CREATE VIEW v AS SELECT 1 */;\n# hash comment\nCREATE TABLE `t;` (a INT COMMENT 'x\\';y');";
        let found = statements(source, SourceDialect::Mysql);
        assert_eq!(found.len(), 4);
        assert_eq!(found[1].0, "CREATE PROCEDURE p() BEGIN SELECT 1; END");
        assert_eq!(
            (found[2].0.trim(), found[2].1),
            ("CREATE VIEW v AS SELECT 1", 5)
        );
        assert_eq!(found[3].0, "CREATE TABLE `t;` (a INT COMMENT 'x\\';y')");
    }

    #[test]
    fn postgres_dollar_quotes() {
        let source =
            "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\nSELECT $1;";
        let found = statements(source, SourceDialect::Postgres);
        assert_eq!(found.len(), 2);
        assert!(found[0].0.ends_with("LANGUAGE sql"));
    }

    #[test]
    fn psql_meta_commands_end_at_their_line() {
        let source = "\\restrict abc\nSET x = 1;\n\\connect mydb\nCREATE TABLE a (id int);\n  \\unrestrict abc\n";
        let items: Vec<ScriptItem> = split(source, SourceDialect::Postgres).collect();
        let commands: Vec<(&str, u64)> = items
            .iter()
            .filter_map(|item| match item {
                ScriptItem::ClientCommand(c) => Some((c.text.as_str(), c.line)),
                ScriptItem::Statement(_) => None,
            })
            .collect();
        assert_eq!(
            commands,
            [
                ("\\restrict abc", 1),
                ("\\connect mydb", 3),
                ("\\unrestrict abc", 5)
            ]
        );
        let found = statements(source, SourceDialect::Postgres);
        assert_eq!(found[1], ("CREATE TABLE a (id int)".to_string(), 4, 1));
    }

    #[test]
    fn copy_from_stdin_rows_are_skipped_up_to_their_end_marker() {
        let source = "COPY public.t (a, b) FROM stdin;\n1\tx; DROP TABLE y;\r\n2\t\\N\n\\.\nCREATE TABLE u (c int);\nCOPY u FROM '/tmp/u.csv';\nCOPY u (c) FROM STDIN WITH (FORMAT csv);\n3\n";
        let items: Vec<RawStatement> = split(source, SourceDialect::Postgres)
            .filter_map(|item| match item {
                ScriptItem::Statement(s) => Some(s),
                ScriptItem::ClientCommand(_) => None,
            })
            .collect();
        let found: Vec<(&str, u64, bool)> = items
            .iter()
            .map(|s| (s.text.as_str(), s.line, s.inline_data))
            .collect();
        assert_eq!(
            found,
            [
                ("COPY public.t (a, b) FROM stdin", 1, true),
                ("CREATE TABLE u (c int)", 5, false),
                ("COPY u FROM '/tmp/u.csv'", 6, false),
                // Rows without their end marker end with the input, as in psql.
                ("COPY u (c) FROM STDIN WITH (FORMAT csv)", 7, true),
            ]
        );
    }

    #[test]
    fn unterminated_quote_is_reported_where_it_opens() {
        let items: Vec<ScriptItem> = split(
            "CREATE TABLE a (x INT);\nCREATE TABLE b (y VARCHAR(3) DEFAULT 'oops);\n",
            SourceDialect::Postgres,
        )
        .collect();
        let ScriptItem::Statement(last) = items.last().unwrap() else {
            panic!("expected a statement")
        };
        let open = last.unterminated.as_ref().unwrap();
        assert_eq!((open.what, open.line, open.column), ("string", 2, 38));
    }

    #[test]
    fn comments_before_a_statement_are_not_part_of_it() {
        let found = statements(
            "-- heading\n/* block */  CREATE TABLE t (a INT)",
            SourceDialect::Hive,
        );
        assert_eq!(found[0], ("CREATE TABLE t (a INT)".to_string(), 2, 14));
    }
}
