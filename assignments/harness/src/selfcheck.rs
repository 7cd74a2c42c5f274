//! The curriculum checks itself: every stub fails every check quickly, every solution passes
//! every check, and every deliberately wrong implementation (a *fixture*) fails exactly the
//! checks that catch its mistake, with a message naming it.
//!
//! Each such package (stub fixture, wrong fixture, solution) has an `expected.toml` beside its
//! `Cargo.toml` and the shared test `assignments/harness/fixtures/expected.rs`, which calls
//! [`verify`]:
//!
//! ```toml
//! assignment = "a00-process"
//! about = "starts each worker and joins it before starting the next"
//! max_secs_per_check = 20          # optional: a check taking longer is a mismatch
//!
//! [[expect]]                       # checks not listed must pass
//! check = "ran-concurrently"       # or "*": every check not listed by name
//! verdict = "wrong-answer"         # a Verdict::label()
//! mentions = ["one after another"] # all must appear in the explanation
//! ```
//!
//! A speedup check that returns "not measurable" (bare processes showed no parallel gain:
//! one core, or a machine saturated by others) matches any expectation: it judged neither
//! the implementation nor the expectation, and a selfcheck must not fail because the machine
//! was busy. The table says so.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::manifest::{self, CheckKind};
use crate::runner::error_chain;
use crate::seed::Seed;
use crate::verdict::{Outcome, Verdict};
use crate::visible::{Runner, outcome};

/// The content of an `expected.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// The assignment the implementation is for.
    pub assignment: String,
    /// What the implementation does (wrong), in one line.
    pub about: String,
    /// Longest a check may take on this implementation.
    #[serde(default = "default_max_secs")]
    pub max_secs_per_check: f64,
    /// Expected failures; every other check must pass.
    #[serde(default, rename = "expect")]
    pub failures: Vec<Expected>,
}

fn default_max_secs() -> f64 {
    60.0
}

/// One expected failing verdict.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// The check id, or `*` for every check not named elsewhere.
    pub check: String,
    /// The verdict's label (`wrong-answer`, `panicked`, `timeout`, ...).
    pub verdict: String,
    /// Phrases the verdict's explanation must contain.
    #[serde(default)]
    pub mentions: Vec<String>,
}

/// Reads `<package_dir>/expected.toml`, runs every check of its assignment (hidden ones too)
/// against `runner`, and panics with a table of mismatches if any verdict differs.
pub fn verify(package_dir: &str, runner: Runner) {
    let path = Path::new(package_dir).join("expected.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let expectations: Expectations =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{} is invalid: {e}", path.display()));
    let seed = Seed::from_env().unwrap_or_else(|e| panic!("{e}"));
    let report = compare(&expectations, runner, seed).unwrap_or_else(|e| panic!("{e}"));
    println!("{}", report.table);
    // What students would read for each expected failure (`cargo test -- --nocapture`).
    for explanation in &report.explanations {
        println!("{explanation}");
    }
    assert!(
        report.mismatches.is_empty(),
        "\n{} ({}): {} of {} checks did not get the expected verdict\n\n{}\n{}",
        runner.package,
        expectations.about,
        report.mismatches.len(),
        report.checked,
        report.table,
        report.mismatches.join("\n")
    );
}

/// The result of comparing an implementation's verdicts with its expectations.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// One line per check: expected, got, time.
    pub table: String,
    /// One explanation per check that did not match, with its full outcome.
    pub mismatches: Vec<String>,
    /// How many checks ran.
    pub checked: usize,
    /// The full explanation of every failing verdict (what a student would read).
    pub explanations: Vec<String>,
}

/// Runs every check of the expectations' assignment and compares.
pub fn compare(
    expectations: &Expectations,
    runner: Runner,
    seed: Seed,
) -> Result<Comparison, String> {
    let manifest =
        manifest::embedded().map_err(|e| format!("course.toml is invalid: {}", error_chain(e)))?;
    let assignment = manifest
        .assignment(&expectations.assignment)
        .ok_or_else(|| {
            format!(
                "course.toml has no assignment {:?}",
                expectations.assignment
            )
        })?;
    for expected in &expectations.failures {
        if expected.check != "*" && assignment.check(&expected.check).is_none() {
            return Err(format!(
                "expected.toml names check {:?}, which {} does not have",
                expected.check, assignment.id
            ));
        }
    }
    let max = Duration::from_secs_f64(expectations.max_secs_per_check);
    let mut table = String::new();
    let mut mismatches = Vec::new();
    let mut explanations = Vec::new();
    for check in &assignment.checks {
        let wanted = expectations
            .failures
            .iter()
            .find(|e| e.check == check.id)
            .or_else(|| expectations.failures.iter().find(|e| e.check == "*"));
        let outcome = outcome(&assignment.id, &check.id, runner, seed)?;
        let unjudged = machine_could_not_judge(check.kind, &outcome);
        let problem = if unjudged {
            None
        } else {
            mismatch(wanted, &outcome, max)
        };
        let _ = writeln!(
            table,
            "  {:<24} expected {:<16} got {:<16} {:>6.2} s  {}",
            check.id,
            wanted.map_or("pass", |w| w.verdict.as_str()),
            outcome.verdict.label(),
            outcome.elapsed.as_secs_f64(),
            match (&problem, unjudged) {
                (Some(_), _) => "MISMATCH",
                (None, true) => "ok (the machine could not judge)",
                (None, false) => "ok",
            }
        );
        if let Some(problem) = problem {
            mismatches.push(format!("{}: {problem}\n{outcome}", check.id));
        } else if !outcome.verdict.is_pass() {
            explanations.push(outcome.to_string());
        }
    }
    Ok(Comparison {
        table,
        mismatches,
        checked: assignment.checks.len(),
        explanations,
    })
}

/// True for a speedup check that found the machine unable to show any speedup: such an
/// outcome says nothing about the implementation, so it matches any expectation.
fn machine_could_not_judge(kind: CheckKind, outcome: &Outcome) -> bool {
    matches!(kind, CheckKind::Speedup { .. })
        && matches!(outcome.verdict, Verdict::NotMeasurable { .. })
}

fn mismatch(wanted: Option<&Expected>, outcome: &Outcome, max: Duration) -> Option<String> {
    if outcome.elapsed > max {
        return Some(format!(
            "took {:.1} s, more than the {:.1} s allowed",
            outcome.elapsed.as_secs_f64(),
            max.as_secs_f64()
        ));
    }
    let Some(wanted) = wanted else {
        return (!outcome.verdict.is_pass()).then(|| "expected a pass".to_owned());
    };
    if outcome.verdict.label() != wanted.verdict {
        return Some(format!(
            "expected verdict {}, got {}",
            wanted.verdict,
            outcome.verdict.label()
        ));
    }
    let explanation = outcome.verdict.to_string();
    wanted
        .mentions
        .iter()
        .find(|phrase| !explanation.contains(phrase.as_str()))
        .map(|phrase| format!("the explanation does not mention {phrase:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Replay;

    fn outcome(verdict: Verdict) -> Outcome {
        Outcome {
            assignment: "a05-pool".into(),
            check: "speedup".into(),
            title: "t".into(),
            points: 1,
            verdict,
            figures: Vec::new(),
            runs: 1,
            repetitions: 1,
            seed: Seed::DEFAULT,
            replay: Replay::Grader {
                assignment: "a05-pool".into(),
                check: "speedup".into(),
                seed: Seed::DEFAULT,
            },
            evidence: None,
            elapsed: Duration::from_millis(1),
        }
    }

    #[test]
    fn only_a_speedup_check_the_machine_could_not_judge_matches_anything() {
        let speedup = CheckKind::Speedup {
            min_fraction_of_attainable: 0.5,
            samples: 3,
        };
        let busy = outcome(Verdict::NotMeasurable { why: "busy".into() });
        assert!(machine_could_not_judge(speedup, &busy));
        assert!(!machine_could_not_judge(CheckKind::Correctness, &busy));
        assert!(!machine_could_not_judge(speedup, &outcome(Verdict::Pass)));
        let slow = outcome(Verdict::WrongAnswer {
            expected: "e".into(),
            got: "g".into(),
            meaning: "m".into(),
        });
        assert!(!machine_could_not_judge(speedup, &slow));
        // Elsewhere a not-measurable verdict where a pass is expected is a mismatch.
        assert!(mismatch(None, &busy, Duration::from_secs(1)).is_some());
    }
}
