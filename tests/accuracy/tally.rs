//! Counting verdicts against expectations, and the table.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use workspace_tests::variants::Variant;

use crate::grading::Judged;

/// The verdict label of a pass, and of a reading the machine could not take.
const PASS: &str = "pass";
const NOT_MEASURABLE: &str = "not-measurable";

/// Counts of one check.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// Gradings where it was expected to pass.
    good: u32,
    /// ... and did not (nor was it not-measurable).
    false_fails: u32,
    /// ... and was not measurable.
    good_not_measurable: u32,
    /// Gradings where it was expected to fail.
    wrong: u32,
    /// ... and passed.
    false_passes: u32,
    /// ... and failed with another verdict than the one expected.
    other_verdict: u32,
    /// ... and was not measurable.
    wrong_not_measurable: u32,
}

/// A grade that was not the expected one.
#[derive(Debug, Clone)]
struct Miss {
    variant: String,
    assignment: String,
    check: String,
    seed: u64,
    expected: String,
    got: String,
    /// The first lines of the grader's explanation.
    explanation: String,
}

/// Lines of a wrong grade's explanation shown under it.
const EXPLANATION_LINES: usize = 4;

/// Every grading's verdicts, folded.
#[derive(Debug, Default)]
pub struct Tally {
    counts: BTreeMap<(String, String), Counts>,
    misses: Vec<Miss>,
    grader_failures: Vec<String>,
}

/// The conditions of a run, printed with its table.
pub struct Conditions {
    /// Gradings per variant.
    pub runs: u32,
    /// Spinning threads beside the gradings, if any.
    pub hog_threads: Option<usize>,
    /// CPUs of the machine.
    pub cpus: usize,
    /// `/proc/loadavg` at the start and the end.
    pub load_before: String,
    /// See `load_before`.
    pub load_after: String,
    /// How long it all took.
    pub elapsed: Duration,
    /// How many variants were graded.
    pub variants: usize,
}

impl Tally {
    /// Folds one grading of `variant` (its verdicts by check id).
    pub fn add(&mut self, variant: &Variant, verdicts: &BTreeMap<String, Judged>, seed: u64) {
        for (check, judged) in verdicts {
            let got = &judged.verdict;
            let expected = variant.expected_verdict(check);
            let counts = self
                .counts
                .entry((variant.assignment().to_owned(), check.clone()))
                .or_default();
            let missed = if expected == PASS {
                counts.good += 1;
                match got.as_str() {
                    PASS => false,
                    NOT_MEASURABLE => {
                        counts.good_not_measurable += 1;
                        false
                    }
                    _ => {
                        counts.false_fails += 1;
                        true
                    }
                }
            } else {
                counts.wrong += 1;
                match got.as_str() {
                    PASS => {
                        counts.false_passes += 1;
                        true
                    }
                    NOT_MEASURABLE => {
                        counts.wrong_not_measurable += 1;
                        false
                    }
                    same if same == expected => false,
                    _ => {
                        counts.other_verdict += 1;
                        true
                    }
                }
            };
            if missed {
                self.misses.push(Miss {
                    variant: variant.name.clone(),
                    assignment: variant.assignment().to_owned(),
                    check: check.clone(),
                    seed,
                    expected: expected.to_owned(),
                    got: got.clone(),
                    explanation: judged
                        .explanation
                        .lines()
                        .take(EXPLANATION_LINES)
                        .collect::<Vec<_>>()
                        .join("\n    "),
                });
            }
        }
    }

    /// Records a grading the grader could not give.
    pub fn grader_failed(&mut self, variant: &Variant, seed: u64, why: String) {
        self.grader_failures.push(format!(
            "{} {} (seed {seed:#x}): {why}",
            variant.assignment(),
            variant.name
        ));
    }

    /// True when no grade was wrong (a different failing verdict is not a wrong grade).
    pub fn is_clean(&self) -> bool {
        self.grader_failures.is_empty()
            && self
                .counts
                .values()
                .all(|c| c.false_fails == 0 && c.false_passes == 0)
    }

    /// The table (Markdown), the wrong grades with the command that replays each, and the
    /// conditions.
    pub fn render(&self, conditions: &Conditions) -> String {
        let mut out = String::new();
        let hog = conditions.hog_threads.map_or_else(
            || "no CPU hog".to_owned(),
            |n| format!("a CPU hog of {n} spinning threads beside it"),
        );
        let _ = writeln!(
            out,
            "{} gradings of each of {} variants (seeds from the first upward), {} CPUs, {hog}; \
             load average {} before, {} after; {:.0} min in all.\n",
            conditions.runs,
            conditions.variants,
            conditions.cpus,
            conditions.load_before,
            conditions.load_after,
            conditions.elapsed.as_secs_f64() / 60.0
        );
        out.push_str(
            "| assignment | check | good gradings | false fails | not measurable | wrong \
             gradings | false passes | other failing verdict | not measurable |\n",
        );
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for ((assignment, check), c) in self.ordered() {
            let _ = writeln!(
                out,
                "| {assignment} | {check} | {} | {} | {} | {} | {} | {} | {} |",
                c.good,
                rate(c.false_fails, c.good),
                c.good_not_measurable,
                c.wrong,
                rate(c.false_passes, c.wrong),
                c.other_verdict,
                c.wrong_not_measurable
            );
        }
        if !self.misses.is_empty() {
            out.push_str("\nGrades that were not the expected verdict (replay with the grader):\n");
            for miss in &self.misses {
                let source = if miss.variant == "solution" {
                    "--solutions".to_owned()
                } else {
                    format!("--submission <fixture {} as a submission>", miss.variant)
                };
                let _ = writeln!(
                    out,
                    "- {} {} / {}: expected {}, got {}: grader {} {source} --check {} --seed {:#x}\n    {}",
                    miss.variant,
                    miss.assignment,
                    miss.check,
                    miss.expected,
                    miss.got,
                    miss.assignment,
                    miss.check,
                    miss.seed,
                    miss.explanation
                );
            }
        }
        if !self.grader_failures.is_empty() {
            out.push_str("\nGradings the grader could not give:\n");
            for failure in &self.grader_failures {
                let _ = writeln!(out, "- {failure}");
            }
        }
        out
    }

    /// The counts in course order (assignments, then checks as `course.toml` lists them).
    fn ordered(&self) -> Vec<(&(String, String), &Counts)> {
        let position = |assignment: &str, check: &str| {
            course_harness::manifest::embedded()
                .ok()
                .and_then(|m| {
                    let a = m.assignment(assignment)?;
                    let c = a.checks.iter().position(|c| c.id == check)?;
                    Some((a.order, c))
                })
                .unwrap_or((u32::MAX, usize::MAX))
        };
        let mut rows: Vec<_> = self.counts.iter().collect();
        rows.sort_by_key(|((a, c), _)| position(a, c));
        rows
    }
}

/// `n/of (p%)`, or `-` when nothing was graded.
fn rate(n: u32, of: u32) -> String {
    if of == 0 {
        "-".to_owned()
    } else {
        format!("{n} ({:.1}%)", 100.0 * f64::from(n) / f64::from(of))
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}
