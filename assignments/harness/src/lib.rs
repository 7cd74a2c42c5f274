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
//! - [`forks`]: counting the forks of a runner's process tree (processes, not threads).
//! - [`checks`]: the check registry, [`CheckContext`](checks::CheckContext), `execute`.
//! - [`verdict`]: [`Verdict`](verdict::Verdict), [`Outcome`](verdict::Outcome), figures,
//!   replay commands.
//! - [`seed`]: seeds and the generator; [`visible`]: what visible tests call;
//!   [`selfcheck`]: stubs fail, solutions pass, fixtures fail as expected.
//! - One module per assignment ([`a00`]): scenario and report types, oracle, checks, and the
//!   runner glue macro ([`a00_runner!`]).
//!
//! # Adding an assignment (`aNN-name`)
//!
//! 1. `course.toml`: an `[[assignment]]` with its `[[assignment.check]]`s (ids, kinds,
//!    points, timeouts, repetitions, thresholds, `inputs`), hints and lesson.
//! 2. `src/aNN/` in this crate, like [`a00`]: `protocol.rs` (`Scenario`, `Report`: serde
//!    types), `oracle.rs` (`Inputs` decoded from a check's `inputs` with
//!    `deny_unknown_fields`; scenarios from a [`Seed`](seed::Seed); the sequential
//!    reference), `checks.rs` (a `pub const CHECKS: AssignmentChecks` listing one
//!    [`CheckFn`](checks::CheckFn) per manifest check; each uses [`checks::repeat`] and
//!    [`checks::execute`], then judges the report and names the likely mistake), and
//!    `runner.rs` (an exported `aNN_runner!($student)` macro: the runner's `main`, calling
//!    the student's API and converting its result into the `Report`). Add `CHECKS` to
//!    [`checks::registry`].
//! 3. `assignments/aNN-name/`: `Cargo.toml` (package `aNN-name`; depends on
//!    `multiprocessing` and `course-harness`), `README.md` with the two generated blocks
//!    (refresh them: `COURSE_BLESS=1 cargo test -p course-harness --test statements`),
//!    `src/lib.rs` (the stub: `// TODO:` and `todo!("what to do")`, no warnings),
//!    `src/bin/aNN-name-runner.rs` (`course_harness::aNN_runner!(aNN_name);`),
//!    `tests/visible.rs` (one `#[test] fn <check_id_in_snake_case>()` per visible check,
//!    calling [`visible::run`] with [`this_runner!`]).
//! 4. `solutions/aNN-name/`: package `aNN-name-solution` with the same API, runner
//!    `src/bin/aNN-name-solution-runner.rs` (`aNN_runner!(aNN_name_solution);`), the
//!    assignment's `tests/visible.rs` and `fixtures/expected.rs` as `[[test]]` paths, and an
//!    `expected.toml` with no failures.
//! 5. `assignments/harness/fixtures/aNN-stub/` (its `[lib] path` is the stub's `src/lib.rs`;
//!    `expected.toml` expects `*` to panic) and at least two known-wrong fixtures, each with an
//!    `expected.toml` naming the checks that must catch it and the phrases they must say.
//!
//! `cargo test -p course-harness` then checks the manifest against the registry, the visible
//! tests and the layout; `cargo test` at the root runs the solutions and the fixtures.
//!
//! # For the grader
//!
//! Build each package (`aNN-name`, or `aNN-name-solution`), find `target/<profile>/<package>-runner`
//! ([`manifest::schema::runner_bin_name`]), and for each check make a
//! [`CheckContext`](checks::CheckContext) (from [`manifest::embedded`], the runner, the
//! package, a seed, and [`SandboxOptions`](run::SandboxOptions) with rlimits and
//! `fail_on_output_limit`) and call [`checks::run_check`]: it returns the
//! [`Outcome`](verdict::Outcome) every reporter consumes. Overwrite a submission's runner
//! files and `tests/visible.rs` with the course's before building them: the runner is the
//! trusted glue. The grader's PID namespace joins the runner through a [`run::PreExec`] step
//! of [`run::SandboxOptions`]; [`verdict::Verdict`] already has `OutputLimit`; a compile
//! error is the grader's own outcome, not a check's.
#![deny(missing_docs)]

pub mod a00;
pub mod a01;
pub mod a02;
pub mod a03;
pub mod a04;
pub mod a05;
pub mod a06;
pub mod checks;
mod errors;
pub mod forks;
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
