//! The replication client's socket reader on a thread of its own, paced while changes flow.
//!
//! A reader that waits in `epoll_wait` for each message costs both ends dearly when it keeps up
//! with the walsender: each of the walsender's `send`s (one per change) delivers a few bytes and
//! wakes the reader's thread, which then takes those few changes per `recv`. `perf` on a 2-core
//! virtual machine put 68% of the walsender's own time in `send` that way. While changes flow,
//! this reader's thread instead sleeps [`TICK`] between looks at the socket that do not wait:
//! it is not waiting in `epoll_wait` then, so the walsender's `send`s wake no one, and each look
//! reads what a whole tick brought. After [`IDLE_AFTER`] ticks that brought nothing it waits for
//! the socket as usual (so an idle stream costs a wake-up every [`IDLE_CHECK`], not every tick).
//! Measured in bench/cdc.sh (a) (docs/benchmarks.md), one run before and one after: the
//! migrate process's CPU per 1M changes went from 5.5 to 2.3 s. Its walsender's went from 5.0
//! to 4.0 s, but that one also swings with the walsender's TCP state from run to run (the same
//! docs), so only the first figure is the pacing's.

use pgwire_replication::{ReplicationClient, ReplicationConfig, ReplicationMetrics};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the reader's thread sleeps between two looks at the socket while changes flow: the
/// latency it adds to each change, at most.
const TICK: Duration = Duration::from_micros(1000);

/// Empty ticks in a row after which the reader waits for the socket again.
const IDLE_AFTER: u32 = 20;

/// How often an idle reader checks whether changes flow again (it reads each message as it
/// arrives meanwhile).
const IDLE_CHECK: Duration = Duration::from_millis(50);

/// Connects like [`ReplicationClient::connect`], with the client's worker (which reads the
/// socket) on a paced thread of its own. The thread ends with the worker, once the client is
/// dropped.
///
/// Over a Unix-domain socket the reader is not paced: decoding 1M changes took 8.45 s paced,
/// against `pg_recvlogical`'s 3.10 s, and 2.55 s unpaced (docs/benchmarks.md, 2026-11-25). Not
/// profiled; the likely reason is that such a socket's buffer, which charges each one-change
/// `send` a whole kernel buffer, fills within a tick and stops the walsender, while a `send`
/// there costs little to wake a reader for.
pub(crate) async fn connect(
    config: ReplicationConfig,
) -> Result<ReplicationClient, pgwire_replication::PgWireError> {
    if config.is_unix_socket() {
        return ReplicationClient::connect(config).await;
    }
    let (connected_tx, connected_rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("pg-replication".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ =
                        connected_tx.send(Err(pgwire_replication::PgWireError::Io(Arc::new(e))));
                    return;
                }
            };
            runtime.block_on(async move {
                // The worker is spawned on this thread's runtime.
                let connected = ReplicationClient::connect(config).await;
                let metrics = connected.as_ref().ok().map(ReplicationClient::metrics);
                if connected_tx.send(connected).is_err() {
                    return;
                }
                if let Some(metrics) = metrics {
                    pace(metrics).await;
                }
            });
        });
    if let Err(e) = spawned {
        return Err(pgwire_replication::PgWireError::Io(Arc::new(e)));
    }
    connected_rx.await.unwrap_or_else(|_| {
        Err(pgwire_replication::PgWireError::Task(
            "the replication reader's thread ended before connecting".into(),
        ))
    })
}

/// Paces the thread until the worker has ended and the client is gone (the two other holders
/// of `metrics`).
async fn pace(metrics: Arc<ReplicationMetrics>) {
    // Ticks in a row that brought nothing; pacing stops after IDLE_AFTER of them (one empty
    // tick happens whenever the walsender pauses for a moment).
    let mut empty_ticks = IDLE_AFTER;
    while Arc::strong_count(&metrics) > 1 {
        let before = metrics.events_forwarded();
        if empty_ticks < IDLE_AFTER {
            // Blocking on purpose: this thread serves the reader alone, and must not wait in
            // epoll_wait while changes flow. The yield lets the runtime look at the socket
            // without waiting, and run the worker if anything arrived.
            std::thread::sleep(TICK);
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(IDLE_CHECK).await;
        }
        empty_ticks = if metrics.events_forwarded() > before {
            0
        } else {
            empty_ticks.saturating_add(1)
        };
    }
}
