//! a04-condition: a bounded buffer in shared memory guarded by a `Condition`, with producer
//! and consumer processes.
//!
//! - [`Scenario`] / [`Report`]: what the runner reads and writes.
//! - [`oracle`]: inputs from a seed, and what the right answer is.
//! - [`drive`]: the runner's own producers and consumers around the student's buffer, and
//!   [`run_pipeline`]: the student's pipeline with a recording `consume` ([`Recorder`]) and
//!   a watchdog; both keep their record in a [`ledger`] in shared memory that only harness
//!   code writes.
//! - [`CHECKS`]: the checks of the manifest's `a04-condition` entry.
//! - [`a04_runner!`](crate::a04_runner): the `main` of every a04 runner binary.

mod asleep;
mod checks;
mod driver;
pub mod ledger;
pub mod oracle;
mod pipeline;
mod protocol;
mod runner;
mod shared_words;

pub use checks::CHECKS;
pub use driver::{Buffer, drive};
pub use oracle::{Inputs, Run};
pub use pipeline::{Recorder, run_pipeline};
pub use protocol::{
    DriveScenario, PipelineReport, PipelineScenario, PipelineStall, ProcessFailure, ProcessFault,
    Report, Role, Round, RoundReport, Scenario, Stall, Who,
};
pub use shared_words::SharedWords;
