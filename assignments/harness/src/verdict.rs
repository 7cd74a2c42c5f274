//! Verdicts: what a check concluded, with the figures behind it and the command that replays
//! it. A closed enum, matched in full everywhere; reporters (terminal, JSON, JUnit, ...)
//! consume [`Outcome`]s and never re-derive anything.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::run::{Captured, Triage};
use crate::seed::Seed;

/// What one check concluded about an implementation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every run satisfied the check.
    Pass,
    /// The code ran to the end but its result, or what it left behind, is wrong.
    WrongAnswer {
        /// What the oracle expected, in words.
        expected: String,
        /// What came back.
        got: String,
        /// What the difference most likely means, and what to change.
        meaning: String,
    },
    /// No result before the deadline; the processes were examined, then killed.
    Timeout {
        /// The deadline of the run.
        limit: Duration,
        /// What each process was doing.
        triage: Triage,
    },
    /// The runner was killed by a signal it did not survive (not the harness's timeout).
    Crashed {
        /// The signal number.
        signal: i32,
    },
    /// The runner exited without a report (e.g. `std::process::exit` in the student's code).
    Exited {
        /// Its exit code.
        code: i32,
    },
    /// The student's code panicked in the runner; `todo!()` stubs end here.
    Panicked {
        /// The panic message ("not yet implemented: ..." for a `todo!()`).
        message: String,
        /// `file:line:column`, when known.
        location: Option<String>,
    },
    /// The result channel held something that is not one valid report.
    MalformedReport {
        /// What is wrong with it.
        problem: String,
    },
    /// A stream wrote more than the limit allows.
    OutputLimit {
        /// `stdout` or `stderr`.
        stream: String,
        /// The limit in bytes.
        limit: u64,
        /// Bytes written.
        written: u64,
    },
    /// The property cannot be judged here (e.g. a speedup on a one-core machine). Not a
    /// failure of the student's code; scores nothing and says why.
    NotMeasurable {
        /// Why.
        why: String,
    },
    /// The harness could not run the check at all (missing runner, OS error). Not the
    /// student's fault; scores nothing and must be fixed by whoever runs the checks.
    CouldNotRun {
        /// Why.
        why: String,
    },
}

impl Verdict {
    /// True only for [`Verdict::Pass`].
    pub fn is_pass(&self) -> bool {
        matches!(self, Self::Pass)
    }

    /// The verdict's kebab-case name, as in JSON reports and fixture expectations.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::WrongAnswer { .. } => "wrong-answer",
            Self::Timeout { .. } => "timeout",
            Self::Crashed { .. } => "crashed",
            Self::Exited { .. } => "exited",
            Self::Panicked { .. } => "panicked",
            Self::MalformedReport { .. } => "malformed-report",
            Self::OutputLimit { .. } => "output-limit",
            Self::NotMeasurable { .. } => "not-measurable",
            Self::CouldNotRun { .. } => "could-not-run",
        }
    }

    /// True for [`Verdict::NotMeasurable`]: the machine, not the code, decided the check.
    pub fn is_not_measurable(&self) -> bool {
        matches!(self, Self::NotMeasurable { .. })
    }

    /// True for a `todo!()` that was never replaced.
    pub fn is_unimplemented(&self) -> bool {
        matches!(self, Self::Panicked { message, .. } if message.starts_with("not yet implemented"))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pass => f.write_str("passed"),
            Self::WrongAnswer {
                expected,
                got,
                meaning,
            } => write!(
                f,
                "wrong answer\n  expected: {expected}\n  got:      {got}\n  likely:   {meaning}"
            ),
            Self::Timeout { limit, triage } => write!(
                f,
                "timed out: no result after {:.1} s.\n{triage}",
                limit.as_secs_f64()
            ),
            Self::Crashed { signal } => {
                let (name, meaning) = signal_meaning(*signal);
                write!(
                    f,
                    "crashed: the runner was killed by {name} ({signal}): {meaning}"
                )
            }
            Self::Exited { code } => write!(
                f,
                "exited with code {code} before reporting: the code called \
                 std::process::exit, or a forked child returned into the runner's main \
                 instead of exiting (use mp::Process, which exits for you)"
            ),
            Self::Panicked { message, location } => {
                let at = location
                    .as_deref()
                    .map(|l| format!("\n  at {l}"))
                    .unwrap_or_default();
                if self.is_unimplemented() {
                    write!(
                        f,
                        "{message}{at}\n  This is a todo!() of the stub: write that part \
                         (see the // TODO: comments and README.md)."
                    )
                } else {
                    write!(f, "your code panicked: {message}{at}")
                }
            }
            Self::MalformedReport { problem } => write!(
                f,
                "the runner's report is unreadable ({problem}); the runner writes it on \
                 fd 3 after your code returns: did your code write to or close fd 3?"
            ),
            Self::OutputLimit {
                stream,
                limit,
                written,
            } => write!(
                f,
                "too much output: {written} bytes on {stream}, the limit is {limit}; remove \
                 prints from loops"
            ),
            Self::NotMeasurable { why } => write!(f, "not measurable on this machine: {why}"),
            Self::CouldNotRun { why } => {
                write!(f, "the check could not run (not your code's fault): {why}")
            }
        }
    }
}

/// A signal's name and what it usually means in student code.
pub fn signal_meaning(signal: i32) -> (String, &'static str) {
    let name = nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|_| format!("signal {signal}"));
    let meaning = match signal {
        libc::SIGSEGV => "a memory error: unsafe code, or a stack overflow",
        libc::SIGABRT => {
            "an abort: a panic while panicking, an allocation failure, or a double free"
        }
        libc::SIGKILL => "killed from outside: out of memory, or a limit was crossed",
        libc::SIGXCPU => "the CPU-time limit was crossed",
        libc::SIGBUS => "a memory mapping was touched beyond its end (a truncated file?)",
        libc::SIGPIPE => "it wrote to a pipe whose reader is gone",
        libc::SIGTERM => "asked to stop from outside",
        _ => "an unexpected signal",
    };
    (name, meaning)
}

/// A measurement behind a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// What was measured ("wall time", "sequential time", "peak processes").
    pub name: String,
    /// The value, in `unit`.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
}

/// The unit of a [`Figure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// Seconds (shown in ms below 10 s).
    Seconds,
    /// A count.
    Count,
    /// A plain ratio (speedup, fraction).
    Ratio,
}

impl Figure {
    /// A duration.
    pub fn time(name: &str, value: Duration) -> Self {
        Self {
            name: name.to_owned(),
            value: value.as_secs_f64(),
            unit: Unit::Seconds,
        }
    }

    /// A count.
    pub fn count(name: &str, value: usize) -> Self {
        Self {
            name: name.to_owned(),
            value: value as f64,
            unit: Unit::Count,
        }
    }

    /// A ratio.
    pub fn ratio(name: &str, value: f64) -> Self {
        Self {
            name: name.to_owned(),
            value,
            unit: Unit::Ratio,
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            Unit::Seconds if self.value < 10.0 => {
                write!(f, "{} {:.0} ms", self.name, self.value * 1000.0)
            }
            Unit::Seconds => write!(f, "{} {:.1} s", self.name, self.value),
            Unit::Count => write!(f, "{} {}", self.name, self.value),
            Unit::Ratio => write!(f, "{} {:.2}", self.name, self.value),
        }
    }
}

/// How to run one check again, with the same inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Replay {
    /// A visible check: its test in the package's `tests/visible.rs`.
    VisibleTest {
        /// The package (`a00-process`, `a00-process-solution`).
        package: String,
        /// The test function.
        test: String,
        /// The seed.
        seed: Seed,
    },
    /// A hidden check: only the grader runs it.
    Grader {
        /// The assignment.
        assignment: String,
        /// The check.
        check: String,
        /// The seed.
        seed: Seed,
    },
}

impl fmt::Display for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::VisibleTest {
                package,
                test,
                seed,
            } => write!(
                f,
                "COURSE_SEED={seed} cargo test -p {package} --test visible -- {test} --exact"
            ),
            Self::Grader {
                assignment,
                check,
                seed,
            } => write!(f, "grader {assignment} --check {check} --seed {seed}"),
        }
    }
}

/// Output of the run a verdict was decided on.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// Its stdout.
    pub stdout: Captured,
    /// Its stderr.
    pub stderr: Captured,
}

/// The full result of one check: the event every reporter consumes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// The assignment's id.
    pub assignment: String,
    /// The check's id.
    pub check: String,
    /// The check's title.
    pub title: String,
    /// Points the check is worth.
    pub points: u32,
    /// The conclusion.
    pub verdict: Verdict,
    /// The measurements behind it.
    pub figures: Vec<Figure>,
    /// How many runs were made (of the manifest's `repetitions`; fewer when one failed).
    pub runs: u32,
    /// How many runs the check asks for.
    pub repetitions: u32,
    /// The seed the inputs came from.
    pub seed: Seed,
    /// How to run it again.
    pub replay: Replay,
    /// Output of the run the verdict was decided on, when there was one.
    pub evidence: Option<Evidence>,
    /// Time the whole check took.
    pub elapsed: Duration,
}

impl Outcome {
    /// Points earned: all of them on a pass, none otherwise.
    pub fn earned(&self) -> u32 {
        if self.verdict.is_pass() {
            self.points
        } else {
            0
        }
    }
}

/// Longest part of a stream shown in a failure message.
const SHOWN_LINES: usize = 40;

impl fmt::Display for Outcome {
    /// A failure leads with the verdict (for a stub: the `todo!()` message), then the check,
    /// figures, runs, the replay command and the run's output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let check = format!(
            "{} / {}: {} ({} of {} points)",
            self.assignment,
            self.check,
            self.title,
            self.earned(),
            self.points
        );
        if self.verdict.is_pass() {
            writeln!(f, "passed: {check}")?;
        } else {
            writeln!(f, "{}", self.verdict)?;
            writeln!(f, "  check:   {check}")?;
        }
        if !self.figures.is_empty() {
            let figures: Vec<String> = self.figures.iter().map(ToString::to_string).collect();
            writeln!(f, "  figures: {}", figures.join(", "))?;
        }
        writeln!(
            f,
            "  runs:    {} of {}, seed {}, {:.2} s",
            self.runs,
            self.repetitions,
            self.seed,
            self.elapsed.as_secs_f64()
        )?;
        if !self.verdict.is_pass() {
            writeln!(f, "  replay:  {}", self.replay)?;
            if let (Verdict::Timeout { .. }, Some(evidence)) = (&self.verdict, &self.evidence)
                && evidence.stderr.text().contains("panicked at")
            {
                writeln!(
                    f,
                    "  note:    a process panicked before the deadline (stderr below): the \
                     others may be waiting for something it never did"
                )?;
            }
            if let Some(evidence) = &self.evidence {
                show_stream(f, "stdout", &evidence.stdout)?;
                if !only_the_panic(&self.verdict, &evidence.stderr) {
                    show_stream(f, "stderr", &evidence.stderr)?;
                }
            }
        }
        Ok(())
    }
}

/// True when stderr holds nothing but the standard report of the panic the verdict already
/// shows.
fn only_the_panic(verdict: &Verdict, stderr: &Captured) -> bool {
    match verdict {
        Verdict::Panicked { message, .. } => {
            let text = stderr.text();
            let rest = text.replace(message.as_str(), "");
            rest.lines().all(|line| {
                let line = line.trim();
                line.is_empty()
                    || (line.starts_with("thread '") && line.contains("panicked at"))
                    || line.starts_with("note: run with `RUST_BACKTRACE=")
            })
        }
        Verdict::Pass
        | Verdict::WrongAnswer { .. }
        | Verdict::Timeout { .. }
        | Verdict::Crashed { .. }
        | Verdict::Exited { .. }
        | Verdict::MalformedReport { .. }
        | Verdict::OutputLimit { .. }
        | Verdict::NotMeasurable { .. }
        | Verdict::CouldNotRun { .. } => false,
    }
}

fn show_stream(f: &mut fmt::Formatter<'_>, name: &str, captured: &Captured) -> fmt::Result {
    if captured.total == 0 {
        return Ok(());
    }
    let text = captured.text();
    let lines: Vec<&str> = text.lines().collect();
    writeln!(f, "  --- {name} of that run ({} bytes) ---", captured.total)?;
    for line in lines.iter().take(SHOWN_LINES) {
        writeln!(f, "  | {line}")?;
    }
    if lines.len() > SHOWN_LINES || captured.truncated() {
        writeln!(f, "  | ... (cut)")?;
    }
    Ok(())
}
