//! The grade sheet: every event folded into one ordered picture of the run, which the
//! table and JSON reporters render (each keeps its own).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::events::{AssignmentInfo, CheckRecord, GradingEvent, RunInfo, RunTimes};
use crate::verdict::BuildFailure;

/// How an assignment's build went.
#[derive(Debug, Clone)]
pub struct BuildEntry {
    /// The runner, or why there is none.
    pub result: Result<PathBuf, BuildFailure>,
    /// Time spent.
    pub elapsed: Duration,
    /// The cargo command, when one ran.
    pub command: Option<String>,
}

/// Everything known about a run so far.
#[derive(Debug, Default)]
pub struct GradeSheet {
    info: Option<RunInfo>,
    commands: BTreeMap<String, String>,
    builds: BTreeMap<String, BuildEntry>,
    records: BTreeMap<(String, String), CheckRecord>,
    times: Option<RunTimes>,
}

/// One assignment's part of the sheet, checks in manifest order.
#[derive(Debug)]
pub struct AssignmentView<'a> {
    /// The plan's entry.
    pub info: &'a AssignmentInfo,
    /// Its build, once finished.
    pub build: Option<&'a BuildEntry>,
    /// Its checks' results so far, in manifest order.
    pub records: Vec<&'a CheckRecord>,
}

impl AssignmentView<'_> {
    /// Points earned.
    pub fn earned(&self) -> u32 {
        self.records.iter().map(|r| r.earned()).sum()
    }

    /// Points possible.
    pub fn possible(&self) -> u32 {
        self.info.possible()
    }
}

/// The run's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Points earned.
    pub earned: u32,
    /// Points possible.
    pub possible: u32,
    /// Checks passed.
    pub passed: usize,
    /// Checks graded.
    pub checks: usize,
}

impl GradeSheet {
    /// Folds one event in.
    pub fn apply(&mut self, event: &GradingEvent) {
        match event {
            GradingEvent::RunStarted(info) => self.info = Some((**info).clone()),
            GradingEvent::BuildStarted {
                assignment,
                command,
            } => {
                self.commands.insert(assignment.clone(), command.clone());
            }
            GradingEvent::BuildFinished {
                assignment,
                result,
                elapsed,
            } => {
                self.builds.insert(
                    assignment.clone(),
                    BuildEntry {
                        result: result.clone(),
                        elapsed: *elapsed,
                        command: self.commands.get(assignment).cloned(),
                    },
                );
            }
            GradingEvent::CheckFinished(record) => {
                self.records.insert(
                    (record.assignment.clone(), record.check.id.clone()),
                    (**record).clone(),
                );
            }
            GradingEvent::RunFinished(times) => self.times = Some(*times),
            GradingEvent::CheckStarted { .. } | GradingEvent::AssignmentFinished { .. } => {}
        }
    }

    /// What the run grades (after `RunStarted`).
    pub fn info(&self) -> Option<&RunInfo> {
        self.info.as_ref()
    }

    /// Where the time went (after `RunFinished`).
    pub fn times(&self) -> Option<RunTimes> {
        self.times
    }

    /// Each planned assignment, in course order.
    pub fn assignments(&self) -> Vec<AssignmentView<'_>> {
        let Some(info) = &self.info else {
            return Vec::new();
        };
        info.assignments
            .iter()
            .map(|assignment| AssignmentView {
                info: assignment,
                build: self.builds.get(&assignment.id),
                records: assignment
                    .checks
                    .iter()
                    .filter_map(|c| self.records.get(&(assignment.id.clone(), c.id.clone())))
                    .collect(),
            })
            .collect()
    }

    /// Every check result, in plan order.
    pub fn records(&self) -> Vec<&CheckRecord> {
        self.assignments()
            .into_iter()
            .flat_map(|a| a.records)
            .collect()
    }

    /// Points and checks, summed.
    pub fn totals(&self) -> Totals {
        let assignments = self.assignments();
        Totals {
            earned: assignments.iter().map(AssignmentView::earned).sum(),
            possible: assignments.iter().map(AssignmentView::possible).sum(),
            passed: self
                .records
                .values()
                .filter(|r| r.verdict.is_pass())
                .count(),
            checks: assignments.iter().map(|a| a.info.checks.len()).sum(),
        }
    }
}
