//! Reading cargo's `--message-format=json` output: the runner's path, or the compiler's
//! first errors, or why cargo failed when the code under test is not to blame.

use std::path::PathBuf;

use cargo_metadata::Message;
use cargo_metadata::diagnostic::DiagnosticLevel;

use crate::build::BuildTarget;
use crate::verdict::{BuildFailure, SHOWN_ERRORS};

/// Lines of cargo's stderr quoted when cargo fails on its own.
const STDERR_LINES: usize = 12;

/// What a finished cargo build produced: the runner binary, or why there is none.
///
/// `stdout` is cargo's JSON messages, `success` its exit status, `stderr` its own messages
/// (not the compiler's, which are in the JSON), `notes` remarks from taking the files.
pub fn interpret(
    target: &BuildTarget,
    stdout: &[u8],
    success: bool,
    stderr: &str,
    notes: Vec<String>,
) -> Result<PathBuf, BuildFailure> {
    let mut runner = None;
    let mut own_errors = Vec::new();
    let mut foreign_errors = Vec::new();
    for message in Message::parse_stream(stdout).flatten() {
        match message {
            Message::CompilerArtifact(artifact) => {
                if artifact.target.name == target.runner_bin
                    && let Some(executable) = artifact.executable
                {
                    runner = Some(PathBuf::from(executable));
                }
            }
            Message::CompilerMessage(compiler) => {
                let diagnostic = &compiler.message;
                let is_error = matches!(
                    diagnostic.level,
                    DiagnosticLevel::Error | DiagnosticLevel::Ice
                );
                if !is_error || diagnostic.message.starts_with("aborting due to") {
                    continue;
                }
                let text = diagnostic
                    .rendered
                    .clone()
                    .unwrap_or_else(|| diagnostic.message.clone());
                if compiler.target.src_path.starts_with(&target.package_dir) {
                    own_errors.push(text);
                } else {
                    foreign_errors.push(format!("{}: {text}", compiler.target.name));
                }
            }
            _ => {}
        }
    }
    match runner {
        Some(runner) if success => Ok(runner),
        _ if !own_errors.is_empty() => Err(BuildFailure::CompileError {
            total: own_errors.len(),
            errors: own_errors.into_iter().take(SHOWN_ERRORS).collect(),
            notes,
        }),
        _ if !foreign_errors.is_empty() => Err(BuildFailure::Cargo {
            why: format!(
                "a crate the course provides does not compile: {}",
                foreign_errors.swap_remove(0)
            ),
        }),
        Some(_) | None => {
            let quoted: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.trim_start().starts_with("Compiling"))
                .collect();
            let tail = &quoted[quoted.len().saturating_sub(STDERR_LINES)..];
            Err(BuildFailure::Cargo {
                why: if success {
                    format!(
                        "cargo reported no executable for {} (is it a [[bin]] of {}?)",
                        target.runner_bin, target.package
                    )
                } else {
                    format!("cargo failed:\n{}", tail.join("\n"))
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> BuildTarget {
        BuildTarget {
            package: "a00-process".into(),
            runner_bin: "a00-process-runner".into(),
            workspace: "/tmp/exp/ws/Cargo.toml".into(),
            package_dir: "/tmp/exp/ws/assignments/a00-process".into(),
        }
    }

    const BUILT: &str = include_str!("testdata/built.jsonl");
    const COMPILE_ERROR: &str = include_str!("testdata/compile-error.jsonl");

    #[test]
    fn a_successful_build_gives_the_runner_executable() {
        let runner = interpret(&target(), BUILT.as_bytes(), true, "", Vec::new());
        assert_eq!(
            runner.expect("built"),
            PathBuf::from("/work/wt/grader/target/grader/release/a00-process-runner")
        );
    }

    #[test]
    fn a_compile_error_keeps_the_compilers_rendered_errors_and_no_warnings() {
        let failure = interpret(
            &target(),
            COMPILE_ERROR.as_bytes(),
            false,
            "error: could not compile `a00-process`",
            vec!["a note".into()],
        )
        .expect_err("does not build");
        let BuildFailure::CompileError {
            errors,
            total,
            notes,
        } = &failure
        else {
            panic!("expected a compile error, got {failure:?}");
        };
        assert_eq!(*total, 2);
        assert!(errors[0].contains("cannot find value `undefined_name`"));
        assert!(errors[0].contains("src/lib.rs"), "rendered with its place");
        assert!(errors[1].contains("mismatched types"));
        assert!(
            !errors.iter().any(|e| e.contains("never used")),
            "warnings are left out"
        );
        assert_eq!(notes, &["a note"]);
        assert!(!failure.is_grader_fault());
    }

    #[test]
    fn an_error_outside_the_package_is_the_courses_problem() {
        let mut elsewhere = target();
        elsewhere.package_dir = "/somewhere/else".into();
        let failure = interpret(&elsewhere, COMPILE_ERROR.as_bytes(), false, "", Vec::new())
            .expect_err("does not build");
        assert!(matches!(failure, BuildFailure::Cargo { .. }), "{failure:?}");
        assert!(failure.is_grader_fault());
    }

    #[test]
    fn cargo_failing_without_compiler_errors_quotes_its_stderr() {
        let stderr = "   Compiling x\nerror: package ID specification `a00-process` did not match any packages";
        let failure = interpret(&target(), b"", false, stderr, Vec::new()).expect_err("failed");
        let BuildFailure::Cargo { why } = &failure else {
            panic!("expected a cargo failure, got {failure:?}");
        };
        assert!(why.contains("did not match any packages"));
        assert!(!why.contains("Compiling"));
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let mut stdout = b"not json\n{\"reason\":\"unknown-thing\"}\n".to_vec();
        stdout.extend_from_slice(BUILT.as_bytes());
        assert!(interpret(&target(), &stdout, true, "", Vec::new()).is_ok());
    }
}
