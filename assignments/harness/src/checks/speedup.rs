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
//! [`judge`] is the whole check: one core is [`Verdict::NotMeasurable`]; otherwise it takes
//! samples until their votes decide ([`Sample::vote`], [`SpeedupReading::decision`]). Each
//! sample votes on its own: its fraction well above the threshold votes "enough", well below
//! "too low", near it or on a machine showing almost no gain ([`MIN_ATTAINABLE_GAIN`]) not at
//! all. The verdict needs one side to lead by the manifest's `samples` votes: on a quiet
//! machine, that many samples that agree; on a busy one, as many as the noise takes, and
//! [`Verdict::NotMeasurable`] when the lead cannot be reached within
//! [`MAX_SAMPLES_PER_LEAD`] × `samples`. Counting votes is a sequential test (Wald's, with the
//! two hypotheses "this code is parallel" and "it is not"): its error rates fall
//! geometrically with the lead, whereas a median over a fixed handful of samples lets two
//! lucky samples out of three decide (beside a CPU hog, that passed a program serialised by a
//! lock and failed the reference pool, each about once in ten gradings).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::checks::context::{CheckContext, Failure};
use crate::manifest::CheckKind;
use crate::verdict::{Figure, Verdict};

/// Below this gain (`a − 1`) bare processes show, the machine is too busy for a sample to
/// tell parallel code from sequential code: the sample does not vote.
pub const MIN_ATTAINABLE_GAIN: f64 = 0.3;

/// Below this share of a CPU for the sequential baseline (its CPU time over its wall time), a
/// sample does not count: other programs had most of the machine, and how the scheduler then
/// shares it between groups of processes favours code that sleeps and wakes (a serialised
/// program measured 1.4× "faster" than sequential that way, beside bare processes showing
/// 1.5×). With two CPU hogs in the same session the baseline still gets 2/3 of a CPU.
pub const MIN_BASELINE_SHARE: f64 = 0.5;

/// Where a sample starts to vote "enough" against a threshold `min_fraction` of the attainable
/// gain: halfway from the threshold to 1, the fraction bare processes score (0.75 at the
/// course's 0.5). Correct code scores about 1 and sequential code about 0, so on a quiet
/// machine every sample votes; beside a CPU hog a sample's fraction can stray by ±0.5
/// (measured: a reference pool's samples from 0.24 to 1.7, a serialised program's from −1.0
/// to 0.9), and a sample close to the threshold says nothing about which side the code is on.
/// Halfway rather than a fixed distance keeps "enough" reachable by code as parallel as bare
/// processes whatever the threshold (a fixed 0.25 above a threshold of 0.8 would ask for more
/// than bare processes show).
pub fn enough_from(min_fraction: f64) -> f64 {
    min_fraction + (1.0 - min_fraction) / 2.0
}

/// Where a sample starts to vote "too low": halfway from the threshold down to 0, the fraction
/// sequential code scores (0.25 at the course's 0.5); see [`enough_from`].
pub fn too_low_up_to(min_fraction: f64) -> f64 {
    min_fraction / 2.0
}

/// A check takes at most this many times the lead it needs in samples; when the lead cannot
/// be reached in the samples left, the machine was too noisy and the check says so.
pub const MAX_SAMPLES_PER_LEAD: u32 = 4;

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

    /// What this sample says about the code against `min_fraction` of the attainable gain:
    /// nothing when the machine showed too little or the fraction lies strictly between the
    /// bounds [`too_low_up_to`] and [`enough_from`] set for the threshold.
    pub fn vote(&self, min_fraction: f64) -> Option<Vote> {
        let fraction = self.fraction_of_attainable()?;
        if fraction >= enough_from(min_fraction) {
            Some(Vote::Enough)
        } else if fraction <= too_low_up_to(min_fraction) {
            Some(Vote::TooLow)
        } else {
            None
        }
    }
}

/// A sample's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    /// The student's gain is well above the required fraction of the machine's.
    Enough,
    /// It is well below.
    TooLow,
}

/// The samples of one check, the student's runs and the machine's, and what they say
/// together.
///
/// Each sample is judged with its own machine reading, never the medians of the parts
/// against each other: a burst of load elsewhere slows the runs of one sample together, so
/// within a sample it mostly cancels out, while the medians of the parts could each come
/// from a different moment.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedupReading {
    /// Worker processes the parallel run used (and bare processes the machine was measured
    /// with).
    pub workers: usize,
    /// The samples, in the order they were taken.
    pub samples: Vec<Sample>,
}

/// The samples' votes so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Samples that voted [`Vote::Enough`].
    pub enough: u32,
    /// Samples that voted [`Vote::TooLow`].
    pub too_low: u32,
    /// Samples too close to the threshold, or taken while the machine showed too little.
    pub abstained: u32,
}

/// What the samples so far decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The student's gain reaches the required fraction of the machine's.
    Enough,
    /// It does not.
    TooLow,
    /// Neither side leads enough yet: take another sample.
    Undecided,
    /// Neither side can lead enough in the samples left: the machine was too noisy or too
    /// busy to judge by.
    Unmeasurable,
}

impl SpeedupReading {
    /// No samples yet.
    pub fn new(workers: usize) -> SpeedupReading {
        SpeedupReading {
            workers,
            samples: Vec::new(),
        }
    }

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
    /// machine showed one; `None` when none did.
    pub fn fraction_of_attainable(&self) -> Option<f64> {
        let fractions: Vec<f64> = self
            .samples
            .iter()
            .filter_map(Sample::fraction_of_attainable)
            .collect();
        (!fractions.is_empty()).then(|| median_ratio(&fractions))
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

    /// The samples' votes against `min_fraction` of the attainable gain.
    pub fn tally(&self, min_fraction: f64) -> Tally {
        let mut tally = Tally::default();
        for sample in &self.samples {
            match sample.vote(min_fraction) {
                Some(Vote::Enough) => tally.enough += 1,
                Some(Vote::TooLow) => tally.too_low += 1,
                None => tally.abstained += 1,
            }
        }
        tally
    }

    /// What the samples decide against `min_fraction` of the attainable gain, when a verdict
    /// needs one side to lead the other by `lead` votes within `max_samples` samples.
    pub fn decision(&self, min_fraction: f64, lead: u32, max_samples: u32) -> Decision {
        let tally = self.tally(min_fraction);
        let lead = lead.max(1);
        if tally.enough >= tally.too_low + lead {
            return Decision::Enough;
        }
        if tally.too_low >= tally.enough + lead {
            return Decision::TooLow;
        }
        let taken = u32::try_from(self.samples.len()).unwrap_or(u32::MAX);
        let left = max_samples.saturating_sub(taken);
        if left < lead - tally.enough.abs_diff(tally.too_low) {
            Decision::Unmeasurable
        } else {
            Decision::Undecided
        }
    }

    /// The figures behind a verdict.
    pub fn figures(&self, min_fraction: f64) -> Vec<Figure> {
        let tally = self.tally(min_fraction);
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
        figures.extend([
            Figure::count("samples", self.samples.len()),
            Figure::count("samples voting enough", tally.enough as usize),
            Figure::count("samples voting too low", tally.too_low as usize),
            Figure::ratio("efficiency", self.efficiency()),
        ]);
        if let Some(serial) = self.serial_fraction() {
            figures.push(Figure::ratio("Karp-Flatt serial fraction", serial));
        }
        figures
    }
}

/// The three measurements of a sample, each one run: the student's parallel run returns its
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

/// Takes one sample: the student's parallel run, the sequential baseline and bare processes,
/// back to back.
pub fn take_sample(measure: &mut Measurements<'_>) -> Result<Sample, Failure> {
    let parallel = (measure.parallel)()?;
    let baseline = (measure.sequential)()?;
    Ok(Sample {
        parallel,
        sequential: baseline.wall,
        sequential_cpu: baseline.cpu,
        attainable: (measure.machine)()?.speedup(),
    })
}

/// The whole speedup check: not measurable with one core or one worker; otherwise samples
/// ([`take_sample`]) until they decide ([`SpeedupReading::decision`], with the manifest's
/// `samples` as the lead and at most [`MAX_SAMPLES_PER_LEAD`] times as many samples);
/// `workers` is the number of processes the student's parallel run uses, and of bare
/// processes `measure.machine` runs. A failure shows the samples' medians and
/// `meaning(reading)` naming the likely mistake; undecided samples are
/// [`Verdict::NotMeasurable`].
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
        min_fraction_of_attainable: min_fraction,
        samples: lead,
    } = ctx.check.kind
    else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: format!("{} must be a speedup check in the manifest", ctx.check.id),
        }));
    };
    measurable(workers)?;
    let lead = lead.max(1);
    let max_samples = lead.saturating_mul(MAX_SAMPLES_PER_LEAD);
    let mut reading = SpeedupReading::new(workers);
    loop {
        reading.samples.push(take_sample(measure)?);
        match reading.decision(min_fraction, lead, max_samples) {
            Decision::Undecided => continue,
            Decision::Enough => return Ok(reading.figures(min_fraction)),
            Decision::TooLow => return Err(too_low(&reading, min_fraction, meaning)),
            Decision::Unmeasurable => return Err(unmeasurable(&reading, min_fraction)),
        }
    }
}

/// The failure of a check whose samples decided "too low".
fn too_low(
    reading: &SpeedupReading,
    min_fraction: f64,
    meaning: &dyn Fn(&SpeedupReading) -> String,
) -> Failure {
    let attainable = reading.attainable();
    let tally = reading.tally(min_fraction);
    Failure::wrong(
        format!(
            "a speedup of at least {:.2} with {} workers: {:.0}% of the gain bare processes \
             show here ({attainable:.2}×)",
            1.0 + min_fraction * (attainable - 1.0),
            reading.workers,
            min_fraction * 100.0,
        ),
        format!(
            "{:.2}× ({:.0} ms sequential, {:.0} ms parallel): {:.0}% of the attainable gain \
             (medians of {} samples: {} too low, {} enough, {} could not tell)",
            reading.speedup(),
            reading.sequential().as_secs_f64() * 1000.0,
            reading.parallel().as_secs_f64() * 1000.0,
            reading.fraction_of_attainable().unwrap_or(0.0) * 100.0,
            reading.samples.len(),
            tally.too_low,
            tally.enough,
            tally.abstained,
        ),
        meaning(reading),
    )
    .with_figures(reading.figures(min_fraction))
}

/// The verdict of a check whose samples could not decide.
fn unmeasurable(reading: &SpeedupReading, min_fraction: f64) -> Failure {
    let tally = reading.tally(min_fraction);
    Failure::new(Verdict::NotMeasurable {
        why: format!(
            "in {} samples, the machine was too busy or too noisy to tell parallel code from \
             sequential code ({} voted enough, {} too low, {} could not tell; bare processes \
             showed {:.2}× with {} processes on {} cores, and the sequential baseline got {:.0}% \
             of a CPU, medians)",
            reading.samples.len(),
            tally.enough,
            tally.too_low,
            tally.abstained,
            reading.attainable(),
            reading.workers,
            available_cores(),
            reading.baseline_share() * 100.0
        ),
    })
    .with_figures(reading.figures(min_fraction))
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

    /// A sample with these wall times (the baseline's CPU time 400 ms) and this bare-process
    /// speedup.
    fn sample(sequential_ms: u64, parallel_ms: u64, attainable: f64) -> Sample {
        Sample {
            sequential: Duration::from_millis(sequential_ms),
            sequential_cpu: Duration::from_millis(400),
            parallel: Duration::from_millis(parallel_ms),
            attainable,
        }
    }

    #[test]
    fn a_sample_votes_only_when_clearly_on_one_side() {
        // Threshold 0.5, so votes from 0.75 up and 0.25 down (bare processes at 1.8×).
        assert_eq!(sample(400, 230, 1.8).vote(0.5), Some(Vote::Enough)); // 0.92
        assert_eq!(sample(400, 400, 1.8).vote(0.5), Some(Vote::TooLow)); // 0
        assert_eq!(sample(400, 320, 1.8).vote(0.5), None); // 0.31: could not tell
        assert_eq!(sample(400, 270, 1.8).vote(0.5), None); // 0.60
        // A machine showing almost no gain, or a crowded baseline, says nothing.
        assert_eq!(sample(400, 210, 1.1).vote(0.5), None);
        assert_eq!(sample(1000, 500, 1.8).vote(0.5), None);
    }

    #[test]
    fn votes_start_halfway_from_the_threshold_to_either_end() {
        // The course's threshold: the bounds the accuracy runs measured.
        assert_eq!((too_low_up_to(0.5), enough_from(0.5)), (0.25, 0.75));
        // A demanding threshold still lets code as parallel as bare processes (fraction 1)
        // vote "enough", and sequential code (fraction 0) vote "too low".
        for min_fraction in [0.1, 0.5, 0.8, 0.9, 1.0] {
            assert!(min_fraction < enough_from(min_fraction) || min_fraction == 1.0);
            assert!(enough_from(min_fraction) <= 1.0);
            assert!(too_low_up_to(min_fraction) < min_fraction);
            assert!(too_low_up_to(min_fraction) > 0.0);
        }
        // Bare processes at 1.8×: a sample at 0.92 of their gain is "enough" for 0.8 too,
        // one at 0.7 is too close to 0.8 to vote.
        assert_eq!(sample(400, 230, 1.8).vote(0.8), Some(Vote::Enough));
        assert_eq!(sample(400, 255, 1.8).vote(0.8), None);
    }

    #[test]
    fn two_lucky_samples_do_not_pass_serialised_code() {
        // A serialised program's samples beside a CPU hog (fractions 0.55, 0.62 and −0.75,
        // seen): a median of three passed it; votes do not.
        let lucky = SpeedupReading {
            workers: 2,
            samples: vec![
                sample(600, 480, 1.45),
                sample(640, 500, 1.45),
                sample(600, 830, 1.37),
            ],
        };
        assert!(lucky.fraction_of_attainable().expect("measurable") >= 0.5);
        assert_eq!(lucky.tally(0.5).enough, 0);
        assert_eq!(lucky.decision(0.5, 3, 12), Decision::Undecided);
    }

    #[test]
    fn a_verdict_needs_a_lead_of_votes() {
        let parallel = sample(400, 220, 1.9);
        let sequential = sample(400, 400, 1.9);
        let unclear = sample(400, 300, 1.9);
        let decide = |samples: Vec<Sample>| {
            SpeedupReading {
                workers: 2,
                samples,
            }
            .decision(0.5, 3, 12)
        };
        assert_eq!(decide(vec![parallel; 3]), Decision::Enough);
        assert_eq!(decide(vec![sequential; 3]), Decision::TooLow);
        assert_eq!(decide(vec![parallel; 2]), Decision::Undecided);
        // Votes on the other side cancel votes: 4 against 1 is a lead of 3.
        assert_eq!(
            decide(vec![sequential, parallel, sequential, sequential]),
            Decision::Undecided
        );
        assert_eq!(
            decide(vec![
                sequential, parallel, sequential, sequential, sequential
            ]),
            Decision::TooLow
        );
        // Too close to call, or too busy to measure, in every sample: it gives up as soon as
        // the samples left could no longer make the lead.
        assert_eq!(decide(vec![unclear; 9]), Decision::Undecided);
        assert_eq!(decide(vec![unclear; 10]), Decision::Unmeasurable);
        let mut alternating = [parallel, sequential].repeat(5);
        assert_eq!(decide(alternating.clone()), Decision::Unmeasurable);
        alternating.truncate(9);
        assert_eq!(decide(alternating), Decision::Undecided);
    }

    #[test]
    fn each_sample_is_judged_with_its_own_machine_reading() {
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
    fn a_sample_interleaves_its_runs() {
        let ms = Duration::from_millis;
        let mut order = Vec::new();
        let order_cell = std::cell::RefCell::new(&mut order);
        let taken = take_sample(&mut Measurements {
            parallel: &mut || {
                order_cell.borrow_mut().push("parallel");
                Ok(ms(200))
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
        })
        .expect("measures");
        assert_eq!(order, ["parallel", "sequential", "machine"]);
        assert!((taken.speedup() - 2.0).abs() < 1e-9);
        assert!((taken.attainable - 400.0 / 210.0).abs() < 1e-9);
    }

    /// Runs `judge` with samples scripted as (parallel ms, bare speedup), the sequential
    /// baseline always 400 ms, a lead of 3 samples needed (the check below); returns its
    /// result and how many samples it took.
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
        (result, machines)
    }

    #[test]
    fn judge_passes_as_soon_as_the_votes_lead() {
        if available_cores() < 2 {
            return; // judge() says not measurable before it reads anything
        }
        let (result, samples) = judged(&[(210, 1.9); 3]);
        assert!(result.is_ok());
        assert_eq!(samples, 3);
        // Samples on a busy machine do not vote: they only delay the verdict.
        let busy_then_enough = [[(390, 1.05); 3], [(210, 1.9); 3]].concat();
        let (result, samples) = judged(&busy_then_enough);
        assert!(result.is_ok());
        assert_eq!(samples, 6);
    }

    #[test]
    fn judge_fails_only_on_a_lead_of_low_votes() {
        if available_cores() < 2 {
            return; // judge() says not measurable before it reads anything
        }
        let (result, samples) = judged(&[(400, 1.9); 3]);
        let failure = result.expect_err("sequential");
        assert_eq!(failure.verdict.label(), "wrong-answer");
        let said = failure.verdict.to_string();
        assert!(said.contains("meaning"), "{said}");
        assert!(said.contains("3 too low, 0 enough"), "{said}");
        assert_eq!(samples, 3);
        // Votes for and against that never lead by 3: too noisy to judge, not a failure,
        // given up after 10 samples (the 2 left could not make a lead of 3).
        let noisy = [(400, 1.9), (210, 1.9)].repeat(6);
        let (result, samples) = judged(&noisy);
        let failure = result.expect_err("not judged");
        assert_eq!(failure.verdict.label(), "not-measurable");
        assert!(
            failure.verdict.to_string().contains("in 10 samples"),
            "{}",
            failure.verdict
        );
        assert_eq!(samples, 10);
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
