//! The system calls under a pipe end: reads that honour a deadline, writes that finish a whole
//! frame, and the best-effort close frame. Each retries on `EINTR`.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{MsgFlags, Shutdown, UnixAddr, send, sendmsg, shutdown};

use super::frame::CLOSE_FRAME;
use super::sigpipe::SigpipeDefence;

/// How long a receive may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Until a message or the end of the stream.
    Never,
    /// Until this instant; one already past means "only what is ready now".
    At(Instant),
}

impl Deadline {
    /// The deadline `timeout` from now; one too far to represent waits forever.
    pub(crate) fn after(timeout: Duration) -> Self {
        Instant::now()
            .checked_add(timeout)
            .map_or(Self::Never, Self::At)
    }
}

/// What the kernel the fd is: the two differ in how a write avoids SIGPIPE and in `shutdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// An `AF_UNIX` stream socket (a duplex connection).
    Socket,
    /// The write end of a pipe.
    Pipe(SigpipeDefence),
}

/// The result of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// This many bytes (at least one) arrived.
    Got(usize),
    /// Every copy of the writing end is closed, or the peer reset the connection.
    EndOfStream,
    /// The deadline passed with nothing to read.
    TimedOut,
}

/// Why a whole-frame write stopped.
#[derive(Debug)]
pub(crate) enum WriteFailure {
    /// The reader is gone (`EPIPE`, `ECONNRESET`).
    Closed { torn: bool },
    /// Any other error.
    Io { torn: bool, errno: Errno },
}

/// Reads what is available (up to `dest.len()` bytes) into initialised memory.
pub(crate) fn read_some(
    fd: BorrowedFd<'_>,
    dest: &mut [u8],
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    // SAFETY: `dest` is valid for writes of `dest.len()` bytes, and read only stores bytes.
    unsafe { read_raw(fd, dest.as_mut_ptr(), dest.len(), deadline) }
}

/// Reads what is available (up to `dest.len()` bytes) into memory that may be uninitialised;
/// on `Got(n)` the first `n` bytes of `dest` are initialised.
pub(crate) fn read_some_uninit(
    fd: BorrowedFd<'_>,
    dest: &mut [MaybeUninit<u8>],
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    // SAFETY: `dest` is valid for writes of `dest.len()` bytes; `MaybeUninit<u8>` has the
    // layout of `u8`.
    unsafe { read_raw(fd, dest.as_mut_ptr().cast(), dest.len(), deadline) }
}

/// # Safety
///
/// `dest` must be valid for writes of `len` bytes.
unsafe fn read_raw(
    fd: BorrowedFd<'_>,
    dest: *mut u8,
    len: usize,
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    // Without a deadline the read itself blocks: one system call per refill instead of two.
    if let Deadline::At(deadline) = deadline
        && !wait_readable(fd, deadline)?
    {
        return Ok(ReadOutcome::TimedOut);
    }
    loop {
        // SAFETY: the caller guarantees `dest` is valid for `len` bytes of writes.
        let n = unsafe { libc::read(fd.as_raw_fd(), dest.cast(), len) };
        match Errno::result(n) {
            Ok(0) => return Ok(ReadOutcome::EndOfStream),
            Ok(n) => return Ok(ReadOutcome::Got(n as usize)),
            Err(Errno::EINTR) => continue,
            // A unix socket whose peer closed with our data still unread reports a reset.
            Err(Errno::ECONNRESET) => return Ok(ReadOutcome::EndOfStream),
            Err(errno) => return Err(errno),
        }
    }
}

/// Waits until `fd` has something to read (data, end of stream or an error); false if the
/// deadline passed first.
pub(crate) fn wait_readable(fd: BorrowedFd<'_>, deadline: Instant) -> Result<bool, Errno> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Whole milliseconds, rounded up, so a short remainder does not become a busy loop.
        let millis = left.as_nanos().div_ceil(1_000_000);
        let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) if left.is_zero() => return Ok(false),
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => return Ok(true),
            Err(errno) => return Err(errno),
        }
    }
}

/// Writes every byte of `bufs`, in as few system calls as the kernel allows.
pub(crate) fn write_all(
    fd: BorrowedFd<'_>,
    transport: Transport,
    mut bufs: &mut [IoSlice<'_>],
) -> Result<(), WriteFailure> {
    let total: usize = bufs.iter().map(|buf| buf.len()).sum();
    let mut written = 0;
    let mut write_rest = || {
        while written < total {
            match write_once(fd, transport, bufs) {
                Ok(n) => {
                    written += n;
                    IoSlice::advance_slices(&mut bufs, n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EPIPE | Errno::ECONNRESET) => {
                    return (Err(WriteFailure::Closed { torn: written > 0 }), true);
                }
                Err(errno) => {
                    return (
                        Err(WriteFailure::Io {
                            torn: written > 0,
                            errno,
                        }),
                        false,
                    );
                }
            }
        }
        (Ok(()), false)
    };
    match transport {
        Transport::Socket => write_rest().0,
        Transport::Pipe(defence) => defence.guard(write_rest),
    }
}

fn write_once(
    fd: BorrowedFd<'_>,
    transport: Transport,
    bufs: &[IoSlice<'_>],
) -> Result<usize, Errno> {
    let raw = fd.as_raw_fd();
    match (transport, bufs) {
        (Transport::Socket, [one]) => send(raw, one, MsgFlags::MSG_NOSIGNAL),
        (Transport::Socket, many) => {
            sendmsg::<UnixAddr>(raw, many, &[], MsgFlags::MSG_NOSIGNAL, None)
        }
        (Transport::Pipe(_), [one]) => nix::unistd::write(fd, one),
        (Transport::Pipe(_), many) => nix::sys::uio::writev(fd, many),
    }
}

/// Writes a close frame if that cannot block: a peer that does not read must not hang the
/// closing side. If it cannot be written now, the reader learns of the close from the kernel
/// instead (end of stream once every copy of this end is closed, or from `shutdown_socket`).
pub(crate) fn try_write_close_frame(fd: BorrowedFd<'_>, transport: Transport) {
    match transport {
        Transport::Socket => {
            // 12 bytes go into a unix socket whole or not at all. An error means the peer is
            // gone or not reading: either way there is nothing more to do.
            let _ = send(
                fd.as_raw_fd(),
                &CLOSE_FRAME,
                MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
            );
        }
        Transport::Pipe(defence) => {
            // POLLOUT on a pipe means a free buffer slot, and a write of at most PIPE_BUF
            // bytes is atomic, so this write neither blocks nor tears.
            let mut fds = [PollFd::new(fd, PollFlags::POLLOUT)];
            let writable = matches!(poll(&mut fds, PollTimeout::ZERO), Ok(1))
                && fds[0]
                    .revents()
                    .is_some_and(|events| events.contains(PollFlags::POLLOUT));
            if writable {
                let _ = defence.guard(|| {
                    let result = nix::unistd::write(fd, &CLOSE_FRAME);
                    let raised_epipe = result == Err(Errno::EPIPE);
                    (result, raised_epipe)
                });
            }
        }
    }
}

/// Ends both directions of a socket for every process holding a copy of it.
///
/// Unlike closing the fd, this acts on the socket itself, so copies that `fork` left in other
/// processes no longer keep the peer waiting: its reads see the end of the stream after the
/// data already sent, and its writes fail with `EPIPE`.
pub(crate) fn shutdown_socket(fd: BorrowedFd<'_>) {
    // Fails only for a socket that is already shut down or not connected: nothing to do then.
    let _ = shutdown(fd.as_raw_fd(), Shutdown::Both);
}
