//! A correct a00-process written for the grader's tests, different from the reference
//! solution (an `mp::Queue` carries the reports). Hostile variants splice one line into it
//! (a marker comment in `start_workers` marks the spot).

use std::time::Duration;

use multiprocessing as mp;
use serde::{Deserialize, Serialize};

/// One worker's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Its name.
    pub name: String,
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid.
    pub parent_pid: u32,
}

/// Why `start_workers` failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkersError {
    /// A worker failed.
    #[error("a worker process failed")]
    Process(#[from] mp::ProcessError),
    /// A report was lost.
    #[error("a report could not be passed from a worker to the main process")]
    Channel(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The calling process's report.
pub fn report_self() -> WorkerReport {
    let me = mp::current_process();
    WorkerReport {
        name: me.name,
        pid: me.pid,
        parent_pid: me.parent_pid,
    }
}

/// One worker per name, all at once; one report each; all joined.
pub fn start_workers(names: &[String], work: Duration) -> Result<Vec<WorkerReport>, WorkersError> {
    // HOSTILE
    let channel = |e: mp::QueueCreateError| WorkersError::Channel(Box::new(e));
    let queue = mp::Queue::<WorkerReport>::new().map_err(channel)?;
    let mut workers = Vec::new();
    for name in names {
        let queue = queue.clone();
        let worker = mp::Process::new(move || {
            let _ = queue.put(report_self());
            std::thread::sleep(work);
        });
        workers.push(worker.with_name(name.as_str()));
    }
    for worker in &mut workers {
        worker.start()?;
    }
    let mut reports = Vec::new();
    for _ in names {
        let report = queue
            .get_timeout(work + Duration::from_secs(5))
            .map_err(|e| WorkersError::Channel(Box::new(e)))?;
        reports.push(report);
    }
    for worker in &mut workers {
        worker.join()?;
    }
    Ok(reports)
}
