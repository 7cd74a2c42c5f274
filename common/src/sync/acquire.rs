//! Turning a robust mutex's outcome into the public [`LockError`], shared by every type that
//! hands out a lock guard ([`Lock`](crate::Lock), [`RLock`](crate::RLock),
//! [`Condition`](crate::Condition), [`Value`](crate::Value), [`Array`](crate::Array)).

use std::marker::PhantomData;
use std::time::Duration;

use crate::errors::{LockError, OwnerDied};
use crate::sys::{Acquired, LockFailure, RawMutex};

/// Makes a guard `!Send` (a pthread mutex must be unlocked by the thread that locked it) while
/// leaving it `Sync`, as std's `MutexGuard` is.
pub(crate) type NotSend = PhantomData<std::sync::MutexGuard<'static, ()>>;

/// How long an acquire may wait.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Patience {
    /// Until the lock is free.
    Block,
    /// Not at all.
    Try,
    /// At most this long.
    Timeout(Duration),
}

/// Locks `mutex` as `patience` says and builds the guard once it is held.
pub(crate) fn acquire<G>(
    mutex: &RawMutex,
    patience: Patience,
    make_guard: impl FnOnce() -> G,
) -> Result<G, LockError<G>> {
    let outcome = match patience {
        Patience::Block => mutex.lock(mutex.locker_spin()),
        Patience::Try => mutex.try_lock(),
        Patience::Timeout(timeout) => mutex.lock_timeout(timeout, mutex.locker_spin()),
    };
    guard_or_error(outcome, patience, make_guard)
}

/// The guard for a successful lock (also after a holder's death), or the error.
pub(crate) fn guard_or_error<G>(
    outcome: Result<Acquired, LockFailure>,
    patience: Patience,
    make_guard: impl FnOnce() -> G,
) -> Result<G, LockError<G>> {
    match outcome {
        Ok(Acquired::Clean) => Ok(make_guard()),
        Ok(Acquired::OwnerDied { pid }) => Err(LockError::OwnerDied(OwnerDied::new(
            pid.unsigned_abs(),
            make_guard(),
        ))),
        Err(LockFailure::WouldBlock) => Err(LockError::WouldBlock),
        Err(LockFailure::TimedOut) => Err(LockError::Timeout(match patience {
            Patience::Timeout(timeout) => timeout,
            Patience::Block | Patience::Try => Duration::ZERO,
        })),
        Err(LockFailure::Deadlock) => Err(LockError::Deadlock),
        Err(LockFailure::Os(code)) => Err(LockError::Os(std::io::Error::from_raw_os_error(code))),
    }
}

/// A lock failure as an OS error, for the library's internal mutexes, where only a broken
/// mutex (never a caller's mistake) can fail a blocking lock.
pub(crate) fn failure_to_io(failure: LockFailure) -> std::io::Error {
    std::io::Error::from_raw_os_error(match failure {
        LockFailure::WouldBlock => libc::EBUSY,
        LockFailure::TimedOut => libc::ETIMEDOUT,
        LockFailure::Deadlock => libc::EDEADLK,
        LockFailure::Os(code) => code,
    })
}
