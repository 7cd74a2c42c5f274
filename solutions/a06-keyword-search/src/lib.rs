//! # a06-keyword-search: the reference solution
//!
//! Searches a directory tree for a keyword with a pool of processes (the homework of lesson
//! 29), and sequentially, with the stub's API:
//!
//! - [`scan`] walks the tree (symbolic links are never followed; FIFOs, sockets and devices
//!   are never opened);
//! - [`search_file`] searches one file: memory-mapped when large, read when small; binary
//!   when a NUL byte is among its first 8 KiB; lines found with `memchr`;
//! - [`search_sequential`] searches the files one after another;
//! - [`search_parallel`] searches them in an `mp::Pool`, large files split into chunks at line
//!   boundaries, and aggregates the outcomes in callbacks that record into one
//!   `Mutex`-guarded aggregate in the main process.
//!
//! ```
//! use a06_keyword_search_solution::{search_parallel, search_sequential};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("notes.txt"), "one\nthe keyword\nthree keyword keyword\n")?;
//! std::fs::write(dir.path().join("other.txt"), "nothing here")?;
//! let found = search_parallel(dir.path(), b"keyword", 2)?;
//! assert_eq!(found.matches[&dir.path().join("notes.txt")], [2, 3]);
//! assert_eq!(found.files_searched, 2);
//! assert_eq!(found, search_sequential(dir.path(), b"keyword")?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod chunks;
mod file;
mod lines;
mod parallel;
mod sequential;
mod types;
mod walk;

pub use file::{search_file, search_task};
pub use lines::{is_binary, matching_lines, validate_keyword};
pub use parallel::search_parallel;
pub use sequential::search_sequential;
pub use types::{
    BINARY_PROBE_BYTES, FileOutcome, FileTask, MMAP_THRESHOLD, Scan, SearchError, SearchResults,
    Skip,
};
pub use walk::scan;
