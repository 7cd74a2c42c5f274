//! Which files of the course go into the handout.

use std::path::{Path, PathBuf};

use crate::errors::HandoutError;

/// A part of the course left out of the handout, and why.
#[derive(Debug, Clone, Copy)]
pub struct Withheld {
    /// Its path, relative to the course's root.
    pub path: &'static str,
    /// Why a student must not have it.
    pub why: &'static str,
}

/// What the handout leaves out.
pub const WITHHELD: &[Withheld] = &[
    Withheld {
        path: "solutions",
        why: "the reference solutions",
    },
    Withheld {
        path: "assignments/harness/fixtures",
        why: "known-wrong fixtures: each is a solution with one mistake",
    },
    Withheld {
        path: "assignments/harness/tests",
        why: "the course's tests of its manifest and statements: they read the solutions, \
              the fixtures and the hidden checks",
    },
    Withheld {
        path: "tests",
        why: "the course's tests of the grader: they hold a correct submission",
    },
    Withheld {
        path: ".wip",
        why: "the course's work in progress",
    },
];

/// Files the handout writes itself instead of copying (see `handout::write`).
pub const REWRITTEN: &[&str] = &["Cargo.toml", "Cargo.lock", "course.toml", "README.md"];

/// Names never copied, wherever they are: build output and version control (`.git` is a
/// file in a git worktree).
const SKIPPED: &[&str] = &["target", ".git"];

/// The files to copy.
#[derive(Debug)]
pub struct Selection {
    /// Paths relative to the course's root, sorted.
    pub copied: Vec<PathBuf>,
}

/// Whether `relative` (a path in the course) is left out of the handout.
pub fn is_withheld(relative: &Path) -> bool {
    WITHHELD.iter().any(|w| relative.starts_with(w.path))
}

/// Every regular file of the course at `root` that the handout copies as it is (symlinks
/// are not followed, nor copied).
pub fn files(root: &Path) -> Result<Selection, HandoutError> {
    let mut copied = Vec::new();
    walk(root, Path::new(""), &mut copied)?;
    copied.retain(|p| !REWRITTEN.iter().any(|r| p == Path::new(r)));
    copied.sort();
    Ok(Selection { copied })
}

fn walk(root: &Path, relative: &Path, found: &mut Vec<PathBuf>) -> Result<(), HandoutError> {
    let dir = root.join(relative);
    let failed = |source| HandoutError::Io {
        action: "list",
        path: dir.clone(),
        source,
    };
    for entry in std::fs::read_dir(&dir).map_err(failed)? {
        let entry = entry.map_err(failed)?;
        let path = relative.join(entry.file_name());
        if is_withheld(&path) || SKIPPED.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        let kind = entry.file_type().map_err(failed)?;
        if kind.is_dir() {
            walk(root, &path, found)?;
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
    fn the_solutions_fixtures_and_course_tests_are_withheld_and_the_rest_kept() {
        for withheld in [
            "solutions/a00-process/src/lib.rs",
            "assignments/harness/fixtures/a00-no-join/src/lib.rs",
            "assignments/harness/tests/statements.rs",
            "tests/submissions/a00/correct.rs",
        ] {
            assert!(is_withheld(Path::new(withheld)), "{withheld}");
        }
        for kept in [
            "assignments/a00-process/src/lib.rs",
            "assignments/harness/src/lib.rs",
            "common/src/lib.rs",
            "grader/src/main.rs",
            ".github/workflows/grade.yml",
            "testsuite.md",
        ] {
            assert!(!is_withheld(Path::new(kept)), "{kept}");
        }
    }

    #[test]
    fn build_output_and_git_are_skipped_and_rewritten_files_not_copied() {
        let dir = tempfile::tempdir().expect("a temp dir");
        for file in [
            "Cargo.toml",
            "README.md",
            "common/src/lib.rs",
            "common/target/debug/x",
            ".git/HEAD",
            "grader/.git",
            "solutions/a00-process/src/lib.rs",
            ".github/workflows/grade.yml",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, "x").expect("writes");
        }
        let copied = files(dir.path()).expect("lists").copied;
        assert_eq!(
            copied,
            [
                PathBuf::from(".github/workflows/grade.yml"),
                PathBuf::from("common/src/lib.rs")
            ]
        );
    }
}
