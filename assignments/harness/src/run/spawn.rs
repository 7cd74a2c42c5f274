//! Spawning a runner and watching it: one poll loop over its stdin, stdout, stderr, result
//! pipe and pidfd, until it exits or its deadline passes.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::errors::RunError;
use crate::procfs;
use crate::protocol::{MAX_FRAME_BYTES, RESULT_FD, RESULT_FD_ENV};
use crate::run::options::{PreExec, ResourceLimit, SandboxOptions};
use crate::run::record::{Captured, RunEnd, RunRecord};
use crate::run::triage;

/// Longest wait for the group to die after SIGKILL, and for pipes to reach EOF afterwards.
const CLEANUP_WAIT: Duration = Duration::from_secs(2);

/// Poll period when the kernel has no pidfds to wake us when the runner exits.
const FALLBACK_POLL: Duration = Duration::from_millis(5);

/// Runs `runner` with `input` on its stdin, under `options`, and reports what happened.
///
/// The runner gets its own process group (so every process it starts can be examined and
/// killed together), an environment reduced to [`SandboxOptions::env_allow`], and the result
/// pipe at fd [`RESULT_FD`]. Whatever way it ends, no process of its group is left alive
/// when this returns. `Err` only when the harness itself failed; everything the runner did is
/// in the [`RunRecord`].
pub fn run(runner: &Path, input: &[u8], options: &SandboxOptions) -> Result<RunRecord, RunError> {
    if !runner.is_file() {
        return Err(RunError::MissingRunner {
            path: runner.to_owned(),
        });
    }
    let (result_read, result_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(setup("create the result pipe"))?;
    let mut command = Command::new(runner);
    command.env_clear();
    for name in &options.env_allow {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(options.env.iter().map(|(k, v)| (k, v)));
    command.env(RESULT_FD_ENV, RESULT_FD.to_string());
    if let Some(dir) = &options.working_dir {
        command.current_dir(dir);
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let write_fd = result_write.as_raw_fd();
    let limits = options.limits.clone();
    let steps = options.pre_exec.clone();
    // SAFETY: the closure runs in the forked child before exec and calls only
    // async-signal-safe functions (fcntl, dup2, setrlimit, and the `PreExec` steps, which
    // promised the same when they were made); it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            prepare_child(write_fd, &limits)?;
            steps.iter().try_for_each(PreExec::call)
        });
    }
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        path: runner.to_owned(),
        source,
    })?;
    drop(result_write);
    let pid = child.id();
    let stdin = child.stdin.take().map(OwnedFd::from);
    let stdout = child.stdout.take().map(OwnedFd::from);
    let stderr = child.stderr.take().map(OwnedFd::from);
    // The child is reaped below with wait4, for its rusage; std's handle is not used again.
    drop(child);

    let mut watch = Watch {
        pid,
        pidfd: pidfd_open(pid),
        stdin: stdin
            .map(|fd| Feeder::new(fd, input.to_vec()))
            .transpose()?,
        streams: [
            Stream::new(stdout, options.output_cap)?,
            Stream::new(stderr, options.output_cap)?,
            Stream::new(Some(result_read), MAX_FRAME_BYTES + 16)?,
        ],
        peak_processes: None,
        peak_threads: None,
    };
    let deadline = started + options.timeout;
    let mut next_sample = options.sample_interval.map(|every| started + every);
    let ended = loop {
        if let Some(ended) = try_wait(pid)? {
            break Some((ended, started.elapsed()));
        }
        let now = Instant::now();
        if now >= deadline {
            break None;
        }
        if let (Some(at), Some(every)) = (next_sample, options.sample_interval)
            && now >= at
        {
            watch.sample_group();
            next_sample = Some(now + every);
        }
        let wake = next_sample.map_or(deadline, |at| at.min(deadline));
        watch.poll_once(wake.saturating_duration_since(now));
        if options.fail_on_output_limit && watch.over_output_cap() {
            // The verdict is decided; a run writing endlessly would otherwise go on until the
            // deadline and end as a timeout.
            signal_group(pid, Signal::SIGKILL);
            break Some((wait_blocking(pid)?, started.elapsed()));
        }
    };
    let (end, wall, usage) = match ended {
        Some((ended, wall)) => (ended.end(), wall, ended.cpu),
        None => {
            let triage = triage::examine(pid, pid, options.triage_gap);
            signal_group(pid, Signal::SIGTERM);
            let grace_over = Instant::now() + options.grace;
            let mut ended = None;
            while Instant::now() < grace_over {
                if let Some(done) = try_wait(pid)? {
                    ended = Some(done);
                    break;
                }
                watch.poll_once(grace_over.saturating_duration_since(Instant::now()));
            }
            signal_group(pid, Signal::SIGKILL);
            let ended = match ended {
                Some(ended) => ended,
                None => wait_blocking(pid)?,
            };
            let end = RunEnd::TimedOut {
                limit: options.timeout,
                triage,
            };
            (end, options.timeout, ended.cpu)
        }
    };
    watch.drain_available();
    let leftovers: Vec<_> = procfs::group_members(pid)
        .into_iter()
        .filter(|p| !p.is_zombie())
        .collect();
    if !leftovers.is_empty() {
        signal_group(pid, Signal::SIGKILL);
        wait_until_group_gone(pid);
    }
    watch.drain_until_eof(Instant::now() + CLEANUP_WAIT);
    let [stdout, stderr, result] = watch.streams;
    Ok(RunRecord {
        runner_pid: pid,
        end,
        wall,
        cpu: usage,
        result_bytes: result.captured.bytes,
        stdout: stdout.captured,
        stderr: stderr.captured,
        peak_processes: watch.peak_processes,
        peak_threads: watch.peak_threads,
        leftovers,
    })
}

/// In the child, between fork and exec: put the result pipe at `RESULT_FD`, apply limits.
fn prepare_child(write_fd: RawFd, limits: &[ResourceLimit]) -> std::io::Result<()> {
    if write_fd == RESULT_FD {
        // dup2 onto itself would keep close-on-exec set; clear it instead.
        // SAFETY: fcntl reads the flags of an fd this process owns; async-signal-safe.
        let flags = unsafe { libc::fcntl(write_fd, libc::F_GETFD) };
        if flags < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: as above; only the close-on-exec flag changes.
        let cleared = unsafe { libc::fcntl(write_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) };
        if cleared < 0 {
            return Err(std::io::Error::last_os_error());
        }
    } else {
        // SAFETY: dup2 between two fds of this process; the new fd has close-on-exec clear.
        if unsafe { libc::dup2(write_fd, RESULT_FD) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    for limit in limits {
        nix::sys::resource::setrlimit(limit.resource, limit.soft, limit.hard)?;
    }
    Ok(())
}

fn setup(operation: &'static str) -> impl FnOnce(Errno) -> RunError {
    move |errno| RunError::Setup {
        operation,
        source: errno.into(),
    }
}

/// How the runner ended, as wait4 reported it.
struct Ended {
    status: i32,
    cpu: Duration,
}

impl Ended {
    fn end(&self) -> RunEnd {
        if libc::WIFSIGNALED(self.status) {
            RunEnd::Signaled {
                signal: libc::WTERMSIG(self.status),
            }
        } else {
            RunEnd::Exited {
                code: libc::WEXITSTATUS(self.status),
            }
        }
    }
}

fn try_wait(pid: u32) -> Result<Option<Ended>, RunError> {
    wait4(pid, libc::WNOHANG)
}

fn wait_blocking(pid: u32) -> Result<Ended, RunError> {
    loop {
        if let Some(ended) = wait4(pid, 0)? {
            return Ok(ended);
        }
    }
}

fn wait4(pid: u32, flags: i32) -> Result<Option<Ended>, RunError> {
    let raw_pid = pid as libc::pid_t;
    loop {
        let mut status = 0;
        // SAFETY: all-zero is a valid `rusage` (plain integers).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 writes only into the two out-parameters, both valid for writes.
        let result = unsafe { libc::wait4(raw_pid, &mut status, flags, &mut usage) };
        match result {
            0 => return Ok(None),
            r if r == raw_pid => {
                if !(libc::WIFEXITED(status) || libc::WIFSIGNALED(status)) {
                    // Stopped or continued: not an end.
                    continue;
                }
                let cpu = timeval(usage.ru_utime) + timeval(usage.ru_stime);
                return Ok(Some(Ended { status, cpu }));
            }
            _ => {
                let error = std::io::Error::last_os_error();
                if error.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(RunError::Wait { pid, source: error });
            }
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

fn signal_group(pgid: u32, signal: Signal) {
    // ESRCH: nobody left in the group, which is the goal.
    let _ = killpg(Pid::from_raw(pgid as i32), signal);
}

fn wait_until_group_gone(pgid: u32) {
    let give_up = Instant::now() + CLEANUP_WAIT;
    while Instant::now() < give_up && procfs::group_members(pgid).iter().any(|p| !p.is_zombie()) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn set_nonblocking(fd: &OwnedFd) -> Result<(), RunError> {
    let flags =
        nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL).map_err(setup("read pipe flags"))?;
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(flags))
        .map_err(setup("make a pipe non-blocking"))?;
    Ok(())
}

/// The scenario being written to the runner's stdin.
struct Feeder {
    file: File,
    data: Vec<u8>,
    written: usize,
}

impl Feeder {
    fn new(fd: OwnedFd, data: Vec<u8>) -> Result<Self, RunError> {
        set_nonblocking(&fd)?;
        Ok(Self {
            file: File::from(fd),
            data,
            written: 0,
        })
    }

    /// Writes what the pipe takes; true when done (all written, or the runner closed stdin).
    fn feed(&mut self) -> bool {
        loop {
            if self.written == self.data.len() {
                return true;
            }
            match self.file.write(&self.data[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                // EPIPE: the runner closed its stdin (or died); it will not read more.
                Err(_) => return true,
            }
        }
    }
}

/// One pipe read from the runner.
struct Stream {
    file: Option<File>,
    captured: Captured,
    cap: usize,
}

impl Stream {
    fn new(fd: Option<OwnedFd>, cap: usize) -> Result<Self, RunError> {
        if let Some(fd) = &fd {
            set_nonblocking(fd)?;
        }
        Ok(Self {
            file: fd.map(File::from),
            captured: Captured::default(),
            cap,
        })
    }

    /// Reads everything available now; closes the stream at EOF.
    fn read_available(&mut self) {
        let Some(file) = &mut self.file else {
            return;
        };
        let mut buffer = [0u8; 64 * 1024];
        loop {
            match file.read(&mut buffer) {
                Ok(0) => {
                    self.file = None;
                    return;
                }
                Ok(n) => self.captured.push(&buffer[..n], self.cap),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.file = None;
                    return;
                }
            }
        }
    }
}

/// The runner's pipes and pidfd, polled together.
struct Watch {
    pid: u32,
    pidfd: Option<OwnedFd>,
    stdin: Option<Feeder>,
    streams: [Stream; 3],
    peak_processes: Option<usize>,
    peak_threads: Option<usize>,
}

impl Watch {
    /// Waits at most `timeout` for any pipe or the runner's exit, then services the pipes.
    fn poll_once(&mut self, timeout: Duration) {
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(5);
        let poll = |fd: RawFd, events| libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        if let Some(feeder) = &self.stdin {
            fds.push(poll(feeder.file.as_raw_fd(), libc::POLLOUT));
        }
        for stream in &self.streams {
            if let Some(file) = &stream.file {
                fds.push(poll(file.as_raw_fd(), libc::POLLIN));
            }
        }
        let timeout = match &self.pidfd {
            Some(pidfd) => {
                fds.push(poll(pidfd.as_raw_fd(), libc::POLLIN));
                timeout
            }
            None => timeout.min(FALLBACK_POLL),
        };
        let millis = i32::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
        // SAFETY: `fds` is a valid array of `fds.len()` pollfds that outlives the call.
        // EINTR or an error just means "look again": the loop around re-polls.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
        if let Some(feeder) = &mut self.stdin
            && feeder.feed()
        {
            // Dropping the write end gives the runner EOF on stdin.
            self.stdin = None;
        }
        self.drain_available();
    }

    /// True when stdout or stderr wrote more than its cap.
    fn over_output_cap(&self) -> bool {
        self.streams[..2].iter().any(|s| s.captured.truncated())
    }

    fn drain_available(&mut self) {
        for stream in &mut self.streams {
            stream.read_available();
        }
    }

    /// Reads until every pipe reached EOF (all writers gone) or `until` passes.
    fn drain_until_eof(&mut self, until: Instant) {
        self.stdin = None;
        self.pidfd = None;
        while self.streams.iter().any(|s| s.file.is_some()) && Instant::now() < until {
            self.poll_once(
                until
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(50)),
            );
        }
    }

    fn sample_group(&mut self) {
        let alive: Vec<_> = procfs::group_members(self.pid)
            .into_iter()
            .filter(|p| !p.is_zombie())
            .collect();
        let threads = alive.iter().map(|p| p.threads as usize).sum();
        self.peak_processes = Some(self.peak_processes.unwrap_or(0).max(alive.len()));
        self.peak_threads = Some(self.peak_threads.unwrap_or(0).max(threads));
    }
}
