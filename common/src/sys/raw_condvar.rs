//! A process-shared condition variable on a futex sequence counter.
//!
//! We do not use `pthread_cond_t` across processes: glibc's condvar keeps waiter groups in
//! the shared word, and a waiter killed while waiting (a pool's `terminate`, a `kill -9`) can
//! absorb a later `signal`, so a live waiter is never woken (glibc bug 21422 and relatives).
//! A futex sequence counter has no such state: the kernel only wakes tasks that are really
//! waiting, and a dead process is no longer one.
//!
//! ## Memory ordering
//!
//! `seq` is only read and bumped while the associated mutex is held (by `wait` before it
//! unlocks, by `notify_*` callers who hold the mutex or not); the mutex gives the ordering for
//! the guarded data. The futex syscall compares `seq` atomically with going to sleep, so a
//! notify between `wait`'s unlock and its sleep makes the sleep return at once: no lost wakeup.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::raw_mutex::{Acquired, LockFailure, RawMutex};

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Woken {
    /// Notified, or woken spuriously: callers re-check their predicate.
    Notified(Acquired),
    /// The timeout passed (the mutex is held again).
    TimedOut(Acquired),
}

/// A condition variable usable from any process that maps it.
#[repr(C)]
pub(crate) struct RawCondvar {
    seq: AtomicU32,
    /// Threads inside `wait`; lets `notify_*` skip the syscall when nobody waits. A waiter
    /// killed while waiting leaves this too high, which only costs a spare syscall.
    waiters: AtomicU32,
}

impl RawCondvar {
    /// A condvar in its initial state; all-zero memory is also that state.
    pub(crate) const fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Unlocks `mutex`, sleeps until notified (or spuriously), and locks `mutex` again.
    ///
    /// # Safety
    ///
    /// The calling thread must hold `mutex`.
    pub(crate) unsafe fn wait(&self, mutex: &RawMutex) -> Result<Acquired, LockFailure> {
        // SAFETY: forwarded contract.
        match unsafe { self.wait_until(mutex, None) }? {
            Woken::Notified(acquired) | Woken::TimedOut(acquired) => Ok(acquired),
        }
    }

    /// As [`wait`](Self::wait), giving up after `timeout`.
    ///
    /// # Safety
    ///
    /// The calling thread must hold `mutex`.
    pub(crate) unsafe fn wait_timeout(
        &self,
        mutex: &RawMutex,
        timeout: Duration,
    ) -> Result<Woken, LockFailure> {
        let deadline = Instant::now().checked_add(timeout);
        // SAFETY: forwarded contract.
        unsafe { self.wait_until(mutex, Some(deadline.unwrap_or_else(far_future))) }
    }

    /// # Safety
    ///
    /// The calling thread must hold `mutex`.
    unsafe fn wait_until(
        &self,
        mutex: &RawMutex,
        deadline: Option<Instant>,
    ) -> Result<Woken, LockFailure> {
        let seen = self.seq.load(Ordering::Acquire);
        self.waiters.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the caller holds `mutex`.
        unsafe { mutex.unlock() };
        let timed_out = match deadline {
            None => {
                futex_wait(&self.seq, seen, None);
                false
            }
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                left.is_zero() || futex_wait(&self.seq, seen, Some(left)) == FutexWait::TimedOut
            }
        };
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        let acquired = mutex.lock()?;
        Ok(if timed_out {
            Woken::TimedOut(acquired)
        } else {
            Woken::Notified(acquired)
        })
    }

    /// Wakes one waiter, if any.
    pub(crate) fn notify_one(&self) {
        self.seq.fetch_add(1, Ordering::Release);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            futex_wake(&self.seq, 1);
        }
    }

    /// Wakes every waiter.
    pub(crate) fn notify_all(&self) {
        self.seq.fetch_add(1, Ordering::Release);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            futex_wake(&self.seq, i32::MAX);
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(60 * 60 * 24 * 365)
}

#[derive(Debug, PartialEq, Eq)]
enum FutexWait {
    /// Woken, interrupted, or the value had already changed.
    Woken,
    TimedOut,
}

/// Sleeps while `*word == expected`, for at most `timeout`. Shared (not PRIVATE) futex ops,
/// because waiters and wakers live in different processes.
fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> FutexWait {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(t.subsec_nanos() as i32),
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; FUTEX_WAIT only
    // reads it and takes a relative CLOCK_MONOTONIC timeout, which `ts_ptr` points to (or null).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
            std::ptr::null::<u32>(),
            0u32,
        )
    };
    if rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT) {
        FutexWait::TimedOut
    } else {
        FutexWait::Woken
    }
}

/// Wakes up to `count` tasks sleeping on `word`.
fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: `word` is a valid, aligned u32; FUTEX_WAKE does not access user memory beyond
    // using its address as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, count);
    }
}
