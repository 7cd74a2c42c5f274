//! Tests of the whole workspace, and what they share with the accuracy command.
//!
//! - `tests/grader/`: the `grader` binary end to end: solutions get full marks, stubs get 0,
//!   `--list`, the known-wrong fixtures get their expected verdicts through `--submission`,
//!   and hostile submissions (`submissions/`) get the right verdict in bounded time with no
//!   process, `/dev/shm` or System V segment left behind.
//! - `accuracy/` (the `accuracy` binary): grades every known-good and known-wrong variant N
//!   times through the real grader and prints the false-fail and false-pass rates per check.
//!
//! This library is what both need: the variants of each assignment found on disk
//! ([`variants`]) and a fixture turned into a student's submission ([`submission`]).
//!
//! Every grader these tests start builds into `target/grader-tests` (not the workspace's
//! `target/`, whose lock `cargo test` may hold) and has a deadline.

pub mod submission;
pub mod variants;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}
