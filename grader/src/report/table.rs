//! The human report: a table per assignment (each check's points, verdict and key figures),
//! then every failure explained with the command that replays it, then the total.

use std::fmt::Write;

use course_harness::manifest::Visibility;
use course_harness::run::Captured;

use crate::errors::ReportError;
use crate::events::{CheckRecord, GradingEvent};
use crate::report::sheet::{AssignmentView, GradeSheet};
use crate::report::text;
use crate::report::{Output, Reporter};
use crate::sandbox::Isolation;
use crate::verdict::CheckVerdict;

/// Figures shown per check in the table (all of them with `-v`).
const TABLE_FIGURES: usize = 3;

/// Longest figures column before it is cut.
const FIGURES_WIDTH: usize = 60;

/// Output lines shown per stream of a failed run.
const SHOWN_OUTPUT_LINES: usize = 20;

/// Writes the table report when the run finishes.
#[derive(Debug)]
pub struct TableReporter {
    sheet: GradeSheet,
    output: Output,
    verbose: bool,
}

impl TableReporter {
    /// A table reporter writing to `output`; `verbose` explains passes too.
    pub fn new(output: Output, verbose: bool) -> Self {
        Self {
            sheet: GradeSheet::default(),
            output,
            verbose,
        }
    }
}

impl Reporter for TableReporter {
    fn handle(&mut self, event: &GradingEvent) -> Result<(), ReportError> {
        self.sheet.apply(event);
        if let GradingEvent::RunFinished(_) = event {
            self.output.write(&render(&self.sheet, self.verbose))?;
        }
        Ok(())
    }
}

/// The whole table report.
pub fn render(sheet: &GradeSheet, verbose: bool) -> String {
    let mut out = String::new();
    let Some(info) = sheet.info() else {
        return out;
    };
    let _ = writeln!(
        out,
        "Graded {} with seed {} ({} check{} at a time)",
        info.source.describe(),
        info.seed,
        info.jobs,
        if info.jobs == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "Sandbox: {}", info.sandbox.describe());
    if let Isolation::ProcessGroup { .. } = info.sandbox.isolation {
        let _ = writeln!(
            out,
            "Note: without a PID namespace, a process that leaves its process group is \
             found only through the grader's subreaper."
        );
    }
    let assignments = sheet.assignments();
    for assignment in &assignments {
        out.push('\n');
        assignment_table(&mut out, assignment, verbose);
    }
    let mut explained = String::new();
    for assignment in &assignments {
        explain(&mut explained, assignment, &info.source, verbose);
    }
    if !explained.is_empty() {
        out.push('\n');
        out.push_str(explained.trim_end());
        out.push('\n');
    }
    let totals = sheet.totals();
    let _ = write!(
        out,
        "\nTotal: {} / {} points; {} of {} checks passed",
        totals.earned, totals.possible, totals.passed, totals.checks
    );
    if totals.unmeasured_checks > 0 {
        let _ = write!(
            out,
            "; {} check(s) worth {} points not measurable on this machine (grade them again \
             where cores are free)",
            totals.unmeasured_checks, totals.unmeasured
        );
    }
    if let Some(times) = sheet.times() {
        let _ = write!(
            out,
            " (building {}, checks {}, in all {})",
            text::secs(times.building),
            text::secs(times.grading),
            text::secs(times.total)
        );
    }
    out.push('\n');
    out
}

fn assignment_table(out: &mut String, assignment: &AssignmentView<'_>, verbose: bool) {
    let info = assignment.info;
    let _ = writeln!(
        out,
        "{}: {}  [{} / {} points]",
        info.id,
        info.title,
        assignment.earned(),
        assignment.possible()
    );
    if let Some(build) = assignment.build {
        match &build.result {
            Ok(_) => {
                let _ = writeln!(
                    out,
                    "  built {} in {}",
                    info.package,
                    text::secs(build.elapsed)
                );
            }
            Err(failure) => {
                let _ = writeln!(
                    out,
                    "  NOT BUILT ({}): every check scores 0, see below",
                    failure.label()
                );
            }
        }
    }
    let names: Vec<String> = info
        .checks
        .iter()
        .map(|c| match c.visibility {
            Visibility::Visible => c.id.clone(),
            Visibility::Hidden => format!("{} (hidden)", c.id),
        })
        .collect();
    let name_width = names.iter().map(String::len).max().unwrap_or(5).max(5);
    let kind_width = info
        .checks
        .iter()
        .map(|c| c.kind.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "  {:<name_width$}  {:<kind_width$}  {:>6}  {:<16}  figures",
        "check", "kind", "points", "verdict"
    );
    for (check, name) in info.checks.iter().zip(&names) {
        let record = assignment.records.iter().find(|r| r.check.id == check.id);
        let (points, verdict, figures) = match record {
            Some(record) => (
                format!("{}/{}", record.earned(), check.points),
                record.verdict.label().to_owned(),
                record
                    .outcome
                    .as_ref()
                    .map(|o| text::figures(o, (!verbose).then_some(TABLE_FIGURES)))
                    .unwrap_or_default(),
            ),
            None => (
                format!("-/{}", check.points),
                "not run".to_owned(),
                String::new(),
            ),
        };
        let figures = if verbose {
            figures
        } else {
            cut(&figures, FIGURES_WIDTH)
        };
        let _ = writeln!(
            out,
            "  {name:<name_width$}  {:<kind_width$}  {points:>6}  {verdict:<16}  {figures}",
            check.kind
        );
    }
}

/// Explains every failure of an assignment (and with `verbose`, every pass).
fn explain(
    out: &mut String,
    assignment: &AssignmentView<'_>,
    source: &crate::plan::Source,
    verbose: bool,
) {
    if let Some(build) = assignment.build {
        if verbose && let Some(command) = &build.command {
            let _ = writeln!(out, "── {}: built with `{command}`", assignment.info.id);
        }
        if let Err(failure) = &build.result {
            let _ = writeln!(
                out,
                "── {}: {} (0 of {} points)\n{failure}\n",
                assignment.info.id,
                failure.label(),
                assignment.possible()
            );
            return;
        }
    }
    let unimplemented: Vec<&CheckRecord> = assignment
        .records
        .iter()
        .copied()
        .filter(|r| r.verdict.stopped_at_todo())
        .collect();
    let grouped = unimplemented.len() > 1 && !verbose;
    if grouped {
        explain_todos(out, &unimplemented, source);
    }
    for record in &assignment.records {
        if (verbose || !record.verdict.is_pass()) && !(grouped && record.verdict.stopped_at_todo())
        {
            explain_check(out, record, source);
        }
    }
}

/// One explanation for every check of an assignment that reached a `todo!()`.
fn explain_todos(out: &mut String, records: &[&CheckRecord], source: &crate::plan::Source) {
    let ids: Vec<&str> = records.iter().map(|r| r.check.id.as_str()).collect();
    let points: u32 = records.iter().map(|r| r.check.points).sum();
    let _ = writeln!(
        out,
        "── {}: {} checks stopped at a todo!() of the stub (0 of {points} points): {}",
        records[0].assignment,
        records.len(),
        ids.join(", ")
    );
    let _ = writeln!(out, "  the first of them:");
    for line in records[0].verdict.to_string().lines() {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(outcome) = &records[0].outcome {
        let _ = writeln!(out, "  replay:  {}", text::replay(outcome, source));
    }
    out.push('\n');
}

fn explain_check(out: &mut String, record: &CheckRecord, source: &crate::plan::Source) {
    let _ = writeln!(
        out,
        "── {} / {}: {} ({} of {} points)",
        record.assignment,
        record.check.id,
        record.verdict.label(),
        record.earned(),
        record.check.points
    );
    let _ = writeln!(out, "  {}", record.check.title);
    for line in record.verdict.to_string().lines() {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(outcome) = &record.outcome {
        if !outcome.figures.is_empty() {
            let _ = writeln!(out, "  figures: {}", text::figures(outcome, None));
        }
        let _ = writeln!(
            out,
            "  runs:    {} of {}, seed {}, {}",
            outcome.runs,
            outcome.repetitions,
            outcome.seed,
            text::secs(outcome.elapsed)
        );
        if !record.verdict.is_pass() {
            let _ = writeln!(out, "  replay:  {}", text::replay(outcome, source));
            if let Some(evidence) = &outcome.evidence {
                stream(out, "stdout", &evidence.stdout);
                if !matches!(record.verdict, CheckVerdict::Judged(ref v) if v.is_unimplemented()) {
                    stream(out, "stderr", &evidence.stderr);
                }
            }
        }
    }
    out.push('\n');
}

fn stream(out: &mut String, name: &str, captured: &Captured) {
    if captured.total == 0 {
        return;
    }
    let _ = writeln!(out, "  --- {name} ({} bytes) ---", captured.total);
    let text = captured.text();
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(SHOWN_OUTPUT_LINES) {
        let _ = writeln!(out, "  | {}", cut(line, 160));
    }
    if lines.len() > SHOWN_OUTPUT_LINES || captured.truncated() {
        let _ = writeln!(out, "  | ... (cut)");
    }
}

/// `text` cut to `width` characters, with an ellipsis when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use course_harness::verdict::Verdict;

    use super::*;
    use crate::report::sample;

    #[test]
    fn the_table_orders_by_plan_explains_failures_and_totals() {
        let table = render(&sample::sheet(Verdict::Pass), false);
        let first = table.find("  first ").expect("first listed");
        let third = table
            .find("  third (hidden) ")
            .expect("third listed, marked hidden");
        assert!(first < third, "{table}");
        assert!(
            table.contains("── a00-process / second: leaked (0 of 1 points)"),
            "{table}"
        );
        assert!(
            table.contains(
                "replay:  grader a00-process --check second --seed 0x2a --submission /home/ta/alice"
            ),
            "{table}"
        );
        assert!(
            table.contains("── a01-queue: compile-error (0 of 3 points)"),
            "{table}"
        );
        assert!(table.contains("mismatched types"), "{table}");
        assert!(
            !table.contains("── a00-process / first"),
            "passes are not explained: {table}"
        );
        assert!(
            table.contains("Total: 3 / 7 points; 2 of 4 checks passed"),
            "{table}"
        );
    }
}
