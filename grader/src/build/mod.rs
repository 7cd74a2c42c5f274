//! Building one assignment's runner with cargo, on its own: a compile error costs that
//! assignment only.
//!
//! [`Builder::build`] runs `cargo build --release -p <package> --bin <package>-runner
//! --message-format=json` in the package's workspace, with one target directory shared by
//! every build (dependencies build once), reads cargo's JSON messages ([`messages`]), and
//! copies the runner into a private directory of this grading run, so a later build of
//! another submission (same binary name, same target directory) cannot swap it.

mod cargo;
mod messages;

use std::path::PathBuf;

use course_harness::manifest::Assignment;
use course_harness::manifest::schema::runner_bin_name;

pub use cargo::Builder;

/// One package to build.
#[derive(Debug, Clone)]
pub struct BuildTarget {
    /// The package (`a00-process`, `a00-process-solution`).
    pub package: String,
    /// Its runner binary's name (`<package>-runner`).
    pub runner_bin: String,
    /// The workspace manifest to build in.
    pub workspace: PathBuf,
    /// The package's folder (a compiler error under it is the code's fault, anywhere else
    /// the course's).
    pub package_dir: PathBuf,
}

impl BuildTarget {
    /// The target for `package` of `assignment` in the workspace of `workspace` (its
    /// `Cargo.toml`); the package lives in `assignments/<id>` or `solutions/<id>` there.
    pub fn new(assignment: &Assignment, package: String, workspace: PathBuf) -> Self {
        let root = workspace.parent().map(PathBuf::from).unwrap_or_default();
        let folder = if package == assignment.package() {
            "assignments"
        } else {
            "solutions"
        };
        Self {
            runner_bin: runner_bin_name(&package),
            package_dir: root.join(folder).join(&assignment.id),
            package,
            workspace,
        }
    }
}
