//! Speedup checks: what this machine can show right now, and the student's speedup judged
//! against it.
//!
//! A speedup measured on a shared, noisy 2-core machine means little on its own: the same
//! correct code shows 1.9× on an idle machine, 1.5× beside two CPU hogs, and about 1.0× when
//! the hogs run in another session (Linux's autogroup scheduling then gives this session's
//! processes one CPU between them, however many there are). So a speedup check measures, in
//! the same run and interleaved with the student's runs, what *bare* processes show: the
//! assignment's own CPU work ([`Work`]) done by one process, then split over `k` processes
//! started at once ([`measure_attainable`]). The student's gain over sequential is then judged as a fraction
//! of the machine's gain ([`SpeedupReading::fraction_of_attainable`]):
//!
//! ```text
//!   speedup    s = sequential time / parallel time          (median of `samples` pairs)
//!   attainable a = one bare process / k bare processes      (same work, same run)
//!   fraction     = (s − 1) / (a − 1)     1: as parallel as bare processes; 0: sequential
//! ```
//!
//! The fraction of the *gain* rather than `s / a` separates the two cases a check must tell
//! apart at any load: sequential code scores about 0 and parallel code about 1, whatever `a`
//! is. (`s / a` puts sequential code at `1 / a`: 0.5 on an idle 2-core machine, but 0.75 beside
//! one CPU hog, where correct code scores about 1: no threshold would separate them with a
//! margin.)
//!
//! The bare processes must be scheduled as the student's are (same session, cgroup and
//! namespace), so they are started by the runner, in the sandbox: a runner serves a "machine"
//! scenario with [`measure_machine`], and the check passes a closure that runs it to [`judge`].
//!
//! [`judge`] is the whole check: one core is [`Verdict::NotMeasurable`]; a reading where bare
//! processes show almost no gain ([`MIN_ATTAINABLE_GAIN`]) or that fails is measured again
//! before anything is concluded.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::checks::context::{CheckContext, Failure};
use crate::manifest::CheckKind;
use crate::verdict::{Figure, Verdict};

/// Below this gain (`a − 1`) bare processes show, the machine is too busy for a reading to
/// tell parallel code from sequential code: the check measures again, then gives up with
/// [`Verdict::NotMeasurable`].
pub const MIN_ATTAINABLE_GAIN: f64 = 0.3;

/// Below this share of a CPU for the sequential baseline (its CPU time over its wall time), a
/// sample does not count: other programs had most of the machine, and how the scheduler then
/// shares it between groups of processes favours code that sleeps and wakes (a serialised
/// program measured 1.4× "faster" than sequential that way, beside bare processes showing
/// 1.5×). With two CPU hogs in the same session the baseline still gets 2/3 of a CPU.
pub const MIN_BASELINE_SHARE: f64 = 0.5;

/// How many readings a check makes at most before concluding: a failing or unmeasurable
/// reading is measured again (a burst of load elsewhere rarely lasts that long).
pub const MAX_READINGS: u32 = 3;

/// How many readings must be too low, none enough, before a check fails: one low reading may
/// be a burst of load that hit the student's runs and spared the bare processes.
pub const LOW_READINGS_TO_FAIL: u32 = 2;

/// The cores this process may run on, affinity and cgroup quota included: the definition of
/// `multiprocessing::cpu_count()` (and of Python's `os.process_cpu_count()`). 1 when unknown.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// `Ok` when a speedup with `workers` processes can be measured here: at least two cores and
/// two workers; otherwise the [`Verdict::NotMeasurable`] that says so. A check calls it before
/// running anything, as [`judge`] does.
pub fn measurable(workers: usize) -> Result<(), Failure> {
    let cores = available_cores();
    if cores < 2 || workers < 2 {
        return Err(Failure::new(Verdict::NotMeasurable {
            why: format!(
                "{cores} core(s) available and {workers} worker(s): a speedup needs at least \
                 two of each"
            ),
        }));
    }
    Ok(())
}

/// A unit of CPU work bare processes run: `work(n)` does `n` iterations of a loop. It must be
/// arithmetic only (no system call, allocation or lock: a child forked from a multithreaded
/// process runs it), and should be the assignment's own work, so bare processes scale as the
/// student's do (two loops can scale differently on one machine, e.g. on hyperthreads).
pub type Work = fn(u64) -> u64;

/// A CPU loop for assignments without a work function of their own.
#[inline(never)]
pub fn spin(iterations: u64) -> u64 {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..iterations {
        // black_box keeps the optimiser from computing the loop's result in closed form.
        state = std::hint::black_box(state.rotate_left(5) ^ i);
    }
    state
}

/// CPU time this process has used so far (all its threads; not its children's). Unlike
/// wall time, it does not grow while other programs have the CPU, so work sized by it keeps
/// its size on a busy machine.
pub fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into a local; this clock always exists on
    // Linux, and on failure the local stays zero.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// How many iterations of `work` take about `target` of CPU time in this process (as built,
/// on this machine). Timed directly: the loop grows, aiming at 30 ms, until one run takes
/// 20 ms.
pub fn iterations_for(work: Work, target: Duration) -> u64 {
    let mut iterations: u64 = 1 << 16;
    loop {
        let started = process_cpu_time();
        std::hint::black_box(work(iterations));
        let took = process_cpu_time().saturating_sub(started).as_secs_f64();
        if took >= 0.020 || iterations >= 1 << 40 {
            let per_iteration = took / iterations as f64;
            return (target.as_secs_f64() / per_iteration.max(1e-12)).clamp(1.0, 1e13) as u64;
        }
        let factor = (0.030 / took.max(1e-6)).clamp(2.0, 64.0);
        iterations = (iterations as f64 * factor) as u64;
    }
}

/// What bare processes show on this machine: the same work done by one process, and split
/// over `processes` processes started at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attainable {
    /// How many processes shared the work in the second measurement.
    pub processes: usize,
    /// Wall time of one process doing all of it.
    pub one: Duration,
    /// Wall time of `processes` processes doing a share each.
    pub many: Duration,
}

impl Attainable {
    /// `one / many`: the speedup this machine shows right now.
    pub fn speedup(&self) -> f64 {
        self.one.as_secs_f64() / self.many.as_secs_f64().max(1e-9)
    }
}

/// Times `iterations` of `work` in one child process, then the same iterations split over
/// `processes` children started together.
///
/// The children are forked from this process, which may be multithreaded (a test harness, the
/// grader): they only call `work` and `_exit`, both safe after such a fork (see [`Work`]).
/// Each is waited for before this returns, also when a later fork fails.
pub fn measure_attainable(
    processes: usize,
    iterations: u64,
    work: Work,
) -> std::io::Result<Attainable> {
    let processes = processes.max(1);
    let one = time_children(1, iterations, work)?;
    let many = time_children(processes, iterations / processes as u64, work)?;
    Ok(Attainable {
        processes,
        one,
        many,
    })
}

/// What a runner answers to a "machine" scenario: [`measure_attainable`] with `processes`
/// processes and about `target` of CPU time of `work` in all, the loop sized in the runner
/// itself (whose build may be optimised differently from the harness's). Errors are the OS's,
/// in words.
pub fn measure_machine(
    processes: usize,
    target: Duration,
    work: Work,
) -> Result<Attainable, String> {
    measure_attainable(processes, iterations_for(work, target), work)
        .map_err(|e| format!("could not start bare processes: {e}"))
}

/// Forked children, waited for on drop.
struct Children(Vec<libc::pid_t>);

impl Children {
    fn wait_all(&mut self) {
        for pid in self.0.drain(..) {
            let mut status = 0;
            // SAFETY: waits for our own child into a local; retried on EINTR.
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

/// Wall time of `count` children each running `work(iterations)`, from the first fork to the
/// last exit.
fn time_children(count: usize, iterations: u64, work: Work) -> std::io::Result<Duration> {
    let mut children = Children(Vec::with_capacity(count));
    let started = Instant::now();
    for _ in 0..count {
        // SAFETY: the child runs only `work` (arithmetic, see `Work`) and `_exit`, which are
        // async-signal-safe, so forking a multithreaded parent is sound: it touches no lock
        // or allocator state another thread may have held at the fork.
        match unsafe { libc::fork() } {
            -1 => return Err(std::io::Error::last_os_error()),
            0 => {
                std::hint::black_box(work(iterations));
                // SAFETY: ends the child at once, running nothing of the parent's.
                unsafe { libc::_exit(0) }
            }
            pid => children.0.push(pid),
        }
    }
    children.wait_all();
    Ok(started.elapsed())
}

/// The median of some durations (the lower middle one for an even count).
pub fn median(durations: &[Duration]) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

/// The median of some ratios (the lower middle one for an even count; 1 for none).
fn median_ratio(ratios: &[f64]) -> f64 {
    let mut sorted = ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(1.0)
}

/// One run of the sequential baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Baseline {
    /// Its wall time.
    pub wall: Duration,
    /// The CPU time of its work.
    pub cpu: Duration,
}

/// One sample: one parallel run, one sequential run and one measurement of bare processes,
/// taken back to back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Wall time of the student's parallel run.
    pub parallel: Duration,
    /// Wall time of the sequential baseline.
    pub sequential: Duration,
    /// CPU time of the sequential baseline's work.
    pub sequential_cpu: Duration,
    /// What bare processes showed.
    pub attainable: f64,
}

impl Sample {
    /// The share of a CPU the sequential baseline got: its CPU time over its wall time.
    pub fn baseline_share(&self) -> f64 {
        self.sequential_cpu.as_secs_f64() / self.sequential.as_secs_f64().max(1e-9)
    }

    /// Sequential time over parallel time.
    pub fn speedup(&self) -> f64 {
        self.sequential.as_secs_f64() / self.parallel.as_secs_f64().max(1e-9)
    }

    /// The student's gain as a fraction of the machine's, `(s − 1) / (a − 1)`, when the
    /// machine showed a gain worth comparing with ([`MIN_ATTAINABLE_GAIN`]) and was not
    /// crowded ([`MIN_BASELINE_SHARE`]).
    pub fn fraction_of_attainable(&self) -> Option<f64> {
        let gain = self.attainable - 1.0;
        (gain >= MIN_ATTAINABLE_GAIN && self.baseline_share() >= MIN_BASELINE_SHARE)
            .then(|| (self.speedup() - 1.0) / gain)
    }
}

/// One reading: the samples of the student's runs and of the machine, and what they say
/// together.
///
/// The fraction is the median of the samples' own fractions, not a ratio of medians: a burst
/// of load elsewhere slows the runs of one sample together, so within a sample it mostly
/// cancels out, while the medians of the parts could each come from a different moment.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedupReading {
    /// Worker processes the parallel run used (and bare processes the machine was measured
    /// with).
    pub workers: usize,
    /// The samples, in the order they were taken.
    pub samples: Vec<Sample>,
}

/// What a reading says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadingVerdict {
    /// The student's gain reaches the required fraction of the machine's.
    Enough,
    /// It does not.
    TooLow,
    /// Bare processes showed too little gain, in too many samples, to judge by.
    Unmeasurable,
}

impl SpeedupReading {
    /// Median wall time of the sequential baseline.
    pub fn sequential(&self) -> Duration {
        median(
            &self
                .samples
                .iter()
                .map(|s| s.sequential)
                .collect::<Vec<_>>(),
        )
    }

    /// Median wall time of the student's parallel run.
    pub fn parallel(&self) -> Duration {
        median(&self.samples.iter().map(|s| s.parallel).collect::<Vec<_>>())
    }

    /// Median of the samples' speedups.
    pub fn speedup(&self) -> f64 {
        median_ratio(&self.samples.iter().map(Sample::speedup).collect::<Vec<_>>())
    }

    /// Median of what bare processes showed.
    pub fn attainable(&self) -> f64 {
        median_ratio(
            &self
                .samples
                .iter()
                .map(|s| s.attainable)
                .collect::<Vec<_>>(),
        )
    }

    /// Median share of a CPU the sequential baseline got.
    pub fn baseline_share(&self) -> f64 {
        median_ratio(
            &self
                .samples
                .iter()
                .map(Sample::baseline_share)
                .collect::<Vec<_>>(),
        )
    }

    /// Median of the samples' fractions of the attainable gain, over the samples where the
    /// machine showed one; `None` unless most samples did.
    pub fn fraction_of_attainable(&self) -> Option<f64> {
        let fractions: Vec<f64> = self
            .samples
            .iter()
            .filter_map(Sample::fraction_of_attainable)
            .collect();
        (fractions.len() * 2 > self.samples.len()).then(|| median_ratio(&fractions))
    }

    /// Speedup per worker (1 is perfect).
    pub fn efficiency(&self) -> f64 {
        self.speedup() / self.workers.max(1) as f64
    }

    /// The Karp-Flatt metric: the serial fraction of the work that would explain this speedup
    /// with this many workers (`None` with one worker).
    pub fn serial_fraction(&self) -> Option<f64> {
        let p = self.workers as f64;
        (self.workers > 1).then(|| (1.0 / self.speedup() - 1.0 / p) / (1.0 - 1.0 / p))
    }

    /// The fraction of the gain from the medians of the parts, `(s̃ − 1) / (ã − 1)`, when the
    /// median bare-process gain is worth comparing with ([`MIN_ATTAINABLE_GAIN`]).
    pub fn fraction_of_medians(&self) -> Option<f64> {
        let gain = self.attainable() - 1.0;
        (gain >= MIN_ATTAINABLE_GAIN).then(|| (self.speedup() - 1.0) / gain)
    }

    /// Judges the reading against `min_fraction` of the attainable gain.
    ///
    /// Enough when the samples' own fractions say so. Too low only when the medians of the
    /// parts agree ([`Self::fraction_of_medians`]): near the smallest gain a sample counts
    /// with, a few percent of noise in one run moves a sample's fraction a lot, and a machine
    /// whose load changed between samples can put the two estimates on either side of the
    /// threshold (seen: a reference pool at 1.46× beside bare processes at 1.37×, median of
    /// the samples' fractions 44%). Such a reading proves nothing: it is measured again.
    pub fn verdict(&self, min_fraction: f64) -> ReadingVerdict {
        match self.fraction_of_attainable() {
            None => ReadingVerdict::Unmeasurable,
            Some(fraction) if fraction >= min_fraction => ReadingVerdict::Enough,
            Some(_) => match self.fraction_of_medians() {
                Some(fraction) if fraction < min_fraction => ReadingVerdict::TooLow,
                Some(_) | None => ReadingVerdict::Unmeasurable,
            },
        }
    }

    /// The figures behind a verdict.
    pub fn figures(&self) -> Vec<Figure> {
        let mut figures = vec![
            Figure::count("workers", self.workers),
            Figure::time("sequential", self.sequential()),
            Figure::time("parallel", self.parallel()),
            Figure::ratio("speedup", self.speedup()),
            Figure::ratio("bare-process speedup", self.attainable()),
            Figure::ratio("baseline CPU share", self.baseline_share()),
        ];
        if let Some(fraction) = self.fraction_of_attainable() {
            figures.push(Figure::ratio("fraction of attainable gain", fraction));
        }
        figures.push(Figure::ratio("efficiency", self.efficiency()));
        if let Some(serial) = self.serial_fraction() {
            figures.push(Figure::ratio("Karp-Flatt serial fraction", serial));
        }
        figures
    }
}

/// The three measurements of a reading, each one run: the student's parallel run returns its
/// wall time, the sequential baseline its wall and CPU time; `machine` returns what bare
/// processes show (usually a runner's [`measure_machine`]). Any of them may end the check
/// with a failure.
pub struct Measurements<'a> {
    /// One run of the student's parallel code.
    pub parallel: &'a mut dyn FnMut() -> Result<Duration, Failure>,
    /// One run of the sequential baseline.
    pub sequential: &'a mut dyn FnMut() -> Result<Baseline, Failure>,
    /// One measurement of bare processes, in the same sandbox as the student's code.
    pub machine: &'a mut dyn FnMut() -> Result<Attainable, Failure>,
}

/// Takes one reading: `samples` rounds of the student's parallel run, the sequential
/// baseline, and bare processes, back to back.
pub fn read(
    workers: usize,
    samples: u32,
    measure: &mut Measurements<'_>,
) -> Result<SpeedupReading, Failure> {
    let samples = (0..samples.max(1))
        .map(|_| {
            let parallel = (measure.parallel)()?;
            let baseline = (measure.sequential)()?;
            Ok(Sample {
                parallel,
                sequential: baseline.wall,
                sequential_cpu: baseline.cpu,
                attainable: (measure.machine)()?.speedup(),
            })
        })
        .collect::<Result<Vec<Sample>, Failure>>()?;
    Ok(SpeedupReading { workers, samples })
}

/// The whole speedup check: not measurable with one core or one worker; otherwise up to
/// [`MAX_READINGS`] readings ([`read`]) until one is enough; `workers` is the number of
/// processes the student's parallel run uses, and of bare processes `measure.machine` runs.
/// Passes with the first reading that is enough; fails once [`LOW_READINGS_TO_FAIL`] readings
/// were too low (none enough), with the last of them and `meaning(reading)` naming the likely
/// mistake; otherwise the machine was too busy: [`Verdict::NotMeasurable`].
///
/// `ctx.check.kind` must be [`CheckKind::Speedup`] (its `min_fraction_of_attainable` and
/// `samples`).
pub fn judge(
    ctx: &CheckContext<'_>,
    workers: usize,
    measure: &mut Measurements<'_>,
    meaning: &dyn Fn(&SpeedupReading) -> String,
) -> Result<Vec<Figure>, Failure> {
    let CheckKind::Speedup {
        min_fraction_of_attainable,
        samples,
    } = ctx.check.kind
    else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: format!("{} must be a speedup check in the manifest", ctx.check.id),
        }));
    };
    measurable(workers)?;
    let mut low_readings = 0;
    let mut last: Option<SpeedupReading> = None;
    for _ in 0..MAX_READINGS {
        let reading = read(workers, samples, measure)?;
        let verdict = reading.verdict(min_fraction_of_attainable);
        if verdict == ReadingVerdict::Enough {
            return Ok(reading.figures());
        }
        if verdict == ReadingVerdict::TooLow {
            low_readings += 1;
        }
        last = Some(reading);
        if low_readings >= LOW_READINGS_TO_FAIL {
            break;
        }
    }
    if let Some(reading) = last
        .as_ref()
        .filter(|_| low_readings >= LOW_READINGS_TO_FAIL)
    {
        let attainable = reading.attainable();
        return Err(Failure::wrong(
            format!(
                "a speedup of at least {:.2} with {workers} workers: {:.0}% of the gain bare \
                 processes show here ({attainable:.2}×)",
                1.0 + min_fraction_of_attainable * (attainable - 1.0),
                min_fraction_of_attainable * 100.0,
            ),
            format!(
                "{:.2}× ({:.0} ms sequential, {:.0} ms parallel): {:.0}% of the attainable gain \
                 ({low_readings} readings of {samples} samples, all too low)",
                reading.speedup(),
                reading.sequential().as_secs_f64() * 1000.0,
                reading.parallel().as_secs_f64() * 1000.0,
                reading.fraction_of_attainable().unwrap_or(0.0) * 100.0
            ),
            meaning(reading),
        )
        .with_figures(reading.figures()));
    }
    let attainable = last.as_ref().map_or(1.0, SpeedupReading::attainable);
    Err(Failure::new(Verdict::NotMeasurable {
        why: format!(
            "in {MAX_READINGS} readings, the machine was too busy to tell parallel code from \
             sequential code ({low_readings} readings were measurable; in the last, bare \
             processes showed {attainable:.2}× with {workers} processes on {} cores, and the \
             sequential baseline got {:.0}% of a CPU)",
            available_cores(),
            last.as_ref().map_or(0.0, SpeedupReading::baseline_share) * 100.0
        ),
    })
    .with_figures(last.map(|r| r.figures()).unwrap_or_default()))
}

/// Work bare processes share that is not a loop of iterations ([`Work`]): a fixed job, made
/// ready by the parent before it forks, of which `run(part, parts)` does share `part`
/// (0-based) of `parts` about equal shares. a06's job is searching the corpus's page-cached
/// files, which spends its time reading memory and in the kernel (mapping pages), not in a
/// register loop, so a CPU loop would not scale as the student's search does.
///
/// It runs in a child forked from a process that may be multithreaded: it may use what the
/// parent prepared and make plain system calls (`open`, `fstat`, `mmap`, `munmap`, `close`),
/// but must not allocate, lock, print or panic (a panic ends the child with a failure).
pub trait SplitWork {
    /// Does share `part` of `parts` (`part < parts`). The value depends on the work, so it is
    /// not optimised away; an error (a file that could not be read) fails the measurement,
    /// which would otherwise time less work than the student's code did.
    fn run(&self, part: usize, parts: usize) -> std::io::Result<u64>;
}

/// [`measure_attainable`] for [`SplitWork`]: all of `work` done by one child process
/// (`run(0, 1)`), then by `processes` children started at once, each doing its share. Every
/// child is waited for before this returns, also when a later fork fails; a child whose share
/// failed makes the whole measurement an error.
pub fn measure_attainable_split(
    processes: usize,
    work: &dyn SplitWork,
) -> std::io::Result<Attainable> {
    let processes = processes.max(1);
    let one = time_split(1, work)?;
    let many = time_split(processes, work)?;
    Ok(Attainable {
        processes,
        one,
        many,
    })
}

/// Exit status of a bare process whose share of a [`SplitWork`] failed.
const SPLIT_SHARE_FAILED: i32 = 1;

/// Wall time of `parts` children each doing its share of `work`, from the first fork to the
/// last exit ([`time_children`] for [`SplitWork`]).
fn time_split(parts: usize, work: &dyn SplitWork) -> std::io::Result<Duration> {
    let mut children = Children(Vec::with_capacity(parts));
    let started = Instant::now();
    for part in 0..parts {
        // SAFETY: the child runs only `work.run` (system calls and what the parent prepared,
        // no lock or allocator: see `SplitWork`) and `_exit`, so forking a multithreaded
        // parent is sound. A panic is caught so the child never returns into the parent's
        // code.
        match unsafe { libc::fork() } {
            -1 => return Err(std::io::Error::last_os_error()),
            0 => {
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    std::hint::black_box(work.run(part, parts)).is_ok()
                }));
                let status = if matches!(ran, Ok(true)) {
                    0
                } else {
                    SPLIT_SHARE_FAILED
                };
                // SAFETY: ends the child at once, running nothing of the parent's.
                unsafe { libc::_exit(status) }
            }
            pid => children.0.push(pid),
        }
    }
    let all_done = children.wait_all_succeeded();
    let took = started.elapsed();
    if all_done {
        Ok(took)
    } else {
        Err(std::io::Error::other(
            "a bare process could not do its share of the work",
        ))
    }
}

impl Children {
    /// Waits for every child, like `wait_all`; true when each exited with status 0.
    fn wait_all_succeeded(&mut self) -> bool {
        let mut succeeded = true;
        for pid in self.0.drain(..) {
            let mut status = 0;
            // SAFETY: waits for our own child into a local; retried on EINTR.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
                if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    status = -1;
                    break;
                }
            }
            succeeded &= libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        }
        succeeded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reading of 3 samples, each with these times and this bare-process speedup.
    fn reading(sequential_ms: u64, parallel_ms: u64, attainable: f64) -> SpeedupReading {
        let sample = Sample {
            sequential: Duration::from_millis(sequential_ms),
            sequential_cpu: Duration::from_millis(sequential_ms),
            parallel: Duration::from_millis(parallel_ms),
            attainable,
        };
        SpeedupReading {
            workers: 2,
            samples: vec![sample; 3],
        }
    }

    #[test]
    fn the_fraction_is_of_the_gain() {
        let parallel = reading(400, 210, 1.95);
        assert!(parallel.fraction_of_attainable().expect("measurable") > 0.9);
        let sequential = reading(400, 400, 1.95);
        assert!(
            sequential
                .fraction_of_attainable()
                .expect("measurable")
                .abs()
                < 1e-9
        );
        // Beside CPU hogs the machine shows little, and so does correct code: still ~1.
        let busy = reading(400, 300, 1.33);
        assert!(busy.fraction_of_attainable().expect("measurable") > 0.95);
    }

    #[test]
    fn a_low_reading_whose_medians_disagree_proves_nothing() {
        let sample = |sequential_ms: u64, parallel_ms: u64, attainable: f64| Sample {
            sequential: Duration::from_millis(sequential_ms),
            sequential_cpu: Duration::from_millis(sequential_ms),
            parallel: Duration::from_millis(parallel_ms),
            attainable,
        };
        // Fractions 0.40, 0.33 and 1.24: their median is low; the medians of the parts
        // (1.46× against 1.37×) are not.
        let unsteady = SpeedupReading {
            workers: 2,
            samples: vec![
                sample(480, 300, 2.5),
                sample(440, 400, 1.3),
                sample(438, 300, 1.37),
            ],
        };
        assert!(unsteady.fraction_of_attainable().expect("measurable") < 0.5);
        assert!(unsteady.fraction_of_medians().expect("measurable") > 0.5);
        assert_eq!(unsteady.verdict(0.5), ReadingVerdict::Unmeasurable);
        // Sequential code is low by both.
        assert_eq!(reading(400, 400, 1.6).verdict(0.5), ReadingVerdict::TooLow);
    }

    #[test]
    fn readings_are_judged_against_the_gain_and_the_machine() {
        assert_eq!(reading(400, 210, 1.95).verdict(0.5), ReadingVerdict::Enough);
        assert_eq!(reading(400, 380, 1.95).verdict(0.5), ReadingVerdict::TooLow);
        assert_eq!(
            reading(400, 210, 1.1).verdict(0.5),
            ReadingVerdict::Unmeasurable
        );
    }

    #[test]
    fn each_sample_is_judged_with_its_own_machine_reading() {
        let ms = Duration::from_millis;
        let sample = |sequential, parallel, attainable| Sample {
            sequential: ms(sequential),
            sequential_cpu: ms(400),
            parallel: ms(parallel),
            attainable,
        };
        // Sequential code under a load that comes and goes: its speedups and the machine's
        // move together, and each sample's own fraction stays low, while the medians of the
        // parts (1.2 and 1.37) would suggest 54%.
        let bursty = SpeedupReading {
            workers: 2,
            samples: vec![
                sample(400, 412, 1.37),
                sample(800, 488, 1.32), // 50% of a CPU: still counts
                sample(400, 333, 1.78),
            ],
        };
        let fraction = bursty.fraction_of_attainable().expect("measurable");
        assert!(fraction < 0.3, "{fraction}");
        // A sample where the machine showed nothing is left out; most must remain.
        let mostly_busy = SpeedupReading {
            workers: 2,
            samples: vec![
                sample(400, 210, 1.9),
                sample(400, 390, 1.0),
                sample(400, 390, 1.05),
            ],
        };
        assert_eq!(mostly_busy.verdict(0.5), ReadingVerdict::Unmeasurable);
        // So is a sample where the baseline got under half a CPU, whatever it shows.
        let crowded = SpeedupReading {
            workers: 2,
            samples: vec![sample(1000, 700, 1.5); 3],
        };
        assert_eq!(crowded.verdict(0.5), ReadingVerdict::Unmeasurable);
    }

    #[test]
    fn karp_flatt_is_zero_for_a_perfect_speedup() {
        let perfect = reading(400, 200, 2.0);
        assert!(perfect.serial_fraction().expect("two workers").abs() < 1e-9);
        let serial = reading(400, 400, 2.0);
        assert!((serial.serial_fraction().expect("two workers") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn medians_are_the_middle() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(median(&[ms(4), ms(1)]), ms(1));
        assert_eq!(median(&[]), Duration::ZERO);
        assert_eq!(median_ratio(&[2.0, 0.5, 1.5]), 1.5);
        assert_eq!(median_ratio(&[]), 1.0);
    }

    #[test]
    fn a_reading_interleaves_its_samples() {
        let ms = Duration::from_millis;
        let mut order = Vec::new();
        let mut parallel_times = [ms(200), ms(900), ms(210)].into_iter();
        let order_cell = std::cell::RefCell::new(&mut order);
        let reading = read(
            2,
            3,
            &mut Measurements {
                parallel: &mut || {
                    order_cell.borrow_mut().push("parallel");
                    Ok(parallel_times.next().unwrap_or_default())
                },
                sequential: &mut || {
                    order_cell.borrow_mut().push("sequential");
                    Ok(Baseline {
                        wall: ms(400),
                        cpu: ms(400),
                    })
                },
                machine: &mut || {
                    order_cell.borrow_mut().push("machine");
                    Ok(Attainable {
                        processes: 2,
                        one: ms(400),
                        many: ms(210),
                    })
                },
            },
        )
        .expect("reads");
        assert_eq!(order[..3], ["parallel", "sequential", "machine"]);
        assert_eq!(order.len(), 9);
        // The outlier (900 ms) does not count.
        assert_eq!(reading.parallel(), ms(210));
        assert!((reading.speedup() - 400.0 / 210.0).abs() < 1e-9);
        assert!((reading.attainable() - 400.0 / 210.0).abs() < 1e-9);
    }

    /// Runs `judge` with readings scripted as (parallel ms, bare speedup) per sample, the
    /// sequential baseline always 400 ms, 3 samples per reading (the check below).
    fn judged(script: &[(u64, f64)]) -> (Result<Vec<Figure>, Failure>, usize) {
        let manifest = crate::manifest::Manifest::parse_unchecked(
            r#"
format = 1
[[assignment]]
id = "a98-speedup"
title = "t"
order = 0
lesson = { seed = "s", section = "s" }
summary = "s"
[[assignment.check]]
id = "speedup"
title = "t"
kind = "speedup"
visibility = "visible"
points = 1
timeout_secs = 5
min_fraction_of_attainable = 0.5
samples = 3
"#,
        )
        .expect("parses");
        let assignment = &manifest.assignments[0];
        let ctx = CheckContext {
            assignment,
            check: &assignment.checks[0],
            runner: std::path::Path::new("/nonexistent"),
            package: "none",
            seed: crate::seed::Seed::DEFAULT,
            sandbox: crate::run::SandboxOptions::default(),
        };
        let ms = Duration::from_millis;
        let (mut next_parallel, mut next_machine) = (script.iter(), script.iter());
        let mut machines = 0;
        let result = judge(
            &ctx,
            2,
            &mut Measurements {
                parallel: &mut || Ok(ms(next_parallel.next().expect("scripted").0)),
                sequential: &mut || {
                    Ok(Baseline {
                        wall: ms(400),
                        cpu: ms(390),
                    })
                },
                machine: &mut || {
                    machines += 1;
                    let attainable = next_machine.next().expect("scripted").1;
                    Ok(Attainable {
                        processes: 2,
                        one: ms(400),
                        many: Duration::from_secs_f64(0.4 / attainable),
                    })
                },
            },
            &|_| "meaning".to_owned(),
        );
        (result, machines / 3)
    }

    #[test]
    fn judge_passes_at_the_first_reading_that_is_enough() {
        if available_cores() < 2 {
            return; // judge() says not measurable before it reads anything
        }
        let (result, readings) = judged(&[(210, 1.9); 3]);
        assert!(result.is_ok());
        assert_eq!(readings, 1);
        let busy_then_enough = [[(390, 1.05); 3], [(210, 1.9); 3]].concat();
        let (result, readings) = judged(&busy_then_enough);
        assert!(result.is_ok());
        assert_eq!(readings, 2);
    }

    #[test]
    fn judge_fails_only_after_two_low_readings() {
        if available_cores() < 2 {
            return; // judge() says not measurable before it reads anything
        }
        let (result, readings) = judged(&[(400, 1.9); 6]);
        let failure = result.expect_err("sequential");
        assert_eq!(failure.verdict.label(), "wrong-answer");
        assert!(failure.verdict.to_string().contains("meaning"));
        assert_eq!(readings, 2);
        // One low reading between unmeasurable ones is a busy machine, not a verdict.
        let one_low = [[(400, 1.05); 3], [(400, 1.9); 3], [(400, 1.05); 3]].concat();
        let (result, readings) = judged(&one_low);
        assert_eq!(
            result.expect_err("not judged").verdict.label(),
            "not-measurable"
        );
        assert_eq!(readings, 3);
    }

    #[test]
    fn one_worker_is_not_measurable() {
        let failure = measurable(1).expect_err("one worker");
        assert_eq!(failure.verdict.label(), "not-measurable");
    }

    #[test]
    fn bare_processes_are_measured_and_reaped() {
        let machine = measure_machine(2, Duration::from_millis(40), spin).expect("forks");
        assert_eq!(machine.processes, 2);
        assert!(machine.one >= Duration::from_millis(5), "{machine:?}");
        assert!(machine.speedup() > 0.3, "{machine:?}");
        // Every child was waited for: none is left, not even as a zombie.
        let me = std::process::id();
        assert!(
            crate::procfs::children_of(me).is_empty(),
            "children left: {:?}",
            crate::procfs::children_of(me)
        );
    }
}
