//! What a check gets, and what it returns.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::manifest::{Assignment, Check};
use crate::run::{SandboxOptions, Triage};
use crate::seed::Seed;
use crate::verdict::{Evidence, Figure, Verdict};

/// Everything a check needs to run.
#[derive(Debug, Clone)]
pub struct CheckContext<'a> {
    /// The assignment, from the manifest.
    pub assignment: &'a Assignment,
    /// The check, from the manifest.
    pub check: &'a Check,
    /// The runner binary of the implementation under test.
    pub runner: &'a Path,
    /// The package that runner belongs to (`a00-process`, `a00-process-solution`), for the
    /// replay command.
    pub package: &'a str,
    /// The seed every input is drawn from (the one printed for replay).
    pub seed: Seed,
    /// Base sandbox options; the check's own timeout replaces `timeout`.
    pub sandbox: SandboxOptions,
}

impl CheckContext<'_> {
    /// The seed of repetition `index` of this check: distinct per check and per repetition,
    /// all derived from [`CheckContext::seed`].
    pub fn repetition_seed(&self, index: u32) -> Seed {
        self.seed.derive(&self.check.id).repetition(index)
    }

    /// The sandbox options of one run of this check.
    pub fn sandbox(&self) -> SandboxOptions {
        SandboxOptions {
            timeout: self.check.timeout,
            ..self.sandbox.clone()
        }
    }

    /// The check's `inputs` table, decoded into the assignment's input type.
    pub fn inputs<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        toml::Value::Table(self.check.inputs.clone())
            .try_into()
            .map_err(|e| {
                Failure::new(Verdict::CouldNotRun {
                    why: format!("the manifest's inputs for this check are invalid: {e}"),
                })
            })
    }
}

/// What a check concluded, before it is wrapped into an
/// [`Outcome`](crate::verdict::Outcome).
#[derive(Debug, Clone)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// The figures behind it.
    pub figures: Vec<Figure>,
    /// Runs made.
    pub runs: u32,
    /// Output of the deciding run.
    pub evidence: Option<Evidence>,
}

/// A failed run or judgement: the verdict, its figures, and the run's output.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The verdict (never `Pass`).
    pub verdict: Verdict,
    /// The figures behind it.
    pub figures: Vec<Figure>,
    /// Output of the run (boxed: failures travel in `Result`s and should stay small).
    pub evidence: Option<Box<Evidence>>,
}

impl Failure {
    /// A failure with no figures and no output.
    pub fn new(verdict: Verdict) -> Self {
        Self {
            verdict,
            figures: Vec::new(),
            evidence: None,
        }
    }

    /// A wrong answer.
    pub fn wrong(
        expected: impl Into<String>,
        got: impl Into<String>,
        meaning: impl Into<String>,
    ) -> Self {
        Self::new(Verdict::WrongAnswer {
            expected: expected.into(),
            got: got.into(),
            meaning: meaning.into(),
        })
    }

    /// Adds figures.
    pub fn with_figures(mut self, figures: Vec<Figure>) -> Self {
        self.figures.extend(figures);
        self
    }

    /// For a timeout, lets the check say what the triage likely means in the assignment's
    /// terms ("the workers still wait in get(): did you put one sentinel per worker?"); it is
    /// shown under the diagnosis. Any other verdict, or a triage already explained, is kept.
    pub fn explain_timeout(mut self, explain: impl FnOnce(&Triage) -> Option<String>) -> Self {
        if let Verdict::Timeout { triage, .. } = &mut self.verdict
            && triage.likely.is_none()
        {
            triage.likely = explain(triage);
        }
        self
    }

    /// Attaches the run's output.
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = Some(Box::new(evidence));
        self
    }
}

/// Runs `one_run` for each of the check's repetitions (seeded by
/// [`CheckContext::repetition_seed`]), stopping at the first failure. Passing runs return
/// their figures; the judgement carries the last run's.
pub fn repeat(
    ctx: &CheckContext<'_>,
    mut one_run: impl FnMut(crate::seed::Seed) -> Result<Vec<Figure>, Failure>,
) -> Judgement {
    let mut figures = Vec::new();
    for index in 0..ctx.check.repetitions {
        match one_run(ctx.repetition_seed(index)) {
            Ok(run_figures) => figures = run_figures,
            Err(failure) => {
                return Judgement {
                    verdict: failure.verdict,
                    figures: failure.figures,
                    runs: index + 1,
                    evidence: failure.evidence.map(|e| *e),
                };
            }
        }
    }
    Judgement {
        verdict: Verdict::Pass,
        figures,
        runs: ctx.check.repetitions,
        evidence: None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::run::Diagnosis;

    fn timeout() -> Failure {
        Failure::new(Verdict::Timeout {
            limit: Duration::from_secs(1),
            triage: Triage {
                diagnosis: Diagnosis::Deadlock,
                processes: Vec::new(),
                gap: Duration::from_millis(100),
                likely: None,
            },
        })
    }

    #[test]
    fn a_timeout_gets_the_checks_explanation_under_its_diagnosis() {
        let explained = timeout().explain_timeout(|_| Some("one sentinel per worker?".into()));
        let text = explained.verdict.to_string();
        assert!(text.contains("deadlock"), "{text}");
        assert!(text.contains("likely: one sentinel per worker?"), "{text}");
        // A first explanation stays; other verdicts are left alone.
        let again = explained.explain_timeout(|_| Some("something else".into()));
        assert!(!again.verdict.to_string().contains("something else"));
        let wrong = Failure::wrong("a", "b", "c").explain_timeout(|_| Some("x".into()));
        assert!(!wrong.verdict.to_string().contains("likely: x"));
    }
}
