//! Why a rewrite failed. Conversion *gaps* are not errors (they are [`crate::Note`]s); an error
//! means there is no SQL to hand back at all.

use thiserror::Error;

/// A failed rewrite. Positions count from 1 and are relative to the text given to
/// [`crate::rewrite_query`] / [`crate::rewrite_expression`], so the caller can offset them into
/// the file the text came from.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RewriteError {
    /// The text is not valid SQL in the source dialect (as far as the parser knows).
    #[error("cannot parse {dialect} SQL{}: {message}", at(*line, *column))]
    Parse {
        dialect: &'static str,
        message: String,
        /// 0 when the parser did not say where (e.g. unexpected end of input).
        line: u64,
        column: u64,
    },
    /// The text uses a construct that the parser does not know and that has no equivalent in the
    /// target; `code` is the stable finding code to report (e.g. `view.flashback-query`).
    #[error("{construct} is not supported{}", at(*line, *column))]
    Unsupported {
        code: &'static str,
        construct: &'static str,
        line: u64,
        column: u64,
    },
    /// The text nests deeper than the parser's recursion limit, or the expression depth limit,
    /// allows.
    #[error("SQL nests too deeply to convert (more than {limit} levels)")]
    TooDeep { limit: usize },
    /// The text is longer than [`crate::MAX_INPUT_BYTES`].
    #[error("SQL text of {bytes} bytes is longer than the {limit} bytes accepted")]
    TooLarge { bytes: usize, limit: usize },
    /// The text parsed, but is not the one query or expression that was asked for.
    #[error("expected {expected}, found {found}")]
    NotA {
        expected: &'static str,
        found: String,
    },
    /// A function map in `dialect-maps/functions` is invalid (a build defect, caught by tests).
    #[error("invalid function map {file}: {message}")]
    Map { file: &'static str, message: String },
}

fn at(line: u64, column: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" at line {line}, column {column}")
    }
}
