//! How a submission is taken: separate builds per submission, no symlinks, missing
//! assignments score 0.

use crate::support::{Scratch, checks, graded, text, workspace};

fn correct_with(line: &str) -> String {
    std::fs::read_to_string(workspace().join("tests/submissions/a00/correct.rs"))
        .expect("the correct submission")
        .replace("// HOSTILE", line)
}

fn a00_verdicts(scratch: &Scratch, submission: &std::path::Path) -> Vec<String> {
    let (_, report, output) = graded(
        scratch
            .grader()
            .arg("a00-process")
            .arg("--submission")
            .arg(submission)
            .args(["--seed", "3", "--check", "distinct-pids"]),
    );
    let build = &report["assignments"][0]["build"]["status"];
    let mut verdicts = vec![format!("build {}", build.as_str().unwrap_or("?"))];
    verdicts.extend(
        checks(&report, "a00-process")
            .iter()
            .map(|c| c["verdict"].as_str().expect("a verdict").to_owned()),
    );
    assert!(!verdicts.is_empty(), "{}", text(&output));
    verdicts
}

/// Regression: cargo keys a workspace member's build by its path relative to the workspace,
/// the same in every scratch workspace; a submission written earlier was once graded with
/// the build of one graded before it.
#[test]
fn two_submissions_never_share_a_build() {
    let scratch = Scratch::new();
    let lib = "assignments/a00-process/src/lib.rs".to_owned();
    let broken = scratch.submission(
        "first",
        &[(lib.clone(), correct_with("let broken: u32 = \"text\";"))],
    );
    let exits = scratch.submission("second", &[(lib, correct_with("std::process::exit(0);"))]);
    assert_eq!(a00_verdicts(&scratch, &exits), ["build built", "exited"]);
    assert_eq!(
        a00_verdicts(&scratch, &broken),
        ["build compile-error", "compile-error"]
    );
    assert_eq!(a00_verdicts(&scratch, &exits), ["build built", "exited"]);
    scratch.assert_nothing_left();
}

#[test]
fn a_symlinked_source_is_refused_not_followed() {
    let scratch = Scratch::new();
    let submission = scratch.path().join("linked");
    let src = submission.join("assignments/a00-process/src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::os::unix::fs::symlink(
        workspace().join("solutions/a00-process/src/lib.rs"),
        src.join("lib.rs"),
    )
    .expect("a symlink");
    assert_eq!(
        a00_verdicts(&scratch, &submission),
        ["build rejected", "rejected"]
    );
}

#[test]
fn an_assignment_missing_from_the_submission_scores_zero() {
    let scratch = Scratch::new();
    let submission = scratch.submission("empty", &[("README.md".to_owned(), "hi".to_owned())]);
    assert_eq!(
        a00_verdicts(&scratch, &submission),
        ["build missing", "missing"]
    );
}
