//! `PipeReceiver` and `PipeSender`: the two ends of a one-way pipe, as Python's
//! `Pipe(duplex=False)`.

use std::fmt;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::fd_io::{Deadline, Transport};
use super::reader::FrameReader;
use super::sigpipe::SigpipeDefence;
use super::writer::FrameWriter;
use crate::codec::MAX_MESSAGE_BYTES;
use crate::errors::{RecvError, SendError};
use crate::process::discarding_fork_copy;

/// The receiving end of a one-way pipe (see [`Pipe::one_way`](crate::Pipe::one_way)).
///
/// ```
/// use multiprocessing as mp;
///
/// let (mut results, mut sender) = mp::Pipe::one_way::<u64>()?;
/// let mut worker = mp::Process::new(move || {
///     for n in 1..=3u64 {
///         let _ = sender.send(&(n * n));
///     }
/// }); // the worker's end closes when its closure returns
/// worker.start()?;
/// let mut squares = Vec::new();
/// while let Ok(square) = results.recv() {
///     squares.push(square);
/// }
/// worker.join()?;
/// assert_eq!(squares, [1, 4, 9]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Dropping a receiver only closes its descriptor: a pipe has no way back to tell the sender,
/// whose sends fail with [`SendError::Closed`] once no process holds a copy of this end.
pub struct PipeReceiver<T> {
    fd: OwnedFd,
    reader: FrameReader,
    messages: PhantomData<fn() -> T>,
}

/// The sending end of a one-way pipe (see [`Pipe::one_way`](crate::Pipe::one_way)).
///
/// ```
/// use multiprocessing as mp;
///
/// let (mut receiver, mut sender) = mp::Pipe::one_way::<String>()?;
/// let mut producer = mp::Process::new(move || {
///     let _ = sender.send(&"made in the child".to_owned());
///     sender.close();
/// });
/// producer.start()?;
/// assert_eq!(receiver.recv()?, "made in the child");
/// assert!(matches!(receiver.recv(), Err(mp::RecvError::Closed)));
/// producer.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Closing or dropping it sends a close mark after its messages, so the receiver sees
/// [`RecvError::Closed`] even when forked processes still hold copies of this descriptor
/// (unless the pipe is full at that moment: closing never blocks, and the receiver then sees
/// the end once every copy is closed).
///
/// Writes to a pipe whose reader is gone raise SIGPIPE. This end never lets it kill the
/// process: if SIGPIPE is ignored when the end is made (Rust programs ignore it from startup,
/// and forked children inherit that), a plain write reports `EPIPE`; otherwise SIGPIPE is
/// blocked in the writing thread around each write and the one it raised is discarded.
pub struct PipeSender<T> {
    fd: OwnedFd,
    writer: FrameWriter,
    messages: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for PipeReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeReceiver")
            .field("fd", &self.fd.as_raw_fd())
            .field("max_message_bytes", &self.reader.max_message_bytes())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for PipeSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeSender")
            .field("fd", &self.fd.as_raw_fd())
            .field("max_message_bytes", &self.writer.max_message_bytes())
            .finish_non_exhaustive()
    }
}

impl<T> PipeReceiver<T> {
    /// Sets the largest message, in encoded bytes, this end accepts.
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.reader.set_max_message_bytes(max);
        self
    }

    /// The largest message, in encoded bytes, this end accepts.
    pub fn max_message_bytes(&self) -> usize {
        self.reader.max_message_bytes()
    }

    /// Receives one message as raw bytes (sent by [`PipeSender::send_bytes`]).
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

    /// Waits at most `timeout`; true if a message is ready (or the sender has closed, so
    /// `recv` returns at once). `Duration::ZERO` only looks.
    pub fn poll(&mut self, timeout: Duration) -> Result<bool, RecvError> {
        self.reader.poll(self.fd.as_fd(), Deadline::after(timeout))
    }

    /// Closes this end (the same as dropping it).
    pub fn close(self) {}
}

impl<T: DeserializeOwned> PipeReceiver<T> {
    /// Receives one message; blocks until one comes or the sender closes.
    pub fn recv(&mut self) -> Result<T, RecvError> {
        let received = self.reader.recv_value(self.fd.as_fd(), Deadline::Never)?;
        // Unreachable: without a deadline the reader returns a message or an error.
        received.ok_or(RecvError::Timeout {
            waited: Duration::MAX,
        })
    }

    /// [`recv`](Self::recv), waiting at most `timeout`; then [`RecvError::Timeout`]. A message
    /// partly received by then is kept and finished by the next receive.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvError> {
        let received = self
            .reader
            .recv_value(self.fd.as_fd(), Deadline::after(timeout))?;
        received.ok_or(RecvError::Timeout { waited: timeout })
    }

    /// A message if one is ready now, `None` if not.
    pub fn try_recv(&mut self) -> Result<Option<T>, RecvError> {
        self.reader
            .recv_value(self.fd.as_fd(), Deadline::At(Instant::now()))
    }
}

impl<T> PipeSender<T> {
    /// Sets the largest message, in encoded bytes, this end sends.
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.writer.set_max_message_bytes(max);
        self
    }

    /// The largest message, in encoded bytes, this end sends.
    pub fn max_message_bytes(&self) -> usize {
        self.writer.max_message_bytes()
    }

    /// Sends `bytes` as one message, without serde (received with
    /// [`PipeReceiver::recv_bytes`]).
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        self.writer.send_bytes(self.fd.as_fd(), bytes)
    }

    /// Closes this end; the receiver sees [`RecvError::Closed`] after the messages already
    /// sent. Dropping it does the same.
    pub fn close(self) {}
}

impl<T: Serialize> PipeSender<T> {
    /// Sends one message; blocks only while the pipe's buffer is full.
    pub fn send(&mut self, message: &T) -> Result<(), SendError> {
        self.writer.send_value(self.fd.as_fd(), message)
    }
}

/// Reads frames from any readable descriptor: the read end of a pipe, a socket, a FIFO.
impl<T> From<OwnedFd> for PipeReceiver<T> {
    fn from(fd: OwnedFd) -> Self {
        Self {
            fd,
            reader: FrameReader::new(MAX_MESSAGE_BYTES),
            messages: PhantomData,
        }
    }
}

/// Writes frames to the write end of a pipe or FIFO. (`write(2)` is used, so a socket works
/// too, though without `MSG_NOSIGNAL`: see the SIGPIPE note on [`PipeSender`].)
impl<T> From<OwnedFd> for PipeSender<T> {
    fn from(fd: OwnedFd) -> Self {
        let transport = Transport::Pipe(SigpipeDefence::for_current_disposition());
        Self {
            fd,
            writer: FrameWriter::new(transport, MAX_MESSAGE_BYTES),
            messages: PhantomData,
        }
    }
}

impl<T> AsFd for PipeReceiver<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl<T> AsRawFd for PipeReceiver<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl<T> AsFd for PipeSender<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl<T> AsRawFd for PipeSender<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl<T> Drop for PipeSender<T> {
    fn drop(&mut self) {
        // The child that took this end over after fork is still using it.
        if !discarding_fork_copy() {
            self.writer.announce_close(self.fd.as_fd());
        }
    }
}
