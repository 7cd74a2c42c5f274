//! Grading a whole class: `--submissions DIR` (a folder per student) or `--roster FILE`,
//! into `--out-dir DIR`.
//!
//! Each student is graded as `--submission` grades one ([`grade::run`](crate::grade::run)
//! over a scratch workspace of their own, one target directory for all so dependencies
//! build once), `-j N` students side by side, each one check at a time. What keeps the
//! class from disturbing measurements: every check takes the harness's machine lock
//! shared and every build takes it too ([`Builder::build`](crate::build::Builder)), while
//! a speed-measuring check takes it exclusively, so none runs while anything else of the
//! class runs. Builds run one at a time (the target directory's lock).
//!
//! Results ([`run`]): `<student>.json` written atomically as each student finishes, the
//! [`gradebook`] rewritten atomically after each; a student whose report is already there
//! (for the same submission and assignments) is not graded again unless `--regrade`, so a
//! killed run resumes where it stopped. A student whose grading fails gets an `error` row
//! and no report (the next run tries again); the others go on.

mod gradebook;
mod roster;
mod run;

pub use roster::from_args as students;
pub use run::{ClassRun, run};
