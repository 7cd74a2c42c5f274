//! Counting verdicts against expectations, and the table.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use workspace_tests::variants::{Kind, Variant};

use crate::grading::{Grading, Judged};
use crate::journal::Entry;

/// The verdict label of a pass, and of a reading the machine could not take.
const PASS: &str = "pass";
const NOT_MEASURABLE: &str = "not-measurable";

/// Counts of one check.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// How many gradings one variant has.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Graded {
    assignment: String,
    variant: String,
    kind: Kind,
    gradings: u32,
}

/// Every grading's verdicts, folded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    counts: BTreeMap<(String, String), Counts>,
    misses: Vec<Miss>,
    grader_failures: Vec<String>,
    /// Every variant selected, in the order graded.
    per_variant: Vec<Graded>,
}

/// How long gradings took.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Timing {
    /// How many.
    pub gradings: usize,
    /// Their seconds, added up.
    pub total: f64,
    /// The longest, in seconds.
    pub max: f64,
}

impl Timing {
    /// The timing of `entries`.
    pub fn of(entries: &[Entry]) -> Timing {
        entries.iter().fold(Timing::default(), |t, e| Timing {
            gradings: t.gradings + 1,
            total: t.total + e.seconds,
            max: t.max.max(e.seconds),
        })
    }
}

/// The conditions of a run, printed with its table.
pub struct Conditions {
    /// Gradings per variant asked for.
    pub runs: u32,
    /// The seed of each variant's first grading.
    pub first_seed: u64,
    /// Spinning threads beside the gradings, if any.
    pub hog_threads: Option<usize>,
    /// CPUs of the machine.
    pub cpus: usize,
    /// The workspace's revision (`commit ...`), when known.
    pub revision: Option<String>,
    /// `/proc/loadavg` at the start and the end of this sitting.
    pub load_before: String,
    /// See `load_before`.
    pub load_after: String,
    /// How long this sitting took.
    pub elapsed: Duration,
    /// Gradings taken from the journal.
    pub from_journal: usize,
    /// Gradings done in this sitting.
    pub graded_now: usize,
    /// How long the gradings (the journal's and this sitting's) took.
    pub timing: Timing,
}

impl Tally {
    /// Folds the gradings `entries` of `variants` (entries of other variants are not
    /// counted; `accuracy` selects them before).
    pub fn of(variants: &[Variant], entries: &[Entry]) -> Tally {
        let mut tally = Tally {
            per_variant: variants
                .iter()
                .map(|v| Graded {
                    assignment: v.assignment().to_owned(),
                    variant: v.name.clone(),
                    kind: v.kind(),
                    gradings: 0,
                })
                .collect(),
            ..Tally::default()
        };
        for entry in entries {
            let Some(index) = variants
                .iter()
                .position(|v| v.assignment() == entry.assignment && v.name == entry.variant)
            else {
                continue;
            };
            tally.per_variant[index].gradings += 1;
            let variant = &variants[index];
            match &entry.outcome {
                Grading::Verdicts(verdicts) => tally.add(variant, verdicts, entry.seed),
                Grading::GraderFailed(why) => tally.grader_failed(variant, entry.seed, why),
            }
        }
        tally
    }

    /// Folds one grading of `variant` (its verdicts by check id).
    fn add(&mut self, variant: &Variant, verdicts: &BTreeMap<String, Judged>, seed: u64) {
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
    fn grader_failed(&mut self, variant: &Variant, seed: u64, why: &str) {
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
        let counts = self.per_variant.iter().map(|v| v.gradings);
        let (fewest, most) = (counts.clone().min().unwrap_or(0), counts.max().unwrap_or(0));
        let short = self
            .per_variant
            .iter()
            .filter(|v| v.gradings < conditions.runs)
            .count();
        let each = if fewest == most {
            format!("{most} grading{}", if most == 1 { "" } else { "s" })
        } else {
            format!("{fewest} to {most} gradings")
        };
        let revision = conditions
            .revision
            .as_deref()
            .map_or_else(String::new, |r| format!(", {r}"));
        let timing = &conditions.timing;
        let mean = if timing.gradings == 0 {
            0.0
        } else {
            timing.total / timing.gradings as f64
        };
        let _ = writeln!(
            out,
            "{each} of each of {} variants (seeds {:#x} upward), {} CPUs, {hog}{revision}. \
             {} gradings: {} from the journal, {} graded now; {mean:.1} s per grading on \
             average, {:.1} s at most, {} of grading in all. This sitting: load average {} \
             before, {} after; {}.",
            self.per_variant.len(),
            conditions.first_seed,
            conditions.cpus,
            timing.gradings,
            conditions.from_journal,
            conditions.graded_now,
            timing.max,
            span(timing.total),
            conditions.load_before,
            conditions.load_after,
            span(conditions.elapsed.as_secs_f64())
        );
        if short > 0 {
            let _ = writeln!(
                out,
                "\nINCOMPLETE: {short} of {} variants have fewer than the {} gradings asked \
                 (see the gradings per variant below); run the same command again to go on.",
                self.per_variant.len(),
                conditions.runs
            );
        }
        out.push('\n');
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
        out.push_str("\n| assignment | variant | kind | gradings |\n|---|---|---|---:|\n");
        for v in &self.per_variant {
            let kind = match v.kind {
                Kind::Good => "good",
                Kind::Wrong => "wrong",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {kind} | {} |",
                v.assignment, v.variant, v.gradings
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

/// `40 s`, `12 min`, or `3.4 h` from two hours on.
pub fn span(seconds: f64) -> String {
    let minutes = seconds / 60.0;
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if minutes < 120.0 {
        format!("{minutes:.0} min")
    } else {
        format!("{:.1} h", minutes / 60.0)
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
