//! The speedup check: `search_parallel` against `search_sequential` on a corpus of large
//! files, timed alternately with bare processes that measure what the machine can show
//! ([`attainable`]).

use std::time::Duration;

use crate::a06::checks::{generate, inputs, judge, run_search, search_and_judge};
use crate::a06::corpus::{Corpus, CorpusKind, LargeCorpus};
use crate::a06::explain;
use crate::a06::protocol::Mode;
use crate::checks::attainable::{self, MIN_ATTAINABLE_GAIN, available_cores, fraction_of_gain};
use crate::checks::{CheckContext, Failure, Judgement, repeat};
use crate::manifest::CheckKind;
use crate::run::SandboxOptions;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// How many times a speedup reading is taken at most before concluding: a reading that is
/// too low or unmeasurable is taken again once.
const READINGS: u32 = 2;

/// One reading of the student's speedup and the machine's.
#[derive(Debug, Clone)]
struct Reading {
    workers: usize,
    files: usize,
    bytes: u64,
    sequential: Duration,
    parallel: Duration,
    attainable: f64,
    /// Every sample's bare-process speedup.
    bare: Vec<f64>,
}

impl Reading {
    fn bare_range(&self) -> (f64, f64) {
        let lowest = self.bare.iter().copied().fold(f64::INFINITY, f64::min);
        let highest = self.bare.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lowest, highest)
    }

    fn speedup(&self) -> f64 {
        self.sequential.as_secs_f64() / self.parallel.as_secs_f64().max(1e-9)
    }

    fn fraction(&self) -> f64 {
        fraction_of_gain(self.speedup(), self.attainable)
    }

    fn figures(&self) -> Vec<Figure> {
        let p = self.workers as f64;
        let s = self.speedup();
        let mut figures = vec![
            Figure::count("workers", self.workers),
            Figure::count("files", self.files),
            Figure::count("MiB", (self.bytes >> 20) as usize),
            Figure::time("sequential", self.sequential),
            Figure::time("parallel", self.parallel),
            Figure::ratio("speedup", s),
            Figure::ratio("efficiency", s / p),
            Figure::ratio(
                "Karp-Flatt serial fraction",
                (1.0 / s - 1.0 / p) / (1.0 - 1.0 / p),
            ),
            Figure::ratio("bare-process speedup", self.attainable),
        ];
        // Meaningless (and huge) when bare processes gain next to nothing.
        if self.attainable - 1.0 >= MIN_ATTAINABLE_GAIN {
            figures.push(Figure::ratio(
                "fraction of the attainable gain",
                self.fraction(),
            ));
        }
        figures
    }
}

/// One timed search of `corpus`, which must be right: its wall time.
fn timed_search(ctx: &CheckContext<'_>, corpus: &Corpus, mode: Mode) -> Result<Duration, Failure> {
    let execution = run_search(ctx, corpus.root().to_owned(), &corpus.keyword, mode)?;
    match &execution.report.outcome {
        Ok(found) => judge(corpus, mode, found)
            .map_err(|failure| execution.fail(timed_correct_only(failure)))?,
        Err(refused) => {
            return Err(execution.fail(explain::refused(mode, &corpus.keyword, refused)));
        }
    };
    Ok(execution.record.wall)
}

/// The check: correct first (on a small tree), then timed on a corpus grown to fit the
/// build's speed, judged only on a free and steady machine.
pub(super) fn speedup(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| speedup_once(ctx, seed))
}

fn speedup_once(ctx: &CheckContext<'_>, seed: Seed) -> Result<Vec<Figure>, Failure> {
    let CheckKind::Speedup {
        min_fraction_of_attainable,
        samples,
    } = ctx.check.kind
    else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: format!("{} must be a speedup check in the manifest", ctx.check.id),
        }));
    };
    let inputs = inputs(ctx)?;
    let workers = inputs.worker_count();
    let cores = available_cores();
    if cores < 2 || workers < 2 {
        return Err(Failure::new(Verdict::NotMeasurable {
            why: format!(
                "{cores} core(s) available, {workers} worker(s): a speedup needs at least two \
                 of each"
            ),
        }));
    }
    // Only correct code is timed, and a stub or a wrong search fails here, fast, before
    // hundreds of MiB are written.
    let small = generate(ctx, CorpusKind::PlainTree, &inputs, seed.derive("small"))?;
    let parallel = Mode::Parallel { workers };
    let peak = search_and_judge(ctx, &small, parallel)
        .map_err(timed_correct_only)?
        .0
        .record
        .peak_processes;
    drop(small);
    // Timed runs are not sampled: the sampling would take CPU from the run it times.
    let quiet = CheckContext {
        sandbox: SandboxOptions {
            sample_interval: None,
            ..ctx.sandbox.clone()
        },
        ..ctx.clone()
    };
    let large = grown_corpus(
        &quiet,
        seed,
        inputs.files,
        inputs.file_kib * 1024,
        workers,
        Duration::from_millis(inputs.target_ms),
    )?;
    let mut spin_iterations = None;
    let mut too_low = None;
    let mut last = None;
    for _ in 0..READINGS {
        let reading = take_reading(&quiet, &large, workers, samples, &mut spin_iterations)?;
        if attainable::judgeable(&reading.bare) {
            if reading.fraction() >= min_fraction_of_attainable {
                return Ok(reading.figures());
            }
            too_low = Some(reading.clone());
        }
        last = Some(reading);
    }
    if let Some(reading) = too_low {
        return Err(too_slow(&reading, min_fraction_of_attainable, peak));
    }
    let (lowest, highest) = last.as_ref().map_or((0.0, 0.0), Reading::bare_range);
    Err(Failure::new(Verdict::NotMeasurable {
        why: format!(
            "bare processes showed speedups from {lowest:.2} to {highest:.2} with {workers} \
             processes on {cores} cores, measured {READINGS} times: the machine is too busy, or \
             its load changes too much, to tell parallel code from sequential code"
        ),
    })
    .with_figures(last.map(|r| r.figures()).unwrap_or_default()))
}

/// A large corpus of `file_bytes` files: `4 × workers` at first, then as many as make one
/// sequential search take about `target` (at most `max_files`). A debug build is fifty times
/// slower than a release build, and both must time enough work to measure.
fn grown_corpus(
    quiet: &CheckContext<'_>,
    seed: Seed,
    max_files: usize,
    file_bytes: u64,
    workers: usize,
    target: Duration,
) -> Result<LargeCorpus, Failure> {
    let could_not = |e: std::io::Error| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("could not generate the corpus to search: {e}"),
        })
    };
    let parent = quiet.sandbox.working_dir.as_deref();
    let mut large = LargeCorpus::new(parent, seed, file_bytes).map_err(could_not)?;
    let initial = (4 * workers).min(max_files);
    large.add_files(initial).map_err(could_not)?;
    let first = timed_search(quiet, &large.corpus, Mode::Sequential)?;
    if first < target {
        let wanted =
            (initial as f64 * target.as_secs_f64() / first.as_secs_f64().max(1e-4)).ceil() as usize;
        let wanted = wanted.div_ceil(workers).saturating_mul(workers);
        large
            .add_files(wanted.clamp(initial, max_files) - initial)
            .map_err(could_not)?;
    }
    Ok(large)
}

/// `samples` rounds of: a sequential search, a parallel one, bare processes.
fn take_reading(
    quiet: &CheckContext<'_>,
    large: &LargeCorpus,
    workers: usize,
    samples: u32,
    spin_iterations: &mut Option<u64>,
) -> Result<Reading, Failure> {
    let corpus = &large.corpus;
    let (mut sequential, mut parallel, mut bare) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..samples.max(1) {
        let seq = timed_search(quiet, corpus, Mode::Sequential)?;
        sequential.push(seq.as_secs_f64());
        parallel.push(timed_search(quiet, corpus, Mode::Parallel { workers })?.as_secs_f64());
        // The bare processes do about as much work as the sequential search.
        let iterations = *spin_iterations.get_or_insert_with(|| {
            attainable::iterations_for(
                seq.clamp(Duration::from_millis(50), Duration::from_millis(800)),
            )
        });
        let machine = attainable::measure(workers, iterations).map_err(|e| {
            Failure::new(Verdict::CouldNotRun {
                why: format!("could not start bare processes to measure the machine: {e}"),
            })
        })?;
        bare.push(machine.speedup());
    }
    Ok(Reading {
        workers,
        files: large.files(),
        bytes: large.bytes(),
        sequential: Duration::from_secs_f64(attainable::median(&sequential)),
        parallel: Duration::from_secs_f64(attainable::median(&parallel)),
        attainable: attainable::median(&bare),
        bare,
    })
}

/// A failure of a run this check would have timed: says that only correct runs are timed.
fn timed_correct_only(failure: Failure) -> Failure {
    match failure.verdict {
        Verdict::WrongAnswer {
            expected,
            got,
            meaning,
        } => Failure {
            verdict: Verdict::WrongAnswer {
                expected,
                got,
                meaning: format!("{meaning} (this check times correct searches only)"),
            },
            ..failure
        },
        _ => failure,
    }
}

fn too_slow(reading: &Reading, min_fraction: f64, peak: Option<usize>) -> Failure {
    let workers = reading.workers;
    let needed = 1.0 + min_fraction * (reading.attainable - 1.0);
    // The peak comes from a sampled run of the small tree; a fast run may end before the
    // first sample, so it is only mentioned when it saw something.
    let seen = peak
        .filter(|&peak| peak > 0)
        .map(|peak| {
            format!(
                " (In a sampled search of a small tree, at most {peak} process{} alive at \
                 once; the main process, the pool's fork server and {workers} workers make {}.)",
                if peak == 1 { " was" } else { "es were" },
                workers + 2
            )
        })
        .unwrap_or_default();
    let meaning = if reading.speedup() < 1.1 {
        format!(
            "search_parallel is no faster than search_sequential: the files must be searched \
             by the pool's worker processes, at the same time. Use an mp::Pool of `workers` \
             processes, submit every task before waiting for any result (apply(), or \
             apply_async(..).get() right after each submit, runs them one at a time), and \
             keep the reading and searching inside the tasks.{seen}"
        )
    } else {
        format!(
            "some parallel work, not enough: something runs one at a time. Look for work done \
             in the main process (reading files before submitting them, searching in a \
             callback), a lock held while searching, or tasks too small for the cost of \
             sending them.{seen}"
        )
    };
    Failure::wrong(
        format!(
            "a speedup of at least {needed:.2} with {workers} workers: {:.0}% of the gain bare \
             processes show here ({:.2}), measured {READINGS} times",
            min_fraction * 100.0,
            reading.attainable
        ),
        format!(
            "{:.2} ({:.0} ms sequential, {:.0} ms parallel): {:.0}% of the attainable gain",
            reading.speedup(),
            reading.sequential.as_secs_f64() * 1000.0,
            reading.parallel.as_secs_f64() * 1000.0,
            reading.fraction() * 100.0
        ),
        meaning,
    )
    .with_figures(reading.figures())
}
