//! The glue of an a03 runner binary: [`a03_runner!`](crate::a03_runner) expands to a `main`
//! that calls [`serve_scenario`] with the student's functions, so every implementation (stub,
//! solution, fixtures) runs the very same glue under its own crate name.

use std::time::Duration;

use multiprocessing as mp;

use crate::a03::probe::{Expecting, LockProbe};
use crate::a03::protocol::{Call, Counted, Report, Scenario};
use crate::forks::ForkCounter;

/// Longest the runner holds the counter's lock while the workers start. A correct run lets go
/// much sooner: as soon as every worker is waiting for the lock.
pub const LOCK_HOLD_LIMIT: Duration = Duration::from_millis(500);

/// The student's `count_in_processes(workers, increments)`, returning the counter's final
/// value and the counts, or the error as text.
pub type CountFn<'a> = &'a dyn Fn(usize, u64) -> Result<(u64, Vec<u64>), String>;

/// The student's `run_workers(&counter, &counts, increments)`, the error as text.
pub type RunWorkersFn<'a> = &'a dyn Fn(&mp::Value<u64>, &mp::Array<u64>, u64) -> Result<(), String>;

/// Runs one scenario against the student's functions and builds the report, counting the
/// forks made meanwhile and, when the scenario says so ([`Call::holds_lock`]), holding the
/// counter's lock while the workers start.
pub fn serve_scenario(
    scenario: &Scenario,
    count_in_processes: CountFn<'_>,
    run_workers: RunWorkersFn<'_>,
) -> Report {
    let forks = ForkCounter::install().ok();
    let before = forks.map(|counter| (counter, counter.forks()));
    let forked = || before.map(|(counter, before)| counter.forks().saturating_sub(before));
    let hold_lock = match scenario.call {
        Call::CountInProcesses => {
            let counted = count_in_processes(scenario.workers, scenario.increments)
                .map(|(total, per_process)| Counted { total, per_process });
            return Report {
                counted,
                forks: forked(),
                lock_hold: None,
            };
        }
        Call::RunWorkers { hold_lock } => hold_lock,
    };
    let shared = mp::Value::new(0u64)
        .map_err(|e| crate::runner::error_chain(&e))
        .and_then(|counter| {
            mp::Array::new(scenario.workers, 0u64)
                .map(|counts| (counter, counts))
                .map_err(|e| crate::runner::error_chain(&e))
        });
    let (counter, counts) = match shared {
        Ok(shared) => shared,
        Err(why) => {
            return Report {
                counted: Err(format!("the runner could not create the counter: {why}")),
                forks: forked(),
                lock_hold: Some(Err(why)),
            };
        }
    };
    let probe = hold_lock.then(|| {
        let expecting = Expecting {
            forks: before,
            workers: scenario.workers,
            limit: LOCK_HOLD_LIMIT,
        };
        LockProbe::hold(&counter, expecting)
    });
    let returned = run_workers(&counter, &counts, scenario.increments);
    let lock_hold = probe.map(|probe| probe.and_then(LockProbe::finish));
    Report {
        counted: returned.map(|()| Counted {
            total: counter.load(),
            per_process: counts.to_vec(),
        }),
        forks: forked(),
        lock_hold,
    }
}

/// Expands to the `main` of an a03-counter runner that serves `$student`'s
/// `count_in_processes` and `run_workers` through [`serve_scenario`].
///
/// `assignments/a03-counter/src/bin/a03-counter-runner.rs` is `a03_runner!(a03_counter);`,
/// the solution's is `a03_runner!(a03_counter_solution);`.
#[macro_export]
macro_rules! a03_runner {
    ($student:ident) => {
        fn main() {
            $crate::runner::serve(|scenario: $crate::a03::Scenario| {
                $crate::a03::runner::serve_scenario(
                    &scenario,
                    &|workers, increments| {
                        $student::count_in_processes(workers, increments)
                            .map(|report| (report.total, report.per_process))
                            .map_err(|error| $crate::runner::error_chain(&error))
                    },
                    &|counter, counts, increments| {
                        $student::run_workers(counter, counts, increments)
                            .map_err(|error| $crate::runner::error_chain(&error))
                    },
                )
            })
        }
    };
}
