//! The harness's known-wrong fixtures (`assignments/harness/fixtures/*` with their own
//! `src/lib.rs`), each handed to the grader as a student's submission: every check gets the
//! verdict the fixture's `expected.toml` names (unlisted checks pass), and the explanation
//! mentions what it says it must. A speed check the machine could not measure
//! (`not-measurable`) proves nothing either way and is skipped, as the harness's self-check
//! does.

use std::path::Path;

use crate::support::{Scratch, checks, graded, text, workspace};

#[test]
fn known_wrong_fixtures_get_the_verdicts_they_expect() {
    let fixtures = workspace().join("assignments/harness/fixtures");
    let mut graded_any = false;
    let mut entries: Vec<_> = std::fs::read_dir(&fixtures)
        .expect("the fixtures folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("src/lib.rs").is_file() && p.join("expected.toml").is_file())
        .collect();
    entries.sort();
    // Every fixture is graded even after one failed: one assignment's broken fixture must not
    // hide what the others show.
    let mut failed = Vec::new();
    for fixture in entries {
        failed.extend(grade_fixture(&fixture));
        graded_any = true;
    }
    assert!(
        graded_any,
        "no fixture with its own src/lib.rs in {}",
        fixtures.display()
    );
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// Grades one fixture; what differs from its `expected.toml` (nothing when it matches).
fn grade_fixture(fixture: &Path) -> Option<String> {
    let name = fixture
        .file_name()
        .expect("a name")
        .to_string_lossy()
        .into_owned();
    let expected: toml::Table = std::fs::read_to_string(fixture.join("expected.toml"))
        .expect("expected.toml")
        .parse()
        .expect("expected.toml parses");
    let assignment = expected["assignment"].as_str().expect("assignment");
    let scratch = Scratch::new();
    let submission = scratch.submission(
        &name,
        &[
            (
                format!("assignments/{assignment}/src/lib.rs"),
                std::fs::read_to_string(fixture.join("src/lib.rs")).expect("the fixture"),
            ),
            (
                format!("assignments/{assignment}/Cargo.toml"),
                workspace_dependencies_of(&fixture.join("Cargo.toml")),
            ),
        ],
    );
    let (_, report, output) = graded(
        scratch
            .grader()
            .arg(assignment)
            .arg("--submission")
            .arg(&submission)
            .args(["--seed", "11"]),
    );
    let expectations = expected
        .get("expect")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let wanted = |check: &str| {
        expectations
            .iter()
            .find(|e| e["check"].as_str() == Some(check))
            .or_else(|| {
                expectations
                    .iter()
                    .find(|e| e["check"].as_str() == Some("*"))
            })
    };
    let mut mismatches = Vec::new();
    for check in checks(&report, assignment) {
        let id = check["id"].as_str().expect("an id");
        let got = check["verdict"].as_str().expect("a verdict");
        let explanation = check["explanation"].as_str().expect("an explanation");
        if got == "not-measurable" {
            eprintln!("{name}: {id} not measurable on this machine, skipped: {explanation}");
            continue;
        }
        match wanted(id) {
            None if got != "pass" => mismatches.push(format!("{id}: expected pass, got {got}")),
            None => {}
            Some(entry) => {
                let verdict = entry["verdict"].as_str().expect("a verdict");
                if got != verdict {
                    mismatches.push(format!(
                        "{id}: expected {verdict}, got {got}: {explanation}"
                    ));
                }
                for phrase in entry
                    .get("mentions")
                    .and_then(toml::Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let phrase = phrase.as_str().expect("a phrase");
                    if !explanation.contains(phrase) {
                        mismatches
                            .push(format!("{id}: does not mention {phrase:?}: {explanation}"));
                    }
                }
            }
        }
    }
    scratch.assert_nothing_left();
    (!mismatches.is_empty())
        .then(|| format!("{name}:\n{}\n{}", mismatches.join("\n"), text(&output)))
}

/// A submission `Cargo.toml` asking for the fixture's workspace dependencies (a student may
/// add crates the course's workspace provides).
fn workspace_dependencies_of(cargo_toml: &Path) -> String {
    let manifest: toml::Table = std::fs::read_to_string(cargo_toml)
        .expect("the fixture's Cargo.toml")
        .parse()
        .expect("parses");
    let mut out = String::from("[dependencies]\n");
    for (name, spec) in manifest["dependencies"].as_table().expect("dependencies") {
        if spec.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
            out.push_str(&format!("{name}.workspace = true\n"));
        }
    }
    out
}
