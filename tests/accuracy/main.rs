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
//! With `--journal FILE` every finished grading is appended to FILE at once, and a later run
//! with the same journal grades only what it lacks, so a measurement of hours can be taken
//! over several sittings (see [`journal`]); gradings go run-major (run 0 of every variant,
//! then run 1, ...) so a sitting stopped part-way leaves every variant even (see
//! [`measure`]).
//!
//! ```sh
//! cargo run --release -p workspace-tests --bin accuracy -- --runs 50 --journal idle.jsonl
//! cargo run --release -p workspace-tests --bin accuracy -- --runs 50 --hog --journal hog.jsonl
//! ```

mod errors;
mod grading;
mod hog;
mod journal;
mod measure;
mod revision;
mod tally;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use clap::Parser;
use workspace_tests::variants;

use crate::grading::Bench;
use crate::journal::{Expect, Journal};
use crate::measure::Selection;
use crate::revision::Revision;
use crate::tally::{Tally, Timing};

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

    /// Append every finished grading to FILE, and skip the gradings it already holds; the
    /// table counts all of FILE's gradings that match --runs, --seed and --only. One journal
    /// per condition (with or without --hog).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,

    /// Resume a journal although its gradings measured other code than the workspace's
    /// (another commit's graded code, or uncommitted changes): warns instead of refusing.
    #[arg(long, requires = "journal")]
    allow_other_revision: bool,

    /// Start no grading after this many minutes, and print the table of what there is
    /// (0: grade nothing, print the journal's table).
    #[arg(long, value_name = "MINUTES")]
    stop_after: Option<f64>,
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
    let started = Instant::now();
    let stop_at = match cli.stop_after {
        Some(minutes) => {
            Some(started + Duration::try_from_secs_f64(minutes * 60.0).context("--stop-after")?)
        }
        None => None,
    };
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
    let selection = Selection {
        variants: &found,
        runs: cli.runs,
        first_seed: cli.seed,
        hog: cli.hog,
    };
    // A journal needs the revision; without one it is only printed, when git can tell.
    let revision = match &cli.journal {
        Some(_) => Some(Revision::read(&root)?),
        None => Revision::read(&root).ok(),
    };
    let (mut journal, earlier, mixed) = match (&cli.journal, &revision) {
        (Some(path), Some(revision)) => {
            let opened = Journal::open(
                path,
                &Expect {
                    revision,
                    hog: cli.hog,
                    allow_other_revision: cli.allow_other_revision,
                    now: SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs()),
                },
            )?;
            for note in &opened.notes {
                eprintln!("accuracy: {note}");
            }
            (Some(opened.journal), opened.entries, opened.mixed)
        }
        (Some(_), None) | (None, _) => (None, Vec::new(), false),
    };
    let (found_slots, other) = measure::sort_into_slots(&selection, earlier);
    let asked = found.len() * cli.runs as usize;
    let to_grade = asked - found_slots.len();
    if let Some(path) = &cli.journal {
        eprintln!(
            "journal {}: {} of the {asked} gradings asked are in it ({other} others of it are \
             outside this selection); {to_grade} to grade",
            path.display(),
            found_slots.len(),
        );
    }
    let mut bench = Bench::new(&root, &target_dir);
    if to_grade > 0 && cli.stop_after.is_none_or(|minutes| minutes > 0.0) {
        bench.build_grader()?;
    }
    let load_before = tally::load_average();
    let hog = cli.hog.then(hog::Hog::start);
    let measured = measure::measure(
        &selection,
        found_slots,
        stop_at,
        |index, seed| bench.grade(&found[index], index, seed),
        |entry| match &mut journal {
            Some(journal) => Ok(journal.append(entry)?),
            None => Ok(()),
        },
    );
    let hog_threads = hog.map(hog::Hog::stop);
    let measured = measured?;
    let tally = Tally::of(&found, &measured.entries);
    let conditions = tally::Conditions {
        runs: cli.runs,
        first_seed: cli.seed,
        hog_threads,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        revision: revision.as_ref().map(|r| {
            let mixed = if mixed {
                "; MIXED with gradings of other code (--allow-other-revision)"
            } else {
                ""
            };
            format!("{}{mixed}", r.describe())
        }),
        load_before,
        load_after: tally::load_average(),
        elapsed: started.elapsed(),
        from_journal: measured.from_journal,
        graded_now: measured.graded_now,
        timing: Timing::of(&measured.entries),
    };
    println!("{}", tally.render(&conditions));
    Ok(tally.is_clean())
}
