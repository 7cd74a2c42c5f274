//! Hostile submissions of a00-process (`submissions/a00/correct.rs` with one line spliced
//! in): each gets the verdict that names what it did, in bounded time, and leaves no
//! process behind.

use std::time::{Duration, Instant};

use crate::support::{Scratch, checks, graded, stub_file, text, verdict, workspace};

/// A correct a00-process, not the reference solution.
fn correct() -> String {
    std::fs::read_to_string(workspace().join("tests/submissions/a00/correct.rs"))
        .expect("the correct submission")
}

/// `correct()` with `code` where it says `// HOSTILE`, and `extra` appended.
fn hostile(code: &str, extra: &str) -> String {
    let source = correct();
    assert_eq!(source.matches("// HOSTILE").count(), 1, "one marker");
    format!("{}\n{extra}", source.replace("// HOSTILE", code))
}

fn a00(source: String) -> Vec<(String, String)> {
    vec![("assignments/a00-process/src/lib.rs".to_owned(), source)]
}

/// Grades a00-process of `files` (only the given checks, if any) and returns the report.
fn grade(scratch: &Scratch, files: Vec<(String, String)>, only: &[&str]) -> serde_json::Value {
    let submission = scratch.submission("submission", &files);
    let mut command = scratch.grader();
    command
        .arg("a00-process")
        .arg("--submission")
        .arg(&submission)
        .args(["--seed", "5"]);
    for check in only {
        command.args(["--check", check]);
    }
    let (code, report, output) = graded(&mut command);
    assert!(matches!(code, 0 | 1), "exit {code}: {}", text(&output));
    report
}

#[test]
fn a_correct_submission_passes_and_its_own_runner_is_not_used() {
    let scratch = Scratch::new();
    let mut files = a00(correct());
    // Were this runner used, every check would end as "exited".
    files.push((
        "assignments/a00-process/src/bin/a00-process-runner.rs".to_owned(),
        "fn main() { println!(\"score: 100\"); std::process::exit(0) }".to_owned(),
    ));
    let report = grade(&scratch, files, &[]);
    assert_eq!(
        report["score"]["earned"], report["score"]["possible"],
        "{report:#}"
    );
    scratch.assert_nothing_left();
}

#[test]
fn sleeping_forever_times_out_with_a_diagnosis_in_bounded_time() {
    let scratch = Scratch::new();
    let started = Instant::now();
    let report = grade(
        &scratch,
        a00(hostile(
            "loop { std::thread::sleep(Duration::from_secs(3600)); }",
            "",
        )),
        &["one-report-per-name"],
    );
    let check = &checks(&report, "a00-process")[0];
    assert_eq!(check["verdict"], "timeout", "{check:#}");
    let explanation = check["explanation"].as_str().expect("text");
    assert!(
        explanation.contains("deadlock") || explanation.contains("too slow"),
        "{explanation}"
    );
    assert!(started.elapsed() < Duration::from_secs(300));
    scratch.assert_nothing_left();
}

const DAEMON: &str = r#"
unsafe extern "C" {
    fn fork() -> i32;
    fn setsid() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn _exit(code: i32) -> !;
}

/// A double fork and `setsid`: a daemon in a session of its own that outlives the program.
fn leave_a_daemon() {
    // SAFETY: the children only sleep or exit.
    unsafe {
        let child = fork();
        if child == 0 {
            setsid();
            if fork() == 0 {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            _exit(0);
        }
        let mut status = 0;
        waitpid(child, &mut status, 0);
    }
}
"#;

#[test]
fn a_setsid_daemon_is_found_killed_and_costs_the_points() {
    let scratch = Scratch::new();
    let report = grade(
        &scratch,
        a00(hostile("leave_a_daemon();", DAEMON)),
        &["one-report-per-name", "distinct-pids"],
    );
    for check in checks(&report, "a00-process") {
        assert_eq!(check["verdict"], "leaked", "{check:#}");
        assert_eq!(check["earned"], 0);
        let processes = check["leaks"]["processes"].as_array().expect("processes");
        assert!(!processes.is_empty(), "{check:#}");
    }
    scratch.assert_nothing_left();
}

#[test]
fn printing_a_score_or_a_fake_report_earns_nothing() {
    let scratch = Scratch::new();
    let report = grade(
        &scratch,
        a00(hostile(
            r#"println!("score: 100");
    println!("CRS1 {{\"protocol\":1,\"outcome\":{{\"returned\":{{\"workers\":{{\"Ok\":[]}}}}}}}}");
    todo!("the real work");"#,
            "",
        )),
        &[],
    );
    assert_eq!(report["score"]["earned"], 0, "{report:#}");
    for check in checks(&report, "a00-process") {
        assert_eq!(check["verdict"], "panicked", "{check:#}");
        let stdout = check["stdout"]["excerpt"].as_str().expect("stdout kept");
        assert!(stdout.contains("score: 100"));
    }
    scratch.assert_nothing_left();
}

#[test]
fn exiting_early_without_a_report_is_a_failure() {
    let scratch = Scratch::new();
    let report = grade(
        &scratch,
        a00(hostile("std::process::exit(0);", "")),
        &["one-report-per-name", "many-workers"],
    );
    for check in checks(&report, "a00-process") {
        assert_eq!(check["verdict"], "exited", "{check:#}");
        assert_eq!(check["earned"], 0);
    }
    scratch.assert_nothing_left();
}

#[test]
fn endless_stdout_is_an_output_limit_not_a_timeout() {
    let scratch = Scratch::new();
    let report = grade(
        &scratch,
        a00(hostile(
            r#"loop { println!("all work and no play makes a dull process"); }"#,
            "",
        )),
        &["one-report-per-name"],
    );
    let check = &checks(&report, "a00-process")[0];
    assert_eq!(check["verdict"], "output-limit", "{check:#}");
    let elapsed = check["elapsed_secs"].as_f64().expect("a time");
    let timeout = check["timeout_secs"].as_f64().expect("a deadline");
    assert!(
        elapsed < timeout,
        "stopped at the cap, not at the deadline: {elapsed} s"
    );
    scratch.assert_nothing_left();
}

#[test]
fn a_compile_error_costs_only_its_assignment() {
    let scratch = Scratch::new();
    let mut files: Vec<(String, String)> = crate::support::assignment_ids()
        .iter()
        .filter(|id| *id != "a00-process")
        .map(|id| stub_file(id))
        .collect();
    files.extend(a00(hostile("let broken: u32 = \"not a number\";", "")));
    let submission = scratch.submission("submission", &files);
    let (code, report, output) = graded(
        scratch
            .grader()
            .arg("--all")
            .arg("--submission")
            .arg(&submission)
            .args(["--seed", "5"]),
    );
    assert_eq!(code, 1, "{}", text(&output));
    for assignment in report["assignments"].as_array().expect("assignments") {
        let build = &assignment["build"];
        if assignment["id"] == "a00-process" {
            assert_eq!(build["status"], "compile-error", "{build:#}");
            let errors = build["errors"].as_array().expect("errors");
            assert!(
                errors[0]
                    .as_str()
                    .expect("text")
                    .contains("mismatched types")
            );
            assert!(errors[0].as_str().expect("text").contains("src/lib.rs"));
            assert_eq!(
                verdict(&report, "a00-process", "distinct-pids"),
                "compile-error"
            );
            assert_eq!(assignment["earned"], 0);
        } else {
            assert_eq!(build["status"], "built", "{assignment:#}");
            for check in assignment["checks"].as_array().expect("checks") {
                assert_ne!(check["verdict"], "compile-error");
            }
        }
    }
    scratch.assert_nothing_left();
}

#[test]
fn without_a_pid_namespace_the_subreaper_still_finds_a_setsid_daemon() {
    let scratch = Scratch::new();
    let submission = scratch.submission("submission", &a00(hostile("leave_a_daemon();", DAEMON)));
    let (code, report, output) = graded(
        scratch
            .grader()
            .args(["a00-process", "--isolation", "process-group", "--seed", "5"])
            .args(["--check", "one-report-per-name"])
            .arg("--submission")
            .arg(&submission),
    );
    assert_eq!(code, 1, "{}", text(&output));
    assert_eq!(report["sandbox"]["isolation"], "process-group");
    assert_eq!(report["jobs"], 1, "one check at a time without a namespace");
    let check = &checks(&report, "a00-process")[0];
    assert_eq!(check["verdict"], "leaked", "{check:#}");
    scratch.assert_nothing_left();
}

#[test]
fn honest_code_with_many_threads_passes_under_the_limits() {
    let scratch = Scratch::new();
    let report = grade(
        &scratch,
        a00(hostile(
            "let threads: Vec<_> = (0..64u64)
        .map(|i| std::thread::spawn(move || vec![i; 1 << 17].iter().sum::<u64>()))
        .collect();
    let _: u64 = threads.into_iter().filter_map(|t| t.join().ok()).sum();",
            "",
        )),
        &["one-report-per-name", "many-workers"],
    );
    for check in checks(&report, "a00-process") {
        assert_eq!(check["verdict"], "pass", "{check:#}");
    }
    scratch.assert_nothing_left();
}

#[test]
fn allocating_far_beyond_the_limit_is_a_memory_limit() {
    let scratch = Scratch::new();
    let report = grade(
        &scratch,
        a00(hostile("std::hint::black_box(vec![1u8; 64 << 30]);", "")),
        &["one-report-per-name"],
    );
    let check = &checks(&report, "a00-process")[0];
    assert_eq!(check["verdict"], "memory-limit", "{check:#}");
    scratch.assert_nothing_left();
}

const SHM_LEAK: &str = r#"
unsafe extern "C" {
    fn shm_open(name: *const std::ffi::c_char, oflag: i32, mode: u32) -> i32;
    fn close(fd: i32) -> i32;
}

/// Creates a named shared-memory segment and never unlinks it.
fn leave_a_segment() {
    // O_CREAT | O_RDWR; the segment outlives the program in /dev/shm.
    // SAFETY: a C-string literal and plain integers; the fd is closed at once.
    unsafe {
        let fd = shm_open(c"/grader-test-leaked-segment".as_ptr(), 0o100 | 0o2, 0o600);
        if fd >= 0 {
            close(fd);
        }
    }
}
"#;

#[test]
fn a_shared_memory_segment_left_behind_is_reported_and_removed() {
    let scratch = Scratch::new();
    let report = grade(
        &scratch,
        a00(hostile("leave_a_segment();", SHM_LEAK)),
        &["one-report-per-name"],
    );
    let check = &checks(&report, "a00-process")[0];
    assert_eq!(check["verdict"], "leaked", "{check:#}");
    assert_eq!(
        check["leaks"]["shm_segments"],
        serde_json::json!(["grader-test-leaked-segment"])
    );
    assert!(
        !std::path::Path::new("/dev/shm/grader-test-leaked-segment").exists(),
        "removed, and never in the machine's /dev/shm with a namespace"
    );
    scratch.assert_nothing_left();
}
