//! Helpers shared by the sync and shared-data tests: children that are always killed and
//! reaped, a deadline for every blocking call, and a safe way out of a child.

#![allow(dead_code)] // each test binary uses a different part

use std::time::{Duration, Instant};

use multiprocessing::{Process, ProcessError};

/// The longest any blocking call in these tests may take: long enough for a loaded 2-core
/// machine, short enough that a bug fails the test instead of hanging the suite.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Exit codes children use to say what went wrong (0 is success).
pub mod code {
    /// An operation under test returned an unexpected error or result.
    pub const UNEXPECTED: i32 = 10;
    /// A wait hit its deadline.
    pub const TIMED_OUT: i32 = 11;
}

/// Child processes that are killed and reaped when this drops, also when a test fails.
#[derive(Default)]
pub struct Children {
    processes: Vec<Process>,
}

impl Children {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `target` in a new child; returns its pid.
    pub fn spawn(&mut self, target: impl FnOnce() + 'static) -> u32 {
        let mut process = Process::new(target);
        process.start().expect("fork");
        let pid = process.pid().expect("started process has a pid");
        self.processes.push(process);
        pid
    }

    /// The `index`th child started.
    pub fn get(&mut self, index: usize) -> &mut Process {
        &mut self.processes[index]
    }

    /// Joins every child (each within [`DEADLINE`]) and returns their outcomes in start order.
    pub fn join_all(&mut self) -> Vec<Result<(), ProcessError>> {
        self.processes
            .iter_mut()
            .map(|process| process.join_timeout(DEADLINE))
            .collect()
    }

    /// Joins every child and panics with the outcomes unless all exited with code 0.
    pub fn join_all_ok(&mut self) {
        let outcomes = self.join_all();
        assert!(
            outcomes.iter().all(Result::is_ok),
            "children failed: {outcomes:?}"
        );
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.join_timeout(DEADLINE);
        }
    }
}

/// Ends a child at once with `code`: no unwinding, no atexit handlers, no stdio locks that
/// another harness thread might have held when the child was forked.
pub fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` is async-signal-safe and ends only this (child) process.
    unsafe { libc::_exit(code) }
}

/// In a child: exits with `code` unless `condition` holds.
pub fn child_check(condition: bool, code: i32) {
    if !condition {
        exit_child(code);
    }
}

/// In a child: blocks until killed, without touching any lock.
pub fn park_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Polls `condition` until it holds or [`DEADLINE`] passes; true if it held.
pub fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    condition()
}
