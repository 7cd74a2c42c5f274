//! The a03 runner's scenario and report.

use serde::{Deserialize, Serialize};

/// What the runner runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// How many worker processes.
    pub workers: usize,
    /// How many increments each worker makes.
    pub increments: u64,
    /// Which of the student's functions the runner calls.
    pub call: Call,
}

/// Which of the student's functions a run calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Call {
    /// `count_in_processes(workers, increments)`, which creates the counter and the counts
    /// itself.
    CountInProcesses,
    /// `run_workers(&counter, &counts, increments)` on a counter and counts the runner created;
    /// with `hold_lock`, the runner holds the counter's lock while the workers start (see
    /// [`LockHold`]).
    RunWorkers {
        /// Whether the runner holds the counter's lock while the workers start.
        hold_lock: bool,
    },
}

impl Call {
    /// True when the runner holds the counter's lock while the workers start.
    pub fn holds_lock(self) -> bool {
        matches!(self, Self::RunWorkers { hold_lock: true })
    }
}

/// What the student's code returned, and what the runner saw it do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The counts, or the error (with its causes) the student's code returned.
    pub counted: Result<Counted, String>,
    /// Processes forked by the student's code (the whole tree), counted by the runner's
    /// [`ForkCounter`](crate::forks::ForkCounter); `None` if it could not be installed.
    pub forks: Option<u64>,
    /// When the runner held the lock ([`Call::holds_lock`]): how the hold went, or why it
    /// could not be made.
    pub lock_hold: Option<Result<LockHold, String>>,
}

/// The counter's final value and the array's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    /// The shared counter's final value.
    pub total: u64,
    /// The shared array's final contents: slot `i` is worker `i`'s count.
    pub per_process: Vec<u64>,
}

/// The runner held the counter's lock from before the workers started until they were all
/// waiting for it, and watched the counter meanwhile: a worker that takes the lock waits;
/// one that does not changes the counter under the runner's eyes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHold {
    /// The counter's value seen while the lock was held: 0 unless a worker wrote it without
    /// the lock.
    pub seen: u64,
    /// How long the lock was held, in microseconds.
    pub held_micros: u64,
    /// What ended the hold.
    pub released: Release,
}

/// What ended a [`LockHold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Release {
    /// The counter changed while the lock was held.
    ChangeSeen,
    /// Every worker had started, and each was waiting (blocked) or had exited.
    WorkersWaiting,
    /// The time limit of the hold passed first.
    Limit,
    /// The student's code returned first.
    Returned,
}
