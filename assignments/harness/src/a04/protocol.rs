//! The a04 runner's scenario and report.
//!
//! Two ways to run the student's code: the runner drives the student's `BoundedBuffer` with
//! producer and consumer processes of its own ([`Scenario::Buffer`]), so every put and get is
//! observed by trusted code; or it calls the student's `produce_and_consume`, which starts
//! its own processes ([`Scenario::Pipeline`]) and hands each item it consumes to a function
//! the runner gives it.

use serde::{Deserialize, Serialize};

use crate::a04::ledger::{Phase, ProcessTimes};

/// One buffer and the items that go through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// The buffer's capacity.
    pub capacity: usize,
    /// The items of each producer, in the order it puts them.
    pub items: Vec<Vec<u64>>,
    /// How many consumer processes.
    pub consumers: usize,
}

impl Round {
    /// How many items in all.
    pub fn total(&self) -> usize {
        self.items.iter().map(Vec::len).sum()
    }
}

/// What the runner is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "run", rename_all = "kebab-case")]
pub enum Scenario {
    /// Drive the student's `BoundedBuffer` with the runner's own processes.
    Buffer(DriveScenario),
    /// Call the student's `produce_and_consume`.
    Pipeline(PipelineScenario),
}

/// One call of the student's `produce_and_consume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineScenario {
    /// The capacity, the producers' items, the number of consumers.
    pub round: Round,
    /// Nothing consumed for this long, with every process asleep, is a stall: the runner's
    /// watchdog stops the student's processes.
    pub stall_ms: u64,
}

/// Rounds of the runner's producers and consumers around the student's buffer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveScenario {
    /// One fresh buffer and fresh processes per round; the rounds run one after another and
    /// stop at the first that goes wrong.
    pub rounds: Vec<Round>,
    /// Each producer sleeps this long before each put (making the item), in microseconds.
    pub produce_us: u64,
    /// Each consumer sleeps this long after each item it gets (using it), in microseconds.
    pub consume_us: u64,
    /// Start the consumers only once the producers have filled the buffer (and wait).
    pub fill_first: bool,
    /// No progress for this long, with every process asleep, is a stall.
    pub stall_ms: u64,
}

/// Which of the runner's processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A producer: puts its items, then calls `producer_done`.
    Producer,
    /// A consumer: calls `get` until it returns `None`.
    Consumer,
}

/// One of the runner's processes, by role and number (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    /// Producer or consumer.
    pub role: Role,
    /// Its number among its role.
    pub index: usize,
}

/// How a process of the runner failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProcessFault {
    /// A method of the student's buffer returned an error.
    Error {
        /// The operation and the error with its causes.
        message: String,
    },
    /// A method of the student's buffer panicked.
    Panicked {
        /// The panic message.
        message: String,
        /// Where, when known.
        location: Option<String>,
    },
    /// The process was killed by a signal (not the runner's).
    Signaled {
        /// The signal number.
        signal: i32,
    },
    /// The process exited by itself with this code, before finishing its part.
    Exited {
        /// The exit code.
        code: i32,
    },
}

/// A process of the runner that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessFailure {
    /// Which process.
    pub who: Who,
    /// Where it was (which method of the buffer it was in).
    pub during: Phase,
    /// What happened.
    pub fault: ProcessFault,
}

/// A round that stopped making progress with every process asleep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stall {
    /// How long nothing happened before the runner gave up, in milliseconds.
    pub quiet_ms: u64,
    /// Each process still alive and where it was.
    pub waiting: Vec<(Who, Phase)>,
}

/// What one round showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundReport {
    /// `BoundedBuffer::new` failed with this error; nothing else ran.
    pub create_error: Option<String>,
    /// The runner could not run the round (fork failed): not the student's fault.
    pub harness_error: Option<String>,
    /// The items each consumer got, in the order it got them.
    pub consumed: Vec<Vec<u64>>,
    /// For each consumer, whether its `get` returned `None` (it ended cleanly).
    pub ended: Vec<bool>,
    /// For each producer, how many of its puts returned.
    pub put: Vec<u64>,
    /// For each producer, whether its `producer_done` returned.
    pub finished: Vec<bool>,
    /// The largest lower bound of the buffer's fill observed (see
    /// [`Ledger::put_returned`](crate::a04::ledger::Ledger::put_returned)).
    pub max_held: u64,
    /// The fill bound exceeded the capacity: the round was stopped there.
    pub overfilled: bool,
    /// The consumers got more items than were put in: the round was stopped there.
    pub overrun: bool,
    /// Processes that failed.
    pub failures: Vec<ProcessFailure>,
    /// Set when the round stalled.
    pub stall: Option<Stall>,
    /// How each consumer spent its life (`None` for one that did not get to record it).
    pub consumer_times: Vec<Option<ProcessTimes>>,
    /// Wall time of the round, in microseconds.
    pub micros: u64,
}

/// What `produce_and_consume` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineReport {
    /// What it returned (an error with its causes).
    pub result: Result<(), String>,
    /// Each item given to `consume`, with the pid of the process that gave it, in order.
    pub consumed: Vec<(u64, u32)>,
    /// How many times `consume` was called (more than recorded when it was called more
    /// often than there are items).
    pub calls: u64,
    /// Set when the watchdog stopped a stalled run.
    pub stall: Option<PipelineStall>,
}

/// A pipeline run the watchdog stopped: nothing consumed for a while, every process asleep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineStall {
    /// How long nothing was consumed, in milliseconds.
    pub quiet_ms: u64,
    /// How many processes slept (the main process included).
    pub asleep: u64,
    /// How many of them waited in a futex (a lock or a condition).
    pub in_futex: u64,
}

/// What the runner returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "run", rename_all = "kebab-case")]
pub enum Report {
    /// The rounds run, in order (the last one is the first that went wrong, if any did).
    Buffer {
        /// One report per round run.
        rounds: Vec<RoundReport>,
    },
    /// The pipeline's report.
    Pipeline(PipelineReport),
    /// The runner could not set the run up (not the student's fault).
    CouldNotRun {
        /// Why.
        why: String,
    },
}
