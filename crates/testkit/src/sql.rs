//! The error a SQL client reports, taken apart so a failing test says which statement failed and why.

use std::fmt;

/// A SQL script or statement that failed (or a client that could not run or connect).
#[derive(Debug, Clone)]
pub struct SqlError {
    /// The client that ran it: `psql` or `mariadb`.
    pub client: String,
    /// The database it ran in.
    pub database: String,
    /// Where the SQL came from: `<sql>` for text, else the file's path.
    pub input: String,
    /// Line of the input the client reported the error at (1-based). psql reports the line where the
    /// failing statement *ends*, mariadb the line where it *starts*. `None` for connection errors.
    pub line: Option<usize>,
    /// The failing statement, as the client echoed it.
    pub statement: Option<String>,
    /// The error: the server's message with its `LINE`/`DETAIL`/`HINT` lines, or the client's own.
    pub message: String,
    /// The client's exit code (`None` if it could not be run or was killed).
    pub exit_code: Option<i32>,
    /// Everything the client wrote on stderr.
    pub stderr: String,
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed in database `{}` ({}",
            self.client, self.database, self.input
        )?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        write!(f, "): {}", self.message.trim_end())?;
        if let Some(stmt) = &self.statement {
            write!(
                f,
                "\n  failing statement:\n    {}",
                stmt.trim().replace('\n', "\n    ")
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for SqlError {}

/// The parts of a client's stderr: (line, statement, message).
pub(crate) type Parsed = (Option<usize>, Option<String>, String);

/// psql with `-b` (`--echo-errors`) and `ON_ERROR_STOP` writes
///
/// ```text
/// psql:<stdin>:8: ERROR:  relation "nope" does not exist
/// LINE 2:  from nope
///               ^
/// psql:<stdin>:8: STATEMENT:  select *
///  from nope;
/// ```
///
/// Connection failures have no location: `psql: error: connection to server ... failed: ...`.
pub(crate) fn parse_psql(stderr: &str) -> Parsed {
    const LEVELS: [&str; 3] = [": ERROR:  ", ": FATAL:  ", ": PANIC:  "];
    let lines: Vec<&str> = stderr.lines().collect();
    let located = lines.iter().enumerate().find_map(|(i, l)| {
        let rest = l.strip_prefix("psql:")?;
        let pos = LEVELS.iter().find_map(|lvl| rest.find(lvl))?;
        Some((i, &rest[..pos], &rest[pos + 2..]))
    });
    let Some((i, location, first)) = located else {
        return (None, None, stderr.trim().to_string());
    };
    let line = location
        .rsplit_once(':')
        .and_then(|(_, n)| n.trim().parse().ok());
    // The message continues until psql's next own line (STATEMENT, or a later notice).
    let mut message = vec![first.to_string()];
    let mut j = i + 1;
    while j < lines.len() && !lines[j].starts_with("psql:") {
        message.push(lines[j].to_string());
        j += 1;
    }
    let statement = lines[j..]
        .iter()
        .position(|l| l.starts_with("psql:") && l.contains(": STATEMENT:  "));
    let statement = statement.map(|k| {
        let k = j + k;
        let (_, first) = lines[k].split_once(": STATEMENT:  ").expect("checked");
        let mut stmt = vec![first];
        stmt.extend(
            lines[k + 1..]
                .iter()
                .take_while(|l| !l.starts_with("psql:")),
        );
        stmt.join("\n")
    });
    (line, statement, message.join("\n"))
}

/// The mariadb client in batch mode writes
///
/// ```text
/// --------------
/// select *
///  from nope
/// --------------
///
/// ERROR 1146 (42S02) at line 6: Table 'db.nope' doesn't exist
/// ```
///
/// The echoed statement is missing for some errors; then it is cut out of the input, from the reported
/// line to the next `;`.
pub(crate) fn parse_mariadb(stderr: &str, input: Option<&str>) -> Parsed {
    let lines: Vec<&str> = stderr.lines().collect();
    let Some(i) = lines.iter().position(|l| l.starts_with("ERROR ")) else {
        return (None, None, stderr.trim().to_string());
    };
    let error_line = lines[i];
    let line = error_line.split_once(" at line ").and_then(|(_, rest)| {
        rest.split_once(':')
            .and_then(|(n, _)| n.trim().parse::<usize>().ok())
    });
    let mut message = vec![error_line.to_string()];
    message.extend(lines[i + 1..].iter().map(|l| l.to_string()));
    const RULE: &str = "--------------";
    let echoed = lines[..i].iter().rposition(|l| *l == RULE).and_then(|end| {
        let start = lines[..end].iter().rposition(|l| *l == RULE)?;
        Some(lines[start + 1..end].join("\n"))
    });
    let statement = echoed.or_else(|| {
        let text = input?;
        let from = line?.checked_sub(1)?;
        let rest: Vec<&str> = text.lines().skip(from).collect();
        let rest = rest.join("\n");
        let stmt = match rest.find(';') {
            Some(end) => &rest[..end],
            None => &rest[..],
        };
        Some(stmt.trim().to_string()).filter(|s| !s.is_empty())
    });
    (line, statement, message.join("\n").trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psql_error_with_statement() {
        let stderr = "psql:<stdin>:1: NOTICE:  hello\n\
            psql:<stdin>:8: ERROR:  relation \"nope\" does not exist\n\
            LINE 2:  from nope\n              ^\n\
            psql:<stdin>:8: STATEMENT:  select *\n from nope\n where x = 1;\n";
        let (line, stmt, msg) = parse_psql(stderr);
        assert_eq!(line, Some(8));
        assert_eq!(stmt.as_deref(), Some("select *\n from nope\n where x = 1;"));
        assert_eq!(
            msg,
            "ERROR:  relation \"nope\" does not exist\nLINE 2:  from nope\n              ^"
        );
    }

    #[test]
    fn psql_error_in_a_file_whose_path_has_colons() {
        let stderr = "psql:/tmp/a:b.sql:3: ERROR:  division by zero\n\
            psql:/tmp/a:b.sql:3: STATEMENT:  select 1/0;\n";
        let (line, stmt, msg) = parse_psql(stderr);
        assert_eq!(line, Some(3));
        assert_eq!(stmt.as_deref(), Some("select 1/0;"));
        assert_eq!(msg, "ERROR:  division by zero");
    }

    #[test]
    fn psql_connection_error() {
        let stderr = "psql: error: connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n";
        let (line, stmt, msg) = parse_psql(stderr);
        assert_eq!((line, stmt), (None, None));
        assert!(msg.starts_with("psql: error: connection"), "{msg}");
    }

    #[test]
    fn mariadb_error_with_echo() {
        let stderr = "--------------\nselect *\n from nope\n--------------\n\n\
            ERROR 1146 (42S02) at line 6: Table 'db.nope' doesn't exist\n";
        let (line, stmt, msg) = parse_mariadb(stderr, None);
        assert_eq!(line, Some(6));
        assert_eq!(stmt.as_deref(), Some("select *\n from nope"));
        assert_eq!(
            msg,
            "ERROR 1146 (42S02) at line 6: Table 'db.nope' doesn't exist"
        );
    }

    #[test]
    fn mariadb_error_without_echo_uses_input() {
        let stderr = "ERROR 1064 (42000) at line 2: You have an error in your SQL syntax\n";
        let input = "select 1;\nselec 2\n  from x;\nselect 3;";
        let (line, stmt, _) = parse_mariadb(stderr, Some(input));
        assert_eq!(line, Some(2));
        assert_eq!(stmt.as_deref(), Some("selec 2\n  from x"));
    }

    #[test]
    fn mariadb_connection_error() {
        let stderr = "ERROR 2002 (HY000): Can't connect to server on '127.0.0.1' (115)\n";
        let (line, stmt, msg) = parse_mariadb(stderr, Some("select 1"));
        assert_eq!((line, stmt), (None, None));
        assert!(msg.starts_with("ERROR 2002"), "{msg}");
    }

    #[test]
    fn display_names_everything() {
        let e = SqlError {
            client: "psql".into(),
            database: "t_x".into(),
            input: "<sql>".into(),
            line: Some(8),
            statement: Some("select *\n from nope".into()),
            message: "ERROR:  relation \"nope\" does not exist".into(),
            exit_code: Some(3),
            stderr: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "psql failed in database `t_x` (<sql>, line 8): ERROR:  relation \"nope\" does not exist\n  \
             failing statement:\n    select *\n     from nope"
        );
    }
}
