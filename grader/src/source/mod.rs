//! Where the code under test comes from, turned into packages to build: the repository's
//! own `assignments/`, the reference `solutions/`, or a submission copied into a scratch
//! workspace ([`submission`]).

mod files;
mod submission;

use std::path::Path;

use crate::build::BuildTarget;
use crate::errors::GraderError;
use crate::plan::{Plan, Source};
use crate::verdict::BuildFailure;

/// One assignment's code, ready to build or refused before building.
#[derive(Debug, Clone)]
pub enum Intake {
    /// Build this.
    Ready {
        /// The package and the workspace it is in.
        target: BuildTarget,
        /// Remarks from taking the files (shown with a compile error).
        notes: Vec<String>,
    },
    /// Nothing to build: scores 0.
    Refused(BuildFailure),
}

/// The intake of every planned assignment, in plan order. `work_root` holds scratch
/// workspaces (one per submission, reused when the same submission is graded again).
pub fn take(plan: &Plan, course_root: &Path, work_root: &Path) -> Result<Vec<Intake>, GraderError> {
    match &plan.source {
        Source::Submission(dir) => submission::take(plan, course_root, dir, work_root),
        Source::Workspace | Source::Solutions => {
            let folder = if plan.source == Source::Solutions {
                "solutions"
            } else {
                "assignments"
            };
            Ok(plan
                .assignments
                .iter()
                .map(|planned| {
                    let id = &planned.assignment.id;
                    let package_dir = course_root.join(folder).join(id);
                    if package_dir.join("Cargo.toml").is_file() {
                        Intake::Ready {
                            target: BuildTarget::new(
                                planned.assignment,
                                plan.source.package(planned.assignment),
                                course_root.join("Cargo.toml"),
                            ),
                            notes: Vec::new(),
                        }
                    } else {
                        Intake::Refused(BuildFailure::Missing {
                            why: format!(
                                "{folder}/{id}/Cargo.toml is not in the course repository"
                            ),
                        })
                    }
                })
                .collect())
        }
    }
}
