//! Runs one a06 check many times against a runner binary and tallies the verdicts, with the
//! figures of each run (how the thresholds in course.toml were chosen):
//!
//! ```sh
//! cargo build --release -p a06-keyword-search-solution
//! cargo run --release -p course-harness --example a06-repeat -- \
//!     speedup target/release/a06-keyword-search-solution-runner 20
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use course_harness::checks::{CheckContext, run_check};
use course_harness::manifest;
use course_harness::run::SandboxOptions;
use course_harness::seed::Seed;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [check, runner, times] = args.as_slice() else {
        eprintln!("usage: a06-repeat <check> <runner binary> <times>");
        return ExitCode::from(2);
    };
    let Ok(times) = times.parse::<u64>() else {
        eprintln!("<times> must be a number");
        return ExitCode::from(2);
    };
    let manifest = match manifest::embedded() {
        Ok(manifest) => manifest,
        Err(error) => {
            eprintln!(
                "course.toml: {}",
                course_harness::runner::error_chain(error)
            );
            return ExitCode::FAILURE;
        }
    };
    let Some(assignment) = manifest.assignment("a06-keyword-search") else {
        eprintln!("course.toml has no a06-keyword-search");
        return ExitCode::FAILURE;
    };
    let Some(entry) = assignment.check(check) else {
        eprintln!("a06-keyword-search has no check {check}");
        return ExitCode::from(2);
    };
    let mut tally: BTreeMap<&'static str, u64> = BTreeMap::new();
    for round in 0..times {
        let ctx = CheckContext {
            assignment,
            check: entry,
            runner: Path::new(runner),
            package: "a06-repeat",
            seed: Seed(Seed::DEFAULT.0.wrapping_add(round)),
            sandbox: SandboxOptions::default(),
        };
        let outcome = run_check(&ctx);
        let figures: Vec<String> = outcome.figures.iter().map(ToString::to_string).collect();
        println!(
            "{round:>3} {:<15} {:>6.1} s  {}",
            outcome.verdict.label(),
            outcome.elapsed.as_secs_f64(),
            figures.join(", ")
        );
        if !outcome.verdict.is_pass() {
            println!("{}", outcome.verdict);
        }
        *tally.entry(outcome.verdict.label()).or_default() += 1;
    }
    println!("{tally:?}");
    ExitCode::SUCCESS
}
