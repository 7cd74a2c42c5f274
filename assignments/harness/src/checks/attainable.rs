//! What speedup this machine can show right now: the yardstick of every speedup check.
//!
//! On a shared, noisy machine a speedup means little on its own: correct parallel code shows
//! 1.9× on an idle 2-core machine and 1.4× beside a CPU hog. So a speedup check measures, in
//! the same run and between the student's runs, what *bare* processes show: the same CPU work
//! done by one process, then split over `k` processes started at once
//! ([`measure_attainable`]). The student's speedup is then judged against it
//! ([`Attainable::fraction_of_gain`]):
//!
//! ```text
//!   speedup    s = sequential time / parallel time
//!   attainable a = one bare process / k bare processes     (same work, same moment)
//!   fraction     = (s − 1) / (a − 1)     1: as parallel as bare processes; 0: sequential
//! ```
//!
//! The fraction is of the *gain*, not `s / a`: sequential code scores about 0 and parallel
//! code about 1 whatever the load, while `s / a` puts sequential code at `1 / a` (0.5 on an
//! idle 2-core machine, 0.75 beside a CPU hog, where correct code scores about 1), which no
//! threshold separates with a margin.

use std::time::{Duration, Instant};

/// The cores this process may run on (affinity and cgroup quota included): the definition
/// of `multiprocessing::cpu_count()` and of Python's `os.process_cpu_count()`. 1 when unknown.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Below this gain (`a − 1`) bare processes show, the machine is too busy for a reading to
/// tell parallel code from sequential code: a check should measure again or conclude "not
/// measurable", never "too slow".
pub const MIN_ATTAINABLE_GAIN: f64 = 0.25;

/// What bare processes showed: the same work done by one process, then split over
/// `processes` processes started together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attainable {
    /// How many processes shared the work in the second measurement.
    pub processes: usize,
    /// Wall time of one process doing all the work.
    pub one: Duration,
    /// Wall time of `processes` processes doing a share each.
    pub many: Duration,
}

impl Attainable {
    /// `one / many`: the speedup this machine showed.
    pub fn speedup(&self) -> f64 {
        self.one.as_secs_f64() / self.many.as_secs_f64().max(1e-9)
    }

    /// How much of the machine's gain a measured `speedup` reaches: `(s − 1) / (a − 1)`.
    pub fn fraction_of_gain(&self, speedup: f64) -> f64 {
        fraction_of_gain(speedup, self.speedup())
    }

    /// True when the machine showed too little gain to judge a speedup by
    /// ([`MIN_ATTAINABLE_GAIN`]).
    pub fn too_busy(&self) -> bool {
        self.speedup() - 1.0 < MIN_ATTAINABLE_GAIN
    }
}

/// `(speedup − 1) / (attainable − 1)`: the share of the attainable gain a speedup reaches.
pub fn fraction_of_gain(speedup: f64, attainable: f64) -> f64 {
    (speedup - 1.0) / (attainable - 1.0).max(1e-9)
}

/// Times `units` calls of `work(arg)` in one child process, then the same calls split as
/// evenly as possible over `processes` children started together.
///
/// `work` must be pure computation (no allocation, lock, I/O or panic): the children are
/// forked from this process, which may be multithreaded (a test harness, the grader), and
/// only such code is safe after that fork. Every child is waited for before this returns,
/// also when a fork fails.
pub fn measure_attainable(
    processes: usize,
    units: usize,
    work: fn(u64) -> u64,
    arg: u64,
) -> std::io::Result<Attainable> {
    let processes = processes.max(1);
    let units = units.max(processes);
    let one = time_children(&[units], work, arg)?;
    let shares: Vec<usize> = (0..processes)
        .map(|i| units / processes + usize::from(i < units % processes))
        .collect();
    let many = time_children(&shares, work, arg)?;
    Ok(Attainable {
        processes,
        one,
        many,
    })
}

/// Forked children, waited for on drop.
struct Children(Vec<libc::pid_t>);

impl Children {
    fn wait_all(&mut self) {
        for pid in self.0.drain(..) {
            let mut status = 0;
            // SAFETY: waits for our own child, writing only into a local; retried on EINTR.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.wait_all();
    }
}

/// Wall time from the first fork to the last exit of one child per share, each calling
/// `work(arg)` as many times as its share says.
fn time_children(shares: &[usize], work: fn(u64) -> u64, arg: u64) -> std::io::Result<Duration> {
    let mut children = Children(Vec::with_capacity(shares.len()));
    let started = Instant::now();
    for &share in shares {
        // SAFETY: the child calls only `work` (pure computation, by this function's contract)
        // and `_exit`, which is async-signal-safe: forking a multithreaded parent is sound
        // when the child touches no lock or allocator state another thread may have held.
        match unsafe { libc::fork() } {
            -1 => return Err(std::io::Error::last_os_error()),
            0 => {
                for _ in 0..share {
                    std::hint::black_box(work(std::hint::black_box(arg)));
                }
                // SAFETY: ends the child at once, running nothing of the parent's (no atexit
                // handler, no destructor, no stdio flush).
                unsafe { libc::_exit(0) }
            }
            pid => children.0.push(pid),
        }
    }
    children.wait_all();
    Ok(started.elapsed())
}

/// The median of some durations (the lower middle one for an even count; zero for none).
pub fn median(durations: &[Duration]) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn spin(iterations: u64) -> u64 {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..iterations {
            state = std::hint::black_box(state.rotate_left(5) ^ i);
        }
        state
    }

    #[test]
    fn the_fraction_is_of_the_gain() {
        assert!((fraction_of_gain(1.9, 1.95) - 0.947).abs() < 0.01);
        assert!(fraction_of_gain(1.0, 1.95).abs() < 1e-9);
        // Beside a CPU hog the machine shows little, and so does correct code: still about 1.
        assert!(fraction_of_gain(1.3, 1.33) > 0.9);
        let machine = Attainable {
            processes: 2,
            one: Duration::from_millis(400),
            many: Duration::from_millis(200),
        };
        assert!((machine.speedup() - 2.0).abs() < 1e-9);
        assert!((machine.fraction_of_gain(1.5) - 0.5).abs() < 1e-9);
        assert!(!machine.too_busy());
        let busy = Attainable {
            many: Duration::from_millis(380),
            ..machine
        };
        assert!(busy.too_busy());
    }

    #[test]
    fn the_median_is_the_middle() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(median(&[ms(4), ms(1)]), ms(1));
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn bare_processes_are_measured_and_reaped() {
        let machine = measure_attainable(2, 4, spin, 2_000_000).expect("forks");
        assert_eq!(machine.processes, 2);
        assert!(machine.one > Duration::ZERO && machine.many > Duration::ZERO);
        // Noisy machines make any bound on the ratio flaky; it is at least positive.
        assert!(machine.speedup() > 0.2, "{machine:?}");
        // Every child was waited for: none is left, not even as a zombie.
        let me = std::process::id();
        assert!(
            crate::procfs::children_of(me).is_empty(),
            "children left: {:?}",
            crate::procfs::children_of(me)
        );
    }
}
