//! a04's oracle: scenarios from a seed, and what a right answer must show.
//!
//! Simple on purpose; students may read it. The right answer of a bounded buffer is easy to
//! state: every item put comes out exactly once, each producer's items in the order it put
//! them (a single consumer sees that order), the buffer never holds more than its capacity,
//! and once every producer is done and the buffer is empty, every consumer's `get` returns
//! `None`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use crate::a04::protocol::{DriveScenario, PipelineScenario, Round, Scenario};
use crate::seed::{Seed, SplitMix64};

/// Which code of the student a check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Run {
    /// The runner's own producers and consumers drive the student's `BoundedBuffer`.
    Buffer,
    /// The student's `produce_and_consume` starts its own processes.
    Pipeline,
}

/// A check's `inputs` in the manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Whose processes.
    pub run: Run,
    /// Producers (1 to 16).
    pub producers: usize,
    /// Consumers (1 to 16).
    pub consumers: usize,
    /// The buffer's capacity (1 to 64).
    pub capacity: usize,
    /// Items per producer (1 to 5000); each producer gets between three quarters of it and
    /// all of it, so that they finish at different times.
    pub items: usize,
    /// Rounds, each with a fresh buffer and fresh processes (`buffer` only; 1 to 1000).
    #[serde(default = "one")]
    pub rounds: usize,
    /// A producer's pause before each put, in microseconds (`buffer` only).
    #[serde(default)]
    pub produce_us: u64,
    /// A consumer's pause after each item, in microseconds (`buffer` only).
    #[serde(default)]
    pub consume_us: u64,
    /// Start the consumers once the producers have filled the buffer (`buffer` only).
    #[serde(default)]
    pub fill_first: bool,
    /// How long a run may go without progress, every process asleep, before it counts as
    /// stalled, in milliseconds (200 to 10000). Long enough that a slow but live run is never
    /// stopped, short enough that a deadlock fails in seconds, not at the check's timeout.
    pub stall_ms: u64,
}

fn one() -> usize {
    1
}

impl Inputs {
    /// Decodes and range-checks a manifest `inputs` table.
    pub fn from_table(table: &toml::Table) -> Result<Inputs, String> {
        let inputs: Inputs = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        let ranges = [
            ("producers", inputs.producers, 1, 16),
            ("consumers", inputs.consumers, 1, 16),
            ("capacity", inputs.capacity, 1, 64),
            ("items", inputs.items, 1, 5000),
            ("rounds", inputs.rounds, 1, 1000),
            ("stall_ms", inputs.stall_ms as usize, 200, 10_000),
        ];
        for (key, value, low, high) in ranges {
            if !(low..=high).contains(&value) {
                return Err(format!("{key} = {value} is not in {low}..={high}"));
            }
        }
        let drive_only = inputs.rounds != 1
            || inputs.produce_us != 0
            || inputs.consume_us != 0
            || inputs.fill_first;
        if inputs.run == Run::Pipeline && drive_only {
            return Err(
                "rounds, produce_us, consume_us and fill_first apply to run = \"buffer\" only"
                    .to_owned(),
            );
        }
        Ok(inputs)
    }
}

/// The scenario a seed gives for these inputs.
pub fn scenario(inputs: &Inputs, seed: Seed) -> Scenario {
    let mut rng = seed.rng();
    let mut rounds: Vec<Round> = (0..inputs.rounds)
        .map(|_| round(inputs, &mut rng))
        .collect();
    match inputs.run {
        Run::Pipeline => Scenario::Pipeline(PipelineScenario {
            round: rounds.remove(0),
            stall_ms: inputs.stall_ms,
        }),
        Run::Buffer => Scenario::Buffer(DriveScenario {
            rounds,
            produce_us: inputs.produce_us,
            consume_us: inputs.consume_us,
            fill_first: inputs.fill_first,
            stall_ms: inputs.stall_ms,
        }),
    }
}

/// One round: distinct random items, a random count per producer.
fn round(inputs: &Inputs, rng: &mut SplitMix64) -> Round {
    let mut seen = HashSet::new();
    let fewest = (inputs.items * 3).div_ceil(4).max(1) as u64;
    let items = (0..inputs.producers)
        .map(|_| {
            let count = rng.between(fewest, inputs.items as u64);
            (0..count)
                .map(|_| {
                    loop {
                        // Below 2^53, so the numbers survive any JSON reader a student might use.
                        let item = rng.next_u64() >> 11;
                        if seen.insert(item) {
                            break item;
                        }
                    }
                })
                .collect()
        })
        .collect();
    Round {
        capacity: inputs.capacity,
        items,
        consumers: inputs.consumers,
    }
}

/// How the items that came out differ from the items that went in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// Put but never got.
    pub missing: Vec<u64>,
    /// Got more than once, with how many times.
    pub repeated: Vec<(u64, usize)>,
    /// Got but never put.
    pub unknown: Vec<u64>,
}

impl Mismatch {
    /// True when every item came out exactly once and nothing else did.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.repeated.is_empty() && self.unknown.is_empty()
    }
}

/// Compares the items that came out (in any order, from any consumer) with the round's.
pub fn compare(round: &Round, got: impl IntoIterator<Item = u64>) -> Mismatch {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for item in got {
        *counts.entry(item).or_default() += 1;
    }
    let put: HashSet<u64> = round.items.iter().flatten().copied().collect();
    Mismatch {
        missing: round
            .items
            .iter()
            .flatten()
            .filter(|item| !counts.contains_key(item))
            .copied()
            .collect(),
        repeated: counts
            .iter()
            .filter(|(item, count)| **count > 1 && put.contains(item))
            .map(|(item, count)| (*item, *count))
            .collect(),
        unknown: counts
            .keys()
            .filter(|item| !put.contains(item))
            .copied()
            .collect(),
    }
}

/// Where one consumer's sequence breaks a producer's order: the producer, the position in
/// the consumer's sequence, the item expected there and the one got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBreak {
    /// The producer whose items came out of order.
    pub producer: usize,
    /// The item of that producer that should have come next.
    pub expected: u64,
    /// The item of that producer that came instead.
    pub got: u64,
    /// How many items the consumer had got before.
    pub position: usize,
}

/// The first place where `consumed` (one consumer's items, in order) does not follow each
/// producer's order. Items of no producer are ignored (the exactly-once comparison reports
/// them).
pub fn first_order_break(round: &Round, consumed: &[u64]) -> Option<OrderBreak> {
    let owner: BTreeMap<u64, (usize, usize)> = round
        .items
        .iter()
        .enumerate()
        .flat_map(|(producer, items)| {
            items
                .iter()
                .enumerate()
                .map(move |(index, item)| (*item, (producer, index)))
        })
        .collect();
    let mut next = vec![0usize; round.items.len()];
    for (position, item) in consumed.iter().enumerate() {
        let Some(&(producer, index)) = owner.get(item) else {
            continue;
        };
        if index != next[producer] {
            return Some(OrderBreak {
                producer,
                expected: round.items[producer]
                    [next[producer].min(round.items[producer].len() - 1)],
                got: *item,
                position,
            });
        }
        next[producer] += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(run: Run) -> Inputs {
        Inputs {
            run,
            producers: 3,
            consumers: 2,
            capacity: 2,
            items: 40,
            rounds: 1,
            produce_us: 0,
            consume_us: 0,
            fill_first: false,
            stall_ms: 1500,
        }
    }

    #[test]
    fn items_are_distinct_reproducible_and_counted_per_producer() {
        let a = scenario(&inputs(Run::Pipeline), Seed(5));
        assert_eq!(a, scenario(&inputs(Run::Pipeline), Seed(5)));
        let Scenario::Pipeline(PipelineScenario { round, .. }) = a else {
            panic!("a pipeline scenario")
        };
        assert_eq!(round.items.len(), 3);
        assert!(round.items.iter().all(|i| (30..=40).contains(&i.len())));
        let distinct: HashSet<u64> = round.items.iter().flatten().copied().collect();
        assert_eq!(distinct.len(), round.total());
    }

    #[test]
    fn compare_finds_each_kind_of_mistake() {
        let round = Round {
            capacity: 1,
            items: vec![vec![1, 2], vec![3]],
            consumers: 1,
        };
        let mismatch = compare(&round, [1, 1, 1, 9]);
        assert_eq!(mismatch.missing, [2, 3]);
        assert_eq!(mismatch.repeated, [(1, 3)]);
        assert_eq!(mismatch.unknown, [9]);
        assert!(compare(&round, [3, 1, 2]).is_empty());
    }

    #[test]
    fn order_is_per_producer() {
        let round = Round {
            capacity: 1,
            items: vec![vec![1, 2, 3], vec![7, 8]],
            consumers: 1,
        };
        assert_eq!(first_order_break(&round, &[1, 7, 2, 8, 3]), None);
        assert_eq!(
            first_order_break(&round, &[1, 7, 3, 2, 8]),
            Some(OrderBreak {
                producer: 0,
                expected: 2,
                got: 3,
                position: 2
            })
        );
    }

    #[test]
    fn pipeline_inputs_refuse_driver_settings() {
        let table: toml::Table = toml::from_str(
            "run = \"pipeline\"\nproducers = 1\nconsumers = 1\ncapacity = 1\nitems = 5\nrounds = 3",
        )
        .expect("toml");
        assert!(Inputs::from_table(&table).is_err());
    }
}
