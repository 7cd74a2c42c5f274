//! Runs every check of an assignment (hidden ones too) many times against one runner binary,
//! each time with another seed, and counts the verdicts per check: the false-fail rate of a
//! correct implementation, the false-pass rate of a known-wrong one.
//!
//! ```sh
//! cargo build --release -p fixture-a03-unlocked
//! cargo run --release -p course-harness --example check-repeat -- \
//!     a03-counter target/release/fixture-a03-unlocked-runner 50
//! ```
//!
//! Arguments: the assignment, the runner binary, how many times. Seeds are `1..=times`.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use course_harness::manifest;
use course_harness::seed::Seed;
use course_harness::visible::{Runner, outcome};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [assignment, runner, times] = args.as_slice() else {
        eprintln!("usage: check-repeat <assignment> <runner binary> <times>");
        return ExitCode::from(2);
    };
    let Ok(times) = times.parse::<u64>() else {
        eprintln!("times must be a number");
        return ExitCode::from(2);
    };
    let Some(entry) = manifest::embedded()
        .ok()
        .and_then(|m| m.assignment(assignment))
    else {
        eprintln!("course.toml has no assignment {assignment:?}");
        return ExitCode::from(2);
    };
    // `Runner` holds 'static strings (it is made by a macro in tests); this program runs once.
    let runner = Runner {
        package: Box::leak(
            std::path::Path::new(runner)
                .file_name()
                .map(|n| n.to_string_lossy().trim_end_matches("-runner").to_owned())
                .unwrap_or_default()
                .into_boxed_str(),
        ),
        path: Box::leak(runner.clone().into_boxed_str()),
    };
    println!("{} against {}, {times} times", entry.id, runner.path);
    for check in &entry.checks {
        let mut verdicts: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut longest = Duration::ZERO;
        let mut total = Duration::ZERO;
        for seed in 1..=times {
            let result = match outcome(&entry.id, &check.id, runner, Seed(seed)) {
                Ok(result) => result,
                Err(problem) => {
                    eprintln!("error: {problem}");
                    return ExitCode::FAILURE;
                }
            };
            *verdicts.entry(result.verdict.label()).or_default() += 1;
            longest = longest.max(result.elapsed);
            total += result.elapsed;
        }
        let counts: Vec<String> = verdicts
            .iter()
            .map(|(label, count)| format!("{label} {count}"))
            .collect();
        println!(
            "  {:<26} {:<34} mean {:>6.0} ms, max {:>6.0} ms",
            check.id,
            counts.join(", "),
            total.as_secs_f64() * 1000.0 / times.max(1) as f64,
            longest.as_secs_f64() * 1000.0
        );
    }
    ExitCode::SUCCESS
}
