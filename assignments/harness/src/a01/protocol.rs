//! The a01 runner's scenario and report.

use serde::{Deserialize, Serialize};

use crate::checks::speedup::Attainable;

/// One task as the runner passes it to the student's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// The task's id (distinct within a scenario, not in order).
    pub id: u32,
    /// The argument of `sum_all_values`.
    pub x: u64,
}

/// What the runner does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Calls the student's `run_workers(&tasks, workers)`.
    Workers {
        /// The tasks, in the order they are given.
        tasks: Vec<TaskSpec>,
        /// How many worker processes to use.
        workers: usize,
    },
    /// The sequential baseline: the course's own `sum_all_values` on every task, one after
    /// another in the runner's main process. The student's code is not called.
    Sequential {
        /// The tasks.
        tasks: Vec<TaskSpec>,
    },
    /// What bare processes running the course's `sum_all_values` show, measured in the
    /// runner's sandbox ([`measure_machine`](crate::checks::speedup::measure_machine)).
    Machine {
        /// How many processes share the work in the parallel half.
        processes: usize,
        /// About how long the work takes one process, in microseconds.
        target_micros: u64,
    },
}

/// What the runner sends back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Report {
    /// What `run_workers` returned: the results, or its error with its causes.
    Workers(Result<Vec<ResultFact>, String>),
    /// The baseline's values, in task order, and the CPU time the loop took.
    Sequential {
        /// `sum_all_values(x)` of each task.
        values: Vec<u64>,
        /// CPU time of the loop, in microseconds (sizes work on a busy machine, where wall
        /// time would count the time other programs had the CPU).
        cpu_micros: u64,
    },
    /// What bare processes showed, or why they could not be started.
    Machine(Result<Attainable, String>),
}

/// One result, as the student's `TaskResult` carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultFact {
    /// The id of the task it answers.
    pub id: u32,
    /// The value computed.
    pub value: u64,
    /// The pid of the process that computed it, as the result records it.
    pub worker_pid: u32,
}
