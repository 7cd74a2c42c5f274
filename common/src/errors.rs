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
