//! `Value`: Python's `multiprocessing.Value`, one number in shared memory with its own lock.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use super::scalar::{Scalar, sealed::Sealed};
use crate::errors::{CreateError, LockError};
use crate::sync::acquire::{NotSend, Patience, acquire};
use crate::sys::{RawMutex, SharedRegion};

/// One number shared by processes, with a lock, like Python's `multiprocessing.Value`.
///
/// `T` is a [`Scalar`] (`i32` for Python's `'i'`, `f64` for `'d'`, ...). Create it before
/// [`Process::start`](crate::Process::start) and move a clone into each child.
///
/// ```
/// use multiprocessing as mp;
///
/// fn worker_value(shared_int: &mp::Value<i32>, shared_float: &mp::Value<f64>) {
///     *shared_int.get_lock().expect("lock") += 1;
///     *shared_float.get_lock().expect("lock") *= 2.0;
/// }
///
/// let shared_int = mp::Value::new(10i32)?; // Python: mp.Value('i', 10)
/// let shared_float = mp::Value::new(3.14f64)?; // Python: mp.Value('d', 3.14)
/// let mut p = mp::Process::new({
///     let (shared_int, shared_float) = (shared_int.clone(), shared_float.clone());
///     move || worker_value(&shared_int, &shared_float)
/// });
/// p.start()?;
/// p.join()?;
/// assert_eq!(shared_int.load(), 11);
/// assert_eq!(shared_float.load(), 6.28);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ## Two ways in: the lock, or a single atomic read or write
///
/// [`get_lock`](Self::get_lock) holds the value's lock and gives a guard that derefs to `T`,
/// so `*v.get_lock()? += 1` is the lesson's `with v.get_lock(): v.value += 1`: a
/// read-modify-write no other process can interleave with. [`load`](Self::load) and
/// [`store`](Self::store) are Python's bare `v.value` and `v.value = x`: each is one atomic
/// access, but `v.store(v.load() + 1)` is two, and another process can write in between, so
/// increments get lost. That is the race the lesson shows, and it is safe to show:
///
/// ```
/// use multiprocessing as mp;
///
/// let counter = mp::Value::new(0u64)?;
/// let mut racers: Vec<mp::Process> = (0..2)
///     .map(|_| {
///         let counter = counter.clone();
///         mp::Process::new(move || {
///             for _ in 0..10_000 {
///                 counter.store(counter.load() + 1); // not atomic as a whole: updates get lost
///             }
///         })
///     })
///     .collect();
/// for r in &mut racers {
///     r.start()?;
/// }
/// for r in &mut racers {
///     r.join()?;
/// }
/// assert!(counter.load() <= 20_000); // often less
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ## Memory model
///
/// No mix of the two ways is a data race in Rust's sense, because the shared cell is only
/// ever accessed atomically:
///
/// 1. The cell is an atomic of `T`'s size (`AtomicI32` for `i32`, `AtomicU64` holding an
///    `f64`'s bits). `load` and `store` are single Relaxed atomic accesses: racing ones lose
///    updates but never tear or produce an invalid value (every bit pattern is a valid
///    scalar).
/// 2. The guard does not hand out a reference into the shared cell. It reads the cell once
///    (atomically) when the lock is taken, lets you change its own copy through `&mut T`, and
///    writes the copy back (atomically) just before unlocking. The `&mut T` therefore points to
///    memory no other thread or process can see, so it is truly exclusive.
/// 3. The lock orders the critical sections: unlocking publishes the write-back (release),
///    and the next holder's lock (acquire) makes it visible to that holder's read.
///
/// What the lock guarantees is the usual contract: updates are exact if every process that
/// writes the value does so under the lock. Consequences of the copy: while you hold the
/// guard, read the value through the guard, since `load()` still shows the value from before
/// your critical section until the guard drops; and a holder killed inside its critical section
/// leaves the value as it was (its update is lost, never half-written), while the next
/// `get_lock` reports [`LockError::OwnerDied`].
///
/// The lock is error-checking rather than Python's recursive one: calling `get_lock` again
/// while holding the guard is [`LockError::Deadlock`], not a hang.
pub struct Value<T: Scalar> {
    region: Arc<SharedRegion<ValueState<T>>>,
}

struct ValueState<T: Scalar> {
    mutex: RawMutex,
    cell: <T as Sealed>::Cell,
}

impl<T: Scalar> Clone for Value<T> {
    fn clone(&self) -> Self {
        Self {
            region: Arc::clone(&self.region),
        }
    }
}

impl<T: Scalar> std::fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Value").field(&self.load()).finish()
    }
}

/// Holds a [`Value`]'s lock; derefs to the value. The change is written to shared memory when
/// the guard drops, and the lock released.
///
/// Not `Send`: a lock is released by the thread that acquired it.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ValueGuard<'a, T: Scalar> {
    state: &'a ValueState<T>,
    value: T,
    _not_send: NotSend,
}

impl<T: Scalar> std::fmt::Debug for ValueGuard<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ValueGuard").field(&self.value).finish()
    }
}

impl<T: Scalar> Value<T> {
    /// A shared number starting at `value`.
    pub fn new(value: T) -> Result<Self, CreateError> {
        // SAFETY: `init` makes the mutex valid and the cell is written with its first value;
        // nothing else can reach the region yet.
        let region = unsafe {
            SharedRegion::new(0, |state: *mut ValueState<T>| {
                RawMutex::init(std::ptr::addr_of_mut!((*state).mutex), false)?;
                std::ptr::addr_of_mut!((*state).cell).write(T::new_cell(value));
                Ok(())
            })
        }
        .map_err(|source| CreateError::Os {
            object: "value",
            source,
        })?;
        Ok(Self {
            region: Arc::new(region),
        })
    }

    fn state(&self) -> &ValueState<T> {
        self.region.header()
    }

    /// Reads the value in one atomic access, without the lock (Python's `v.value`).
    pub fn load(&self) -> T {
        T::load(&self.state().cell)
    }

    /// Writes the value in one atomic access, without the lock (Python's `v.value = x`).
    pub fn store(&self, value: T) {
        T::store(&self.state().cell, value);
    }

    /// Takes the value's lock, blocking until it is free; the guard derefs to the value.
    ///
    /// Errors: [`LockError::OwnerDied`] (acquired; the previous holder died in its critical
    /// section, and its update was lost), [`LockError::Deadlock`] (this thread holds it),
    /// [`LockError::Os`].
    pub fn get_lock(&self) -> Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        self.lock_with(Patience::Block)
    }

    /// Takes the lock only if it is free now: [`LockError::WouldBlock`] if another thread or
    /// process holds it, [`LockError::Deadlock`] if this thread does.
    pub fn try_get_lock(&self) -> Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        self.lock_with(Patience::Try)
    }

    /// Waits at most `timeout` for the lock: [`LockError::Timeout`] if it stayed held.
    pub fn get_lock_timeout(
        &self,
        timeout: Duration,
    ) -> Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        self.lock_with(Patience::Timeout(timeout))
    }

    fn lock_with(
        &self,
        patience: Patience,
    ) -> Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        let state = self.state();
        acquire(&state.mutex, patience, || ValueGuard {
            state,
            value: T::load(&state.cell),
            _not_send: NotSend::default(),
        })
    }
}

impl<T: Scalar> Deref for ValueGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Scalar> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: Scalar> Drop for ValueGuard<'_, T> {
    fn drop(&mut self) {
        T::store(&self.state.cell, self.value);
        // SAFETY: a guard exists only while its thread holds the mutex (built by `acquire`
        // after a successful lock, and not Send).
        unsafe { self.state.mutex.unlock() };
    }
}
