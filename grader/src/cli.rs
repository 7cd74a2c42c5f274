//! The command line (clap derive; the doc comments are the help text).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use course_harness::seed::Seed;

use crate::report::Target;

/// Grades the course's assignments.
///
/// Builds each assignment on its own, runs every check of `course.toml` against it in a
/// sandboxed child process (its own process group and PID namespace, resource limits, a
/// deadline, a private scratch directory), and reports the points, the verdicts and the
/// figures behind them. A failed check prints what was expected, what came back, and the
/// command that replays it.
///
/// Examples:
///   grader --all                               grade the assignments in this repository
///   grader --all --solutions                   the reference solutions: full marks expected
///   grader --all --submission ~/alice/course   a student's copy of the repository
///   grader a00-process --check many-workers --seed 0x2a   replay one check
///   grader --all --format json --out grades.json
///   grader --all --format json --out grades.json --format markdown --out summary.md
///   grader --list                              what is graded, for how many points
#[derive(Debug, Parser)]
#[command(name = "grader", version, verbatim_doc_comment, after_long_help = AFTER_HELP)]
pub struct Cli {
    /// Assignments to grade, by id (e.g. `a00-process`); see `--list`.
    #[arg(value_name = "ASSIGNMENT", required_unless_present_any = ["all", "list"])]
    pub assignments: Vec<String>,

    /// Grade every assignment of the course.
    #[arg(long, conflicts_with = "assignments")]
    pub all: bool,

    /// List every assignment and check (points, kind, visibility) and exit.
    #[arg(long)]
    pub list: bool,

    /// Grade the reference solutions (`solutions/`) instead of `assignments/`.
    #[arg(long, conflicts_with = "submission")]
    pub solutions: bool,

    /// Grade a student's submission: a copy of the course repository, or of its
    /// `assignments/` folder. Only the student's own files are taken (see below).
    #[arg(long, value_name = "DIR")]
    pub submission: Option<PathBuf>,

    /// Run only this check (repeatable); needs exactly one ASSIGNMENT.
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,

    /// The seed every input is drawn from (decimal, or hex with 0x). Default: a fresh random
    /// seed, printed with the report.
    #[arg(long, env = "COURSE_SEED", value_parser = parse_seed)]
    pub seed: Option<Seed>,

    /// The report's format [default: table]. Repeat `--format F --out FILE` to write several
    /// reports of one grading: each --out belongs to the --format before it, and one format
    /// at most goes to stdout.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Vec<Format>,

    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Vec<PathBuf>,

    /// Every report with its destination, from --format and --out (filled by [`parse`]).
    #[arg(skip)]
    pub reports: Vec<Target>,

    /// Checks run side by side [default: the number of CPUs]. Checks that measure speed
    /// always run alone.
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// No progress output on stderr.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Show every check's figures and explanation, passes included, and the build commands.
    #[arg(short, long)]
    pub verbose: bool,

    /// Where assignments are built (one directory for all, so dependencies build once)
    /// [default: <course>/target/grader].
    #[arg(long, env = "GRADER_TARGET_DIR", value_name = "DIR")]
    pub target_dir: Option<PathBuf>,

    /// How each check is isolated: `auto` takes a PID namespace where the kernel allows one
    /// and falls back to process groups (saying so in the report).
    #[arg(long, value_enum, default_value_t = IsolationChoice::Auto)]
    pub isolation: IsolationChoice,

    /// Longest the build of one assignment may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub build_timeout: u64,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table per assignment, the failures explained, a total.
    Table,
    /// Versioned JSON (`format = "course-grade"`, `version = 1`; see the grader's docs).
    Json,
    /// JUnit XML: a suite per assignment, a case per check, for CI test-report viewers.
    Junit,
    /// Gradescope's `results.json` (see grader/gradescope/).
    Gradescope,
    /// Markdown for a CI summary (`$GITHUB_STEP_SUMMARY`): scores, failures, speed figures.
    Markdown,
}

impl Format {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
            Self::Junit => "junit",
            Self::Gradescope => "gradescope",
            Self::Markdown => "markdown",
        }
    }
}

/// The command line, with [`Cli::reports`] paired from the positions of --format and --out;
/// exits (code 2) with clap's message on a usage error.
pub fn parse() -> Cli {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match crate::report::targets(&matches) {
        Ok(reports) => cli.reports = reports,
        Err(problem) => Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, problem)
            .exit(),
    }
    cli
}

/// `--isolation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IsolationChoice {
    /// A PID namespace per check if the kernel allows, else process groups.
    Auto,
    /// A PID namespace per check, or fail.
    PidNamespace,
    /// Process groups only (checks then run one at a time, so leftovers can be attributed).
    ProcessGroup,
}

fn parse_seed(text: &str) -> Result<Seed, String> {
    Seed::parse(text).ok_or_else(|| format!("{text:?} is not a number (decimal, or hex with 0x)"))
}

const AFTER_HELP: &str = "\
What is taken from a submission (--submission DIR):
  DIR is a copy of the course repository (DIR/assignments/<id>/) or of its assignments
  folder (DIR/<id>/). For each assignment <id>, only these are taken:
    - every regular file under <id>/src/, except the runner src/bin/<id>-runner.rs
      (no symlinks; at most 200 files, 1 MiB each, 4 MiB in all);
    - from <id>/Cargo.toml, [dependencies] entries `name.workspace = true` naming a crate of
      the course's [workspace.dependencies] (nothing else of that file).
  Everything else comes from this repository: the course library (common/), the harness and
  course.toml, each assignment's Cargo.toml, runner and tests. The submission is built in a
  scratch workspace under the target directory, never in DIR. An assignment missing from the
  submission scores 0.

Exit codes:
  0  every graded check passed
  1  some check failed, or an assignment did not compile
  2  usage error: bad arguments, unknown assignment or check, unreadable submission, invalid
     course.toml
  3  internal error: the grader, cargo or the sandbox failed, or a check could not run; do not
     trust the grade";
