//! The harness against a runner that misbehaves on request (`src/bin/course-harness-probe.rs`):
//! every way student code can end maps to the right verdict, in bounded time, with no process
//! left behind.

use std::path::Path;
use std::time::{Duration, Instant};

use course_harness::checks::{CheckContext, Execution, Failure, execute};
use course_harness::manifest::Manifest;
use course_harness::procfs;
use course_harness::run::{Diagnosis, SandboxOptions};
use course_harness::seed::Seed;
use course_harness::verdict::Verdict;
use serde_json::json;

const PROBE: &str = env!("CARGO_BIN_EXE_course-harness-probe");

const PROBE_MANIFEST: &str = r#"
format = 1

[[assignment]]
id = "a99-probe"
title = "The harness's probe"
order = 99
lesson = { seed = "none", section = "none" }
summary = "A runner that misbehaves on request."

[[assignment.check]]
id = "probe"
title = "Whatever the probe does"
kind = "correctness"
visibility = "visible"
points = 1
timeout_secs = 1.5
"#;

fn probe_with(
    scenario: serde_json::Value,
    sandbox: SandboxOptions,
) -> Result<Execution<String>, Failure> {
    let manifest = Manifest::parse_unchecked(PROBE_MANIFEST).expect("the probe manifest parses");
    let assignment = &manifest.assignments[0];
    let ctx = CheckContext {
        assignment,
        check: &assignment.checks[0],
        runner: Path::new(PROBE),
        package: "course-harness",
        seed: Seed::DEFAULT,
        sandbox,
    };
    execute(&ctx, &scenario)
}

fn probe(scenario: serde_json::Value) -> Result<Execution<String>, Failure> {
    probe_with(scenario, SandboxOptions::default())
}

fn verdict(scenario: serde_json::Value) -> Verdict {
    match probe(scenario) {
        Ok(run) => panic!("expected a failure, got the report {:?}", run.report),
        Err(failure) => failure.verdict,
    }
}

fn assert_group_gone(pgid: u32) {
    let alive: Vec<_> = procfs::group_members(pgid)
        .into_iter()
        .filter(|p| !p.is_zombie())
        .collect();
    assert!(alive.is_empty(), "left behind: {alive:?}");
}

#[test]
fn a_report_comes_back_with_the_runner_pid() {
    let run = probe(json!({"echo": 7})).expect("a report");
    assert_eq!(run.report, "echo 7");
    assert_eq!(run.runner_pid, run.record.runner_pid);
    assert!(run.children_after.is_empty());
    assert!(run.record.leftovers.is_empty());
}

#[test]
fn a_panic_is_reported_with_its_message_and_place() {
    match verdict(json!({"panic": "boom"})) {
        Verdict::Panicked { message, location } => {
            assert_eq!(message, "boom");
            assert!(
                location
                    .expect("a location")
                    .contains("course-harness-probe.rs")
            );
        }
        other => panic!("got {other:?}"),
    }
}

#[test]
fn a_todo_reads_as_not_implemented() {
    let verdict = verdict(json!("todo"));
    assert!(verdict.is_unimplemented(), "{verdict:?}");
    assert!(
        verdict
            .to_string()
            .starts_with("not yet implemented: write the probe")
    );
}

#[test]
fn printing_a_report_on_stdout_does_not_count() {
    let failure = probe(json!("fake-report-on-stdout")).expect_err("must fail");
    assert!(
        matches!(failure.verdict, Verdict::Panicked { .. }),
        "{:?}",
        failure.verdict
    );
    let stdout = failure.evidence.expect("output").stdout.text();
    assert!(stdout.contains("score: 100"));
}

#[test]
fn garbage_on_the_result_channel_is_a_malformed_report() {
    assert!(matches!(
        verdict(json!("garbage")),
        Verdict::MalformedReport { .. }
    ));
}

#[test]
fn exiting_without_a_report_is_an_exit_verdict() {
    assert!(matches!(
        verdict(json!({"exit": 3})),
        Verdict::Exited { code: 3 }
    ));
    assert!(matches!(
        verdict(json!({"exit": 0})),
        Verdict::Exited { code: 0 }
    ));
}

#[test]
fn an_abort_is_a_crash_with_its_signal() {
    assert!(matches!(
        verdict(json!("abort")),
        Verdict::Crashed {
            signal: libc::SIGABRT
        }
    ));
}

#[test]
fn a_child_that_returns_into_the_runner_does_not_report_twice() {
    let run = probe(json!("fork-returns")).expect("one clean report");
    assert_eq!(run.report, format!("returned in {}", run.runner_pid));
}

#[test]
fn sleeping_forever_is_a_deadlock_found_in_bounded_time() {
    let started = Instant::now();
    let failure = probe(json!("sleep-forever")).expect_err("must time out");
    let Verdict::Timeout { triage, .. } = &failure.verdict else {
        panic!("got {:?}", failure.verdict);
    };
    assert_eq!(triage.diagnosis, Diagnosis::Deadlock, "{triage}");
    assert!(triage.processes[0].is_runner);
    assert!(triage.to_string().contains("sleeping"), "{triage}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn two_processes_waiting_on_each_other_are_a_deadlock_with_both_listed() {
    let failure = probe(json!("deadlock-pair")).expect_err("must time out");
    let Verdict::Timeout { triage, .. } = &failure.verdict else {
        panic!("got {:?}", failure.verdict);
    };
    assert_eq!(triage.diagnosis, Diagnosis::Deadlock, "{triage}");
    assert_eq!(triage.processes.len(), 2, "{triage}");
    // What a student reads (`-- --nocapture`).
    println!("{}", failure.verdict);
    let text = triage.to_string();
    assert!(
        text.contains("join"),
        "the parent waits for its child: {text}"
    );
    assert!(
        text.contains("in read(): waiting for data"),
        "the child reads a pipe: {text}"
    );
    let pgid = triage.processes[0].snapshot.pgid;
    assert_group_gone(pgid);
}

#[test]
fn spinning_is_busy() {
    let failure = probe(json!("spin")).expect_err("must time out");
    let Verdict::Timeout { triage, .. } = &failure.verdict else {
        panic!("got {:?}", failure.verdict);
    };
    assert_eq!(triage.diagnosis, Diagnosis::Busy, "{triage}");
    println!("{}", failure.verdict);
}

#[test]
fn a_child_left_running_is_seen_at_return_and_killed_after_exit() {
    let run = probe(json!({"leave-child": 30_000})).expect("a report");
    assert_eq!(run.children_after.len(), 1);
    assert!(!run.children_after[0].is_zombie());
    assert_eq!(run.record.leftovers.len(), 1);
    let orphan = run.record.leftovers[0].pid;
    assert!(
        procfs::snapshot(orphan).is_none_or(|p| p.is_zombie()),
        "the orphan must be killed"
    );
    assert_group_gone(run.runner_pid);
}

#[test]
fn an_unreaped_child_is_seen_as_a_zombie() {
    let run = probe(json!("zombie")).expect("a report");
    assert_eq!(run.children_after.len(), 1);
    assert!(run.children_after[0].is_zombie());
    assert!(run.record.leftovers.is_empty());
}

#[test]
fn output_is_capped_and_can_be_made_a_failure() {
    let run = probe(json!({"print": 1 << 20})).expect("a report");
    assert_eq!(run.report, "printed");
    assert_eq!(run.record.stdout.total, 1 << 20);
    assert_eq!(
        run.record.stdout.bytes.len(),
        SandboxOptions::default().output_cap
    );
    let strict = SandboxOptions {
        fail_on_output_limit: true,
        ..SandboxOptions::default()
    };
    let failure = probe_with(json!({"print": 1 << 20}), strict).expect_err("over the limit");
    assert!(matches!(failure.verdict, Verdict::OutputLimit { .. }));
}

#[test]
fn the_environment_is_reduced_to_the_allow_list() {
    // Cargo sets CARGO_MANIFEST_DIR for this test; the runner must not inherit it.
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok());
    let run = probe(json!({"env": "CARGO_MANIFEST_DIR"})).expect("a report");
    assert_eq!(run.report, "<unset>");
    let options = SandboxOptions {
        env: vec![("COURSE_PROBE".to_owned(), "given".to_owned())],
        ..SandboxOptions::default()
    };
    let run = probe_with(json!({"env": "COURSE_PROBE"}), options).expect("a report");
    assert_eq!(run.report, "given");
}

#[test]
fn a_missing_runner_could_not_run() {
    let manifest = Manifest::parse_unchecked(PROBE_MANIFEST).expect("parses");
    let assignment = &manifest.assignments[0];
    let ctx = CheckContext {
        assignment,
        check: &assignment.checks[0],
        runner: Path::new("/nonexistent/runner"),
        package: "course-harness",
        seed: Seed::DEFAULT,
        sandbox: SandboxOptions::default(),
    };
    let failure = execute::<_, String>(&ctx, &json!({"echo": 1})).expect_err("no runner");
    assert!(matches!(failure.verdict, Verdict::CouldNotRun { .. }));
}

#[test]
fn endless_output_is_stopped_at_the_cap_not_at_the_deadline() {
    let strict = SandboxOptions {
        fail_on_output_limit: true,
        ..SandboxOptions::default()
    };
    let started = Instant::now();
    // Far more than the probe could print before its 1.5 s deadline.
    let failure = probe_with(json!({"print": 1u64 << 40}), strict).expect_err("over the limit");
    assert!(
        matches!(failure.verdict, Verdict::OutputLimit { .. }),
        "{:?}",
        failure.verdict
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn pre_exec_steps_run_in_the_runner_and_a_failing_one_stops_the_spawn() {
    use course_harness::run::PreExec;
    use std::io::Read;
    use std::os::fd::{AsRawFd, OwnedFd};

    // Close-on-exec: runners of other tests spawned meanwhile must not hold the write end.
    let (read_end, write_end): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("a pipe");
    let write_fd = write_end.as_raw_fd();
    let step = move || {
        // SAFETY: writes one byte from a static buffer to an fd that stays open until the
        // spawn is over.
        let written = unsafe { libc::write(write_fd, b"x".as_ptr().cast(), 1) };
        if written == 1 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    // SAFETY: the step only calls write(2), which is async-signal-safe.
    let mark = unsafe { PreExec::new(step) };
    let options = SandboxOptions {
        pre_exec: vec![mark],
        ..SandboxOptions::default()
    };
    let run = probe_with(json!({"echo": 3}), options).expect("a report");
    assert_eq!(run.report, "echo 3");
    drop(write_end);
    let mut marks = String::new();
    std::fs::File::from(read_end)
        .read_to_string(&mut marks)
        .expect("reads the marks");
    assert_eq!(marks, "x", "the step ran once, in the child");

    // SAFETY: the step only builds an io::Error from a constant.
    let refuse = unsafe { PreExec::new(|| Err(std::io::Error::from_raw_os_error(libc::EACCES))) };
    let options = SandboxOptions {
        pre_exec: vec![refuse],
        ..SandboxOptions::default()
    };
    let failure = probe_with(json!({"echo": 4}), options).expect_err("no runner ran");
    assert!(
        matches!(failure.verdict, Verdict::CouldNotRun { .. }),
        "{:?}",
        failure.verdict
    );
}
