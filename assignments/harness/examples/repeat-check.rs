//! Runs one check many times against a runner binary and counts the verdicts: how reliably a
//! check catches a known-wrong implementation, or how reliably a correct one passes.
//!
//! ```sh
//! cargo build -p fixture-a04-notify-one
//! cargo run -p course-harness --example repeat-check -- \
//!     a04-condition no-lost-wakeup target/debug/fixture-a04-notify-one-runner 100
//! ```
//!
//! Each run uses another seed (derived from `COURSE_SEED`, or the default seed). Prints one
//! line per verdict label with its count, and with `-v` the full explanation of the first run
//! of each label, and with `--each` one line per run. `--inputs '{ capacity = 2 }'` overrides keys of the check's `inputs` (to
//! tune a scenario before writing it into `course.toml`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use course_harness::checks::{CheckContext, run_check};
use course_harness::manifest;
use course_harness::run::SandboxOptions;
use course_harness::seed::Seed;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let each = args.iter().any(|a| a == "--each");
    args.retain(|a| a != "-v" && a != "--each");
    let mut overrides = toml::Table::new();
    if let Some(at) = args.iter().position(|a| a == "--inputs") {
        let Some(text) = args.get(at + 1).cloned() else {
            eprintln!("--inputs needs an inline table, e.g. '{{ capacity = 2 }}'");
            return ExitCode::from(2);
        };
        match toml::from_str::<toml::Table>(&format!("inputs = {text}")) {
            Ok(mut table) => {
                if let Some(toml::Value::Table(inputs)) = table.remove("inputs") {
                    overrides = inputs;
                }
            }
            Err(error) => {
                eprintln!("--inputs: {error}");
                return ExitCode::from(2);
            }
        }
        args.drain(at..at + 2);
    }
    let [assignment, check, runner, count] = args.as_slice() else {
        eprintln!(
            "usage: repeat-check [-v] [--each] [--inputs '{{ key = value }}'] <assignment> <check> \
             <runner binary> <runs>"
        );
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<u32>() else {
        eprintln!("runs must be a number, not {count:?}");
        return ExitCode::from(2);
    };
    let base = match Seed::from_env() {
        Ok(seed) => seed,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let manifest = match manifest::embedded() {
        Ok(manifest) => manifest,
        Err(error) => {
            eprintln!("course.toml is invalid: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(entry) = manifest.assignment(assignment) else {
        eprintln!("course.toml has no assignment {assignment:?}");
        return ExitCode::FAILURE;
    };
    let Some(mut check_entry) = entry.check(check).cloned() else {
        eprintln!("course.toml has no check {check:?} in {assignment}");
        return ExitCode::FAILURE;
    };
    check_entry.inputs.extend(overrides);
    let mut labels: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut first_of: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut slowest = 0.0f64;
    for index in 0..count {
        let seed = base.derive("repeat-check").repetition(index);
        let ctx = CheckContext {
            assignment: entry,
            check: &check_entry,
            runner: Path::new(runner),
            package: "repeat-check",
            seed,
            sandbox: SandboxOptions::default(),
        };
        let result = run_check(&ctx);
        let label = result.verdict.label();
        if each {
            let first_line = |text: String| text.lines().next().unwrap_or("").to_owned();
            let detail = match &result.verdict {
                course_harness::verdict::Verdict::WrongAnswer { expected, got, .. } => {
                    format!("{got} [expected {expected}]")
                }
                course_harness::verdict::Verdict::Pass => {
                    let figures: Vec<String> =
                        result.figures.iter().map(ToString::to_string).collect();
                    figures.join(", ")
                }
                other => first_line(other.to_string()),
            };
            println!(
                "{index:>4} {label:<14} {:>6.2} s  {detail}",
                result.elapsed.as_secs_f64()
            );
        }
        *labels.entry(label).or_default() += 1;
        first_of.entry(label).or_insert_with(|| result.to_string());
        slowest = slowest.max(result.elapsed.as_secs_f64());
    }
    println!("{assignment} / {check}: {count} runs, slowest {slowest:.2} s");
    for (label, n) in &labels {
        println!("  {label:<16} {n}");
    }
    if verbose {
        for (label, text) in &first_of {
            println!("--- first {label} ---\n{text}");
        }
    }
    ExitCode::SUCCESS
}
