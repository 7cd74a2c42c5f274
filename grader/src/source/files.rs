//! Small file operations for scratch workspaces: write only what changed (so cargo's
//! fingerprints, which look at modification times, see unchanged files as unchanged), and
//! remove what is no longer wanted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::errors::GraderError;

/// Files wanted in a directory: path relative to it, and content.
pub type FileSet = BTreeMap<PathBuf, Vec<u8>>;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> GraderError {
    let path = path.to_owned();
    move |source| GraderError::Io {
        action,
        path,
        source,
    }
}

/// Makes `dir` hold exactly `files`: writes those that differ, deletes every other file.
pub fn sync_dir(dir: &Path, files: &FileSet) -> Result<(), GraderError> {
    std::fs::create_dir_all(dir).map_err(io("create the directory", dir))?;
    for (relative, content) in files {
        let path = dir.join(relative);
        if std::fs::read(&path).is_ok_and(|old| old == *content) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("create the directory", parent))?;
        }
        std::fs::write(&path, content).map_err(io("write", &path))?;
    }
    remove_unwanted(dir, Path::new(""), files)
}

fn remove_unwanted(root: &Path, relative: &Path, files: &FileSet) -> Result<(), GraderError> {
    let dir = root.join(relative);
    let entries = std::fs::read_dir(&dir).map_err(io("list", &dir))?;
    for entry in entries {
        let entry = entry.map_err(io("list", &dir))?;
        let path = relative.join(entry.file_name());
        let kind = entry.file_type().map_err(io("inspect", &entry.path()))?;
        if kind.is_dir() {
            remove_unwanted(root, &path, files)?;
            if !files.keys().any(|f| f.starts_with(&path)) {
                std::fs::remove_dir_all(root.join(&path))
                    .map_err(io("remove", &root.join(&path)))?;
            }
        } else if !files.contains_key(&path) {
            std::fs::remove_file(root.join(&path)).map_err(io("remove", &root.join(&path)))?;
        }
    }
    Ok(())
}

/// Every regular file under `dir` (recursively, not following symlinks), relative to `dir`,
/// except those under a directory named in `skip_dirs`.
pub fn regular_files(dir: &Path, skip_dirs: &[&str]) -> Result<Vec<PathBuf>, GraderError> {
    let mut found = Vec::new();
    collect(dir, Path::new(""), skip_dirs, &mut found)?;
    found.sort();
    Ok(found)
}

fn collect(
    root: &Path,
    relative: &Path,
    skip_dirs: &[&str],
    found: &mut Vec<PathBuf>,
) -> Result<(), GraderError> {
    let dir = root.join(relative);
    for entry in std::fs::read_dir(&dir).map_err(io("list", &dir))? {
        let entry = entry.map_err(io("list", &dir))?;
        let path = relative.join(entry.file_name());
        let kind = entry.file_type().map_err(io("inspect", &entry.path()))?;
        if kind.is_dir() {
            if !skip_dirs.iter().any(|s| entry.file_name() == *s) {
                collect(root, &path, skip_dirs, found)?;
            }
        } else if kind.is_file() {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_writes_changes_only_and_removes_the_rest() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut files = FileSet::new();
        files.insert("a/keep.rs".into(), b"one".to_vec());
        files.insert("b.rs".into(), b"two".to_vec());
        sync_dir(dir.path(), &files).expect("syncs");
        let kept = dir.path().join("a/keep.rs");
        let before = std::fs::metadata(&kept)
            .and_then(|m| m.modified())
            .expect("mtime");
        std::fs::write(dir.path().join("stale.rs"), "old").expect("writes");
        std::fs::create_dir_all(dir.path().join("gone/deeper")).expect("mkdir");
        std::thread::sleep(std::time::Duration::from_millis(20));
        files.insert("b.rs".into(), b"changed".to_vec());
        sync_dir(dir.path(), &files).expect("syncs again");
        let after = std::fs::metadata(&kept)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(before, after, "an unchanged file is not rewritten");
        assert_eq!(
            std::fs::read(dir.path().join("b.rs")).expect("reads"),
            b"changed"
        );
        assert!(!dir.path().join("stale.rs").exists());
        assert!(!dir.path().join("gone").exists());
    }
}
