//! a01's oracle: scenarios from a seed, the right value of every task, and how a set of
//! results differs from the right one.
//!
//! Simple on purpose; students may read it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::a01::protocol::{Report, ResultFact, Scenario, TaskSpec};
use crate::checks::speedup::process_cpu_time;
use crate::seed::Seed;

/// Largest `x` a scenario uses: `x (x + 1) / 2` must fit in a `u64`.
pub const MAX_X: u64 = 4_000_000_000;

/// A check's `inputs` in the manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// How many tasks (0 to 10 000).
    pub tasks: usize,
    /// How many worker processes: a number (1 to 32), or `"cores"` for the cores available.
    pub workers: WorkerCount,
    /// About how much CPU time one task takes to compute, in milliseconds, in the build under
    /// test on this machine (sizes are calibrated: see `a01::calibrate`). At most 100.
    pub task_ms: f64,
}

/// How many workers a check asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum WorkerCount {
    /// This many.
    Count(usize),
    /// One per available core.
    Named(NamedCount),
}

/// Worker counts given by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NamedCount {
    /// One per core this process may run on.
    Cores,
}

impl WorkerCount {
    /// The number of workers, given the cores available.
    pub fn resolve(self, cores: usize) -> usize {
        match self {
            Self::Count(count) => count,
            Self::Named(NamedCount::Cores) => cores.max(1),
        }
    }
}

impl Inputs {
    /// Decodes and range-checks a manifest `inputs` table.
    pub fn from_table(table: &toml::Table) -> Result<Inputs, String> {
        let inputs: Inputs = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        if inputs.tasks > 10_000 {
            return Err(format!("tasks = {} is above 10000", inputs.tasks));
        }
        if let WorkerCount::Count(count) = inputs.workers
            && !(1..=32).contains(&count)
        {
            return Err(format!("workers = {count} is not in 1..=32"));
        }
        if !(inputs.task_ms > 0.0 && inputs.task_ms <= 100.0) {
            return Err(format!("task_ms = {} is not in (0, 100]", inputs.task_ms));
        }
        Ok(inputs)
    }
}

/// The lesson's CPU-bound function, exactly as the assignment gives it to students: the
/// sequential baseline runs this copy, so it does the same work the workers do.
#[inline(never)]
pub fn sum_all_values(x: u64) -> u64 {
    let mut total: u64 = 0;
    for i in 1..=x {
        total += std::hint::black_box(i);
    }
    total
}

/// The sequential baseline, as a runner serves it: every task's value with the course's own
/// [`sum_all_values`], one after another in this process, and the CPU time that took.
pub fn sequential(tasks: &[TaskSpec]) -> Report {
    let started = process_cpu_time();
    let values = tasks.iter().map(|task| sum_all_values(task.x)).collect();
    let cpu = process_cpu_time().saturating_sub(started);
    Report::Sequential {
        values,
        cpu_micros: u64::try_from(cpu.as_micros()).unwrap_or(u64::MAX),
    }
}

/// The right value of `sum_all_values(x)`, in closed form (Gauss).
pub fn expected_value(x: u64) -> u64 {
    let x = u128::from(x.min(MAX_X));
    // At most MAX_X (MAX_X + 1) / 2 < 2^63: fits.
    (x * (x + 1) / 2) as u64
}

/// The scenario a seed gives: `inputs.tasks` tasks with distinct ids in random order, each
/// `x` within ±20% of `iterations_per_ms × task_ms`, for `workers` workers.
pub fn scenario(inputs: &Inputs, seed: Seed, iterations_per_ms: f64, workers: usize) -> Scenario {
    let mut rng = seed.rng();
    let mut seen = BTreeSet::new();
    let base = (iterations_per_ms * inputs.task_ms).max(1.0);
    let tasks = (0..inputs.tasks)
        .map(|_| {
            let id = loop {
                let id = rng.between(1, u64::from(u32::MAX)) as u32;
                if seen.insert(id) {
                    break id;
                }
            };
            let scale = rng.between(80, 120) as f64 / 100.0;
            let x = ((base * scale) as u64).clamp(1, MAX_X);
            TaskSpec { id, x }
        })
        .collect();
    Scenario::Workers { tasks, workers }
}

/// How returned results differ from the right ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultMismatch {
    /// Tasks with no result.
    pub missing: Vec<TaskSpec>,
    /// Ids with more than one result, and how many each had.
    pub repeated: Vec<(u32, usize)>,
    /// Results whose id is no task's.
    pub unknown: Vec<ResultFact>,
    /// Results with a wrong value (the first result of each id only).
    pub wrong: Vec<(TaskSpec, ResultFact)>,
    /// Of `wrong`, those whose value is right for another task: ids mixed up.
    pub swapped: usize,
}

impl ResultMismatch {
    /// True when every task has exactly one result, with its right value, and nothing else.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
            && self.repeated.is_empty()
            && self.unknown.is_empty()
            && self.wrong.is_empty()
    }
}

/// Compares results with the tasks, as multisets of ids, and checks every value.
pub fn compare(tasks: &[TaskSpec], results: &[ResultFact]) -> ResultMismatch {
    let by_id: BTreeMap<u32, TaskSpec> = tasks.iter().map(|t| (t.id, *t)).collect();
    let mut first: BTreeMap<u32, ResultFact> = BTreeMap::new();
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    let mut unknown = Vec::new();
    for result in results {
        if by_id.contains_key(&result.id) {
            *counts.entry(result.id).or_default() += 1;
            first.entry(result.id).or_insert(*result);
        } else {
            unknown.push(*result);
        }
    }
    let right_values: BTreeSet<u64> = tasks.iter().map(|t| expected_value(t.x)).collect();
    let wrong: Vec<(TaskSpec, ResultFact)> = first
        .values()
        .filter_map(|result| {
            let task = by_id.get(&result.id)?;
            (result.value != expected_value(task.x)).then_some((*task, *result))
        })
        .collect();
    let swapped = wrong
        .iter()
        .filter(|(_, result)| right_values.contains(&result.value))
        .count();
    ResultMismatch {
        missing: tasks
            .iter()
            .filter(|t| !counts.contains_key(&t.id))
            .copied()
            .collect(),
        repeated: counts.into_iter().filter(|(_, n)| *n > 1).collect(),
        unknown,
        wrong,
        swapped,
    }
}

/// How many results each reported worker pid computed, most first.
pub fn results_per_pid(results: &[ResultFact]) -> Vec<(u32, usize)> {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for result in results {
        *counts.entry(result.worker_pid).or_default() += 1;
    }
    let mut counts: Vec<(u32, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(tasks: usize) -> Inputs {
        Inputs {
            tasks,
            workers: WorkerCount::Count(3),
            task_ms: 1.0,
        }
    }

    #[test]
    fn the_closed_form_is_the_loop() {
        for x in [0, 1, 2, 10, 12_345, 100_001] {
            assert_eq!(expected_value(x), sum_all_values(x), "x = {x}");
        }
        assert_eq!(expected_value(MAX_X), MAX_X / 2 * (MAX_X + 1));
    }

    #[test]
    fn scenarios_are_reproducible_with_distinct_ids_and_sized_work() {
        let a = scenario(&inputs(50), Seed(9), 1000.0, 3);
        assert_eq!(a, scenario(&inputs(50), Seed(9), 1000.0, 3));
        let Scenario::Workers { tasks, workers } = a else {
            panic!("a workers scenario")
        };
        assert_eq!(workers, 3);
        let ids: BTreeSet<u32> = tasks.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), 50);
        assert!(
            tasks.iter().all(|t| (800..=1200).contains(&t.x)),
            "{tasks:?}"
        );
    }

    #[test]
    fn worker_counts_are_numbers_or_cores() {
        let table: toml::Table =
            toml::from_str("tasks = 4\nworkers = \"cores\"\ntask_ms = 2").expect("toml");
        let inputs = Inputs::from_table(&table).expect("valid");
        assert_eq!(inputs.workers.resolve(6), 6);
        let table: toml::Table =
            toml::from_str("tasks = 4\nworkers = 0\ntask_ms = 2").expect("toml");
        assert!(Inputs::from_table(&table).is_err());
    }

    #[test]
    fn compare_finds_each_kind_of_mistake() {
        let tasks = [
            TaskSpec { id: 7, x: 3 },
            TaskSpec { id: 9, x: 4 },
            TaskSpec { id: 11, x: 5 },
            TaskSpec { id: 13, x: 6 },
        ];
        let result = |id, value| ResultFact {
            id,
            value,
            worker_pid: 100,
        };
        let right = [result(7, 6), result(9, 10), result(11, 15), result(13, 21)];
        assert!(compare(&tasks, &right).is_empty());
        let got = [
            result(7, 6),
            result(7, 6),
            result(9, 15), // task 11's value under id 9
            result(13, 22),
            result(99, 1),
        ];
        let mismatch = compare(&tasks, &got);
        assert_eq!(mismatch.missing, [TaskSpec { id: 11, x: 5 }]);
        assert_eq!(mismatch.repeated, [(7, 2)]);
        assert_eq!(mismatch.unknown, [result(99, 1)]);
        assert_eq!(mismatch.wrong.len(), 2);
        assert_eq!(mismatch.swapped, 1);
    }

    #[test]
    fn results_are_counted_per_pid() {
        let fact = |pid| ResultFact {
            id: 1,
            value: 1,
            worker_pid: pid,
        };
        let counts = results_per_pid(&[fact(5), fact(4), fact(5)]);
        assert_eq!(counts, [(5, 2), (4, 1)]);
    }
}
