//! `grader --list`: every assignment and check of the manifest, with points, kind and
//! visibility.

use std::fmt::Write;

use course_harness::manifest::{Manifest, Visibility, grading_table};
use serde::Serialize;

use crate::cli::Format;
use crate::errors::{GraderError, ReportError};
use crate::report::Output;

#[derive(Serialize)]
struct ListedAssignment<'a> {
    id: &'a str,
    title: &'a str,
    points: u32,
    checks: Vec<ListedCheck<'a>>,
}

#[derive(Serialize)]
struct ListedCheck<'a> {
    id: &'a str,
    title: &'a str,
    kind: &'static str,
    visibility: Visibility,
    points: u32,
    timeout_secs: f64,
    repetitions: u32,
}

/// Writes the list in `format` to `output`.
pub fn write(manifest: &Manifest, format: Format, output: &Output) -> Result<(), GraderError> {
    let listed: Vec<ListedAssignment<'_>> = manifest
        .in_order()
        .into_iter()
        .map(|a| ListedAssignment {
            id: &a.id,
            title: &a.title,
            points: a.total_points(),
            checks: a
                .checks
                .iter()
                .map(|c| ListedCheck {
                    id: &c.id,
                    title: &c.title,
                    kind: c.kind.name(),
                    visibility: c.visibility,
                    points: c.points,
                    timeout_secs: c.timeout.as_secs_f64(),
                    repetitions: c.repetitions,
                })
                .collect(),
        })
        .collect();
    let text = match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&listed).map_err(ReportError::Json)?;
            text.push('\n');
            text
        }
        Format::Table => table(&listed),
        Format::Markdown => manifest
            .in_order()
            .into_iter()
            .map(|a| format!("## `{}`: {}\n\n{}", a.id, a.title, grading_table(a)))
            .collect::<Vec<String>>()
            .join("\n"),
        Format::Junit | Format::Gradescope => {
            return Err(GraderError::Usage(format!(
                "--list writes a table, json or markdown, not {}",
                format.name()
            )));
        }
    };
    output.write(&text).map_err(GraderError::from)
}

fn table(listed: &[ListedAssignment<'_>]) -> String {
    let mut out = String::new();
    let total: u32 = listed.iter().map(|a| a.points).sum();
    for assignment in listed {
        let _ = writeln!(
            out,
            "{}: {}  [{} points]",
            assignment.id, assignment.title, assignment.points
        );
        let width = assignment
            .checks
            .iter()
            .map(|c| c.id.len())
            .max()
            .unwrap_or(0);
        let kind_width = assignment
            .checks
            .iter()
            .map(|c| c.kind.len())
            .max()
            .unwrap_or(0);
        for check in &assignment.checks {
            let visibility = match check.visibility {
                Visibility::Visible => "visible",
                Visibility::Hidden => "hidden",
            };
            let _ = writeln!(
                out,
                "  {:<width$}  {:>2} pt  {:<kind_width$}  {:<7}  {}",
                check.id, check.points, check.kind, visibility, check.title
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{} assignments, {total} points in all", listed.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(format: Format) -> Result<String, GraderError> {
        let manifest = crate::course::manifest().expect("the course's manifest");
        let file = tempfile::NamedTempFile::new().expect("a file");
        write(manifest, format, &Output::File(file.path().to_owned()))?;
        Ok(std::fs::read_to_string(file.path()).expect("written"))
    }

    #[test]
    fn the_list_in_markdown_is_each_assignments_grading_table() {
        let markdown = listed(Format::Markdown).expect("lists");
        assert!(markdown.starts_with("## `a00-process`: "), "{markdown}");
        assert!(
            markdown.contains("| Check | What it verifies |"),
            "{markdown}"
        );
        assert!(markdown.contains("hidden (grader)"), "{markdown}");
    }

    #[test]
    fn the_list_has_no_junit_or_gradescope_form() {
        for format in [Format::Junit, Format::Gradescope] {
            let error = listed(format).expect_err("refused");
            assert_eq!(error.exit_code(), crate::exit::USAGE);
        }
    }
}
