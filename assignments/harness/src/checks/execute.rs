//! One run of the runner, turned into either the student's report or a failing verdict.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::checks::context::{CheckContext, Failure};
use crate::errors::FrameError;
use crate::procfs::ProcessSnapshot;
use crate::protocol::{RunnerOutcome, decode_frame};
use crate::run::{self, RunEnd, RunRecord};
use crate::runner::error_chain;
use crate::verdict::{Evidence, Figure, Verdict};

/// A run that returned a report.
#[derive(Debug, Clone)]
pub struct Execution<R> {
    /// The assignment-specific report.
    pub report: R,
    /// The runner's pid: the parent of the processes the student's code started.
    pub runner_pid: u32,
    /// Children of the runner left (running or unreaped) when the student's code returned.
    pub children_after: Vec<ProcessSnapshot>,
    /// Time in the student's code, measured inside the runner (informational).
    pub student_time: Duration,
    /// What was observed from outside.
    pub record: RunRecord,
}

impl<R> Execution<R> {
    /// The run's output.
    pub fn evidence(&self) -> Evidence {
        evidence(&self.record)
    }

    /// The figures every run has: wall time, and the peak process count if sampled.
    pub fn figures(&self) -> Vec<Figure> {
        base_figures(&self.record)
    }

    /// A failure of this run, with the run's figures (first) and output attached.
    pub fn fail(&self, failure: Failure) -> Failure {
        let Failure {
            verdict, figures, ..
        } = failure;
        Failure::new(verdict)
            .with_figures(self.figures())
            .with_figures(figures)
            .with_evidence(self.evidence())
    }
}

fn evidence(record: &RunRecord) -> Evidence {
    Evidence {
        stdout: record.stdout.clone(),
        stderr: record.stderr.clone(),
    }
}

fn base_figures(record: &RunRecord) -> Vec<Figure> {
    let mut figures = vec![Figure::time("wall time", record.wall)];
    if let Some(peak) = record.peak_processes {
        figures.push(Figure::count("peak processes", peak));
    }
    figures
}

/// Runs the check's runner on `scenario` and decodes its report.
///
/// Every way a run can go wrong becomes a failing verdict here, so a check only judges
/// reports: a timeout (with triage), a crash, an exit without report, a panic (a `todo!()`),
/// a malformed or missing report, or too much output (when the sandbox says it fails).
pub fn execute<S, R>(ctx: &CheckContext<'_>, scenario: &S) -> Result<Execution<R>, Failure>
where
    S: Serialize,
    R: DeserializeOwned,
{
    let input = serde_json::to_vec(scenario).map_err(|e| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("the scenario does not serialise: {e}"),
        })
    })?;
    let options = ctx.sandbox();
    let record = run::run(ctx.runner, &input, &options).map_err(|e| {
        Failure::new(Verdict::CouldNotRun {
            why: error_chain(&e),
        })
    })?;
    let fail = |verdict| {
        Failure::new(verdict)
            .with_figures(base_figures(&record))
            .with_evidence(evidence(&record))
    };
    let signal = match &record.end {
        RunEnd::TimedOut { limit, triage } => {
            return Err(fail(Verdict::Timeout {
                limit: *limit,
                triage: triage.clone(),
            }));
        }
        RunEnd::Exited { .. } => None,
        RunEnd::Signaled { signal } => Some(*signal),
    };
    if options.fail_on_output_limit {
        for (name, stream) in [("stdout", &record.stdout), ("stderr", &record.stderr)] {
            if stream.truncated() {
                return Err(fail(Verdict::OutputLimit {
                    stream: name.to_owned(),
                    limit: options.output_cap as u64,
                    written: stream.total,
                }));
            }
        }
    }
    let envelope = match decode_frame::<R>(&record.result_bytes) {
        Ok(envelope) => envelope,
        Err(problem) => {
            return Err(fail(match (signal, problem, &record.end) {
                (Some(signal), _, _) => Verdict::Crashed { signal },
                (None, FrameError::Missing, RunEnd::Exited { code }) => {
                    Verdict::Exited { code: *code }
                }
                (None, problem, _) => Verdict::MalformedReport {
                    problem: problem.to_string(),
                },
            }));
        }
    };
    let report = match envelope.outcome {
        RunnerOutcome::Returned(report) => report,
        RunnerOutcome::Panicked { message, location } => {
            return Err(fail(Verdict::Panicked { message, location }));
        }
        RunnerOutcome::BadScenario { error } => {
            return Err(fail(Verdict::CouldNotRun {
                why: format!(
                    "the runner could not read its scenario ({error}): was it built from this \
                     course's sources?"
                ),
            }));
        }
    };
    match (&record.end, signal) {
        (RunEnd::Exited { code: 0 }, None) => Ok(Execution {
            report,
            runner_pid: envelope.runner_pid,
            children_after: envelope.children_after,
            student_time: Duration::from_micros(envelope.student_micros),
            record,
        }),
        (_, Some(signal)) => Err(fail(Verdict::Crashed { signal })),
        (RunEnd::Exited { code }, None) => Err(fail(Verdict::Exited { code: *code })),
        (RunEnd::Signaled { signal }, None) => Err(fail(Verdict::Crashed { signal: *signal })),
        (RunEnd::TimedOut { limit, triage }, None) => Err(fail(Verdict::Timeout {
            limit: *limit,
            triage: triage.clone(),
        })),
    }
}
