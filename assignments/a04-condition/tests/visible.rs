//! The visible checks of a04-condition: `cargo test -p a04-condition`.
//!
//! Each test runs your code in a fresh process through the runner (src/bin/), with inputs
//! drawn from a seed, and checks what came back. The buffer checks drive your
//! `BoundedBuffer` with the tests' own producer and consumer processes, which record every
//! put and get themselves; the pipeline checks call your `produce_and_consume`. Points, time
//! limits and inputs come from the course's manifest (`course.toml`); the grader runs these
//! same checks, plus hidden ones. A failure says what was expected, what came back, what it
//! likely means, and the command that replays it.

use course_harness::{this_runner, visible::run};

#[test]
fn exactly_once() {
    run("a04-condition", "exactly-once", this_runner!());
}

#[test]
fn fifo_order() {
    run("a04-condition", "fifo-order", this_runner!());
}

#[test]
fn never_over_capacity() {
    run("a04-condition", "never-over-capacity", this_runner!());
}

#[test]
fn no_lost_wakeup() {
    run("a04-condition", "no-lost-wakeup", this_runner!());
}

#[test]
fn no_busy_wait() {
    run("a04-condition", "no-busy-wait", this_runner!());
}

#[test]
fn pipeline_exactly_once() {
    run("a04-condition", "pipeline-exactly-once", this_runner!());
}

#[test]
fn every_process_exits() {
    run("a04-condition", "every-process-exits", this_runner!());
}
