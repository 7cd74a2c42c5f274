//! The runner's own producers and consumers around the student's buffer.
//!
//! For each round: create the student's buffer, fork the producers (each puts its items, then
//! calls `producer_done`) and the consumers (each calls `get` until `None`), and watch them
//! from the runner's main process. Every put and get is recorded in a [`Ledger`] by this
//! code, not the student's, so what the checks judge cannot be made up by the code under
//! test. The round stops early, killing its processes, when something is already known to be
//! wrong: the buffer took more than its capacity, the consumers got more items than were put,
//! a process failed (a method returned an error or panicked), or nothing happened for [`DriveScenario::stall_ms`] while every process slept (a lost
//! wakeup leaves exactly that: everyone waiting for a notification nobody will send).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use crate::a04::asleep::all_asleep;
use crate::a04::ledger::{Ending, Ledger, Phase, ProcessTimes};
use crate::a04::protocol::{
    DriveScenario, ProcessFailure, ProcessFault, Role, Round, RoundReport, Stall, Who,
};
use crate::procfs;
use crate::runner::{last_panic_location, panic_message};

/// What the driver needs of the student's buffer; the a04 runner implements it on the
/// student's `BoundedBuffer`. Errors come as text (the error and its causes).
pub trait Buffer {
    /// `BoundedBuffer::put`.
    fn put(&self, item: u64) -> Result<(), String>;
    /// `BoundedBuffer::get`.
    fn get(&self) -> Result<Option<u64>, String>;
    /// `BoundedBuffer::producer_done`.
    fn producer_done(&self) -> Result<(), String>;
}

/// How often the main process looks at its processes.
const POLL: Duration = Duration::from_millis(5);

/// Longest wait for the producers to fill the buffer before the consumers start.
const FILL_PATIENCE: Duration = Duration::from_secs(2);

/// Received items kept beyond the round's total, to show what the extra ones were.
const EXTRA_KEPT: usize = 64;

/// Runs every round of `scenario`, creating each round's buffer with `create(capacity,
/// producers)`, and stops after the first round that went wrong.
///
/// # Safety
///
/// The calling process must be single-threaded (as a runner is): the processes forked here
/// run ordinary code (the student's, allocation, the panic hook), which is only sound after a
/// fork when no other thread could have held a lock at the moment of the fork.
pub unsafe fn drive<B: Buffer>(
    scenario: &DriveScenario,
    mut create: impl FnMut(usize, usize) -> Result<B, String>,
) -> Vec<RoundReport> {
    let mut reports = Vec::with_capacity(scenario.rounds.len());
    for round in &scenario.rounds {
        // SAFETY: forwarded contract: this process is single-threaded.
        let report = unsafe { run_round(scenario, round, &mut create) };
        let went_wrong = !is_clean(&report, round);
        reports.push(report);
        if went_wrong {
            break;
        }
    }
    reports
}

/// True when nothing in the report already shows a mistake (the checks look closer).
fn is_clean(report: &RoundReport, round: &Round) -> bool {
    report.create_error.is_none()
        && report.harness_error.is_none()
        && report.failures.is_empty()
        && report.stall.is_none()
        && !report.overfilled
        && !report.overrun
        && report.ended.iter().all(|e| *e)
        && report.consumed.iter().map(Vec::len).sum::<usize>() == round.total()
}

fn empty_report(round: &Round) -> RoundReport {
    RoundReport {
        create_error: None,
        harness_error: None,
        consumed: vec![Vec::new(); round.consumers],
        ended: vec![false; round.consumers],
        put: vec![0; round.items.len()],
        finished: vec![false; round.items.len()],
        max_held: 0,
        overfilled: false,
        overrun: false,
        failures: Vec::new(),
        stall: None,
        consumer_times: Vec::new(),
        micros: 0,
    }
}

/// A forked process of the round: its pid, its ledger slot, and who it is.
struct Child {
    pid: Pid,
    slot: usize,
    who: Who,
}

/// # Safety
///
/// As [`drive`]: the calling process is single-threaded.
unsafe fn run_round<B: Buffer>(
    scenario: &DriveScenario,
    round: &Round,
    create: &mut impl FnMut(usize, usize) -> Result<B, String>,
) -> RoundReport {
    let started = Instant::now();
    let mut report = empty_report(round);
    let producers = round.items.len();
    let total = round.total();
    let ledger = match Ledger::new(
        producers + round.consumers,
        total + EXTRA_KEPT,
        round.capacity,
    ) {
        Ok(ledger) => ledger,
        Err(error) => {
            report.harness_error = Some(format!("could not map the round's record: {error}"));
            return report;
        }
    };
    let buffer = match create(round.capacity, producers) {
        Ok(buffer) => buffer,
        Err(error) => {
            report.create_error = Some(error);
            return report;
        }
    };
    let mut children = Vec::with_capacity(producers + round.consumers);
    let mut spawn = |slot: usize, who: Who, body: &dyn Fn() -> Result<(), String>| {
        // SAFETY: forwarded contract: this process is single-threaded.
        unsafe { spawn(&ledger, slot, body) }.map(|pid| children.push(Child { pid, slot, who }))
    };
    let mut spawned = Ok(());
    for (index, items) in round.items.iter().enumerate() {
        let who = Who {
            role: Role::Producer,
            index,
        };
        spawned = spawned.and_then(|()| {
            spawn(index, who, &|| {
                produce(&buffer, &ledger, index, items, scenario.produce_us)
            })
        });
    }
    if scenario.fill_first && spawned.is_ok() {
        wait_until_filled(&ledger, round.capacity.min(total));
    }
    for index in 0..round.consumers {
        let slot = producers + index;
        let who = Who {
            role: Role::Consumer,
            index,
        };
        spawned = spawned.and_then(|()| {
            spawn(slot, who, &|| {
                consume(&buffer, &ledger, slot, index, scenario.consume_us)
            })
        });
    }
    let mut exits = Vec::new();
    match spawned {
        Ok(()) => supervise(
            &ledger,
            &mut children,
            &mut exits,
            total,
            Duration::from_millis(scenario.stall_ms),
            &mut report,
        ),
        Err(error) => {
            report.harness_error = Some(error);
            kill_all(&mut children, &mut exits);
        }
    }
    drop(buffer);
    collect(&ledger, round, &exits, &mut report);
    report.micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    report
}

/// Forks a process that runs `body`, records how it ended in `slot`, and exits.
///
/// # Safety
///
/// As [`drive`]: the calling process is single-threaded.
unsafe fn spawn(
    ledger: &Ledger,
    slot: usize,
    body: &dyn Fn() -> Result<(), String>,
) -> Result<Pid, String> {
    // SAFETY: the caller guarantees this process is single-threaded, so the child may run
    // ordinary code; it ends with `_exit`, never returning into the caller.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let born = Instant::now();
            let ending = match catch_unwind(AssertUnwindSafe(body)) {
                Ok(Ok(())) => Ending::Finished,
                Ok(Err(error)) => Ending::Failed(error),
                Err(payload) => {
                    Ending::Panicked(panic_message(payload.as_ref()), last_panic_location())
                }
            };
            if let Some(stat) = procfs::schedstat(std::process::id()) {
                ledger.set_times(
                    slot,
                    ProcessTimes {
                        alive: born.elapsed(),
                        on_cpu: stat.on_cpu,
                        waiting: stat.waiting,
                        timeslices: stat.timeslices,
                    },
                );
            }
            ledger.set_ending(slot, &ending);
            let code = if ending == Ending::Finished { 0 } else { 1 };
            // SAFETY: ends the child at once: no destructor of the runner's state runs twice.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => Ok(child),
        Err(errno) => Err(format!("could not fork a process: {errno}")),
    }
}

fn produce(
    buffer: &dyn Buffer,
    ledger: &Ledger,
    slot: usize,
    items: &[u64],
    produce_us: u64,
) -> Result<(), String> {
    for &item in items {
        if produce_us > 0 {
            ledger.set_phase(slot, Phase::Pausing);
            std::thread::sleep(Duration::from_micros(produce_us));
        }
        ledger.set_phase(slot, Phase::Putting);
        buffer
            .put(item)
            .map_err(|error| format!("put({item}) returned an error: {error}"))?;
        ledger.count(slot);
        ledger.put_returned();
    }
    ledger.set_phase(slot, Phase::Finishing);
    buffer
        .producer_done()
        .map_err(|error| format!("producer_done() returned an error: {error}"))?;
    ledger.progressed();
    ledger.set_phase(slot, Phase::Done);
    Ok(())
}

fn consume(
    buffer: &dyn Buffer,
    ledger: &Ledger,
    slot: usize,
    index: usize,
    consume_us: u64,
) -> Result<(), String> {
    let tag = u32::try_from(index).unwrap_or(u32::MAX);
    loop {
        ledger.set_phase(slot, Phase::Getting);
        ledger.get_starting();
        match buffer.get() {
            Ok(Some(item)) => {
                ledger.progressed();
                ledger.count(slot);
                if !ledger.receive(item, tag) {
                    // More items than were ever put: stop before this goes on forever.
                    ledger.set_phase(slot, Phase::Done);
                    return Ok(());
                }
                if consume_us > 0 {
                    ledger.set_phase(slot, Phase::Pausing);
                    std::thread::sleep(Duration::from_micros(consume_us));
                }
            }
            Ok(None) => {
                ledger.progressed();
                ledger.set_ended(slot);
                ledger.set_phase(slot, Phase::Done);
                return Ok(());
            }
            Err(error) => return Err(format!("get() returned an error: {error}")),
        }
    }
}

/// Waits until `wanted` puts returned and the producers then stopped (blocked on the full
/// buffer), or [`FILL_PATIENCE`] passed.
fn wait_until_filled(ledger: &Ledger, wanted: usize) {
    let give_up = Instant::now() + FILL_PATIENCE;
    let mut last = ledger.progress();
    let mut still_since = Instant::now();
    while Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(2));
        let now = ledger.progress();
        if now != last {
            last = now;
            still_since = Instant::now();
        } else if now >= wanted as u64 && still_since.elapsed() >= Duration::from_millis(30) {
            return;
        }
    }
}

/// Watches the round until every process exited, or it must be stopped.
fn supervise(
    ledger: &Ledger,
    children: &mut Vec<Child>,
    exits: &mut Vec<(Child, WaitStatus)>,
    total: usize,
    stall: Duration,
    report: &mut RoundReport,
) {
    let mut last_progress = ledger.progress();
    let mut quiet_since = Instant::now();
    loop {
        reap_exited(children, exits);
        if children.is_empty() {
            return;
        }
        if exits
            .iter()
            .any(|(child, status)| failed(ledger, child, status))
        {
            // The round cannot finish as it should; its report says why.
            kill_all(children, exits);
            return;
        }
        if ledger.overfilled() || ledger.received() > total as u64 {
            kill_all(children, exits);
            return;
        }
        let progress = ledger.progress();
        if progress != last_progress {
            last_progress = progress;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= stall {
            let pids: Vec<u32> = children.iter().map(|c| c.pid.as_raw() as u32).collect();
            if all_asleep(&pids) && ledger.progress() == last_progress {
                report.stall = Some(Stall {
                    quiet_ms: u64::try_from(quiet_since.elapsed().as_millis()).unwrap_or(u64::MAX),
                    waiting: children
                        .iter()
                        .map(|child| (child.who, ledger.phase(child.slot)))
                        .collect(),
                });
                kill_all(children, exits);
                return;
            }
            // Something ran (a busy loop, or a slow machine): look again after another window.
            quiet_since = Instant::now();
        }
        std::thread::sleep(POLL);
    }
}

/// True when a process that exited did not finish its part.
fn failed(ledger: &Ledger, child: &Child, status: &WaitStatus) -> bool {
    !matches!(ledger.ending(child.slot), Ending::Finished)
        || !matches!(status, WaitStatus::Exited(_, 0))
}

fn reap_exited(children: &mut Vec<Child>, exits: &mut Vec<(Child, WaitStatus)>) {
    let mut index = 0;
    while index < children.len() {
        match waitpid(children[index].pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => index += 1,
            Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => {
                exits.push((children.swap_remove(index), status));
            }
            Ok(_) => index += 1,
            // ECHILD: not ours any more (cannot happen: nobody else waits for it); drop it.
            Err(_) => {
                let child = children.swap_remove(index);
                exits.push((child, WaitStatus::Exited(Pid::from_raw(0), 0)));
            }
        }
    }
}

/// Kills and reaps every process still running; the runner's kills are not failures.
fn kill_all(children: &mut Vec<Child>, exits: &mut Vec<(Child, WaitStatus)>) {
    for child in children.iter() {
        let _ = kill(child.pid, Signal::SIGKILL);
    }
    for child in children.drain(..) {
        let _ = waitpid(child.pid, None);
        exits.push((child, WaitStatus::StillAlive));
    }
}

/// Fills the report from the ledger and the exit statuses.
fn collect(
    ledger: &Ledger,
    round: &Round,
    exits: &[(Child, WaitStatus)],
    report: &mut RoundReport,
) {
    let producers = round.items.len();
    for entry in ledger.entries() {
        if let Some(list) = report.consumed.get_mut(entry.tag as usize) {
            list.push(entry.item);
        }
    }
    for (index, ended) in report.ended.iter_mut().enumerate() {
        *ended = ledger.ended(producers + index);
    }
    for (index, put) in report.put.iter_mut().enumerate() {
        *put = ledger.counted(index);
    }
    for (index, finished) in report.finished.iter_mut().enumerate() {
        *finished = ledger.phase(index) == Phase::Done;
    }
    report.consumer_times = (0..round.consumers)
        .map(|index| ledger.times(producers + index))
        .collect();
    report.max_held = ledger.max_held();
    report.overfilled = ledger.overfilled();
    report.overrun = ledger.received() > round.total() as u64;
    let mut failures: Vec<ProcessFailure> = exits
        .iter()
        .filter_map(|(child, status)| {
            let fault = match (ledger.ending(child.slot), status) {
                (Ending::Failed(message), _) => ProcessFault::Error { message },
                (Ending::Panicked(message, location), _) => {
                    ProcessFault::Panicked { message, location }
                }
                (Ending::Finished, _) | (Ending::Unrecorded, WaitStatus::StillAlive) => {
                    return None;
                }
                (Ending::Unrecorded, WaitStatus::Signaled(_, signal, _)) => {
                    ProcessFault::Signaled {
                        signal: *signal as i32,
                    }
                }
                (Ending::Unrecorded, WaitStatus::Exited(_, code)) => {
                    ProcessFault::Exited { code: *code }
                }
                (Ending::Unrecorded, _) => return None,
            };
            Some(ProcessFailure {
                who: child.who,
                during: ledger.phase(child.slot),
                fault,
            })
        })
        .collect();
    failures.sort_by_key(|f| (f.who.role == Role::Consumer, f.who.index));
    report.failures = failures;
}
