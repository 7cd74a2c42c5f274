//! `ProcessPoolExecutor`: Python's `concurrent.futures` interface over a [`Pool`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::async_result::AsyncResult;
use super::handle::Pool;
use crate::PoolError;

static NEXT_FUTURE_ID: AtomicU64 = AtomicU64::new(1);

/// A pool with the `concurrent.futures` interface: `submit` returns a [`PoolFuture`],
/// [`as_completed`] yields futures as they finish, `shutdown` waits for the work.
///
/// ```
/// use multiprocessing as mp;
///
/// fn task(n: u64) -> u64 {
///     n * n
/// }
///
/// let executor = mp::ProcessPoolExecutor::new(2)?;
/// let futures: Vec<_> = (0..5)
///     .map(|n| executor.submit(task, n))
///     .collect::<Result<_, _>>()?;
/// let mut results: Vec<u64> = mp::as_completed(futures)
///     .map(|future| future.result())
///     .collect::<Result<_, _>>()?;
/// results.sort();
/// assert_eq!(results, [0, 1, 4, 9, 16]);
/// executor.shutdown(true)?;
/// # Ok::<(), mp::PoolError>(())
/// ```
///
/// Unlike Python's executor, a worker that dies does not break the pool: only the future
/// of the task it ran fails ([`PoolError::WorkerDied`]); the others complete. Dropping the
/// executor waits for submitted work, as leaving Python's `with` block does.
#[derive(Debug)]
pub struct ProcessPoolExecutor {
    pool: Pool,
}

impl ProcessPoolExecutor {
    /// An executor with `max_workers` worker processes ([`PoolError::NoWorkers`] for 0).
    pub fn new(max_workers: usize) -> Result<Self, PoolError> {
        Ok(Self {
            pool: Pool::new(max_workers)?,
        })
    }

    /// An executor with one worker per available CPU.
    pub fn with_cpus() -> Result<Self, PoolError> {
        Ok(Self {
            pool: Pool::with_cpus()?,
        })
    }

    /// Schedules `f(arg)`; the future holds its result or error.
    pub fn submit<F, A, R>(&self, f: F, arg: A) -> Result<PoolFuture<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        Ok(PoolFuture {
            result: self.pool.apply_async(f, arg)?,
            id: NEXT_FUTURE_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// `executor.map(f, items)`: results in input order; the first error is returned.
    pub fn map<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.pool.map_chunked(f, items, 1)
    }

    /// No more submissions; with `wait`, returns once all submitted work is done and the
    /// workers have exited. Without, the pool finishes in the background.
    pub fn shutdown(&self, wait: bool) -> Result<(), PoolError> {
        self.pool.close();
        if wait { self.pool.join() } else { Ok(()) }
    }

    /// The pool underneath.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}

impl Drop for ProcessPoolExecutor {
    fn drop(&mut self) {
        // Python's `with ProcessPoolExecutor()` ends with `shutdown(wait=True)`. A failure
        // here (a panicked callback) has nobody left to be reported to.
        let _ = self.shutdown(true);
    }
}

/// The pending result of [`ProcessPoolExecutor::submit`], Python's `Future`. (Named so as
/// not to be confused with `std::future::Future`: this one is waited on, not polled.)
#[must_use = "the task runs anyway; keep the future to get its result"]
pub struct PoolFuture<R> {
    result: AsyncResult<R>,
    id: u64,
}

impl<R> std::fmt::Debug for PoolFuture<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolFuture")
            .field("id", &self.id)
            .field("done", &self.done())
            .finish()
    }
}

impl<R> PoolFuture<R> {
    /// Waits for the task and returns its result or error (Python's `result()`).
    pub fn result(self) -> Result<R, PoolError> {
        self.result.get()
    }

    /// As [`result`](Self::result), giving up after `timeout` with [`PoolError::Timeout`].
    pub fn result_timeout(self, timeout: Duration) -> Result<R, PoolError> {
        self.result.get_timeout(timeout)
    }

    /// True once the task has finished.
    pub fn done(&self) -> bool {
        self.result.ready()
    }

    /// A number unique to this future in this process, to tell futures apart (Python keys a
    /// dict by the future itself).
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// Yields `futures` in the order they finish, as `concurrent.futures.as_completed`.
pub fn as_completed<R>(futures: impl IntoIterator<Item = PoolFuture<R>>) -> AsCompleted<R> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let futures: Vec<Option<PoolFuture<R>>> = futures.into_iter().map(Some).collect();
    for (index, future) in futures.iter().enumerate() {
        if let Some(future) = future {
            future
                .result
                .slot()
                .notify_when_ready(sender.clone(), index);
        }
    }
    AsCompleted {
        remaining: futures.len(),
        futures,
        receiver,
    }
}

/// The iterator [`as_completed`] returns. Every future comes out exactly once; a future's
/// task always finishes (with a value or an error), so iterating to the end cannot hang on
/// a dead worker.
pub struct AsCompleted<R> {
    futures: Vec<Option<PoolFuture<R>>>,
    receiver: Receiver<usize>,
    remaining: usize,
}

impl<R> std::fmt::Debug for AsCompleted<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl<R> AsCompleted<R> {
    /// The next future to finish, waiting at most `timeout` (Python's `as_completed(fs,
    /// timeout)` raises `TimeoutError`).
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<PoolFuture<R>, PoolError>> {
        self.next_within(Some(timeout))
    }

    fn next_within(
        &mut self,
        timeout: Option<Duration>,
    ) -> Option<Result<PoolFuture<R>, PoolError>> {
        loop {
            if self.remaining == 0 {
                return None;
            }
            let index = match timeout {
                None => self
                    .receiver
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                Some(timeout) => self.receiver.recv_timeout(timeout),
            };
            let index = match index {
                Ok(index) => index,
                Err(RecvTimeoutError::Timeout) => {
                    return Some(Err(PoolError::Timeout {
                        waited: timeout.unwrap_or_default(),
                    }));
                }
                // Each slot keeps a sender until it fires, so this cannot happen while
                // futures remain; end rather than spin.
                Err(RecvTimeoutError::Disconnected) => return None,
            };
            if let Some(future) = self.futures.get_mut(index).and_then(Option::take) {
                self.remaining -= 1;
                return Some(Ok(future));
            }
        }
    }
}

impl<R> Iterator for AsCompleted<R> {
    type Item = PoolFuture<R>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_within(None).and_then(Result::ok)
    }
}
