//! The system calls under a pipe end: reads that honour a deadline and notice a closed
//! writer, writes that finish a whole frame and notice a closed reader, and what closing
//! does to the pipe. Each retries on `EINTR`.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::frame::CLOSE_FRAME;
use super::pipe_state::PipeState;
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

/// One end's side of one pipe: the descriptor, and the state shared with the other end when
/// the pipe was made by [`Pipe`](crate::Pipe) (see [`PipeState`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PipeSide<'a> {
    pub(crate) fd: BorrowedFd<'a>,
    pub(crate) state: Option<&'a PipeState>,
}

impl<'a> PipeSide<'a> {
    pub(crate) fn new(fd: &'a impl AsFd, state: Option<&'a PipeState>) -> Self {
        Self {
            fd: fd.as_fd(),
            state,
        }
    }
}

/// The result of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// This many bytes (at least one) arrived.
    Got(usize),
    /// The pipe is empty and the writer is gone: it closed, or every copy of it did.
    EndOfStream,
    /// The deadline passed with nothing to read.
    TimedOut,
}

/// Why a whole-frame write stopped.
#[derive(Debug)]
pub(crate) enum WriteFailure {
    /// The reader is gone (it closed, or `EPIPE`). `torn`: part of the frame was written.
    Closed { torn: bool },
    /// Any other error.
    Io { torn: bool, errno: Errno },
}

/// Reads what is available (up to `dest.len()` bytes) into initialised memory.
pub(crate) fn read_some(
    side: PipeSide<'_>,
    dest: &mut [u8],
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    // SAFETY: `dest` is valid for writes of `dest.len()` bytes, and read only stores bytes.
    unsafe { read_raw(side, dest.as_mut_ptr(), dest.len(), deadline) }
}

/// Reads what is available (up to `dest.len()` bytes) into memory that may be uninitialised;
/// on `Got(n)` the first `n` bytes of `dest` are initialised.
pub(crate) fn read_some_uninit(
    side: PipeSide<'_>,
    dest: &mut [MaybeUninit<u8>],
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    // SAFETY: `dest` is valid for writes of `dest.len()` bytes; `MaybeUninit<u8>` has the
    // layout of `u8`.
    unsafe { read_raw(side, dest.as_mut_ptr().cast(), dest.len(), deadline) }
}

/// # Safety
///
/// `dest` must be valid for writes of `len` bytes.
unsafe fn read_raw(
    side: PipeSide<'_>,
    dest: *mut u8,
    len: usize,
    deadline: Deadline,
) -> Result<ReadOutcome, Errno> {
    loop {
        if side.state.is_some_and(PipeState::writer_closed) {
            // The writer closed: what is in the pipe is all there will be, so never wait.
            if !ready_now(side.fd, PollFlags::POLLIN)? {
                return Ok(ReadOutcome::EndOfStream);
            }
        } else if deadline != Deadline::Never && !wait_ready(side.fd, PollFlags::POLLIN, deadline)?
        {
            return Ok(ReadOutcome::TimedOut);
        }
        // Without a deadline the read itself waits: one system call per message.
        // SAFETY: the caller guarantees `dest` is valid for `len` bytes of writes.
        let n = unsafe { libc::read(side.fd.as_raw_fd(), dest.cast(), len) };
        match Errno::result(n) {
            Ok(0) => return Ok(ReadOutcome::EndOfStream),
            Ok(n) => return Ok(ReadOutcome::Got(n as usize)),
            Err(Errno::EINTR) => {}
            // A non-blocking descriptor given to `from_fds`: wait for it, then read again.
            Err(Errno::EAGAIN) => {
                if !wait_ready(side.fd, PollFlags::POLLIN, deadline)? {
                    return Ok(ReadOutcome::TimedOut);
                }
            }
            // A socket given to `from_fds` whose peer closed with our data unread.
            Err(Errno::ECONNRESET) => return Ok(ReadOutcome::EndOfStream),
            Err(errno) => return Err(errno),
        }
    }
}

/// Writes `header` then `payload`, all of it, in as few system calls as the kernel allows.
///
/// With `chunk_limit` (the pipe's capacity), no single call writes more, so a call blocked
/// on a full pipe finishes once a closing reader empties it (see [`PipeState`]).
pub(crate) fn write_all(
    side: PipeSide<'_>,
    defence: SigpipeDefence,
    header: &[u8],
    payload: &[u8],
    chunk_limit: Option<usize>,
) -> Result<(), WriteFailure> {
    let total = header.len() + payload.len();
    let limit = chunk_limit.unwrap_or(usize::MAX).max(1);
    let mut written = 0;
    let write_rest = || {
        while written < total {
            let torn = written > 0;
            if side.state.is_some_and(PipeState::reader_closed) {
                return (Err(WriteFailure::Closed { torn }), false);
            }
            let (head, body) = remaining(header, payload, written, limit);
            let result = if head.is_empty() {
                nix::unistd::write(side.fd, body)
            } else if body.is_empty() {
                nix::unistd::write(side.fd, head)
            } else {
                nix::sys::uio::writev(side.fd, &[IoSlice::new(head), IoSlice::new(body)])
            };
            match result {
                Ok(n) => written += n,
                Err(Errno::EINTR) => {}
                // A non-blocking descriptor given to `from_fds`.
                Err(Errno::EAGAIN) => {
                    if let Err(errno) = wait_ready(side.fd, PollFlags::POLLOUT, Deadline::Never) {
                        return (Err(WriteFailure::Io { torn, errno }), false);
                    }
                }
                Err(Errno::EPIPE) => return (Err(WriteFailure::Closed { torn }), true),
                // A socket given to `from_fds` whose peer reset.
                Err(Errno::ECONNRESET) => return (Err(WriteFailure::Closed { torn }), false),
                Err(errno) => return (Err(WriteFailure::Io { torn, errno }), false),
            }
        }
        (Ok(()), false)
    };
    defence.guard(write_rest)
}

/// The bytes after the first `written` of `header` + `payload`, at most `limit` of them.
fn remaining<'a>(
    header: &'a [u8],
    payload: &'a [u8],
    written: usize,
    limit: usize,
) -> (&'a [u8], &'a [u8]) {
    let head = header.get(written..).unwrap_or_default();
    let head = &head[..head.len().min(limit)];
    let body = &payload[written.saturating_sub(header.len())..];
    let body = &body[..body.len().min(limit - head.len())];
    (head, body)
}

/// The writer's part of closing (see [`PipeState`]): flag first, then a close frame if that
/// cannot block, since a peer that does not read must not hang the closing side.
pub(crate) fn close_writing(side: PipeSide<'_>, defence: SigpipeDefence, frame_allowed: bool) {
    if let Some(state) = side.state {
        state.close_writer();
    }
    // POLLOUT on a pipe means a free buffer slot, and a write of at most PIPE_BUF bytes is
    // atomic, so this write neither blocks nor tears, on a blocking descriptor too.
    if frame_allowed && matches!(ready_now(side.fd, PollFlags::POLLOUT), Ok(true)) {
        let _ = defence.guard(|| {
            let result = nix::unistd::write(side.fd, &CLOSE_FRAME);
            let raised_epipe = result == Err(Errno::EPIPE);
            (result, raised_epipe)
        });
    }
}

/// Most bytes a closing reader discards to release a blocked writer: its pipe's capacity
/// twice over (what was in the pipe, and the writer's call in progress) for any pipe size
/// up to 1 MiB; bounded so that closing never turns into reading a runaway writer forever.
const MOST_DISCARDED_AT_CLOSE: usize = 4 << 20;

/// The reader's part of closing (see [`PipeState`]): flag first, then empty the pipe, which
/// wakes a writer blocked on it. `scratch` receives the discarded bytes; it is given
/// `scratch_len` bytes if it is empty and something must be read.
pub(crate) fn close_reading(side: PipeSide<'_>, scratch: &mut Vec<u8>, scratch_len: usize) {
    let Some(state) = side.state else {
        return;
    };
    state.close_reader();
    let mut discarded = 0;
    while discarded < MOST_DISCARDED_AT_CLOSE
        && matches!(ready_now(side.fd, PollFlags::POLLIN), Ok(true))
    {
        if scratch.is_empty() {
            scratch.resize(scratch_len.max(1), 0);
        }
        match nix::unistd::read(side.fd, scratch) {
            Ok(0) => break,
            Ok(n) => discarded += n,
            Err(Errno::EINTR) => {}
            Err(_) => break,
        }
    }
}

/// Waits until `fd` is ready for `events` (true) or the deadline passes (false).
fn wait_ready(fd: BorrowedFd<'_>, events: PollFlags, deadline: Deadline) -> Result<bool, Errno> {
    loop {
        let mut polled = [PollFd::new(fd, events)];
        match poll(&mut polled, deadline.poll_timeout()) {
            Ok(0) if deadline.has_passed() => return Ok(false),
            Ok(0) | Err(Errno::EINTR) => {}
            Ok(_) => return Ok(true),
            Err(errno) => return Err(errno),
        }
    }
}

/// Whether `fd` is ready for `events` this instant (for reading, that includes the end of
/// the stream; for writing, an error the write would report).
fn ready_now(fd: BorrowedFd<'_>, events: PollFlags) -> Result<bool, Errno> {
    let mut polled = [PollFd::new(fd, events)];
    loop {
        match poll(&mut polled, PollTimeout::ZERO) {
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
            Ok(_) => {
                return Ok(polled[0]
                    .revents()
                    .is_some_and(|revents| !revents.is_empty()));
            }
        }
    }
}
