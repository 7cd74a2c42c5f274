//! `Process` in real forked children: lifecycle, outcomes, names and pids, reaping.

use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use multiprocessing::{ExitStatus, Process, ProcessError, Signal, current_process};

const DEADLINE: Duration = Duration::from_secs(10);

/// Kills and reaps the child when a test ends early, so a failing test leaves nothing behind.
struct Reaped(Process);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.join_timeout(DEADLINE);
    }
}

fn started(process: Process) -> Reaped {
    let mut process = Reaped(process);
    process.0.start().expect("fork");
    process
}

/// Exits with 0 when `condition` holds in the child, 9 otherwise: the exit code is the only
/// channel a test needs to check a fact inside the child.
fn exit_with(condition: bool) {
    std::process::exit(if condition { 0 } else { 9 });
}

fn is_reaped(pid: u32) -> bool {
    // A zombie still has a /proc entry; a reaped child does not (the pid may in principle be
    // reused, which within these milliseconds is vanishingly unlikely).
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn a_child_runs_its_target_in_another_process() {
    let parent = std::process::id();
    let mut child = started(Process::new(move || {
        exit_with(std::process::id() != parent)
    }));
    assert!(child.0.pid().is_some_and(|pid| pid != parent));
    child
        .0
        .join_timeout(DEADLINE)
        .expect("child saw a different pid");
    assert_eq!(child.0.exit_status(), Some(ExitStatus::Exited(0)));
}

#[test]
fn the_child_knows_its_name_and_its_parent() {
    let parent = std::process::id();
    let mut child = started(
        Process::new(move || {
            let me = current_process();
            exit_with(me.name == "worker-7" && me.parent_pid == parent);
        })
        .with_name("worker-7"),
    );
    assert_eq!(child.0.name(), "worker-7");
    child
        .0
        .join_timeout(DEADLINE)
        .expect("name and parent pid as set");
    assert_eq!(current_process().name, "MainProcess");
}

#[test]
fn default_names_follow_python() {
    let process = Process::new(|| {});
    assert!(process.name().starts_with("Process-"), "{}", process.name());
}

#[test]
fn a_panic_comes_back_to_join_with_its_message() {
    let mut child = started(Process::new(|| panic!("the answer was {}", 41)));
    match child.0.join_timeout(DEADLINE) {
        Err(ProcessError::Panicked { message, pid, .. }) => {
            assert_eq!(message, "the answer was 41");
            assert_eq!(Some(pid), child.0.pid());
        }
        other => panic!("expected Panicked, got {other:?}"),
    }
    assert_eq!(child.0.exit_status(), Some(ExitStatus::Exited(1)));
}

/// The panic pipe is read without blocking, in chunks: a message longer than one chunk must
/// come back whole, and one longer than the library keeps must come back cut, not hang the
/// child's write or the parent's `join`.
#[test]
fn a_long_panic_message_comes_back_whole_and_a_huge_one_cut() {
    let long = "long message ".repeat(800);
    let expected = long.clone();
    let mut child = started(Process::new(move || panic!("{long}")));
    match child.0.join_timeout(DEADLINE) {
        Err(ProcessError::Panicked { message, .. }) => assert_eq!(message, expected),
        other => panic!("expected Panicked, got {other:?}"),
    }

    let huge = "x".repeat(1 << 20);
    let mut child = started(Process::new(move || panic!("{huge}")));
    match child.0.join_timeout(DEADLINE) {
        Err(ProcessError::Panicked { message, .. }) => {
            assert!(
                !message.is_empty() && message.len() < 1 << 20,
                "{}",
                message.len()
            );
            assert!(message.bytes().all(|b| b == b'x'));
        }
        other => panic!("expected Panicked, got {other:?}"),
    }
}
#[test]
fn an_exit_code_is_reported() {
    let mut child = started(Process::new(|| std::process::exit(3)));
    match child.0.join_timeout(DEADLINE) {
        Err(ProcessError::Exited { code: 3, .. }) => {}
        other => panic!("expected exit code 3, got {other:?}"),
    }
}

#[test]
fn a_killed_child_names_the_signal() {
    let mut child = started(Process::new(|| std::thread::sleep(Duration::from_secs(60))));
    assert!(child.0.is_alive());
    child.0.kill().expect("kill");
    match child.0.join_timeout(DEADLINE) {
        Err(
            error @ ProcessError::Signaled {
                signal: Signal::SIGKILL,
                ..
            },
        ) => {
            assert!(error.to_string().contains("SIGKILL"), "{error}");
        }
        other => panic!("expected SIGKILL, got {other:?}"),
    }
    assert!(!child.0.is_alive());
    assert_eq!(
        child.0.exit_status().map(ExitStatus::python_exitcode),
        Some(-9)
    );
}

#[test]
fn terminate_sends_sigterm() {
    let mut child = started(Process::new(|| std::thread::sleep(Duration::from_secs(60))));
    child.0.terminate().expect("terminate");
    assert!(matches!(
        child.0.join_timeout(DEADLINE),
        Err(ProcessError::Signaled {
            signal: Signal::SIGTERM,
            ..
        })
    ));
}

#[test]
fn join_timeout_expires_and_the_child_stays_joinable() {
    let mut child = started(Process::new(|| {
        std::thread::sleep(Duration::from_millis(300))
    }));
    let begun = Instant::now();
    assert!(matches!(
        child.0.join_timeout(Duration::from_millis(20)),
        Err(ProcessError::Timeout { .. })
    ));
    assert!(
        begun.elapsed() < Duration::from_millis(290),
        "returned before the child ended"
    );
    child.0.join_timeout(DEADLINE).expect("joins once done");
}

#[test]
fn misuse_is_a_typed_error() {
    let mut process = Process::new(|| {});
    assert!(matches!(
        process.join(),
        Err(ProcessError::NotStarted { .. })
    ));
    assert!(matches!(
        process.kill(),
        Err(ProcessError::NotStarted { .. })
    ));
    let mut process = started(process);
    assert!(matches!(
        process.0.start(),
        Err(ProcessError::AlreadyStarted { .. })
    ));
    process.0.join_timeout(DEADLINE).expect("join");
    // Signalling a reaped child is a no-op: its pid may belong to someone else by now.
    process.0.kill().expect("no-op after reaping");
}

#[test]
fn a_dropped_finished_child_is_reaped() {
    let mut process = Process::new(|| {});
    process.start().expect("fork");
    let pid = process.pid().expect("pid");
    assert!(eventually(|| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| stat.contains(") Z "))
            .unwrap_or(true)
    }));
    drop(process);
    assert!(is_reaped(pid), "dropping the handle left a zombie");
}

#[test]
fn a_dropped_running_child_is_reaped_later() {
    let mut process = Process::new(|| std::thread::sleep(Duration::from_millis(100)));
    process.start().expect("fork");
    let pid = process.pid().expect("pid");
    drop(process);
    assert!(eventually(|| {
        // Any later start or drop reaps children whose handles are gone.
        let mut other = started(Process::new(|| {}));
        let _ = other.0.join_timeout(DEADLINE);
        is_reaped(pid)
    }));
}

#[test]
fn many_children_run_at_once() {
    let mut children: Vec<Reaped> = (0..8)
        .map(|_| {
            started(Process::new(|| {
                std::thread::sleep(Duration::from_millis(200))
            }))
        })
        .collect();
    let pids: std::collections::HashSet<_> = children.iter().filter_map(|c| c.0.pid()).collect();
    assert_eq!(pids.len(), 8);
    for child in &mut children {
        child.0.join_timeout(DEADLINE).expect("join");
    }
}

/// Set in the re-executed test binary: run the printing child instead of checking it.
const PRINT_MODE: &str = "MP_TEST_CHILD_PRINTS";

#[test]
fn println_in_a_child_reaches_the_terminal() {
    if std::env::var_os(PRINT_MODE).is_some() {
        // Inside the re-executed binary, under --nocapture: stdout is the real fd 1.
        println!("parent before fork");
        let mut child = started(Process::new(|| println!("hello from the child")));
        child.0.join_timeout(DEADLINE).expect("child");
        return;
    }
    // Re-run this very test in a fresh process with --nocapture, as a student would, and
    // read what reached its stdout.
    let mut rerun = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "println_in_a_child_reaches_the_terminal",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(PRINT_MODE, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("re-run the test binary");
    let status = match rerun.wait_timeout(DEADLINE).expect("wait") {
        Some(status) => status,
        None => {
            let _ = rerun.kill();
            let _ = rerun.wait();
            panic!("the re-run test binary hung");
        }
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut rerun.stdout.take().expect("piped"), &mut stdout)
        .expect("read stdout");
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("hello from the child"), "{stdout}");
    assert_eq!(
        stdout.matches("parent before fork").count(),
        1,
        "the parent's buffered output was printed twice: {stdout}"
    );
}

/// A worker that starts a process of its own and exits (here: panics) without joining it.
/// The grandchild inherits the worker's end of the pipe that carries panic messages; `join`
/// of the worker must neither wait for the grandchild nor lose the worker's message.
#[test]
fn a_grandchild_left_running_does_not_hold_up_join() {
    let (mut grandchild_pid, mut report_pid) =
        multiprocessing::Pipe::one_way::<u32>().expect("pipe");
    let mut worker = started(Process::new(move || {
        let mut grandchild = Process::new(|| std::thread::sleep(Duration::from_secs(30)));
        grandchild.start().expect("fork the grandchild");
        report_pid
            .send(&grandchild.pid().expect("started"))
            .expect("send the pid");
        std::mem::forget(grandchild);
        panic!("left my child running");
    }));
    let pid = grandchild_pid
        .recv_timeout(DEADLINE)
        .expect("grandchild pid");
    let started_joining = Instant::now();
    let outcome = worker.0.join_timeout(DEADLINE);
    let waited = started_joining.elapsed();
    // The grandchild is no child of ours: kill it by pid before asserting anything.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert!(
        matches!(&outcome, Err(ProcessError::Panicked { message, .. }) if message == "left my child running"),
        "{outcome:?}"
    );
    assert!(waited < Duration::from_secs(5), "join waited {waited:?}");
}
