//! A robust, process-shared pthread mutex placed in shared memory.
//!
//! Robust means the kernel tracks the owner: when a process dies holding the mutex, the next
//! `lock` succeeds with `EOWNERDEAD` instead of blocking forever. We then mark the mutex
//! consistent at once and tell the caller who died, so each higher-level type chooses what
//! the death means for its data (a `Lock` reports it; a `Queue` whose writes commit
//! atomically recovers silently).

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many times a blocking lock re-checks a held mutex before sleeping in the kernel.
///
/// glibc spins only for `PTHREAD_MUTEX_ADAPTIVE_NP`, which cannot be robust: a contended robust
/// mutex goes to sleep at once, and waking the sleeper costs the holder a `futex_wake` and the
/// sleeper a wakeup (tens of microseconds when its CPU had gone idle). Our critical sections
/// are a few copies long, so a spin of a microsecond or two usually sees the holder leave.
const SPINS_BEFORE_SLEEP: u32 = 100;

/// Whether a blocking lock watches a held mutex for a moment before sleeping in the kernel.
///
/// Spinning pays where the holder is about to let go: the library's own critical sections
/// (a queue's copy) and re-taking a condition's mutex right after a notify (the notifier
/// unlocks next). It costs where two processes hammer a lock: a spinner takes the mutex the
/// moment it is free, so it bounces between CPUs on every acquisition, where a sleeper lets
/// the holder run on; measured with `cargo bench -p multiprocessing --bench vs_python`, locked
/// `Value` increments fell from ~8-10M/s to ~5-6M/s with spinning while the Condition buffer
/// rose from ~0.8-1.4M to ~2.0-2.3M items/s. So a student's `Lock` spins only when it is a
/// `Condition`'s ([`RawMutex::locker_spin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spin {
    /// Sleep in the kernel as soon as the mutex is seen held.
    Never,
    /// Watch the holder for up to [`SPINS_BEFORE_SLEEP`] rounds first.
    Briefly,
}

/// How a successful lock went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// The previous holder unlocked normally.
    Clean,
    /// The previous holder died holding the mutex. The mutex is consistent again and held by
    /// the caller; the data it guards may be half-updated.
    OwnerDied {
        /// Pid of the process that died, as recorded when it locked.
        pid: i32,
    },
}

/// Why a lock attempt did not acquire the mutex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockFailure {
    /// `try_lock` found it held.
    WouldBlock,
    /// The deadline passed.
    TimedOut,
    /// The calling thread already holds this (non-recursive) mutex.
    Deadlock,
    /// Any other error code from pthreads.
    Os(i32),
}

/// `pthread_mutex_t` plus the pid of its current holder.
#[repr(C)]
pub(crate) struct RawMutex {
    mutex: UnsafeCell<libc::pthread_mutex_t>,
    /// Pid of the holder, 0 when free. Written only by the holder; read to name a dead one.
    owner_pid: AtomicI32,
    /// How many times the holder has locked it (above 1 only for a recursive mutex), so that
    /// an inner `unlock` of a recursive mutex does not forget who still holds it.
    /// Touched only by the holder.
    depth: AtomicU32,
    /// Set once a condition variable is used with this mutex: see [`RawMutex::locker_spin`].
    serves_condition: AtomicBool,
}

// SAFETY: pthread mutexes are made to be used from many threads (and, with PSHARED, many
// processes) at once through a shared pointer; that is their whole purpose.
unsafe impl Sync for RawMutex {}
// SAFETY: as above; the mutex has no thread affinity except while locked, and a locked
// mutex's guard is not Send.
unsafe impl Send for RawMutex {}

fn check(code: libc::c_int) -> std::io::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(std::io::Error::from_raw_os_error(code))
    }
}

impl RawMutex {
    /// Initialises a mutex in place.
    ///
    /// # Safety
    ///
    /// `this` must point to writable memory for a `RawMutex` that lives at this address for
    /// as long as any process uses it (a [`SharedRegion`](super::SharedRegion) header), and no
    /// other thread or process may use it until `init` returns.
    pub(crate) unsafe fn init(this: *mut Self, recursive: bool) -> std::io::Result<()> {
        // SAFETY: `attr` is initialised by pthread_mutexattr_init before any other use and
        // destroyed once; `this` is valid for writes per the caller's contract, and
        // pthread_mutex_init is given a pointer into it.
        unsafe {
            let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
            check(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
            let attr_ptr = attr.as_mut_ptr();
            let kind = if recursive {
                libc::PTHREAD_MUTEX_RECURSIVE
            } else {
                libc::PTHREAD_MUTEX_ERRORCHECK
            };
            let result = check(libc::pthread_mutexattr_setpshared(
                attr_ptr,
                libc::PTHREAD_PROCESS_SHARED,
            ))
            .and_then(|()| {
                check(libc::pthread_mutexattr_setrobust(
                    attr_ptr,
                    libc::PTHREAD_MUTEX_ROBUST,
                ))
            })
            .and_then(|()| check(libc::pthread_mutexattr_settype(attr_ptr, kind)))
            .and_then(|()| {
                std::ptr::addr_of_mut!((*this).owner_pid).write(AtomicI32::new(0));
                std::ptr::addr_of_mut!((*this).depth).write(AtomicU32::new(0));
                std::ptr::addr_of_mut!((*this).serves_condition).write(AtomicBool::new(false));
                check(libc::pthread_mutex_init(
                    UnsafeCell::raw_get(std::ptr::addr_of!((*this).mutex)),
                    attr_ptr,
                ))
            });
            libc::pthread_mutexattr_destroy(attr_ptr);
            result
        }
    }

    fn raw(&self) -> *mut libc::pthread_mutex_t {
        self.mutex.get()
    }

    /// Turns a pthread lock result into our outcome, recording the new owner.
    fn finish(&self, code: libc::c_int) -> Result<Acquired, LockFailure> {
        match code {
            0 => {
                self.owner_pid.store(current_pid(), Ordering::Relaxed);
                self.depth.fetch_add(1, Ordering::Relaxed);
                Ok(Acquired::Clean)
            }
            libc::EOWNERDEAD => {
                let pid = self.owner_pid.load(Ordering::Relaxed);
                // SAFETY: we hold the mutex (EOWNERDEAD means it was acquired); marking it
                // consistent is exactly what POSIX asks of the new owner.
                unsafe { libc::pthread_mutex_consistent(self.raw()) };
                self.owner_pid.store(current_pid(), Ordering::Relaxed);
                // The dead holder's nesting died with it: glibc hands us the mutex locked once.
                self.depth.store(1, Ordering::Relaxed);
                Ok(Acquired::OwnerDied { pid })
            }
            libc::EBUSY => Err(LockFailure::WouldBlock),
            libc::ETIMEDOUT => Err(LockFailure::TimedOut),
            libc::EDEADLK => Err(LockFailure::Deadlock),
            other => Err(LockFailure::Os(other)),
        }
    }

    /// Blocks until the mutex is held by the caller. `spin` says whether to watch a held mutex
    /// for a moment before sleeping (see [`Spin`]).
    pub(crate) fn lock(&self, spin: Spin) -> Result<Acquired, LockFailure> {
        match self.try_lock_spinning(spin) {
            Err(LockFailure::WouldBlock) => {
                // SAFETY: the mutex was initialised by `init` and lives in memory valid for
                // `self`.
                let code = unsafe { libc::pthread_mutex_lock(self.raw()) };
                self.finish(code)
            }
            other => other,
        }
    }

    /// Tries to take the mutex, and while it is held (and `spin` allows), watches it for a
    /// short while ([`SPINS_BEFORE_SLEEP`]) and tries again when it looks free. Watching reads
    /// the holder's pid, which leaves the cache line shared; retrying `trylock` in a loop
    /// would write to it each time and slow the holder down.
    fn try_lock_spinning(&self, spin: Spin) -> Result<Acquired, LockFailure> {
        let mut result = self.try_lock();
        let budget = match spin {
            Spin::Briefly => SPINS_BEFORE_SLEEP,
            Spin::Never => 0,
        };
        let mut spins = 0;
        while result == Err(LockFailure::WouldBlock) && spins < budget {
            spins += 1;
            std::hint::spin_loop();
            if self.owner_pid.load(Ordering::Relaxed) == 0 {
                result = self.try_lock();
            }
        }
        result
    }

    /// Takes the mutex if it is free.
    pub(crate) fn try_lock(&self) -> Result<Acquired, LockFailure> {
        // SAFETY: as in `lock`.
        let code = unsafe { libc::pthread_mutex_trylock(self.raw()) };
        self.finish(code)
    }

    /// Blocks for at most `timeout`.
    pub(crate) fn lock_timeout(
        &self,
        timeout: Duration,
        spin: Spin,
    ) -> Result<Acquired, LockFailure> {
        let spun = self.try_lock_spinning(spin);
        if spun != Err(LockFailure::WouldBlock) {
            return spun;
        }
        // pthread_mutex_timedlock takes a CLOCK_REALTIME deadline; a wall-clock jump can
        // stretch or shorten the wait, which is acceptable for a lock timeout.
        let deadline = realtime_deadline(timeout);
        // SAFETY: as in `lock`; `deadline` is a valid timespec on our stack.
        let code = unsafe { libc::pthread_mutex_timedlock(self.raw(), &deadline) };
        self.finish(code)
    }

    /// Marks the mutex as the lock of a condition variable, so that [`locker_spin`]
    /// (Self::locker_spin) says to spin.
    pub(crate) fn mark_serves_condition(&self) {
        self.serves_condition.store(true, Ordering::Relaxed);
    }

    /// How a user's blocking lock of this mutex should wait: briefly spinning for a
    /// condition's lock, whose holders only check a state and notify or wait, sleeping at once
    /// for a plain lock, which a counter loop may hammer (see [`Spin`]).
    pub(crate) fn locker_spin(&self) -> Spin {
        if self.serves_condition.load(Ordering::Relaxed) {
            Spin::Briefly
        } else {
            Spin::Never
        }
    }

    /// Releases the mutex.
    ///
    /// # Safety
    ///
    /// The calling thread must hold the mutex.
    pub(crate) unsafe fn unlock(&self) {
        if self.depth.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.owner_pid.store(0, Ordering::Relaxed);
        }
        // SAFETY: the caller holds the mutex, per this function's contract. An error-checking
        // mutex returns EPERM otherwise, which cannot happen under that contract.
        unsafe { libc::pthread_mutex_unlock(self.raw()) };
    }

    /// Pid recorded by the current holder, 0 when free.
    pub(crate) fn owner_pid(&self) -> i32 {
        self.owner_pid.load(Ordering::Relaxed)
    }
}

/// This process's pid, 0 while not cached. `getpid` is a system call (glibc stopped caching
/// it in 2.25) and every lock records its owner, so we cache it once an atfork handler is in
/// place to forget it in a forked child, which has a new pid.
static CACHED_PID: AtomicI32 = AtomicI32::new(0);

/// Whether that handler is registered: one of the `PID_HANDLER_*` states.
static PID_HANDLER: AtomicU8 = AtomicU8::new(PID_HANDLER_NONE);
const PID_HANDLER_NONE: u8 = 0;
/// Some thread is registering it. Nobody waits for that thread: a child forked meanwhile
/// would wait forever (the registering thread does not exist in the child).
const PID_HANDLER_REGISTERING: u8 = 1;
const PID_HANDLER_READY: u8 = 2;
/// Registration failed (ENOMEM): never cache, a stale pid would name the wrong owner.
const PID_HANDLER_FAILED: u8 = 3;

extern "C" fn forget_pid_in_child() {
    CACHED_PID.store(0, Ordering::Relaxed);
}

fn current_pid() -> i32 {
    let cached = CACHED_PID.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    if PID_HANDLER
        .compare_exchange(
            PID_HANDLER_NONE,
            PID_HANDLER_REGISTERING,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_ok()
    {
        // SAFETY: registers a child-side handler that only stores to an atomic, which is
        // async-signal-safe, as a handler run in a forked child must be.
        let code = unsafe { libc::pthread_atfork(None, None, Some(forget_pid_in_child)) };
        let state = if code == 0 {
            PID_HANDLER_READY
        } else {
            PID_HANDLER_FAILED
        };
        PID_HANDLER.store(state, Ordering::Release);
    }
    let pid = std::process::id() as i32;
    if PID_HANDLER.load(Ordering::Acquire) == PID_HANDLER_READY {
        CACHED_PID.store(pid, Ordering::Relaxed);
    }
    pid
}

fn realtime_deadline(timeout: Duration) -> libc::timespec {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let at = now.saturating_add(timeout);
    libc::timespec {
        tv_sec: libc::time_t::try_from(at.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(at.subsec_nanos() as i32),
    }
}
