//! `JoinableQueue<T>`: a `Queue` that also counts unfinished tasks, like Python's.

use std::ops::Deref;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::errors::{QueueCreateError, QueueJoinError, TaskDoneError};

use super::builder::QueueBuilder;
use super::plain_queue::Queue;
use super::ring::{Deadline, RingFailure, TaskDoneFailure};

/// A [`Queue`] whose consumers report each item finished with
/// [`task_done`](Self::task_done), so a producer can [`join`](Self::join) until all work is
/// done, like Python's `multiprocessing.JoinableQueue`.
///
/// Every item put counts as one unfinished task until some process calls `task_done` for it.
/// Everything else is a [`Queue`]'s: a `JoinableQueue<T>` dereferences to `Queue<T>`, so
/// `put`, `get`, `qsize`, `shutdown`... work on it directly.
///
/// Python's documentation shows workers that take items, work on them and mark each done,
/// while the main process waits on `join()`. Its workers are daemons left running forever;
/// here [`shutdown`](Queue::shutdown) ends them once the work is done.
///
/// ```
/// use multiprocessing as mp;
///
/// fn worker(q: mp::JoinableQueue<u32>) {
///     while let Ok(item) = q.get() {
///         println!("Working on {item}");
///         println!("Finished {item}");
///         q.task_done().expect("one task_done per item taken");
///     }
/// }
///
/// let q = mp::JoinableQueue::new()?;
/// let mut workers = Vec::new();
/// for _ in 0..2 {
///     let q = q.clone();
///     let mut p = mp::Process::new(move || worker(q));
///     p.start()?;
///     workers.push(p);
/// }
///
/// // Send thirty task requests to the workers.
/// for item in 0..30 {
///     q.put(item)?;
/// }
///
/// // Block until all tasks are done.
/// q.join()?;
/// println!("All work completed");
///
/// q.shutdown(); // the workers' next get returns Closed, and they return
/// for p in &mut workers {
///     p.join()?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JoinableQueue<T> {
    queue: Queue<T>,
}

impl<T> Clone for JoinableQueue<T> {
    /// Another handle to the same queue; it starts closed if this one is.
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<T> std::fmt::Debug for JoinableQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("JoinableQueue").field(&self.queue).finish()
    }
}

impl<T> Deref for JoinableQueue<T> {
    type Target = Queue<T>;

    fn deref(&self) -> &Queue<T> {
        &self.queue
    }
}

impl<T: Serialize + DeserializeOwned> JoinableQueue<T> {
    /// A joinable queue limited only by its byte capacity, like `mp.JoinableQueue()`.
    pub fn new() -> Result<Self, QueueCreateError> {
        Self::builder().build()
    }

    /// A joinable queue of at most `maxsize` items (at least 1).
    pub fn bounded(maxsize: usize) -> Result<Self, QueueCreateError> {
        Self::builder().maxsize(maxsize).build()
    }

    /// Settings beyond `maxsize`: the ring's byte capacity.
    pub fn builder() -> QueueBuilder<Self> {
        QueueBuilder::default()
    }

    /// Marks one item taken from the queue as finished. Called more times than items were
    /// put, it fails with [`TaskDoneError::TooManyCalls`] (Python's `ValueError`).
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.queue
            .ring()
            .task_done()
            .map_err(|failure| match failure {
                TaskDoneFailure::TooManyCalls => TaskDoneError::TooManyCalls,
                TaskDoneFailure::Os(source) => TaskDoneError::Os { source },
            })
    }

    /// Waits until every item put so far, by any process, has been marked done.
    ///
    /// A [`shutdown`](Queue::shutdown) does not end the wait by itself: the items still
    /// queued are handed out to getters as usual, and count until they are marked done.
    pub fn join(&self) -> Result<(), QueueJoinError> {
        self.join_until(Deadline::Never, Duration::MAX)
    }

    /// As [`join`](Self::join), giving up after `timeout` with [`QueueJoinError::Timeout`].
    pub fn join_timeout(&self, timeout: Duration) -> Result<(), QueueJoinError> {
        self.join_until(Deadline::after(timeout), timeout)
    }

    /// Items put but not yet marked done (approximate, like [`Queue::qsize`]).
    pub fn unfinished_tasks(&self) -> usize {
        self.queue.ring().unfinished()
    }

    fn join_until(&self, deadline: Deadline, timeout: Duration) -> Result<(), QueueJoinError> {
        match self.queue.ring().join(deadline) {
            Ok(()) => Ok(()),
            Err(RingFailure::TimedOut | RingFailure::WouldBlock | RingFailure::Closed) => {
                Err(QueueJoinError::Timeout {
                    unfinished: self.unfinished_tasks(),
                    waited: timeout,
                })
            }
            Err(RingFailure::Os(source)) => Err(QueueJoinError::Os { source }),
        }
    }
}

impl<T: Serialize + DeserializeOwned> QueueBuilder<JoinableQueue<T>> {
    /// Creates the joinable queue.
    pub fn build(self) -> Result<JoinableQueue<T>, QueueCreateError> {
        self.build_ring().map(|ring| JoinableQueue {
            queue: Queue::from_ring(ring),
        })
    }
}
