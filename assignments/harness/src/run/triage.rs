//! What a timed-out run was doing: deadlock, busy, or just slow.
//!
//! Two `/proc` samples of the process group, [`SandboxOptions::triage_gap`] apart, before
//! anything is killed: each process's state, the CPU it used between the samples, and what it
//! waits on (`/proc/PID/wchan`, `/proc/PID/syscall`).
//!
//! [`SandboxOptions::triage_gap`]: crate::run::SandboxOptions::triage_gap

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::procfs::{self, ProcessSnapshot, SyscallState};

/// The verdict of a triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Diagnosis {
    /// Every process is blocked and none used CPU between the samples.
    Deadlock,
    /// At least one process is burning CPU: a busy-wait, a livelock, or too much work.
    Busy,
    /// Some progress, but not enough to finish in time (e.g. sleeping in small steps).
    TooSlow,
    /// No process of the group was alive any more when it was examined.
    Vanished,
}

/// One process of a timed-out run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StuckProcess {
    /// Its state at the second sample.
    pub snapshot: ProcessSnapshot,
    /// CPU time it used between the samples (`None` if it appeared in between).
    pub cpu_during_gap: Option<Duration>,
    /// The kernel function it sleeps in, if readable.
    pub wchan: Option<String>,
    /// The system call it is blocked in, if readable.
    pub syscall: Option<SyscallState>,
    /// True for the runner (the main process of the run).
    pub is_runner: bool,
}

/// What the processes of a timed-out run were doing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Triage {
    /// Deadlock, busy or too slow.
    pub diagnosis: Diagnosis,
    /// Every live process of the group, the runner first.
    pub processes: Vec<StuckProcess>,
    /// Time between the two samples.
    pub gap: Duration,
    /// What the check that ran makes of it: the likely mistake, in the assignment's terms.
    /// [`examine`] leaves it empty; checks fill it (see
    /// [`Failure::explain_timeout`](crate::checks::Failure::explain_timeout)).
    #[serde(default)]
    pub likely: Option<String>,
}

/// Examines process group `pgid` (whose leader, the runner, is `runner_pid`).
pub fn examine(pgid: u32, runner_pid: u32, gap: Duration) -> Triage {
    let first = procfs::group_members(pgid);
    std::thread::sleep(gap);
    let second = procfs::group_members(pgid);
    let mut processes: Vec<StuckProcess> = second
        .into_iter()
        .filter(|p| !p.is_zombie())
        .map(|snapshot| {
            let cpu_during_gap =
                first
                    .iter()
                    .find(|before| before.pid == snapshot.pid)
                    .map(|before| {
                        procfs::ticks_to_duration(
                            snapshot.cpu_ticks.saturating_sub(before.cpu_ticks),
                        )
                    });
            StuckProcess {
                wchan: procfs::wchan(snapshot.pid),
                syscall: procfs::syscall(snapshot.pid),
                is_runner: snapshot.pid == runner_pid,
                cpu_during_gap,
                snapshot,
            }
        })
        .collect();
    processes.sort_by_key(|p| (!p.is_runner, p.snapshot.pid));
    Triage {
        diagnosis: classify(&processes, gap),
        processes,
        gap,
        likely: None,
    }
}

fn classify(processes: &[StuckProcess], gap: Duration) -> Diagnosis {
    if processes.is_empty() {
        return Diagnosis::Vanished;
    }
    let cpu: Duration = processes.iter().filter_map(|p| p.cpu_during_gap).sum();
    let running = processes
        .iter()
        .any(|p| p.snapshot.state == 'R' && p.cpu_during_gap.is_some_and(|c| !c.is_zero()));
    if running || cpu >= gap / 2 {
        Diagnosis::Busy
    } else if cpu.is_zero() && processes.iter().all(|p| p.snapshot.is_blocked()) {
        Diagnosis::Deadlock
    } else {
        Diagnosis::TooSlow
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Deadlock => {
                "deadlock: every process is blocked and none used any CPU; each waits for \
                 something no other process will do"
            }
            Self::Busy => {
                "busy: CPU is burning without finishing: a busy-wait loop, a livelock, or \
                 more work than the time limit allows"
            }
            Self::TooSlow => "too slow: the processes make some progress, but not enough",
            Self::Vanished => "the processes ended just as the deadline passed",
        })
    }
}

impl fmt::Display for StuckProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.snapshot;
        let role = if self.is_runner {
            "main process".to_owned()
        } else {
            format!("child of {}", p.ppid)
        };
        write!(
            f,
            "pid {} ({}, {}) {}",
            p.pid,
            p.comm,
            role,
            p.state_in_words()
        )?;
        if let Some(cpu) = self.cpu_during_gap {
            write!(f, ", {} ms CPU in the gap", cpu.as_millis())?;
        }
        match self.syscall.and_then(SyscallState::meaning) {
            Some((name, meaning)) => write!(f, ", in {name}(): {meaning}")?,
            None => {
                if let Some(SyscallState::In { number }) = self.syscall {
                    write!(f, ", in syscall {number}")?;
                }
            }
        }
        if let Some(wchan) = &self.wchan {
            write!(f, " [kernel: {wchan}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for Triage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.diagnosis)?;
        if let Some(likely) = &self.likely {
            writeln!(f, "likely: {likely}")?;
        }
        write!(
            f,
            "processes still alive (sampled {} ms apart):",
            self.gap.as_millis()
        )?;
        for process in &self.processes {
            write!(f, "\n  {process}")?;
        }
        Ok(())
    }
}
