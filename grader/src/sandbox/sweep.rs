//! Cleaning up after a check without a PID namespace: every process descending from the
//! grader (orphans come back to it, the child subreaper), and segments new in `/dev/shm`.
//!
//! Attribution is only sound when one check runs at a time, which is why the process-group
//! isolation grades with one job. Even then, `/dev/shm` is the machine's: a segment another
//! program creates while a check runs is blamed on the check (and removed). The PID
//! namespace's private `/dev/shm` has no such problem.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use course_harness::procfs::{self, ProcessSnapshot};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

use crate::errors::SandboxError;

/// Longest wait for killed descendants to be gone.
const SWEEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait for a killed build's processes to come back to the grader and die.
const ADOPTED_GRACE: Duration = Duration::from_secs(2);

/// The shared-memory directory of the machine.
const DEV_SHM: &str = "/dev/shm";

/// Every process whose chain of parents leads to `root` (not `root` itself).
pub fn descendants_of(root: u32) -> Vec<ProcessSnapshot> {
    let all = procfs::all_processes();
    let parent: BTreeMap<u32, u32> = all.iter().map(|p| (p.pid, p.ppid)).collect();
    let descends = |mut pid: u32| {
        for _ in 0..parent.len() {
            match parent.get(&pid) {
                Some(&ppid) if ppid == root => return true,
                Some(&ppid) if ppid > 1 => pid = ppid,
                _ => return false,
            }
        }
        false
    };
    all.into_iter()
        .filter(|p| p.pid != root && descends(p.pid))
        .collect()
}

/// Kills every live descendant of the grader and reaps the ones that come back to it.
/// Returns those that were alive (not zombies).
pub fn kill_descendants() -> Result<Vec<ProcessSnapshot>, SandboxError> {
    let me = std::process::id();
    let alive: Vec<ProcessSnapshot> = descendants_of(me)
        .into_iter()
        .filter(|p| !p.is_zombie())
        .collect();
    let deadline = Instant::now() + SWEEP_TIMEOUT;
    loop {
        let left = descendants_of(me);
        if left.is_empty() {
            return Ok(alive);
        }
        for process in &left {
            let pid = Pid::from_raw(process.pid as i32);
            if !process.is_zombie() {
                let _ = kill(pid, Signal::SIGKILL);
            }
            if process.ppid == me {
                let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
            }
        }
        if Instant::now() >= deadline {
            return Err(SandboxError::Unkillable { count: left.len() });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Reaps the grader's children of process group `group` (adopted as child subreaper from
/// a killed build), waiting briefly for those still dying.
///
/// Only that group's: a runner that just exited is a zombie child of the grader too, and
/// the check waiting for it (beside the build, in a class) must be the one to reap it.
pub fn reap_adopted_from(group: Pid) {
    let me = std::process::id();
    let deadline = Instant::now() + ADOPTED_GRACE;
    loop {
        let members: Vec<ProcessSnapshot> = procfs::children_of(me)
            .into_iter()
            .filter(|child| i64::from(child.pgid) == i64::from(group.as_raw()))
            .collect();
        for child in members.iter().filter(|c| c.is_zombie()) {
            let _ = waitpid(Pid::from_raw(child.pid as i32), Some(WaitPidFlag::WNOHANG));
        }
        if members.iter().all(ProcessSnapshot::is_zombie) || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Tasks (threads of every process) whose `/proc` entry belongs to this process's user: what
/// `RLIMIT_NPROC` counts.
pub fn tasks_of_user() -> u64 {
    use std::os::unix::fs::MetadataExt;
    let me = nix::unistd::getuid().as_raw();
    procfs::all_processes()
        .iter()
        .filter(|p| std::fs::metadata(format!("/proc/{}", p.pid)).is_ok_and(|m| m.uid() == me))
        .map(|p| u64::from(p.threads.max(1)))
        .sum()
}

/// The names in the machine's `/dev/shm`.
pub fn shm_names() -> BTreeSet<String> {
    std::fs::read_dir(DEV_SHM)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Removes the segments that appeared since `before`, and returns their names.
pub fn remove_new_shm(before: &BTreeSet<String>) -> Vec<String> {
    let new: Vec<String> = shm_names().difference(before).cloned().collect();
    for name in &new {
        let _ = std::fs::remove_file(std::path::Path::new(DEV_SHM).join(name));
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grandchild_is_a_descendant_and_the_parent_is_not() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .expect("starts sh");
        let deadline = Instant::now() + Duration::from_secs(10);
        let found = loop {
            let found = descendants_of(std::process::id());
            let has_sleep = found.iter().any(|p| p.comm == "sleep");
            if has_sleep || Instant::now() > deadline {
                break found;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // Only this test's own processes: other tests of this binary have children too (the
        // PID-namespace fork bomb test lost its bomber to a kill of every descendant).
        for p in descendants_of(child.id()) {
            let _ = kill(Pid::from_raw(p.pid as i32), Signal::SIGKILL);
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.iter().any(|p| p.pid == child.id()));
        assert!(found.iter().any(|p| p.comm == "sleep"), "{found:?}");
        assert!(!found.iter().any(|p| p.pid == std::process::id()));
    }

    #[test]
    fn the_user_has_at_least_this_process_s_threads() {
        let threads: Vec<_> = (0..3)
            .map(|_| std::thread::spawn(|| std::thread::sleep(Duration::from_millis(300))))
            .collect();
        assert!(tasks_of_user() >= 4);
        for thread in threads {
            thread.join().expect("joins");
        }
    }
}
