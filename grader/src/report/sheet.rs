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
    /// Points of the checks this machine could not measure (they earn nothing until graded
    /// again on a machine with free cores).
    pub unmeasured: u32,
    /// Checks this machine could not measure.
    pub unmeasured_checks: usize,
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
            unmeasured: self
                .records
                .values()
                .filter(|r| r.verdict.is_not_measurable())
                .map(|r| r.check.points)
                .sum(),
            unmeasured_checks: self
                .records
                .values()
                .filter(|r| r.verdict.is_not_measurable())
                .count(),
        }
    }
}

/// A small run with every kind of result, for the reporters' tests.
#[cfg(test)]
pub mod sample {
    use std::path::PathBuf;
    use std::time::Duration;

    use course_harness::manifest::Visibility;
    use course_harness::procfs::ProcessSnapshot;
    use course_harness::run::Captured;
    use course_harness::seed::Seed;
    use course_harness::verdict::{Evidence, Figure, Outcome, Replay, Verdict};

    use crate::events::{AssignmentInfo, CheckInfo, CheckRecord, GradingEvent, RunInfo, RunTimes};
    use crate::plan::Source;
    use crate::report::GradeSheet;
    use crate::sandbox::{Isolation, SandboxFeatures};
    use crate::verdict::{BuildFailure, CheckVerdict, Leaks};

    fn check(id: &str, points: u32, visibility: Visibility) -> CheckInfo {
        CheckInfo {
            id: id.to_owned(),
            title: format!("the {id} check"),
            kind: "correctness",
            kind_detail: "correctness".to_owned(),
            measures_speed: false,
            visibility,
            points,
            timeout: Duration::from_secs(5),
            repetitions: 1,
        }
    }

    /// Text in the hidden check's inputs and output, which no report for students may show.
    pub const SECRET: &str = "hidden-input-7f3a";

    fn outcome(check: &CheckInfo, verdict: Verdict, stdout: &str) -> Outcome {
        let mut figures = vec![Figure::time("wall time", Duration::from_millis(120))];
        if check.measures_speed {
            figures.push(Figure::ratio("speedup", 1.85));
        }
        Outcome {
            assignment: "a00-process".to_owned(),
            check: check.id.clone(),
            title: check.title.clone(),
            points: check.points,
            verdict,
            figures,
            runs: 1,
            repetitions: 1,
            seed: Seed(0x2a),
            replay: Replay::Grader {
                assignment: "a00-process".to_owned(),
                check: check.id.clone(),
                seed: Seed(0x2a),
            },
            evidence: Some(Evidence {
                stdout: Captured {
                    bytes: stdout.as_bytes().to_vec(),
                    total: stdout.len() as u64,
                },
                stderr: Captured::default(),
            }),
            elapsed: Duration::from_millis(150),
        }
    }

    /// The events of a run over two assignments: a00 built, with a passed speedup check, a
    /// leak, and a hidden check with `last_verdict` whose output holds [`SECRET`]; a01 did
    /// not compile.
    pub fn events(last_verdict: Verdict) -> Vec<GradingEvent> {
        let mut a00 = vec![
            check("first", 2, Visibility::Visible),
            check("second", 1, Visibility::Visible),
            check("third", 1, Visibility::Hidden),
        ];
        a00[0].kind = "speedup";
        a00[0].kind_detail = "speedup: at least 0.5 × what bare processes gain".to_owned();
        a00[0].measures_speed = true;
        let a01 = vec![check("only", 3, Visibility::Visible)];
        let info = RunInfo {
            source: Source::Submission(PathBuf::from("/home/ta/alice")),
            seed: Seed(0x2a),
            jobs: 2,
            sandbox: SandboxFeatures {
                isolation: Isolation::PidNamespace,
                user_namespace: false,
                subreaper: true,
                limits: "some limits".to_owned(),
            },
            assignments: vec![
                AssignmentInfo {
                    id: "a00-process".to_owned(),
                    title: "Processes".to_owned(),
                    package: "a00-process".to_owned(),
                    checks: a00.clone(),
                },
                AssignmentInfo {
                    id: "a01-queue".to_owned(),
                    title: "Queues".to_owned(),
                    package: "a01-queue".to_owned(),
                    checks: a01.clone(),
                },
            ],
        };
        let record = |assignment: &str, check: &CheckInfo, verdict, outcome| {
            GradingEvent::CheckFinished(Box::new(CheckRecord {
                assignment: assignment.to_owned(),
                check: check.clone(),
                verdict,
                outcome,
            }))
        };
        let compile_error = BuildFailure::CompileError {
            errors: vec!["error[E0308]: mismatched types\n --> src/lib.rs:3:5".to_owned()],
            total: 1,
            notes: Vec::new(),
        };
        let daemon = ProcessSnapshot {
            pid: 4,
            ppid: 1,
            pgid: 4,
            state: 'S',
            comm: "daemon".to_owned(),
            cpu_ticks: 0,
            threads: 1,
        };
        vec![
            GradingEvent::RunStarted(Box::new(info)),
            GradingEvent::BuildFinished {
                assignment: "a00-process".to_owned(),
                result: Ok(PathBuf::from("/runs/a00-process-runner")),
                elapsed: Duration::from_secs(2),
            },
            GradingEvent::BuildFinished {
                assignment: "a01-queue".to_owned(),
                result: Err(compile_error.clone()),
                elapsed: Duration::from_secs(1),
            },
            record(
                "a01-queue",
                &a01[0],
                CheckVerdict::NotBuilt(compile_error),
                None,
            ),
            // Out of order on purpose: reports follow the plan, not the arrival.
            record(
                "a00-process",
                &a00[2],
                CheckVerdict::Judged(last_verdict.clone()),
                Some(outcome(
                    &a00[2],
                    last_verdict,
                    &format!("inputs: {SECRET}\n"),
                )),
            ),
            record(
                "a00-process",
                &a00[0],
                CheckVerdict::Judged(Verdict::Pass),
                Some(outcome(&a00[0], Verdict::Pass, "")),
            ),
            record(
                "a00-process",
                &a00[1],
                CheckVerdict::Leaked {
                    judged: Verdict::Pass,
                    leaks: Leaks {
                        processes: vec![daemon],
                        shm_segments: vec!["mp-1".to_owned()],
                        sysv_segments: Vec::new(),
                    },
                },
                Some(outcome(&a00[1], Verdict::Pass, "score: 100\n")),
            ),
            GradingEvent::RunFinished(RunTimes {
                building: Duration::from_secs(3),
                grading: Duration::from_secs(1),
                total: Duration::from_secs(4),
            }),
        ]
    }

    /// The sheet of [`events`].
    pub fn sheet(last_verdict: Verdict) -> GradeSheet {
        let mut sheet = GradeSheet::default();
        for event in events(last_verdict) {
            sheet.apply(&event);
        }
        sheet
    }
}
