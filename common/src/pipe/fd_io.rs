//! The system calls under a pipe end: reads that honour a deadline and notice a hung-up peer,
//! writes that finish a whole frame, and the best-effort close frame. Each retries on `EINTR`.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

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

    fn poll_timeout(self) -> PollTimeout {
        match self {
            Self::Never => PollTimeout::NONE,
            Self::At(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                // Whole milliseconds, rounded up, so a short remainder is not a busy loop.
                let millis = left.as_nanos().div_ceil(1_000_000);
                PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
            }
        }
    }

    fn has_passed(self) -> bool {
        match self {
            Self::Never => false,
            Self::At(deadline) => Instant::now() >= deadline,
        }
    }
}

/// The descriptors one direction of an end uses: its pipe, and the link to its peer if it has
/// one (see [`PeerLink`](super::peer_link::PeerLink)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fds<'a> {
    pub(crate) pipe: BorrowedFd<'a>,
    pub(crate) link: Option<BorrowedFd<'a>>,
}

impl<'a> Fds<'a> {
    pub(crate) fn of(pipe: &'a impl AsFd, link: Option<&'a impl AsFd>) -> Self {
        Self {
            pipe: pipe.as_fd(),
            link: link.map(AsFd::as_fd),
        }
    }
}

/// The result of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// This many bytes (at least one) arrived.
    Got(usize),
    /// The pipe is empty and the writer is gone: it hung up, or every copy of it is closed.
    EndOfStream,
    /// The deadline passed with nothing to read.
    TimedOut,
}

/// Why a whole-frame write stopped.
#[derive(Debug)]
pub(crate) enum WriteFailure {
    /// The reader is gone (it hung up, or `EPIPE`). `torn`: part of the frame was written.
    Closed { torn: bool },
    /// Any other error.
    Io { torn: bool, errno: Errno },
}

/// Reads what is available (up to `dest.len()` bytes) into initialised memory.
pub(crate) fn read_some(
    fds: Fds<'_>,
    dest: &mut [u8],
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    // SAFETY: `dest` is valid for writes of `dest.len()` bytes, and read only stores bytes.
    unsafe { read_raw(fds, dest.as_mut_ptr(), dest.len(), deadline) }
}

/// Reads what is available (up to `dest.len()` bytes) into memory that may be uninitialised;
/// on `Got(n)` the first `n` bytes of `dest` are initialised.
pub(crate) fn read_some_uninit(
    fds: Fds<'_>,
    dest: &mut [MaybeUninit<u8>],
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    // SAFETY: `dest` is valid for writes of `dest.len()` bytes; `MaybeUninit<u8>` has the
    // layout of `u8`.
    unsafe { read_raw(fds, dest.as_mut_ptr().cast(), dest.len(), deadline) }
}

/// # Safety
///
/// `dest` must be valid for writes of `len` bytes.
unsafe fn read_raw(
    fds: Fds<'_>,
    dest: *mut u8,
    len: usize,
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    // With no link to watch and no deadline, a blocking read does the waiting: one system
    // call per refill instead of two.
    let mut wait_first = fds.link.is_some() || deadline != Deadline::Never;
    loop {
        if wait_first {
            match wait_readable(fds, deadline)? {
                Readiness::Readable => {}
                Readiness::PeerGone => return Ok(ReadOutcome::EndOfStream),
                Readiness::TimedOut => return Ok(ReadOutcome::TimedOut),
            }
        }
        // SAFETY: the caller guarantees `dest` is valid for `len` bytes of writes.
        let n = unsafe { libc::read(fds.pipe.as_raw_fd(), dest.cast(), len) };
        match Errno::result(n) {
            Ok(0) => return Ok(ReadOutcome::EndOfStream),
            Ok(n) => return Ok(ReadOutcome::Got(n as usize)),
            Err(Errno::EINTR) => {}
            // A non-blocking pipe emptied by someone else between poll and read: wait again.
            Err(Errno::EAGAIN) => wait_first = true,
            // A socket given to `from_fds` whose peer closed with our data unread.
            Err(Errno::ECONNRESET) => return Ok(ReadOutcome::EndOfStream),
            Err(errno) => return Err(errno),
        }
    }
}

enum Readiness {
    /// A read will not block (data, end of file, or an error to report).
    Readable,
    /// The pipe is empty and the peer hung up.
    PeerGone,
    TimedOut,
}

fn wait_readable(fds: Fds<'_>, deadline: Deadline) -> Result<Readiness, Errno> {
    loop {
        let mut polled = poll_set(fds, PollFlags::POLLIN);
        let count = usize::from(fds.link.is_some()) + 1;
        match poll(&mut polled[..count], deadline.poll_timeout()) {
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
            Ok(0) if deadline.has_passed() => return Ok(Readiness::TimedOut),
            Ok(0) => continue,
            Ok(_) => {}
        }
        if fired(&polled[0]) {
            return Ok(Readiness::Readable);
        }
        // The peer writes its last data before it hangs up, so data polled after seeing the
        // hang-up is all there will be; poll checked the pipe before the link, so look again.
        if pipe_ready_now(fds.pipe, PollFlags::POLLIN)? {
            return Ok(Readiness::Readable);
        }
        return Ok(Readiness::PeerGone);
    }
}

/// Writes every byte of `bufs`, in as few system calls as the kernel allows. While the pipe is
/// full it waits for room or for the reader to hang up.
pub(crate) fn write_all(
    fds: Fds<'_>,
    defence: SigpipeDefence,
    mut bufs: &mut [IoSlice<'_>],
) -> Result<(), WriteFailure> {
    let total: usize = bufs.iter().map(|buf| buf.len()).sum();
    let mut written = 0;
    let write_rest = || {
        while written < total {
            let result = match &*bufs {
                [one] => nix::unistd::write(fds.pipe, one),
                many => nix::sys::uio::writev(fds.pipe, many),
            };
            let errno = match result {
                Ok(n) => {
                    written += n;
                    IoSlice::advance_slices(&mut bufs, n);
                    continue;
                }
                Err(errno) => errno,
            };
            let torn = written > 0;
            match errno {
                Errno::EINTR => {}
                Errno::EAGAIN => match wait_writable(fds) {
                    Ok(true) => {}
                    Ok(false) => return (Err(WriteFailure::Closed { torn }), false),
                    Err(errno) => return (Err(WriteFailure::Io { torn, errno }), false),
                },
                Errno::EPIPE => return (Err(WriteFailure::Closed { torn }), true),
                Errno::ECONNRESET => return (Err(WriteFailure::Closed { torn }), false),
                errno => return (Err(WriteFailure::Io { torn, errno }), false),
            }
        }
        (Ok(()), false)
    };
    defence.guard(write_rest)
}

/// Waits until the pipe has room (true) or the reader hung up (false).
fn wait_writable(fds: Fds<'_>) -> Result<bool, Errno> {
    loop {
        let mut polled = poll_set(fds, PollFlags::POLLOUT);
        let count = usize::from(fds.link.is_some()) + 1;
        match poll(&mut polled[..count], PollTimeout::NONE) {
            Err(Errno::EINTR) | Ok(0) => continue,
            Err(errno) => return Err(errno),
            Ok(_) => {}
        }
        // Room, or an error the next write reports (EPIPE when every reader is closed).
        if fired(&polled[0]) {
            return Ok(true);
        }
        return Ok(false);
    }
}

/// Writes a close frame if that cannot block: a peer that does not read must not hang the
/// closing side. If the pipe is full, the reader learns of the close from the link instead.
pub(crate) fn try_write_close_frame(fds: Fds<'_>, defence: SigpipeDefence) {
    // POLLOUT on a pipe means a free buffer slot, and a write of at most PIPE_BUF bytes is
    // atomic, so this write neither blocks nor tears (also on a blocking descriptor).
    if matches!(pipe_ready_now(fds.pipe, PollFlags::POLLOUT), Ok(true)) {
        let _ = defence.guard(|| {
            let result = nix::unistd::write(fds.pipe, &CLOSE_FRAME);
            let raised_epipe = result == Err(Errno::EPIPE);
            (result, raised_epipe)
        });
    }
}

/// Whether `pipe` is ready for `events` this instant.
fn pipe_ready_now(pipe: BorrowedFd<'_>, events: PollFlags) -> Result<bool, Errno> {
    let mut polled = [PollFd::new(pipe, events)];
    loop {
        match poll(&mut polled, PollTimeout::ZERO) {
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
            Ok(_) => return Ok(fired(&polled[0])),
        }
    }
}

/// The pipe polled for `events`, then the link (if any) for hang-up.
fn poll_set(fds: Fds<'_>, events: PollFlags) -> [PollFd<'_>; 2] {
    // Without a link the second entry is not passed to poll; the pipe stands in for it.
    let link = fds.link.unwrap_or(fds.pipe);
    [
        PollFd::new(fds.pipe, events),
        PollFd::new(link, PollFlags::POLLIN),
    ]
}

fn fired(polled: &PollFd<'_>) -> bool {
    polled.revents().is_some_and(|events| !events.is_empty())
}
