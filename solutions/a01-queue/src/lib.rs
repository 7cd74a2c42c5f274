//! # a01-queue: reference solution
//!
//! Same public API as `assignments/a01-queue/src/lib.rs`.

use std::time::Duration;

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

/// Why [`run_workers`] failed.
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

/// How often the main process, waiting for results, checks that some worker is still alive
/// to send them.
const LIVENESS_CHECK_EVERY: Duration = Duration::from_millis(100);

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
    TaskResult {
        id: task.id,
        value: sum_all_values(task.x),
        worker_pid: mp::current_process().pid,
    }
}

/// A worker's life: take tasks until the sentinel (`None`), put one result per task.
pub fn worker(
    tasks: &mp::Queue<Option<Task>>,
    results: &mp::Queue<TaskResult>,
) -> Result<(), QueueWorkersError> {
    while let Some(task) = tasks.get()? {
        results.put(compute(task))?;
    }
    Ok(())
}

/// Computes every task in `workers` worker processes (at least 1) fed through a queue, and
/// returns one result per task, in any order, once every worker has been joined.
pub fn run_workers(tasks: &[Task], workers: usize) -> Result<Vec<TaskResult>, QueueWorkersError> {
    let task_queue: mp::Queue<Option<Task>> = mp::Queue::new()?;
    let result_queue: mp::Queue<TaskResult> = mp::Queue::new()?;
    let mut processes: Vec<mp::Process> = (1..=workers)
        .map(|number| {
            let tasks = task_queue.clone();
            let results = result_queue.clone();
            mp::Process::new(move || {
                // A panic is how a worker's failure reaches the main process: join() returns
                // it as ProcessError::Panicked, with this message.
                if let Err(error) = worker(&tasks, &results) {
                    panic!("worker failed: {error}");
                }
            })
            .with_name(format!("worker {number}"))
        })
        .collect();
    let outcome = feed_and_collect(&task_queue, &result_queue, tasks, &mut processes);
    if outcome.is_err() {
        // Workers still waiting for a task or a sentinel that will not come end now.
        task_queue.shutdown();
    }
    let joined = join_all(&mut processes);
    match (outcome, joined) {
        (Ok(results), Ok(())) => Ok(results),
        // A worker's own failure (its panic message) explains missing results best.
        (Err(QueueWorkersError::MissingResults { .. }) | Ok(_), Err(worker)) => Err(worker),
        (Err(error), _) => Err(error),
    }
}

/// Starts the workers, puts every task and then one sentinel per worker, and collects one
/// result per task.
fn feed_and_collect(
    task_queue: &mp::Queue<Option<Task>>,
    result_queue: &mp::Queue<TaskResult>,
    tasks: &[Task],
    processes: &mut [mp::Process],
) -> Result<Vec<TaskResult>, QueueWorkersError> {
    for process in processes.iter_mut() {
        process.start()?;
    }
    for task in tasks {
        task_queue.put(Some(*task))?;
    }
    // One sentinel per worker: each worker stops at the first one it takes.
    for _ in 0..processes.len() {
        task_queue.put(None)?;
    }
    collect(result_queue, tasks.len(), processes)
}

/// Gets exactly `expected` results. Collected before any join: the results come as the
/// workers compute them, whatever order they end in.
fn collect(
    results: &mp::Queue<TaskResult>,
    expected: usize,
    processes: &mut [mp::Process],
) -> Result<Vec<TaskResult>, QueueWorkersError> {
    let mut collected = Vec::with_capacity(expected);
    while collected.len() < expected {
        match results.get_timeout(LIVENESS_CHECK_EVERY) {
            Ok(result) => collected.push(result),
            Err(mp::GetError::Timeout) => {
                if processes.iter_mut().any(mp::Process::is_alive) {
                    continue;
                }
                // Whatever a worker put before it ended is in the queue already.
                while collected.len() < expected
                    && let Ok(result) = results.try_get()
                {
                    collected.push(result);
                }
                if collected.len() < expected {
                    return Err(QueueWorkersError::MissingResults {
                        expected,
                        received: collected.len(),
                    });
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(collected)
}

/// Joins every started worker, even after one fails; the first failure is returned.
fn join_all(processes: &mut [mp::Process]) -> Result<(), QueueWorkersError> {
    let mut first_failure = Ok(());
    for process in processes.iter_mut().filter(|p| p.pid().is_some()) {
        if let Err(error) = process.join()
            && first_failure.is_ok()
        {
            first_failure = Err(error.into());
        }
    }
    first_failure
}
