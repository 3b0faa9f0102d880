//! What a QUERY event's statement means for the change stream. In ROW format, row changes come
//! as row events; QUERY events carry transaction control (`BEGIN`, `COMMIT`), DDL, and, when a
//! session switched to statement logging, DML that this stream can't decode.

/// The kind of a QUERY event's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Statement {
    /// `BEGIN` (or `XA START`): the transaction's rows follow.
    Begin,
    /// `COMMIT` (non-transactional tables) or `ROLLBACK` (logged only when non-transactional
    /// changes, which stay, were made): the end of the event group.
    Commit,
    /// `TRUNCATE [TABLE] [schema.]name`: (schema if written, name).
    Truncate(Option<String>, String),
    /// INSERT/UPDATE/DELETE/REPLACE/LOAD DATA logged as a statement (a session with
    /// `binlog_format=STATEMENT`): its rows are not in the binlog as rows.
    Dml,
    /// Anything else (DDL, ...).
    Other,
}

/// The statement without leading blanks and comments (`/* ... */`, `-- ...`, `# ...`).
fn skip_noise(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("/*") {
            match rest.find("*/") {
                Some(end) => text = &rest[end + 2..],
                None => return "",
            }
        } else if text.starts_with("-- ") || text.starts_with('#') {
            match text.find('\n') {
                Some(end) => text = &text[end + 1..],
                None => return "",
            }
        } else {
            return text;
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

/// `name` or `schema.name`.
fn table_name(text: &str) -> Option<(Option<String>, String)> {
    let (first, rest) = identifier(text)?;
    match skip_noise(rest).strip_prefix('.') {
        Some(rest) => {
            let (second, _) = identifier(rest)?;
            Some((Some(first), second))
        }
        None => Some((None, first)),
    }
}

pub(crate) fn classify(statement: &str) -> Statement {
    let (first, rest) = keyword(statement);
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
                Some((schema, name)) => Statement::Truncate(schema, name),
                None => Statement::Other,
            }
        }
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" => Statement::Dml,
        "LOAD" if keyword(rest).0 == "DATA" => Statement::Dml,
        _ => Statement::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truncate(schema: Option<&str>, name: &str) -> Statement {
        Statement::Truncate(schema.map(str::to_string), name.to_string())
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
        assert_eq!(classify("ALTER TABLE t ADD COLUMN c INT"), Statement::Other);
        assert_eq!(
            classify("CREATE TABLE truncate_log (id INT)"),
            Statement::Other
        );
        assert_eq!(classify("TRUNCATE TABLE `unterminated"), Statement::Other);
    }
}
