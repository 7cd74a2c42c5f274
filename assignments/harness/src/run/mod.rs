//! Running a runner binary as a sandboxed child: its own process group, a scenario on stdin,
//! the result channel, captured output, a deadline, triage of a hang, and cleanup of every
//! process it left.
//!
//! [`run`] is the one entry point; [`SandboxOptions`] says how, [`RunRecord`] says what
//! happened. The grader adds its limits through [`SandboxOptions`]: rlimits, and
//! [`PreExec`] steps run in the runner before `exec` (joining a namespace, for one).

mod options;
mod record;
mod spawn;
mod triage;

pub use options::{ALLOWED_ENV, PreExec, Resource, ResourceLimit, SandboxOptions};
pub use record::{Captured, RunEnd, RunRecord};
pub use spawn::run;
pub use triage::{Diagnosis, StuckProcess, Triage, examine};
