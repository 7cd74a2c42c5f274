//! The log of every call of the tests' `sum_all_values`, in memory shared by the runner and
//! every process it forks (the pool's fork server, its workers).
//!
//! The runner installs it before calling the student's code; the workers, forked later,
//! inherit the mapping and append a record at the end of each call. Records are written with
//! atomics only (no lock a killed worker could leave held), and a record counts only once its
//! `complete` flag is set, so a worker killed mid-write leaves nothing half-read.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};

use crate::a05::protocol::TaskRun;

/// One record. All-zero bytes are a valid, incomplete record.
#[repr(C)]
struct Slot {
    input: AtomicU64,
    pid: AtomicU64,
    started_ns: AtomicU64,
    finished_ns: AtomicU64,
    /// Set last, with `Release`: the fields above are written when it reads 1.
    complete: AtomicU64,
}

/// The shared mapping: a counter of claimed slots, then the slots.
#[repr(C)]
struct Shared {
    claimed: AtomicU64,
}

/// The installed log (one per runner process, inherited by its children).
pub(crate) struct TaskLog {
    claimed: &'static AtomicU64,
    slots: &'static [Slot],
    hold: Duration,
}

impl std::fmt::Debug for TaskLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskLog")
            .field("claimed", &self.claimed.load(Ordering::Relaxed))
            .field("capacity", &self.slots.len())
            .field("hold", &self.hold)
            .finish()
    }
}

static INSTALLED: OnceLock<TaskLog> = OnceLock::new();

impl TaskLog {
    /// Creates the shared log with room for `capacity` records, and makes each call of the
    /// tests' `sum_all_values` hold its process for `hold` before returning. Once per process;
    /// a second call returns the first log.
    pub fn install(capacity: usize, hold: Duration) -> std::io::Result<&'static TaskLog> {
        if let Some(log) = INSTALLED.get() {
            return Ok(log);
        }
        let capacity = capacity.max(1);
        let bytes = size_of::<Shared>() + capacity * size_of::<Slot>();
        let length = NonZeroUsize::new(bytes).unwrap_or(NonZeroUsize::MIN);
        // SAFETY: a fresh anonymous mapping at an address the kernel chooses: it aliases no
        // Rust object. It is never unmapped (the runner is a short-lived process and the
        // references below are 'static).
        let mapping = unsafe {
            mmap_anonymous(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .map_err(std::io::Error::from)?;
        let base = mapping.as_ptr().cast::<u8>();
        // SAFETY: [1] the mapping is page-aligned and `bytes` long, zero-filled by the kernel;
        // [2] `Shared` and `Slot` are repr(C) structs of atomics, for which all-zero bytes are
        // valid values, and `Shared`'s size keeps the slots 8-byte aligned; [3] the memory is
        // only ever accessed through these atomics, in this process and its forks, and lives
        // for the rest of the process.
        let (claimed, slots) = unsafe {
            let shared = &*base.cast::<Shared>();
            let first = base.add(size_of::<Shared>()).cast::<Slot>();
            (&shared.claimed, std::slice::from_raw_parts(first, capacity))
        };
        Ok(INSTALLED.get_or_init(|| TaskLog {
            claimed,
            slots,
            hold,
        }))
    }

    /// The log, if this process (or one it was forked from) installed one.
    pub fn installed() -> Option<&'static TaskLog> {
        INSTALLED.get()
    }

    /// The time each call holds its process before returning.
    pub fn hold(&self) -> Duration {
        self.hold
    }

    /// Appends one completed call (dropped, but counted, when the log is full).
    pub fn record(&self, input: u64, started_ns: u64, finished_ns: u64) {
        let index = self.claimed.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = usize::try_from(index).ok().and_then(|i| self.slots.get(i)) else {
            return;
        };
        slot.input.store(input, Ordering::Relaxed);
        slot.pid
            .store(u64::from(std::process::id()), Ordering::Relaxed);
        slot.started_ns.store(started_ns, Ordering::Relaxed);
        slot.finished_ns.store(finished_ns, Ordering::Relaxed);
        slot.complete.store(1, Ordering::Release);
    }

    /// Every complete record, in the order they were claimed, and how many completed calls
    /// did not fit.
    pub fn runs(&self) -> (Vec<TaskRun>, u64) {
        let claimed = self.claimed.load(Ordering::Acquire);
        let runs = self
            .slots
            .iter()
            .take(usize::try_from(claimed).unwrap_or(usize::MAX))
            .filter(|slot| slot.complete.load(Ordering::Acquire) == 1)
            .map(|slot| TaskRun {
                input: slot.input.load(Ordering::Relaxed),
                pid: u32::try_from(slot.pid.load(Ordering::Relaxed)).unwrap_or(u32::MAX),
                started_ns: slot.started_ns.load(Ordering::Relaxed),
                finished_ns: slot.finished_ns.load(Ordering::Relaxed),
            })
            .collect();
        let dropped = claimed.saturating_sub(self.slots.len() as u64);
        (runs, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::a05::work::sum_all_values;

    #[test]
    fn a_job_recorded_in_a_forked_child_is_seen_by_the_parent() {
        // No hold: other tests of this binary call sum_all_values too.
        let log = TaskLog::install(64, Duration::ZERO).expect("maps");
        // SAFETY: the child calls only sum_all_values (arithmetic, getpid, clock_gettime and
        // atomic stores into the shared mapping) and _exit: nothing that takes a lock another
        // thread of this test binary may have held at the fork.
        let child = unsafe { libc::fork() };
        assert!(child >= 0, "fork failed");
        if child == 0 {
            std::hint::black_box(sum_all_values(12_345));
            // SAFETY: ends the child at once, running nothing of the parent's.
            unsafe { libc::_exit(0) }
        }
        let mut status = 0;
        // SAFETY: waits for our own child, writing only into a local.
        assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
        let (runs, dropped) = log.runs();
        assert_eq!(dropped, 0);
        let mine: Vec<&TaskRun> = runs.iter().filter(|r| r.pid == child as u32).collect();
        assert_eq!(mine.len(), 1, "{runs:?}");
        assert_eq!(mine[0].input, 12_345);
        assert!(mine[0].started_ns <= mine[0].finished_ns);
    }
}
