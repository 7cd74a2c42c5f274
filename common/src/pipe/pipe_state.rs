//! `PipeState`: what each end of a pipe knows of the other, in memory both processes share.
//!
//! `fork` copies every descriptor into every child, so after a few `Process::start`s other
//! processes hold copies of both ends of a pipe: the kernel's end-of-file (all writers
//! closed) and `EPIPE` (all readers closed) then never come, and a reader blocked on an empty
//! pipe, or a writer blocked on a full one, would wait forever. So the two ends of a pipe also
//! share a `MAP_SHARED` page that says which of them has closed, read with one memory load
//! before each system call that could block. It needs no descriptor and no system call on
//! the message path, which keeps a round trip as fast as over a bare pipe.
//!
//! The flag alone cannot wake a process already blocked, so closing does more:
//!
//! - A closing **writer** sets `writer_closed` *first*, then writes a close frame if the pipe
//!   has room. A reader that saw the flag clear and then blocked did so on an empty pipe; the
//!   pipe was then not full when the writer tried the frame (the writer had finished writing,
//!   and only the reader empties the pipe), so the frame got in and wakes it. If the pipe was
//!   full, the reader is not blocked: it reads on, sees the flag before its next wait, and
//!   reports the end once the pipe is empty.
//! - A closing **reader** sets `reader_closed`, then empties the pipe. A writer blocked in
//!   `write` wakes as room appears; since it writes at most one pipe's capacity per call, that
//!   call then finishes, and the writer sees the flag before its next write.
//!
//! A process killed outright sets no flag; its end closes like any descriptor, and the kernel
//! reports it once no other process holds a copy.
//!
//! ## Memory ordering
//!
//! Flags are stored and loaded `SeqCst`. The arguments above order a flag against pipe
//! operations of another process; the system calls between them are full barriers, and the
//! flag is only set at close and read once per blocking call, so nothing cheaper is needed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sys::SharedRegion;

/// The closing state of one pipe (one direction).
#[derive(Debug, Default)]
pub(crate) struct PipeState {
    writer_closed: AtomicBool,
    reader_closed: AtomicBool,
}

impl PipeState {
    pub(crate) fn writer_closed(&self) -> bool {
        self.writer_closed.load(Ordering::SeqCst)
    }

    pub(crate) fn reader_closed(&self) -> bool {
        self.reader_closed.load(Ordering::SeqCst)
    }

    pub(crate) fn close_writer(&self) {
        self.writer_closed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn close_reader(&self) {
        self.reader_closed.store(true, Ordering::SeqCst);
    }
}

/// A handle on one pipe's [`PipeState`]. Both ends hold one; after `fork`, each process's
/// handle maps the same page.
#[derive(Clone)]
pub(crate) struct SharedPipeState {
    region: Arc<SharedRegion<[PipeState; 2]>>,
    index: usize,
}

impl std::fmt::Debug for SharedPipeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl SharedPipeState {
    /// The states of two pipes (the two directions of a duplex pipe), in one shared page.
    pub(crate) fn pair() -> std::io::Result<(Self, Self)> {
        // SAFETY: `[PipeState; 2]` is atomics only, for which all-zero bytes are valid
        // (false), so the zeroed mapping is a valid header without any initialisation.
        let region = Arc::new(unsafe { SharedRegion::<[PipeState; 2]>::new(0, |_| Ok(())) }?);
        Ok((
            Self {
                region: Arc::clone(&region),
                index: 0,
            },
            Self { region, index: 1 },
        ))
    }

    pub(crate) fn get(&self) -> &PipeState {
        &self.region.header()[self.index]
    }
}
