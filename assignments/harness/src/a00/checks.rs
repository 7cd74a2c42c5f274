//! The checks of a00-process. Each runs the runner on a seeded scenario and applies one or
//! more judges; a judge names the likely mistake when it fails.

use std::time::Duration;

use crate::a00::oracle::{self, Inputs};
use crate::a00::protocol::{Report, Scenario, WorkerFact};
use crate::checks::{
    AssignmentChecks, CheckContext, CheckDef, Execution, Failure, Judgement, execute, repeat,
};
use crate::manifest::CheckKind;
use crate::procfs::ProcessSnapshot;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// The checks of the manifest's `a00-process` entry.
pub const CHECKS: AssignmentChecks = AssignmentChecks {
    assignment: "a00-process",
    checks: &[
        CheckDef {
            id: "one-report-per-name",
            run: one_report_per_name,
        },
        CheckDef {
            id: "distinct-pids",
            run: distinct_pids,
        },
        CheckDef {
            id: "parent-pid",
            run: parent_pid,
        },
        CheckDef {
            id: "children-reaped",
            run: children_reaped,
        },
        CheckDef {
            id: "ran-concurrently",
            run: ran_concurrently,
        },
        CheckDef {
            id: "nothing-left-running",
            run: nothing_left_running,
        },
        CheckDef {
            id: "many-workers",
            run: many_workers,
        },
    ],
    validate_inputs,
};

fn validate_inputs(table: &toml::Table) -> Result<(), String> {
    Inputs::from_table(table).map(|_| ())
}

/// One run's scenario and what came back.
struct Run {
    scenario: Scenario,
    execution: Execution<Report>,
    facts: Vec<WorkerFact>,
}

/// A judge looks at one run and passes (with figures) or names the mistake.
type Judge = fn(&CheckContext<'_>, &Run) -> Result<Vec<Figure>, Failure>;

fn one_report_per_name(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_names])
}

fn distinct_pids(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_pids])
}

fn parent_pid(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_parents])
}

fn children_reaped(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_reaped])
}

fn ran_concurrently(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_overlap])
}

fn nothing_left_running(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_nothing_left])
}

fn many_workers(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_names, judge_pids, judge_parents])
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

fn run_once(ctx: &CheckContext<'_>, seed: Seed) -> Result<Run, Failure> {
    let inputs = Inputs::from_table(&ctx.check.inputs).map_err(|why| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("invalid inputs in the manifest: {why}"),
        })
    })?;
    let scenario = oracle::scenario(&inputs, seed);
    let execution: Execution<Report> = execute(ctx, &scenario)?;
    let facts = match &execution.report.workers {
        Ok(facts) => facts.clone(),
        Err(error) => {
            return Err(execution.fail(Failure::wrong(
                format!("{} worker reports", scenario.names.len()),
                format!("start_workers returned an error: {error}"),
                "the error says what failed: a worker that panicked comes back from join() \
                 with its message; a report that never arrived shows as a channel error",
            )));
        }
    };
    Ok(Run {
        scenario,
        execution,
        facts,
    })
}

fn quoted(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(6).map(|n| format!("{n:?}")).collect();
    let more = names.len().saturating_sub(6);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn pids(processes: &[ProcessSnapshot]) -> String {
    let shown: Vec<String> = processes
        .iter()
        .map(|p| format!("{} ({}, {})", p.pid, p.comm, p.state_in_words()))
        .collect();
    shown.join(", ")
}

fn judge_names(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    let mismatch = oracle::compare_names(&run.scenario, &run.facts);
    let reports = Figure::count("reports", run.facts.len());
    if mismatch.is_empty() {
        return Ok(vec![reports]);
    }
    let mut got = vec![format!("{} reports", run.facts.len())];
    if !mismatch.missing.is_empty() {
        got.push(format!("none from {}", quoted(&mismatch.missing)));
    }
    if !mismatch.repeated.is_empty() {
        got.push(format!("more than one from {}", quoted(&mismatch.repeated)));
    }
    if !mismatch.unknown.is_empty() {
        got.push(format!(
            "reports named {}, never given",
            quoted(&mismatch.unknown)
        ));
    }
    let meaning = if run.facts.is_empty() {
        "no report came back: each worker must send its report, and the main process must \
         receive one per worker before returning"
    } else if !mismatch.unknown.is_empty() {
        "a report's name must be the name its worker was started with \
         (Process::with_name(name), then mp::current_process().name inside the worker)"
    } else if !mismatch.repeated.is_empty() {
        "a report was sent or received twice: each worker sends exactly one report, and the \
         main process receives exactly one per worker"
    } else {
        "some reports were lost: receive exactly one report per worker before returning"
    };
    Err(Failure::wrong(
        format!(
            "exactly one report for each of the {} names",
            run.scenario.names.len()
        ),
        got.join("; "),
        meaning,
    )
    .with_figures(vec![reports]))
}

fn judge_pids(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    let main = run.execution.runner_pid;
    let expected =
        format!("a different pid for every worker, none of them {main} (the main process)");
    let from_main: Vec<String> = run
        .facts
        .iter()
        .filter(|f| f.pid == main)
        .map(|f| f.name.clone())
        .collect();
    if !from_main.is_empty() {
        return Err(Failure::wrong(
            expected,
            format!("{} reported pid {main}", quoted(&from_main)),
            "that is the main process's own pid: those reports were made in the main process, \
             not in the workers. Build each report inside its worker's closure \
             (mp::current_process() there gives the worker's pid)",
        ));
    }
    if let Some(fact) = run.facts.iter().find(|f| f.pid == 0) {
        return Err(Failure::wrong(
            expected,
            format!("{:?} reported pid 0", fact.name),
            "0 is not a process: fill the report's pid from mp::current_process().pid",
        ));
    }
    if let Some((pid, names)) = oracle::shared_pids(&run.facts).into_iter().next() {
        return Err(Failure::wrong(
            expected,
            format!("{} all reported pid {pid}", quoted(&names)),
            "one process made several reports: start one Process per name, and have each \
             report only for itself",
        ));
    }
    Ok(vec![Figure::count("distinct worker pids", run.facts.len())])
}

fn judge_parents(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    let main = run.execution.runner_pid;
    let wrong: Vec<&WorkerFact> = run.facts.iter().filter(|f| f.parent_pid != main).collect();
    let Some(first) = wrong.first() else {
        return Ok(Vec::new());
    };
    let harness = std::process::id();
    let meaning = if wrong.iter().all(|f| f.parent_pid == f.pid) {
        "the workers reported their own pid as their parent's: parent_pid is \
         mp::current_process().parent_pid"
    } else if first.parent_pid == harness || first.parent_pid == 0 {
        // 0: the grader runs the main process in a PID namespace whose parent is outside
        // it, and a parent outside the namespace reads as pid 0.
        "that is the main process's parent: the parent pid was read in the main process, \
         not inside the worker"
    } else if first.parent_pid == 1 {
        "1 is what a worker sees after its parent exited (it was orphaned and adopted by \
         init): read the parent pid in the worker while the main process waits for it"
    } else {
        "read the parent pid inside the worker: mp::current_process().parent_pid"
    };
    let examples: Vec<String> = wrong
        .iter()
        .take(4)
        .map(|f| format!("{:?} said {}", f.name, f.parent_pid))
        .collect();
    Err(Failure::wrong(
        format!("every parent pid = {main} (the main process, which started the workers)"),
        format!("{} wrong: {}", wrong.len(), examples.join(", ")),
        meaning,
    ))
}

fn judge_reaped(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
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
            "{} exited but never joined (zombies): {}",
            zombies.len(),
            pids(&zombies)
        ));
    }
    if !running.is_empty() {
        got.push(format!(
            "{} still running: {}",
            running.len(),
            pids(&running)
        ));
    }
    let meaning = if running.is_empty() {
        "a process that exited stays a zombie until its parent waits for it: call join() \
         on every Process before start_workers returns"
    } else {
        "start_workers returned while its workers still ran: call join() on every Process \
         (join waits for the process to end, and reaps it)"
    };
    Err(Failure::wrong(
        "no child of the main process left when start_workers returns",
        got.join("; "),
        meaning,
    )
    .with_figures(vec![figure]))
}

fn judge_overlap(ctx: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
    let CheckKind::Concurrency {
        max_fraction_of_sequential,
    } = ctx.check.kind
    else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: format!(
                "{} must be a concurrency check in the manifest",
                ctx.check.id
            ),
        }));
    };
    // Only a correct run is timed: returning fake reports at once must not look concurrent.
    for judge in [judge_names, judge_pids, judge_parents] {
        judge(ctx, run).map_err(|failure| match failure.verdict {
            Verdict::WrongAnswer {
                expected,
                got,
                meaning,
            } => Failure::wrong(
                expected,
                got,
                format!("{meaning} (this check times correct runs only)"),
            ),
            other => Failure::new(other),
        })?;
    }
    let workers = run.scenario.names.len();
    let work = Duration::from_millis(run.scenario.work_ms);
    let sequential = oracle::sequential_time(&run.scenario);
    let limit = sequential.mul_f64(max_fraction_of_sequential);
    let wall = run.execution.record.wall;
    let ms = |d: Duration| d.as_millis();
    let figures = vec![
        Figure::time("sequential time", sequential),
        Figure::time("limit", limit),
        Figure::ratio(
            "wall / sequential",
            wall.as_secs_f64() / sequential.as_secs_f64(),
        ),
    ];
    if wall < work {
        return Err(Failure::wrong(
            format!(
                "at least {} ms: every worker works {} ms",
                ms(work),
                ms(work)
            ),
            format!("start_workers returned after {} ms", ms(wall)),
            "start_workers returned before its workers finished their work: join every \
             process before returning",
        )
        .with_figures(figures));
    }
    if wall < limit {
        return Ok(figures);
    }
    let seen = run
        .execution
        .record
        .peak_processes
        .map(|peak| {
            format!(
                " At most {peak} processes were alive at once; all workers at once would be {}.",
                workers + 1
            )
        })
        .unwrap_or_default();
    let meaning = if wall.as_secs_f64() >= 0.85 * sequential.as_secs_f64() {
        format!(
            "the workers ran one after another: {workers} × {} ms = {} ms. Start every \
             process first, then join them all (a join right after each start waits for \
             that worker before the next one starts).{seen}",
            ms(work),
            ms(sequential)
        )
    } else {
        format!(
            "the workers only partly overlapped: start them all before joining any, and do \
             nothing slow between the starts.{seen}"
        )
    };
    Err(Failure::wrong(
        format!(
            "under {} ms ({max_fraction_of_sequential} × {workers} workers × {} ms)",
            ms(limit),
            ms(work)
        ),
        format!("{} ms", ms(wall)),
        meaning,
    )
    .with_figures(figures))
}

fn judge_nothing_left(_: &CheckContext<'_>, run: &Run) -> Result<Vec<Figure>, Failure> {
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
            pids(left)
        ),
        "processes that outlive the program are leaks: join every Process you start before \
         returning",
    )
    .with_figures(vec![figure]))
}
