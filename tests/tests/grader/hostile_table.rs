//! Hostile submissions as a table, each with the verdict it must get, like nextest's fixture
//! tests. One a00-process submission (`submissions/a00/correct.rs` with
//! `submissions/a00/hostile.rs` spliced in) holds every behaviour and is built once; before
//! each grading the test writes which one runs into a file the submission reads.
//!
//! Each case is graded on one check, in a PID namespace (`--isolation pid-namespace`: the
//! isolation meant for untrusted code; `kill(-1)` or a fork bomb must never run without it).
//! After each: the grader exited 0 or 1 with its JSON report, the verdict is the expected
//! one and says what it must, no process of the test is left, no `/dev/shm` or System V
//! segment of the submission's is left on the machine. After all: the course's files and the
//! directory outside the submission's home are untouched.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Scratch, checks, graded, text, workspace};

/// One hostile behaviour and what the grader must conclude.
struct Case {
    /// The behaviour, as `hostile.rs` names it.
    name: &'static str,
    /// The verdict of `one-report-per-name`.
    verdict: &'static str,
    /// Phrases its explanation must contain.
    mentions: &'static [&'static str],
}

/// The check every case is graded on (5 s deadline).
const CHECK: &str = "one-report-per-name";

/// The System V key of the `sysv-leak` case.
const SYSV_KEY: i32 = 0x6a0b_7e57;

const CASES: &[Case] = &[
    Case {
        name: "none",
        verdict: "pass",
        mentions: &[],
    },
    Case {
        name: "busy-loop",
        verdict: "timeout",
        mentions: &["busy"],
    },
    Case {
        name: "sigstop-self",
        verdict: "timeout",
        mentions: &["stopped"],
    },
    Case {
        name: "ignore-signals",
        verdict: "timeout",
        mentions: &["busy"],
    },
    Case {
        name: "fork-bomb",
        verdict: "timeout",
        mentions: &[],
    },
    Case {
        name: "daemon-holding-stdout",
        verdict: "leaked",
        mentions: &["still running after the check ended"],
    },
    Case {
        name: "daemon-stdio-closed",
        verdict: "leaked",
        mentions: &["still running after the check ended"],
    },
    Case {
        name: "endless-stderr",
        verdict: "output-limit",
        mentions: &["on stderr"],
    },
    Case {
        name: "sparse-2gib",
        verdict: "crashed",
        mentions: &["SIGXFSZ"],
    },
    Case {
        name: "million-files",
        verdict: "panicked",
        mentions: &["No space left on device"],
    },
    Case {
        name: "kill-parent",
        verdict: "crashed",
        mentions: &["SIGKILL"],
    },
    Case {
        name: "kill-everything",
        verdict: "pass",
        mentions: &[],
    },
    Case {
        name: "kill-group",
        verdict: "crashed",
        mentions: &["SIGKILL"],
    },
    Case {
        name: "read-the-course",
        verdict: "pass",
        mentions: &[],
    },
    Case {
        name: "overwrite",
        verdict: "pass",
        mentions: &[],
    },
    Case {
        name: "garbage-on-fd3",
        verdict: "malformed-report",
        mentions: &["fd 3"],
    },
    Case {
        name: "close-fd3",
        verdict: "exited",
        mentions: &["code 70"],
    },
    Case {
        name: "stdout-into-fd3",
        verdict: "malformed-report",
        mentions: &["fd 3"],
    },
    Case {
        name: "fd3-into-stdout",
        verdict: "exited",
        mentions: &["code 0"],
    },
    Case {
        name: "close-stdio",
        verdict: "pass",
        mentions: &[],
    },
    Case {
        name: "segfault",
        verdict: "crashed",
        mentions: &["SIGSEGV"],
    },
    Case {
        name: "abort",
        verdict: "crashed",
        mentions: &["SIGABRT"],
    },
    Case {
        name: "exit-3",
        verdict: "exited",
        mentions: &["code 3"],
    },
    Case {
        name: "shm-leak",
        verdict: "leaked",
        mentions: &["grader-hostile-segment"],
    },
    Case {
        name: "sysv-leak",
        verdict: "leaked",
        mentions: &["System V segment"],
    },
];

/// Longest a grading of one case may take, build included (a timeout case takes its 5 s
/// deadline, triage and the kill).
const CASE_DEADLINE: Duration = Duration::from_secs(120);

/// The submission: the correct a00 with `hostile::act()` first in `start_workers`.
fn hostile_submission(scratch: &Scratch) -> std::path::PathBuf {
    let dir = workspace().join("tests/submissions/a00");
    let correct = std::fs::read_to_string(dir.join("correct.rs")).expect("correct.rs");
    assert_eq!(correct.matches("// HOSTILE").count(), 1, "one marker");
    let lib = format!(
        "{}\nmod hostile;\n",
        correct.replace("// HOSTILE", "hostile::act();")
    );
    let constants = format!(
        "const CASE_FILE: &str = {:?};\nconst COURSE_ROOT: &str = {:?};\n\
         const TARGET_DIR: &str = {:?};\nconst OUTSIDE_DIR: &str = {:?};\n\
         const SYSV_KEY: i32 = {SYSV_KEY};\n",
        scratch.path().join("case"),
        workspace(),
        crate::support::target_dir(),
        scratch.path().join("outside"),
    );
    let hostile = std::fs::read_to_string(dir.join("hostile.rs"))
        .expect("hostile.rs")
        .replace("// CONSTANTS", &constants);
    std::fs::create_dir_all(scratch.path().join("outside")).expect("mkdir");
    scratch.submission(
        "hostile",
        &[
            ("assignments/a00-process/src/lib.rs".to_owned(), lib),
            ("assignments/a00-process/src/hostile.rs".to_owned(), hostile),
            (
                "assignments/a00-process/Cargo.toml".to_owned(),
                "[dependencies]\nlibc.workspace = true\n".to_owned(),
            ),
        ],
    )
}

#[test]
fn hostile_submissions_get_their_verdicts_and_leave_nothing_behind() {
    let scratch = Scratch::new();
    let submission = hostile_submission(&scratch);
    let course_toml = std::fs::read(workspace().join("course.toml")).expect("course.toml");
    let mut failures = Vec::new();
    let mut pids_capped = false;
    for case in CASES {
        if case.name == "fork-bomb" && !pids_capped {
            failures.push(
                "fork-bomb: not run, the sandbox reported no per-check process cap".to_owned(),
            );
            continue;
        }
        std::fs::write(scratch.path().join("case"), case.name).expect("writes the case");
        let started = Instant::now();
        let (code, report, output) = graded(
            scratch
                .grader()
                .args(["a00-process", "--isolation", "pid-namespace", "--seed", "5"])
                .args(["--check", CHECK])
                .arg("--submission")
                .arg(&submission)
                .timeout(CASE_DEADLINE),
        );
        let took = started.elapsed();
        eprintln!("{}: exit {code} in {:.1} s", case.name, took.as_secs_f64());
        pids_capped |= report["sandbox"]["limits"]
            .as_str()
            .is_some_and(|l| l.contains("the namespace's pid_max"));
        let mut wrong = Vec::new();
        let expected_code = if case.verdict == "pass" { 0 } else { 1 };
        if code != expected_code {
            wrong.push(format!("grader exit {code}, expected {expected_code}"));
        }
        let check = &checks(&report, "a00-process")[0];
        let verdict = check["verdict"].as_str().unwrap_or("?");
        let explanation = check["explanation"].as_str().unwrap_or("");
        if verdict != case.verdict {
            wrong.push(format!("verdict {verdict}, expected {}", case.verdict));
        }
        for phrase in case.mentions {
            if !explanation.contains(phrase) {
                wrong.push(format!("does not mention {phrase:?}"));
            }
        }
        wrong.extend(case_specific(case.name, check));
        wrong.extend(left_on_the_machine(&scratch));
        if !wrong.is_empty() {
            failures.push(format!(
                "{} ({:.1} s): {}\n  explanation: {explanation}\n{}",
                case.name,
                took.as_secs_f64(),
                wrong.join("; "),
                if code == expected_code {
                    String::new()
                } else {
                    text(&output)
                }
            ));
        }
    }
    if std::fs::read(workspace().join("course.toml")).expect("course.toml") != course_toml {
        failures.push("course.toml changed".to_owned());
    }
    let outside: Vec<_> = std::fs::read_dir(scratch.path().join("outside"))
        .expect("outside")
        .collect();
    if !outside.is_empty() || workspace().join("hostile-was-here").exists() {
        failures.push(format!(
            "files written outside the home: {outside:?}, course: {}",
            workspace().join("hostile-was-here").exists()
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What only some cases must show beyond their verdict.
fn case_specific(name: &str, check: &serde_json::Value) -> Vec<String> {
    let mut wrong = Vec::new();
    let figure = |wanted: &str| {
        check["figures"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["name"] == wanted)
            .and_then(|f| f["value"].as_f64())
    };
    match name {
        "fork-bomb" => {
            // The namespace's pid_max: the keeper is one of its tasks.
            let cap = 1024.0;
            if let Some(peak) = figure("peak processes")
                && peak > cap
            {
                wrong.push(format!("{peak} processes at once, above the cap of {cap}"));
            }
        }
        "million-files" => {
            let explanation = check["explanation"].as_str().unwrap_or("");
            let made: Option<u64> = explanation
                .split("made ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok());
            match made {
                Some(made) if made <= 16_384 => {}
                other => wrong.push(format!(
                    "made {other:?} files: the home's inode limit did not stop it"
                )),
            }
        }
        "daemon-holding-stdout" | "daemon-stdio-closed" => {
            let processes = check["leaks"]["processes"].as_array().map_or(0, Vec::len);
            if processes == 0 {
                wrong.push("no leaked process listed".to_owned());
            }
        }
        "sysv-leak" => {
            let segments = check["leaks"]["sysv_segments"]
                .as_array()
                .map_or(0, Vec::len);
            if segments != 1 {
                wrong.push(format!("{segments} System V segments listed, expected 1"));
            }
        }
        _ => {}
    }
    wrong
}

/// Processes of the test still alive (after a grace for ones being killed; they are killed
/// then, so the next case starts clean), and segments of the submission's on the machine.
fn left_on_the_machine(scratch: &Scratch) -> Vec<String> {
    let mut wrong = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = scratch.leftovers();
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        left = scratch.leftovers();
    }
    if !left.is_empty() {
        scratch.kill_leftovers();
        wrong.push(format!("processes left behind: {left:?}"));
    }
    let key = format!(" {SYSV_KEY} ");
    let sysv = std::fs::read_to_string("/proc/sysvipc/shm").unwrap_or_default();
    if sysv.lines().any(|l| format!(" {l} ").contains(&key)) {
        wrong.push("its System V segment is in the machine's IPC namespace".to_owned());
    }
    if Path::new("/dev/shm").read_dir().is_ok_and(|mut entries| {
        entries.any(|e| {
            e.is_ok_and(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("grader-hostile")
            })
        })
    }) {
        wrong.push("a segment of it is in the machine's /dev/shm".to_owned());
    }
    wrong
}
