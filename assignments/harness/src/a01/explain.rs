//! What a timed-out a01 run most likely got wrong, read from what its processes were blocked
//! in when the deadline passed.
//!
//! In this assignment a blocked process waits in one of two places: on a queue (`get`, or
//! `put` on a full bounded queue: a futex) or for a child to end (`join`: `wait4`, or `poll`
//! on a pidfd for `join_timeout`). Who waits where tells the classic mistakes apart.

use crate::procfs::SyscallState;
use crate::run::{Diagnosis, StuckProcess, Triage};

/// Where a process of the run was waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// On a queue's futex.
    OnQueue,
    /// For a child to end.
    InJoin,
    /// Somewhere else, or not blocked.
    Elsewhere,
}

fn waiting(process: &StuckProcess) -> Waiting {
    match process.syscall {
        Some(SyscallState::In { number }) if number == libc::SYS_futex => Waiting::OnQueue,
        Some(SyscallState::In { number })
            if number == libc::SYS_wait4
                || number == libc::SYS_waitid
                || number == libc::SYS_ppoll
                || is_poll(number) =>
        {
            Waiting::InJoin
        }
        _ => Waiting::Elsewhere,
    }
}

#[cfg(target_arch = "x86_64")]
fn is_poll(number: i64) -> bool {
    number == libc::SYS_poll
}

#[cfg(not(target_arch = "x86_64"))]
fn is_poll(_: i64) -> bool {
    false
}

/// The likely mistake behind a timeout, in the assignment's terms; `None` when the triage
/// does not point at one.
pub fn likely_mistake(triage: &Triage) -> Option<String> {
    let main = triage.processes.iter().find(|p| p.is_runner)?;
    let workers: Vec<&StuckProcess> = triage.processes.iter().filter(|p| !p.is_runner).collect();
    let on_queue = workers
        .iter()
        .filter(|w| waiting(w) == Waiting::OnQueue)
        .count();
    match triage.diagnosis {
        Diagnosis::Deadlock => match (waiting(main), on_queue) {
            (Waiting::InJoin, 1..) => Some(format!(
                "{on_queue} of the {} workers are still blocked in get() on the task queue, \
                 waiting for a task or a sentinel that never comes, while the main process \
                 waits in join() for them to end: did you put one sentinel per worker (k \
                 workers, k sentinels), after all the tasks?",
                workers.len()
            )),
            (Waiting::OnQueue, 1..) => Some(
                "the main process waits in get() for a result while the workers wait in get() \
                 for a task: put every task, then one sentinel per worker, before collecting; \
                 and collect exactly one result per task, no more"
                    .to_owned(),
            ),
            (Waiting::OnQueue, 0) if workers.is_empty() => Some(
                "the main process waits in get() for a result, but no worker is alive to put \
                 one: did you collect more results than there are tasks (one per task, not \
                 one per worker)?"
                    .to_owned(),
            ),
            _ => None,
        },
        Diagnosis::Busy => Some(
            "a process was still using CPU at the deadline: does every worker stop when it \
             takes its sentinel? (a loop that retries try_get() or get_timeout() without ever \
             stopping spins forever)"
                .to_owned(),
        ),
        Diagnosis::TooSlow | Diagnosis::Vanished => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::procfs::ProcessSnapshot;

    fn process(pid: u32, is_runner: bool, syscall: i64) -> StuckProcess {
        StuckProcess {
            snapshot: ProcessSnapshot {
                pid,
                ppid: 1,
                pgid: 1,
                state: 'S',
                comm: "runner".to_owned(),
                cpu_ticks: 0,
                threads: 1,
            },
            cpu_during_gap: Some(Duration::ZERO),
            wchan: None,
            syscall: Some(SyscallState::In { number: syscall }),
            is_runner,
        }
    }

    fn triage(processes: Vec<StuckProcess>) -> Triage {
        Triage {
            diagnosis: Diagnosis::Deadlock,
            processes,
            gap: Duration::from_millis(100),
            likely: None,
        }
    }

    #[test]
    fn a_main_process_joining_workers_stuck_in_get_lacks_sentinels() {
        let stuck = triage(vec![
            process(10, true, libc::SYS_wait4),
            process(11, false, libc::SYS_futex),
            process(12, false, libc::SYS_futex),
        ]);
        let likely = likely_mistake(&stuck).expect("explained");
        assert!(likely.contains("one sentinel per worker"), "{likely}");
        assert!(likely.contains("2 of the 2 workers"), "{likely}");
    }

    #[test]
    fn a_main_process_alone_in_get_collects_too_many() {
        let alone = triage(vec![process(10, true, libc::SYS_futex)]);
        let likely = likely_mistake(&alone).expect("explained");
        assert!(
            likely.contains("more results than there are tasks"),
            "{likely}"
        );
    }

    #[test]
    fn an_unknown_wait_is_not_guessed_at() {
        let asleep = triage(vec![process(10, true, libc::SYS_nanosleep)]);
        assert_eq!(likely_mistake(&asleep), None);
    }
}
