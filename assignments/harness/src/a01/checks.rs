//! The checks of a01-queue. Each runs the runner on a seeded scenario and applies one or more
//! judges; a judge names the likely mistake when it fails.

use crate::a01::calibrate;
use crate::a01::explain::likely_mistake;
use crate::a01::oracle::{self, Inputs};
use crate::a01::protocol::{Report, ResultFact, Scenario, TaskSpec};
use crate::a01::timing;
use crate::checks::speedup::available_cores;
use crate::checks::{
    AssignmentChecks, CheckContext, CheckDef, Execution, Failure, Judgement, execute, repeat,
};
use crate::procfs::ProcessSnapshot;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// The checks of the manifest's `a01-queue` entry.
pub const CHECKS: AssignmentChecks = AssignmentChecks {
    assignment: "a01-queue",
    checks: &[
        CheckDef {
            id: "every-result-once",
            run: every_result_once,
        },
        CheckDef {
            id: "workers-joined",
            run: workers_joined,
        },
        CheckDef {
            id: "work-spread",
            run: work_spread,
        },
        CheckDef {
            id: "speedup",
            run: timing::speedup,
        },
        CheckDef {
            id: "single-worker",
            run: with_pids,
        },
        CheckDef {
            id: "more-workers-than-tasks",
            run: with_pids,
        },
        CheckDef {
            id: "many-tiny-tasks",
            run: with_pids,
        },
    ],
    validate_inputs,
};

fn validate_inputs(table: &toml::Table) -> Result<(), String> {
    Inputs::from_table(table).map(|_| ())
}

/// One run's tasks and what came back.
pub(super) struct Run {
    pub(super) tasks: Vec<TaskSpec>,
    pub(super) workers: usize,
    pub(super) execution: Execution<Report>,
    pub(super) results: Vec<ResultFact>,
}

/// A judge looks at one run and passes (with figures) or names the mistake.
pub(super) type Judge = fn(&Run) -> Result<Vec<Figure>, Failure>;

fn every_result_once(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_results])
}

fn workers_joined(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_joined, judge_nothing_left])
}

fn work_spread(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_results, judge_pids, judge_spread])
}

/// The hidden checks: other shapes of input, judged on results and on who computed them.
fn with_pids(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_results, judge_pids])
}

/// Runs every repetition and applies `judges` in order to each run.
fn judged(ctx: &CheckContext<'_>, judges: &[Judge]) -> Judgement {
    repeat(ctx, |seed| {
        let run = run_once(ctx, seed)?;
        let mut figures = run.execution.figures();
        for judge in judges {
            figures.extend(judge(&run).map_err(|failure| run.execution.fail(failure))?);
        }
        Ok(figures)
    })
}

/// The check's inputs, decoded.
pub(super) fn inputs(ctx: &CheckContext<'_>) -> Result<Inputs, Failure> {
    Inputs::from_table(&ctx.check.inputs).map_err(|why| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("invalid inputs in the manifest: {why}"),
        })
    })
}

fn run_once(ctx: &CheckContext<'_>, seed: Seed) -> Result<Run, Failure> {
    let inputs = inputs(ctx)?;
    let workers = inputs.workers.resolve(available_cores());
    let rate = calibrate::iterations_per_ms(ctx)?;
    run_scenario(ctx, oracle::scenario(&inputs, seed, rate, workers))
}

/// Runs the student's `run_workers` on a workers scenario; a timeout comes back with what it
/// likely means.
pub(super) fn run_scenario(ctx: &CheckContext<'_>, scenario: Scenario) -> Result<Run, Failure> {
    let Scenario::Workers { tasks, workers } = &scenario else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: "run_scenario needs a workers scenario".to_owned(),
        }));
    };
    let execution: Execution<Report> =
        execute(ctx, &scenario).map_err(|failure| failure.explain_timeout(likely_mistake))?;
    let results = match &execution.report {
        Report::Workers(Ok(results)) => results.clone(),
        Report::Workers(Err(error)) => {
            return Err(execution.fail(Failure::wrong(
                format!("{} results", tasks.len()),
                format!("run_workers returned an error: {error}"),
                "the error says what failed: a worker that panicked comes back from join() \
                 with its message",
            )));
        }
        Report::Sequential { .. } | Report::Machine(_) => {
            return Err(Failure::new(Verdict::CouldNotRun {
                why: "the runner answered a workers scenario with another report: was it built \
                      from this course's sources?"
                    .to_owned(),
            }));
        }
    };
    Ok(Run {
        tasks: tasks.clone(),
        workers: *workers,
        execution,
        results,
    })
}

/// Up to four items, then how many more.
fn listed<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    let shown: Vec<String> = items.iter().take(4).map(show).collect();
    match items.len().saturating_sub(4) {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}

pub(super) fn judge_results(run: &Run) -> Result<Vec<Figure>, Failure> {
    let mismatch = oracle::compare(&run.tasks, &run.results);
    let figure = Figure::count("results", run.results.len());
    if mismatch.is_empty() {
        return Ok(vec![figure]);
    }
    let (tasks, got, workers) = (run.tasks.len(), run.results.len(), run.workers);
    let mut parts = vec![format!("{got} result(s) for {tasks} tasks")];
    if !mismatch.missing.is_empty() {
        parts.push(format!(
            "{} tasks without a result (ids {})",
            mismatch.missing.len(),
            listed(&mismatch.missing, |t| t.id.to_string())
        ));
    }
    if !mismatch.repeated.is_empty() {
        parts.push(format!(
            "{} tasks with more than one result ({})",
            mismatch.repeated.len(),
            listed(&mismatch.repeated, |(id, n)| format!("id {id}: {n} times"))
        ));
    }
    if !mismatch.unknown.is_empty() {
        parts.push(format!(
            "{} results for ids no task has ({})",
            mismatch.unknown.len(),
            listed(&mismatch.unknown, |r| r.id.to_string())
        ));
    }
    if !mismatch.wrong.is_empty() {
        parts.push(format!(
            "{} wrong values ({})",
            mismatch.wrong.len(),
            listed(&mismatch.wrong, |(task, result)| format!(
                "id {} with x = {}: expected {}, got {}",
                task.id,
                task.x,
                oracle::expected_value(task.x),
                result.value
            ))
        ));
    }
    let meaning = if got == 0 && tasks > 0 {
        "no result came back: each worker puts one TaskResult per task it takes on the result \
         queue, and the main process gets exactly one result per task before joining"
            .to_owned()
    } else if !mismatch.missing.is_empty() && got == workers && tasks > workers {
        format!(
            "results were lost: you received {got} result(s), one per worker, but there is one \
             result per task: get exactly tasks.len() = {tasks} results"
        )
    } else if !mismatch.missing.is_empty() && mismatch.repeated.is_empty() {
        "results were lost: the main process must get exactly tasks.len() results. Stopping \
         when the result queue looks empty (qsize() == 0, empty(), a get_timeout that expires) \
         loses the results the workers have not put yet: qsize() says what is queued now, not \
         what is still to come"
            .to_owned()
    } else if !mismatch.repeated.is_empty() {
        "some tasks have more than one result: put each task on the task queue once, have each \
         worker put exactly one result per task it takes, and get exactly tasks.len() results"
            .to_owned()
    } else if !mismatch.unknown.is_empty() {
        "a result's id must be the id of the task it answers (task.id), not an index or a \
         counter"
            .to_owned()
    } else if mismatch.swapped > 0 {
        "values and ids are mixed up: build each TaskResult from one task, with id: task.id \
         and value: sum_all_values(task.x)"
            .to_owned()
    } else {
        "compute each value with sum_all_values(task.x), the function as given".to_owned()
    };
    Err(Failure::wrong(
        format!("exactly one result for each of the {tasks} tasks, each with its right value"),
        parts.join("; "),
        meaning,
    )
    .with_figures(vec![figure]))
}

/// What the sampler saw, when it saw more threads than processes (threads doing the work).
fn peaks(run: &Run) -> String {
    let record = &run.execution.record;
    match (record.peak_processes, record.peak_threads) {
        (Some(processes), Some(threads)) if threads > processes => format!(
            " (at most {processes} process(es) and {threads} threads were seen alive at once)"
        ),
        _ => String::new(),
    }
}

pub(super) fn judge_pids(run: &Run) -> Result<Vec<Figure>, Failure> {
    let main = run.execution.runner_pid;
    let per_pid = oracle::results_per_pid(&run.results);
    let figure = Figure::count("distinct worker pids", per_pid.len());
    let expected = format!(
        "results computed by the {} worker processes, none by the main process (pid {main})",
        run.workers
    );
    let from_main = run.results.iter().filter(|r| r.worker_pid == main).count();
    if from_main > 0 {
        let meaning = if from_main == run.results.len() {
            format!(
                "every result was computed in the main process: the work ran in the main \
                 process itself, or in threads of it (a thread shares its process's pid). \
                 Start each worker with mp::Process, and have it compute its tasks and record \
                 mp::current_process().pid{}",
                peaks(run)
            )
        } else {
            "some results were computed in the main process: all of the work is the workers'"
                .to_owned()
        };
        return Err(Failure::wrong(
            expected,
            format!(
                "{from_main} of {} results carry pid {main}, the main process's",
                run.results.len()
            ),
            meaning,
        )
        .with_figures(vec![figure]));
    }
    if run.results.iter().any(|r| r.worker_pid == 0) {
        return Err(Failure::wrong(
            expected,
            "results with worker_pid 0",
            "0 is not a process: fill worker_pid with mp::current_process().pid, inside the \
             worker that computes the value",
        )
        .with_figures(vec![figure]));
    }
    if per_pid.len() > run.workers {
        return Err(Failure::wrong(
            expected,
            format!(
                "{} different worker pids for {} workers",
                per_pid.len(),
                run.workers
            ),
            "start exactly `workers` worker processes, each taking tasks from the queue until \
             it gets its sentinel: not one process per task",
        )
        .with_figures(vec![figure]));
    }
    Ok(vec![figure])
}

pub(super) fn judge_spread(run: &Run) -> Result<Vec<Figure>, Failure> {
    let per_pid = oracle::results_per_pid(&run.results);
    let shares = listed(&per_pid, |(pid, n)| format!("pid {pid}: {n}"));
    if run.workers < 2 || run.tasks.len() < 2 || per_pid.len() >= 2 {
        return Ok(vec![Figure::count("workers that computed", per_pid.len())]);
    }
    Err(Failure::wrong(
        format!(
            "the {} tasks shared among the {} workers (at least two of them)",
            run.tasks.len(),
            run.workers
        ),
        format!("every result came from one worker ({shares})"),
        "one worker took every task: the workers ran one after another (each was joined \
         before the next one was started, so the first took all the tasks), or only one \
         worker was started. Start every worker, put the tasks and the sentinels, collect the \
         results, and only then join",
    )
    .with_figures(vec![Figure::count("workers that computed", per_pid.len())]))
}

fn described(processes: &[ProcessSnapshot]) -> String {
    listed(processes, |p| {
        format!("{} ({}, {})", p.pid, p.comm, p.state_in_words())
    })
}

fn judge_joined(run: &Run) -> Result<Vec<Figure>, Failure> {
    let left = &run.execution.children_after;
    let figure = Figure::count("children left at return", left.len());
    if left.is_empty() {
        return Ok(vec![figure]);
    }
    let (zombies, running): (Vec<ProcessSnapshot>, Vec<ProcessSnapshot>) =
        left.iter().cloned().partition(ProcessSnapshot::is_zombie);
    let mut got = Vec::new();
    if !zombies.is_empty() {
        got.push(format!(
            "{} exited but were never joined (zombies): {}",
            zombies.len(),
            described(&zombies)
        ));
    }
    if !running.is_empty() {
        got.push(format!(
            "{} still running: {}",
            running.len(),
            described(&running)
        ));
    }
    let meaning = if running.is_empty() {
        "a worker that exited stays a zombie until its parent waits for it: join() every \
         worker before run_workers returns"
    } else {
        "run_workers returned while workers still ran: after collecting the results, join() \
         every worker (each ends once it takes its sentinel)"
    };
    Err(Failure::wrong(
        "no child of the main process left when run_workers returns",
        got.join("; "),
        meaning,
    )
    .with_figures(vec![figure]))
}

fn judge_nothing_left(run: &Run) -> Result<Vec<Figure>, Failure> {
    let left = &run.execution.record.leftovers;
    let figure = Figure::count("processes left after exit", left.len());
    if left.is_empty() {
        return Ok(vec![figure]);
    }
    Err(Failure::wrong(
        "no process of the run still alive after the main process exited",
        format!(
            "{} still alive (the harness killed them): {}",
            left.len(),
            described(left)
        ),
        "processes that outlive the program are leaks: join every worker you start before \
         run_workers returns",
    )
    .with_figures(vec![figure]))
}
