//! The visible checks of a03-counter: `cargo test -p a03-counter`.
//!
//! Each test runs your code in a fresh process through the runner (src/bin/), with inputs
//! drawn from a seed, and checks what came back. Points, time limits, repetitions and inputs
//! come from the course's manifest (`course.toml`); the grader runs these same checks, plus
//! hidden ones. A failure says what was expected, what came back, what it likely means, and
//! the command that replays it.

use course_harness::{this_runner, visible::run};

#[test]
fn single_worker() {
    run("a03-counter", "single-worker", this_runner!());
}

#[test]
fn per_process_counts() {
    run("a03-counter", "per-process-counts", this_runner!());
}

#[test]
fn real_processes() {
    run("a03-counter", "real-processes", this_runner!());
}

#[test]
fn workers_joined() {
    run("a03-counter", "workers-joined", this_runner!());
}

#[test]
fn no_lost_updates() {
    run("a03-counter", "no-lost-updates", this_runner!());
}
