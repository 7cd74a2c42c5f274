//! `course.toml` loads, rejects what it should with errors that name the key, agrees with the
//! harness's checks, with the visible tests, and with the workspace's layout (every
//! assignment has its stub, runner, visible tests, solution and fixtures).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use course_harness::checks::registry;
use course_harness::manifest::{self, Manifest, Visibility};
use course_harness::runner::error_chain;
use course_harness::selfcheck::Expectations;
use course_harness::{ManifestError, ManifestProblem};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A valid one-assignment manifest whose single check is written by the caller.
fn with_check(check: &str) -> String {
    format!(
        r#"format = 1

[[assignment]]
id = "a00-process"
title = "t"
order = 0
lesson = {{ seed = "s", section = "s" }}
summary = "s"

[[assignment.check]]
{check}
"#
    )
}

const GOOD_CHECK: &str = r#"id = "one-report-per-name"
title = "t"
kind = "correctness"
visibility = "visible"
points = 1
timeout_secs = 5
inputs = { workers = 2, work_ms = 10 }"#;

fn parse_error(text: &str) -> String {
    match Manifest::parse_unchecked(text) {
        Ok(_) => panic!("should not parse:\n{text}"),
        Err(e) => error_chain(&e),
    }
}

#[test]
fn the_embedded_manifest_is_valid() {
    let manifest = manifest::embedded()
        .unwrap_or_else(|e| panic!("course.toml is invalid: {}", error_chain(e)));
    assert_eq!(manifest.format, manifest::FORMAT);
    assert!(manifest.assignment("a00-process").is_some());
    for assignment in &manifest.assignments {
        assert!(assignment.total_points() > 0, "{}", assignment.id);
        assert!(
            !assignment.hints.is_empty(),
            "{} has no hints",
            assignment.id
        );
    }
}

#[test]
fn the_file_on_disk_is_the_embedded_one() {
    assert_eq!(
        read(&workspace_root().join("course.toml")),
        manifest::COURSE_TOML
    );
}

#[test]
fn a_minimal_manifest_parses() {
    let manifest = Manifest::parse_unchecked(&with_check(GOOD_CHECK)).expect("parses");
    let check = &manifest.assignments[0].checks[0];
    assert_eq!(check.repetitions, 1, "repetitions defaults to 1");
    assert_eq!(check.test_name(), "one_report_per_name");
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let text = with_check(&GOOD_CHECK.replace("timeout_secs", "timeout_sec"));
    let error = parse_error(&text);
    assert!(error.contains("timeout_sec"), "{error}");
    assert!(error.contains("line"), "{error}");
}

#[test]
fn an_unknown_assignment_key_is_named() {
    let text = with_check(GOOD_CHECK).replace("summary = \"s\"", "summary = \"s\"\npoints = 3");
    let error = parse_error(&text);
    assert!(error.contains("unknown field `points`"), "{error}");
}

#[test]
fn a_kind_refuses_parameters_it_does_not_take() {
    let text = with_check(&format!("{GOOD_CHECK}\nmax_fraction_of_sequential = 0.5"));
    let error = parse_error(&text);
    assert!(
        error.contains("a `correctness` check does not take `max_fraction_of_sequential`"),
        "{error}"
    );
}

#[test]
fn a_kind_requires_its_parameters() {
    let text = with_check(&GOOD_CHECK.replace("correctness", "concurrency"));
    let error = parse_error(&text);
    assert!(
        error.contains("a `concurrency` check needs `max_fraction_of_sequential`"),
        "{error}"
    );
}

#[test]
fn a_fraction_out_of_range_is_refused() {
    let text = with_check(&format!(
        "{}\nmax_fraction_of_sequential = 1.5",
        GOOD_CHECK.replace("correctness", "concurrency")
    ));
    let error = parse_error(&text);
    assert!(error.contains("max_fraction_of_sequential"), "{error}");
    assert!(error.contains("out of range"), "{error}");
}

#[test]
fn a_busy_wait_check_needs_a_positive_wakeup_limit() {
    let busy = format!(
        "{}\nmax_cpu_fraction = 0.5",
        GOOD_CHECK.replace("correctness", "busy-wait")
    );
    let error = parse_error(&with_check(&busy));
    assert!(
        error.contains("a `busy-wait` check needs `max_wakeups_per_change`"),
        "{error}"
    );
    let error = parse_error(&with_check(&format!(
        "{busy}\nmax_wakeups_per_change = 0.0"
    )));
    assert!(error.contains("max_wakeups_per_change"), "{error}");
    assert!(error.contains("out of range"), "{error}");
}

#[test]
fn an_unknown_kind_is_refused() {
    let error = parse_error(&with_check(&GOOD_CHECK.replace("correctness", "vibes")));
    assert!(error.contains("vibes"), "{error}");
}

#[test]
fn another_format_is_refused_as_such() {
    let text = with_check(GOOD_CHECK).replace("format = 1", "format = 2");
    assert!(matches!(
        Manifest::parse_unchecked(&text),
        Err(ManifestError::Format { found: 2, .. })
    ));
}

#[test]
fn duplicate_check_ids_are_refused() {
    let text = format!(
        "{}\n\n[[assignment.check]]\n{GOOD_CHECK}\n",
        with_check(GOOD_CHECK)
    );
    assert!(matches!(
        Manifest::parse(&text),
        Err(ManifestError::Invalid {
            problem: ManifestProblem::DuplicateId(_),
            ..
        })
    ));
}

#[test]
fn a_check_the_harness_does_not_implement_is_refused() {
    let text = manifest::COURSE_TOML.replace("id = \"many-workers\"", "id = \"telepathy\"");
    match Manifest::parse(&text) {
        Err(ManifestError::Invalid {
            place,
            problem: ManifestProblem::Registry(_),
        }) => assert!(place.contains("telepathy"), "{place}"),
        other => panic!("got {other:?}"),
    }
}

#[test]
fn inputs_are_decoded_by_the_assignment_and_unknown_ones_refused() {
    let text = manifest::COURSE_TOML.replace(
        "inputs = { workers = 12, work_ms = 100, names = \"unusual\" }",
        "inputs = { workers = 12, work_ms = 100, colour = \"red\" }",
    );
    match Manifest::parse(&text) {
        Err(ManifestError::Invalid {
            problem: ManifestProblem::Inputs(why),
            ..
        }) => assert!(why.contains("colour"), "{why}"),
        other => panic!("got {other:?}"),
    }
}

#[test]
fn every_assignment_of_the_registry_is_in_the_manifest() {
    let manifest = manifest::embedded().expect("valid");
    for implemented in registry() {
        assert!(
            manifest.assignment(implemented.assignment).is_some(),
            "the harness implements {} but course.toml does not list it",
            implemented.assignment
        );
    }
}

/// Every `run("<assignment>", "<check>", ...)` call in a visible test file.
fn visible_calls(text: &str) -> Vec<(String, String)> {
    let literal = |s: &str| -> Option<(String, usize)> {
        let start = s.find('"')? + 1;
        let end = start + s[start..].find('"')?;
        Some((s[start..end].to_owned(), end + 1))
    };
    text.match_indices("run(")
        .filter_map(|(at, _)| {
            let rest = &text[at + 4..];
            let (assignment, used) = literal(rest)?;
            let (check, _) = literal(&rest[used..])?;
            Some((assignment, check))
        })
        .collect()
}

#[test]
fn visible_tests_and_visible_checks_match_one_to_one() {
    let manifest = manifest::embedded().expect("valid");
    for assignment in &manifest.assignments {
        let path = workspace_root()
            .join("assignments")
            .join(&assignment.id)
            .join("tests/visible.rs");
        let text = read(&path);
        let calls = visible_calls(&text);
        let mut called = BTreeSet::new();
        for (named, check) in &calls {
            assert_eq!(
                named,
                &assignment.id,
                "{}: a call names {named}",
                path.display()
            );
            let entry = assignment
                .check(check)
                .unwrap_or_else(|| panic!("{} runs {check:?}, not in course.toml", path.display()));
            assert_eq!(
                entry.visibility,
                Visibility::Visible,
                "{} runs the hidden check {check}",
                path.display()
            );
            assert!(called.insert(check.clone()), "{check} is run twice");
        }
        for check in assignment.visible_checks() {
            assert!(
                called.contains(&check.id),
                "{} has no test for the visible check {}",
                path.display(),
                check.id
            );
            assert!(
                text.contains(&format!("fn {}()", check.test_name())),
                "{}: the test of {} must be named {} (the replay command uses it)",
                path.display(),
                check.id,
                check.test_name()
            );
        }
    }
}

/// The fixtures (stub and known-wrong implementations) of one assignment.
fn fixtures_of(assignment: &str) -> Vec<(PathBuf, Expectations)> {
    let dir = workspace_root().join("assignments/harness/fixtures");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        let expected = path.join("expected.toml");
        if !expected.is_file() {
            continue;
        }
        let expectations: Expectations = toml::from_str(&read(&expected))
            .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
        if expectations.assignment == assignment {
            found.push((path, expectations));
        }
    }
    found
}

#[test]
fn every_assignment_has_its_stub_runner_tests_solution_and_fixtures() {
    let root = workspace_root();
    let manifest = manifest::embedded().expect("valid");
    for assignment in &manifest.assignments {
        let id = &assignment.id;
        let stub = root.join("assignments").join(id);
        for file in [
            "Cargo.toml".to_owned(),
            "README.md".to_owned(),
            "src/lib.rs".to_owned(),
            format!("src/bin/{id}-runner.rs"),
            "tests/visible.rs".to_owned(),
        ] {
            assert!(stub.join(&file).is_file(), "{id} lacks {file}");
        }
        let stub_lib = read(&stub.join("src/lib.rs"));
        assert!(stub_lib.contains("// TODO:"), "{id}'s stub has no // TODO:");
        assert!(stub_lib.contains("todo!("), "{id}'s stub has no todo!()");

        let solution = root.join("solutions").join(id);
        let cargo: toml::Table = toml::from_str(&read(&solution.join("Cargo.toml"))).expect("toml");
        assert_eq!(
            cargo["package"]["name"].as_str(),
            Some(assignment.solution_package().as_str())
        );
        let tests = cargo["test"].as_array().expect("[[test]] entries");
        let shares_visible = tests.iter().any(|t| {
            t["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("assignments/{id}/tests/visible.rs")))
        });
        assert!(
            shares_visible,
            "{id}'s solution must run the assignment's tests/visible.rs"
        );
        let runner = format!("src/bin/{}-runner.rs", assignment.solution_package());
        assert!(
            solution.join(&runner).is_file(),
            "{id}'s solution lacks {runner}"
        );
        assert!(solution.join("expected.toml").is_file());

        let fixtures = fixtures_of(id);
        let stub_fixture = fixtures.iter().any(|(path, expectations)| {
            let cargo: toml::Table = toml::from_str(&read(&path.join("Cargo.toml"))).expect("toml");
            let builds_the_stub = cargo
                .get("lib")
                .and_then(|lib| lib["path"].as_str())
                .and_then(|p| path.join(p).canonicalize().ok())
                .is_some_and(|p| Some(p) == stub.join("src/lib.rs").canonicalize().ok());
            builds_the_stub
                && expectations
                    .failures
                    .iter()
                    .any(|e| e.check == "*" && e.verdict == "panicked")
        });
        assert!(
            stub_fixture,
            "{id} needs a fixture that builds its stub and expects every check to panic"
        );
        assert!(
            fixtures.len() >= 3,
            "{id} needs at least two known-wrong fixtures besides its stub"
        );
    }
}
