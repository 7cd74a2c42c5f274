//! The library's own short critical sections: the mutex that guards a semaphore's count, an
//! event's flag or a barrier's bookkeeping, held only inside one method call.

use std::time::{Duration, Instant};

use super::acquire::{NotSend, Patience, failure_to_io};
use crate::sys::{Acquired, RawCondvar, RawMutex, Spin, Woken};

/// Holds an internal mutex; unlocks on drop.
pub(crate) struct StateGuard<'a> {
    mutex: &'a RawMutex,
    _not_send: NotSend,
}

/// Whether the previous holder of the state mutex died inside its critical section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Previous {
    /// It unlocked normally: the state is whole.
    Clean,
    /// It died holding the mutex: state spanning several words may be half-updated.
    Died,
}

impl From<Acquired> for Previous {
    fn from(acquired: Acquired) -> Self {
        match acquired {
            Acquired::Clean => Self::Clean,
            Acquired::OwnerDied { .. } => Self::Died,
        }
    }
}

/// How a timed wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// Notified or spuriously woken: re-check the state.
    Woken,
    /// The deadline has passed.
    TimedOut,
}

/// A [`Patience`] whose clock has started: a loop of waits shares one deadline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    patience: Patience,
    deadline: Instant,
}

impl Budget {
    /// Starts counting `patience` from now.
    pub(crate) fn start(patience: Patience) -> Self {
        let deadline = match patience {
            Patience::Timeout(timeout) => deadline_after(timeout),
            Patience::Block | Patience::Try => Instant::now(),
        };
        Self { patience, deadline }
    }

    /// The patience this budget was started with, to say how the wait gave up.
    pub(crate) fn patience(self) -> Patience {
        self.patience
    }
}

impl<'a> StateGuard<'a> {
    /// Blocks until `mutex` is held.
    pub(crate) fn lock(mutex: &'a RawMutex) -> std::io::Result<(Self, Previous)> {
        let acquired = mutex.lock(Spin::Briefly).map_err(failure_to_io)?;
        Ok((
            Self {
                mutex,
                _not_send: NotSend::default(),
            },
            acquired.into(),
        ))
    }

    /// Releases the mutex, sleeps until `condvar` is notified, and takes the mutex again.
    pub(crate) fn wait(self, condvar: &RawCondvar) -> std::io::Result<(Self, Previous)> {
        let mutex = self.mutex;
        // The wait releases and retakes the mutex itself; if retaking fails the mutex is not
        // held, so this guard must not unlock it again.
        std::mem::forget(self);
        // SAFETY: this thread holds `mutex`: `self` was a live guard on it.
        let acquired = unsafe { condvar.wait(mutex) }.map_err(failure_to_io)?;
        Ok((
            Self {
                mutex,
                _not_send: NotSend::default(),
            },
            acquired.into(),
        ))
    }

    /// As [`wait`](Self::wait), but returns [`Waited::TimedOut`] once `deadline` has passed.
    pub(crate) fn wait_until(
        self,
        condvar: &RawCondvar,
        deadline: Instant,
    ) -> std::io::Result<(Self, Previous, Waited)> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok((self, Previous::Clean, Waited::TimedOut));
        }
        let mutex = self.mutex;
        std::mem::forget(self);
        // SAFETY: this thread holds `mutex`: `self` was a live guard on it.
        let woken = unsafe { condvar.wait_timeout(mutex, left) }.map_err(failure_to_io)?;
        let (acquired, waited) = match woken {
            Woken::Notified(acquired) => (acquired, Waited::Woken),
            Woken::TimedOut(acquired) => (acquired, Waited::TimedOut),
        };
        Ok((
            Self {
                mutex,
                _not_send: NotSend::default(),
            },
            acquired.into(),
            waited,
        ))
    }
}

impl StateGuard<'_> {
    /// One wait of a loop that re-checks its state: sleeps until notified, or until the
    /// budget's deadline; [`Waited::TimedOut`] at once for [`Patience::Try`].
    pub(crate) fn wait_within(
        self,
        condvar: &RawCondvar,
        budget: Budget,
    ) -> std::io::Result<(Self, Previous, Waited)> {
        match budget.patience {
            Patience::Try => Ok((self, Previous::Clean, Waited::TimedOut)),
            Patience::Block => {
                let (held, previous) = self.wait(condvar)?;
                Ok((held, previous, Waited::Woken))
            }
            Patience::Timeout(_) => self.wait_until(condvar, budget.deadline),
        }
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: a live guard means this thread holds the mutex (constructors lock it; the
        // waits forget the old guard before the mutex is released).
        unsafe { self.mutex.unlock() };
    }
}

/// `now + timeout`, or a deadline so far away that it never comes when that overflows.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 100))
}
