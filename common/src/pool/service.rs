//! The library's own helper processes: the pool's fork server and the manager's server.
//!
//! Both are forked from the user's process, which may have many threads. After such a fork
//! only the forking thread exists in the child, and any lock another thread held at that
//! moment stays held forever. A service process therefore does very little of its own: it
//! closes every inherited descriptor it does not need (so it does not keep the user's pipes
//! open, which would hide an end-of-file from a reader), runs one single-threaded loop, and
//! leaves with `_exit`. It watches its parent (`getppid`) so it never outlives it.
//!
//! Panics inside service processes (a pool task, a manager `update` function) are reported
//! back as values, so the library installs, once, a panic hook that stays silent in these
//! processes and records where the panic happened; in every other process it calls the
//! hook that was there before, so the user's process sees no difference.

use std::cell::RefCell;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getppid};

use crate::ExitStatus;

/// Exit code of a service process whose loop panicked (a bug in the library).
const SERVICE_PANIC_EXIT_CODE: i32 = 70;

/// True in the fork server, the pool's workers and the manager's server.
static IN_SERVICE_PROCESS: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

thread_local! {
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the library's panic hook (once per process); see the module docs.
pub(crate) fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_SERVICE_PROCESS.load(Ordering::Relaxed) {
                let location = info.location().map(ToString::to_string);
                LAST_PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// The location of the last panic on this thread of a service process, taken.
pub(crate) fn take_panic_location() -> Option<String> {
    LAST_PANIC_LOCATION.with(|slot| slot.borrow_mut().take())
}

/// The message of a caught panic's payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked with a non-string payload".to_owned())
}

/// A running service process, owned (and reaped) by the process that forked it.
#[derive(Debug)]
pub(crate) struct ServiceProcess {
    pid: Pid,
    /// Readable once the child has exited; `None` on kernels without `pidfd_open`.
    pidfd: Option<OwnedFd>,
    status: Option<ExitStatus>,
}

impl ServiceProcess {
    /// Forks a child that keeps only stdio and `keep` open, runs `body` and exits with the
    /// code it returns. `body` is dropped in the parent, closing the parent's copies of
    /// whatever it owns (such as the child's end of a socket pair).
    pub(crate) fn spawn(keep: &[RawFd], body: impl FnOnce() -> i32) -> std::io::Result<Self> {
        install_panic_hook();
        // Unflushed parent output would otherwise be printed again by the child.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        // SAFETY: the child only closes descriptors, runs `body` (a single-threaded loop that
        // takes no lock another thread of the parent could hold, see the module docs) and
        // `_exit`s without returning into the parent's code.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                become_service_process(keep);
                let code = catch_unwind(AssertUnwindSafe(body)).unwrap_or(SERVICE_PANIC_EXIT_CODE);
                exit_now(code)
            }
            Ok(ForkResult::Parent { child }) => {
                drop(body);
                Ok(Self {
                    pid: child,
                    pidfd: pidfd_open(child),
                    status: None,
                })
            }
            Err(errno) => Err(errno.into()),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Sends `signal` unless the child has already been reaped (its pid may be reused).
    pub(crate) fn signal(&self, signal: Signal) {
        if self.status.is_none() {
            let _ = kill(self.pid, signal);
        }
    }

    /// Waits up to `timeout` for the child to exit and reaps it.
    pub(crate) fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_reap() {
                return Some(status);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            match &self.pidfd {
                Some(fd) => {
                    let mut fds = [pollfd(fd.as_raw_fd(), libc::POLLIN)];
                    let _ = poll(&mut fds, Some(left));
                }
                None => std::thread::sleep(left.min(Duration::from_millis(2))),
            }
        }
    }

    /// Waits `grace` for the child to exit by itself, then kills it; always reaps it.
    pub(crate) fn stop(&mut self, grace: Duration) -> ExitStatus {
        if let Some(status) = self.wait_timeout(grace) {
            return status;
        }
        self.signal(Signal::SIGKILL);
        loop {
            // SIGKILL cannot be caught: the child is gone within moments.
            if let Some(status) = self.wait_timeout(Duration::from_secs(1)) {
                return status;
            }
        }
    }

    fn try_reap(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(status) => exit_status(status),
                // Not our child any more (reaped elsewhere): treat as gone.
                Err(Errno::ECHILD) => Some(ExitStatus::Exited(0)),
                Err(_) => None,
            };
        }
        self.status
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if self.status.is_none() {
            self.signal(Signal::SIGKILL);
            let _ = self.wait_timeout(Duration::from_secs(5));
        }
    }
}

/// Sets up a freshly forked service process: marks it, closes what it must not hold.
pub(crate) fn become_service_process(keep: &[RawFd]) {
    IN_SERVICE_PROCESS.store(true, Ordering::Relaxed);
    close_inherited_fds(keep);
}

/// Leaves the process at once: no destructors of objects the child only has copies of, no
/// atexit handlers of the parent's libraries.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is async-signal-safe and takes no lock; it ends the process here.
    unsafe { libc::_exit(code) }
}

/// True while the process that forked us is still our parent.
pub(crate) fn parent_is(expected: Pid) -> bool {
    getppid() == expected
}

/// Converts a final wait status; `None` for stop/continue reports.
pub(crate) fn exit_status(status: WaitStatus) -> Option<ExitStatus> {
    match status {
        WaitStatus::Exited(_, code) => Some(ExitStatus::Exited(code)),
        WaitStatus::Signaled(_, signal, _) => Some(ExitStatus::Signaled(signal)),
        _ => None,
    }
}

/// Closes every descriptor except 0, 1, 2 and `keep`.
fn close_inherited_fds(keep: &[RawFd]) {
    let mut keep: Vec<RawFd> = keep.iter().copied().chain(0..=2).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first: u32 = 0;
    for &fd in &keep {
        let fd = fd as u32;
        if fd > first {
            close_range(first, fd - 1, &keep);
        }
        first = fd + 1;
    }
    close_range(first, u32::MAX, &keep);
}

fn close_range(first: u32, last: u32, keep: &[RawFd]) {
    // SAFETY: close_range takes two integers and flags; it touches no memory of ours. The
    // descriptors it closes are copies this fresh child never uses (see the callers).
    let done = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) } == 0;
    if !done {
        // Kernels before 5.9: close one by one, up to the descriptor limit.
        let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map_or(1024, |(soft, _)| soft.min(65_536)) as u32;
        for fd in first..=last.min(limit) {
            if !keep.contains(&(fd as RawFd)) {
                // SAFETY: as above; closing a descriptor that is not open just fails (EBADF).
                unsafe { libc::close(fd as RawFd) };
            }
        }
    }
}

/// A pidfd for `pid`, or `None` where the kernel has none (before 5.3).
pub(crate) fn pidfd_open(pid: Pid) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// `poll(2)` over `fds`; `None` waits without limit. An interrupted call reports zero ready
/// descriptors (callers loop).
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout: Option<Duration>) -> std::io::Result<usize> {
    let millis = timeout.map_or(-1, |t| {
        // Round up so a short timeout does not become a busy loop of zero-millisecond polls.
        let millis = t.as_nanos().div_ceil(1_000_000);
        libc::c_int::try_from(millis).unwrap_or(libc::c_int::MAX)
    });
    // SAFETY: `fds` is a valid, exclusively borrowed slice of pollfd for the whole call.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
    match Errno::result(ready) {
        Ok(ready) => Ok(ready as usize),
        Err(Errno::EINTR) => Ok(0),
        Err(errno) => Err(errno.into()),
    }
}
