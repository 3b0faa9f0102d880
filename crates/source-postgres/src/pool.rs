//! A fixed set of reader connections that chunk reads lease one at a time; a connection found
//! closed (the server restarted, the session was terminated) is replaced when leased, so that
//! retrying a read after a broken connection can succeed.

use crate::{PostgresSource, SourceError};
use std::sync::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

/// `sources.len()` connections; a lease waits until one is free.
pub(crate) struct Pool {
    /// Each locked only by the lease that holds its index: never contended.
    sources: Vec<tokio::sync::Mutex<PostgresSource>>,
    /// Indexes of the connections nobody leases.
    free: Mutex<Vec<usize>>,
    permits: Semaphore,
}

/// One connection of a [`Pool`], returned when dropped.
pub(crate) struct Lease<'a> {
    pool: &'a Pool,
    index: usize,
    source: tokio::sync::MutexGuard<'a, PostgresSource>,
    _permit: SemaphorePermit<'a>,
}

impl Pool {
    pub(crate) fn new(sources: Vec<PostgresSource>) -> Pool {
        Pool {
            free: Mutex::new((0..sources.len()).collect()),
            permits: Semaphore::new(sources.len()),
            sources: sources.into_iter().map(tokio::sync::Mutex::new).collect(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.sources.len()
    }

    /// Waits for a free connection, reconnecting it if it was closed.
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
        let mut lease = Lease {
            pool: self,
            index,
            source: self.sources[index].lock().await,
            _permit: permit,
        };
        if lease.source.client.is_closed() {
            tracing::info!(
                "reconnecting a closed reader connection to {}",
                lease.source.endpoint()
            );
            // On error the lease drops and gives the index back: the next lease tries again.
            *lease.source = lease.source.another().await?;
        }
        Ok(lease)
    }

    /// Stops handing out connections: leases waiting and to come fail.
    pub(crate) fn close(&self) {
        self.permits.close();
    }
}

impl Lease<'_> {
    pub(crate) fn source(&self) -> &PostgresSource {
        &self.source
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // The index goes back before the guard and the permit (fields, dropped after this body):
        // a new lease of the index waits for the guard.
        self.pool
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(self.index);
    }
}
