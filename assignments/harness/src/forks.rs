//! Counting the forks made while a runner serves the student's code: evidence that the
//! workers were real processes which does not depend on sampling `/proc` at the right moment
//! (a run may be over between two samples).
//!
//! [`ForkCounter::install`] registers a `pthread_atfork` handler that adds one to a counter in
//! a `MAP_SHARED` anonymous mapping after every `fork` in the parent. Children inherit both
//! the handler and the mapping, so a fork made by a child counts as well: the counter holds
//! the forks of the whole process tree. Threads never fork; `mp::Process::start` always does.
//!
//! What is not counted: glibc's `posix_spawn` and `vfork` (what `std::process::Command`
//! usually uses) skip atfork handlers, and a raw `clone` syscall does too. Neither is how the
//! course's library makes processes.
//!
//! ```no_run
//! use course_harness::forks::ForkCounter;
//!
//! let counter = ForkCounter::install()?;
//! let before = counter.forks();
//! // ... the student's code runs ...
//! let forked = counter.forks() - before;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};

/// The shared counter the atfork handler adds to; null until [`ForkCounter::install`].
static CELL: AtomicPtr<AtomicU64> = AtomicPtr::new(std::ptr::null_mut());

/// The outcome of the one installation of this process (an atfork handler cannot be removed,
/// so it is registered once): the counter, or the errno that prevented it.
static INSTALLED: OnceLock<Result<ForkCounter, i32>> = OnceLock::new();

/// Reads the number of forks made in this process tree since [`ForkCounter::install`].
#[derive(Debug, Clone, Copy)]
pub struct ForkCounter {
    cell: &'static AtomicU64,
}

impl ForkCounter {
    /// Starts counting the forks of this process and of every process it forks from now on.
    /// Installs once per process; later calls return the same counter.
    pub fn install() -> std::io::Result<ForkCounter> {
        INSTALLED
            .get_or_init(|| install_once().map_err(|errno| errno as i32))
            .map_err(std::io::Error::from_raw_os_error)
    }

    /// Forks made so far by this process tree since the counter was installed.
    pub fn forks(&self) -> u64 {
        self.cell.load(Ordering::SeqCst)
    }
}

fn install_once() -> Result<ForkCounter, nix::errno::Errno> {
    let length =
        NonZeroUsize::new(std::mem::size_of::<AtomicU64>()).ok_or(nix::errno::Errno::EINVAL)?;
    // SAFETY: a fresh anonymous mapping at an address the kernel picks overlaps nothing; it is
    // never unmapped, so the `'static` reference below stays valid for the process's life.
    let mapping: NonNull<std::ffi::c_void> = unsafe {
        mmap_anonymous(
            None,
            length,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
        )
    }?;
    let cell = mapping.cast::<AtomicU64>();
    // SAFETY: the mapping is page-aligned, zero-filled (a valid AtomicU64 holding 0), at least
    // 8 bytes long, shared only through atomics, and lives as long as the process.
    let cell: &'static AtomicU64 = unsafe { cell.as_ref() };
    CELL.store(std::ptr::from_ref(cell).cast_mut(), Ordering::SeqCst);
    // SAFETY: `count_fork_in_parent` is an `extern "C" fn()` that only does an atomic add on
    // memory that is never freed; it is safe to run after any fork.
    let status = unsafe { libc::pthread_atfork(None, Some(count_fork_in_parent), None) };
    if status != 0 {
        CELL.store(std::ptr::null_mut(), Ordering::SeqCst);
        return Err(nix::errno::Errno::from_raw(status));
    }
    Ok(ForkCounter { cell })
}

/// Runs in the parent after each fork (glibc calls it from `fork`).
extern "C" fn count_fork_in_parent() {
    let cell = CELL.load(Ordering::SeqCst);
    // SAFETY: a non-null `CELL` points into the mapping made by `install_once`, which is never
    // unmapped; children inherit the same shared mapping at the same address.
    if let Some(cell) = unsafe { cell.as_ref() } {
        cell.fetch_add(1, Ordering::SeqCst);
    }
}
