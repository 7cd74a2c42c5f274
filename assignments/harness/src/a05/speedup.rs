//! a05's speedup check: `apply_async_with_callback` with one worker per core, timed against
//! the course's sequential loop over the same inputs, judged against what bare processes
//! show in the same run ([`crate::checks::attainable`]).
//!
//! One reading is `samples` rounds of: the student's pool run, the sequential run (both the
//! runner binary, timed from outside), and bare processes doing the same work, forked by the
//! runner too: in the same sandbox and scheduling group as the student's code. (On Linux with
//! autogroups, busy sessions elsewhere can leave this one less than a core; then nothing run
//! from it can show a speedup, and the bare processes show exactly that.) Medians of each give
//! the student's speedup `s` and the machine's `a`; the check passes when `(s − 1) / (a − 1)`
//! reaches the manifest's `min_fraction_of_attainable`.
//!
//! The check fails only after two readings that could judge fall short. A reading where bare
//! processes showed too little gain ([`attainable::MIN_ATTAINABLE_GAIN`]) cannot judge: the
//! check takes another, up to three and within a time budget, then says "not measurable", as
//! it does on one core. Neither is ever a failure.

use std::time::{Duration, Instant};

use crate::a05::checks::{Run, inputs, require_correct, run_scenario};
use crate::a05::oracle::{self, Inputs};
use crate::a05::protocol::{Report, Scenario};
use crate::checks::attainable::{self, Attainable};
use crate::checks::{CheckContext, Execution, Failure, Judgement, execute, repeat};
use crate::manifest::CheckKind;
use crate::run::SandboxOptions;
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// Readings taken at most before concluding.
const MAX_READINGS: u32 = 3;

/// Measurable readings that fall short before the check concludes the code is too slow.
const SHORT_READINGS: u32 = 2;

/// No reading starts after this much time in the check: on a machine too busy to judge,
/// the check says so instead of keeping the student waiting.
const READINGS_BUDGET: Duration = Duration::from_secs(10);

/// Most workers a speedup run uses, however many cores there are (bounds the bare forks).
const MAX_WORKERS: usize = 32;

/// The speedup check.
pub(crate) fn speedup(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| measure(ctx, seed))
}

/// One reading: medians of the interleaved samples.
#[derive(Debug, Clone, Copy)]
struct Reading {
    workers: usize,
    sequential: Duration,
    parallel: Duration,
    attainable: f64,
    /// Fewest jobs seen running at once at the peak of a pool run, over the samples.
    peak: usize,
}

impl Reading {
    fn speedup(&self) -> f64 {
        self.sequential.as_secs_f64() / self.parallel.as_secs_f64().max(1e-9)
    }

    fn fraction(&self) -> f64 {
        attainable::fraction_of_gain(self.speedup(), self.attainable)
    }

    fn too_busy(&self) -> bool {
        self.attainable - 1.0 < attainable::MIN_ATTAINABLE_GAIN
    }

    fn figures(&self) -> Vec<Figure> {
        let mut figures = vec![
            Figure::count("workers", self.workers),
            Figure::time("sequential", self.sequential),
            Figure::time("pool", self.parallel),
            Figure::ratio("speedup", self.speedup()),
            Figure::ratio("bare-process speedup", self.attainable),
        ];
        // Without a gain to compare with, the fraction means nothing.
        if !self.too_busy() {
            figures.push(Figure::ratio(
                "fraction of attainable gain",
                self.fraction(),
            ));
        }
        figures.push(Figure::ratio(
            "efficiency",
            self.speedup() / self.workers as f64,
        ));
        figures.push(Figure::count("most jobs at once", self.peak));
        figures
    }
}

fn measure(ctx: &CheckContext<'_>, seed: Seed) -> Result<Vec<Figure>, Failure> {
    let CheckKind::Speedup {
        min_fraction_of_attainable,
        samples,
    } = ctx.check.kind
    else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: format!("{} must be a speedup check in the manifest", ctx.check.id),
        }));
    };
    let Inputs::Speedup {
        sequential_ms,
        jobs_per_worker,
    } = inputs(ctx)?
    else {
        return Err(Failure::new(Verdict::CouldNotRun {
            why: format!("{} needs inputs with part = \"speedup\"", ctx.check.id),
        }));
    };
    let cores = attainable::available_cores();
    let workers = cores.min(MAX_WORKERS);
    let jobs = workers * jobs_per_worker;
    let job_ms = (sequential_ms / jobs as u64).max(1);
    let x = calibrate(ctx, job_ms)?;
    let inputs = oracle::speedup_inputs(x, jobs, seed);
    let plan = Plan {
        // Sampling the process group costs CPU the runs are timed on.
        ctx: CheckContext {
            sandbox: SandboxOptions {
                sample_interval: None,
                ..ctx.sandbox.clone()
            },
            ..ctx.clone()
        },
        parallel: Scenario::AllAtOnce {
            processes: workers,
            inputs: inputs.clone(),
            hold_ms: 0,
        },
        sequential: Scenario::Sequential { inputs },
        workers,
        jobs,
        x,
        samples: samples.max(1),
    };
    // A first, untimed run: wrong code fails here whatever the machine, and the runner's
    // pages are warm for the timed ones.
    plan.pool_run()?;
    if cores < 2 {
        return Err(Failure::new(Verdict::NotMeasurable {
            why: format!("{cores} core available: a speedup needs at least two"),
        }));
    }
    let mut too_low = None;
    let mut short = 0;
    let mut last = None;
    let started = Instant::now();
    let mut readings = 0;
    for _ in 0..MAX_READINGS {
        if started.elapsed() > READINGS_BUDGET {
            break;
        }
        let reading = plan.read()?;
        last = Some(reading);
        readings += 1;
        if reading.too_busy() {
            continue;
        }
        if reading.fraction() >= min_fraction_of_attainable {
            return Ok(reading.figures());
        }
        too_low = Some(reading);
        short += 1;
        if short == SHORT_READINGS {
            break;
        }
    }
    if let (Some(reading), SHORT_READINGS) = (too_low, short) {
        return Err(too_slow(&reading, min_fraction_of_attainable));
    }
    let shown = last.map_or(1.0, |r| r.attainable);
    Err(Failure::new(Verdict::NotMeasurable {
        why: format!(
            "{readings} reading(s) in {:.0} s, {short} of which could judge (it takes \
             {SHORT_READINGS} to fail); {workers} bare processes on {cores} cores showed a \
             speedup of {shown:.2}× in the last: the machine is too busy to tell parallel \
             code from sequential code",
            started.elapsed().as_secs_f64()
        ),
    })
    .with_figures(last.map(|r| r.figures()).unwrap_or_default()))
}

/// The `x` for which one job takes `job_ms` of CPU time in the runner: the binary that runs
/// the jobs sizes them (a harness built with other optimisations would size them wrong).
fn calibrate(ctx: &CheckContext<'_>, job_ms: u64) -> Result<u64, Failure> {
    let execution: Execution<Report> = execute(ctx, &Scenario::Calibrate { job_ms })?;
    match execution.report.returned.as_deref() {
        Ok([x]) => Ok(*x),
        Ok(_) | Err(_) => Err(not_this_course("it returned no job size")),
    }
}

/// What one reading runs.
struct Plan<'a> {
    ctx: CheckContext<'a>,
    parallel: Scenario,
    sequential: Scenario,
    workers: usize,
    jobs: usize,
    x: u64,
    samples: u32,
}

impl Plan<'_> {
    fn read(&self) -> Result<Reading, Failure> {
        let (mut parallel, mut sequential, mut bare) = (Vec::new(), Vec::new(), Vec::new());
        let mut peak = usize::MAX;
        for _ in 0..self.samples {
            let run = self.pool_run()?;
            peak = peak.min(oracle::overlap(&run.execution.report.task_runs).map_or(0, |o| o.peak));
            parallel.push(run.execution.record.wall);
            sequential.push(self.sequential_run()?);
            bare.push(self.bare()?.speedup());
        }
        bare.sort_by(f64::total_cmp);
        Ok(Reading {
            workers: self.workers,
            sequential: attainable::median(&sequential),
            parallel: attainable::median(&parallel),
            attainable: bare[(bare.len() - 1) / 2],
            peak,
        })
    }

    /// The student's run; only a correct one is timed.
    fn pool_run(&self) -> Result<Run, Failure> {
        let run = run_scenario(&self.ctx, self.parallel.clone())?;
        require_correct(&self.ctx, &run).map_err(|failure| run.execution.fail(failure))?;
        Ok(run)
    }

    /// The course's sequential loop over the same inputs, in the same runner binary.
    fn sequential_run(&self) -> Result<Duration, Failure> {
        let (report, wall) = self.course_run(&self.sequential)?;
        let values = report.returned.unwrap_or_default();
        let inputs = match &self.sequential {
            Scenario::Sequential { inputs } => inputs.as_slice(),
            _ => &[],
        };
        if !oracle::tally(inputs, &values).is_empty() {
            return Err(not_this_course(
                "its sequential baseline returned wrong sums",
            ));
        }
        Ok(wall)
    }

    /// Bare processes doing the same work, started by the runner: in the same sandbox and
    /// scheduling group as the student's runs.
    fn bare(&self) -> Result<Attainable, Failure> {
        let scenario = Scenario::Bare {
            processes: self.workers,
            jobs: self.jobs,
            x: self.x,
        };
        let (report, _) = self.course_run(&scenario)?;
        match (report.returned, report.bare_ns) {
            (Ok(_), Some([one, many])) => Ok(Attainable {
                processes: self.workers,
                one: Duration::from_nanos(one),
                many: Duration::from_nanos(many),
            }),
            (Err(why), _) => Err(Failure::new(Verdict::CouldNotRun {
                why: format!("the runner could not measure the machine: {why}"),
            })),
            (Ok(_), None) => Err(not_this_course("it measured nothing")),
        }
    }

    /// A run of the course's code only: its report and wall time.
    fn course_run(&self, scenario: &Scenario) -> Result<(Report, Duration), Failure> {
        let execution: Execution<Report> = execute(&self.ctx, scenario)?;
        Ok((execution.report, execution.record.wall))
    }
}

fn not_this_course(what: &str) -> Failure {
    Failure::new(Verdict::CouldNotRun {
        why: format!(
            "the runner ran the course's own code, but {what}: was it built from this course's sources?"
        ),
    })
}

fn too_slow(reading: &Reading, min_fraction: f64) -> Failure {
    let workers = reading.workers;
    let meaning = if reading.peak <= 1 {
        "the jobs ran one at a time: `pool.apply`, or `get()` right after each \
         `apply_async`, waits for each job before the next is submitted. Submit them all \
         with apply_async_callback, then close() and join() the pool"
            .to_owned()
    } else {
        format!(
            "the jobs overlapped (at least {} at once) but the pool gained little: create the \
             pool once, before the loop, with `processes` workers, and wait only at the end \
             (close() then join())",
            reading.peak
        )
    };
    Failure::wrong(
        format!(
            "a speedup of at least {:.2} with {workers} workers: {:.0}% of the gain {workers} \
             bare processes show here ({:.2}×), in {SHORT_READINGS} readings",
            1.0 + min_fraction * (reading.attainable - 1.0),
            min_fraction * 100.0,
            reading.attainable
        ),
        format!(
            "{:.2}× ({} ms sequential, {} ms with the pool): {:.0}% of that gain",
            reading.speedup(),
            reading.sequential.as_millis(),
            reading.parallel.as_millis(),
            reading.fraction() * 100.0
        ),
        meaning,
    )
    .with_figures(reading.figures())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(sequential_ms: u64, parallel_ms: u64, attainable: f64, peak: usize) -> Reading {
        Reading {
            workers: 2,
            sequential: Duration::from_millis(sequential_ms),
            parallel: Duration::from_millis(parallel_ms),
            attainable,
            peak,
        }
    }

    #[test]
    fn a_pool_near_the_machine_reaches_most_of_its_gain_and_a_loop_none() {
        let pool = reading(410, 215, 1.95, 2);
        assert!(!pool.too_busy());
        assert!(pool.fraction() > 0.9, "{}", pool.fraction());
        let one_at_a_time = reading(410, 420, 1.95, 1);
        assert!(
            one_at_a_time.fraction() < 0.1,
            "{}",
            one_at_a_time.fraction()
        );
        // Beside CPU hogs of the same session the machine shows less, and so does the pool.
        let busy_pool = reading(600, 420, 1.5, 2);
        assert!(busy_pool.fraction() > 0.8, "{}", busy_pool.fraction());
    }

    #[test]
    fn a_machine_without_gain_cannot_judge() {
        let starved = reading(900, 880, 1.02, 2);
        assert!(starved.too_busy());
        let names: Vec<String> = starved.figures().into_iter().map(|f| f.name).collect();
        assert!(!names.iter().any(|n| n.contains("fraction")), "{names:?}");
    }

    #[test]
    fn too_slow_names_the_mistake_from_the_peak() {
        let serial = too_slow(&reading(410, 420, 1.95, 1), 0.5);
        let Verdict::WrongAnswer { meaning, .. } = serial.verdict else {
            panic!("{:?}", serial.verdict)
        };
        assert!(meaning.contains("one at a time"), "{meaning}");
        let partial = too_slow(&reading(410, 380, 1.95, 2), 0.5);
        let Verdict::WrongAnswer { meaning, .. } = partial.verdict else {
            panic!("{:?}", partial.verdict)
        };
        assert!(meaning.contains("overlapped"), "{meaning}");
    }
}
