//! What a grading run will do: which implementation, which assignments and checks, with
//! which seed and how many checks side by side. Decided from the command line and the
//! manifest before anything is built.

use std::path::PathBuf;

use course_harness::manifest::{Assignment, Check, Manifest};
use course_harness::seed::Seed;

use crate::cli::Cli;
use crate::errors::GraderError;

/// Whose code is graded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The course repository's own `assignments/` (a student grading their clone).
    Workspace,
    /// The reference solutions in `solutions/`.
    Solutions,
    /// A student's copy of the repository (or of `assignments/`), built in a scratch
    /// workspace.
    Submission(PathBuf),
}

impl Source {
    /// The flags that select this source again, for replay commands (`""`, `--solutions`,
    /// `--submission DIR`).
    pub fn flags(&self) -> String {
        match self {
            Self::Workspace => String::new(),
            Self::Solutions => " --solutions".to_owned(),
            Self::Submission(dir) => format!(" --submission {}", dir.display()),
        }
    }

    /// In words, for reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Workspace => "the repository's assignments/".to_owned(),
            Self::Solutions => "the reference solutions (solutions/)".to_owned(),
            Self::Submission(dir) => format!("the submission {}", dir.display()),
        }
    }

    /// The package implementing `assignment` in this source.
    pub fn package(&self, assignment: &Assignment) -> String {
        match self {
            Self::Workspace | Self::Submission(_) => assignment.package().to_owned(),
            Self::Solutions => assignment.solution_package(),
        }
    }
}

/// One assignment to grade, with the checks selected.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The manifest's entry.
    pub assignment: &'static Assignment,
    /// The checks to run, in manifest order.
    pub checks: Vec<&'static Check>,
}

/// Everything a grading run needs to know before it starts.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Whose code.
    pub source: Source,
    /// The seed of every input.
    pub seed: Seed,
    /// Checks run side by side, at most.
    pub jobs: usize,
    /// The assignments, in course order.
    pub assignments: Vec<Planned>,
}

impl Plan {
    /// The plan for this command line.
    pub fn from_cli(cli: &Cli, manifest: &'static Manifest) -> Result<Plan, GraderError> {
        let source = match (&cli.submission, cli.solutions) {
            (Some(dir), _) => Source::Submission(dir.clone()),
            (None, true) => Source::Solutions,
            (None, false) => Source::Workspace,
        };
        let assignments = select(manifest, cli)?;
        let jobs = cli.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        Ok(Plan {
            source,
            seed: cli.seed.unwrap_or_else(fresh_seed),
            jobs,
            assignments,
        })
    }
}

fn select(manifest: &'static Manifest, cli: &Cli) -> Result<Vec<Planned>, GraderError> {
    let known = || {
        manifest
            .in_order()
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for id in &cli.assignments {
        if manifest.assignment(id).is_none() {
            return Err(GraderError::Usage(format!(
                "the course has no assignment {id:?}; it has: {}",
                known()
            )));
        }
    }
    if !cli.checks.is_empty() && cli.assignments.len() != 1 {
        return Err(GraderError::Usage(
            "--check needs exactly one ASSIGNMENT (e.g. `grader a00-process --check \
             distinct-pids`)"
                .to_owned(),
        ));
    }
    let mut planned = Vec::new();
    for assignment in manifest.in_order() {
        if !cli.all && !cli.assignments.contains(&assignment.id) {
            continue;
        }
        for id in &cli.checks {
            if assignment.check(id).is_none() {
                let ids: Vec<&str> = assignment.checks.iter().map(|c| c.id.as_str()).collect();
                return Err(GraderError::Usage(format!(
                    "{} has no check {id:?}; it has: {}",
                    assignment.id,
                    ids.join(", ")
                )));
            }
        }
        let checks = assignment
            .checks
            .iter()
            .filter(|c| cli.checks.is_empty() || cli.checks.contains(&c.id))
            .collect();
        planned.push(Planned { assignment, checks });
    }
    Ok(planned)
}

/// A seed nobody can predict before the run (time and pid, mixed by the harness's
/// derivation), so hard-coding answers for the default seed does not help.
fn fresh_seed() -> Seed {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    Seed(nanos ^ u64::from(std::process::id()).rotate_left(32)).derive("grader")
}
