//! The sending half of an end: one frame per message, written whole.
//!
//! A typed message is encoded straight after a header-sized gap in a scratch vector kept
//! between sends, the header is filled in, and the frame goes out in one `write`. A byte
//! message is sent with its header by one `writev`, without copying the caller's bytes.
//! Larger frames are finished by further writes while the reader drains.

use serde::Serialize;

use super::fd_io::{PipeSide, WriteFailure, close_writing, write_all};
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
    /// The pipe's capacity, when known: the most one write call may carry (see
    /// [`write_all`]).
    chunk_limit: Option<usize>,
    scratch: Vec<u8>,
    max_message_bytes: usize,
    /// An earlier write stopped inside a frame: the reader would misparse anything more.
    torn: bool,
}

impl FrameWriter {
    pub(crate) fn new(max_message_bytes: usize, chunk_limit: Option<usize>) -> Self {
        Self {
            defence: SigpipeDefence::for_current_disposition(),
            chunk_limit,
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
        side: PipeSide<'_>,
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
            self.write_frame(side, &[], &frame)
        };
        if frame.capacity() <= SCRATCH_KEPT_BYTES {
            self.scratch = frame;
        }
        result
    }

    /// Sends `bytes` as one frame, as they are.
    pub(crate) fn send_bytes(&mut self, side: PipeSide<'_>, bytes: &[u8]) -> Result<(), SendError> {
        if self.torn {
            return Err(SendError::Closed);
        }
        if bytes.len() > self.max_message_bytes {
            return Err(SendError::TooLarge {
                len: bytes.len(),
                max: self.max_message_bytes,
            });
        }
        self.write_frame(side, &data_header(bytes.len()), bytes)
    }

    /// This end stops writing: tells the reader, with a close frame after the last message
    /// if the stream is still in step.
    pub(crate) fn close(&self, side: PipeSide<'_>) {
        close_writing(side, self.defence, !self.torn);
    }

    fn write_frame(
        &mut self,
        side: PipeSide<'_>,
        header: &[u8],
        payload: &[u8],
    ) -> Result<(), SendError> {
        write_all(side, self.defence, header, payload, self.chunk_limit).map_err(|failure| {
            match failure {
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
            }
        })
    }
}
