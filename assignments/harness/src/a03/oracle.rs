//! a03's oracle: scenarios from a seed, the right answer, and how a wrong one falls short.
//!
//! Simple on purpose; students may read it. `workers` processes each add 1 to one shared
//! counter `increments` times, so the counter ends at `workers × increments`, and worker
//! `i`'s slot of the shared array at `increments`.

use serde::Deserialize;

use crate::a03::protocol::{Call, Counted, Scenario};
use crate::seed::Seed;

/// Most workers a scenario may have.
pub const MAX_WORKERS: usize = 64;

/// Most increments per worker a scenario may ask for.
pub const MAX_INCREMENTS: u64 = 1_000_000;

/// A check's `inputs` in the manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// How many worker processes, at least (1 to [`MAX_WORKERS`]).
    pub workers: usize,
    /// When given, use at least this many workers more than the machine has cores, so that on
    /// any machine the processes outnumber the cores and get preempted mid-update.
    #[serde(default)]
    pub over_cores: Option<usize>,
    /// Increments per worker (1 to [`MAX_INCREMENTS`]); the seed adds up to an eighth more.
    pub increments: u64,
    /// `never` (the default): the runs call `count_in_processes`. Otherwise the runner creates
    /// the counter and the counts and calls `run_workers`, holding the counter's lock while
    /// the workers start (see [`probe`](crate::a03::probe)) on `always` every run, on
    /// `every-other-run` the first, third, fifth... (the runs in between let the workers start
    /// staggered, as they do on their own, which shows some races more often).
    #[serde(default)]
    pub hold_lock: HoldLock,
}

/// When the runner holds the counter's lock while the workers start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HoldLock {
    /// Never: the runs call `count_in_processes`.
    #[default]
    Never,
    /// On every run of `run_workers`.
    Always,
    /// On the runs with an even index (the first, the third...) of `run_workers`.
    EveryOtherRun,
}

impl Inputs {
    /// Decodes and range-checks a manifest `inputs` table.
    pub fn from_table(table: &toml::Table) -> Result<Inputs, String> {
        let inputs: Inputs = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        if !(1..=MAX_WORKERS).contains(&inputs.workers) {
            return Err(format!(
                "workers = {} is not in 1..={MAX_WORKERS}",
                inputs.workers
            ));
        }
        if let Some(over) = inputs.over_cores.filter(|over| *over > MAX_WORKERS) {
            return Err(format!("over_cores = {over} is above {MAX_WORKERS}"));
        }
        if !(1..=MAX_INCREMENTS).contains(&inputs.increments) {
            return Err(format!(
                "increments = {} is not in 1..={MAX_INCREMENTS}",
                inputs.increments
            ));
        }
        Ok(inputs)
    }
}

/// The cores this process may run on (the machine the check runs on).
pub fn machine_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The scenario a seed gives for these inputs, for run `run` (from 0) of a check, on a
/// machine with `cores` cores.
pub fn scenario(inputs: &Inputs, seed: Seed, cores: usize, run: u32) -> Scenario {
    let mut rng = seed.rng();
    let workers = match inputs.over_cores {
        Some(over) => inputs.workers.max(cores.saturating_add(over)),
        None => inputs.workers,
    }
    .min(MAX_WORKERS);
    // A count that varies with the seed: an answer that is right must be computed.
    let increments = inputs.increments + rng.below(inputs.increments / 8 + 1);
    Scenario {
        workers,
        increments,
        call: match inputs.hold_lock {
            HoldLock::Never => Call::CountInProcesses,
            HoldLock::Always => Call::RunWorkers { hold_lock: true },
            HoldLock::EveryOtherRun => Call::RunWorkers {
                hold_lock: run % 2 == 0,
            },
        },
    }
}

/// What the counter must end at.
pub fn expected_total(scenario: &Scenario) -> u64 {
    scenario.workers as u64 * scenario.increments
}

/// How the counter's final value compares with the expected total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Exactly `workers × increments`.
    Exact,
    /// Below it although the per-worker counts add up to it: every worker made all its
    /// increments, and `lost` of them were overwritten (a read-modify-write without the lock).
    LostUpdates {
        /// Increments that vanished.
        lost: u64,
    },
    /// Still 0: the increments went to counters the main process never reads.
    NeverReached,
    /// Below it, and so are the per-worker counts (or they are missing).
    Short {
        /// How far below.
        missing: u64,
    },
    /// Above it.
    Over {
        /// How far above.
        extra: u64,
    },
}

/// Compares the counter's final value with the expected total.
pub fn compare_total(scenario: &Scenario, counted: &Counted) -> Total {
    let expected = expected_total(scenario);
    let recorded: u64 = counted.per_process.iter().sum();
    match counted.total {
        total if total == expected => Total::Exact,
        0 => Total::NeverReached,
        total if total > expected => Total::Over {
            extra: total - expected,
        },
        total if recorded == expected => Total::LostUpdates {
            lost: expected - total,
        },
        total => Total::Short {
            missing: expected - total,
        },
    }
}

/// Slots of the shared array that do not hold `increments`: `(index, value)`.
pub fn wrong_slots(scenario: &Scenario, counted: &Counted) -> Vec<(usize, u64)> {
    counted
        .per_process
        .iter()
        .enumerate()
        .filter(|(_, count)| **count != scenario.increments)
        .map(|(slot, count)| (slot, *count))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(workers: usize, over_cores: Option<usize>) -> Inputs {
        Inputs {
            workers,
            over_cores,
            increments: 800,
            hold_lock: HoldLock::Never,
        }
    }

    #[test]
    fn workers_outnumber_the_cores_when_asked() {
        let seed = Seed(5);
        assert_eq!(scenario(&inputs(1, None), seed, 8, 0).workers, 1);
        assert_eq!(scenario(&inputs(4, Some(0)), seed, 2, 0).workers, 4);
        assert_eq!(scenario(&inputs(4, Some(3)), seed, 2, 0).workers, 5);
        assert_eq!(scenario(&inputs(4, Some(3)), seed, 16, 0).workers, 19);
        assert_eq!(
            scenario(&inputs(4, Some(3)), seed, 500, 0).workers,
            MAX_WORKERS
        );
    }

    #[test]
    fn the_lock_is_held_on_the_runs_the_inputs_say() {
        let holds = |hold_lock| {
            let inputs = Inputs {
                hold_lock,
                ..inputs(2, None)
            };
            (0..4)
                .map(|run| scenario(&inputs, Seed(1), 2, run).call)
                .collect::<Vec<_>>()
        };
        assert_eq!(holds(HoldLock::Never), [Call::CountInProcesses; 4]);
        assert_eq!(
            holds(HoldLock::Always),
            [Call::RunWorkers { hold_lock: true }; 4]
        );
        let (held, free) = (
            Call::RunWorkers { hold_lock: true },
            Call::RunWorkers { hold_lock: false },
        );
        assert_eq!(holds(HoldLock::EveryOtherRun), [held, free, held, free]);
    }

    #[test]
    fn increments_vary_with_the_seed_within_an_eighth() {
        let counts: Vec<u64> = (0..50)
            .map(|i| scenario(&inputs(2, None), Seed(i), 2, 0).increments)
            .collect();
        assert!(counts.iter().all(|n| (800..=900).contains(n)), "{counts:?}");
        assert!(counts.iter().any(|n| *n != counts[0]), "{counts:?}");
        assert_eq!(
            scenario(&inputs(2, None), Seed(9), 2, 0),
            scenario(&inputs(2, None), Seed(9), 2, 0)
        );
    }

    #[test]
    fn each_shortfall_is_told_apart() {
        let scenario = Scenario {
            workers: 3,
            increments: 10,
            call: Call::CountInProcesses,
        };
        let counted = |total, per_process: &[u64]| Counted {
            total,
            per_process: per_process.to_vec(),
        };
        let compare = |c: Counted| compare_total(&scenario, &c);
        assert_eq!(compare(counted(30, &[10, 10, 10])), Total::Exact);
        assert_eq!(
            compare(counted(24, &[10, 10, 10])),
            Total::LostUpdates { lost: 6 }
        );
        assert_eq!(compare(counted(0, &[10, 10, 10])), Total::NeverReached);
        assert_eq!(
            compare(counted(20, &[10, 10, 0])),
            Total::Short { missing: 10 }
        );
        assert_eq!(compare(counted(20, &[])), Total::Short { missing: 10 });
        assert_eq!(
            compare(counted(40, &[10, 10, 10])),
            Total::Over { extra: 10 }
        );
        assert_eq!(
            wrong_slots(&scenario, &counted(30, &[10, 20, 0])),
            [(1, 20), (2, 0)]
        );
    }
}
