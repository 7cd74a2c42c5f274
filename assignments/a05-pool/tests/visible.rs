//! The visible checks of a05-pool: `cargo test -p a05-pool`.
//!
//! Each test runs your code in a fresh process through the runner (src/bin/), with inputs
//! drawn from a seed, and checks what came back. Points, time limits and inputs come from the
//! course's manifest (`course.toml`); the grader runs these same checks, plus hidden ones.
//! A failure says what was expected, what came back, what it likely means, and the command
//! that replays it.

use course_harness::{this_runner, visible::run};

#[test]
fn every_result_once() {
    run("a05-pool", "every-result-once", this_runner!());
}

#[test]
fn nothing_left_running() {
    run("a05-pool", "nothing-left-running", this_runner!());
}

#[test]
fn jobs_ran_at_once() {
    run("a05-pool", "jobs-ran-at-once", this_runner!());
}

#[test]
fn speedup() {
    run("a05-pool", "speedup", this_runner!());
}

#[test]
fn jobs_added_while_running() {
    run("a05-pool", "jobs-added-while-running", this_runner!());
}

#[test]
fn results_before_last_input() {
    run("a05-pool", "results-before-last-input", this_runner!());
}
