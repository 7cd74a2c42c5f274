//! Every error type of the harness, in one place.
//!
//! These are failures of the *harness* (a manifest that does not parse, a runner binary that
//! cannot be started), never of the student's code: what the student's code did is a
//! [`Verdict`](crate::verdict::Verdict).

use std::path::PathBuf;

use thiserror::Error;

/// `course.toml` could not be read, parsed or validated.
#[derive(Debug, Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("could not read the manifest {path}")]
    Read {
        /// Where it was looked for.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML does not match the schema. The message names the bad key and its line.
    #[error("the manifest does not match its schema")]
    Parse(#[source] Box<toml::de::Error>),
    /// The manifest is written for another version of the schema.
    #[error("the manifest has format = {found}, this harness reads format = {supported}")]
    Format {
        /// The `format` the file declares.
        found: u32,
        /// The one this harness understands.
        supported: u32,
    },
    /// The manifest parsed but says something impossible.
    #[error("in the manifest, {place}: {problem}")]
    Invalid {
        /// Which assignment or check (`a00-process`, `a00-process / ran-concurrently`).
        place: String,
        /// What is wrong.
        problem: ManifestProblem,
    },
}

/// What is wrong in a manifest that parsed.
#[derive(Debug, Error)]
pub enum ManifestProblem {
    /// Two assignments, or two checks of one assignment, share an id.
    #[error("the id {0:?} is used twice")]
    DuplicateId(String),
    /// Two assignments share an `order`.
    #[error("the order {0} is used twice")]
    DuplicateOrder(u32),
    /// An id is not lowercase kebab-case (assignments: `aNN-name`).
    #[error("the id {id:?} must look like {pattern}")]
    BadId {
        /// The offending id.
        id: String,
        /// What it should look like.
        pattern: &'static str,
    },
    /// A number is out of its range.
    #[error("`{key}` = {value} is out of range: {expected}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// Its value, printed.
        value: String,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// A check gives a parameter its kind does not take, or lacks one it needs.
    #[error("a `{kind}` check {problem} `{key}`")]
    KindParameter {
        /// The check's kind.
        kind: &'static str,
        /// The parameter.
        key: &'static str,
        /// "does not take" or "needs".
        problem: &'static str,
    },
    /// An assignment has no visible check: students would have nothing to run.
    #[error("there is no visible check")]
    NoVisibleCheck,
    /// A handout's manifest (`handout = true`) lists a hidden check: hidden checks are
    /// withheld from students.
    #[error("the hidden check {0:?} is listed in a handout's manifest")]
    HiddenInHandout(String),
    /// The harness has no implementation for a check the manifest lists, or the reverse.
    #[error("{0}")]
    Registry(String),
    /// A check's `inputs` table does not decode into its assignment's input type.
    #[error("its `inputs` are invalid: {0}")]
    Inputs(String),
}

/// A runner could not be run at all. The student's code is not to blame.
#[derive(Debug, Error)]
pub enum RunError {
    /// The runner binary does not exist (not built yet?).
    #[error("the runner binary {path} does not exist: build it first")]
    MissingRunner {
        /// The path that was tried.
        path: PathBuf,
    },
    /// The result pipe, or another OS resource, could not be set up.
    #[error("could not {operation} for the runner")]
    Setup {
        /// What was being done.
        operation: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `spawn` failed.
    #[error("could not start the runner {path}")]
    Spawn {
        /// The runner binary.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for the runner failed (should not happen: it is our own child).
    #[error("could not wait for the runner (pid {pid})")]
    Wait {
        /// The runner's pid.
        pid: u32,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A result frame could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Nothing was written on the result channel.
    #[error("no report was written on the result channel")]
    Missing,
    /// The bytes do not start with the frame's magic number.
    #[error("the result channel does not start with the report's magic bytes")]
    BadMagic,
    /// The frame ends before its announced length.
    #[error("the report is cut short: {got} of {announced} bytes")]
    Truncated {
        /// Bytes announced by the length prefix.
        announced: usize,
        /// Bytes received.
        got: usize,
    },
    /// The announced length is above [`MAX_FRAME_BYTES`](crate::protocol::MAX_FRAME_BYTES).
    #[error("the report announces {announced} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Bytes announced.
        announced: usize,
        /// The limit.
        limit: usize,
    },
    /// More bytes follow the one frame a runner may write.
    #[error("{extra} unexpected bytes follow the report")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The frame's JSON does not decode as the expected report type.
    #[error("the report does not decode: {0}")]
    Json(String),
    /// The report was written by another version of the protocol.
    #[error("the report speaks protocol {found}, the harness speaks {expected}")]
    Protocol {
        /// The report's version.
        found: u32,
        /// Ours.
        expected: u32,
    },
}

/// `COURSE_SEED` is set but is not a number.
#[derive(Debug, Error)]
#[error("COURSE_SEED={value:?} is not a number (write it in decimal, or in hex with 0x)")]
pub struct SeedError {
    /// The variable's value.
    pub value: String,
}
