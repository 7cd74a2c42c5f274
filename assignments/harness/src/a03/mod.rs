//! a03-counter: worker processes add to one shared `Value` under its lock, and record how
//! many increments each made in a shared `Array`.
//!
//! - [`Scenario`] / [`Report`]: what the runner reads and writes.
//! - [`oracle`]: inputs from a seed, the right totals, and how a result falls short.
//! - [`CHECKS`]: the checks of the manifest's `a03-counter` entry.
//! - [`probe`]: holding the counter's lock while the workers start, to see whether they take it.
//! - [`runner`]: the runner's glue; [`a03_runner!`](crate::a03_runner) is the `main` of every
//!   a03 runner binary.

mod checks;
pub mod oracle;
pub mod probe;
mod protocol;
pub mod runner;

pub use checks::CHECKS;
pub use oracle::{HoldLock, Inputs};
pub use protocol::{Call, Counted, LockHold, Release, Report, Scenario};
