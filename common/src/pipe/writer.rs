//! The sending half of an end: one frame per message, written whole.
//!
//! A typed message is encoded straight after a header-sized gap in a scratch vector kept
//! between sends, the header is filled in, and the frame goes out in one `write`. A byte
//! message is sent with its header by one `writev`, without copying the caller's bytes.
//! Larger frames are finished by further writes while the reader drains.

use std::io::IoSlice;

use serde::Serialize;

use super::fd_io::{Fds, WriteFailure, try_write_close_frame, write_all};
use super::frame::{HEADER_LEN, data_header};
use super::sigpipe::SigpipeDefence;
use crate::codec;
use crate::errors::SendError;

/// A scratch vector grown past this by one big message is freed after it, not kept.
const SCRATCH_KEPT_BYTES: usize = 1 << 20;

/// Sends frames on one pipe.
#[derive(Debug)]
pub(crate) struct FrameWriter {
    defence: SigpipeDefence,
    scratch: Vec<u8>,
    max_message_bytes: usize,
    /// An earlier write stopped inside a frame: the reader would misparse anything more.
    torn: bool,
}

impl FrameWriter {
    pub(crate) fn new(max_message_bytes: usize) -> Self {
        Self {
            defence: SigpipeDefence::for_current_disposition(),
            scratch: Vec::new(),
            max_message_bytes,
            torn: false,
        }
    }

    pub(crate) fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    pub(crate) fn set_max_message_bytes(&mut self, max: usize) {
        self.max_message_bytes = max;
    }

    /// Encodes `value` and sends it as one frame.
    pub(crate) fn send_value<T: Serialize + ?Sized>(
        &mut self,
        fds: Fds<'_>,
        value: &T,
    ) -> Result<(), SendError> {
        if self.torn {
            return Err(SendError::Closed);
        }
        let mut frame = std::mem::take(&mut self.scratch);
        frame.clear();
        frame.resize(HEADER_LEN, 0);
        let mut frame =
            codec::encode_into(value, frame).map_err(|source| SendError::Encode { source })?;
        let len = frame.len() - HEADER_LEN;
        let result = if len > self.max_message_bytes {
            Err(SendError::TooLarge {
                len,
                max: self.max_message_bytes,
            })
        } else {
            frame[..HEADER_LEN].copy_from_slice(&data_header(len));
            self.write_frame(fds, &mut [IoSlice::new(&frame)])
        };
        if frame.capacity() <= SCRATCH_KEPT_BYTES {
            self.scratch = frame;
        }
        result
    }

    /// Sends `bytes` as one frame, as they are.
    pub(crate) fn send_bytes(&mut self, fds: Fds<'_>, bytes: &[u8]) -> Result<(), SendError> {
        if self.torn {
            return Err(SendError::Closed);
        }
        if bytes.len() > self.max_message_bytes {
            return Err(SendError::TooLarge {
                len: bytes.len(),
                max: self.max_message_bytes,
            });
        }
        let header = data_header(bytes.len());
        self.write_frame(fds, &mut [IoSlice::new(&header), IoSlice::new(bytes)])
    }

    /// Puts a close frame after the last message, if that cannot block (see
    /// [`try_write_close_frame`]).
    pub(crate) fn write_close_frame(&self, fds: Fds<'_>) {
        // After a torn frame the reader could not parse it; the peer link still tells it.
        if !self.torn {
            try_write_close_frame(fds, self.defence);
        }
    }

    fn write_frame(&mut self, fds: Fds<'_>, frame: &mut [IoSlice<'_>]) -> Result<(), SendError> {
        write_all(fds, self.defence, frame).map_err(|failure| match failure {
            WriteFailure::Closed { torn } => {
                self.torn |= torn;
                SendError::Closed
            }
            WriteFailure::Io { torn, errno } => {
                self.torn |= torn;
                SendError::Io {
                    source: errno.into(),
                }
            }
        })
    }
}
