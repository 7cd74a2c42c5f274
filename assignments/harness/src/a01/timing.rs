//! a01's speedup check: the student's workers against the sequential baseline, judged against
//! what bare processes show on this machine in the same run ([`crate::checks::speedup`]).
//!
//! Only correct runs are timed: each parallel run must first pass the result, pid and spread
//! judges (threads in place of processes, or one worker doing everything, fail here with
//! their own explanation), and must have done the work (CPU time), so neither a wrong answer
//! returned at once nor a closed-form shortcut can look fast.

use std::time::Duration;

use crate::a01::calibrate;
use crate::a01::checks::{
    Judge, Run, inputs, judge_pids, judge_results, judge_spread, run_scenario,
};
use crate::a01::oracle;
use crate::a01::protocol::{Report, Scenario};
use crate::checks::speedup::{
    self, Attainable, Baseline, Measurements, SpeedupReading, available_cores,
};
use crate::checks::{CheckContext, Execution, Failure, Judgement, execute, repeat};
use crate::run::SandboxOptions;
use crate::verdict::{Figure, Verdict};

/// A parallel run must use at least this fraction of the CPU time the work needs (as
/// calibrated): the work is `sum_all_values`, and a run far under it did not do it.
const MIN_CPU_OF_WORK: f64 = 0.25;

/// Most CPU work the bare processes are given, whatever the manifest asks of the student.
const MAX_MACHINE_WORK: Duration = Duration::from_secs(5);

/// Below this speedup the tasks ran one after another, not merely with some overhead.
const SEQUENTIAL_BELOW: f64 = 1.15;

pub(super) fn speedup(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let inputs = inputs(ctx)?;
        let workers = inputs.workers.resolve(available_cores());
        speedup::measurable(workers)?;
        // Timed runs go unobserved: sampling /proc every few ms costs CPU the workers need.
        let timed = CheckContext {
            sandbox: SandboxOptions {
                sample_interval: None,
                ..ctx.sandbox.clone()
            },
            ..ctx.clone()
        };
        let rate = calibrate::measure(&timed)?;
        let scenario = oracle::scenario(&inputs, seed, rate, workers);
        let Scenario::Workers { tasks, .. } = &scenario else {
            return Err(Failure::new(Verdict::CouldNotRun {
                why: "a01's scenario is not a workers scenario".to_owned(),
            }));
        };
        let work =
            Duration::from_secs_f64(tasks.iter().map(|t| t.x as f64).sum::<f64>() / rate / 1000.0);
        let mut parallel = || -> Result<Duration, Failure> {
            let run = run_scenario(&timed, scenario.clone())?;
            for judge in [judge_results, judge_pids, judge_spread] as [Judge; 3] {
                judge(&run).map_err(|failure| run.execution.fail(correct_runs_only(failure)))?;
            }
            judge_did_the_work(&run, work).map_err(|failure| run.execution.fail(failure))?;
            Ok(run.execution.record.wall)
        };
        let mut sequential = || -> Result<Baseline, Failure> {
            let (run, cpu) = calibrate::run_sequential(&timed, tasks)?;
            Ok(Baseline {
                wall: run.record.wall,
                cpu,
            })
        };
        let mut machine = || -> Result<Attainable, Failure> {
            // Capped so that sum_all_values(iterations) cannot overflow in a debug build.
            let target = work.min(MAX_MACHINE_WORK);
            let scenario = Scenario::Machine {
                processes: workers,
                target_micros: u64::try_from(target.as_micros()).unwrap_or(u64::MAX),
            };
            let execution: Execution<Report> = execute(&timed, &scenario)?;
            match execution.report {
                Report::Machine(Ok(attainable)) => Ok(attainable),
                Report::Machine(Err(why)) => Err(Failure::new(Verdict::CouldNotRun { why })),
                Report::Workers(_) | Report::Sequential { .. } => {
                    Err(Failure::new(Verdict::CouldNotRun {
                        why: "the runner answered a machine scenario with another report: was \
                              it built from this course's sources?"
                            .to_owned(),
                    }))
                }
            }
        };
        let mut figures = vec![Figure::time("work (CPU time, calibrated)", work)];
        figures.extend(speedup::judge(
            ctx,
            workers,
            &mut Measurements {
                parallel: &mut parallel,
                sequential: &mut sequential,
                machine: &mut machine,
            },
            &meaning,
        )?);
        Ok(figures)
    })
}

fn correct_runs_only(failure: Failure) -> Failure {
    match failure.verdict {
        Verdict::WrongAnswer {
            expected,
            got,
            meaning,
        } => Failure::wrong(
            expected,
            got,
            format!("{meaning} (this check times correct runs only)"),
        )
        .with_figures(failure.figures),
        _ => failure,
    }
}

fn judge_did_the_work(run: &Run, work: Duration) -> Result<Vec<Figure>, Failure> {
    let cpu = run.execution.record.cpu;
    let figure = Figure::time("CPU time of the run", cpu);
    // The CPU time of a child counts once it is reaped: with workers left unjoined the total
    // says nothing (and not joining is another check's business).
    if cpu.as_secs_f64() >= MIN_CPU_OF_WORK * work.as_secs_f64()
        || !run.execution.children_after.is_empty()
    {
        return Ok(vec![figure]);
    }
    Err(Failure::wrong(
        format!(
            "about {} ms of CPU time: the work of sum_all_values on every task",
            work.as_millis()
        ),
        format!("{} ms of CPU time in all processes", cpu.as_millis()),
        "the results are right but the work was not done: keep sum_all_values as given (the \
         speedup is measured on its work, and a closed formula leaves nothing to share)",
    )
    .with_figures(vec![figure]))
}

fn meaning(reading: &SpeedupReading) -> String {
    if reading.speedup() < SEQUENTIAL_BELOW {
        format!(
            "the tasks were computed one after another, not at the same time, although {} \
             workers took part: something serialises the work. A lock held around the \
             computation, or the main process waiting for each result before putting the \
             next task, does that. Put all the tasks, let every worker compute on its own, \
             and collect the results afterwards",
            reading.workers
        )
    } else {
        "the workers only partly overlapped: something serialises part of the work (a lock \
         held while computing, tasks put one at a time as results come back, slow work in the \
         main process between puts)"
            .to_owned()
    }
}
