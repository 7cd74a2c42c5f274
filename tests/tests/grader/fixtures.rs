//! The harness's fixtures (`assignments/harness/fixtures/*`: stubs, deliberate mistakes,
//! alternative correct solutions), each handed to the grader as a student's submission
//! (`workspace_tests::submission`): every check gets the verdict the fixture's
//! `expected.toml` names (unlisted checks pass), and the explanation mentions what it says
//! it must. A check the machine cannot measure right now (`not-measurable`) is skipped, as
//! the harness's own self-check does, and so is a speedup check that should pass: this suite
//! runs other tests beside it on two cores, so whether a parallel fixture shows its speedup
//! here is a timing, not a behaviour (CI saw a06-utf8-only at 1.17x against 1.21x needed).
//! How often a correct variant's speedup fails is what the accuracy command measures, with
//! the machine's load known. A speedup check that should *fail* (a sequential fixture) is
//! still asserted: that holds at any load.

use workspace_tests::variants::{self, Origin, Variant};

use crate::support::{Scratch, checks, graded, text, workspace};

#[test]
fn fixtures_get_the_verdicts_they_expect_through_the_grader() {
    let fixtures: Vec<Variant> = variants::discover(&workspace())
        .expect("the variants")
        .into_iter()
        .filter(|v| matches!(v.origin, Origin::Fixture(_)))
        .collect();
    assert!(!fixtures.is_empty(), "no fixture found");
    let failures: Vec<String> = fixtures.iter().filter_map(grade_fixture).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Grades one fixture; `Some` with what went wrong.
fn grade_fixture(fixture: &Variant) -> Option<String> {
    let Origin::Fixture(dir) = &fixture.origin else {
        return None;
    };
    let assignment = fixture.assignment();
    let scratch = Scratch::new();
    let submission =
        workspace_tests::submission::write(dir, assignment, &scratch.path().join(&fixture.name))
            .expect("the fixture as a submission");
    let (_, report, output) = graded(
        scratch
            .grader()
            .arg(assignment)
            .arg("--submission")
            .arg(&submission)
            .args(["--seed", "11"]),
    );
    let mut mismatches = Vec::new();
    for check in checks(&report, assignment) {
        let id = check["id"].as_str().expect("an id");
        let got = check["verdict"].as_str().expect("a verdict");
        let explanation = check["explanation"].as_str().expect("an explanation");
        let wanted = fixture.expected_verdict(id);
        let timing_pass = check["kind"] == "speedup" && wanted == "pass";
        if got == "not-measurable" || timing_pass {
            continue;
        }
        if got != wanted {
            mismatches.push(format!("{id}: expected {wanted}, got {got}: {explanation}"));
            continue;
        }
        for phrase in fixture.expectation(id).map_or(&[][..], |e| &e.mentions) {
            if !explanation.contains(phrase.as_str()) {
                mismatches.push(format!("{id}: does not mention {phrase:?}: {explanation}"));
            }
        }
    }
    scratch.assert_nothing_left();
    (!mismatches.is_empty()).then(|| {
        format!(
            "{}:\n{}\n{}",
            fixture.name,
            mismatches.join("\n"),
            text(&output)
        )
    })
}

/// A submission `Cargo.toml` asking for a package's workspace dependencies (a student may
/// add crates the course's workspace provides).
pub fn workspace_dependencies_of(cargo_toml: &std::path::Path) -> String {
    let manifest: toml::Table = std::fs::read_to_string(cargo_toml)
        .expect("the package's Cargo.toml")
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
