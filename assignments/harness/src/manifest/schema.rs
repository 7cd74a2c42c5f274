//! The manifest's schema: one documented struct per table of `course.toml`.
//!
//! ```toml
//! format = 1
//! handout = true                     # only in a student handout: hidden checks withheld
//!
//! [[assignment]]
//! id = "a00-process"                 # also the stub's package name
//! title = "Start worker processes and learn their PIDs"
//! order = 0                          # position in the course
//! lesson = { seed = "001_dd8974948056bcb9.txt", section = "Process Example 2" }
//! summary = "One paragraph: what the student builds."
//! hints = ["first hint", "second hint"]
//!
//! [[assignment.check]]
//! id = "ran-concurrently"            # kebab-case; the visible test is `fn ran_concurrently`
//! title = "The workers ran at the same time"
//! kind = "concurrency"               # closed set, see CheckKind
//! visibility = "visible"             # or "hidden" (grader only)
//! points = 2
//! timeout_secs = 20                  # per run of the runner
//! repetitions = 1                    # runs per check (race checks: many)
//! max_fraction_of_sequential = 0.6   # kind-specific parameter (see CheckKind)
//! inputs = { workers = 4, work_ms = 200 }   # assignment-specific, decoded by its module
//! ```
//!
//! Unknown keys are errors that name the key and its line; so is a parameter given to a kind
//! that does not take it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::errors::ManifestProblem;

/// The whole of `course.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Schema version; this harness reads [`FORMAT`](super::FORMAT).
    pub format: u32,
    /// True in a student handout's copy (written by `grader handout`): its hidden checks
    /// were withheld, so the harness implements checks this manifest does not list, and it
    /// may list no hidden check. Absent (false) in the course's own manifest.
    #[serde(default)]
    pub handout: bool,
    /// Every assignment, in file order (see [`Assignment::order`] for course order).
    #[serde(rename = "assignment", default)]
    pub assignments: Vec<Assignment>,
}

impl Manifest {
    /// The assignment with this id.
    pub fn assignment(&self, id: &str) -> Option<&Assignment> {
        self.assignments.iter().find(|a| a.id == id)
    }

    /// The assignments sorted by [`Assignment::order`].
    pub fn in_order(&self) -> Vec<&Assignment> {
        let mut sorted: Vec<&Assignment> = self.assignments.iter().collect();
        sorted.sort_by_key(|a| a.order);
        sorted
    }
}

/// One assignment: a stub crate in `assignments/<id>/`, its solution in `solutions/<id>/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// `aNN-name`; also the stub's package name (`cargo test -p a00-process`).
    pub id: String,
    /// Human title.
    pub title: String,
    /// Position in the course, from 0.
    pub order: u32,
    /// The lesson section the assignment comes from.
    pub lesson: Lesson,
    /// What the student builds, in one paragraph.
    pub summary: String,
    /// Hints, in the order a stuck student should read them.
    #[serde(default)]
    pub hints: Vec<String>,
    /// What is graded.
    #[serde(rename = "check")]
    pub checks: Vec<Check>,
}

impl Assignment {
    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The checks students run with `cargo test`.
    pub fn visible_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| c.visibility == Visibility::Visible)
    }

    /// The most points the assignment can give.
    pub fn total_points(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }

    /// The stub's package name (the id).
    pub fn package(&self) -> &str {
        &self.id
    }

    /// The reference solution's package name: `<id>-solution`.
    pub fn solution_package(&self) -> String {
        format!("{}-solution", self.id)
    }
}

/// The name of a package's runner binary: `<package>-runner`. Bin names must be unique in the
/// workspace (they share `target/<profile>/`), hence the package name in it.
pub fn runner_bin_name(package: &str) -> String {
    format!("{package}-runner")
}

/// Where an assignment comes from in the seed lessons (`/work/shared/seeds/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The lesson file, e.g. `001_dd8974948056bcb9.txt`.
    pub seed: String,
    /// The section heading in it.
    pub section: String,
}

/// Who sees a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    /// A test in the assignment's `tests/visible.rs`, also graded.
    Visible,
    /// Graded only (other inputs, more repetitions, larger sizes).
    Hidden,
}

/// One graded property of an assignment.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawCheck")]
pub struct Check {
    /// Kebab-case id, unique in its assignment.
    pub id: String,
    /// What it verifies, for humans.
    pub title: String,
    /// What sort of property it is, with the kind's thresholds.
    pub kind: CheckKind,
    /// Visible or hidden.
    pub visibility: Visibility,
    /// Points for passing.
    pub points: u32,
    /// Deadline for each run of the runner.
    pub timeout: Duration,
    /// How many runs the check makes; every one must pass.
    pub repetitions: u32,
    /// Assignment-specific inputs, decoded by the assignment's module (e.g.
    /// [`a00::Inputs`](crate::a00::Inputs)).
    pub inputs: toml::Table,
}

impl Check {
    /// The name of its `#[test]` function in `tests/visible.rs`: the id in snake_case.
    pub fn test_name(&self) -> String {
        self.id.replace('-', "_")
    }
}

/// What sort of property a check verifies; the closed set every report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CheckKind {
    /// The output matches the oracle.
    Correctness,
    /// The output is right on every one of many repeated runs under contention.
    Race,
    /// Work that should overlap does: the wall time is well under the sequential time.
    Concurrency {
        /// The wall time must stay under this fraction of the sequential time (0 < f <= 1).
        max_fraction_of_sequential: f64,
    },
    /// A measured speedup over a sequential baseline, judged against the machine.
    Speedup {
        /// The student's gain over sequential (speedup − 1) must reach this fraction of the
        /// gain bare processes show on this machine in the same run (0 < f <= 1); see
        /// [`checks::speedup`](crate::checks::speedup) for why the gain.
        min_fraction_of_attainable: f64,
        /// The lead of votes a verdict needs: that many more samples voting one way than the
        /// other (on a quiet machine, that many samples in all); at most
        /// [`MAX_SAMPLES_PER_LEAD`](crate::checks::speedup::MAX_SAMPLES_PER_LEAD) times as
        /// many samples are taken before the check says the machine is too noisy.
        samples: u32,
    },
    /// No process, zombie or shared-memory segment is left behind.
    Cleanup,
    /// Waiting processes do not burn CPU.
    BusyWait {
        /// CPU time of the process tree may be at most this fraction of wall time while it
        /// should be blocked (0 < f <= 1).
        max_cpu_fraction: f64,
        /// A waiting process may be put on a CPU at most this many times per change of the
        /// state it waits for (> 0): one woken only by notifications stays near 1, one that
        /// polls with a short sleep wakes many times more, however little CPU it uses.
        max_wakeups_per_change: f64,
    },
    /// It finishes (no deadlock) on inputs built to expose one.
    Liveness,
}

impl CheckKind {
    /// The kind's name as written in the manifest.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Correctness => "correctness",
            Self::Race => "race",
            Self::Concurrency { .. } => "concurrency",
            Self::Speedup { .. } => "speedup",
            Self::Cleanup => "cleanup",
            Self::BusyWait { .. } => "busy-wait",
            Self::Liveness => "liveness",
        }
    }

    /// The kind with its thresholds, in words, for statements and reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Concurrency {
                max_fraction_of_sequential,
            } => format!("concurrency: wall time under {max_fraction_of_sequential} × sequential"),
            Self::Speedup {
                min_fraction_of_attainable,
                samples,
            } => format!(
                "speedup: gain over sequential at least {min_fraction_of_attainable} × what \
                 bare processes gain on this machine (decided by a lead of {samples} samples)"
            ),
            Self::BusyWait {
                max_cpu_fraction,
                max_wakeups_per_change,
            } => format!(
                "busy-wait: CPU under {max_cpu_fraction} × wall time while waiting, at most \
                 {max_wakeups_per_change} wakeups per change"
            ),
            Self::Correctness | Self::Race | Self::Cleanup | Self::Liveness => {
                self.name().to_owned()
            }
        }
    }

    /// True for kinds that time things: they must not share the machine with other checks.
    pub fn needs_quiet_machine(&self) -> bool {
        match self {
            Self::Concurrency { .. } | Self::Speedup { .. } | Self::BusyWait { .. } => true,
            Self::Correctness | Self::Race | Self::Cleanup | Self::Liveness => false,
        }
    }
}

/// The manifest's spelling of a kind.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum KindName {
    Correctness,
    Race,
    Concurrency,
    Speedup,
    Cleanup,
    BusyWait,
    Liveness,
}

/// A check as written: common keys plus every kind-specific parameter as optional, so unknown
/// keys are still rejected by `deny_unknown_fields` with their position.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: String,
    title: String,
    kind: KindName,
    visibility: Visibility,
    points: u32,
    timeout_secs: f64,
    #[serde(default = "one")]
    repetitions: u32,
    #[serde(default)]
    inputs: toml::Table,
    max_fraction_of_sequential: Option<f64>,
    min_fraction_of_attainable: Option<f64>,
    samples: Option<u32>,
    max_cpu_fraction: Option<f64>,
    max_wakeups_per_change: Option<f64>,
}

fn one() -> u32 {
    1
}

impl TryFrom<RawCheck> for Check {
    type Error = ManifestProblem;

    fn try_from(raw: RawCheck) -> Result<Self, Self::Error> {
        if !is_kebab(&raw.id) {
            return Err(ManifestProblem::BadId {
                id: raw.id,
                pattern: "lowercase-kebab-case",
            });
        }
        let timeout = Duration::try_from_secs_f64(raw.timeout_secs)
            .ok()
            .filter(|t| !t.is_zero() && t.as_secs() <= 3600)
            .ok_or_else(|| ManifestProblem::OutOfRange {
                key: "timeout_secs",
                value: raw.timeout_secs.to_string(),
                expected: "more than 0, at most 3600",
            })?;
        if raw.repetitions == 0 {
            return Err(ManifestProblem::OutOfRange {
                key: "repetitions",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        let kind = kind_from(&raw)?;
        Ok(Check {
            id: raw.id,
            title: raw.title,
            kind,
            visibility: raw.visibility,
            points: raw.points,
            timeout,
            repetitions: raw.repetitions,
            inputs: raw.inputs,
        })
    }
}

/// Builds the kind from its name and parameters, refusing parameters it does not take.
fn kind_from(raw: &RawCheck) -> Result<CheckKind, ManifestProblem> {
    let given: [(&'static str, bool); 5] = [
        (
            "max_fraction_of_sequential",
            raw.max_fraction_of_sequential.is_some(),
        ),
        (
            "min_fraction_of_attainable",
            raw.min_fraction_of_attainable.is_some(),
        ),
        ("samples", raw.samples.is_some()),
        ("max_cpu_fraction", raw.max_cpu_fraction.is_some()),
        (
            "max_wakeups_per_change",
            raw.max_wakeups_per_change.is_some(),
        ),
    ];
    let (kind, takes): (CheckKind, &[&str]) = match raw.kind {
        KindName::Correctness => (CheckKind::Correctness, &[]),
        KindName::Race => (CheckKind::Race, &[]),
        KindName::Cleanup => (CheckKind::Cleanup, &[]),
        KindName::Liveness => (CheckKind::Liveness, &[]),
        KindName::Concurrency => (
            CheckKind::Concurrency {
                max_fraction_of_sequential: fraction(
                    "concurrency",
                    "max_fraction_of_sequential",
                    raw.max_fraction_of_sequential,
                )?,
            },
            &["max_fraction_of_sequential"],
        ),
        KindName::Speedup => (
            CheckKind::Speedup {
                min_fraction_of_attainable: fraction(
                    "speedup",
                    "min_fraction_of_attainable",
                    raw.min_fraction_of_attainable,
                )?,
                samples: raw
                    .samples
                    .filter(|s| *s > 0)
                    .ok_or(ManifestProblem::KindParameter {
                        kind: "speedup",
                        key: "samples",
                        problem: "needs a positive",
                    })?,
            },
            &["min_fraction_of_attainable", "samples"],
        ),
        KindName::BusyWait => (
            CheckKind::BusyWait {
                max_cpu_fraction: fraction("busy-wait", "max_cpu_fraction", raw.max_cpu_fraction)?,
                max_wakeups_per_change: positive(
                    "busy-wait",
                    "max_wakeups_per_change",
                    raw.max_wakeups_per_change,
                )?,
            },
            &["max_cpu_fraction", "max_wakeups_per_change"],
        ),
    };
    if let Some((key, _)) = given
        .iter()
        .find(|(key, present)| *present && !takes.contains(key))
    {
        return Err(ManifestProblem::KindParameter {
            kind: kind.name(),
            key,
            problem: "does not take",
        });
    }
    Ok(kind)
}

fn fraction(
    kind: &'static str,
    key: &'static str,
    value: Option<f64>,
) -> Result<f64, ManifestProblem> {
    let value = value.ok_or(ManifestProblem::KindParameter {
        kind,
        key,
        problem: "needs",
    })?;
    if value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(ManifestProblem::OutOfRange {
            key,
            value: value.to_string(),
            expected: "more than 0, at most 1",
        })
    }
}

fn positive(
    kind: &'static str,
    key: &'static str,
    value: Option<f64>,
) -> Result<f64, ManifestProblem> {
    let value = value.ok_or(ManifestProblem::KindParameter {
        kind,
        key,
        problem: "needs",
    })?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ManifestProblem::OutOfRange {
            key,
            value: value.to_string(),
            expected: "more than 0, finite",
        })
    }
}

/// Lowercase ASCII words joined by single hyphens.
pub(crate) fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}
