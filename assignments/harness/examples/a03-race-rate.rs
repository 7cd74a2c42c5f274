//! Measures how often an a03-counter implementation is caught: runs its runner many times on
//! one scenario and counts the runs whose total is not exact, and, with `hold`, the runs in
//! which the counter changed while the runner held its lock.
//!
//! ```sh
//! cargo build -p fixture-a03-unlocked
//! cargo run -p course-harness --example a03-race-rate -- \
//!     target/debug/fixture-a03-unlocked-runner 6 20000 200 hold
//! ```
//!
//! Arguments: the runner binary, workers, increments per worker, runs, and `hold` or
//! `no-hold` (whether the runner holds the counter's lock while the workers start, as the
//! race checks do). Prints the figures behind the race checks' inputs in `course.toml`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use course_harness::a03::{Call, Report, Scenario, oracle};
use course_harness::protocol::{RunnerOutcome, decode_frame};
use course_harness::run::{SandboxOptions, run};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [runner, workers, increments, runs, hold] => workers
            .parse()
            .ok()
            .zip(increments.parse().ok())
            .zip(runs.parse::<u32>().ok())
            .zip(match hold.as_str() {
                "hold" => Some(true),
                "no-hold" => Some(false),
                _ => None,
            })
            .map(|(((workers, increments), runs), hold)| (runner, workers, increments, runs, hold)),
        _ => None,
    };
    let Some((runner, workers, increments, runs, hold_lock)) = parsed else {
        eprintln!("usage: a03-race-rate <runner> <workers> <increments> <runs> hold|no-hold");
        return ExitCode::from(2);
    };
    let scenario = Scenario {
        workers,
        increments,
        call: Call::RunWorkers { hold_lock },
    };
    let expected = oracle::expected_total(&scenario);
    let input = match serde_json::to_vec(&scenario) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = SandboxOptions::with_timeout(Duration::from_secs(30));
    let mut caught = 0u32;
    let mut seen_under_lock = 0u32;
    let mut holds = Vec::new();
    let mut lost = Vec::new();
    let mut walls = Vec::new();
    for _ in 0..runs {
        let record = match run(Path::new(runner), &input, &options) {
            Ok(record) => record,
            Err(error) => {
                eprintln!("error: {}", course_harness::runner::error_chain(&error));
                return ExitCode::FAILURE;
            }
        };
        walls.push(record.wall);
        let report = decode_frame::<Report>(&record.result_bytes)
            .ok()
            .and_then(|envelope| match envelope.outcome {
                RunnerOutcome::Returned(report) => Some(report),
                RunnerOutcome::Panicked { .. } | RunnerOutcome::BadScenario { .. } => None,
            });
        if let Some(Some(Ok(hold))) = report.as_ref().map(|r| r.lock_hold.clone()) {
            holds.push(Duration::from_micros(hold.held_micros));
            if hold.seen != 0 {
                seen_under_lock += 1;
            }
        }
        let total = report.and_then(|r| r.counted.ok()).map(|c| c.total);
        match total {
            Some(total) if total == expected => {}
            Some(total) => {
                caught += 1;
                lost.push(expected.saturating_sub(total));
            }
            None => {
                eprintln!("a run returned no counts: {}", record.stderr.text());
                return ExitCode::FAILURE;
            }
        }
    }
    lost.sort_unstable();
    walls.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{runner}: {workers} workers x {increments} increments on {} cores",
        oracle::machine_cores()
    );
    println!(
        "caught (total not exact): {caught} of {runs} runs ({:.1} %)",
        100.0 * f64::from(caught) / f64::from(runs.max(1))
    );
    if let (Some(min), Some(max)) = (lost.first(), lost.last()) {
        println!(
            "increments lost when caught: min {min}, median {}, max {max} (of {expected})",
            lost[lost.len() / 2]
        );
    }
    if hold_lock {
        holds.sort_unstable();
        println!(
            "changed while the runner held the lock: {seen_under_lock} of {runs} runs ({:.1} %)",
            100.0 * f64::from(seen_under_lock) / f64::from(runs.max(1))
        );
        if let (Some(min), Some(max)) = (holds.first(), holds.last()) {
            println!(
                "lock held at start: min {:.1} ms, median {:.1} ms, max {:.1} ms",
                ms(*min),
                ms(holds[holds.len() / 2]),
                ms(*max)
            );
        }
    }
    if let (Some(min), Some(max)) = (walls.first(), walls.last()) {
        println!(
            "wall per run: min {:.1} ms, median {:.1} ms, max {:.1} ms",
            ms(*min),
            ms(walls[walls.len() / 2]),
            ms(*max)
        );
    }
    ExitCode::SUCCESS
}
