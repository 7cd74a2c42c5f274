//! Each process's (each thread's) connection to a manager's server.
//!
//! Proxies hold only the server's address and an object id, so they can be cloned, moved
//! into forked children and even sent to pool workers as task arguments. A connection is
//! opened lazily, per thread, and remembered with the pid that opened it: a socket shared
//! with a forked child would interleave the two processes' frames, so a child that finds
//! its parent's connection in its copy of the cache closes its copy and connects anew.
//! Per-thread (not per-process) caching also means no lock is needed, and none can be
//! inherited held across `fork`.

use std::cell::RefCell;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixStream};

use super::protocol::{Request, Response, exchange};
use crate::ManagerError;

struct Connection {
    address: String,
    pid: u32,
    stream: UnixStream,
}

thread_local! {
    static CONNECTIONS: RefCell<Vec<Connection>> = const { RefCell::new(Vec::new()) };
}

/// Connects to the server listening on the abstract socket `address`.
pub(crate) fn connect(address: &str) -> Result<UnixStream, ManagerError> {
    let connect_error = |source| ManagerError::Connect {
        address: address.to_owned(),
        source,
    };
    let socket_address =
        SocketAddr::from_abstract_name(address.as_bytes()).map_err(connect_error)?;
    UnixStream::connect_addr(&socket_address).map_err(connect_error)
}

/// Sends `request` to the server at `address`; an error answer becomes the error.
pub(crate) fn call(address: &str, request: &Request) -> Result<Response, ManagerError> {
    match round_trip(address, request)? {
        Response::IndexOutOfRange { index, len } => Err(ManagerError::IndexOutOfRange {
            index: index as usize,
            len: len as usize,
        }),
        Response::NoSuchObject { kind, id } => Err(ManagerError::NoSuchObject {
            kind: kind.name(),
            id,
        }),
        Response::UpdatePanicked { message } => Err(ManagerError::UpdatePanicked { message }),
        Response::UpdateFailed { message } => Err(ManagerError::UpdateFailed { message }),
        response => Ok(response),
    }
}

/// An answer of the wrong kind for its request: the two sides disagree about the protocol.
pub(crate) fn unexpected(_: Response) -> ManagerError {
    ManagerError::Decode {
        source: postcard::Error::DeserializeBadEncoding,
    }
}

/// Sends `request` to the server at `address` and returns its answer.
fn round_trip(address: &str, request: &Request) -> Result<Response, ManagerError> {
    let pid = std::process::id();
    CONNECTIONS.with(|connections| {
        let mut connections = connections.borrow_mut();
        // Connections inherited through fork belong to the parent. Forget them rather than
        // close them: in a pool worker their descriptor numbers were already closed (and may
        // since be reused), and in a plain child leaving one copy open until exit is harmless.
        if connections.iter().any(|connection| connection.pid != pid) {
            let (ours, inherited): (Vec<_>, Vec<_>) = connections
                .drain(..)
                .partition(|connection| connection.pid == pid);
            *connections = ours;
            for connection in inherited {
                std::mem::forget(connection.stream);
            }
        }
        let position = match connections.iter().position(|c| c.address == address) {
            Some(position) => position,
            None => {
                connections.push(Connection {
                    address: address.to_owned(),
                    pid,
                    stream: connect(address)?,
                });
                connections.len() - 1
            }
        };
        let outcome = exchange(&mut connections[position].stream, request);
        if outcome.is_err() {
            // The stream may hold half a frame: never reuse it.
            connections.swap_remove(position);
        }
        outcome
    })
}
