//! `Semaphore` and `BoundedSemaphore`: Python's counting semaphores, on a mutex, a condition
//! variable and a count in shared memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::acquire::Patience;
use super::state_lock::{Budget, StateGuard, Waited};
use crate::errors::{CreateError, SemaphoreError};
use crate::sys::{RawCondvar, RawMutex, SharedRegion};

/// A counting semaphore shared by processes, like Python's `multiprocessing.Semaphore`: at
/// most `value` holders at once.
///
/// [`acquire`](Self::acquire) takes a permit (waiting while none is free) and
/// [`release`](Self::release) gives one back, from any process, so a semaphore can also
/// signal between processes. [`acquire_guard`](Self::acquire_guard) is Python's
/// `with semaphore:`, giving the permit back when the guard drops:
///
/// ```
/// use multiprocessing as mp;
///
/// fn access_database(semaphore: &mp::Semaphore, process_id: u32) {
///     let _permit = semaphore.acquire_guard().expect("semaphore");
///     println!("Process {process_id} is accessing the database");
///     std::thread::sleep(std::time::Duration::from_millis(10));
///     println!("Process {process_id} is done accessing the database");
/// }
///
/// let semaphore = mp::Semaphore::new(2)?; // up to 2 processes in the critical section
/// let mut processes: Vec<mp::Process> = (0..3)
///     .map(|i| {
///         let semaphore = semaphore.clone();
///         mp::Process::new(move || access_database(&semaphore, i))
///     })
///     .collect();
/// for p in &mut processes {
///     p.start()?;
/// }
/// for p in &mut processes {
///     p.join()?;
/// }
/// assert_eq!(semaphore.value(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A process that dies holding a permit does not give it back (as in Python): the count
/// stays one lower.
#[derive(Clone)]
pub struct Semaphore {
    core: SemaphoreCore,
}

/// A semaphore that refuses to be released above its initial value, like Python's
/// `multiprocessing.BoundedSemaphore`: an unmatched `release` is a bug, reported as
/// [`SemaphoreError::OverReleased`] (Python's `ValueError`).
///
/// ```
/// use multiprocessing as mp;
///
/// let pool_slots = mp::BoundedSemaphore::new(1)?;
/// pool_slots.acquire()?;
/// pool_slots.release()?;
/// assert!(matches!(
///     pool_slots.release(),
///     Err(mp::SemaphoreError::OverReleased { limit: 1 })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    core: SemaphoreCore,
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`], released when dropped.
///
/// Unlike lock guards it is `Send`: a permit is not tied to the thread that took it.
#[must_use = "the permit is released as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    core: &'a SemaphoreCore,
}

impl std::fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemaphoreGuard").finish_non_exhaustive()
    }
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        // The guard took a permit, so giving it back cannot exceed the limit unless someone
        // also called `release` for it; a drop has no caller to report that to.
        let _ = self.core.release();
    }
}

/// The count lives in shared memory with the mutex that guards its changes.
struct SemaphoreState {
    mutex: RawMutex,
    /// Notified when a permit is released.
    released: RawCondvar,
    /// Free permits. Changed only under `mutex`; read without it by `value()`.
    value: AtomicUsize,
    /// The largest `value` may become.
    limit: usize,
}

#[derive(Clone)]
struct SemaphoreCore {
    region: Arc<SharedRegion<SemaphoreState>>,
}

impl SemaphoreCore {
    fn new(value: usize, limit: usize) -> Result<Self, CreateError> {
        // SAFETY: the closure makes every field valid: the mutex by `init`, the condvar and
        // the count by writing them; nothing else can reach the region yet.
        let region = unsafe {
            SharedRegion::new(0, |state: *mut SemaphoreState| {
                RawMutex::init(std::ptr::addr_of_mut!((*state).mutex), false)?;
                std::ptr::addr_of_mut!((*state).released).write(RawCondvar::new());
                std::ptr::addr_of_mut!((*state).value).write(AtomicUsize::new(value));
                std::ptr::addr_of_mut!((*state).limit).write(limit);
                Ok(())
            })
        }
        .map_err(|source| CreateError::Os {
            object: "semaphore",
            source,
        })?;
        Ok(Self {
            region: Arc::new(region),
        })
    }

    fn state(&self) -> &SemaphoreState {
        self.region.header()
    }

    fn acquire(&self, patience: Patience) -> Result<(), SemaphoreError> {
        let state = self.state();
        // A holder that died inside this short critical section cannot have left the count
        // half-written: it is one word, changed by one store.
        let (mut held, _) = StateGuard::lock(&state.mutex).map_err(SemaphoreError::Os)?;
        let budget = Budget::start(patience);
        while state.value.load(Ordering::Relaxed) == 0 {
            let (again, _, waited) = held
                .wait_within(&state.released, budget)
                .map_err(SemaphoreError::Os)?;
            held = again;
            if waited == Waited::TimedOut && state.value.load(Ordering::Relaxed) == 0 {
                return Err(match budget.patience() {
                    Patience::Try => SemaphoreError::WouldBlock,
                    Patience::Timeout(timeout) => SemaphoreError::Timeout(timeout),
                    // A blocking wait never times out.
                    Patience::Block => SemaphoreError::Timeout(Duration::MAX),
                });
            }
        }
        state.value.fetch_sub(1, Ordering::Relaxed);
        drop(held);
        Ok(())
    }

    fn release(&self) -> Result<(), SemaphoreError> {
        let state = self.state();
        let (held, _) = StateGuard::lock(&state.mutex).map_err(SemaphoreError::Os)?;
        if state.value.load(Ordering::Relaxed) >= state.limit {
            return Err(SemaphoreError::OverReleased { limit: state.limit });
        }
        state.value.fetch_add(1, Ordering::Relaxed);
        state.released.notify_one();
        drop(held);
        Ok(())
    }

    fn value(&self) -> usize {
        self.state().value.load(Ordering::Relaxed)
    }

    fn guard(&self, patience: Patience) -> Result<SemaphoreGuard<'_>, SemaphoreError> {
        self.acquire(patience)?;
        Ok(SemaphoreGuard { core: self })
    }
}

/// The methods both semaphores share, written once.
macro_rules! semaphore_methods {
    () => {
        /// Takes a permit, waiting while none is free.
        pub fn acquire(&self) -> Result<(), SemaphoreError> {
            self.core.acquire(Patience::Block)
        }

        /// Takes a permit if one is free now: [`SemaphoreError::WouldBlock`] otherwise.
        pub fn try_acquire(&self) -> Result<(), SemaphoreError> {
            self.core.acquire(Patience::Try)
        }

        /// Waits at most `timeout` for a permit: [`SemaphoreError::Timeout`] if none came.
        pub fn acquire_timeout(&self, timeout: Duration) -> Result<(), SemaphoreError> {
            self.core.acquire(Patience::Timeout(timeout))
        }

        /// Takes a permit and returns a guard that gives it back when dropped (Python's
        /// `with semaphore:`).
        pub fn acquire_guard(&self) -> Result<SemaphoreGuard<'_>, SemaphoreError> {
            self.core.guard(Patience::Block)
        }

        /// As [`try_acquire`](Self::try_acquire), returning a guard.
        pub fn try_acquire_guard(&self) -> Result<SemaphoreGuard<'_>, SemaphoreError> {
            self.core.guard(Patience::Try)
        }

        /// As [`acquire_timeout`](Self::acquire_timeout), returning a guard.
        pub fn acquire_guard_timeout(
            &self,
            timeout: Duration,
        ) -> Result<SemaphoreGuard<'_>, SemaphoreError> {
            self.core.guard(Patience::Timeout(timeout))
        }

        /// The number of free permits now, as Python's `get_value()`; it may change at once.
        pub fn value(&self) -> usize {
            self.core.value()
        }
    };
}

impl Semaphore {
    /// A semaphore with `value` free permits.
    pub fn new(value: usize) -> Result<Self, CreateError> {
        Ok(Self {
            core: SemaphoreCore::new(value, usize::MAX)?,
        })
    }

    semaphore_methods!();

    /// Gives a permit back (from any process), waking one waiter.
    /// [`SemaphoreError::OverReleased`] only if the count would overflow `usize`.
    pub fn release(&self) -> Result<(), SemaphoreError> {
        self.core.release()
    }
}

impl BoundedSemaphore {
    /// A semaphore with `value` free permits that may never hold more.
    pub fn new(value: usize) -> Result<Self, CreateError> {
        Ok(Self {
            core: SemaphoreCore::new(value, value)?,
        })
    }

    semaphore_methods!();

    /// Gives a permit back (from any process), waking one waiter;
    /// [`SemaphoreError::OverReleased`] if that would exceed the initial value.
    pub fn release(&self) -> Result<(), SemaphoreError> {
        self.core.release()
    }
}

impl std::fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

impl std::fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("limit", &self.core.state().limit)
            .finish()
    }
}
