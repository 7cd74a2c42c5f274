//! Which code a grading measured: the workspace's commit, the git objects of the graded code
//! at that commit, and whether the graded code has changes git has not recorded.
//!
//! A journal compares the graded code, not the commit: a commit that touches only the README
//! or CI (the lead filling in the tables, a merge of documentation) leaves every grade as it
//! was, and refusing such a journal would throw hours of gradings away for nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// What a grade depends on: the assignments and their harness and fixtures, the reference
/// solutions, the grader, the course's library, the course's numbers, these tests, and the
/// dependencies' versions.
pub const GRADED_CODE: [&str; 8] = [
    "assignments",
    "solutions",
    "grader",
    "common",
    "course.toml",
    "tests",
    "Cargo.toml",
    "Cargo.lock",
];

/// Changed files named in a message, at most.
const CHANGES_SHOWN: usize = 10;

/// The workspace's revision as far as grading is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// `HEAD`.
    pub commit: String,
    /// The graded code has uncommitted changes or untracked files.
    pub dirty: bool,
    /// What `git status` says changed in the graded code (at most [`CHANGES_SHOWN`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// The git object of each path of [`GRADED_CODE`] at `HEAD`.
    pub graded: BTreeMap<String, String>,
}

/// Why a revision is not the code another one graded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The workspace's graded code has changes git has not recorded: no one can tell later
    /// which code these gradings measured.
    DirtyNow {
        /// What `git status` lists.
        changes: Vec<String>,
    },
    /// The recorded gradings were taken with uncommitted changes.
    DirtyThen {
        /// The commit they were on.
        commit: String,
    },
    /// The graded code differs between the commits.
    OtherCode {
        /// The commit recorded.
        then: String,
        /// The workspace's commit.
        now: String,
        /// The paths of [`GRADED_CODE`] that differ.
        paths: Vec<String>,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::DirtyNow { changes } => write!(
                f,
                "the graded code has uncommitted changes ({}); commit them first",
                changes.join(", ")
            ),
            Difference::DirtyThen { commit } => write!(
                f,
                "its gradings were taken on commit {} with uncommitted changes, which no \
                 one can compare with",
                short(commit)
            ),
            Difference::OtherCode { then, now, paths } => write!(
                f,
                "its gradings were taken on commit {}, the workspace is on {} and the graded \
                 code differs in {}",
                short(then),
                short(now),
                paths.join(", ")
            ),
        }
    }
}

impl Revision {
    /// Reads the revision of the workspace at `root`.
    pub fn read(root: &Path) -> Result<Revision> {
        let commit = git(root, &["rev-parse", "HEAD"])?.trim().to_owned();
        let mut ls_tree = vec!["ls-tree", "HEAD", "--"];
        ls_tree.extend(GRADED_CODE);
        let graded = git(root, &ls_tree)?
            .lines()
            .filter_map(|line| {
                // `<mode> <type> <object>\t<path>`
                let (meta, path) = line.split_once('\t')?;
                let object = meta.split_whitespace().nth(2)?;
                Some((path.to_owned(), object.to_owned()))
            })
            .collect();
        let mut status = vec!["status", "--porcelain", "--untracked-files=all", "--"];
        status.extend(GRADED_CODE);
        let changed: Vec<String> = git(root, &status)?
            .lines()
            .map(|line| line.get(3..).unwrap_or(line).to_owned())
            .collect();
        Ok(Revision {
            commit,
            dirty: !changed.is_empty(),
            changes: changed.into_iter().take(CHANGES_SHOWN).collect(),
            graded,
        })
    }

    /// How this revision (the workspace's now) differs from `then` as far as grades go, or
    /// `None` when it grades the same code.
    pub fn differs_from(&self, then: &Revision) -> Option<Difference> {
        if self.dirty {
            return Some(Difference::DirtyNow {
                changes: self.changes.clone(),
            });
        }
        if then.dirty {
            return Some(Difference::DirtyThen {
                commit: then.commit.clone(),
            });
        }
        let paths: Vec<String> = GRADED_CODE
            .iter()
            .filter(|path| self.graded.get(**path) != then.graded.get(**path))
            .map(|path| (*path).to_owned())
            .collect();
        if paths.is_empty() {
            None
        } else {
            Some(Difference::OtherCode {
                then: then.commit.clone(),
                now: self.commit.clone(),
                paths,
            })
        }
    }

    /// `commit abcdef123456`, with `(uncommitted changes)` when dirty.
    pub fn describe(&self) -> String {
        let dirty = if self.dirty {
            " with uncommitted changes in the graded code"
        } else {
            ""
        };
        format!("commit {}{dirty}", short(&self.commit))
    }
}

/// The first 12 hex digits of a commit.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Runs `git args` in `root`; its standard output.
fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "git {} in {}: {}",
            args.join(" "),
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).context("git's output is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A git repository with some of the graded code committed.
    fn repository() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let run = |args: &[&str]| {
            let status = Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .status()
                .expect("git runs");
            assert!(status.success(), "git {args:?}");
        };
        run(&["init", "-q"]);
        std::fs::create_dir_all(dir.path().join("grader")).expect("mkdir");
        std::fs::write(dir.path().join("grader/main.rs"), "fn main() {}\n").expect("write");
        std::fs::write(dir.path().join("course.toml"), "x = 1\n").expect("write");
        std::fs::write(dir.path().join("README.md"), "# readme\n").expect("write");
        run(&["add", "-A"]);
        run(&["commit", "-q", "-m", "one"]);
        dir
    }

    fn commit_all(dir: &Path, message: &str) {
        for args in [vec!["add", "-A"], vec!["commit", "-q", "-m", message]] {
            let status = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(&args)
                .status()
                .expect("git runs");
            assert!(status.success(), "git {args:?}");
        }
    }

    #[test]
    fn a_clean_checkout_reads_its_commit_and_graded_objects() {
        let dir = repository();
        let revision = Revision::read(dir.path()).expect("a revision");
        assert_eq!(revision.commit.len(), 40, "{revision:?}");
        assert!(!revision.dirty, "{revision:?}");
        assert_eq!(
            revision.graded.keys().collect::<Vec<_>>(),
            ["course.toml", "grader"],
            "only the graded paths that exist"
        );
        assert_eq!(revision.differs_from(&revision), None);
    }

    #[test]
    fn a_change_to_the_graded_code_makes_it_dirty_and_a_readme_change_does_not() {
        let dir = repository();
        std::fs::write(dir.path().join("README.md"), "# other\n").expect("write");
        assert!(!Revision::read(dir.path()).expect("a revision").dirty);
        std::fs::write(dir.path().join("grader/new.rs"), "\n").expect("write");
        let revision = Revision::read(dir.path()).expect("a revision");
        assert!(revision.dirty, "an untracked file counts");
        assert_eq!(revision.changes, ["grader/new.rs"]);
        assert!(matches!(
            revision.differs_from(&revision),
            Some(Difference::DirtyNow { .. })
        ));
    }

    #[test]
    fn a_commit_that_leaves_the_graded_code_alone_grades_the_same_code() {
        let dir = repository();
        let then = Revision::read(dir.path()).expect("a revision");
        std::fs::write(dir.path().join("README.md"), "# tables\n").expect("write");
        commit_all(dir.path(), "readme");
        let now = Revision::read(dir.path()).expect("a revision");
        assert_ne!(now.commit, then.commit);
        assert_eq!(now.differs_from(&then), None);
        std::fs::write(dir.path().join("course.toml"), "x = 2\n").expect("write");
        commit_all(dir.path(), "course");
        let later = Revision::read(dir.path()).expect("a revision");
        assert_eq!(
            later.differs_from(&then),
            Some(Difference::OtherCode {
                then: then.commit.clone(),
                now: later.commit.clone(),
                paths: vec!["course.toml".to_owned()],
            })
        );
    }
}
