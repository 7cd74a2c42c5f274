//! a00-process: start named workers as processes; each reports its name, pid and parent pid.
//!
//! - [`Scenario`] / [`Report`]: what the runner reads and writes.
//! - [`oracle`]: inputs from a seed, and what the right answer is.
//! - [`CHECKS`]: the checks of the manifest's `a00-process` entry.
//! - [`a00_runner!`](crate::a00_runner): the `main` of every a00 runner binary.

mod checks;
pub mod oracle;
mod protocol;
mod runner;

pub use checks::CHECKS;
pub use oracle::{Inputs, NameStyle};
pub use protocol::{Report, Scenario, WorkerFact};
