//! Progress on stderr while grading: a bar on a terminal, plain lines otherwise, nothing
//! with `-q`. Failures are announced as they happen; the report explains them at the end.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::errors::ReportError;
use crate::events::GradingEvent;
use crate::report::{Reporter, text};

/// How progress is shown.
#[derive(Debug)]
enum Mode {
    /// An animated bar (stderr is a terminal).
    Bar(ProgressBar),
    /// One line per build and per check.
    Lines,
    /// Nothing.
    Silent,
}

/// The progress reporter.
#[derive(Debug)]
pub struct Progress {
    mode: Mode,
    verbose: bool,
}

impl Progress {
    /// Progress for a run; `quiet` silences it, and a stderr that is not a terminal gets
    /// plain lines.
    pub fn new(quiet: bool, verbose: bool) -> Self {
        let mode = if quiet {
            Mode::Silent
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} checks  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            Mode::Bar(bar)
        } else {
            Mode::Lines
        };
        Self { mode, verbose }
    }

    fn line(&self, text: String) {
        match &self.mode {
            Mode::Bar(bar) => bar.println(text),
            Mode::Lines => eprintln!("{text}"),
            Mode::Silent => {}
        }
    }

    fn status(&self, text: String) {
        match &self.mode {
            Mode::Bar(bar) => bar.set_message(text),
            Mode::Lines => eprintln!("{text}"),
            Mode::Silent => {}
        }
    }
}

impl Reporter for Progress {
    fn handle(&mut self, event: &GradingEvent) -> Result<(), ReportError> {
        match event {
            GradingEvent::RunStarted(info) => {
                if let Mode::Bar(bar) = &self.mode {
                    let checks: usize = info.assignments.iter().map(|a| a.checks.len()).sum();
                    bar.set_length(checks as u64);
                }
                self.line(format!(
                    "grading {} (seed {}, {} at a time; sandbox: {})",
                    info.source.describe(),
                    info.seed,
                    info.jobs,
                    info.sandbox.isolation_label()
                ));
            }
            GradingEvent::BuildStarted {
                assignment,
                command,
            } => {
                if self.verbose {
                    self.line(format!("building {assignment}: {command}"));
                } else {
                    self.status(format!("building {assignment}"));
                }
            }
            GradingEvent::BuildFinished {
                assignment,
                result,
                elapsed,
            } => match result {
                Ok(_) => self.line(format!("built {assignment} in {}", text::secs(*elapsed))),
                Err(failure) => self.line(format!(
                    "{assignment}: {} (its checks score 0)",
                    failure.label()
                )),
            },
            GradingEvent::CheckStarted { assignment, check } => {
                if let Mode::Bar(bar) = &self.mode {
                    bar.set_message(format!("{assignment} / {check}"));
                }
            }
            GradingEvent::CheckFinished(record) => {
                if let Mode::Bar(bar) = &self.mode {
                    bar.inc(1);
                }
                let timing = record
                    .outcome
                    .as_ref()
                    .map(|o| format!(" ({})", text::secs(o.elapsed)))
                    .unwrap_or_default();
                let line = format!(
                    "  {} {} / {}: {}{timing}",
                    if record.verdict.is_pass() {
                        "ok  "
                    } else {
                        "FAIL"
                    },
                    record.assignment,
                    record.check.id,
                    record.verdict.label()
                );
                match &self.mode {
                    Mode::Bar(_) if record.verdict.is_pass() && !self.verbose => {}
                    Mode::Bar(_) | Mode::Lines | Mode::Silent => self.line(line),
                }
            }
            GradingEvent::AssignmentFinished {
                assignment,
                earned,
                possible,
            } => self.line(format!("{assignment}: {earned} / {possible} points")),
            GradingEvent::RunFinished(times) => {
                if let Mode::Bar(bar) = &self.mode {
                    bar.finish_and_clear();
                }
                self.line(format!(
                    "done in {} (building {}, checks {})",
                    text::secs(times.total),
                    text::secs(times.building),
                    text::secs(times.grading)
                ));
            }
        }
        Ok(())
    }
}
