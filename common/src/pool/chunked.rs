//! Jobs made of many chunks (`map`, `imap`, `imap_unordered`): how chunk outcomes are
//! collected, and the iterators that hand them out.

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::async_result::SlotWriter;
use super::shared::{Outcome, PartSink, on_result_thread_of};
use crate::{PoolError, codec};

fn decode_chunk<R: DeserializeOwned>(outcome: Outcome<'_>) -> Result<Vec<R>, PoolError> {
    outcome.and_then(|bytes| {
        codec::decode::<Vec<R>>(bytes).map_err(|source| PoolError::ResultDecode { source })
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each critical section leaves the state consistent; poison carries no meaning.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Collects the chunks of a `map`/`map_async` into one `Vec`, in order. The first failing
/// chunk fails the whole map at once, as in Python.
pub(crate) struct MapSink<R> {
    state: Mutex<MapState<R>>,
}

struct MapState<R> {
    chunks: Vec<Option<Vec<R>>>,
    remaining: usize,
    writer: Option<SlotWriter<Vec<R>>>,
}

impl<R> MapSink<R> {
    pub(crate) fn new(chunks: usize, writer: SlotWriter<Vec<R>>) -> Self {
        let mut state = MapState {
            chunks: (0..chunks).map(|_| None).collect(),
            remaining: chunks,
            writer: Some(writer),
        };
        if chunks == 0
            && let Some(writer) = state.writer.take()
        {
            writer.set(Ok(Vec::new()));
        }
        Self {
            state: Mutex::new(state),
        }
    }
}

impl<R: DeserializeOwned + Send> PartSink for MapSink<R> {
    fn complete(&self, index: usize, outcome: Outcome<'_>) {
        let chunk = decode_chunk::<R>(outcome);
        let mut state = lock(&self.state);
        match chunk {
            Ok(values) => {
                if let Some(slot) = state.chunks.get_mut(index)
                    && slot.is_none()
                {
                    *slot = Some(values);
                    state.remaining -= 1;
                }
                if state.remaining == 0
                    && let Some(writer) = state.writer.take()
                {
                    let values = std::mem::take(&mut state.chunks)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .collect();
                    writer.set(Ok(values));
                }
            }
            Err(error) => {
                if let Some(writer) = state.writer.take() {
                    writer.set(Err(error));
                }
            }
        }
    }
}

/// State shared by an `imap` iterator and its collector.
struct OrderedState<R> {
    chunks: BTreeMap<usize, Result<Vec<R>, PoolError>>,
    /// The collector is gone (all its chunks delivered, or the pool lost them).
    closed: bool,
}

struct Ordered<R> {
    state: Mutex<OrderedState<R>>,
    arrived: Condvar,
}

/// The result thread's side of an [`Imap`].
pub(crate) struct OrderedSink<R>(Arc<Ordered<R>>);

impl<R: DeserializeOwned + Send> PartSink for OrderedSink<R> {
    fn complete(&self, index: usize, outcome: Outcome<'_>) {
        let chunk = decode_chunk::<R>(outcome);
        lock(&self.0.state).chunks.insert(index, chunk);
        self.0.arrived.notify_all();
    }
}

impl<R> Drop for OrderedSink<R> {
    fn drop(&mut self) {
        lock(&self.0.state).closed = true;
        self.0.arrived.notify_all();
    }
}

/// Results of [`Pool::imap`](crate::Pool::imap) in the order of the inputs, each as soon as
/// it and all before it are done (Python's `IMapIterator`).
///
/// Each item is `Ok(result)` or the error of its task; with a `chunksize` above 1, every
/// item of a failed chunk carries the chunk's error. Blocking `next` waits without limit;
/// [`next_timeout`](Self::next_timeout) gives up with [`PoolError::Timeout`].
pub struct Imap<R> {
    shared: Arc<Ordered<R>>,
    chunk_lens: Vec<usize>,
    next_chunk: usize,
    current: VecDeque<Result<R, PoolError>>,
    pool_id: u64,
}

impl<R> std::fmt::Debug for Imap<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("next_chunk", &self.next_chunk)
            .field("chunks", &self.chunk_lens.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn ordered<R>(chunk_lens: Vec<usize>, pool_id: u64) -> (OrderedSink<R>, Imap<R>) {
    let shared = Arc::new(Ordered {
        state: Mutex::new(OrderedState {
            chunks: BTreeMap::new(),
            closed: false,
        }),
        arrived: Condvar::new(),
    });
    (
        OrderedSink(Arc::clone(&shared)),
        Imap {
            shared,
            chunk_lens,
            next_chunk: 0,
            current: VecDeque::new(),
            pool_id,
        },
    )
}

impl<R> Imap<R> {
    /// The next result, waiting at most `timeout` for it (Python's `next(timeout)`).
    /// `Some(Err(PoolError::Timeout))` leaves the iterator where it was: call again.
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<R, PoolError>> {
        self.next_until(Some(Instant::now() + timeout), timeout)
    }

    fn next_until(
        &mut self,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Option<Result<R, PoolError>> {
        if let Some(item) = self.current.pop_front() {
            return Some(item);
        }
        let len = *self.chunk_lens.get(self.next_chunk)?;
        let mut state = lock(&self.shared.state);
        let chunk = loop {
            if let Some(chunk) = state.chunks.remove(&self.next_chunk) {
                break chunk;
            }
            if state.closed {
                break Err(PoolError::Lost);
            }
            if on_result_thread_of(self.pool_id) {
                return Some(Err(PoolError::WouldDeadlock));
            }
            state = match deadline {
                None => self
                    .shared
                    .arrived
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Some(Err(PoolError::Timeout { waited: timeout }));
                    }
                    self.shared
                        .arrived
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        };
        drop(state);
        self.next_chunk += 1;
        match chunk {
            Ok(values) => self.current.extend(values.into_iter().map(Ok)),
            Err(error) => self
                .current
                .extend(std::iter::repeat_n(error, len).map(Err)),
        }
        self.current.pop_front()
    }
}

impl<R> Iterator for Imap<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_until(None, Duration::ZERO)
    }
}

/// A finished chunk: its index and its values (or its error).
type ChunkOutcome<R> = (usize, Result<Vec<R>, PoolError>);

/// The result thread's side of an [`ImapUnordered`].
pub(crate) struct UnorderedSink<R> {
    sender: Mutex<Sender<ChunkOutcome<R>>>,
}

impl<R: DeserializeOwned + Send> PartSink for UnorderedSink<R> {
    fn complete(&self, index: usize, outcome: Outcome<'_>) {
        let chunk = decode_chunk::<R>(outcome);
        // The iterator may have been dropped: then nobody wants the result.
        let _ = lock(&self.sender).send((index, chunk));
    }
}

/// Results of [`Pool::imap_unordered`](crate::Pool::imap_unordered) in the order they
/// finish. Every input yields exactly one item (its result, or its task's error).
pub struct ImapUnordered<R> {
    receiver: Receiver<ChunkOutcome<R>>,
    chunk_lens: Vec<usize>,
    chunks_left: usize,
    current: VecDeque<Result<R, PoolError>>,
    pool_id: u64,
}

impl<R> std::fmt::Debug for ImapUnordered<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapUnordered")
            .field("chunks_left", &self.chunks_left)
            .finish_non_exhaustive()
    }
}

pub(crate) fn unordered<R>(
    chunk_lens: Vec<usize>,
    pool_id: u64,
) -> (UnorderedSink<R>, ImapUnordered<R>) {
    let (sender, receiver) = std::sync::mpsc::channel();
    (
        UnorderedSink {
            sender: Mutex::new(sender),
        },
        ImapUnordered {
            receiver,
            chunks_left: chunk_lens.len(),
            chunk_lens,
            current: VecDeque::new(),
            pool_id,
        },
    )
}

impl<R> ImapUnordered<R> {
    /// The next result to finish, waiting at most `timeout`.
    /// `Some(Err(PoolError::Timeout))` leaves the iterator where it was: call again.
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<R, PoolError>> {
        self.next_within(Some(timeout))
    }

    fn next_within(&mut self, timeout: Option<Duration>) -> Option<Result<R, PoolError>> {
        if let Some(item) = self.current.pop_front() {
            return Some(item);
        }
        if self.chunks_left == 0 {
            return None;
        }
        let received = match timeout {
            _ if on_result_thread_of(self.pool_id) => match self.receiver.try_recv() {
                Ok(chunk) => Ok(chunk),
                Err(_) => return Some(Err(PoolError::WouldDeadlock)),
            },
            None => self
                .receiver
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(timeout) => self.receiver.recv_timeout(timeout),
        };
        match received {
            Ok((index, chunk)) => {
                self.chunks_left -= 1;
                let len = self.chunk_lens.get(index).copied().unwrap_or(0);
                match chunk {
                    Ok(values) => self.current.extend(values.into_iter().map(Ok)),
                    Err(error) => self
                        .current
                        .extend(std::iter::repeat_n(error, len).map(Err)),
                }
                self.current.pop_front()
            }
            Err(RecvTimeoutError::Timeout) => Some(Err(PoolError::Timeout {
                waited: timeout.unwrap_or_default(),
            })),
            Err(RecvTimeoutError::Disconnected) => {
                // The pool lost the remaining chunks: say so once per missing chunk's item.
                let missing: usize = self.chunks_left;
                self.chunks_left = 0;
                (missing > 0).then_some(Err(PoolError::Lost))
            }
        }
    }
}

impl<R> Iterator for ImapUnordered<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_within(None)
    }
}
