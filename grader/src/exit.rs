//! The grader's exit codes: what a script or CI job can rely on.
//!
//! | code | constant          | meaning                                                        |
//! |------|-------------------|----------------------------------------------------------------|
//! | 0    | [`ALL_PASSED`]    | every graded check passed (full marks for what was graded)     |
//! | 1    | [`SOME_FAILED`]   | at least one check failed, or an assignment did not build      |
//! | 2    | [`USAGE`]         | bad command line, unknown assignment or check, unreadable submission directory, invalid `course.toml` |
//! | 3    | [`INTERNAL`]      | the grader itself failed (cargo, the sandbox, writing the report), or a check could not run through no fault of the code under test: the grade is not trustworthy |
//! | 4    | [`NOT_MEASURED`]  | no check failed, but some speed check could not be measured on this machine (one core, or too busy): those points are not given; grade them again where cores are free |
//!
//! `--list` exits with 0. A report is written for 0, 1 and 3 whenever grading got that far.

use crate::report::GradeSheet;

/// Every graded check passed.
pub const ALL_PASSED: u8 = 0;

/// Some check failed (or an assignment did not compile).
pub const SOME_FAILED: u8 = 1;

/// The command line or the course's configuration is wrong (clap also exits with 2 on usage
/// errors).
pub const USAGE: u8 = 2;

/// The grader could not do its job; the grade must not be trusted.
pub const INTERNAL: u8 = 3;

/// No check failed, but some could not be measured on this machine: the grade is incomplete,
/// not wrong. A failure elsewhere takes precedence ([`SOME_FAILED`]).
pub const NOT_MEASURED: u8 = 4;

/// The exit code of a finished grading run.
pub fn for_sheet(sheet: &GradeSheet) -> u8 {
    let records = sheet.records();
    if records.iter().any(|r| r.verdict.is_grader_fault()) {
        INTERNAL
    } else if records.iter().all(|r| r.verdict.is_pass()) {
        ALL_PASSED
    } else if records
        .iter()
        .all(|r| r.verdict.is_pass() || r.verdict.is_not_measurable())
    {
        NOT_MEASURED
    } else {
        SOME_FAILED
    }
}

#[cfg(test)]
mod tests {
    use course_harness::verdict::Verdict;

    use super::*;
    use crate::report::GradeSheet;
    use crate::report::sample;

    fn pass_only() -> GradeSheet {
        passes_and(Verdict::Pass)
    }

    /// The sample run without its failures, its last check ending with `verdict`.
    fn passes_and(verdict: Verdict) -> GradeSheet {
        let mut sheet = GradeSheet::default();
        for event in sample::events(verdict) {
            let keep = match &event {
                crate::events::GradingEvent::CheckFinished(record) => {
                    record.verdict.is_pass() || record.verdict.is_not_measurable()
                }
                _ => true,
            };
            if keep {
                sheet.apply(&event);
            }
        }
        sheet
    }

    #[test]
    fn all_passed_is_0() {
        assert_eq!(for_sheet(&pass_only()), ALL_PASSED);
    }

    #[test]
    fn a_failed_check_or_a_compile_error_is_1() {
        assert_eq!(for_sheet(&sample::sheet(Verdict::Pass)), SOME_FAILED);
        let wrong = Verdict::WrongAnswer {
            expected: "a".into(),
            got: "b".into(),
            meaning: "c".into(),
        };
        assert_eq!(for_sheet(&sample::sheet(wrong)), SOME_FAILED);
    }

    #[test]
    fn a_speedup_not_measurable_here_is_4_unless_something_failed() {
        let busy = Verdict::NotMeasurable { why: "busy".into() };
        let sheet = passes_and(busy.clone());
        assert_eq!(for_sheet(&sheet), NOT_MEASURED);
        let totals = sheet.totals();
        assert_eq!((totals.unmeasured, totals.unmeasured_checks), (1, 1));
        assert_eq!(totals.earned + totals.unmeasured, 3, "{totals:?}");
        // With a failure beside it, the run failed.
        assert_eq!(for_sheet(&sample::sheet(busy)), SOME_FAILED);
    }

    #[test]
    fn a_check_that_could_not_run_is_an_internal_error() {
        let broken = Verdict::CouldNotRun {
            why: "no runner".into(),
        };
        assert_eq!(for_sheet(&sample::sheet(broken)), INTERNAL);
    }

    #[test]
    fn the_codes_are_distinct() {
        let codes = [ALL_PASSED, SOME_FAILED, USAGE, INTERNAL, NOT_MEASURED];
        for (i, a) in codes.iter().enumerate() {
            assert!(codes[i + 1..].iter().all(|b| a != b));
        }
        // clap exits with 2 on a usage error; ours must agree.
        assert_eq!(USAGE, 2);
    }
}
