//! # a01-queue: queue workers, tasks in, results out, one sentinel per worker
//!
//! Read `README.md` first: it explains the task, and what the tests check.
//! Then replace every `todo!()` below; each `// TODO:` marks a place where you act.
//! Run the tests with `cargo test -p a01-queue`.

use multiprocessing as mp;
use serde::{Deserialize, Serialize};

/// One unit of work: compute `sum_all_values(x)`. The id tells the results apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The task's id; its result carries the same one.
    pub id: u32,
    /// The argument of [`sum_all_values`].
    pub x: u64,
}

/// What a worker computed for one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskResult {
    /// The id of the task this answers.
    pub id: u32,
    /// `sum_all_values(task.x)`.
    pub value: u64,
    /// The pid of the worker process that computed it.
    pub worker_pid: u32,
}

/// Why [`run_workers`] failed. `?` converts each library error into its variant.
#[derive(Debug, thiserror::Error)]
pub enum QueueWorkersError {
    /// A queue could not be created.
    #[error("could not create a queue")]
    CreateQueue(#[from] mp::QueueCreateError),
    /// A task or a sentinel could not be put on the task queue.
    #[error("could not put a task or a sentinel on the task queue")]
    PutTask(#[from] mp::PutError<Option<Task>>),
    /// A worker could not put its result on the result queue.
    #[error("could not put a result on the result queue")]
    PutResult(#[from] mp::PutError<TaskResult>),
    /// An item could not be taken from a queue.
    #[error("could not get an item from a queue")]
    Get(#[from] mp::GetError),
    /// A worker could not be started or joined, or it panicked (its message is inside).
    #[error("a worker process failed")]
    Process(#[from] mp::ProcessError),
    /// Every worker has ended, and some results never came.
    #[error("only {received} of {expected} results came, and no worker is left to send more")]
    MissingResults {
        /// One per task.
        expected: usize,
        /// How many came.
        received: usize,
    },
}

/// The lesson's CPU-bound function: the sum of 1, 2, ..., x.
///
/// Given: keep it as it is. The speedup check times this work, sequentially and spread over
/// your workers.
pub fn sum_all_values(x: u64) -> u64 {
    let mut total: u64 = 0;
    for i in 1..=x {
        // black_box hides `i` from the optimiser, which would otherwise replace the loop by
        // x * (x + 1) / 2 and leave no work to share.
        total += std::hint::black_box(i);
    }
    total
}

/// Computes one task's result, in the process that calls it (a worker).
pub fn compute(task: Task) -> TaskResult {
    // TODO: return a TaskResult with the task's id, `sum_all_values(task.x)`, and the pid of
    //       the process this runs in: `mp::current_process().pid`.
    todo!(
        "return TaskResult {{ id, value: sum_all_values({}), worker_pid: this process's pid }}",
        task.x
    )
}

/// A worker's life: take tasks until the sentinel (`None`), put one result per task.
pub fn worker(
    tasks: &mp::Queue<Option<Task>>,
    results: &mp::Queue<TaskResult>,
) -> Result<(), QueueWorkersError> {
    // TODO: `get()` an item from `tasks`, again and again (the lesson's `while True: ...
    //       q.get()`). On the sentinel, `None`, stop and return Ok(()).
    // TODO: for every `Some(task)`, put `compute(task)` on `results`.
    todo!(
        "take items from the task queue ({} queued) until None; put compute(task) on the \
         result queue ({} queued) for each Some(task)",
        tasks.qsize(),
        results.qsize()
    )
}

/// Computes every task in `workers` worker processes (at least 1) fed through a queue, and
/// returns one result per task, in any order, once every worker has been joined.
pub fn run_workers(tasks: &[Task], workers: usize) -> Result<Vec<TaskResult>, QueueWorkersError> {
    // TODO: create the two queues before any worker (lesson 5.2, "Queue Example"):
    //       `mp::Queue::<Option<Task>>::new()?` for the tasks and their sentinels,
    //       `mp::Queue::<TaskResult>::new()?` for the results.
    // TODO: create `workers` processes with `mp::Process::new(move || ...)`. Each closure owns
    //       its own clone of both queues and runs `worker(&tasks, &results)`; if that returns
    //       an error, the closure panics with it (join() then reports the panic's message).
    // TODO: start every worker.
    // TODO: put every task as `Some(task)`, then one sentinel (`None`) per worker.
    // TODO: get exactly `tasks.len()` results from the result queue...
    // TODO: ...then join every worker, and return the results.
    todo!(
        "start {workers} worker processes; put the {} tasks, then one None per worker; get \
         one result per task; join every worker",
        tasks.len()
    )
}
