//! A run of atomic words in a `MAP_SHARED` anonymous mapping: memory the runner and the
//! processes it forks all see, for the trusted records of a04's checks.
//!
//! Deliberately not the course's own `multiprocessing` library: the records that judge a
//! student's use of that library must not depend on it.

use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};

/// `len` zeroed [`AtomicU64`]s shared with every process forked after creation.
#[derive(Debug)]
pub struct SharedWords {
    base: NonNull<AtomicU64>,
    len: usize,
}

impl SharedWords {
    /// Maps `len` (at least 1) zeroed words.
    pub fn new(len: usize) -> std::io::Result<SharedWords> {
        let bytes = len
            .max(1)
            .checked_mul(std::mem::size_of::<AtomicU64>())
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| std::io::Error::other("shared record too large"))?;
        // SAFETY: a fresh anonymous mapping aliases nothing; the kernel chooses the address.
        let base = unsafe {
            mmap_anonymous(
                None,
                bytes,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }?;
        Ok(SharedWords {
            base: base.cast(),
            len: len.max(1),
        })
    }

    /// The words.
    pub fn words(&self) -> &[AtomicU64] {
        // SAFETY: `base` points to `len` words of a live mapping (unmapped only in drop),
        // page-aligned hence aligned for AtomicU64, zero-filled by the kernel (a valid
        // AtomicU64); atomics are meant to be shared through `&`, across processes too.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), self.len) }
    }
}

// SAFETY: the words are atomics, made to be used from any thread; the mapping is owned by
// this value and unmapped once, in drop, whichever thread runs it.
unsafe impl Send for SharedWords {}
// SAFETY: as above: `&SharedWords` only hands out `&[AtomicU64]`.
unsafe impl Sync for SharedWords {}

impl Drop for SharedWords {
    fn drop(&mut self) {
        let bytes = self.len * std::mem::size_of::<AtomicU64>();
        // SAFETY: the mapping was made in `new` with this length and no reference into it
        // outlives `self`. An munmap error would leave the pages mapped; nothing to do then.
        let _ = unsafe { munmap(self.base.cast(), bytes) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn starts_zeroed_and_holds_what_is_stored() {
        let shared = SharedWords::new(3).expect("maps");
        assert!(shared.words().iter().all(|w| w.load(Ordering::SeqCst) == 0));
        shared.words()[2].store(7, Ordering::SeqCst);
        assert_eq!(shared.words()[2].load(Ordering::SeqCst), 7);
    }

    #[test]
    fn a_forked_child_writes_where_the_parent_reads() {
        let shared = SharedWords::new(1).expect("maps");
        // SAFETY: the child only stores into the shared word and `_exit`s: async-signal-safe
        // even though the test harness is multithreaded.
        match unsafe { nix::unistd::fork() }.expect("forks") {
            nix::unistd::ForkResult::Child => {
                shared.words()[0].store(42, Ordering::SeqCst);
                // SAFETY: ends the child at once, running nothing of the parent's state.
                unsafe { libc::_exit(0) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None).expect("reaps");
            }
        }
        assert_eq!(shared.words()[0].load(Ordering::SeqCst), 42);
    }
}
