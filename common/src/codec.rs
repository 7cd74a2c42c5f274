//! How typed messages become bytes and back: serde with postcard, one place for all channels.
//!
//! postcard is compact (varints, no field names) and fast, and fails cleanly on bytes that do
//! not decode as the expected type, which is what a `recv` of a corrupt frame must report.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest message any channel accepts by default: 1 GiB. A length prefix above this is
/// treated as corruption, not as a reason to allocate.
pub const MAX_MESSAGE_BYTES: usize = 1 << 30;

/// Appends the encoding of `value` to `buf`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    buf: Vec<u8>,
) -> Result<Vec<u8>, postcard::Error> {
    postcard::serialize_with_flavor(value, AppendToVec(buf))
}

/// A postcard output that appends to an existing `Vec` with `extend_from_slice`.
/// (`postcard::to_extend` goes through `Extend<u8>` byte by byte, which in debug builds, where
/// students run their tests, costs nanoseconds per byte of every string and byte buffer.)
struct AppendToVec(Vec<u8>);

impl postcard::ser_flavors::Flavor for AppendToVec {
    type Output = Vec<u8>;

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

/// Encodes `value` into a fresh buffer.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(value)
}

/// Decodes a whole message: trailing bytes are an error, since a frame holds one value.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    let (value, rest) = postcard::take_from_bytes(bytes)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(postcard::Error::DeserializeBadEncoding)
    }
}
