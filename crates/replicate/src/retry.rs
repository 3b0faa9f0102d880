//! Retrying transient failures with exponential backoff, a bounded number of times.

use migrate_core::{ErrorClass, Retry};
use std::future::Future;
use std::time::Duration;

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
    pub async fn run<T, E, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, E>
    where
        E: ErrorClass + std::fmt::Display,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut delay = self.first_delay;
        let mut number = 0;
        loop {
            match attempt(number).await {
                Ok(value) => return Ok(value),
                Err(e) if e.retry() == Retry::Transient && number < self.retries => {
                    number += 1;
                    tracing::warn!(
                        "{what}: {e}; retrying in {:.1} s (retry {number} of {})",
                        delay.as_secs_f64(),
                        self.retries
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.max_delay);
                }
                Err(e) => return Err(e),
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
