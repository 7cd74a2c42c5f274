//! Searching one file: the work of one pool task.

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use memchr::memmem::Finder;
use memmap2::Mmap;

use crate::lines::{is_binary, scan};
use crate::types::{FileOutcome, FileTask, MMAP_THRESHOLD};

/// A file's bytes: mapped when large, read into memory when small.
pub(crate) enum Contents {
    /// A small file, read.
    Read(Vec<u8>),
    /// A large file, mapped.
    Mapped(Mmap),
}

impl Deref for Contents {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Contents::Read(bytes) => bytes,
            Contents::Mapped(map) => map,
        }
    }
}

/// Opens `path` for reading if it is a regular file, and gets its bytes.
///
/// The file is opened without blocking and its type checked on the open file, not on the
/// path: an entry that became a FIFO since the tree was walked is refused instead of waiting
/// forever for a writer.
pub(crate) fn contents(path: &Path) -> std::io::Result<Contents> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if metadata.len() >= MMAP_THRESHOLD {
        return map(&file).map(Contents::Mapped);
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.read_to_end(&mut bytes)?;
    Ok(Contents::Read(bytes))
}

/// Maps `file` read-only.
pub(crate) fn map(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: the map is only read, in this process, while `file` is unchanged by us. Another
    // process could truncate the file while it is mapped; touching a page past the new end
    // then raises SIGBUS and ends the worker. The pool reports that task as failed
    // (`PoolError::WorkerDied`, an error entry for the file) and replaces the worker, so a
    // file changing under the search costs that file, never the search or its memory safety
    // in the main process. ripgrep and grep take the same risk for the same speed.
    let map = unsafe { Mmap::map(file) }?;
    // Advice only: the kernel reads ahead harder; failure changes nothing.
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// Searches the file at `path` for `keyword` (already validated: not empty, no `\n`).
pub fn search_file(path: &Path, keyword: &[u8]) -> FileOutcome {
    let bytes = match contents(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            return FileOutcome::Unreadable {
                error: error.to_string(),
            };
        }
    };
    if is_binary(&bytes) {
        return FileOutcome::Binary;
    }
    let found = scan(&bytes, &Finder::new(keyword));
    FileOutcome::Searched {
        lines: found.lines.into_iter().map(|index| index + 1).collect(),
    }
}

/// The pool task: searches one file. A plain function, so the pool can run it in a worker.
pub fn search_task(task: FileTask) -> FileOutcome {
    search_file(&task.path(), &task.keyword)
}
