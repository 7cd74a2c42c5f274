//! The JSON report, `--format json`: one object for the whole run, written when it ends.
//!
//! Versioned: `"format": "course-grade"`, `"version": 1`. Within a version, fields are only
//! ever added; a change that removes or retypes one bumps the version. Every type below is
//! the schema, field by field (they also deserialise, with unknown fields refused, which is
//! how the tests hold the output to it).
//!
//! ```json
//! {
//!   "format": "course-grade", "version": 1, "grader": "0.1.0",
//!   "source": { "kind": "submission", "path": "/home/ta/alice" },
//!   "seed": "0x2a", "jobs": 2,
//!   "sandbox": { "isolation": "pid-namespace", "fallback_reason": null,
//!                "user_namespace": false, "subreaper": true, "limits": "CPU 2 × ..." },
//!   "score": { "earned": 8, "possible": 10 },
//!   "checks": { "passed": 6, "total": 7 },
//!   "timing": { "build_secs": 3.1, "grading_secs": 4.2, "total_secs": 7.3 },
//!   "assignments": [ {
//!     "id": "a00-process", "title": "...", "package": "a00-process",
//!     "earned": 8, "possible": 10,
//!     "build": { "status": "built", "secs": 3.1, "errors": [], "explanation": null },
//!     "checks": [ {
//!       "id": "ran-concurrently", "title": "...", "kind": "concurrency",
//!       "criterion": "concurrency: wall time under 0.6 × sequential", "timeout_secs": 10.0,
//!       "visibility": "visible", "points": 2, "earned": 0, "passed": false,
//!       "verdict": "wrong-answer", "explanation": "wrong answer\n  expected: ...",
//!       "figures": [ { "name": "wall time", "value": 0.81, "unit": "seconds" } ],
//!       "runs": 1, "repetitions": 1, "seed": "0x2a", "elapsed_secs": 0.9,
//!       "replay": "COURSE_SEED=0x2a cargo test -p a00-process --test visible -- ...",
//!       "stdout": { "excerpt": "...", "bytes": 12, "truncated": false },
//!       "stderr": null, "leaks": null
//!     } ]
//!   } ]
//! }
//! ```
//!
//! `verdict` is a label: the harness's (`pass`, `wrong-answer`, `timeout`, `crashed`,
//! `exited`, `panicked`, `malformed-report`, `output-limit`, `not-measurable`,
//! `could-not-run`) or the grader's (`leaked`, `memory-limit`, and for checks that did not
//! run because of their build: `compile-error`, `missing`, `rejected`, `build-timeout`,
//! `build-failed`). `build.status` is `built` or one of those five. Figures' `unit` is
//! `seconds`, `count` or `ratio`. Optional fields are `null` when they do not apply (a check
//! that did not run has no `seed`, `runs`, `replay`, output or figures).

use serde::{Deserialize, Serialize};

use crate::errors::ReportError;
use crate::events::{CheckRecord, GradingEvent};
use crate::plan::Source;
use crate::report::sheet::{AssignmentView, GradeSheet};
use crate::report::text;
use crate::report::{Output, Reporter};
use crate::sandbox::Isolation;
use crate::verdict::{BuildFailure, CheckVerdict};

/// The value of `format`.
pub const FORMAT: &str = "course-grade";

/// The value of `version`.
pub const VERSION: u32 = 1;

/// Bytes of each output stream kept in `excerpt`.
pub const EXCERPT_BYTES: usize = 4096;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonReport {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The grader's version.
    pub grader: String,
    /// Whose code was graded.
    pub source: JsonSource,
    /// The seed, as `0x...` (give it to `--seed` to replay the run).
    pub seed: String,
    /// Checks run side by side, at most.
    pub jobs: usize,
    /// What the sandbox did.
    pub sandbox: JsonSandbox,
    /// Points.
    pub score: JsonScore,
    /// Checks passed, of all graded.
    pub checks: JsonCount,
    /// Where the time went.
    pub timing: JsonTiming,
    /// Every graded assignment, in course order.
    pub assignments: Vec<JsonAssignment>,
}

/// `source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSource {
    /// `workspace` (the repository's assignments/), `solutions` or `submission`.
    pub kind: String,
    /// The submission directory, for `submission`.
    pub path: Option<String>,
}

/// `sandbox`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSandbox {
    /// `pid-namespace` or `process-group`.
    pub isolation: String,
    /// Why there is no PID namespace, for `process-group`.
    pub fallback_reason: Option<String>,
    /// The grader entered a user namespace to create the others (it is not root).
    pub user_namespace: bool,
    /// The grader was the child subreaper of every runner.
    pub subreaper: bool,
    /// The resource limits, in words.
    pub limits: String,
}

/// `score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonScore {
    /// Points earned.
    pub earned: u32,
    /// Points possible.
    pub possible: u32,
    /// Points of checks this machine could not measure (verdict `not-measurable`): not
    /// earned, not failed; grade them again on a machine with free cores. Added in version 1;
    /// absent in older reports means 0.
    #[serde(default)]
    pub unmeasured: u32,
}

/// `checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonCount {
    /// Checks passed.
    pub passed: usize,
    /// Checks graded.
    pub total: usize,
}

/// `timing`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTiming {
    /// Taking the code and building it.
    pub build_secs: f64,
    /// Running the checks.
    pub grading_secs: f64,
    /// All of it.
    pub total_secs: f64,
}

/// One assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonAssignment {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The package graded.
    pub package: String,
    /// Points earned.
    pub earned: u32,
    /// Points possible.
    pub possible: u32,
    /// How the build went.
    pub build: JsonBuild,
    /// Its checks, in manifest order.
    pub checks: Vec<JsonCheck>,
}

/// `build`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonBuild {
    /// `built`, `compile-error`, `missing`, `rejected`, `build-timeout` or `build-failed`.
    pub status: String,
    /// Time spent building.
    pub secs: f64,
    /// The compiler's first errors, as rendered, for `compile-error`.
    pub errors: Vec<String>,
    /// Why it did not build, in words (null when built).
    pub explanation: Option<String>,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonCheck {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: String,
    /// What passing takes, in words (the kind and its thresholds).
    pub criterion: String,
    /// The deadline of each run, in seconds.
    pub timeout_secs: f64,
    /// `visible` or `hidden`.
    pub visibility: String,
    /// Points possible.
    pub points: u32,
    /// Points earned.
    pub earned: u32,
    /// True only for `pass`.
    pub passed: bool,
    /// The verdict's label (see the module docs).
    pub verdict: String,
    /// The verdict explained: what was expected, what came back, what it likely means.
    pub explanation: String,
    /// The measurements behind the verdict.
    pub figures: Vec<JsonFigure>,
    /// Runs made.
    pub runs: Option<u32>,
    /// Runs asked for.
    pub repetitions: u32,
    /// The seed of the check's inputs.
    pub seed: Option<String>,
    /// Time the check took.
    pub elapsed_secs: Option<f64>,
    /// The command that replays the check.
    pub replay: Option<String>,
    /// The deciding run's stdout.
    pub stdout: Option<JsonStream>,
    /// The deciding run's stderr.
    pub stderr: Option<JsonStream>,
    /// What the check left behind, for `leaked`.
    pub leaks: Option<JsonLeaks>,
}

/// A figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonFigure {
    /// What was measured.
    pub name: String,
    /// The value.
    pub value: f64,
    /// `seconds`, `count` or `ratio`.
    pub unit: String,
}

/// Part of an output stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonStream {
    /// The first [`EXCERPT_BYTES`] bytes, as text.
    pub excerpt: String,
    /// Bytes written in all.
    pub bytes: u64,
    /// True when `excerpt` is not all of it.
    pub truncated: bool,
}

/// `leaks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonLeaks {
    /// Processes still running after the check (killed by the grader).
    pub processes: Vec<JsonProcess>,
    /// `/dev/shm` segments left (removed by the grader).
    pub shm_segments: Vec<String>,
    /// System V shared-memory segments left, described (removed by the grader).
    pub sysv_segments: Vec<String>,
}

/// A process left behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonProcess {
    /// Its pid, as the check's code saw it.
    pub pid: u32,
    /// Its parent's.
    pub ppid: u32,
    /// Its command name.
    pub comm: String,
    /// Its state in words.
    pub state: String,
}

/// Writes the JSON report when the run finishes.
#[derive(Debug)]
pub struct JsonReporter {
    sheet: GradeSheet,
    output: Output,
}

impl JsonReporter {
    /// A JSON reporter writing to `output`.
    pub fn new(output: Output) -> Self {
        Self {
            sheet: GradeSheet::default(),
            output,
        }
    }
}

impl Reporter for JsonReporter {
    fn handle(&mut self, event: &GradingEvent) -> Result<(), ReportError> {
        self.sheet.apply(event);
        if let GradingEvent::RunFinished(_) = event
            && let Some(report) = JsonReport::of(&self.sheet)
        {
            let mut text = serde_json::to_string_pretty(&report).map_err(ReportError::Json)?;
            text.push('\n');
            self.output.write(&text)?;
        }
        Ok(())
    }
}

impl JsonReport {
    /// The report of a sheet (`None` before the run started).
    pub fn of(sheet: &GradeSheet) -> Option<JsonReport> {
        let info = sheet.info()?;
        let totals = sheet.totals();
        let times = sheet.times();
        let secs = |pick: fn(&crate::events::RunTimes) -> std::time::Duration| {
            times.as_ref().map_or(0.0, |t| pick(t).as_secs_f64())
        };
        Some(JsonReport {
            format: FORMAT.to_owned(),
            version: VERSION,
            grader: env!("CARGO_PKG_VERSION").to_owned(),
            source: match &info.source {
                Source::Workspace => JsonSource {
                    kind: "workspace".to_owned(),
                    path: None,
                },
                Source::Solutions => JsonSource {
                    kind: "solutions".to_owned(),
                    path: None,
                },
                Source::Submission(dir) => JsonSource {
                    kind: "submission".to_owned(),
                    path: Some(dir.display().to_string()),
                },
            },
            seed: info.seed.to_string(),
            jobs: info.jobs,
            sandbox: JsonSandbox {
                isolation: info.sandbox.isolation_label().to_owned(),
                fallback_reason: match &info.sandbox.isolation {
                    Isolation::PidNamespace => None,
                    Isolation::ProcessGroup { why } => Some(why.clone()),
                },
                user_namespace: info.sandbox.user_namespace,
                subreaper: info.sandbox.subreaper,
                limits: info.sandbox.limits.clone(),
            },
            score: JsonScore {
                earned: totals.earned,
                possible: totals.possible,
                unmeasured: totals.unmeasured,
            },
            checks: JsonCount {
                passed: totals.passed,
                total: totals.checks,
            },
            timing: JsonTiming {
                build_secs: secs(|t| t.building),
                grading_secs: secs(|t| t.grading),
                total_secs: secs(|t| t.total),
            },
            assignments: sheet
                .assignments()
                .iter()
                .map(|a| assignment(a, &info.source))
                .collect(),
        })
    }
}

fn assignment(view: &AssignmentView<'_>, source: &Source) -> JsonAssignment {
    let build = match view.build {
        None => JsonBuild {
            status: "not-run".to_owned(),
            secs: 0.0,
            errors: Vec::new(),
            explanation: None,
        },
        Some(entry) => JsonBuild {
            status: entry
                .result
                .as_ref()
                .map_or_else(BuildFailure::label, |_| "built")
                .to_owned(),
            secs: entry.elapsed.as_secs_f64(),
            errors: match &entry.result {
                Err(BuildFailure::CompileError { errors, .. }) => errors.clone(),
                Ok(_)
                | Err(
                    BuildFailure::Missing { .. }
                    | BuildFailure::Rejected { .. }
                    | BuildFailure::TimedOut { .. }
                    | BuildFailure::Cargo { .. },
                ) => Vec::new(),
            },
            explanation: entry.result.as_ref().err().map(ToString::to_string),
        },
    };
    JsonAssignment {
        id: view.info.id.clone(),
        title: view.info.title.clone(),
        package: view.info.package.clone(),
        earned: view.earned(),
        possible: view.possible(),
        build,
        checks: view.records.iter().map(|r| check(r, source)).collect(),
    }
}

fn check(record: &CheckRecord, source: &Source) -> JsonCheck {
    let outcome = record.outcome.as_ref();
    let evidence = outcome.and_then(|o| o.evidence.as_ref());
    let stream = |captured: &course_harness::run::Captured| {
        (captured.total > 0).then(|| {
            let excerpt = text::excerpt(captured, EXCERPT_BYTES);
            JsonStream {
                truncated: (excerpt.len() as u64) < captured.total,
                excerpt,
                bytes: captured.total,
            }
        })
    };
    JsonCheck {
        id: record.check.id.clone(),
        title: record.check.title.clone(),
        kind: record.check.kind.to_owned(),
        criterion: record.check.kind_detail.clone(),
        timeout_secs: record.check.timeout.as_secs_f64(),
        visibility: match record.check.visibility {
            course_harness::manifest::Visibility::Visible => "visible",
            course_harness::manifest::Visibility::Hidden => "hidden",
        }
        .to_owned(),
        points: record.check.points,
        earned: record.earned(),
        passed: record.verdict.is_pass(),
        verdict: record.verdict.label().to_owned(),
        explanation: record.verdict.to_string(),
        figures: outcome
            .map(|o| {
                o.figures
                    .iter()
                    .map(|f| JsonFigure {
                        name: f.name.clone(),
                        value: f.value,
                        unit: serde_json::to_value(f.unit)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        runs: outcome.map(|o| o.runs),
        repetitions: record.check.repetitions,
        seed: outcome.map(|o| o.seed.to_string()),
        elapsed_secs: outcome.map(|o| o.elapsed.as_secs_f64()),
        replay: outcome.map(|o| text::replay(o, source)),
        stdout: evidence.and_then(|e| stream(&e.stdout)),
        stderr: evidence.and_then(|e| stream(&e.stderr)),
        leaks: match &record.verdict {
            CheckVerdict::Leaked { leaks, .. } => Some(JsonLeaks {
                processes: leaks
                    .processes
                    .iter()
                    .map(|p| JsonProcess {
                        pid: p.pid,
                        ppid: p.ppid,
                        comm: p.comm.clone(),
                        state: p.state_in_words().to_owned(),
                    })
                    .collect(),
                shm_segments: leaks.shm_segments.clone(),
                sysv_segments: leaks.sysv_segments.clone(),
            }),
            CheckVerdict::Judged(_)
            | CheckVerdict::MemoryLimit { .. }
            | CheckVerdict::NotBuilt(_) => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use course_harness::verdict::Verdict;

    use super::*;
    use crate::report::sample;

    fn report() -> (JsonReport, serde_json::Value) {
        let report = JsonReport::of(&sample::sheet(Verdict::Pass)).expect("a report");
        let text = serde_json::to_string(&report).expect("serialises");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        (report, value)
    }

    #[test]
    fn the_report_reads_back_into_its_schema_with_nothing_unknown() {
        let (report, value) = report();
        let back: JsonReport = serde_json::from_value(value).expect("matches the schema");
        assert_eq!(back, report);
        assert_eq!(back.format, FORMAT);
        assert_eq!(back.version, VERSION);
    }

    #[test]
    fn every_documented_field_is_present_even_when_null() {
        let (_, value) = report();
        let top: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "format",
            "version",
            "grader",
            "source",
            "seed",
            "jobs",
            "sandbox",
            "score",
            "checks",
            "timing",
            "assignments",
        ] {
            assert!(top.contains(&key), "{key} missing");
        }
        let check = &value["assignments"][1]["checks"][0];
        for key in [
            "id",
            "title",
            "kind",
            "criterion",
            "timeout_secs",
            "visibility",
            "points",
            "earned",
            "passed",
            "verdict",
            "explanation",
            "figures",
            "runs",
            "repetitions",
            "seed",
            "elapsed_secs",
            "replay",
            "stdout",
            "stderr",
            "leaks",
        ] {
            assert!(check.get(key).is_some(), "{key} missing from {check}");
        }
    }

    #[test]
    fn checks_follow_the_plan_and_carry_their_verdicts() {
        let (report, _) = report();
        assert_eq!(
            report.score,
            JsonScore {
                earned: 3,
                possible: 7,
                unmeasured: 0,
            }
        );
        assert_eq!(
            report.checks,
            JsonCount {
                passed: 2,
                total: 4
            }
        );
        let a00 = &report.assignments[0];
        let ids: Vec<&str> = a00.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["first", "second", "third"]);
        assert_eq!(a00.build.status, "built");
        let leaked = &a00.checks[1];
        assert_eq!(leaked.verdict, "leaked");
        assert!(!leaked.passed);
        let leaks = leaked.leaks.as_ref().expect("leaks");
        assert_eq!(leaks.processes[0].comm, "daemon");
        assert_eq!(leaks.shm_segments, ["mp-1"]);
        assert_eq!(
            leaked.stdout.as_ref().map(|s| s.excerpt.as_str()),
            Some("score: 100\n")
        );
        assert_eq!(
            a00.checks[2].replay.as_deref(),
            Some("grader a00-process --check third --seed 0x2a --submission /home/ta/alice")
        );
        assert_eq!(a00.checks[0].figures[0].unit, "seconds");
    }

    #[test]
    fn a_check_that_did_not_run_says_why_and_has_no_run_fields() {
        let (report, _) = report();
        let a01 = &report.assignments[1];
        assert_eq!(a01.build.status, "compile-error");
        assert!(a01.build.errors[0].contains("mismatched types"));
        let check = &a01.checks[0];
        assert_eq!(check.verdict, "compile-error");
        assert_eq!(check.earned, 0);
        assert!(check.seed.is_none() && check.runs.is_none() && check.replay.is_none());
        assert!(check.explanation.contains("does not compile"));
    }
}
