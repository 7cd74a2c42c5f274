//! `RLock`: Python's `multiprocessing.RLock`, a lock its holder may take again.

use std::sync::Arc;
use std::time::Duration;

use super::acquire::{NotSend, Patience, acquire};
use crate::errors::{CreateError, LockError};
use crate::sys::{RawMutex, SharedRegion};

/// A re-entrant lock shared by processes, like Python's `multiprocessing.RLock`: the thread
/// that holds it may acquire it again (nested calls that each lock), and it is free once every
/// guard has dropped.
///
/// ```
/// use multiprocessing as mp;
///
/// fn log_line(lock: &mp::RLock, lines: &mp::Value<u32>) {
///     let _held = lock.acquire().expect("rlock");
///     lines.store(lines.load() + 1);
/// }
///
/// fn log_twice(lock: &mp::RLock, lines: &mp::Value<u32>) {
///     let _held = lock.acquire().expect("rlock"); // held across both lines...
///     log_line(lock, lines); // ...and taken again inside: fine for an RLock
///     log_line(lock, lines);
/// }
///
/// let lock = mp::RLock::new()?;
/// let lines = mp::Value::new(0u32)?;
/// let mut child = mp::Process::new({
///     let (lock, lines) = (lock.clone(), lines.clone());
///     move || log_twice(&lock, &lines)
/// });
/// child.start()?;
/// log_twice(&lock, &lines);
/// child.join()?;
/// assert_eq!(lines.load(), 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A holder that dies holding it, at any depth, makes the next `acquire` return
/// [`LockError::OwnerDied`] (with the guard), as for [`Lock`](crate::Lock).
#[derive(Clone)]
pub struct RLock {
    region: Arc<SharedRegion<RawMutex>>,
}

impl std::fmt::Debug for RLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RLock")
            .field("holder_pid", &self.region.header().owner_pid())
            .finish()
    }
}

/// One level of holding an [`RLock`]; the lock is free when the last guard drops.
///
/// Not `Send`: a lock is released by the thread that acquired it.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    mutex: &'a RawMutex,
    _not_send: NotSend,
}

impl std::fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RLockGuard").finish_non_exhaustive()
    }
}

impl RLock {
    /// A new, unlocked re-entrant lock.
    pub fn new() -> Result<Self, CreateError> {
        // SAFETY: `RawMutex::init` makes a valid mutex in the fresh region before anyone else
        // can reach it.
        let region = unsafe { SharedRegion::new(0, |mutex| RawMutex::init(mutex, true)) }.map_err(
            |source| CreateError::Os {
                object: "rlock",
                source,
            },
        )?;
        Ok(Self {
            region: Arc::new(region),
        })
    }

    /// Blocks until the lock is free or already held by this thread.
    ///
    /// Errors: [`LockError::OwnerDied`] (acquired; the previous holder died holding it),
    /// [`LockError::Os`] (e.g. nested too deep).
    pub fn acquire(&self) -> Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        self.acquire_with(Patience::Block)
    }

    /// Takes the lock if it is free or held by this thread; [`LockError::WouldBlock`] if
    /// another thread or process holds it.
    pub fn try_acquire(&self) -> Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        self.acquire_with(Patience::Try)
    }

    /// Waits at most `timeout`: [`LockError::Timeout`] if another holder kept it.
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        self.acquire_with(Patience::Timeout(timeout))
    }

    fn acquire_with(
        &self,
        patience: Patience,
    ) -> Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        let mutex = self.region.header();
        acquire(mutex, patience, || RLockGuard {
            mutex,
            _not_send: NotSend::default(),
        })
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: each guard stands for one successful lock by this thread (guards are built
        // only by `acquire` after it succeeded, and are not Send); a recursive mutex counts
        // them, so each unlock undoes exactly one.
        unsafe { self.mutex.unlock() };
    }
}
