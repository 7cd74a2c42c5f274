//! The parts of each statement (`README.md`) generated from the manifest, so points and hints
//! cannot drift: the harness's `statements` test compares them, and rewrites them with
//! `COURSE_BLESS=1`.

use std::fmt::Write;

use crate::manifest::schema::{Assignment, Visibility};

/// The "what is graded" table of an assignment's statement.
pub fn grading_table(assignment: &Assignment) -> String {
    let mut out = String::new();
    out.push_str(
        "| Check | What it verifies | Kind | Runs | Time limit per run | Points | Where |\n",
    );
    out.push_str("|---|---|---|---:|---:|---:|---|\n");
    for check in &assignment.checks {
        let place = match check.visibility {
            Visibility::Visible => format!("visible: `{}`", check.test_name()),
            Visibility::Hidden => "hidden (grader)".to_owned(),
        };
        // Infallible: writing to a String.
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} s | {} | {} |",
            check.id,
            check.title,
            check.kind.describe(),
            check.repetitions,
            check.timeout.as_secs_f64(),
            check.points,
            place
        );
    }
    let _ = writeln!(
        out,
        "| **Total** | | | | | **{}** | |",
        assignment.total_points()
    );
    out
}

/// The numbered hints of an assignment's statement.
pub fn hints_list(assignment: &Assignment) -> String {
    let mut out = String::new();
    for (number, hint) in assignment.hints.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", number + 1, hint.trim());
    }
    out
}
