//! A process-shared condition variable on a futex sequence counter.
//!
//! We do not use `pthread_cond_t` across processes: glibc's condvar keeps waiter groups in
//! the shared word, and a waiter killed while waiting (a pool's `terminate`, a `kill -9`) can
//! absorb a later `signal`, so a live waiter is never woken (glibc bug 21422 and relatives).
//! A futex sequence counter has no such state: the kernel only wakes tasks that are really
//! waiting, and a dead process is no longer one.
//!
//! ## Memory ordering, and why no wakeup is lost
//!
//! A waiter reads `seq` and counts itself in `waiters` while it holds the mutex, then unlocks.
//! Whoever announces a change made the change under that mutex, so either the waiter saw the
//! change before deciding to wait, or the notifier's lock came after the waiter's unlock and
//! its `notify_*` sees `waiters > 0`: a notify that sees no waiter can skip everything.
//! Otherwise it bumps `seq`. The waiter first spins, watching `seq`; only then does it count
//! itself in `sleepers` and sleep with a futex wait, which compares `seq` atomically with
//! going to sleep. Both sides use `SeqCst` for the bump/count and the load that follows, so a
//! notifier that sees no sleeper bumped `seq` before the sleeper's compare: the sleep returns
//! at once. The futex wake (a system call) is paid only when someone really sleeps.
//!
//! ## Exactly one for `notify_one`
//!
//! Every spinning waiter sees a bump of `seq`, so the bump alone would let `notify_one` wake
//! them all; a course that teaches why `notify()` is not `notify_all()` cannot have that (the
//! lost wakeup a student's `notify()` causes would hide). Likewise only a waiter that is alone
//! spins: others sleep, so the kernel wakes them in the order they came, as it would without
//! spinning (a spinner would otherwise take every wakeup from older sleepers, and a student's
//! `notify()` that wakes the wrong side would mostly wake the right one). So a notify also
//! grants *tokens*: one for `notify_one`, one per waiter for `notify_all`. A waiter that sees
//! `seq` move takes a token (a compare-and-swap) and leaves; finding none, it goes back to
//! waiting. It reads `seq` before trying, and notifiers grant the token before the bump, so a
//! token granted after a failed try comes with a bump it has not seen yet: it tries again.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::raw_mutex::{Acquired, LockFailure, RawMutex, Spin};

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
    /// Threads inside `wait`, spinning or asleep; lets `notify_*` do nothing when nobody
    /// waits. A waiter killed while waiting leaves this too high, which only costs spare work.
    waiters: AtomicU32,
    /// Threads asleep (or about to be) in the futex wait; lets `notify_*` skip the system call
    /// when every waiter is still spinning.
    sleepers: AtomicU32,
    /// Wakeups granted and not yet taken (see the module docs).
    tokens: AtomicU32,
}

/// How long a waiter watches `seq` before sleeping. A wakeup from the futex costs the
/// notifier a system call (with the futex in shared memory, a page-table walk too) and the
/// waiter tens of microseconds when its CPU had gone idle; in a queue or bounded buffer whose
/// other side is running, the awaited change is usually well under this away. Against a
/// scheduler slice of milliseconds it is short enough not to matter when the other side is
/// not running.
pub(crate) const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(20);

impl RawCondvar {
    /// A condvar in its initial state; all-zero memory is also that state.
    pub(crate) const fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            tokens: AtomicU32::new(0),
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

    /// As [`wait`](Self::wait) (with a deadline when `deadline` is `Some`), for a condition
    /// that others change *without* holding `mutex`: once counted as a waiter, and before
    /// unlocking, it calls `changed`; if that says the awaited change already happened, it
    /// returns at once, still holding `mutex`.
    ///
    /// No wakeup is lost if the other side publishes its change with a `SeqCst` store (or
    /// read-modify-write) and only then calls `notify_*`, and `changed` reads it with a
    /// `SeqCst` load: either the notifier sees this waiter counted and wakes it, or `changed`
    /// sees the change (the store-then-load on both sides is Dekker's pattern).
    ///
    /// # Safety
    ///
    /// The calling thread must hold `mutex`.
    pub(crate) unsafe fn wait_unless(
        &self,
        mutex: &RawMutex,
        deadline: Option<Instant>,
        changed: impl Fn() -> bool,
    ) -> Result<Woken, LockFailure> {
        // SAFETY: forwarded contract.
        unsafe { self.wait_core(mutex, deadline, changed) }
    }

    /// # Safety
    ///
    /// The calling thread must hold `mutex`.
    unsafe fn wait_until(
        &self,
        mutex: &RawMutex,
        deadline: Option<Instant>,
    ) -> Result<Woken, LockFailure> {
        // SAFETY: forwarded contract. Changes are made under `mutex`, so none can be missed
        // while we hold it: nothing to re-check.
        unsafe { self.wait_core(mutex, deadline, || false) }
    }

    /// # Safety
    ///
    /// The calling thread must hold `mutex`.
    unsafe fn wait_core(
        &self,
        mutex: &RawMutex,
        deadline: Option<Instant>,
        changed: impl Fn() -> bool,
    ) -> Result<Woken, LockFailure> {
        let seen = self.seq.load(Ordering::Acquire);
        let alone = self.waiters.fetch_add(1, Ordering::SeqCst) == 0;
        if changed() {
            self.waiters.fetch_sub(1, Ordering::SeqCst);
            return Ok(Woken::Notified(Acquired::Clean));
        }
        // SAFETY: the caller holds `mutex`.
        unsafe { mutex.unlock() };
        let mut seen = seen;
        // Spin only as the one waiter: then whoever is notified, it is us. With others waiting
        // (asleep, in the kernel's first-come order), a spinner would jump that queue and
        // change *who* `notify_one` wakes, and a student's wrong `notify()` would go unseen.
        let mut may_spin = alone;
        let timed_out = loop {
            if !self.wait_for_bump(seen, deadline, may_spin) {
                self.waiters.fetch_sub(1, Ordering::SeqCst);
                self.return_surplus_tokens();
                break true;
            }
            seen = self.seq.load(Ordering::SeqCst);
            if self.take_token() {
                self.waiters.fetch_sub(1, Ordering::SeqCst);
                break false;
            }
            may_spin = false;
        };
        let acquired = mutex.lock(Spin::Briefly)?;
        Ok(if timed_out {
            Woken::TimedOut(acquired)
        } else {
            Woken::Notified(acquired)
        })
    }

    /// Waits until `seq` moves away from `seen` (true; possibly spuriously) or `deadline`
    /// passes (false): spinning first if `may_spin`, then asleep in the kernel.
    fn wait_for_bump(&self, seen: u32, deadline: Option<Instant>, may_spin: bool) -> bool {
        if may_spin && self.spin_while_unchanged(seen) {
            return true;
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let bumped = match deadline {
            None => {
                futex_wait(&self.seq, seen, None);
                true
            }
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                !left.is_zero() && futex_wait(&self.seq, seen, Some(left)) != FutexWait::TimedOut
            }
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        bumped
    }

    /// Takes one granted wakeup, if there is one.
    fn take_token(&self) -> bool {
        self.tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |tokens| {
                tokens.checked_sub(1)
            })
            .is_ok()
    }

    /// After a waiter left without a token: drops tokens no waiter is left to take, so that a
    /// later `notify_one` does not find one spare and wake two.
    fn return_surplus_tokens(&self) {
        let _ = self
            .tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |tokens| {
                let waiters = self.waiters.load(Ordering::SeqCst);
                (tokens > waiters).then_some(waiters)
            });
    }

    /// True as soon as `seq` moves away from `seen`; false once [`SPIN_BEFORE_SLEEP`] passed.
    fn spin_while_unchanged(&self, seen: u32) -> bool {
        spin_until(SPIN_BEFORE_SLEEP, || {
            self.seq.load(Ordering::Acquire) != seen
        })
    }

    /// Wakes one waiter, if any.
    pub(crate) fn notify_one(&self) {
        let waiters = self.waiters.load(Ordering::SeqCst);
        if waiters == 0 {
            return;
        }
        // One more token, unless every waiter has one already.
        let _ = self
            .tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |tokens| {
                (tokens < waiters).then_some(tokens + 1)
            });
        self.bump_and_wake(1);
    }

    /// Wakes every waiter.
    pub(crate) fn notify_all(&self) {
        let waiters = self.waiters.load(Ordering::SeqCst);
        if waiters == 0 {
            return;
        }
        self.tokens.fetch_max(waiters, Ordering::SeqCst);
        self.bump_and_wake(i32::MAX);
    }

    /// Announces the tokens just granted: spinners see the bump, and up to `count` sleepers are
    /// woken (a woken sleeper that finds the token taken by a spinner sleeps again).
    fn bump_and_wake(&self, count: i32) {
        self.seq.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            futex_wake(&self.seq, count);
        }
    }
}

/// Calls `done` in a loop, with a spin-loop hint between calls, until it returns true (then
/// true) or `budget` has passed (then false). The clock is read only every few dozen turns.
pub(crate) fn spin_until(budget: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..32 {
            if done() {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= budget {
            return false;
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
