//! Which function implements which check of the manifest.

use std::time::Instant;

use crate::checks::context::{CheckContext, Judgement};
use crate::checks::quiet::machine_lock;
use crate::errors::{ManifestError, ManifestProblem};
use crate::manifest::{Manifest, Visibility};
use crate::verdict::{Outcome, Replay, Verdict};

/// A check's implementation.
pub type CheckFn = fn(&CheckContext<'_>) -> Judgement;

/// One check id and the function that implements it.
#[derive(Debug, Clone, Copy)]
pub struct CheckDef {
    /// The id, as in the manifest.
    pub id: &'static str,
    /// The implementation.
    pub run: CheckFn,
}

/// The checks of one assignment, as its module (`crate::a00`, ...) defines them.
#[derive(Debug, Clone, Copy)]
pub struct AssignmentChecks {
    /// The assignment's id.
    pub assignment: &'static str,
    /// Every check it implements.
    pub checks: &'static [CheckDef],
    /// Decodes a check's `inputs` table into the assignment's input type, to reject bad
    /// manifests at load time.
    pub validate_inputs: fn(&toml::Table) -> Result<(), String>,
}

/// Every assignment the harness implements. A new assignment adds its module's entry here.
pub fn registry() -> &'static [AssignmentChecks] {
    &[
        crate::a00::CHECKS,
        crate::a01::CHECKS,
        crate::a02::CHECKS,
        crate::a03::CHECKS,
        crate::a04::CHECKS,
        crate::a05::CHECKS,
        crate::a06::CHECKS,
    ]
}

/// The implementation of `check` of `assignment`.
pub fn find(assignment: &str, check: &str) -> Option<CheckFn> {
    registry()
        .iter()
        .find(|a| a.assignment == assignment)?
        .checks
        .iter()
        .find(|c| c.id == check)
        .map(|c| c.run)
}

/// Every check of the manifest has an implementation, every implementation a manifest entry
/// (except in a handout, which withholds the hidden checks), and every `inputs` table decodes.
pub fn validate_against_registry(manifest: &Manifest) -> Result<(), ManifestError> {
    let invalid = |place: String, problem| ManifestError::Invalid { place, problem };
    for assignment in &manifest.assignments {
        let Some(implemented) = registry().iter().find(|a| a.assignment == assignment.id) else {
            return Err(invalid(
                assignment.id.clone(),
                ManifestProblem::Registry(
                    "the harness has no checks for this assignment (add its module to \
                     checks::registry)"
                        .to_owned(),
                ),
            ));
        };
        for check in &assignment.checks {
            let place = format!("{} / {}", assignment.id, check.id);
            if !implemented.checks.iter().any(|c| c.id == check.id) {
                return Err(invalid(
                    place,
                    ManifestProblem::Registry(
                        "the harness has no function for this check".to_owned(),
                    ),
                ));
            }
            (implemented.validate_inputs)(&check.inputs)
                .map_err(|e| invalid(place, ManifestProblem::Inputs(e)))?;
        }
        // A handout withholds the hidden checks: their implementations stay (the visible
        // tests link the same harness), their manifest entries do not.
        if let Some(extra) = implemented
            .checks
            .iter()
            .find(|c| assignment.check(c.id).is_none() && !manifest.handout)
        {
            return Err(invalid(
                format!("{} / {}", assignment.id, extra.id),
                ManifestProblem::Registry(
                    "the harness implements this check but the manifest does not list it"
                        .to_owned(),
                ),
            ));
        }
    }
    Ok(())
}

/// Runs one check and wraps its judgement into an [`Outcome`].
///
/// Timing checks ([`CheckKind::needs_quiet_machine`](crate::manifest::CheckKind)) run alone
/// in this process; see [`machine_lock`].
pub fn run_check(ctx: &CheckContext<'_>) -> Outcome {
    let _machine = machine_lock(ctx.check.kind.needs_quiet_machine());
    let started = Instant::now();
    let judgement = match find(&ctx.assignment.id, &ctx.check.id) {
        Some(check) => check(ctx),
        None => Judgement {
            verdict: Verdict::CouldNotRun {
                why: format!(
                    "the harness has no check {} / {}",
                    ctx.assignment.id, ctx.check.id
                ),
            },
            figures: Vec::new(),
            runs: 0,
            evidence: None,
        },
    };
    let replay = match ctx.check.visibility {
        Visibility::Visible => Replay::VisibleTest {
            package: ctx.package.to_owned(),
            test: ctx.check.test_name(),
            seed: ctx.seed,
        },
        Visibility::Hidden => Replay::Grader {
            assignment: ctx.assignment.id.clone(),
            check: ctx.check.id.clone(),
            seed: ctx.seed,
        },
    };
    Outcome {
        assignment: ctx.assignment.id.clone(),
        check: ctx.check.id.clone(),
        title: ctx.check.title.clone(),
        points: ctx.check.points,
        verdict: judgement.verdict,
        figures: judgement.figures,
        runs: judgement.runs,
        repetitions: ctx.check.repetitions,
        seed: ctx.seed,
        replay,
        evidence: judgement.evidence,
        elapsed: started.elapsed(),
    }
}
