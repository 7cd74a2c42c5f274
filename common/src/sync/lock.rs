//! `Lock`: Python's `multiprocessing.Lock`, on a robust process-shared mutex.

use std::sync::Arc;
use std::time::Duration;

use super::acquire::{NotSend, Patience, acquire};
use crate::errors::{CreateError, LockError};
use crate::sys::{RawMutex, SharedRegion};

/// A mutual-exclusion lock shared by processes, like Python's `multiprocessing.Lock`.
///
/// Create it before [`Process::start`](crate::Process::start) and move a clone into each child;
/// every clone, in every process, is the same lock. `acquire` returns a guard that releases
/// the lock when dropped (Python's `with lock:`).
///
/// ```
/// use std::io::Write;
///
/// use multiprocessing as mp;
///
/// fn write_to_file(lock: &mp::Lock, path: &std::path::Path, data: &str) {
///     let _held = lock.acquire().expect("lock");
///     let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
///     writeln!(file, "{data}").unwrap();
/// }
///
/// let lock = mp::Lock::new()?;
/// let dir = std::env::temp_dir().join(format!("lock-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("shared_file.txt");
/// let mut processes: Vec<mp::Process> = (0..5)
///     .map(|i| {
///         let (lock, path) = (lock.clone(), path.clone());
///         mp::Process::new(move || write_to_file(&lock, &path, &format!("Process {i}")))
///     })
///     .collect();
/// for p in &mut processes {
///     p.start()?;
/// }
/// for p in &mut processes {
///     p.join()?;
/// }
/// assert_eq!(std::fs::read_to_string(&path)?.lines().count(), 5);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Better than Python in two ways. If the holder dies (killed, crashed), the next `acquire`
/// does not hang forever: it returns [`LockError::OwnerDied`] naming the dead pid, and still
/// hands over the guard. And a thread that acquires a lock it already holds gets
/// [`LockError::Deadlock`] instead of hanging:
///
/// ```
/// use multiprocessing as mp;
///
/// let lock = mp::Lock::new()?;
/// let held = lock.acquire().map_err(mp::LockError::without_guard)?;
/// assert!(matches!(lock.acquire(), Err(mp::LockError::Deadlock)));
/// drop(held);
/// assert!(lock.acquire().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Unlike Python's, the lock is released by the thread that acquired it (by dropping the
/// guard), never by another thread or process. Use a [`Semaphore`](crate::Semaphore) to
/// signal between processes.
#[derive(Clone)]
pub struct Lock {
    region: Arc<SharedRegion<RawMutex>>,
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lock")
            .field("holder_pid", &self.region.header().owner_pid())
            .finish()
    }
}

/// Proof that the calling thread holds a [`Lock`]; releases it when dropped.
///
/// Not `Send`: a lock is released by the thread that acquired it.
///
/// ```compile_fail
/// let lock = multiprocessing::Lock::new().unwrap();
/// let guard = lock.acquire().unwrap();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard)); // error: `LockGuard` cannot be sent between threads
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    mutex: &'a RawMutex,
    _not_send: NotSend,
}

impl std::fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

impl Lock {
    /// A new, unlocked lock.
    pub fn new() -> Result<Self, CreateError> {
        // SAFETY: `RawMutex::init` makes a valid mutex in the fresh region before anyone else
        // can reach it.
        let region = unsafe { SharedRegion::new(0, |mutex| RawMutex::init(mutex, false)) }
            .map_err(|source| CreateError::Os {
                object: "lock",
                source,
            })?;
        Ok(Self {
            region: Arc::new(region),
        })
    }

    /// Blocks until the lock is free, then holds it until the guard drops.
    ///
    /// Errors: [`LockError::OwnerDied`] (acquired; the previous holder died holding it),
    /// [`LockError::Deadlock`] (this thread holds it already), [`LockError::Os`].
    pub fn acquire(&self) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.acquire_with(Patience::Block)
    }

    /// Takes the lock only if it is free now, as Python's `acquire(block=False)`:
    /// [`LockError::WouldBlock`] if another thread or process holds it,
    /// [`LockError::Deadlock`] if this thread does.
    pub fn try_acquire(&self) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.acquire_with(Patience::Try)
    }

    /// Waits at most `timeout` for the lock: [`LockError::Timeout`] if it stayed held, as
    /// Python's `acquire(timeout=...)` returning `False`.
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.acquire_with(Patience::Timeout(timeout))
    }

    fn acquire_with(&self, patience: Patience) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        let mutex = self.mutex();
        // SAFETY: `acquire` builds the guard only once the mutex is held by this thread.
        acquire(mutex, patience, || unsafe { LockGuard::new(mutex) })
    }

    pub(crate) fn mutex(&self) -> &RawMutex {
        self.region.header()
    }
}

impl<'a> LockGuard<'a> {
    /// # Safety
    ///
    /// The calling thread must hold `mutex`; the guard takes over releasing it.
    pub(crate) unsafe fn new(mutex: &'a RawMutex) -> Self {
        Self {
            mutex,
            _not_send: NotSend::default(),
        }
    }

    pub(crate) fn mutex(&self) -> &'a RawMutex {
        self.mutex
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: a guard exists only while its thread holds the mutex (it is built right
        // after a successful lock and is not Send).
        unsafe { self.mutex.unlock() };
    }
}
