//! The lesson's `sum_all_values`, as the tests hand it to the student's code.
//!
//! The student's functions take the task as a parameter (`F: Fn(u64) -> u64 + Copy`) and
//! the runner passes [`sum_all_values`]: the very sum of the lesson, plus a record of which
//! process ran it and when ([`TaskLog`]). That is how the tests see, from the course's own
//! code, that every job ran once in a pool worker, and which jobs ran at the same time; and
//! since the student's code only ever holds the task as an opaque `F`, the work each job does
//! is the tests' to choose.

use crate::a05::clock::now_ns;
use crate::a05::task_log::TaskLog;

/// `1 + 2 + ... + x`, one addition at a time, as the lesson's loop: real CPU work in
/// proportion to `x` (the optimiser may not replace it with `x (x + 1) / 2`). Pure
/// computation: safe in a child forked from a multithreaded process.
#[inline(never)]
pub fn sum_loop(x: u64) -> u64 {
    let mut total: u64 = 0;
    let mut i: u64 = 1;
    while i <= x {
        total = total.wrapping_add(std::hint::black_box(i));
        i += 1;
    }
    total
}

/// The lesson's `sum_all_values(x)`: `1 + 2 + ... + x`. When the runner installed its task
/// log (memory shared with the processes it forks), each call also holds its process for the
/// scenario's hold time and then records its input, its pid, and when it started and
/// returned.
pub fn sum_all_values(x: u64) -> u64 {
    let started_ns = now_ns();
    let total = sum_loop(x);
    if let Some(log) = TaskLog::installed() {
        if !log.hold().is_zero() {
            std::thread::sleep(log.hold());
        }
        log.record(x, started_ns, now_ns());
    }
    total
}

/// The largest input a speedup job is given: `sum_loop(x)` stays below 2^63 (no
/// wrap-around), and no job takes minutes.
pub const MAX_X: u64 = 1 << 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_is_the_sum() {
        for x in [0, 1, 2, 3, 10, 12_345] {
            assert_eq!(sum_loop(x), x * (x + 1) / 2, "x = {x}");
        }
        assert_eq!(sum_all_values(10_000), 50_005_000);
    }
}
