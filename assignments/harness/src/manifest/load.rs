//! Loading and validating the manifest.

use std::path::Path;
use std::sync::OnceLock;

use crate::errors::{ManifestError, ManifestProblem};
use crate::manifest::schema::{Manifest, Visibility, is_kebab};

/// The schema version this harness reads.
pub const FORMAT: u32 = 1;

/// The text of the workspace's `course.toml`, compiled into the harness.
pub const COURSE_TOML: &str = include_str!("../../../../course.toml");

/// The embedded manifest, parsed and validated once per process.
///
/// An error here is a course author's mistake; the harness's own tests catch it before a
/// student could see it.
pub fn embedded() -> Result<&'static Manifest, &'static ManifestError> {
    static EMBEDDED: OnceLock<Result<Manifest, ManifestError>> = OnceLock::new();
    EMBEDDED
        .get_or_init(|| Manifest::parse(COURSE_TOML))
        .as_ref()
}

impl Manifest {
    /// Reads, parses and validates a manifest file.
    pub fn from_path(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Manifest::parse(&text)
    }

    /// Parses and validates manifest text, including that the harness implements every check
    /// it lists and that every check's `inputs` decode.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let manifest = Manifest::parse_unchecked(text)?;
        manifest.validate()?;
        crate::checks::validate_against_registry(&manifest)?;
        Ok(manifest)
    }

    /// Parses without the cross-checks (for tests of the schema itself).
    pub fn parse_unchecked(text: &str) -> Result<Manifest, ManifestError> {
        // Read the format first, so a future format fails with "format" and not with a
        // confusing schema error.
        #[derive(serde::Deserialize)]
        struct FormatOnly {
            format: u32,
        }
        let format = toml::from_str::<FormatOnly>(text)
            .map_err(|e| ManifestError::Parse(Box::new(e)))?
            .format;
        if format != FORMAT {
            return Err(ManifestError::Format {
                found: format,
                supported: FORMAT,
            });
        }
        toml::from_str(text).map_err(|e| ManifestError::Parse(Box::new(e)))
    }

    /// Cross-item rules: unique ids and orders, id shapes, a visible check per assignment.
    fn validate(&self) -> Result<(), ManifestError> {
        let invalid = |place: &str, problem| ManifestError::Invalid {
            place: place.to_owned(),
            problem,
        };
        for (index, assignment) in self.assignments.iter().enumerate() {
            let earlier = &self.assignments[..index];
            if !is_assignment_id(&assignment.id) {
                return Err(invalid(
                    &assignment.id,
                    ManifestProblem::BadId {
                        id: assignment.id.clone(),
                        pattern: "aNN-name (two digits, then kebab-case)",
                    },
                ));
            }
            if earlier.iter().any(|a| a.id == assignment.id) {
                return Err(invalid(
                    &assignment.id,
                    ManifestProblem::DuplicateId(assignment.id.clone()),
                ));
            }
            if earlier.iter().any(|a| a.order == assignment.order) {
                return Err(invalid(
                    &assignment.id,
                    ManifestProblem::DuplicateOrder(assignment.order),
                ));
            }
            for (index, check) in assignment.checks.iter().enumerate() {
                if assignment.checks[..index].iter().any(|c| c.id == check.id) {
                    return Err(invalid(
                        &assignment.id,
                        ManifestProblem::DuplicateId(check.id.clone()),
                    ));
                }
            }
            if self.handout
                && let Some(hidden) = assignment
                    .checks
                    .iter()
                    .find(|c| c.visibility == Visibility::Hidden)
            {
                return Err(invalid(
                    &assignment.id,
                    ManifestProblem::HiddenInHandout(hidden.id.clone()),
                ));
            }
            if !assignment
                .checks
                .iter()
                .any(|c| c.visibility == Visibility::Visible)
            {
                return Err(invalid(&assignment.id, ManifestProblem::NoVisibleCheck));
            }
        }
        Ok(())
    }
}

/// `a` + two digits + `-` + kebab-case.
fn is_assignment_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() > 4
        && bytes[0] == b'a'
        && bytes[1].is_ascii_digit()
        && bytes[2].is_ascii_digit()
        && bytes[3] == b'-'
        && is_kebab(&id[4..])
}
