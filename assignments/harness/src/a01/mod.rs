//! a01-queue: k worker processes take CPU-bound tasks from a queue until their sentinel and put
//! results on another; the main process collects them.
//!
//! - [`Scenario`] / [`Report`]: what the runner reads and writes.
//! - [`oracle`]: inputs from a seed, the right values, how results differ from them.
//! - `calibrate`: tasks sized in milliseconds of the build under test.
//! - `explain`: what a timeout likely means (one sentinel for k workers...).
//! - [`CHECKS`]: the checks of the manifest's `a01-queue` entry; `timing`: the speedup check.
//! - [`a01_runner!`](crate::a01_runner): the `main` of every a01 runner binary.

mod calibrate;
mod checks;
mod explain;
pub mod oracle;
mod protocol;
mod runner;
mod timing;

pub use checks::CHECKS;
pub use oracle::{Inputs, WorkerCount, sum_all_values};
pub use protocol::{Report, ResultFact, Scenario, TaskSpec};
