//! The real grader: built once, then run on one variant with one seed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use workspace_tests::variants::{Kind, Origin, Variant};

/// Exit codes of the grader that mean a grade was given (see grader/README.md): every check
/// passed (0), some failed (1), or nothing failed but a speed check was not measurable (4).
/// A not-measurable verdict is tallied apart from passes and fails, not as a grader failure.
const GRADED: [i32; 3] = [0, 1, 4];

/// The grader binary, and where it builds assignments.
pub struct Grader {
    binary: PathBuf,
    target_dir: PathBuf,
}

/// One check's verdict in one grading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Judged {
    /// Its label (`pass`, `wrong-answer`, ...).
    pub verdict: String,
    /// The grader's explanation.
    pub explanation: String,
}

/// What one grading gave (as the journal keeps it: `{"verdicts": {..}}` or
/// `{"grader-failed": ".."}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grading {
    /// Each graded check's verdict, by check id.
    Verdicts(BTreeMap<String, Judged>),
    /// The grader did not grade (an internal error, exit code 3, or no report).
    GraderFailed(String),
}

impl Grader {
    /// Builds the grader (release) into `target_dir`.
    pub fn build(root: &Path, target_dir: &Path) -> Result<Grader> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "-p", "grader", "--target-dir"])
            .arg(target_dir)
            .current_dir(root)
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .context("running cargo")?;
        if !status.success() {
            bail!("building the grader failed ({status})");
        }
        Ok(Grader {
            binary: target_dir.join("release").join("grader"),
            target_dir: target_dir.to_owned(),
        })
    }

    /// The checks of `variant`'s assignment its `expected.toml` expects to fail (`*` covers
    /// every check not named), from the course's manifest.
    pub fn checks_expected_to_fail(&self, variant: &Variant) -> Result<Vec<String>> {
        let manifest = course_harness::manifest::embedded()
            .map_err(|e| anyhow::anyhow!("course.toml: {e}"))?;
        let Some(assignment) = manifest.assignment(variant.assignment()) else {
            bail!(
                "{}: no assignment {} in course.toml",
                variant.name,
                variant.assignment()
            );
        };
        let ids: Vec<String> = assignment
            .checks
            .iter()
            .map(|c| c.id.clone())
            .filter(|id| variant.expected_verdict(id) != "pass")
            .collect();
        if ids.is_empty() {
            bail!(
                "{}: no check of {} is expected to fail",
                variant.name,
                variant.assignment()
            );
        }
        Ok(ids)
    }

    /// Grades `assignment` (the reference solution, or `submission`) on `only` (all checks
    /// when empty) with `seed`.
    pub fn grade(
        &self,
        assignment: &str,
        submission: Option<&Path>,
        only: &[String],
        seed: u64,
    ) -> Result<Grading> {
        let mut command = Command::new(&self.binary);
        command
            .arg(assignment)
            .args(["--quiet", "--format", "json", "--seed"])
            .arg(format!("{seed:#x}"))
            .arg("--target-dir")
            .arg(&self.target_dir)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        match submission {
            Some(dir) => command.arg("--submission").arg(dir),
            None => command.arg("--solutions"),
        };
        for check in only {
            command.args(["--check", check]);
        }
        let output = command.output().context("running the grader")?;
        let code = output.status.code().unwrap_or(-1);
        if !GRADED.contains(&code) {
            return Ok(Grading::GraderFailed(format!("exit code {code}")));
        }
        let report: serde_json::Value = match serde_json::from_slice(&output.stdout) {
            Ok(report) => report,
            Err(e) => return Ok(Grading::GraderFailed(format!("no JSON report: {e}"))),
        };
        let verdicts = report["assignments"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|a| a["checks"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| {
                let judged = Judged {
                    verdict: c["verdict"].as_str()?.to_owned(),
                    explanation: c["explanation"].as_str().unwrap_or_default().to_owned(),
                };
                Some((c["id"].as_str()?.to_owned(), judged))
            })
            .collect();
        Ok(Grading::Verdicts(verdicts))
    }
}

/// The grader and each variant's submission and checks, made when first needed: a sitting
/// whose gradings are all in the journal builds nothing.
pub struct Bench {
    root: PathBuf,
    target_dir: PathBuf,
    grader: Option<Grader>,
    scratch: Option<tempfile::TempDir>,
    /// Per variant (by index): its submission (none for a reference solution) and the
    /// checks graded (all when empty).
    prepared: HashMap<usize, (Option<PathBuf>, Vec<String>)>,
}

impl Bench {
    /// A bench for the workspace at `root`, building into `target_dir`.
    pub fn new(root: &Path, target_dir: &Path) -> Bench {
        Bench {
            root: root.to_owned(),
            target_dir: target_dir.to_owned(),
            grader: None,
            scratch: None,
            prepared: HashMap::new(),
        }
    }

    /// Builds the grader unless built: before the first grading, so that its build does not
    /// count in that grading's time.
    pub fn build_grader(&mut self) -> Result<&Grader> {
        match &mut self.grader {
            Some(grader) => Ok(grader),
            slot @ None => {
                eprintln!("building the grader into {}", self.target_dir.display());
                Ok(slot.insert(Grader::build(&self.root, &self.target_dir)?))
            }
        }
    }

    /// Grades `variant` (number `index` of the selection) with `seed`.
    pub fn grade(&mut self, variant: &Variant, index: usize, seed: u64) -> Result<Grading> {
        self.build_grader()?;
        let Some(grader) = &self.grader else {
            bail!("the grader was not built");
        };
        let (submission, only) = match self.prepared.entry(index) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let submission = match &variant.origin {
                    Origin::Solution => None,
                    Origin::Fixture(dir) => {
                        let scratch = match &mut self.scratch {
                            Some(scratch) => scratch,
                            slot @ None => slot.insert(
                                tempfile::Builder::new()
                                    .prefix("accuracy-")
                                    .tempdir()
                                    .context("a scratch directory")?,
                            ),
                        };
                        Some(
                            workspace_tests::submission::write(
                                dir,
                                variant.assignment(),
                                &scratch.path().join(&variant.name),
                            )
                            .map_err(anyhow::Error::msg)?,
                        )
                    }
                };
                let only = match variant.kind() {
                    Kind::Good => Vec::new(),
                    Kind::Wrong => grader.checks_expected_to_fail(variant)?,
                };
                entry.insert((submission, only))
            }
        };
        grader.grade(variant.assignment(), submission.as_deref(), only, seed)
    }
}
