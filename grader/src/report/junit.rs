//! The JUnit XML report, `--format junit`, for CI tools that show test results (GitLab,
//! Jenkins, GitHub actions that publish test reports). Written with `quick-junit`, the
//! writer cargo-nextest uses.
//!
//! ```xml
//! <testsuites name="course-grade" tests="7" failures="1" errors="0" skipped="0" time="7.3">
//!   <testsuite name="a00-process" tests="7" failures="1" errors="0" skipped="0" time="3.1">
//!     <properties> <property name="earned" value="8"/> <property name="possible" value="10"/>
//!                  <property name="build" value="built"/> ... </properties>
//!     <testcase name="ran-concurrently" classname="a00-process" time="0.9">
//!       <failure message="wrong-answer: ..." type="wrong-answer">the verdict explained ...</failure>
//!       <properties> <property name="points" value="2"/> <property name="earned" value="0"/>
//!                    <property name="replay" value="COURSE_SEED=0x2a cargo test ..."/> ...
//!       </properties>
//!       <system-out>...</system-out>
//!     </testcase>
//!   </testsuite>
//! </testsuites>
//! ```
//!
//! One suite per assignment, one case per check (`classname` the assignment). A failure of
//! the code under test (a compile error included) is a `<failure>`; a check the grader could
//! not run is an `<error>` (the grade is not to be trusted); a property the machine could
//! not measure is `<skipped>` (it scores nothing, but is no failure of the code). The
//! `type` attribute is the verdict's label, as in the JSON report. Points, kind, visibility,
//! seed, replay command and figures are properties. A hidden check's case never quotes its
//! inputs and has no `system-out`/`system-err` (see [`text::explanation`]).

use course_harness::manifest::Visibility;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::errors::ReportError;
use crate::events::CheckRecord;
use crate::plan::Source;
use crate::report::GradeSheet;
use crate::report::sheet::AssignmentView;
use crate::report::text;
use crate::verdict::Standing;

/// The report's name (the root element's `name`).
pub const NAME: &str = "course-grade";

/// The report's text.
pub fn render(sheet: &GradeSheet) -> Result<String, ReportError> {
    report(sheet).to_string().map_err(ReportError::Junit)
}

/// The report of a sheet.
pub fn report(sheet: &GradeSheet) -> Report {
    let mut report = Report::new(NAME);
    if let Some(times) = sheet.times() {
        report.set_time(times.total);
    }
    if let Some(info) = sheet.info() {
        report.add_test_suites(
            sheet
                .assignments()
                .iter()
                .map(|view| suite(view, &info.source, &info.seed.to_string())),
        );
    }
    report
}

fn suite(view: &AssignmentView<'_>, source: &Source, seed: &str) -> TestSuite {
    let mut suite = TestSuite::new(view.info.id.as_str());
    let build = match view.build.map(|b| &b.result) {
        Some(Ok(_)) => "built",
        Some(Err(failure)) => failure.label(),
        None => "not-run",
    };
    suite.add_properties([
        Property::new("title", view.info.title.as_str()),
        Property::new("package", view.info.package.as_str()),
        Property::new("earned", view.earned().to_string()),
        Property::new("possible", view.possible().to_string()),
        Property::new("build", build),
        Property::new("seed", seed),
    ]);
    if let Some(entry) = view.build {
        suite.set_time(entry.elapsed);
    }
    suite.add_test_cases(view.records.iter().map(|r| case(r, source)));
    suite
}

fn case(record: &CheckRecord, source: &Source) -> TestCase {
    let standing = Standing::of(&record.verdict);
    let mut status = match standing {
        Standing::Passed => TestCaseStatus::success(),
        Standing::Failed => TestCaseStatus::non_success(NonSuccessKind::Failure),
        Standing::GraderFault => TestCaseStatus::non_success(NonSuccessKind::Error),
        Standing::NotJudged => TestCaseStatus::skipped(),
    };
    let explanation = text::explanation(record);
    let first_line = explanation.lines().next().unwrap_or_default();
    status
        .set_type(record.verdict.label())
        .set_message(format!("{}: {first_line}", record.verdict.label()))
        .set_description(text::details(record, source, false));
    let mut case = TestCase::new(record.check.id.as_str(), status);
    case.set_classname(record.assignment.as_str());
    let visibility = match record.check.visibility {
        Visibility::Visible => "visible",
        Visibility::Hidden => "hidden",
    };
    case.add_properties([
        Property::new("title", record.check.title.as_str()),
        Property::new("kind", record.check.kind),
        Property::new("criterion", record.check.kind_detail.as_str()),
        Property::new("visibility", visibility),
        Property::new("points", record.check.points.to_string()),
        Property::new("earned", record.earned().to_string()),
        Property::new("verdict", record.verdict.label()),
    ]);
    if let Some(outcome) = &record.outcome {
        case.set_time(outcome.elapsed);
        case.add_properties([
            Property::new("seed", outcome.seed.to_string()),
            Property::new("runs", outcome.runs.to_string()),
            Property::new("replay", text::replay(outcome, source)),
        ]);
        case.add_properties(
            outcome
                .figures
                .iter()
                .map(|f| Property::new(format!("figure: {}", f.name), f.to_string())),
        );
    }
    if text::shows_output(record) && standing != Standing::Passed {
        for (name, captured) in text::streams(record) {
            let excerpt = text::stream_excerpt(captured);
            match name {
                text::Stream::Stdout => case.set_system_out(excerpt),
                text::Stream::Stderr => case.set_system_err(excerpt),
            };
        }
    }
    case
}

#[cfg(test)]
mod tests {
    use course_harness::verdict::Verdict;

    use super::*;
    use crate::report::sample;

    fn parsed(verdict: Verdict, check: impl FnOnce(roxmltree::Document<'_>)) {
        let xml = render(&sample::sheet(verdict)).expect("renders");
        let document = roxmltree::Document::parse(&xml)
            .unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{xml}"));
        check(document);
    }

    fn attribute<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
        node.attribute(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}", node.tag_name().name()))
    }

    fn property<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
        node.children()
            .find(|c| c.has_tag_name("properties"))?
            .children()
            .find(|p| p.has_tag_name("property") && p.attribute("name") == Some(name))
            .and_then(|p| p.attribute("value"))
    }

    #[test]
    fn the_report_parses_with_a_suite_per_assignment_and_a_case_per_check() {
        parsed(Verdict::Pass, |document| {
            let root = document.root_element();
            assert!(root.has_tag_name("testsuites"));
            assert_eq!(attribute(root, "name"), NAME);
            assert_eq!(attribute(root, "tests"), "4");
            assert_eq!(attribute(root, "failures"), "2");
            assert_eq!(attribute(root, "errors"), "0");
            let suites: Vec<_> = root
                .children()
                .filter(|n| n.has_tag_name("testsuite"))
                .collect();
            let names: Vec<&str> = suites.iter().map(|s| attribute(*s, "name")).collect();
            assert_eq!(names, ["a00-process", "a01-queue"]);
            assert_eq!(property(suites[0], "earned"), Some("3"));
            assert_eq!(property(suites[1], "build"), Some("compile-error"));
            let cases: Vec<_> = suites[0]
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            let ids: Vec<&str> = cases.iter().map(|c| attribute(*c, "name")).collect();
            assert_eq!(ids, ["first", "second", "third"]);
            assert!(
                cases
                    .iter()
                    .all(|c| attribute(*c, "classname") == "a00-process")
            );
            assert!(!cases[0].children().any(|c| c.has_tag_name("failure")));
            assert_eq!(property(cases[0], "figure: speedup"), Some("speedup 1.85"));
            let failure = cases[1]
                .children()
                .find(|c| c.has_tag_name("failure"))
                .expect("the leak is a failure");
            assert_eq!(attribute(failure, "type"), "leaked");
            assert!(failure.text().unwrap_or_default().contains("mp-1"));
            assert_eq!(
                property(cases[1], "replay"),
                Some("grader a00-process --check second --seed 0x2a --submission /home/ta/alice")
            );
            let out = cases[1]
                .children()
                .find(|c| c.has_tag_name("system-out"))
                .and_then(|c| c.text());
            assert_eq!(out, Some("score: 100"));
            let compile = suites[1]
                .children()
                .find(|n| n.has_tag_name("testcase"))
                .and_then(|c| c.children().find(|c| c.has_tag_name("failure")))
                .expect("a compile error fails the check");
            assert_eq!(attribute(compile, "type"), "compile-error");
            assert!(
                compile
                    .text()
                    .unwrap_or_default()
                    .contains("mismatched types")
            );
        });
    }

    #[test]
    fn the_machine_and_the_grader_are_not_the_codes_failures() {
        parsed(
            Verdict::NotMeasurable {
                why: "one core".to_owned(),
            },
            |document| {
                let third = document
                    .descendants()
                    .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("third"))
                    .expect("third");
                assert!(third.children().any(|c| c.has_tag_name("skipped")));
            },
        );
        parsed(
            Verdict::CouldNotRun {
                why: "no runner".to_owned(),
            },
            |document| {
                assert_eq!(attribute(document.root_element(), "errors"), "1");
            },
        );
    }

    #[test]
    fn a_hidden_case_does_not_leak_its_inputs() {
        let wrong = Verdict::WrongAnswer {
            expected: sample::SECRET.to_owned(),
            got: "nothing".to_owned(),
            meaning: "lost".to_owned(),
        };
        let xml = render(&sample::sheet(wrong.clone())).expect("renders");
        assert!(!xml.contains(sample::SECRET), "{xml}");
        parsed(wrong, |document| {
            let third = document
                .descendants()
                .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("third"))
                .expect("third");
            assert_eq!(property(third, "visibility"), Some("hidden"));
            let failure = third
                .children()
                .find(|c| c.has_tag_name("failure"))
                .expect("a failure");
            assert_eq!(attribute(failure, "type"), "wrong-answer");
            assert!(!third.children().any(|c| c.has_tag_name("system-out")));
        });
    }
}
