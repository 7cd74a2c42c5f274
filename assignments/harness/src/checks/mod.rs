//! The checks: one function per check of the manifest, and what they share.
//!
//! A check is a [`CheckFn`]: given a [`CheckContext`] (the manifest entry, the runner binary,
//! the seed, the sandbox options) it generates scenarios from the seed, runs the runner
//! ([`execute`]), validates the reports against the assignment's oracle, and returns a
//! [`Judgement`]. [`run_check`] wraps that into an [`Outcome`](crate::verdict::Outcome) with
//! the replay command, after taking the machine lock for timing checks.

pub mod attainable;
mod context;
mod execute;
mod quiet;
mod registry;

pub use context::{CheckContext, Failure, Judgement, repeat};
pub use execute::{Execution, execute};
pub use quiet::{MachineGuard, machine_lock};
pub use registry::{
    AssignmentChecks, CheckDef, CheckFn, find, registry, run_check, validate_against_registry,
};
