//! a05's oracle: scenarios from a seed, the right results, and the facts the checks judge.
//!
//! Simple on purpose; students may read it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::a05::protocol::{Event, Scenario, TaskRun};
use crate::seed::Seed;

/// A check's `inputs` in the manifest: which part of the assignment it runs, and how big.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "part", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Inputs {
    /// `apply_async_with_callback`, all inputs known at once.
    AllAtOnce {
        /// How many inputs (1 to 500).
        jobs: usize,
        /// The pool size asked for (1 to 64).
        processes: usize,
        /// How long each job holds its worker after computing, in ms (at most 2000).
        #[serde(default)]
        hold_ms: u64,
        /// What the inputs look like.
        #[serde(default)]
        values: Values,
    },
    /// `apply_async_with_callback` timed against the sequential loop, with one worker per
    /// available core.
    Speedup {
        /// Length of the sequential run, in ms (50 to 5000): the jobs are sized to add up to
        /// it whatever the number of cores.
        sequential_ms: u64,
        /// Jobs per worker (1 to 16).
        jobs_per_worker: usize,
    },
    /// `add_jobs_while_running`, the inputs arriving over time.
    OverTime {
        /// How many inputs (2 to 100).
        jobs: usize,
        /// The pool size asked for (2 to 64).
        processes: usize,
        /// The wait before each input after the first, in ms (at most 2000).
        gap_ms: u64,
        /// How long each job holds its worker after computing, in ms (at most 2000).
        hold_ms: u64,
        /// How the inputs arrive.
        #[serde(default)]
        arrival: Arrival,
    },
}

/// What the inputs of an all-at-once run look like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Values {
    /// Distinct numbers in the hundred thousands, like the lesson's range.
    #[default]
    Plain,
    /// Also 0, 1 and 2, and some inputs given twice (whose results must then come back
    /// twice).
    Edge,
}

/// How the inputs of an over-time run arrive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arrival {
    /// One every `gap_ms`, as the lesson's `time.sleep(1)` between jobs.
    #[default]
    Steady,
    /// Three at once, then a pause of three gaps.
    Bursts,
}

impl Inputs {
    /// Decodes and range-checks a manifest `inputs` table.
    pub fn from_table(table: &toml::Table) -> Result<Inputs, String> {
        let inputs: Inputs = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        let within = |name: &str, value: u64, low: u64, high: u64| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(format!("{name} = {value} is not in {low}..={high}"))
            }
        };
        match &inputs {
            Inputs::AllAtOnce {
                jobs,
                processes,
                hold_ms,
                ..
            } => {
                within("jobs", *jobs as u64, 1, 500)?;
                within("processes", *processes as u64, 1, 64)?;
                within("hold_ms", *hold_ms, 0, 2000)?;
            }
            Inputs::Speedup {
                sequential_ms,
                jobs_per_worker,
            } => {
                within("sequential_ms", *sequential_ms, 50, 5000)?;
                within("jobs_per_worker", *jobs_per_worker as u64, 1, 16)?;
            }
            Inputs::OverTime {
                jobs,
                processes,
                gap_ms,
                hold_ms,
                ..
            } => {
                within("jobs", *jobs as u64, 2, 100)?;
                within("processes", *processes as u64, 2, 64)?;
                within("gap_ms", *gap_ms, 0, 2000)?;
                within("hold_ms", *hold_ms, 0, 2000)?;
            }
        }
        Ok(inputs)
    }
}

/// The right result for `x`: `1 + 2 + ... + x`, in closed form.
pub fn expected(x: u64) -> u64 {
    // Truncation is the wrapping sum the loop computes; no input here comes near it.
    (u128::from(x) * (u128::from(x) + 1) / 2) as u64
}

/// `jobs` distinct inputs from `low..low + 4 * jobs`, shuffled.
fn distinct_inputs(rng: &mut crate::seed::SplitMix64, low: u64, jobs: usize) -> Vec<u64> {
    let mut pool: Vec<u64> = (low..low + 4 * jobs as u64).collect();
    rng.shuffle(&mut pool);
    pool.truncate(jobs);
    pool
}

/// The scenario a seed gives for these inputs (`None` for [`Inputs::Speedup`], whose jobs
/// are sized on the machine: see [`speedup_inputs`]).
pub fn scenario(inputs: &Inputs, seed: Seed) -> Option<Scenario> {
    let mut rng = seed.rng();
    match *inputs {
        Inputs::AllAtOnce {
            jobs,
            processes,
            hold_ms,
            values,
        } => {
            let low = rng.between(100_000, 400_000);
            let mut inputs = distinct_inputs(&mut rng, low, jobs);
            if values == Values::Edge {
                let repeated: Vec<u64> = inputs.iter().take(jobs / 10).copied().collect();
                let edges = [0, 1, 2].into_iter().chain(repeated);
                for (slot, value) in inputs.iter_mut().rev().zip(edges) {
                    *slot = value;
                }
                rng.shuffle(&mut inputs);
            }
            Some(Scenario::AllAtOnce {
                processes,
                inputs,
                hold_ms,
            })
        }
        Inputs::OverTime {
            jobs,
            processes,
            gap_ms,
            hold_ms,
            arrival,
        } => {
            let low = rng.between(10_000, 40_000);
            let inputs = distinct_inputs(&mut rng, low, jobs);
            let gaps_ms = (0..jobs)
                .map(|i| match (i, arrival) {
                    (0, _) => 0,
                    (_, Arrival::Steady) => gap_ms,
                    (i, Arrival::Bursts) if i % 3 == 0 => 3 * gap_ms,
                    (_, Arrival::Bursts) => 0,
                })
                .collect();
            Some(Scenario::OverTime {
                processes,
                inputs,
                gaps_ms,
                hold_ms,
            })
        }
        Inputs::Speedup { .. } => None,
    }
}

/// `jobs` distinct inputs of about `x`, shuffled: equal jobs for a speedup run.
pub fn speedup_inputs(x: u64, jobs: usize, seed: Seed) -> Vec<u64> {
    let mut rng = seed.rng();
    distinct_inputs(&mut rng, x.max(1), jobs)
}

/// How the results that came back differ from the inputs' results, as multisets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Inputs whose result came back fewer times than the input was given.
    pub missing: Vec<u64>,
    /// Inputs whose result came back more times than the input was given, with the count.
    pub repeated: Vec<(u64, usize)>,
    /// Values that are no input's result.
    pub unknown: Vec<u64>,
}

impl Tally {
    /// True when every input's result came back exactly as often as the input was given.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.repeated.is_empty() && self.unknown.is_empty()
    }
}

/// How many times each input was given.
pub fn multiplicity(inputs: &[u64]) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for &x in inputs {
        *counts.entry(x).or_default() += 1;
    }
    counts
}

/// Compares `values` (results, in any order) with the results of `inputs`.
pub fn tally(inputs: &[u64], values: &[u64]) -> Tally {
    let given = multiplicity(inputs);
    // `expected` is strictly increasing, so each result names its input.
    let input_of: BTreeMap<u64, u64> = given.keys().map(|&x| (expected(x), x)).collect();
    let mut got: BTreeMap<u64, usize> = BTreeMap::new();
    let mut tally = Tally::default();
    for value in values {
        match input_of.get(value) {
            Some(&x) => *got.entry(x).or_default() += 1,
            None => tally.unknown.push(*value),
        }
    }
    for (&x, &times) in &given {
        let back = got.get(&x).copied().unwrap_or(0);
        if back < times {
            tally.missing.extend(std::iter::repeat_n(x, times - back));
        } else if back > times {
            tally.repeated.push((x, back));
        }
    }
    tally
}

/// How the recorded jobs differ from the submitted inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunTally {
    /// Inputs computed more often than given, with the count.
    pub extra: Vec<(u64, usize)>,
    /// Inputs never computed by the tests' `sum_all_values`.
    pub never: Vec<u64>,
    /// Inputs computed in the main process (the runner) instead of a worker.
    pub in_main: Vec<u64>,
}

/// Compares the recorded jobs with the inputs; `main_pid` is the runner's pid.
pub fn tally_runs(inputs: &[u64], runs: &[TaskRun], main_pid: u32) -> RunTally {
    let given = multiplicity(inputs);
    let ran = multiplicity(&runs.iter().map(|r| r.input).collect::<Vec<_>>());
    RunTally {
        extra: ran
            .iter()
            .filter(|(x, n)| **n > given.get(x).copied().unwrap_or(0))
            .map(|(x, n)| (*x, *n))
            .collect(),
        never: given
            .keys()
            .filter(|x| !ran.contains_key(x))
            .copied()
            .collect(),
        in_main: runs
            .iter()
            .filter(|r| r.pid == main_pid)
            .map(|r| r.input)
            .collect(),
    }
}

/// Results logged before a job computing them had finished: `(input, logged at, first
/// finish or None)`. The k-th logging of an input's result must come after its k-th
/// finished job.
pub fn premature_arrivals(runs: &[TaskRun], arrivals: &[Event]) -> Vec<(u64, u64, Option<u64>)> {
    let mut finishes: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for run in runs {
        finishes
            .entry(expected(run.input))
            .or_default()
            .push(run.finished_ns);
    }
    let mut logged: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for arrival in arrivals {
        logged.entry(arrival.value).or_default().push(arrival.at_ns);
    }
    let mut early = Vec::new();
    for (value, mut times) in logged {
        times.sort_unstable();
        let mut done = finishes.remove(&value).unwrap_or_default();
        done.sort_unstable();
        for (k, at) in times.into_iter().enumerate() {
            if done.get(k).is_none_or(|finished| *finished > at) {
                let input = runs
                    .iter()
                    .find(|r| expected(r.input) == value)
                    .map_or(value, |r| r.input);
                early.push((input, at, done.first().copied()));
            }
        }
    }
    early
}

/// How much the recorded jobs overlapped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    /// From the first job's start to the last job's end.
    pub span: Duration,
    /// The jobs' durations added up: the span if they had run one after another.
    pub busy: Duration,
    /// Most jobs running at the same moment.
    pub peak: usize,
}

impl Overlap {
    /// `span / busy`: 1 for jobs that ran one after another, `1 / k` for `k` at a time.
    pub fn fraction(&self) -> f64 {
        self.span.as_secs_f64() / self.busy.as_secs_f64().max(1e-9)
    }
}

/// The overlap of `runs` (`None` when there are none).
pub fn overlap(runs: &[TaskRun]) -> Option<Overlap> {
    let first = runs.iter().map(|r| r.started_ns).min()?;
    let last = runs.iter().map(|r| r.finished_ns).max()?;
    let busy: u64 = runs
        .iter()
        .map(|r| r.finished_ns.saturating_sub(r.started_ns))
        .sum();
    // Ends sort before starts at the same instant: touching jobs did not overlap.
    let mut edges: Vec<(u64, i64)> = runs
        .iter()
        .flat_map(|r| [(r.started_ns, 1), (r.finished_ns, -1)])
        .collect();
    edges.sort_unstable();
    let (mut running, mut peak) = (0i64, 0i64);
    for (_, step) in edges {
        running += step;
        peak = peak.max(running);
    }
    Some(Overlap {
        span: Duration::from_nanos(last.saturating_sub(first)),
        busy: Duration::from_nanos(busy),
        peak: usize::try_from(peak).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: u64, pid: u32, started_ms: u64, finished_ms: u64) -> TaskRun {
        TaskRun {
            input,
            pid,
            started_ns: started_ms * 1_000_000,
            finished_ns: finished_ms * 1_000_000,
        }
    }

    #[test]
    fn every_kind_of_inputs_decodes_and_unknown_keys_are_refused() {
        let table = |text: &str| -> toml::Table { toml::from_str(text).expect("toml") };
        assert_eq!(
            Inputs::from_table(&table("part = \"all-at-once\"\njobs = 3\nprocesses = 2")),
            Ok(Inputs::AllAtOnce {
                jobs: 3,
                processes: 2,
                hold_ms: 0,
                values: Values::Plain
            })
        );
        assert!(
            Inputs::from_table(&table(
                "part = \"speedup\"\nsequential_ms = 400\njobs_per_worker = 4"
            ))
            .is_ok()
        );
        let bursts = table(
            "part = \"over-time\"\njobs = 9\nprocesses = 3\ngap_ms = 100\nhold_ms = 150\n\
             arrival = \"bursts\"",
        );
        assert!(Inputs::from_table(&bursts).is_ok());
        let unknown = Inputs::from_table(&table(
            "part = \"all-at-once\"\njobs = 3\nprocesses = 2\ncolour = 1",
        ));
        assert!(unknown.is_err_and(|e| e.contains("colour")));
        let range = Inputs::from_table(&table("part = \"all-at-once\"\njobs = 0\nprocesses = 2"));
        assert!(range.is_err_and(|e| e.contains("jobs")));
    }

    #[test]
    fn scenarios_are_reproducible_and_edge_values_repeat_inputs() {
        let inputs = Inputs::AllAtOnce {
            jobs: 40,
            processes: 4,
            hold_ms: 0,
            values: Values::Edge,
        };
        let a = scenario(&inputs, Seed(5)).expect("all-at-once");
        assert_eq!(Some(a.clone()), scenario(&inputs, Seed(5)));
        let Scenario::AllAtOnce { inputs, .. } = a else {
            panic!("{a:?}")
        };
        assert_eq!(inputs.len(), 40);
        for edge in [0, 1, 2] {
            assert!(inputs.contains(&edge), "{inputs:?}");
        }
        assert!(
            multiplicity(&inputs).values().any(|n| *n == 2),
            "{inputs:?}"
        );
    }

    #[test]
    fn bursts_come_three_at_a_time() {
        let inputs = Inputs::OverTime {
            jobs: 7,
            processes: 2,
            gap_ms: 10,
            hold_ms: 0,
            arrival: Arrival::Bursts,
        };
        let Some(Scenario::OverTime { gaps_ms, .. }) = scenario(&inputs, Seed(1)) else {
            panic!("over-time")
        };
        assert_eq!(gaps_ms, [0, 0, 0, 30, 0, 0, 30]);
    }

    #[test]
    fn the_closed_form_is_the_lesson_sum() {
        assert_eq!(expected(10_000), 50_005_000);
        assert_eq!(expected(100_000_000), 5_000_000_050_000_000);
        assert_eq!(expected(0), 0);
    }

    #[test]
    fn tally_finds_each_kind_of_mistake() {
        let inputs = [5, 6, 6, 7];
        assert!(
            tally(
                &inputs,
                &[expected(6), expected(5), expected(7), expected(6)]
            )
            .is_empty()
        );
        let wrong = tally(&inputs, &[expected(5), expected(5), expected(6), 4]);
        assert_eq!(wrong.missing, [6, 7]);
        assert_eq!(wrong.repeated, [(5, 2)]);
        assert_eq!(wrong.unknown, [4]);
    }

    #[test]
    fn run_tally_finds_repeats_absences_and_the_main_process() {
        let runs = [run(5, 10, 0, 1), run(5, 11, 0, 1), run(6, 99, 0, 1)];
        let tally = tally_runs(&[5, 6, 7], &runs, 99);
        assert_eq!(tally.extra, [(5, 2)]);
        assert_eq!(tally.never, [7]);
        assert_eq!(tally.in_main, [6]);
    }

    #[test]
    fn a_result_logged_before_its_job_finished_is_premature() {
        let runs = [run(5, 10, 0, 50)];
        let on_time = Event {
            value: expected(5),
            at_ns: 51_000_000,
        };
        assert!(premature_arrivals(&runs, &[on_time]).is_empty());
        let early = Event {
            value: expected(5),
            at_ns: 20_000_000,
        };
        assert_eq!(
            premature_arrivals(&runs, &[early]),
            [(5, 20_000_000, Some(50_000_000))]
        );
        // Logged twice, computed once: the second logging has no job behind it.
        assert_eq!(premature_arrivals(&runs, &[on_time, on_time]).len(), 1);
    }

    #[test]
    fn overlap_is_one_for_jobs_in_a_row_and_a_half_for_two_at_a_time() {
        let in_a_row = overlap(&[run(1, 1, 0, 100), run(2, 1, 100, 200)]).expect("runs");
        assert!((in_a_row.fraction() - 1.0).abs() < 1e-9);
        assert_eq!(in_a_row.peak, 1);
        let two = overlap(&[
            run(1, 1, 0, 100),
            run(2, 2, 0, 100),
            run(3, 1, 100, 200),
            run(4, 2, 100, 200),
        ])
        .expect("runs");
        assert!((two.fraction() - 0.5).abs() < 1e-9);
        assert_eq!(two.peak, 2);
        assert_eq!(overlap(&[]), None);
    }
}
