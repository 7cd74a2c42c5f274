//! `QueueBuilder`: a queue's item limit and byte capacity, checked before anything is mapped.

use std::marker::PhantomData;

use crate::errors::QueueCreateError;

use super::ring::{DEFAULT_CAPACITY, MAX_CAPACITY, MIN_CAPACITY, Ring};

/// Settings for a [`Queue`](crate::Queue) or [`JoinableQueue`](crate::JoinableQueue) before
/// it is created; from [`Queue::builder`](crate::Queue::builder) or
/// [`JoinableQueue::builder`](crate::JoinableQueue::builder).
///
/// ```
/// use multiprocessing as mp;
///
/// // At most 100 items, in a 64 KiB ring.
/// let q: mp::Queue<String> = mp::Queue::builder()
///     .maxsize(100)
///     .capacity_bytes(64 * 1024)
///     .build()?;
/// assert_eq!(q.maxsize(), Some(100));
/// assert_eq!(q.capacity_bytes(), 64 * 1024);
/// # Ok::<(), mp::QueueCreateError>(())
/// ```
pub struct QueueBuilder<Q> {
    maxsize: Option<usize>,
    capacity_bytes: usize,
    _queue: PhantomData<fn() -> Q>,
}

impl<Q> std::fmt::Debug for QueueBuilder<Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueBuilder")
            .field("maxsize", &self.maxsize)
            .field("capacity_bytes", &self.capacity_bytes)
            .finish()
    }
}

impl<Q> Default for QueueBuilder<Q> {
    fn default() -> Self {
        Self {
            maxsize: None,
            capacity_bytes: DEFAULT_CAPACITY,
            _queue: PhantomData,
        }
    }
}

impl<Q> QueueBuilder<Q> {
    /// Limits the queue to `maxsize` items (Python's `maxsize`); `put` waits while it is
    /// reached. Must be at least 1. Without it, only the byte capacity limits the queue.
    pub fn maxsize(mut self, maxsize: usize) -> Self {
        self.maxsize = Some(maxsize);
        self
    }

    /// Sets the size of the shared ring that holds queued items' encodings, each plus a 4-byte
    /// length. Default 8 MiB; accepted from 64 bytes to 1 GiB.
    pub fn capacity_bytes(mut self, capacity_bytes: usize) -> Self {
        self.capacity_bytes = capacity_bytes;
        self
    }

    /// Checks the settings and maps the shared ring.
    pub(super) fn build_ring(&self) -> Result<Ring, QueueCreateError> {
        if self.maxsize == Some(0) {
            return Err(QueueCreateError::ZeroMaxsize);
        }
        if self.capacity_bytes < MIN_CAPACITY {
            return Err(QueueCreateError::CapacityTooSmall {
                requested: self.capacity_bytes,
                min: MIN_CAPACITY,
            });
        }
        if self.capacity_bytes > MAX_CAPACITY {
            return Err(QueueCreateError::CapacityTooLarge {
                requested: self.capacity_bytes,
                max: MAX_CAPACITY,
            });
        }
        Ring::new(self.capacity_bytes, self.maxsize)
            .map_err(|source| QueueCreateError::Os { source })
    }
}
