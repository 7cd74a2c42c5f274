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

/// Creating a [`Pipe`](crate::Pipe) failed.
#[derive(Debug, Error)]
pub enum PipeError {
    /// The kernel refused to create the socket pair or pipe (e.g. too many open files).
    #[error("could not create {what}")]
    Create {
        /// What was being created: "a socket pair" or "a pipe".
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Why a [`Connection`](crate::Connection) or [`PipeSender`](crate::PipeSender) could not send
/// a message.
///
/// ```
/// use multiprocessing as mp;
///
/// let (mut near, _far) = mp::Pipe::new::<String>()?;
/// let mut near = near.with_max_message_bytes(8);
/// assert!(matches!(
///     near.send(&"far more than eight bytes".to_owned()),
///     Err(mp::SendError::TooLarge { max: 8, .. })
/// ));
/// # Ok::<(), mp::PipeError>(())
/// ```
#[derive(Debug, Error)]
pub enum SendError {
    /// The other end is closed (every copy of it, or its owner closed it explicitly), or an
    /// earlier send failed part-way through a message, which leaves the stream unusable.
    #[error("the other end of the pipe is closed")]
    Closed,
    /// The encoded message is longer than this end's limit; nothing was sent.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The encoded length.
        len: usize,
        /// The limit (see `with_max_message_bytes`).
        max: usize,
    },
    /// The value could not be serialised (e.g. a map whose length serde cannot know).
    #[error("could not encode the message")]
    Encode {
        /// The codec's error.
        #[source]
        source: postcard::Error,
    },
    /// Writing failed for another reason than a closed peer.
    #[error("writing to the pipe failed")]
    Io {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Why a [`Connection`](crate::Connection) or [`PipeReceiver`](crate::PipeReceiver) returned
/// no message.
///
/// `Closed` is the normal end of a conversation; `Timeout` comes only from the `_timeout`
/// methods. After `TooLarge` or `Corrupt` the byte stream cannot be trusted any more, so every
/// later receive returns the same error again; after `Decode` the next message is fine.
///
/// ```
/// use std::time::Duration;
/// use multiprocessing as mp;
///
/// let (mut near, far) = mp::Pipe::new::<u32>()?;
/// assert!(matches!(
///     near.recv_timeout(Duration::from_millis(10)),
///     Err(mp::RecvError::Timeout { .. })
/// ));
/// drop(far);
/// assert!(matches!(near.recv(), Err(mp::RecvError::Closed)));
/// # Ok::<(), mp::PipeError>(())
/// ```
#[derive(Debug, Error)]
pub enum RecvError {
    /// The other end was closed (explicitly, dropped, or its process died) and every message
    /// it sent before has been received.
    #[error("the other end of the pipe is closed")]
    Closed,
    /// No whole message arrived within the timeout. A message that was partly received stays
    /// buffered: the next receive continues it.
    #[error("no message arrived within {waited:?}")]
    Timeout {
        /// How long the receive waited.
        waited: std::time::Duration,
    },
    /// A frame announced a payload longer than this end's limit; it was not read, nor was
    /// memory allocated for it.
    #[error("incoming message of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The length the frame header announced.
        len: u64,
        /// The limit (see `with_max_message_bytes`).
        max: usize,
    },
    /// The bytes on the pipe are not a frame of this library (something else wrote to the fd,
    /// or the writer died part-way through a message).
    #[error("corrupt frame on the pipe: {fault}")]
    Corrupt {
        /// What was wrong.
        fault: FrameFault,
    },
    /// A whole frame arrived but its payload does not decode as the expected type (the two
    /// ends disagree about the message type). The frame is consumed.
    #[error("a message of {len} bytes does not decode as the expected type")]
    Decode {
        /// The payload's length.
        len: usize,
        /// The codec's error.
        #[source]
        source: postcard::Error,
    },
    /// Reading or waiting failed for another reason than a closed peer.
    #[error("reading from the pipe failed")]
    Io {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// What made a frame corrupt (see [`RecvError::Corrupt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FrameFault {
    /// The header does not start with the frame marker, or names no known frame kind.
    #[error("header bytes {header:02x?} are not a frame header")]
    BadHeader {
        /// The header as received.
        header: [u8; 12],
    },
    /// The peer's end closed in the middle of a frame.
    #[error("the other end closed after {received} of the frame's {expected} bytes")]
    Truncated {
        /// The bytes the frame needed (header included, when the header was complete).
        expected: u64,
        /// The bytes that arrived.
        received: u64,
    },
}

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

/// Creating a shared object ([`Lock`](crate::Lock), [`Value`](crate::Value),
/// [`Barrier`](crate::Barrier), ...) failed.
#[derive(Debug, Error)]
pub enum CreateError {
    /// The kernel refused the shared memory, or the process-shared mutex inside it.
    #[error("could not create shared {object}")]
    Os {
        /// What was being created (`"lock"`, `"value"`, ...).
        object: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An [`Array`](crate::Array) needs at least one element, and no more than fit in memory.
    #[error("array length {len} is out of range (1..={max})")]
    InvalidLength {
        /// The length asked for.
        len: usize,
        /// The largest length this element type allows.
        max: usize,
    },
    /// A [`Barrier`](crate::Barrier) needs at least one party.
    #[error("a barrier needs at least one party")]
    NoParties,
}

/// The previous holder of a lock died while holding it (it was killed, or it crashed).
///
/// The lock is now held by the caller, and `guard` is its guard: take it with
/// [`into_guard`](Self::into_guard) (or by destructuring) to go on, as
/// `PoisonError::into_inner` does for std's `Mutex`. The data the lock protects may have been
/// left half-updated.
pub struct OwnerDied<G> {
    /// Pid of the process that died holding the lock.
    pub pid: u32,
    /// The guard: the caller holds the lock.
    pub guard: G,
}

impl<G> OwnerDied<G> {
    pub(crate) fn new(pid: u32, guard: G) -> Self {
        Self { pid, guard }
    }

    /// The guard: the caller holds the lock.
    pub fn into_guard(self) -> G {
        self.guard
    }
}

impl<G> std::fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnerDied")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl<G> std::fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the lock's previous holder (pid {}) died holding it; the data it protects may be \
             inconsistent",
            self.pid
        )
    }
}

impl<G> std::error::Error for OwnerDied<G> {}

/// Why acquiring a lock ([`Lock`](crate::Lock), [`RLock`](crate::RLock),
/// [`Condition`](crate::Condition), the lock of a [`Value`](crate::Value) or
/// [`Array`](crate::Array)) did not simply succeed.
///
/// `G` is the guard the operation hands out; only [`OwnerDied`](Self::OwnerDied) carries one.
/// Because a guard borrows its lock, `LockError<G>` is not `'static`; to propagate it with `?`
/// into a `Box<dyn Error>`, drop the guard first: `.map_err(LockError::without_guard)?`.
///
/// Which operation returns which variant: every one may return `OwnerDied` and `Os`;
/// `Deadlock` comes from any acquire of a non-recursive lock the calling thread already holds;
/// `WouldBlock` only from `try_*`; `Timeout` only from `*_timeout`.
pub enum LockError<G> {
    /// The previous holder died holding the lock; the caller holds it now (see [`OwnerDied`]).
    OwnerDied(OwnerDied<G>),
    /// The calling thread already holds this lock: waiting would wait forever.
    Deadlock,
    /// `try_*`: another thread or process holds the lock.
    WouldBlock,
    /// `*_timeout`: the lock was not free in time.
    Timeout(Duration),
    /// The OS reported an error on the mutex.
    Os(std::io::Error),
}

impl<G> LockError<G> {
    /// The same error without the guard (which is dropped, releasing the lock), so that it is
    /// `'static` and can be boxed or propagated with `?`.
    pub fn without_guard(self) -> LockError<()> {
        match self {
            Self::OwnerDied(died) => LockError::OwnerDied(OwnerDied::new(died.pid, ())),
            Self::Deadlock => LockError::Deadlock,
            Self::WouldBlock => LockError::WouldBlock,
            Self::Timeout(waited) => LockError::Timeout(waited),
            Self::Os(source) => LockError::Os(source),
        }
    }

    /// The guard, if the lock was acquired after all (its previous holder died).
    pub fn into_guard(self) -> Option<G> {
        match self {
            Self::OwnerDied(died) => Some(died.into_guard()),
            Self::Deadlock | Self::WouldBlock | Self::Timeout(_) | Self::Os(_) => None,
        }
    }

    /// Pid of the dead previous holder, for [`OwnerDied`](Self::OwnerDied).
    pub fn dead_owner_pid(&self) -> Option<u32> {
        match self {
            Self::OwnerDied(died) => Some(died.pid),
            Self::Deadlock | Self::WouldBlock | Self::Timeout(_) | Self::Os(_) => None,
        }
    }
}

impl<G> std::fmt::Debug for LockError<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OwnerDied(died) => f.debug_tuple("OwnerDied").field(died).finish(),
            Self::Deadlock => f.write_str("Deadlock"),
            Self::WouldBlock => f.write_str("WouldBlock"),
            Self::Timeout(waited) => f.debug_tuple("Timeout").field(waited).finish(),
            Self::Os(source) => f.debug_tuple("Os").field(source).finish(),
        }
    }
}

impl<G> std::fmt::Display for LockError<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OwnerDied(died) => died.fmt(f),
            Self::Deadlock => f.write_str("the calling thread already holds this lock"),
            Self::WouldBlock => f.write_str("the lock is held by another thread or process"),
            Self::Timeout(waited) => write!(f, "the lock was not acquired within {waited:?}"),
            Self::Os(_) => f.write_str("locking failed"),
        }
    }
}

impl<G> std::error::Error for LockError<G> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Os(source) => Some(source),
            Self::OwnerDied(_) | Self::Deadlock | Self::WouldBlock | Self::Timeout(_) => None,
        }
    }
}

/// Why a [`Semaphore`](crate::Semaphore) or [`BoundedSemaphore`](crate::BoundedSemaphore)
/// operation failed.
#[derive(Debug, Error)]
pub enum SemaphoreError {
    /// `try_acquire*`: no permit was free.
    #[error("no semaphore permit is free")]
    WouldBlock,
    /// `acquire*_timeout`: no permit became free in time.
    #[error("no semaphore permit became free within {0:?}")]
    Timeout(Duration),
    /// `release` would raise the value above `limit`: the initial value of a
    /// [`BoundedSemaphore`](crate::BoundedSemaphore) (Python's `ValueError`), or the largest
    /// count a [`Semaphore`](crate::Semaphore) can hold.
    #[error("semaphore released too many times (its value cannot exceed {limit})")]
    OverReleased {
        /// The largest value the semaphore may have.
        limit: usize,
    },
    /// The OS reported an error on the semaphore's internal mutex.
    #[error("semaphore operation failed")]
    Os(#[source] std::io::Error),
}

/// Why waiting on an [`Event`](crate::Event) failed.
#[derive(Debug, Error)]
pub enum EventError {
    /// `wait_timeout`: the event was not set in time.
    #[error("the event was not set within {0:?}")]
    Timeout(Duration),
    /// The OS reported an error on the event's internal mutex.
    #[error("event operation failed")]
    Os(#[source] std::io::Error),
}

/// Why waiting on a [`Barrier`](crate::Barrier) failed (Python's `BrokenBarrierError`, and
/// more precise about timeouts).
#[derive(Debug, Error)]
pub enum BarrierError {
    /// The barrier is broken: it was aborted, another party timed out, or a party died
    /// inside the barrier's bookkeeping. Every current and later `wait` fails this way; a
    /// broken barrier stays broken.
    #[error("the barrier is broken")]
    Broken,
    /// `wait_timeout`: not all parties arrived in time. The barrier is now broken, as in
    /// Python, so the other waiting parties get [`Broken`](Self::Broken).
    #[error("not all barrier parties arrived within {0:?}; the barrier is now broken")]
    Timeout(Duration),
    /// The OS reported an error on the barrier's internal mutex.
    #[error("barrier operation failed")]
    Os(#[source] std::io::Error),
}

/// An [`Array`](crate::Array) index past the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("index {index} is out of range for an array of length {len}")]
pub struct IndexError {
    /// The index given.
    pub index: usize,
    /// The array's length.
    pub len: usize,
}

/// Why a [`SharedMemory`](crate::SharedMemory) block could not be created, attached or
/// unlinked.
#[derive(Debug, Error)]
pub enum SharedMemoryError {
    /// The name is empty, `.` or `..`, contains `/` or a NUL byte, or is longer than
    /// 254 bytes. Names are given without the leading `/`, as in Python.
    #[error("invalid shared memory name {name:?}: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A block needs at least one byte (creating with size 0, or attaching to an empty one).
    #[error("shared memory block {name:?} would have size 0")]
    ZeroSize {
        /// The block's name (empty when it was to be generated).
        name: String,
    },
    /// `create` with a name that is taken (Python's `FileExistsError`).
    #[error("shared memory block {name:?} already exists")]
    AlreadyExists {
        /// The block's name.
        name: String,
    },
    /// `attach` or `unlink` with a name no block has (Python's `FileNotFoundError`).
    #[error("no shared memory block is named {name:?}")]
    NotFound {
        /// The name given.
        name: String,
    },
    /// A system call failed (`shm_open`, `ftruncate`, `mmap`, `shm_unlink`).
    #[error("{operation} failed for shared memory block {name:?}")]
    Os {
        /// The block's name.
        name: String,
        /// What was being done.
        operation: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

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
