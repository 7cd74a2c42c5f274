//! `Connection`: one end of a duplex pipe, as Python's `multiprocessing.connection.Connection`.

use std::fmt;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::fd_io::{Deadline, Transport};
use super::reader::FrameReader;
use super::writer::FrameWriter;
use crate::codec::MAX_MESSAGE_BYTES;
use crate::errors::{RecvError, SendError};
use crate::process::discarding_fork_copy;

/// One end of a two-way pipe: sends `Tx` messages and receives `Rx` ones (the same type
/// unless told otherwise). Made by [`Pipe::new`](crate::Pipe::new) or
/// [`Pipe::duplex`](crate::Pipe::duplex), over a unix socket pair.
///
/// Create the pipe before [`Process::start`](crate::Process::start) and move one end into the
/// child's closure; each process keeps the end it uses.
///
/// ```
/// use multiprocessing as mp;
///
/// // The parent sends words and receives their lengths; the child the other way round.
/// let (mut parent_conn, mut child_conn) = mp::Pipe::duplex::<String, usize>()?;
/// let mut child = mp::Process::new(move || {
///     while let Ok(word) = child_conn.recv() {
///         if child_conn.send(&word.len()).is_err() {
///             break;
///         }
///     }
/// });
/// child.start()?;
/// for word in ["one", "three"] {
///     parent_conn.send(&word.to_owned())?;
///     assert_eq!(parent_conn.recv()?, word.len());
/// }
/// parent_conn.close(); // the child's `recv` now returns `Closed`, and it returns
/// child.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ## Closing
///
/// [`close`](Self::close), or dropping the end, tells the other end, whose receives then
/// return [`RecvError::Closed`] once it has taken the messages sent before, and whose sends
/// fail with [`SendError::Closed`]. That holds even if a copy of this end's file descriptor
/// lives on in some other forked process (`fork` copies them all): the close is sent in the
/// stream and the socket is shut down, not merely this process's descriptor closed. A process
/// that dies without closing (killed by SIGKILL) is noticed once no process holds a copy of
/// its end. (When [`Process::start`](crate::Process::start) drops the parent's copy of a
/// closure the child now owns, the ends in it are only released, not closed for the child.)
///
/// ## Limits
///
/// A message longer than [`max_message_bytes`](Self::max_message_bytes) (1 GiB by default)
/// is refused by `send` and, when it comes in, reported by `recv` as
/// [`RecvError::TooLarge`] without allocating for it.
pub struct Connection<Tx, Rx = Tx> {
    fd: OwnedFd,
    reader: FrameReader,
    writer: FrameWriter,
    messages: PhantomData<fn(Tx) -> Rx>,
}

impl<Tx, Rx> fmt::Debug for Connection<Tx, Rx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("fd", &self.fd.as_raw_fd())
            .field("max_message_bytes", &self.reader.max_message_bytes())
            .finish_non_exhaustive()
    }
}

impl<Tx, Rx> Connection<Tx, Rx> {
    /// Wraps one end of a connected unix stream socket. The other end must be a `Connection`
    /// too (or speak its framing).
    fn from_socket(fd: OwnedFd) -> Self {
        Self {
            fd,
            reader: FrameReader::new(MAX_MESSAGE_BYTES),
            writer: FrameWriter::new(Transport::Socket, MAX_MESSAGE_BYTES),
            messages: PhantomData,
        }
    }

    /// Sets the largest message, in encoded bytes, this end sends or accepts.
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.reader.set_max_message_bytes(max);
        self.writer.set_max_message_bytes(max);
        self
    }

    /// The largest message, in encoded bytes, this end sends or accepts.
    pub fn max_message_bytes(&self) -> usize {
        self.reader.max_message_bytes()
    }

    /// Sends `bytes` as one message, without serde, as Python's `send_bytes`. The other end
    /// receives it with [`recv_bytes`](Self::recv_bytes).
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        if self.reader.peer_closed() {
            return Err(SendError::Closed);
        }
        self.writer.send_bytes(self.fd.as_fd(), bytes)
    }

    /// Receives one message as raw bytes, as Python's `recv_bytes`; blocks until one comes.
    pub fn recv_bytes(&mut self) -> Result<Vec<u8>, RecvError> {
        let received = self.reader.recv_bytes(self.fd.as_fd(), Deadline::Never)?;
        // Unreachable: without a deadline the reader returns a message or an error.
        received.ok_or(RecvError::Timeout {
            waited: Duration::MAX,
        })
    }

    /// [`recv_bytes`](Self::recv_bytes), waiting at most `timeout`.
    pub fn recv_bytes_timeout(&mut self, timeout: Duration) -> Result<Vec<u8>, RecvError> {
        let received = self
            .reader
            .recv_bytes(self.fd.as_fd(), Deadline::after(timeout))?;
        received.ok_or(RecvError::Timeout { waited: timeout })
    }

    /// Waits at most `timeout` for a message; true if one is ready (or the other end has
    /// closed, so `recv` returns at once with [`RecvError::Closed`]), as Python's `poll`.
    /// `Duration::ZERO` only looks.
    pub fn poll(&mut self, timeout: Duration) -> Result<bool, RecvError> {
        self.reader.poll(self.fd.as_fd(), Deadline::after(timeout))
    }

    /// Closes this end; the other end sees [`RecvError::Closed`] after the messages already
    /// sent. The same happens when the end is dropped; `close` says it where it matters, as
    /// the Python lesson does.
    pub fn close(self) {}
}

impl<Tx: Serialize, Rx> Connection<Tx, Rx> {
    /// Sends one message; blocks only while the pipe's buffer is full.
    pub fn send(&mut self, message: &Tx) -> Result<(), SendError> {
        if self.reader.peer_closed() {
            return Err(SendError::Closed);
        }
        self.writer.send_value(self.fd.as_fd(), message)
    }
}

impl<Tx, Rx: DeserializeOwned> Connection<Tx, Rx> {
    /// Receives one message; blocks until one comes or the other end closes.
    pub fn recv(&mut self) -> Result<Rx, RecvError> {
        let received = self.reader.recv_value(self.fd.as_fd(), Deadline::Never)?;
        // Unreachable: without a deadline the reader returns a message or an error.
        received.ok_or(RecvError::Timeout {
            waited: Duration::MAX,
        })
    }

    /// [`recv`](Self::recv), waiting at most `timeout`; then [`RecvError::Timeout`]. A message
    /// partly received by then is kept and finished by the next receive.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Rx, RecvError> {
        let received = self
            .reader
            .recv_value(self.fd.as_fd(), Deadline::after(timeout))?;
        received.ok_or(RecvError::Timeout { waited: timeout })
    }

    /// A message if one is ready now, `None` if not.
    pub fn try_recv(&mut self) -> Result<Option<Rx>, RecvError> {
        self.reader
            .recv_value(self.fd.as_fd(), Deadline::At(Instant::now()))
    }
}

/// Wraps one end of a connected unix stream socket, e.g. from [`UnixStream::pair`]. The other
/// end must be a `Connection` too (or write its framing).
impl<Tx, Rx> From<UnixStream> for Connection<Tx, Rx> {
    fn from(stream: UnixStream) -> Self {
        Self::from_socket(stream.into())
    }
}

/// The socket, e.g. to wait on several connections with `poll(2)`. Reading or writing it
/// directly would break the framing.
impl<Tx, Rx> AsFd for Connection<Tx, Rx> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl<Tx, Rx> AsRawFd for Connection<Tx, Rx> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl<Tx, Rx> Drop for Connection<Tx, Rx> {
    fn drop(&mut self) {
        // The child that took this end over after fork is still using it.
        if !discarding_fork_copy() {
            self.writer.announce_close(self.fd.as_fd());
        }
    }
}
