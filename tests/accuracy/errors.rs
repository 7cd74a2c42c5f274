//! Why a journal cannot be used.

use std::path::PathBuf;

use crate::revision::Difference;

/// A journal that could not be read, written, or trusted.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Opening, reading, locking or writing it failed.
    #[error("journal {path}: {what}")]
    Io {
        /// The journal.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Another `accuracy` holds it: two runs would grade the same gradings, and load the
    /// machine each other measures on.
    #[error("journal {path}: another accuracy run is writing it")]
    Locked {
        /// The journal.
        path: PathBuf,
    },
    /// A line is not a journal line.
    #[error("journal {path}, line {line}: {reason}")]
    Malformed {
        /// The journal.
        path: PathBuf,
        /// Its number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Written by another version of this command.
    #[error("journal {path}: format version {found}, this accuracy reads version {expected}")]
    Version {
        /// The journal.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The one this command writes.
        expected: u32,
    },
    /// Its gradings were taken under the other hog condition.
    #[error(
        "journal {path} holds gradings {then}, this run is {now}: keep one journal per \
         condition"
    )]
    OtherCondition {
        /// The journal.
        path: PathBuf,
        /// `with a CPU hog` or `without a CPU hog`.
        then: &'static str,
        /// See `then`.
        now: &'static str,
    },
    /// Its gradings measured other code than the workspace's.
    #[error(
        "journal {path} cannot be resumed: {difference}; mixing its gradings with new ones \
         would measure two codes at once (start another journal, or pass \
         --allow-other-revision to mix them anyway)"
    )]
    OtherRevision {
        /// The journal.
        path: PathBuf,
        /// How the code differs.
        difference: Difference,
    },
}
