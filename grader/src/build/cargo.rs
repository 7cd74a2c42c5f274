//! Running `cargo build` for one package: its own process group, a deadline, both pipes
//! drained, and the runner copied out of the shared target directory.

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use wait_timeout::ChildExt;

use course_harness::checks::machine_lock;

use crate::build::{BuildTarget, messages};
use crate::errors::GraderError;
use crate::sandbox::reap_adopted_from;
use crate::verdict::BuildFailure;

/// Bytes of cargo's stderr kept (its end matters: that is where the error is).
const STDERR_KEPT: usize = 64 * 1024;

/// Variables that would point cargo elsewhere, or at a jobserver whose pipes it does not
/// have (when the grader itself runs under cargo).
const CARGO_ENV_REMOVED: &[&str] = &[
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
];

/// Builds runners.
#[derive(Debug)]
pub struct Builder {
    cargo: PathBuf,
    target_dir: PathBuf,
    timeout: Duration,
    /// This run's private copies of the runners (removed with it).
    runners: tempfile::TempDir,
}

impl Builder {
    /// A builder with this shared target directory and per-build deadline.
    pub fn new(target_dir: PathBuf, timeout: Duration) -> Result<Self, GraderError> {
        let runs = target_dir.join("grader-runs");
        std::fs::create_dir_all(&runs).map_err(|source| GraderError::Io {
            action: "create the directory",
            path: runs.clone(),
            source,
        })?;
        let runners = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(&runs)
            .map_err(|source| GraderError::Io {
                action: "create a directory in",
                path: runs,
                source,
            })?;
        Ok(Self {
            cargo: std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from),
            target_dir,
            timeout,
            runners,
        })
    }

    /// The shared target directory.
    pub fn target_dir(&self) -> &Path {
        &self.target_dir
    }

    /// The directory of this run's private runner copies.
    pub fn runners_dir(&self) -> &Path {
        self.runners.path()
    }

    /// The command line of a build, for `-v`.
    pub fn command_line(&self, target: &BuildTarget) -> String {
        let args: Vec<String> = self
            .arguments(target)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        format!("{} {}", self.cargo.display(), args.join(" "))
    }

    fn arguments(&self, target: &BuildTarget) -> Vec<std::ffi::OsString> {
        vec![
            "build".into(),
            "--release".into(),
            "--manifest-path".into(),
            target.workspace.clone().into(),
            "-p".into(),
            target.package.clone().into(),
            "--bin".into(),
            target.runner_bin.clone().into(),
            "--target-dir".into(),
            self.target_dir.clone().into(),
            "--message-format=json".into(),
            "--color".into(),
            "never".into(),
        ]
    }

    /// Builds `target`'s runner and returns the path of this run's private copy of it.
    pub fn build(
        &self,
        target: &BuildTarget,
        notes: Vec<String>,
    ) -> Result<Result<PathBuf, BuildFailure>, GraderError> {
        // Builds of other grader processes sharing the target directory would replace the
        // runner (same name) between our build and our copy.
        let _lock = self.lock()?;
        // A build loads the machine like a check: a speed-measuring check of another
        // submission graded beside this one (a class) must not run while it does. Taken
        // after the file lock, never before: a thread waiting for the file lock holds no
        // share of the machine, so a waiting speed check cannot deadlock with it.
        let _machine = machine_lock(false);
        let mut command = Command::new(&self.cargo);
        command
            .args(self.arguments(target))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for name in CARGO_ENV_REMOVED {
            command.env_remove(name);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                return Ok(Err(BuildFailure::Cargo {
                    why: format!("could not start {}: {e}", self.cargo.display()),
                }));
            }
        };
        let stdout = child.stdout.take().map(read_all);
        let stderr = child.stderr.take().map(read_tail);
        let status = match child.wait_timeout(self.timeout) {
            Ok(Some(status)) => Some(status),
            Ok(None) | Err(_) => {
                // Cargo and every rustc it started share its process group.
                let group = Pid::from_raw(child.id() as i32);
                let _ = killpg(group, Signal::SIGKILL);
                let _ = child.wait();
                // The rustc processes outlive cargo by a moment and come back to the grader
                // (the child subreaper): reap those of this build only, since runners of
                // checks running beside this build are the grader's children too.
                reap_adopted_from(group);
                None
            }
        };
        let stdout = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        let Some(status) = status else {
            return Ok(Err(BuildFailure::TimedOut {
                limit: self.timeout,
            }));
        };
        let built = messages::interpret(target, &stdout, status.success(), &stderr, notes);
        match built {
            Ok(runner) => self.private_copy(&runner).map(Ok),
            Err(failure) => Ok(Err(failure)),
        }
    }

    fn lock(&self) -> Result<Flock<File>, GraderError> {
        let path = self.target_dir.join(".grader-build.lock");
        let file = File::create(&path).map_err(|source| GraderError::Io {
            action: "create",
            path: path.clone(),
            source,
        })?;
        Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| GraderError::Io {
            action: "lock",
            path,
            source: errno.into(),
        })
    }

    fn private_copy(&self, runner: &Path) -> Result<PathBuf, GraderError> {
        let name = runner.file_name().unwrap_or(runner.as_os_str());
        let copy = self.runners.path().join(name);
        std::fs::copy(runner, &copy).map_err(|source| GraderError::Io {
            action: "copy the runner to",
            path: copy.clone(),
            source,
        })?;
        Ok(copy)
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn read_tail(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buffer = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buffer[..n]);
            if kept.len() > 2 * STDERR_KEPT {
                kept.drain(..kept.len() - STDERR_KEPT);
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}
