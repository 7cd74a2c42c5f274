//! The byte ring every handle of one queue shares: length-prefixed records in one
//! `MAP_SHARED` region, guarded by a robust process-shared mutex, with condition variables
//! for "an item arrived", "room appeared" and "every task is done".
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
//! after it. A process killed while holding the mutex (SIGKILL mid-put) leaves the mutex to
//! the kernel's robust-futex machinery: the next locker gets `EOWNERDEAD`, and since nothing
//! guarded is ever half-updated it just carries on. The dead producer's record was either
//! published whole, or never (its bytes lie in free space and are overwritten later). A
//! consumer killed mid-get either took the item whole (it dies with it) or left it queued.
//!
//! ## Memory ordering
//!
//! Every read and write of the cursors, the ring bytes and `tasks_done` that matters for
//! correctness happens with the mutex held; the mutex orders them. The cursors are atomics,
//! stored with `Release` and loaded with `Acquire`, only so that `qsize`/`empty`/`full` and the
//! pre-sleep spin can peek at them without the lock; such a peek is a hint, re-checked under
//! the lock before anything acts on it.

use std::io;
use std::ptr::addr_of_mut;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::sys::{Acquired, LockFailure, RawCondvar, RawMutex, SharedRegion};

/// Bytes before each record's payload: the payload length as a little-endian `u32`.
pub(super) const RECORD_HEADER: usize = 4;
/// Smallest accepted ring: anything smaller could only ever hold a handful of tiny items.
pub(super) const MIN_CAPACITY: usize = 64;
/// Largest accepted ring. Offsets are `u32`; 1 GiB also matches the codec's message limit.
pub(super) const MAX_CAPACITY: usize = crate::codec::MAX_MESSAGE_BYTES;
/// Ring size when none is given. Anonymous shared pages cost memory only once touched, and an
/// empty ring is rewound to its start, so a queue whose consumers keep up touches only a few.
pub(super) const DEFAULT_CAPACITY: usize = 8 << 20;

/// How many times `lock` retries a held mutex before sleeping on it.
const LOCK_SPINS: u32 = 100;

/// How many times a getter re-reads the producers' cursor before going to sleep. Sleeping
/// means a futex wait on our side and a futex wake on the producer's, a few microseconds each;
/// a short spin lets a consumer that is only slightly ahead pick the next item up directly.
const SPIN_BEFORE_SLEEP: u32 = 200;

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

/// The shared header in front of the ring bytes.
#[repr(C)]
struct RingHeader {
    mutex: RawMutex,
    not_empty: RawCondvar,
    not_full: RawCondvar,
    all_done: RawCondvar,
    /// Producers' [`Cursor`], packed.
    produced: AtomicU64,
    /// Consumers' [`Cursor`], packed.
    consumed: AtomicU64,
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
    /// The mutex or a condition variable failed.
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

/// Proof that the calling thread holds the ring's mutex; unlocks on drop.
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

/// The shared ring. Each `Queue` handle holds one through an `Arc`; forked children inherit
/// the mapping, so all handles in all processes see the same bytes.
pub(super) struct Ring {
    region: SharedRegion<RingHeader>,
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
            // thread or process can see yet; the mutex field lives as long as the mapping.
            unsafe { RawMutex::init(addr_of_mut!((*header).mutex), false) }
        };
        // SAFETY: `init` makes the header valid: it initialises the mutex, and every other
        // field (condvars, atomics) is valid as the zeroes the kernel filled the mapping with.
        let region = unsafe { SharedRegion::new(capacity, init) }?;
        Ok(Self {
            region,
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

    fn lock_blocking(&self) -> io::Result<Held<'_>> {
        match self.lock(Deadline::Never) {
            Ok(held) => Ok(held),
            Err(RingFailure::Os(source)) => Err(source),
            Err(RingFailure::WouldBlock | RingFailure::TimedOut | RingFailure::Closed) => {
                Err(lock_error(LockFailure::TimedOut))
            }
        }
    }

    /// Takes the mutex, spinning briefly first: it is only ever held for a copy, and a
    /// contended robust pthread mutex otherwise sleeps in the kernel at once (glibc does not
    /// spin for robust mutexes), which costs both sides a system call.
    fn lock(&self, deadline: Deadline) -> Result<Held<'_>, RingFailure> {
        let mutex = &self.header().mutex;
        let mut result = mutex.try_lock();
        let mut spins = 0;
        while result == Err(LockFailure::WouldBlock) && spins < LOCK_SPINS {
            spins += 1;
            std::hint::spin_loop();
            result = mutex.try_lock();
        }
        if result == Err(LockFailure::WouldBlock) {
            result = match deadline {
                Deadline::Now | Deadline::Never => mutex.lock(),
                Deadline::At(at) => {
                    mutex.lock_timeout(at.saturating_duration_since(Instant::now()))
                }
            };
        }
        match result {
            // A previous holder that died cannot have left the ring half-updated (see the
            // module docs), so its death needs no repair here.
            Ok(Acquired::Clean | Acquired::OwnerDied { .. }) => Ok(Held { mutex }),
            Err(LockFailure::TimedOut) => Err(RingFailure::TimedOut),
            Err(other) => Err(RingFailure::Os(lock_error(other))),
        }
    }

    /// Sleeps on `condvar` (releasing the mutex meanwhile) unless `deadline` says not to wait
    /// any more. Wakes spuriously at times: callers re-check their condition.
    fn wait<'a>(
        &'a self,
        held: Held<'a>,
        condvar: &RawCondvar,
        deadline: Deadline,
    ) -> Result<Held<'a>, RingFailure> {
        let timeout = match deadline {
            Deadline::Now => return Err(RingFailure::WouldBlock),
            Deadline::Never => None,
            Deadline::At(at) => {
                let left = at.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(RingFailure::TimedOut);
                }
                Some(left)
            }
        };
        let mutex = held.mutex;
        // The condvar releases and re-takes the mutex itself; on failure it is not held.
        std::mem::forget(held);
        // SAFETY: the forgotten `Held` proved this thread holds `mutex`.
        let result = unsafe {
            match timeout {
                None => condvar.wait(mutex).map(drop),
                Some(left) => condvar.wait_timeout(mutex, left).map(drop),
            }
        };
        match result {
            Ok(()) => Ok(Held { mutex }),
            Err(failure) => Err(RingFailure::Os(lock_error(failure))),
        }
    }

    /// Copies `bytes` into the ring at `offset`, wrapping around the end.
    fn write_at(&self, _held: &Held<'_>, offset: u32, bytes: &[u8]) {
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
        // `capacity` tail bytes of the mapping. [2] The caller checked these bytes are free space, which no
        // other process reads, and holds the mutex (`_held`), so no other process writes them.
        // [3] `bytes` is our own memory, not in the ring: no overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(offset), first);
            std::ptr::copy_nonoverlapping(bytes.as_ptr().add(first), base, bytes.len() - first);
        }
    }

    /// The `len` ring bytes starting at `offset`, as the part up to the ring's end and the
    /// part wrapped around to its start (empty when the bytes do not wrap).
    fn bytes_at<'h>(&self, _held: &'h Held<'_>, offset: u32, len: usize) -> (&'h [u8], &'h [u8]) {
        let capacity = self.capacity();
        // As in `write_at`: the bounds below hold whatever the shared cursors say.
        let offset = offset as usize % capacity;
        let len = len.min(capacity);
        let first = len.min(capacity - offset);
        let base = self.region.tail_ptr();
        // SAFETY: [1] bounds as in `write_at`. [2] The caller asks only for bytes of a
        // committed record; those are written by no one until a consumer releases them, and
        // releasing needs the mutex, which we hold for as long as the slices live (`_held`).
        // [3] The mapping outlives `_held`, which borrows `self`.
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
        let mut held = self.lock(deadline)?;
        loop {
            if header.shut_down.load(Ordering::Relaxed) != 0 {
                return Err(RingFailure::Closed);
            }
            let produced = Cursor::unpack(header.produced.load(Ordering::Relaxed));
            let consumed = Cursor::unpack(header.consumed.load(Ordering::Relaxed));
            let items = produced.count.wrapping_sub(consumed.count);
            if u64::from(items) < self.maxsize
                && self.free_bytes(produced, consumed) >= record.len()
            {
                let mut offset = produced.offset;
                if items == 0 && offset != 0 {
                    // Rewind an empty ring to its start, so a queue its consumers keep up with
                    // reuses the same few (cached, resident) pages instead of sweeping the
                    // whole ring. The consumers' cursor moves first: with equal counts the
                    // ring is empty whatever the offsets, so dying between the two stores
                    // leaves it consistent.
                    let rewound = Cursor {
                        offset: 0,
                        count: consumed.count,
                    };
                    header.consumed.store(rewound.pack(), Ordering::Release);
                    offset = 0;
                }
                self.write_at(&held, offset, record);
                // The commit: one store publishes the whole record (see the module docs).
                let next = Cursor {
                    offset: ((offset as usize + record.len()) % self.capacity()) as u32,
                    count: produced.count.wrapping_add(1),
                };
                header.produced.store(next.pack(), Ordering::Release);
                drop(held);
                header.not_empty.notify_one();
                return Ok(());
            }
            held = self.wait(held, &header.not_full, deadline)?;
        }
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
        let mut held = self.lock(deadline)?;
        let mut spun = false;
        loop {
            let consumed = Cursor::unpack(header.consumed.load(Ordering::Relaxed));
            let produced = Cursor::unpack(header.produced.load(Ordering::Relaxed));
            if produced.count != consumed.count {
                self.take_record(&held, produced, consumed, out);
                drop(held);
                header.not_full.notify_one();
                return Ok(());
            }
            if header.shut_down.load(Ordering::Relaxed) != 0 {
                return Err(RingFailure::Closed);
            }
            if !spun && !matches!(deadline, Deadline::Now) {
                spun = true;
                drop(held);
                self.spin_while_empty(produced.count);
                held = self.lock(deadline)?;
                continue;
            }
            held = self.wait(held, &header.not_empty, deadline)?;
        }
    }

    /// Copies the oldest record's payload into `out` and releases its space.
    fn take_record(&self, held: &Held<'_>, produced: Cursor, consumed: Cursor, out: &mut Vec<u8>) {
        let capacity = self.capacity();
        let mut prefix = [0u8; RECORD_HEADER];
        let (head, tail) = self.bytes_at(held, consumed.offset, RECORD_HEADER);
        prefix[..head.len()].copy_from_slice(head);
        prefix[head.len()..].copy_from_slice(tail);
        let used = capacity - self.free_bytes(produced, consumed);
        // Only a committed record can be here, so its length fits in the used bytes; the
        // clamp keeps even a corrupted length inside the ring (its decode then fails).
        let len = (u32::from_le_bytes(prefix) as usize).min(used.saturating_sub(RECORD_HEADER));
        let payload_offset = ((consumed.offset as usize + RECORD_HEADER) % capacity) as u32;
        let (head, tail) = self.bytes_at(held, payload_offset, len);
        out.reserve(len);
        out.extend_from_slice(head);
        out.extend_from_slice(tail);
        // The commit: one store releases the whole record's space.
        let next = Cursor {
            offset: ((consumed.offset as usize + RECORD_HEADER + len) % capacity) as u32,
            count: consumed.count.wrapping_add(1),
        };
        self.header().consumed.store(next.pack(), Ordering::Release);
    }

    /// Re-reads the producers' cursor, without the lock, until it moves away from `count`,
    /// the queue is shut down, or the spin budget is spent.
    fn spin_while_empty(&self, count: u32) {
        let header = self.header();
        for _ in 0..SPIN_BEFORE_SLEEP {
            if Cursor::unpack(header.produced.load(Ordering::Acquire)).count != count
                || header.shut_down.load(Ordering::Acquire) != 0
            {
                return;
            }
            std::hint::spin_loop();
        }
    }

    /// Marks the queue shut down and wakes every waiter.
    pub(super) fn shutdown(&self) {
        let header = self.header();
        header.shut_down.store(1, Ordering::Release);
        // Passing through the mutex orders the flag before any waiter's next check: a waiter
        // that checked the flag before we got the mutex has already registered for the
        // notification below. If the lock fails the mutex is unusable for every waiter too;
        // the notifications still go out.
        drop(self.lock_blocking());
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
        let held = self.lock_blocking().map_err(TaskDoneFailure::Os)?;
        let produced = Cursor::unpack(header.produced.load(Ordering::Relaxed));
        let done = header.tasks_done.load(Ordering::Relaxed);
        if done == produced.count {
            return Err(TaskDoneFailure::TooManyCalls);
        }
        let done = done.wrapping_add(1);
        header.tasks_done.store(done, Ordering::Release);
        drop(held);
        if done == produced.count {
            header.all_done.notify_all();
        }
        Ok(())
    }

    /// Waits until every item put so far has been marked done.
    pub(super) fn join(&self, deadline: Deadline) -> Result<(), RingFailure> {
        let header = self.header();
        let mut held = self.lock(deadline)?;
        loop {
            let produced = Cursor::unpack(header.produced.load(Ordering::Relaxed));
            if header.tasks_done.load(Ordering::Relaxed) == produced.count {
                return Ok(());
            }
            held = self.wait(held, &header.all_done, deadline)?;
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
                let Ok(held) = ring.lock(Deadline::Never) else {
                    // SAFETY: ends the child at once; it owns nothing that needs cleanup.
                    unsafe { libc::_exit(3) }
                };
                let produced = Cursor::unpack(ring.header().produced.load(Ordering::Relaxed));
                ring.write_at(&held, produced.offset, &record(b"half-written")[..9]);
                std::mem::forget(held);
                // SAFETY: as above; exiting with the mutex held is the point of the test.
                unsafe { libc::_exit(0) }
            }
        });
        writer.start().unwrap();
        writer.join_timeout(Duration::from_secs(10)).unwrap();

        let mutex = &ring.header().mutex;
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
    fn an_empty_ring_is_rewound_to_its_start() {
        let ring = Ring::new(MIN_CAPACITY, None).unwrap();
        let mut out = Vec::new();
        ring.push(&record(b"one"), Deadline::Now).unwrap();
        ring.push(&record(b"two"), Deadline::Now).unwrap();
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        // Not empty: the next record goes after "two".
        ring.push(&record(b"three"), Deadline::Now).unwrap();
        let produced = Cursor::unpack(ring.header().produced.load(Ordering::Relaxed));
        assert_eq!(produced.offset as usize, 3 * RECORD_HEADER + 11);
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        assert_eq!(out, b"three");
        // Empty: the next record starts the ring again.
        ring.push(&record(b"four"), Deadline::Now).unwrap();
        let consumed = Cursor::unpack(ring.header().consumed.load(Ordering::Relaxed));
        let produced = Cursor::unpack(ring.header().produced.load(Ordering::Relaxed));
        assert_eq!(
            (consumed.offset, produced.offset),
            (0, RECORD_HEADER as u32 + 4)
        );
        ring.pop_into(&mut out, Deadline::Now).unwrap();
        assert_eq!(out, b"four");
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
