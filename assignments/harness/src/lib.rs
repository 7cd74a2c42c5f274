//! The course's harness: everything that runs and checks student code, shared by the visible
//! tests (`cargo test -p a00-process`) and the grader, so each check has one implementation.
//!
//! # How a check runs
//!
//! ```text
//! tests/visible.rs ─ visible::run("a00-process", "ran-concurrently", this_runner!())
//!   └─ manifest::embedded()           course.toml: points, timeout, repetitions, thresholds
//!   └─ checks::run_check(ctx)         machine lock for timing checks; Outcome + replay
//!        └─ a00::CHECKS "ran-concurrently"
//!             └─ a00::oracle::scenario(inputs, seed)       seeded inputs
//!             └─ checks::execute(ctx, &scenario)
//!                  └─ run::run(runner, json, sandbox)    own process group, deadline,
//!                       └─ runner binary                 triage, kill, reap, capture
//!                            └─ runner::serve(|s| student code) ─► protocol frame on fd 3
//!             └─ judges: the report vs the oracle ─► Verdict with figures
//! ```
//!
//! # Modules
//!
//! - [`manifest`]: `course.toml`, its schema and loading, generated statement parts.
//! - [`protocol`]: the frame a runner writes; [`runner`]: `serve`, a runner's `main`.
//! - [`run`]: spawning a runner in a sandboxed process group; [`procfs`]: reading `/proc`.
//! - [`checks`]: the check registry, [`CheckContext`](checks::CheckContext), `execute`.
//! - [`verdict`]: [`Verdict`](verdict::Verdict), [`Outcome`](verdict::Outcome), figures,
//!   replay commands.
//! - [`seed`]: seeds and the generator; [`visible`]: what visible tests call;
//!   [`selfcheck`]: stubs fail, solutions pass, fixtures fail as expected.
//! - One module per assignment ([`a00`]): scenario and report types, oracle, checks.
#![deny(missing_docs)]

pub mod a00;
pub mod checks;
mod errors;
pub mod manifest;
pub mod procfs;
pub mod protocol;
pub mod run;
pub mod runner;
pub mod seed;
pub mod selfcheck;
pub mod verdict;
pub mod visible;

pub use errors::{FrameError, ManifestError, ManifestProblem, RunError, SeedError};
