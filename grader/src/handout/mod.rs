//! `grader handout --out DIR`: the students' starter repository.
//!
//! This workspace as a student gets it ([`select`] says what is left out and why): without
//! the reference solutions, the known-wrong fixtures (near-solutions), the course's own
//! tests (which hold a correct submission) and work in progress; with `course.toml` less
//! its hidden checks and `Cargo.toml` less the packages left out ([`manifests`]); with the
//! student README in place of the course's (`README.student.md` beside this file, and a
//! table of the assignments generated from the manifest). Then cargo resolves the handout's
//! workspace once, which trims `Cargo.lock` to its packages (so `--locked` builds work).
//!
//! What stays of the hidden checks is their code in the harness (the visible tests link
//! the same harness): the kinds of input a hidden check uses can be read there, its inputs
//! and points cannot.

mod manifests;
mod select;
mod write;

pub use write::write;
