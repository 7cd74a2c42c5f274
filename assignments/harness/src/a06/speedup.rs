//! The speedup check: `search_parallel` against `search_sequential` on a corpus of large
//! files, judged against what bare processes searching the same files show in the same run
//! ([`crate::checks::speedup`], with [`BareSearch`](crate::a06::BareSearch) as the work).
//!
//! Only correct searches are timed: the parallel search must first be right on a small tree,
//! and every timed run is compared with the oracle, so a wrong answer returned at once cannot
//! look fast.

use std::time::Duration;

use crate::a06::checks::{Searched, generate, inputs, judge, run_search, search_and_judge};
use crate::a06::corpus::{Corpus, CorpusKind, LargeCorpus};
use crate::a06::explain;
use crate::a06::protocol::{Mode, Report, Scenario};
use crate::checks::speedup::{self, Attainable, Baseline, Measurements, SpeedupReading};
use crate::checks::{CheckContext, Execution, Failure, Judgement, execute, repeat};
use crate::run::{RunRecord, SandboxOptions};
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// Below this speedup the files were searched one after another, not merely with some
/// overhead.
const SEQUENTIAL_BELOW: f64 = 1.1;

/// The check: correct first (on a small tree), then timed on a corpus grown to fit the
/// build's speed, judged by [`speedup::judge`].
pub(super) fn speedup(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| speedup_once(ctx, seed))
}

fn speedup_once(ctx: &CheckContext<'_>, seed: Seed) -> Result<Vec<Figure>, Failure> {
    let inputs = inputs(ctx)?;
    let workers = inputs.worker_count();
    speedup::measurable(workers)?;
    // Only correct code is timed, and a stub or a wrong search fails here, fast, before
    // hundreds of MiB are written.
    let small = generate(ctx, CorpusKind::PlainTree, &inputs, seed.derive("small"))?;
    let peak = search_and_judge(ctx, &small, Mode::Parallel { workers })
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
    let corpus = &large.corpus;
    let size = vec![
        Figure::count("files", large.files()),
        Figure::count("MiB", (large.bytes() >> 20) as usize),
    ];
    let mut parallel = || -> Result<Duration, Failure> {
        Ok(timed_search(&quiet, corpus, Mode::Parallel { workers })?.wall)
    };
    let mut sequential = || -> Result<Baseline, Failure> {
        let run = timed_search(&quiet, corpus, Mode::Sequential)?;
        Ok(Baseline {
            wall: run.wall,
            cpu: run.cpu,
        })
    };
    let mut machine = || bare_search(&quiet, corpus, workers);
    let figures = speedup::judge(
        ctx,
        workers,
        &mut Measurements {
            parallel: &mut parallel,
            sequential: &mut sequential,
            machine: &mut machine,
        },
        &|reading| meaning(reading, peak),
    )
    .map_err(|failure| {
        let Failure {
            verdict, figures, ..
        } = failure;
        Failure::new(verdict)
            .with_figures(size.clone())
            .with_figures(figures)
    })?;
    Ok(size.into_iter().chain(figures).collect())
}

/// One timed search of `corpus`, which must be right: what was observed of the run (its wall
/// time, and the CPU time of the runner and its children).
fn timed_search(ctx: &CheckContext<'_>, corpus: &Corpus, mode: Mode) -> Result<RunRecord, Failure> {
    let execution = run_search(ctx, corpus.root().to_owned(), &corpus.keyword, mode)?;
    judge_timed(&execution, corpus, mode)?;
    Ok(execution.record)
}

fn judge_timed(
    execution: &Execution<Searched>,
    corpus: &Corpus,
    mode: Mode,
) -> Result<(), Failure> {
    match &execution.report {
        Ok(found) => judge(corpus, mode, found)
            .map(|_| ())
            .map_err(|failure| execution.fail(timed_correct_only(failure))),
        Err(refused) => Err(execution.fail(explain::refused(mode, &corpus.keyword, refused))),
    }
}

/// Bare processes searching the corpus's files in the runner's sandbox: one, then `workers`.
fn bare_search(
    ctx: &CheckContext<'_>,
    corpus: &Corpus,
    workers: usize,
) -> Result<Attainable, Failure> {
    let scenario = Scenario::Machine {
        root: corpus.root().to_owned(),
        keyword: corpus.keyword.clone(),
        processes: workers,
    };
    let execution: Execution<Report> = execute(ctx, &scenario)?;
    match execution.report {
        Report::Machine(Ok(attainable)) => Ok(attainable),
        Report::Machine(Err(why)) => Err(Failure::new(Verdict::CouldNotRun { why })),
        Report::Search(_) => Err(Failure::new(Verdict::CouldNotRun {
            why: "the runner answered a machine scenario with a search report: was it built \
                  from this course's sources?"
                .to_owned(),
        })),
    }
}

/// A large corpus of `file_bytes` files: `4 × workers` at first, then as many as make one
/// sequential search take about `target` (at most `max_files`), a multiple of `workers`. A
/// debug build is fifty times slower than a release build, and both must time enough work to
/// measure.
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
    let first = timed_search(quiet, &large.corpus, Mode::Sequential)?.wall;
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

/// What a speedup too low likely means; `peak` is the most processes seen alive at once in a
/// sampled search of the small tree.
fn meaning(reading: &SpeedupReading, peak: Option<usize>) -> String {
    let workers = reading.workers;
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
    if reading.speedup() < SEQUENTIAL_BELOW {
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
    }
}
