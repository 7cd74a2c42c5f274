//! The a00 runner's scenario and report.

use serde::{Deserialize, Serialize};

/// What the runner passes to `start_workers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// One worker per name, in this order.
    pub names: Vec<String>,
    /// How long each worker works (sleeps), in milliseconds.
    pub work_ms: u64,
}

/// What `start_workers` returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The worker reports, or the error (with its causes) the student's code returned.
    pub workers: Result<Vec<WorkerFact>, String>,
}

/// One worker's report, as the student's `WorkerReport` carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerFact {
    /// The name the worker was started with.
    pub name: String,
    /// The pid the worker reported for itself.
    pub pid: u32,
    /// The parent pid the worker reported.
    pub parent_pid: u32,
}
