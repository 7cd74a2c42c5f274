//! `course.toml`: every assignment, its checks, points, limits and hints, in one versioned file.
//!
//! The file is embedded in the harness ([`embedded`]), so the visible tests and the grader read
//! the same points and limits wherever they run; [`Manifest::from_path`] reads another copy
//! (a course author trying an edit). See [`schema`] for every key.

mod load;
mod markdown;
pub mod schema;

pub use load::{COURSE_TOML, FORMAT, embedded};
pub use markdown::{grading_table, hints_list};
pub use schema::{Assignment, Check, CheckKind, Lesson, Manifest, Visibility};
