//! The program (`src/main.rs`): it prints which files hold the keyword on which lines, what
//! could not be searched, and both timings; an empty keyword is a clear error.

use std::time::Duration;

use assert_cmd::Command;

/// Longest a run of the program may take on a few tiny files, on a busy machine.
const DEADLINE: Duration = Duration::from_secs(60);

fn program() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_a06-keyword-search-solution"));
    command.timeout(DEADLINE);
    command
}

#[test]
fn prints_the_results_and_both_timings() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("sub")).expect("a directory");
    std::fs::write(
        dir.path().join("sub/notes.txt"),
        "one\nneedle\nx needle needle\n",
    )
    .expect("written");
    std::fs::write(dir.path().join("other.txt"), "nothing here").expect("written");
    std::fs::write(dir.path().join("image.bin"), b"\0needle").expect("written");
    let output = program()
        .arg("needle")
        .arg(dir.path())
        .args(["--workers", "2"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "found: exit 0\n{stdout}");
    let notes = dir.path().join("sub/notes.txt");
    assert!(
        stdout.contains(&format!("{}: 2, 3", notes.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 files with matches on 2 lines; 2 files searched, 1 binary files"),
        "{stdout}"
    );
    for timing in ["sequential:", "parallel,  2 workers:", "speedup:"] {
        assert!(stdout.contains(timing), "no {timing:?} line:\n{stdout}");
    }
    assert!(stdout.contains(" ms "), "timings in ms:\n{stdout}");
}

#[test]
fn not_found_is_exit_1() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("a.txt"), "hay\n").expect("written");
    let output = program()
        .arg("needle")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn an_empty_keyword_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = program().arg("").arg(dir.path()).output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the keyword is empty"), "{stderr}");
    assert!(output.stdout.is_empty(), "no results printed");
}
