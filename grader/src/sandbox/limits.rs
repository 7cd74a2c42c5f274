//! The resource limits of every runner, and the other numbers of the sandbox.
//!
//! Limits are backstops behind the wall-clock deadline (which the harness enforces with
//! triage, SIGTERM and SIGKILL): CPU time in case a process escapes the deadline, file size,
//! open files, no core dumps, and an address-space ceiling generous enough for honest code
//! with many threads (glibc reserves up to 8 × cores malloc arenas of 64 MiB each, and every
//! thread a stack).

use std::time::Duration;

use course_harness::run::{Resource, ResourceLimit};

/// Bytes of stdout and of stderr a runner may write; more is an "output limit" failure and
/// the run is stopped.
pub const OUTPUT_CAP: usize = 1 << 20;

/// Largest file a runner may write (SIGXFSZ beyond).
pub const FILE_SIZE_LIMIT: u64 = 64 << 20;

/// Most open files per process.
pub const OPEN_FILES_LIMIT: u64 = 1024;

/// Most tasks (processes and threads together) of one check: the PID namespace's `pid_max`
/// where the kernel has one per namespace (Linux 6.14), else this many more than the user
/// has when the check starts (`RLIMIT_NPROC`). Honest checks use tens; a fork bomb meets it.
pub const TASKS_PER_CHECK: u64 = 1024;

/// Size of a check's private home (its working directory, `HOME`, `TMPDIR`), a tmpfs.
pub const HOME_BYTES: u64 = 256 << 20;

/// Most files and directories in a check's private home: a million tiny files end here,
/// with `ENOSPC`.
pub const HOME_INODES: u64 = 16384;

/// Extra CPU seconds between the soft limit (SIGXCPU, which a process may catch) and the
/// hard one (SIGKILL).
pub const CPU_HARD_MARGIN_SECS: u64 = 5;

/// The address-space ceiling of each process: 4 GiB plus 512 MiB per CPU (room for glibc's
/// per-CPU malloc arenas).
pub fn address_space_bytes() -> u64 {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    (4 << 30) + cpus * (512 << 20)
}

/// CPU seconds a process of a check with this deadline may use before SIGXCPU: twice the
/// deadline (two cores busy all along) plus 10 s.
pub fn cpu_soft_secs(timeout: Duration) -> u64 {
    timeout.as_secs_f64().ceil() as u64 * 2 + 10
}

/// How a check's tasks are capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskCap {
    /// The PID namespace's `pid_max`: exactly [`TASKS_PER_CHECK`] per check.
    Namespace,
    /// `RLIMIT_NPROC`, [`TASKS_PER_CHECK`] above the user's tasks when the check starts. It
    /// counts every task of the user, and the kernel does not apply it to root.
    UserRlimit,
}

/// `RLIMIT_NPROC` for a check started while the user has `tasks_now` tasks.
pub fn nproc_limit(tasks_now: u64) -> u64 {
    tasks_now + TASKS_PER_CHECK
}

/// The limits of a runner whose check has this deadline, never above the grader's own hard
/// limits (an unprivileged process cannot raise those); `nproc` adds `RLIMIT_NPROC`.
pub fn for_check(timeout: Duration, nproc: Option<u64>) -> Vec<ResourceLimit> {
    let cpu = cpu_soft_secs(timeout);
    let address_space = address_space_bytes();
    [
        (Resource::RLIMIT_CPU, cpu, cpu + CPU_HARD_MARGIN_SECS),
        (Resource::RLIMIT_FSIZE, FILE_SIZE_LIMIT, FILE_SIZE_LIMIT),
        (Resource::RLIMIT_NOFILE, OPEN_FILES_LIMIT, OPEN_FILES_LIMIT),
        (Resource::RLIMIT_CORE, 0, 0),
        (Resource::RLIMIT_AS, address_space, address_space),
    ]
    .into_iter()
    .chain(nproc.map(|n| (Resource::RLIMIT_NPROC, n, n)))
    .map(|(resource, soft, hard)| {
        let ceiling = nix::sys::resource::getrlimit(resource).map_or(u64::MAX, |(_, hard)| hard);
        ResourceLimit {
            resource,
            soft: soft.min(ceiling),
            hard: hard.min(ceiling),
        }
    })
    .collect()
}

/// The limits in words, for reports.
pub fn describe(tasks: TaskCap, root: bool) -> String {
    let tasks = match tasks {
        TaskCap::Namespace => {
            format!("{TASKS_PER_CHECK} processes and threads per check (the namespace's pid_max)")
        }
        TaskCap::UserRlimit if root => format!(
            "no cap on processes (RLIMIT_NPROC of {TASKS_PER_CHECK} more than the user has \
             does not bind root, and this kernel has no per-namespace pid_max)"
        ),
        TaskCap::UserRlimit => format!(
            "{TASKS_PER_CHECK} more processes and threads than the user has when a check \
             starts (RLIMIT_NPROC)"
        ),
    };
    format!(
        "CPU 2 × deadline + 10 s (SIGXCPU; SIGKILL {CPU_HARD_MARGIN_SECS} s later), files up to \
         {} MiB, {OPEN_FILES_LIMIT} open files, no core dumps, {} MiB address space, {} KiB \
         of output per stream, {tasks}",
        FILE_SIZE_LIMIT >> 20,
        address_space_bytes() >> 20,
        OUTPUT_CAP >> 10
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_hard_limit_is_above_the_soft_one_and_cores_are_off() {
        let limits = for_check(Duration::from_secs(5), None);
        let cpu = limits
            .iter()
            .find(|l| l.resource == Resource::RLIMIT_CPU)
            .expect("a CPU limit");
        assert!(cpu.hard > cpu.soft, "{cpu:?}");
        assert_eq!(cpu.soft, 20);
        let core = limits
            .iter()
            .find(|l| l.resource == Resource::RLIMIT_CORE)
            .expect("a core limit");
        assert_eq!((core.soft, core.hard), (0, 0));
        assert!(address_space_bytes() >= 4 << 30);
        assert!(!limits.iter().any(|l| l.resource == Resource::RLIMIT_NPROC));
    }

    #[test]
    fn without_a_namespace_cap_the_user_gets_the_per_check_allowance_on_top() {
        let limits = for_check(Duration::from_secs(5), Some(nproc_limit(300)));
        let nproc = limits
            .iter()
            .find(|l| l.resource == Resource::RLIMIT_NPROC)
            .expect("an NPROC limit");
        assert_eq!(nproc.soft.min(nproc.hard), nproc.soft);
        assert!(nproc.soft <= 300 + TASKS_PER_CHECK);
        assert!(describe(TaskCap::UserRlimit, true).contains("does not bind root"));
        assert!(describe(TaskCap::Namespace, false).contains("pid_max"));
    }
}
