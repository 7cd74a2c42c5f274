//! The command line: `--list`, usage errors and their exit codes, `--check` and `--seed`.

use predicates::prelude::*;

use crate::support::{Scratch, assignment_ids, checks, course, graded};

#[test]
fn list_names_every_assignment_and_check_with_points() {
    let scratch = Scratch::new();
    let output = scratch.grader().arg("--list").output().expect("runs");
    assert!(output.status.success());
    let listed = String::from_utf8_lossy(&output.stdout).into_owned();
    let course = course();
    for assignment in course["assignment"].as_array().expect("assignments") {
        let id = assignment["id"].as_str().expect("an id");
        // Check ids repeat across assignments (`workers-joined` is in a01 and a03, with
        // different points): look for each one in its own assignment's section only.
        let section: Vec<&str> = listed
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{id}: ")))
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .collect();
        assert!(!section.is_empty(), "{id} missing from:\n{listed}");
        for check in assignment["check"].as_array().expect("checks") {
            let check_id = check["id"].as_str().expect("a check id");
            let points = check["points"].as_integer().expect("points");
            let line = section
                .iter()
                .find(|l| l.trim_start().starts_with(&format!("{check_id} ")))
                .unwrap_or_else(|| panic!("{id} / {check_id} missing from:\n{listed}"));
            assert!(line.contains(&format!("{points} pt")), "{line}");
            assert!(
                line.contains(check["kind"].as_str().expect("a kind")),
                "{line}"
            );
            assert!(
                line.contains(check["visibility"].as_str().expect("visibility")),
                "{line}"
            );
        }
    }
}

#[test]
fn list_as_json_has_every_assignment() {
    let scratch = Scratch::new();
    let output = scratch
        .grader()
        .args(["--list", "--format", "json"])
        .output()
        .expect("runs");
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let ids: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["id"].as_str().expect("an id"))
        .collect();
    let mut expected = assignment_ids();
    expected.sort();
    let mut got: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn usage_errors_exit_with_2_and_say_what_is_wrong() {
    let scratch = Scratch::new();
    scratch
        .grader()
        .arg("a99-nothing")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no assignment \"a99-nothing\""));
    scratch
        .grader()
        .args(["--all", "--check", "distinct-pids"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--check needs exactly one ASSIGNMENT",
        ));
    scratch.grader().assert().code(2);
    scratch
        .grader()
        .args(["--all", "--submission"])
        .arg(scratch.path().join("does-not-exist"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read the submission"));
}

#[test]
fn one_check_replays_with_its_seed() {
    let scratch = Scratch::new();
    let (code, report, _) = graded(scratch.grader().args([
        "a00-process",
        "--solutions",
        "--check",
        "many-workers",
        "--seed",
        "0x2a",
    ]));
    assert_eq!(code, 0);
    let checks = checks(&report, "a00-process");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["id"], "many-workers");
    assert_eq!(checks[0]["seed"], "0x2a");
    assert_eq!(report["seed"], "0x2a");
    scratch.assert_nothing_left();
}

#[test]
fn the_report_can_go_to_a_file() {
    let scratch = Scratch::new();
    let out = scratch.path().join("grades.json");
    scratch
        .grader()
        .args([
            "a00-process",
            "--solutions",
            "--check",
            "distinct-pids",
            "--format",
            "json",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("the file")).expect("JSON");
    assert_eq!(report["format"], "course-grade");
    assert_eq!(report["version"], 1);
}
