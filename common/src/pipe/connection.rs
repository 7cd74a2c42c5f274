//! `Connection`: one end of a duplex pipe, as Python's `multiprocessing.connection.Connection`.

use std::fmt;
use std::marker::PhantomData;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::fd_io::Deadline;
use super::pipe_end::PipeEnd;
use super::pipe_state::SharedPipeState;
use super::reader::FrameReader;
use super::writer::FrameWriter;
use crate::codec::MAX_MESSAGE_BYTES;
use crate::errors::{RecvError, SendError};
use crate::process::discarding_fork_copy;

/// One end of a two-way pipe: sends `Tx` messages and receives `Rx` ones (the same type
/// unless told otherwise). Made by [`Pipe::new`](crate::Pipe::new) or
/// [`Pipe::duplex`](crate::Pipe::duplex).
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
/// [`close`](Self::close), or dropping the end, tells the other end: its receives return
/// [`RecvError::Closed`] once it has taken the messages sent before, and its sends fail with
/// [`SendError::Closed`], also one already waiting for room. Messages this end had not
/// received are discarded. That holds even if copies of this end's descriptors live on in
/// other forked processes (`fork` copies them all); see [`Pipe`](crate::Pipe#ends-and-fork).
/// A process that dies without closing (SIGKILL) is noticed once no process holds a copy of
/// its end. (When
/// [`Process::start`](crate::Process::start) drops the parent's copy of a closure the child
/// now owns, the ends in it are only released, not closed for the child.)
///
/// ## Limits
///
/// A message longer than [`max_message_bytes`](Self::max_message_bytes) (1 GiB by default)
/// is refused by `send` and, when it comes in, reported by `recv` as
/// [`RecvError::TooLarge`] without allocating for it.
pub struct Connection<Tx, Rx = Tx> {
    incoming: PipeEnd,
    outgoing: PipeEnd,
    reader: FrameReader,
    writer: FrameWriter,
    messages: PhantomData<fn(Tx) -> Rx>,
}

impl<Tx, Rx> fmt::Debug for Connection<Tx, Rx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("incoming", &self.incoming.raw_fd())
            .field("outgoing", &self.outgoing.raw_fd())
            .field("max_message_bytes", &self.reader.max_message_bytes())
            .finish_non_exhaustive()
    }
}

impl<Tx, Rx> Connection<Tx, Rx> {
    /// An end over pipes made by [`Pipe`](crate::Pipe), whose states it shares with the other
    /// end; `capacity` is the outgoing pipe's.
    pub(crate) fn over_pipes(
        incoming: (OwnedFd, SharedPipeState),
        outgoing: (OwnedFd, SharedPipeState),
        capacity: usize,
    ) -> Self {
        Self {
            incoming: PipeEnd::new(incoming.0, Some(incoming.1)),
            outgoing: PipeEnd::new(outgoing.0, Some(outgoing.1)),
            reader: FrameReader::new(MAX_MESSAGE_BYTES),
            writer: FrameWriter::new(MAX_MESSAGE_BYTES, Some(capacity)),
            messages: PhantomData,
        }
    }

    /// A connection over two descriptors made elsewhere: it reads frames from `incoming` and
    /// writes them to `outgoing` (the two may be `dup`s of one socket). The other side must
    /// write and read this library's frames. Such a connection learns that its peer closed
    /// from the close frame or the kernel only; ends made by [`Pipe`](crate::Pipe) also
    /// share a close state that works whatever copies of the descriptors `fork` made.
    pub fn from_fds(incoming: OwnedFd, outgoing: OwnedFd) -> Self {
        Self {
            incoming: PipeEnd::new(incoming, None),
            outgoing: PipeEnd::new(outgoing, None),
            reader: FrameReader::new(MAX_MESSAGE_BYTES),
            writer: FrameWriter::new(MAX_MESSAGE_BYTES, None),
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
        self.writer.send_bytes(self.outgoing.side(), bytes)
    }

    /// Receives one message as raw bytes, as Python's `recv_bytes`; blocks until one comes.
    pub fn recv_bytes(&mut self) -> Result<Vec<u8>, RecvError> {
        let received = self
            .reader
            .recv_bytes(self.incoming.side(), Deadline::Never)?;
        // Unreachable: without a deadline the reader returns a message or an error.
        received.ok_or(RecvError::Timeout {
            waited: Duration::MAX,
        })
    }

    /// [`recv_bytes`](Self::recv_bytes), waiting at most `timeout`.
    pub fn recv_bytes_timeout(&mut self, timeout: Duration) -> Result<Vec<u8>, RecvError> {
        let received = self
            .reader
            .recv_bytes(self.incoming.side(), Deadline::after(timeout))?;
        received.ok_or(RecvError::Timeout { waited: timeout })
    }

    /// Waits at most `timeout` for a message; true if one is ready (or the other end has
    /// closed, so `recv` returns at once with [`RecvError::Closed`]), as Python's `poll`.
    /// `Duration::ZERO` only looks.
    pub fn poll(&mut self, timeout: Duration) -> Result<bool, RecvError> {
        self.reader
            .poll(self.incoming.side(), Deadline::after(timeout))
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
        self.writer.send_value(self.outgoing.side(), message)
    }
}

impl<Tx, Rx: DeserializeOwned> Connection<Tx, Rx> {
    /// Receives one message; blocks until one comes or the other end closes.
    pub fn recv(&mut self) -> Result<Rx, RecvError> {
        let received = self
            .reader
            .recv_value(self.incoming.side(), Deadline::Never)?;
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
            .recv_value(self.incoming.side(), Deadline::after(timeout))?;
        received.ok_or(RecvError::Timeout { waited: timeout })
    }

    /// A message if one is ready now, `None` if not.
    pub fn try_recv(&mut self) -> Result<Option<Rx>, RecvError> {
        self.reader
            .recv_value(self.incoming.side(), Deadline::At(Instant::now()))
    }
}

impl<Tx, Rx> Drop for Connection<Tx, Rx> {
    fn drop(&mut self) {
        // The child that took this end over after fork is still using it.
        if discarding_fork_copy() {
            return;
        }
        self.writer.close(self.outgoing.side());
        self.reader.close(self.incoming.side());
    }
}
