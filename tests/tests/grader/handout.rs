//! `grader handout --out DIR`: the students' starter repository builds (offline, from the
//! lock it carries), its own grader grades its stubs to 0 on the visible checks only, and it
//! holds no solution: no file of `solutions/`, of the fixtures or of the course's tests, no
//! file that copies most of a solution's lines, no hidden check.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::support::{Scratch, course, grader_binary, target_dir, workspace};

/// Deadline of the handout's build (its debug dependencies may not be built yet).
const BUILD_DEADLINE: Duration = Duration::from_secs(40 * 60);

/// Runs `command` within `deadline`, its output captured in files of `scratch`.
fn run_within(scratch: &Scratch, mut command: Command, deadline: Duration) -> (i32, String) {
    let log = scratch.path().join("command.log");
    let file = std::fs::File::create(&log).expect("a log file");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("a second handle"))
        .stderr(file)
        .spawn()
        .expect("starts");
    let status = match child.wait_timeout(deadline).expect("waits") {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {deadline:?}");
        }
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    (status.code().unwrap_or(-1), output)
}

/// Every regular file under `dir`, relative to it (no `target/`).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(relative) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&relative)) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = relative.join(entry.file_name());
            let kind = entry.file_type().expect("a type");
            if kind.is_dir() && entry.file_name() != "target" {
                stack.push(path);
            } else if kind.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The lines of a solution that its stub does not have: trimmed, code (not comments), long
/// enough to be distinctive.
fn distinctive_lines(solution: &str, stub: &str) -> BTreeSet<String> {
    let stub: BTreeSet<&str> = stub.lines().map(str::trim).collect();
    solution
        .lines()
        .map(str::trim)
        .filter(|l| l.len() >= 20 && !l.starts_with("//") && !stub.contains(l))
        .map(str::to_owned)
        .collect()
}

/// Whether `text` copies most of `lines` (more than half of them appear in it as lines).
fn copies(text: &str, lines: &BTreeSet<String>) -> bool {
    let present: BTreeSet<&str> = text.lines().map(str::trim).collect();
    let shared = lines
        .iter()
        .filter(|l| present.contains(l.as_str()))
        .count();
    shared * 2 > lines.len()
}

fn write_handout(scratch: &Scratch) -> PathBuf {
    let out = scratch.path().join("handout");
    let mut command = Command::new(grader_binary());
    command.arg("handout").arg("--out").arg(&out);
    let (code, output) = run_within(scratch, command, Duration::from_secs(300));
    assert_eq!(code, 0, "{output}");
    out
}

#[test]
fn the_handout_holds_no_solution_fixture_course_test_or_hidden_check() {
    let scratch = Scratch::new();
    let out = write_handout(&scratch);
    for withheld in [
        "solutions",
        "assignments/harness/fixtures",
        "assignments/harness/tests",
        "tests",
    ] {
        assert!(!out.join(withheld).exists(), "{withheld} is in the handout");
    }
    let handout_files = files_under(&out);
    let texts: Vec<(PathBuf, String)> = handout_files
        .iter()
        .map(|p| {
            let bytes = std::fs::read(out.join(p)).expect("reads");
            (p.clone(), String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect();

    // No file of the solutions, fixtures or course tests, byte for byte.
    let root = workspace();
    let secret_dirs = [
        "solutions",
        "assignments/harness/fixtures",
        "tests/submissions",
    ];
    let mut secrets = 0;
    for dir in secret_dirs {
        for relative in files_under(&root.join(dir)) {
            let secret =
                std::fs::read_to_string(root.join(dir).join(&relative)).unwrap_or_default();
            if secret.trim().len() < 200 {
                continue; // a manifest or a one-line file says nothing
            }
            secrets += 1;
            for (path, text) in &texts {
                assert!(
                    text.trim() != secret.trim(),
                    "{} is a copy of {dir}/{}",
                    path.display(),
                    relative.display()
                );
            }
        }
    }
    assert!(secrets > 0, "the secrets were found to compare with");

    // No file that copies most of a solution's own lines.
    for entry in std::fs::read_dir(root.join("solutions")).expect("solutions/") {
        let solution_dir = entry.expect("an entry").path();
        let id = solution_dir.file_name().expect("a name").to_owned();
        let solution = std::fs::read_to_string(solution_dir.join("src/lib.rs")).expect("lib.rs");
        let stub = std::fs::read_to_string(root.join("assignments").join(&id).join("src/lib.rs"))
            .expect("its stub");
        let lines = distinctive_lines(&solution, &stub);
        assert!(lines.len() >= 5, "{id:?}: too few lines to tell a copy");
        assert!(copies(&solution, &lines), "the detector finds the solution");
        for (path, text) in &texts {
            assert!(
                !copies(text, &lines),
                "{} copies most of solutions/{}/src/lib.rs",
                path.display(),
                id.to_string_lossy()
            );
        }
    }

    // The hidden checks are withheld: no entry, no inputs; the handout says what it is.
    let handout_course: toml::Table = std::fs::read_to_string(out.join("course.toml"))
        .expect("course.toml")
        .parse()
        .expect("parses");
    assert_eq!(handout_course["handout"].as_bool(), Some(true));
    let listed = |table: &toml::Table, visibility: &str| -> Vec<String> {
        table["assignment"]
            .as_array()
            .expect("assignments")
            .iter()
            .flat_map(|a| a["check"].as_array().expect("checks").iter())
            .filter(|c| c["visibility"].as_str() == Some(visibility))
            .map(|c| c["id"].as_str().expect("an id").to_owned())
            .collect()
    };
    let course = course();
    let course = course.as_table().expect("a table");
    assert!(
        !listed(course, "hidden").is_empty(),
        "the course has hidden checks"
    );
    assert!(listed(&handout_course, "hidden").is_empty());
    assert_eq!(
        listed(&handout_course, "visible"),
        listed(course, "visible")
    );

    // The workspace lists only what is there; the README is the students'; .github comes along.
    let cargo: toml::Table = std::fs::read_to_string(out.join("Cargo.toml"))
        .expect("Cargo.toml")
        .parse()
        .expect("parses");
    for key in ["members", "default-members"] {
        for member in cargo["workspace"][key].as_array().expect("a list") {
            let member = member.as_str().expect("a path");
            let fixed = member.trim_end_matches("/*");
            assert!(
                out.join(fixed).is_dir(),
                "{key} names {member}, not in the handout"
            );
        }
    }
    let readme = std::fs::read_to_string(out.join("README.md")).expect("README.md");
    assert!(readme.contains("cargo test -p a00-process"), "{readme}");
    for id in crate::support::assignment_ids() {
        assert!(
            readme.contains(&format!("assignments/{id}/README.md")),
            "{id}"
        );
    }
    for relative in files_under(&root.join(".github")) {
        assert_eq!(
            std::fs::read(out.join(".github").join(&relative)).ok(),
            std::fs::read(root.join(".github").join(&relative)).ok(),
            ".github/{} is in the handout as it is",
            relative.display()
        );
    }
}

#[test]
fn the_handout_builds_offline_and_its_own_grader_grades_its_stubs_to_zero() {
    let scratch = Scratch::new();
    let out = write_handout(&scratch);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Debug, in the grader tests' target directory: the release binaries there are the
    // other tests' (see support::target_dir), the debug side is free to share.
    let mut build = Command::new(&cargo);
    build
        .args([
            "build",
            "--offline",
            "--locked",
            "--workspace",
            "--all-targets",
        ])
        .arg("--target-dir")
        .arg(target_dir())
        .current_dir(&out)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS");
    let (code, output) = run_within(&scratch, build, BUILD_DEADLINE);
    assert_eq!(code, 0, "the handout does not build:\n{output}");

    let mut grade = Command::new(target_dir().join("debug/grader"));
    grade
        .args(["--all", "--quiet", "--format", "json", "--out"])
        .arg(scratch.path().join("report.json"))
        .env("GRADER_TARGET_DIR", target_dir())
        .env("TMPDIR", scratch.path().join("tmp"))
        .env_remove("COURSE_SEED")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .current_dir(&out);
    let (code, output) = run_within(&scratch, grade, crate::support::GRADE_DEADLINE);
    assert_eq!(code, 1, "the stubs fail every check:\n{output}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(scratch.path().join("report.json")).expect("the report"),
    )
    .expect("JSON");
    assert_eq!(report["score"]["earned"], 0, "{report:#}");
    let visible: u64 = course()["assignment"]
        .as_array()
        .expect("assignments")
        .iter()
        .flat_map(|a| a["check"].as_array().expect("checks").iter())
        .filter(|c| c["visibility"].as_str() == Some("visible"))
        .map(|c| c["points"].as_integer().expect("points") as u64)
        .sum();
    assert_eq!(report["score"]["possible"], visible, "visible checks only");
    for assignment in report["assignments"].as_array().expect("assignments") {
        assert_eq!(assignment["build"]["status"], "built", "{assignment:#}");
        for check in assignment["checks"].as_array().expect("checks") {
            assert_eq!(check["visibility"], "visible", "{check:#}");
            assert_eq!(check["passed"], false, "{check:#}");
        }
    }

    scratch.assert_nothing_left();
}
