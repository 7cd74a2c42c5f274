//! `AsyncResult`: the handle `apply_async` and `map_async` return, and the slot the result
//! thread fills.

use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::shared::on_result_thread_of;
use crate::PoolError;

/// Where one task's (or one `map`'s) outcome lands.
pub(crate) struct ResultSlot<R> {
    state: Mutex<SlotState<R>>,
    ready: Condvar,
}

struct SlotState<R> {
    done: bool,
    /// `None` once `get` has taken it (or before `done`).
    outcome: Option<Result<R, PoolError>>,
    /// Who to tell when the outcome arrives: `as_completed` iterators, with their index.
    listeners: Vec<(Sender<usize>, usize)>,
}

impl<R> ResultSlot<R> {
    fn new() -> Self {
        Self {
            state: Mutex::new(SlotState {
                done: false,
                outcome: None,
                listeners: Vec::new(),
            }),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotState<R>> {
        // The state is consistent between statements, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, outcome: Result<R, PoolError>) {
        let mut state = self.lock();
        if state.done {
            return;
        }
        state.done = true;
        state.outcome = Some(outcome);
        for (listener, index) in state.listeners.drain(..) {
            let _ = listener.send(index);
        }
        drop(state);
        self.ready.notify_all();
    }

    /// Sends `index` on `listener` once the outcome is there (at once if it already is).
    pub(crate) fn notify_when_ready(&self, listener: Sender<usize>, index: usize) {
        let mut state = self.lock();
        if state.done {
            let _ = listener.send(index);
        } else {
            state.listeners.push((listener, index));
        }
    }

    /// Waits until done or `deadline`; true when done.
    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        while !state.done {
            match deadline {
                None => {
                    state = self
                        .ready
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    state = self
                        .ready
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
        true
    }
}

/// The result thread's side of a slot. Dropping it unfilled (which only a bug in the pool
/// could do) fills the slot with [`PoolError::Lost`], so no `get` ever waits forever.
pub(crate) struct SlotWriter<R> {
    slot: Option<Arc<ResultSlot<R>>>,
}

impl<R> SlotWriter<R> {
    pub(crate) fn set(mut self, outcome: Result<R, PoolError>) {
        if let Some(slot) = self.slot.take() {
            slot.set(outcome);
        }
    }
}

impl<R> Drop for SlotWriter<R> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.set(Err(PoolError::Lost));
        }
    }
}

/// A new slot: the writer for the result thread, the handle for the caller.
pub(crate) fn result_slot<R>(pool_id: u64) -> (SlotWriter<R>, AsyncResult<R>) {
    let slot = Arc::new(ResultSlot::new());
    (
        SlotWriter {
            slot: Some(Arc::clone(&slot)),
        },
        AsyncResult { slot, pool_id },
    )
}

/// A result that is not there yet, as Python's `AsyncResult`: returned by
/// [`Pool::apply_async`](crate::Pool::apply_async) and [`Pool::map_async`](crate::Pool::map_async).
///
/// ```
/// use multiprocessing as mp;
///
/// fn sum_all_values(x: u64) -> u64 {
///     (1..=x).sum()
/// }
///
/// let pool = mp::Pool::new(2)?;
/// let results: Vec<mp::AsyncResult<u64>> = (10_000..10_000 + 10)
///     .map(|x| pool.apply_async(sum_all_values, x))
///     .collect::<Result<_, _>>()?;
/// // do something else
/// let output: Vec<u64> = results.into_iter().map(|r| r.get()).collect::<Result<_, _>>()?;
/// assert_eq!(output[0], 50_005_000);
/// # Ok::<(), mp::PoolError>(())
/// ```
///
/// Every task ends with a value or an error: a task whose worker died fails with
/// [`PoolError::WorkerDied`], one that panicked with [`PoolError::TaskPanicked`], and a task
/// still queued when the pool is terminated with [`PoolError::Terminated`]. So `get` returns
/// in every case where the task's function returns.
pub struct AsyncResult<R> {
    slot: Arc<ResultSlot<R>>,
    pool_id: u64,
}

impl<R> std::fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.ready())
            .finish_non_exhaustive()
    }
}

impl<R> AsyncResult<R> {
    /// Waits for the outcome and returns it.
    ///
    /// From inside one of the same pool's callbacks this would wait for the very thread it
    /// runs on: it returns [`PoolError::WouldDeadlock`] instead (unless the outcome is
    /// already there).
    pub fn get(self) -> Result<R, PoolError> {
        self.take(None)
    }

    /// As [`get`](Self::get), giving up after `timeout` with [`PoolError::Timeout`]. The
    /// task keeps running; use [`wait_timeout`](Self::wait_timeout) to wait without giving
    /// the handle up.
    pub fn get_timeout(self, timeout: Duration) -> Result<R, PoolError> {
        match self.take(Some(Instant::now() + timeout)) {
            Err(PoolError::Timeout { .. }) => Err(PoolError::Timeout { waited: timeout }),
            other => other,
        }
    }

    /// Waits until the outcome is there (returns at once if called from one of this pool's
    /// callbacks, where waiting would deadlock).
    pub fn wait(&self) {
        if !self.would_deadlock() {
            self.slot.wait_until(None);
        }
    }

    /// Waits at most `timeout`; true when the outcome is there.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        if self.would_deadlock() {
            return self.ready();
        }
        self.slot.wait_until(Some(Instant::now() + timeout))
    }

    /// True once the task has finished (successfully or not).
    pub fn ready(&self) -> bool {
        self.slot.lock().done
    }

    /// `Some(true)` if the task finished with a value, `Some(false)` if with an error, `None`
    /// while it is not finished (Python raises `ValueError` there).
    pub fn successful(&self) -> Option<bool> {
        let state = self.slot.lock();
        state.done.then(|| matches!(state.outcome, Some(Ok(_))))
    }

    pub(crate) fn slot(&self) -> &ResultSlot<R> {
        &self.slot
    }

    fn would_deadlock(&self) -> bool {
        on_result_thread_of(self.pool_id) && !self.ready()
    }

    fn take(self, deadline: Option<Instant>) -> Result<R, PoolError> {
        if self.would_deadlock() {
            return Err(PoolError::WouldDeadlock);
        }
        if !self.slot.wait_until(deadline) {
            return Err(PoolError::Timeout {
                waited: Duration::ZERO,
            });
        }
        self.slot
            .lock()
            .outcome
            .take()
            .unwrap_or(Err(PoolError::Lost))
    }
}
