//! How much `x` one millisecond of `sum_all_values` is, in the runner under test.
//!
//! The same check runs on a debug build (`cargo test -p a01-queue`) and on a release build
//! (the grader), whose loops differ about eightfold in speed. Tasks are therefore sized in
//! milliseconds (`task_ms` in the manifest) and converted to `x` with a rate measured on the
//! runner itself: its sequential mode runs the course's own `sum_all_values`, so the rate is
//! that of the very build the student's workers run in. The rate is per millisecond of CPU
//! time, which a busy machine does not stretch as it stretches wall time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::a01::oracle::{MAX_X, expected_value};
use crate::a01::protocol::{Report, Scenario, TaskSpec};
use crate::checks::{CheckContext, Execution, Failure, execute};
use crate::verdict::Verdict;

/// A calibration run counts once it computed this long.
const LONG_ENOUGH: Duration = Duration::from_millis(50);

/// What the next run aims at.
const AIM: Duration = Duration::from_millis(80);

/// Longest a calibration may try before giving up.
const MAX_RUNS: usize = 8;

/// Rates already measured in this process, by runner binary.
static RATES: Mutex<BTreeMap<PathBuf, f64>> = Mutex::new(BTreeMap::new());

/// Iterations of `sum_all_values` per millisecond in `ctx.runner`, measured once per runner in
/// this process. Checks that only need tasks of roughly the right size use this.
pub fn iterations_per_ms(ctx: &CheckContext<'_>) -> Result<f64, Failure> {
    let known = RATES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(ctx.runner)
        .copied();
    if let Some(rate) = known {
        return Ok(rate);
    }
    let rate = measure(ctx)?;
    RATES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(ctx.runner.to_owned(), rate);
    Ok(rate)
}

/// Measures the rate now: for timing checks, which hold the machine alone and must not use a
/// rate measured while other checks ran beside it.
pub fn measure(ctx: &CheckContext<'_>) -> Result<f64, Failure> {
    let mut x: u64 = 1 << 20;
    for _ in 0..MAX_RUNS {
        let (_, took) = run_sequential(ctx, &[TaskSpec { id: 1, x }])?;
        if took >= LONG_ENOUGH || x == MAX_X {
            return Ok(x as f64 / (took.as_secs_f64() * 1000.0).max(1e-3));
        }
        let factor = (AIM.as_secs_f64() / took.as_secs_f64().max(1e-4)).clamp(2.0, 64.0);
        x = ((x as f64 * factor) as u64).min(MAX_X);
    }
    Err(Failure::new(Verdict::CouldNotRun {
        why: "the runner's sequential mode never ran long enough to be timed".to_owned(),
    }))
}

/// Runs the runner's sequential baseline on `tasks` and checks its values (a runner that gets
/// them wrong was not built from the course's sources). Returns the run and the CPU time of
/// its loop.
pub fn run_sequential(
    ctx: &CheckContext<'_>,
    tasks: &[TaskSpec],
) -> Result<(Execution<Report>, Duration), Failure> {
    let scenario = Scenario::Sequential {
        tasks: tasks.to_vec(),
    };
    let execution: Execution<Report> = execute(ctx, &scenario)?;
    let cpu = match &execution.report {
        Report::Sequential { values, cpu_micros }
            if values.len() == tasks.len()
                && values
                    .iter()
                    .zip(tasks)
                    .all(|(value, task)| *value == expected_value(task.x)) =>
        {
            Some(Duration::from_micros(*cpu_micros))
        }
        Report::Sequential { .. } | Report::Workers(_) | Report::Machine(_) => None,
    };
    if let Some(cpu) = cpu {
        Ok((execution, cpu))
    } else {
        Err(Failure::new(Verdict::CouldNotRun {
            why: "the runner's sequential baseline returned something else than the course's \
                  values: was it built from this course's sources?"
                .to_owned(),
        }))
    }
}
