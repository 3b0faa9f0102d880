//! Retrying transient failures with exponential backoff, a bounded number of times.

use crate::ReplicateError;
use migrate_core::{ErrorClass, Retry};
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// How often and how patiently transient errors are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub retries: u32,
    /// Wait before the first retry; doubled before each next one, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 4,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, fails definitely, or fails transiently more than
    /// `retries` times (then the last error is returned). `what` names the work in logs.
    pub async fn run<T, E, F, Fut>(&self, what: &str, attempt: F) -> Result<T, E>
    where
        E: ErrorClass + std::fmt::Display,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.attempts(what, None, attempt).await.map_err(|(e, _)| e)
    }

    /// [`run`](Self::run) for opening a connection. With `stop`, where nothing is under way
    /// that a stop should let finish, the wait before the next retry ends when `stop` becomes
    /// true (SIGINT, SIGTERM), and so does the run, with [`ReplicateError::Stopped`].
    pub async fn connect<T, E, F, Fut>(
        &self,
        what: &str,
        stop: Option<&watch::Receiver<bool>>,
        attempt: F,
    ) -> Result<T, ReplicateError>
    where
        E: ErrorClass + std::fmt::Display + Into<ReplicateError>,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.attempts(what, stop, attempt)
            .await
            .map_err(|(e, stopped)| {
                if stopped {
                    ReplicateError::Stopped {
                        what: what.to_string(),
                        last: Box::new(e.into()),
                    }
                } else {
                    e.into()
                }
            })
    }

    /// The retry loop; an error comes with whether `stop` ended it.
    async fn attempts<T, E, F, Fut>(
        &self,
        what: &str,
        stop: Option<&watch::Receiver<bool>>,
        mut attempt: F,
    ) -> Result<T, (E, bool)>
    where
        E: ErrorClass + std::fmt::Display,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut stop = stop.cloned();
        let mut delay = self.first_delay;
        let mut number = 0;
        loop {
            match attempt(number).await {
                Ok(value) => return Ok(value),
                Err(e) if e.retry() == Retry::Transient && number < self.retries => {
                    // Already stopping: no retry to announce.
                    if stop.as_ref().is_some_and(|stop| *stop.borrow()) {
                        return Err((e, true));
                    }
                    number += 1;
                    tracing::warn!(
                        "{what}: {e}; retrying in {:.1} s (retry {number} of {})",
                        delay.as_secs_f64(),
                        self.retries
                    );
                    let stopped = async {
                        let fired = match stop.as_mut() {
                            Some(stop) => stop.wait_for(|stop| *stop).await.is_ok(),
                            None => false,
                        };
                        // Not fired: no stop watched, or its sender is gone (none can come).
                        if !fired {
                            std::future::pending::<()>().await;
                        }
                    };
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = stopped => return Err((e, true)),
                    }
                    delay = (delay * 2).min(self.max_delay);
                }
                Err(e) => return Err((e, false)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Failure(Retry);

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }

    impl ErrorClass for Failure {
        fn retry(&self) -> Retry {
            self.0
        }
    }

    const FAST: RetryPolicy = RetryPolicy {
        retries: 2,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
    };

    #[tokio::test]
    async fn transient_errors_are_retried_a_bounded_number_of_times() {
        let mut calls = 0;
        let result: Result<(), Failure> = FAST
            .run("test", |_| {
                calls += 1;
                async { Err(Failure(Retry::Transient)) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 3, "one attempt and two retries");

        let mut calls = 0;
        let result = FAST
            .run("test", |n| {
                calls += 1;
                async move {
                    if n == 0 {
                        Err(Failure(Retry::Transient))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(result.unwrap(), 1);
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn a_stop_ends_the_wait_to_connect_again() {
        let slow = RetryPolicy {
            first_delay: Duration::from_secs(60),
            ..FAST
        };
        let refused = || ReplicateError::Source {
            doing: "connecting".into(),
            retry: Retry::Transient,
            source: "refused".into(),
        };
        let (stop_tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = stop_tx.send(true);
        });
        let started = std::time::Instant::now();
        let result: Result<(), _> = slow
            .connect("connecting", Some(&stop), |_| async { Err(refused()) })
            .await;
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            matches!(result, Err(ReplicateError::Stopped { .. })),
            "{result:?}"
        );

        // Without a stop that can come, the retries run their course.
        let mut calls = 0;
        let never = watch::channel(false).1;
        let result: Result<(), _> = FAST
            .connect("connecting", Some(&never), |_| {
                calls += 1;
                async { Err(refused()) }
            })
            .await;
        assert!(
            matches!(result, Err(ReplicateError::Source { .. })),
            "{result:?}"
        );
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn definite_errors_are_not_retried() {
        let mut calls = 0;
        let result: Result<(), Failure> = FAST
            .run("test", |_| {
                calls += 1;
                async { Err(Failure(Retry::Definite)) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }
}
