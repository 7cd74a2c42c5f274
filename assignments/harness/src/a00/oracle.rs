//! a00's oracle: scenarios from a seed, and the facts a right answer must show.
//!
//! Simple on purpose; students may read it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::a00::protocol::{Scenario, WorkerFact};
use crate::seed::Seed;

/// A check's `inputs` in the manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// How many workers (1 to 64).
    pub workers: usize,
    /// How long each works, in milliseconds (at most 5000).
    pub work_ms: u64,
    /// What the names look like.
    #[serde(default)]
    pub names: NameStyle,
}

/// What worker names look like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameStyle {
    /// `Process 3`, `worker 12`: like the lesson's.
    #[default]
    Plain,
    /// Spaces, quotes, non-ASCII, an empty name, a long one: names are data, not identifiers.
    Unusual,
}

impl Inputs {
    /// Decodes and range-checks a manifest `inputs` table.
    pub fn from_table(table: &toml::Table) -> Result<Inputs, String> {
        let inputs: Inputs = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        if !(1..=64).contains(&inputs.workers) {
            return Err(format!("workers = {} is not in 1..=64", inputs.workers));
        }
        if inputs.work_ms > 5000 {
            return Err(format!("work_ms = {} is above 5000", inputs.work_ms));
        }
        Ok(inputs)
    }
}

const PLAIN_STEMS: &[&str] = &["Process", "worker", "task", "job", "helper"];

const UNUSUAL_NAMES: &[&str] = &[
    "",
    "with  two spaces",
    "quote \" and backslash \\",
    "tab\there",
    "naïve café",
    "名前",
    "🦀 crab",
    "line\nbreak",
];

/// The scenario a seed gives for these inputs: `workers` distinct names, shuffled.
pub fn scenario(inputs: &Inputs, seed: Seed) -> Scenario {
    let mut rng = seed.rng();
    let mut numbers: Vec<u64> = (1..=inputs.workers as u64 * 3).collect();
    rng.shuffle(&mut numbers);
    let mut names: Vec<String> = numbers
        .iter()
        .take(inputs.workers)
        .map(|n| format!("{} {n}", rng.pick(PLAIN_STEMS)))
        .collect();
    if inputs.names == NameStyle::Unusual {
        let mut unusual: Vec<String> = UNUSUAL_NAMES.iter().map(|s| (*s).to_owned()).collect();
        unusual.push("long-".repeat(60));
        rng.shuffle(&mut unusual);
        for (slot, name) in names.iter_mut().zip(unusual) {
            *slot = name;
        }
        rng.shuffle(&mut names);
    }
    Scenario {
        names,
        work_ms: inputs.work_ms,
    }
}

/// How long the workers would take one after another.
pub fn sequential_time(scenario: &Scenario) -> Duration {
    Duration::from_millis(scenario.work_ms) * scenario.names.len() as u32
}

/// How reported names differ from the scenario's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameMismatch {
    /// Names with no report.
    pub missing: Vec<String>,
    /// Names reported more than once.
    pub repeated: Vec<String>,
    /// Reported names that were never given.
    pub unknown: Vec<String>,
}

impl NameMismatch {
    /// True when every name has exactly one report and nothing else came back.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.repeated.is_empty() && self.unknown.is_empty()
    }
}

/// Compares the reported names with the scenario's, as multisets.
pub fn compare_names(scenario: &Scenario, facts: &[WorkerFact]) -> NameMismatch {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for fact in facts {
        *counts.entry(fact.name.as_str()).or_default() += 1;
    }
    let given = |name: &str| scenario.names.iter().any(|n| n == name);
    NameMismatch {
        missing: scenario
            .names
            .iter()
            .filter(|n| !counts.contains_key(n.as_str()))
            .cloned()
            .collect(),
        repeated: counts
            .iter()
            .filter(|(name, count)| **count > 1 && given(name))
            .map(|(name, _)| (*name).to_owned())
            .collect(),
        unknown: counts
            .keys()
            .filter(|name| !given(name))
            .map(|name| (*name).to_owned())
            .collect(),
    }
}

/// Pids reported by more than one worker, with the names that reported each.
pub fn shared_pids(facts: &[WorkerFact]) -> Vec<(u32, Vec<String>)> {
    let mut by_pid: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for fact in facts {
        by_pid.entry(fact.pid).or_default().push(fact.name.clone());
    }
    by_pid
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(workers: usize, names: NameStyle) -> Inputs {
        Inputs {
            workers,
            work_ms: 10,
            names,
        }
    }

    #[test]
    fn names_are_distinct_and_reproducible() {
        for style in [NameStyle::Plain, NameStyle::Unusual] {
            let a = scenario(&inputs(12, style), Seed(3));
            let b = scenario(&inputs(12, style), Seed(3));
            assert_eq!(a, b);
            let mut sorted = a.names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 12, "{:?}", a.names);
        }
    }

    #[test]
    fn compare_names_finds_each_kind_of_mistake() {
        let scenario = Scenario {
            names: vec!["a".into(), "b".into(), "c".into()],
            work_ms: 0,
        };
        let fact = |name: &str| WorkerFact {
            name: name.into(),
            pid: 1,
            parent_pid: 0,
        };
        let mismatch = compare_names(&scenario, &[fact("a"), fact("a"), fact("z")]);
        assert_eq!(mismatch.missing, ["b", "c"]);
        assert_eq!(mismatch.repeated, ["a"]);
        assert_eq!(mismatch.unknown, ["z"]);
        assert!(compare_names(&scenario, &[fact("c"), fact("a"), fact("b")]).is_empty());
    }
}
