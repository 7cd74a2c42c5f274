//! `Pipe`: makes the two connected ends, as Python's `multiprocessing.Pipe()`.

use std::os::fd::AsFd;

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use nix::unistd::pipe2;

use super::connection::Connection;
use super::one_way::{PipeReceiver, PipeSender};
use crate::errors::PipeError;

/// Capacity asked of the kernel for a one-way pipe, instead of the default 64 KiB: fewer
/// wake-ups per megabyte. 1 MiB is also the default ceiling (`/proc/sys/fs/pipe-max-size`)
/// for unprivileged processes.
const ONE_WAY_PIPE_BYTES: i32 = 1 << 20;

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
/// ## Ends and `fork`
///
/// Every descriptor is copied into every child forked while it is open, so a child started
/// later also holds copies of ends it never uses (Python's advice to "close unused ends"
/// comes from this). The library does not depend on those copies being closed: closing an
/// end tells the other side in the stream itself. Only a process that dies without closing
/// its end (SIGKILL) is noticed by the kernel's end-of-file, which comes once no process
/// holds a copy; so a child forked while both ends existed keeps that news from arriving
/// until it exits too.
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
    pub fn duplex<A, B>() -> Result<(Connection<A, B>, Connection<B, A>), PipeError> {
        let (first, second) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|errno| PipeError::Create {
            what: "a socket pair",
            source: errno.into(),
        })?;
        Ok((
            Connection::from(std::os::unix::net::UnixStream::from(first)),
            Connection::from(std::os::unix::net::UnixStream::from(second)),
        ))
    }

    /// A one-way pipe: `(receiving end, sending end)`, in the order of Python's
    /// `Pipe(duplex=False)`. Faster than a duplex pipe (a kernel pipe with a 1 MiB buffer).
    pub fn one_way<T>() -> Result<(PipeReceiver<T>, PipeSender<T>), PipeError> {
        let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|errno| PipeError::Create {
            what: "a pipe",
            source: errno.into(),
        })?;
        // Refused above the system's limit or the user's pipe quota; the default size works.
        let _ = fcntl(
            write_end.as_fd(),
            FcntlArg::F_SETPIPE_SZ(ONE_WAY_PIPE_BYTES),
        );
        Ok((PipeReceiver::from(read_end), PipeSender::from(write_end)))
    }
}
