//! The grader's verdicts: the harness's [`Verdict`] for a check that ran, plus what only the
//! grader can see — an assignment that did not build, a check that left processes or shared
//! memory behind, a runner that ran out of address space. Closed enums, matched in full.

use std::fmt;
use std::time::Duration;

use course_harness::procfs::ProcessSnapshot;
use course_harness::verdict::{Outcome, Verdict};
use serde::Serialize;

/// Why an assignment could not be built, so none of its checks ran (each scores 0).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum BuildFailure {
    /// The code does not compile: the compiler's first errors, as rustc printed them.
    CompileError {
        /// The first errors (rendered, at most [`SHOWN_ERRORS`]).
        errors: Vec<String>,
        /// How many errors there were in all.
        total: usize,
        /// Notes from taking the submission (e.g. a dependency that was not taken).
        notes: Vec<String>,
    },
    /// The submission has no code for this assignment.
    Missing {
        /// What is missing.
        why: String,
    },
    /// The submission's files for this assignment were refused.
    Rejected {
        /// Why.
        why: String,
    },
    /// Building took longer than `--build-timeout`.
    TimedOut {
        /// The limit.
        #[serde(rename = "limit_secs", serialize_with = "secs")]
        limit: Duration,
    },
    /// Cargo failed for a reason that is not the code under test (a dependency, the network,
    /// the toolchain, a missing package): whoever runs the grader must fix it.
    Cargo {
        /// Cargo's own explanation.
        why: String,
    },
}

/// At most this many compiler errors are kept and shown.
pub const SHOWN_ERRORS: usize = 3;

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl BuildFailure {
    /// The kebab-case label, as in the JSON report.
    pub fn label(&self) -> &'static str {
        match self {
            Self::CompileError { .. } => "compile-error",
            Self::Missing { .. } => "missing",
            Self::Rejected { .. } => "rejected",
            Self::TimedOut { .. } => "build-timeout",
            Self::Cargo { .. } => "build-failed",
        }
    }

    /// True when the grader, not the submission, is to blame.
    pub fn is_grader_fault(&self) -> bool {
        match self {
            Self::Cargo { .. } => true,
            Self::CompileError { .. }
            | Self::Missing { .. }
            | Self::Rejected { .. }
            | Self::TimedOut { .. } => false,
        }
    }
}

impl fmt::Display for BuildFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CompileError {
                errors,
                total,
                notes,
            } => {
                let shown = errors.len();
                write!(f, "does not compile: {total} error(s)")?;
                if shown < *total {
                    write!(f, ", the first {shown} shown")?;
                }
                for note in notes {
                    write!(f, "\n  note: {note}")?;
                }
                for error in errors {
                    for line in error.trim_end().lines() {
                        write!(f, "\n  | {line}")?;
                    }
                    write!(f, "\n  |")?;
                }
                Ok(())
            }
            Self::Missing { why } => write!(f, "missing: {why}"),
            Self::Rejected { why } => write!(f, "refused: {why}"),
            Self::TimedOut { limit } => write!(
                f,
                "the build took longer than {} s and was stopped",
                limit.as_secs()
            ),
            Self::Cargo { why } => write!(
                f,
                "cargo failed, not because of the code under test (fix the setup and grade \
                 again): {why}"
            ),
        }
    }
}

/// What a check left behind, found by the grader after it ended (and removed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Leaks {
    /// Processes of the check still alive after it ended (pids as the check's code saw
    /// them); the grader killed them.
    pub processes: Vec<ProcessSnapshot>,
    /// Shared-memory segments (`/dev/shm` names) the check created and did not remove; the
    /// grader removed them.
    pub shm_segments: Vec<String>,
    /// System V shared-memory segments the check created and did not remove (described);
    /// the grader removed them.
    pub sysv_segments: Vec<String>,
}

impl Leaks {
    /// True when nothing was left.
    pub fn is_empty(&self) -> bool {
        self.processes.is_empty() && self.shm_segments.is_empty() && self.sysv_segments.is_empty()
    }
}

impl fmt::Display for Leaks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.processes.is_empty() {
            let shown: Vec<String> = self
                .processes
                .iter()
                .take(8)
                .map(|p| format!("pid {} ({}, {})", p.pid, p.comm, p.state_in_words()))
                .collect();
            parts.push(format!(
                "{} process(es) still running after the check ended: {}",
                self.processes.len(),
                shown.join(", ")
            ));
        }
        if !self.shm_segments.is_empty() {
            parts.push(format!(
                "{} shared-memory segment(s) never unlinked: {}",
                self.shm_segments.len(),
                self.shm_segments.join(", ")
            ));
        }
        if !self.sysv_segments.is_empty() {
            parts.push(format!(
                "{} System V segment(s) never removed (shmctl IPC_RMID): {}",
                self.sysv_segments.len(),
                self.sysv_segments.join(", ")
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

/// The grader's verdict on one check.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CheckVerdict {
    /// The check ran, left nothing behind, and the harness's verdict stands.
    Judged(Verdict),
    /// The check ran but left processes (e.g. a `setsid` daemon, which escapes the process
    /// group) or shared-memory segments behind. Scores nothing, whatever the harness said.
    Leaked {
        /// What the harness concluded about the run itself.
        judged: Verdict,
        /// What was left.
        leaks: Leaks,
    },
    /// The runner failed at the address-space limit ("memory allocation of N bytes failed").
    MemoryLimit {
        /// What the harness saw (a crash, a panic, an error report).
        judged: Verdict,
        /// The limit, in bytes.
        limit_bytes: u64,
    },
    /// The check did not run: its assignment did not build.
    NotBuilt(BuildFailure),
}

impl CheckVerdict {
    /// The verdict of a check that ran: leaks and the memory limit override the harness.
    pub fn of_run(outcome: &Outcome, leaks: Leaks, memory_limit: u64) -> Self {
        let judged = outcome.verdict.clone();
        if !leaks.is_empty() {
            return Self::Leaked { judged, leaks };
        }
        if !judged.is_pass() && ran_out_of_memory(outcome) {
            return Self::MemoryLimit {
                judged,
                limit_bytes: memory_limit,
            };
        }
        Self::Judged(judged)
    }

    /// Where the check stands ([`Standing`]).
    pub fn standing(&self) -> Standing {
        Standing::of(self)
    }

    /// True only for a pass.
    pub fn is_pass(&self) -> bool {
        self.standing() == Standing::Passed
    }

    /// True when the machine, not the code, decided the check: a speedup that could not be
    /// measured here (one core, or a machine too busy to tell parallel code from sequential).
    /// It earns nothing, but it is not a failure either: the check must be graded again on a
    /// machine with free cores.
    pub fn is_not_measurable(&self) -> bool {
        self.standing() == Standing::NotJudged
    }

    /// True when the grade cannot be trusted because the grader or its setup failed.
    pub fn is_grader_fault(&self) -> bool {
        self.standing() == Standing::GraderFault
    }

    /// True for a check that stopped at a `todo!()` of the stub.
    pub fn stopped_at_todo(&self) -> bool {
        matches!(self, Self::Judged(verdict) if verdict.is_unimplemented())
    }

    /// The kebab-case label: the harness's (`pass`, `wrong-answer`, `timeout`, ...) or the
    /// grader's (`leaked`, `memory-limit`, `compile-error`, `missing`, ...).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Judged(verdict) => verdict.label(),
            Self::Leaked { .. } => "leaked",
            Self::MemoryLimit { .. } => "memory-limit",
            Self::NotBuilt(failure) => failure.label(),
        }
    }
}

/// Where a check stands: the one classification of a verdict that the exit code, the totals
/// and every report (JUnit, Gradescope, Markdown sort results by it) derive from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Full points.
    Passed,
    /// The code under test failed the check (or did not build).
    Failed,
    /// The machine could not judge the property (`not-measurable`): no points, no blame.
    NotJudged,
    /// The grader or its setup failed: the grade is not to be trusted.
    GraderFault,
}

impl Standing {
    /// The standing of a verdict.
    pub fn of(verdict: &CheckVerdict) -> Self {
        match verdict {
            CheckVerdict::Judged(judged) => match judged {
                Verdict::Pass => Self::Passed,
                Verdict::NotMeasurable { .. } => Self::NotJudged,
                Verdict::CouldNotRun { .. } => Self::GraderFault,
                Verdict::WrongAnswer { .. }
                | Verdict::Timeout { .. }
                | Verdict::Crashed { .. }
                | Verdict::Exited { .. }
                | Verdict::Panicked { .. }
                | Verdict::MalformedReport { .. }
                | Verdict::OutputLimit { .. } => Self::Failed,
            },
            CheckVerdict::NotBuilt(failure) if failure.is_grader_fault() => Self::GraderFault,
            CheckVerdict::Leaked { .. }
            | CheckVerdict::MemoryLimit { .. }
            | CheckVerdict::NotBuilt(_) => Self::Failed,
        }
    }
}

impl fmt::Display for CheckVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Judged(verdict) => write!(f, "{verdict}"),
            Self::Leaked { judged, leaks } => {
                write!(
                    f,
                    "left behind after the check ended (the grader removed them): {leaks}. \
                     Every process you start must be joined, and every shared-memory segment \
                     unlinked, before your code returns"
                )?;
                if judged.is_pass() {
                    write!(f, "\n  (the check itself passed)")
                } else {
                    write!(f, "\n  the check itself: {judged}")
                }
            }
            Self::MemoryLimit {
                judged,
                limit_bytes,
            } => write!(
                f,
                "out of memory: a process hit the {} MiB address-space limit (\"memory \
                 allocation ... failed\"); something allocates far more than the task needs\n  \
                 the check itself: {judged}",
                limit_bytes >> 20
            ),
            Self::NotBuilt(failure) => write!(f, "not run: the assignment {failure}"),
        }
    }
}

/// True when the run's stderr shows Rust's allocation-failure message.
fn ran_out_of_memory(outcome: &Outcome) -> bool {
    outcome.evidence.as_ref().is_some_and(|evidence| {
        let text = evidence.stderr.text();
        text.contains("memory allocation of") && text.contains("failed")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leak_fails_a_passing_check_and_names_what_was_left() {
        let leaks = Leaks {
            processes: Vec::new(),
            shm_segments: vec!["mp-42".to_owned()],
            sysv_segments: Vec::new(),
        };
        let verdict = CheckVerdict::Leaked {
            judged: Verdict::Pass,
            leaks,
        };
        assert!(!verdict.is_pass());
        assert_eq!(verdict.label(), "leaked");
        assert!(verdict.to_string().contains("mp-42"));
        assert!(!verdict.is_grader_fault());
    }

    #[test]
    fn only_cargo_failures_and_could_not_run_are_the_graders_fault() {
        let cargo = CheckVerdict::NotBuilt(BuildFailure::Cargo { why: "x".into() });
        let compile = CheckVerdict::NotBuilt(BuildFailure::CompileError {
            errors: vec!["error[E0425]".into()],
            total: 1,
            notes: Vec::new(),
        });
        let could_not = CheckVerdict::Judged(Verdict::CouldNotRun { why: "x".into() });
        assert!(cargo.is_grader_fault());
        assert!(could_not.is_grader_fault());
        assert!(!compile.is_grader_fault());
        assert_eq!(compile.label(), "compile-error");
    }
}
