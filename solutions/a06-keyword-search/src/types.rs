//! The types of the assignment's API, as the stub gives them.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use multiprocessing as mp;
use serde::{Deserialize, Serialize};

/// How many leading bytes of a file decide whether it is binary: a NUL byte among them makes
/// it binary (grep's rule of thumb).
pub const BINARY_PROBE_BYTES: usize = 8192;

/// Files at least this large are memory-mapped rather than read into a buffer.
pub const MMAP_THRESHOLD: u64 = 1 << 20;

/// Why an entry of the tree was not searched, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Skip {
    /// A NUL byte among its first [`BINARY_PROBE_BYTES`] bytes.
    Binary,
    /// A symbolic link: never followed, whatever it points to.
    Symlink,
}

/// What searching one file found: the result of one pool task, sent back to the main
/// process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileOutcome {
    /// A text file, searched: the numbers of the lines holding the keyword (from 1,
    /// ascending, each once); empty when none does.
    Searched {
        /// The matching lines.
        lines: Vec<u64>,
    },
    /// A binary file, not searched.
    Binary,
    /// The file could not be opened or read: the OS error, in words.
    Unreadable {
        /// What went wrong.
        error: String,
    },
}

/// What walking the tree found, before any file is searched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// The regular files to search, in the order they were found.
    pub files: Vec<PathBuf>,
    /// Entries not to search (symbolic links).
    pub skipped: BTreeMap<PathBuf, Skip>,
    /// Entries that cannot be searched: directories that cannot be listed, FIFOs, sockets,
    /// devices; with the reason in words.
    pub errors: BTreeMap<PathBuf, String>,
}

/// The answer: which files hold the keyword on which lines, and what was not searched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResults {
    /// Every file holding the keyword, with its matching lines (from 1, ascending, each
    /// once). Paths as found by walking from the root (`root.join(...)`).
    pub matches: BTreeMap<PathBuf, Vec<u64>>,
    /// How many files were searched (text files, with or without a match).
    pub files_searched: usize,
    /// Entries skipped on purpose: symbolic links and binary files.
    pub skipped: BTreeMap<PathBuf, Skip>,
    /// Entries that could not be searched, with the reason in words.
    pub errors: BTreeMap<PathBuf, String>,
}

impl SearchResults {
    /// Results that start with what the scan found: its skipped entries and its errors.
    pub fn from_scan(scan: &Scan) -> SearchResults {
        SearchResults {
            skipped: scan.skipped.clone(),
            errors: scan.errors.clone(),
            ..SearchResults::default()
        }
    }

    /// Adds what searching the file at `path` found.
    pub fn record(&mut self, path: PathBuf, outcome: FileOutcome) {
        match outcome {
            FileOutcome::Searched { lines } => {
                self.files_searched += 1;
                if !lines.is_empty() {
                    self.matches.insert(path, lines);
                }
            }
            FileOutcome::Binary => {
                self.skipped.insert(path, Skip::Binary);
            }
            FileOutcome::Unreadable { error } => {
                self.errors.insert(path, error);
            }
        }
    }
}

/// The argument of one pool task: a file to search and the keyword. The path travels as its
/// raw bytes, so a file name that is not UTF-8 works too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTask {
    path: Vec<u8>,
    /// The keyword.
    pub keyword: Vec<u8>,
}

impl FileTask {
    /// The task of searching `path` for `keyword`.
    pub fn new(path: &Path, keyword: &[u8]) -> FileTask {
        FileTask {
            path: path.as_os_str().as_bytes().to_vec(),
            keyword: keyword.to_vec(),
        }
    }

    /// The file to search.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(OsStr::from_bytes(&self.path))
    }
}

/// Why a whole search failed. A file or directory that cannot be read is not such a failure:
/// it is an entry of [`SearchResults::errors`].
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The keyword is empty: it would match every line.
    #[error("the keyword is empty: it would match every line")]
    EmptyKeyword,
    /// The keyword holds a `\n`: a match never spans two lines.
    #[error("the keyword holds a newline, and a match never spans two lines")]
    KeywordHasNewline,
    /// The root is missing, is not a directory, or cannot be listed.
    #[error("cannot search {}: not a directory that can be listed", path.display())]
    Root {
        /// The root given.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The pool failed (it could not start, or a task could not be submitted).
    #[error("the pool of worker processes failed")]
    Pool(#[from] mp::PoolError),
}
