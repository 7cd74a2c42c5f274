//! How a runner is started and limited.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use nix::sys::resource::Resource;

/// Environment variables passed through to runners; every other one is cleared.
pub const ALLOWED_ENV: &[&str] = &["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TERM"];

/// One `setrlimit` applied in the runner before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimit {
    /// The resource (`Resource::RLIMIT_CPU`, `Resource::RLIMIT_NOFILE`, ...).
    pub resource: Resource,
    /// The soft limit (a signal or error when crossed).
    pub soft: u64,
    /// The hard limit (the ceiling the soft limit may be raised to).
    pub hard: u64,
}

/// How to run one runner.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Wall-clock deadline from spawn; then triage, SIGTERM, `grace`, SIGKILL.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL to the group.
    pub grace: Duration,
    /// Gap between the two `/proc` samples of a timed-out run's triage.
    pub triage_gap: Duration,
    /// Bytes of stdout and of stderr kept (the rest is counted and dropped).
    pub output_cap: usize,
    /// When true, output beyond `output_cap` is an output-limit failure, and the run is
    /// stopped (its group killed) as soon as a stream passes the cap; when false it is only
    /// cut (visible tests: a student's debugging prints should not fail a check).
    pub fail_on_output_limit: bool,
    /// How often to sample the process group for the peak process and thread count; `None`
    /// to not sample (timing-critical runs that cannot spare the CPU).
    pub sample_interval: Option<Duration>,
    /// Names of environment variables passed through from the harness's environment.
    pub env_allow: Vec<String>,
    /// Extra variables set in the runner's environment.
    pub env: Vec<(String, String)>,
    /// Working directory of the runner (default: the harness's).
    pub working_dir: Option<PathBuf>,
    /// Resource limits set in the runner before `exec`.
    pub limits: Vec<ResourceLimit>,
    /// Extra setup run in the runner's process before `exec`, after the result channel and
    /// `limits` are in place, in order (the grader joins a mount namespace here).
    pub pre_exec: Vec<PreExec>,
}

/// A step run in the runner's process between `fork` and `exec`.
///
/// When steps run, the runner's stdin, stdout and stderr (fds 0 to 2) and the result channel
/// ([`RESULT_FD`](crate::protocol::RESULT_FD), fd 3) are already in place: an fd a step
/// uses must have a number above them in the parent, or it will have been replaced.
///
/// A failing step fails the spawn: [`run`](crate::run::run) returns
/// [`RunError::Spawn`](crate::RunError::Spawn) with the step's error, and no runner runs.
#[derive(Clone)]
pub struct PreExec(Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>);

impl PreExec {
    /// Wraps `step`.
    ///
    /// # Safety
    ///
    /// `step` runs in the child of a `fork` of a process that may have other threads: it may
    /// only call async-signal-safe functions (system calls such as `setns`, `chdir`, `prctl`,
    /// `close`). It must not allocate, take a lock, or touch data another thread could have
    /// held at the fork; prepare everything it needs (paths as `CString`s, fds) beforehand.
    pub unsafe fn new(step: impl Fn() -> std::io::Result<()> + Send + Sync + 'static) -> Self {
        Self(Arc::new(step))
    }

    /// Runs the step (in the forked child).
    pub(crate) fn call(&self) -> std::io::Result<()> {
        (self.0)()
    }
}

impl fmt::Debug for PreExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreExec(..)")
    }
}

impl SandboxOptions {
    /// Defaults with this deadline.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            grace: Duration::from_millis(300),
            triage_gap: Duration::from_millis(100),
            output_cap: 64 * 1024,
            fail_on_output_limit: false,
            sample_interval: Some(Duration::from_millis(20)),
            env_allow: ALLOWED_ENV.iter().map(|s| (*s).to_owned()).collect(),
            env: vec![("RUST_BACKTRACE".to_owned(), "0".to_owned())],
            working_dir: None,
            limits: Vec::new(),
            pre_exec: Vec::new(),
        }
    }
}
