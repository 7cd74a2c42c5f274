//! Which task each worker has started, in shared memory, so the parent can tell after a
//! worker's death whether its oldest unfinished task was running (it failed with the worker)
//! or had not started yet (it is given to another worker).
//!
//! One atomic store per task, no system call. The parent reads a slot only after the fork
//! server reported the worker dead, and asks for the replacement (which reuses the slot)
//! only after that read.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::sys::SharedRegion;

/// One `u64` per worker slot, shared by the parent, the fork server and every worker.
pub(crate) struct ProgressSlots {
    region: SharedRegion<()>,
    count: usize,
}

/// The progress word of one worker slot.
#[repr(transparent)]
pub(crate) struct ProgressSlot(AtomicU64);

impl ProgressSlot {
    /// Called by the worker before it runs task `seq`.
    pub(crate) fn record_start(&self, seq: u64) {
        self.0.store(seq, Ordering::Release);
    }

    /// The last task the slot's worker started (0: none).
    pub(crate) fn last_started(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

impl ProgressSlots {
    pub(crate) fn new(count: usize) -> std::io::Result<Self> {
        // SAFETY: all-zero bytes are a valid `()` header and valid `AtomicU64`s (0 = none).
        let region =
            unsafe { SharedRegion::<()>::new(count * size_of::<ProgressSlot>(), |_| Ok(())) }?;
        Ok(Self { region, count })
    }

    pub(crate) fn count(&self) -> usize {
        self.count
    }

    pub(crate) fn slot(&self, index: usize) -> &ProgressSlot {
        assert!(
            index < self.count,
            "progress slot {index} of {}",
            self.count
        );
        // SAFETY: This is safe because: [1] the tail holds `count` slots and `index < count`;
        // [2] the tail starts at the mapping's page-aligned base (the `()` header takes no
        // space) and slots are 8 bytes apart, so the pointer is aligned for `AtomicU64`;
        // [3] every byte pattern, zero included, is a valid `AtomicU64`, and the memory is
        // only ever accessed atomically, by every process that maps it.
        unsafe { &*self.region.tail_ptr().cast::<ProgressSlot>().add(index) }
    }
}
