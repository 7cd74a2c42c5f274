//! `PipeEnd`: one end's hold on one pipe: its descriptor and the state shared with the
//! other end.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use super::fd_io::PipeSide;
use super::pipe_state::SharedPipeState;

#[derive(Debug)]
pub(crate) struct PipeEnd {
    fd: OwnedFd,
    /// `None` for descriptors made elsewhere (`from_fds`, `From<OwnedFd>`).
    state: Option<SharedPipeState>,
}

impl PipeEnd {
    pub(crate) fn new(fd: OwnedFd, state: Option<SharedPipeState>) -> Self {
        Self { fd, state }
    }

    pub(crate) fn side(&self) -> PipeSide<'_> {
        PipeSide::new(&self.fd, self.state.as_ref().map(SharedPipeState::get))
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for PipeEnd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
