//! The grading engine: builds each assignment, runs its checks in the sandbox, and emits
//! [`GradingEvent`]s. It prints nothing; reporters do.
//!
//! Builds run one after another (cargo parallelises each). Checks then run on `jobs`
//! threads, except those whose kind measures speed
//! ([`CheckKind::needs_quiet_machine`](course_harness::manifest::CheckKind::needs_quiet_machine)),
//! which run afterwards, one at a time, with nothing beside them.

mod jobs;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::Sender;
use std::time::Instant;

use crate::build::Builder;
use crate::events::{CheckRecord, GradingEvent, RunInfo, RunTimes};
use crate::plan::{Plan, Planned};
use crate::sandbox::Sandbox;
use crate::source::Intake;
use crate::verdict::{BuildFailure, CheckVerdict};

use jobs::Job;

/// Grades `plan`: the intakes are the plan's assignments' code, in plan order.
pub fn run(
    plan: &Plan,
    sandbox: &Sandbox,
    builder: &Builder,
    intakes: Vec<Intake>,
    events: &Sender<GradingEvent>,
) {
    let started = Instant::now();
    let emit = |event| {
        // The receiver only goes away when the grader is exiting anyway.
        let _ = events.send(event);
    };
    let jobs_at_once = sandbox
        .max_jobs()
        .map_or(plan.jobs, |max| max.min(plan.jobs))
        .max(1);
    emit(GradingEvent::RunStarted(Box::new(RunInfo::new(
        plan,
        jobs_at_once,
        sandbox.features().clone(),
    ))));
    let tally = Tally::new(plan);
    let mut jobs = Vec::new();
    for (planned, intake) in plan.assignments.iter().zip(intakes) {
        match build(planned, intake, builder, &emit) {
            Ok(runner) => jobs.extend(planned.checks.iter().map(|check| Job {
                assignment: planned.assignment,
                check,
                runner: runner.clone(),
                package: plan.source.package(planned.assignment),
            })),
            Err(failure) => {
                for check in &planned.checks {
                    let record = CheckRecord {
                        assignment: planned.assignment.id.clone(),
                        check: crate::events::CheckInfo::from_check(check),
                        verdict: CheckVerdict::NotBuilt(failure.clone()),
                        outcome: None,
                    };
                    tally.record(record, &emit);
                }
            }
        }
    }
    let building = started.elapsed();
    let grading_started = Instant::now();
    let (quiet, side_by_side): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|job| job.check.kind.needs_quiet_machine());
    let finish = |record: CheckRecord| tally.record(record, &emit);
    jobs::run_all(
        &side_by_side,
        jobs_at_once,
        plan.seed,
        sandbox,
        events,
        &finish,
    );
    jobs::run_all(&quiet, 1, plan.seed, sandbox, events, &finish);
    emit(GradingEvent::RunFinished(RunTimes {
        building,
        grading: grading_started.elapsed(),
        total: started.elapsed(),
    }));
}

/// Builds one assignment (or passes on why it cannot be): the runner, or why not.
fn build(
    planned: &Planned,
    intake: Intake,
    builder: &Builder,
    emit: &impl Fn(GradingEvent),
) -> Result<PathBuf, BuildFailure> {
    let assignment = planned.assignment.id.clone();
    let started = Instant::now();
    let result = match intake {
        Intake::Refused(failure) => Err(failure),
        Intake::Ready { target, notes } => {
            emit(GradingEvent::BuildStarted {
                assignment: assignment.clone(),
                command: builder.command_line(&target),
            });
            builder.build(&target, notes).unwrap_or_else(|error| {
                Err(BuildFailure::Cargo {
                    why: crate::errors::chain(&error),
                })
            })
        }
    };
    emit(GradingEvent::BuildFinished {
        assignment,
        result: result.clone(),
        elapsed: started.elapsed(),
    });
    result
}

/// Counts each assignment's checks as they come in, to announce when one is complete.
struct Tally {
    /// Per assignment: checks still to come, points earned, points possible.
    open: Mutex<BTreeMap<String, (usize, u32, u32)>>,
}

impl Tally {
    fn new(plan: &Plan) -> Self {
        let open = plan
            .assignments
            .iter()
            .map(|p| {
                let possible = p.checks.iter().map(|c| c.points).sum();
                (p.assignment.id.clone(), (p.checks.len(), 0, possible))
            })
            .collect();
        Self {
            open: Mutex::new(open),
        }
    }

    fn record(&self, record: CheckRecord, emit: &impl Fn(GradingEvent)) {
        let assignment = record.assignment.clone();
        let earned = record.earned();
        emit(GradingEvent::CheckFinished(Box::new(record)));
        let done = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            open.get_mut(&assignment).and_then(|entry| {
                entry.0 = entry.0.saturating_sub(1);
                entry.1 += earned;
                (entry.0 == 0).then_some((entry.1, entry.2))
            })
        };
        if let Some((earned, possible)) = done {
            emit(GradingEvent::AssignmentFinished {
                assignment,
                earned,
                possible,
            });
        }
    }
}
