//! Validates a manifest file: `cargo run -p course-harness --example check-manifest -- course.toml`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: check-manifest <course.toml>");
        return ExitCode::from(2);
    };
    match course_harness::manifest::Manifest::from_path(path.as_ref()) {
        Ok(manifest) => {
            for assignment in manifest.in_order() {
                println!(
                    "{}: {} checks, {} points",
                    assignment.id,
                    assignment.checks.len(),
                    assignment.total_points()
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {}", course_harness::runner::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}
