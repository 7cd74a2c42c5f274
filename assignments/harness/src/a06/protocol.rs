//! The a06 runner's scenario and report.
//!
//! Paths in a report are relative to the searched root and written with `/`, so the report
//! does not depend on where the corpus was generated.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::checks::speedup::Attainable;

/// What the runner does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Calls one of the student's searches.
    Search {
        /// The directory to search.
        root: PathBuf,
        /// The keyword, as bytes.
        keyword: Vec<u8>,
        /// Which of the student's two searches to call.
        mode: Mode,
    },
    /// What bare processes searching the regular files under `root` show: the speedup
    /// check's measure of the machine ([`BareSearch`](crate::a06::BareSearch),
    /// [`measure_attainable_split`](crate::checks::speedup::measure_attainable_split)). The
    /// student's code is not called.
    Machine {
        /// The directory whose files are searched.
        root: PathBuf,
        /// The keyword, as bytes.
        keyword: Vec<u8>,
        /// How many processes share the files in the parallel half.
        processes: usize,
    },
}

/// Which search the runner calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `search_sequential(root, keyword)`.
    Sequential,
    /// `search_parallel(root, keyword, workers)`.
    Parallel {
        /// Worker processes of the pool.
        workers: usize,
    },
}

/// What the runner sends back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Report {
    /// What the student's search returned: the results, or its error.
    Search(Result<Found, Refused>),
    /// What bare processes showed, or why they could not be measured.
    Machine(Result<Attainable, String>),
}

/// The student's `SearchResults`, with paths made relative to the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// Files that contain the keyword, with the line numbers reported for each.
    pub matches: Vec<(String, Vec<u64>)>,
    /// How many files were searched.
    pub files_searched: u64,
    /// Entries skipped on purpose, and why.
    pub skipped: Vec<(String, SkipFact)>,
    /// Entries that could not be searched, with the error reported.
    pub errors: Vec<(String, String)>,
}

/// Why an entry was skipped (the student's `Skip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipFact {
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// A symbolic link, not followed.
    Symlink,
}

impl SkipFact {
    /// The reason in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Symlink => "symlink",
        }
    }
}

/// The error the student's search returned (the student's `SearchError`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refused {
    /// `SearchError::EmptyKeyword`.
    EmptyKeyword,
    /// `SearchError::KeywordHasNewline`.
    KeywordHasNewline,
    /// Any other error, with its message and causes.
    Other(String),
}

impl Refused {
    /// The error in words.
    pub fn describe(&self) -> String {
        match self {
            Self::EmptyKeyword => "SearchError::EmptyKeyword".to_owned(),
            Self::KeywordHasNewline => "SearchError::KeywordHasNewline".to_owned(),
            Self::Other(message) => format!("an error: {message}"),
        }
    }
}
