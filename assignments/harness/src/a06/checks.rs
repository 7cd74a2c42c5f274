//! The checks of a06-keyword-search. Each generates a seeded corpus, runs the runner on it,
//! and compares what came back with the oracle, naming the likely mistake when it differs.

use std::path::PathBuf;
use std::time::Duration;

use crate::a06::corpus::{self, Corpus, CorpusKind, LargeCorpus};
use crate::a06::explain;
use crate::a06::inputs::Inputs;
use crate::a06::oracle;
use crate::a06::protocol::{Found, Mode, Refused, Report, Scenario};
use crate::checks::attainable::{self, MIN_ATTAINABLE_GAIN, available_cores, fraction_of_gain};
use crate::checks::{AssignmentChecks, CheckContext, CheckDef, Execution, Failure, Judgement};
use crate::checks::{execute, repeat};
use crate::manifest::CheckKind;
use crate::run::SandboxOptions;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// The checks of the manifest's `a06-keyword-search` entry.
pub const CHECKS: AssignmentChecks = AssignmentChecks {
    assignment: "a06-keyword-search",
    checks: &[
        CheckDef {
            id: "invalid-arguments",
            run: invalid_arguments,
        },
        CheckDef {
            id: "sequential-search",
            run: matches_oracle,
        },
        CheckDef {
            id: "parallel-search",
            run: matches_oracle,
        },
        CheckDef {
            id: "line-ends-and-bytes",
            run: matches_oracle,
        },
        CheckDef {
            id: "binary-files",
            run: matches_oracle,
        },
        CheckDef {
            id: "links-and-special-files",
            run: matches_oracle,
        },
        CheckDef {
            id: "many-files",
            run: matches_oracle,
        },
        CheckDef {
            id: "speedup",
            run: speedup,
        },
    ],
    validate_inputs,
};

fn validate_inputs(table: &toml::Table) -> Result<(), String> {
    Inputs::from_table(table).map(|_| ())
}

fn inputs(ctx: &CheckContext<'_>) -> Result<Inputs, Failure> {
    Inputs::from_table(&ctx.check.inputs).map_err(|why| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("invalid inputs in the manifest: {why}"),
        })
    })
}

fn generate(
    ctx: &CheckContext<'_>,
    kind: CorpusKind,
    inputs: &Inputs,
    seed: Seed,
) -> Result<Corpus, Failure> {
    corpus::generate(
        kind,
        ctx.sandbox.working_dir.as_deref(),
        seed,
        inputs.size(),
    )
    .map_err(|e| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("could not generate the corpus to search: {e}"),
        })
    })
}

/// Runs the runner once; `Err` for a run that went wrong (timeout, crash, panic...).
fn run_search(
    ctx: &CheckContext<'_>,
    root: PathBuf,
    keyword: &[u8],
    mode: Mode,
) -> Result<Execution<Report>, Failure> {
    let scenario = Scenario {
        root,
        keyword: keyword.to_vec(),
        mode,
    };
    execute(ctx, &scenario)
}

/// Runs one search of `corpus` and compares it with the oracle.
fn search_and_judge(
    ctx: &CheckContext<'_>,
    corpus: &Corpus,
    mode: Mode,
) -> Result<(Execution<Report>, Vec<Figure>), Failure> {
    let execution = run_search(ctx, corpus.root().to_owned(), &corpus.keyword, mode)?;
    let found = match &execution.report.outcome {
        Ok(found) => found,
        Err(refused) => {
            return Err(execution.fail(explain::refused(mode, &corpus.keyword, refused)));
        }
    };
    let figures = judge(corpus, mode, found).map_err(|failure| execution.fail(failure))?;
    Ok((execution, figures))
}

fn judge(corpus: &Corpus, mode: Mode, found: &Found) -> Result<Vec<Figure>, Failure> {
    let expected = corpus.expected_for(found);
    let differences = oracle::compare(&expected, found);
    if differences.is_empty() {
        Ok(vec![
            Figure::count("files with matches", found.matches.len()),
            Figure::count("files searched", found.files_searched as usize),
        ])
    } else {
        Err(explain::differences(
            corpus,
            &expected,
            mode,
            found,
            &differences,
        ))
    }
}

/// The correctness checks: every search the inputs name agrees with the oracle.
fn matches_oracle(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let inputs = inputs(ctx)?;
        let corpus = generate(ctx, inputs.corpus, &inputs, seed)?;
        let mut figures = Vec::new();
        for mode in inputs.modes() {
            let (execution, judged) = search_and_judge(ctx, &corpus, mode)?;
            figures = execution.figures();
            figures.extend(judged);
        }
        Ok(figures)
    })
}

/// What an invalid call must return.
#[derive(Debug, Clone, Copy)]
enum MustRefuse {
    EmptyKeyword,
    KeywordHasNewline,
    BadRoot,
}

/// Empty keyword, keyword with a newline, a root that is missing or not a directory: each a
/// clear error from both searches, never results and never a panic.
fn invalid_arguments(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let inputs = inputs(ctx)?;
        let corpus = generate(ctx, CorpusKind::PlainTree, &inputs, seed)?;
        let root = corpus.root().to_owned();
        let cases: [(&[u8], PathBuf, MustRefuse); 4] = [
            (b"", root.clone(), MustRefuse::EmptyKeyword),
            (b"two\nlines", root.clone(), MustRefuse::KeywordHasNewline),
            (
                &corpus.keyword,
                root.join("no-such-directory"),
                MustRefuse::BadRoot,
            ),
            (&corpus.keyword, root.join("empty.txt"), MustRefuse::BadRoot),
        ];
        let mut figures = Vec::new();
        for mode in inputs.modes() {
            for (keyword, at, must) in &cases {
                let execution = run_search(ctx, at.clone(), keyword, mode)?;
                judge_refusal(&execution, mode, keyword, *must)
                    .map_err(|failure| execution.fail(failure))?;
                figures = execution.figures();
            }
        }
        Ok(figures)
    })
}

fn judge_refusal(
    execution: &Execution<Report>,
    mode: Mode,
    keyword: &[u8],
    must: MustRefuse,
) -> Result<(), Failure> {
    let call = explain::call(mode, keyword);
    let got = match &execution.report.outcome {
        Ok(found) => format!(
            "Ok: results with {} files with matches and {} searched",
            found.matches.len(),
            found.files_searched
        ),
        Err(refused) => format!("Err({})", refused.describe()),
    };
    let (wanted, right, meaning) = match must {
        MustRefuse::EmptyKeyword => (
            "Err(SearchError::EmptyKeyword)",
            matches!(execution.report.outcome, Err(Refused::EmptyKeyword)),
            "an empty keyword is in every line at every position, so it is refused before \
             anything is searched: return Err(SearchError::EmptyKeyword)",
        ),
        MustRefuse::KeywordHasNewline => (
            "Err(SearchError::KeywordHasNewline)",
            matches!(execution.report.outcome, Err(Refused::KeywordHasNewline)),
            "a line never holds a \\n, so such a keyword could never match: refuse it with \
             Err(SearchError::KeywordHasNewline)",
        ),
        MustRefuse::BadRoot => (
            "an error (SearchError::Root)",
            execution.report.outcome.is_err(),
            "a root that does not exist or is not a directory cannot be searched: that is an \
             error of the whole search (SearchError::Root with the OS error), not empty \
             results",
        ),
    };
    if right {
        return Ok(());
    }
    let place = match must {
        MustRefuse::BadRoot => " with a root that is missing or not a directory",
        MustRefuse::EmptyKeyword | MustRefuse::KeywordHasNewline => "",
    };
    Err(Failure::wrong(
        format!("{call}{place} to return {wanted}"),
        got,
        meaning,
    ))
}

/// How many times a speedup reading is taken at most before concluding: a reading that is
/// too low or unmeasurable is taken again once.
const READINGS: u32 = 2;

/// One reading of the student's speedup and the machine's.
#[derive(Debug, Clone, Copy)]
struct Reading {
    workers: usize,
    files: usize,
    bytes: u64,
    sequential: Duration,
    parallel: Duration,
    attainable: f64,
}

impl Reading {
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

/// `search_parallel` against `search_sequential` on a large corpus (page-cached: it was
/// just written), timed alternately with bare processes measuring what the machine can show.
///
/// The corpus starts with four files per worker and grows until one sequential search takes
/// about `target_ms` (or it has `files` files): a debug build is fifty times slower than a
/// release build, and both must time enough work to measure.
fn speedup(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
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
                    "{cores} core(s) available, {workers} worker(s): a speedup needs at least \
                     two of each"
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
        let quiet = CheckContext {
            sandbox: SandboxOptions {
                sample_interval: None,
                ..ctx.sandbox.clone()
            },
            ..ctx.clone()
        };
        let could_not_generate = |e: std::io::Error| {
            Failure::new(Verdict::CouldNotRun {
                why: format!("could not generate the corpus to search: {e}"),
            })
        };
        let mut large = LargeCorpus::new(
            ctx.sandbox.working_dir.as_deref(),
            seed,
            inputs.file_kib * 1024,
        )
        .map_err(could_not_generate)?;
        let initial = (4 * workers).min(inputs.files);
        large.add_files(initial).map_err(could_not_generate)?;
        let first = timed_search(&quiet, &large.corpus, Mode::Sequential)?;
        let target = Duration::from_millis(inputs.target_ms);
        if first < target {
            let wanted = (initial as f64 * target.as_secs_f64() / first.as_secs_f64().max(1e-4))
                .ceil() as usize;
            let wanted = wanted.div_ceil(workers).saturating_mul(workers);
            let more = wanted.clamp(initial, inputs.files) - initial;
            large.add_files(more).map_err(could_not_generate)?;
        }
        let corpus = &large.corpus;
        let mut spin_iterations = None;
        let mut too_low = None;
        let mut last = None;
        let mut spreads = (0.0, 0.0);
        for _ in 0..READINGS {
            let (mut sequential, mut parallel_times, mut bare) =
                (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..samples.max(1) {
                let seq = timed_search(&quiet, corpus, Mode::Sequential)?;
                sequential.push(seq.as_secs_f64());
                parallel_times.push(timed_search(&quiet, corpus, parallel)?.as_secs_f64());
                // The bare processes do about as much work as the sequential search takes.
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
            let reading = Reading {
                workers,
                files: large.files(),
                bytes: large.bytes(),
                sequential: Duration::from_secs_f64(attainable::median(&sequential)),
                parallel: Duration::from_secs_f64(attainable::median(&parallel_times)),
                attainable: attainable::median(&bare),
            };
            last = Some(reading);
            spreads = (
                bare.iter().copied().fold(f64::INFINITY, f64::min),
                bare.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            );
            if !attainable::judgeable(&bare) {
                continue;
            }
            if reading.fraction() >= min_fraction_of_attainable {
                return Ok(reading.figures());
            }
            too_low = Some(reading);
        }
        if let Some(reading) = too_low {
            return Err(too_slow(reading, min_fraction_of_attainable, peak));
        }
        let (lowest, highest) = spreads;
        Err(Failure::new(Verdict::NotMeasurable {
            why: format!(
                "bare processes showed speedups from {lowest:.2} to {highest:.2} with \
                 {workers} processes on {cores} cores, measured {READINGS} times: the machine \
                 is too busy, or its load changes too much, to tell parallel code from \
                 sequential code"
            ),
        })
        .with_figures(last.map(|r| r.figures()).unwrap_or_default()))
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

fn too_slow(reading: Reading, min_fraction: f64, peak: Option<usize>) -> Failure {
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
