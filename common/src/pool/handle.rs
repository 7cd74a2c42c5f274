//! `Pool`: the handle users hold, Python's `multiprocessing.Pool`.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::async_result::{AsyncResult, SlotWriter, result_slot};
use super::chunked::{Imap, ImapUnordered, MapSink, ordered, unordered};
use super::dispatcher::Dispatcher;
use super::scope::ScopeToken;
use super::service::panic_message;
use super::shared::{
    Completion, FinishOnExit, Lifecycle, Outcome, PartSink, Shared, Task, on_result_thread_of,
};
use super::task::{
    Trampoline, assert_captures_nothing, run_chunk, run_one, run_star_chunk, trampoline_address,
};
use super::wire::{KIND_TASK, finish_frame, start_frame};
use crate::codec::{self, MAX_MESSAGE_BYTES};
use crate::{PoolError, cpu_count};

/// What a single task does with its outcome on the result thread.
pub(crate) type Deliver<'c> = Box<dyn for<'a> FnOnce(Outcome<'a>) + Send + 'c>;

fn decode<R: DeserializeOwned>(outcome: Outcome<'_>) -> Result<R, PoolError> {
    outcome
        .and_then(|bytes| codec::decode(bytes).map_err(|source| PoolError::ResultDecode { source }))
}

/// Decodes the result into the task's `AsyncResult`.
pub(crate) fn deliver_to_slot<R: DeserializeOwned + Send + 'static>(
    writer: SlotWriter<R>,
) -> Deliver<'static> {
    Box::new(move |outcome| writer.set(decode(outcome)))
}

/// Runs `callback` (or `error_callback`) with the outcome, then marks the task's
/// `AsyncResult<()>` done. A panicking callback makes that `AsyncResult` an error and the
/// panic goes on to the result thread, which reports it from `join` (or the scope).
pub(crate) fn deliver_to_callbacks<'c, R, C, E>(
    writer: SlotWriter<()>,
    callback: C,
    error_callback: E,
) -> Deliver<'c>
where
    R: DeserializeOwned,
    C: FnOnce(R) + Send + 'c,
    E: FnOnce(PoolError) + Send + 'c,
{
    Box::new(move |outcome| {
        let (ran, outcome_for_handle) = match decode::<R>(outcome) {
            Ok(value) => (catch_unwind(AssertUnwindSafe(|| callback(value))), Ok(())),
            Err(error) => {
                let for_callback = error.clone();
                (
                    catch_unwind(AssertUnwindSafe(|| error_callback(for_callback))),
                    Err(error),
                )
            }
        };
        match ran {
            Ok(()) => writer.set(outcome_for_handle),
            Err(payload) => {
                writer.set(Err(PoolError::CallbackPanicked {
                    message: panic_message(payload.as_ref()),
                }));
                resume_unwind(payload);
            }
        }
    })
}

/// Encodes one task frame: header, then the argument.
fn task_frame<T: Serialize + ?Sized>(
    seq: u64,
    trampoline: Trampoline,
    arg: &T,
) -> Result<Vec<u8>, PoolError> {
    let mut frame = Vec::with_capacity(64);
    let start = start_frame(&mut frame);
    frame.push(KIND_TASK);
    frame.extend_from_slice(&seq.to_le_bytes());
    frame.extend_from_slice(&trampoline_address(trampoline).to_le_bytes());
    let mut frame =
        codec::encode_into(arg, frame).map_err(|source| PoolError::ArgumentEncode { source })?;
    finish_frame(&mut frame, start).map_err(|bytes| PoolError::MessageTooLarge {
        bytes,
        limit: MAX_MESSAGE_BYTES,
    })?;
    Ok(frame)
}

/// Python's default `map` chunksize: about four chunks per worker.
fn default_chunksize(items: usize, processes: usize) -> usize {
    items.div_ceil(processes * 4).max(1)
}

/// A pool of worker processes, Python's `multiprocessing.Pool`.
///
/// Tasks are functions (or closures that capture nothing) taking one serde argument and
/// returning a serde result; they run in worker processes forked from this program, so
/// they see the program's code and its state as it was at `Pool::new`.
///
/// The seed lesson's first example, `pool.map(sum_all_values, range(...))`:
///
/// ```
/// use multiprocessing as mp;
///
/// fn sum_all_values(x: u64) -> u64 {
///     let mut total = 0;
///     for i in 1..=x {
///         total += i;
///     }
///     total
/// }
///
/// let pool = mp::Pool::new(2)?;
/// let results = pool.map(sum_all_values, 10_000..10_000 + 100)?;
/// assert_eq!(results[0], 50_005_000);
/// assert_eq!(results.len(), 100);
/// # Ok::<(), mp::PoolError>(())
/// ```
///
/// `apply_async` with a callback that collects results, then `close` and `join` (the seed's
/// fourth example; see [`Pool::scope`] for callbacks that borrow instead of sharing an
/// `Arc`):
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use multiprocessing as mp;
///
/// fn sum_all_values(x: u64) -> u64 {
///     (1..=x).sum()
/// }
///
/// let result_list = Arc::new(Mutex::new(Vec::new()));
/// let pool = mp::Pool::new(2)?;
/// for i in 10_000..10_000 + 10 {
///     let result_list = Arc::clone(&result_list);
///     pool.apply_async_callback(sum_all_values, i, move |result| {
///         result_list.lock().unwrap().push(result)
///     })?;
/// }
/// // Do something while the processes are doing their work
/// pool.close();
/// pool.join()?;
/// assert_eq!(result_list.lock().unwrap().len(), 10);
/// # Ok::<(), mp::PoolError>(())
/// ```
///
/// ## How it runs
///
/// `Pool::new` forks a single-threaded fork server, which forks the workers (and later
/// their replacements): no thread of this process ever forks, so no worker inherits a lock
/// some thread held. A result thread in this process sends tasks to the workers, a few ahead
/// of the one each is running, reads their results, and runs the callbacks.
///
/// **Callbacks** (`callback`, `error_callback`) run in this process, on the pool's result
/// thread (named `pool-results`), as in Python: one at a time, in the order tasks finish, each task's exactly once
/// (its `callback` on success, its `error_callback` on any failure, including a dead worker
/// or `terminate`). A callback should be quick: while it runs no other result is handled.
/// Blocking on the same pool from a callback (`get`, `apply`, `map`, `join`) would wait for
/// itself; those calls return [`PoolError::WouldDeadlock`] instead.
///
/// **Failures are per task and never hang**: a task that panics fails with
/// [`PoolError::TaskPanicked`] and its worker carries on; a worker that dies (killed,
/// `std::process::exit`, `abort`) fails only the task it was running, with
/// [`PoolError::WorkerDied`] naming its pid and signal or exit code, and is replaced; tasks
/// queued behind it go to other workers. (CPython's `Pool` hangs here, and
/// `ProcessPoolExecutor` gives up on the whole pool.)
///
/// **Shutting down**: `close` then `join` finishes the submitted work; `terminate` kills the
/// workers at once and fails what is left with [`PoolError::Terminated`]. Dropping a pool
/// terminates it, as leaving Python's `with Pool() as pool:` block does. After either, no
/// process of the pool remains.
///
/// A pool belongs to the process that created it: used from a forked child it returns
/// [`PoolError::NotOwner`].
pub struct Pool {
    shared: Arc<Shared>,
    processes: usize,
    fork_server_pid: u32,
    result_thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("processes", &self.processes)
            .field("fork_server_pid", &self.fork_server_pid)
            .field("worker_pids", &self.worker_pids())
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool of `processes` workers, started before this returns.
    ///
    /// Errors: [`PoolError::NoWorkers`] for 0; [`PoolError::Spawn`] when the processes
    /// cannot be created.
    pub fn new(processes: usize) -> Result<Self, PoolError> {
        if processes == 0 {
            return Err(PoolError::NoWorkers);
        }
        let spawn_error = |source| PoolError::Spawn {
            source: Arc::new(source),
        };
        let shared = Arc::new(Shared::new().map_err(spawn_error)?);
        // Forks the fork server: this must come before the pool's thread exists.
        let dispatcher = Dispatcher::start(Arc::clone(&shared), processes)?;
        let fork_server_pid = dispatcher.fork_server_pid();
        let finish = FinishOnExit(Arc::clone(&shared));
        let result_thread = std::thread::Builder::new()
            .name("pool-results".to_owned())
            .spawn(move || {
                // Declared first, dropped last: after `run` has dropped the dispatcher (and
                // reaped the fork server), even if it unwinds.
                let _finish = finish;
                dispatcher.run();
            })
            .map_err(spawn_error)?;
        Ok(Self {
            shared,
            processes,
            fork_server_pid,
            result_thread: Mutex::new(Some(result_thread)),
        })
    }

    /// A pool with one worker per available CPU, as Python's `Pool()`.
    pub fn with_cpus() -> Result<Self, PoolError> {
        Self::new(Self::default_size())
    }

    /// The number of CPUs this process may use ([`cpu_count`]): the default pool size.
    pub fn default_size() -> usize {
        cpu_count()
    }

    /// The number of worker processes.
    pub fn processes(&self) -> usize {
        self.processes
    }

    /// The pids of the workers alive now (a replaced worker's successor has a new pid).
    pub fn worker_pids(&self) -> Vec<u32> {
        self.shared.inbox().worker_pids.clone()
    }

    /// The pid of the pool's fork server, the workers' parent.
    pub fn fork_server_pid(&self) -> u32 {
        self.fork_server_pid
    }

    pub(crate) fn id(&self) -> u64 {
        self.shared.id
    }

    /// Runs `f(arg)` in a worker and waits for the result, as Python's `apply`.
    pub fn apply<F, A, R>(&self, f: F, arg: A) -> Result<R, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.apply_async(f, arg)?.get()
    }

    /// Starts `f(arg)` in a worker and returns at once with an [`AsyncResult`].
    ///
    /// The argument is serialised here, in the calling thread. Errors:
    /// [`PoolError::Closed`] after `close`, [`PoolError::Terminated`] after `terminate`,
    /// [`PoolError::ArgumentEncode`] when `arg` cannot be serialised.
    pub fn apply_async<F, A, R>(&self, f: F, arg: A) -> Result<AsyncResult<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let (writer, handle) = result_slot(self.id());
        self.submit_one(f, arg, deliver_to_slot(writer), None)?;
        Ok(handle)
    }

    /// `apply_async(f, (arg,), callback=callback)`: `callback` gets the result, in this
    /// process, on the pool's result thread (see the type's docs). A failed task calls no
    /// callback; its error is in the returned handle.
    ///
    /// The seed's fifth example, adding jobs while others run:
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use multiprocessing as mp;
    ///
    /// fn sum_all_values(x: u64) -> u64 {
    ///     (1..=x).sum()
    /// }
    ///
    /// let result_list = Arc::new(Mutex::new(Vec::new()));
    /// let log_result = {
    ///     let result_list = Arc::clone(&result_list);
    ///     move |result: u64| result_list.lock().unwrap().push(result)
    /// };
    /// let pool = mp::Pool::new(2)?;
    /// pool.apply_async_callback(sum_all_values, 100_000, log_result.clone())?;
    /// std::thread::sleep(Duration::from_millis(10)); // Do something
    /// pool.apply_async_callback(sum_all_values, 100_001, log_result.clone())?;
    /// std::thread::sleep(Duration::from_millis(10)); // Do something
    /// pool.apply_async_callback(sum_all_values, 100_002, log_result)?;
    /// pool.close();
    /// pool.join()?;
    /// assert_eq!(result_list.lock().unwrap().len(), 3);
    /// # Ok::<(), mp::PoolError>(())
    /// ```
    pub fn apply_async_callback<F, A, R, C>(
        &self,
        f: F,
        arg: A,
        callback: C,
    ) -> Result<AsyncResult<()>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        C: FnOnce(R) + Send + 'static,
    {
        self.apply_async_callbacks(f, arg, callback, |_| {})
    }

    /// `apply_async(f, (arg,), callback=..., error_callback=...)`: exactly one of the two
    /// runs for the task, on the pool's result thread. The returned handle is done once
    /// the callback has run: `Ok(())`, or the task's error (or
    /// [`PoolError::CallbackPanicked`]).
    pub fn apply_async_callbacks<F, A, R, C, E>(
        &self,
        f: F,
        arg: A,
        callback: C,
        error_callback: E,
    ) -> Result<AsyncResult<()>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        C: FnOnce(R) + Send + 'static,
        E: FnOnce(PoolError) + Send + 'static,
    {
        let (writer, handle) = result_slot(self.id());
        self.submit_one(
            f,
            arg,
            deliver_to_callbacks(writer, callback, error_callback),
            None,
        )?;
        Ok(handle)
    }

    /// Queues one task.
    pub(crate) fn submit_one<F, A, R>(
        &self,
        f: F,
        arg: A,
        deliver: Deliver<'static>,
        scope: Option<ScopeToken>,
    ) -> Result<(), PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        // `f` is zero-sized: its type, carried by the trampoline, is all a worker needs.
        assert_captures_nothing::<F>();
        let _ = f;
        let seq = self.shared.next_seq();
        let frame = task_frame(seq, run_one::<F, A, R>, &arg)?;
        self.shared.submit(vec![Task {
            seq,
            frame,
            completion: Completion::Single(deliver),
            scope,
        }])
    }

    /// One task per chunk of `items`, each delivering to `sink`.
    fn chunk_tasks<T: Serialize>(
        &self,
        trampoline: Trampoline,
        items: &[T],
        chunksize: usize,
        sink: &Arc<dyn PartSink>,
    ) -> Result<Vec<Task>, PoolError> {
        items
            .chunks(chunksize)
            .enumerate()
            .map(|(index, chunk)| {
                let seq = self.shared.next_seq();
                Ok(Task {
                    seq,
                    frame: task_frame(seq, trampoline, chunk)?,
                    completion: Completion::Part {
                        job: Arc::clone(sink),
                        index,
                    },
                    scope: None,
                })
            })
            .collect()
    }

    /// `[f(x) for x in items]` computed by the workers, in order, as Python's `map`. Items
    /// travel in chunks of about `len / (4 * processes)`; the first failing item fails the
    /// whole call.
    pub fn map<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.map_async(f, items)?.get()
    }

    /// [`map`](Self::map) with `chunksize` items per message (Python's `chunksize`).
    pub fn map_chunked<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.map_async_chunked(f, items, chunksize)?.get()
    }

    /// [`map`](Self::map) without waiting: the results arrive in one `AsyncResult`.
    pub fn map_async<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<AsyncResult<Vec<R>>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let items: Vec<A> = items.into_iter().collect();
        let chunksize = default_chunksize(items.len(), self.processes);
        self.map_async_chunked(f, items, chunksize)
    }

    /// [`map_async`](Self::map_async) with `chunksize` items per message.
    pub fn map_async_chunked<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<AsyncResult<Vec<R>>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        assert_captures_nothing::<F>();
        let _ = f;
        self.map_with(run_chunk::<F, A, R>, items, chunksize)
    }

    fn map_with<T: Serialize, R: DeserializeOwned + Send + 'static>(
        &self,
        trampoline: Trampoline,
        items: impl IntoIterator<Item = T>,
        chunksize: usize,
    ) -> Result<AsyncResult<Vec<R>>, PoolError> {
        if chunksize == 0 {
            return Err(PoolError::ZeroChunksize);
        }
        let items: Vec<T> = items.into_iter().collect();
        let (writer, handle) = result_slot(self.id());
        let sink: Arc<dyn PartSink> =
            Arc::new(MapSink::<R>::new(items.len().div_ceil(chunksize), writer));
        let tasks = self.chunk_tasks(trampoline, &items, chunksize, &sink)?;
        self.shared.submit(tasks)?;
        Ok(handle)
    }

    /// `[f(a, b) for (a, b) in items]`, as Python's `starmap`: each item is a pair of
    /// arguments.
    ///
    /// ```
    /// use multiprocessing as mp;
    ///
    /// fn add(x: i64, y: i64) -> i64 {
    ///     x + y
    /// }
    ///
    /// let pool = mp::Pool::new(2)?;
    /// assert_eq!(pool.starmap(add, [(1, 2), (3, 4), (5, 6)])?, [3, 7, 11]);
    /// # Ok::<(), mp::PoolError>(())
    /// ```
    pub fn starmap<F, A, B, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = (A, B)>,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A, B) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        B: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.starmap_async(f, items)?.get()
    }

    /// [`starmap`](Self::starmap) with `chunksize` pairs per message.
    pub fn starmap_chunked<F, A, B, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = (A, B)>,
        chunksize: usize,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A, B) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        B: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        assert_captures_nothing::<F>();
        let _ = f;
        self.map_with(run_star_chunk::<F, A, B, R>, items, chunksize)?
            .get()
    }

    /// [`starmap`](Self::starmap) without waiting.
    pub fn starmap_async<F, A, B, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = (A, B)>,
    ) -> Result<AsyncResult<Vec<R>>, PoolError>
    where
        F: Fn(A, B) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        B: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        assert_captures_nothing::<F>();
        let _ = f;
        let items: Vec<(A, B)> = items.into_iter().collect();
        let chunksize = default_chunksize(items.len(), self.processes);
        self.map_with(run_star_chunk::<F, A, B, R>, items, chunksize)
    }

    /// Results of `f` over `items` in input order, each as soon as it (and those before it)
    /// is ready, as Python's `imap` (chunksize 1). The inputs are all taken and queued now
    /// (as Python's task handler does); the results are what comes lazily.
    ///
    /// ```
    /// use multiprocessing as mp;
    ///
    /// let pool = mp::Pool::new(2)?;
    /// let squares: Vec<u64> = pool.imap(|x: u64| x * x, 0..5)?.collect::<Result<_, _>>()?;
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// # Ok::<(), mp::PoolError>(())
    /// ```
    pub fn imap<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Imap<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.imap_chunked(f, items, 1)
    }

    /// [`imap`](Self::imap) with `chunksize` items per message.
    pub fn imap_chunked<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<Imap<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        assert_captures_nothing::<F>();
        let _ = f;
        if chunksize == 0 {
            return Err(PoolError::ZeroChunksize);
        }
        let items: Vec<A> = items.into_iter().collect();
        let lens = items.chunks(chunksize).map(<[A]>::len).collect();
        let (sink, iter) = ordered::<R>(lens, self.id());
        let sink: Arc<dyn PartSink> = Arc::new(sink);
        let tasks = self.chunk_tasks(run_chunk::<F, A, R>, &items, chunksize, &sink)?;
        self.shared.submit(tasks)?;
        Ok(iter)
    }

    /// Results of `f` over `items` in the order they finish, as Python's `imap_unordered`
    /// (chunksize 1).
    pub fn imap_unordered<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<ImapUnordered<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.imap_unordered_chunked(f, items, 1)
    }

    /// [`imap_unordered`](Self::imap_unordered) with `chunksize` items per message (the
    /// items of one chunk come out together, in their order).
    pub fn imap_unordered_chunked<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<ImapUnordered<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        assert_captures_nothing::<F>();
        let _ = f;
        if chunksize == 0 {
            return Err(PoolError::ZeroChunksize);
        }
        let items: Vec<A> = items.into_iter().collect();
        let lens = items.chunks(chunksize).map(<[A]>::len).collect();
        let (sink, iter) = unordered::<R>(lens, self.id());
        let sink: Arc<dyn PartSink> = Arc::new(sink);
        let tasks = self.chunk_tasks(run_chunk::<F, A, R>, &items, chunksize, &sink)?;
        self.shared.submit(tasks)?;
        Ok(iter)
    }

    /// No more tasks: later submissions fail with [`PoolError::Closed`]. The workers finish
    /// what was submitted, then exit.
    pub fn close(&self) {
        if self.is_owner() {
            self.shared.advance(Lifecycle::Closed);
        }
    }

    /// Kills the workers now, as Python's `terminate`: every unfinished task fails with
    /// [`PoolError::Terminated`] (its `error_callback` runs). Returns once no process of
    /// the pool remains (at once when called from one of its callbacks).
    pub fn terminate(&self) {
        if !self.is_owner() {
            return;
        }
        self.shared.advance(Lifecycle::Terminating);
        if !on_result_thread_of(self.id()) {
            let _ = self.wait_finished(None);
        }
    }

    /// Waits until the pool has finished, after [`close`](Self::close) (all submitted work
    /// done) or [`terminate`](Self::terminate), and every worker and the fork server have
    /// exited and been reaped.
    ///
    /// Errors: [`PoolError::StillRunning`] before `close`/`terminate`;
    /// [`PoolError::CallbackPanicked`] if a callback panicked;
    /// [`PoolError::WouldDeadlock`] from one of the pool's callbacks.
    pub fn join(&self) -> Result<(), PoolError> {
        self.wait_finished(None)
    }

    /// As [`join`](Self::join), giving up after `timeout` with [`PoolError::Timeout`]
    /// (the pool goes on; `join` again later).
    pub fn join_timeout(&self, timeout: Duration) -> Result<(), PoolError> {
        self.wait_finished(Some(timeout))
    }

    fn is_owner(&self) -> bool {
        std::process::id() == self.shared.owner_pid
    }

    fn wait_finished(&self, timeout: Option<Duration>) -> Result<(), PoolError> {
        if !self.is_owner() {
            return Err(PoolError::NotOwner {
                owner: self.shared.owner_pid,
            });
        }
        if on_result_thread_of(self.id()) {
            return Err(PoolError::WouldDeadlock);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut inbox = self.shared.inbox();
        if inbox.lifecycle == Lifecycle::Running {
            return Err(PoolError::StillRunning);
        }
        while inbox.lifecycle != Lifecycle::Finished {
            inbox = match deadline {
                None => self
                    .shared
                    .finished
                    .wait(inbox)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(PoolError::Timeout {
                            waited: timeout.unwrap_or_default(),
                        });
                    }
                    self.shared
                        .finished
                        .wait_timeout(inbox, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        let callback_panic = inbox.callback_panic.clone();
        drop(inbox);
        let thread = self
            .result_thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            // The thread has published `Finished`, its last act: this returns at once. A
            // panic inside it was a bug already reported through every task as `Lost`.
            let _ = thread.join();
        }
        match callback_panic {
            Some(message) => Err(PoolError::CallbackPanicked { message }),
            None => Ok(()),
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A forked child's copy of the pool owns nothing: the processes and the thread
        // belong to the parent.
        if self.is_owner() {
            self.terminate();
            if !on_result_thread_of(self.id()) {
                let _ = self.wait_finished(None);
            }
        }
    }
}
