//! The gradebook: one CSV row per student, built from the students' JSON reports (the same
//! way whether a report was written by this run or by an earlier, interrupted one).
//!
//! ```text
//! student,a00-process,a02-pipe,total,max,status,detail
//! alice,10,9,19,19,graded,
//! bob,0,9,9,19,graded,
//! carol,,,,19,error,cannot read the submission /class/carol: ...
//! ```
//!
//! One column per graded assignment (course order) with the points earned; `total` and
//! `max` over them; `status` is `graded`, `incomplete` (a speed check could not be measured
//! on this machine: its points are neither earned nor failed, `detail` says how many),
//! `untrusted` (a check could not run or cargo failed through no fault of the submission:
//! `detail` names them) or `error` (grading the student failed; `detail` says why). The next
//! run grades `incomplete`, `untrusted` and `error` students again.
//! Rows follow the class's order (roster order, or folder names sorted).

use course_harness::verdict::Verdict;

use crate::report::JsonReport;
use crate::verdict::{BuildFailure, CheckVerdict};

/// How a student's grading went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Graded: the scores stand.
    Graded,
    /// Graded, but some speed check could not be measured on this machine (one core, or too
    /// busy): its points are missing until it is graded again where cores are free.
    Incomplete,
    /// Graded, but a check could not run or cargo failed for reasons not the submission's:
    /// the scores may be too low.
    Untrusted,
    /// Not graded.
    Error,
}

impl Status {
    /// The `status` cell.
    pub fn label(self) -> &'static str {
        match self {
            Self::Graded => "graded",
            Self::Incomplete => "incomplete",
            Self::Untrusted => "untrusted",
            Self::Error => "error",
        }
    }
}

/// One student's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The student's id.
    pub student: String,
    /// Points per assignment, in the gradebook's column order (`None`: not graded).
    pub scores: Vec<Option<u32>>,
    /// Points possible in all.
    pub possible: u32,
    /// How grading went.
    pub status: Status,
    /// Why, for `error` and `untrusted`.
    pub detail: String,
    /// Every graded check passed.
    pub all_passed: bool,
    /// Every check passed or could not be measured here: nothing failed.
    pub none_failed: bool,
}

/// The verdict of a speed check this machine could not measure, as reports label it.
const NOT_MEASURABLE: Verdict = Verdict::NotMeasurable { why: String::new() };

impl Row {
    /// The row of a student's report; `columns` are the gradebook's assignment ids.
    pub fn of_report(student: &str, report: &JsonReport, columns: &[String]) -> Row {
        let scores = columns
            .iter()
            .map(|id| {
                report
                    .assignments
                    .iter()
                    .find(|a| a.id == *id)
                    .map(|a| a.earned)
            })
            .collect();
        let faults = grader_faults(report);
        let (status, detail) = if !faults.is_empty() {
            (
                Status::Untrusted,
                format!("not the submission's fault: {}", faults.join("; ")),
            )
        } else if report.score.unmeasured > 0 {
            (
                Status::Incomplete,
                format!(
                    "{} points of speed checks not measurable on this machine: grade again",
                    report.score.unmeasured
                ),
            )
        } else {
            (Status::Graded, String::new())
        };
        let not_measured = NOT_MEASURABLE.label();
        Row {
            student: student.to_owned(),
            scores,
            possible: report.score.possible,
            status,
            detail,
            all_passed: report.checks.passed == report.checks.total,
            none_failed: report
                .assignments
                .iter()
                .flat_map(|a| &a.checks)
                .all(|c| c.passed || c.verdict == not_measured),
        }
    }

    /// The row of a student whose grading failed.
    pub fn error(student: &str, possible: u32, columns: usize, why: &str) -> Row {
        Row {
            student: student.to_owned(),
            scores: vec![None; columns],
            possible,
            status: Status::Error,
            detail: why.to_owned(),
            all_passed: false,
            none_failed: false,
        }
    }

    /// Points earned, when graded.
    pub fn total(&self) -> Option<u32> {
        match self.status {
            Status::Graded | Status::Incomplete | Status::Untrusted => {
                Some(self.scores.iter().flatten().sum())
            }
            Status::Error => None,
        }
    }
}

/// The checks of `report` whose verdict is the grader's fault
/// ([`CheckVerdict::is_grader_fault`]), as `assignment / check: verdict`.
pub fn grader_faults(report: &JsonReport) -> Vec<String> {
    // The report keeps verdicts as labels; these are the labels of the verdicts for which
    // `is_grader_fault` holds (a check that could not run, cargo failing on its own).
    let could_not_run = CheckVerdict::Judged(Verdict::CouldNotRun { why: String::new() });
    let cargo_failed = BuildFailure::Cargo { why: String::new() };
    debug_assert!(could_not_run.is_grader_fault() && cargo_failed.is_grader_fault());
    let labels = [could_not_run.label(), cargo_failed.label()];
    report
        .assignments
        .iter()
        .flat_map(|a| {
            a.checks
                .iter()
                .filter(|c| labels.contains(&c.verdict.as_str()))
                .map(move |c| format!("{} / {}: {}", a.id, c.id, c.verdict))
        })
        .collect()
}

/// The CSV text of the gradebook.
pub fn render(columns: &[String], rows: &[Row]) -> String {
    let mut header = vec!["student".to_owned()];
    header.extend(columns.iter().cloned());
    header.extend(["total", "max", "status", "detail"].map(str::to_owned));
    let mut text = line(&header);
    for row in rows {
        let number = |n: Option<u32>| n.map_or_else(String::new, |n| n.to_string());
        let mut cells = vec![row.student.clone()];
        cells.extend(row.scores.iter().map(|s| number(*s)));
        cells.push(number(row.total()));
        cells.push(row.possible.to_string());
        cells.push(row.status.label().to_owned());
        cells.push(row.detail.clone());
        text.push_str(&line(&cells));
    }
    text
}

/// One CSV line (RFC 4180: a cell with a comma, quote or line break is quoted, quotes
/// doubled). Line breaks inside a cell become spaces, so one student is one line.
fn line(cells: &[String]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|cell| {
            let cell = cell.replace(['\r', '\n'], " ");
            if cell.contains([',', '"']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                cell
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<String> {
        vec!["a00-process".to_owned(), "a02-pipe".to_owned()]
    }

    #[test]
    fn rows_render_scores_total_max_and_status() {
        let graded = Row {
            student: "alice".to_owned(),
            scores: vec![Some(10), Some(3)],
            possible: 19,
            status: Status::Graded,
            detail: String::new(),
            all_passed: false,
            none_failed: false,
        };
        let error = Row::error("bob", 19, 2, "cannot read, \"really\"\nat all");
        let text = render(&columns(), &[graded, error]);
        assert_eq!(
            text,
            "student,a00-process,a02-pipe,total,max,status,detail\n\
             alice,10,3,13,19,graded,\n\
             bob,,,,19,error,\"cannot read, \"\"really\"\" at all\"\n"
        );
    }

    #[test]
    fn a_report_with_a_check_that_could_not_run_is_untrusted() {
        let sheet = crate::report::sample::sheet(course_harness::verdict::Verdict::CouldNotRun {
            why: "no runner".to_owned(),
        });
        let report = JsonReport::of(&sheet).expect("a report");
        let row = Row::of_report("alice", &report, &["a00-process".to_owned()]);
        assert_eq!(row.status, Status::Untrusted);
        assert!(row.detail.contains("a00-process / third"), "{}", row.detail);
        assert_eq!(row.scores, [Some(report.assignments[0].earned)]);
        let fine = JsonReport::of(&crate::report::sample::sheet(
            course_harness::verdict::Verdict::Pass,
        ))
        .expect("a report");
        let row = Row::of_report("alice", &fine, &columns());
        assert_eq!(row.status, Status::Graded);
        assert_eq!(row.total(), Some(fine.score.earned));
        assert!(!row.all_passed);
    }

    #[test]
    fn a_report_with_a_speed_check_not_measurable_here_is_incomplete() {
        let report = JsonReport::of(&crate::report::sample::sheet(Verdict::NotMeasurable {
            why: "busy".to_owned(),
        }))
        .expect("a report");
        let row = Row::of_report("alice", &report, &columns());
        assert_eq!(row.status, Status::Incomplete);
        assert!(row.detail.contains("1 points"), "{}", row.detail);
        assert_eq!(row.total(), Some(report.score.earned));
        // The sample has real failures beside it.
        assert!(!row.none_failed);
    }
}
