//! A PID namespace per check, kept alive by a tiny init process (the *keeper*).
//!
//! ```text
//! grader thread ── unshare(CLONE_NEWPID) ── fork ──► keeper: pid 1 of the new namespace
//!      │                                              own mount namespace (see [`mounts`]):
//!      │                                              read-only, the course hidden, /proc of
//!      │                                              the namespace, a private /dev/shm and
//!      │                                              home; caps the namespace's pids;
//!      │                                              adopts and reaps orphans; pauses
//!      └── harness spawns the runner ──► pid 2: joins the keeper's mount namespace (setns)
//!                                        before exec; everything it starts is pid 3, 4, ...
//! ```
//!
//! The namespace's `pid_max` (per PID namespace since Linux 6.14) is set to
//! [`limits::TASKS_PER_CHECK`] + 1, so the check's processes and threads together can never
//! number more: a fork bomb gets `EAGAIN` instead of the machine's pids. Older kernels refuse
//! the write; the keeper then says so and the sandbox falls back to `RLIMIT_NPROC`.
//!
//! [`mounts`]: super::mounts
//!
//! The runner is not the namespace's init on purpose: when an init exits the kernel kills
//! the whole namespace, and processes a submission left behind would vanish unseen. With the
//! keeper as init they stay, orphans included (a `setsid` daemon, a double fork), until the
//! grader has listed them ([`Keeper::leftovers`]) and the shared-memory segments left in
//! the private `/dev/shm` ([`Keeper::shm_segments`]); then killing the keeper kills them all
//! at once and the kernel reaps them. The runner sees a consistent world: its own pid, its
//! children's pids and `/proc` all speak the namespace's numbers.
//!
//! `unshare(CLONE_NEWPID)` affects only the calling thread's *future children*, and only
//! once per thread: each check runs on a fresh thread. Without `CAP_SYS_ADMIN` the grader
//! first enters a user namespace of its own ([`super::userns`]).

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use course_harness::procfs::{self, ProcessSnapshot};
use course_harness::run::PreExec;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};

use crate::errors::SandboxError;
use crate::sandbox::limits;
use crate::sandbox::mounts::{self, MountPlan, MountStep};

/// Options of the namespace's private `/dev/shm`.
const SHM_OPTIONS: &std::ffi::CStr = c"mode=1777,size=1g,nr_inodes=16384";

/// Lowest fd number the mount namespace's fd may have: the runner's stdin, stdout, stderr
/// and result channel (fd 3) are installed over 0 to 3 before the join step runs.
const FIRST_FREE_FD: RawFd = 10;
const _: () = assert!(FIRST_FREE_FD > course_harness::protocol::RESULT_FD);

/// Longest wait for the keeper to report that the namespace is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait for a killed namespace to be gone.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The keeper's own steps, numbered as it reports a failure (0 is success); the mount
/// steps ([`MountStep::ALL`]) follow from [`FIRST_MOUNT_STEP`].
const STEPS: &[&str] = &[
    "report that it is ready",
    "create a mount namespace",
    "make its mounts private",
    "ignore SIGCHLD (so orphans are reaped)",
];

/// The number of the first mount step in the keeper's report.
const FIRST_MOUNT_STEP: u32 = 10;

/// The step a report's number names.
fn step_name(step: u32) -> &'static str {
    step.checked_sub(FIRST_MOUNT_STEP)
        .and_then(|i| MountStep::ALL.get(i as usize))
        .map(|step| step.describe())
        .or_else(|| STEPS.get(step as usize).copied())
        .unwrap_or(STEPS[0])
}

/// The init process of one check's PID namespace.
#[derive(Debug)]
pub struct Keeper {
    pid: Pid,
    /// The keeper's mount namespace, which every runner of the check joins.
    mount_ns: OwnedFd,
    /// The namespace's `pid_max` caps its tasks at [`limits::TASKS_PER_CHECK`].
    pids_capped: bool,
    stopped: bool,
}

impl Keeper {
    /// Gives the calling thread's future children a new PID namespace and starts its init,
    /// which sets the namespace's filesystem up as `plan` says.
    ///
    /// Call it on a fresh thread: a thread can do this once, and every process the thread
    /// starts afterwards is in the namespace.
    pub fn start(plan: &MountPlan) -> Result<Keeper, SandboxError> {
        let pid_max = CString::new((limits::TASKS_PER_CHECK + 1).to_string()).map_err(|e| {
            SandboxError::Os {
                operation: "format the namespace's pid_max",
                source: std::io::Error::other(e),
            }
        })?;
        nix::sched::unshare(CloneFlags::CLONE_NEWPID).map_err(|errno| SandboxError::Os {
            operation: "unshare the PID namespace",
            source: errno.into(),
        })?;
        let (ready_read, ready_write) =
            nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|errno| SandboxError::Os {
                operation: "create a pipe",
                source: errno.into(),
            })?;
        // SAFETY: the child runs only `keeper_main`, which makes async-signal-safe system
        // calls on values prepared before the fork and never returns.
        let forked = unsafe { nix::unistd::fork() }.map_err(|errno| SandboxError::Os {
            operation: "fork the namespace's init",
            source: errno.into(),
        })?;
        let pid = match forked {
            ForkResult::Child => keeper_main(ready_write.as_raw_fd(), plan, &pid_max),
            ForkResult::Parent { child } => child,
        };
        drop(ready_write);
        let mut keeper = Keeper {
            pid,
            // Replaced below; a placeholder keeps Drop able to kill the keeper on failure.
            mount_ns: ready_read,
            pids_capped: false,
            stopped: false,
        };
        match read_report(keeper.mount_ns.as_raw_fd()) {
            Ok(capped) => keeper.pids_capped = capped,
            Err((step, errno)) => {
                return Err(SandboxError::Keeper {
                    step: step_name(step),
                    source: std::io::Error::from_raw_os_error(errno),
                });
            }
        }
        let path = format!("/proc/{pid}/ns/mnt");
        let opened: OwnedFd = std::fs::File::open(&path)
            .map_err(|source| SandboxError::Os {
                operation: "open the namespace's mount namespace",
                source,
            })?
            .into();
        // In the runner, fds 0 to 3 are replaced (stdio, the result channel) before the join
        // step runs: the step's fd must be above them.
        keeper.mount_ns = nix::fcntl::fcntl(
            &opened,
            nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(FIRST_FREE_FD),
        )
        .map(|fd| {
            // SAFETY: F_DUPFD_CLOEXEC just returned this new fd; nothing else owns it.
            unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }
        })
        .map_err(|errno| SandboxError::Os {
            operation: "move the mount namespace's fd above the runner's standard fds",
            source: errno.into(),
        })?;
        Ok(keeper)
    }

    /// True when the namespace's `pid_max` caps the check's tasks.
    pub fn pids_capped(&self) -> bool {
        self.pids_capped
    }

    /// The step that puts a runner into this namespace's world: it joins the keeper's mount
    /// namespace (so its filesystem, `/proc` and `/dev/shm` are the namespace's), enters
    /// `workdir` (the private home), and dies if the grader's thread does. The runner is in
    /// the PID namespace already (it is forked by the same thread).
    pub fn join_step(&self, workdir: &Path) -> Result<PreExec, SandboxError> {
        let mount_ns = self.mount_ns.as_raw_fd();
        let dir = CString::new(workdir.as_os_str().as_bytes()).map_err(|e| SandboxError::Os {
            operation: "name the working directory",
            source: std::io::Error::other(e),
        })?;
        let step = move || {
            // SAFETY: setns, chdir and prctl are system calls (async-signal-safe); `mount_ns`
            // stays open while the keeper lives, which outlives every runner of the check;
            // `dir` was allocated before the fork and is only read.
            unsafe {
                if libc::setns(mount_ns, libc::CLONE_NEWNS) != 0
                    || libc::chdir(dir.as_ptr()) != 0
                    || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        };
        // SAFETY: the step only makes system calls, as `PreExec::new` requires.
        Ok(unsafe { PreExec::new(step) })
    }

    /// Processes of the namespace still alive, besides the keeper (pids as the namespace
    /// numbers them).
    pub fn leftovers(&self) -> Vec<ProcessSnapshot> {
        let proc = format!("/proc/{}/root/proc", self.pid);
        let Ok(entries) = std::fs::read_dir(&proc) else {
            return Vec::new();
        };
        let mut alive: Vec<ProcessSnapshot> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| *pid != 1)
            .filter_map(|pid| std::fs::read_to_string(format!("{proc}/{pid}/stat")).ok())
            .filter_map(|stat| procfs::parse_stat(&stat))
            .filter(|p| !p.is_zombie())
            .collect();
        alive.sort_by_key(|p| p.pid);
        alive
    }

    /// Names in the namespace's private `/dev/shm`.
    pub fn shm_segments(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(format!("/proc/{}/root/dev/shm", self.pid)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Kills the keeper, which makes the kernel kill every process of the namespace, and
    /// reaps it once they are all gone. The private `/dev/shm` goes with the namespace.
    pub fn stop(mut self) -> Result<(), SandboxError> {
        self.stopped = true;
        let _ = kill(self.pid, Signal::SIGKILL);
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(WaitStatus::StillAlive) => {
                    return Err(SandboxError::Unkillable {
                        count: self.leftovers().len() + 1,
                    });
                }
                Ok(_) | Err(_) => return Ok(()),
            }
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        if !self.stopped {
            // A check's thread failed: still take the namespace down (the keeper would also
            // die with the thread, through PR_SET_PDEATHSIG).
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = waitpid(self.pid, None);
        }
    }
}

/// Reads the keeper's 8-byte report: `Ok` when it is ready (with whether it capped the
/// namespace's pids), else the failed step and errno (step 0 when it said nothing in time).
fn read_report(fd: RawFd) -> Result<bool, (u32, i32)> {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = READY_TIMEOUT.as_millis() as i32;
    // SAFETY: one valid pollfd, for the duration of the call.
    let ready = unsafe { libc::poll(&mut poll, 1, millis) };
    if ready != 1 {
        return Err((0, libc::ETIMEDOUT));
    }
    let mut report = [0u8; 8];
    // SAFETY: reads at most 8 bytes into a local buffer of 8 bytes.
    let got = unsafe { libc::read(fd, report.as_mut_ptr().cast(), report.len()) };
    if got != 8 {
        return Err((0, libc::EPIPE));
    }
    let step = u32::from_le_bytes([report[0], report[1], report[2], report[3]]);
    let value = i32::from_le_bytes([report[4], report[5], report[6], report[7]]);
    if step == 0 {
        Ok(value == 1)
    } else {
        Err((step, value))
    }
}

/// The keeper: sets up the namespace's mounts and pid cap, reports, then waits as init
/// until killed.
///
/// Runs in the child of a fork of the multithreaded grader: system calls only, no
/// allocation, no locks.
fn keeper_main(ready: RawFd, plan: &MountPlan, pid_max: &std::ffi::CStr) -> ! {
    // SAFETY: every call below is a system call on constants, C-string literals, strings
    // prepared before the fork and this process's own fds; none allocates or locks. Nothing
    // returns from this function.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        libc::prctl(libc::PR_SET_NAME, c"grader-pidns".as_ptr());
        // Out of the terminal's foreground group: ^C reaches the grader, which then dies and
        // takes the keeper with it (PR_SET_PDEATHSIG), in order.
        libc::setpgid(0, 0);
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            fail(ready, 1);
        }
        let none = std::ptr::null();
        if libc::mount(
            none,
            c"/".as_ptr(),
            none,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            fail(ready, 2);
        }
        if let Err((step, errno)) = mounts::apply(plan, SHM_OPTIONS) {
            let number = MountStep::ALL.iter().position(|s| *s == step).unwrap_or(0);
            report(ready, FIRST_MOUNT_STEP + number as u32, errno);
            libc::_exit(1);
        }
        let mut ignore: libc::sigaction = std::mem::zeroed();
        ignore.sa_sigaction = libc::SIG_IGN;
        if libc::sigaction(libc::SIGCHLD, &ignore, std::ptr::null_mut()) != 0 {
            fail(ready, 3);
        }
        report(ready, 0, i32::from(cap_pids(pid_max)));
        close_everything();
        loop {
            libc::pause();
        }
    }
}

/// Writes the namespace's `pid_max` (the keeper's `/proc` is the namespace's); false where
/// the kernel has one `pid_max` for the whole machine and refuses.
fn cap_pids(pid_max: &std::ffi::CStr) -> bool {
    // SAFETY: open, write and close on a C-string literal, a prepared string and the fd just
    // opened.
    unsafe {
        let fd = libc::open(
            c"/proc/sys/kernel/pid_max".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return false;
        }
        let bytes = pid_max.to_bytes();
        let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        libc::close(fd);
        written == bytes.len() as isize
    }
}

/// Reports a failed step with errno, and exits.
fn fail(ready: RawFd, step: u32) -> ! {
    // SAFETY: reads this thread's errno, then writes a local buffer and exits.
    unsafe {
        let errno = *libc::__errno_location();
        report(ready, step, errno);
        libc::_exit(1)
    }
}

fn report(ready: RawFd, step: u32, errno: i32) {
    let mut message = [0u8; 8];
    message[..4].copy_from_slice(&step.to_le_bytes());
    message[4..].copy_from_slice(&errno.to_le_bytes());
    // SAFETY: writes 8 bytes from a local buffer to an fd this process owns.
    unsafe { libc::write(ready, message.as_ptr().cast(), message.len()) };
}

/// Closes every fd the keeper inherited (the grader's pipes and terminal among them), so
/// nobody waits for an end-of-file the keeper would hold back.
fn close_everything() {
    // SAFETY: close_range and close only release this process's fds.
    unsafe {
        if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
            for fd in 0..4096 {
                libc::close(fd);
            }
        }
    }
}

/// Whether this machine can run checks in PID namespaces: starts a keeper on a fresh
/// thread, runs a process in it that checks its pid and its `/proc`, and takes it down.
/// `Ok(true)` when the kernel also caps the namespace's pids.
pub fn probe() -> Result<bool, SandboxError> {
    std::thread::spawn(probe_here)
        .join()
        .unwrap_or_else(|_| Err(SandboxError::Panicked("the namespace probe".to_owned())))
}

fn probe_here() -> Result<bool, SandboxError> {
    unshare_ipc()?;
    let scratch = tempfile::Builder::new()
        .prefix("grader-probe-")
        .tempdir()
        .map_err(|source| SandboxError::Os {
            operation: "create the probe's scratch directory",
            source,
        })?;
    let home = scratch.path().join("home");
    std::fs::create_dir(&home).map_err(|source| SandboxError::Os {
        operation: "create the probe's home",
        source,
    })?;
    let plan = MountPlan::new(&[], &[], &home)?;
    let keeper = Keeper::start(&plan)?;
    let capped = keeper.pids_capped();
    let mount_ns = keeper.mount_ns.as_raw_fd();
    // SAFETY: the child makes system calls only and ends with _exit.
    let forked = unsafe { nix::unistd::fork() }.map_err(|errno| SandboxError::Os {
        operation: "fork a probe",
        source: errno.into(),
    })?;
    let child = match forked {
        ForkResult::Child => {
            // SAFETY: system calls on an inherited fd and C-string literals, then _exit.
            unsafe {
                let code = if libc::setns(mount_ns, libc::CLONE_NEWNS) != 0 {
                    1
                } else if libc::getpid() != 2 {
                    2
                } else if libc::access(c"/proc/2/stat".as_ptr(), libc::R_OK) != 0 {
                    3
                } else {
                    0
                };
                libc::_exit(code)
            }
        }
        ForkResult::Parent { child } => child,
    };
    let status = waitpid(child, None);
    keeper.stop()?;
    match status {
        Ok(WaitStatus::Exited(_, 0)) => Ok(capped),
        other => Err(SandboxError::Os {
            operation: "run a process in the namespace's world",
            source: std::io::Error::other(format!("the probe ended with {other:?}")),
        }),
    }
}

/// Gives the calling thread an IPC namespace of its own: System V segments, semaphores and
/// message queues its future children create are theirs, listed after the check
/// ([`super::sysv`]) and freed with the namespace. Call it on the check's fresh thread.
pub fn unshare_ipc() -> Result<(), SandboxError> {
    nix::sched::unshare(CloneFlags::CLONE_NEWIPC).map_err(|errno| SandboxError::Os {
        operation: "unshare the IPC namespace",
        source: errno.into(),
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt;
    use std::path::PathBuf;

    use super::*;

    /// A scratch directory with a `home` in it, and a plan hiding nothing.
    fn scratch() -> (tempfile::TempDir, MountPlan) {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let home = dir.path().join("home");
        std::fs::create_dir(&home).expect("a home");
        let plan = MountPlan::new(&[], &[], &home).expect("a plan");
        (dir, plan)
    }

    /// Runs `test` on a fresh thread (a thread unshares its PID namespace once).
    fn on_fresh_thread(test: impl FnOnce() + Send + 'static) {
        std::thread::spawn(test)
            .join()
            .unwrap_or_else(|p| panic!("{}", course_harness::runner::panic_message(p.as_ref())));
    }

    /// On a machine that allows PID namespaces: an orphan that left its session stays
    /// visible in the namespace until the keeper is stopped, and stopping takes it down.
    #[test]
    fn an_orphaned_daemon_is_seen_and_taken_down_with_the_namespace() {
        if let Err(why) = probe() {
            // Nothing to verify where the kernel refuses namespaces; the fallback is
            // tested through the grader's --isolation process-group.
            eprintln!("skipped: no PID namespace here ({why})");
            return;
        }
        on_fresh_thread(|| {
            let (_dir, plan) = scratch();
            let keeper = Keeper::start(&plan).expect("a namespace");
            // SAFETY: the children only fork, setsid, pause and _exit.
            let child = match unsafe { nix::unistd::fork() }.expect("forks") {
                // SAFETY: system calls only, in the child of the fork above.
                ForkResult::Child => unsafe {
                    if libc::fork() == 0 {
                        libc::setsid();
                        loop {
                            libc::pause();
                        }
                    }
                    libc::_exit(0)
                },
                ForkResult::Parent { child } => child,
            };
            let _ = waitpid(child, None);
            let deadline = Instant::now() + Duration::from_secs(5);
            let left = loop {
                let left = keeper.leftovers();
                // Until it calls setsid, its group is outside the namespace (shown as 0).
                let settled = left.iter().any(|p| p.pgid == p.pid);
                if settled || Instant::now() > deadline {
                    break left;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            assert_eq!(left.len(), 1, "{left:?}");
            assert_eq!(left[0].ppid, 1, "the orphan was adopted by the keeper");
            assert_eq!(left[0].pgid, left[0].pid, "it leads its own session");
            let keeper_pid = keeper.pid;
            keeper.stop().expect("the namespace goes down");
            assert!(!Path::new(&format!("/proc/{keeper_pid}")).exists());
        });
    }

    /// Regression: the runner's result channel is installed at fd 3 before the join step
    /// runs; a mount-namespace fd numbered 3 was replaced by it, and the step failed with
    /// EINVAL whenever two checks started at once.
    #[test]
    fn the_mount_namespace_fd_is_above_the_runners_standard_fds() {
        if probe().is_err() {
            return;
        }
        on_fresh_thread(|| {
            let (_dir, plan) = scratch();
            let keeper = Keeper::start(&plan).expect("a namespace");
            assert!(keeper.mount_ns.as_raw_fd() >= FIRST_FREE_FD);
            keeper.stop().expect("stops");
        });
    }

    #[test]
    fn a_fresh_keepers_namespace_has_no_leftovers_and_an_empty_dev_shm() {
        if probe().is_err() {
            return;
        }
        on_fresh_thread(|| {
            let (_dir, plan) = scratch();
            let keeper = Keeper::start(&plan).expect("a namespace");
            assert!(keeper.leftovers().is_empty());
            assert!(keeper.shm_segments().is_empty());
            keeper.stop().expect("stops");
        });
    }

    /// What a process that joined the namespace's mounts can do: bit `i` of its exit code is
    /// set when probe `i` went the wrong way.
    fn probe_files(mount_ns: RawFd, probes: &[(CString, libc::c_int, bool)]) -> i32 {
        // SAFETY: the child makes system calls on strings prepared before the fork and exits.
        match unsafe { nix::unistd::fork() }.expect("forks") {
            // SAFETY: system calls only, in the child of the fork above.
            ForkResult::Child => unsafe {
                if libc::setns(mount_ns, libc::CLONE_NEWNS) != 0 {
                    libc::_exit(255);
                }
                let mut wrong = 0;
                for (bit, (path, flags, should_open)) in probes.iter().enumerate() {
                    let fd = libc::open(path.as_ptr(), *flags | libc::O_CLOEXEC, 0o600);
                    if (fd >= 0) != *should_open {
                        wrong |= 1 << bit;
                    }
                    if fd >= 0 {
                        libc::close(fd);
                    }
                }
                libc::_exit(wrong)
            },
            ForkResult::Parent { child } => match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                other => panic!("the probe ended with {other:?}"),
            },
        }
    }

    #[test]
    fn the_namespace_hides_the_course_is_read_only_and_writable_only_in_its_home() {
        if probe().is_err() {
            return;
        }
        on_fresh_thread(|| {
            let dir = tempfile::tempdir().expect("a scratch directory");
            let root = dir.path().canonicalize().expect("canonical");
            let course = root.join("course");
            let runs = course.join("target/runs/run-1");
            let home = root.join("check/home");
            for made in [&runs, &home] {
                std::fs::create_dir_all(made).expect("mkdir");
            }
            std::fs::write(course.join("solution.rs"), "secret").expect("writes");
            std::fs::write(runs.join("runner"), "binary").expect("writes");
            std::fs::write(root.join("check/input"), "input").expect("writes");
            let plan = MountPlan::new(
                std::slice::from_ref(&course),
                &[runs.clone(), root.join("check")],
                &home,
            )
            .expect("a plan");
            let keeper = Keeper::start(&plan).expect("a namespace");
            let c = |p: PathBuf| CString::new(p.into_os_string().into_vec()).expect("a path");
            let create = libc::O_WRONLY | libc::O_CREAT;
            let probes = [
                (c(course.join("solution.rs")), libc::O_RDONLY, false),
                (c(runs.join("runner")), libc::O_RDONLY, true),
                (c(runs.join("runner")), libc::O_WRONLY, false),
                (c(runs.join("another")), create, false),
                (c(root.join("check/input")), libc::O_RDONLY, true),
                (c(root.join("check/input")), libc::O_WRONLY, false),
                (c(root.join("elsewhere")), create, false),
                (c(home.join("scratch-file")), create, true),
                (c(PathBuf::from("/dev/shm/segment")), create, true),
                (c(PathBuf::from("/dev/null")), libc::O_WRONLY, true),
            ];
            let wrong = probe_files(keeper.mount_ns.as_raw_fd(), &probes);
            keeper.stop().expect("stops");
            let failed: Vec<String> = probes
                .iter()
                .enumerate()
                .filter(|(bit, _)| wrong & (1 << bit) != 0)
                .map(|(_, (path, flags, open))| format!("{path:?} flags {flags:#o}: open {open}"))
                .collect();
            assert!(failed.is_empty(), "exit {wrong}: {failed:#?}");
            assert!(
                !home.join("scratch-file").exists(),
                "the home is the namespace's own tmpfs"
            );
            assert!(!root.join("elsewhere").exists());
        });
    }

    #[test]
    fn the_namespace_s_pid_cap_stops_a_fork_bomb() {
        match probe() {
            Ok(true) => {}
            Ok(false) => {
                eprintln!("skipped: this kernel has one pid_max for the whole machine");
                return;
            }
            Err(_) => return,
        }
        on_fresh_thread(|| {
            let (_dir, plan) = scratch();
            let keeper = Keeper::start(&plan).expect("a namespace");
            let most = limits::TASKS_PER_CHECK as i32;
            // SAFETY: the child forks children that only pause, then exits.
            let child = match unsafe { nix::unistd::fork() }.expect("forks") {
                // SAFETY: system calls only, in the child of the fork above.
                ForkResult::Child => unsafe {
                    let mut made = 0;
                    let refused = loop {
                        match libc::fork() {
                            0 => loop {
                                libc::pause();
                            },
                            -1 => break *libc::__errno_location(),
                            _ => made += 1,
                        }
                        if made > most {
                            break 0;
                        }
                    };
                    libc::_exit(if refused == libc::EAGAIN && made < most {
                        0
                    } else {
                        1
                    })
                },
                ForkResult::Parent { child } => child,
            };
            let status = waitpid(child, None);
            keeper
                .stop()
                .expect("the namespace goes down, every process with it");
            assert!(
                matches!(status, Ok(WaitStatus::Exited(_, 0))),
                "fork was refused with EAGAIN before {most} processes: {status:?}"
            );
        });
    }
}
