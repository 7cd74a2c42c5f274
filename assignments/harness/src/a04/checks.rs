//! The checks of a04-condition. Each runs the runner on a seeded scenario and applies
//! judges in order; the first that fails names the likely mistake.
//!
//! Buffer checks read only what the runner's own processes recorded (the student's code
//! reports nothing itself), so a run cannot look right without being right. The judges of a
//! buffer run look at problems in the order of their usual cause: an overfilled buffer, a
//! process that failed, a stall, more items out than in, then the exactly-once comparison.

use std::time::Duration;

use crate::a04::ledger::Phase;
use crate::a04::oracle::{self, Inputs, Mismatch};
use crate::a04::protocol::{
    DriveScenario, PipelineReport, ProcessFailure, ProcessFault, Report, Role, Round, RoundReport,
    Scenario, Stall, Who,
};
use crate::checks::{
    AssignmentChecks, CheckContext, CheckDef, Execution, Failure, Judgement, execute, repeat,
};
use crate::manifest::CheckKind;
use crate::procfs::ProcessSnapshot;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// The checks of the manifest's `a04-condition` entry.
pub const CHECKS: AssignmentChecks = AssignmentChecks {
    assignment: "a04-condition",
    checks: &[
        CheckDef {
            id: "exactly-once",
            run: drive_and_judge,
        },
        CheckDef {
            id: "fifo-order",
            run: fifo_order,
        },
        CheckDef {
            id: "never-over-capacity",
            run: drive_and_judge,
        },
        CheckDef {
            id: "no-lost-wakeup",
            run: drive_and_judge,
        },
        CheckDef {
            id: "no-busy-wait",
            run: no_busy_wait,
        },
        CheckDef {
            id: "pipeline-exactly-once",
            run: pipeline_exactly_once,
        },
        CheckDef {
            id: "every-process-exits",
            run: every_process_exits,
        },
        CheckDef {
            id: "no-lost-wakeup-many-rounds",
            run: drive_and_judge,
        },
        CheckDef {
            id: "pipeline-one-producer",
            run: pipeline_exactly_once,
        },
    ],
    validate_inputs,
};

fn validate_inputs(table: &toml::Table) -> Result<(), String> {
    Inputs::from_table(table).map(|_| ())
}

/// Drives the student's buffer and judges every round: sound (no overfill, no failed
/// process, no stall, no extra item) and each item exactly once. What differs between the
/// checks that use it is the scenario (the manifest's inputs), each built to expose one
/// mistake: contention, an overfill, a lost wakeup.
fn drive_and_judge(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let (execution, drive, rounds) = run_buffer(ctx, seed)?;
        judge_rounds(&drive, &rounds).map_err(|failure| execution.fail(failure))?;
        let mut figures = execution.figures();
        figures.extend(round_figures(&drive, &rounds));
        Ok(figures)
    })
}

fn fifo_order(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let (execution, drive, rounds) = run_buffer(ctx, seed)?;
        judge_rounds(&drive, &rounds).map_err(|failure| execution.fail(failure))?;
        judge_order(&drive, &rounds).map_err(|failure| execution.fail(failure))?;
        let mut figures = execution.figures();
        figures.extend(round_figures(&drive, &rounds));
        Ok(figures)
    })
}

fn no_busy_wait(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let (execution, drive, rounds) = run_buffer(ctx, seed)?;
        judge_rounds(&drive, &rounds).map_err(|failure| execution.fail(failure))?;
        let figures = judge_cpu(ctx, &drive, &rounds, &execution).map_err(|f| execution.fail(f))?;
        let mut all = execution.figures();
        all.extend(figures);
        Ok(all)
    })
}

fn pipeline_exactly_once(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let (execution, round, report) = run_pipeline(ctx, seed)?;
        judge_pipeline_stall(&round, &report, &execution).map_err(|f| execution.fail(f))?;
        let figures = judge_pipeline(&round, &report, execution.runner_pid)
            .map_err(|failure| execution.fail(failure))?;
        let mut all = execution.figures();
        all.extend(figures);
        Ok(all)
    })
}

fn every_process_exits(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let (execution, round, report) = run_pipeline(ctx, seed)?;
        judge_pipeline_stall(&round, &report, &execution).map_err(|f| execution.fail(f))?;
        judge_returned(&report).map_err(|failure| execution.fail(failure))?;
        let figures = judge_exits(&round, &execution).map_err(|f| execution.fail(f))?;
        let mut all = execution.figures();
        all.extend(figures);
        Ok(all)
    })
}

fn could_not_run(why: impl Into<String>) -> Failure {
    Failure::new(Verdict::CouldNotRun { why: why.into() })
}

fn scenario_of(ctx: &CheckContext<'_>, seed: Seed) -> Result<Scenario, Failure> {
    let inputs = Inputs::from_table(&ctx.check.inputs)
        .map_err(|why| could_not_run(format!("invalid inputs in the manifest: {why}")))?;
    Ok(oracle::scenario(&inputs, seed))
}

type BufferRun = (Execution<Report>, DriveScenario, Vec<RoundReport>);

fn run_buffer(ctx: &CheckContext<'_>, seed: Seed) -> Result<BufferRun, Failure> {
    let Scenario::Buffer(drive) = scenario_of(ctx, seed)? else {
        return Err(could_not_run(format!(
            "{} must drive the buffer (run = \"buffer\")",
            ctx.check.id
        )));
    };
    let execution: Execution<Report> = execute(ctx, &Scenario::Buffer(drive.clone()))?;
    match &execution.report {
        Report::Buffer { rounds } => {
            let rounds = rounds.clone();
            Ok((execution, drive, rounds))
        }
        Report::CouldNotRun { why } => Err(execution.fail(could_not_run(why.clone()))),
        Report::Pipeline(_) => Err(execution.fail(could_not_run(
            "the runner answered a buffer scenario with a pipeline report",
        ))),
    }
}

type PipelineRun = (Execution<Report>, Round, PipelineReport);

fn run_pipeline(ctx: &CheckContext<'_>, seed: Seed) -> Result<PipelineRun, Failure> {
    let Scenario::Pipeline(pipeline) = scenario_of(ctx, seed)? else {
        return Err(could_not_run(format!(
            "{} must run the pipeline (run = \"pipeline\")",
            ctx.check.id
        )));
    };
    let round = pipeline.round.clone();
    let execution: Execution<Report> = execute(ctx, &Scenario::Pipeline(pipeline))?;
    match &execution.report {
        Report::Pipeline(report) => {
            let report = report.clone();
            Ok((execution, round, report))
        }
        Report::CouldNotRun { why } => Err(execution.fail(could_not_run(why.clone()))),
        Report::Buffer { .. } => Err(execution.fail(could_not_run(
            "the runner answered a pipeline scenario with a buffer report",
        ))),
    }
}

fn round_figures(drive: &DriveScenario, rounds: &[RoundReport]) -> Vec<Figure> {
    let most_held = rounds.iter().map(|r| r.max_held).max().unwrap_or(0);
    let items: usize = drive.rounds.iter().map(Round::total).sum();
    vec![
        Figure::count("rounds", rounds.len()),
        Figure::count("items", items),
        Figure::count("most items held at once", most_held as usize),
    ]
}

// ---------------------------------------------------------------------------------------
// Buffer runs
// ---------------------------------------------------------------------------------------

fn shape(round: &Round) -> String {
    format!(
        "{} producer{}, {} consumer{}, capacity {}",
        round.items.len(),
        plural(round.items.len()),
        round.consumers,
        plural(round.consumers),
        round.capacity
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Judges every round run: the first problem found fails the check.
fn judge_rounds(drive: &DriveScenario, rounds: &[RoundReport]) -> Result<(), Failure> {
    for (number, (round, report)) in drive.rounds.iter().zip(rounds).enumerate() {
        let at = if drive.rounds.len() > 1 {
            format!(
                "round {} of {}: {}",
                number + 1,
                drive.rounds.len(),
                shape(round)
            )
        } else {
            shape(round)
        };
        judge_round(round, report, &at)?;
    }
    if rounds.len() < drive.rounds.len() {
        return Err(could_not_run(format!(
            "the runner stopped after {} of {} rounds without saying why",
            rounds.len(),
            drive.rounds.len()
        )));
    }
    Ok(())
}

fn judge_round(round: &Round, report: &RoundReport, at: &str) -> Result<(), Failure> {
    if let Some(error) = &report.create_error {
        return Err(Failure::wrong(
            format!(
                "BoundedBuffer::new({}, {}) to make a buffer",
                round.capacity,
                round.items.len()
            ),
            format!("an error: {error}"),
            "the error says what failed; new() only creates the shared objects (the \
             Condition, the Array and the Values) and fails only if the OS refuses them",
        ));
    }
    if let Some(why) = &report.harness_error {
        return Err(could_not_run(why.clone()));
    }
    if report.overfilled {
        return Err(overfilled(round, report, at));
    }
    if let Some(failure) = report.failures.first() {
        return Err(process_failed(failure, at));
    }
    if let Some(stall) = &report.stall {
        return Err(stalled(round, report, stall, at));
    }
    let got = report.consumed.iter().flatten().copied();
    let mismatch = oracle::compare(round, got);
    if report.overrun {
        return Err(Failure::wrong(
            format!("{} items out, as many as went in ({at})", round.total()),
            format!(
                "the consumers got more than {} items{}",
                round.total(),
                describe_repeats(&mismatch)
            ),
            "get() handed out items that were not there: it took from an empty buffer (a \
             consumer that wakes up must check again that an item is there, since another \
             consumer may have taken it first: wait in a `while` loop, not after an `if`), or \
             two gets read the same head because the head and count were changed without \
             holding the condition's lock",
        ));
    }
    if !mismatch.is_empty() {
        return Err(not_exactly_once(round, &mismatch, at));
    }
    if let Some(consumer) = report.ended.iter().position(|ended| !ended) {
        return Err(Failure::wrong(
            format!("every consumer's get() to return None at the end ({at})"),
            format!("consumer {consumer} never got None"),
            "once every producer is done and the buffer is empty, get() returns None",
        ));
    }
    if let Some(producer) = report.finished.iter().position(|done| !done) {
        return Err(Failure::wrong(
            format!("every producer to finish ({at})"),
            format!("producer {producer}'s producer_done() did not return"),
            "producer_done() counts the producer out and wakes the consumers; it never waits",
        ));
    }
    Ok(())
}

fn overfilled(round: &Round, report: &RoundReport, at: &str) -> Failure {
    Failure::wrong(
        format!(
            "at most {} item{} in the buffer at any time ({at})",
            round.capacity,
            plural(round.capacity)
        ),
        format!(
            "{} items were put (put() returned) and not yet asked for by any get(), at once",
            report.max_held
        ),
        "put() added an item to a full buffer. A producer woken from wait() must check \
         again that there is room: another producer may have filled the slot first, and \
         wakeups can be spurious. Wait in a `while` loop (or with wait_for), not after an \
         `if`; and read and update the count only while holding the condition's lock",
    )
    .with_figures(vec![
        Figure::count("capacity", round.capacity),
        Figure::count("most items held at once", report.max_held as usize),
    ])
}

fn who(who: &Who) -> String {
    match who.role {
        Role::Producer => format!("producer {}", who.index),
        Role::Consumer => format!("consumer {}", who.index),
    }
}

fn operation(phase: Phase) -> &'static str {
    match phase {
        Phase::Putting => "put()",
        Phase::Getting => "get()",
        Phase::Finishing => "producer_done()",
        Phase::Starting | Phase::Pausing | Phase::Done => "the buffer's code",
    }
}

fn process_failed(failure: &ProcessFailure, at: &str) -> Failure {
    let name = who(&failure.who);
    let op = operation(failure.during);
    match &failure.fault {
        ProcessFault::Panicked { message, location }
            if message.starts_with("not yet implemented") =>
        {
            Failure::new(Verdict::Panicked {
                message: message.clone(),
                location: location.clone(),
            })
        }
        ProcessFault::Panicked { message, location } => {
            let at_location = location
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            let meaning = if message.contains("subtract with overflow")
                && failure.during == Phase::Getting
            {
                "a count went below zero: get() took an item from an empty buffer. A consumer \
                 woken from wait() must check again that an item is there (another consumer may \
                 have taken it first, and wakeups can be spurious): wait in a `while` loop, not \
                 after an `if`"
            } else if message.contains("overflow") && failure.during == Phase::Putting {
                "a count or index went past its range in put(): did it add to a full buffer? \
                 Check for room in a `while` loop around wait(), and wrap indices with % capacity"
            } else if message.contains("index out of bounds") || message.contains("out of range") {
                "an index went past the end of the Array: wrap it around with % capacity, and \
                 never add to a full buffer (check for room in a `while` loop)"
            } else {
                "your code panicked there; the message and location say where"
            };
            Failure::wrong(
                format!("{op} to return ({at})"),
                format!("{name} panicked in {op}: {message}{at_location}"),
                meaning,
            )
        }
        ProcessFault::Error { message } => Failure::wrong(
            format!("put, get and producer_done to succeed ({at})"),
            format!("{name}: {message}"),
            "the error says what failed: none of these operations should fail with live \
             processes",
        ),
        ProcessFault::Signaled { signal } => {
            let (signal_name, meaning) = crate::verdict::signal_meaning(*signal);
            Failure::wrong(
                format!("{op} to return ({at})"),
                format!("{name} was killed by {signal_name} in {op}"),
                meaning,
            )
        }
        ProcessFault::Exited { code } => Failure::wrong(
            format!("{op} to return ({at})"),
            format!("{name}'s process exited with code {code} inside {op}"),
            "the buffer's methods must return to their caller, never end the process \
             (std::process::exit)",
        ),
    }
}

/// Names the processes of `waiting` in `phase`: "producers 0, 2".
fn listed(stall: &Stall, role: Role, phase: Phase) -> Option<String> {
    let indices: Vec<String> = stall
        .waiting
        .iter()
        .filter(|(w, p)| w.role == role && *p == phase)
        .map(|(w, _)| w.index.to_string())
        .collect();
    if indices.is_empty() {
        return None;
    }
    let noun = match role {
        Role::Producer => "producer",
        Role::Consumer => "consumer",
    };
    Some(format!(
        "{noun}{} {} waiting in {}",
        plural(indices.len()),
        indices.join(", "),
        operation(phase)
    ))
}

fn stalled(round: &Round, report: &RoundReport, stall: &Stall, at: &str) -> Failure {
    let consumed: usize = report.consumed.iter().map(Vec::len).sum();
    let mut places: Vec<String> = [
        (Role::Producer, Phase::Putting),
        (Role::Producer, Phase::Finishing),
        (Role::Consumer, Phase::Getting),
    ]
    .iter()
    .filter_map(|(role, phase)| listed(stall, *role, *phase))
    .collect();
    let ended = report.ended.iter().filter(|e| **e).count();
    if ended > 0 {
        places.push(format!("{ended} consumer{} already ended", plural(ended)));
    }
    let in_put = stall
        .waiting
        .iter()
        .any(|(w, p)| w.role == Role::Producer && *p == Phase::Putting);
    let in_get = stall
        .waiting
        .iter()
        .any(|(w, p)| w.role == Role::Consumer && *p == Phase::Getting);
    let in_done = stall.waiting.iter().any(|(_, p)| *p == Phase::Finishing);
    let producers_done = report.finished.iter().all(|f| *f);
    let meaning = if in_done {
        "producer_done() itself blocks: it only counts the producer out and notifies the \
         consumers, it never waits"
    } else if in_put && !in_get && ended == round.consumers {
        "every consumer ended (get() returned None) while producers still had items: get() \
         may return None only when the buffer is empty AND every producer is done. Check both \
         after every wakeup, in a `while` loop"
    } else if in_get && producers_done {
        "every producer is done, but consumers still wait: they were not all woken when the \
         last producer finished. producer_done() must notify_all() (every waiting consumer \
         must see it, not just one), and get() returns None once the buffer is empty and no \
         producer is left"
    } else {
        "a lost wakeup: every process waits for a notification nobody will send. With one \
         condition for \"not full\" and \"not empty\", notify() wakes ONE waiter, which may be \
         of the wrong kind (a producer, when only a consumer could go on): it goes back to \
         waiting, and the wakeup is lost. Call notify_all() after every change, so that every \
         waiter re-checks its own condition"
    };
    Failure::wrong(
        format!(
            "all {} items through, every process ending ({at})",
            round.total()
        ),
        format!(
            "stuck after {consumed} of {} items: no progress for {:.1} s with every process \
             asleep; {}",
            round.total(),
            stall.quiet_ms as f64 / 1000.0,
            places.join("; ")
        ),
        meaning,
    )
    .with_figures(vec![Figure::count(
        "items consumed before the stall",
        consumed,
    )])
}

fn describe_repeats(mismatch: &Mismatch) -> String {
    if mismatch.repeated.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = mismatch
        .repeated
        .iter()
        .take(3)
        .map(|(item, count)| format!("{item} {count} times"))
        .collect();
    format!(" ({})", shown.join(", "))
}

fn some_items(items: &[u64]) -> String {
    let shown: Vec<String> = items.iter().take(4).map(u64::to_string).collect();
    if items.len() > 4 {
        format!("{}, ...", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn not_exactly_once(round: &Round, mismatch: &Mismatch, at: &str) -> Failure {
    let mut got = Vec::new();
    if !mismatch.missing.is_empty() {
        got.push(format!(
            "{} never came out ({})",
            mismatch.missing.len(),
            some_items(&mismatch.missing)
        ));
    }
    if !mismatch.repeated.is_empty() {
        got.push(format!(
            "{} came out more than once{}",
            mismatch.repeated.len(),
            describe_repeats(mismatch)
        ));
    }
    if !mismatch.unknown.is_empty() {
        got.push(format!(
            "{} came out that were never put ({})",
            mismatch.unknown.len(),
            some_items(&mismatch.unknown)
        ));
    }
    let meaning = if !mismatch.unknown.is_empty() {
        "get() returned values that were never put: it read a slot that was never written \
         (the wrong index, or before put stored the item), or the Array's slots were not \
         shared (create them in new(), before the processes start)"
    } else if !mismatch.repeated.is_empty() {
        "an item came out twice: get() read a slot another get() had already taken. Every \
         get must move the head on while holding the condition's lock, and must not take from \
         an empty buffer: check for an item in a `while` loop around wait()"
    } else {
        "items were lost: a put overwrote a slot whose item was not yet taken (put into a full \
         buffer: check for room in a `while` loop around wait()), or the count and indices \
         were changed without holding the condition's lock"
    };
    Failure::wrong(
        format!("each of the {} items exactly once ({at})", round.total()),
        got.join("; "),
        meaning,
    )
}

/// With one consumer, each producer's items must come out in the order they went in.
fn judge_order(drive: &DriveScenario, rounds: &[RoundReport]) -> Result<(), Failure> {
    for (round, report) in drive.rounds.iter().zip(rounds) {
        for consumed in &report.consumed {
            if let Some(broken) = oracle::first_order_break(round, consumed) {
                return Err(Failure::wrong(
                    format!(
                        "each producer's items in the order it put them ({})",
                        shape(round)
                    ),
                    format!(
                        "after {} items, producer {}'s {} came before its {}",
                        broken.position, broken.producer, broken.got, broken.expected
                    ),
                    "a bounded buffer is first in, first out: put() writes at the tail, get() \
                     reads at the head, and both move on by one, wrapping around with % \
                     capacity",
                ));
            }
        }
    }
    Ok(())
}

/// The consumers' total lifetime, and the part of it they were runnable (on a CPU or
/// waiting for one); `None` when no consumer could record it (no schedstat).
fn consumers_runnable(rounds: &[RoundReport]) -> Option<(Duration, Duration)> {
    let times: Vec<_> = rounds
        .iter()
        .flat_map(|round| round.consumer_times.iter().flatten())
        .collect();
    if times.is_empty() {
        return None;
    }
    Some(
        times
            .iter()
            .fold((Duration::ZERO, Duration::ZERO), |(alive, runnable), t| {
                (alive + t.alive, runnable + t.on_cpu + t.waiting)
            }),
    )
}

/// How often the consumers were put on a CPU, per change of the buffer they could have been
/// woken for (every `put`, every `get` that returned, every `producer_done`), over the
/// consumers that recorded it; `None` when none could (no schedstat).
fn consumer_wakeups_per_change(drive: &DriveScenario, rounds: &[RoundReport]) -> Option<f64> {
    let (mut timeslices, mut changes) = (0u64, 0u64);
    for (round, report) in drive.rounds.iter().zip(rounds) {
        let round_changes = (2 * round.total() + round.items.len() + round.consumers) as u64;
        for times in report.consumer_times.iter().flatten() {
            timeslices += times.timeslices;
            changes += round_changes;
        }
    }
    (changes > 0).then(|| timeslices as f64 / changes as f64)
}

/// Busy waiting shows three ways, and any fails the check:
///
/// - the consumers were *runnable* (on a CPU, or in a run queue waiting for one) for more
///   than the limit's share of their lives. A process asleep in `wait()` is neither; one that
///   keeps looking is always one of the two, however loaded the machine is (on a busy
///   machine a spinning process gets little CPU, but it waits for it all the time);
/// - the whole process tree used more CPU than the limit's share of the wall time (what an
///   idle machine shows; also the only measure where the kernel keeps no schedstat);
/// - the consumers were put on a CPU more than the limit's times per change of the buffer.
///   A process in `wait()` wakes only when notified, about once per change (measured here:
///   0.2-0.9, idle or at load 14); one that polls with a short sleep uses little CPU, but
///   wakes once per poll whether or not anything changed (a 1 ms sleep: 9-15 per change).
fn judge_cpu(
    ctx: &CheckContext<'_>,
    drive: &DriveScenario,
    rounds: &[RoundReport],
    execution: &Execution<Report>,
) -> Result<Vec<Figure>, Failure> {
    let CheckKind::BusyWait {
        max_cpu_fraction,
        max_wakeups_per_change,
    } = ctx.check.kind
    else {
        return Err(could_not_run(format!(
            "{} must be a busy-wait check in the manifest",
            ctx.check.id
        )));
    };
    let record = &execution.record;
    let cpu_fraction = record.cpu.as_secs_f64() / record.wall.as_secs_f64().max(1e-6);
    let waited = drive
        .rounds
        .iter()
        .map(|r| r.items.iter().map(Vec::len).max().unwrap_or(0) as u64)
        .sum::<u64>()
        * drive.produce_us;
    let runnable = consumers_runnable(rounds);
    let runnable_fraction =
        runnable.map(|(alive, runnable)| runnable.as_secs_f64() / alive.as_secs_f64().max(1e-6));
    let mut figures = vec![
        Figure::time("CPU time", record.cpu),
        Figure::ratio("CPU / wall", cpu_fraction),
    ];
    if let Some(fraction) = runnable_fraction {
        figures.push(Figure::ratio("consumers runnable / alive", fraction));
    }
    let wakeups = consumer_wakeups_per_change(drive, rounds);
    if let Some(wakeups) = wakeups {
        figures.push(Figure::ratio("consumer wakeups per change", wakeups));
    }
    figures.push(Figure::ratio("limit", max_cpu_fraction));
    figures.push(Figure::ratio("wakeups limit", max_wakeups_per_change));
    let consumers = drive.rounds.first().map_or(0, |r| r.consumers);
    let waiting = format!(
        "the {consumers} consumers mostly wait (about {} ms) for a slow producer",
        Duration::from_micros(waited).as_millis()
    );
    const MEANING: &str = "waiting processes keep running: a loop that looks at the buffer \
         again and again (spinning on load(), or lock and unlock in a loop, with or without \
         yield) instead of sleeping in condition.wait(), which takes a \
         process off the CPU until another process notifies";
    if let (Some(fraction), Some((alive, busy))) = (runnable_fraction, runnable)
        && fraction > max_cpu_fraction
    {
        return Err(Failure::wrong(
            format!(
                "consumers runnable (on a CPU, or waiting for one) under {max_cpu_fraction} × \
                 their lifetime: {waiting}"
            ),
            format!(
                "the consumers were runnable {} ms of their {} ms ({fraction:.2} × their \
                 time): they never went to sleep",
                busy.as_millis(),
                alive.as_millis()
            ),
            MEANING,
        )
        .with_figures(figures));
    }
    if cpu_fraction > max_cpu_fraction {
        return Err(Failure::wrong(
            format!("CPU time under {max_cpu_fraction} × wall time: {waiting}"),
            format!(
                "{} ms of CPU in {} ms ({cpu_fraction:.2} × wall time)",
                record.cpu.as_millis(),
                record.wall.as_millis()
            ),
            MEANING,
        )
        .with_figures(figures));
    }
    if let Some(wakeups) = wakeups
        && wakeups > max_wakeups_per_change
    {
        return Err(Failure::wrong(
            format!(
                "consumers woken at most {max_wakeups_per_change} times per change of the \
                 buffer (a put, a get, a producer_done): {waiting}"
            ),
            format!(
                "the consumers were woken {wakeups:.1} times per change: they looked again \
                 and again while nothing had changed"
            ),
            "waiting processes poll: a loop that looks at the buffer, sleeps a little and \
             looks again (it uses little CPU, but wakes up hundreds of times a second, and \
             notices a change only at its next look) instead of sleeping in \
             condition.wait(), which wakes a process only when another one notifies",
        )
        .with_figures(figures));
    }
    Ok(figures)
}

// ---------------------------------------------------------------------------------------
// Pipeline runs
// ---------------------------------------------------------------------------------------

/// The first `todo!()` panic a process of the run printed: its message and location.
fn todo_panic(stderr: &str) -> Option<(String, Option<String>)> {
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.starts_with("not yet implemented"))?;
    let location = at
        .checked_sub(1)
        .and_then(|before| lines[before].split(" panicked at ").nth(1))
        .map(|rest| rest.trim_end_matches(':').to_owned());
    Some((lines[at].to_owned(), location))
}

/// A stall the runner's watchdog stopped: every process waited for something nobody did.
/// When a process panicked first, that is the cause: a `todo!()` reads as the stub's
/// panic, any other panic is named.
fn judge_pipeline_stall(
    round: &Round,
    report: &PipelineReport,
    execution: &Execution<Report>,
) -> Result<(), Failure> {
    let Some(stall) = &report.stall else {
        return Ok(());
    };
    let stderr = execution.record.stderr.text();
    if let Some((message, location)) = todo_panic(&stderr) {
        return Err(Failure::new(Verdict::Panicked { message, location }));
    }
    let panicked = if stderr.contains(" panicked at ") {
        "a process panicked (its message is in the stderr below), and "
    } else {
        ""
    };
    let consumed = report.consumed.len();
    Err(Failure::wrong(
        format!(
            "each of the {} items exactly once ({})",
            round.total(),
            shape(round)
        ),
        format!(
            "{panicked}stuck after {consumed} of {} items: nothing consumed for {:.1} s while \
             all {} processes slept ({} waiting on a lock or condition); the test stopped them",
            round.total(),
            stall.quiet_ms as f64 / 1000.0,
            stall.asleep,
            stall.in_futex
        ),
        "every process waits for something no other process will do. Usually a lost wakeup \
         (notify() woke one waiter of the wrong kind: after every change, notify_all()), or \
         consumers never told that the producers are done (producer_done() must \
         notify_all(), and get() returns None once the buffer is empty and no producer is \
         left), or consumers that ended too early (check the predicate in a `while` loop)",
    )
    .with_figures(vec![Figure::count(
        "items consumed before the stall",
        consumed,
    )]))
}

fn judge_returned(report: &PipelineReport) -> Result<(), Failure> {
    match &report.result {
        Ok(()) => Ok(()),
        Err(error) => Err(Failure::wrong(
            "produce_and_consume to return Ok",
            format!("an error: {error}"),
            "the error says what failed: a process that panicked comes back from join() with \
             its message",
        )),
    }
}

fn judge_pipeline(
    round: &Round,
    report: &PipelineReport,
    runner_pid: u32,
) -> Result<Vec<Figure>, Failure> {
    judge_returned(report)?;
    let at = shape(round);
    let mismatch = oracle::compare(round, report.consumed.iter().map(|(item, _)| *item));
    if report.calls > round.total() as u64 || !mismatch.is_empty() {
        let mut failure = not_exactly_once(round, &mismatch, &at);
        if report.calls > round.total() as u64
            && let Verdict::WrongAnswer { got, .. } = &mut failure.verdict
        {
            *got = format!("consume was called {} times; {got}", report.calls);
        }
        return Err(failure);
    }
    if report.consumed.iter().any(|(_, pid)| *pid == runner_pid) {
        return Err(Failure::wrong(
            format!("items consumed in {} consumer processes", round.consumers),
            "consume was called in the main process",
            "the consumers are processes: call consume inside each consumer's closure, with \
             every item its get() returns",
        ));
    }
    let mut pids: Vec<u32> = report.consumed.iter().map(|(_, pid)| *pid).collect();
    pids.sort_unstable();
    pids.dedup();
    if pids.len() > round.consumers {
        return Err(Failure::wrong(
            format!(
                "items consumed by at most {} consumer processes",
                round.consumers
            ),
            format!("{} different processes called consume", pids.len()),
            "start exactly `consumers` consumer processes; producers only put",
        ));
    }
    Ok(vec![
        Figure::count("items", round.total()),
        Figure::count("consuming processes", pids.len()),
    ])
}

fn pids(processes: &[ProcessSnapshot]) -> String {
    let shown: Vec<String> = processes
        .iter()
        .map(|p| format!("{} ({}, {})", p.pid, p.comm, p.state_in_words()))
        .collect();
    shown.join(", ")
}

fn judge_exits(round: &Round, execution: &Execution<Report>) -> Result<Vec<Figure>, Failure> {
    let left = &execution.children_after;
    let leftovers = &execution.record.leftovers;
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
            "{} ended but never joined (zombies): {}",
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
    if !leftovers.is_empty() && running.is_empty() {
        got.push(format!(
            "{} still alive after the program ended: {}",
            leftovers.len(),
            pids(leftovers)
        ));
    }
    Err(Failure::wrong(
        format!(
            "all {} producer and consumer processes ended and joined when \
             produce_and_consume returns",
            round.items.len() + round.consumers
        ),
        got.join("; "),
        "join() every process you start before returning. A consumer still running was \
         never told the producers are done: get() must return None once the buffer is empty \
         and every producer called producer_done()",
    )
    .with_figures(figures))
}
