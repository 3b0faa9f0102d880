//! A fixed set of reader connections that chunk reads lease one at a time.

use crate::{PostgresSource, SourceError};
use std::sync::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

/// `sources.len()` connections; a lease waits until one is free.
pub(crate) struct Pool {
    sources: Vec<PostgresSource>,
    /// Indexes of the connections nobody leases.
    free: Mutex<Vec<usize>>,
    permits: Semaphore,
}

/// One connection of a [`Pool`], returned when dropped.
pub(crate) struct Lease<'a> {
    pool: &'a Pool,
    index: usize,
    _permit: SemaphorePermit<'a>,
}

impl Pool {
    pub(crate) fn new(sources: Vec<PostgresSource>) -> Pool {
        Pool {
            free: Mutex::new((0..sources.len()).collect()),
            permits: Semaphore::new(sources.len()),
            sources,
        }
    }

    pub(crate) fn sources(&self) -> &[PostgresSource] {
        &self.sources
    }

    /// Waits for a free connection.
    pub(crate) async fn lease(&self) -> Result<Lease<'_>, SourceError> {
        let closed = || SourceError::Protocol {
            context: "waiting for a reader connection".into(),
            message: "the snapshot's connection pool is closed".into(),
        };
        let permit = self.permits.acquire().await.map_err(|_| closed())?;
        // A permit guarantees a free index: both are given back together in `Lease::drop`.
        let index = self
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
            .ok_or_else(closed)?;
        Ok(Lease {
            pool: self,
            index,
            _permit: permit,
        })
    }

    /// Stops handing out connections: leases waiting and to come fail.
    pub(crate) fn close(&self) {
        self.permits.close();
    }
}

impl<'a> Lease<'a> {
    pub(crate) fn source(&self) -> &'a PostgresSource {
        &self.pool.sources[self.index]
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // The index goes back before the permit (a field, dropped after this body).
        self.pool
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(self.index);
    }
}
