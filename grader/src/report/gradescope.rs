//! The Gradescope report, `--format gradescope`: the `results.json` that Gradescope's
//! autograder specification asks for
//! (<https://gradescope-autograders.readthedocs.io/en/latest/specs/>), written when the run
//! ends. `grader/gradescope/run_autograder` writes it to `/autograder/results/results.json`.
//!
//! ```json
//! {
//!   "score": 8.0,
//!   "execution_time": 7,
//!   "output": "Graded with seed 0x2a: 8 / 10 points, 6 of 7 checks passed. ...",
//!   "tests": [ {
//!     "name": "a00-process / ran-concurrently: The workers ran at the same time",
//!     "score": 0.0, "max_score": 2.0, "status": "failed",
//!     "output": "wrong answer ...\n  criterion: ...\n  replay: ...",
//!     "visibility": "visible"
//!   } ]
//! }
//! ```
//!
//! Only fields of the specification, with its types: `score` (the points earned; the spec
//! has no top-level `max_score`, Gradescope takes the total from the assignment's settings),
//! `execution_time` (whole seconds), `output` (text shown above the tests), and per check
//! `name`, `score`, `max_score`, `status` (`passed` or `failed`: a check that is not
//! measurable on the grading machine scores nothing and says why), `output` and
//! `visibility`. A visible check is `visible`; a hidden check is `after_published`, so
//! students see it once grades are published (and, as Gradescope does for any test not yet
//! visible, they do not see their total until then). A hidden check's output never quotes
//! its inputs or its run's output (see [`text::explanation`]).

use course_harness::manifest::Visibility;
use serde::{Deserialize, Serialize};

use crate::errors::ReportError;
use crate::events::CheckRecord;
use crate::report::GradeSheet;
use crate::report::text;
use crate::verdict::Standing;

/// `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradescopeResults {
    /// Points earned, all checks together.
    pub score: f64,
    /// Seconds the grading took (building included).
    pub execution_time: u64,
    /// Text relevant to the whole submission: the total per assignment, builds that failed,
    /// a warning when the grade cannot be trusted.
    pub output: String,
    /// One per check, in course order.
    pub tests: Vec<GradescopeTest>,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradescopeTest {
    /// `<assignment> / <check>: <title>`.
    pub name: String,
    /// Points earned.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// Passed or failed.
    pub status: GradescopeStatus,
    /// The verdict explained, with the figures and the command that replays it.
    pub output: String,
    /// Who sees it, when.
    pub visibility: GradescopeVisibility,
}

/// A test's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradescopeStatus {
    /// Full points.
    Passed,
    /// Anything else.
    Failed,
}

/// A test's `visibility` (the two of the spec's four this course uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradescopeVisibility {
    /// Always shown: a visible check, which students can also run themselves.
    Visible,
    /// Shown once the grades are published: a hidden check.
    AfterPublished,
}

/// The report's text.
pub fn render(sheet: &GradeSheet) -> Result<String, ReportError> {
    let mut text =
        serde_json::to_string_pretty(&GradescopeResults::of(sheet)).map_err(ReportError::Json)?;
    text.push('\n');
    Ok(text)
}

impl GradescopeResults {
    /// The results of a sheet.
    pub fn of(sheet: &GradeSheet) -> Self {
        let totals = sheet.totals();
        let records = sheet.records();
        let source = sheet.info().map(|i| &i.source);
        let tests = match source {
            Some(source) => records.iter().map(|r| test(r, source)).collect(),
            None => Vec::new(),
        };
        Self {
            score: f64::from(totals.earned),
            execution_time: sheet
                .times()
                .map_or(0, |t| t.total.as_secs_f64().ceil() as u64),
            output: summary(sheet),
            tests,
        }
    }
}

fn test(record: &CheckRecord, source: &crate::plan::Source) -> GradescopeTest {
    GradescopeTest {
        name: format!(
            "{} / {}: {}",
            record.assignment, record.check.id, record.check.title
        ),
        score: f64::from(record.earned()),
        max_score: f64::from(record.check.points),
        status: match Standing::of(&record.verdict) {
            Standing::Passed => GradescopeStatus::Passed,
            Standing::Failed | Standing::NotJudged | Standing::GraderFault => {
                GradescopeStatus::Failed
            }
        },
        output: text::details(record, source, true),
        visibility: match record.check.visibility {
            Visibility::Visible => GradescopeVisibility::Visible,
            Visibility::Hidden => GradescopeVisibility::AfterPublished,
        },
    }
}

/// The top-level `output`.
fn summary(sheet: &GradeSheet) -> String {
    let totals = sheet.totals();
    let mut lines = Vec::new();
    let faults = sheet
        .records()
        .iter()
        .filter(|r| Standing::of(&r.verdict) == Standing::GraderFault)
        .count();
    if faults > 0 {
        lines.push(format!(
            "WARNING: {faults} check(s) could not run through no fault of this submission; \
             this grade is not final, and course staff will grade it again."
        ));
    }
    let seed = sheet
        .info()
        .map(|i| format!(" with seed {}", i.seed))
        .unwrap_or_default();
    lines.push(format!(
        "Graded{seed}: {} / {} points, {} of {} checks passed.",
        totals.earned, totals.possible, totals.passed, totals.checks
    ));
    if totals.unmeasured_checks > 0 {
        lines.push(format!(
            "{} check(s) worth {} points could not be measured on the grading machine (too \
             busy): they are not failed; ask your TA to grade them again.",
            totals.unmeasured_checks, totals.unmeasured
        ));
    }
    for view in sheet.assignments() {
        let build = match view.build.map(|b| &b.result) {
            Some(Err(failure)) => format!(", not built ({})", failure.label()),
            Some(Ok(_)) | None => String::new(),
        };
        lines.push(format!(
            "  {} ({}): {} / {} points{build}",
            view.info.id,
            view.info.title,
            view.earned(),
            view.possible()
        ));
    }
    let hidden = sheet
        .records()
        .iter()
        .filter(|r| r.check.visibility == Visibility::Hidden)
        .count();
    if hidden > 0 {
        lines.push(format!(
            "{hidden} hidden check(s) are graded too: they are shown, and count in the total \
             you see, once grades are published."
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use course_harness::verdict::Verdict;
    use serde_json::Value;

    use super::*;
    use crate::report::sample;

    fn results(verdict: Verdict) -> (GradescopeResults, Value) {
        let text = render(&sample::sheet(verdict)).expect("renders");
        let value: Value = serde_json::from_str(&text).expect("JSON");
        let back: GradescopeResults =
            serde_json::from_value(value.clone()).expect("only the spec's fields");
        (back, value)
    }

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn the_file_has_exactly_the_specs_fields_with_its_types() {
        let (_, value) = results(Verdict::Pass);
        assert_eq!(keys(&value), ["execution_time", "output", "score", "tests"]);
        assert!(
            value["score"].is_f64(),
            "score is a float: {}",
            value["score"]
        );
        assert!(value["execution_time"].is_u64());
        assert!(value["output"].is_string());
        let tests = value["tests"].as_array().expect("tests is an array");
        assert_eq!(tests.len(), 4);
        for test in tests {
            assert_eq!(
                keys(test),
                [
                    "max_score",
                    "name",
                    "output",
                    "score",
                    "status",
                    "visibility"
                ]
            );
            assert!(
                test["score"].is_f64() && test["max_score"].is_f64(),
                "{test}"
            );
            assert!(
                test["name"].is_string() && test["output"].is_string(),
                "{test}"
            );
            assert!(
                ["passed", "failed"].contains(&test["status"].as_str().expect("a string")),
                "{test}"
            );
            assert!(
                ["hidden", "after_due_date", "after_published", "visible"]
                    .contains(&test["visibility"].as_str().expect("a string")),
                "{test}"
            );
        }
    }

    #[test]
    fn scores_add_up_and_statuses_follow_the_verdicts() {
        let (results, _) = results(Verdict::Pass);
        let sum: f64 = results.tests.iter().map(|t| t.score).sum();
        assert_eq!(results.score, sum);
        assert_eq!(results.score, 3.0);
        let statuses: Vec<(f64, f64, GradescopeStatus)> = results
            .tests
            .iter()
            .map(|t| (t.score, t.max_score, t.status))
            .collect();
        assert_eq!(
            statuses,
            [
                (2.0, 2.0, GradescopeStatus::Passed),
                (0.0, 1.0, GradescopeStatus::Failed),
                (1.0, 1.0, GradescopeStatus::Passed),
                (0.0, 3.0, GradescopeStatus::Failed),
            ]
        );
        assert_eq!(results.execution_time, 4);
        assert!(results.tests[0].name.starts_with("a00-process / first: "));
        let leaked = &results.tests[1].output;
        assert!(
            leaked.contains("left behind") && leaked.contains("score: 100"),
            "{leaked}"
        );
        assert!(
            leaked.contains("replay:    grader a00-process --check second --seed 0x2a"),
            "{leaked}"
        );
        assert!(results.tests[3].output.contains("mismatched types"));
        assert!(
            results.output.contains("3 / 7 points"),
            "{}",
            results.output
        );
        assert!(results.output.contains("not built (compile-error)"));
    }

    #[test]
    fn hidden_checks_are_after_published_and_do_not_leak_their_inputs() {
        let wrong = Verdict::WrongAnswer {
            expected: sample::SECRET.to_owned(),
            got: "nothing".to_owned(),
            meaning: "lost".to_owned(),
        };
        let (results, _) = results(wrong);
        let visibility: Vec<GradescopeVisibility> =
            results.tests.iter().map(|t| t.visibility).collect();
        assert_eq!(
            visibility,
            [
                GradescopeVisibility::Visible,
                GradescopeVisibility::Visible,
                GradescopeVisibility::AfterPublished,
                GradescopeVisibility::Visible,
            ]
        );
        let hidden = &results.tests[2];
        assert_eq!(hidden.status, GradescopeStatus::Failed);
        assert!(
            hidden.output.starts_with("wrong answer"),
            "{}",
            hidden.output
        );
        let text = serde_json::to_string(&results).expect("serialises");
        assert!(!text.contains(sample::SECRET), "{text}");
    }

    #[test]
    fn a_check_that_could_not_run_warns_that_the_grade_is_not_final() {
        let (results, _) = results(Verdict::CouldNotRun {
            why: "no runner".to_owned(),
        });
        assert!(
            results
                .output
                .starts_with("WARNING: 1 check(s) could not run")
        );
        assert_eq!(results.tests[2].status, GradescopeStatus::Failed);
    }
}
