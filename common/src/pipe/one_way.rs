//! `PipeReceiver` and `PipeSender`: the two ends of a one-way pipe, as Python's
//! `Pipe(duplex=False)`.

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
/// Closing or dropping it tells the sender, whose sends then fail with
/// [`SendError::Closed`], also one already waiting for room; messages not yet received are
/// discarded. That holds even while forked processes hold copies of this end.
pub struct PipeReceiver<T> {
    pipe: PipeEnd,
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
/// Closing or dropping it lets the receiver see [`RecvError::Closed`] after the messages
/// already sent, even while forked processes hold copies of this end.
///
/// Writing to a pipe whose reader is gone raises SIGPIPE. This end never lets it kill the
/// process: if SIGPIPE is ignored when the end is made (Rust programs ignore it from startup,
/// and forked children inherit that), a plain write reports `EPIPE`; otherwise SIGPIPE is
/// blocked in the writing thread around each write and the one it raised is discarded.
/// [`Connection`] does the same.
///
/// [`Connection`]: crate::Connection
pub struct PipeSender<T> {
    pipe: PipeEnd,
    writer: FrameWriter,
    messages: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for PipeReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeReceiver")
            .field("pipe", &self.pipe.raw_fd())
            .field("max_message_bytes", &self.reader.max_message_bytes())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for PipeSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeSender")
            .field("pipe", &self.pipe.raw_fd())
            .field("max_message_bytes", &self.writer.max_message_bytes())
            .finish_non_exhaustive()
    }
}

impl<T> PipeReceiver<T> {
    /// The read end of a pipe made by [`Pipe`](crate::Pipe), sharing `state` with the writer.
    pub(crate) fn over_pipe(pipe: OwnedFd, state: SharedPipeState) -> Self {
        Self {
            pipe: PipeEnd::new(pipe, Some(state)),
            reader: FrameReader::new(MAX_MESSAGE_BYTES),
            messages: PhantomData,
        }
    }

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
        let received = self.reader.recv_bytes(self.pipe.side(), Deadline::Never)?;
        // Unreachable: without a deadline the reader returns a message or an error.
        received.ok_or(RecvError::Timeout {
            waited: Duration::MAX,
        })
    }

    /// [`recv_bytes`](Self::recv_bytes), waiting at most `timeout`.
    pub fn recv_bytes_timeout(&mut self, timeout: Duration) -> Result<Vec<u8>, RecvError> {
        let received = self
            .reader
            .recv_bytes(self.pipe.side(), Deadline::after(timeout))?;
        received.ok_or(RecvError::Timeout { waited: timeout })
    }

    /// Waits at most `timeout`; true if a message is ready (or the sender has closed, so
    /// `recv` returns at once). `Duration::ZERO` only looks.
    pub fn poll(&mut self, timeout: Duration) -> Result<bool, RecvError> {
        self.reader.poll(self.pipe.side(), Deadline::after(timeout))
    }

    /// Closes this end (the same as dropping it).
    pub fn close(self) {}
}

impl<T: DeserializeOwned> PipeReceiver<T> {
    /// Receives one message; blocks until one comes or the sender closes.
    pub fn recv(&mut self) -> Result<T, RecvError> {
        let received = self.reader.recv_value(self.pipe.side(), Deadline::Never)?;
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
            .recv_value(self.pipe.side(), Deadline::after(timeout))?;
        received.ok_or(RecvError::Timeout { waited: timeout })
    }

    /// A message if one is ready now, `None` if not.
    pub fn try_recv(&mut self) -> Result<Option<T>, RecvError> {
        self.reader
            .recv_value(self.pipe.side(), Deadline::At(Instant::now()))
    }
}

impl<T> PipeSender<T> {
    /// The write end of a pipe made by [`Pipe`](crate::Pipe), sharing `state` with the
    /// reader; `capacity` is the pipe's.
    pub(crate) fn over_pipe(pipe: OwnedFd, state: SharedPipeState, capacity: usize) -> Self {
        Self {
            pipe: PipeEnd::new(pipe, Some(state)),
            writer: FrameWriter::new(MAX_MESSAGE_BYTES, Some(capacity)),
            messages: PhantomData,
        }
    }

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
        self.writer.send_bytes(self.pipe.side(), bytes)
    }

    /// Closes this end; the receiver sees [`RecvError::Closed`] after the messages already
    /// sent. Dropping it does the same.
    pub fn close(self) {}
}

impl<T: Serialize> PipeSender<T> {
    /// Sends one message; blocks only while the pipe's buffer is full.
    pub fn send(&mut self, message: &T) -> Result<(), SendError> {
        self.writer.send_value(self.pipe.side(), message)
    }
}

/// Reads frames from a descriptor made elsewhere: the read end of a pipe, a FIFO, a socket.
/// Without the shared close state of ends made by [`Pipe::one_way`](crate::Pipe::one_way), it
/// learns that the sender closed from the close frame or the kernel's end-of-file only.
impl<T> From<OwnedFd> for PipeReceiver<T> {
    fn from(pipe: OwnedFd) -> Self {
        Self {
            pipe: PipeEnd::new(pipe, None),
            reader: FrameReader::new(MAX_MESSAGE_BYTES),
            messages: PhantomData,
        }
    }
}

/// Writes frames to a descriptor made elsewhere: the write end of a pipe, a FIFO, a socket.
/// Without the shared close state of ends made by [`Pipe::one_way`](crate::Pipe::one_way), a
/// send to a closed receiver fails only when the kernel reports that every copy of the read
/// end is closed (until then it may wait on a full pipe).
impl<T> From<OwnedFd> for PipeSender<T> {
    fn from(pipe: OwnedFd) -> Self {
        Self {
            pipe: PipeEnd::new(pipe, None),
            writer: FrameWriter::new(MAX_MESSAGE_BYTES, None),
            messages: PhantomData,
        }
    }
}

impl<T> Drop for PipeReceiver<T> {
    fn drop(&mut self) {
        // The child that took this end over after fork is still using it.
        if discarding_fork_copy() {
            return;
        }
        self.reader.close(self.pipe.side());
    }
}

impl<T> Drop for PipeSender<T> {
    fn drop(&mut self) {
        // The child that took this end over after fork is still using it.
        if discarding_fork_copy() {
            return;
        }
        self.writer.close(self.pipe.side());
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use nix::fcntl::{FcntlArg, fcntl};

    use super::*;
    use crate::Pipe;
    use crate::pipe::frame::HEADER_LEN;

    const PAGE: usize = 4096;

    /// When the pipe is full at close, the close frame cannot be written without blocking;
    /// the shared state must carry the news, here past a copy of the write end (as a forked
    /// process would hold) that keeps the kernel from reporting end-of-file.
    #[test]
    fn a_close_with_the_pipe_full_is_told_by_the_shared_state() {
        let (mut receiver, mut sender) = Pipe::one_way::<()>().unwrap();
        let copy_left_by_fork = sender.pipe.as_fd().try_clone_to_owned().unwrap();
        let capacity = fcntl(sender.pipe.as_fd(), FcntlArg::F_GETPIPE_SZ).unwrap();
        // Frames of exactly one page each fill the pipe's page slots exactly.
        let frames = usize::try_from(capacity).unwrap() / PAGE;
        let payload = vec![9u8; PAGE - HEADER_LEN];
        for _ in 0..frames {
            sender.send_bytes(&payload).unwrap();
        }
        drop(sender);
        for _ in 0..frames {
            assert_eq!(
                receiver
                    .recv_bytes_timeout(Duration::from_secs(10))
                    .unwrap(),
                payload
            );
        }
        assert!(matches!(
            receiver.recv_bytes_timeout(Duration::from_secs(10)),
            Err(RecvError::Closed)
        ));
        drop(copy_left_by_fork);
    }

    /// A closed receiver is known to the sender at once, though a copy of the read end (as a
    /// forked process would hold) keeps the kernel from reporting a broken pipe.
    #[test]
    fn a_send_after_the_receiver_closed_fails_at_once() {
        let (receiver, mut sender) = Pipe::one_way::<u32>().unwrap();
        let copy_left_by_fork = receiver.pipe.as_fd().try_clone_to_owned().unwrap();
        drop(receiver);
        assert!(matches!(sender.send(&1), Err(SendError::Closed)));
        drop(copy_left_by_fork);
    }
}
