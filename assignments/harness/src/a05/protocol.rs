//! The a05 runner's scenario and report.
//!
//! Every time in a report is a `CLOCK_MONOTONIC` reading in nanoseconds, taken by the
//! course's code (never the student's) in whichever process the event happened: the pool
//! workers, the runner's main thread, or the pool's result thread. One clock for all
//! processes, so events of different processes can be ordered.

use serde::{Deserialize, Serialize};

/// What the runner does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// The lesson's fourth example: `apply_async_with_callback(processes, sum_all_values,
    /// &inputs)`, every input known from the start.
    AllAtOnce {
        /// Pool size to ask for.
        processes: usize,
        /// The inputs, in submission order.
        inputs: Vec<u64>,
        /// How long each job holds its worker after computing, in milliseconds (the tests'
        /// way of making jobs last without burning CPU).
        hold_ms: u64,
    },
    /// The lesson's fifth example: `add_jobs_while_running(processes, sum_all_values,
    /// inputs, log_result)`, the inputs arriving one by one through an iterator.
    OverTime {
        /// Pool size to ask for.
        processes: usize,
        /// The inputs, in arrival order.
        inputs: Vec<u64>,
        /// How long the iterator makes the caller wait before each input, in milliseconds
        /// (as many entries as inputs).
        gaps_ms: Vec<u64>,
        /// How long each job holds its worker after computing, in milliseconds.
        hold_ms: u64,
    },
    /// The sequential baseline of a speedup check: the course's own loop computes every
    /// input in the runner, one after another. No student code runs.
    Sequential {
        /// The inputs.
        inputs: Vec<u64>,
    },
    /// The `x` for which the course's loop takes about `job_ms` of CPU time in the runner
    /// (returned as the only value): jobs sized by the very code that runs them.
    Calibrate {
        /// The CPU time one job should take, in milliseconds.
        job_ms: u64,
    },
    /// What this machine can show, measured from the runner, so in the same sandbox and
    /// scheduling group as the student's runs: `jobs` calls of the course's loop on `x` in
    /// one process, then split over `processes` processes. No student code runs.
    Bare {
        /// Processes sharing the work in the second measurement.
        processes: usize,
        /// Calls of the loop in all.
        jobs: usize,
        /// The loop's argument.
        x: u64,
    },
}

/// What came back from one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `AllAtOnce`: the list the student's function returned (in the order it holds them);
    /// `OverTime`: empty (results go through `log_result`); `Sequential`: the values;
    /// `Calibrate`: the `x`; `Bare`: empty. `Err`: the error (with its causes) the student's function returned, or why
    /// `Bare` could not measure.
    pub returned: Result<Vec<u64>, String>,
    /// Every completed call of the tests' `sum_all_values`, in any process, in the order
    /// they completed.
    pub task_runs: Vec<TaskRun>,
    /// Calls that completed but did not fit in the log (0 unless jobs ran far more often
    /// than submitted).
    pub task_runs_dropped: u64,
    /// `OverTime`: when the student's code took each input from the iterator.
    pub taken: Vec<Event>,
    /// `OverTime`: each call of `log_result` in the runner process: the value and when.
    pub arrivals: Vec<Event>,
    /// `Bare`: wall times of one process doing all the work, then of the processes sharing
    /// it, in nanoseconds.
    pub bare_ns: Option<[u64; 2]>,
    /// When the student's function was called.
    pub called_at_ns: u64,
}

/// One completed call of the tests' `sum_all_values`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRun {
    /// Its argument.
    pub input: u64,
    /// The process it ran in.
    pub pid: u32,
    /// When it started.
    pub started_ns: u64,
    /// When it returned (after its hold).
    pub finished_ns: u64,
}

/// A value and when something happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The input taken, or the result logged.
    pub value: u64,
    /// When.
    pub at_ns: u64,
}
