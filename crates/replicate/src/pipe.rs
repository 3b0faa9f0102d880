//! Running a producer of record batches on a task of its own, one bounded channel ahead of its
//! consumer: decoding (source rows, staged Parquet) overlaps with encoding (Parquet, COPY) on
//! another core, and memory stays at `DEPTH` batches in flight.

use crate::ReplicateError;
use futures::stream::{BoxStream, Stream, StreamExt};
use migrate_core::Retry;
use std::future::Future;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Batches in flight between producer and consumer.
const DEPTH: usize = 2;

/// Sends the items of a producer's stream.
pub(crate) type Sender<T> = mpsc::Sender<Result<T, ReplicateError>>;

/// Forwards `stream` to `tx`, stopping at the first error (sent) or when the consumer is gone.
/// Returns whether the stream was forwarded to its end without error.
pub(crate) async fn forward<T, E>(
    stream: impl Stream<Item = Result<T, E>>,
    tx: Sender<T>,
    map: impl Fn(E) -> ReplicateError,
) -> bool {
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        let item = item.map_err(&map);
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return false;
        }
    }
    true
}

enum State<T, F> {
    NotStarted(F),
    Running(mpsc::Receiver<Result<T, ReplicateError>>, JoinHandle<bool>),
    Done,
}

/// A stream of what `producer` sends, produced on a task spawned at the first poll. The stream
/// ends cleanly only if the producer returned `true` (it forwarded everything): a producer that
/// panicked or stopped early ends the stream with an error, so a consumer never mistakes a cut
/// stream for a complete one. `what` names the work in that error.
pub(crate) fn spawned<T, F, Fut>(
    what: (String, u32),
    producer: F,
) -> BoxStream<'static, Result<T, ReplicateError>>
where
    T: Send + 'static,
    F: FnOnce(Sender<T>) -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    futures::stream::unfold(State::NotStarted(producer), move |state| {
        let what = what.clone();
        async move {
            let (mut rx, handle) = match state {
                State::Done => return None,
                State::NotStarted(producer) => {
                    let (tx, rx) = mpsc::channel(DEPTH);
                    (rx, tokio::spawn(producer(tx)))
                }
                State::Running(rx, handle) => (rx, handle),
            };
            match rx.recv().await {
                Some(item) => Some((item, State::Running(rx, handle))),
                None => match handle.await {
                    Ok(true) => None,
                    outcome => {
                        let message = match outcome {
                            Err(e) if e.is_panic() => "the reading task panicked".to_string(),
                            Err(e) => format!("the reading task was cancelled: {e}"),
                            Ok(_) => "the reading task stopped before the end of the data".into(),
                        };
                        Some((
                            Err(ReplicateError::Pipeline {
                                table: what.0,
                                chunk: what.1,
                                message,
                                retry: Retry::Definite,
                            }),
                            State::Done,
                        ))
                    }
                },
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    #[tokio::test]
    async fn items_arrive_in_order_and_a_cut_stream_is_an_error() {
        let items: Vec<u32> = spawned(("t".into(), 0), |tx| {
            forward(
                futures::stream::iter((0..10).map(Ok::<u32, ReplicateError>)),
                tx,
                |e| e,
            )
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, (0..10).collect::<Vec<_>>());

        let cut: Result<Vec<u32>, _> = spawned(("t".into(), 3), |tx| async move {
            let _ = tx.send(Ok(1)).await;
            false
        })
        .try_collect()
        .await;
        let error = cut.unwrap_err().to_string();
        assert!(
            error.contains("chunk 3") && error.contains("stopped"),
            "{error}"
        );

        let panicked: Result<Vec<u32>, _> = spawned(
            ("t".into(), 4),
            |_tx: Sender<u32>| async move { panic!("boom") },
        )
        .try_collect()
        .await;
        assert!(panicked.unwrap_err().to_string().contains("panicked"));
    }
}
