//! `PeerLink`: how one end learns that the other is gone, whoever else holds copies of it.
//!
//! `fork` copies every descriptor into every child, so after a few `Process::start`s the
//! other processes hold copies of both ends of a pipe: the kernel's end-of-file (all writers
//! closed) and `EPIPE` (all readers closed) then never come, and a reader blocked on an empty
//! pipe, or a writer blocked on a full one, would wait forever. The two ends of a pipe
//! therefore also share a unix socket pair that never carries a byte. Closing an end shuts its
//! socket down, which acts on the socket itself rather than on one process's descriptor, so
//! every copy of the peer's socket turns readable at once; an end that would block waits on
//! its pipe and its link together. A process killed outright shuts nothing down, but its
//! socket closes like any descriptor once no process holds a copy.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{AddressFamily, Shutdown, SockFlag, SockType, shutdown, socketpair};

/// This end's half of the link to its peer.
#[derive(Debug)]
pub(crate) struct PeerLink {
    socket: OwnedFd,
}

impl PeerLink {
    /// A connected pair, one for each end.
    pub(crate) fn pair() -> nix::Result<(Self, Self)> {
        let (first, second) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        Ok((Self { socket: first }, Self { socket: second }))
    }

    /// Tells the peer, in every process that holds a copy of it, that this end is closed.
    pub(crate) fn hang_up(&self) {
        // Fails only for a socket already shut down: nothing more to do then.
        let _ = shutdown(self.socket.as_raw_fd(), Shutdown::Both);
    }
}

/// Polled for `POLLIN`: it becomes readable (end of stream) exactly when the peer hung up or
/// its every copy was closed, since no data ever travels on it.
impl AsFd for PeerLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
