//! `grader`: builds, sandboxes, runs, checks and scores the course's assignments.
//!
//! ```text
//! grader --all
//!   └─ plan            which assignments and checks, whose code, which seed    (plan)
//!   └─ take the code   the repository's, the solutions, or a submission copied
//!                      into a scratch workspace                                (source)
//!   └─ build each assignment on its own: cargo, one shared target directory;
//!                      a compile error scores that assignment 0                (build)
//!   └─ run each check: the harness's `checks::run_check`, inside a fresh PID
//!                      namespace with limits, then leaks swept                 (grade, sandbox)
//!   └─ events ──► reporters: progress on stderr; the table, JSON, JUnit,
//!                      Gradescope or Markdown reports (several at once)        (events, report)
//! ```
//!
//! Modules: [`cli`] (the command line), [`plan`], [`source`], [`build`], [`sandbox`],
//! [`grade`] (the engine), [`events`] (engine → reporters), [`report`], [`verdict`] (the
//! grader's closed verdict enums), [`list`] (`--list`), [`exit`] (exit codes), [`errors`];
//! [`class`] (a class: many submissions, a report each, the gradebook) and [`handout`]
//! (`grader handout`: the students' starter repository).

mod build;
mod class;
mod cli;
mod course;
mod errors;
mod events;
mod exit;
mod grade;
mod handout;
mod list;
mod plan;
mod report;
mod sandbox;
mod source;
mod verdict;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use crate::build::Builder;
use crate::cli::Cli;
use crate::errors::GraderError;
use crate::plan::Plan;
use crate::report::{GradeSheet, Progress, Reporter};
use crate::sandbox::Sandbox;

fn main() -> ExitCode {
    let cli = cli::parse();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("grader: error: {}", errors::chain(&error));
            ExitCode::from(error.exit_code())
        }
    }
}

fn run(cli: &Cli) -> Result<u8, GraderError> {
    let manifest = course::manifest()?;
    if let Some(cli::Command::Handout { out }) = &cli.command {
        handout::write(&course::root(), out)?;
        return Ok(exit::ALL_PASSED);
    }
    if cli.list {
        for report in &cli.reports {
            list::write(manifest, report.format, &report.output)?;
        }
        return Ok(exit::ALL_PASSED);
    }
    let plan = Plan::from_cli(cli, manifest)?;
    let class = class::students(&cli.class)?;
    // First, while the grader is still single-threaded (a user namespace needs that).
    let mut sandbox = Sandbox::set_up(cli.isolation)?;
    let root = course::root();
    let target_dir = absolute(
        cli.target_dir
            .clone()
            .unwrap_or_else(|| root.join("target").join("grader")),
    );
    if let (Some(students), Some(out_dir)) = (class, &cli.class.out_dir) {
        let run = class::ClassRun {
            plan: &plan,
            sandbox: &sandbox,
            course_root: &root,
            target_dir: &target_dir,
            build_timeout: Duration::from_secs(cli.build_timeout),
            out_dir: &absolute(out_dir.clone()),
            regrade: cli.class.regrade,
            quiet: cli.quiet,
        };
        return class::run(&run, &students);
    }
    let builder = Builder::new(target_dir, Duration::from_secs(cli.build_timeout))?;
    // A check sees neither the course (its solutions) nor what the grader built, except the
    // runners of this run.
    sandbox.protect(
        vec![root.clone(), builder.target_dir().to_owned()],
        builder.runners_dir().to_owned(),
    );
    let intakes = source::take(&plan, &root, builder.target_dir())?;
    let mut reporters: Vec<Box<dyn Reporter>> =
        vec![Box::new(Progress::new(cli.quiet, cli.verbose))];
    for target in &cli.reports {
        reporters.push(report::for_format(
            target.format,
            target.output.clone(),
            cli.verbose,
        ));
    }
    let mut sheet = GradeSheet::default();
    let mut failed = None;
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        let engine = scope.spawn(|| {
            let sender = sender;
            grade::run(&plan, &sandbox, &builder, intakes, &sender);
        });
        for event in receiver {
            sheet.apply(&event);
            for reporter in &mut reporters {
                if let Err(error) = reporter.handle(&event)
                    && failed.is_none()
                {
                    failed = Some(error);
                }
            }
        }
        let _ = engine.join();
    });
    if let Some(error) = failed {
        return Err(error.into());
    }
    Ok(exit::for_sheet(&sheet))
}

fn absolute(path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        std::env::current_dir().map_or(path.clone(), |cwd| cwd.join(path))
    }
}
