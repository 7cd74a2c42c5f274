//! What a visible test calls: run one check of the manifest against this package's runner,
//! and fail the test with the verdict's explanation unless it passes.
//!
//! ```no_run
//! #[test]
//! fn ran_concurrently() {
//!     course_harness::visible::run("a00-process", "ran-concurrently", course_harness::this_runner!());
//! }
//! ```
//!
//! The seed is [`Seed::DEFAULT`] unless `COURSE_SEED` is set; a failure prints it with the
//! command that replays it.

use std::path::Path;

use crate::checks::{CheckContext, run_check};
use crate::manifest::{self, Visibility};
use crate::run::SandboxOptions;
use crate::runner::error_chain;
use crate::seed::Seed;
use crate::verdict::{Outcome, Verdict};

/// A runner binary and the package it belongs to; [`this_runner!`](crate::this_runner!) makes one.
#[derive(Debug, Clone, Copy)]
pub struct Runner {
    /// The package (`a00-process`, `a00-process-solution`, a fixture).
    pub package: &'static str,
    /// The path of its `<package>-runner` binary.
    pub path: &'static str,
}

/// The runner binary of the package being tested: `<package>-runner`, found through cargo's
/// `CARGO_BIN_EXE_<name>` (integration tests only). The same test file therefore works in an
/// assignment, in its solution and in a fixture, each of which names its runner after itself.
#[macro_export]
macro_rules! this_runner {
    () => {
        $crate::visible::Runner {
            package: env!("CARGO_PKG_NAME"),
            path: env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"), "-runner")),
        }
    };
}

/// Runs visible check `check` of `assignment` against `runner`; fails the test with the
/// explanation unless it passes or is not measurable here. Prints the figures when it passes
/// (`cargo test -- --nocapture`).
///
/// The explanation is printed (libtest shows a failed test's output) and the test then
/// unwinds with `resume_unwind`, which skips the panic hook: no "panicked at visible.rs" line
/// and no harness backtrace stand between the student and the explanation.
pub fn run(assignment: &str, check: &str, runner: Runner) {
    let outcome = Seed::from_env()
        .map_err(|e| e.to_string())
        .and_then(|seed| {
            if is_hidden(assignment, check) {
                return Err(format!(
                    "{assignment} / {check} is a hidden check: visible tests may not run it"
                ));
            }
            outcome(assignment, check, runner, seed)
        });
    match outcome {
        // "Not measurable" judged nothing (one core, or a machine too busy to show any
        // speedup): the explanation is printed, and the test does not fail.
        Ok(outcome)
            if outcome.verdict.is_pass()
                || matches!(outcome.verdict, Verdict::NotMeasurable { .. }) =>
        {
            println!("{outcome}")
        }
        Ok(outcome) => {
            println!("{outcome}");
            std::panic::resume_unwind(Box::new(format!(
                "{} / {}: {}",
                outcome.assignment,
                outcome.check,
                outcome.verdict.label()
            )));
        }
        Err(problem) => panic!("{problem}"),
    }
}

fn is_hidden(assignment: &str, check: &str) -> bool {
    manifest::embedded()
        .ok()
        .and_then(|m| m.assignment(assignment)?.check(check))
        .is_some_and(|c| c.visibility == Visibility::Hidden)
}

/// Runs check `check` (visible or hidden) of `assignment` against `runner` with `seed` and
/// default sandbox options. `Err` when the manifest is broken or has no such check.
pub fn outcome(
    assignment: &str,
    check: &str,
    runner: Runner,
    seed: Seed,
) -> Result<Outcome, String> {
    let manifest =
        manifest::embedded().map_err(|e| format!("course.toml is invalid: {}", error_chain(e)))?;
    let entry = manifest
        .assignment(assignment)
        .ok_or_else(|| format!("course.toml has no assignment {assignment:?}"))?;
    let check = entry
        .check(check)
        .ok_or_else(|| format!("course.toml has no check {check:?} in {assignment}"))?;
    let ctx = CheckContext {
        assignment: entry,
        check,
        runner: Path::new(runner.path),
        package: runner.package,
        seed,
        sandbox: SandboxOptions::default(),
    };
    Ok(run_check(&ctx))
}
