//! The implementations of each assignment whose grade is known in advance, found on disk so
//! that a new assignment's fixtures count as soon as they exist:
//!
//! - every reference solution (`solutions/<id>/`, with an `expected.toml` expecting no
//!   failure): known good;
//! - every fixture (`assignments/harness/fixtures/<name>/expected.toml`): known good when
//!   its `expected.toml` expects no failure (an alternative correct solution, written
//!   differently), known wrong otherwise (a stub, or a deliberate mistake).

use std::path::{Path, PathBuf};

pub use course_harness::selfcheck::{Expectations, Expected};

/// Whether a variant should pass every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Every check must pass.
    Good,
    /// Some checks must fail, with the verdicts its `expected.toml` names.
    Wrong,
}

/// Where a variant's code is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The reference solution (graded with `--solutions`).
    Solution,
    /// A fixture package (graded as a submission, see [`crate::submission`]).
    Fixture(PathBuf),
}

/// One implementation with a known grade.
#[derive(Debug, Clone)]
pub struct Variant {
    /// `solution` or the fixture's folder name.
    pub name: String,
    /// Its code.
    pub origin: Origin,
    /// Its `expected.toml`.
    pub expectations: Expectations,
}

impl Variant {
    /// The assignment it implements.
    pub fn assignment(&self) -> &str {
        &self.expectations.assignment
    }

    /// Good when no failure is expected.
    pub fn kind(&self) -> Kind {
        if self
            .expectations
            .failures
            .iter()
            .all(|e| e.verdict == "pass")
        {
            Kind::Good
        } else {
            Kind::Wrong
        }
    }

    /// The verdict expected of `check` (`pass` unless `expected.toml` names another, by
    /// the check's id or by `*`).
    pub fn expected_verdict(&self, check: &str) -> &str {
        self.expectation(check)
            .map_or("pass", |e| e.verdict.as_str())
    }

    /// The expectation naming `check`, by id or by `*`.
    pub fn expectation(&self, check: &str) -> Option<&Expected> {
        let failures = &self.expectations.failures;
        failures
            .iter()
            .find(|e| e.check == check)
            .or_else(|| failures.iter().find(|e| e.check == "*"))
    }
}

/// Every variant under `root` (the workspace), solutions first, then fixtures, each in name
/// order.
pub fn discover(root: &Path) -> Result<Vec<Variant>, String> {
    let mut variants = Vec::new();
    for (dir, origin) in packages(&root.join("solutions"))?
        .into_iter()
        .map(|dir| (dir, true))
        .chain(
            packages(&root.join("assignments/harness/fixtures"))?
                .into_iter()
                .map(|dir| (dir, false)),
        )
    {
        let expectations = read_expectations(&dir.join("expected.toml"))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        variants.push(Variant {
            name: if origin { "solution".to_owned() } else { name },
            origin: if origin {
                Origin::Solution
            } else {
                Origin::Fixture(dir)
            },
            expectations,
        });
    }
    Ok(variants)
}

/// The folders of `dir` holding an `expected.toml` and a `Cargo.toml`, sorted.
fn packages(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("expected.toml").is_file() && p.join("Cargo.toml").is_file())
        .collect();
    found.sort();
    Ok(found)
}

fn read_expectations(path: &Path) -> Result<Expectations, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
