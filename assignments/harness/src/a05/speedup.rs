//! a05's speedup check: `apply_async_with_callback` with one worker per core, timed against
//! the course's sequential loop over the same inputs, judged against what bare processes
//! show in the same run ([`crate::checks::speedup`], shared with every speedup check).
//!
//! The jobs are sized by the runner itself (the build that runs them) in CPU time, so a busy
//! machine does not shrink them. Before anything is timed, one untimed pool run must be
//! correct: wrong code fails here whatever the machine, and the runner's pages are warm for
//! the timed runs. Only correct runs are timed after that; every result is checked against
//! the oracle, each job must have run once in a pool worker (the task log), and the work is
//! the tests' `sum_all_values` (the student's code holds it as an opaque function), so
//! neither a wrong answer returned at once nor a shortcut can look fast.
//!
//! [`speedup::judge`] then takes samples until their votes decide: the student's pool run,
//! the sequential loop and bare processes doing the same work, all three started by the
//! runner in the same sandbox and scheduling group. One core, or a machine too busy to show a gain, is "not measurable",
//! never a failure. A failure names the mistake from how many jobs the pool ran at once.

use std::cell::Cell;
use std::time::Duration;

use crate::a05::checks::{Run, inputs, require_correct, run_scenario};
use crate::a05::oracle::{self, Inputs};
use crate::a05::protocol::{Report, Scenario};
use crate::checks::speedup::{
    self, Attainable, Baseline, Measurements, SpeedupReading, available_cores,
};
use crate::checks::{CheckContext, Execution, Failure, Judgement, execute, repeat};
use crate::run::SandboxOptions;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// Most workers a speedup run uses, however many cores there are (bounds the bare forks).
const MAX_WORKERS: usize = 32;

/// The speedup check.
pub(crate) fn speedup(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| measure(ctx, seed))
}

fn measure(ctx: &CheckContext<'_>, seed: Seed) -> Result<Vec<Figure>, Failure> {
    let Inputs::Speedup {
        sequential_ms,
        jobs_per_worker,
    } = inputs(ctx)?
    else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: format!("{} needs inputs with part = \"speedup\"", ctx.check.id),
        }));
    };
    let workers = available_cores().min(MAX_WORKERS);
    let jobs = workers * jobs_per_worker.max(1);
    let job_ms = (sequential_ms / jobs as u64).max(1);
    let work = Duration::from_millis(job_ms * jobs as u64);
    // Timed runs go unobserved: sampling the process group costs CPU the runs are timed on.
    let timed = CheckContext {
        sandbox: SandboxOptions {
            sample_interval: None,
            ..ctx.sandbox.clone()
        },
        ..ctx.clone()
    };
    let x = calibrate(&timed, job_ms)?;
    let inputs = oracle::speedup_inputs(x, jobs, seed);
    let pool = Scenario::AllAtOnce {
        processes: workers,
        inputs: inputs.clone(),
        hold_ms: 0,
    };
    pool_run(&timed, &pool)?;

    // Fewest jobs seen running at once at the peak of a timed pool run.
    let peak = Cell::new(usize::MAX);
    let mut parallel = || -> Result<Duration, Failure> {
        let run = pool_run(&timed, &pool)?;
        let run_peak = oracle::overlap(&run.execution.report.task_runs).map_or(0, |o| o.peak);
        peak.set(peak.get().min(run_peak));
        Ok(run.execution.record.wall)
    };
    let mut sequential = || sequential_run(&timed, &inputs);
    let mut machine = || machine_run(&timed, workers, work);
    let mut figures = vec![
        Figure::count("jobs", jobs),
        Figure::time("work (CPU time, calibrated)", work),
    ];
    figures.extend(speedup::judge(
        ctx,
        workers,
        &mut Measurements {
            parallel: &mut parallel,
            sequential: &mut sequential,
            machine: &mut machine,
        },
        &|reading| meaning(reading, peak.get()),
    )?);
    figures.push(Figure::count("most jobs at once", peak.get()));
    Ok(figures)
}

/// The `x` for which one job takes `job_ms` of CPU time in the runner: the binary that runs
/// the jobs sizes them (a harness built with other optimisations would size them wrong).
fn calibrate(ctx: &CheckContext<'_>, job_ms: u64) -> Result<u64, Failure> {
    let execution: Execution<Report> = execute(ctx, &Scenario::Calibrate { job_ms })?;
    match execution.report.returned.as_deref() {
        Ok([x]) => Ok(*x),
        Ok(_) | Err(_) => Err(not_this_course("it returned no job size")),
    }
}

/// The student's run; only a correct one counts.
fn pool_run(ctx: &CheckContext<'_>, scenario: &Scenario) -> Result<Run, Failure> {
    let run = run_scenario(ctx, scenario.clone())?;
    require_correct(ctx, &run).map_err(|failure| run.execution.fail(failure))?;
    Ok(run)
}

/// The course's sequential loop over the same inputs, in the same runner binary.
fn sequential_run(ctx: &CheckContext<'_>, inputs: &[u64]) -> Result<Baseline, Failure> {
    let scenario = Scenario::Sequential {
        inputs: inputs.to_vec(),
    };
    let execution: Execution<Report> = execute(ctx, &scenario)?;
    let report = execution.report;
    let values = report.returned.unwrap_or_default();
    match report.sequential_cpu_ns {
        Some(cpu_ns) if oracle::tally(inputs, &values).is_empty() => Ok(Baseline {
            wall: execution.record.wall,
            cpu: Duration::from_nanos(cpu_ns),
        }),
        Some(_) | None => Err(not_this_course(
            "its sequential baseline returned wrong sums",
        )),
    }
}

/// Bare processes doing the same work, started by the runner: in the same sandbox and
/// scheduling group as the student's runs.
fn machine_run(
    ctx: &CheckContext<'_>,
    workers: usize,
    work: Duration,
) -> Result<Attainable, Failure> {
    let scenario = Scenario::Machine {
        processes: workers,
        target_micros: u64::try_from(work.as_micros()).unwrap_or(u64::MAX),
    };
    let execution: Execution<Report> = execute(ctx, &scenario)?;
    match (execution.report.returned, execution.report.machine) {
        (Ok(_), Some(machine)) => Ok(machine),
        (Err(why), _) => Err(Failure::new(Verdict::CouldNotRun {
            why: format!("the runner could not measure the machine: {why}"),
        })),
        (Ok(_), None) => Err(not_this_course("it measured nothing")),
    }
}

fn not_this_course(what: &str) -> Failure {
    Failure::new(Verdict::CouldNotRun {
        why: format!(
            "the runner ran the course's own code, but {what}: was it built from this course's \
             sources?"
        ),
    })
}

/// What a speedup too low likely means, from the fewest jobs a timed pool run had running
/// at once.
fn meaning(reading: &SpeedupReading, peak: usize) -> String {
    if peak <= 1 {
        "the jobs ran one at a time: `pool.apply`, or `get()` right after each \
         `apply_async`, waits for each job before the next is submitted. Submit them all \
         with apply_async_callback, then close() and join() the pool"
            .to_owned()
    } else {
        format!(
            "the jobs overlapped (at least {peak} at once, with {} workers) but the pool \
             gained little: create the pool once, before the loop, with `processes` workers, \
             and wait only at the end (close() then join())",
            reading.workers
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::speedup::Sample;

    fn reading() -> SpeedupReading {
        let sample = Sample {
            parallel: Duration::from_millis(400),
            sequential: Duration::from_millis(410),
            sequential_cpu: Duration::from_millis(400),
            attainable: 1.95,
        };
        SpeedupReading {
            workers: 2,
            samples: vec![sample; 3],
        }
    }

    #[test]
    fn the_meaning_names_the_mistake_from_the_peak() {
        assert!(meaning(&reading(), 1).contains("one at a time"));
        let partial = meaning(&reading(), 2);
        assert!(
            partial.contains("overlapped (at least 2 at once"),
            "{partial}"
        );
    }
}
