//! a02-pipe: the parent sends messages over a duplex `Pipe`; the child echoes each until the
//! sentinel.
//!
//! - [`Scenario`] / [`Report`]: what the runner reads and writes.
//! - [`oracle`]: message texts from a seed, and the echo each must get.
//! - [`CHECKS`]: the checks of the manifest's `a02-pipe` entry.
//! - [`a02_runner!`](crate::a02_runner): the `main` of every a02 runner binary.

mod checks;
pub mod oracle;
mod protocol;
mod runner;

pub use checks::CHECKS;
pub use oracle::{Inputs, Part, Sizes};
pub use protocol::{ChildEnd, ChildRun, MessageSpec, ReplyFact, Report, Scenario, SessionRun};
pub use runner::{fact_of, text_of};
