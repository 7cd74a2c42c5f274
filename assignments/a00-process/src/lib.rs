//! # a00-process: start worker processes and learn their PIDs
//!
//! Read `README.md` first: it explains the task, and what the tests check.
//! Then replace every `todo!()` below; each `// TODO:` marks a place where you act.
//! Run the tests with `cargo test -p a00-process`.

use std::time::Duration;

use multiprocessing as mp;
use serde::{Deserialize, Serialize};

/// What one worker tells the main process about itself: the lesson's workers print this,
/// ours send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// The name the worker was started with (Python: `mp.current_process().name`).
    pub name: String,
    /// The worker's own pid (Python: `os.getpid()` in the worker).
    pub pid: u32,
    /// The pid of the process that started it (Python: `os.getppid()` in the worker).
    pub parent_pid: u32,
}

/// Why [`start_workers`] failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkersError {
    /// A worker could not be started or joined, or it panicked (its message is inside).
    #[error("a worker process failed")]
    Process(#[from] mp::ProcessError),
    /// A report could not be passed from a worker to the main process.
    #[error("a report could not be passed from a worker to the main process")]
    Channel(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The report of the process that calls it. Call it inside a worker: in the main process it
/// would describe the main process.
pub fn report_self() -> WorkerReport {
    // TODO: fill a WorkerReport from `mp::current_process()`, which has the `name`, `pid` and
    //       `parent_pid` of the process that calls it.
    todo!("build a WorkerReport from mp::current_process()")
}

/// Starts one worker process per name, all at the same time. Each worker sends
/// [`report_self`] to the main process, then works (sleeps) for `work`. Returns one report per
/// worker, in any order, once every worker has been joined.
pub fn start_workers(names: &[String], work: Duration) -> Result<Vec<WorkerReport>, WorkersError> {
    // TODO: create the channel the workers send their reports on, before starting any worker:
    //       an `mp::Queue` (lesson 5.2, "Queue"). Each worker's closure gets its own clone.
    // TODO: create one `mp::Process` per name, `.with_name(name)`. Its closure sends
    //       `report_self()` on the channel, then sleeps for `work` (`std::thread::sleep`).
    // TODO: start every process first...
    // TODO: ...then receive one report per worker, and join every process.
    // TODO: return the reports.
    todo!(
        "start one mp::Process per name ({} names) that sends report_self() and then works \
         {work:?}; receive one report per worker; join them all",
        names.len()
    )
}
