//! The grammar of a column type as written in each dialect, producing a [`TypeRef`] for the
//! mapping files: multi-word names (`DOUBLE PRECISION`, `TIMESTAMP(6) WITH LOCAL TIME ZONE`,
//! `INTERVAL DAY(3) TO SECOND(2)`), Oracle `*` precision and `BYTE`/`CHAR` lengths, MySQL
//! `UNSIGNED`/`ZEROFILL` and `ENUM(...)` labels, Hive `ARRAY<STRUCT<...>>` nesting and PostgreSQL
//! arrays.

use crate::cursor::{Cursor, ParseError, TokenRange};
use crate::script::RawStatement;
use crate::typemap::TypeRef;
use migrate_core::{LengthUnit, SourceDialect};
use sqlparser::tokenizer::{Token, Word};
use std::sync::Arc;

/// Words that may follow `first` inside one type name.
fn continues(first: &str, next: &str) -> bool {
    matches!(
        (first, next),
        ("DOUBLE", "PRECISION")
            | (
                "CHARACTER" | "CHAR" | "NCHAR" | "NATIONAL" | "BIT",
                "VARYING"
            )
            | ("NATIONAL", "CHARACTER" | "CHAR" | "VARCHAR")
            | ("NCHAR", "VARCHAR")
            | ("CHARACTER" | "CHAR" | "BINARY", "LARGE")
            | ("LARGE", "OBJECT")
            | ("LONG", "RAW" | "VARCHAR" | "VARBINARY")
            | ("WITH", "TIME" | "LOCAL")
            | ("WITHOUT", "TIME")
            | ("LOCAL", "TIME")
            | ("TIME", "ZONE")
    )
}

/// System schemas whose prefix is dropped from type names (`SYS.XMLTYPE` is `XMLTYPE`).
const SYSTEM_SCHEMAS: &[&str] = &["SYS", "PUBLIC", "PG_CATALOG", "MDSYS", "ORDSYS"];

/// One word of a type name, upper case. PostgreSQL's quoted `"char"` is a type of its own (one
/// byte), not `char` (`character(1)`): it keeps its quotes, `"CHAR"`.
fn name_word(word: &Word, dialect: SourceDialect) -> String {
    if dialect == SourceDialect::Postgres && word.quote_style == Some('"') && word.value == "char" {
        return "\"CHAR\"".to_string();
    }
    word.value.to_ascii_uppercase()
}

/// Parses a type at the cursor.
pub(crate) fn parse_type(
    cursor: &mut Cursor,
    dialect: SourceDialect,
) -> Result<TypeRef, ParseError> {
    let mut pending_gt = 0;
    let ty = parse_nested(cursor, dialect, &mut pending_gt)?;
    if pending_gt > 0 {
        return Err(cursor.error(
            "unbalanced `>` in the type",
            "check the nested type's brackets",
        ));
    }
    Ok(ty)
}

fn parse_nested(
    cursor: &mut Cursor,
    dialect: SourceDialect,
    pending_gt: &mut usize,
) -> Result<TypeRef, ParseError> {
    let start = cursor.position();
    let first = match cursor.peek() {
        Token::Word(w) => name_word(w, dialect),
        _ => return Err(cursor.error("expected a type name", "write the column's data type")),
    };
    cursor.advance();
    let mut ty = TypeRef::default();
    let mut name = first.clone();
    // Qualified names: `sys.xmltype`, `public.my_domain`.
    while cursor.is(&Token::Period) {
        cursor.advance();
        let part = match cursor.advance() {
            Token::Word(w) => name_word(&w, dialect),
            _ => return Err(cursor.error("expected a type name after `.`", "check the type name")),
        };
        name = if SYSTEM_SCHEMAS.contains(&name.as_str()) {
            part
        } else {
            format!("{name}.{part}")
        };
    }

    match name.as_str() {
        "ARRAY" | "MAP" | "STRUCT" | "UNIONTYPE" if cursor.is(&Token::Lt) => {
            cursor.advance();
            loop {
                let field = if name == "STRUCT" {
                    let field_name = cursor.ident()?.value;
                    cursor.expect(&Token::Colon)?;
                    Some(field_name)
                } else {
                    None
                };
                let child = parse_nested(cursor, dialect, pending_gt)?;
                if name == "STRUCT" && cursor.eat_kw("COMMENT") {
                    cursor.string()?;
                }
                ty.children.push((field, child));
                if *pending_gt > 0 || !cursor.eat(&Token::Comma) {
                    break;
                }
            }
            close_angle(cursor, pending_gt)?;
        }
        _ => {
            let mut last = name.clone();
            loop {
                if cursor.is(&Token::LParen) && !matches!(last.as_str(), "WITH" | "WITHOUT") {
                    parse_args(cursor, &mut ty)?;
                }
                let Some(next) = cursor.word_at(0) else { break };
                let joins = continues(&last, &next)
                    || (matches!(first.as_str(), "TIMESTAMP" | "TIME")
                        && matches!(next.as_str(), "WITH" | "WITHOUT")
                        && matches!(cursor.word_at(1).as_deref(), Some("TIME" | "LOCAL")))
                    || (first == "INTERVAL" && is_interval_word(&last, &next));
                if !joins {
                    break;
                }
                cursor.advance();
                name.push(' ');
                name.push_str(&next);
                last = next;
            }
        }
    }

    // MySQL numeric attributes.
    loop {
        if cursor.eat_kw("UNSIGNED") {
            ty.unsigned = true;
        } else if cursor.eat_kw("ZEROFILL") {
            ty.zerofill = true;
        } else if !cursor.eat_kw("SIGNED") {
            break;
        }
    }
    // PostgreSQL arrays: `int[]`, `int[3][3]`, `int ARRAY`, `int ARRAY[4]`.
    if dialect == SourceDialect::Postgres {
        loop {
            if cursor.is(&Token::LBracket) {
                cursor.advance();
                if !cursor.eat(&Token::RBracket) {
                    cursor.number()?;
                    cursor.expect(&Token::RBracket)?;
                }
                ty.array_dims += 1;
            } else if cursor.is_kw("ARRAY") {
                cursor.advance();
                ty.array_dims += 1;
                if cursor.is(&Token::LBracket) {
                    cursor.advance();
                    cursor.number()?;
                    cursor.expect(&Token::RBracket)?;
                }
            } else {
                break;
            }
        }
    }
    ty.name = name;
    ty.text = cursor.text(TokenRange {
        start,
        end: cursor.position(),
    });
    if *pending_gt > 0 {
        // The text of the innermost type swallowed part of a `>>` token.
        ty.text = ty.text.trim_end_matches('>').to_string();
    }
    Ok(ty)
}

fn is_interval_word(last: &str, next: &str) -> bool {
    matches!(
        (last, next),
        (
            "INTERVAL",
            "YEAR" | "MONTH" | "DAY" | "HOUR" | "MINUTE" | "SECOND"
        ) | ("YEAR" | "DAY" | "HOUR" | "MINUTE", "TO")
            | ("TO", "MONTH" | "HOUR" | "MINUTE" | "SECOND")
    )
}

/// Consumes one `>`, splitting `>>` tokens as nested types close.
fn close_angle(cursor: &mut Cursor, pending_gt: &mut usize) -> Result<(), ParseError> {
    if *pending_gt > 0 {
        *pending_gt -= 1;
        return Ok(());
    }
    match cursor.peek() {
        Token::Gt => {
            cursor.advance();
            Ok(())
        }
        Token::ShiftRight => {
            cursor.advance();
            *pending_gt += 1;
            Ok(())
        }
        _ => Err(cursor.error(
            "expected `>` to close the nested type",
            "check the type's brackets",
        )),
    }
}

/// `(10)`, `(10, 2)`, `(*, 2)`, `(20 CHAR)`, `('a', 'b')` (labels), `(max)`.
fn parse_args(cursor: &mut Cursor, ty: &mut TypeRef) -> Result<(), ParseError> {
    cursor.expect(&Token::LParen)?;
    loop {
        match cursor.peek().clone() {
            Token::Mul => {
                cursor.advance();
                ty.args.push(None);
            }
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => {
                ty.labels.push(cursor.string()?);
            }
            Token::Word(w) if w.value.eq_ignore_ascii_case("MAX") => {
                return Err(cursor.error(
                    "`MAX` length is not a portable type argument",
                    "write the length as a number",
                ));
            }
            _ => ty.args.push(Some(cursor.number()?)),
        }
        if cursor.eat_kw("BYTE") {
            ty.unit = Some(LengthUnit::Byte);
        } else if cursor.eat_kw("CHAR") || cursor.eat_kw("CHARACTERS") {
            ty.unit = Some(LengthUnit::Char);
        }
        if !cursor.eat(&Token::Comma) {
            break;
        }
    }
    cursor.expect(&Token::RParen)
}

/// Parses a type written on its own (`NUMBER(5,-2)`, `array<struct<a:int>>`), e.g. for tests,
/// statistics files and live catalogs that report types as text.
pub fn parse_type_text(dialect: SourceDialect, text: &str) -> Result<TypeRef, ParseError> {
    let statement = RawStatement {
        text: text.to_string(),
        line: 1,
        column: 1,
        unterminated: None,
        substitutions: Vec::new(),
        inline_data: false,
    };
    let file: Arc<str> = Arc::from("<type>");
    let mut cursor = Cursor::new(&statement, dialect, &file)?;
    let ty = parse_type(&mut cursor, dialect)?;
    if !cursor.at_end() {
        return Err(cursor.error("unexpected text after the type", "write only a type"));
    }
    Ok(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(dialect: SourceDialect, text: &str) -> TypeRef {
        parse_type_text(dialect, text).unwrap()
    }

    #[test]
    fn multi_word_names_and_arguments() {
        let ty = parse(SourceDialect::Oracle, "TIMESTAMP(6) WITH LOCAL TIME ZONE");
        assert_eq!(ty.name, "TIMESTAMP WITH LOCAL TIME ZONE");
        assert_eq!(ty.args, vec![Some(6)]);
        let ty = parse(SourceDialect::Oracle, "INTERVAL DAY(3) TO SECOND(2)");
        assert_eq!(ty.name, "INTERVAL DAY TO SECOND");
        assert_eq!(ty.args, vec![Some(3), Some(2)]);
        let ty = parse(SourceDialect::Oracle, "NUMBER(*,-2)");
        assert_eq!(ty.args, vec![None, Some(-2)]);
        let ty = parse(SourceDialect::Oracle, "varchar2(20 char)");
        assert_eq!(
            (ty.name.as_str(), ty.unit),
            ("VARCHAR2", Some(LengthUnit::Char))
        );
        let ty = parse(SourceDialect::Postgres, "double precision");
        assert_eq!(ty.name, "DOUBLE PRECISION");
        let ty = parse(SourceDialect::Oracle, "sys.xmltype");
        assert_eq!(ty.name, "XMLTYPE");
    }

    #[test]
    fn postgres_quoted_char_is_a_type_of_its_own() {
        for text in ["\"char\"", "pg_catalog.\"char\""] {
            let ty = parse(SourceDialect::Postgres, text);
            assert_eq!((ty.name.as_str(), ty.text.as_str()), ("\"CHAR\"", text));
        }
        for text in ["char", "CHAR(3)", "character"] {
            let ty = parse(SourceDialect::Postgres, text);
            assert!(["CHAR", "CHARACTER"].contains(&ty.name.as_str()), "{text}");
        }
        assert_eq!(parse(SourceDialect::Oracle, "\"char\"").name, "CHAR");
    }

    #[test]
    fn mysql_attributes_and_labels() {
        let ty = parse(SourceDialect::Mysql, "bigint(20) unsigned zerofill");
        assert!(ty.unsigned && ty.zerofill);
        let ty = parse(SourceDialect::Mysql, "enum('G','PG','NC-17')");
        assert_eq!(ty.labels, vec!["G", "PG", "NC-17"]);
    }

    #[test]
    fn nested_hive_types() {
        let ty = parse(
            SourceDialect::Hive,
            "array<map<string,struct<a:int,b:array<double>>>>",
        );
        assert_eq!(ty.name, "ARRAY");
        let map = &ty.children[0].1;
        assert_eq!(map.name, "MAP");
        let st = &map.children[1].1;
        assert_eq!(st.children[0].0.as_deref(), Some("a"));
        assert_eq!(st.children[1].1.children[0].1.name, "DOUBLE");
        assert!(parse_type_text(SourceDialect::Hive, "array<int").is_err());
        assert!(parse_type_text(SourceDialect::Hive, "map<int,int>>").is_err());
    }

    #[test]
    fn postgres_arrays() {
        let ty = parse(SourceDialect::Postgres, "integer[][]");
        assert_eq!(ty.array_dims, 2);
        let ty = parse(SourceDialect::Postgres, "text ARRAY");
        assert_eq!(ty.array_dims, 1);
    }
}
