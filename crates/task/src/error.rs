use migrate_core::{ErrorClass, Retry};
use std::path::PathBuf;

/// Everything that can be wrong with a task file or a table mapping.
///
/// Every message says what failed, where (file, key, rule-id or object) and what to do. All of
/// them are definite: the input has to change before a retry can succeed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A file could not be read, or is not UTF-8 text.
    #[error("cannot read {}: {}", path.display(), read_advice(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The task file is not valid TOML or has an unknown or mistyped key. `message` comes from
    /// the TOML reader and carries the line, column and key.
    #[error("{}: {message}\nfix the key named above; the keys are described in docs/replicate-task.md", path.display())]
    TaskFile { path: PathBuf, message: String },

    /// A setting has a value that cannot work.
    #[error("{origin}: `{key}`: {message}; {action}")]
    Setting {
        /// The task file, or `command line` for an override.
        origin: String,
        /// The key as written in the task file, e.g. `target.url`.
        key: String,
        message: String,
        action: String,
    },

    /// The table mapping is not JSON.
    #[error("{origin}:{line}:{column}: invalid JSON: {message}; table mappings are the JSON documents AWS DMS accepts")]
    MappingJson {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },

    /// The table mapping is JSON but not a `{"rules": [...]}` document, or a rule is invalid or
    /// not supported. `rule` names the rule (`rule-id 3`, or `rules[2]` when it has no id).
    #[error("{origin}: {rule}: {message}; {action}")]
    Rule {
        origin: String,
        rule: String,
        message: String,
        action: String,
    },

    /// The mapping is valid but cannot be applied to the source catalog (a filter column that
    /// does not exist, two tables renamed to the same target name...).
    #[error("{object}: {message}; {action}")]
    Plan {
        /// The source object concerned, e.g. `test.employee` or `test.employee.empid`.
        object: String,
        message: String,
        action: String,
    },
}

impl ErrorClass for TaskError {
    fn retry(&self) -> Retry {
        Retry::Definite
    }
}

/// Why a file could not be read, and what to do: `read_to_string` fails with `InvalidData` on a
/// file that is not UTF-8 (a Latin-1 or UTF-16 export, a binary), where the path and the
/// permissions are fine.
fn read_advice(error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::InvalidData {
        format!(
            "it is not UTF-8 text ({error}); save it as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`, or `-f UTF-16` for a UTF-16 file)"
        )
    } else {
        format!("{error}; check the path and its permissions")
    }
}
