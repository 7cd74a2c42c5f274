//! The frame format: how messages are laid out on the byte stream.
//!
//! Every message is one frame: a fixed 12-byte header, then the payload.
//!
//! | bytes | content                                                   |
//! |-------|-----------------------------------------------------------|
//! | 0..2  | marker `b"mp"`, so foreign bytes are caught at once        |
//! | 2     | kind: [`KIND_DATA`] or [`KIND_CLOSE`]                      |
//! | 3     | zero (room for flags; anything else is corruption)         |
//! | 4..12 | payload length, u64 little-endian (0 for a close frame)    |
//!
//! A close frame exists because `fork` duplicates file descriptors: when an end is closed, a
//! stray copy of it may live on in a child, so the kernel's end-of-file would never come.

use crate::errors::FrameFault;

/// Length of a frame header.
pub(crate) const HEADER_LEN: usize = 12;

// `FrameFault::BadHeader` spells the length out so the public type needs no private constant.
const _: () = assert!(HEADER_LEN == 12);

const MARKER: [u8; 2] = *b"mp";

/// A frame carrying a message.
const KIND_DATA: u8 = 0xD7;

/// The sender closed its end: nothing follows.
const KIND_CLOSE: u8 = 0xC1;

/// What a well-formed header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// A message of `len` payload bytes follows.
    Data { len: u64 },
    /// The peer closed its end.
    Close,
}

/// The header of a message with a `len`-byte payload.
pub(crate) fn data_header(len: usize) -> [u8; HEADER_LEN] {
    header(KIND_DATA, len as u64)
}

/// The whole close frame.
pub(crate) const CLOSE_FRAME: [u8; HEADER_LEN] = header(KIND_CLOSE, 0);

const fn header(kind: u8, len: u64) -> [u8; HEADER_LEN] {
    let len = len.to_le_bytes();
    [
        MARKER[0], MARKER[1], kind, 0, len[0], len[1], len[2], len[3], len[4], len[5], len[6],
        len[7],
    ]
}

/// Reads a header; anything not written by [`data_header`] or [`CLOSE_FRAME`] is a fault.
pub(crate) fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Header, FrameFault> {
    let bad = || FrameFault::BadHeader { header: *bytes };
    if bytes[..2] != MARKER || bytes[3] != 0 {
        return Err(bad());
    }
    let mut len = [0; 8];
    len.copy_from_slice(&bytes[4..]);
    let len = u64::from_le_bytes(len);
    match (bytes[2], len) {
        (KIND_DATA, len) => Ok(Header::Data { len }),
        (KIND_CLOSE, 0) => Ok(Header::Close),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        assert_eq!(parse(&data_header(0)), Ok(Header::Data { len: 0 }));
        assert_eq!(
            parse(&data_header(70_000)),
            Ok(Header::Data { len: 70_000 })
        );
        assert_eq!(parse(&CLOSE_FRAME), Ok(Header::Close));
    }

    #[test]
    fn foreign_bytes_are_faults() {
        let mut bytes = data_header(5);
        bytes[0] = b'x';
        assert!(parse(&bytes).is_err());
        let mut bytes = data_header(5);
        bytes[3] = 1;
        assert!(parse(&bytes).is_err());
        let mut bytes = CLOSE_FRAME;
        bytes[4] = 1;
        assert!(parse(&bytes).is_err());
        let mut bytes = CLOSE_FRAME;
        bytes[2] = 0;
        assert!(parse(&bytes).is_err());
    }
}
