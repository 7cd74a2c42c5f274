//! `accuracy`: how often is the grade wrong?
//!
//! Grades every implementation whose grade is known (the reference solutions and the
//! alternative correct fixtures, which must pass every check; the stubs and the deliberately
//! wrong fixtures, which must fail the checks their `expected.toml` names) `--runs` times each
//! through the real `grader` binary, each time with another seed, and prints per check:
//!
//! - the **false-fail rate**: gradings of a known-good variant where the check did not pass;
//! - the **false-pass rate**: gradings of a known-wrong variant where a check expected to
//!   fail passed;
//! - `not-measurable` verdicts, counted apart (neither a pass nor a fail: the machine could
//!   not measure, and says so), and failures with another verdict than expected (caught, but
//!   named differently).
//!
//! Variants are found on disk (`workspace_tests::variants`), so a new assignment's fixtures
//! count as soon as they exist. A wrong variant is graded only on the checks expected to fail
//! (that is what a false pass is about, and it keeps a run affordable); a good one on all.
//!
//! ```sh
//! cargo run --release -p workspace-tests --bin accuracy -- --runs 50          # idle machine
//! cargo run --release -p workspace-tests --bin accuracy -- --runs 50 --hog    # CPU hog beside
//! ```

mod grading;
mod hog;
mod tally;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use workspace_tests::variants::{self, Kind, Origin};

use crate::grading::{Grader, Grading};
use crate::tally::Tally;

/// Grades every variant with a known grade N times and prints the false-fail and false-pass
/// rates of every check.
#[derive(Debug, Parser)]
#[command(name = "accuracy", verbatim_doc_comment)]
struct Cli {
    /// Gradings of each variant (each with its own seed).
    #[arg(long, default_value_t = 50)]
    runs: u32,

    /// Keep one busy-looping thread per CPU running beside the gradings.
    #[arg(long)]
    hog: bool,

    /// Only the variants whose assignment or name contains this (repeatable).
    #[arg(long, value_name = "TEXT")]
    only: Vec<String>,

    /// Where the grader and the assignments are built [default: <workspace>/target/accuracy].
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,

    /// The first seed (decimal, or hex with 0x); grading `i` of every variant uses seed + i.
    #[arg(long, default_value = "0x5eed0000", value_parser = parse_seed)]
    seed: u64,
}

/// A seed as the grader prints them (`0x...`) or in decimal.
fn parse_seed(text: &str) -> Result<u64, std::num::ParseIntError> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("accuracy: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs everything; `Ok(false)` when some grade was wrong.
fn run(cli: &Cli) -> Result<bool> {
    let root = workspace_tests::workspace();
    let target_dir = cli
        .target_dir
        .clone()
        .unwrap_or_else(|| root.join("target").join("accuracy"));
    let mut found = variants::discover(&root).map_err(anyhow::Error::msg)?;
    found.retain(|v| {
        cli.only.is_empty()
            || cli.only.iter().any(|text| {
                v.assignment().contains(text.as_str()) || v.name.contains(text.as_str())
            })
    });
    anyhow::ensure!(!found.is_empty(), "no variant matches {:?}", cli.only);
    eprintln!("building the grader into {}", target_dir.display());
    let grader = Grader::build(&root, &target_dir)?;
    let scratch = tempfile::Builder::new()
        .prefix("accuracy-")
        .tempdir()
        .context("a scratch directory")?;
    let load_before = tally::load_average();
    let started = Instant::now();
    let hog = cli.hog.then(hog::Hog::start);
    let mut tally = Tally::default();
    for variant in &found {
        let submission = match &variant.origin {
            Origin::Solution => None,
            Origin::Fixture(dir) => Some(
                workspace_tests::submission::write(
                    dir,
                    variant.assignment(),
                    &scratch.path().join(&variant.name),
                )
                .map_err(anyhow::Error::msg)?,
            ),
        };
        let only: Vec<String> = match variant.kind() {
            Kind::Good => Vec::new(),
            Kind::Wrong => grader.checks_expected_to_fail(variant)?,
        };
        for run in 0..cli.runs {
            let seed = cli.seed + u64::from(run);
            let label = format!(
                "{} {} run {}/{} (seed {seed:#x})",
                variant.assignment(),
                variant.name,
                run + 1,
                cli.runs
            );
            eprintln!("grading {label}");
            let grading = grader.grade(variant.assignment(), submission.as_deref(), &only, seed)?;
            match grading {
                Grading::Verdicts(verdicts) => tally.add(variant, &verdicts, seed),
                Grading::GraderFailed(why) => tally.grader_failed(variant, seed, why),
            }
        }
    }
    let hogged = hog.map(hog::Hog::stop);
    let conditions = tally::Conditions {
        runs: cli.runs,
        hog_threads: hogged,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        load_before,
        load_after: tally::load_average(),
        elapsed: started.elapsed(),
        variants: found.len(),
    };
    println!("{}", tally.render(&conditions));
    Ok(tally.is_clean())
}
