//! a05-pool: the lesson's `sum_all_values` jobs in a `Pool`, their results collected by a
//! callback (Example 4), and jobs added while the pool runs (Example 5).
//!
//! What the checks observe, all with the course's code:
//!
//! - [`sum_all_values`]: the task the runner hands the student's functions. Each call
//!   records, in memory shared with every process the runner forks (`task_log.rs`), its input,
//!   its pid, and when it started and returned. So the checks see that each job ran once, in
//!   a pool worker, and which jobs ran at the same time, without trusting anything the
//!   student's code says.
//! - [`Feed`]: the inputs of Example 5, an iterator that makes the caller wait before each
//!   one and notes when it handed each over; and the `log_result` callback the student's code
//!   is given, which notes when each result reached the main process ([`EventLog`]).
//!
//! Faking "results arrived before the last input" would take calling `log_result` with a
//! result before its job ran: the judges compare every logging with the recorded end of the
//! job that computed it, and the record lives in memory only the course's code writes.
//!
//! - [`Scenario`] / [`Report`]: what the runner reads and writes.
//! - [`oracle`]: inputs from a seed, the right results, and the facts judged.
//! - [`CHECKS`]: the checks of the manifest's `a05-pool` entry; `speedup`: the speedup check,
//!   judged by the course's shared [`crate::checks::speedup`].
//! - [`a05_runner!`](crate::a05_runner): the `main` of every a05 runner binary.

mod checks;
mod clock;
mod feed;
pub mod oracle;
mod protocol;
mod runner;
mod speedup;
mod task_log;
mod work;

pub use checks::CHECKS;
pub use feed::{EventLog, Feed};
pub use oracle::{Arrival, Inputs, Values};
pub use protocol::{Event, Report, Scenario, TaskRun};
pub use runner::{Student, run_scenario};
// The task log stays private to the harness: the student's crate links this one (for the
// runner), and must not be able to write records through a public API.
pub use work::sum_all_values;
