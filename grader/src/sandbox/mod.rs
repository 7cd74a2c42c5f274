//! The sandbox every check's runner runs in, on top of what the harness's
//! [`run`](course_harness::run::run) does itself (own process group, environment allow-list,
//! scenario on stdin, result channel, deadline with triage, SIGTERM, grace, SIGKILL of the
//! group, output caps):
//!
//! - **a PID namespace per check** where the kernel allows one ([`pidns`]): every process
//!   of the check, `setsid` daemons and double forks included, stays findable and dies with
//!   the namespace; its `/proc` and a private `/dev/shm` are the namespace's. Without root,
//!   the grader first enters a user namespace of its own ([`userns`]). Where neither works,
//!   process groups only, one check at a time, said in the report;
//! - **the grader as child subreaper**, so orphans come back to it rather than to init, and
//!   are killed and reaped after each check ([`sweep`], without a PID namespace);
//! - **an IPC namespace per check** with the PID namespace: System V segments it leaves are
//!   listed and freed ([`sysv`]);
//! - **a filesystem of its own** with the PID namespace ([`mounts`]): read-only, the course
//!   repository and the grader's target directory hidden, a small private tmpfs as working
//!   directory, `HOME` and `TMPDIR`. Without one, a private scratch directory on the disk;
//! - **resource limits** ([`limits`]): CPU (hard above soft), file size, open files, no
//!   core dumps, a generous address-space ceiling, a cap on a check's processes and threads;
//! - **leak checks** after every check: processes still alive, `/dev/shm` and System V
//!   segments left are reported as [`Leaks`] and removed.

mod limits;
mod mounts;
mod pidns;
mod sweep;
mod sysv;
mod userns;

use std::path::{Path, PathBuf};
use std::time::Duration;

use course_harness::run::{ALLOWED_ENV, PreExec, SandboxOptions};

use crate::cli::IsolationChoice;
use crate::errors::SandboxError;
use crate::verdict::Leaks;

use limits::TaskCap;
use mounts::MountPlan;

pub use limits::{OUTPUT_CAP, address_space_bytes};
pub use sweep::reap_adopted_from;

/// How checks are kept apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// A PID namespace (and mount namespace) per check.
    PidNamespace,
    /// Process groups only; checks run one at a time.
    ProcessGroup {
        /// Why there is no PID namespace.
        why: String,
    },
}

/// What the sandbox does on this machine, for reports.
#[derive(Debug, Clone)]
pub struct SandboxFeatures {
    /// PID namespace or process groups.
    pub isolation: Isolation,
    /// The grader entered a user namespace to get the right to create the others.
    pub user_namespace: bool,
    /// The grader is a child subreaper.
    pub subreaper: bool,
    /// The resource limits, in words.
    pub limits: String,
}

impl SandboxFeatures {
    /// Short name of the isolation (`pid-namespace`, `process-group`).
    pub fn isolation_label(&self) -> &'static str {
        match self.isolation {
            Isolation::PidNamespace => "pid-namespace",
            Isolation::ProcessGroup { .. } => "process-group",
        }
    }

    /// One paragraph, for the table report.
    pub fn describe(&self) -> String {
        let isolation = match &self.isolation {
            Isolation::PidNamespace => format!(
                "each check in its own PID, IPC and mount namespace (private /proc and \
                 /dev/shm; everything read-only, the course repository and the grader's \
                 target directory hidden; a private {} MiB home of at most {} files){}",
                limits::HOME_BYTES >> 20,
                limits::HOME_INODES,
                if self.user_namespace {
                    ", inside a user namespace of the grader's"
                } else {
                    ""
                }
            ),
            Isolation::ProcessGroup { why } => {
                format!("process groups only, one check at a time (no PID namespace: {why})")
            }
        };
        let subreaper = if self.subreaper {
            "the grader is child subreaper"
        } else {
            "the grader could not become child subreaper"
        };
        format!("{isolation}; {subreaper}; limits: {}", self.limits)
    }
}

/// The sandbox of a grading run.
#[derive(Debug)]
pub struct Sandbox {
    features: SandboxFeatures,
    scratch_root: PathBuf,
    /// Directories a check must not see (with a mount namespace).
    hidden: Vec<PathBuf>,
    /// The directory of this run's runners, shown read-only even inside a hidden one.
    runners: Option<PathBuf>,
}

impl Sandbox {
    /// Sets the sandbox up, detecting once what the machine allows.
    ///
    /// Call it first thing in `main`, while the grader is single-threaded: entering a user
    /// namespace needs that.
    pub fn set_up(choice: IsolationChoice) -> Result<Sandbox, SandboxError> {
        // SAFETY: prctl with integer arguments only changes this process's attributes.
        let subreaper = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) } == 0;
        // Before a user namespace makes this process root in it.
        let real_root = nix::unistd::geteuid().is_root();
        let mut user_namespace = false;
        let mut tasks = TaskCap::UserRlimit;
        let isolation = match choice {
            IsolationChoice::ProcessGroup => Isolation::ProcessGroup {
                why: "--isolation process-group".to_owned(),
            },
            IsolationChoice::Auto | IsolationChoice::PidNamespace => {
                let mut userns_problem = None;
                if !nix::unistd::geteuid().is_root() {
                    match userns::enter() {
                        Ok(()) => user_namespace = true,
                        Err(e) => userns_problem = Some(e),
                    }
                }
                match (pidns::probe(), userns_problem) {
                    (Ok(capped), _) => {
                        if capped {
                            tasks = TaskCap::Namespace;
                        }
                        Isolation::PidNamespace
                    }
                    (Err(e), problem) => {
                        let mut why = crate::errors::chain(&e);
                        if let Some(problem) = problem {
                            why = format!("no user namespace ({problem}); {why}");
                        }
                        if choice == IsolationChoice::PidNamespace {
                            return Err(SandboxError::Unavailable { why });
                        }
                        Isolation::ProcessGroup { why }
                    }
                }
            }
        };
        Ok(Sandbox {
            features: SandboxFeatures {
                isolation,
                user_namespace,
                subreaper,
                limits: limits::describe(tasks, real_root),
            },
            scratch_root: std::env::temp_dir(),
            hidden: Vec::new(),
            runners: None,
        })
    }

    /// Hides `hidden` (the course repository, the grader's target directory) from every
    /// check, except `runners`, the directory of this run's runner copies, which stays
    /// readable. Only with a mount namespace; without one a check sees the whole machine.
    pub fn protect(&mut self, hidden: Vec<PathBuf>, runners: PathBuf) {
        let canonical = |p: PathBuf| p.canonicalize().unwrap_or(p);
        self.hidden = hidden.into_iter().map(canonical).collect();
        self.runners = Some(canonical(runners));
    }

    /// What the sandbox does here.
    pub fn features(&self) -> &SandboxFeatures {
        &self.features
    }

    /// Most checks that may run side by side: one without a PID namespace, since leftovers
    /// could not be told apart.
    pub fn max_jobs(&self) -> Option<usize> {
        match self.features.isolation {
            Isolation::PidNamespace => None,
            Isolation::ProcessGroup { .. } => Some(1),
        }
    }

    /// Runs `work` (one check: it calls the harness with the options it is given) on a
    /// fresh thread in a fresh isolation, then finds, reports and removes what the check
    /// left behind.
    pub fn isolate<T: Send>(
        &self,
        timeout: Duration,
        work: impl FnOnce(SandboxOptions) -> T + Send,
    ) -> Result<(T, Leaks), SandboxError> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.isolate_here(timeout, work))
                .join()
                .unwrap_or_else(|payload| {
                    Err(SandboxError::Panicked(
                        course_harness::runner::panic_message(payload.as_ref()),
                    ))
                })
        })
    }

    fn isolate_here<T>(
        &self,
        timeout: Duration,
        work: impl FnOnce(SandboxOptions) -> T,
    ) -> Result<(T, Leaks), SandboxError> {
        let workdir = tempfile::Builder::new()
            .prefix("grader-check-")
            .tempdir_in(&self.scratch_root)
            .map_err(|source| SandboxError::Os {
                operation: "create the check's scratch directory",
                source,
            })?;
        match self.features.isolation {
            Isolation::PidNamespace => {
                pidns::unshare_ipc()?;
                let scratch = workdir
                    .path()
                    .canonicalize()
                    .map_err(|source| SandboxError::Os {
                        operation: "find the check's scratch directory",
                        source,
                    })?;
                let home = scratch.join("home");
                std::fs::create_dir(&home).map_err(|source| SandboxError::Os {
                    operation: "create the check's home",
                    source,
                })?;
                let shown: Vec<PathBuf> = self.runners.iter().cloned().chain([scratch]).collect();
                let keeper = pidns::Keeper::start(&MountPlan::new(&self.hidden, &shown, &home)?)?;
                let nproc =
                    (!keeper.pids_capped()).then(|| limits::nproc_limit(sweep::tasks_of_user()));
                let mut options = base_options(timeout, workdir.path(), &home, nproc);
                options.pre_exec.push(keeper.join_step(&home)?);
                let result = work(options);
                let leaks = Leaks {
                    processes: keeper.leftovers(),
                    shm_segments: keeper.shm_segments(),
                    sysv_segments: sysv::remove_all(),
                };
                keeper.stop()?;
                Ok((result, leaks))
            }
            Isolation::ProcessGroup { .. } => {
                let shm_before = sweep::shm_names();
                let sysv_before = sysv::ids();
                let nproc = Some(limits::nproc_limit(sweep::tasks_of_user()));
                let mut options = base_options(timeout, workdir.path(), workdir.path(), nproc);
                options.pre_exec.push(die_with_grader());
                let result = work(options);
                let processes = sweep::kill_descendants()?;
                let shm_segments = sweep::remove_new_shm(&shm_before);
                let sysv_segments = sysv::remove_new(&sysv_before);
                Ok((
                    result,
                    Leaks {
                        processes,
                        shm_segments,
                        sysv_segments,
                    },
                ))
            }
        }
    }
}

/// The harness's options for one check of the grader: `workdir` is where the harness may
/// put the check's inputs (and the runner's starting directory before any join step),
/// `home` the runner's `HOME` and `TMPDIR`.
fn base_options(
    timeout: Duration,
    workdir: &Path,
    home: &Path,
    nproc: Option<u64>,
) -> SandboxOptions {
    let dir = home.to_string_lossy().into_owned();
    SandboxOptions {
        timeout,
        output_cap: OUTPUT_CAP,
        fail_on_output_limit: true,
        env_allow: ALLOWED_ENV
            .iter()
            .filter(|name| !matches!(**name, "HOME" | "TMPDIR"))
            .map(|name| (*name).to_owned())
            .collect(),
        env: vec![
            ("RUST_BACKTRACE".to_owned(), "0".to_owned()),
            ("HOME".to_owned(), dir.clone()),
            ("TMPDIR".to_owned(), dir),
        ],
        working_dir: Some(workdir.to_owned()),
        limits: limits::for_check(timeout, nproc),
        ..SandboxOptions::default()
    }
}

/// The runner dies if the grader's thread does.
fn die_with_grader() -> PreExec {
    let step = || {
        // SAFETY: prctl with integer arguments, a system call.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    // SAFETY: the step only makes a system call.
    unsafe { PreExec::new(step) }
}
