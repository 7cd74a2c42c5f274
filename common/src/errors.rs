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

// ---------------------------------------------------------------------------------------------
// Synchronisation and shared memory (owned by the sync module's author)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Pool, executor, manager (owned by the pool module's author)
// ---------------------------------------------------------------------------------------------
