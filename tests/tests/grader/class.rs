//! A class graded at once (`--submissions DIR`, `--roster FILE`, `--out-dir DIR`): twelve
//! generated submissions (the reference solutions, known-wrong fixtures, stubs, one that
//! does not compile, one that hangs, one that leaves a daemon, one with an assignment
//! missing) graded two side by side on two cheap assignments; every check gets the verdict
//! its code calls for, the gradebook has the scores `course.toml` makes of them, and a run
//! killed halfway then resumed writes the same gradebook.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use wait_timeout::ChildExt;

use crate::fixtures::workspace_dependencies_of;
use crate::support::{Scratch, course, text, workspace};

/// The assignments the class is graded on: cheap ones, with a speed-measuring check in a00.
const ASSIGNMENTS: [&str; 2] = ["a00-process", "a02-pipe"];

/// What a submission holds for one assignment.
#[derive(Debug, Clone, Copy)]
enum Code {
    /// The reference solution's sources.
    Solution,
    /// The untouched stub.
    Stub,
    /// A known-wrong fixture of `assignments/harness/fixtures/`.
    Fixture(&'static str),
    /// The stub with a type error.
    CompileError,
    /// A correct a00 that sleeps forever first.
    Hangs,
    /// A correct a00 that leaves a `setsid` daemon behind.
    LeavesADaemon,
    /// Nothing.
    Missing,
}

/// The class: (student id, a00-process, a02-pipe).
const CLASS: [(&str, Code, Code); 12] = [
    ("alice", Code::Solution, Code::Solution),
    ("bob", Code::Solution, Code::Solution),
    ("carol", Code::Stub, Code::Stub),
    ("dave", Code::Fixture("a00-no-join"), Code::Solution),
    (
        "erin",
        Code::Fixture("a00-reports-from-parent"),
        Code::Fixture("a02-drops-last"),
    ),
    (
        "frank",
        Code::Fixture("a00-sequential"),
        Code::Fixture("a02-send-all-then-read"),
    ),
    (
        "grace",
        Code::Solution,
        Code::Fixture("a02-child-ignores-sentinel"),
    ),
    ("heidi", Code::CompileError, Code::Solution),
    ("ivan", Code::Hangs, Code::Stub),
    ("judy", Code::Solution, Code::Missing),
    ("mallory", Code::LeavesADaemon, Code::Solution),
    ("niaj", Code::Missing, Code::Missing),
];

/// The files of `code` for `assignment`, as (path in the submission, content).
fn files_of(assignment: &str, code: Code) -> Vec<(String, String)> {
    let lib = format!("assignments/{assignment}/src/lib.rs");
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let stub_path = workspace().join(&lib);
    let stub = || read(stub_path.clone());
    let correct_a00 = |code: &str, extra: &str| {
        assert_eq!(assignment, "a00-process", "only a00 has a hostile variant");
        let source = read(workspace().join("tests/submissions/a00/correct.rs"));
        assert_eq!(source.matches("// HOSTILE").count(), 1);
        format!("{}\n{extra}", source.replace("// HOSTILE", code))
    };
    match code {
        Code::Solution => {
            let src = workspace().join("solutions").join(assignment).join("src");
            let mut files = Vec::new();
            for entry in std::fs::read_dir(&src).expect("the solution's src") {
                let path = entry.expect("an entry").path();
                // Its runner is the solution package's; the course's runner is used.
                if path.is_file() {
                    let name = path.file_name().expect("a name").to_string_lossy();
                    files.push((format!("assignments/{assignment}/src/{name}"), read(path)));
                }
            }
            files.push((
                format!("assignments/{assignment}/Cargo.toml"),
                workspace_dependencies_of(&src.join("../Cargo.toml")),
            ));
            files
        }
        Code::Stub => vec![(lib, stub())],
        Code::Fixture(name) => {
            let fixture = workspace().join("assignments/harness/fixtures").join(name);
            vec![
                (lib, read(fixture.join("src/lib.rs"))),
                (
                    format!("assignments/{assignment}/Cargo.toml"),
                    workspace_dependencies_of(&fixture.join("Cargo.toml")),
                ),
            ]
        }
        Code::CompileError => vec![(
            lib,
            format!("{}\nfn broken() -> u32 {{ \"not a number\" }}\n", stub()),
        )],
        Code::Hangs => vec![(
            lib,
            correct_a00(
                "loop { std::thread::sleep(Duration::from_secs(3600)); }",
                "",
            ),
        )],
        Code::LeavesADaemon => vec![(lib, correct_a00("leave_a_daemon();", DAEMON))],
        Code::Missing => Vec::new(),
    }
}

const DAEMON: &str = r#"
unsafe extern "C" {
    fn fork() -> i32;
    fn setsid() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn _exit(code: i32) -> !;
}

/// A double fork and `setsid`: a daemon in a session of its own that outlives the program.
fn leave_a_daemon() {
    // SAFETY: the children only sleep or exit.
    unsafe {
        let child = fork();
        if child == 0 {
            setsid();
            if fork() == 0 {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            _exit(0);
        }
        let mut status = 0;
        waitpid(child, &mut status, 0);
    }
}
"#;

/// What each check of `assignment` should get with `code`: `Some(label)` for one verdict,
/// `None` for "any failure".
fn expected_verdicts(assignment: &str, code: Code) -> BTreeMap<String, Option<String>> {
    let course = course();
    let entry = course["assignment"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["id"].as_str() == Some(assignment))
        .expect("the assignment is in course.toml");
    let fixture: Option<toml::Table> = match code {
        Code::Fixture(name) => Some(
            std::fs::read_to_string(
                workspace()
                    .join("assignments/harness/fixtures")
                    .join(name)
                    .join("expected.toml"),
            )
            .expect("expected.toml")
            .parse()
            .expect("parses"),
        ),
        _ => None,
    };
    let label = |l: &str| Some(Some(l.to_owned()));
    entry["check"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|check| {
            let id = check["id"].as_str().expect("an id").to_owned();
            let wanted = match code {
                Code::Solution => label("pass"),
                Code::Stub | Code::LeavesADaemon => Some(None),
                Code::CompileError => label("compile-error"),
                Code::Hangs => label("timeout"),
                Code::Missing => label("missing"),
                Code::Fixture(_) => {
                    let table = fixture.as_ref().expect("read above");
                    let expectations = table
                        .get("expect")
                        .and_then(toml::Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let of = |check: &str| {
                        expectations
                            .iter()
                            .find(|e| e["check"].as_str() == Some(check))
                            .map(|e| e["verdict"].as_str().expect("a verdict").to_owned())
                    };
                    Some(Some(
                        of(&id)
                            .or_else(|| of("*"))
                            .unwrap_or_else(|| "pass".to_owned()),
                    ))
                }
            };
            (id, wanted.expect("decided"))
        })
        .collect()
}

/// Points of each check of `assignment`, from `course.toml`.
fn points(assignment: &str) -> BTreeMap<String, u64> {
    course()["assignment"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["id"].as_str() == Some(assignment))
        .expect("the assignment")["check"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("an id").to_owned(),
                c["points"].as_integer().expect("points") as u64,
            )
        })
        .collect()
}

/// The gradebook the class must get, from the expectations and `course.toml`.
fn expected_gradebook() -> String {
    let mut text = format!(
        "student,{},total,max,status,detail\n",
        ASSIGNMENTS.join(",")
    );
    let possible: u64 = ASSIGNMENTS
        .iter()
        .flat_map(|a| points(a).into_values())
        .sum();
    let mut class = CLASS.to_vec();
    class.sort_by_key(|m| m.0);
    for (student, a00, a02) in class {
        let mut cells = vec![student.to_owned()];
        let mut total = 0;
        for (assignment, code) in ASSIGNMENTS.iter().zip([a00, a02]) {
            let points = points(assignment);
            let earned: u64 = expected_verdicts(assignment, code)
                .iter()
                .filter(|(_, v)| v.as_deref() == Some("pass"))
                .map(|(id, _)| points[id])
                .sum();
            total += earned;
            cells.push(earned.to_string());
        }
        cells.extend([total.to_string(), possible.to_string(), "graded".into()]);
        text.push_str(&format!("{},\n", cells.join(",")));
    }
    text
}

/// Writes the class's submissions into `dir`.
fn write_class(dir: &Path) {
    for (student, a00, a02) in CLASS {
        let root = dir.join(student);
        std::fs::create_dir_all(&root).expect("mkdir");
        for (assignment, code) in ASSIGNMENTS.iter().zip([a00, a02]) {
            for (relative, content) in files_of(assignment, code) {
                let path = root.join(relative);
                std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
                std::fs::write(&path, content).expect("writes");
            }
        }
    }
}

/// Mismatches between a student's report and what their code calls for.
fn report_mismatches(out: &Path) -> Vec<String> {
    let mut mismatches = Vec::new();
    for (student, a00, a02) in CLASS {
        let path = out.join(format!("{student}.json"));
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{student}: {e}")),
        )
        .expect("a report is JSON");
        assert!(
            report["source"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(student)),
            "{student}'s report is of their submission: {}",
            report["source"]
        );
        for (assignment, code) in ASSIGNMENTS.iter().zip([a00, a02]) {
            let graded = report["assignments"]
                .as_array()
                .expect("assignments")
                .iter()
                .find(|a| a["id"] == *assignment)
                .unwrap_or_else(|| panic!("{student}: {assignment} not graded"));
            for (check, wanted) in expected_verdicts(assignment, code) {
                let got = graded["checks"]
                    .as_array()
                    .expect("checks")
                    .iter()
                    .find(|c| c["id"] == check.as_str())
                    .map(|c| c["verdict"].as_str().expect("a verdict").to_owned())
                    .unwrap_or_else(|| "absent".to_owned());
                let fine = match &wanted {
                    Some(label) => got == *label,
                    None => got != "pass",
                };
                if !fine {
                    mismatches.push(format!(
                        "{student} / {assignment} / {check}: expected {}, got {got}",
                        wanted.as_deref().unwrap_or("a failure")
                    ));
                }
            }
        }
    }
    mismatches
}

fn class_command(scratch: &Scratch, class: &Path, out: &Path) -> std::process::Command {
    let mut command = scratch.grader_process();
    command
        .args(ASSIGNMENTS)
        .arg("--submissions")
        .arg(class)
        .arg("--out-dir")
        .arg(out)
        .args(["-j", "2", "--seed", "21"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// Deadline of grading a class: twelve times a submission's work, with the hanging one
/// running every check to its deadline (five minutes on a loaded two-core machine).
const CLASS_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// Runs `command` to its end within [`CLASS_DEADLINE`] (killed and failed past it);
/// returns its exit code and output.
fn run_to_end(mut command: std::process::Command) -> (i32, std::process::Output) {
    let mut child = command.spawn().expect("the grader starts");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let Some(status) = child.wait_timeout(CLASS_DEADLINE).expect("waits") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the class was not graded within {CLASS_DEADLINE:?}");
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().expect("read stdout"),
        stderr: stderr.join().expect("read stderr"),
    };
    (status.code().unwrap_or(-1), output)
}

fn reports_in(out: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(out)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .map(|p| {
                    let name = p
                        .file_name()
                        .expect("a name")
                        .to_string_lossy()
                        .into_owned();
                    (name, std::fs::read(&p).expect("reads"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_class_is_graded_side_by_side_and_a_killed_run_resumes_to_the_same_gradebook() {
    let scratch = Scratch::new();
    crate::support::grader_binary();
    let class = scratch.path().join("class");
    write_class(&class);

    // 1. The whole class, uninterrupted.
    let out = scratch.path().join("out");
    let started = Instant::now();
    let (code, output) = run_to_end(class_command(&scratch, &class, &out));
    let whole = started.elapsed();
    assert_eq!(
        code,
        1,
        "some checks failed, none untrusted: {}",
        text(&output)
    );
    let mismatches = report_mismatches(&out);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    let gradebook = std::fs::read_to_string(out.join("gradebook.csv")).expect("the gradebook");
    assert_eq!(gradebook, expected_gradebook());
    eprintln!(
        "a class of {} graded on {} with -j 2 in {:.1} s",
        CLASS.len(),
        ASSIGNMENTS.join(" and "),
        whole.as_secs_f64()
    );

    // 2. The same class into another folder, killed once two students are done.
    let resumed = scratch.path().join("resumed");
    let mut child = class_command(&scratch, &class, &resumed)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the grader starts");
    let deadline = Instant::now() + CLASS_DEADLINE;
    while reports_in(&resumed).len() < 2 {
        assert!(Instant::now() < deadline, "no two reports in time");
        assert!(
            child.try_wait().expect("waits").is_none(),
            "the grader ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kills the grader");
    child.wait().expect("reaps it");
    let before = reports_in(&resumed);
    assert!(
        before.len() < CLASS.len(),
        "killed before the end: {}",
        before.len()
    );
    let partial = std::fs::read_to_string(resumed.join("gradebook.csv")).unwrap_or_default();
    assert!(
        partial.lines().count() <= before.len() + 1,
        "the gradebook holds only students whose report is written:\n{partial}"
    );
    let (code, output) = run_to_end(class_command(&scratch, &class, &resumed));
    assert_eq!(code, 1, "{}", text(&output));
    let after = reports_in(&resumed);
    for (name, content) in &before {
        assert_eq!(
            after.get(name),
            Some(content),
            "{name} was graded again on resuming"
        );
    }
    assert_eq!(
        std::fs::read_to_string(resumed.join("gradebook.csv")).expect("the gradebook"),
        gradebook,
        "the resumed run's gradebook is the uninterrupted run's"
    );

    // 3. Nothing left to grade: nothing is graded again.
    let (code, output) = run_to_end(class_command(&scratch, &class, &resumed));
    assert_eq!(code, 1, "{}", text(&output));
    assert_eq!(
        reports_in(&resumed),
        after,
        "a complete class is not regraded"
    );
    scratch.assert_nothing_left();
}

#[test]
fn a_roster_names_the_class_and_a_student_who_cannot_be_graded_gets_an_error_row() {
    let scratch = Scratch::new();
    let stubs = scratch.submission_of_stubs();
    let roster = scratch.path().join("roster.csv");
    std::fs::write(
        &roster,
        format!(
            "student,path\n# a comment\nghost,nowhere\nstubby,{}\n",
            stubs.display()
        ),
    )
    .expect("writes the roster");
    let out = scratch.path().join("grades");
    let mut command = scratch.grader_process();
    command
        .arg("a00-process")
        .arg("--roster")
        .arg(&roster)
        .arg("--out-dir")
        .arg(&out)
        .args(["-j", "2"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let (code, output) = run_to_end(command);
    assert_eq!(code, 3, "a student could not be graded: {}", text(&output));
    let gradebook = std::fs::read_to_string(out.join("gradebook.csv")).expect("the gradebook");
    let rows: Vec<&str> = gradebook.lines().collect();
    let possible: u64 = points("a00-process").into_values().sum();
    assert_eq!(rows[0], "student,a00-process,total,max,status,detail");
    assert!(
        rows[1].starts_with(&format!(
            "ghost,,,{possible},error,cannot read the submission"
        )),
        "{gradebook}"
    );
    assert_eq!(rows[2], format!("stubby,0,0,{possible},graded,"));
    assert_eq!(rows.len(), 3, "{gradebook}");
    assert!(!out.join("ghost.json").exists());
    assert!(out.join("stubby.json").is_file());
    scratch.assert_nothing_left();
}

#[test]
fn out_dir_without_a_class_and_a_bad_roster_are_usage_errors() {
    let scratch = Scratch::new();
    scratch
        .grader()
        .args(["--all", "--out-dir"])
        .arg(scratch.path().join("out"))
        .assert()
        .code(2);
    let roster = scratch.path().join("roster.csv");
    std::fs::write(&roster, "alice,a\nalice,b\n").expect("writes");
    let output = scratch
        .grader()
        .args(["--all", "--roster"])
        .arg(&roster)
        .arg("--out-dir")
        .arg(scratch.path().join("out"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("roster.csv:2: alice is listed twice"),
        "{}",
        text(&output)
    );
}
