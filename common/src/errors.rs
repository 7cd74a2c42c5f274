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

/// Why [`Queue::put`](crate::Queue::put) and its variants did not enqueue an item. Every
/// variant gives the item back ([`into_inner`](Self::into_inner)), as crossbeam's
/// `SendError<T>` does, so a failed put loses nothing.
#[derive(Error)]
pub enum PutError<T> {
    /// `try_put` found no room: `maxsize` items are queued, or the ring has too few free bytes.
    #[error("queue is full")]
    Full(T),
    /// `put_timeout` waited the whole timeout without room appearing.
    #[error("timed out waiting for room in the queue")]
    Timeout(T),
    /// This handle was [`close`](crate::Queue::close)d, or the queue was
    /// [`shutdown`](crate::Queue::shutdown).
    #[error("queue is closed")]
    Closed(T),
    /// The item's encoding (plus its 4-byte length header) is larger than the queue's whole
    /// ring, so it could never fit: reported at once instead of blocking forever.
    #[error("item encodes to {size} bytes, which can never fit in a queue of {capacity} bytes")]
    TooLarge {
        /// The item.
        item: T,
        /// Its encoded size in bytes.
        size: usize,
        /// The queue's byte capacity; an item needs its encoded size plus 4 bytes.
        capacity: usize,
    },
    /// The item could not be serialised (e.g. a map with non-string keys a format rejects,
    /// or a `Serialize` impl that fails).
    #[error("could not encode the item")]
    Encode {
        /// The item.
        item: T,
        /// The codec's error.
        #[source]
        source: postcard::Error,
    },
    /// The queue's process-shared mutex or condition variable failed (not expected in
    /// practice; it would mean the shared memory was corrupted).
    #[error("the queue's shared lock failed")]
    Os {
        /// The item.
        item: T,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl<T> PutError<T> {
    /// The item that was not enqueued.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(item) | Self::Timeout(item) | Self::Closed(item) => item,
            Self::TooLarge { item, .. } | Self::Encode { item, .. } | Self::Os { item, .. } => item,
        }
    }
}

/// Shows the variant and its details but not the item, so `PutError<T>` is `Debug` (and an
/// `Error` usable with `?`) whatever `T` is, as crossbeam's `SendError<T>`.
impl<T> std::fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Timeout(_) => f.write_str("Timeout(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
            Self::TooLarge { size, capacity, .. } => f
                .debug_struct("TooLarge")
                .field("size", size)
                .field("capacity", capacity)
                .finish_non_exhaustive(),
            Self::Encode { source, .. } => f
                .debug_struct("Encode")
                .field("source", source)
                .finish_non_exhaustive(),
            Self::Os { source, .. } => f
                .debug_struct("Os")
                .field("source", source)
                .finish_non_exhaustive(),
        }
    }
}

/// Why [`Queue::get`](crate::Queue::get) and its variants returned no item.
#[derive(Debug, Error)]
pub enum GetError {
    /// `try_get` found the queue empty.
    #[error("queue is empty")]
    Empty,
    /// `get_timeout` waited the whole timeout and no item came.
    #[error("timed out waiting for an item")]
    Timeout,
    /// The queue was [`shutdown`](crate::Queue::shutdown) and every item left in it has been
    /// taken: no item will ever come.
    #[error("queue is shut down and empty")]
    Closed,
    /// An item was taken off the queue but its bytes do not decode as the expected type (a
    /// queue shared between differently typed handles). The item is consumed.
    #[error("could not decode a {size}-byte item")]
    Decode {
        /// Encoded size of the item.
        size: usize,
        /// The codec's error.
        #[source]
        source: postcard::Error,
    },
    /// The queue's process-shared mutex or condition variable failed (not expected in
    /// practice; it would mean the shared memory was corrupted).
    #[error("the queue's shared lock failed")]
    Os {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Why a [`Queue`](crate::Queue) or [`JoinableQueue`](crate::JoinableQueue) could not be
/// created.
#[derive(Debug, Error)]
pub enum QueueCreateError {
    /// `maxsize` was 0. Python reads 0 as "no limit"; here no limit is `Queue::new()`, and a
    /// bounded queue must hold at least one item.
    #[error("a queue's maxsize must be at least 1")]
    ZeroMaxsize,
    /// The byte capacity is below the smallest useful ring.
    #[error("queue capacity of {requested} bytes is below the minimum of {min} bytes")]
    CapacityTooSmall {
        /// The capacity asked for.
        requested: usize,
        /// The smallest capacity accepted.
        min: usize,
    },
    /// The byte capacity is above the largest ring the queue supports.
    #[error("queue capacity of {requested} bytes is above the maximum of {max} bytes")]
    CapacityTooLarge {
        /// The capacity asked for.
        requested: usize,
        /// The largest capacity accepted.
        max: usize,
    },
    /// The shared memory or its mutex could not be set up (e.g. out of memory).
    #[error("could not create the queue's shared memory")]
    Os {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Why [`JoinableQueue::task_done`](crate::JoinableQueue::task_done) failed.
#[derive(Debug, Error)]
pub enum TaskDoneError {
    /// More `task_done` calls than items ever put, which Python reports as
    /// `ValueError: task_done() called too many times`.
    #[error("task_done() called too many times")]
    TooManyCalls,
    /// The queue's process-shared mutex failed (not expected in practice).
    #[error("the queue's shared lock failed")]
    Os {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Why [`JoinableQueue::join`](crate::JoinableQueue::join) or
/// [`join_timeout`](crate::JoinableQueue::join_timeout) returned before every item was done.
#[derive(Debug, Error)]
pub enum QueueJoinError {
    /// Some items were still not marked done when the timeout passed.
    #[error("{unfinished} items still unfinished after {waited:?}")]
    Timeout {
        /// Items put but not yet marked done when the wait gave up.
        unfinished: usize,
        /// How long the call waited.
        waited: Duration,
    },
    /// The queue's process-shared mutex or condition variable failed (not expected in
    /// practice).
    #[error("the queue's shared lock failed")]
    Os {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

// ---------------------------------------------------------------------------------------------
// Synchronisation and shared memory (owned by the sync module's author)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Pool, executor, manager (owned by the pool module's author)
// ---------------------------------------------------------------------------------------------
