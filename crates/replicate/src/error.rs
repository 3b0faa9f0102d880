//! What can stop a table (or the whole run), and whether retrying can help.

use migrate_core::{ErrorClass, Retry};
use migrate_stage::StageError;
use migrate_task::TaskError;
use migrate_warehouse::WarehouseError;

/// A boxed error of the source engine (the pipeline is generic over it).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error of `migrate replicate` or `migrate validate`. Messages name the table (and chunk,
/// column, rule) concerned and what to do; they never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    /// The task or its table mapping can't be applied to the source. Definite.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The source failed; `doing` says what migrate was doing.
    #[error("{doing}: {source}")]
    Source {
        doing: String,
        retry: Retry,
        #[source]
        source: BoxError,
    },
    #[error(transparent)]
    Stage(#[from] StageError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    /// An `add-column` expression that can't be translated to the source's SQL. Definite.
    /// `problem` names the column, the rule and the expression, says what is wrong and what to do.
    #[error("{table}: {problem}")]
    Expression { table: String, problem: String },
    /// The target refused a row of a chunk (a value its column can't hold, a constraint the row
    /// breaks); `at` names the row and column. Definite: the same rows fail the same way.
    #[error(
        "table {table}, chunk {chunk}, {at}: {message}; nothing of this chunk was loaded: {action}"
    )]
    Refused {
        table: String,
        chunk: u32,
        at: String,
        message: String,
        action: String,
    },
    /// A resumed load whose plan differs from the one it started with. Definite.
    #[error("{table}: the load recorded in the target started with another plan (fingerprint {recorded}, now {current}): {what}; run again with --restart to load the table from scratch, or restore the settings it started with")]
    PlanChanged {
        table: String,
        recorded: String,
        current: String,
        what: String,
    },
    /// State in the target that this version can't read, or that contradicts itself. Definite.
    #[error("{table}: {message}; {action}")]
    State {
        table: String,
        message: String,
        action: String,
    },
    /// Something the pipeline itself detected (a reader task that stopped without finishing).
    #[error("{table}, chunk {chunk}: {message}")]
    Pipeline {
        table: String,
        chunk: u32,
        message: String,
        retry: Retry,
    },
    /// A setting combination that can't work (e.g. validating a Redshift target). Definite.
    #[error("{message}; {action}")]
    Unsupported { message: String, action: String },
    /// A signal (SIGINT, SIGTERM) ended the wait to retry `what` after `last`, a transient
    /// failure to connect. Definite: the run was asked to stop.
    #[error("stopped by a signal while waiting to retry {what}: {last}")]
    Stopped {
        what: String,
        #[source]
        last: Box<ReplicateError>,
    },
    /// Change capture stopped by `error` once it had started; `summary` is what the run did up
    /// to it (its full load, the batches applied), to report with the error.
    #[error("{error}")]
    CaptureStopped {
        #[source]
        error: Box<ReplicateError>,
        summary: Box<crate::Summary>,
    },
}

impl ReplicateError {
    /// Wraps a source error, keeping its retry class.
    pub(crate) fn source<E>(doing: impl Into<String>) -> impl FnOnce(E) -> ReplicateError
    where
        E: std::error::Error + ErrorClass + Send + Sync + 'static,
    {
        let doing = doing.into();
        move |e| ReplicateError::Source {
            doing,
            retry: e.retry(),
            source: Box::new(e),
        }
    }
}

impl ErrorClass for ReplicateError {
    fn retry(&self) -> Retry {
        match self {
            ReplicateError::Source { retry, .. } | ReplicateError::Pipeline { retry, .. } => *retry,
            ReplicateError::Stage(e) => e.retry(),
            ReplicateError::CaptureStopped { error, .. } => error.retry(),
            ReplicateError::Warehouse(e) => e.retry(),
            ReplicateError::Task(_)
            | ReplicateError::Expression { .. }
            | ReplicateError::Refused { .. }
            | ReplicateError::PlanChanged { .. }
            | ReplicateError::State { .. }
            | ReplicateError::Unsupported { .. }
            | ReplicateError::Stopped { .. } => Retry::Definite,
        }
    }
}
