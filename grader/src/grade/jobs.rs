//! Running checks: each in the sandbox, on up to `workers` threads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;

use course_harness::checks::{CheckContext, run_check};
use course_harness::manifest::{Assignment, Check};
use course_harness::seed::Seed;
use course_harness::verdict::Verdict;

use crate::events::{CheckInfo, CheckRecord, GradingEvent};
use crate::sandbox::{Sandbox, address_space_bytes};
use crate::verdict::CheckVerdict;

/// One check to run against one built runner.
#[derive(Debug, Clone)]
pub struct Job {
    /// The assignment.
    pub assignment: &'static Assignment,
    /// The check.
    pub check: &'static Check,
    /// The runner binary (this run's private copy).
    pub runner: PathBuf,
    /// The package it was built from, for replay commands.
    pub package: String,
}

/// Runs every job, `workers` at a time, handing each record to `finish` as it completes.
pub fn run_all(
    jobs: &[Job],
    workers: usize,
    seed: Seed,
    sandbox: &Sandbox,
    events: &Sender<GradingEvent>,
    finish: &(impl Fn(CheckRecord) + Sync),
) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers.min(jobs.len()) {
            let events = events.clone();
            let next = &next;
            scope.spawn(move || {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let _ = events.send(GradingEvent::CheckStarted {
                        assignment: job.assignment.id.clone(),
                        check: job.check.id.clone(),
                    });
                    finish(run_one(job, seed, sandbox));
                }
            });
        }
    });
}

/// Runs one check in a fresh sandbox.
fn run_one(job: &Job, seed: Seed, sandbox: &Sandbox) -> CheckRecord {
    let ran = sandbox.isolate(job.check.timeout, |options| {
        run_check(&CheckContext {
            assignment: job.assignment,
            check: job.check,
            runner: &job.runner,
            package: &job.package,
            seed,
            sandbox: options,
        })
    });
    let (verdict, outcome) = match ran {
        Ok((outcome, leaks)) => (
            CheckVerdict::of_run(&outcome, leaks, address_space_bytes()),
            Some(outcome),
        ),
        Err(error) => (
            CheckVerdict::Judged(Verdict::CouldNotRun {
                why: format!("the sandbox failed: {}", crate::errors::chain(&error)),
            }),
            None,
        ),
    };
    CheckRecord {
        assignment: job.assignment.id.clone(),
        check: CheckInfo::from_check(job.check),
        verdict,
        outcome,
    }
}
