//! The byte ring every handle of one queue shares: length-prefixed records in one
//! `MAP_SHARED` region, a robust process-shared mutex for each side (producers, consumers),
//! and condition variables for "an item arrived", "room appeared" and "every task is done".
//!
//! ## Two locks, so that producers and consumers never wait for each other
//!
//! Producers serialise among themselves on `put_mutex`, consumers on `get_mutex`; a producer
//! and a consumer run at the same time. With one lock for both, every `put` and every `get`
//! moved the lock's cache line between the two CPUs and each side spun while the other held
//! it: a 1->1 stream ran at a fifth of the speed of the same operations in one process. This
//! is the two-lock queue of Michael and Scott (PODC 1996) over a ring: the producers' and the
//! consumers' positions are each written by one side only, and read by the other.
//!
//! Each side also remembers, in its own process's memory, what it last read of the other
//! side, and reads the shared cursor again only when that does not let it go on. Reading the
//! other side's cursor at every operation cost a cache miss each time.
//!
//! - A consumer keeps a copy of the producers' cursor and uses it while it shows items after
//!   its own: records up to the copy were published and stay put until consumed. (A rewind
//!   happens only on an empty ring, so a copy from before one never shows items.)
//! - A producer keeps an upper bound of the bytes and items in the ring: what it read last
//!   time, plus everything every producer has put since (`written`, and the item count).
//!   Consumers only ever lower the truth, so room under the bound is room. (A copy of the
//!   consumers' cursor would not do: one more than a lap old reads as a nearly empty ring.)
//!
//! ## Atomic commits, and processes that die mid-operation
//!
//! Each side of the ring has one 64-bit *cursor* word: the producers' (`produced`) holds the
//! write offset and the number of items ever put, the consumers' (`consumed`) the read offset
//! and the number of items ever taken. A put copies its record into free space first and only
//! then publishes it with a single store to `produced`; a get copies a record out first and
//! then releases its space with a single store to `consumed`. The JoinableQueue's task count is
//! derived (`produced.count - tasks_done`), never stored twice.
//!
//! So at any instant the shared state is one of two consistent states: before the store or
//! after it. A process killed while holding a mutex (SIGKILL mid-put) leaves it to the
//! kernel's robust-futex machinery: the next locker gets `EOWNERDEAD`, and since nothing
//! guarded is ever half-updated it just carries on. The dead producer's record was either
//! published whole, or never (its bytes lie in free space and are overwritten later). A
//! consumer killed mid-get either took the item whole (it dies with it) or left it queued.
//!
//! ## Memory ordering
//!
//! A cursor is stored only by the holder of its side's mutex, so that side reads its own cursor
//! `Relaxed`. The other side reads it with `Acquire` (`SeqCst` where it decides to sleep), and
//! it is stored with `SeqCst` (a release): the bytes of a record are visible to the consumer
//! that sees it published, and a consumer has finished reading bytes before a producer that
//! sees their space released overwrites them. Sleeping uses
//! [`RawCondvar::wait_unless`]: the cursor stores are `SeqCst` and come before the
//! notification, the waiter re-checks with a `SeqCst` load after counting itself as a waiter,
//! so a change made while it decided to sleep is never missed. `qsize`/`empty`/`full` peek
//! without a lock; such a peek is a hint.

use std::io;
use std::ptr::addr_of_mut;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::sys::{
    Acquired, LockFailure, RawCondvar, RawMutex, SPIN_BEFORE_SLEEP, SharedRegion, Spin, spin_until,
};

/// Bytes before each record's payload: the payload length as a little-endian `u32`.
pub(super) const RECORD_HEADER: usize = 4;
/// Smallest accepted ring: anything smaller could only ever hold a handful of tiny items.
pub(super) const MIN_CAPACITY: usize = 64;
/// Largest accepted ring. Offsets are `u32`; 1 GiB also matches the codec's message limit.
pub(super) const MAX_CAPACITY: usize = crate::codec::MAX_MESSAGE_BYTES;
/// Ring size when none is given. Anonymous shared pages cost memory only once touched, and an
/// empty ring is rewound to its start, so a queue whose consumers keep up touches only a few.
pub(super) const DEFAULT_CAPACITY: usize = 8 << 20;

/// How far the producers may have moved into the ring before a put that finds it empty
/// rewinds it to its start. Rewinding needs the consumers' mutex as well, so doing it at every
/// empty ring would bring back the contention the two locks remove; this keeps the pages a
/// queue touches to this many bytes plus its largest record.
const REWIND_AFTER: u32 = 64 * 1024;

/// One side's position: where its next record starts and how many records it has handled
/// (wrapping). Packed into one `u64` so a side commits with a single store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    offset: u32,
    count: u32,
}

impl Cursor {
    fn pack(self) -> u64 {
        (u64::from(self.count) << 32) | u64::from(self.offset)
    }

    fn unpack(word: u64) -> Self {
        Self {
            offset: word as u32,
            count: (word >> 32) as u32,
        }
    }
}

/// A field alone on its cache line, so that what one side writes does not evict what the
/// other side reads.
#[repr(C, align(64))]
struct Line<T>(T);

impl<T> std::ops::Deref for Line<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The producers' mutex, and what only its holder reads and writes.
#[repr(C)]
struct ProducerSide {
    /// Held by the producer that is putting. First, so a `*mut ProducerSide` is one to it.
    mutex: RawMutex,
    /// Bytes of records ever put (wrapping), for the producers' upper bound of what is used.
    written: AtomicU64,
}

/// The shared header in front of the ring bytes. All-zero memory is valid for every field but
/// the mutexes, which `Ring::new` initialises.
#[repr(C)]
struct RingHeader {
    /// Held by the producer that is putting.
    put_mutex: Line<ProducerSide>,
    /// Held by the consumer that is getting (and by a producer rewinding the ring).
    get_mutex: Line<RawMutex>,
    /// Held by `task_done` and `join`.
    tasks_mutex: Line<RawMutex>,
    /// Producers' [`Cursor`], packed.
    produced: Line<AtomicU64>,
    /// Consumers' [`Cursor`], packed.
    consumed: Line<AtomicU64>,
    /// Consumers wait here for `produced` to move (with `get_mutex`).
    not_empty: Line<RawCondvar>,
    /// Producers wait here for `consumed` to move (with `put_mutex`).
    not_full: Line<RawCondvar>,
    /// `join` waits here (with `tasks_mutex`).
    all_done: RawCondvar,
    /// `task_done` calls so far (wrapping); unfinished tasks are `produced.count - tasks_done`.
    tasks_done: AtomicU32,
    /// Non-zero once `shutdown` was called; never reset.
    shut_down: AtomicU32,
}

/// When a blocking operation gives up.
#[derive(Debug, Clone, Copy)]
pub(super) enum Deadline {
    /// Do not wait for the condition (the mutex is still taken, it is only held briefly).
    Now,
    /// Wait as long as it takes.
    Never,
    /// Wait until this instant.
    At(Instant),
}

impl Deadline {
    /// A deadline `timeout` from now; one too far to represent is no deadline.
    pub(super) fn after(timeout: Duration) -> Self {
        Instant::now()
            .checked_add(timeout)
            .map_or(Self::Never, Self::At)
    }
}

/// Why a ring operation did not happen.
#[derive(Debug)]
pub(super) enum RingFailure {
    /// With [`Deadline::Now`]: no room (push) or no item (pop).
    WouldBlock,
    /// The deadline passed.
    TimedOut,
    /// The queue was shut down (and, for pop, is empty).
    Closed,
    /// A mutex or a condition variable failed.
    Os(io::Error),
}

/// Why `task_done` failed.
#[derive(Debug)]
pub(super) enum TaskDoneFailure {
    /// Every item put has already been marked done.
    TooManyCalls,
    /// The mutex failed.
    Os(io::Error),
}

/// Proof that the calling thread holds `mutex`; unlocks on drop.
struct Held<'a> {
    mutex: &'a RawMutex,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // SAFETY: a `Held` is only made right after this thread acquired `mutex`, and is
        // forgotten whenever the mutex is released by other means (condvar wait).
        unsafe { self.mutex.unlock() };
    }
}

/// Proof that the calling thread holds the producers' mutex: it alone may write free space
/// and store `produced`.
struct Producing<'a>(Held<'a>);

/// Proof that the calling thread holds the consumers' mutex: it alone may read a published
/// record and store `consumed`.
struct Consuming<'a>(Held<'a>);

/// The shared ring. Each `Queue` handle holds one through an `Arc`; forked children inherit
/// the mapping, so all handles in all processes see the same bytes.
pub(super) struct Ring {
    region: SharedRegion<RingHeader>,
    /// This process's producers' upper bound of the ring's contents: [`RoomSeen`], read and
    /// written only by the holder of the producers' mutex, which orders these accesses.
    room_seen: [AtomicU64; 2],
    /// This process's copy of the producers' cursor. Used by consumers only, under the
    /// consumers' mutex.
    produced_seen: AtomicU64,
    /// Most items the ring may hold; `u64::MAX` when only the bytes limit it. Kept in each
    /// process's copy of the handle (fork copies it), like the ring's size: bounds never
    /// depend on anything another process could write.
    maxsize: u64,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.capacity())
            .field("maxsize", &self.maxsize())
            .field("len", &self.len())
            .finish()
    }
}

/// A producer process's upper bound of the ring's contents: `used` bytes and `items` records
/// when `written` bytes (modulo 2^32) and `count` records had been put in all.
#[derive(Debug, Clone, Copy)]
struct RoomSeen {
    used: u64,
    written: u64,
    items: u32,
    count: u32,
}

impl RoomSeen {
    fn unpack(words: &[AtomicU64; 2]) -> Self {
        let used_and_written = words[0].load(Ordering::Relaxed);
        let counts = words[1].load(Ordering::Relaxed);
        Self {
            used: used_and_written >> 32,
            written: used_and_written & u64::from(u32::MAX),
            items: (counts >> 32) as u32,
            count: counts as u32,
        }
    }

    /// `used` is at most the ring's capacity (at most 1 GiB), so it and `written` modulo
    /// 2^32 share one word. Between two renewals less than a lap is put (more would fail the
    /// room test first), so the difference of two `written`s modulo 2^32 is exact.
    fn pack_into(self, words: &[AtomicU64; 2]) {
        let written = self.written & u64::from(u32::MAX);
        words[0].store((self.used << 32) | written, Ordering::Relaxed);
        words[1].store(
            (u64::from(self.items) << 32) | u64::from(self.count),
            Ordering::Relaxed,
        );
    }
}

fn lock_error(failure: LockFailure) -> io::Error {
    match failure {
        LockFailure::WouldBlock => io::Error::from_raw_os_error(libc::EBUSY),
        LockFailure::TimedOut => io::Error::from_raw_os_error(libc::ETIMEDOUT),
        LockFailure::Deadlock => io::Error::from_raw_os_error(libc::EDEADLK),
        LockFailure::Os(code) => io::Error::from_raw_os_error(code),
    }
}

impl Ring {
    /// Maps a ring of `capacity` bytes holding at most `maxsize` items (`None`: no item
    /// limit). The caller has checked `capacity` against [`MIN_CAPACITY`]/[`MAX_CAPACITY`].
    pub(super) fn new(capacity: usize, maxsize: Option<usize>) -> io::Result<Self> {
        if !(MIN_CAPACITY..=MAX_CAPACITY).contains(&capacity) {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let init = |header: *mut RingHeader| {
            // SAFETY: `header` points to the zeroed, aligned header of a mapping no other
            // thread or process can see yet; the mutex fields live as long as the mapping.
            // Each mutex is at offset 0 of its field: `Line` is `repr(C)` with one field, and
            // `ProducerSide` is `repr(C)` with the mutex first.
            unsafe {
                RawMutex::init(addr_of_mut!((*header).put_mutex).cast(), false)?;
                RawMutex::init(addr_of_mut!((*header).get_mutex).cast(), false)?;
                RawMutex::init(addr_of_mut!((*header).tasks_mutex).cast(), false)
            }
        };
        // SAFETY: `init` makes the header valid: it initialises the mutexes, and every other
        // field (condvars, atomics) is valid as the zeroes the kernel filled the mapping with.
        let region = unsafe { SharedRegion::new(capacity, init) }?;
        let start = Cursor {
            offset: 0,
            count: 0,
        };
        Ok(Self {
            region,
            // "Empty when nothing was written": true of a new ring.
            room_seen: [AtomicU64::new(0), AtomicU64::new(0)],
            produced_seen: AtomicU64::new(start.pack()),
            maxsize: maxsize.map_or(u64::MAX, |n| n as u64),
        })
    }

    fn header(&self) -> &RingHeader {
        self.region.header()
    }

    /// The ring's size in bytes.
    pub(super) fn capacity(&self) -> usize {
        self.region.tail_len()
    }

    /// The item limit, if any.
    pub(super) fn maxsize(&self) -> Option<usize> {
        (self.maxsize != u64::MAX).then_some(self.maxsize as usize)
    }

    /// Items queued now (a snapshot: other processes may change it at once).
    pub(super) fn len(&self) -> usize {
        let header = self.header();
        // Consumers' count first: it never exceeds the producers', and the producers' can
        // only have grown by the time we read it, so the difference is never negative.
        let consumed = Cursor::unpack(header.consumed.load(Ordering::Acquire));
        let produced = Cursor::unpack(header.produced.load(Ordering::Acquire));
        produced.count.wrapping_sub(consumed.count) as usize
    }

    /// True when a put would have to wait: `maxsize` items queued, or not even room for an
    /// empty record (a snapshot, like [`len`](Self::len)).
    pub(super) fn is_full(&self) -> bool {
        let header = self.header();
        let consumed = Cursor::unpack(header.consumed.load(Ordering::Acquire));
        let produced = Cursor::unpack(header.produced.load(Ordering::Acquire));
        let items = produced.count.wrapping_sub(consumed.count);
        u64::from(items) >= self.maxsize || self.free_bytes(produced, consumed) < RECORD_HEADER
    }

    /// Whether `shutdown` was called on any handle.
    pub(super) fn is_shut_down(&self) -> bool {
        self.header().shut_down.load(Ordering::Acquire) != 0
    }

    /// Bytes not taken by queued records.
    fn free_bytes(&self, produced: Cursor, consumed: Cursor) -> usize {
        let capacity = self.capacity();
        if produced.count == consumed.count {
            return capacity;
        }
        // Records are at least RECORD_HEADER bytes, so equal offsets with items queued means
        // the ring is exactly full.
        let used = (produced.offset as usize + capacity - consumed.offset as usize) % capacity;
        if used == 0 { 0 } else { capacity - used }
    }

    /// Takes `mutex` (which spins briefly before sleeping: it is only ever held for a copy).
    fn lock<'a>(&self, mutex: &'a RawMutex, deadline: Deadline) -> Result<Held<'a>, RingFailure> {
        let result = match deadline {
            Deadline::Now | Deadline::Never => mutex.lock(Spin::Briefly),
            Deadline::At(at) => {
                mutex.lock_timeout(at.saturating_duration_since(Instant::now()), Spin::Briefly)
            }
        };
        match result {
            // A previous holder that died cannot have left the ring half-updated (see the
            // module docs), so its death needs no repair here.
            Ok(Acquired::Clean | Acquired::OwnerDied { .. }) => Ok(Held { mutex }),
            Err(LockFailure::TimedOut) => Err(RingFailure::TimedOut),
            Err(other) => Err(RingFailure::Os(lock_error(other))),
        }
    }

    fn lock_blocking<'a>(&self, mutex: &'a RawMutex) -> io::Result<Held<'a>> {
        match self.lock(mutex, Deadline::Never) {
            Ok(held) => Ok(held),
            Err(RingFailure::Os(source)) => Err(source),
            Err(RingFailure::WouldBlock | RingFailure::TimedOut | RingFailure::Closed) => {
                Err(lock_error(LockFailure::TimedOut))
            }
        }
    }

    /// Sleeps on `condvar` (releasing the mutex meanwhile) unless `deadline` says not to wait
    /// any more or `changed` says the awaited change has happened. Wakes spuriously at times:
    /// callers re-check their condition.
    fn wait<'a>(
        &self,
        held: Held<'a>,
        condvar: &RawCondvar,
        deadline: Deadline,
        changed: impl Fn() -> bool,
    ) -> Result<Held<'a>, RingFailure> {
        let at = match deadline {
            Deadline::Now => return Err(RingFailure::WouldBlock),
            Deadline::Never => None,
            Deadline::At(at) => {
                if at <= Instant::now() {
                    return Err(RingFailure::TimedOut);
                }
                Some(at)
            }
        };
        let mutex = held.mutex;
        // The condvar releases and re-takes the mutex itself; on failure it is not held.
        std::mem::forget(held);
        // SAFETY: the forgotten `Held` proved this thread holds `mutex`.
        match unsafe { condvar.wait_unless(mutex, at, changed) } {
            Ok(_) => Ok(Held { mutex }),
            Err(failure) => Err(RingFailure::Os(lock_error(failure))),
        }
    }

    /// Copies `bytes` into the ring at `offset`, wrapping around the end.
    fn write_at(&self, _producing: &Producing<'_>, offset: u32, bytes: &[u8]) {
        let capacity = self.capacity();
        // Offsets come from shared memory; reducing them here keeps the bounds argument below
        // local. (`push` never passes more than `capacity` bytes; the `min` only makes that
        // visible.)
        let offset = offset as usize % capacity;
        let bytes = &bytes[..bytes.len().min(capacity)];
        let first = bytes.len().min(capacity - offset);
        let base = self.region.tail_ptr();
        // SAFETY: [1] `offset < capacity` and `first <= capacity - offset`, and the rest,
        // `bytes.len() - first <= capacity`, goes to the start: both copies stay inside the
        // `capacity` tail bytes of the mapping. [2] The caller checked these bytes are free
        // space (an `Acquire` load of `consumed`, so the consumers have finished reading
        // them), which no consumer reads until `produced` publishes them, and it holds the
        // producers' mutex (`_producing`), so no other producer writes them. [3] `bytes` is
        // our own memory, not in the ring: no overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(offset), first);
            std::ptr::copy_nonoverlapping(bytes.as_ptr().add(first), base, bytes.len() - first);
        }
    }

    /// The `len` ring bytes starting at `offset`, as the part up to the ring's end and the
    /// part wrapped around to its start (empty when the bytes do not wrap).
    fn bytes_at<'h>(
        &self,
        _consuming: &'h Consuming<'_>,
        offset: u32,
        len: usize,
    ) -> (&'h [u8], &'h [u8]) {
        let capacity = self.capacity();
        // As in `write_at`: the bounds below hold whatever the shared cursors say.
        let offset = offset as usize % capacity;
        let len = len.min(capacity);
        let first = len.min(capacity - offset);
        let base = self.region.tail_ptr();
        // SAFETY: [1] bounds as in `write_at`. [2] The caller asks only for bytes of a record
        // it saw published (an `Acquire` load of `produced`); no producer writes them until a
        // consumer releases them with a store to `consumed`, and only the holder of the
        // consumers' mutex does that, which we are for as long as the slices live
        // (`_consuming`). [3] The mapping outlives `_consuming`, which borrows `self`.
        unsafe {
            (
                std::slice::from_raw_parts(base.add(offset), first),
                std::slice::from_raw_parts(base, len - first),
            )
        }
    }

    /// Appends a record (its header already filled in) once there is room and the item limit
    /// allows, or fails per `deadline`.
    pub(super) fn push(&self, record: &[u8], deadline: Deadline) -> Result<(), RingFailure> {
        let header = self.header();
        if record.len() > self.capacity() {
            return Err(RingFailure::Os(io::Error::from(
                io::ErrorKind::InvalidInput,
            )));
        }
        let mut producing = Producing(self.lock(&header.put_mutex.mutex, deadline)?);
        loop {
            if header.shut_down.load(Ordering::Relaxed) != 0 {
                return Err(RingFailure::Closed);
            }
            let produced = Cursor::unpack(header.produced.load(Ordering::Relaxed));
            if let Some(offset) = self.room_for(&producing, produced, record.len()) {
                self.write_at(&producing, offset, record);
                let written = header.put_mutex.written.load(Ordering::Relaxed);
                let written = written.wrapping_add(record.len() as u64);
                header.put_mutex.written.store(written, Ordering::Relaxed);
                // The commit: one store publishes the whole record (see the module docs).
                let next = Cursor {
                    offset: ((offset as usize + record.len()) % self.capacity()) as u32,
                    count: produced.count.wrapping_add(1),
                };
                header.produced.store(next.pack(), Ordering::SeqCst);
                drop(producing);
                header.not_empty.notify_one();
                return Ok(());
            }
            let room = || {
                let consumed = Cursor::unpack(header.consumed.load(Ordering::SeqCst));
                self.has_room(produced, consumed, record.len())
                    || header.shut_down.load(Ordering::SeqCst) != 0
            };
            producing = Producing(self.wait(producing.0, &header.not_full, deadline, room)?);
        }
    }

    /// Where a record of `len` bytes goes, if there is room for it now. Decided from this
    /// process's upper bound of the contents while that shows room and no rewind is due; else
    /// from the consumers' cursor, read again (and the bound renewed from it).
    fn room_for(&self, producing: &Producing<'_>, produced: Cursor, len: usize) -> Option<u32> {
        let header = self.header();
        let written = header.put_mutex.written.load(Ordering::Relaxed);
        let seen = RoomSeen::unpack(&self.room_seen);
        let used = seen.used + (written.wrapping_sub(seen.written) & u64::from(u32::MAX));
        let items = seen
            .items
            .wrapping_add(produced.count.wrapping_sub(seen.count));
        if produced.offset < REWIND_AFTER
            && used.saturating_add(len as u64) <= self.capacity() as u64
            && u64::from(items) < self.maxsize
        {
            return Some(produced.offset);
        }
        let consumed = Cursor::unpack(header.consumed.load(Ordering::Acquire));
        RoomSeen {
            used: (self.capacity() - self.free_bytes(produced, consumed)) as u64,
            written,
            items: produced.count.wrapping_sub(consumed.count),
            count: produced.count,
        }
        .pack_into(&self.room_seen);
        self.has_room(produced, consumed, len)
            .then(|| self.rewind_if_empty(producing, produced, consumed))
    }

    /// Whether a record of `len` bytes may be put now.
    fn has_room(&self, produced: Cursor, consumed: Cursor, len: usize) -> bool {
        let items = produced.count.wrapping_sub(consumed.count);
        u64::from(items) < self.maxsize && self.free_bytes(produced, consumed) >= len
    }

    /// Where the next record goes: at `produced.offset`, or at the ring's start when the ring
    /// is empty, the producers have moved [`REWIND_AFTER`] bytes into it, and no consumer is
    /// busy (so the consumers' cursor may be moved too). Rewinding keeps a queue whose
    /// consumers keep up on the same few resident, cached pages instead of sweeping the ring.
    fn rewind_if_empty(
        &self,
        _producing: &Producing<'_>,
        produced: Cursor,
        consumed: Cursor,
    ) -> u32 {
        if produced.count != consumed.count || produced.offset < REWIND_AFTER {
            return produced.offset;
        }
        let header = self.header();
        // Only if no consumer holds its mutex: waiting for one would couple the two sides
        // again. The lock order is always put then get, so this cannot deadlock either way.
        let Ok(_consuming) = header.get_mutex.try_lock().map(|_| Held {
            mutex: &header.get_mutex,
        }) else {
            return produced.offset;
        };
        // With both mutexes held nobody else moves either cursor; `consumed` is re-read
        // because a consumer may have finished a get since our first read. The consumers'
        // cursor moves first: with equal counts the ring is empty whatever the offsets, so
        // dying between this store and the publishing one leaves it consistent.
        let consumed = Cursor::unpack(header.consumed.load(Ordering::Relaxed));
        if consumed.count != produced.count {
            return produced.offset;
        }
        let rewound = Cursor {
            offset: 0,
            count: consumed.count,
        };
        // The producers' bound of the contents stays true: the ring held nothing, and what is
        // put from here on is counted in `written`.
        header.consumed.store(rewound.pack(), Ordering::SeqCst);
        0
    }

    /// Takes the oldest record's payload into `out` (cleared first), or fails per `deadline`.
    /// After a shutdown, records left are still handed out; then `Closed`.
    pub(super) fn pop_into(
        &self,
        out: &mut Vec<u8>,
        deadline: Deadline,
    ) -> Result<(), RingFailure> {
        out.clear();
        let header = self.header();
        let mut consuming = Consuming(self.lock(&header.get_mutex, deadline)?);
        let mut spun = false;
        loop {
            let consumed = Cursor::unpack(header.consumed.load(Ordering::Relaxed));
            let produced = self.producers_cursor(&consuming, consumed);
            if produced.count != consumed.count {
                self.take_record(&consuming, produced, consumed, out);
                drop(consuming);
                header.not_full.notify_one();
                return Ok(());
            }
            if header.shut_down.load(Ordering::Acquire) != 0 {
                return Err(RingFailure::Closed);
            }
            if !spun && !matches!(deadline, Deadline::Now) {
                // Spin without the mutex, so other consumers are not held up meanwhile.
                spun = true;
                drop(consuming);
                self.spin_while_empty(produced.count);
                consuming = Consuming(self.lock(&header.get_mutex, deadline)?);
                continue;
            }
            let arrived = || {
                Cursor::unpack(header.produced.load(Ordering::SeqCst)).count != consumed.count
                    || header.shut_down.load(Ordering::SeqCst) != 0
            };
            consuming = Consuming(self.wait(consuming.0, &header.not_empty, deadline, arrived)?);
        }
    }

    /// The producers' cursor as far as a consumer needs it: this process's copy while that
    /// shows items after `consumed`, else read again (and remembered).
    ///
    /// The copy may be older than `consumed` when other consumer processes took items since
    /// (then the count difference wraps to more than the ring can hold), but never from before
    /// a rewind while showing items: a rewind happens only on an empty ring.
    fn producers_cursor(&self, _consuming: &Consuming<'_>, consumed: Cursor) -> Cursor {
        let copy = Cursor::unpack(self.produced_seen.load(Ordering::Relaxed));
        let ahead = copy.count.wrapping_sub(consumed.count) as usize;
        if ahead > 0 && ahead <= self.capacity() / RECORD_HEADER {
            return copy;
        }
        let fresh = Cursor::unpack(self.header().produced.load(Ordering::Acquire));
        self.produced_seen.store(fresh.pack(), Ordering::Relaxed);
        fresh
    }

    /// Copies the oldest record's payload into `out` and releases its space.
    fn take_record(
        &self,
        consuming: &Consuming<'_>,
        produced: Cursor,
        consumed: Cursor,
        out: &mut Vec<u8>,
    ) {
        let capacity = self.capacity();
        let mut prefix = [0u8; RECORD_HEADER];
        let (head, tail) = self.bytes_at(consuming, consumed.offset, RECORD_HEADER);
        prefix[..head.len()].copy_from_slice(head);
        prefix[head.len()..].copy_from_slice(tail);
        let used = capacity - self.free_bytes(produced, consumed);
        // Only a committed record can be here, so its length fits in the used bytes; the
        // clamp keeps even a corrupted length inside the ring (its decode then fails).
        let len = (u32::from_le_bytes(prefix) as usize).min(used.saturating_sub(RECORD_HEADER));
        let payload_offset = ((consumed.offset as usize + RECORD_HEADER) % capacity) as u32;
        let (head, tail) = self.bytes_at(consuming, payload_offset, len);
        out.reserve(len);
        out.extend_from_slice(head);
        out.extend_from_slice(tail);
        // The commit: one store releases the whole record's space.
        let next = Cursor {
            offset: ((consumed.offset as usize + RECORD_HEADER + len) % capacity) as u32,
            count: consumed.count.wrapping_add(1),
        };
        self.header().consumed.store(next.pack(), Ordering::SeqCst);
    }

    /// Re-reads the producers' cursor, without the lock and before counting as a waiter (so
    /// producers need not even bump the condvar), until it moves away from `count`, the queue
    /// is shut down, or [`SPIN_BEFORE_SLEEP`] has passed. A consumer slightly ahead of its
    /// producers then takes the next item without either side making a system call.
    fn spin_while_empty(&self, count: u32) {
        let header = self.header();
        spin_until(SPIN_BEFORE_SLEEP, || {
            Cursor::unpack(header.produced.load(Ordering::Acquire)).count != count
                || header.shut_down.load(Ordering::Acquire) != 0
        });
    }

    /// Marks the queue shut down and wakes every waiter. A waiter re-checks the flag after
    /// counting itself (see [`RawCondvar::wait_unless`]), so none can miss it.
    pub(super) fn shutdown(&self) {
        let header = self.header();
        header.shut_down.store(1, Ordering::SeqCst);
        header.not_empty.notify_all();
        header.not_full.notify_all();
    }

    /// Items put but not yet marked done.
    pub(super) fn unfinished(&self) -> usize {
        let header = self.header();
        let done = header.tasks_done.load(Ordering::Acquire);
        let produced = Cursor::unpack(header.produced.load(Ordering::Acquire));
        produced.count.wrapping_sub(done) as usize
    }

    /// Counts one task done; wakes `join`ers when it was the last.
    pub(super) fn task_done(&self) -> Result<(), TaskDoneFailure> {
        let header = self.header();
        let held = self
            .lock_blocking(&header.tasks_mutex)
            .map_err(TaskDoneFailure::Os)?;
        let produced = Cursor::unpack(header.produced.load(Ordering::SeqCst));
        let done = header.tasks_done.load(Ordering::Relaxed);
        if done == produced.count {
            return Err(TaskDoneFailure::TooManyCalls);
        }
        let done = done.wrapping_add(1);
        header.tasks_done.store(done, Ordering::SeqCst);
        drop(held);
        if done == produced.count {
            header.all_done.notify_all();
        }
        Ok(())
    }

    /// Waits until every item put so far has been marked done.
    pub(super) fn join(&self, deadline: Deadline) -> Result<(), RingFailure> {
        let header = self.header();
        let all_done = || {
            let produced = Cursor::unpack(header.produced.load(Ordering::SeqCst));
            header.tasks_done.load(Ordering::SeqCst) == produced.count
        };
        let mut held = self.lock(&header.tasks_mutex, deadline)?;
        loop {
            if all_done() {
                return Ok(());
            }
            // `tasks_done` only moves under `tasks_mutex`, but `produced` moves without it:
            // re-check both after counting ourselves a waiter.
            held = self.wait(held, &header.all_done, deadline, all_done)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor {
            offset: 0x1234_5678,
            count: u32::MAX,
        };
        assert_eq!(Cursor::unpack(cursor.pack()), cursor);
    }

    fn record(payload: &[u8]) -> Vec<u8> {
        let mut bytes = (payload.len() as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn records_wrap_around_the_end() {
        let ring = Ring::new(MIN_CAPACITY, None).unwrap();
        let mut out = Vec::new();
        let payload = |round: u8| -> Vec<u8> { (0..(round % 25)).map(|i| i ^ round).collect() };
        // One record always stays queued, so the ring is never empty and never rewound: the
        // records march round it and wrap over its end.
        ring.push(&record(&payload(0)), Deadline::Now).unwrap();
        for round in 1..50u8 {
            ring.push(&record(&payload(round)), Deadline::Now).unwrap();
            ring.pop_into(&mut out, Deadline::Now).unwrap();
            assert_eq!(out, payload(round - 1));
        }
        assert_eq!(ring.len(), 1);
    }

    /// The scenario the atomic commit exists for, made deterministic: a process dies holding
    /// the mutex with half a record copied into the ring (as a SIGKILL mid-`put` leaves it).
    #[test]
    fn a_writer_dying_with_the_mutex_held_loses_only_its_own_record() {
        let ring = std::sync::Arc::new(Ring::new(MIN_CAPACITY * 4, None).unwrap());
        ring.push(&record(b"before"), Deadline::Now).unwrap();
        let mut writer = crate::Process::new({
            let ring = std::sync::Arc::clone(&ring);
            move || {
                let Ok(held) = ring.lock(&ring.header().put_mutex.mutex, Deadline::Never) else {
                    // SAFETY: ends the child at once; it owns nothing that needs cleanup.
                    unsafe { libc::_exit(3) }
                };
                let producing = Producing(held);
                let produced = Cursor::unpack(ring.header().produced.load(Ordering::Relaxed));
                ring.write_at(&producing, produced.offset, &record(b"half-written")[..9]);
                std::mem::forget(producing);
                // SAFETY: as above; exiting with the mutex held is the point of the test.
                unsafe { libc::_exit(0) }
            }
        });
        writer.start().unwrap();
        writer.join_timeout(Duration::from_secs(10)).unwrap();

        let mutex = &ring.header().put_mutex.mutex;
        assert!(matches!(mutex.try_lock(), Ok(Acquired::OwnerDied { .. })));
        // SAFETY: `try_lock` just acquired it.
        unsafe { mutex.unlock() };
        let mut out = Vec::new();
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        assert_eq!(out, b"before");
        assert!(matches!(
            ring.pop_into(&mut out, Deadline::Now),
            Err(RingFailure::WouldBlock)
        ));
        ring.push(&record(b"after"), Deadline::Now).unwrap();
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        assert_eq!(out, b"after");
    }

    #[test]
    fn an_empty_ring_is_rewound_to_its_start_once_far_enough_in() {
        let ring = Ring::new(4 * REWIND_AFTER as usize, None).unwrap();
        let mut out = Vec::new();
        let offsets = |ring: &Ring| {
            let consumed = Cursor::unpack(ring.header().consumed.load(Ordering::Relaxed));
            let produced = Cursor::unpack(ring.header().produced.load(Ordering::Relaxed));
            (consumed.offset, produced.offset)
        };
        // Empty, but not far in: no rewind (it would take the consumers' mutex too often).
        ring.push(&record(b"one"), Deadline::Now).unwrap();
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        ring.push(&record(b"two"), Deadline::Now).unwrap();
        assert_eq!(offsets(&ring).1 as usize, 2 * (RECORD_HEADER + 3));
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        // Far in, but not empty: the next record goes after the queued one.
        let big = vec![7u8; REWIND_AFTER as usize];
        ring.push(&record(&big), Deadline::Now).unwrap();
        ring.push(&record(b"three"), Deadline::Now).unwrap();
        let after_big = 2 * (RECORD_HEADER + 3) + RECORD_HEADER + big.len();
        assert_eq!(offsets(&ring).1 as usize, after_big + RECORD_HEADER + 5);
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        assert_eq!(out, b"three");
        // Far in and empty: the next record starts the ring again.
        ring.push(&record(b"four"), Deadline::Now).unwrap();
        assert_eq!(offsets(&ring), (0, RECORD_HEADER as u32 + 4));
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        assert_eq!(out, b"four");
    }

    #[test]
    fn a_consumer_mid_get_stops_a_rewind_but_not_the_put() {
        let ring = Ring::new(4 * REWIND_AFTER as usize, None).unwrap();
        let mut out = Vec::new();
        ring.push(&record(&vec![7u8; REWIND_AFTER as usize]), Deadline::Now)
            .unwrap();
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        let far = Cursor::unpack(ring.header().produced.load(Ordering::Relaxed)).offset;
        let consuming = ring.lock(&ring.header().get_mutex, Deadline::Now).unwrap();
        ring.push(&record(b"five"), Deadline::Now).unwrap();
        drop(consuming);
        let consumed = Cursor::unpack(ring.header().consumed.load(Ordering::Relaxed));
        assert_eq!(
            consumed.offset, far,
            "not rewound while a consumer held its mutex"
        );
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        assert_eq!(out, b"five");
    }

    #[test]
    fn a_full_ring_refuses_then_accepts_after_a_pop() {
        let ring = Ring::new(MIN_CAPACITY, None).unwrap();
        let payload = [7u8; MIN_CAPACITY / 2 - RECORD_HEADER];
        ring.push(&record(&payload), Deadline::Now).unwrap();
        ring.push(&record(&payload), Deadline::Now).unwrap();
        assert!(ring.is_full());
        assert!(matches!(
            ring.push(&record(&[]), Deadline::Now),
            Err(RingFailure::WouldBlock)
        ));
        let mut out = Vec::new();
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        ring.push(&record(&payload), Deadline::Now).unwrap();
        assert_eq!(ring.len(), 2);
    }
}
