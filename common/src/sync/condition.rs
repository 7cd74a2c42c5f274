//! `Condition`: Python's `multiprocessing.Condition`, a lock plus wait/notify.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::acquire::{Patience, guard_or_error};
use super::lock::{Lock, LockGuard};
use super::state_lock::deadline_after;
use crate::errors::{CreateError, LockError};
use crate::sys::{RawCondvar, SharedRegion, Woken};

/// A condition variable shared by processes, like Python's `multiprocessing.Condition`.
///
/// A `Condition` owns a [`Lock`] (or shares one given to [`with_lock`](Self::with_lock)).
/// [`acquire`](Self::acquire) enters the critical section (Python's `with condition:`);
/// [`wait`](Self::wait) releases the lock, sleeps until another process calls
/// [`notify`](Self::notify) or [`notify_all`](Self::notify_all), and takes the lock again.
///
/// The condition guards a *critical section*, not a value it contains: the shared state lives
/// in [`Value`](crate::Value)s and [`Array`](crate::Array)s created next to it, and every
/// process reads and writes them with their `load`/`store` methods while it holds the
/// condition's guard. That is the Python lesson's shape (a `Condition` and an `Array`), and it
/// lets one condition cover several shared objects, such as a bounded buffer's slots, count and
/// indices. (A `Condition<T>` owning its data could only hold one plain-data `T` in shared
/// memory, which is exactly what `Value`/`Array` already are.)
///
/// The lesson's producer and consumer. The consumer waits *for the item* with
/// [`wait_for`](Self::wait_for), so it also works when the producer runs first (the Python
/// version, which calls a bare `wait()`, then waits forever):
///
/// ```
/// use multiprocessing as mp;
///
/// fn producer(condition: &mp::Condition, shared_array: &mp::Array<i32>, produced: &mp::Value<u8>) {
///     let _held = condition.acquire().expect("lock");
///     shared_array.store(0, 99).expect("index 0"); // simulating item production
///     produced.store(1);
///     condition.notify();
/// }
///
/// fn consumer(condition: &mp::Condition, shared_array: &mp::Array<i32>, produced: &mp::Value<u8>) {
///     let held = condition.acquire().expect("lock");
///     let _held = condition.wait_for(held, || produced.load() == 1).expect("wait");
///     assert_eq!(shared_array.load(0), Some(99));
/// }
///
/// let condition = mp::Condition::new()?;
/// let shared_array = mp::Array::from_slice(&[0i32])?;
/// let produced = mp::Value::new(0u8)?;
/// let clones = || (condition.clone(), shared_array.clone(), produced.clone());
/// let mut p = mp::Process::new({
///     let (c, a, v) = clones();
///     move || producer(&c, &a, &v)
/// });
/// let mut c = mp::Process::new({
///     let (c, a, v) = clones();
///     move || consumer(&c, &a, &v)
/// });
/// c.start()?;
/// p.start()?;
/// c.join()?;
/// p.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Unlike Python's, `notify` may also be called without holding the lock; the change it
/// announces must still have been made under the lock, or a waiter can miss it. The lock is a
/// plain [`Lock`], not Python's default `RLock`: waiting while holding the lock twice would
/// release it only once and hang.
#[derive(Clone)]
pub struct Condition {
    lock: Lock,
    condvar: Arc<SharedRegion<RawCondvar>>,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
}

/// Whether a timed wait on a [`Condition`] ended because its time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeoutResult {
    timed_out: bool,
}

impl WaitTimeoutResult {
    /// True if the wait ended because the timeout passed (for the `wait_for` forms: the
    /// predicate was still false then), as std's `WaitTimeoutResult`.
    pub fn timed_out(self) -> bool {
        self.timed_out
    }
}

impl Condition {
    /// A condition with a lock of its own.
    pub fn new() -> Result<Self, CreateError> {
        Self::with_lock(Lock::new()?)
    }

    /// A condition over an existing lock, as Python's `Condition(lock)`: guards from
    /// `lock.acquire()` and from this condition's [`acquire`](Self::acquire) are
    /// interchangeable.
    pub fn with_lock(lock: Lock) -> Result<Self, CreateError> {
        lock.mutex().mark_serves_condition();
        // SAFETY: all-zero memory is a valid RawCondvar in its initial state.
        let condvar =
            unsafe { SharedRegion::new(0, |_| Ok(())) }.map_err(|source| CreateError::Os {
                object: "condition",
                source,
            })?;
        Ok(Self {
            lock,
            condvar: Arc::new(condvar),
        })
    }

    /// The condition's lock.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// Enters the critical section: blocks until the lock is held (see [`Lock::acquire`]).
    pub fn acquire(&self) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.lock.acquire()
    }

    /// Enters the critical section only if the lock is free now (see [`Lock::try_acquire`]).
    pub fn try_acquire(&self) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.lock.try_acquire()
    }

    /// Waits at most `timeout` to enter (see [`Lock::acquire_timeout`]).
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.lock.acquire_timeout(timeout)
    }

    /// Releases the lock, sleeps until notified, and takes the lock again.
    ///
    /// The wakeup may be spurious and another process may have run first: check the state
    /// again after waking, or use [`wait_for`](Self::wait_for), which does.
    /// [`LockError::OwnerDied`] means a process died holding the lock while this one slept;
    /// the lock is held again and the guard is in the error.
    ///
    /// # Panics
    ///
    /// If `guard` is not a guard of this condition's lock.
    pub fn wait<'a>(
        &self,
        guard: LockGuard<'a>,
    ) -> Result<LockGuard<'a>, LockError<LockGuard<'a>>> {
        let mutex = self.release_for_wait(guard);
        // SAFETY: `release_for_wait` checked that this thread holds `mutex` (it had a guard).
        let outcome = unsafe { self.condvar.header().wait(mutex) };
        // SAFETY: the guard is built only when the wait has locked the mutex again.
        guard_or_error(outcome, Patience::Block, || unsafe {
            LockGuard::new(mutex)
        })
    }

    /// As [`wait`](Self::wait), giving up after `timeout`; the lock is held again either way,
    /// and the result says whether the time ran out.
    ///
    /// # Panics
    ///
    /// If `guard` is not a guard of this condition's lock.
    pub fn wait_timeout<'a>(
        &self,
        guard: LockGuard<'a>,
        timeout: Duration,
    ) -> Result<(LockGuard<'a>, WaitTimeoutResult), LockError<LockGuard<'a>>> {
        let mutex = self.release_for_wait(guard);
        // SAFETY: `release_for_wait` checked that this thread holds `mutex` (it had a guard).
        let outcome = unsafe { self.condvar.header().wait_timeout(mutex, timeout) };
        let (relocked, timed_out) = match outcome {
            Ok(Woken::Notified(acquired)) => (Ok(acquired), false),
            Ok(Woken::TimedOut(acquired)) => (Ok(acquired), true),
            Err(failure) => (Err(failure), false),
        };
        // SAFETY: the guard is built only when the wait has locked the mutex again.
        guard_or_error(relocked, Patience::Block, || unsafe {
            LockGuard::new(mutex)
        })
        .map(|guard| (guard, WaitTimeoutResult { timed_out }))
    }

    /// Waits until `predicate` returns true, as Python's `wait_for`. The predicate runs with
    /// the lock held, first before any waiting.
    ///
    /// # Panics
    ///
    /// If `guard` is not a guard of this condition's lock.
    pub fn wait_for<'a>(
        &self,
        guard: LockGuard<'a>,
        mut predicate: impl FnMut() -> bool,
    ) -> Result<LockGuard<'a>, LockError<LockGuard<'a>>> {
        let mut guard = guard;
        while !predicate() {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// As [`wait_for`](Self::wait_for), for at most `timeout`: the result says the time ran
    /// out if the predicate was still false then (Python's `wait_for` returning `False`).
    ///
    /// # Panics
    ///
    /// If `guard` is not a guard of this condition's lock.
    pub fn wait_for_timeout<'a>(
        &self,
        guard: LockGuard<'a>,
        timeout: Duration,
        mut predicate: impl FnMut() -> bool,
    ) -> Result<(LockGuard<'a>, WaitTimeoutResult), LockError<LockGuard<'a>>> {
        let deadline = deadline_after(timeout);
        let mut guard = guard;
        loop {
            if predicate() {
                return Ok((guard, WaitTimeoutResult { timed_out: false }));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok((guard, WaitTimeoutResult { timed_out: true }));
            }
            guard = self.wait_timeout(guard, left)?.0;
        }
    }

    /// Wakes one process (or thread) waiting on this condition, if any.
    pub fn notify(&self) {
        self.condvar.header().notify_one();
    }

    /// Wakes up to `n` waiters, as Python's `notify(n)`.
    pub fn notify_n(&self, n: usize) {
        for _ in 0..n {
            self.condvar.header().notify_one();
        }
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.condvar.header().notify_all();
    }

    /// Checks that `guard` holds this condition's lock and gives up the guard without
    /// unlocking: the wait unlocks.
    fn release_for_wait<'a>(&self, guard: LockGuard<'a>) -> &'a crate::sys::RawMutex {
        let mutex = guard.mutex();
        assert!(
            std::ptr::eq(mutex, self.lock.mutex()),
            "Condition::wait called with the guard of a different lock"
        );
        std::mem::forget(guard);
        mutex
    }
}
