//! Running the student's `produce_and_consume`: the `consume` function it is given records
//! each item with the pid of the process that consumed it, in shared memory, and a watchdog
//! process stops a run that stalled.
//!
//! The watchdog is forked by the runner before the student's code starts. It watches the
//! number of items consumed; when that stays still for the scenario's stall time while every
//! process of the run sleeps and uses no CPU (every one waits for something no other will
//! do), it records the stall and kills the student's processes (never the runner), so the
//! student's joins return and the runner reports a stall at once instead of hanging until the
//! harness's deadline. It is killed and reaped before the runner reports, so it never counts
//! as a process the student left behind.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork};

use crate::a04::asleep::all_asleep;
use crate::a04::ledger::Ledger;
use crate::a04::protocol::{PipelineReport, PipelineScenario, PipelineStall};
use crate::procfs::{self, SyscallState};

/// Items recorded beyond the round's total, to show what the extra ones were.
const EXTRA_KEPT: usize = 64;

/// How often the watchdog looks at the count of items.
const WATCH_POLL: Duration = Duration::from_millis(10);

/// Records what the student's consumers consume.
#[derive(Debug, Clone)]
pub struct Recorder {
    ledger: std::sync::Arc<Ledger>,
}

impl Recorder {
    /// A recorder for the items of `scenario`.
    pub fn new(scenario: &PipelineScenario) -> std::io::Result<Recorder> {
        let round = &scenario.round;
        let ledger = Ledger::new(0, round.total() + EXTRA_KEPT, round.capacity)?;
        Ok(Recorder {
            ledger: std::sync::Arc::new(ledger),
        })
    }

    /// The function handed to the student's code as `consume`: call it in a consumer
    /// process with each item got from the buffer.
    pub fn sink(&self) -> impl Fn(u64) + Clone + 'static {
        let ledger = std::sync::Arc::clone(&self.ledger);
        move |item| {
            ledger.receive(item, std::process::id());
        }
    }

    /// The report, once the student's code returned `result`.
    pub fn report(&self, result: Result<(), String>) -> PipelineReport {
        PipelineReport {
            result,
            consumed: self
                .ledger
                .entries()
                .into_iter()
                .map(|entry| (entry.item, entry.tag))
                .collect(),
            calls: self.ledger.received(),
            stall: self
                .ledger
                .stall()
                .map(|(quiet_ms, asleep, in_futex)| PipelineStall {
                    quiet_ms,
                    asleep,
                    in_futex,
                }),
        }
    }
}

/// Runs `student` (which calls `produce_and_consume` with [`Recorder::sink`]) under a
/// watchdog, and reports what was consumed.
///
/// # Safety
///
/// The calling process must be single-threaded (as a runner is): the watchdog is forked and
/// runs ordinary code, which is only sound after a fork when no other thread could have held
/// a lock at the moment of the fork.
pub unsafe fn run_pipeline(
    scenario: &PipelineScenario,
    student: impl FnOnce(&Recorder) -> Result<(), String>,
) -> std::io::Result<PipelineReport> {
    let recorder = Recorder::new(scenario)?;
    // SAFETY: forwarded contract: this process is single-threaded.
    let watchdog =
        unsafe { Watchdog::start(&recorder.ledger, Duration::from_millis(scenario.stall_ms)) }?;
    let result = student(&recorder);
    drop(watchdog);
    Ok(recorder.report(result))
}

/// The watchdog process; dropping it kills and reaps it (also when the student's code
/// panicked).
struct Watchdog {
    pid: Pid,
}

impl Watchdog {
    /// # Safety
    ///
    /// As [`run_pipeline`]: the calling process is single-threaded.
    unsafe fn start(ledger: &Ledger, stall: Duration) -> std::io::Result<Watchdog> {
        let runner = std::process::id();
        // SAFETY: the caller guarantees this process is single-threaded, so the child may
        // run ordinary code; it ends with `_exit`, never returning into the caller.
        match unsafe { fork() }.map_err(std::io::Error::from)? {
            ForkResult::Child => {
                let _ = catch_unwind(AssertUnwindSafe(|| watch(ledger, runner, stall)));
                // SAFETY: ends the watchdog at once, running nothing of the runner's state.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Parent { child } => Ok(Watchdog { pid: child }),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // ESRCH or ECHILD only if the student's code reaped it: nothing left to do then.
        let _ = kill(self.pid, Signal::SIGKILL);
        let _ = waitpid(self.pid, None);
    }
}

/// The watchdog's loop: returns once it stopped a stalled run, or the runner is gone.
fn watch(ledger: &Ledger, runner: u32, stall: Duration) {
    let me = std::process::id();
    let mut last = ledger.received();
    let mut quiet_since = Instant::now();
    loop {
        std::thread::sleep(WATCH_POLL);
        if nix::unistd::getppid().as_raw() as u32 != runner {
            return;
        }
        let received = ledger.received();
        if received != last {
            last = received;
            quiet_since = Instant::now();
            continue;
        }
        if quiet_since.elapsed() < stall {
            continue;
        }
        // The runner leads the process group: every process of the run is in it.
        let others: Vec<u32> = procfs::group_members(runner)
            .into_iter()
            .filter(|p| p.pid != me && !p.is_zombie())
            .map(|p| p.pid)
            .collect();
        // Without the runner among them, the group is not what it should be (the runner
        // leads its own group when the harness starts it): nothing can be concluded.
        if others.contains(&runner) && all_asleep(&others) && ledger.received() == last {
            let in_futex = others
                .iter()
                .filter(|pid| {
                    procfs::syscall(**pid)
                        == Some(SyscallState::In {
                            number: libc::SYS_futex,
                        })
                })
                .count();
            let quiet_ms = u64::try_from(quiet_since.elapsed().as_millis()).unwrap_or(u64::MAX);
            ledger.set_stall(quiet_ms, others.len() as u64, in_futex as u64);
            for pid in others.iter().filter(|pid| **pid != runner) {
                let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
            }
            return;
        }
        // Something ran: look again after another window.
        quiet_since = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::a04::protocol::Round;

    fn scenario(stall_ms: u64) -> PipelineScenario {
        PipelineScenario {
            round: Round {
                capacity: 1,
                items: vec![vec![4, 5]],
                consumers: 1,
            },
            stall_ms,
        }
    }

    #[test]
    fn records_items_with_the_consuming_pid() {
        // SAFETY: the watchdog child only reads atomics, sleeps, reads /proc and exits with
        // `_exit`: no lock another test thread might hold is taken in it.
        let report = unsafe {
            run_pipeline(&scenario(1000), |recorder| {
                let consume = recorder.sink();
                consume(5);
                consume.clone()(4);
                Ok(())
            })
        }
        .expect("runs");
        let me = std::process::id();
        assert_eq!(report.consumed, [(5, me), (4, me)]);
        assert_eq!(report.calls, 2);
        assert_eq!(report.stall, None);
    }
}
