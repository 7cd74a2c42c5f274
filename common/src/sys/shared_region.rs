//! Anonymous `MAP_SHARED` memory: the one place every process-shared object lives.
//!
//! memmap2's `MmapMut::map_anon` maps `MAP_PRIVATE`, which fork turns into copy-on-write
//! private pages: a child's writes would never reach its parent. We map `MAP_SHARED |
//! MAP_ANONYMOUS` with nix instead, so the pages stay the same physical pages in every process
//! forked after the mapping was made.

use std::ffi::c_void;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::ptr::NonNull;

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};

/// A header of type `H` followed by `tail_len` bytes, all in one shared anonymous mapping.
///
/// The mapping is zero-filled by the kernel. It is unmapped when the handle drops; processes
/// that inherited it through `fork` keep their own mapping of the same pages.
pub(crate) struct SharedRegion<H> {
    base: NonNull<c_void>,
    len: NonZeroUsize,
    tail_len: usize,
    _header: PhantomData<H>,
}

// SAFETY: the region is plain shared memory; every header type put in it synchronises its own
// access (process-shared mutexes, atomics), so handing the handle to another thread is no
// different from handing it to another process, which is what the region is for.
unsafe impl<H: Sync> Send for SharedRegion<H> {}
// SAFETY: as above: `&SharedRegion` only hands out `&H` and raw tail pointers.
unsafe impl<H: Sync> Sync for SharedRegion<H> {}

impl<H> SharedRegion<H> {
    /// Maps a zeroed region of `size_of::<H>()` rounded up to 64 bytes, plus `tail_len` bytes,
    /// then runs `init` on the header in place, before any other process can see it.
    ///
    /// # Safety
    ///
    /// After `init` returns, the header must be a valid `H`. `init` receives a pointer to
    /// zeroed, suitably aligned memory, so an `H` for which all-zero bytes are valid needs no
    /// work there.
    pub(crate) unsafe fn new(
        tail_len: usize,
        init: impl FnOnce(*mut H) -> std::io::Result<()>,
    ) -> std::io::Result<Self> {
        assert!(
            std::mem::align_of::<H>() <= 64,
            "header alignment above 64 bytes"
        );
        let total = Self::header_len()
            .checked_add(tail_len)
            .and_then(|n| n.checked_add(1))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::OutOfMemory))?;
        let len = NonZeroUsize::new(total).ok_or(std::io::ErrorKind::InvalidInput)?;
        // SAFETY: an anonymous mapping chosen by the kernel aliases no existing Rust object.
        let base = unsafe {
            mmap_anonymous(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .map_err(std::io::Error::from)?;
        let region = Self {
            base,
            len,
            tail_len,
            _header: PhantomData,
        };
        init(region.header_ptr())?;
        Ok(region)
    }

    fn header_len() -> usize {
        std::mem::size_of::<H>().next_multiple_of(64)
    }

    fn header_ptr(&self) -> *mut H {
        self.base.as_ptr().cast()
    }

    /// The header, shared by every process that has this region.
    pub(crate) fn header(&self) -> &H {
        // SAFETY: `new` made a valid `H` at the start of the mapping, which lives as long as
        // `self`; `H` synchronises shared access itself, so a shared reference is sound.
        unsafe { &*self.header_ptr() }
    }

    /// Start of the tail bytes. Callers synchronise access through the header.
    pub(crate) fn tail_ptr(&self) -> *mut u8 {
        // SAFETY: the header length is within the mapping: `new` mapped header_len + tail_len.
        unsafe { self.base.as_ptr().cast::<u8>().add(Self::header_len()) }
    }

    /// Number of tail bytes.
    pub(crate) fn tail_len(&self) -> usize {
        self.tail_len
    }
}

impl<H> Drop for SharedRegion<H> {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what mmap returned, and no reference into the
        // mapping outlives `self` (all accessors borrow `self`). The header is not dropped in
        // place: other processes may still be using it, and it owns no heap memory.
        // munmap can only fail for arguments we did not make; there is nothing to do about it.
        let _ = unsafe { munmap(self.base, self.len.get()) };
    }
}
