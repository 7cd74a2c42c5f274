//! The receiving half of an end: buffered frame parsing over a byte stream.
//!
//! Reads are made in bulk into a 64 KiB buffer, so a burst of small messages costs one
//! system call for many of them, and a message already buffered is returned without any. A
//! payload too big for the buffer is read straight into a vector of its own size, which
//! `recv_bytes` hands to the caller without a copy. Progress survives a timeout: a message
//! half-received when a deadline passes is continued by the next receive.

use serde::de::DeserializeOwned;

use super::fd_io::{Deadline, PipeSide, ReadOutcome, close_reading, read_some, read_some_uninit};
use super::frame::{HEADER_LEN, Header, parse};
use crate::codec;
use crate::errors::{FrameFault, RecvError};

/// Size of the bulk-read buffer; frames larger than this bypass it.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// The most a large payload's vector reserves before its bytes arrive, so a corrupt or
/// hostile length under the limit costs memory only as fast as data really comes in.
const LARGE_PAYLOAD_FIRST_RESERVE: usize = 16 << 20;

/// Receives frames from one pipe.
#[derive(Debug)]
pub(crate) struct FrameReader {
    /// Empty until the first read; then `READ_BUFFER_BYTES` long.
    buffer: Vec<u8>,
    /// Unconsumed bytes are `buffer[start..end]`.
    start: usize,
    end: usize,
    /// The payload of a frame too large for `buffer`, as far as it has arrived.
    large: Option<LargePayload>,
    state: StreamState,
    max_message_bytes: usize,
}

#[derive(Debug)]
struct LargePayload {
    bytes: Vec<u8>,
    len: usize,
}

#[derive(Debug, Clone, Copy)]
enum StreamState {
    Open,
    /// A close frame or the end of the stream was seen after the last whole frame.
    PeerClosed,
    /// The stream is out of step; every later receive repeats why.
    Broken(Breakage),
}

#[derive(Debug, Clone, Copy)]
enum Breakage {
    Fault(FrameFault),
    TooLarge { len: u64, max: usize },
}

impl From<Breakage> for RecvError {
    fn from(breakage: Breakage) -> Self {
        match breakage {
            Breakage::Fault(fault) => RecvError::Corrupt { fault },
            Breakage::TooLarge { len, max } => RecvError::TooLarge { len, max },
        }
    }
}

/// Where the next whole frame's payload is.
#[derive(Debug, Clone, Copy)]
enum Ready {
    /// In `buffer`, right after the header at `start`.
    Buffered { len: usize },
    /// In `large`, complete.
    Large,
}

/// A received payload: borrowed from the read buffer, or the vector it was read into.
enum Payload<'a> {
    Buffered(&'a [u8]),
    Owned(Vec<u8>),
}

impl Payload<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Buffered(bytes) => bytes,
            Self::Owned(bytes) => bytes,
        }
    }
}

impl FrameReader {
    pub(crate) fn new(max_message_bytes: usize) -> Self {
        Self {
            buffer: Vec::new(),
            start: 0,
            end: 0,
            large: None,
            state: StreamState::Open,
            max_message_bytes,
        }
    }

    pub(crate) fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    pub(crate) fn set_max_message_bytes(&mut self, max: usize) {
        self.max_message_bytes = max;
    }

    /// True once the peer's close was received (after all its messages).
    pub(crate) fn peer_closed(&self) -> bool {
        matches!(self.state, StreamState::PeerClosed)
    }

    /// The next message decoded as `T`; `None` if the deadline passed first.
    pub(crate) fn recv_value<T: DeserializeOwned>(
        &mut self,
        side: PipeSide<'_>,
        deadline: Deadline,
    ) -> Result<Option<T>, RecvError> {
        let Some(payload) = self.next_payload(side, deadline)? else {
            return Ok(None);
        };
        let bytes = payload.as_slice();
        codec::decode(bytes)
            .map(Some)
            .map_err(|source| RecvError::Decode {
                len: bytes.len(),
                source,
            })
    }

    /// The next message's bytes; `None` if the deadline passed first.
    pub(crate) fn recv_bytes(
        &mut self,
        side: PipeSide<'_>,
        deadline: Deadline,
    ) -> Result<Option<Vec<u8>>, RecvError> {
        Ok(self
            .next_payload(side, deadline)?
            .map(|payload| match payload {
                Payload::Buffered(bytes) => bytes.to_vec(),
                Payload::Owned(bytes) => bytes,
            }))
    }

    /// True when a receive would return at once: a whole message is here, or the stream has
    /// ended or broken (the receive then reports that). False if the deadline passed first.
    pub(crate) fn poll(
        &mut self,
        side: PipeSide<'_>,
        deadline: Deadline,
    ) -> Result<bool, RecvError> {
        match self.fill(side, deadline) {
            Ok(ready) => Ok(ready.is_some()),
            Err(RecvError::Io { source }) => Err(RecvError::Io { source }),
            Err(_) => Ok(true),
        }
    }

    fn next_payload(
        &mut self,
        side: PipeSide<'_>,
        deadline: Deadline,
    ) -> Result<Option<Payload<'_>>, RecvError> {
        match self.fill(side, deadline)? {
            None => Ok(None),
            Some(Ready::Large) => Ok(self.large.take().map(|large| Payload::Owned(large.bytes))),
            Some(Ready::Buffered { len }) => {
                let payload = self.start + HEADER_LEN..self.start + HEADER_LEN + len;
                self.start = payload.end;
                Ok(Some(Payload::Buffered(&self.buffer[payload])))
            }
        }
    }

    /// Reads until a whole frame is ready (without consuming it), the stream ends or breaks,
    /// or the deadline passes (`None`).
    fn fill(&mut self, side: PipeSide<'_>, deadline: Deadline) -> Result<Option<Ready>, RecvError> {
        loop {
            match self.state {
                StreamState::Open => {}
                StreamState::PeerClosed => return Err(RecvError::Closed),
                StreamState::Broken(breakage) => return Err(breakage.into()),
            }
            if let Some(large) = &mut self.large {
                if large.bytes.len() == large.len {
                    return Ok(Some(Ready::Large));
                }
                match large.read_more(side, deadline)? {
                    ReadOutcome::Got(_) => {}
                    ReadOutcome::TimedOut => return Ok(None),
                    ReadOutcome::EndOfStream => {
                        self.state = StreamState::Broken(Breakage::Fault(FrameFault::Truncated {
                            expected: (HEADER_LEN + large.len) as u64,
                            received: (HEADER_LEN + large.bytes.len()) as u64,
                        }));
                    }
                }
                continue;
            }
            let buffered = self.end - self.start;
            let needed = if buffered < HEADER_LEN {
                HEADER_LEN
            } else {
                let mut header = [0; HEADER_LEN];
                header.copy_from_slice(&self.buffer[self.start..self.start + HEADER_LEN]);
                match parse(&header) {
                    Err(fault) => {
                        self.state = StreamState::Broken(Breakage::Fault(fault));
                        continue;
                    }
                    Ok(Header::Close) => {
                        self.start += HEADER_LEN;
                        self.state = StreamState::PeerClosed;
                        continue;
                    }
                    Ok(Header::Data { len: announced }) => {
                        let max = self.max_message_bytes;
                        let Some(len) = usize::try_from(announced).ok().filter(|len| *len <= max)
                        else {
                            self.state = StreamState::Broken(Breakage::TooLarge {
                                len: announced,
                                max,
                            });
                            continue;
                        };
                        let frame_len = HEADER_LEN + len;
                        if frame_len <= buffered {
                            return Ok(Some(Ready::Buffered { len }));
                        }
                        if frame_len > READ_BUFFER_BYTES {
                            self.begin_large(len);
                            continue;
                        }
                        frame_len
                    }
                }
            };
            match self.read_into_buffer(side, needed, deadline)? {
                ReadOutcome::Got(_) => {}
                ReadOutcome::TimedOut => return Ok(None),
                ReadOutcome::EndOfStream => {
                    self.state = if buffered == 0 {
                        StreamState::PeerClosed
                    } else {
                        StreamState::Broken(Breakage::Fault(FrameFault::Truncated {
                            expected: needed as u64,
                            received: buffered as u64,
                        }))
                    };
                }
            }
        }
    }

    /// This end stops reading: tells the writer and releases it if it waits on a full pipe.
    pub(crate) fn close(&mut self, side: PipeSide<'_>) {
        close_reading(side, &mut self.buffer, READ_BUFFER_BYTES);
    }

    /// Moves a large frame's already-buffered payload bytes into a vector of its own.
    fn begin_large(&mut self, len: usize) {
        self.start += HEADER_LEN;
        let here = len.min(self.end - self.start);
        let mut bytes = Vec::with_capacity(len.min(LARGE_PAYLOAD_FIRST_RESERVE));
        bytes.extend_from_slice(&self.buffer[self.start..self.start + here]);
        self.start += here;
        self.large = Some(LargePayload { bytes, len });
    }

    /// One bulk read, after making room so that `needed` bytes from `start` fit.
    fn read_into_buffer(
        &mut self,
        side: PipeSide<'_>,
        needed: usize,
        deadline: Deadline,
    ) -> Result<ReadOutcome, RecvError> {
        if self.buffer.is_empty() {
            self.buffer = vec![0; READ_BUFFER_BYTES];
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start + needed > self.buffer.len() {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let outcome = read_some(side, &mut self.buffer[self.end..], deadline).map_err(|errno| {
            RecvError::Io {
                source: errno.into(),
            }
        })?;
        if let ReadOutcome::Got(n) = outcome {
            self.end += n;
        }
        Ok(outcome)
    }
}

impl LargePayload {
    /// One read straight into the payload vector, never past this frame's end.
    fn read_more(
        &mut self,
        side: PipeSide<'_>,
        deadline: Deadline,
    ) -> Result<ReadOutcome, RecvError> {
        let missing = self.len - self.bytes.len();
        if self.bytes.capacity() == self.bytes.len() {
            // Doubling keeps the copies of a growing vector linear in the payload's size.
            self.bytes
                .reserve_exact(missing.min(self.bytes.len().max(1)));
        }
        let spare = self.bytes.spare_capacity_mut();
        let want = missing.min(spare.len());
        let outcome = read_some_uninit(side, &mut spare[..want], deadline).map_err(|errno| {
            RecvError::Io {
                source: errno.into(),
            }
        })?;
        if let ReadOutcome::Got(n) = outcome {
            // SAFETY: the read initialised the first `n` spare bytes, and `n <= want`, which
            // is within the capacity.
            unsafe { self.bytes.set_len(self.bytes.len() + n) };
        }
        Ok(outcome)
    }
}
