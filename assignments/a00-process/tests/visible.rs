//! The visible checks of a00-process: `cargo test -p a00-process`.
//!
//! Each test runs your code in a fresh process through the runner (src/bin/), with inputs
//! drawn from a seed, and checks what came back. Points, time limits and inputs come from the
//! course's manifest (`course.toml`); the grader runs these same checks, plus hidden ones.
//! A failure says what was expected, what came back, what it likely means, and the command
//! that replays it.

use course_harness::{this_runner, visible::run};

#[test]
fn one_report_per_name() {
    run("a00-process", "one-report-per-name", this_runner!());
}

#[test]
fn distinct_pids() {
    run("a00-process", "distinct-pids", this_runner!());
}

#[test]
fn parent_pid() {
    run("a00-process", "parent-pid", this_runner!());
}

#[test]
fn children_reaped() {
    run("a00-process", "children-reaped", this_runner!());
}

#[test]
fn ran_concurrently() {
    run("a00-process", "ran-concurrently", this_runner!());
}

#[test]
fn nothing_left_running() {
    run("a00-process", "nothing-left-running", this_runner!());
}
