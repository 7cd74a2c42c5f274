//! Large files are split into chunks at line boundaries, each searched by its own pool task,
//! so that even one huge file keeps every worker busy.
//!
//! A chunk ends just after a `\n`, so no line (and no match: a keyword holds no `\n`) spans
//! two chunks. Each chunk's task returns its matching lines counted from the chunk's start,
//! and how many lines the chunk holds; the main process turns them into line numbers of the
//! file once every chunk is back.

use std::path::Path;

use memchr::memmem::Finder;
use serde::{Deserialize, Serialize};

use crate::file::{contents, map};
use crate::lines::{is_binary, scan};
use crate::types::{FileOutcome, FileTask};

/// Files at least this large are split.
pub(crate) const SPLIT_THRESHOLD: u64 = 24 << 20;

/// About how large a chunk is.
const CHUNK_BYTES: usize = 8 << 20;

/// How the main process searches one file.
pub(crate) enum Plan {
    /// In one task.
    Whole,
    /// In one task per byte range (each ending after a `\n`, or at the end of the file).
    Chunks(Vec<(u64, u64)>),
    /// Already known without a task: binary, or unreadable.
    Done(FileOutcome),
}

/// Decides how to search `path`, looking at its size and, when large, at its first bytes and
/// at the line ends near each cut.
pub(crate) fn plan(path: &Path) -> Plan {
    let len = match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.len() >= SPLIT_THRESHOLD => metadata.len(),
        _ => return Plan::Whole,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) => {
            return Plan::Done(FileOutcome::Unreadable {
                error: error.to_string(),
            });
        }
    };
    let bytes = match map(&file) {
        Ok(bytes) => bytes,
        Err(error) => {
            return Plan::Done(FileOutcome::Unreadable {
                error: error.to_string(),
            });
        }
    };
    if is_binary(&bytes) {
        return Plan::Done(FileOutcome::Binary);
    }
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let cut = start + CHUNK_BYTES;
        let end = if cut >= bytes.len() {
            bytes.len()
        } else {
            memchr::memchr(b'\n', &bytes[cut..]).map_or(bytes.len(), |at| cut + at + 1)
        };
        ranges.push((start as u64, end as u64));
        start = end;
    }
    debug_assert_eq!(start as u64, len.min(bytes.len() as u64));
    Plan::Chunks(ranges)
}

/// One chunk of a large file to search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChunkTask {
    /// The file and the keyword.
    pub file: FileTask,
    /// Where the chunk starts.
    pub start: u64,
    /// Where it ends (exclusive).
    pub end: u64,
}

/// What one chunk holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ChunkOutcome {
    /// Searched.
    Searched {
        /// 0-based indexes, within the chunk, of the lines holding the keyword.
        lines: Vec<u64>,
        /// How many `\n` the chunk holds.
        newlines: u64,
    },
    /// The file could not be read, or changed since it was planned.
    Unreadable {
        /// What went wrong.
        error: String,
    },
}

/// The pool task for one chunk.
pub(crate) fn search_chunk(task: ChunkTask) -> ChunkOutcome {
    let bytes = match contents(&task.file.path()) {
        Ok(bytes) => bytes,
        Err(error) => {
            return ChunkOutcome::Unreadable {
                error: error.to_string(),
            };
        }
    };
    let Some(chunk) = bytes.get(task.start as usize..task.end as usize) else {
        return ChunkOutcome::Unreadable {
            error: "the file shrank while it was searched".to_owned(),
        };
    };
    let found = scan(chunk, &Finder::new(&task.file.keyword));
    ChunkOutcome::Searched {
        lines: found.lines,
        newlines: found.newlines,
    }
}

/// The file's outcome from its chunks' outcomes, in chunk order.
pub(crate) fn combine(chunks: Vec<ChunkOutcome>) -> FileOutcome {
    let mut lines = Vec::new();
    let mut lines_before: u64 = 0;
    for chunk in chunks {
        match chunk {
            ChunkOutcome::Searched {
                lines: local,
                newlines,
            } => {
                lines.extend(local.into_iter().map(|index| lines_before + index + 1));
                lines_before += newlines;
            }
            ChunkOutcome::Unreadable { error } => return FileOutcome::Unreadable { error },
        }
    }
    FileOutcome::Searched { lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::matching_lines;

    #[test]
    fn chunks_give_the_lines_of_the_whole_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.txt");
        let mut text = Vec::new();
        let mut n = 0u64;
        while text.len() < SPLIT_THRESHOLD as usize + 3 * CHUNK_BYTES / 2 {
            n += 1;
            if n % 9973 == 0 {
                text.extend_from_slice(b"some needle here\r\n");
            } else {
                text.extend_from_slice(b"lorem ipsum dolor sit amet\n");
            }
        }
        text.extend_from_slice(b"last needle");
        std::fs::write(&path, &text).expect("written");
        let Plan::Chunks(ranges) = plan(&path) else {
            panic!("a large file is split");
        };
        assert!(ranges.len() >= 4, "{ranges:?}");
        let outcomes = ranges
            .iter()
            .map(|&(start, end)| {
                search_chunk(ChunkTask {
                    file: FileTask::new(&path, b"needle"),
                    start,
                    end,
                })
            })
            .collect();
        assert_eq!(
            combine(outcomes),
            FileOutcome::Searched {
                lines: matching_lines(&text, b"needle")
            }
        );
    }
}
