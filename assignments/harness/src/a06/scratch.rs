//! The directory a corpus is generated in: created under the check's scratch directory (or
//! the system's temporary directory), removed with everything in it when dropped.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes the corpora one process creates.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A generated corpus's directory; dropping it removes the directory tree.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
    locked: Vec<PathBuf>,
}

impl ScratchDir {
    /// Creates a new, empty directory `a06-<label>-<pid>-<n>` in `parent`, or in the system's
    /// temporary directory when `parent` is `None`.
    pub fn create(parent: Option<&Path>, label: &str) -> io::Result<ScratchDir> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!("a06-{label}-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    return Ok(ScratchDir {
                        path,
                        locked: Vec::new(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes every permission away from `path` (`chmod 000`), to be given back before the
    /// directory is removed. Root still reads such a file: what it means for a search depends
    /// on who runs it.
    pub fn lock(&mut self, path: &Path) -> io::Result<()> {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000))?;
        self.locked.push(path.to_owned());
        Ok(())
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Errors are ignored: a leftover directory in the scratch area is not worth failing a
        // check that already has its verdict.
        for path in self.locked.iter().rev() {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_tree_is_removed() {
        let mut dir = ScratchDir::create(None, "scratch-test").expect("created");
        let path = dir.path().to_owned();
        let inner = path.join("inner");
        std::fs::create_dir(&inner).expect("mkdir");
        std::fs::write(inner.join("file"), b"x").expect("write");
        dir.lock(&inner).expect("chmod");
        drop(dir);
        assert!(!path.exists());
    }
}
