//! Writing to a pipe whose reader is gone without being killed by SIGPIPE.
//!
//! Sockets avoid the signal per call with `MSG_NOSIGNAL`; pipes have no such flag. A Rust
//! binary ignores SIGPIPE from startup and a forked child inherits that, so usually a plain
//! `write` is safe and `EPIPE` comes back as an error. A program may have restored the default
//! (fatal) action, though, or be a C host; for those, each write is made with SIGPIPE blocked
//! in the writing thread, and a SIGPIPE that write raised is taken off the pending set before
//! the mask is restored. The process-wide disposition is never changed: that is the program's
//! choice, not a library's.

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

/// How writes to one pipe end keep SIGPIPE from killing the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigpipeDefence {
    /// SIGPIPE was ignored when the end was made: a failed write just returns `EPIPE`.
    AlreadyIgnored,
    /// Block SIGPIPE around each write and discard the one the write raised.
    BlockAroundWrites,
}

impl SigpipeDefence {
    /// Picks the cheapest defence for the process's current SIGPIPE disposition. The answer is
    /// kept per pipe end: a program that changes the disposition to "default" after creating
    /// an end must not write to a closed pipe through it.
    pub(crate) fn for_current_disposition() -> Self {
        if sigpipe_is_ignored() {
            Self::AlreadyIgnored
        } else {
            Self::BlockAroundWrites
        }
    }

    /// Runs `write`, which returns its result and whether it failed with `EPIPE`, so that no
    /// SIGPIPE it raises reaches the process.
    pub(crate) fn guard<R>(self, write: impl FnOnce() -> (R, bool)) -> R {
        match self {
            Self::AlreadyIgnored => write().0,
            Self::BlockAroundWrites => with_sigpipe_blocked(write),
        }
    }
}

fn sigpipe_is_ignored() -> bool {
    let mut current = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action makes sigaction only report the current one into `current`,
    // a valid, writable sigaction.
    let rc = unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), current.as_mut_ptr()) };
    // SAFETY: zero-initialised, and filled in by the kernel when rc == 0.
    rc == 0 && unsafe { current.assume_init() }.sa_sigaction == libc::SIG_IGN
}

fn with_sigpipe_blocked<R>(write: impl FnOnce() -> (R, bool)) -> R {
    let only_sigpipe: SigSet = [Signal::SIGPIPE].into_iter().collect();
    // A SIGPIPE already pending is someone else's; leave it for them.
    let already_pending = sigpipe_pending();
    let Ok(previous_mask) = only_sigpipe.thread_swap_mask(SigmaskHow::SIG_BLOCK) else {
        // Cannot fail with a valid set and `how`; writing unguarded is the only way left.
        return write().0;
    };
    let (result, raised_epipe) = write();
    if raised_epipe && !already_pending {
        let no_wait = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: both pointers are to valid values on this stack; a null siginfo is allowed.
        // The signal was raised for this thread by the failed write and is blocked, so it is
        // pending here and this takes it without waiting.
        unsafe { libc::sigtimedwait(only_sigpipe.as_ref(), std::ptr::null_mut(), &no_wait) };
    }
    // Restoring a mask we just read cannot fail.
    let _ = previous_mask.thread_set_mask();
    result
}

fn sigpipe_pending() -> bool {
    let mut pending = SigSet::empty();
    // SAFETY: `SigSet` is `repr(transparent)` over `sigset_t`, so the pointer is to a valid,
    // writable sigset_t that sigpending fills in.
    let rc = unsafe { libc::sigpending(std::ptr::from_mut(&mut pending).cast()) };
    rc == 0 && pending.contains(Signal::SIGPIPE)
}
