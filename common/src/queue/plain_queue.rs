//! `Queue<T>`: Python's `multiprocessing.Queue`, typed, over the shared byte ring.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;
use crate::errors::{GetError, PutError, QueueCreateError};

use super::builder::QueueBuilder;
use super::ring::{Deadline, RECORD_HEADER, Ring, RingFailure};
use super::scratch;

/// A FIFO queue between processes, like Python's `multiprocessing.Queue`: any number of
/// producers `put`, any number of consumers `get`, each item delivered to exactly one `get`.
///
/// Create it before starting the processes, and move a [`clone`](Clone::clone) into each: all
/// clones, in every process, are the same queue. Items are serialised with serde (Python
/// pickles them), so `T` is any `Serialize + DeserializeOwned` type, and each handle is typed.
///
/// The lesson's example: three workers take numbers from the queue until each gets the
/// sentinel that tells it to stop (`None` here, as in Python).
///
/// ```
/// use multiprocessing as mp;
///
/// fn worker(q: mp::Queue<Option<i32>>) {
///     // Blocks until an item is available; `None` is the value to stop.
///     while let Ok(Some(item)) = q.get() {
///         println!("Worker: Processing {item}");
///     }
///     println!("Worker: Exiting");
/// }
///
/// let q = mp::Queue::new()?;
///
/// // Create and start worker processes.
/// let mut processes = Vec::new();
/// for _ in 0..3 {
///     let q = q.clone();
///     let mut p = mp::Process::new(move || worker(q));
///     p.start()?;
///     processes.push(p);
/// }
///
/// // Put items into the queue.
/// for i in 0..10 {
///     q.put(Some(i))?;
/// }
/// // Add a value to stop the workers, one for each.
/// for _ in 0..3 {
///     q.put(None)?;
/// }
///
/// for p in &mut processes {
///     p.join()?;
/// }
/// println!("All tasks completed");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The tutorial's producer/consumer ends its consumer with `get(timeout=1)`; here that is
/// [`get_timeout`](Self::get_timeout). [`shutdown`](Self::shutdown) ends consumers without
/// waiting for a timeout or counting sentinels: they drain what is left, then get
/// [`GetError::Closed`].
///
/// ```
/// use std::time::Duration;
/// use multiprocessing as mp;
///
/// let q = mp::Queue::new()?;
/// let mut consumer = mp::Process::new({
///     let q = q.clone();
///     move || {
///         let mut total = 0;
///         while let Ok(item) = q.get_timeout(Duration::from_secs(1)) {
///             total += item;
///         }
///         assert_eq!(total, (1..=10).sum::<u64>());
///     }
/// });
/// consumer.start()?;
/// for item in 1..=10u64 {
///     q.put(item)?;
/// }
/// q.shutdown(); // the consumer takes the ten items, then its get returns Closed
/// consumer.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Capacity: what "unbounded" means here
///
/// Queued items live, encoded, in a ring of shared memory of fixed size:
/// [`capacity_bytes`](QueueBuilder::capacity_bytes), 8 MiB unless set, each item taking its
/// encoded size plus 4 bytes. [`Queue::new`] limits the item *count* only by that; a
/// [`bounded`](Self::bounded) queue (Python's `maxsize`) also by a count. When the ring is
/// full, `put` waits until consumers make room, as a write to a full pipe does (Python's
/// `Queue` instead grows a buffer in the producer without limit); [`try_put`](Self::try_put)
/// returns [`PutError::Full`] with the item. An item larger than the whole ring could never
/// fit: `put` returns [`PutError::TooLarge`] at once, never waits. The ring's pages cost memory
/// only once touched (and once for all processes), and an empty ring starts again at its
/// beginning, so a large capacity is cheap while consumers keep up.
///
/// # Closing and shutting down
///
/// [`close`](Self::close) is Python's: this handle will put no more (later puts give the item
/// back as [`PutError::Closed`]); other handles, and gets, are unaffected. There is no feeder
/// thread to join, so Python's `join_thread`/`cancel_join_thread` have no counterpart.
/// [`shutdown`](Self::shutdown) is Python 3.13's `Queue.shutdown()`, for every handle at once.
///
/// # What happens to a message a dying process was writing
///
/// A process killed in the middle of `put` (SIGKILL, a crash) loses that one message and
/// nothing else: a put copies the whole encoded message into free space first and publishes
/// it with a single store afterwards, so consumers see either all of it or none of it, never a
/// partial message. The queue's mutex is robust: the next process to lock it learns that its
/// holder died, and since nothing it guards can be half-updated, the queue simply carries on.
/// The same holds for a consumer killed in `get`: the item is either still queued or was taken
/// whole (and is lost with that process). A process killed while *waiting* in `put` or `get`
/// holds nothing and leaves no trace.
pub struct Queue<T> {
    ring: Arc<Ring>,
    /// This handle's `close`: other handles are unaffected, as in Python.
    closed: AtomicBool,
    /// Items are bytes in shared memory, never held: the handle is `Send + Sync` whatever `T`.
    _items: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Queue<T> {
    /// Another handle to the same queue; it starts closed if this one is.
    fn clone(&self) -> Self {
        Self {
            ring: Arc::clone(&self.ring),
            closed: AtomicBool::new(self.closed.load(Ordering::Relaxed)),
            _items: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("qsize", &self.ring.len())
            .field("maxsize", &self.ring.maxsize())
            .field("capacity_bytes", &self.ring.capacity())
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .field("shut_down", &self.ring.is_shut_down())
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// A queue limited only by its byte capacity (8 MiB), like Python's `mp.Queue()`.
    pub fn new() -> Result<Self, QueueCreateError> {
        Self::builder().build()
    }

    /// A queue of at most `maxsize` items (at least 1), like Python's `mp.Queue(maxsize)`.
    pub fn bounded(maxsize: usize) -> Result<Self, QueueCreateError> {
        Self::builder().maxsize(maxsize).build()
    }

    /// Settings beyond `maxsize`: the ring's byte capacity.
    pub fn builder() -> QueueBuilder<Self> {
        QueueBuilder::default()
    }

    pub(super) fn from_ring(ring: Ring) -> Self {
        Self {
            ring: Arc::new(ring),
            closed: AtomicBool::new(false),
            _items: PhantomData,
        }
    }

    pub(super) fn ring(&self) -> &Ring {
        &self.ring
    }

    /// Puts `item` at the back, waiting for room as long as it takes.
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_until(item, Deadline::Never)
    }

    /// Puts `item`, waiting at most `timeout` for room; [`PutError::Timeout`] gives it back.
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_until(item, Deadline::after(timeout))
    }

    /// Puts `item` only if there is room now; [`PutError::Full`] gives it back.
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_until(item, Deadline::Now)
    }

    fn put_until(&self, item: T, deadline: Deadline) -> Result<(), PutError<T>> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(PutError::Closed(item));
        }
        // Encoded outside the lock, behind room for the length, so the record goes into the
        // ring in one copy.
        let mut record = scratch::take();
        record.extend_from_slice(&[0; RECORD_HEADER]);
        let mut record = match codec::encode_into(&item, record) {
            Ok(record) => record,
            Err(source) => return Err(PutError::Encode { item, source }),
        };
        let size = record.len() - RECORD_HEADER;
        let capacity = self.ring.capacity();
        if record.len() > capacity {
            scratch::give_back(record);
            return Err(PutError::TooLarge {
                item,
                size,
                capacity,
            });
        }
        // `size < capacity <= MAX_CAPACITY`, which fits in a u32.
        record[..RECORD_HEADER].copy_from_slice(&(size as u32).to_le_bytes());
        let pushed = self.ring.push(&record, deadline);
        scratch::give_back(record);
        match pushed {
            Ok(()) => Ok(()),
            Err(RingFailure::WouldBlock) => Err(PutError::Full(item)),
            Err(RingFailure::TimedOut) => Err(PutError::Timeout(item)),
            Err(RingFailure::Closed) => Err(PutError::Closed(item)),
            Err(RingFailure::Os(source)) => Err(PutError::Os { item, source }),
        }
    }

    /// Takes the item at the front, waiting as long as it takes. After a
    /// [`shutdown`](Self::shutdown), returns the items left, then [`GetError::Closed`].
    pub fn get(&self) -> Result<T, GetError> {
        self.get_until(Deadline::Never)
    }

    /// Takes the item at the front, waiting at most `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_until(Deadline::after(timeout))
    }

    /// Takes the item at the front if there is one now.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, GetError> {
        self.get_until(Deadline::Now)
    }

    fn get_until(&self, deadline: Deadline) -> Result<T, GetError> {
        let mut bytes = scratch::take();
        let popped = self.ring.pop_into(&mut bytes, deadline);
        // Decoded after the mutex is released: the copy out was the only work under it.
        let result = match popped {
            Ok(()) => codec::decode(&bytes).map_err(|source| GetError::Decode {
                size: bytes.len(),
                source,
            }),
            Err(RingFailure::WouldBlock) => Err(GetError::Empty),
            Err(RingFailure::TimedOut) => Err(GetError::Timeout),
            Err(RingFailure::Closed) => Err(GetError::Closed),
            Err(RingFailure::Os(source)) => Err(GetError::Os { source }),
        };
        scratch::give_back(bytes);
        result
    }

    /// Number of items queued. Approximate, as in Python: other processes may change it
    /// before the caller acts on it.
    pub fn qsize(&self) -> usize {
        self.ring.len()
    }

    /// True when no item is queued (approximate, like [`qsize`](Self::qsize)).
    pub fn empty(&self) -> bool {
        self.ring.len() == 0
    }

    /// True when `maxsize` items are queued, or the ring has no free byte for another item
    /// (approximate, like [`qsize`](Self::qsize)). Whether a given item fits also depends on
    /// its size: [`try_put`](Self::try_put) tells for sure.
    pub fn full(&self) -> bool {
        self.ring.is_full()
    }

    /// The item limit given at creation (`None`: only the byte capacity limits the queue).
    pub fn maxsize(&self) -> Option<usize> {
        self.ring.maxsize()
    }

    /// Size in bytes of the shared ring that holds queued items.
    pub fn capacity_bytes(&self) -> usize {
        self.ring.capacity()
    }

    /// This handle will put no more items: later puts through it return
    /// [`PutError::Closed`] with the item. Other handles are unaffected, and so are gets
    /// through this one (Python's `get` refuses after `close` too; here a closed handle can
    /// still drain the queue).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    /// Whether [`close`](Self::close) was called on this handle.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Shuts the queue down for every handle in every process, like Python 3.13's
    /// `Queue.shutdown()`: puts fail with [`PutError::Closed`] from now on, gets return the
    /// items still queued and then [`GetError::Closed`] instead of waiting. Every process
    /// waiting in `put` or `get` wakes up. It cannot be undone.
    pub fn shutdown(&self) {
        self.ring.shutdown();
    }

    /// Whether [`shutdown`](Self::shutdown) was called on any handle.
    pub fn is_shutdown(&self) -> bool {
        self.ring.is_shut_down()
    }
}

impl<T: Serialize + DeserializeOwned> QueueBuilder<Queue<T>> {
    /// Creates the queue.
    pub fn build(self) -> Result<Queue<T>, QueueCreateError> {
        self.build_ring().map(Queue::from_ring)
    }
}
