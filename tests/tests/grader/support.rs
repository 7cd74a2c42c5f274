//! What every grader test needs: the grader binary (built once, into its own target
//! directory), scratch directories, submissions, the JSON report, and a scan for processes
//! a test left behind.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// Deadline of the one-time builds (a cold target directory builds every dependency).
const BUILD_DEADLINE: Duration = Duration::from_secs(40 * 60);

/// Deadline of one grading command once everything is built. Generous: a grading command
/// still builds the submission's packages (seconds each, one at a time across the tests).
pub const GRADE_DEADLINE: Duration = Duration::from_secs(600);

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// Where these tests build: apart from `target/`, so no lock of the `cargo test` that runs
/// them can block the builds.
pub fn target_dir() -> PathBuf {
    workspace().join("target").join("grader-tests")
}

/// The grader binary, built (release, into [`target_dir`]) once per test binary, with every
/// assignment's solution, stub and a submission's scratch layout built too, so the tests
/// themselves grade within [`GRADE_DEADLINE`].
pub fn grader_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "--release", "-p", "grader", "--target-dir"])
            .arg(target_dir())
            .current_dir(workspace())
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_MAKEFLAGS")
            .env_remove("MAKEFLAGS")
            .timeout(BUILD_DEADLINE)
            .output()
            .expect("cargo runs");
        assert!(
            built.status.success(),
            "building the grader failed:\n{}",
            text(&built)
        );
        let binary = target_dir().join("release").join("grader");
        let scratch = Scratch::new();
        for args in [&["--all", "--solutions"][..], &["--all"][..]] {
            let warmed = scratch
                .grader_with(&binary)
                .args(args)
                .timeout(BUILD_DEADLINE)
                .output()
                .expect("the grader runs");
            assert!(
                matches!(warmed.status.code(), Some(0 | 1 | 4)),
                "warming up with {args:?} failed:\n{}",
                text(&warmed)
            );
        }
        let stubs = scratch.submission_of_stubs();
        let warmed = scratch
            .grader_with(&binary)
            .args(["--all", "--submission"])
            .arg(&stubs)
            .timeout(BUILD_DEADLINE)
            .output()
            .expect("the grader runs");
        assert_eq!(warmed.status.code(), Some(1), "{}", text(&warmed));
        binary
    })
}

/// A test's scratch directory: submissions go in it, and the grader's `TMPDIR` (so every
/// check's working directory) is inside it, which is how leftovers are recognised.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A fresh scratch directory.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("grader-test-")
            .tempdir()
            .expect("a scratch directory");
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp in scratch");
        Self { dir }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The grader, quiet, building into [`target_dir`], with this scratch's `TMPDIR`.
    pub fn grader(&self) -> Command {
        self.grader_with(grader_binary())
    }

    fn grader_with(&self, binary: &Path) -> Command {
        let mut command = Command::new(binary);
        command
            .arg("--quiet")
            .env("GRADER_TARGET_DIR", target_dir())
            .env("TMPDIR", self.path().join("tmp"))
            .env_remove("COURSE_SEED")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_MAKEFLAGS")
            .env_remove("MAKEFLAGS")
            .timeout(GRADE_DEADLINE);
        command
    }

    /// The grader as [`Self::grader`] sets it up, as a plain command to spawn (and kill).
    pub fn grader_process(&self) -> std::process::Command {
        let mut command = std::process::Command::new(grader_binary());
        command
            .arg("--quiet")
            .env("GRADER_TARGET_DIR", target_dir())
            .env("TMPDIR", self.path().join("tmp"))
            .env_remove("COURSE_SEED")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_MAKEFLAGS")
            .env_remove("MAKEFLAGS");
        command
    }

    /// A submission (a copy of the repository's layout) holding `files`, as
    /// (path under the submission, content).
    pub fn submission(&self, name: &str, files: &[(String, String)]) -> PathBuf {
        let root = self.path().join(name);
        for (relative, content) in files {
            let path = root.join(relative);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, content).expect("writes a submission file");
        }
        root
    }

    /// A submission whose every assignment is the untouched stub.
    pub fn submission_of_stubs(&self) -> PathBuf {
        let files: Vec<(String, String)> = assignment_ids()
            .into_iter()
            .map(|id| stub_file(&id))
            .collect();
        self.submission("stubs", &files)
    }

    /// Processes still alive that belong to this test (see [`leftovers_under`]).
    pub fn leftovers(&self) -> Vec<String> {
        leftovers_under(self.path())
    }

    /// Kills (SIGKILL) every process [`Self::leftovers`] would list.
    pub fn kill_leftovers(&self) {
        for (pid, _) in leftover_processes(self.path())
            .into_iter()
            .filter(|(pid, _)| *pid > 1)
        {
            // SAFETY: kill with integers, on a process of this test.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }

    /// Fails the test if a process of this test is still alive (after a short grace for
    /// processes being killed right now).
    pub fn assert_nothing_left(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = self.leftovers();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "processes left behind:\n{}",
                left.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `assignments/<id>/src/lib.rs` of a submission, with the repository's stub in it.
pub fn stub_file(id: &str) -> (String, String) {
    let stub = workspace().join("assignments").join(id).join("src/lib.rs");
    (
        format!("assignments/{id}/src/lib.rs"),
        std::fs::read_to_string(stub).expect("the stub exists"),
    )
}

/// Every assignment id of the course's manifest, in file order.
pub fn assignment_ids() -> Vec<String> {
    course()["assignment"]
        .as_array()
        .expect("assignments")
        .iter()
        .map(|a| a["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// `course.toml`, parsed.
pub fn course() -> toml::Value {
    let text = std::fs::read_to_string(workspace().join("course.toml")).expect("course.toml");
    text.parse::<toml::Table>()
        .map(toml::Value::Table)
        .expect("course.toml parses")
}

/// Every process (but this one) whose working directory, command line or environment
/// names `dir`: the checks' scratch directories are under it, and children inherit them.
pub fn leftovers_under(dir: &Path) -> Vec<String> {
    leftover_processes(dir)
        .into_iter()
        .map(|(_, description)| description)
        .collect()
}

/// [`leftovers_under`], with each process's pid.
fn leftover_processes(dir: &Path) -> Vec<(i32, String)> {
    let needle = dir.to_string_lossy().into_owned();
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|pid| pid.chars().all(|c| c.is_ascii_digit()) && *pid != me)
        .filter_map(|pid| {
            let proc = Path::new("/proc").join(&pid);
            let stat = std::fs::read_to_string(proc.join("stat")).ok()?;
            if stat.split(") ").nth(1)?.starts_with('Z') {
                return None;
            }
            let cwd = std::fs::read_link(proc.join("cwd")).unwrap_or_default();
            let cmdline = std::fs::read(proc.join("cmdline")).unwrap_or_default();
            let environ = std::fs::read(proc.join("environ")).unwrap_or_default();
            let names_dir = cwd.to_string_lossy().contains(&needle)
                || String::from_utf8_lossy(&cmdline).contains(&needle)
                || String::from_utf8_lossy(&environ).contains(&needle);
            let description = format!("pid {pid}: {}", stat.trim());
            names_dir.then(|| (pid.parse().unwrap_or(0), description))
        })
        .collect()
}

/// Runs a grading command with `--format json` and returns its exit code and report.
pub fn graded(command: &mut Command) -> (i32, Value, Output) {
    let output = command
        .args(["--format", "json"])
        .output()
        .expect("the grader runs");
    let code = output.status.code().unwrap_or(-1);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the report is not JSON ({e}); exit {code}\n{}",
            text(&output)
        )
    });
    (code, report, output)
}

/// The checks of `assignment` in a JSON report.
pub fn checks<'a>(report: &'a Value, assignment: &str) -> &'a Vec<Value> {
    report["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["id"] == assignment)
        .unwrap_or_else(|| panic!("{assignment} is not in the report"))["checks"]
        .as_array()
        .expect("checks")
}

/// The verdict label of one check.
pub fn verdict<'a>(report: &'a Value, assignment: &str, check: &str) -> &'a str {
    checks(report, assignment)
        .iter()
        .find(|c| c["id"] == check)
        .unwrap_or_else(|| panic!("{assignment} / {check} is not in the report"))["verdict"]
        .as_str()
        .expect("a verdict")
}

/// A command's stdout and stderr, for failure messages.
pub fn text(output: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
