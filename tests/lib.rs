//! Tests of the whole workspace.
//!
//! - `tests/grader/`: the `grader` binary end to end: solutions get full marks, stubs get 0,
//!   `--list`, the known-wrong fixtures get their expected verdicts through `--submission`,
//!   and hostile submissions (`submissions/`) get the right verdict in bounded time with no
//!   process left behind.
//!
//! Every grader these tests start builds into `target/grader-tests` (not the workspace's
//! `target/`, whose lock `cargo test` may hold) and has a deadline.
