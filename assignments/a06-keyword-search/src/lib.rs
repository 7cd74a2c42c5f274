//! # a06-keyword-search: search a directory tree for a keyword with a pool of processes
//!
//! Read `README.md` first: it explains the task, the rules (what a line is, what is binary,
//! what happens to links, FIFOs and unreadable files), and what the tests check.
//! Then replace every `todo!()` below; each `// TODO:` marks a place where you act.
//! Run the tests with `cargo test -p a06-keyword-search`, and the program with
//! `cargo run --release -p a06-keyword-search --bin a06-keyword-search -- KEYWORD DIR`.
//!
//! The types are written for you: keep them as they are (the tests read them).

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

// ------------------------------------------------------------------------------------------
// Your part. Suggested order: validate_keyword, is_binary, matching_lines, search_file, scan,
// search_sequential (`sequential-search` then passes, and the other correctness checks get as
// far as their search_parallel half), then search_parallel.
// ------------------------------------------------------------------------------------------

/// Refuses what cannot be searched for: an empty keyword ([`SearchError::EmptyKeyword`]) or
/// one holding a `\n` ([`SearchError::KeywordHasNewline`]).
pub fn validate_keyword(keyword: &[u8]) -> Result<(), SearchError> {
    // TODO: an empty keyword would match every line; a line never holds a b'\n'.
    todo!(
        "validate_keyword: refuse an empty keyword and one holding b'\\n' ({} bytes given)",
        keyword.len()
    )
}

/// True when `head`, a file's first bytes, makes the file binary: a NUL byte (0) among its
/// first [`BINARY_PROBE_BYTES`] bytes. Invalid UTF-8 does not make a file binary.
pub fn is_binary(head: &[u8]) -> bool {
    // TODO: look at no more than the first BINARY_PROBE_BYTES bytes.
    todo!(
        "is_binary: is there a NUL byte among the first {BINARY_PROBE_BYTES} of these {} bytes?",
        head.len()
    )
}

/// The numbers (from 1, ascending, each once) of the lines of `text` that hold `keyword`
/// (not empty, no `\n`).
///
/// A line ends at `\n`; a `\r` before it belongs to the line; the last line needs no `\n`.
/// The keyword is matched as bytes, case-sensitive, anywhere in a line.
pub fn matching_lines(text: &[u8], keyword: &[u8]) -> Vec<u64> {
    // TODO: find each match with memchr::memmem::Finder::new(keyword) (find_iter, or find
    //       from a position); its line number is 1 + the count of b'\n' before it
    //       (memchr::memchr_iter(b'\n', ..).count(): count only from the previous match on,
    //       not from the start each time). Report a line once however many matches it holds:
    //       after a match, go on searching from the end of its line (memchr::memchr(b'\n', ..)).
    todo!(
        "matching_lines: find the lines of {} bytes of text holding a {}-byte keyword",
        text.len(),
        keyword.len()
    )
}

/// Searches the file at `path` for `keyword` (already validated). This is the work of one
/// pool task: it runs in a worker process.
pub fn search_file(path: &Path, keyword: &[u8]) -> FileOutcome {
    // TODO: open the file; an error is FileOutcome::Unreadable { error: e.to_string() }.
    // TODO: get its bytes: memory-map it when its length is at least MMAP_THRESHOLD
    //       (`unsafe { memmap2::Mmap::map(&file) }`, with a `// SAFETY:` comment saying what
    //       happens if another process truncates the file meanwhile), else std::fs::read.
    // TODO: binary (is_binary on the first bytes)? FileOutcome::Binary.
    //       Otherwise FileOutcome::Searched { lines: matching_lines(..) }.
    todo!(
        "search_file: read (or map) {}, skip it if binary, else find its matching lines for a \
         {}-byte keyword",
        path.display(),
        keyword.len()
    )
}

/// The pool task: searches one file. A plain function (it captures nothing), so the pool can
/// run it in a worker process; its argument and result travel between processes.
pub fn search_task(task: FileTask) -> FileOutcome {
    search_file(&task.path(), &task.keyword)
}

/// Walks the tree at `root` and sorts its entries: regular files to search, symbolic links to
/// skip, and what cannot be searched.
///
/// `root` must be a directory that can be listed, or this fails with [`SearchError::Root`].
pub fn scan(root: &Path) -> Result<Scan, SearchError> {
    // TODO: list `root` with std::fs::read_dir (an error here is SearchError::Root).
    // TODO: for every entry, look at `entry.file_type()` (it does NOT follow symlinks):
    //       - a symlink: scan.skipped, Skip::Symlink (never follow it: loops!);
    //       - a directory: walk it too (one that cannot be listed is an error entry);
    //       - a regular file: scan.files;
    //       - anything else (a FIFO, a socket, a device): an error entry. Never open it:
    //         opening a FIFO waits forever for a writer.
    todo!(
        "scan: walk {} with read_dir and each entry's file_type(), without following links",
        root.display()
    )
}

/// Searches every file under `root` for `keyword`, one after another, in this process.
pub fn search_sequential(root: &Path, keyword: &[u8]) -> Result<SearchResults, SearchError> {
    // TODO: validate the keyword, scan the tree, start from SearchResults::from_scan, and
    //       record search_file's outcome for every file.
    todo!(
        "search_sequential: validate the keyword, scan {}, search_file every file, record \
         each outcome ({} keyword bytes)",
        root.display(),
        keyword.len()
    )
}

/// Searches every file under `root` for `keyword` with an `mp::Pool` of `workers` processes,
/// and aggregates the outcomes in this process.
pub fn search_parallel(
    root: &Path,
    keyword: &[u8],
    workers: usize,
) -> Result<SearchResults, SearchError> {
    // TODO: validate the keyword and scan the tree here, in the main process.
    // TODO: start a pool of exactly `workers` processes (mp::Pool::new(workers)).
    // TODO: submit one search_task per file, ALL of them before waiting for any result.
    // TODO: aggregate every outcome in this process, synchronised: e.g. inside
    //       `pool.scope(|s| ...)`, `s.apply_async_callbacks(search_task, FileTask::new(..),
    //       on_outcome, on_error)` where on_outcome records into a Mutex<SearchResults> you
    //       own here. (A worker cannot write into your map: it is another process.)
    // TODO: close() and join() the pool; return the results.
    todo!(
        "search_parallel: scan {}, then search every file in a pool of {workers} processes \
         and record each outcome in this process ({} keyword bytes)",
        root.display(),
        keyword.len()
    )
}
