//! Every error type of the library, in one place.
//!
//! Messages are lowercase and say what happened to what; the underlying OS or codec error is
//! kept as the `#[source]`. Errors of operations that take ownership of an item (`Queue::put`)
//! hand the item back, as crossbeam's `SendError<T>` does.

use std::time::Duration;

use thiserror::Error;

pub use nix::sys::signal::Signal;

// ---------------------------------------------------------------------------------------------
// Process
// ---------------------------------------------------------------------------------------------

/// What went wrong with a [`Process`](crate::Process).
#[derive(Debug, Error)]
pub enum ProcessError {
    /// `start` was called twice: a process object runs its target once, as in Python.
    #[error("process {name:?} was already started")]
    AlreadyStarted {
        /// The process's name.
        name: String,
    },
    /// `join`, `terminate` or `kill` on a process that was never started.
    #[error("process {name:?} has not been started")]
    NotStarted {
        /// The process's name.
        name: String,
    },
    /// The kernel refused to create the process (too many processes, out of memory).
    #[error("could not fork process {name:?}")]
    Fork {
        /// The process's name.
        name: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The target panicked; `message` is the panic's payload.
    #[error("process {name:?} (pid {pid}) panicked: {message}")]
    Panicked {
        /// The process's name.
        name: String,
        /// Its pid.
        pid: u32,
        /// The panic message.
        message: String,
    },
    /// The process was ended by a signal (e.g. SIGKILL from `kill`, SIGSEGV from a crash).
    #[error("process {name:?} (pid {pid}) was killed by signal {signal}")]
    Signaled {
        /// The process's name.
        name: String,
        /// Its pid.
        pid: u32,
        /// The signal that ended it.
        signal: Signal,
    },
    /// The process exited with a non-zero code (e.g. `std::process::exit(3)`).
    #[error("process {name:?} (pid {pid}) exited with code {code}")]
    Exited {
        /// The process's name.
        name: String,
        /// Its pid.
        pid: u32,
        /// The exit code.
        code: i32,
    },
    /// `join_timeout` gave up; the process is still running and can be joined again.
    #[error("process {name:?} (pid {pid}) still running after {waited:?}")]
    Timeout {
        /// The process's name.
        name: String,
        /// Its pid.
        pid: u32,
        /// How long `join_timeout` waited.
        waited: Duration,
    },
    /// A system call about an existing process failed (waitpid, kill).
    #[error("{operation} failed for process {name:?} (pid {pid})")]
    Os {
        /// The process's name.
        name: String,
        /// Its pid.
        pid: u32,
        /// What was being done.
        operation: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

// ---------------------------------------------------------------------------------------------
// Pipe (owned by the pipe module's author)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Queue (owned by the queue module's author)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Synchronisation and shared memory (owned by the sync module's author)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Pool, executor, manager (owned by the pool module's author)
// ---------------------------------------------------------------------------------------------

/// What went wrong with a [`Pool`](crate::Pool), one of its tasks, or a
/// [`ProcessPoolExecutor`](crate::ProcessPoolExecutor).
///
/// Task errors are `Clone`: when a chunk of `map` items fails, every item of the chunk carries
/// the same error.
#[derive(Debug, Clone, Error)]
pub enum PoolError {
    /// `Pool::new(0)`: a pool needs at least one worker.
    #[error("a pool needs at least one worker process")]
    NoWorkers,
    /// A task was submitted after `close` (Python: "Pool not running").
    #[error("the pool is closed: no new tasks can be submitted")]
    Closed,
    /// The pool was terminated (explicitly or by being dropped) before the task finished.
    #[error("the pool was terminated before the task finished")]
    Terminated,
    /// `chunksize` 0 for `map`, `imap`...: a chunk holds at least one item.
    #[error("chunksize must be at least 1")]
    ZeroChunksize,
    /// `join` before `close` or `terminate`, which would wait forever.
    #[error("join needs close or terminate first: the pool is still accepting tasks")]
    StillRunning,
    /// The worker running the task died (a signal, `std::process::exit`, `abort`). The pool
    /// started a replacement; other tasks were not affected.
    #[error("worker process {pid} died while running the task: {}", describe_exit(.status))]
    WorkerDied {
        /// The dead worker's pid.
        pid: u32,
        /// How it ended.
        status: crate::ExitStatus,
    },
    /// The task panicked; the worker survived. `message` is the panic's payload.
    #[error("the task panicked: {message}{}", .location.as_deref().map(|l| format!(" (at {l})")).unwrap_or_default())]
    TaskPanicked {
        /// The panic message.
        message: String,
        /// Where it panicked (`file:line:column`), when known.
        location: Option<String>,
    },
    /// The task's argument could not be serialised (its `Serialize` impl failed).
    #[error("the task's argument could not be serialised")]
    ArgumentEncode {
        /// The codec's error.
        #[source]
        source: postcard::Error,
    },
    /// The worker could not decode the task's argument (a `Deserialize` impl that does not
    /// accept what its `Serialize` produced).
    #[error("the worker could not decode the task's argument: {message}")]
    ArgumentDecode {
        /// The codec's message.
        message: String,
    },
    /// The task ran but its result could not be serialised (its `Serialize` impl failed).
    #[error("the task's result could not be serialised: {message}")]
    ResultEncode {
        /// The codec's message.
        message: String,
    },
    /// The result bytes did not decode as the result type.
    #[error("the task's result could not be decoded")]
    ResultDecode {
        /// The codec's error.
        #[source]
        source: postcard::Error,
    },
    /// An argument or a result is larger than a message may be.
    #[error("a task message of {bytes} bytes is larger than the limit of {limit} bytes")]
    MessageTooLarge {
        /// The message's size.
        bytes: usize,
        /// The limit, [`MAX_MESSAGE_BYTES`](crate::codec::MAX_MESSAGE_BYTES).
        limit: usize,
    },
    /// `get_timeout`, `join_timeout` or an iterator's `next_timeout` gave up. The task (or
    /// the pool) is still running.
    #[error("no result after {waited:?}")]
    Timeout {
        /// How long the call waited.
        waited: Duration,
    },
    /// A blocking call (`get`, `apply`, `map`, `join`...) made from one of this pool's own
    /// callbacks: the callback runs on the thread that would have to deliver the result.
    #[error("waiting for this pool from inside one of its own callbacks would deadlock")]
    WouldDeadlock,
    /// A `callback` or `error_callback` panicked; reported by `join` (and by the task's own
    /// `AsyncResult`).
    #[error("a pool callback panicked: {message}")]
    CallbackPanicked {
        /// The panic message.
        message: String,
    },
    /// The pool's fork server died, so no worker can be started: every unfinished task fails
    /// with this error and the pool stops (Python's `BrokenProcessPool`).
    #[error("the pool's fork server (pid {pid}) died; the pool is broken")]
    ForkServerDied {
        /// The fork server's pid.
        pid: u32,
    },
    /// A pool handle was used in a process other than the one that created it (a forked
    /// child, or a worker reaching a pool through a global).
    #[error("a pool can only be used by the process that created it (pid {owner})")]
    NotOwner {
        /// The pid of the process that created the pool.
        owner: u32,
    },
    /// The pool's processes could not be started (fork or socket creation failed).
    #[error("could not start the pool's processes")]
    Spawn {
        /// The OS error.
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
    /// The pool's result thread ended without delivering this task's outcome. Not expected;
    /// it means a bug in the pool, reported instead of hanging.
    #[error("the pool's result thread ended before the task finished")]
    Lost,
}

fn describe_exit(status: &crate::ExitStatus) -> String {
    match status {
        crate::ExitStatus::Exited(code) => format!("exited with code {code}"),
        crate::ExitStatus::Signaled(signal) => format!("killed by signal {signal}"),
    }
}

/// What went wrong with a [`Manager`](crate::Manager) or one of its proxies.
#[derive(Debug, Error)]
pub enum ManagerError {
    /// The server process or its socket could not be created.
    #[error("could not start the manager's server process")]
    Start {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A process could not connect to the manager's server (it has shut down, or its
    /// creator exited).
    #[error("could not connect to the manager at {address:?}")]
    Connect {
        /// The server's socket address.
        address: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The connection to the server failed in the middle of a request.
    #[error("lost the connection to the manager's server")]
    Io {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server closed the connection: it has shut down.
    #[error("the manager's server has shut down")]
    ServerGone,
    /// A value sent to the server could not be serialised.
    #[error("a value for the manager could not be serialised")]
    Encode {
        /// The codec's error.
        #[source]
        source: postcard::Error,
    },
    /// A value from the server did not decode as the proxy's type.
    #[error("a value from the manager could not be decoded")]
    Decode {
        /// The codec's error.
        #[source]
        source: postcard::Error,
    },
    /// A value or reply larger than [`MAX_MESSAGE_BYTES`](crate::codec::MAX_MESSAGE_BYTES).
    #[error("a manager message of {bytes} bytes is larger than the limit of {limit} bytes")]
    MessageTooLarge {
        /// The message's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A list index past the end (Python's `IndexError`).
    #[error("list index {index} out of range for a list of length {len}")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The list's length at that moment.
        len: usize,
    },
    /// The proxy's object does not exist in this server (a proxy of another manager, or of a
    /// different kind).
    #[error("the manager has no {kind} with id {id}")]
    NoSuchObject {
        /// What kind of object the proxy expected.
        kind: &'static str,
        /// The object's id.
        id: u64,
    },
    /// The function given to `ValueProxy::update` panicked in the server; the value is
    /// unchanged.
    #[error("the update function panicked in the manager's server: {message}")]
    UpdatePanicked {
        /// The panic message.
        message: String,
    },
    /// The server could not decode a stored value as the type `update` expects, or encode
    /// the new one.
    #[error("the manager's server could not run the update: {message}")]
    UpdateFailed {
        /// The codec's message.
        message: String,
    },
}
