//! Every error of the grader, in one place.
//!
//! These are failures of the grader or of how it was called, never of the code under test:
//! what that code did is a [`CheckVerdict`](crate::verdict::CheckVerdict) or a
//! [`BuildFailure`](crate::verdict::BuildFailure).

use std::path::PathBuf;

use course_harness::ManifestError;
use thiserror::Error;

use crate::exit;

/// Why the grader could not grade.
#[derive(Debug, Error)]
pub enum GraderError {
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// `course.toml` (compiled into the grader) is invalid.
    #[error("the course's manifest is invalid")]
    Manifest(#[source] &'static ManifestError),
    /// The submission directory cannot be read.
    #[error("cannot read the submission {path}")]
    Submission {
        /// The directory given with `--submission`.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file of the grader's own (scratch workspace, runner copy, course file) could not be
    /// read or written.
    #[error("could not {action} {path}")]
    Io {
        /// What was being done ("write", "copy", "create the directory").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The course's own `Cargo.toml` could not be understood.
    #[error("could not read the course's {path}")]
    CourseToml {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The sandbox could not be set up.
    #[error("the sandbox could not be set up")]
    Sandbox(#[from] SandboxError),
    /// The report could not be written.
    #[error("could not write the report")]
    Report(#[from] ReportError),
}

impl GraderError {
    /// The process exit code for this error (see [`crate::exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Manifest(_) | Self::Submission { .. } => exit::USAGE,
            Self::Io { .. } | Self::CourseToml { .. } | Self::Sandbox(_) | Self::Report(_) => {
                exit::INTERNAL
            }
        }
    }
}

/// A failure of the sandbox machinery (not of the code in it).
#[derive(Debug, Error)]
pub enum SandboxError {
    /// A system call the sandbox needs failed.
    #[error("could not {operation}")]
    Os {
        /// What was being done.
        operation: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The PID namespace's init process could not prepare the namespace.
    #[error("the namespace's init process could not {step}")]
    Keeper {
        /// The step that failed.
        step: &'static str,
        /// The OS error it got.
        #[source]
        source: std::io::Error,
    },
    /// `--isolation pid-namespace` was asked for, and this machine does not allow one.
    #[error("a PID namespace was required (--isolation pid-namespace) but is unavailable: {why}")]
    Unavailable {
        /// Why.
        why: String,
    },
    /// Processes of a check survived SIGKILL (stuck in the kernel).
    #[error("{count} processes of a check could not be killed")]
    Unkillable {
        /// How many remained.
        count: usize,
    },
    /// The thread running a check panicked (a bug in the grader).
    #[error("the thread running a check panicked: {0}")]
    Panicked(String),
}

/// A report could not be produced.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Writing to stdout, a file, or the terminal failed.
    #[error("could not write to {target}")]
    Write {
        /// `stdout` or the file.
        target: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The JSON report could not be serialised.
    #[error("could not serialise the JSON report")]
    Json(#[source] serde_json::Error),
    /// The JUnit report could not be serialised.
    #[error("could not serialise the JUnit report")]
    Junit(#[source] quick_junit::SerializeError),
}

/// The chain of an error's messages, joined by ": " (how the grader prints errors).
pub fn chain(error: &dyn std::error::Error) -> String {
    course_harness::runner::error_chain(error)
}
