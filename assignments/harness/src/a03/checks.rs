//! The checks of a03-counter. Each runs the runner on a seeded scenario and applies one or
//! more judges; a judge names the likely mistake when it fails.

use crate::a03::oracle::{self, Inputs, Total};
use crate::a03::protocol::{Call, Counted, Release, Report, Scenario};
use crate::checks::{
    AssignmentChecks, CheckContext, CheckDef, Execution, Failure, Judgement, execute, repeat,
};
use crate::procfs::ProcessSnapshot;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// The checks of the manifest's `a03-counter` entry.
pub const CHECKS: AssignmentChecks = AssignmentChecks {
    assignment: "a03-counter",
    checks: &[
        CheckDef {
            id: "single-worker",
            run: single_worker,
        },
        CheckDef {
            id: "per-process-counts",
            run: per_process_counts,
        },
        CheckDef {
            id: "real-processes",
            run: real_processes,
        },
        CheckDef {
            id: "workers-joined",
            run: workers_joined,
        },
        CheckDef {
            id: "no-lost-updates",
            run: no_lost_updates,
        },
        CheckDef {
            id: "no-lost-updates-crowded",
            run: no_lost_updates,
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
    counted: Counted,
}

/// A judge looks at one run and passes (with figures) or names the mistake.
type Judge = fn(&Run) -> Result<Vec<Figure>, Failure>;

fn single_worker(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_total, judge_slots])
}

fn per_process_counts(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_slots])
}

fn real_processes(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_processes])
}

fn workers_joined(ctx: &CheckContext<'_>) -> Judgement {
    judged(ctx, &[judge_joined])
}

/// Exact results on every run, with real processes (the race is between processes), which
/// wait for the counter's lock while the runner holds it.
fn no_lost_updates(ctx: &CheckContext<'_>) -> Judgement {
    judged(
        ctx,
        &[
            judge_processes_first,
            judge_lock_respected,
            judge_total,
            judge_slots,
        ],
    )
}

/// Runs every repetition and applies `judges` in order to each run.
fn judged(ctx: &CheckContext<'_>, judges: &[Judge]) -> Judgement {
    let mut index = 0;
    repeat(ctx, |seed| {
        let run = run_once(ctx, seed, index)?;
        index += 1;
        let mut figures = run.execution.figures();
        for judge in judges {
            figures.extend(judge(&run).map_err(|failure| run.execution.fail(failure))?);
        }
        Ok(figures)
    })
}

fn run_once(ctx: &CheckContext<'_>, seed: Seed, index: u32) -> Result<Run, Failure> {
    let inputs = Inputs::from_table(&ctx.check.inputs).map_err(|why| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("invalid inputs in the manifest: {why}"),
        })
    })?;
    let scenario = oracle::scenario(&inputs, seed, oracle::machine_cores(), index);
    let execution: Execution<Report> = execute(ctx, &scenario)?;
    if let Some(Err(why)) = &execution.report.lock_hold {
        return Err(execution.fail(Failure::new(Verdict::CouldNotRun {
            why: format!("the runner could not set the run up: {why}"),
        })));
    }
    let counted = match &execution.report.counted {
        Ok(counted) => counted.clone(),
        Err(error) => {
            let meaning = if error.contains("panicked") {
                "a worker panicked: its message is in the error. A worker that cannot take the \
                 lock or record its count should panic with the reason (join() hands it back \
                 to the main process as ProcessError::Panicked)"
            } else {
                "the error says what failed; a correct solution returns Ok for any number of \
                 workers from 1 to 64"
            };
            return Err(execution.fail(Failure::wrong(
                format!("Ok with the counts of {}", work(&scenario)),
                format!("{} returned an error: {error}", called(&scenario)),
                meaning,
            )));
        }
    };
    Ok(Run {
        scenario,
        execution,
        counted,
    })
}

/// The student's function a run calls.
fn called(scenario: &Scenario) -> &'static str {
    match scenario.call {
        Call::CountInProcesses => "count_in_processes",
        Call::RunWorkers { .. } => "run_workers",
    }
}

fn work(scenario: &Scenario) -> String {
    let workers = match scenario.workers {
        1 => "1 worker".to_owned(),
        many => format!("{many} workers"),
    };
    format!("{workers} × {} increments", scenario.increments)
}

fn judge_total(run: &Run) -> Result<Vec<Figure>, Failure> {
    let scenario = &run.scenario;
    let expected = oracle::expected_total(scenario);
    let total = run.counted.total;
    let recorded: u64 = run.counted.per_process.iter().sum();
    let figures = vec![
        Figure::count("expected total", expected as usize),
        Figure::count("total", total as usize),
    ];
    let expected_text = format!("the counter at {expected} ({})", work(scenario));
    let (got, meaning) = match oracle::compare_total(scenario, &run.counted) {
        Total::Exact => return Ok(figures),
        Total::LostUpdates { lost } => (
            format!(
                "{total}: {lost} increments lost, although the workers' own counts add up to \
                 {expected}"
            ),
            "lost updates: two processes read the same value and both wrote back that value \
             plus one. `counter.store(counter.load() + 1)` is two steps, and another process \
             can run between them. Make each increment one step no other process can split: \
             `*counter.get_lock()? += 1` (the lesson's `with counter.get_lock(): \
             counter.value += 1`). Every worker must take that same lock, the Value's own (a \
             Lock a worker creates for itself excludes nobody), and hold it across the read and \
             the write (`let _ = counter.get_lock()?;` releases it at once)"
                .to_owned(),
        ),
        Total::NeverReached => (
            "0: no increment reached the counter the main process reads".to_owned(),
            "one of two mistakes. (1) Each worker incremented a counter of its own: a Value \
             created inside the worker, or a plain variable, which a process only changes in \
             its own copy of memory. Create the Value once, in the main process, before \
             starting any worker, and move a clone of it into each worker's closure. (2) The \
             increments were written with `counter.store(..)` while holding \
             `counter.get_lock()`'s guard: the guard writes its own copy back when it drops, \
             undoing them. Change the value through the guard: `*guard += 1`"
                .to_owned(),
        ),
        Total::Short { missing } => (
            format!("{total}: {missing} short, and the workers' own counts add up to {recorded}"),
            "increments are missing: every worker must make all its increments, and the main \
             process must join every worker before it reads the counter"
                .to_owned(),
        ),
        Total::Over { extra } => (
            format!("{total}: {extra} too many"),
            "more increments than asked: each worker adds 1 exactly `increments` times, to a \
             counter that starts at 0"
                .to_owned(),
        ),
    };
    Err(Failure::wrong(expected_text, got, meaning).with_figures(figures))
}

fn judge_slots(run: &Run) -> Result<Vec<Figure>, Failure> {
    let scenario = &run.scenario;
    let slots = &run.counted.per_process;
    let n = scenario.increments;
    let expected = format!(
        "{} counts, one per worker, each {n} (worker i's in slot i)",
        scenario.workers
    );
    if slots.len() != scenario.workers {
        return Err(Failure::wrong(
            expected,
            format!("{} counts", slots.len()),
            "create the Array with one slot per worker, `mp::Array::new(workers, 0u64)`, and \
             return its contents, `counts.to_vec()`, after joining the workers",
        ));
    }
    let wrong = oracle::wrong_slots(scenario, &run.counted);
    if wrong.is_empty() {
        return Ok(vec![Figure::count("worker counts", slots.len())]);
    }
    let shown: Vec<String> = wrong
        .iter()
        .take(6)
        .map(|(slot, count)| format!("slot {slot} = {count}"))
        .collect();
    let more = wrong.len().saturating_sub(shown.len());
    let got = if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    };
    let recorded: u64 = slots.iter().sum();
    let meaning = if slots.iter().all(|count| *count == 0) {
        "no count reached the main process: each worker writes its count into its own slot of \
         the shared Array, which was cloned into its closure before start \
         (`counts.store(slot, ...)`). A Vec or a variable a worker changes is its own copy"
    } else if recorded == oracle::expected_total(scenario) {
        "the counts are in the wrong slots: give each worker its index, and have worker i \
         write slot i only"
    } else {
        "each worker records in its own slot how many increments it made: exactly \
         `increments`"
    };
    Err(Failure::wrong(expected, got, meaning))
}

fn judge_processes(run: &Run) -> Result<Vec<Figure>, Failure> {
    let workers = run.scenario.workers;
    let record = &run.execution.record;
    let mut figures = Vec::new();
    if let Some(threads) = record.peak_threads {
        figures.push(Figure::count("peak threads", threads));
    }
    let Some(forks) = run.execution.report.forks else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: "the runner could not count the processes the code started".to_owned(),
        }));
    };
    figures.push(Figure::count("processes started", forks as usize));
    if forks >= workers as u64 {
        return Ok(figures);
    }
    let expected = format!("at least {workers} processes started, one per worker");
    let seen = match (record.peak_processes, record.peak_threads) {
        (Some(processes), Some(threads)) if threads > processes => format!(
            " (at one moment {threads} threads ran in {processes} process{})",
            if processes == 1 { "" } else { "es" }
        ),
        _ => String::new(),
    };
    if forks == 0 {
        return Err(Failure::wrong(
            expected,
            format!("no process was started{seen}"),
            "the workers ran inside the main process, as threads or one after another: start \
             each worker as a process, `mp::Process::new(...)` then `start()`. Threads share \
             memory and would not need a Value at all; processes do not, and sharing a \
             counter between them is what this assignment is about",
        )
        .with_figures(figures));
    }
    Err(Failure::wrong(
        expected,
        format!("{forks} processes started{seen}"),
        "some workers did not run in processes of their own: start one mp::Process per worker",
    )
    .with_figures(figures))
}

/// [`judge_processes`], for checks that only count runs made of real processes.
fn judge_processes_first(run: &Run) -> Result<Vec<Figure>, Failure> {
    judge_processes(run).map_err(|failure| match failure.verdict {
        Verdict::WrongAnswer {
            expected,
            got,
            meaning,
        } => Failure::wrong(
            expected,
            got,
            format!("{meaning} (this check counts runs made of real processes only)"),
        )
        .with_figures(failure.figures),
        other => Failure::new(other).with_figures(failure.figures),
    })
}

fn pids(processes: &[ProcessSnapshot]) -> String {
    let shown: Vec<String> = processes
        .iter()
        .map(|p| format!("{} ({}, {})", p.pid, p.comm, p.state_in_words()))
        .collect();
    shown.join(", ")
}

fn judge_joined(run: &Run) -> Result<Vec<Figure>, Failure> {
    let left = &run.execution.children_after;
    let leftovers = &run.execution.record.leftovers;
    let figures = vec![
        Figure::count("children left at return", left.len()),
        Figure::count("processes left after exit", leftovers.len()),
    ];
    if left.is_empty() && leftovers.is_empty() {
        return Ok(figures);
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
            "{} still running at return: {}",
            running.len(),
            pids(&running)
        ));
    }
    if !leftovers.is_empty() {
        got.push(format!(
            "{} still alive after the program ended (the harness killed them): {}",
            leftovers.len(),
            pids(leftovers)
        ));
    }
    Err(Failure::wrong(
        "every worker joined before count_in_processes returns, none left behind",
        got.join("; "),
        "join() every Process before reading the results: join waits for the worker to \
         finish its increments, and reaps it (an exited child nobody joins stays a zombie)",
    )
    .with_figures(figures))
}

fn judge_lock_respected(run: &Run) -> Result<Vec<Figure>, Failure> {
    if !run.scenario.call.holds_lock() {
        return Ok(Vec::new());
    }
    let hold = match &run.execution.report.lock_hold {
        Some(Ok(hold)) => *hold,
        Some(Err(why)) => {
            return Err(Failure::new(Verdict::CouldNotRun {
                why: format!("the runner could not hold the counter's lock: {why}"),
            }));
        }
        None => {
            return Err(Failure::new(Verdict::CouldNotRun {
                why: "the runner did not report its hold of the counter's lock".to_owned(),
            }));
        }
    };
    let held = std::time::Duration::from_micros(hold.held_micros);
    let figures = vec![Figure::time("lock held by the harness at start", held)];
    if hold.seen == 0 {
        return Ok(figures);
    }
    let why = match hold.released {
        Release::ChangeSeen | Release::WorkersWaiting => "",
        Release::Limit => " (until the hold's time limit)",
        Release::Returned => " (until run_workers returned)",
    };
    Err(Failure::wrong(
        "the counter unchanged at 0 while the harness held its lock: workers that take the \
         lock wait for it",
        format!(
            "the counter changed to {} while the harness held its lock{why}, {} ms after the \
             start",
            hold.seen,
            held.as_millis()
        ),
        "the workers change the counter without holding its lock: `counter.store(counter.load() \
         + 1)` takes no lock, and a Lock a worker creates for itself excludes nobody. Take the \
         counter's own lock for every increment, `*counter.get_lock()? += 1`: then your \
         workers wait while anybody else holds it, as they must",
    )
    .with_figures(figures))
}
