//! Whole runs: the reference solutions get full marks, the untouched stubs get nothing.

use crate::support::{Scratch, assignment_ids, graded, text};

#[test]
fn the_solutions_get_full_marks() {
    let scratch = Scratch::new();
    let (code, report, output) = graded(scratch.grader().args(["--all", "--solutions"]));
    // 4: a speed check this (busy) machine could not measure; nothing failed.
    assert!(matches!(code, 0 | 4), "exit {code}: {}", text(&output));
    let score = |key: &str| report["score"][key].as_u64().expect("a number");
    assert_eq!(
        score("earned") + score("unmeasured"),
        score("possible"),
        "{}",
        text(&output)
    );
    for assignment in report["assignments"].as_array().expect("assignments") {
        for check in assignment["checks"].as_array().expect("checks") {
            assert!(
                matches!(check["verdict"].as_str(), Some("pass" | "not-measurable")),
                "{check}"
            );
        }
    }
    let graded_ids: Vec<&str> = report["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .map(|a| a["id"].as_str().expect("an id"))
        .collect();
    for id in assignment_ids() {
        assert!(graded_ids.contains(&id.as_str()), "{id} was not graded");
    }
    scratch.assert_nothing_left();
}

#[test]
fn the_stubs_get_zero_quickly_and_leave_nothing() {
    let scratch = Scratch::new();
    let (code, report, output) = graded(scratch.grader().arg("--all"));
    assert_eq!(code, 1, "some checks failed: {}", text(&output));
    assert_eq!(report["score"]["earned"], 0);
    assert_eq!(report["checks"]["passed"], 0);
    for assignment in report["assignments"].as_array().expect("assignments") {
        assert_eq!(assignment["build"]["status"], "built", "{assignment}");
        for check in assignment["checks"].as_array().expect("checks") {
            assert_eq!(check["passed"], false, "{check}");
            // On one core a speedup check says so before it runs anything.
            if check["verdict"] == "not-measurable" && check["kind"] == "speedup" {
                continue;
            }
            // Otherwise every stub stops at its first todo!(), whatever the check.
            assert_eq!(check["verdict"], "panicked", "{check}");
            let explanation = check["explanation"].as_str().expect("text");
            assert!(explanation.contains("not yet implemented"), "{explanation}");
        }
    }
    // A todo!() panics at once: grading the stubs is a matter of seconds, not of deadlines.
    let grading = report["timing"]["grading_secs"].as_f64().expect("a number");
    assert!(grading < 60.0, "grading the stubs took {grading} s");
    scratch.assert_nothing_left();
}

#[test]
fn the_table_names_each_check_and_the_total() {
    let scratch = Scratch::new();
    let output = scratch
        .grader()
        .args(["a00-process", "--seed", "7"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("a00-process: "), "{table}");
    assert!(table.contains("many-workers (hidden)"), "{table}");
    assert!(
        table.contains("stopped at a todo!() of the stub"),
        "{table}"
    );
    assert!(
        table.contains("replay:  COURSE_SEED=0x7 cargo test -p a00-process"),
        "{table}"
    );
    assert!(table.contains("Total: 0 / "), "{table}");
}
