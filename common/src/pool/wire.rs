//! The pool's messages and how they travel: length-prefixed frames on one stream socket per
//! worker, and small datagrams on the fork server's control socket.
//!
//! This does not use the library's `Connection` (the typed channel behind `Pipe`) on
//! purpose:
//! - the fork server hands each worker's socket to the parent with `SCM_RIGHTS`, which needs
//!   `sendmsg`/`recvmsg` on a `SOCK_SEQPACKET` socket, not a typed byte stream;
//! - the parent's result thread multiplexes every worker with `poll` and must never block on
//!   one of them: it reads whatever bytes are there in bulk (many results per `recv`) and
//!   keeps partial frames for later, and writes tasks without blocking, keeping what the
//!   socket did not take. A blocking typed `recv`/`send` cannot do either;
//! - a task frame is built once in the submitting thread and may be sent twice (to a
//!   replacement worker) without encoding it again.
//!
//! ## Frames on a worker socket
//!
//! Every frame is a little-endian `u32` length and that many bytes:
//! - parent to worker, a task: `[KIND_TASK][seq: u64][trampoline: u64][argument bytes]`, or
//!   `[KIND_EXIT]` to make an idle worker exit;
//! - worker to parent, an outcome: `[seq: u64][run time in ns: u64][status][bytes]`, where
//!   `status` is [`STATUS_OK`] (the bytes are the encoded result) or [`STATUS_FAILED`] (the
//!   bytes are an encoded [`TaskFailure`](super::task::TaskFailure)).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, recv, recvmsg, send, sendmsg,
};
use serde::{Deserialize, Serialize};

use crate::ExitStatus;
use crate::codec::{self, MAX_MESSAGE_BYTES};
use crate::errors::Signal;

/// Bytes of the length prefix.
pub(crate) const LEN_BYTES: usize = 4;
/// First byte of a task frame.
pub(crate) const KIND_TASK: u8 = 1;
/// First (only) byte of an exit frame.
pub(crate) const KIND_EXIT: u8 = 2;
/// Task frame header after the length: kind, seq, trampoline.
pub(crate) const TASK_HEADER: usize = 1 + 8 + 8;
/// Outcome frame header after the length: seq, run time, status.
pub(crate) const OUTCOME_HEADER: usize = 8 + 8 + 1;
/// The task returned; the bytes are its encoded result.
pub(crate) const STATUS_OK: u8 = 0;
/// The task failed; the bytes are an encoded `TaskFailure`.
pub(crate) const STATUS_FAILED: u8 = 1;

/// Appends a length placeholder to `buf`; returns where the frame starts.
pub(crate) fn start_frame(buf: &mut Vec<u8>) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0; LEN_BYTES]);
    start
}

/// Writes the length of the frame begun at `start`. A frame above the message limit is an
/// error carrying its size; the caller truncates it away.
pub(crate) fn finish_frame(buf: &mut [u8], start: usize) -> Result<(), usize> {
    let len = buf.len() - start - LEN_BYTES;
    if len > MAX_MESSAGE_BYTES {
        return Err(len);
    }
    buf[start..start + LEN_BYTES].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(())
}

pub(crate) fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// A frame whose length prefix is impossible: the stream is corrupt.
#[derive(Debug)]
pub(crate) struct CorruptFrame;

/// Bytes read from a socket, split into frames as they complete.
pub(crate) struct InBuffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

const INITIAL_BUFFER: usize = 64 * 1024;
/// Below this much free space at the end, the buffer is compacted (or grown) before a read.
const MIN_READ_SPACE: usize = 16 * 1024;

impl InBuffer {
    pub(crate) fn new() -> Self {
        Self {
            data: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
        }
    }

    /// One `recv` into the free space. `Ok(0)` is end of file. With `nonblocking`, an empty
    /// socket is `Err(WouldBlock)`.
    pub(crate) fn fill_from(&mut self, fd: RawFd, nonblocking: bool) -> io::Result<usize> {
        self.make_room(MIN_READ_SPACE);
        let flags = if nonblocking {
            MsgFlags::MSG_DONTWAIT
        } else {
            MsgFlags::empty()
        };
        loop {
            match recv(fd, &mut self.data[self.end..], flags) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    /// The next complete frame's payload, or `None` until more bytes arrive.
    pub(crate) fn next_frame(&mut self) -> Result<Option<&[u8]>, CorruptFrame> {
        let available = self.end - self.start;
        if available < LEN_BYTES {
            return Ok(None);
        }
        let mut prefix = [0; LEN_BYTES];
        prefix.copy_from_slice(&self.data[self.start..self.start + LEN_BYTES]);
        let len = u32::from_le_bytes(prefix) as usize;
        if len > MAX_MESSAGE_BYTES {
            return Err(CorruptFrame);
        }
        if available < LEN_BYTES + len {
            // Make sure the whole frame will fit, so the next reads can complete it.
            self.make_room(LEN_BYTES + len - available);
            return Ok(None);
        }
        let payload = self.start + LEN_BYTES..self.start + LEN_BYTES + len;
        self.start = payload.end;
        Ok(Some(&self.data[payload]))
    }

    /// Ensures at least `space` free bytes after `end`.
    fn make_room(&mut self, space: usize) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.data.len() - self.end >= space {
            return;
        }
        self.data.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.data.len() - self.end < space {
            let wanted = (self.end + space).next_power_of_two();
            self.data.resize(wanted, 0);
        }
    }
}

/// Bytes waiting to be written to a socket that may not take them all at once.
#[derive(Default)]
pub(crate) struct OutBuffer {
    data: Vec<u8>,
    sent: usize,
}

impl OutBuffer {
    pub(crate) fn is_empty(&self) -> bool {
        self.sent == self.data.len()
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.is_empty() {
            self.data.clear();
            self.sent = 0;
        }
        self.data.extend_from_slice(bytes);
    }

    /// Sends as much as the socket takes without blocking.
    pub(crate) fn flush(&mut self, fd: RawFd) -> io::Result<()> {
        while !self.is_empty() {
            match send(
                fd,
                &self.data[self.sent..],
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
            ) {
                Ok(n) => self.sent += n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break,
                Err(errno) => return Err(errno.into()),
            }
        }
        if self.is_empty() {
            self.data.clear();
            self.sent = 0;
        }
        Ok(())
    }
}

/// Writes all of `bytes`, blocking as needed (the worker's side).
pub(crate) fn write_all(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match send(fd, bytes, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
    Ok(())
}

/// From the parent to the fork server.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ControlRequest {
    /// Fork a worker for slot `index` and send back its socket.
    Spawn { index: u32 },
    /// Wait for the workers to exit (after their exit frames), or kill them first when
    /// `kill`, reap them, and exit.
    Shutdown { kill: bool },
}

/// From the fork server to the parent.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ControlEvent {
    /// A worker runs in slot `index`; its socket travels with this message.
    Spawned { index: u32, pid: u32 },
    /// The worker for slot `index` could not be started.
    SpawnFailed { index: u32, errno: i32 },
    /// The worker in slot `index` ended and was reaped.
    WorkerDied {
        index: u32,
        pid: u32,
        status: WireExitStatus,
    },
}

/// [`ExitStatus`] as it crosses the control socket.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) enum WireExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl From<ExitStatus> for WireExitStatus {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Exited(code) => Self::Exited(code),
            ExitStatus::Signaled(signal) => Self::Signaled(signal as i32),
        }
    }
}

impl From<WireExitStatus> for ExitStatus {
    fn from(status: WireExitStatus) -> Self {
        match status {
            WireExitStatus::Exited(code) => Self::Exited(code),
            // A signal number this nix does not know cannot come from waitpid on Linux; a
            // bogus one is reported as SIGKILL rather than invented.
            WireExitStatus::Signaled(number) => {
                Self::Signaled(Signal::try_from(number).unwrap_or(Signal::SIGKILL))
            }
        }
    }
}

/// Largest control message: a few integers.
const CONTROL_MESSAGE_MAX: usize = 64;

/// Sends one control message, with `fd` attached when given.
pub(crate) fn send_control<T: Serialize>(
    socket: RawFd,
    message: &T,
    fd: Option<RawFd>,
) -> io::Result<()> {
    let bytes = codec::encode(message).map_err(io::Error::other)?;
    let iov = [io::IoSlice::new(&bytes)];
    let fds: Vec<RawFd> = fd.into_iter().collect();
    let cmsgs: Vec<ControlMessage<'_>> = if fds.is_empty() {
        Vec::new()
    } else {
        vec![ControlMessage::ScmRights(&fds)]
    };
    loop {
        match sendmsg::<()>(socket, &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
}

/// Receives one control message and the descriptor that came with it. `Ok(None)` is end of
/// file (the peer has gone); with `nonblocking`, no message is `Err(WouldBlock)`.
pub(crate) fn recv_control<T: serde::de::DeserializeOwned>(
    socket: RawFd,
    nonblocking: bool,
) -> io::Result<Option<(T, Option<OwnedFd>)>> {
    let mut bytes = [0u8; CONTROL_MESSAGE_MAX];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let flags = if nonblocking {
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC
    } else {
        MsgFlags::MSG_CMSG_CLOEXEC
    };
    let (len, fd) = loop {
        let mut iov = [io::IoSliceMut::new(&mut bytes)];
        match recvmsg::<()>(socket, &mut iov, Some(&mut space), flags) {
            Ok(message) => {
                let mut fd = None;
                for cmsg in message.cmsgs()? {
                    if let ControlMessageOwned::ScmRights(fds) = cmsg {
                        for raw in fds {
                            // SAFETY: SCM_RIGHTS installed this descriptor in our table for
                            // us alone; wrapping it gives it exactly one owner.
                            let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                            fd.get_or_insert(owned);
                        }
                    }
                }
                break (message.bytes, fd);
            }
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    };
    if len == 0 {
        return Ok(None);
    }
    let message = codec::decode(&bytes[..len]).map_err(io::Error::other)?;
    Ok(Some((message, fd)))
}
