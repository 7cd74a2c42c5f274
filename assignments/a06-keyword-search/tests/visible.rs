//! The visible checks of a06-keyword-search: `cargo test -p a06-keyword-search`.
//!
//! Each test generates a seeded directory tree, runs your code on it in a fresh process
//! through the runner (src/bin/), and compares what came back with a simple sequential search
//! (the oracle, in `course_harness::a06::oracle`). Points, time limits and inputs come from
//! the course's manifest (`course.toml`); the grader runs these same checks, plus hidden ones.
//! A failure says what was expected, what came back, what it likely means, and the command
//! that replays it.

use course_harness::{this_runner, visible::run};

#[test]
fn invalid_arguments() {
    run("a06-keyword-search", "invalid-arguments", this_runner!());
}

#[test]
fn sequential_search() {
    run("a06-keyword-search", "sequential-search", this_runner!());
}

#[test]
fn parallel_search() {
    run("a06-keyword-search", "parallel-search", this_runner!());
}

#[test]
fn line_ends_and_bytes() {
    run("a06-keyword-search", "line-ends-and-bytes", this_runner!());
}

#[test]
fn binary_files() {
    run("a06-keyword-search", "binary-files", this_runner!());
}

#[test]
fn links_and_special_files() {
    run(
        "a06-keyword-search",
        "links-and-special-files",
        this_runner!(),
    );
}

#[test]
fn speedup() {
    run("a06-keyword-search", "speedup", this_runner!());
}
