//! The events a grading run emits: the interface between the grading engine and the
//! reporters. A reporter sees only these; none of them knows how a check ran.
//!
//! Order: `RunStarted`, then per assignment `BuildStarted`/`BuildFinished` (builds come
//! first, in course order), then `CheckStarted`/`CheckFinished` in completion order (checks
//! run side by side), an `AssignmentFinished` once all of an assignment's checks are in,
//! and `RunFinished` last. A reporter that prints a table orders by the plan in
//! `RunStarted`, so its output does not depend on timing.

use std::path::PathBuf;
use std::time::Duration;

use course_harness::manifest::{Assignment, Check, Visibility};
use course_harness::seed::Seed;
use course_harness::verdict::Outcome;

use crate::plan::{Plan, Source};
use crate::sandbox::SandboxFeatures;
use crate::verdict::{BuildFailure, CheckVerdict};

/// One thing that happened in a grading run.
#[derive(Debug, Clone)]
pub enum GradingEvent {
    /// Grading begins: what will be graded, how.
    RunStarted(Box<RunInfo>),
    /// An assignment's build begins.
    BuildStarted {
        /// The assignment.
        assignment: String,
        /// The command, for `-v`.
        command: String,
    },
    /// An assignment's build ended (or it was refused before building).
    BuildFinished {
        /// The assignment.
        assignment: String,
        /// `Ok` with the runner built, or why its checks will not run.
        result: Result<PathBuf, BuildFailure>,
        /// Time spent building.
        elapsed: Duration,
    },
    /// A check starts running.
    CheckStarted {
        /// The assignment.
        assignment: String,
        /// The check.
        check: String,
    },
    /// A check's result (also for checks that could not run because of the build).
    CheckFinished(Box<CheckRecord>),
    /// Every check of an assignment is in.
    AssignmentFinished {
        /// The assignment.
        assignment: String,
        /// Points earned.
        earned: u32,
        /// Points possible.
        possible: u32,
    },
    /// Grading is over.
    RunFinished(RunTimes),
}

/// What a run grades, and how.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Whose code.
    pub source: Source,
    /// The seed.
    pub seed: Seed,
    /// Checks side by side, at most.
    pub jobs: usize,
    /// What the sandbox does on this machine.
    pub sandbox: SandboxFeatures,
    /// The assignments and checks, in course order.
    pub assignments: Vec<AssignmentInfo>,
}

impl RunInfo {
    /// The info of a plan.
    pub fn new(plan: &Plan, jobs: usize, sandbox: SandboxFeatures) -> Self {
        Self {
            source: plan.source.clone(),
            seed: plan.seed,
            jobs,
            sandbox,
            assignments: plan
                .assignments
                .iter()
                .map(|p| AssignmentInfo::new(p.assignment, &p.checks, &plan.source))
                .collect(),
        }
    }
}

/// One assignment of the plan.
#[derive(Debug, Clone)]
pub struct AssignmentInfo {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The package graded.
    pub package: String,
    /// The checks graded, in manifest order.
    pub checks: Vec<CheckInfo>,
}

impl AssignmentInfo {
    fn new(assignment: &Assignment, checks: &[&Check], source: &Source) -> Self {
        Self {
            id: assignment.id.clone(),
            title: assignment.title.clone(),
            package: source.package(assignment),
            checks: checks.iter().map(|c| CheckInfo::from_check(c)).collect(),
        }
    }

    /// Points possible.
    pub fn possible(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }
}

/// One check of the plan, as the manifest describes it.
#[derive(Debug, Clone)]
pub struct CheckInfo {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its kind (`correctness`, `concurrency`, ...).
    pub kind: &'static str,
    /// The kind with its thresholds, in words.
    pub kind_detail: String,
    /// True for kinds that time things (concurrency, speedup, busy-wait): the reports show
    /// their figures in full.
    pub measures_speed: bool,
    /// Visible or hidden.
    pub visibility: Visibility,
    /// Points for passing.
    pub points: u32,
    /// Deadline of each run.
    pub timeout: Duration,
    /// Runs asked for.
    pub repetitions: u32,
}

impl CheckInfo {
    /// The info of a manifest check.
    pub fn from_check(check: &Check) -> Self {
        Self {
            id: check.id.clone(),
            title: check.title.clone(),
            kind: check.kind.name(),
            kind_detail: check.kind.describe(),
            measures_speed: check.kind.needs_quiet_machine(),
            visibility: check.visibility,
            points: check.points,
            timeout: check.timeout,
            repetitions: check.repetitions,
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    /// The assignment.
    pub assignment: String,
    /// The check.
    pub check: CheckInfo,
    /// The grader's verdict.
    pub verdict: CheckVerdict,
    /// The harness's full outcome (figures, seed, replay, output), when the check ran.
    pub outcome: Option<Outcome>,
}

impl CheckRecord {
    /// Points earned: all on a pass, none otherwise.
    pub fn earned(&self) -> u32 {
        if self.verdict.is_pass() {
            self.check.points
        } else {
            0
        }
    }
}

/// Where the time went.
#[derive(Debug, Clone, Copy)]
pub struct RunTimes {
    /// Building (and taking the submission).
    pub building: Duration,
    /// Running the checks.
    pub grading: Duration,
    /// All of it.
    pub total: Duration,
}
