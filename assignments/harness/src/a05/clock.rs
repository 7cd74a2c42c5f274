//! The one clock every a05 event is read from.

/// `CLOCK_MONOTONIC` in nanoseconds: the same clock in every process of the machine, so a
/// worker's timestamps and the runner's can be compared.
pub fn now_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only into `now`, a valid timespec; CLOCK_MONOTONIC always
    // exists on Linux, so it cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    // Non-negative for CLOCK_MONOTONIC; u64 nanoseconds last 584 years of uptime.
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}
