//! A per-thread byte buffer reused by every put and get, so that encoding an item or copying
//! one out of the ring allocates nothing in the steady state.

use std::cell::Cell;

/// A buffer that grew beyond this for one large item is freed rather than kept for the life
/// of the thread.
const KEEP_AT_MOST: usize = 1 << 20;

thread_local! {
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The thread's buffer, empty. Taken out rather than borrowed, so a nested use (a `Serialize`
/// impl that itself puts on a queue) just gets a fresh buffer instead of a borrow panic.
pub(super) fn take() -> Vec<u8> {
    let mut buffer = SCRATCH.try_with(Cell::take).unwrap_or_default();
    buffer.clear();
    buffer
}

/// Returns a buffer from [`take`] for the next operation on this thread.
pub(super) fn give_back(buffer: Vec<u8>) {
    if buffer.capacity() <= KEEP_AT_MOST {
        // During thread teardown the slot is gone; the buffer is simply dropped then.
        let _ = SCRATCH.try_with(|slot| slot.set(buffer));
    }
}
