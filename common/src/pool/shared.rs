//! What the pool's handle (any user thread) and its result thread share: the inbox of
//! submitted tasks, the pool's lifecycle, and the wake-up pipe.

use std::cell::Cell;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use nix::errno::Errno;
use nix::fcntl::OFlag;

use super::scope::ScopeToken;
use crate::PoolError;

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The id of the pool whose result thread this is (0: not a result thread).
    static RESULT_THREAD_OF: Cell<u64> = const { Cell::new(0) };
}

/// True on the result thread of pool `pool_id`, where callbacks run.
pub(crate) fn on_result_thread_of(pool_id: u64) -> bool {
    RESULT_THREAD_OF.with(Cell::get) == pool_id
}

/// Marks the calling thread as `pool_id`'s result thread.
pub(crate) fn become_result_thread(pool_id: u64) {
    RESULT_THREAD_OF.with(|id| id.set(pool_id));
}

/// What happens with an outcome: the bytes of a result (or an error) go in.
pub(crate) type Outcome<'a> = Result<&'a [u8], PoolError>;

/// How a finished task delivers its outcome.
pub(crate) enum Completion {
    /// A task of its own (`apply_async`): decodes the result, fills the slot, runs callbacks.
    Single(Box<dyn for<'a> FnOnce(Outcome<'a>) + Send>),
    /// Chunk `index` of a multi-chunk job (`map`, `imap`...).
    Part {
        job: Arc<dyn PartSink>,
        index: usize,
    },
}

/// A multi-chunk job's collector.
pub(crate) trait PartSink: Send + Sync {
    /// Chunk `index` finished. Called exactly once per chunk, on the result thread.
    fn complete(&self, index: usize, outcome: Outcome<'_>);
}

/// A task on its way: its frame, ready to send (again, if its first worker dies before
/// starting it), and what to do with its outcome.
pub(crate) struct Task {
    pub(crate) seq: u64,
    /// The whole frame, length prefix included.
    pub(crate) frame: Vec<u8>,
    /// Declared before `scope` on purpose: fields drop in order, so a scoped task's
    /// completion (which may borrow from the scope) is gone before the scope hears of it.
    pub(crate) completion: Completion,
    pub(crate) scope: Option<ScopeToken>,
}

impl Task {
    /// Delivers the outcome; a panic in a callback is caught and returned.
    pub(crate) fn complete(
        self,
        outcome: Outcome<'_>,
    ) -> Result<(), Box<dyn std::any::Any + Send>> {
        let Task {
            completion, scope, ..
        } = self;
        let delivered =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match completion {
                Completion::Single(deliver) => deliver(outcome),
                Completion::Part { job, index } => job.complete(index, outcome),
            }));
        match (delivered, scope) {
            (Ok(()), _) => Ok(()),
            (Err(payload), Some(scope)) => {
                scope.record_panic(payload.as_ref());
                Ok(())
            }
            (Err(payload), None) => Err(payload),
        }
    }
}

/// Where the pool is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// Accepting tasks.
    Running,
    /// `close` was called: finishing what was submitted, then shutting down.
    Closed,
    /// `terminate` was called: failing what is left, killing the workers.
    Terminating,
    /// The result thread has finished; no process of the pool remains.
    Finished,
}

pub(crate) struct Inbox {
    pub(crate) tasks: Vec<Task>,
    pub(crate) lifecycle: Lifecycle,
    /// The first callback panic outside a scope, reported by `join`.
    pub(crate) callback_panic: Option<String>,
    /// Why the pool stopped on its own (its fork server died), for later submissions.
    pub(crate) broken: Option<PoolError>,
    pub(crate) worker_pids: Vec<u32>,
    /// `terminate` was called (so a finished pool reports `Terminated`, not `Closed`).
    pub(crate) terminated: bool,
}

pub(crate) struct Shared {
    pub(crate) id: u64,
    pub(crate) owner_pid: u32,
    inbox: Mutex<Inbox>,
    /// Notified when the lifecycle reaches `Finished`.
    pub(crate) finished: Condvar,
    /// The result thread polls `wake_read`; submitters write a byte to `wake_write` when it
    /// sleeps.
    pub(crate) wake_read: OwnedFd,
    wake_write: OwnedFd,
    /// Set by the result thread just before it sleeps in `poll`; see [`Shared::wake`].
    asleep: AtomicBool,
    next_seq: AtomicU64,
}

impl Shared {
    pub(crate) fn new() -> std::io::Result<Self> {
        let (wake_read, wake_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        Ok(Self {
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            owner_pid: std::process::id(),
            inbox: Mutex::new(Inbox {
                tasks: Vec::new(),
                lifecycle: Lifecycle::Running,
                callback_panic: None,
                broken: None,
                worker_pids: Vec::new(),
                terminated: false,
            }),
            finished: Condvar::new(),
            wake_read,
            wake_write,
            asleep: AtomicBool::new(false),
            next_seq: AtomicU64::new(1),
        })
    }

    pub(crate) fn inbox(&self) -> MutexGuard<'_, Inbox> {
        // Every critical section leaves the inbox consistent, so poison carries no meaning.
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh task number (never 0, never reused).
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Queues `tasks` unless the pool no longer accepts them.
    pub(crate) fn submit(&self, tasks: Vec<Task>) -> Result<(), PoolError> {
        if std::process::id() != self.owner_pid {
            return Err(PoolError::NotOwner {
                owner: self.owner_pid,
            });
        }
        let mut inbox = self.inbox();
        match (&inbox.lifecycle, &inbox.broken) {
            (_, Some(error)) => return Err(error.clone()),
            (Lifecycle::Running, None) => {}
            (Lifecycle::Closed | Lifecycle::Finished, None) if !inbox.terminated => {
                return Err(PoolError::Closed);
            }
            (Lifecycle::Closed | Lifecycle::Terminating | Lifecycle::Finished, None) => {
                return Err(PoolError::Terminated);
            }
        }
        if inbox.tasks.is_empty() {
            inbox.tasks = tasks;
        } else {
            inbox.tasks.extend(tasks);
        }
        drop(inbox);
        self.wake();
        Ok(())
    }

    /// Changes the lifecycle (never backwards) and wakes the result thread.
    pub(crate) fn advance(&self, to: Lifecycle) {
        let mut inbox = self.inbox();
        let rank = |l: &Lifecycle| match l {
            Lifecycle::Running => 0,
            Lifecycle::Closed => 1,
            Lifecycle::Terminating => 2,
            Lifecycle::Finished => 3,
        };
        if to == Lifecycle::Terminating && inbox.lifecycle != Lifecycle::Finished {
            inbox.terminated = true;
        }
        if rank(&to) > rank(&inbox.lifecycle) {
            inbox.lifecycle = to;
        }
        drop(inbox);
        self.wake();
    }

    /// Wakes the result thread if it sleeps.
    ///
    /// ## Memory ordering
    /// The result thread stores `asleep = true` (SeqCst) and then looks at the inbox before
    /// it polls; a submitter changes the inbox and then swaps `asleep` (SeqCst). Either the
    /// result thread sees the new task, or the submitter sees `asleep` and writes the byte
    /// that ends the poll. With both SeqCst, one of the two must happen.
    pub(crate) fn wake(&self) {
        if self.asleep.swap(false, Ordering::SeqCst) {
            loop {
                match nix::unistd::write(&self.wake_write, &[1]) {
                    // A full pipe already holds a wake-up.
                    Ok(_) | Err(Errno::EAGAIN) => break,
                    Err(Errno::EINTR) => continue,
                    // The result thread reads the pipe until it exits; nothing else can fail.
                    Err(_) => break,
                }
            }
        }
    }

    /// The result thread is about to sleep, having last seen `seen`; false if it must not
    /// (tasks arrived, or the lifecycle moved on since).
    pub(crate) fn prepare_sleep(&self, seen: &Lifecycle) -> bool {
        self.asleep.store(true, Ordering::SeqCst);
        let inbox = self.inbox();
        let idle = inbox.tasks.is_empty() && inbox.lifecycle == *seen;
        drop(inbox);
        if !idle {
            self.asleep.store(false, Ordering::SeqCst);
        }
        idle
    }

    /// After the poll: awake again; drains the wake-up pipe if it was `readable`.
    pub(crate) fn woke(&self, readable: bool) {
        self.asleep.store(false, Ordering::SeqCst);
        let mut sink = [0u8; 64];
        while readable && let Ok(n) = nix::unistd::read(&self.wake_read, &mut sink) {
            if n < sink.len() {
                break;
            }
        }
    }

    pub(crate) fn wake_fd(&self) -> i32 {
        self.wake_read.as_raw_fd()
    }
}

/// Marks the pool finished when the result thread ends, however it ends: should it ever
/// panic (a bug), `join` and `drop` still return instead of waiting forever, and tasks
/// still queued fail with [`PoolError::Lost`] (their slots' writers are dropped).
pub(crate) struct FinishOnExit(pub(crate) Arc<Shared>);

impl Drop for FinishOnExit {
    fn drop(&mut self) {
        let leftovers = {
            let mut inbox = self.0.inbox();
            inbox.lifecycle = Lifecycle::Finished;
            inbox.worker_pids.clear();
            std::mem::take(&mut inbox.tasks)
        };
        drop(leftovers);
        self.0.finished.notify_all();
    }
}
