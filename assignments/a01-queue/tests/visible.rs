//! The visible checks of a01-queue: `cargo test -p a01-queue`.
//!
//! Each test runs your code in a fresh process through the runner (src/bin/), with inputs
//! drawn from a seed, and checks what came back. Points, time limits and inputs come from the
//! course's manifest (`course.toml`); the grader runs these same checks, plus hidden ones.
//! A failure says what was expected, what came back, what it likely means, and the command
//! that replays it.

use course_harness::{this_runner, visible::run};

#[test]
fn every_result_once() {
    run("a01-queue", "every-result-once", this_runner!());
}

#[test]
fn workers_joined() {
    run("a01-queue", "workers-joined", this_runner!());
}

#[test]
fn work_spread() {
    run("a01-queue", "work-spread", this_runner!());
}

#[test]
fn speedup() {
    run("a01-queue", "speedup", this_runner!());
}
