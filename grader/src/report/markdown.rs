//! The Markdown report, `--format markdown`, made for a CI run's summary page
//! (`$GITHUB_STEP_SUMMARY`): the score, a table per assignment, every failure with its
//! explanation and the command that replays it, and the figures of the checks that measure
//! speed. GitHub-flavoured Markdown (tables, `<details>` for output). A hidden check is
//! listed with its points and verdict but never quotes its inputs or its output (see
//! [`text::explanation`]).

use std::fmt::Write;

use course_harness::manifest::Visibility;

use crate::errors::ReportError;
use crate::events::{CheckInfo, CheckRecord};
use crate::plan::Source;
use crate::report::GradeSheet;
use crate::report::sheet::{AssignmentView, Totals};
use crate::report::text;
use crate::verdict::CheckVerdict;
use crate::verdict::Standing;

/// The report's text.
pub fn render(sheet: &GradeSheet) -> Result<String, ReportError> {
    Ok(markdown(sheet))
}

/// The whole report.
pub fn markdown(sheet: &GradeSheet) -> String {
    let mut out = String::new();
    let Some(info) = sheet.info() else {
        return out;
    };
    let totals = sheet.totals();
    let assignments = sheet.assignments();
    let _ = writeln!(
        out,
        "## Grade: {} / {} points\n",
        totals.earned, totals.possible
    );
    let faults = sheet
        .records()
        .iter()
        .filter(|r| Standing::of(&r.verdict) == Standing::GraderFault)
        .count();
    if faults > 0 {
        let _ = writeln!(
            out,
            "> **Warning:** {faults} check(s) could not run through no fault of the code \
             under test: this grade is not to be trusted (see below).\n"
        );
    }
    let _ = write!(
        out,
        "{} of {} checks passed. Graded {} with seed `{}`",
        totals.passed,
        totals.checks,
        code_of_source(&info.source),
        info.seed
    );
    if let Some(times) = sheet.times() {
        let _ = write!(
            out,
            " (building {}, checks {}, in all {})",
            text::secs(times.building),
            text::secs(times.grading),
            text::secs(times.total)
        );
    }
    out.push_str(".\n\n");
    summary_table(&mut out, &assignments, totals);
    for view in &assignments {
        assignment_table(&mut out, view);
    }
    speed(&mut out, &sheet.records());
    let mut failures = String::new();
    for view in &assignments {
        explain(&mut failures, view, &info.source);
    }
    if !failures.is_empty() {
        out.push_str("### What failed\n\n");
        out.push_str(&failures);
    }
    out
}

fn code_of_source(source: &Source) -> String {
    match source {
        Source::Workspace => "the repository's `assignments/`".to_owned(),
        Source::Solutions => "the reference solutions (`solutions/`)".to_owned(),
        Source::Submission(dir) => format!("the submission `{}`", dir.display()),
    }
}

fn summary_table(out: &mut String, assignments: &[AssignmentView<'_>], totals: Totals) {
    out.push_str("| assignment | points | checks passed | build |\n");
    out.push_str("| :--- | ---: | ---: | :--- |\n");
    for view in assignments {
        let passed = view.records.iter().filter(|r| r.verdict.is_pass()).count();
        let build = match view.build {
            Some(entry) => match &entry.result {
                Ok(_) => format!("built in {}", text::secs(entry.elapsed)),
                Err(failure) => format!("❌ {}", failure.label()),
            },
            None => "not built".to_owned(),
        };
        let _ = writeln!(
            out,
            "| `{}`: {} | {} / {} | {passed} / {} | {build} |",
            view.info.id,
            cell(&view.info.title),
            view.earned(),
            view.possible(),
            view.info.checks.len()
        );
    }
    let _ = writeln!(
        out,
        "| **total** | **{} / {}** | **{} / {}** | |\n",
        totals.earned, totals.possible, totals.passed, totals.checks
    );
    if totals.unmeasured_checks > 0 {
        let _ = writeln!(
            out,
            "⚠️ {} check(s) worth {} points could not be measured on this machine (one core, \
             or too busy): not failed, not earned. Grade them again where cores are free.\n",
            totals.unmeasured_checks, totals.unmeasured
        );
    }
}

fn assignment_table(out: &mut String, view: &AssignmentView<'_>) {
    let _ = writeln!(
        out,
        "### `{}`: {} ({} / {} points)\n",
        view.info.id,
        cell(&view.info.title),
        view.earned(),
        view.possible()
    );
    out.push_str("| | check | what it checks | points | verdict | figures |\n");
    out.push_str("| :---: | :--- | :--- | ---: | :--- | :--- |\n");
    for check in &view.info.checks {
        let record = view.records.iter().find(|r| r.check.id == check.id);
        let (mark, points, verdict, figures) = match record {
            Some(record) => (
                mark(&record.verdict),
                format!("{} / {}", record.earned(), check.points),
                record.verdict.label().to_owned(),
                record
                    .outcome
                    .as_ref()
                    .map(|o| text::figures(o, None))
                    .unwrap_or_default(),
            ),
            None => (
                "",
                format!("- / {}", check.points),
                "not run".to_owned(),
                String::new(),
            ),
        };
        let _ = writeln!(
            out,
            "| {mark} | {} | {} | {points} | {verdict} | {} |",
            name_cell(check),
            cell(&check.title),
            cell(&figures)
        );
    }
    out.push('\n');
}

/// The figures of every check that measures speed, in full.
fn speed(out: &mut String, records: &[&CheckRecord]) {
    let timed: Vec<&&CheckRecord> = records
        .iter()
        .filter(|r| {
            r.check.measures_speed && r.outcome.as_ref().is_some_and(|o| !o.figures.is_empty())
        })
        .collect();
    if timed.is_empty() {
        return;
    }
    out.push_str(
        "### Speed\n\n| check | criterion | verdict | figures |\n| :--- | :--- | :--- | :--- |\n",
    );
    for record in timed {
        let figures = record
            .outcome
            .as_ref()
            .map(|o| text::figures(o, None))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} {} | {} |",
            text::check_name(record),
            cell(&record.check.kind_detail),
            mark(&record.verdict),
            record.verdict.label(),
            cell(&figures)
        );
    }
    out.push('\n');
}

/// Every failure of an assignment: its build's, or each check's (the checks that stopped
/// at a `todo!()` of the stub together).
fn explain(out: &mut String, view: &AssignmentView<'_>, source: &Source) {
    if let Some(Err(failure)) = view.build.map(|b| &b.result) {
        let _ = writeln!(
            out,
            "#### ❌ `{}`: {} (0 of {} points)\n",
            view.info.id,
            failure.label(),
            view.possible()
        );
        fenced(out, &failure.to_string());
        return;
    }
    let todos: Vec<&CheckRecord> = view
        .records
        .iter()
        .copied()
        .filter(|r| r.verdict.stopped_at_todo())
        .collect();
    let grouped = todos.len() > 1;
    if grouped {
        let ids: Vec<String> = todos.iter().map(|r| format!("`{}`", r.check.id)).collect();
        let points: u32 = todos.iter().map(|r| r.check.points).sum();
        let _ = writeln!(
            out,
            "#### ❌ `{}`: {} checks stopped at a `todo!()` of the stub (0 of {points} points)\n\n{}\n\nThe first of them:\n",
            view.info.id,
            todos.len(),
            ids.join(", ")
        );
        fenced(out, &text::explanation(todos[0]));
        replay(out, todos[0], source);
    }
    for record in &view.records {
        if record.verdict.is_pass() || (grouped && record.verdict.stopped_at_todo()) {
            continue;
        }
        let _ = writeln!(
            out,
            "#### {} `{}`: {} ({} of {} points)\n\n{} ({})\n",
            mark(&record.verdict),
            text::check_name(record),
            record.verdict.label(),
            record.earned(),
            record.check.points,
            record.check.title,
            record.check.kind_detail
        );
        fenced(out, &text::explanation(record));
        if let Some(outcome) = &record.outcome
            && !outcome.figures.is_empty()
        {
            let _ = writeln!(out, "Figures: {}\n", text::figures(outcome, None));
        }
        replay(out, record, source);
        if text::shows_output(record) {
            for (name, captured) in text::streams(record) {
                let _ = writeln!(
                    out,
                    "<details><summary>{name} of the failing run ({} bytes)</summary>\n",
                    captured.total
                );
                fenced(out, &text::stream_excerpt(captured));
                out.push_str("</details>\n\n");
            }
        }
    }
}

fn replay(out: &mut String, record: &CheckRecord, source: &Source) {
    if let Some(outcome) = &record.outcome {
        let _ = writeln!(out, "Replay: `{}`\n", text::replay(outcome, source));
    }
}

/// ✅ passed, ❌ failed, ⚠️ not measurable here, 🛑 the grader failed.
fn mark(verdict: &CheckVerdict) -> &'static str {
    match Standing::of(verdict) {
        Standing::Passed => "✅",
        Standing::Failed => "❌",
        Standing::NotJudged => "⚠️",
        Standing::GraderFault => "🛑",
    }
}

fn name_cell(check: &CheckInfo) -> String {
    match check.visibility {
        Visibility::Visible => format!("`{}`", check.id),
        Visibility::Hidden => format!("`{}` (hidden)", check.id),
    }
}

/// Text made safe for a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// `text` in a fenced code block whose fence no line of the text can close.
fn fenced(out: &mut String, text: &str) {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", text.trim_end());
}

#[cfg(test)]
mod tests {
    use course_harness::verdict::Verdict;

    use super::*;
    use crate::report::sample;

    /// The rows of the GitHub-flavoured table that starts with `header`: each row's cells,
    /// after checking the delimiter row and that every row has the header's width.
    fn table(markdown: &str, header: &str) -> Vec<Vec<String>> {
        let lines: Vec<&str> = markdown.lines().collect();
        let start = lines
            .iter()
            .position(|l| *l == header)
            .unwrap_or_else(|| panic!("no table {header:?} in:\n{markdown}"));
        let cells = |line: &str| -> Vec<String> {
            assert!(
                line.starts_with('|') && line.ends_with('|'),
                "not a row: {line:?}"
            );
            let inner = &line[1..line.len() - 1];
            let mut cells = vec![String::new()];
            let mut escaped = false;
            for c in inner.chars() {
                match (c, escaped) {
                    ('|', false) => cells.push(String::new()),
                    _ => cells.last_mut().expect("a cell").push(c),
                }
                escaped = c == '\\' && !escaped;
            }
            cells.into_iter().map(|c| c.trim().to_owned()).collect()
        };
        let width = cells(lines[start]).len();
        let delimiter = cells(lines[start + 1]);
        assert_eq!(delimiter.len(), width, "{}", lines[start + 1]);
        assert!(
            delimiter
                .iter()
                .all(|d| d.len() >= 3 && d.trim_matches(':').chars().all(|c| c == '-')),
            "bad delimiter row {:?}",
            lines[start + 1]
        );
        lines[start + 2..]
            .iter()
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let row = cells(l);
                assert_eq!(row.len(), width, "{l}");
                row
            })
            .collect()
    }

    #[test]
    fn the_summary_is_a_table_of_assignments_with_the_total() {
        let report = markdown(&sample::sheet(Verdict::Pass));
        assert!(report.starts_with("## Grade: 3 / 7 points\n"), "{report}");
        let rows = table(&report, "| assignment | points | checks passed | build |");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0][0], "`a00-process`: Processes");
        assert_eq!(rows[0][1], "3 / 4");
        assert_eq!(rows[1][3], "❌ compile-error");
        assert_eq!(rows[2][1], "**3 / 7**");
    }

    #[test]
    fn each_assignment_has_a_table_of_its_checks_in_plan_order() {
        let report = markdown(&sample::sheet(Verdict::Pass));
        let header = "| | check | what it checks | points | verdict | figures |";
        let rows = table(&report, header);
        let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
        assert_eq!(names, ["`first`", "`second`", "`third` (hidden)"]);
        assert_eq!(rows[0][0], "✅");
        assert_eq!(rows[1][0], "❌");
        assert_eq!(rows[1][4], "leaked");
        assert!(rows[0][5].contains("speedup 1.85"), "{:?}", rows[0]);
        assert_eq!(report.matches(header).count(), 2, "{report}");
    }

    #[test]
    fn failures_are_explained_with_their_replay_and_speed_has_its_figures() {
        let report = markdown(&sample::sheet(Verdict::Pass));
        let failures = &report[report.find("### What failed").expect("failures")..];
        assert!(failures.contains("#### ❌ `a00-process / second`: leaked (0 of 1 points)"));
        assert!(failures.contains(
            "Replay: `grader a00-process --check second --seed 0x2a --submission /home/ta/alice`"
        ));
        assert!(failures.contains("<summary>stdout of the failing run (11 bytes)</summary>"));
        assert!(failures.contains("#### ❌ `a01-queue`: compile-error (0 of 3 points)"));
        assert!(failures.contains("mismatched types"));
        assert!(
            !failures.contains("`a00-process / first`"),
            "passes are not failures"
        );
        let rows = table(&report, "| check | criterion | verdict | figures |");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], "`a00-process / first`");
        assert!(rows[0][3].contains("speedup 1.85"));
    }

    #[test]
    fn a_hidden_failure_is_listed_without_its_inputs_or_output() {
        let wrong = Verdict::WrongAnswer {
            expected: sample::SECRET.to_owned(),
            got: "nothing".to_owned(),
            meaning: "lost".to_owned(),
        };
        let report = markdown(&sample::sheet(wrong));
        assert!(report.contains("#### ❌ `a00-process / third (hidden)`: wrong-answer"));
        assert!(!report.contains(sample::SECRET), "{report}");
    }

    #[test]
    fn code_fences_outlast_the_backticks_inside() {
        let mut out = String::new();
        fenced(&mut out, "a ``` b");
        assert!(out.starts_with("````text\n"), "{out}");
        assert!(out.ends_with("\n````\n\n"), "{out}");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
