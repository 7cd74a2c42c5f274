//! The report formats end to end (one grading written as Gradescope, JUnit, Markdown and
//! JSON at once) and the Gradescope autograder script (`grader/gradescope/run_autograder`)
//! against a fake `/autograder` root.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

use crate::support::{
    GRADE_DEADLINE, Scratch, course, grader_binary, stub_file, target_dir, text, workspace,
};

/// (check id, points, hidden) of every check of `assignment` in `course.toml`.
fn manifest_checks(assignment: &str) -> Vec<(String, u64, bool)> {
    let course = course();
    let entry = course["assignment"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["id"].as_str() == Some(assignment))
        .expect("the assignment is in course.toml");
    entry["check"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("an id").to_owned(),
                u64::try_from(c["points"].as_integer().expect("points")).expect("positive"),
                c["visibility"].as_str() == Some("hidden"),
            )
        })
        .collect()
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Holds a Gradescope `results.json` to the spec's fields and types, and to the course's
/// checks of `assignment` (names, points, visibility); returns each test's status.
fn assert_gradescope(results: &Value, assignment: &str) -> Vec<String> {
    assert_eq!(
        keys(results),
        ["execution_time", "output", "score", "tests"]
    );
    assert!(results["score"].is_f64() && results["execution_time"].is_u64());
    assert!(results["output"].is_string());
    let tests = results["tests"].as_array().expect("tests");
    let expected = manifest_checks(assignment);
    assert_eq!(tests.len(), expected.len());
    let mut sum = 0.0;
    for (test, (id, points, hidden)) in tests.iter().zip(&expected) {
        assert_eq!(
            keys(test),
            [
                "max_score",
                "name",
                "output",
                "score",
                "status",
                "visibility"
            ]
        );
        let name = test["name"].as_str().expect("a name");
        assert!(
            name.starts_with(&format!("{assignment} / {id}: ")),
            "{name}"
        );
        assert_eq!(test["max_score"].as_f64(), Some(*points as f64), "{test}");
        let score = test["score"].as_f64().expect("a score");
        assert!(score == 0.0 || score == *points as f64, "{test}");
        sum += score;
        let visibility = if *hidden {
            "after_published"
        } else {
            "visible"
        };
        assert_eq!(test["visibility"], visibility, "{test}");
        assert!(test["output"].is_string());
    }
    assert_eq!(results["score"].as_f64(), Some(sum));
    tests
        .iter()
        .map(|t| t["status"].as_str().expect("a status").to_owned())
        .collect()
}

#[test]
fn one_grading_writes_gradescope_junit_markdown_and_json_at_once() {
    let scratch = Scratch::new();
    let stubs = scratch.submission_of_stubs();
    let out = |name: &str| scratch.path().join(name);
    let output = scratch
        .grader()
        .arg("a00-process")
        .arg("--submission")
        .arg(&stubs)
        .args(["--seed", "0x2a", "--format", "gradescope", "--out"])
        .arg(out("results.json"))
        .args(["--format", "junit", "--out"])
        .arg(out("junit.xml"))
        .args(["--format", "markdown", "--out"])
        .arg(out("summary.md"))
        .args(["--format", "json"])
        .output()
        .expect("the grader runs");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let checks = manifest_checks("a00-process");
    let possible: u64 = checks.iter().map(|c| c.1).sum();

    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(json["score"]["earned"], 0);
    assert_eq!(json["score"]["possible"], possible);

    let read = |name: &str| std::fs::read_to_string(out(name)).expect("the report was written");
    let gradescope: Value = serde_json::from_str(&read("results.json")).expect("JSON");
    let statuses = assert_gradescope(&gradescope, "a00-process");
    assert!(statuses.iter().all(|s| s == "failed"), "{statuses:?}");
    assert_eq!(gradescope["score"].as_f64(), Some(0.0));

    let xml = read("junit.xml");
    let junit = roxmltree::Document::parse(&xml).expect("the JUnit report parses");
    let suite = junit
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    assert_eq!(suite.attribute("name"), Some("a00-process"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let ids: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    let expected_ids: Vec<&str> = checks.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(ids, expected_ids);
    assert!(
        cases
            .iter()
            .all(|c| c.children().any(|f| f.has_tag_name("failure"))),
        "every stub check fails:\n{xml}"
    );
    assert_eq!(
        suite.attribute("failures"),
        Some(checks.len().to_string().as_str())
    );

    let markdown = read("summary.md");
    assert!(
        markdown.starts_with(&format!("## Grade: 0 / {possible} points\n")),
        "{markdown}"
    );
    assert!(markdown.contains("| assignment | points | checks passed | build |\n| :--- |"));
    assert!(
        markdown.contains("stopped at a `todo!()` of the stub"),
        "{markdown}"
    );
    scratch.assert_nothing_left();
}

/// `run_autograder` with a fake Gradescope root (`AUTOGRADER_ROOT`, holding `submission/`
/// and perhaps `source/assignments`), the grader under test, and `GRADER_ASSIGNMENTS` when
/// `assignments` is given.
fn run_autograder(
    scratch: &Scratch,
    root: &Path,
    assignments: Option<&str>,
) -> std::process::Output {
    let mut command = Command::new("bash");
    command
        .arg(workspace().join("grader/gradescope/run_autograder"))
        .env("AUTOGRADER_ROOT", root)
        .env("GRADER_BIN", grader_binary())
        .env("GRADER_TARGET_DIR", target_dir())
        .env("TMPDIR", scratch.path().join("tmp"))
        .env("COURSE_SEED", "7")
        .env_remove("GRADER_ASSIGNMENTS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .timeout(GRADE_DEADLINE);
    if let Some(assignments) = assignments {
        command.env("GRADER_ASSIGNMENTS", assignments);
    }
    command.output().expect("bash runs")
}

fn results_of(root: &Path, output: &std::process::Output) -> Value {
    let file = root.join("results/results.json");
    let text_of = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("no {} ({e})\n{}", file.display(), text(output)));
    serde_json::from_str(&text_of).expect("results.json is JSON")
}

#[test]
fn run_autograder_grades_uploaded_files_and_a_zipped_repository() {
    let scratch = Scratch::new();

    // Files uploaded on their own: the correct a00 lib.rs, graded as a00-process.
    let files = scratch.path().join("files");
    let correct = std::fs::read_to_string(workspace().join("tests/submissions/a00/correct.rs"))
        .expect("the correct submission")
        .replace("// HOSTILE", "");
    std::fs::create_dir_all(files.join("submission")).expect("mkdir");
    std::fs::write(files.join("submission/lib.rs"), correct).expect("writes lib.rs");
    let output = run_autograder(&scratch, &files, Some("a00-process"));
    assert!(output.status.success(), "{}", text(&output));
    let results = results_of(&files, &output);
    let statuses = assert_gradescope(&results, "a00-process");
    assert_eq!(statuses[0], "passed", "one-report-per-name: {results}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("a00-process: Start worker"),
        "the table goes to stdout, for instructors:\n{}",
        text(&output)
    );

    // A zip of the repository's folder (one directory at the top), what to grade read from
    // source/assignments as make-zip.sh writes it.
    let zipped = scratch.path().join("zipped");
    let (path, stub) = stub_file("a00-process");
    let file = zipped.join("submission/course-main").join(path);
    std::fs::create_dir_all(file.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&file, stub).expect("writes the stub");
    std::fs::create_dir_all(zipped.join("source")).expect("mkdir");
    std::fs::write(zipped.join("source/assignments"), "a00-process\n").expect("writes");
    let output = run_autograder(&scratch, &zipped, None);
    assert!(output.status.success(), "{}", text(&output));
    let results = results_of(&zipped, &output);
    let statuses = assert_gradescope(&results, "a00-process");
    assert!(
        statuses.iter().all(|s| s == "failed"),
        "the stub: {results}"
    );
    scratch.assert_nothing_left();
}

#[test]
fn run_autograder_records_no_grade_when_grading_itself_breaks() {
    let scratch = Scratch::new();
    let root = scratch.path().join("broken");
    std::fs::create_dir_all(root.join("submission")).expect("mkdir");
    std::fs::create_dir_all(root.join("results")).expect("mkdir");
    std::fs::write(root.join("results/results.json"), "{}").expect("a stale file");
    let output = run_autograder(&scratch, &root, Some("a99-nothing"));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        !root.join("results/results.json").exists(),
        "no results.json, so Gradescope records no grade"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("no grade is recorded"));
}
