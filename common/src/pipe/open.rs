//! `Pipe`: makes the two connected ends, as Python's `multiprocessing.Pipe()`.

use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::pipe2;

use super::connection::Connection;
use super::one_way::{PipeReceiver, PipeSender};
use super::pipe_state::SharedPipeState;
use crate::errors::PipeError;

/// Capacity asked of the kernel for each pipe, instead of the default 64 KiB, so a writer
/// ahead of its reader blocks less often. Measured with 1 MiB messages: 256 KiB moved them as
/// fast as the best raw pipe, while 1 MiB was slower (data in flight no longer fits the CPU's
/// cache) and uses 4 times more of the user's pipe quota (`pipe-user-pages-soft`). Refused
/// beyond that quota; the default size then stays.
const PIPE_BYTES: i32 = 256 << 10;

/// Makes pipes: a two-way pair of [`Connection`]s, or a one-way [`PipeReceiver`] and
/// [`PipeSender`], as Python's `multiprocessing.Pipe()` and `Pipe(duplex=False)`.
///
/// Messages are any serde type (or raw bytes), each received whole, once, in order. The
/// lesson's example, with `None` ending the conversation as in Python:
///
/// ```
/// use multiprocessing as mp;
/// use serde::{Deserialize, Serialize};
///
/// /// Python sends `"one", 1, "two", 2`: a message that is a string or a number.
/// #[derive(Debug, Serialize, Deserialize)]
/// enum Message {
///     Text(String),
///     Number(i64),
/// }
///
/// fn child_process(mut conn: mp::Connection<Option<Message>>) {
///     while let Ok(Some(message)) = conn.recv() {
///         println!("Child: Received '{message:?}' from parent");
///     }
///     println!("Child Exiting");
///     // very important to close the connection once finished using it
///     conn.close();
/// }
///
/// fn parent_process(mut conn: mp::Connection<Option<Message>>) {
///     let messages_to_send = [
///         Some(Message::Text("one".into())),
///         Some(Message::Number(1)),
///         Some(Message::Text("two".into())),
///         Some(Message::Number(2)),
///         None,
///     ];
///     for message in &messages_to_send {
///         println!("Parent: Sending '{message:?}' to child");
///         conn.send(message).expect("the child is listening");
///     }
///     println!("Parent Finished Sending");
///     conn.close();
/// }
///
/// let (parent_conn, child_conn) = mp::Pipe::new()?; // a bidirectional pipe
///
/// let mut parent = mp::Process::new(move || parent_process(parent_conn));
/// let mut child = mp::Process::new(move || child_process(child_conn));
///
/// child.start()?;
/// parent.start()?;
///
/// parent.join()?;
/// child.join()?;
///
/// println!("Both Parent and Child Exited");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ## How it is built
///
/// The messages travel on kernel pipes (one for a one-way pipe, one each way for a duplex
/// one), each a fixed header with the length, then the payload; pipes have the lowest
/// latency of the kernel's byte streams. The two ends also share a small page of memory that
/// says whether either has closed.
///
/// ## Ends and `fork`
///
/// Every descriptor is copied into every child forked while it is open, so a child started
/// later also holds copies of ends it never uses (Python's advice to "close unused ends"
/// comes from this), and the kernel's end-of-file or broken pipe never comes while a copy
/// lives. The library does not depend on those copies being closed: closing an end marks it
/// closed in the shared page, leaves a close frame after the last message, and releases a
/// writer waiting on a full pipe, so the peer learns of it whatever copies exist. Only a
/// process that dies without closing its end (SIGKILL) is noticed through the kernel, once no
/// process holds a copy of that end: a process forked while the end existed (it holds a
/// copy) delays that news until it exits too.
pub enum Pipe {}

impl Pipe {
    /// A two-way pipe whose ends send and receive `T`: Python's `mp.Pipe()`.
    #[allow(
        clippy::new_ret_no_self,
        reason = "`Pipe::new()` reads as the lesson's `mp.Pipe()`, which returns two ends"
    )]
    pub fn new<T>() -> Result<(Connection<T>, Connection<T>), PipeError> {
        Self::duplex()
    }

    /// A two-way pipe whose first end sends `A` and receives `B`, and the second the reverse.
    #[allow(
        clippy::type_complexity,
        reason = "the pair of mirrored types is the whole point, and reads best spelled out"
    )]
    pub fn duplex<A, B>() -> Result<(Connection<A, B>, Connection<B, A>), PipeError> {
        let (first_in, second_out, second_capacity) = kernel_pipe()?;
        let (second_in, first_out, first_capacity) = kernel_pipe()?;
        let (to_first, to_second) = shared_states()?;
        Ok((
            Connection::over_pipes(
                (first_in, to_first.clone()),
                (first_out, to_second.clone()),
                first_capacity,
            ),
            Connection::over_pipes(
                (second_in, to_second),
                (second_out, to_first),
                second_capacity,
            ),
        ))
    }

    /// A one-way pipe: `(receiving end, sending end)`, in the order of Python's
    /// `Pipe(duplex=False)`.
    pub fn one_way<T>() -> Result<(PipeReceiver<T>, PipeSender<T>), PipeError> {
        let (read_end, write_end, capacity) = kernel_pipe()?;
        let (state, _) = shared_states()?;
        Ok((
            PipeReceiver::over_pipe(read_end, state.clone()),
            PipeSender::over_pipe(write_end, state, capacity),
        ))
    }
}

/// A pipe `(read end, write end, capacity in bytes)`.
fn kernel_pipe() -> Result<(OwnedFd, OwnedFd, usize), PipeError> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|errno| PipeError::Create {
        what: "a pipe",
        source: errno.into(),
    })?;
    // Refused beyond the user's pipe quota; the default size works.
    let _ = fcntl(write_end.as_fd(), FcntlArg::F_SETPIPE_SZ(PIPE_BYTES));
    let capacity = fcntl(write_end.as_fd(), FcntlArg::F_GETPIPE_SZ)
        .ok()
        .and_then(|bytes| usize::try_from(bytes).ok())
        // The smallest a Linux pipe can be: never too big a chunk, only a slower one.
        .unwrap_or(4096);
    Ok((read_end, write_end, capacity))
}

/// The shared states of two pipes (two directions).
fn shared_states() -> Result<(SharedPipeState, SharedPipeState), PipeError> {
    SharedPipeState::pair().map_err(|source| PipeError::Create {
        what: "the pipes' shared state",
        source,
    })
}
