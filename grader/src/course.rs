//! The course the grader belongs to: its repository and its manifest.

use std::path::{Path, PathBuf};

use course_harness::manifest::{self, Manifest};

use crate::errors::GraderError;

/// The course repository this grader was built from (the workspace root).
pub fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// The manifest, compiled into the harness this grader links.
pub fn manifest() -> Result<&'static Manifest, GraderError> {
    manifest::embedded().map_err(GraderError::Manifest)
}
