//! What speedup this machine can show right now: a fixed CPU loop done by one bare process,
//! then split over `k` bare processes started together, in the same run as the student's
//! timings. A speedup check judges the student's speedup against it, not against a number
//! written down on another day or another machine.
//!
//! ```text
//!   student's speedup      s = sequential time / parallel time
//!   attainable speedup     a = one bare process / k bare processes (same total work)
//!   fraction of the gain   f = (s - 1) / (a - 1)
//! ```
//!
//! The fraction of the *gain* puts sequential code at 0 and code as parallel as bare processes
//! at 1, however busy the machine is (`s / a` would put sequential code at `1 / a`: 0.5 on an
//! idle 2-core machine, 0.75 beside a CPU hog). When bare processes show almost no gain
//! (below [`MIN_ATTAINABLE_GAIN`]) nothing can be told apart: a check should measure again,
//! then report "not measurable", never fail. On one core it is not measurable at all.

use std::io;
use std::time::{Duration, Instant};

/// Below this gain (`a - 1`) of bare processes, a reading cannot tell parallel code from
/// sequential code.
pub const MIN_ATTAINABLE_GAIN: f64 = 0.25;

/// Largest spread (highest minus lowest) of the bare-process speedups of one reading for the
/// machine to count as steady. Other work starting or stopping on the machine moves the
/// attainable speedup between samples; then the student's samples, taken between the bare
/// ones, saw a different machine, and the reading proves nothing either way.
pub const MAX_ATTAINABLE_SPREAD: f64 = 0.35;

/// The cores this process may run on (affinity and cgroup quota included), as
/// `multiprocessing::cpu_count()` counts them; 1 when unknown.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The fixed CPU work bare processes do: register arithmetic only (no allocation, no lock,
/// no system call), so a child forked from a multithreaded process may run it.
#[inline(never)]
pub fn spin(iterations: u64) -> u64 {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..iterations {
        // black_box keeps the optimiser from folding the loop into a formula.
        state = std::hint::black_box(state.rotate_left(7) ^ i);
    }
    state
}

/// How many [`spin`] iterations take about `target` in this process, timed here (the build
/// profile and the machine both change it by an order of magnitude).
pub fn iterations_for(target: Duration) -> u64 {
    let mut iterations: u64 = 1 << 14;
    loop {
        let started = Instant::now();
        std::hint::black_box(spin(iterations));
        let took = started.elapsed();
        if took >= Duration::from_millis(10) || iterations >= 1 << 40 {
            let per_iteration = took.as_secs_f64() / iterations as f64;
            return (target.as_secs_f64() / per_iteration.max(1e-12)).clamp(1.0, 1e13) as u64;
        }
        iterations = iterations.saturating_mul(4);
    }
}

/// One measurement of bare processes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attainable {
    /// How many processes shared the work in the second half.
    pub processes: usize,
    /// Wall time of one process doing all the work.
    pub one: Duration,
    /// Wall time of `processes` processes doing an equal share each, started together.
    pub many: Duration,
}

impl Attainable {
    /// `one / many`.
    pub fn speedup(&self) -> f64 {
        self.one.as_secs_f64() / self.many.as_secs_f64().max(1e-9)
    }
}

/// Times `iterations` of [`spin`] in one forked child, then in `processes` children doing
/// `iterations / processes` each. Every child is waited for before this returns, also when a
/// later fork fails.
pub fn measure(processes: usize, iterations: u64) -> io::Result<Attainable> {
    let processes = processes.max(1);
    let one = time_children(1, iterations)?;
    let many = time_children(processes, iterations / processes as u64)?;
    Ok(Attainable {
        processes,
        one,
        many,
    })
}

/// Whether a reading's bare-process speedups show a machine both free enough (every one
/// gains at least [`MIN_ATTAINABLE_GAIN`]) and steady enough ([`MAX_ATTAINABLE_SPREAD`]) to
/// judge a speedup by.
pub fn judgeable(speedups: &[f64]) -> bool {
    let lowest = speedups.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = speedups.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    !speedups.is_empty()
        && lowest - 1.0 >= MIN_ATTAINABLE_GAIN
        && highest - lowest <= MAX_ATTAINABLE_SPREAD
}

/// The student's gain as a fraction of the machine's: `(speedup - 1) / (attainable - 1)`.
pub fn fraction_of_gain(speedup: f64, attainable: f64) -> f64 {
    (speedup - 1.0) / (attainable - 1.0).max(1e-9)
}

/// The median (the lower middle value of an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0.0)
}

/// Children forked by [`time_children`], reaped on drop.
struct Children(Vec<libc::pid_t>);

impl Children {
    fn reap(&mut self) {
        for pid in self.0.drain(..) {
            let mut status = 0;
            // SAFETY: waits for a child of ours into a local; retried when interrupted.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
                && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.reap();
    }
}

/// Wall time from the first fork to the last exit of `count` children spinning `iterations`.
fn time_children(count: usize, iterations: u64) -> io::Result<Duration> {
    let mut children = Children(Vec::with_capacity(count));
    let started = Instant::now();
    for _ in 0..count {
        // SAFETY: the child only runs `spin` (register arithmetic) and `_exit`, both
        // async-signal-safe: forking a multithreaded parent is sound when the child touches
        // no lock and no allocator state another thread may have held.
        match unsafe { libc::fork() } {
            -1 => return Err(io::Error::last_os_error()),
            0 => {
                std::hint::black_box(spin(iterations));
                // SAFETY: ends the child at once, running nothing of the parent's.
                unsafe { libc::_exit(0) }
            }
            pid => children.0.push(pid),
        }
    }
    children.reap();
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fraction_is_of_the_gain() {
        assert!((fraction_of_gain(1.9, 1.95) - 0.947).abs() < 0.01);
        assert!(fraction_of_gain(1.0, 1.95).abs() < 1e-9);
        // Beside a CPU hog both show less; parallel code still scores about 1.
        assert!(fraction_of_gain(1.3, 1.33) > 0.9);
    }

    #[test]
    fn only_a_free_and_steady_machine_is_judged() {
        assert!(judgeable(&[1.9, 1.95, 1.85]));
        assert!(
            !judgeable(&[1.9, 1.1, 1.95]),
            "one sample saw a busy machine"
        );
        assert!(!judgeable(&[1.9, 1.4, 1.95]), "the machine changed");
        assert!(!judgeable(&[]));
    }

    #[test]
    fn the_median_is_the_middle_value() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[4.0, 1.0]), 1.0);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn bare_processes_are_timed() {
        let iterations = iterations_for(Duration::from_millis(30));
        let machine = measure(2, iterations).expect("forked");
        assert_eq!(machine.processes, 2);
        assert!(machine.one >= Duration::from_millis(3), "{machine:?}");
        assert!(machine.many > Duration::ZERO, "{machine:?}");
        assert!(machine.speedup() > 0.2, "{machine:?}");
    }
}
