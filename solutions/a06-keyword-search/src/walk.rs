//! Walking the tree: which files to search, what to skip, what cannot be searched.

use std::path::{Path, PathBuf};

use crate::types::{Scan, SearchError, Skip};

/// Walks the tree at `root`, depth first, without following symbolic links.
///
/// Every entry is looked at by its own type (`DirEntry::file_type`, which does not follow a
/// link): a directory is walked, a regular file is to be searched, a symbolic link is skipped
/// as [`Skip::Symlink`], and anything else (a FIFO, a socket, a device) is an error entry:
/// opening a FIFO would wait forever for a writer. A directory that cannot be listed is an
/// error entry too, except the root: that fails the whole search.
pub fn scan(root: &Path) -> Result<Scan, SearchError> {
    let root_error = |source| SearchError::Root {
        path: root.to_owned(),
        source,
    };
    let entries = std::fs::read_dir(root).map_err(root_error)?;
    let mut scan = Scan::default();
    let mut pending: Vec<(PathBuf, std::fs::ReadDir)> = vec![(root.to_owned(), entries)];
    // An explicit stack instead of recursion: a deep tree cannot overflow the stack.
    while let Some((dir, mut entries)) = pending.pop() {
        let Some(entry) = entries.next() else {
            continue;
        };
        pending.push((dir.clone(), entries));
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                // The listing broke off: report the directory, and stop listing it.
                pending.pop();
                scan.errors.insert(dir, error.to_string());
                continue;
            }
        };
        let path = entry.path();
        match entry.file_type() {
            Err(error) => {
                scan.errors.insert(path, error.to_string());
            }
            Ok(kind) if kind.is_symlink() => {
                scan.skipped.insert(path, Skip::Symlink);
            }
            Ok(kind) if kind.is_dir() => match std::fs::read_dir(&path) {
                Ok(inner) => pending.push((path, inner)),
                Err(error) => {
                    scan.errors.insert(path, error.to_string());
                }
            },
            Ok(kind) if kind.is_file() => scan.files.push(path),
            Ok(kind) => {
                scan.errors.insert(path, not_a_file(kind));
            }
        }
    }
    Ok(scan)
}

fn not_a_file(kind: std::fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "of an unknown type"
    };
    format!("not a regular file: {what}")
}
