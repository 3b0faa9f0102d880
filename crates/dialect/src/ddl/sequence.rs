//! Sequence options, read alike for CREATE SEQUENCE and for an identity column's sequence
//! (parenthesised, or bare as DBMS_METADATA writes them: `AS IDENTITY MINVALUE 1 ... NOSCALE`).

use crate::cursor::{Cursor, ParseError};
use migrate_core::QualifiedName;
use sqlparser::tokenizer::Token;

/// Options that say which values a sequence gives; the others (CACHE, ORDER, KEEP, SCALE...)
/// are read and have no effect here.
pub(super) struct SequenceOptions {
    start: Option<i128>,
    pub increment: i64,
    min_value: Option<i128>,
    max_value: Option<i128>,
    /// The range of PostgreSQL's `AS smallint|integer`: its end is the bound the sequence
    /// stops at when no MAXVALUE (MINVALUE counting down) is given.
    type_range: Option<(i128, i128)>,
    pub cycle: bool,
    /// PostgreSQL identity's `SEQUENCE NAME s`.
    pub name: Option<QualifiedName>,
}

impl Default for SequenceOptions {
    fn default() -> Self {
        SequenceOptions {
            start: None,
            increment: 1,
            min_value: None,
            max_value: None,
            type_range: None,
            cycle: false,
            name: None,
        }
    }
}

/// Options of one word, or two, without a value (Oracle, and PostgreSQL's `NO ...` defaults).
const FLAG_OPTIONS: &[&[&str]] = &[
    &["NO", "MINVALUE"],
    &["NO", "MAXVALUE"],
    &["NOMINVALUE"],
    &["NOMAXVALUE"],
    &["NOCACHE"],
    &["ORDER"],
    &["NOORDER"],
    &["KEEP"],
    &["NOKEEP"],
    &["NOSCALE"],
    &["NOSHARD"],
    &["EXTEND"],
    &["NOEXTEND"],
    &["SESSION"],
    &["GLOBAL"],
    &["LOGGED"],
    &["UNLOGGED"],
];

impl SequenceOptions {
    /// Reads the option at the cursor; false, consuming nothing, when there is none.
    pub fn read_option(&mut self, cursor: &mut Cursor) -> Result<bool, ParseError> {
        if cursor.eat_kws(&["SEQUENCE", "NAME"]) {
            self.name = Some(cursor.qualified_name()?);
        } else if cursor.eat_kw("START") {
            // MariaDB also writes `START = n`, `INCREMENT = n`, `MINVALUE = n`...
            let _ = cursor.eat_kw("WITH") || cursor.eat(&Token::Eq);
            // Oracle's `START WITH LIMIT VALUE` (ALTER TABLE) continues after the column's values.
            if !cursor.eat_kws(&["LIMIT", "VALUE"]) {
                self.start = Some(big_number(cursor)?);
            }
        } else if cursor.eat_kw("INCREMENT") {
            let _ = cursor.eat_kw("BY") || cursor.eat(&Token::Eq);
            self.increment = cursor.number()?;
        } else if cursor.eat_kw("MINVALUE") {
            cursor.eat(&Token::Eq);
            self.min_value = Some(big_number(cursor)?);
        } else if cursor.eat_kw("MAXVALUE") {
            cursor.eat(&Token::Eq);
            self.max_value = Some(big_number(cursor)?);
        } else if cursor.eat_kw("CYCLE") {
            self.cycle = true;
        } else if cursor.eat_kw("NOCYCLE") || cursor.eat_kws(&["NO", "CYCLE"]) {
            self.cycle = false;
        } else if cursor.eat_kw("CACHE") {
            cursor.eat(&Token::Eq);
            cursor.advance();
        } else if cursor.eat_kw("AS") {
            // PostgreSQL's integer type of the sequence; BIGINT bounds nothing the target's
            // BIGINT sequence does not.
            self.type_range = match cursor.advance() {
                Token::Word(word) => match word.value.to_ascii_lowercase().as_str() {
                    "smallint" | "int2" => Some((i16::MIN.into(), i16::MAX.into())),
                    "integer" | "int" | "int4" => Some((i32::MIN.into(), i32::MAX.into())),
                    _ => None,
                },
                _ => None,
            };
        } else if cursor.eat_kws(&["OWNED", "BY"]) {
            cursor.qualified_name()?;
        } else if cursor.eat_kw("SCALE") || cursor.eat_kw("SHARD") {
            let _ = cursor.eat_kw("EXTEND") || cursor.eat_kw("NOEXTEND");
        } else if !FLAG_OPTIONS.iter().any(|words| cursor.eat_kws(words)) {
            return Ok(false);
        }
        Ok(true)
    }

    /// MINVALUE as given, else the end of the type counting down.
    pub fn min_value(&self) -> Option<i128> {
        let type_min = self.type_range.filter(|_| self.increment < 0);
        self.min_value.or(type_min.map(|(min, _)| min))
    }

    /// MAXVALUE as given, else the end of the type counting up.
    pub fn max_value(&self) -> Option<i128> {
        let type_max = self.type_range.filter(|_| self.increment > 0);
        self.max_value.or(type_max.map(|(_, max)| max))
    }

    /// The first value: as given, else a descending sequence starts at its maximum and an
    /// ascending one at its minimum (Oracle and PostgreSQL).
    pub fn start(&self, cursor: &Cursor) -> Result<i64, ParseError> {
        let start = self.start.unwrap_or(if self.increment < 0 {
            self.max_value.unwrap_or(-1)
        } else {
            self.min_value.unwrap_or(1)
        });
        i64::try_from(start).map_err(|_| {
            cursor.error(
                "the sequence start is beyond 64-bit integers",
                "start the sequence at a smaller value",
            )
        })
    }
}

/// Sequence bounds may exceed 64 bits (Oracle's default MAXVALUE has 28 digits).
fn big_number(cursor: &mut Cursor) -> Result<i128, ParseError> {
    let negative = cursor.eat(&Token::Minus);
    match cursor.peek().clone() {
        Token::Number(text, _) => {
            let value: i128 = text
                .parse()
                .map_err(|_| cursor.error("expected an integer", "use a whole number"))?;
            cursor.advance();
            Ok(if negative { -value } else { value })
        }
        _ => Err(cursor.error("expected a number", "check the sequence options")),
    }
}
