//! What a QUERY event's statement means for the change stream. In ROW format, row changes come
//! as row events; QUERY events carry transaction control (`BEGIN`, `COMMIT`), DDL, and, when a
//! session switched to statement logging, DML that this stream can't decode.

use crate::connect::Flavor;
use mysql_async::binlog::events::{QueryEvent, StatusVarVal};
use mysql_async::binlog::StatusVarKey;
use mysql_async::consts::SqlMode;
use std::borrow::Cow;

/// How the server read a statement: its flavor (which executable comments it runs) and the two
/// flags of the session's sql_mode that change how its lexer reads quoted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syntax {
    flavor: Flavor,
    /// `NO_BACKSLASH_ESCAPES`: a backslash in a string is a character like another.
    no_backslash_escapes: bool,
    /// `ANSI_QUOTES`: `"..."` is an identifier (where a backslash escapes nothing), not a string.
    ansi_quotes: bool,
}

impl Syntax {
    /// How the server of `flavor` read `event`'s statement: under the sql_mode of the session
    /// that ran it, which the event's status variables carry (`Q_SQL_MODE_CODE`); without it,
    /// as under the default one (neither flag).
    pub(crate) fn of(event: &QueryEvent<'_>, flavor: Flavor) -> Syntax {
        let mode = event
            .status_vars()
            .get_status_var(StatusVarKey::SqlMode)
            .and_then(|var| match var.get_value() {
                Ok(StatusVarVal::SqlMode(mode)) => Some(mode.get()),
                _ => None,
            })
            .unwrap_or_else(SqlMode::empty);
        Syntax {
            flavor,
            no_backslash_escapes: mode.contains(SqlMode::MODE_NO_BACKSLASH_ESCAPES),
            ansi_quotes: mode.contains(SqlMode::MODE_ANSI_QUOTES),
        }
    }
}

/// The kind of a QUERY event's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Statement {
    /// `BEGIN` (or `XA START`): the transaction's rows follow.
    Begin,
    /// `COMMIT` (non-transactional tables) or `ROLLBACK` (logged only when non-transactional
    /// changes, which stay, were made): the end of the event group.
    Commit,
    /// `TRUNCATE [TABLE] [schema.]name`.
    Truncate(Name),
    /// `RENAME TABLE a TO b, ...` or `ALTER TABLE a ... RENAME [TO|AS] b`: each table renamed,
    /// from and to.
    Rename(Vec<(Name, Name)>),
    /// `DROP TABLE [IF EXISTS] a, ...` (not `DROP TEMPORARY TABLE`): the tables dropped.
    Drop(Vec<Name>),
    /// An `ALTER TABLE` that adds or removes rows without row events: `DROP PARTITION`,
    /// `TRUNCATE PARTITION`, `EXCHANGE PARTITION ... WITH TABLE`, MariaDB's `CONVERT PARTITION
    /// ... TO TABLE` and `CONVERT TABLE ... TO PARTITION`, `DISCARD`/`IMPORT [PARTITION ...]
    /// TABLESPACE`. The tables whose rows change (the altered one first), and the clause.
    RowsWithoutEvents(Vec<Name>, String),
    /// Any other `ALTER TABLE`: the table altered (it may have given generated columns new
    /// values without row events), and the columns its clauses rename and drop.
    Alter(Name, ColumnChanges),
    /// INSERT/UPDATE/DELETE/REPLACE/LOAD DATA logged as a statement (a session with
    /// `binlog_format=STATEMENT`): its rows are not in the binlog as rows.
    Dml,
    /// Anything else (DDL, ...).
    Other,
}

/// The columns an `ALTER TABLE`'s clauses name, as the table had them before the statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ColumnChanges {
    /// `CHANGE [COLUMN] old new ...` (with another name) and `RENAME COLUMN old TO new`: from
    /// and to.
    pub(crate) renamed: Vec<(String, String)>,
    /// `DROP [COLUMN] [IF EXISTS] name`.
    pub(crate) dropped: Vec<String>,
}

/// The phase of an `ALTER TABLE` that MariaDB logged in two (`binlog_alter_two_phase`, 10.8+),
/// as its GTID event tells: the ALTER's QUERY event is logged once when it starts, and the same
/// statement again when it ends, committed or rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlterPhase {
    /// `START ALTER`: the ALTER began (it may yet fail).
    Start,
    /// `COMMIT ALTER id=N`: the ALTER that started as GTID sequence N is done.
    Commit,
    /// `ROLLBACK ALTER id=N`: it failed, nothing changed.
    Rollback,
}

/// `flags2` bits of a MariaDB GTID event that lengthen its body.
const FL_GROUP_COMMIT_ID: u8 = 2;
const FL_PREPARED_XA: u8 = 64;
const FL_COMPLETED_XA: u8 = 128;
/// `flags_extra` bits of the two-phase ALTER phases.
const FL_START_ALTER_E1: u8 = 2;
const FL_COMMIT_ALTER_E1: u8 = 4;
const FL_ROLLBACK_ALTER_E1: u8 = 8;

/// The two-phase ALTER phase a MariaDB GTID event's body (after the common header, checksum
/// removed) marks, if any. `mysql_common` does not decode this event; its layout, as the
/// server's `Gtid_log_event::write` lays it out: `seq_no: u64 LE, domain_id: u32 LE, flags2:
/// u8`; then `commit_id: u64` when `flags2` has `FL_GROUP_COMMIT_ID`; then, when it has
/// `FL_PREPARED_XA` or `FL_COMPLETED_XA`, the XID (`format_id: u32, gtrid_length: u8,
/// bqual_length: u8`, and that many bytes); then, when the body goes on, `flags_extra: u8`
/// (followed by the engine count and, for COMMIT/ROLLBACK ALTER, the START ALTER's `sa_seq_no:
/// u64`, which this does not need). A body shorter than 19 bytes is padded with zeros to 19,
/// which read as no extra flags.
pub(crate) fn alter_phase(body: &[u8]) -> Option<AlterPhase> {
    let flags2 = *body.get(12)?;
    let mut at = 13;
    if flags2 & FL_GROUP_COMMIT_ID != 0 {
        at += 8;
    }
    if flags2 & (FL_PREPARED_XA | FL_COMPLETED_XA) != 0 {
        let lengths = body.get(at + 4..at + 6)?;
        at += 6 + usize::from(lengths[0]) + usize::from(lengths[1]);
    }
    let extra = *body.get(at)?;
    if extra & FL_START_ALTER_E1 != 0 {
        Some(AlterPhase::Start)
    } else if extra & FL_COMMIT_ALTER_E1 != 0 {
        Some(AlterPhase::Commit)
    } else if extra & FL_ROLLBACK_ALTER_E1 != 0 {
        Some(AlterPhase::Rollback)
    } else {
        None
    }
}

/// The length of the comment at the start of `text`, if it starts with one: `/* ... */`, or
/// `-- ...` (the dashes followed by a blank) or `# ...` with its line's end; to the end of
/// `text` when it is not closed.
fn comment_len(text: &str) -> Option<usize> {
    let dashes = text.strip_prefix("--").map(|rest| {
        rest.chars()
            .next()
            .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    });
    if let Some(rest) = text.strip_prefix("/*") {
        Some(rest.find("*/").map_or(text.len(), |end| end + 4))
    } else if text.starts_with('#') || dashes == Some(true) {
        Some(text.find('\n').map_or(text.len(), |end| end + 1))
    } else {
        None
    }
}

/// The length of the quoted text at the start of `text`, if it starts with one: a string
/// (`'...'`, `"..."`: a backslash escapes the character after it, but under
/// NO_BACKSLASH_ESCAPES) or an identifier (`` `...` ``, `"..."` under ANSI_QUOTES: a backslash
/// escapes nothing), the quote doubled inside; to the end of `text` when it is not closed.
fn quoted_len(text: &str, syntax: Syntax) -> Option<usize> {
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let identifier = quote == '`' || (quote == '"' && syntax.ansi_quotes);
    let escapes = !identifier && !syntax.no_backslash_escapes;
    let mut chars = text.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        if c == quote {
            if !text[at + 1..].starts_with(quote) {
                return Some(at + 1);
            }
            chars.next();
        } else if c == '\\' && escapes {
            chars.next();
        }
    }
    Some(text.len())
}

/// The length of the opening of an executable comment at the start of `text`, if it starts
/// with one the server runs: `/*!` (MariaDB: or `/*M!`) and its version, when it has one (5 or 6
/// digits; fewer are no version, and the server runs them as text).
fn executable_opening(text: &str, flavor: Flavor) -> Option<usize> {
    let rest = text
        .strip_prefix("/*!")
        .or_else(|| text.strip_prefix("/*M!").filter(|_| flavor.is_mariadb()))?;
    let digits = rest.bytes().take(6).take_while(u8::is_ascii_digit).count();
    let version = if digits >= 5 { digits } else { 0 };
    Some(text.len() - rest.len() + version)
}

/// The statement as the server ran it: the text of an executable comment (`/*! ... */`,
/// `/*!NNNNN ... */`; MariaDB's `/*M! ... */`, `/*M!NNNNNN ... */`, which MySQL does not run) is
/// statement text, its opening and closing `*/` each turned into a blank; the first `*/`
/// outside quotes and other comments closes it, also when another executable comment opened
/// inside it, as in the server's lexer. The versions need no comparing: the server logs a
/// versioned comment it did not run with its `!` blanked (`/* 99999 ... */`, `/*M 999999 ...
/// */`), a plain comment.
fn executed(statement: &str, syntax: Syntax) -> Cow<'_, str> {
    let mut text = String::new();
    let (mut copied, mut at, mut inside) = (0, 0, false);
    while let Some(c) = statement[at..].chars().next() {
        let rest = &statement[at..];
        let opening = executable_opening(rest, syntax.flavor);
        let closing = (inside && rest.starts_with("*/")).then_some(2);
        if let Some(len) = opening.or(closing) {
            text.push_str(&statement[copied..at]);
            text.push(' ');
            at += len;
            copied = at;
            inside = opening.is_some();
        } else {
            at += quoted_len(rest, syntax)
                .or_else(|| comment_len(rest))
                .unwrap_or(c.len_utf8());
        }
    }
    if copied == 0 {
        Cow::Borrowed(statement)
    } else {
        text.push_str(&statement[copied..]);
        Cow::Owned(text)
    }
}

/// The statement without leading blanks and comments (`/* ... */`, `-- ...`, `# ...`).
fn skip_noise(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        match comment_len(text) {
            Some(len) => text = &text[len..],
            None => return text,
        }
    }
}

/// The next word (letters, digits, `_`) upper-cased, and the rest.
fn keyword(text: &str) -> (String, &str) {
    let text = skip_noise(text);
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (text[..end].to_ascii_uppercase(), &text[end..])
}

/// One identifier: `` `quoted` `` (backticks doubled inside), `"quoted"` (ANSI_QUOTES), or bare.
fn identifier(text: &str) -> Option<(String, &str)> {
    let text = skip_noise(text);
    let mut chars = text.char_indices();
    match chars.next()? {
        (_, quote @ ('`' | '"')) => {
            let mut name = String::new();
            let mut rest = &text[1..];
            loop {
                let at = rest.find(quote)?;
                name.push_str(&rest[..at]);
                rest = &rest[at + 1..];
                if rest.starts_with(quote) {
                    name.push(quote);
                    rest = &rest[1..];
                } else {
                    return Some((name, rest));
                }
            }
        }
        _ => {
            let end = text
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(text.len());
            (end > 0).then(|| (text[..end].to_string(), &text[end..]))
        }
    }
}

/// A table's name as a statement writes it: (schema if written, name).
pub(crate) type Name = (Option<String>, String);

/// `name` or `schema.name`.
fn table_name(text: &str) -> Option<Name> {
    table_name_and_rest(text).map(|(name, _)| name)
}

/// `name` or `schema.name`, and the text after it.
fn table_name_and_rest(text: &str) -> Option<(Name, &str)> {
    let (first, rest) = identifier(text)?;
    match skip_noise(rest).strip_prefix('.') {
        Some(rest) => {
            let (second, rest) = identifier(rest)?;
            Some(((Some(first), second), rest))
        }
        None => Some(((None, first), rest)),
    }
}

/// `text` after the keywords `words` (each optional, in order), e.g. `IF EXISTS`.
fn after_optional<'t>(text: &'t str, words: &[&str]) -> &'t str {
    let (word, rest) = keyword(text);
    if word == words[0] {
        words[1..]
            .iter()
            .try_fold(rest, |rest, w| {
                let (word, rest) = keyword(rest);
                (word == *w).then_some(rest)
            })
            .unwrap_or(text)
    } else {
        text
    }
}

/// After a table name of a DDL statement: MariaDB's `WAIT n` or `NOWAIT`, skipped.
fn skip_wait(text: &str) -> &str {
    match keyword(text) {
        (word, rest) if word == "NOWAIT" => rest,
        (word, rest) if word == "WAIT" => keyword(rest).1,
        _ => text,
    }
}

/// `a TO b, c TO d` of `RENAME TABLE`.
fn renames(mut text: &str) -> Option<Vec<(Name, Name)>> {
    let mut pairs = Vec::new();
    loop {
        let (from, rest) = table_name_and_rest(text)?;
        let (to_word, rest) = keyword(skip_wait(rest));
        if to_word != "TO" {
            return None;
        }
        let (to, rest) = table_name_and_rest(rest)?;
        pairs.push((from, to));
        match skip_noise(rest).strip_prefix(',') {
            Some(rest) => text = rest,
            None => return Some(pairs),
        }
    }
}

/// The clauses of an `ALTER TABLE` after the table's name, split at commas outside quotes,
/// parentheses and comments.
fn clauses(text: &str, syntax: Syntax) -> Vec<&str> {
    let mut clauses = Vec::new();
    let (mut depth, mut start, mut at) = (0usize, 0, 0);
    while let Some(c) = text[at..].chars().next() {
        // Quoted text's and comments' commas and parentheses are not the statement's.
        if let Some(len) = quoted_len(&text[at..], syntax).or_else(|| comment_len(&text[at..])) {
            at += len;
            continue;
        }
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                clauses.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
        at += c.len_utf8();
    }
    clauses.push(&text[start..]);
    clauses
}

/// The new name of an `ALTER TABLE`'s `RENAME [TO|AS] name` clause, if it has one (not
/// `RENAME COLUMN`, `RENAME INDEX`, `RENAME KEY`).
fn altered_name(text: &str, syntax: Syntax) -> Option<Name> {
    clauses(text, syntax).into_iter().find_map(|clause| {
        let (word, rest) = keyword(clause);
        if word != "RENAME" {
            return None;
        }
        match keyword(rest) {
            (word, _) if ["COLUMN", "INDEX", "KEY", "CONSTRAINT"].contains(&word.as_str()) => None,
            (word, after) if word == "TO" || word == "AS" => table_name(after),
            _ => table_name(rest),
        }
    })
}

/// The columns an `ALTER TABLE`'s clauses (`text`: after the table's name) rename, from and to:
/// `CHANGE [COLUMN] [IF EXISTS] old new ...` with another name (column names compare without
/// case) and `RENAME COLUMN [IF EXISTS] old TO new`; and those they drop (`DROP [COLUMN] [IF
/// EXISTS] name`).
fn column_changes(text: &str, syntax: Syntax) -> ColumnChanges {
    let mut changes = ColumnChanges::default();
    for clause in clauses(text, syntax) {
        let (word, rest) = keyword(clause);
        let rest = match word.as_str() {
            "CHANGE" => after_optional(rest, &["COLUMN"]),
            "RENAME" => match keyword(rest) {
                (column, rest) if column == "COLUMN" => rest,
                _ => continue,
            },
            "DROP" => match keyword(rest) {
                (column, rest) if column == "COLUMN" => rest,
                (other, _)
                    if [
                        "INDEX",
                        "KEY",
                        "PRIMARY",
                        "FOREIGN",
                        "CONSTRAINT",
                        "CHECK",
                        "PARTITION",
                        "SYSTEM",
                        "PERIOD",
                    ]
                    .contains(&other.as_str()) =>
                {
                    continue
                }
                _ => rest,
            },
            _ => continue,
        };
        let Some((from, rest)) = identifier(after_optional(rest, &["IF", "EXISTS"])) else {
            continue;
        };
        if word == "DROP" {
            changes.dropped.push(from);
            continue;
        }
        let rest = if word == "RENAME" {
            match keyword(rest) {
                (to, rest) if to == "TO" => rest,
                _ => continue,
            }
        } else {
            rest
        };
        if let Some((to, _)) = identifier(rest) {
            if !from.eq_ignore_ascii_case(&to) {
                changes.renamed.push((from, to));
            }
        }
    }
    changes
}

/// The clause of an `ALTER TABLE` (`text`: after the table's name) that adds or removes the
/// table's rows without row events, if it has one (see [`Statement::RowsWithoutEvents`]), with
/// the other tables whose rows it changes. Partition maintenance that keeps the rows (`ADD`,
/// `REORGANIZE`, `COALESCE`, `REBUILD`, `OPTIMIZE`, `ANALYZE`, `REPAIR`, `CHECK PARTITION`,
/// `REMOVE PARTITIONING`, `PARTITION BY`) is not such a clause.
fn rows_without_events(text: &str, syntax: Syntax) -> Option<(Vec<Name>, String)> {
    clauses(text, syntax).into_iter().find_map(|clause| {
        let (word, rest) = keyword(clause);
        let (second, after) = keyword(rest);
        let quoted = || skip_noise(clause).trim_end().to_string();
        match (word.as_str(), second.as_str()) {
            ("DROP" | "TRUNCATE", "PARTITION") => Some((Vec::new(), quoted())),
            // EXCHANGE PARTITION p WITH TABLE t: the two tables swap rows. MariaDB 10.7+:
            // CONVERT PARTITION p TO TABLE t (rows move out to a new table) and CONVERT TABLE t
            // TO PARTITION p ... (rows move in, t is gone).
            ("EXCHANGE" | "CONVERT", "PARTITION") => {
                let joining = if word == "EXCHANGE" { "WITH" } else { "TO" };
                let (_, rest) = identifier(after)?;
                let (joined, rest) = keyword(rest);
                let (table, rest) = keyword(rest);
                (joined == joining && table == "TABLE")
                    .then(|| table_name(rest))
                    .flatten()
                    .map(|other| (vec![other], quoted()))
            }
            ("CONVERT", "TABLE") => table_name(after).map(|other| (vec![other], quoted())),
            // The tablespace's file replaced (or taken away) under the table.
            ("DISCARD" | "IMPORT", "TABLESPACE" | "PARTITION") => Some((Vec::new(), quoted())),
            _ => None,
        }
    })
}

/// What `statement` means for the change stream, as the server read it (`syntax`) and ran it
/// (see [`executed`]).
pub(crate) fn classify(statement: &str, syntax: Syntax) -> Statement {
    let statement = executed(statement, syntax);
    let (first, rest) = keyword(&statement);
    match first.as_str() {
        "BEGIN" => Statement::Begin,
        "XA" => match keyword(rest).0.as_str() {
            "START" | "BEGIN" => Statement::Begin,
            _ => Statement::Other,
        },
        "COMMIT" | "ROLLBACK" => Statement::Commit,
        "TRUNCATE" => {
            let (second, after) = keyword(rest);
            let names = if second == "TABLE" { after } else { rest };
            match table_name(names) {
                Some(name) => Statement::Truncate(name),
                None => Statement::Other,
            }
        }
        "RENAME" => {
            let (second, after) = keyword(rest);
            match (
                second.as_str(),
                renames(after_optional(after, &["IF", "EXISTS"])),
            ) {
                ("TABLE" | "TABLES", Some(pairs)) => Statement::Rename(pairs),
                _ => Statement::Other,
            }
        }
        "ALTER" => {
            let rest = after_optional(rest, &["ONLINE"]);
            let rest = after_optional(rest, &["IGNORE"]);
            let (second, after) = keyword(rest);
            if second != "TABLE" {
                return Statement::Other;
            }
            let Some((altered, rest)) =
                table_name_and_rest(after_optional(after, &["IF", "EXISTS"]))
            else {
                return Statement::Other;
            };
            let rest = skip_wait(rest);
            if let Some((others, clause)) = rows_without_events(rest, syntax) {
                let mut tables = vec![altered];
                tables.extend(others);
                return Statement::RowsWithoutEvents(tables, clause);
            }
            match altered_name(rest, syntax) {
                Some(to) => Statement::Rename(vec![(altered, to)]),
                None => Statement::Alter(altered, column_changes(rest, syntax)),
            }
        }
        "DROP" => {
            let (second, after) = keyword(rest);
            if second != "TABLE" && second != "TABLES" {
                return Statement::Other;
            }
            let mut text = after_optional(after, &["IF", "EXISTS"]);
            let mut names = Vec::new();
            while let Some((name, rest)) = table_name_and_rest(text) {
                names.push(name);
                match skip_noise(rest).strip_prefix(',') {
                    Some(rest) => text = rest,
                    None => break,
                }
            }
            Statement::Drop(names)
        }
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" => Statement::Dml,
        "LOAD" if keyword(rest).0 == "DATA" => Statement::Dml,
        _ => Statement::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARIADB: Flavor = Flavor::MariaDb(10, 11);

    /// How a server of `flavor` read the statement of a QUERY event with `status_vars`.
    fn logged_with(status_vars: &[u8], flavor: Flavor) -> Syntax {
        Syntax::of(&QueryEvent::new(status_vars, &b"d"[..]), flavor)
    }

    /// `statement` classified as MariaDB ran it, without an sql_mode in the event (shadows
    /// [`super::classify`]).
    fn classify(statement: &str) -> Statement {
        super::classify(statement, logged_with(&[], MARIADB))
    }

    fn truncate(schema: Option<&str>, name: &str) -> Statement {
        Statement::Truncate((schema.map(str::to_string), name.to_string()))
    }

    #[test]
    fn two_phase_alter_phases_are_read_from_gtid_events() {
        // Bodies of GTID events as MariaDB 10.11 logged them (flags2 0x29: standalone, DDL).
        let start = [
            0x14, 0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0x02, 0, 0, 0, 0, 0,
        ];
        let rollback = [
            0x15, 0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0x08, 0x14, 0xab, 0, 0, 0, 0, 0, 0,
        ];
        let commit = [
            0x17, 0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0x04, 0x16, 0xab, 0, 0, 0, 0, 0, 0,
        ];
        let plain = [
            0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(alter_phase(&start), Some(AlterPhase::Start));
        assert_eq!(alter_phase(&rollback), Some(AlterPhase::Rollback));
        assert_eq!(alter_phase(&commit), Some(AlterPhase::Commit));
        assert_eq!(alter_phase(&plain), None);
        // A group commit id (flags2 & 2) comes before the extra flags.
        let mut grouped = vec![1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2b];
        grouped.extend([0x02; 8]);
        assert_eq!(alter_phase(&grouped), None);
        grouped.push(0x04);
        grouped.extend([0; 8]);
        assert_eq!(alter_phase(&grouped), Some(AlterPhase::Commit));
        // An XA transaction's XID (flags2 & 64) too.
        let mut xa = vec![1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 1, 0, 0, 0, 2, 1];
        xa.extend(b"ab2");
        assert_eq!(alter_phase(&xa), None);
        xa.push(0x08);
        assert_eq!(alter_phase(&xa), Some(AlterPhase::Rollback));
        assert_eq!(alter_phase(&start[..10]), None);
    }

    #[test]
    fn statements_are_classified() {
        assert_eq!(classify("BEGIN"), Statement::Begin);
        assert_eq!(classify("  /* app */ COMMIT"), Statement::Commit);
        assert_eq!(classify("XA START 'x'"), Statement::Begin);
        assert_eq!(classify("truncate t"), truncate(None, "t"));
        assert_eq!(
            classify("TRUNCATE TABLE `shop`.`order lines`"),
            truncate(Some("shop"), "order lines")
        );
        assert_eq!(classify("TRUNCATE TABLE `a``b` "), truncate(None, "a`b"));
        assert_eq!(classify("TRUNCATE \"s\" . \"T\""), truncate(Some("s"), "T"));
        assert_eq!(
            classify("TRUNCATE TABLE table_x"),
            truncate(None, "table_x")
        );
        assert_eq!(classify("-- c\nTRUNCATE Ünï"), truncate(None, "Ünï"));
        assert_eq!(classify("insert into t values (1)"), Statement::Dml);
        assert_eq!(
            classify("LOAD DATA INFILE 'x' INTO TABLE t"),
            Statement::Dml
        );
        assert_eq!(
            classify("ALTER TABLE t ADD COLUMN c INT AS (a * 2) STORED"),
            Statement::Alter(name(None, "t"), ColumnChanges::default())
        );
        assert_eq!(
            classify("alter online table `s`.`t` wait 2 modify c int as (a * 3)"),
            Statement::Alter(name(Some("s"), "t"), ColumnChanges::default())
        );
        assert_eq!(
            classify("ALTER DATABASE d CHARACTER SET utf8mb4"),
            Statement::Other
        );
        assert_eq!(
            classify("CREATE TABLE truncate_log (id INT)"),
            Statement::Other
        );
        assert_eq!(classify("TRUNCATE TABLE `unterminated"), Statement::Other);
    }

    fn name(schema: Option<&str>, name: &str) -> Name {
        (schema.map(str::to_string), name.to_string())
    }

    #[test]
    fn renames_and_drops_are_read() {
        let rename = |pairs: &[(Name, Name)]| Statement::Rename(pairs.to_vec());
        assert_eq!(
            classify("RENAME TABLE a TO a2"),
            rename(&[(name(None, "a"), name(None, "a2"))])
        );
        assert_eq!(
            classify("rename tables if exists `s`.`a b` wait 3 to s2.b, c nowait TO `d``e`"),
            rename(&[
                (name(Some("s"), "a b"), name(Some("s2"), "b")),
                (name(None, "c"), name(None, "d`e")),
            ])
        );
        assert_eq!(
            classify("ALTER TABLE a RENAME TO b"),
            rename(&[(name(None, "a"), name(None, "b"))])
        );
        assert_eq!(
            classify(
                "ALTER ONLINE IGNORE TABLE IF EXISTS s.a ADD c INT DEFAULT ',', RENAME AS s.b"
            ),
            rename(&[(name(Some("s"), "a"), name(Some("s"), "b"))])
        );
        assert_eq!(
            classify("ALTER TABLE a ADD CHECK (x IN (1, 2)), rename c"),
            rename(&[(name(None, "a"), name(None, "c"))])
        );
        let changed = |pairs: &[(&str, &str)], dropped: &[&str]| {
            let renamed = pairs.iter().map(|(f, t)| (f.to_string(), t.to_string()));
            let changes = ColumnChanges {
                renamed: renamed.collect(),
                dropped: dropped.iter().map(|d| d.to_string()).collect(),
            };
            Statement::Alter(name(None, "a"), changes)
        };
        for (other, columns, dropped) in [
            (
                "ALTER TABLE a RENAME COLUMN v TO w",
                &[("v", "w")][..],
                &[][..],
            ),
            ("ALTER TABLE a RENAME INDEX i TO j", &[], &[]),
            ("ALTER TABLE a ADD c INT COMMENT 'x, rename to y'", &[], &[]),
            (
                "ALTER TABLE a ADD c INT COMMENT \"it\"\", rename to y\"",
                &[],
                &[],
            ),
            (
                "ALTER TABLE a CHANGE v w INT, change column if exists `x y` `z` TEXT, \
                 CHANGE k K INT, MODIFY m INT, RENAME COLUMN n TO `o``p`, DROP COLUMN q, \
                 drop if exists r, DROP INDEX i, DROP PRIMARY KEY, DROP CONSTRAINT c",
                &[("v", "w"), ("x y", "z"), ("n", "o`p")],
                &["q", "r"],
            ),
            // A comment's quote or comma does not end or split a clause.
            (
                "ALTER TABLE a ADD x INT /* don't, */, CHANGE v w INT -- it's\n, \
                 # a 'b\n CHANGE y z INT",
                &[("v", "w"), ("y", "z")],
                &[],
            ),
        ] {
            assert_eq!(classify(other), changed(columns, dropped), "{other}");
        }
        for other in ["ALTER DATABASE d RENAME TO e", "RENAME USER u TO v"] {
            assert_eq!(classify(other), Statement::Other, "{other}");
        }
        assert_eq!(
            classify("DROP TABLE IF EXISTS `a`, s.b /* generated by server */"),
            Statement::Drop(vec![name(None, "a"), name(Some("s"), "b")])
        );
        assert_eq!(classify("DROP TEMPORARY TABLE a"), Statement::Other);
        assert_eq!(classify("DROP VIEW a"), Statement::Other);
    }

    #[test]
    fn partition_clauses_that_change_rows_are_read() {
        let rows = |tables: &[Name], clause: &str| {
            Statement::RowsWithoutEvents(tables.to_vec(), clause.to_string())
        };
        assert_eq!(
            classify("ALTER TABLE ev DROP PARTITION p2022"),
            rows(&[name(None, "ev")], "DROP PARTITION p2022")
        );
        assert_eq!(
            classify("alter table `s`.`ev` truncate partition p1, p2"),
            rows(&[name(Some("s"), "ev")], "truncate partition p1")
        );
        assert_eq!(
            classify("ALTER TABLE IF EXISTS ev DROP PARTITION IF EXISTS p1"),
            rows(&[name(None, "ev")], "DROP PARTITION IF EXISTS p1")
        );
        assert_eq!(
            classify(
                "ALTER TABLE ev EXCHANGE PARTITION p1 WITH TABLE s2.`old ev` WITHOUT VALIDATION"
            ),
            rows(
                &[name(None, "ev"), name(Some("s2"), "old ev")],
                "EXCHANGE PARTITION p1 WITH TABLE s2.`old ev` WITHOUT VALIDATION"
            )
        );
        assert_eq!(
            classify("ALTER TABLE ev CONVERT PARTITION p1 TO TABLE ev_2021"),
            rows(
                &[name(None, "ev"), name(None, "ev_2021")],
                "CONVERT PARTITION p1 TO TABLE ev_2021"
            )
        );
        assert_eq!(
            classify(
                "ALTER TABLE ev CONVERT TABLE ev_2021 TO PARTITION p1 VALUES LESS THAN (2022)"
            ),
            rows(
                &[name(None, "ev"), name(None, "ev_2021")],
                "CONVERT TABLE ev_2021 TO PARTITION p1 VALUES LESS THAN (2022)"
            )
        );
        assert_eq!(
            classify("ALTER TABLE t IMPORT TABLESPACE"),
            rows(&[name(None, "t")], "IMPORT TABLESPACE")
        );
        for kept in [
            "ALTER TABLE ev REORGANIZE PARTITION p1, p2 INTO (PARTITION p12 VALUES LESS THAN (2023))",
            "ALTER TABLE ev COALESCE PARTITION 2",
            "ALTER TABLE ev REBUILD PARTITION p1",
            "ALTER TABLE ev ADD PARTITION (PARTITION p9 VALUES LESS THAN MAXVALUE)",
            "ALTER TABLE ev REMOVE PARTITIONING",
            "ALTER TABLE ev PARTITION BY HASH (id) PARTITIONS 4",
            "ALTER TABLE ev DROP COLUMN partition_note",
            "ALTER TABLE ev ADD c INT COMMENT 'x, drop partition p1'",
        ] {
            assert!(
                matches!(classify(kept), Statement::Alter(n, _) if n == name(None, "ev")),
                "{kept}"
            );
        }
    }

    #[test]
    fn executable_comments_are_read_as_the_server_ran_them() {
        let renamed = |from: &str, to: &str| {
            let changes = ColumnChanges {
                renamed: vec![(from.to_string(), to.to_string())],
                dropped: Vec::new(),
            };
            Statement::Alter(name(None, "t"), changes)
        };
        let unchanged = Statement::Alter(name(None, "t"), ColumnChanges::default());
        for (statement, read) in [
            (
                "ALTER TABLE t /*!50100 CHANGE a b INT */",
                renamed("a", "b"),
            ),
            ("ALTER TABLE t/*!CHANGE a b INT*/", renamed("a", "b")),
            (
                "ALTER TABLE t /*!100500 CHANGE a b INT */",
                renamed("a", "b"),
            ),
            (
                "ALTER TABLE t /*M!100500 CHANGE a b INT */",
                renamed("a", "b"),
            ),
            ("ALTER TABLE t /*M! CHANGE a b INT */", renamed("a", "b")),
            (
                "/*!50100 ALTER TABLE t ADD x INT /*!50100 , CHANGE a b INT */",
                renamed("a", "b"),
            ),
            // Versioned comments the server did not run, as MariaDB 10.11 logged them.
            (
                "ALTER TABLE t /* 80000 CHANGE a b INT */ ADD COLUMN x INT",
                unchanged.clone(),
            ),
            (
                "ALTER TABLE t /*M 999999 CHANGE a b INT */ ADD COLUMN x INT",
                unchanged.clone(),
            ),
            (
                "ALTER TABLE t /* 99999 ADD (* c *) COLUMN x INT */ CHANGE a b INT",
                renamed("a", "b"),
            ),
            // Noise inside: a comment's `*/` closes the comment only; the server runs a line
            // comment to the line's end, over a `*/`.
            (
                "ALTER TABLE t /*!50100 ADD /* c, */ x INT, CHANGE a b INT */",
                renamed("a", "b"),
            ),
            (
                "ALTER TABLE t ADD x INT /*!50100 -- c */\n, CHANGE a b INT */",
                renamed("a", "b"),
            ),
            (
                "ALTER TABLE t /*!50100 ADD x INT # c, */\n*/, CHANGE a b INT",
                renamed("a", "b"),
            ),
            // Quoted, a `*/` ends nothing.
            (
                "ALTER TABLE t /*!50100 ADD `x*/` INT, CHANGE a b INT COMMENT 'it\\'s */,' */",
                renamed("a", "b"),
            ),
            (
                "ALTER TABLE t /*!50100 ADD \"x*/,\" INT */, CHANGE a b INT",
                renamed("a", "b"),
            ),
            (
                "ALTER TABLE t ADD `x\\` INT, CHANGE a b INT",
                renamed("a", "b"),
            ),
            // Outside an executable comment, `*/` is the statement's.
            ("ALTER TABLE t ADD x INT AS (a */*c*/ 2)", unchanged.clone()),
            // Not closed (the server refuses it): the rest is a comment, or quoted.
            ("ALTER TABLE t /* CHANGE a b INT", unchanged.clone()),
            (
                "ALTER TABLE t /*!50100 ADD x INT COMMENT '*/, CHANGE a b INT",
                unchanged,
            ),
        ] {
            assert_eq!(classify(statement), read, "{statement}");
        }
        assert_eq!(classify("TRUNCATE /* t"), Statement::Other);
        // MySQL does not run MariaDB's.
        assert_eq!(
            super::classify(
                "ALTER TABLE t /*M!100500 CHANGE a b INT */",
                logged_with(&[], Flavor::Mysql(8, 0))
            ),
            Statement::Alter(name(None, "t"), ColumnChanges::default())
        );
        assert_eq!(
            classify("/*!50100 RENAME TABLE a TO a2 */"),
            Statement::Rename(vec![(name(None, "a"), name(None, "a2"))])
        );
        assert_eq!(
            classify("/*!40000 ALTER TABLE t DISABLE KEYS */"),
            Statement::Alter(name(None, "t"), ColumnChanges::default())
        );
        assert_eq!(
            classify("/*!40101 TRUNCATE TABLE t */"),
            truncate(None, "t")
        );
        assert_eq!(
            classify("/*M!100500 DROP TABLE IF EXISTS a, b */"),
            Statement::Drop(vec![name(None, "a"), name(None, "b")])
        );
        assert_eq!(
            classify("ALTER TABLE ev /*!50100 DROP PARTITION p1 */"),
            Statement::RowsWithoutEvents(vec![name(None, "ev")], "DROP PARTITION p1".into())
        );
        assert_eq!(classify("/*!50100 BEGIN */"), Statement::Begin);
    }

    #[test]
    fn statements_are_read_under_their_sql_mode() {
        // Status variables as the server logs them: Q_FLAGS2_CODE (0) and its 4 bytes, then
        // Q_SQL_MODE_CODE (1) and its 8 (little-endian), here MariaDB's default sql_mode and
        // `extra`.
        let logged = |extra: SqlMode| {
            let mode = SqlMode::MODE_STRICT_TRANS_TABLES
                | SqlMode::MODE_ERROR_FOR_DIVISION_BY_ZERO
                | SqlMode::MODE_NO_AUTO_CREATE_USER
                | SqlMode::MODE_NO_ENGINE_SUBSTITUTION
                | extra;
            let mut vars = vec![0, 0, 0, 0, 0, 1];
            vars.extend(mode.bits().to_le_bytes());
            logged_with(&vars, MARIADB)
        };
        let default = logged(SqlMode::empty());
        let no_escapes = logged(SqlMode::MODE_NO_BACKSLASH_ESCAPES);
        let ansi_quotes = logged(SqlMode::MODE_ANSI_QUOTES);
        let both = logged(SqlMode::MODE_NO_BACKSLASH_ESCAPES | SqlMode::MODE_ANSI_QUOTES);
        assert_eq!(default, logged_with(&[], MARIADB));
        assert!(no_escapes.no_backslash_escapes && !no_escapes.ansi_quotes);
        assert!(ansi_quotes.ansi_quotes && !ansi_quotes.no_backslash_escapes);

        let renamed = Statement::Alter(
            name(None, "t"),
            ColumnChanges {
                renamed: vec![("a".into(), "b".into())],
                dropped: Vec::new(),
            },
        );
        let unchanged = Statement::Alter(name(None, "t"), ColumnChanges::default());
        for (statement, syntax, read) in [
            // Under NO_BACKSLASH_ESCAPES, a backslash before a quote does not escape it.
            (
                r"ALTER TABLE t MODIFY c INT COMMENT 'dir\', CHANGE a b INT",
                no_escapes,
                &renamed,
            ),
            (
                r#"ALTER TABLE t MODIFY c INT COMMENT "dir\", CHANGE a b INT"#,
                no_escapes,
                &renamed,
            ),
            (
                r"ALTER TABLE t MODIFY c INT COMMENT 'it''s, \', CHANGE a b INT",
                no_escapes,
                &renamed,
            ),
            (
                r"ALTER TABLE t /*!50100 MODIFY c INT COMMENT 'dir\' */, CHANGE a b INT",
                no_escapes,
                &renamed,
            ),
            // Otherwise it does (the string runs on), in '...' under ANSI_QUOTES too.
            (
                r"ALTER TABLE t MODIFY c INT COMMENT 'dir\', CHANGE a b INT",
                default,
                &unchanged,
            ),
            (
                r"ALTER TABLE t /*!50100 MODIFY c INT COMMENT 'dir\' */, CHANGE a b INT",
                default,
                &unchanged,
            ),
            (
                r"ALTER TABLE t MODIFY c INT COMMENT 'it\'s, ', CHANGE a b INT",
                default,
                &renamed,
            ),
            (
                r"ALTER TABLE t MODIFY c INT COMMENT 'it\'s, CHANGE a b INT'",
                ansi_quotes,
                &unchanged,
            ),
            // Under ANSI_QUOTES, "..." is an identifier, where a backslash escapes nothing.
            (
                r#"ALTER TABLE t ADD INDEX "i\" (n), CHANGE "a" "b" INT"#,
                ansi_quotes,
                &renamed,
            ),
            (
                r#"ALTER TABLE t ADD KEY "i\" (n), MODIFY c INT COMMENT 'd\', CHANGE "a" "b" INT"#,
                both,
                &renamed,
            ),
        ] {
            assert_eq!(&super::classify(statement, syntax), read, "{statement}");
        }
        assert_eq!(
            super::classify(r"ALTER TABLE t COMMENT 'dir\', RENAME TO u", no_escapes),
            Statement::Rename(vec![(name(None, "t"), name(None, "u"))])
        );
    }
}
