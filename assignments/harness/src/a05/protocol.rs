//! The a05 runner's scenario and report.
//!
//! Every time in a report is a `CLOCK_MONOTONIC` reading in nanoseconds, taken by the
//! course's code (never the student's) in whichever process the event happened: the pool
//! workers, the runner's main thread, or the pool's result thread. One clock for all
//! processes, so events of different processes can be ordered.

use serde::{Deserialize, Serialize};

use crate::checks::speedup::Attainable;

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
    /// What bare processes running the course's loop show, measured from the runner, so in
    /// the same sandbox and scheduling group as the student's runs
    /// ([`measure_machine`](crate::checks::speedup::measure_machine)). No student code runs.
    Machine {
        /// Processes sharing the work in the parallel half.
        processes: usize,
        /// About how long the work takes one process, in microseconds of CPU time.
        target_micros: u64,
    },
}

/// What came back from one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `AllAtOnce`: the list the student's function returned (in the order it holds them);
    /// `OverTime`: empty (results go through `log_result`); `Sequential`: the values;
    /// `Calibrate`: the `x`; `Machine`: empty. `Err`: the error (with its causes) the
    /// student's function returned, or why `Machine` could not measure.
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
    /// `Sequential`: CPU time of the loop, in nanoseconds (a speedup sample does not count
    /// when the baseline got too small a share of a CPU).
    pub sequential_cpu_ns: Option<u64>,
    /// `Machine`: what bare processes showed.
    pub machine: Option<Attainable>,
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
