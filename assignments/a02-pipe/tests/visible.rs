//! The visible checks of a02-pipe: `cargo test -p a02-pipe`.
//!
//! Each test runs your code in a fresh process through the runner (src/bin/), with messages
//! drawn from a seed, and checks what came back. Points, time limits and inputs come from the
//! course's manifest (`course.toml`); the grader runs these same checks, plus hidden ones.
//! A failure says what was expected, what came back, what it likely means, and the command
//! that replays it; a run that hangs says what each process was blocked on.

use course_harness::{this_runner, visible::run};

#[test]
fn replies_in_order() {
    run("a02-pipe", "replies-in-order", this_runner!());
}

#[test]
fn child_stops_at_sentinel() {
    run("a02-pipe", "child-stops-at-sentinel", this_runner!());
}

#[test]
fn child_joined() {
    run("a02-pipe", "child-joined", this_runner!());
}

#[test]
fn large_messages() {
    run("a02-pipe", "large-messages", this_runner!());
}

#[test]
fn arbitrary_sequences() {
    run("a02-pipe", "arbitrary-sequences", this_runner!());
}
