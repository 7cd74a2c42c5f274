//! The checks of a05-pool. Each runs the runner on a seeded scenario and applies one or more
//! judges; a judge names the likely mistake when it fails.
//!
//! What the judges see comes from the course's code only (see [`crate::a05`]): the list the
//! student's function returned, every call of the tests' `sum_all_values` recorded in the
//! worker that made it, when the runner handed each input over, and when `log_result` was
//! called. A judge that orders events (jobs at the same time, a result before the last input)
//! first checks the results, so faking results cannot make a run look concurrent.

use std::time::Duration;

use crate::a05::oracle::{self, Inputs};
use crate::a05::protocol::{Report, Scenario};
use crate::a05::speedup;
use crate::checks::{
    AssignmentChecks, CheckContext, CheckDef, Execution, Failure, Judgement, execute, repeat,
};
use crate::manifest::CheckKind;
use crate::procfs::ProcessSnapshot;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// The checks of the manifest's `a05-pool` entry.
pub const CHECKS: AssignmentChecks = AssignmentChecks {
    assignment: "a05-pool",
    checks: &[
        CheckDef {
            id: "every-result-once",
            run: every_result_once,
        },
        CheckDef {
            id: "nothing-left-running",
            run: nothing_left_running,
        },
        CheckDef {
            id: "jobs-ran-at-once",
            run: jobs_ran_at_once,
        },
        CheckDef {
            id: "speedup",
            run: speedup::speedup,
        },
        CheckDef {
            id: "jobs-added-while-running",
            run: jobs_added_while_running,
        },
        CheckDef {
            id: "results-before-last-input",
            run: results_before_last_input,
        },
        CheckDef {
            id: "many-jobs-edge-values",
            run: many_jobs_edge_values,
        },
        CheckDef {
            id: "inputs-in-bursts",
            run: inputs_in_bursts,
        },
    ],
    validate_inputs,
};

fn validate_inputs(table: &toml::Table) -> Result<(), String> {
    Inputs::from_table(table).map(|_| ())
}

/// One run's scenario and what came back.
pub(crate) struct Run {
    pub(crate) scenario: Scenario,
    pub(crate) execution: Execution<Report>,
}

impl Run {
    fn report(&self) -> &Report {
        &self.execution.report
    }

    pub(crate) fn inputs(&self) -> &[u64] {
        match &self.scenario {
            Scenario::AllAtOnce { inputs, .. }
            | Scenario::OverTime { inputs, .. }
            | Scenario::Sequential { inputs } => inputs,
            Scenario::Calibrate { .. } | Scenario::Machine { .. } => &[],
        }
    }

    fn processes(&self) -> usize {
        match &self.scenario {
            Scenario::AllAtOnce { processes, .. } | Scenario::OverTime { processes, .. } => {
                *processes
            }
            Scenario::Sequential { .. } | Scenario::Calibrate { .. } | Scenario::Machine { .. } => {
                1
            }
        }
    }

    fn over_time(&self) -> bool {
        matches!(self.scenario, Scenario::OverTime { .. })
    }

    /// The results as the student delivered them: the returned list, or what `log_result`
    /// received.
    fn results(&self) -> Vec<u64> {
        if self.over_time() {
            self.report().arrivals.iter().map(|a| a.value).collect()
        } else {
            self.report().returned.clone().unwrap_or_default()
        }
    }

    /// Milliseconds from the student's call to `at_ns`.
    fn ms_after_call(&self, at_ns: u64) -> u64 {
        at_ns.saturating_sub(self.report().called_at_ns) / 1_000_000
    }
}

/// A judge looks at one run and passes (with figures) or names the mistake.
pub(crate) type Judge = fn(&CheckContext<'_>, &Run) -> Result<Vec<Figure>, Failure>;

/// What makes a run correct: the results, the jobs behind them, and (over time) when the
/// results were logged. Timing and ordering judges apply only to runs that pass these.
pub(crate) const CORRECT: &[Judge] = &[judge_results, judge_runs, judge_arrivals];

fn every_result_once(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_results, judge_runs])
}

fn nothing_left_running(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_nothing_left])
}

fn jobs_ran_at_once(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_overlap])
}

fn jobs_added_while_running(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_overlap])
}

fn results_before_last_input(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_first_result_before_last_input])
}

fn many_jobs_edge_values(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_results, judge_runs])
}

fn inputs_in_bursts(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_first_result_before_last_input])
}

/// Runs every repetition and applies `judges` in order to each run.
fn judged(ctx: &CheckContext<'_>, judges: &[Judge]) -> Judgement {
    repeat(ctx, |seed| {
        let run = run_once(ctx, seed)?;
        let mut figures = run.execution.figures();
        for judge in judges {
            figures.extend(judge(ctx, &run).map_err(|failure| run.execution.fail(failure))?);
        }
        Ok(figures)
    })
}

fn could_not_run(why: String) -> Failure {
    Failure::new(Verdict::CouldNotRun { why })
}

/// The check's inputs, decoded.
pub(crate) fn inputs(ctx: &CheckContext<'_>) -> Result<Inputs, Failure> {
    Inputs::from_table(&ctx.check.inputs)
        .map_err(|why| could_not_run(format!("invalid inputs in the manifest: {why}")))
}

fn run_once(ctx: &CheckContext<'_>, seed: Seed) -> Result<Run, Failure> {
    let inputs = inputs(ctx)?;
    let scenario = oracle::scenario(&inputs, seed).ok_or_else(|| {
        could_not_run(format!(
            "{} has speedup inputs but is not the speedup check",
            ctx.check.id
        ))
    })?;
    run_scenario(ctx, scenario)
}

/// Runs `scenario` once; an error returned by the student's function fails the run.
pub(crate) fn run_scenario(ctx: &CheckContext<'_>, scenario: Scenario) -> Result<Run, Failure> {
    let execution: Execution<Report> = execute(ctx, &scenario)?;
    if let Err(error) = &execution.report.returned {
        let function = match scenario {
            Scenario::OverTime { .. } => "add_jobs_while_running",
            Scenario::AllAtOnce { .. }
            | Scenario::Sequential { .. }
            | Scenario::Calibrate { .. }
            | Scenario::Machine { .. } => "apply_async_with_callback",
        };
        return Err(execution.fail(Failure::wrong(
            "the results of every job",
            format!("{function} returned an error: {error}"),
            "the error says what failed: Closed means a job was submitted after close(), \
             StillRunning that join() was called before close()",
        )));
    }
    Ok(Run {
        scenario,
        execution,
    })
}

/// Up to six items, then how many more.
fn listed<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    let shown = items.iter().take(6).cloned().collect::<Vec<_>>().join(", ");
    match items.len().saturating_sub(6) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

fn judge_results(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    let inputs = run.inputs();
    let values = run.results();
    let tally = oracle::tally(inputs, &values);
    let figure = Figure::count("results", values.len());
    if tally.is_empty() {
        return Ok(vec![figure]);
    }
    let runs = oracle::tally_runs(inputs, &run.report().task_runs, run.execution.runner_pid);
    let (delivered, expected) = if run.over_time() {
        (
            "log_result received",
            format!(
                "log_result called once with the result of each of the {} inputs",
                inputs.len()
            ),
        )
    } else {
        (
            "the returned list held",
            format!(
                "the returned list holding the result of each of the {} inputs once",
                inputs.len()
            ),
        )
    };
    let mut got = vec![format!("{delivered} {} results", values.len())];
    if !tally.missing.is_empty() {
        got.push(format!(
            "none for {} input(s): {}",
            tally.missing.len(),
            listed(&tally.missing)
        ));
    }
    if !tally.repeated.is_empty() {
        got.push(format!(
            "more than once for {}",
            listed(
                tally
                    .repeated
                    .iter()
                    .map(|(x, n)| format!("{x} ({n} times)"))
            )
        ));
    }
    if !tally.unknown.is_empty() {
        got.push(format!(
            "values that are no input's result: {}",
            listed(&tally.unknown)
        ));
    }
    let meaning = if values.is_empty() && run.over_time() {
        "log_result was never called: give every job log_result as its callback \
         (pool.apply_async_callback(sum_all_values, x, log_result.clone()))"
            .to_owned()
    } else if values.is_empty() {
        "no result reached the list you returned: the callback must push each result into a \
         list it shares with your function (an Arc<Mutex<Vec<u64>>> cloned into each \
         callback, or a Mutex<Vec<u64>> borrowed inside pool.scope), and the list must be read \
         only after pool.close() then pool.join(): before that the jobs are still running, \
         and returning without join() drops the pool, which terminates them"
            .to_owned()
    } else if !tally.unknown.is_empty() {
        "record exactly the value each callback receives: it is sum_all_values of that \
         job's input"
            .to_owned()
    } else if !tally.repeated.is_empty() && !runs.extra.is_empty() {
        format!(
            "every result came from a job that ran more than once ({} computed {} times): each \
             input must be submitted once. A second apply_async for the same input (say, to \
             get a handle besides the callback) runs the job a second time",
            runs.extra[0].0, runs.extra[0].1
        )
    } else if !tally.repeated.is_empty() {
        "the pool calls each job's callback exactly once, so a result that appears twice \
         was recorded twice: record each result in the callback only"
            .to_owned()
    } else if run.over_time() {
        "some results never reached log_result: take every input from the iterator, submit \
         each one, then close() and join() the pool before returning. Returning without \
         join() drops the pool, which terminates the jobs still running (as leaving \
         Python's `with Pool()` block does)"
            .to_owned()
    } else {
        "some results never reached the list: call pool.close() then pool.join() before \
         reading the list, and return it after that. Returning without join() drops the \
         pool, which terminates the jobs still running (as leaving Python's `with Pool()` \
         block does); a copy of the list taken before join() misses the late results"
            .to_owned()
    };
    Err(Failure::wrong(expected, got.join("; "), meaning).with_figures(vec![figure]))
}

fn judge_runs(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    let report = run.report();
    let main = run.execution.runner_pid;
    let runs = oracle::tally_runs(run.inputs(), &report.task_runs, main);
    let workers: std::collections::BTreeSet<u32> = report
        .task_runs
        .iter()
        .map(|r| r.pid)
        .filter(|pid| *pid != main)
        .collect();
    let figures = vec![
        Figure::count("jobs run", report.task_runs.len()),
        Figure::count("worker processes used", workers.len()),
    ];
    let expected = "every input computed once, by the sum_all_values given to you, in a pool \
                    worker";
    if !runs.in_main.is_empty() {
        return Err(Failure::wrong(
            expected,
            format!(
                "sum_all_values ran in the main process (pid {main}) for {}",
                listed(&runs.in_main)
            ),
            "each job must run in a pool worker: submit sum_all_values to the pool \
             (pool.apply_async_callback(sum_all_values, x, ...)) instead of calling it \
             yourself",
        )
        .with_figures(figures));
    }
    if !runs.never.is_empty() {
        return Err(Failure::wrong(
            expected,
            format!(
                "the sum_all_values you were given never ran for {}",
                listed(&runs.never)
            ),
            "submit the function your function receives as its `sum_all_values` parameter: \
             the tests watch that one (a sum computed another way cannot be seen to run in \
             the pool)",
        )
        .with_figures(figures));
    }
    if let Some((x, times)) = runs.extra.first() {
        return Err(Failure::wrong(
            expected,
            format!(
                "{x} was computed {times} times ({} input(s) computed more often than given)",
                runs.extra.len()
            ),
            "submit each input once: every apply_async (with or without callback) runs one \
             more job",
        )
        .with_figures(figures));
    }
    Ok(figures)
}

fn judge_arrivals(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    if !run.over_time() {
        return Ok(Vec::new());
    }
    let report = run.report();
    let early = oracle::premature_arrivals(&report.task_runs, &report.arrivals);
    let Some((input, at, finished)) = early.first() else {
        return Ok(Vec::new());
    };
    let when = match finished {
        Some(finished) => format!(
            "{} ms before its job finished",
            finished.saturating_sub(*at) / 1_000_000
        ),
        None => "with no finished job behind it".to_owned(),
    };
    Err(Failure::wrong(
        "each result logged after the job that computed it finished",
        format!(
            "the result of {input} was logged {when} ({} such result(s))",
            early.len()
        ),
        "call log_result only with what a job's callback receives: the pool calls the \
         callback once the job's result is back",
    ))
}

/// Applies the correctness judges, marking a failure as the reason a timing or ordering
/// judge did not look further.
pub(crate) fn require_correct(ctx: &CheckContext<'_>, run: &Run) -> Result<(), Failure> {
    for judge in CORRECT {
        judge(ctx, run).map_err(|failure| match failure.verdict {
            Verdict::WrongAnswer {
                expected,
                got,
                meaning,
            } => Failure::wrong(
                expected,
                got,
                format!("{meaning} (this check judges correct runs only)"),
            )
            .with_figures(failure.figures),
            other => Failure::new(other),
        })?;
    }
    Ok(())
}

fn judge_overlap(ctx: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    let CheckKind::Concurrency {
        max_fraction_of_sequential,
    } = ctx.check.kind
    else {
        return Err(could_not_run(format!(
            "{} must be a concurrency check in the manifest",
            ctx.check.id
        )));
    };
    require_correct(ctx, run)?;
    let Some(overlap) = oracle::overlap(&run.report().task_runs) else {
        return Err(could_not_run("no job was recorded".to_owned()));
    };
    let fraction = overlap.fraction();
    let figures = vec![
        Figure::time("jobs' span", overlap.span),
        Figure::time("jobs' durations added up", overlap.busy),
        Figure::ratio("span / added up", fraction),
        Figure::count("most jobs at once", overlap.peak),
    ];
    if fraction < max_fraction_of_sequential {
        return Ok(figures);
    }
    let processes = run.processes();
    let ms = |d: Duration| d.as_millis();
    let meaning = match (overlap.peak <= 1, run.over_time()) {
        (true, false) => "the jobs ran one at a time: `pool.apply`, or `get()` right after \
                          each `apply_async`, waits for each job's result before the next \
                          job is submitted. Submit every job with apply_async_callback \
                          first (it returns at once), then close() and join() the pool"
            .to_owned(),
        (true, true) => "each job was added only after the previous one had finished: \
                         `pool.apply`, or `get()` right after `apply_async`, waits for the \
                         result. Add each job with apply_async_callback as its input \
                         arrives (it returns at once) and let the callback log the result, \
                         so the pool works on earlier jobs while you wait for the next input"
            .to_owned(),
        (false, _) => format!(
            "at most {} jobs ran at once, with {processes} workers asked for: create one \
             pool of `processes` workers before the loop, and do not wait for results \
             inside it",
            overlap.peak
        ),
    };
    Err(Failure::wrong(
        format!(
            "the jobs running side by side: their span under {max_fraction_of_sequential} × \
             their durations added up"
        ),
        format!(
            "a span of {} ms for {} ms of jobs ({fraction:.2})",
            ms(overlap.span),
            ms(overlap.busy)
        ),
        meaning,
    )
    .with_figures(figures))
}

fn judge_first_result_before_last_input(
    ctx: &CheckContext<'_>,
    run: &Run,
) -> Result<Vec<Figure>, Failure> {
    require_correct(ctx, run)?;
    let report = run.report();
    let (Some(first_result), Some(last_input), Some(first_job)) = (
        report.arrivals.iter().map(|a| a.at_ns).min(),
        report.taken.iter().map(|t| t.at_ns).max(),
        report.task_runs.iter().map(|r| r.started_ns).min(),
    ) else {
        return Err(could_not_run(
            "the run recorded no input, job or result".to_owned(),
        ));
    };
    let after_call = |at_ns: u64| Duration::from_millis(run.ms_after_call(at_ns));
    let figures = vec![
        Figure::time("first job started", after_call(first_job)),
        Figure::time("first result logged", after_call(first_result)),
        Figure::time("last input taken", after_call(last_input)),
    ];
    if first_result < last_input {
        return Ok(figures);
    }
    let meaning = if first_job >= last_input {
        "no job started before the last input had arrived: the inputs were all collected \
         first (say, into a Vec) and only then submitted. Submit each input as soon as the \
         iterator gives it: the pool works on it while the next one is on its way (lesson \
         5.4, Example 5)"
    } else {
        "jobs ran while the inputs arrived, but their results were logged only after the \
         last input: pass log_result as each job's callback (apply_async_callback), so each \
         result is logged as soon as its job is done, instead of collecting them with get() \
         at the end"
    };
    Err(Failure::wrong(
        "the first result logged before the last input was taken",
        format!(
            "the first result was logged {} ms after the call, the last input taken at {} ms",
            run.ms_after_call(first_result),
            run.ms_after_call(last_input)
        ),
        meaning,
    )
    .with_figures(figures))
}

fn pids(processes: &[ProcessSnapshot]) -> String {
    listed(
        processes
            .iter()
            .map(|p| format!("{} ({}, {})", p.pid, p.comm, p.state_in_words())),
    )
}

fn judge_nothing_left(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    let children = &run.execution.children_after;
    let left = &run.execution.record.leftovers;
    let figures = vec![
        Figure::count("children at return", children.len()),
        Figure::count("processes left after exit", left.len()),
    ];
    if children.is_empty() && left.is_empty() {
        return Ok(figures);
    }
    let mut got = Vec::new();
    if !children.is_empty() {
        got.push(format!(
            "{} child process(es) of the main process when apply_async_with_callback \
             returned: {}",
            children.len(),
            pids(children)
        ));
    }
    if !left.is_empty() {
        got.push(format!(
            "{} still alive after the program ended (the harness killed them): {}",
            left.len(),
            pids(left)
        ));
    }
    Err(Failure::wrong(
        "no process of the pool left once apply_async_with_callback returns",
        got.join("; "),
        "a pool's processes end when it is joined (after close()) or dropped: a pool kept \
         alive past the function (in a static, or passed to mem::forget) keeps its fork \
         server and workers running. Call close() then join() before returning",
    )
    .with_figures(figures))
}
