//! `Process`: run a closure in a forked child, as `multiprocessing.Process` does with the
//! fork start method.
//!
//! ## What the child inherits
//!
//! `fork` copies the whole address space: the child sees every variable the parent had, and
//! every shared object ([`Queue`](crate::Queue), [`Value`](crate::Value), ...) created before
//! `start` is the *same* object in both. Only the forking thread is copied: if other threads
//! held a lock at that moment (the allocator's, stdout's), it stays held in the child. The
//! library therefore keeps its own child-side code to the minimum (run the target, report a
//! panic on a pipe, flush, `_exit`), and its own pool forks workers from a single-threaded
//! fork server. Programs that fork from many threads at once should take care likewise.

use std::cell::Cell;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe2};

use crate::errors::ProcessError;

/// Exit code of a child whose target panicked (Python exits 1 on an uncaught exception).
pub const PANIC_EXIT_CODE: i32 = 1;

/// Longest panic message carried back to `join`; longer ones are cut. Small enough that the
/// child's single write never blocks on a full pipe.
const MAX_PANIC_MESSAGE: usize = 16 * 1024;

static NEXT_PROCESS_NUMBER: AtomicUsize = AtomicUsize::new(1);

/// Pids of children whose handle was dropped while they still ran; reaped at the next
/// `start` or drop so they do not stay zombies.
static UNREAPED: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

/// Whether `UNREAPED` may hold a pid. Read before taking the lock so that `start` writes to no
/// shared page in the common case: after a fork every page written is copied once more (a
/// page fault each, several microseconds in a VM), and `start` + `join` is mostly such faults.
static ANY_UNREAPED: AtomicBool = AtomicBool::new(false);

/// This process's name, as set by `start` in the child. Null means "MainProcess". Points at
/// the `name` of the `Process` whose `start` forked this child: in the child that `Process`
/// is never dropped or moved, because `run_child` never returns.
static CURRENT_NAME: AtomicPtr<String> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    static DISCARDING_FORK_COPY: Cell<bool> = const { Cell::new(false) };
}

/// True while the parent drops its copy of a target that a child has just taken over.
///
/// Resources whose drop tells a peer "closed" (a pipe end) must not do so then: the child
/// still owns the real one.
pub(crate) fn discarding_fork_copy() -> bool {
    DISCARDING_FORK_COPY.with(Cell::get)
}

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code (0 is success; 1 after a panic).
    Exited(i32),
    /// A signal ended it. Python reports this as a negative exit code.
    Signaled(Signal),
}

impl ExitStatus {
    /// Python's `exitcode`: the code, or minus the signal number.
    pub fn python_exitcode(self) -> i32 {
        match self {
            Self::Exited(code) => code,
            Self::Signaled(signal) => -(signal as i32),
        }
    }
}

type Target = Box<dyn FnOnce()>;

enum State {
    Created(Target),
    Running {
        pid: Pid,
        /// Readable when the child exits; opened by the first `join_timeout`, as only a
        /// deadline needs it. Stays `None` when the kernel has no pidfd_open.
        pidfd: Option<OwnedFd>,
        /// Read end of the pipe on which the child writes its panic message.
        panic_pipe: OwnedFd,
    },
    Finished {
        pid: Pid,
        status: ExitStatus,
        panic_message: Option<String>,
    },
    /// Only while moving between states.
    Transition,
}

/// A closure running in its own OS process, like Python's `multiprocessing.Process`.
///
/// ```
/// use multiprocessing as mp;
///
/// fn worker_function(name: &str) {
///     println!("Worker process (PID: {}) starting, name: {name}", std::process::id());
/// }
///
/// let mut process1 = mp::Process::new(|| worker_function("Process 1"));
/// let mut process2 = mp::Process::new(|| worker_function("Process 2"));
/// process1.start()?;
/// process2.start()?;
/// process1.join()?;
/// process2.join()?;
/// # Ok::<(), mp::ProcessError>(())
/// ```
///
/// A target that panics makes `join` return [`ProcessError::Panicked`] with the message; one
/// killed by a signal, [`ProcessError::Signaled`]. A handle dropped without `join` does not
/// leave a zombie: a finished child is reaped at once, a running one at the next `start` or
/// drop of any `Process` in this process.
pub struct Process {
    name: String,
    state: State,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("name", &self.name)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl Process {
    /// A process that will run `target` once started. Its name is `Process-N`, as in Python.
    pub fn new(target: impl FnOnce() + 'static) -> Self {
        let number = NEXT_PROCESS_NUMBER.fetch_add(1, Ordering::Relaxed);
        Self {
            name: format!("Process-{number}"),
            state: State::Created(Box::new(target)),
        }
    }

    /// Sets the name the child sees in [`current_process`] and errors mention.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The process's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's pid once started.
    pub fn pid(&self) -> Option<u32> {
        match &self.state {
            State::Running { pid, .. } | State::Finished { pid, .. } => Some(pid.as_raw() as u32),
            State::Created(_) | State::Transition => None,
        }
    }

    /// Forks the child, which runs the target and exits.
    pub fn start(&mut self) -> Result<(), ProcessError> {
        reap_dropped_children();
        let target = match std::mem::replace(&mut self.state, State::Transition) {
            State::Created(target) => target,
            other => {
                self.state = other;
                return Err(ProcessError::AlreadyStarted {
                    name: self.name.clone(),
                });
            }
        };
        let fork_error = |source: std::io::Error| ProcessError::Fork {
            name: self.name.clone(),
            source,
        };
        // Non-blocking on both ends: see `read_panic_message`; and a child's write that does
        // not fit (a pipe shrunk by the user's pipe quota) is cut short instead of blocking a
        // child whose parent reads only after it exited.
        let (panic_read, panic_write) =
            pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)
                .map_err(|e| fork_error(e.into()))?;
        // Unflushed parent output would otherwise be printed again by the child.
        let _ = std::io::stdout().flush();
        // SAFETY: the child runs only `run_child`, which calls the target then `_exit`s; see
        // the module docs for what a target may rely on after fork.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(panic_read);
                run_child(&self.name, target, panic_write)
            }
            Ok(ForkResult::Parent { child }) => {
                drop(panic_write);
                DISCARDING_FORK_COPY.with(|flag| flag.set(true));
                drop(target);
                DISCARDING_FORK_COPY.with(|flag| flag.set(false));
                self.state = State::Running {
                    pid: child,
                    pidfd: None,
                    panic_pipe: panic_read,
                };
                Ok(())
            }
            Err(errno) => {
                self.state = State::Created(target);
                Err(fork_error(errno.into()))
            }
        }
    }

    /// Waits for the child to end. `Ok` only if it returned normally (exit code 0).
    pub fn join(&mut self) -> Result<(), ProcessError> {
        self.wait(None)?;
        self.outcome()
    }

    /// Waits at most `timeout`; [`ProcessError::Timeout`] leaves the child running and
    /// joinable.
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<(), ProcessError> {
        if self.wait(Some(timeout))? {
            self.outcome()
        } else {
            Err(ProcessError::Timeout {
                name: self.name.clone(),
                pid: self.pid().unwrap_or(0),
                waited: timeout,
            })
        }
    }

    /// True from `start` until the child has ended.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.state, State::Running { .. }) && self.try_reap().is_ok_and(|done| !done)
    }

    /// How the child ended, or `None` while it runs (or before `start`).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        let _ = self.try_reap();
        match &self.state {
            State::Finished { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Sends SIGTERM, as Python's `terminate`. No effect on a child already reaped.
    pub fn terminate(&self) -> Result<(), ProcessError> {
        self.signal(Signal::SIGTERM)
    }

    /// Sends SIGKILL, as Python's `kill`. No effect on a child already reaped.
    pub fn kill(&self) -> Result<(), ProcessError> {
        self.signal(Signal::SIGKILL)
    }

    fn signal(&self, signal: Signal) -> Result<(), ProcessError> {
        match &self.state {
            // Only a running, unreaped pid is still ours: a reaped one may have been reused.
            State::Running { pid, .. } => match kill(*pid, signal) {
                Ok(()) | Err(Errno::ESRCH) => Ok(()),
                Err(errno) => Err(self.os_error("kill", *pid, errno)),
            },
            State::Finished { .. } => Ok(()),
            State::Created(_) | State::Transition => Err(ProcessError::NotStarted {
                name: self.name.clone(),
            }),
        }
    }

    fn os_error(&self, operation: &'static str, pid: Pid, errno: Errno) -> ProcessError {
        ProcessError::Os {
            name: self.name.clone(),
            pid: pid.as_raw() as u32,
            operation,
            source: errno.into(),
        }
    }

    /// Blocks until the child ended (true) or `timeout` passed (false).
    fn wait(&mut self, timeout: Option<Duration>) -> Result<bool, ProcessError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let (pid, pidfd) = match &mut self.state {
                State::Finished { .. } => return Ok(true),
                State::Running { pid, pidfd, .. } => {
                    // An unreaped child keeps its pid, so the pidfd names the right process.
                    if pidfd.is_none() && deadline.is_some() {
                        *pidfd = pidfd_open(*pid);
                    }
                    (*pid, pidfd.as_ref().map(AsRawFd::as_raw_fd))
                }
                State::Created(_) | State::Transition => {
                    return Err(ProcessError::NotStarted {
                        name: self.name.clone(),
                    });
                }
            };
            let Some(deadline) = deadline else {
                let status = loop {
                    match waitpid(pid, None) {
                        Err(Errno::EINTR) => continue,
                        other => break other,
                    }
                };
                let status = status.map_err(|errno| self.os_error("waitpid", pid, errno))?;
                self.record(pid, status);
                continue;
            };
            if self.try_reap()? {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            match pidfd {
                Some(fd) => wait_readable(fd, left),
                // Without pidfds, poll the child's state at a modest rate.
                None => std::thread::sleep(left.min(Duration::from_millis(2))),
            }
        }
    }

    /// Reaps the child if it has ended; true when it has.
    fn try_reap(&mut self) -> Result<bool, ProcessError> {
        let pid = match &self.state {
            State::Running { pid, .. } => *pid,
            State::Finished { .. } => return Ok(true),
            State::Created(_) | State::Transition => return Ok(false),
        };
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => Ok(false),
            Ok(status) => Ok(self.record(pid, status)),
            Err(errno) => Err(self.os_error("waitpid", pid, errno)),
        }
    }

    /// Stores a final wait status; false for statuses that are not an end (stop/continue).
    fn record(&mut self, pid: Pid, status: WaitStatus) -> bool {
        let status = match status {
            WaitStatus::Exited(_, code) => ExitStatus::Exited(code),
            WaitStatus::Signaled(_, signal, _) => ExitStatus::Signaled(signal),
            _ => return false,
        };
        let panic_message = match std::mem::replace(&mut self.state, State::Transition) {
            State::Running { panic_pipe, .. } => read_panic_message(panic_pipe),
            _ => None,
        };
        self.state = State::Finished {
            pid,
            status,
            panic_message,
        };
        true
    }

    fn outcome(&self) -> Result<(), ProcessError> {
        let State::Finished {
            pid,
            status,
            panic_message,
        } = &self.state
        else {
            return Err(ProcessError::NotStarted {
                name: self.name.clone(),
            });
        };
        let name = self.name.clone();
        let pid = pid.as_raw() as u32;
        match (status, panic_message) {
            (_, Some(message)) => Err(ProcessError::Panicked {
                name,
                pid,
                message: message.clone(),
            }),
            (ExitStatus::Exited(0), None) => Ok(()),
            (ExitStatus::Exited(code), None) => Err(ProcessError::Exited {
                name,
                pid,
                code: *code,
            }),
            (ExitStatus::Signaled(signal), None) => Err(ProcessError::Signaled {
                name,
                pid,
                signal: *signal,
            }),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(false) = self.try_reap()
            && let State::Running { pid, .. } = &self.state
            && let Ok(mut pending) = UNREAPED.lock()
        {
            pending.push(*pid);
            ANY_UNREAPED.store(true, Ordering::Relaxed);
        }
        reap_dropped_children();
    }
}

/// Reaps children whose handles were dropped while they ran, if they have ended since.
fn reap_dropped_children() {
    if !ANY_UNREAPED.load(Ordering::Relaxed) {
        return;
    }
    let Ok(mut pending) = UNREAPED.lock() else {
        return;
    };
    pending.retain(|pid| {
        matches!(
            waitpid(*pid, Some(WaitPidFlag::WNOHANG)),
            Ok(WaitStatus::StillAlive)
        )
    });
    ANY_UNREAPED.store(!pending.is_empty(), Ordering::Relaxed);
}

/// The child side of `start`. Never returns.
///
/// `name` is the forking `Process`'s own field: it outlives the child (see `CURRENT_NAME`), and
/// pointing at it spares the child an allocation, which would copy the allocator's pages.
fn run_child(name: &String, target: Target, panic_pipe: OwnedFd) -> ! {
    CURRENT_NAME.store(std::ptr::from_ref(name).cast_mut(), Ordering::Release);
    let code = match catch_unwind(AssertUnwindSafe(target)) {
        Ok(()) => 0,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panicked with a non-string payload".to_owned());
            let mut bytes = message.into_bytes();
            bytes.truncate(MAX_PANIC_MESSAGE);
            // One write, under the pipe's usual capacity (cut short where the pipe is smaller);
            // nothing useful to do if it fails.
            let _ = nix::unistd::write(&panic_pipe, &bytes);
            PANIC_EXIT_CODE
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process without running the parent's atexit handlers or
    // destructors of objects the child only has copies of; it is async-signal-safe.
    unsafe { libc::_exit(code) }
}

/// What the ended child wrote on its panic pipe (opened `O_NONBLOCK` by `start`).
///
/// Read without blocking: the child wrote its message before exiting, so it is all in the pipe
/// now, but the write end may still be open elsewhere. Processes the child forked inherited it
/// (`O_CLOEXEC` only closes it on `exec`), and a read to end-of-file would wait for them too.
fn read_panic_message(pipe: OwnedFd) -> Option<String> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    while bytes.len() < MAX_PANIC_MESSAGE {
        match nix::unistd::read(&pipe, &mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(read) => bytes.extend_from_slice(&chunk[..read]),
        }
    }
    (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned())
}

fn pidfd_open(pid: Pid) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Waits until `fd` is readable (a pidfd: the child ended) or `timeout` passes.
fn wait_readable(fd: std::os::fd::RawFd, timeout: Duration) {
    let mut pollfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(timeout.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd on our stack, count 1. EINTR just returns early; the caller loops.
    unsafe { libc::poll(&mut pollfd, 1, millis) };
}

/// Facts about the calling process, as Python's `current_process()`, `os.getpid()` and
/// `os.getppid()` give them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentProcess {
    /// `MainProcess`, or the name of the [`Process`] this code runs in.
    pub name: String,
    /// This process's pid.
    pub pid: u32,
    /// Its parent's pid.
    pub parent_pid: u32,
}

/// The calling process's name, pid and parent pid.
pub fn current_process() -> CurrentProcess {
    let name = CURRENT_NAME.load(Ordering::Acquire);
    let name = if name.is_null() {
        "MainProcess".to_owned()
    } else {
        // SAFETY: a non-null pointer was stored by `run_child` and points at the forking
        // `Process`'s name, which lives until this process exits (see `CURRENT_NAME`).
        unsafe { (*name).clone() }
    };
    CurrentProcess {
        name,
        pid: std::process::id(),
        parent_pid: std::os::unix::process::parent_id(),
    }
}

/// The number of CPUs this process may run on (affinity and cgroup quota included), as
/// Python's `os.process_cpu_count()`. 1 when it cannot be read.
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}
