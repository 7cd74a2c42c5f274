//! What proxies ask the manager's server and what it answers: one request frame, one
//! response frame, over a unix stream socket (the pool's length-prefixed framing, postcard
//! inside). Values travel as their own encodings, so the server stores bytes and never
//! needs the proxies' types.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ManagerError;
use crate::codec::{self, MAX_MESSAGE_BYTES};
use crate::pool::wire::{LEN_BYTES, finish_frame, start_frame, write_all};

/// The kinds of shared object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ObjectKind {
    List,
    Dict,
    Value,
}

impl ObjectKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Dict => "dict",
            Self::Value => "value",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    NewList {
        items: Vec<Vec<u8>>,
    },
    NewDict,
    NewValue {
        value: Vec<u8>,
    },
    ListAppend {
        id: u64,
        item: Vec<u8>,
    },
    ListExtend {
        id: u64,
        items: Vec<Vec<u8>>,
    },
    ListGet {
        id: u64,
        index: u64,
    },
    ListSet {
        id: u64,
        index: u64,
        item: Vec<u8>,
    },
    ListPop {
        id: u64,
    },
    ListLen {
        id: u64,
    },
    ListItems {
        id: u64,
    },
    ListClear {
        id: u64,
    },
    DictInsert {
        id: u64,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    DictGet {
        id: u64,
        key: Vec<u8>,
    },
    DictRemove {
        id: u64,
        key: Vec<u8>,
    },
    DictContains {
        id: u64,
        key: Vec<u8>,
    },
    DictLen {
        id: u64,
    },
    DictItems {
        id: u64,
    },
    DictClear {
        id: u64,
    },
    ValueGet {
        id: u64,
    },
    ValueSet {
        id: u64,
        value: Vec<u8>,
    },
    /// Replace the value by `trampoline(value)`, run in the server. `anchor` is the
    /// client's address of [`image_anchor`]: the server runs the trampoline only if its own
    /// is the same, i.e. both processes run the same executable mapped at the same place.
    ValueUpdate {
        id: u64,
        trampoline: u64,
        anchor: u64,
    },
}

/// A dict's entries as the server stores them: encoded key, encoded value.
pub(crate) type EncodedPairs = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Response {
    Created { id: u64 },
    Done,
    Len(u64),
    Item(Vec<u8>),
    MaybeItem(Option<Vec<u8>>),
    Items(Vec<Vec<u8>>),
    Pairs(EncodedPairs),
    Bool(bool),
    IndexOutOfRange { index: u64, len: u64 },
    NoSuchObject { kind: ObjectKind, id: u64 },
    UpdatePanicked { message: String },
    UpdateFailed { message: String },
}

/// A function whose address identifies the executable image and where it is mapped.
#[inline(never)]
pub(crate) fn image_anchor() -> u64 {
    image_anchor as fn() -> u64 as usize as u64
}

pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ManagerError> {
    codec::encode(value).map_err(|source| ManagerError::Encode { source })
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ManagerError> {
    codec::decode(bytes).map_err(|source| ManagerError::Decode { source })
}

/// One length-prefixed frame holding `message`.
pub(crate) fn frame<T: Serialize>(message: &T) -> Result<Vec<u8>, ManagerError> {
    let mut frame = Vec::with_capacity(64);
    let start = start_frame(&mut frame);
    let mut frame =
        codec::encode_into(message, frame).map_err(|source| ManagerError::Encode { source })?;
    finish_frame(&mut frame, start).map_err(|bytes| ManagerError::MessageTooLarge {
        bytes,
        limit: MAX_MESSAGE_BYTES,
    })?;
    Ok(frame)
}

/// Sends `request` and waits for the response (the client side; blocking).
pub(crate) fn exchange(
    stream: &mut UnixStream,
    request: &Request,
) -> Result<Response, ManagerError> {
    let frame = frame(request)?;
    write_all(stream.as_raw_fd(), &frame).map_err(|source| ManagerError::Io { source })?;
    let mut prefix = [0u8; LEN_BYTES];
    stream.read_exact(&mut prefix).map_err(|source| {
        if source.kind() == std::io::ErrorKind::UnexpectedEof {
            ManagerError::ServerGone
        } else {
            ManagerError::Io { source }
        }
    })?;
    let len = u32::from_le_bytes(prefix) as usize;
    if len > MAX_MESSAGE_BYTES {
        return Err(ManagerError::MessageTooLarge {
            bytes: len,
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let mut payload = vec![0u8; len];
    stream
        .read_exact(&mut payload)
        .map_err(|source| ManagerError::Io { source })?;
    decode(&payload)
}
