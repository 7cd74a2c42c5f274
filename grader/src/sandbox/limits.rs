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

/// The limits of a runner whose check has this deadline, never above the grader's own hard
/// limits (an unprivileged process cannot raise those).
pub fn for_check(timeout: Duration) -> Vec<ResourceLimit> {
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
pub fn describe() -> String {
    format!(
        "CPU 2 × deadline + 10 s (SIGXCPU; SIGKILL {CPU_HARD_MARGIN_SECS} s later), files up to \
         {} MiB, {OPEN_FILES_LIMIT} open files, no core dumps, {} MiB address space, {} KiB \
         of output per stream",
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
        let limits = for_check(Duration::from_secs(5));
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
    }
}
